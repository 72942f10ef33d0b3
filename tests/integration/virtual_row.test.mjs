// virtual_row.test.mjs - the create rule of an auth collection sees a
// virtual row whose `verified` is false whatever the body says (DIALECT.md
// §7.1); a manager (§7.5) may still store verified = true. Observable
// with createRule `verified = false`: the rule holds for a manager's
// create of a verified record, and the record is stored verified.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest } from './sdk.mjs';

describe('create rule virtual row', { timeout: UNDER_ASAN ? 180000 : 60000 }, () => {
	let srv;
	let su;

	before(async () => {
		srv = await startHearthData([]);
		su = await admin(srv);
	});

	after(async () => {
		await srv?.stop();
	});

	test('verified is false in the virtual row; a manager still stores it true', async () => {
		const pw = 'a long password';
		await su.collection('users').create({ email: 'boss@example.com', password: pw, passwordConfirm: pw });
		await su.collections.create({
			name: 'staff',
			type: 'auth',
			createRule: 'verified = false',
			viewRule: '',
			manageRule: '@request.auth.collectionName = "users"',
		});
		const boss = guest(srv);
		await boss.collection('users').authWithPassword('boss@example.com', pw);
		const made = await boss.collection('staff').create({ email: 'ann@example.com', password: pw, passwordConfirm: pw, verified: true });
		assert.equal(made.verified, true);
		// a guest is no manager: verified must stay false (validation), rule or not
		const err = await guest(srv)
			.collection('staff')
			.create({ email: 'bob@example.com', password: pw, passwordConfirm: pw, verified: true })
			.catch((e) => e);
		assert.equal(err.status, 400);
		const plain = await guest(srv).collection('staff').create({ email: 'cy@example.com', password: pw, passwordConfirm: pw });
		assert.equal(plain.verified, false);
	});
});

// identity.test.mjs - passwordAuth.identityFields (DIALECT.md §11.1,
// §12.2): identity fields other than email (a username), lookup order and
// the identityField parameter, and the rule that every identity field
// needs a single-column UNIQUE index, refused with a 400 that changes
// nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest } from './sdk.mjs';

describe('identity fields', { timeout: UNDER_ASAN ? 180000 : 60000 }, () => {
	let srv;
	let su;

	before(async () => {
		srv = await startHearthData([]);
		su = await admin(srv);
	});

	after(async () => {
		await srv?.stop();
	});

	test('a username identity field logs in, alone or beside email', async () => {
		await su.collections.create({
			name: 'members',
			type: 'auth',
			listRule: '',
			createRule: '',
			fields: [{ name: 'username', type: 'text' }],
			indexes: ['CREATE UNIQUE INDEX idx_members_username ON members (username)'],
			passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
		});
		const pw = 'a long password';
		await guest(srv).collection('members').create({ email: 'ada@example.com', username: 'ada', password: pw, passwordConfirm: pw });

		const methods = await guest(srv).collection('members').listAuthMethods();
		assert.deepEqual(methods.password.identityFields, ['email', 'username']);

		const byName = await guest(srv).collection('members').authWithPassword('ada', pw);
		assert.equal(byName.record.username, 'ada');
		const byEmail = await guest(srv).collection('members').authWithPassword('ada@example.com', pw);
		assert.equal(byEmail.record.id, byName.record.id);
		const explicit = await guest(srv).collection('members').authWithPassword('ada', pw, { body: { identity: 'ada', password: pw, identityField: 'username' } });
		assert.equal(explicit.record.id, byName.record.id);

		// identityField must be one of the configured fields
		const err = await guest(srv)
			.collection('members')
			.authWithPassword('ada', pw, { body: { identity: 'ada', password: pw, identityField: 'id' } })
			.catch((e) => e);
		assert.equal(err.status, 400);
		assert.equal(err.response.data.identityField.code, 'validation_in_invalid');
		// a username is not looked up as an e-mail and vice versa
		await assert.rejects(guest(srv).collection('members').authWithPassword('ada', pw, { body: { identity: 'ada', password: pw, identityField: 'email' } }), (e) => e.status === 400);
		await assert.rejects(guest(srv).collection('members').authWithPassword('nobody', pw), (e) => e.status === 400);
	});

	test('identity fields without a single-column UNIQUE index, or unknown ones, are refused', async () => {
		const before = (await su.collections.getFullList()).map((c) => c.name).sort();
		const cases = [
			{ fields: [{ name: 'nick', type: 'text' }], indexes: [], ids: ['email', 'nick'], bad: '1' },
			{ fields: [{ name: 'nick', type: 'text' }], indexes: ['CREATE INDEX idx_x_nick ON x (nick)'], ids: ['nick'], bad: '0' },
			{
				fields: [{ name: 'nick', type: 'text' }, { name: 'tag', type: 'text' }],
				indexes: ['CREATE UNIQUE INDEX idx_x_nick_tag ON x (nick, tag)'],
				ids: ['nick'],
				bad: '0',
			},
			{ fields: [], indexes: [], ids: ['nope'], bad: '0' },
		];
		for (const c of cases) {
			const err = await su.collections
				.create({ name: 'x', type: 'auth', fields: c.fields, indexes: c.indexes, passwordAuth: { enabled: true, identityFields: c.ids } })
				.catch((e) => e);
			assert.equal(err.status, 400, JSON.stringify(c));
			assert.equal(err.response.data.passwordAuth.identityFields[c.bad].code, 'validation_invalid_identity_field', JSON.stringify(err.response));
		}
		assert.deepEqual((await su.collections.getFullList()).map((c) => c.name).sort(), before);

		// the same check on update leaves the collection as it was
		const users = await su.collections.getOne('users');
		const err = await su.collections.update('users', { passwordAuth: { enabled: true, identityFields: ['name'] } }).catch((e) => e);
		assert.equal(err.status, 400);
		assert.deepEqual((await su.collections.getOne('users')).passwordAuth, users.passwordAuth);
	});
});

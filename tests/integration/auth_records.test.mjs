// auth_records.test.mjs - auth collections as a signed-in user sees them
// (DIALECT.md §5, §7.5, §7.6, §11.2, §12.2, §12.3), through the official
// SDK: the default "users" collection, sign-up, login, the auth store,
// refresh, who may change email/verified/password, emailVisibility,
// manageRule and authRule.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, sqlite, startHearth, startHearthData, tmpDir, UNDER_ASAN } from './lib.mjs';
import { admin, fieldCode, guest, rejects } from './sdk.mjs';
import path from 'node:path';

const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };
const PW = 'sesame-open-1';

async function signUp(pb, email, extra = {}) {
	return pb.collection('users').create({ email, password: PW, passwordConfirm: PW, ...extra });
}

async function login(srv, email, password = PW, coll = 'users') {
	const pb = guest(srv);
	await pb.collection(coll).authWithPassword(email, password);
	return pb;
}

describe('default users collection', LIMIT, () => {
	test('a fresh data dir has users with the upstream definition', async () => {
		const srv = await startHearthData();
		try {
			const pb = await admin(srv);
			const c = await pb.collections.getOne('users');
			assert.equal(c.id, '_pb_users_auth_');
			assert.equal(c.type, 'auth');
			assert.equal(c.system, false);
			assert.equal(c.listRule, 'id = @request.auth.id');
			assert.equal(c.viewRule, 'id = @request.auth.id');
			assert.equal(c.createRule, '');
			assert.equal(c.updateRule, 'id = @request.auth.id');
			assert.equal(c.deleteRule, 'id = @request.auth.id');
			assert.equal(c.authRule, '');
			assert.equal(c.manageRule, null);
			assert.deepEqual(
				c.fields.map((f) => f.name),
				['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'name', 'created', 'updated'],
			);
			assert.equal(c.passwordAuth.enabled, true);
			assert.deepEqual(c.passwordAuth.identityFields, ['email']);
			assert.equal(c.authToken.duration, 432000);
			assert.equal(c.authToken.secret, undefined);
		} finally {
			await srv.stop();
		}
	});

	test('an existing data dir without users is left alone', async () => {
		const srv = await startHearthData();
		const dir = srv.dir;
		const pb = await admin(srv);
		await pb.collections.delete('users');
		await srv.stop();
		const again = await startHearth([], { dir });
		try {
			const r = await api(again, 'GET', '/api/collections/users/records');
			assert.equal(r.status, 404);
		} finally {
			await again.stop();
		}
	});
});

describe('auth records', LIMIT, () => {
	let srv;
	let su;

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await admin(srv);
	});
	after(async () => {
		await srv?.stop();
	});

	test('sign-up, login, auth store, refresh', async () => {
		const anon = guest(srv);
		const rec = await signUp(anon, 'ada@example.com', { name: 'Ada' });
		assert.match(rec.id, /^[a-z0-9]{15}$/);
		assert.equal(rec.collectionName, 'users');
		assert.equal(rec.verified, false);
		assert.equal(rec.password, undefined);
		assert.equal(rec.tokenKey, undefined);
		assert.equal(rec.email, undefined, 'guest does not see a hidden email');

		const pb = await login(srv, 'ada@example.com');
		assert.equal(pb.authStore.isValid, true);
		assert.equal(pb.authStore.isSuperuser, false);
		assert.equal(typeof pb.authStore.token, 'string');
		assert.equal(pb.authStore.record.id, rec.id);
		assert.equal(pb.authStore.record.email, 'ada@example.com');
		assert.equal(pb.authStore.record.name, 'Ada');

		const me = await pb.collection('users').getOne(rec.id);
		assert.equal(me.email, 'ada@example.com', 'the owner sees its own email');
		const list = await pb.collection('users').getFullList();
		assert.deepEqual(list.map((r) => r.id), [rec.id], 'list rule shows only self');

		const r = await pb.collection('users').authRefresh();
		assert.equal(r.record.id, rec.id);
		assert.equal(pb.authStore.isValid, true);

		await rejects(guest(srv).collection('users').authWithPassword('ada@example.com', 'wrong-password'), 400);
		await rejects(guest(srv).collection('users').getOne(rec.id), 404);
		pb.authStore.clear();
		assert.equal(pb.authStore.isValid, false);
	});

	test('sign-up validation: passwordConfirm, length, verified', async () => {
		const anon = guest(srv);
		let e = await rejects(
			anon.collection('users').create({ email: 'v1@example.com', password: PW }),
			400,
			'Failed to create record.',
		);
		fieldCode(e, 'passwordConfirm', 'validation_required');
		e = await rejects(
			anon.collection('users').create({ email: 'v1@example.com', password: PW, passwordConfirm: PW + 'x' }),
			400,
		);
		fieldCode(e, 'passwordConfirm', 'validation_values_mismatch');
		e = await rejects(
			anon.collection('users').create({ email: 'v1@example.com', password: 'short', passwordConfirm: 'short' }),
			400,
		);
		fieldCode(e, 'password', 'validation_min_text_constraint');
		const long = 'x'.repeat(72);
		e = await rejects(
			anon.collection('users').create({ email: 'v1@example.com', password: long, passwordConfirm: long }),
			400,
		);
		fieldCode(e, 'password', 'validation_max_text_constraint');
		await rejects(
			anon.collection('users').create({ email: 'v1@example.com', password: PW, passwordConfirm: PW, verified: true }),
			400,
		);
		const ok = await anon
			.collection('users')
			.create({ email: 'v1@example.com', password: PW, passwordConfirm: PW, verified: false });
		assert.equal(ok.verified, false);
		const byAdmin = await su
			.collection('users')
			.create({ email: 'v2@example.com', password: PW, passwordConfirm: PW, verified: true });
		assert.equal(byAdmin.verified, true);
		assert.equal(byAdmin.email, 'v2@example.com');
		const n = await sqlite(srv.db, "SELECT count(*) FROM users WHERE email LIKE 'v_@example.com'");
		assert.equal(n.trim(), '2');
	});

	test('owner update: email locked, verified locked, password needs oldPassword', async () => {
		const rec = await signUp(guest(srv), 'bob@example.com');
		const pb = await login(srv, 'bob@example.com');
		const oldToken = pb.authStore.token;

		let e = await rejects(pb.collection('users').update(rec.id, { email: 'bob2@example.com' }), 400);
		fieldCode(e, 'email', 'validation_values_mismatch');
		await rejects(pb.collection('users').update(rec.id, { verified: true }), 400);
		e = await rejects(pb.collection('users').update(rec.id, { password: 'new-pass-123', passwordConfirm: 'new-pass-123' }), 400);
		fieldCode(e, 'oldPassword', 'validation_required');
		e = await rejects(
			pb.collection('users').update(rec.id, {
				oldPassword: 'not-the-password',
				password: 'new-pass-123',
				passwordConfirm: 'new-pass-123',
			}),
			400,
		);
		fieldCode(e, 'oldPassword', 'validation_invalid_old_password');
		const stored = await sqlite(srv.db, `SELECT email, verified FROM users WHERE id = '${rec.id}'`);
		assert.equal(stored.trim(), 'bob@example.com|0');

		const same = await pb.collection('users').update(rec.id, { email: 'bob@example.com', name: 'Bob' });
		assert.equal(same.name, 'Bob');

		const tk1 = (await sqlite(srv.db, `SELECT tokenKey FROM users WHERE id = '${rec.id}'`)).trim();
		await pb.collection('users').update(rec.id, { oldPassword: PW, password: 'new-pass-123', passwordConfirm: 'new-pass-123' });
		const tk2 = (await sqlite(srv.db, `SELECT tokenKey FROM users WHERE id = '${rec.id}'`)).trim();
		assert.notEqual(tk1, tk2, 'password change regenerates tokenKey');
		const r = await api(srv, 'GET', `/api/collections/users/records/${rec.id}`, { token: oldToken });
		assert.notEqual(r.status, 200, 'old token no longer works');
		await rejects(guest(srv).collection('users').authWithPassword('bob@example.com', PW), 400);
		await login(srv, 'bob@example.com', 'new-pass-123');
	});

	test('superuser changes email, verified and password without oldPassword', async () => {
		const rec = await signUp(guest(srv), 'cy@example.com');
		const tk1 = (await sqlite(srv.db, `SELECT tokenKey FROM users WHERE id = '${rec.id}'`)).trim();
		const r = await su.collection('users').update(rec.id, {
			email: 'cy2@example.com',
			verified: true,
			password: 'admin-set-pw',
			passwordConfirm: 'admin-set-pw',
		});
		assert.equal(r.email, 'cy2@example.com');
		assert.equal(r.verified, true);
		const tk2 = (await sqlite(srv.db, `SELECT tokenKey FROM users WHERE id = '${rec.id}'`)).trim();
		assert.notEqual(tk1, tk2);
		await login(srv, 'cy2@example.com', 'admin-set-pw');
	});

	test('auth ids are unique across auth collections', async () => {
		await su.collections.create({ name: 'members', type: 'auth', createRule: '', fields: [] });
		const u = await signUp(guest(srv), 'dup@example.com');
		const e = await rejects(
			guest(srv).collection('members').create({ id: u.id, email: 'dup2@example.com', password: PW, passwordConfirm: PW }),
			400,
		);
		fieldCode(e, 'id', 'validation_invalid_auth_id');
		const n = await sqlite(srv.db, `SELECT count(*) FROM members`);
		assert.equal(n.trim(), '0');
	});

	test('emailVisibility and manageRule', async () => {
		await su.collections.update('users', {
			listRule: '@request.auth.id != ""',
			viewRule: '@request.auth.id != ""',
			fields: [...(await su.collections.getOne('users')).fields, { name: 'role', type: 'text' }],
		});
		try {
			const shown = await signUp(guest(srv), 'shown@example.com', { emailVisibility: true });
			const hidden = await signUp(guest(srv), 'hidden@example.com');
			const mgr = await su.collection('users').create({
				email: 'mgr@example.com',
				password: PW,
				passwordConfirm: PW,
				role: 'manager',
			});
			const viewer = await login(srv, 'shown@example.com');
			assert.equal((await viewer.collection('users').getOne(shown.id)).email, 'shown@example.com');
			assert.equal((await viewer.collection('users').getOne(hidden.id)).email, undefined);
			const all = await viewer.collection('users').getFullList({ filter: `id = "${hidden.id}" || id = "${shown.id}"` });
			assert.equal(all.length, 2);
			for (const r of all) {
				if (r.id === hidden.id) assert.ok(!('email' in r));
				else assert.equal(r.email, 'shown@example.com');
				assert.ok(!('password' in r) && !('tokenKey' in r));
			}
			const f = await viewer.collection('users').getOne(hidden.id, { fields: 'id,email,password,tokenKey' });
			assert.deepEqual(Object.keys(f), ['id']);
			assert.equal((await su.collection('users').getOne(hidden.id)).email, 'hidden@example.com');

			// manager: not yet (no manageRule)
			const m = await login(srv, 'mgr@example.com');
			assert.equal((await m.collection('users').getOne(hidden.id)).email, undefined);
			await rejects(m.collection('users').update(hidden.id, { name: 'x' }), 404);

			await su.collections.update('users', {
				updateRule: 'id = @request.auth.id || @request.auth.role = "manager"',
				manageRule: '@request.auth.role = "manager"',
			});
			assert.equal((await m.collection('users').getOne(hidden.id)).email, 'hidden@example.com');
			const up = await m.collection('users').update(hidden.id, {
				email: 'hidden2@example.com',
				verified: true,
				password: 'mgr-set-pass',
				passwordConfirm: 'mgr-set-pass',
			});
			assert.equal(up.email, 'hidden2@example.com');
			assert.equal(up.verified, true);
			await login(srv, 'hidden2@example.com', 'mgr-set-pass');
			// a non-manager still cannot
			await rejects(viewer.collection('users').update(hidden.id, { verified: false }), 404);
			// manageRule alone grants no operation
			await su.collections.update('users', { updateRule: 'id = @request.auth.id' });
			await rejects(m.collection('users').update(hidden.id, { name: 'y' }), 404);
			assert.equal(mgr.role, 'manager');
		} finally {
			await su.collections.update('users', {
				listRule: 'id = @request.auth.id',
				viewRule: 'id = @request.auth.id',
				updateRule: 'id = @request.auth.id',
				manageRule: null,
			});
		}
	});

	test('authRule: verified = true blocks unverified login and refresh', async () => {
		const u = await signUp(guest(srv), 'unv@example.com');
		const pb = await login(srv, 'unv@example.com');
		await su.collections.update('users', { authRule: 'verified = true' });
		try {
			const e = await rejects(
				guest(srv).collection('users').authWithPassword('unv@example.com', PW),
				403,
				"The request doesn't satisfy the collection requirements to authenticate.",
			);
			assert.deepEqual(e.response.data, {});
			// the secret rotated: the old token is gone
			await rejects(pb.collection('users').authRefresh(), 401);
			await su.collection('users').update(u.id, { verified: true });
			const ok = await login(srv, 'unv@example.com');
			assert.equal(ok.authStore.record.verified, true);
			await su.collection('users').update(u.id, { verified: false });
			await rejects(ok.collection('users').authRefresh(), 403);
			await su.collections.update('users', { authRule: null });
			await rejects(guest(srv).collection('users').authWithPassword('unv@example.com', PW), 403);
		} finally {
			await su.collections.update('users', { authRule: '' });
		}
	});
});

// auth_tokens.test.mjs - forged, altered, expired and misplaced auth tokens
// on record collections (DIALECT.md §1.3, §11.3, §12.3), over raw HTTP and
// through the SDK.
//
// Tokens are minted here with the server's real signing key (the record's
// tokenKey and the collection's authToken.secret, read from the database
// file), so each forgery differs from an accepted token in exactly one
// respect; a sanity test proves a correctly minted token is accepted.
// Expired tokens are minted that way too (exp in the past), so no test
// waits for a clock. Every refused token must leave the request a guest:
// the rule-protected list shows guest results, auth endpoints answer
// 401/403, and nothing is written.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { api, assertApiError, each, sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest, rejects } from './sdk.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };
const b64u = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const HS = { alg: 'HS256', typ: 'JWT' };
const now = () => Math.floor(Date.now() / 1000);

function sign(header, payload, key, algo = 'sha256') {
	const data = `${b64u(header)}.${b64u(payload)}`;
	return `${data}.${crypto.createHmac(algo, key).update(data).digest('base64url')}`;
}

describe('auth tokens', LIMIT, () => {
	let srv, pb;
	const U = {}; // users by name: {record, token, coll}
	let cols;

	async function login(coll, email, password = 'password123') {
		const r = await api(srv, 'POST', `/api/collections/${coll}/auth-with-password`, { body: { identity: email, password } });
		assert.equal(r.status, 200, r.text);
		return r.json.token;
	}

	async function keyOf(coll, id) {
		const tk = (await sqlite(srv.db, `SELECT tokenKey FROM ${coll} WHERE id = '${id}'`)).trim();
		const sec = (await sqlite(srv.db, `SELECT json_extract(options, '$.authToken.secret') FROM _collections WHERE name = '${coll}'`)).trim();
		assert.ok(tk.length >= 30 && sec.length >= 30, 'key material found');
		return tk + sec;
	}

	const claimsOf = (u, extra = {}) => ({ collectionId: cols[u.coll].id, exp: now() + 600, id: u.record.id, refreshable: true, type: 'auth', ...extra });
	const noteCount = async () => Number((await sqlite(srv.db, 'SELECT count(*) FROM notes')).trim());

	// The request carrying token must be a guest's, and write nothing.
	async function assertGuest(token, label) {
		const headers = { Authorization: token };
		const l = await api(srv, 'GET', '/api/collections/notes/records', { headers });
		assert.equal(l.status, 200, `${label}: list: ${l.text}`);
		assert.equal(l.json.totalItems, 0, `${label}: the list shows guest results`);
		for (const coll of ['members', 'staff']) {
			const r = await api(srv, 'POST', `/api/collections/${coll}/auth-refresh`, { headers });
			assertApiError(r, 401, 'The request requires valid record authorization token.');
		}
		const c = await api(srv, 'GET', '/api/collections', { headers });
		assertApiError(c, 401);
		const before = await noteCount();
		const w = await api(srv, 'POST', '/api/collections/notes/records', { headers, body: { title: `forged ${label}` } });
		assert.ok(w.status >= 400 && w.status < 500, `${label}: create refused: ${w.status} ${w.text}`);
		const p = await api(srv, 'PATCH', `/api/collections/members/records/${U.alice.record.id}`, { headers, body: { emailVisibility: true } });
		assert.ok(p.status >= 400 && p.status < 500, `${label}: update refused: ${p.status}`);
		assert.equal(await noteCount(), before, `${label}: nothing written`);
		assert.equal((await sqlite(srv.db, `SELECT emailVisibility FROM members WHERE id = '${U.alice.record.id}'`)).trim(), '0');
	}

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		pb = await admin(srv);
		cols = {};
		cols.members = await pb.collections.create({ name: 'members', type: 'auth', fields: [] });
		cols.staff = await pb.collections.create({ name: 'staff', type: 'auth', fields: [] });
		cols.notes = await pb.collections.create({
			name: 'notes',
			type: 'base',
			listRule: '@request.auth.id != ""',
			viewRule: '@request.auth.id != ""',
			createRule: '@request.auth.id != ""',
			fields: [{ name: 'title', type: 'text' }],
		});
		await pb.collection('notes').create({ title: 'members only' });
		for (const [name, coll] of [['alice', 'members'], ['bob', 'members'], ['carol', 'staff']]) {
			const email = `${name}@example.com`;
			const record = await pb.collection(coll).create({ email, password: 'password123', passwordConfirm: 'password123' });
			U[name] = { record, coll, email, token: await login(coll, email) };
		}
	});
	after(() => srv?.stop());

	test('sanity: real and correctly re-minted tokens authenticate', async () => {
		const r = await api(srv, 'GET', '/api/collections/notes/records', { token: U.alice.token });
		assert.equal(r.json.totalItems, 1);
		const minted = sign(HS, claimsOf(U.alice), await keyOf('members', U.alice.record.id));
		const m = await api(srv, 'POST', '/api/collections/members/auth-refresh', { token: minted });
		assert.equal(m.status, 200, m.text);
		assert.equal(m.json.record.id, U.alice.record.id);
	});

	test('tampered, re-algorithmed, foreign-key and expired tokens leave the request a guest', async () => {
		const key = await keyOf('members', U.alice.record.id);
		const bobKey = await keyOf('members', U.bob.record.id);
		const [h, p, sig] = U.alice.token.split('.');
		const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
		const flip = (s) => `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`;
		const forged = {
			'payload tampered (id of bob, alice signature)': `${h}.${b64u({ ...claims, id: U.bob.record.id })}.${sig}`,
			'payload tampered (exp extended)': `${h}.${b64u({ ...claims, exp: claims.exp + 3600 })}.${sig}`,
			'signature tampered': `${h}.${p}.${flip(sig)}`,
			'signature truncated': `${h}.${p}.${sig.slice(0, -4)}`,
			'alg none, no signature': `${b64u({ alg: 'none', typ: 'JWT' })}.${p}.`,
			'alg none, with signature': `${b64u({ alg: 'none', typ: 'JWT' })}.${p}.${sig}`,
			'alg HS512 signed with the real key': sign({ alg: 'HS512', typ: 'JWT' }, claims, key, 'sha512'),
			'alg HS512 header, HS256 signature': sign({ alg: 'HS512', typ: 'JWT' }, claims, key),
			'alg RS256 header, HS256 signature': sign({ alg: 'RS256', typ: 'JWT' }, claims, key),
			'alg missing': sign({ typ: 'JWT' }, claims, key),
			'foreign secret': sign(HS, claims, crypto.randomBytes(40).toString('hex')),
			'collection secret only (no tokenKey)': sign(HS, claims, key.slice(50)),
			'alice claims signed with bob key': sign(HS, claims, bobKey),
			'bob claims signed with alice key': sign(HS, claimsOf(U.bob), key),
			'expired (real key)': sign(HS, claimsOf(U.alice, { exp: now() - 1 }), key),
			'not yet valid (nbf in the future)': sign(HS, claimsOf(U.alice, { nbf: now() + 600 }), key),
			'type verification (real key)': sign(HS, claimsOf(U.alice, { type: 'verification', email: U.alice.email }), key),
			'collectionId of staff, alice id, members key': sign(HS, claimsOf(U.alice, { collectionId: cols.staff.id }), key),
			'collectionId of notes (base collection)': sign(HS, claimsOf(U.alice, { collectionId: cols.notes.id }), key),
		};
		await each(Object.entries(forged), ([name, t]) => assertGuest(t, name), ([name]) => name);
	});

	test('a token of one auth collection on another collection\'s auth-refresh is 403 and never authenticates there', async () => {
		const r = await api(srv, 'POST', '/api/collections/staff/auth-refresh', { token: U.alice.token });
		assertApiError(r, 403, 'The request requires auth record from staff collection.');
		const s = await api(srv, 'POST', '/api/collections/members/auth-refresh', { token: U.carol.token });
		assertApiError(s, 403, 'The request requires auth record from members collection.');
		const su = await api(srv, 'POST', '/api/collections/members/auth-refresh', { token: pb.authStore.token });
		assertApiError(su, 403, 'The request requires auth record from members collection.');
		// carol's token renamed into members with carol's id, signed with carol's key: still not a member
		const carolKey = await keyOf('staff', U.carol.record.id);
		await assertGuest(sign(HS, claimsOf(U.carol, { collectionId: cols.members.id }), carolKey), 'staff key, members collectionId');
	});

	test('a password change and a tokenKey change revoke every earlier token', async () => {
		const email = 'dave@example.com';
		const rec = await pb.collection('members').create({ email, password: 'password123', passwordConfirm: 'password123' });
		const t1 = await login('members', email);
		const ok = await api(srv, 'GET', '/api/collections/notes/records', { token: t1 });
		assert.equal(ok.json.totalItems, 1);
		await pb.collection('members').update(rec.id, { password: 'password456', passwordConfirm: 'password456' });
		await assertGuest(t1, 'after password change');
		const t2 = await login('members', email, 'password456');
		assert.equal((await api(srv, 'GET', '/api/collections/notes/records', { token: t2 })).json.totalItems, 1);
		await sqlite(srv.db, `UPDATE members SET tokenKey = 'rotated${'x'.repeat(43)}' WHERE id = '${rec.id}'`);
		await assertGuest(t2, 'after tokenKey change');
	});

	test('a record token on superuser-only endpoints is 403 and changes nothing', async () => {
		const token = U.alice.token;
		const before = (await sqlite(srv.db, 'SELECT count(*) FROM _collections')).trim();
		const settingsBefore = (await sqlite(srv.db, "SELECT coalesce(max(value), '') FROM _params WHERE id = 'settings'")).trim();
		const calls = [
			['GET', '/api/collections'],
			['GET', '/api/collections/notes'],
			['POST', '/api/collections', { name: 'evil', type: 'base', fields: [] }],
			['PATCH', '/api/collections/notes', { listRule: '' }],
			['DELETE', '/api/collections/notes'],
			['DELETE', '/api/collections/notes/truncate'],
			['GET', '/api/settings'],
			['PATCH', '/api/settings', { batch: { enabled: true } }],
		];
		await each(calls, async ([method, path, body]) => {
			const r = await api(srv, method, path, { token, body });
			assertApiError(r, 403);
		}, ([m, p]) => `${m} ${p}`);
		assert.equal((await sqlite(srv.db, 'SELECT count(*) FROM _collections')).trim(), before);
		assert.equal((await sqlite(srv.db, "SELECT coalesce(max(value), '') FROM _params WHERE id = 'settings'")).trim(), settingsBefore);
		assert.equal(await noteCount(), 1);
	});

	test('SDK: a forged token in the auth store gets guest results and a rejected refresh', async () => {
		const key = await keyOf('members', U.alice.record.id);
		const client = guest(srv);
		client.authStore.save(sign({ alg: 'HS512', typ: 'JWT' }, claimsOf(U.alice), key, 'sha512'), U.alice.record);
		const list = await client.collection('notes').getList(1, 10);
		assert.equal(list.totalItems, 0);
		await rejects(client.collection('members').authRefresh(), 401);
		await rejects(client.collection('notes').create({ title: 'sdk forged' }), 400);
		client.authStore.save(sign(HS, claimsOf(U.alice, { exp: now() - 5 }), key), U.alice.record);
		assert.equal((await client.collection('notes').getList(1, 10)).totalItems, 0);
		client.authStore.save(U.alice.token, U.alice.record);
		assert.equal((await client.collection('notes').getList(1, 10)).totalItems, 1);
		assert.equal(await noteCount(), 1);
	});
});

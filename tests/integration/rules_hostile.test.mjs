// rules_hostile.test.mjs - signed-in users and guests trying to get around
// access rules (DIALECT.md §5, §7, §9, §10): filters that try to widen a
// list, expand through hidden relations, reads of password/tokenKey and
// hidden fields, batches that mix allowed and forbidden writes, ownership
// hand-offs, self-verification. Each attempt must fail closed and write
// nothing; writes are checked with superuser reads and the database file.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest, rejects } from './sdk.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 240000 : 90000 };
const PW = 'sesame-open-1';

describe('hostile access', LIMIT, () => {
	let srv;
	let su;
	const U = {};
	const C = {};
	const P = {}; // posts by title

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await admin(srv);
		const users = await su.collections.getOne('users');
		await su.collections.update('users', {
			listRule: '@request.auth.id != ""',
			viewRule: '@request.auth.id != ""',
			fields: [...users.fields, { name: 'secretNote', type: 'text', hidden: true }],
		});
		for (const name of ['mallory', 'victim']) {
			U[name] = await su.collection('users').create({
				email: `${name}@example.com`,
				password: PW,
				passwordConfirm: PW,
				secretNote: `${name} note`,
			});
			C[name] = guest(srv);
			await C[name].collection('users').authWithPassword(`${name}@example.com`, PW);
		}
		await su.collections.create({
			name: 'vaults',
			type: 'base',
			listRule: null,
			viewRule: null,
			fields: [{ name: 'code', type: 'text' }],
		});
		const vault = await su.collection('vaults').create({ code: 'v-1' });
		await su.collections.create({
			name: 'posts',
			type: 'base',
			listRule: 'owner = @request.auth.id',
			viewRule: 'owner = @request.auth.id',
			createRule: '@request.body.owner = @request.auth.id',
			updateRule: 'owner = @request.auth.id && (@request.body.owner:isset = false || @request.body.owner = owner)',
			deleteRule: 'owner = @request.auth.id',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
				{ name: 'vault', type: 'relation', collectionId: (await su.collections.getOne('vaults')).id, maxSelect: 1 },
				{ name: 'internal', type: 'text', hidden: true },
			],
		});
		for (const [title, owner] of [
			['m1', 'mallory'],
			['v1', 'victim'],
			['v2', 'victim'],
		])
			P[title] = await su.collection('posts').create({ title, owner: U[owner].id, vault: vault.id, internal: 'x' });
		await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
	});
	after(async () => {
		await srv?.stop();
	});

	const mine = async (pb, opts = {}) => (await pb.collection('posts').getFullList({ sort: 'title', ...opts })).map((p) => p.title);

	test('filters cannot widen a list', async () => {
		assert.deepEqual(await mine(C.mallory), ['m1']);
		for (const filter of [
			'1=1',
			'id != "" || 1=1',
			'owner != "" || owner = ""',
			'(owner = "x") || true',
			`owner = "${U.victim.id}"`,
			`owner = "${U.victim.id}" || owner != "${U.victim.id}"`,
			`title = "v1") || (1=1`,
		]) {
			let got;
			try {
				got = await mine(C.mallory, { filter });
			} catch (e) {
				assert.equal(e.status, 400, `${filter}: ${e.status}`);
				continue;
			}
			assert.ok(got.every((t) => t === 'm1'), `${filter} leaked ${got}`);
		}
		const page = await C.mallory.collection('posts').getList(1, 50, { filter: 'id != ""' });
		assert.equal(page.totalItems, 1);
	});

	test('@request and @collection in client filters are 403 for non-superusers', async () => {
		for (const pb of [guest(srv), C.mallory]) {
			await rejects(pb.collection('posts').getList(1, 10, { filter: '@request.auth.id != ""' }), 403);
			await rejects(pb.collection('posts').getList(1, 10, { filter: 'title = "@request.auth.id"' }), 403);
			await rejects(pb.collection('posts').getList(1, 10, { filter: '@collection.vaults.code = "v-1"' }), 403);
			await rejects(pb.collection('posts').getList(1, 10, { sort: '@request.auth.id' }), 403);
		}
		const all = await su.collection('posts').getList(1, 10, { filter: '@collection.vaults.code = "v-1"' });
		assert.equal(all.totalItems, 3);
	});

	test('filters through relations into locked collections are 400', async () => {
		await rejects(C.mallory.collection('posts').getList(1, 10, { filter: 'vault.code = "v-1"' }), 400);
		await rejects(C.mallory.collection('posts').getList(1, 10, { sort: 'vault.code' }), 400);
		// through users (listRule requires sign-in): a guest sees nothing anyway
		const viaOwner = await C.mallory.collection('posts').getFullList({ filter: `owner.email = "victim@example.com"` });
		assert.deepEqual(viaOwner, []);
	});

	test("a filter through a relation is limited by the target's listRule", async () => {
		const tags = await su.collections.create({
			name: 'tags',
			type: 'base',
			listRule: 'public = true',
			viewRule: 'public = true',
			fields: [
				{ name: 'name', type: 'text' },
				{ name: 'public', type: 'bool' },
			],
		});
		await su.collections.create({
			name: 'items',
			type: 'base',
			listRule: '',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'tag', type: 'relation', collectionId: tags.id, maxSelect: 1 },
			],
		});
		const secret = await su.collection('tags').create({ name: 'secret', public: false });
		const open = await su.collection('tags').create({ name: 'open', public: true });
		await su.collection('items').create({ title: 'hidden-tagged', tag: secret.id });
		await su.collection('items').create({ title: 'open-tagged', tag: open.id });
		for (const pb of [guest(srv), C.mallory]) {
			assert.equal((await pb.collection('items').getList(1, 10, { filter: 'tag.name = "secret"' })).totalItems, 0);
			assert.equal((await pb.collection('items').getList(1, 10, { filter: 'tag.name ~ "sec"' })).totalItems, 0);
			assert.equal((await pb.collection('items').getList(1, 10, { filter: 'tag.public = false' })).totalItems, 0);
			assert.equal((await pb.collection('items').getList(1, 10, { filter: 'tag.name = "open"' })).totalItems, 1);
			assert.equal((await pb.collection('items').getList(1, 10)).totalItems, 2);
			const it = await pb.collection('items').getFirstListItem('title = "hidden-tagged"', { expand: 'tag' });
			assert.ok(!it.expand || !('tag' in it.expand));
		}
		assert.equal((await su.collection('items').getList(1, 10, { filter: 'tag.name = "secret"' })).totalItems, 1);
	});

	test('password, tokenKey and hidden fields cannot be read, filtered or sorted', async () => {
		const u = await C.mallory.collection('users').getOne(U.victim.id, { fields: 'id,password,tokenKey,secretNote,email' });
		assert.deepEqual(Object.keys(u), ['id']);
		const full = await C.mallory.collection('users').getOne(U.victim.id);
		for (const k of ['password', 'tokenKey', 'secretNote', 'email']) assert.ok(!(k in full), `${k} leaked`);
		for (const filter of ['password != ""', 'tokenKey != ""', 'secretNote = "victim note"', 'tokenKey ~ "a"']) {
			await rejects(C.mallory.collection('users').getList(1, 10, { filter }), 400);
		}
		await rejects(C.mallory.collection('users').getList(1, 10, { sort: 'tokenKey' }), 400);
		await rejects(C.mallory.collection('users').getList(1, 10, { sort: 'password' }), 400);
		await rejects(C.mallory.collection('posts').getList(1, 10, { filter: 'internal = "x"' }), 400);
		await rejects(C.mallory.collection('posts').getList(1, 10, { filter: 'owner.tokenKey != ""' }), 400);
		const m1 = await C.mallory.collection('posts').getOne(P.m1.id, { expand: 'owner', fields: '*,expand.owner.*' });
		assert.ok(!('internal' in m1));
		assert.equal(m1.expand.owner.id, U.mallory.id);
		for (const k of ['password', 'tokenKey', 'secretNote']) assert.ok(!(k in m1.expand.owner), `${k} leaked via expand`);
		// even superusers never get password or tokenKey
		const s = await su.collection('users').getOne(U.victim.id);
		assert.ok(!('password' in s) && !('tokenKey' in s));
		assert.equal(s.secretNote, 'victim note');
	});

	test('expand through a hidden relation omits it', async () => {
		const m1 = await C.mallory.collection('posts').getOne(P.m1.id, { expand: 'vault' });
		assert.equal(m1.vault, P.m1.vault, 'the id stays');
		assert.ok(!m1.expand || !('vault' in m1.expand), `vault expanded: ${JSON.stringify(m1.expand)}`);
		// a back-relation to posts only shows the caller's own
		const me = await C.mallory.collection('users').getOne(U.victim.id, { expand: 'posts_via_owner' });
		assert.ok(!me.expand || !('posts_via_owner' in me.expand) || me.expand.posts_via_owner.length === 0);
	});

	test('update cannot hand a post over, nor touch another owner', async () => {
		await rejects(C.mallory.collection('posts').update(P.m1.id, { owner: U.victim.id }), 404);
		await rejects(C.mallory.collection('posts').update(P.v1.id, { title: 'pwned' }), 404);
		await rejects(C.mallory.collection('posts').update(P.v1.id, { owner: U.mallory.id }), 404);
		await rejects(C.mallory.collection('posts').delete(P.v2.id), 404);
		const rows = await sqlite(srv.db, 'SELECT title, owner FROM posts ORDER BY title');
		assert.equal(rows, `m1|${U.mallory.id}\nv1|${U.victim.id}\nv2|${U.victim.id}\n`);
	});

	test('a user cannot verify themselves or change another user', async () => {
		await rejects(C.mallory.collection('users').update(U.mallory.id, { verified: true }), 400);
		await rejects(C.mallory.collection('users').update(U.victim.id, { name: 'x' }), 404);
		await rejects(
			C.mallory.collection('users').update(U.victim.id, { password: 'hijacked-1', passwordConfirm: 'hijacked-1' }),
			404,
		);
		await rejects(
			guest(srv).collection('users').create({ email: 'x@example.com', password: PW, passwordConfirm: PW, verified: true }),
			400,
		);
		// a submitted tokenKey is ignored: the server generates its own
		await guest(srv)
			.collection('users')
			.create({ email: 'y@example.com', password: PW, passwordConfirm: PW, tokenKey: 'k'.repeat(50) });
		const rows = await sqlite(srv.db, "SELECT email, verified FROM users WHERE email IN ('mallory@example.com', 'x@example.com') ORDER BY email");
		assert.equal(rows, 'mallory@example.com|0\n');
		const y = await sqlite(srv.db, "SELECT tokenKey FROM users WHERE email = 'y@example.com'");
		assert.notEqual(y.trim(), 'k'.repeat(50));
	});

	test('a batch with one forbidden write writes nothing', async () => {
		const before1 = await sqlite(srv.db, 'SELECT id, title, owner FROM posts ORDER BY id');
		const b = C.mallory.createBatch();
		b.collection('posts').create({ title: 'm2', owner: U.mallory.id });
		b.collection('posts').update(P.m1.id, { title: 'm1 changed' });
		b.collection('posts').create({ title: 'forged', owner: U.victim.id });
		let err;
		try {
			await b.send();
		} catch (e) {
			err = e;
		}
		assert.ok(err, 'batch succeeded');
		assert.equal(err.status, 400);
		const b2 = C.mallory.createBatch();
		b2.collection('posts').create({ title: 'm3', owner: U.mallory.id });
		b2.collection('posts').delete(P.v1.id);
		await assert.rejects(b2.send());
		const b3 = C.mallory.createBatch();
		b3.collection('posts').create({ title: 'm4', owner: U.mallory.id });
		b3.collection('vaults').create({ code: 'mine' });
		await assert.rejects(b3.send());
		assert.equal(await sqlite(srv.db, 'SELECT id, title, owner FROM posts ORDER BY id'), before1);
		assert.equal((await su.collection('vaults').getFullList()).length, 1);
		assert.equal((await su.collection('posts').getFullList()).length, 3);
		// batch responses never carry secrets either
		const ok = C.mallory.createBatch();
		ok.collection('users').update(U.mallory.id, { name: 'M' });
		const res = await ok.send();
		assert.equal(res[0].status, 200);
		for (const k of ['password', 'tokenKey', 'secretNote']) assert.ok(!(k in res[0].body), `${k} in batch response`);
	});

	test('a forged or foreign token gives no access', async () => {
		const tok = C.mallory.authStore.token;
		const parts = tok.split('.');
		const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
		payload.id = U.victim.id;
		const forged = [parts[0], Buffer.from(JSON.stringify(payload)).toString('base64url'), parts[2]].join('.');
		const r = await api(srv, 'GET', `/api/collections/posts/records/${P.v1.id}`, { token: forged });
		assert.equal(r.status, 404);
		const l = await api(srv, 'GET', '/api/collections/posts/records', { token: forged });
		assert.equal(l.json.totalItems, 0);
	});
});

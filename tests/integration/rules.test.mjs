// rules.test.mjs - access rules end to end as signed-in users meet them
// (DIALECT.md §2.5, §6.6, §6.7, §7), through the official SDK: owner
// rules, plan tiers, @collection membership, @request.body modifiers,
// @request.query/headers, and how failures surface (silent list
// filtering, 404, 400 on create).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest, rejects } from './sdk.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 240000 : 90000 };
const PW = 'sesame-open-1';

describe('access rules', LIMIT, () => {
	let srv;
	let su;
	const U = {}; // user records by name
	const C = {}; // clients by name

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await admin(srv);
		const users = await su.collections.getOne('users');
		await su.collections.update('users', {
			fields: [
				...users.fields,
				{ name: 'plan', type: 'select', values: ['free', 'premium'], maxSelect: 1 },
				{ name: 'role', type: 'text' },
			],
		});
		for (const [name, plan] of [
			['alice', 'free'],
			['bob', 'premium'],
			['carol', 'free'],
		]) {
			U[name] = await su.collection('users').create({
				email: `${name}@example.com`,
				password: PW,
				passwordConfirm: PW,
				name,
				plan,
			});
			C[name] = guest(srv);
			await C[name].collection('users').authWithPassword(`${name}@example.com`, PW);
		}
		await su.collections.create({
			name: 'posts',
			type: 'base',
			listRule: 'owner = @request.auth.id',
			viewRule: 'owner = @request.auth.id',
			createRule: '@request.auth.id != "" && @request.body.owner = @request.auth.id',
			updateRule: 'owner = @request.auth.id && (@request.body.owner:isset = false || @request.body.owner = @request.auth.id)',
			deleteRule: 'owner = @request.auth.id',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'owner', type: 'relation', collectionId: U.alice.collectionId, maxSelect: 1 },
			],
		});
		await su.collections.create({
			name: 'articles',
			type: 'base',
			listRule: 'premium = false || @request.auth.plan = "premium"',
			viewRule: 'premium = false || @request.auth.plan = "premium"',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'premium', type: 'bool' },
			],
		});
		for (const [title, premium] of [
			['open-1', false],
			['open-2', false],
			['gold-1', true],
		])
			await su.collection('articles').create({ title, premium });
	});
	after(async () => {
		await srv?.stop();
	});

	test('owners see and change only their own posts', async () => {
		const a1 = await C.alice.collection('posts').create({ title: 'a1', owner: U.alice.id });
		const b1 = await C.bob.collection('posts').create({ title: 'b1', owner: U.bob.id });
		assert.deepEqual((await C.alice.collection('posts').getFullList()).map((p) => p.title), ['a1']);
		assert.deepEqual((await C.bob.collection('posts').getFullList()).map((p) => p.title), ['b1']);
		assert.deepEqual(await guest(srv).collection('posts').getFullList(), []);
		await rejects(C.alice.collection('posts').getOne(b1.id), 404);
		await rejects(C.alice.collection('posts').update(b1.id, { title: 'mine now' }), 404);
		await rejects(C.alice.collection('posts').delete(b1.id), 404);
		await rejects(C.alice.collection('posts').create({ title: 'forged', owner: U.bob.id }), 400, 'Failed to create record.');
		await rejects(guest(srv).collection('posts').create({ title: 'anon', owner: U.bob.id }), 400);
		// handing a post to someone else is blocked by the update rule
		await rejects(C.alice.collection('posts').update(a1.id, { owner: U.bob.id }), 404);
		const ok = await C.alice.collection('posts').update(a1.id, { title: 'a1 edited' });
		assert.equal(ok.title, 'a1 edited');
		const rows = await sqlite(srv.db, 'SELECT title, owner FROM posts ORDER BY title');
		assert.equal(rows, `a1 edited|${U.alice.id}\nb1|${U.bob.id}\n`);
		await C.bob.collection('posts').delete(b1.id);
		await rejects(su.collection('posts').getOne(b1.id), 404);
	});

	test('plan tiers: free and premium users see different records', async () => {
		const titles = async (pb) => (await pb.collection('articles').getFullList({ sort: 'title' })).map((r) => r.title);
		assert.deepEqual(await titles(C.alice), ['open-1', 'open-2']);
		assert.deepEqual(await titles(C.bob), ['gold-1', 'open-1', 'open-2']);
		assert.deepEqual(await titles(guest(srv)), ['open-1', 'open-2']);
		const gold = await su.collection('articles').getFirstListItem('title = "gold-1"');
		await rejects(C.alice.collection('articles').getOne(gold.id), 404);
		assert.equal((await C.bob.collection('articles').getOne(gold.id)).title, 'gold-1');
		const page = await C.alice.collection('articles').getList(1, 10, { filter: 'premium = true' });
		assert.equal(page.totalItems, 0);
	});

	test('@collection membership rule (teams and memberships)', async () => {
		const teams = await su.collections.create({ name: 'teams', type: 'base', fields: [{ name: 'name', type: 'text' }] });
		await su.collections.create({
			name: 'memberships',
			type: 'base',
			fields: [
				{ name: 'user', type: 'relation', collectionId: U.alice.collectionId, maxSelect: 1 },
				{ name: 'team', type: 'relation', collectionId: teams.id, maxSelect: 1 },
				{ name: 'role', type: 'text' },
			],
		});
		const rule = '@collection.memberships.user ?= @request.auth.id && @collection.memberships.team ?= team';
		await su.collections.create({
			name: 'docs',
			type: 'base',
			listRule: rule,
			viewRule: rule,
			createRule:
				'@collection.memberships:m.user ?= @request.auth.id && @collection.memberships:m.team ?= @request.body.team && @collection.memberships:m.role ?= "editor"',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'team', type: 'relation', collectionId: teams.id, maxSelect: 1 },
			],
		});
		const red = await su.collection('teams').create({ name: 'red' });
		const blue = await su.collection('teams').create({ name: 'blue' });
		await su.collection('memberships').create({ user: U.alice.id, team: red.id, role: 'editor' });
		await su.collection('memberships').create({ user: U.bob.id, team: blue.id, role: 'viewer' });
		await su.collection('docs').create({ title: 'red doc', team: red.id });
		const bd = await su.collection('docs').create({ title: 'blue doc', team: blue.id });
		assert.deepEqual((await C.alice.collection('docs').getFullList()).map((d) => d.title), ['red doc']);
		assert.deepEqual((await C.bob.collection('docs').getFullList()).map((d) => d.title), ['blue doc']);
		assert.deepEqual(await C.carol.collection('docs').getFullList(), []);
		await rejects(C.alice.collection('docs').getOne(bd.id), 404);
		const made = await C.alice.collection('docs').create({ title: 'red 2', team: red.id });
		assert.equal(made.team, red.id);
		await rejects(C.alice.collection('docs').create({ title: 'into blue', team: blue.id }), 400, 'Failed to create record.');
		await rejects(C.bob.collection('docs').create({ title: 'viewer', team: blue.id }), 400);
		const n = await sqlite(srv.db, 'SELECT count(*) FROM docs');
		assert.equal(n.trim(), '3');
	});

	test('@request.body modifiers: :isset, :changed, :length, :each', async () => {
		await su.collections.create({
			name: 'profiles',
			type: 'base',
			listRule: '',
			viewRule: '',
			createRule:
				'@request.body.role:isset = false && @request.body.tags:length <= 2 && @request.body.tags:each != "admin"',
			updateRule: '@request.body.title:changed = false',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'role', type: 'text' },
				{ name: 'tags', type: 'select', values: ['a', 'b', 'c', 'admin'], maxSelect: 4 },
			],
		});
		const pb = C.carol.collection('profiles');
		const p = await pb.create({ title: 't', tags: ['a', 'b'] });
		await rejects(pb.create({ title: 't', role: 'x' }), 400, 'Failed to create record.');
		await rejects(pb.create({ title: 't', role: '' }), 400, 'Failed to create record.');
		await rejects(pb.create({ title: 't', tags: ['a', 'b', 'c'] }), 400);
		await rejects(pb.create({ title: 't', tags: ['a', 'admin'] }), 400);
		await pb.update(p.id, { title: 't', tags: ['c'] }); // submitted but unchanged
		await rejects(pb.update(p.id, { title: 'changed' }), 404);
		const row = await sqlite(srv.db, `SELECT title, tags FROM profiles WHERE id = '${p.id}'`);
		assert.equal(row.trim(), 't|["c"]');
		assert.equal((await sqlite(srv.db, 'SELECT count(*) FROM profiles')).trim(), '1');
	});

	test('@request.query, @request.headers, @request.method', async () => {
		await su.collections.create({
			name: 'gated',
			type: 'base',
			listRule: '@request.query.key = "k1" && @request.method = "GET"',
			viewRule: '@request.headers.x_app_token = "t0ken"',
			createRule: '@request.headers.x_app_token = "t0ken" && @request.context = "default"',
			fields: [{ name: 'title', type: 'text' }],
		});
		const g = await su.collection('gated').create({ title: 'g' });
		const anon = guest(srv);
		assert.equal((await anon.collection('gated').getList(1, 10)).totalItems, 0);
		assert.equal((await anon.collection('gated').getList(1, 10, { key: 'k1' })).totalItems, 1);
		assert.equal((await anon.collection('gated').getList(1, 10, { key: 'k2' })).totalItems, 0);
		await rejects(anon.collection('gated').getOne(g.id), 404);
		const v = await anon.collection('gated').getOne(g.id, { headers: { 'X-App-Token': 't0ken' } });
		assert.equal(v.title, 'g');
		await rejects(anon.collection('gated').create({ title: 'n' }), 400);
		await anon.collection('gated').create({ title: 'y' }, { headers: { 'X-App-Token': 't0ken' } });
		assert.equal((await sqlite(srv.db, 'SELECT count(*) FROM gated')).trim(), '2');
	});

	test('rules through @request.auth relations and the create virtual row', async () => {
		await su.collections.create({
			name: 'orgs',
			type: 'base',
			fields: [
				{ name: 'name', type: 'text' },
				{ name: 'active', type: 'bool' },
			],
		});
		const orgs = await su.collections.getOne('orgs');
		const users = await su.collections.getOne('users');
		await su.collections.update('users', {
			fields: [...users.fields, { name: 'org', type: 'relation', collectionId: orgs.id, maxSelect: 1 }],
		});
		const on = await su.collection('orgs').create({ name: 'on', active: true });
		const off = await su.collection('orgs').create({ name: 'off', active: false });
		await su.collection('users').update(U.alice.id, { org: on.id });
		await su.collection('users').update(U.carol.id, { org: off.id });
		await su.collections.create({
			name: 'notes',
			type: 'base',
			listRule: '',
			createRule: '@request.auth.org.active = true && title != "" && author = @request.auth.id && author.plan = "free"',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
			],
		});
		await C.alice.collection('notes').create({ title: 'x', author: U.alice.id });
		await rejects(C.alice.collection('notes').create({ title: '', author: U.alice.id }), 400);
		await rejects(C.carol.collection('notes').create({ title: 'x', author: U.carol.id }), 400);
		await rejects(C.bob.collection('notes').create({ title: 'x', author: U.bob.id }), 400);
		assert.equal((await sqlite(srv.db, 'SELECT count(*) FROM notes')).trim(), '1');
	});

	test('superusers bypass rules; locked rules are 403 for others', async () => {
		await su.collections.create({ name: 'locked', type: 'base', fields: [{ name: 'title', type: 'text' }] });
		const l = await su.collection('locked').create({ title: 'l' });
		await rejects(C.alice.collection('locked').getList(), 403);
		await rejects(C.alice.collection('locked').getOne(l.id), 403);
		await rejects(C.alice.collection('locked').create({ title: 'x' }), 403);
		await rejects(C.alice.collection('locked').update(l.id, { title: 'x' }), 403);
		await rejects(C.alice.collection('locked').delete(l.id), 403);
		assert.equal((await su.collection('posts').getFullList()).length >= 1, true);
		await rejects(C.alice.collection('posts').getOne('doesnotexist123'), 404);
	});
});

// records.test.mjs - the records API through the official SDK (DIALECT.md
// §5-§10, §18.3, §19, §20): list paging and clamping, getFullList,
// getFirstListItem, CRUD with modifiers, sort, every filter operator with
// its expected result set, pb.filter() binding, expand, fields, batch,
// rules, 404s, settings.
//
// One server with a fixed data set (people, posts, comments, a locked
// collection) is shared by the read-only tests; tests that write use the
// public "open" collection or their own collections.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, fieldCode, guest, recordStatuses, rejects } from './sdk.mjs';

// Bound every block: a hung server fails the block instead of the whole run.
const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

const ID_RE = /^[a-z0-9]{15}$/;

describe('records', LIMIT, () => {
	let srv;
	let pb; // superuser
	let anon; // guest
	const P = {}; // people by name
	const T = {}; // posts by title
	const C = {}; // comments by message
	let secret;
	let cols;

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		pb = await admin(srv);
		anon = guest(srv);
		cols = {};
		cols.people = await pb.collections.create({
			name: 'people',
			type: 'base',
			listRule: '',
			viewRule: '',
			fields: [{ name: 'name', type: 'text' }],
		});
		cols.secretive = await pb.collections.create({
			name: 'secretive',
			type: 'base',
			fields: [{ name: 'name', type: 'text' }],
		});
		cols.posts = await pb.collections.create({
			name: 'posts',
			type: 'base',
			listRule: '',
			viewRule: '',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'views', type: 'number' },
				{ name: 'active', type: 'bool' },
				{ name: 'status', type: 'select', values: ['draft', 'published', 'archived'], maxSelect: 1 },
				{ name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 4 },
				{ name: 'meta', type: 'json' },
				{ name: 'body', type: 'editor' },
				{ name: 'author', type: 'relation', collectionId: cols.people.id, maxSelect: 1 },
				{ name: 'editors', type: 'relation', collectionId: cols.people.id, maxSelect: 5 },
				{ name: 'owner', type: 'relation', collectionId: cols.secretive.id, maxSelect: 1 },
				{ name: 'published', type: 'date' },
				{ name: 'created', type: 'autodate', onCreate: true },
				{ name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
			],
		});
		cols.comments = await pb.collections.create({
			name: 'comments',
			type: 'base',
			listRule: '',
			viewRule: '',
			fields: [
				{ name: 'post', type: 'relation', collectionId: cols.posts.id, maxSelect: 1 },
				{ name: 'message', type: 'text' },
				{ name: 'author', type: 'relation', collectionId: cols.people.id, maxSelect: 1 },
			],
		});
		cols.open = await pb.collections.create({
			name: 'open',
			type: 'base',
			listRule: '',
			viewRule: '',
			createRule: '',
			updateRule: '',
			deleteRule: '',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'views', type: 'number' },
				{ name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 4 },
				{ name: 'flag', type: 'bool' },
				{ name: 'when', type: 'date' },
			],
		});
		for (const name of ['ada', 'bob', 'cyd']) P[name] = await pb.collection('people').create({ name });
		secret = await pb.collection('secretive').create({ name: 'hidden one' });
		const posts = [
			{
				title: 'Alpha',
				views: 10,
				active: true,
				status: 'published',
				tags: ['a', 'b'],
				meta: { n: 1, k: 'x' },
				body: '<p>Hello <b>big</b>   world</p><script>alert(1)</script><div>Second</div>',
				author: P.ada.id,
				editors: [P.bob.id, P.cyd.id],
				published: '2024-01-10 10:00:00.000Z',
			},
			{
				title: 'beta',
				views: 5,
				active: false,
				status: 'draft',
				tags: ['b'],
				meta: { n: 2 },
				author: P.bob.id,
				editors: [P.ada.id],
				published: '2024-03-01 00:00:00.000Z',
			},
			{ title: 'Gamma ray', views: 0, active: true, status: 'archived', tags: [], meta: null, published: '' },
			{
				title: 'delta_x',
				views: 100,
				active: false,
				tags: ['c', 'd'],
				meta: { n: 3, k: 'y' },
				author: P.ada.id,
				editors: [P.ada.id, P.bob.id],
				published: '2025-06-15 12:30:00.000Z',
			},
			{
				title: 'Epsilon 50%',
				views: -3.5,
				active: true,
				status: 'published',
				tags: ['a'],
				meta: [1, 2],
				author: P.cyd.id,
				owner: secret.id,
				published: '2023-12-31 23:59:59.999Z',
			},
		];
		for (const p of posts) T[p.title] = await pb.collection('posts').create(p);
		for (const [post, message, author] of [
			['Alpha', 'first!', 'bob'],
			['Alpha', 'second', 'cyd'],
			['beta', 'hello', 'ada'],
		])
			C[message] = await pb.collection('comments').create({ post: T[post].id, message, author: P[author].id });
	});

	after(async () => {
		if (srv) await srv.stop();
	});

	const ALL = ['Alpha', 'beta', 'Gamma ray', 'delta_x', 'Epsilon 50%'];
	const titles = (items) => items.map((r) => r.title);

	// ---- list ----

	test('getList: defaults, paging, clamping, pages past the end, skipTotal', async () => {
		const l = await anon.collection('posts').getList();
		assert.equal(l.page, 1);
		assert.equal(l.perPage, 30);
		assert.equal(l.totalItems, 5);
		assert.equal(l.totalPages, 1);
		assert.deepEqual(titles(l.items), ALL, 'default order is insertion order');
		assert.deepEqual(Object.keys(l), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);

		const p2 = await anon.collection('posts').getList(2, 2);
		assert.deepEqual([p2.page, p2.perPage, p2.totalItems, p2.totalPages], [2, 2, 5, 3]);
		assert.deepEqual(titles(p2.items), ['Gamma ray', 'delta_x']);
		const p3 = await anon.collection('posts').getList(3, 2);
		assert.deepEqual(titles(p3.items), ['Epsilon 50%']);
		const p9 = await anon.collection('posts').getList(9, 2);
		assert.deepEqual(p9.items, []);
		assert.equal(p9.page, 9);
		assert.equal(p9.totalItems, 5);

		const big = await anon.collection('posts').getList(1, 5000);
		assert.equal(big.perPage, 1000);
		assert.equal(big.items.length, 5);
		const zero = await anon.collection('posts').getList(0, 0);
		assert.equal(zero.page, 1);
		assert.equal(zero.perPage, 30);
		const neg = await anon.collection('posts').getList(-4, -1);
		assert.equal(neg.page, 1);
		assert.equal(neg.perPage, 30);

		const st = await anon.collection('posts').getList(1, 2, { skipTotal: true });
		assert.equal(st.totalItems, -1);
		assert.equal(st.totalPages, -1);
		assert.deepEqual(titles(st.items), ['Alpha', 'beta']);

		const f = await anon.collection('posts').getList(1, 2, { filter: 'views >= 5' });
		assert.equal(f.totalItems, 3);
		assert.equal(f.totalPages, 2);
		const none = await anon.collection('posts').getList(1, 10, { filter: "title = 'nope'" });
		assert.deepEqual([none.items, none.totalItems, none.totalPages], [[], 0, 0]);
	});

	test('getFullList pages until a short page; getFirstListItem; getOne', async () => {
		const urls = [];
		const c = guest(srv);
		c.beforeSend = (url, options) => {
			urls.push(`${url}?${new URLSearchParams(options.query || {})}`);
			return { url, options };
		};
		const all = await c.collection('posts').getFullList({ batch: 2 });
		assert.deepEqual(titles(all), ALL);
		assert.equal(urls.length, 3, urls.join('\n'));
		urls.length = 0;
		const all5 = await c.collection('posts').getFullList({ batch: 5 });
		assert.deepEqual(titles(all5), ALL);
		assert.equal(urls.length, 2, 'a full page is followed by one more request');
		assert.match(urls[0], /skipTotal=1/);

		const first = await anon.collection('posts').getFirstListItem('views > 50');
		assert.equal(first.title, 'delta_x');
		const e = await anon
			.collection('posts')
			.getFirstListItem("title = 'nothing'")
			.catch((x) => x);
		assert.equal(e.status, 404);

		const one = await anon.collection('posts').getOne(T.beta.id);
		assert.deepEqual(one, T.beta);
		assert.equal(one.collectionId, cols.posts.id);
		assert.equal(one.collectionName, 'posts');
		await rejects(anon.collection('posts').getOne('zzzzzzzzzzzzzzz'), 404);
		await rejects(anon.collection('nosuchcollection').getOne(T.beta.id), 404, 'Missing collection context.');
		await rejects(anon.collection('nosuchcollection').getList(), 404, 'Missing collection context.');
		// By collection id as well as name.
		assert.equal((await anon.collection(cols.posts.id).getOne(T.beta.id)).title, 'beta');
	});

	// ---- sort ----

	test('sort: ASC, -DESC, +ASC, several keys, relation paths, JSON paths, @rowid, @random', async () => {
		const cases = [
			['title', ['Alpha', 'Epsilon 50%', 'Gamma ray', 'beta', 'delta_x']],
			['-title', ['delta_x', 'beta', 'Gamma ray', 'Epsilon 50%', 'Alpha']],
			['-views', ['delta_x', 'Alpha', 'beta', 'Gamma ray', 'Epsilon 50%']],
			['+views', ['Epsilon 50%', 'Gamma ray', 'beta', 'Alpha', 'delta_x']],
			['-active,title', ['Alpha', 'Epsilon 50%', 'Gamma ray', 'beta', 'delta_x']],
			['active,-views', ['delta_x', 'beta', 'Alpha', 'Gamma ray', 'Epsilon 50%']],
			['author.name,title', ['Gamma ray', 'Alpha', 'delta_x', 'beta', 'Epsilon 50%']],
			['-meta.n,title', ['delta_x', 'beta', 'Alpha', 'Epsilon 50%', 'Gamma ray']],
			['-@rowid', ['Epsilon 50%', 'delta_x', 'Gamma ray', 'beta', 'Alpha']],
			['@rowid', ALL],
			['published', ['Gamma ray', 'Epsilon 50%', 'Alpha', 'beta', 'delta_x']],
			['title:lower', ['Alpha', 'beta', 'delta_x', 'Epsilon 50%', 'Gamma ray']],
		];
		for (const [sort, want] of cases) {
			const l = await anon.collection('posts').getList(1, 10, { sort });
			assert.deepEqual(titles(l.items), want, `sort=${sort}`);
		}
		const r = await anon.collection('posts').getList(1, 10, { sort: '@random' });
		assert.deepEqual(titles(r.items).sort(), [...ALL].sort());
		// Sort with a filter and paging together.
		const l = await anon.collection('posts').getList(2, 2, { sort: '-views', filter: 'views >= 0' });
		assert.deepEqual(titles(l.items), ['beta', 'Gamma ray']);
		assert.equal(l.totalItems, 4);
		// Bad sort keys are 400.
		for (const sort of ['nosuchfield', "'title'", '1', '@nope', 'title;views']) {
			await rejects(anon.collection('posts').getList(1, 10, { sort }), 400, undefined);
		}
	});

	// ---- filter ----

	test('filter: every operator gives the expected result set', async () => {
		const cases = [
			['views = 10', ['Alpha']],
			['views != 10', ['beta', 'Gamma ray', 'delta_x', 'Epsilon 50%']],
			['views > 5', ['Alpha', 'delta_x']],
			['views >= 5', ['Alpha', 'beta', 'delta_x']],
			['views < 0', ['Epsilon 50%']],
			['views <= 0', ['Gamma ray', 'Epsilon 50%']],
			['views = -3.5', ['Epsilon 50%']],
			["title ~ 'alp'", ['Alpha']],
			["title ~ 'A'", ['Alpha', 'beta', 'Gamma ray', 'delta_x']],
			["title !~ 'a'", ['Epsilon 50%']],
			["title ~ 'a_r'", []],
			["title ~ 'a_x'", ['delta_x']],
			["title ~ 'Gam%ray'", ['Gamma ray']],
			["title ~ 'eps%'", ['Epsilon 50%']],
			['title = "beta"', ['beta']],
			["title = 'BETA'", []],
			['views ?= 10', ['Alpha']],
			['views ?!= 10', ['beta', 'Gamma ray', 'delta_x', 'Epsilon 50%']],
			['views ?> 50', ['delta_x']],
			['views ?>= 10', ['Alpha', 'delta_x']],
			['views ?< 0', ['Epsilon 50%']],
			['views ?<= 0', ['Gamma ray', 'Epsilon 50%']],
			["title ?~ 'ALPHA'", ['Alpha']],
			["title ?!~ 'a'", ['Epsilon 50%']],
			["status = ''", ['delta_x']],
			['status = null', ['delta_x']],
			["status != ''", ['Alpha', 'beta', 'Gamma ray', 'Epsilon 50%']],
			["status != 'published'", ['beta', 'Gamma ray', 'delta_x']],
			["author = ''", ['Gamma ray']],
			['active = true', ['Alpha', 'Gamma ray', 'Epsilon 50%']],
			['active = false', ['beta', 'delta_x']],
			['active > false', ['Alpha', 'Gamma ray', 'Epsilon 50%']],
			["published >= '2024-01-10 10:00:00.000Z'", ['Alpha', 'beta', 'delta_x']],
			["published < '2024-01-01' && published != ''", ['Epsilon 50%']],
			["tags ~ 'c'", ['delta_x']],
			["tags:each ?= 'b'", ['Alpha', 'beta']],
			["tags:each = 'a'", ['Epsilon 50%']],
			['tags:length > 1', ['Alpha', 'delta_x']],
			['tags:length = 0', ['Gamma ray']],
			["editors.name ?= 'bob'", ['Alpha', 'delta_x']],
			["editors.name = 'ada'", ['beta']],
			["editors.name ?!= 'ada'", ['Alpha', 'Gamma ray', 'delta_x', 'Epsilon 50%']],
			[`editors.id ?= '${'x'.repeat(15)}'`, []],
			["author.name = 'ada'", ['Alpha', 'delta_x']],
			["author.name != 'ada'", ['beta', 'Gamma ray', 'Epsilon 50%']],
			["comments_via_post.message ?~ 'sec'", ['Alpha']],
			["comments_via_post.id ?!= ''", ['Alpha', 'beta']],
			['meta.n > 1', ['beta', 'delta_x']],
			["meta.k = 'y'", ['delta_x']],
			['meta.1 = 2', ['Epsilon 50%']],
			['views > 1 && active = true', ['Alpha']],
			['views = 5 || views = 100 && active = true', ['beta']],
			['(views = 5 || views = 100) && active = false', ['beta', 'delta_x']],
			['views > 5 // a comment\n', ['Alpha', 'delta_x']],
			['\tviews>5\n&&\nactive=true ', ['Alpha']],
			['created <= @now && created > @yesterday', ALL],
			["strftime('%Y', published) = '2024'", ['Alpha', 'beta']],
			[`id = '${'z'.repeat(15)}'`, []],
			["title:lower = 'gamma ray'", ['Gamma ray']],
		];
		for (const [filter, want] of cases) {
			let l;
			try {
				l = await anon.collection('posts').getList(1, 50, { filter });
			} catch (e) {
				assert.fail(`filter ${JSON.stringify(filter)}: ${e.status} ${JSON.stringify(e.response)}`);
			}
			assert.deepEqual(titles(l.items), want, `filter ${JSON.stringify(filter)}`);
			assert.equal(l.totalItems, want.length, `totalItems for ${JSON.stringify(filter)}`);
		}
		// An empty filter is no filter.
		assert.equal((await anon.collection('posts').getList(1, 50, { filter: '' })).totalItems, 5);
	});

	test('filter: syntax errors and unknown fields are 400 with empty data', async () => {
		for (const filter of [
			'views',
			'= 5',
			'views = ',
			'views = 5 &&',
			'views = 5 = 6',
			'(views = 5',
			'views = 5)',
			'()',
			'nosuchfield = 1',
			"title = 'unterminated",
			'views =! 5',
			'views & 5',
			'   ',
			'views = 1.2.3',
			'views = 5\r',
			'nosuchfn(1) = 1',
			'title:nosuchmod = 1',
			'author.nosuch = 1',
		]) {
			const e = await rejects(anon.collection('posts').getList(1, 10, { filter }), 400);
			assert.deepEqual(e.response.data, {}, `filter ${JSON.stringify(filter)}`);
		}
	});

	test('pb.filter() binding round-trips quotes, newlines, backslashes, unicode and other types', async () => {
		const oc = pb.collection('open');
		const strings = [
			`it's "quoted"`,
			'line1\nline2',
			'tab\there\r\n',
			'unicode ✓ 日本語 🎉 é',
			'back\\slash \\n not a newline',
			"' OR 1=1 --",
			'"; DROP TABLE open; --',
			'%_wild',
			'\u0000nul',
			'{:t} placeholder text',
		];
		const made = [];
		for (const s of strings) made.push(await oc.create({ title: s, views: made.length }));
		const wrong = []; // every mismatch, so one bad case does not hide the others
		for (const [i, s] of strings.entries()) {
			assert.equal(made[i].title, s, 'stored as sent');
			for (const expr of ['title = {:t}', 'title ~ {:t} && views = {:v}', 'views = {:v} && title != {:t}']) {
				const filter = pb.filter(expr, { t: s, v: i });
				const l = await anon.collection('open').getList(1, 50, { filter });
				const want = expr.includes('!=') ? [] : [made[i].id];
				const got = l.items.map((r) => r.id);
				if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`filter ${JSON.stringify(filter)}: got ${got.length} items, want ${want.length}`);
			}
		}
		assert.deepEqual(wrong, []);
		// Numbers, booleans, null, dates.
		const d = await oc.create({ title: 'typed', views: 42.5, flag: true, when: '2026-03-04 09:15:02.123Z' });
		const l = await anon.collection('open').getList(1, 50, {
			filter: pb.filter('views = {:n} && flag = {:b} && when = {:d} && tags:length = 0 && title != {:nil}', {
				n: 42.5,
				b: true,
				d: new Date('2026-03-04T09:15:02.123Z'),
				nil: null,
			}),
		});
		assert.deepEqual(
			l.items.map((r) => r.id),
			[d.id],
		);
		// Raw escapes in a hand-written literal decode like JSON escapes.
		const u = await anon.collection('open').getList(1, 50, { filter: String.raw`title = "unicode \u2713 \u65e5\u672c\u8a9e \ud83c\udf89 \u00e9"` });
		assert.deepEqual(
			u.items.map((r) => r.id),
			[made[3].id],
		);
		const q = await anon.collection('open').getList(1, 50, { filter: String.raw`title = 'it\'s "quoted"'` });
		assert.deepEqual(
			q.items.map((r) => r.id),
			[made[0].id],
		);
		const nl = await anon.collection('open').getList(1, 50, { filter: String.raw`title = "line1\nline2"` });
		assert.deepEqual(
			nl.items.map((r) => r.id),
			[made[1].id],
		);
	});

	// ---- create / update / delete ----

	test('create answers 200 with the record; update applies modifiers; delete answers 204', async () => {
		const oc = anon.collection('open');
		const statuses = recordStatuses(anon);
		try {
			const r = await oc.create({ title: 'mod', views: 1, tags: ['b'] });
			assert.match(r.id, ID_RE);
			assert.equal(r.collectionId, cols.open.id);
			assert.equal(r.collectionName, 'open');
			assert.deepEqual(statuses, [200]);
			const steps = [
				[{ 'views+': 5 }, { views: 6, tags: ['b'] }],
				[{ 'views-': 2 }, { views: 4, tags: ['b'] }],
				[{ 'tags+': 'c' }, { views: 4, tags: ['b', 'c'] }],
				[{ '+tags': ['a'] }, { views: 4, tags: ['a', 'b', 'c'] }],
				[{ 'tags-': ['b'] }, { views: 4, tags: ['a', 'c'] }],
				[{ 'tags+': ['a', 'd'] }, { views: 4, tags: ['a', 'c', 'd'] }],
				[{ views: 10, 'views+': 5 }, { views: 15, tags: ['a', 'c', 'd'] }],
				[{ 'views-': 0.5, 'tags-': 'zzz' }, { views: 14.5, tags: ['a', 'c', 'd'] }],
				[{ title: 'renamed' }, { views: 14.5, tags: ['a', 'c', 'd'] }],
			];
			for (const [body, want] of steps) {
				const u = await oc.update(r.id, body);
				assert.deepEqual({ views: u.views, tags: u.tags }, want, `update ${JSON.stringify(body)}`);
				assert.deepEqual(await oc.getOne(r.id), u);
			}
			assert.equal((await oc.getOne(r.id)).title, 'renamed');
			statuses.length = 0;
			assert.equal(await oc.delete(r.id), true);
			assert.deepEqual(statuses, [204]);
			await rejects(oc.getOne(r.id), 404);
			await rejects(oc.update(r.id, { title: 'x' }), 404);
			await rejects(oc.delete(r.id), 404);
		} finally {
			anon.afterSend = undefined;
		}
	});

	test('generated ids: the default pattern leads with the creation time; other patterns are random', async () => {
		const b36 = (s) => [...s].reduce((t, c) => t * 36 + parseInt(c, 36), 0);
		const EPOCH = Date.UTC(2020, 0, 1);
		const made = [];
		for (let i = 0; i < 5; i++) {
			const t0 = Date.now();
			const r = await pb.collection('open').create({ title: `t${i}` });
			const t1 = Date.now();
			assert.match(r.id, ID_RE);
			const at = EPOCH + b36(r.id.slice(0, 8));
			assert.ok(at >= t0 - 1 && at <= t1 + 1, `${r.id} encodes ${at}, made between ${t0} and ${t1}`);
			made.push(r);
			await new Promise((res) => setTimeout(res, 3));
		}
		const ids = made.map((r) => r.id);
		assert.deepEqual([...ids].sort(), ids, 'ids made one after the other sort in creation order');
		assert.equal(new Set(ids.map((id) => id.slice(8))).size, ids.length);
		await pb.collections.create({
			name: 'custom_ids',
			type: 'base',
			createRule: '',
			fields: [
				{ name: 'id', type: 'text', primaryKey: true, required: true, system: true, min: 20, max: 20, pattern: '^[a-z]+$', autogeneratePattern: '[a-z]{20}' },
				{ name: 'title', type: 'text' },
			],
		});
		const custom = [];
		for (let i = 0; i < 4; i++) custom.push((await pb.collection('custom_ids').create({ title: `c${i}` })).id);
		for (const id of custom) assert.match(id, /^[a-z]{20}$/);
		assert.equal(new Set(custom.map((id) => id.slice(0, 8))).size, custom.length, 'no shared time prefix');
		await pb.collections.delete('custom_ids');
		for (const r of made) await pb.collection('open').delete(r.id);
	});

	test('null rules are 403 "Only superusers can perform this action." for guests; superusers pass', async () => {
		const msg = 'Only superusers can perform this action.';
		const sc = anon.collection('secretive');
		await rejects(sc.getList(), 403, msg);
		await rejects(sc.getFullList(), 403, msg);
		await rejects(sc.getOne(secret.id), 403, msg);
		await rejects(sc.create({ name: 'x' }), 403, msg);
		await rejects(sc.update(secret.id, { name: 'x' }), 403, msg);
		await rejects(sc.delete(secret.id), 403, msg);
		await rejects(anon.collection('posts').create({ title: 'x' }), 403, msg);
		await rejects(anon.collection('posts').update(T.beta.id, { title: 'x' }), 403, msg);
		await rejects(anon.collection('posts').delete(T.beta.id), 403, msg);
		await rejects(anon.collection('_superusers').getList(), 403, msg);
		assert.equal((await pb.collection('secretive').getOne(secret.id)).name, 'hidden one');
		assert.equal((await pb.collection('secretive').getList()).totalItems, 1);
		assert.equal((await pb.collection('posts').getList()).totalItems, 5, 'nothing was written');
	});

	test('rule expressions: list filters silently, view/update/delete hide with 404, create fails with 400', async () => {
		await pb.collections.create({
			name: 'ruled',
			type: 'base',
			listRule: 'visible = true',
			viewRule: 'visible = true',
			createRule: "title != 'forbidden'",
			updateRule: 'visible = true',
			deleteRule: 'visible = true',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'visible', type: 'bool' },
			],
		});
		const rc = anon.collection('ruled');
		const v = await rc.create({ title: 'shown', visible: true });
		const h = await rc.create({ title: 'hidden', visible: false });
		const e = await rejects(rc.create({ title: 'forbidden', visible: true }), 400, 'Failed to create record.');
		assert.deepEqual(e.response.data, {});
		const l = await rc.getList();
		assert.deepEqual(titles(l.items), ['shown']);
		assert.equal(l.totalItems, 1);
		assert.equal((await rc.getOne(v.id)).title, 'shown');
		await rejects(rc.getOne(h.id), 404);
		await rejects(rc.update(h.id, { title: 'x' }), 404);
		await rejects(rc.delete(h.id), 404);
		assert.equal((await pb.collection('ruled').getOne(h.id)).title, 'hidden', 'superuser bypasses rules');
		assert.equal((await pb.collection('ruled').getList()).totalItems, 2);
	});

	// ---- expand ----

	test('expand: single, multiple, nested, back-relation, forbidden and unknown paths', async () => {
		const a = await anon.collection('posts').getOne(T.Alpha.id, { expand: 'author,editors' });
		assert.equal(a.expand.author.name, 'ada');
		assert.equal(a.expand.author.id, P.ada.id);
		assert.equal(a.expand.author.collectionName, 'people');
		assert.equal(a.expand.author.collectionId, cols.people.id);
		assert.deepEqual(
			a.expand.editors.map((p) => p.name),
			['bob', 'cyd'],
		);
		assert.equal(a.author, P.ada.id, 'the relation value itself is unchanged');

		const back = await anon.collection('posts').getOne(T.Alpha.id, { expand: 'comments_via_post' });
		assert.deepEqual(back.expand.comments_via_post.map((c) => c.message).sort(), ['first!', 'second']);

		const nested = await anon.collection('comments').getList(1, 10, { expand: 'post.author,author', sort: '@rowid' });
		const c1 = nested.items[0];
		assert.equal(c1.message, 'first!');
		assert.equal(c1.expand.author.name, 'bob');
		assert.equal(c1.expand.post.title, 'Alpha');
		assert.equal(c1.expand.post.expand.author.name, 'ada');
		assert.equal(nested.items[2].expand.post.expand.author.name, 'bob');

		// Nested through a back-relation.
		const deep = await anon.collection('posts').getOne(T.Alpha.id, { expand: 'comments_via_post.author' });
		assert.deepEqual(deep.expand.comments_via_post.map((c) => c.expand.author.name).sort(), ['bob', 'cyd']);

		// Forbidden target (viewRule null): silently omitted for guests, shown to superusers.
		const eg = await anon.collection('posts').getOne(T['Epsilon 50%'].id, { expand: 'owner,author' });
		assert.equal(eg.expand.author.name, 'cyd');
		assert.ok(!('owner' in eg.expand), JSON.stringify(eg.expand));
		const es = await pb.collection('posts').getOne(T['Epsilon 50%'].id, { expand: 'owner' });
		assert.equal(es.expand.owner.name, 'hidden one');

		// Empty relation: no key for it. Unknown and non-relation paths: no error, no expand.
		const g = await anon.collection('posts').getOne(T['Gamma ray'].id, { expand: 'author,editors' });
		assert.ok(!g.expand || (!('author' in g.expand) && !('editors' in g.expand)), JSON.stringify(g.expand));
		for (const expand of ['nosuch', 'title', 'nosuch.author', 'author(', '..']) {
			const x = await anon.collection('posts').getOne(T.beta.id, { expand });
			assert.equal(x.expand, undefined, `expand=${expand}: ${JSON.stringify(x.expand)}`);
		}
		// One failing entry does not prevent the others.
		const mix = await anon.collection('posts').getOne(T.beta.id, { expand: 'nosuch,author,owner' });
		assert.equal(mix.expand.author.name, 'bob');
		// No expand requested: no key.
		assert.equal((await anon.collection('posts').getOne(T.Alpha.id)).expand, undefined);
		// Expand does not change filtering or counting.
		const l = await anon.collection('posts').getList(1, 2, { expand: 'editors' });
		assert.equal(l.totalItems, 5);
	});

	test('expand: relation ids whose records are gone are skipped', async () => {
		await pb.collections.create({
			name: 'dangling',
			type: 'base',
			listRule: '',
			viewRule: '',
			fields: [
				{ name: 'one', type: 'relation', collectionId: cols.people.id, maxSelect: 1 },
				{ name: 'many', type: 'relation', collectionId: cols.people.id, maxSelect: 5 },
			],
		});
		const d = await pb.collection('dangling').create({ one: P.ada.id, many: [P.bob.id, P.cyd.id] });
		// Point the relations at ids that do not exist, behind the server's back.
		await sqlite(
			srv.db,
			`UPDATE dangling SET one = 'missing00000001', many = '["missing00000002","${P.cyd.id}"]' WHERE id = '${d.id}'`,
		);
		const r = await anon.collection('dangling').getOne(d.id, { expand: 'one,many' });
		assert.equal(r.one, 'missing00000001');
		assert.deepEqual(r.many, ['missing00000002', P.cyd.id]);
		assert.ok(!r.expand || !('one' in r.expand), JSON.stringify(r.expand));
		assert.deepEqual(
			r.expand.many.map((p) => p.name),
			['cyd'],
		);
	});

	// ---- fields ----

	test('fields: top-level, per list item, *, nested expand, :excerpt', async () => {
		const a = await anon.collection('posts').getOne(T.Alpha.id, { fields: 'id,title' });
		assert.deepEqual(a, { id: T.Alpha.id, title: 'Alpha' });
		const ws = await anon.collection('posts').getOne(T.Alpha.id, { fields: ' title , nosuch ' });
		assert.deepEqual(ws, { title: 'Alpha' });

		const l = await anon.collection('posts').getList(1, 2, { fields: 'title' });
		assert.deepEqual(l, { items: [{ title: 'Alpha' }, { title: 'beta' }], page: 1, perPage: 2, totalItems: 5, totalPages: 3 });

		const star = await anon.collection('posts').getOne(T.Alpha.id, { expand: 'author', fields: '*,expand.author.name' });
		const { expand, ...rest } = star;
		assert.deepEqual(expand, { author: { name: 'ada' } });
		assert.deepEqual(rest, T.Alpha);

		const back = await anon.collection('posts').getOne(T.Alpha.id, {
			expand: 'comments_via_post',
			fields: 'title,expand.comments_via_post.message',
		});
		assert.equal(back.title, 'Alpha');
		assert.deepEqual(Object.keys(back).sort(), ['expand', 'title']);
		assert.deepEqual(back.expand.comments_via_post.map((c) => Object.keys(c)), [['message'], ['message']]);

		const nested = await anon.collection('comments').getOne(C.hello.id, {
			expand: 'post.author',
			fields: 'id,expand.post.expand.author.name',
		});
		assert.deepEqual(nested, { id: C.hello.id, expand: { post: { expand: { author: { name: 'bob' } } } } });

		const ex = async (fields) => (await anon.collection('posts').getOne(T.Alpha.id, { fields })).body;
		assert.equal(await ex('body:excerpt(100)'), 'Hello big world Second');
		assert.equal(await ex('body:excerpt(9,true)'), 'Hello big...');
		assert.equal(await ex('body:excerpt(5)'), 'Hello');
		assert.equal(await ex('body:excerpt(100,true)'), 'Hello big world Second');
		const v = await anon.collection('posts').getOne(T.Alpha.id, { fields: 'views:excerpt(1),title:excerpt(3,true)' });
		assert.deepEqual(v, { views: 10, title: 'Alp...' });
		const le = await anon.collection('posts').getList(1, 1, { fields: 'body:excerpt(5,true)' });
		assert.deepEqual(le.items, [{ body: 'Hello...' }]);
		for (const fields of ['body:excerpt(0)', 'body:excerpt(-1)', 'body:excerpt(x)', 'body:nosuchmod(1)']) {
			await rejects(anon.collection('posts').getOne(T.Alpha.id, { fields }), 400);
		}
	});

	// ---- settings and batch ----

	test('settings: get, partial patch keeps the rest, guests get 401', async () => {
		const s = await pb.settings.getAll();
		assert.deepEqual(s.batch, { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 });
		assert.equal(s.rateLimits.enabled, false);
		assert.equal(typeof s.meta.appName, 'string');
		const u = await pb.settings.update({ meta: { appName: 'hearth-test' } });
		assert.equal(u.meta.appName, 'hearth-test');
		assert.equal(u.meta.appURL, s.meta.appURL, 'other meta keys keep their values');
		assert.deepEqual(u.batch, s.batch);
		assert.deepEqual(u.rateLimits, s.rateLimits);
		const again = await pb.settings.getAll();
		assert.deepEqual(again, u);
		await rejects(anon.settings.getAll(), 401);
		await rejects(anon.settings.update({ meta: { appName: 'pwned' } }), 401);
		assert.equal((await pb.settings.getAll()).meta.appName, 'hearth-test');
	});

	test('batch: 403 while disabled; create/update/upsert/delete in one transaction; a failing item rolls back everything', async () => {
		await pb.collections.create({
			name: 'batched',
			type: 'base',
			listRule: '',
			viewRule: '',
			createRule: '',
			updateRule: '',
			deleteRule: '',
			fields: [
				{ name: 'title', type: 'text', required: true },
				{ name: 'n', type: 'number' },
				{ name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
			],
		});
		const bc = pb.collection('batched');
		const x = await bc.create({ title: 'x', n: 1 });
		const y = await bc.create({ title: 'y', n: 2 });

		const off = pb.createBatch();
		off.collection('batched').create({ title: 'never' });
		await rejects(off.send(), 403, 'Batch requests are not allowed.');
		const offGuest = anon.createBatch();
		offGuest.collection('batched').create({ title: 'never' });
		await rejects(offGuest.send(), 403, 'Batch requests are not allowed.');

		const s = await pb.settings.update({ batch: { enabled: true, maxRequests: 50 } });
		assert.equal(s.batch.enabled, true);
		assert.equal(s.batch.maxRequests, 50);

		const b = anon.createBatch();
		b.collection('batched').create({ title: 'new one', n: 3 });
		b.collection('batched').update(x.id, { 'n+': 10, 'tags+': 'a' });
		b.collection('batched').upsert({ id: 'upsertnew000001', title: 'upserted' });
		b.collection('batched').upsert({ id: y.id, title: 'y2' });
		b.collection('batched').delete(x.id);
		const res = await b.send();
		assert.equal(res.length, 5);
		assert.deepEqual(
			res.map((r) => r.status),
			[200, 200, 200, 200, 204],
		);
		assert.deepEqual(Object.keys(res[0]).sort(), ['body', 'status']);
		assert.equal(res[0].body.title, 'new one');
		assert.equal(res[0].body.collectionName, 'batched');
		assert.match(res[0].body.id, ID_RE);
		assert.equal(res[1].body.n, 11);
		assert.deepEqual(res[1].body.tags, ['a']);
		assert.equal(res[2].body.id, 'upsertnew000001');
		assert.equal(res[3].body.title, 'y2');
		assert.equal(res[3].body.n, 2);
		assert.equal(res[4].body, null);
		const after1 = await bc.getFullList({ sort: '@rowid' });
		assert.deepEqual(
			after1.map((r) => [r.title, r.n]),
			[
				['y2', 2],
				['new one', 3],
				['upserted', 0],
			],
		);

		// A failing item: nothing of the batch is written.
		const bad = anon.createBatch();
		bad.collection('batched').create({ title: 'should vanish' });
		bad.collection('batched').update(y.id, { n: 99 });
		bad.collection('batched').delete(res[0].body.id);
		bad.collection('batched').create({ title: 'bad tags', tags: ['zzz'] });
		bad.collection('batched').create({ title: 'after the failure' });
		const e = await rejects(bad.send(), 400, 'Batch transaction failed.');
		const item = e.response.data.requests['3'];
		assert.equal(item.code, 'batch_request_failed', JSON.stringify(e.response));
		assert.equal(item.message, 'Batch request failed.');
		assert.equal(item.response.status, 400);
		assert.equal(item.response.message, 'Failed to create record.');
		assert.equal(item.response.data.tags.code, 'validation_invalid_value');
		assert.deepEqual(Object.keys(e.response.data.requests), ['3']);
		assert.deepEqual(await bc.getFullList({ sort: '@rowid' }), after1, 'nothing written');

		// Failing sub-requests of other kinds also roll back.
		for (const mk of [
			(bb) => bb.collection('batched').update('zzzzzzzzzzzzzzz', { n: 1 }),
			(bb) => bb.collection('secretive').create({ name: 'x' }),
			(bb) => bb.collection('nosuchcollection').create({ title: 'x' }),
			(bb) => bb.collection('batched').create({}),
		]) {
			const bb = anon.createBatch();
			bb.collection('batched').create({ title: 'vanishing' });
			mk(bb);
			const err = await rejects(bb.send(), 400, 'Batch transaction failed.');
			assert.equal(err.response.data.requests['1'].code, 'batch_request_failed');
		}
		assert.deepEqual(await bc.getFullList({ sort: '@rowid' }), after1, 'nothing written');

		// Too many requests.
		await pb.settings.update({ batch: { enabled: true, maxRequests: 2 } });
		const many = anon.createBatch();
		for (let i = 0; i < 3; i++) many.collection('batched').create({ title: `m${i}` });
		const em = await rejects(many.send(), 400, 'Invalid batch request data.');
		assert.equal(em.response.data.requests.code, 'validation_length_too_long');
		assert.deepEqual(await bc.getFullList({ sort: '@rowid' }), after1, 'nothing written');
		await pb.settings.update({ batch: { enabled: false } });
		const b2 = anon.createBatch();
		b2.collection('batched').create({ title: 'never' });
		await rejects(b2.send(), 403, 'Batch requests are not allowed.');
	});

	test('superuser raw list of a collection with a token in the Authorization header', async () => {
		const r = await api(srv, 'GET', '/api/collections/secretive/records', { token: pb.authStore.token });
		assert.equal(r.status, 200);
		assert.equal(r.json.items[0].name, 'hidden one');
	});
});

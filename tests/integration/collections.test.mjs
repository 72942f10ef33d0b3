// collections.test.mjs - the collections API through the official SDK
// (DIALECT.md §3, §4, §13, §14): superuser login, creating collections with
// every field type, field validation codes, view collections, schema
// changes that keep data, unique indexes over duplicates, delete, import,
// truncate, relation clean-up and cascades.
//
// One server per describe block; each test works on its own collections so
// the tests stay independent of each other's data.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { api, sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, fieldCode, guest, recordStatuses, rejects } from './sdk.mjs';

// Bound every block: a hung server fails the block instead of the whole run.
const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID_RE = /^[a-z0-9]{15}$/;

const ID_FIELD = {
	autogeneratePattern: '[a-z0-9]{15}',
	help: '',
	hidden: false,
	id: 'text3208210256',
	max: 15,
	min: 15,
	name: 'id',
	pattern: '^[a-z0-9]+$',
	presentable: false,
	primaryKey: true,
	required: true,
	system: true,
	type: 'text',
};

const crc = (s) => zlib.crc32(s);

/** Starts a server with a superuser and an SDK client logged in. */
function serverHooks() {
	const ctx = {};
	before(async () => {
		ctx.srv = await startHearthData(['--workers', '2']);
		ctx.pb = await admin(ctx.srv);
	});
	after(async () => {
		if (ctx.srv) await ctx.srv.stop();
	});
	return ctx;
}

describe('superuser login', LIMIT, () => {
	const ctx = serverHooks();

	test('authWithPassword on _superusers gives a superuser auth store', async () => {
		const pb = guest(ctx.srv);
		const auth = await pb.collection('_superusers').authWithPassword(ctx.srv.email, ctx.srv.password);
		assert.equal(typeof auth.token, 'string');
		assert.equal(auth.token.split('.').length, 3);
		assert.equal(auth.record.collectionName, '_superusers');
		assert.equal(auth.record.collectionId, 'pbc_3142635823');
		assert.equal(auth.record.email, ctx.srv.email);
		assert.match(auth.record.id, ID_RE);
		assert.equal(auth.record.password, undefined);
		assert.equal(auth.record.tokenKey, undefined);
		assert.ok(pb.authStore.isValid);
		assert.ok(pb.authStore.isSuperuser);
		const [h, p] = auth.token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
		assert.deepEqual(h, { alg: 'HS256', typ: 'JWT' });
		assert.equal(p.type, 'auth');
		assert.equal(p.collectionId, 'pbc_3142635823');
		assert.equal(p.id, auth.record.id);
		assert.equal(p.refreshable, true);
		assert.ok(p.exp > Date.now() / 1000);
		// The token opens superuser-only endpoints.
		const list = await pb.collections.getFullList();
		assert.ok(list.some((c) => c.name === '_superusers' && c.id === 'pbc_3142635823' && c.system === true));
	});

	test('a wrong password or unknown identity is 400 "Failed to authenticate." with empty data', async () => {
		const pb = guest(ctx.srv);
		for (const [id, pw] of [
			[ctx.srv.email, 'wrong password'],
			['nobody@example.com', ctx.srv.password],
		]) {
			const e = await rejects(pb.collection('_superusers').authWithPassword(id, pw), 400, 'Failed to authenticate.');
			assert.deepEqual(e.response.data, {});
		}
		assert.equal(pb.authStore.isValid, false);
		assert.equal(pb.authStore.isSuperuser, false);
	});

	test('collection endpoints need a superuser: a guest gets 401', async () => {
		const pb = guest(ctx.srv);
		await rejects(pb.collections.getFullList(), 401, 'The request requires valid record authorization token.');
		await rejects(pb.collections.create({ name: 'nope', type: 'base' }), 401);
		await rejects(pb.collections.delete('_superusers'), 401);
	});
});

describe('creating collections and records with every field type', LIMIT, () => {
	const ctx = serverHooks();
	let authors;
	let kitchen;

	const kitchenFields = (authorsId) => [
		{ name: 'title', type: 'text', required: true, min: 2, max: 50, pattern: '^[A-Za-z ]+$' },
		{ name: 'n', type: 'number', min: -10, max: 100, onlyInt: true },
		{ name: 'ratio', type: 'number' },
		{ name: 'flag', type: 'bool' },
		{ name: 'mail', type: 'email', onlyDomains: ['example.com'] },
		{ name: 'site', type: 'url' },
		{ name: 'body', type: 'editor', maxSize: 2000 },
		{ name: 'when', type: 'date', min: '2020-01-01 00:00:00.000Z', max: '2030-01-01 00:00:00.000Z' },
		{ name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 },
		{ name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
		{ name: 'meta', type: 'json', maxSize: 1000 },
		{ name: 'author', type: 'relation', collectionId: authorsId, maxSelect: 1 },
		{ name: 'coauthors', type: 'relation', collectionId: authorsId, maxSelect: 5, cascadeDelete: true },
		{ name: 'created', type: 'autodate', onCreate: true },
		{ name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
	];

	before(async () => {
		authors = await ctx.pb.collections.create({
			name: 'authors',
			type: 'base',
			listRule: '',
			viewRule: '',
			fields: [{ name: 'name', type: 'text', required: true }],
		});
		kitchen = await ctx.pb.collections.create({
			name: 'kitchen',
			type: 'base',
			listRule: '',
			viewRule: '',
			createRule: '',
			updateRule: '',
			deleteRule: '',
			fields: kitchenFields(authors.id),
		});
	});

	test('the created collection has a generated id, the system id field first, and every field with its options', async () => {
		assert.equal(authors.id, `pbc_${crc('baseauthors')}`);
		assert.equal(kitchen.id, `pbc_${crc('basekitchen')}`);
		assert.equal(kitchen.name, 'kitchen');
		assert.equal(kitchen.type, 'base');
		assert.equal(kitchen.system, false);
		assert.deepEqual(kitchen.indexes, []);
		assert.match(kitchen.created, DATE_RE);
		assert.match(kitchen.updated, DATE_RE);
		assert.equal(kitchen.listRule, '');
		assert.deepEqual(kitchen.fields[0], ID_FIELD);
		const input = kitchenFields(authors.id);
		assert.deepEqual(
			kitchen.fields.map((f) => f.name),
			['id', ...input.map((f) => f.name)],
		);
		for (const [i, want] of input.entries()) {
			const got = kitchen.fields[i + 1];
			assert.equal(got.id, `${want.type}${crc(want.name)}`, `id of ${want.name}`);
			assert.equal(got.system, false);
			assert.equal(got.hidden, false);
			assert.equal(got.presentable, false);
			for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${want.name}.${k}`);
			// Field objects are flat maps with keys in sorted order (§3.1).
			assert.deepEqual(Object.keys(got), Object.keys(got).sort(), `${want.name} keys sorted`);
		}
		const title = kitchen.fields[1];
		assert.deepEqual(title, {
			autogeneratePattern: '',
			help: '',
			hidden: false,
			id: `text${crc('title')}`,
			max: 50,
			min: 2,
			name: 'title',
			pattern: '^[A-Za-z ]+$',
			presentable: false,
			primaryKey: false,
			required: true,
			system: false,
			type: 'text',
		});
		const created = kitchen.fields.find((f) => f.name === 'created');
		assert.deepEqual(created, {
			hidden: false,
			id: `autodate${crc('created')}`,
			name: 'created',
			onCreate: true,
			onUpdate: false,
			presentable: false,
			system: false,
			type: 'autodate',
		});
		const author = kitchen.fields.find((f) => f.name === 'author');
		assert.deepEqual(author, {
			cascadeDelete: false,
			collectionId: authors.id,
			help: '',
			hidden: false,
			id: `relation${crc('author')}`,
			maxSelect: 1,
			minSelect: 0,
			name: 'author',
			presentable: false,
			required: false,
			system: false,
			type: 'relation',
		});
		// View by name and by id give the same object.
		assert.deepEqual(await ctx.pb.collections.getOne('kitchen'), kitchen);
		assert.deepEqual(await ctx.pb.collections.getOne(kitchen.id), kitchen);
		const list = await ctx.pb.collections.getList(1, 100, { filter: "name = 'kitchen' || name = 'authors'", sort: 'name' });
		assert.deepEqual(
			list.items.map((c) => c.name),
			['authors', 'kitchen'],
		);
	});

	test('a record round-trips every field type with the documented normalisation', async () => {
		const a1 = await ctx.pb.collection('authors').create({ name: 'Ada' });
		const a2 = await ctx.pb.collection('authors').create({ name: 'Bob' });
		const statuses = recordStatuses(ctx.pb);
		const before = Date.now();
		const r = await ctx.pb.collection('kitchen').create({
			title: 'Hello World',
			n: '12',
			ratio: 0.25,
			flag: 'true',
			mail: 'ada@example.com',
			site: 'https://example.org/a?b=c',
			body: '<p>Hi <b>there</b></p>',
			when: '2026-03-04T09:15:02Z',
			status: 'published',
			tags: ['a', 'a', 'c'],
			meta: { nested: { list: [1, 'two', null, true] }, n: 1.5 },
			author: a1.id,
			coauthors: [a2.id, a1.id],
			created: '2001-01-01 00:00:00.000Z', // ignored
			unknownKey: 'ignored',
		});
		ctx.pb.afterSend = undefined;
		assert.deepEqual(statuses, [200], 'create answers 200');
		assert.match(r.id, ID_RE);
		assert.equal(r.collectionId, kitchen.id);
		assert.equal(r.collectionName, 'kitchen');
		assert.equal(r.title, 'Hello World');
		assert.equal(r.n, 12);
		assert.equal(r.ratio, 0.25);
		assert.equal(r.flag, true);
		assert.equal(r.mail, 'ada@example.com');
		assert.equal(r.site, 'https://example.org/a?b=c');
		assert.equal(r.body, '<p>Hi <b>there</b></p>');
		assert.equal(r.when, '2026-03-04 09:15:02.000Z');
		assert.equal(r.status, 'published');
		assert.deepEqual(r.tags, ['a', 'c']);
		assert.deepEqual(r.meta, { nested: { list: [1, 'two', null, true] }, n: 1.5 });
		assert.equal(r.author, a1.id);
		assert.deepEqual(r.coauthors, [a2.id, a1.id]);
		assert.equal(r.unknownKey, undefined);
		assert.match(r.created, DATE_RE);
		assert.equal(r.created, r.updated);
		assert.ok(Math.abs(Date.parse(r.created.replace(' ', 'T')) - before) < 60000, 'created is now, not the client value');
		assert.equal(r.expand, undefined);
		assert.deepEqual(
			Object.keys(r).sort(),
			[...kitchen.fields.map((f) => f.name), 'collectionId', 'collectionName'].sort(),
		);
		assert.deepEqual(await ctx.pb.collection('kitchen').getOne(r.id), r);

		// Zero values for everything unset.
		const z = await ctx.pb.collection('kitchen').create({ title: 'Zero' });
		assert.equal(z.n, 0);
		assert.equal(z.flag, false);
		assert.equal(z.mail, '');
		assert.equal(z.site, '');
		assert.equal(z.body, '');
		assert.equal(z.when, '');
		assert.equal(z.status, '');
		assert.deepEqual(z.tags, []);
		assert.equal(z.meta, null);
		assert.equal(z.author, '');
		assert.deepEqual(z.coauthors, []);

		// Single select keeps the last element of an array; a client id is kept.
		const s = await ctx.pb.collection('kitchen').create({ id: 'myownid00000001', title: 'Own', status: ['draft', 'published'] });
		assert.equal(s.id, 'myownid00000001');
		assert.equal(s.status, 'published');

		// updated moves on update, created does not.
		await new Promise((res) => setTimeout(res, 5));
		const u = await ctx.pb.collection('kitchen').update(z.id, { n: 7, updated: '2000-01-01 00:00:00.000Z' });
		assert.equal(u.n, 7);
		assert.equal(u.created, z.created);
		assert.ok(u.updated > z.updated, `updated ${u.updated} should be after ${z.updated}`);
	});

	test('each field type reports its validation code, and nothing is written', async () => {
		const kc = ctx.pb.collection('kitchen');
		const a = await ctx.pb.collection('authors').create({ name: 'Cyd' });
		const countBefore = (await kc.getList(1, 1)).totalItems;
		const cases = [
			[{}, 'title', 'validation_required'],
			[{ title: '' }, 'title', 'validation_required'],
			[{ title: 'x' }, 'title', 'validation_min_text_constraint', { min: 2 }],
			[{ title: 'y'.repeat(51) }, 'title', 'validation_max_text_constraint', { max: 50 }],
			[{ title: 'abc1' }, 'title', 'validation_invalid_format'],
			[{ title: 'Ok', n: 1.5 }, 'n', 'validation_only_int_constraint'],
			[{ title: 'Ok', n: 101 }, 'n', 'validation_max_number_constraint', { max: 100 }],
			[{ title: 'Ok', n: -11 }, 'n', 'validation_min_number_constraint', { min: -10 }],
			[{ title: 'Ok', mail: 'not an email' }, 'mail', 'validation_is_email'],
			[{ title: 'Ok', mail: 'a@other.org' }, 'mail', 'validation_email_domain_not_allowed'],
			[{ title: 'Ok', site: 'not a url' }, 'site', 'validation_invalid_url'],
			[{ title: 'Ok', body: 'x'.repeat(2001) }, 'body', 'validation_content_size_limit'],
			[{ title: 'Ok', when: '2019-05-05 00:00:00.000Z' }, 'when', 'validation_min_greater_equal_than_required'],
			[{ title: 'Ok', when: '2031-05-05 00:00:00.000Z' }, 'when', 'validation_max_less_equal_than_required'],
			[{ title: 'Ok', status: 'nope' }, 'status', 'validation_invalid_value'],
			[{ title: 'Ok', tags: ['a', 'zzz'] }, 'tags', 'validation_invalid_value'],
			[{ title: 'Ok', tags: ['a', 'b', 'c', 'd'] }, 'tags', 'validation_too_many_values'],
			[{ title: 'Ok', meta: { s: 'm'.repeat(1200) } }, 'meta', 'validation_json_size_limit'],
			[{ title: 'Ok', author: 'doesnotexist123' }, 'author', 'validation_missing_rel_records'],
			[{ title: 'Ok', coauthors: [a.id, 'doesnotexist123'] }, 'coauthors', 'validation_missing_rel_records'],
			[{ title: 'Ok', id: 'short' }, 'id', 'validation_min_text_constraint'],
		];
		for (const [body, key, code, params] of cases) {
			const e = await rejects(kc.create(body), 400, 'Failed to create record.');
			const item = fieldCode(e, key, code);
			if (params) assert.deepEqual(item.params, params, `${code} params`);
		}
		// Several failing fields are all reported.
		const e = await rejects(kc.create({ title: 'x', n: 1000, status: 'nope' }), 400);
		assert.deepEqual(Object.keys(e.response.data).sort(), ['n', 'status', 'title']);
		// Update failures use the update message and change nothing.
		const ok = await kc.create({ title: 'Valid', n: 3 });
		const ue = await rejects(kc.update(ok.id, { n: 1000, title: 'Changed' }), 400, 'Failed to update record.');
		fieldCode(ue, 'n', 'validation_max_number_constraint');
		assert.deepEqual(await kc.getOne(ok.id), ok);
		assert.equal((await kc.getList(1, 1)).totalItems, countBefore + 1, 'only the valid record was written');
	});

	test('a taken id and a unique index violation answer validation_not_unique', async () => {
		const kc = ctx.pb.collection('kitchen');
		await kc.create({ id: 'dupid0000000001', title: 'First' });
		const e = await rejects(kc.create({ id: 'dupid0000000001', title: 'Second' }), 400, 'Failed to create record.');
		fieldCode(e, 'id', 'validation_not_unique');
		assert.equal((await kc.getOne('dupid0000000001')).title, 'First');

		const c = await ctx.pb.collections.create({
			name: 'uniq',
			type: 'base',
			createRule: '',
			updateRule: '',
			fields: [
				{ name: 'slug', type: 'text' },
				{ name: 'email', type: 'email' },
			],
			indexes: ['CREATE UNIQUE INDEX `idx_uniq_slug` ON `uniq` (`slug`)'],
		});
		assert.deepEqual(c.indexes, ['CREATE UNIQUE INDEX `idx_uniq_slug` ON `uniq` (`slug`)']);
		const uc = ctx.pb.collection('uniq');
		const first = await uc.create({ slug: 'hello' });
		const e2 = await rejects(uc.create({ slug: 'hello' }), 400, 'Failed to create record.');
		fieldCode(e2, 'slug', 'validation_not_unique');
		const other = await uc.create({ slug: 'world' });
		const e3 = await rejects(uc.update(other.id, { slug: 'hello' }), 400, 'Failed to update record.');
		fieldCode(e3, 'slug', 'validation_not_unique');
		const all = await uc.getFullList({ sort: '@rowid' });
		assert.deepEqual(
			all.map((r) => [r.id, r.slug]),
			[
				[first.id, 'hello'],
				[other.id, 'world'],
			],
		);
	});

	test('deleting a referenced record cleans up relations, cascades, and a required reference blocks it', async () => {
		const ac = ctx.pb.collection('authors');
		const kc = ctx.pb.collection('kitchen');
		const x = await ac.create({ name: 'X' });
		const y = await ac.create({ name: 'Y' });
		const k1 = await kc.create({ title: 'One', author: x.id, coauthors: [x.id, y.id] });
		const k2 = await kc.create({ title: 'Two', author: y.id, coauthors: [y.id] });
		const k3 = await kc.create({ title: 'Three', author: y.id });
		const statuses = recordStatuses(ctx.pb);
		assert.equal(await ac.delete(y.id), true);
		ctx.pb.afterSend = undefined;
		assert.deepEqual(statuses, [204]);
		// k1: y removed from both relations; k2: coauthors became empty -> cascade; k3: author cleared.
		const k1b = await kc.getOne(k1.id);
		assert.equal(k1b.author, x.id);
		assert.deepEqual(k1b.coauthors, [x.id]);
		await rejects(kc.getOne(k2.id), 404);
		const k3b = await kc.getOne(k3.id);
		assert.equal(k3b.author, '');
		assert.deepEqual(k3b.coauthors, []);

		await ctx.pb.collections.create({
			name: 'notes',
			type: 'base',
			fields: [{ name: 'who', type: 'relation', collectionId: authors.id, maxSelect: 1, required: true }],
		});
		const z = await ac.create({ name: 'Z' });
		const n = await ctx.pb.collection('notes').create({ who: z.id });
		await rejects(
			ac.delete(z.id),
			400,
			'Failed to delete record. Make sure that the record is not part of a required relation reference.',
		);
		assert.equal((await ac.getOne(z.id)).name, 'Z');
		assert.equal((await ctx.pb.collection('notes').getOne(n.id)).who, z.id);
	});

	test('collection name and field name validation codes', async () => {
		const cases = [
			[{ name: '', type: 'base' }, 'name', 'validation_required'],
			[{ name: 'a'.repeat(256), type: 'base' }, 'name', 'validation_length_out_of_range'],
			[{ name: 'posts_via_x', type: 'base' }, 'name', 'validation_found_via'],
			[{ name: 'bad name', type: 'base' }, 'name', 'validation_match_invalid'],
			[{ name: 'KITCHEN', type: 'base' }, 'name', 'validation_collection_name_exists'],
			[{ name: kitchen.id, type: 'base' }, 'name', 'validation_collection_name_id_duplicate'],
			[{ name: '_collections', type: 'base' }, 'name', 'validation_collection_name_invalid'],
			[{ name: 'okname', type: 'weird' }, 'type', 'validation_in_invalid'],
			[{ name: 'okname', type: 'base', listRule: 'nosuchfield = 1' }, 'listRule', 'validation_invalid_rule'],
			[{ name: 'okname', type: 'base', viewRule: 'title = ' }, 'viewRule', 'validation_invalid_rule'],
			[{ name: 'okname', type: 'base', fields: [{ name: 'a', type: 'text' }, { name: 'A', type: 'text' }] }, 'fields.2.name', 'validation_duplicated_field_name'],
			[{ name: 'okname', type: 'base', fields: [{ name: 'bad name', type: 'text' }] }, 'fields.1.name', 'validation_match_invalid'],
			[{ name: 'okname', type: 'base', fields: [{ name: 'expand', type: 'text' }] }, 'fields.1.name', 'validation_not_in_invalid'],
			[{ name: 'okname', type: 'base', fields: [{ name: 'a_via_b', type: 'text' }] }, 'fields.1.name', 'validation_found_via'],
			[{ name: 'okname', type: 'base', fields: [{ name: '', type: 'text' }] }, 'fields.1.name', 'validation_required'],
		];
		for (const [body, key, code] of cases) {
			const e = await rejects(ctx.pb.collections.create(body), 400, 'Failed to create collection.');
			fieldCode(e, key, code);
		}
		const names = (await ctx.pb.collections.getFullList()).map((c) => c.name);
		assert.ok(!names.includes('okname'), `nothing created: ${names}`);
	});

	test('view collections: fields come from the query, records are read-only', async () => {
		const kc = ctx.pb.collection('kitchen');
		await kc.create({ title: 'Big View', n: 50 });
		const v = await ctx.pb.collections.create({
			name: 'bigkitchen',
			type: 'view',
			listRule: '',
			viewRule: '',
			viewQuery: 'SELECT id, title, n FROM kitchen WHERE n > 40',
		});
		assert.equal(v.type, 'view');
		assert.equal(v.viewQuery, 'SELECT id, title, n FROM kitchen WHERE n > 40');
		assert.deepEqual(
			v.fields.map((f) => f.name),
			['id', 'title', 'n'],
		);
		assert.equal(v.createRule, null);
		const rows = await guest(ctx.srv).collection('bigkitchen').getFullList();
		assert.deepEqual(
			rows.map((r) => [r.title, r.n, r.collectionName]),
			[['Big View', 50, 'bigkitchen']],
		);
		const one = await guest(ctx.srv).collection('bigkitchen').getOne(rows[0].id);
		assert.equal(one.title, 'Big View');
		// The view follows the table.
		await kc.create({ title: 'Bigger View', n: 60 });
		assert.equal((await ctx.pb.collection('bigkitchen').getList(1, 10)).totalItems, 2);
		// Writes are refused.
		await rejects(ctx.pb.collection('bigkitchen').create({ title: 'x' }), 400, 'Unsupported collection type.');
		await rejects(ctx.pb.collection('bigkitchen').update(rows[0].id, { title: 'x' }), 400, 'Unsupported collection type.');
		await rejects(ctx.pb.collection('bigkitchen').delete(rows[0].id), 400, 'Unsupported collection type.');
		// Invalid view definitions.
		await rejects(ctx.pb.collections.create({ name: 'badview1', type: 'view', viewQuery: 'SELECT nope FROM nowhere' }), 400);
		await rejects(ctx.pb.collections.create({ name: 'badview2', type: 'view', viewQuery: '' }), 400);
		await rejects(
			ctx.pb.collections.create({ name: 'badview3', type: 'view', createRule: '', viewQuery: 'SELECT id FROM kitchen' }),
			400,
		);
		await rejects(ctx.pb.collections.truncate('bigkitchen'), 400);
		const names = (await ctx.pb.collections.getFullList()).map((c) => c.name);
		assert.ok(!names.some((n) => n.startsWith('badview')));
	});
});

describe('changing collections keeps data', LIMIT, () => {
	const ctx = serverHooks();

	test('add, rename and remove fields; records keep their values', async () => {
		const pb = ctx.pb;
		let c = await pb.collections.create({
			name: 'evolve',
			type: 'base',
			fields: [
				{ name: 'a', type: 'text' },
				{ name: 'b', type: 'number' },
			],
		});
		const ec = pb.collection('evolve');
		const r1 = await ec.create({ a: 'one', b: 1 });
		const r2 = await ec.create({ a: 'two', b: 2 });

		c = await pb.collections.update('evolve', { fields: [...c.fields, { name: 'c', type: 'bool' }] });
		assert.deepEqual(
			c.fields.map((f) => f.name),
			['id', 'a', 'b', 'c'],
		);
		let rows = await ec.getFullList({ sort: '@rowid' });
		assert.deepEqual(
			rows.map((r) => [r.id, r.a, r.b, r.c]),
			[
				[r1.id, 'one', 1, false],
				[r2.id, 'two', 2, false],
			],
		);

		const aId = c.fields[1].id;
		c = await pb.collections.update('evolve', {
			fields: c.fields.map((f) => (f.name === 'a' ? { ...f, name: 'alpha' } : f)),
		});
		assert.equal(c.fields[1].name, 'alpha');
		assert.equal(c.fields[1].id, aId, 'renaming keeps the field id');
		rows = await ec.getFullList({ sort: '@rowid' });
		assert.deepEqual(
			rows.map((r) => [r.alpha, r.b, r.a]),
			[
				['one', 1, undefined],
				['two', 2, undefined],
			],
		);

		c = await pb.collections.update('evolve', { fields: c.fields.filter((f) => f.name !== 'b') });
		assert.deepEqual(
			c.fields.map((f) => f.name),
			['id', 'alpha', 'c'],
		);
		rows = await ec.getFullList({ sort: '@rowid' });
		assert.deepEqual(
			rows.map((r) => Object.keys(r).sort()),
			[
				['alpha', 'c', 'collectionId', 'collectionName', 'id'],
				['alpha', 'c', 'collectionId', 'collectionName', 'id'],
			],
		);
		assert.deepEqual(
			rows.map((r) => r.alpha),
			['one', 'two'],
		);
		const cols = await sqlite(ctx.srv.db, "SELECT name FROM pragma_table_info('evolve') ORDER BY name");
		assert.deepEqual(cols.trim().split('\n'), ['alpha', 'c', 'id']);
		// A filter on the removed field is now an error.
		await rejects(ec.getList(1, 10, { filter: 'b = 1' }), 400);
	});

	test('renaming a collection keeps id, records and relations; the old name is 404', async () => {
		const pb = ctx.pb;
		const c = await pb.collections.create({ name: 'oldname', type: 'base', listRule: '', fields: [{ name: 't', type: 'text' }] });
		const ref = await pb.collections.create({
			name: 'refs',
			type: 'base',
			fields: [{ name: 'to', type: 'relation', collectionId: c.id, maxSelect: 1 }],
		});
		const r = await pb.collection('oldname').create({ t: 'kept' });
		const rr = await pb.collection('refs').create({ to: r.id });
		const renamed = await pb.collections.update('oldname', { name: 'newname' });
		assert.equal(renamed.id, c.id);
		assert.equal(renamed.name, 'newname');
		const got = await pb.collection('newname').getOne(r.id);
		assert.equal(got.t, 'kept');
		assert.equal(got.collectionName, 'newname');
		assert.equal((await pb.collection(c.id).getOne(r.id)).t, 'kept');
		await rejects(pb.collection('oldname').getOne(r.id), 404);
		await rejects(pb.collection('oldname').getList(), 404, 'Missing collection context.');
		await rejects(pb.collections.getOne('oldname'), 404);
		const e = await pb.collection('refs').getOne(rr.id, { expand: 'to' });
		assert.equal(e.expand.to.t, 'kept');
		assert.equal(e.expand.to.collectionName, 'newname');
		assert.equal(ref.fields[1].collectionId, c.id);
		const tables = await sqlite(ctx.srv.db, "SELECT name FROM sqlite_master WHERE type='table' AND name IN ('oldname','newname')");
		assert.equal(tables.trim(), 'newname');
	});

	test('a unique index over duplicate values fails with 400 and changes nothing', async () => {
		const pb = ctx.pb;
		const c = await pb.collections.create({
			name: 'dups',
			type: 'base',
			fields: [
				{ name: 'slug', type: 'text' },
				{ name: 'n', type: 'number' },
			],
		});
		await pb.collection('dups').create({ slug: 'same', n: 1 });
		await pb.collection('dups').create({ slug: 'same', n: 2 });
		const schemaBefore = await sqlite(ctx.srv.db, "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'dups' ORDER BY name");
		const e = await rejects(
			pb.collections.update('dups', {
				name: 'dups_renamed',
				fields: [...c.fields, { name: 'extra', type: 'text' }],
				indexes: ['CREATE UNIQUE INDEX `idx_dups_slug` ON `dups` (`slug`)'],
			}),
			400,
		);
		assert.match(e.response.message, /^Failed to update collection\./);
		const after = await pb.collections.getOne(c.id);
		assert.deepEqual(after, c, 'collection unchanged');
		const rows = await pb.collection('dups').getFullList({ sort: 'n' });
		assert.deepEqual(
			rows.map((r) => [r.slug, r.n, r.extra]),
			[
				['same', 1, undefined],
				['same', 2, undefined],
			],
		);
		const schemaAfter = await sqlite(ctx.srv.db, "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'dups' ORDER BY name");
		assert.equal(schemaAfter, schemaBefore, 'table and indexes unchanged');
		await rejects(pb.collections.getOne('dups_renamed'), 404);

		// A plain index works, and a unique index over distinct values works and then holds.
		const ok = await pb.collections.update('dups', {
			indexes: ['CREATE INDEX `idx_dups_slug` ON `dups` (`slug`)', 'CREATE UNIQUE INDEX `idx_dups_n` ON `dups` (`n`)'],
		});
		assert.equal(ok.indexes.length, 2);
		const e2 = await rejects(pb.collection('dups').create({ slug: 'x', n: 2 }), 400);
		fieldCode(e2, 'n', 'validation_not_unique');
	});

	test('delete: 204, the table is gone, a referenced collection cannot be deleted', async () => {
		const pb = ctx.pb;
		const target = await pb.collections.create({ name: 'target', type: 'base', fields: [{ name: 't', type: 'text' }] });
		await pb.collections.create({
			name: 'pointer',
			type: 'base',
			fields: [{ name: 'p', type: 'relation', collectionId: target.id, maxSelect: 1 }],
		});
		const e = await rejects(pb.collections.delete('target'), 400);
		assert.match(e.response.message, /^Failed to delete collection/);
		assert.equal((await pb.collections.getOne('target')).id, target.id);

		await pb.collection('pointer').create({});
		const statuses = recordStatuses(pb);
		assert.equal(await pb.collections.delete('pointer'), true);
		pb.afterSend = undefined;
		assert.deepEqual(statuses, [204]);
		await rejects(pb.collections.getOne('pointer'), 404);
		await rejects(pb.collection('pointer').getList(), 404, 'Missing collection context.');
		assert.equal(await pb.collections.delete(target.id), true);
		const t = await sqlite(ctx.srv.db, "SELECT count(*) FROM sqlite_master WHERE tbl_name IN ('pointer','target')");
		assert.equal(t.trim(), '0');
		// System collections cannot be deleted.
		await rejects(pb.collections.delete('_superusers'), 400);
		await rejects(pb.collections.delete('no_such_collection'), 404);
	});

	test('truncate removes every record and keeps the collection', async () => {
		const pb = ctx.pb;
		await pb.collections.create({ name: 'trunc', type: 'base', fields: [{ name: 't', type: 'text' }] });
		for (let i = 0; i < 5; i++) await pb.collection('trunc').create({ t: `r${i}` });
		assert.equal((await pb.collection('trunc').getList()).totalItems, 5);
		const statuses = recordStatuses(pb);
		assert.equal(await pb.collections.truncate('trunc'), true);
		pb.afterSend = undefined;
		assert.deepEqual(statuses, [204]);
		const l = await pb.collection('trunc').getList();
		assert.equal(l.totalItems, 0);
		assert.deepEqual(l.items, []);
		assert.equal((await pb.collections.getOne('trunc')).name, 'trunc');
		const again = await pb.collection('trunc').create({ t: 'after' });
		assert.equal(again.t, 'after');
	});
});

describe('auth options merge with their current values', LIMIT, () => {
	const ctx = serverHooks();
	const stored = async (name) => JSON.parse(await sqlite(ctx.srv.db, `SELECT options FROM _collections WHERE name = '${name}'`));

	test('a partial option object on create keeps the defaults of its other keys', async () => {
		const pb = ctx.pb;
		const plain = await pb.collections.create({ name: 'plainauth', type: 'auth', fields: [] });
		assert.equal(plain.otp.length, 8);
		assert.ok(plain.otp.emailTemplate.subject && plain.otp.emailTemplate.body, JSON.stringify(plain.otp));
		const c = await pb.collections.create({ name: 'otpauth', type: 'auth', fields: [], otp: { enabled: true, duration: 300 } });
		assert.deepEqual(c.otp, { ...plain.otp, enabled: true, duration: 300 });
		assert.deepEqual(c.passwordAuth, plain.passwordAuth);
		const t = await pb.collections.create({ name: 'tokauth', type: 'auth', fields: [], authToken: { duration: 60 } });
		assert.deepEqual(t.authToken, { duration: 60 });
		assert.ok((await stored('tokauth')).authToken.secret.length >= 30, 'the default secret is kept');
	});

	test('an update changes only the keys it gives, nested objects included; secrets stay write-only', async () => {
		const pb = ctx.pb;
		const before = await pb.collections.create({ name: 'mergeauth', type: 'auth', fields: [], otp: { enabled: true, duration: 300 } });
		const secret = (await stored('mergeauth')).passwordResetToken.secret;
		let c = await pb.collections.update('mergeauth', { otp: { length: 6 } });
		assert.deepEqual(c.otp, { ...before.otp, length: 6 });
		c = await pb.collections.update('mergeauth', { otp: { emailTemplate: { subject: 'Code for {APP_NAME}' } } });
		assert.deepEqual(c.otp, { ...before.otp, length: 6, emailTemplate: { ...before.otp.emailTemplate, subject: 'Code for {APP_NAME}' } });
		c = await pb.collections.update('mergeauth', { passwordResetToken: { duration: 900 } });
		assert.deepEqual(c.passwordResetToken, { duration: 900 });
		assert.equal((await stored('mergeauth')).passwordResetToken.secret, secret);
		c = await pb.collections.update('mergeauth', { passwordResetToken: { secret: 'x'.repeat(40) } });
		assert.deepEqual(c.passwordResetToken, { duration: 900 });
		assert.equal((await stored('mergeauth')).passwordResetToken.secret, 'x'.repeat(40));
		c = await pb.collections.update('mergeauth', { passwordAuth: { identityFields: ['email'] }, otp: { enabled: false } });
		assert.deepEqual(c.passwordAuth, { ...before.passwordAuth, identityFields: ['email'] });
		assert.equal(c.otp.enabled, false);
		assert.equal(c.otp.length, 6);
		assert.deepEqual(await pb.collections.getOne('mergeauth'), c);
	});
});

describe('collections import', LIMIT, () => {
	const ctx = serverHooks();

	test('import creates and updates in one go; without deleteMissing unlisted fields stay', async () => {
		const pb = ctx.pb;
		const statuses = recordStatuses(pb);
		const ok = await pb.collections.import(
			[
				{ id: 'imp_one', name: 'imp1', type: 'base', listRule: '', fields: [{ name: 't', type: 'text' }] },
				{
					id: 'imp_two',
					name: 'imp2',
					type: 'base',
					fields: [{ name: 'ref', type: 'relation', collectionId: 'imp_one', maxSelect: 1 }],
				},
				{ name: 'imp3', type: 'view', viewQuery: 'SELECT id, t FROM imp1' },
			],
			false,
		);
		pb.afterSend = undefined;
		assert.equal(ok, true);
		assert.deepEqual(statuses, [204]);
		const c1 = await pb.collections.getOne('imp1');
		assert.equal(c1.id, 'imp_one');
		assert.deepEqual(
			c1.fields.map((f) => f.name),
			['id', 't'],
		);
		assert.equal((await pb.collections.getOne('imp_two')).fields[1].collectionId, 'imp_one');
		assert.equal((await pb.collections.getOne('imp3')).type, 'view');
		const r = await pb.collection('imp1').create({ t: 'data' });

		await pb.collections.import([{ id: 'imp_one', name: 'imp1', type: 'base', fields: [{ name: 'u', type: 'number' }] }], false);
		const c1b = await pb.collections.getOne('imp1');
		assert.deepEqual(c1b.fields.map((f) => f.name).sort(), ['id', 't', 'u']);
		const rb = await pb.collection('imp1').getOne(r.id);
		assert.equal(rb.t, 'data');
		assert.equal(rb.u, 0);
	});

	test('a failing import changes nothing', async () => {
		const pb = ctx.pb;
		const before = await pb.collections.getFullList({ sort: 'name' });
		const e = await rejects(
			pb.collections.import(
				[
					{ name: 'imp_new_ok', type: 'base', fields: [{ name: 't', type: 'text' }] },
					{ name: 'bad name!', type: 'base' },
				],
				false,
			),
			400,
			'Failed to import collections.',
		);
		assert.ok('collections' in e.response.data, JSON.stringify(e.response));
		assert.deepEqual(await pb.collections.getFullList({ sort: 'name' }), before);
		await rejects(pb.collections.import([], false), 400);
	});

	test('deleteMissing removes unlisted fields and collections', async () => {
		const pb = ctx.pb;
		const all = await pb.collections.getFullList();
		const keep = all
			.filter((c) => c.name !== 'imp2' && c.name !== 'imp3')
			.map((c) => (c.name === 'imp1' ? { ...c, fields: c.fields.filter((f) => f.name !== 'u') } : c));
		assert.equal(await pb.collections.import(keep, true), true);
		const names = (await pb.collections.getFullList()).map((c) => c.name).sort();
		assert.ok(!names.includes('imp2') && !names.includes('imp3'), names.join());
		assert.ok(names.includes('_superusers') && names.includes('imp1'));
		assert.deepEqual(
			(await pb.collections.getOne('imp1')).fields.map((f) => f.name),
			['id', 't'],
		);
		const rows = await pb.collection('imp1').getFullList();
		assert.deepEqual(
			rows.map((r) => r.t),
			['data'],
		);
		// The superuser still works (its collection was kept).
		const r = await api(ctx.srv, 'GET', '/api/collections', { token: pb.authStore.token });
		assert.equal(r.status, 200);
	});
});

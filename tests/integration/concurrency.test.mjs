// concurrency.test.mjs - two workers, many concurrent clients (DIALECT.md
// §8, §21: one writer, readers in parallel). No request may fail with a
// 5xx (an SQLITE_BUSY or a lock timeout surfacing as a 500 is a bug),
// counts must be exact, a write acknowledged on one connection must be
// visible on every other, modifiers must not lose updates, a unique index
// must let exactly one of many racing creates through, and a schema
// change must reach both workers at once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, startHearthData, superuserToken, UNDER_ASAN } from './lib.mjs';

// Bound every block: a hung server fails the block instead of the whole run.
const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

describe('concurrency with --workers 2', LIMIT, () => {
	let srv;
	let token;

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		token = await superuserToken(srv);
	});
	after(async () => {
		if (srv) await srv.stop();
	});

	const mk = async (body) => {
		const r = await api(srv, 'POST', '/api/collections', { token, body });
		assert.equal(r.status, 200, r.text);
		return r.json;
	};
	const pub = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };

	test('16 clients x 25 creates with reads in between: no 5xx, read-your-writes, exact count', async () => {
		await mk({ name: 'counter', type: 'base', ...pub, fields: [{ name: 'client', type: 'number' }, { name: 'seq', type: 'number' }] });
		const errors = [];
		const ids = [];
		const client = async (c) => {
			let lastTotal = -1;
			for (let i = 0; i < 25; i++) {
				const r = await api(srv, 'POST', '/api/collections/counter/records', { body: { client: c, seq: i } });
				if (r.status !== 200) {
					errors.push(`create ${c}/${i}: ${r.status} ${r.text.slice(0, 200)}`);
					continue;
				}
				ids.push(r.json.id);
				// Read-your-writes, from whatever connection/worker answers.
				const g = await api(srv, 'GET', `/api/collections/counter/records/${r.json.id}`);
				if (g.status !== 200) errors.push(`view own record ${c}/${i}: ${g.status} ${g.text.slice(0, 200)}`);
				const l = await api(srv, 'GET', `/api/collections/counter/records?perPage=1&filter=${encodeURIComponent(`client = ${c}`)}`);
				if (l.status !== 200) errors.push(`list ${c}/${i}: ${l.status} ${l.text.slice(0, 200)}`);
				else {
					if (l.json.totalItems !== i + 1) errors.push(`client ${c} sees ${l.json.totalItems} of its records after ${i + 1} creates`);
					const all = await api(srv, 'GET', '/api/collections/counter/records?perPage=1');
					if (all.status !== 200) errors.push(`list all: ${all.status}`);
					else if (all.json.totalItems < lastTotal) errors.push(`total went backwards for client ${c}: ${lastTotal} -> ${all.json.totalItems}`);
					else lastTotal = all.json.totalItems;
				}
			}
		};
		await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
		assert.deepEqual(errors, []);
		assert.equal(ids.length, 400);
		assert.equal(new Set(ids).size, 400, 'ids are unique');
		const l = await api(srv, 'GET', '/api/collections/counter/records?perPage=1');
		assert.equal(l.json.totalItems, 400);
		for (let c = 0; c < 16; c++) {
			const lc = await api(srv, 'GET', `/api/collections/counter/records?perPage=100&sort=seq&filter=${encodeURIComponent(`client = ${c}`)}`);
			assert.deepEqual(
				lc.json.items.map((x) => x.seq),
				Array.from({ length: 25 }, (_, i) => i),
				`client ${c}`,
			);
		}
	});

	test('200 concurrent "views+" updates of one record lose nothing', async () => {
		await mk({ name: 'hits', type: 'base', ...pub, fields: [{ name: 'views', type: 'number' }, { name: 'tags', type: 'select', values: Array.from({ length: 20 }, (_, i) => `t${i}`), maxSelect: 20 }] });
		const rec = (await api(srv, 'POST', '/api/collections/hits/records', { body: { views: 0 } })).json;
		const statuses = await Promise.all(
			Array.from({ length: 200 }, (_, i) =>
				api(srv, 'PATCH', `/api/collections/hits/records/${rec.id}`, { body: i < 20 ? { 'views+': 1, 'tags+': `t${i}` } : { 'views+': 1 } }).then((r) => r.status),
			),
		);
		assert.deepEqual([...new Set(statuses)], [200]);
		const g = await api(srv, 'GET', `/api/collections/hits/records/${rec.id}`);
		assert.equal(g.json.views, 200);
		assert.deepEqual([...g.json.tags].sort(), Array.from({ length: 20 }, (_, i) => `t${i}`).sort());
	});

	test('racing creates on a unique index: exactly one wins, the others are 400 validation_not_unique', async () => {
		await mk({ name: 'slugs', type: 'base', ...pub, fields: [{ name: 'slug', type: 'text' }], indexes: ['CREATE UNIQUE INDEX `idx_slugs_slug` ON `slugs` (`slug`)'] });
		for (let round = 0; round < 3; round++) {
			const rs = await Promise.all(Array.from({ length: 30 }, () => api(srv, 'POST', '/api/collections/slugs/records', { body: { slug: `same-${round}` } })));
			const ok = rs.filter((r) => r.status === 200);
			const dup = rs.filter((r) => r.status === 400 && r.json?.data?.slug?.code === 'validation_not_unique');
			assert.equal(ok.length, 1, `round ${round}: ${rs.map((r) => r.status)}`);
			assert.equal(dup.length, 29, `round ${round}: ${rs.filter((r) => r.status !== 200).map((r) => r.text.slice(0, 120))[0]}`);
		}
		const l = await api(srv, 'GET', '/api/collections/slugs/records?perPage=100');
		assert.equal(l.json.totalItems, 3);
	});

	test('a schema change during a create storm reaches both workers at once', async () => {
		const c = await mk({ name: 'storm', type: 'base', ...pub, fields: [{ name: 'title', type: 'text' }] });
		const errors = [];
		const after = []; // ids of creates started after the schema change returned
		let changed = false;
		let stop = false;
		const client = async (w) => {
			for (let i = 0; !stop; i++) {
				const startedAfter = changed;
				const r = await api(srv, 'POST', '/api/collections/storm/records', { body: { title: `w${w}-${i}`, extra: 'x' } });
				if (r.status !== 200) errors.push(`${r.status} ${r.text.slice(0, 200)}`);
				else if (startedAfter) after.push(r.json);
				const l = await api(srv, 'GET', '/api/collections/storm/records?perPage=5&sort=-@rowid');
				if (l.status !== 200) errors.push(`list: ${l.status} ${l.text.slice(0, 200)}`);
			}
		};
		const clients = Array.from({ length: 8 }, (_, w) => client(w));
		await new Promise((r) => setTimeout(r, 300));
		const u = await api(srv, 'PATCH', '/api/collections/storm', { token, body: { fields: [...c.fields, { name: 'extra', type: 'text' }] } });
		assert.equal(u.status, 200, u.text);
		changed = true;
		await new Promise((r) => setTimeout(r, 500));
		stop = true;
		await Promise.all(clients);
		assert.deepEqual(errors, []);
		assert.ok(after.length > 8, `only ${after.length} creates after the change`);
		const stale = after.filter((r) => r.extra !== 'x');
		assert.deepEqual(
			stale.map((r) => r.title),
			[],
			'every create started after the change stores the new field',
		);
		const l = await api(srv, 'GET', `/api/collections/storm/records?perPage=1&filter=${encodeURIComponent("extra = 'x'")}`);
		assert.equal(l.status, 200);
		assert.ok(l.json.totalItems >= after.length);
	});

	test('concurrent batches and deletes keep counts exact', async () => {
		await mk({ name: 'batchy', type: 'base', ...pub, fields: [{ name: 'k', type: 'text', required: true }] });
		assert.equal((await api(srv, 'PATCH', '/api/settings', { token, body: { batch: { enabled: true, maxRequests: 50 } } })).status, 200);
		const rs = await Promise.all(
			Array.from({ length: 20 }, (_, b) =>
				api(srv, 'POST', '/api/batch', {
					body: {
						requests: Array.from({ length: 10 }, (_, i) => ({
							method: 'POST',
							url: '/api/collections/batchy/records',
							// Every 4th batch has a failing item and must leave nothing behind.
							body: b % 4 === 3 && i === 9 ? {} : { k: `b${b}-${i}` },
						})),
					},
				}),
			),
		);
		const statuses = rs.map((r) => r.status);
		assert.deepEqual(
			statuses,
			Array.from({ length: 20 }, (_, b) => (b % 4 === 3 ? 400 : 200)),
			rs.find((r) => r.status >= 500)?.text,
		);
		const l = await api(srv, 'GET', '/api/collections/batchy/records?perPage=1000');
		assert.equal(l.json.totalItems, 150);
		const del = await Promise.all(l.json.items.slice(0, 100).map((x) => api(srv, 'DELETE', `/api/collections/batchy/records/${x.id}`).then((r) => r.status)));
		assert.deepEqual([...new Set(del)], [204]);
		assert.equal((await api(srv, 'GET', '/api/collections/batchy/records?perPage=1')).json.totalItems, 50);
	});
});

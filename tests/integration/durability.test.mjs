// durability.test.mjs - acknowledged writes survive a crash and a restart
// (DIALECT.md §21: WAL, every 2xx is a committed transaction).
//
// kill -9: 8 clients create records as fast as they can for about 2 s
// while a ninth keeps changing another collection's schema; the server is
// killed with SIGKILL in the middle of all that. Restarted on the same
// data dir, every record whose create got a 2xx must be there, the
// changed collection's fields must match its table, the old superuser
// token must still work and SQLite's integrity check must pass.
//
// Graceful: after SIGTERM (exit 0) and a restart, collections, records,
// settings and tokens are exactly as they were.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, Conn, sleep, sqlite, startHearthData, superuserToken, UNDER_ASAN } from './lib.mjs';

// Bound every block: a hung server fails the block instead of the whole run.
const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

async function mkCollection(srv, token, body) {
	const r = await api(srv, 'POST', '/api/collections', { token, body });
	assert.equal(r.status, 200, r.text);
	return r.json;
}

async function allRecords(srv, token, name) {
	const out = [];
	for (let page = 1; ; page++) {
		const r = await api(srv, 'GET', `/api/collections/${name}/records?page=${page}&perPage=1000&sort=@rowid&skipTotal=1`, { token });
		assert.equal(r.status, 200, r.text);
		out.push(...r.json.items);
		if (r.json.items.length < 1000) return out;
	}
}

describe('durability', LIMIT, () => {
	test('every acknowledged create survives kill -9; the database reopens cleanly', async (t) => {
		let srv = await startHearthData(['--workers', '2']);
		let restarted;
		try {
			const token = await superuserToken(srv);
			await mkCollection(srv, token, {
				name: 'items',
				type: 'base',
				listRule: '',
				createRule: '',
				fields: [
					{ name: 'title', type: 'text' },
					{ name: 'n', type: 'number' },
				],
			});
			const shifting = await mkCollection(srv, token, { name: 'shifting', type: 'base', fields: [{ name: 'keep', type: 'text' }] });
			await api(srv, 'POST', '/api/collections/shifting/records', { token, body: { keep: 'kept' } });

			const acked = new Map(); // id -> title
			const bad = [];
			let attempted = 0;
			let stop = false;
			// Each client pipelines 16 creates at a time on its own keep-alive
			// connection, so the server always has queued work when it is killed.
			const client = async (w) => {
				let c;
				try {
					c = await Conn.open(srv.port);
				} catch (e) {
					bad.push(`client ${w}: ${e.message}`);
					return;
				}
				try {
					for (let i = 0; !stop; ) {
						const titles = [];
						let reqs = '';
						for (let k = 0; k < 16; k++, i++) {
							const title = `w${w}-${i}`;
							const body = JSON.stringify({ title, n: i });
							reqs += `POST /api/collections/items/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
							titles.push(title);
						}
						attempted += titles.length;
						await c.write(reqs);
						for (const title of titles) {
							let r;
							try {
								r = await c.response({ timeout: 10000 });
							} catch (e) {
								if (!stop) bad.push(`${title}: ${e.message.slice(0, 200)} (before the kill)`);
								return;
							}
							let id;
							try {
								id = r.status === 200 ? JSON.parse(r.text).id : undefined;
							} catch {}
							if (id) acked.set(id, title);
							else bad.push(`${title}: ${r.status} ${JSON.stringify(r.headers)} ${JSON.stringify(r.text.slice(0, 200))}`);
						}
					}
				} finally {
					c.destroy();
				}
			};
			const schemaChanger = async () => {
				for (let i = 0; !stop; i++) {
					const fields = [...shifting.fields, { name: `extra${i}`, type: i % 2 ? 'number' : 'text' }];
					try {
						const r = await api(srv, 'PATCH', '/api/collections/shifting', { token, body: { fields } });
						if (r.status !== 200) bad.push(`schema change ${i}: ${r.status} ${r.text.slice(0, 200)}`);
					} catch {
						if (!stop) bad.push(`schema change ${i}: connection error before the kill`);
						return;
					}
				}
			};
			const runners = [...Array.from({ length: 8 }, (_, w) => client(w)), schemaChanger()];
			await sleep(2000);
			srv.signal('SIGKILL');
			stop = true;
			await Promise.allSettled(runners);
			const st = await srv.waitExit(5000);
			// Problems before the kill are reported at the end: a server that died on its
			// own is still a crash, and what it acknowledged must have survived it too.
			const problems = [];
			if (bad.length) problems.push(`${bad.length} errors before the kill, first: ${bad.slice(0, 5).join(' | ')}`);
			if (st?.signal !== 'SIGKILL') problems.push(`the server died before the kill: ${JSON.stringify(st)}\n${srv.tail(3000)}`);
			t.diagnostic(`${acked.size} creates acknowledged of ${attempted} attempted before SIGKILL`);

			restarted = await startHearthData(['--workers', '2'], { dir: srv.dir });
			// The old token is still valid (keys live in the database).
			const again = await api(restarted, 'GET', '/api/collections/items/records?perPage=1', { token });
			assert.equal(again.status, 200, again.text);
			const rows = await allRecords(restarted, token, 'items');
			const have = new Map(rows.map((r) => [r.id, r.title]));
			const missing = [...acked].filter(([id, title]) => have.get(id) !== title);
			assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged records are missing after kill -9`);
			assert.ok(rows.length <= attempted, `${rows.length} rows but only ${attempted} attempts`);
			assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'no duplicate ids');

			// The collection whose schema was changing is consistent with its table.
			const sh = await api(restarted, 'GET', '/api/collections/shifting', { token });
			assert.equal(sh.status, 200);
			const names = sh.json.fields.map((f) => f.name).sort();
			const cols = (await sqlite(restarted.db, "SELECT name FROM pragma_table_info('shifting') ORDER BY name")).trim().split('\n').sort();
			assert.deepEqual(cols, names, 'table columns match the collection fields');
			const shr = await allRecords(restarted, token, 'shifting');
			assert.deepEqual(
				shr.map((r) => r.keep),
				['kept'],
			);

			// Still writable.
			const w = await api(restarted, 'POST', '/api/collections/items/records', { body: { title: 'after restart' } });
			assert.equal(w.status, 200, w.text);
			await restarted.stop();
			restarted = null;
			assert.equal((await sqlite(srv.db, 'PRAGMA integrity_check')).trim(), 'ok');
			assert.deepEqual(problems, []);
			assert.ok(acked.size > 20, `only ${acked.size} creates acknowledged in 2 s`);
		} finally {
			if (!srv.exited) srv.signal('SIGKILL');
			if (restarted) await restarted.stop();
		}
	});

	test('graceful stop and restart keep collections, records, settings and tokens exactly', async () => {
		const srv = await startHearthData(['--workers', '2']);
		let restarted;
		try {
			const token = await superuserToken(srv);
			const people = await mkCollection(srv, token, { name: 'people', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'name', type: 'text' }] });
			await mkCollection(srv, token, {
				name: 'things',
				type: 'base',
				listRule: '',
				viewRule: '',
				createRule: '',
				updateRule: '',
				fields: [
					{ name: 'title', type: 'text', required: true },
					{ name: 'n', type: 'number' },
					{ name: 'flag', type: 'bool' },
					{ name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
					{ name: 'meta', type: 'json' },
					{ name: 'when', type: 'date' },
					{ name: 'who', type: 'relation', collectionId: people.id, maxSelect: 2 },
					{ name: 'created', type: 'autodate', onCreate: true },
					{ name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
				],
				indexes: ['CREATE UNIQUE INDEX `idx_things_title` ON `things` (`title`)'],
			});
			await mkCollection(srv, token, { name: 'bigthings', type: 'view', listRule: '', viewQuery: 'SELECT id, title, n FROM things WHERE n > 5' });
			const ada = (await api(srv, 'POST', '/api/collections/people/records', { token, body: { name: 'ada' } })).json;
			const ids = [];
			for (let i = 0; i < 20; i++) {
				const r = await api(srv, 'POST', '/api/collections/things/records', {
					body: { title: `thing ${i} \u2713 'q'`, n: i, flag: i % 2 === 0, tags: ['a', 'c'].slice(0, i % 3), meta: { i, nested: [i, { s: 'x' }] }, when: '2026-01-02 03:04:05.678Z', who: [ada.id] },
				});
				assert.equal(r.status, 200, r.text);
				ids.push(r.json.id);
			}
			assert.equal((await api(srv, 'PATCH', `/api/collections/things/records/${ids[3]}`, { body: { 'n+': 100, 'tags+': 'b' } })).status, 200);
			assert.equal((await api(srv, 'DELETE', `/api/collections/things/records/${ids[4]}`, { token })).status, 204);
			const cur = (await api(srv, 'GET', '/api/collections/things', { token })).json;
			const renamed = await api(srv, 'PATCH', '/api/collections/things', {
				token,
				body: { fields: cur.fields.map((f) => (f.name === 'flag' ? { ...f, name: 'enabled' } : f)) },
			});
			assert.equal(renamed.status, 200, renamed.text);
			assert.equal((await api(srv, 'PATCH', '/api/settings', { token, body: { meta: { appName: 'persisted' }, batch: { enabled: true, maxRequests: 7 } } })).status, 200);

			const snap = async (s) => ({
				collections: (await api(s, 'GET', '/api/collections?perPage=100&sort=name', { token })).json,
				things: await allRecords(s, token, 'things'),
				people: await allRecords(s, token, 'people'),
				view: (await api(s, 'GET', '/api/collections/bigthings/records?perPage=100&sort=title', { token })).json,
				settings: (await api(s, 'GET', '/api/settings', { token })).json,
			});
			const before = await snap(srv);
			assert.equal(before.things.length, 19);
			assert.equal(before.things.find((t) => t.id === ids[3]).n, 103);
			await srv.stop();

			restarted = await startHearthData(['--workers', '2'], { dir: srv.dir });
			const after = await snap(restarted);
			assert.deepEqual(after, before);
			assert.equal(after.settings.meta.appName, 'persisted');
			// The unique index and a fresh login still work.
			const dup = await api(restarted, 'POST', '/api/collections/things/records', { body: { title: "thing 0 \u2713 'q'" } });
			assert.equal(dup.status, 400);
			assert.equal(dup.json.data.title.code, 'validation_not_unique');
			assert.ok(await superuserToken(restarted));
			await restarted.stop();
			restarted = null;
			assert.equal((await sqlite(srv.db, 'PRAGMA integrity_check')).trim(), 'ok');
		} finally {
			if (!srv.exited) srv.signal('SIGKILL');
			if (restarted) await restarted.stop();
		}
	});

	test('a restart right after heavy writes loses nothing (SIGTERM with requests in flight)', { timeout: UNDER_ASAN ? 60000 : 30000 }, async () => {
		const srv = await startHearthData(['--workers', '2']);
		let restarted;
		try {
			const token = await superuserToken(srv);
			await mkCollection(srv, token, { name: 'burst', type: 'base', listRule: '', createRule: '', fields: [{ name: 'k', type: 'text' }] });
			const acked = new Set();
			let answered = 0;
			// 200 creates at once; SIGTERM goes out when the 50th answer arrives, so
			// the stop lands while the rest are queued or in flight.
			const results = await Promise.allSettled(
				Array.from({ length: 200 }, async (_, i) => {
					const r = await api(srv, 'POST', '/api/collections/burst/records', { body: { k: `k${i}` } });
					if (++answered === 50) srv.signal('SIGTERM');
					if (r.status === 200) acked.add(r.json.id);
					return r.status;
				}),
			);
			const statuses = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
			assert.ok(statuses.every((s) => s === 200 || s === 503), `statuses: ${[...new Set(statuses)]}`);
			const st = await srv.terminate();
			assert.equal(st.code, 0, srv.tail());
			restarted = await startHearthData(['--workers', '1'], { dir: srv.dir });
			const rows = await allRecords(restarted, token, 'burst');
			const have = new Set(rows.map((r) => r.id));
			const missing = [...acked].filter((id) => !have.has(id));
			assert.deepEqual(missing, [], 'acknowledged records missing after a graceful stop');
			assert.ok(acked.size >= 50, `${acked.size} acknowledged`);
		} finally {
			if (!srv.exited) srv.signal('SIGKILL');
			if (restarted) await restarted.stop();
		}
	});
});

// paging.test.mjs - stable paging when sort keys tie (DIALECT.md §8.1):
// walking every page of a sorted list must return each record exactly
// once, whether SQLite reads the order from an index (equal keys come in
// index order) or sorts (the rowid breaks ties), in both directions, with
// and without a filter, and through getFullList.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin } from './sdk.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

describe('paging with tied sort keys', LIMIT, () => {
	let srv;
	let pb;
	const all = { plain: [], indexed: [] };

	before(async () => {
		srv = await startHearthData([]);
		pb = await admin(srv);
		await pb.settings.update({ batch: { enabled: true, maxRequests: 100 } });
		for (const [name, indexes] of [
			['plain', []],
			['indexed', ['CREATE INDEX idx_indexed_kind_n ON indexed (kind, n)', 'CREATE INDEX idx_indexed_n ON indexed (n)']],
		]) {
			await pb.collections.create({
				name,
				type: 'base',
				listRule: '',
				fields: [
					{ name: 'kind', type: 'text' },
					{ name: 'n', type: 'number' },
				],
				indexes,
			});
			const batch = pb.createBatch();
			for (let i = 0; i < 45; i++) batch.collection(name).create({ kind: i % 2 ? 'odd' : 'even', n: i % 3 });
			const res = await batch.send();
			for (const r of res) all[name].push(r.body);
		}
	});

	after(async () => {
		await srv?.stop();
	});

	async function walk(name, sort, filter, perPage) {
		const seen = [];
		for (let page = 1; page < 100; page++) {
			const res = await pb.collection(name).getList(page, perPage, { sort, filter, skipTotal: true });
			seen.push(...res.items);
			if (res.items.length < perPage) break;
		}
		return seen;
	}

	for (const name of ['plain', 'indexed']) {
		for (const sort of ['n', '-n', 'kind,-n', '-kind,n']) {
			for (const filter of ['', 'kind = "odd"']) {
				test(`${name}: sort ${sort}${filter ? ', filter ' + filter : ''}`, async () => {
					const want = all[name].filter((r) => !filter || r.kind === 'odd');
					for (const perPage of [4, 7]) {
						const seen = await walk(name, sort, filter || undefined, perPage);
						const ids = seen.map((r) => r.id);
						assert.equal(new Set(ids).size, ids.length, `duplicates with perPage ${perPage}`);
						assert.deepEqual([...ids].sort(), want.map((r) => r.id).sort());
						// the order honours the sort keys
						const keys = sort.split(',');
						for (let i = 1; i < seen.length; i++) {
							for (const k of keys) {
								const desc = k.startsWith('-');
								const f = desc ? k.slice(1) : k;
								const a = seen[i - 1][f];
								const b = seen[i][f];
								if (a === b) continue;
								assert.ok(desc ? a > b : a < b, `order of ${f} at ${i}`);
								break;
							}
						}
					}
					const full = await pb.collection(name).getFullList({ sort, filter: filter || undefined, batch: 6 });
					assert.equal(new Set(full.map((r) => r.id)).size, want.length);
				});
			}
		}
	}
});

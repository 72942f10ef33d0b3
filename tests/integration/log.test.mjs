// log.test.mjs - the access log of build/hearth (stdout) in text and JSON.
//
// The parser refuses raw control bytes, quotes and backslashes in the
// request target and methods are tokens, so the log's escaping cannot be
// reached from the network; these tests check the formats, that encoded
// bytes are logged as sent (not decoded), and that refused requests are
// logged too.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rawExchange, rawGet, sleep, withHearth, withTestd } from './lib.mjs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function waitLines(srv, n, ms = 5000) {
	const deadline = Date.now() + ms;
	let lines = [];
	while (Date.now() < deadline) {
		lines = srv.stdout.split('\n').filter((l) => l.length > 0);
		if (lines.length >= n) return lines;
		await sleep(25);
	}
	assert.fail(`expected ${n} access log lines, got ${lines.length}:\n${srv.stdout}`);
}

async function makeRequests(srv) {
	await rawGet(srv.port, '/api/health');
	await rawGet(srv.port, '/api/health', {}, { method: 'HEAD' });
	await rawGet(srv.port, '/nope%1b%22%5c?q=%00');
	await rawGet(srv.port, '/api/health', { 'Content-Length': '0' }, { method: 'POST' });
}

describe('access log', { concurrency: 4 }, () => {
	test('text format: "<ISO time> CLIENT METHOD /path STATUS BYTES Nus" per request', async () => {
		await withHearth(
			['--workers', '1', '--log-format', 'text'],
			async (srv) => {
				await waitLines(srv, 1); // the readiness probe
				const before = srv.stdout.split('\n').filter(Boolean).length;
				const t0 = Date.now();
				await makeRequests(srv);
				const lines = (await waitLines(srv, before + 4)).slice(before);
				assert.equal(lines.length, 4, lines.join('\n'));
				const parsed = lines.map((l) => {
					const m = /^(\S+) (\S+) (\S+) (\S+) (\d{3}) (\d+) (\d+)us$/.exec(l);
					assert.ok(m, `bad text log line: ${JSON.stringify(l)}`);
					assert.match(m[1], ISO);
					const t = Date.parse(m[1]);
					assert.ok(Math.abs(t - t0) < 10000, `time ${m[1]} is far from now`);
					assert.equal(m[2], '127.0.0.1', 'the client address');
					return { method: m[3], path: m[4], status: Number(m[5]), bytes: Number(m[6]), us: Number(m[7]) };
				});
				assert.deepEqual(
					parsed.map((p) => [p.method, p.path, p.status]),
					[
						['GET', '/api/health', 200],
						['HEAD', '/api/health', 200],
						['GET', '/nope%1b%22%5c?q=%00', 404],
						['POST', '/api/health', 404],
					],
				);
				assert.ok(parsed[0].bytes >= 50, 'bytes count at least the body');
				assert.ok(parsed[1].bytes < parsed[0].bytes, 'HEAD sends fewer bytes than GET');
			},
			{ log: true },
		);
	});

	test('json format: each line is a JSON object with time, addr, method, path, status, bytes, us', async () => {
		await withHearth(
			['--workers', '2', '--log-format', 'json'],
			async (srv) => {
				await waitLines(srv, 1);
				const before = srv.stdout.split('\n').filter(Boolean).length;
				await makeRequests(srv);
				const lines = (await waitLines(srv, before + 4)).slice(before);
				const objs = lines.map((l) => {
					let o;
					assert.doesNotThrow(() => (o = JSON.parse(l)), `not JSON: ${l}`);
					assert.deepEqual(Object.keys(o).sort(), ['addr', 'bytes', 'method', 'path', 'status', 'time', 'us']);
					assert.match(o.time, ISO);
					assert.equal(o.addr, '127.0.0.1');
					assert.equal(typeof o.method, 'string');
					assert.equal(typeof o.path, 'string');
					assert.ok(Number.isInteger(o.status));
					assert.ok(Number.isInteger(o.bytes) && o.bytes > 0);
					assert.ok(Number.isInteger(o.us) && o.us >= 0);
					return o;
				});
				// Two workers: lines may interleave; compare as a set.
				assert.deepEqual(
					objs.map((o) => `${o.method} ${o.path} ${o.status}`).sort(),
					['GET /api/health 200', 'GET /nope%1b%22%5c?q=%00 404', 'HEAD /api/health 200', 'POST /api/health 404'].sort(),
				);
			},
			{ log: true },
		);
	});

	test('refused requests and odd token methods are logged and stay well-formed', async () => {
		await withHearth(
			['--workers', '1', '--log-format', 'json'],
			async (srv) => {
				await waitLines(srv, 1);
				const before = srv.stdout.split('\n').filter(Boolean).length;
				await rawExchange(srv.port, 'GET /a"b\\c HTTP/1.1\r\nHost: x\r\n\r\n');
				await rawExchange(srv.port, 'GET /x HTTP/1.1\r\nHost: x\r\nX-A: \x1b[31m\r\n\r\n');
				await rawExchange(srv.port, "M!#$%&'*+-.^_`|~ /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
				const lines = (await waitLines(srv, before + 3)).slice(before);
				const objs = lines.map((l) => JSON.parse(l));
				assert.deepEqual(
					objs.map((o) => o.status),
					[400, 400, 404],
				);
				assert.equal(objs[2].method, "M!#$%&'*+-.^_`|~");
				for (const l of lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f]/, 'no raw control bytes in the log');
			},
			{ log: true },
		);
	});

	test('--quiet writes no access log', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			await rawGet(srv.port, '/api/health');
			await sleep(200);
			assert.equal(srv.stdout, '');
		});
	});

	test('testd access log via the public API config (log_format json)', async () => {
		await withTestd(
			['--workers', '1', '--log-format', 'json', '--quiet', '0'],
			async (srv) => {
				await waitLines(srv, 1);
				const before = srv.stdout.split('\n').filter(Boolean).length;
				await rawGet(srv.port, '/stream?n=3');
				await rawGet(srv.port, '/slow?ms=20');
				const lines = (await waitLines(srv, before + 2)).slice(before);
				const objs = lines.map((l) => JSON.parse(l));
				assert.deepEqual(
					objs.map((o) => [o.path, o.status]),
					[
						['/stream?n=3', 200],
						['/slow?ms=20', 200],
					],
				);
				assert.ok(objs[1].us >= 20000, `a 20 ms handler logged ${objs[1].us}us`);
			},
			{ log: true },
		);
	});
});

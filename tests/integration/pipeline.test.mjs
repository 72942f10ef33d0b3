// pipeline.test.mjs - pipelining (order, odd splits, many requests) and
// request bodies (Content-Length, chunked, large, 100-continue, limits).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Conn, curl, parseAll, rawExchange, sleep, tmpDir, withTestd } from './lib.mjs';

const q = (i, extra = '') => `GET /query?k=v&v=${i} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

/** Splits s into pieces of sizes cycling through `sizes`. */
function splitOdd(s, sizes) {
	const out = [];
	let i = 0;
	for (let k = 0; i < s.length; k++) {
		const n = sizes[k % sizes.length];
		out.push(s.slice(i, i + n));
		i += n;
	}
	return out;
}

describe('pipelining', { concurrency: 4 }, () => {
	test('pipelined responses come back in request order', async () => {
		await withTestd(['--workers', '2'], async (srv) => {
			let raw = '';
			for (let i = 0; i < 10; i++) raw += q(i);
			raw += 'GET /params/x/y HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += 'HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += q(99, 'Connection: close\r\n');
			const r = await rawExchange(srv.port, raw, { timeout: 5000 });
			assert.ok(r.closed);
			const heads = Array(14).fill(false);
			heads[11] = true;
			const rs = parseAll(r.data, { heads });
			assert.equal(rs.length, 14, r.data.toString('latin1'));
			for (let i = 0; i < 10; i++) assert.equal(rs[i].text, String(i));
			assert.equal(rs[10].text, '{"a":"x","rest":"y"}');
			assert.equal(rs[11].status, 200);
			assert.equal(rs[11].body.length, 0);
			assert.equal(rs[12].status, 404);
			assert.equal(rs[13].text, '99');
			assert.equal(rs.incomplete, undefined, 'no stray bytes');
		});
	});

	test('a slow request first holds back the fast ones behind it, order kept', async () => {
		await withTestd(['--workers', '2'], async (srv) => {
			let raw = 'GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n';
			for (let i = 0; i < 5; i++) raw += q(i);
			raw += 'GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += q(5, 'Connection: close\r\n');
			const r = await rawExchange(srv.port, raw, { timeout: 5000 });
			const rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.text),
				['slow 200', '0', '1', '2', '3', '4', 'slow 50', '5'],
			);
			assert.ok(r.closed);
		});
	});

	test('a pipeline split across writes at odd byte boundaries is parsed the same', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const body = 'The quick brown fox jumps over the lazy dog';
			const chunked = '7;x=y\r\nThe qui\r\n' + `${(body.length - 7).toString(16)}\r\n${body.slice(7)}\r\n0\r\nX-T: 1\r\n\r\n`;
			let raw = '';
			raw += q(0);
			raw += `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
			raw += q(1);
			raw += `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`;
			raw += 'GET /slow?ms=30 HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += q(2, 'Connection: close\r\n');
			for (const sizes of [[1], [3, 1, 4, 1, 5, 9, 2, 6], [7, 13, 29], [97]]) {
				const pieces = splitOdd(raw, sizes);
				const r = await rawExchange(srv.port, pieces, { delay: sizes[0] === 1 ? 0 : 2, timeout: 5000 });
				const rs = parseAll(r.data);
				assert.deepEqual(
					rs.map((x) => x.text),
					['0', body, '1', body, 'slow 30', '2'],
					`sizes ${sizes}`,
				);
				assert.ok(r.closed);
			}
		});
	});

	test('a request split at every byte boundary is answered', async () => {
		await withTestd(['--workers', '2'], async (srv) => {
			const raw = 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n';
			const results = await Promise.all(
				Array.from({ length: raw.length - 1 }, (_, k) =>
					rawExchange(srv.port, [raw.slice(0, k + 1), raw.slice(k + 1)], { delay: 20, timeout: 5000 }),
				),
			);
			results.forEach((r, k) => {
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1, `split at ${k + 1}: ${r.data.toString('latin1')}`);
				assert.equal(rs[0].status, 200, `split at ${k + 1}`);
				assert.equal(rs[0].text, 'abcde', `split at ${k + 1}`);
			});
		});
	});

	test('100 pipelined requests in one write are all answered in order', async () => {
		await withTestd(['--workers', '2'], async (srv) => {
			let raw = '';
			for (let i = 0; i < 99; i++) raw += q(i);
			raw += q(99, 'Connection: close\r\n');
			const r = await rawExchange(srv.port, raw, { timeout: 5000 });
			const rs = parseAll(r.data);
			assert.equal(rs.length, 100);
			rs.forEach((x, i) => {
				assert.equal(x.status, 200);
				assert.equal(x.text, String(i));
			});
			assert.ok(r.closed);
		});
	});

	test('pipelined requests with large responses are all delivered (output backpressure)', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			let raw = '';
			for (let i = 0; i < 40; i++) raw += 'GET /big?kb=256 HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += q(0, 'Connection: close\r\n');
			const r = await rawExchange(srv.port, raw, { timeout: 5000 });
			const rs = parseAll(r.data);
			assert.equal(rs.length, 41);
			for (let i = 0; i < 40; i++) assert.equal(rs[i].body.length, 256 * 1024);
			assert.equal(rs[40].text, '0');
		});
	});
});

describe('request bodies', { concurrency: 4 }, () => {
	test('Content-Length body is echoed', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				for (const body of ['hello world', '', 'x', '\x00\x01\xff binary \r\n\r\n']) {
					await c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`);
					const res = await c.response();
					assert.equal(res.status, 200);
					assert.equal(res.text, body);
					assert.equal(res.headers['x-body-length'], String(body.length));
					assert.equal(res.headers['x-method'], 'POST');
				}
			} finally {
				c.destroy();
			}
			const f = await fetch(`${srv.url}/echo`, { method: 'PUT', body: 'via fetch' });
			assert.equal(await f.text(), 'via fetch');
			assert.equal(f.headers.get('x-method'), 'PUT');
		});
	});

	test('chunked body with extensions and trailers is decoded and echoed', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				await c.write(
					'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
						'5;ext=1;quoted="a \\" b"\r\nhello\r\n' +
						'6 ; name\r\n world\r\n' +
						'000A\r\n0123456789\r\n' +
						'0;last=yes\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n',
				);
				const res = await c.response();
				assert.equal(res.status, 200);
				assert.equal(res.text, 'hello world0123456789');
				assert.equal(res.headers['x-body-length'], '21');
				// The connection stays usable after a chunked body.
				await c.write('GET /hello HTTP/1.1\r\nHost: x\r\n\r\n');
				assert.equal((await c.response()).text, 'hello');
				// Empty chunked body.
				await c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
				const e = await c.response();
				assert.equal(e.status, 200);
				assert.equal(e.headers['x-body-length'], '0');
			} finally {
				c.destroy();
			}
		});
	});

	test('a 5 MiB body sent in pieces is received intact', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const body = crypto.randomBytes(5 * 1024 * 1024);
			const c = await Conn.open(srv.port);
			try {
				await c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
				for (let off = 0; off < body.length; off += 64 * 1024 + 7) await c.write(body.subarray(off, off + 64 * 1024 + 7));
				const res = await c.response({ timeout: 15000 });
				assert.equal(res.status, 200);
				assert.equal(res.headers['x-body-length'], String(body.length));
				assert.ok(res.body.equals(body), 'echoed body differs');
			} finally {
				c.destroy();
			}
		});
	});

	test('a 5 MiB chunked body sent in pieces is received intact', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const body = crypto.randomBytes(5 * 1024 * 1024);
			const c = await Conn.open(srv.port);
			try {
				await c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
				const step = 100003;
				for (let off = 0; off < body.length; off += step) {
					const part = body.subarray(off, off + step);
					await c.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
				}
				await c.write('0\r\n\r\n');
				const res = await c.response({ timeout: 15000 });
				assert.equal(res.status, 200);
				assert.ok(res.body.equals(body), 'echoed body differs');
			} finally {
				c.destroy();
			}
		});
	});

	test('Expect: 100-continue: the 100 is sent before the body is read (raw)', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				await c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
				const cont = await c.response({ timeout: 3000 });
				assert.equal(cont.status, 100);
				assert.equal(cont.headers['content-length'], undefined);
				assert.equal(c.buf.length, 0, 'nothing but the 100 before the body is sent');
				await c.write('hello');
				const res = await c.response();
				assert.equal(res.status, 200);
				assert.equal(res.text, 'hello');
				// Chunked with 100-continue on the same connection.
				await c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n');
				assert.equal((await c.response({ timeout: 3000 })).status, 100);
				await c.write('3\r\nabc\r\n0\r\n\r\n');
				assert.equal((await c.response()).text, 'abc');
			} finally {
				c.destroy();
			}
		});
	});

	test('Expect: 100-continue from an HTTP/1.0 client is ignored (no 100)', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello', { timeout: 3000 });
			const rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => [x.status, x.text]),
				[[200, 'hello']],
			);
		});
	});

	test('Expect: 100-continue with a body over the limit gets 413 and no 100', async () => {
		await withTestd(['--workers', '1', '--max-body', '1000'], async (srv) => {
			const r = await rawExchange(srv.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', {
				timeout: 3000,
			});
			const rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.status),
				[413],
			);
			assert.ok(r.closed);
		});
	});

	test('Expect: 100-continue with curl: 100 arrives and the body is echoed', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const dir = tmpDir();
			const file = path.join(dir, 'body.bin');
			const body = crypto.randomBytes(300 * 1024);
			fs.writeFileSync(file, body);
			const out = path.join(dir, 'out.bin');
			const r = await curl([
				'-v',
				'-H',
				'Expect: 100-continue',
				'--expect100-timeout',
				'10',
				'--data-binary',
				`@${file}`,
				'-o',
				out,
				'-w',
				'%{http_code}',
				`${srv.url}/echo`,
			]);
			assert.equal(r.code, 0, r.stderr);
			assert.equal(r.stdout, '200');
			assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
			assert.ok(fs.readFileSync(out).equals(body));
		});
	});

	test('body exactly at --max-body is accepted, one byte over is 413', async () => {
		await withTestd(['--workers', '1', '--max-body', '1000'], async (srv) => {
			const at = 'a'.repeat(1000);
			let r = await rawExchange(srv.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${at}`);
			let rs = parseAll(r.data);
			assert.equal(rs[0].status, 200);
			assert.equal(rs[0].text, at);
			r = await rawExchange(srv.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3e8\r\n${at}\r\n0\r\n\r\n`);
			rs = parseAll(r.data);
			assert.equal(rs[0].status, 200, 'chunked total exactly at the limit');
			assert.equal(rs[0].text, at);
			r = await rawExchange(srv.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n${at}a`);
			rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.status),
				[413],
			);
			assert.ok(r.closed);
			r = await rawExchange(srv.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${at}\r\n1\r\na\r\n0\r\n\r\n`);
			rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.status),
				[413],
			);
			assert.ok(r.closed);
		});
	});

	test('a body to a route that ignores it does not desync the next request', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				const body = 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\nxxxxxx';
				await c.write(`GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
				await c.write('GET /query?k=v&v=after HTTP/1.1\r\nHost: x\r\n\r\n');
				assert.equal((await c.response()).text, 'hello');
				const res = await c.response();
				assert.equal(res.text, 'after');
				await sleep(50);
				assert.equal(c.buf.length, 0);
			} finally {
				c.destroy();
			}
		});
	});
});

// basics.test.mjs - curl and fetch basics, HTTP/1.0 and keep-alive,
// the router, streaming, gzip.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
	Conn,
	HEALTH_BODY,
	parseAll,
	assertJsonError,
	curl,
	parseResponse,
	rawExchange,
	rawGet,
	withHearth,
	withTestd,
} from './lib.mjs';

const IMF_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Parses `curl -si` output (the last response, after any 1xx). */
function parseCurl(stdout, head = false) {
	let buf = Buffer.from(stdout, 'latin1');
	for (;;) {
		const r = parseResponse(buf, { ended: true, head });
		assert.ok(r, `cannot parse curl output: ${stdout}`);
		if (r.status >= 200) return r;
		buf = buf.subarray(r.consumed);
	}
}

function bigText(kb) {
	const unit = 'hearth is a backend. ';
	let s = unit.repeat(Math.ceil((kb * 1024) / unit.length) + 1);
	return s.slice(0, kb * 1024);
}

describe('basics', { concurrency: 4 }, () => {
	test('curl GET /api/health on hearth returns exactly the health JSON', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			const r = await curl(['-i', `${srv.url}/api/health`]);
			assert.equal(r.code, 0, r.stderr);
			const res = parseCurl(r.stdout);
			assert.equal(res.status, 200);
			assert.match(res.headers['content-type'], /^application\/json/);
			assert.equal(res.text, HEALTH_BODY);
			assert.equal(res.headers['content-length'], String(HEALTH_BODY.length));
		});
	});

	test('fetch GET /api/health on hearth returns exactly the health JSON', async () => {
		await withHearth(['--workers', '2'], async (srv) => {
			const res = await fetch(`${srv.url}/api/health`);
			assert.equal(res.status, 200);
			assert.match(res.headers.get('content-type'), /^application\/json/);
			assert.equal(await res.text(), HEALTH_BODY);
			assert.deepEqual(JSON.parse(HEALTH_BODY), { message: 'API is healthy.', code: 200, data: {} });
		});
	});

	test('HEAD /api/health has no body and the same Content-Length as GET', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			const r = await curl(['-I', `${srv.url}/api/health`]);
			assert.equal(r.code, 0, r.stderr);
			const res = parseCurl(r.stdout, true);
			assert.equal(res.status, 200);
			assert.equal(res.headers['content-length'], String(HEALTH_BODY.length));
			// On a raw keep-alive socket: HEAD then GET; the HEAD response must
			// carry no body bytes, or the GET response would be misparsed.
			const c = await Conn.open(srv.port);
			try {
				await c.write('HEAD /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
				const h = await c.response({ head: true });
				assert.equal(h.status, 200);
				assert.equal(h.headers['content-length'], String(HEALTH_BODY.length));
				const g = await c.response();
				assert.equal(g.status, 200, `bytes after HEAD response: ${g.text}`);
				assert.equal(g.text, HEALTH_BODY);
				assert.equal(c.buf.length, 0, 'no stray bytes after the GET response');
			} finally {
				c.destroy();
			}
		});
	});

	test('responses carry a current Date and Server: hearth', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			for (const path of ['/api/health', '/hello', '/nope']) {
				const res = await rawGet(srv.port, path);
				assert.equal(res.headers.server, 'hearth', path);
				assert.match(res.headers.date, IMF_DATE, path);
				const skew = Math.abs(Date.parse(res.headers.date) - Date.now());
				assert.ok(skew < 5000, `Date ${res.headers.date} is ${skew} ms off`);
			}
		});
	});

	test('HTTP/1.0 request without keep-alive is answered and the connection closes', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /api/health HTTP/1.0\r\n\r\n', { timeout: 3000 });
			assert.ok(r.closed, 'server should close after an HTTP/1.0 response');
			const res = parseResponse(r.data, { ended: true });
			assert.equal(res.status, 200);
			assert.equal(res.text, HEALTH_BODY);
			assert.notEqual((res.headers.connection || '').toLowerCase(), 'keep-alive');
			assert.equal(res.consumed, r.data.length, 'nothing after the response');
		});
	});

	test('HTTP/1.0 with Connection: keep-alive gets Connection: keep-alive and stays open', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				for (let i = 0; i < 3; i++) {
					await c.write('GET /api/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
					const res = await c.response();
					assert.equal(res.status, 200);
					assert.equal(res.headers.connection.toLowerCase(), 'keep-alive');
					assert.equal(res.text, HEALTH_BODY);
				}
				assert.equal(await c.closed(200), false, 'connection should stay open');
			} finally {
				c.destroy();
			}
		});
	});

	test('HTTP/1.1 Connection: close gets Connection: close and the connection closes', async () => {
		await withHearth(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
				timeout: 3000,
			});
			assert.ok(r.closed);
			const res = parseResponse(r.data, { ended: true });
			assert.equal(res.status, 200);
			assert.equal(res.headers.connection.toLowerCase(), 'close');
			assert.equal(res.text, HEALTH_BODY);
		});
	});

	test('keep-alive: several requests are answered on one socket', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				for (let i = 0; i < 10; i++) {
					await c.write(`GET /query?k=v&v=${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
					const res = await c.response();
					assert.equal(res.status, 200);
					assert.equal(res.text, String(i));
					assert.notEqual((res.headers.connection || '').toLowerCase(), 'close');
				}
				assert.equal(c.ended, false);
			} finally {
				c.destroy();
			}
		});
	});

	test('curl reuses one connection for several URLs', async () => {
		await withHearth(['--workers', '2'], async (srv) => {
			const u = `${srv.url}/api/health`;
			const r = await curl(['-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', u, u, u]);
			assert.equal(r.code, 0, r.stderr);
			assert.deepEqual(r.stdout.trim().split('\n'), ['200 1', '200 0', '200 0']);
		});
	});

	test('absolute-form request target is accepted', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, 'http://127.0.0.1/query?k=v&v=abs');
			assert.equal(res.status, 200);
			assert.equal(res.text, 'abs');
		});
	});

	test('Connection: close is case-insensitive, wins over keep-alive, and ends a pipeline', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			for (const conn of ['CLOSE', 'keep-alive, close', 'Close']) {
				const r = await rawExchange(
					srv.port,
					`GET /hello HTTP/1.1\r\nHost: x\r\nConnection: ${conn}\r\n\r\nGET /query?k=v&v=late HTTP/1.1\r\nHost: x\r\n\r\n`,
					{ timeout: 3000 },
				);
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1, `Connection: ${conn}: ${r.data.toString('latin1')}`);
				assert.equal(rs[0].text, 'hello');
				assert.equal(rs[0].headers.connection.toLowerCase(), 'close');
				assert.ok(r.closed);
			}
		});
	});

	test('requests pipelined after an HTTP/1.0 request without keep-alive are not answered', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /hello HTTP/1.0\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n', { timeout: 3000 });
			const rs = parseAll(r.data);
			assert.equal(rs.length, 1);
			assert.ok(r.closed);
		});
	});

	test('many concurrent clients across two workers are all served', async () => {
		await withTestd(['--workers', '2'], async (srv) => {
			const results = await Promise.all(
				Array.from({ length: 200 }, (_, i) =>
					rawExchange(srv.port, `GET /query?k=v&v=${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { timeout: 5000 }),
				),
			);
			results.forEach((r, i) => {
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1, `client ${i}`);
				assert.equal(rs[0].text, String(i));
			});
		});
	});

	// ---- router ----

	test('unknown path is a 404 JSON error', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/no/such/thing');
			assertJsonError(res, 404);
			const f = await fetch(`${srv.url}/nope`);
			assert.equal(f.status, 404);
			assert.equal((await f.json()).status, 404);
		});
	});

	test('POST to a GET-only route outside /api/ is 405 with Allow', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/hello', { 'Content-Length': '0' }, { method: 'POST' });
			assertJsonError(res, 405);
			assert.equal(res.headers.allow, 'GET, HEAD');
		});
	});

	test('wrong method under /api/ is 404 (PocketBase dialect)', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			for (const m of ['POST', 'DELETE', 'PUT']) {
				const res = await rawGet(srv.port, '/api/health', { 'Content-Length': '0' }, { method: m });
				assertJsonError(res, 404);
				assert.equal(res.headers.allow, undefined, `${m}: no Allow under /api/`);
			}
		});
		await withHearth(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/api/health', { 'Content-Length': '0' }, { method: 'POST' });
			assertJsonError(res, 404);
		});
	});

	test('route parameters are percent-decoded and the rest parameter catches the remaining path', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/params/a%20b/c/d');
			assert.equal(res.status, 200);
			assert.deepEqual(JSON.parse(res.text), { a: 'a b', rest: 'c/d' });
			const r2 = await rawGet(srv.port, '/params/%C3%A9t%C3%A9/x');
			assert.deepEqual(JSON.parse(Buffer.from(r2.text, 'latin1').toString('utf8')), { a: 'été', rest: 'x' });
		});
	});

	test('query parameters are form-decoded', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/query?k=name&name=a+b%21%26c');
			assert.equal(res.status, 200);
			assert.equal(res.text, 'a b!&c');
		});
	});

	// ---- streaming ----

	test('streamed response: fetch reads /stream?n=5 as 5 chunks in order', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await fetch(`${srv.url}/stream?n=5`);
			assert.equal(res.status, 200);
			assert.equal(res.headers.get('transfer-encoding'), 'chunked');
			assert.equal(res.headers.get('content-length'), null);
			let text = '';
			const dec = new TextDecoder();
			for await (const piece of res.body) text += dec.decode(piece, { stream: true });
			assert.equal(text, [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
			// The wire framing, on a raw socket.
			const raw = await rawGet(srv.port, '/stream?n=5');
			assert.ok(raw.chunked);
			assert.equal(raw.text, text);
			assert.ok(raw.chunks.length >= 1 && raw.chunks.every((c) => c.length > 0));
		});
	});

	test('streamed response to an HTTP/1.0 client is close-delimited', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /stream?n=5 HTTP/1.0\r\n\r\n', { timeout: 3000 });
			assert.ok(r.closed, 'the server must close to end the body');
			const res = parseResponse(r.data, { ended: true });
			assert.equal(res.status, 200);
			assert.equal(res.headers['transfer-encoding'], undefined);
			assert.equal(res.headers['content-length'], undefined);
			assert.ok(res.closeDelimited);
			assert.equal(res.text, [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
		});
	});

	test('HEAD of a streamed response has no body', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'HEAD /stream?n=3 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
				timeout: 3000,
			});
			const rs = parseAll(r.data, { heads: [true, false] });
			assert.equal(rs.length, 2, r.data.toString('latin1'));
			assert.equal(rs[0].status, 200);
			assert.equal(rs[1].text, 'hello', 'bytes after the HEAD response must belong to the next one');
		});
	});

	test('streamed response to an HTTP/1.0 keep-alive client is close-delimited with Connection: close', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /stream?n=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n', {
				timeout: 3000,
			});
			assert.ok(r.closed);
			const res = parseResponse(r.data, { ended: true });
			assert.equal(res.headers.connection.toLowerCase(), 'close');
			assert.ok(res.closeDelimited);
			assert.equal(res.text, 'chunk 0\nchunk 1\nchunk 2\n');
		});
	});

	// ---- gzip ----

	test('gzip: /big?kb=64 with Accept-Encoding: gzip is compressed, Vary set, and decompresses to the original', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/big?kb=64', { 'Accept-Encoding': 'gzip' });
			assert.equal(res.status, 200);
			assert.equal(res.headers['content-encoding'], 'gzip');
			assert.match(res.headers.vary || '', /accept-encoding/i);
			assert.ok(res.body.length < 64 * 1024, 'compressed body is smaller');
			assert.equal(Number(res.headers['content-length']), res.body.length);
			const plain = zlib.gunzipSync(res.body).toString('latin1');
			assert.equal(plain.length, 64 * 1024);
			assert.equal(plain, bigText(64));
			// fetch decompresses transparently.
			const f = await fetch(`${srv.url}/big?kb=64`, { headers: { 'Accept-Encoding': 'gzip' } });
			assert.equal(await f.text(), bigText(64));
		});
	});

	test('gzip: without Accept-Encoding the body is identity', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/big?kb=64');
			assert.equal(res.status, 200);
			assert.equal(res.headers['content-encoding'], undefined);
			assert.equal(res.headers['content-length'], String(64 * 1024));
			assert.equal(res.text, bigText(64));
		});
	});

	test('gzip: Accept-Encoding "gzip;q=0" gets identity', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			for (const ae of ['gzip;q=0', 'gzip; q=0.0, identity', 'br']) {
				const res = await rawGet(srv.port, '/big?kb=64', { 'Accept-Encoding': ae });
				assert.equal(res.status, 200);
				assert.equal(res.headers['content-encoding'], undefined, `Accept-Encoding: ${ae}`);
				assert.equal(res.text, bigText(64));
			}
		});
	});

	test('gzip: coding names are case-insensitive and "*" accepts gzip', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			for (const ae of ['GZIP', 'deflate, Gzip;q=0.5', '*', 'identity, *;q=0.1']) {
				const res = await rawGet(srv.port, '/big?kb=64', { 'Accept-Encoding': ae });
				assert.equal(res.headers['content-encoding'], 'gzip', `Accept-Encoding: ${ae}`);
				assert.equal(zlib.gunzipSync(res.body).toString('latin1'), bigText(64));
			}
		});
	});

	test('gzip: bodies below the minimum size are sent as they are', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const res = await rawGet(srv.port, '/hello', { 'Accept-Encoding': 'gzip' });
			assert.equal(res.headers['content-encoding'], undefined);
			assert.equal(res.text, 'hello');
			const r2 = await rawGet(srv.port, '/big?kb=0', { 'Accept-Encoding': 'gzip' });
			assert.equal(r2.status, 200);
			assert.equal(r2.headers['content-encoding'], undefined);
			assert.equal(r2.body.length, 0);
		});
	});

	test('gzip: HEAD of a compressible body has no body bytes', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				await c.write('HEAD /big?kb=64 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n');
				const h = await c.response({ head: true });
				assert.equal(h.status, 200);
				const g = await c.response();
				assert.equal(g.status, 200);
				assert.equal(g.text, 'hello');
			} finally {
				c.destroy();
			}
		});
	});
});

// parser.test.mjs - every request the parser refuses, through a raw socket:
// the status, the JSON error body, exactly one response, and the connection
// closed afterwards (nothing after a refused request is ever processed).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertJsonError, parseAll, rawExchange, withTestd } from './lib.mjs';

// Small limits so the limit tests need few bytes.
const LIMITS = ['--workers', '1', '--max-request-line', '100', '--max-header-bytes', '1024', '--max-headers', '10', '--max-body', '1000'];

// A request that would be answered 200 if the server went on reading after
// a refusal; it must never be answered.
const SMUGGLED = 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n';

/** Sends raw on a fresh connection; asserts one JSON error `status` and a close. */
async function expectRefused(port, raw, status, what = '') {
	const r = await rawExchange(port, raw, { timeout: 3000 });
	const text = r.data.toString('latin1');
	const label = `${what}${JSON.stringify(raw.length > 200 ? raw.slice(0, 200) + '...' : raw)}`;
	let rs;
	try {
		rs = parseAll(r.data);
	} catch (e) {
		assert.fail(`${label}: unparsable response ${JSON.stringify(text)}: ${e.message}`);
	}
	assert.equal(rs.length, 1, `${label}: expected exactly one response, got ${JSON.stringify(text)}`);
	assert.equal(rs[0].status, status, `${label}: got ${JSON.stringify(text)}`);
	assertJsonError(rs[0], status);
	assert.equal((rs[0].headers.connection || '').toLowerCase(), 'close', `${label}: Connection: close`);
	assert.ok(r.closed, `${label}: connection must be closed after the error`);
	assert.equal(r.timedOut, false);
	return rs[0];
}

/** Runs each [raw, status] case against one fresh testd with LIMITS. */
async function refuses(cases, args = LIMITS) {
	await withTestd(args, async (srv) => {
		// A sanity request first: the server does answer well-formed ones.
		const ok = await rawExchange(srv.port, 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
		assert.match(ok.data.toString('latin1'), /^HTTP\/1\.1 200 /);
		for (const [raw, status] of cases) await expectRefused(srv.port, raw, status);
		// And still does after all the refusals.
		const ok2 = await rawExchange(srv.port, 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
		assert.match(ok2.data.toString('latin1'), /^HTTP\/1\.1 200 /);
	});
}

const post = (headers, body = '') => `POST /echo HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;
const get = (headers) => `GET /hello HTTP/1.1\r\n${headers}\r\n`;

describe('parser rejections', { concurrency: 6 }, () => {
	test('Content-Length together with Transfer-Encoding is 400 and nothing after it is read', async () => {
		await refuses([
			[post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n' + SMUGGLED), 400],
			[post('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', '0\r\n\r\n' + SMUGGLED), 400],
		]);
	});

	test('duplicate Content-Length is 400, even with equal values', async () => {
		await refuses([
			[post('Content-Length: 3\r\nContent-Length: 3\r\n', 'abc'), 400],
			[post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), 400],
			[post('Content-Length: 3, 3\r\n', 'abc'), 400],
		]);
	});

	test('Content-Length that is not 1*DIGIT is 400', async () => {
		await refuses(
			['abc', '1x', '-1', '+3', '3 3', '0x10', '', '3.0'].map((v) => [post(`Content-Length: ${v}\r\n`, 'abc' + SMUGGLED), 400]),
		);
	});

	test('overflowing Content-Length is 400', async () => {
		await refuses([[post('Content-Length: 99999999999999999999999\r\n'), 400]]);
	});

	test('Transfer-Encoding other than chunked is 501', async () => {
		await refuses([
			[post('Transfer-Encoding: gzip\r\n'), 501],
			[post('Transfer-Encoding: gzip, chunked\r\n'), 501],
			[post('Transfer-Encoding: deflate\r\n'), 501],
		]);
	});

	test('Transfer-Encoding in an HTTP/1.0 request is 400', async () => {
		await refuses([['POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 400]]);
	});

	test('whitespace before a header colon is 400', async () => {
		await refuses([
			[get('Host: x\r\nX-A : b\r\n'), 400],
			[get('Host: x\r\nX-A\t: b\r\n'), 400],
			[get('Host : x\r\n'), 400],
			[post('Content-Length : 3\r\n', 'abc'), 400],
		]);
	});

	test('obs-fold (a header line starting with whitespace) is 400', async () => {
		await refuses([
			[get('Host: x\r\nX-A: b\r\n c\r\n'), 400],
			[get('Host: x\r\nX-A: b\r\n\tc\r\n'), 400],
		]);
	});

	test('bare CR is 400', async () => {
		await refuses([
			[get('Host: x\r\nX-A: b\rc\r\n'), 400],
			['GET /hello HTTP/1.1\rHost: x\r\n\r\n', 400],
			[get('Host: x\r\nX-A: b\r\r\n'), 400],
		]);
	});

	test('bare LF is 400', async () => {
		await refuses([
			['GET /hello HTTP/1.1\nHost: x\n\n', 400],
			['GET /hello HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n', 400],
			['GET /hello HTTP/1.1\r\nHost: x\r\n\n', 400],
		]);
	});

	test('NUL and control characters are 400', async () => {
		await refuses([
			[get('Host: x\r\nX-A: b\x00c\r\n'), 400],
			[get('Host: x\r\nX-A: b\x01c\r\n'), 400],
			[get('Host: x\r\nX-A: b\x1bc\r\n'), 400],
			[get('Host: x\r\nX-A: b\x7fc\r\n'), 400],
			['GET /he\x00llo HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET /he\x01llo HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET\x00/hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			[get('Host: x\r\nX-\x00A: b\r\n'), 400],
		]);
	});

	test('a header name with a non-token character is 400', async () => {
		await refuses(
			['X"A', 'X@A', 'X(A)', 'X,A', 'X/A', 'X[A]', 'X{A}', 'X\\A', 'X=A', 'X?A', 'X\u00e9A', ''].map((n) => [
				get(`Host: x\r\n${n}: b\r\n`),
				400,
			]),
		);
	});

	test('a header line without a colon is 400', async () => {
		await refuses([[get('Host: x\r\nNoColonHere\r\n'), 400]]);
	});

	test('HTTP/1.1 without Host is 400', async () => {
		await refuses([
			['GET /hello HTTP/1.1\r\n\r\n', 400],
			['GET /hello HTTP/1.1\r\nX-A: b\r\n\r\n', 400],
		]);
	});

	test('duplicate Host is 400', async () => {
		await refuses([
			[get('Host: x\r\nHost: x\r\n'), 400],
			[get('Host: x\r\nHost: y\r\n'), 400],
		]);
	});

	test('Host that is not uri-host [":" port] is 400 (e.g. a non-digit port)', async () => {
		await refuses(
			['x:8a', 'x:80:80', 'a b', 'x/y', 'x?y', 'x@y:80', '[::1', 'x:-1'].map((h) => [get(`Host: ${h}\r\n`), 400]),
		);
	});

	test('well-formed but unsupported versions (HTTP/2.0, HTTP/3.1, HTTP/0.9) are 505', async () => {
		await refuses([
			['GET /hello HTTP/2.0\r\nHost: x\r\n\r\n', 505],
			['GET /hello HTTP/3.1\r\nHost: x\r\n\r\n', 505],
			['GET /hello HTTP/1.2\r\nHost: x\r\n\r\n', 505],
			['GET /hello HTTP/0.9\r\nHost: x\r\n\r\n', 505],
		]);
	});

	test('malformed versions are 400', async () => {
		await refuses(
			['HTTP/1.1x', 'HTTP/11', 'http/1.1', 'HTTP/1', 'HTTP/1.', 'HTTP/a.b', 'HTTPS/1.1', 'HTTP/1.1 ', 'HTTP/10.0'].map((v) => [
				`GET /hello ${v}\r\nHost: x\r\n\r\n`,
				400,
			]),
		);
	});

	test('malformed request lines are 400', async () => {
		await refuses([
			['GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET /hello  HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET\t/hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET /hello\r\nHost: x\r\n\r\n', 400],
			[' GET /hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['G(T /hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['GET hello HTTP/1.1\r\nHost: x\r\n\r\n', 400],
			['CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', 400],
		]);
	});

	test('request line longer than --max-request-line is 414', async () => {
		await refuses([
			[`GET /${'a'.repeat(150)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
			// Refused before the line even ends.
			[`GET /${'a'.repeat(500)}`, 414],
		]);
	});

	test('a request line exactly at --max-request-line is accepted', async () => {
		await withTestd(LIMITS, async (srv) => {
			const pre = 'GET /query?k=v&v=';
			const line = pre + 'a'.repeat(100 - pre.length - ' HTTP/1.1'.length) + ' HTTP/1.1';
			assert.equal(line.length, 100);
			const r = await rawExchange(srv.port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
			const rs = parseAll(r.data);
			assert.equal(rs[0].status, 200, r.data.toString('latin1'));
			await expectRefused(srv.port, `${line.replace('v=a', 'v=aa')}\r\nHost: x\r\n\r\n`, 414);
		});
	});

	test('a head exactly at --max-header-bytes is accepted, one byte more is 431', async () => {
		await withTestd(LIMITS, async (srv) => {
			const make = (total) => {
				const pre = 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ';
				const head = pre + 'p'.repeat(total - pre.length - 4) + '\r\n\r\n';
				assert.equal(head.length, total);
				return head;
			};
			const r = await rawExchange(srv.port, make(1024));
			const rs = parseAll(r.data);
			assert.equal(rs[0].status, 200, r.data.toString('latin1'));
			await expectRefused(srv.port, make(1025), 431);
		});
	});

	test('head larger than --max-header-bytes is 431', async () => {
		await refuses([
			[get(`Host: x\r\nX-Big: ${'b'.repeat(2000)}\r\n`), 431],
			[get(`Host: x\r\n${Array.from({ length: 8 }, (_, i) => `X-${i}: ${'v'.repeat(150)}\r\n`).join('')}`), 431],
		]);
	});

	test('more header fields than --max-headers is 431', async () => {
		await refuses([[get(`Host: x\r\n${Array.from({ length: 20 }, (_, i) => `X-${i}: v\r\n`).join('')}`), 431]]);
		// Exactly at the limit is fine (Host + 9 more = 10).
		await withTestd(LIMITS, async (srv) => {
			const r = await rawExchange(srv.port, get(`Host: x\r\nConnection: close\r\n${Array.from({ length: 8 }, (_, i) => `X-${i}: v\r\n`).join('')}`));
			assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 200 /);
		});
	});

	test('body over --max-body by Content-Length is 413 before the body is sent', async () => {
		await refuses([[post('Content-Length: 1001\r\n'), 413]]);
	});

	test('body over --max-body by chunked total is 413', async () => {
		const chunk = (n) => `${n.toString(16)}\r\n${'a'.repeat(n)}\r\n`;
		await refuses([
			[post('Transfer-Encoding: chunked\r\n', chunk(600) + chunk(600) + '0\r\n\r\n'), 413],
			[post('Transfer-Encoding: chunked\r\n', chunk(1000) + chunk(1) + '0\r\n\r\n'), 413],
			// A single chunk size past the limit is refused at its digits.
			[post('Transfer-Encoding: chunked\r\n', '3e9\r\n'), 413],
			[post('Transfer-Encoding: chunked\r\n', 'fffffffffffffffffffffff\r\n'), 413],
		]);
	});

	test('malformed chunked encodings are 400', async () => {
		const te = 'Transfer-Encoding: chunked\r\n';
		await refuses([
			[post(te, 'zz\r\nhello\r\n0\r\n\r\n'), 400], // not hex
			[post(te, '\r\nhello\r\n0\r\n\r\n'), 400], // empty size
			[post(te, '-5\r\nhello\r\n0\r\n\r\n'), 400], // sign
			[post(te, '0x5\r\nhello\r\n0\r\n\r\n'), 400], // 0x prefix
			[post(te, '5\r\nhelloXX\r\n0\r\n\r\n'), 400], // data longer than size
			[post(te, '5\r\nhello\n0\r\n\r\n'), 400], // data + bare LF
			[post(te, '5\nhello\r\n0\r\n\r\n'), 400], // size line bare LF
			[post(te, '5\rhello\r\n0\r\n\r\n'), 400], // size line bare CR
			[post(te, '5;\r\nhello\r\n0\r\n\r\n'), 400], // empty extension name
			[post(te, '5;a=\r\nhello\r\n0\r\n\r\n'), 400], // empty extension value
			[post(te, '5;a="x\r\nhello\r\n0\r\n\r\n'), 400], // unterminated quoted string
			[post(te, '5 x\r\nhello\r\n0\r\n\r\n'), 400], // garbage after size
			[post(te, '5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n'), 400], // trailer name with space
			[post(te, '5\r\nhello\r\n0\r\nX-T : x\r\n\r\n'), 400], // space before colon in trailer
			[post(te, '5\r\nhello\r\n0\r\nX-T: a\x01b\r\n\r\n'), 400], // control char in trailer
			[post(te, '5\r\nhello\r\n0\r\nNoColon\r\n\r\n'), 400], // trailer without colon
		]);
	});

	test('an overflowing chunk size is 400 when --max-body does not catch it first', async () => {
		await refuses(
			[[post('Transfer-Encoding: chunked\r\n', 'fffffffffffffffffffffff\r\n'), 400]],
			['--workers', '1', '--max-body', '18446744073709551615'],
		);
	});

	test('a refused request in a pipeline ends the connection: later requests are not answered', async () => {
		await withTestd(LIMITS, async (srv) => {
			const raw = SMUGGLED + 'GET /hello HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n' + SMUGGLED + SMUGGLED;
			const r = await rawExchange(srv.port, raw, { timeout: 3000 });
			const rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.status),
				[200, 400],
				r.data.toString('latin1'),
			);
			assert.ok(r.closed);
		});
	});
});

// static.test.mjs - static files from --public, served by build/hearth:
// index and redirects, types, validators and conditional GET, ranges,
// precompressed siblings, large files, cache revalidation, path safety.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { Conn, assertJsonError, curl, parseAll, rawExchange, rawGet, sleep, tmpDir, withHearth } from './lib.mjs';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FILE_TXT = (ALNUM + ALNUM).slice(0, 100); // 100 bytes, file.txt
const INDEX = '<!doctype html><h1>home</h1>\n';
const DIR_INDEX = '<!doctype html><h1>dir</h1>\n';
const PAGE = '<!doctype html><p>page, plain version</p>\n'.repeat(10);
const PAGE_GZ_CONTENT = '<!doctype html><p>page, PRECOMPRESSED version</p>\n'.repeat(10);
const BIG = crypto.randomBytes(3 * 1024 * 1024 + 123);

/** Creates a fresh public folder; returns its path. */
function makePublic() {
	const root = tmpDir('hearth-public-');
	const w = (rel, data) => {
		fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
		fs.writeFileSync(path.join(root, rel), data);
	};
	w('index.html', INDEX);
	w('dir/index.html', DIR_INDEX);
	w('dir/sub/leaf.txt', 'leaf');
	fs.mkdirSync(path.join(root, 'emptydir'));
	w('file.txt', FILE_TXT);
	w('style.css', 'body { color: red }\n');
	w('app.js', 'console.log(1);\n');
	w('data.json', '{"a":1}\n');
	w('img.png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
	w('doc.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
	w('unknown.xyz', 'what am I');
	w('noext', 'no extension');
	w('page.html', PAGE);
	w('page.html.gz', zlib.gzipSync(PAGE_GZ_CONTENT));
	w('big.bin', BIG);
	w('.env', 'SECRET=1\n');
	w('dir/.secret', 'secret\n');
	w('.git/config', '[core]\n');
	w('.well-known/security.txt', 'Contact: me\n');
	w('space name.txt', 'spaced');
	// Fixed modification times on a Wednesday and on a Thursday.
	w('wed.txt', FILE_TXT);
	fs.utimesSync(path.join(root, 'wed.txt'), new Date('2024-01-03T12:00:00Z'), new Date('2024-01-03T12:00:00Z'));
	w('thu.txt', FILE_TXT);
	fs.utimesSync(path.join(root, 'thu.txt'), new Date('2024-01-04T12:00:00Z'), new Date('2024-01-04T12:00:00Z'));
	fs.symlinkSync('/etc/passwd', path.join(root, 'link-out'));
	fs.symlinkSync('/etc', path.join(root, 'etc-link'));
	fs.symlinkSync('../../../../../../../../etc/passwd', path.join(root, 'link-up'));
	fs.symlinkSync('file.txt', path.join(root, 'link-in'));
	fs.symlinkSync('dir', path.join(root, 'dir-link'));
	return root;
}

const PUBLIC = makePublic();
const serve = (fn, extra = []) => withHearth(['--workers', '1', '--public', PUBLIC, ...extra], fn);

/** Sends a raw request line target (no normalization at all). */
async function rawTarget(port, target, method = 'GET') {
	const r = await rawExchange(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { timeout: 3000 });
	const rs = parseAll(r.data, { heads: [method === 'HEAD'] });
	assert.equal(rs.length, 1, `${target}: ${r.data.toString('latin1')}`);
	return rs[0];
}

function assertNotLeaked(res, target) {
	assert.doesNotMatch(res.text, /root:/, `${target} leaked /etc/passwd`);
}

describe('static files', { concurrency: 4 }, () => {
	test('index.html is served at / and dir/index.html at /dir/', async () => {
		await serve(async (srv) => {
			let res = await rawGet(srv.port, '/');
			assert.equal(res.status, 200);
			assert.equal(res.text, INDEX);
			assert.match(res.headers['content-type'], /^text\/html/);
			res = await rawGet(srv.port, '/dir/');
			assert.equal(res.status, 200);
			assert.equal(res.text, DIR_INDEX);
			res = await rawGet(srv.port, '/dir/sub/leaf.txt');
			assert.equal(res.text, 'leaf');
			res = await rawGet(srv.port, '/space%20name.txt');
			assert.equal(res.text, 'spaced');
			// No directory listings.
			res = await rawGet(srv.port, '/emptydir/');
			assert.equal(res.status, 404);
			res = await rawGet(srv.port, '/missing.txt');
			assertJsonError(res, 404);
			// The API still works next to static files.
			res = await rawGet(srv.port, '/api/health');
			assert.equal(res.status, 200);
		});
	});

	test('a directory without the slash gets 301 to dir/ with the query kept', async () => {
		await serve(async (srv) => {
			let res = await rawGet(srv.port, '/dir');
			assert.equal(res.status, 301);
			assert.equal(res.headers.location, '/dir/');
			res = await rawGet(srv.port, '/dir?x=1&y=%20');
			assert.equal(res.status, 301);
			assert.equal(res.headers.location, '/dir/?x=1&y=%20');
			res = await rawGet(srv.port, '/dir/sub');
			assert.equal(res.status, 301);
			assert.equal(res.headers.location, '/dir/sub/');
			// curl follows it.
			const r = await curl(['-L', `${srv.url}/dir`]);
			assert.equal(r.stdout, DIR_INDEX);
		});
	});

	test('Content-Type is chosen by extension', async () => {
		await serve(async (srv) => {
			const want = {
				'/index.html': /^text\/html/,
				'/file.txt': /^text\/plain/,
				'/style.css': /^text\/css/,
				'/app.js': /^(text|application)\/javascript/,
				'/data.json': /^application\/json/,
				'/img.png': /^image\/png$/,
				'/doc.svg': /^image\/svg\+xml/,
				'/unknown.xyz': /^application\/octet-stream$/,
				'/noext': /^application\/octet-stream$/,
				'/page.html.gz': /^application\/gzip$/,
			};
			for (const [p, re] of Object.entries(want)) {
				const res = await rawGet(srv.port, p);
				assert.equal(res.status, 200, p);
				assert.match(res.headers['content-type'] || '', re, p);
				if (p === '/page.html.gz') assert.equal(res.headers['content-encoding'], undefined, 'a .gz file asked for by name is not Content-Encoded');
			}
		});
	});

	test('static responses carry ETag, Last-Modified, Accept-Ranges and Cache-Control', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/file.txt');
			assert.equal(res.status, 200);
			assert.equal(res.text, FILE_TXT);
			assert.equal(res.headers['content-length'], '100');
			assert.match(res.headers.etag, /^"[^"]+"$/, 'strong ETag');
			const mtime = fs.statSync(path.join(PUBLIC, 'file.txt')).mtime;
			assert.equal(res.headers['last-modified'], mtime.toUTCString());
			assert.equal(res.headers['accept-ranges'], 'bytes');
			assert.equal(res.headers['cache-control'], 'no-cache');
			// HEAD: same headers, no body.
			const h = await rawGet(srv.port, '/file.txt', {}, { method: 'HEAD' });
			assert.equal(h.status, 200);
			assert.equal(h.headers['content-length'], '100');
			assert.equal(h.headers.etag, res.headers.etag);
			assert.equal(h.body.length, 0);
		});
	});

	test('--static-max-age sets Cache-Control public, max-age', async () => {
		await serve(
			async (srv) => {
				const res = await rawGet(srv.port, '/file.txt');
				assert.equal(res.headers['cache-control'], 'public, max-age=3600');
			},
			['--static-max-age', '3600'],
		);
	});

	test('If-None-Match with the ETag is 304', async () => {
		await serve(async (srv) => {
			const etag = (await rawGet(srv.port, '/file.txt')).headers.etag;
			for (const inm of [etag, `"nope", ${etag}`, '*', `W/${etag}`]) {
				const res = await rawGet(srv.port, '/file.txt', { 'If-None-Match': inm });
				assert.equal(res.status, 304, `If-None-Match: ${inm}`);
				assert.equal(res.body.length, 0);
				assert.equal(res.headers.etag, etag);
			}
			const res = await rawGet(srv.port, '/file.txt', { 'If-None-Match': '"other"' });
			assert.equal(res.status, 200);
			assert.equal(res.text, FILE_TXT);
		});
	});

	test('If-Modified-Since at or after Last-Modified is 304, before it 200', async () => {
		await serve(async (srv) => {
			const first = await rawGet(srv.port, '/file.txt');
			const lm = first.headers['last-modified'];
			let res = await rawGet(srv.port, '/file.txt', { 'If-Modified-Since': lm });
			assert.equal(res.status, 304);
			assert.equal(res.body.length, 0);
			res = await rawGet(srv.port, '/file.txt', { 'If-Modified-Since': new Date(Date.now() + 3600e3).toUTCString() });
			assert.equal(res.status, 304);
			res = await rawGet(srv.port, '/file.txt', { 'If-Modified-Since': new Date(Date.parse(lm) - 3600e3).toUTCString() });
			assert.equal(res.status, 200);
			res = await rawGet(srv.port, '/file.txt', { 'If-Modified-Since': 'not a date' });
			assert.equal(res.status, 200);
			// If-None-Match takes precedence over If-Modified-Since.
			res = await rawGet(srv.port, '/file.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': lm });
			assert.equal(res.status, 200);
		});
	});

	test('Range bytes=0-9 is 206 with Content-Range', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-9' });
			assert.equal(res.status, 206);
			assert.equal(res.headers['content-range'], 'bytes 0-9/100');
			assert.equal(res.headers['content-length'], '10');
			assert.equal(res.text, FILE_TXT.slice(0, 10));
			const mid = await rawGet(srv.port, '/file.txt', { Range: 'bytes=10-19' });
			assert.equal(mid.text, FILE_TXT.slice(10, 20));
			// An end past the file is clamped.
			const past = await rawGet(srv.port, '/file.txt', { Range: 'bytes=90-500' });
			assert.equal(past.status, 206);
			assert.equal(past.headers['content-range'], 'bytes 90-99/100');
			assert.equal(past.text, FILE_TXT.slice(90));
		});
	});

	test('suffix range bytes=-N is the last N bytes', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=-7' });
			assert.equal(res.status, 206);
			assert.equal(res.headers['content-range'], 'bytes 93-99/100');
			assert.equal(res.text, FILE_TXT.slice(93));
			const all = await rawGet(srv.port, '/file.txt', { Range: 'bytes=-1000' });
			assert.equal(all.status, 206);
			assert.equal(all.headers['content-range'], 'bytes 0-99/100');
			assert.equal(all.text, FILE_TXT);
		});
	});

	test('open-ended range bytes=N- runs to the end', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=95-' });
			assert.equal(res.status, 206);
			assert.equal(res.headers['content-range'], 'bytes 95-99/100');
			assert.equal(res.text, FILE_TXT.slice(95));
		});
	});

	test('unsatisfiable range is 416 with Content-Range bytes */size', async () => {
		await serve(async (srv) => {
			for (const range of ['bytes=100-', 'bytes=200-300', 'bytes=-0']) {
				const res = await rawGet(srv.port, '/file.txt', { Range: range });
				assert.equal(res.status, 416, range);
				assert.equal(res.headers['content-range'], 'bytes */100', range);
			}
		});
	});

	test('multiple ranges are answered 200 with the whole file', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-1,5-6' });
			assert.equal(res.status, 200);
			assert.equal(res.headers['content-range'], undefined);
			assert.equal(res.text, FILE_TXT);
		});
	});

	test('If-Range with a different validator gets 200 whole, with the current ETag 206', async () => {
		await serve(async (srv) => {
			const first = await rawGet(srv.port, '/file.txt');
			let res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-9', 'If-Range': '"stale"' });
			assert.equal(res.status, 200);
			assert.equal(res.text, FILE_TXT);
			res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-9', 'If-Range': first.headers.etag });
			assert.equal(res.status, 206);
			assert.equal(res.text, FILE_TXT.slice(0, 10));
			// If-Range uses the strong comparison: a weak tag never matches.
			res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-9', 'If-Range': `W/${first.headers.etag}` });
			assert.equal(res.status, 200);
			res = await rawGet(srv.port, '/file.txt', { Range: 'bytes=0-9', 'If-Range': 'Mon, 01 Jan 2001 00:00:00 GMT' });
			assert.equal(res.status, 200);
		});
	});

	test('If-Range with the Last-Modified date gets 206, whatever the weekday', async () => {
		await serve(async (srv) => {
			for (const f of ['/thu.txt', '/wed.txt']) {
				const first = await rawGet(srv.port, f);
				const lm = first.headers['last-modified'];
				const res = await rawGet(srv.port, f, { Range: 'bytes=0-9', 'If-Range': lm });
				assert.equal(res.status, 206, `${f}: Range with If-Range: ${lm}`);
				assert.equal(res.text, FILE_TXT.slice(0, 10));
			}
		});
	});

	test('a precompressed .gz sibling is served with Content-Encoding: gzip when accepted', async () => {
		await serve(async (srv) => {
			let res = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip, deflate' });
			assert.equal(res.status, 200);
			assert.equal(res.headers['content-encoding'], 'gzip');
			assert.match(res.headers.vary || '', /accept-encoding/i);
			assert.match(res.headers['content-type'], /^text\/html/);
			assert.equal(zlib.gunzipSync(res.body).toString(), PAGE_GZ_CONTENT, 'the .gz sibling, not an on-the-fly compression');
			const gzEtag = res.headers.etag;
			// Not accepted: the plain file.
			res = await rawGet(srv.port, '/page.html');
			assert.equal(res.headers['content-encoding'], undefined);
			assert.equal(res.text, PAGE);
			assert.notEqual(res.headers.etag, gzEtag, 'encodings have distinct ETags');
			res = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip;q=0' });
			assert.equal(res.headers['content-encoding'], undefined);
			assert.equal(res.text, PAGE);
			// With a Range: the plain file.
			res = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip', Range: 'bytes=0-14' });
			assert.equal(res.status, 206);
			assert.equal(res.headers['content-encoding'], undefined);
			assert.equal(res.text, PAGE.slice(0, 15));
			// 304 for the gzip variant's ETag.
			res = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip', 'If-None-Match': gzEtag });
			assert.equal(res.status, 304);
		});
	});

	test('a changed or removed .gz sibling is noticed (cache revalidation)', async () => {
		const root = tmpDir('hearth-public-');
		const plain = '<p>plain text, long enough to be worth compressing</p>\n'.repeat(10);
		fs.writeFileSync(path.join(root, 'page.html'), plain);
		fs.writeFileSync(path.join(root, 'page.html.gz'), zlib.gzipSync('<p>gz v1</p>\n'.repeat(10)));
		await withHearth(['--workers', '1', '--public', root], async (srv) => {
			const get = async () => {
				const r = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip' });
				return r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body).toString() : r.text;
			};
			assert.equal(await get(), '<p>gz v1</p>\n'.repeat(10));
			fs.writeFileSync(path.join(root, 'page.html.gz'), zlib.gzipSync('<p>gz v2</p>\n'.repeat(10)));
			let got;
			let deadline = Date.now() + 4000;
			do {
				await sleep(200);
				got = await get();
			} while (got !== '<p>gz v2</p>\n'.repeat(10) && Date.now() < deadline);
			assert.equal(got, '<p>gz v2</p>\n'.repeat(10), 'an updated .gz sibling is never picked up');
			fs.unlinkSync(path.join(root, 'page.html.gz'));
			deadline = Date.now() + 4000;
			do {
				await sleep(200);
				got = await get();
			} while (got !== plain && Date.now() < deadline);
			assert.equal(got, plain, 'a deleted .gz sibling is still served');
		});
	});

	test('a stale .gz sibling (older than its file) is not served', async () => {
		// static.c: the gzip form comes "from the .gz sibling when it is current".
		const root = tmpDir('hearth-public-');
		const plain = '<p>new plain text, long enough to be worth compressing</p>\n'.repeat(10);
		fs.writeFileSync(path.join(root, 'page.html'), plain);
		fs.writeFileSync(path.join(root, 'page.html.gz'), zlib.gzipSync('<p>old gz</p>\n'.repeat(10)));
		const old = new Date(Date.now() - 3600e3);
		fs.utimesSync(path.join(root, 'page.html.gz'), old, old);
		await withHearth(['--workers', '1', '--public', root], async (srv) => {
			const r = await rawGet(srv.port, '/page.html', { 'Accept-Encoding': 'gzip' });
			const got = r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body).toString() : r.text;
			assert.equal(got, plain, 'both encodings of one URL must carry the same content');
		});
	});

	test('small compressible files are gzipped when accepted', async () => {
		await serve(async (srv) => {
			const res = await rawGet(srv.port, '/index.html', { 'Accept-Encoding': 'gzip' });
			assert.equal(res.status, 200);
			if (res.headers['content-encoding'] === 'gzip') assert.equal(zlib.gunzipSync(res.body).toString(), INDEX);
			else assert.equal(res.text, INDEX); // may be under gzip_min_bytes
			const css = await rawGet(srv.port, '/file.txt', { 'Accept-Encoding': 'gzip' });
			const plain = css.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(css.body).toString() : css.text;
			assert.equal(plain, FILE_TXT);
		});
	});

	test('304, 206, 416 and HEAD responses keep keep-alive framing intact', async () => {
		await serve(async (srv) => {
			const etag = (await rawGet(srv.port, '/file.txt')).headers.etag;
			const reqs = [
				['GET', { 'If-None-Match': etag }],
				['GET', { Range: 'bytes=0-1' }],
				['GET', { Range: 'bytes=900-' }],
				['HEAD', { 'Accept-Encoding': 'gzip' }],
				['HEAD', { Range: 'bytes=0-1' }], // Range is defined for GET only (RFC 9110 §14.2): 200
				['GET', { 'If-Modified-Since': new Date(Date.now() + 3600e3).toUTCString() }],
				['GET', { Connection: 'close' }],
			];
			const raw = reqs
				.map(([m, h]) => `${m} /file.txt HTTP/1.1\r\nHost: x\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)
				.join('');
			const r = await rawExchange(srv.port, raw, { timeout: 3000 });
			const rs = parseAll(r.data, { heads: reqs.map(([m]) => m === 'HEAD') });
			assert.deepEqual(
				rs.map((x) => x.status),
				[304, 206, 416, 200, 200, 304, 200],
				r.data.toString('latin1'),
			);
			assert.equal(rs[1].text, FILE_TXT.slice(0, 2));
			assert.equal(rs[6].text, FILE_TXT);
			assert.equal(rs.incomplete, undefined);
		});
	});

	test('percent-encoded UTF-8 file names and query strings on files work', async () => {
		const root = tmpDir('hearth-public-');
		fs.writeFileSync(path.join(root, 'été.txt'), 'summer');
		fs.writeFileSync(path.join(root, 'index.html'), INDEX);
		await withHearth(['--workers', '1', '--public', root], async (srv) => {
			let res = await rawGet(srv.port, '/%C3%A9t%C3%A9.txt');
			assert.equal(res.status, 200);
			assert.equal(res.text, 'summer');
			res = await rawGet(srv.port, '/%C3%A9t%C3%A9.txt?v=123');
			assert.equal(res.text, 'summer');
			res = await rawGet(srv.port, '/?utm=1');
			assert.equal(res.text, INDEX);
		});
	});

	test('a 3 MiB file is served byte-identical (sendfile), also with ranges', async () => {
		await serve(async (srv) => {
			const f = await fetch(`${srv.url}/big.bin`);
			assert.equal(f.status, 200);
			assert.equal(f.headers.get('content-length'), String(BIG.length));
			assert.ok(Buffer.from(await f.arrayBuffer()).equals(BIG), 'fetch body differs');
			const out = path.join(tmpDir(), 'big.out');
			const r = await curl(['-o', out, `${srv.url}/big.bin`]);
			assert.equal(r.code, 0, r.stderr);
			assert.ok(fs.readFileSync(out).equals(BIG), 'curl body differs');
			const res = await rawGet(srv.port, '/big.bin', { Range: 'bytes=1000000-1000099' });
			assert.equal(res.status, 206);
			assert.ok(res.body.equals(BIG.subarray(1000000, 1000100)));
			const tail = await rawGet(srv.port, '/big.bin', { Range: 'bytes=-10' });
			assert.ok(tail.body.equals(BIG.subarray(BIG.length - 10)));
			// Several times on one keep-alive connection.
			let raw = '';
			for (let i = 0; i < 3; i++) raw += 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n';
			raw += 'GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
			const x = await rawExchange(srv.port, raw, { timeout: 10000 });
			const rs = parseAll(x.data);
			assert.equal(rs.length, 4);
			for (let i = 0; i < 3; i++) assert.ok(rs[i].body.equals(BIG), `pipelined copy ${i}`);
			assert.equal(rs[3].text, FILE_TXT);
		});
	});

	test('a large file evicted from the page cache is read on the thread pool and served intact', async () => {
		// dd with iflag=nocache asks the kernel to drop the file's cached pages
		// (POSIX_FADV_DONTNEED); hearth then finds the range cold (RWF_NOWAIT)
		// and warms it off the event loop before sendfile.
		const { spawnSync } = await import('node:child_process');
		await serve(async (srv) => {
			for (let round = 0; round < 3; round++) {
				spawnSync('dd', [`if=${path.join(PUBLIC, 'big.bin')}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
				const [big, health] = await Promise.all([
					fetch(`${srv.url}/big.bin`).then(async (f) => ({ status: f.status, body: Buffer.from(await f.arrayBuffer()) })),
					fetch(`${srv.url}/file.txt`).then((f) => f.text()),
				]);
				assert.equal(big.status, 200);
				assert.ok(big.body.equals(BIG), `round ${round}: body differs`);
				assert.equal(health, FILE_TXT);
				const part = await rawGet(srv.port, '/big.bin', { Range: 'bytes=2000000-2000009' });
				assert.equal(part.status, 206);
				assert.ok(part.body.equals(BIG.subarray(2000000, 2000010)));
			}
		});
	});

	test('downloads of a large file aborted midway leak no file descriptors', async () => {
		await serve(async (srv) => {
			await rawGet(srv.port, '/big.bin');
			await sleep(100);
			const before = srv.fdCount();
			await Promise.all(
				Array.from({ length: 20 }, async (_, i) => {
					const c = await Conn.open(srv.port);
					await c.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
					await c.waitFor(() => c.buf.length > 100000, 3000);
					if (i % 2) c.sock.resetAndDestroy();
					else c.destroy();
				}),
			);
			let after;
			const deadline = Date.now() + 3000;
			do {
				await sleep(100);
				after = srv.fdCount();
			} while (after > before && Date.now() < deadline);
			assert.ok(after <= before, `open fds grew from ${before} to ${after}`);
			const res = await rawGet(srv.port, '/big.bin');
			assert.ok(res.body.equals(BIG));
		});
	});

	test('a modified file is seen after about a second (cache revalidation)', async () => {
		const root = tmpDir('hearth-public-');
		const file = path.join(root, 'mutable.txt');
		fs.writeFileSync(file, 'version-1');
		await withHearth(['--workers', '1', '--public', root], async (srv) => {
			const a = await rawGet(srv.port, '/mutable.txt');
			assert.equal(a.text, 'version-1');
			await sleep(20);
			fs.writeFileSync(file, 'version-2'); // same size, in place
			let b;
			const deadline = Date.now() + 4000;
			do {
				await sleep(200);
				b = await rawGet(srv.port, '/mutable.txt');
			} while (b.text !== 'version-2' && Date.now() < deadline);
			assert.equal(b.text, 'version-2', 'change never noticed');
			assert.notEqual(b.headers.etag, a.headers.etag);
			// Replaced by rename with a different size.
			fs.writeFileSync(file + '.tmp', 'version-three');
			fs.renameSync(file + '.tmp', file);
			let c;
			const d2 = Date.now() + 4000;
			do {
				await sleep(200);
				c = await rawGet(srv.port, '/mutable.txt');
			} while (c.text !== 'version-three' && Date.now() < d2);
			assert.equal(c.text, 'version-three');
			assert.equal(c.headers['content-length'], '13');
			// Deleted.
			fs.unlinkSync(file);
			let d;
			const d3 = Date.now() + 4000;
			do {
				await sleep(200);
				d = await rawGet(srv.port, '/mutable.txt');
			} while (d.status !== 404 && Date.now() < d3);
			assert.equal(d.status, 404, 'a deleted file must stop being served');
		});
	});

	test('traversal: /../etc/passwd on a raw socket and with curl --path-as-is is refused', async () => {
		await serve(async (srv) => {
			for (const t of ['/../etc/passwd', '/../../../../etc/passwd', '/dir/../../etc/passwd', '/./file.txt', '/dir/./index.html', '/..']) {
				const res = await rawTarget(srv.port, t);
				assertNotLeaked(res, t);
				assertJsonError(res, 400);
			}
			const r = await curl(['--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', `${srv.url}/../../etc/passwd`]);
			assert.equal(r.stdout, '400');
		});
	});

	test('traversal: encoded dot segments /%2e%2e/ are refused', async () => {
		await serve(async (srv) => {
			for (const t of ['/%2e%2e/etc/passwd', '/%2E%2E/%2E%2E/etc/passwd', '/.%2e/etc/passwd', '/%2e./etc/passwd', '/dir/%2e%2e/%2e%2e/etc/passwd', '/%2e/file.txt']) {
				const res = await rawTarget(srv.port, t);
				assertNotLeaked(res, t);
				assertJsonError(res, 400);
			}
		});
	});

	test('traversal: an encoded slash %2f is refused', async () => {
		await serve(async (srv) => {
			for (const t of ['/..%2fetc%2fpasswd', '/dir%2findex.html', '/dir%2Findex.html', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
				const res = await rawTarget(srv.port, t);
				assertNotLeaked(res, t);
				assertJsonError(res, 400);
			}
		});
	});

	test('traversal: backslashes, raw or encoded, are refused', async () => {
		await serve(async (srv) => {
			for (const t of ['/dir%5c..%5c..%5cetc%5cpasswd', '/..%5Cetc%5Cpasswd', '/dir\\index.html', '/..\\..\\etc\\passwd']) {
				const res = await rawTarget(srv.port, t);
				assertNotLeaked(res, t);
				assertJsonError(res, 400);
			}
		});
	});

	test('traversal: %00 and encoded control bytes are refused', async () => {
		await serve(async (srv) => {
			for (const t of ['/file.txt%00', '/file.txt%00.html', '/%00', '/file%0a.txt', '/file%1b.txt', '/bad%zzescape', '/bad%2']) {
				const res = await rawTarget(srv.port, t);
				assertJsonError(res, 400);
			}
		});
	});

	test('a symlink inside the public folder pointing outside is 404', async () => {
		await serve(async (srv) => {
			for (const t of ['/link-out', '/etc-link/passwd', '/link-up', '/etc-link/']) {
				const res = await rawTarget(srv.port, t);
				assertNotLeaked(res, t);
				assertJsonError(res, 404);
			}
		});
	});

	test('a symlink pointing inside the public folder works', async () => {
		await serve(async (srv) => {
			let res = await rawGet(srv.port, '/link-in');
			assert.equal(res.status, 200);
			assert.equal(res.text, FILE_TXT);
			res = await rawGet(srv.port, '/dir-link/sub/leaf.txt');
			assert.equal(res.status, 200);
			assert.equal(res.text, 'leaf');
		});
	});

	test('hidden files (/.env, /.git/config, dir/.secret) are 404, /.well-known is served', async () => {
		await serve(async (srv) => {
			for (const t of ['/.env', '/.git/config', '/dir/.secret', '/%2eenv', '/.git/']) {
				const res = await rawTarget(srv.port, t);
				assertJsonError(res, 404);
				assert.doesNotMatch(res.text, /SECRET|core|secret\n/);
			}
			const res = await rawGet(srv.port, '/.well-known/security.txt');
			assert.equal(res.status, 200);
			assert.equal(res.text, 'Contact: me\n');
		});
	});

	test('empty path segments are 404', async () => {
		await serve(async (srv) => {
			const res = await rawTarget(srv.port, '/dir//index.html');
			assertJsonError(res, 404);
		});
	});

	test('POST (and other methods) to a static file is 405 with Allow: GET, HEAD', async () => {
		await serve(async (srv) => {
			for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
				const r = await rawExchange(srv.port, `${m} /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`, { timeout: 3000 });
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1, r.data.toString('latin1'));
				assertJsonError(rs[0], 405);
				assert.equal(rs[0].headers.allow, 'GET, HEAD', m);
			}
			// The file is untouched.
			assert.equal(fs.readFileSync(path.join(PUBLIC, 'file.txt'), 'latin1'), FILE_TXT);
		});
	});
});

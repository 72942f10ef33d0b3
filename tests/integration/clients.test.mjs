// clients.test.mjs - slow and broken clients: timeouts, minimum body rate,
// resets, half-closes, the connection limit. Server timeouts are small;
// the tests only assert that things happen eventually (generous margins),
// never exact durations.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { Conn, assertJsonError, parseAll, rawExchange, sleep, withTestd } from './lib.mjs';

const HELLO = 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n';

async function assertServes(port) {
	const r = await rawExchange(port, 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeout: 3000 });
	const rs = parseAll(r.data);
	assert.equal(rs.length, 1, `server should still serve: ${r.data.toString('latin1')}`);
	assert.equal(rs[0].text, 'hello');
}

describe('slow and broken clients', { concurrency: 6 }, () => {
	test('header timeout: a partial head gets 408 and the connection closes', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '500'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /hello HTTP/1.1\r\nHo', { timeout: 4000 });
			assert.ok(r.closed, 'connection should be closed after the header timeout');
			assert.equal(r.timedOut, false);
			const rs = parseAll(r.data);
			assert.equal(rs.length, 1, `expected a 408, got ${JSON.stringify(r.data.toString('latin1'))}`);
			assertJsonError(rs[0], 408);
			await assertServes(srv.port);
		});
	});

	test('header timeout: a head trickled byte by byte is still cut off', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '500'], async (srv) => {
			// One byte every 100 ms: each byte is progress, but the head as a
			// whole must arrive within the timeout of its first byte.
			const head = 'GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(60) + '\r\n\r\n';
			const t0 = Date.now();
			const r = await rawExchange(srv.port, head.split(''), { delay: 100, timeout: 4000 });
			assert.ok(r.closed, 'connection should be closed');
			const rs = parseAll(r.data);
			assert.equal(rs.length, 1, JSON.stringify(r.data.toString('latin1')));
			assertJsonError(rs[0], 408);
			assert.ok(Date.now() - t0 < 5000, 'cut off long before the whole head was sent');
		});
	});

	test('a connection that sends nothing is closed after the header timeout', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '500'], async (srv) => {
			const r = await rawExchange(srv.port, [], { timeout: 4000 });
			assert.ok(r.closed, 'idle new connection should be closed');
			assert.equal(r.timedOut, false);
			if (r.data.length > 0) {
				// If anything is sent, it must be a well-formed 408.
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1);
				assertJsonError(rs[0], 408);
			}
		});
	});

	test('body minimum rate: a body trickling below --body-min-rate gets 408 and close', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '300', '--body-min-rate', '10000'], async (srv) => {
			const pieces = ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n'];
			for (let i = 0; i < 40; i++) pieces.push('abcde');
			const t0 = Date.now();
			const r = await rawExchange(srv.port, pieces, { delay: 100, timeout: 4000 });
			assert.ok(r.closed, 'slow body should be cut off');
			const rs = parseAll(r.data);
			assert.equal(rs.length, 1, JSON.stringify(r.data.toString('latin1')));
			assertJsonError(rs[0], 408);
			assert.ok(Date.now() - t0 < 4000 + 40 * 100, 'cut off while still sending');
			await assertServes(srv.port);
		});
	});

	test('body minimum rate: a body at a good rate is not cut off', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '300', '--body-min-rate', '1000'], async (srv) => {
			// 20 KB/s for ~1 s, well above 1000 B/s.
			const pieces = ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n'];
			for (let i = 0; i < 20; i++) pieces.push('x'.repeat(1000));
			const r = await rawExchange(srv.port, pieces, { delay: 50, timeout: 4000 });
			const rs = parseAll(r.data);
			assert.equal(rs.length, 1);
			assert.equal(rs[0].status, 200);
			assert.equal(rs[0].body.length, 20000);
		});
	});

	test('idle keep-alive timeout closes an idle connection', async () => {
		await withTestd(['--workers', '1', '--idle-timeout-ms', '300'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				await c.write(HELLO);
				assert.equal((await c.response()).text, 'hello');
				assert.ok(await c.closed(4000), 'idle connection should be closed after the idle timeout');
				assert.equal(c.buf.length, 0, `no response expected on idle close, got ${c.buf.toString('latin1')}`);
			} finally {
				c.destroy();
			}
		});
	});

	test('activity keeps a keep-alive connection open past the idle timeout', async () => {
		await withTestd(['--workers', '1', '--idle-timeout-ms', '600'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				// Requests every 150 ms for ~1.5 s: each resets the idle timer.
				for (let i = 0; i < 10; i++) {
					await c.write(HELLO);
					assert.equal((await c.response()).text, 'hello', `request ${i}`);
					await sleep(150);
				}
			} finally {
				c.destroy();
			}
		});
	});

	test('clients that reset or vanish mid-request do not disturb others', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '2000'], async (srv) => {
			const broken = [];
			const partials = [
				'GET /hello HTTP/1.1\r\nHo',
				'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc',
				'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc',
				'GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n', // leaves while the handler runs
				'GET /big?kb=4096 HTTP/1.1\r\nHost: x\r\n\r\n', // leaves while the response is written
				'GET /stream?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n',
			];
			for (let round = 0; round < 3; round++) {
				for (const p of partials) {
					broken.push(
						(async () => {
							const c = await Conn.open(srv.port);
							await c.write(p);
							await sleep(30);
							if (round === 0) c.sock.resetAndDestroy();
							else if (round === 1) c.destroy();
							else {
								c.end();
								await sleep(20);
								c.destroy();
							}
						})(),
					);
				}
				// A well-behaved client at the same time.
				const good = await Conn.open(srv.port);
				try {
					for (let i = 0; i < 5; i++) {
						await good.write(HELLO);
						assert.equal((await good.response()).text, 'hello');
					}
				} finally {
					good.destroy();
				}
			}
			await Promise.all(broken);
			await sleep(400); // let the /slow handlers finish for clients that left
			await assertServes(srv.port);
		});
	});

	test('broken clients leak no file descriptors', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '2000'], async (srv) => {
			await assertServes(srv.port);
			await sleep(100);
			const before = srv.fdCount();
			await Promise.all(
				Array.from({ length: 30 }, async (_, i) => {
					const c = await Conn.open(srv.port);
					await c.write(['GET /hello HTTP/1.1\r\nHo', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab', 'GET /big?kb=8192 HTTP/1.1\r\nHost: x\r\n\r\n'][i % 3]);
					await sleep(20);
					if (i % 2) c.sock.resetAndDestroy();
					else c.destroy();
				}),
			);
			let after;
			const deadline = Date.now() + 10000; // sanitized builds on a loaded machine close late
			do {
				await sleep(100);
				after = srv.fdCount();
			} while (after > before && Date.now() < deadline);
			assert.ok(after <= before, `open fds grew from ${before} to ${after}`);
			await assertServes(srv.port);
		});
	});

	test('a client that half-closes after a complete request still gets the response', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			let r = await rawExchange(srv.port, HELLO, { end: true, timeout: 3000 });
			let rs = parseAll(r.data);
			assert.equal(rs.length, 1);
			assert.equal(rs[0].text, 'hello');
			assert.ok(r.closed, 'server closes once it has answered a half-closed client');
			// Also for a request answered later, and for two pipelined ones.
			r = await rawExchange(srv.port, 'GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n' + HELLO, { end: true, timeout: 3000 });
			rs = parseAll(r.data);
			assert.deepEqual(
				rs.map((x) => x.text),
				['slow 200', 'hello'],
			);
			// And a POST whose body ends right before the FIN.
			r = await rawExchange(srv.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody', { end: true, timeout: 3000 });
			rs = parseAll(r.data);
			assert.equal(rs[0]?.text, 'body');
		});
	});

	test('a client that half-closes in the middle of a head gets no response and is closed', async () => {
		await withTestd(['--workers', '1'], async (srv) => {
			const r = await rawExchange(srv.port, 'GET /hello HTTP/1.1\r\nHo', { end: true, timeout: 3000 });
			assert.ok(r.closed);
			assert.equal(r.timedOut, false);
			// A 400 would be acceptable; a 200 would not.
			assert.doesNotMatch(r.data.toString('latin1'), /^HTTP\/1\.1 200/);
			await assertServes(srv.port);
		});
	});

	test('max connections: the 5th connection gets a well-formed 503 JSON error and close', async () => {
		await withTestd(['--workers', '1', '--max-connections', '4'], async (srv) => {
			const conns = [];
			try {
				for (let i = 0; i < 4; i++) {
					const c = await Conn.open(srv.port);
					conns.push(c);
					await c.write(HELLO);
					assert.equal((await c.response()).text, 'hello');
				}
				const r = await rawExchange(srv.port, HELLO, { timeout: 3000 });
				assert.ok(r.closed, '5th connection must be closed');
				const rs = parseAll(r.data);
				assert.equal(rs.length, 1, `${rs.incompleteInfo || ''}: ${JSON.stringify(r.data.toString('latin1'))}`);
				assertJsonError(rs[0], 503);
			} finally {
				for (const c of conns) c.destroy();
			}
		});
	});

	test('max connections: the first four keep working while a 5th is refused, and a freed slot is reused', async () => {
		await withTestd(['--workers', '1', '--max-connections', '4'], async (srv) => {
			const conns = [];
			try {
				for (let i = 0; i < 4; i++) {
					const c = await Conn.open(srv.port);
					conns.push(c);
					await c.write(HELLO);
					assert.equal((await c.response()).text, 'hello');
				}
				for (let k = 0; k < 3; k++) {
					const r = await rawExchange(srv.port, HELLO, { timeout: 3000 });
					assert.ok(r.closed, 'extra connection must be closed');
					assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 503 /);
				}
				for (const c of conns) {
					await c.write(HELLO);
					assert.equal((await c.response()).text, 'hello');
				}
				// Once one leaves, a new connection is served again.
				conns.pop().destroy();
				let served = false;
				for (let i = 0; i < 40 && !served; i++) {
					await sleep(50);
					const r2 = await rawExchange(srv.port, 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeout: 3000 });
					served = r2.data.toString('latin1').startsWith('HTTP/1.1 200');
				}
				assert.ok(served, 'a slot freed by a closed connection is reused');
				for (const c of conns) {
					await c.write(HELLO);
					assert.equal((await c.response()).text, 'hello');
				}
			} finally {
				for (const c of conns) c.destroy();
			}
		});
	});

	test('header timeout applies to the next request on a keep-alive connection', async () => {
		await withTestd(['--workers', '1', '--header-timeout-ms', '500', '--idle-timeout-ms', '60000'], async (srv) => {
			const c = await Conn.open(srv.port);
			try {
				await c.write(HELLO);
				assert.equal((await c.response()).text, 'hello');
				await c.write('GET /hello HTTP/1.1\r\nHo');
				const res = await c.response({ timeout: 4000 });
				assertJsonError(res, 408);
				assert.ok(await c.closed(3000));
			} finally {
				c.destroy();
			}
		});
	});

	test('--max-connections is a whole-server limit, also with several workers', async () => {
		// The public API documents max_connections as "whole server; 503
		// above". With --max-connections 1 and two workers, while one
		// connection is open every other one must be refused, whichever
		// worker's socket the kernel hands it to.
		await withTestd(['--workers', '2', '--max-connections', '1'], async (srv) => {
			const admitted = [];
			for (let round = 0; round < 20; round++) {
				// First connection of the round (retry while the previous
				// round's connections are still being released).
				let a;
				for (let k = 0; k < 40; k++) {
					a = await Conn.open(srv.port);
					await a.write(HELLO);
					const r = await a.waitFor(() => parseAll(a.buf, { ended: a.ended })[0] || (a.ended ? 'closed' : null), 3000);
					if (r?.status === 200) break;
					a.destroy();
					a = null;
					await sleep(50);
				}
				assert.ok(a, `round ${round}: a lone connection is never admitted`);
				const b = await Conn.open(srv.port);
				await b.write(HELLO);
				const r = await b.waitFor(() => parseAll(b.buf, { ended: b.ended })[0] || (b.ended ? 'closed' : null), 3000);
				if (r?.status === 200) admitted.push(round);
				a.destroy();
				b.destroy();
			}
			assert.deepEqual(admitted, [], `a 2nd concurrent connection was admitted (limit 1) in rounds ${admitted.join(', ')}`);
		});
	});

	test('a client that does not read its response is eventually dropped (write timeout)', async () => {
		await withTestd(['--workers', '1', '--write-timeout-ms', '500'], async (srv) => {
			const sock = net.connect({ port: srv.port, host: '127.0.0.1' });
			await new Promise((r) => sock.once('connect', r));
			sock.pause(); // read nothing for a while
			let received = 0;
			let closed = false;
			sock.on('data', (d) => (received += d.length));
			sock.on('end', () => (closed = true));
			sock.on('close', () => (closed = true));
			sock.on('error', () => (closed = true));
			// Far more output than the socket buffers hold.
			let raw = '';
			for (let i = 0; i < 16; i++) raw += 'GET /big?kb=4096 HTTP/1.1\r\nHost: x\r\n\r\n';
			sock.write(raw);
			await sleep(2500); // several write timeouts
			await assertServes(srv.port); // other clients are served meanwhile
			sock.resume();
			for (let i = 0; i < 50 && !closed; i++) await sleep(100);
			sock.destroy();
			assert.ok(closed, 'stalled reader should have been disconnected');
			assert.ok(received < 16 * 4096 * 1024, `got all ${received} bytes: the server never gave up`);
		});
	});
});

// shutdown.test.mjs - graceful stop on SIGTERM: in-flight requests finish,
// the listener closes, idle connections close, the deadline is enforced,
// and the process exits 0.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { Conn, UNDER_ASAN, parseAll, rawExchange, sleep, startHearth, startTestd } from './lib.mjs';

/** Resolves 'refused', 'reset' or 'served' for a fresh connection attempt. */
function tryConnect(port) {
	return new Promise((resolve) => {
		const s = net.connect({ port, host: '127.0.0.1' });
		let data = '';
		s.setTimeout(1500, () => {
			s.destroy();
			resolve(data ? 'served' : 'hung');
		});
		s.on('connect', () => s.write('GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
		s.on('data', (d) => (data += d));
		s.on('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'reset'));
		s.on('close', () => resolve(data.startsWith('HTTP/1.1 200') ? 'served' : data ? 'answered' : 'reset'));
	});
}

// Exit deadlines: generous, ASan builds stop more slowly.
const SLACK = UNDER_ASAN ? 4000 : 2000;

describe('graceful shutdown', { concurrency: 3 }, () => {
	test('a request in flight at SIGTERM still gets its 200 and the process exits 0', async () => {
		const srv = await startTestd(['--workers', '2']);
		try {
			const c = await Conn.open(srv.port);
			await c.write('GET /slow?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n');
			await sleep(100);
			const t0 = Date.now();
			srv.signal('SIGTERM');
			const res = await c.response({ timeout: 5000 });
			assert.equal(res.status, 200);
			assert.equal(res.text, 'slow 1000');
			// The connection is closed after the response (stopping).
			assert.ok(await c.closed(3000), 'connection should close after its response during shutdown');
			const st = await srv.waitExit(1000 + 3000 + SLACK);
			assert.ok(st, `did not exit within a few seconds of SIGTERM\n${srv.tail()}`);
			assert.equal(st.code, 0, srv.tail());
			assert.ok(Date.now() - t0 < 1000 + 3000 + SLACK);
		} finally {
			await srv.stop();
		}
	});

	test('new connections are refused after SIGTERM while a request is still in flight', async () => {
		const srv = await startTestd(['--workers', '2']);
		try {
			const c = await Conn.open(srv.port);
			await c.write('GET /slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n');
			await sleep(100);
			srv.signal('SIGTERM');
			let outcome;
			const deadline = Date.now() + 1000;
			do {
				await sleep(50);
				outcome = await tryConnect(srv.port);
			} while (outcome !== 'refused' && Date.now() < deadline);
			assert.equal(outcome, 'refused', 'the listener should be closed soon after SIGTERM');
			assert.equal(srv.exited, null, 'still running: the slow request is in flight');
			// A few more attempts: never served again.
			for (let i = 0; i < 3; i++) assert.notEqual(await tryConnect(srv.port), 'served');
			const res = await c.response({ timeout: 5000 });
			assert.equal(res.text, 'slow 1500');
			c.destroy();
		} finally {
			await srv.stop();
		}
	});

	test('idle keep-alive connections are closed at shutdown', async () => {
		const srv = await startTestd(['--workers', '2']);
		try {
			const conns = [];
			for (let i = 0; i < 4; i++) {
				const c = await Conn.open(srv.port);
				await c.write('GET /hello HTTP/1.1\r\nHost: x\r\n\r\n');
				assert.equal((await c.response()).text, 'hello');
				conns.push(c);
			}
			// And one that has sent nothing at all.
			conns.push(await Conn.open(srv.port));
			const t0 = Date.now();
			srv.signal('SIGTERM');
			for (const [i, c] of conns.entries()) {
				assert.ok(await c.closed(3000), `idle connection ${i} should be closed at shutdown`);
				assert.equal(c.buf.length, 0, `connection ${i}: no response expected`);
			}
			const st = await srv.waitExit(3000 + SLACK);
			assert.ok(st, 'should exit promptly once idle connections are closed');
			assert.equal(st.code, 0, srv.tail());
			assert.ok(Date.now() - t0 < 3000 + SLACK);
		} finally {
			await srv.stop();
		}
	});

	test('with --shutdown-timeout-ms 300 a /slow?ms=5000 in flight does not hold the exit', async () => {
		const srv = await startTestd(['--workers', '1', '--shutdown-timeout-ms', '300']);
		try {
			const c = await Conn.open(srv.port);
			await c.write('GET /slow?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n');
			await sleep(100);
			const t0 = Date.now();
			srv.signal('SIGTERM');
			assert.ok(await c.closed(3000), 'the stuck connection should be force-closed at the deadline');
			// "About a second": the 300 ms deadline plus stopping, far below
			// the 5 s the handler's thread-pool work would take.
			const limit = UNDER_ASAN ? 2000 : 1500;
			const st = await srv.waitExit(limit);
			const took = Date.now() - t0;
			assert.ok(st, `did not exit within ${limit} ms of SIGTERM (deadline 300 ms, handler sleeps 5000 ms)`);
			assert.equal(st.code, 0, srv.tail());
			assert.ok(took < limit, `took ${took} ms`);
		} finally {
			await srv.stop();
		}
	});

	test('hearth exits 0 on SIGTERM and SIGINT', async () => {
		for (const sig of ['SIGTERM', 'SIGINT']) {
			const srv = await startHearth(['--workers', '2']);
			const r = await rawExchange(srv.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
			assert.equal(parseAll(r.data)[0].status, 200);
			srv.signal(sig);
			const st = await srv.waitExit(5000 + SLACK);
			assert.ok(st, `no exit after ${sig}`);
			assert.equal(st.code, 0, srv.tail());
			assert.match(srv.stderr, new RegExp(`${sig} received`));
		}
	});
});

// tests/integration/lib.mjs - helpers for the integration tests (node:test).
//
// Servers: startTestd() and startHearth() spawn a binary on 127.0.0.1:0,
// read the port it prints on stderr, wait until /api/health answers and
// return a Server. server.stop() sends SIGTERM and asserts exit code 0 (an
// ASan leak report makes the code non-zero and fails the test). Use
// withTestd()/withHearth() so a server is stopped even when the test fails.
//
// Sockets: rawExchange() sends bytes (optionally in pieces with delays) and
// collects everything until the server closes or a timeout; Conn keeps a
// socket open and reads responses one by one. parseResponse()/parseAll()
// form a tiny HTTP/1.1 response parser (Content-Length, chunked with
// trailers, close-delimited, 1xx, HEAD/204/304 without body).
//
// Binaries come from HEARTH_BIN (default build/hearth) and HEARTH_TESTD
// (default build/hearth-testd), relative to the repository root.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HEARTH_BIN = path.resolve(ROOT, process.env.HEARTH_BIN || 'build/hearth');
export const HEARTH_TESTD = path.resolve(ROOT, process.env.HEARTH_TESTD || 'build/hearth-testd');
export const UNDER_ASAN = /asan/.test(HEARTH_BIN) || /asan/.test(HEARTH_TESTD);

export const HEALTH_BODY = '{"message":"API is healthy.","code":200,"data":{}}';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child processes --------------------------------------------------

const live = new Set();
const tmpDirs = [];
process.on('exit', () => {
	for (const p of live) {
		try {
			p.kill('SIGKILL');
		} catch {}
	}
	for (const d of tmpDirs) {
		try {
			fs.rmSync(d, { recursive: true, force: true });
		} catch {}
	}
});

/** Makes a temporary directory that is removed when the process exits. */
export function tmpDir(prefix = 'hearth-it-') {
	const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	tmpDirs.push(d);
	return d;
}

export class Server {
	constructor(proc, name) {
		this.proc = proc;
		this.name = name;
		this.port = 0;
		this.stdout = '';
		this.stderr = '';
		this.exited = null; // {code, signal} once exited
		this.exitPromise = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				live.delete(proc);
				this.exited = { code, signal };
				resolve(this.exited);
			});
		});
		proc.stdout.setEncoding('utf8');
		proc.stderr.setEncoding('utf8');
		proc.stdout.on('data', (d) => (this.stdout += d));
		proc.stderr.on('data', (d) => (this.stderr += d));
		live.add(proc);
	}

	get url() {
		return `http://127.0.0.1:${this.port}`;
	}

	/** Resolves with the exit status, or null after ms. */
	waitExit(ms) {
		let t;
		const timeout = new Promise((r) => (t = setTimeout(() => r(null), ms)));
		return Promise.race([this.exitPromise, timeout]).finally(() => clearTimeout(t));
	}

	/** Sends sig (SIGTERM by default) without waiting; stop() will not send it again. */
	signal(sig = 'SIGTERM') {
		this.termSent = true;
		this.proc.kill(sig);
	}

	/** Sends SIGTERM (unless already sent) and resolves with {code, signal}. */
	async terminate(ms = UNDER_ASAN ? 20000 : 10000) {
		if (!this.exited && !this.termSent) {
			this.termSent = true;
			this.proc.kill('SIGTERM');
		}
		const st = await this.waitExit(ms);
		if (!st) {
			this.proc.kill('SIGKILL');
			await this.exitPromise;
			assert.fail(`${this.name} did not exit within ${ms} ms of SIGTERM\nstderr:\n${this.tail()}`);
		}
		return st;
	}

	/** SIGTERM, then asserts exit code 0. */
	async stop(ms) {
		const st = await this.terminate(ms);
		assert.equal(
			st.code,
			0,
			`${this.name} exited with code ${st.code} signal ${st.signal}\nstderr:\n${this.tail()}`,
		);
	}

	/** Number of open file descriptors of the server process (Linux). */
	fdCount() {
		return fs.readdirSync(`/proc/${this.proc.pid}/fd`).length;
	}

	tail(n = 6000) {
		return this.stderr.length > n ? '...' + this.stderr.slice(-n) : this.stderr;
	}
}

async function waitForPort(srv, re, ms) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		const m = re.exec(srv.stderr);
		if (m) return Number(m[1]);
		if (srv.exited)
			throw new Error(`${srv.name} exited early (${JSON.stringify(srv.exited)}):\n${srv.stderr}`);
		await sleep(10);
	}
	throw new Error(`${srv.name} did not print its port within ${ms} ms:\n${srv.stderr}`);
}

/** Waits until GET /api/health answers 200. */
export async function waitHealthy(srv, ms = 10000) {
	const deadline = Date.now() + ms;
	let last;
	while (Date.now() < deadline) {
		try {
			const r = await rawExchange(srv.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
				timeout: 2000,
			});
			if (r.data.toString('latin1').startsWith('HTTP/1.1 200')) return;
			last = r.data.toString('latin1');
		} catch (e) {
			last = e;
		}
		if (srv.exited) break;
		await sleep(20);
	}
	throw new Error(`${srv.name} never answered /api/health: ${last}\n${srv.stderr}`);
}

/**
 * Spawns bin and waits until it has started. A binary being rebuilt at that
 * moment (EACCES, ETXTBSY, ENOENT while the linker writes it) is retried
 * for a few seconds before giving up.
 */
async function spawnStarted(bin, argv, env) {
	for (let attempt = 0; ; attempt++) {
		const proc = spawn(bin, argv, {
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, ...env },
		});
		const err = await new Promise((resolve) => {
			proc.once('spawn', () => resolve(null));
			proc.once('error', resolve);
		});
		if (!err) return proc;
		if (attempt < 15 && ['EACCES', 'ETXTBSY', 'ENOENT'].includes(err.code)) {
			await sleep(200);
			continue;
		}
		throw new Error(`cannot start ${bin}: ${err.message}`);
	}
}

async function start(bin, argv, name, portRe, env) {
	const proc = await spawnStarted(bin, argv, env);
	const srv = new Server(proc, name);
	proc.on('error', (e) => (srv.stderr += `process error: ${e}\n`));
	try {
		srv.port = await waitForPort(srv, portRe, UNDER_ASAN ? 20000 : 10000);
		await waitHealthy(srv);
	} catch (e) {
		if (!srv.exited) proc.kill('SIGKILL');
		throw e;
	}
	return srv;
}

/**
 * Starts the test server (tests/integration/testd.c). args are extra flags;
 * opts.log = true keeps the access log (default --quiet 1).
 */
export function startTestd(args = [], opts = {}) {
	const argv = ['--http', '127.0.0.1:0'];
	if (!opts.log) argv.push('--quiet', '1');
	argv.push(...args);
	return start(HEARTH_TESTD, argv, `testd ${args.join(' ')}`, /testd listening on port (\d+)/, opts.env);
}

/**
 * Starts `hearth serve` on a port the kernel picks (127.0.0.1:0; hearth
 * prints "(port N)" on stderr) with a temporary --dir. args are extra
 * flags; opts.log = true keeps the access log (default --quiet).
 */
export function startHearth(args = [], opts = {}) {
	const argv = ['serve', '--http', '127.0.0.1:0', '--dir', opts.dir || path.join(tmpDir(), 'data')];
	if (!opts.log) argv.push('--quiet');
	argv.push(...args);
	return start(HEARTH_BIN, argv, `hearth ${args.join(' ')}`, /\(port (\d+)\)/, opts.env);
}

async function withServer(srv, fn) {
	let err;
	try {
		await fn(srv);
	} catch (e) {
		err = e;
	}
	if (err) {
		// Still stop it, but report the test's own failure first.
		try {
			await srv.stop();
		} catch (e2) {
			err.message += `\n(and on stop: ${e2.message})`;
		}
		throw err;
	}
	await srv.stop();
}

/** Runs fn(server) with a testd started with args; stops it, asserts exit 0. */
export async function withTestd(args, fn, opts) {
	return withServer(await startTestd(args, opts), fn);
}

/** Runs fn(server) with hearth serve started with args; stops it, asserts exit 0. */
export async function withHearth(args, fn, opts) {
	return withServer(await startHearth(args, opts), fn);
}

/** Runs a binary to completion: {code, signal, stdout, stderr}. */
export function run(bin, args, { timeout = 10000, env } = {}) {
	return new Promise((resolve) => {
		execFile(bin, args, { timeout, env: { ...process.env, ...env }, cwd: ROOT }, (err, stdout, stderr) => {
			resolve({
				code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
				signal: err?.signal ?? null,
				stdout,
				stderr,
			});
		});
	});
}

/** Runs curl with args (it must print what the test needs to stdout). */
export function curl(args, opts = {}) {
	return run('curl', ['-sS', '--max-time', '10', ...args], opts);
}

// ---- raw sockets ------------------------------------------------------

/**
 * Connects to port, writes each piece (string = latin1, or Buffer) with
 * `delay` ms between pieces, then waits until the server closes the
 * connection or `timeout` ms pass after the last write. Resolves with
 * { data: Buffer, closed: bool (server ended/closed), reset: bool,
 *   timedOut: bool, error }. opts.end = true half-closes after writing;
 * opts.destroyAfter = true destroys the socket after the writes.
 */
export function rawExchange(port, pieces, opts = {}) {
	const { delay = 0, timeout = 3000, end = false } = opts;
	if (!Array.isArray(pieces)) pieces = [pieces];
	return new Promise((resolve, reject) => {
		const chunks = [];
		let done = false;
		let timer = null;
		const sock = net.connect({ port, host: '127.0.0.1' });
		const result = { closed: false, reset: false, timedOut: false, error: null };
		const finish = () => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			result.data = Buffer.concat(chunks);
			resolve(result);
		};
		sock.on('data', (d) => chunks.push(d));
		sock.on('end', () => {
			result.closed = true;
			finish();
		});
		sock.on('close', () => {
			result.closed = true;
			finish();
		});
		sock.on('error', (e) => {
			if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
				result.reset = true;
				result.closed = true;
				result.error = e;
				finish();
			} else if (!done && chunks.length === 0 && e.code === 'ECONNREFUSED') {
				done = true;
				reject(e);
			} else {
				result.error = e;
				result.closed = true;
				finish();
			}
		});
		sock.on('connect', async () => {
			for (let i = 0; i < pieces.length; i++) {
				if (done) return;
				const p = pieces[i];
				sock.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
				if (delay && i < pieces.length - 1) await sleep(delay);
			}
			if (done) return;
			if (end) sock.end();
			timer = setTimeout(() => {
				result.timedOut = true;
				finish();
			}, timeout);
		});
	});
}

/** A kept-open client connection that reads responses one at a time. */
export class Conn {
	static open(port) {
		return new Promise((resolve, reject) => {
			const c = new Conn(net.connect({ port, host: '127.0.0.1' }));
			c.sock.once('connect', () => resolve(c));
			c.sock.once('error', reject);
		});
	}

	constructor(sock) {
		this.sock = sock;
		this.buf = Buffer.alloc(0);
		this.ended = false; // peer sent FIN or the socket closed
		this.reset = false;
		this.waiters = new Set();
		sock.on('data', (d) => {
			this.buf = Buffer.concat([this.buf, d]);
			this.wake();
		});
		const gone = () => {
			this.ended = true;
			this.wake();
		};
		sock.on('end', gone);
		sock.on('close', gone);
		sock.on('error', (e) => {
			if (e.code === 'ECONNRESET') this.reset = true;
			this.error = e;
			gone();
		});
	}

	wake() {
		for (const w of this.waiters) w();
	}

	write(data) {
		return new Promise((resolve) => {
			if (this.sock.destroyed) return resolve(false);
			this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve(true));
		});
	}

	/** Waits until pred() is true (checked on every event) or timeout. */
	waitFor(pred, timeout) {
		return new Promise((resolve) => {
			let t;
			const check = () => {
				let v;
				try {
					v = pred();
				} catch (e) {
					v = e;
				}
				if (v) {
					clearTimeout(t);
					this.waiters.delete(check);
					resolve(v);
				}
			};
			t = setTimeout(() => {
				this.waiters.delete(check);
				resolve(null);
			}, timeout);
			this.waiters.add(check);
			check();
		});
	}

	/**
	 * Reads the next response. opts.head = true for a response to HEAD.
	 * Rejects on timeout or when the connection ends first.
	 */
	async response(opts = {}) {
		const { timeout = 5000 } = opts;
		const r = await this.waitFor(() => {
			const p = parseResponse(this.buf, { ...opts, ended: this.ended });
			if (p) return p;
			if (this.ended) throw new Error(`connection closed before a complete response; have ${JSON.stringify(this.buf.toString('latin1'))}`);
			return null;
		}, timeout);
		if (r instanceof Error) throw r;
		if (!r) throw new Error(`no complete response within ${timeout} ms; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))}`);
		this.buf = this.buf.subarray(r.consumed);
		return r;
	}

	/** Resolves true once the server closed the connection, false after timeout. */
	async closed(timeout = 3000) {
		return !!(await this.waitFor(() => this.ended, timeout));
	}

	end() {
		this.sock.end();
	}

	destroy() {
		this.sock.destroy();
	}
}

// ---- response parser --------------------------------------------------

/**
 * Parses one response from buf. opts.head: no body (response to HEAD);
 * opts.ended: the connection has ended (completes close-delimited bodies).
 * Returns null when incomplete, else
 * { status, reason, version, headers (lowercased name -> value, repeats
 *   joined with ", "), headerList [[name, value]], body Buffer, text,
 *   chunks [Buffer] (chunked only), trailers, chunked, closeDelimited,
 *   consumed }.
 * Throws on a malformed response.
 */
export function parseResponse(buf, opts = {}) {
	const headEnd = buf.indexOf('\r\n\r\n');
	if (headEnd < 0) return null;
	const head = buf.subarray(0, headEnd).toString('latin1');
	const lines = head.split('\r\n');
	const m = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
	if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
	const status = Number(m[2]);
	const headers = {};
	const headerList = [];
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(l)}`);
		const name = l.slice(0, i);
		const value = l.slice(i + 1).trim();
		headerList.push([name, value]);
		const k = name.toLowerCase();
		headers[k] = k in headers ? `${headers[k]}, ${value}` : value;
	}
	const res = {
		version: m[1],
		status,
		reason: m[3],
		headers,
		headerList,
		chunked: false,
		closeDelimited: false,
	};
	let pos = headEnd + 4;
	const done = (body, end) => {
		res.body = body;
		res.text = body.toString('latin1');
		res.consumed = end;
		return res;
	};
	if ((status >= 100 && status < 200) || status === 204 || status === 304 || opts.head)
		return done(Buffer.alloc(0), pos);
	const te = headers['transfer-encoding'];
	if (te !== undefined) {
		if (te.toLowerCase() !== 'chunked') throw new Error(`unexpected Transfer-Encoding ${te}`);
		res.chunked = true;
		res.chunks = [];
		res.trailers = {};
		for (;;) {
			const le = buf.indexOf('\r\n', pos);
			if (le < 0) return null;
			const sizeLine = buf.subarray(pos, le).toString('latin1');
			const sm = /^([0-9a-fA-F]+)(;.*)?$/.exec(sizeLine);
			if (!sm) throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
			const size = parseInt(sm[1], 16);
			pos = le + 2;
			if (size === 0) {
				for (;;) {
					const te2 = buf.indexOf('\r\n', pos);
					if (te2 < 0) return null;
					const line = buf.subarray(pos, te2).toString('latin1');
					pos = te2 + 2;
					if (line === '') return done(Buffer.concat(res.chunks), pos);
					const i = line.indexOf(':');
					res.trailers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
				}
			}
			if (buf.length < pos + size + 2) return null;
			res.chunks.push(buf.subarray(pos, pos + size));
			if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new Error('chunk data not followed by CRLF');
			pos += size + 2;
		}
	}
	const cl = headers['content-length'];
	if (cl !== undefined) {
		if (!/^\d+$/.test(cl)) throw new Error(`bad Content-Length ${cl}`);
		const n = Number(cl);
		if (buf.length < pos + n) return null;
		return done(buf.subarray(pos, pos + n), pos + n);
	}
	// Close-delimited.
	if (!opts.ended) return null;
	res.closeDelimited = true;
	return done(buf.subarray(pos), buf.length);
}

/**
 * Parses every response in buf (a whole exchange). opts.heads: array of
 * booleans, true where the request at that index was HEAD (1xx responses
 * do not count as a request). opts.ended defaults to true.
 */
export function parseAll(buf, opts = {}) {
	const out = [];
	let reqIndex = 0;
	const ended = opts.ended ?? true;
	while (buf.length > 0) {
		const r = parseResponse(buf, { head: opts.heads?.[reqIndex], ended });
		if (!r) {
			out.incomplete = buf;
			out.incompleteInfo = describeIncomplete(buf);
			break;
		}
		out.push(r);
		if (r.status >= 200) reqIndex++;
		buf = buf.subarray(r.consumed);
	}
	return out;
}

/** Says why buf does not hold a complete response (for messages). */
export function describeIncomplete(buf) {
	const headEnd = buf.indexOf('\r\n\r\n');
	if (headEnd < 0) return `no complete head in ${buf.length} bytes`;
	const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, headEnd + 2).toString('latin1'));
	const have = buf.length - headEnd - 4;
	if (m) return `Content-Length: ${m[1]} but only ${have} body bytes arrived before the connection ended`;
	return `incomplete body (${have} bytes)`;
}

/** Asserts r is a JSON error response {"data":{},"message":...,"status":status}. */
export function assertJsonError(r, status) {
	assert.equal(r.status, status, `status; response:\n${r.text}`);
	assert.match(r.headers['content-type'] || '', /^application\/json/);
	let j;
	try {
		j = JSON.parse(r.text);
	} catch (e) {
		assert.fail(`error body is not JSON: ${JSON.stringify(r.text)}`);
	}
	assert.deepEqual(Object.keys(j).sort(), ['data', 'message', 'status']);
	assert.deepEqual(j.data, {});
	assert.equal(typeof j.message, 'string');
	assert.ok(j.message.length > 0);
	assert.equal(j.status, status);
	return j;
}

/** GET path on a fresh connection via raw HTTP/1.1 with Connection: close. */
export async function rawGet(port, target, headers = {}, opts = {}) {
	let req = `${opts.method || 'GET'} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
	for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
	req += '\r\n';
	const r = await rawExchange(port, req, { timeout: opts.timeout || 5000 });
	const rs = parseAll(r.data, { heads: [opts.method === 'HEAD'] });
	if (rs.length !== 1) throw new Error(`expected one response, got ${rs.length}: ${JSON.stringify(r.data.toString('latin1').slice(0, 500))}`);
	rs[0].closed = r.closed;
	return rs[0];
}

// ---- hearth with data: superusers, JSON API calls, the database file ----

export const SU_EMAIL = 'root@example.com';
export const SU_PASSWORD = 'correct horse battery';

/** Runs `hearth superuser upsert EMAIL PASSWORD --dir dir`; asserts exit 0. */
export async function superuserUpsert(dir, email = SU_EMAIL, password = SU_PASSWORD) {
	const r = await run(HEARTH_BIN, ['superuser', 'upsert', email, password, '--dir', dir], {
		timeout: UNDER_ASAN ? 30000 : 10000,
	});
	assert.equal(r.code, 0, `superuser upsert failed (${r.code} ${r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Makes a fresh data dir with one superuser and starts hearth on it.
 * The Server gets .dir (the data dir), .db (its data.db), .email,
 * .password. opts.dir reuses an existing data dir (no upsert then unless
 * opts.upsert); other opts as startHearth.
 */
export async function startHearthData(args = [], opts = {}) {
	const dir = opts.dir || path.join(tmpDir(), 'data');
	if (!opts.dir || opts.upsert) await superuserUpsert(dir);
	const srv = await startHearth(args, { ...opts, dir });
	srv.dir = dir;
	srv.db = path.join(dir, 'data.db');
	srv.email = SU_EMAIL;
	srv.password = SU_PASSWORD;
	return srv;
}

/** Runs fn(server) on a fresh data dir with a superuser; stops it, asserts exit 0. */
export async function withHearthData(args, fn, opts) {
	return withServer(await startHearthData(args, opts), fn);
}

/** Logs the superuser in over HTTP and returns the token. */
export async function superuserToken(srv, email = SU_EMAIL, password = SU_PASSWORD) {
	const r = await api(srv, 'POST', '/api/collections/_superusers/auth-with-password', {
		body: { identity: email, password },
	});
	assert.equal(r.status, 200, `superuser login: ${r.text}`);
	return r.json.token;
}

/**
 * One JSON API call with fetch. body: object (sent as JSON) or string /
 * Buffer (sent as is, with opts.type or application/json). Resolves with
 * { status, headers (Headers), text, json (parsed or undefined) }.
 */
export async function api(srv, method, target, opts = {}) {
	const headers = { ...(opts.headers || {}) };
	if (opts.token) headers.Authorization = opts.token;
	let body;
	if (opts.body !== undefined) {
		if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) body = opts.body;
		else body = JSON.stringify(opts.body);
		headers['Content-Type'] ??= opts.type || 'application/json';
	}
	const res = await fetch(srv.url + target, {
		method,
		headers,
		body,
		signal: AbortSignal.timeout(opts.timeout || (UNDER_ASAN ? 20000 : 10000)),
	});
	const text = await res.text();
	let json;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {}
	return { status: res.status, headers: res.headers, text, json };
}

/**
 * Asserts r (from api()) is a dialect error {data, message, status} with
 * the given status; data must be an object (not null, not an array).
 * Returns the parsed body.
 */
export function assertApiError(r, status, message) {
	assert.equal(r.status, status, `status; body: ${r.text.slice(0, 600)}`);
	assert.equal(r.headers.get('content-type'), 'application/json', 'error Content-Type');
	assert.ok(r.json && typeof r.json === 'object', `error body is not JSON: ${r.text.slice(0, 300)}`);
	assert.deepEqual(Object.keys(r.json), ['data', 'message', 'status'], `error keys: ${r.text.slice(0, 300)}`);
	assert.ok(r.json.data !== null && typeof r.json.data === 'object' && !Array.isArray(r.json.data), 'data is an object');
	assert.equal(typeof r.json.message, 'string');
	assert.ok(r.json.message.length > 0);
	assert.equal(r.json.status, status);
	if (message !== undefined) assert.equal(r.json.message, message);
	return r.json;
}

/**
 * Runs one SQL statement with the sqlite3 command-line shell against a
 * database file and returns its output rows (list mode, '|' separated).
 * Safe while hearth runs (WAL readers do not block the writer).
 */
export async function sqlite(dbPath, sql) {
	const r = await run('sqlite3', ['-batch', '-bail', dbPath, sql], { timeout: 10000 });
	assert.equal(r.code, 0, `sqlite3 ${sql}: ${r.stderr}`);
	return r.stdout;
}

/**
 * Runs await fn(item) for every item and collects the failures, so that
 * one wrong case does not hide the others; then fails listing all of them.
 * label(item) names a case in the report (default: its JSON, shortened).
 */
export async function each(items, fn, label = (x) => JSON.stringify(x)) {
	const failures = [];
	for (const it of items) {
		try {
			await fn(it);
		} catch (e) {
			let name;
			try {
				name = String(label(it));
			} catch {
				name = String(it);
			}
			if (name.length > 160) name = `${name.slice(0, 160)}...`;
			failures.push(`${name}\n    ${String(e.message).split('\n').filter(Boolean).slice(0, 4).join('\n    ')}`);
		}
	}
	if (failures.length) assert.fail(`${failures.length} of ${items.length} cases failed:\n  ${failures.join('\n  ')}`);
}

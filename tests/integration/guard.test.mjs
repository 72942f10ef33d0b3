// guard.test.mjs - rate limits (DIALECT.md §18.1), client IP (§18.4),
// superuser IPs (§18.5), hearth's auth guard (settings.authGuard) and cookie
// sessions with their CSRF check (README, "Cookie sessions").
//
// Windows are long (60 s and more) so no test depends on timing: a limit
// is hit by sending maxRequests + 1 requests. Every request here opens its
// own connection (agent: false), so with two workers the requests spread
// over both event loops and the limits must hold across them. Client
// addresses other than 127.0.0.1 come from X-Forwarded-For once the test
// declares it a trusted proxy header.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { each, sqlite, startHearthData, superuserToken, UNDER_ASAN } from './lib.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 240000 : 90000 };

/** One request on a fresh connection; resolves {status, headers, text, json}. */
function req(srv, method, path, { headers = {}, body, token, type } = {}) {
	const h = { ...headers };
	if (token) h.Authorization = token;
	let data;
	if (body !== undefined) {
		data = typeof body === 'string' ? body : JSON.stringify(body);
		h['Content-Type'] ??= type || 'application/json';
		h['Content-Length'] = Buffer.byteLength(data);
	}
	return new Promise((resolve, reject) => {
		const r = http.request({ host: '127.0.0.1', port: srv.port, method, path, headers: h, agent: false }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (d) => (text += d));
			res.on('end', () => {
				let json;
				try {
					json = text ? JSON.parse(text) : undefined;
				} catch {}
				resolve({ status: res.statusCode, headers: res.headers, text, json });
			});
		});
		r.on('error', reject);
		if (data !== undefined) r.write(data);
		r.end();
	});
}

function assertTooMany(r, maxWindow) {
	assert.equal(r.status, 429, `expected 429: ${r.status} ${r.text}`);
	assert.deepEqual(r.json, { data: {}, message: 'Too Many Requests.', status: 429 });
	const ra = Number(r.headers['retry-after']);
	assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= maxWindow, `Retry-After: ${r.headers['retry-after']}`);
}

async function statuses(n, fn) {
	const out = [];
	for (let i = 0; i < n; i++) out.push((await fn(i)).status);
	return out;
}

async function patchSettings(srv, su, body, headers = {}) {
	const r = await req(srv, 'PATCH', '/api/settings', { token: su, body, headers });
	assert.equal(r.status, 200, `settings: ${r.text}`);
	return r.json;
}

async function setup(srv, su, { users = [] } = {}) {
	const mk = async (body) => {
		const r = await req(srv, 'POST', '/api/collections', { token: su, body });
		assert.equal(r.status, 200, r.text);
		return r.json;
	};
	const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '', fields: [{ name: 'title', type: 'text' }] };
	const cols = {};
	for (const name of ['open', 'other', 'shared', 'pref', 'batchy', 'ipc']) cols[name] = await mk({ name, type: 'base', ...open });
	cols.notes = await mk({
		name: 'notes',
		type: 'base',
		listRule: '@request.auth.id != ""',
		createRule: '@request.auth.id != ""',
		fields: [{ name: 'title', type: 'text' }],
	});
	cols.members = await mk({ name: 'members', type: 'auth', fields: [] });
	for (const email of users) {
		const r = await req(srv, 'POST', '/api/collections/members/records', {
			token: su,
			body: { email, password: 'password123', passwordConfirm: 'password123' },
		});
		assert.equal(r.status, 200, r.text);
	}
	return cols;
}

async function memberLogin(srv, email, password = 'password123', headers = {}) {
	return req(srv, 'POST', '/api/collections/members/auth-with-password', { body: { identity: email, password }, headers });
}

/** Resolves once pred() holds (the mail thread works asynchronously). */
async function poll(pred) {
	for (let i = 0; i < 400; i++) {
		if (await pred()) return;
		await new Promise((r) => setTimeout(r, 25));
	}
	assert.fail('condition never held');
}

const count = async (srv, coll) => Number((await sqlite(srv.db, `SELECT count(*) FROM ${coll}`)).trim());

describe('rate limits', LIMIT, () => {
	let srv, su, member;
	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await superuserToken(srv);
		await setup(srv, su, { users: ['mia@example.com'] });
		member = (await memberLogin(srv, 'mia@example.com')).json.token;
	});
	after(() => srv?.stop());

	test('defaults: rate limits off, auth guard on, no trusted origins', async () => {
		const s = (await req(srv, 'GET', '/api/settings', { token: su })).json;
		assert.equal(s.rateLimits.enabled, false);
		assert.deepEqual(s.rateLimits.excludedIPs, []);
		assert.deepEqual(s.rateLimits.rules.map((r) => [r.label, r.maxRequests, r.duration]), [
			['*:auth', 2, 3],
			['*:create', 20, 5],
			['/api/batch', 3, 1],
			['/api/', 300, 10],
		]);
		assert.deepEqual(s.trustedProxy, { headers: [], useLeftmostIP: false });
		assert.deepEqual(s.superuserIPs, []);
		assert.deepEqual(s.authGuard, { enabled: true, perIP: { maxRequests: 30, duration: 60 }, perIdentity: { maxRequests: 10, duration: 300 } });
		assert.deepEqual(s.authSession, { trustedOrigins: [] });
		// Off: 25 creates pass although the default *:create rule allows 20 per 5 s.
		const st = await statuses(25, (i) => req(srv, 'POST', '/api/collections/open/records', { body: { title: `t${i}` } }));
		assert.deepEqual(st, Array(25).fill(200));
	});

	test('invalid rules are refused with field errors', async () => {
		const cases = [
			[{ label: 'x', audience: '@nobody', duration: 1, maxRequests: 1 }, 'audience', 'validation_in_invalid'],
			[{ label: 'x', audience: '', duration: 0, maxRequests: 1 }, 'duration', 'validation_min_greater_equal_than_required'],
			[{ label: 'x', audience: '', duration: 1, maxRequests: 0 }, 'maxRequests', 'validation_min_greater_equal_than_required'],
			[{ label: '', audience: '', duration: 1, maxRequests: 1 }, 'label', 'validation_required'],
		];
		await each(cases, async ([rule, key, code]) => {
			const r = await req(srv, 'PATCH', '/api/settings', { token: su, body: { rateLimits: { rules: [rule] } } });
			assert.equal(r.status, 400, r.text);
			assert.equal(r.json.data?.rateLimits?.rules?.['0']?.[key]?.code, code, r.text);
		});
		const t = await req(srv, 'PATCH', '/api/settings', { token: su, body: { rateLimits: { rules: [{ label: 'x', maxRequests: '5' }] } } });
		assert.equal(t.status, 400);
		assert.equal(t.json.message, 'An error occurred while loading the submitted data.');
		const g = await req(srv, 'PATCH', '/api/settings', { token: su, body: { authGuard: { perIP: { maxRequests: 'many' } } } });
		assert.equal(g.status, 400);
	});

	test('limits by tag, method+path and prefix; audiences; superusers exempt; 429 with Retry-After', async () => {
		await patchSettings(srv, su, {
			rateLimits: {
				enabled: true,
				rules: [
					{ label: 'open:list', audience: '', duration: 60, maxRequests: 3 },
					{ label: '*:create', audience: '@guest', duration: 60, maxRequests: 2 },
					{ label: 'open:view', audience: '@auth', duration: 60, maxRequests: 2 },
					{ label: 'GET /api/collections/shared/records', audience: '', duration: 120, maxRequests: 4 },
					{ label: '/api/collections/pref/', audience: '', duration: 60, maxRequests: 2 },
				],
			},
		});
		const list = (c, o) => req(srv, 'GET', `/api/collections/${c}/records`, o);
		assert.deepEqual(await statuses(3, () => list('open')), [200, 200, 200]);
		assertTooMany(await list('open'), 60);
		assertTooMany(await list('open', { token: member }), 60); // audience '' covers members
		assert.equal((await list('open', { token: su })).status, 200, 'superusers are never limited');
		assert.deepEqual(await statuses(5, () => list('other')), Array(5).fill(200), 'no rule for other:list');

		// One window shared by both workers: 8 fresh connections, exactly 4 pass.
		const shared = await statuses(8, () => list('shared'));
		assert.deepEqual(shared.filter((s) => s === 200).length, 4, JSON.stringify(shared));
		assert.deepEqual(shared.slice(4), [429, 429, 429, 429]);

		// A prefix rule covers paths below it.
		assert.deepEqual(await statuses(3, () => list('pref')), [200, 200, 429]);

		// @guest create: guests stop after 2, members are not concerned.
		const before = await count(srv, 'other');
		const create = (o) => req(srv, 'POST', '/api/collections/other/records', { body: { title: 'x' }, ...o });
		assert.deepEqual(await statuses(3, () => create()), [200, 200, 429]);
		assert.equal(await count(srv, 'other'), before + 2, 'the refused create wrote nothing');
		assert.deepEqual(await statuses(3, () => create({ token: member })), [200, 200, 200]);

		// @auth view: members stop after 2, guests are not concerned.
		const id = (await req(srv, 'POST', '/api/collections/open/records', { token: member, body: { title: 'v' } })).json.id;
		const view = (o) => req(srv, 'GET', `/api/collections/open/records/${id}`, o);
		assert.deepEqual(await statuses(3, () => view()), [200, 200, 200]);
		assert.deepEqual(await statuses(3, () => view({ token: member })), [200, 200, 429]);
	});

	test('excludedIPs (CIDR) are never limited', async () => {
		await patchSettings(srv, su, { rateLimits: { enabled: true, excludedIPs: [], rules: [{ label: 'ipc:list', audience: '', duration: 60, maxRequests: 1 }] } });
		const list = () => req(srv, 'GET', '/api/collections/ipc/records');
		assert.deepEqual(await statuses(2, list), [200, 429]);
		await patchSettings(srv, su, { rateLimits: { excludedIPs: ['10.0.0.0/8', '127.0.0.0/8'] } });
		assert.deepEqual(await statuses(3, list), [200, 200, 200]);
		await patchSettings(srv, su, { rateLimits: { excludedIPs: ['127.0.0.2'] } });
		assertTooMany(await list(), 60);
	});

	test('windows are per client IP (trusted X-Forwarded-For)', async () => {
		await patchSettings(srv, su, {
			trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false },
			rateLimits: { enabled: true, excludedIPs: [], rules: [{ label: 'ipc:list', audience: '', duration: 60, maxRequests: 2 }] },
		});
		const list = (ip) => req(srv, 'GET', '/api/collections/ipc/records', { headers: { 'X-Forwarded-For': ip } });
		assert.deepEqual(await statuses(3, () => list('203.0.113.1')), [200, 200, 429]);
		assert.deepEqual(await statuses(2, () => list('203.0.113.2')), [200, 200]);
		assertTooMany(await list('198.51.100.9, 203.0.113.1'), 60); // right-most address counts
		await patchSettings(srv, su, { trustedProxy: { headers: [] } });
	});

	test('batch sub-requests count against their record rules', async () => {
		await patchSettings(srv, su, {
			batch: { enabled: true },
			rateLimits: { enabled: true, excludedIPs: [], rules: [{ label: 'batchy:create', audience: '', duration: 60, maxRequests: 2 }] },
		});
		const sub = { method: 'POST', url: '/api/collections/batchy/records', body: { title: 'b' } };
		const three = await req(srv, 'POST', '/api/batch', { body: { requests: [sub, sub, sub] } });
		assertTooMany(three, 60);
		assert.equal(await count(srv, 'batchy'), 0, 'a refused batch writes nothing');
		const one = await req(srv, 'POST', '/api/batch', { body: { requests: [sub] } });
		assertTooMany(one, 60); // the two counted above fill the window
		assert.equal((await req(srv, 'POST', '/api/batch', { token: su, body: { requests: [sub, sub, sub] } })).status, 200);
		assert.equal(await count(srv, 'batchy'), 3);
	});
});

describe('client IP and superuser IPs', LIMIT, () => {
	let srv, su, member;
	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await superuserToken(srv);
		await setup(srv, su, { users: ['ian@example.com'] });
		member = (await memberLogin(srv, 'ian@example.com')).json.token;
	});
	after(() => srv?.stop());

	const realIP = async (headers = {}, token = su) => {
		const r = await req(srv, 'GET', '/api/health', { token, headers });
		assert.equal(r.status, 200, r.text);
		return r.json.data.realIP;
	};

	test('the remote address unless a trusted header names the client', async () => {
		assert.equal(await realIP({ 'X-Forwarded-For': '203.0.113.7' }), '127.0.0.1', 'untrusted header ignored');
		await patchSettings(srv, su, { trustedProxy: { headers: ['X-Real-IP', 'X-Forwarded-For'] } });
		const cases = [
			[{ 'X-Forwarded-For': '10.0.0.1, 203.0.113.7' }, '203.0.113.7'],
			[{ 'X-Forwarded-For': 'nonsense, 198.51.100.2, 999.1.1.1' }, '198.51.100.2'],
			[{ 'X-Forwarded-For': '2001:db8::1' }, '2001:db8::1'],
			[{ 'X-Forwarded-For': 'garbage' }, '127.0.0.1'],
			[{ 'X-Real-IP': '192.0.2.44', 'X-Forwarded-For': '203.0.113.7' }, '192.0.2.44'],
			[{}, '127.0.0.1'],
		];
		await each(cases, async ([h, ip]) => assert.equal(await realIP(h), ip));
		// a repeated header counts by its last line, the trusted proxy's (§18.4)
		assert.equal(await realIP({ 'X-Forwarded-For': ['198.51.100.66', '10.0.0.1, 203.0.113.8'] }), '203.0.113.8');
		assert.equal(await realIP({ 'X-Forwarded-For': ['198.51.100.66', 'garbage'] }), '127.0.0.1');
		assert.equal(await realIP({ 'X-Real-IP': ['192.0.2.1', '192.0.2.2'] }), '192.0.2.2');
		await patchSettings(srv, su, { trustedProxy: { useLeftmostIP: true } });
		assert.equal(await realIP({ 'X-Forwarded-For': ['198.51.100.66', '10.0.0.1, 203.0.113.8'] }), '10.0.0.1');
		assert.equal(await realIP({ 'X-Forwarded-For': '10.0.0.1, 203.0.113.7' }), '10.0.0.1');
		assert.equal(await realIP({ 'X-Forwarded-For': 'bad, 10.0.0.9, 203.0.113.7' }), '10.0.0.9');
		await patchSettings(srv, su, { trustedProxy: { headers: [], useLeftmostIP: false } });
		assert.equal(await realIP({ 'X-Forwarded-For': '10.0.0.1' }), '127.0.0.1');
	});

	test('superuserIPs: superuser tokens and logins from elsewhere are 403', async () => {
		await patchSettings(srv, su, { trustedProxy: { headers: ['X-Forwarded-For'] } });
		await patchSettings(srv, su, { superuserIPs: ['10.1.0.0/16', '2001:db8::/32'] }, { 'X-Forwarded-For': '10.1.0.1' });
		const settings = (ip) => req(srv, 'GET', '/api/settings', { token: su, headers: ip ? { 'X-Forwarded-For': ip } : {} });
		assert.equal((await settings('10.1.2.3')).status, 200);
		assert.equal((await settings('2001:db8::5')).status, 200);
		for (const ip of ['192.0.2.1', '10.2.0.1', null]) {
			const r = await settings(ip);
			assert.equal(r.status, 403, `${ip}: ${r.text}`);
			assert.equal(r.json.message, 'The superuser is not allowed to access the API from this IP.');
		}
		const login = (ip) =>
			req(srv, 'POST', '/api/collections/_superusers/auth-with-password', {
				body: { identity: srv.email, password: srv.password },
				headers: { 'X-Forwarded-For': ip },
			});
		assert.equal((await login('192.0.2.1')).status, 403);
		const ok = await login('10.1.9.9');
		assert.equal(ok.status, 200, ok.text);
		// Other auth collections are not concerned.
		const m = await req(srv, 'POST', '/api/collections/members/auth-refresh', { token: member, headers: { 'X-Forwarded-For': '192.0.2.1' } });
		assert.equal(m.status, 200, m.text);
		await patchSettings(srv, su, { superuserIPs: [] }, { 'X-Forwarded-For': '10.1.0.1' });
		assert.equal((await settings('192.0.2.1')).status, 200);
	});
});

describe('auth guard', LIMIT, () => {
	let srv, su;
	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await superuserToken(srv);
		await setup(srv, su, { users: ['alice@example.com', 'bob@example.com', 'eve@example.com'] });
		await patchSettings(srv, su, { trustedProxy: { headers: ['X-Forwarded-For'] } });
	});
	after(() => srv?.stop());

	const login = (email, password, ip) => memberLogin(srv, email, password, { 'X-Forwarded-For': ip });

	test('successful logins are never counted', async () => {
		const st = await statuses(12, () => login('bob@example.com', 'password123', '192.0.2.10'));
		assert.deepEqual(st, Array(12).fill(200));
	});

	test('failures per identity are limited across client addresses', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 3, duration: 300 }, perIP: { maxRequests: 100, duration: 60 } } });
		assert.deepEqual(await statuses(3, (i) => login('alice@example.com', 'wrong', `198.51.100.${i + 1}`)), [400, 400, 400]);
		assertTooMany(await login('alice@example.com', 'password123', '198.51.100.4'), 300);
		assertTooMany(await login(' ALICE@Example.com', 'password123', '198.51.100.5'), 300);
		const s = await req(srv, 'POST', '/api/collections/members/auth-session', {
			body: { identity: 'alice@example.com', password: 'password123' },
			headers: { 'X-Forwarded-For': '198.51.100.6' },
		});
		assertTooMany(s, 300);
		assert.equal(s.headers['set-cookie'], undefined);
		assert.equal((await login('bob@example.com', 'password123', '198.51.100.1')).status, 200);
	});

	test('failures per client IP are limited across identities', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 100, duration: 300 }, perIP: { maxRequests: 3, duration: 60 } } });
		const ip = '203.0.113.50';
		assert.deepEqual(await statuses(3, (i) => login(`nobody${i}@example.com`, 'wrong', ip)), [400, 400, 400]);
		assertTooMany(await login('bob@example.com', 'password123', ip), 60);
		assert.equal((await login('bob@example.com', 'password123', '203.0.113.51')).status, 200);
	});

	test('switched off, failures are only failures', async () => {
		await patchSettings(srv, su, { authGuard: { enabled: false, perIdentity: { maxRequests: 2, duration: 300 }, perIP: { maxRequests: 2, duration: 60 } } });
		assert.deepEqual(await statuses(4, () => login('eve@example.com', 'wrong', '192.0.2.77')), [400, 400, 400, 400]);
		assert.equal((await login('eve@example.com', 'password123', '192.0.2.77')).status, 200);
	});
});

describe('auth guard on the mail flows', LIMIT, () => {
	let srv, su;
	const mailbox = 'mina@example.com';
	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await superuserToken(srv);
		await setup(srv, su, { users: [mailbox, 'noah@example.com'] });
		const otp = await req(srv, 'PATCH', '/api/collections/members', { token: su, body: { otp: { enabled: true } } });
		assert.equal(otp.status, 200, otp.text);
		await patchSettings(srv, su, { trustedProxy: { headers: ['X-Forwarded-For'] } });
	});
	after(() => srv?.stop());

	const post = (action, body, ip) =>
		req(srv, 'POST', `/api/collections/members/${action}`, { body, headers: { 'X-Forwarded-For': ip } });
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	/** A well-formed token for email whose signature is wrong. */
	const forged = (email, type = 'passwordReset') =>
		[b64({ alg: 'HS256', typ: 'JWT' }), b64({ collectionId: 'x', email, exp: 4102444800, id: 'abc', type }), Buffer.alloc(32, 7).toString('base64url')].join('.');

	test('request-* endpoints count every request per address, across client IPs', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 3, duration: 300 }, perIP: { maxRequests: 100, duration: 60 } } });
		const reset = (email, i) => post('request-password-reset', { email }, `198.51.100.${i + 1}`);
		assert.deepEqual(await statuses(3, (i) => reset(mailbox, i)), [204, 204, 204]);
		assertTooMany(await reset(mailbox, 10), 300);
		assertTooMany(await reset('MINA@Example.com', 11), 300);
		// the address's window is shared by the other mail requests
		assertTooMany(await post('request-verification', { email: mailbox }, '198.51.100.12'), 300);
		assertTooMany(await post('request-otp', { email: mailbox }, '198.51.100.13'), 300);
		// an invalid address is refused before it is counted
		assert.equal((await post('request-password-reset', { email: 'nope' }, '198.51.100.14')).status, 400);
		assert.equal((await reset('noah@example.com', 20)).status, 204);
		const unknown = await statuses(4, (i) => reset('ghost@example.com', 30 + i));
		assert.deepEqual(unknown, [204, 204, 204, 429], 'unknown addresses are limited the same way');
	});

	test('guessing reset tokens from one client IP hits the per-IP window', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 100, duration: 300 }, perIP: { maxRequests: 3, duration: 60 } } });
		const ip = '203.0.113.70';
		const guess = (i) => post('confirm-password-reset', { token: `guess-${i}`, password: 'password999', passwordConfirm: 'password999' }, ip);
		assert.deepEqual(await statuses(3, guess), [400, 400, 400]);
		assertTooMany(await guess(3), 60);
		assertTooMany(await post('request-password-reset', { email: 'mina@example.com' }, ip), 60);
		// another client IP is not concerned
		assert.equal((await post('confirm-password-reset', { token: 'guess', password: 'password999', passwordConfirm: 'password999' }, '203.0.113.71')).status, 400);
	});

	test('forged tokens for one address hit its window from any client IP', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 3, duration: 300 }, perIP: { maxRequests: 100, duration: 60 } } });
		const pw = { password: 'password999', passwordConfirm: 'password999' };
		const tok = forged('pat@example.com');
		assert.deepEqual(await statuses(3, (i) => post('confirm-password-reset', { token: tok, ...pw }, `192.0.2.${i + 1}`)), [400, 400, 400]);
		assertTooMany(await post('confirm-password-reset', { token: tok, ...pw }, '192.0.2.9'), 300);
		assertTooMany(await post('confirm-verification', { token: forged('pat@example.com', 'verification') }, '192.0.2.10'), 300);
		assert.equal((await post('confirm-password-reset', { token: forged('olga@example.com'), ...pw }, '192.0.2.11')).status, 400);
	});

	test('wrong OTP codes count against the address the OTP was sent to', async () => {
		await patchSettings(srv, su, { authGuard: { perIdentity: { maxRequests: 3, duration: 300 }, perIP: { maxRequests: 100, duration: 60 } } });
		const email = 'otto@example.com';
		const made = await req(srv, 'POST', '/api/collections/members/records', { token: su, body: { email, password: 'password123', passwordConfirm: 'password123' } });
		assert.equal(made.status, 200, made.text);
		const r = await post('request-otp', { email }, '192.0.2.50');
		assert.equal(r.status, 200, r.text);
		const otpId = r.json.otpId;
		await poll(async () => Number((await sqlite(srv.db, `SELECT count(*) FROM _otps WHERE id = '${otpId}'`)).trim()) === 1);
		const wrong = (i) => post('auth-with-otp', { otpId, password: '00000000' }, `192.0.2.${60 + i}`);
		assert.deepEqual(await statuses(2, wrong), [400, 400]);
		// the request above counted once: two failures fill the window of 3
		assertTooMany(await post('request-otp', { email }, '192.0.2.70'), 300);
		assertTooMany(await post('auth-with-password', { identity: email, password: 'password123' }, '192.0.2.71'), 300);
		// an unknown otpId names nobody: only the client IP counts it
		assert.equal((await post('auth-with-otp', { otpId: 'nosuchotpid1234', password: '00000000' }, '192.0.2.72')).status, 400);
	});
});

describe('cookie sessions and CSRF', LIMIT, () => {
	let srv, su, cols, cookie, origin;
	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		su = await superuserToken(srv);
		cols = await setup(srv, su, { users: ['cleo@example.com'] });
		await req(srv, 'POST', '/api/collections/notes/records', { token: su, body: { title: 'for members' } });
		origin = `http://127.0.0.1:${srv.port}`;
	});
	after(() => srv?.stop());

	const parseCookie = (h) => {
		assert.ok(Array.isArray(h) && h.length === 1, `one Set-Cookie: ${JSON.stringify(h)}`);
		const [pair, ...attrs] = h[0].split('; ');
		const eq = pair.indexOf('=');
		return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
	};

	test('auth-session logs in with a cookie (JSON or form) and answers without a token', async () => {
		const r = await req(srv, 'POST', '/api/collections/members/auth-session', { body: { identity: 'cleo@example.com', password: 'password123' } });
		assert.equal(r.status, 200, r.text);
		assert.deepEqual(Object.keys(r.json), ['record']);
		assert.equal(r.json.record.email, 'cleo@example.com');
		const c = parseCookie(r.headers['set-cookie']);
		assert.equal(c.name, 'hearth_auth');
		assert.equal(c.value.split('.').length, 3);
		assert.deepEqual(c.attrs.sort(), ['HttpOnly', `Max-Age=${cols.members.authToken.duration}`, 'Path=/', 'SameSite=Lax'].sort());
		cookie = `hearth_auth=${c.value}`;
		const f = await req(srv, 'POST', '/api/collections/members/auth-session', {
			body: 'identity=cleo%40example.com&password=password123',
			type: 'application/x-www-form-urlencoded',
		});
		assert.equal(f.status, 200, f.text);
		assert.equal(parseCookie(f.headers['set-cookie']).name, 'hearth_auth');
		const bad = await req(srv, 'POST', '/api/collections/members/auth-session', { body: { identity: 'cleo@example.com', password: 'nope' } });
		assert.equal(bad.status, 400);
		assert.equal(bad.headers['set-cookie'], undefined);
		const notAuth = await req(srv, 'POST', '/api/collections/notes/auth-session', { body: { identity: 'x@example.com', password: 'y' } });
		assert.equal(notAuth.status, 404);
	});

	test('the cookie authenticates safe requests; an Authorization header takes precedence', async () => {
		const list = (headers) => req(srv, 'GET', '/api/collections/notes/records', { headers });
		assert.equal((await list({ Cookie: cookie })).json.totalItems, 1);
		assert.equal((await list({ Cookie: `theme=dark; ${cookie}; x=1` })).json.totalItems, 1);
		assert.equal((await list({})).json.totalItems, 0);
		assert.equal((await list({ Cookie: 'hearth_auth=forged.token.value' })).json.totalItems, 0);
		assert.equal((await list({ Cookie: cookie, Authorization: 'invalid' })).json.totalItems, 0);
	});

	test('cookie-authenticated writes need an Origin or Referer of this host', async () => {
		const before = await count(srv, 'notes');
		const create = (headers) => req(srv, 'POST', '/api/collections/notes/records', { headers: { Cookie: cookie, ...headers }, body: { title: 'via cookie' } });
		const refused = [
			{},
			{ Origin: 'http://evil.example' },
			{ Origin: 'null' },
			{ Origin: `http://127.0.0.1:${srv.port}.evil.example` },
			{ Referer: 'http://evil.example/form' },
			{ Referer: 'not a url' },
			{ Origin: 'http://evil.example', Referer: `${origin}/form` },
		];
		await each(refused, async (h) => {
			const r = await create(h);
			assert.equal(r.status, 403, r.text);
			assert.match(r.json.message, /^Cross-site request refused/);
		});
		assert.equal(await count(srv, 'notes'), before, 'refused writes wrote nothing');
		assert.equal((await create({ Origin: origin })).status, 200);
		assert.equal((await create({ Referer: `${origin}/some/form?x=1` })).status, 200);
		assert.equal(await count(srv, 'notes'), before + 2);
		// Header tokens are not concerned by Origin.
		const login = await memberLogin(srv, 'cleo@example.com');
		const h = await req(srv, 'POST', '/api/collections/notes/records', { token: login.json.token, headers: { Origin: 'http://evil.example' }, body: { title: 'token' } });
		assert.equal(h.status, 200, h.text);
		// A refreshed session from the same origin works.
		const rf = await req(srv, 'POST', '/api/collections/members/auth-refresh', { headers: { Cookie: cookie, Origin: origin } });
		assert.equal(rf.status, 200, rf.text);
	});

	test('trustedOrigins extend the allowed origins', async () => {
		await patchSettings(srv, su, { authSession: { trustedOrigins: ['https://app.example.com'] } });
		const create = (o) => req(srv, 'POST', '/api/collections/notes/records', { headers: { Cookie: cookie, Origin: o }, body: { title: 't' } });
		assert.equal((await create('https://app.example.com')).status, 200);
		assert.equal((await create('https://other.example.com')).status, 403);
		await patchSettings(srv, su, { authSession: { trustedOrigins: [] } });
		assert.equal((await create('https://app.example.com')).status, 403);
	});

	test('Secure only when a trusted proxy says https; logout clears the cookie', async () => {
		const login = (headers) => req(srv, 'POST', '/api/collections/members/auth-session', { body: { identity: 'cleo@example.com', password: 'password123' }, headers });
		assert.ok(!parseCookie((await login({ 'X-Forwarded-Proto': 'https' })).headers['set-cookie']).attrs.includes('Secure'));
		await patchSettings(srv, su, { trustedProxy: { headers: ['X-Forwarded-For'] } });
		assert.ok(parseCookie((await login({ 'X-Forwarded-Proto': 'https' })).headers['set-cookie']).attrs.includes('Secure'));
		assert.ok(!parseCookie((await login({})).headers['set-cookie']).attrs.includes('Secure'));
		await patchSettings(srv, su, { trustedProxy: { headers: [] } });
		const out = await req(srv, 'DELETE', '/api/collections/members/auth-session', { headers: { Cookie: cookie, Origin: origin } });
		assert.equal(out.status, 204);
		const c = parseCookie(out.headers['set-cookie']);
		assert.equal(c.name, 'hearth_auth');
		assert.equal(c.value, '');
		assert.ok(c.attrs.includes('Max-Age=0'));
		const cross = await req(srv, 'DELETE', '/api/collections/members/auth-session', { headers: { Cookie: cookie } });
		assert.equal(cross.status, 403);
	});
});

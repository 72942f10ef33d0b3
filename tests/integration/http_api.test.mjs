// http_api.test.mjs - the records/collections API over raw HTTP, where the
// SDK would hide the wire (DIALECT.md §1, §2, §8.1, §11.3, §18.2): the exact
// error JSON, list envelope order, CORS, security headers, bad query
// values, HEAD, the Authorization header and tokens that must be ignored,
// JSON nesting limits, malformed and oversized bodies, wrongly typed
// fixed-shape bodies.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
	api,
	assertApiError,
	each,
	assertJsonError,
	parseResponse,
	rawExchange,
	rawGet,
	sqlite,
	startHearthData,
	superuserToken,
	withHearthData,
	UNDER_ASAN,
} from './lib.mjs';

// Bound every block: a hung server fails the block instead of the whole run.
const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };

const b64u = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

/** Nested JSON text: an object with key k holding `depth - 1` nested arrays (total depth = depth). */
function nestedBody(depth, k = 'x', extra = '') {
	return `{${extra}"${k}":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

describe('records API over raw HTTP', LIMIT, () => {
	let srv;
	let token;
	let ids;

	before(async () => {
		srv = await startHearthData(['--workers', '2']);
		token = await superuserToken(srv);
		const mk = async (body) => {
			const r = await api(srv, 'POST', '/api/collections', { token, body });
			assert.equal(r.status, 200, r.text);
			return r.json;
		};
		await mk({
			name: 'open',
			type: 'base',
			listRule: '',
			viewRule: '',
			createRule: '',
			updateRule: '',
			deleteRule: '',
			fields: [
				{ name: 'title', type: 'text' },
				{ name: 'n', type: 'number' },
				{ name: 'meta', type: 'json' },
			],
		});
		await mk({ name: 'locked', type: 'base', fields: [{ name: 'title', type: 'text' }] });
		ids = [];
		for (let i = 0; i < 5; i++) {
			const r = await api(srv, 'POST', '/api/collections/open/records', { body: { title: `t${i}`, n: i } });
			assert.equal(r.status, 200, r.text);
			ids.push(r.json.id);
		}
		const l = await api(srv, 'POST', '/api/collections/locked/records', { token, body: { title: 'secret' } });
		assert.equal(l.status, 200);
	});

	after(async () => {
		if (srv) await srv.stop();
	});

	const count = async (name = 'open') => {
		const r = await api(srv, 'GET', `/api/collections/${name}/records?perPage=1`, { token });
		assert.equal(r.status, 200, r.text);
		return r.json.totalItems;
	};

	test('error bodies are exactly {data, message, status} with data an object', async () => {
		const cases = [
			['GET', '/api/collections/nope/records', undefined, 404, 'Missing collection context.'],
			['GET', '/api/collections/nope/records/abc', undefined, 404, 'Missing collection context.'],
			['DELETE', '/api/collections/nope/records/abc', undefined, 404, 'Missing collection context.'],
			['GET', `/api/collections/open/records/${'z'.repeat(15)}`, undefined, 404, "The requested resource wasn't found."],
			['GET', '/api/collections/locked/records', undefined, 403, 'Only superusers can perform this action.'],
			['GET', '/api/collections', undefined, 401, 'The request requires valid record authorization token.'],
			['GET', '/api/settings', undefined, 401, 'The request requires valid record authorization token.'],
			['GET', '/api/nosuchroute', undefined, 404, "The requested resource wasn't found."],
			['GET', '/api/collections/open/records/', undefined, 404, undefined],
			['PUT', '/api/collections/open/records', '{}', 404, undefined],
			['GET', '/api/collections/open/records?filter=title%20%3D', undefined, 400, undefined],
			['POST', '/api/collections/open/records', '{"n":"x","title":["a"]', 400, undefined],
		];
		await each(cases, async ([method, path, body, status, message]) => {
			const r = await api(srv, method, path, { body });
			const j = assertApiError(r, status, message);
			assert.match(r.text, /^\{"data":\{/, `${method} ${path}: raw ${r.text}`);
			assert.match(j.message, /^[A-Z].*[.?!]$/, `sentence-cased with a final period: ${j.message}`);
		});
		// Validation details are {code, message[, params]} items inside data.
		await api(srv, 'PATCH', '/api/collections/open', {
			token,
			body: { fields: [{ name: 'title', type: 'text', required: true, max: 3 }, { name: 'n', type: 'number' }, { name: 'meta', type: 'json' }] },
		});
		const v = await api(srv, 'POST', '/api/collections/open/records', { body: { title: 'toolong' } });
		const j = assertApiError(v, 400, 'Failed to create record.');
		assert.deepEqual(j.data, {
			title: { code: 'validation_max_text_constraint', message: 'Must be no more than 3 character(s).', params: { max: 3 } },
		});
		const v2 = await api(srv, 'POST', '/api/collections/open/records', { body: { n: 1 } });
		assert.deepEqual(assertApiError(v2, 400).data, { title: { code: 'validation_required', message: 'Cannot be blank.' } });
		await api(srv, 'PATCH', '/api/collections/open', {
			token,
			body: { fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }, { name: 'meta', type: 'json' }] },
		});
		assert.equal(await count(), 5);
	});

	test('list envelope key order, record JSON, Content-Type', async () => {
		const r = await api(srv, 'GET', '/api/collections/open/records?perPage=2');
		assert.equal(r.status, 200);
		assert.equal(r.headers.get('content-type'), 'application/json');
		assert.match(r.text, /^\{"items":\[\{/);
		assert.deepEqual(Object.keys(r.json), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
		assert.match(r.text, /\],"page":1,"perPage":2,"totalItems":5,"totalPages":3\}$/);
		const item = r.json.items[0];
		assert.deepEqual(Object.keys(item).sort(), ['collectionId', 'collectionName', 'id', 'meta', 'n', 'title']);
		assert.equal(item.meta, null);
		const empty = await api(srv, 'GET', '/api/collections/open/records?filter=' + encodeURIComponent("title = 'none'"));
		assert.equal(empty.text, '{"items":[],"page":1,"perPage":30,"totalItems":0,"totalPages":0}');
		const skip = await api(srv, 'GET', '/api/collections/open/records?perPage=1&skipTotal=1&fields=id');
		assert.equal(skip.text, `{"items":[{"id":"${ids[0]}"}],"page":1,"perPage":1,"totalItems":-1,"totalPages":-1}`);
	});

	test('page, perPage and skipTotal: clamping, accepted spellings, bad values are 400', async () => {
		const q = (s) => api(srv, 'GET', `/api/collections/open/records?${s}`);
		await each([
			['page=0', 1, 30],
			['page=-3', 1, 30],
			['perPage=0', 1, 30],
			['perPage=-5', 1, 30],
			['perPage=1001', 1, 1000],
			['perPage=1000', 1, 1000],
			['page=2&perPage=2', 2, 2],
			['page=999999', 999999, 30],
		], async ([s, page, perPage]) => {
			const r = await q(s);
			assert.equal(r.status, 200, `${s}: ${r.text}`);
			assert.equal(r.json.page, page, s);
			assert.equal(r.json.perPage, perPage, s);
		});
		for (const v of ['1', 't', 'T', 'true', 'TRUE', 'True']) {
			const r = await q(`skipTotal=${v}`);
			assert.equal(r.status, 200, v);
			assert.equal(r.json.totalItems, -1, `skipTotal=${v}`);
			assert.equal(r.json.totalPages, -1, `skipTotal=${v}`);
		}
		for (const v of ['0', 'f', 'F', 'false', 'FALSE', 'False']) {
			const r = await q(`skipTotal=${v}`);
			assert.equal(r.status, 200, v);
			assert.equal(r.json.totalItems, 5, `skipTotal=${v}`);
		}
		await each([
			'page=abc',
			'page=1.5',
			'page=1e2',
			'page=99999999999999999999999',
			'perPage=x',
			'perPage=2.0',
			'perPage=%20',
			'skipTotal=yes',
			'skipTotal=2',
			'skipTotal=tru',
		], async (s) => assertApiError(await q(s), 400));
	});

	test('HEAD on a list has the GET headers and no body', async () => {
		const g = await rawGet(srv.port, '/api/collections/open/records?perPage=3');
		const h = await rawGet(srv.port, '/api/collections/open/records?perPage=3', {}, { method: 'HEAD' });
		assert.equal(h.status, 200);
		assert.equal(h.body.length, 0);
		assert.equal(h.headers['content-length'], String(g.body.length));
		assert.equal(h.headers['content-type'], 'application/json');
		const h404 = await rawGet(srv.port, '/api/collections/nope/records', {}, { method: 'HEAD' });
		assert.equal(h404.status, 404);
		assert.equal(h404.body.length, 0);
	});

	test('CORS: preflight 204 with the headers, simple requests get Access-Control-Allow-Origin', async () => {
		const pre = await rawGet(
			srv.port,
			'/api/collections/open/records',
			{
				Origin: 'https://app.example.com',
				'Access-Control-Request-Method': 'POST',
				'Access-Control-Request-Headers': 'content-type,authorization',
			},
			{ method: 'OPTIONS' },
		);
		assert.equal(pre.status, 204);
		assert.equal(pre.body.length, 0);
		assert.equal(pre.headers['access-control-allow-origin'], '*');
		assert.equal(pre.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE');
		assert.equal(pre.headers['access-control-allow-headers'], 'content-type,authorization');
		const vary = (pre.headers.vary || '').split(',').map((s) => s.trim());
		for (const v of ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']) assert.ok(vary.includes(v), `Vary ${pre.headers.vary}`);
		assert.equal(pre.headers['access-control-allow-credentials'], undefined);
		// Preflight of an unknown route is still a preflight.
		const pre2 = await rawGet(srv.port, '/api/collections/nope/records/x', { Origin: 'http://a', 'Access-Control-Request-Method': 'DELETE' }, { method: 'OPTIONS' });
		assert.equal(pre2.status, 204);
		assert.equal(pre2.headers['access-control-allow-origin'], '*');

		const bare = await rawGet(srv.port, '/api/collections/open/records', {}, { method: 'OPTIONS' });
		assert.equal(bare.status, 204);
		assert.equal(bare.headers['access-control-allow-origin'], undefined);

		const g = await rawGet(srv.port, '/api/collections/open/records', { Origin: 'https://app.example.com' });
		assert.equal(g.status, 200);
		assert.equal(g.headers['access-control-allow-origin'], '*');
		assert.ok((g.headers.vary || '').split(',').map((s) => s.trim()).includes('Origin'));
		const e = await rawGet(srv.port, '/api/collections/locked/records', { Origin: 'https://app.example.com' });
		assert.equal(e.status, 403);
		assert.equal(e.headers['access-control-allow-origin'], '*');
	});

	test('security headers on successes and errors', async () => {
		const targets = [
			['/api/collections/open/records', 200],
			[`/api/collections/open/records/${ids[0]}`, 200],
			['/api/collections/locked/records', 403],
			['/api/collections/nope/records', 404],
			['/api/collections', 401],
			['/api/collections/open/records?page=x', 400],
		];
		for (const [t, status] of targets) {
			const r = await rawGet(srv.port, t);
			assert.equal(r.status, status, t);
			assert.equal(r.headers['x-xss-protection'], '1; mode=block', t);
			assert.equal(r.headers['x-content-type-options'], 'nosniff', t);
			assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN', t);
		}
	});

	test('Authorization: bare token and "Bearer " (any case) both authenticate', async () => {
		for (const h of [token, `Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`]) {
			const r = await api(srv, 'GET', '/api/collections/locked/records', { headers: { Authorization: h } });
			assert.equal(r.status, 200, `Authorization: ${h.slice(0, 12)}...: ${r.text}`);
			assert.equal(r.json.items[0].title, 'secret');
		}
	});

	test('invalid, expired, tampered, wrong-type and alg:none tokens are ignored (the request runs as a guest)', async () => {
		const [h, p, sig] = token.split('.');
		const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
		// Mint tokens with the real signing key (tokenKey + authToken.secret from the database).
		const tokenKey = (await sqlite(srv.db, `SELECT tokenKey FROM _superusers WHERE id = '${claims.id}'`)).trim();
		const secret = (await sqlite(srv.db, "SELECT json_extract(options, '$.authToken.secret') FROM _collections WHERE id = 'pbc_3142635823'")).trim();
		assert.ok(tokenKey.length >= 30 && secret.length >= 30, 'found the signing key material');
		const sign = (header, payload) => {
			const data = `${b64u(header)}.${b64u(payload)}`;
			return `${data}.${crypto.createHmac('sha256', tokenKey + secret).update(data).digest('base64url')}`;
		};
		const hs = { alg: 'HS256', typ: 'JWT' };
		// Sanity check: re-signing the server's own claims gives a token it accepts.
		const good = sign(hs, { ...claims, exp: Math.floor(Date.now() / 1000) + 600 });
		const ok = await api(srv, 'GET', '/api/collections/locked/records', { token: good });
		assert.equal(ok.status, 200, `a correctly minted token must work: ${ok.text}`);

		const now = Math.floor(Date.now() / 1000);
		const bad = {
			garbage: 'garbage',
			empty: '',
			'bearer only': 'Bearer ',
			'two parts': `${h}.${p}`,
			'four parts': `${token}.x`,
			'signature flipped': `${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`,
			'signature removed': `${h}.${p}.`,
			'payload tampered': `${h}.${b64u({ ...claims, exp: claims.exp + 1 })}.${sig}`,
			'alg none': `${b64u({ alg: 'none', typ: 'JWT' })}.${p}.`,
			'alg none, old signature': `${b64u({ alg: 'none', typ: 'JWT' })}.${p}.${sig}`,
			'alg HS512': `${b64u({ alg: 'HS512', typ: 'JWT' })}.${p}.${sig}`,
			'alg None signed': sign({ alg: 'None', typ: 'JWT' }, claims),
			expired: sign(hs, { ...claims, exp: now - 60 }),
			'no exp': sign(hs, { collectionId: claims.collectionId, id: claims.id, refreshable: true, type: 'auth' }),
			'type file': sign(hs, { ...claims, type: 'file' }),
			'type missing': sign(hs, { collectionId: claims.collectionId, id: claims.id, exp: now + 600 }),
			'unknown record': sign(hs, { ...claims, id: 'nosuchrecord123' }),
			'unknown collection': sign(hs, { ...claims, collectionId: 'pbc_0' }),
			'id not a string': sign(hs, { ...claims, id: 123 }),
			'exp a string': sign(hs, { ...claims, exp: String(now + 600) }),
			'payload not JSON': `${h}.${b64u('not json')}.${sig}`,
			'payload an array': sign(hs, [claims]),
			huge: `${h}.${'A'.repeat(8000)}.${sig}`,
			'bad base64': `${h}.%%%.${sig}`,
		};
		await each(Object.entries(bad), async ([name, t]) => {
			const headers = { Authorization: t };
			const l = await api(srv, 'GET', '/api/collections/locked/records', { headers });
			assertApiError(l, 403, 'Only superusers can perform this action.');
			const o = await api(srv, 'GET', '/api/collections/open/records', { headers });
			assert.equal(o.status, 200, `${name}: a public list works with a bad token: ${o.text}`);
			const c = await api(srv, 'GET', '/api/collections', { headers });
			assertApiError(c, 401, 'The request requires valid record authorization token.');
		}, ([name]) => name);
		// Creating with a bad token is a guest create.
		const r = await api(srv, 'POST', '/api/collections/open/records', { headers: { Authorization: bad['alg none'] }, body: { title: 'guest' } });
		assert.equal(r.status, 200);
		await api(srv, 'DELETE', `/api/collections/open/records/${r.json.id}`, { token });
	});

	test('JSON nesting: 10000 levels are read, 10001 levels are 400, the server survives', async () => {
		const before = await count();
		// Record create: the unknown key is ignored once the body is read.
		const r1 = await api(srv, 'POST', '/api/collections/open/records', { body: nestedBody(10000) });
		assert.equal(r1.status, 200, r1.text.slice(0, 300));
		await api(srv, 'DELETE', `/api/collections/open/records/${r1.json.id}`, { token });
		for (const body of [nestedBody(10001), `{"x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`, '['.repeat(200000)]) {
			const r = await api(srv, 'POST', '/api/collections/open/records', { body });
			const j = assertApiError(r, 400);
			assert.deepEqual(j.data, {});
		}
		assert.equal(await count(), before, 'nothing written');

		// A json field value 10000 levels deep is stored and served back.
		const deep = `${'['.repeat(9999)}${']'.repeat(9999)}`;
		const r2 = await api(srv, 'POST', '/api/collections/open/records', { body: `{"title":"deep","meta":${deep}}` });
		assert.equal(r2.status, 200, r2.text.slice(0, 300));
		assert.ok(r2.text.includes(`"meta":${deep}`), 'deep value echoed');
		const g = await api(srv, 'GET', `/api/collections/open/records/${r2.json.id}`);
		assert.equal(g.status, 200);
		assert.ok(g.text.includes(`"meta":${deep}`), 'deep value served');
		const l = await api(srv, 'GET', `/api/collections/open/records?filter=${encodeURIComponent("title = 'deep'")}&fields=meta`);
		assert.equal(l.status, 200);
		await api(srv, 'DELETE', `/api/collections/open/records/${r2.json.id}`, { token });

		// Fixed-shape bodies: auth, collections, settings.
		const auth = '/api/collections/_superusers/auth-with-password';
		const a1 = await api(srv, 'POST', auth, { body: nestedBody(10000, 'x', '"identity":"nobody@example.com","password":"wrong password",') });
		assertApiError(a1, 400, 'Failed to authenticate.');
		const a2 = await api(srv, 'POST', auth, { body: nestedBody(10001, 'x', '"identity":"nobody@example.com","password":"wrong password",') });
		assert.deepEqual(assertApiError(a2, 400, 'An error occurred while loading the submitted data.').data, {});
		const c1 = await api(srv, 'POST', '/api/collections', { token, body: nestedBody(10000, 'x', '"name":"deep_ok","type":"base",') });
		assert.equal(c1.status, 200, c1.text.slice(0, 300));
		const c2 = await api(srv, 'POST', '/api/collections', { token, body: nestedBody(10001, 'x', '"name":"deep_bad","type":"base",') });
		assert.deepEqual(assertApiError(c2, 400).data, {});
		assertApiError(await api(srv, 'GET', '/api/collections/deep_bad', { token }), 404);
		const s1 = await api(srv, 'PATCH', '/api/settings', { token, body: nestedBody(10000) });
		assert.equal(s1.status, 200, s1.text.slice(0, 300));
		const s2 = await api(srv, 'PATCH', '/api/settings', { token, body: nestedBody(10001, 'x', '"meta":{"appName":"deep"},') });
		assert.deepEqual(assertApiError(s2, 400).data, {});
		const st = await api(srv, 'GET', '/api/settings', { token });
		assert.notEqual(st.json.meta.appName, 'deep');
		const h = await api(srv, 'GET', '/api/health');
		assert.equal(h.status, 200);
	});

	test('record bodies: malformed JSON, arrays and scalars are 400; empty body is {}; unsupported types 400', async () => {
		const before = await count();
		await each(['{"title":', '{"title":"x",}', "{'title':'x'}", '[{"title":"x"}]', '[]', '42', '"str"', 'true', '{"title":"x"', '\u0000', '{"title":"\\x41"}', '{"title":"x" "n":1}'], async (body) =>
			assertApiError(await api(srv, 'POST', '/api/collections/open/records', { body }), 400),
		);
		const u = await api(srv, 'PATCH', `/api/collections/open/records/${ids[0]}`, { body: '[1,2]' });
		assertApiError(u, 400);
		const t = await api(srv, 'POST', '/api/collections/open/records', { body: 'title=x', type: 'text/plain' });
		assertApiError(t, 400, 'Unsupported Content-Type.');
		assert.equal(await count(), before, 'nothing written');
		// Content-Length: 0 is an empty object.
		const e = await rawExchange(srv.port, 'POST /api/collections/open/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
		const res = parseResponse(e.data, { ended: true });
		assert.equal(res.status, 200, res.text);
		const rec = JSON.parse(res.text);
		assert.equal(rec.title, '');
		await api(srv, 'DELETE', `/api/collections/open/records/${rec.id}`, { token });
		// Values of the wrong type in a record body go through the field setters.
		const w = await api(srv, 'POST', '/api/collections/open/records', { body: { title: 123, n: 'abc' } });
		assert.equal(w.status, 200, w.text);
		assert.equal(w.json.title, '123');
		assert.equal(w.json.n, 0);
		await api(srv, 'DELETE', `/api/collections/open/records/${w.json.id}`, { token });
		// Form bodies work and infer types.
		const f = await api(srv, 'POST', '/api/collections/open/records', { body: 'title=012&n=12', type: 'application/x-www-form-urlencoded' });
		assert.equal(f.status, 200, f.text);
		assert.equal(f.json.title, '012');
		assert.equal(f.json.n, 12);
		await api(srv, 'DELETE', `/api/collections/open/records/${f.json.id}`, { token });
		assert.equal(await count(), before);
	});

	test('fixed-shape bodies with wrongly typed values are 400 and change nothing', async () => {
		const auth = '/api/collections/_superusers/auth-with-password';
		const msg = 'An error occurred while loading the submitted data.';
		await each([
			{ identity: [srv.email], password: { $ne: '' } },
			{ identity: [srv.email], password: srv.password },
			{ identity: srv.email, password: [srv.password] },
			{ identity: { $gt: '' }, password: srv.password },
			{ identity: srv.email, password: 12345678 },
			{ identity: true, password: srv.password },
			{ identity: srv.email, password: srv.password, identityField: ['email'] },
		], async (body) => {
			const r = await api(srv, 'POST', auth, { body });
			assert.equal(r.json?.token, undefined, 'no token');
			assert.deepEqual(assertApiError(r, 400, msg).data, {}, JSON.stringify(body));
		});
		await each(['[]', '"x"', '{"identity":', 'null'], async (body) => assertApiError(await api(srv, 'POST', auth, { body }), 400));
		const collectionsBefore = await api(srv, 'GET', '/api/collections?perPage=500', { token });
		await each([
			{ name: ['x'], type: 'base' },
			{ name: 'typed1', type: 5 },
			{ name: 'typed2', type: 'base', fields: 'nope' },
			{ name: 'typed3', type: 'base', fields: [{ name: 1, type: 'text' }] },
			{ name: 'typed4', type: 'base', listRule: 5 },
			{ name: 'typed5', type: 'base', indexes: 'CREATE INDEX x ON typed5 (id)' },
			{ name: 'typed6', type: 'base', fields: [{ name: 'a', type: 'text', max: 'ten' }] },
		], async (body) => assertApiError(await api(srv, 'POST', '/api/collections', { token, body }), 400));
		const collectionsAfter = await api(srv, 'GET', '/api/collections?perPage=500', { token });
		assert.deepEqual(collectionsAfter.json, collectionsBefore.json);

		const settingsBefore = await api(srv, 'GET', '/api/settings', { token });
		const settingsCases = [{ batch: { enabled: 'true' } }, { meta: { appName: 5 } }, { batch: [] }, { rateLimits: { rules: {} } }, { batch: { maxRequests: '50' } }, { smtp: { port: '25' } }];
		await each(settingsCases, async (body) => {
			const before = (await api(srv, 'GET', '/api/settings', { token })).json;
			try {
				assertApiError(await api(srv, 'PATCH', '/api/settings', { token, body }), 400);
				assert.deepEqual((await api(srv, 'GET', '/api/settings', { token })).json, before, 'settings unchanged');
			} finally {
				await api(srv, 'PATCH', '/api/settings', { token, body: before }); // undo, so one failure does not leak into the next case
			}
		});
		assert.deepEqual((await api(srv, 'GET', '/api/settings', { token })).json, settingsBefore.json);

		// Batch bodies (batch enabled for this part).
		await api(srv, 'PATCH', '/api/settings', { token, body: { batch: { enabled: true, maxRequests: 10 } } });
		const before = await count();
		await each(['{"requests":"x"}', '{"requests":{}}', '{"requests":[{"method":1,"url":"/"}]}', '[]', '{"requests":', '{"requests":[{"method":"POST","url":"/api/collections/open/records","body":"x"}]}'], async (body) =>
			assertApiError(await api(srv, 'POST', '/api/batch', { body }), 400),
		);
		await each([
			[{ requests: [] }, 'requests', 'validation_required'],
			[{}, 'requests', 'validation_required'],
			[{ requests: [{ url: '/api/collections/open/records' }] }, 'requests.0.method', 'validation_required'],
			[{ requests: [{ method: 'post', url: '/api/collections/open/records' }] }, 'requests.0.method', 'validation_in_invalid'],
			[{ requests: [{ method: 'POST' }] }, 'requests.0.url', 'validation_required'],
			[{ requests: [{ method: 'POST', url: `/api/collections/open/records?x=${'a'.repeat(2000)}` }] }, 'requests.0.url', 'validation_length_too_long'],
		], async ([body, key, code]) => {
			const r = await api(srv, 'POST', '/api/batch', { body });
			const j = assertApiError(r, 400, 'Invalid batch request data.');
			let d = j.data;
			for (const k of key.split('.')) d = d?.[k];
			assert.equal(d?.code, code, `${JSON.stringify(body).slice(0, 80)}: ${r.text.slice(0, 300)}`);
		});
		// A structurally valid item that is not a record action fails at execution.
		const g = await api(srv, 'POST', '/api/batch', {
			body: { requests: [{ method: 'POST', url: '/api/collections/open/records', body: { title: 'b' } }, { method: 'GET', url: '/api/health' }] },
		});
		const gj = assertApiError(g, 400, 'Batch transaction failed.');
		assert.equal(gj.data.requests['1'].code, 'batch_request_failed');
		assert.equal(await count(), before, 'nothing written');
		await api(srv, 'PATCH', '/api/settings', { token, body: { batch: { enabled: false } } });
	});

	test('a body over the limit is 413 "Request entity too large." and the server keeps answering', async () => {
		await each(['/api/collections/open/records', '/api/collections', '/api/settings', '/api/collections/_superusers/auth-with-password'], async (path) => {
			const r = await rawExchange(
				srv.port,
				`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${4 * 1024 * 1024 * 1024}\r\n\r\n{"title":"x"`,
				{ timeout: 3000 },
			);
			const res = parseResponse(r.data, { ended: true });
			assert.ok(res, `${path}: no response (${r.data.length} bytes)`);
			const j = assertJsonError(res, 413);
			assert.equal(j.message, 'Request entity too large.');
		});
		const h = await api(srv, 'GET', '/api/collections/open/records');
		assert.equal(h.status, 200);
	});
});

test('with --max-body 64K: real bodies above the limit are 413, nothing is written', LIMIT, async () => {
	await withHearthData(['--workers', '1', '--max-body', '64K'], async (srv) => {
		const token = await superuserToken(srv);
		const c = await api(srv, 'POST', '/api/collections', {
			token,
			body: { name: 'small', type: 'base', createRule: '', listRule: '', fields: [{ name: 'title', type: 'text', max: 0 }] },
		});
		assert.equal(c.status, 200, c.text);
		const big = 'x'.repeat(100 * 1024);
		const messages = []; // checked last, after the behaviour
		const r1 = await api(srv, 'POST', '/api/collections', { token, body: { name: 'big', type: 'base', x: big } });
		messages.push(assertApiError(r1, 413).message);
		const r2 = await api(srv, 'PATCH', '/api/settings', { token, body: { meta: { appName: big } } });
		messages.push(assertApiError(r2, 413).message);
		const r3 = await api(srv, 'POST', '/api/collections/small/records', { body: { title: big } });
		messages.push(assertApiError(r3, 413).message);
		// Chunked, so the limit must be enforced while reading.
		const chunk = Buffer.from(`{"name":"big2","type":"base","x":"${big}"}`);
		const raw = await rawExchange(
			srv.port,
			[
				`POST /api/collections HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
				`${chunk.length.toString(16)}\r\n`,
				chunk,
				'\r\n0\r\n\r\n',
			],
			{ timeout: 3000 },
		);
		const res = parseResponse(raw.data, { ended: true });
		assert.ok(res, 'a response');
		messages.push(assertJsonError(res, 413).message);
		const list = await api(srv, 'GET', '/api/collections?perPage=100', { token });
		assert.deepEqual(
			list.json.items.map((x) => x.name).sort(),
			['_superusers', 'small', 'users'],
		);
		assert.notEqual((await api(srv, 'GET', '/api/settings', { token })).json.meta.appName, big);
		const ok = await api(srv, 'POST', '/api/collections/small/records', { body: { title: 'fits' } });
		assert.equal(ok.status, 200);
		assert.equal((await api(srv, 'GET', '/api/collections/small/records')).json.totalItems, 1);
		assert.deepEqual(messages, Array(messages.length).fill('Request entity too large.'));
	});
});

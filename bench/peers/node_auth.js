// bench/peers/node_auth.js - the Node.js peer of bench/run.sh's auth
// workloads: password login, token-checked lists and a health check,
// written the way a Node developer would write them, with fastify,
// better-sqlite3 and the npm argon2 package.
//
//   node node_auth.js PORT DATA_DB                    (127.0.0.1:PORT only)
//
//   GET  /api/health                                  as hearth
//   POST /api/collections/members/auth-with-password  DIALECT.md §12.2
//   GET  /api/collections/notes/records               list (§8.1): page,
//        perPage, skipTotal; listRule owner = @request.auth.id
//
// DATA_DB is a copy of the hearth data.db that bench/run.sh seeded: the
// auth collection "members" and the collection "notes" made through
// hearth's API, the same rows, the same indexes. Both collections' fields
// and the members' token secret are read from _collections, so records
// have the dialect's shape and key order, the list bodies are the same
// bytes as hearth's, and a token either server issues is valid on both.
//
// Login: the record by e-mail (the identity field), then argon2.verify()
// on the stored PHC string, which carries hearth's parameters (argon2id,
// t=2, m=64 MiB, p=1), so both do the same hashing work; the package runs
// it on libuv's thread pool, off the event loop. A missing member costs a
// verification too (of a fixed hash with the same parameters), as §12.2
// asks. The token: HS256 over the dialect's claims in their order, keyed
// with the member's tokenKey followed by the collection's auth secret.
//
// The list: the Authorization token is verified as §11.3 says (decode,
// check alg, exp and the claims, load the member by id, compare the
// HMAC-SHA256 in constant time, with node's crypto), then the rule becomes
// WHERE "owner" = ?, bound to the member's id (to '' for a guest, who thus
// sees nothing), in storage order as hearth lists without a sort.
//
// Left out: filter, sort, expand and fields on the list (400 when given),
// other identity fields, authRule expressions (the benchmark's is "", as
// hearth's default), MFA and login alerts (off / not kept by hearth
// either), rehashing. Statements are prepared once; the SQLite settings
// are hearth's (src/db/sqlite.c), as in node_records.js.
'use strict';

const crypto = require('crypto');
const argon2 = require('argon2');
const Database = require('better-sqlite3');
const Fastify = require('fastify');

const port = Number(process.argv[2]);
const dbPath = process.argv[3];
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !dbPath) {
  console.error('usage: node node_auth.js PORT DATA_DB');
  process.exit(2);
}

const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('temp_store = MEMORY');
db.pragma('cache_size = -8000');

// ---- The two collections, from hearth's system table ----

function collection(name) {
  const row = db.prepare('SELECT id, type, fields, options FROM _collections WHERE name = ?').get(name);
  if (!row) {
    console.error(`node_auth: ${dbPath} has no collection "${name}"`);
    process.exit(1);
  }
  const fields = JSON.parse(row.fields);
  return {
    id: row.id,
    name,
    type: row.type,
    fields,
    options: row.options ? JSON.parse(row.options) : {},
    columns: fields.map((f) => `"${f.name}"`).join(', '),
    // Keys in the dialect's order: sorted, computed keys included; hidden
    // fields (password, tokenKey) never leave the server.
    keys: fields.filter((f) => !f.hidden).map((f) => f.name).concat(['collectionId', 'collectionName']).sort(),
    bools: new Set(fields.filter((f) => f.type === 'bool').map((f) => f.name)),
  };
}

const members = collection('members');
const notes = collection('notes');
if (members.type !== 'auth' || !notes.fields.some((f) => f.name === 'owner' && f.type === 'relation')) {
  console.error('node_auth: "members" must be an auth collection and "notes" have the relation "owner"');
  process.exit(1);
}
const authSecret = members.options.authToken && members.options.authToken.secret;
const authDuration = (members.options.authToken && members.options.authToken.duration) || 604800;
if (typeof authSecret !== 'string' || authSecret === '') {
  console.error('node_auth: members has no authToken secret');
  process.exit(1);
}

function toRecord(c, row) {
  const o = {};
  for (const k of c.keys) {
    if (k === 'collectionId') o[k] = c.id;
    else if (k === 'collectionName') o[k] = c.name;
    else if (c.bools.has(k)) o[k] = row[k] === 1;
    else o[k] = row[k];
  }
  return o;
}

const memberById = db.prepare(`SELECT ${members.columns} FROM "members" WHERE "id" = ? LIMIT 1`);
const memberByEmail = db.prepare(`SELECT ${members.columns} FROM "members" WHERE "email" = ? LIMIT 1`);
const notesPage = db.prepare(`SELECT ${notes.columns} FROM "notes" WHERE "owner" = ? ORDER BY _rowid_ LIMIT ? OFFSET ?`);
const notesCount = db.prepare('SELECT COUNT(*) AS n FROM "notes" WHERE "owner" = ?');

// ---- Errors in the dialect's shape ----

function sendError(reply, status, message, data) {
  reply.code(status).send({ data: data || {}, message, status });
}

// ---- Tokens (HS256, §11.3) ----

const HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');

function sign(member) {
  const exp = Math.floor(Date.now() / 1000) + authDuration;
  const payload = `{"collectionId":${JSON.stringify(members.id)},"exp":${exp},"id":${JSON.stringify(member.id)},` +
    '"refreshable":true,"type":"auth"}';
  const body = `${HEADER}.${Buffer.from(payload).toString('base64url')}`;
  const mac = crypto.createHmac('sha256', member.tokenKey + authSecret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(seg) {
  try {
    const v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

// The member the Authorization header proves, or null (a guest).
function authMember(header) {
  if (typeof header !== 'string' || header.length > 8192) return null;
  const token = header.startsWith('Bearer ') ? header.slice(7) : header;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p !== '' && B64URL.test(p))) return null;
  const head = decodeJson(parts[0]);
  if (!head || head.alg !== 'HS256' || (head.typ !== undefined && head.typ !== 'JWT') || 'crit' in head) return null;
  const claims = decodeJson(parts[1]);
  if (!claims || !Number.isInteger(claims.exp) || claims.exp <= Date.now() / 1000) return null;
  if (typeof claims.id !== 'string' || claims.id === '' || claims.type !== 'auth') return null;
  if (claims.collectionId !== members.id && claims.collectionId !== members.name) return null;
  const member = memberById.get(claims.id);
  if (!member) return null;
  const mac = crypto.createHmac('sha256', member.tokenKey + authSecret).update(`${parts[0]}.${parts[1]}`).digest();
  const sig = Buffer.from(parts[2], 'base64url');
  if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return null;
  return member;
}

// ---- Passwords ----

// What a missing member costs: one verification with hearth's parameters.
let dummyHash = null;
async function dummyVerify(password) {
  if (dummyHash === null) {
    dummyHash = await argon2.hash(crypto.randomBytes(16).toString('hex'),
      { type: argon2.argon2id, timeCost: 2, memoryCost: 65536, parallelism: 1 });
  }
  await argon2.verify(dummyHash, password);
  return false;
}

// ---- The server ----

const app = Fastify({ logger: false });

app.addHook('onRequest', (request, reply, done) => {
  reply.header('x-xss-protection', '1; mode=block');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'SAMEORIGIN');
  done();
});

app.get('/api/health', (request, reply) => {
  reply.send({ message: 'API is healthy.', code: 200, data: {} });
});

app.post('/api/collections/:collection/auth-with-password', async (request, reply) => {
  if (request.params.collection !== members.name && request.params.collection !== members.id) {
    return sendError(reply, 404, 'Missing or invalid auth collection context.');
  }
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body) ||
      (body.identity !== undefined && typeof body.identity !== 'string') ||
      (body.password !== undefined && typeof body.password !== 'string')) {
    return sendError(reply, 400, 'An error occurred while loading the submitted data.');
  }
  const identity = body.identity || '';
  const password = body.password || '';
  const errors = {};
  for (const [k, v] of [['identity', identity], ['password', password]]) {
    if (v === '') errors[k] = { code: 'validation_required', message: 'Cannot be blank.' };
    else if (v.length > 255) errors[k] = { code: 'validation_length_out_of_range', message: 'The length must be between 1 and 255.' };
  }
  if (Object.keys(errors).length) return sendError(reply, 400, 'An error occurred while validating the submitted data.', errors);
  const member = memberByEmail.get(identity);
  const ok = member ? await argon2.verify(member.password, password) : await dummyVerify(password);
  if (!ok) return sendError(reply, 400, 'Failed to authenticate.');
  return { record: toRecord(members, member), token: sign(member) };
});

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function intParam(v) {
  if (v === undefined || v === '') return null;
  if (!/^[+-]?\d{1,18}$/.test(v)) return NaN;
  return Number(v);
}

app.get('/api/collections/:collection/records', (request, reply) => {
  if (request.params.collection !== notes.name && request.params.collection !== notes.id) {
    return sendError(reply, 404, 'Missing collection context.');
  }
  const q = request.query;
  if (q.filter || q.sort || q.expand || q.fields) return sendError(reply, 400, 'Not supported by this peer.');
  let page = intParam(q.page);
  let perPage = intParam(q.perPage);
  if (Number.isNaN(page)) return sendError(reply, 400, 'Invalid page parameter.');
  if (Number.isNaN(perPage)) return sendError(reply, 400, 'Invalid perPage parameter.');
  if (page === null || page <= 0) page = 1;
  if (page > 1000000000) page = 1000000000;
  if (perPage === null || perPage <= 0) perPage = 30;
  if (perPage > 1000) perPage = 1000;
  let skipTotal = false;
  if (q.skipTotal !== undefined && q.skipTotal !== '') {
    if (TRUE.has(q.skipTotal)) skipTotal = true;
    else if (!FALSE.has(q.skipTotal)) return sendError(reply, 400, 'Invalid skipTotal parameter.');
  }
  const member = authMember(request.headers.authorization);
  const owner = member ? member.id : '';
  const total = skipTotal ? -1 : notesCount.get(owner).n;
  const rows = notesPage.all(owner, perPage, (page - 1) * perPage);
  reply.send({
    items: rows.map((r) => toRecord(notes, r)),
    page,
    perPage,
    totalItems: total,
    totalPages: total < 0 ? -1 : Math.ceil(total / perPage),
  });
});

app.listen({ host: '127.0.0.1', port, backlog: 4096 }).then(
  () => console.error(`node_auth ${process.version}: port ${port}, ${dbPath}`),
  (err) => {
    console.error(`node_auth: ${err.message}`);
    process.exit(1);
  },
);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    app.close().finally(() => {
      db.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 5000).unref();
  });
}

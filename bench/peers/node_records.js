// bench/peers/node_records.js - the Node.js peer of bench/run.sh's records
// and database workloads: the same endpoints as hearth, written the way a
// Node developer would write them, with fastify and better-sqlite3 (12.x).
//
//   node node_records.js PORT RECORDS_DB WORLD_DB     (127.0.0.1:PORT only)
//
//   GET  /api/health                                  as hearth
//   GET  /api/collections/posts/records               list: page, perPage,
//        sort, filter, skipTotal (DIALECT.md §8.1)
//   GET  /api/collections/posts/records/:id           view (§8.2)
//   POST /api/collections/posts/records               create, JSON body (§8.3)
//   GET  /db, /queries?queries=N, /updates?queries=N  TechEmpower tests 2, 3, 5
//
// RECORDS_DB is a copy of the hearth data.db that bench/run.sh seeded: the
// same rows, the same indexes. The collection's fields are read from its
// _collections row, so record objects have the dialect's shape and key
// order (keys sorted, with collectionId and collectionName) and the bodies
// are the same bytes as hearth's for the same rows.
//
// What it implements, and what it leaves out. Rules are not evaluated: the
// benchmark collection's list, view and create rules are "" (public) on
// both sides, where hearth's cost for them is one check. The filter
// language is the subset the benchmark uses, parsed into parameterised SQL
// with the same meaning as hearth's (§6.9): comparisons of a field with a
// literal (=, !=, >, >=, <, <=), joined with && and ||, in parentheses.
// Sorting is by fields, with rowid as the final tie-break as in hearth (in
// the direction of the last sort key).
// Create validates text, number, select and autodate fields as §4.2 says
// and answers 400 with the dialect's error shape. Statements are prepared
// once and cached by SQL text.
//
// TechEmpower routes: as bench/te.c, so the two run the same statements:
// each row read by its own SELECT; /updates does every read and every
// single-row UPDATE inside one BEGIN IMMEDIATE transaction.
//
// Connections use hearth's settings (src/db/sqlite.c): WAL,
// synchronous=NORMAL (better-sqlite3's default would be FULL),
// foreign_keys, temp_store=MEMORY, an 8 MiB page cache. One process, no
// cluster, as the other Node peer.
'use strict';

const crypto = require('crypto');
const Database = require('better-sqlite3');
const Fastify = require('fastify');

const port = Number(process.argv[2]);
const recordsPath = process.argv[3];
const worldPath = process.argv[4];
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !recordsPath || !worldPath) {
  console.error('usage: node node_records.js PORT RECORDS_DB WORLD_DB');
  process.exit(2);
}

function open(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -8000');
  return db;
}

const db = open(recordsPath);
const world = open(worldPath);

// ---- The collection, from hearth's system table ----

const COLLECTION = 'posts';
const crow = db.prepare('SELECT id, fields FROM _collections WHERE name = ?').get(COLLECTION);
if (!crow) {
  console.error(`node_records: ${recordsPath} has no collection "${COLLECTION}"`);
  process.exit(1);
}
const collectionId = crow.id;
const fields = JSON.parse(crow.fields);
const byName = new Map(fields.map((f) => [f.name, f]));
for (const f of fields) {
  if (!['text', 'number', 'select', 'autodate'].includes(f.type) || (f.type === 'select' && f.maxSelect > 1)) {
    console.error(`node_records: field ${f.name}: type ${f.type} is not supported by this peer`);
    process.exit(1);
  }
}
const colList = fields.map((f) => `"${f.name}"`).join(', ');
// The object's keys in the dialect's order: sorted, computed keys included.
const keyOrder = fields.map((f) => f.name).concat(['collectionId', 'collectionName']).sort();

function toRecord(row) {
  const o = {};
  for (const k of keyOrder) {
    if (k === 'collectionId') o[k] = collectionId;
    else if (k === 'collectionName') o[k] = COLLECTION;
    else o[k] = row[k];
  }
  return o;
}

// ---- Statements, cached by SQL text ----

const stmts = new Map();
function stmt(sql) {
  let s = stmts.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    stmts.set(sql, s);
  }
  return s;
}

// ---- Errors in the dialect's shape ----

const DEFAULT_MESSAGES = {
  400: 'Something went wrong while processing your request.',
  404: "The requested resource wasn't found.",
};

function sendError(reply, status, message, data) {
  reply.code(status).send({ data: data || {}, message: message || DEFAULT_MESSAGES[status], status });
}

// ---- The filter subset: comparisons, &&, ||, parentheses ----

class FilterError extends Error {}

function tokenize(s) {
  const toks = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')') { toks.push({ t: c }); i++; continue; }
    const two = s.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '!=' || two === '>=' || two === '<=') {
      toks.push({ t: 'op', v: two }); i += 2; continue;
    }
    if (c === '=' || c === '>' || c === '<') { toks.push({ t: 'op', v: c }); i++; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1, v = '';
      while (j < s.length && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j++];
      }
      if (j >= s.length) throw new FilterError('unterminated string');
      toks.push({ t: 'lit', v }); i = j + 1; continue;
    }
    const m = /^-?(?:\d+\.?\d*|\.\d+)/.exec(s.slice(i));
    if (m) { toks.push({ t: 'lit', v: Number(m[0]) }); i += m[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (id) {
      const w = id[0];
      if (w === 'true' || w === 'false') toks.push({ t: 'lit', v: w === 'true' ? 1 : 0 });
      else if (w === 'null') toks.push({ t: 'lit', v: '' });
      else toks.push({ t: 'id', v: w });
      i += w.length;
      continue;
    }
    throw new FilterError(`unexpected character at byte ${i}`);
  }
  return toks;
}

// Returns { sql, params } for the expression; the same SQL hearth's
// src/rules/sql.c writes for these operand kinds.
function compileFilter(src) {
  const toks = tokenize(src);
  const params = [];
  let p = 0;
  const peek = () => toks[p];
  function expr() {
    let left = and();
    while (peek() && peek().t === 'op' && peek().v === '||') { p++; left = `(${left} OR ${and()})`; }
    return left;
  }
  function and() {
    let left = primary();
    while (peek() && peek().t === 'op' && peek().v === '&&') { p++; left = `(${left} AND ${primary()})`; }
    return left;
  }
  function primary() {
    const t = toks[p++];
    if (!t) throw new FilterError('unexpected end');
    if (t.t === '(') {
      const e = expr();
      if (!toks[p] || toks[p++].t !== ')') throw new FilterError('missing )');
      return e;
    }
    if (t.t !== 'id' || !byName.has(t.v)) throw new FilterError(`unknown field ${t.v}`);
    const op = toks[p++];
    const lit = toks[p++];
    if (!op || op.t !== 'op' || !lit || lit.t !== 'lit') throw new FilterError('expected a comparison');
    const col = `"${t.v}"`;
    const empty = lit.v === '';
    switch (op.v) {
      case '=':
        if (empty) return `(${col} = '' OR ${col} IS NULL)`;
        params.push(lit.v);
        return `(${col} = ?)`;
      case '!=':
        if (empty) return `(${col} IS NOT '' AND ${col} IS NOT NULL)`;
        params.push(lit.v);
        return `(${col} IS NOT ?)`;
      case '>': case '>=': case '<': case '<=':
        params.push(lit.v);
        return `(${col} ${op.v} ?)`;
      default:
        throw new FilterError(`operator ${op.v} is not supported`);
    }
  }
  const sql = expr();
  if (p !== toks.length) throw new FilterError('trailing input');
  return { sql, params };
}

// Returns the ORDER BY terms, ending (as hearth's src/records/records.c
// does) with the rowid tie-break in the direction of the last sort key, so
// an index on that key still yields the order.
function compileSort(src) {
  const parts = [];
  let dir = 'ASC';
  for (let item of src.split(',')) {
    item = item.trim();
    dir = 'ASC';
    if (item[0] === '-') { dir = 'DESC'; item = item.slice(1); } else if (item[0] === '+') item = item.slice(1);
    if (!byName.has(item)) throw new FilterError('invalid sort field');
    parts.push(`"${item}" ${dir}`);
  }
  parts.push(`_rowid_ ${dir}`);
  return parts.join(', ');
}

function parseIntParam(v) {
  if (v === undefined || v === '') return null;
  if (!/^[+-]?\d{1,18}$/.test(v)) return NaN;
  return Number(v);
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

// ---- Create: the field setters and validators of §4.2 ----

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function newId() {
  const b = crypto.randomBytes(15);
  let s = '';
  for (let i = 0; i < 15; i++) s += ID_ALPHABET[b[i] % 36];
  return s;
}

function nowCanonical() {
  return new Date().toISOString().replace('T', ' ');
}

function stringify(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function verr(code, message) {
  return { code, message };
}

function fieldValue(f, body, now) {
  const v = body[f.name];
  switch (f.type) {
    case 'autodate':
      return { value: now };
    case 'text': {
      if (f.primaryKey) {
        if (v === undefined || v === null || v === '') return { value: newId() };
        const s = stringify(v);
        if ([...s].length !== 15) return { error: verr('validation_length_out_of_range', 'The length must be exactly 15.') };
        if (!/^[a-z0-9]+$/.test(s)) return { error: verr('validation_invalid_format', 'Invalid value format.') };
        return { value: s };
      }
      const s = stringify(v);
      const n = [...s].length;
      if (s === '') return f.required ? { error: verr('validation_required', 'Cannot be blank.') } : { value: s };
      if (f.min && n < f.min) return { error: verr('validation_min_text_constraint', `Must be at least ${f.min} character(s).`) };
      const max = f.max || 5000;
      if (n > max) return { error: verr('validation_max_text_constraint', `Must be no more than ${max} character(s).`) };
      return { value: s };
    }
    case 'number': {
      let n;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'boolean') n = v ? 1 : 0;
      else if (typeof v === 'string') { n = Number(v.trim()); if (v.trim() === '' || Number.isNaN(n)) n = 0; } else n = 0;
      if (!Number.isFinite(n)) return { error: verr('validation_not_a_number', 'The submitted number is not properly formatted.') };
      if (n === 0) return f.required ? { error: verr('validation_required', 'Cannot be blank.') } : { value: 0 };
      if (f.onlyInt && !Number.isInteger(n)) return { error: verr('validation_only_int_constraint', 'Decimal numbers are not allowed.') };
      if (f.min !== null && f.min !== undefined && n < f.min) return { error: verr('validation_min_number_constraint', `Must be greater or equal than ${f.min}.`) };
      if (f.max !== null && f.max !== undefined && n > f.max) return { error: verr('validation_max_number_constraint', `Must be less or equal than ${f.max}.`) };
      return { value: n };
    }
    case 'select': {
      let s = Array.isArray(v) ? (v.length ? v[v.length - 1] : '') : v;
      s = stringify(s);
      if (s === '') return f.required ? { error: verr('validation_required', 'Cannot be blank.') } : { value: '' };
      if (!f.values.includes(s)) return { error: verr('validation_invalid_value', `Invalid value ${s}.`) };
      return { value: s };
    }
    default:
      return { error: verr('validation_invalid_value', 'Unsupported field.') };
  }
}

const insertSql = `INSERT INTO "${COLLECTION}" (${colList}) VALUES (${fields.map(() => '?').join(', ')})`;

// ---- The server ----

const app = Fastify({ logger: false });

// The headers hearth puts on every API response (src/api/api.c), so the
// two send the same bytes.
app.addHook('onRequest', (request, reply, done) => {
  reply.header('x-xss-protection', '1; mode=block');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'SAMEORIGIN');
  done();
});

app.get('/api/health', (request, reply) => {
  reply.send({ message: 'API is healthy.', code: 200, data: {} });
});

function isPosts(name) {
  return name === COLLECTION || name === collectionId;
}

app.get('/api/collections/:collection/records', (request, reply) => {
  if (!isPosts(request.params.collection)) return sendError(reply, 404, 'Missing collection context.');
  const q = request.query;
  let page = parseIntParam(q.page);
  let perPage = parseIntParam(q.perPage);
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
  let where = '1=1';
  let params = [];
  let order = '_rowid_';
  try {
    if (q.filter) {
      const f = compileFilter(q.filter);
      where = `1=1 AND ${f.sql}`;
      params = f.params;
    }
    if (q.sort) order = compileSort(q.sort);
  } catch (e) {
    if (e instanceof FilterError) return sendError(reply, 400, `Invalid filter: ${e.message}.`);
    throw e;
  }
  let total = -1;
  if (!skipTotal) total = stmt(`SELECT COUNT(*) AS n FROM "${COLLECTION}" WHERE ${where}`).get(params).n;
  const rows = stmt(`SELECT ${colList} FROM "${COLLECTION}" WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(...params, perPage, (page - 1) * perPage);
  reply.send({
    items: rows.map(toRecord),
    page,
    perPage,
    totalItems: total,
    totalPages: total < 0 ? -1 : Math.ceil(total / perPage),
  });
});

const viewSql = `SELECT ${colList} FROM "${COLLECTION}" WHERE "id" = ? LIMIT 1`;
app.get('/api/collections/:collection/records/:id', (request, reply) => {
  if (!isPosts(request.params.collection)) return sendError(reply, 404, 'Missing collection context.');
  const row = stmt(viewSql).get(request.params.id);
  if (!row) return sendError(reply, 404);
  reply.send(toRecord(row));
});

app.post('/api/collections/:collection/records', (request, reply) => {
  if (!isPosts(request.params.collection)) return sendError(reply, 404, 'Missing collection context.');
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return sendError(reply, 400, 'Failed to load the submitted data due to invalid formatting.');
  }
  const now = nowCanonical();
  const row = {};
  const errors = {};
  let bad = false;
  for (const f of fields) {
    const r = fieldValue(f, body, now);
    if (r.error) { errors[f.name] = r.error; bad = true; } else row[f.name] = r.value;
  }
  if (bad) return sendError(reply, 400, 'Failed to create record.', errors);
  try {
    stmt(insertSql).run(fields.map((f) => row[f.name]));
  } catch (e) {
    if (e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE') {
      return sendError(reply, 400, 'Failed to create record.', { id: verr('validation_not_unique', 'Value must be unique.') });
    }
    throw e;
  }
  reply.send(toRecord(row));
});

// ---- TechEmpower ----

const worldSelect = world.prepare('SELECT id, randomNumber FROM world WHERE id = ?');
const worldUpdate = world.prepare('UPDATE world SET randomNumber = ? WHERE id = ?');
const randomId = () => 1 + Math.floor(Math.random() * 10000);

function queryCount(v) {
  const n = /^\d{1,6}$/.test(v || '') ? Number(v) : 1;
  return n < 1 ? 1 : n > 500 ? 500 : n;
}

app.get('/db', (request, reply) => {
  reply.send(worldSelect.get(randomId()));
});

app.get('/queries', (request, reply) => {
  const n = queryCount(request.query.queries);
  const rows = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = worldSelect.get(randomId());
  reply.send(rows);
});

const updateRows = world.transaction((n) => {
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = worldSelect.get(randomId());
    row.randomNumber = randomId();
    worldUpdate.run(row.randomNumber, row.id);
    rows[i] = row;
  }
  return rows;
});

app.get('/updates', (request, reply) => {
  reply.send(updateRows.immediate(queryCount(request.query.queries)));
});

app.listen({ host: '127.0.0.1', port, backlog: 4096 }).then(
  () => console.error(`node_records ${process.version}: port ${port}, ${recordsPath}, ${worldPath}`),
  (err) => {
    console.error(`node_records: ${err.message}`);
    process.exit(1);
  },
);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    app.close().finally(() => {
      db.close();
      world.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 5000).unref();
  });
}

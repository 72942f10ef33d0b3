/*
 * db/sqlite.c - the connection level of db.h on SQLite.
 *
 * Connection settings follow DIALECT.md §21 where they matter for
 * behaviour (WAL, foreign keys, synchronous=NORMAL, temp_store=MEMORY) and
 * differ where memory matters: the page cache is 8 MiB per connection, not
 * 32 MiB, because every worker has its own connection and the operating
 * system's page cache already holds the file.
 *
 * STATEMENT CACHE. Prepared statements are kept per connection in a hash
 * table keyed by SQL text (FNV-1a), with LRU eviction past `stmt_cache`
 * entries. A statement handed out is marked busy; a second request for the
 * same text while it is busy prepares another instance, chained to the same
 * entry, so nested queries (expanding relations while iterating rows) work.
 * Statements are prepared with SQLITE_PREPARE_PERSISTENT.
 *
 * QUERY BUDGET. A progress handler (every 4096 virtual-machine steps)
 * interrupts a statement once the budget set by hr_db_budget_start() has
 * elapsed, so a pathological filter cannot hold a worker; the statement
 * then fails with HR_DB_E_INTERRUPTED.
 *
 * ERRORS are mapped from extended result codes; for unique violations the
 * column list is taken from SQLite's message ("UNIQUE constraint failed:
 * t.a, t.b" -> "a,b") so the API can put validation_not_unique on the
 * right keys.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/list.h"
#include "db/db.h"

#define BUCKETS 512

typedef struct entry entry;

struct hr_db_stmt {
	sqlite3_stmt *s;
	hr_db *db;
	entry *e;
	hr_db_stmt *next; /* other instances of the same SQL */
	bool busy;
};

struct entry {
	entry *hnext;
	hr_list lru;
	uint32_t hash;
	char *sql;
	size_t len;
	hr_db_stmt *inst;
	unsigned busy; /* instances handed out */
	int sorts;     /* hr_db_sorts: -1 not yet known, else 0/1 */
};

struct hr_db {
	sqlite3 *h;
	void (*wal_fn)(void *ud, int pages);
	void *wal_ud;
	entry *buckets[BUCKETS];
	hr_list lru; /* least recently used first */
	size_t nentries, max_entries;
	unsigned budget_ms;
	uint64_t deadline_ns; /* 0 = no budget running */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int on_progress(void *ud)
{
	hr_db *db = ud;
	return db->deadline_ns && now_ns() > db->deadline_ns;
}

/* Fills err from the connection's last error; returns our code. */
static int map_error(hr_db *db, int rc, hr_db_error *err)
{
	int ext = db && db->h ? sqlite3_extended_errcode(db->h) : rc;
	int prim = rc & 0xff;
	int code;
	switch (prim) {
	case SQLITE_CONSTRAINT:
		code = (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			       ? HR_DB_E_UNIQUE
			       : HR_DB_E_CONSTRAINT;
		break;
	case SQLITE_INTERRUPT:
		code = HR_DB_E_INTERRUPTED;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = HR_DB_E_BUSY;
		break;
	case SQLITE_NOMEM:
		code = HR_ENOMEM;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CORRUPT:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		code = HR_DB_E_IO;
		break;
	default:
		code = HR_DB_E_SQL;
	}
	if (err) {
		err->code = code;
		const char *m = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
		snprintf(err->msg, sizeof err->msg, "%s", m ? m : "unknown error");
		err->columns[0] = '\0';
		if (code == HR_DB_E_UNIQUE) {
			/* "UNIQUE constraint failed: t.a, t.b" */
			const char *p = strstr(err->msg, "failed: ");
			size_t o = 0;
			if (p) {
				p += 8;
				while (*p && o + 1 < sizeof err->columns) {
					const char *dot = strchr(p, '.');
					const char *comma = strchr(p, ',');
					if (dot && (!comma || dot < comma))
						p = dot + 1;
					while (*p && *p != ',' && o + 1 < sizeof err->columns)
						err->columns[o++] = *p++;
					if (*p == ',') {
						err->columns[o++] = ',';
						p++;
						while (*p == ' ')
							p++;
					}
				}
			}
			err->columns[o] = '\0';
		}
	}
	return code;
}

/*
 * Process-wide SQLite settings, applied once before the first connection:
 * every connection here is used by one thread at a time, so the library's
 * own mutexes can go (multi-thread mode), and memory statistics, which
 * take a global mutex on every allocation, are off.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

int hr_db_open(const hr_db_config *cfg, hr_db **out, hr_db_error *err)
{
	pthread_once(&sqlite_once, sqlite_setup);
	if (cfg->kind != HR_DB_SQLITE || !cfg->path) {
		if (err) {
			err->code = HR_EINVAL;
			snprintf(err->msg, sizeof err->msg, "unsupported database configuration");
		}
		return HR_EINVAL;
	}
	hr_db *db = hr_xcalloc(1, sizeof *db);
	hr_list_init(&db->lru);
	db->max_entries = cfg->stmt_cache ? cfg->stmt_cache : 256;
	db->budget_ms = cfg->query_budget_ms;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_EXRESCODE;
	int rc = sqlite3_open_v2(cfg->path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		int code = map_error(db, rc, err);
		sqlite3_close(db->h);
		free(db);
		return code;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, (int)(cfg->busy_timeout_ms ? cfg->busy_timeout_ms : 5000));
	char pragmas[512];
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA journal_mode=WAL;"
		 "PRAGMA synchronous=NORMAL;"
		 "PRAGMA foreign_keys=ON;"
		 "PRAGMA temp_store=MEMORY;"
		 "PRAGMA cache_size=-8000;"
		 "PRAGMA journal_size_limit=67108864;"
		 "PRAGMA query_only=%d;",
		 cfg->query_only ? 1 : 0);
	rc = hr_db_exec(db, pragmas, err);
	if (rc != 0) {
		hr_db_close(db);
		return rc;
	}
	sqlite3_progress_handler(db->h, 4096, on_progress, db);
	*out = db;
	return 0;
}

static void entry_free(entry *e)
{
	hr_db_stmt *st = e->inst;
	while (st) {
		hr_db_stmt *n = st->next;
		sqlite3_finalize(st->s);
		free(st);
		st = n;
	}
	free(e->sql);
	free(e);
}

static void unlink_entry(hr_db *db, entry *e)
{
	entry **pp = &db->buckets[e->hash % BUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	hr_list_remove(&e->lru);
	db->nentries--;
}

void hr_db_flush_cache(hr_db *db)
{
	hr_list *n = db->lru.next;
	while (n != &db->lru) {
		hr_list *next = n->next;
		entry *e = HR_CONTAINER_OF(n, entry, lru);
		if (e->busy == 0) {
			unlink_entry(db, e);
			entry_free(e);
		}
		n = next;
	}
}

void hr_db_close(hr_db *db)
{
	if (!db)
		return;
	while (!hr_list_empty(&db->lru)) {
		entry *e = HR_CONTAINER_OF(db->lru.next, entry, lru);
		unlink_entry(db, e);
		entry_free(e);
	}
	sqlite3_close_v2(db->h);
	free(db);
}

int hr_db_kind(const hr_db *db)
{
	(void)db;
	return HR_DB_SQLITE;
}

static uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static void evict(hr_db *db)
{
	hr_list *n = db->lru.next;
	while (db->nentries > db->max_entries && n != &db->lru) {
		hr_list *next = n->next;
		entry *e = HR_CONTAINER_OF(n, entry, lru);
		if (e->busy == 0) {
			unlink_entry(db, e);
			entry_free(e);
		}
		n = next;
	}
}

int hr_db_prepare(hr_db *db, hr_str sql, hr_db_stmt **out, hr_db_error *err)
{
	uint32_t h = fnv(sql.ptr, sql.len);
	entry *e = db->buckets[h % BUCKETS];
	while (e && !(e->hash == h && e->len == sql.len && memcmp(e->sql, sql.ptr, sql.len) == 0))
		e = e->hnext;
	if (e) {
		hr_list_remove(&e->lru);
		hr_list_push_back(&db->lru, &e->lru);
		for (hr_db_stmt *st = e->inst; st; st = st->next)
			if (!st->busy) {
				st->busy = true;
				e->busy++;
				*out = st;
				return 0;
			}
	}
	sqlite3_stmt *s = NULL;
	if (sql.len > (size_t)INT32_MAX)
		return HR_E2BIG;
	int rc = sqlite3_prepare_v3(db->h, sql.ptr, (int)sql.len, SQLITE_PREPARE_PERSISTENT, &s,
				    NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return map_error(db, rc, err);
	}
	if (!e) {
		e = hr_xcalloc(1, sizeof *e);
		e->hash = h;
		e->sql = hr_xmalloc(sql.len + 1);
		memcpy(e->sql, sql.ptr, sql.len);
		e->sql[sql.len] = '\0';
		e->len = sql.len;
		e->sorts = -1;
		e->hnext = db->buckets[h % BUCKETS];
		db->buckets[h % BUCKETS] = e;
		hr_list_push_back(&db->lru, &e->lru);
		db->nentries++;
		evict(db);
	}
	hr_db_stmt *st = hr_xcalloc(1, sizeof *st);
	st->s = s;
	st->db = db;
	st->e = e;
	st->busy = true;
	st->next = e->inst;
	e->inst = st;
	e->busy++;
	*out = st;
	return 0;
}

/* Reads the plan: SQLite says "USE TEMP B-TREE FOR [RIGHT PART OF |
 * LAST TERM OF ]ORDER BY" when it sorts for the ORDER BY. */
static int plan_sorts(hr_db *db, const entry *e)
{
	static const char prefix[] = "EXPLAIN QUERY PLAN ";
	size_t n = sizeof prefix - 1 + e->len;
	char *q = hr_xmalloc(n + 1);
	memcpy(q, prefix, sizeof prefix - 1);
	memcpy(q + sizeof prefix - 1, e->sql, e->len + 1);
	sqlite3_stmt *s = NULL;
	int sorts = 1;
	if (sqlite3_prepare_v2(db->h, q, (int)n, &s, NULL) == SQLITE_OK) {
		sorts = 0;
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(s, 3);
			if (d && strstr(d, "TEMP B-TREE") && strstr(d, "ORDER BY"))
				sorts = 1;
		}
		if (rc != SQLITE_DONE)
			sorts = 1;
	}
	sqlite3_finalize(s);
	free(q);
	return sorts;
}

bool hr_db_sorts(hr_db_stmt *st)
{
	if (st->e->sorts < 0)
		st->e->sorts = plan_sorts(st->db, st->e);
	return st->e->sorts != 0;
}

void hr_db_release(hr_db_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
	if (st->busy) {
		st->busy = false;
		st->e->busy--;
	}
	if (st->db->nentries > st->db->max_entries)
		evict(st->db);
}

static int bind_rc(hr_db_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : map_error(st->db, rc, NULL);
}

int hr_db_bind_null(hr_db_stmt *st, int idx)
{
	return bind_rc(st, sqlite3_bind_null(st->s, idx));
}

int hr_db_bind_int64(hr_db_stmt *st, int idx, int64_t v)
{
	return bind_rc(st, sqlite3_bind_int64(st->s, idx, v));
}

int hr_db_bind_double(hr_db_stmt *st, int idx, double v)
{
	return bind_rc(st, sqlite3_bind_double(st->s, idx, v));
}

int hr_db_bind_text(hr_db_stmt *st, int idx, hr_str v)
{
	return bind_rc(st, sqlite3_bind_text64(st->s, idx, v.ptr ? v.ptr : "", v.len,
					       SQLITE_TRANSIENT, SQLITE_UTF8));
}

int hr_db_bind_blob(hr_db_stmt *st, int idx, const void *p, size_t n)
{
	return bind_rc(st, sqlite3_bind_blob64(st->s, idx, p ? p : "", n, SQLITE_TRANSIENT));
}

int hr_db_step(hr_db_stmt *st, hr_db_error *err)
{
	int rc = sqlite3_step(st->s);
	if (rc == SQLITE_ROW)
		return HR_DB_ROW;
	if (rc == SQLITE_DONE)
		return HR_DB_DONE;
	return map_error(st->db, rc, err);
}

int hr_db_column_count(hr_db_stmt *st)
{
	return sqlite3_column_count(st->s);
}

int hr_db_column_type(hr_db_stmt *st, int col)
{
	switch (sqlite3_column_type(st->s, col)) {
	case SQLITE_INTEGER:
		return HR_DB_INTEGER;
	case SQLITE_FLOAT:
		return HR_DB_FLOAT;
	case SQLITE_TEXT:
		return HR_DB_TEXT;
	case SQLITE_BLOB:
		return HR_DB_BLOB;
	default:
		return HR_DB_NULL;
	}
}

hr_str hr_db_column_name(hr_db_stmt *st, int col)
{
	const char *n = sqlite3_column_name(st->s, col);
	return n ? hr_str_make(n, strlen(n)) : HR_STR("");
}

hr_str hr_db_column_text(hr_db_stmt *st, int col)
{
	const unsigned char *p = sqlite3_column_text(st->s, col);
	int n = sqlite3_column_bytes(st->s, col);
	return p ? hr_str_make((const char *)p, (size_t)n) : HR_STR("");
}

bool hr_db_column_origin(hr_db_stmt *st, int col, hr_str *table, hr_str *column)
{
	const char *t = sqlite3_column_table_name(st->s, col);
	const char *c = sqlite3_column_origin_name(st->s, col);
	if (!t || !c)
		return false;
	*table = hr_str_make(t, strlen(t));
	*column = hr_str_make(c, strlen(c));
	return true;
}

int64_t hr_db_column_int64(hr_db_stmt *st, int col)
{
	return sqlite3_column_int64(st->s, col);
}

double hr_db_column_double(hr_db_stmt *st, int col)
{
	return sqlite3_column_double(st->s, col);
}

int hr_db_exec(hr_db *db, const char *sql, hr_db_error *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return map_error(db, rc, err);
	return 0;
}

int hr_db_exec_one(hr_db *db, hr_str sql, hr_db_error *err)
{
	sqlite3_stmt *s = NULL;
	const char *tail = NULL;
	if (sql.len > (size_t)INT32_MAX)
		return HR_E2BIG;
	int rc = sqlite3_prepare_v2(db->h, sql.ptr, (int)sql.len, &s, &tail);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return map_error(db, rc, err);
	}
	for (const char *p = tail; p && p < sql.ptr + sql.len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') {
			sqlite3_finalize(s);
			if (err) {
				err->code = HR_DB_E_SQL;
				snprintf(err->msg, sizeof err->msg, "only one statement is allowed");
				err->columns[0] = '\0';
			}
			return HR_DB_E_SQL;
		}
	if (!s)
		return 0; /* only whitespace or comments */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : map_error(db, rc, err);
}

/* Transaction control runs for every write: through the statement cache,
 * so it is parsed once per connection, not once per use. */
static int exec_cached(hr_db *db, const char *sql, hr_db_error *err)
{
	hr_db_stmt *st;
	int rc = hr_db_prepare(db, hr_str_make(sql, strlen(sql)), &st, err);
	if (rc != 0)
		return rc;
	rc = hr_db_step(st, err);
	hr_db_release(st);
	return rc == HR_DB_DONE || rc == HR_DB_ROW ? 0 : rc;
}

int hr_db_begin(hr_db *db, bool immediate, hr_db_error *err)
{
	return exec_cached(db, immediate ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

int hr_db_commit(hr_db *db, hr_db_error *err)
{
	return exec_cached(db, "COMMIT", err);
}

int hr_db_rollback(hr_db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return 0;
	return hr_db_exec(db, "ROLLBACK", NULL);
}

static bool valid_name(const char *n)
{
	if (!n || !*n)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

int hr_db_savepoint(hr_db *db, const char *name, hr_db_error *err)
{
	HR_ASSERT(valid_name(name));
	char sql[96];
	snprintf(sql, sizeof sql, "SAVEPOINT %s", name);
	return exec_cached(db, sql, err);
}

int hr_db_release_savepoint(hr_db *db, const char *name, hr_db_error *err)
{
	HR_ASSERT(valid_name(name));
	char sql[96];
	snprintf(sql, sizeof sql, "RELEASE %s", name);
	return exec_cached(db, sql, err);
}

int hr_db_rollback_to(hr_db *db, const char *name)
{
	HR_ASSERT(valid_name(name));
	char sql[128];
	snprintf(sql, sizeof sql, "ROLLBACK TO %s; RELEASE %s", name, name);
	return hr_db_exec(db, sql, NULL);
}

static int on_wal(void *ud, sqlite3 *h, const char *name, int pages)
{
	(void)h;
	(void)name;
	hr_db *db = ud;
	db->wal_fn(db->wal_ud, pages);
	return SQLITE_OK;
}

void hr_db_wal_hook(hr_db *db, void (*fn)(void *ud, int pages), void *ud)
{
	db->wal_fn = fn;
	db->wal_ud = ud;
	sqlite3_wal_hook(db->h, on_wal, db); /* replaces the auto-checkpoint hook */
}

int hr_db_checkpoint(hr_db *db)
{
	int log = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : map_error(db, rc, NULL);
}

int hr_db_snapshot_begin(hr_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		return 0;
	return exec_cached(db, "BEGIN", NULL);
}

void hr_db_snapshot_end(hr_db *db)
{
	/* An interrupted statement may already have ended the transaction. */
	if (!sqlite3_get_autocommit(db->h))
		exec_cached(db, "COMMIT", NULL);
}

int64_t hr_db_changes(hr_db *db)
{
	return sqlite3_changes64(db->h);
}

void hr_db_budget_start(hr_db *db)
{
	db->deadline_ns = db->budget_ms ? now_ns() + (uint64_t)db->budget_ms * 1000000u : 0;
}

void hr_db_budget_stop(hr_db *db)
{
	db->deadline_ns = 0;
}

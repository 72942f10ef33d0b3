/*
 * db/db.h - the storage interface: the only way to reach SQLite (and, in a
 * later issue, PostgreSQL).
 *
 * TWO LEVELS
 *
 * 1. A connection (hr_db): open, prepare (through a per-connection
 *    statement cache), bind, step, read columns, transactions and
 *    savepoints, errors mapped to our own codes. This level is synchronous
 *    and single-threaded: one thread owns a connection at a time. The
 *    records and schema code is written against it, so it does not care
 *    which back end runs underneath.
 *
 * 2. A store (hr_store): where operations run. Code above describes an
 *    operation as a job, a function that receives a connection, and asks
 *    the store to run it as a read or a write:
 *      - reads run at once on the calling worker's own connection (SQLite
 *        in WAL mode never makes a reader wait for a lock, and a query
 *        budget interrupts runaway statements);
 *      - writes go to the store's writer thread, which owns the one write
 *        connection, runs queued jobs back to back inside one transaction
 *        (each job in its own savepoint, so a failing job rolls back alone
 *        and the others still commit: group commit), commits, and only then
 *        hands each job's completion back to the worker that submitted it,
 *        through that worker's uv_async_t. A client is therefore answered
 *        2xx only after its write is committed to the WAL, which survives a
 *        kill -9 of the server (synchronous=NORMAL; an OS crash or power
 *        loss can lose the last commits, as with PocketBase's settings).
 *    Writers never contend for SQLite's lock, so no client ever sees
 *    SQLITE_BUSY, and no event loop ever sleeps in a busy handler.
 *
 * SQL TEXT is written with '?' placeholders and portable syntax where it
 * can be; the generator asks hr_db_kind() where the dialects differ.
 *
 * OWNERSHIP: a statement from hr_db_prepare() belongs to its connection's
 * cache; the caller must hr_db_release() it (which resets it) before the
 * connection is used by another job. Column text returned by
 * hr_db_column_text() is valid until the next step/release of that
 * statement.
 */
#ifndef HR_DB_DB_H
#define HR_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/str.h"

typedef struct hr_db hr_db;
typedef struct hr_db_stmt hr_db_stmt;
typedef struct hr_store hr_store;

enum hr_db_kind { HR_DB_SQLITE = 1, HR_DB_POSTGRES = 2 };

/* Step results (positive) and error codes (negative, besides HR_E*). */
#define HR_DB_ROW 1
#define HR_DB_DONE 0
#define HR_DB_E_CONSTRAINT (-4101)  /* generic constraint (NOT NULL, CHECK, FK) */
#define HR_DB_E_UNIQUE (-4102)	    /* unique or primary key violation */
#define HR_DB_E_SQL (-4103)	    /* SQL error (syntax, no such table/column...) */
#define HR_DB_E_INTERRUPTED (-4104) /* query budget exceeded */
#define HR_DB_E_IO (-4105)	    /* disk full, I/O error, corrupt file */
#define HR_DB_E_BUSY (-4106)	    /* only from misuse: a lock we should never wait on */

enum hr_db_type { HR_DB_NULL = 0, HR_DB_INTEGER, HR_DB_FLOAT, HR_DB_TEXT, HR_DB_BLOB };

typedef struct hr_db_error {
	int code;	  /* one of the HR_DB_E_* or HR_E* codes */
	char msg[512];	  /* the back end's message (for logs, never for clients) */
	char columns[256]; /* HR_DB_E_UNIQUE: "col1,col2" of the violated index, when known */
} hr_db_error;

typedef struct hr_db_config {
	int kind;		 /* enum hr_db_kind */
	const char *path;	 /* SQLite: database file */
	unsigned busy_timeout_ms; /* SQLite: safety net only (see above); default 5000 */
	unsigned query_budget_ms; /* reads: interrupt a statement running longer; 0 = none */
	size_t stmt_cache;	 /* prepared statements kept per connection (default 256) */
	bool query_only;	 /* refuse writes on this connection (worker readers) */
} hr_db_config;

/* ---- connections ------------------------------------------------------ */

/*
 * Opens a connection and applies the connection settings (WAL, foreign
 * keys, synchronous=NORMAL, busy timeout, cache size). Returns 0 and *out,
 * or a negative code with err filled (when err is non-NULL).
 */
int hr_db_open(const hr_db_config *cfg, hr_db **out, hr_db_error *err);
void hr_db_close(hr_db *db);
int hr_db_kind(const hr_db *db);

/*
 * Returns a ready (reset, unbound) statement for sql from the connection's
 * cache, preparing it on a miss. A statement already handed out and not
 * released is never handed out twice: nested use of the same SQL gets a
 * second instance. Returns 0, or HR_DB_E_SQL (err says why).
 */
int hr_db_prepare(hr_db *db, hr_str sql, hr_db_stmt **out, hr_db_error *err);

/* Binds by 1-based index. Text/blobs are copied (SQLITE_TRANSIENT). */
int hr_db_bind_null(hr_db_stmt *st, int idx);
int hr_db_bind_int64(hr_db_stmt *st, int idx, int64_t v);
int hr_db_bind_double(hr_db_stmt *st, int idx, double v);
int hr_db_bind_text(hr_db_stmt *st, int idx, hr_str v);
int hr_db_bind_blob(hr_db_stmt *st, int idx, const void *p, size_t n);

/* Returns HR_DB_ROW, HR_DB_DONE, or an error code (err filled if given). */
int hr_db_step(hr_db_stmt *st, hr_db_error *err);

int hr_db_column_count(hr_db_stmt *st);
int hr_db_column_type(hr_db_stmt *st, int col); /* enum hr_db_type; 0-based col */
hr_str hr_db_column_name(hr_db_stmt *st, int col);
hr_str hr_db_column_text(hr_db_stmt *st, int col); /* "" for NULL */
int64_t hr_db_column_int64(hr_db_stmt *st, int col);
double hr_db_column_double(hr_db_stmt *st, int col);

/* The table and column a result column comes from, when it is a plain
 * column reference (view field inference); false otherwise. */
bool hr_db_column_origin(hr_db_stmt *st, int col, hr_str *table, hr_str *column);

/* Resets the statement and returns it to the cache. NULL is ignored. */
void hr_db_release(hr_db_stmt *st);

/*
 * Whether the statement's plan sorts rows for its ORDER BY (rather than
 * reading them in the order of an index, which is deterministic even
 * among equal sort keys since every index ends with the row's key).
 * Lists add a tie-breaker only then: a tie-breaker an index cannot serve
 * turns an index walk that stops after LIMIT rows into a sort. Computed
 * once per cached statement; true when unknown.
 */
bool hr_db_sorts(hr_db_stmt *st);

/* Runs one or more statements without results (DDL, PRAGMA). Only for
 * SQL we wrote ourselves. */
int hr_db_exec(hr_db *db, const char *sql, hr_db_error *err);

/* Runs exactly one statement (results discarded); anything after it but
 * whitespace and ';' is refused with HR_DB_E_SQL. For SQL that contains
 * client text (view queries, index WHERE clauses). */
int hr_db_exec_one(hr_db *db, hr_str sql, hr_db_error *err);

/* Transactions. begin(immediate) takes the write lock at once. */
int hr_db_begin(hr_db *db, bool immediate, hr_db_error *err);
int hr_db_commit(hr_db *db, hr_db_error *err);
int hr_db_rollback(hr_db *db);
int hr_db_savepoint(hr_db *db, const char *name, hr_db_error *err);
int hr_db_release_savepoint(hr_db *db, const char *name, hr_db_error *err);
int hr_db_rollback_to(hr_db *db, const char *name);

/*
 * Read snapshots. Between hr_db_snapshot_begin and hr_db_snapshot_end the
 * connection's statements share one read transaction: SQLite then takes
 * and drops its file locks once instead of per statement (three system
 * calls each in WAL mode). Callers keep snapshots short - a worker holds
 * one for at most one loop iteration, and starts a new one as soon as a
 * write has been committed - so they never hold back checkpoints or hide
 * a client's own writes.
 */
int hr_db_snapshot_begin(hr_db *db);
void hr_db_snapshot_end(hr_db *db);

/*
 * Write-ahead-log maintenance (SQLite). hr_db_wal_hook calls fn(ud, pages)
 * after every commit on this connection with the log's size in pages, and
 * turns SQLite's automatic checkpoints off for it; hr_db_checkpoint copies
 * what it can of the log back into the database without waiting for (or
 * blocking) readers and writers. The store runs checkpoints on a thread of
 * their own, so a commit never pays for one.
 */
void hr_db_wal_hook(hr_db *db, void (*fn)(void *ud, int pages), void *ud);
int hr_db_checkpoint(hr_db *db);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t hr_db_changes(hr_db *db);

/* Drops every cached statement (after a schema change on this connection). */
void hr_db_flush_cache(hr_db *db);

/* Starts / stops the query budget for the statements that follow (reads). */
void hr_db_budget_start(hr_db *db);
void hr_db_budget_stop(hr_db *db);

/* ---- the store -------------------------------------------------------- */

typedef struct hr_db_job hr_db_job;

/*
 * A unit of work. run() executes on the thread that owns `db` (the worker
 * for reads, the writer thread for writes), inside a savepoint for writes;
 * its return value is the job's result: 0 commits the job's changes, a
 * negative value rolls them back. done() then runs on the submitting
 * worker's loop with that result (rc) - after the commit, for writes.
 * If the group's commit itself fails, every job of the group gets done()
 * with that error and none of their changes persist.
 */
struct hr_db_job {
	int (*run)(hr_db *db, hr_db_job *job);
	void (*done)(hr_db_job *job, int rc);
	void *ud;
	int rc;
	/* private */
	hr_db_job *next_;
	void *worker_;
};

typedef struct hr_store_config {
	hr_db_config db;	/* kind and path; budget etc. apply to readers */
	unsigned workers;	/* number of worker loops that will attach */
	unsigned max_group;	/* jobs per group commit (default 256) */
} hr_store_config;

/* Opens the store: creates the database if needed, starts the writer
 * thread. Returns 0 or a negative code (err filled). Main thread. */
int hr_store_open(const hr_store_config *cfg, hr_store **out, hr_db_error *err);

/* Stops the writer after draining queued jobs, closes connections. */
void hr_store_close(hr_store *s);

/*
 * Attaches worker `idx` (0-based) running `loop`: opens its read connection
 * and the async handle through which write completions come back. Call on
 * the worker's thread before serving; hr_store_detach closes them (the
 * async handle via uv_close, so run the loop afterwards).
 */
int hr_store_attach(hr_store *s, unsigned idx, uv_loop_t *loop, hr_db_error *err);
void hr_store_detach(hr_store *s, unsigned idx);

/* The worker's read connection (worker thread only). */
hr_db *hr_store_reader(hr_store *s, unsigned idx);

/*
 * Runs job on the writer thread; job->done later runs on worker idx's
 * loop. Returns 0, or HR_ESTATE after hr_store_close began (no callback).
 */
int hr_store_write(hr_store *s, unsigned idx, hr_db_job *job);

/*
 * Runs fn synchronously on the writer's connection from the calling
 * thread while no writer job runs (start-up and the command line only:
 * migrations, superuser upsert). Returns fn's result.
 */
int hr_store_write_sync(hr_store *s, int (*fn)(hr_db *db, void *ud), void *ud);

/* The store's kind (enum hr_db_kind). */
int hr_store_kind(const hr_store *s);

/*
 * A counter bumped by every committed schema change (collections, settings),
 * so each thread can tell with one atomic load whether its cached copy of
 * the schema is stale. Any thread.
 */
uint64_t hr_store_generation(const hr_store *s);
void hr_store_bump_generation(hr_store *s);

/*
 * A counter bumped after every committed write group, for caches of query
 * results (list totals) that must be dropped whenever data may have
 * changed. Any thread.
 */
uint64_t hr_store_data_generation(const hr_store *s);

#endif

/*
 * bench/te.c - TechEmpower's database tests on hearth's storage interface
 * (src/db/db.h), for bench/run.sh's te_db, te_queries and te_updates.
 *
 *   GET /db                 one random row of world as {"id":N,"randomNumber":N}
 *   GET /queries?queries=N  N random rows, each read by its own query, as an array
 *   GET /updates?queries=N  N random rows read one by one, each given a new
 *                           randomNumber by its own UPDATE, all in one
 *                           BEGIN IMMEDIATE transaction; the updated rows
 *
 * N follows the TechEmpower rules: missing or not a number -> 1, below 1
 * -> 1, above 500 -> 500. Row ids and new numbers are uniform in 1..10000.
 * bench/peers/node_records.js serves the same three routes the same way
 * (same statements, same transaction), so the two are compared like for
 * like.
 *
 * Design.
 * - One connection per worker, opened on that worker's first request and
 *   used only by its thread: the public API has no per-worker start hook,
 *   and hearth_req_worker() gives the index into a table sized at start.
 *   Nothing is shared between threads, so nothing is locked.
 * - Statements come from the connection's statement cache (hr_db_prepare)
 *   and go back with hr_db_release(), as the records code does.
 * - The queries run synchronously on the event loop. Reads of a file that
 *   is in the page cache take microseconds, and with one worker (as
 *   run.sh runs it) no writer ever waits for another; with several
 *   workers, /updates would wait for SQLite's lock inside the busy
 *   timeout, on the loop. This is a benchmark of the storage layer's
 *   cost, not a model of how hearth schedules writes (src/db/store.c
 *   does that with a writer thread).
 * - Each worker has its own xorshift64* generator: TechEmpower asks for
 *   random ids, not for cryptographic ones.
 *
 * Deliberately not here: the fortunes test (HTML templates are another
 * issue) and cached queries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/common.h"
#include "db/db.h"

#define WORLD_ROWS 10000
#define MAX_QUERIES 500
#define ROW_JSON_MAX 48 /* {"id":10000,"randomNumber":10000} is 34 bytes */

struct te_worker {
	hr_db *db;	/* NULL until the worker's first request */
	uint64_t rng;	/* xorshift64* state, never 0 */
	bool failed;	/* opening failed once: answer 500 without retrying */
};

struct te_state {
	char *path;		/* the world file */
	unsigned nworkers;
	struct te_worker *w;	/* nworkers entries, entry i owned by worker i */
};

static const char sql_select[] = "SELECT id, randomNumber FROM world WHERE id = ?";
static const char sql_update[] = "UPDATE world SET randomNumber = ? WHERE id = ?";

static unsigned next_rand(struct te_worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (unsigned)((x * 0x2545F4914F6CDD1DULL) >> 33) % WORLD_ROWS + 1;
}

/* The worker's connection, opened on first use; NULL after a failure. */
static hr_db *worker_db(te_state *t, hearth_req *req, struct te_worker **out)
{
	unsigned i = hearth_req_worker(req);
	struct te_worker *w;
	hr_db_config cfg = { .kind = HR_DB_SQLITE, .path = t->path };
	hr_db_error err;

	if (i >= t->nworkers)
		return NULL;
	w = &t->w[i];
	*out = w;
	if (w->db == NULL && !w->failed) {
		if (hr_db_open(&cfg, &w->db, &err) != 0) {
			fprintf(stderr, "hearth-bench: worker %u: %s: %s\n", i, t->path, err.msg);
			w->failed = true;
			w->db = NULL;
		}
	}
	return w->db;
}

/* TechEmpower's rule for the queries parameter. */
static unsigned query_count(hearth_req *req)
{
	hearth_str v = hearth_req_query_param(req, "queries");
	unsigned n = 0;

	if (v.ptr == NULL || v.len == 0 || v.len > 6)
		return 1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return 1;
		n = n * 10 + (unsigned)(v.ptr[i] - '0');
	}
	if (n < 1)
		return 1;
	return n > MAX_QUERIES ? MAX_QUERIES : n;
}

/* Reads row `id`; returns 0 and *rn, or a negative code. */
static int read_row(hr_db *db, unsigned id, int64_t *rn)
{
	hr_db_stmt *st;
	int rc = hr_db_prepare(db, HR_STR(sql_select), &st, NULL);

	if (rc != 0)
		return rc;
	rc = hr_db_bind_int64(st, 1, id);
	if (rc == 0)
		rc = hr_db_step(st, NULL);
	if (rc == HR_DB_ROW) {
		*rn = hr_db_column_int64(st, 1);
		rc = 0;
	} else if (rc == HR_DB_DONE) {
		rc = HR_ENOENT;
	}
	hr_db_release(st);
	return rc;
}

static int write_row(hr_db *db, unsigned id, int64_t rn)
{
	hr_db_stmt *st;
	int rc = hr_db_prepare(db, HR_STR(sql_update), &st, NULL);

	if (rc != 0)
		return rc;
	rc = hr_db_bind_int64(st, 1, rn);
	if (rc == 0)
		rc = hr_db_bind_int64(st, 2, id);
	if (rc == 0)
		rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc == HR_DB_DONE ? 0 : rc < 0 ? rc : HR_EINVAL;
}

static size_t row_json(char *p, unsigned id, int64_t rn)
{
	return (size_t)snprintf(p, ROW_JSON_MAX, "{\"id\":%u,\"randomNumber\":%lld}", id,
				(long long)rn);
}

static void send_json(hearth_req *req, const char *body, size_t len)
{
	if (hearth_resp_send(req, 200, "application/json", body, len) != 0)
		(void)hearth_resp_error(req, 500, NULL);
}

static void db_handler(hearth_req *req, void *ud)
{
	struct te_worker *w = NULL;
	hr_db *db = worker_db(ud, req, &w);
	char body[ROW_JSON_MAX];
	unsigned id;
	int64_t rn;

	if (db == NULL) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	id = next_rand(w);
	if (read_row(db, id, &rn) != 0) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	send_json(req, body, row_json(body, id, rn));
}

/* /queries and /updates: n rows, each read by its own query. */
static void rows_handler(hearth_req *req, te_state *t, bool update)
{
	struct te_worker *w = NULL;
	hr_db *db = worker_db(t, req, &w);
	unsigned n = query_count(req);
	char *body = hearth_req_alloc(req, (size_t)n * (ROW_JSON_MAX + 1) + 2);
	size_t len = 0;
	int rc = 0;

	if (db == NULL || body == NULL) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	if (update && (rc = hr_db_begin(db, true, NULL)) != 0) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	body[len++] = '[';
	for (unsigned i = 0; i < n && rc == 0; i++) {
		unsigned id = next_rand(w);
		int64_t rn;

		rc = read_row(db, id, &rn);
		if (rc == 0 && update) {
			rn = next_rand(w);
			rc = write_row(db, id, rn);
		}
		if (rc == 0) {
			if (i > 0)
				body[len++] = ',';
			len += row_json(body + len, id, rn);
		}
	}
	body[len++] = ']';
	if (update) {
		if (rc == 0)
			rc = hr_db_commit(db, NULL);
		if (rc != 0)
			(void)hr_db_rollback(db);
	}
	if (rc != 0) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	send_json(req, body, len);
}

static void queries_handler(hearth_req *req, void *ud)
{
	rows_handler(req, ud, false);
}

static void updates_handler(hearth_req *req, void *ud)
{
	rows_handler(req, ud, true);
}

/* Opens the file once on the main thread to fail early on a bad path. */
static int check_world(const char *path, const char **why)
{
	hr_db_config cfg = { .kind = HR_DB_SQLITE, .path = path };
	hr_db_error err;
	hr_db *db;
	int64_t rn;
	int rc;

	if ((rc = hr_db_open(&cfg, &db, &err)) != 0) {
		*why = "cannot open the world file";
		return rc;
	}
	rc = read_row(db, 1, &rn);
	hr_db_close(db);
	if (rc != 0)
		*why = "the world file has no row 1 in table world";
	return rc;
}

int te_register(hearth_server *s, const char *path, unsigned workers, te_state **out,
		const char **why)
{
	te_state *t;
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u;
	int rc;

	if (workers == 0 || workers > 1024) {
		*why = "bad worker count";
		return HR_EINVAL;
	}
	if ((rc = check_world(path, why)) != 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->path = strdup(path)) == NULL ||
	    (t->w = calloc(workers, sizeof(*t->w))) == NULL) {
		te_free(t);
		*why = "out of memory";
		return HR_ENOMEM;
	}
	t->nworkers = workers;
	for (unsigned i = 0; i < workers; i++)
		t->w[i].rng = (seed ^ (0x9E3779B97F4A7C15ULL * (i + 1))) | 1;
	if ((rc = hearth_route(s, "GET", "/db", db_handler, t)) != 0 ||
	    (rc = hearth_route(s, "GET", "/queries", queries_handler, t)) != 0 ||
	    (rc = hearth_route(s, "GET", "/updates", updates_handler, t)) != 0) {
		te_free(t);
		*why = "route";
		return rc;
	}
	*out = t;
	return 0;
}

void te_free(te_state *t)
{
	if (t == NULL)
		return;
	if (t->w != NULL)
		for (unsigned i = 0; i < t->nworkers; i++)
			hr_db_close(t->w[i].db);
	free(t->w);
	free(t->path);
	free(t);
}

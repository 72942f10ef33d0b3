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
 * Design: the program uses the storage layer the way the records API does.
 * - The file is opened as an hr_store (src/db/store.c): one read
 *   connection per worker, attached by the worker_start hook on the
 *   worker's own thread, and one writer thread that runs writes in group
 *   commits. Nothing is locked on the read path.
 * - Reads run on the event loop inside a read snapshot that the first read
 *   of a loop iteration opens and the worker_idle hook closes, so the
 *   transaction set-up SQLite does per statement in autocommit mode (WAL
 *   read marks, file checks) is paid once per iteration, not per query.
 * - /updates reads its rows on the loop, then hands the (id, number) pairs
 *   to the writer as one job; concurrent requests' jobs share a
 *   transaction (a savepoint each), and the answer goes out after the
 *   commit. node_records.js does the reads and writes of one request in
 *   one synchronous BEGIN IMMEDIATE transaction instead: the same rows
 *   change, durably, before each answer.
 * - Statements come from each connection's statement cache (hr_db_prepare)
 *   and go back with hr_db_release().
 * - Each worker has its own xorshift64* generator: TechEmpower asks for
 *   random ids, not for cryptographic ones.
 *
 * Deliberately not here: the fortunes test (HTML templates are another
 * issue) and cached queries.
 */
#include <errno.h>
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
	hr_db *db;	/* the worker's reader; NULL until worker_start */
	bool snap;	/* a read snapshot is open for this iteration */
	uint64_t rng;	/* xorshift64* state, never 0 */
};

struct te_state {
	hr_store *store;
	unsigned nworkers;
	struct te_worker *w;	/* nworkers entries, entry i owned by worker i */
};

/* One /updates request on its way through the writer. */
struct te_update {
	hr_db_job job;
	hearth_req *req;
	unsigned n;
	unsigned *ids;
	int64_t *nums;
	char *body;
	size_t len;
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

/* ---- worker hooks ------------------------------------------------------- */

static int te_worker_start(unsigned i, void *loop, void *ud)
{
	te_state *t = ud;
	hr_db_error err;

	if (i >= t->nworkers)
		return HR_EINVAL;
	if (hr_store_attach(t->store, i, loop, &err) != 0) {
		fprintf(stderr, "hearth-bench: worker %u: %s\n", i, err.msg);
		return -EIO;
	}
	t->w[i].db = hr_store_reader(t->store, i);
	return 0;
}

static void te_worker_idle(unsigned i, void *ud)
{
	te_state *t = ud;
	struct te_worker *w = &t->w[i];

	if (w->snap) {
		hr_db_snapshot_end(w->db);
		w->snap = false;
	}
}

static void te_worker_stop(unsigned i, void *ud)
{
	te_state *t = ud;

	te_worker_idle(i, ud);
	t->w[i].db = NULL;
	hr_store_detach(t->store, i);
}

/* The worker's reader inside this iteration's snapshot; NULL on failure. */
static hr_db *worker_db(te_state *t, hearth_req *req, struct te_worker **out)
{
	unsigned i = hearth_req_worker(req);
	struct te_worker *w;

	if (i >= t->nworkers)
		return NULL;
	w = &t->w[i];
	*out = w;
	if (w->db == NULL)
		return NULL;
	if (!w->snap) {
		if (hr_db_snapshot_begin(w->db) != 0)
			return NULL;
		w->snap = true;
	}
	return w->db;
}

/* ---- queries ------------------------------------------------------------ */

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

static int update_run(hr_db *db, hr_db_job *job)
{
	struct te_update *u = HR_CONTAINER_OF(job, struct te_update, job);
	int rc = 0;

	for (unsigned i = 0; i < u->n && rc == 0; i++)
		rc = write_row(db, u->ids[i], u->nums[i]);
	return rc;
}

static void update_done(hr_db_job *job, int rc)
{
	struct te_update *u = HR_CONTAINER_OF(job, struct te_update, job);

	if (rc != 0)
		(void)hearth_resp_error(u->req, 500, NULL);
	else
		send_json(u->req, u->body, u->len);
}

/* /queries and /updates: n rows, each read by its own query. */
static void rows_handler(hearth_req *req, te_state *t, bool update)
{
	struct te_worker *w = NULL;
	hr_db *db = worker_db(t, req, &w);
	unsigned n = query_count(req);
	char *body = hearth_req_alloc(req, (size_t)n * (ROW_JSON_MAX + 1) + 2);
	struct te_update *u = NULL;
	size_t len = 0;
	int rc = 0;

	if (update) {
		u = hearth_req_alloc(req, sizeof(*u));
		if (u != NULL) {
			u->ids = hearth_req_alloc(req, n * sizeof(*u->ids));
			u->nums = hearth_req_alloc(req, n * sizeof(*u->nums));
		}
		if (u == NULL || u->ids == NULL || u->nums == NULL)
			body = NULL;
	}
	if (db == NULL || body == NULL) {
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
			u->ids[i] = id;
			u->nums[i] = rn;
		}
		if (rc == 0) {
			if (i > 0)
				body[len++] = ',';
			len += row_json(body + len, id, rn);
		}
	}
	body[len++] = ']';
	if (rc != 0) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	if (!update) {
		send_json(req, body, len);
		return;
	}
	memset(&u->job, 0, sizeof(u->job));
	u->job.run = update_run;
	u->job.done = update_done;
	u->req = req;
	u->n = n;
	u->body = body;
	u->len = len;
	if (hr_store_write(t->store, hearth_req_worker(req), &u->job) != 0)
		(void)hearth_resp_error(req, 503, NULL);
}

static void queries_handler(hearth_req *req, void *ud)
{
	rows_handler(req, ud, false);
}

static void updates_handler(hearth_req *req, void *ud)
{
	rows_handler(req, ud, true);
}

/* ---- set-up ------------------------------------------------------------- */

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

int te_open(const char *path, unsigned workers, hearth_config *cfg, te_state **out,
	    const char **why)
{
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u;
	hr_store_config sc = { 0 };
	hr_db_error err;
	te_state *t;
	int rc;

	if (workers == 0 || workers > 1024) {
		*why = "bad worker count";
		return HR_EINVAL;
	}
	if ((rc = check_world(path, why)) != 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->w = calloc(workers, sizeof(*t->w))) == NULL) {
		free(t);
		*why = "out of memory";
		return HR_ENOMEM;
	}
	sc.db.kind = HR_DB_SQLITE;
	sc.db.path = path;
	sc.workers = workers;
	if ((rc = hr_store_open(&sc, &t->store, &err)) != 0) {
		free(t->w);
		free(t);
		*why = "cannot open the store";
		return rc;
	}
	t->nworkers = workers;
	for (unsigned i = 0; i < workers; i++)
		t->w[i].rng = (seed ^ (0x9E3779B97F4A7C15ULL * (i + 1))) | 1;
	cfg->worker_start = te_worker_start;
	cfg->worker_idle = te_worker_idle;
	cfg->worker_stop = te_worker_stop;
	cfg->worker_ud = t;
	*out = t;
	return 0;
}

int te_register(hearth_server *s, te_state *t)
{
	int rc;

	if ((rc = hearth_route(s, "GET", "/db", db_handler, t)) != 0 ||
	    (rc = hearth_route(s, "GET", "/queries", queries_handler, t)) != 0 ||
	    (rc = hearth_route(s, "GET", "/updates", updates_handler, t)) != 0)
		return rc;
	return 0;
}

void te_free(te_state *t)
{
	if (t == NULL)
		return;
	hr_store_close(t->store);
	free(t->w);
	free(t);
}

/*
 * db/store.c - the store level of db.h: worker read connections and the
 * single writer thread with group commit.
 *
 * DESIGN
 * Submitting a write appends the job to one queue under a mutex and signals
 * the writer's condition variable; that is the only lock, it is held for a
 * pointer swap, and only on the write path. The writer takes up to
 * max_group queued jobs, runs them inside one BEGIN IMMEDIATE ... COMMIT,
 * each in its own savepoint, then moves every job to its worker's
 * completion list and wakes the worker with uv_async_send. The worker's
 * async callback runs job->done on the worker's own loop. Group commit
 * turns N concurrent writes into one commit, and with one writer there is
 * never lock contention inside SQLite.
 *
 * A job that returns an error has its savepoint rolled back and released:
 * its changes vanish, the group's others stand. A failed COMMIT rolls the
 * whole group back and reports the commit's error to every job of it.
 *
 * CHECKPOINTS. The writer's connection does not checkpoint by itself: a
 * checkpoint copies log pages into the database and syncs it, which would
 * stall every queued write. Instead the commit hook reports the log's size,
 * and past CHECKPOINT_PAGES the checkpointer thread, with a connection of
 * its own, runs a passive checkpoint that waits for no reader or writer.
 *
 * Caveats: a slow job delays the jobs queued behind it (there is one
 * writer); jobs must therefore not wait on anything but the database.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "db/db.h"

typedef struct store_worker {
	uv_loop_t *loop;
	uv_async_t async;
	hr_db *reader;
	uv_mutex_t mu;
	hr_db_job *done_head, *done_tail;
	bool attached;
} store_worker;

struct hr_store {
	hr_store_config cfg;
	char *path;
	hr_db *wdb;
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	hr_db_job *q_head, *q_tail;
	bool stopping;
	bool running;
	/* write_sync: the writer is parked while the caller uses wdb */
	bool sync_request, sync_parked;
	uv_cond_t sync_cv;
	store_worker *w;
	/* checkpointer */
	hr_db *cdb;
	uv_thread_t cthread;
	uv_mutex_t cmu;
	uv_cond_t ccv;
	bool cwant, cstop, crunning;
	atomic_uint_fast64_t generation;
	atomic_uint_fast64_t data_generation;
};

#define CHECKPOINT_PAGES 1000 /* about 4 MiB of log */

/*
 * Writer thread, after each commit: wake the checkpointer when the log grew.
 * Under a steady stream of writes the checkpointer's copy never quite
 * catches up with the end of the log, and SQLite restarts the log only
 * when a write begins with every page copied; so when the log keeps
 * growing, the writer finishes the (by then short) copy itself, which lets
 * its next transaction start the log over.
 */
static void on_wal_size(void *ud, int pages)
{
	hr_store *s = ud;
	if (pages < CHECKPOINT_PAGES || !s->crunning)
		return;
	if (pages >= 4 * CHECKPOINT_PAGES) {
		hr_db_checkpoint(s->wdb);
		return;
	}
	uv_mutex_lock(&s->cmu);
	if (!s->cwant) {
		s->cwant = true;
		uv_cond_signal(&s->ccv);
	}
	uv_mutex_unlock(&s->cmu);
}

static void checkpointer_main(void *arg)
{
	hr_store *s = arg;
	hr_thread_name("hearth-ckpt");
	uv_mutex_lock(&s->cmu);
	for (;;) {
		while (!s->cwant && !s->cstop)
			uv_cond_wait(&s->ccv, &s->cmu);
		if (s->cstop)
			break;
		s->cwant = false;
		uv_mutex_unlock(&s->cmu);
		hr_db_checkpoint(s->cdb);
		uv_mutex_lock(&s->cmu);
	}
	uv_mutex_unlock(&s->cmu);
	hr_db_checkpoint(s->cdb); /* leave the log short on a clean stop */
}

static void on_done_async(uv_async_t *a)
{
	store_worker *sw = a->data;
	uv_mutex_lock(&sw->mu);
	hr_db_job *j = sw->done_head;
	sw->done_head = sw->done_tail = NULL;
	uv_mutex_unlock(&sw->mu);
	while (j) {
		hr_db_job *next = j->next_;
		j->next_ = NULL;
		j->done(j, j->rc);
		j = next;
	}
}

static void deliver(hr_store *s, hr_db_job *j)
{
	store_worker *sw = j->worker_;
	(void)s;
	j->next_ = NULL;
	uv_mutex_lock(&sw->mu);
	if (sw->done_tail)
		sw->done_tail->next_ = j;
	else
		sw->done_head = j;
	sw->done_tail = j;
	uv_mutex_unlock(&sw->mu);
	uv_async_send(&sw->async);
}

static void run_group(hr_store *s, hr_db_job *jobs)
{
	hr_db_error err;
	int rc = hr_db_begin(s->wdb, true, &err);
	if (rc != 0) {
		for (hr_db_job *j = jobs; j; j = j->next_)
			j->rc = rc;
	} else {
		for (hr_db_job *j = jobs; j; j = j->next_) {
			if (hr_db_savepoint(s->wdb, "job", &err) != 0) {
				j->rc = err.code;
				continue;
			}
			j->rc = j->run(s->wdb, j);
			if (j->rc < 0)
				hr_db_rollback_to(s->wdb, "job");
			else
				hr_db_release_savepoint(s->wdb, "job", NULL);
		}
		rc = hr_db_commit(s->wdb, &err);
		if (rc != 0) {
			hr_db_rollback(s->wdb);
			for (hr_db_job *j = jobs; j; j = j->next_)
				if (j->rc >= 0)
					j->rc = rc;
		}
		/* before any job is answered, so a client that saw its write
		 * acknowledged can never read a total cached from before it */
		atomic_fetch_add_explicit(&s->data_generation, 1, memory_order_release);
	}
	while (jobs) {
		hr_db_job *next = jobs->next_;
		deliver(s, jobs);
		jobs = next;
	}
}

static void writer_main(void *arg)
{
	hr_store *s = arg;
	hr_thread_name("hearth-writer");
	uv_mutex_lock(&s->mu);
	for (;;) {
		while (!s->q_head && !s->stopping && !s->sync_request)
			uv_cond_wait(&s->cv, &s->mu);
		if (s->sync_request) {
			s->sync_parked = true;
			uv_cond_broadcast(&s->sync_cv);
			while (s->sync_request)
				uv_cond_wait(&s->cv, &s->mu);
			s->sync_parked = false;
			continue;
		}
		if (!s->q_head && s->stopping)
			break;
		hr_db_job *group = s->q_head, *last = group;
		unsigned n = 1;
		while (last->next_ && n < s->cfg.max_group) {
			last = last->next_;
			n++;
		}
		s->q_head = last->next_;
		if (!s->q_head)
			s->q_tail = NULL;
		last->next_ = NULL;
		uv_mutex_unlock(&s->mu);
		run_group(s, group);
		uv_mutex_lock(&s->mu);
	}
	uv_mutex_unlock(&s->mu);
}

int hr_store_open(const hr_store_config *cfg, hr_store **out, hr_db_error *err)
{
	hr_store *s = hr_xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	if (!s->cfg.max_group)
		s->cfg.max_group = 256;
	if (!s->cfg.workers)
		s->cfg.workers = 1;
	s->path = hr_xstrdup(cfg->db.path);
	s->cfg.db.path = s->path;
	hr_db_config wc = s->cfg.db;
	wc.query_only = false;
	wc.query_budget_ms = 0;
	int rc = hr_db_open(&wc, &s->wdb, err);
	if (rc != 0) {
		free(s->path);
		free(s);
		return rc;
	}
	s->w = hr_xcalloc(s->cfg.workers, sizeof *s->w);
	uv_mutex_init(&s->mu);
	uv_cond_init(&s->cv);
	uv_cond_init(&s->sync_cv);
	atomic_init(&s->generation, 1);
	atomic_init(&s->data_generation, 1);
	uv_mutex_init(&s->cmu);
	uv_cond_init(&s->ccv);
	hr_db_config cc = s->cfg.db;
	cc.query_only = false;
	cc.query_budget_ms = 0;
	if (hr_db_open(&cc, &s->cdb, NULL) == 0 &&
	    uv_thread_create(&s->cthread, checkpointer_main, s) == 0) {
		s->crunning = true;
		hr_db_wal_hook(s->wdb, on_wal_size, s);
	} else if (s->cdb) {
		hr_db_close(s->cdb); /* keep SQLite's own checkpoints */
		s->cdb = NULL;
	}
	rc = uv_thread_create(&s->thread, writer_main, s);
	if (rc != 0) {
		if (s->crunning) {
			uv_mutex_lock(&s->cmu);
			s->cstop = true;
			uv_cond_signal(&s->ccv);
			uv_mutex_unlock(&s->cmu);
			uv_thread_join(&s->cthread);
		}
		hr_db_close(s->cdb);
		hr_db_close(s->wdb);
		free(s->w);
		free(s->path);
		free(s);
		return rc;
	}
	s->running = true;
	*out = s;
	return 0;
}

void hr_store_close(hr_store *s)
{
	if (!s)
		return;
	if (s->running) {
		uv_mutex_lock(&s->mu);
		s->stopping = true;
		uv_cond_signal(&s->cv);
		uv_mutex_unlock(&s->mu);
		uv_thread_join(&s->thread);
	}
	if (s->crunning) {
		uv_mutex_lock(&s->cmu);
		s->cstop = true;
		uv_cond_signal(&s->ccv);
		uv_mutex_unlock(&s->cmu);
		uv_thread_join(&s->cthread);
	}
	hr_db_close(s->cdb);
	uv_cond_destroy(&s->ccv);
	uv_mutex_destroy(&s->cmu);
	for (unsigned i = 0; i < s->cfg.workers; i++) {
		if (s->w[i].reader)
			hr_db_close(s->w[i].reader);
		if (s->w[i].attached)
			uv_mutex_destroy(&s->w[i].mu);
	}
	hr_db_close(s->wdb);
	uv_cond_destroy(&s->sync_cv);
	uv_cond_destroy(&s->cv);
	uv_mutex_destroy(&s->mu);
	free(s->w);
	free(s->path);
	free(s);
}

int hr_store_attach(hr_store *s, unsigned idx, uv_loop_t *loop, hr_db_error *err)
{
	HR_ASSERT(idx < s->cfg.workers);
	store_worker *sw = &s->w[idx];
	hr_db_config rc_cfg = s->cfg.db;
	rc_cfg.query_only = true;
	int rc = hr_db_open(&rc_cfg, &sw->reader, err);
	if (rc != 0)
		return rc;
	uv_mutex_init(&sw->mu);
	sw->loop = loop;
	rc = uv_async_init(loop, &sw->async, on_done_async);
	if (rc != 0) {
		hr_db_close(sw->reader);
		sw->reader = NULL;
		uv_mutex_destroy(&sw->mu);
		return rc;
	}
	sw->async.data = sw;
	sw->attached = true;
	return 0;
}

void hr_store_detach(hr_store *s, unsigned idx)
{
	store_worker *sw = &s->w[idx];
	if (!sw->attached)
		return;
	uv_close((uv_handle_t *)&sw->async, NULL);
}

hr_db *hr_store_reader(hr_store *s, unsigned idx)
{
	return s->w[idx].reader;
}

int hr_store_write(hr_store *s, unsigned idx, hr_db_job *job)
{
	HR_ASSERT(idx < s->cfg.workers && s->w[idx].attached);
	job->worker_ = &s->w[idx];
	job->next_ = NULL;
	uv_mutex_lock(&s->mu);
	if (s->stopping) {
		uv_mutex_unlock(&s->mu);
		return HR_ESTATE;
	}
	if (s->q_tail)
		s->q_tail->next_ = job;
	else
		s->q_head = job;
	s->q_tail = job;
	uv_cond_signal(&s->cv);
	uv_mutex_unlock(&s->mu);
	return 0;
}

int hr_store_write_sync(hr_store *s, int (*fn)(hr_db *db, void *ud), void *ud)
{
	uv_mutex_lock(&s->mu);
	s->sync_request = true;
	uv_cond_signal(&s->cv);
	while (!s->sync_parked && !s->stopping)
		uv_cond_wait(&s->sync_cv, &s->mu);
	uv_mutex_unlock(&s->mu);
	int rc = fn(s->wdb, ud);
	atomic_fetch_add_explicit(&s->data_generation, 1, memory_order_release);
	uv_mutex_lock(&s->mu);
	s->sync_request = false;
	uv_cond_broadcast(&s->cv);
	uv_mutex_unlock(&s->mu);
	return rc;
}

int hr_store_kind(const hr_store *s)
{
	return s->cfg.db.kind;
}

uint64_t hr_store_generation(const hr_store *s)
{
	return atomic_load_explicit(&s->generation, memory_order_acquire);
}

uint64_t hr_store_data_generation(const hr_store *s)
{
	return atomic_load_explicit(&s->data_generation, memory_order_acquire);
}

void hr_store_bump_generation(hr_store *s)
{
	atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
}

/*
 * records/records.h - record operations shared by the HTTP API and (later)
 * Lua hooks: list, view, create, update, delete, with access rules,
 * validation, relations, expand and serialisation in the dialect's shape
 * (DIALECT.md §5, §7, §8, §9.1).
 *
 * Every operation is synchronous over one database connection (db.h): reads
 * run on a worker's reader, writes inside a writer job (so they are already
 * in a transaction and savepoint). Results are written as JSON into the
 * caller's buffer; failures fill an hr_rerr that the API turns into the
 * dialect's error body.
 *
 * Password hashing is slow and never happens here: a create or update that
 * sets a password field must carry the hash, computed beforehand on the
 * thread pool, in hr_rctx.password_hash (the plain text still arrives in the
 * body and is validated here).
 */
#ifndef HR_RECORDS_RECORDS_H
#define HR_RECORDS_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "db/db.h"
#include "db/schema.h"
#include "records/fields.h"
#include "records/verr.h"
#include "rules/sql.h"

typedef struct hr_rerr {
	int status;	     /* HTTP status */
	const char *message; /* NULL = the status's default */
	hr_verrs data;	     /* field details (may be empty) */
} hr_rerr;

/*
 * A small per-thread cache of list totals (COUNT queries), keyed by the
 * exact SQL and parameters and valid for one data generation
 * (hr_store_data_generation): a repeated list request on unchanged data
 * skips its count. Owned by one thread.
 */
#define HR_COUNT_CACHE 64
typedef struct hr_count_entry {
	uint64_t hash, gen;
	char *key; /* malloc'd */
	size_t keylen;
	int64_t count;
} hr_count_entry;

typedef struct hr_count_cache {
	hr_count_entry e[HR_COUNT_CACHE];
} hr_count_cache;

void hr_count_cache_dispose(hr_count_cache *cc);

typedef struct hr_rctx {
	hr_arena *a;
	const hr_schema *schema;
	hr_db *db;
	const hr_rule_req *rq; /* request context for rules; never NULL */
	hr_str expand;	       /* the expand parameter (may be empty) */
	hr_str password_hash;  /* for a submitted password, see above */
	bool old_password_ok;  /* body's oldPassword matched the stored hash */
	int64_t now_ms;
	hr_count_cache *counts; /* may be NULL */
	uint64_t data_gen;     /* generation the reads see (for counts) */
	void *key_orders;      /* private: output key order per collection */
} hr_rctx;

typedef struct hr_list_params {
	int64_t page, per_page;
	hr_str sort, filter;
	bool skip_total;
} hr_list_params;

void hr_rerr_init(hr_rerr *e, hr_arena *a);

/* GET .../records: appends the list envelope (§8.1). */
int hr_records_list(hr_rctx *x, const hr_collection *c, const hr_list_params *p, hr_buf *out,
		    hr_rerr *err);

/* GET .../records/{id}: appends the record. */
int hr_records_view(hr_rctx *x, const hr_collection *c, hr_str id, hr_buf *out, hr_rerr *err);

/* POST .../records (writer job): appends the created record. */
int hr_records_create(hr_rctx *x, const hr_collection *c, const hr_json *body, hr_buf *out,
		      hr_rerr *err);

/* PATCH .../records/{id} (writer job): appends the updated record. */
int hr_records_update(hr_rctx *x, const hr_collection *c, hr_str id, const hr_json *body,
		      hr_buf *out, hr_rerr *err);

/* DELETE .../records/{id} (writer job). */
int hr_records_delete(hr_rctx *x, const hr_collection *c, hr_str id, hr_rerr *err);

/*
 * Reads one record's stored values (no rule) into a JSON object with every
 * field, hidden ones included - for @request.auth and token checks. Returns
 * 0, HR_ENOENT, or a database error.
 */
int hr_records_load(hr_rctx *x, const hr_collection *c, hr_str id, hr_json **out);

/* Finds an auth record by a unique identity field value (e.g. email). */
int hr_records_find_by(hr_rctx *x, const hr_collection *c, hr_str field, hr_str value,
		       hr_json **out);

/* Writes a record JSON object as the requester may see it, from a loaded
 * object (hr_records_load); always_email shows the email (auth responses). */
void hr_records_write_loaded(hr_rctx *x, const hr_collection *c, const hr_json *rec,
			     bool always_email, hr_buf *out);

/* Deletes every record of c, with relation clean-up (truncate). */
int hr_records_truncate(hr_rctx *x, const hr_collection *c, hr_rerr *err);

#endif

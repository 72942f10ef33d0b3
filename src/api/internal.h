/*
 * api/internal.h - what the files of src/api/ share: the API object, the
 * per-request context, and the helpers every endpoint uses (schema
 * snapshots, authentication, errors, sending JSON, running writes on the
 * writer thread). Nothing outside src/api/ includes this.
 *
 * THREADS. Each worker keeps its own schema snapshot (api->w[i]); the
 * writer thread keeps another (api->writer), touched only inside writer
 * jobs. A snapshot is reloaded when hr_store_generation() moved, which
 * every schema-changing job bumps after its commit (in done(), on the
 * worker), so readers never see a generation whose data is not committed.
 */
#ifndef HR_API_INTERNAL_H
#define HR_API_INTERNAL_H

#include <stdatomic.h>

#include "api/api.h"
#include "api/body.h"
#include "api/fields.h"
#include "auth/password.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "db/db.h"
#include "db/schema.h"
#include "http/http.h"
#include "mail/mail.h"
#include "records/records.h"
#include "rules/sql.h"

#define HR_SUPERUSERS_ID "pbc_3142635823"
#define HR_JSON_DEPTH 10000
/* argon2id runs at once, process-wide: one per worker, at most this many
 * (each holds the hash's memory, 64 MiB by default). */
#define HR_MAX_HASHES_AT_ONCE 4

typedef struct api_flows api_flows; /* flows.c's throttles */

typedef struct api_worker {
	hr_schema *schema;
	hr_json *settings;	/* parsed _params settings, per generation */
	uint64_t settings_gen;
	hr_arena settings_arena;
	bool attached;
	hr_count_cache counts;	/* list totals, this worker's */
	bool snap_open;		/* the reader holds a read snapshot ... */
	uint64_t snap_gen;	/* ... begun at this data generation */
	struct api_guard_cfg *guard; /* settings compiled by guard.c, in settings_arena */
	uint64_t guard_gen;	/* the settings_gen it was compiled from */
	/* does any rule of the schema of generation maps_gen read
	 * @request.query / @request.headers? (valid when maps_known) */
	bool maps_known, reads_query, reads_headers;
	uint64_t maps_gen;
} api_worker;

struct hr_api {
	hr_store *store;
	char *data_dir;
	unsigned nworkers;
	api_worker *w;
	struct {
		hr_schema *schema; /* writer thread only */
		atomic_bool dirty; /* set by any thread: reload before the next job */
	} writer;
	hr_password_params pw;
	atomic_uint hashing; /* hashes in flight, whole process */
	uv_sem_t hash_slots; /* bounds the argon2id runs at once (api_hash_slot_*) */
	hr_mailer *mailer;   /* the mail thread (flows.c posts to it) */
	api_flows *flows;
	struct hr_ratelimit *rl; /* rate-limit windows shared by all workers */
};

typedef struct api_guard_cfg api_guard_cfg;

/* Per-request state, in the request's arena. */
typedef struct api_req {
	hr_api *api;
	hearth_req *req;
	unsigned w;
	hr_arena *a;
	hr_schema *schema;	/* held (refs) until the request ends */
	hr_rule_req rq;
	hr_str auth_coll_id;	/* copy in the request arena (rq.auth_coll belongs to a snapshot) */
	const hr_fields *fields;
	hr_str expand;
	uint64_t data_gen;	/* hr_store_data_generation() at the start */
	hr_str token;		/* the token that authenticated the request, or empty */
	bool cookie_auth;	/* ... and it came from the session cookie */
	hr_str ip;		/* client IP (§18.4), computed on first use */
	const struct route_info *route; /* guard.c's classification, or NULL */
	bool old_password_ok;	/* the body's oldPassword matched (checked on the pool) */
} api_req;

/*
 * Starts a request: refreshes the worker's schema, resolves the
 * Authorization token (silently ignored when invalid, DIALECT.md §1.3),
 * reads fields/expand. Returns NULL after answering (500) on failure.
 */
api_req *api_begin(hr_api *api, hearth_req *req);

/* Sends a 2xx JSON body, applying `fields` (§9.2). Frees nothing. */
void api_send(api_req *r, int status, hr_buf *body);

/* Sends the dialect's error for err (status, message, data). */
void api_fail(api_req *r, const hr_rerr *err);

/* Sends an error with a message and empty data. */
void api_error(api_req *r, int status, const char *msg);

/* The collection from the {collection} parameter, or NULL. */
const hr_collection *api_collection(api_req *r);

/* The option object `key` of a collection (e.g. "otp"), or NULL. */
hr_json *api_coll_opt(const hr_collection *c, const char *key);

/* A query parameter (decoded), empty when absent. */
hr_str api_query(api_req *r, const char *name);

/* A records context over conn db for this request. */
void api_rctx(api_req *r, hr_db *db, hr_rctx *x);

/* Reads the body into an object; answers 400 and returns false on failure. */
bool api_body(api_req *r, hr_body *out, const char *bad_message);

/* Requires a superuser (401/403 per §14); answers and returns false if not. */
bool api_require_superuser(api_req *r);
/* The request is authenticated as a record of collection c: else false,
 * after answering 401 (no auth) or 403 (a record of another collection). */
bool api_require_record_of(api_req *r, const hr_collection *c);

/* ---- writes ----------------------------------------------------------- */

/* Runs a statement whose one parameter ?1 is v (a sweep of expired rows,
 * say); 0 or a negative code. */
int api_exec_int(hr_db *db, hr_str sql, int64_t v);

typedef struct api_job api_job;
typedef int (*api_job_fn)(api_job *j, hr_db *db, const hr_schema *schema);

struct api_job {
	hr_db_job job;
	api_req *r;
	api_job_fn fn;
	void (*after)(api_job *j); /* on the worker after commit (NULL: send result) */
	hr_buf out;		   /* result body */
	hr_rerr err;		   /* result error (status 0: none) */
	int status;		   /* success status (200/204) */
	bool schema_changed;	   /* bump the generation after commit */
	/* inputs, by operation */
	hr_str coll, id;
	hr_body body;
	hr_str password_hash;
	void *ud;
};

/* Creates a job for r (arena memory). */
api_job *api_job_new(api_req *r, api_job_fn fn);

/* Queues it on the writer; on failure answers 503. */
void api_job_submit(api_job *j);

/* rq re-bound to `schema` (the writer's): auth_coll looked up again. */
hr_rule_req api_job_rq(api_job *j, const hr_schema *schema);

/* The writer's schema (reloaded when stale); writer thread only. */
const hr_schema *api_writer_schema(hr_api *api, hr_db *db);

/* Marks the writer's schema stale (a job changed collections). */
void api_writer_schema_dirty(hr_api *api);

/* ---- password hashing ------------------------------------------------- */

/*
 * Hashes pw on the thread pool (bounded in flight per process), then calls
 * done(r, hash, ud) on the worker; hash is empty on failure.
 */
void api_hash_password(api_req *r, hr_str pw, void (*done)(api_req *r, hr_str hash, void *ud),
		       void *ud);

/*
 * Verifies pw against a stored argon2id hash on the thread pool, then calls
 * done(r, ok, ud) on the worker.
 */
void api_verify_password(api_req *r, hr_str hash, hr_str pw,
			 void (*done)(api_req *r, bool ok, void *ud), void *ud);

/* ---- endpoint registration (one per file) ----------------------------- */

int hr_api_records_register(hr_api *api, hearth_server *s);
int hr_api_collections_register(hr_api *api, hearth_server *s);
int hr_api_batch_register(hr_api *api, hearth_server *s);
int hr_api_settings_register(hr_api *api, hearth_server *s);
int hr_api_auth_register(hr_api *api, hearth_server *s);
int hr_api_flows_register(hr_api *api, hearth_server *s);

/* flows.c's state (throttle tables), made with the API object. */
api_flows *api_flows_new(void);
void api_flows_free(api_flows *f);

/* Settings (api/settings.c): the current settings object for worker w. */
const hr_json *api_settings(api_req *r);

/* Records in a batch (api/records.c): run one record action on db. */
int api_records_action(api_req *r, hr_db *db, const hr_schema *schema, const char *method,
		       hr_str coll, hr_str id, const hr_body *body, hr_str password_hash, hr_buf *out,
		       hr_rerr *err, int *status);

/* ---- guard.c: client IP, limits, auth guard, cookie sessions -------- */

/* Classifies the request and applies CSRF, superuserIPs, the auth guard
 * and rate limits; answers (403/429) and returns false when refused. */
bool api_guard_begin(api_req *r);

/* The client IP per settings.trustedProxy (§18.4); lives in the request. */
hr_str api_client_ip(api_req *r);

/* Did a trusted proxy say the request came over https? */
bool api_request_https(api_req *r);

/* The hearth_auth cookie's value, if the request has one. */
bool api_cookie_token(api_req *r, hr_str *tok);

/* Adds Set-Cookie hearth_auth=token with Max-Age (0 with an empty token
 * clears it). */
void api_session_cookie(api_req *r, hr_str token, int64_t max_age);

/*
 * Auth guard, per identity (case-folded, per collection): answers 429 with
 * Retry-After and returns false when the identity's window is full.
 * On endpoints that send mail (request-*) the call also counts the
 * request; on endpoints that check a secret, only api_guard_failed()
 * counts. Call once the identity is known, before any lookup.
 */
bool api_guard_identity(api_req *r, hr_str identity);

/* Counts a failed attempt (wrong password, bad OTP or token) against the
 * client IP and, when identity is non-empty, the identity. */
void api_guard_failed(api_req *r, hr_str identity);

/* Rate limits of one batch sub-request (§18.1); false after a 429. */
bool api_guard_batch(api_req *r, hr_str method, hr_str coll, bool has_id);

/*
 * Around every argon2id run on the thread pool: takes one of the hash
 * slots (waiting on the pool thread, never on a loop) and gives it back.
 * Bounds the memory hashing can hold during a login storm.
 */
void api_hash_slot_take(hr_api *api);
void api_hash_slot_give(hr_api *api);

/* Mints an auth token for a record (api/auth.c). */
int api_auth_token(hr_arena *a, const hr_collection *c, const hr_json *rec, bool refreshable,
		   int64_t duration, hr_buf *out);

/* Sends the auth response {"record":...,"token":...} for rec (api/auth.c). */
void api_auth_send(api_req *r, const hr_collection *c, const hr_json *rec, hr_str token);

/* Does record id of c satisfy the collection's authRule (§7.6)? (api/auth.c) */
bool api_auth_rule_ok(api_req *r, const hr_collection *c, hr_str id);

/* Does record id of c satisfy rule, evaluated as if id were logged in?
 * (api/auth.c) */
bool api_record_rule_ok(api_req *r, const hr_collection *c, hr_str id, hr_str rule);

/* ---- mfa.c: multi-factor auth (§12.4) ---------------------------------- */

typedef void (*api_mfa_next)(api_req *r, void *ud);

/* Is MFA on for c (mfa.enabled, or _superusers with OTP on)? */
bool api_mfa_enabled(const hr_collection *c);

/* The presented mfaId: body key, else query parameter; empty when none. */
hr_str api_mfa_id(api_req *r, const hr_json *body);

/*
 * Call once method ("password", "otp") has authenticated rec of c. Calls
 * next(r, ud) on the worker when no (further) factor is needed, possibly
 * after a writer job that consumed the session mfa_id; otherwise answers
 * itself (401 {"mfaId"} for a first factor, 400 for a bad session).
 */
void api_mfa_gate(api_req *r, const hr_collection *c, const hr_json *rec, const char *method,
		  hr_str mfa_id, api_mfa_next next, void *ud);

#endif

/*
 * api/api.c - the API object, per-request plumbing shared by every endpoint
 * (see internal.h), and GET /api/health.
 *
 * AUTHENTICATION of a request (DIALECT.md §1.3, §11.3): the Authorization
 * header holds a bare token or "Bearer <token>". It is decoded without
 * verification to learn the record (id, collectionId, type), the record is
 * loaded from the worker's reader, and the HS256 signature is verified with
 * the record's tokenKey followed by its collection's authToken secret. Any
 * failure leaves the request a guest; nothing is answered for a bad token.
 * Without an Authorization header, the hearth_auth session cookie is read
 * the same way (guard.c: cookie sessions and their CSRF check).
 *
 * ERRORS are sentence-normalised (trimmed, first letter upper-cased, final
 * period) as §2.1 requires, and `data` is always an object.
 */
#include "api/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/ratelimit.h"
#include "auth/token.h"
#include "core/common.h"
#include "core/time.h"

/* ---- lifecycle -------------------------------------------------------- */

static int bootstrap(hr_db *db, void *ud)
{
	return hr_schema_bootstrap_app(db, ud);
}

int hr_api_new(const char *data_dir, unsigned workers, hr_api **out, char *errbuf, size_t n)
{
	if (hr_password_init() != 0) {
		snprintf(errbuf, n, "libsodium could not be initialised");
		return HR_EINVAL;
	}
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(errbuf, n, "cannot create %s: %s", data_dir, strerror(errno));
		return -errno;
	}
	hr_api *api = hr_xcalloc(1, sizeof *api);
	api->data_dir = hr_xstrdup(data_dir);
	api->nworkers = workers ? workers : 1;
	api->w = hr_xcalloc(api->nworkers, sizeof *api->w);
	hr_password_params_default(&api->pw);
	atomic_init(&api->hashing, 0);
	unsigned slots = api->nworkers < HR_MAX_HASHES_AT_ONCE ? api->nworkers : HR_MAX_HASHES_AT_ONCE;
	if (uv_sem_init(&api->hash_slots, slots < 2 ? 2 : slots) != 0)
		abort();
	api->rl = hr_ratelimit_new();
	char path[4096];
	snprintf(path, sizeof path, "%s/data.db", data_dir);
	hr_store_config sc = {0};
	sc.db.kind = HR_DB_SQLITE;
	sc.db.path = path;
	sc.db.query_budget_ms = 10000;
	sc.workers = api->nworkers;
	hr_db_error err = {0};
	int rc = hr_store_open(&sc, &api->store, &err);
	if (rc) {
		snprintf(errbuf, n, "cannot open %s: %s", path, err.msg);
		hr_ratelimit_free(api->rl);
		free(api->w);
		free(api->data_dir);
		free(api);
		return rc;
	}
	int brc = hr_store_write_sync(api->store, bootstrap, &err);
	if (brc == 0) {
		snprintf(path, sizeof path, "%s/outbox", data_dir);
		if ((brc = hr_mailer_new(path, NULL, &api->mailer)) != 0)
			snprintf(err.msg, sizeof err.msg, "cannot start the mail thread");
	}
	if (brc) {
		snprintf(errbuf, n, "cannot initialise %s: %s", path, err.msg);
		hr_store_close(api->store);
		hr_ratelimit_free(api->rl);
		free(api->w);
		free(api->data_dir);
		free(api);
		return brc;
	}
	api->flows = api_flows_new();
	*out = api;
	return 0;
}

int hr_api_set_smtp(hr_api *api, const char *url, char *errbuf, size_t n)
{
	hr_smtp smtp;
	int rc = hr_smtp_parse_url(url, &smtp, errbuf, n);
	if (rc)
		return rc;
	char path[4096];
	snprintf(path, sizeof path, "%s/outbox", api->data_dir);
	hr_mailer *m;
	rc = hr_mailer_new(path, &smtp, &m);
	sodium_memzero(smtp.password, sizeof smtp.password);
	if (rc) {
		snprintf(errbuf, n, "cannot start the mail thread");
		return rc;
	}
	hr_mailer_free(api->mailer);
	api->mailer = m;
	return 0;
}

void hr_api_free(hr_api *api)
{
	if (!api)
		return;
	/* queued mail tasks still read the store: drain them first */
	hr_mailer_free(api->mailer);
	api_flows_free(api->flows);
	hr_store_close(api->store);
	for (unsigned i = 0; i < api->nworkers; i++) {
		hr_schema_free(api->w[i].schema);
		hr_count_cache_dispose(&api->w[i].counts);
		if (api->w[i].settings_gen)
			hr_arena_dispose(&api->w[i].settings_arena);
	}
	hr_schema_free(api->writer.schema);
	hr_ratelimit_free(api->rl);
	uv_sem_destroy(&api->hash_slots);
	free(api->w);
	free(api->data_dir);
	free(api);
}

int hr_api_worker_start(hr_api *api, unsigned idx, uv_loop_t *loop)
{
	hr_db_error err = {0};
	int rc = hr_store_attach(api->store, idx, loop, &err);
	if (rc)
		return rc;
	api->w[idx].attached = true;
	return 0;
}

void hr_api_worker_idle(hr_api *api, unsigned idx)
{
	api_worker *aw = &api->w[idx];
	if (aw->snap_open) {
		hr_db_snapshot_end(hr_store_reader(api->store, idx));
		aw->snap_open = false;
	}
}

void hr_api_worker_stop(hr_api *api, unsigned idx)
{
	hr_api_worker_idle(api, idx);
	if (api->w[idx].attached)
		hr_store_detach(api->store, idx);
	api->w[idx].attached = false;
}

/* ---- schema snapshots ------------------------------------------------- */

/*
 * The worker's current snapshot. Requests hold the snapshot they started
 * with (refs), so a reload never frees one that an unfinished request (a
 * write waiting for the writer, say) still reads; the last holder frees it.
 */
static hr_schema *worker_schema(hr_api *api, unsigned w)
{
	api_worker *aw = &api->w[w];
	uint64_t gen = hr_store_generation(api->store);
	if (aw->schema && aw->schema->generation == gen)
		return aw->schema;
	hr_schema *s;
	hr_db *db = hr_store_reader(api->store, w);
	if (hr_schema_load(db, gen, &s, NULL) != 0)
		return aw->schema; /* keep serving the old one */
	hr_schema *old = aw->schema;
	aw->schema = s;
	if (old && old->refs == 0)
		hr_schema_free(old);
	hr_db_flush_cache(db);
	return s;
}

typedef struct schema_hold {
	hr_api *api;
	unsigned w;
	hr_schema *s;
} schema_hold;

static void schema_release(void *ud)
{
	schema_hold *h = ud;
	if (--h->s->refs == 0 && h->s != h->api->w[h->w].schema)
		hr_schema_free(h->s);
}

const hr_schema *api_writer_schema(hr_api *api, hr_db *db)
{
	uint64_t gen = hr_store_generation(api->store);
	if (api->writer.schema && !atomic_load(&api->writer.dirty) &&
	    api->writer.schema->generation == gen)
		return api->writer.schema;
	hr_schema *s;
	if (hr_schema_load(db, gen, &s, NULL) != 0)
		return api->writer.schema;
	hr_schema_free(api->writer.schema);
	api->writer.schema = s;
	atomic_store(&api->writer.dirty, false);
	hr_db_flush_cache(db);
	return s;
}

void api_writer_schema_dirty(hr_api *api)
{
	atomic_store(&api->writer.dirty, true);
}

/* ---- headers and CORS ------------------------------------------------- */

void hr_api_common_headers(hearth_req *req)
{
	hearth_resp_header(req, "X-XSS-Protection", "1; mode=block", 13);
	hearth_resp_header(req, "X-Content-Type-Options", "nosniff", 7);
	hearth_resp_header(req, "X-Frame-Options", "SAMEORIGIN", 10);
	hearth_str origin = hearth_req_header(req, "Origin");
	if (origin.ptr) {
		hearth_resp_header(req, "Access-Control-Allow-Origin", "*", 1);
		hearth_resp_header(req, "Vary", "Origin", 6);
	}
}

void hr_api_preflight(hearth_req *req)
{
	hearth_str origin = hearth_req_header(req, "Origin");
	if (origin.ptr) {
		hearth_resp_header(req, "Access-Control-Allow-Origin", "*", 1);
		hearth_resp_header(req, "Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE",
				   30);
		hearth_str h = hearth_req_header(req, "Access-Control-Request-Headers");
		if (h.ptr)
			hearth_resp_header(req, "Access-Control-Allow-Headers", h.ptr, h.len);
		hearth_resp_header(req, "Vary",
				   "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
				   69);
	}
	hearth_resp_send(req, 204, NULL, NULL, 0);
}

/* ---- authentication --------------------------------------------------- */

hr_json *api_coll_opt(const hr_collection *c, const char *key)
{
	return c->options ? hr_json_get(c->options, key) : NULL;
}

static hr_str token_secret(const hr_collection *c, const char *which)
{
	hr_json *o = api_coll_opt(c, which);
	hr_json *s = o ? hr_json_get(o, "secret") : NULL;
	return s && s->type == HR_JSON_STRING ? s->u.str : HR_STR("");
}

static void resolve_auth(api_req *r)
{
	hearth_str h = hearth_req_header(r->req, "Authorization");
	hr_str tok;
	bool cookie = false;
	if (h.ptr && h.len) {
		tok = hr_str_make(h.ptr, h.len);
		if (hr_str_istarts(tok, HR_STR("Bearer ")))
			tok = hr_str_make(tok.ptr + 7, tok.len - 7);
	} else if (!h.ptr && api_cookie_token(r, &tok)) {
		cookie = true; /* guard.c: session cookies and CSRF */
	} else {
		return;
	}
	tok = hr_str_trim_ows(tok);
	hr_json *claims;
	if (hr_token_decode(r->a, tok, &claims) != 0)
		return;
	hr_token_claims cl;
	if (!hr_token_claims_read(claims, hr_time_now_ms() / 1000, &cl) ||
	    !hr_str_eq_lit(cl.type, "auth"))
		return;
	const hr_collection *c = hr_schema_find(r->schema, cl.collection_id);
	if (!c || c->type != HR_COLL_AUTH)
		return;
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	hr_json *rec;
	if (hr_records_load(&x, c, cl.id, &rec) != 0)
		return;
	hr_json *tk = hr_json_get(rec, "tokenKey");
	if (!tk || tk->type != HR_JSON_STRING)
		return;
	hr_str key = hr_token_key(r->a, tk->u.str, token_secret(c, "authToken"));
	if (!key.ptr || !hr_token_verify(tok, key))
		return;
	r->rq.auth_coll = c;
	r->rq.auth_id = cl.id;
	r->auth_coll_id = hr_str_make(hr_arena_dup(r->a, c->id.ptr, c->id.len), c->id.len);
	r->rq.auth_record = rec;
	r->rq.superuser = hr_str_eq_lit(c->id, HR_SUPERUSERS_ID);
	r->token = tok;
	r->cookie_auth = cookie;
}

/* ---- per request ------------------------------------------------------ */

hr_str api_query(api_req *r, const char *name)
{
	hearth_str v = hearth_req_query_param(r->req, name);
	return v.ptr ? hr_str_make(v.ptr, v.len) : HR_STR("");
}

static void request_maps(api_req *r);

api_req *api_begin(hr_api *api, hearth_req *req)
{
	hr_arena *a = hr_http_req_arena(req);
	api_req *r = hr_arena_alloc(a, sizeof *r);
	if (!r) {
		hearth_resp_error(req, 500, NULL);
		return NULL;
	}
	memset(r, 0, sizeof *r);
	r->api = api;
	r->req = req;
	r->w = hearth_req_worker(req);
	r->a = a;
	r->schema = worker_schema(api, r->w);
	schema_hold *hold = hr_arena_alloc(a, sizeof *hold);
	if (!r->schema || !hold) {
		hearth_resp_error(req, 500, NULL);
		return NULL;
	}
	*hold = (schema_hold){api, r->w, r->schema};
	if (hr_arena_on_reset(a, schema_release, hold) != 0) {
		hearth_resp_error(req, 500, NULL);
		return NULL;
	}
	r->schema->refs++;
	hearth_str m = hearth_req_method(req);
	r->rq.method = hr_str_make(m.ptr, m.len);
	if (hr_str_eq_lit(r->rq.method, "HEAD"))
		r->rq.method = HR_STR("GET");
	r->rq.context = HR_STR("default");
	r->rq.now_ms = hr_time_now_ms();
	/* read before any query, so a cached total is never newer than the data */
	r->data_gen = hr_store_data_generation(api->store);
	api_worker *aw = &api->w[r->w];
	hr_db *rd = hr_store_reader(api->store, r->w);
	if (aw->snap_open && aw->snap_gen != r->data_gen) {
		hr_db_snapshot_end(rd); /* a write landed: see it */
		aw->snap_open = false;
	}
	if (!aw->snap_open && hr_db_snapshot_begin(rd) == 0) {
		aw->snap_open = true;
		aw->snap_gen = r->data_gen;
	}
	resolve_auth(r);
	if (!api_guard_begin(r))
		return NULL;
	request_maps(r);
	r->expand = api_query(r, "expand");
	hr_str fields = api_query(r, "fields");
	if (fields.len) {
		hr_fields *f;
		const char *why;
		if (hr_fields_parse(a, fields, &f, &why) != 0) {
			api_error(r, 400, why ? why : "Invalid fields parameter.");
			return NULL;
		}
		r->fields = f;
	}
	return r;
}

/* Does any rule of the schema read @request.<what>? */
static bool rules_read(const hr_schema *s, const char *what)
{
	size_t n = strlen(what);
	for (unsigned i = 0; i < s->n; i++)
		for (int k = 0; k < HR_RULE__COUNT; k++) {
			hr_str rule = s->cols[i].rules[k];
			if (rule.len >= n && memmem(rule.ptr, rule.len, what, n))
				return true;
		}
	return false;
}

static hr_json *json_object(hr_arena *a, size_t cap)
{
	hr_json *o = hr_arena_alloc(a, sizeof *o);
	hr_json_member *m = hr_arena_alloc(a, (cap + 1) * sizeof *m);
	if (!o || !m)
		return NULL;
	o->type = HR_JSON_OBJECT;
	o->u.obj.members = m;
	o->u.obj.len = 0;
	return o;
}

static void json_add_string(hr_arena *a, hr_json *o, hr_str key, hr_str val)
{
	hr_json *v = hr_arena_alloc(a, sizeof *v);
	if (!v)
		return;
	v->type = HR_JSON_STRING;
	v->u.str = val;
	o->u.obj.members[o->u.obj.len++] = (hr_json_member){key, v};
}

/*
 * @request.query and @request.headers (§6.6), built only when some rule
 * reads them: query parameters form-decoded, header names lower-cased
 * with '-' as '_'. Lookups take the first of repeated names.
 */
static void request_maps(api_req *r)
{
	api_worker *aw = &r->api->w[r->w];
	if (!aw->maps_known || aw->maps_gen != r->schema->generation) {
		aw->maps_known = true;
		aw->maps_gen = r->schema->generation;
		aw->reads_query = rules_read(r->schema, "@request.query.");
		aw->reads_headers = rules_read(r->schema, "@request.headers.");
	}
	if (aw->reads_query) {
		hearth_str q = hearth_req_query(r->req);
		size_t cap = 1;
		for (size_t i = 0; i < q.len; i++)
			cap += q.ptr[i] == '&';
		hr_json *o = json_object(r->a, cap);
		for (size_t i = 0; o && i < q.len;) {
			size_t start = i;
			while (i < q.len && q.ptr[i] != '&')
				i++;
			hr_str pair = hr_str_make(q.ptr + start, i - start);
			i++;
			size_t eq = 0;
			while (eq < pair.len && pair.ptr[eq] != '=')
				eq++;
			hr_str k = hr_str_make(pair.ptr, eq);
			hr_str v = eq < pair.len ? hr_str_make(pair.ptr + eq + 1, pair.len - eq - 1) : HR_STR("");
			char *kd = hr_arena_alloc(r->a, k.len + 1), *vd = hr_arena_alloc(r->a, v.len + 1);
			if (!kd || !vd)
				break;
			long kl = hr_str_pct_decode(k, kd, true), vl = hr_str_pct_decode(v, vd, true);
			if (kl <= 0 || vl < 0)
				continue;
			json_add_string(r->a, o, hr_str_make(kd, (size_t)kl), hr_str_make(vd, (size_t)vl));
		}
		r->rq.query = o;
	}
	if (aw->reads_headers) {
		unsigned n = 0;
		hearth_str name;
		while (hearth_req_header_at(r->req, n, &name).ptr || name.ptr)
			n++;
		hr_json *o = json_object(r->a, n);
		for (unsigned i = 0; o && i < n; i++) {
			hearth_str v = hearth_req_header_at(r->req, i, &name);
			char *k = hr_arena_alloc(r->a, name.len + 1);
			if (!k)
				break;
			for (size_t j = 0; j < name.len; j++) {
				char ch = name.ptr[j];
				k[j] = ch == '-' ? '_' : (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
			}
			json_add_string(r->a, o, hr_str_make(k, name.len), hr_str_make(v.ptr ? v.ptr : "", v.len));
		}
		r->rq.headers = o;
	}
}

void api_rctx(api_req *r, hr_db *db, hr_rctx *x)
{
	memset(x, 0, sizeof *x);
	x->a = r->a;
	x->schema = r->schema;
	x->db = db;
	x->rq = &r->rq;
	x->expand = r->expand;
	x->now_ms = r->rq.now_ms;
	/* list totals may be cached on the worker's own reader only */
	if (db == hr_store_reader(r->api->store, r->w)) {
		x->counts = &r->api->w[r->w].counts;
		x->data_gen = r->data_gen;
	}
}

const hr_collection *api_collection(api_req *r)
{
	hearth_str c = hearth_req_param(r->req, "collection");
	if (!c.ptr)
		return NULL;
	return hr_schema_find(r->schema, hr_str_make(c.ptr, c.len));
}

void api_send(api_req *r, int status, hr_buf *body)
{
	if (body->err) {
		api_error(r, 500, NULL);
		return;
	}
	if (r->fields && status >= 200 && status < 300 && body->len) {
		hr_json *j;
		hr_json_error je;
		if (hr_json_parse(r->a, body->ptr, body->len, HR_JSON_DEPTH, &j, &je) == 0) {
			hr_buf out;
			hr_buf_init(&out, 0);
			hr_fields_apply(r->a, r->fields, j, &out);
			if (!out.err) {
				hearth_resp_send(r->req, status, "application/json", out.ptr, out.len);
				hr_buf_dispose(&out);
				return;
			}
			hr_buf_dispose(&out);
		}
	}
	if (status == 204)
		hearth_resp_send(r->req, 204, NULL, NULL, 0);
	else
		hearth_resp_send(r->req, status, "application/json", body->ptr ? body->ptr : "",
				 body->len);
}

/* Trim, capitalise, final period (DIALECT.md §2.1). */
static void normalise(hr_buf *b, const char *msg)
{
	hr_str m = hr_str_trim_ows(hr_str_make(msg, strlen(msg)));
	while (m.len && (m.ptr[m.len - 1] == '\n' || m.ptr[m.len - 1] == ' '))
		m.len--;
	if (m.len == 0) {
		hr_json_write_string(b, HR_STR("Something went wrong while processing your request."));
		return;
	}
	char tmp[1100];
	size_t n = HR_MIN(m.len, sizeof tmp - 2);
	memcpy(tmp, m.ptr, n);
	if (tmp[0] >= 'a' && tmp[0] <= 'z')
		tmp[0] = (char)(tmp[0] - 32);
	if (tmp[n - 1] != '.' && tmp[n - 1] != '?' && tmp[n - 1] != '!')
		tmp[n++] = '.';
	hr_json_write_string(b, hr_str_make(tmp, n));
}

static const char *default_message(int status)
{
	switch (status) {
	case 401:
		return "Missing or invalid authentication.";
	case 403:
		return "You are not allowed to perform this request.";
	case 404:
		return "The requested resource wasn't found.";
	case 413:
		return "Request entity too large.";
	case 429:
		return "Too Many Requests.";
	default:
		return "Something went wrong while processing your request.";
	}
}

void api_fail(api_req *r, const hr_rerr *err)
{
	int status = err->status ? err->status : 500;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"data\":");
	if (status >= 500)
		hr_buf_append_cstr(&b, "{}");
	else
		hr_verrs_write(&err->data, &b);
	hr_buf_append_cstr(&b, ",\"message\":");
	normalise(&b, err->message && status < 500 ? err->message : default_message(status));
	hr_buf_printf(&b, ",\"status\":%d}", status);
	if (b.err)
		hearth_resp_error(r->req, 500, NULL);
	else
		hearth_resp_send(r->req, status, "application/json", b.ptr, b.len);
	hr_buf_dispose(&b);
}

void api_error(api_req *r, int status, const char *msg)
{
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	e.status = status;
	e.message = msg;
	api_fail(r, &e);
}

bool api_body(api_req *r, hr_body *out, const char *bad_message)
{
	hearth_str ct = hearth_req_header(r->req, "Content-Type");
	hearth_str body = hearth_req_body(r->req);
	int rc = hr_body_read(r->a, ct.ptr ? hr_str_make(ct.ptr, ct.len) : HR_STR(""),
			      hr_str_make(body.ptr ? body.ptr : "", body.len), HR_JSON_DEPTH, out);
	switch (rc) {
	case HR_BODY_OK:
		return true;
	case HR_BODY_UNSUPPORTED:
		api_error(r, 400, "Unsupported Content-Type.");
		return false;
	case HR_BODY_NOMEM:
		api_error(r, 413, NULL);
		return false;
	default:
		api_error(r, 400, bad_message);
		return false;
	}
}

int api_exec_int(hr_db *db, hr_str sql, int64_t v)
{
	hr_db_stmt *st;
	int rc = hr_db_prepare(db, sql, &st, NULL);
	if (rc)
		return rc;
	hr_db_bind_int64(st, 1, v);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc < 0 ? rc : 0;
}

bool api_require_record_of(api_req *r, const hr_collection *c)
{
	if (!r->rq.auth_coll) {
		api_error(r, 401, "The request requires valid record authorization token.");
		return false;
	}
	if (!hr_str_eq(r->rq.auth_coll->id, c->id)) {
		api_error(r, 403, hr_arena_printf(r->a, "The request requires auth record from %.*s collection.",
						  (int)c->name.len, c->name.ptr));
		return false;
	}
	return true;
}

bool api_require_superuser(api_req *r)
{
	if (!r->rq.auth_coll) {
		api_error(r, 401, "The request requires valid record authorization token.");
		return false;
	}
	if (!r->rq.superuser) {
		api_error(r, 403, "The authorized record is not allowed to perform this action.");
		return false;
	}
	return true;
}

/* ---- writes ----------------------------------------------------------- */

hr_rule_req api_job_rq(api_job *j, const hr_schema *schema)
{
	hr_rule_req rq = j->r->rq;
	if (j->r->auth_coll_id.len) {
		rq.auth_coll = hr_schema_find(schema, j->r->auth_coll_id);
		if (!rq.auth_coll) {
			rq.superuser = false;
			rq.auth_id = HR_STR("");
			rq.auth_record = NULL;
		}
	}
	return rq;
}

static int job_run(hr_db *db, hr_db_job *dj)
{
	api_job *j = HR_CONTAINER_OF(dj, api_job, job);
	const hr_schema *schema = api_writer_schema(j->r->api, db);
	if (!schema) {
		j->err.status = 500;
		return HR_EINVAL;
	}
	int rc = j->fn(j, db, schema);
	if (rc && !j->err.status)
		j->err.status = 500;
	if (j->schema_changed)
		api_writer_schema_dirty(j->r->api);
	return rc ? (rc < 0 ? rc : -rc) : 0;
}

static void job_done(hr_db_job *dj, int rc)
{
	api_job *j = HR_CONTAINER_OF(dj, api_job, job);
	api_req *r = j->r;
	if (rc == 0 && j->schema_changed)
		hr_store_bump_generation(r->api->store);
	if (rc != 0 && j->schema_changed)
		api_writer_schema_dirty(r->api); /* rolled back: reload (atomic flag) */
	if (rc != 0 && !j->err.status)
		j->err.status = 500;
	/* Answering ends the request and resets its arena, which holds j and
	 * disposes j->out (job_buf_cleanup): nothing may touch j after. */
	if (j->after) {
		j->after(j);
	} else if (rc != 0) {
		api_fail(r, &j->err);
	} else {
		api_send(r, j->status ? j->status : 200, &j->out);
	}
}

static void job_buf_cleanup(void *ud)
{
	hr_buf_dispose(ud);
}

api_job *api_job_new(api_req *r, api_job_fn fn)
{
	api_job *j = hr_arena_alloc(r->a, sizeof *j);
	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	j->r = r;
	j->fn = fn;
	j->job.run = job_run;
	j->job.done = job_done;
	hr_buf_init(&j->out, 0);
	hr_rerr_init(&j->err, r->a);
	/* the body buffer must not leak if the request dies before done() */
	hr_arena_on_reset(r->a, job_buf_cleanup, &j->out);
	return j;
}

void api_job_submit(api_job *j)
{
	if (hr_store_write(j->r->api->store, j->r->w, &j->job) != 0)
		api_error(j->r, 503, "The server is shutting down.");
}

/* ---- password hashing ------------------------------------------------- */

void api_hash_slot_take(hr_api *api)
{
	uv_sem_wait(&api->hash_slots);
}

void api_hash_slot_give(hr_api *api)
{
	uv_sem_post(&api->hash_slots);
}

typedef struct hash_job {
	api_req *r;
	char *pw;
	size_t n;
	char hash[HR_PASSWORD_HASH_MAX];
	int rc;
	void (*done)(api_req *r, hr_str hash, void *ud);
	void *ud;
} hash_job;

static void hash_work(void *ud)
{
	hash_job *h = ud;
	api_hash_slot_take(h->r->api);
	h->rc = hr_password_hash(h->pw, h->n, &h->r->api->pw, h->hash);
	api_hash_slot_give(h->r->api);
}

static void hash_after(hearth_req *req, void *ud)
{
	(void)req;
	hash_job *h = ud;
	atomic_fetch_sub(&h->r->api->hashing, 1);
	sodium_memzero(h->pw, h->n);
	h->done(h->r, h->rc == 0 ? hr_str_make(h->hash, strlen(h->hash)) : HR_STR(""), h->ud);
}

void api_hash_password(api_req *r, hr_str pw, void (*done)(api_req *r, hr_str hash, void *ud),
		       void *ud)
{
	hash_job *h = hr_arena_alloc(r->a, sizeof *h);
	if (!h) {
		done(r, HR_STR(""), ud);
		return;
	}
	memset(h, 0, sizeof *h);
	h->r = r;
	h->pw = hr_arena_dup(r->a, pw.ptr, pw.len);
	h->n = pw.len;
	h->done = done;
	h->ud = ud;
	atomic_fetch_add(&r->api->hashing, 1);
	if (!h->pw || hearth_req_offload(r->req, hash_work, hash_after, h) != 0) {
		atomic_fetch_sub(&r->api->hashing, 1);
		done(r, HR_STR(""), ud);
	}
}

typedef struct verify_job {
	api_req *r;
	char *pw;
	size_t n;
	char hash[HR_PASSWORD_HASH_MAX];
	bool ok;
	void (*done)(api_req *r, bool ok, void *ud);
	void *ud;
} verify_job;

static void verify_work(void *ud)
{
	verify_job *v = ud;
	api_hash_slot_take(v->r->api);
	v->ok = hr_password_verify(v->hash, v->pw, v->n);
	api_hash_slot_give(v->r->api);
}

static void verify_after(hearth_req *req, void *ud)
{
	(void)req;
	verify_job *v = ud;
	atomic_fetch_sub(&v->r->api->hashing, 1);
	sodium_memzero(v->pw, v->n);
	v->done(v->r, v->ok, v->ud);
}

void api_verify_password(api_req *r, hr_str hash, hr_str pw,
			 void (*done)(api_req *r, bool ok, void *ud), void *ud)
{
	verify_job *v = hr_arena_alloc(r->a, sizeof *v);
	if (!v || hash.len == 0 || hash.len >= sizeof v->hash) {
		done(r, false, ud);
		return;
	}
	memset(v, 0, sizeof *v);
	v->r = r;
	memcpy(v->hash, hash.ptr, hash.len);
	v->pw = hr_arena_dup(r->a, pw.ptr, pw.len);
	v->n = pw.len;
	v->done = done;
	v->ud = ud;
	atomic_fetch_add(&r->api->hashing, 1);
	if (!v->pw || hearth_req_offload(r->req, verify_work, verify_after, v) != 0) {
		atomic_fetch_sub(&r->api->hashing, 1);
		done(r, false, ud);
	}
}

/* ---- health ----------------------------------------------------------- */

static void health(hearth_req *req, void *ud)
{
	hr_api *api = ud;
	api_req *r = api_begin(api, req);
	if (!r)
		return;
	hr_buf b;
	hr_buf_init(&b, 0);
	if (r->rq.superuser) {
		hr_str ip = api_client_ip(r);
		hr_buf_append_cstr(&b, "{\"message\":\"API is healthy.\",\"code\":200,\"data\":"
				       "{\"canBackup\":true,\"realIP\":");
		hr_json_write_string(&b, ip);
		hr_buf_append_cstr(&b, ",\"possibleProxyHeader\":\"\"}}");
	} else {
		hr_buf_append_cstr(&b, "{\"message\":\"API is healthy.\",\"code\":200,\"data\":{}}");
	}
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

int hr_api_register(hr_api *api, hearth_server *s)
{
	int rc;
	if ((rc = hearth_route(s, "GET", "/api/health", health, api)))
		return rc;
	if ((rc = hr_api_records_register(api, s)))
		return rc;
	if ((rc = hr_api_collections_register(api, s)))
		return rc;
	if ((rc = hr_api_batch_register(api, s)))
		return rc;
	if ((rc = hr_api_settings_register(api, s)))
		return rc;
	return hr_api_auth_register(api, s);
}

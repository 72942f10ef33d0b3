/*
 * api/batch.c - POST /api/batch (DIALECT.md §10): record creates, updates,
 * upserts and deletes in one transaction, all or nothing.
 *
 * The whole batch is one writer job: the writer runs it inside a single
 * savepoint, so a failing sub-request rolls every earlier one back and
 * nothing of the batch is committed. Passwords of auth records are hashed
 * on the thread pool before the job is queued (one after the other), as
 * for single writes. Sub-request headers other than Authorization are not
 * used yet (they only feed @request.headers, which arrives with the auth
 * issue). settings.batch.timeout is not enforced: a batch is bounded by
 * maxRequests and the body limit instead.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/common.h"

typedef struct sub {
	hr_str method;
	hr_str coll, id;
	hr_str query;	/* after '?' */
	hr_body body;
	hr_str hash;	/* password hash when needed */
	bool upsert;
} sub;

typedef struct batch {
	sub *subs;
	unsigned n;
	unsigned next_hash; /* hashing progress */
} batch;

/* /api/collections/{c}/records[/{id}][?query] */
static bool parse_url(hr_arena *a, hr_str url, sub *s)
{
	const char *q = memchr(url.ptr, '?', url.len);
	hr_str path = q ? hr_str_make(url.ptr, (size_t)(q - url.ptr)) : url;
	s->query = q ? hr_str_make(q + 1, url.len - path.len - 1) : HR_STR("");
	static const char pre[] = "/api/collections/";
	if (!hr_str_istarts(path, HR_STR(pre)))
		return false;
	hr_str rest = hr_str_make(path.ptr + sizeof pre - 1, path.len - (sizeof pre - 1));
	const char *slash = memchr(rest.ptr, '/', rest.len);
	if (!slash)
		return false;
	hr_str coll = hr_str_make(rest.ptr, (size_t)(slash - rest.ptr));
	rest = hr_str_make(slash + 1, rest.len - coll.len - 1);
	if (!hr_str_istarts(rest, HR_STR("records")))
		return false;
	rest = hr_str_make(rest.ptr + 7, rest.len - 7);
	hr_str id = HR_STR("");
	if (rest.len) {
		if (rest.ptr[0] != '/' || rest.len == 1 || memchr(rest.ptr + 1, '/', rest.len - 1))
			return false;
		id = hr_str_make(rest.ptr + 1, rest.len - 1);
	}
	char *cd = hr_arena_alloc(a, coll.len + 1), *idd = hr_arena_alloc(a, id.len + 1);
	if (!cd || !idd)
		return false;
	long cl = hr_str_pct_decode(coll, cd, false), il = hr_str_pct_decode(id, idd, false);
	if (cl <= 0 || il < 0)
		return false;
	s->coll = hr_str_make(cd, (size_t)cl);
	s->id = hr_str_make(idd, (size_t)il);
	return true;
}

/* Reads one query parameter from a sub-request's query string. */
static hr_str query_param(hr_arena *a, hr_str q, const char *name)
{
	size_t nl = strlen(name), i = 0;
	while (i < q.len) {
		size_t s = i;
		while (i < q.len && q.ptr[i] != '&')
			i++;
		hr_str pair = hr_str_make(q.ptr + s, i - s);
		i++;
		const char *eq = memchr(pair.ptr, '=', pair.len);
		hr_str k = eq ? hr_str_make(pair.ptr, (size_t)(eq - pair.ptr)) : pair;
		if (k.len != nl || memcmp(k.ptr, name, nl) != 0)
			continue;
		hr_str v = eq ? hr_str_make(eq + 1, pair.len - k.len - 1) : HR_STR("");
		char *d = hr_arena_alloc(a, v.len + 1);
		long dl = d ? hr_str_pct_decode(v, d, true) : -1;
		return dl >= 0 ? hr_str_make(d, (size_t)dl) : HR_STR("");
	}
	return HR_STR("");
}

static int run_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	batch *b = j->ud;
	api_req *r = j->r;
	hr_rule_req rq = api_job_rq(j, schema);
	rq.context = HR_STR("batch");
	hr_buf_append_char(&j->out, '[');
	for (unsigned i = 0; i < b->n; i++) {
		sub *s = &b->subs[i];
		api_req rr = *r;
		rr.rq = rq;
		rr.expand = query_param(r->a, s->query, "expand");
		rr.fields = NULL;
		hr_str fields = query_param(r->a, s->query, "fields");
		hr_fields *fs = NULL;
		const char *why;
		if (fields.len && hr_fields_parse(r->a, fields, &fs, &why) == 0)
			rr.fields = fs;
		hr_buf out;
		hr_buf_init(&out, 0);
		hr_rerr err;
		hr_rerr_init(&err, r->a);
		int status = 200;
		char method[8];
		snprintf(method, sizeof method, "%.*s", (int)HR_MIN(s->method.len, 7u), s->method.ptr);
		int rc;
		if (hr_str_eq_lit(s->method, "PUT")) {
			/* upsert: update when body.id names an existing record */
			hr_json *idj = hr_json_get(s->body.obj, "id");
			const hr_collection *c = hr_schema_find(schema, s->coll);
			bool exists = false;
			if (c && idj && idj->type == HR_JSON_STRING) {
				hr_rctx x;
				api_rctx(&rr, db, &x);
				x.schema = schema;
				hr_json *tmp;
				exists = hr_records_load(&x, c, idj->u.str, &tmp) == 0;
			}
			rc = api_records_action(&rr, db, schema, exists ? "PATCH" : "POST", s->coll,
						exists ? idj->u.str : HR_STR(""), &s->body, s->hash, &out, &err,
						&status);
		} else if ((hr_str_eq_lit(s->method, "POST") && s->id.len == 0) ||
			   ((hr_str_eq_lit(s->method, "PATCH") || hr_str_eq_lit(s->method, "DELETE")) &&
			    s->id.len)) {
			rc = api_records_action(&rr, db, schema, method, s->coll, s->id, &s->body, s->hash,
						&out, &err, &status);
		} else {
			err.status = 400;
			err.message = "Unsupported batch action.";
			rc = HR_EPARSE;
		}
		if (rc != 0) {
			/* The failure shape of §10: the index, its code and its response. */
			int st = err.status ? err.status : 500;
			hr_buf resp;
			hr_buf_init(&resp, 0);
			hr_buf_append_cstr(&resp, "{\"data\":");
			if (st >= 500)
				hr_buf_append_cstr(&resp, "{}");
			else
				hr_verrs_write(&err.data, &resp);
			hr_buf_append_cstr(&resp, ",\"message\":");
			hr_json_write_string(&resp, hr_str_make(err.message ? err.message : "Something went wrong while processing your request.",
								strlen(err.message ? err.message : "Something went wrong while processing your request.")));
			hr_buf_printf(&resp, ",\"status\":%d}", st);
			hr_buf item;
			hr_buf_init(&item, 0);
			hr_buf_append_cstr(&item, "{\"code\":\"batch_request_failed\",\"message\":\"Batch request failed.\",\"response\":");
			hr_buf_append_str(&item, hr_str_make(resp.ptr ? resp.ptr : "{}", resp.len));
			hr_buf_append_char(&item, '}');
			hr_rerr_init(&j->err, r->a);
			j->err.status = 400;
			j->err.message = "Batch transaction failed.";
			char *path = hr_arena_printf(r->a, "requests.%u", i);
			hr_verrs_add_raw(&j->err.data, hr_str_make(path, strlen(path)),
					 hr_str_make(item.ptr ? item.ptr : "{}", item.len));
			hr_buf_dispose(&resp);
			hr_buf_dispose(&item);
			hr_buf_dispose(&out);
			return HR_EPARSE;
		}
		if (i)
			hr_buf_append_char(&j->out, ',');
		hr_buf_append_cstr(&j->out, "{\"body\":");
		if (status == 204 || out.len == 0) {
			hr_buf_append_cstr(&j->out, "null");
		} else if (rr.fields) {
			hr_json *pj;
			hr_json_error je;
			if (hr_json_parse(r->a, out.ptr, out.len, HR_JSON_DEPTH, &pj, &je) == 0)
				hr_fields_apply(r->a, rr.fields, pj, &j->out);
			else
				hr_buf_append_str(&j->out, hr_str_make(out.ptr, out.len));
		} else {
			hr_buf_append_str(&j->out, hr_str_make(out.ptr, out.len));
		}
		hr_buf_printf(&j->out, ",\"status\":%d}", status);
		hr_buf_dispose(&out);
	}
	hr_buf_append_char(&j->out, ']');
	return 0;
}

static void hash_next(api_req *r, hr_str hash, void *ud);

/* Hashes the next sub-request password, or queues the job when done. */
static void continue_batch(api_job *j)
{
	batch *b = j->ud;
	api_req *r = j->r;
	while (b->next_hash < b->n) {
		sub *s = &b->subs[b->next_hash];
		const hr_collection *c = hr_schema_find(r->schema, s->coll);
		hr_json *pw = c && c->type == HR_COLL_AUTH ? hr_json_get(s->body.obj, "password") : NULL;
		if (pw && pw->type == HR_JSON_STRING && pw->u.str.len > 0 && pw->u.str.len <= 255 &&
		    !hr_str_eq_lit(s->method, "DELETE")) {
			api_hash_password(r, pw->u.str, hash_next, j);
			return;
		}
		b->next_hash++;
	}
	api_job_submit(j);
}

static void hash_next(api_req *r, hr_str hash, void *ud)
{
	api_job *j = ud;
	batch *b = j->ud;
	if (hash.len == 0) {
		api_error(r, 500, NULL);
		return;
	}
	b->subs[b->next_hash++].hash = hash;
	continue_batch(j);
}

static void handler(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_json *set = api_settings(r);
	hr_json *bs = set ? hr_json_get(set, "batch") : NULL;
	hr_json *en = bs ? hr_json_get(bs, "enabled") : NULL;
	hr_json *mr = bs ? hr_json_get(bs, "maxRequests") : NULL;
	double max = mr && mr->type == HR_JSON_NUMBER ? mr->u.n.num : 0;
	if (!en || en->type != HR_JSON_TRUE || max <= 0) {
		api_error(r, 403, "Batch requests are not allowed.");
		return;
	}
	hr_body body;
	if (!api_body(r, &body, "Failed to read the submitted batch data."))
		return;
	hr_json *reqs = hr_json_get(body.obj, "requests");
	hr_rerr err;
	hr_rerr_init(&err, r->a);
	if (reqs && reqs->type != HR_JSON_ARRAY) {
		api_error(r, 400, "Failed to read the submitted batch data.");
		return;
	}
	if (!reqs || reqs->u.arr.len == 0) {
		hr_verrs_add(&err.data, HR_STR("requests"), "validation_required", "Cannot be blank.", NULL);
	} else if ((double)reqs->u.arr.len > max) {
		hr_verrs_add(&err.data, HR_STR("requests"), "validation_length_too_long",
			     hr_arena_printf(r->a, "The length must be no more than %d.", (int)max), NULL);
	}
	batch *b = hr_arena_alloc(r->a, sizeof *b);
	size_t n = reqs && reqs->type == HR_JSON_ARRAY ? reqs->u.arr.len : 0;
	if (!b || !(b->subs = hr_arena_alloc(r->a, (n + 1) * sizeof *b->subs))) {
		api_error(r, 500, NULL);
		return;
	}
	b->n = (unsigned)n;
	b->next_hash = 0;
	for (size_t i = 0; i < n && err.data.n == 0; i++) {
		hr_json *it = reqs->u.arr.items[i];
		sub *s = &b->subs[i];
		memset(s, 0, sizeof *s);
		char *p = hr_arena_printf(r->a, "requests.%zu", i);
		hr_str pre = hr_str_make(p, strlen(p));
		if (it->type != HR_JSON_OBJECT) {
			api_error(r, 400, "Failed to read the submitted batch data.");
			return;
		}
		hr_json *m = hr_json_get(it, "method"), *u = hr_json_get(it, "url");
		hr_json *bd = hr_json_get(it, "body");
		if ((m && m->type != HR_JSON_STRING) || (u && u->type != HR_JSON_STRING) ||
		    (bd && bd->type != HR_JSON_OBJECT && bd->type != HR_JSON_NULL)) {
			api_error(r, 400, "Failed to read the submitted batch data.");
			return;
		}
		if (!m || m->u.str.len == 0)
			hr_verrs_addf(&err.data, pre, HR_STR("method"), "validation_required", "Cannot be blank.", NULL);
		else if (!hr_str_eq_lit(m->u.str, "GET") && !hr_str_eq_lit(m->u.str, "POST") &&
			 !hr_str_eq_lit(m->u.str, "PUT") && !hr_str_eq_lit(m->u.str, "PATCH") &&
			 !hr_str_eq_lit(m->u.str, "DELETE"))
			hr_verrs_addf(&err.data, pre, HR_STR("method"), "validation_in_invalid", "Must be a valid value.", NULL);
		if (!u || u->u.str.len == 0)
			hr_verrs_addf(&err.data, pre, HR_STR("url"), "validation_required", "Cannot be blank.", NULL);
		else if (u->u.str.len > 2000)
			hr_verrs_addf(&err.data, pre, HR_STR("url"), "validation_length_too_long",
				      "The length must be no more than 2000.", NULL);
		if (err.data.n)
			break;
		s->method = m->u.str;
		if (!parse_url(r->a, u->u.str, s))
			s->method = HR_STR("INVALID"); /* fails at execution, per §10 */
		s->body.obj = bd && bd->type == HR_JSON_OBJECT ? bd : NULL;
		if (!s->body.obj) {
			hr_json *e = hr_arena_alloc(r->a, sizeof *e);
			if (!e) {
				api_error(r, 500, NULL);
				return;
			}
			memset(e, 0, sizeof *e);
			e->type = HR_JSON_OBJECT;
			s->body.obj = e;
		}
	}
	if (err.data.n) {
		err.status = 400;
		err.message = "Invalid batch request data.";
		api_fail(r, &err);
		return;
	}
	/* sub-requests count against their record rules (§18.1) */
	for (size_t i = 0; i < n; i++)
		if (!hr_str_eq_lit(b->subs[i].method, "INVALID") &&
		    !api_guard_batch(r, b->subs[i].method, b->subs[i].coll, b->subs[i].id.len > 0))
			return;
	api_job *j = api_job_new(r, run_fn);
	if (!j) {
		api_error(r, 500, NULL);
		return;
	}
	j->ud = b;
	continue_batch(j);
}

int hr_api_batch_register(hr_api *api, hearth_server *s)
{
	return hearth_route(s, "POST", "/api/batch", handler, api);
}

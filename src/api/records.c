/*
 * api/records.c - the records endpoints (DIALECT.md §8): query parameters
 * and bodies in, hr_records_* out, the dialect's JSON back.
 *
 * Reads (list, view) run on the worker's own connection. Writes (create,
 * update, delete) become writer jobs; when an auth collection's password
 * is being set, the hash is computed on the thread pool first and travels
 * with the job, so the writer never spends time hashing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/common.h"

/* ---- query parameters ------------------------------------------------- */

static bool parse_int(hr_str s, int64_t *out)
{
	if (s.len == 0 || s.len > 18)
		return false;
	size_t i = 0;
	bool neg = s.ptr[0] == '-';
	if (neg || s.ptr[0] == '+')
		i++;
	if (i == s.len)
		return false;
	int64_t v = 0;
	for (; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		v = v * 10 + (s.ptr[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

static int parse_bool(hr_str s)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (hr_str_eq(s, hr_str_make(t[i], strlen(t[i]))))
			return 1;
		if (hr_str_eq(s, hr_str_make(f[i], strlen(f[i]))))
			return 0;
	}
	return -1;
}

static bool list_params(api_req *r, hr_list_params *p)
{
	memset(p, 0, sizeof *p);
	p->page = 1;
	p->per_page = 30;
	hr_str v = api_query(r, "page");
	if (v.len) {
		if (!parse_int(v, &p->page)) {
			api_error(r, 400, "Invalid page parameter.");
			return false;
		}
		if (p->page <= 0)
			p->page = 1;
		if (p->page > 1000000000)
			p->page = 1000000000;
	}
	v = api_query(r, "perPage");
	if (v.len) {
		if (!parse_int(v, &p->per_page)) {
			api_error(r, 400, "Invalid perPage parameter.");
			return false;
		}
		if (p->per_page <= 0)
			p->per_page = 30;
		if (p->per_page > 1000)
			p->per_page = 1000;
	}
	v = api_query(r, "skipTotal");
	if (v.len) {
		int b = parse_bool(v);
		if (b < 0) {
			api_error(r, 400, "Invalid skipTotal parameter.");
			return false;
		}
		p->skip_total = b == 1;
	}
	p->sort = api_query(r, "sort");
	p->filter = api_query(r, "filter");
	return true;
}

/* ---- reads ------------------------------------------------------------ */

static void list(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = api_collection(r);
	if (!c) {
		api_error(r, 404, "Missing collection context.");
		return;
	}
	hr_list_params p;
	if (!list_params(r, &p))
		return;
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	hr_buf out;
	hr_buf_init(&out, 0);
	hr_buf_reserve(&out, 16384); /* one allocation for a typical page */
	hr_rerr err;
	hr_rerr_init(&err, r->a);
	if (hr_records_list(&x, c, &p, &out, &err) != 0)
		api_fail(r, &err);
	else
		api_send(r, 200, &out);
	hr_buf_dispose(&out);
}

static void view(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = api_collection(r);
	if (!c) {
		api_error(r, 404, "Missing collection context.");
		return;
	}
	hearth_str id = hearth_req_param(req, "id");
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	hr_buf out;
	hr_buf_init(&out, 0);
	hr_rerr err;
	hr_rerr_init(&err, r->a);
	if (hr_records_view(&x, c, hr_str_make(id.ptr, id.len), &out, &err) != 0)
		api_fail(r, &err);
	else
		api_send(r, 200, &out);
	hr_buf_dispose(&out);
}

/* ---- writes ----------------------------------------------------------- */

int api_records_action(api_req *r, hr_db *db, const hr_schema *schema, const char *method,
		       hr_str coll, hr_str id, const hr_body *body, hr_str password_hash, hr_buf *out,
		       hr_rerr *err, int *status)
{
	hr_rctx x;
	api_rctx(r, db, &x);
	x.schema = schema;
	x.password_hash = password_hash;
	x.old_password_ok = r->old_password_ok;
	const hr_collection *c = hr_schema_find(schema, coll);
	bool del = strcmp(method, "DELETE") == 0;
	if (!c) {
		err->status = 404;
		err->message = del ? "Missing collection context." : "Missing or invalid collection context.";
		return HR_EPARSE;
	}
	*status = 200;
	if (strcmp(method, "POST") == 0)
		return hr_records_create(&x, c, body->obj, out, err);
	if (strcmp(method, "PATCH") == 0)
		return hr_records_update(&x, c, id, body->obj, out, err);
	if (del) {
		*status = 204;
		return hr_records_delete(&x, c, id, err);
	}
	err->status = 400;
	return HR_EPARSE;
}

static int write_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	hr_rule_req rq = api_job_rq(j, schema);
	api_req rr = *j->r;
	rr.rq = rq;
	const char *method = j->ud;
	return api_records_action(&rr, db, schema, method, j->coll, j->id, &j->body,
				  j->password_hash, &j->out, &j->err, &j->status);
}

static void submit_write(api_req *r, const char *method, const hr_body *body, hr_str hash)
{
	api_job *j = api_job_new(r, write_fn);
	if (!j) {
		api_error(r, 500, NULL);
		return;
	}
	hearth_str c = hearth_req_param(r->req, "collection");
	hearth_str id = hearth_req_param(r->req, "id");
	j->coll = hr_str_make(c.ptr, c.len);
	j->id = id.ptr ? hr_str_make(id.ptr, id.len) : HR_STR("");
	if (body)
		j->body = *body;
	j->password_hash = hash;
	j->ud = (void *)(uintptr_t)method;
	api_job_submit(j);
}

typedef struct pending_write {
	const char *method;
	hr_body body;
} pending_write;

static void after_hash(api_req *r, hr_str hash, void *ud)
{
	pending_write *p = ud;
	if (hash.len == 0) {
		api_error(r, 500, NULL);
		return;
	}
	submit_write(r, p->method, &p->body, hash);
}

static void write_with_password(api_req *r, pending_write *p)
{
	hr_json *pw = hr_json_get(p->body.obj, "password");
	if (pw && pw->type == HR_JSON_STRING && pw->u.str.len > 0 && pw->u.str.len <= 255) {
		api_hash_password(r, pw->u.str, after_hash, p);
		return;
	}
	submit_write(r, p->method, &p->body, HR_STR(""));
}

static void after_verify(api_req *r, bool ok, void *ud)
{
	r->old_password_ok = ok;
	write_with_password(r, ud);
}

static void create_or_update(hearth_req *req, void *ud, const char *method)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = api_collection(r);
	if (!c) {
		api_error(r, 404, "Missing or invalid collection context.");
		return;
	}
	hr_body body;
	if (!api_body(r, &body, NULL))
		return;
	if (c->type != HR_COLL_AUTH) {
		submit_write(r, method, &body, HR_STR(""));
		return;
	}
	pending_write *p = hr_arena_alloc(r->a, sizeof *p);
	if (!p) {
		api_error(r, 500, NULL);
		return;
	}
	p->method = method;
	p->body = body;
	/* an owner's password change: oldPassword is checked off the loop too */
	hr_json *old = hr_json_get(body.obj, "oldPassword");
	hearth_str id = hearth_req_param(req, "id");
	if (strcmp(method, "PATCH") == 0 && old && old->type == HR_JSON_STRING && old->u.str.len &&
	    old->u.str.len <= 255 && id.ptr) {
		hr_rctx x;
		api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
		hr_json *rec = NULL;
		hr_json *h = NULL;
		if (hr_records_load(&x, c, hr_str_make(id.ptr, id.len), &rec) == 0)
			h = hr_json_get(rec, "password");
		api_verify_password(r, h && h->type == HR_JSON_STRING ? h->u.str : HR_STR(""),
				    old->u.str, after_verify, p);
		return;
	}
	write_with_password(r, p);
}

static void create(hearth_req *req, void *ud)
{
	create_or_update(req, ud, "POST");
}

static void update(hearth_req *req, void *ud)
{
	create_or_update(req, ud, "PATCH");
}

static void del(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	if (!api_collection(r)) {
		api_error(r, 404, "Missing collection context.");
		return;
	}
	submit_write(r, "DELETE", NULL, HR_STR(""));
}

int hr_api_records_register(hr_api *api, hearth_server *s)
{
	int rc;
	if ((rc = hearth_route(s, "GET", "/api/collections/{collection}/records", list, api)) ||
	    (rc = hearth_route(s, "POST", "/api/collections/{collection}/records", create, api)) ||
	    (rc = hearth_route(s, "GET", "/api/collections/{collection}/records/{id}", view, api)) ||
	    (rc = hearth_route(s, "PATCH", "/api/collections/{collection}/records/{id}", update, api)) ||
	    (rc = hearth_route(s, "DELETE", "/api/collections/{collection}/records/{id}", del, api)))
		return rc;
	return 0;
}

/*
 * api/auth.c - auth endpoints of the dialect (DIALECT.md §12.1-§12.3) -
 * auth-methods, auth-with-password, auth-refresh - plus token minting and
 * the superuser command-line helpers (§13), and the hearth-specific cookie
 * session (POST/DELETE .../auth-session: the same login as
 * auth-with-password, answered with an HttpOnly cookie instead of a token
 * in the body; guard.c documents the cookie and its CSRF check). The
 * mail-driven flows and impersonation (§12.5-§12.9) are in flows.c,
 * registered from here. Password endpoints report failed attempts to the
 * auth guard (guard.c).
 *
 * auth-with-password looks the record up on the worker's connection, then
 * verifies the password on the thread pool; a missing record still costs
 * one full argon2id verification (hr_password_dummy_verify), so neither
 * the answer nor its timing tells whether the identity exists. argon2id
 * runs at once are bounded process-wide (api_hash_slot_take, one per
 * worker up to HR_MAX_HASHES_AT_ONCE), which bounds the memory a login
 * storm can hold; a request over the bound waits on its pool thread, and
 * the event loops never wait at all.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "auth/token.h"
#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

static int64_t token_duration(const hr_collection *c)
{
	hr_json *t = api_coll_opt(c, "authToken");
	hr_json *d = t ? hr_json_get(t, "duration") : NULL;
	return d && d->type == HR_JSON_NUMBER && d->u.n.num > 0 ? (int64_t)d->u.n.num : 604800;
}

int api_auth_token(hr_arena *a, const hr_collection *c, const hr_json *rec, bool refreshable,
		   int64_t duration, hr_buf *out)
{
	hr_json *id = hr_json_get(rec, "id"), *tk = hr_json_get(rec, "tokenKey");
	hr_json *t = api_coll_opt(c, "authToken");
	hr_json *sec = t ? hr_json_get(t, "secret") : NULL;
	if (!id || id->type != HR_JSON_STRING || !tk || tk->type != HR_JSON_STRING || !sec ||
	    sec->type != HR_JSON_STRING)
		return HR_EINVAL;
	if (duration <= 0)
		duration = token_duration(c);
	hr_buf p;
	hr_buf_init(&p, 4096);
	hr_buf_append_cstr(&p, "{\"collectionId\":");
	hr_json_write_string(&p, c->id);
	hr_buf_printf(&p, ",\"exp\":%lld,\"id\":", (long long)(hr_time_now_ms() / 1000 + duration));
	hr_json_write_string(&p, id->u.str);
	hr_buf_printf(&p, ",\"refreshable\":%s,\"type\":\"auth\"}", refreshable ? "true" : "false");
	int rc = p.err;
	if (rc == 0)
		rc = hr_token_sign(out, hr_str_make(p.ptr, p.len), hr_token_key(a, tk->u.str, sec->u.str));
	hr_buf_dispose(&p);
	return rc;
}

static const hr_collection *auth_collection(api_req *r)
{
	const hr_collection *c = api_collection(r);
	if (!c || c->type != HR_COLL_AUTH) {
		api_error(r, 404, "Missing or invalid auth collection context.");
		return NULL;
	}
	return c;
}

/* The auth response: {"record":{...},"token":"..."} (§12); without
 * "token" when token.ptr is NULL (cookie sessions). */
static void send_auth(api_req *r, const hr_collection *c, const hr_json *rec, hr_str token)
{
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	/* the authenticated record sees itself */
	hr_rule_req rq = r->rq;
	hr_json *id = hr_json_get(rec, "id");
	rq.auth_coll = c;
	rq.auth_id = id && id->type == HR_JSON_STRING ? id->u.str : HR_STR("");
	rq.superuser = hr_str_eq_lit(c->id, HR_SUPERUSERS_ID);
	x.rq = &rq;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"record\":");
	hr_records_write_loaded(&x, c, rec, true, &b);
	if (token.ptr) {
		hr_buf_append_cstr(&b, ",\"token\":");
		hr_json_write_string(&b, token);
	}
	hr_buf_append_char(&b, '}');
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

/* Does the record satisfy the collection's authRule (§7.6)? */
static bool auth_rule_ok(api_req *r, const hr_collection *c, hr_str id)
{
	if (!c->rule_set[HR_RULE_AUTH])
		return hr_str_eq_lit(c->id, HR_SUPERUSERS_ID);
	if (c->rules[HR_RULE_AUTH].len == 0)
		return true;
	return api_record_rule_ok(r, c, id, c->rules[HR_RULE_AUTH]);
}

bool api_record_rule_ok(api_req *r, const hr_collection *c, hr_str id, hr_str rule)
{
	hr_rule_req rq = r->rq;
	rq.auth_coll = c;
	rq.auth_id = id;
	rq.superuser = false;
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, r->a, r->schema, &rq, false);
	hr_buf where, sql;
	hr_buf_init(&where, 1u << 20);
	hr_buf_init(&sql, 2u << 20);
	bool ok = false;
	hr_buf_append_cstr(&where, "r.\"id\" = ");
	hr_sql_param_text(&sx, &where, id);
	hr_buf_append_cstr(&where, " AND ");
	if (hr_sql_where_text(&sx, c, HR_STR("r"), rule, &where) == 0) {
		hr_buf_printf(&sql, "SELECT 1 FROM \"%.*s\" r%.*s WHERE %.*s LIMIT 1", (int)c->name.len,
			      c->name.ptr, (int)sx.joins.len, sx.joins.ptr ? sx.joins.ptr : "",
			      (int)where.len, where.ptr);
		hr_db_stmt *st;
		if (!sql.err &&
		    hr_db_prepare(hr_store_reader(r->api->store, r->w), hr_str_make(sql.ptr, sql.len), &st,
				  NULL) == 0) {
			hr_sql_bind(&sx, st);
			ok = hr_db_step(st, NULL) == HR_DB_ROW;
			hr_db_release(st);
		}
	}
	hr_buf_dispose(&where);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&sx);
	return ok;
}

/* ---- auth-methods ----------------------------------------------------- */

static void auth_methods(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = auth_collection(r);
	if (!c)
		return;
	hr_json *pa = api_coll_opt(c, "passwordAuth");
	hr_json *en = pa ? hr_json_get(pa, "enabled") : NULL;
	bool enabled = !en || en->type == HR_JSON_TRUE;
	hr_json *ids = pa ? hr_json_get(pa, "identityFields") : NULL;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"password\":{\"identityFields\":");
	if (enabled && ids && ids->type == HR_JSON_ARRAY)
		hr_json_write(&b, ids);
	else
		hr_buf_append_cstr(&b, enabled ? "[\"email\"]" : "[]");
	hr_buf_printf(&b, ",\"enabled\":%s},", enabled ? "true" : "false");
	hr_buf_append_cstr(&b, "\"oauth2\":{\"providers\":[],\"enabled\":false},");
	hr_json *mfa = api_coll_opt(c, "mfa");
	hr_json *md = mfa ? hr_json_get(mfa, "duration") : NULL;
	if (api_mfa_enabled(c))
		hr_buf_printf(&b, "\"mfa\":{\"enabled\":true,\"duration\":%lld},",
			      md && md->type == HR_JSON_NUMBER ? (long long)md->u.n.num : 600LL);
	else
		hr_buf_append_cstr(&b, "\"mfa\":{\"enabled\":false,\"duration\":0},");
	hr_json *otp = api_coll_opt(c, "otp");
	hr_json *oe = otp ? hr_json_get(otp, "enabled") : NULL;
	hr_json *od = otp ? hr_json_get(otp, "duration") : NULL;
	if (oe && oe->type == HR_JSON_TRUE && od && od->type == HR_JSON_NUMBER)
		hr_buf_printf(&b, "\"otp\":{\"enabled\":true,\"duration\":%lld},", (long long)od->u.n.num);
	else
		hr_buf_append_cstr(&b, "\"otp\":{\"enabled\":false,\"duration\":0},");
	hr_buf_append_cstr(&b, "\"authProviders\":null,\"usernamePassword\":false,");
	hr_buf_printf(&b, "\"emailPassword\":%s}", enabled ? "true" : "false");
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

/* ---- auth-with-password ----------------------------------------------- */

typedef struct login {
	api_req *r;
	const hr_collection *c;
	hr_json *rec;	  /* NULL: no such identity */
	char *pw;
	size_t pwlen;
	char hash[HR_PASSWORD_HASH_MAX];
	bool ok;
	bool session;	  /* auth-session: answer with the cookie */
	hr_str identity;  /* for the auth guard's failure count */
	hr_str mfa_id;	  /* a second factor's MFA session (§12.4) */
} login;

static void login_work(void *ud)
{
	login *l = ud;
	api_hash_slot_take(l->r->api);
	if (l->rec)
		l->ok = hr_password_verify(l->hash, l->pw, l->pwlen);
	else
		l->ok = hr_password_dummy_verify(l->pw, l->pwlen, &l->r->api->pw);
	api_hash_slot_give(l->r->api);
	sodium_memzero(l->pw, l->pwlen);
}

static void login_finish(api_req *r, void *ud);

static void login_done(hearth_req *req, void *ud)
{
	(void)req;
	login *l = ud;
	api_req *r = l->r;
	atomic_fetch_sub(&r->api->hashing, 1);
	if (!l->ok || !l->rec) {
		api_guard_failed(r, l->identity);
		api_error(r, 400, "Failed to authenticate.");
		return;
	}
	hr_json *id = hr_json_get(l->rec, "id");
	if (!auth_rule_ok(r, l->c, id->u.str)) {
		api_error(r, 403, "The request doesn't satisfy the collection requirements to authenticate.");
		return;
	}
	api_mfa_gate(r, l->c, l->rec, "password", l->mfa_id, login_finish, l);
}

/* The password (and any other factor) checked out: token and answer. */
static void login_finish(api_req *r, void *ud)
{
	login *l = ud;
	hr_buf tok;
	hr_buf_init(&tok, 16384);
	if (api_auth_token(r->a, l->c, l->rec, true, 0, &tok) != 0) {
		hr_buf_dispose(&tok);
		api_error(r, 500, NULL);
		return;
	}
	if (l->session) {
		api_session_cookie(r, hr_str_make(tok.ptr, tok.len), token_duration(l->c));
		send_auth(r, l->c, l->rec, HR_STR_NULL);
	} else {
		send_auth(r, l->c, l->rec, hr_str_make(tok.ptr, tok.len));
	}
	hr_buf_dispose(&tok);
}

static bool form_string(const hr_json *o, const char *key, hr_str *out, bool *bad)
{
	hr_json *v = hr_json_get(o, key);
	if (!v) {
		*out = HR_STR("");
		return false;
	}
	if (v->type != HR_JSON_STRING) {
		*bad = true;
		return false;
	}
	*out = v->u.str;
	return true;
}

static void password_login(hearth_req *req, void *ud, bool session)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = auth_collection(r);
	if (!c)
		return;
	hr_json *pa = api_coll_opt(c, "passwordAuth");
	hr_json *en = pa ? hr_json_get(pa, "enabled") : NULL;
	if (en && en->type == HR_JSON_FALSE) {
		api_error(r, 403, "The collection is not configured to allow password authentication.");
		return;
	}
	hr_body body;
	if (!api_body(r, &body, "An error occurred while loading the submitted data."))
		return;
	hr_str identity, password, field;
	bool bad = false;
	form_string(body.obj, "identity", &identity, &bad);
	form_string(body.obj, "password", &password, &bad);
	bool has_field = form_string(body.obj, "identityField", &field, &bad);
	if (bad) {
		api_error(r, 400, "An error occurred while loading the submitted data.");
		return;
	}
	hr_rerr err;
	hr_rerr_init(&err, r->a);
	if (identity.len == 0)
		hr_verrs_add(&err.data, HR_STR("identity"), "validation_required", "Cannot be blank.", NULL);
	else if (identity.len > 255)
		hr_verrs_add(&err.data, HR_STR("identity"), "validation_length_out_of_range",
			     "The length must be between 1 and 255.", NULL);
	if (password.len == 0)
		hr_verrs_add(&err.data, HR_STR("password"), "validation_required", "Cannot be blank.", NULL);
	else if (password.len > 255)
		hr_verrs_add(&err.data, HR_STR("password"), "validation_length_out_of_range",
			     "The length must be between 1 and 255.", NULL);
	hr_json *ids = pa ? hr_json_get(pa, "identityFields") : NULL;
	if (has_field && field.len) {
		bool ok = false;
		for (size_t i = 0; ids && ids->type == HR_JSON_ARRAY && i < ids->u.arr.len; i++)
			if (ids->u.arr.items[i]->type == HR_JSON_STRING &&
			    hr_str_eq(ids->u.arr.items[i]->u.str, field))
				ok = true;
		if (!ok)
			hr_verrs_add(&err.data, HR_STR("identityField"), "validation_in_invalid",
				     "Must be a valid value.", NULL);
	}
	if (err.data.n) {
		err.status = 400;
		err.message = "An error occurred while validating the submitted data.";
		api_fail(r, &err);
		return;
	}
	if (!api_guard_identity(r, identity))
		return;
	/* lookup: the given identity field, else each one (email only if e-mail shaped) */
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	hr_json *rec = NULL;
	if (has_field && field.len) {
		hr_records_find_by(&x, c, field, identity, &rec);
	} else {
		size_t n = ids && ids->type == HR_JSON_ARRAY ? ids->u.arr.len : 0;
		for (size_t i = 0; i < n && !rec; i++) {
			hr_json *f = ids->u.arr.items[i];
			if (f->type != HR_JSON_STRING)
				continue;
			if (hr_str_eq_lit(f->u.str, "email") && !hr_is_email(identity))
				continue;
			hr_records_find_by(&x, c, f->u.str, identity, &rec);
		}
		if (n == 0 && hr_is_email(identity))
			hr_records_find_by(&x, c, HR_STR("email"), identity, &rec);
	}
	login *l = hr_arena_alloc(r->a, sizeof *l);
	if (!l) {
		api_error(r, 500, NULL);
		return;
	}
	memset(l, 0, sizeof *l);
	l->r = r;
	l->c = c;
	l->rec = rec;
	l->pw = hr_arena_dup(r->a, password.ptr, password.len);
	l->pwlen = password.len;
	l->session = session;
	l->identity = identity;
	l->mfa_id = api_mfa_id(r, body.obj);
	if (rec) {
		hr_json *h = hr_json_get(rec, "password");
		if (h && h->type == HR_JSON_STRING && h->u.str.len < sizeof l->hash)
			memcpy(l->hash, h->u.str.ptr, h->u.str.len);
		else
			l->rec = NULL;
	}
	atomic_fetch_add(&r->api->hashing, 1);
	if (!l->pw || hearth_req_offload(req, login_work, login_done, l) != 0) {
		atomic_fetch_sub(&r->api->hashing, 1);
		api_error(r, 500, NULL);
	}
}

static void auth_with_password(hearth_req *req, void *ud)
{
	password_login(req, ud, false);
}

/* ---- cookie sessions (hearth; guard.c) -------------------------------- */

static void session_login(hearth_req *req, void *ud)
{
	password_login(req, ud, true);
}

static void session_logout(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r || !auth_collection(r))
		return;
	api_session_cookie(r, HR_STR(""), 0);
	hearth_resp_send(req, 204, NULL, NULL, 0);
}

/* ---- auth-refresh ----------------------------------------------------- */

static void auth_refresh(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r)
		return;
	const hr_collection *c = auth_collection(r);
	if (!c)
		return;
	if (!api_require_record_of(r, c))
		return;
	if (!auth_rule_ok(r, c, r->rq.auth_id)) {
		api_error(r, 403, "The request doesn't satisfy the collection requirements to authenticate.");
		return;
	}
	/* refreshable tokens get a new one; others are echoed (§12.3) */
	hr_str tok = r->token;
	hr_json *claims;
	hr_token_claims cl = {0};
	if (hr_token_decode(r->a, tok, &claims) == 0)
		hr_token_claims_read(claims, hr_time_now_ms() / 1000, &cl);
	hr_buf out;
	hr_buf_init(&out, 16384);
	if (cl.refreshable) {
		if (api_auth_token(r->a, c, r->rq.auth_record, true, 0, &out) != 0) {
			hr_buf_dispose(&out);
			api_error(r, 500, NULL);
			return;
		}
	} else {
		hr_buf_append_str(&out, tok);
	}
	send_auth(r, c, r->rq.auth_record, hr_str_make(out.ptr, out.len));
	hr_buf_dispose(&out);
}

int hr_api_auth_register(hr_api *api, hearth_server *s)
{
	int rc;
	if ((rc = hearth_route(s, "GET", "/api/collections/{collection}/auth-methods", auth_methods, api)) ||
	    (rc = hearth_route(s, "POST", "/api/collections/{collection}/auth-with-password",
			       auth_with_password, api)) ||
	    (rc = hearth_route(s, "POST", "/api/collections/{collection}/auth-refresh", auth_refresh, api)) ||
	    (rc = hearth_route(s, "POST", "/api/collections/{collection}/auth-session", session_login, api)) ||
	    (rc = hearth_route(s, "DELETE", "/api/collections/{collection}/auth-session", session_logout,
			       api)))
		return rc;
	return hr_api_flows_register(api, s);
}

void api_auth_send(api_req *r, const hr_collection *c, const hr_json *rec, hr_str token)
{
	send_auth(r, c, rec, token);
}

bool api_auth_rule_ok(api_req *r, const hr_collection *c, hr_str id)
{
	return auth_rule_ok(r, c, id);
}

/* ---- superusers from the command line --------------------------------- */

typedef struct upsert {
	const char *email, *hash;
	int found;
	char *err;
	size_t errn;
} upsert;

static int count_fn(hr_db *db, void *ud)
{
	int *n = ud;
	hr_db_stmt *st;
	*n = 0;
	if (hr_db_prepare(db, HR_STR("SELECT COUNT(*) FROM \"_superusers\""), &st, NULL) != 0)
		return -1;
	if (hr_db_step(st, NULL) == HR_DB_ROW)
		*n = (int)hr_db_column_int64(st, 0);
	hr_db_release(st);
	return 0;
}

int hr_api_superuser_count(hr_api *api)
{
	int n = 0;
	hr_store_write_sync(api->store, count_fn, &n);
	return n;
}

static int upsert_fn(hr_db *db, void *ud)
{
	upsert *u = ud;
	char now[HR_TIME_LEN + 1], id[16], tk[51];
	static const char a62[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	hr_time_format(hr_time_now_ms(), now);
	hr_rand_id(id);
	hr_rand_string(tk, 50, a62, sizeof a62 - 1);
	tk[50] = '\0';
	hr_db_error e = {0};
	int rc = hr_db_begin(db, true, &e);
	if (rc)
		goto out;
	hr_db_stmt *st;
	rc = hr_db_prepare(db,
			   HR_STR("UPDATE \"_superusers\" SET \"password\" = ?1, \"tokenKey\" = ?2, "
				  "\"updated\" = ?3 WHERE \"email\" = ?4"),
			   &st, &e);
	if (rc)
		goto rollback;
	hr_db_bind_text(st, 1, hr_str_make(u->hash, strlen(u->hash)));
	hr_db_bind_text(st, 2, hr_str_make(tk, 50));
	hr_db_bind_text(st, 3, hr_str_make(now, HR_TIME_LEN));
	hr_db_bind_text(st, 4, hr_str_make(u->email, strlen(u->email)));
	rc = hr_db_step(st, &e);
	hr_db_release(st);
	if (rc < 0)
		goto rollback;
	u->found = hr_db_changes(db) > 0;
	if (!u->found) {
		rc = hr_db_prepare(db,
				   HR_STR("INSERT INTO \"_superusers\" (\"id\", \"password\", \"tokenKey\", "
					  "\"email\", \"emailVisibility\", \"verified\", \"created\", "
					  "\"updated\") VALUES (?1, ?2, ?3, ?4, 0, 1, ?5, ?5)"),
				   &st, &e);
		if (rc)
			goto rollback;
		hr_db_bind_text(st, 1, hr_str_make(id, 15));
		hr_db_bind_text(st, 2, hr_str_make(u->hash, strlen(u->hash)));
		hr_db_bind_text(st, 3, hr_str_make(tk, 50));
		hr_db_bind_text(st, 4, hr_str_make(u->email, strlen(u->email)));
		hr_db_bind_text(st, 5, hr_str_make(now, HR_TIME_LEN));
		rc = hr_db_step(st, &e);
		hr_db_release(st);
		if (rc < 0)
			goto rollback;
	}
	rc = hr_db_commit(db, &e);
	if (rc == 0)
		return 0;
rollback:
	hr_db_rollback(db);
out:
	snprintf(u->err, u->errn, "%s", e.msg[0] ? e.msg : "database error");
	return rc ? rc : -1;
}

int hr_api_superuser_upsert(hr_api *api, const char *email, const char *password, char *errbuf,
			    size_t n)
{
	if (!hr_is_email(hr_str_make(email, strlen(email)))) {
		snprintf(errbuf, n, "'%s' is not a valid e-mail address", email);
		return HR_EINVAL;
	}
	size_t pl = strlen(password);
	if (pl < 8 || pl > 71) {
		snprintf(errbuf, n, "the password must be 8 to 71 characters long");
		return HR_EINVAL;
	}
	char hash[HR_PASSWORD_HASH_MAX];
	if (hr_password_hash(password, pl, &api->pw, hash) != 0) {
		snprintf(errbuf, n, "cannot hash the password");
		return HR_ENOMEM;
	}
	upsert u = {email, hash, 0, errbuf, n};
	int rc = hr_store_write_sync(api->store, upsert_fn, &u);
	if (rc == 0)
		snprintf(errbuf, n, "%s", u.found ? "updated" : "created");
	return rc;
}

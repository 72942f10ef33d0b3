/*
 * api/settings.c - GET/PATCH /api/settings (DIALECT.md §18, §19), for the
 * settings that exist so far: application meta, batch on/off and limits,
 * rate limits, the trusted-proxy configuration and superuser IPs (enforced
 * by guard.c), SMTP (used by api/flows.c; its password is write-only:
 * every response leaves smtp.password out, see write_public), and two
 * hearth additions: authGuard (always-on limits of password, OTP and token
 * endpoints) and authSession.trustedOrigins (origins besides the Host
 * allowed to use the session cookie). The object lives in _params under the
 * id "settings"; a PATCH merges recursively into it (objects merge, other
 * values replace) and bumps the schema generation, so every worker
 * re-reads it on its next request.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/common.h"
#include "core/time.h"

static const char DEFAULTS[] =
	"{\"meta\":{\"appName\":\"hearth\",\"appURL\":\"http://127.0.0.1:8090\","
	"\"senderName\":\"Support\",\"senderAddress\":\"no-reply@example.com\",\"hideControls\":false},"
	"\"logs\":{\"maxDays\":5,\"minLevel\":0,\"logIP\":true,\"logAuthId\":false},"
	"\"smtp\":{\"enabled\":false,\"port\":587,\"host\":\"smtp.example.com\",\"username\":\"\","
	"\"authMethod\":\"\",\"tls\":false,\"localName\":\"\"},"
	"\"backups\":{\"cron\":\"\",\"cronMaxKeep\":3},"
	"\"batch\":{\"enabled\":false,\"maxRequests\":50,\"timeout\":3,\"maxBodySize\":0},"
	"\"rateLimits\":{\"rules\":[{\"label\":\"*:auth\",\"audience\":\"\",\"duration\":3,"
	"\"maxRequests\":2},{\"label\":\"*:create\",\"audience\":\"\",\"duration\":5,\"maxRequests\":20},"
	"{\"label\":\"/api/batch\",\"audience\":\"\",\"duration\":1,\"maxRequests\":3},"
	"{\"label\":\"/api/\",\"audience\":\"\",\"duration\":10,\"maxRequests\":300}],"
	"\"enabled\":false,\"excludedIPs\":[]},"
	"\"trustedProxy\":{\"headers\":[],\"useLeftmostIP\":false},"
	"\"superuserIPs\":[],"
	"\"authGuard\":{\"enabled\":true,\"perIP\":{\"maxRequests\":30,\"duration\":60},"
	"\"perIdentity\":{\"maxRequests\":10,\"duration\":300}},"
	"\"authSession\":{\"trustedOrigins\":[]}}";

/* Recursive merge of patch into base (new tree in a). */
static hr_json *merge(hr_arena *a, const hr_json *base, const hr_json *patch)
{
	if (!base || base->type != HR_JSON_OBJECT || patch->type != HR_JSON_OBJECT)
		return (hr_json *)(uintptr_t)patch;
	hr_json *o = hr_arena_alloc(a, sizeof *o);
	hr_json_member *m = hr_arena_alloc(a, (base->u.obj.len + patch->u.obj.len + 1) * sizeof *m);
	if (!o || !m)
		return NULL;
	size_t n = base->u.obj.len;
	memcpy(m, base->u.obj.members, n * sizeof *m);
	for (size_t i = 0; i < patch->u.obj.len; i++) {
		const hr_json_member *pm = &patch->u.obj.members[i];
		size_t k = 0;
		while (k < n && !hr_str_eq(m[k].key, pm->key))
			k++;
		if (k < n) {
			m[k].value = merge(a, m[k].value, pm->value);
			if (!m[k].value)
				return NULL;
		} else {
			m[n++] = *pm;
		}
	}
	o->type = HR_JSON_OBJECT;
	o->u.obj.members = m;
	o->u.obj.len = n;
	return o;
}

/* Loads the stored settings merged over the defaults into arena a. */
static hr_json *load(hr_arena *a, hr_db *db)
{
	hr_json *def;
	hr_json_error je;
	char *dtxt = hr_arena_dup(a, DEFAULTS, sizeof DEFAULTS - 1);
	if (!dtxt || hr_json_parse(a, dtxt, sizeof DEFAULTS - 1, 64, &def, &je) != 0)
		return NULL;
	hr_db_stmt *st;
	if (hr_db_prepare(db, HR_STR("SELECT value FROM _params WHERE id = 'settings'"), &st, NULL) != 0)
		return def;
	hr_json *out = def;
	if (hr_db_step(st, NULL) == HR_DB_ROW) {
		hr_str v = hr_db_column_text(st, 0);
		char *txt = hr_arena_dup(a, v.ptr, v.len);
		hr_json *stored;
		if (txt && hr_json_parse(a, txt, v.len, 64, &stored, &je) == 0 &&
		    stored->type == HR_JSON_OBJECT)
			out = merge(a, def, stored);
	}
	hr_db_release(st);
	return out ? out : def;
}

/* Copy of obj without member key (shallow, in a); obj itself when absent. */
static const hr_json *without(hr_arena *a, const hr_json *obj, const char *key)
{
	if (!obj || obj->type != HR_JSON_OBJECT || !hr_json_get(obj, key))
		return obj;
	hr_json *o = hr_arena_alloc(a, sizeof *o);
	hr_json_member *m = hr_arena_alloc(a, obj->u.obj.len * sizeof *m);
	if (!o || !m)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < obj->u.obj.len; i++)
		if (!hr_str_eq(obj->u.obj.members[i].key, hr_str_make(key, strlen(key))))
			m[n++] = obj->u.obj.members[i];
	o->type = HR_JSON_OBJECT;
	o->u.obj.members = m;
	o->u.obj.len = n;
	return o;
}

/* Writes the settings as clients see them: smtp.password is write-only. */
static void write_public(hr_arena *a, hr_buf *b, const hr_json *s)
{
	const hr_json *smtp = hr_json_get(s, "smtp");
	const hr_json *pub = smtp ? without(a, smtp, "password") : NULL;
	if (!smtp || pub == smtp) {
		hr_json_write(b, s);
		return;
	}
	hr_json *top = pub ? (hr_json *)(uintptr_t)without(a, s, "smtp") : NULL;
	hr_json_member *m = top ? hr_arena_alloc(a, (top->u.obj.len + 1) * sizeof *m) : NULL;
	if (!m) {
		b->err = HR_ENOMEM;
		return;
	}
	/* keep the key order: put smtp back where it was */
	size_t n = 0, k = 0;
	for (size_t i = 0; i < s->u.obj.len; i++) {
		if (hr_str_eq_lit(s->u.obj.members[i].key, "smtp")) {
			m[n].key = s->u.obj.members[i].key;
			m[n++].value = (hr_json *)(uintptr_t)pub;
		} else {
			m[n++] = top->u.obj.members[k++];
		}
	}
	hr_json o = *top;
	o.u.obj.members = m;
	o.u.obj.len = n;
	hr_json_write(b, &o);
}

const hr_json *api_settings(api_req *r)
{
	api_worker *w = &r->api->w[r->w];
	uint64_t gen = hr_store_generation(r->api->store);
	if (w->settings && w->settings_gen == gen)
		return w->settings;
	if (w->settings_gen)
		hr_arena_dispose(&w->settings_arena);
	hr_arena_init(&w->settings_arena, NULL, 0, 0);
	w->settings = load(&w->settings_arena, hr_store_reader(r->api->store, r->w));
	w->settings_gen = gen;
	return w->settings;
}

static void get(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r || !api_require_superuser(r))
		return;
	const hr_json *s = api_settings(r);
	hr_buf b;
	hr_buf_init(&b, 0);
	if (s)
		write_public(r->a, &b, s);
	else
		hr_buf_append_cstr(&b, "{}");
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

static bool is_bool(const hr_json *v)
{
	return v->type == HR_JSON_TRUE || v->type == HR_JSON_FALSE;
}

/*
 * Does v have the shape of the default value def (§1.2: fixed-shape
 * bodies never coerce)? Objects recurse key by key (unknown keys are left
 * alone), arrays check their elements against the default's first element.
 */
static bool same_shape(const hr_json *def, const hr_json *v, unsigned depth)
{
	if (depth > 16)
		return false;
	switch (def->type) {
	case HR_JSON_OBJECT:
		if (v->type != HR_JSON_OBJECT)
			return false;
		for (size_t i = 0; i < v->u.obj.len; i++) {
			const hr_json *d = hr_json_get_str(def, v->u.obj.members[i].key);
			if (d && !same_shape(d, v->u.obj.members[i].value, depth + 1))
				return false;
		}
		return true;
	case HR_JSON_ARRAY:
		if (v->type != HR_JSON_ARRAY)
			return false;
		for (size_t i = 0; def->u.arr.len && i < v->u.arr.len; i++)
			if (!same_shape(def->u.arr.items[0], v->u.arr.items[i], depth + 1))
				return false;
		for (size_t i = 0; !def->u.arr.len && i < v->u.arr.len; i++)
			if (v->u.arr.items[i]->type != HR_JSON_STRING)
				return false; /* the empty defaults are lists of strings */
		return true;
	case HR_JSON_NUMBER:
		return v->type == HR_JSON_NUMBER;
	case HR_JSON_STRING:
		return v->type == HR_JSON_STRING;
	case HR_JSON_TRUE:
	case HR_JSON_FALSE:
		return is_bool(v);
	default:
		return true;
	}
}

/* Type check against the defaults, then the value checks. false: the body
 * is unreadable (wrong types) or invalid (err->data filled). */
static bool check_types(hr_arena *a, const hr_json *patch, hr_rerr *err, bool *unreadable)
{
	*unreadable = false;
	hr_json *def;
	hr_json_error je;
	char *dtxt = hr_arena_dup(a, DEFAULTS, sizeof DEFAULTS - 1);
	if (!dtxt || hr_json_parse(a, dtxt, sizeof DEFAULTS - 1, 64, &def, &je) != 0)
		return false;
	if (!same_shape(def, patch, 0)) {
		*unreadable = true;
		return false;
	}
	const hr_json *batch = hr_json_get(patch, "batch");
	if (batch) {
		const char *nums[] = {"maxRequests", "timeout", "maxBodySize"};
		for (int i = 0; i < 3; i++) {
			hr_json *v = hr_json_get(batch, nums[i]);
			if (v && v->u.n.num < 0) {
				char *k = i == 0 ? "batch.maxRequests" : i == 1 ? "batch.timeout" : "batch.maxBodySize";
				hr_verrs_add(&err->data, hr_str_make(k, strlen(k)), "validation_min_greater_equal_than_required",
					     "Must be no less than 0.", NULL);
				return false;
			}
		}
	}
	const hr_json *rl = hr_json_get(patch, "rateLimits");
	const hr_json *rules = rl ? hr_json_get(rl, "rules") : NULL;
	for (size_t i = 0; rules && i < rules->u.arr.len; i++) {
		const hr_json *r = rules->u.arr.items[i];
		const hr_json *aud = hr_json_get(r, "audience"), *label = hr_json_get(r, "label");
		const hr_json *d = hr_json_get(r, "duration"), *m = hr_json_get(r, "maxRequests");
		const char *key = NULL, *code = NULL, *msg = NULL;
		if (!label || label->u.str.len == 0)
			key = "label", code = "validation_required", msg = "Cannot be blank.";
		else if (aud && !hr_str_eq_lit(aud->u.str, "") && !hr_str_eq_lit(aud->u.str, "@guest") &&
			 !hr_str_eq_lit(aud->u.str, "@auth"))
			key = "audience", code = "validation_in_invalid", msg = "Must be a valid value.";
		else if (!d || d->u.n.num < 1)
			key = "duration", code = "validation_min_greater_equal_than_required",
			msg = "Must be no less than 1.";
		else if (!m || m->u.n.num < 1)
			key = "maxRequests", code = "validation_min_greater_equal_than_required",
			msg = "Must be no less than 1.";
		if (key) {
			char *k = hr_arena_printf(a, "rateLimits.rules.%zu.%s", i, key);
			hr_verrs_add(&err->data, hr_str_make(k, strlen(k)), code, msg, NULL);
			return false;
		}
	}
	return true;
}

static int patch_fn(api_job *j, hr_db *db, const hr_schema *s)
{
	(void)s;
	hr_arena *a = j->r->a;
	hr_json *cur = load(a, db);
	hr_json *next = cur ? merge(a, cur, j->body.obj) : NULL;
	if (!next) {
		j->err.status = 500;
		return HR_ENOMEM;
	}
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_json_write(&b, next);
	char now[HR_TIME_LEN + 1];
	hr_time_format(hr_time_now_ms(), now);
	hr_db_stmt *st;
	int rc = b.err ? HR_ENOMEM
		       : hr_db_prepare(db,
				       HR_STR("INSERT INTO _params (id, value, created, updated) "
					      "VALUES ('settings', ?1, ?2, ?2) ON CONFLICT(id) DO UPDATE "
					      "SET value = excluded.value, updated = excluded.updated"),
				       &st, NULL);
	if (rc == 0) {
		hr_db_bind_text(st, 1, hr_str_make(b.ptr, b.len));
		hr_db_bind_text(st, 2, hr_str_make(now, HR_TIME_LEN));
		rc = hr_db_step(st, NULL);
		hr_db_release(st);
		rc = rc == HR_DB_DONE ? 0 : rc;
	}
	if (rc == 0) {
		write_public(a, &j->out, next);
		j->schema_changed = true;
	} else {
		j->err.status = 500;
	}
	hr_buf_dispose(&b);
	return rc;
}

static void patch(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (!r || !api_require_superuser(r))
		return;
	api_job *j = api_job_new(r, patch_fn);
	if (!j) {
		api_error(r, 500, NULL);
		return;
	}
	if (!api_body(r, &j->body, "An error occurred while loading the submitted data."))
		return;
	hr_rerr err;
	hr_rerr_init(&err, r->a);
	bool unreadable;
	if (!check_types(r->a, j->body.obj, &err, &unreadable)) {
		err.status = 400;
		err.message = unreadable ? "An error occurred while loading the submitted data."
					 : "An error occurred while validating the submitted data.";
		api_fail(r, &err);
		return;
	}
	api_job_submit(j);
}

int hr_api_settings_register(hr_api *api, hearth_server *s)
{
	int rc;
	if ((rc = hearth_route(s, "GET", "/api/settings", get, api)) ||
	    (rc = hearth_route(s, "PATCH", "/api/settings", patch, api)))
		return rc;
	return 0;
}

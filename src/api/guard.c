/*
 * api/guard.c - what stands between a request and its endpoint, applied in
 * one place (api_guard_begin(), called by api_begin() once the caller is
 * known): the client IP (DIALECT.md §18.4), superuser IP allow-lists
 * (§18.5), the configurable rate limits (§18.1), hearth's always-on auth
 * guard, and cookie sessions with their CSRF check.
 *
 * ROUTES. Every API route is classified from its method and path by one
 * table (classify()): its canonical pattern (the "route" part of a rate
 * limit key, so /records/a and /records/b share a window), its tags
 * (§18.1) and how the auth guard treats it. Flow endpoints that live in
 * other files are listed here too, so they are limited the moment they
 * are registered.
 *
 * CLIENT IP. A trusted proxy header that appears more than once counts by
 * its last occurrence (§18.4): a client can send its own X-Forwarded-For,
 * and the proxy we trust appends its line after it. Within that line the
 * right-most valid address counts, or the left-most with useLeftmostIP.
 *
 * SETTINGS are compiled once per settings generation per worker into a
 * guard_cfg in the worker's settings arena; a request reads the compiled
 * form only. With rate limits off, a route outside the auth guard, no
 * cookie and no superuser allow-list, a request pays a few comparisons
 * and neither computes its client IP nor touches the shared table.
 *
 * AUTH GUARD (a hearth addition; settings.authGuard). Password, OTP and
 * token-confirmation endpoints are limited per client IP and per identity
 * (case-folded, per collection), with limits no person reaches. Endpoints
 * that send mail (request-*) count every request; endpoints that check a
 * secret (auth-with-password, auth-with-otp, confirm-*) count failures
 * only, reported by the endpoint through api_guard_failed(), and refuse
 * the caller once the failures fill the window: a thousand correct logins
 * never lock anybody out, and spreading guesses over addresses does not
 * help against the per-identity window.
 *
 * COOKIE SESSIONS (a hearth addition). POST .../auth-session logs in like
 * auth-with-password and sets hearth_auth=<token> (HttpOnly, SameSite=Lax,
 * Path=/, Max-Age = token lifetime, Secure over https). The cookie is read
 * only when there is no Authorization header. CSRF: an unsafe method
 * (anything but GET/HEAD/OPTIONS) authenticated by the cookie must carry
 * an Origin (else a Referer) whose host[:port] is the request's Host, or
 * that is listed in settings.authSession.trustedOrigins. Otherwise the
 * request is turned into a guest's and refused with 403: failing closed,
 * loudly, so a broken form is noticed instead of silently doing nothing.
 * The scheme is not compared: behind a TLS-terminating proxy the server
 * cannot always know it, and the host is what separates one site from
 * another.
 *
 * SECURE COOKIES. The engine has no TLS of its own, so "https" means a
 * trusted proxy said so: X-Forwarded-Proto: https, honoured only when
 * settings.trustedProxy.headers is non-empty (the operator declared a
 * proxy in front).
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "auth/ratelimit.h"
#include "core/common.h"
#include "core/time.h"

/* ---- routes ------------------------------------------------------------ */

enum { GUARD_NONE, GUARD_EACH, GUARD_FAIL };

typedef struct route_info {
	const char *action;  /* path segment after /api/collections/{c}/ */
	const char *method;
	const char *route;   /* canonical pattern */
	const char *tags[2];
	int guard;
} route_info;

static const route_info ACTIONS[] = {
	{"auth-methods", "GET", "GET /api/collections/{collection}/auth-methods", {"listAuthMethods"}, GUARD_NONE},
	{"auth-refresh", "POST", "POST /api/collections/{collection}/auth-refresh", {"authRefresh"}, GUARD_NONE},
	{"auth-with-password", "POST", "POST /api/collections/{collection}/auth-with-password",
	 {"authWithPassword", "auth"}, GUARD_FAIL},
	{"auth-session", "POST", "POST /api/collections/{collection}/auth-session",
	 {"authWithPassword", "auth"}, GUARD_FAIL},
	{"auth-with-oauth2", "POST", "POST /api/collections/{collection}/auth-with-oauth2",
	 {"authWithOAuth2", "auth"}, GUARD_NONE},
	{"request-otp", "POST", "POST /api/collections/{collection}/request-otp", {"requestOTP"}, GUARD_EACH},
	{"auth-with-otp", "POST", "POST /api/collections/{collection}/auth-with-otp",
	 {"authWithOTP", "auth"}, GUARD_FAIL},
	{"request-password-reset", "POST", "POST /api/collections/{collection}/request-password-reset",
	 {"requestPasswordReset"}, GUARD_EACH},
	{"confirm-password-reset", "POST", "POST /api/collections/{collection}/confirm-password-reset",
	 {"confirmPasswordReset"}, GUARD_FAIL},
	{"request-verification", "POST", "POST /api/collections/{collection}/request-verification",
	 {"requestVerification"}, GUARD_EACH},
	{"confirm-verification", "POST", "POST /api/collections/{collection}/confirm-verification",
	 {"confirmVerification"}, GUARD_FAIL},
	{"request-email-change", "POST", "POST /api/collections/{collection}/request-email-change",
	 {"requestEmailChange"}, GUARD_EACH},
	{"confirm-email-change", "POST", "POST /api/collections/{collection}/confirm-email-change",
	 {"confirmEmailChange"}, GUARD_FAIL},
};

static const route_info IMPERSONATE = {
	"impersonate", "POST", "POST /api/collections/{collection}/impersonate/{id}", {NULL}, GUARD_NONE};

/* Records routes (the tag depends on method and on the id segment). */
static const route_info RECORDS[] = {
	{"", "GET", "GET /api/collections/{collection}/records", {"list"}, GUARD_NONE},
	{"", "POST", "POST /api/collections/{collection}/records", {"create"}, GUARD_NONE},
	{"", "GET", "GET /api/collections/{collection}/records/{id}", {"view"}, GUARD_NONE},
	{"", "PATCH", "PATCH /api/collections/{collection}/records/{id}", {"update"}, GUARD_NONE},
	{"", "DELETE", "DELETE /api/collections/{collection}/records/{id}", {"delete"}, GUARD_NONE},
	{"", "GET", "GET /api/files/{collection}/{recordId}/{filename}", {"file"}, GUARD_NONE},
};

static hr_str seg(hr_str *rest)
{
	const char *s = memchr(rest->ptr, '/', rest->len);
	size_t n = s ? (size_t)(s - rest->ptr) : rest->len;
	hr_str out = hr_str_make(rest->ptr, n);
	*rest = s ? hr_str_make(s + 1, rest->len - n - 1) : hr_str_make(rest->ptr + n, 0);
	return out;
}

/* The table row of this request, or NULL (then the raw path is the route);
 * *coll is the raw collection segment. */
static const route_info *classify(hr_str method, hr_str path, hr_str *coll)
{
	*coll = HR_STR("");
	if (hr_str_istarts(path, HR_STR("/api/files/"))) {
		hr_str rest = hr_str_make(path.ptr + 11, path.len - 11);
		*coll = seg(&rest);
		return hr_str_eq_lit(method, "GET") ? &RECORDS[5] : NULL;
	}
	if (!hr_str_istarts(path, HR_STR("/api/collections/")))
		return NULL;
	hr_str rest = hr_str_make(path.ptr + 17, path.len - 17);
	*coll = seg(&rest);
	if (!rest.ptr || rest.len == 0)
		return NULL;
	hr_str action = seg(&rest);
	bool has_id = rest.len > 0;
	if (hr_str_eq_lit(action, "records")) {
		for (size_t i = has_id ? 2 : 0; i < (has_id ? 5u : 2u); i++)
			if (hr_str_eq(method, hr_str_make(RECORDS[i].method, strlen(RECORDS[i].method))))
				return &RECORDS[i];
		return NULL;
	}
	if (hr_str_eq_lit(action, "impersonate"))
		return has_id ? &IMPERSONATE : NULL;
	if (has_id)
		return NULL;
	for (size_t i = 0; i < HR_ARRAY_LEN(ACTIONS); i++)
		if (hr_str_eq(action, hr_str_make(ACTIONS[i].action, strlen(ACTIONS[i].action))))
			return &ACTIONS[i];
	return NULL;
}

/* ---- compiled settings ------------------------------------------------ */

enum { AUD_ANY, AUD_GUEST, AUD_AUTH };

typedef struct rl_rule {
	hr_str label;
	int audience;
	uint32_t max;	  /* requests per window */
	int64_t window_ms;
} rl_rule;

struct api_guard_cfg {
	bool rl_on;
	rl_rule *rules;
	size_t nrules;
	const hr_json *excluded;	/* array of IPs/CIDRs */
	const hr_json *proxy_headers;	/* array of header names */
	bool leftmost;
	const hr_json *su_ips;		/* array; empty = anywhere */
	bool ag_on;
	uint32_t ip_max, id_max;
	int64_t ip_ms, id_ms;
	const hr_json *origins;		/* authSession.trustedOrigins */
};

static const hr_json *path_get(const hr_json *o, const char *a, const char *b)
{
	const hr_json *v = o ? hr_json_get(o, a) : NULL;
	return v && b ? hr_json_get(v, b) : v;
}

static const hr_json *list(const hr_json *v)
{
	return v && v->type == HR_JSON_ARRAY && v->u.arr.len ? v : NULL;
}

static double num(const hr_json *v, double dflt)
{
	return v && v->type == HR_JSON_NUMBER ? v->u.n.num : dflt;
}

static bool truthy(const hr_json *v)
{
	return v && v->type == HR_JSON_TRUE;
}

static uint32_t clamp_u32(double d)
{
	return d < 0 ? 0 : d > 4e9 ? 4000000000u : (uint32_t)d;
}

static int64_t window(double seconds)
{
	return seconds < 1 ? 1000 : seconds > 1e7 ? (int64_t)1e10 : (int64_t)(seconds * 1000);
}

static api_guard_cfg *compile(hr_arena *a, const hr_json *s)
{
	api_guard_cfg *g = hr_arena_alloc(a, sizeof *g);
	if (!g)
		return NULL;
	memset(g, 0, sizeof *g);
	g->rl_on = truthy(path_get(s, "rateLimits", "enabled"));
	const hr_json *rules = list(path_get(s, "rateLimits", "rules"));
	if (g->rl_on && rules) {
		g->rules = hr_arena_alloc(a, rules->u.arr.len * sizeof *g->rules);
		if (!g->rules)
			return NULL;
		for (size_t i = 0; i < rules->u.arr.len; i++) {
			const hr_json *r = rules->u.arr.items[i];
			const hr_json *label = hr_json_get(r, "label"), *aud = hr_json_get(r, "audience");
			if (!label || label->type != HR_JSON_STRING || label->u.str.len == 0)
				continue;
			rl_rule *x = &g->rules[g->nrules++];
			x->label = label->u.str;
			x->audience = aud && aud->type == HR_JSON_STRING
					      ? hr_str_eq_lit(aud->u.str, "@guest")  ? AUD_GUEST
						: hr_str_eq_lit(aud->u.str, "@auth") ? AUD_AUTH
										     : AUD_ANY
					      : AUD_ANY;
			x->max = clamp_u32(num(hr_json_get(r, "maxRequests"), 0));
			x->window_ms = window(num(hr_json_get(r, "duration"), 1));
		}
	}
	g->excluded = list(path_get(s, "rateLimits", "excludedIPs"));
	g->proxy_headers = list(path_get(s, "trustedProxy", "headers"));
	g->leftmost = truthy(path_get(s, "trustedProxy", "useLeftmostIP"));
	g->su_ips = list(path_get(s, "superuserIPs", NULL));
	const hr_json *ag = path_get(s, "authGuard", NULL);
	g->ag_on = !ag || !hr_json_get(ag, "enabled") || truthy(hr_json_get(ag, "enabled"));
	g->ip_max = clamp_u32(num(path_get(ag, "perIP", "maxRequests"), 30));
	g->ip_ms = window(num(path_get(ag, "perIP", "duration"), 60));
	g->id_max = clamp_u32(num(path_get(ag, "perIdentity", "maxRequests"), 10));
	g->id_ms = window(num(path_get(ag, "perIdentity", "duration"), 300));
	g->origins = list(path_get(s, "authSession", "trustedOrigins"));
	return g;
}

/* The worker's compiled settings. Not kept in the request: a request that
 * waited (a password hash) may find the settings arena reloaded. */
static const api_guard_cfg *cfg(api_req *r)
{
	static const api_guard_cfg none = {.ag_on = true, .ip_max = 30, .ip_ms = 60000,
					   .id_max = 10, .id_ms = 300000};
	const hr_json *s = api_settings(r);
	api_worker *w = &r->api->w[r->w];
	if (!s)
		return &none;
	if (!w->guard || w->guard_gen != w->settings_gen) {
		w->guard = compile(&w->settings_arena, s);
		w->guard_gen = w->settings_gen;
	}
	return w->guard ? w->guard : &none;
}

/* ---- client IP -------------------------------------------------------- */

static bool in_list(const hr_json *l, hr_str ip_text)
{
	hr_ip ip;
	if (!l || !hr_ip_parse(ip_text, &ip))
		return false;
	for (size_t i = 0; i < l->u.arr.len; i++)
		if (l->u.arr.items[i]->type == HR_JSON_STRING && hr_ip_match(&ip, l->u.arr.items[i]->u.str))
			return true;
	return false;
}

/* The right-most (or left-most) valid IP of a comma-separated value. */
static hr_str pick_ip(hr_str v, bool leftmost)
{
	hr_str best = HR_STR_NULL, e;
	size_t pos = 0;
	hr_ip tmp;
	while (hr_str_list_next(v, &pos, &e)) {
		e = hr_str_trim_ows(e);
		if (!hr_ip_parse(e, &tmp))
			continue;
		best = e;
		if (leftmost)
			break;
	}
	return best;
}

hr_str api_client_ip(api_req *r)
{
	if (r->ip.ptr)
		return r->ip;
	const api_guard_cfg *g = cfg(r);
	for (size_t i = 0; g->proxy_headers && i < g->proxy_headers->u.arr.len; i++) {
		const hr_json *h = g->proxy_headers->u.arr.items[i];
		if (h->type != HR_JSON_STRING || h->u.str.len == 0 || h->u.str.len > 200)
			continue;
		char name[201];
		memcpy(name, h->u.str.ptr, h->u.str.len);
		name[h->u.str.len] = 0;
		hearth_str v = hearth_req_header_last(r->req, name);
		if (!v.ptr)
			continue;
		hr_str ip = pick_ip(hr_str_make(v.ptr, v.len), g->leftmost);
		if (ip.ptr)
			return r->ip = ip;
	}
	hearth_str ra = hearth_req_remote_addr(r->req);
	return r->ip = ra.ptr ? hr_str_make(ra.ptr, ra.len) : HR_STR("");
}

bool api_request_https(api_req *r)
{
	if (!cfg(r)->proxy_headers)
		return false;
	hearth_str p = hearth_req_header_last(r->req, "X-Forwarded-Proto");
	return p.ptr && hr_str_ieq(hr_str_trim_ows(hr_str_make(p.ptr, p.len)), HR_STR("https"));
}

/* ---- limits ----------------------------------------------------------- */

static void too_many(api_req *r, int64_t retry_s)
{
	char v[24];
	int n = snprintf(v, sizeof v, "%lld", (long long)retry_s);
	hearth_resp_header(r->req, "Retry-After", v, (size_t)n);
	api_error(r, 429, "Too Many Requests.");
}

/* Builds "<parts...>" into buf (truncating); returns the slice. */
static hr_str key_of(char *buf, size_t cap, const hr_str *parts, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = HR_MIN(parts[i].len, cap - len);
		if (k)
			memcpy(buf + len, parts[i].ptr, k);
		len += k;
		if (len < cap)
			buf[len++] = '\x1f';
	}
	return hr_str_make(buf, len);
}

static const rl_rule *match_candidate(const api_guard_cfg *g, int aud, hr_str cand)
{
	for (size_t i = 0; i < g->nrules; i++)
		if ((g->rules[i].audience == AUD_ANY || g->rules[i].audience == aud) &&
		    hr_str_eq(g->rules[i].label, cand))
			return &g->rules[i];
	const rl_rule *best = NULL;
	for (size_t i = 0; i < g->nrules; i++) {
		const rl_rule *x = &g->rules[i];
		hr_str l = x->label;
		if ((x->audience != AUD_ANY && x->audience != aud) || l.ptr[l.len - 1] != '/')
			continue;
		/* l prefixes cand + "/" */
		bool ok = l.len <= cand.len + 1 && memcmp(l.ptr, cand.ptr, l.len - 1) == 0 &&
			  (l.len - 1 == cand.len || cand.ptr[l.len - 1] == '/');
		if (ok && (!best || l.len > best->label.len))
			best = x;
	}
	return best;
}

/* §18.1 lookup: the one rule that applies, or NULL. */
static const rl_rule *find_rule(const api_guard_cfg *g, int aud, hr_str coll, const char *const *tags,
				hr_str method, hr_str path)
{
	char buf[600];
	for (int pass = 0; pass < 2; pass++) {
		for (int t = 0; t < 2 && tags[t]; t++) {
			hr_str c = pass == 0 ? coll : HR_STR("*");
			if (c.len == 0 || c.len + strlen(tags[t]) + 1 > sizeof buf)
				continue;
			int n = snprintf(buf, sizeof buf, "%.*s:%s", (int)c.len, c.ptr, tags[t]);
			const rl_rule *x = match_candidate(g, aud, hr_str_make(buf, (size_t)n));
			if (x)
				return x;
		}
	}
	if (method.len + path.len + 1 < sizeof buf) {
		int n = snprintf(buf, sizeof buf, "%.*s %.*s", (int)method.len, method.ptr, (int)path.len,
				 path.ptr);
		const rl_rule *x = match_candidate(g, aud, hr_str_make(buf, (size_t)n));
		if (x)
			return x;
	}
	return match_candidate(g, aud, path);
}

/* Counts one request against the configured limits; false after a 429. */
static bool rate_limit(api_req *r, const api_guard_cfg *g, hr_str coll, const char *const *tags,
		       hr_str method, hr_str path, hr_str route)
{
	if (!g->rl_on || !g->nrules || r->rq.superuser)
		return true;
	const rl_rule *x = find_rule(g, r->rq.auth_coll ? AUD_AUTH : AUD_GUEST, coll, tags, method, path);
	if (!x)
		return true;
	hr_str ip = api_client_ip(r);
	if (in_list(g->excluded, ip))
		return true;
	char wb[32];
	int wn = snprintf(wb, sizeof wb, "%u/%lld", x->max, (long long)x->window_ms);
	hr_str parts[] = {HR_STR("rl"), x->label, hr_str_make(wb, (size_t)wn), coll, route, ip};
	char buf[1024];
	int64_t retry;
	if (hr_ratelimit_take(r->api->rl, key_of(buf, sizeof buf, parts, HR_ARRAY_LEN(parts)), x->max,
			      x->window_ms, hr_time_now_ms(), true, &retry))
		return true;
	too_many(r, retry);
	return false;
}

static hr_str coll_name(api_req *r, hr_str raw)
{
	const hr_collection *c = hr_schema_find(r->schema, raw);
	return c ? c->name : raw;
}

bool api_guard_batch(api_req *r, hr_str method, hr_str coll, bool has_id)
{
	const api_guard_cfg *g = cfg(r);
	if (!g->rl_on)
		return true;
	hr_str m = hr_str_eq_lit(method, "PUT") ? HR_STR("POST") : method;
	const route_info *ri = NULL;
	for (size_t i = has_id ? 2 : 0; i < (has_id ? 5u : 2u); i++)
		if (hr_str_eq(m, hr_str_make(RECORDS[i].method, strlen(RECORDS[i].method))))
			ri = &RECORDS[i];
	if (!ri)
		return true;
	hr_str name = coll_name(r, coll);
	char path[600];
	int n = snprintf(path, sizeof path, "/api/collections/%.*s/records", (int)HR_MIN(name.len, 500u),
			 name.ptr);
	return rate_limit(r, g, name, ri->tags, m, hr_str_make(path, (size_t)n),
			  hr_str_make(ri->route, strlen(ri->route)));
}

/* ---- auth guard ------------------------------------------------------- */

static hr_str guard_coll(api_req *r)
{
	hearth_str c = hearth_req_param(r->req, "collection");
	return coll_name(r, c.ptr ? hr_str_make(c.ptr, c.len) : HR_STR(""));
}

static bool guard_ip(api_req *r, const api_guard_cfg *g, bool count)
{
	hr_str ip = api_client_ip(r);
	if (in_list(g->excluded, ip))
		return true;
	hr_str parts[] = {HR_STR("ag-ip"), ip};
	char buf[128];
	int64_t retry;
	if (hr_ratelimit_take(r->api->rl, key_of(buf, sizeof buf, parts, 2), g->ip_max, g->ip_ms,
			      hr_time_now_ms(), count, &retry))
		return true;
	too_many(r, retry);
	return false;
}

/* The identity key: collection + case-folded, trimmed identity. */
static hr_str identity_key(api_req *r, hr_str identity, char *buf, size_t cap)
{
	hr_str coll = guard_coll(r);
	identity = hr_str_trim_ows(identity);
	int n = snprintf(buf, cap, "ag-id\x1f%.*s\x1f", (int)HR_MIN(coll.len, 200u), coll.ptr);
	size_t len = (size_t)n;
	for (size_t i = 0; i < identity.len && len < cap; i++)
		buf[len++] = (char)hr_lower((unsigned char)identity.ptr[i]);
	return hr_str_make(buf, len);
}

bool api_guard_identity(api_req *r, hr_str identity)
{
	const api_guard_cfg *g = cfg(r);
	if (!g->ag_on || !r->route)
		return true;
	char buf[512];
	int64_t retry;
	if (hr_ratelimit_take(r->api->rl, identity_key(r, identity, buf, sizeof buf), g->id_max, g->id_ms,
			      hr_time_now_ms(), r->route->guard == GUARD_EACH, &retry))
		return true;
	too_many(r, retry);
	return false;
}

void api_guard_failed(api_req *r, hr_str identity)
{
	const api_guard_cfg *g = cfg(r);
	if (!g->ag_on)
		return;
	int64_t now = hr_time_now_ms(), retry;
	hr_str ip = api_client_ip(r);
	if (!in_list(g->excluded, ip)) {
		hr_str parts[] = {HR_STR("ag-ip"), ip};
		char kb[128];
		hr_ratelimit_take(r->api->rl, key_of(kb, sizeof kb, parts, 2), g->ip_max, g->ip_ms, now,
				  true, &retry);
	}
	if (identity.len) {
		char buf[512];
		hr_ratelimit_take(r->api->rl, identity_key(r, identity, buf, sizeof buf), g->id_max,
				  g->id_ms, now, true, &retry);
	}
}

/* ---- cookie sessions -------------------------------------------------- */

#define COOKIE "hearth_auth"

bool api_cookie_token(api_req *r, hr_str *tok)
{
	hearth_str h = hearth_req_header(r->req, "Cookie");
	if (!h.ptr)
		return false;
	hr_str v = hr_str_make(h.ptr, h.len);
	size_t i = 0;
	while (i < v.len) {
		const char *semi = memchr(v.ptr + i, ';', v.len - i);
		size_t end = semi ? (size_t)(semi - v.ptr) : v.len;
		hr_str pair = hr_str_trim_ows(hr_str_make(v.ptr + i, end - i));
		if (pair.len > sizeof COOKIE && memcmp(pair.ptr, COOKIE "=", sizeof COOKIE) == 0) {
			*tok = hr_str_make(pair.ptr + sizeof COOKIE, pair.len - sizeof COOKIE);
			return true;
		}
		i = end + 1;
	}
	return false;
}

void api_session_cookie(api_req *r, hr_str token, int64_t max_age)
{
	char *v = hr_arena_printf(r->a, COOKIE "=%.*s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
				  (int)token.len, token.ptr ? token.ptr : "", (long long)max_age,
				  api_request_https(r) ? "; Secure" : "");
	if (v)
		hearth_resp_header(r->req, "Set-Cookie", v, strlen(v));
}

/* scheme://host[:port] of an Origin or Referer value, as host[:port]. */
static hr_str origin_host(hr_str o)
{
	const char *p = o.len > 3 ? memchr(o.ptr, ':', o.len) : NULL;
	if (!p || (size_t)(o.ptr + o.len - p) < 3 || p[1] != '/' || p[2] != '/')
		return HR_STR_NULL;
	hr_str scheme = hr_str_make(o.ptr, (size_t)(p - o.ptr));
	if (!hr_str_ieq_lit(scheme, "http") && !hr_str_ieq_lit(scheme, "https"))
		return HR_STR_NULL;
	hr_str rest = hr_str_make(p + 3, (size_t)(o.ptr + o.len - p - 3));
	size_t n = 0;
	while (n < rest.len && rest.ptr[n] != '/' && rest.ptr[n] != '?' && rest.ptr[n] != '#')
		n++;
	return n ? hr_str_make(rest.ptr, n) : HR_STR_NULL;
}

static bool same_origin(api_req *r, const api_guard_cfg *g)
{
	hearth_str o = hearth_req_header(r->req, "Origin");
	bool from_referer = false;
	if (!o.ptr || o.len == 0 || hr_str_eq_lit(hr_str_make(o.ptr, o.len), "null")) {
		o = hearth_req_header(r->req, "Referer");
		from_referer = true;
	}
	if (!o.ptr || o.len == 0)
		return false;
	hr_str full = hr_str_make(o.ptr, o.len);
	hr_str host = origin_host(full);
	if (!host.ptr)
		return false;
	for (size_t i = 0; g->origins && i < g->origins->u.arr.len; i++) {
		const hr_json *e = g->origins->u.arr.items[i];
		if (e->type != HR_JSON_STRING)
			continue;
		/* an Origin is compared whole; a Referer by its scheme://host[:port] */
		size_t olen = from_referer ? (size_t)(host.ptr + host.len - full.ptr) : full.len;
		if (hr_str_ieq(e->u.str, hr_str_make(full.ptr, olen)))
			return true;
	}
	hearth_str h = hearth_req_header(r->req, "Host");
	return h.ptr && h.len && hr_str_ieq(host, hr_str_make(h.ptr, h.len));
}

/* ---- the one entry point ---------------------------------------------- */

static bool unsafe(hr_str m)
{
	return !hr_str_eq_lit(m, "GET") && !hr_str_eq_lit(m, "HEAD") && !hr_str_eq_lit(m, "OPTIONS");
}

static void make_guest(api_req *r)
{
	r->rq.auth_coll = NULL;
	r->rq.auth_id = HR_STR("");
	r->rq.auth_record = NULL;
	r->rq.superuser = false;
	r->auth_coll_id = HR_STR("");
	r->token = HR_STR("");
}

bool api_guard_begin(api_req *r)
{
	hearth_str m = hearth_req_method(r->req), p = hearth_req_path(r->req);
	hr_str method = hr_str_make(m.ptr, m.len), path = hr_str_make(p.ptr, p.len), raw_coll;
	r->route = classify(method, path, &raw_coll);
	if (r->cookie_auth && r->rq.auth_coll && unsafe(method) && !same_origin(r, cfg(r))) {
		make_guest(r);
		api_error(r, 403, "Cross-site request refused: a request authenticated by the session "
				  "cookie must carry an Origin or Referer of this host.");
		return false;
	}
	const api_guard_cfg *g = cfg(r);
	if (g->su_ips && !in_list(g->su_ips, api_client_ip(r))) {
		bool su_login = r->route && r->route->guard == GUARD_FAIL &&
				hr_str_eq(guard_coll(r), HR_STR("_superusers"));
		if (r->rq.superuser || su_login) {
			make_guest(r);
			api_error(r, 403, "The superuser is not allowed to access the API from this IP.");
			return false;
		}
	}
	if (r->route && r->route->guard != GUARD_NONE && g->ag_on &&
	    !guard_ip(r, g, r->route->guard == GUARD_EACH))
		return false;
	if (!g->rl_on)
		return true;
	hr_str q = path;
	const char *qm = memchr(path.ptr, '?', path.len);
	if (qm)
		q.len = (size_t)(qm - path.ptr);
	static const char *const no_tags[2] = {NULL, NULL};
	hr_str coll = raw_coll.len ? coll_name(r, raw_coll) : raw_coll;
	return rate_limit(r, g, coll, r->route ? r->route->tags : no_tags,
			  hr_str_eq_lit(method, "HEAD") ? HR_STR("GET") : method, q,
			  r->route ? hr_str_make(r->route->route, strlen(r->route->route)) : q);
}

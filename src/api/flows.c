/*
 * api/flows.c - the e-mail driven auth flows of the dialect (DIALECT.md
 * §12.5-§12.9): verification, password reset, e-mail change, one-time
 * passwords, and impersonation; plus the tokens they use (§11.3).
 *
 * REQUESTS THAT SEND MAIL (request-verification, request-password-reset,
 * request-email-change, request-otp) validate the form on the loop, then
 * post one task to the mail thread (mail/mail.h) and answer at once, the
 * same way whether or not the address belongs to a record: the record
 * lookup, the token or OTP, the template and the SMTP exchange all happen
 * on the mail thread, so neither the answer nor its timing tells whether
 * an address exists. The task reaches the database through
 * hr_store_write_sync() (the writer parks for the few statements it
 * needs), which also makes the OTP insert one transaction. The task
 * carries copies of everything it needs from the request (settings: app
 * meta and SMTP), so the request may end before it runs.
 *
 * THROTTLES. At most one verification / reset mail per record per
 * HR_FLOW_MAIL_GAP_S: a table of recent sends, owned by the mail thread
 * (fixed size, a colliding entry is overwritten, which can only let one
 * extra mail through). OTP attempts per record: a table owned by the
 * writer thread (auth-with-otp runs as a writer job), a fixed window of
 * HR_OTP_WINDOW_S with HR_OTP_MAX_TRIES tries. Both live in memory: a
 * restart forgets them, which at worst allows one more mail or a few
 * more tries.
 *
 * CONFIRMATIONS check the token on the loop (decode, claims, type, record,
 * signature with tokenKey + the type's secret, then the collection),
 * hash or verify passwords on the thread pool, and write in a writer job
 * whose UPDATE requires the tokenKey the token was checked against, so a
 * token used twice concurrently still succeeds only once (the first use
 * rotates tokenKey, except for verification, which may be repeated).
 *
 * AUTH GUARD (api/guard.c). The guard's route table already limits these
 * routes per client IP. Here: a request-* endpoint calls
 * api_guard_identity() with the address once it is valid (that counts
 * the request against the address); a confirmation checks the identity
 * its token names (the e-mail claim, read before the signature is known)
 * and reports a bad token, a wrong password or a wrong OTP through
 * api_guard_failed(), with the OTP row's address as identity when the
 * row exists. A forged e-mail claim can only spend that address's
 * failure window, as a wrong password for it can.
 *
 * OTP codes are stored as BLAKE2b(otpId ":" code), never in clear; rows
 * live in _otps (created at bootstrap, schema.c) until used or expired.
 *
 * OTP REUSE (§12.8). A record with more than 9 unexpired OTPs is answered
 * with the newest one's id and no mail. That one check reads _otps on the
 * loop, with a single statement whatever the address, so it tells no more
 * than the mail thread's own count does. The two counts can disagree for
 * a moment (a request between them): then that request gets a fresh id
 * for which no OTP is stored, and the next request gets the reused one.
 *
 * MFA (§12.4): a successful OTP passes api_mfa_gate() (api/mfa.c) before
 * its token is minted.
 *
 * Not done: login alerts.
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
#include "mail/mail.h"

#define HR_FLOW_MAIL_GAP_S 120 /* one verification / reset mail per record per this */
#define HR_OTP_WINDOW_S 180
#define HR_OTP_MAX_TRIES 5
#define HR_OTP_MAX_LIVE 9 /* unexpired OTPs per record before requests stop mailing */
#define SLOTS 4096

typedef struct sent_slot {
	uint64_t key;
	int64_t at_ms;
} sent_slot;

typedef struct tries_slot {
	uint64_t key;
	int64_t start_ms;
	unsigned n;
} tries_slot;

struct api_flows {
	sent_slot sent[SLOTS];	 /* mail thread only */
	tries_slot tries[SLOTS]; /* writer thread only */
};

api_flows *api_flows_new(void)
{
	return hr_xcalloc(1, sizeof(api_flows));
}

void api_flows_free(api_flows *f)
{
	free(f);
}

static uint64_t key_of(const char *kind, hr_str a, hr_str b)
{
	uint64_t h = 1469598103934665603ull;
	hr_str parts[3] = {hr_str_make(kind, strlen(kind)), a, b};
	for (int p = 0; p < 3; p++) {
		for (size_t i = 0; i < parts[p].len; i++)
			h = (h ^ (unsigned char)parts[p].ptr[i]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h ? h : 1;
}

/* ---- options and tokens ----------------------------------------------- */

static hr_str opt_str(const hr_json *o, const char *key)
{
	hr_json *v = o ? hr_json_get(o, key) : NULL;
	return v && v->type == HR_JSON_STRING ? v->u.str : HR_STR("");
}

static int64_t opt_int(const hr_json *o, const char *key, int64_t def)
{
	hr_json *v = o ? hr_json_get(o, key) : NULL;
	return v && v->type == HR_JSON_NUMBER && v->u.n.num > 0 ? (int64_t)v->u.n.num : def;
}

static bool opt_enabled(const hr_collection *c, const char *key, bool def)
{
	hr_json *o = api_coll_opt(c, key);
	hr_json *e = o ? hr_json_get(o, "enabled") : NULL;
	return e ? e->type == HR_JSON_TRUE : def;
}

static bool is_superusers(const hr_collection *c)
{
	return hr_str_eq_lit(c->id, HR_SUPERUSERS_ID);
}

/* One token type of §11.3: its claim name and options key. */
typedef struct tok_type {
	const char *type, *cfg;
	int64_t def_duration;
} tok_type;

static const tok_type T_VERIFY = {"verification", "verificationToken", 86400};
static const tok_type T_RESET = {"passwordReset", "passwordResetToken", 1800};
static const tok_type T_EMAIL = {"emailChange", "emailChangeToken", 1800};

/* Mints a token of type t for rec (claims in the dialect's key order). */
static int mint(hr_arena *a, const hr_collection *c, const hr_json *rec, const tok_type *t,
		hr_str new_email, hr_buf *out)
{
	hr_json *cfg = api_coll_opt(c, t->cfg);
	hr_str secret = opt_str(cfg, "secret"), id = opt_str(rec, "id"),
	       tk = opt_str(rec, "tokenKey");
	if (!secret.len || !id.len || !tk.len)
		return HR_EINVAL;
	int64_t exp = hr_time_now_ms() / 1000 + opt_int(cfg, "duration", t->def_duration);
	hr_buf p;
	hr_buf_init(&p, 4096);
	hr_buf_append_cstr(&p, "{\"collectionId\":");
	hr_json_write_string(&p, c->id);
	hr_buf_append_cstr(&p, ",\"email\":");
	hr_json_write_string(&p, opt_str(rec, "email"));
	hr_buf_printf(&p, ",\"exp\":%lld,\"id\":", (long long)exp);
	hr_json_write_string(&p, id);
	if (new_email.len) {
		hr_buf_append_cstr(&p, ",\"newEmail\":");
		hr_json_write_string(&p, new_email);
	}
	hr_buf_printf(&p, ",\"type\":\"%s\"}", t->type);
	int rc = p.err;
	if (rc == 0) {
		hr_str key = hr_token_key(a, tk, secret);
		rc = key.ptr ? hr_token_sign(out, hr_str_make(p.ptr, p.len), key) : HR_ENOMEM;
	}
	hr_buf_dispose(&p);
	return rc;
}

/*
 * Checks a presented token of type t for the route's collection c
 * (§11.3). Returns NULL with *rec and *cl, or the validation code to
 * report on "token".
 */
static const char *check_token(api_req *r, const hr_collection *c, hr_str tok, const tok_type *t,
			       hr_json **rec, hr_token_claims *cl)
{
	hr_json *claims;
	if (hr_token_decode(r->a, tok, &claims) != 0 ||
	    !hr_token_claims_read(claims, hr_time_now_ms() / 1000, cl) ||
	    !hr_str_eq(cl->type, hr_str_make(t->type, strlen(t->type))))
		return "validation_invalid_token";
	const hr_collection *tc = hr_schema_find(r->schema, cl->collection_id);
	if (!tc || tc->type != HR_COLL_AUTH)
		return "validation_invalid_token";
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	if (hr_records_load(&x, tc, cl->id, rec) != 0)
		return "validation_invalid_token";
	hr_str key = hr_token_key(r->a, opt_str(*rec, "tokenKey"), opt_str(api_coll_opt(tc, t->cfg), "secret"));
	if (!key.ptr || !hr_token_verify(tok, key))
		return "validation_invalid_token";
	if (!hr_str_eq(tc->id, c->id))
		return "validation_token_collection_mismatch";
	return NULL;
}

static const char *token_message(const char *code)
{
	if (strcmp(code, "validation_token_collection_mismatch") == 0)
		return "Token collection mismatch.";
	if (strcmp(code, "validation_invalid_token_claims") == 0)
		return "Invalid token claims.";
	if (strcmp(code, "validation_token_email_mismatch") == 0)
		return "The token email doesn't match the current record email.";
	if (strcmp(code, "validation_invalid_token_payload") == 0)
		return "Invalid token payload - newEmail must be set.";
	if (strcmp(code, "validation_invalid_token_email") == 0)
		return "The new email address is already in use.";
	return "Invalid or expired token.";
}

/* ---- request plumbing ------------------------------------------------- */

/* Every flow handler's start: the request and its auth collection; NULL
 * after answering (404 for a collection that is missing or not auth). */
static const hr_collection *flow_begin(void *ud, hearth_req *req, api_req **out)
{
	api_req *r = *out = api_begin(ud, req);
	if (!r)
		return NULL;
	const hr_collection *c = api_collection(r);
	if (!c || c->type != HR_COLL_AUTH) {
		api_error(r, 404, "Missing or invalid auth collection context.");
		return NULL;
	}
	return c;
}

/* Reads the named string keys of the body; false after answering 400
 * (unreadable body, or a key with a non-string value). */
static bool read_form(api_req *r, const char *const *keys, hr_str *vals, size_t n)
{
	hr_body body;
	if (!api_body(r, &body, "An error occurred while loading the submitted data."))
		return false;
	for (size_t i = 0; i < n; i++) {
		hr_json *v = hr_json_get(body.obj, keys[i]);
		vals[i] = HR_STR("");
		if (!v || v->type == HR_JSON_NULL)
			continue;
		if (v->type != HR_JSON_STRING) {
			api_error(r, 400, "An error occurred while loading the submitted data.");
			return false;
		}
		vals[i] = v->u.str;
	}
	return true;
}

static void check_email(hr_rerr *e, const char *key, hr_str v)
{
	if (v.len == 0)
		hr_verrs_add(&e->data, hr_str_make(key, strlen(key)), "validation_required",
			     "Cannot be blank.", NULL);
	else if (v.len > 255 || !hr_is_email(v))
		hr_verrs_add(&e->data, hr_str_make(key, strlen(key)), "validation_is_email",
			     "Must be a valid email address.", NULL);
}

static void required(hr_rerr *e, const char *key, hr_str v)
{
	if (v.len == 0)
		hr_verrs_add(&e->data, hr_str_make(key, strlen(key)), "validation_required",
			     "Cannot be blank.", NULL);
}

/* Answers the validation errors in e, if any; returns whether it did. */
static bool fail_if_invalid(api_req *r, hr_rerr *e)
{
	if (!e->data.n)
		return false;
	e->status = 400;
	e->message = "An error occurred while validating the submitted data.";
	api_fail(r, e);
	return true;
}

/*
 * The e-mail claim of a presented token, read without checking the
 * signature: the identity the auth guard counts a failed confirmation
 * against. Empty when the token has none or does not decode.
 */
static hr_str token_identity(api_req *r, hr_str tok)
{
	hr_json *claims;
	if (!tok.len || hr_token_decode(r->a, tok, &claims) != 0)
		return HR_STR("");
	hr_json *v = hr_json_get(claims, "email");
	return v && v->type == HR_JSON_STRING ? v->u.str : HR_STR("");
}

/* The guard's check for a confirmation whose token names identity;
 * false after a 429. */
static bool guard_token(api_req *r, hr_str identity)
{
	return !identity.len || api_guard_identity(r, identity);
}

static void token_error(api_req *r, const char *code)
{
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	hr_verrs_add(&e.data, HR_STR("token"), code, token_message(code), NULL);
	fail_if_invalid(r, &e);
}

/* ---- mail tasks ------------------------------------------------------- */

enum task_kind { TASK_VERIFY, TASK_RESET, TASK_EMAIL_CHANGE, TASK_OTP };

/* Everything a mail task needs, copied out of the request (malloc'd). */
typedef struct flow_task {
	hr_api *api;
	int kind;
	char coll[64];
	char email[256];     /* lookup address (verify, reset, OTP) */
	char id[64];	     /* record id (e-mail change) */
	char new_email[256]; /* e-mail change */
	char otp_id[16];
	char app_name[256], app_url[512], sender_name[256], sender_addr[256];
	hr_smtp smtp; /* from settings.smtp when enabled */
	/* filled under hr_store_write_sync, sent after */
	bool send;
	hr_buf to, subject, html;
} flow_task;

static void copy_field(char *dst, size_t cap, hr_str s)
{
	size_t n = HR_MIN(s.len, cap - 1);
	memcpy(dst, s.ptr, n);
	dst[n] = '\0';
}

/* A host or EHLO name from settings: letters, digits, '.', '-' only, so it
 * cannot change the SMTP URL it is placed in. */
static bool host_ok_or_empty(hr_str h)
{
	if (h.len >= 256)
		return false;
	for (size_t i = 0; i < h.len; i++) {
		char ch = h.ptr[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

static bool host_ok(hr_str h)
{
	return h.len && host_ok_or_empty(h);
}

static flow_task *task_new(api_req *r, int kind, const hr_collection *c)
{
	flow_task *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->api = r->api;
	t->kind = kind;
	copy_field(t->coll, sizeof t->coll, c->id);
	const hr_json *s = api_settings(r);
	const hr_json *meta = s ? hr_json_get(s, "meta") : NULL;
	copy_field(t->app_name, sizeof t->app_name, opt_str(meta, "appName"));
	copy_field(t->app_url, sizeof t->app_url, opt_str(meta, "appURL"));
	copy_field(t->sender_name, sizeof t->sender_name, opt_str(meta, "senderName"));
	copy_field(t->sender_addr, sizeof t->sender_addr, opt_str(meta, "senderAddress"));
	/* settings.smtp, when enabled, overrides the --smtp flag */
	const hr_json *smtp = s ? hr_json_get(s, "smtp") : NULL;
	hr_json *en = smtp ? hr_json_get(smtp, "enabled") : NULL;
	if (en && en->type == HR_JSON_TRUE) {
		hr_str host = opt_str(smtp, "host");
		hr_json *tls = hr_json_get(smtp, "tls");
		if (host_ok(host) && host_ok_or_empty(opt_str(smtp, "localName"))) {
			t->smtp.enabled = true;
			copy_field(t->smtp.host, sizeof t->smtp.host, host);
			int64_t port = opt_int(smtp, "port", 25);
			t->smtp.port = port <= 65535 ? (unsigned)port : 25;
			copy_field(t->smtp.username, sizeof t->smtp.username, opt_str(smtp, "username"));
			copy_field(t->smtp.password, sizeof t->smtp.password, opt_str(smtp, "password"));
			copy_field(t->smtp.local_name, sizeof t->smtp.local_name,
				   opt_str(smtp, "localName"));
			t->smtp.tls = tls && tls->type == HR_JSON_TRUE ? HR_SMTP_TLS_IMPLICIT
								       : HR_SMTP_TLS_TRY;
		}
	}
	hr_buf_init(&t->to, 4096);
	hr_buf_init(&t->subject, 4096);
	hr_buf_init(&t->html, 1u << 20);
	return t;
}

static void task_free(flow_task *t)
{
	hr_buf_dispose(&t->to);
	hr_buf_dispose(&t->subject);
	hr_buf_dispose(&t->html);
	sodium_memzero(t->smtp.password, sizeof t->smtp.password);
	free(t);
}

/* Fallbacks for collections whose templates are empty (schema.c has the
 * full defaults; options set without a template end up here). */
static const char *default_subject(int kind)
{
	switch (kind) {
	case TASK_VERIFY:
		return "Verify your {APP_NAME} email";
	case TASK_RESET:
		return "Reset your {APP_NAME} password";
	case TASK_EMAIL_CHANGE:
		return "Confirm your {APP_NAME} new email address";
	default:
		return "OTP for {APP_NAME}";
	}
}

static const char *default_body(int kind)
{
	switch (kind) {
	case TASK_VERIFY:
		return "<p>Hello,</p><p>Click on the link below to verify your email address.</p>"
		       "<p><a href=\"{APP_URL}/_/#/auth/confirm-verification/{TOKEN}\">Verify</a></p>"
		       "<p>Thanks,<br/>{APP_NAME} team</p>";
	case TASK_RESET:
		return "<p>Hello,</p><p>Click on the link below to reset your password.</p>"
		       "<p><a href=\"{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}\">Reset "
		       "password</a></p><p>Thanks,<br/>{APP_NAME} team</p>";
	case TASK_EMAIL_CHANGE:
		return "<p>Hello,</p><p>Click on the link below to confirm your new email address.</p>"
		       "<p><a href=\"{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}\">Confirm new "
		       "email</a></p><p>Thanks,<br/>{APP_NAME} team</p>";
	default:
		return "<p>Hello,</p><p>Your one-time password is: <strong>{OTP}</strong></p>"
		       "<p>Thanks,<br/>{APP_NAME} team</p>";
	}
}

/* Renders the collection's template for t->kind into t (subject, html). */
static int render(flow_task *t, hr_arena *a, const hr_collection *c, const hr_json *rec,
		  hr_str token, hr_str otp)
{
	const hr_json *tpl = t->kind == TASK_VERIFY	    ? api_coll_opt(c, "verificationTemplate")
			     : t->kind == TASK_RESET	    ? api_coll_opt(c, "resetPasswordTemplate")
			     : t->kind == TASK_EMAIL_CHANGE ? api_coll_opt(c, "confirmEmailChangeTemplate")
			     : api_coll_opt(c, "otp") ? hr_json_get(api_coll_opt(c, "otp"), "emailTemplate")
							    : NULL;
	hr_str subject = opt_str(tpl, "subject"), body = opt_str(tpl, "body");
	if (!subject.len)
		subject = hr_str_make(default_subject(t->kind), strlen(default_subject(t->kind)));
	if (!body.len)
		body = hr_str_make(default_body(t->kind), strlen(default_body(t->kind)));
	size_t nv = 5 + (rec && rec->type == HR_JSON_OBJECT ? rec->u.obj.len : 0);
	hr_mail_var *v = hr_arena_alloc(a, nv * sizeof *v);
	if (!v)
		return HR_ENOMEM;
	size_t n = 0;
	v[n++] = (hr_mail_var){"APP_NAME", hr_str_make(t->app_name, strlen(t->app_name))};
	v[n++] = (hr_mail_var){"APP_URL", hr_str_make(t->app_url, strlen(t->app_url))};
	v[n++] = (hr_mail_var){"TOKEN", token};
	v[n++] = (hr_mail_var){"OTP", otp};
	v[n++] = (hr_mail_var){"OTP_ID", hr_str_make(t->otp_id, strlen(t->otp_id))};
	for (size_t i = 0; rec && rec->type == HR_JSON_OBJECT && i < rec->u.obj.len; i++) {
		const hr_json_member *m = &rec->u.obj.members[i];
		if (hr_str_eq_lit(m->key, "password") || hr_str_eq_lit(m->key, "tokenKey"))
			continue; /* secrets never reach a template */
		hr_str val;
		if (m->value->type == HR_JSON_STRING)
			val = m->value->u.str;
		else if (m->value->type == HR_JSON_TRUE)
			val = HR_STR("true");
		else if (m->value->type == HR_JSON_FALSE)
			val = HR_STR("false");
		else if (m->value->type == HR_JSON_NUMBER)
			val = m->value->u.n.raw.len ? m->value->u.n.raw : HR_STR("0");
		else
			continue;
		char *name = hr_arena_printf(a, "RECORD:%.*s", (int)m->key.len, m->key.ptr);
		if (!name)
			return HR_ENOMEM;
		v[n++] = (hr_mail_var){name, val};
	}
	hr_mail_render(&t->subject, subject, v, n, false);
	hr_mail_render(&t->html, body, v, n, true);
	return t->subject.err ? t->subject.err : t->html.err;
}

/* Mail thread: was a mail of this kind sent to this record lately? Records it if not. */
static bool throttled(hr_api *api, int kind, hr_str coll, hr_str id)
{
	uint64_t k = key_of(kind == TASK_VERIFY ? "v" : "r", coll, id);
	sent_slot *s = &api->flows->sent[k % SLOTS];
	int64_t now = hr_time_now_ms();
	if (s->key == k && now - s->at_ms < HR_FLOW_MAIL_GAP_S * 1000)
		return true;
	s->key = k;
	s->at_ms = now;
	return false;
}

static void otp_hash(hr_str otp_id, hr_str code, char out[65])
{
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)otp_id.ptr, otp_id.len);
	crypto_generichash_update(&st, (const unsigned char *)":", 1);
	crypto_generichash_update(&st, (const unsigned char *)code.ptr, code.len);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, 65, h, sizeof h);
}

/* Creates the OTP row; fills code. 1: created, 0: too many live ones, <0: error. */
static int otp_insert(hr_db *db, flow_task *t, const hr_collection *c, const hr_json *rec,
		      char *code, size_t len)
{
	int64_t now = hr_time_now_ms();
	int64_t dur = opt_int(api_coll_opt(c, "otp"), "duration", 180);
	int rc = api_exec_int(db, HR_STR("DELETE FROM _otps WHERE expires <= ?1"), now);
	if (rc < 0)
		return rc;
	hr_db_stmt *st;
	rc = hr_db_prepare(db,
			   HR_STR("SELECT COUNT(*) FROM _otps WHERE collectionRef = ?1 AND recordRef = ?2"),
			   &st, NULL);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, c->id);
	hr_db_bind_text(st, 2, opt_str(rec, "id"));
	int64_t live = hr_db_step(st, NULL) == HR_DB_ROW ? hr_db_column_int64(st, 0) : 0;
	hr_db_release(st);
	if (live > HR_OTP_MAX_LIVE)
		return 0;
	for (size_t i = 0; i < len; i++)
		code[i] = (char)('0' + hr_rand_below(10));
	code[len] = '\0';
	char hash[65], created[HR_TIME_LEN + 1];
	otp_hash(hr_str_make(t->otp_id, strlen(t->otp_id)), hr_str_make(code, len), hash);
	hr_time_format(now, created);
	rc = hr_db_prepare(db,
			   HR_STR("INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo, "
				  "created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
			   &st, NULL);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, hr_str_make(t->otp_id, strlen(t->otp_id)));
	hr_db_bind_text(st, 2, c->id);
	hr_db_bind_text(st, 3, opt_str(rec, "id"));
	hr_db_bind_text(st, 4, hr_str_make(hash, 64));
	hr_db_bind_text(st, 5, opt_str(rec, "email"));
	hr_db_bind_text(st, 6, hr_str_make(created, HR_TIME_LEN));
	hr_db_bind_int64(st, 7, now + dur * 1000);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc == HR_DB_DONE ? 1 : rc < 0 ? rc : HR_EINVAL;
}

/* Runs with the writer parked (hr_store_write_sync): lookup, token, template. */
static int task_prepare(hr_db *db, void *ud)
{
	flow_task *t = ud;
	const hr_schema *schema = api_writer_schema(t->api, db);
	const hr_collection *c =
		schema ? hr_schema_find(schema, hr_str_make(t->coll, strlen(t->coll))) : NULL;
	if (!c || c->type != HR_COLL_AUTH)
		return 0;
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_rule_req rq = {0};
	rq.method = HR_STR("GET");
	rq.context = HR_STR("default");
	rq.superuser = true;
	rq.now_ms = hr_time_now_ms();
	hr_rctx x = {0};
	x.a = &a;
	x.schema = schema;
	x.db = db;
	x.rq = &rq;
	x.now_ms = rq.now_ms;
	hr_json *rec = NULL;
	int rc = t->kind == TASK_EMAIL_CHANGE
			 ? hr_records_load(&x, c, hr_str_make(t->id, strlen(t->id)), &rec)
			 : hr_records_find_by(&x, c, HR_STR("email"), hr_str_make(t->email, strlen(t->email)),
					      &rec);
	if (rc || !rec)
		goto out;
	hr_json *verified = hr_json_get(rec, "verified");
	hr_buf tok;
	hr_buf_init(&tok, HR_TOKEN_MAX);
	char code[32] = "";
	rc = 0;
	switch (t->kind) {
	case TASK_VERIFY:
		if ((verified && verified->type == HR_JSON_TRUE) ||
		    throttled(t->api, t->kind, c->id, opt_str(rec, "id")))
			goto done;
		rc = mint(&a, c, rec, &T_VERIFY, HR_STR(""), &tok);
		break;
	case TASK_RESET:
		if (throttled(t->api, t->kind, c->id, opt_str(rec, "id")))
			goto done;
		rc = mint(&a, c, rec, &T_RESET, HR_STR(""), &tok);
		break;
	case TASK_EMAIL_CHANGE:
		rc = mint(&a, c, rec, &T_EMAIL, hr_str_make(t->new_email, strlen(t->new_email)), &tok);
		break;
	case TASK_OTP: {
		size_t len = (size_t)HR_MIN(opt_int(api_coll_opt(c, "otp"), "length", 8), 20);
		hr_db_error e = {0};
		if ((rc = hr_db_begin(db, true, &e)) != 0)
			break;
		int made = otp_insert(db, t, c, rec, code, HR_MAX(len, 4));
		if (made == 1) {
			rc = hr_db_commit(db, &e);
		} else {
			hr_db_rollback(db);
			rc = made;
			if (made == 0)
				goto done;
		}
		break;
	}
	}
	if (rc == 0 && tok.err == 0) {
		rc = render(t, &a, c, rec,
			    hr_str_make(tok.ptr ? tok.ptr : "", tok.len), hr_str_make(code, strlen(code)));
		hr_buf_append_str(&t->to, t->kind == TASK_EMAIL_CHANGE
						 ? hr_str_make(t->new_email, strlen(t->new_email))
						 : opt_str(rec, "email"));
		t->send = rc == 0 && t->to.err == 0;
	}
done:
	sodium_memzero(code, sizeof code);
	hr_buf_dispose(&tok);
out:
	hr_arena_dispose(&a);
	return 0;
}

static void task_run(hr_mailer *m, void *ud)
{
	flow_task *t = ud;
	hr_store_write_sync(t->api->store, task_prepare, t);
	if (t->send) {
		hr_mail_msg msg = {
			.from_name = hr_str_make(t->sender_name, strlen(t->sender_name)),
			.from_addr = hr_str_make(t->sender_addr, strlen(t->sender_addr)),
			.to = hr_str_make(t->to.ptr, t->to.len),
			.subject = hr_str_make(t->subject.ptr, t->subject.len),
			.html = hr_str_make(t->html.ptr, t->html.len),
		};
		hr_mailer_deliver(m, &msg, &t->smtp);
	}
	task_free(t);
}

/* Queues t; the answer does not depend on the outcome. */
static void task_post(api_req *r, flow_task *t)
{
	/* a full queue drops the mail: answering differently would tell the
	 * client something, and waiting would block the loop */
	if (t && hr_mailer_post(r->api->mailer, task_run, t) != 0)
		task_free(t);
}

/* The {"email"} form of the request-* endpoints: read, checked, then
 * counted by the auth guard. Answers and returns false on failure. */
static bool read_email_request(api_req *r, hr_str *email)
{
	static const char *const keys[] = {"email"};
	if (!read_form(r, keys, email, 1))
		return false;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	check_email(&e, "email", *email);
	if (fail_if_invalid(r, &e))
		return false;
	return api_guard_identity(r, *email);
}

/* ---- verification (§12.5) --------------------------------------------- */

static void request_verification(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (is_superusers(c)) {
		api_error(r, 400, "All superusers are verified by default.");
		return;
	}
	hr_str email;
	if (!read_email_request(r, &email))
		return;
	flow_task *t = task_new(r, TASK_VERIFY, c);
	if (t)
		copy_field(t->email, sizeof t->email, email);
	task_post(r, t);
	hearth_resp_send(req, 204, NULL, NULL, 0);
}

/* The checked token's record: what the write jobs re-check. */
typedef struct confirm {
	hr_str id, token_key, email, new_email;
	char hash[HR_PASSWORD_HASH_MAX]; /* password reset: new hash; e-mail change: stored hash */
	char *pw;			  /* e-mail change: the submitted password (arena) */
	size_t pwlen;
	bool ok;
	const hr_collection *c;
	hr_json *rec;
} confirm;

static void new_token_key(char out[51])
{
	static const char a62[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	hr_rand_string(out, 50, a62, sizeof a62 - 1);
	out[50] = '\0';
}

/*
 * UPDATE "<c>" SET <set> WHERE id = ?1 AND tokenKey = ?2; the SET clause
 * may use ?3.. bound by the caller through binds[]. Returns 1 when the row
 * changed, 0 when the tokenKey moved meanwhile, <0 on error.
 */
static int update_row(hr_db *db, const hr_collection *c, const confirm *k, const char *set,
		      const hr_str *binds, int nb)
{
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_printf(&sql, "UPDATE \"%.*s\" SET %s", (int)c->name.len, c->name.ptr, set);
	if (hr_coll_field(c, HR_STR("updated")))
		hr_buf_printf(&sql, ", \"updated\" = ?%d", 3 + nb);
	hr_buf_append_cstr(&sql, " WHERE \"id\" = ?1 AND \"tokenKey\" = ?2");
	hr_db_stmt *st;
	int rc = sql.err ? HR_ENOMEM : hr_db_prepare(db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return rc;
	char now[HR_TIME_LEN + 1];
	hr_time_format(hr_time_now_ms(), now);
	hr_db_bind_text(st, 1, k->id);
	hr_db_bind_text(st, 2, k->token_key);
	for (int i = 0; i < nb; i++)
		hr_db_bind_text(st, 3 + i, binds[i]);
	if (hr_coll_field(c, HR_STR("updated")))
		hr_db_bind_text(st, 3 + nb, hr_str_make(now, HR_TIME_LEN));
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	if (rc < 0)
		return rc;
	return hr_db_changes(db) > 0;
}

static int job_token_gone(api_job *j)
{
	j->err.status = 400;
	j->err.message = "An error occurred while validating the submitted data.";
	hr_verrs_add(&j->err.data, HR_STR("token"), "validation_invalid_token",
		     "Invalid or expired token.", NULL);
	return HR_EINVAL;
}

static int verify_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	confirm *k = j->ud;
	const hr_collection *c = hr_schema_find(schema, j->coll);
	if (!c)
		return job_token_gone(j);
	/* §11.3: verifying a collection without password auth rotates tokenKey */
	char tk[51];
	new_token_key(tk);
	bool rotate = !opt_enabled(c, "passwordAuth", true);
	hr_str b[1] = {rotate ? hr_str_make(tk, 50) : k->token_key};
	int rc = update_row(db, c, k, "\"verified\" = 1, \"tokenKey\" = ?3", b, 1);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return job_token_gone(j);
	j->status = 204;
	return 0;
}

static void confirm_verification(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (is_superusers(c)) {
		api_error(r, 400, "All superusers are verified by default.");
		return;
	}
	static const char *const keys[] = {"token"};
	hr_str tok;
	if (!read_form(r, keys, &tok, 1))
		return;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	required(&e, "token", tok);
	if (fail_if_invalid(r, &e))
		return;
	hr_str who = token_identity(r, tok);
	if (!guard_token(r, who))
		return;
	hr_json *rec;
	hr_token_claims cl;
	const char *code = check_token(r, c, tok, &T_VERIFY, &rec, &cl);
	if (!code && !cl.email.len)
		code = "validation_invalid_token_claims";
	if (!code && !hr_str_eq(cl.email, opt_str(rec, "email")))
		code = "validation_token_email_mismatch";
	if (code) {
		api_guard_failed(r, who);
		token_error(r, code);
		return;
	}
	hr_json *v = hr_json_get(rec, "verified");
	if (v && v->type == HR_JSON_TRUE) {
		hearth_resp_send(req, 204, NULL, NULL, 0);
		return;
	}
	api_job *j = api_job_new(r, verify_fn);
	confirm *k = hr_arena_alloc(r->a, sizeof *k);
	if (!j || !k) {
		api_error(r, 500, NULL);
		return;
	}
	memset(k, 0, sizeof *k);
	k->id = cl.id;
	k->token_key = opt_str(rec, "tokenKey");
	j->ud = k;
	j->coll = c->id;
	api_job_submit(j);
}

/* ---- password reset (§12.6) ------------------------------------------- */

static void request_password_reset(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (!opt_enabled(c, "passwordAuth", true)) {
		api_error(r, 400, "The collection is not configured to allow password authentication.");
		return;
	}
	hr_str email;
	if (!read_email_request(r, &email))
		return;
	flow_task *t = task_new(r, TASK_RESET, c);
	if (t)
		copy_field(t->email, sizeof t->email, email);
	task_post(r, t);
	hearth_resp_send(req, 204, NULL, NULL, 0);
}

static int reset_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	confirm *k = j->ud;
	const hr_collection *c = hr_schema_find(schema, j->coll);
	if (!c)
		return job_token_gone(j);
	char tk[51];
	new_token_key(tk);
	hr_str b[3] = {hr_str_make(k->hash, strlen(k->hash)), hr_str_make(tk, 50), k->email};
	int rc = update_row(db, c, k,
			    "\"password\" = ?3, \"tokenKey\" = ?4, \"verified\" = CASE WHEN "
			    "\"email\" = ?5 THEN 1 ELSE \"verified\" END",
			    b, 3);
	sodium_memzero(k->hash, sizeof k->hash);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return job_token_gone(j);
	j->status = 204;
	return 0;
}

static void reset_hashed(api_req *r, hr_str hash, void *ud)
{
	api_job *j = ud;
	confirm *k = j->ud;
	if (!hash.len || hash.len >= sizeof k->hash) {
		api_error(r, 500, NULL);
		return;
	}
	memcpy(k->hash, hash.ptr, hash.len);
	k->hash[hash.len] = '\0';
	api_job_submit(j);
}

/* The password field's length bounds (§12.6): min default 8 (1 if unset), max 71. */
static void password_bounds(const hr_collection *c, int64_t *min, int64_t *max)
{
	const hr_field *f = hr_coll_field(c, HR_STR("password"));
	*min = f && f->min > 0 ? f->min : 1;
	*max = f && f->max > 0 ? HR_MIN(f->max, 255) : 71;
}

static size_t utf8_len(hr_str s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
	return n;
}

static void confirm_password_reset(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	static const char *const keys[] = {"token", "password", "passwordConfirm"};
	hr_str v[3];
	if (!read_form(r, keys, v, 3))
		return;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	required(&e, "token", v[0]);
	int64_t min, max;
	password_bounds(c, &min, &max);
	size_t pl = utf8_len(v[1]);
	if (v[1].len == 0)
		required(&e, "password", v[1]);
	else if ((int64_t)pl < min || (int64_t)pl > max)
		hr_verrs_add(&e.data, HR_STR("password"), "validation_length_out_of_range",
			     hr_arena_printf(r->a, "The length must be between %lld and %lld.",
					     (long long)min, (long long)max),
			     NULL);
	if (v[2].len == 0)
		required(&e, "passwordConfirm", v[2]);
	else if (!hr_str_eq(v[1], v[2]))
		hr_verrs_add(&e.data, HR_STR("passwordConfirm"), "validation_values_mismatch",
			     "Values don't match.", NULL);
	hr_str who = token_identity(r, v[0]);
	if (!guard_token(r, who))
		return;
	hr_json *rec = NULL;
	hr_token_claims cl;
	if (v[0].len) {
		const char *code = check_token(r, c, v[0], &T_RESET, &rec, &cl);
		if (code) {
			api_guard_failed(r, who);
			hr_verrs_add(&e.data, HR_STR("token"), code, token_message(code), NULL);
		}
	}
	if (fail_if_invalid(r, &e))
		return;
	api_job *j = api_job_new(r, reset_fn);
	confirm *k = hr_arena_alloc(r->a, sizeof *k);
	if (!j || !k) {
		api_error(r, 500, NULL);
		return;
	}
	memset(k, 0, sizeof *k);
	k->id = cl.id;
	k->token_key = opt_str(rec, "tokenKey");
	k->email = cl.email;
	j->ud = k;
	j->coll = c->id;
	api_hash_password(r, v[1], reset_hashed, j);
}

/* ---- e-mail change (§12.7) -------------------------------------------- */

static void request_email_change(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (is_superusers(c)) {
		api_error(r, 400, "All superusers can change their emails directly.");
		return;
	}
	if (!api_require_record_of(r, c))
		return;
	static const char *const keys[] = {"newEmail"};
	hr_str ne;
	if (!read_form(r, keys, &ne, 1))
		return;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	check_email(&e, "newEmail", ne);
	if (!e.data.n && !api_guard_identity(r, ne))
		return;
	if (!e.data.n) {
		hr_rctx x;
		api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
		hr_json *other = NULL;
		if (hr_str_ieq(ne, opt_str(r->rq.auth_record, "email")) ||
		    hr_records_find_by(&x, c, HR_STR("email"), ne, &other) != HR_ENOENT)
			hr_verrs_add(&e.data, HR_STR("newEmail"), "validation_invalid_new_email",
				     "Invalid new email address.", NULL);
	}
	if (fail_if_invalid(r, &e))
		return;
	flow_task *t = task_new(r, TASK_EMAIL_CHANGE, c);
	if (t) {
		copy_field(t->id, sizeof t->id, r->rq.auth_id);
		copy_field(t->new_email, sizeof t->new_email, ne);
	}
	task_post(r, t);
	hearth_resp_send(req, 204, NULL, NULL, 0);
}

static int email_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	confirm *k = j->ud;
	const hr_collection *c = hr_schema_find(schema, j->coll);
	if (!c)
		return job_token_gone(j);
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_printf(&sql, "SELECT 1 FROM \"%.*s\" WHERE \"email\" = ?1 AND \"id\" != ?2 LIMIT 1",
		      (int)c->name.len, c->name.ptr);
	hr_db_stmt *st;
	int rc = sql.err ? HR_ENOMEM : hr_db_prepare(db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, k->new_email);
	hr_db_bind_text(st, 2, k->id);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	if (rc < 0)
		return rc;
	if (rc == HR_DB_ROW) {
		j->err.status = 400;
		j->err.message = "An error occurred while validating the submitted data.";
		hr_verrs_add(&j->err.data, HR_STR("token"), "validation_invalid_token_email",
			     token_message("validation_invalid_token_email"), NULL);
		return HR_EINVAL;
	}
	char tk[51];
	new_token_key(tk);
	hr_str b[2] = {k->new_email, hr_str_make(tk, 50)};
	rc = update_row(db, c, k, "\"email\" = ?3, \"verified\" = 1, \"tokenKey\" = ?4", b, 2);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return job_token_gone(j);
	j->status = 204;
	return 0;
}

static void email_pw_work(void *ud)
{
	api_job *j = ud;
	confirm *k = j->ud;
	api_hash_slot_take(j->r->api);
	k->ok = hr_password_verify(k->hash, k->pw, k->pwlen);
	api_hash_slot_give(j->r->api);
	sodium_memzero(k->pw, k->pwlen);
}

static void email_pw_done(hearth_req *req, void *ud)
{
	(void)req;
	api_job *j = ud;
	confirm *k = j->ud;
	api_req *r = j->r;
	atomic_fetch_sub(&r->api->hashing, 1);
	sodium_memzero(k->hash, sizeof k->hash);
	if (!k->ok) {
		api_guard_failed(r, k->email);
		hr_rerr e;
		hr_rerr_init(&e, r->a);
		hr_verrs_add(&e.data, HR_STR("password"), "validation_invalid_password",
			     "Missing or invalid account password.", NULL);
		fail_if_invalid(r, &e);
		return;
	}
	api_job_submit(j);
}

static void confirm_email_change(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	static const char *const keys[] = {"token", "password"};
	hr_str v[2];
	if (!read_form(r, keys, v, 2))
		return;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	required(&e, "token", v[0]);
	required(&e, "password", v[1]);
	hr_str who = token_identity(r, v[0]);
	if (!guard_token(r, who))
		return;
	hr_json *rec = NULL;
	hr_token_claims cl;
	if (v[0].len) {
		const char *code = check_token(r, c, v[0], &T_EMAIL, &rec, &cl);
		if (!code && !cl.new_email.len)
			code = "validation_invalid_token_payload";
		if (code) {
			api_guard_failed(r, who);
			hr_verrs_add(&e.data, HR_STR("token"), code, token_message(code), NULL);
		}
	}
	if (fail_if_invalid(r, &e))
		return;
	api_job *j = api_job_new(r, email_fn);
	confirm *k = hr_arena_alloc(r->a, sizeof *k);
	hr_str hash = opt_str(rec, "password");
	if (!j || !k || v[1].len > HR_PASSWORD_MAX) {
		api_error(r, 500, NULL);
		return;
	}
	memset(k, 0, sizeof *k);
	k->id = cl.id;
	k->token_key = opt_str(rec, "tokenKey");
	k->new_email = cl.new_email;
	k->email = cl.email;
	if (hash.len < sizeof k->hash)
		memcpy(k->hash, hash.ptr, hash.len);
	k->pw = hr_arena_dup(r->a, v[1].ptr, v[1].len);
	k->pwlen = v[1].len;
	j->ud = k;
	j->coll = c->id;
	atomic_fetch_add(&r->api->hashing, 1);
	if (!k->pw || hearth_req_offload(req, email_pw_work, email_pw_done, j) != 0) {
		atomic_fetch_sub(&r->api->hashing, 1);
		api_error(r, 500, NULL);
	}
}

/* ---- one-time passwords (§12.8) --------------------------------------- */

/*
 * §12.8: a record with more than HR_OTP_MAX_LIVE unexpired OTPs gets the
 * newest one's id again and no mail. One statement, the same whether or
 * not the address has a record. 1 with out filled, 0 (mint a new one),
 * <0 on error.
 */
static int otp_reuse(api_req *r, const hr_collection *c, hr_str email, char out[16])
{
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_printf(&sql,
		      "SELECT o.id, COUNT(*) OVER () FROM _otps o WHERE o.collectionRef = ?1 AND "
		      "o.expires > ?2 AND o.recordRef = (SELECT \"id\" FROM \"%.*s\" WHERE "
		      "\"email\" = ?3 LIMIT 1) ORDER BY o.rowid DESC LIMIT 1",
		      (int)c->name.len, c->name.ptr);
	hr_db_stmt *st;
	int rc = sql.err ? HR_ENOMEM
			 : hr_db_prepare(hr_store_reader(r->api->store, r->w),
					 hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, c->id);
	hr_db_bind_int64(st, 2, hr_time_now_ms());
	hr_db_bind_text(st, 3, email);
	rc = hr_db_step(st, NULL);
	int found = 0;
	if (rc == HR_DB_ROW && hr_db_column_int64(st, 1) > HR_OTP_MAX_LIVE) {
		hr_str id = hr_db_column_text(st, 0);
		if (id.len == 15) {
			memcpy(out, id.ptr, 15);
			out[15] = '\0';
			found = 1;
		}
	}
	hr_db_release(st);
	return rc < 0 ? rc : found;
}

static void request_otp(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (!opt_enabled(c, "otp", false)) {
		api_error(r, 403, "The collection is not configured to allow OTP authentication.");
		return;
	}
	hr_str email;
	if (!read_email_request(r, &email))
		return;
	char otp_id[16];
	int reuse = otp_reuse(r, c, email, otp_id);
	if (reuse < 0) {
		api_error(r, 500, NULL);
		return;
	}
	if (!reuse) {
		hr_rand_id(otp_id);
		flow_task *t = task_new(r, TASK_OTP, c);
		if (t) {
			copy_field(t->email, sizeof t->email, email);
			memcpy(t->otp_id, otp_id, sizeof otp_id);
		}
		task_post(r, t);
	}
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"otpId\":");
	hr_json_write_string(&b, hr_str_make(otp_id, 15));
	hr_buf_append_char(&b, '}');
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

typedef struct otp_try {
	hr_str otp_id, code;
	hr_str sent_to; /* the OTP's address once its row is found (request arena) */
	hr_str mfa_id;	/* a second factor's MFA session (§12.4) */
	hr_json *rec;	/* the authenticated record, on success */
	const hr_collection *c;
} otp_try;

static int otp_invalid(api_job *j, int status)
{
	j->err.status = status;
	j->err.message = status == 429 ? "Too many attempts, please try again later with a new OTP."
				       : "Invalid or expired OTP.";
	return HR_EINVAL;
}

static int otp_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	otp_try *o = j->ud;
	const hr_collection *c = hr_schema_find(schema, j->coll);
	if (!c)
		return otp_invalid(j, 400);
	hr_db_stmt *st;
	int rc = hr_db_prepare(db,
			       HR_STR("SELECT collectionRef, recordRef, password, sentTo, expires "
				      "FROM _otps WHERE id = ?1"),
			       &st, NULL);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, o->otp_id);
	if (hr_db_step(st, NULL) != HR_DB_ROW) {
		hr_db_release(st);
		return otp_invalid(j, 400);
	}
	hr_arena *a = j->r->a;
	hr_str coll = hr_db_column_text(st, 0), rid = hr_db_column_text(st, 1),
	       hash = hr_db_column_text(st, 2), sent = hr_db_column_text(st, 3);
	int64_t expires = hr_db_column_int64(st, 4);
	bool same_coll = hr_str_eq(coll, c->id);
	char *rid_c = hr_arena_dup(a, rid.ptr, rid.len), *sent_c = hr_arena_dup(a, sent.ptr, sent.len);
	char want[65] = "";
	if (hash.len == 64)
		memcpy(want, hash.ptr, 64);
	hr_db_release(st);
	if (!rid_c || !sent_c)
		return HR_ENOMEM;
	rid = hr_str_make(rid_c, rid.len);
	sent = hr_str_make(sent_c, sent.len);
	o->sent_to = sent;
	int64_t now = hr_time_now_ms();
	if (!same_coll || expires <= now)
		return otp_invalid(j, 400);
	/* attempts per record in a fixed window (writer-thread table) */
	uint64_t key = key_of("otp", c->id, rid);
	tries_slot *ts = &j->r->api->flows->tries[key % SLOTS];
	if (ts->key != key || now - ts->start_ms >= HR_OTP_WINDOW_S * 1000) {
		ts->key = key;
		ts->start_ms = now;
		ts->n = 0;
	}
	if (++ts->n > HR_OTP_MAX_TRIES)
		return otp_invalid(j, 429);
	char got[65];
	otp_hash(o->otp_id, o->code, got);
	if (strlen(want) != 64 || sodium_memcmp(got, want, 64) != 0)
		return otp_invalid(j, 400);
	if ((rc = hr_db_prepare(db, HR_STR("DELETE FROM _otps WHERE id = ?1"), &st, NULL)))
		return rc;
	hr_db_bind_text(st, 1, o->otp_id);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	if (rc < 0)
		return rc;
	hr_rule_req rq = api_job_rq(j, schema);
	hr_rctx x = {0};
	x.a = a;
	x.schema = schema;
	x.db = db;
	x.rq = &rq;
	x.now_ms = now;
	if (hr_records_load(&x, c, rid, &o->rec) != 0)
		return otp_invalid(j, 400);
	hr_json *v = hr_json_get(o->rec, "verified");
	if (!(v && v->type == HR_JSON_TRUE) && hr_str_eq(sent, opt_str(o->rec, "email"))) {
		/*
		 * First proof of owning the address: verified, and when MFA is
		 * off the password someone may have set before is dropped by
		 * storing a value that is no argon2id hash, so no password
		 * matches it; tokenKey rotates (§12.8). With MFA on, the
		 * password stays: it is the other factor.
		 */
		char tk[51], pw[51];
		new_token_key(tk);
		new_token_key(pw);
		confirm k = {.id = rid, .token_key = opt_str(o->rec, "tokenKey")};
		hr_str b[2] = {hr_str_make(tk, 50), hr_str_make(pw, 50)};
		rc = update_row(db, c, &k,
				api_mfa_enabled(c) ? "\"verified\" = 1, \"tokenKey\" = ?3"
						   : "\"verified\" = 1, \"tokenKey\" = ?3, \"password\" = ?4",
				b, api_mfa_enabled(c) ? 1 : 2);
		if (rc <= 0)
			return rc < 0 ? rc : otp_invalid(j, 400);
		if (hr_records_load(&x, c, rid, &o->rec) != 0)
			return HR_EINVAL;
	}
	return 0;
}

static void otp_finish(api_req *r, void *ud);

static void otp_after(api_job *j)
{
	api_req *r = j->r;
	otp_try *o = j->ud;
	if (j->err.status || !o->rec) {
		if (j->err.status == 400 || j->err.status == 429)
			api_guard_failed(r, o->sent_to);
		api_fail(r, &j->err);
		return;
	}
	const hr_collection *c = api_collection(r);
	if (!c) {
		api_error(r, 404, "Missing or invalid auth collection context.");
		return;
	}
	if (!api_auth_rule_ok(r, c, opt_str(o->rec, "id"))) {
		api_error(r, 403, "The request doesn't satisfy the collection requirements to authenticate.");
		return;
	}
	o->c = c;
	api_mfa_gate(r, c, o->rec, "otp", o->mfa_id, otp_finish, o);
}

/* The OTP (and any other factor) checked out: token and answer. */
static void otp_finish(api_req *r, void *ud)
{
	otp_try *o = ud;
	const hr_collection *c = o->c;
	hr_buf tok;
	hr_buf_init(&tok, HR_TOKEN_MAX);
	if (api_auth_token(r->a, c, o->rec, true, 0, &tok) != 0) {
		hr_buf_dispose(&tok);
		api_error(r, 500, NULL);
		return;
	}
	api_auth_send(r, c, o->rec, hr_str_make(tok.ptr, tok.len));
	hr_buf_dispose(&tok);
}

static void auth_with_otp(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c)
		return;
	if (!opt_enabled(c, "otp", false)) {
		api_error(r, 403, "The collection is not configured to allow OTP authentication.");
		return;
	}
	static const char *const keys[] = {"otpId", "password", "mfaId"};
	hr_str v[3];
	if (!read_form(r, keys, v, 3))
		return;
	hr_rerr e;
	hr_rerr_init(&e, r->a);
	required(&e, "otpId", v[0]);
	required(&e, "password", v[1]);
	if (v[0].len > 255)
		hr_verrs_add(&e.data, HR_STR("otpId"), "validation_length_out_of_range",
			     "The length must be between 1 and 255.", NULL);
	if (v[1].len > 71)
		hr_verrs_add(&e.data, HR_STR("password"), "validation_length_out_of_range",
			     "The length must be between 1 and 71.", NULL);
	if (fail_if_invalid(r, &e))
		return;
	api_job *j = api_job_new(r, otp_fn);
	otp_try *o = hr_arena_alloc(r->a, sizeof *o);
	if (!j || !o) {
		api_error(r, 500, NULL);
		return;
	}
	o->otp_id = v[0];
	o->code = v[1];
	o->sent_to = HR_STR("");
	o->mfa_id = v[2].len ? v[2] : api_mfa_id(r, NULL);
	o->rec = NULL;
	j->ud = o;
	j->coll = c->id;
	j->after = otp_after;
	api_job_submit(j);
}

/* ---- impersonation (§12.9) -------------------------------------------- */

static void impersonate(hearth_req *req, void *ud)
{
	api_req *r;
	const hr_collection *c = flow_begin(ud, req, &r);
	if (!c || !api_require_superuser(r))
		return;
	hr_body body;
	if (!api_body(r, &body, "An error occurred while loading the submitted data."))
		return;
	hr_json *d = hr_json_get(body.obj, "duration");
	int64_t duration = 0;
	if (d && d->type != HR_JSON_NULL) {
		if (d->type != HR_JSON_NUMBER) {
			api_error(r, 400, "An error occurred while loading the submitted data.");
			return;
		}
		if (d->u.n.num < 0) {
			hr_rerr e;
			hr_rerr_init(&e, r->a);
			hr_verrs_add(&e.data, HR_STR("duration"), "validation_min_greater_equal_than_required",
				     "Must be no less than 0.", NULL);
			fail_if_invalid(r, &e);
			return;
		}
		duration = d->u.n.num > 3.0e9 ? 3000000000LL : (int64_t)d->u.n.num;
	}
	hearth_str id = hearth_req_param(req, "id");
	hr_rctx x;
	api_rctx(r, hr_store_reader(r->api->store, r->w), &x);
	hr_json *rec;
	if (!id.ptr || hr_records_load(&x, c, hr_str_make(id.ptr, id.len), &rec) != 0) {
		api_error(r, 404, NULL);
		return;
	}
	hr_buf tok;
	hr_buf_init(&tok, HR_TOKEN_MAX);
	if (api_auth_token(r->a, c, rec, false, duration, &tok) != 0) {
		hr_buf_dispose(&tok);
		api_error(r, 500, NULL);
		return;
	}
	api_auth_send(r, c, rec, hr_str_make(tok.ptr, tok.len));
	hr_buf_dispose(&tok);
}

int hr_api_flows_register(hr_api *api, hearth_server *s)
{
	static const struct {
		const char *path;
		hearth_handler fn;
	} routes[] = {
		{"/api/collections/{collection}/request-verification", request_verification},
		{"/api/collections/{collection}/confirm-verification", confirm_verification},
		{"/api/collections/{collection}/request-password-reset", request_password_reset},
		{"/api/collections/{collection}/confirm-password-reset", confirm_password_reset},
		{"/api/collections/{collection}/request-email-change", request_email_change},
		{"/api/collections/{collection}/confirm-email-change", confirm_email_change},
		{"/api/collections/{collection}/request-otp", request_otp},
		{"/api/collections/{collection}/auth-with-otp", auth_with_otp},
		{"/api/collections/{collection}/impersonate/{id}", impersonate},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		int rc = hearth_route(s, "POST", routes[i].path, routes[i].fn, api);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * api/mfa.c - multi-factor auth (DIALECT.md §12.4): the gate every auth
 * method passes after it has checked its own secret and before a token is
 * minted.
 *
 * With the collection's mfa.enabled (always for _superusers with OTP on),
 * a first method on a record that matches mfa.rule (empty: every record)
 * does not log in: it stores an MFA session in _mfas (created at
 * bootstrap, schema.c) naming the record and the method, and answers 401
 * {"mfaId": id}. The client then passes mfaId (query parameter or body
 * key) to a different method; when that one succeeds too, the session is
 * deleted and the method's normal answer follows. An mfaId presented
 * while MFA is off is ignored, so a client that always sends it works
 * either way; the rule is not checked for a second factor (the session
 * already says the first one was required).
 *
 * Both steps are writer jobs, so a session is used once even by two
 * concurrent requests: the DELETE runs in the job that checked the row.
 * A failed second factor leaves the session in place, for a retry within
 * mfa.duration; expired rows are swept when a new session is stored.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

#define HR_MFA_DEF_DURATION_S 600

typedef struct mfa_gate {
	hr_str coll, rec_id, mfa_id;
	const char *method;
	char new_id[16];
	int64_t duration_s;
	api_mfa_next next;
	void *ud;
} mfa_gate;

static bool json_true(const hr_json *o, const char *key)
{
	const hr_json *v = o ? hr_json_get(o, key) : NULL;
	return v && v->type == HR_JSON_TRUE;
}

static int gate_fail(api_job *j, const char *msg)
{
	j->err.status = 400;
	j->err.message = msg;
	return HR_EINVAL;
}

/* Writer: stores a new session (sweeping expired ones first). */
static int create_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	(void)schema;
	mfa_gate *g = j->ud;
	int64_t now = hr_time_now_ms();
	int rc = api_exec_int(db, HR_STR("DELETE FROM _mfas WHERE expires <= ?1"), now);
	if (rc < 0)
		return rc;
	hr_db_stmt *st;
	rc = hr_db_prepare(db,
			   HR_STR("INSERT INTO _mfas (id, collectionRef, recordRef, method, created, "
				  "expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
			   &st, NULL);
	if (rc)
		return rc;
	char created[HR_TIME_LEN + 1];
	hr_time_format(now, created);
	hr_db_bind_text(st, 1, hr_str_make(g->new_id, 15));
	hr_db_bind_text(st, 2, g->coll);
	hr_db_bind_text(st, 3, g->rec_id);
	hr_db_bind_text(st, 4, hr_str_make(g->method, strlen(g->method)));
	hr_db_bind_text(st, 5, hr_str_make(created, HR_TIME_LEN));
	hr_db_bind_int64(st, 6, now + g->duration_s * 1000);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc == HR_DB_DONE ? 0 : rc < 0 ? rc : HR_EINVAL;
}

/* Writer: checks the presented session against this record and method,
 * and consumes it. */
static int check_fn(api_job *j, hr_db *db, const hr_schema *schema)
{
	(void)schema;
	mfa_gate *g = j->ud;
	hr_db_stmt *st;
	int rc = hr_db_prepare(
		db, HR_STR("SELECT collectionRef, recordRef, method, expires FROM _mfas WHERE id = ?1"),
		&st, NULL);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, g->mfa_id);
	if (hr_db_step(st, NULL) != HR_DB_ROW) {
		hr_db_release(st);
		return gate_fail(j, "Invalid or expired MFA session.");
	}
	bool expired = hr_db_column_int64(st, 3) <= hr_time_now_ms();
	bool same_rec = hr_str_eq(hr_db_column_text(st, 0), g->coll) &&
			hr_str_eq(hr_db_column_text(st, 1), g->rec_id);
	bool same_method = hr_str_eq(hr_db_column_text(st, 2), hr_str_make(g->method, strlen(g->method)));
	hr_db_release(st);
	if (expired)
		return gate_fail(j, "Invalid or expired MFA session.");
	if (!same_rec)
		return gate_fail(j, "Invalid MFA session.");
	if (same_method)
		return gate_fail(j, "A different authentication method is required.");
	if ((rc = hr_db_prepare(db, HR_STR("DELETE FROM _mfas WHERE id = ?1"), &st, NULL)))
		return rc;
	hr_db_bind_text(st, 1, g->mfa_id);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc < 0 ? rc : 0;
}

static void gate_after(api_job *j)
{
	api_req *r = j->r;
	mfa_gate *g = j->ud;
	if (j->err.status) {
		api_fail(r, &j->err);
		return;
	}
	if (g->mfa_id.len) {
		g->next(r, g->ud);
		return;
	}
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"mfaId\":");
	hr_json_write_string(&b, hr_str_make(g->new_id, 15));
	hr_buf_append_char(&b, '}');
	api_send(r, 401, &b);
	hr_buf_dispose(&b);
}

bool api_mfa_enabled(const hr_collection *c)
{
	if (json_true(api_coll_opt(c, "mfa"), "enabled"))
		return true;
	return hr_str_eq_lit(c->id, HR_SUPERUSERS_ID) && json_true(api_coll_opt(c, "otp"), "enabled");
}

hr_str api_mfa_id(api_req *r, const hr_json *body)
{
	const hr_json *v = body ? hr_json_get(body, "mfaId") : NULL;
	if (v && v->type == HR_JSON_STRING && v->u.str.len)
		return v->u.str;
	return api_query(r, "mfaId");
}

void api_mfa_gate(api_req *r, const hr_collection *c, const hr_json *rec, const char *method,
		  hr_str mfa_id, api_mfa_next next, void *ud)
{
	if (!api_mfa_enabled(c)) {
		next(r, ud);
		return;
	}
	const hr_json *m = api_coll_opt(c, "mfa");
	const hr_json *idv = hr_json_get(rec, "id");
	hr_str id = idv && idv->type == HR_JSON_STRING ? idv->u.str : HR_STR("");
	if (!mfa_id.len) {
		const hr_json *rule = m ? hr_json_get(m, "rule") : NULL;
		if (rule && rule->type == HR_JSON_STRING && rule->u.str.len &&
		    !api_record_rule_ok(r, c, id, rule->u.str)) {
			next(r, ud);
			return;
		}
	}
	mfa_gate *g = hr_arena_alloc(r->a, sizeof *g);
	api_job *j = api_job_new(r, mfa_id.len ? check_fn : create_fn);
	if (!g || !j) {
		api_error(r, 500, NULL);
		return;
	}
	memset(g, 0, sizeof *g);
	g->coll = c->id;
	g->rec_id = id;
	g->mfa_id = mfa_id;
	g->method = method;
	const hr_json *d = m ? hr_json_get(m, "duration") : NULL;
	g->duration_s = d && d->type == HR_JSON_NUMBER && d->u.n.num >= 1 && d->u.n.num <= 1e9
				? (int64_t)d->u.n.num
				: HR_MFA_DEF_DURATION_S;
	if (!mfa_id.len)
		hr_rand_id(g->new_id);
	g->next = next;
	g->ud = ud;
	j->ud = g;
	j->coll = c->id;
	j->after = gate_after;
	api_job_submit(j);
}

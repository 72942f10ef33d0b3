/*
 * records/records.c - see records.h.
 *
 * IN MEMORY a fetched record is an hr_rec: its collection, one hr_val per
 * field, and the expansions hung on it. Records are written with their keys
 * in byte order (fields, collectionId, collectionName, expand), as upstream
 * emits them (DIALECT.md §1.6); the order is computed once per collection
 * per operation.
 *
 * QUERIES name their columns in field order ("SELECT r."id", r."title" ...")
 * so a record reads the same whatever order ALTER TABLE left the table in.
 * Paging is stable (getFullList pages until a short page): a sort that an
 * index delivers returns equal keys in index order, which every index
 * ends with the rowid; a sort SQLite performs gets the rowid appended as a
 * tie-breaker (hr_db_sorts decides, once per statement).
 *
 * EXPAND resolves the normalised paths as a tree: each distinct segment is
 * fetched once for all parents with one query (WHERE id IN json_each(?)),
 * filtered by the target's viewRule, and the children of that segment are
 * then resolved over the fetched records. A failing segment silently
 * drops that branch, as §9.1 says.
 *
 * WRITES run inside the writer's savepoint: validation first (all field
 * errors reported together), then relation targets, then the INSERT or
 * UPDATE; a unique violation becomes validation_not_unique on the
 * offending keys. Deletes clean up every relation that points at the
 * record (remove the id, cascade, or refuse when a required relation would
 * become empty) before the row goes.
 *
 * AUTH RECORDS (§7.5, §11.2): manager access is the manageRule evaluated
 * like the update rule (for a create, over the virtual row); it unlocks
 * email and verified, a password change without oldPassword, and the
 * email in output. The oldPassword itself is verified before the writer
 * job, off the event loop, and arrives as hr_rctx.old_password_ok. Email
 * visibility for a non-owner costs one rule query per auth record written,
 * and only when the collection has a non-empty manageRule and the
 * requester is signed in.
 */
#include "records/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

#define EXPAND_MAX_DEPTH 6
#define BACKREL_LIMIT 1000
#define DELETE_MAX_DEPTH 32

typedef struct hr_rec hr_rec;

typedef struct rec_expand {
	hr_str key;	 /* field name or back-relation segment */
	bool many;	 /* array (multiple / back-relation) or single object */
	hr_rec **recs;
	unsigned n;
	struct rec_expand *next;
} rec_expand;

struct hr_rec {
	const hr_collection *c;
	hr_val *vals;
	rec_expand *expand;
	bool has_expand; /* a requested expand resolved for this record */
};

void hr_rerr_init(hr_rerr *e, hr_arena *a)
{
	e->status = 0;
	e->message = NULL;
	hr_verrs_init(&e->data, a);
}

static int set_err(hr_rerr *e, int status, const char *msg)
{
	e->status = status;
	e->message = msg;
	return HR_EPARSE;
}

static int db_fail(hr_rerr *e, int rc)
{
	if (rc == HR_DB_E_INTERRUPTED)
		return set_err(e, 400, "The query took too long and was stopped.");
	return set_err(e, 500, NULL);
}

static bool is_superuser(const hr_rctx *x)
{
	return x->rq && x->rq->superuser;
}

static void q_ident(hr_buf *b, hr_str s)
{
	hr_buf_append_char(b, '"');
	hr_buf_append_str(b, s);
	hr_buf_append_char(b, '"');
}

/* "r"."a", "r"."b", ... in field order */
/* A buffer for SQL text, with room for a typical statement up front so
 * that building one costs one allocation. */
static void sql_buf_init(hr_buf *b, size_t max)
{
	hr_buf_init(b, max);
	hr_buf_reserve(b, 1024);
}

static void columns(hr_buf *b, const hr_collection *c, const char *alias)
{
	for (unsigned i = 0; i < c->nfields; i++) {
		if (i)
			hr_buf_append_cstr(b, ", ");
		if (alias) {
			hr_buf_append_cstr(b, alias);
			hr_buf_append_char(b, '.');
		}
		q_ident(b, c->fields[i].name);
	}
}

static hr_rec *rec_from_row(hr_rctx *x, const hr_collection *c, hr_db_stmt *st)
{
	hr_rec *r = hr_arena_alloc(x->a, sizeof *r);
	if (!r)
		return NULL;
	memset(r, 0, sizeof *r);
	r->c = c;
	r->vals = hr_arena_alloc(x->a, (c->nfields + 1) * sizeof(hr_val));
	if (!r->vals)
		return NULL;
	for (unsigned i = 0; i < c->nfields; i++)
		hr_field_from_column(x->a, &c->fields[i], st, (int)i, &r->vals[i]);
	return r;
}

static hr_str rec_id(const hr_rec *r)
{
	int i = hr_coll_field_index(r->c, HR_STR("id"));
	return i >= 0 ? r->vals[i].s : HR_STR("");
}

/* ---- visibility and writing ------------------------------------------- */

typedef struct keyref {
	hr_str name;
	int field; /* -1 collectionId, -2 collectionName, -3 expand */
} keyref;

static int cmp_key(const void *a, const void *b)
{
	const keyref *x = a, *y = b;
	size_t n = HR_MIN(x->name.len, y->name.len);
	int c = memcmp(x->name.ptr, y->name.ptr, n);
	return c ? c : (x->name.len < y->name.len ? -1 : x->name.len > y->name.len);
}

static bool field_visible(const hr_rctx *x, const hr_field *f)
{
	if (f->type == HR_FT_PASSWORD)
		return false;
	if (hr_str_eq_lit(f->name, "tokenKey") && f->system)
		return false;
	if (f->hidden && !is_superuser(x))
		return false;
	return true;
}

static bool can_manage(hr_rctx *x, const hr_collection *c, hr_str id);

static bool email_visible(hr_rctx *x, const hr_rec *r, bool always_email)
{
	if (always_email || is_superuser(x))
		return true;
	int ev = hr_coll_field_index(r->c, HR_STR("emailVisibility"));
	if (ev >= 0 && r->vals[ev].b)
		return true;
	const hr_rule_req *q = x->rq;
	if (q && q->auth_coll && hr_str_eq(q->auth_coll->id, r->c->id) &&
	    hr_str_eq(q->auth_id, rec_id(r)))
		return true;
	return can_manage(x, r->c, rec_id(r));
}

static void write_rec(hr_rctx *x, const hr_rec *r, bool always_email, hr_buf *out);

static void write_expand(hr_rctx *x, const hr_rec *r, hr_buf *out)
{
	hr_buf_append_char(out, '{');
	/* keys of expand in byte order */
	unsigned n = 0;
	for (rec_expand *e = r->expand; e; e = e->next)
		n++;
	rec_expand **v = hr_arena_alloc(x->a, (n + 1) * sizeof *v);
	if (!v) {
		hr_buf_append_char(out, '}');
		return;
	}
	n = 0;
	for (rec_expand *e = r->expand; e; e = e->next)
		v[n++] = e;
	for (unsigned i = 1; i < n; i++)
		for (unsigned k = i; k > 0; k--) {
			hr_str p = v[k - 1]->key, q = v[k]->key;
			size_t m = HR_MIN(p.len, q.len);
			int c = memcmp(p.ptr, q.ptr, m);
			if (c > 0 || (c == 0 && p.len > q.len)) {
				rec_expand *t = v[k - 1];
				v[k - 1] = v[k];
				v[k] = t;
			} else {
				break;
			}
		}
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		rec_expand *e = v[i];
		if (!e->many && e->n == 0)
			continue; /* a single relation with no visible target: no key */
		if (e->many && e->n == 0)
			continue;
		if (!first)
			hr_buf_append_char(out, ',');
		first = false;
		hr_json_write_string(out, e->key);
		hr_buf_append_char(out, ':');
		if (e->many) {
			hr_buf_append_char(out, '[');
			for (unsigned k = 0; k < e->n; k++) {
				if (k)
					hr_buf_append_char(out, ',');
				write_rec(x, e->recs[k], false, out);
			}
			hr_buf_append_char(out, ']');
		} else {
			write_rec(x, e->recs[0], false, out);
		}
	}
	hr_buf_append_char(out, '}');
}

/* Every key a record of c can have, in byte order; computed once per
 * collection per operation. Visibility is decided per record when writing. */
typedef struct key_order {
	const hr_collection *c;
	keyref *keys;
	unsigned n;
	struct key_order *next;
} key_order;

static const key_order *keys_for(hr_rctx *x, const hr_collection *c)
{
	for (key_order *k = x->key_orders; k; k = k->next)
		if (k->c == c)
			return k;
	key_order *k = hr_arena_alloc(x->a, sizeof *k);
	keyref *keys = hr_arena_alloc(x->a, (c->nfields + 3) * sizeof *keys);
	if (!k || !keys)
		return NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < c->nfields; i++)
		keys[n++] = (keyref){c->fields[i].name, (int)i};
	keys[n++] = (keyref){HR_STR("collectionId"), -1};
	keys[n++] = (keyref){HR_STR("collectionName"), -2};
	keys[n++] = (keyref){HR_STR("expand"), -3};
	qsort(keys, n, sizeof *keys, cmp_key);
	k->c = c;
	k->keys = keys;
	k->n = n;
	k->next = x->key_orders;
	x->key_orders = k;
	return k;
}

static void write_rec(hr_rctx *x, const hr_rec *r, bool always_email, hr_buf *out)
{
	const hr_collection *c = r->c;
	const key_order *ko = keys_for(x, c);
	if (!ko) {
		out->err = HR_ENOMEM;
		return;
	}
	bool auth = c->type == HR_COLL_AUTH;
	bool first = true;
	hr_buf_append_char(out, '{');
	for (unsigned i = 0; i < ko->n; i++) {
		const keyref *k = &ko->keys[i];
		if (k->field >= 0) {
			const hr_field *f = &c->fields[k->field];
			if (!field_visible(x, f))
				continue;
			if (auth && f->system && hr_str_eq_lit(f->name, "email") &&
			    !email_visible(x, r, always_email))
				continue;
		} else if (k->field == -3 && !r->has_expand) {
			continue;
		}
		if (!first)
			hr_buf_append_char(out, ',');
		first = false;
		hr_json_write_string(out, k->name);
		hr_buf_append_char(out, ':');
		switch (k->field) {
		case -1:
			hr_json_write_string(out, c->id);
			break;
		case -2:
			hr_json_write_string(out, c->name);
			break;
		case -3:
			write_expand(x, r, out);
			break;
		default:
			hr_field_write(out, &c->fields[k->field], &r->vals[k->field]);
		}
	}
	hr_buf_append_char(out, '}');
}

/* ---- rules ------------------------------------------------------------ */

/* Appends " AND (rule)" for kind when it applies; 403 when the rule is null. */
static int rule_clause(hr_rctx *x, hr_sql_ctx *sx, const hr_collection *c, int kind, hr_buf *where,
		       hr_rerr *err)
{
	if (is_superuser(x))
		return 0;
	if (!c->rule_set[kind])
		return set_err(err, 403, "Only superusers can perform this action.");
	if (c->rules[kind].len == 0)
		return 0;
	hr_buf_append_cstr(where, " AND ");
	if (hr_sql_where_text(sx, c, HR_STR("r"), c->rules[kind], where) != 0) {
		/* A stored rule that no longer compiles hides everything. */
		return set_err(err, 400, "The collection rule is invalid.");
	}
	return 0;
}

/* ---- expand ----------------------------------------------------------- */

typedef struct enode {
	hr_str seg;
	struct enode *kids, *next;
} enode;

static enode *enode_child(hr_arena *a, enode *parent, hr_str seg)
{
	for (enode *k = parent->kids; k; k = k->next)
		if (hr_str_eq(k->seg, seg))
			return k;
	enode *k = hr_arena_alloc(a, sizeof *k);
	if (!k)
		return NULL;
	memset(k, 0, sizeof *k);
	k->seg = seg;
	k->next = parent->kids;
	parent->kids = k;
	return k;
}

/* Normalises "a, a.b ,,x" into a segment tree (§9.1); spaces removed. */
static enode *expand_tree(hr_arena *a, hr_str raw)
{
	enode *root = hr_arena_alloc(a, sizeof *root);
	if (!root)
		return NULL;
	memset(root, 0, sizeof *root);
	char *buf = hr_arena_alloc(a, raw.len + 1);
	if (!buf)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < raw.len; i++)
		if (raw.ptr[i] != ' ' && raw.ptr[i] != '\t')
			buf[n++] = raw.ptr[i];
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		while (i < n && buf[i] != ',')
			i++;
		size_t e = i++;
		while (s < e && buf[s] == '.')
			s++;
		while (e > s && buf[e - 1] == '.')
			e--;
		if (e == s)
			continue;
		enode *cur = root;
		size_t k = s;
		unsigned depth = 0;
		while (k < e && depth < EXPAND_MAX_DEPTH) {
			size_t ss = k;
			while (k < e && buf[k] != '.')
				k++;
			if (k > ss)
				cur = enode_child(a, cur, hr_str_make(buf + ss, k - ss));
			if (!cur)
				return NULL;
			k++;
			depth++;
		}
	}
	return root;
}

static int expand_level(hr_rctx *x, hr_rec **parents, unsigned np, const enode *node);

/* Fetches records of t matching `where` (with ?1 bound to ids JSON) under
 * t's view rule (context "expand"). */
static int fetch_for_expand(hr_rctx *x, const hr_collection *t, hr_str cond_sql, hr_str ids_json,
			    hr_rec ***out, unsigned *nout)
{
	*out = NULL;
	*nout = 0;
	if (!is_superuser(x) && !t->rule_set[HR_RULE_VIEW])
		return 1; /* a null rule fails the segment for non-superusers */
	hr_rule_req rq = *x->rq;
	rq.context = HR_STR("expand");
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, x->a, x->schema, &rq, false);
	hr_buf where, sql;
	hr_buf_init(&where, 4u << 20);
	hr_buf_init(&sql, 8u << 20);
	int rc = 0;
	hr_sql_param_text(&sx, &where, ids_json); /* becomes ?1 */
	hr_buf_reset(&where);
	hr_buf_append_str(&where, cond_sql);
	if (!is_superuser(x) && t->rules[HR_RULE_VIEW].len) {
		hr_buf_append_cstr(&where, " AND ");
		if (hr_sql_where_text(&sx, t, HR_STR("r"), t->rules[HR_RULE_VIEW], &where) != 0) {
			rc = 1;
			goto out;
		}
	}
	hr_buf_append_cstr(&sql, sx.distinct ? "SELECT DISTINCT " : "SELECT ");
	columns(&sql, t, "r");
	hr_buf_append_cstr(&sql, " FROM ");
	q_ident(&sql, t->name);
	hr_buf_append_cstr(&sql, " r");
	hr_buf_append_str(&sql, hr_str_make(sx.joins.ptr ? sx.joins.ptr : "", sx.joins.len));
	hr_buf_append_cstr(&sql, " WHERE ");
	hr_buf_append_str(&sql, hr_str_make(where.ptr, where.len));
	if (t->type != HR_COLL_VIEW)
		hr_buf_append_cstr(&sql, " ORDER BY r._rowid_");
	if (sql.err) {
		rc = HR_ENOMEM;
		goto out;
	}
	hr_db_stmt *st;
	rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	if (rc)
		goto out;
	hr_sql_bind(&sx, st);
	unsigned cap = 16, n = 0;
	hr_rec **v = hr_arena_alloc(x->a, cap * sizeof *v);
	while (v && (rc = hr_db_step(st, NULL)) == HR_DB_ROW) {
		if (n == cap) {
			hr_rec **nv = hr_arena_alloc(x->a, cap * 2 * sizeof *nv);
			if (!nv) {
				v = NULL;
				break;
			}
			memcpy(nv, v, n * sizeof *v);
			v = nv;
			cap *= 2;
		}
		v[n] = rec_from_row(x, t, st);
		if (!v[n])
			break;
		n++;
	}
	hr_db_release(st);
	rc = rc < 0 ? rc : 0;
	*out = v;
	*nout = n;
out:
	hr_buf_dispose(&where);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&sx);
	return rc;
}

static void attach(hr_rctx *x, hr_rec *p, hr_str key, bool many, hr_rec **recs, unsigned n)
{
	rec_expand *e = hr_arena_alloc(x->a, sizeof *e);
	if (!e)
		return;
	e->key = key;
	e->many = many;
	e->recs = recs;
	e->n = n;
	e->next = p->expand;
	p->expand = e;
	p->has_expand = true;
}

static int expand_segment(hr_rctx *x, hr_rec **parents, unsigned np, const enode *node)
{
	const hr_collection *pc = parents[0]->c;
	hr_str seg = node->seg;
	/* legacy "coll(field)" spelling of a back-relation */
	char legacy[300];
	const char *lp = memchr(seg.ptr, '(', seg.len);
	if (lp && seg.len < 280 && seg.ptr[seg.len - 1] == ')') {
		int k = snprintf(legacy, sizeof legacy, "%.*s_via_%.*s", (int)(lp - seg.ptr), seg.ptr,
				 (int)(seg.len - (size_t)(lp - seg.ptr) - 2), lp + 1);
		seg = hr_str_make(hr_arena_dup(x->a, legacy, (size_t)k), (size_t)k);
	}
	const hr_field *f = hr_coll_field(pc, seg);
	hr_rec **got;
	unsigned ng;
	if (f && f->type == HR_FT_RELATION) {
		const hr_collection *t = hr_schema_find(x->schema, f->collection_id);
		if (!t)
			return 0;
		int fi = hr_coll_field_index(pc, f->name);
		/* all ids of all parents */
		unsigned cap = 0;
		hr_str **lists = hr_arena_alloc(x->a, np * sizeof *lists);
		unsigned *counts = hr_arena_alloc(x->a, np * sizeof *counts);
		if (!lists || !counts)
			return HR_ENOMEM;
		for (unsigned i = 0; i < np; i++) {
			counts[i] = hr_val_list(x->a, &parents[i]->vals[fi], &lists[i]);
			cap += counts[i];
		}
		hr_str *all = hr_arena_alloc(x->a, (cap + 1) * sizeof *all);
		if (!all)
			return HR_ENOMEM;
		unsigned na = 0;
		for (unsigned i = 0; i < np; i++)
			for (unsigned k = 0; k < counts[i]; k++)
				all[na++] = lists[i][k];
		for (unsigned i = 0; i < np; i++)
			parents[i]->has_expand = true;
		if (na == 0)
			return 0;
		int rc = fetch_for_expand(x, t, HR_STR("r.\"id\" IN (SELECT value FROM json_each(?1))"),
					  hr_val_make_list(x->a, all, na), &got, &ng);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (node->kids && ng)
			expand_level(x, got, ng, node);
		bool many = hr_field_multi(f);
		for (unsigned i = 0; i < np; i++) {
			hr_rec **mine = hr_arena_alloc(x->a, (counts[i] + 1) * sizeof *mine);
			if (!mine)
				return HR_ENOMEM;
			unsigned nm = 0;
			for (unsigned k = 0; k < counts[i]; k++)
				for (unsigned g = 0; g < ng; g++)
					if (hr_str_eq(rec_id(got[g]), lists[i][k])) {
						mine[nm++] = got[g];
						break;
					}
			attach(x, parents[i], f->name, many, mine, nm);
		}
		return 0;
	}
	/* back-relation: other_via_field */
	const char *via = NULL;
	for (size_t i = 0; i + 5 <= seg.len; i++)
		if (memcmp(seg.ptr + i, "_via_", 5) == 0) {
			via = seg.ptr + i;
			break;
		}
	if (!via)
		return 0;
	hr_str cname = hr_str_make(seg.ptr, (size_t)(via - seg.ptr));
	hr_str fname = hr_str_make(via + 5, seg.len - cname.len - 5);
	const hr_collection *o = hr_schema_find(x->schema, cname);
	const hr_field *bf = o ? hr_coll_field(o, fname) : NULL;
	if (!o || !bf || bf->type != HR_FT_RELATION || !hr_str_eq(bf->collection_id, pc->id))
		return 0;
	hr_str *ids = hr_arena_alloc(x->a, (np + 1) * sizeof *ids);
	if (!ids)
		return HR_ENOMEM;
	for (unsigned i = 0; i < np; i++) {
		ids[i] = rec_id(parents[i]);
		parents[i]->has_expand = true;
	}
	hr_buf cond;
	hr_buf_init(&cond, 4096);
	if (hr_field_multi(bf)) {
		hr_buf_append_cstr(&cond, "EXISTS (SELECT 1 FROM json_each(r.");
		q_ident(&cond, bf->name);
		hr_buf_append_cstr(&cond, ") je WHERE je.value IN (SELECT value FROM json_each(?1)))");
	} else {
		hr_buf_append_cstr(&cond, "r.");
		q_ident(&cond, bf->name);
		hr_buf_append_cstr(&cond, " IN (SELECT value FROM json_each(?1))");
	}
	hr_str cs = hr_str_make(hr_arena_dup(x->a, cond.ptr ? cond.ptr : "", cond.len), cond.len);
	hr_buf_dispose(&cond);
	int rc = fetch_for_expand(x, o, cs, hr_val_make_list(x->a, ids, np), &got, &ng);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (node->kids && ng)
		expand_level(x, got, ng, node);
	bool many = true;
	int bfi = hr_coll_field_index(o, bf->name);
	/* a single relation covered by a single-column unique index expands to one object */
	for (unsigned i = 0; i < o->indexes.n && !hr_field_multi(bf); i++) {
		hr_buf tmp;
		hr_buf_init(&tmp, 0);
		hr_str name, cols[2];
		unsigned ncols = 0;
		bool uniq = false;
		if (hr_schema_index_normalize(o->indexes.v[i], o->name, &tmp, &name, &uniq, cols, &ncols,
					      2) &&
		    uniq && ncols == 1 && hr_str_eq(cols[0], bf->name))
			many = false;
		hr_buf_dispose(&tmp);
	}
	for (unsigned i = 0; i < np; i++) {
		hr_rec **mine = hr_arena_alloc(x->a, (ng + 1) * sizeof *mine);
		if (!mine)
			return HR_ENOMEM;
		unsigned nm = 0;
		for (unsigned g = 0; g < ng && nm < BACKREL_LIMIT; g++) {
			hr_str *refs;
			unsigned nr = hr_val_list(x->a, &got[g]->vals[bfi], &refs);
			for (unsigned k = 0; k < nr; k++)
				if (hr_str_eq(refs[k], ids[i])) {
					mine[nm++] = got[g];
					break;
				}
		}
		attach(x, parents[i], seg, many, mine, many ? nm : HR_MIN(nm, 1u));
	}
	return 0;
}

static int expand_level(hr_rctx *x, hr_rec **parents, unsigned np, const enode *node)
{
	for (const enode *k = node->kids; k; k = k->next) {
		int rc = expand_segment(x, parents, np, k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int expand(hr_rctx *x, hr_rec **recs, unsigned n)
{
	if (x->expand.len == 0 || n == 0)
		return 0;
	enode *root = expand_tree(x->a, x->expand);
	if (!root)
		return HR_ENOMEM;
	return expand_level(x, recs, n, root);
}

/* ---- list totals cache ------------------------------------------------ */

void hr_count_cache_dispose(hr_count_cache *cc)
{
	for (unsigned i = 0; i < HR_COUNT_CACHE; i++) {
		free(cc->e[i].key);
		cc->e[i].key = NULL;
	}
}

/* key = SQL text, NUL, then each parameter's type and value */
static hr_str count_key(hr_rctx *x, hr_str sql, const hr_sql_ctx *sx)
{
	hr_buf b;
	hr_buf_init(&b, 16u << 20);
	hr_buf_append_str(&b, sql);
	for (unsigned i = 0; i < sx->nparams; i++) {
		const hr_sql_param *p = &sx->params[i];
		hr_buf_append_char(&b, '\0');
		hr_buf_append_char(&b, (char)('0' + p->type));
		if (p->type == HR_SQLP_TEXT)
			hr_buf_append_str(&b, p->text);
		else if (p->type == HR_SQLP_NUM)
			hr_buf_append(&b, &p->num, sizeof p->num);
		else if (p->type == HR_SQLP_INT)
			hr_buf_append(&b, &p->i, sizeof p->i);
	}
	hr_str k = b.err ? HR_STR_NULL : hr_str_make(hr_arena_dup(x->a, b.ptr, b.len), b.len);
	hr_buf_dispose(&b);
	return k;
}

static uint64_t fnv64(hr_str s)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ull;
	return h;
}

static bool count_get(hr_rctx *x, hr_str key, uint64_t h, int64_t *out)
{
	if (!x->counts || !key.ptr)
		return false;
	unsigned i = (unsigned)(h % HR_COUNT_CACHE);
	hr_count_entry *e = &x->counts->e[i];
	if (e->key && e->hash == h && e->gen == x->data_gen && e->keylen == key.len &&
	    memcmp(e->key, key.ptr, key.len) == 0) {
		*out = e->count;
		return true;
	}
	return false;
}

static void count_put(hr_rctx *x, hr_str key, uint64_t h, int64_t n)
{
	if (!x->counts || !key.ptr || key.len > (64u << 10))
		return;
	unsigned i = (unsigned)(h % HR_COUNT_CACHE);
	hr_count_entry *e = &x->counts->e[i];
	char *k = malloc(key.len ? key.len : 1);
	if (!k)
		return;
	memcpy(k, key.ptr, key.len);
	free(e->key);
	e->key = k;
	e->keylen = key.len;
	e->hash = h;
	e->gen = x->data_gen;
	e->count = n;
}

/* ---- list and view ---------------------------------------------------- */

static bool forbidden_substring(hr_str s)
{
	for (size_t i = 0; i + 1 < s.len; i++) {
		if (s.ptr[i] != '@')
			continue;
		hr_str rest = hr_str_make(s.ptr + i, s.len - i);
		if (hr_str_istarts(rest, HR_STR("@collection.")) || hr_str_istarts(rest, HR_STR("@request.")))
			return true;
	}
	return false;
}

int hr_records_list(hr_rctx *x, const hr_collection *c, const hr_list_params *p, hr_buf *out,
		    hr_rerr *err)
{
	bool su = is_superuser(x);
	if (!su && !c->rule_set[HR_RULE_LIST])
		return set_err(err, 403, "Only superusers can perform this action.");
	if (!su) {
		if (forbidden_substring(p->filter) || forbidden_substring(p->sort)) {
			bool coll = false;
			hr_str both[2] = {p->filter, p->sort};
			for (int k = 0; k < 2; k++)
				for (size_t i = 0; i + 12 <= both[k].len; i++)
					if (memcmp(both[k].ptr + i, "@collection.", 12) == 0)
						coll = true;
			return set_err(err, 403, coll ? "Only superusers can filter by @collection."
						      : "Only superusers can filter by @request.");
		}
	}
	if (p->filter.len > 3500)
		return set_err(err, 400, "The filter expression is too long (limit 3500 bytes).");
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, x->a, x->schema, x->rq, true);
	hr_buf where, order, sql;
	sql_buf_init(&where, 4u << 20);
	hr_buf_init(&order, 1u << 20);
	sql_buf_init(&sql, 8u << 20);
	int rc = 0;
	hr_buf_append_cstr(&where, "1=1");
	/* The rule is not a client filter: its own restrictions do not apply. */
	sx.client = false;
	if ((rc = rule_clause(x, &sx, c, HR_RULE_LIST, &where, err)))
		goto out;
	sx.client = true;
	if (p->filter.len) {
		hr_buf_append_cstr(&where, " AND ");
		if (hr_sql_where_text(&sx, c, HR_STR("r"), p->filter, &where) != 0) {
			char *m = hr_arena_printf(x->a, "Invalid filter: %s (at byte %zu).",
						  sx.err_msg ? sx.err_msg : "syntax error", sx.err_pos);
			rc = set_err(err, sx.status, sx.status == 403 ? sx.err_msg : m);
			goto out;
		}
	}
	if (p->sort.len) {
		hr_sort_item *items;
		unsigned n;
		hr_filter_error fe;
		if (hr_sort_parse(x->a, p->sort.ptr, p->sort.len, 8, &items, &n, &fe) != 0) {
			rc = set_err(err, 400,
				     hr_arena_printf(x->a, "Invalid sort: %s.", fe.message ? fe.message : "syntax error"));
			goto out;
		}
		if (n && hr_sql_order(&sx, c, HR_STR("r"), items, n, &order) != 0) {
			rc = set_err(err, sx.status,
				     hr_arena_printf(x->a, "Invalid sort: %s.", sx.err_msg ? sx.err_msg : "invalid sort field"));
			goto out;
		}
	}
	int64_t per = p->per_page, page = p->page;
	int64_t total = -1;
	hr_db_stmt *st = NULL;
	hr_str joins = hr_str_make(sx.joins.ptr ? sx.joins.ptr : "", sx.joins.len);
	if (!p->skip_total) {
		hr_buf_append_cstr(&sql, sx.distinct ? "SELECT COUNT(DISTINCT r.\"id\") FROM "
						     : "SELECT COUNT(*) FROM ");
		q_ident(&sql, c->name);
		hr_buf_append_cstr(&sql, " r");
		hr_buf_append_str(&sql, joins);
		hr_buf_append_cstr(&sql, " WHERE ");
		hr_buf_append_str(&sql, hr_str_make(where.ptr, where.len));
		if (sql.err) {
			rc = set_err(err, 400, "The query is too large.");
			goto out;
		}
		hr_db_error de;
		hr_str key = count_key(x, hr_str_make(sql.ptr, sql.len), &sx);
		uint64_t kh = fnv64(key);
		if (!count_get(x, key, kh, &total)) {
			hr_db_budget_start(x->db);
			rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, &de);
			if (rc == 0) {
				hr_sql_bind(&sx, st);
				rc = hr_db_step(st, &de);
				if (rc == HR_DB_ROW)
					total = hr_db_column_int64(st, 0);
				hr_db_release(st);
			}
			hr_db_budget_stop(x->db);
			if (rc < 0) {
				rc = db_fail(err, rc);
				goto out;
			}
			/* @random-free counts only: a rule with @now-style macros is
			 * still keyed by its bound values, so it cannot go stale */
			count_put(x, key, kh, total);
		}
		hr_buf_reset(&sql);
	}
	unsigned limit_idx = sx.nparams + 1;
	hr_buf_append_cstr(&sql, sx.distinct ? "SELECT DISTINCT " : "SELECT ");
	columns(&sql, c, "r");
	hr_buf_append_cstr(&sql, " FROM ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " r");
	hr_buf_append_str(&sql, joins);
	hr_buf_append_cstr(&sql, " WHERE ");
	hr_buf_append_str(&sql, hr_str_make(where.ptr, where.len));
	hr_buf_append_cstr(&sql, " ORDER BY ");
	size_t head = sql.len;
	bool tie = true;
	if (order.len) {
		/* Without a tie-breaker first: when an index delivers the order,
		 * equal keys come in index order, which is stable from page to
		 * page, and the walk stops after LIMIT rows. */
		hr_buf_append_str(&sql, hr_str_make(order.ptr, order.len));
		hr_buf_printf(&sql, " LIMIT ?%u OFFSET ?%u", limit_idx, limit_idx + 1);
		if (!sql.err && hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL) == 0) {
			tie = hr_db_sorts(st);
			if (tie) {
				hr_db_release(st);
				st = NULL;
			}
		}
		if (tie) {
			sql.len = head;
			hr_buf_append_str(&sql, hr_str_make(order.ptr, order.len));
			hr_buf_append_cstr(&sql, ", ");
		}
	}
	if (tie) {
		hr_buf_append_cstr(&sql, c->type == HR_COLL_VIEW ? "r.\"id\"" : "r._rowid_");
		/* the tie-breaker follows the last sort key's direction */
		if (order.len >= 5 && memcmp(order.ptr + order.len - 5, " DESC", 5) == 0)
			hr_buf_append_cstr(&sql, " DESC");
		hr_buf_printf(&sql, " LIMIT ?%u OFFSET ?%u", limit_idx, limit_idx + 1);
		if (sql.err) {
			rc = set_err(err, 400, "The query is too large.");
			goto out;
		}
		rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
		if (rc) {
			rc = db_fail(err, rc);
			goto out;
		}
	}
	hr_db_error de;
	hr_sql_bind(&sx, st);
	hr_db_bind_int64(st, (int)limit_idx, per);
	hr_db_bind_int64(st, (int)limit_idx + 1, (page - 1) * per);
	hr_rec **recs = hr_arena_alloc(x->a, ((size_t)per + 1) * sizeof *recs);
	unsigned n = 0;
	hr_db_budget_start(x->db);
	while (recs && (rc = hr_db_step(st, &de)) == HR_DB_ROW) {
		recs[n] = rec_from_row(x, c, st);
		if (!recs[n])
			break;
		n++;
	}
	hr_db_budget_stop(x->db);
	hr_db_release(st);
	if (rc < 0) {
		rc = db_fail(err, rc);
		goto out;
	}
	if (!recs) {
		rc = set_err(err, 500, NULL);
		goto out;
	}
	rc = expand(x, recs, n);
	if (rc) {
		rc = db_fail(err, rc);
		goto out;
	}
	hr_buf_append_cstr(out, "{\"items\":[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			hr_buf_append_char(out, ',');
		write_rec(x, recs[i], false, out);
	}
	hr_buf_printf(out, "],\"page\":%lld,\"perPage\":%lld,\"totalItems\":%lld,\"totalPages\":%lld}",
		      (long long)page, (long long)per, (long long)total,
		      (long long)(total < 0 ? -1 : (total + per - 1) / per));
	rc = 0;
out:
	hr_buf_dispose(&where);
	hr_buf_dispose(&order);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&sx);
	return rc;
}

/* Fetches one record by id, with the rule of `kind` unless kind < 0.
 * Returns 0 with *out, HR_ENOENT, or an error already in err. */
static int fetch_one(hr_rctx *x, const hr_collection *c, hr_str id, int kind, hr_rec **out,
		     hr_rerr *err)
{
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, x->a, x->schema, x->rq, false);
	hr_buf where, sql;
	sql_buf_init(&where, 4u << 20);
	sql_buf_init(&sql, 8u << 20);
	int rc = 0;
	hr_buf_append_cstr(&where, "r.\"id\" = ");
	hr_sql_param_text(&sx, &where, id);
	if (kind >= 0 && (rc = rule_clause(x, &sx, c, kind, &where, err)))
		goto out;
	hr_buf_append_cstr(&sql, "SELECT ");
	columns(&sql, c, "r");
	hr_buf_append_cstr(&sql, " FROM ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " r");
	hr_buf_append_str(&sql, hr_str_make(sx.joins.ptr ? sx.joins.ptr : "", sx.joins.len));
	hr_buf_append_cstr(&sql, " WHERE ");
	hr_buf_append_str(&sql, hr_str_make(where.ptr, where.len));
	hr_buf_append_cstr(&sql, " LIMIT 1");
	if (sql.err) {
		rc = set_err(err, 500, NULL);
		goto out;
	}
	hr_db_stmt *st;
	hr_db_error de;
	rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, &de);
	if (rc) {
		rc = db_fail(err, rc);
		goto out;
	}
	hr_sql_bind(&sx, st);
	rc = hr_db_step(st, &de);
	if (rc == HR_DB_ROW) {
		*out = rec_from_row(x, c, st);
		rc = *out ? 0 : set_err(err, 500, NULL);
	} else if (rc == HR_DB_DONE) {
		rc = HR_ENOENT;
	} else {
		rc = db_fail(err, rc);
	}
	hr_db_release(st);
out:
	hr_buf_dispose(&where);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&sx);
	return rc;
}

static int not_found(hr_rerr *err)
{
	return set_err(err, 404, "The requested resource wasn't found.");
}

/* Can manageRule grant anything at all to this requester (§7.5)? */
static bool manage_applies(const hr_rctx *x, const hr_collection *c)
{
	return c->type == HR_COLL_AUTH && c->rule_set[HR_RULE_MANAGE] && c->rules[HR_RULE_MANAGE].len &&
	       x->rq->auth_id.len;
}

/*
 * Manager access to the stored auth record id (§7.5): superusers, or a
 * signed-in requester for whom the record satisfies the non-empty
 * manageRule, evaluated like an update rule (x->rq carries the body).
 */
static bool can_manage(hr_rctx *x, const hr_collection *c, hr_str id)
{
	if (is_superuser(x))
		return true;
	if (!manage_applies(x, c))
		return false;
	hr_rerr e;
	hr_rerr_init(&e, x->a);
	hr_rec *r;
	return fetch_one(x, c, id, HR_RULE_MANAGE, &r, &e) == 0;
}

int hr_records_view(hr_rctx *x, const hr_collection *c, hr_str id, hr_buf *out, hr_rerr *err)
{
	if (!is_superuser(x) && !c->rule_set[HR_RULE_VIEW])
		return set_err(err, 403, "Only superusers can perform this action.");
	hr_rec *r;
	int rc = fetch_one(x, c, id, HR_RULE_VIEW, &r, err);
	if (rc == HR_ENOENT)
		return not_found(err);
	if (rc)
		return rc;
	if ((rc = expand(x, &r, 1)))
		return db_fail(err, rc);
	write_rec(x, r, false, out);
	return 0;
}

/* ---- create and update ------------------------------------------------ */

/* A body key split into field name and modifier. */
typedef struct bkey {
	hr_str field;
	char mod; /* 0, '+', '^' (prepend), '-', 'a' (:autogenerate) */
	const hr_json *val;
	hr_str key; /* as sent */
} bkey;

static bool parse_key(hr_str k, bkey *out)
{
	out->key = k;
	out->mod = 0;
	out->field = k;
	if (k.len > 13 && memcmp(k.ptr + k.len - 13, ":autogenerate", 13) == 0) {
		out->mod = 'a';
		out->field = hr_str_make(k.ptr, k.len - 13);
	} else if (k.len > 1 && k.ptr[k.len - 1] == '+') {
		out->mod = '+';
		out->field = hr_str_make(k.ptr, k.len - 1);
	} else if (k.len > 1 && k.ptr[k.len - 1] == '-') {
		out->mod = '-';
		out->field = hr_str_make(k.ptr, k.len - 1);
	} else if (k.len > 1 && k.ptr[0] == '+') {
		out->mod = '^';
		out->field = hr_str_make(k.ptr + 1, k.len - 1);
	}
	return out->field.len > 0;
}

static int cmp_bkey(const void *a, const void *b)
{
	const bkey *x = a, *y = b;
	return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}

/*
 * Applies body over vals (§8.3, §8.6). submitted[i] marks fields the body
 * set. Returns false (err set) when the body itself is unusable.
 */
static void apply_body(hr_rctx *x, const hr_collection *c, const hr_json *body, hr_val *vals,
		       bool *submitted, hr_verrs *errs)
{
	size_t n = body ? body->u.obj.len : 0;
	bkey *keys = hr_arena_alloc(x->a, (n + 1) * sizeof *keys);
	if (!keys)
		return;
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		bkey k;
		if (!parse_key(body->u.obj.members[i].key, &k))
			continue;
		k.val = body->u.obj.members[i].value;
		keys[nk++] = k;
	}
	/* Shortest key first: {"n":10,"n+":5} -> 15 */
	qsort(keys, nk, sizeof *keys, cmp_bkey);
	bool su = is_superuser(x);
	for (size_t i = 0; i < nk; i++) {
		int fi = hr_coll_field_index(c, keys[i].field);
		if (fi < 0)
			continue;
		const hr_field *f = &c->fields[fi];
		if (f->type == HR_FT_AUTODATE)
			continue;
		if (f->hidden && !su && f->type != HR_FT_PASSWORD)
			continue;
		if (hr_str_eq_lit(f->name, "tokenKey") && f->system)
			continue;
		if (keys[i].mod == 'a') {
			if (f->type != HR_FT_TEXT || f->autogen.len == 0)
				continue;
			hr_str gen;
			if (!hr_field_autogen(x->a, f->autogen, &gen))
				continue;
			hr_val v;
			hr_field_set(x->a, f, keys[i].val, &v);
			char *s = hr_arena_printf(x->a, "%.*s%.*s", (int)v.s.len, v.s.ptr, (int)gen.len,
						  gen.ptr);
			vals[fi].kind = HR_V_TEXT;
			vals[fi].s = s ? hr_str_make(s, strlen(s)) : HR_STR("");
		} else if (keys[i].mod) {
			if (!hr_field_modify(x->a, f, keys[i].mod, keys[i].val, &vals[fi]))
				continue;
		} else {
			hr_field_set(x->a, f, keys[i].val, &vals[fi]);
		}
		submitted[fi] = true;
	}
	(void)errs;
}

/* @request.body for rules: the submitted keys with their resolved values. */
static hr_json *body_for_rules(hr_rctx *x, const hr_collection *c, const hr_json *body,
			       const hr_val *vals, const bool *submitted)
{
	hr_json *o = hr_arena_alloc(x->a, sizeof *o);
	if (!o)
		return NULL;
	memset(o, 0, sizeof *o);
	o->type = HR_JSON_OBJECT;
	size_t cap = (body ? body->u.obj.len : 0) + c->nfields + 1;
	o->u.obj.members = hr_arena_alloc(x->a, cap * sizeof(hr_json_member));
	if (!o->u.obj.members)
		return NULL;
	bool su = is_superuser(x);
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (!submitted[i] || (f->hidden && !su))
			continue;
		hr_json_member *m = &o->u.obj.members[o->u.obj.len++];
		m->key = f->name;
		m->value = hr_val_to_json(x->a, f, &vals[i]);
	}
	/* non-field keys are visible as submitted */
	for (size_t i = 0; body && i < body->u.obj.len; i++) {
		bkey k;
		if (!parse_key(body->u.obj.members[i].key, &k) || hr_coll_field(c, k.field))
			continue;
		hr_json_member *m = &o->u.obj.members[o->u.obj.len++];
		*m = body->u.obj.members[i];
	}
	return o;
}

/* Every relation id must exist in its target (§4.2 relation). */
static void check_relations(hr_rctx *x, const hr_collection *c, const hr_val *vals,
			    const bool *submitted, hr_verrs *errs)
{
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (f->type != HR_FT_RELATION || !submitted[i] || hr_verrs_has(errs, f->name))
			continue;
		hr_str *ids;
		unsigned n = hr_val_list(x->a, &vals[i], &ids);
		if (n == 0)
			continue;
		const hr_collection *t = hr_schema_find(x->schema, f->collection_id);
		int64_t found = -1;
		if (t) {
			hr_buf sql;
			hr_buf_init(&sql, 4096);
			hr_buf_append_cstr(&sql, "SELECT COUNT(*) FROM ");
			q_ident(&sql, t->name);
			hr_buf_append_cstr(&sql, " WHERE \"id\" IN (SELECT value FROM json_each(?1))");
			hr_db_stmt *st;
			if (!sql.err && hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL) == 0) {
				hr_db_bind_text(st, 1, hr_val_make_list(x->a, ids, n));
				if (hr_db_step(st, NULL) == HR_DB_ROW)
					found = hr_db_column_int64(st, 0);
				hr_db_release(st);
			}
			hr_buf_dispose(&sql);
		}
		if (found != (int64_t)n)
			hr_verrs_add(errs, f->name, "validation_missing_rel_records",
				     "Failed to find all relation records with the provided ids.", NULL);
	}
}

/* Maps "col1,col2" from a unique violation onto validation_not_unique. */
static void unique_errors(hr_rctx *x, const hr_collection *c, const char *cols, hr_verrs *errs)
{
	const char *p = cols;
	bool any = false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		hr_str name = hr_str_make(p, n);
		if (hr_coll_field(c, name)) {
			char *k = hr_arena_dup(x->a, p, n);
			if (k)
				hr_verrs_add(errs, hr_str_make(k, n), "validation_not_unique",
					     "Value must be unique.", NULL);
			any = true;
		}
		p = e ? e + 1 : p + n;
	}
	if (!any)
		hr_verrs_add(errs, HR_STR("id"), "validation_not_unique", "Value must be unique.", NULL);
}

/* Runs rule kind over the create's virtual row (§7.4). true when it holds. */
static int virtual_rule_holds(hr_rctx *x, const hr_collection *c, int kind, const hr_val *vals,
			      bool *holds)
{
	*holds = true;
	if (is_superuser(x) || c->rules[kind].len == 0)
		return 0;
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, x->a, x->schema, x->rq, false);
	hr_buf sql, where;
	hr_buf_init(&sql, 8u << 20);
	hr_buf_init(&where, 4u << 20);
	int rc = 0;
	/* WITH "name" AS (SELECT ?1 AS "id", ...) SELECT 1 FROM "name" r ... */
	hr_buf_append_cstr(&sql, "WITH ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " AS (SELECT ");
	unsigned first = sx.nparams + 1;
	for (unsigned i = 0; i < c->nfields; i++) {
		if (i)
			hr_buf_append_cstr(&sql, ", ");
		hr_buf_printf(&sql, "?%u AS ", first + i);
		q_ident(&sql, c->fields[i].name);
	}
	/* reserve the placeholders: bound after the rule's own parameters */
	for (unsigned i = 0; i < c->nfields; i++)
		hr_sql_param_text(&sx, &where, HR_STR(""));
	hr_buf_reset(&where);
	hr_buf_append_cstr(&sql, ") SELECT 1 FROM ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " r");
	if (hr_sql_where_text(&sx, c, HR_STR("r"), c->rules[kind], &where) != 0) {
		*holds = false;
		goto out;
	}
	hr_buf_append_str(&sql, hr_str_make(sx.joins.ptr ? sx.joins.ptr : "", sx.joins.len));
	hr_buf_append_cstr(&sql, " WHERE ");
	hr_buf_append_str(&sql, hr_str_make(where.ptr, where.len));
	hr_buf_append_cstr(&sql, " LIMIT 1");
	if (sql.err) {
		rc = HR_ENOMEM;
		goto out;
	}
	hr_db_stmt *st;
	if ((rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL)))
		goto out;
	hr_sql_bind(&sx, st);
	for (unsigned i = 0; i < c->nfields; i++)
		hr_field_bind(st, (int)(first + i), &vals[i]);
	rc = hr_db_step(st, NULL);
	*holds = rc == HR_DB_ROW;
	rc = rc < 0 ? rc : 0;
	hr_db_release(st);
out:
	hr_buf_dispose(&sql);
	hr_buf_dispose(&where);
	hr_sql_ctx_dispose(&sx);
	return rc;
}

static hr_str body_text(const hr_json *body, const char *key)
{
	const hr_json *v = hr_json_get(body, key);
	return v && v->type == HR_JSON_STRING ? v->u.str : HR_STR("");
}

/*
 * Auth-record form checks (§11.2): email and verified are locked unless the
 * requester has manager access, password needs passwordConfirm and, for an
 * owner's update, a verified oldPassword; a password or email change
 * regenerates tokenKey. stored is the record before the update (NULL on
 * create); vals already hold the submitted values.
 */
static void auth_form(hr_rctx *x, const hr_collection *c, const hr_json *body, hr_val *vals,
		      const hr_val *stored, bool *submitted, bool manager, hr_verrs *errs)
{
	if (c->type != HR_COLL_AUTH)
		return;
	bool creating = stored == NULL;
	bool email_changed = false;
	int ei = hr_coll_field_index(c, HR_STR("email"));
	if (!creating && ei >= 0 && submitted[ei] && !hr_str_eq(vals[ei].s, stored[ei].s)) {
		email_changed = true;
		if (!manager)
			hr_verrs_add(errs, HR_STR("email"), "validation_values_mismatch", "Values don't match.",
				     NULL);
	}
	int vi = hr_coll_field_index(c, HR_STR("verified"));
	if (vi >= 0 && !manager && vals[vi].b != (creating ? false : stored[vi].b))
		hr_verrs_add(errs, HR_STR("verified"), "validation_values_mismatch", "Values don't match.",
			     NULL);
	int pi = hr_coll_field_index(c, HR_STR("password"));
	if (pi < 0)
		return;
	hr_str plain = body_text(body, "password");
	hr_str conf = body_text(body, "passwordConfirm");
	hr_str oldpw = body_text(body, "oldPassword");
	submitted[pi] = false;
	if (plain.len == 0 && (creating || conf.len || oldpw.len))
		hr_verrs_add(errs, HR_STR("password"), "validation_required", "Cannot be blank.", NULL);
	if (plain.len) {
		hr_val pv = {HR_V_TEXT, plain, 0, false};
		hr_field_validate(x->a, &c->fields[pi], &pv, errs, HR_STR("password"));
	}
	if (creating || plain.len || oldpw.len) {
		if (conf.len == 0)
			hr_verrs_add(errs, HR_STR("passwordConfirm"), "validation_required", "Cannot be blank.",
				     NULL);
		else if (!hr_str_eq(plain, conf))
			hr_verrs_add(errs, HR_STR("passwordConfirm"), "validation_values_mismatch",
				     "Values don't match.", NULL);
	}
	if (!creating && !manager && plain.len) {
		if (oldpw.len == 0)
			hr_verrs_add(errs, HR_STR("oldPassword"), "validation_required", "Cannot be blank.",
				     NULL);
		else if (!x->old_password_ok)
			hr_verrs_add(errs, HR_STR("oldPassword"), "validation_invalid_old_password",
				     "Missing or invalid old password.", NULL);
	}
	if (plain.len) {
		if (x->password_hash.len) {
			vals[pi].kind = HR_V_TEXT;
			vals[pi].s = x->password_hash;
			submitted[pi] = true;
		} else {
			hr_verrs_add(errs, HR_STR("password"), "validation_invalid_format",
				     "Invalid value format.", NULL);
		}
	} else if (!creating) {
		vals[pi] = stored[pi];
	}
	/* a password or email change invalidates every token: new tokenKey */
	int tk = hr_coll_field_index(c, HR_STR("tokenKey"));
	if (tk >= 0 && !creating && (plain.len || email_changed)) {
		hr_str gen;
		if (hr_field_autogen(x->a, c->fields[tk].autogen, &gen)) {
			vals[tk].kind = HR_V_TEXT;
			vals[tk].s = gen;
			submitted[tk] = true;
		}
	}
}

/* An auth record id must be unique across every auth collection (§11.2). */
static int auth_id_taken(hr_rctx *x, const hr_collection *c, hr_str id, bool *taken)
{
	*taken = false;
	if (c->type != HR_COLL_AUTH)
		return 0;
	for (unsigned k = 0; k < x->schema->n && !*taken; k++) {
		const hr_collection *o = &x->schema->cols[k];
		if (o->type != HR_COLL_AUTH || hr_str_eq(o->id, c->id))
			continue;
		hr_buf sql;
		hr_buf_init(&sql, 1u << 16);
		hr_buf_append_cstr(&sql, "SELECT 1 FROM ");
		q_ident(&sql, o->name);
		hr_buf_append_cstr(&sql, " WHERE \"id\" = ?1 LIMIT 1");
		hr_db_stmt *st;
		int rc = sql.err ? HR_ENOMEM : hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
		hr_buf_dispose(&sql);
		if (rc)
			return rc;
		hr_val v = {HR_V_TEXT, id, 0, false};
		hr_field_bind(st, 1, &v);
		rc = hr_db_step(st, NULL);
		hr_db_release(st);
		if (rc < 0)
			return rc;
		*taken = rc == HR_DB_ROW;
	}
	return 0;
}

/*
 * INSERT or UPDATE of the fields in which[] (all of them for an insert).
 * The stored row comes back through RETURNING into *row, as a read would
 * give it; *row stays NULL when nothing was written (an empty update).
 */
static int write_values(hr_rctx *x, const hr_collection *c, const hr_val *vals, const bool *which,
			bool insert, hr_str old_id, hr_rec **row, hr_rerr *err)
{
	*row = NULL;
	hr_buf sql;
	sql_buf_init(&sql, 8u << 20);
	unsigned n = 0;
	if (insert) {
		hr_buf_append_cstr(&sql, "INSERT INTO ");
		q_ident(&sql, c->name);
		hr_buf_append_cstr(&sql, " (");
		for (unsigned i = 0; i < c->nfields; i++) {
			if (n++)
				hr_buf_append_cstr(&sql, ", ");
			q_ident(&sql, c->fields[i].name);
		}
		hr_buf_append_cstr(&sql, ") VALUES (");
		for (unsigned i = 0; i < c->nfields; i++) {
			hr_buf_append_cstr(&sql, i ? ", ?" : "?");
			hr_buf_append_u64(&sql, i + 1);
		}
		hr_buf_append_char(&sql, ')');
	} else {
		hr_buf_append_cstr(&sql, "UPDATE ");
		q_ident(&sql, c->name);
		hr_buf_append_cstr(&sql, " SET ");
		for (unsigned i = 0; i < c->nfields; i++) {
			if (!which[i])
				continue;
			if (n++)
				hr_buf_append_cstr(&sql, ", ");
			q_ident(&sql, c->fields[i].name);
			hr_buf_printf(&sql, " = ?%u", i + 1);
		}
		if (n == 0) {
			hr_buf_dispose(&sql);
			return 0;
		}
		hr_buf_printf(&sql, " WHERE \"id\" = ?%u", c->nfields + 1);
	}
	hr_buf_append_cstr(&sql, " RETURNING ");
	columns(&sql, c, NULL);
	int rc;
	hr_db_stmt *st;
	hr_db_error de;
	if (sql.err || (rc = hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, &de))) {
		hr_buf_dispose(&sql);
		return set_err(err, 500, NULL);
	}
	hr_buf_dispose(&sql);
	for (unsigned i = 0; i < c->nfields; i++)
		if (insert || which[i])
			hr_field_bind(st, (int)i + 1, &vals[i]);
	if (!insert)
		hr_db_bind_text(st, (int)c->nfields + 1, old_id);
	rc = hr_db_step(st, &de);
	if (rc == HR_DB_ROW) {
		*row = rec_from_row(x, c, st);
		hr_db_release(st);
		return *row ? 0 : set_err(err, 500, NULL);
	}
	hr_db_release(st);
	if (rc == HR_DB_DONE)
		return 0;
	if (rc == HR_DB_E_UNIQUE) {
		unique_errors(x, c, de.columns, &err->data);
		return set_err(err, 400, insert ? "Failed to create record." : "Failed to update record.");
	}
	if (rc == HR_DB_E_CONSTRAINT)
		return set_err(err, 400, insert ? "Failed to create record." : "Failed to update record.");
	return db_fail(err, rc);
}

static void set_autodates(hr_rctx *x, const hr_collection *c, hr_val *vals, bool *which,
			  bool creating)
{
	char *now = hr_arena_alloc(x->a, HR_TIME_LEN + 1);
	if (!now)
		return;
	hr_time_format(x->now_ms ? x->now_ms : hr_time_now_ms(), now);
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (f->type != HR_FT_AUTODATE)
			continue;
		if ((creating && f->on_create) || (!creating && f->on_update)) {
			vals[i].kind = HR_V_TEXT;
			vals[i].s = hr_str_make(now, HR_TIME_LEN);
			which[i] = true;
		}
	}
}

int hr_records_create(hr_rctx *x, const hr_collection *c, const hr_json *body, hr_buf *out,
		      hr_rerr *err)
{
	if (c->type == HR_COLL_VIEW)
		return set_err(err, 400, "Unsupported collection type.");
	if (!is_superuser(x) && !c->rule_set[HR_RULE_CREATE])
		return set_err(err, 403, "Only superusers can perform this action.");
	hr_val *vals = hr_arena_alloc(x->a, (c->nfields + 1) * sizeof *vals);
	bool *sub = hr_arena_alloc(x->a, c->nfields + 1);
	if (!vals || !sub)
		return set_err(err, 500, NULL);
	memset(sub, 0, c->nfields + 1);
	for (unsigned i = 0; i < c->nfields; i++)
		hr_field_zero(&c->fields[i], &vals[i]);
	hr_verrs *errs = &err->data;
	apply_body(x, c, body, vals, sub, errs);
	/* generated values: id, tokenKey, other autogenerate patterns */
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (f->type == HR_FT_TEXT && f->autogen.len && vals[i].s.len == 0) {
			hr_str gen;
			/* the default pattern: time-ordered (core/rand.h); any
			 * other pattern is drawn at random in full */
			if (f->primary_key && hr_str_eq(f->autogen, HR_STR("[a-z0-9]{15}"))) {
				char *id = hr_arena_alloc(x->a, 16);
				if (!id)
					return set_err(err, 500, NULL);
				hr_rand_record_id(id, x->now_ms ? x->now_ms : hr_time_now_ms());
				vals[i].s = (hr_str){id, 15};
				sub[i] = true;
				continue;
			}
			if (hr_field_autogen(x->a, f->autogen, &gen)) {
				vals[i].s = gen;
				sub[i] = true;
			}
		}
	}
	set_autodates(x, c, vals, sub, true);
	/* the rules see the virtual row and the submitted body (§7.1) */
	hr_rule_req rq = *x->rq;
	rq.body = body_for_rules(x, c, body, vals, sub);
	const hr_rule_req *saved = x->rq;
	x->rq = &rq;
	/* an auth record's virtual row is unverified whatever was sent (§7.1) */
	const hr_val *rule_vals = vals;
	int vi = c->type == HR_COLL_AUTH ? hr_coll_field_index(c, HR_STR("verified")) : -1;
	if (vi >= 0) {
		hr_val *copy = hr_arena_alloc(x->a, c->nfields * sizeof *copy);
		if (!copy)
			return set_err(err, 500, NULL);
		memcpy(copy, vals, c->nfields * sizeof *copy);
		hr_field_zero(&c->fields[vi], &copy[vi]);
		rule_vals = copy;
	}
	bool holds;
	int rc = virtual_rule_holds(x, c, HR_RULE_CREATE, rule_vals, &holds);
	bool manager = is_superuser(x);
	if (rc == 0 && holds && !manager && manage_applies(x, c))
		rc = virtual_rule_holds(x, c, HR_RULE_MANAGE, rule_vals, &manager);
	x->rq = saved;
	if (rc)
		return db_fail(err, rc);
	if (!holds)
		return set_err(err, 400, "Failed to create record.");
	if (c->type == HR_COLL_AUTH) {
		auth_form(x, c, body, vals, NULL, sub, manager, errs);
		int idi = hr_coll_field_index(c, HR_STR("id"));
		bool taken = false;
		if (idi >= 0 && (rc = auth_id_taken(x, c, vals[idi].s, &taken)))
			return db_fail(err, rc);
		if (taken)
			hr_verrs_add(errs, HR_STR("id"), "validation_invalid_auth_id",
				     "Invalid or already existing auth record id.", NULL);
	}
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (f->type == HR_FT_PASSWORD || f->type == HR_FT_AUTODATE)
			continue;
		hr_field_validate(x->a, f, &vals[i], errs, f->name);
	}
	check_relations(x, c, vals, sub, errs);
	if (errs->n)
		return set_err(err, 400, "Failed to create record.");
	hr_rec *r;
	if ((rc = write_values(x, c, vals, sub, true, HR_STR(""), &r, err)))
		return rc;
	if (!r)
		return set_err(err, 500, NULL);
	if ((rc = expand(x, &r, 1)))
		return db_fail(err, rc);
	write_rec(x, r, false, out);
	return 0;
}

int hr_records_update(hr_rctx *x, const hr_collection *c, hr_str id, const hr_json *body,
		      hr_buf *out, hr_rerr *err)
{
	if (c->type == HR_COLL_VIEW)
		return set_err(err, 400, "Unsupported collection type.");
	if (!is_superuser(x) && !c->rule_set[HR_RULE_UPDATE])
		return set_err(err, 403, "Only superusers can perform this action.");
	hr_rec *r;
	int rc = fetch_one(x, c, id, -1, &r, err);
	if (rc == HR_ENOENT)
		return not_found(err);
	if (rc)
		return rc;
	hr_val *vals = r->vals;
	bool *sub = hr_arena_alloc(x->a, c->nfields + 1);
	if (!sub)
		return set_err(err, 500, NULL);
	memset(sub, 0, c->nfields + 1);
	hr_verrs *errs = &err->data;
	/* The rule sees the stored record and the submitted body (§7.3). */
	hr_val *newv = hr_arena_alloc(x->a, (c->nfields + 1) * sizeof *newv);
	if (!newv)
		return set_err(err, 500, NULL);
	memcpy(newv, vals, c->nfields * sizeof *newv);
	apply_body(x, c, body, newv, sub, errs);
	hr_rule_req rq = *x->rq;
	rq.body = body_for_rules(x, c, body, newv, sub);
	const hr_rule_req *saved = x->rq;
	x->rq = &rq;
	if (!is_superuser(x) && c->rules[HR_RULE_UPDATE].len) {
		hr_rec *vis;
		rc = fetch_one(x, c, id, HR_RULE_UPDATE, &vis, err);
		if (rc) {
			x->rq = saved;
			return rc == HR_ENOENT ? not_found(err) : rc;
		}
	}
	bool manager = c->type == HR_COLL_AUTH && can_manage(x, c, id);
	x->rq = saved;
	int idi = hr_coll_field_index(c, HR_STR("id"));
	if (idi >= 0 && sub[idi] && !hr_str_eq(newv[idi].s, id))
		hr_verrs_add(errs, HR_STR("id"), "validation_pk_change", "The record primary key cannot be changed.",
			     NULL);
	auth_form(x, c, body, newv, vals, sub, manager, errs);
	if (errs->n)
		return set_err(err, 400, "Failed to update record.");
	set_autodates(x, c, newv, sub, false);
	for (unsigned i = 0; i < c->nfields; i++) {
		const hr_field *f = &c->fields[i];
		if (!sub[i] || f->type == HR_FT_PASSWORD || f->type == HR_FT_AUTODATE)
			continue;
		hr_field_validate(x->a, f, &newv[i], errs, f->name);
	}
	check_relations(x, c, newv, sub, errs);
	if (errs->n)
		return set_err(err, 400, "Failed to update record.");
	hr_rec *stored;
	if ((rc = write_values(x, c, newv, sub, false, id, &stored, err)))
		return rc;
	if (stored)
		r = stored;
	else if ((rc = fetch_one(x, c, id, -1, &r, err)) != 0)
		return rc == HR_ENOENT ? set_err(err, 500, NULL) : rc;
	if ((rc = expand(x, &r, 1)))
		return db_fail(err, rc);
	write_rec(x, r, false, out);
	return 0;
}

/* ---- delete ----------------------------------------------------------- */

static int delete_row(hr_rctx *x, const hr_collection *c, hr_str id, unsigned depth, hr_rerr *err);

/* Removes id from every relation that points at collection c (§4.2). */
static int clear_references(hr_rctx *x, const hr_collection *c, hr_str id, unsigned depth,
			    hr_rerr *err)
{
	for (unsigned ci = 0; ci < x->schema->n; ci++) {
		const hr_collection *o = &x->schema->cols[ci];
		if (o->type == HR_COLL_VIEW)
			continue;
		for (unsigned fi = 0; fi < o->nfields; fi++) {
			const hr_field *f = &o->fields[fi];
			if (f->type != HR_FT_RELATION || !hr_str_eq(f->collection_id, c->id))
				continue;
			bool multi = hr_field_multi(f);
			hr_buf sql;
			hr_buf_init(&sql, 4096);
			hr_buf_append_cstr(&sql, "SELECT \"id\", ");
			q_ident(&sql, f->name);
			hr_buf_append_cstr(&sql, " FROM ");
			q_ident(&sql, o->name);
			if (multi) {
				hr_buf_append_cstr(&sql, " WHERE EXISTS (SELECT 1 FROM json_each(");
				q_ident(&sql, f->name);
				hr_buf_append_cstr(&sql, ") WHERE value = ?1)");
			} else {
				hr_buf_append_cstr(&sql, " WHERE ");
				q_ident(&sql, f->name);
				hr_buf_append_cstr(&sql, " = ?1");
			}
			hr_db_stmt *st;
			int rc = sql.err ? HR_ENOMEM
					 : hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
			hr_buf_dispose(&sql);
			if (rc)
				return db_fail(err, rc);
			hr_db_bind_text(st, 1, id);
			/* collect first: we modify the table below */
			unsigned cap = 16, n = 0;
			hr_str *ids = hr_arena_alloc(x->a, cap * sizeof *ids);
			hr_val *cur = hr_arena_alloc(x->a, cap * sizeof *cur);
			while (ids && cur && (rc = hr_db_step(st, NULL)) == HR_DB_ROW) {
				if (n == cap) {
					hr_str *ni = hr_arena_alloc(x->a, cap * 2 * sizeof *ni);
					hr_val *nc = hr_arena_alloc(x->a, cap * 2 * sizeof *nc);
					if (!ni || !nc) {
						ids = NULL;
						break;
					}
					memcpy(ni, ids, n * sizeof *ids);
					memcpy(nc, cur, n * sizeof *cur);
					ids = ni;
					cur = nc;
					cap *= 2;
				}
				hr_str rid = hr_db_column_text(st, 0);
				ids[n] = hr_str_make(hr_arena_dup(x->a, rid.ptr, rid.len), rid.len);
				hr_field_from_column(x->a, f, st, 1, &cur[n]);
				n++;
			}
			hr_db_release(st);
			if (!ids || !cur || rc < 0)
				return db_fail(err, rc < 0 ? rc : HR_ENOMEM);
			for (unsigned k = 0; k < n; k++) {
				hr_json idj = {.type = HR_JSON_STRING};
				idj.u.str = id;
				hr_val nv = cur[k];
				hr_field_modify(x->a, f, '-', &idj, &nv);
				hr_str *left;
				unsigned nl = hr_val_list(x->a, &nv, &left);
				if (nl == 0 && f->cascade_delete) {
					if ((rc = delete_row(x, o, ids[k], depth + 1, err)))
						return rc;
					continue;
				}
				if (nl == 0 && f->required)
					return set_err(err, 400,
						       "Failed to delete record. Make sure that the record is not part of a required relation reference.");
				hr_buf up;
				hr_buf_init(&up, 4096);
				hr_buf_append_cstr(&up, "UPDATE ");
				q_ident(&up, o->name);
				hr_buf_append_cstr(&up, " SET ");
				q_ident(&up, f->name);
				hr_buf_append_cstr(&up, " = ?1 WHERE \"id\" = ?2");
				rc = up.err ? HR_ENOMEM
					    : hr_db_prepare(x->db, hr_str_make(up.ptr, up.len), &st, NULL);
				hr_buf_dispose(&up);
				if (rc)
					return db_fail(err, rc);
				hr_field_bind(st, 1, &nv);
				hr_db_bind_text(st, 2, ids[k]);
				rc = hr_db_step(st, NULL);
				hr_db_release(st);
				if (rc < 0)
					return db_fail(err, rc);
			}
		}
	}
	return 0;
}

static int delete_row(hr_rctx *x, const hr_collection *c, hr_str id, unsigned depth, hr_rerr *err)
{
	if (depth > DELETE_MAX_DEPTH)
		return set_err(err, 400, "Failed to delete record: cascade too deep.");
	int rc = clear_references(x, c, id, depth, err);
	if (rc)
		return rc;
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_append_cstr(&sql, "DELETE FROM ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " WHERE \"id\" = ?1");
	hr_db_stmt *st;
	rc = sql.err ? HR_ENOMEM : hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return db_fail(err, rc);
	hr_db_bind_text(st, 1, id);
	rc = hr_db_step(st, NULL);
	hr_db_release(st);
	return rc < 0 ? db_fail(err, rc) : 0;
}

int hr_records_delete(hr_rctx *x, const hr_collection *c, hr_str id, hr_rerr *err)
{
	if (c->type == HR_COLL_VIEW)
		return set_err(err, 400, "Unsupported collection type.");
	if (!is_superuser(x) && !c->rule_set[HR_RULE_DELETE])
		return set_err(err, 403, "Only superusers can perform this action.");
	hr_rec *r;
	int rc = fetch_one(x, c, id, HR_RULE_DELETE, &r, err);
	if (rc == HR_ENOENT)
		return not_found(err);
	if (rc)
		return rc;
	if (hr_str_eq_lit(c->id, "pbc_3142635823")) {
		hr_db_stmt *st;
		int64_t n = 0;
		if (hr_db_prepare(x->db, HR_STR("SELECT COUNT(*) FROM \"_superusers\""), &st, NULL) == 0) {
			if (hr_db_step(st, NULL) == HR_DB_ROW)
				n = hr_db_column_int64(st, 0);
			hr_db_release(st);
		}
		if (n <= 1)
			return set_err(err, 400, "You can't delete the only existing superuser.");
	}
	return delete_row(x, c, id, 0, err);
}

int hr_records_truncate(hr_rctx *x, const hr_collection *c, hr_rerr *err)
{
	if (c->type == HR_COLL_VIEW)
		return set_err(err, 400, "Failed to truncate the collection.");
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_append_cstr(&sql, "SELECT \"id\" FROM ");
	q_ident(&sql, c->name);
	hr_db_stmt *st;
	int rc = sql.err ? HR_ENOMEM : hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return db_fail(err, rc);
	unsigned cap = 64, n = 0;
	hr_str *ids = hr_arena_alloc(x->a, cap * sizeof *ids);
	while (ids && (rc = hr_db_step(st, NULL)) == HR_DB_ROW) {
		if (n == cap) {
			hr_str *ni = hr_arena_alloc(x->a, cap * 2 * sizeof *ni);
			if (!ni) {
				ids = NULL;
				break;
			}
			memcpy(ni, ids, n * sizeof *ids);
			ids = ni;
			cap *= 2;
		}
		hr_str v = hr_db_column_text(st, 0);
		ids[n++] = hr_str_make(hr_arena_dup(x->a, v.ptr, v.len), v.len);
	}
	hr_db_release(st);
	if (!ids || rc < 0)
		return db_fail(err, rc < 0 ? rc : HR_ENOMEM);
	for (unsigned i = 0; i < n; i++)
		if ((rc = delete_row(x, c, ids[i], 0, err)))
			return rc;
	return 0;
}

/* ---- loading for auth ------------------------------------------------- */

static hr_json *rec_to_json(hr_rctx *x, const hr_rec *r)
{
	const hr_collection *c = r->c;
	hr_json *o = hr_arena_alloc(x->a, sizeof *o);
	if (!o)
		return NULL;
	memset(o, 0, sizeof *o);
	o->type = HR_JSON_OBJECT;
	o->u.obj.members = hr_arena_alloc(x->a, (c->nfields + 1) * sizeof(hr_json_member));
	if (!o->u.obj.members)
		return NULL;
	for (unsigned i = 0; i < c->nfields; i++) {
		hr_json_member *m = &o->u.obj.members[o->u.obj.len++];
		m->key = c->fields[i].name;
		m->value = hr_val_to_json(x->a, &c->fields[i], &r->vals[i]);
	}
	return o;
}

int hr_records_load(hr_rctx *x, const hr_collection *c, hr_str id, hr_json **out)
{
	hr_rerr err;
	hr_rerr_init(&err, x->a);
	hr_rec *r;
	int rc = fetch_one(x, c, id, -1, &r, &err);
	if (rc)
		return rc == HR_ENOENT ? HR_ENOENT : HR_DB_E_SQL;
	*out = rec_to_json(x, r);
	return *out ? 0 : HR_ENOMEM;
}

int hr_records_find_by(hr_rctx *x, const hr_collection *c, hr_str field, hr_str value,
		       hr_json **out)
{
	if (!hr_coll_field(c, field))
		return HR_ENOENT;
	hr_buf sql;
	hr_buf_init(&sql, 4096);
	hr_buf_append_cstr(&sql, "SELECT ");
	columns(&sql, c, "r");
	hr_buf_append_cstr(&sql, " FROM ");
	q_ident(&sql, c->name);
	hr_buf_append_cstr(&sql, " r WHERE r.");
	q_ident(&sql, field);
	hr_buf_append_cstr(&sql, " = ?1 LIMIT 1");
	hr_db_stmt *st;
	int rc = sql.err ? HR_ENOMEM : hr_db_prepare(x->db, hr_str_make(sql.ptr, sql.len), &st, NULL);
	hr_buf_dispose(&sql);
	if (rc)
		return rc;
	hr_db_bind_text(st, 1, value);
	rc = hr_db_step(st, NULL);
	if (rc == HR_DB_ROW) {
		hr_rec *r = rec_from_row(x, c, st);
		*out = r ? rec_to_json(x, r) : NULL;
		rc = *out ? 0 : HR_ENOMEM;
	} else {
		rc = rc == HR_DB_DONE ? HR_ENOENT : rc;
	}
	hr_db_release(st);
	return rc;
}

void hr_records_write_loaded(hr_rctx *x, const hr_collection *c, const hr_json *rec,
			     bool always_email, hr_buf *out)
{
	hr_rec r = {0};
	r.c = c;
	r.vals = hr_arena_alloc(x->a, (c->nfields + 1) * sizeof(hr_val));
	if (!r.vals) {
		out->err = HR_ENOMEM;
		return;
	}
	for (unsigned i = 0; i < c->nfields; i++)
		hr_field_set(x->a, &c->fields[i], hr_json_get_str(rec, c->fields[i].name), &r.vals[i]);
	/* hr_field_set ignores autodate input: copy those as stored */
	for (unsigned i = 0; i < c->nfields; i++)
		if (c->fields[i].type == HR_FT_AUTODATE) {
			hr_json *v = hr_json_get_str(rec, c->fields[i].name);
			if (v && v->type == HR_JSON_STRING)
				r.vals[i].s = v->u.str;
		}
	hr_rec *rp = &r;
	expand(x, &rp, 1);
	write_rec(x, &r, always_email, out);
}

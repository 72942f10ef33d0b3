/*
 * rules/sql.c - filter/rule ASTs -> parameterised SQL. See sql.h for the
 * model; this comment covers the mechanics.
 *
 * SCOPES. Operands are resolved in a scope: the outer query (joins are
 * registered once per path in x->joins and shared, so two conditions on
 * "@collection.members.*" or on "members.*" talk about the same joined row,
 * as upstream's LEFT JOIN model does), or an isolated subquery built for
 * the match-all check of a plain operator over a multi-valued operand
 * (§6.9: "NOT EXISTS (... WHERE NOT (comparison))"). A subquery scope
 * starts from a one-row dummy table and hangs every hop off it with LEFT
 * JOINs correlated to the outer row, so the same path code serves both.
 *
 * ALIASES are generated ("j1", "m2", ...) and never derived from input.
 * PARAMETERS are numbered (?N), so the order in which pieces of SQL are
 * assembled does not matter.
 *
 * A PATH walks segment by segment: a field of the current collection;
 * through a relation field to its target (single: a join on the primary
 * key, no multiplication; multiple: json_each plus a join, multi-valued);
 * a back-relation "coll_via_field"; after a json or geoPoint field the rest
 * is a JSON path. The last segment may carry one modifier.
 */
#include "rules/sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/time.h"
#include "db/db.h"

#define MAX_HOPS 6
#define MAX_RULE_DEPTH 4

enum okind { O_NULL = 0, O_TEXT, O_NUM, O_BOOL, O_EXPR };

typedef struct op {
	int kind;
	hr_str text;	/* O_TEXT */
	double num;	/* O_NUM */
	bool b;		/* O_BOOL */
	hr_str sql;	/* O_EXPR: expression; literals get a placeholder too */
	bool nocoalesce; /* JSON path, geoDistance, :changed: compare with IS */
	bool multi;	/* goes through a multi-valued join */
	hr_str extra;	/* a condition to AND with the comparison (email visibility) */
	int ftype;	/* O_EXPR over a field: its type (enum hr_field_type), else 0 */
	bool as_int;	/* O_NUM: bind as an integer (see int_if_numeric) */
} op;

typedef struct scope {
	bool sub;	    /* isolated subquery */
	hr_buf *joins;	    /* where LEFT JOIN clauses go */
	hr_sql_join *jt;    /* path -> alias, for reuse within the scope */
	unsigned *nj, *jcap;
	bool multi;	    /* a multi-valued join was added */
	char prefix;	    /* alias prefix */
} scope;

void hr_sql_ctx_init(hr_sql_ctx *x, hr_arena *a, const hr_schema *schema, const hr_rule_req *req,
		     bool client)
{
	memset(x, 0, sizeof *x);
	x->a = a;
	x->schema = schema;
	x->req = req;
	x->client = client;
	x->status = 400;
	hr_buf_init(&x->joins, 1u << 20);
}

void hr_sql_ctx_dispose(hr_sql_ctx *x)
{
	hr_buf_dispose(&x->joins);
}

static int fail(hr_sql_ctx *x, size_t pos, int status, const char *msg)
{
	if (!x->err_msg) {
		x->err_msg = msg;
		x->err_pos = pos;
		x->status = status;
	}
	return HR_EPARSE;
}

/* ---- parameters ------------------------------------------------------- */

static hr_sql_param *new_param(hr_sql_ctx *x)
{
	if (x->nparams == x->cap) {
		unsigned cap = x->cap ? x->cap * 2 : 16;
		hr_sql_param *p = hr_arena_alloc(x->a, cap * sizeof *p);
		if (!p)
			return NULL;
		if (x->nparams)
			memcpy(p, x->params, x->nparams * sizeof *p);
		x->params = p;
		x->cap = cap;
	}
	hr_sql_param *p = &x->params[x->nparams++];
	memset(p, 0, sizeof *p);
	return p;
}

static void placeholder(hr_sql_ctx *x, hr_buf *out)
{
	hr_buf_append_char(out, '?');
	hr_buf_append_u64(out, x->nparams);
}

void hr_sql_param_text(hr_sql_ctx *x, hr_buf *out, hr_str v)
{
	hr_sql_param *p = new_param(x);
	if (!p) {
		out->err = HR_ENOMEM;
		return;
	}
	p->type = HR_SQLP_TEXT;
	p->text = v;
	placeholder(x, out);
}

void hr_sql_param_num(hr_sql_ctx *x, hr_buf *out, double v)
{
	hr_sql_param *p = new_param(x);
	if (!p) {
		out->err = HR_ENOMEM;
		return;
	}
	p->type = HR_SQLP_NUM;
	p->num = v;
	placeholder(x, out);
}

void hr_sql_param_int(hr_sql_ctx *x, hr_buf *out, int64_t v)
{
	hr_sql_param *p = new_param(x);
	if (!p) {
		out->err = HR_ENOMEM;
		return;
	}
	p->type = HR_SQLP_INT;
	p->i = v;
	placeholder(x, out);
}

int hr_sql_bind(const hr_sql_ctx *x, hr_db_stmt *st)
{
	for (unsigned i = 0; i < x->nparams; i++) {
		const hr_sql_param *p = &x->params[i];
		int rc;
		switch (p->type) {
		case HR_SQLP_TEXT:
			rc = hr_db_bind_text(st, (int)i + 1, p->text);
			break;
		case HR_SQLP_NUM:
			rc = hr_db_bind_double(st, (int)i + 1, p->num);
			break;
		case HR_SQLP_INT:
			rc = hr_db_bind_int64(st, (int)i + 1, p->i);
			break;
		default:
			rc = hr_db_bind_null(st, (int)i + 1);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- small builders --------------------------------------------------- */

/* Copies a buffer's text into the arena. */
static hr_str take(hr_sql_ctx *x, hr_buf *b)
{
	if (b->err)
		return HR_STR_NULL;
	char *p = hr_arena_dup(x->a, b->ptr ? b->ptr : "", b->len);
	return p ? hr_str_make(p, b->len) : HR_STR_NULL;
}

static void q_ident(hr_buf *b, hr_str s)
{
	hr_buf_append_char(b, '"');
	hr_buf_append_str(b, s);
	hr_buf_append_char(b, '"');
}

static void col_ref(hr_buf *b, hr_str alias, hr_str col)
{
	hr_buf_append_str(b, alias);
	hr_buf_append_char(b, '.');
	q_ident(b, col);
}

static hr_str new_alias(hr_sql_ctx *x, char prefix)
{
	char *p = hr_arena_printf(x->a, "%c%u", prefix, ++x->next_alias);
	return p ? hr_str_make(p, strlen(p)) : HR_STR("x");
}

static op lit_null(void)
{
	op o = {0};
	o.kind = O_NULL;
	o.sql = HR_STR("NULL");
	return o;
}

/* Literals get their parameter only when their SQL is first needed
 * (op_sql), so a literal that a comparison rewrites (a LIKE pattern, an
 * empty value) leaves no unused parameter behind. */
static op lit_text(hr_sql_ctx *x, hr_str v)
{
	(void)x;
	op o = {0};
	o.kind = O_TEXT;
	o.text = v;
	return o;
}

static op lit_num(hr_sql_ctx *x, double v)
{
	(void)x;
	op o = {0};
	o.kind = O_NUM;
	o.num = v;
	return o;
}

static hr_str op_sql(hr_sql_ctx *x, op *o)
{
	if (o->sql.ptr)
		return o->sql;
	hr_buf b;
	hr_buf_init(&b, 64);
	if (o->kind == O_TEXT)
		hr_sql_param_text(x, &b, o->text);
	else if (o->kind == O_NUM && o->as_int)
		hr_sql_param_int(x, &b, (int64_t)o->num);
	else if (o->kind == O_NUM)
		hr_sql_param_num(x, &b, o->num);
	else
		hr_buf_append_cstr(&b, "NULL");
	o->sql = take(x, &b);
	hr_buf_dispose(&b);
	return o->sql;
}

static op lit_bool(bool v)
{
	op o = {0};
	o.kind = O_BOOL;
	o.b = v;
	o.sql = v ? HR_STR("1") : HR_STR("0");
	return o;
}

static op expr(hr_str sql)
{
	op o = {0};
	o.kind = O_EXPR;
	o.sql = sql;
	return o;
}

/* ---- joins ------------------------------------------------------------ */

static hr_str find_join(scope *sc, hr_str key)
{
	for (unsigned i = 0; i < *sc->nj; i++)
		if (hr_str_eq(sc->jt[i].key, key)) {
			if (sc->jt[i].multi)
				sc->multi = true;
			return sc->jt[i].alias;
		}
	return HR_STR_NULL;
}

static int add_join_key(hr_sql_ctx *x, scope *sc, hr_str key, hr_str alias,
			const hr_collection *coll, bool multi)
{
	if (*sc->nj == *sc->jcap) {
		unsigned cap = *sc->jcap ? *sc->jcap * 2 : 8;
		hr_sql_join *j = hr_arena_alloc(x->a, cap * sizeof *j);
		if (!j)
			return HR_ENOMEM;
		if (*sc->nj)
			memcpy(j, sc->jt, *sc->nj * sizeof *j);
		sc->jt = j;
		if (!sc->sub)
			x->jt = j;
		*sc->jcap = cap;
	}
	sc->jt[*sc->nj] = (hr_sql_join){key, alias, coll, multi};
	(*sc->nj)++;
	return 0;
}

static hr_str key_cat(hr_sql_ctx *x, hr_str a, const char *sep, hr_str b)
{
	char *p = hr_arena_printf(x->a, "%.*s%s%.*s", (int)a.len, a.ptr, sep, (int)b.len, b.ptr);
	return p ? hr_str_make(p, strlen(p)) : HR_STR("");
}

static int rule_exists(hr_sql_ctx *x, const hr_collection *c, hr_str row_alias, hr_buf *out,
		       size_t pos);

/*
 * Appends the client-filter restriction for a hop into collection t at
 * alias a (§7.2.4): a null listRule refuses the hop, a non-empty one must
 * hold for the joined row. Written into the join's ON clause.
 */
static int hop_guard(hr_sql_ctx *x, const hr_collection *t, hr_str a, hr_buf *on, size_t pos)
{
	if (!x->client || (x->req && x->req->superuser))
		return 0;
	if (!t->rule_set[HR_RULE_LIST])
		return fail(x, pos, 400, "relation to a collection that only superusers can list");
	if (t->rules[HR_RULE_LIST].len == 0)
		return 0;
	hr_buf_append_cstr(on, " AND ");
	return rule_exists(x, t, a, on, pos);
}

/* ---- paths ------------------------------------------------------------ */

typedef struct walk {
	const hr_collection *coll; /* collection of the current row */
	hr_str alias;		   /* its alias */
	hr_str key;		   /* path so far (join reuse key) */
	int hops;
} walk;

/* Splits "a.b.c:mod" into segments and modifier. */
static int split_path(hr_sql_ctx *x, hr_str id, hr_str *segs, unsigned *nseg, hr_str *mod,
		      size_t pos)
{
	*nseg = 0;
	*mod = HR_STR_NULL;
	/* In "@collection.name:alias.field" the first colon names an alias. */
	size_t from = 0;
	if (id.len > 12 && memcmp(id.ptr, "@collection.", 12) == 0) {
		const char *dot = memchr(id.ptr + 12, '.', id.len - 12);
		from = dot ? (size_t)(dot - id.ptr) : id.len;
	}
	const char *colon = memchr(id.ptr + from, ':', id.len - from);
	if (colon) {
		*mod = hr_str_make(colon + 1, id.len - (size_t)(colon + 1 - id.ptr));
		id.len = (size_t)(colon - id.ptr);
		if (memchr(mod->ptr, ':', mod->len) || memchr(mod->ptr, '.', mod->len))
			return fail(x, pos, 400, "a modifier must end the path");
	}
	size_t start = 0;
	for (size_t i = 0; i <= id.len; i++) {
		if (i == id.len || id.ptr[i] == '.') {
			if (i == start)
				return fail(x, pos, 400, "empty path segment");
			if (*nseg == 16)
				return fail(x, pos, 400, "path too long");
			segs[(*nseg)++] = hr_str_make(id.ptr + start, i - start);
			start = i + 1;
		}
	}
	return 0;
}

/* Builds a bound JSON path "$.a.b[0]" from segments. */
static hr_str json_path(hr_sql_ctx *x, const hr_str *segs, unsigned n)
{
	hr_buf b;
	hr_buf_init(&b, 4096);
	hr_buf_append_char(&b, '$');
	for (unsigned i = 0; i < n; i++) {
		bool digits = segs[i].len > 0;
		for (size_t k = 0; k < segs[i].len; k++)
			if (segs[i].ptr[k] < '0' || segs[i].ptr[k] > '9')
				digits = false;
		if (digits) {
			hr_buf_append_char(&b, '[');
			hr_buf_append_str(&b, segs[i]);
			hr_buf_append_char(&b, ']');
		} else {
			hr_buf_append_cstr(&b, ".\"");
			hr_buf_append_str(&b, segs[i]);
			hr_buf_append_char(&b, '"');
		}
	}
	hr_str s = take(x, &b);
	hr_buf_dispose(&b);
	return s;
}

/* Is there a unique index over exactly this one column? */
static bool unique_single(const hr_collection *c, hr_str col)
{
	for (unsigned i = 0; i < c->indexes.n; i++) {
		hr_buf tmp;
		hr_buf_init(&tmp, 0);
		hr_str name, cols[2];
		unsigned ncols = 0;
		bool uniq = false;
		bool ok = hr_schema_index_normalize(c->indexes.v[i], c->name, &tmp, &name, &uniq, cols,
						    &ncols, 2);
		hr_buf_dispose(&tmp);
		if (ok && uniq && ncols == 1 && hr_str_eq(cols[0], col))
			return true;
	}
	return false;
}

/* Registers (or reuses) a join; returns its alias in *alias. Joins made
 * for a client filter carry the hop guard (§7.2.4), so they are never
 * shared with the unguarded joins of a rule: their keys differ. */
static int join(hr_sql_ctx *x, scope *sc, hr_str key, const hr_collection *coll, bool multi,
		hr_buf *clause, hr_str alias, hr_str *out)
{
	if (x->client && !(x->req && x->req->superuser))
		key = key_cat(x, HR_STR("client:"), "", key);
	hr_str have = find_join(sc, key);
	if (have.ptr) {
		*out = have;
		return 0;
	}
	if (clause->err)
		return HR_ENOMEM;
	hr_buf_append_str(sc->joins, hr_str_make(clause->ptr, clause->len));
	if (multi) {
		sc->multi = true;
		if (!sc->sub)
			x->distinct = true;
	}
	*out = alias;
	return add_join_key(x, sc, key, alias, coll, multi);
}

/*
 * Hop from w through relation field f (of w->coll). Multiple relations
 * join json_each then the target table.
 */
static int hop_relation(hr_sql_ctx *x, scope *sc, walk *w, const hr_field *f, size_t pos)
{
	const hr_collection *t = hr_schema_find(x->schema, f->collection_id);
	if (!t)
		return fail(x, pos, 400, "relation to a missing collection");
	if (++w->hops > MAX_HOPS)
		return fail(x, pos, 400, "too many relation hops (limit 6)");
	hr_str key = key_cat(x, w->key, ".", f->name);
	hr_str alias = new_alias(x, sc->prefix);
	hr_buf cl;
	hr_buf_init(&cl, 1u << 20);
	int rc;
	if (hr_field_multi(f)) {
		hr_str je = new_alias(x, sc->prefix);
		hr_buf_append_cstr(&cl, " LEFT JOIN json_each(");
		col_ref(&cl, w->alias, f->name);
		hr_buf_append_cstr(&cl, ") ");
		hr_buf_append_str(&cl, je);
		hr_buf_append_cstr(&cl, " LEFT JOIN ");
		q_ident(&cl, t->name);
		hr_buf_append_char(&cl, ' ');
		hr_buf_append_str(&cl, alias);
		hr_buf_append_cstr(&cl, " ON ");
		hr_buf_append_str(&cl, alias);
		hr_buf_append_cstr(&cl, ".\"id\" = ");
		hr_buf_append_str(&cl, je);
		hr_buf_append_cstr(&cl, ".value");
	} else {
		hr_buf_append_cstr(&cl, " LEFT JOIN ");
		q_ident(&cl, t->name);
		hr_buf_append_char(&cl, ' ');
		hr_buf_append_str(&cl, alias);
		hr_buf_append_cstr(&cl, " ON ");
		hr_buf_append_str(&cl, alias);
		hr_buf_append_cstr(&cl, ".\"id\" = ");
		col_ref(&cl, w->alias, f->name);
	}
	rc = hop_guard(x, t, alias, &cl, pos);
	if (rc == 0)
		rc = join(x, sc, key, t, hr_field_multi(f), &cl, alias, &w->alias);
	hr_buf_dispose(&cl);
	w->coll = t;
	w->key = key;
	return rc;
}

/* Hop "other_via_field": rows of `other` whose relation `field` points at w's row. */
static int hop_back(hr_sql_ctx *x, scope *sc, walk *w, hr_str seg, size_t pos)
{
	const char *via = NULL;
	for (size_t i = 0; i + 5 <= seg.len; i++)
		if (memcmp(seg.ptr + i, "_via_", 5) == 0) {
			via = seg.ptr + i;
			break;
		}
	if (!via)
		return 1; /* not a back-relation */
	hr_str cname = hr_str_make(seg.ptr, (size_t)(via - seg.ptr));
	hr_str fname = hr_str_make(via + 5, seg.len - cname.len - 5);
	const hr_collection *o = hr_schema_find(x->schema, cname);
	const hr_field *f = o ? hr_coll_field(o, fname) : NULL;
	if (!o || !f || f->type != HR_FT_RELATION || !hr_str_eq(f->collection_id, w->coll->id))
		return fail(x, pos, 400, "invalid back-relation");
	if (++w->hops > MAX_HOPS)
		return fail(x, pos, 400, "too many relation hops (limit 6)");
	hr_str key = key_cat(x, w->key, ".", seg);
	hr_str alias = new_alias(x, sc->prefix);
	hr_buf cl;
	hr_buf_init(&cl, 1u << 20);
	hr_buf_append_cstr(&cl, " LEFT JOIN ");
	q_ident(&cl, o->name);
	hr_buf_append_char(&cl, ' ');
	hr_buf_append_str(&cl, alias);
	hr_buf_append_cstr(&cl, " ON ");
	if (hr_field_multi(f)) {
		hr_buf_append_cstr(&cl, "EXISTS (SELECT 1 FROM json_each(");
		col_ref(&cl, alias, f->name);
		hr_buf_append_cstr(&cl, ") WHERE value = ");
		col_ref(&cl, w->alias, HR_STR("id"));
		hr_buf_append_char(&cl, ')');
	} else {
		col_ref(&cl, alias, f->name);
		hr_buf_append_cstr(&cl, " = ");
		col_ref(&cl, w->alias, HR_STR("id"));
	}
	bool multi = hr_field_multi(f) || !unique_single(o, f->name);
	int rc = hop_guard(x, o, alias, &cl, pos);
	if (rc == 0)
		rc = join(x, sc, key, o, multi, &cl, alias, &w->alias);
	hr_buf_dispose(&cl);
	w->coll = o;
	w->key = key;
	return rc;
}

/* @collection.<name>[:alias]: every row of another collection. */
static int hop_collection(hr_sql_ctx *x, scope *sc, walk *w, hr_str spec, size_t pos)
{
	hr_str name = spec, tag = HR_STR("");
	const char *colon = memchr(spec.ptr, ':', spec.len);
	if (colon) {
		name = hr_str_make(spec.ptr, (size_t)(colon - spec.ptr));
		tag = hr_str_make(colon + 1, spec.len - name.len - 1);
	}
	const hr_collection *o = hr_schema_find(x->schema, name);
	if (!o)
		return fail(x, pos, 400, "unknown collection in @collection");
	hr_str key = key_cat(x, key_cat(x, HR_STR("@collection."), "", o->id), ":", tag);
	hr_str alias = new_alias(x, sc->prefix);
	hr_buf cl;
	hr_buf_init(&cl, 1u << 20);
	hr_buf_append_cstr(&cl, " LEFT JOIN ");
	q_ident(&cl, o->name);
	hr_buf_append_char(&cl, ' ');
	hr_buf_append_str(&cl, alias);
	hr_buf_append_cstr(&cl, " ON 1=1");
	int rc = hop_guard(x, o, alias, &cl, pos);
	if (rc == 0)
		rc = join(x, sc, key, o, true, &cl, alias, &w->alias);
	hr_buf_dispose(&cl);
	w->coll = o;
	w->key = key;
	w->hops = 0;
	return rc;
}

/* The requester's auth record, joined by id (values NULL for guests). */
static int hop_auth(hr_sql_ctx *x, scope *sc, walk *w, size_t pos)
{
	const hr_rule_req *r = x->req;
	const hr_collection *ac = r ? r->auth_coll : NULL;
	if (!ac)
		return 1; /* guest: every @request.auth.* is NULL */
	hr_str key = HR_STR("@request.auth");
	hr_str alias = new_alias(x, sc->prefix);
	hr_buf cl;
	hr_buf_init(&cl, 1u << 20);
	hr_buf_append_cstr(&cl, " LEFT JOIN ");
	q_ident(&cl, ac->name);
	hr_buf_append_char(&cl, ' ');
	hr_buf_append_str(&cl, alias);
	hr_buf_append_cstr(&cl, " ON ");
	hr_buf_append_str(&cl, alias);
	hr_buf_append_cstr(&cl, ".\"id\" = ");
	hr_sql_param_text(x, &cl, r->auth_id);
	int rc = join(x, sc, key, ac, false, &cl, alias, &w->alias);
	hr_buf_dispose(&cl);
	w->coll = ac;
	w->key = key;
	w->hops = 0;
	(void)pos;
	return rc;
}

/* Applies a modifier to a resolved field operand. */
static int apply_modifier(hr_sql_ctx *x, scope *sc, walk *w, const hr_field *f, hr_str mod,
			  op *o, size_t pos)
{
	if (mod.len == 0)
		return 0;
	hr_buf b;
	hr_buf_init(&b, 1u << 20);
	int rc = 0;
	if (hr_str_eq_lit(mod, "lower")) {
		hr_buf_append_cstr(&b, "LOWER(");
		hr_buf_append_str(&b, o->sql);
		hr_buf_append_char(&b, ')');
		o->sql = take(x, &b);
	} else if (hr_str_eq_lit(mod, "length")) {
		if (!f || !hr_field_multi(f)) {
			rc = fail(x, pos, 400, ":length needs a multi-valued field");
		} else {
			hr_buf_append_cstr(&b, "json_array_length(CASE WHEN json_valid(");
			hr_buf_append_str(&b, o->sql);
			hr_buf_append_cstr(&b, ") THEN ");
			hr_buf_append_str(&b, o->sql);
			hr_buf_append_cstr(&b, " ELSE '[]' END)");
			o->sql = take(x, &b);
			o->nocoalesce = false;
		}
	} else if (hr_str_eq_lit(mod, "each")) {
		if (!f || !hr_field_multi(f)) {
			rc = fail(x, pos, 400, ":each needs a multi-valued field");
		} else {
			hr_str key = key_cat(x, key_cat(x, w->key, ".", f->name), "", HR_STR(":each"));
			hr_str alias = new_alias(x, sc->prefix);
			hr_buf cl;
			hr_buf_init(&cl, 1u << 20);
			hr_buf_append_cstr(&cl, " LEFT JOIN json_each(CASE WHEN json_valid(");
			hr_buf_append_str(&cl, o->sql);
			hr_buf_append_cstr(&cl, ") THEN ");
			hr_buf_append_str(&cl, o->sql);
			hr_buf_append_cstr(&cl, " ELSE '[]' END) ");
			hr_buf_append_str(&cl, alias);
			hr_str got;
			rc = join(x, sc, key, NULL, true, &cl, alias, &got);
			hr_buf_dispose(&cl);
			hr_buf_append_str(&b, got);
			hr_buf_append_cstr(&b, ".value");
			o->sql = take(x, &b);
			o->multi = true;
		}
	} else if (hr_str_eq_lit(mod, "isset") || hr_str_eq_lit(mod, "changed")) {
		rc = fail(x, pos, 400, "this modifier only applies to @request.body");
	} else {
		rc = fail(x, pos, 400, "unknown modifier");
	}
	hr_buf_dispose(&b);
	return rc;
}

/*
 * Resolves segs[0..n) as a field path starting at w (outer row, @collection
 * row or auth row) in scope sc.
 */
static int resolve_fields(hr_sql_ctx *x, scope *sc, walk *w, const hr_str *segs, unsigned n,
			  hr_str mod, op *o, size_t pos)
{
	for (unsigned i = 0; i < n; i++) {
		hr_str seg = segs[i];
		bool last = i + 1 == n;
		const hr_field *f = hr_coll_field(w->coll, seg);
		if (!f) {
			int rc = hop_back(x, sc, w, seg, pos);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				if (last)
					return fail(x, pos, 400, "a back-relation needs a field after it");
				continue;
			}
			return fail(x, pos, 400, "unknown field");
		}
		if (x->client && f->hidden && !(x->req && x->req->superuser))
			return fail(x, pos, 400, "hidden fields cannot be used in filters");
		if (f->type == HR_FT_PASSWORD)
			return fail(x, pos, 400, "password fields cannot be used in filters");
		if (last) {
			hr_buf b;
			hr_buf_init(&b, 4096);
			if (f->type == HR_FT_JSON) {
				hr_buf_append_cstr(&b, "json_extract(");
				col_ref(&b, w->alias, f->name);
				hr_buf_append_cstr(&b, ", '$')");
				*o = expr(take(x, &b));
				o->nocoalesce = true;
			} else {
				col_ref(&b, w->alias, f->name);
				*o = expr(take(x, &b));
				o->ftype = f->type;
			}
			hr_buf_dispose(&b);
			o->multi = sc->multi;
			/* §6.5: client conditions on an auth collection's email also
			 * require the record to show its email. */
			if (x->client && w->coll->type == HR_COLL_AUTH && hr_str_eq_lit(f->name, "email") &&
			    !(x->req && x->req->superuser)) {
				hr_buf e;
				hr_buf_init(&e, 4096);
				col_ref(&e, w->alias, HR_STR("emailVisibility"));
				hr_buf_append_cstr(&e, " = 1");
				o->extra = take(x, &e);
				hr_buf_dispose(&e);
			}
			return apply_modifier(x, sc, w, f, mod, o, pos);
		}
		if (f->type == HR_FT_JSON || f->type == HR_FT_GEOPOINT) {
			hr_str path = json_path(x, segs + i + 1, n - i - 1);
			hr_buf b;
			hr_buf_init(&b, 4096);
			hr_buf_append_cstr(&b, "json_extract(");
			col_ref(&b, w->alias, f->name);
			hr_buf_append_cstr(&b, ", ");
			hr_sql_param_text(x, &b, path);
			hr_buf_append_char(&b, ')');
			*o = expr(take(x, &b));
			hr_buf_dispose(&b);
			o->nocoalesce = true;
			o->multi = sc->multi;
			if (mod.len && !hr_str_eq_lit(mod, "lower"))
				return fail(x, pos, 400, "unsupported modifier on a JSON path");
			return apply_modifier(x, sc, w, NULL, mod, o, pos);
		}
		if (f->type != HR_FT_RELATION)
			return fail(x, pos, 400, "only relation fields can be followed");
		if (hr_str_eq_lit(segs[i + 1], "id") && i + 2 == n && !hr_field_multi(f)) {
			/* rel.id on a single relation is the stored id itself */
			hr_buf b;
			hr_buf_init(&b, 4096);
			col_ref(&b, w->alias, f->name);
			*o = expr(take(x, &b));
			hr_buf_dispose(&b);
			o->multi = sc->multi;
			return apply_modifier(x, sc, w, f, mod, o, pos);
		}
		int rc = hop_relation(x, sc, w, f, pos);
		if (rc)
			return rc;
	}
	return fail(x, pos, 400, "empty path");
}

/* ---- @request --------------------------------------------------------- */

static const hr_json *lookup_json(const hr_json *v, const hr_str *segs, unsigned n)
{
	for (unsigned i = 0; i < n && v; i++) {
		if (v->type == HR_JSON_OBJECT) {
			v = hr_json_get_str(v, segs[i]);
		} else if (v->type == HR_JSON_ARRAY) {
			uint64_t k;
			if (hr_str_to_u64(segs[i], 1u << 30, &k) != 0 || k >= v->u.arr.len)
				return NULL;
			v = v->u.arr.items[k];
		} else {
			return NULL;
		}
	}
	return v;
}

/* A JSON value as an operand: scalars as literals, the rest as JSON text. */
static op json_operand(hr_sql_ctx *x, const hr_json *v)
{
	if (!v)
		return lit_null();
	switch (v->type) {
	case HR_JSON_NULL:
		return lit_null();
	case HR_JSON_TRUE:
		return lit_bool(true);
	case HR_JSON_FALSE:
		return lit_bool(false);
	case HR_JSON_NUMBER:
		return lit_num(x, v->u.n.num);
	case HR_JSON_STRING:
		return lit_text(x, v->u.str);
	default: {
		hr_buf b;
		hr_buf_init(&b, 1u << 20);
		hr_json_write(&b, v);
		op o = lit_text(x, take(x, &b));
		hr_buf_dispose(&b);
		return o;
	}
	}
}

static int resolve_request(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
			   const hr_str *segs, unsigned n, hr_str mod, op *o, size_t pos)
{
	(void)alias;
	const hr_rule_req *r = x->req;
	if (x->client && !(r && r->superuser))
		return fail(x, pos, 403, "Only superusers can filter by @request.");
	if (n < 2)
		return fail(x, pos, 400, "incomplete @request path");
	hr_str what = segs[1];
	if (hr_str_eq_lit(what, "context") || hr_str_eq_lit(what, "method")) {
		if (n != 2)
			return fail(x, pos, 400, "unknown @request path");
		hr_str v = hr_str_eq_lit(what, "method") ? (r ? r->method : HR_STR("GET"))
							  : (r && r->context.len ? r->context : HR_STR("default"));
		*o = lit_text(x, v);
	} else if (hr_str_eq_lit(what, "headers") || hr_str_eq_lit(what, "query")) {
		if (n != 3)
			return fail(x, pos, 400, "unknown @request path");
		const hr_json *src = r ? (hr_str_eq_lit(what, "headers") ? r->headers : r->query) : NULL;
		const hr_json *v = src ? hr_json_get_str(src, segs[2]) : NULL;
		if (mod.len && hr_str_eq_lit(mod, "isset")) {
			*o = lit_bool(v != NULL);
			return 0;
		}
		*o = json_operand(x, v);
	} else if (hr_str_eq_lit(what, "auth")) {
		if (n < 3)
			return fail(x, pos, 400, "incomplete @request.auth path");
		hr_str fld = segs[2];
		if (!r || !r->auth_coll) {
			if (mod.len && hr_str_eq_lit(mod, "isset"))
				*o = lit_bool(false);
			else
				*o = lit_null();
			return 0;
		}
		if (n == 3 && hr_str_eq_lit(fld, "id")) {
			*o = lit_text(x, r->auth_id);
		} else if (n == 3 && hr_str_eq_lit(fld, "collectionId")) {
			*o = lit_text(x, r->auth_coll->id);
		} else if (n == 3 && hr_str_eq_lit(fld, "collectionName")) {
			*o = lit_text(x, r->auth_coll->name);
		} else {
			walk w = {0};
			int rc = hop_auth(x, sc, &w, pos);
			if (rc < 0)
				return rc;
			bool saved = x->client;
			x->client = false; /* the requester's own hidden fields are readable */
			rc = resolve_fields(x, sc, &w, segs + 2, n - 2, mod, o, pos);
			x->client = saved;
			return rc;
		}
	} else if (hr_str_eq_lit(what, "body")) {
		if (n < 3)
			return fail(x, pos, 400, "incomplete @request.body path");
		const hr_json *body = r ? r->body : NULL;
		const hr_json *v = body ? hr_json_get_str(body, segs[2]) : NULL;
		const hr_field *f = hr_coll_field(c, segs[2]);
		if (mod.len && hr_str_eq_lit(mod, "isset")) {
			if (n != 3)
				return fail(x, pos, 400, ":isset ends a @request.body key");
			*o = lit_bool(v != NULL);
			return 0;
		}
		if (mod.len && hr_str_eq_lit(mod, "changed")) {
			if (n != 3 || !f)
				return fail(x, pos, 400, ":changed needs a field of the collection");
			if (!v) {
				*o = lit_bool(false);
				return 0;
			}
			/* (body value IS NOT stored value), compared null-safely;
			 * numeric strings count as numbers for number fields (§6.6) */
			op bv = json_operand(x, v);
			if (f->type == HR_FT_NUMBER && v->type == HR_JSON_STRING) {
				char tmp[64];
				size_t l = HR_MIN(v->u.str.len, sizeof tmp - 1);
				memcpy(tmp, v->u.str.ptr, l);
				tmp[l] = '\0';
				char *end;
				double d = strtod(tmp, &end);
				if (l && *end == '\0')
					bv = lit_num(x, d);
			}
			hr_buf b;
			hr_buf_init(&b, 4096);
			hr_buf_append_cstr(&b, "(COALESCE(");
			hr_buf_append_str(&b, op_sql(x, &bv));
			hr_buf_append_cstr(&b, ", '') IS NOT COALESCE(");
			col_ref(&b, alias, f->name);
			hr_buf_append_cstr(&b, ", ''))");
			*o = expr(take(x, &b));
			hr_buf_dispose(&b);
			o->nocoalesce = true;
			return 0;
		}
		if (f && f->type == HR_FT_RELATION && n > 3 && v) {
			/* Joins the target collection on the submitted id(s). */
			const hr_collection *t = hr_schema_find(x->schema, f->collection_id);
			if (!t)
				return fail(x, pos, 400, "relation to a missing collection");
			hr_str ids;
			hr_buf ib;
			hr_buf_init(&ib, 1u << 20);
			if (v->type == HR_JSON_STRING) {
				hr_buf_append_char(&ib, '[');
				hr_json_write_string(&ib, v->u.str);
				hr_buf_append_char(&ib, ']');
			} else {
				hr_json_write(&ib, v);
			}
			ids = take(x, &ib);
			hr_buf_dispose(&ib);
			hr_str key = key_cat(x, HR_STR("@request.body."), "", f->name);
			hr_str je = new_alias(x, sc->prefix), alias2 = new_alias(x, sc->prefix);
			hr_buf cl;
			hr_buf_init(&cl, 1u << 20);
			hr_buf_append_cstr(&cl, " LEFT JOIN json_each(");
			hr_sql_param_text(x, &cl, ids);
			hr_buf_append_cstr(&cl, ") ");
			hr_buf_append_str(&cl, je);
			hr_buf_append_cstr(&cl, " LEFT JOIN ");
			q_ident(&cl, t->name);
			hr_buf_append_char(&cl, ' ');
			hr_buf_append_str(&cl, alias2);
			hr_buf_append_cstr(&cl, " ON ");
			hr_buf_append_str(&cl, alias2);
			hr_buf_append_cstr(&cl, ".\"id\" = ");
			hr_buf_append_str(&cl, je);
			hr_buf_append_cstr(&cl, ".value");
			walk w = {t, HR_STR_NULL, key, 1};
			int rc = join(x, sc, key, t, hr_field_multi(f), &cl, alias2, &w.alias);
			hr_buf_dispose(&cl);
			if (rc)
				return rc;
			bool saved = x->client;
			x->client = false;
			rc = resolve_fields(x, sc, &w, segs + 3, n - 3, mod, o, pos);
			x->client = saved;
			return rc;
		}
		if (mod.len && (hr_str_eq_lit(mod, "each") || hr_str_eq_lit(mod, "length"))) {
			if (n != 3)
				return fail(x, pos, 400, "modifier on a nested @request.body path");
			if (hr_str_eq_lit(mod, "length")) {
				size_t len = !v				    ? 0
					     : v->type == HR_JSON_ARRAY	    ? v->u.arr.len
					     : v->type == HR_JSON_NULL	    ? 0
					     : v->type == HR_JSON_STRING && !v->u.str.len ? 0
										   : 1;
				*o = lit_num(x, (double)len);
				return 0;
			}
			hr_buf ib;
			hr_buf_init(&ib, 1u << 20);
			if (v && v->type == HR_JSON_ARRAY) {
				hr_json_write(&ib, v);
			} else if (v && v->type != HR_JSON_NULL) {
				hr_buf_append_char(&ib, '[');
				hr_json_write(&ib, v);
				hr_buf_append_char(&ib, ']');
			} else {
				hr_buf_append_cstr(&ib, "[]");
			}
			hr_str arr = take(x, &ib);
			hr_buf_dispose(&ib);
			hr_str key = key_cat(x, HR_STR("@request.body."), "", segs[2]);
			key = key_cat(x, key, "", HR_STR(":each"));
			hr_str alias2 = new_alias(x, sc->prefix);
			hr_buf cl;
			hr_buf_init(&cl, 1u << 20);
			hr_buf_append_cstr(&cl, " LEFT JOIN json_each(");
			hr_sql_param_text(x, &cl, arr);
			hr_buf_append_cstr(&cl, ") ");
			hr_buf_append_str(&cl, alias2);
			hr_str got;
			int rc = join(x, sc, key, NULL, true, &cl, alias2, &got);
			hr_buf_dispose(&cl);
			if (rc)
				return rc;
			hr_buf b;
			hr_buf_init(&b, 256);
			hr_buf_append_str(&b, got);
			hr_buf_append_cstr(&b, ".value");
			*o = expr(take(x, &b));
			hr_buf_dispose(&b);
			o->multi = true;
			return 0;
		}
		const hr_json *nested = n > 3 ? lookup_json(v, segs + 3, n - 3) : v;
		if (f && n == 3 && f->type == HR_FT_NUMBER && v && v->type == HR_JSON_STRING) {
			/* §6.6: numeric strings for number fields compare as numbers */
			char tmp[64];
			size_t l = HR_MIN(v->u.str.len, sizeof tmp - 1);
			memcpy(tmp, v->u.str.ptr, l);
			tmp[l] = '\0';
			char *end;
			double d = strtod(tmp, &end);
			*o = (*end == '\0' && l) ? lit_num(x, d) : json_operand(x, nested);
		} else {
			*o = json_operand(x, nested);
		}
		if (mod.len) {
			if (!hr_str_eq_lit(mod, "lower"))
				return fail(x, pos, 400, "unknown modifier");
			hr_buf b;
			hr_buf_init(&b, 256);
			hr_buf_append_cstr(&b, "LOWER(");
			hr_buf_append_str(&b, op_sql(x, o));
			hr_buf_append_char(&b, ')');
			*o = expr(take(x, &b));
			hr_buf_dispose(&b);
		}
		return 0;
	} else {
		return fail(x, pos, 400, "unknown @request path");
	}
	if (mod.len) {
		if (hr_str_eq_lit(mod, "isset")) {
			*o = lit_bool(true);
			return 0;
		}
		if (!hr_str_eq_lit(mod, "lower"))
			return fail(x, pos, 400, "unknown modifier");
		hr_buf b;
		hr_buf_init(&b, 256);
		hr_buf_append_cstr(&b, "LOWER(");
		hr_buf_append_str(&b, op_sql(x, o));
		hr_buf_append_char(&b, ')');
		*o = expr(take(x, &b));
		hr_buf_dispose(&b);
	}
	return 0;
}

/* ---- macros ----------------------------------------------------------- */

static bool macro(hr_sql_ctx *x, hr_str id, op *o)
{
	if (id.len < 2 || id.ptr[0] != '@')
		return false;
	int64_t now = x->req && x->req->now_ms ? x->req->now_ms : hr_time_now_ms();
	int y, mon, d, h, mi, s, ms, wd;
	hr_time_to_civil(now, &y, &mon, &d, &h, &mi, &s, &ms, &wd);
	int64_t t;
	hr_str name = hr_str_make(id.ptr + 1, id.len - 1);
	if (hr_str_eq_lit(name, "now"))
		t = now;
	else if (hr_str_eq_lit(name, "yesterday"))
		t = now - 86400000;
	else if (hr_str_eq_lit(name, "tomorrow"))
		t = now + 86400000;
	else if (hr_str_eq_lit(name, "todayStart"))
		t = hr_time_from_civil(y, mon, d, 0, 0, 0, 0);
	else if (hr_str_eq_lit(name, "todayEnd"))
		t = hr_time_from_civil(y, mon, d, 23, 59, 59, 999);
	else if (hr_str_eq_lit(name, "monthStart"))
		t = hr_time_from_civil(y, mon, 1, 0, 0, 0, 0);
	else if (hr_str_eq_lit(name, "monthEnd"))
		t = hr_time_from_civil(mon == 12 ? y + 1 : y, mon == 12 ? 1 : mon + 1, 1, 0, 0, 0, 0) - 1;
	else if (hr_str_eq_lit(name, "yearStart"))
		t = hr_time_from_civil(y, 1, 1, 0, 0, 0, 0);
	else if (hr_str_eq_lit(name, "yearEnd"))
		t = hr_time_from_civil(y, 12, 31, 23, 59, 59, 999);
	else {
		int v;
		if (hr_str_eq_lit(name, "second"))
			v = s;
		else if (hr_str_eq_lit(name, "minute"))
			v = mi;
		else if (hr_str_eq_lit(name, "hour"))
			v = h;
		else if (hr_str_eq_lit(name, "day"))
			v = d;
		else if (hr_str_eq_lit(name, "month"))
			v = mon;
		else if (hr_str_eq_lit(name, "weekday"))
			v = wd;
		else if (hr_str_eq_lit(name, "year"))
			v = y;
		else
			return false;
		*o = lit_num(x, v);
		return true;
	}
	char *buf = hr_arena_alloc(x->a, HR_TIME_LEN + 1);
	if (!buf)
		return false;
	hr_time_format(t, buf);
	*o = lit_text(x, hr_str_make(buf, HR_TIME_LEN));
	return true;
}

/* ---- operands --------------------------------------------------------- */

static int operand(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		   const hr_f_operand *fo, op *o, int fdepth);

static int func_call(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		     const hr_f_operand *fo, op *o, int fdepth)
{
	if (fdepth > 3)
		return fail(x, fo->pos, 400, "functions nested too deeply");
	hr_buf b;
	hr_buf_init(&b, 1u << 20);
	int rc = 0;
	bool multi = false;
	if (hr_str_eq_lit(fo->text, "geoDistance")) {
		if (fo->nargs != 4) {
			rc = fail(x, fo->pos, 400, "geoDistance takes 4 arguments");
			goto out;
		}
		op a[4];
		for (unsigned i = 0; i < 4; i++) {
			if (fo->args[i].kind == HR_F_TEXT) {
				rc = fail(x, fo->args[i].pos, 400, "geoDistance takes numbers or fields");
				goto out;
			}
			if ((rc = operand(x, sc, c, alias, &fo->args[i], &a[i], fdepth + 1)))
				goto out;
			op_sql(x, &a[i]);
			multi |= a[i].multi;
		}
		/* haversine, Earth radius 6371 km */
		hr_buf_printf(&b,
			      "(6371 * acos(MIN(1, MAX(-1, cos(radians(%.*s)) * cos(radians(%.*s)) * "
			      "cos(radians(%.*s) - radians(%.*s)) + sin(radians(%.*s)) * "
			      "sin(radians(%.*s))))))",
			      (int)a[1].sql.len, a[1].sql.ptr, (int)a[3].sql.len, a[3].sql.ptr,
			      (int)a[2].sql.len, a[2].sql.ptr, (int)a[0].sql.len, a[0].sql.ptr,
			      (int)a[1].sql.len, a[1].sql.ptr, (int)a[3].sql.len, a[3].sql.ptr);
		*o = expr(take(x, &b));
		o->nocoalesce = true;
		o->multi = multi;
	} else if (hr_str_eq_lit(fo->text, "strftime")) {
		if (fo->nargs < 1 || fo->nargs > 10 || fo->args[0].kind != HR_F_TEXT) {
			rc = fail(x, fo->pos, 400, "strftime needs a text format and at most 10 arguments");
			goto out;
		}
		hr_buf_append_cstr(&b, "COALESCE(strftime(");
		hr_sql_param_text(x, &b, fo->args[0].text);
		for (unsigned i = 1; i < fo->nargs; i++) {
			hr_buf_append_cstr(&b, ", ");
			if (i >= 2 && fo->args[i].kind != HR_F_TEXT) {
				rc = fail(x, fo->args[i].pos, 400, "strftime modifiers must be texts");
				goto out;
			}
			if (fo->args[i].kind == HR_F_FUNC) {
				rc = fail(x, fo->args[i].pos, 400,
					  "strftime takes a text, number or field as its time value");
				goto out;
			}
			op a;
			if ((rc = operand(x, sc, c, alias, &fo->args[i], &a, fdepth + 1)))
				goto out;
			multi |= a.multi;
			hr_buf_append_str(&b, op_sql(x, &a));
		}
		hr_buf_append_cstr(&b, "), '')");
		*o = expr(take(x, &b));
		o->multi = multi;
	} else {
		rc = fail(x, fo->pos, 400, "unknown function");
	}
out:
	hr_buf_dispose(&b);
	return rc;
}

static int operand(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		   const hr_f_operand *fo, op *o, int fdepth)
{
	switch (fo->kind) {
	case HR_F_TEXT:
		*o = lit_text(x, fo->text);
		return 0;
	case HR_F_NUMBER:
		*o = lit_num(x, fo->num);
		return 0;
	case HR_F_FUNC:
		return func_call(x, sc, c, alias, fo, o, fdepth);
	default:
		break;
	}
	hr_str id = fo->text;
	if (macro(x, id, o))
		return 0;
	hr_str segs[16], mod;
	unsigned n;
	int rc = split_path(x, id, segs, &n, &mod, fo->pos);
	if (rc)
		return rc;
	if (hr_str_eq_lit(segs[0], "@request"))
		return resolve_request(x, sc, c, alias, segs, n, mod, o, fo->pos);
	if (hr_str_eq_lit(segs[0], "@collection")) {
		if (x->client && !(x->req && x->req->superuser))
			return fail(x, fo->pos, 403, "Only superusers can filter by @collection.");
		if (n < 3)
			return fail(x, fo->pos, 400, "incomplete @collection path");
		walk w = {0};
		/* "@collection.name:alias.field": the alias rides on segs[1] */
		hr_str spec = segs[1];
		if ((rc = hop_collection(x, sc, &w, spec, fo->pos)))
			return rc;
		return resolve_fields(x, sc, &w, segs + 2, n - 2, mod, o, fo->pos);
	}
	if (segs[0].ptr[0] == '@' || segs[0].ptr[0] == '#')
		return fail(x, fo->pos, 400, "unknown identifier");
	walk w = {c, alias, HR_STR(""), 0};
	rc = resolve_fields(x, sc, &w, segs, n, mod, o, fo->pos);
	if (rc && n == 1 && mod.len == 0) {
		/* Keywords only when not resolvable as a field (§6.4). */
		if (hr_str_ieq_lit(id, "null") || hr_str_ieq_lit(id, "true") ||
		    hr_str_ieq_lit(id, "false")) {
			x->err_msg = NULL;
			x->status = 400;
			*o = hr_str_ieq_lit(id, "null")	 ? lit_null()
			     : hr_str_ieq_lit(id, "true") ? lit_bool(true)
							  : lit_bool(false);
			return 0;
		}
	}
	return rc;
}

/* ---- comparisons ------------------------------------------------------ */

static bool empty_lit(const op *o)
{
	return o->kind == O_NULL || (o->kind == O_TEXT && o->text.len == 0);
}

static bool nonempty_lit(const op *o)
{
	return o->kind == O_NUM || o->kind == O_BOOL || (o->kind == O_TEXT && o->text.len > 0);
}

/*
 * The LIKE pattern for a literal (§6.9), with upstream's exact escaping: a
 * value with an unescaped '%' is the user's own pattern; otherwise every
 * '\\', '%' and '_' not already preceded by a backslash gets one, and the
 * value is wrapped in '%'. ("Already preceded" is judged right to left, as
 * upstream does, so a backslash that escapes a special character is kept
 * and any other backslash is itself escaped.)
 */
static hr_str like_pattern(hr_sql_ctx *x, hr_str v)
{
	for (size_t i = 0; i < v.len; i++)
		if (v.ptr[i] == '%' && (i == 0 || v.ptr[i - 1] != '\\'))
			return v;
	/* right to left into a scratch array, then reversed */
	char *tmp = hr_arena_alloc(x->a, 2 * v.len + 2);
	if (!tmp)
		return v;
	size_t n = 0;
	bool match = false;
	for (size_t k = v.len; k-- > 0;) {
		char c = v.ptr[k];
		if (match) {
			if (c != '\\')
				tmp[n++] = '\\';
			match = false;
		} else {
			match = c == '\\' || c == '%' || c == '_';
		}
		tmp[n++] = c;
		if (k == 0 && match)
			tmp[n++] = '\\';
	}
	char *out = hr_arena_alloc(x->a, n + 3);
	if (!out)
		return v;
	out[0] = '%';
	for (size_t i = 0; i < n; i++)
		out[1 + i] = tmp[n - 1 - i];
	out[n + 1] = '%';
	return hr_str_make(out, n + 2);
}

/*
 * A number literal compared with a number (or bool) column is bound as an
 * integer when it is integral: SQLite compares integers faster, and the
 * result is the same. Against any other operand it stays a float, as
 * upstream binds it, because a text column turns a float into "123.0"
 * (DIALECT.md §21) and that difference is observable.
 */
static void int_if_numeric(op *lit, const op *other)
{
	if (lit->kind != O_NUM || (other->ftype != HR_FT_NUMBER && other->ftype != HR_FT_BOOL))
		return;
	double v = lit->num;
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		lit->as_int = true;
}

/* Appends the comparison of two resolved operands (§6.9). */
static int compare(hr_sql_ctx *x, op *l, op *r, int base_op, hr_buf *out)
{
	int_if_numeric(l, r);
	int_if_numeric(r, l);
	hr_buf_append_char(out, '(');
	switch (base_op) {
	case HR_F_EQ:
	case HR_F_NEQ: {
		bool eq = base_op == HR_F_EQ;
		if (l->nocoalesce || r->nocoalesce) {
			hr_buf_append_str(out, empty_lit(l) && l->kind != O_NULL ? HR_STR("''") : op_sql(x, l));
			hr_buf_append_cstr(out, eq ? " IS " : " IS NOT ");
			hr_buf_append_str(out, empty_lit(r) && r->kind != O_NULL ? HR_STR("''") : op_sql(x, r));
		} else if (empty_lit(l) && empty_lit(r)) {
			hr_buf_append_cstr(out, eq ? "1=1" : "1=0");
		} else if (nonempty_lit(l) || nonempty_lit(r)) {
			hr_buf_append_str(out, empty_lit(l) ? HR_STR("''") : op_sql(x, l));
			hr_buf_append_cstr(out, eq ? " = " : " IS NOT ");
			hr_buf_append_str(out, empty_lit(r) ? HR_STR("''") : op_sql(x, r));
		} else if (empty_lit(l) || empty_lit(r)) {
			hr_str e = empty_lit(l) ? op_sql(x, r) : op_sql(x, l);
			if (eq)
				hr_buf_printf(out, "%.*s = '' OR %.*s IS NULL", (int)e.len, e.ptr, (int)e.len,
					      e.ptr);
			else
				hr_buf_printf(out, "%.*s IS NOT '' AND %.*s IS NOT NULL", (int)e.len, e.ptr,
					      (int)e.len, e.ptr);
		} else {
			hr_str ls = op_sql(x, l), rs = op_sql(x, r);
			hr_buf_printf(out, "COALESCE(%.*s, '') %s COALESCE(%.*s, '')", (int)ls.len, ls.ptr,
				      eq ? "=" : "IS NOT", (int)rs.len, rs.ptr);
		}
		break;
	}
	case HR_F_GT:
	case HR_F_GTE:
	case HR_F_LT:
	case HR_F_LTE: {
		static const char *const ops[] = {[HR_F_GT] = " > ", [HR_F_GTE] = " >= ",
						  [HR_F_LT] = " < ", [HR_F_LTE] = " <= "};
		hr_buf_append_str(out, op_sql(x, l));
		hr_buf_append_cstr(out, ops[base_op]);
		hr_buf_append_str(out, op_sql(x, r));
		break;
	}
	case HR_F_LIKE:
	case HR_F_NLIKE: {
		hr_buf_append_str(out, op_sql(x, l));
		hr_buf_append_cstr(out, base_op == HR_F_LIKE ? " LIKE " : " NOT LIKE ");
		if (r->kind == O_TEXT || r->kind == O_NUM || r->kind == O_BOOL) {
			char num[64];
			hr_str v = r->text;
			if (r->kind == O_NUM) {
				hr_buf nb;
				hr_buf_init(&nb, 64);
				hr_json_write_number(&nb, r->num);
				size_t k = HR_MIN(nb.len, sizeof num - 1);
				memcpy(num, nb.ptr ? nb.ptr : "", k);
				hr_buf_dispose(&nb);
				v = hr_str_make(hr_arena_dup(x->a, num, k), k);
			} else if (r->kind == O_BOOL) {
				v = r->b ? HR_STR("1") : HR_STR("0");
			}
			hr_sql_param_text(x, out, like_pattern(x, v));
		} else if (r->kind == O_NULL) {
			hr_buf_append_cstr(out, "NULL");
		} else {
			hr_str rs = op_sql(x, r);
			hr_buf_printf(out, "('%%' || %.*s || '%%')", (int)rs.len, rs.ptr);
		}
		hr_buf_append_cstr(out, " ESCAPE '\\'");
		break;
	}
	default:
		return HR_EINVAL;
	}
	hr_buf_append_char(out, ')');
	if (l->extra.len)
		hr_buf_printf(out, " AND %.*s", (int)l->extra.len, l->extra.ptr);
	if (r->extra.len)
		hr_buf_printf(out, " AND %.*s", (int)r->extra.len, r->extra.ptr);
	return 0;
}

static int item(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		const hr_f_item *it, hr_buf *out);

static int list(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		const hr_f_list *l, hr_buf *out)
{
	hr_buf_append_char(out, '(');
	for (unsigned i = 0; i < l->n; i++) {
		if (i)
			hr_buf_append_cstr(out, l->items[i].join == HR_F_OR ? " OR " : " AND ");
		int rc = item(x, sc, c, alias, &l->items[i], out);
		if (rc)
			return rc;
	}
	hr_buf_append_char(out, ')');
	return out->err;
}

static int item(hr_sql_ctx *x, scope *sc, const hr_collection *c, hr_str alias,
		const hr_f_item *it, hr_buf *out)
{
	if (it->is_group)
		return list(x, sc, c, alias, &it->group, out);
	op l, r;
	sc->multi = false;
	int rc = operand(x, sc, c, alias, &it->left, &l, 0);
	if (rc)
		return rc;
	bool lm = sc->multi || l.multi;
	sc->multi = false;
	if ((rc = operand(x, sc, c, alias, &it->right, &r, 0)))
		return rc;
	bool rm = sc->multi || r.multi;
	int base = hr_f_op_base(it->op);
	hr_buf_append_char(out, '(');
	if ((rc = compare(x, &l, &r, base, out)))
		return rc;
	if ((lm || rm) && !hr_f_op_is_any(it->op)) {
		/* Match-all: no value (pair) may fail the comparison. */
		/* Each side gets its own joins (its own rows), so that the
		 * same path on both sides still ranges over every pair. */
		hr_buf sub;
		hr_buf_init(&sub, 1u << 20);
		unsigned nl = 0, lcap = 0, nr = 0, rcap = 0;
		scope sl = {true, &sub, NULL, &nl, &lcap, false, 'm'};
		scope sr = {true, &sub, NULL, &nr, &rcap, false, 'n'};
		op l2, r2;
		rc = operand(x, &sl, c, alias, &it->left, &l2, 0);
		if (rc == 0)
			rc = operand(x, &sr, c, alias, &it->right, &r2, 0);
		if (rc == 0) {
			hr_buf_append_cstr(out, " AND NOT EXISTS (SELECT 1 FROM (SELECT 1) ");
			hr_buf_append_str(out, new_alias(x, 'd'));
			hr_buf_append_str(out, hr_str_make(sub.ptr ? sub.ptr : "", sub.len));
			hr_buf_append_cstr(out, " WHERE NOT (");
			rc = compare(x, &l2, &r2, base, out);
			hr_buf_append_cstr(out, "))");
		}
		hr_buf_dispose(&sub);
		if (rc)
			return rc;
	}
	hr_buf_append_char(out, ')');
	return out->err;
}

static scope outer_scope(hr_sql_ctx *x)
{
	scope sc = {false, &x->joins, x->jt, &x->nj, &x->jcap, false, 'j'};
	return sc;
}

int hr_sql_where(hr_sql_ctx *x, const hr_collection *c, hr_str alias, const hr_f_list *ast,
		 hr_buf *out)
{
	scope sc = outer_scope(x);
	int rc = list(x, &sc, c, alias, ast, out);
	if (rc == 0 && (out->err || x->joins.err))
		rc = HR_ENOMEM;
	return rc;
}

static int parse_rule(hr_sql_ctx *x, hr_str text, hr_f_list *ast)
{
	hr_filter_limits lim = {200, 32}; /* §6.11: per rule and per client filter */
	hr_filter_error fe;
	int rc = hr_filter_parse(x->a, text.ptr, text.len, &lim, ast, &fe);
	if (rc)
		return fail(x, fe.pos, 400, fe.message ? fe.message : "invalid filter");
	return 0;
}

int hr_sql_where_text(hr_sql_ctx *x, const hr_collection *c, hr_str alias, hr_str text,
		      hr_buf *out)
{
	if (text.len == 0) {
		hr_buf_append_cstr(out, "1=1");
		return 0;
	}
	hr_f_list ast;
	int rc = parse_rule(x, text, &ast);
	if (rc)
		return rc;
	return hr_sql_where(x, c, alias, &ast, out);
}

/*
 * Appends EXISTS (SELECT 1 FROM "t" rN <joins> WHERE rN.id = row.id AND
 * (t's listRule)): a collection's rule applied to a joined row, compiled
 * in its own join scope so its joins cannot collide with ours.
 */
static int rule_exists(hr_sql_ctx *x, const hr_collection *t, hr_str row_alias, hr_buf *out,
		       size_t pos)
{
	if (++x->depth > MAX_RULE_DEPTH) {
		x->depth--;
		return fail(x, pos, 400, "rules nested too deeply");
	}
	hr_f_list ast;
	bool saved_client = x->client;
	x->client = false; /* the rule itself is not a client filter */
	int rc = parse_rule(x, t->rules[HR_RULE_LIST], &ast);
	if (rc == 0) {
		hr_buf joins, where;
		hr_buf_init(&joins, 1u << 20);
		hr_buf_init(&where, 1u << 20);
		hr_sql_join *jt = NULL;
		unsigned nj = 0, jcap = 0;
		scope sc = {true, &joins, jt, &nj, &jcap, false, 'k'};
		hr_str ra = new_alias(x, 'k');
		rc = list(x, &sc, t, ra, &ast, &where);
		if (rc == 0) {
			hr_buf_append_cstr(out, "EXISTS (SELECT 1 FROM ");
			q_ident(out, t->name);
			hr_buf_append_char(out, ' ');
			hr_buf_append_str(out, ra);
			hr_buf_append_str(out, hr_str_make(joins.ptr ? joins.ptr : "", joins.len));
			hr_buf_append_cstr(out, " WHERE ");
			hr_buf_append_str(out, ra);
			hr_buf_append_cstr(out, ".\"id\" = ");
			hr_buf_append_str(out, row_alias);
			hr_buf_append_cstr(out, ".\"id\" AND ");
			hr_buf_append_str(out, hr_str_make(where.ptr ? where.ptr : "", where.len));
			hr_buf_append_char(out, ')');
		}
		hr_buf_dispose(&joins);
		hr_buf_dispose(&where);
	}
	x->client = saved_client;
	x->depth--;
	return rc;
}

int hr_sql_order(hr_sql_ctx *x, const hr_collection *c, hr_str alias, const hr_sort_item *items,
		 unsigned n, hr_buf *out)
{
	scope sc = outer_scope(x);
	for (unsigned i = 0; i < n; i++) {
		const hr_sort_item *s = &items[i];
		if (i)
			hr_buf_append_cstr(out, ", ");
		if (s->expr.kind == HR_F_IDENT && hr_str_eq_lit(s->expr.text, "@random")) {
			hr_buf_append_cstr(out, "RANDOM()");
			continue;
		}
		if (s->expr.kind == HR_F_IDENT && hr_str_eq_lit(s->expr.text, "@rowid")) {
			if (c->type == HR_COLL_VIEW)
				return fail(x, s->expr.pos, 400, "views have no @rowid");
			hr_buf_append_str(out, alias);
			hr_buf_append_cstr(out, "._rowid_");
		} else {
			op o;
			if (s->expr.kind != HR_F_IDENT && s->expr.kind != HR_F_FUNC)
				return fail(x, s->expr.pos, 400, "invalid sort field");
			int rc = operand(x, &sc, c, alias, &s->expr, &o, 0);
			if (rc)
				return rc;
			if (o.kind != O_EXPR)
				return fail(x, s->expr.pos, 400, "invalid sort field");
			hr_buf_append_str(out, op_sql(x, &o));
		}
		hr_buf_append_cstr(out, s->desc ? " DESC" : " ASC");
	}
	return out->err ? out->err : x->joins.err;
}

int hr_sql_check_rule(hr_arena *a, const hr_schema *schema, const hr_collection *c, hr_str rule,
		      const char **msg)
{
	hr_sql_ctx x;
	hr_sql_ctx_init(&x, a, schema, NULL, false);
	hr_buf out;
	hr_buf_init(&out, 4u << 20);
	int rc = hr_sql_where_text(&x, c, HR_STR("r"), rule, &out);
	if (rc)
		*msg = x.err_msg ? x.err_msg : "invalid rule";
	hr_buf_dispose(&out);
	hr_sql_ctx_dispose(&x);
	return rc;
}

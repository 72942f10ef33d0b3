/*
 * rules/sql.h - compiles filter/rule ASTs (filter.h) and sort lists into
 * parameterised SQL over a collection (DIALECT.md §6, §7, §8.1).
 *
 * No value from a request ever reaches SQL text: literals, macros, JSON
 * paths and @request values become numbered parameters (?N), and the only
 * identifiers written are collection and field names from the schema
 * (validated names, always quoted) and aliases we generate.
 *
 * SHAPE (upstream's model, DIALECT.md §6.9). Relation paths, back-relations
 * and @collection become LEFT JOINs of the outer query, registered once per
 * path so that conditions on the same path talk about the same joined row;
 * joins that can multiply rows make the caller use SELECT DISTINCT and
 * COUNT(DISTINCT id). Any-of operators (?=, ...) are then the plain
 * comparison over the joined rows. A plain operator over a multi-valued
 * operand (match-all) additionally requires NOT EXISTS a value (or pair of
 * values) in an isolated correlated subquery that fails the comparison.
 * An empty multi-valued operand reads as one NULL value, as with LEFT JOIN.
 *
 * Equality uses the empty-value table of §6.9 (NULL and '' are both
 * "empty"); LIKE wraps and escapes literals as §6.9 says.
 *
 * CLIENT FILTERS (hr_sql_ctx.client) add the restrictions of §6.5/§7.2:
 * hidden fields are refused, every relation/back-relation/@collection hop
 * must land on a collection whose listRule is not null and that rule is
 * applied to the hop, and conditions on an auth collection's email also
 * require emailVisibility. Rules (client = false) have none of these.
 */
#ifndef HR_RULES_SQL_H
#define HR_RULES_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "db/schema.h"
#include "rules/filter.h"

/* The request as rules see it (@request.*, §6.6). NULL members are absent. */
typedef struct hr_rule_req {
	hr_str method;		   /* "GET" ... */
	hr_str context;		   /* "default", "expand", "batch", ... */
	const hr_json *query;	   /* object: name -> string */
	const hr_json *headers;	   /* object: lower_snake name -> string */
	const hr_json *body;	   /* object: submitted data (after modifiers) */
	const hr_collection *auth_coll; /* NULL for guests */
	hr_str auth_id;
	const hr_json *auth_record; /* the auth record's stored values (object) */
	bool superuser;
	int64_t now_ms;		   /* request time for the date macros */
} hr_rule_req;

enum hr_sql_ptype { HR_SQLP_NULL = 0, HR_SQLP_TEXT, HR_SQLP_NUM, HR_SQLP_INT };

typedef struct hr_sql_param {
	int type; /* enum hr_sql_ptype */
	hr_str text;
	double num;
	int64_t i;
} hr_sql_param;

typedef struct hr_sql_join {
	hr_str key;   /* the path it serves, e.g. "author.org" or "@collection.m:x" */
	hr_str alias; /* its alias in SQL */
	const hr_collection *coll; /* the joined collection (NULL for json_each) */
	bool multi;   /* the join can multiply rows */
} hr_sql_join;

typedef struct hr_sql_ctx {
	hr_arena *a;
	const hr_schema *schema;
	const hr_rule_req *req; /* may be NULL: @request.* then reads as NULL */
	bool client;		/* a client filter/sort, not a rule */
	/* outputs */
	hr_sql_param *params;	/* ?1 is params[0] */
	unsigned nparams, cap;
	unsigned next_alias;
	hr_buf joins;		/* " LEFT JOIN ... ON ..." clauses for the outer query */
	bool distinct;		/* a join may multiply rows: SELECT DISTINCT / COUNT(DISTINCT) */
	hr_sql_join *jt;	/* joins registered in the outer query, for reuse */
	unsigned nj, jcap;
	/* error */
	int status;		/* 400 or 403 */
	size_t err_pos;
	const char *err_msg;
	unsigned depth;		/* nested rule compilation guard */
} hr_sql_ctx;

void hr_sql_ctx_init(hr_sql_ctx *x, hr_arena *a, const hr_schema *schema, const hr_rule_req *req,
		     bool client);

/* Frees the joins buffer (everything else is arena memory). */
void hr_sql_ctx_dispose(hr_sql_ctx *x);

/*
 * Appends the SQL boolean expression of ast over collection c, whose row
 * is visible as `alias` (a quoted-safe identifier we generated or the
 * table name), to out. Joins the expression needs are added to x->joins,
 * which the caller writes after its FROM clause (and x->distinct says
 * whether rows may repeat). Returns 0, or HR_EPARSE with x->status/err_msg/
 * err_pos (unknown field, hidden field, forbidden hop, bad function...).
 */
int hr_sql_where(hr_sql_ctx *x, const hr_collection *c, hr_str alias, const hr_f_list *ast,
		 hr_buf *out);

/*
 * Parses and compiles a rule or filter text in one step (for rules stored
 * with collections). An empty text appends "1=1".
 */
int hr_sql_where_text(hr_sql_ctx *x, const hr_collection *c, hr_str alias, hr_str text,
		      hr_buf *out);

/*
 * Appends "expr [ASC|DESC], ..." for a sort list (without ORDER BY).
 * @random and @rowid are supported (§8.1). Returns 0 or HR_EPARSE.
 */
int hr_sql_order(hr_sql_ctx *x, const hr_collection *c, hr_str alias, const hr_sort_item *items,
		 unsigned n, hr_buf *out);

/* Binds x's parameters to st (?N = params[N-1]). */
struct hr_db_stmt;
int hr_sql_bind(const hr_sql_ctx *x, struct hr_db_stmt *st);

/* Adds a parameter and appends its placeholder "?N" to out. */
void hr_sql_param_text(hr_sql_ctx *x, hr_buf *out, hr_str v);
void hr_sql_param_num(hr_sql_ctx *x, hr_buf *out, double v);
void hr_sql_param_int(hr_sql_ctx *x, hr_buf *out, int64_t v);

/* Checks that a rule text compiles for c (collection validation). Returns
 * 0 or HR_EPARSE with a message. */
int hr_sql_check_rule(hr_arena *a, const hr_schema *schema, const hr_collection *c, hr_str rule,
		      const char **msg);

#endif

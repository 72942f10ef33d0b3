/*
 * tests/unit/rules/sql_test.c - the filter/rule compiler (src/rules/sql.c)
 * tested by its MEANING, not its text: every row is compiled against a
 * real SQLite database and the set of record ids it selects is compared
 * with the set DIALECT.md §6 says it must select.
 *
 * FIXTURE. Each case opens an in-memory database through hr_db_open, runs
 * hr_schema_bootstrap, creates six collections from their JSON with
 * hr_collection_from_json + hr_schema_migrate, loads the schema snapshot
 * with hr_schema_load and inserts a small, fixed dataset with plain SQL:
 *
 *   users (auth, listRule "verified = true"; hidden: password, tokenKey, secret)
 *     u1 Ada  ada@x.io  emailVisibility 1 verified 1 role admin   manager ""
 *     u2 Bob  bob@x.io  emailVisibility 0 verified 1 role member  manager u1
 *     u3 Cy   cy@x.io   emailVisibility 1 verified 0 role ""      manager u2
 *     u4 ""   ""        emailVisibility 0 verified 0 role guest   manager u3
 *   cats (listRule null)        c1 "Tech"
 *   posts (listRule "")
 *     id title        subtitle    views active tags      meta                          author members       created
 *     p1 Hello World  Hello World   10   1   [a,b]   {"a":{"b":1},"list":[5,6],"s":"x"} u1   [u1,u2]    2024-01-01 00:00:00.000Z
 *     p2 hello_there  ""             0   0   [c]     {"a":{"b":2},"list":[7]}        u2     [u3]       2024-06-15 08:00:00.000Z
 *     p3 100% real    other        5.5   1   []      NULL                            ""     []         2024-06-14 23:59:59.999Z
 *     p4 ""           ""            -3   0   [a]     {"a":{"b":null}}                u3     [u1,u3]    2023-12-31 23:59:59.999Z
 *     p5 under_score  under        100   1   [b,d]   "str"                           u4     [u2]       2025-02-01 10:00:00.000Z
 *     p6 back\slash   x             10   0   [d]     [1,2,3]                         u1     [u1,u2,u4] 2024-06-16 00:00:00.000Z
 *     (p1 also: cat c1, secret "top" (hidden), location Sofia 23.32/42.69;
 *      p5 location Plovdiv 24.75/42.15; every other location 0/0)
 *   comments (listRule "message != 'secret'")
 *     cm1 p1 "first!" u2 2024   cm2 p1 "nice post" u3 2025   cm3 p2 "secret" u1 2024   cm4 p4 "" u1 2023
 *   profiles (unique index on user)   pr1 u1 "likes C"   pr2 u2 ""
 *   memberships                       m1 u1 p1 level 1   m2 u2 p2 level 2   m3 u1 p3 level 3
 *
 * A ROW names a collection, a mode (rule; client filter of a guest/user;
 * client filter of a superuser), a request (none, guest, u1, u2,
 * superuser; all with the same body/query/headers and the fixed time
 * 2024-06-15 12:00:00Z, a Saturday), a filter and/or a sort, and either
 * the expected ids (a set; a sequence when ordered) or the expected error
 * status. The query is assembled as records.c assembles a list query:
 *   SELECT [DISTINCT] r."id" FROM "coll" r <joins> WHERE <where>
 *   ORDER BY [<sort>, ] r._rowid_
 * A result with a repeated id fails the row (the compiler left `distinct`
 * unset for a join that multiplies rows).
 *
 * PARAMETERS. For every compiled row, no text literal of the filter (3+
 * bytes), no decimal number literal, and none of the request's values may
 * appear in the SQL text; non-LIKE text literals must appear among the
 * bound parameters verbatim.
 *
 * A row that fails prints its filter, expected and actual ids, the WHERE
 * clause, the joins and the parameters. Rows that document a divergence
 * between the compiler and the spec are kept failing on purpose; the
 * comment on each says what the spec requires.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "core/time.h"
#include "db/db.h"
#include "db/schema.h"
#include "harness/unit.h"
#include "rules/filter.h"
#include "rules/sql.h"

/* ---- fixture ---------------------------------------------------------- */

#define ID_FIELD                                                                                  \
	"{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\",\"primaryKey\":true,"        \
	"\"required\":true,\"system\":true,\"min\":15,\"max\":15,\"pattern\":\"^[a-z0-9]+$\","    \
	"\"autogeneratePattern\":\"[a-z0-9]{15}\"}"

static const char USERS_JSON[] =
	"{\"id\":\"_pb_users_auth_\",\"name\":\"users\",\"type\":\"auth\","
	"\"listRule\":\"verified = true\",\"viewRule\":\"verified = true\",\"createRule\":\"\","
	"\"updateRule\":null,\"deleteRule\":null,\"fields\":[" ID_FIELD ","
	"{\"id\":\"password901924565\",\"name\":\"password\",\"type\":\"password\",\"hidden\":true,"
	"\"system\":true,\"min\":8},"
	"{\"id\":\"text2504183744\",\"name\":\"tokenKey\",\"type\":\"text\",\"hidden\":true,\"system\":true},"
	"{\"id\":\"email3885137012\",\"name\":\"email\",\"type\":\"email\",\"system\":true},"
	"{\"id\":\"bool1547992806\",\"name\":\"emailVisibility\",\"type\":\"bool\",\"system\":true},"
	"{\"id\":\"bool256245529\",\"name\":\"verified\",\"type\":\"bool\",\"system\":true},"
	"{\"id\":\"text_name\",\"name\":\"name\",\"type\":\"text\"},"
	"{\"id\":\"select_role\",\"name\":\"role\",\"type\":\"select\",\"maxSelect\":1,"
	"\"values\":[\"admin\",\"member\",\"guest\"]},"
	"{\"id\":\"relation_manager\",\"name\":\"manager\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"text_usecret\",\"name\":\"secret\",\"type\":\"text\",\"hidden\":true},"
	"{\"id\":\"autodate_ucreated\",\"name\":\"created\",\"type\":\"autodate\",\"onCreate\":true}"
	"],\"indexes\":[]}";

static const char CATS_JSON[] =
	"{\"id\":\"pbc_cats\",\"name\":\"cats\",\"type\":\"base\",\"listRule\":null,\"fields\":[" ID_FIELD
	",{\"id\":\"text_cname\",\"name\":\"name\",\"type\":\"text\"}],\"indexes\":[]}";

static const char POSTS_JSON[] =
	"{\"id\":\"pbc_posts\",\"name\":\"posts\",\"type\":\"base\",\"listRule\":\"\",\"viewRule\":\"\","
	"\"fields\":[" ID_FIELD ","
	"{\"id\":\"text_title\",\"name\":\"title\",\"type\":\"text\"},"
	"{\"id\":\"text_subtitle\",\"name\":\"subtitle\",\"type\":\"text\"},"
	"{\"id\":\"number_views\",\"name\":\"views\",\"type\":\"number\"},"
	"{\"id\":\"bool_active\",\"name\":\"active\",\"type\":\"bool\"},"
	"{\"id\":\"select_tags\",\"name\":\"tags\",\"type\":\"select\",\"maxSelect\":4,"
	"\"values\":[\"a\",\"b\",\"c\",\"d\"]},"
	"{\"id\":\"json_meta\",\"name\":\"meta\",\"type\":\"json\"},"
	"{\"id\":\"relation_author\",\"name\":\"author\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"relation_members\",\"name\":\"members\",\"type\":\"relation\",\"maxSelect\":9,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"relation_cat\",\"name\":\"cat\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"pbc_cats\"},"
	"{\"id\":\"geoPoint_location\",\"name\":\"location\",\"type\":\"geoPoint\"},"
	"{\"id\":\"text_psecret\",\"name\":\"secret\",\"type\":\"text\",\"hidden\":true},"
	"{\"id\":\"autodate_pcreated\",\"name\":\"created\",\"type\":\"autodate\",\"onCreate\":true}"
	"],\"indexes\":[\"CREATE INDEX `idx_posts_author` ON `posts` (`author`)\"]}";

static const char COMMENTS_JSON[] =
	"{\"id\":\"pbc_comments\",\"name\":\"comments\",\"type\":\"base\","
	"\"listRule\":\"message != 'secret'\",\"fields\":[" ID_FIELD ","
	"{\"id\":\"relation_post\",\"name\":\"post\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"pbc_posts\"},"
	"{\"id\":\"text_message\",\"name\":\"message\",\"type\":\"text\"},"
	"{\"id\":\"relation_cauthor\",\"name\":\"author\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"autodate_ccreated\",\"name\":\"created\",\"type\":\"autodate\",\"onCreate\":true}"
	"],\"indexes\":[]}";

static const char PROFILES_JSON[] =
	"{\"id\":\"pbc_profiles\",\"name\":\"profiles\",\"type\":\"base\",\"listRule\":\"\",\"fields\":[" ID_FIELD
	",{\"id\":\"relation_puser\",\"name\":\"user\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"text_bio\",\"name\":\"bio\",\"type\":\"text\"}],"
	"\"indexes\":[\"CREATE UNIQUE INDEX `idx_profiles_user` ON `profiles` (`user`)\"]}";

static const char MEMBERSHIPS_JSON[] =
	"{\"id\":\"pbc_memberships\",\"name\":\"memberships\",\"type\":\"base\",\"listRule\":\"\","
	"\"fields\":[" ID_FIELD ","
	"{\"id\":\"relation_muser\",\"name\":\"user\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"_pb_users_auth_\"},"
	"{\"id\":\"relation_mpost\",\"name\":\"post\",\"type\":\"relation\",\"maxSelect\":1,"
	"\"collectionId\":\"pbc_posts\"},"
	"{\"id\":\"number_level\",\"name\":\"level\",\"type\":\"number\"}],\"indexes\":[]}";

static const char VIEW_JSON[] =
	"{\"id\":\"pbc_titles\",\"name\":\"titles\",\"type\":\"view\",\"listRule\":\"\","
	"\"viewQuery\":\"SELECT id, title, views FROM posts\",\"fields\":["
	"{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\"},"
	"{\"id\":\"text_vtitle\",\"name\":\"title\",\"type\":\"text\"},"
	"{\"id\":\"number_vviews\",\"name\":\"views\",\"type\":\"number\"}],\"indexes\":[]}";

static const char DATA_SQL[] =
	"INSERT INTO users (id, name, email, emailVisibility, verified, role, manager, secret, created) VALUES"
	" ('u1','Ada','ada@x.io',1,1,'admin','','s-one','2024-01-01 00:00:00.000Z'),"
	" ('u2','Bob','bob@x.io',0,1,'member','u1','s-two','2024-02-01 00:00:00.000Z'),"
	" ('u3','Cy','cy@x.io',1,0,'','u2','','2024-03-01 00:00:00.000Z'),"
	" ('u4','','',0,0,'guest','u3','','2024-04-01 00:00:00.000Z');"
	"INSERT INTO cats (id, name) VALUES ('c1','Tech');"
	"INSERT INTO posts (id, title, subtitle, views, active, tags, meta, author, members, cat,"
	" location, secret, created) VALUES"
	" ('p1','Hello World','Hello World',10,1,'[\"a\",\"b\"]',"
	"  '{\"a\":{\"b\":1},\"list\":[5,6],\"s\":\"x\"}','u1','[\"u1\",\"u2\"]','c1',"
	"  '{\"lon\":23.32,\"lat\":42.69}','top','2024-01-01 00:00:00.000Z'),"
	" ('p2','hello_there','',0,0,'[\"c\"]','{\"a\":{\"b\":2},\"list\":[7]}','u2','[\"u3\"]','',"
	"  '{\"lon\":0,\"lat\":0}','','2024-06-15 08:00:00.000Z'),"
	" ('p3','100% real','other',5.5,1,'[]',NULL,'','[]','',"
	"  '{\"lon\":0,\"lat\":0}','','2024-06-14 23:59:59.999Z'),"
	" ('p4','','',-3,0,'[\"a\"]','{\"a\":{\"b\":null}}','u3','[\"u1\",\"u3\"]','',"
	"  '{\"lon\":0,\"lat\":0}','','2023-12-31 23:59:59.999Z'),"
	" ('p5','under_score','under',100,1,'[\"b\",\"d\"]','\"str\"','u4','[\"u2\"]','',"
	"  '{\"lon\":24.75,\"lat\":42.15}','','2025-02-01 10:00:00.000Z'),"
	" ('p6','back\\slash','x',10,0,'[\"d\"]','[1,2,3]','u1','[\"u1\",\"u2\",\"u4\"]','',"
	"  '{\"lon\":0,\"lat\":0}','','2024-06-16 00:00:00.000Z');"
	"INSERT INTO comments (id, post, message, author, created) VALUES"
	" ('cm1','p1','first!','u2','2024-03-01 00:00:00.000Z'),"
	" ('cm2','p1','nice post','u3','2025-01-01 00:00:00.000Z'),"
	" ('cm3','p2','secret','u1','2024-07-01 00:00:00.000Z'),"
	" ('cm4','p4','','u1','2023-05-05 00:00:00.000Z');"
	"INSERT INTO profiles (id, user, bio) VALUES ('pr1','u1','likes C'), ('pr2','u2','');"
	"INSERT INTO memberships (id, user, post, level) VALUES"
	" ('m1','u1','p1',1), ('m2','u2','p2',2), ('m3','u1','p3',3);";

/* The request every non-NULL req carries (only auth differs). */
static const char BODY_JSON[] =
	"{\"title\":\"Hello World\",\"views\":\"10\",\"tags\":[\"a\",\"c\"],\"meta\":{\"k\":[1,2]},"
	"\"author\":\"u2\",\"members\":[\"u1\",\"u3\"],\"active\":true,\"subtitle\":null}";
static const char QUERY_JSON[] = "{\"q\":\"HeLLo\",\"n\":\"5\"}";
static const char HEADERS_JSON[] = "{\"x_token\":\"abc123\"}";
/* Request values that must never reach SQL text. */
static const char *const REQ_SECRETS[] = {"Hello World", "HeLLo", "abc123"};

enum { R_NONE = 0, R_GUEST, R_U1, R_U2, R_SU, R__N };
enum { M_RULE = 0, M_CLIENT, M_SUPER };

typedef struct fixture {
	hr_db *db;
	hr_schema *schema;
	hr_arena a;
	hr_rule_req req[R__N];
	bool have_math; /* SQLite built with the math functions (geoDistance) */
} fixture;

static int64_t fixed_now(void)
{
	return hr_time_from_civil(2024, 6, 15, 12, 0, 0, 0);
}

static bool create_coll(hr_db *db, hr_arena *a, const char *json)
{
	hr_json *j;
	hr_json_error je;
	if (hr_json_parse(a, json, strlen(json), 32, &j, &je) != 0) {
		fprintf(stderr, "  fixture JSON: %s at %zu\n", je.message, je.offset);
		return false;
	}
	hr_collection c;
	const char *what;
	if (hr_collection_from_json(a, j, &c, &what) != 0) {
		fprintf(stderr, "  fixture from_json: %s\n", what);
		return false;
	}
	hr_db_error err = {0};
	if (hr_db_begin(db, true, &err) != 0)
		return false;
	if (hr_schema_migrate(db, NULL, &c, &err) != 0) {
		fprintf(stderr, "  fixture migrate: %s\n", err.msg);
		hr_db_rollback(db);
		return false;
	}
	return hr_db_commit(db, &err) == 0;
}

static bool fixture_open(fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	hr_arena_init(&fx->a, NULL, 0, 0);
	hr_db_config cfg = {.kind = HR_DB_SQLITE, .path = ":memory:"};
	hr_db_error err = {0};
	if (hr_db_open(&cfg, &fx->db, &err) != 0) {
		fprintf(stderr, "  open: %s\n", err.msg);
		return false;
	}
	if (hr_schema_bootstrap(fx->db, &err) != 0) {
		fprintf(stderr, "  bootstrap: %s\n", err.msg);
		return false;
	}
	const char *colls[] = {USERS_JSON,    CATS_JSON,     POSTS_JSON,
			       COMMENTS_JSON, PROFILES_JSON, MEMBERSHIPS_JSON, VIEW_JSON};
	for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++)
		if (!create_coll(fx->db, &fx->a, colls[i]))
			return false;
	if (hr_db_exec(fx->db, DATA_SQL, &err) != 0) {
		fprintf(stderr, "  data: %s\n", err.msg);
		return false;
	}
	if (hr_schema_load(fx->db, 1, &fx->schema, &err) != 0) {
		fprintf(stderr, "  load: %s\n", err.msg);
		return false;
	}
	/* Requests. */
	hr_json *body, *query, *headers;
	hr_json_error je;
	if (hr_json_parse(&fx->a, BODY_JSON, sizeof BODY_JSON - 1, 16, &body, &je) ||
	    hr_json_parse(&fx->a, QUERY_JSON, sizeof QUERY_JSON - 1, 16, &query, &je) ||
	    hr_json_parse(&fx->a, HEADERS_JSON, sizeof HEADERS_JSON - 1, 16, &headers, &je))
		return false;
	const hr_collection *users = hr_schema_find(fx->schema, HR_STR("users"));
	if (!users)
		return false;
	for (int r = R_GUEST; r < R__N; r++) {
		hr_rule_req *q = &fx->req[r];
		q->method = HR_STR("GET");
		q->context = HR_STR("default");
		q->body = body;
		q->query = query;
		q->headers = headers;
		q->now_ms = fixed_now();
	}
	fx->req[R_U1].auth_coll = users;
	fx->req[R_U1].auth_id = HR_STR("u1");
	fx->req[R_U2].auth_coll = users;
	fx->req[R_U2].auth_id = HR_STR("u2");
	fx->req[R_SU].superuser = true;
	/* Math functions (acos, radians...) for geoDistance. */
	hr_db_stmt *st;
	fx->have_math = hr_db_prepare(fx->db, HR_STR("SELECT acos(0.5) + radians(1)"), &st, &err) == 0;
	if (fx->have_math)
		hr_db_release(st);
	return true;
}

static void fixture_close(fixture *fx)
{
	hr_schema_free(fx->schema);
	if (fx->db)
		hr_db_close(fx->db);
	hr_arena_dispose(&fx->a);
}

/* ---- rows ------------------------------------------------------------- */

typedef struct frow {
	const char *name;
	const char *coll;   /* NULL: posts */
	int mode;	    /* M_RULE, M_CLIENT, M_SUPER */
	int req;	    /* R_NONE ... R_SU */
	const char *filter; /* NULL or "": none */
	const char *sort;   /* NULL: none */
	const char *expect; /* space-separated ids; NULL when an error is expected */
	int status;	    /* expected error status (400/403) when expect is NULL */
	bool ordered;	    /* compare as a sequence */
	bool geo;	    /* needs the math functions */
} frow;

#define ALL "p1 p2 p3 p4 p5 p6"
#define NONE ""

/* Compiles and runs one row; prints everything when it fails. */

typedef struct idlist {
	char ids[64][16];
	unsigned n;
} idlist;

static void parse_ids(const char *s, idlist *out)
{
	out->n = 0;
	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		size_t k = 0;
		while (s[k] && s[k] != ' ')
			k++;
		if (out->n < 64 && k < 16) {
			memcpy(out->ids[out->n], s, k);
			out->ids[out->n][k] = '\0';
			out->n++;
		}
		s += k;
	}
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void ids_str(const idlist *l, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < l->n && o + 20 < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "", l->ids[i]);
}

static void print_params(const hr_sql_ctx *x)
{
	for (unsigned i = 0; i < x->nparams; i++) {
		const hr_sql_param *p = &x->params[i];
		switch (p->type) {
		case HR_SQLP_TEXT:
			fprintf(stderr, "      ?%u = '%.*s'\n", i + 1, (int)p->text.len, p->text.ptr);
			break;
		case HR_SQLP_NUM:
			fprintf(stderr, "      ?%u = %g\n", i + 1, p->num);
			break;
		case HR_SQLP_INT:
			fprintf(stderr, "      ?%u = %lld\n", i + 1, (long long)p->i);
			break;
		default:
			fprintf(stderr, "      ?%u = NULL\n", i + 1);
		}
	}
}

/* Does any bound text parameter equal (or, when contains, contain) s? */
static bool param_has_text(const hr_sql_ctx *x, hr_str s, bool contains)
{
	for (unsigned i = 0; i < x->nparams; i++) {
		const hr_sql_param *p = &x->params[i];
		if (p->type != HR_SQLP_TEXT)
			continue;
		if (hr_str_eq(p->text, s))
			return true;
		if (contains && s.len <= p->text.len)
			for (size_t k = 0; k + s.len <= p->text.len; k++)
				if (memcmp(p->text.ptr + k, s.ptr, s.len) == 0)
					return true;
	}
	return false;
}

/* s with every backslash escape removed (\x -> x) into buf. */
static hr_str unescape(hr_str s, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < s.len && o < cap; i++) {
		if (s.ptr[i] == '\\' && i + 1 < s.len)
			i++;
		buf[o++] = s.ptr[i];
	}
	return hr_str_make(buf, o);
}

/* A LIKE literal reaches SQL as an escaped, possibly wrapped pattern: does
 * some text parameter carry it (raw, or with the escapes undone)? */
static bool param_has_like(const hr_sql_ctx *x, hr_str lit)
{
	if (param_has_text(x, lit, true))
		return true;
	char b1[1024], b2[1024];
	hr_str ul = unescape(lit, b1, sizeof b1);
	for (unsigned i = 0; i < x->nparams; i++) {
		const hr_sql_param *p = &x->params[i];
		if (p->type != HR_SQLP_TEXT)
			continue;
		hr_str up = unescape(p->text, b2, sizeof b2);
		for (size_t k = 0; k + lit.len <= up.len; k++)
			if (memcmp(up.ptr + k, lit.ptr, lit.len) == 0)
				return true;
		for (size_t k = 0; k + ul.len <= up.len; k++)
			if (memcmp(up.ptr + k, ul.ptr, ul.len) == 0)
				return true;
	}
	return false;
}

static bool param_has_num(const hr_sql_ctx *x, double v)
{
	for (unsigned i = 0; i < x->nparams; i++)
		if (x->params[i].type == HR_SQLP_NUM && x->params[i].num == v)
			return true;
	return false;
}

static bool mem_has(const char *hay, size_t n, hr_str needle)
{
	if (needle.len == 0 || needle.len > n)
		return false;
	for (size_t k = 0; k + needle.len <= n; k++)
		if (memcmp(hay + k, needle.ptr, needle.len) == 0)
			return true;
	return false;
}

/* Checks the literals of one operand (recursing into calls). Returns the
 * number of violations; prints each. */
static int check_operand_lits(const hr_sql_ctx *x, const char *sql, size_t n,
			      const hr_f_operand *o, bool like)
{
	int bad = 0;
	if (o->kind == HR_F_TEXT && o->text.len >= 3) {
		if (mem_has(sql, n, o->text)) {
			fprintf(stderr, "    literal '%.*s' appears in the SQL text\n", (int)o->text.len,
				o->text.ptr);
			bad++;
		}
		if (like ? !param_has_like(x, o->text) : !param_has_text(x, o->text, false)) {
			fprintf(stderr, "    literal '%.*s' is not a bound parameter\n", (int)o->text.len,
				o->text.ptr);
			bad++;
		}
	} else if (o->kind == HR_F_NUMBER && memchr(o->text.ptr, '.', o->text.len)) {
		if (mem_has(sql, n, o->text)) {
			fprintf(stderr, "    number %.*s appears in the SQL text\n", (int)o->text.len,
				o->text.ptr);
			bad++;
		}
		if (!param_has_num(x, o->num)) {
			fprintf(stderr, "    number %.*s is not a bound parameter\n", (int)o->text.len,
				o->text.ptr);
			bad++;
		}
	} else if (o->kind == HR_F_FUNC) {
		for (unsigned i = 0; i < o->nargs; i++)
			bad += check_operand_lits(x, sql, n, &o->args[i], false);
	}
	return bad;
}

static int check_list_lits(const hr_sql_ctx *x, const char *sql, size_t n, const hr_f_list *l)
{
	int bad = 0;
	for (unsigned i = 0; i < l->n; i++) {
		const hr_f_item *it = &l->items[i];
		if (it->is_group) {
			bad += check_list_lits(x, sql, n, &it->group);
			continue;
		}
		int base = hr_f_op_base(it->op);
		bool like = base == HR_F_LIKE || base == HR_F_NLIKE;
		bad += check_operand_lits(x, sql, n, &it->left, like);
		bad += check_operand_lits(x, sql, n, &it->right, like);
	}
	return bad;
}

typedef struct run_out {
	int rc;
	int status;
	const char *err_msg;
	idlist got;
	bool dup;
	char sqlerr[512];
} run_out;

/*
 * Compiles r (with an optional rule compiled first into the same context,
 * as records.c does for list requests) and runs it. Returns false when
 * the row fails; prints the diagnosis.
 */
static bool run_row(fixture *fx, const frow *r, const char *pre_rule)
{
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	const char *cname = r->coll ? r->coll : "posts";
	const hr_collection *c = hr_schema_find(fx->schema, hr_str_make(cname, strlen(cname)));
	if (!c) {
		fprintf(stderr, "  [%s] no collection %s\n", r->name, cname);
		hr_arena_dispose(&a);
		return false;
	}
	const hr_rule_req *req = r->req == R_NONE ? NULL : &fx->req[r->req];
	hr_rule_req su_req;
	if (r->mode == M_SUPER) {
		su_req = req ? *req : fx->req[R_SU];
		su_req.superuser = true;
		req = &su_req;
	}
	hr_sql_ctx x;
	hr_sql_ctx_init(&x, &a, fx->schema, req, r->mode != M_RULE);
	hr_buf where, order, sql;
	hr_buf_init(&where, 4u << 20);
	hr_buf_init(&order, 1u << 20);
	hr_buf_init(&sql, 8u << 20);
	hr_buf_append_cstr(&where, "1=1");
	run_out o = {0};
	bool ok = true;
	if (pre_rule) {
		bool saved = x.client;
		x.client = false;
		hr_buf_append_cstr(&where, " AND ");
		o.rc = hr_sql_where_text(&x, c, HR_STR("r"), hr_str_make(pre_rule, strlen(pre_rule)),
					 &where);
		x.client = saved;
	}
	if (o.rc == 0 && r->filter && *r->filter) {
		hr_buf_append_cstr(&where, " AND ");
		o.rc = hr_sql_where_text(&x, c, HR_STR("r"), hr_str_make(r->filter, strlen(r->filter)),
					 &where);
	}
	if (o.rc == 0 && r->sort) {
		hr_sort_item *items;
		unsigned n;
		hr_filter_error fe;
		o.rc = hr_sort_parse(&a, r->sort, strlen(r->sort), 8, &items, &n, &fe);
		if (o.rc) {
			x.status = 400;
			x.err_msg = fe.message;
		} else if (n) {
			o.rc = hr_sql_order(&x, c, HR_STR("r"), items, n, &order);
		}
	}
	o.status = x.status;
	o.err_msg = x.err_msg;
	if (o.rc == 0) {
		hr_buf_append_cstr(&sql, x.distinct ? "SELECT DISTINCT r.\"id\" FROM \""
						    : "SELECT r.\"id\" FROM \"");
		hr_buf_append_str(&sql, c->name);
		hr_buf_append_cstr(&sql, "\" r");
		if (x.joins.len)
			hr_buf_append(&sql, x.joins.ptr, x.joins.len);
		hr_buf_append_cstr(&sql, " WHERE ");
		hr_buf_append(&sql, where.ptr, where.len);
		hr_buf_append_cstr(&sql, " ORDER BY ");
		if (order.len) {
			hr_buf_append(&sql, order.ptr, order.len);
			hr_buf_append_cstr(&sql, ", ");
		}
		hr_buf_append_cstr(&sql, c->type == HR_COLL_VIEW ? "r.\"id\"" : "r._rowid_");
		hr_buf_append_char(&sql, '\0');
		hr_db_stmt *st = NULL;
		hr_db_error de = {0};
		int prc = hr_db_prepare(fx->db, hr_str_make(sql.ptr, sql.len - 1), &st, &de);
		if (prc == 0) {
			hr_sql_bind(&x, st);
			int s;
			while ((s = hr_db_step(st, &de)) == HR_DB_ROW) {
				hr_str id = hr_db_column_text(st, 0);
				for (unsigned k = 0; k < o.got.n; k++)
					if (strlen(o.got.ids[k]) == id.len &&
					    memcmp(o.got.ids[k], id.ptr, id.len) == 0)
						o.dup = true;
				if (o.got.n < 64 && id.len < 16) {
					memcpy(o.got.ids[o.got.n], id.ptr, id.len);
					o.got.ids[o.got.n][id.len] = '\0';
					o.got.n++;
				}
			}
			if (s < 0)
				prc = s;
			hr_db_release(st);
		}
		if (prc < 0) {
			snprintf(o.sqlerr, sizeof o.sqlerr, "%s", de.msg);
			o.rc = prc;
		}
	}
	/* Verdict. */
	char exp_s[512], got_s[512];
	idlist exp;
	parse_ids(r->expect, &exp);
	if (r->expect == NULL) {
		if (o.rc == 0 || o.sqlerr[0] || o.status != r->status) {
			ok = false;
			fprintf(stderr, "  [%s] expected error %d, got %s (status %d%s%s)\n", r->name,
				r->status, o.rc == 0 ? "success" : "error", o.status,
				o.sqlerr[0] ? ", SQL error: " : "", o.sqlerr);
		} else if (!o.err_msg) {
			ok = false;
			fprintf(stderr, "  [%s] error without a message\n", r->name);
		}
	} else if (o.rc != 0) {
		ok = false;
		fprintf(stderr, "  [%s] unexpected error rc=%d status=%d msg=%s%s%s\n", r->name, o.rc,
			o.status, o.err_msg ? o.err_msg : "(none)", o.sqlerr[0] ? " SQL: " : "",
			o.sqlerr);
	} else {
		idlist g = o.got, e = exp;
		if (!r->ordered) {
			qsort(g.ids, g.n, sizeof g.ids[0], cmp_id);
			qsort(e.ids, e.n, sizeof e.ids[0], cmp_id);
		}
		bool same = g.n == e.n;
		for (unsigned i = 0; same && i < g.n; i++)
			same = strcmp(g.ids[i], e.ids[i]) == 0;
		if (!same || o.dup) {
			ok = false;
			ids_str(&e, exp_s, sizeof exp_s);
			ids_str(&o.got, got_s, sizeof got_s);
			fprintf(stderr, "  [%s] expected {%s}, got {%s}%s\n", r->name, exp_s, got_s,
				o.dup ? " (duplicate rows: distinct not set)" : "");
		}
		/* No value in SQL text. */
		if (r->filter && *r->filter) {
			hr_f_list ast;
			hr_filter_error fe;
			hr_filter_limits lim = {0, 32};
			const char *s = (const char *)sql.ptr;
			size_t n = sql.len;
			if (hr_filter_parse(&a, r->filter, strlen(r->filter), &lim, &ast, &fe) == 0) {
				int bad = check_list_lits(&x, s, n, &ast);
				for (size_t k = 0; k < sizeof REQ_SECRETS / sizeof REQ_SECRETS[0]; k++)
					if (mem_has(s, n, hr_str_make(REQ_SECRETS[k], strlen(REQ_SECRETS[k])))) {
						fprintf(stderr, "    request value '%s' in SQL text\n",
							REQ_SECRETS[k]);
						bad++;
					}
				if (bad) {
					ok = false;
					fprintf(stderr, "  [%s] %d value(s) leaked into SQL text\n", r->name,
						bad);
				}
			}
		}
	}
	if (!ok) {
		fprintf(stderr, "    collection: %s  mode: %s  req: %d\n", cname,
			r->mode == M_RULE ? "rule" : r->mode == M_CLIENT ? "client" : "client(superuser)",
			r->req);
		if (pre_rule)
			fprintf(stderr, "    rule:   %s\n", pre_rule);
		fprintf(stderr, "    filter: %s\n", r->filter ? r->filter : "");
		if (r->sort)
			fprintf(stderr, "    sort:   %s\n", r->sort);
		if (o.err_msg)
			fprintf(stderr, "    compiler message: %s (at %zu)\n", o.err_msg, x.err_pos);
		fprintf(stderr, "    where:  %.*s\n", (int)where.len, where.ptr ? where.ptr : "");
		fprintf(stderr, "    joins: %.*s\n", (int)x.joins.len, x.joins.ptr ? x.joins.ptr : "");
		if (order.len)
			fprintf(stderr, "    order:  %.*s\n", (int)order.len, order.ptr);
		fprintf(stderr, "    distinct: %d\n", x.distinct);
		print_params(&x);
	}
	hr_buf_dispose(&where);
	hr_buf_dispose(&order);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&x);
	hr_arena_dispose(&a);
	return ok;
}

static void run_table(const frow *rows, size_t n)
{
	fixture fx;
	bool up = fixture_open(&fx);
	HR_CHECK(up);
	if (up) {
		unsigned failed = 0, skipped = 0;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].geo && !fx.have_math) {
				skipped++;
				continue;
			}
			if (!run_row(&fx, &rows[i], NULL)) {
				failed++;
				hr_test_fail(__FILE__, __LINE__, rows[i].name);
			}
		}
		fprintf(stderr, "  %zu rows, %u failed, %u skipped\n", n, failed, skipped);
	}
	fixture_close(&fx);
}

#define RUN(rows) run_table(rows, sizeof rows / sizeof rows[0])

/* ---- operators on single values --------------------------------------- */

static const frow OPERATORS[] = {
	{"eq text", 0, M_RULE, R_GUEST, "title = 'Hello World'", 0, "p1", 0, false, false},
	{"neq text", 0, M_RULE, R_GUEST, "title != 'Hello World'", 0, "p2 p3 p4 p5 p6", 0, false, false},
	{"gt number", 0, M_RULE, R_GUEST, "views > 5", 0, "p1 p3 p5 p6", 0, false, false},
	{"gte number", 0, M_RULE, R_GUEST, "views >= 10", 0, "p1 p5 p6", 0, false, false},
	{"lt number", 0, M_RULE, R_GUEST, "views < 0", 0, "p4", 0, false, false},
	{"lte number", 0, M_RULE, R_GUEST, "views <= 0", 0, "p2 p4", 0, false, false},
	{"eq decimal", 0, M_RULE, R_GUEST, "views = 5.5", 0, "p3", 0, false, false},
	{"eq negative", 0, M_RULE, R_GUEST, "views = -3", 0, "p4", 0, false, false},
	{"any gt on a single value", 0, M_RULE, R_GUEST, "views ?> 50", 0, "p5", 0, false, false},
	{"any eq on a single value", 0, M_RULE, R_GUEST, "views ?= 10", 0, "p1 p6", 0, false, false},
	{"any neq on a single value", 0, M_RULE, R_GUEST, "views ?!= 10", 0, "p2 p3 p4 p5", 0, false, false},
	{"any gte on a single value", 0, M_RULE, R_GUEST, "views ?>= 100", 0, "p5", 0, false, false},
	{"any lt on a single value", 0, M_RULE, R_GUEST, "views ?< 0", 0, "p4", 0, false, false},
	{"any lte on a single value", 0, M_RULE, R_GUEST, "views ?<= 0", 0, "p2 p4", 0, false, false},
	{"any like on a single value", 0, M_RULE, R_GUEST, "title ?~ 'world'", 0, "p1", 0, false, false},
	{"any not like on a single value", 0, M_RULE, R_GUEST, "title ?!~ 'o'", 0, "p3 p4 p6", 0, false, false},
	{"bool = true", 0, M_RULE, R_GUEST, "active = true", 0, "p1 p3 p5", 0, false, false},
	{"bool = false", 0, M_RULE, R_GUEST, "active = false", 0, "p2 p4 p6", 0, false, false},
	{"bool != true", 0, M_RULE, R_GUEST, "active != true", 0, "p2 p4 p6", 0, false, false},
	{"bool > false", 0, M_RULE, R_GUEST, "active > false", 0, "p1 p3 p5", 0, false, false},
	{"keyword on the left", 0, M_RULE, R_GUEST, "true = active", 0, "p1 p3 p5", 0, false, false},
	{"keywords are case-insensitive", 0, M_RULE, R_GUEST, "active = TRUE", 0, "p1 p3 p5", 0, false, false},
	{"bool = 1", 0, M_RULE, R_GUEST, "active = 1", 0, "p1 p3 p5", 0, false, false},
	{"literal vs literal true", 0, M_RULE, R_GUEST, "1 = 1", 0, ALL, 0, false, false},
	{"literal vs literal false", 0, M_RULE, R_GUEST, "'a' = 'b'", 0, NONE, 0, false, false},
	{"text ordering", 0, M_RULE, R_GUEST, "title > 'h'", 0, "p2 p5", 0, false, false},
	{"id", 0, M_RULE, R_GUEST, "id = 'p3'", NULL, "p3", 0, false, false},
	{"numeric text vs number column (affinity)", 0, M_RULE, R_GUEST, "views = '10'", NULL, "p1 p6", 0, false, false},
};

static void test_operators(void)
{
	RUN(OPERATORS);
}

/* ---- §6.9 empty-value normalisation ----------------------------------- */

static const frow EMPTY[] = {
	{"text = ''", 0, M_RULE, R_GUEST, "title = ''", 0, "p4", 0, false, false},
	{"text = null", 0, M_RULE, R_GUEST, "title = null", 0, "p4", 0, false, false},
	{"'' = text", 0, M_RULE, R_GUEST, "'' = title", 0, "p4", 0, false, false},
	{"NULL = text", 0, M_RULE, R_GUEST, "NULL = title", 0, "p4", 0, false, false},
	{"text != ''", 0, M_RULE, R_GUEST, "title != ''", 0, "p1 p2 p3 p5 p6", 0, false, false},
	{"text != null", 0, M_RULE, R_GUEST, "title != null", 0, "p1 p2 p3 p5 p6", 0, false, false},
	{"'' = null always true", 0, M_RULE, R_GUEST, "'' = null", 0, ALL, 0, false, false},
	{"null = null always true", 0, M_RULE, R_GUEST, "null = null", 0, ALL, 0, false, false},
	{"'' = '' always true", 0, M_RULE, R_GUEST, "'' = ''", 0, ALL, 0, false, false},
	{"'' != null always false", 0, M_RULE, R_GUEST, "'' != null", 0, NONE, 0, false, false},
	{"null != '' always false", 0, M_RULE, R_GUEST, "null != ''", 0, NONE, 0, false, false},
	{"number = 0", 0, M_RULE, R_GUEST, "views = 0", 0, "p2", 0, false, false},
	/* X = '' OR X IS NULL: a number column is never '' nor NULL */
	{"number = ''", 0, M_RULE, R_GUEST, "views = ''", 0, NONE, 0, false, false},
	{"number = null", 0, M_RULE, R_GUEST, "views = null", 0, NONE, 0, false, false},
	{"number != null", 0, M_RULE, R_GUEST, "views != null", 0, ALL, 0, false, false},
	{"json path = null", 0, M_RULE, R_GUEST, "meta.a.b = null", 0, "p3 p4 p5 p6", 0, false, false},
	{"null = json path", 0, M_RULE, R_GUEST, "null = meta.a.b", 0, "p3 p4 p5 p6", 0, false, false},
	{"json path != null", 0, M_RULE, R_GUEST, "meta.a.b != null", 0, "p1 p2", 0, false, false},
	/* L IS '' : a JSON path is never the empty string here */
	{"json path = ''", 0, M_RULE, R_GUEST, "meta.a.b = ''", 0, NONE, 0, false, false},
	{"json path != ''", 0, M_RULE, R_GUEST, "meta.a.b != ''", 0, ALL, 0, false, false},
	{"json path = 1", 0, M_RULE, R_GUEST, "meta.a.b = 1", 0, "p1", 0, false, false},
	{"json path != 1 is null-safe", 0, M_RULE, R_GUEST, "meta.a.b != 1", 0, "p2 p3 p4 p5 p6", 0, false, false},
	{"column = column (both '' equal)", 0, M_RULE, R_GUEST, "title = subtitle", 0, "p1 p4", 0, false, false},
	{"column != column", 0, M_RULE, R_GUEST, "title != subtitle", 0, "p2 p3 p5 p6", 0, false, false},
	{"column = column reversed", 0, M_RULE, R_GUEST, "subtitle = title", 0, "p1 p4", 0, false, false},
	{"relation = ''", 0, M_RULE, R_GUEST, "author = ''", 0, "p3", 0, false, false},
	{"relation != ''", 0, M_RULE, R_GUEST, "author != ''", 0, "p1 p2 p4 p5 p6", 0, false, false},
	{"relation = null", 0, M_RULE, R_GUEST, "cat = null", 0, "p2 p3 p4 p5 p6", 0, false, false},
	{"!= is null-safe for empty fields", 0, M_RULE, R_GUEST, "subtitle != 'other'", 0,
	 "p1 p2 p4 p5 p6", 0, false, false},
};

static void test_empty_values(void)
{
	RUN(EMPTY);
}

/* ---- LIKE ------------------------------------------------------------- */

static const frow LIKE[] = {
	{"contains", 0, M_RULE, R_GUEST, "title ~ 'hello'", 0, "p1 p2", 0, false, false},
	{"contains is case-insensitive", 0, M_RULE, R_GUEST, "title ~ 'HELLO'", 0, "p1 p2", 0, false, false},
	{"not contains", 0, M_RULE, R_GUEST, "title !~ 'hello'", 0, "p3 p4 p5 p6", 0, false, false},
	{"_ is literal when wrapped", 0, M_RULE, R_GUEST, "title ~ 'lo_'", 0, "p2", 0, false, false},
	{"lone _ is literal", 0, M_RULE, R_GUEST, "title ~ '_'", 0, "p2 p5", 0, false, false},
	{"user % pattern: prefix", 0, M_RULE, R_GUEST, "title ~ '100%'", 0, "p3", 0, false, false},
	{"user % pattern: suffix", 0, M_RULE, R_GUEST, "title ~ '%real'", 0, "p3", 0, false, false},
	{"user % pattern: inner", 0, M_RULE, R_GUEST, "title ~ 'h%o%d'", 0, "p1", 0, false, false},
	{"user % pattern keeps _ a wildcard", 0, M_RULE, R_GUEST, "title ~ '%r_al%'", 0, "p3", 0, false, false},
	/* filter text '0\\%' is the value 0\% : an escaped, literal percent */
	{"escaped \\% is literal and wrapped", 0, M_RULE, R_GUEST, "title ~ '0\\\\%'", 0, "p3", 0, false, false},
	{"escaped \\_ is literal and wrapped", 0, M_RULE, R_GUEST, "title ~ 'o\\\\_t'", 0, "p2", 0, false, false},
	{"escaped \\_ inside a user pattern", 0, M_RULE, R_GUEST, "title ~ '%o\\\\_t%'", 0, "p2", 0, false, false},
	/*
	 * The value k\s (a backslash before an ordinary character). §6.9:
	 * "every unescaped \, % and _ is backslash-escaped", so the pattern
	 * must be %k\\s% and match the literal text "k\s" of "back\slash"
	 * (upstream escapeUnescapedChars does exactly that).
	 */
	{"backslash before an ordinary char is literal", 0, M_RULE, R_GUEST, "title ~ 'k\\\\s'", 0,
	 "p6", 0, false, false},
	{"trailing backslash is literal", 0, M_RULE, R_GUEST, "title ~ 'back\\\\'", 0, "p6", 0, false, false},
	{"lone backslash is literal", 0, M_RULE, R_GUEST, "title ~ '\\\\'", 0, "p6", 0, false, false},
	{"number converted to text", 0, M_RULE, R_GUEST, "views ~ 5", 0, "p3", 0, false, false},
	{"number 10 as text", 0, M_RULE, R_GUEST, "views ~ 10", 0, "p1 p5 p6", 0, false, false},
	{"column pattern", 0, M_RULE, R_GUEST, "title ~ subtitle", 0, "p1 p2 p4 p5", 0, false, false},
	{"empty pattern matches everything", 0, M_RULE, R_GUEST, "title ~ ''", 0, ALL, 0, false, false},
	{"like null", 0, M_RULE, R_GUEST, "title ~ null", 0, NONE, 0, false, false},
	{"not like null", 0, M_RULE, R_GUEST, "title !~ null", 0, NONE, 0, false, false},
	{"like on a json value", 0, M_RULE, R_GUEST, "meta ~ 'list'", 0, "p1 p2", 0, false, false},
	{"like on :lower", 0, M_RULE, R_GUEST, "title:lower ~ 'world'", 0, "p1", 0, false, false},
};

static void test_like(void)
{
	RUN(LIKE);
}

/* ---- §6.3 precedence and groups --------------------------------------- */

static const frow PRECEDENCE[] = {
	{"a || b && c is a || (b && c)", 0, M_RULE, R_GUEST,
	 "title = 'Hello World' || views = 0 && active = true", 0, "p1", 0, false, false},
	{"(a || b) && c", 0, M_RULE, R_GUEST,
	 "(title = 'Hello World' || views = 0) && active = false", 0, "p2", 0, false, false},
	{"a && b || c", 0, M_RULE, R_GUEST, "views > 5 && active = true || title = ''", 0,
	 "p1 p3 p4 p5", 0, false, false},
	{"a && (b || c)", 0, M_RULE, R_GUEST, "active = true && (views > 50 || views < 6)", 0,
	 "p3 p5", 0, false, false},
	{"nested groups", 0, M_RULE, R_GUEST, "((views > 0)) && ((active = false))", 0, "p6", 0, false, false},
	{"three ors", 0, M_RULE, R_GUEST, "title = '' || title = 'nope' || views = 100", 0, "p4 p5", 0, false, false},
	{"a && b || c && d", 0, M_RULE, R_GUEST,
	 "active = false && views > 5 || active = true && views < 6", 0, "p3 p6", 0, false, false},
	{"group of ors then and", 0, M_RULE, R_GUEST,
	 "(views = 10 || views = 0) && (active = false || title ~ 'World')", 0, "p1 p2 p6", 0, false, false},
	{"comment inside", 0, M_RULE, R_GUEST, "views = 10 // ten\n && active = true", 0, "p1", 0, false, false},
};

static void test_precedence(void)
{
	RUN(PRECEDENCE);
}

/* ---- relation paths ----------------------------------------------------- */

static const frow RELATIONS[] = {
	{"single relation", 0, M_RULE, R_GUEST, "author.name = 'Ada'", 0, "p1 p6", 0, false, false},
	{"rel.id is the stored id", 0, M_RULE, R_GUEST, "author.id = 'u1'", 0, "p1 p6", 0, false, false},
	{"missing target reads as empty", 0, M_RULE, R_GUEST, "author.name = ''", 0, "p3 p5", 0, false, false},
	{"two hops", 0, M_RULE, R_GUEST, "author.manager.name = 'Ada'", 0, "p2", 0, false, false},
	{"three hops", 0, M_RULE, R_GUEST, "author.manager.manager.name = 'Ada'", 0, "p4", 0, false, false},
	{"select through a relation", 0, M_RULE, R_GUEST, "author.role = 'admin'", 0, "p1 p6", 0, false, false},
	{"bool through a relation", 0, M_RULE, R_GUEST, "author.verified = false", 0, "p4 p5", 0, false, false},
	{"!= through a relation is null-safe", 0, M_RULE, R_GUEST, "author.verified != true", 0,
	 "p3 p4 p5", 0, false, false},
	{":lower through a relation", 0, M_RULE, R_GUEST, "author.name:lower = 'ada'", 0, "p1 p6", 0, false, false},
	{"six hops compile", 0, M_RULE, R_GUEST,
	 "author.manager.manager.manager.manager.manager.name = ''", 0, ALL, 0, false, false},
	{"seven hops are refused", 0, M_RULE, R_GUEST,
	 "author.manager.manager.manager.manager.manager.manager.name = ''", 0, NULL, 400, false, false},
	/* multiple relation: plain operator = every value (§6.9, §6.12) */
	{"multi: every member verified", 0, M_RULE, R_GUEST, "members.verified = true", 0, "p1 p5", 0, false, false},
	{"multi: any member verified", 0, M_RULE, R_GUEST, "members.verified ?= true", 0,
	 "p1 p4 p5 p6", 0, false, false},
	{"multi: every member unverified", 0, M_RULE, R_GUEST, "members.verified = false", 0, "p2", 0, false, false},
	/* empty relation = one NULL value: NULL IS NOT 1 holds */
	{"multi: != over empty holds", 0, M_RULE, R_GUEST, "members.verified != true", 0, "p2 p3", 0, false, false},
	{"multi: any != over empty holds", 0, M_RULE, R_GUEST, "members.verified ?!= true", 0,
	 "p2 p3 p4 p6", 0, false, false},
	{"multi: = '' over empty holds", 0, M_RULE, R_GUEST, "members.name = ''", 0, "p3", 0, false, false},
	{"multi: any = ''", 0, M_RULE, R_GUEST, "members.name ?= ''", 0, "p3 p6", 0, false, false},
	{"multi: any = Bob", 0, M_RULE, R_GUEST, "members.name ?= 'Bob'", 0, "p1 p5 p6", 0, false, false},
	/* Both conditions talk about the same joined member row (upstream's
	 * shared LEFT JOIN alias): no member is both Ada and unverified. */
	{"multi: two any-of conditions share the joined row", 0, M_RULE, R_GUEST,
	 "members.name ?= 'Ada' && members.verified ?= false", 0, NONE, 0, false, false},
	{"multi then single", 0, M_RULE, R_GUEST, "members.manager.name ?= 'Ada'", 0, "p1 p5 p6", 0, false, false},
	{"multi: rel.id", 0, M_RULE, R_GUEST, "members.id ?= 'u3'", 0, "p2 p4", 0, false, false},
	{"multi: :each on a relation", 0, M_RULE, R_GUEST, "members:each ?= 'u3'", 0, "p2 p4", 0, false, false},
	{"multi: :length 2", 0, M_RULE, R_GUEST, "members:length = 2", 0, "p1 p4", 0, false, false},
	{"multi: :length 0", 0, M_RULE, R_GUEST, "members:length = 0", 0, "p3", 0, false, false},
	{"multi: :length > 2", 0, M_RULE, R_GUEST, "members:length > 2", 0, "p6", 0, false, false},
	{"multi: raw text", 0, M_RULE, R_GUEST, "members ~ 'u4'", 0, "p6", 0, false, false},
	{"multi: :lower any", 0, M_RULE, R_GUEST, "members.name:lower ?= 'ada'", 0, "p1 p4 p6", 0, false, false},
	/* ordering over empty: NULL > 'A' is false */
	{"multi: every name > A", 0, M_RULE, R_GUEST, "members.name > 'A'", 0, "p1 p2 p4 p5", 0, false, false},
	{"multi: any name < B", 0, M_RULE, R_GUEST, "members.name ?< 'B'", 0, "p1 p4 p6", 0, false, false},
	{"match-all inside an or", 0, M_RULE, R_GUEST, "title = 'x' || members.verified = true", NULL, "p1 p5", 0, false, false},
	/*
	 * §6.9: "Both sides multi-valued with a plain operator: every pair must
	 * satisfy it." The same path on both sides is two independent operands
	 * (upstream builds one multi-match subquery per side): every pair of
	 * member names must be equal, i.e. at most one distinct name (p2 Cy,
	 * p5 Bob; p3 has no members: '' = '').
	 */
	{"multi vs the same multi path: every pair", 0, M_RULE, R_GUEST, "members.name = members.name", NULL, "p2 p3 p5", 0, false, false},
	{"multi vs another multi path: every pair", 0, M_RULE, R_GUEST, "members.id != comments_via_post.author", NULL, "p2 p5 p6", 0, false, false},
	/* p3: no members, no comments: one NULL each side, COALESCE('') = COALESCE('') */
	{"multi vs another multi path: any pair", 0, M_RULE, R_GUEST, "members.id ?= comments_via_post.author", NULL, "p1 p3 p4", 0, false, false},
	{"multi in a group with or", 0, M_RULE, R_GUEST,
	 "(members.verified = true || title = '') && views != 100", 0, "p1 p4", 0, false, false},
};

static void test_relations(void)
{
	RUN(RELATIONS);
}

/* ---- :each, :length on multi select ------------------------------------- */

static const frow EACH[] = {
	{"?= each", 0, M_RULE, R_GUEST, "tags:each ?= 'a'", 0, "p1 p4", 0, false, false},
	{"= each (every tag)", 0, M_RULE, R_GUEST, "tags:each = 'a'", 0, "p4", 0, false, false},
	{"?!= each", 0, M_RULE, R_GUEST, "tags:each ?!= 'a'", 0, "p1 p2 p3 p5 p6", 0, false, false},
	{"!= each", 0, M_RULE, R_GUEST, "tags:each != 'a'", 0, "p2 p3 p5 p6", 0, false, false},
	{"?> each", 0, M_RULE, R_GUEST, "tags:each ?> 'b'", 0, "p2 p5 p6", 0, false, false},
	{"> each", 0, M_RULE, R_GUEST, "tags:each > 'b'", 0, "p2 p6", 0, false, false},
	{"?>= each", 0, M_RULE, R_GUEST, "tags:each ?>= 'b'", 0, "p1 p2 p5 p6", 0, false, false},
	{">= each", 0, M_RULE, R_GUEST, "tags:each >= 'b'", 0, "p2 p5 p6", 0, false, false},
	{"?< each", 0, M_RULE, R_GUEST, "tags:each ?< 'b'", 0, "p1 p4", 0, false, false},
	{"< each", 0, M_RULE, R_GUEST, "tags:each < 'c'", 0, "p1 p4", 0, false, false},
	{"?<= each", 0, M_RULE, R_GUEST, "tags:each ?<= 'a'", 0, "p1 p4", 0, false, false},
	{"<= each", 0, M_RULE, R_GUEST, "tags:each <= 'b'", 0, "p1 p4", 0, false, false},
	{"?~ each", 0, M_RULE, R_GUEST, "tags:each ?~ 'd'", 0, "p5 p6", 0, false, false},
	{"~ each", 0, M_RULE, R_GUEST, "tags:each ~ 'd'", 0, "p6", 0, false, false},
	{"?!~ each", 0, M_RULE, R_GUEST, "tags:each ?!~ 'a'", 0, "p1 p2 p5 p6", 0, false, false},
	{"!~ each", 0, M_RULE, R_GUEST, "tags:each !~ 'a'", 0, "p2 p5 p6", 0, false, false},
	{"= '' each over empty", 0, M_RULE, R_GUEST, "tags:each = ''", 0, "p3", 0, false, false},
	{":length > 1", 0, M_RULE, R_GUEST, "tags:length > 1", 0, "p1 p5", 0, false, false},
	{":length = 0", 0, M_RULE, R_GUEST, "tags:length = 0", 0, "p3", 0, false, false},
	{"raw text ~", 0, M_RULE, R_GUEST, "tags ~ 'a'", 0, "p1 p4", 0, false, false},
	{"raw text = array text", 0, M_RULE, R_GUEST, "tags = '[\"c\"]'", 0, "p2", 0, false, false},
	{"raw text = element is false", 0, M_RULE, R_GUEST, "tags = 'c'", 0, NONE, 0, false, false},
	{"raw text = []", 0, M_RULE, R_GUEST, "tags = '[]'", 0, "p3", 0, false, false},
	/* same join row for both (upstream parity: the json_each alias is shared) */
	{"two :each conditions share the element", 0, M_RULE, R_GUEST,
	 "tags:each ?= 'a' && tags:each ?= 'b'", 0, NONE, 0, false, false},
};

static void test_each(void)
{
	RUN(EACH);
}

/* ---- back-relations ----------------------------------------------------- */

static const frow BACKREL[] = {
	{"back-relation any like", 0, M_RULE, R_GUEST, "comments_via_post.message ?~ 'nice'", 0, "p1", 0, false, false},
	{"has at least one", 0, M_RULE, R_GUEST, "comments_via_post.id ?!= ''", 0, "p1 p2 p4", 0, false, false},
	{"every comment empty (or none)", 0, M_RULE, R_GUEST, "comments_via_post.message = ''", 0,
	 "p3 p4 p5 p6", 0, false, false},
	{"every comment non-empty (none: false)", 0, M_RULE, R_GUEST,
	 "comments_via_post.message != ''", 0, "p1 p2", 0, false, false},
	{"back-relation then relation", 0, M_RULE, R_GUEST,
	 "comments_via_post.author.verified ?= false", 0, "p1", 0, false, false},
	{"back-relation then relation 2", 0, M_RULE, R_GUEST,
	 "comments_via_post.author.name ?= 'Ada'", 0, "p2 p4", 0, false, false},
	{"rules see every comment", 0, M_RULE, R_GUEST, "comments_via_post.message ?= 'secret'", 0,
	 "p2", 0, false, false},
	{"strftime over a back-relation, any", 0, M_RULE, R_GUEST,
	 "strftime('%Y', comments_via_post.created) ?= '2025'", 0, "p1", 0, false, false},
	{"strftime over a back-relation, every", 0, M_RULE, R_GUEST,
	 "strftime('%Y', comments_via_post.created) = '2024'", 0, "p2", 0, false, false},
	{"users: back-relation over single", "users", M_RULE, R_GUEST, "posts_via_author.views ?> 50", 0,
	 "u4", 0, false, false},
	{"users: back-relation over multiple", "users", M_RULE, R_GUEST,
	 "posts_via_members.title ?= 'Hello World'", 0, "u1 u2", 0, false, false},
	{"users: unique back-relation is single-valued", "users", M_RULE, R_GUEST,
	 "profiles_via_user.bio = 'likes C'", 0, "u1", 0, false, false},
	{"users: unique back-relation, empty", "users", M_RULE, R_GUEST, "profiles_via_user.bio = ''", 0,
	 "u2 u3 u4", 0, false, false},
	{"users: back-relation then relation", "users", M_RULE, R_GUEST,
	 "comments_via_author.post.title ?= 'Hello World'", 0, "u2 u3", 0, false, false},
	{"users: self relation", "users", M_RULE, R_GUEST, "manager.name = 'Ada'", 0, "u2", 0, false, false},
	{"users: self back-relation", "users", M_RULE, R_GUEST, "users_via_manager.name ?= 'Bob'", 0,
	 "u1", 0, false, false},
	{"users: every report verified", "users", M_RULE, R_GUEST, "users_via_manager.verified = true",
	 0, "u1", 0, false, false},
};

static void test_back_relations(void)
{
	RUN(BACKREL);
}

/* ---- JSON paths, macros, functions -------------------------------------- */

static const frow JSONPATH[] = {
	{"array index", 0, M_RULE, R_GUEST, "meta.list.0 = 5", 0, "p1", 0, false, false},
	{"array index 1", 0, M_RULE, R_GUEST, "meta.list.1 = 6", 0, "p1", 0, false, false},
	{"array index ordering", 0, M_RULE, R_GUEST, "meta.list.0 > 5", 0, "p2", 0, false, false},
	{"string member", 0, M_RULE, R_GUEST, "meta.s = 'x'", 0, "p1", 0, false, false},
	{"top-level json string", 0, M_RULE, R_GUEST, "meta = 'str'", 0, "p5", 0, false, false},
	{"json null column", 0, M_RULE, R_GUEST, "meta = null", 0, "p3", 0, false, false},
	{"json not null", 0, M_RULE, R_GUEST, "meta != null", 0, "p1 p2 p4 p5 p6", 0, false, false},
	{"any-of on a path", 0, M_RULE, R_GUEST, "meta.a.b ?= 2", 0, "p2", 0, false, false},
	{"index into a top-level array", 0, M_RULE, R_GUEST, "meta.2 = 3", 0, "p6", 0, false, false},
	{"geoPoint member", 0, M_RULE, R_GUEST, "location.lon > 20", 0, "p1 p5", 0, false, false},
	{"json path :lower", 0, M_RULE, R_GUEST, "meta.s:lower = 'x'", 0, "p1", 0, false, false},
};

static void test_json_paths(void)
{
	RUN(JSONPATH);
}

static const frow MACROS[] = {
	{"@now", 0, M_RULE, R_GUEST, "created > @now", 0, "p5 p6", 0, false, false},
	{"today", 0, M_RULE, R_GUEST, "created >= @todayStart && created <= @todayEnd", 0, "p2", 0, false, false},
	{"yesterday", 0, M_RULE, R_GUEST, "created < @todayStart && created >= @yesterday", 0, "p3", 0, false, false},
	{"tomorrow", 0, M_RULE, R_GUEST, "created >= @tomorrow", 0, "p5", 0, false, false},
	{"this month", 0, M_RULE, R_GUEST, "created >= @monthStart && created <= @monthEnd", 0,
	 "p2 p3 p6", 0, false, false},
	{"this year", 0, M_RULE, R_GUEST, "created >= @yearStart && created <= @yearEnd", 0,
	 "p1 p2 p3 p6", 0, false, false},
	{"weekday (Saturday)", 0, M_RULE, R_GUEST, "@weekday = 6", 0, ALL, 0, false, false},
	{"weekday not Friday", 0, M_RULE, R_GUEST, "@weekday = 5", 0, NONE, 0, false, false},
	{"integer macros", 0, M_RULE, R_GUEST,
	 "@year = 2024 && @month = 6 && @day = 15 && @hour = 12 && @minute = 0 && @second = 0", 0,
	 ALL, 0, false, false},
	{"@now without a request is the current time", 0, M_RULE, R_NONE, "created < @now", 0, ALL, 0, false, false},
	{"strftime year", 0, M_RULE, R_GUEST, "strftime('%Y', created) = '2024'", 0, "p1 p2 p3 p6", 0, false, false},
	{"strftime year-month", 0, M_RULE, R_GUEST, "strftime('%Y-%m', created) = \"2024-06\"", 0,
	 "p2 p3 p6", 0, false, false},
	{"strftime ordering", 0, M_RULE, R_GUEST, "strftime('%Y', created) > '2024'", 0, "p5", 0, false, false},
	{"strftime modifier", 0, M_RULE, R_GUEST, "strftime('%m', created, '+1 month') = '07'", 0,
	 "p2 p3 p6", 0, false, false},
	{"strftime NULL reads as ''", 0, M_RULE, R_GUEST, "strftime('%Y', title) = ''", 0, ALL, 0, false, false},
	/* SQLite semantics: a bare number is a Julian day number */
	{"strftime of a Julian day", 0, M_RULE, R_GUEST, "strftime('%Y', 2460000) = '2023'", NULL, ALL, 0, false, false},
	{"strftime of a number with unixepoch", 0, M_RULE, R_GUEST, "strftime('%Y', 0, 'unixepoch') = '1970'", NULL, ALL, 0, false, false},
	{"geoDistance < 25 km", 0, M_RULE, R_GUEST,
	 "geoDistance(location.lon, location.lat, 23.32, 42.69) < 25", 0, "p1", 0, false, true},
	{"geoDistance < 200 km", 0, M_RULE, R_GUEST,
	 "geoDistance(location.lon, location.lat, 23.32, 42.69) < 200", 0, "p1 p5", 0, false, true},
	{"geoDistance of literals", 0, M_RULE, R_GUEST, "geoDistance(23.32, 42.69, 23.32, 42.69) < 1",
	 0, ALL, 0, false, true},
	{"geoDistance with 3 args", 0, M_RULE, R_GUEST,
	 "geoDistance(location.lon, location.lat, 23.32) < 1", 0, NULL, 400, false, false},
	{"geoDistance with a text arg", 0, M_RULE, R_GUEST,
	 "geoDistance(location.lon, location.lat, 'a', 42) < 1", 0, NULL, 400, false, false},
};

static void test_macros_functions(void)
{
	RUN(MACROS);
}

/* ---- @collection, @request ---------------------------------------------- */

static const frow COLLECTION[] = {
	{"unaliased @collection conditions share the row (u1)", 0, M_RULE, R_U1,
	 "@collection.memberships.user ?= @request.auth.id && @collection.memberships.post ?= id", 0,
	 "p1 p3", 0, false, false},
	{"unaliased @collection conditions share the row (u2)", 0, M_RULE, R_U2,
	 "@collection.memberships.user ?= @request.auth.id && @collection.memberships.post ?= id", 0,
	 "p2", 0, false, false},
	{"aliased @collection joins are independent", 0, M_RULE, R_U1,
	 "@collection.memberships:a.user ?= @request.auth.id && @collection.memberships:b.post ?= id",
	 0, "p1 p2 p3", 0, false, false},
	{"@collection plain operator: every row", 0, M_RULE, R_GUEST,
	 "@collection.memberships.level > 0", 0, ALL, 0, false, false},
	{"@collection plain operator fails on one row", 0, M_RULE, R_GUEST,
	 "@collection.memberships.level > 1", 0, NONE, 0, false, false},
	{"@collection any-of", 0, M_RULE, R_GUEST, "@collection.memberships.level ?> 2", 0, ALL, 0, false, false},
	{"@collection by id", 0, M_RULE, R_GUEST, "@collection.pbc_memberships.level ?= 3", 0, ALL, 0, false, false},
	{"@collection then relation", 0, M_RULE, R_GUEST,
	 "@collection.memberships.post.title ?= title", 0, "p1 p2 p3", 0, false, false},
	{"aliased @collection: conditions on one alias share its row", 0, M_RULE, R_GUEST,
	 "@collection.memberships:x.level ?> 2 && @collection.memberships:x.user ?= 'u2'", NULL, NONE, 0, false, false},
	{"aliased @collection with a modifier", 0, M_RULE, R_GUEST,
	 "@collection.memberships:m.user:lower ?= 'u2'", NULL, ALL, 0, false, false},
	{"aliased @collection without a field", 0, M_RULE, R_GUEST, "@collection.memberships:m ?= 1",
	 NULL, NULL, 400, false, false},
	{"@collection then relation field", 0, M_RULE, R_GUEST, "@collection.memberships.user.name ?= 'Bob'", NULL, ALL, 0, false, false},
	{"@collection unknown", 0, M_RULE, R_GUEST, "@collection.nope.x ?= 1", 0, NULL, 400, false, false},
	{"@collection without a field", 0, M_RULE, R_GUEST, "@collection.memberships ?= 1", 0, NULL,
	 400, false, false},
};

static void test_collection(void)
{
	RUN(COLLECTION);
}

static const frow REQUEST[] = {
	{"auth id", 0, M_RULE, R_U1, "author = @request.auth.id", 0, "p1 p6", 0, false, false},
	{"guest auth id != ''", 0, M_RULE, R_GUEST, "@request.auth.id != ''", 0, NONE, 0, false, false},
	{"guest auth id = ''", 0, M_RULE, R_GUEST, "@request.auth.id = ''", 0, ALL, 0, false, false},
	{"user auth id != ''", 0, M_RULE, R_U1, "@request.auth.id != ''", 0, ALL, 0, false, false},
	{"auth field by join (u1)", 0, M_RULE, R_U1, "@request.auth.role = 'admin'", 0, ALL, 0, false, false},
	{"auth field by join (u2)", 0, M_RULE, R_U2, "@request.auth.role = 'admin'", 0, NONE, 0, false, false},
	{"auth relation path", 0, M_RULE, R_U2, "@request.auth.manager.name = 'Ada'", 0, ALL, 0, false, false},
	{"auth collectionName", 0, M_RULE, R_U1, "@request.auth.collectionName = 'users'", 0, ALL, 0, false, false},
	{"auth hidden field in a rule", 0, M_RULE, R_U1, "@request.auth.secret = 's-one'", 0, ALL, 0, false, false},
	{"auth verified/emailVisibility", 0, M_RULE, R_U2,
	 "@request.auth.verified = true && @request.auth.emailVisibility = false", 0, ALL, 0, false, false},
	{"guest auth verified", 0, M_RULE, R_GUEST, "@request.auth.verified = true", 0, NONE, 0, false, false},
	{"no request: auth id is empty", 0, M_RULE, R_NONE, "@request.auth.id = ''", 0, ALL, 0, false, false},
	{"no request: body is empty", 0, M_RULE, R_NONE, "@request.body.title = 'x'", 0, NONE, 0, false, false},
	{"body = field", 0, M_RULE, R_GUEST, "@request.body.title = title", 0, "p1", 0, false, false},
	{"numeric body string vs number field", 0, M_RULE, R_GUEST, "@request.body.views = views", 0,
	 "p1 p6", 0, false, false},
	{"body :isset", 0, M_RULE, R_GUEST, "@request.body.title:isset = true", 0, ALL, 0, false, false},
	{"body :isset missing", 0, M_RULE, R_GUEST, "@request.body.nope:isset = true", 0, NONE, 0, false, false},
	{"body :isset of a null value", 0, M_RULE, R_GUEST, "@request.body.subtitle:isset = true", 0,
	 ALL, 0, false, false},
	{"body null value = ''", 0, M_RULE, R_GUEST, "@request.body.subtitle = ''", 0, ALL, 0, false, false},
	{"body missing = null", 0, M_RULE, R_GUEST, "@request.body.nope = null", 0, ALL, 0, false, false},
	{"body :changed true", 0, M_RULE, R_GUEST, "@request.body.title:changed = true", 0,
	 "p2 p3 p4 p5 p6", 0, false, false},
	{"body :changed false", 0, M_RULE, R_GUEST, "@request.body.title:changed = false", 0, "p1", 0, false, false},
	{"body :changed of an absent key", 0, M_RULE, R_GUEST, "@request.body.cat:changed = false", 0,
	 ALL, 0, false, false},
	/*
	 * §6.7: :changed is (@request.body.f:isset = true && @request.body.f != f),
	 * and §6.6: numeric strings in @request.body.<numberField> compare as
	 * numbers. The body holds views "10", so p1 and p6 (views 10) are unchanged.
	 */
	{"body :changed numeric string", 0, M_RULE, R_GUEST, "@request.body.views:changed = false", 0,
	 "p1 p6", 0, false, false},
	{"body :changed bool", 0, M_RULE, R_GUEST, "@request.body.active:changed = true", 0,
	 "p2 p4 p6", 0, false, false},
	{"body :each any", 0, M_RULE, R_GUEST, "@request.body.tags:each ?= 'c'", 0, ALL, 0, false, false},
	{"body :each vs field :each any", 0, M_RULE, R_GUEST, "@request.body.tags:each ?= tags:each", 0,
	 "p1 p2 p4", 0, false, false},
	{"body :each vs field :each every pair", 0, M_RULE, R_GUEST,
	 "@request.body.tags:each != tags:each", 0, "p3 p5 p6", 0, false, false},
	{"body :length", 0, M_RULE, R_GUEST, "@request.body.tags:length = 2", 0, ALL, 0, false, false},
	{"body nested path", 0, M_RULE, R_GUEST, "@request.body.meta.k.1 = 2", 0, ALL, 0, false, false},
	{"body relation path", 0, M_RULE, R_GUEST, "@request.body.author.name = 'Bob'", 0, ALL, 0, false, false},
	{"body multi relation any", 0, M_RULE, R_GUEST, "@request.body.members.name ?= 'Cy'", 0, ALL, 0, false, false},
	{"body multi relation every", 0, M_RULE, R_GUEST, "@request.body.members.name = 'Cy'", 0, NONE, 0, false, false},
	{"query as a LIKE operand is wrapped", 0, M_RULE, R_GUEST, "title ~ @request.query.q", 0,
	 "p1 p2", 0, false, false},
	{"query values are strings, not numbers", 0, M_RULE, R_GUEST, "@request.query.n = 5", NULL, NONE, 0, false, false},
	{"body relation path with no submitted id", 0, M_RULE, R_GUEST, "@request.body.cat.name = ''", NULL, ALL, 0, false, false},
	{"body :lower", 0, M_RULE, R_GUEST, "@request.body.title:lower = 'hello world'", NULL, ALL, 0, false, false},
	{"body multi :length", 0, M_RULE, R_GUEST, "@request.body.members:length = 2", NULL, ALL, 0, false, false},
	{"auth email ignores emailVisibility", 0, M_RULE, R_U2, "@request.auth.email = 'bob@x.io'", NULL, ALL, 0, false, false},
	{"query :lower", 0, M_RULE, R_GUEST, "@request.query.q:lower = 'hello'", 0, ALL, 0, false, false},
	{"header", 0, M_RULE, R_GUEST, "@request.headers.x_token = 'abc123'", 0, ALL, 0, false, false},
	{"method", 0, M_RULE, R_GUEST, "@request.method = 'GET'", 0, ALL, 0, false, false},
	{"context", 0, M_RULE, R_GUEST, "@request.context = 'default'", 0, ALL, 0, false, false},
	{"unknown @request path", 0, M_RULE, R_GUEST, "@request.nope = 1", 0, NULL, 400, false, false},
	{":changed of a non-field", 0, M_RULE, R_GUEST, "@request.body.nope:changed = true", 0, NULL,
	 400, false, false},
};

static void test_request(void)
{
	RUN(REQUEST);
}

/* ---- client-filter restrictions (§6.5, §7.2) ---------------------------- */

static const frow CLIENT[] = {
	{"hidden field refused in a client filter", 0, M_CLIENT, R_GUEST, "secret = 'top'", 0, NULL,
	 400, false, false},
	{"hidden field allowed for a superuser", 0, M_SUPER, R_SU, "secret = 'top'", 0, "p1", 0, false, false},
	{"hidden field allowed in a rule", 0, M_RULE, R_GUEST, "secret = 'top'", 0, "p1", 0, false, false},
	{"hidden field through a relation refused", 0, M_CLIENT, R_GUEST, "author.secret = 's-one'", 0,
	 NULL, 400, false, false},
	{"hop into a null-listRule collection refused", 0, M_CLIENT, R_GUEST, "cat.name = 'Tech'", 0,
	 NULL, 400, false, false},
	{"hop into a null-listRule collection, superuser", 0, M_SUPER, R_SU, "cat.name = 'Tech'", 0,
	 "p1", 0, false, false},
	{"hop into a null-listRule collection, rule", 0, M_RULE, R_GUEST, "cat.name = 'Tech'", 0, "p1", 0, false, false},
	{"the relation column itself is no hop", 0, M_CLIENT, R_GUEST, "cat = 'c1'", 0, "p1", 0, false, false},
	{"email hidden by emailVisibility", 0, M_CLIENT, R_GUEST, "author.email = 'bob@x.io'", 0, NONE, 0, false, false},
	{"email visible", 0, M_CLIENT, R_GUEST, "author.email = 'ada@x.io'", 0, "p1 p6", 0, false, false},
	{"email in a rule ignores emailVisibility", 0, M_RULE, R_GUEST, "author.email = 'bob@x.io'", 0,
	 "p2", 0, false, false},
	{"email visibility condition stays inside its comparison", 0, M_CLIENT, R_GUEST,
	 "author.email = 'bob@x.io' || title = 'Hello World'", NULL, "p1", 0, false, false},
	{"email through a multiple relation, any", 0, M_CLIENT, R_GUEST, "members.email ?= 'bob@x.io'", NULL, NONE, 0, false, false},
	{"users: own email hidden", "users", M_CLIENT, R_GUEST, "email = 'bob@x.io'", 0, NONE, 0, false, false},
	{"users: own email visible", "users", M_CLIENT, R_GUEST, "email = 'ada@x.io'", 0, "u1", 0, false, false},
	{"users: email visible to a superuser", "users", M_SUPER, R_SU, "email = 'bob@x.io'", 0, "u2", 0, false, false},
	{"hop listRule applied (back-relation)", 0, M_CLIENT, R_GUEST,
	 "comments_via_post.message ?= 'secret'", 0, NONE, 0, false, false},
	{"hop listRule passes", 0, M_CLIENT, R_GUEST, "comments_via_post.message ?~ 'nice'", 0, "p1", 0, false, false},
	{"hop listRule applied (single relation)", 0, M_CLIENT, R_GUEST, "author.name = 'Cy'", 0, NONE, 0, false, false},
	{"hop listRule not applied to rules", 0, M_RULE, R_GUEST, "author.name = 'Cy'", 0, "p4", 0, false, false},
	{"hop listRule applied (multiple relation)", 0, M_CLIENT, R_GUEST, "members.name ?= 'Cy'", 0,
	 NONE, 0, false, false},
	{"hop listRule, two hops", 0, M_CLIENT, R_GUEST, "author.manager.name = 'Ada'", 0, "p2", 0, false, false},
	{"@request refused for a non-superuser", 0, M_CLIENT, R_U1, "@request.auth.id != ''", 0, NULL,
	 403, false, false},
	{"@collection refused for a non-superuser", 0, M_CLIENT, R_U1,
	 "@collection.memberships.user ?= 'u1'", 0, NULL, 403, false, false},
	{"@request allowed for a superuser", 0, M_SUPER, R_SU, "@request.method = 'GET'", 0, ALL, 0, false, false},
	{"@collection allowed for a superuser", 0, M_SUPER, R_SU,
	 "@collection.memberships.post ?= id", 0, "p1 p2 p3", 0, false, false},
	{"password field refused even in rules", "users", M_RULE, R_GUEST, "password = 'x'", 0, NULL,
	 400, false, false},
};

static void test_client(void)
{
	RUN(CLIENT);
}

/* ---- errors ------------------------------------------------------------- */

static const frow ERRORS[] = {
	{"unknown field", 0, M_RULE, R_GUEST, "nope = 1", 0, NULL, 400, false, false},
	{"unknown modifier", 0, M_RULE, R_GUEST, "title:upper = 'x'", 0, NULL, 400, false, false},
	{":length on a single field", 0, M_RULE, R_GUEST, "title:length = 1", 0, NULL, 400, false, false},
	{":each on a single field", 0, M_RULE, R_GUEST, "title:each = 'x'", 0, NULL, 400, false, false},
	{":isset on a field", 0, M_RULE, R_GUEST, "title:isset = true", 0, NULL, 400, false, false},
	{"unknown function", 0, M_RULE, R_GUEST, "foo(1) = 1", 0, NULL, 400, false, false},
	{"unknown back-relation collection", 0, M_RULE, R_GUEST, "nope_via_post.message = 'x'", 0,
	 NULL, 400, false, false},
	{"back-relation field targets another collection", 0, M_RULE, R_GUEST,
	 "comments_via_author.message = 'x'", 0, NULL, 400, false, false},
	{"back-relation without a field", 0, M_RULE, R_GUEST, "comments_via_post = 'x'", 0, NULL, 400, false, false},
	{"following a non-relation", 0, M_RULE, R_GUEST, "title.name = 'x'", 0, NULL, 400, false, false},
	{"unknown field after a relation", 0, M_RULE, R_GUEST, "author.nope = 1", 0, NULL, 400, false, false},
	{"unknown macro", 0, M_RULE, R_GUEST, "@nope = 1", 0, NULL, 400, false, false},
	{"syntax error", 0, M_RULE, R_GUEST, "title = ", 0, NULL, 400, false, false},
	{"strftime without a text format", 0, M_RULE, R_GUEST, "strftime(created) = ''", 0, NULL, 400, false, false},
	{"strftime with a number modifier", 0, M_RULE, R_GUEST, "strftime('%Y', created, 5) = ''", 0,
	 NULL, 400, false, false},
	{"two modifiers", 0, M_RULE, R_GUEST, "tags:each:lower = 'a'", NULL, NULL, 400, false, false},
	{"modifier in the middle", 0, M_RULE, R_GUEST, "author:lower.name = 'x'", 0, NULL, 400, false, false},
};

static void test_errors(void)
{
	RUN(ERRORS);
}

/* ---- sort ------------------------------------------------------------- */

static const frow SORTS[] = {
	{"-views", 0, M_RULE, R_GUEST, NULL, "-views", "p5 p1 p6 p3 p2 p4", 0, true, false},
	{"title (binary collation)", 0, M_RULE, R_GUEST, NULL, "title", "p4 p3 p1 p6 p2 p5", 0, true, false},
	{"title:lower", 0, M_RULE, R_GUEST, NULL, "title:lower", "p4 p3 p6 p1 p2 p5", 0, true, false},
	{"relation path then -views", 0, M_RULE, R_GUEST, NULL, "author.name,-views",
	 "p3 p5 p1 p6 p2 p4", 0, true, false},
	{"two hops", 0, M_RULE, R_GUEST, NULL, "author.manager.name", "p1 p3 p6 p2 p4 p5", 0, true, false},
	{"-@rowid", 0, M_RULE, R_GUEST, NULL, "-@rowid", "p6 p5 p4 p3 p2 p1", 0, true, false},
	{"@rowid", 0, M_RULE, R_GUEST, NULL, "@rowid", "p1 p2 p3 p4 p5 p6", 0, true, false},
	{"@random runs", 0, M_RULE, R_GUEST, NULL, "@random", ALL, 0, false, false},
	{"json path", 0, M_RULE, R_GUEST, NULL, "meta.a.b", "p3 p4 p5 p6 p1 p2", 0, true, false},
	{"function", 0, M_RULE, R_GUEST, NULL, "strftime('%m', created)", "p1 p5 p2 p3 p6 p4", 0, true, false},
	{"filter and sort", 0, M_CLIENT, R_GUEST, "active = true", "-views", "p5 p1 p3", 0, true, false},
	{"client sort through a listRule'd relation", 0, M_CLIENT, R_GUEST, NULL, "author.name",
	 "p3 p4 p5 p1 p6 p2", 0, true, false},
	{"client sort by a hidden field", 0, M_CLIENT, R_GUEST, NULL, "secret", NULL, 400, false, false},
	{"client sort into a null-listRule collection", 0, M_CLIENT, R_GUEST, NULL, "cat.name", NULL,
	 400, false, false},
	{"client sort by @request", 0, M_CLIENT, R_U1, NULL, "@request.auth.id", NULL, 403, false, false},
	{"view: filter", "titles", M_CLIENT, R_GUEST, "title ~ 'hello'", NULL, "p1 p2", 0, false, false},
	{"view: sort", "titles", M_CLIENT, R_GUEST, NULL, "-views", "p5 p1 p6 p3 p2 p4", 0, true, false},
	{"view: no @rowid", "titles", M_CLIENT, R_GUEST, NULL, "@rowid", NULL, 400, false, false},
	{"sort by an unknown field", 0, M_RULE, R_GUEST, NULL, "nope", NULL, 400, false, false},
	{"sort by a literal", 0, M_RULE, R_GUEST, NULL, "'x'", NULL, 400, false, false},
	{"sort by a non-column @request value", 0, M_RULE, R_U1, NULL, "@request.auth.id", NULL, 400, false, false},
};

static void test_sort(void)
{
	RUN(SORTS);
}

/* ---- things that need more than one row ------------------------------- */

/*
 * records.c compiles the collection's listRule (client = false) and then
 * the client filter into ONE context, so their joins are shared. §7.2.4:
 * a client filter's hop must still land on a listable collection and see
 * only rows that collection's listRule allows, whatever the rule joined.
 */
static void test_rule_then_client_filter(void)
{
	fixture fx;
	HR_REQUIRE(fixture_open(&fx));
	static const frow a = {"client hop into cats after a rule joined cats", 0, M_CLIENT, R_GUEST,
			       "cat.name = 'Tech'", 0, NULL, 400, false, false};
	static const frow b = {"client hop into users after a rule joined users", 0, M_CLIENT, R_GUEST,
			       "author.name = 'Cy'", 0, NONE, 0, false, false};
	static const frow c = {"client filter alone (control)", 0, M_CLIENT, R_GUEST,
			       "author.name = 'Cy'", 0, NONE, 0, false, false};
	HR_CHECK(run_row(&fx, &c, NULL));
	HR_CHECK(run_row(&fx, &a, "cat.name != 'zzz'"));
	HR_CHECK(run_row(&fx, &b, "author.name != 'zzz'"));
	fixture_close(&fx);
}

/* The `distinct` flag follows the joins that can multiply rows. */
static void test_distinct_flag(void)
{
	fixture fx;
	HR_REQUIRE(fixture_open(&fx));
	static const struct {
		const char *coll, *filter;
		bool distinct;
	} rows[] = {
		{"posts", "title = 'x'", false},
		{"posts", "author.name = 'x'", false},
		{"posts", "members.name ?= 'x'", true},
		{"posts", "tags:each ?= 'a'", true},
		{"posts", "comments_via_post.message ?= 'x'", true},
		{"users", "profiles_via_user.bio = 'x'", false},
		{"posts", "@collection.memberships.level ?> 1", true},
		{"posts", "tags:length > 1", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_arena a;
		hr_arena_init(&a, NULL, 0, 0);
		hr_sql_ctx x;
		hr_sql_ctx_init(&x, &a, fx.schema, &fx.req[R_GUEST], false);
		hr_buf out;
		hr_buf_init(&out, 1u << 20);
		const hr_collection *c = hr_schema_find(fx.schema, hr_str_make(rows[i].coll, strlen(rows[i].coll)));
		int rc = hr_sql_where_text(&x, c, HR_STR("r"), hr_str_make(rows[i].filter, strlen(rows[i].filter)), &out);
		HR_CHECKF(rc == 0 && x.distinct == rows[i].distinct, "%s: rc=%d distinct=%d want %d",
			  rows[i].filter, rc, x.distinct, rows[i].distinct);
		hr_buf_dispose(&out);
		hr_sql_ctx_dispose(&x);
		hr_arena_dispose(&a);
	}
	fixture_close(&fx);
}

/* Parameters: the generated SQL binds exactly what it numbers. */
static void test_param_numbering(void)
{
	fixture fx;
	HR_REQUIRE(fixture_open(&fx));
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_sql_ctx x;
	hr_sql_ctx_init(&x, &a, fx.schema, &fx.req[R_U1], false);
	hr_buf out;
	hr_buf_init(&out, 1u << 20);
	const hr_collection *c = hr_schema_find(fx.schema, HR_STR("posts"));
	const char *f = "title = 'zq_Lit_7781' && views > 4242.5 && meta.a.b = 1 && "
			"author = @request.auth.id && title ~ 'zq%'";
	int rc = hr_sql_where_text(&x, c, HR_STR("r"), hr_str_make(f, strlen(f)), &out);
	HR_REQUIRE(rc == 0);
	hr_buf_append_char(&out, '\0');
	const char *sql = out.ptr;
	HR_CHECK(strstr(sql, "zq_Lit_7781") == NULL);
	HR_CHECK(strstr(sql, "4242") == NULL);
	HR_CHECK(strstr(sql, "$.") == NULL); /* JSON paths are parameters too */
	HR_CHECK(strstr(sql, "'zq") == NULL);
	HR_CHECK(param_has_text(&x, HR_STR("zq_Lit_7781"), false));
	HR_CHECK(param_has_num(&x, 4242.5));
	HR_CHECK(param_has_text(&x, HR_STR("u1"), false));
	HR_CHECK(param_has_text(&x, HR_STR("zq%"), false));
	/* every ?N in the text is in range, and every parameter is used */
	bool used[64] = {0};
	for (const char *p = sql; (p = strchr(p, '?')) != NULL; p++) {
		unsigned long k = strtoul(p + 1, NULL, 10);
		HR_CHECK(k >= 1 && k <= x.nparams);
		if (k >= 1 && k < 64)
			used[k] = true;
	}
	for (unsigned k = 1; k <= x.nparams && k < 64; k++)
		HR_CHECKF(used[k], "?%u is never referenced in: %s", k, sql);
	hr_buf_dispose(&out);
	hr_sql_ctx_dispose(&x);
	hr_arena_dispose(&a);
	fixture_close(&fx);
}

/* hr_sql_where_text("") is "1=1"; hr_sql_check_rule reports a message. */
static void test_where_text_and_check_rule(void)
{
	fixture fx;
	HR_REQUIRE(fixture_open(&fx));
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_sql_ctx x;
	hr_sql_ctx_init(&x, &a, fx.schema, NULL, false);
	hr_buf out;
	hr_buf_init(&out, 1u << 20);
	const hr_collection *c = hr_schema_find(fx.schema, HR_STR("posts"));
	HR_CHECK(hr_sql_where_text(&x, c, HR_STR("r"), HR_STR(""), &out) == 0);
	HR_CHECK(out.len == 3 && memcmp(out.ptr, "1=1", 3) == 0);
	hr_buf_dispose(&out);
	hr_sql_ctx_dispose(&x);
	const char *msg = NULL;
	HR_CHECK(hr_sql_check_rule(&a, fx.schema, c, HR_STR("author.name = 'x'"), &msg) == 0);
	HR_CHECK(hr_sql_check_rule(&a, fx.schema, c, HR_STR("nope = 1"), &msg) == HR_EPARSE);
	HR_CHECK(msg != NULL && *msg);
	msg = NULL;
	HR_CHECK(hr_sql_check_rule(&a, fx.schema, c, HR_STR("title = "), &msg) == HR_EPARSE);
	HR_CHECK(msg != NULL && *msg);
	/* rules may use hidden fields and @request / @collection */
	HR_CHECK(hr_sql_check_rule(&a, fx.schema, c,
				   HR_STR("secret = '' && @request.auth.id != '' && "
					  "@collection.memberships.user ?= @request.auth.id"),
				   &msg) == 0);
	hr_arena_dispose(&a);
	fixture_close(&fx);
}

/* §6.11: at most 200 comparisons per client filter and per rule (rules have no
 * length limit, but the comparison limit applies to them too). */
static void test_comparison_limit(void)
{
	fixture fx;
	HR_REQUIRE(fixture_open(&fx));
	static char f200[200 * 24], f201[201 * 24];
	size_t o = 0;
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(f200 + o, sizeof f200 - o, "%sviews != %d", i ? " && " : "", i + 1000);
	o = (size_t)snprintf(f201, sizeof f201, "%s && views != 1", f200);
	(void)o;
	frow r200 = {"200 comparisons in a client filter", 0, M_CLIENT, R_GUEST, f200, NULL, ALL, 0, false, false};
	frow r201 = {"201 comparisons in a client filter", 0, M_CLIENT, R_GUEST, f201, NULL, NULL, 400, false, false};
	frow r201r = {"201 comparisons in a rule", 0, M_RULE, R_GUEST, f201, NULL, NULL, 400, false, false};
	HR_CHECK(run_row(&fx, &r200, NULL));
	HR_CHECK(run_row(&fx, &r201, NULL));
	HR_CHECK(run_row(&fx, &r201r, NULL));
	fixture_close(&fx);
}

static const hr_test_case cases[] = {
	{"operators", test_operators},
	{"empty_values", test_empty_values},
	{"like", test_like},
	{"precedence", test_precedence},
	{"relations", test_relations},
	{"each_length", test_each},
	{"back_relations", test_back_relations},
	{"json_paths", test_json_paths},
	{"macros_functions", test_macros_functions},
	{"collection", test_collection},
	{"request", test_request},
	{"client_restrictions", test_client},
	{"errors", test_errors},
	{"sort", test_sort},
	{"rule_then_client_filter", test_rule_then_client_filter},
	{"distinct_flag", test_distinct_flag},
	{"param_numbering", test_param_numbering},
	{"comparison_limit", test_comparison_limit},
	{"where_text_and_check_rule", test_where_text_and_check_rule},
};

HR_TEST_MAIN(cases)

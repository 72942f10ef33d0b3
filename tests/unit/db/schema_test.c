/*
 * tests/unit/db/schema_test.c - collections <-> JSON <-> tables
 * (src/db/schema.c) against a real SQLite database (":memory:" through
 * hr_db_open).
 *
 *  - names and types: hr_schema_valid_name, type names, multi-ness, SQL
 *    column declarations;
 *  - JSON: a base collection holding every field type round-trips
 *    byte-for-byte (from_json -> to_json -> from_json -> to_json), each
 *    field type's keys come out sorted (DIALECT.md §3.1) with the exact
 *    key set, absent options take zero values, wrong-typed keys are named;
 *    auth and view collections round-trip through storage (migrate, load);
 *    secrets never appear without with_secrets;
 *  - index normalisation: quoting styles, IF NOT EXISTS, COLLATE, ASC/DESC,
 *    WHERE, the table name rewritten, and statements that must be refused;
 *  - migrations: add / rename / swap / drop fields keep data, renaming a
 *    collection, single <-> multiple conversion of values, a unique index
 *    over duplicates failing and leaving everything as it was after the
 *    caller's rollback, deleting a collection, views;
 *  - bootstrap: idempotent, creates _superusers (pbc_3142635823) with its
 *    table, indexes and secrets; default auth options (§11.1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "db/db.h"
#include "db/schema.h"
#include "harness/unit.h"

/* ---- helpers ------------------------------------------------------------ */

static hr_db *open_db(void)
{
	hr_db *db = NULL;
	hr_db_config cfg = {.kind = HR_DB_SQLITE, .path = ":memory:"};
	hr_db_error err = {0};
	if (hr_db_open(&cfg, &db, &err) != 0) {
		fprintf(stderr, "  open: %s\n", err.msg);
		return NULL;
	}
	if (hr_schema_bootstrap(db, &err) != 0) {
		fprintf(stderr, "  bootstrap: %s\n", err.msg);
		hr_db_close(db);
		return NULL;
	}
	return db;
}

static bool parse_coll(hr_arena *a, const char *json, hr_collection *c)
{
	hr_json *j;
	hr_json_error je;
	if (hr_json_parse(a, json, strlen(json), 64, &j, &je) != 0) {
		fprintf(stderr, "  JSON: %s at %zu\n", je.message, je.offset);
		return false;
	}
	const char *what;
	if (hr_collection_from_json(a, j, c, &what) != 0) {
		fprintf(stderr, "  from_json: %s\n", what);
		return false;
	}
	return true;
}

/* Runs one migration in its own transaction; rolls back on failure. */
static int migrate(hr_db *db, const hr_collection *old, const hr_collection *neu, hr_db_error *err)
{
	int rc = hr_db_begin(db, true, err);
	if (rc)
		return rc;
	rc = hr_schema_migrate(db, old, neu, err);
	if (rc) {
		hr_db_rollback(db);
		return rc;
	}
	return hr_db_commit(db, err);
}

/* The rows of a one-column query joined with '|' (NULL as "<null>"). */
static void query_col(hr_db *db, const char *sql, char *out, size_t cap)
{
	out[0] = '\0';
	hr_db_stmt *st;
	hr_db_error err = {0};
	if (hr_db_prepare(db, hr_str_make(sql, strlen(sql)), &st, &err) != 0) {
		snprintf(out, cap, "<error: %s>", err.msg);
		return;
	}
	size_t o = 0;
	bool first = true;
	while (hr_db_step(st, &err) == HR_DB_ROW) {
		hr_str v = hr_db_column_type(st, 0) == HR_DB_NULL ? HR_STR("<null>")
								    : hr_db_column_text(st, 0);
		int n = snprintf(out + o, cap - o, "%s%.*s", first ? "" : "|", (int)v.len, v.ptr);
		if (n > 0 && (size_t)n < cap - o)
			o += (size_t)n;
		first = false;
	}
	hr_db_release(st);
}

#define CHECK_QUERY(db, sql, want)                                                            \
	do {                                                                                  \
		char got_[4096];                                                              \
		query_col((db), (sql), got_, sizeof got_);                                    \
		HR_CHECKF(strcmp(got_, (want)) == 0, "%s\n    got:  %s\n    want: %s", (sql), \
			  got_, (want));                                                     \
	} while (0)

static void to_json(const hr_collection *c, bool secrets, hr_buf *b)
{
	hr_buf_reset(b);
	hr_collection_to_json(b, c, secrets);
	hr_buf_append_char(b, '\0');
}

/* ---- names and types ---------------------------------------------------- */

static void test_names_and_types(void)
{
	static const struct {
		const char *s;
		size_t max;
		bool ok;
	} names[] = {
		{"posts", 255, true},  {"_a1", 255, true},   {"A_b_C", 255, true}, {"", 255, false},
		{"a-b", 255, false},   {"a b", 255, false},  {"a.b", 255, false},  {"a\"b", 255, false},
		{"abc", 2, false},     {"ab", 2, true},	     {"\xc3\xa9", 255, false},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		HR_CHECKF(hr_schema_valid_name(hr_str_make(names[i].s, strlen(names[i].s)), names[i].max) ==
				  names[i].ok,
			  "valid_name(%s, %zu)", names[i].s, names[i].max);
	static const char *const types[] = {"text",	"number", "bool",     "email", "url",
					    "editor",	"date",	  "autodate", "select", "json",
					    "relation", "file",	  "password", "geoPoint"};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		int t = hr_field_type_from(hr_str_make(types[i], strlen(types[i])));
		HR_CHECKF(t > 0 && strcmp(hr_field_type_name(t), types[i]) == 0, "type %s", types[i]);
	}
	HR_CHECK(hr_field_type_from(HR_STR("Text")) == 0);
	HR_CHECK(hr_field_type_from(HR_STR("geopoint")) == 0);
	HR_CHECK(hr_field_type_from(HR_STR("")) == 0);
	HR_CHECK(strcmp(hr_field_type_name(0), "") == 0);
	HR_CHECK(strcmp(hr_field_type_name(HR_FT__COUNT), "") == 0);
	hr_field f = {.type = HR_FT_SELECT, .max_select = 1};
	HR_CHECK(!hr_field_multi(&f));
	f.max_select = 2;
	HR_CHECK(hr_field_multi(&f));
	f.type = HR_FT_TEXT;
	HR_CHECK(!hr_field_multi(&f));
	f.type = HR_FT_FILE;
	HR_CHECK(hr_field_multi(&f));
	/* storage (§4.2): every type non-nullable with its zero default but json */
	static const struct {
		hr_field f;
		const char *must, *must_not;
	} decl[] = {
		{{.type = HR_FT_TEXT}, "DEFAULT ''", NULL},
		{{.type = HR_FT_NUMBER}, "DEFAULT 0", NULL},
		{{.type = HR_FT_BOOL}, "DEFAULT FALSE", NULL},
		{{.type = HR_FT_JSON}, "DEFAULT NULL", "NOT NULL"},
		{{.type = HR_FT_SELECT, .max_select = 3}, "DEFAULT '[]'", NULL},
		{{.type = HR_FT_RELATION, .max_select = 1}, "DEFAULT ''", NULL},
		{{.type = HR_FT_GEOPOINT}, "{\"lon\":0,\"lat\":0}", NULL},
		{{.type = HR_FT_DATE}, "DEFAULT ''", NULL},
	};
	for (size_t i = 0; i < sizeof decl / sizeof decl[0]; i++) {
		const char *d = hr_field_sql_type(&decl[i].f);
		HR_CHECKF(strstr(d, decl[i].must) != NULL, "decl %zu: %s", i, d);
		if (decl[i].must_not)
			HR_CHECKF(strstr(d, decl[i].must_not) == NULL, "decl %zu: %s", i, d);
		else
			HR_CHECKF(strstr(d, "NOT NULL") != NULL, "decl %zu: %s", i, d);
	}
}

/* ---- JSON --------------------------------------------------------------- */

/* A base collection with one field of every type and non-default options,
 * written exactly as hr_collection_to_json must write it. */
static const char ALL_TYPES_JSON[] =
	"{\"id\":\"pbc_all\",\"listRule\":\"\",\"viewRule\":\"title != ''\",\"createRule\":null,"
	"\"updateRule\":\"@request.auth.id != ''\",\"deleteRule\":null,\"name\":\"all_types\","
	"\"type\":\"base\",\"fields\":["
	"{\"autogeneratePattern\":\"[a-z0-9]{15}\",\"help\":\"\",\"hidden\":false,\"id\":\"text3208210256\","
	"\"max\":15,\"min\":15,\"name\":\"id\",\"pattern\":\"^[a-z0-9]+$\",\"presentable\":false,"
	"\"primaryKey\":true,\"required\":true,\"system\":true,\"type\":\"text\"},"
	"{\"autogeneratePattern\":\"\",\"help\":\"The title\",\"hidden\":false,\"id\":\"text1\","
	"\"max\":200,\"min\":3,\"name\":\"title\",\"pattern\":\"^\\\\w+$\",\"presentable\":true,"
	"\"primaryKey\":false,\"required\":true,\"system\":false,\"type\":\"text\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"number1\",\"max\":10.5,\"min\":-2,\"name\":\"n\","
	"\"onlyInt\":true,\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"number\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"number2\",\"max\":null,\"min\":null,\"name\":\"n2\","
	"\"onlyInt\":false,\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"number\"},"
	"{\"help\":\"\",\"hidden\":true,\"id\":\"bool1\",\"name\":\"b\",\"presentable\":false,"
	"\"required\":true,\"system\":false,\"type\":\"bool\"},"
	"{\"exceptDomains\":null,\"help\":\"\",\"hidden\":false,\"id\":\"email1\",\"name\":\"e\","
	"\"onlyDomains\":[\"x.io\",\"y.io\"],\"presentable\":false,\"required\":false,\"system\":false,"
	"\"type\":\"email\"},"
	"{\"exceptDomains\":[\"bad.com\"],\"help\":\"\",\"hidden\":false,\"id\":\"url1\",\"name\":\"u\","
	"\"onlyDomains\":null,\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"url\"},"
	"{\"convertURLs\":true,\"help\":\"\",\"hidden\":false,\"id\":\"editor1\",\"maxSize\":1000,"
	"\"name\":\"body\",\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"editor\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"date1\",\"max\":\"2030-01-01 00:00:00.000Z\","
	"\"min\":\"2020-01-01 00:00:00.000Z\",\"name\":\"d\",\"presentable\":false,\"required\":false,"
	"\"system\":false,\"type\":\"date\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"select1\",\"maxSelect\":2,\"name\":\"tags\","
	"\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"select\","
	"\"values\":[\"a\",\"b\",\"c\"]},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"json1\",\"maxSize\":2048,\"name\":\"meta\","
	"\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"json\"},"
	"{\"cascadeDelete\":true,\"collectionId\":\"pbc_3142635823\",\"help\":\"\",\"hidden\":false,"
	"\"id\":\"relation1\",\"maxSelect\":5,\"minSelect\":1,\"name\":\"owners\",\"presentable\":false,"
	"\"required\":false,\"system\":false,\"type\":\"relation\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"file1\",\"maxSelect\":3,\"maxSize\":1048576,"
	"\"mimeTypes\":[\"image/png\"],\"name\":\"pics\",\"presentable\":false,\"protected\":true,"
	"\"required\":false,\"system\":false,\"thumbs\":[\"100x100\"],\"type\":\"file\"},"
	"{\"cost\":12,\"help\":\"\",\"hidden\":true,\"id\":\"password1\",\"max\":64,\"min\":10,"
	"\"name\":\"pw\",\"pattern\":\"\",\"presentable\":false,\"required\":false,\"system\":false,"
	"\"type\":\"password\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"geoPoint1\",\"name\":\"loc\",\"presentable\":false,"
	"\"required\":false,\"system\":false,\"type\":\"geoPoint\"},"
	"{\"hidden\":false,\"id\":\"autodate1\",\"name\":\"created\",\"onCreate\":true,\"onUpdate\":false,"
	"\"presentable\":false,\"system\":false,\"type\":\"autodate\"}"
	"],\"indexes\":[\"CREATE INDEX `idx_title` ON `all_types` (`title`)\"],"
	"\"created\":\"2026-03-04 09:15:02.123Z\",\"updated\":\"2026-03-05 10:00:00.000Z\","
	"\"system\":false}";

static void test_json_round_trip(void)
{
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_collection c1, c2;
	HR_REQUIRE(parse_coll(&a, ALL_TYPES_JSON, &c1));
	HR_CHECK(c1.nfields == 16);
	hr_buf b1, b2;
	hr_buf_init(&b1, 1 << 20);
	hr_buf_init(&b2, 1 << 20);
	to_json(&c1, false, &b1);
	HR_CHECKF(strcmp(b1.ptr, ALL_TYPES_JSON) == 0, "\n    got:  %s\n    want: %s", b1.ptr,
		  ALL_TYPES_JSON);
	HR_REQUIRE(parse_coll(&a, b1.ptr, &c2));
	to_json(&c2, false, &b2);
	HR_CHECK(strcmp(b1.ptr, b2.ptr) == 0);
	/* what was read */
	const hr_field *n = hr_coll_field(&c1, HR_STR("n"));
	HR_REQUIRE(n);
	HR_CHECK(n->has_nmin && n->nmin == -2 && n->has_nmax && n->nmax == 10.5 && n->only_int);
	const hr_field *n2 = hr_coll_field(&c1, HR_STR("n2"));
	HR_REQUIRE(n2);
	HR_CHECK(!n2->has_nmin && !n2->has_nmax);
	HR_CHECK(c1.rule_set[HR_RULE_LIST] && c1.rules[HR_RULE_LIST].len == 0);
	HR_CHECK(!c1.rule_set[HR_RULE_CREATE] && !c1.rule_set[HR_RULE_DELETE]);
	HR_CHECK(hr_str_eq(c1.rules[HR_RULE_UPDATE], HR_STR("@request.auth.id != ''")));
	const hr_field *tags = hr_coll_field(&c1, HR_STR("tags"));
	HR_REQUIRE(tags);
	HR_CHECK(tags->values.n == 3 && hr_field_multi(tags));
	HR_CHECK(hr_coll_field_index(&c1, HR_STR("loc")) == 14);
	HR_CHECK(hr_coll_field(&c1, HR_STR("Title")) == NULL); /* field names exact */
	hr_buf_dispose(&b1);
	hr_buf_dispose(&b2);
	hr_arena_dispose(&a);
}

/* Checks that every object in fields[] has its keys in strictly increasing byte order. */
static void test_field_keys_sorted(void)
{
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_collection c;
	HR_REQUIRE(parse_coll(&a, ALL_TYPES_JSON, &c));
	for (unsigned i = 0; i < c.nfields; i++) {
		hr_buf b;
		hr_buf_init(&b, 1 << 20);
		hr_field_to_json(&b, &c.fields[i]);
		hr_json *j;
		hr_json_error je;
		HR_REQUIRE(hr_json_parse(&a, b.ptr, b.len, 8, &j, &je) == 0);
		HR_REQUIRE(j->type == HR_JSON_OBJECT);
		for (size_t k = 1; k < j->u.obj.len; k++) {
			hr_str p = j->u.obj.members[k - 1].key, q = j->u.obj.members[k].key;
			size_t m = p.len < q.len ? p.len : q.len;
			int cmp = memcmp(p.ptr, q.ptr, m);
			HR_CHECKF(cmp < 0 || (cmp == 0 && p.len < q.len), "%s: '%.*s' before '%.*s'",
				  hr_field_type_name(c.fields[i].type), (int)p.len, p.ptr, (int)q.len,
				  q.ptr);
		}
		hr_buf_dispose(&b);
	}
	hr_arena_dispose(&a);
}

/* Absent options take zero values; unknown keys are ignored (§3.1). */
static void test_field_defaults(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"text\",\"bogus\":1}",
		 "{\"autogeneratePattern\":\"\",\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"max\":0,"
		 "\"min\":0,\"name\":\"x\",\"pattern\":\"\",\"presentable\":false,\"primaryKey\":false,"
		 "\"required\":false,\"system\":false,\"type\":\"text\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"number\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"max\":null,\"min\":null,\"name\":\"x\","
		 "\"onlyInt\":false,\"presentable\":false,\"required\":false,\"system\":false,"
		 "\"type\":\"number\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"bool\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"name\":\"x\",\"presentable\":false,"
		 "\"required\":false,\"system\":false,\"type\":\"bool\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"email\"}",
		 "{\"exceptDomains\":null,\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"name\":\"x\","
		 "\"onlyDomains\":null,\"presentable\":false,\"required\":false,\"system\":false,"
		 "\"type\":\"email\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"url\"}",
		 "{\"exceptDomains\":null,\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"name\":\"x\","
		 "\"onlyDomains\":null,\"presentable\":false,\"required\":false,\"system\":false,"
		 "\"type\":\"url\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"editor\"}",
		 "{\"convertURLs\":false,\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"maxSize\":0,"
		 "\"name\":\"x\",\"presentable\":false,\"required\":false,\"system\":false,"
		 "\"type\":\"editor\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"date\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"max\":\"\",\"min\":\"\",\"name\":\"x\","
		 "\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"date\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"autodate\"}",
		 "{\"hidden\":false,\"id\":\"f\",\"name\":\"x\",\"onCreate\":false,\"onUpdate\":false,"
		 "\"presentable\":false,\"system\":false,\"type\":\"autodate\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"select\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"maxSelect\":0,\"name\":\"x\","
		 "\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"select\","
		 "\"values\":[]}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"json\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"maxSize\":0,\"name\":\"x\","
		 "\"presentable\":false,\"required\":false,\"system\":false,\"type\":\"json\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"relation\"}",
		 "{\"cascadeDelete\":false,\"collectionId\":\"\",\"help\":\"\",\"hidden\":false,\"id\":\"f\","
		 "\"maxSelect\":0,\"minSelect\":0,\"name\":\"x\",\"presentable\":false,\"required\":false,"
		 "\"system\":false,\"type\":\"relation\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"file\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"maxSelect\":0,\"maxSize\":0,"
		 "\"mimeTypes\":[],\"name\":\"x\",\"presentable\":false,\"protected\":false,"
		 "\"required\":false,\"system\":false,\"thumbs\":[],\"type\":\"file\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"password\"}",
		 "{\"cost\":0,\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"max\":0,\"min\":0,\"name\":\"x\","
		 "\"pattern\":\"\",\"presentable\":false,\"required\":false,\"system\":false,"
		 "\"type\":\"password\"}"},
		{"{\"id\":\"f\",\"name\":\"x\",\"type\":\"geoPoint\"}",
		 "{\"help\":\"\",\"hidden\":false,\"id\":\"f\",\"name\":\"x\",\"presentable\":false,"
		 "\"required\":false,\"system\":false,\"type\":\"geoPoint\"}"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_arena a;
		hr_arena_init(&a, NULL, 0, 0);
		char coll[1024];
		snprintf(coll, sizeof coll, "{\"id\":\"c\",\"name\":\"c\",\"type\":\"base\",\"fields\":[%s]}",
			 rows[i].in);
		hr_collection c;
		HR_REQUIRE(parse_coll(&a, coll, &c));
		hr_buf b;
		hr_buf_init(&b, 1 << 20);
		hr_field_to_json(&b, &c.fields[0]);
		hr_buf_append_char(&b, '\0');
		HR_CHECKF(strcmp(b.ptr, rows[i].out) == 0, "\n    got:  %s\n    want: %s", b.ptr,
			  rows[i].out);
		hr_buf_dispose(&b);
		hr_arena_dispose(&a);
	}
}

/* A key of the wrong JSON type is refused and named. */
static void test_json_type_errors(void)
{
	static const struct {
		const char *in, *what;
	} rows[] = {
		{"{\"id\":5}", "id"},
		{"{\"name\":[]}", "name"},
		{"{\"type\":true}", "type"},
		{"{\"system\":\"yes\"}", "system"},
		{"{\"listRule\":5}", "listRule"},
		{"{\"manageRule\":{}}", "manageRule"},
		{"{\"indexes\":\"x\"}", "indexes"},
		{"{\"indexes\":[1]}", "indexes"},
		{"{\"viewQuery\":1}", "viewQuery"},
		{"{\"fields\":{}}", "fields"},
		{"{\"fields\":[5]}", "fields"},
		{"{\"fields\":[{\"type\":\"text\",\"min\":\"3\"}]}", "min"},
		{"{\"fields\":[{\"type\":\"text\",\"hidden\":1}]}", "hidden"},
		{"{\"fields\":[{\"type\":\"select\",\"values\":\"a\"}]}", "values"},
		{"{\"fields\":[{\"type\":\"select\",\"maxSelect\":\"2\"}]}", "maxSelect"},
		{"{\"fields\":[{\"type\":\"relation\",\"collectionId\":1}]}", "collectionId"},
		{"{\"fields\":[{\"type\":\"email\",\"onlyDomains\":[1]}]}", "onlyDomains"},
		{"{\"fields\":[{\"name\":1,\"type\":\"text\"}]}", "name"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_arena a;
		hr_arena_init(&a, NULL, 0, 0);
		hr_json *j;
		hr_json_error je;
		HR_REQUIRE(hr_json_parse(&a, rows[i].in, strlen(rows[i].in), 16, &j, &je) == 0);
		hr_collection c;
		const char *what = NULL;
		int rc = hr_collection_from_json(&a, j, &c, &what);
		HR_CHECKF(rc == HR_EPARSE && what && strcmp(what, rows[i].what) == 0,
			  "%s: rc=%d what=%s (want %s)", rows[i].in, rc, what ? what : "(null)",
			  rows[i].what);
		hr_arena_dispose(&a);
	}
	/* not an object */
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_json *j;
	hr_json_error je;
	HR_REQUIRE(hr_json_parse(&a, "[]", 2, 4, &j, &je) == 0);
	hr_collection c;
	const char *what;
	HR_CHECK(hr_collection_from_json(&a, j, &c, &what) == HR_EPARSE);
	/* null options and absent keys are fine */
	HR_REQUIRE(hr_json_parse(&a, "{\"name\":\"x\",\"listRule\":null,\"fields\":null}", 42, 4, &j,
				 &je) == 0);
	HR_CHECK(hr_collection_from_json(&a, j, &c, &what) == 0);
	HR_CHECK(c.type == HR_COLL_BASE && c.nfields == 0 && !c.rule_set[HR_RULE_LIST]);
	hr_arena_dispose(&a);
}

/* Auth and view collections through storage: migrate, load, to_json. */
static const char AUTH_JSON[] =
	"{\"id\":\"_pb_users_auth_\",\"name\":\"users\",\"type\":\"auth\",\"system\":false,"
	"\"listRule\":\"id = @request.auth.id\",\"viewRule\":\"id = @request.auth.id\","
	"\"createRule\":\"\",\"updateRule\":\"id = @request.auth.id\",\"deleteRule\":null,"
	"\"fields\":["
	"{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\",\"primaryKey\":true,\"required\":true,"
	"\"system\":true,\"min\":15,\"max\":15,\"pattern\":\"^[a-z0-9]+$\",\"autogeneratePattern\":\"[a-z0-9]{15}\"},"
	"{\"id\":\"password901924565\",\"name\":\"password\",\"type\":\"password\",\"hidden\":true,"
	"\"system\":true,\"required\":true,\"min\":8},"
	"{\"id\":\"text2504183744\",\"name\":\"tokenKey\",\"type\":\"text\",\"hidden\":true,\"system\":true,"
	"\"required\":true,\"min\":30,\"max\":60,\"autogeneratePattern\":\"[a-zA-Z0-9]{50}\"},"
	"{\"id\":\"email3885137012\",\"name\":\"email\",\"type\":\"email\",\"system\":true,\"required\":true},"
	"{\"id\":\"bool1547992806\",\"name\":\"emailVisibility\",\"type\":\"bool\",\"system\":true},"
	"{\"id\":\"bool256245529\",\"name\":\"verified\",\"type\":\"bool\",\"system\":true},"
	"{\"id\":\"text_name\",\"name\":\"name\",\"type\":\"text\"}],"
	"\"indexes\":[\"CREATE UNIQUE INDEX `idx_tokenKey__pb_users_auth_` ON `users` (`tokenKey`)\","
	"\"CREATE UNIQUE INDEX `idx_email__pb_users_auth_` ON `users` (`email`) WHERE `email` != ''\"],"
	"\"authRule\":\"verified = true\",\"manageRule\":null}";

static void test_auth_and_view_through_storage(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_collection users, view;
	HR_REQUIRE(parse_coll(&a, AUTH_JSON, &users));
	HR_CHECK(users.rule_set[HR_RULE_AUTH] && hr_str_eq(users.rules[HR_RULE_AUTH], HR_STR("verified = true")));
	HR_CHECK(!users.rule_set[HR_RULE_MANAGE]);
	HR_REQUIRE(hr_schema_default_auth_options(&a, false, &users.options) == 0);
	HR_REQUIRE(parse_coll(&a,
			      "{\"id\":\"pbc_v\",\"name\":\"names\",\"type\":\"view\",\"listRule\":\"\","
			      "\"viewQuery\":\"SELECT id, name FROM users\",\"fields\":["
			      "{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\"},"
			      "{\"id\":\"text_vname\",\"name\":\"name\",\"type\":\"text\"}]}",
			      &view));
	hr_db_error err = {0};
	HR_REQUIRE(migrate(db, NULL, &users, &err) == 0);
	HR_REQUIRE(migrate(db, NULL, &view, &err) == 0);
	HR_CHECK(hr_db_exec(db, "INSERT INTO users (id, email, name) VALUES ('u1','a@x.io','Ada')", &err) == 0);
	CHECK_QUERY(db, "SELECT name FROM names", "Ada");
	hr_buf before, after;
	hr_buf_init(&before, 1 << 20);
	hr_buf_init(&after, 1 << 20);
	to_json(&users, true, &before);
	hr_schema *s;
	HR_REQUIRE(hr_schema_load(db, 1, &s, &err) == 0);
	const hr_collection *lu = hr_schema_find(s, HR_STR("users"));
	const hr_collection *lv = hr_schema_find(s, HR_STR("pbc_v"));
	HR_REQUIRE(lu && lv);
	HR_CHECK(hr_schema_find(s, HR_STR("USERS")) == lu); /* names case-insensitively */
	HR_CHECK(hr_schema_find(s, HR_STR("_pb_users_auth_")) == lu);
	HR_CHECK(hr_schema_find(s, HR_STR("_PB_USERS_AUTH_")) == NULL); /* ids exactly */
	HR_CHECK(hr_schema_find(s, HR_STR("nope")) == NULL);
	to_json(lu, true, &after);
	HR_CHECKF(strcmp(before.ptr, after.ptr) == 0, "\n    before: %s\n    after:  %s", before.ptr,
		  after.ptr);
	HR_CHECK(lu->rule_set[HR_RULE_AUTH] && hr_str_eq(lu->rules[HR_RULE_AUTH], HR_STR("verified = true")));
	HR_CHECK(!lu->rule_set[HR_RULE_MANAGE]);
	HR_CHECK(!lu->rule_set[HR_RULE_DELETE]);
	HR_CHECK(hr_str_eq(lv->view_query, HR_STR("SELECT id, name FROM users")));
	HR_CHECK(lv->type == HR_COLL_VIEW);
	/* view output carries viewQuery right after system */
	to_json(lv, false, &after);
	HR_CHECKF(strstr(after.ptr, "\"system\":false,\"viewQuery\":\"SELECT id, name FROM users\"}") != NULL,
		  "%s", after.ptr);
	/* auth output: authRule, manageRule, then the options; secrets only on request */
	to_json(lu, false, &after);
	HR_CHECKF(strstr(after.ptr, "\"system\":false,\"authRule\":\"verified = true\",\"manageRule\":null,") != NULL,
		  "%s", after.ptr);
	HR_CHECKF(strstr(after.ptr, "\"secret\"") == NULL, "secret in public output: %s", after.ptr);
	HR_CHECK(strstr(after.ptr, "\"authToken\":{\"duration\":") != NULL);
	to_json(lu, true, &after);
	HR_CHECK(strstr(after.ptr, "\"secret\"") != NULL);
	hr_schema_free(s);
	hr_buf_dispose(&before);
	hr_buf_dispose(&after);
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/* ---- index normalisation ------------------------------------------------ */

static void test_index_normalize(void)
{
	static const struct {
		const char *in, *out, *name;
		bool unique;
		const char *cols; /* comma-joined */
	} ok[] = {
		{"CREATE INDEX `idx_a` ON `posts` (`author`)", "CREATE INDEX `idx_a` ON `posts` (`author`)",
		 "idx_a", false, "author"},
		{"create unique index if not exists \"idx_b\" on old_name (a, b)",
		 "CREATE UNIQUE INDEX `idx_b` ON `posts` (`a`, `b`)", "idx_b", true, "a,b"},
		{"CREATE INDEX [idx_c] ON [posts] ([email] COLLATE NOCASE)",
		 "CREATE INDEX `idx_c` ON `posts` (`email` COLLATE NOCASE)", "idx_c", false, "email"},
		{"CREATE INDEX idx_d ON posts (created DESC, title ASC)",
		 "CREATE INDEX `idx_d` ON `posts` (`created` DESC, `title` ASC)", "idx_d", false,
		 "created,title"},
		{"CREATE UNIQUE INDEX idx_e ON posts (email) WHERE email != ''",
		 "CREATE UNIQUE INDEX `idx_e` ON `posts` (`email`) WHERE email != ''", "idx_e", true,
		 "email"},
		{"CREATE UNIQUE INDEX `idx_f` ON `posts` (`email`) WHERE `email` != '' ;\n",
		 "CREATE UNIQUE INDEX `idx_f` ON `posts` (`email`) WHERE `email` != ''", "idx_f", true,
		 "email"},
		{"  CREATE\n\tINDEX idx_g ON posts(a);", "CREATE INDEX `idx_g` ON `posts` (`a`)", "idx_g",
		 false, "a"},
		{"CREATE INDEX idx_h ON posts (a COLLATE nocase DESC)",
		 "CREATE INDEX `idx_h` ON `posts` (`a` COLLATE nocase DESC)", "idx_h", false, "a"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		hr_buf b;
		hr_buf_init(&b, 1 << 20);
		hr_str name = HR_STR_NULL, cols[8];
		bool unique = !ok[i].unique;
		unsigned ncols = 0;
		bool r = hr_schema_index_normalize(hr_str_make(ok[i].in, strlen(ok[i].in)), HR_STR("posts"),
						   &b, &name, &unique, cols, &ncols, 8);
		hr_buf_append_char(&b, '\0');
		HR_CHECKF(r && strcmp(b.ptr, ok[i].out) == 0, "%s\n    got:  %s (%d)\n    want: %s",
			  ok[i].in, b.ptr, r, ok[i].out);
		if (!r)
			continue;
		HR_CHECKF(name.len == strlen(ok[i].name) && memcmp(name.ptr, ok[i].name, name.len) == 0,
			  "%s: name %.*s", ok[i].in, (int)name.len, name.ptr);
		HR_CHECK(unique == ok[i].unique);
		char joined[256] = "";
		size_t o = 0;
		for (unsigned k = 0; k < ncols; k++)
			o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%.*s", k ? "," : "",
					      (int)cols[k].len, cols[k].ptr);
		HR_CHECKF(strcmp(joined, ok[i].cols) == 0, "%s: cols %s", ok[i].in, joined);
		/* idempotent */
		hr_buf b2;
		hr_buf_init(&b2, 1 << 20);
		HR_CHECK(hr_schema_index_normalize(hr_str_make(b.ptr, strlen(b.ptr)), HR_STR("posts"), &b2,
						   NULL, NULL, NULL, NULL, 0));
		hr_buf_append_char(&b2, '\0');
		HR_CHECKF(strcmp(b.ptr, b2.ptr) == 0, "not idempotent: %s -> %s", b.ptr, b2.ptr);
		hr_buf_dispose(&b2);
		hr_buf_dispose(&b);
	}
	static const char *const bad[] = {
		"CREATE INDEX idx ON posts (a); DROP TABLE posts",
		"CREATE INDEX idx ON posts (a) WHERE 1; DROP TABLE posts",
		"CREATE INDEX idx ON posts (a);DROP TABLE posts;",
		"CREATE INDEX idx ON posts (a",
		"CREATE INDEX idx ON posts ()",
		"CREATE INDEX idx ON posts a",
		"CREATE INDEX `bad name` ON posts (a)",
		"CREATE INDEX idx ON posts (`a b`)",
		"CREATE INDEX idx ON posts (\"a\"\"b\")",
		"CREATE INDEX idx ON posts (lower(a))",
		"CREATE INDEX idx ON posts (a COLLATE)",
		"CREATE INDEX IF idx ON posts (a)",
		"CREATE TABLE x (a)",
		"CREATE INDEX ON posts (a)",
		"CREATE INDEX idx posts (a)",
		"CREATE INDEX idx ON posts (a) trailing",
		"CREATE INDEX idx ON posts (a) WHERE",
		"DROP INDEX idx",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		hr_buf b;
		hr_buf_init(&b, 1 << 20);
		bool r = hr_schema_index_normalize(hr_str_make(bad[i], strlen(bad[i])), HR_STR("posts"), &b,
						   NULL, NULL, NULL, NULL, 0);
		HR_CHECKF(!r, "accepted: %s -> %.*s", bad[i], (int)b.len, b.ptr);
		hr_buf_dispose(&b);
	}
}

/* ---- migrations --------------------------------------------------------- */

#define ITEM_ID                                                                                   \
	"{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\",\"primaryKey\":true,"        \
	"\"required\":true,\"system\":true,\"min\":15,\"max\":15,\"pattern\":\"^[a-z0-9]+$\","    \
	"\"autogeneratePattern\":\"[a-z0-9]{15}\"}"

/* Builds the items collection JSON with the given field list tail, name and indexes. */
static const char *items_json(hr_arena *a, const char *name, const char *fields, const char *indexes)
{
	return hr_arena_printf(a,
			       "{\"id\":\"pbc_items\",\"name\":\"%s\",\"type\":\"base\",\"listRule\":\"\","
			       "\"fields\":[" ITEM_ID "%s],\"indexes\":[%s]}",
			       name, fields, indexes);
}

#define F_TITLE ",{\"id\":\"f_title\",\"name\":\"title\",\"type\":\"text\"}"
#define F_N ",{\"id\":\"f_n\",\"name\":\"n\",\"type\":\"number\"}"
#define F_OLD ",{\"id\":\"f_old\",\"name\":\"old\",\"type\":\"text\"}"
#define F_TAG1 ",{\"id\":\"f_tag\",\"name\":\"tag\",\"type\":\"select\",\"maxSelect\":1,\"values\":[\"a\",\"b\",\"c\"]}"
#define F_TAGM ",{\"id\":\"f_tag\",\"name\":\"tag\",\"type\":\"select\",\"maxSelect\":3,\"values\":[\"a\",\"b\",\"c\"]}"
#define F_REL1 ",{\"id\":\"f_rel\",\"name\":\"rel\",\"type\":\"relation\",\"maxSelect\":1,\"collectionId\":\"pbc_3142635823\"}"
#define F_RELM ",{\"id\":\"f_rel\",\"name\":\"rel\",\"type\":\"relation\",\"maxSelect\":2,\"collectionId\":\"pbc_3142635823\"}"

static void test_migrate_fields(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection v1, v2, v3, v4, v5;
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE F_N F_OLD,
					     "\"CREATE INDEX `idx_old` ON `items` (`old`)\""),
			      &v1));
	HR_REQUIRE(migrate(db, NULL, &v1, &err) == 0);
	HR_REQUIRE(hr_db_exec(db,
			      "INSERT INTO items (id, title, n, old) VALUES "
			      "('i1','one',1,'o1'), ('i2','two',2,'o2'), ('i3','three',3,'')",
			      &err) == 0);
	/* add a bool field */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "items",
					 F_TITLE F_N F_OLD
					 ",{\"id\":\"f_flag\",\"name\":\"flag\",\"type\":\"bool\"}",
					 "\"CREATE INDEX `idx_old` ON `items` (`old`)\""),
			      &v2));
	HR_CHECK(migrate(db, &v1, &v2, &err) == 0);
	CHECK_QUERY(db, "SELECT id || ':' || title || ':' || n || ':' || old || ':' || flag FROM items ORDER BY id",
		    "i1:one:1:o1:0|i2:two:2:o2:0|i3:three:3::0");
	/* rename title -> name (same id); drop old (and its index) */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "items",
					 ",{\"id\":\"f_title\",\"name\":\"name\",\"type\":\"text\"}" F_N
					 ",{\"id\":\"f_flag\",\"name\":\"flag\",\"type\":\"bool\"}",
					 ""),
			      &v3));
	HR_CHECK(migrate(db, &v2, &v3, &err) == 0);
	CHECK_QUERY(db, "SELECT id || ':' || name || ':' || n FROM items ORDER BY id",
		    "i1:one:1|i2:two:2|i3:three:3");
	CHECK_QUERY(db, "SELECT count(*) FROM pragma_table_info('items') WHERE name IN ('title','old')", "0");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name = 'idx_old'", "0");
	/* swap two names: n <-> name (through temporary names) */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "items",
					 ",{\"id\":\"f_title\",\"name\":\"n\",\"type\":\"text\"}"
					 ",{\"id\":\"f_n\",\"name\":\"name\",\"type\":\"number\"}"
					 ",{\"id\":\"f_flag\",\"name\":\"flag\",\"type\":\"bool\"}",
					 "\"CREATE INDEX `idx_n` ON `items` (`n`)\""),
			      &v4));
	HR_CHECK(migrate(db, &v3, &v4, &err) == 0);
	CHECK_QUERY(db, "SELECT id || ':' || n || ':' || name FROM items ORDER BY id",
		    "i1:one:1|i2:two:2|i3:three:3");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'idx_n'", "1");
	/* the stored definition follows */
	CHECK_QUERY(db, "SELECT json_array_length(fields) FROM _collections WHERE id = 'pbc_items'", "4");
	CHECK_QUERY(db, "SELECT json_extract(fields, '$[1].name') FROM _collections WHERE id = 'pbc_items'", "n");
	/* rename the collection; the index is recreated on the new table and
	 * its stored statement names the new table */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "things",
					 ",{\"id\":\"f_title\",\"name\":\"n\",\"type\":\"text\"}"
					 ",{\"id\":\"f_n\",\"name\":\"name\",\"type\":\"number\"}"
					 ",{\"id\":\"f_flag\",\"name\":\"flag\",\"type\":\"bool\"}",
					 "\"CREATE INDEX `idx_n` ON `items` (`n`)\""),
			      &v5));
	HR_CHECK(migrate(db, &v4, &v5, &err) == 0);
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name = 'items'", "0");
	CHECK_QUERY(db, "SELECT id || ':' || n FROM things ORDER BY id", "i1:one|i2:two|i3:three");
	CHECK_QUERY(db, "SELECT tbl_name FROM sqlite_master WHERE name = 'idx_n'", "things");
	CHECK_QUERY(db, "SELECT name FROM _collections WHERE id = 'pbc_items'", "things");
	CHECK_QUERY(db, "SELECT json_extract(indexes, '$[0]') FROM _collections WHERE id = 'pbc_items'",
		    "CREATE INDEX `idx_n` ON `things` (`n`)");
	/* the snapshot sees the same */
	hr_schema *s;
	HR_REQUIRE(hr_schema_load(db, 2, &s, &err) == 0);
	const hr_collection *t = hr_schema_find(s, HR_STR("things"));
	HR_CHECK(t && t->nfields == 4 && hr_coll_field(t, HR_STR("flag")) && !hr_schema_find(s, HR_STR("items")));
	HR_CHECK(s->generation == 2);
	hr_schema_free(s);
	/* delete */
	HR_CHECK(migrate(db, &v5, NULL, &err) == 0);
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('things','idx_n')", "0");
	CHECK_QUERY(db, "SELECT count(*) FROM _collections WHERE id = 'pbc_items'", "0");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

static void test_migrate_single_multi(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection single, multi, back, renamed;
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE F_TAG1 F_REL1, ""), &single));
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE F_TAGM F_RELM, ""), &multi));
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE F_TAG1 F_REL1, ""), &back));
	HR_REQUIRE(migrate(db, NULL, &single, &err) == 0);
	HR_REQUIRE(hr_db_exec(db,
			      "INSERT INTO items (id, title, tag, rel) VALUES "
			      "('i1','x','a','u1'), ('i2','y','',''), ('i3','z','c','u3')",
			      &err) == 0);
	/* single -> multiple: "a" -> ["a"], "" -> [] */
	HR_CHECK(migrate(db, &single, &multi, &err) == 0);
	CHECK_QUERY(db, "SELECT tag FROM items ORDER BY id", "[\"a\"]|[]|[\"c\"]");
	CHECK_QUERY(db, "SELECT rel FROM items ORDER BY id", "[\"u1\"]|[]|[\"u3\"]");
	CHECK_QUERY(db, "SELECT title FROM items ORDER BY id", "x|y|z");
	/* the column is now a multi column: default [] for new rows */
	HR_CHECK(hr_db_exec(db, "INSERT INTO items (id) VALUES ('i4')", &err) == 0);
	CHECK_QUERY(db, "SELECT tag || rel FROM items WHERE id = 'i4'", "[][]");
	HR_CHECK(hr_db_exec(db,
			    "UPDATE items SET tag = '[\"a\",\"b\"]', rel = '[\"u1\",\"u2\"]' WHERE id = 'i1'",
			    &err) == 0);
	/* multiple -> single: ["a","b"] -> "b" (last), [] -> "" */
	HR_CHECK(migrate(db, &multi, &back, &err) == 0);
	CHECK_QUERY(db, "SELECT tag FROM items ORDER BY id", "b||c|");
	CHECK_QUERY(db, "SELECT rel FROM items ORDER BY id", "u2||u3|");
	HR_CHECK(hr_db_exec(db, "INSERT INTO items (id) VALUES ('i5')", &err) == 0);
	CHECK_QUERY(db, "SELECT '<' || tag || '>' FROM items WHERE id = 'i5'", "<>");
	/* rename and convert in one step */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "items",
					 F_TITLE
					 ",{\"id\":\"f_tag\",\"name\":\"labels\",\"type\":\"select\","
					 "\"maxSelect\":3,\"values\":[\"a\",\"b\",\"c\"]}" F_REL1,
					 ""),
			      &renamed));
	HR_CHECK(migrate(db, &back, &renamed, &err) == 0);
	CHECK_QUERY(db, "SELECT labels FROM items ORDER BY id", "[\"b\"]|[]|[\"c\"]|[]|[]");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/* A new unique index over duplicate values fails; after the caller's
 * rollback the table, its indexes, its data and _collections are unchanged. */
static void test_migrate_unique_failure_rolls_back(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection v1, v2;
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE F_N,
					     "\"CREATE INDEX `idx_n` ON `items` (`n`)\""),
			      &v1));
	HR_REQUIRE(migrate(db, NULL, &v1, &err) == 0);
	HR_REQUIRE(hr_db_exec(db, "INSERT INTO items (id, title, n) VALUES ('i1','dup',1), ('i2','dup',2)",
			      &err) == 0);
	char master[4096], row[8192];
	query_col(db, "SELECT type || ':' || name || ':' || tbl_name || ':' || sql FROM sqlite_master "
		      "WHERE tbl_name = 'items' ORDER BY name",
		  master, sizeof master);
	query_col(db, "SELECT name || fields || indexes FROM _collections WHERE id = 'pbc_items'", row,
		  sizeof row);
	/* rename a field, add one, and add the unique index */
	HR_REQUIRE(parse_coll(&a,
			      items_json(&a, "items2",
					 ",{\"id\":\"f_title\",\"name\":\"label\",\"type\":\"text\"}" F_N
					 ",{\"id\":\"f_new\",\"name\":\"extra\",\"type\":\"text\"}",
					 "\"CREATE INDEX `idx_n` ON `items` (`n`)\","
					 "\"CREATE UNIQUE INDEX `idx_label` ON `items` (`label`)\""),
			      &v2));
	memset(&err, 0, sizeof err);
	int rc = migrate(db, &v1, &v2, &err);
	HR_CHECKF(rc != 0, "the unique index over duplicates was created");
	HR_CHECKF(rc == HR_DB_E_UNIQUE || rc == HR_DB_E_CONSTRAINT, "rc=%d (%s)", rc, err.msg);
	HR_CHECK(err.msg[0] != '\0');
	CHECK_QUERY(db, "SELECT type || ':' || name || ':' || tbl_name || ':' || sql FROM sqlite_master "
			"WHERE tbl_name = 'items' ORDER BY name",
		    master);
	CHECK_QUERY(db, "SELECT name || fields || indexes FROM _collections WHERE id = 'pbc_items'", row);
	CHECK_QUERY(db, "SELECT id || ':' || title || ':' || n FROM items ORDER BY id", "i1:dup:1|i2:dup:2");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('items2','idx_label')", "0");
	/* the connection is still usable for a good migration afterwards */
	HR_CHECK(hr_db_exec(db, "UPDATE items SET title = 'other' WHERE id = 'i2'", &err) == 0);
	HR_CHECK(migrate(db, &v1, &v2, &err) == 0);
	CHECK_QUERY(db, "SELECT label FROM items2 ORDER BY id", "dup|other");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name = 'idx_label' AND tbl_name = 'items2'", "1");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/* Creating a collection with a malformed index fails (and rolls back). */
static void test_migrate_bad_index(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection c;
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE,
					     "\"CREATE INDEX idx ON items (title); DROP TABLE _collections\""),
			      &c));
	HR_CHECK(migrate(db, NULL, &c, &err) != 0);
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('items','idx')", "0");
	CHECK_QUERY(db, "SELECT count(*) FROM _collections", "1");
	/* an index on a column that does not exist */
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE,
					     "\"CREATE INDEX idx ON items (nope)\""),
			      &c));
	HR_CHECK(migrate(db, NULL, &c, &err) != 0);
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('items','idx')", "0");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/*
 * Renaming a collection to a case variant of its own name is allowed
 * (§14: names must differ case-insensitively from OTHER collections).
 * SQLite refuses "ALTER TABLE items RENAME TO Items" (table names are
 * case-insensitive), so the table rename must be skipped for such a change.
 */
static void test_migrate_case_only_rename(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection v1, v2, v3;
	HR_REQUIRE(parse_coll(&a, items_json(&a, "items", F_TITLE, ""), &v1));
	HR_REQUIRE(parse_coll(&a, items_json(&a, "Items", F_TITLE, ""), &v2));
	HR_REQUIRE(parse_coll(&a, items_json(&a, "Items",
					     ",{\"id\":\"f_title\",\"name\":\"Title\",\"type\":\"text\"}", ""),
			      &v3));
	HR_REQUIRE(migrate(db, NULL, &v1, &err) == 0);
	HR_REQUIRE(hr_db_exec(db, "INSERT INTO items (id, title) VALUES ('i1','one')", &err) == 0);
	int rc = migrate(db, &v1, &v2, &err);
	HR_CHECKF(rc == 0, "items -> Items: rc=%d %s", rc, err.msg);
	CHECK_QUERY(db, "SELECT name FROM _collections WHERE id = 'pbc_items'", rc == 0 ? "Items" : "items");
	CHECK_QUERY(db, "SELECT title FROM Items", "one");
	/* a case-only field rename works through the temporary names */
	rc = migrate(db, rc == 0 ? &v2 : &v1, &v3, &err);
	HR_CHECKF(rc == 0, "title -> Title: rc=%d %s", rc, err.msg);
	CHECK_QUERY(db, "SELECT name FROM pragma_table_info('items') WHERE cid = 1", rc == 0 ? "Title" : "title");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/*
 * schema.c's header: a view's SELECT is "prepared as a single statement
 * (SQLite refuses a second statement in prepare, and we check the tail)".
 * A view query carrying a second statement must therefore be refused here
 * too, without running it.
 */
static void test_migrate_view_single_statement(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_db_error err = {0};
	hr_collection v;
	HR_REQUIRE(parse_coll(&a,
			      "{\"id\":\"pbc_v\",\"name\":\"v\",\"type\":\"view\","
			      "\"viewQuery\":\"SELECT id FROM _superusers; DROP TABLE _params\","
			      "\"fields\":[{\"id\":\"text3208210256\",\"name\":\"id\",\"type\":\"text\"}]}",
			      &v));
	int rc = hr_schema_migrate(db, NULL, &v, &err); /* autocommit: nothing to roll back */
	HR_CHECKF(rc != 0, "a two-statement view query was accepted");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name = '_params'", "1");
	hr_arena_dispose(&a);
	hr_db_close(db);
}

/* ---- bootstrap ---------------------------------------------------------- */

static void test_bootstrap(void)
{
	hr_db *db = open_db();
	HR_REQUIRE(db);
	hr_db_error err = {0};
	CHECK_QUERY(db, "SELECT id || ':' || name || ':' || type || ':' || system FROM _collections",
		    "pbc_3142635823:_superusers:auth:1");
	CHECK_QUERY(db, "SELECT name FROM pragma_table_info('_superusers') ORDER BY cid",
		    "id|password|tokenKey|email|emailVisibility|verified|created|updated");
	CHECK_QUERY(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_superusers' "
			"AND sql LIKE 'CREATE UNIQUE INDEX%' ORDER BY name",
		    "idx_email_pbc_3142635823|idx_tokenKey_pbc_3142635823");
	CHECK_QUERY(db, "SELECT count(*) FROM sqlite_master WHERE name = '_params'", "1");
	CHECK_QUERY(db, "SELECT coalesce(listRule, 'null') || coalesce(viewRule, 'null') || "
			"coalesce(createRule, 'null') || coalesce(updateRule, 'null') || "
			"coalesce(deleteRule, 'null') FROM _collections",
		    "nullnullnullnullnull");
	char opts1[8192], opts2[8192];
	query_col(db, "SELECT options FROM _collections WHERE id = 'pbc_3142635823'", opts1, sizeof opts1);
	HR_CHECK(strstr(opts1, "\"secret\"") != NULL);
	/* idempotent: a second run changes nothing (no new secrets) */
	HR_CHECK(hr_schema_bootstrap(db, &err) == 0);
	HR_CHECK(hr_schema_bootstrap(db, &err) == 0);
	CHECK_QUERY(db, "SELECT count(*) FROM _collections", "1");
	query_col(db, "SELECT options FROM _collections WHERE id = 'pbc_3142635823'", opts2, sizeof opts2);
	HR_CHECK(strcmp(opts1, opts2) == 0);
	/* records survive a second bootstrap */
	HR_CHECK(hr_db_exec(db, "INSERT INTO _superusers (id, email) VALUES ('s1','a@x.io')", &err) == 0);
	HR_CHECK(hr_schema_bootstrap(db, &err) == 0);
	CHECK_QUERY(db, "SELECT email FROM _superusers", "a@x.io");
	/* the unique email index holds, but only for non-empty emails */
	HR_CHECK(hr_db_exec(db, "INSERT INTO _superusers (id, email) VALUES ('s2','a@x.io')", &err) ==
		 HR_DB_E_UNIQUE);
	HR_CHECK(hr_db_exec(db, "INSERT INTO _superusers (id, email, tokenKey) VALUES ('s3','','k3'), ('s4','','k4')",
			    &err) == 0);
	/* the snapshot */
	hr_schema *s;
	HR_REQUIRE(hr_schema_load(db, 7, &s, &err) == 0);
	const hr_collection *su = hr_schema_find(s, HR_STR("pbc_3142635823"));
	HR_REQUIRE(su);
	HR_CHECK(su == hr_schema_find(s, HR_STR("_superusers")));
	HR_CHECK(su->type == HR_COLL_AUTH && su->system && su->nfields == 8);
	for (int r = HR_RULE_LIST; r <= HR_RULE_DELETE; r++)
		HR_CHECK(!su->rule_set[r]);
	HR_CHECK(su->rule_set[HR_RULE_AUTH] && su->rules[HR_RULE_AUTH].len == 0);
	HR_CHECK(!su->rule_set[HR_RULE_MANAGE]);
	const hr_field *pw = hr_coll_field(su, HR_STR("password"));
	const hr_field *tk = hr_coll_field(su, HR_STR("tokenKey"));
	HR_CHECK(pw && pw->type == HR_FT_PASSWORD && pw->hidden && pw->min == 8);
	HR_CHECK(tk && tk->hidden && tk->min == 30 && tk->max == 60 &&
		 hr_str_eq(tk->autogen, HR_STR("[a-zA-Z0-9]{50}")));
	HR_CHECK(su->indexes.n == 2);
	hr_buf b;
	hr_buf_init(&b, 1 << 20);
	to_json(su, false, &b);
	HR_CHECK(strstr(b.ptr, "\"secret\"") == NULL);
	HR_CHECK(strstr(b.ptr, "{\"id\":\"pbc_3142635823\",\"listRule\":null,") == b.ptr);
	/* §11.1 / §13: _superusers tokens last one day */
	HR_CHECK(strstr(b.ptr, "\"authToken\":{\"duration\":86400}") != NULL);
	hr_buf_dispose(&b);
	hr_schema_free(s);
	hr_db_close(db);
}

/* §11.1 defaults of a new auth collection. */
static void test_default_auth_options(void)
{
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_json *o, *o2;
	HR_REQUIRE(hr_schema_default_auth_options(&a, false, &o) == 0);
	HR_REQUIRE(hr_schema_default_auth_options(&a, false, &o2) == 0);
	HR_REQUIRE(o->type == HR_JSON_OBJECT);
	static const struct {
		const char *key;
		double duration;
	} durs[] = {
		{"authToken", 432000},	   {"passwordResetToken", 1800}, {"emailChangeToken", 1800},
		{"verificationToken", 86400}, {"fileToken", 180},
	};
	for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
		hr_json *t = hr_json_get(o, durs[i].key);
		HR_REQUIRE(t && t->type == HR_JSON_OBJECT);
		hr_json *d = hr_json_get(t, "duration");
		HR_CHECKF(d && d->type == HR_JSON_NUMBER && d->u.n.num == durs[i].duration,
			  "%s.duration = %g, §11.1 says %g", durs[i].key, d ? d->u.n.num : -1,
			  durs[i].duration);
		hr_json *sec = hr_json_get(t, "secret"), *sec2 = hr_json_get(hr_json_get(o2, durs[i].key), "secret");
		HR_CHECKF(sec && sec->type == HR_JSON_STRING && sec->u.str.len >= 30 && sec->u.str.len <= 255,
			  "%s.secret", durs[i].key);
		HR_CHECK(sec && sec2 && !hr_str_eq(sec->u.str, sec2->u.str)); /* fresh each time */
	}
	hr_json *pa = hr_json_get(o, "passwordAuth");
	HR_CHECK(pa && hr_json_get(pa, "enabled") && hr_json_get(pa, "enabled")->type == HR_JSON_TRUE);
	hr_json *idf = pa ? hr_json_get(pa, "identityFields") : NULL;
	HR_CHECK(idf && idf->type == HR_JSON_ARRAY && idf->u.arr.len == 1 &&
		 hr_str_eq(idf->u.arr.items[0]->u.str, HR_STR("email")));
	hr_json *mfa = hr_json_get(o, "mfa");
	HR_CHECK(mfa && hr_json_get(mfa, "enabled")->type == HR_JSON_FALSE);
	HR_CHECKF(mfa && hr_json_get(mfa, "duration")->u.n.num == 600, "mfa.duration = %g, §11.1 says 600",
		  mfa ? hr_json_get(mfa, "duration")->u.n.num : -1);
	hr_json *otp = hr_json_get(o, "otp");
	HR_CHECK(otp && hr_json_get(otp, "enabled")->type == HR_JSON_FALSE &&
		 hr_json_get(otp, "duration")->u.n.num == 180 && hr_json_get(otp, "length")->u.n.num == 8);
	hr_json *oa = hr_json_get(o, "oauth2");
	HR_CHECK(oa && hr_json_get(oa, "enabled")->type == HR_JSON_FALSE);
	hr_json *al = hr_json_get(o, "authAlert");
	HR_CHECK(al && hr_json_get(al, "enabled")->type == HR_JSON_TRUE);
	HR_REQUIRE(hr_schema_default_auth_options(&a, true, &o) == 0);
	HR_CHECK(hr_json_get(hr_json_get(o, "authToken"), "duration")->u.n.num == 86400);
	hr_arena_dispose(&a);
}

static const hr_test_case cases[] = {
	{"names_and_types", test_names_and_types},
	{"json_round_trip", test_json_round_trip},
	{"field_keys_sorted", test_field_keys_sorted},
	{"field_defaults", test_field_defaults},
	{"json_type_errors", test_json_type_errors},
	{"auth_and_view_through_storage", test_auth_and_view_through_storage},
	{"index_normalize", test_index_normalize},
	{"migrate_fields", test_migrate_fields},
	{"migrate_single_multi", test_migrate_single_multi},
	{"migrate_unique_failure_rolls_back", test_migrate_unique_failure_rolls_back},
	{"migrate_bad_index", test_migrate_bad_index},
	{"migrate_case_only_rename", test_migrate_case_only_rename},
	{"migrate_view_single_statement", test_migrate_view_single_statement},
	{"bootstrap", test_bootstrap},
	{"default_auth_options", test_default_auth_options},
};

HR_TEST_MAIN(cases)

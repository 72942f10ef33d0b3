/*
 * tests/unit/api/body_test.c - request bodies into one JSON object
 * (src/api/body.c, DIALECT.md §1.2).
 *
 * Two tables. The inference table maps one form value to the JSON it
 * becomes (the §1.2 rows and the edges of the "prints back" rule). The
 * body table gives a Content-Type, a body, and either the status or the
 * object written compactly plus a dump of the files ("field|filename|
 * type|data" joined by ";"). Every body row runs in a guarded buffer;
 * failures must leave the output untouched. Beside them: the 10 000-level
 * depth bound, the part limit and out-of-memory at every allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/body.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "harness/unit.h"

#define LIT(s) s, sizeof(s) - 1

typedef struct env {
	char first[1024];
	hr_arena a;
} env;

static void env_init(env *e)
{
	hr_arena_init(&e->a, e->first, sizeof e->first, (size_t)256 << 20);
}

/* ---- inference ---------------------------------------------------------- */

typedef struct infer_case {
	const char *in;
	const char *json; /* hr_json_write of the result */
} infer_case;

static const infer_case infer_cases[] = {
	/* §1.2 rows */
	{"", "\"\""},
	{"true", "true"},
	{"false", "false"},
	{"12", "12"},
	{"-1.5", "-1.5"},
	{"012", "\"012\""},
	{"1.0", "\"1.0\""},
	{"1e3", "\"1e3\""},
	{"hello", "\"hello\""},
	/* booleans are exact */
	{"True", "\"True\""},
	{"TRUE", "\"TRUE\""},
	{"t", "\"t\""},
	{"1 ", "\"1 \""},
	{" true", "\" true\""},
	/* canonical numbers */
	{"0", "0"},
	{"-0", "-0"},
	{"1.5", "1.5"},
	{"0.1", "0.1"},
	{"123.456", "123.456"},
	{"-123456789", "-123456789"},
	{"9007199254740992", "9007199254740992"},
	{"0.000001", "0.000001"},
	{"100000000000000000000", "100000000000000000000"},
	/* FormatFloat 'f' layout: plain even where JSON uses exponents */
	{"1000000000000000000000", "1e+21"},
	{"0.0000001", "1e-7"},
	{"-0.00000015", "-1.5e-7"},
	/* not canonical */
	{"-01", "\"-01\""},
	{"00", "\"00\""},
	{"0.10", "\"0.10\""},
	{"-0.0", "\"-0.0\""},
	{"1.", "\"1.\""},
	{".5", "\".5\""},
	{"-.5", "\"-.5\""},
	{"+1", "\"+1\""},
	{"-", "\"-\""},
	{"--1", "\"--1\""},
	{"1-2", "\"1-2\""},
	{"1.5.2", "\"1.5.2\""},
	{"1,5", "\"1,5\""},
	{"0x10", "\"0x10\""},
	{"12a", "\"12a\""},
	{"NaN", "\"NaN\""},
	{"Infinity", "\"Infinity\""},
	{"-Infinity", "\"-Infinity\""},
	{"1E3", "\"1E3\""},
	{"9007199254740993", "\"9007199254740993\""},
	{"0.1000000000000000055511151231257827", "\"0.1000000000000000055511151231257827\""},
	{"0.30000000000000004", "0.30000000000000004"},
	{"0.3000000000000000", "\"0.3000000000000000\""},
};

static void write_json(const hr_json *v, char *o, size_t cap)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_json_write(&b, v);
	snprintf(o, cap, "%.*s", (int)b.len, b.err ? "(error)" : b.ptr ? b.ptr : "");
	hr_buf_dispose(&b);
}

static void test_infer_table(void)
{
	char got[512];
	for (size_t i = 0; i < HR_ARRAY_LEN(infer_cases); i++) {
		const infer_case *c = &infer_cases[i];
		env e;
		env_init(&e);
		size_t n = strlen(c->in);
		char *g = hr_test_guard_copy(c->in, n);
		hr_json *v = hr_body_infer(&e.a, hr_str_make(g, n));
		HR_REQUIRE(v);
		write_json(v, got, sizeof got);
		HR_CHECKF(strcmp(got, c->json) == 0, "\"%s\": got %s want %s", c->in, got, c->json);
		hr_test_guard_free(g, n);
		hr_arena_dispose(&e.a);
	}
}

/* Long digit runs: out of range, underflow, longest plain doubles. */
static void test_infer_long(void)
{
	env e;
	env_init(&e);
	char buf[1200];
	char got[1400];
	/* 1 followed by 400 zeros: out of range -> string. */
	buf[0] = '1';
	memset(buf + 1, '0', 400);
	hr_json *v = hr_body_infer(&e.a, hr_str_make(buf, 401));
	HR_CHECK(v && v->type == HR_JSON_STRING && v->u.str.len == 401);
	/* 5e-324 in plain notation is canonical: "0." + 323 zeros + "5". */
	memcpy(buf, "0.", 2);
	memset(buf + 2, '0', 323);
	buf[325] = '5';
	v = hr_body_infer(&e.a, hr_str_make(buf, 326));
	HR_REQUIRE(v);
	write_json(v, got, sizeof got);
	HR_CHECKF(strcmp(got, "5e-324") == 0, "got %s", got);
	/* ...and its negative, the longest of all. */
	memmove(buf + 1, buf, 326);
	buf[0] = '-';
	v = hr_body_infer(&e.a, hr_str_make(buf, 327));
	HR_REQUIRE(v);
	write_json(v, got, sizeof got);
	HR_CHECKF(strcmp(got, "-5e-324") == 0, "got %s", got);
	/* Underflow to zero: not canonical. */
	memcpy(buf, "0.", 2);
	memset(buf + 2, '0', 400);
	buf[402] = '1';
	v = hr_body_infer(&e.a, hr_str_make(buf, 403));
	HR_CHECK(v && v->type == HR_JSON_STRING);
	/* Largest double: its exact 309-digit expansion is not what 'f', -1
	 * prints (shortest digits, then zeros), so it stays a string... */
	static const char maxd[] =
		"1797693134862315708145274237317043567980705675258449965989174768031572607800285"
		"3876058955863276687817154045895351438246423432132688946418276846754670353751698"
		"6049910576551282076245490090389328944075868508455133942304583236903222948165808"
		"559332123348274797826204144723168738177180919299881250404026184124858368";
	v = hr_body_infer(&e.a, hr_str_make(maxd, sizeof maxd - 1));
	HR_CHECK(v && v->type == HR_JSON_STRING);
	/* ...while "17976931348623157" + 292 zeros is a number. */
	memcpy(buf, "17976931348623157", 17);
	memset(buf + 17, '0', 292);
	v = hr_body_infer(&e.a, hr_str_make(buf, 309));
	HR_REQUIRE(v);
	write_json(v, got, sizeof got);
	HR_CHECKF(strcmp(got, "1.7976931348623157e+308") == 0, "got %s", got);
	/* A huge non-number is a string without trouble. */
	static char huge[1 << 20];
	memset(huge, '7', sizeof huge);
	v = hr_body_infer(&e.a, hr_str_make(huge, sizeof huge));
	HR_CHECK(v && v->type == HR_JSON_STRING && v->u.str.ptr == huge);
	hr_arena_dispose(&e.a);
}

/* ---- bodies ------------------------------------------------------------- */

typedef struct body_case {
	const char *label;
	const char *ct;
	const char *body;
	size_t len;
	int rc;
	const char *obj;   /* compact JSON when rc == HR_BODY_OK */
	const char *files; /* dump; NULL = none */
	unsigned depth;	   /* 0: 10000 */
} body_case;

#define OK(o, ...) .rc = HR_BODY_OK, .obj = (o), __VA_ARGS__
#define ST(s) .rc = HR_BODY_##s
#define MP "multipart/form-data; boundary=X"
#define UE "application/x-www-form-urlencoded"
#define CD(n) "Content-Disposition: form-data; name=\"" n "\"\r\n"
#define PART(n, v) "--X\r\n" CD(n) "\r\n" v "\r\n"
#define FILEPART(n, f, t, v) \
	"--X\r\nContent-Disposition: form-data; name=\"" n "\"; filename=\"" f "\"\r\nContent-Type: " t "\r\n\r\n" v "\r\n"

static const body_case cases[] = {
	/* --- empty bodies --------------------------------------------------- */
	{"empty_json", "application/json", LIT(""), OK("{}", .files = NULL)},
	{"empty_no_type", "", LIT(""), OK("{}", .files = NULL)},
	{"empty_text_plain", "text/plain", LIT(""), OK("{}", .files = NULL)},
	{"empty_multipart_no_boundary", "multipart/form-data", LIT(""), OK("{}", .files = NULL)},
	/* --- JSON --------------------------------------------------------------- */
	{"json_object", "application/json", LIT("{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}"),
	 OK("{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}", .files = NULL)},
	{"json_charset", "application/json; charset=utf-8", LIT(" {\"a\":\"x\"} "),
	 OK("{\"a\":\"x\"}", .files = NULL)},
	{"json_upper", "APPLICATION/JSON", LIT("{}"), OK("{}", .files = NULL)},
	{"json_leading_ows", " \tapplication/json", LIT("{}"), OK("{}", .files = NULL)},
	{"json_prefix_match", "application/json-patch+json", LIT("{\"a\":1}"),
	 OK("{\"a\":1}", .files = NULL)},
	{"json_numbers_kept_as_sent", "application/json", LIT("{\"n\":1.50,\"big\":12345678901234567890}"),
	 OK("{\"n\":1.50,\"big\":12345678901234567890}", .files = NULL)},
	{"json_duplicate_key_last_wins", "application/json", LIT("{\"a\":1,\"b\":2,\"a\":3}"),
	 OK("{\"a\":3,\"b\":2}", .files = NULL)},
	{"json_array", "application/json", LIT("[1,2]"), ST(BAD_JSON)},
	{"json_string", "application/json", LIT("\"s\""), ST(BAD_JSON)},
	{"json_number", "application/json", LIT("1"), ST(BAD_JSON)},
	{"json_null", "application/json", LIT("null"), ST(BAD_JSON)},
	{"json_whitespace", "application/json", LIT("  "), ST(BAD_JSON)},
	{"json_truncated", "application/json", LIT("{\"a\":"), ST(BAD_JSON)},
	{"json_trailing", "application/json", LIT("{\"a\":1} x"), ST(BAD_JSON)},
	{"json_two_values", "application/json", LIT("{}{}"), ST(BAD_JSON)},
	{"json_bad_utf8", "application/json", LIT("{\"a\":\"\xff\"}"), ST(BAD_JSON)},
	{"json_depth_param", "application/json", LIT("{\"a\":{\"b\":{}}}"), ST(TOO_DEEP), .depth = 2},
	{"json_depth_exact", "application/json", LIT("{\"a\":{\"b\":{}}}"),
	 OK("{\"a\":{\"b\":{}}}", .files = NULL), .depth = 3},
	/* --- other types ------------------------------------------------------ */
	{"text_plain", "text/plain", LIT("hello"), ST(UNSUPPORTED)},
	{"no_type", "", LIT("{}"), ST(UNSUPPORTED)},
	{"text_xml", "text/xml", LIT("<a/>"), ST(UNSUPPORTED)},
	{"application_xml", "application/xml", LIT("<a/>"), ST(UNSUPPORTED)},
	{"octet_stream", "application/octet-stream", LIT("\x00\x01"), ST(UNSUPPORTED)},
	{"json_not_prefix", "text/application/json", LIT("{}"), ST(UNSUPPORTED)},
	/* --- multipart ------------------------------------------------------------ */
	{"sdk_example_dialect_8_3", MP,
	 LIT(PART("title", "Hello") PART("@jsonPayload", "{\"meta\":{\"tags\":[\"a\",\"b\"]}}")
	     FILEPART("cover", "My Photo.PNG", "image/png", "<bytes>") "--X--\r\n"),
	 OK("{\"title\":\"Hello\",\"meta\":{\"tags\":[\"a\",\"b\"]}}",
	    .files = "cover|My Photo.PNG|image/png|<bytes>")},
	{"mp_inference", MP,
	 LIT(PART("a", "12") PART("b", "true") PART("c", "012") PART("d", "") PART("e", "-1.5")
	     PART("f", "false") PART("g", "1e3") "--X--"),
	 OK("{\"a\":12,\"b\":true,\"c\":\"012\",\"d\":\"\",\"e\":-1.5,\"f\":false,\"g\":\"1e3\"}",
	    .files = NULL)},
	{"mp_repeated_keys", MP,
	 LIT(PART("a", "1") PART("b", "x") PART("a", "two") PART("a", "true") "--X--"),
	 OK("{\"a\":[1,\"two\",true],\"b\":\"x\"}", .files = NULL)},
	{"mp_payload_merge_order", MP,
	 LIT(PART("a", "1") PART("@jsonPayload", "{\"a\":2,\"b\":1}") PART("b", "3")
	     PART("@jsonPayload", "{\"b\":\"last\",\"c\":[1]}") "--X--"),
	 OK("{\"a\":2,\"b\":\"last\",\"c\":[1]}", .files = NULL)},
	{"mp_payload_replaces_array", MP,
	 LIT(PART("t", "1") PART("t", "2") PART("@jsonPayload", "{\"t\":[\"x\"]}") "--X--"),
	 OK("{\"t\":[\"x\"]}", .files = NULL)},
	{"mp_payload_no_deep_merge", MP,
	 LIT(PART("@jsonPayload", "{\"m\":{\"a\":1,\"b\":2}}") PART("@jsonPayload", "{\"m\":{\"c\":3}}")
	     "--X--"),
	 OK("{\"m\":{\"c\":3}}", .files = NULL)},
	{"mp_payload_first_only", MP, LIT(PART("@jsonPayload", "{\"x\":null,\"y\":{}}") "--X--"),
	 OK("{\"x\":null,\"y\":{}}", .files = NULL)},
	{"mp_payload_empty_object", MP, LIT(PART("a", "1") PART("@jsonPayload", "{}") "--X--"),
	 OK("{\"a\":1}", .files = NULL)},
	{"mp_payload_array", MP, LIT(PART("@jsonPayload", "[1]") "--X--"), ST(BAD_JSON)},
	{"mp_payload_null", MP, LIT(PART("@jsonPayload", "null") "--X--"), ST(BAD_JSON)},
	{"mp_payload_scalar", MP, LIT(PART("@jsonPayload", "\"s\"") "--X--"), ST(BAD_JSON)},
	{"mp_payload_empty", MP, LIT(PART("@jsonPayload", "") "--X--"), ST(BAD_JSON)},
	{"mp_payload_invalid", MP, LIT(PART("a", "1") PART("@jsonPayload", "{a:1}") "--X--"),
	 ST(BAD_JSON)},
	{"mp_payload_too_deep", MP, LIT(PART("@jsonPayload", "{\"a\":[[1]]}") "--X--"), ST(TOO_DEEP),
	 .depth = 2},
	{"mp_payload_case_sensitive", MP, LIT(PART("@JSONPAYLOAD", "{\"a\":1}") "--X--"),
	 OK("{\"@JSONPAYLOAD\":\"{\\\"a\\\":1}\"}", .files = NULL)},
	{"mp_payload_as_file_is_a_file", MP,
	 LIT(FILEPART("@jsonPayload", "p.json", "application/json", "{\"a\":1}") "--X--"),
	 OK("{}", .files = "@jsonPayload|p.json|application/json|{\"a\":1}")},
	{"mp_files_not_in_object", MP,
	 LIT(PART("avatar", "old.png") FILEPART("avatar", "new.png", "image/png", "PNG")
	     FILEPART("docs+", "a.txt", "text/plain", "A") FILEPART("docs+", "b.txt", "text/plain", "B")
	     "--X--"),
	 OK("{\"avatar\":\"old.png\"}",
	    .files = "avatar|new.png|image/png|PNG;docs+|a.txt|text/plain|A;docs+|b.txt|text/plain|B")},
	{"mp_empty_filename_is_text", MP,
	 LIT(FILEPART("f", "", "application/octet-stream", "") "--X--"), OK("{\"f\":\"\"}", .files = NULL)},
	{"mp_file_without_type", MP,
	 LIT("--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nxyz\r\n--X--"),
	 OK("{}", .files = "f|a||xyz")},
	{"mp_zero_parts", MP, LIT("--X--"), OK("{}", .files = NULL)},
	{"mp_type_case", "Multipart/Form-Data; boundary=\"X\"", LIT(PART("a", "b") "--X--"),
	 OK("{\"a\":\"b\"}", .files = NULL)},
	{"mp_no_boundary", "multipart/form-data", LIT(PART("a", "b") "--X--"), ST(BAD_FORM)},
	{"mp_bad_boundary", "multipart/form-data; boundary=\"a b \"", LIT(PART("a", "b") "--X--"),
	 ST(BAD_FORM)},
	{"mp_wrong_boundary", "multipart/form-data; boundary=Y", LIT(PART("a", "b") "--X--"),
	 ST(BAD_FORM)},
	{"mp_no_close", MP, LIT(PART("a", "b")), ST(BAD_FORM)},
	{"mp_lf_only", MP, LIT("--X\nContent-Disposition: form-data; name=\"a\"\n\nb\n--X--"),
	 ST(BAD_FORM)},
	{"mp_no_name", MP, LIT("--X\r\nContent-Disposition: form-data\r\n\r\nb\r\n--X--"), ST(BAD_FORM)},
	/* --- urlencoded ------------------------------------------------------------ */
	{"ue_inference", UE, LIT("a=1&b=true&c=hello+world&d=&e=012&f=%2D2"),
	 OK("{\"a\":1,\"b\":true,\"c\":\"hello world\",\"d\":\"\",\"e\":\"012\",\"f\":-2}",
	    .files = NULL)},
	{"ue_charset", UE "; charset=UTF-8", LIT("a=x"), OK("{\"a\":\"x\"}", .files = NULL)},
	{"ue_repeated", UE, LIT("a=1&a=2&b&a=x"), OK("{\"a\":[1,2,\"x\"],\"b\":\"\"}", .files = NULL)},
	{"ue_payload", UE, LIT("%40jsonPayload=%7B%22a%22%3A%5B1%5D%7D&a=x&z=1"),
	 OK("{\"a\":[1],\"z\":1}", .files = NULL)},
	{"ue_payload_bad", UE, LIT("@jsonPayload=[1]"), ST(BAD_JSON)},
	{"ue_bad_escape", UE, LIT("a=%zz"), ST(BAD_FORM)},
	{"ue_semicolon", UE, LIT("a=1;b=2"), ST(BAD_FORM)},
	{"ue_only_separators", UE, LIT("&&"), OK("{}", .files = NULL)},
	{"ue_utf8_and_nul", UE, LIT("k=%C3%A9%00"), OK("{\"k\":\"\xc3\xa9\\u0000\"}", .files = NULL)},
};

static void dump_files(const hr_body *b, char *o, size_t cap)
{
	size_t k = 0;
	o[0] = '\0';
	for (unsigned i = 0; i < b->nfiles && k < cap; i++) {
		const hr_body_file *f = &b->files[i];
		k += (size_t)snprintf(o + k, cap - k, "%s%.*s|%.*s|%.*s|%.*s", i ? ";" : "",
				      (int)f->field.len, f->field.ptr, (int)f->filename.len,
				      f->filename.ptr, (int)f->content_type.len, f->content_type.ptr,
				      (int)f->data.len, f->data.ptr);
	}
}

static void test_body_table(void)
{
	char got[2048], files[1024];
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		const body_case *c = &cases[i];
		env e;
		env_init(&e);
		char *g = hr_test_guard_copy(c->body, c->len);
		size_t ctl = strlen(c->ct);
		char *gct = hr_test_guard_copy(c->ct, ctl);
		hr_body out = {(hr_json *)&e, (hr_body_file *)&e, 4242};
		int rc = hr_body_read(&e.a, hr_str_make(gct, ctl), hr_str_make(g, c->len),
				      c->depth ? c->depth : 10000, &out);
		HR_CHECKF(rc == c->rc, "%s: rc %d want %d", c->label, rc, c->rc);
		if (rc != HR_BODY_OK) {
			HR_CHECKF(out.obj == (hr_json *)&e && out.nfiles == 4242, "%s: output changed",
				  c->label);
		} else if (c->rc == HR_BODY_OK) {
			HR_REQUIRE(out.obj && out.obj->type == HR_JSON_OBJECT);
			write_json(out.obj, got, sizeof got);
			HR_CHECKF(strcmp(got, c->obj) == 0, "%s:\n     got  %s\n     want %s", c->label, got,
				  c->obj);
			dump_files(&out, files, sizeof files);
			const char *want = c->files ? c->files : "";
			HR_CHECKF(strcmp(files, want) == 0, "%s: files %s want %s", c->label, files, want);
			HR_CHECK(out.nfiles == 0 || out.files != NULL);
		}
		hr_test_guard_free(g, c->len);
		hr_test_guard_free(gct, ctl);
		hr_arena_dispose(&e.a);
	}
}

/* ---- limits --------------------------------------------------------------- */

static char *nested(unsigned levels, size_t *len)
{
	/* {"a": [[[ ... ]]] } with `levels` containers in all */
	size_t n = 6 + 2 * (levels - 1) + 1;
	char *s = malloc(n + 1);
	size_t k = 0;
	memcpy(s, "{\"a\":", 5);
	k = 5;
	for (unsigned i = 1; i < levels; i++)
		s[k++] = '[';
	for (unsigned i = 1; i < levels; i++)
		s[k++] = ']';
	s[k++] = '}';
	*len = k;
	return s;
}

static void test_depth_10000(void)
{
	size_t n;
	env e;
	env_init(&e);
	hr_body out;
	char *ok = nested(10000, &n);
	HR_CHECK(hr_body_read(&e.a, HR_STR("application/json"), hr_str_make(ok, n), 10000, &out) ==
		 HR_BODY_OK);
	free(ok);
	char *deep = nested(10001, &n);
	HR_CHECK(hr_body_read(&e.a, HR_STR("application/json"), hr_str_make(deep, n), 10000, &out) ==
		 HR_BODY_TOO_DEEP);
	free(deep);
	/* A million levels: refused without a deep stack. */
	char *huge = malloc(1000006);
	memcpy(huge, "{\"a\":", 5);
	memset(huge + 5, '[', 1000000);
	huge[1000005] = ']';
	HR_CHECK(hr_body_read(&e.a, HR_STR("application/json"), hr_str_make(huge, 1000006), 10000,
			      &out) == HR_BODY_TOO_DEEP);
	free(huge);
	/* The same bound inside @jsonPayload. */
	static const char head[] = "--X\r\n" CD("@jsonPayload") "\r\n";
	char *p = nested(10001, &n);
	size_t blen = sizeof head - 1 + n + 9;
	char *body = malloc(blen);
	memcpy(body, head, sizeof head - 1);
	memcpy(body + sizeof head - 1, p, n);
	memcpy(body + sizeof head - 1 + n, "\r\n--X--\r\n", 9);
	HR_CHECK(hr_body_read(&e.a, HR_STR(MP), hr_str_make(body, blen), 10000, &out) ==
		 HR_BODY_TOO_DEEP);
	free(p);
	free(body);
	hr_arena_dispose(&e.a);
}

static void test_part_limit(void)
{
	static char body[256 * 1024];
	size_t k = 0;
	for (int i = 0; i < HR_BODY_MAX_PARTS; i++)
		k += (size_t)sprintf(body + k, PART("k", "%d"), i % 7);
	size_t at_limit = k;
	memcpy(body + k, "--X--", 5);
	env e;
	env_init(&e);
	hr_body out;
	HR_REQUIRE(hr_body_read(&e.a, HR_STR(MP), hr_str_make(body, at_limit + 5), 10000, &out) ==
		   HR_BODY_OK);
	hr_json *arr = hr_json_get(out.obj, "k");
	HR_CHECK(arr && arr->type == HR_JSON_ARRAY && arr->u.arr.len == HR_BODY_MAX_PARTS);
	k = at_limit + (size_t)sprintf(body + at_limit, PART("x", "1") "--X--");
	HR_CHECK(hr_body_read(&e.a, HR_STR(MP), hr_str_make(body, k), 10000, &out) == HR_BODY_BAD_FORM);
	/* Urlencoded: many distinct keys through the hash. */
	k = 0;
	for (int i = 0; i < HR_BODY_MAX_PAIRS; i++)
		k += (size_t)sprintf(body + k, "%sk%d=%d", i ? "&" : "", i, i);
	HR_REQUIRE(hr_body_read(&e.a, HR_STR(UE), hr_str_make(body, k), 10000, &out) == HR_BODY_OK);
	HR_CHECK(out.obj->u.obj.len == HR_BODY_MAX_PAIRS);
	hr_json *v = hr_json_get(out.obj, "k9999");
	HR_CHECK(v && v->type == HR_JSON_NUMBER && v->u.n.num == 9999);
	HR_CHECK(hr_str_eq_lit(out.obj->u.obj.members[0].key, "k0"));
	k += (size_t)sprintf(body + k, "&one=more");
	HR_CHECK(hr_body_read(&e.a, HR_STR(UE), hr_str_make(body, k), 10000, &out) == HR_BODY_BAD_FORM);
	hr_arena_dispose(&e.a);
}

/* The result borrows the body (no copies of values or files). */
static void test_borrows_body(void)
{
	static const char body[] = PART("t", "hello") FILEPART("f", "a.bin", "x/y", "DATA") "--X--";
	env e;
	env_init(&e);
	hr_body out;
	HR_REQUIRE(hr_body_read(&e.a, HR_STR(MP), hr_str_make(body, sizeof body - 1), 10000, &out) ==
		   HR_BODY_OK);
	hr_json *t = hr_json_get(out.obj, "t");
	HR_CHECK(t && t->u.str.ptr >= body && t->u.str.ptr < body + sizeof body);
	HR_CHECK(out.nfiles == 1 && out.files[0].data.ptr >= body &&
		 out.files[0].data.ptr < body + sizeof body);
	hr_arena_dispose(&e.a);
}

static void test_oom_every_allocation(void)
{
	static const struct {
		const char *ct, *body;
	} in[] = {
		{MP, PART("a", "1") PART("a", "2") PART("@jsonPayload", "{\"b\":[1,2],\"a\":0}")
			     FILEPART("f", "n", "t", "d") "--X--"},
		{UE, "a=1&a=2&b=x&%40jsonPayload=%7B%22c%22%3A1%7D"},
		{"application/json", "{\"a\":[1,2,{\"b\":null}]}"},
		{"text/plain", ""},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(in); i++) {
		char want[512] = "";
		bool done = false;
		for (long k = 0; k < 200 && !done; k++) {
			char small[16];
			hr_arena a;
			hr_arena_init(&a, small, sizeof small, 1 << 20);
			a.fail_after = k;
			hr_body out;
			int rc = hr_body_read(&a, hr_str_make(in[i].ct, strlen(in[i].ct)),
					      hr_str_make(in[i].body, strlen(in[i].body)), 10000, &out);
			HR_CHECKF(rc == HR_BODY_OK || rc == HR_BODY_NOMEM, "input %zu fail_after %ld: %d",
				  i, k, rc);
			if (rc == HR_BODY_OK) {
				write_json(out.obj, want, sizeof want);
				done = true;
			}
			hr_arena_dispose(&a);
		}
		HR_CHECKF(done, "input %zu never succeeded", i);
		if (i == 0)
			HR_CHECKF(strcmp(want, "{\"a\":0,\"b\":[1,2]}") == 0, "got %s", want);
	}
}

static const hr_test_case tests[] = {
	{"infer_table", test_infer_table},
	{"infer_long", test_infer_long},
	{"body_table", test_body_table},
	{"depth_10000", test_depth_10000},
	{"part_limit", test_part_limit},
	{"borrows_body", test_borrows_body},
	{"oom_every_allocation", test_oom_every_allocation},
};

HR_TEST_MAIN(tests)

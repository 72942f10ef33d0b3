/*
 * Unit tests of src/core/json.c: the reader (valid and invalid documents
 * with error offsets, escapes, surrogates, UTF-8, numbers, depth limits,
 * duplicate keys), hr_json_valid agreeing with it, every prefix of every
 * document read up to a guard page, allocation failure at every step, the
 * writers (Go's number formatting and string escaping), sorted output and
 * parse -> write -> parse round trips.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "harness/unit.h"

#define DEPTH 10000u

/* Each case runs in its own process; one arena per process is enough. */
static char arena_mem[8192];

static void arena_open(hr_arena *a)
{
	hr_arena_init(a, arena_mem, sizeof arena_mem, 0);
}

static bool same_double(double x, double y)
{
	return memcmp(&x, &y, sizeof x) == 0;
}

/* Deep equality; ordered says whether object member order must match. */
static bool tree_eq(const hr_json *x, const hr_json *y, bool ordered)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case HR_JSON_NUMBER:
		return same_double(x->u.n.num, y->u.n.num);
	case HR_JSON_STRING:
		return hr_str_eq(x->u.str, y->u.str);
	case HR_JSON_ARRAY:
		if (x->u.arr.len != y->u.arr.len)
			return false;
		for (size_t i = 0; i < x->u.arr.len; i++)
			if (!tree_eq(x->u.arr.items[i], y->u.arr.items[i], ordered))
				return false;
		return true;
	case HR_JSON_OBJECT:
		if (x->u.obj.len != y->u.obj.len)
			return false;
		for (size_t i = 0; i < x->u.obj.len; i++) {
			const hr_json_member *m = &x->u.obj.members[i];
			const hr_json *yv;
			if (ordered) {
				if (!hr_str_eq(m->key, y->u.obj.members[i].key))
					return false;
				yv = y->u.obj.members[i].value;
			} else {
				yv = hr_json_get_str(y, m->key);
				if (!yv)
					return false;
			}
			if (!tree_eq(m->value, yv, ordered))
				return false;
		}
		return true;
	default:
		return true;
	}
}

static int parse(hr_arena *a, const char *s, size_t n, unsigned depth, hr_json **out,
		 hr_json_error *err)
{
	return hr_json_parse(a, s, n, depth, out, err);
}

/* ---- valid documents: parse, then compact write must give `out` ---- */

typedef struct valid_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *out;
} valid_case;

static const valid_case valid_cases[] = {
	{"null", "null", 0, "null"},
	{"true", "true", 0, "true"},
	{"false", " false ", 0, "false"},
	{"zero", "0", 0, "0"},
	{"neg_zero", "-0", 0, "-0"},
	{"neg_zero_frac", "-0.0", 0, "-0.0"},
	{"int", "123", 0, "123"},
	{"frac", "1.5", 0, "1.5"},
	{"exp", "1E+2", 0, "1E+2"},
	{"neg_exp", "-1.25e-3", 0, "-1.25e-3"},
	{"big_int", "12345678901234567890", 0, "12345678901234567890"},
	{"huge_exp_ok", "1.7976931348623157e308", 0, "1.7976931348623157e308"},
	{"underflow", "1e-400", 0, "1e-400"},
	{"empty_string", "\"\"", 0, "\"\""},
	{"string", "\"hello\"", 0, "\"hello\""},
	{"long_string", "\"abcdefghijklmnopqrstuvwxyz0123456789\"", 0,
	 "\"abcdefghijklmnopqrstuvwxyz0123456789\""},
	{"empty_array", "[]", 0, "[]"},
	{"empty_object", "{}", 0, "{}"},
	{"ws_everywhere", " \t\r\n[ 1 , 2 ,\n3 ] \n", 0, "[1,2,3]"},
	{"ws_object", "{ \"a\" : 1 , \"b\" : [ ] , \"c\" : { } }", 0,
	 "{\"a\":1,\"b\":[],\"c\":{}}"},
	{"nested", "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],[[]]]}", 0,
	 "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],[[]]]}"},
	{"all_types", "[null,true,false,0,-1.5e3,\"s\",[],{}]", 0,
	 "[null,true,false,0,-1.5e3,\"s\",[],{}]"},
	{"simple_escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 0, "\"\\\"\\\\/\\b\\f\\n\\r\\t\""},
	{"u_escape_ascii", "\"\\u0041\\u007a\"", 0, "\"Az\""},
	{"u_escape_2byte", "\"\\u00e9\\u00E9\"", 0, "\"\xC3\xA9\xC3\xA9\""},
	{"u_escape_3byte", "\"\\u20ac\"", 0, "\"\xE2\x82\xAC\""},
	{"surrogate_pair", "\"\\ud83d\\ude00\"", 0, "\"\xF0\x9F\x98\x80\""},
	{"surrogate_max", "\"\\udbff\\udfff\"", 0, "\"\xF4\x8F\xBF\xBF\""},
	{"lone_high", "\"\\ud800\"", 0, "\"\xEF\xBF\xBD\""},
	{"lone_low", "\"\\udc00x\"", 0, "\"\xEF\xBF\xBDx\""},
	{"high_high", "\"\\ud800\\ud800\"", 0, "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
	{"high_then_char", "\"\\ud800\\u0041\"", 0, "\"\xEF\xBF\xBD" "A\""},
	{"low_high", "\"\\udc00\\ud800\\udc00\"", 0, "\"\xEF\xBF\xBD\xF0\x90\x80\x80\""},
	{"nul_escape", "\"a\\u0000b\"", 0, "\"a\\u0000b\""},
	{"utf8_raw", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\xEF\xBF\xBD\"", 0,
	 "\"\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\xEF\xBF\xBD\""},
	{"utf8_edges", "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"",
	 0, "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\""},
	{"u2028_raw", "\"\xE2\x80\xA8\xE2\x80\xA9\"", 0, "\"\\u2028\\u2029\""},
	{"html_chars", "\"<a href='x'>&amp;</a>\"", 0, "\"<a href='x'>&amp;</a>\""},
	{"del_byte", "\"\x7F\"", 0, "\"\x7F\""},
	{"escaped_key", "{\"k\\u00e9y\":1}", 0, "{\"k\xC3\xA9y\":1}"},
	{"dup_keys", "{\"a\":1,\"b\":2,\"a\":3}", 0, "{\"a\":3,\"b\":2}"},
	{"dup_tag_collision", "{\"axbya\":1,\"azbwa\":2,\"axbya\":3,\"azbwa\":4,\"a\":5}", 0,
	 "{\"axbya\":3,\"azbwa\":4,\"a\":5}"},
	{"dup_escaped_key", "{\"a\":1,\"\\u0061\":2}", 0, "{\"a\":2}"},
	{"dup_nested", "{\"x\":{\"a\":1,\"a\":{\"a\":2,\"a\":3}},\"x\":[{\"a\":4,\"a\":5}]}", 0,
	 "{\"x\":[{\"a\":5}]}"},
	{"empty_key", "{\"\":0}", 0, "{\"\":0}"},
	{"long_key_with_swar", "{\"abcdefghijklmnopqrstu\\nvwxyz\":\"0123456789abcdef\\t\"}", 0,
	 "{\"abcdefghijklmnopqrstu\\nvwxyz\":\"0123456789abcdef\\t\"}"},
	{"record_body",
	 "{\"title\":\"Hello, world\",\"views\":42,\"price\":19.99,\"tags\":[\"a\",\"b\"],"
	 "\"meta\":{\"ok\":true,\"n\":null},\"when\":\"2026-03-04 09:15:02.123Z\"}",
	 0,
	 "{\"title\":\"Hello, world\",\"views\":42,\"price\":19.99,\"tags\":[\"a\",\"b\"],"
	 "\"meta\":{\"ok\":true,\"n\":null},\"when\":\"2026-03-04 09:15:02.123Z\"}"},
};

static void check_valid(const valid_case *c)
{
	size_t n = c->len ? c->len : strlen(c->in);
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	hr_json_error err = {0, NULL};
	int rc = parse(&a, c->in, n, 64, &v, &err);
	HR_CHECKF(rc == 0, "%s: rc %d at %zu: %s", c->name, rc, err.offset,
		  err.message ? err.message : "");
	HR_CHECKF(hr_json_valid(c->in, n, 64), "%s: hr_json_valid refuses", c->name);
	if (rc == 0) {
		hr_buf b;
		hr_buf_init(&b, 0);
		hr_json_write(&b, v);
		HR_CHECKF(b.err == 0 && b.len == strlen(c->out) && memcmp(b.ptr, c->out, b.len) == 0,
			  "%s: wrote [%.*s], want [%s]", c->name, (int)b.len, b.ptr, c->out);
		/* Round trip: what we write reads back to the same tree, and so
		 * does the sorted form (up to member order). */
		hr_json *w = NULL;
		HR_CHECKF(parse(&a, b.ptr, b.len, 64, &w, NULL) == 0 && tree_eq(v, w, true),
			  "%s: round trip", c->name);
		hr_buf_reset(&b);
		hr_json_write_sorted(&b, v);
		w = NULL;
		HR_CHECKF(parse(&a, b.ptr, b.len, 64, &w, NULL) == 0 && tree_eq(v, w, false),
			  "%s: sorted round trip", c->name);
		hr_buf_dispose(&b);
	}
	hr_arena_dispose(&a);
}

static void test_valid_documents(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(valid_cases); i++)
		check_valid(&valid_cases[i]);
}

/* ---- decoded string bytes ---- */

static void test_decoded_strings(void)
{
	static const struct {
		const char *in;
		const char *bytes;
		size_t len;
	} cases[] = {
		{"\"a\\u0000b\"", "a\0b", 3},
		{"\"\\u0000\"", "\0", 1},
		{"\"\\/\"", "/", 1},
		{"\"\\ud834\\udd1e\"", "\xF0\x9D\x84\x9E", 4},
		{"\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF", 4},
		{"\"x\\ud800\"", "x\xEF\xBF\xBD", 4},
		{"\"\\u07ff\\u0800\\uffff\"", "\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF", 8},
		{"\"plain\"", "plain", 5},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		hr_arena a;
		arena_open(&a);
		hr_json *v = NULL;
		HR_REQUIRE(parse(&a, cases[i].in, strlen(cases[i].in), 4, &v, NULL) == 0);
		HR_CHECKF(v->type == HR_JSON_STRING && v->u.str.len == cases[i].len &&
				  memcmp(v->u.str.ptr, cases[i].bytes, cases[i].len) == 0,
			  "case %zu: %s", i, cases[i].in);
		hr_arena_dispose(&a);
	}
}

static void test_strings_borrow_input(void)
{
	const char *in = "{\"key\":\"value\",\"esc\\n\":\"a\\tb\",\"n\":-12.5e1}";
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in, strlen(in), 4, &v, NULL) == 0);
	const hr_json_member *m = v->u.obj.members;
	HR_CHECK(m[0].key.ptr == in + 2);			      /* borrowed */
	HR_CHECK(m[0].value->u.str.ptr == in + 8);		      /* borrowed */
	HR_CHECK(m[1].key.ptr < in || m[1].key.ptr > in + strlen(in)); /* decoded */
	HR_CHECK(hr_str_eq_lit(m[1].key, "esc\n"));
	HR_CHECK(hr_str_eq_lit(m[1].value->u.str, "a\tb"));
	HR_CHECK(hr_str_eq_lit(m[2].value->u.n.raw, "-12.5e1"));
	HR_CHECK(m[2].value->u.n.raw.ptr == in + strlen(in) - 8);
	HR_CHECK(m[2].value->u.n.num == -125.0);
	hr_arena_dispose(&a);
}

/* ---- numbers: text -> double ---- */

static void test_number_values(void)
{
	static const struct {
		const char *in;
		double want;
	} cases[] = {
		{"0", 0.0},
		{"-0", -0.0},
		{"-0.0e10", -0.0},
		{"0e99999999999999999999", 0.0},
		{"1", 1.0},
		{"-1", -1.0},
		{"1.5", 1.5},
		{"0.1", 0.1},
		{"1e21", 1e21},
		{"1E21", 1e21},
		{"1e+21", 1e21},
		{"1e-7", 1e-7},
		{"123456789.123", 123456789.123},
		{"0.000001234", 0.000001234},
		{"1e22", 1e22},
		{"1e23", 1e23},
		{"9007199254740992", 9007199254740992.0},
		{"9007199254740993", 9007199254740992.0}, /* tie: to even */
		{"9007199254740995", 9007199254740996.0},
		{"12345678901234567890", 12345678901234567890.0},
		{"18446744073709551616", 18446744073709551616.0},
		{"123456789012345678e-5", 1234567890123.45678},
		{"1.7976931348623157e308", DBL_MAX},
		{"1.7976931348623158e308", DBL_MAX},
		{"-1.7976931348623157e308", -DBL_MAX},
		{"2.2250738585072014e-308", DBL_MIN},
		{"4.9406564584124654e-324", 4.9406564584124654e-324},
		{"5e-324", 4.9406564584124654e-324},
		{"2.4703282292062328e-324", 4.9406564584124654e-324}, /* above the midpoint */
		{"2.4703282292062327e-324", 0.0},		      /* below it */
		{"1e-400", 0.0},
		{"-1e-400", -0.0},
		{"1e-99999999999999999999", 0.0},
		{"0.1000000000000000055511151231257827021181583404541015625", 0.1},
		{"3.141592653589793238462643383279502884197169399375105820974944", M_PI},
		{"100000000000000000000000000000000000000000000000000", 1e50},
		{"0.00000000000000000000000000000000000000000000000001", 1e-50},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		hr_arena a;
		arena_open(&a);
		hr_json *v = NULL;
		hr_json_error err = {0, NULL};
		int rc = parse(&a, cases[i].in, strlen(cases[i].in), 1, &v, &err);
		HR_CHECKF(rc == 0 && v->type == HR_JSON_NUMBER && same_double(v->u.n.num, cases[i].want),
			  "%s: rc %d got %.17g want %.17g", cases[i].in, rc, rc ? 0 : v->u.n.num,
			  cases[i].want);
		hr_arena_dispose(&a);
	}
}

/* Digits beyond what strtod is given still decide the rounding (sticky). */
static void test_number_long_mantissa(void)
{
	static char in[2048];
	size_t n = 0;
	n += (size_t)sprintf(in, "9007199254740993");
	memset(in + n, '0', 900);
	n += 900;
	n += (size_t)sprintf(in + n, "1e-901");
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in, n, 1, &v, NULL) == 0);
	HR_CHECKF(v->u.n.num == 9007199254740994.0, "got %.17g", v->u.n.num);
	/* Exactly the midpoint (all zeros after) rounds to even. */
	n = (size_t)sprintf(in, "9007199254740993.");
	memset(in + n, '0', 1200);
	n += 1200;
	HR_REQUIRE(parse(&a, in, n, 1, &v, NULL) == 0);
	HR_CHECKF(v->u.n.num == 9007199254740992.0, "got %.17g", v->u.n.num);
	hr_arena_dispose(&a);
}

static void test_number_range(void)
{
	static const char midpoint[] =
		"1797693134862315807937289714053034150799341327100378269361737789804449682927"
		"6475094664901797758720709633028641669288791094655554785194040263065748867150"
		"5820681908902000708383676273854845817711531764475730270069855571366959622842"
		"9148198608349364752927190741684443655107043427115596995080930428801779041744"
		"97792";
	static char in[1024];
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	hr_json_error err;

	/* The exact midpoint between DBL_MAX and 2^1024 rounds up: refused. */
	HR_CHECK(parse(&a, midpoint, strlen(midpoint), 1, &v, &err) == HR_EPARSE);
	HR_CHECK(err.offset == 0 && strcmp(err.message, "number out of range") == 0);
	HR_CHECK(!hr_json_valid(midpoint, strlen(midpoint), 1));
	/* One less in the last digit: DBL_MAX. */
	strcpy(in, midpoint);
	in[strlen(in) - 1] = '1';
	HR_CHECK(parse(&a, in, strlen(in), 1, &v, NULL) == 0 && v->u.n.num == DBL_MAX);
	HR_CHECK(hr_json_valid(in, strlen(in), 1));
	/* Same two with a decimal point and an exponent. */
	snprintf(in, sizeof in, "-%c.%se308", midpoint[0], midpoint + 1);
	HR_CHECK(parse(&a, in, strlen(in), 1, &v, NULL) == HR_EPARSE);
	HR_CHECK(!hr_json_valid(in, strlen(in), 1));
	snprintf(in, sizeof in, "0.%s9e309", midpoint);
	in[2 + strlen(midpoint) - 1] = '1';
	HR_CHECK(parse(&a, in, strlen(in), 1, &v, NULL) == 0 && v->u.n.num == DBL_MAX);
	HR_CHECK(hr_json_valid(in, strlen(in), 1));
	/* Trailing zeros after the midpoint do not change it. */
	snprintf(in, sizeof in, "%s.000", midpoint);
	HR_CHECK(parse(&a, in, strlen(in), 1, &v, NULL) == HR_EPARSE);
	HR_CHECK(!hr_json_valid(in, strlen(in), 1));

	static const char *const over[] = {"1e309", "-1e309", "1e99999999999999999999",
					   "10e308", "0.00001e314", "[1,-2e400]"};
	for (size_t i = 0; i < HR_ARRAY_LEN(over); i++) {
		HR_CHECKF(parse(&a, over[i], strlen(over[i]), 2, &v, NULL) == HR_EPARSE, "%s",
			  over[i]);
		HR_CHECKF(!hr_json_valid(over[i], strlen(over[i]), 2), "%s", over[i]);
	}
	hr_arena_dispose(&a);
}

/* ---- invalid documents ---- */

typedef struct invalid_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	size_t offset;
	const char *message;
} invalid_case;

#define EP HR_EPARSE
static const invalid_case invalid_cases[] = {
	{"empty", "", 0, EP, 0, "unexpected end of input"},
	{"only_ws", " \t\n", 0, EP, 3, "unexpected end of input"},
	{"open_object", "{", 0, EP, 1, "unexpected end of input"},
	{"open_array", "[1,", 0, EP, 3, "unexpected end of input"},
	{"open_array_item", "[1", 0, EP, 2, "unexpected end of input"},
	{"object_no_colon_eof", "{\"a\"", 0, EP, 4, "unexpected end of input"},
	{"object_no_value", "{\"a\":", 0, EP, 5, "unexpected end of input"},
	{"trailing_comma_array", "[1,2,]", 0, EP, 5, "unexpected character"},
	{"trailing_comma_object", "{\"a\":1,}", 0, EP, 7, "expected string key"},
	{"missing_comma", "[1 2]", 0, EP, 3, "expected ',' or ']'"},
	{"missing_comma_object", "{\"a\":1 \"b\":2}", 0, EP, 7, "expected ',' or '}'"},
	{"missing_colon", "{\"a\" 1}", 0, EP, 5, "expected ':'"},
	{"unquoted_key", "{a:1}", 0, EP, 1, "expected string key"},
	{"single_quotes", "['a']", 0, EP, 1, "unexpected character"},
	{"colon_in_array", "[\"a\":1]", 0, EP, 4, "expected ',' or ']'"},
	{"mismatch_bracket", "[1}", 0, EP, 2, "expected ',' or ']'"},
	{"mismatch_brace", "{\"a\":1]", 0, EP, 6, "expected ',' or '}'"},
	{"leading_zero", "01", 0, EP, 1, "invalid number"},
	{"leading_zero_neg", "-012", 0, EP, 2, "invalid number"},
	{"minus_alone", "-", 0, EP, 1, "unexpected end of input"},
	{"minus_letter", "-a", 0, EP, 1, "invalid number"},
	{"dot_end", "1.", 0, EP, 2, "unexpected end of input"},
	{"dot_exp", "1.e5", 0, EP, 2, "invalid number"},
	{"exp_end", "1e", 0, EP, 2, "unexpected end of input"},
	{"exp_sign_end", "[1e+]", 0, EP, 4, "invalid number"},
	{"leading_dot", ".5", 0, EP, 0, "unexpected character"},
	{"plus", "+1", 0, EP, 0, "unexpected character"},
	{"nan", "NaN", 0, EP, 0, "unexpected character"},
	{"infinity", "-Infinity", 0, EP, 1, "invalid number"},
	{"hex", "0x10", 0, EP, 1, "data after JSON value"},
	{"literal_short", "tru", 0, EP, 0, "invalid literal"},
	{"literal_case", "True", 0, EP, 0, "unexpected character"},
	{"literal_bad", "nul", 0, EP, 0, "invalid literal"},
	{"literal_extra", "falsey", 0, EP, 5, "data after JSON value"},
	{"unterminated", "\"abc", 0, EP, 4, "unterminated string"},
	{"unterminated_escape", "\"abc\\", 0, EP, 5, "unterminated string"},
	{"unterminated_u", "\"\\u12", 0, EP, 5, "unterminated string"},
	{"control_char", "\"a\x01\"", 0, EP, 2, "control character in string"},
	{"raw_tab", "\"\t\"", 0, EP, 1, "control character in string"},
	{"raw_newline", "[\"a\nb\"]", 0, EP, 3, "control character in string"},
	{"raw_nul", "\"a\0b\"", 5, EP, 2, "control character in string"},
	{"bad_escape", "\"\\x\"", 0, EP, 1, "invalid escape"},
	{"bad_escape_upper_u", "\"\\U0041\"", 0, EP, 1, "invalid escape"},
	{"bad_u_hex", "\"\\u12G4\"", 0, EP, 1, "invalid \\u escape"},
	{"short_u", "\"\\u123\"", 0, EP, 1, "invalid \\u escape"},
	{"utf8_truncated", "\"\xC3\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_lone_cont", "\"a\x80\"", 0, EP, 2, "invalid UTF-8"},
	{"utf8_overlong2", "\"\xC0\xAF\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_overlong3", "\"\xE0\x80\xAF\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_overlong4", "\"\xF0\x80\x80\xAF\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_surrogate", "\"\xED\xA0\x80\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_too_big", "\"\xF4\x90\x80\x80\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_f5", "\"\xF5\x80\x80\x80\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_ff", "\"\xFF\"", 0, EP, 1, "invalid UTF-8"},
	{"utf8_in_key", "{\"\xFE\":1}", 0, EP, 2, "invalid UTF-8"},
	{"utf8_cut_by_end", "\"\xE2\x82", 0, EP, 1, "invalid UTF-8"},
	{"bom", "\xEF\xBB\xBF{}", 0, EP, 0, "byte order mark not allowed"},
	{"trailing_garbage", "{} x", 0, EP, 3, "data after JSON value"},
	{"two_values", "[1] [2]", 0, EP, 4, "data after JSON value"},
	{"two_scalars", "1 2", 0, EP, 2, "data after JSON value"},
	{"trailing_nul", "[1]\0", 4, EP, 3, "data after JSON value"},
	{"nul_start", " \0", 2, EP, 1, "unexpected character"},
	{"comment", "/*c*/1", 0, EP, 0, "unexpected character"},
	{"line_comment", "[1]//", 0, EP, 3, "data after JSON value"},
	{"out_of_range", "[1, -1e309]", 0, EP, 4, "number out of range"},
	{"form_feed_ws", "\f1", 0, EP, 0, "unexpected character"},
	{"nbsp_ws", "\xC2\xA0" "1", 0, EP, 0, "unexpected character"},
};

static void test_invalid_documents(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(invalid_cases); i++) {
		const invalid_case *c = &invalid_cases[i];
		size_t n = c->len ? c->len : strlen(c->in);
		hr_arena a;
		arena_open(&a);
		hr_json *v = (hr_json *)(uintptr_t)1; /* must stay untouched */
		hr_json_error err = {999, NULL};
		int rc = parse(&a, c->in, n, 64, &v, &err);
		HR_CHECKF(rc == c->rc, "%s: rc %d", c->name, rc);
		HR_CHECKF(v == (hr_json *)(uintptr_t)1, "%s: *out written", c->name);
		HR_CHECKF(err.offset == c->offset, "%s: offset %zu, want %zu", c->name, err.offset,
			  c->offset);
		HR_CHECKF(err.message && strcmp(err.message, c->message) == 0, "%s: message %s",
			  c->name, err.message ? err.message : "(null)");
		HR_CHECKF(!hr_json_valid(c->in, n, 64), "%s: hr_json_valid accepts", c->name);
		/* err may be NULL. */
		HR_CHECK(parse(&a, c->in, n, 64, &v, NULL) == c->rc);
		hr_arena_dispose(&a);
	}
	/* NULL input with n == 0 is the empty document. */
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_CHECK(parse(&a, NULL, 0, 4, &v, NULL) == HR_EPARSE);
	HR_CHECK(!hr_json_valid(NULL, 0, 4));
	hr_arena_dispose(&a);
}

/* ---- depth ---- */

/* kind 0: [[[...]]], 1: {"a":{"a":...1}}, 2: alternating [{"k":[{"k":... */
static char *nest(unsigned levels, int kind, size_t *len)
{
	size_t cap = (size_t)levels * 12 + 16, n = 0;
	char *s = malloc(cap);
	HR_ASSERT(s);
	for (unsigned i = 0; i < levels; i++) {
		bool obj = kind == 1 || (kind == 2 && i % 2);
		if (obj) {
			memcpy(s + n, "{\"a\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	s[n++] = '1';
	for (unsigned i = levels; i-- > 0;) {
		bool obj = kind == 1 || (kind == 2 && i % 2);
		s[n++] = obj ? '}' : ']';
	}
	*len = n;
	return s;
}

static size_t opener_offset(const char *s, unsigned level)
{
	/* The offset of the level-th opener (1-based). */
	size_t seen = 0;
	for (size_t i = 0;; i++)
		if ((s[i] == '[' || s[i] == '{') && ++seen == level)
			return i;
}

static void test_depth_limit(void)
{
	for (int kind = 0; kind < 3; kind++) {
		hr_arena a;
		arena_open(&a);
		size_t n;
		char *s = nest(DEPTH, kind, &n);
		hr_json *v = NULL;
		hr_json_error err;
		HR_CHECKF(parse(&a, s, n, DEPTH, &v, &err) == 0, "kind %d: %zu %s", kind, err.offset,
			  err.message);
		HR_CHECK(hr_json_valid(s, n, DEPTH));
		/* Writing it back is not recursive either, and gives the input. */
		hr_buf b;
		hr_buf_init(&b, 0);
		hr_json_write(&b, v);
		HR_CHECK(b.err == 0 && b.len == n && memcmp(b.ptr, s, n) == 0);
		hr_buf_reset(&b);
		hr_json_write_sorted(&b, v);
		HR_CHECK(b.err == 0 && b.len == n && memcmp(b.ptr, s, n) == 0);
		hr_buf_dispose(&b);
		/* The same document with a lower limit is refused at the
		 * opener one past it. */
		HR_CHECK(parse(&a, s, n, DEPTH - 1, &v, &err) == HR_ELIMIT);
		HR_CHECK(err.offset == opener_offset(s, DEPTH));
		HR_CHECK(strcmp(err.message, "nesting too deep") == 0);
		HR_CHECK(!hr_json_valid(s, n, DEPTH - 1));
		free(s);

		s = nest(DEPTH + 1, kind, &n);
		HR_CHECK(parse(&a, s, n, DEPTH, &v, &err) == HR_ELIMIT);
		HR_CHECK(err.offset == opener_offset(s, DEPTH + 1));
		HR_CHECK(!hr_json_valid(s, n, DEPTH));
		HR_CHECK(parse(&a, s, n, DEPTH + 1, &v, &err) == 0);
		HR_CHECK(hr_json_valid(s, n, DEPTH + 1));
		free(s);
		hr_arena_dispose(&a);
	}
}

static void test_depth_small_limits(void)
{
	hr_arena a;
	arena_open(&a);
	hr_json *v;
	HR_CHECK(parse(&a, "1", 1, 0, &v, NULL) == 0);
	HR_CHECK(parse(&a, "[]", 2, 0, &v, NULL) == HR_ELIMIT);
	HR_CHECK(parse(&a, "{}", 2, 0, &v, NULL) == HR_ELIMIT);
	HR_CHECK(parse(&a, "[]", 2, 1, &v, NULL) == 0);
	HR_CHECK(parse(&a, "[[]]", 4, 1, &v, NULL) == HR_ELIMIT);
	HR_CHECK(parse(&a, "[1,{}]", 6, 1, &v, NULL) == HR_ELIMIT);
	HR_CHECK(parse(&a, "[[],[]]", 7, 2, &v, NULL) == 0);
	HR_CHECK(hr_json_valid("1", 1, 0) && !hr_json_valid("[]", 2, 0));
	HR_CHECK(hr_json_valid("[[],[]]", 7, 2) && !hr_json_valid("[[[]]]", 6, 2));
	/* Validator: limits above its bit stack act as the cap. */
	size_t n;
	char *s = nest(HR_JSON_VALID_DEPTH_CAP, 2, &n);
	HR_CHECK(hr_json_valid(s, n, (unsigned)-1));
	free(s);
	s = nest(HR_JSON_VALID_DEPTH_CAP + 1, 2, &n);
	HR_CHECK(!hr_json_valid(s, n, (unsigned)-1));
	free(s);
	hr_arena_dispose(&a);
}

/* ---- duplicate keys, large containers (scratch growth, heapsort) ---- */

static void test_duplicate_keys_large_object(void)
{
	hr_buf in;
	hr_buf_init(&in, 0);
	hr_buf_append_char(&in, '{');
	for (int i = 0; i < 100; i++)
		hr_buf_printf(&in, "%s\"k%d\":%d", i ? "," : "", i, i);
	hr_buf_append_cstr(&in, ",\"k50\":\"x\",\"k0\":[],\"k99\":null,\"k0\":true}");
	HR_REQUIRE(in.err == 0);
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in.ptr, in.len, 4, &v, NULL) == 0);
	HR_CHECK(v->u.obj.len == 100);
	for (int i = 0; i < 100; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		HR_CHECKF(hr_str_eq(v->u.obj.members[i].key, hr_str_make(k, strlen(k))), "pos %d", i);
	}
	HR_CHECK(v->u.obj.members[0].value->type == HR_JSON_TRUE);
	HR_CHECK(v->u.obj.members[50].value->type == HR_JSON_STRING);
	HR_CHECK(v->u.obj.members[99].value->type == HR_JSON_NULL);
	HR_CHECK(hr_json_get(v, "k1")->u.n.num == 1);
	HR_CHECK(hr_json_get(v, "k100") == NULL);
	hr_buf_dispose(&in);
	hr_arena_dispose(&a);
}

static void test_large_containers(void)
{
	hr_buf in;
	hr_buf_init(&in, 0);
	hr_buf_append_char(&in, '[');
	for (int i = 0; i < 5000; i++)
		hr_buf_printf(&in, "%s{\"i\":%d,\"s\":\"v%d\"}", i ? "," : "", i, i);
	hr_buf_append_char(&in, ']');
	HR_REQUIRE(in.err == 0);
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in.ptr, in.len, 4, &v, NULL) == 0);
	HR_CHECK(v->type == HR_JSON_ARRAY && v->u.arr.len == 5000);
	HR_CHECK(hr_json_get(v->u.arr.items[4321], "i")->u.n.num == 4321);
	hr_buf out;
	hr_buf_init(&out, 0);
	hr_json_write(&out, v);
	HR_CHECK(out.len == in.len && memcmp(out.ptr, in.ptr, in.len) == 0);
	hr_buf_dispose(&out);
	hr_buf_dispose(&in);
	hr_arena_dispose(&a);
}

/* ---- sorted writer ---- */

static void test_write_sorted(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"{\"b\":1,\"a\":{\"d\":1,\"c\":2},\"c\":[{\"z\":1,\"y\":2}]}",
		 "{\"a\":{\"c\":2,\"d\":1},\"b\":1,\"c\":[{\"y\":2,\"z\":1}]}"},
		{"{\"a\":1,\"B\":2,\"aa\":3,\"\":4,\"\xC3\xA9\":5,\"z\":6}",
		 "{\"\":4,\"B\":2,\"a\":1,\"aa\":3,\"z\":6,\"\xC3\xA9\":5}"},
		{"{\"b\\u0000\":1,\"b\":2}", "{\"b\":2,\"b\\u0000\":1}"},
		{"[{\"y\":{\"b\":[],\"a\":{}}},{}]", "[{\"y\":{\"a\":{},\"b\":[]}},{}]"},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		hr_arena a;
		arena_open(&a);
		hr_json *v = NULL;
		HR_REQUIRE(parse(&a, cases[i].in, strlen(cases[i].in), 8, &v, NULL) == 0);
		hr_buf b;
		hr_buf_init(&b, 0);
		hr_json_write_sorted(&b, v);
		HR_CHECKF(b.len == strlen(cases[i].out) && memcmp(b.ptr, cases[i].out, b.len) == 0,
			  "case %zu: %.*s", i, (int)b.len, b.ptr);
		/* The tree itself is untouched: the plain writer keeps the order. */
		hr_buf_reset(&b);
		hr_json_write(&b, v);
		HR_CHECK(b.len == strlen(cases[i].in) || i == 2);
		hr_buf_dispose(&b);
		hr_arena_dispose(&a);
	}
	/* Many keys in reverse order, nested (heapsort and the perm stack). */
	hr_buf in, want, b;
	hr_buf_init(&in, 0);
	hr_buf_init(&want, 0);
	hr_buf_init(&b, 0);
	hr_buf_append_char(&in, '{');
	for (int i = 299; i >= 0; i--)
		hr_buf_printf(&in, "\"k%03d\":{\"y\":%d,\"x\":0}%s", i, i, i ? "," : "}");
	hr_buf_append_char(&want, '{');
	for (int i = 0; i < 300; i++)
		hr_buf_printf(&want, "\"k%03d\":{\"x\":0,\"y\":%d}%s", i, i, i < 299 ? "," : "}");
	hr_arena a;
	arena_open(&a);
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in.ptr, in.len, 8, &v, NULL) == 0);
	hr_json_write_sorted(&b, v);
	HR_CHECK(b.err == 0 && b.len == want.len && memcmp(b.ptr, want.ptr, b.len) == 0);
	hr_buf_dispose(&in);
	hr_buf_dispose(&want);
	hr_buf_dispose(&b);
	hr_arena_dispose(&a);
}

/* ---- number formatting (Go's encoding/json float64 output) ---- */

static void test_write_number(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{1, "1"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{1e-6, "0.000001"},
		{1e-7, "1e-7"},
		{123456789.123, "123456789.123"},
		{-0.0, "-0"},
		{0.0, "0"},
		{5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{9007199254740992.0, "9007199254740992"},
		{9007199254740994.0, "9007199254740994"},
		{0.000001234, "0.000001234"},
		{12345678901234567890.0, "12345678901234567000"},
		{9223372036854775808.0, "9223372036854776000"},
		{-1.5, "-1.5"},
		{100, "100"},
		{-42, "-42"},
		{0.30000000000000004, "0.30000000000000004"},
		{1.0 / 3, "0.3333333333333333"},
		{2.0 / 3, "0.6666666666666666"},
		{1e23, "1e+23"},
		{1e22, "1e+22"},
		{1.5e300, "1.5e+300"},
		{123e18, "123000000000000000000"},
		{-9.5e21, "-9.5e+21"},
		{1e-22, "1e-22"},
		{1.25e-30, "1.25e-30"},
		{1.2345678901234568e20, "123456789012345680000"},
		{999999999999999868928.0, "999999999999999900000"},
		{1000000000000000.2, "1000000000000000.2"},
		{1.5e-7, "1.5e-7"},
		{5e-7, "5e-7"},
		{-5e-7, "-5e-7"},
		{1e-10, "1e-10"},
		{1.2e-100, "1.2e-100"},
		{1e100, "1e+100"},
		{6.02214076e23, "6.02214076e+23"},
		{1.602176634e-19, "1.602176634e-19"},
		{3.141592653589793, "3.141592653589793"},
		{2.718281828459045, "2.718281828459045"},
		{4.35, "4.35"},
		{1234567.0625, "1234567.0625"},
		{0.000123456789, "0.000123456789"},
		{19.99, "19.99"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{7.1202363472230444e-307, "7.120236347223045e-307"}, /* 2^-1017: lopsided interval */
		{5.8581906792798084e-244, "5.858190679279809e-244"}, /* 2^-808 */
		{9.8813129168249309e-324, "1e-323"},
		{2.4703282292062327e-300, "2.4703282292062327e-300"},
	};
	hr_buf b;
	hr_buf_init(&b, 0);
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		hr_buf_reset(&b);
		hr_json_write_number(&b, cases[i].v);
		HR_CHECKF(b.len == strlen(cases[i].want) && memcmp(b.ptr, cases[i].want, b.len) == 0,
			  "%.17g: got %.*s want %s", cases[i].v, (int)b.len, b.ptr, cases[i].want);
	}
	hr_buf_reset(&b);
	hr_json_write_number(&b, NAN);
	hr_buf_append_char(&b, ',');
	hr_json_write_number(&b, INFINITY);
	hr_buf_append_char(&b, ',');
	hr_json_write_number(&b, -INFINITY);
	HR_CHECK(strcmp(b.ptr, "null,null,null") == 0);
	hr_buf_dispose(&b);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Every finite double written reads back to itself, and with no more
 * digits than %.17g would use. */
static void test_write_number_round_trips(void)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_arena a;
	arena_open(&a);
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = xorshift(&seed);
		double v;
		if (i % 4 == 1)
			bits = bits % 2000000; /* subnormals */
		memcpy(&v, &bits, sizeof v);
		if (i % 4 == 2)
			v = (double)(int64_t)(bits % 100000000) / 1000.0;
		if (i % 4 == 3)
			v = ldexp(1.0, (int)(bits % 2098) - 1074);
		if (!isfinite(v))
			continue;
		hr_buf_reset(&b);
		hr_json_write_number(&b, v);
		hr_json *n = NULL;
		int rc = parse(&a, b.ptr, b.len, 0, &n, NULL);
		HR_CHECKF(rc == 0 && same_double(n->u.n.num, v), "%.17g wrote %s", v, b.ptr);
		HR_CHECKF(strtod(b.ptr, NULL) == v, "%.17g wrote %s (strtod)", v, b.ptr);
		if (rc || !same_double(n->u.n.num, v))
			break;
		if (i % 1000 == 0)
			hr_arena_reset(&a);
	}
	hr_buf_dispose(&b);
	hr_arena_dispose(&a);
}

/* ---- string escaping ---- */

static void test_write_string(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{"plain", 5, "\"plain\""},
		{"", 0, "\"\""},
		{"\"\\", 2, "\"\\\"\\\\\""},
		{"\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\""},
		{"\x01\x1f\x0b\x00", 4, "\"\\u0001\\u001f\\u000b\\u0000\""},
		{"<a>&b", 5, "\"<a>&b\""},
		{"/", 1, "\"/\""},
		{"\x7f", 1, "\"\x7f\""},
		{"\xe2\x80\xa8x\xe2\x80\xa9", 7, "\"\\u2028x\\u2029\""},
		{"\xe2\x80\xaa", 3, "\"\xe2\x80\xaa\""},
		{"\xff", 1, "\"\\ufffd\""},
		{"\xc3", 1, "\"\\ufffd\""},
		{"a\xe2\x82", 3, "\"a\\ufffd\\ufffd\""},
		{"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},
		{"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},
		{"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
		{"\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\""},
		{"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 9, "\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\""},
		{"tab\there and a long tail without escapes", 40,
		 "\"tab\\there and a long tail without escapes\""},
	};
	hr_buf b;
	hr_buf_init(&b, 0);
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++) {
		hr_buf_reset(&b);
		hr_json_write_string(&b, hr_str_make(cases[i].in, cases[i].len));
		HR_CHECKF(b.len == strlen(cases[i].want) && memcmp(b.ptr, cases[i].want, b.len) == 0,
			  "case %zu: got %.*s want %s", i, (int)b.len, b.ptr, cases[i].want);
	}
	/* Every single byte value writes as valid JSON that reads back as the
	 * byte (or U+FFFD for bytes that are not UTF-8 on their own). */
	hr_arena a;
	arena_open(&a);
	for (int c = 0; c < 256; c++) {
		char ch = (char)c;
		hr_buf_reset(&b);
		hr_json_write_string(&b, hr_str_make(&ch, 1));
		hr_json *v = NULL;
		HR_REQUIRE(parse(&a, b.ptr, b.len, 0, &v, NULL) == 0);
		if (c < 0x80)
			HR_CHECKF(v->u.str.len == 1 && v->u.str.ptr[0] == ch, "byte %d", c);
		else
			HR_CHECKF(hr_str_eq_lit(v->u.str, "\xEF\xBF\xBD"), "byte %d", c);
	}
	hr_arena_dispose(&a);
	hr_buf_dispose(&b);
}

static void test_writer_respects_ceiling(void)
{
	hr_arena a;
	arena_open(&a);
	const char *in = "{\"a\":[1,2,3],\"b\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
	hr_json *v = NULL;
	HR_REQUIRE(parse(&a, in, strlen(in), 4, &v, NULL) == 0);
	for (size_t max = 1; max < strlen(in) + 2; max++) {
		hr_buf b;
		hr_buf_init(&b, max);
		hr_json_write(&b, v);
		if (max < strlen(in))
			HR_CHECKF(b.err == HR_ELIMIT && b.len <= max, "max %zu", max);
		else
			HR_CHECKF(b.err == 0 && b.len == strlen(in) && memcmp(b.ptr, in, b.len) == 0,
				  "max %zu", max);
		hr_buf_dispose(&b);
	}
	hr_arena_dispose(&a);
}

/* ---- constructors, lookup, NULL nodes ---- */

static void test_constructors_and_lookup(void)
{
	hr_arena a;
	arena_open(&a);
	char tmp[] = "temp";
	hr_json *s = hr_json_new_string(&a, hr_str_make(tmp, 4));
	tmp[0] = 'X'; /* the node has its own copy */
	hr_json *n = hr_json_new_number(&a, 0.1 + 0.2);
	hr_json *t = hr_json_new_bool(&a, true), *f = hr_json_new_bool(&a, false);
	hr_json *z = hr_json_new_null(&a);
	HR_REQUIRE(s && n && t && f && z);
	HR_CHECK(hr_str_eq_lit(s->u.str, "temp"));
	HR_CHECK(n->u.n.raw.len == 0);
	hr_json *items[] = {s, n, t, f, z, NULL, hr_json_new_number(&a, NAN)};
	hr_json arr = {.type = HR_JSON_ARRAY};
	arr.u.arr.items = items;
	arr.u.arr.len = HR_ARRAY_LEN(items);
	hr_json_member mem[] = {{HR_STR("z"), &arr}, {HR_STR("a"), n}};
	hr_json obj = {.type = HR_JSON_OBJECT};
	obj.u.obj.members = mem;
	obj.u.obj.len = 2;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_json_write(&b, &obj);
	HR_CHECKF(strcmp(b.ptr, "{\"z\":[\"temp\",0.30000000000000004,true,false,null,null,null],"
				"\"a\":0.30000000000000004}") == 0,
		  "%s", b.ptr);
	hr_buf_reset(&b);
	hr_json_write_sorted(&b, &obj);
	HR_CHECKF(strcmp(b.ptr, "{\"a\":0.30000000000000004,\"z\":[\"temp\",0.30000000000000004,"
				"true,false,null,null,null]}") == 0,
		  "%s", b.ptr);
	hr_buf_dispose(&b);
	HR_CHECK(hr_json_get(&obj, "a") == n);
	HR_CHECK(hr_json_get_str(&obj, HR_STR("z")) == &arr);
	HR_CHECK(hr_json_get(&obj, "q") == NULL);
	HR_CHECK(hr_json_get(&arr, "a") == NULL);
	HR_CHECK(hr_json_get(NULL, "a") == NULL);
	hr_arena_dispose(&a);
}

/* ---- every prefix, read up to a guard page; parse and valid agree ---- */

static void test_prefixes_guarded(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(valid_cases); i++) {
		const valid_case *c = &valid_cases[i];
		size_t n = c->len ? c->len : strlen(c->in);
		for (size_t k = 0; k <= n; k++) {
			char *p = hr_test_guard_copy(c->in, k);
			hr_arena a;
			arena_open(&a);
			hr_json *v = NULL;
			int rc = parse(&a, p, k, 64, &v, NULL);
			HR_CHECKF((rc == 0) == hr_json_valid(p, k, 64), "%s prefix %zu", c->name, k);
			HR_CHECKF(rc == 0 || rc == HR_EPARSE, "%s prefix %zu: rc %d", c->name, k, rc);
			hr_arena_dispose(&a);
			hr_test_guard_free(p, k);
		}
	}
	for (size_t i = 0; i < HR_ARRAY_LEN(invalid_cases); i++) {
		const invalid_case *c = &invalid_cases[i];
		size_t n = c->len ? c->len : strlen(c->in);
		char *p = hr_test_guard_copy(c->in, n);
		hr_arena a;
		arena_open(&a);
		hr_json *v = NULL;
		HR_CHECK(parse(&a, p, n, 64, &v, NULL) == c->rc);
		HR_CHECK(!hr_json_valid(p, n, 64));
		hr_arena_dispose(&a);
		hr_test_guard_free(p, n);
	}
}

/* ---- allocation failure at every allocation ---- */

static void test_allocation_failures(void)
{
	hr_buf in;
	hr_buf_init(&in, 0);
	hr_buf_append_cstr(&in, "{\"esc\\n\":[");
	for (int i = 0; i < 300; i++)
		hr_buf_printf(&in, "%s{\"k%d\":\"v\\t%d\",\"n\":[[%d]],\"k%d\":1}", i ? "," : "", i % 20,
			      i, i, i % 20);
	hr_buf_append_cstr(&in, "]}");
	HR_REQUIRE(in.err == 0);
	char small[256];
	bool done = false;
	for (long k = 0; k < 100000 && !done; k++) {
		hr_arena a;
		hr_arena_init(&a, small, sizeof small, 0);
		a.fail_after = k;
		hr_json *v = NULL;
		hr_json_error err = {0, NULL};
		int rc = parse(&a, in.ptr, in.len, 16, &v, &err);
		HR_CHECKF(rc == 0 || rc == HR_ENOMEM, "k %ld: rc %d", k, rc);
		if (rc == HR_ENOMEM)
			HR_CHECK(err.offset <= in.len && strcmp(err.message, "out of memory") == 0);
		if (rc == 0) {
			hr_buf b;
			hr_buf_init(&b, 0);
			hr_json_write(&b, v);
			HR_CHECK(hr_json_valid(b.ptr, b.len, 16));
			hr_buf_dispose(&b);
			done = true;
		}
		hr_arena_dispose(&a);
	}
	HR_CHECK(done);
	/* And an arena whose limit is too small answers HR_ENOMEM. */
	hr_arena a;
	hr_arena_init(&a, small, sizeof small, 4096);
	hr_json *v = NULL;
	HR_CHECK(parse(&a, in.ptr, in.len, 16, &v, NULL) == HR_ENOMEM);
	hr_arena_dispose(&a);
	hr_buf_dispose(&in);
}

static const hr_test_case cases[] = {
	{"valid_documents", test_valid_documents},
	{"decoded_strings", test_decoded_strings},
	{"strings_borrow_input", test_strings_borrow_input},
	{"number_values", test_number_values},
	{"number_long_mantissa", test_number_long_mantissa},
	{"number_range", test_number_range},
	{"invalid_documents", test_invalid_documents},
	{"depth_limit_10000", test_depth_limit},
	{"depth_small_limits", test_depth_small_limits},
	{"duplicate_keys_large_object", test_duplicate_keys_large_object},
	{"large_containers", test_large_containers},
	{"write_sorted", test_write_sorted},
	{"write_number", test_write_number},
	{"write_number_round_trips", test_write_number_round_trips},
	{"write_string", test_write_string},
	{"writer_respects_ceiling", test_writer_respects_ceiling},
	{"constructors_and_lookup", test_constructors_and_lookup},
	{"prefixes_guarded", test_prefixes_guarded},
	{"allocation_failures", test_allocation_failures},
};
HR_TEST_MAIN(cases)

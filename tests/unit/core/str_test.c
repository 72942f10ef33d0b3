/*
 * tests/unit/core/str_test.c - hr_str helpers (src/core/str.c): integer
 * parsing at its overflow edges, hex, list walking, percent-decoding,
 * case-insensitive compares, OWS trimming and the byte-class tables.
 * Table-driven: one labelled row per case.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/str.h"
#include "harness/unit.h"

#define S(lit) hr_str_make((lit), sizeof(lit) - 1)

typedef struct num_row {
	const char *label;
	const char *in;
	uint64_t max;
	int rc;
	uint64_t value;
} num_row;

static const num_row dec_rows[] = {
	{"zero", "0", UINT64_MAX, 0, 0},
	{"leading_zeros", "000123", UINT64_MAX, 0, 123},
	{"u64_max", "18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	{"u64_max_plus_1", "18446744073709551616", UINT64_MAX, HR_E2BIG, 0},
	{"u64_max_times_10", "184467440737095516150", UINT64_MAX, HR_E2BIG, 0},
	{"u64_max_leading_zeros", "00018446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	{"i64_max", "9223372036854775807", INT64_MAX, 0, INT64_MAX},
	{"i64_max_plus_1", "9223372036854775808", INT64_MAX, HR_E2BIG, 0},
	{"at_small_max", "10", 10, 0, 10},
	{"over_small_max", "11", 10, HR_E2BIG, 0},
	{"digit_over_max", "7", 5, HR_E2BIG, 0},
	{"max_zero", "0", 0, 0, 0},
	{"max_zero_one", "1", 0, HR_E2BIG, 0},
	{"empty", "", UINT64_MAX, HR_EPARSE, 0},
	{"sign", "+1", UINT64_MAX, HR_EPARSE, 0},
	{"minus", "-1", UINT64_MAX, HR_EPARSE, 0},
	{"space", " 1", UINT64_MAX, HR_EPARSE, 0},
	{"trailing_space", "1 ", UINT64_MAX, HR_EPARSE, 0},
	{"hex_letters", "1a", UINT64_MAX, HR_EPARSE, 0},
	{"colon_after_9", "9:", UINT64_MAX, HR_EPARSE, 0},
	{"slash_before_0", "/", UINT64_MAX, HR_EPARSE, 0},
};

static const num_row hex_rows[] = {
	{"zero", "0", UINT64_MAX, 0, 0},
	{"lower", "ff", UINT64_MAX, 0, 255},
	{"upper", "FF", UINT64_MAX, 0, 255},
	{"mixed", "aBcD", UINT64_MAX, 0, 0xabcd},
	{"u64_max", "ffffffffffffffff", UINT64_MAX, 0, UINT64_MAX},
	{"u64_max_plus_1", "10000000000000000", UINT64_MAX, HR_E2BIG, 0},
	{"i64_max", "7fffffffffffffff", INT64_MAX, 0, INT64_MAX},
	{"i64_max_plus_1", "8000000000000000", INT64_MAX, HR_E2BIG, 0},
	{"leading_zeros", "00000000000000000001", UINT64_MAX, 0, 1},
	{"digit_over_max", "f", 10, HR_E2BIG, 0},
	{"empty", "", UINT64_MAX, HR_EPARSE, 0},
	{"g", "g", UINT64_MAX, HR_EPARSE, 0},
	{"prefix", "0x1", UINT64_MAX, HR_EPARSE, 0},
	{"at_sign", "@", UINT64_MAX, HR_EPARSE, 0},
	{"backtick", "`", UINT64_MAX, HR_EPARSE, 0},
};

static void run_num(const num_row *rows, size_t n, bool hex)
{
	for (size_t i = 0; i < n; i++) {
		const num_row *r = &rows[i];
		uint64_t v = 12345;
		hr_str s = hr_str_make(r->in, strlen(r->in));
		int rc = hex ? hr_str_hex_to_u64(s, r->max, &v) : hr_str_to_u64(s, r->max, &v);
		HR_CHECKF(rc == r->rc, "%s: rc %d", r->label, rc);
		if (r->rc == 0)
			HR_CHECKF(v == r->value, "%s: value %llu", r->label, (unsigned long long)v);
		else
			HR_CHECKF(v == 12345, "%s: out touched on failure", r->label);
	}
}

static void test_to_u64(void)
{
	run_num(dec_rows, HR_ARRAY_LEN(dec_rows), false);
}

static void test_hex_to_u64(void)
{
	run_num(hex_rows, HR_ARRAY_LEN(hex_rows), true);
}

static void test_list_next(void)
{
	static const struct {
		const char *label, *in;
		const char *want[5];
	} rows[] = {
		{"empty", "", {NULL}},
		{"only_commas_and_ows", " , ,\t,", {NULL}},
		{"one", "gzip", {"gzip"}},
		{"two_ows", " gzip ,\tchunked\t", {"gzip", "chunked"}},
		{"empty_elements", ",a,,b,", {"a", "b"}},
		{"params_kept", "a;q=1, b ; x", {"a;q=1", "b ; x"}},
		{"inner_space_kept", "a b, c", {"a b", "c"}},
		{"four", "1,2,3,4", {"1", "2", "3", "4"}},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		hr_str s = hr_str_make(rows[i].in, strlen(rows[i].in)), e;
		size_t pos = 0, k = 0;
		while (hr_str_list_next(s, &pos, &e)) {
			HR_REQUIRE(k < 4);
			HR_CHECKF(rows[i].want[k] && e.len == strlen(rows[i].want[k]) &&
					  memcmp(e.ptr, rows[i].want[k], e.len) == 0,
				  "%s: element %zu \"%.*s\"", rows[i].label, k, (int)e.len, e.ptr);
			k++;
		}
		HR_CHECKF(rows[i].want[k] == NULL, "%s: only %zu elements", rows[i].label, k);
		HR_CHECK(pos == s.len);
	}
}

static void test_list_has(void)
{
	static const struct {
		const char *label, *in, *token;
		bool want;
	} rows[] = {
		{"exact", "close", "close", true},
		{"case", "Keep-Alive", "keep-alive", true},
		{"in_list", "foo, close", "close", true},
		{"ows", " \tclose\t ", "close", true},
		{"with_param", "100-continue;x=y", "100-continue", true},
		{"prefix_only", "closed", "close", false},
		{"suffix_only", "xclose", "close", false},
		{"empty", "", "close", false},
		{"commas", ",,,", "close", false},
		{"not_first_word", "keep close", "close", false},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++)
		HR_CHECKF(hr_str_list_has(hr_str_make(rows[i].in, strlen(rows[i].in)),
					  hr_str_make(rows[i].token, strlen(rows[i].token))) == rows[i].want,
			  "%s", rows[i].label);
}

static void test_pct_decode(void)
{
	static const struct {
		const char *label, *in;
		bool plus;
		long rc;
		const char *out;
	} rows[] = {
		{"plain", "abc", false, 3, "abc"},
		{"empty", "", false, 0, ""},
		{"escape", "a%20b", false, 3, "a b"},
		{"escape_upper_lower", "%2f%2F", false, 2, "//"},
		{"escape_high", "%C3%A9", false, 2, "\xc3\xa9"},
		{"escape_nul", "a%00b", false, 3, "a\0b"},
		{"plus_kept", "a+b", false, 3, "a+b"},
		{"plus_space", "a+b", true, 3, "a b"},
		{"escaped_plus", "%2B", true, 1, "+"},
		{"truncated_1", "a%", false, -1, NULL},
		{"truncated_2", "a%2", false, -1, NULL},
		{"bad_hex_hi", "%g0", false, -1, NULL},
		{"bad_hex_lo", "%0g", false, -1, NULL},
		{"percent_percent", "%%41", false, -1, NULL},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		char out[32];
		size_t n = strlen(rows[i].in);
		long rc = hr_str_pct_decode(hr_str_make(rows[i].in, n), out, rows[i].plus);
		HR_CHECKF(rc == rows[i].rc, "%s: rc %ld", rows[i].label, rc);
		if (rc >= 0 && rc == rows[i].rc)
			HR_CHECKF(memcmp(out, rows[i].out, (size_t)rc) == 0, "%s", rows[i].label);
	}
}

static void test_compare_and_trim(void)
{
	static const struct {
		const char *label, *a, *b;
		bool eq, ieq, istarts;
	} rows[] = {
		{"same", "Host", "Host", true, true, true},
		{"case", "HOST", "host", false, true, true},
		{"prefix", "Hostname", "host", false, false, true},
		{"shorter", "Ho", "host", false, false, false},
		{"empty_both", "", "", true, true, true},
		{"empty_prefix", "x", "", false, false, true},
		{"at_vs_backtick", "@", "`", false, false, false}, /* 0x40/0x60: not letters */
		{"brackets", "[", "{", false, false, false},
		{"non_ascii", "\xc3", "\xe3", false, false, false},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		hr_str a = hr_str_make(rows[i].a, strlen(rows[i].a));
		hr_str b = hr_str_make(rows[i].b, strlen(rows[i].b));
		HR_CHECKF(hr_str_eq(a, b) == rows[i].eq, "%s: eq", rows[i].label);
		HR_CHECKF(hr_str_ieq(a, b) == rows[i].ieq, "%s: ieq", rows[i].label);
		HR_CHECKF(hr_str_istarts(a, b) == rows[i].istarts, "%s: istarts", rows[i].label);
	}
	HR_CHECK(hr_str_eq_lit(S("abc"), "abc") && !hr_str_eq_lit(S("abc"), "ab"));
	HR_CHECK(hr_str_ieq_lit(S("ChUnKeD"), "chunked"));
	HR_CHECK(hr_lower('A') == 'a' && hr_lower('Z') == 'z' && hr_lower('@') == '@' &&
		 hr_lower('[') == '[' && hr_lower(0xC1) == 0xC1 && hr_lower('a') == 'a');

	static const struct {
		const char *in, *out;
	} trims[] = {
		{"", ""}, {" ", ""}, {" \t a b \t ", "a b"}, {"x", "x"}, {"\tx", "x"}, {"x\t", "x"},
		{"\r x \r", "\r x \r"},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(trims); i++) {
		hr_str t = hr_str_trim_ows(hr_str_make(trims[i].in, strlen(trims[i].in)));
		HR_CHECKF(t.len == strlen(trims[i].out) && memcmp(t.ptr, trims[i].out, t.len) == 0,
			  "trim %zu", i);
	}
}

/* The byte-class tables match their grammar, byte by byte. */
static void test_byte_classes(void)
{
	const char *tchar_extra = "!#$%&'*+-.^_`|~";
	for (int c = 0; c < 256; c++) {
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool t = alnum || (c != 0 && strchr(tchar_extra, c) != NULL);
		HR_CHECKF(hr_str_tchar_map[c] == t, "tchar 0x%02x", c);
		bool f = c == '\t' || (c >= 0x20 && c != 0x7f);
		HR_CHECKF(hr_str_field_map[c] == f, "field 0x%02x", c);
	}
	HR_CHECK(hr_str_is_token(S("Content-Length")) && hr_str_is_token(S("!#$%&'*+-.^_`|~09")));
	HR_CHECK(!hr_str_is_token(S("")) && !hr_str_is_token(S("a b")) &&
		 !hr_str_is_token(S("a:")) && !hr_str_is_token(S("\"q\"")) &&
		 !hr_str_is_token(S("caf\xc3\xa9")));
}

static const hr_test_case tests[] = {
	{"to_u64", test_to_u64},
	{"hex_to_u64", test_hex_to_u64},
	{"list_next", test_list_next},
	{"list_has", test_list_has},
	{"pct_decode", test_pct_decode},
	{"compare_and_trim", test_compare_and_trim},
	{"byte_classes", test_byte_classes},
};

HR_TEST_MAIN(tests)

/*
 * tests/unit/http/chunked_test.c - the chunked body decoder
 * (src/http/chunked.c).
 *
 * One table of bodies, each row labelled, with the decoded bytes and the
 * number of input bytes the body takes (the rest belongs to the next
 * request and must be left alone), or the error it must fail with. Every
 * row is run
 *   - whole, in a buffer that ends right before a PROT_NONE page;
 *   - split in two at every byte, each piece in its own guarded buffer, the
 *     way a connection feeds reads as they arrive;
 *   - one byte per call.
 * The decoded bytes, the consumed count and the result must be the same
 * every way. A decoder is byte-resumable, so an error must also come with
 * the same code however the input is split.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "harness/unit.h"
#include "http/parser.h"

#define LIT(s) s, sizeof(s) - 1

typedef struct body_case {
	const char *label;
	const char *in;
	size_t len;
	int err;		   /* expected HR_HTTP_E_*, 0 for success */
	const char *out;	   /* decoded body when err == 0 */
	const char *rest;	   /* input left after the body; NULL: none */
	bool incomplete;	   /* expect 0 (more needed) after all input */
	const hr_http_limits *lim; /* NULL: default */
} body_case;

static const hr_http_limits deflim = {8192, 256, 8, 1 << 20};
static const hr_http_limits lim_body10 = {8192, 256, 8, 10};
static const hr_http_limits lim_huge = {8192, 256, 8, UINT64_MAX};
static const hr_http_limits lim_tr1 = {8192, 256, 1, 1 << 20};
static const hr_http_limits lim_trbytes = {8192, 12, 8, 1 << 20};

#define OK(o, ...) .err = 0, .out = (o), __VA_ARGS__
#define BAD(e) .err = HR_HTTP_E_##e

static char long_zeros[4200 + 16];
static char long_ext[4200 + 16];

static const body_case cases[] = {
	/* --- valid ------------------------------------------------------- */
	{"one_chunk", LIT("5\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"empty_body", LIT("0\r\n\r\n"), OK("")},
	{"three_chunks", LIT("3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"), OK("abcdef")},
	{"hex_upper", LIT("A\r\n0123456789\r\n0\r\n\r\n"), OK("0123456789")},
	{"hex_lower", LIT("a\r\n0123456789\r\n0\r\n\r\n"), OK("0123456789")},
	{"hex_two_digits", LIT("1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n"),
	 OK("0123456789abcdef0123456789abcde")},
	{"leading_zeros", LIT("0005\r\nhello\r\n000\r\n\r\n"), OK("hello")},
	{"data_contains_crlf", LIT("4\r\n\r\n\r\n\r\n0\r\n\r\n"), OK("\r\n\r\n")},
	{"data_contains_nul", LIT("3\r\na\0b\r\n0\r\n\r\n"), OK("a\0b")},
	{"ext_name", LIT("5;foo\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_name_value", LIT("5;foo=bar\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_bws_everywhere", LIT("5 \t; foo \t= bar\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_several", LIT("5;a;b=c;d=e\r\nhello\r\n0;last\r\n\r\n"), OK("hello")},
	{"ext_several_bws", LIT("5;a ;b=c ; d\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_quoted", LIT("5;a=\"q s\\\"x\\\\\"\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_quoted_then_more", LIT("5;a=\"x\" ;b=\"\";c\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"ext_quoted_obs_text", LIT("5;a=\"caf\xc3\xa9\t\"\r\nhello\r\n0\r\n\r\n"), OK("hello")},
	{"trailers", LIT("5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\n\r\n"), OK("hello")},
	{"trailer_value_htab_obs_text", LIT("0\r\nX: a\tb \xff\r\n\r\n"), OK("")},
	{"pipelined_rest_left", LIT("0\r\n\r\nGET / HTTP/1.1\r\n"), OK("", .rest = "GET / HTTP/1.1\r\n")},
	{"pipelined_after_trailers", LIT("2\r\nab\r\n0\r\nT: 1\r\n\r\nPOST"), OK("ab", .rest = "POST")},
	{"exactly_max_body", LIT("4\r\nabcd\r\n6\r\nefghij\r\n0\r\n\r\n"), OK("abcdefghij", .lim = &lim_body10)},
	{"max_trailers_exact", LIT("0\r\nA: 1\r\n\r\n"), OK("", .lim = &lim_tr1)},
	{"trailer_bytes_exact", LIT("0\r\nA: 12345\r\n\r\n"), OK("", .lim = &lim_trbytes)},
	{"huge_size_waits_for_data", LIT("7fffffffffffffff\r\nabc"), OK("abc", .incomplete = true, .lim = &lim_huge)},
	{"incomplete_in_data", LIT("5\r\nhel"), OK("hel", .incomplete = true)},
	{"incomplete_before_final_crlf", LIT("5\r\nhello\r\n0\r\n"), OK("hello", .incomplete = true)},
	{"incomplete_in_trailer", LIT("0\r\nX: y\r\n"), OK("", .incomplete = true)},
	{"long_leading_zeros_at_limit", NULL, 0, OK("x")}, /* filled in by setup() */
	/* --- chunk-size ------------------------------------------------------ */
	{"size_missing", LIT("\r\nhello\r\n"), BAD(CHUNK_SIZE)},
	{"size_not_hex", LIT("x\r\n"), BAD(CHUNK_SIZE)},
	{"size_negative", LIT("-1\r\n"), BAD(CHUNK_SIZE)},
	{"size_0x_prefix", LIT("0x5\r\nhello\r\n"), BAD(CHUNK_SIZE)},
	{"size_leading_space", LIT(" 5\r\nhello\r\n"), BAD(CHUNK_SIZE)},
	{"size_then_junk", LIT("5g\r\nhello\r\n"), BAD(CHUNK_SIZE)},
	{"size_plus", LIT("+5\r\nhello\r\n"), BAD(CHUNK_SIZE)},
	{"size_overflow_int64", LIT("8000000000000000\r\n"), BAD(CHUNK_SIZE), .lim = &lim_huge},
	{"size_overflow_long", LIT("fffffffffffffffffffff\r\n"), BAD(CHUNK_SIZE), .lim = &lim_huge},
	{"size_over_max_body", LIT("b\r\n"), BAD(BODY_TOO_LARGE), .lim = &lim_body10},
	{"size_huge_over_max_body", LIT("fffffffffffffffffffff\r\n"), BAD(BODY_TOO_LARGE)},
	{"total_over_max_body", LIT("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"), BAD(BODY_TOO_LARGE),
	 .lim = &lim_body10},
	{"long_leading_zeros_over_limit", NULL, 0, BAD(CHUNK_SIZE)}, /* setup() */
	{"size_bare_lf", LIT("5\nhello\r\n0\r\n\r\n"), BAD(BARE_LF)},
	{"size_bare_cr", LIT("5\rhello\r\n0\r\n\r\n"), BAD(BARE_CR)},
	/* --- chunk-ext ------------------------------------------------------- */
	{"ext_trailing_bws", LIT("5 \r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_empty_name", LIT("5;\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_no_name", LIT("5;=x\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_empty_value", LIT("5;a=\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_name_two_words", LIT("5;a b\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_value_two_words", LIT("5;a=b c\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_bws_after_value", LIT("5;a=b \r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_unterminated_quote", LIT("5;a=\"x\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_junk_after_quote", LIT("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_ctl_in_quote", LIT("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_ctl_in_quoted_pair", LIT("5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_non_token_name", LIT("5;a@b\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_nul", LIT("5;a\0\r\nhello\r\n0\r\n\r\n"), BAD(CHUNK_EXT)},
	{"ext_bare_lf", LIT("5;a\nhello\r\n0\r\n\r\n"), BAD(BARE_LF)},
	{"ext_too_long", NULL, 0, BAD(CHUNK_EXT)}, /* setup() */
	/* --- chunk-data ------------------------------------------------------ */
	{"data_too_long", LIT("5\r\nhelloX\r\n0\r\n\r\n"), BAD(CHUNK_DATA)},
	{"data_cr_without_lf", LIT("5\r\nhello\rX0\r\n\r\n"), BAD(CHUNK_DATA)},
	{"data_lf_only", LIT("5\r\nhello\n0\r\n\r\n"), BAD(CHUNK_DATA)},
	{"data_short_then_size", LIT("5\r\nhell\r\n0\r\n\r\n"), BAD(CHUNK_DATA)},
	/* --- trailers ----------------------------------------------------------- */
	{"trailer_space_before_colon", LIT("0\r\nX : y\r\n\r\n"), BAD(TRAILER)},
	{"trailer_obs_fold", LIT("0\r\nX: y\r\n z\r\n\r\n"), BAD(TRAILER)},
	{"trailer_leading_space", LIT("0\r\n X: y\r\n\r\n"), BAD(TRAILER)},
	{"trailer_no_colon", LIT("0\r\nX\r\n\r\n"), BAD(TRAILER)},
	{"trailer_empty_name", LIT("0\r\n: y\r\n\r\n"), BAD(TRAILER)},
	{"trailer_bad_name", LIT("0\r\nX(y): z\r\n\r\n"), BAD(TRAILER)},
	{"trailer_nul_value", LIT("0\r\nX: a\0\r\n\r\n"), BAD(CTL)},
	{"trailer_del_value", LIT("0\r\nX: a\x7f\r\n\r\n"), BAD(CTL)},
	{"trailer_bare_cr", LIT("0\r\nX: a\rb\r\n\r\n"), BAD(BARE_CR)},
	{"trailer_bare_lf", LIT("0\r\nX: a\n\r\n"), BAD(BARE_LF)},
	{"final_bare_lf", LIT("0\r\n\n"), BAD(BARE_LF)},
	{"final_bare_cr", LIT("0\r\n\rX"), BAD(BARE_CR)},
	{"too_many_trailers", LIT("0\r\nA: 1\r\nB: 2\r\n\r\n"), BAD(TOO_MANY_HEADERS), .lim = &lim_tr1},
	{"trailers_too_large", LIT("0\r\nA: 123456\r\n\r\n"), BAD(HEAD_TOO_LARGE), .lim = &lim_trbytes},
};

static body_case table[HR_ARRAY_LEN(cases)];

/* Builds the rows that need long inputs. */
static void setup(void)
{
	memcpy(table, cases, sizeof cases);
	/* 4095 zeros and "1": the size line is exactly 4096 bytes. */
	memset(long_zeros, '0', 4095);
	memcpy(long_zeros + 4095, "1\r\nx\r\n0\r\n\r\n", 12);
	/* ";" and 4200 name bytes: over the line limit. */
	long_ext[0] = '1';
	long_ext[1] = ';';
	memset(long_ext + 2, 'a', 4200);
	memcpy(long_ext + 4202, "\r\nx\r\n0\r\n\r\n", 11);
	for (size_t i = 0; i < HR_ARRAY_LEN(table); i++) {
		body_case *c = &table[i];
		if (strcmp(c->label, "long_leading_zeros_at_limit") == 0) {
			c->in = long_zeros;
			c->len = strlen(long_zeros);
		} else if (strcmp(c->label, "long_leading_zeros_over_limit") == 0) {
			static char over[4200];
			memset(over, '0', 4100);
			memcpy(over + 4100, "1\r\nx\r\n0\r\n\r\n", 12);
			c->in = over;
			c->len = strlen(over);
		} else if (strcmp(c->label, "ext_too_long") == 0) {
			c->in = long_ext;
			c->len = strlen(long_ext);
		}
	}
}

static const hr_http_limits *case_lim(const body_case *c)
{
	return c->lim ? c->lim : &deflim;
}

static int expected(const body_case *c)
{
	if (c->err)
		return -c->err;
	return c->incomplete ? 0 : 1;
}

/* Decoding state across the pieces of one run. */
typedef struct run {
	hr_http_chunked ch;
	char out[8192];
	size_t out_len;
	size_t consumed;
	int r;
} run;

/* Feeds in[0..n) in its own guarded buffer. */
static void feed(run *st, const body_case *c, const char *in, size_t n)
{
	if (st->r != 0)
		return;
	char *g = hr_test_guard_copy(in, n);
	size_t len = n, out = 0;
	st->r = hr_http_chunked_decode(&st->ch, g, &len, &out, case_lim(c));
	if (st->r >= 0) {
		HR_REQUIRE(len <= n && out <= len && st->out_len + out <= sizeof st->out);
		memcpy(st->out + st->out_len, g, out);
		st->out_len += out;
		st->consumed += len;
		if (st->r == 0)
			HR_CHECKF(len == n, "%s: incomplete call left input", c->label);
	}
	hr_test_guard_free(g, n);
}

static void verify(const run *st, const body_case *c, const char *how)
{
	int want = expected(c);
	HR_CHECKF(st->r == want, "%s (%s): got %d want %d", c->label, how, st->r, want);
	if (want < 0 || st->r != want)
		return;
	size_t olen = strlen(c->out);
	/* Rows with NUL in the output: compare the known bytes. */
	if (strcmp(c->label, "data_contains_nul") == 0)
		olen = 3;
	HR_CHECKF(st->out_len == olen && memcmp(st->out, c->out, olen) == 0,
		  "%s (%s): decoded %zu bytes \"%.*s\"", c->label, how, st->out_len,
		  (int)st->out_len, st->out);
	size_t rest = c->rest ? strlen(c->rest) : 0;
	if (want == 1)
		HR_CHECKF(st->consumed == c->len - rest, "%s (%s): consumed %zu", c->label, how,
			  st->consumed);
	HR_CHECK(st->ch.total == st->out_len);
}

static void test_table_whole(void)
{
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(table); i++) {
		const body_case *c = &table[i];
		run st = {.r = 0};
		hr_http_chunked_init(&st.ch);
		feed(&st, c, c->in, c->len);
		verify(&st, c, "whole");
		/* Sticky: the same result again, consuming nothing more. */
		char dummy[4] = "0\r\n";
		size_t len = 3, out = 9;
		int r = hr_http_chunked_decode(&st.ch, dummy, &len, &out, case_lim(c));
		if (st.r < 0)
			HR_CHECK(r == st.r);
		else if (st.r == 1)
			HR_CHECK(r == 1 && len == 0 && out == 0);
	}
}

static void test_table_splits(void)
{
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(table); i++) {
		const body_case *c = &table[i];
		size_t step = c->len > 512 ? 97 : 1; /* long rows: a sample of splits */
		for (size_t k = 0; k <= c->len; k += step) {
			run st = {.r = 0};
			char how[32];
			hr_http_chunked_init(&st.ch);
			feed(&st, c, c->in, k);
			if (st.r == 0)
				feed(&st, c, c->in + k, c->len - k);
			snprintf(how, sizeof how, "split %zu", k);
			verify(&st, c, how);
		}
	}
}

static void test_table_bytewise(void)
{
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(table); i++) {
		const body_case *c = &table[i];
		run st = {.r = 0};
		hr_http_chunked_init(&st.ch);
		for (size_t k = 0; k < c->len && st.r == 0; k++)
			feed(&st, c, c->in + k, 1);
		verify(&st, c, "bytewise");
	}
}

/* A request head followed by a chunked body, as conn.c will drive them. */
static void test_head_then_body(void)
{
	static const char in[] = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "6;n=v\r\nhello \r\n5\r\nworld\r\n0\r\nX: 1\r\n\r\nGET / HTTP/1.1\r\n";
	char buf[sizeof in];
	memcpy(buf, in, sizeof in);
	hr_http_header hdrs[8];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 8);
	int r = hr_http_parse_head(buf, sizeof in - 1, &deflim, &h);
	HR_REQUIRE(r > 0 && h.chunked && h.content_length == -1);
	hr_http_chunked ch;
	hr_http_chunked_init(&ch);
	size_t len = sizeof in - 1 - (size_t)r, out = 0;
	HR_CHECK(hr_http_chunked_decode(&ch, buf + r, &len, &out, &deflim) == 1);
	HR_CHECK(out == 11 && memcmp(buf + r, "hello world", 11) == 0);
	HR_CHECK(strcmp(buf + r + len, "GET / HTTP/1.1\r\n") == 0);
}

/* Every chunked error code has a row. */
static void test_table_covers_chunked_errors(void)
{
	static const int codes[] = {HR_HTTP_E_CHUNK_SIZE, HR_HTTP_E_CHUNK_EXT, HR_HTTP_E_CHUNK_DATA,
				    HR_HTTP_E_TRAILER,	  HR_HTTP_E_BODY_TOO_LARGE, HR_HTTP_E_BARE_CR,
				    HR_HTTP_E_BARE_LF,	  HR_HTTP_E_CTL, HR_HTTP_E_TOO_MANY_HEADERS,
				    HR_HTTP_E_HEAD_TOO_LARGE};
	for (size_t j = 0; j < HR_ARRAY_LEN(codes); j++) {
		bool seen = false;
		for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++)
			seen |= cases[i].err == codes[j];
		HR_CHECKF(seen, "no row for %d", codes[j]);
	}
}

static const hr_test_case tests[] = {
	{"table_whole", test_table_whole},
	{"table_splits", test_table_splits},
	{"table_bytewise", test_table_bytewise},
	{"head_then_body", test_head_then_body},
	{"table_covers_chunked_errors", test_table_covers_chunked_errors},
};

HR_TEST_MAIN(tests)

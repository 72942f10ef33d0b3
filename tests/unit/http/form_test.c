/*
 * tests/unit/http/form_test.c - multipart/form-data and urlencoded bodies
 * (src/http/form.c).
 *
 * Three tables: Content-Type boundary extraction, multipart bodies and
 * urlencoded bodies, one labelled row each with the result code and, for
 * successes, a dump of the parts ("name[file=f][type=t]=data" joined by
 * " | ", bytes outside printable ASCII and '|' '\' as \xHH). Every row is
 * parsed
 *   - whole, in a buffer that ends right before a PROT_NONE page;
 *   - truncated at every byte, each prefix in its own guarded buffer: a
 *     prefix of a valid body may only succeed with exactly the whole
 *     body's parts (parsing stops at the first close delimiter, so a
 *     shorter success would mean a delimiter was invented), and no prefix
 *     may read past its end.
 * Beside the tables: generated binary file data full of boundary
 * fragments against a naive oracle, the part and header limits, and
 * out-of-memory at every allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "harness/unit.h"
#include "http/form.h"

#define LIT(s) s, sizeof(s) - 1

/* ---- helpers --------------------------------------------------------- */

static void dump_bytes(char *o, size_t cap, size_t *k, hr_str s)
{
	for (size_t i = 0; i < s.len && *k + 5 < cap; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\')
			*k += (size_t)snprintf(o + *k, cap - *k, "\\x%02X", c);
		else
			o[(*k)++] = (char)c;
	}
	o[*k] = '\0';
}

static void dump_raw(char *o, size_t cap, size_t *k, const char *lit)
{
	size_t n = strlen(lit);
	if (*k + n < cap) {
		memcpy(o + *k, lit, n);
		*k += n;
		o[*k] = '\0';
	}
}

/* Renders parts as described at the top. */
static void dump(const hr_form_part *p, unsigned n, char *o, size_t cap)
{
	size_t k = 0;
	o[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (i)
			dump_raw(o, cap, &k, " | ");
		dump_bytes(o, cap, &k, p[i].name);
		if (p[i].is_file) {
			dump_raw(o, cap, &k, "[file=");
			dump_bytes(o, cap, &k, p[i].filename);
			dump_raw(o, cap, &k, "]");
		}
		if (p[i].content_type.len) {
			dump_raw(o, cap, &k, "[type=");
			dump_bytes(o, cap, &k, p[i].content_type);
			dump_raw(o, cap, &k, "]");
		}
		dump_raw(o, cap, &k, "=");
		dump_bytes(o, cap, &k, p[i].data);
		/* Empty slices still point somewhere. */
		HR_CHECK(p[i].name.ptr && p[i].data.ptr && p[i].filename.ptr && p[i].content_type.ptr);
	}
}

typedef struct env {
	char first[512];
	hr_arena a;
} env;

static void env_init(env *e)
{
	hr_arena_init(&e->a, e->first, sizeof e->first, (size_t)64 << 20);
}

/* ---- boundary --------------------------------------------------------- */

typedef struct ct_case {
	const char *label;
	const char *ct;
	int rc;
	const char *boundary;
} ct_case;

#define B70 "0123456789012345678901234567890123456789012345678901234567890123456789"

static const ct_case ct_cases[] = {
	{"plain", "multipart/form-data; boundary=X", 0, "X"},
	{"webkit", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", 0,
	 "----WebKitFormBoundary7MA4YWxkTrZu0gW"},
	{"case_insensitive_type_and_param", "Multipart/Form-Data; BOUNDARY=abc", 0, "abc"},
	{"quoted", "multipart/form-data; boundary=\"abc\"", 0, "abc"},
	{"quoted_with_space", "multipart/form-data; boundary=\"a b\"", 0, "a b"},
	{"quoted_specials", "multipart/form-data; boundary=\"a:b=c?d/(e),f\"", 0, "a:b=c?d/(e),f"},
	{"other_params", "multipart/form-data; charset=utf-8; boundary=abc; x=\"y;z\"", 0, "abc"},
	{"no_space", "multipart/form-data;boundary=abc", 0, "abc"},
	{"ows_everywhere", "  multipart/form-data ;  boundary = abc ; ", 0, "abc"},
	{"empty_params", "multipart/form-data;; boundary=abc;;", 0, "abc"},
	{"len_70", "multipart/form-data; boundary=" B70, 0, B70},
	{"bad_len_71", "multipart/form-data; boundary=" B70 "x", HR_EPARSE, NULL},
	{"bad_missing", "multipart/form-data", HR_EPARSE, NULL},
	{"bad_missing_with_params", "multipart/form-data; charset=utf-8", HR_EPARSE, NULL},
	{"bad_empty_token", "multipart/form-data; boundary=", HR_EPARSE, NULL},
	{"bad_empty_quoted", "multipart/form-data; boundary=\"\"", HR_EPARSE, NULL},
	{"bad_trailing_space", "multipart/form-data; boundary=\"ab \"", HR_EPARSE, NULL},
	{"bad_backslash", "multipart/form-data; boundary=\"a\\b\"", HR_EPARSE, NULL},
	{"bad_non_bchar_quoted", "multipart/form-data; boundary=\"a@b\"", HR_EPARSE, NULL},
	{"bad_non_bchar_token", "multipart/form-data; boundary=a~b", HR_EPARSE, NULL},
	{"bad_junk_after_token", "multipart/form-data; boundary=a b", HR_EPARSE, NULL},
	{"bad_unterminated", "multipart/form-data; boundary=\"abc", HR_EPARSE, NULL},
	{"bad_duplicate", "multipart/form-data; boundary=a; boundary=b", HR_EPARSE, NULL},
	{"bad_no_semicolon", "multipart/form-data boundary=abc", HR_EPARSE, NULL},
	{"bad_other_type", "multipart/mixed; boundary=abc", HR_EPARSE, NULL},
	{"bad_text", "text/plain; boundary=abc", HR_EPARSE, NULL},
	{"bad_no_subtype", "multipart/; boundary=abc", HR_EPARSE, NULL},
	{"bad_empty", "", HR_EPARSE, NULL},
	{"bad_param_no_name", "multipart/form-data; =abc", HR_EPARSE, NULL},
	{"bad_param_no_value", "multipart/form-data; boundary", HR_EPARSE, NULL},
	{"bad_rfc2231", "multipart/form-data; boundary*=abc", HR_EPARSE, NULL},
	{"bad_ctl", "multipart/form-data; boundary=\"a\x01\"", HR_EPARSE, NULL},
	{"bad_typed_suffix", "multipart/form-datax; boundary=abc", HR_EPARSE, NULL},
};

static void test_boundary(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(ct_cases); i++) {
		const ct_case *c = &ct_cases[i];
		size_t n = strlen(c->ct);
		char *g = hr_test_guard_copy(c->ct, n);
		hr_str b = HR_STR("untouched");
		int rc = hr_multipart_boundary(hr_str_make(g, n), &b);
		HR_CHECKF(rc == c->rc, "%s: rc %d", c->label, rc);
		if (rc == 0 && c->boundary)
			HR_CHECKF(hr_str_eq(b, hr_str_make(c->boundary, strlen(c->boundary))),
				  "%s: boundary \"%.*s\"", c->label, (int)b.len, b.ptr);
		if (rc != 0)
			HR_CHECKF(hr_str_eq_lit(b, "untouched"), "%s: output changed", c->label);
		hr_test_guard_free(g, n);
	}
}

/* ---- multipart table ---------------------------------------------------- */

typedef struct mp_case {
	const char *label;
	const char *boundary;
	const char *body;
	size_t len;
	int rc;
	const char *dump;    /* expected on success */
	unsigned max_parts;  /* 0: 100 */
} mp_case;

#define CD(n) "Content-Disposition: form-data; name=\"" n "\"\r\n"
#define PART(n, v) "--X\r\n" CD(n) "\r\n" v "\r\n"
#define OK(d) .rc = 0, .dump = (d)
#define BAD(e) .rc = HR_##e, .dump = NULL

static const mp_case mp_cases[] = {
	/* --- valid --------------------------------------------------------- */
	{"sdk_example_dialect_8_3", "X",
	 LIT("--X\r\n"
	     "Content-Disposition: form-data; name=\"title\"\r\n"
	     "\r\n"
	     "Hello\r\n"
	     "--X\r\n"
	     "Content-Disposition: form-data; name=\"@jsonPayload\"\r\n"
	     "\r\n"
	     "{\"meta\":{\"tags\":[\"a\",\"b\"]}}\r\n"
	     "--X\r\n"
	     "Content-Disposition: form-data; name=\"cover\"; filename=\"My Photo.PNG\"\r\n"
	     "Content-Type: image/png\r\n"
	     "\r\n"
	     "<bytes>\r\n"
	     "--X--\r\n"),
	 OK("title=Hello | @jsonPayload={\"meta\":{\"tags\":[\"a\",\"b\"]}} | "
	    "cover[file=My Photo.PNG][type=image/png]=<bytes>")},
	{"one_part", "X", LIT(PART("a", "1") "--X--"), OK("a=1")},
	{"close_then_crlf", "X", LIT(PART("a", "1") "--X--\r\n"), OK("a=1")},
	{"close_padding_end", "X", LIT(PART("a", "1") "--X-- \t"), OK("a=1")},
	{"close_padding_crlf_epilogue", "X", LIT(PART("a", "1") "--X--  \r\nbye --X\r\n--X--"),
	 OK("a=1")},
	{"zero_parts", "X", LIT("--X--"), OK("")},
	{"zero_parts_crlf", "X", LIT("--X--\r\n"), OK("")},
	{"zero_parts_after_preamble", "X", LIT("hello\r\n--X--"), OK("")},
	{"preamble", "X", LIT("This is the preamble.\r\nIt is ignored.\r\n" PART("a", "1") "--X--"),
	 OK("a=1")},
	{"preamble_lookalike_lines", "X",
	 LIT("--X junk\r\n--Xy\r\n--X-\r\nx--X\r\n" PART("a", "1") "--X--"), OK("a=1")},
	{"preamble_with_bare_lf_delimiter", "X", LIT("--X\n\r\n" PART("a", "1") "--X--"), OK("a=1")},
	{"delimiter_padding", "X",
	 LIT("--X \t\r\n" CD("a") "\r\n1\r\n--X\t\r\n" CD("b") "\r\n2\r\n--X--"), OK("a=1 | b=2")},
	{"empty_value", "X", LIT(PART("a", "") "--X--"), OK("a=")},
	{"empty_value_no_crlf", "X", LIT("--X\r\n" CD("a") "\r\n--X--"), OK("a=")},
	{"empty_value_then_part", "X", LIT("--X\r\n" CD("a") "\r\n--X\r\n" CD("b") "\r\n2\r\n--X--"),
	 OK("a= | b=2")},
	{"value_crlfs", "X", LIT(PART("a", "line1\r\nline2\r\n") "--X--"),
	 OK("a=line1\\x0D\\x0Aline2\\x0D\\x0A")},
	{"value_only_crlf", "X", LIT(PART("a", "\r\n") "--X--"), OK("a=\\x0D\\x0A")},
	{"value_boundary_then_letter", "X", LIT(PART("a", "x\r\n--Xy") "--X--"),
	 OK("a=x\\x0D\\x0A--Xy")},
	{"value_boundary_then_one_dash", "X", LIT(PART("a", "x\r\n--X-y") "--X--"),
	 OK("a=x\\x0D\\x0A--X-y")},
	{"value_boundary_mid_line", "X", LIT(PART("a", "a--X b--X--") "--X--"), OK("a=a--X b--X--")},
	{"value_lf_boundary", "X", LIT(PART("a", "x\n--X\r\ny") "--X--"),
	 OK("a=x\\x0A--X\\x0D\\x0Ay")},
	{"value_cr_boundary", "X", LIT(PART("a", "x\r--X\r\ny") "--X--"),
	 OK("a=x\\x0D--X\\x0D\\x0Ay")},
	{"value_starts_like_boundary", "X", LIT(PART("a", "--Xyz") "--X--"), OK("a=--Xyz")},
	{"value_partial_boundary", "XYZ",
	 LIT("--XYZ\r\n" CD("a") "\r\n\r\n--XY\r\n--X\r\n\r\n--XYZ--"),
	 OK("a=\\x0D\\x0A--XY\\x0D\\x0A--X\\x0D\\x0A")},
	{"binary_file", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.bin\"\r\n"
	     "Content-Type: application/octet-stream\r\n\r\n"
	     "\x00\xff\r\n-\r\n--\r\n--x\r\n\x00--X\r\n--X--"),
	 OK("f[file=b.bin][type=application/octet-stream]="
	    "\\x00\\xFF\\x0D\\x0A-\\x0D\\x0A--\\x0D\\x0A--x\\x0D\\x0A\\x00--X")},
	{"unquoted_name", "X", LIT("--X\r\nContent-Disposition: form-data; name=title\r\n\r\nv\r\n--X--"),
	 OK("title=v")},
	{"header_case", "X",
	 LIT("--X\r\ncontent-disposition: FORM-DATA; NAME=\"a\"; FileName=\"f\"\r\n"
	     "CONTENT-TYPE: text/plain\r\n\r\nv\r\n--X--"),
	 OK("a[file=f][type=text/plain]=v")},
	{"param_ows", "X",
	 LIT("--X\r\nContent-Disposition: form-data ;name = \"a\" ;  filename= \"f\" ;\r\n\r\nv\r\n--X--"),
	 OK("a[file=f]=v")},
	{"header_value_ows", "X",
	 LIT("--X\r\nContent-Disposition:form-data; name=\"a\"\t \r\nContent-Type: \t text/x \r\n\r\nv\r\n--X--"),
	 OK("a[type=text/x]=v")},
	{"escaped_quote_in_name", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\nv\r\n--X--"), OK("a\"b=v")},
	{"escaped_backslash", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x\\\\y\"\r\n\r\nv\r\n--X--"),
	 OK("a[file=x\\x5Cy]=v")},
	{"msie_path_backslashes", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"C:\\dir\\f.txt\"\r\n\r\nv\r\n--X--"),
	 OK("a[file=C:\\x5Cdir\\x5Cf.txt]=v")},
	{"utf8_filename", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"caf\xc3\xa9.png\"\r\n\r\nv\r\n--X--"),
	 OK("a[file=caf\\xC3\\xA9.png]=v")},
	{"filename_star", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''n%C3%A4me.txt\r\n\r\nv\r\n--X--"),
	 OK("a[file=n\\xC3\\xA4me.txt]=v")},
	{"filename_star_wins", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"fallback.txt\"; "
	     "filename*=utf-8'en'real%20name.txt\r\n\r\nv\r\n--X--"),
	 OK("a[file=real name.txt]=v")},
	{"filename_star_bad_charset_ignored", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"fb\"; "
	     "filename*=iso-8859-1''x%E9\r\n\r\nv\r\n--X--"),
	 OK("a[file=fb]=v")},
	{"filename_star_bad_escape_alone", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''x%zz\r\n\r\nv\r\n--X--"),
	 OK("a=v")},
	{"filename_empty", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\"\r\n"
	     "Content-Type: application/octet-stream\r\n\r\n\r\n--X--"),
	 OK("a[file=][type=application/octet-stream]=")},
	{"other_headers_ignored", "X",
	 LIT("--X\r\nX-Foo: bar\r\n" CD("a") "X-Empty:\r\n\r\nv\r\n--X--"), OK("a=v")},
	{"cte_binary", "X",
	 LIT("--X\r\n" CD("a") "Content-Transfer-Encoding: BINARY\r\n\r\nv\r\n--X--"), OK("a=v")},
	{"cte_8bit", "X", LIT("--X\r\n" CD("a") "Content-Transfer-Encoding: 8bit\r\n\r\nv\r\n--X--"),
	 OK("a=v")},
	{"header_obs_text_htab", "X",
	 LIT("--X\r\n" CD("a") "X-A: \xe2\x82\xac\tz\r\n\r\nv\r\n--X--"), OK("a=v")},
	{"repeated_names", "X", LIT(PART("a", "1") PART("a", "2") "--X--"), OK("a=1 | a=2")},
	{"webkit_boundary", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
	 LIT("------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" CD("name") "\r\nAda\r\n"
	     "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"),
	 OK("name=Ada")},
	{"boundary_specials", "a'()+_,-./:=?z",
	 LIT("--a'()+_,-./:=?z\r\n" CD("a") "\r\nv\r\n--a'()+_,-./:=?z--"), OK("a=v")},
	{"boundary_with_space", "a b",
	 LIT("--a b\r\n" CD("a") "\r\nv\r\n--a b--"), OK("a=v")},
	{"boundary_70", B70,
	 LIT("--" B70 "\r\n" CD("a") "\r\nv\r\n--" B70 "--"), OK("a=v")},
	{"boundary_dashes", "--",
	 LIT("----\r\n" CD("a") "\r\nv-\r\n------"), OK("a=v-")},
	{"max_parts_exact", "X", LIT(PART("a", "1") PART("b", "2") "--X--"), OK("a=1 | b=2"), .max_parts = 2},
	/* --- framing errors ---------------------------------------------- */
	{"empty_body", "X", LIT(""), BAD(EPARSE)},
	{"no_boundary_at_all", "X", LIT("hello world"), BAD(EPARSE)},
	{"wrong_boundary", "X", LIT("--Y\r\n" CD("a") "\r\nv\r\n--Y--"), BAD(EPARSE)},
	{"no_close", "X", LIT("--X\r\n" CD("a") "\r\nvalue"), BAD(EPARSE)},
	{"no_close_ends_with_delimiter", "X", LIT("--X\r\n" CD("a") "\r\nv\r\n--X"), BAD(EPARSE)},
	{"no_close_ends_with_dash", "X", LIT("--X\r\n" CD("a") "\r\nv\r\n--X-"), BAD(EPARSE)},
	{"no_close_ends_with_crlf", "X", LIT("--X\r\n" CD("a") "\r\nv\r\n--X\r\n"), BAD(EPARSE)},
	{"close_then_garbage", "X", LIT(PART("a", "1") "--X--garbage"), BAD(EPARSE)},
	{"close_padding_then_garbage", "X", LIT(PART("a", "1") "--X-- x"), BAD(EPARSE)},
	{"close_then_bare_lf", "X", LIT(PART("a", "1") "--X--\nepilogue"), BAD(EPARSE)},
	{"close_then_bare_cr", "X", LIT(PART("a", "1") "--X--\r"), BAD(EPARSE)},
	{"delimiter_padding_then_junk", "X", LIT(PART("a", "1") "--X \tx\r\n" CD("b") "\r\n\r\n--X--"),
	 BAD(EPARSE)},
	{"delimiter_bare_lf", "X", LIT(PART("a", "1") "--X\n" CD("b") "\r\n\r\n--X--"), BAD(EPARSE)},
	{"delimiter_bare_cr", "X", LIT(PART("a", "1") "--X\rjunk\r\n--X--"), BAD(EPARSE)},
	{"lf_only_everything", "X",
	 LIT("--X\nContent-Disposition: form-data; name=\"a\"\n\nv\n--X--\n"), BAD(EPARSE)},
	/* --- part header errors ------------------------------------------ */
	{"header_bare_lf", "X", LIT("--X\r\nContent-Disposition: form-data; name=\"a\"\n\r\nv\r\n--X--"),
	 BAD(EPARSE)},
	{"header_bare_cr", "X", LIT("--X\r\nContent-Disposition: form-data; name=\"a\"\r\r\nv\r\n--X--"),
	 BAD(EPARSE)},
	{"header_blank_line_bare_lf", "X", LIT("--X\r\n" CD("a") "\nv\r\n--X--"), BAD(EPARSE)},
	{"header_obs_fold", "X",
	 LIT("--X\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"header_space_before_colon", "X",
	 LIT("--X\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"header_no_colon", "X", LIT("--X\r\n" CD("a") "Junk\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"header_empty_name", "X", LIT("--X\r\n" CD("a") ": x\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"header_nul", "X", LIT("--X\r\n" CD("a") "X-A: a\0b\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"header_del", "X", LIT("--X\r\n" CD("a") "X-A: a\x7f\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"headers_end_at_eof", "X", LIT("--X\r\n" CD("a")), BAD(EPARSE)},
	{"headers_cut_mid_line", "X", LIT("--X\r\nContent-Disposition: form"), BAD(EPARSE)},
	{"no_headers", "X", LIT("--X\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"no_disposition", "X", LIT("--X\r\nContent-Type: text/plain\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_attachment", "X",
	 LIT("--X\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_no_name", "X",
	 LIT("--X\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_empty_name", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_duplicate_name", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nv\r\n--X--"),
	 BAD(EPARSE)},
	{"disposition_duplicate_filename", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"; filename=x; FILENAME=y\r\n\r\nv\r\n--X--"),
	 BAD(EPARSE)},
	{"disposition_twice", "X", LIT("--X\r\n" CD("a") CD("b") "\r\nv\r\n--X--"), BAD(EPARSE)},
	{"content_type_twice", "X",
	 LIT("--X\r\n" CD("a") "Content-Type: a/b\r\nContent-Type: c/d\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_unterminated_quote", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_junk_after_quote", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_param_without_value", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"disposition_ctl_in_quote", "X",
	 LIT("--X\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	{"cte_base64", "X",
	 LIT("--X\r\n" CD("a") "Content-Transfer-Encoding: base64\r\n\r\ndg==\r\n--X--"), BAD(EPARSE)},
	{"cte_quoted_printable", "X",
	 LIT("--X\r\n" CD("a") "Content-Transfer-Encoding: quoted-printable\r\n\r\nv\r\n--X--"),
	 BAD(EPARSE)},
	{"second_part_bad", "X", LIT(PART("a", "1") "--X\r\nX: y\r\n\r\nv\r\n--X--"), BAD(EPARSE)},
	/* --- limits and arguments ------------------------------------------ */
	{"too_many_parts", "X", LIT(PART("a", "1") PART("b", "2") "--X--"), BAD(ELIMIT), .max_parts = 1},
	{"invalid_boundary_arg_space_end", "X ", LIT("--X \r\n" CD("a") "\r\nv\r\n--X --"), BAD(EPARSE)},
	{"invalid_boundary_arg_quote", "a\"b", LIT("--a\"b\r\n" CD("a") "\r\nv\r\n--a\"b--"),
	 BAD(EPARSE)},
	{"invalid_boundary_arg_71", B70 "x", LIT("--" B70 "x\r\n" CD("a") "\r\nv\r\n--" B70 "x--"),
	 BAD(EPARSE)},
	{"invalid_boundary_arg_empty", "", LIT("--\r\n" CD("a") "\r\nv\r\n----"), BAD(EPARSE)},
};

static int parse_mp(const mp_case *c, const char *body, size_t len, hr_form_part **parts,
		    unsigned *n, env *e, const char **why)
{
	return hr_multipart_parse(&e->a, hr_str_make(body, len),
				  hr_str_make(c->boundary, strlen(c->boundary)),
				  c->max_parts ? c->max_parts : 100, parts, n, why);
}

static void test_multipart_table(void)
{
	char got[4096];
	for (size_t i = 0; i < HR_ARRAY_LEN(mp_cases); i++) {
		const mp_case *c = &mp_cases[i];
		env e;
		env_init(&e);
		char *g = hr_test_guard_copy(c->body, c->len);
		hr_form_part *parts = (hr_form_part *)&e; /* sentinel: untouched on failure */
		unsigned n = 12345;
		const char *why = NULL;
		int rc = parse_mp(c, g, c->len, &parts, &n, &e, &why);
		HR_CHECKF(rc == c->rc, "%s: rc %d (%s)", c->label, rc, why ? why : "-");
		if (rc == 0 && c->rc == 0) {
			dump(parts, n, got, sizeof got);
			HR_CHECKF(strcmp(got, c->dump) == 0, "%s:\n     got  %s\n     want %s", c->label,
				  got, c->dump);
		}
		if (rc != 0) {
			HR_CHECKF(why != NULL, "%s: no reason", c->label);
			HR_CHECKF(n == 12345 && parts == (hr_form_part *)&e, "%s: outputs changed",
				  c->label);
		}
		hr_test_guard_free(g, c->len);
		hr_arena_dispose(&e.a);
	}
}

/* Every prefix: no over-read, and success only with the whole answer. */
static void test_multipart_prefixes(void)
{
	char got[4096], want[4096];
	for (size_t i = 0; i < HR_ARRAY_LEN(mp_cases); i++) {
		const mp_case *c = &mp_cases[i];
		env e;
		env_init(&e);
		hr_form_part *parts;
		unsigned n;
		int full = parse_mp(c, c->body, c->len, &parts, &n, &e, NULL);
		if (full == 0)
			dump(parts, n, want, sizeof want);
		for (size_t k = 0; k < c->len; k++) {
			char *g = hr_test_guard_copy(c->body, k);
			int rc = parse_mp(c, g, k, &parts, &n, &e, NULL);
			/* A failing row may have a valid body as a prefix (the
			 * garbage is after its close delimiter). */
			if (rc == 0 && full == 0) {
				dump(parts, n, got, sizeof got);
				HR_CHECKF(strcmp(got, want) == 0, "%s: prefix %zu gives %s", c->label, k,
					  got);
			}
			hr_test_guard_free(g, k);
		}
		hr_arena_dispose(&e.a);
	}
}

/* Every row, with the close delimiter's CRLF split off into the epilogue
 * check: "...--X--\r" must fail, "...--X--\r\n" must succeed. */
static void test_split_crlf_after_close(void)
{
	static const char body[] = PART("a", "1") "--X--\r\n";
	env e;
	env_init(&e);
	hr_form_part *parts;
	unsigned n;
	hr_str b = HR_STR("X");
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, sizeof body - 2), b, 10, &parts, &n,
				    NULL) == HR_EPARSE);
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, sizeof body - 1), b, 10, &parts, &n,
				    NULL) == 0 && n == 1);
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, sizeof body - 3), b, 10, &parts, &n,
				    NULL) == 0 && n == 1);
	hr_arena_dispose(&e.a);
}

/* ---- generated binary data ---------------------------------------------- */

static unsigned long rng_state = 12345;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng_state >> 33) % n);
}

/* Naive oracle: would data (followed by CRLF "--B--") end early? */
static bool oracle_has_delimiter(const char *d, size_t n, const char *b)
{
	size_t bl = strlen(b);
	char full[1024];
	size_t fl = 0;
	memcpy(full, d, n);
	fl = n;
	memcpy(full + fl, "\r\n--", 4);
	memcpy(full + fl + 4, b, bl);
	memcpy(full + fl + 4 + bl, "--", 2);
	fl += 6 + bl;
	for (size_t p = 0; p < n; p++) {
		bool at_start = p == 0 && fl >= 2 + bl && memcmp(full, "--", 2) == 0 &&
				memcmp(full + 2, b, bl) == 0;
		bool crlf = fl - p >= 4 + bl && memcmp(full + p, "\r\n--", 4) == 0 &&
			    memcmp(full + p + 4, b, bl) == 0;
		size_t after;
		if (at_start)
			after = 2 + bl;
		else if (crlf)
			after = p + 4 + bl;
		else
			continue;
		char c = full[after];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-')
			return true;
	}
	return false;
}

static void test_binary_fragments(void)
{
	static const char alphabet[] = "\r\n-Bb\0 \tx\xff";
	const char *bnd = "Bb-B";
	unsigned tested = 0;
	for (unsigned iter = 0; iter < 20000; iter++) {
		char data[256];
		size_t n = rnd(200);
		for (size_t i = 0; i < n; i++) {
			/* Bias toward boundary fragments. */
			if (rnd(4) == 0 && i + 8 < n) {
				static const char *frags[] = {"\r\n--Bb-B", "\r\n--Bb-", "\r\n--B",
							      "--Bb-B", "\r\n--Bb-Bx"};
				const char *f = frags[rnd(5)];
				size_t fl = strlen(f);
				if (i + fl > n)
					fl = n - i;
				memcpy(data + i, f, fl);
				i += fl - 1;
			} else {
				data[i] = alphabet[rnd(sizeof alphabet - 1)];
			}
		}
		if (oracle_has_delimiter(data, n, bnd))
			continue;
		tested++;
		char body[600];
		static const char head[] =
			"--Bb-B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n";
		size_t k = sizeof head - 1;
		memcpy(body, head, k);
		memcpy(body + k, data, n);
		memcpy(body + k + n, "\r\n--Bb-B--", 10);
		size_t len = k + n + 10;
		env e;
		env_init(&e);
		char *g = hr_test_guard_copy(body, len);
		hr_form_part *parts;
		unsigned np;
		int rc = hr_multipart_parse(&e.a, hr_str_make(g, len), hr_str_make(bnd, strlen(bnd)), 4,
					    &parts, &np, NULL);
		HR_CHECKF(rc == 0 && np == 1 && parts[0].data.len == n &&
				  memcmp(parts[0].data.ptr, data, n) == 0,
			  "iteration %u: rc %d", iter, rc);
		hr_test_guard_free(g, len);
		hr_arena_dispose(&e.a);
		if (hr_test_failures)
			return;
	}
	HR_CHECKF(tested > 1000, "only %u bodies tested", tested);
}

/* ---- limits ------------------------------------------------------------- */

static void test_header_limits(void)
{
	static char body[64 * 1024];
	size_t k = 0;
	k += (size_t)sprintf(body + k, "--X\r\n" CD("a"));
	for (int i = 1; i < HR_FORM_MAX_PART_HEADERS; i++)
		k += (size_t)sprintf(body + k, "X-H%d: v\r\n", i);
	size_t mark = k;
	k += (size_t)sprintf(body + k, "\r\nv\r\n--X--");
	env e;
	env_init(&e);
	hr_form_part *parts;
	unsigned n;
	hr_str b = HR_STR("X");
	/* Exactly the maximum number of lines. */
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 10, &parts, &n, NULL) == 0);
	/* One more. */
	k = mark + (size_t)sprintf(body + mark, "X-Last: v\r\n\r\nv\r\n--X--");
	const char *why = NULL;
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 10, &parts, &n, &why) ==
		 HR_ELIMIT);
	HR_CHECK(why && strstr(why, "headers"));
	/* One long header over the byte limit. */
	k = (size_t)sprintf(body, "--X\r\n" CD("a") "X-Long: ");
	memset(body + k, 'y', HR_FORM_MAX_PART_HEAD);
	k += HR_FORM_MAX_PART_HEAD;
	k += (size_t)sprintf(body + k, "\r\n\r\nv\r\n--X--");
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 10, &parts, &n, NULL) ==
		 HR_ELIMIT);
	hr_arena_dispose(&e.a);
}

static void test_many_parts(void)
{
	static char body[200 * 1000];
	size_t k = 0;
	for (int i = 0; i < 1000; i++)
		k += (size_t)sprintf(body + k, "--X\r\nContent-Disposition: form-data; name=\"k%d\"\r\n\r\n%d\r\n",
				     i, i);
	k += (size_t)sprintf(body + k, "--X--");
	env e;
	env_init(&e);
	hr_form_part *parts;
	unsigned n;
	hr_str b = HR_STR("X");
	HR_REQUIRE(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 1000, &parts, &n, NULL) == 0);
	HR_CHECK(n == 1000 && hr_str_eq_lit(parts[999].name, "k999") &&
		 hr_str_eq_lit(parts[999].data, "999"));
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 999, &parts, &n, NULL) ==
		 HR_ELIMIT);
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, k), b, 0, &parts, &n, NULL) == HR_ELIMIT);
	hr_arena_dispose(&e.a);
}

/* ---- urlencoded ------------------------------------------------------------ */

typedef struct ue_case {
	const char *label;
	const char *body;
	size_t len;
	int rc;
	const char *dump;
	unsigned max_parts;
} ue_case;

static const ue_case ue_cases[] = {
	{"two", LIT("a=1&b=2"), OK("a=1 | b=2")},
	{"repeated", LIT("a=1&a=2"), OK("a=1 | a=2")},
	{"plus_is_space", LIT("a+b=c+d"), OK("a b=c d")},
	{"percent", LIT("a%20b=%2B%26%3D%25"), OK("a b=+&=%")},
	{"percent_lower_hex", LIT("a=%e2%82%ac"), OK("a=\\xE2\\x82\\xAC")},
	{"percent_semicolon", LIT("a=%3B"), OK("a=;")},
	{"percent_nul", LIT("a=%00"), OK("a=\\x00")},
	{"no_equals", LIT("flag"), OK("flag=")},
	{"empty_value", LIT("a="), OK("a=")},
	{"empty_name", LIT("=x"), OK("=x")},
	{"only_equals", LIT("="), OK("=")},
	{"second_equals_in_value", LIT("a=b=c"), OK("a=b=c")},
	{"empty_pairs_skipped", LIT("&a=1&&b=2&"), OK("a=1 | b=2")},
	{"only_ampersands", LIT("&&&"), OK("")},
	{"empty", LIT(""), OK("")},
	{"raw_utf8", LIT("n=caf\xc3\xa9"), OK("n=caf\\xC3\\xA9")},
	{"raw_specials", LIT("a=?/:@!$'()*,"), OK("a=?/:@!$'()*,")},
	{"json_payload", LIT("%40jsonPayload=%7B%22a%22%3A1%7D"), OK("@jsonPayload={\"a\":1}")},
	{"max_exact", LIT("a&b"), OK("a= | b="), .max_parts = 2},
	{"bad_percent_end", LIT("a=%"), BAD(EPARSE)},
	{"bad_percent_one_digit", LIT("a=%2"), BAD(EPARSE)},
	{"bad_percent_non_hex", LIT("a=%zz"), BAD(EPARSE)},
	{"bad_percent_half_hex", LIT("a=%2g"), BAD(EPARSE)},
	{"bad_percent_in_name", LIT("%=1"), BAD(EPARSE)},
	{"bad_percent_later_pair", LIT("a=1&b=%x1"), BAD(EPARSE)},
	{"bad_semicolon", LIT("a=1;b=2"), BAD(EPARSE)},
	{"bad_semicolon_in_name", LIT("a;=1"), BAD(EPARSE)},
	{"too_many", LIT("a&b&c"), BAD(ELIMIT), .max_parts = 2},
};

static void test_urlencoded_table(void)
{
	char got[2048];
	for (size_t i = 0; i < HR_ARRAY_LEN(ue_cases); i++) {
		const ue_case *c = &ue_cases[i];
		env e;
		env_init(&e);
		char *g = hr_test_guard_copy(c->body, c->len);
		hr_form_part *parts = (hr_form_part *)&e;
		unsigned n = 777;
		const char *why = NULL;
		int rc = hr_urlencoded_parse(&e.a, hr_str_make(g, c->len),
					     c->max_parts ? c->max_parts : 100, &parts, &n, &why);
		HR_CHECKF(rc == c->rc, "%s: rc %d", c->label, rc);
		if (rc == 0 && c->rc == 0) {
			dump(parts, n, got, sizeof got);
			HR_CHECKF(strcmp(got, c->dump) == 0, "%s:\n     got  %s\n     want %s", c->label,
				  got, c->dump);
			for (unsigned k = 0; k < n; k++)
				HR_CHECK(!parts[k].is_file && parts[k].filename.len == 0 &&
					 parts[k].content_type.len == 0);
		} else if (rc != 0) {
			HR_CHECKF(why != NULL && n == 777 && parts == (hr_form_part *)&e,
				  "%s: outputs changed or no reason", c->label);
		}
		hr_test_guard_free(g, c->len);
		/* Every prefix in a guarded buffer: no over-read. */
		for (size_t k = 0; k < c->len; k++) {
			char *p = hr_test_guard_copy(c->body, k);
			(void)hr_urlencoded_parse(&e.a, hr_str_make(p, k), 100, &parts, &n, NULL);
			hr_test_guard_free(p, k);
		}
		hr_arena_dispose(&e.a);
	}
}

/* ---- out of memory ---------------------------------------------------------- */

static void test_oom_every_allocation(void)
{
	const mp_case *c = &mp_cases[0]; /* the SDK example */
	bool succeeded = false;
	for (long k = 0; k < 64 && !succeeded; k++) {
		char small[16];
		hr_arena a;
		hr_arena_init(&a, small, sizeof small, 1 << 20);
		a.fail_after = k;
		hr_form_part *parts;
		unsigned n;
		int rc = hr_multipart_parse(&a, hr_str_make(c->body, c->len), HR_STR("X"), 10, &parts,
					    &n, NULL);
		HR_CHECKF(rc == 0 || rc == HR_ENOMEM, "fail_after %ld: rc %d", k, rc);
		succeeded = rc == 0;
		hr_arena_dispose(&a);
	}
	HR_CHECK(succeeded);
	/* Escaped names copy into the arena. */
	static const char esc[] =
		"--X\r\nContent-Disposition: form-data; name=\"a\\\"\"; filename=\"b\\\\\"; "
		"filename*=UTF-8''c\r\n\r\nv\r\n--X--";
	succeeded = false;
	for (long k = 0; k < 64 && !succeeded; k++) {
		char small[16];
		hr_arena a;
		hr_arena_init(&a, small, sizeof small, 1 << 20);
		a.fail_after = k;
		hr_form_part *parts;
		unsigned n;
		int rc = hr_multipart_parse(&a, hr_str_make(esc, sizeof esc - 1), HR_STR("X"), 10,
					    &parts, &n, NULL);
		HR_CHECKF(rc == 0 || rc == HR_ENOMEM, "fail_after %ld: rc %d", k, rc);
		if (rc == 0)
			HR_CHECK(hr_str_eq_lit(parts[0].name, "a\"") &&
				 hr_str_eq_lit(parts[0].filename, "c"));
		succeeded = rc == 0;
		hr_arena_dispose(&a);
	}
	HR_CHECK(succeeded);
	succeeded = false;
	for (long k = 0; k < 64 && !succeeded; k++) {
		char small[16];
		hr_arena a;
		hr_arena_init(&a, small, sizeof small, 1 << 20);
		a.fail_after = k;
		hr_form_part *parts;
		unsigned n;
		static const char ue[] = "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10";
		int rc = hr_urlencoded_parse(&a, hr_str_make(ue, sizeof ue - 1), 100, &parts, &n, NULL);
		HR_CHECKF(rc == 0 || rc == HR_ENOMEM, "fail_after %ld: rc %d", k, rc);
		succeeded = rc == 0 && n == 10;
		hr_arena_dispose(&a);
	}
	HR_CHECK(succeeded);
}

/* The boundary extracted from a Content-Type drives the parser. */
static void test_boundary_then_parse(void)
{
	static const char ct[] = "multipart/form-data; boundary=\"simple boundary\"";
	static const char body[] = "preamble\r\n--simple boundary\r\n" CD("a")
				   "\r\nv\r\n--simple boundary--\r\nepilogue";
	hr_str b;
	HR_REQUIRE(hr_multipart_boundary(HR_STR(ct), &b) == 0);
	env e;
	env_init(&e);
	hr_form_part *parts;
	unsigned n;
	HR_CHECK(hr_multipart_parse(&e.a, hr_str_make(body, sizeof body - 1), b, 10, &parts, &n,
				    NULL) == 0 && n == 1 && hr_str_eq_lit(parts[0].data, "v"));
	hr_arena_dispose(&e.a);
}

static const hr_test_case tests[] = {
	{"boundary", test_boundary},
	{"multipart_table", test_multipart_table},
	{"multipart_prefixes", test_multipart_prefixes},
	{"split_crlf_after_close", test_split_crlf_after_close},
	{"binary_fragments", test_binary_fragments},
	{"header_limits", test_header_limits},
	{"many_parts", test_many_parts},
	{"urlencoded_table", test_urlencoded_table},
	{"oom_every_allocation", test_oom_every_allocation},
	{"boundary_then_parse", test_boundary_then_parse},
};

HR_TEST_MAIN(tests)

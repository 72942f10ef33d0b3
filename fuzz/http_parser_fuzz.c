/*
 * fuzz/http_parser_fuzz.c - libFuzzer target for hr_http_parse_head(), and
 * for hr_http_chunked_decode() on the body of a complete chunked request.
 *
 * The first input byte picks the limits (generous or tight) and two split
 * points; the rest is the request. The head is parsed whole, then again in
 * two pieces at each split point (prefix in its own exactly-sized heap copy
 * so ASan sees any over-read, then the whole input after a rebase). The
 * target aborts when the runs disagree: the prefix may only return 0, the
 * whole run's error, or the whole run's completion; the full call must
 * return exactly the whole run's result with the same parsed fields.
 * When the head is complete and chunked, the rest is decoded whole and in
 * two pieces, and the decoded bytes and verdicts must match.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

#define MAXH 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)             \
	do {                   \
		if (!(c))      \
			abort(); \
	} while (0)

static const hr_http_limits limits[4] = {
	{8192, 65536, MAXH, 1 << 20},
	{64, 256, 8, 64},
	{16, 48, 2, 8},
	{4096, 1024, MAXH, UINT64_MAX},
};

static bool same_slice(hr_str a, const char *abase, hr_str b, const char *bbase)
{
	if (a.len != b.len)
		return false;
	if (a.len == 0)
		return true;
	return memcmp(a.ptr, b.ptr, a.len) == 0 &&
	       (a.ptr - abase == b.ptr - bbase || (a.len == 1 && a.ptr[0] == '/'));
}

static void same_head(const hr_http_head *a, const char *abuf, const hr_http_head *b,
		      const char *bbuf)
{
	REQUIRE(same_slice(a->method, abuf, b->method, bbuf));
	REQUIRE(same_slice(a->target, abuf, b->target, bbuf));
	REQUIRE(same_slice(a->path, abuf, b->path, bbuf));
	REQUIRE(same_slice(a->query, abuf, b->query, bbuf));
	REQUIRE(same_slice(a->host, abuf, b->host, bbuf));
	REQUIRE(a->method_id == b->method_id && a->minor_version == b->minor_version);
	REQUIRE(a->num_headers == b->num_headers && a->content_length == b->content_length);
	REQUIRE(a->chunked == b->chunked && a->keep_alive == b->keep_alive);
	REQUIRE(a->expect_continue == b->expect_continue && a->upgrade == b->upgrade);
	REQUIRE(a->head_len == b->head_len);
	for (unsigned i = 0; i < a->num_headers; i++) {
		REQUIRE(same_slice(a->headers[i].name, abuf, b->headers[i].name, bbuf));
		REQUIRE(same_slice(a->headers[i].value, abuf, b->headers[i].value, bbuf));
		REQUIRE(a->headers[i].id == b->headers[i].id);
	}
}

/* Decodes body[0..n) in pieces split at k; returns the verdict. */
static int decode(const uint8_t *body, size_t n, size_t k, const hr_http_limits *lim,
		  char *out, size_t *out_len, size_t *consumed)
{
	hr_http_chunked c;
	hr_http_chunked_init(&c);
	*out_len = 0;
	*consumed = 0;
	size_t pieces[2] = {k, n - k};
	int r = 0;
	for (int p = 0; p < 2 && r == 0; p++) {
		char *b = malloc(pieces[p] ? pieces[p] : 1);
		REQUIRE(b);
		memcpy(b, body + (p ? k : 0), pieces[p]);
		size_t len = pieces[p], o = 0;
		r = hr_http_chunked_decode(&c, b, &len, &o, lim);
		if (r >= 0) {
			REQUIRE(len <= pieces[p] && o <= len);
			REQUIRE(r == 1 || len == pieces[p]);
			memcpy(out + *out_len, b, o);
			*out_len += o;
			*consumed += len;
			REQUIRE(c.total == *out_len);
		}
		free(b);
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const hr_http_limits *lim = &limits[data[0] & 3];
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	size_t splits[2] = {n * (size_t)(data[0] >> 2) / 63, n ? (size_t)data[0] * 7919u % (n + 1) : 0};

	char *whole = malloc(n ? n : 1);
	REQUIRE(whole);
	memcpy(whole, in, n);
	hr_http_header wh[MAXH];
	hr_http_head w;
	hr_http_head_init(&w, wh, MAXH);
	int r = hr_http_parse_head(whole, n, lim, &w);
	REQUIRE(r <= 0 || (size_t)r <= n);
	REQUIRE(r >= -(int)HR_HTTP_E__COUNT);
	REQUIRE(hr_http_parse_head(whole, n, lim, &w) == r);
	if (r < 0) {
		int st = hr_http_err_status(r);
		REQUIRE(st == 400 || st == 413 || st == 414 || st == 431 || st == 501 || st == 505);
	}

	for (int s = 0; s < 2; s++) {
		size_t k = splits[s];
		char *a = malloc(k ? k : 1);
		char *b = malloc(n ? n : 1);
		REQUIRE(a && b);
		memcpy(a, in, k);
		memcpy(b, in, n);
		hr_http_header sh[MAXH];
		hr_http_head h;
		hr_http_head_init(&h, sh, MAXH);
		int r1 = hr_http_parse_head(a, k, lim, &h);
		hr_http_head_rebase(&h, a, b);
		free(a);
		int r2 = hr_http_parse_head(b, n, lim, &h);
		if (r > 0)
			REQUIRE(r1 == 0 || (r1 == r && k >= (size_t)r));
		else
			REQUIRE(r1 == 0 || r1 == r);
		REQUIRE(r2 == r);
		if (r > 0)
			same_head(&w, whole, &h, b);
		free(b);
	}

	if (r > 0 && w.chunked) {
		size_t bn = n - (size_t)r;
		char *o1 = malloc(bn + 1), *o2 = malloc(bn + 1);
		REQUIRE(o1 && o2);
		size_t l1, l2, c1, c2;
		int d1 = decode(in + r, bn, bn, lim, o1, &l1, &c1);
		int d2 = decode(in + r, bn, bn ? data[0] % (bn + 1) : 0, lim, o2, &l2, &c2);
		REQUIRE(d1 == d2);
		if (d1 >= 0) {
			REQUIRE(l1 == l2 && memcmp(o1, o2, l1) == 0);
			REQUIRE(c1 == c2);
			REQUIRE(l1 <= lim->max_body);
		}
		free(o1);
		free(o2);
	}
	free(whole);
	return 0;
}

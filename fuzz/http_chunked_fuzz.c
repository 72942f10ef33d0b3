/*
 * fuzz/http_chunked_fuzz.c - libFuzzer target for hr_http_chunked_decode().
 *
 * The first input byte picks the limits and a split point; the rest is a
 * chunked body. It is decoded whole, in two pieces at the split point and
 * one byte at a time, each piece in an exactly-sized heap copy so ASan sees
 * any over-read. The verdict, the decoded bytes and the bytes consumed must
 * be the same every way, the output never longer than max_body, and input
 * after the end of the body never consumed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "http/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)             \
	do {                   \
		if (!(c))      \
			abort(); \
	} while (0)

static const hr_http_limits limits[4] = {
	{8192, 8192, 64, 1 << 20},
	{8192, 64, 2, 64},
	{8192, 16, 1, 8},
	{8192, 1024, 16, UINT64_MAX},
};

typedef struct result {
	int r;
	size_t out_len, consumed;
	char *out;
} result;

/* Feeds in[0..n) in pieces of at most step bytes, the first one k bytes. */
static void run(const uint8_t *in, size_t n, size_t k, size_t step, const hr_http_limits *lim,
		result *res)
{
	hr_http_chunked c;
	hr_http_chunked_init(&c);
	res->r = 0;
	res->out_len = res->consumed = 0;
	size_t at = 0;
	bool first = true;
	for (;;) {
		/* Bounded: every piece after the first is at least one byte. */
		size_t piece = first ? k : HR_MIN(step, n - at);
		first = false;
		char *b = malloc(piece ? piece : 1);
		REQUIRE(b);
		memcpy(b, in + at, piece);
		size_t len = piece, o = 0;
		res->r = hr_http_chunked_decode(&c, b, &len, &o, lim);
		if (res->r >= 0) {
			REQUIRE(len <= piece && o <= len);
			REQUIRE(res->r == 1 || len == piece);
			memcpy(res->out + res->out_len, b, o);
			res->out_len += o;
			res->consumed += len;
			REQUIRE(c.total == res->out_len);
			REQUIRE(res->out_len <= lim->max_body);
		}
		free(b);
		at += piece;
		if (res->r != 0)
			break;
		if (at >= n) {
			/* All input fed; one more empty call must change nothing. */
			char z = 0;
			size_t zl = 0, zo = 0;
			REQUIRE(hr_http_chunked_decode(&c, &z, &zl, &zo, lim) == 0 && zl == 0 && zo == 0);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const hr_http_limits *lim = &limits[data[0] & 3];
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	size_t k = n * (size_t)(data[0] >> 2) / 63;

	result a = {.out = malloc(n + 1)}, b = {.out = malloc(n + 1)}, c = {.out = malloc(n + 1)};
	REQUIRE(a.out && b.out && c.out);
	run(in, n, n, n, lim, &a);
	run(in, n, k, n, lim, &b);
	run(in, n, n ? 1 : 0, 1, lim, &c);
	REQUIRE(a.r == b.r && a.r == c.r);
	REQUIRE(a.r >= -(int)HR_HTTP_E__COUNT && a.r <= 1);
	if (a.r >= 0) {
		REQUIRE(a.out_len == b.out_len && a.out_len == c.out_len);
		REQUIRE(memcmp(a.out, b.out, a.out_len) == 0 && memcmp(a.out, c.out, a.out_len) == 0);
		REQUIRE(a.consumed == b.consumed && a.consumed == c.consumed);
		if (a.r == 0)
			REQUIRE(a.consumed == n);
	}
	free(a.out);
	free(b.out);
	free(c.out);
	return 0;
}

/*
 * fuzz/fields_fuzz.c - libFuzzer target for src/api/fields.c.
 *
 * Input: [0] excerpt max for the direct excerpt (b % 64; bit 7 asks for
 * the ellipsis), then the fields spec up to the first '\n', then a
 * document. Each piece is an exactly-sized heap copy so ASan sees any
 * over-read. Checked:
 *   - hr_fields_parse returns 0 or HR_EPARSE (with a reason); a parsed
 *     spec applied to a fixed record, a fixed list envelope and the
 *     document (when it is JSON) writes valid JSON without error; without
 *     a modifier the output is never longer than the input written whole;
 *   - the document taken as HTML: the excerpt has at most max code points
 *     (plus "..."), no [\t\n\f\r], no two spaces in a row, no leading or
 *     trailing space, and is never more than 3 bytes longer than the
 *     input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)               \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static const char record[] =
	"{\"id\":\"p1\",\"title\":\"Hello\",\"body\":\"<p>Hi <b>there</b>, &amp; friend.</p><script>x</script>\","
	"\"author\":\"u1\",\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"},"
	"\"tags\":[{\"id\":\"t1\",\"name\":\"x\"},{\"id\":\"t2\",\"name\":\"y\"}]},\"views\":3,"
	"\"\":{\"\":1},\"*\":{\"x\":[1,{\"y\":2}]}}";
static const char list[] =
	"{\"items\":[" "{\"id\":\"a\",\"n\":1,\"expand\":{\"r\":[{\"id\":\"q\",\"s\":\"<i>t</i>\"}]}},"
	"{\"id\":\"b\",\"n\":2}],\"page\":1,\"perPage\":30,\"totalItems\":2,\"totalPages\":1}";

static bool has_modifier(const uint8_t *s, size_t n)
{
	return memchr(s, ':', n) != NULL;
}

static void apply_check(hr_arena *a, const hr_fields *f, const hr_json *doc, bool mod)
{
	hr_buf out, whole;
	hr_buf_init(&out, 0);
	hr_buf_init(&whole, 0);
	hr_fields_apply(a, f, doc, &out);
	hr_json_write(&whole, doc);
	REQUIRE(out.err == 0 && whole.err == 0);
	REQUIRE(hr_json_valid(out.ptr, out.len, 20000));
	if (!mod)
		REQUIRE(out.len <= whole.len);
	if (!f)
		REQUIRE(out.len == whole.len && memcmp(out.ptr, whole.ptr, out.len) == 0);
	hr_buf_dispose(&out);
	hr_buf_dispose(&whole);
}

static unsigned decode(const unsigned char *p, size_t n, size_t *w)
{
	unsigned c = p[0];
	if (c < 0x80 || n < 2) {
		*w = 1;
		return c;
	}
	if ((c & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80 && c >= 0xC2) {
		*w = 2;
		return (c & 0x1F) << 6 | (p[1] & 0x3F);
	}
	if ((c & 0xF0) == 0xE0 && n >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
		unsigned v = (c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
			*w = 3;
			return v;
		}
	}
	if ((c & 0xF8) == 0xF0 && n >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
	    (p[3] & 0xC0) == 0x80) {
		unsigned v = (c & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
		if (v >= 0x10000 && v <= 0x10FFFF) {
			*w = 4;
			return v;
		}
	}
	*w = 1;
	return 0xFFFD;
}

static void excerpt_check(hr_arena *a, const char *html, size_t n, size_t max, bool ell)
{
	hr_str r = hr_fields_excerpt(a, hr_str_make(html, n), max, ell);
	if (!r.ptr)
		return; /* arena limit */
	REQUIRE(r.len <= n + 3);
	const unsigned char *p = (const unsigned char *)r.ptr;
	size_t cps = 0;
	for (size_t i = 0; i < r.len; i++) {
		REQUIRE(p[i] != '\t' && p[i] != '\n' && p[i] != '\f' && p[i] != '\r');
		REQUIRE(!(p[i] == ' ' && i + 1 < r.len && p[i + 1] == ' '));
	}
	if (r.len) {
		REQUIRE(p[0] != ' ' && p[r.len - 1] != ' ');
	}
	for (size_t i = 0; i < r.len;) {
		size_t w;
		decode(p + i, r.len - i, &w);
		i += w;
		cps++;
	}
	REQUIRE(cps <= max + (ell ? 3 : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = data[0] % 64;
	bool ell = data[0] & 0x80;
	data++;
	size--;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t slen = nl ? (size_t)(nl - data) : size;
	size_t dlen = nl ? size - slen - 1 : 0;
	char *spec = malloc(slen ? slen : 1);
	char *doc = malloc(dlen ? dlen : 1);
	REQUIRE(spec && doc);
	memcpy(spec, data, slen);
	if (dlen)
		memcpy(doc, nl + 1, dlen);

	char first[4096];
	hr_arena a;
	hr_arena_init(&a, first, sizeof first, (size_t)128 << 20);

	hr_json *rec, *lst;
	REQUIRE(hr_json_parse(&a, record, sizeof record - 1, 100, &rec, NULL) == 0);
	REQUIRE(hr_json_parse(&a, list, sizeof list - 1, 100, &lst, NULL) == 0);

	hr_fields *f = (hr_fields *)(uintptr_t)1;
	const char *why = NULL;
	int rc = hr_fields_parse(&a, hr_str_make(spec, slen), &f, &why);
	REQUIRE(rc == 0 || rc == HR_EPARSE || rc == HR_ENOMEM);
	if (rc != 0) {
		REQUIRE(why && f == (hr_fields *)(uintptr_t)1);
	} else {
		bool mod = has_modifier(data, slen);
		apply_check(&a, f, rec, mod);
		apply_check(&a, f, lst, mod);
		hr_json *d;
		if (dlen && hr_json_parse(&a, doc, dlen, 10000, &d, NULL) == 0)
			apply_check(&a, f, d, mod);
	}
	excerpt_check(&a, doc, dlen, max, ell);
	excerpt_check(&a, spec, slen, max + 1, !ell);

	hr_arena_dispose(&a);
	free(spec);
	free(doc);
	return 0;
}

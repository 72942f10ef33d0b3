/*
 * fuzz/filter_fuzz.c - libFuzzer target for hr_filter_parse() and
 * hr_sort_parse() (src/rules/filter.c).
 *
 * The first input byte picks the limits (bits 0-1), whether a second parse
 * runs with the arena failing after (byte >> 3) allocations (bit 2); the
 * rest is the expression. It is parsed from an exactly-sized heap copy so
 * ASan sees any read past the end, through an arena with a small lent
 * first chunk (so most allocations are malloc'd and poisoned tails are
 * checked) and a 4 MiB cap.
 *
 * Oracles, beyond "no crash, no leak, no over-read":
 *   - the AST's invariants: offsets inside the input and increasing, groups
 *     and lists non-empty, joins and operators in range, function arguments
 *     present exactly when counted;
 *   - round trip: the AST printed in canonical form (texts re-escaped)
 *     parses, with the same limits, to an AST that prints the same;
 *   - an error carries an offset inside the input and a message;
 *   - under allocation failure the result is HR_ENOMEM or the same result;
 *   - the same for the sort parser, whose items are identifiers or calls.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "rules/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)             \
	do {                   \
		if (!(c))      \
			abort(); \
	} while (0)

static const hr_filter_limits limits[4] = {
	{200, 32},
	{3, 2},
	{0, 0},
	{1, 1},
};
static const unsigned sort_max[4] = {8, 2, 0, 1};

typedef struct sb {
	char *buf;
	size_t len, cap;
} sb;

static void sb_put(sb *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		b->buf = realloc(b->buf, cap);
		REQUIRE(b->buf);
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void pr_operand(sb *b, const hr_f_operand *o, size_t n)
{
	REQUIRE(o->pos < n);
	switch (o->kind) {
	case HR_F_IDENT:
	case HR_F_NUMBER:
		REQUIRE(o->text.len > 0 && o->nargs == 0);
		sb_put(b, o->text.ptr, o->text.len);
		break;
	case HR_F_TEXT:
		REQUIRE(o->nargs == 0);
		sb_puts(b, "\"");
		for (size_t i = 0; i < o->text.len; i++) {
			unsigned char c = (unsigned char)o->text.ptr[i];
			char e[8];
			if (c == '"' || c == '\\') {
				e[0] = '\\';
				e[1] = (char)c;
				sb_put(b, e, 2);
			} else if (c < 0x20 || c == 0x7f) {
				snprintf(e, sizeof e, "\\u%04x", c);
				sb_puts(b, e);
			} else {
				sb_put(b, &c, 1);
			}
		}
		sb_puts(b, "\"");
		break;
	case HR_F_FUNC:
		REQUIRE(o->text.len > 0 && (o->nargs > 0) == (o->args != NULL));
		sb_put(b, o->text.ptr, o->text.len);
		sb_puts(b, "(");
		for (unsigned i = 0; i < o->nargs; i++) {
			REQUIRE(o->args[i].pos > o->pos);
			if (i)
				sb_puts(b, ", ");
			pr_operand(b, &o->args[i], n);
		}
		sb_puts(b, ")");
		break;
	default:
		abort();
	}
}

static void pr_list(sb *b, const hr_f_list *l, size_t n)
{
	REQUIRE(l->n > 0 && l->items);
	for (unsigned i = 0; i < l->n; i++) {
		const hr_f_item *it = &l->items[i];
		REQUIRE(it->pos < n);
		REQUIRE((i == 0) == (it->join == 0));
		if (i) {
			REQUIRE(it->pos > l->items[i - 1].pos);
			REQUIRE(it->join == HR_F_AND || it->join == HR_F_OR);
			sb_puts(b, it->join == HR_F_AND ? " && " : " || ");
		}
		if (it->is_group) {
			REQUIRE(it->group.items && it->group.items[0].pos > it->pos);
			sb_puts(b, "(");
			pr_list(b, &it->group, n);
			sb_puts(b, ")");
		} else {
			REQUIRE(it->op >= HR_F_EQ && it->op <= HR_F_ANY_NLIKE);
			REQUIRE(it->left.pos == it->pos && it->right.pos > it->left.pos);
			pr_operand(b, &it->left, n);
			sb_puts(b, " ");
			sb_puts(b, hr_f_op_name(it->op));
			sb_puts(b, " ");
			pr_operand(b, &it->right, n);
		}
	}
}

/* Parses in[0..n) from an exact copy; *out gets the print or the error. */
static int filter(const uint8_t *in, size_t n, const hr_filter_limits *lim, long fail_after,
		  sb *out, size_t *epos)
{
	char first[512];
	hr_arena a;
	hr_arena_init(&a, first, sizeof first, 4u << 20);
	a.fail_after = fail_after;
	char *copy = malloc(n ? n : 1);
	REQUIRE(copy);
	if (n)
		memcpy(copy, in, n);
	hr_f_list l;
	hr_filter_error err = {0, NULL};
	int rc = hr_filter_parse(&a, copy, n, lim, &l, &err);
	out->len = 0;
	if (rc == 0) {
		pr_list(out, &l, n);
	} else {
		REQUIRE(rc == HR_EPARSE || rc == HR_ELIMIT || rc == HR_ENOMEM);
		REQUIRE(err.message && err.message[0] && err.pos <= n);
		*epos = err.pos;
	}
	free(copy);
	hr_arena_dispose(&a);
	return rc;
}

static int sort(const uint8_t *in, size_t n, unsigned max, long fail_after, sb *out)
{
	char first[128];
	hr_arena a;
	hr_arena_init(&a, first, sizeof first, 4u << 20);
	a.fail_after = fail_after;
	char *copy = malloc(n ? n : 1);
	REQUIRE(copy);
	if (n)
		memcpy(copy, in, n);
	hr_sort_item *v = NULL;
	unsigned k = 0;
	hr_filter_error err = {0, NULL};
	int rc = hr_sort_parse(&a, copy, n, max, &v, &k, &err);
	out->len = 0;
	if (rc == 0) {
		REQUIRE((k == 0) == (v == NULL));
		REQUIRE(max == 0 || k <= max);
		for (unsigned i = 0; i < k; i++) {
			REQUIRE(v[i].expr.kind == HR_F_IDENT || v[i].expr.kind == HR_F_FUNC);
			REQUIRE(v[i].expr.text.len <= HR_SORT_MAX_NAME);
			if (i)
				sb_puts(out, ",");
			sb_puts(out, v[i].desc ? "-" : "+");
			pr_operand(out, &v[i].expr, n);
		}
	} else {
		REQUIRE(rc == HR_EPARSE || rc == HR_ELIMIT || rc == HR_ENOMEM);
		REQUIRE(err.message && err.message[0] && err.pos <= n);
	}
	free(copy);
	hr_arena_dispose(&a);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned ctl = data[0];
	const hr_filter_limits *lim = &limits[ctl & 3];
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	sb a = {0}, b = {0};
	size_t pa = 0, pb = 0;

	int ra = filter(in, n, lim, -1, &a, &pa);
	REQUIRE(ra != HR_ENOMEM);
	if (ra == 0) {
		/* Round trip through the canonical print. */
		int rb = filter((const uint8_t *)a.buf, a.len, lim, -1, &b, &pb);
		REQUIRE(rb == 0 && b.len == a.len && memcmp(a.buf, b.buf, a.len) == 0);
	}
	if (ctl & 4) {
		int rb = filter(in, n, lim, (long)(ctl >> 3), &b, &pb);
		REQUIRE(rb == HR_ENOMEM || rb == ra);
		if (rb == ra && ra == 0)
			REQUIRE(b.len == a.len && memcmp(a.buf, b.buf, a.len) == 0);
		if (rb == ra && ra != 0)
			REQUIRE(pb == pa);
	}

	unsigned max = sort_max[ctl & 3];
	int sa = sort(in, n, max, -1, &a);
	REQUIRE(sa != HR_ENOMEM);
	if (sa == 0 && a.len && a.len <= HR_SORT_MAX_NAME) { /* escapes may lengthen names */
		int sb2 = sort((const uint8_t *)a.buf, a.len, max, -1, &b);
		REQUIRE(sb2 == 0 && b.len == a.len && memcmp(a.buf, b.buf, a.len) == 0);
	}
	if (ctl & 4) {
		int sb2 = sort(in, n, max, (long)(ctl >> 3), &b);
		REQUIRE(sb2 == HR_ENOMEM || sb2 == sa);
	}
	free(a.buf);
	free(b.buf);
	return 0;
}

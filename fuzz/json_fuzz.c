/*
 * fuzz/json_fuzz.c - libFuzzer target for src/core/json.c.
 *
 * The first input byte picks the depth limit; the rest is the document, in
 * an exactly-sized heap copy so ASan sees any over-read. Checked:
 *   - hr_json_valid() agrees with hr_json_parse() (unless the arena ran
 *     out), and a failure's offset lies inside the input;
 *   - an accepted document written out reads back to the same tree, and
 *     writing that again gives the same bytes; the sorted form reads back
 *     to the same tree up to member order, with keys in order;
 *   - every number's double equals libc's strtod() of its source text, and
 *     hr_json_write_number() of it reads back to the same bits;
 *   - the raw input bytes, written as a JSON string, are valid JSON and
 *     read back as themselves unless they held invalid UTF-8;
 *   - the first eight bytes, taken as a double, format and read back.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static const unsigned depths[8] = {0, 1, 2, 3, 16, 64, 1000, 10000};

static bool same_double(double x, double y)
{
	return memcmp(&x, &y, sizeof x) == 0;
}

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
			} else if (!(yv = hr_json_get_str(y, m->key))) {
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

static int key_cmp(hr_str a, hr_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Keys unique and in order at every level (a parsed, sorted tree). */
static bool keys_sorted(const hr_json *v)
{
	if (v->type == HR_JSON_ARRAY) {
		for (size_t i = 0; i < v->u.arr.len; i++)
			if (!keys_sorted(v->u.arr.items[i]))
				return false;
	} else if (v->type == HR_JSON_OBJECT) {
		for (size_t i = 0; i < v->u.obj.len; i++) {
			if (i && key_cmp(v->u.obj.members[i - 1].key, v->u.obj.members[i].key) >= 0)
				return false;
			if (!keys_sorted(v->u.obj.members[i].value))
				return false;
		}
	}
	return true;
}

static void check_number(double v, hr_arena *a)
{
	if (!isfinite(v))
		return;
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_json_write_number(&b, v);
	REQUIRE(b.err == 0);
	REQUIRE(strtod(b.ptr, NULL) == v);
	hr_json *n = NULL;
	REQUIRE(hr_json_parse(a, b.ptr, b.len, 0, &n, NULL) == 0);
	REQUIRE(n->type == HR_JSON_NUMBER && same_double(n->u.n.num, v));
	hr_buf_dispose(&b);
}

static void check_numbers(const hr_json *v, hr_arena *a)
{
	if (v->type == HR_JSON_NUMBER) {
		char tmp[1024];
		hr_str raw = v->u.n.raw;
		if (raw.len < sizeof tmp) {
			memcpy(tmp, raw.ptr, raw.len);
			tmp[raw.len] = '\0';
			REQUIRE(same_double(strtod(tmp, NULL), v->u.n.num));
		}
		check_number(v->u.n.num, a);
	} else if (v->type == HR_JSON_ARRAY) {
		for (size_t i = 0; i < v->u.arr.len; i++)
			check_numbers(v->u.arr.items[i], a);
	} else if (v->type == HR_JSON_OBJECT) {
		for (size_t i = 0; i < v->u.obj.len; i++)
			check_numbers(v->u.obj.members[i].value, a);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned depth = depths[data[0] & 7];
	size_t n = size - 1;
	char *in = malloc(n ? n : 1);
	REQUIRE(in);
	memcpy(in, data + 1, n);

	char first[4096];
	hr_arena a;
	hr_arena_init(&a, first, sizeof first, (size_t)256 << 20);

	hr_json *v = NULL;
	hr_json_error err = {0, NULL};
	int rc = hr_json_parse(&a, in, n, depth, &v, &err);
	bool valid = hr_json_valid(in, n, depth);
	if (rc != HR_ENOMEM)
		REQUIRE((rc == 0) == valid);
	if (rc != 0) {
		REQUIRE(rc == HR_EPARSE || rc == HR_ELIMIT || rc == HR_ENOMEM);
		REQUIRE(err.offset <= n && err.message != NULL);
		REQUIRE(v == NULL);
	} else {
		hr_buf out, again;
		hr_buf_init(&out, 0);
		hr_buf_init(&again, 0);
		hr_json_write(&out, v);
		REQUIRE(out.err == 0);
		hr_json *w = NULL;
		REQUIRE(hr_json_parse(&a, out.ptr, out.len, depth, &w, NULL) == 0);
		REQUIRE(tree_eq(v, w, true));
		hr_json_write(&again, w);
		REQUIRE(again.len == out.len && memcmp(again.ptr, out.ptr, out.len) == 0);

		hr_buf_reset(&out);
		hr_json_write_sorted(&out, v);
		REQUIRE(out.err == 0);
		w = NULL;
		REQUIRE(hr_json_parse(&a, out.ptr, out.len, depth, &w, NULL) == 0);
		REQUIRE(tree_eq(v, w, false) && keys_sorted(w));
		hr_buf_dispose(&out);
		hr_buf_dispose(&again);
		check_numbers(v, &a);
	}

	/* Arbitrary bytes as a string value. */
	hr_buf s;
	hr_buf_init(&s, 0);
	hr_json_write_string(&s, hr_str_make(in, n));
	REQUIRE(s.err == 0 && hr_json_valid(s.ptr, s.len, 0));
	hr_json *sv = NULL;
	REQUIRE(hr_json_parse(&a, s.ptr, s.len, 0, &sv, NULL) == 0 && sv->type == HR_JSON_STRING);
	/* Valid UTF-8 comes back as it was; each invalid byte grows to U+FFFD. */
	REQUIRE(sv->u.str.len > n || (sv->u.str.len == n && memcmp(sv->u.str.ptr, in, n) == 0));
	hr_buf_dispose(&s);

	if (n >= 8) {
		double d;
		memcpy(&d, in, sizeof d);
		check_number(d, &a);
	}

	hr_arena_dispose(&a);
	free(in);
	return 0;
}

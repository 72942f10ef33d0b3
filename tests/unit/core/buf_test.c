/*
 * Unit tests of src/core/buf.c: growth and NUL termination, the ceiling
 * (exact fit allowed, one more refused, buffer unchanged), the sticky
 * error and its reset, printf across growth and at the ceiling, integer
 * formatting at the edges, truncate and steal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "harness/unit.h"

static void test_append_grows_and_terminates(void)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0 && b.err == 0);
	HR_CHECK(hr_buf_append(&b, "abc", 3) == 0);
	HR_CHECK(b.len == 3 && b.cap > 3 && strcmp(b.ptr, "abc") == 0);
	HR_CHECK(hr_buf_append_char(&b, 'd') == 0);
	HR_CHECK(hr_buf_append_cstr(&b, "ef") == 0);
	HR_CHECK(hr_buf_append_str(&b, HR_STR("gh")) == 0);
	HR_CHECK(hr_buf_append(&b, NULL, 0) == 0);
	HR_CHECK(strcmp(b.ptr, "abcdefgh") == 0 && b.len == 8);
	for (int i = 0; i < 10000; i++)
		HR_REQUIRE(hr_buf_append_char(&b, (char)('a' + i % 26)) == 0);
	HR_CHECK(b.len == 10008 && b.cap > b.len && b.ptr[b.len] == '\0');
	HR_CHECK(b.ptr[8] == 'a' && b.ptr[10007] == (char)('a' + 9999 % 26));
	hr_buf_dispose(&b);
	HR_CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0);
}

static void test_ceiling_exact_fit_and_refusal(void)
{
	hr_buf b;
	hr_buf_init(&b, 16);
	HR_CHECK(hr_buf_append(&b, "0123456789", 10) == 0);
	HR_CHECK(b.cap <= 16);
	/* One byte too many: refused, nothing changes, the error sticks. */
	char *before = b.ptr;
	HR_CHECK(hr_buf_append(&b, "abcdefg", 7) == HR_ELIMIT);
	HR_CHECK(b.len == 10 && b.ptr == before && memcmp(b.ptr, "0123456789", 10) == 0);
	HR_CHECK(b.err == HR_ELIMIT);
	HR_CHECK(hr_buf_append_char(&b, 'x') == HR_ELIMIT && b.len == 10);
	HR_CHECK(hr_buf_printf(&b, "%d", 1) == HR_ELIMIT && b.len == 10);
	HR_CHECK(hr_buf_reserve(&b, 0) == HR_ELIMIT);
	HR_CHECK(hr_buf_steal(&b, NULL) == NULL && b.len == 10);
	/* Reset clears the error and keeps the memory. */
	hr_buf_reset(&b);
	HR_CHECK(b.err == 0 && b.len == 0 && b.ptr == before);
	/* Exactly max bytes fit (with no room left for a NUL). */
	HR_CHECK(hr_buf_append(&b, "0123456789abcdef", 16) == 0);
	HR_CHECK(b.len == 16 && b.cap == 16 && memcmp(b.ptr, "0123456789abcdef", 16) == 0);
	HR_CHECK(hr_buf_append_char(&b, 'x') == HR_ELIMIT);
	hr_buf_dispose(&b);

	/* A ceiling below the minimum capacity. */
	hr_buf_init(&b, 3);
	HR_CHECK(hr_buf_append(&b, "ab", 2) == 0 && b.cap == 3 && strcmp(b.ptr, "ab") == 0);
	HR_CHECK(hr_buf_append_char(&b, 'c') == 0 && b.len == 3);
	HR_CHECK(hr_buf_append_char(&b, 'd') == HR_ELIMIT);
	hr_buf_dispose(&b);
}

static void test_reserve_overflow(void)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_CHECK(hr_buf_append(&b, "x", 1) == 0);
	HR_CHECK(hr_buf_reserve(&b, SIZE_MAX) == HR_ELIMIT);
	hr_buf_reset(&b);
	HR_CHECK(hr_buf_reserve(&b, SIZE_MAX / 2 + 1) == HR_ELIMIT);
	hr_buf_reset(&b);
	HR_CHECK(hr_buf_reserve(&b, 1000) == 0 && b.cap >= 1001);
	size_t cap = b.cap;
	HR_CHECK(hr_buf_append(&b, "y", 1) == 0 && b.cap == cap);
	hr_buf_dispose(&b);
}

static void test_printf(void)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_CHECK(hr_buf_printf(&b, "%s-%d", "a", 42) == 0 && strcmp(b.ptr, "a-42") == 0);
	char big[3000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	HR_CHECK(hr_buf_printf(&b, "[%s]", big) == 0);
	HR_CHECK(b.len == 4 + 3001 && b.ptr[4] == '[' && b.ptr[b.len - 1] == ']' &&
		 b.ptr[b.len] == '\0');
	HR_CHECK(hr_buf_printf(&b, "%s", "") == 0 && b.len == 3005);
	hr_buf_dispose(&b);

	/* Landing exactly on the ceiling, and one past it. */
	hr_buf_init(&b, 8);
	HR_CHECK(hr_buf_append(&b, "abc", 3) == 0);
	HR_CHECK(hr_buf_printf(&b, "%05d", 123) == 0);
	HR_CHECK(b.len == 8 && memcmp(b.ptr, "abc00123", 8) == 0);
	hr_buf_dispose(&b);
	hr_buf_init(&b, 8);
	HR_CHECK(hr_buf_append(&b, "abc", 3) == 0);
	HR_CHECK(hr_buf_printf(&b, "%06d", 123) == HR_ELIMIT);
	HR_CHECK(b.len == 3 && strcmp(b.ptr, "abc") == 0);
	hr_buf_dispose(&b);
}

static void test_integers(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} u[] = {
		{0, "0"}, {9, "9"}, {10, "10"}, {99, "99"}, {100, "100"}, {1234567890, "1234567890"},
		{UINT64_MAX, "18446744073709551615"},
	};
	static const struct {
		int64_t v;
		const char *s;
	} i[] = {
		{0, "0"}, {-1, "-1"}, {-10, "-10"}, {42, "42"},
		{INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"},
	};
	hr_buf b;
	hr_buf_init(&b, 0);
	for (size_t k = 0; k < HR_ARRAY_LEN(u); k++) {
		hr_buf_reset(&b);
		HR_CHECK(hr_buf_append_u64(&b, u[k].v) == 0);
		HR_CHECKF(strcmp(b.ptr, u[k].s) == 0, "%s", b.ptr);
	}
	for (size_t k = 0; k < HR_ARRAY_LEN(i); k++) {
		hr_buf_reset(&b);
		HR_CHECK(hr_buf_append_i64(&b, i[k].v) == 0);
		HR_CHECKF(strcmp(b.ptr, i[k].s) == 0, "%s", b.ptr);
	}
	hr_buf_dispose(&b);
}

static void test_truncate(void)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "hello, world");
	hr_buf_truncate(&b, 5);
	HR_CHECK(b.len == 5 && strcmp(b.ptr, "hello") == 0);
	hr_buf_truncate(&b, b.len - 1); /* drop the last byte */
	HR_CHECK(strcmp(b.ptr, "hell") == 0);
	hr_buf_truncate(&b, 0);
	HR_CHECK(b.len == 0 && b.ptr[0] == '\0');
	hr_buf_dispose(&b);
	/* At the ceiling (len == cap) it still works. */
	hr_buf_init(&b, 4);
	hr_buf_append(&b, "abcd", 4);
	hr_buf_truncate(&b, 4);
	HR_CHECK(b.len == 4);
	hr_buf_truncate(&b, 2);
	HR_CHECK(b.len == 2 && strcmp(b.ptr, "ab") == 0);
	hr_buf_dispose(&b);
}

static void test_steal(void)
{
	hr_buf b;
	hr_buf_init(&b, 100);
	hr_buf_append_cstr(&b, "body");
	size_t n = 0;
	char *p = hr_buf_steal(&b, &n);
	HR_CHECK(p && n == 4 && strcmp(p, "body") == 0);
	HR_CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0 && b.max == 100);
	free(p);
	/* The buffer is reusable; an empty one yields "". */
	p = hr_buf_steal(&b, &n);
	HR_CHECK(p && n == 0 && p[0] == '\0');
	free(p);
	hr_buf_append_cstr(&b, "again");
	HR_CHECK(strcmp(b.ptr, "again") == 0);
	hr_buf_dispose(&b);
}

static const hr_test_case cases[] = {
	{"append_grows_and_terminates", test_append_grows_and_terminates},
	{"ceiling_exact_fit_and_refusal", test_ceiling_exact_fit_and_refusal},
	{"reserve_overflow", test_reserve_overflow},
	{"printf", test_printf},
	{"integers", test_integers},
	{"truncate", test_truncate},
	{"steal", test_steal},
};
HR_TEST_MAIN(cases)

/*
 * tests/unit/core/rand_test.c - random strings (src/core/rand.c): every
 * character comes from the alphabet, every character of the alphabet
 * occurs about equally often over many draws (a loose bound: a broken
 * mapping such as byte % 36 without rejection, or a pool that repeats,
 * lands far outside it), strings drawn across pool refills never repeat,
 * and bad alphabets leave the output untouched. Record ids: the time
 * part encodes the millisecond and orders ids, thousands of ids within one
 * millisecond are all distinct, and a clock that steps back does not take
 * the time part with it.
 */
#include <stdio.h>
#include <string.h>

#include "core/rand.h"
#include "harness/unit.h"

static const char a36[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static void test_alphabet_and_spread(void)
{
	enum { DRAWS = 20000, LEN = 15 };
	unsigned count[256] = {0};
	char id[16];
	for (int i = 0; i < DRAWS; i++) {
		hr_rand_id(id);
		HR_REQUIRE(id[15] == '\0' && strlen(id) == 15);
		for (int k = 0; k < LEN; k++) {
			HR_REQUIRE(memchr(a36, id[k], 36) != NULL);
			count[(unsigned char)id[k]]++;
		}
	}
	/* expected 300000/36 = 8333 each; sd about 90: allow +-8 sd */
	for (int k = 0; k < 36; k++)
		HR_CHECKF(count[(unsigned char)a36[k]] > 7600 && count[(unsigned char)a36[k]] < 9070,
			  "'%c' drawn %u times", a36[k], count[(unsigned char)a36[k]]);
}

static void test_no_repeats_across_refills(void)
{
	enum { N = 400 }; /* 400 x 50 bytes: many 1 KiB refills */
	static char s[N][51];
	for (int i = 0; i < N; i++) {
		hr_rand_string(s[i], 50, a36, 36);
		s[i][50] = '\0';
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			HR_CHECKF(strcmp(s[i], s[j]) != 0, "strings %d and %d are equal", i, j);
}

static void test_bad_alphabet(void)
{
	char out[8] = "xxxxxxx";
	hr_rand_string(out, 7, a36, 0);
	HR_CHECK(strcmp(out, "xxxxxxx") == 0);
	hr_rand_string(out, 7, a36, 257);
	HR_CHECK(strcmp(out, "xxxxxxx") == 0);
	hr_rand_string(out, 7, "z", 1);
	HR_CHECK(strcmp(out, "zzzzzzz") == 0);
}

static uint64_t time_part(const char *id)
{
	uint64_t t = 0;
	for (int i = 0; i < HR_RAND_ID_TIME; i++)
		t = t * 36 + (uint64_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return t;
}

static void test_record_id_time_part(void)
{
	const int64_t ms = 1795000000123; /* 2026-11-18 */
	char a[16], b[16];
	hr_rand_record_id(a, ms);
	HR_REQUIRE(strlen(a) == 15);
	for (int k = 0; k < 15; k++)
		HR_CHECK(memchr(a36, a[k], 36) != NULL);
	HR_CHECK(time_part(a) == (uint64_t)ms - HR_RAND_ID_EPOCH_MS);
	hr_rand_record_id(b, ms + 1);
	HR_CHECK(time_part(b) == (uint64_t)ms + 1 - HR_RAND_ID_EPOCH_MS);
	HR_CHECKF(strcmp(a, b) < 0, "%s then %s", a, b);
	/* a year later still sorts after */
	hr_rand_record_id(b, ms + 365LL * 86400000);
	HR_CHECKF(strcmp(a, b) < 0, "%s then %s", a, b);
}

static void test_record_ids_distinct_within_a_millisecond(void)
{
	enum { N = 3000 };
	static char ids[N][16];
	const int64_t ms = 1850000000000; /* after the ids of the test before */
	for (int i = 0; i < N; i++)
		hr_rand_record_id(ids[i], ms);
	uint64_t first = time_part(ids[0]), prev = first;
	for (int i = 0; i < N; i++) {
		uint64_t t = time_part(ids[i]);
		HR_CHECKF(t >= prev, "id %d: time part went back", i);
		prev = t;
		for (int j = i + 1; j < N; j++)
			HR_CHECKF(strcmp(ids[i], ids[j]) != 0, "ids %d and %d are equal: %s", i, j, ids[i]);
	}
	/* a full millisecond moves on to the next one, not further */
	HR_CHECK(first == (uint64_t)ms - HR_RAND_ID_EPOCH_MS);
	HR_CHECKF(prev - first <= N / 200, "time part ran %llu ms ahead",
		  (unsigned long long)(prev - first));
}

static void test_record_id_clock_steps_back(void)
{
	char a[16], b[16];
	hr_rand_record_id(a, 1900000000000);
	hr_rand_record_id(b, 1900000000000 - 5000);
	HR_CHECK(time_part(b) >= time_part(a));
	HR_CHECK(strcmp(a, b) != 0);
}

static const hr_test_case tests[] = {
	{"alphabet_and_spread", test_alphabet_and_spread},
	{"no_repeats_across_refills", test_no_repeats_across_refills},
	{"bad_alphabet", test_bad_alphabet},
	{"record_id_time_part", test_record_id_time_part},
	{"record_ids_distinct_within_a_millisecond", test_record_ids_distinct_within_a_millisecond},
	{"record_id_clock_steps_back", test_record_id_clock_steps_back},
};

HR_TEST_MAIN(tests)

/*
 * tests/unit/core/rand_test.c - random strings (src/core/rand.c): every
 * character comes from the alphabet, every character of the alphabet
 * occurs about equally often over many draws (a loose bound: a broken
 * mapping such as byte % 36 without rejection, or a pool that repeats,
 * lands far outside it), strings drawn across pool refills never repeat,
 * and bad alphabets leave the output untouched.
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

static const hr_test_case tests[] = {
	{"alphabet_and_spread", test_alphabet_and_spread},
	{"no_repeats_across_refills", test_no_repeats_across_refills},
	{"bad_alphabet", test_bad_alphabet},
};

HR_TEST_MAIN(tests)

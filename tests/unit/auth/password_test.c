/*
 * tests/unit/auth/password_test.c - argon2id hashing (src/auth/password.c):
 * round trip, wrong passwords, salts, the PHC string's parameters, the
 * rehash rule, foreign hash formats, the 4096-byte cap, and that the
 * missing-user path costs what a real verification costs.
 *
 * Every case uses libsodium's minimum argon2id limits (1 pass, 8 KiB) so
 * the suite runs in milliseconds; only the timing case uses more memory,
 * so that the argon2 work dominates what it measures.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "core/common.h"
#include "harness/unit.h"

static const hr_password_params fast = {1, 8192};

#define PW(lit) (lit), (sizeof(lit) - 1)

static void setup(void)
{
	HR_CHECK(hr_password_init() == 0);
}

static void test_init_is_idempotent(void)
{
	HR_CHECK(hr_password_init() == 0);
	HR_CHECK(hr_password_init() == 0);
}

static void test_default_params_are_interactive(void)
{
	hr_password_params p;
	hr_password_params_default(&p);
	HR_CHECK(p.opslimit == 2);
	HR_CHECK(p.memlimit == 64u * 1024 * 1024);
	HR_CHECK(hr_password_params_valid(&p));
}

static void test_round_trip(void)
{
	static const struct {
		const char *label;
		const char *pw;
		size_t n;
	} rows[] = {
		{"ascii", PW("correct horse battery staple")},
		{"empty", PW("")},
		{"utf8", PW("p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93")},
		{"embedded_nul", PW("ab\0cd")},
		{"one_byte", PW("x")},
	};
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		char h[HR_PASSWORD_HASH_MAX];
		int rc = hr_password_hash(rows[i].pw, rows[i].n, &fast, h);
		HR_CHECKF(rc == 0, "%s: rc %d", rows[i].label, rc);
		HR_CHECKF(hr_password_verify(h, rows[i].pw, rows[i].n), "%s", rows[i].label);
		HR_CHECKF(!hr_password_needs_rehash(h, &fast), "%s", rows[i].label);
	}
}

static void test_wrong_password(void)
{
	static const struct {
		const char *label;
		const char *pw;
		size_t n;
	} rows[] = {
		{"other", PW("hunter2")},
		{"empty", PW("")},
		{"prefix", PW("secret-passwor")},
		{"extended", PW("secret-password!")},
		{"case", PW("Secret-password")},
		{"nul_suffix", PW("secret-password\0")},
		{"last_byte", PW("secret-passworc")},
	};
	char h[HR_PASSWORD_HASH_MAX];
	setup();
	HR_REQUIRE(hr_password_hash(PW("secret-password"), &fast, h) == 0);
	HR_CHECK(hr_password_verify(h, PW("secret-password")));
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++)
		HR_CHECKF(!hr_password_verify(h, rows[i].pw, rows[i].n), "%s", rows[i].label);
}

static void test_salt_differs_per_hash(void)
{
	char a[HR_PASSWORD_HASH_MAX], b[HR_PASSWORD_HASH_MAX];
	setup();
	HR_REQUIRE(hr_password_hash(PW("same"), &fast, a) == 0);
	HR_REQUIRE(hr_password_hash(PW("same"), &fast, b) == 0);
	HR_CHECK(strcmp(a, b) != 0);
	/* The salt is the fourth '$' field: compare just that. */
	const char *sa = a, *sb = b;
	for (int k = 0; k < 4; k++) {
		sa = strchr(sa, '$') + 1;
		sb = strchr(sb, '$') + 1;
	}
	HR_CHECK(strchr(sa, '$') - sa == strchr(sb, '$') - sb);
	HR_CHECK(memcmp(sa, sb, (size_t)(strchr(sa, '$') - sa)) != 0);
	HR_CHECK(hr_password_verify(a, PW("same")));
	HR_CHECK(hr_password_verify(b, PW("same")));
}

static void test_hash_string_carries_params(void)
{
	static const struct {
		const char *label;
		hr_password_params p;
		const char *prefix;
	} rows[] = {
		{"min", {1, 8192}, "$argon2id$v=19$m=8,t=1,p=1$"},
		{"t3_m16", {3, 16384}, "$argon2id$v=19$m=16,t=3,p=1$"},
		/* m is memlimit / 1024 (KiB), rounded down. */
		{"m_rounds_down", {1, 9000}, "$argon2id$v=19$m=8,t=1,p=1$"},
	};
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		char h[HR_PASSWORD_HASH_MAX];
		HR_REQUIRE(hr_password_hash(PW("pw"), &rows[i].p, h) == 0);
		HR_CHECKF(strncmp(h, rows[i].prefix, strlen(rows[i].prefix)) == 0, "%s: %s",
			  rows[i].label, h);
		HR_CHECKF(strlen(h) < HR_PASSWORD_HASH_MAX, "%s", rows[i].label);
		HR_CHECKF(hr_password_verify(h, PW("pw")), "%s", rows[i].label);
	}
}

static void test_needs_rehash(void)
{
	static const struct {
		const char *label;
		hr_password_params now;
		bool rehash;
	} rows[] = {
		{"same", {1, 8192}, false},
		{"more_passes", {2, 8192}, true},
		{"more_memory", {1, 16384}, true},
		{"same_kib", {1, 8192 + 1023}, false},
		{"interactive", {2, 64u * 1024 * 1024}, true},
	};
	char h[HR_PASSWORD_HASH_MAX], strong[HR_PASSWORD_HASH_MAX];
	setup();
	HR_REQUIRE(hr_password_hash(PW("pw"), &fast, h) == 0);
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++)
		HR_CHECKF(hr_password_needs_rehash(h, &rows[i].now) == rows[i].rehash, "%s",
			  rows[i].label);
	/* libsodium's rule is "differs", so a stronger stored hash also
	 * triggers a rehash when the parameters go down. */
	hr_password_params two = {2, 16384};
	HR_REQUIRE(hr_password_hash(PW("pw"), &two, strong) == 0);
	HR_CHECK(hr_password_needs_rehash(strong, &fast));
	HR_CHECK(!hr_password_needs_rehash(strong, &two));
}

static void test_foreign_hashes_refused(void)
{
	static const struct {
		const char *label;
		const char *hash;
	} rows[] = {
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2id_truncated", "$argon2id$v=19$m=8,t=1,p=1$"},
		{"argon2id_bad_version", "$argon2id$v=18$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA"},
		{"upper_case", "$ARGON2ID$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA"},
	};
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		HR_CHECKF(!hr_password_verify(rows[i].hash, PW("password")), "%s", rows[i].label);
		HR_CHECKF(hr_password_needs_rehash(rows[i].hash, &fast), "%s", rows[i].label);
	}
}

static void test_argon2i_hash_refused(void)
{
	/* libsodium's generic verify would accept this; we produce argon2id
	 * only, so an argon2i string is foreign. */
	char h[crypto_pwhash_STRBYTES];
	setup();
	HR_REQUIRE(crypto_pwhash_str_alg(h, PW("pw"), crypto_pwhash_argon2i_OPSLIMIT_MIN,
					 crypto_pwhash_argon2i_MEMLIMIT_MIN,
					 crypto_pwhash_ALG_ARGON2I13) == 0);
	HR_REQUIRE(strncmp(h, "$argon2i$", 9) == 0);
	HR_REQUIRE(crypto_pwhash_str_verify(h, PW("pw")) == 0);
	HR_CHECK(!hr_password_verify(h, PW("pw")));
	hr_password_params same = {crypto_pwhash_argon2i_OPSLIMIT_MIN,
				   crypto_pwhash_argon2i_MEMLIMIT_MIN};
	HR_CHECK(hr_password_needs_rehash(h, &same));
}

static void test_tampered_hash_refused(void)
{
	char h[HR_PASSWORD_HASH_MAX];
	setup();
	HR_REQUIRE(hr_password_hash(PW("pw"), &fast, h) == 0);
	size_t len = strlen(h);
	/* Flip a tag character (not the last: its low bits are padding), then a
	 * salt character. */
	char t[HR_PASSWORD_HASH_MAX];
	memcpy(t, h, sizeof t);
	t[len - 5] = t[len - 5] == 'A' ? 'B' : 'A';
	HR_CHECK(!hr_password_verify(t, PW("pw")));
	memcpy(t, h, sizeof t);
	char *salt = strchr(strstr(t, "p=1$"), '$') + 1;
	*salt = *salt == 'A' ? 'B' : 'A';
	HR_CHECK(!hr_password_verify(t, PW("pw")));
	/* Changing the stored t= makes it a different computation. */
	memcpy(t, h, sizeof t);
	char *tp = strstr(t, "t=1");
	HR_REQUIRE(tp != NULL);
	tp[2] = '2';
	HR_CHECK(!hr_password_verify(t, PW("pw")));
}

static void test_unterminated_hash_refused(void)
{
	/* HR_PASSWORD_HASH_MAX bytes without a NUL, ending at a guard page:
	 * neither call may read past them. */
	char raw[HR_PASSWORD_HASH_MAX];
	memset(raw, 'a', sizeof raw);
	memcpy(raw, "$argon2id$", 10);
	char *g = hr_test_guard_copy(raw, sizeof raw);
	setup();
	HR_CHECK(!hr_password_verify(g, PW("pw")));
	HR_CHECK(hr_password_needs_rehash(g, &fast));
	hr_test_guard_free(g, sizeof raw);
}

static void test_dummy_verify_is_false(void)
{
	hr_password_params def;
	setup();
	hr_password_params_default(&def);
	HR_CHECK(!hr_password_dummy_verify(PW("pw"), &fast));
	HR_CHECK(!hr_password_dummy_verify(PW(""), &fast));
	HR_CHECK(!hr_password_dummy_verify(NULL, 0, &fast));
	/* Not even the password of some fixed dummy hash can pass. */
	static char big[HR_PASSWORD_MAX + 1];
	memset(big, 'x', sizeof big);
	HR_CHECK(!hr_password_dummy_verify(big, HR_PASSWORD_MAX, &fast));
	HR_CHECK(!hr_password_dummy_verify(big, sizeof big, &def)); /* refused at once */
	hr_password_params bad = {0, 8192};
	HR_CHECK(!hr_password_dummy_verify(PW("pw"), &bad));
}

static void test_overlong_password_refused(void)
{
	static char big[HR_PASSWORD_MAX + 2];
	char h[HR_PASSWORD_HASH_MAX], keep[HR_PASSWORD_HASH_MAX];
	setup();
	memset(big, 'x', sizeof big);
	memset(h, '#', sizeof h);
	memcpy(keep, h, sizeof h);
	HR_CHECK(hr_password_hash(big, HR_PASSWORD_MAX + 1, &fast, h) == HR_EINVAL);
	HR_CHECK(hr_password_hash(big, (size_t)-1, &fast, h) == HR_EINVAL);
	HR_CHECK(memcmp(h, keep, sizeof h) == 0); /* out untouched */
	/* Exactly the cap is fine, and one byte more never verifies. */
	HR_REQUIRE(hr_password_hash(big, HR_PASSWORD_MAX, &fast, h) == 0);
	HR_CHECK(hr_password_verify(h, big, HR_PASSWORD_MAX));
	HR_CHECK(!hr_password_verify(h, big, HR_PASSWORD_MAX + 1));
	HR_CHECK(!hr_password_verify(h, big, HR_PASSWORD_MAX - 1));
}

static void test_invalid_params_refused(void)
{
	static const struct {
		const char *label;
		hr_password_params p;
		bool valid;
	} rows[] = {
		{"zero_passes", {0, 8192}, false},
		{"below_min_memory", {1, 8191}, false},
		{"zero_memory", {1, 0}, false},
		{"min", {1, 8192}, true},
		{"interactive", {2, 64u * 1024 * 1024}, true},
		{"passes_over_u32", {4294967296ull, 8192}, false},
	};
	setup();
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		HR_CHECKF(hr_password_params_valid(&rows[i].p) == rows[i].valid, "%s",
			  rows[i].label);
		if (rows[i].valid)
			continue;
		char h[HR_PASSWORD_HASH_MAX] = "untouched";
		HR_CHECKF(hr_password_hash(PW("pw"), &rows[i].p, h) == HR_EINVAL, "%s",
			  rows[i].label);
		HR_CHECKF(strcmp(h, "untouched") == 0, "%s", rows[i].label);
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_dummy_costs_like_verify(void)
{
	/* DIALECT.md §12.2: a missing user must cost what a wrong password
	 * costs. Medians of 7 runs each, interleaved so load on the machine
	 * hits both alike; the bound is loose (2x) because CI machines are
	 * noisy, while a broken dummy (no hashing) would be ~1000x faster. */
	enum { RUNS = 7 };
	hr_password_params p = {1, 8u * 1024 * 1024};
	char h[HR_PASSWORD_HASH_MAX];
	double v[RUNS], d[RUNS];
	setup();
	HR_REQUIRE(hr_password_hash(PW("right"), &p, h) == 0);
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_ms();
		HR_CHECK(!hr_password_verify(h, PW("wrong")));
		double t1 = now_ms();
		HR_CHECK(!hr_password_dummy_verify(PW("wrong"), &p));
		double t2 = now_ms();
		v[i] = t1 - t0;
		d[i] = t2 - t1;
	}
	qsort(v, RUNS, sizeof v[0], cmp_double);
	qsort(d, RUNS, sizeof d[0], cmp_double);
	double ratio = d[RUNS / 2] / v[RUNS / 2];
	HR_CHECKF(ratio > 0.5 && ratio < 2.0, "verify %.2f ms, dummy %.2f ms", v[RUNS / 2],
		  d[RUNS / 2]);
}

static const hr_test_case cases[] = {
	{"init_is_idempotent", test_init_is_idempotent},
	{"default_params_are_interactive", test_default_params_are_interactive},
	{"round_trip", test_round_trip},
	{"wrong_password", test_wrong_password},
	{"salt_differs_per_hash", test_salt_differs_per_hash},
	{"hash_string_carries_params", test_hash_string_carries_params},
	{"needs_rehash", test_needs_rehash},
	{"foreign_hashes_refused", test_foreign_hashes_refused},
	{"argon2i_hash_refused", test_argon2i_hash_refused},
	{"tampered_hash_refused", test_tampered_hash_refused},
	{"unterminated_hash_refused", test_unterminated_hash_refused},
	{"dummy_verify_is_false", test_dummy_verify_is_false},
	{"overlong_password_refused", test_overlong_password_refused},
	{"invalid_params_refused", test_invalid_params_refused},
	{"dummy_costs_like_verify", test_dummy_costs_like_verify},
};
HR_TEST_MAIN(cases)

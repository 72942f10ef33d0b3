/*
 * tests/unit/auth/ratelimit_test.c - the shared window table and the IP
 * helpers (src/auth/ratelimit.c).
 *
 * Time is a parameter of hr_ratelimit_take(), so window ends are tested by
 * passing later instants, never by sleeping. Threads hammer one key to
 * show that a window admits exactly max requests however the calls
 * interleave; a flood of distinct keys shows that the fixed table keeps
 * answering correctly once it is full.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/ratelimit.h"
#include "harness/unit.h"

static hr_str cs(const char *s)
{
	return hr_str_make(s, strlen(s));
}

static void test_window_admits_max_then_refuses(void)
{
	hr_ratelimit *rl = hr_ratelimit_new();
	int64_t retry = -1, t0 = 1000000;
	for (int i = 0; i < 3; i++)
		HR_CHECK(hr_ratelimit_take(rl, cs("k"), 3, 10000, t0 + i, true, &retry));
	HR_CHECK(retry == -1);
	HR_CHECK(!hr_ratelimit_take(rl, cs("k"), 3, 10000, t0 + 10, true, &retry));
	HR_CHECKF(retry == 10, "retry %lld", (long long)retry);
	HR_CHECK(!hr_ratelimit_take(rl, cs("k"), 3, 10000, t0 + 9500, true, &retry));
	HR_CHECK(retry == 1);
	/* the window ends at t0 + 10000: a new one starts */
	HR_CHECK(hr_ratelimit_take(rl, cs("k"), 3, 10000, t0 + 10000, true, &retry));
	/* other keys are independent */
	HR_CHECK(hr_ratelimit_take(rl, cs("k2"), 1, 10000, t0, true, &retry));
	HR_CHECK(!hr_ratelimit_take(rl, cs("k2"), 1, 10000, t0, true, &retry));
	hr_ratelimit_free(rl);
}

static void test_peek_does_not_count(void)
{
	hr_ratelimit *rl = hr_ratelimit_new();
	int64_t retry;
	for (int i = 0; i < 100; i++)
		HR_CHECK(hr_ratelimit_take(rl, cs("p"), 2, 60000, 5000, false, &retry));
	HR_CHECK(hr_ratelimit_take(rl, cs("p"), 2, 60000, 5000, true, &retry));
	HR_CHECK(hr_ratelimit_take(rl, cs("p"), 2, 60000, 5000, true, &retry));
	HR_CHECK(!hr_ratelimit_take(rl, cs("p"), 2, 60000, 5000, false, &retry));
	HR_CHECK(retry == 60);
	hr_ratelimit_free(rl);
}

static void test_zero_max_refuses_everything(void)
{
	hr_ratelimit *rl = hr_ratelimit_new();
	int64_t retry;
	HR_CHECK(!hr_ratelimit_take(rl, cs("z"), 0, 1000, 1, true, &retry));
	hr_ratelimit_free(rl);
}

static void test_flood_of_keys_stays_correct(void)
{
	hr_ratelimit *rl = hr_ratelimit_new();
	int64_t retry;
	char k[32];
	for (int i = 0; i < 300000; i++) {
		int n = snprintf(k, sizeof k, "ip-%d", i);
		HR_REQUIRE(hr_ratelimit_take(rl, hr_str_make(k, (size_t)n), 1, 60000, 1000 + i, true, &retry));
	}
	/* the table is full of live windows; a newcomer still gets exactly its max */
	HR_CHECK(hr_ratelimit_take(rl, cs("late"), 2, 60000, 400000, true, &retry));
	HR_CHECK(hr_ratelimit_take(rl, cs("late"), 2, 60000, 400001, true, &retry));
	HR_CHECK(!hr_ratelimit_take(rl, cs("late"), 2, 60000, 400002, true, &retry));
	hr_ratelimit_free(rl);
}

typedef struct hammer {
	hr_ratelimit *rl;
	int admitted;
} hammer;

static void *hammer_run(void *ud)
{
	hammer *h = ud;
	int64_t retry;
	for (int i = 0; i < 5000; i++)
		if (hr_ratelimit_take(h->rl, cs("shared"), 7000, 60000, 42, true, &retry))
			h->admitted++;
	return NULL;
}

static void test_threads_share_one_window(void)
{
	hr_ratelimit *rl = hr_ratelimit_new();
	hammer hs[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		hs[i] = (hammer){rl, 0};
		HR_REQUIRE(pthread_create(&th[i], NULL, hammer_run, &hs[i]) == 0);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += hs[i].admitted;
	}
	HR_CHECKF(total == 7000, "admitted %d", total);
	hr_ratelimit_free(rl);
}

static void test_ip_parse(void)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
		{"127.0.0.1", true},	 {"203.0.113.7", true}, {"::1", true},
		{"2001:db8::1", true},	 {"::ffff:10.0.0.1", true}, {"", false},
		{"999.1.1.1", false},	 {"1.2.3", false},	{"10.0.0.1:80", false},
		{"[::1]", false},	 {" 1.2.3.4", false},	{"fe80::1%eth0", false},
		{"1.2.3.4.5", false},	 {"garbage", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_ip ip;
		HR_CHECKF(hr_ip_parse(cs(rows[i].in), &ip) == rows[i].ok, "row %zu: %s", i, rows[i].in);
	}
}

static void test_ip_match(void)
{
	static const struct {
		const char *ip, *entry;
		bool match;
	} rows[] = {
		{"10.1.2.3", "10.1.2.3", true},
		{"10.1.2.3", "10.1.2.4", false},
		{"10.1.2.3", "10.0.0.0/8", true},
		{"11.1.2.3", "10.0.0.0/8", false},
		{"10.1.2.3", "10.1.0.0/16", true},
		{"10.2.2.3", "10.1.0.0/16", false},
		{"10.1.2.3", "10.1.2.0/25", true},
		{"10.1.2.200", "10.1.2.0/25", false},
		{"192.0.2.1", "0.0.0.0/0", true},
		{"2001:db8::5", "0.0.0.0/0", false},
		{"2001:db8::5", "2001:db8::/32", true},
		{"2001:db9::5", "2001:db8::/32", false},
		{"::1", "::1", true},
		{"::1", "::/0", true},
		{"10.0.0.1", "::/0", false},
		{"10.0.0.1", "10.0.0.0/33", false},
		{"10.0.0.1", "10.0.0.0/", false},
		{"10.0.0.1", "10.0.0.0/x", false},
		{"10.0.0.1", "not an ip", false},
		{"10.0.0.1", " 10.0.0.1 ", true},
		{"2001:db8::1", "2001:db8::/129", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_ip ip;
		HR_REQUIRE(hr_ip_parse(cs(rows[i].ip), &ip));
		HR_CHECKF(hr_ip_match(&ip, cs(rows[i].entry)) == rows[i].match, "row %zu: %s in %s", i,
			  rows[i].ip, rows[i].entry);
	}
}

static const hr_test_case cases[] = {
	{"window_admits_max_then_refuses", test_window_admits_max_then_refuses},
	{"peek_does_not_count", test_peek_does_not_count},
	{"zero_max_refuses_everything", test_zero_max_refuses_everything},
	{"flood_of_keys_stays_correct", test_flood_of_keys_stays_correct},
	{"threads_share_one_window", test_threads_share_one_window},
	{"ip_parse", test_ip_parse},
	{"ip_match", test_ip_match},
};
HR_TEST_MAIN(cases)

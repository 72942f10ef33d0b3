/*
 * Unit tests of src/http/date.c: IMF-fixdate output, the three input
 * formats of RFC 9110 §5.6.7, and rejection of malformed dates.
 */
#include <string.h>

#include "harness/unit.h"
#include "http/http.h"

static void test_formats_imf_fixdate(void)
{
	char d[30];
	hr_http_date(784111777, d);
	HR_CHECK(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	hr_http_date(0, d);
	HR_CHECK(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	hr_http_date(951782400, d); /* leap day 2000 */
	HR_CHECK(strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT") == 0);
}

static void test_parses_three_formats(void)
{
	HR_CHECK(hr_http_parse_date(HR_STR("Sun, 06 Nov 1994 08:49:37 GMT")) == 784111777);
	HR_CHECK(hr_http_parse_date(HR_STR("Sunday, 06-Nov-94 08:49:37 GMT")) == 784111777);
	HR_CHECK(hr_http_parse_date(HR_STR("Sun Nov  6 08:49:37 1994")) == 784111777);
	HR_CHECK(hr_http_parse_date(HR_STR("Tue, 29 Feb 2000 00:00:00 GMT")) == 951782400);
}

static void test_round_trip(void)
{
	for (int64_t t = 0; t < 4102444800LL; t += 86400LL * 37 + 3671) {
		char d[30];
		hr_http_date(t, d);
		HR_CHECKF(hr_http_parse_date(hr_str_make(d, 29)) == t, "%s", d);
	}
}

static void test_rejects_malformed(void)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 32 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 25:49:37 GMT",
		"Sun, 06 Nov 19x4 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT ",
		"2026-11-25T10:00:00Z",
		"Sun Nov 6 08:49:37 1994",
		"Sunday, 06-Nov-94 08:49:37 GM",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		HR_CHECKF(hr_http_parse_date(hr_str_make(bad[i], strlen(bad[i]))) == -1, "%s", bad[i]);
}

static const hr_test_case cases[] = {
	{"formats_imf_fixdate", test_formats_imf_fixdate},
	{"parses_three_formats", test_parses_three_formats},
	{"round_trip", test_round_trip},
	{"rejects_malformed", test_rejects_malformed},
};
HR_TEST_MAIN(cases)

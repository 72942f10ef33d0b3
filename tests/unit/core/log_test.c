/*
 * Unit tests of src/core/log.c: access-line formats, escaping of untrusted
 * fields, truncation, level filtering, buffering until flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "harness/unit.h"

static char out[1 << 16];

/* Flushes l (whose fds are the write end of p) and reads what arrived. */
static size_t drain(hr_log *l, int p[2])
{
	hr_log_flush(l);
	ssize_t n = read(p[0], out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void test_text_access_line(void)
{
	int p[2];
	HR_REQUIRE(pipe(p) == 0);
	hr_log l;
	hr_log_init(&l, p[1], p[1], HR_LOG_TEXT, true, HR_LOG_INFO);
	hr_log_access(&l, HR_STR("192.0.2.7"), HR_STR("GET"), HR_STR("/a?b=1"), 200, 13, 57);
	HR_CHECK(drain(&l, p) > 0);
	/* 2026-11-25T19:29:20.123Z 192.0.2.7 GET /a?b=1 200 13 57us */
	HR_CHECK(strlen(out) == 24 + strlen(" 192.0.2.7 GET /a?b=1 200 13 57us\n"));
	HR_CHECK(strcmp(out + 24, " 192.0.2.7 GET /a?b=1 200 13 57us\n") == 0);
	hr_log_access(&l, HR_STR(""), HR_STR("GET"), HR_STR("/"), 200, 1, 2);
	HR_CHECK(drain(&l, p) > 0);
	HR_CHECKF(strcmp(out + 24, " - GET / 200 1 2us\n") == 0, "%s", out);
	HR_CHECK(out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
	hr_log_dispose(&l);
	close(p[0]);
	close(p[1]);
}

static void test_json_access_line_escapes(void)
{
	int p[2];
	HR_REQUIRE(pipe(p) == 0);
	hr_log l;
	hr_log_init(&l, p[1], p[1], HR_LOG_JSON, true, HR_LOG_INFO);
	hr_log_access(&l, HR_STR("2001:db8::1"), HR_STR("GET"), HR_STR("/q\"\\\x01\n\xff"), 404, 1, 2);
	drain(&l, p);
	HR_CHECKF(strstr(out, "Z\",\"addr\":\"2001:db8::1\",\"method\":\"GET\"") != NULL, "%s", out);
	HR_CHECKF(strstr(out, "\"path\":\"/q\\\"\\\\\\u0001\\u000a\\u00ff\"") != NULL, "%s", out);
	HR_CHECK(strstr(out, "\"status\":404,\"bytes\":1,\"us\":2}\n") != NULL);
	hr_log_dispose(&l);
	close(p[0]);
	close(p[1]);
}

static void test_text_escapes_and_truncates(void)
{
	int p[2];
	HR_REQUIRE(pipe(p) == 0);
	hr_log l;
	hr_log_init(&l, p[1], p[1], HR_LOG_TEXT, true, HR_LOG_INFO);
	char big[3000];
	memset(big, 'a', sizeof big);
	big[0] = '/';
	big[1] = ' ';
	hr_log_access(&l, HR_STR("127.0.0.1"), HR_STR("GET"), hr_str_make(big, sizeof big), 200, 0, 0);
	drain(&l, p);
	HR_CHECK(strstr(out, "/\\x20aaa") != NULL);
	HR_CHECK(strstr(out, "...") != NULL);
	HR_CHECK(strlen(out) < HR_LOG_FIELD_MAX + 200);
	HR_CHECK(strchr(out, '\n') == out + strlen(out) - 1);
	hr_log_dispose(&l);
	close(p[0]);
	close(p[1]);
}

static void test_quiet_and_levels(void)
{
	int p[2];
	HR_REQUIRE(pipe(p) == 0);
	hr_log l;
	hr_log_init(&l, p[1], p[1], HR_LOG_TEXT, false, HR_LOG_WARN);
	hr_log_access(&l, HR_STR("127.0.0.1"), HR_STR("GET"), HR_STR("/"), 200, 0, 0);
	hr_log_error(&l, HR_LOG_INFO, "test", "not shown");
	hr_log_error(&l, HR_LOG_ERROR, "test", "shown %d", 7);
	drain(&l, p);
	HR_CHECK(strstr(out, "not shown") == NULL);
	HR_CHECK(strstr(out, "error [test] shown 7\n") != NULL);
	HR_CHECK(strstr(out, " GET ") == NULL);
	hr_log_dispose(&l);
	close(p[0]);
	close(p[1]);
}

static void test_buffers_until_flush(void)
{
	FILE *f = tmpfile();
	HR_REQUIRE(f != NULL);
	int fd = fileno(f);
	hr_log l;
	hr_log_init(&l, fd, fd, HR_LOG_TEXT, true, HR_LOG_INFO);
	hr_log_access(&l, HR_STR("127.0.0.1"), HR_STR("GET"), HR_STR("/"), 200, 0, 0);
	HR_CHECK(l.alen > 0);
	HR_CHECK(lseek(fd, 0, SEEK_END) == 0);
	for (int i = 0; i < 2000; i++)
		hr_log_access(&l, HR_STR("127.0.0.1"), HR_STR("GET"), HR_STR("/x"), 200, 0, 0);
	HR_CHECK(l.alen < l.cap);
	hr_log_dispose(&l);
	HR_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	size_t lines = 0;
	ssize_t n;
	while ((n = read(fd, out, sizeof out)) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += out[i] == '\n';
	HR_CHECK(lines == 2001);
	fclose(f);
}

static const hr_test_case cases[] = {
	{"text_access_line", test_text_access_line},
	{"json_access_line_escapes", test_json_access_line_escapes},
	{"text_escapes_and_truncates", test_text_escapes_and_truncates},
	{"quiet_and_levels", test_quiet_and_levels},
	{"buffers_until_flush", test_buffers_until_flush},
};
HR_TEST_MAIN(cases)

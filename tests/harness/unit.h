/*
 * tests/harness/unit.h - the unit-test runner every tests/unit/ program uses.
 *
 * A test program lists its cases in a table and ends with HR_TEST_MAIN:
 *
 *     static void test_parses_get(void) { HR_CHECK(x == 1); }
 *     static const hr_test_case cases[] = {
 *         {"parses_get", test_parses_get},
 *     };
 *     HR_TEST_MAIN(cases)
 *
 * Run without arguments, the program forks one child per case (libuv's
 * runner habit: a crash, abort, sanitizer report or hang in one case cannot
 * take the others down), kills a child that runs longer than
 * HR_TEST_TIMEOUT seconds (env, default 60), prints "ok - name" or
 * "FAIL - name" per case, and ends with the line
 *     "# <program>: N passed, N failed"
 * which tests/run.sh adds up. With a case name as argument it runs that one
 * case in-process (for gdb). HR_CHECK failures print file:line and the
 * expression and mark the case failed but let it continue; HR_REQUIRE stops
 * the case.
 */
#ifndef HR_TEST_UNIT_H
#define HR_TEST_UNIT_H

#include <stddef.h>

typedef struct hr_test_case {
	const char *name;
	void (*fn)(void);
} hr_test_case;

extern int hr_test_failures;

void hr_test_fail(const char *file, int line, const char *expr);
int hr_test_main(int argc, char **argv, const hr_test_case *cases, size_t n);

#define HR_CHECK(cond)                                                  \
	do {                                                            \
		if (!(cond))                                            \
			hr_test_fail(__FILE__, __LINE__, #cond);        \
	} while (0)

#define HR_CHECKF(cond, ...)                                            \
	do {                                                            \
		if (!(cond)) {                                          \
			hr_test_fail(__FILE__, __LINE__, #cond);        \
			fprintf(stderr, "    ");                        \
			fprintf(stderr, __VA_ARGS__);                   \
			fprintf(stderr, "\n");                          \
		}                                                       \
	} while (0)

#define HR_REQUIRE(cond)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			hr_test_fail(__FILE__, __LINE__, #cond);        \
			return;                                         \
		}                                                       \
	} while (0)

#define HR_TEST_MAIN(cases)                                             \
	int main(int argc, char **argv)                                 \
	{                                                               \
		return hr_test_main(argc, argv, cases,                  \
				    sizeof(cases) / sizeof(cases[0])); \
	}

/*
 * Guard-page helper (picohttpparser's habit): returns a pointer p such that
 * p[0..len) holds a copy of data and p + len is the first byte of a
 * PROT_NONE page, so any read past the end faults. Free with
 * hr_test_guard_free(p, len).
 */
char *hr_test_guard_copy(const void *data, size_t len);
void hr_test_guard_free(char *p, size_t len);

#endif

/*
 * tests/harness/unit.c - see unit.h. One child process per case, a timeout,
 * a summary line.
 */

#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hr_test_failures;

void hr_test_fail(const char *file, int line, const char *expr)
{
	hr_test_failures++;
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
}

static int run_one(const hr_test_case *c)
{
	hr_test_failures = 0;
	c->fn();
	return hr_test_failures ? 1 : 0;
}

static int run_forked(const hr_test_case *c, int timeout_s)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		alarm((unsigned)timeout_s);
		int rc = run_one(c);
		fflush(NULL);
		_exit(rc);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) ? 1 : 0;
	if (WIFSIGNALED(status))
		fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int hr_test_main(int argc, char **argv, const hr_test_case *cases, size_t n)
{
	const char *prog = strrchr(argv[0], '/');
	prog = prog ? prog + 1 : argv[0];
	if (argc > 1) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(cases[i].name, argv[1]) == 0)
				return run_one(&cases[i]);
		fprintf(stderr, "no case named %s\n", argv[1]);
		return 2;
	}
	const char *t = getenv("HR_TEST_TIMEOUT");
	int timeout_s = t ? atoi(t) : 60;
	if (timeout_s <= 0)
		timeout_s = 60;
	unsigned passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (run_forked(&cases[i], timeout_s) == 0) {
			passed++;
			printf("ok - %s\n", cases[i].name);
		} else {
			failed++;
			printf("FAIL - %s\n", cases[i].name);
		}
		fflush(stdout);
	}
	printf("# %s: %u passed, %u failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}

char *hr_test_guard_copy(const void *data, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t body = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	if (body == 0)
		body = (size_t)page;
	char *map = mmap(NULL, body + (size_t)page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(map + body, (size_t)page, PROT_NONE) != 0) {
		perror("mprotect");
		abort();
	}
	char *p = map + body - len;
	if (len)
		memcpy(p, data, len);
	return p;
}

void hr_test_guard_free(char *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t body = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	if (body == 0)
		body = (size_t)page;
	munmap(p + len - body, body + (size_t)page);
}

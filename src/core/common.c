/*
 * core/common.c - hr_strerror, hr_fatal, the aborting allocators and
 * hr_thread_name.
 * See common.h for the conventions.
 */
#include "core/common.h"

#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

const char *hr_strerror(int code)
{
	switch (code) {
	case HR_OK:
		return "success";
	case HR_ELIMIT:
		return "limit exceeded";
	case HR_EPARSE:
		return "malformed input";
	case HR_ECLOSED:
		return "connection closed";
	case HR_ESTATE:
		return "invalid state for this call";
	default:
		break;
	}
	if (code < 0 && code > -4000)
		return strerror(-code);
	return "unknown error";
}

void hr_fatal_at(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "fatal: %s:%d: %s\n", file, line, msg);
	void *frames[64];
	int n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	abort();
}

void *hr_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		hr_fatal("out of memory allocating %zu bytes", n);
	return p;
}

void *hr_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		hr_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *hr_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		hr_fatal("out of memory reallocating %zu bytes", n);
	return q;
}

char *hr_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = hr_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void hr_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

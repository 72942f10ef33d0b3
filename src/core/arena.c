/*
 * core/arena.c - see arena.h.
 *
 * Chunk growth: each new chunk is twice the previous one (at least 4 KiB),
 * or exactly the request if that is larger, so a request doing many small
 * allocations makes O(log n) malloc calls.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/sanitizer.h"

#define ALIGN 16u
#define MIN_CHUNK 4096u

void hr_arena_init(hr_arena *a, void *mem, size_t size, size_t limit)
{
	char *p = mem;
	uintptr_t mis = (uintptr_t)p % ALIGN;
	if (mis) {
		size_t skip = ALIGN - mis;
		p += skip;
		size = size > skip ? size - skip : 0;
	}
	a->first = p;
	a->first_size = size;
	a->cur = p;
	a->end = p + size;
	a->chunks = NULL;
	a->cleanups = NULL;
	a->used = 0;
	a->limit = limit;
	a->fail_after = -1;
	HR_POISON(a->cur, size);
}

static int new_chunk(hr_arena *a, size_t n)
{
	size_t prev = a->chunks ? a->chunks->size : MIN_CHUNK / 2;
	size_t size = prev * 2;
	if (size < n)
		size = n;
	if (a->limit && (size > a->limit || a->used > a->limit - size)) {
		if (n > a->limit || a->used > a->limit - n)
			return HR_ELIMIT;
		size = n;
	}
	hr_arena_chunk *c = malloc(sizeof *c + size + ALIGN);
	if (!c)
		return HR_ENOMEM;
	c->size = size;
	c->next = a->chunks;
	a->chunks = c;
	a->used += size;
	char *p = (char *)(c + 1);
	uintptr_t mis = (uintptr_t)p % ALIGN;
	if (mis)
		p += ALIGN - mis;
	a->cur = p;
	a->end = p + size;
	HR_POISON(p, size);
	return 0;
}

void *hr_arena_alloc(hr_arena *a, size_t n)
{
	if (a->fail_after >= 0) {
		if (a->fail_after == 0)
			return NULL;
		a->fail_after--;
	}
	if (n > SIZE_MAX - ALIGN)
		return NULL;
	size_t rounded = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (rounded == 0)
		rounded = ALIGN;
	if ((size_t)(a->end - a->cur) < rounded && new_chunk(a, rounded) != 0)
		return NULL;
	char *p = a->cur;
	a->cur += rounded;
	HR_UNPOISON(p, n ? n : 1);
	return p;
}

char *hr_arena_dup(hr_arena *a, const void *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = hr_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *hr_arena_printf(hr_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = hr_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int hr_arena_on_reset(hr_arena *a, void (*fn)(void *ud), void *ud)
{
	hr_arena_cleanup *c = hr_arena_alloc(a, sizeof *c);
	if (!c)
		return HR_ENOMEM;
	c->fn = fn;
	c->ud = ud;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

void hr_arena_reset(hr_arena *a)
{
	while (a->cleanups) {
		hr_arena_cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->ud);
	}
	while (a->chunks) {
		hr_arena_chunk *c = a->chunks;
		a->chunks = c->next;
		free(c);
	}
	a->used = 0;
	a->cur = a->first;
	a->end = a->first + a->first_size;
	HR_POISON(a->cur, a->first_size);
}

void hr_arena_dispose(hr_arena *a)
{
	hr_arena_reset(a);
	HR_UNPOISON(a->first, a->first_size);
}

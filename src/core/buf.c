/*
 * core/buf.c - the growable output buffer with a ceiling. See buf.h.
 *
 * DESIGN
 *   Capacity doubles (starting at MIN_CAP) and is clamped to `max`. One byte
 *   of slack past `len` is kept whenever the ceiling allows, so ptr[len] is
 *   a NUL and a finished buffer can be handed to an API that wants a C
 *   string; a buffer filled exactly to `max` is the one case without it
 *   (buf.h: "NUL-terminated when len < cap").
 *
 *   Every append goes through reserve(), which is where the two failures
 *   happen: HR_ELIMIT when len + n would pass `max` (checked without
 *   overflow), HR_ENOMEM when realloc fails. Either one is stored in `err`
 *   and returned by every later call until hr_buf_reset(), so a builder can
 *   append freely and look at `err` once. A failed call leaves ptr, len and
 *   cap exactly as they were.
 *
 * INVARIANTS
 *   len <= cap <= max; ptr == NULL iff cap == 0; if len < cap then
 *   ptr[len] == '\0'.
 *
 * NOT DONE HERE
 *   No shrinking, no 1 MiB growth step (redis sds has one; our buffers live
 *   for one response), no thread safety.
 */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

#define MIN_CAP 64u

static size_t effective_max(const hr_buf *b)
{
	return b->max ? b->max : SIZE_MAX / 2;
}

void hr_buf_init(hr_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

void hr_buf_dispose(hr_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

void hr_buf_reset(hr_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static int fail(hr_buf *b, int code)
{
	if (!b->err)
		b->err = code;
	return b->err;
}

int hr_buf_reserve(hr_buf *b, size_t n)
{
	if (HR_UNLIKELY(b->err))
		return b->err;
	/* Fast path: room for the bytes and the trailing NUL. */
	if (HR_LIKELY(b->cap - b->len > n))
		return 0;
	size_t max = effective_max(b);
	if (n > max || b->len > max - n)
		return fail(b, HR_ELIMIT);
	size_t need = b->len + n; /* <= max */
	if (need < b->cap || (need == b->cap && need == max))
		return 0; /* fits exactly; no room for a NUL under the ceiling */
	size_t want = need < max ? need + 1 : need;
	size_t cap = b->cap ? b->cap : MIN_CAP;
	while (cap < want && cap <= max / 2)
		cap *= 2;
	if (cap < want)
		cap = want; /* doubling would pass max; want <= max */
	if (cap > max)
		cap = max; /* MIN_CAP above a tiny ceiling */
	char *p = realloc(b->ptr, cap);
	if (!p)
		return fail(b, HR_ENOMEM);
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int hr_buf_append(hr_buf *b, const void *p, size_t n)
{
	int rc = hr_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n) {
		memcpy(b->ptr + b->len, p, n);
		b->len += n;
	}
	if (b->len < b->cap)
		b->ptr[b->len] = '\0';
	return 0;
}

int hr_buf_append_str(hr_buf *b, hr_str s)
{
	return hr_buf_append(b, s.ptr, s.len);
}

int hr_buf_append_cstr(hr_buf *b, const char *s)
{
	return hr_buf_append(b, s, strlen(s));
}

int hr_buf_append_char(hr_buf *b, char c)
{
	if (HR_LIKELY(!b->err && b->cap - b->len > 1)) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return hr_buf_append(b, &c, 1);
}

/* Writes v's decimal digits ending at end[-1]; returns the first digit. */
static char *u64_digits(uint64_t v, char *end)
{
	static const char pairs[201] = "00010203040506070809"
				       "10111213141516171819"
				       "20212223242526272829"
				       "30313233343536373839"
				       "40414243444546474849"
				       "50515253545556575859"
				       "60616263646566676869"
				       "70717273747576777879"
				       "80818283848586878889"
				       "90919293949596979899";
	char *p = end;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

int hr_buf_append_u64(hr_buf *b, uint64_t v)
{
	char tmp[20];
	char *p = u64_digits(v, tmp + sizeof tmp);
	return hr_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

int hr_buf_append_i64(hr_buf *b, int64_t v)
{
	char tmp[21];
	/* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = u64_digits(u, tmp + sizeof tmp);
	if (v < 0)
		*--p = '-';
	return hr_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

int hr_buf_printf(hr_buf *b, const char *fmt, ...)
{
	if (b->err)
		return b->err;
	va_list ap;
	size_t room = b->cap - b->len;
	va_start(ap, fmt);
	int n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (room)
			b->ptr[b->len] = '\0';
		return fail(b, HR_EINVAL);
	}
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return 0;
	}
	/* Did not fit: restore the NUL vsnprintf may have moved, grow, redo. */
	if (room)
		b->ptr[b->len] = '\0';
	int rc = hr_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	room = b->cap - b->len;
	if ((size_t)n < room) {
		va_start(ap, fmt);
		vsnprintf(b->ptr + b->len, room, fmt, ap);
		va_end(ap);
		b->len += (size_t)n;
		return 0;
	}
	/* Exactly at the ceiling: no room for vsnprintf's NUL; format into a
	 * temporary and copy the bytes. Rare. */
	char *tmp = malloc((size_t)n + 1);
	if (!tmp)
		return fail(b, HR_ENOMEM);
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	memcpy(b->ptr + b->len, tmp, (size_t)n);
	b->len += (size_t)n;
	free(tmp);
	return 0;
}

void hr_buf_truncate(hr_buf *b, size_t len)
{
	HR_ASSERT(len <= b->len);
	b->len = len;
	if (len < b->cap)
		b->ptr[len] = '\0';
}

char *hr_buf_steal(hr_buf *b, size_t *len)
{
	if (b->err)
		return NULL;
	char *p = b->ptr;
	size_t n = b->len;
	if (!p) {
		p = malloc(1);
		if (!p)
			return NULL;
		p[0] = '\0';
	}
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	if (len)
		*len = n;
	return p;
}

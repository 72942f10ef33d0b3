/*
 * core/buf.h - a growable output buffer with a ceiling.
 *
 * Used to build response bodies, SQL text and anything else produced
 * piecewise. Growth doubles the capacity (redis sds's policy without the
 * 1 MiB step: our buffers are short-lived), never past `max`; an append
 * that would pass it fails with HR_ELIMIT and leaves the buffer unchanged,
 * and so does a failed allocation (HR_ENOMEM). Because every append may
 * fail, a builder checks `b->err` once at the end instead of after every
 * call: the first failure is sticky and later appends are no-ops.
 *
 * Memory comes from malloc (not an arena), so the bytes can be handed to
 * the connection or kept beyond a request; hr_buf_dispose frees them.
 * Not thread-safe; one owner at a time.
 */
#ifndef HR_CORE_BUF_H
#define HR_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

typedef struct hr_buf {
	char *ptr;  /* bytes [0, len); NUL-terminated when len < cap */
	size_t len;
	size_t cap;
	size_t max; /* ceiling on cap; 0 = SIZE_MAX/2 */
	int err;    /* first failure (HR_ELIMIT / HR_ENOMEM), sticky; 0 if none */
} hr_buf;

void hr_buf_init(hr_buf *b, size_t max);
void hr_buf_dispose(hr_buf *b);

/* Empties the buffer (keeps capacity) and clears err. */
void hr_buf_reset(hr_buf *b);

/* Ensures room for n more bytes; returns 0 or the (sticky) error. */
int hr_buf_reserve(hr_buf *b, size_t n);

int hr_buf_append(hr_buf *b, const void *p, size_t n);
int hr_buf_append_str(hr_buf *b, hr_str s);
int hr_buf_append_cstr(hr_buf *b, const char *s);
int hr_buf_append_char(hr_buf *b, char c);
int hr_buf_append_u64(hr_buf *b, uint64_t v);
int hr_buf_append_i64(hr_buf *b, int64_t v);
__attribute__((format(printf, 2, 3))) int hr_buf_printf(hr_buf *b, const char *fmt, ...);

/* Shortens the buffer to its first len bytes (len <= b->len, checked with
 * HR_ASSERT), like Go's bytes.Buffer.Truncate; capacity and err are kept.
 * To drop the last n bytes: hr_buf_truncate(b, b->len - n). */
void hr_buf_truncate(hr_buf *b, size_t len);

/* Detaches the bytes: returns the malloc'd pointer (caller frees; an
 * empty buffer yields a malloc'd "") and leaves b empty (max kept).
 * Returns NULL, leaving b as it was, if b->err is set (or, for an empty
 * buffer, if malloc fails). */
char *hr_buf_steal(hr_buf *b, size_t *len);

#endif

/*
 * core/common.h - error codes, assertions and the few macros every module uses.
 *
 * Error convention (libuv's): functions return int, 0 on success and a
 * negative HR_E* code on failure; hr_strerror() names a code. Codes that
 * mirror errno values are the negated errno, so a failed system call converts
 * with `return -errno;` right where it failed. Codes of our own live below
 * -4000, away from any errno.
 *
 * HR_ASSERT stays on in release builds: it guards memory safety and is cheap.
 * assert() is for invariants that are too costly to check in production.
 * hr_fatal() is the only way library code ends the process, and is reserved
 * for broken invariants and small-allocation out-of-memory.
 */
#ifndef HR_CORE_COMMON_H
#define HR_CORE_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define HR_OK 0
#define HR_ENOMEM (-ENOMEM)
#define HR_EINVAL (-EINVAL)
#define HR_EAGAIN (-EAGAIN)
#define HR_ENOENT (-ENOENT)
#define HR_EEXIST (-EEXIST)
#define HR_E2BIG (-E2BIG)
#define HR_EBUSY (-EBUSY)

/* Our own codes. */
#define HR_ELIMIT (-4001)   /* a configured size limit would be exceeded */
#define HR_EPARSE (-4002)   /* malformed input */
#define HR_ECLOSED (-4003)  /* the connection or request is gone */
#define HR_ESTATE (-4004)   /* call not valid in the object's current state */

#define HR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HR_MAX(a, b) ((a) > (b) ? (a) : (b))
#define HR_LIKELY(x) __builtin_expect(!!(x), 1)
#define HR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HR_CONTAINER_OF(ptr, type, field) \
	((type *)(void *)((char *)(ptr) - offsetof(type, field)))

/*
 * Returns a static English description of an HR_E* code or negated errno.
 * Never NULL. Any thread.
 */
const char *hr_strerror(int code);

/*
 * Logs "fatal: <file>:<line>: <msg>" with a backtrace to stderr and aborts.
 * Any thread. Does not return.
 */
__attribute__((noreturn, format(printf, 3, 4))) void hr_fatal_at(const char *file, int line,
								  const char *fmt, ...);
#define hr_fatal(...) hr_fatal_at(__FILE__, __LINE__, __VA_ARGS__)

#define HR_ASSERT(cond)                                               \
	do {                                                          \
		if (HR_UNLIKELY(!(cond)))                             \
			hr_fatal("assertion failed: %s", #cond);      \
	} while (0)

/* malloc/realloc/calloc that end the process on failure; only for small,
 * server-controlled sizes. Client-controlled sizes use plain malloc and
 * answer 413/503 on failure. */
void *hr_xmalloc(size_t n);
void *hr_xcalloc(size_t n, size_t size);
void *hr_xrealloc(void *p, size_t n);
char *hr_xstrdup(const char *s);

/* Names the calling thread (15 bytes at most show) for top, perf and gdb. */
void hr_thread_name(const char *name);

#endif

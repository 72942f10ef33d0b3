/*
 * core/log.h - the access log and the leveled error log, per event loop.
 *
 * Each loop owns one hr_log. Lines are formatted into its buffer and
 * written with one write() per loop iteration (the worker calls
 * hr_log_flush() from a uv_prepare_t, redis's beforesleep habit) or when
 * the buffer fills; never under a lock. Two streams: access lines go to
 * `access_fd` (stdout by default), error lines to `error_fd` (stderr).
 *
 * Access line, text:  2026-11-25T19:29:20.123Z GET /path 200 13 57us
 *              json:  {"time":"...","method":"GET","path":"/path","status":200,"bytes":13,"us":57}
 * Error line, text:   2026-11-25T19:29:20.123Z error [http] message
 *
 * Untrusted text (paths, methods) is truncated to HR_LOG_FIELD_MAX bytes
 * and escaped: control bytes, quotes, backslashes and non-ASCII bytes
 * become \xHH (text) or \u00HH (json), so a client cannot forge lines.
 * The level is checked before anything is formatted. Secrets (passwords,
 * tokens, Authorization) are never passed to this module.
 */
#ifndef HR_CORE_LOG_H
#define HR_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

#define HR_LOG_FIELD_MAX 1024

enum hr_log_level { HR_LOG_DEBUG = 0, HR_LOG_INFO, HR_LOG_WARN, HR_LOG_ERROR };
enum hr_log_format { HR_LOG_TEXT = 0, HR_LOG_JSON = 1 };

typedef struct hr_log {
	int access_fd, error_fd;
	int format;	  /* enum hr_log_format */
	bool access_on;	  /* false with --quiet */
	int min_level;	  /* enum hr_log_level */
	char *abuf, *ebuf; /* access / error line buffers */
	size_t alen, elen;
	size_t cap;
	int64_t cached_sec;  /* second the cached time prefix is for */
	char cached_time[24]; /* "YYYY-MM-DDTHH:MM:SS." */
} hr_log;

void hr_log_init(hr_log *l, int access_fd, int error_fd, int format, bool access_on, int min_level);
void hr_log_dispose(hr_log *l);

/* Appends one access line; addr is the client's address ("" when
 * unknown). Loop thread. */
void hr_log_access(hr_log *l, hr_str addr, hr_str method, hr_str path, int status,
		   uint64_t bytes, uint64_t usec);

/* Appends one error-log line if level >= min_level. module is a constant. */
__attribute__((format(printf, 4, 5))) void hr_log_error(hr_log *l, int level, const char *module,
							 const char *fmt, ...);

/* Writes buffered lines. Loop thread. */
void hr_log_flush(hr_log *l);

#endif

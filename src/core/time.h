/*
 * core/time.h - the dialect's date-time format (DIALECT.md §1.7):
 * "YYYY-MM-DD HH:MM:SS.mmmZ", always UTC, always 24 bytes, so text order is
 * time order. Formatting takes milliseconds since the Unix epoch; the
 * lenient parser accepts the canonical form, RFC 3339 (with 'T' or ' ',
 * optional fraction of any length, 'Z' or a numeric offset), a bare date
 * "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS", and an integer of Unix seconds.
 * Pure functions; any thread.
 */
#ifndef HR_CORE_TIME_H
#define HR_CORE_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"

#define HR_TIME_LEN 24

/* Current time in milliseconds since the epoch (CLOCK_REALTIME). */
int64_t hr_time_now_ms(void);

/* Writes the canonical form of ms (24 bytes + NUL). */
void hr_time_format(int64_t ms, char out[HR_TIME_LEN + 1]);

/* Parses s leniently; returns true and *ms, or false when unparseable. */
bool hr_time_parse(hr_str s, int64_t *ms);

/* Civil-date helpers used by the filter macros (@todayStart...). */
int64_t hr_time_from_civil(int y, int mon, int d, int h, int mi, int s, int ms);
void hr_time_to_civil(int64_t ms, int *y, int *mon, int *d, int *h, int *mi, int *s, int *msec,
		      int *weekday);

#endif

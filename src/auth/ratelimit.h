/*
 * auth/ratelimit.h - fixed-window request counters shared by every worker
 * thread, and the IP address helpers the limits need (parsing, CIDR
 * lists).
 *
 * One table per process, not one per worker: workers share a port through
 * SO_REUSEPORT, so per-worker counters would let a client that opens N
 * connections get N times its limit. The table is bounded (a fixed number
 * of slots allocated once), so a flood of spoofed addresses evicts old
 * windows instead of growing memory. ratelimit.c explains the layout.
 */
#ifndef HR_AUTH_RATELIMIT_H
#define HR_AUTH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"

typedef struct hr_ratelimit hr_ratelimit;

/* Allocates the table (about 1.5 MiB); aborts on OOM (start-up only). */
hr_ratelimit *hr_ratelimit_new(void);
void hr_ratelimit_free(hr_ratelimit *rl);

/*
 * One fixed window of window_ms for key (any bytes; only a keyed 64-bit
 * hash of it is kept). Returns true when fewer than max requests were
 * counted in the current window; then, if count is set, counts this one.
 * Returns false when the window is full and sets *retry_s to the whole
 * seconds until it ends (at least 1). A key evicted under pressure starts
 * a fresh window. Thread-safe (a mutex per shard); no allocation.
 */
bool hr_ratelimit_take(hr_ratelimit *rl, hr_str key, uint32_t max, int64_t window_ms,
		       int64_t now_ms, bool count, int64_t *retry_s);

/* An IPv4 or IPv6 address: 16 bytes, IPv4 mapped as ::ffff:a.b.c.d. */
typedef struct hr_ip {
	uint8_t b[16];
} hr_ip;

/* Parses a textual IPv4/IPv6 address (no brackets, no port, no zone).
 * Returns false for anything else; *out is untouched then. */
bool hr_ip_parse(hr_str s, hr_ip *out);

/*
 * Does ip match entry, an address or a CIDR block ("10.0.0.0/8",
 * "2001:db8::/32")? Malformed entries match nothing.
 */
bool hr_ip_match(const hr_ip *ip, hr_str entry);

#endif

/*
 * auth/ratelimit.c - the shared fixed-window counter table and IP helpers.
 *
 * LAYOUT. HR_RL_SHARDS shards, each a mutex and HR_RL_SLOTS slots of
 * {key hash, window end, count}. A key is hashed with SipHash-2-4 under a
 * random per-process key (libsodium crypto_shorthash), so a client cannot
 * choose addresses that collide into one shard or one probe run. The top
 * bits pick the shard, the low bits the first slot; a key lives in one of
 * HR_RL_PROBE consecutive slots. Finding a key or a place for it looks at
 * those slots only: the same key, else an empty or expired slot, else the
 * slot whose window ends first (the oldest) is taken over. Memory is fixed
 * at creation; nothing is allocated per request.
 *
 * Counters are exact per key while the table has room. Under a flood of
 * distinct keys (spoofed addresses) the oldest windows are evicted first,
 * which can hand an evicted client a fresh window: the limit degrades
 * towards "at most max per window per slot lifetime", never to unbounded
 * memory or time. 64-bit hashes are kept instead of keys; two keys
 * sharing one hash would share a counter (probability ~2^-64 per pair).
 *
 * Locks are held for a handful of comparisons; callers that are not
 * limited never reach this file.
 */
#include "auth/ratelimit.h"

#include <arpa/inet.h>
#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

#define HR_RL_SHARDS 64
#define HR_RL_SLOTS 1024 /* per shard, power of two */
#define HR_RL_PROBE 8

typedef struct rl_slot {
	uint64_t key;	/* hash; 0 = empty */
	int64_t end_ms; /* the current window ends here */
	uint32_t count; /* requests counted in the window */
} rl_slot;

typedef struct rl_shard {
	pthread_mutex_t mu;
	rl_slot slots[HR_RL_SLOTS];
} rl_shard;

struct hr_ratelimit {
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	rl_shard shards[HR_RL_SHARDS];
};

hr_ratelimit *hr_ratelimit_new(void)
{
	if (sodium_init() < 0)
		hr_fatal("libsodium could not be initialised");
	hr_ratelimit *rl = hr_xcalloc(1, sizeof *rl);
	randombytes_buf(rl->hkey, sizeof rl->hkey);
	for (int i = 0; i < HR_RL_SHARDS; i++)
		pthread_mutex_init(&rl->shards[i].mu, NULL);
	return rl;
}

void hr_ratelimit_free(hr_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < HR_RL_SHARDS; i++)
		pthread_mutex_destroy(&rl->shards[i].mu);
	free(rl);
}

bool hr_ratelimit_take(hr_ratelimit *rl, hr_str key, uint32_t max, int64_t window_ms,
		       int64_t now_ms, bool count, int64_t *retry_s)
{
	assert(rl && window_ms > 0);
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const unsigned char *)key.ptr, key.len, rl->hkey);
	uint64_t k;
	memcpy(&k, h, sizeof k);
	if (k == 0)
		k = 1;
	rl_shard *sh = &rl->shards[k >> 58]; /* 64 shards: the top 6 bits */
	size_t first = (size_t)k & (HR_RL_SLOTS - 1);
	pthread_mutex_lock(&sh->mu);
	rl_slot *hit = NULL, *victim = NULL;
	for (size_t i = 0; i < HR_RL_PROBE; i++) {
		rl_slot *s = &sh->slots[(first + i) & (HR_RL_SLOTS - 1)];
		if (s->key == k) {
			hit = s;
			break;
		}
		if (!victim || (victim->key && (!s->key || s->end_ms < victim->end_ms)))
			victim = s;
	}
	if (!hit) {
		hit = victim;
		hit->key = k;
		hit->end_ms = 0;
	}
	if (hit->end_ms <= now_ms) {
		hit->end_ms = now_ms + window_ms;
		hit->count = 0;
	}
	bool ok = hit->count < max;
	if (ok && count)
		hit->count++;
	int64_t left = hit->end_ms - now_ms;
	pthread_mutex_unlock(&sh->mu);
	if (!ok)
		*retry_s = left <= 1000 ? 1 : (left + 999) / 1000;
	return ok;
}

/* ---- addresses -------------------------------------------------------- */

bool hr_ip_parse(hr_str s, hr_ip *out)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	if (s.len == 0 || s.len >= sizeof tmp)
		return false;
	memcpy(tmp, s.ptr, s.len);
	tmp[s.len] = 0;
	hr_ip ip;
	memset(&ip, 0, sizeof ip);
	struct in_addr v4;
	if (inet_pton(AF_INET, tmp, &v4) == 1) {
		ip.b[10] = ip.b[11] = 0xff;
		memcpy(ip.b + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, tmp, ip.b) != 1) {
		return false;
	}
	*out = ip;
	return true;
}

static bool is_v4(const hr_ip *ip)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(ip->b, mapped, 12) == 0;
}

bool hr_ip_match(const hr_ip *ip, hr_str entry)
{
	entry = hr_str_trim_ows(entry);
	const char *slash = memchr(entry.ptr ? entry.ptr : "", '/', entry.len);
	hr_str addr = slash ? hr_str_make(entry.ptr, (size_t)(slash - entry.ptr)) : entry;
	hr_ip net;
	if (!hr_ip_parse(addr, &net))
		return false;
	unsigned bits = 128;
	if (slash) {
		uint64_t n;
		hr_str p = hr_str_make(slash + 1, entry.len - addr.len - 1);
		if (hr_str_to_u64(p, 128, &n) != 0)
			return false;
		bits = (unsigned)n;
		if (is_v4(&net)) {
			if (bits > 32)
				return false;
			bits += 96;
		}
	}
	if (is_v4(&net) != is_v4(ip))
		return false;
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(ip->b, net.b, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((ip->b[full] & mask) != (net.b[full] & mask))
			return false;
	}
	return true;
}

/*
 * core/rand.c - see rand.h.
 *
 * A getrandom(2) system call per id costs more than the rest of creating
 * a record id (and libsodium's randombytes_buf() asks the kernel 256 bytes
 * at a time). Strings are therefore drawn from a per-thread pool of kernel
 * random bytes, refilled 1 KiB at a time with getrandom(2) directly (one
 * system call per about sixty ids; libsodium only if that fails); every
 * byte is zeroed as it is taken, so the pool never holds a byte that was
 * already handed out. Each byte below the largest multiple of the alphabet
 * size maps to a character (byte % size), so every character is equally
 * likely; rejected bytes are skipped.
 */
#include "core/rand.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

#define POOL_BYTES 1024

/* Per thread, so taking bytes needs no lock. */
static _Thread_local struct {
	unsigned char b[POOL_BYTES];
	size_t pos; /* bytes before pos are taken (and zero) */
	bool filled;
} pool;

static void refill(void)
{
	size_t got = 0;
	while (got < POOL_BYTES) {
		ssize_t n = getrandom(pool.b + got, POOL_BYTES - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (got < POOL_BYTES)
		randombytes_buf(pool.b + got, POOL_BYTES - got);
}

static unsigned take_byte(void)
{
	if (!pool.filled || pool.pos == POOL_BYTES) {
		refill();
		pool.pos = 0;
		pool.filled = true;
	}
	unsigned b = pool.b[pool.pos];
	pool.b[pool.pos++] = 0;
	return b;
}

void hr_rand_string(char *out, size_t n, const char *alphabet, size_t alen)
{
	if (alen == 0 || alen > 256)
		return;
	unsigned limit = 256 - (256 % (unsigned)alen);
	for (size_t i = 0; i < n;) {
		unsigned b = take_byte();
		if (b < limit)
			out[i++] = alphabet[b % alen];
	}
}

void hr_rand_id(char out[16])
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	hr_rand_string(out, 15, a, sizeof a - 1);
	out[15] = '\0';
}

/*
 * Record ids: per thread, the millisecond of the newest id and the random
 * parts already issued in it. A random part drawn twice within one
 * millisecond is drawn again; when a millisecond is full the prefix moves
 * to the next one. The prefix never goes back, even when the clock does.
 */
#define SEQ_MAX 256

static _Thread_local struct {
	uint64_t ms;
	unsigned n;
	char used[SEQ_MAX][HR_RAND_ID_RANDOM];
} seq;

void hr_rand_record_id(char out[16], int64_t unix_ms)
{
	static const char a[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t ms = unix_ms > (int64_t)HR_RAND_ID_EPOCH_MS ? (uint64_t)unix_ms - HR_RAND_ID_EPOCH_MS : 0;
	if (ms < seq.ms)
		ms = seq.ms;
	if (ms == seq.ms && seq.n == SEQ_MAX)
		ms++;
	if (ms != seq.ms) {
		seq.ms = ms;
		seq.n = 0;
	}
	uint64_t t = ms;
	for (int i = HR_RAND_ID_TIME - 1; i >= 0; i--) {
		out[i] = a[t % 36];
		t /= 36;
	}
	char *r = out + HR_RAND_ID_TIME;
	for (;;) {
		hr_rand_string(r, HR_RAND_ID_RANDOM, a, sizeof a - 1);
		unsigned k = 0;
		while (k < seq.n && memcmp(seq.used[k], r, HR_RAND_ID_RANDOM) != 0)
			k++;
		if (k == seq.n)
			break;
	}
	memcpy(seq.used[seq.n++], r, HR_RAND_ID_RANDOM);
	out[15] = '\0';
}

uint32_t hr_rand_below(uint32_t bound)
{
	return randombytes_uniform(bound);
}

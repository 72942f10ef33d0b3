/*
 * core/rand.c - see rand.h.
 *
 * libsodium's randombytes_buf() makes one getrandom(2) system call per
 * call, which costs more than the rest of creating a record id. Strings
 * are therefore drawn from a per-thread pool of kernel random bytes,
 * refilled 1 KiB at a time (one system call per about sixty ids); every
 * byte is zeroed as it is taken, so the pool never holds a byte that was
 * already handed out. Each byte below the largest multiple of the alphabet
 * size maps to a character (byte % size), so every character is equally
 * likely; rejected bytes are skipped.
 */
#include "core/rand.h"

#include <sodium.h>
#include <stdbool.h>

#define POOL_BYTES 1024

/* Per thread, so taking bytes needs no lock. */
static _Thread_local struct {
	unsigned char b[POOL_BYTES];
	size_t pos; /* bytes before pos are taken (and zero) */
	bool filled;
} pool;

static unsigned take_byte(void)
{
	if (!pool.filled || pool.pos == POOL_BYTES) {
		randombytes_buf(pool.b, POOL_BYTES);
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

uint32_t hr_rand_below(uint32_t bound)
{
	return randombytes_uniform(bound);
}

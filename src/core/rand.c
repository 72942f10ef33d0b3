/*
 * core/rand.c - see rand.h.
 *
 * libsodium's randombytes_uniform() makes one getrandom(2) system call per
 * value, which for a 15-character id is 15 system calls. Strings are
 * therefore drawn from one buffer of random bytes per call: each byte
 * below the largest multiple of the alphabet size maps to a character
 * (byte % size), so every character is equally likely; the rare rejected
 * bytes are replaced from a refill.
 */
#include "core/rand.h"

#include <sodium.h>

void hr_rand_string(char *out, size_t n, const char *alphabet, size_t alen)
{
	if (alen == 0 || alen > 256)
		return;
	unsigned limit = 256 - (256 % (unsigned)alen);
	unsigned char buf[128];
	size_t have = 0, used = 0;
	for (size_t i = 0; i < n;) {
		if (used == have) {
			have = n - i + 16 < sizeof buf ? n - i + 16 : sizeof buf;
			randombytes_buf(buf, have);
			used = 0;
		}
		unsigned b = buf[used++];
		if (b < limit)
			out[i++] = alphabet[b % alen];
	}
	sodium_memzero(buf, sizeof buf);
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

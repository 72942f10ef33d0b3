/*
 * core/rand.c - see rand.h. Uniformity: characters are drawn with
 * randombytes_uniform(), which rejects biased values.
 */
#include "core/rand.h"

#include <sodium.h>

void hr_rand_string(char *out, size_t n, const char *alphabet, size_t alen)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform((uint32_t)alen)];
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

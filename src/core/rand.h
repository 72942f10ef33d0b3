/*
 * core/rand.h - random identifiers and secrets from the operating system's
 * CSPRNG (libsodium's randombytes, which uses getrandom(2)). Any thread;
 * no state of ours.
 */
#ifndef HR_CORE_RAND_H
#define HR_CORE_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills out[0..n) with characters drawn uniformly from alphabet[0..alen). */
void hr_rand_string(char *out, size_t n, const char *alphabet, size_t alen);

/* 15 characters of [a-z0-9] plus a NUL: a record id (DIALECT.md §1.8). */
void hr_rand_id(char out[16]);

/* Uniform integer in [0, bound). bound > 0. */
uint32_t hr_rand_below(uint32_t bound);

#endif

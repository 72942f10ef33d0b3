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

/*
 * A record id of the default pattern: 8 characters of the milliseconds
 * since 2020-01-01 in base 36, most significant first (until the year
 * 2109), then 7 random characters, all from [0-9a-z]. Ids made one after
 * the other land side by side in the id index, so an insert dirties the
 * same index page as the one before it instead of a random one. Ids from
 * one thread never repeat: a random part is not issued twice within a
 * millisecond, and the time part never goes back.
 */
#define HR_RAND_ID_EPOCH_MS UINT64_C(1577836800000)
#define HR_RAND_ID_TIME 8
#define HR_RAND_ID_RANDOM 7

void hr_rand_record_id(char out[16], int64_t unix_ms);

/* Uniform integer in [0, bound). bound > 0. */
uint32_t hr_rand_below(uint32_t bound);

#endif

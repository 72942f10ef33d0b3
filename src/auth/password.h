/*
 * auth/password.h - password hashing with argon2id (libsodium).
 *
 * These calls are CPU- and memory-bound by design (tens of milliseconds)
 * and MUST NOT run on an event loop: callers run them through
 * hearth_req_offload() or another thread. They are pure otherwise: no
 * global state besides libsodium's one-time initialisation, any thread.
 *
 * Hashes are libsodium's crypto_pwhash_str() strings (the PHC format
 * "$argon2id$v=19$m=...,t=...,p=1$salt$hash"), which carry their own
 * parameters, so parameters can change without invalidating old hashes;
 * hr_password_needs_rehash() tells when a stored hash was made with other
 * parameters than the current ones.
 *
 * Timing: hr_password_verify() of a missing user must cost the same as a
 * wrong password (DIALECT.md §12.2); hr_password_dummy_verify() spends
 * one argon2id computation with the current parameters for that purpose
 * (see password.c for why that needs no cached hash).
 *
 * Passwords longer than HR_PASSWORD_MAX bytes are refused before any
 * hashing work (hash: HR_EINVAL; verify: false).
 */
#ifndef HR_AUTH_PASSWORD_H
#define HR_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define HR_PASSWORD_HASH_MAX 128 /* >= crypto_pwhash_STRBYTES, NUL included */
#define HR_PASSWORD_MAX 4096	 /* longest password accepted, bytes */

typedef struct hr_password_params {
	unsigned long long opslimit; /* argon2id passes (t), >= 1 */
	size_t memlimit;	     /* bytes (m = memlimit / 1024 KiB), >= 8192 */
} hr_password_params;

/* libsodium's "interactive" limits (2 passes, 64 MiB). */
void hr_password_params_default(hr_password_params *p);

/* Are p's limits within libsodium's argon2id bounds (t >= 1, m >= 8 KiB)? */
bool hr_password_params_valid(const hr_password_params *p);

/*
 * Initialises libsodium; call once at start-up before any thread uses the
 * functions below (idempotent). Returns 0 or HR_EINVAL (libsodium
 * unusable).
 */
int hr_password_init(void);

/*
 * Hashes pw[0..n) with a fresh random salt into out (NUL-terminated,
 * < HR_PASSWORD_HASH_MAX bytes). Returns 0, HR_EINVAL (n > HR_PASSWORD_MAX,
 * or p outside hr_password_params_valid()), or HR_ENOMEM (argon2 could not
 * get its memlimit bytes). out is untouched on failure. Blocking.
 */
int hr_password_hash(const char *pw, size_t n, const hr_password_params *p,
		     char out[HR_PASSWORD_HASH_MAX]);

/*
 * true when pw[0..n) matches hash, a NUL-terminated argon2id string as
 * made by hr_password_hash() (with whatever parameters it carries). The
 * comparison is constant time. false for a wrong password, for
 * n > HR_PASSWORD_MAX, and for a hash that is not an argon2id string
 * (argon2i, bcrypt, garbage, no NUL within HR_PASSWORD_HASH_MAX bytes).
 * Blocking.
 */
bool hr_password_verify(const char *hash, const char *pw, size_t n);

/*
 * Spends one verification's time and memory with parameters p (the
 * current ones), for a login whose user does not exist; always false.
 * Returns at once for n > HR_PASSWORD_MAX, as hr_password_verify() does.
 * Blocking.
 */
bool hr_password_dummy_verify(const char *pw, size_t n, const hr_password_params *p);

/*
 * Should hash be replaced by a fresh hr_password_hash() with p? true when
 * its parameters differ from p (weaker or stronger: libsodium's rule) or
 * it is not an argon2id string at all.
 */
bool hr_password_needs_rehash(const char *hash, const hr_password_params *p);

#endif

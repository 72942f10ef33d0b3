/*
 * auth/password.c - argon2id password hashing through libsodium; see
 * password.h for the contract.
 *
 * DESIGN
 *
 * Hashing is crypto_pwhash_str_alg(..., crypto_pwhash_ALG_ARGON2ID13): a
 * fresh random 16-byte salt per call, a 32-byte tag, and the PHC string
 * "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<tag>" that carries its
 * own parameters. Verification and the rehash check use the argon2id-only
 * entry points (crypto_pwhash_argon2id_str_verify / _needs_rehash), not the
 * generic ones, because the generic ones also accept "$argon2i$" strings:
 * we never produce those, so a stored one is foreign and is refused
 * (verify false, needs_rehash true).
 *
 * The missing-user path (DIALECT.md §12.2: "spend the same hashing time
 * when the record does not exist") needs no cached dummy hash and so no
 * state: verifying a PHC string costs one argon2id computation with the
 * string's parameters plus a 32-byte constant-time compare, and
 * hr_password_dummy_verify() runs that same computation (crypto_pwhash
 * with argon2id, the same parameters, a fixed salt, a 32-byte tag) and
 * throws the tag away. Both allocate memlimit bytes and make opslimit
 * passes over them through the same argon2 core; the few microseconds of
 * string decoding the real verify adds are noise next to tens of
 * milliseconds of hashing (measured in the unit test's timing case). The
 * alternative - a hash of a random password computed at start-up and kept
 * in a caller-owned context - would cost a hash at start-up and a context
 * to thread through every caller for no measurable gain.
 *
 * Passwords are capped at HR_PASSWORD_MAX (4096) bytes before any work,
 * so a client cannot make argon2's initial BLAKE2b pass read megabytes.
 *
 * Stored hashes are server data (the database), not client input, but
 * they are still read only up to HR_PASSWORD_HASH_MAX bytes: a string
 * without a NUL in that range is refused rather than scanned.
 *
 * Caveats: a stored hash's own m= and t= are trusted as written - a
 * corrupted row claiming terabytes makes verification fail with ENOMEM
 * rather than being refused up front. PocketBase's bcrypt hashes
 * ("$2a$...") are not understood: verify returns false and needs_rehash
 * true for them.
 *
 * Threads: every function may run on any thread once hr_password_init()
 * has returned; none touches state of ours. They block for the duration
 * of an argon2id computation, so none may run on an event loop.
 */
#include "auth/password.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "core/common.h"

_Static_assert(HR_PASSWORD_HASH_MAX >= crypto_pwhash_argon2id_STRBYTES,
	       "HR_PASSWORD_HASH_MAX must hold a crypto_pwhash string");

/* Output length libsodium uses inside its PHC strings (STRHASHBYTES). */
#define TAG_BYTES 32u

void hr_password_params_default(hr_password_params *p)
{
	assert(p != NULL);
	p->opslimit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
	p->memlimit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

bool hr_password_params_valid(const hr_password_params *p)
{
	return p->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       p->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
	       p->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	       p->memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

int hr_password_init(void)
{
	/* 0 = initialised now, 1 = already initialised, -1 = unusable. */
	return sodium_init() < 0 ? HR_EINVAL : 0;
}

/* libsodium wants a non-NULL pointer even for an empty password. */
static const char *pw_ptr(const char *pw, size_t n)
{
	return n == 0 ? "" : pw;
}

int hr_password_hash(const char *pw, size_t n, const hr_password_params *p,
		     char out[HR_PASSWORD_HASH_MAX])
{
	char tmp[HR_PASSWORD_HASH_MAX];

	assert(p != NULL && out != NULL && (pw != NULL || n == 0));
	if (n > HR_PASSWORD_MAX || !hr_password_params_valid(p))
		return HR_EINVAL;
	/* With the length and the limits checked above, the only way left
	 * to fail is argon2 not getting its memlimit bytes. The result goes
	 * through tmp so out is untouched on failure (libsodium zeroes its
	 * output buffer first). */
	if (crypto_pwhash_str_alg(tmp, pw_ptr(pw, n), n, p->opslimit, p->memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return HR_ENOMEM;
	memcpy(out, tmp, sizeof tmp);
	return 0;
}

bool hr_password_verify(const char *hash, const char *pw, size_t n)
{
	assert(hash != NULL && (pw != NULL || n == 0));
	if (n > HR_PASSWORD_MAX || strnlen(hash, HR_PASSWORD_HASH_MAX) >= HR_PASSWORD_HASH_MAX)
		return false;
	return crypto_pwhash_argon2id_str_verify(hash, pw_ptr(pw, n), n) == 0;
}

bool hr_password_dummy_verify(const char *pw, size_t n, const hr_password_params *p)
{
	/* Any fixed salt does: the tag is thrown away. */
	static const unsigned char salt[crypto_pwhash_argon2id_SALTBYTES] = {0};
	unsigned char tag[TAG_BYTES];

	assert(p != NULL && (pw != NULL || n == 0));
	if (n > HR_PASSWORD_MAX || !hr_password_params_valid(p))
		return false;
	/* The result does not matter: a failure (no memory) is what a real
	 * verify would have hit too. */
	if (crypto_pwhash(tag, sizeof tag, pw_ptr(pw, n), n, salt, p->opslimit, p->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return false;
	sodium_memzero(tag, sizeof tag);
	return false;
}

bool hr_password_needs_rehash(const char *hash, const hr_password_params *p)
{
	assert(hash != NULL && p != NULL);
	if (strnlen(hash, HR_PASSWORD_HASH_MAX) >= HR_PASSWORD_HASH_MAX)
		return true;
	/* 0 = same parameters, 1 = different, -1 = not an argon2id string. */
	return crypto_pwhash_argon2id_str_needs_rehash(hash, p->opslimit, p->memlimit) != 0;
}

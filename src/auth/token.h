/*
 * auth/token.h - JSON Web Tokens, HS256 only (RFC 7519, RFC 7515 compact
 * form), as the dialect uses them (DIALECT.md §11.3), and the base64url
 * codec they need.
 *
 * Signing key = record tokenKey bytes followed by the collection's secret
 * for the token type; that concatenation is the caller's business
 * (hr_token_key() builds it). Reading is strict: at most HR_TOKEN_MAX
 * bytes; exactly three non-empty canonical base64url segments without
 * padding; a header that is a JSON object with "alg":"HS256" (anything
 * else, "none" included, is refused), if present "typ":"JWT", and no
 * "crit"; a payload that is a JSON object; a 32-byte signature compared
 * in constant time.
 *
 * The dialect's verification order (§11.3) maps onto these calls:
 *   hr_token_decode()       -> claims, without checking the signature
 *   hr_token_claims_read()  -> id, collectionId, type, exp checked
 *   (caller: type is the expected one; load the record; build the key)
 *   hr_token_verify()       -> the signature, with that key
 * hr_token_verify() checks structure and signature only; the header rules
 * are hr_token_decode()'s (token.c explains why that is safe).
 *
 * Pure functions; any thread; HMAC-SHA256 from libsodium.
 */
#ifndef HR_AUTH_TOKEN_H
#define HR_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

/* Longest token read or written, bytes (whole compact form). */
#define HR_TOKEN_MAX 8192

/* base64url (RFC 4648 §5) without padding. Encoded length of n bytes: */
size_t hr_b64url_len(size_t n);
/* Writes the encoding of src to dst (room: hr_b64url_len(n)); returns its length. */
size_t hr_b64url_encode(const void *src, size_t n, char *dst);
/*
 * Decodes s into dst (room: s.len / 4 * 3 + 2 bytes suffice; s.len * 3 / 4
 * + 1 is a safe round figure). Returns the decoded length, or -1 for
 * padding, characters outside the alphabet (including '+', '/' and
 * whitespace), an impossible length (1 mod 4), or a non-canonical last
 * character (unused low bits not zero, RFC 4648 §3.5). dst is untouched
 * on failure. The empty string decodes to 0 bytes.
 */
long hr_b64url_decode(hr_str s, void *dst);

/* Concatenates token_key and secret into an arena buffer (the HMAC key;
 * NUL-terminated for convenience). Returns HR_STR_NULL ({NULL, 0}) when
 * the arena is exhausted. The key bytes are not wiped at arena reset. */
hr_str hr_token_key(hr_arena *a, hr_str token_key, hr_str secret);

/*
 * Appends header.payload.signature to out, where payload_json is the
 * claims object exactly as it should appear (the caller emits keys in the
 * dialect's order; it is not parsed here). The header is always
 * {"alg":"HS256","typ":"JWT"}. Returns 0, out's sticky error (nothing
 * appended), HR_EINVAL (empty key), HR_ELIMIT (the token would exceed
 * HR_TOKEN_MAX, or out's ceiling) or HR_ENOMEM. On failure nothing is
 * appended.
 */
int hr_token_sign(hr_buf *out, hr_str payload_json, hr_str key);

/*
 * Splits and decodes a token without verifying the signature, so the
 * caller can read the claims that select the key (id, collectionId,
 * type). Returns 0 with *claims (a JSON object in the arena; strings in
 * it point into the arena too), or HR_EPARSE (longer than HR_TOKEN_MAX,
 * malformed, alg not HS256, typ not JWT, crit present, not an object), or
 * HR_ENOMEM (arena exhausted). *claims is untouched on failure; the
 * arena may have been used either way.
 */
int hr_token_decode(hr_arena *a, hr_str token, hr_json **claims);

/*
 * Does token carry a valid HS256 signature under key? Checks the
 * three-segment structure and length as hr_token_decode() does and
 * compares the MAC in constant time; does not read the header or
 * payload. false for an empty key. No allocation.
 */
bool hr_token_verify(hr_str token, hr_str key);

/*
 * Reads the standard claims the dialect needs: id, collectionId, type
 * (non-empty strings) and exp (an integer number of seconds). Returns
 * false when any is missing or of the wrong type, when exp <= now, when
 * nbf is present and not an integer or after now, or when email /
 * newEmail (strings) or refreshable (boolean) are present with another
 * type. Absent optional claims read as HR_STR_NULL / false. The slices in
 * *out point into the claims tree; *out is untouched on failure.
 */
typedef struct hr_token_claims {
	hr_str id, collection_id, type, email, new_email;
	int64_t exp; /* Unix seconds */
	bool refreshable;
} hr_token_claims;
bool hr_token_claims_read(const hr_json *claims, int64_t now, hr_token_claims *out);

#endif

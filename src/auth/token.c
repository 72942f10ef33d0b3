/*
 * auth/token.c - JWT HS256 compact tokens and base64url; see token.h for
 * the contract and DIALECT.md §11.3 for how the dialect uses them.
 *
 * DESIGN
 *
 * A token is three base64url segments, header.payload.signature. We only
 * ever write the header {"alg":"HS256","typ":"JWT"}, whose encoding is a
 * constant (HEADER_B64), so signing is: append the constant, a dot, the
 * payload's encoding; HMAC-SHA256 those bytes as they sit in the output
 * buffer; append a dot and the 43-character encoding of the 32-byte MAC.
 * Reading is split into the two steps the dialect's verification order
 * needs (decode the claims first to pick the record and hence the key,
 * then check the signature):
 *
 *   hr_token_decode()  structure, header, payload -> claims (arena tree)
 *   hr_token_verify()  structure, signature (constant-time compare)
 *
 * hr_token_verify() deliberately does not look at the header. The header
 * only matters to implementations that let it choose the algorithm (the
 * "alg":"none" and RS256-key-as-HMAC-secret attacks); here HMAC-SHA256
 * with the caller's key is the only computation there is, and a MAC that
 * matches under our key can only come from hr_token_sign(), which writes
 * the fixed header. The header rules are enforced by hr_token_decode(),
 * which every caller runs first anyway to learn whose key to use.
 *
 * STRICTNESS (reject rather than guess; each is a test row):
 *   - at most HR_TOKEN_MAX bytes, exactly two dots, no empty segment;
 *   - base64url per RFC 4648 §5 without padding: no '=', no '+' or '/',
 *     no whitespace, no length of 1 mod 4, and the unused low bits of the
 *     last character must be zero (RFC 4648 §3.5 "canonical encoding"),
 *     so every token has exactly one spelling;
 *   - the signature segment is exactly 43 characters (32 bytes);
 *   - the header is a JSON object whose "alg" is the string "HS256"
 *     (case-sensitive, RFC 7515 §4.1.1), whose "typ", when present, is the
 *     string "JWT", and which has no "crit" (RFC 7515 §4.1.11: we
 *     understand no extensions, so any listed one must be refused);
 *   - the payload is a JSON object.
 * JSON is read by core/json.c, which is strict itself (RFC 8259); a
 * repeated key keeps its last value, which RFC 7515 §4 allows.
 *
 * Claims (hr_token_claims_read): id, collectionId and type must be
 * non-empty strings; exp an integer number of seconds after now; nbf,
 * when present, an integer not after now ("not yet valid", §11.3); email,
 * newEmail when present strings, refreshable when present a boolean. A
 * claim of the wrong type fails the whole read: the tokens we sign never
 * have one, so such a token is not ours.
 *
 * Everything is a pure function of its arguments; any thread. Key bytes
 * are wiped from the stack (HMAC state, MACs) before returning; the key
 * copy hr_token_key() makes lives in the caller's arena and is not wiped
 * at reset.
 */
#include "auth/token.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "core/common.h"

/* base64url('{"alg":"HS256","typ":"JWT"}'), the only header we write. */
#define HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define MAC_BYTES crypto_auth_hmacsha256_BYTES /* 32 */
#define MAC_B64_LEN 43			       /* hr_b64url_len(32) */

/* Nesting bound for header and payload; ours are flat (level 1). */
#define JSON_DEPTH 16

/* Integers a double holds exactly: |v| <= 2^53. */
#define EXACT_INT_MAX 9007199254740992.0

/*
 * RFC 4648 §5, "Base 64 Encoding with URL and Filename Safe Alphabet":
 *   value 0-25 'A'-'Z', 26-51 'a'-'z', 52-61 '0'-'9', 62 '-', 63 '_'
 * (the §4 alphabet with '+' -> '-' and '/' -> '_'). The pad '=' is not
 * used (RFC 7515 §2, "Base64url Encoding ... with all trailing '='
 * characters omitted"). 255 = not in the alphabet.
 */
static const char enc_map[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const unsigned char dec_map[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0x00 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0x10 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 62,  255, 255, /* 0x20 */
	52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  255, 255, 255, 255, 255, 255, /* 0x30 */
	255, 0,	  1,   2,   3,	 4,   5,   6,	7,   8,	  9,   10,  11,	 12,  13,  14,	/* 0x40 */
	15,  16,  17,  18,  19,	 20,  21,  22,	23,  24,  25,  255, 255, 255, 255, 63,	/* 0x50 */
	255, 26,  27,  28,  29,	 30,  31,  32,	33,  34,  35,  36,  37,	 38,  39,  40,	/* 0x60 */
	41,  42,  43,  44,  45,	 46,  47,  48,	49,  50,  51,  255, 255, 255, 255, 255, /* 0x70 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0x80 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0x90 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xA0 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xB0 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xC0 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xD0 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xE0 */
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, /* 0xF0 */
};

/* ---- base64url ---- */

size_t hr_b64url_len(size_t n)
{
	HR_ASSERT(n / 3 <= SIZE_MAX / 4 - 1);
	/* Full groups give 4 characters; a tail of 1 or 2 bytes gives 2 or 3. */
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t hr_b64url_encode(const void *src, size_t n, char *dst)
{
	const unsigned char *s = src;
	char *d = dst;
	size_t i = 0;

	assert(src != NULL || n == 0);
	for (; n - i >= 3; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*d++ = enc_map[v >> 18];
		*d++ = enc_map[(v >> 12) & 63];
		*d++ = enc_map[(v >> 6) & 63];
		*d++ = enc_map[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*d++ = enc_map[v >> 18];
		*d++ = enc_map[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*d++ = enc_map[v >> 18];
		*d++ = enc_map[(v >> 12) & 63];
		*d++ = enc_map[(v >> 6) & 63];
	}
	return (size_t)(d - dst);
}

/*
 * Is s canonical unpadded base64url? Returns the decoded length, or -1.
 * Checked in full before decoding so a failed decode leaves dst alone.
 */
static long b64url_check(hr_str s)
{
	size_t tail = s.len % 4;

	/* One leftover character carries 6 bits: not even one byte. */
	if (tail == 1 || s.len / 4 > (size_t)LONG_MAX / 3 - 1)
		return -1;
	for (size_t i = 0; i < s.len; i++)
		if (dec_map[(unsigned char)s.ptr[i]] == 255)
			return -1;
	/* RFC 4648 §3.5: the bits past the last whole byte must be zero,
	 * otherwise "Zg" and "Zh" would both mean "f". A 2-character tail
	 * holds 12 bits for 1 byte (4 spare), a 3-character tail 18 bits for
	 * 2 bytes (2 spare). */
	if (tail == 2 && (dec_map[(unsigned char)s.ptr[s.len - 1]] & 0x0f))
		return -1;
	if (tail == 3 && (dec_map[(unsigned char)s.ptr[s.len - 1]] & 0x03))
		return -1;
	return (long)(s.len / 4 * 3 + (tail ? tail - 1 : 0));
}

long hr_b64url_decode(hr_str s, void *dst)
{
	long out_len = b64url_check(s);
	unsigned char *d = dst;
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t i = 0;

	if (out_len < 0)
		return -1;
	assert(dst != NULL || out_len == 0);
	for (; s.len - i >= 4; i += 4) {
		uint32_t v = (uint32_t)dec_map[p[i]] << 18 | (uint32_t)dec_map[p[i + 1]] << 12 |
			     (uint32_t)dec_map[p[i + 2]] << 6 | dec_map[p[i + 3]];
		*d++ = (unsigned char)(v >> 16);
		*d++ = (unsigned char)(v >> 8);
		*d++ = (unsigned char)v;
	}
	if (s.len - i >= 2) {
		uint32_t v = (uint32_t)dec_map[p[i]] << 18 | (uint32_t)dec_map[p[i + 1]] << 12;
		if (s.len - i == 3)
			v |= (uint32_t)dec_map[p[i + 2]] << 6;
		*d++ = (unsigned char)(v >> 16);
		if (s.len - i == 3)
			*d++ = (unsigned char)(v >> 8);
	}
	assert(d - (unsigned char *)dst == out_len);
	return out_len;
}

/* Appends the encoding of p[0..n) through a stack buffer (buf.h has no
 * "append uninitialised space", and this keeps us off its internals). */
static void append_b64url(hr_buf *out, const void *p, size_t n)
{
	enum { CHUNK = 768 }; /* multiple of 3: no padding mid-stream */
	char tmp[CHUNK / 3 * 4];
	const unsigned char *s = p;

	for (size_t off = 0; off < n; off += CHUNK) {
		size_t take = HR_MIN((size_t)CHUNK, n - off);
		hr_buf_append(out, tmp, hr_b64url_encode(s + off, take, tmp));
	}
}

/* ---- HS256 ---- */

hr_str hr_token_key(hr_arena *a, hr_str token_key, hr_str secret)
{
	size_t n = token_key.len + secret.len;
	char *p;

	assert(a != NULL);
	HR_ASSERT(n >= token_key.len);
	p = hr_arena_alloc(a, n + 1);
	if (p == NULL)
		return HR_STR_NULL;
	if (token_key.len)
		memcpy(p, token_key.ptr, token_key.len);
	if (secret.len)
		memcpy(p + token_key.len, secret.ptr, secret.len);
	p[n] = '\0';
	return hr_str_make(p, n);
}

/* HMAC-SHA256 (RFC 2104) of msg[0..n) under key, any key length (keys
 * longer than SHA-256's 64-byte block are hashed first, as RFC 2104 says;
 * libsodium's one-shot crypto_auth_hmacsha256 would insist on 32 bytes). */
static void hmac_sha256(const void *msg, size_t n, hr_str key, unsigned char mac[MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key.ptr, key.len);
	crypto_auth_hmacsha256_update(&st, msg, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
}

int hr_token_sign(hr_buf *out, hr_str payload_json, hr_str key)
{
	unsigned char mac[MAC_BYTES];
	char sig[MAC_B64_LEN];
	size_t start, total;
	int rc;

	assert(out != NULL);
	if (out->err)
		return out->err;
	if (key.len == 0)
		return HR_EINVAL;
	if (payload_json.len > HR_TOKEN_MAX)
		return HR_ELIMIT;
	total = sizeof HEADER_B64 - 1 + 1 + hr_b64url_len(payload_json.len) + 1 + MAC_B64_LEN;
	/* A token we would refuse to read back is a caller bug; say so. */
	if (total > HR_TOKEN_MAX)
		return HR_ELIMIT;
	/* Reserve everything first: after this nothing below can fail, so
	 * out either gets the whole token or stays as it was. */
	rc = hr_buf_reserve(out, total);
	if (rc != 0)
		return rc;
	start = out->len;
	hr_buf_append(out, HEADER_B64 ".", sizeof(HEADER_B64 ".") - 1);
	append_b64url(out, payload_json.ptr, payload_json.len);
	/* RFC 7515 §5.1 step 8: the MAC covers ASCII(header '.' payload). */
	hmac_sha256(out->ptr + start, out->len - start, key, mac);
	hr_buf_append_char(out, '.');
	hr_buf_append(out, sig, hr_b64url_encode(mac, sizeof mac, sig));
	sodium_memzero(mac, sizeof mac);
	HR_ASSERT(out->err != 0 || out->len - start == total);
	return out->err;
}

/*
 * Splits token into its three segments and decodes the signature into
 * mac. Returns false for anything but HR_TOKEN_MAX bytes or fewer in
 * exactly three non-empty segments whose last is a canonical 43-character
 * encoding of 32 bytes. Segments 0 and 1 are only split here; their
 * alphabet is checked when they are decoded.
 */
static bool split(hr_str token, hr_str seg[3], unsigned char mac[MAC_BYTES])
{
	const char *p, *end, *dot1, *dot2;

	if (token.len == 0 || token.len > HR_TOKEN_MAX)
		return false;
	p = token.ptr;
	end = p + token.len;
	dot1 = memchr(p, '.', token.len);
	if (dot1 == NULL)
		return false;
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
		return false;
	seg[0] = hr_str_make(p, (size_t)(dot1 - p));
	seg[1] = hr_str_make(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	seg[2] = hr_str_make(dot2 + 1, (size_t)(end - dot2 - 1));
	if (seg[0].len == 0 || seg[1].len == 0 || seg[2].len != MAC_B64_LEN)
		return false;
	return hr_b64url_decode(seg[2], mac) == MAC_BYTES;
}

/* Decodes one segment and parses it as JSON into the arena. Returns 0,
 * HR_EPARSE (bad base64url or JSON, too deep) or HR_ENOMEM. */
static int segment_json(hr_arena *a, hr_str seg, hr_json **out)
{
	hr_json_error err;
	long n;
	char *buf;
	int rc;

	buf = hr_arena_alloc(a, seg.len / 4 * 3 + 3);
	if (buf == NULL)
		return HR_ENOMEM;
	n = hr_b64url_decode(seg, buf);
	if (n < 0)
		return HR_EPARSE;
	rc = hr_json_parse(a, buf, (size_t)n, JSON_DEPTH, out, &err);
	if (rc == HR_ENOMEM)
		return HR_ENOMEM;
	return rc == 0 ? 0 : HR_EPARSE;
}

static bool is_string(const hr_json *v, hr_str want)
{
	return v != NULL && v->type == HR_JSON_STRING && hr_str_eq(v->u.str, want);
}

/* RFC 7515 §4.1: the header rules of the file comment. */
static bool header_ok(const hr_json *h)
{
	const hr_json *typ;

	if (h->type != HR_JSON_OBJECT)
		return false;
	if (!is_string(hr_json_get(h, "alg"), HR_STR("HS256")))
		return false;
	typ = hr_json_get(h, "typ");
	if (typ != NULL && !is_string(typ, HR_STR("JWT")))
		return false;
	return hr_json_get(h, "crit") == NULL;
}

int hr_token_decode(hr_arena *a, hr_str token, hr_json **claims)
{
	unsigned char mac[MAC_BYTES];
	hr_str seg[3];
	hr_json *header, *payload;
	int rc;

	assert(a != NULL && claims != NULL);
	if (!split(token, seg, mac))
		return HR_EPARSE;
	rc = segment_json(a, seg[0], &header);
	if (rc != 0)
		return rc;
	if (!header_ok(header))
		return HR_EPARSE;
	rc = segment_json(a, seg[1], &payload);
	if (rc != 0)
		return rc;
	if (payload->type != HR_JSON_OBJECT)
		return HR_EPARSE;
	*claims = payload;
	return 0;
}

bool hr_token_verify(hr_str token, hr_str key)
{
	unsigned char got[MAC_BYTES], want[MAC_BYTES];
	hr_str seg[3];
	bool ok;

	if (key.len == 0 || !split(token, seg, got))
		return false;
	hmac_sha256(token.ptr, (size_t)(seg[2].ptr - 1 - token.ptr), key, want);
	ok = crypto_verify_32(got, want) == 0;
	sodium_memzero(want, sizeof want);
	return ok;
}

/* ---- claims ---- */

/* A present claim that must be a string; absent leaves *out alone. */
static bool opt_string(const hr_json *claims, const char *key, hr_str *out)
{
	const hr_json *v = hr_json_get(claims, key);

	if (v == NULL)
		return true;
	if (v->type != HR_JSON_STRING)
		return false;
	*out = v->u.str;
	return true;
}

static bool req_string(const hr_json *claims, const char *key, hr_str *out)
{
	const hr_json *v = hr_json_get(claims, key);

	if (v == NULL || v->type != HR_JSON_STRING || v->u.str.len == 0)
		return false;
	*out = v->u.str;
	return true;
}

/* RFC 7519 §2 NumericDate, restricted to integers (we write integers,
 * DIALECT.md §11.3) a double holds exactly. */
static bool numeric_date(const hr_json *v, int64_t *out)
{
	double d;

	if (v == NULL || v->type != HR_JSON_NUMBER)
		return false;
	d = v->u.n.num;
	if (!isfinite(d) || d != trunc(d) || fabs(d) > EXACT_INT_MAX)
		return false;
	*out = (int64_t)d;
	return true;
}

bool hr_token_claims_read(const hr_json *claims, int64_t now, hr_token_claims *out)
{
	hr_token_claims c = {0};
	const hr_json *v;
	int64_t nbf;

	assert(out != NULL);
	if (claims == NULL || claims->type != HR_JSON_OBJECT)
		return false;
	if (!req_string(claims, "id", &c.id) ||
	    !req_string(claims, "collectionId", &c.collection_id) ||
	    !req_string(claims, "type", &c.type) || !opt_string(claims, "email", &c.email) ||
	    !opt_string(claims, "newEmail", &c.new_email))
		return false;
	v = hr_json_get(claims, "refreshable");
	if (v != NULL) {
		if (v->type != HR_JSON_TRUE && v->type != HR_JSON_FALSE)
			return false;
		c.refreshable = v->type == HR_JSON_TRUE;
	}
	/* RFC 7519 §4.1.4: "MUST NOT be accepted for processing" on or after
	 * exp; golang-jwt (PocketBase) agrees: valid while now < exp. */
	if (!numeric_date(hr_json_get(claims, "exp"), &c.exp) || c.exp <= now)
		return false;
	/* §4.1.5: not before nbf. */
	v = hr_json_get(claims, "nbf");
	if (v != NULL && (!numeric_date(v, &nbf) || nbf > now))
		return false;
	*out = c;
	return true;
}

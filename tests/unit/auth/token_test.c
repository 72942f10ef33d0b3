/*
 * tests/unit/auth/token_test.c - base64url and JWT HS256 (src/auth/token.c).
 *
 * Table-driven: RFC 4648 §10 vectors (url alphabet), malformed base64url,
 * known-answer tokens made by another implementation, and one row per
 * way a token can be malformed, forged or expired. Forged tokens are
 * built here with libsodium's HMAC directly (make_token), so each row
 * carries a correct MAC and fails only for the reason it names.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "core/common.h"
#include "harness/unit.h"

#define S(lit) hr_str_make((lit), sizeof(lit) - 1)
#define CANON_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define PAYLOAD "{\"collectionId\":\"c\",\"exp\":2000000000,\"id\":\"i\",\"type\":\"auth\"}"

static hr_str cs(const char *s)
{
	return hr_str_make(s, strlen(s));
}

/* A test arena: 16 KiB lent, up to 1 MiB malloc'd. */
typedef struct test_arena {
	hr_arena a;
	_Alignas(16) char mem[16384];
} test_arena;

static void arena_open(test_arena *t)
{
	hr_arena_init(&t->a, t->mem, sizeof t->mem, 1u << 20);
}

/*
 * Builds b64(header) "." b64(payload) "." b64(HMAC-SHA256(key, first two))
 * into dst (NUL-terminated), independently of hr_token_sign(). Returns
 * the length.
 */
static size_t make_token(char *dst, const char *header, const char *payload, const char *key)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[32];
	size_t n = hr_b64url_encode(header, strlen(header), dst);
	dst[n++] = '.';
	n += hr_b64url_encode(payload, strlen(payload), dst + n);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)dst, n);
	crypto_auth_hmacsha256_final(&st, mac);
	dst[n++] = '.';
	n += hr_b64url_encode(mac, sizeof mac, dst + n);
	dst[n] = '\0';
	return n;
}

/* ---- base64url ---- */

typedef struct b64_row {
	const char *label;
	const char *raw;
	size_t raw_len;
	const char *enc;
} b64_row;

#define RAW(lit) (lit), (sizeof(lit) - 1)

/* RFC 4648 §10 (base64 column, padding dropped: the url alphabet differs
 * only in '+' and '/', which these vectors do not use), plus the bytes
 * that map to value 62 and 63 ('-' and '_' here, '+' and '/' in base64). */
static const b64_row b64_rows[] = {
	{"rfc_empty", RAW(""), ""},
	{"rfc_f", RAW("f"), "Zg"},
	{"rfc_fo", RAW("fo"), "Zm8"},
	{"rfc_foo", RAW("foo"), "Zm9v"},
	{"rfc_foob", RAW("foob"), "Zm9vYg"},
	{"rfc_fooba", RAW("fooba"), "Zm9vYmE"},
	{"rfc_foobar", RAW("foobar"), "Zm9vYmFy"},
	{"url_62_63", RAW("\xfb\xff\xbf"), "-_-_"},
	{"url_2_bytes", RAW("\xfb\xff"), "-_8"},
	{"url_1_byte", RAW("\xff"), "_w"},
	{"nul_bytes", RAW("\0\0\0\0"), "AAAAAA"},
	{"header", RAW(CANON_HEADER), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"},
};

static void test_b64url_len(void)
{
	static const struct {
		size_t n, len;
	} rows[] = {{0, 0}, {1, 2}, {2, 3}, {3, 4}, {4, 6}, {5, 7}, {6, 8}, {32, 43}, {768, 1024}};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++)
		HR_CHECKF(hr_b64url_len(rows[i].n) == rows[i].len, "n=%zu", rows[i].n);
}

static void test_b64url_vectors(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(b64_rows); i++) {
		const b64_row *r = &b64_rows[i];
		char enc[128], dec[128];
		size_t n = hr_b64url_encode(r->raw, r->raw_len, enc);
		HR_CHECKF(n == strlen(r->enc) && memcmp(enc, r->enc, n) == 0, "%s: encode", r->label);
		HR_CHECKF(n == hr_b64url_len(r->raw_len), "%s: len", r->label);
		/* Decode from a guard page so any over-read faults. */
		char *g = hr_test_guard_copy(r->enc, strlen(r->enc));
		long m = hr_b64url_decode(hr_str_make(g, strlen(r->enc)), dec);
		HR_CHECKF(m == (long)r->raw_len && memcmp(dec, r->raw, r->raw_len) == 0,
			  "%s: decode %ld", r->label, m);
		hr_test_guard_free(g, strlen(r->enc));
	}
}

static void test_b64url_round_trip_all_lengths(void)
{
	unsigned char raw[300], dec[300];
	char enc[400];
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 151u + 7u);
	for (size_t n = 0; n <= sizeof raw; n++) {
		size_t e = hr_b64url_encode(raw, n, enc);
		HR_CHECKF(e == hr_b64url_len(n), "n=%zu", n);
		for (size_t k = 0; k < e; k++)
			HR_CHECKF(enc[k] != '=' && enc[k] != '+' && enc[k] != '/', "n=%zu", n);
		long d = hr_b64url_decode(hr_str_make(enc, e), dec);
		HR_CHECKF(d == (long)n && memcmp(dec, raw, n) == 0, "n=%zu", n);
	}
}

static void test_b64url_rejects(void)
{
	static const struct {
		const char *label;
		const char *enc;
		size_t len;
	} rows[] = {
		{"padding_2", RAW("Zg==")},
		{"padding_1", RAW("Zm8=")},
		{"padding_alone", RAW("====")},
		{"padding_mid", RAW("Zg==Zg")},
		{"std_plus", RAW("+/+/")},
		{"std_slash", RAW("ab/c")},
		{"len_1", RAW("Z")},
		{"len_5", RAW("Zm9vY")},
		{"len_9", RAW("Zm9vYmFyZ")},
		{"space", RAW("Zm 9v")},
		{"leading_space", RAW(" Zm9v")},
		{"newline", RAW("Zm9v\n")},
		{"crlf", RAW("Zm9v\r\nYg")},
		{"tab", RAW("Zm\t9v")},
		{"dot", RAW("Zm.v")},
		{"nul", RAW("Zm\0v")},
		{"high_byte", RAW("Zm\xc3\xa9")},
		{"noncanonical_2_h", RAW("Zh")},   /* 'h' = 33: low 4 bits set */
		{"noncanonical_2_x", RAW("Zx")},   /* 49 */
		{"noncanonical_2_underscore", RAW("__")},
		{"noncanonical_3_9", RAW("Zm9")}, /* '9' = 61: low 2 bits set */
		{"noncanonical_3_p", RAW("Zmp")},
		{"noncanonical_sig", RAW("xS0Ts6gid72CB9oBOCZo7dNzmpNqcSKRRn0KeJuRMm1")},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		unsigned char dst[64];
		memset(dst, 0xA5, sizeof dst);
		char *g = hr_test_guard_copy(rows[i].enc, rows[i].len);
		long d = hr_b64url_decode(hr_str_make(g, rows[i].len), dst);
		hr_test_guard_free(g, rows[i].len);
		HR_CHECKF(d == -1, "%s: %ld", rows[i].label, d);
		size_t k = 0;
		while (k < sizeof dst && dst[k] == 0xA5)
			k++;
		HR_CHECKF(k == sizeof dst, "%s: dst touched", rows[i].label);
	}
	/* Canonical neighbours of the rows above decode. */
	unsigned char dst[64];
	HR_CHECK(hr_b64url_decode(S("Zg"), dst) == 1);
	HR_CHECK(hr_b64url_decode(S("Zm8"), dst) == 2);
	HR_CHECK(hr_b64url_decode(S("_w"), dst) == 1 && dst[0] == 0xff);
}

static void test_b64url_every_byte_class(void)
{
	/* Exactly the 64 alphabet bytes decode; every other byte value is
	 * refused in each position of a 4-character group. */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (int c = 0; c < 256; c++) {
		bool member = c != 0 && memchr(alphabet, c, 64) != NULL;
		for (int pos = 0; pos < 4; pos++) {
			char enc[4] = {'A', 'A', 'A', 'A'};
			unsigned char dst[3];
			enc[pos] = (char)c;
			long d = hr_b64url_decode(hr_str_make(enc, 4), dst);
			HR_CHECKF((d == 3) == member, "byte 0x%02x at %d: %ld", c, pos, d);
		}
	}
}

/* ---- signing: known answers from another implementation ---- */

/*
 * Produced with Node.js v20 (its crypto and Buffer, no JWT library):
 *
 *   const b64 = s => Buffer.from(s).toString('base64url');
 *   const si = b64(header) + '.' + b64(payload);
 *   si + '.' + crypto.createHmac('sha256', Buffer.from(key))
 *                    .update(si).digest('base64url')
 *
 * with header {"alg":"HS256","typ":"JWT"} except where the label says.
 */
typedef struct kat_row {
	const char *label;
	const char *payload;
	const char *key;
	const char *token;
	bool canonical_header; /* hr_token_sign must reproduce it exactly */
} kat_row;

static const kat_row kat_rows[] = {
	{"dialect_example",
	 "{\"collectionId\":\"_pb_users_auth_\",\"exp\":1773830102,\"id\":\"u8d2kq0x5m1n7pz\","
	 "\"refreshable\":true,\"type\":\"auth\"}",
	 "tk_0123456789abcdefS3cr3t-S3cr3t-S3cr3t-S3cr3t-S3cr3t",
	 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJfcGJfdXNlcnNfYXV0aF8iLCJleHAiOjE3NzM4MzAxMDIsImlkIjoidThkMmtxMHg1"
	 "bTFuN3B6IiwicmVmcmVzaGFibGUiOnRydWUsInR5cGUiOiJhdXRoIn0."
	 "xS0Ts6gid72CB9oBOCZo7dNzmpNqcSKRRn0KeJuRMm0",
	 true},
	{"email_change_one_byte_key",
	 "{\"collectionId\":\"_pb_users_auth_\",\"email\":\"ada@example.com\",\"exp\":1773830102,"
	 "\"id\":\"u8d2kq0x5m1n7pz\",\"newEmail\":\"ada@new.example\",\"type\":\"emailChange\"}",
	 "k",
	 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJfcGJfdXNlcnNfYXV0aF8iLCJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSIsImV4cCI6"
	 "MTc3MzgzMDEwMiwiaWQiOiJ1OGQya3EweDVtMW43cHoiLCJuZXdFbWFpbCI6ImFkYUBuZXcuZXhhbXBsZSIsInR5"
	 "cGUiOiJlbWFpbENoYW5nZSJ9."
	 "JGrjr97MA-kqVlQyQzk8dNou2JWddgqEqOPgJqxr6aA",
	 true},
	/* 100-byte key: longer than SHA-256's block, so HMAC hashes it first. */
	{"key_longer_than_block",
	 "{\"collectionId\":\"c\",\"exp\":2000000000,\"id\":\"i\",\"type\":\"file\"}",
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxx",
	 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiZmlsZSJ9."
	 "arj8nWyLr2uXMNVHoDuHKCgdwYW94fqarV7cO0D4V1Q",
	 true},
	{"utf8_payload",
	 "{\"collectionId\":\"c\",\"email\":\"j\xc3\xb6rg@example.com\",\"exp\":2000000000,"
	 "\"id\":\"\xc3\xa9\xc3\xa8\",\"type\":\"verification\"}",
	 "key with spaces",
	 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJjIiwiZW1haWwiOiJqw7ZyZ0BleGFtcGxlLmNvbSIsImV4cCI6MjAwMDAwMDAwMCwi"
	 "aWQiOiLDqcOoIiwidHlwZSI6InZlcmlmaWNhdGlvbiJ9."
	 "CxG75OiKsE_jczkpWaET-eMPtBczyPvK_cXXh_TX9mo",
	 true},
	/* Other encoders order or omit header members; both are valid. */
	{"header_typ_first", PAYLOAD, "secret",
	 "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiYXV0aCJ9."
	 "-GQq3tUAqgmpZPnrxqXXpRWlde3da3xpNYXbv3rsetA",
	 false},
	{"header_without_typ", PAYLOAD, "secret",
	 "eyJhbGciOiJIUzI1NiJ9."
	 "eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiYXV0aCJ9."
	 "fz9ZNeWNyZahSZmeejxPktYuOpcG8XosHDfd_njg5ss",
	 false},
};

static void test_known_answer_tokens(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(kat_rows); i++) {
		const kat_row *r = &kat_rows[i];
		hr_str tok = cs(r->token), key = cs(r->key);
		if (r->canonical_header) {
			hr_buf b;
			hr_buf_init(&b, 0);
			HR_CHECKF(hr_token_sign(&b, cs(r->payload), key) == 0, "%s", r->label);
			HR_CHECKF(b.len == tok.len && memcmp(b.ptr, tok.ptr, tok.len) == 0,
				  "%s: got %.*s", r->label, (int)b.len, b.ptr);
			hr_buf_dispose(&b);
		}
		HR_CHECKF(hr_token_verify(tok, key), "%s: verify", r->label);
		HR_CHECKF(!hr_token_verify(tok, S("wrong key")), "%s: wrong key", r->label);

		test_arena ta;
		hr_json *claims = NULL;
		hr_token_claims c;
		arena_open(&ta);
		HR_CHECKF(hr_token_decode(&ta.a, tok, &claims) == 0, "%s: decode", r->label);
		HR_CHECKF(claims != NULL && hr_token_claims_read(claims, 1700000000, &c),
			  "%s: claims", r->label);
		hr_arena_dispose(&ta.a);
	}
}

static void test_known_answer_claims(void)
{
	test_arena ta;
	hr_json *claims;
	hr_token_claims c;
	arena_open(&ta);
	HR_REQUIRE(hr_token_decode(&ta.a, cs(kat_rows[0].token), &claims) == 0);
	HR_REQUIRE(hr_token_claims_read(claims, 1773830101, &c));
	HR_CHECK(hr_str_eq(c.id, S("u8d2kq0x5m1n7pz")));
	HR_CHECK(hr_str_eq(c.collection_id, S("_pb_users_auth_")));
	HR_CHECK(hr_str_eq(c.type, S("auth")));
	HR_CHECK(c.exp == 1773830102);
	HR_CHECK(c.refreshable);
	HR_CHECK(c.email.len == 0 && c.new_email.len == 0);
	/* One second later it has expired. */
	HR_CHECK(!hr_token_claims_read(claims, 1773830102, &c));

	HR_REQUIRE(hr_token_decode(&ta.a, cs(kat_rows[1].token), &claims) == 0);
	HR_REQUIRE(hr_token_claims_read(claims, 0, &c));
	HR_CHECK(hr_str_eq(c.type, S("emailChange")));
	HR_CHECK(hr_str_eq(c.email, S("ada@example.com")));
	HR_CHECK(hr_str_eq(c.new_email, S("ada@new.example")));
	HR_CHECK(!c.refreshable);

	HR_REQUIRE(hr_token_decode(&ta.a, cs(kat_rows[3].token), &claims) == 0);
	HR_REQUIRE(hr_token_claims_read(claims, 0, &c));
	HR_CHECK(hr_str_eq(c.id, S("\xc3\xa9\xc3\xa8")));
	hr_arena_dispose(&ta.a);
}

/* ---- sign / verify ---- */

static void test_sign_then_verify(void)
{
	static const char *payloads[] = {
		"{}",
		PAYLOAD,
		"{\"a\":\"x\"}",
		"{\"b\":\"xy\"}",
		"{\"id\":\"\\u0000\",\"n\":[1,2,{\"deep\":null}]}",
	};
	test_arena ta;
	arena_open(&ta);
	hr_str key = hr_token_key(&ta.a, S("tokenKeyOfTheRecord"), S("collection-secret-30-chars-xxxx"));
	HR_REQUIRE(key.ptr != NULL);
	for (size_t i = 0; i < HR_ARRAY_LEN(payloads); i++) {
		hr_buf b;
		hr_json *claims = NULL;
		hr_buf_init(&b, 0);
		HR_REQUIRE(hr_buf_append_cstr(&b, "prefix:") == 0);
		HR_REQUIRE(hr_token_sign(&b, cs(payloads[i]), key) == 0);
		HR_REQUIRE(b.len > 7);
		hr_str tok = hr_str_make(b.ptr + 7, b.len - 7);
		HR_CHECKF(memcmp(b.ptr, "prefix:eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 44) == 0,
			  "%zu", i);
		HR_CHECKF(hr_token_verify(tok, key), "%zu: verify", i);
		HR_CHECKF(hr_token_decode(&ta.a, tok, &claims) == 0, "%zu: decode", i);
		HR_CHECKF(claims != NULL && claims->type == HR_JSON_OBJECT, "%zu", i);
		/* Same as the independent construction. */
		char want[512];
		size_t n = make_token(want, CANON_HEADER, payloads[i], key.ptr);
		HR_CHECKF(tok.len == n && memcmp(tok.ptr, want, n) == 0, "%zu: differs", i);
		hr_buf_dispose(&b);
	}
	hr_arena_dispose(&ta.a);
}

static void test_token_key_concatenates(void)
{
	test_arena ta;
	arena_open(&ta);
	hr_str k = hr_token_key(&ta.a, S("abc"), S("XYZ"));
	HR_CHECK(hr_str_eq(k, S("abcXYZ")) && k.ptr[k.len] == '\0');
	k = hr_token_key(&ta.a, HR_STR_NULL, S("XYZ"));
	HR_CHECK(hr_str_eq(k, S("XYZ")));
	k = hr_token_key(&ta.a, HR_STR_NULL, HR_STR_NULL);
	HR_CHECK(k.ptr != NULL && k.len == 0);
	hr_arena_dispose(&ta.a);

	/* An exhausted arena gives the null slice. */
	hr_arena small;
	_Alignas(16) char mem[32];
	hr_arena_init(&small, mem, sizeof mem, 1);
	char big[100];
	memset(big, 'k', sizeof big);
	k = hr_token_key(&small, hr_str_make(big, sizeof big), S("s"));
	HR_CHECK(k.ptr == NULL && k.len == 0);
	hr_arena_dispose(&small);
}

static void test_wrong_key_refused(void)
{
	static const char *keys[] = {
		"secreT", "secre", "secret ", " secret", "", "SECRET", "secret\n",
	};
	char tok[512];
	size_t n = make_token(tok, CANON_HEADER, PAYLOAD, "secret");
	HR_REQUIRE(hr_token_verify(hr_str_make(tok, n), S("secret")));
	for (size_t i = 0; i < HR_ARRAY_LEN(keys); i++)
		HR_CHECKF(!hr_token_verify(hr_str_make(tok, n), cs(keys[i])), "key \"%s\"", keys[i]);
	/* A key with an embedded NUL is a different key... */
	HR_CHECK(!hr_token_verify(hr_str_make(tok, n), hr_str_make("sec\0ret", 7)));
	/* ...but trailing NULs are not: HMAC zero-pads keys shorter than the
	 * 64-byte block (RFC 2104 §2), so "secret" and "secret\0" are the same
	 * HMAC key in every implementation. Harmless for us (the collection
	 * secret ends the key and is generated text); pinned here so nobody
	 * mistakes it for a bug. */
	HR_CHECK(hr_token_verify(hr_str_make(tok, n), hr_str_make("secret\0", 7)));
}

static void test_empty_key_refused(void)
{
	char tok[512];
	size_t n = make_token(tok, CANON_HEADER, PAYLOAD, "");
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_CHECK(hr_token_sign(&b, S(PAYLOAD), HR_STR_NULL) == HR_EINVAL);
	HR_CHECK(b.len == 0);
	HR_CHECK(!hr_token_verify(hr_str_make(tok, n), HR_STR_NULL));
	hr_buf_dispose(&b);
}

static void test_tampering_any_byte_refused(void)
{
	/* Replace every character of a valid token, in turn, by every other
	 * alphabet character (and by '=' and '.'): no variant verifies. */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.";
	char tok[512], t[512];
	size_t n = make_token(tok, CANON_HEADER, PAYLOAD, "secret");
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t a = 0; a < sizeof alphabet - 1; a++) {
			if (alphabet[a] == tok[i])
				continue;
			memcpy(t, tok, n);
			t[i] = alphabet[a];
			if (hr_token_verify(hr_str_make(t, n), S("secret"))) {
				bad++;
				fprintf(stderr, "    accepted: pos %zu -> '%c'\n", i, alphabet[a]);
			}
		}
	}
	HR_CHECK(bad == 0);
}

static void test_tampered_parts_refused(void)
{
	/* Swapping in another payload or header with the original signature. */
	char good[512], other[512], mix[1024];
	size_t n = make_token(good, CANON_HEADER, PAYLOAD, "secret");
	size_t m = make_token(other, CANON_HEADER,
			      "{\"collectionId\":\"c\",\"exp\":2000000000,\"id\":\"admin\","
			      "\"type\":\"auth\"}",
			      "attacker");
	const char *g_dot2 = strrchr(good, '.'), *o_dot2 = strrchr(other, '.');
	/* other's header.payload + good's signature */
	int k = snprintf(mix, sizeof mix, "%.*s%s", (int)(o_dot2 - other), other, g_dot2);
	HR_CHECK(!hr_token_verify(hr_str_make(mix, (size_t)k), S("secret")));
	/* good's header.payload + other's signature */
	k = snprintf(mix, sizeof mix, "%.*s%s", (int)(g_dot2 - good), good, o_dot2);
	HR_CHECK(!hr_token_verify(hr_str_make(mix, (size_t)k), S("secret")));
	/* Header swapped for an equivalent one (typ first): different bytes. */
	const char *g_dot1 = strchr(good, '.');
	k = snprintf(mix, sizeof mix, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9%s", g_dot1);
	HR_CHECK(!hr_token_verify(hr_str_make(mix, (size_t)k), S("secret")));
	(void)n;
	(void)m;
}

/* ---- header and payload rules ---- */

typedef struct forge_row {
	const char *label;
	const char *header;
	const char *payload;
} forge_row;

static const forge_row forge_rows[] = {
	{"alg_none", "{\"alg\":\"none\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_none_upper", "{\"alg\":\"NONE\"}", PAYLOAD},
	{"alg_hs512", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_hs384", "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_rs256", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_es256", "{\"alg\":\"ES256\"}", PAYLOAD},
	{"alg_lower", "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_trailing_space", "{\"alg\":\"HS256 \",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_trailing_nul", "{\"alg\":\"HS256\\u0000\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_empty", "{\"alg\":\"\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_missing", "{\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_null", "{\"alg\":null,\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_number", "{\"alg\":256,\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_array", "{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_key_case", "{\"ALG\":\"HS256\",\"typ\":\"JWT\"}", PAYLOAD},
	{"alg_last_wins_none", "{\"alg\":\"HS256\",\"alg\":\"none\"}", PAYLOAD},
	{"typ_lower", "{\"alg\":\"HS256\",\"typ\":\"jwt\"}", PAYLOAD},
	{"typ_other", "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", PAYLOAD},
	{"typ_number", "{\"alg\":\"HS256\",\"typ\":1}", PAYLOAD},
	{"typ_null", "{\"alg\":\"HS256\",\"typ\":null}", PAYLOAD},
	{"crit", "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"b64\"],\"b64\":false}", PAYLOAD},
	{"crit_empty", "{\"alg\":\"HS256\",\"crit\":[]}", PAYLOAD},
	{"header_array", "[\"HS256\"]", PAYLOAD},
	{"header_string", "\"HS256\"", PAYLOAD},
	{"header_null", "null", PAYLOAD},
	{"header_empty_object", "{}", PAYLOAD},
	{"header_not_json", "{alg:HS256}", PAYLOAD},
	{"header_trailing_garbage", CANON_HEADER "x", PAYLOAD},
	{"header_trailing_comma", "{\"alg\":\"HS256\",}", PAYLOAD},
	{"header_empty_bytes", "", PAYLOAD},
	{"payload_array", CANON_HEADER, "[1,2]"},
	{"payload_string", CANON_HEADER, "\"claims\""},
	{"payload_number", CANON_HEADER, "42"},
	{"payload_null", CANON_HEADER, "null"},
	{"payload_true", CANON_HEADER, "true"},
	{"payload_not_json", CANON_HEADER, "{\"id\":}"},
	{"payload_two_values", CANON_HEADER, "{}{}"},
	{"payload_invalid_utf8", CANON_HEADER, "{\"id\":\"\xff\"}"},
	{"payload_empty_bytes", CANON_HEADER, ""},
	{"payload_too_deep", CANON_HEADER,
	 "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"},
};

static void test_forged_headers_and_payloads_refused(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(forge_rows); i++) {
		const forge_row *r = &forge_rows[i];
		char tok[1024];
		size_t n = make_token(tok, r->header, r->payload, "secret");
		test_arena ta;
		static hr_json sentinel;
		hr_json *claims = &sentinel; /* must stay untouched */
		arena_open(&ta);
		int rc = hr_token_decode(&ta.a, hr_str_make(tok, n), &claims);
		/* Empty header/payload bytes encode to an empty segment, which
		 * the structure check refuses first; same outcome. */
		HR_CHECKF(rc == HR_EPARSE, "%s: rc %d", r->label, rc);
		HR_CHECKF(claims == &sentinel, "%s: claims touched", r->label);
		hr_arena_dispose(&ta.a);
	}
}

static void test_alg_none_unsigned_refused(void)
{
	/* The classic forgery: alg none and an empty signature segment. */
	static const char *toks[] = {
		/* {"alg":"none","typ":"JWT"} . PAYLOAD . (empty) */
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
		"eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiYXV0aCJ9.",
		/* same without the trailing dot */
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
		"eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiYXV0aCJ9",
		/* canonical header, empty signature */
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
		"eyJjb2xsZWN0aW9uSWQiOiJjIiwiZXhwIjoyMDAwMDAwMDAwLCJpZCI6ImkiLCJ0eXBlIjoiYXV0aCJ9.",
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(toks); i++) {
		test_arena ta;
		hr_json *claims = NULL;
		arena_open(&ta);
		HR_CHECKF(hr_token_decode(&ta.a, cs(toks[i]), &claims) == HR_EPARSE, "%zu", i);
		HR_CHECKF(!hr_token_verify(cs(toks[i]), S("secret")), "%zu", i);
		HR_CHECKF(!hr_token_verify(cs(toks[i]), S("")), "%zu", i);
		hr_arena_dispose(&ta.a);
	}
}

static void test_verify_ignores_header_by_design(void)
{
	/* A MAC that matches under our key means we signed those bytes; the
	 * header choice is enforced by decode (see token.c). Here an HS512
	 * header carries a correct HS256 MAC: verify says yes, decode no. */
	char tok[512];
	size_t n = make_token(tok, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", PAYLOAD, "secret");
	test_arena ta;
	hr_json *claims = NULL;
	arena_open(&ta);
	HR_CHECK(hr_token_verify(hr_str_make(tok, n), S("secret")));
	HR_CHECK(hr_token_decode(&ta.a, hr_str_make(tok, n), &claims) == HR_EPARSE);
	hr_arena_dispose(&ta.a);
}

/* ---- structure ---- */

static void test_structure_enforced(void)
{
	char good[512];
	size_t n = make_token(good, CANON_HEADER, PAYLOAD, "secret");
	const char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
	int h = (int)(d1 - good), p = (int)(d2 - d1 - 1);
	const char *hs = good, *ps = d1 + 1, *ss = d2 + 1;

	struct {
		const char *label;
		char tok[700];
	} cases[24];
	size_t nc = 0;
#define ADD(lbl, ...)                                                                     \
	do {                                                                              \
		cases[nc].label = (lbl);                                                  \
		snprintf(cases[nc].tok, sizeof cases[nc].tok, __VA_ARGS__);               \
		nc++;                                                                     \
	} while (0)
	ADD("empty", "%s", "");
	ADD("one_segment", "%.*s", h, hs);
	ADD("two_segments", "%.*s.%.*s", h, hs, p, ps);
	ADD("two_segments_trailing_dot", "%.*s.%.*s.", h, hs, p, ps);
	ADD("four_segments", "%s.%s", good, ss);
	ADD("four_segments_empty_last", "%s.", good);
	ADD("leading_dot", ".%s", good);
	ADD("empty_header", ".%.*s.%s", p, ps, ss);
	ADD("empty_payload", "%.*s..%s", h, hs, ss);
	ADD("only_dots", "%s", "..");
	ADD("three_dots", "%s", "...");
	ADD("double_dot_inside", "%.*s..%.*s.%s", h, hs, p, ps, ss);
	ADD("sig_short", "%.*s.%.*s.%.42s", h, hs, p, ps, ss);
	ADD("sig_long", "%.*s.%.*s.%sA", h, hs, p, ps, ss);
	ADD("sig_padded", "%.*s.%.*s.%s=", h, hs, p, ps, ss);
	ADD("header_padded", "%.*s=.%.*s.%s", h, hs, p, ps, ss);
	ADD("payload_std_alphabet", "%.*s.%.*s+.%s", h, hs, p - 1, ps, ss);
	ADD("space_in_payload", "%.*s.%.*s .%s", h, hs, p, ps, ss);
	ADD("trailing_newline", "%s\n", good);
	ADD("leading_space", " %s", good);
	ADD("bearer_prefix", "Bearer %s", good);
	ADD("header_len_1_mod_4", "%.*sA.%.*s.%s", h, hs, p, ps, ss);
#undef ADD
	HR_REQUIRE(nc <= HR_ARRAY_LEN(cases));
	HR_REQUIRE(hr_token_verify(hr_str_make(good, n), S("secret")));
	for (size_t i = 0; i < nc; i++) {
		size_t len = strlen(cases[i].tok);
		char *g = hr_test_guard_copy(cases[i].tok, len);
		test_arena ta;
		hr_json *claims = NULL;
		arena_open(&ta);
		HR_CHECKF(hr_token_decode(&ta.a, hr_str_make(g, len), &claims) == HR_EPARSE,
			  "%s: decode", cases[i].label);
		HR_CHECKF(!hr_token_verify(hr_str_make(g, len), S("secret")), "%s: verify",
			  cases[i].label);
		hr_arena_dispose(&ta.a);
		hr_test_guard_free(g, len);
	}
}

static void test_good_token_at_guard_page(void)
{
	char tok[512];
	size_t n = make_token(tok, CANON_HEADER, PAYLOAD, "secret");
	char *g = hr_test_guard_copy(tok, n);
	test_arena ta;
	hr_json *claims = NULL;
	arena_open(&ta);
	HR_CHECK(hr_token_verify(hr_str_make(g, n), S("secret")));
	HR_CHECK(hr_token_decode(&ta.a, hr_str_make(g, n), &claims) == 0);
	hr_arena_dispose(&ta.a);
	hr_test_guard_free(g, n);
}

/*
 * Builds a valid token of exactly `total` bytes (>= 150, not 82 mod 4)
 * whose payload is {"collectionId":"c","exp":2000000000,"id":"i",
 * "pad":"xxx...","type":"auth"}. Returns its length.
 */
static size_t padded_token(char *dst, size_t total, const char *key)
{
	static const char pre[] = "{\"collectionId\":\"c\",\"exp\":2000000000,\"id\":\"i\",\"pad\":\"";
	static const char post[] = "\",\"type\":\"auth\"}";
	/* total = 36 (header) + 1 + payload_b64 + 1 + 43 (signature) */
	size_t payload_b64 = total - 81;
	HR_ASSERT(payload_b64 % 4 != 1);
	size_t plen = payload_b64 / 4 * 3 + (payload_b64 % 4 ? payload_b64 % 4 - 1 : 0);
	char *payload = malloc(plen + 1);
	HR_ASSERT(payload != NULL);
	size_t fill = plen - (sizeof pre - 1) - (sizeof post - 1);
	memcpy(payload, pre, sizeof pre - 1);
	memset(payload + sizeof pre - 1, 'x', fill);
	memcpy(payload + sizeof pre - 1 + fill, post, sizeof post);
	size_t n = make_token(dst, CANON_HEADER, payload, key);
	free(payload);
	return n;
}

static void test_length_cap(void)
{
	static char tok[HR_TOKEN_MAX + 64];
	test_arena ta;
	hr_json *claims = NULL;
	hr_token_claims c;

	/* Exactly HR_TOKEN_MAX bytes: accepted. */
	size_t n = padded_token(tok, HR_TOKEN_MAX, "secret");
	HR_REQUIRE(n == HR_TOKEN_MAX);
	arena_open(&ta);
	HR_CHECK(hr_token_verify(hr_str_make(tok, n), S("secret")));
	HR_CHECK(hr_token_decode(&ta.a, hr_str_make(tok, n), &claims) == 0);
	HR_CHECK(claims != NULL && hr_token_claims_read(claims, 0, &c));
	hr_arena_dispose(&ta.a);

	/* One byte over the cap, otherwise valid: refused. */
	n = padded_token(tok, HR_TOKEN_MAX + 1, "secret");
	HR_REQUIRE(n == HR_TOKEN_MAX + 1);
	arena_open(&ta);
	claims = NULL;
	HR_CHECK(!hr_token_verify(hr_str_make(tok, n), S("secret")));
	HR_CHECK(hr_token_decode(&ta.a, hr_str_make(tok, n), &claims) == HR_EPARSE);
	HR_CHECK(claims == NULL);
	hr_arena_dispose(&ta.a);

	/* A megabyte of dots and letters is refused without scanning it. */
	size_t big = 1u << 20;
	char *huge = malloc(big);
	HR_REQUIRE(huge != NULL);
	memset(huge, 'A', big);
	huge[10] = '.';
	huge[20] = '.';
	HR_CHECK(!hr_token_verify(hr_str_make(huge, big), S("secret")));
	arena_open(&ta);
	HR_CHECK(hr_token_decode(&ta.a, hr_str_make(huge, big), &claims) == HR_EPARSE);
	hr_arena_dispose(&ta.a);
	free(huge);
}

static void test_sign_refuses_and_leaves_buffer(void)
{
	hr_buf b;
	char payload[HR_TOKEN_MAX];

	/* Token length = 81 + hr_b64url_len(payload): a 6083-byte payload
	 * makes exactly HR_TOKEN_MAX, 6084 one more. sign does not parse
	 * the payload, so blanks do. */
	memset(payload, ' ', sizeof payload);
	hr_buf_init(&b, 0);
	HR_REQUIRE(hr_buf_append_cstr(&b, "keep") == 0);
	HR_CHECK(hr_token_sign(&b, hr_str_make(payload, 6084), S("k")) == HR_ELIMIT);
	HR_CHECK(hr_token_sign(&b, hr_str_make(payload, sizeof payload), S("k")) == HR_ELIMIT);
	HR_CHECK(b.len == 4 && memcmp(b.ptr, "keep", 4) == 0);
	HR_CHECK(hr_token_sign(&b, hr_str_make(payload, 6083), S("k")) == 0);
	HR_CHECK(b.len == 4 + HR_TOKEN_MAX);
	hr_buf_dispose(&b);

	/* A buffer whose ceiling is too low: error, nothing appended. */
	hr_buf_init(&b, 64);
	HR_REQUIRE(hr_buf_append_cstr(&b, "keep") == 0);
	int rc = hr_token_sign(&b, S(PAYLOAD), S("k"));
	HR_CHECK(rc == HR_ELIMIT);
	HR_CHECK(b.len == 4 && memcmp(b.ptr, "keep", 4) == 0);
	hr_buf_dispose(&b);
}

static void test_decode_out_of_memory(void)
{
	char tok[512];
	size_t n = make_token(tok, CANON_HEADER, PAYLOAD, "secret");
	hr_arena a;
	_Alignas(16) char mem[64];
	hr_json *claims = NULL;
	hr_arena_init(&a, mem, sizeof mem, 1);
	HR_CHECK(hr_token_decode(&a, hr_str_make(tok, n), &claims) == HR_ENOMEM);
	HR_CHECK(claims == NULL);
	hr_arena_dispose(&a);
}

/* ---- claims ---- */

typedef struct claims_row {
	const char *label;
	const char *json;
	bool ok;
} claims_row;

#define NOW 1700000000
static const claims_row claims_rows[] = {
	{"valid", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\",\"type\":\"auth\"}", true},
	{"valid_all", "{\"collectionId\":\"c\",\"email\":\"e\",\"exp\":1700000001,\"id\":\"i\","
		      "\"newEmail\":\"n\",\"refreshable\":false,\"type\":\"emailChange\"}",
	 true},
	{"extra_claims_ignored", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\","
				 "\"type\":\"auth\",\"iat\":\"whatever\",\"x\":[1]}",
	 true},
	{"exp_exponent_integer", "{\"collectionId\":\"c\",\"exp\":1.8e9,\"id\":\"i\",\"type\":\"auth\"}",
	 true},
	{"exp_now", "{\"collectionId\":\"c\",\"exp\":1700000000,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_past", "{\"collectionId\":\"c\",\"exp\":1699999999,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_zero", "{\"collectionId\":\"c\",\"exp\":0,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_negative", "{\"collectionId\":\"c\",\"exp\":-1,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_missing", "{\"collectionId\":\"c\",\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_string", "{\"collectionId\":\"c\",\"exp\":\"1800000000\",\"id\":\"i\",\"type\":\"auth\"}",
	 false},
	{"exp_fraction", "{\"collectionId\":\"c\",\"exp\":1800000000.5,\"id\":\"i\",\"type\":\"auth\"}",
	 false},
	{"exp_huge", "{\"collectionId\":\"c\",\"exp\":1e300,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_bool", "{\"collectionId\":\"c\",\"exp\":true,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"exp_null", "{\"collectionId\":\"c\",\"exp\":null,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"nbf_past", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\",\"nbf\":1700000000,"
		     "\"type\":\"auth\"}",
	 true},
	{"nbf_future", "{\"collectionId\":\"c\",\"exp\":1800000000,\"id\":\"i\",\"nbf\":1700000001,"
		       "\"type\":\"auth\"}",
	 false},
	{"nbf_string", "{\"collectionId\":\"c\",\"exp\":1800000000,\"id\":\"i\",\"nbf\":\"0\","
		       "\"type\":\"auth\"}",
	 false},
	{"id_missing", "{\"collectionId\":\"c\",\"exp\":1700000001,\"type\":\"auth\"}", false},
	{"id_empty", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"\",\"type\":\"auth\"}", false},
	{"id_number", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":1,\"type\":\"auth\"}", false},
	{"id_null", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":null,\"type\":\"auth\"}", false},
	{"id_object", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":{},\"type\":\"auth\"}", false},
	{"collection_missing", "{\"exp\":1700000001,\"id\":\"i\",\"type\":\"auth\"}", false},
	{"collection_empty", "{\"collectionId\":\"\",\"exp\":1700000001,\"id\":\"i\",\"type\":\"auth\"}",
	 false},
	{"collection_array", "{\"collectionId\":[\"c\"],\"exp\":1700000001,\"id\":\"i\","
			     "\"type\":\"auth\"}",
	 false},
	{"type_missing", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\"}", false},
	{"type_empty", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\",\"type\":\"\"}", false},
	{"type_bool", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\",\"type\":true}", false},
	{"email_number", "{\"collectionId\":\"c\",\"email\":5,\"exp\":1700000001,\"id\":\"i\","
			 "\"type\":\"auth\"}",
	 false},
	{"new_email_array", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\","
			    "\"newEmail\":[],\"type\":\"auth\"}",
	 false},
	{"refreshable_string", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\","
			       "\"refreshable\":\"true\",\"type\":\"auth\"}",
	 false},
	{"refreshable_number", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\","
			       "\"refreshable\":1,\"type\":\"auth\"}",
	 false},
	{"refreshable_null", "{\"collectionId\":\"c\",\"exp\":1700000001,\"id\":\"i\","
			     "\"refreshable\":null,\"type\":\"auth\"}",
	 false},
	{"not_object", "[\"c\",1700000001]", false},
	{"string", "\"claims\"", false},
};

static void test_claims_rows(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(claims_rows); i++) {
		const claims_row *r = &claims_rows[i];
		test_arena ta;
		hr_json *j = NULL;
		hr_json_error err;
		hr_token_claims c, keep;
		arena_open(&ta);
		HR_REQUIRE(hr_json_parse(&ta.a, r->json, strlen(r->json), 16, &j, &err) == 0);
		memset(&c, 0x5A, sizeof c);
		memcpy(&keep, &c, sizeof c);
		bool ok = hr_token_claims_read(j, NOW, &c);
		HR_CHECKF(ok == r->ok, "%s: %d", r->label, ok);
		if (!ok)
			HR_CHECKF(memcmp(&c, &keep, sizeof c) == 0, "%s: out touched", r->label);
		hr_arena_dispose(&ta.a);
	}
	hr_token_claims c;
	HR_CHECK(!hr_token_claims_read(NULL, NOW, &c));
}

static void test_expired_token_end_to_end(void)
{
	/* Signed correctly, decodes, verifies, but its claims are refused. */
	char tok[512];
	size_t n = make_token(tok, CANON_HEADER,
			      "{\"collectionId\":\"c\",\"exp\":1600000000,\"id\":\"i\",\"type\":\"auth\"}",
			      "secret");
	test_arena ta;
	hr_json *claims = NULL;
	hr_token_claims c;
	arena_open(&ta);
	HR_CHECK(hr_token_verify(hr_str_make(tok, n), S("secret")));
	HR_REQUIRE(hr_token_decode(&ta.a, hr_str_make(tok, n), &claims) == 0);
	HR_CHECK(!hr_token_claims_read(claims, NOW, &c));
	HR_CHECK(hr_token_claims_read(claims, 1599999999, &c));
	hr_arena_dispose(&ta.a);
}

static const hr_test_case cases[] = {
	{"b64url_len", test_b64url_len},
	{"b64url_vectors", test_b64url_vectors},
	{"b64url_round_trip_all_lengths", test_b64url_round_trip_all_lengths},
	{"b64url_rejects", test_b64url_rejects},
	{"b64url_every_byte_class", test_b64url_every_byte_class},
	{"known_answer_tokens", test_known_answer_tokens},
	{"known_answer_claims", test_known_answer_claims},
	{"sign_then_verify", test_sign_then_verify},
	{"token_key_concatenates", test_token_key_concatenates},
	{"wrong_key_refused", test_wrong_key_refused},
	{"empty_key_refused", test_empty_key_refused},
	{"tampering_any_byte_refused", test_tampering_any_byte_refused},
	{"tampered_parts_refused", test_tampered_parts_refused},
	{"forged_headers_and_payloads_refused", test_forged_headers_and_payloads_refused},
	{"alg_none_unsigned_refused", test_alg_none_unsigned_refused},
	{"verify_ignores_header_by_design", test_verify_ignores_header_by_design},
	{"structure_enforced", test_structure_enforced},
	{"good_token_at_guard_page", test_good_token_at_guard_page},
	{"length_cap", test_length_cap},
	{"sign_refuses_and_leaves_buffer", test_sign_refuses_and_leaves_buffer},
	{"decode_out_of_memory", test_decode_out_of_memory},
	{"claims_rows", test_claims_rows},
	{"expired_token_end_to_end", test_expired_token_end_to_end},
};
HR_TEST_MAIN(cases)

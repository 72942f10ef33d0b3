/*
 * core/json.c - the bounded JSON reader, the validator and the writer.
 * See json.h for the contracts; this comment is about how.
 *
 * READER (hr_json_parse)
 *   One forward pass over the bytes, no recursion. A `goto` state machine
 *   has three states: `value` (a value starts here), `have_value` (a value
 *   was just finished: attach it to the open container, then expect `,` or
 *   the closer) and `key` (an object member starts here). Open containers
 *   live on an explicit frame stack; a container's children are pushed on
 *   a scratch stack (pointers for arrays, members for objects) and copied
 *   into one right-sized arena array when the container closes, so a
 *   finished tree holds no slack. The scratch stacks start in a small
 *   buffer on the C stack and move to the arena (doubling) when they
 *   outgrow it; the frame stack's depth is bounded by max_depth, and the
 *   scratch stacks by the input length.
 *
 *   Nodes come from slabs carved from the arena, sized by doubling but never
 *   larger than the rest of the input could need (a value takes at least
 *   two bytes with its separator), so a small body costs a few arena
 *   calls and wastes little.
 *
 *   Strings are scanned eight bytes at a time (SWAR: a word without a quote,
 *   a backslash, a control byte or a byte >= 0x80 is skipped whole), then
 *   byte by byte through `str_class`. Escapes are only validated in the
 *   scan; a string that has any is decoded into the arena in a second pass,
 *   every other string is a slice of the input (the tree borrows it).
 *
 *   Numbers: the grammar is checked and up to 19 digits are accumulated in
 *   one pass. With at most 19 digits, a mantissa <= 2^53 and a power of ten
 *   in [-22, 22], the double is one exact multiplication or division
 *   (Clinger's fast path), which is what request bodies contain. Anything
 *   else goes to strtod() on a rebuilt "DIGITSeEXP" text without a decimal
 *   point (so LC_NUMERIC cannot matter), with the significant digits cut at
 *   780 plus a sticky '1' (no midpoint between doubles has more than 768
 *   significant digits, so rounding is unchanged). Magnitudes that round
 *   past DBL_MAX are refused (Go's decoder refuses them too); whether a
 *   number does is decided on its digits against the exact decimal of
 *   2^1024 - 2^970, by the same code in the parser and the validator, so
 *   the two agree.
 *
 *   Duplicate keys: when an object closes, a repeated key gives its value
 *   to the first occurrence and is dropped. Up to DEDUP_PAIRWISE (64)
 *   members this is a pairwise scan over 32-bit tags (length and three
 *   bytes), so memcmp runs only on a tag match; larger objects sort member
 *   pointers (heapsort: no allocation beyond one arena array, O(n log n)
 *   even for hostile input, where a hash table would need a secret seed).
 *
 * VALIDATOR (hr_json_valid)
 *   The same state machine and the same string/number scanners, with the
 *   open-container kinds kept in a bit stack on the C stack
 *   (HR_JSON_VALID_DEPTH_CAP bits), so it never allocates.
 *
 * WRITER
 *   Strings: runs of bytes that need no escape are found with the same
 *   eight-byte test as the reader, then `esc_class`, and copied in one go. Escapes follow Go's encoding/json (the
 *   dialect's reference): \" \\ \b \f \n \r \t, other controls as \u00xx,
 *   U+2028/U+2029 as \u2028/\u2029, each byte of invalid UTF-8 as \ufffd.
 *   Go's default HTML escaping of < > & is NOT done (see json.h).
 *
 *   Numbers (hr_json_write_number), shortest digits that read back to the
 *   same double, laid out as Go's encoding/json does:
 *     1. integral and |v| < 2^53: the integer itself (no shorter digit
 *        string can name it: the neighbours are at most 1 apart);
 *     2. v * 10^k for k = 1, 2, ...: the first k where m = round(v*10^k)
 *        gives m / 10^k == v exactly (both operands exact, so the division
 *        is the correctly rounded value of the decimal m*10^-k, i.e. what
 *        strtod would return), as long as v*10^k < 2^50: below that at
 *        most one k-digit candidate can round-trip (two would need
 *        ulp(v) >= 10^-k, i.e. v*10^k >= 2^52), so it is also the nearest,
 *        which is Go's choice. Covers 0.1, 1.5, 123456789.123. Values
 *        >= 2^53 try m * 10^j the same way, largest j first (1e21,
 *        6.02214076e23);
 *     3. otherwise one snprintf("%.16e") gives the correctly rounded 17
 *        digits; the 15- and 16-digit candidates are rounded from them
 *        (asking snprintf again only when the dropped digits are exactly
 *        "50..0") and the first that strtod reads back wins, trailing
 *        zeros stripped. 15 digits: the nearest candidate is the only one
 *        that can work. 16 digits: at a power of two the rounding interval
 *        is lopsided, so when the nearest candidate falls below v, the
 *        next 16-digit value above v is tried too. 17 digits always
 *        round-trip. Subnormals (fixed absolute spacing) try 1..16.
 *   Paths 2 and 3 produce (digits, exponent) for one layout routine.
 *   Checked against JavaScript's Number#toString (same shortest-digit
 *   rule and thresholds; only -0 differs) on a few 100k random doubles.
 *
 *   Trees: the same explicit-stack walk for hr_json_write and
 *   hr_json_write_sorted (no recursion: a parsed tree can be 10 000 deep).
 *   Its stacks start on the C stack and move to malloc when deep; the
 *   sorted walk checks whether an object's keys are already in order
 *   (usually so for trees we wrote) and otherwise sorts member pointers.
 *   A malloc failure sets the buffer's sticky error to HR_ENOMEM.
 *
 * CAVEATS
 *   Relies on the C library's strtod being correctly rounded and its
 *   printf("%.*e") exact (glibc: both). The validator's depth is capped at
 *   HR_JSON_VALID_DEPTH_CAP whatever max_depth says.
 */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

/* ------------------------------------------------------------------ */
/* Byte classes                                                        */
/* ------------------------------------------------------------------ */

/*
 * RFC 8259 §2:
 *   ws = *( %x20 / %x09 / %x0A / %x0D )   ; space, tab, LF, CR
 */
static const unsigned char ws_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * RFC 8259 §7:
 *   string    = quotation-mark *char quotation-mark
 *   char      = unescaped / escape ( %x22 / %x5C / %x2F / %x62 / %x66 /
 *                                    %x6E / %x72 / %x74 / %x75 4HEXDIG )
 *   unescaped = %x20-21 / %x23-5B / %x5D-10FFFF
 * and §8.1: the text is UTF-8. Classes: S_PLAIN copies through, S_QUOTE
 * ends the string, S_ESC starts an escape, S_CTRL (%x00-1F) is refused,
 * S_HIGH (%x80-FF) starts a UTF-8 sequence checked by utf8_len().
 */
enum { S_PLAIN = 0, S_QUOTE = 1, S_ESC = 2, S_CTRL = 3, S_HIGH = 4 };
static const unsigned char str_class[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

/*
 * Writer side of the same grammar: E_COPY bytes go out as they are,
 * E_ESCAPE bytes (%x00-1F, %x22, %x5C) need an escape, E_HIGH bytes start
 * a UTF-8 sequence that is copied if valid (U+2028/U+2029 excepted).
 */
enum { E_COPY = 0, E_ESCAPE = 1, E_HIGH = 2 };
static const unsigned char esc_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* RFC 5234 HEXDIG (either case): value 0-15, 16 = not a hex digit. */
static const unsigned char hex_val[256] = {
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

/* 10^0 .. 10^22: every one is exactly representable as a double. */
static const double pow10_exact[23] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * The exact decimal value of 2^1024 - 2^970, the midpoint between DBL_MAX
 * and 2^1024. A number whose magnitude is at least this rounds to infinity
 * (ties go to the even neighbour, 2^1024). 309 digits: its leading digit
 * has decimal exponent 308.
 */
static const char overflow_digits[] =
	"1797693134862315807937289714053034150799341327100378269361737789804449682927"
	"6475094664901797758720709633028641669288791094655554785194040263065748867150"
	"5820681908902000708383676273854845817711531764475730270069855571366959622842"
	"9148198608349364752927190741684443655107043427115596995080930428801779041744"
	"97792";

#define IS_DIGIT(c) ((unsigned)((unsigned char)(c) - '0') < 10u)

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && ws_map[(unsigned char)*p])
		p++;
	return p;
}

/*
 * RFC 3629 §4:
 *   UTF8-2 = %xC2-DF UTF8-tail
 *   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 *   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *            %xF4 %x80-8F 2( UTF8-tail )
 * Returns the length (2-4) of the valid sequence at p (p[0] >= 0x80), or 0.
 */
static inline size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t avail = (size_t)(end - p);
	if (c >= 0xC2 && c <= 0xDF)
		return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
				       (p[3] & 0xC0) == 0x80
			       ? 4
			       : 0;
	}
	return 0;
}

static inline unsigned hex4(const char *p)
{
	return (unsigned)hex_val[(unsigned char)p[0]] << 12 |
	       (unsigned)hex_val[(unsigned char)p[1]] << 8 |
	       (unsigned)hex_val[(unsigned char)p[2]] << 4 | (unsigned)hex_val[(unsigned char)p[3]];
}

static inline bool is_hex4(const char *p)
{
	return (hex_val[(unsigned char)p[0]] | hex_val[(unsigned char)p[1]] |
		hex_val[(unsigned char)p[2]] | hex_val[(unsigned char)p[3]]) < 16;
}

/* ------------------------------------------------------------------ */
/* Scanners shared by the parser and the validator                     */
/* ------------------------------------------------------------------ */

typedef struct scan_error {
	const char *at;
	const char *msg;
} scan_error;

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Does the word hold a byte that is '"', '\\', < 0x20 or >= 0x80? Exact as
 * a yes/no answer (the per-byte markers may be wrong above a true one). */
static inline bool word_special(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
	uint64_t t = ((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((bs - ONES) & ~bs) | w;
	return (t & HIGHS) != 0;
}

/*
 * p is just past an opening quote. Returns the closing quote, or NULL with
 * *e set. Validates escapes and UTF-8; sets *esc when the string has at
 * least one escape (and so needs decoding).
 */
static inline __attribute__((always_inline)) const char *
scan_string(const char *p, const char *end, bool *esc, scan_error *e)
{
	for (;;) {
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (word_special(w))
				break;
			p += 8;
		}
		while (p < end && str_class[(unsigned char)*p] == S_PLAIN)
			p++;
		if (HR_UNLIKELY(p == end)) {
			e->at = end;
			e->msg = "unterminated string";
			return NULL;
		}
		switch (str_class[(unsigned char)*p]) {
		case S_QUOTE:
			return p;
		case S_ESC:
			*esc = true;
			if (end - p < 2)
				goto eof;
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				break;
			case 'u':
				if (end - p < 6)
					goto eof;
				if (!is_hex4(p + 2)) {
					e->at = p;
					e->msg = "invalid \\u escape";
					return NULL;
				}
				p += 6;
				break;
			default:
				e->at = p;
				e->msg = "invalid escape";
				return NULL;
			}
			break;
		case S_CTRL:
			e->at = p;
			e->msg = "control character in string";
			return NULL;
		default: { /* S_HIGH */
			size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
			if (!n) {
				e->at = p;
				e->msg = "invalid UTF-8";
				return NULL;
			}
			p += n;
			break;
		}
		}
	}
eof:
	e->at = end;
	e->msg = "unterminated string";
	return NULL;
}

static inline size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Decodes the scanned (so valid) string body p[0..q) into out, which has
 * room for q - p bytes: no escape decodes to more bytes than it occupies.
 * Surrogates follow Go's decoder: a high surrogate escape directly
 * followed by a low one is a pair; any other surrogate escape becomes
 * U+FFFD and the escape after it is decoded on its own.
 */
static size_t decode_string(const char *p, const char *q, char *out)
{
	char *o = out;
	while (p < q) {
		const char *bs = memchr(p, '\\', (size_t)(q - p));
		if (!bs) {
			memcpy(o, p, (size_t)(q - p));
			o += q - p;
			break;
		}
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		p = bs + 1;
		char c = *p++;
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = hex4(p);
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDFFF) {
				unsigned lo;
				if (cp <= 0xDBFF && q - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
				    (lo = hex4(p + 2)) >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				} else {
					cp = 0xFFFD;
				}
			}
			o += utf8_put(o, cp);
			break;
		}
		default: /* '"', '\\', '/' */
			*o++ = c;
			break;
		}
	}
	return (size_t)(o - out);
}

/*
 * RFC 8259 §6:
 *   number = [ minus ] int [ frac ] [ exp ]
 *   int    = zero / ( digit1-9 *DIGIT )
 *   frac   = decimal-point 1*DIGIT
 *   exp    = e [ minus / plus ] 1*DIGIT
 */
typedef struct num {
	const char *ip;	 /* integer digits */
	size_t il;
	const char *fp;	 /* fraction digits (fl may be 0) */
	size_t fl;
	int64_t exp;	 /* exponent, saturated near +-10^9 */
	uint64_t w;	 /* the digits of int and frac as an integer, mod 2^64 */
	bool neg;
} num;

#define EXP_SAT 100000000

/* p is at '-' or a digit. Returns the end of the number or NULL with *e. */
static const char *scan_number(const char *p, const char *end, num *nm, scan_error *e)
{
	uint64_t w = 0;
	nm->neg = *p == '-';
	if (nm->neg)
		p++;
	nm->ip = p;
	if (p == end || !IS_DIGIT(*p))
		goto bad;
	if (*p == '0') {
		p++;
		if (p < end && IS_DIGIT(*p))
			goto bad; /* leading zero */
	} else {
		while (p < end && IS_DIGIT(*p))
			w = w * 10 + (unsigned)(*p++ - '0');
	}
	nm->il = (size_t)(p - nm->ip);
	nm->fp = p;
	nm->fl = 0;
	if (p < end && *p == '.') {
		nm->fp = ++p;
		if (p == end || !IS_DIGIT(*p))
			goto bad;
		while (p < end && IS_DIGIT(*p))
			w = w * 10 + (unsigned)(*p++ - '0');
		nm->fl = (size_t)(p - nm->fp);
	}
	nm->exp = 0;
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		bool eneg = false;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || !IS_DIGIT(*p))
			goto bad;
		int64_t x = 0;
		while (p < end && IS_DIGIT(*p)) {
			if (x < EXP_SAT)
				x = x * 10 + (*p - '0');
			p++;
		}
		nm->exp = eneg ? -x : x;
	}
	nm->w = w;
	return p;
bad:
	e->at = p;
	e->msg = p == end ? "unexpected end of input" : "invalid number";
	return NULL;
}

/*
 * Finds the first significant digit and its decimal exponent (the value
 * is d.ddd * 10^lead). Returns false when the number is zero.
 */
static bool num_lead(const num *nm, const char **first, int64_t *lead)
{
	if (nm->ip[0] != '0') {
		*first = nm->ip;
		*lead = (int64_t)nm->il - 1 + nm->exp;
		return true;
	}
	size_t z = 0;
	while (z < nm->fl && nm->fp[z] == '0')
		z++;
	if (z == nm->fl)
		return false;
	*first = nm->fp + z;
	*lead = nm->exp - (int64_t)z - 1;
	return true;
}

/* The end of the digits (past the fraction, or the int when none). */
static inline const char *num_digits_end(const num *nm)
{
	return nm->fl ? nm->fp + nm->fl : nm->ip + nm->il;
}

/* Does the number's magnitude round to infinity as a double? */
static bool num_overflows(const num *nm)
{
	const char *d;
	int64_t lead;
	if (HR_LIKELY(nm->exp < 300 && nm->il < 300))
		return false;
	if (!num_lead(nm, &d, &lead) || lead < 308)
		return false;
	if (lead > 308)
		return true;
	const char *end = num_digits_end(nm);
	for (size_t i = 0; i < sizeof overflow_digits - 1; i++) {
		while (d < end && *d == '.')
			d++;
		char c = d < end ? *d++ : '0';
		if (c != overflow_digits[i])
			return c > overflow_digits[i];
	}
	return true; /* equal to the midpoint (or above): ties go to 2^1024 */
}

#define MAX_SIG 780

/* The general conversion (the number is known not to overflow). */
static double num_slow(const num *nm)
{
	const char *d;
	int64_t lead;
	if (!num_lead(nm, &d, &lead) || lead < -400)
		return nm->neg ? -0.0 : 0.0;
	char buf[MAX_SIG + 32];
	size_t k = 0;
	const char *end = num_digits_end(nm);
	for (; d < end && k < MAX_SIG; d++)
		if (*d != '.')
			buf[k++] = *d;
	for (; d < end; d++)
		if (*d != '.' && *d != '0') {
			buf[k++] = '1'; /* sticky: something nonzero was cut */
			break;
		}
	int n = snprintf(buf + k, sizeof buf - k, "e%lld", (long long)(lead - (int64_t)(k - 1)));
	HR_ASSERT(n > 0 && (size_t)n < sizeof buf - k);
	double v = strtod(buf, NULL);
	return nm->neg ? -v : v;
}

static inline double num_value(const num *nm)
{
	if (HR_LIKELY(nm->il + nm->fl <= 19)) {
		if (nm->w == 0)
			return nm->neg ? -0.0 : 0.0;
		int64_t e10 = nm->exp - (int64_t)nm->fl;
		if (nm->w <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
			double v = (double)nm->w;
			v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
			return nm->neg ? -v : v;
		}
	}
	return num_slow(nm);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

typedef struct frame {
	hr_json *node;
	size_t start; /* index of the container's first child on its scratch stack */
} frame;

typedef struct parser {
	hr_arena *a;
	hr_json *slab, *slab_end; /* free nodes */
	size_t slab_next;	  /* nodes in the next slab */
	hr_json **items;	  /* scratch: children of open arrays */
	size_t nitems, citems;
	hr_json_member *mems; /* scratch: members of open objects */
	size_t nmems, cmems;
	frame *frames; /* open containers, outermost first */
	size_t nframes, cframes;
} parser;

#define DEDUP_PAIRWISE 64

static hr_json *new_node(parser *P, const char *p, const char *end)
{
	if (HR_UNLIKELY(P->slab == P->slab_end)) {
		/* Each further value needs at least two more bytes (itself and a
		 * separator), so never carve more than the input can use. */
		size_t k = P->slab_next, cap = (size_t)(end - p) / 2 + 2;
		if (k > cap)
			k = cap;
		hr_json *s = hr_arena_alloc(P->a, k * sizeof *s);
		if (!s)
			return NULL;
		P->slab = s;
		P->slab_end = s + k;
		if (P->slab_next < 1024)
			P->slab_next *= 2;
	}
	return P->slab++;
}

/* Moves a scratch stack to a twice larger arena block. */
static bool grow(parser *P, void **arr, size_t *cap, size_t elem)
{
	if (*cap > SIZE_MAX / 2 / elem)
		return false;
	void *p = hr_arena_alloc(P->a, *cap * 2 * elem);
	if (!p)
		return false;
	memcpy(p, *arr, *cap * elem);
	*arr = p;
	*cap *= 2;
	return true;
}

/* Bytewise order of keys (unsigned bytes; a prefix sorts first). The
 * first byte is compared inline: it settles most pairs without a call. */
static inline int key_cmp(hr_str a, hr_str b)
{
	if (a.len && b.len && a.ptr[0] != b.ptr[0])
		return (unsigned char)a.ptr[0] < (unsigned char)b.ptr[0] ? -1 : 1;
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	if (c)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

/* Order of member pointers: by key bytes, then by position. */
static inline bool mem_less(const hr_json_member *x, const hr_json_member *y)
{
	int c = key_cmp(x->key, y->key);
	return c < 0 || (c == 0 && x < y);
}

static void sift_down(const hr_json_member **v, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && mem_less(v[c], v[c + 1]))
			c++;
		if (!mem_less(v[i], v[c]))
			return;
		const hr_json_member *t = v[i];
		v[i] = v[c];
		v[c] = t;
		i = c;
	}
}

/* Sorts member pointers by (key, address): insertion sort when short,
 * heapsort otherwise (O(n log n) whatever the keys, no allocation). */
static void sort_members(const hr_json_member **v, size_t n)
{
	if (n <= 24) {
		for (size_t i = 1; i < n; i++) {
			const hr_json_member *x = v[i];
			size_t j = i;
			while (j > 0 && mem_less(x, v[j - 1])) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
		return;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t i = n; i-- > 1;) {
		const hr_json_member *t = v[0];
		v[0] = v[i];
		v[i] = t;
		sift_down(v, 0, i);
	}
}

/*
 * Removes repeated keys from m[0..n) (n >= 2): the first occurrence keeps
 * its place and takes the value of the last. Returns the new count, or
 * SIZE_MAX when the arena is exhausted (m is then unchanged).
 */
static inline uint32_t key_tag(hr_str k)
{
	const unsigned char *p = (const unsigned char *)k.ptr;
	if (!k.len)
		return 0;
	return (uint32_t)k.len ^ (uint32_t)p[0] << 8 ^ (uint32_t)p[k.len / 2] << 16 ^
	       (uint32_t)p[k.len - 1] << 24;
}

static size_t dedup(parser *P, hr_json_member *m, size_t n)
{
	if (n <= DEDUP_PAIRWISE) {
		/* Pairwise, on a tag of length and three bytes first: equal keys
		 * have equal tags, and a tag collision costs one memcmp. At most
		 * n^2/2 memcmps even when every tag collides. */
		uint32_t tag[DEDUP_PAIRWISE];
		size_t w = 1;
		tag[0] = key_tag(m[0].key);
		for (size_t i = 1; i < n; i++) {
			uint32_t t = key_tag(m[i].key);
			size_t j = 0;
			for (; j < w; j++)
				if (tag[j] == t && hr_str_eq(m[j].key, m[i].key))
					break;
			if (j < w) {
				m[j].value = m[i].value;
			} else {
				tag[w] = t;
				m[w++] = m[i];
			}
		}
		return w;
	}
	const hr_json_member **v = hr_arena_alloc(P->a, n * sizeof *v);
	if (!v)
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		v[i] = &m[i];
	sort_members(v, n);
	bool dup = false;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && hr_str_eq(v[j]->key, v[i]->key))
			j++;
		if (j - i > 1) {
			/* v[i] is the first occurrence, v[j-1] the last. */
			m[v[i] - m].value = v[j - 1]->value;
			for (size_t k = i + 1; k < j; k++)
				m[v[k] - m].value = NULL;
			dup = true;
		}
		i = j;
	}
	if (!dup)
		return n;
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (m[i].value)
			m[w++] = m[i];
	return w;
}

int hr_json_parse(hr_arena *a, const char *s, size_t n, unsigned max_depth, hr_json **out,
		  hr_json_error *err)
{
	hr_json *items_local[64];
	hr_json_member mems_local[32];
	frame frames_local[32];
	parser P = {
		.a = a,
		.slab_next = 16,
		.items = items_local,
		.citems = HR_ARRAY_LEN(items_local),
		.mems = mems_local,
		.cmems = HR_ARRAY_LEN(mems_local),
		.frames = frames_local,
		.cframes = HR_ARRAY_LEN(frames_local),
	};
	const char *p = s, *end = s + n;
	scan_error e = {NULL, NULL};
	int rc = HR_EPARSE;
	hr_json *v;
	bool esc;

	if (n == 0)
		p = end = s = "";

value:
	p = skip_ws(p, end);
	if (HR_UNLIKELY(p == end)) {
		e.at = p;
		e.msg = "unexpected end of input";
		goto fail;
	}
	switch (*p) {
	case '{':
	case '[':
		if (HR_UNLIKELY(P.nframes >= max_depth)) {
			e.at = p;
			e.msg = "nesting too deep";
			rc = HR_ELIMIT;
			goto fail;
		}
		if (!(v = new_node(&P, p, end)))
			goto nomem;
		if (P.nframes == P.cframes &&
		    !grow(&P, (void **)&P.frames, &P.cframes, sizeof *P.frames))
			goto nomem;
		if (*p == '[') {
			v->type = HR_JSON_ARRAY;
			v->u.arr.items = NULL;
			v->u.arr.len = 0;
			P.frames[P.nframes++] = (frame){v, P.nitems};
			p = skip_ws(p + 1, end);
			if (p < end && *p == ']') {
				p++;
				P.nframes--;
				goto have_value;
			}
			goto value;
		}
		v->type = HR_JSON_OBJECT;
		v->u.obj.members = NULL;
		v->u.obj.len = 0;
		P.frames[P.nframes++] = (frame){v, P.nmems};
		p = skip_ws(p + 1, end);
		if (p < end && *p == '}') {
			p++;
			P.nframes--;
			goto have_value;
		}
		goto key;
	case '"': {
		const char *q;
		esc = false;
		if (!(q = scan_string(p + 1, end, &esc, &e)))
			goto fail;
		if (!(v = new_node(&P, q, end)))
			goto nomem;
		v->type = HR_JSON_STRING;
		if (HR_LIKELY(!esc)) {
			v->u.str = hr_str_make(p + 1, (size_t)(q - p - 1));
		} else {
			char *o = hr_arena_alloc(a, (size_t)(q - p - 1));
			if (!o)
				goto nomem;
			v->u.str = hr_str_make(o, decode_string(p + 1, q, o));
		}
		p = q + 1;
		goto have_value;
	}
	case 't':
	case 'f':
	case 'n': {
		hr_json_type t;
		size_t len;
		if (end - p >= 4 && memcmp(p, "true", 4) == 0)
			t = HR_JSON_TRUE, len = 4;
		else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
			t = HR_JSON_FALSE, len = 5;
		else if (end - p >= 4 && memcmp(p, "null", 4) == 0)
			t = HR_JSON_NULL, len = 4;
		else {
			e.at = p;
			e.msg = "invalid literal";
			goto fail;
		}
		if (!(v = new_node(&P, p, end)))
			goto nomem;
		v->type = t;
		p += len;
		goto have_value;
	}
	default: {
		if (*p != '-' && !IS_DIGIT(*p)) {
			e.at = p;
			e.msg = p == s && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0
					? "byte order mark not allowed"
					: "unexpected character";
			goto fail;
		}
		num nm;
		const char *q = scan_number(p, end, &nm, &e);
		if (!q)
			goto fail;
		if (HR_UNLIKELY(num_overflows(&nm))) {
			e.at = p;
			e.msg = "number out of range";
			goto fail;
		}
		if (!(v = new_node(&P, q, end)))
			goto nomem;
		v->type = HR_JSON_NUMBER;
		v->u.n.num = num_value(&nm);
		v->u.n.raw = hr_str_make(p, (size_t)(q - p));
		p = q;
		goto have_value;
	}
	}

have_value:
	if (P.nframes == 0)
		goto done;
	{
		frame *f = &P.frames[P.nframes - 1];
		p = skip_ws(p, end);
		if (f->node->type == HR_JSON_ARRAY) {
			if (P.nitems == P.citems &&
			    !grow(&P, (void **)&P.items, &P.citems, sizeof *P.items))
				goto nomem;
			P.items[P.nitems++] = v;
			if (p < end && *p == ',') {
				p++;
				goto value;
			}
			if (p < end && *p == ']') {
				size_t cnt = P.nitems - f->start;
				hr_json **arr = hr_arena_alloc(a, cnt * sizeof *arr);
				if (!arr)
					goto nomem;
				memcpy(arr, P.items + f->start, cnt * sizeof *arr);
				f->node->u.arr.items = arr;
				f->node->u.arr.len = cnt;
				P.nitems = f->start;
				v = f->node;
				P.nframes--;
				p++;
				goto have_value;
			}
			e.at = p;
			e.msg = p == end ? "unexpected end of input" : "expected ',' or ']'";
			goto fail;
		}
		P.mems[P.nmems - 1].value = v;
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			goto key;
		}
		if (p < end && *p == '}') {
			size_t cnt = P.nmems - f->start;
			if (cnt > 1 && (cnt = dedup(&P, P.mems + f->start, cnt)) == SIZE_MAX)
				goto nomem;
			hr_json_member *m = hr_arena_alloc(a, cnt * sizeof *m);
			if (!m)
				goto nomem;
			memcpy(m, P.mems + f->start, cnt * sizeof *m);
			f->node->u.obj.members = m;
			f->node->u.obj.len = cnt;
			P.nmems = f->start;
			v = f->node;
			P.nframes--;
			p++;
			goto have_value;
		}
		e.at = p;
		e.msg = p == end ? "unexpected end of input" : "expected ',' or '}'";
		goto fail;
	}

key:
	/* p is past whitespace, at what must be a member's key. */
	if (HR_UNLIKELY(p == end || *p != '"')) {
		e.at = p;
		e.msg = p == end ? "unexpected end of input" : "expected string key";
		goto fail;
	}
	{
		const char *q;
		esc = false;
		if (!(q = scan_string(p + 1, end, &esc, &e)))
			goto fail;
		if (P.nmems == P.cmems && !grow(&P, (void **)&P.mems, &P.cmems, sizeof *P.mems))
			goto nomem;
		hr_json_member *m = &P.mems[P.nmems++];
		m->value = NULL;
		if (HR_LIKELY(!esc)) {
			m->key = hr_str_make(p + 1, (size_t)(q - p - 1));
		} else {
			char *o = hr_arena_alloc(a, (size_t)(q - p - 1));
			if (!o)
				goto nomem;
			m->key = hr_str_make(o, decode_string(p + 1, q, o));
		}
		p = skip_ws(q + 1, end);
		if (HR_UNLIKELY(p == end || *p != ':')) {
			e.at = p;
			e.msg = p == end ? "unexpected end of input" : "expected ':'";
			goto fail;
		}
		p++;
		goto value;
	}

done:
	p = skip_ws(p, end);
	if (p != end) {
		e.at = p;
		e.msg = "data after JSON value";
		goto fail;
	}
	*out = v;
	return 0;

nomem:
	e.at = p;
	e.msg = "out of memory";
	rc = HR_ENOMEM;
fail:
	if (err) {
		err->offset = (size_t)(e.at - s);
		err->message = e.msg;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Validator                                                           */
/* ------------------------------------------------------------------ */

bool hr_json_valid(const char *s, size_t n, unsigned max_depth)
{
	uint64_t kinds[HR_JSON_VALID_DEPTH_CAP / 64]; /* bit set: an object */
	size_t depth = 0, limit = max_depth < HR_JSON_VALID_DEPTH_CAP ? max_depth
								    : HR_JSON_VALID_DEPTH_CAP;
	const char *p = s, *end = s + n;
	scan_error e;
	bool esc;

	if (n == 0)
		return false;
value:
	p = skip_ws(p, end);
	if (p == end)
		return false;
	switch (*p) {
	case '[':
		if (depth >= limit)
			return false;
		kinds[depth >> 6] &= ~(1ull << (depth & 63));
		depth++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == ']') {
			p++;
			depth--;
			goto have_value;
		}
		goto value;
	case '{':
		if (depth >= limit)
			return false;
		kinds[depth >> 6] |= 1ull << (depth & 63);
		depth++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == '}') {
			p++;
			depth--;
			goto have_value;
		}
		goto key;
	case '"':
		if (!(p = scan_string(p + 1, end, &esc, &e)))
			return false;
		p++;
		goto have_value;
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			return false;
		p += 4;
		goto have_value;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			return false;
		p += 5;
		goto have_value;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			return false;
		p += 4;
		goto have_value;
	default: {
		if (*p != '-' && !IS_DIGIT(*p))
			return false;
		num nm;
		if (!(p = scan_number(p, end, &nm, &e)) || num_overflows(&nm))
			return false;
		goto have_value;
	}
	}

have_value:
	if (depth == 0)
		return skip_ws(p, end) == end;
	p = skip_ws(p, end);
	if (p == end)
		return false;
	{
		bool obj = kinds[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1;
		if (*p == ',') {
			p = skip_ws(p + 1, end);
			if (obj)
				goto key;
			goto value;
		}
		if (*p != (obj ? '}' : ']'))
			return false;
		p++;
		depth--;
		goto have_value;
	}

key:
	if (p == end || *p != '"')
		return false;
	if (!(p = scan_string(p + 1, end, &esc, &e)))
		return false;
	p = skip_ws(p + 1, end);
	if (p == end || *p != ':')
		return false;
	p++;
	goto value;
}

/* ------------------------------------------------------------------ */
/* Lookup and constructors                                             */
/* ------------------------------------------------------------------ */

hr_json *hr_json_get_str(const hr_json *obj, hr_str key)
{
	if (!obj || obj->type != HR_JSON_OBJECT)
		return NULL;
	const hr_json_member *m = obj->u.obj.members;
	for (size_t i = 0; i < obj->u.obj.len; i++)
		if (hr_str_eq(m[i].key, key))
			return m[i].value;
	return NULL;
}

hr_json *hr_json_get(const hr_json *obj, const char *key)
{
	return hr_json_get_str(obj, hr_str_make(key, strlen(key)));
}

static hr_json *new_in(hr_arena *a, hr_json_type t)
{
	hr_json *v = hr_arena_alloc(a, sizeof *v);
	if (v) {
		memset(v, 0, sizeof *v);
		v->type = t;
	}
	return v;
}

hr_json *hr_json_new_string(hr_arena *a, hr_str s)
{
	char *copy = hr_arena_dup(a, s.len ? s.ptr : "", s.len);
	hr_json *v = copy ? new_in(a, HR_JSON_STRING) : NULL;
	if (v)
		v->u.str = hr_str_make(copy, s.len);
	return v;
}

hr_json *hr_json_new_number(hr_arena *a, double x)
{
	hr_json *v = new_in(a, HR_JSON_NUMBER);
	if (v) {
		v->u.n.num = x;
		v->u.n.raw = HR_STR_NULL;
	}
	return v;
}

hr_json *hr_json_new_bool(hr_arena *a, bool b)
{
	return new_in(a, b ? HR_JSON_TRUE : HR_JSON_FALSE);
}

hr_json *hr_json_new_null(hr_arena *a)
{
	return new_in(a, HR_JSON_NULL);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/* Appends without a call when there is room (and no sticky error). */
static inline void put(hr_buf *b, const char *p, size_t n)
{
	if (HR_LIKELY(!b->err && b->cap - b->len > n)) {
		memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
	} else {
		hr_buf_append(b, p, n);
	}
}

static inline void put_char(hr_buf *b, char c)
{
	if (HR_LIKELY(!b->err && b->cap - b->len > 1)) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
	} else {
		hr_buf_append(b, &c, 1);
	}
}

static void set_err(hr_buf *b, int code)
{
	if (!b->err)
		b->err = code;
}

void hr_json_write_string(hr_buf *b, hr_str s)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s.ptr, *end = p + s.len;
	if (hr_buf_reserve(b, s.len + 2))
		return;
	put_char(b, '"');
	while (p < end) {
		const unsigned char *run = p;
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (word_special(w))
				break;
			p += 8;
		}
		while (p < end && esc_class[*p] == E_COPY)
			p++;
		if (p > run)
			put(b, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		if (esc_class[*p] == E_ESCAPE) {
			char e[6] = {'\\', 0, 0, 0, 0, 0};
			size_t len = 2;
			switch (*p) {
			case '"': e[1] = '"'; break;
			case '\\': e[1] = '\\'; break;
			case '\b': e[1] = 'b'; break;
			case '\f': e[1] = 'f'; break;
			case '\n': e[1] = 'n'; break;
			case '\r': e[1] = 'r'; break;
			case '\t': e[1] = 't'; break;
			default:
				e[1] = 'u';
				e[2] = '0';
				e[3] = '0';
				e[4] = hexd[*p >> 4];
				e[5] = hexd[*p & 15];
				len = 6;
			}
			put(b, e, len);
			p++;
			continue;
		}
		size_t n = utf8_len(p, end);
		if (n == 0) {
			put(b, "\\ufffd", 6);
			p++;
		} else if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] & 0xFE) == 0xA8) {
			put(b, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
			p += 3;
		} else {
			put(b, (const char *)p, n);
			p += n;
		}
	}
	put_char(b, '"');
}

/* Decimal digits of v (no leading zeros) into out; returns the count. */
static size_t u64_to_dec(uint64_t v, char *out)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/*
 * Lays out digits d[0..nd) (no leading or trailing zeros; value
 * d.ddd * 10^lead) the way Go's encoding/json does: 'e' format when
 * |v| < 1e-6 or |v| >= 1e21, 'f' otherwise. Returns the length.
 */
static size_t layout(char *o, bool neg, const char *d, size_t nd, int lead, bool exp_form)
{
	char *start = o;
	if (neg)
		*o++ = '-';
	if (exp_form) {
		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, d + 1, nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = lead < 0 ? '-' : '+';
		unsigned x = (unsigned)(lead < 0 ? -lead : lead);
		/* strconv writes at least two exponent digits; encoding/json then
		 * trims "e-07" to "e-7" (and never produces a small positive one). */
		if (x < 10 && lead >= 0)
			*o++ = '0';
		o += u64_to_dec(x, o);
		return (size_t)(o - start);
	}
	if (lead < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > lead; i--)
			*o++ = '0';
		memcpy(o, d, nd);
		o += nd;
	} else if ((size_t)lead + 1 >= nd) {
		memcpy(o, d, nd);
		o += nd;
		for (size_t i = nd; i < (size_t)lead + 1; i++)
			*o++ = '0';
	} else {
		memcpy(o, d, (size_t)lead + 1);
		o += lead + 1;
		*o++ = '.';
		memcpy(o, d + lead + 1, nd - (size_t)lead - 1);
		o += nd - (size_t)lead - 1;
	}
	return (size_t)(o - start);
}

/*
 * Reads the digits and exponent out of printf's "%.*e" text (locale-proof:
 * whatever sits between the first digit and the rest is skipped). Returns
 * the number of digits, trailing zeros kept.
 */
static size_t parse_e(const char *txt, char *d, int *lead)
{
	size_t nd = 0;
	const char *p = txt;
	while (*p && *p != 'e') {
		if (IS_DIGIT(*p))
			d[nd++] = *p;
		p++;
	}
	*lead = atoi(p + 1);
	return nd;
}

static inline size_t strip_zeros(const char *d, size_t nd)
{
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	return nd;
}

/* Does the decimal d[0..nd) * 10^(lead-nd+1) read back as exactly v? */
static bool reads_back(const char *d, size_t nd, int lead, double v, double *got)
{
	char buf[48];
	memcpy(buf, d, nd);
	snprintf(buf + nd, sizeof buf - nd, "e%d", lead - (int)nd + 1);
	*got = strtod(buf, NULL);
	return *got == v;
}

/* Adds one unit in the last place of d[0..nd) (carrying; 99 -> 100 becomes
 * "1" with lead + 1). Returns the new digit count, trailing zeros removed. */
static size_t digits_inc(char *d, size_t nd, int *lead)
{
	size_t i = nd;
	while (i > 0 && d[i - 1] == '9')
		d[--i] = '0';
	if (i == 0) {
		d[0] = '1';
		(*lead)++;
		return 1;
	}
	d[i - 1]++;
	return strip_zeros(d, nd);
}

/*
 * Rounds the correctly rounded 17 digits r17 to p < 17 digits into d (the
 * same as rounding the exact value, except when the dropped digits are
 * exactly "5000...", where the exact value may lie on either side: then
 * returns 0 and the caller asks printf). Returns the digit count.
 */
static size_t round17(const char *r17, int lead17, size_t p, char *d, int *lead)
{
	memcpy(d, r17, p);
	*lead = lead17;
	bool rest = false;
	for (size_t i = p + 1; i < 17; i++)
		rest |= r17[i] != '0';
	if (r17[p] == '5' && !rest)
		return 0;
	if (r17[p] < '5')
		return strip_zeros(d, p);
	return digits_inc(d, p, lead);
}

/* Shortest round-trip digits of av (finite, > 0). Returns nd; sets *lead. */
static size_t shortest(double av, char *d, int *lead)
{
	/* Path 2: a short decimal fraction m / 10^k. */
	if (av < 9007199254740992.0) {
		for (int k = 1; k <= 22; k++) {
			double t = av * pow10_exact[k];
			if (t >= 1125899906842624.0) /* 2^50 */
				break;
			if (t < 0.5)
				continue;
			double m = floor(t + 0.5);
			if (m / pow10_exact[k] == av) {
				size_t nd = u64_to_dec((uint64_t)m, d);
				*lead = (int)nd - 1 - k;
				return strip_zeros(d, nd);
			}
		}
	} else {
		/* Path 2 for big values: m * 10^j, largest j first (fewest
		 * digits). The same 2^50 bound keeps the candidate unique. */
		for (int j = 22; j >= 1; j--) {
			double t = av / pow10_exact[j];
			if (t < 0.5)
				continue;
			if (t >= 1125899906842624.0)
				break;
			double m = floor(t + 0.5);
			if (m * pow10_exact[j] == av) {
				size_t nd = u64_to_dec((uint64_t)m, d);
				*lead = (int)nd - 1 + j;
				return strip_zeros(d, nd);
			}
		}
	}
	/* Path 3: 17 correctly rounded digits from printf, shorter candidates
	 * derived from them. Subnormals have a fixed absolute spacing, so a
	 * short candidate can be far from av in relative terms: try every
	 * precision from 1 for them. */
	char txt[64], r17[24];
	int lead17;
	double got;
	snprintf(txt, sizeof txt, "%.16e", av);
	HR_ASSERT(parse_e(txt, r17, &lead17) == 17);
	for (size_t p = av < 2.2250738585072014e-308 ? 1 : 15; p <= 16; p++) {
		size_t nd = round17(r17, lead17, p, d, lead);
		if (nd == 0) {
			snprintf(txt, sizeof txt, "%.*e", (int)p - 1, av);
			nd = strip_zeros(d, parse_e(txt, d, lead));
		}
		if (reads_back(d, nd, *lead, av, &got))
			return nd;
		if (p == 16 && got < av) {
			/* Lopsided interval (av a power of two, the gap below
			 * half the gap above): the 16-digit neighbour above av
			 * may read back where the nearest one did not. */
			char u[24];
			int ul = *lead;
			memcpy(u, d, nd);
			memset(u + nd, '0', 16 - nd);
			size_t un = digits_inc(u, 16, &ul);
			if (reads_back(u, un, ul, av, &got)) {
				memcpy(d, u, un);
				*lead = ul;
				return un;
			}
		}
	}
	memcpy(d, r17, 17);
	*lead = lead17;
	return strip_zeros(d, 17);
}

void hr_json_write_number(hr_buf *b, double v)
{
	char out[48];
	if (!isfinite(v)) {
		put(b, "null", 4);
		return;
	}
	bool neg = signbit(v);
	double av = fabs(v);
	if (av < 9007199254740992.0 && av == floor(av)) {
		/* Path 1: an integer below 2^53 (includes 0 and -0). */
		size_t n = 0;
		if (neg)
			out[n++] = '-';
		n += u64_to_dec((uint64_t)av, out + n);
		put(b, out, n);
		return;
	}
	char d[24];
	int lead;
	size_t nd = shortest(av, d, &lead);
	put(b, out, layout(out, neg, d, nd, lead, av < 1e-6 || av >= 1e21));
}

/* ---- trees ---- */

#define NO_PERM SIZE_MAX

typedef struct wframe {
	const hr_json *node;
	size_t i;	 /* index of the child being written */
	size_t perm;	 /* offset of this object's order in the perm stack, or NO_PERM */
} wframe;

typedef struct writer {
	hr_buf *b;
	wframe *frames;
	size_t nframes, cframes;
	bool frames_heap;
	const hr_json_member **perm;
	size_t nperm, cperm;
	bool perm_heap;
} writer;

/* Grows a writer stack to hold `need` elements; malloc'd from then on. */
static bool wgrow(void **arr, size_t *cap, bool *heap, size_t elem, size_t need)
{
	size_t c = *cap;
	while (c < need) {
		if (c > SIZE_MAX / 4 / elem)
			return false;
		c *= 2;
	}
	void *p;
	if (*heap) {
		p = realloc(*arr, c * elem);
	} else {
		p = malloc(c * elem);
		if (p)
			memcpy(p, *arr, *cap * elem);
	}
	if (!p)
		return false;
	*arr = p;
	*cap = c;
	*heap = true;
	return true;
}

static bool keys_sorted(const hr_json *o)
{
	const hr_json_member *m = o->u.obj.members;
	for (size_t i = 1; i < o->u.obj.len; i++)
		if (key_cmp(m[i - 1].key, m[i].key) > 0)
			return false;
	return true;
}

static inline const hr_json_member *wmember(const writer *W, const wframe *f)
{
	if (f->perm == NO_PERM)
		return &f->node->u.obj.members[f->i];
	return W->perm[f->perm + f->i];
}

static void write_tree(hr_buf *b, const hr_json *root, bool sorted)
{
	wframe frames_local[32];
	const hr_json_member *perm_local[64];
	writer W = {
		.b = b,
		.frames = frames_local,
		.cframes = HR_ARRAY_LEN(frames_local),
		.perm = perm_local,
		.cperm = HR_ARRAY_LEN(perm_local),
	};
	const hr_json *v = root;
	for (;;) {
		if (!v) {
			put(b, "null", 4);
		} else {
			switch (v->type) {
			case HR_JSON_NULL:
				put(b, "null", 4);
				break;
			case HR_JSON_FALSE:
				put(b, "false", 5);
				break;
			case HR_JSON_TRUE:
				put(b, "true", 4);
				break;
			case HR_JSON_NUMBER:
				if (v->u.n.raw.len)
					put(b, v->u.n.raw.ptr, v->u.n.raw.len);
				else
					hr_json_write_number(b, v->u.n.num);
				break;
			case HR_JSON_STRING:
				hr_json_write_string(b, v->u.str);
				break;
			case HR_JSON_ARRAY:
			case HR_JSON_OBJECT: {
				bool arr = v->type == HR_JSON_ARRAY;
				size_t len = arr ? v->u.arr.len : v->u.obj.len;
				if (len == 0) {
					put(b, arr ? "[]" : "{}", 2);
					break;
				}
				if (b->err)
					goto out;
				if (W.nframes == W.cframes &&
				    !wgrow((void **)&W.frames, &W.cframes, &W.frames_heap,
					   sizeof *W.frames, W.nframes + 1))
					goto nomem;
				wframe *f = &W.frames[W.nframes++];
				f->node = v;
				f->i = 0;
				f->perm = NO_PERM;
				if (arr) {
					put_char(b, '[');
					v = v->u.arr.items[0];
					continue;
				}
				if (sorted && !keys_sorted(v)) {
					if (W.cperm - W.nperm < len &&
					    !wgrow((void **)&W.perm, &W.cperm, &W.perm_heap,
						   sizeof *W.perm, W.nperm + len))
						goto nomem;
					f->perm = W.nperm;
					for (size_t i = 0; i < len; i++)
						W.perm[W.nperm + i] = &v->u.obj.members[i];
					sort_members(W.perm + W.nperm, len);
					W.nperm += len;
				}
				put_char(b, '{');
				const hr_json_member *m = wmember(&W, f);
				hr_json_write_string(b, m->key);
				put_char(b, ':');
				v = m->value;
				continue;
			}
			default:
				hr_fatal("hr_json node with bad type %d", (int)v->type);
			}
		}
		/* v is written: close finished containers, move to the next child. */
		for (;;) {
			if (W.nframes == 0)
				goto out;
			wframe *f = &W.frames[W.nframes - 1];
			f->i++;
			if (f->node->type == HR_JSON_ARRAY) {
				if (f->i < f->node->u.arr.len) {
					put_char(b, ',');
					v = f->node->u.arr.items[f->i];
					break;
				}
				put_char(b, ']');
			} else {
				if (f->i < f->node->u.obj.len) {
					put_char(b, ',');
					const hr_json_member *m = wmember(&W, f);
					hr_json_write_string(b, m->key);
					put_char(b, ':');
					v = m->value;
					break;
				}
				put_char(b, '}');
				if (f->perm != NO_PERM)
					W.nperm = f->perm;
			}
			W.nframes--;
		}
	}
nomem:
	set_err(b, HR_ENOMEM);
out:
	if (W.frames_heap)
		free(W.frames);
	if (W.perm_heap)
		free(W.perm);
}

void hr_json_write(hr_buf *b, const hr_json *v)
{
	write_tree(b, v, false);
}

void hr_json_write_sorted(hr_buf *b, const hr_json *v)
{
	write_tree(b, v, true);
}


/* See json.h. Digits come from hr_json_write_number; an exponent form is
 * re-laid in plain notation. */
size_t hr_json_format_plain(double v, char *out)
{
	char tmp[64];
	hr_buf b;
	hr_buf_init(&b, 64);
	hr_json_write_number(&b, v);
	if (b.err || b.len >= sizeof tmp) {
		hr_buf_dispose(&b);
		return 0;
	}
	size_t n = b.len;
	memcpy(tmp, b.ptr, n);
	hr_buf_dispose(&b);
	const char *e = memchr(tmp, 'e', n);
	if (!e) {
		memcpy(out, tmp, n);
		return n;
	}
	/* [-]d[.ddd]e(+|-)XX */
	size_t i = 0, o = 0;
	if (tmp[0] == '-') {
		out[o++] = '-';
		i = 1;
	}
	char digits[24];
	size_t nd = 0;
	for (; tmp + i < e; i++)
		if (tmp[i] != '.' && nd < sizeof digits)
			digits[nd++] = tmp[i];
	/* Exponent: a sign and 1-3 digits ("e+21", "e-7", "e-324"). */
	const char *x = e + 1, *xend = tmp + n;
	bool xneg = x < xend && *x == '-';
	if (x < xend && (*x == '-' || *x == '+'))
		x++;
	long ex = 0;
	for (; x < xend && (unsigned)(*x - '0') < 10u && ex < 1000; x++)
		ex = ex * 10 + (*x - '0');
	if (xneg)
		ex = -ex;
	if (nd == 0 || x != xend || ex > 400 || ex < -400)
		return 0;
	if (ex >= 0) {
		/* d.ddd * 10^ex with ex >= 21 > nd - 1: digits then zeros. */
		size_t intlen = (size_t)ex + 1;
		if (intlen < nd || o + intlen > HR_JSON_PLAIN_MAX)
			return 0;
		memcpy(out + o, digits, nd);
		memset(out + o + nd, '0', intlen - nd);
		return o + intlen;
	}
	size_t zeros = (size_t)(-ex - 1);
	if (o + 2 + zeros + nd > HR_JSON_PLAIN_MAX)
		return 0;
	out[o++] = '0';
	out[o++] = '.';
	memset(out + o, '0', zeros);
	o += zeros;
	memcpy(out + o, digits, nd);
	return o + nd;
}

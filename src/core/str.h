/*
 * core/str.h - hr_str slices and the byte-level helpers every parser uses.
 *
 * A hr_str is a (ptr, len) view into memory somebody else owns: the read
 * buffer, an arena, a constant. It is never NUL-terminated by contract, so
 * nothing here calls str*() on one; comparisons take lengths.
 *
 * Integer parsing checks overflow before every digit (nginx's habit) and
 * accepts digits only: no sign, no whitespace, no base prefix.
 */
#ifndef HR_CORE_STR_H
#define HR_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct hr_str {
	const char *ptr;
	size_t len;
} hr_str;

#define HR_STR(lit) ((hr_str){(lit), sizeof(lit) - 1})
#define HR_STR_NULL ((hr_str){NULL, 0})

static inline hr_str hr_str_make(const char *p, size_t n)
{
	return (hr_str){p, n};
}

static inline bool hr_str_eq(hr_str a, hr_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool hr_str_eq_lit_(hr_str a, const char *lit, size_t n)
{
	return a.len == n && memcmp(a.ptr, lit, n) == 0;
}
#define hr_str_eq_lit(s, lit) hr_str_eq_lit_((s), (lit), sizeof(lit) - 1)

static inline unsigned char hr_lower(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c);
}

/* ASCII case-insensitive equality of two slices. */
bool hr_str_ieq(hr_str a, hr_str b);
#define hr_str_ieq_lit(s, lit) hr_str_ieq((s), HR_STR(lit))

/* ASCII case-insensitive: does s start with prefix? */
bool hr_str_istarts(hr_str s, hr_str prefix);

/* Trims SP and HTAB (RFC 9110 OWS) from both ends. */
hr_str hr_str_trim_ows(hr_str s);

/*
 * Parses s as a non-empty run of decimal digits into *out.
 * Returns 0, or HR_EPARSE (empty, non-digit) / HR_E2BIG (exceeds max).
 * *out is untouched on failure.
 */
int hr_str_to_u64(hr_str s, uint64_t max, uint64_t *out);

/* Same for hexadecimal digits (either case). */
int hr_str_hex_to_u64(hr_str s, uint64_t max, uint64_t *out);

/*
 * Finds the next comma-separated element of a header list value (RFC 9110
 * §5.6.1), skipping empty elements and OWS. *pos is the scan position in s;
 * returns false when the list is exhausted.
 */
bool hr_str_list_next(hr_str s, size_t *pos, hr_str *elem);

/* Does the comma-separated list s contain token (case-insensitively)? */
bool hr_str_list_has(hr_str s, hr_str token);

/*
 * Percent-decodes src into dst (which has room for src.len bytes).
 * Returns the decoded length, or -1 on a malformed escape. When
 * plus_is_space, '+' decodes to ' ' (form encoding).
 */
long hr_str_pct_decode(hr_str src, char *dst, bool plus_is_space);

/*
 * Byte classes shared by the HTTP parsers and anything else that reads
 * header syntax (cookies, multipart, content types). 1 = member.
 *
 * RFC 9110 §5.6.2:
 *   token  = 1*tchar
 *   tchar  = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *            "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *
 * RFC 9110 §5.5 (field-value bytes, including the interior whitespace of
 * field-content; obs-text is accepted as opaque data):
 *   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 *   field-vchar   = VCHAR / obs-text
 *   obs-text      = %x80-FF
 * so hr_str_field_map holds HTAB, SP, %x21-7E and %x80-FF; it excludes CR,
 * LF, NUL, every other control and DEL.
 */
extern const unsigned char hr_str_tchar_map[256];
extern const unsigned char hr_str_field_map[256];

/* Is s a non-empty RFC 9110 token? */
bool hr_str_is_token(hr_str s);

#endif

/*
 * core/json.h - a bounded JSON reader and the JSON writing helpers.
 *
 * READER. hr_json_parse() reads one JSON text (RFC 8259) into a tree of
 * hr_json nodes allocated in an arena, so a whole request body is released
 * with the request. It is strict: no comments, no trailing commas, no
 * leading zeros, no NaN/Infinity, no control characters in strings, valid
 * UTF-8 only (unpaired surrogate escapes are decoded to U+FFFD, as Go's
 * decoder does), and nothing but whitespace after the value. Depth is
 * bounded by the caller (the dialect accepts 10 000 levels, DIALECT.md
 * §1.2) and the parser is not recursive, so depth costs heap, not stack.
 * Object keys keep their order; a repeated key keeps its last value (Go's
 * map semantics) in the position of the first. Numbers keep their source
 * text as well as the double value, so integers beyond 2^53 can be
 * re-emitted as sent where that matters. A number whose magnitude rounds
 * past the largest double (1e309, ...) is refused as Go's decoder refuses
 * it; one that underflows reads as (signed) zero, as in Go.
 *
 * Two deliberate differences from Go's decoder: invalid UTF-8 inside a
 * string is refused (Go replaces it with U+FFFD), and anything after the
 * value is refused (the dialect allows that tightening, DIALECT.md §1.2).
 * A UTF-8 byte order mark is refused too (it is not JSON; Go refuses it).
 *
 * MEMORY. The tree BORROWS the input: a string or key without escapes,
 * and every number's raw text, are slices of s[0..n). Only strings that
 * contained escapes are decoded into the arena. So s must stay valid and
 * unchanged for as long as the tree is used (a request body does: it
 * lives as long as the request's arena). Copy what you keep longer.
 *
 * WRITER. Helpers that append JSON to an hr_buf: escaped strings, numbers
 * in the shortest form that reads back to the same double (with Go's
 * float formatting rules, which the dialect's wire format follows,
 * DIALECT.md §1.6), and whole trees. Building objects and arrays is left
 * to the caller, which knows its commas. Writers report failure through
 * the buffer's sticky b->err (HR_ELIMIT, HR_ENOMEM) and return nothing.
 *
 * String escaping follows Go 1.22+'s encoding/json byte for byte:
 * \" \\ \b \f \n \r \t as short escapes, other control bytes as \u00xx
 * (lowercase hex), U+2028 and U+2029 as \u2028 and \u2029, each byte of
 * invalid UTF-8 as \ufffd. One exception, chosen: < > & are written
 * as-is. Upstream (PocketBase's router, json.NewEncoder without
 * SetEscapeHTML(false)) writes them as \u003c \u003e \u0026; both forms
 * decode to the same string for every JSON client, our responses are
 * application/json with nosniff, and templates escape on their own.
 *
 * Any thread, as long as each arena and buffer has one user at a time.
 */
#ifndef HR_CORE_JSON_H
#define HR_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

typedef enum hr_json_type {
	HR_JSON_NULL = 0,
	HR_JSON_FALSE,
	HR_JSON_TRUE,
	HR_JSON_NUMBER,
	HR_JSON_STRING,
	HR_JSON_ARRAY,
	HR_JSON_OBJECT,
} hr_json_type;

typedef struct hr_json hr_json;

typedef struct hr_json_member {
	hr_str key; /* decoded; borrows the input unless it had escapes */
	hr_json *value;
} hr_json_member;

struct hr_json {
	hr_json_type type;
	union {
		struct {
			double num;
			hr_str raw; /* the number as written in the source (borrowed);
				     * empty for hr_json_new_number() */
		} n;
		hr_str str;	 /* decoded string (may contain NUL bytes); borrows
				  * the input unless it had escapes */
		struct {
			hr_json **items;
			size_t len;
		} arr;
		struct {
			hr_json_member *members;
			size_t len;
		} obj;
	} u;
};

typedef struct hr_json_error {
	size_t offset;	     /* byte offset of the problem in the input */
	const char *message; /* static English text, e.g. "unexpected character" */
} hr_json_error;

/*
 * Parses s[0..n) into *out. Nodes, arrays and decoded strings are in the
 * arena; the tree borrows s (see MEMORY above). max_depth bounds nesting:
 * the outermost array/object is level 1 (a scalar is level 0), so
 * max_depth 10000 accepts 10 000 levels and refuses 10 001.
 *
 * Returns 0, or HR_EPARSE (malformed input), HR_ELIMIT (deeper than
 * max_depth), HR_ENOMEM (arena exhausted). On failure *out is untouched
 * and, when err is not NULL, *err holds the offset of the first offending
 * byte (n when the input ends too early) and a static message:
 *   "unexpected end of input", "unexpected character",
 *   "byte order mark not allowed", "invalid literal", "invalid number",
 *   "number out of range", "unterminated string", "invalid escape",
 *   "invalid \\u escape", "control character in string", "invalid UTF-8",
 *   "expected ',' or ']'", "expected ',' or '}'", "expected string key",
 *   "expected ':'", "data after JSON value", "nesting too deep" (HR_ELIMIT),
 *   "out of memory" (HR_ENOMEM).
 * Arena memory used by a failed parse stays allocated until reset.
 * Not recursive: depth costs arena memory (a few dozen bytes a level),
 * not stack. Any thread.
 */
int hr_json_parse(hr_arena *a, const char *s, size_t n, unsigned max_depth, hr_json **out,
		  hr_json_error *err);

/* Member lookup (exact key); NULL when absent or obj is not an object. */
hr_json *hr_json_get(const hr_json *obj, const char *key);
hr_json *hr_json_get_str(const hr_json *obj, hr_str key);

/* Convenience constructors in an arena (NULL on OOM). hr_json_new_string
 * copies s into the arena; a number made here has no raw text, so writers
 * format its value. */
hr_json *hr_json_new_string(hr_arena *a, hr_str s);
hr_json *hr_json_new_number(hr_arena *a, double v);
hr_json *hr_json_new_bool(hr_arena *a, bool v);
hr_json *hr_json_new_null(hr_arena *a);

/* ---- writing ---- */

/* Appends s as a JSON string literal, quotes included, escaped as
 * described at the top: Go's escapes, each invalid UTF-8 byte as \ufffd,
 * U+2028/U+2029 escaped, <, >, & written as-is. Never writes a raw
 * control byte, so the output is valid JSON for any input bytes. */
void hr_json_write_string(hr_buf *b, hr_str s);

/*
 * Appends v the way Go's encoding/json writes a float64: shortest
 * round-trip digits; plain notation for 1e-6 <= |v| < 1e21, otherwise
 * exponent notation with at least two exponent digits trimmed of a
 * leading zero ("1e+21", "1e-07" -> "1e-7"); integers without ".0";
 * -0 as "-0". NaN and infinities are not JSON: they are written as null.
 */
void hr_json_write_number(hr_buf *b, double v);

/*
 * Writes v as Go's strconv.FormatFloat(v, 'f', -1, 64) does - the shortest
 * round-trip digits, always in plain notation ("1e21" ->
 * "1000000000000000000000") - into out, which has room for
 * HR_JSON_PLAIN_MAX + 16 bytes. Returns the length, or 0 when it does not
 * fit (NaN, infinities). Upstream uses this form when it turns numbers into
 * text (form values, text fields).
 */
#define HR_JSON_PLAIN_MAX 330 /* "-0." + 323 zeros + "5" for -5e-324 */
size_t hr_json_format_plain(double v, char *out);

/* Appends a whole tree compactly (object members in stored order; numbers
 * re-emitted from their source text when they have one, else formatted as
 * hr_json_write_number does; a NULL node is written as null). Not
 * recursive; deep trees use a malloc'd stack (HR_ENOMEM in b->err if that
 * fails). */
void hr_json_write(hr_buf *b, const hr_json *v);

/* Appends a tree with object keys sorted bytewise at every level (equal
 * keys, which a parsed tree never has, keep their order). The tree is not
 * modified. */
void hr_json_write_sorted(hr_buf *b, const hr_json *v);

/*
 * Is s[0..n) valid JSON? Exactly the inputs hr_json_parse() accepts with
 * the same max_depth (given memory). Never allocates: open containers are
 * tracked in a bit stack on the C stack (HR_JSON_VALID_DEPTH_CAP / 8
 * bytes), so a max_depth above HR_JSON_VALID_DEPTH_CAP acts as that cap.
 * Any thread.
 */
#define HR_JSON_VALID_DEPTH_CAP 32768u
bool hr_json_valid(const char *s, size_t n, unsigned max_depth);

#endif

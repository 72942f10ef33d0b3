/*
 * api/fields.h - the `fields` query parameter (DIALECT.md §9.2): keeps only
 * the listed keys of a 2xx JSON response, with nested selections ("a.b"),
 * "*" for all keys of a level, and the ":excerpt(max[,withEllipsis])"
 * modifier that turns an HTML string into plain text.
 *
 * It works on the finished response: parse, select, write. For list
 * envelopes (an object with an "items" array and a "page" key and no keys
 * besides items/page/perPage/totalItems/totalPages) the selection applies
 * to each item and the other envelope keys are always kept; arrays of
 * objects apply the selection to each element.
 */
#ifndef HR_API_FIELDS_H
#define HR_API_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

#define HR_FIELDS_MAX_ENTRIES 1000	  /* comma-separated entries in a spec */
#define HR_FIELDS_MAX_DEPTH 64	  /* segments in one dotted path */
#define HR_FIELDS_MAX_EXCERPT 1000000000 /* largest excerpt max */

/* A parsed spec: read-only once parsed, usable for any number of
 * documents (apply never changes it). Lives in the parse arena. */
typedef struct hr_fields hr_fields;

/*
 * Parses a fields specification. Returns 0 with *out (NULL when the spec is
 * empty: keep everything), or HR_EPARSE with *why (unknown modifier, bad
 * excerpt arguments...).
 *
 * Grammar and decisions are in fields.c's header comment. An "empty" spec
 * is one without a non-blank entry (" , "). Errors: HR_EPARSE for an
 * unbalanced parenthesis or quote, a modifier other than
 * excerpt(max[,withEllipsis]) with 0 < max <= HR_FIELDS_MAX_EXCERPT and a
 * strconv.ParseBool withEllipsis, more than HR_FIELDS_MAX_ENTRIES entries
 * or a path deeper than HR_FIELDS_MAX_DEPTH; HR_ENOMEM. *why (when why is
 * not NULL) is a static sentence fit for a 400 message. *out is untouched
 * on failure. The spec is borrowed: it must outlive the result.
 */
int hr_fields_parse(hr_arena *a, hr_str spec, hr_fields **out, const char **why);

/*
 * Writes json reduced by f (f NULL: json as is), appending to out. Member
 * order is the input's. Failures (HR_ELIMIT, HR_ENOMEM) are reported
 * through out->err, as the JSON writers do. Excerpts are built in a.
 * Recursion is bounded by the spec's depth; the document may be as deep
 * as hr_json_parse allows.
 */
void hr_fields_apply(hr_arena *a, const hr_fields *f, const hr_json *json, hr_buf *out);

/*
 * The plain-text excerpt of an HTML string (exposed for tests): at most
 * max code points, "..." appended when cut and ellipsis. The result lives
 * in a (about html.len + 8 bytes); ptr is NULL when the arena is
 * exhausted. Never recursive; linear in html.len.
 */
hr_str hr_fields_excerpt(hr_arena *a, hr_str html, size_t max, bool ellipsis);

#endif

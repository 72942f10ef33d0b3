/*
 * http/form.h - request bodies in form encodings: multipart/form-data
 * (RFC 7578) and application/x-www-form-urlencoded.
 *
 * Pure parsers in the style of parser.h: bytes and limits in, slices out,
 * no I/O. Multipart parts point into the body buffer (no copy); urlencoded
 * names and values are percent-decoded into the arena. Both are bounded by
 * a maximum number of parts and refuse anything malformed rather than
 * guessing: a missing or over-long boundary, a part without a
 * Content-Disposition form-data name, a missing closing delimiter, header
 * lines that are not CRLF-terminated, more than max_parts parts.
 * form.c's header comment has the grammar and every decision.
 *
 * Pure functions of their arguments; any thread.
 */
#ifndef HR_HTTP_FORM_H
#define HR_HTTP_FORM_H

#include <stddef.h>

#include "core/arena.h"
#include "core/str.h"

#define HR_FORM_MAX_BOUNDARY 70	    /* RFC 2046 §5.1.1 */
#define HR_FORM_MAX_PART_HEADERS 64 /* header lines in one part */
#define HR_FORM_MAX_PART_HEAD 16384 /* bytes of one part's header block */

/*
 * One form value or file. Empty slices have a non-NULL ptr. For multipart,
 * name/filename are the parameter values with quoted-string escapes
 * removed (never percent-decoded); they borrow the body unless an escape
 * (or filename*) made a copy in the arena. data and content_type borrow
 * the body.
 */
typedef struct hr_form_part {
	hr_str name;	     /* form field name (decoded for urlencoded; as sent for multipart) */
	hr_str filename;     /* multipart: filename parameter (filename* wins when
			      * it decodes), empty if none or sent empty */
	hr_str content_type; /* multipart: the part's Content-Type, empty if none */
	hr_str data;	     /* the value / file bytes */
	int is_file;	     /* multipart: a filename parameter was present (even
			      * an empty one: deciding what that means is the
			      * caller's business; body.c treats it as text) */
} hr_form_part;

/*
 * Extracts the boundary parameter from a multipart/form-data Content-Type
 * (quoted or not; 1..70 characters per RFC 2046). Returns 0 or HR_EPARSE.
 * The media type must be multipart/form-data (case-insensitive); the
 * parameter list must be well-formed; the boundary must consist of RFC
 * 2046 bchars, not end in a space, appear once, and (when quoted) hold no
 * backslash. *boundary is a slice of content_type; untouched on failure.
 */
int hr_multipart_boundary(hr_str content_type, hr_str *boundary);

/*
 * Parses a multipart body. parts is an arena array of at most max_parts.
 * Returns 0 with *out and *n, HR_EPARSE (malformed; *why set), HR_ELIMIT (too
 * many parts), or HR_ENOMEM.
 * HR_ELIMIT also covers a part header block over HR_FORM_MAX_PART_HEAD
 * bytes or HR_FORM_MAX_PART_HEADERS lines. *why (when why is not NULL) is
 * set on every failure to a static English phrase. Zero parts ("--B--")
 * is success with *n = 0. On failure *out and *n are untouched; arena
 * memory already used stays until reset.
 */
int hr_multipart_parse(hr_arena *a, hr_str body, hr_str boundary, unsigned max_parts,
		       hr_form_part **out, unsigned *n, const char **why);

/*
 * Parses an application/x-www-form-urlencoded body ('+' is a space):
 * '&'-separated pairs, empty pairs skipped, a pair without '=' has an
 * empty value. Names and values are percent-decoded into the arena.
 * Returns 0 with *out and *n, HR_EPARSE (malformed %-escape, or a raw ';' as
 * Go refuses it; *why set), HR_ELIMIT (more than max_parts pairs) or
 * HR_ENOMEM. Untouched outputs on failure, as above.
 */
int hr_urlencoded_parse(hr_arena *a, hr_str body, unsigned max_parts, hr_form_part **out,
			unsigned *n, const char **why);

#endif

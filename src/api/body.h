/*
 * api/body.h - reading request bodies the way the dialect does
 * (DIALECT.md §1.2): JSON, multipart/form-data and urlencoded forms into one
 * JSON object, with form value inference and @jsonPayload merging; uploaded
 * files are returned beside it. body.c's header comment has the decisions.
 *
 * MEMORY: everything is in the arena and BORROWS the body (JSON trees,
 * form strings, file bytes), so the body must outlive the result; a
 * request body lives as long as the request's arena. Any thread.
 */
#ifndef HR_API_BODY_H
#define HR_API_BODY_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/str.h"
#include "http/form.h"

#define HR_BODY_MAX_PARTS 1000	 /* multipart parts (Go's ReadForm default) */
#define HR_BODY_MAX_PAIRS 10000 /* urlencoded pairs */

typedef struct hr_body_file {
	hr_str field;	 /* the part name (may carry a modifier: "docs+") */
	hr_str filename; /* as sent (non-empty; quoted-string escapes removed;
			  * no path stripping: Go's Part.FileName() would
			  * apply filepath.Base, names are normalised later) */
	hr_str content_type;
	hr_str data;
} hr_body_file;

typedef struct hr_body {
	hr_json *obj;	     /* always an object (empty for an empty body) */
	hr_body_file *files; /* parts with a non-empty filename, in body order */
	unsigned nfiles;
} hr_body;

enum hr_body_status {
	HR_BODY_OK = 0,
	HR_BODY_BAD_JSON,	 /* malformed JSON, or not an object */
	HR_BODY_TOO_DEEP,	 /* nesting over max_depth */
	HR_BODY_BAD_FORM,	 /* malformed multipart/urlencoded */
	HR_BODY_UNSUPPORTED,	 /* another Content-Type with a non-empty body */
	HR_BODY_NOMEM,
};

/*
 * Reads body according to content_type. An empty body (any type) gives an
 * empty object. Form values are inferred (§1.2: "true"/"false", canonical
 * numbers; repeated keys become arrays); "@jsonPayload" parts are JSON
 * objects merged on top, in order. max_depth applies to JSON (10000 per the
 * dialect). Returns enum hr_body_status.
 *
 * content_type is matched by case-insensitive prefix (parameters play no
 * part except multipart's boundary): application/json,
 * multipart/form-data, application/x-www-form-urlencoded; anything else
 * with a non-empty body is HR_BODY_UNSUPPORTED (XML included). JSON that
 * is not an object, and an @jsonPayload that is not one, are
 * HR_BODY_BAD_JSON; nesting past max_depth (in either) HR_BODY_TOO_DEEP.
 * Object key order: first appearance; payload keys replace in place or are
 * appended. *out is written only on HR_BODY_OK.
 */
int hr_body_read(hr_arena *a, hr_str content_type, hr_str body, unsigned max_depth, hr_body *out);

/*
 * Form value inference for one text value (exposed for tests): "true" and
 * "false" become booleans, a canonical number (§1.2; "12", "-1.5", not
 * "012", "1.0", "1e3") a number, anything else a string node that BORROWS
 * value. NULL on arena exhaustion.
 */
hr_json *hr_body_infer(hr_arena *a, hr_str value);

#endif

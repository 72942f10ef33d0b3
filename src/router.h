/*
 * router.h - method + path pattern -> handler, with named parameters.
 *
 * Patterns are paths of literal segments, "{name}" segments (exactly one
 * non-empty segment) and a final "{name...}" that takes the rest of the
 * path (possibly empty). Routes compile into a segment trie; matching
 * walks it once, trying literal children before the parameter child and
 * the parameter before the catch-all, backtracking only when a branch
 * fails deeper down. Matching does not allocate: parameter values are
 * percent-decoded into a scratch buffer the caller provides (at least
 * path.len bytes), and literal segments are compared after decoding
 * (DIALECT.md §1.1: "Path segments are URL-decoded before lookup"). A
 * trailing slash is significant.
 *
 * The trie is built before the server starts and read-only afterwards, so
 * every worker thread may match concurrently.
 */
#ifndef HR_ROUTER_H
#define HR_ROUTER_H

#include <stdbool.h>

#include "core/str.h"

#define HR_ROUTER_MAX_PARAMS 8
#define HR_ROUTER_MAX_DEPTH 64

typedef struct hr_router hr_router;

typedef struct hr_route_match {
	void *fn, *ud;
	unsigned nparams;
	hr_str names[HR_ROUTER_MAX_PARAMS];
	hr_str values[HR_ROUTER_MAX_PARAMS]; /* decoded, in the scratch buffer */
	char allow[128]; /* when the path matched but not the method: "GET, HEAD, POST" */
} hr_route_match;

hr_router *hr_router_new(void);
void hr_router_free(hr_router *r);

/*
 * Adds a route. method is an HTTP method token. Returns 0, HR_EEXIST for a
 * duplicate method+pattern, HR_EINVAL for a malformed pattern (not starting
 * with '/', empty or unterminated "{...}", "{x...}" not last, more than
 * HR_ROUTER_MAX_PARAMS parameters, two parameter names at one position).
 */
int hr_router_add(hr_router *r, const char *method, const char *pattern, void *fn, void *ud);

/*
 * Matches method (id from hr_http_method_id, and the token itself) and a
 * raw path. Returns 0 with m filled; HR_ENOENT when no route has this path
 * (404); HR_ESTATE when routes have the path but not the method (405,
 * m->allow lists them); HR_EPARSE for a malformed percent-escape (400).
 * HEAD falls back to GET.
 */
int hr_router_match(const hr_router *r, int method_id, hr_str method, hr_str path, char *scratch,
		    hr_route_match *m);

#endif

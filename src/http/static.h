/*
 * http/static.h - static files from the --public folder at "/".
 *
 * hr_static_root is process-wide and immutable after creation: the root
 * directory's file descriptor and options. hr_static_cache is per worker:
 * recently served files with their metadata and, for small files, their
 * bytes (and gzip form), revalidated against the file system at most once
 * per second. See static.c for the path-safety rules and HTTP semantics.
 */
#ifndef HR_HTTP_STATIC_H
#define HR_HTTP_STATIC_H

#include <stddef.h>

#include "hearth.h"

typedef struct hr_static_root hr_static_root;
typedef struct hr_static_cache hr_static_cache;

/*
 * Opens dir as the root. max_age is the Cache-Control max-age in seconds
 * (0: "no-cache"). Returns 0 and *out, or a negative errno code.
 */
int hr_static_root_new(const char *dir, unsigned max_age, hr_static_root **out);
void hr_static_root_free(hr_static_root *root);

/* A per-worker cache over root (borrowed) holding at most max_bytes of file data. */
hr_static_cache *hr_static_cache_new(const hr_static_root *root, size_t max_bytes);
void hr_static_cache_free(hr_static_cache *c);

/*
 * Answers req (GET or HEAD; other methods get 405) from the root:
 * 200/206/301/304/400/404/405/416. Worker thread.
 */
void hr_static_serve(hr_static_cache *c, hearth_req *req);

#endif

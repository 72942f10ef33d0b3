/*
 * records/verr.c - see verr.h. Writing sorts the entries by path segment by
 * segment and emits the tree in one pass over the sorted array.
 */
#include "records/verr.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/json.h"

void hr_verrs_init(hr_verrs *e, hr_arena *a)
{
	memset(e, 0, sizeof *e);
	e->a = a;
}

bool hr_verrs_has(const hr_verrs *e, hr_str path)
{
	for (unsigned i = 0; i < e->n; i++)
		if (hr_str_eq(e->v[i].path, path))
			return true;
	return false;
}

static hr_verr *slot(hr_verrs *e, hr_str path)
{
	if (hr_verrs_has(e, path))
		return NULL;
	if (e->n == e->cap) {
		unsigned cap = e->cap ? e->cap * 2 : 8;
		hr_verr *v = hr_arena_alloc(e->a, cap * sizeof *v);
		if (!v)
			return NULL;
		if (e->n)
			memcpy(v, e->v, e->n * sizeof *v);
		e->v = v;
		e->cap = cap;
	}
	hr_verr *r = &e->v[e->n++];
	memset(r, 0, sizeof *r);
	char *p = hr_arena_dup(e->a, path.ptr, path.len);
	r->path = p ? hr_str_make(p, path.len) : HR_STR("");
	return r;
}

static hr_str dup_c(hr_arena *a, const char *s)
{
	if (!s)
		return HR_STR("");
	size_t n = strlen(s);
	char *p = hr_arena_dup(a, s, n);
	return p ? hr_str_make(p, n) : HR_STR("");
}

void hr_verrs_add(hr_verrs *e, hr_str path, const char *code, const char *message,
		  const char *params_json)
{
	hr_verr *r = slot(e, path);
	if (!r)
		return;
	r->code = dup_c(e->a, code);
	r->message = dup_c(e->a, message);
	r->params = dup_c(e->a, params_json);
}

void hr_verrs_addf(hr_verrs *e, hr_str prefix, hr_str key, const char *code, const char *message,
		   const char *params_json)
{
	char *p = prefix.len ? hr_arena_printf(e->a, "%.*s.%.*s", (int)prefix.len, prefix.ptr,
					       (int)key.len, key.ptr)
			     : hr_arena_dup(e->a, key.ptr, key.len);
	if (!p)
		return;
	hr_verrs_add(e, hr_str_make(p, strlen(p)), code, message, params_json);
}

void hr_verrs_add_raw(hr_verrs *e, hr_str path, hr_str json)
{
	hr_verr *r = slot(e, path);
	if (!r)
		return;
	char *p = hr_arena_dup(e->a, json.ptr, json.len);
	r->raw = p ? hr_str_make(p, json.len) : HR_STR("{}");
}

/* The segment of path starting at *off; advances *off past it and the dot. */
static hr_str segment(hr_str path, size_t off)
{
	size_t i = off;
	while (i < path.len && path.ptr[i] != '.')
		i++;
	return hr_str_make(path.ptr + off, i - off);
}

static int cmp_paths(const void *a, const void *b)
{
	const hr_verr *x = a, *y = b;
	size_t i = 0, j = 0;
	for (;;) {
		hr_str sx = segment(x->path, i), sy = segment(y->path, j);
		size_t n = HR_MIN(sx.len, sy.len);
		int c = memcmp(sx.ptr, sy.ptr, n);
		if (c)
			return c;
		if (sx.len != sy.len)
			return sx.len < sy.len ? -1 : 1;
		i += sx.len + 1;
		j += sy.len + 1;
		bool xe = i > x->path.len, ye = j > y->path.len;
		if (xe || ye)
			return xe == ye ? 0 : xe ? -1 : 1;
	}
}

static void write_leaf(hr_buf *b, const hr_verr *r)
{
	if (r->raw.ptr) {
		hr_buf_append_str(b, r->raw);
		return;
	}
	hr_buf_append_cstr(b, "{\"code\":");
	hr_json_write_string(b, r->code);
	hr_buf_append_cstr(b, ",\"message\":");
	hr_json_write_string(b, r->message);
	if (r->params.len) {
		hr_buf_append_cstr(b, ",\"params\":");
		hr_buf_append_str(b, r->params);
	}
	hr_buf_append_char(b, '}');
}

/* Writes entries v[lo..hi), which share their first `off` path bytes, as an object. */
static void write_level(hr_buf *b, const hr_verr *v, unsigned lo, unsigned hi, size_t off)
{
	hr_buf_append_char(b, '{');
	unsigned i = lo;
	bool first = true;
	while (i < hi) {
		hr_str seg = segment(v[i].path, off);
		unsigned j = i + 1;
		while (j < hi && hr_str_eq(segment(v[j].path, off), seg))
			j++;
		if (!first)
			hr_buf_append_char(b, ',');
		first = false;
		hr_json_write_string(b, seg);
		hr_buf_append_char(b, ':');
		size_t next = off + seg.len + 1;
		if (v[i].path.len < next) {
			write_leaf(b, &v[i]); /* a leaf shadows deeper entries */
		} else {
			write_level(b, v, i, j, next);
		}
		i = j;
	}
	hr_buf_append_char(b, '}');
}

void hr_verrs_write(const hr_verrs *e, hr_buf *b)
{
	if (e->n == 0) {
		hr_buf_append_cstr(b, "{}");
		return;
	}
	hr_verr *v = malloc(e->n * sizeof *v);
	if (!v) {
		hr_buf_append_cstr(b, "{}");
		return;
	}
	memcpy(v, e->v, e->n * sizeof *v);
	qsort(v, e->n, sizeof *v, cmp_paths);
	write_level(b, v, 0, e->n, 0);
	free(v);
}

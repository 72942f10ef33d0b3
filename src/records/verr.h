/*
 * records/verr.h - validation errors in the dialect's shape (DIALECT.md
 * §2.2): a map from input key to {code, message[, params]}, nested by
 * dotted paths ("fields.2.name" -> {"fields":{"2":{"name":{...}}}}).
 *
 * Errors are collected while validating and written once; keys at each
 * level come out in byte order, as upstream emits them. The first error
 * added for a path wins (a key reports its first failing check). All
 * memory is from the caller's arena.
 */
#ifndef HR_RECORDS_VERR_H
#define HR_RECORDS_VERR_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

typedef struct hr_verr {
	hr_str path;   /* dotted */
	hr_str code;
	hr_str message; /* already formatted and sentence-cased */
	hr_str params; /* a JSON object text, or empty */
	hr_str raw;    /* when set: written verbatim instead of {code,message} */
} hr_verr;

typedef struct hr_verrs {
	hr_arena *a;
	hr_verr *v;
	unsigned n, cap;
} hr_verrs;

void hr_verrs_init(hr_verrs *e, hr_arena *a);

/* Adds an error unless path already has one. params_json may be NULL. */
void hr_verrs_add(hr_verrs *e, hr_str path, const char *code, const char *message,
		  const char *params_json);

/* Adds with a path built from prefix + "." + key (prefix may be empty). */
void hr_verrs_addf(hr_verrs *e, hr_str prefix, hr_str key, const char *code, const char *message,
		   const char *params_json);

/* Adds a raw JSON value at path (e.g. a nested batch error response). */
void hr_verrs_add_raw(hr_verrs *e, hr_str path, hr_str json);

bool hr_verrs_has(const hr_verrs *e, hr_str path);

/* Writes the nested object ("{}" when empty). */
void hr_verrs_write(const hr_verrs *e, hr_buf *b);

#endif

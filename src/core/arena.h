/*
 * core/arena.h - the per-request bump allocator.
 *
 * Everything that lives no longer than a request comes from its arena and
 * is released in one hr_arena_reset() when the response ends (h2o's
 * mem_pool, nginx's r->pool). The first chunk is memory the caller lends
 * (the tail of the request's pool block), so a small request never calls
 * malloc; larger needs get malloc'd chunks that grow geometrically, and a
 * request whose total would pass `limit` gets NULL, which handlers turn
 * into 413/503 rather than an abort.
 *
 * Resources that are not memory (a statement to reset, a file descriptor,
 * a Lua reference) are attached with hr_arena_on_reset(); callbacks run in
 * reverse order of registration at reset, so every error path releases
 * them.
 *
 * Unused chunk tails are poisoned for AddressSanitizer (lwan's arena), so
 * reads past an allocation are reported even inside a chunk. Test builds
 * can make the Nth allocation fail (fail_after) to test out-of-memory
 * paths, as SQLite's malloc tests do.
 *
 * One arena is used by one thread at a time; no locking.
 */
#ifndef HR_CORE_ARENA_H
#define HR_CORE_ARENA_H

#include <stddef.h>

typedef struct hr_arena_chunk {
	struct hr_arena_chunk *next;
	size_t size; /* bytes after the header */
} hr_arena_chunk;

typedef struct hr_arena_cleanup {
	struct hr_arena_cleanup *next;
	void (*fn)(void *ud);
	void *ud;
} hr_arena_cleanup;

typedef struct hr_arena {
	char *cur, *end;	   /* free space of the current chunk */
	char *first;		   /* lent memory (not freed) */
	size_t first_size;
	hr_arena_chunk *chunks;	   /* malloc'd chunks, newest first */
	hr_arena_cleanup *cleanups; /* newest first */
	size_t used;		   /* bytes obtained from malloc for chunks */
	size_t limit;		   /* cap on `used`; 0 = none */
	long fail_after;	   /* test hook: allocations left before failing; <0 off */
} hr_arena;

/* Lends mem[0..size) as the first chunk. limit caps malloc'd bytes. */
void hr_arena_init(hr_arena *a, void *mem, size_t size, size_t limit);

/*
 * Returns n bytes aligned to 16, or NULL when the limit would be passed
 * (or malloc failed). The memory is valid until hr_arena_reset().
 */
void *hr_arena_alloc(hr_arena *a, size_t n);

/* Copies s[0..n) and appends a NUL; NULL on failure. */
char *hr_arena_dup(hr_arena *a, const void *s, size_t n);

/* Formats into the arena; NULL on failure. */
__attribute__((format(printf, 2, 3))) char *hr_arena_printf(hr_arena *a, const char *fmt, ...);

/*
 * Registers fn(ud) to run at reset. Returns 0 or HR_ENOMEM, in which case
 * fn is NOT registered and the caller must release the resource itself.
 */
int hr_arena_on_reset(hr_arena *a, void (*fn)(void *ud), void *ud);

/* Runs cleanups (newest first), frees malloc'd chunks, rewinds to the lent memory. */
void hr_arena_reset(hr_arena *a);

/* hr_arena_reset(), for an arena that will not be used again. */
void hr_arena_dispose(hr_arena *a);

#endif

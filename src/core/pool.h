/*
 * core/pool.h - a per-loop freelist of fixed-size memory blocks.
 *
 * Read buffers, request arenas and output segments all come in HR_BLOCK_SIZE
 * pieces. A connection takes blocks while it has work and gives them back
 * as soon as it goes idle, so an idle keep-alive connection holds none; the
 * pool keeps up to `max_cached` free blocks so that the busy path does not
 * touch malloc. One pool per event loop: no locking (kore's pool.c idea,
 * without its global lists).
 */
#ifndef HR_CORE_POOL_H
#define HR_CORE_POOL_H

#include <stddef.h>

#define HR_BLOCK_SIZE 16384

typedef struct hr_pool_free {
	struct hr_pool_free *next;
} hr_pool_free;

typedef struct hr_pool {
	hr_pool_free *free;   /* cached blocks */
	size_t nfree;	      /* number cached */
	size_t max_cached;    /* cap on nfree */
	size_t outstanding;   /* blocks handed out and not returned (statistics) */
} hr_pool;

void hr_pool_init(hr_pool *p, size_t max_cached);

/* Frees every cached block. Outstanding blocks are the holders' business. */
void hr_pool_dispose(hr_pool *p);

/* Returns an HR_BLOCK_SIZE block; aborts on OOM (small, server-sized). */
void *hr_pool_get(hr_pool *p);

/* Takes back a block from hr_pool_get() (NULL is ignored). */
void hr_pool_put(hr_pool *p, void *block);

#endif

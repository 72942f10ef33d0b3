/*
 * core/pool.c - see pool.h. Under AddressSanitizer a cached block is
 * poisoned, so a use after hr_pool_put() is reported even though the
 * memory was not handed back to malloc.
 */
#include "core/pool.h"

#include <stdlib.h>

#include "core/common.h"
#include "core/sanitizer.h"

void hr_pool_init(hr_pool *p, size_t max_cached)
{
	p->free = NULL;
	p->nfree = 0;
	p->max_cached = max_cached;
	p->outstanding = 0;
}

void hr_pool_dispose(hr_pool *p)
{
	while (p->free) {
		hr_pool_free *f = p->free;
		HR_UNPOISON(f, HR_BLOCK_SIZE);
		p->free = f->next;
		free(f);
	}
	p->nfree = 0;
}

void *hr_pool_get(hr_pool *p)
{
	p->outstanding++;
	hr_pool_free *f = p->free;
	if (f) {
		HR_UNPOISON(f, HR_BLOCK_SIZE);
		p->free = f->next;
		p->nfree--;
		return f;
	}
	return hr_xmalloc(HR_BLOCK_SIZE);
}

void hr_pool_put(hr_pool *p, void *block)
{
	if (!block)
		return;
	p->outstanding--;
	if (p->nfree >= p->max_cached) {
		free(block);
		return;
	}
	hr_pool_free *f = block;
	f->next = p->free;
	p->free = f;
	p->nfree++;
	HR_POISON((char *)f + sizeof *f, HR_BLOCK_SIZE - sizeof *f);
}

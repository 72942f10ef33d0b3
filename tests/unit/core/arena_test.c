/*
 * Unit tests of src/core/arena.c and src/core/pool.c: alignment, growth,
 * the spill limit, cleanups in reverse order, reset reuse, fault injection.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/pool.h"
#include "harness/unit.h"

static void test_alignment_and_reuse(void)
{
	char mem[1024];
	hr_arena a;
	hr_arena_init(&a, mem + 3, sizeof mem - 3, 0);
	void *p = hr_arena_alloc(&a, 1);
	void *q = hr_arena_alloc(&a, 7);
	HR_CHECK(p && q && (uintptr_t)p % 16 == 0 && (uintptr_t)q % 16 == 0);
	HR_CHECK((char *)q >= (char *)p + 1);
	hr_arena_reset(&a);
	void *r = hr_arena_alloc(&a, 1);
	HR_CHECK(r == p);
	hr_arena_dispose(&a);
}

static void test_spills_to_malloc_and_grows(void)
{
	char mem[256];
	hr_arena a;
	hr_arena_init(&a, mem, sizeof mem, 0);
	size_t total = 0;
	for (int i = 0; i < 1000; i++) {
		char *p = hr_arena_alloc(&a, 100);
		HR_REQUIRE(p);
		memset(p, i & 0xff, 100);
		total += 100;
	}
	HR_CHECK(a.used >= total - 256);
	char *big = hr_arena_alloc(&a, 1 << 20);
	HR_CHECK(big != NULL);
	memset(big, 1, 1 << 20);
	hr_arena_dispose(&a);
}

static void test_limit_refuses(void)
{
	char mem[64];
	hr_arena a;
	hr_arena_init(&a, mem, sizeof mem, 8192);
	HR_CHECK(hr_arena_alloc(&a, 4096) != NULL);
	HR_CHECK(hr_arena_alloc(&a, 8192) == NULL);
	HR_CHECK(hr_arena_alloc(&a, SIZE_MAX - 4) == NULL);
	HR_CHECK(hr_arena_alloc(&a, 16) != NULL);
	hr_arena_dispose(&a);
}

static int order[4], norder;
static void note(void *ud)
{
	order[norder++] = (int)(intptr_t)ud;
}

static void test_cleanups_run_in_reverse(void)
{
	char mem[512];
	hr_arena a;
	hr_arena_init(&a, mem, sizeof mem, 0);
	norder = 0;
	HR_CHECK(hr_arena_on_reset(&a, note, (void *)1) == 0);
	HR_CHECK(hr_arena_on_reset(&a, note, (void *)2) == 0);
	HR_CHECK(hr_arena_on_reset(&a, note, (void *)3) == 0);
	hr_arena_reset(&a);
	HR_CHECK(norder == 3 && order[0] == 3 && order[1] == 2 && order[2] == 1);
	hr_arena_reset(&a);
	HR_CHECK(norder == 3);
	hr_arena_dispose(&a);
}

static void test_fault_injection(void)
{
	char mem[512];
	hr_arena a;
	hr_arena_init(&a, mem, sizeof mem, 0);
	a.fail_after = 2;
	HR_CHECK(hr_arena_alloc(&a, 8) != NULL);
	HR_CHECK(hr_arena_alloc(&a, 8) != NULL);
	HR_CHECK(hr_arena_alloc(&a, 8) == NULL);
	HR_CHECK(hr_arena_dup(&a, "x", 1) == NULL);
	HR_CHECK(hr_arena_on_reset(&a, note, NULL) == HR_ENOMEM);
	a.fail_after = -1;
	char *s = hr_arena_printf(&a, "%d-%s", 42, "x");
	HR_CHECK(s && strcmp(s, "42-x") == 0);
	hr_arena_dispose(&a);
}

static void test_pool_caches_up_to_limit(void)
{
	hr_pool p;
	hr_pool_init(&p, 2);
	void *a = hr_pool_get(&p), *b = hr_pool_get(&p), *c = hr_pool_get(&p);
	HR_CHECK(a && b && c && p.outstanding == 3);
	memset(a, 0, HR_BLOCK_SIZE);
	hr_pool_put(&p, a);
	hr_pool_put(&p, b);
	hr_pool_put(&p, c); /* over max_cached: freed */
	HR_CHECK(p.nfree == 2 && p.outstanding == 0);
	void *d = hr_pool_get(&p);
	HR_CHECK(d == b);
	hr_pool_put(&p, d);
	hr_pool_put(&p, NULL);
	hr_pool_dispose(&p);
	HR_CHECK(p.nfree == 0);
}

static const hr_test_case cases[] = {
	{"alignment_and_reuse", test_alignment_and_reuse},
	{"spills_to_malloc_and_grows", test_spills_to_malloc_and_grows},
	{"limit_refuses", test_limit_refuses},
	{"cleanups_run_in_reverse", test_cleanups_run_in_reverse},
	{"fault_injection", test_fault_injection},
	{"pool_caches_up_to_limit", test_pool_caches_up_to_limit},
};
HR_TEST_MAIN(cases)

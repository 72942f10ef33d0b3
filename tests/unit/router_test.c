/*
 * Unit tests of src/router.c: pattern validation, literal-over-parameter
 * priority with backtracking, catch-all, decoding, HEAD fallback, 405 lists.
 */
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "harness/unit.h"
#include "http/parser.h"
#include "router.h"

static int A, B, C, D, E, F;

static hr_router *mk(void)
{
	hr_router *r = hr_router_new();
	HR_CHECK(hr_router_add(r, "GET", "/api/health", &A, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/api/collections/{collection}/records", &B, NULL) == 0);
	HR_CHECK(hr_router_add(r, "POST", "/api/collections/{collection}/records", &C, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/api/collections/{collection}/records/{id}", &D, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/api/collections/special/records/x", &E, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/files/{path...}", &F, NULL) == 0);
	HR_CHECK(hr_router_add(r, "PURGE", "/cache", &A, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/", &A, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/dir/", &B, NULL) == 0);
	return r;
}

static int match(hr_router *r, const char *method, const char *path, hr_route_match *m)
{
	static char scratch[1024];
	hr_str mt = hr_str_make(method, strlen(method));
	return hr_router_match(r, hr_http_method_id(mt), mt, hr_str_make(path, strlen(path)),
			       scratch, m);
}

static void test_literal_and_params(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/api/health", &m) == 0 && m.fn == &A && m.nparams == 0);
	HR_CHECK(match(r, "GET", "/api/collections/posts/records", &m) == 0 && m.fn == &B);
	HR_CHECK(m.nparams == 1 && hr_str_eq_lit(m.names[0], "collection") &&
		 hr_str_eq_lit(m.values[0], "posts"));
	HR_CHECK(match(r, "POST", "/api/collections/posts/records", &m) == 0 && m.fn == &C);
	HR_CHECK(match(r, "GET", "/api/collections/posts/records/abc", &m) == 0 && m.fn == &D);
	HR_CHECK(m.nparams == 2 && hr_str_eq_lit(m.values[1], "abc"));
	hr_router_free(r);
}

static void test_literal_wins_then_backtracks(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/api/collections/special/records/x", &m) == 0 && m.fn == &E);
	/* "special" literal branch has no "records/y": must backtrack to the param. */
	HR_CHECK(match(r, "GET", "/api/collections/special/records/y", &m) == 0 && m.fn == &D);
	HR_CHECK(m.nparams == 2 && hr_str_eq_lit(m.values[0], "special") &&
		 hr_str_eq_lit(m.values[1], "y"));
	hr_router_free(r);
}

static void test_catch_all(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/files/a/b/c.txt", &m) == 0 && m.fn == &F);
	HR_CHECK(hr_str_eq_lit(m.values[0], "a/b/c.txt"));
	HR_CHECK(match(r, "GET", "/files/", &m) == 0 && m.fn == &F && m.values[0].len == 0);
	HR_CHECK(match(r, "GET", "/files/x%2Fy", &m) == 0 && hr_str_eq_lit(m.values[0], "x/y"));
	hr_router_free(r);
}

static void test_decoding(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/api/collections/my%20posts/records", &m) == 0);
	HR_CHECK(hr_str_eq_lit(m.values[0], "my posts"));
	/* Literal segments compare decoded. */
	HR_CHECK(match(r, "GET", "/api/%68ealth", &m) == 0 && m.fn == &A);
	HR_CHECK(match(r, "GET", "/api/collections/%zz/records", &m) == HR_EPARSE);
	HR_CHECK(match(r, "GET", "/api/collections/%4/records", &m) == HR_EPARSE);
	hr_router_free(r);
}

static void test_not_found_and_405(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/nope", &m) == HR_ENOENT);
	HR_CHECK(match(r, "GET", "/api/health/", &m) == HR_ENOENT); /* trailing slash matters */
	HR_CHECK(match(r, "GET", "/api/collections//records", &m) == HR_ENOENT);
	HR_CHECK(match(r, "DELETE", "/api/collections/posts/records", &m) == HR_ESTATE);
	HR_CHECK(strcmp(m.allow, "GET, HEAD, POST") == 0);
	HR_CHECK(match(r, "GET", "/cache", &m) == HR_ESTATE && strcmp(m.allow, "PURGE") == 0);
	HR_CHECK(match(r, "PURGE", "/cache", &m) == 0);
	HR_CHECK(match(r, "GET", "", &m) == HR_ENOENT);
	HR_CHECK(match(r, "GET", "*", &m) == HR_ENOENT);
	hr_router_free(r);
}

static void test_head_falls_back_to_get(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "HEAD", "/api/health", &m) == 0 && m.fn == &A);
	HR_CHECK(match(r, "HEAD", "/api/collections/p/records", &m) == 0 && m.fn == &B);
	hr_router_free(r);
}

static void test_root_and_trailing_slash(void)
{
	hr_router *r = mk();
	hr_route_match m;
	HR_CHECK(match(r, "GET", "/", &m) == 0 && m.fn == &A);
	HR_CHECK(match(r, "GET", "/dir/", &m) == 0 && m.fn == &B);
	HR_CHECK(match(r, "GET", "/dir", &m) == HR_ENOENT);
	hr_router_free(r);
}

static void test_bad_patterns(void)
{
	hr_router *r = hr_router_new();
	int x;
	static const char *const bad[] = {
		"", "nope", "/a//b", "/{}", "/{a", "/a}", "/{a-b}", "/{rest...}/x", "/x{y}",
		"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(bad); i++)
		HR_CHECKF(hr_router_add(r, "GET", bad[i], &x, NULL) == HR_EINVAL, "%s", bad[i]);
	HR_CHECK(hr_router_add(r, "GET", "/a/{id}", &x, NULL) == 0);
	HR_CHECK(hr_router_add(r, "GET", "/a/{id}", &x, NULL) == HR_EEXIST);
	HR_CHECK(hr_router_add(r, "GET", "/a/{other}", &x, NULL) == HR_EINVAL);
	HR_CHECK(hr_router_add(r, "POST", "/a/{id}", &x, NULL) == 0);
	hr_router_free(r);
}

static void test_deep_paths_are_bounded(void)
{
	hr_router *r = mk();
	hr_route_match m;
	char path[1024];
	size_t o = 0;
	for (int i = 0; i < 200; i++) {
		path[o++] = '/';
		path[o++] = 'a';
	}
	path[o] = '\0';
	HR_CHECK(match(r, "GET", path, &m) == HR_ENOENT);
	hr_router_free(r);
}

static const hr_test_case cases[] = {
	{"literal_and_params", test_literal_and_params},
	{"literal_wins_then_backtracks", test_literal_wins_then_backtracks},
	{"catch_all", test_catch_all},
	{"decoding", test_decoding},
	{"not_found_and_405", test_not_found_and_405},
	{"head_falls_back_to_get", test_head_falls_back_to_get},
	{"root_and_trailing_slash", test_root_and_trailing_slash},
	{"bad_patterns", test_bad_patterns},
	{"deep_paths_are_bounded", test_deep_paths_are_bounded},
};
HR_TEST_MAIN(cases)

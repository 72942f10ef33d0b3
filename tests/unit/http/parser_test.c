/*
 * tests/unit/http/parser_test.c - the request-head parser (src/http/parser.c).
 *
 * One table of requests, each row labelled, with either the error it must
 * be refused with or the fields it must parse to. Every row is run
 *   - whole, in a buffer that ends right before a PROT_NONE page;
 *   - split in two at every byte: the prefix is parsed in its own guarded
 *     buffer, then the whole request is copied to a second guarded buffer,
 *     the head is rebased onto it and parsing continues there. The result
 *     must equal the whole-buffer result; a prefix may already return the
 *     same error, never another one, and never completes early;
 *   - one byte at a time in one buffer.
 * Parsed fields are compared by content; every slice must point into the
 * buffer it was parsed from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "harness/unit.h"
#include "http/parser.h"

#define MAXH 70

/* Tri-state expectation: unchecked, yes, no. */
enum { U = 0, Y = 1, N = 2 };

typedef struct exp_hdr {
	const char *name, *value;
	int id;
} exp_hdr;

typedef struct req_case {
	const char *label;
	const char *in;
	size_t len;		  /* 0: strlen(in) */
	int err;		  /* expected HR_HTTP_E_*, 0 for success */
	bool incomplete;	  /* expect 0 even on the whole input */
	const hr_http_limits *lim; /* NULL: default limits */
	const char *rest;	  /* input after the head (body, next request); NULL: none */
	const char *method;
	int method_id;
	const char *target, *path, *query, *host;
	int minor;		  /* 0 unchecked, else minor + 1 */
	int64_t cl;		  /* 0 unchecked, else content_length + 1 */
	int chunked, ka, expect, upgrade;
	int nh;			  /* 0 unchecked, else num_headers + 1 */
	exp_hdr h[4];
} req_case;

static const hr_http_limits deflim = {8192, 16384, 64, 1 << 20};
static const hr_http_limits lim_rl16 = {16, 16384, 64, 1 << 20};
static const hr_http_limits lim_head40 = {8192, 40, 64, 1 << 20};
static const hr_http_limits lim_rl20_head30 = {20, 30, 64, 1 << 20};
static const hr_http_limits lim_rl30_head20 = {30, 20, 64, 1 << 20};
static const hr_http_limits lim_h2 = {8192, 16384, 2, 1 << 20};
static const hr_http_limits lim_body10 = {8192, 16384, 64, 10};

#define LIT(s) s, sizeof(s) - 1
#define OK(...) .err = 0, __VA_ARGS__
#define BAD(e) .err = HR_HTTP_E_##e

static const req_case cases[] = {
	/* --- valid: shapes of the request line ------------------------- */
	{"minimal", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method = "GET", .method_id = HR_METHOD_GET, .target = "/", .path = "/", .query = "",
	    .host = "x", .minor = 2, .cl = 0, .chunked = N, .ka = Y, .expect = N, .upgrade = N,
	    .nh = 2, .h = {{"Host", "x", HR_HDR_HOST}})},
	{"wrk_plaintext", "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
	 OK(.path = "/plaintext", .host = "localhost:8080", .ka = Y)},
	{"browser_like",
	 "GET /index.html?lang=en HTTP/1.1\r\n"
	 "Host: www.example.com\r\n"
	 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
	 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	 "Accept-Language: en-US,en;q=0.5\r\n"
	 "Accept-Encoding: gzip, deflate, br\r\n"
	 "Connection: keep-alive\r\n"
	 "Cookie: a=1; b=2\r\n"
	 "Upgrade-Insecure-Requests: 1\r\n"
	 "If-None-Match: \"abc\"\r\n"
	 "Cache-Control: max-age=0\r\n\r\n",
	 OK(.path = "/index.html", .query = "lang=en", .host = "www.example.com", .ka = Y,
	    .upgrade = N, .nh = 11,
	    .h = {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
		   HR_HDR_USER_AGENT},
		  {"Accept-Language", "en-US,en;q=0.5", HR_HDR_OTHER},
		  {"Cookie", "a=1; b=2", HR_HDR_COOKIE},
		  {"If-None-Match", "\"abc\"", HR_HDR_IF_NONE_MATCH}})},
	{"query_with_question_marks", "GET /a?b?c=/d HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.path = "/a", .query = "b?c=/d")},
	{"empty_query", "GET /a? HTTP/1.1\r\nHost: x\r\n\r\n", OK(.path = "/a", .query = "")},
	{"pchar_specials", "GET /a:b@c!$&'()*+,;=-._~%41%zz HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.path = "/a:b@c!$&'()*+,;=-._~%41%zz", .query = "")},
	{"double_slash_path", "GET //x//y HTTP/1.1\r\nHost: x\r\n\r\n", OK(.path = "//x//y")},
	{"http10_no_host", "GET / HTTP/1.0\r\n\r\n",
	 OK(.minor = 1, .ka = N, .host = "", .nh = 1)},
	{"http10_keep_alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	 OK(.minor = 1, .ka = Y)},
	{"http10_keep_alive_then_close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	 OK(.ka = N)},
	{"http11_close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", OK(.ka = N)},
	{"http11_close_in_list", "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, ,CLOSE \r\n\r\n",
	 OK(.ka = N)},
	{"http11_close_then_keepalive",
	 "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
	 OK(.ka = N)},
	{"http11_closed_is_not_close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n",
	 OK(.ka = Y)},
	{"connection_upgrade",
	 "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
	 OK(.ka = Y, .upgrade = Y, .h = {{"Upgrade", "websocket", HR_HDR_UPGRADE}})},
	{"leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method = "GET", .path = "/")},
	{"two_leading_crlf", "\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method = "POST", .method_id = HR_METHOD_POST)},
	{"options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method_id = HR_METHOD_OPTIONS, .target = "*", .path = "*", .query = "")},
	{"absolute_form", "GET http://example.com/a?b HTTP/1.1\r\nHost: other\r\n\r\n",
	 OK(.target = "http://example.com/a?b", .path = "/a", .query = "b",
	    .host = "example.com")},
	{"absolute_form_https_upper_empty_path",
	 "GET HTTPS://Example.com:8443 HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.path = "/", .query = "", .host = "Example.com:8443")},
	{"absolute_form_query_no_path", "GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	 OK(.path = "/", .query = "q=1", .host = "h")},
	{"absolute_form_ipv6", "GET http://[::1]:80/x HTTP/1.1\r\nHost: h\r\n\r\n",
	 OK(.path = "/x", .host = "[::1]:80")},
	{"absolute_form_http10_no_host", "GET http://h.example/ HTTP/1.0\r\n\r\n",
	 OK(.host = "h.example", .ka = N)},
	{"method_other", "PROPFIND /d HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method = "PROPFIND", .method_id = HR_METHOD_OTHER)},
	{"method_lowercase_is_other", "get / HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method = "get", .method_id = HR_METHOD_OTHER)},
	{"method_token_chars", "!#$%&'*+-.^_`|~09AZaz / HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method = "!#$%&'*+-.^_`|~09AZaz", .method_id = HR_METHOD_OTHER)},
	{"method_head", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method_id = HR_METHOD_HEAD)},
	{"method_put", "PUT / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method_id = HR_METHOD_PUT)},
	{"method_patch", "PATCH / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method_id = HR_METHOD_PATCH)},
	{"method_delete", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method_id = HR_METHOD_DELETE)},
	{"method_trace", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.method_id = HR_METHOD_TRACE)},
	{"method_connect_origin_form", "CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n",
	 OK(.method_id = HR_METHOD_CONNECT)},
	/* --- valid: fields --------------------------------------------- */
	{"header_ids_mixed_case",
	 "GET / HTTP/1.1\r\nhOST: x\r\nACCEPT-encoding: gzip\r\nif-modified-since: d\r\n"
	 "If-Range: r\r\nRANGE: bytes=0-1\r\ncontent-type: t\r\nAuthorization: a\r\n"
	 "Origin: o\r\nExpect: e\r\nAccept: */*\r\nX-Other: 1\r\nHosts: y\r\n\r\n",
	 OK(.nh = 13, .h = {{"hOST", "x", HR_HDR_HOST},
			    {"ACCEPT-encoding", "gzip", HR_HDR_ACCEPT_ENCODING},
			    {"if-modified-since", "d", HR_HDR_IF_MODIFIED_SINCE},
			    {"Hosts", "y", HR_HDR_OTHER}})},
	{"header_ids_2",
	 "GET / HTTP/1.1\r\nHost: x\r\nIf-Range: r\r\nRange: b\r\nContent-Type: t\r\n"
	 "Authorization: Bearer z\r\nOrigin: o\r\n\r\n",
	 OK(.h = {{"If-Range", "r", HR_HDR_IF_RANGE},
		  {"Range", "b", HR_HDR_RANGE},
		  {"Content-Type", "t", HR_HDR_CONTENT_TYPE},
		  {"Authorization", "Bearer z", HR_HDR_AUTHORIZATION}})},
	{"header_ids_3", "GET / HTTP/1.1\r\nHost: x\r\nOrigin: o\r\nAccept: a\r\nConnection: c\r\n\r\n",
	 OK(.h = {{"Origin", "o", HR_HDR_ORIGIN},
		  {"Accept", "a", HR_HDR_ACCEPT},
		  {"Connection", "c", HR_HDR_CONNECTION}})},
	{"header_name_all_tchars", "GET / HTTP/1.1\r\nHost: x\r\n!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n",
	 OK(.h = {{"!#$%&'*+-.^_`|~09AZaz", "v", HR_HDR_OTHER}})},
	{"value_ows_trimmed", "GET / HTTP/1.1\r\nHost: x\r\nX: \t a b \t \r\n\r\n",
	 OK(.h = {{"X", "a b", HR_HDR_OTHER}})},
	{"value_htab_inside", "GET / HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n",
	 OK(.h = {{"X", "a\tb", HR_HDR_OTHER}})},
	{"value_obs_text", "GET / HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9 \xff\x80\r\n\r\n",
	 OK(.h = {{"X", "caf\xc3\xa9 \xff\x80", HR_HDR_OTHER}})},
	{"value_empty", "GET / HTTP/1.1\r\nHost: x\r\nX:\r\nY:   \r\n\r\n",
	 OK(.nh = 4, .h = {{"X", "", HR_HDR_OTHER}, {"Y", "", HR_HDR_OTHER}})},
	{"value_colons", "GET / HTTP/1.1\r\nHost: x\r\nX: a:b: c\r\n\r\n",
	 OK(.h = {{"X", "a:b: c", HR_HDR_OTHER}})},
	{"content_length", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	 OK(.rest = "hello", .cl = 6, .chunked = N)},
	{"content_length_zero", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	 OK(.cl = 1)},
	{"content_length_leading_zeros_ows", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  007 \t\r\n\r\n",
	 OK(.cl = 8)},
	{"content_length_at_max_body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
	 OK(.lim = &lim_body10, .cl = 11)},
	{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	 OK(.chunked = Y, .cl = -1 + 1, .h = {{"Transfer-Encoding", "chunked", HR_HDR_TRANSFER_ENCODING}})},
	{"chunked_case_and_empty_elements",
	 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n", OK(.chunked = Y)},
	{"expect_continue", "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
	 OK(.expect = Y, .cl = 4)},
	{"expect_continue_case", "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n",
	 OK(.expect = Y)},
	{"expect_other_ignored", "PUT / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", OK(.expect = N)},
	{"expect_http10_ignored", "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", OK(.expect = N)},
	{"host_ipv4_port", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", OK(.host = "127.0.0.1:8080")},
	{"host_ipv6", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", OK(.host = "[2001:db8::1]")},
	{"host_ipv6_full", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8]:1\r\n\r\n", OK()},
	{"host_ipv6_v4_tail", "GET / HTTP/1.1\r\nHost: [::ffff:192.0.2.1]:443\r\n\r\n", OK()},
	{"host_ipv6_trailing_elision", "GET / HTTP/1.1\r\nHost: [1::]\r\n\r\n", OK()},
	{"host_ipvfuture", "GET / HTTP/1.1\r\nHost: [v1.a:b]\r\n\r\n", OK()},
	{"host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", OK(.host = "")},
	{"host_empty_port", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", OK(.host = "example.com:")},
	{"host_pct_and_subdelims", "GET / HTTP/1.1\r\nHost: ex%41mple!$&'()*+,;=.com\r\n\r\n", OK()},
	{"pipelined_second_request_left", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\n",
	 OK(.rest = "GET /2 HTTP/1.1\r\n", .path = "/1")},
	{"max_headers_exact", "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", OK(.lim = &lim_h2, .nh = 3)},
	{"request_line_at_limit", "GET /0123456789 HTTP/1.1\r\nHost: x\r\n\r\n", OK(.lim = &(hr_http_limits){24, 16384, 64, 1 << 20})},
	{"head_at_limit", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", OK(.lim = &(hr_http_limits){8192, 27, 64, 1 << 20})},
	/* --- incomplete --------------------------------------------------- */
	{"incomplete_no_final_crlf", "GET / HTTP/1.1\r\nHost: x\r\n", .incomplete = true},
	{"incomplete_cr_only", "GET / HTTP/1.1\r\nHost: x\r\n\r", .incomplete = true},
	{"incomplete_empty", "", .incomplete = true},
	{"incomplete_crlf_only", "\r\n", .incomplete = true},
	/* --- request line errors ------------------------------------------ */
	{"method_empty_leading_sp", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(METHOD)},
	{"method_bad_char", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(METHOD)},
	{"method_non_ascii", "G\xc3\x89T / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(METHOD)},
	{"method_nul", LIT("GE\0T / HTTP/1.1\r\nHost: x\r\n\r\n"), BAD(CTL)},
	{"method_htab", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"method_only", "GET\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"two_sp_after_method", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"two_sp_before_version", "GET /  HTTP/1.1\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"empty_target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"no_version", "GET /\r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"trailing_sp", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", BAD(REQUEST_LINE)},
	{"target_sp_inside", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_htab", "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_fragment", "GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_ctl", "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_nul", LIT("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"), BAD(TARGET)},
	{"target_del", "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_non_ascii", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_dquote", "GET /a\"b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_angle", "GET /<script> HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_pipe_in_query", "GET /?a|b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_backslash", "GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_brackets", "GET /[x] HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"target_braces_caret_backtick", "GET /{^`} HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"asterisk_not_options", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"asterisk_with_more", "OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"authority_form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", BAD(TARGET)},
	{"relative_target", "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_other_scheme", "GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_empty_host", "GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_empty_host_port", "GET http://:80/a HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_userinfo", "GET http://user@h/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_bad_port", "GET http://h:8x/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_unclosed_ipv6", "GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"absolute_bad_path", "GET http://h/a|b HTTP/1.1\r\nHost: x\r\n\r\n", BAD(TARGET)},
	{"version_two_digit_minor", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_lowercase", "GET / http/1.1\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_short", "GET / HTTP/1\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_letters", "GET / HTTP/a.b\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_name", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_trailing_junk", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", BAD(VERSION)},
	{"version_ctl", "GET / HTTP/1.1\x01\r\nHost: x\r\n\r\n", BAD(CTL)},
	{"version_2", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", BAD(VERSION_UNSUP)},
	{"version_09", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", BAD(VERSION_UNSUP)},
	{"version_12", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", BAD(VERSION_UNSUP)},
	{"request_line_bare_cr_target", "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", BAD(BARE_CR)},
	{"request_line_bare_cr_version", "GET / HTTP/1.1\rX\r\nHost: x\r\n\r\n", BAD(BARE_CR)},
	{"request_line_bare_cr_method", "GE\rT / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(BARE_CR)},
	{"request_line_bare_lf", "GET / HTTP/1.1\nHost: x\r\n\r\n", BAD(BARE_LF)},
	{"lone_lf_first", "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(BARE_LF)},
	{"uri_too_long", "GET /0123456789abcdef HTTP/1.1\r\nHost: x\r\n\r\n", BAD(URI_TOO_LONG), .lim = &lim_rl16},
	{"uri_too_long_one_over", "GET /0123456789 HTTP/1.1\r\nHost: x\r\n\r\n", BAD(URI_TOO_LONG),
	 .lim = &(hr_http_limits){23, 16384, 64, 1 << 20}},
	{"uri_too_long_no_lf_yet", "GET /0123456789abcdef", BAD(URI_TOO_LONG), .lim = &lim_rl16},
	{"uri_limit_beats_head_limit", "GET /0123456789abcdefghijklmnopq HTTP/1.1\r\n\r\n",
	 BAD(URI_TOO_LONG), .lim = &lim_rl20_head30},
	{"head_limit_beats_uri_limit", "GET /0123456789abcdefghijklmnopq HTTP/1.1\r\n\r\n",
	 BAD(HEAD_TOO_LARGE), .lim = &lim_rl30_head20},
	/* --- field line errors -------------------------------------------- */
	{"header_name_bad_char", "GET / HTTP/1.1\r\nHost: x\r\nFo(o: x\r\n\r\n", BAD(HEADER_NAME)},
	{"header_name_empty", "GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n", BAD(HEADER_NAME)},
	{"header_name_with_space", "GET / HTTP/1.1\r\nHost: x\r\nFoo Bar: x\r\n\r\n", BAD(HEADER_NAME)},
	{"header_name_non_ascii", "GET / HTTP/1.1\r\nHost: x\r\nCaf\xc3\xa9: x\r\n\r\n", BAD(HEADER_NAME)},
	{"header_name_dquote", "GET / HTTP/1.1\r\nHost: x\r\nX\"y: z\r\n\r\n", BAD(HEADER_NAME)},
	{"header_name_nul", LIT("GET / HTTP/1.1\r\nHost: x\r\nX\0: z\r\n\r\n"), BAD(CTL)},
	{"space_before_colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", BAD(SPACE_BEFORE_COLON)},
	{"htab_before_colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", BAD(SPACE_BEFORE_COLON)},
	{"space_before_colon_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
	 BAD(SPACE_BEFORE_COLON)},
	{"obs_fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", BAD(OBS_FOLD)},
	{"obs_fold_htab", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", BAD(OBS_FOLD)},
	{"whitespace_before_first_field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", BAD(OBS_FOLD)},
	{"field_bare_cr_value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", BAD(BARE_CR)},
	{"field_bare_cr_name", "GET / HTTP/1.1\r\nHo\rst: x\r\n\r\n", BAD(BARE_CR)},
	{"field_bare_cr_end", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\r\n\r\n", BAD(BARE_CR)},
	{"field_bare_lf", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", BAD(BARE_LF)},
	{"final_bare_lf", "GET / HTTP/1.1\r\nHost: x\r\n\n", BAD(BARE_LF)},
	{"final_bare_lf_lf", "GET / HTTP/1.1\r\nHost: x\n\n", BAD(BARE_LF)},
	{"value_nul", LIT("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"), BAD(CTL)},
	{"value_ctl", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n", BAD(CTL)},
	{"value_vt", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x0b b\r\n\r\n", BAD(CTL)},
	{"value_del", "GET / HTTP/1.1\r\nHost: x\r\nX: \x7f\r\n\r\n", BAD(CTL)},
	{"value_esc", "GET / HTTP/1.1\r\nHost: x\r\nX: \x1b[0m\r\n\r\n", BAD(CTL)},
	{"no_colon", "GET / HTTP/1.1\r\nHost: x\r\nFoo\r\n\r\n", BAD(NO_COLON)},
	{"head_too_large", "GET / HTTP/1.1\r\nHost: x\r\nX: 0123456789abcdef\r\n\r\n", BAD(HEAD_TOO_LARGE),
	 .lim = &lim_head40},
	{"head_too_large_by_one", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", BAD(HEAD_TOO_LARGE),
	 .lim = &(hr_http_limits){8192, 26, 64, 1 << 20}},
	{"head_too_large_incomplete", "GET / HTTP/1.1\r\nHost: x\r\nX: 0123456789abcdef", BAD(HEAD_TOO_LARGE),
	 .lim = &lim_head40},
	{"too_many_headers", "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", BAD(TOO_MANY_HEADERS),
	 .lim = &lim_h2},
	/* --- framing and Host errors ----------------------------------------- */
	{"cl_then_te", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 BAD(CL_AND_TE)},
	{"te_then_cl", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	 BAD(CL_AND_TE)},
	{"cl_letters", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", BAD(BAD_CL)},
	{"cl_empty", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", BAD(BAD_CL)},
	{"cl_negative", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", BAD(BAD_CL)},
	{"cl_plus", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", BAD(BAD_CL)},
	{"cl_two_numbers", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\n", BAD(BAD_CL)},
	{"cl_list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5,5\r\n\r\n", BAD(BAD_CL)},
	{"cl_hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", BAD(BAD_CL)},
	{"cl_decimal_point", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1.5\r\n\r\n", BAD(BAD_CL)},
	{"cl_overflow", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
	 BAD(BAD_CL)},
	{"cl_over_int64", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n",
	 BAD(BAD_CL)},
	{"cl_dup_equal", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	 BAD(DUP_CL)},
	{"cl_dup_differ", "POST / HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\nContent-Length: 6\r\n\r\n",
	 BAD(DUP_CL)},
	{"cl_over_max_body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", BAD(BODY_TOO_LARGE),
	 .lim = &lim_body10},
	{"te_gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", BAD(TE_UNSUPPORTED)},
	{"te_gzip_chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	 BAD(TE_UNSUPPORTED)},
	{"te_identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", BAD(TE_UNSUPPORTED)},
	{"te_with_param", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo ; a=b\r\n\r\n",
	 BAD(TE_UNSUPPORTED)},
	{"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", BAD(TE_HTTP10)},
	{"te_chunked_not_last", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	 BAD(BAD_TE)},
	{"te_chunked_twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	 BAD(BAD_TE)},
	{"te_chunked_two_fields",
	 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	 BAD(BAD_TE)},
	{"te_chunked_then_gzip_field",
	 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	 BAD(BAD_TE)},
	{"te_empty", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n", BAD(BAD_TE)},
	{"te_only_commas", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , ,\r\n\r\n", BAD(BAD_TE)},
	{"te_chunked_param", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", BAD(BAD_TE)},
	{"te_quoted", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", BAD(BAD_TE)},
	{"te_two_words", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chun ked\r\n\r\n", BAD(BAD_TE)},
	{"no_host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", BAD(NO_HOST)},
	{"no_host_absolute_form", "GET http://h/ HTTP/1.1\r\n\r\n", BAD(NO_HOST)},
	{"dup_host", "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", BAD(DUP_HOST)},
	{"dup_host_http10", "GET / HTTP/1.0\r\nHost: x\r\nhost: y\r\n\r\n", BAD(DUP_HOST)},
	{"host_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", BAD(BAD_HOST)},
	{"host_port_letters", "GET / HTTP/1.1\r\nHost: x:80a\r\n\r\n", BAD(BAD_HOST)},
	{"host_port_negative", "GET / HTTP/1.1\r\nHost: x:-1\r\n\r\n", BAD(BAD_HOST)},
	{"host_two_ports", "GET / HTTP/1.1\r\nHost: x:8:8\r\n\r\n", BAD(BAD_HOST)},
	{"host_userinfo", "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", BAD(BAD_HOST)},
	{"host_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", BAD(BAD_HOST)},
	{"host_bad_pct", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", BAD(BAD_HOST)},
	{"host_unclosed_bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", BAD(BAD_HOST)},
	{"host_junk_after_bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_bad_hex", "GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_nine_groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_seven_groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_two_elisions", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_long_group", "GET / HTTP/1.1\r\nHost: [12345::1]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_bad_v4", "GET / HTTP/1.1\r\nHost: [::1.2.3.256]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_v4_leading_zero", "GET / HTTP/1.1\r\nHost: [::1.2.3.04]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_trailing_colon", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipv6_empty", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", BAD(BAD_HOST)},
	{"host_ipvfuture_bad", "GET / HTTP/1.1\r\nHost: [v1x]\r\n\r\n", BAD(BAD_HOST)},
	{"host_ctl_is_ctl", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", BAD(CTL)},
};

/* ---------------------------------------------------------------------- */

static size_t case_len(const req_case *c)
{
	return c->len ? c->len : strlen(c->in);
}

static const hr_http_limits *case_lim(const req_case *c)
{
	return c->lim ? c->lim : &deflim;
}

/* The result parsing the whole input must give. */
static int expected(const req_case *c)
{
	if (c->err)
		return -c->err;
	if (c->incomplete)
		return 0;
	return (int)(case_len(c) - (c->rest ? strlen(c->rest) : 0));
}

static bool slice_is(hr_str s, const char *want)
{
	return s.len == strlen(want) && (s.len == 0 || memcmp(s.ptr, want, s.len) == 0);
}

static bool slice_inside(hr_str s, const char *buf, size_t len)
{
	if (s.ptr == NULL)
		return s.len == 0;
	if (s.len == 1 && s.ptr[0] == '/' && !(s.ptr >= buf && s.ptr < buf + len))
		return true; /* the constant "/" for an empty absolute path */
	return s.ptr >= buf && s.ptr + s.len <= buf + len;
}

#define CHECK_STR(field, want)                                                        \
	do {                                                                          \
		if ((want) && !slice_is(h->field, (want)))                            \
			HR_CHECKF(false, "%s: %s is \"%.*s\", want \"%s\" (%s)", c->label, \
				  #field, (int)h->field.len, h->field.ptr, (want), how); \
	} while (0)

#define CHECK_TRI(field, want)                                                        \
	HR_CHECKF((want) == U || h->field == ((want) == Y), "%s: %s (%s)", c->label, #field, how)

static void check_fields(const req_case *c, const hr_http_head *h, const char *buf, size_t len,
			 const char *how)
{
	CHECK_STR(method, c->method);
	CHECK_STR(target, c->target);
	CHECK_STR(path, c->path);
	CHECK_STR(query, c->query);
	CHECK_STR(host, c->host);
	if (c->method_id)
		HR_CHECKF(h->method_id == c->method_id, "%s: method_id %d (%s)", c->label, h->method_id, how);
	else if (c->method && strcmp(c->method, "GET") == 0)
		HR_CHECKF(h->method_id == HR_METHOD_GET, "%s: method_id (%s)", c->label, how);
	if (c->minor)
		HR_CHECKF(h->minor_version == c->minor - 1, "%s: minor (%s)", c->label, how);
	if (c->cl)
		HR_CHECKF(h->content_length == c->cl - 1, "%s: content_length %lld (%s)", c->label,
			  (long long)h->content_length, how);
	CHECK_TRI(chunked, c->chunked);
	CHECK_TRI(keep_alive, c->ka);
	CHECK_TRI(expect_continue, c->expect);
	CHECK_TRI(upgrade, c->upgrade);
	if (c->nh)
		HR_CHECKF(h->num_headers == (unsigned)c->nh - 1, "%s: num_headers %u (%s)", c->label,
			  h->num_headers, how);
	for (size_t i = 0; i < HR_ARRAY_LEN(c->h) && c->h[i].name; i++) {
		const hr_http_header *f = hr_http_head_find_name(h, hr_str_make(c->h[i].name, strlen(c->h[i].name)));
		HR_CHECKF(f != NULL, "%s: header %s missing (%s)", c->label, c->h[i].name, how);
		if (!f)
			continue;
		HR_CHECKF(slice_is(f->name, c->h[i].name) && slice_is(f->value, c->h[i].value) &&
				  f->id == c->h[i].id,
			  "%s: header %s: \"%.*s\" id %d (%s)", c->label, c->h[i].name, (int)f->value.len,
			  f->value.ptr, f->id, how);
	}
	/* Every slice lies in the parsed buffer. */
	HR_CHECK(slice_inside(h->method, buf, len) && slice_inside(h->target, buf, len) &&
		 slice_inside(h->path, buf, len) && slice_inside(h->query, buf, len) &&
		 slice_inside(h->host, buf, len));
	for (unsigned i = 0; i < h->num_headers; i++)
		HR_CHECK(slice_inside(h->headers[i].name, buf, len) &&
			 slice_inside(h->headers[i].value, buf, len));
	HR_CHECK(h->head_len == (size_t)expected(c));
	if (!c->chunked || c->chunked == N)
		HR_CHECK(!h->chunked || c->chunked == U);
}

/* Whole input, ending right before a guard page. */
static void run_whole(const req_case *c)
{
	size_t len = case_len(c);
	hr_http_header hdrs[MAXH];
	hr_http_head h;
	char *buf = hr_test_guard_copy(c->in, len);
	hr_http_head_init(&h, hdrs, MAXH);
	int r = hr_http_parse_head(buf, len, case_lim(c), &h);
	HR_CHECKF(r == expected(c), "%s: whole: got %d want %d", c->label, r, expected(c));
	if (r > 0)
		check_fields(c, &h, buf, len, "whole");
	/* Calling again changes nothing. */
	HR_CHECK(hr_http_parse_head(buf, len, case_lim(c), &h) == r);
	if (r > 0)
		HR_CHECK(hr_http_head_find(&h, HR_HDR_HOST) == NULL ||
			 hr_http_head_find(&h, HR_HDR_HOST)->id == HR_HDR_HOST);
	hr_test_guard_free(buf, len);
}

/* Prefix of k bytes in one guarded buffer, the rest after a move. */
static void run_splits(const req_case *c)
{
	size_t len = case_len(c);
	int want = expected(c);
	for (size_t k = 0; k <= len; k++) {
		hr_http_header hdrs[MAXH];
		hr_http_head h;
		char *a = hr_test_guard_copy(c->in, k);
		hr_http_head_init(&h, hdrs, MAXH);
		int r1 = hr_http_parse_head(a, k, case_lim(c), &h);
		char *b = hr_test_guard_copy(c->in, len);
		hr_http_head_rebase(&h, a, b);
		hr_test_guard_free(a, k);
		int r2 = hr_http_parse_head(b, len, case_lim(c), &h);
		if (want > 0)
			HR_CHECKF(r1 == 0 || (r1 == want && k >= (size_t)want), "%s: split %zu: prefix %d",
				  c->label, k, r1);
		else
			HR_CHECKF(r1 == 0 || r1 == want, "%s: split %zu: prefix %d want %d", c->label, k,
				  r1, want);
		HR_CHECKF(r2 == want, "%s: split %zu: got %d want %d", c->label, k, r2, want);
		if (r2 > 0 && r2 == want)
			check_fields(c, &h, b, len, "split");
		hr_test_guard_free(b, len);
	}
}

/* One byte more per call, in one buffer. */
static void run_bytewise(const req_case *c)
{
	size_t len = case_len(c);
	int want = expected(c), r = 0;
	hr_http_header hdrs[MAXH];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, MAXH);
	for (size_t k = 0; k <= len; k++) {
		r = hr_http_parse_head(c->in, k, case_lim(c), &h);
		if (r != 0)
			break;
	}
	HR_CHECKF(r == want, "%s: bytewise: got %d want %d", c->label, r, want);
	if (r > 0 && r == want)
		check_fields(c, &h, c->in, len, "bytewise");
}

static void test_table_whole(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++)
		run_whole(&cases[i]);
}

static void test_table_splits_guarded_rebased(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++)
		run_splits(&cases[i]);
}

static void test_table_bytewise(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++)
		run_bytewise(&cases[i]);
}

/* Every error code the table expects appears in it at least once. */
static void test_table_covers_every_head_error(void)
{
	static const int chunk_only[] = {HR_HTTP_E_CHUNK_SIZE, HR_HTTP_E_CHUNK_EXT,
					 HR_HTTP_E_CHUNK_DATA, HR_HTTP_E_TRAILER};
	for (int e = 1; e < HR_HTTP_E__COUNT; e++) {
		bool chunk = false, seen = false;
		for (size_t j = 0; j < HR_ARRAY_LEN(chunk_only); j++)
			chunk |= chunk_only[j] == e;
		for (size_t i = 0; i < HR_ARRAY_LEN(cases); i++)
			seen |= cases[i].err == e;
		HR_CHECKF(chunk || seen, "no case for error %d (%s)", e, hr_http_err_reason(e));
	}
}

static void test_err_status_table(void)
{
	static const struct {
		int err, status;
	} rows[] = {
		{HR_HTTP_E_METHOD, 400},	 {HR_HTTP_E_TARGET, 400},
		{HR_HTTP_E_URI_TOO_LONG, 414},	 {HR_HTTP_E_VERSION, 400},
		{HR_HTTP_E_VERSION_UNSUP, 505},	 {HR_HTTP_E_REQUEST_LINE, 400},
		{HR_HTTP_E_HEADER_NAME, 400},	 {HR_HTTP_E_SPACE_BEFORE_COLON, 400},
		{HR_HTTP_E_OBS_FOLD, 400},	 {HR_HTTP_E_BARE_CR, 400},
		{HR_HTTP_E_BARE_LF, 400},	 {HR_HTTP_E_CTL, 400},
		{HR_HTTP_E_NO_COLON, 400},	 {HR_HTTP_E_HEAD_TOO_LARGE, 431},
		{HR_HTTP_E_TOO_MANY_HEADERS, 431}, {HR_HTTP_E_CL_AND_TE, 400},
		{HR_HTTP_E_BAD_CL, 400},	 {HR_HTTP_E_DUP_CL, 400},
		{HR_HTTP_E_TE_UNSUPPORTED, 501}, {HR_HTTP_E_TE_HTTP10, 400},
		{HR_HTTP_E_BAD_TE, 400},	 {HR_HTTP_E_NO_HOST, 400},
		{HR_HTTP_E_DUP_HOST, 400},	 {HR_HTTP_E_BAD_HOST, 400},
		{HR_HTTP_E_BODY_TOO_LARGE, 413}, {HR_HTTP_E_CHUNK_SIZE, 400},
		{HR_HTTP_E_CHUNK_EXT, 400},	 {HR_HTTP_E_CHUNK_DATA, 400},
		{HR_HTTP_E_TRAILER, 400},
	};
	HR_CHECK(HR_ARRAY_LEN(rows) == HR_HTTP_E__COUNT - 1);
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		HR_CHECKF(hr_http_err_status(rows[i].err) == rows[i].status, "err %d", rows[i].err);
		HR_CHECK(hr_http_err_status(-rows[i].err) == rows[i].status);
		const char *r = hr_http_err_reason(rows[i].err);
		HR_CHECK(r && *r && strcmp(r, "Bad request") != 0);
	}
	HR_CHECK(strcmp(hr_http_err_reason(HR_HTTP_E_SPACE_BEFORE_COLON),
			"Whitespace before header colon") == 0);
	HR_CHECK(hr_http_err_status(9999) == 400);
	HR_CHECK(strcmp(hr_http_err_reason(-9999), "Bad request") == 0);
}

static void test_method_ids_and_names(void)
{
	static const struct {
		const char *name;
		int id;
	} rows[] = {
		{"GET", HR_METHOD_GET},		{"HEAD", HR_METHOD_HEAD},
		{"POST", HR_METHOD_POST},	{"PUT", HR_METHOD_PUT},
		{"PATCH", HR_METHOD_PATCH},	{"DELETE", HR_METHOD_DELETE},
		{"OPTIONS", HR_METHOD_OPTIONS}, {"TRACE", HR_METHOD_TRACE},
		{"CONNECT", HR_METHOD_CONNECT}, {"Get", HR_METHOD_OTHER},
		{"GETS", HR_METHOD_OTHER},	{"", HR_METHOD_OTHER},
		{"PURGE", HR_METHOD_OTHER},
	};
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		hr_str s = hr_str_make(rows[i].name, strlen(rows[i].name));
		HR_CHECKF(hr_http_method_id(s) == rows[i].id, "%s", rows[i].name);
		if (rows[i].id != HR_METHOD_OTHER)
			HR_CHECK(strcmp(hr_http_method_name(rows[i].id), rows[i].name) == 0);
	}
	HR_CHECK(strcmp(hr_http_method_name(HR_METHOD_OTHER), "") == 0);
	HR_CHECK(strcmp(hr_http_method_name(-1), "") == 0);
	HR_CHECK(strcmp(hr_http_method_name(HR_METHOD__COUNT), "") == 0);
}

/* headers_cap smaller than max_headers still bounds writes. */
static void test_headers_cap_bounds_writes(void)
{
	const char *in = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n";
	hr_http_header hdrs[2];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 2);
	HR_CHECK(hr_http_parse_head(in, strlen(in), &deflim, &h) == -HR_HTTP_E_TOO_MANY_HEADERS);
}

/* A head sent one byte per call costs linear work: 1 MiB finishes fast. */
static void test_bytewise_large_head_is_linear(void)
{
	size_t n = 1 << 20;
	char *in = malloc(n + 64);
	HR_REQUIRE(in);
	size_t o = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
	memset(in + o, 'a', n - o - 4);
	memcpy(in + n - 4, "\r\n\r\n", 4);
	hr_http_limits lim = {8192, n, 64, 0};
	hr_http_header hdrs[4];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 4);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = 0;
	for (size_t k = 1; k <= n && r == 0; k++)
		r = hr_http_parse_head(in, k, &lim, &h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	HR_CHECKF(r == (int)n, "r=%d", r);
	HR_CHECKF(s < 5.0, "took %.2f s", s);
	HR_CHECK(h.headers[1].value.len == n - o - 4);
	free(in);
}

/* Once failed, always failed; once done, always done. */
static void test_sticky_results(void)
{
	const char *bad = "GET / HTTP/1.1\r\nHost : x\r\n\r\n";
	const char *good = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n";
	hr_http_header hdrs[4];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 4);
	HR_CHECK(hr_http_parse_head(bad, strlen(bad), &deflim, &h) == -HR_HTTP_E_SPACE_BEFORE_COLON);
	HR_CHECK(hr_http_parse_head(bad, strlen(bad), &deflim, &h) == -HR_HTTP_E_SPACE_BEFORE_COLON);
	hr_http_head_init(&h, hdrs, 4);
	HR_CHECK(hr_http_parse_head(good, strlen(good), &deflim, &h) == 27);
	HR_CHECK(hr_http_parse_head(good, strlen(good), &deflim, &h) == 27);
	HR_CHECK(h.content_length == -1 && !h.chunked);
}

/* Rebase moves only slices that point into the old buffer. */
static void test_rebase_absolute_empty_path(void)
{
	const char *in = "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t n = strlen(in);
	char a[64], b[64];
	memcpy(a, in, n);
	memcpy(b, in, n);
	hr_http_header hdrs[4];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 4);
	HR_REQUIRE(hr_http_parse_head(a, n, &deflim, &h) == (int)n);
	const char *slash = h.path.ptr;
	hr_http_head_rebase(&h, a, b);
	HR_CHECK(h.path.ptr == slash && slice_is(h.path, "/"));
	HR_CHECK(h.host.ptr == b + 11 && h.method.ptr == b && h.headers[0].value.ptr == b + 29);
}

/* Rebase with bases that are not the head's start but share its delta. */
static void test_rebase_with_offset_bases(void)
{
	static const char in[] = "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n";
	char a[128], b[128];
	size_t n = sizeof in - 1;
	memset(a, 'x', sizeof a);
	memset(b, 'y', sizeof b);
	memcpy(a + 40, in, n); /* a pipelined request at offset 40 */
	memcpy(b + 7, in, n);	/* moved to offset 7 of new storage */
	hr_http_header hdrs[4];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 4);
	HR_REQUIRE(hr_http_parse_head(a + 40, n, &deflim, &h) == (int)n);
	memset(a, 0, sizeof a);
	hr_http_head_rebase(&h, a + 33, b); /* same displacement as a+40 -> b+7 */
	HR_CHECK(h.method.ptr == b + 7 && slice_is(h.method, "GET"));
	HR_CHECK(slice_is(h.path, "/a") && slice_is(h.query, "b") && slice_is(h.host, "h"));
	HR_CHECK(slice_is(h.headers[0].name, "Host") && h.headers[0].name.ptr == b + 7 + 19);
}

/* Repeated headers: find_name gives the first, find_last_name the last. */
static void test_find_first_and_last_of_repeated(void)
{
	const char *in = "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\n"
			 "Via: p\r\nx-forwarded-for: 10.0.0.2, 10.0.0.3\r\nA: 1\r\n\r\n";
	hr_http_header hdrs[8];
	hr_http_head h;
	hr_http_head_init(&h, hdrs, 8);
	HR_REQUIRE(hr_http_parse_head(in, strlen(in), &deflim, &h) == (int)strlen(in));
	const hr_http_header *f = hr_http_head_find_name(&h, HR_STR("X-FORWARDED-FOR"));
	const hr_http_header *l = hr_http_head_find_last_name(&h, HR_STR("X-FORWARDED-FOR"));
	HR_REQUIRE(f && l);
	HR_CHECK(slice_is(f->value, "10.0.0.1"));
	HR_CHECK(slice_is(l->value, "10.0.0.2, 10.0.0.3"));
	HR_CHECK(hr_http_head_find_last_name(&h, HR_STR("Via")) == hr_http_head_find_name(&h, HR_STR("via")));
	HR_CHECK(hr_http_head_find_last_name(&h, HR_STR("X-Real-IP")) == NULL);
	HR_CHECK(hr_http_head_find_last_name(&h, HR_STR("X-Forwarded")) == NULL);
	hr_http_head_init(&h, hdrs, 8);
	HR_CHECK(hr_http_head_find_last_name(&h, HR_STR("Host")) == NULL);
}

static const hr_test_case tests[] = {
	{"find_first_and_last_of_repeated", test_find_first_and_last_of_repeated},
	{"rebase_with_offset_bases", test_rebase_with_offset_bases},
	{"table_whole", test_table_whole},
	{"table_splits_guarded_rebased", test_table_splits_guarded_rebased},
	{"table_bytewise", test_table_bytewise},
	{"table_covers_every_head_error", test_table_covers_every_head_error},
	{"err_status_table", test_err_status_table},
	{"method_ids_and_names", test_method_ids_and_names},
	{"headers_cap_bounds_writes", test_headers_cap_bounds_writes},
	{"bytewise_large_head_is_linear", test_bytewise_large_head_is_linear},
	{"sticky_results", test_sticky_results},
	{"rebase_absolute_empty_path", test_rebase_absolute_empty_path},
};

HR_TEST_MAIN(tests)

/*
 * http/parser.c - the request-head parser: request line, header fields,
 * framing headers (RFC 9112 §2-§3, §5, §6; RFC 9110 §5, §7.2). The contract
 * is in parser.h; this comment is about how it is met.
 *
 * DESIGN
 *
 * Line at a time. Each call searches for the next LF with memchr, starting
 * where the previous call's search stopped (head->pos_ + head->scan_), so a
 * client that dribbles one byte per read costs one byte of searching per
 * byte. Only when a line is complete is it validated, in one pass of table
 * lookups that needs no bounds checks: every class table below excludes CR
 * and LF, and the line is known to end in LF, so each scan stops at the
 * line's end at the latest. A validated line is never looked at again;
 * head->pos_ moves past it.
 *
 * Limits are checked on incomplete input too, and in a way that does not
 * depend on how the input was split: the request line is refused with 414
 * at the first byte that proves it longer than max_request_line, and the
 * head with 431 at the first byte that proves it longer than max_head_bytes
 * (whichever of the two is proven by the earlier byte wins; 414 on a tie).
 * Every other check looks at complete lines in order, so a request refused
 * when given whole is refused with the same code when given in pieces, only
 * possibly earlier; tests/unit/http/parser_test.c checks this at every split
 * point and fuzz/http_parser_fuzz.c checks it on random input.
 *
 * Framing headers (Host, Content-Length, Transfer-Encoding, Connection,
 * Expect) are interpreted as their line is validated, so a duplicate
 * Content-Length or a Content-Length over max_body is refused on its line.
 * Only "HTTP/1.1 without Host" has to wait for the empty line.
 *
 * Field names are mapped to enum hr_http_hdr_id by a switch on the length
 * and a compare of 8 bytes at a time with 0x20 or-ed in. That fold is exact
 * here because names are already known to be tokens, and tchar has no byte
 * that folds onto a lowercase letter or '-' other than the letter itself.
 *
 * INVARIANTS
 *   - pos_ <= len of the last call and pos_ <= max_head_bytes: it only ever
 *     moves past a validated line whose LF lies below max_head_bytes.
 *   - After completion (stage_ == 2) or failure (stage_ < 0) the call is
 *     idempotent: it returns the same value and reads nothing.
 *   - headers[0..num_headers) are validated fields; nothing past
 *     min(max_headers, headers_cap) is ever written.
 *
 * CAVEATS (deliberate)
 *   - Percent-escapes in the target are not checked for two hex digits: the
 *     router decodes and refuses a bad escape. Only the byte set is checked.
 *   - One CRLF before the request line is skipped (RFC 9112 §2.2 "SHOULD
 *     ignore at least one empty line"); so are more, within max_head_bytes.
 *   - Expect values other than 100-continue are ignored rather than answered
 *     with 417 (RFC 9110 §10.1.1 makes 417 a MAY); Expect in HTTP/1.0 is
 *     ignored as §10.1.1 requires.
 *   - The Host value is only checked for syntax, with a port of *DIGIT as
 *     the grammar says (no 65535 bound). With an absolute-form target the
 *     authority becomes head->host and the Host field, still required on
 *     HTTP/1.1 and still syntax-checked, is otherwise ignored (§3.2.2).
 *   - An absolute-form target with an empty path gets path "/" (§3.2.1);
 *     that slice points at a constant, not into the buffer, and
 *     hr_http_head_rebase() leaves it alone.
 *   - Transfer-Encoding is refused at its first coding we cannot apply:
 *     "gzip, chunked" is 501 at "gzip", "chunked, gzip" is 400 at "gzip"
 *     (chunked not last, §6.3), "chunked, chunked" is 400 (§6.1).
 */
#include "http/parser.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "core/common.h"

enum { STAGE_LINE = 0, STAGE_HEADERS = 1, STAGE_DONE = 2 };

/* head->flags_ */
#define F_CONN_CLOSE 0x1u /* a Connection field listed "close" */
#define F_CONN_KA 0x2u	  /* a Connection field listed "keep-alive" */
#define F_ABSOLUTE 0x4u	  /* the target was absolute-form; host is its authority */

/*
 * Request-target bytes (RFC 9112 §3.2, RFC 3986 §3.3-§3.4):
 *   origin-form   = absolute-path [ "?" query ]
 *   absolute-path = 1*( "/" segment )
 *   segment       = *pchar
 *   query         = *( pchar / "/" / "?" )
 *   pchar         = unreserved / pct-encoded / sub-delims / ":" / "@"
 *   unreserved    = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   sub-delims    = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," /
 *                   ";" / "="
 *   pct-encoded   = "%" HEXDIG HEXDIG      (only '%' is checked here)
 * path_map is pchar plus "/"; query_map adds "?". Neither has SP, CTL,
 * "#", other delimiters or obs-text. The first "?" ends the path, so the
 * path is scanned with path_map and the query with query_map, and the
 * split falls out of the scan.
 */
static const unsigned char path_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, /* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

static const unsigned char query_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, /* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/*
 * reg-name bytes (RFC 3986 §3.2.2), without "%" (escapes are checked for
 * two HEXDIG by the host validator):
 *   reg-name    = *( unreserved / pct-encoded / sub-delims )
 *   IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet
 * IPv4address is a subset of reg-name, so the syntax check of a host that
 * is not an IP-literal is this table (plus escapes).
 */
static const unsigned char regname_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, /* 0x30 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, /* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

#define T_(x) hr_str_tchar_map[(unsigned char)(x)]
#define V_(x) hr_str_field_map[(unsigned char)(x)]

static inline bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static inline bool is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10u;
}

static inline bool is_hex(unsigned char c)
{
	return is_digit(c) || (unsigned)((c | 0x20) - 'a') < 6u;
}

static inline uint64_t load64(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/*
 * Does any byte of w lie below 0x20 or equal 0x7f? The "has a byte less
 * than n" word trick (exact for n <= 0x80): a byte b < n borrows into its
 * own top bit when n is subtracted, and ~w masks out bytes >= 0x80.
 */
static inline bool word_has_ctl(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t del = w ^ (0x7f * ones);
	return (((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & high;
}

/* ---------------------------------------------------------------------- */
/* Methods and header names. */

int hr_http_method_id(hr_str m)
{
	const char *p = m.ptr;
	switch (m.len) {
	case 3:
		if (memcmp(p, "GET", 3) == 0)
			return HR_METHOD_GET;
		if (memcmp(p, "PUT", 3) == 0)
			return HR_METHOD_PUT;
		break;
	case 4:
		if (memcmp(p, "POST", 4) == 0)
			return HR_METHOD_POST;
		if (memcmp(p, "HEAD", 4) == 0)
			return HR_METHOD_HEAD;
		break;
	case 5:
		if (memcmp(p, "PATCH", 5) == 0)
			return HR_METHOD_PATCH;
		if (memcmp(p, "TRACE", 5) == 0)
			return HR_METHOD_TRACE;
		break;
	case 6:
		if (memcmp(p, "DELETE", 6) == 0)
			return HR_METHOD_DELETE;
		break;
	case 7:
		if (memcmp(p, "OPTIONS", 7) == 0)
			return HR_METHOD_OPTIONS;
		if (memcmp(p, "CONNECT", 7) == 0)
			return HR_METHOD_CONNECT;
		break;
	default:
		break;
	}
	return HR_METHOD_OTHER;
}

const char *hr_http_method_name(int id)
{
	static const char *const names[HR_METHOD__COUNT] = {
		[HR_METHOD_OTHER] = "",	       [HR_METHOD_GET] = "GET",
		[HR_METHOD_HEAD] = "HEAD",     [HR_METHOD_POST] = "POST",
		[HR_METHOD_PUT] = "PUT",       [HR_METHOD_PATCH] = "PATCH",
		[HR_METHOD_DELETE] = "DELETE", [HR_METHOD_OPTIONS] = "OPTIONS",
		[HR_METHOD_TRACE] = "TRACE",   [HR_METHOD_CONNECT] = "CONNECT",
	};
	if (id < 0 || id >= HR_METHOD__COUNT)
		return "";
	return names[id];
}

/*
 * Does p[0..n) equal lit (n bytes of lowercase letters, digits and '-')
 * ignoring case? Or-ing 0x20 into a byte maps it onto such a literal byte
 * only from that byte itself, from its uppercase letter, or from a control
 * byte (0x0d, 0x10-0x19): so the compare is exact for tokens and for
 * validated field values, which hold no controls.
 */
static inline bool name_is(const char *p, const char *lit, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, p + i, 8);
		memcpy(&b, lit + i, 8);
		if ((a | 0x2020202020202020ull) != b)
			return false;
	}
	if (i + 4 <= n) {
		uint32_t a, b;
		memcpy(&a, p + i, 4);
		memcpy(&b, lit + i, 4);
		if ((a | 0x20202020u) != b)
			return false;
		i += 4;
	}
	for (; i < n; i++)
		if ((p[i] | 0x20) != lit[i])
			return false;
	return true;
}

#define NAME_IS(p, lit) name_is((p), (lit), sizeof(lit) - 1)

/* Maps a field name (already known to be a token) to enum hr_http_hdr_id. */
static int header_id(const char *p, size_t n)
{
	switch (n) {
	case 4:
		return NAME_IS(p, "host") ? HR_HDR_HOST : HR_HDR_OTHER;
	case 5:
		return NAME_IS(p, "range") ? HR_HDR_RANGE : HR_HDR_OTHER;
	case 6:
		switch (p[0] | 0x20) {
		case 'a':
			return NAME_IS(p, "accept") ? HR_HDR_ACCEPT : HR_HDR_OTHER;
		case 'c':
			return NAME_IS(p, "cookie") ? HR_HDR_COOKIE : HR_HDR_OTHER;
		case 'e':
			return NAME_IS(p, "expect") ? HR_HDR_EXPECT : HR_HDR_OTHER;
		case 'o':
			return NAME_IS(p, "origin") ? HR_HDR_ORIGIN : HR_HDR_OTHER;
		default:
			return HR_HDR_OTHER;
		}
	case 7:
		return NAME_IS(p, "upgrade") ? HR_HDR_UPGRADE : HR_HDR_OTHER;
	case 8:
		return NAME_IS(p, "if-range") ? HR_HDR_IF_RANGE : HR_HDR_OTHER;
	case 10:
		if (NAME_IS(p, "connection"))
			return HR_HDR_CONNECTION;
		return NAME_IS(p, "user-agent") ? HR_HDR_USER_AGENT : HR_HDR_OTHER;
	case 12:
		return NAME_IS(p, "content-type") ? HR_HDR_CONTENT_TYPE : HR_HDR_OTHER;
	case 13:
		if (NAME_IS(p, "authorization"))
			return HR_HDR_AUTHORIZATION;
		return NAME_IS(p, "if-none-match") ? HR_HDR_IF_NONE_MATCH : HR_HDR_OTHER;
	case 14:
		return NAME_IS(p, "content-length") ? HR_HDR_CONTENT_LENGTH : HR_HDR_OTHER;
	case 15:
		return NAME_IS(p, "accept-encoding") ? HR_HDR_ACCEPT_ENCODING : HR_HDR_OTHER;
	case 17:
		if (NAME_IS(p, "transfer-encoding"))
			return HR_HDR_TRANSFER_ENCODING;
		return NAME_IS(p, "if-modified-since") ? HR_HDR_IF_MODIFIED_SINCE : HR_HDR_OTHER;
	default:
		return HR_HDR_OTHER;
	}
}

/* ---------------------------------------------------------------------- */
/* Hosts: RFC 9112 §3.2 Host = uri-host [ ":" port ], RFC 3986 §3.2.2-3. */

/*
 * dec-octet = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT /
 *             "25" %x30-35
 * i.e. 0-255 without leading zeros. IPv4address = dec-octet 3( "." dec-octet ).
 */
static bool valid_ipv4(const char *p, const char *e)
{
	for (int part = 0; part < 4; part++) {
		const char *s = p;
		unsigned v = 0;
		while (p < e && is_digit((unsigned char)*p) && p - s < 3)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == s || v > 255 || (p - s > 1 && *s == '0'))
			return false;
		if (part < 3) {
			if (p == e || *p != '.')
				return false;
			p++;
		}
	}
	return p == e;
}

/*
 * IPv6address (RFC 3986 §3.2.2): up to eight h16 groups separated by ":",
 * at most one "::" standing for one or more zero groups, and optionally an
 * IPv4address in place of the last two groups.
 *   h16 = 1*4HEXDIG
 */
static bool valid_ipv6(const char *p, const char *e)
{
	int groups = 0;
	bool elided = false;
	if (e - p >= 2 && p[0] == ':' && p[1] == ':') {
		elided = true;
		p += 2;
		if (p == e)
			return true;
	}
	for (;;) {
		/* Invariant: p < e and p starts a group. At most 8 iterations. */
		const char *s = p;
		while (p < e && is_hex((unsigned char)*p) && p - s < 5)
			p++;
		if (p == s)
			return false;
		if (p < e && *p == '.') {
			if (groups > 6 || !valid_ipv4(s, e))
				return false;
			groups += 2;
			break;
		}
		if (p - s > 4)
			return false;
		groups++;
		if (p == e)
			break;
		if (*p != ':' || groups >= 8)
			return false;
		p++;
		if (p < e && *p == ':') {
			if (elided)
				return false;
			elided = true;
			p++;
			if (p == e)
				break;
		} else if (p == e) {
			return false;
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

/*
 * IP-literal = "[" ( IPv6address / IPvFuture ) "]"; p..e is the inside.
 * IPvFuture  = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
 */
static bool valid_ip_literal(const char *p, const char *e)
{
	if (p < e && (*p == 'v' || *p == 'V')) {
		const char *s = ++p;
		while (p < e && is_hex((unsigned char)*p))
			p++;
		if (p == s || p == e || *p != '.')
			return false;
		s = ++p;
		while (p < e && (regname_map[(unsigned char)*p] || *p == ':'))
			p++;
		return p != s && p == e;
	}
	return valid_ipv6(p, e);
}

/*
 * Is p[0..n) uri-host [ ":" port ] with port = *DIGIT? Sets *host_len to
 * the length of the uri-host part (0 for an empty reg-name).
 *
 * p[n] must be readable and be none of reg-name, DIGIT, "%": the scans use
 * it as their sentinel. Both callers pass a slice followed by such a byte:
 * a trimmed field value (then SP, HTAB or CR) or an absolute-form
 * authority (then "/", "?" or SP).
 */
static bool valid_host(const char *p, size_t n, size_t *host_len)
{
	const char *e = p + n, *s = p;
	if (p < e && *p == '[') {
		const char *c = memchr(p, ']', n);
		if (!c || !valid_ip_literal(p + 1, c))
			return false;
		p = c + 1;
	} else {
		for (;;) {
			/* Each round advances p by 3 or stops; p <= e throughout. */
			while (regname_map[(unsigned char)*p])
				p++;
			if (*p == '%' && e - p >= 3 && is_hex((unsigned char)p[1]) &&
			    is_hex((unsigned char)p[2]))
				p += 3;
			else
				break;
		}
	}
	*host_len = (size_t)(p - s);
	if (p == e)
		return true;
	if (*p++ != ':')
		return false;
	while (is_digit((unsigned char)*p))
		p++;
	return p == e;
}

/* ---------------------------------------------------------------------- */
/* The request line: method SP request-target SP HTTP-version (§3). */

/*
 * The byte at q ended the method or the version where it should not. A CR
 * at e ends the line early; any other CR is bare; HTAB is a wrong
 * separator; other controls are CTL; anything else is dflt's fault.
 */
static int rl_stop_err(const char *q, const char *e, int dflt)
{
	unsigned char c = (unsigned char)*q;
	if (c == '\r')
		return q == e ? HR_HTTP_E_REQUEST_LINE : HR_HTTP_E_BARE_CR;
	if (c == '\t')
		return HR_HTTP_E_REQUEST_LINE;
	if (is_ctl(c))
		return HR_HTTP_E_CTL;
	return dflt;
}

static const char slash[] = "/";

/*
 * Scans absolute-path [ "?" query ] (or path-abempty [ "?" query ]) from t
 * and sets head->path and head->query. Returns the first byte that belongs
 * to neither; the caller checks that it is the SP before the version. The
 * line's CR guarantees the scans stop.
 */
static const char *scan_path_query(hr_http_head *h, const char *t)
{
	const char *x = t;
	for (;;) {
		if (!path_map[(unsigned char)x[0]])
			break;
		if (!path_map[(unsigned char)x[1]]) {
			x += 1;
			break;
		}
		if (!path_map[(unsigned char)x[2]]) {
			x += 2;
			break;
		}
		if (!path_map[(unsigned char)x[3]]) {
			x += 3;
			break;
		}
		x += 4;
	}
	h->path = x > t ? hr_str_make(t, (size_t)(x - t)) : hr_str_make(slash, 1);
	if (*x != '?') {
		h->query = hr_str_make(x, 0);
		return x;
	}
	const char *q = ++x;
	while (query_map[(unsigned char)*x])
		x++;
	h->query = hr_str_make(q, (size_t)(x - q));
	return x;
}

/*
 * absolute-form = absolute-URI (§3.2.2), accepted for the http and https
 * schemes only: scheme "://" authority path-abempty [ "?" query ].
 * userinfo is refused (RFC 9110 §4.2.4), and so is an empty host (§4.2.1:
 * "MUST reject it as invalid").
 */
static int parse_absolute(hr_http_head *h, const char *t, const char *te)
{
	size_t n = (size_t)(te - t);
	const char *a;
	if (n >= 7 && hr_str_ieq(hr_str_make(t, 7), HR_STR("http://")))
		a = t + 7;
	else if (n >= 8 && hr_str_ieq(hr_str_make(t, 8), HR_STR("https://")))
		a = t + 8;
	else
		return HR_HTTP_E_TARGET; /* authority-form, another scheme, garbage */
	const char *ae = a;
	while (ae < te && *ae != '/' && *ae != '?')
		ae++;
	size_t hl;
	if (!valid_host(a, (size_t)(ae - a), &hl) || hl == 0)
		return HR_HTTP_E_TARGET;
	if (scan_path_query(h, ae) != te)
		return HR_HTTP_E_TARGET;
	h->host = hr_str_make(a, (size_t)(ae - a));
	h->flags_ |= F_ABSOLUTE;
	return 0;
}

/* The request line p..e (e is its CR); returns 0 or an error code. */
static int parse_request_line(hr_http_head *h, const char *p, const char *e)
{
	const char *q = p;
	while (T_(*q))
		q++;
	if (HR_UNLIKELY(*q != ' ' || q == p))
		return rl_stop_err(q, e, HR_HTTP_E_METHOD);
	h->method = hr_str_make(p, (size_t)(q - p));
	h->method_id = hr_http_method_id(h->method);

	/*
	 * The version is the part after the last SP, so that a SP inside the
	 * target shows as a bad target and not as a bad version.
	 */
	const char *t = q + 1, *v;
	if (HR_LIKELY(e - t >= 9 && e[-9] == ' ')) {
		v = e - 8;
	} else {
		const char *sp = memrchr(t, ' ', (size_t)(e - t));
		if (!sp || sp + 1 == e)
			return HR_HTTP_E_REQUEST_LINE;
		v = sp + 1;
	}
	const char *te = v - 1;
	if (t == te)
		return HR_HTTP_E_REQUEST_LINE; /* "GET  HTTP/1.1" */

	if (HR_LIKELY(*t == '/')) {
		const char *x = scan_path_query(h, t);
		if (HR_UNLIKELY(x != te)) {
			if (*x == ' ' && x + 1 == te)
				return HR_HTTP_E_REQUEST_LINE; /* two SP before the version */
			/* Any other SP, HTAB, CTL, obs-text or delimiter is a bad
			 * target; a CR keeps its own code. */
			return *x == '\r' ? HR_HTTP_E_BARE_CR : HR_HTTP_E_TARGET;
		}
	} else if (*t == '*' && te - t == 1) {
		if (h->method_id != HR_METHOD_OPTIONS)
			return HR_HTTP_E_TARGET; /* asterisk-form is for OPTIONS only */
		h->path = hr_str_make(t, 1);
		h->query = hr_str_make(te, 0);
	} else if (*t == ' ') {
		return HR_HTTP_E_REQUEST_LINE; /* two SP after the method */
	} else {
		int err = parse_absolute(h, t, te);
		if (err)
			return err;
	}
	h->target = hr_str_make(t, (size_t)(te - t));

	/* HTTP-version = HTTP-name "/" DIGIT "." DIGIT; HTTP-name = %s"HTTP" */
	if (HR_LIKELY(e - v == 8)) {
		uint64_t w, v11, v10;
		memcpy(&w, v, 8);
		memcpy(&v11, "HTTP/1.1", 8);
		memcpy(&v10, "HTTP/1.0", 8);
		if (HR_LIKELY(w == v11)) {
			h->minor_version = 1;
			h->keep_alive = true;
			return 0;
		}
		if (w == v10) {
			h->minor_version = 0;
			h->keep_alive = false;
			return 0;
		}
		if (memcmp(v, "HTTP/", 5) == 0 && is_digit((unsigned char)v[5]) && v[6] == '.' &&
		    is_digit((unsigned char)v[7]))
			return HR_HTTP_E_VERSION_UNSUP;
	}
	for (const char *x = v; x < e; x++)
		if (*x == '\r' || is_ctl((unsigned char)*x))
			return rl_stop_err(x, e, HR_HTTP_E_VERSION);
	return HR_HTTP_E_VERSION;
}

/* ---------------------------------------------------------------------- */
/* Header fields (§5): field-name ":" OWS field-value OWS. */

/* Transfer-Encoding = #transfer-coding (RFC 9110 §10.1.4, RFC 9112 §6.1). */
static int apply_te(hr_http_head *h, hr_str v)
{
	size_t pos = 0;
	hr_str el;
	bool any = false;
	while (hr_str_list_next(v, &pos, &el)) {
		any = true;
		if (hr_str_ieq_lit(el, "chunked")) {
			if (h->chunked)
				return HR_HTTP_E_BAD_TE; /* applied twice */
			h->chunked = true;
			continue;
		}
		/* transfer-coding = token *( OWS ";" OWS transfer-parameter ) */
		size_t n = 0, w;
		while (n < el.len && T_(el.ptr[n]))
			n++;
		for (w = n; w < el.len && (el.ptr[w] == ' ' || el.ptr[w] == '\t'); w++)
			;
		if (n == 0 || (w < el.len && el.ptr[w] != ';'))
			return HR_HTTP_E_BAD_TE; /* not a transfer-coding */
		if (h->chunked || hr_str_ieq_lit(hr_str_make(el.ptr, n), "chunked"))
			return HR_HTTP_E_BAD_TE; /* chunked not last (§6.3), or with parameters */
		return HR_HTTP_E_TE_UNSUPPORTED;
	}
	return any ? 0 : HR_HTTP_E_BAD_TE;
}

/* Connection = #connection-option (RFC 9110 §7.6.1). */
static void apply_connection(hr_http_head *h, hr_str v)
{
	size_t pos = 0;
	hr_str el;
	while (hr_str_list_next(v, &pos, &el)) {
		if (el.len == 5 && NAME_IS(el.ptr, "close"))
			h->flags_ |= F_CONN_CLOSE;
		else if (el.len == 10 && NAME_IS(el.ptr, "keep-alive"))
			h->flags_ |= F_CONN_KA;
		else if (el.len == 7 && NAME_IS(el.ptr, "upgrade"))
			h->upgrade = true;
	}
	/* RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	h->keep_alive = !(h->flags_ & F_CONN_CLOSE) &&
			(h->minor_version == 1 || (h->flags_ & F_CONN_KA));
}

static int apply_known(hr_http_head *h, int id, hr_str v, const hr_http_limits *lim)
{
	switch (id) {
	case HR_HDR_HOST: {
		size_t hl;
		if (h->host_count_++)
			return HR_HTTP_E_DUP_HOST;
		if (!valid_host(v.ptr, v.len, &hl))
			return HR_HTTP_E_BAD_HOST;
		if (!(h->flags_ & F_ABSOLUTE))
			h->host = v;
		return 0;
	}
	case HR_HDR_CONTENT_LENGTH: {
		uint64_t n;
		if (h->cl_count_++)
			return HR_HTTP_E_DUP_CL;
		if (h->te_count_)
			return HR_HTTP_E_CL_AND_TE;
		/* Content-Length = 1*DIGIT (§8.6); lists like "5, 5" are refused. */
		if (hr_str_to_u64(v, INT64_MAX, &n) != 0)
			return HR_HTTP_E_BAD_CL;
		if (n > lim->max_body)
			return HR_HTTP_E_BODY_TOO_LARGE;
		h->content_length = (int64_t)n;
		return 0;
	}
	case HR_HDR_TRANSFER_ENCODING:
		if (h->minor_version == 0)
			return HR_HTTP_E_TE_HTTP10;
		if (h->cl_count_)
			return HR_HTTP_E_CL_AND_TE;
		h->te_count_++;
		return apply_te(h, v);
	case HR_HDR_CONNECTION:
		apply_connection(h, v);
		return 0;
	case HR_HDR_EXPECT:
		if (h->minor_version == 1 && hr_str_list_has(v, HR_STR("100-continue")))
			h->expect_continue = true;
		return 0;
	default:
		return 0;
	}
}

/* A field line's name ended at q, which is not ':' (or is, with no name). */
static int name_err(const char *p, const char *q, const char *e)
{
	unsigned char c = (unsigned char)*q;
	if (q == p && (c == ' ' || c == '\t'))
		return HR_HTTP_E_OBS_FOLD;
	if (c == ' ' || c == '\t') {
		while (*q == ' ' || *q == '\t')
			q++;
		return *q == ':' ? HR_HTTP_E_SPACE_BEFORE_COLON : HR_HTTP_E_HEADER_NAME;
	}
	if (c == '\r')
		return q == e ? HR_HTTP_E_NO_COLON : HR_HTTP_E_BARE_CR;
	if (is_ctl(c))
		return HR_HTTP_E_CTL;
	return HR_HTTP_E_HEADER_NAME;
}

/* The field line p..e (e is its CR, e > p). */
static int parse_field_line(hr_http_head *h, const char *p, const char *e,
			    const hr_http_limits *lim, unsigned max_headers)
{
	const char *q = p;
	for (;;) {
		if (!T_(q[0]))
			break;
		if (!T_(q[1])) {
			q += 1;
			break;
		}
		if (!T_(q[2])) {
			q += 2;
			break;
		}
		if (!T_(q[3])) {
			q += 3;
			break;
		}
		q += 4;
	}
	if (HR_UNLIKELY(*q != ':' || q == p))
		return name_err(p, q, e);
	const char *v = q + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	/*
	 * Field values are most of a head's bytes, so whole words of plain
	 * VCHAR/SP/obs-text are skipped 8 bytes at a time; the first word with
	 * any byte below 0x20 (HTAB included) or DEL, and the tail, go through
	 * the table. The line's CR bounds the table scan.
	 */
	const char *x = v;
	while (e - x >= 8 && !word_has_ctl(load64(x)))
		x += 8;
	while (V_(*x))
		x++;
	if (HR_UNLIKELY(x != e))
		return *x == '\r' ? HR_HTTP_E_BARE_CR : HR_HTTP_E_CTL;
	while (x > v && (x[-1] == ' ' || x[-1] == '\t'))
		x--;
	if (HR_UNLIKELY(h->num_headers >= max_headers))
		return HR_HTTP_E_TOO_MANY_HEADERS;
	hr_http_header *f = &h->headers[h->num_headers++];
	f->name = hr_str_make(p, (size_t)(q - p));
	f->value = hr_str_make(v, (size_t)(x - v));
	f->id = header_id(p, f->name.len);
	if (f->id == HR_HDR_OTHER)
		return 0;
	return apply_known(h, f->id, f->value, lim);
}

/* ---------------------------------------------------------------------- */

void hr_http_head_init(hr_http_head *head, hr_http_header *headers, unsigned cap)
{
	memset(head, 0, sizeof *head);
	head->headers = headers;
	head->headers_cap = cap;
	head->content_length = -1;
}

/*
 * Which size limit, if any, do the bytes of the current line so far
 * (pos..end, end being its LF or the end of input) prove exceeded? See the
 * design note: each limit is tied to the first byte offset that proves it.
 */
static int line_limits(const char *buf, size_t pos, size_t end, int stage, size_t max_rl,
		       size_t max_head)
{
	size_t t414 = SIZE_MAX;
	if (stage == STAGE_LINE && end - pos > max_rl) {
		/* Content length is end - pos, less a final CR that may be the
		 * terminator's; it first exceeds max_rl at this offset. */
		t414 = pos + max_rl + 1 + (buf[pos + max_rl] == '\r');
	}
	size_t t = HR_MIN(t414, max_head);
	if (HR_LIKELY(end < t))
		return 0;
	return t414 <= max_head ? HR_HTTP_E_URI_TOO_LONG : HR_HTTP_E_HEAD_TOO_LARGE;
}

int hr_http_parse_head(const char *buf, size_t len, const hr_http_limits *lim,
		       hr_http_head *h)
{
	if (HR_UNLIKELY(h->stage_ < 0))
		return h->stage_;
	if (HR_UNLIKELY(h->stage_ == STAGE_DONE))
		return (int)h->head_len;
	assert(len >= h->pos_ + h->scan_);

	/* head_len must fit the int we return. */
	size_t max_head = HR_MIN(lim->max_head_bytes, (size_t)INT_MAX);
	unsigned max_headers = HR_MIN(lim->max_headers, h->headers_cap);
	size_t stop = HR_MIN(len, max_head);
	size_t pos = h->pos_;
	int err;

	for (;;) {
		/* Bounded: each iteration consumes a line below max_head or returns. */
		size_t from = pos + h->scan_;
		const char *lf = from < stop ? memchr(buf + from, '\n', stop - from) : NULL;
		size_t end = lf ? (size_t)(lf - buf) : len;
		err = line_limits(buf, pos, end, h->stage_, lim->max_request_line, max_head);
		if (HR_UNLIKELY(err))
			goto fail;
		if (!lf) {
			h->pos_ = pos;
			h->scan_ = stop - pos;
			return 0;
		}
		h->scan_ = 0;
		if (HR_UNLIKELY(end == pos || buf[end - 1] != '\r')) {
			err = HR_HTTP_E_BARE_LF;
			goto fail;
		}
		const char *p = buf + pos, *e = buf + end - 1;
		pos = end + 1;
		if (h->stage_ == STAGE_HEADERS) {
			if (p == e)
				break;
			err = parse_field_line(h, p, e, lim, max_headers);
		} else if (p == e) {
			continue; /* empty line before the request line (§2.2) */
		} else {
			err = parse_request_line(h, p, e);
			h->stage_ = STAGE_HEADERS;
		}
		if (HR_UNLIKELY(err))
			goto fail;
	}

	/* The empty line: checks that need the whole head. */
	if (h->minor_version == 1 && h->host_count_ == 0) {
		err = HR_HTTP_E_NO_HOST; /* RFC 9112 §3.2: "MUST respond with a 400" */
		goto fail;
	}
	h->pos_ = pos;
	h->head_len = pos;
	h->stage_ = STAGE_DONE;
	return (int)pos;

fail:
	h->stage_ = -err;
	return -err;
}

void hr_http_head_rebase(hr_http_head *h, const char *old_base, const char *new_base)
{
	/*
	 * Every slice moves by the same delta, so any (old, new) pair with the
	 * buffer's displacement works, not only the buffer's start (conn.c
	 * passes the start of its whole read buffer). The one slice that does
	 * not point into the buffer is the constant "/" for an empty
	 * absolute-form path; it is recognised by address and left alone.
	 */
	uintptr_t delta = (uintptr_t)new_base - (uintptr_t)old_base;
#define REBASE(s)                                                                  \
	do {                                                                       \
		if ((s).ptr && (s).ptr != slash)                                   \
			(s).ptr = (const char *)((uintptr_t)(s).ptr + delta);      \
	} while (0)
	REBASE(h->method);
	REBASE(h->target);
	REBASE(h->path);
	REBASE(h->query);
	REBASE(h->host);
	for (unsigned i = 0; i < h->num_headers; i++) {
		REBASE(h->headers[i].name);
		REBASE(h->headers[i].value);
	}
#undef REBASE
}

const hr_http_header *hr_http_head_find(const hr_http_head *h, int id)
{
	for (unsigned i = 0; i < h->num_headers; i++)
		if (h->headers[i].id == id)
			return &h->headers[i];
	return NULL;
}

const hr_http_header *hr_http_head_find_name(const hr_http_head *h, hr_str name)
{
	for (unsigned i = 0; i < h->num_headers; i++)
		if (hr_str_ieq(h->headers[i].name, name))
			return &h->headers[i];
	return NULL;
}

const hr_http_header *hr_http_head_find_last_name(const hr_http_head *h, hr_str name)
{
	for (unsigned i = h->num_headers; i-- > 0;)
		if (hr_str_ieq(h->headers[i].name, name))
			return &h->headers[i];
	return NULL;
}

/* The one table from error code to status and reason. */
static const struct {
	short status;
	const char *reason;
} errs[HR_HTTP_E__COUNT] = {
	[HR_HTTP_OK] = {200, "OK"},
	[HR_HTTP_E_METHOD] = {400, "Invalid method"},
	[HR_HTTP_E_TARGET] = {400, "Invalid request target"},
	[HR_HTTP_E_URI_TOO_LONG] = {414, "Request line too long"},
	[HR_HTTP_E_VERSION] = {400, "Invalid HTTP version"},
	[HR_HTTP_E_VERSION_UNSUP] = {505, "HTTP version not supported"},
	[HR_HTTP_E_REQUEST_LINE] = {400, "Malformed request line"},
	[HR_HTTP_E_HEADER_NAME] = {400, "Invalid header name"},
	[HR_HTTP_E_SPACE_BEFORE_COLON] = {400, "Whitespace before header colon"},
	[HR_HTTP_E_OBS_FOLD] = {400, "Obsolete line folding"},
	[HR_HTTP_E_BARE_CR] = {400, "Bare CR"},
	[HR_HTTP_E_BARE_LF] = {400, "Bare LF"},
	[HR_HTTP_E_CTL] = {400, "Control character in request"},
	[HR_HTTP_E_NO_COLON] = {400, "Header line without colon"},
	[HR_HTTP_E_HEAD_TOO_LARGE] = {431, "Request header too large"},
	[HR_HTTP_E_TOO_MANY_HEADERS] = {431, "Too many header fields"},
	[HR_HTTP_E_CL_AND_TE] = {400, "Both Content-Length and Transfer-Encoding"},
	[HR_HTTP_E_BAD_CL] = {400, "Invalid Content-Length"},
	[HR_HTTP_E_DUP_CL] = {400, "Duplicate Content-Length"},
	[HR_HTTP_E_TE_UNSUPPORTED] = {501, "Unsupported transfer coding"},
	[HR_HTTP_E_TE_HTTP10] = {400, "Transfer-Encoding in HTTP/1.0"},
	[HR_HTTP_E_BAD_TE] = {400, "Invalid Transfer-Encoding"},
	[HR_HTTP_E_NO_HOST] = {400, "Missing Host"},
	[HR_HTTP_E_DUP_HOST] = {400, "Duplicate Host"},
	[HR_HTTP_E_BAD_HOST] = {400, "Invalid Host"},
	[HR_HTTP_E_BODY_TOO_LARGE] = {413, "Request entity too large"},
	[HR_HTTP_E_CHUNK_SIZE] = {400, "Invalid chunk size"},
	[HR_HTTP_E_CHUNK_EXT] = {400, "Invalid chunk extension"},
	[HR_HTTP_E_CHUNK_DATA] = {400, "Chunk data not followed by CRLF"},
	[HR_HTTP_E_TRAILER] = {400, "Invalid trailer field"},
};

int hr_http_err_status(int err)
{
	if (err < 0)
		err = -err;
	if (err >= HR_HTTP_E__COUNT || !errs[err].reason)
		return 400;
	return errs[err].status;
}

const char *hr_http_err_reason(int err)
{
	if (err < 0)
		err = -err;
	if (err >= HR_HTTP_E__COUNT || !errs[err].reason)
		return "Bad request";
	return errs[err].reason;
}

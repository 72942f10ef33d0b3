/*
 * http/response.c - status line and headers, Content-Length or chunked
 * framing, gzip, and the hearth_resp_* API.
 *
 * A response head is written straight into the connection's output queue
 * in one reservation, followed by the body when it is in memory, so a
 * small response is one memcpy of a few prepared pieces: the status line
 * from a table, "Server", the loop's cached Date line, Content-Type,
 * Content-Length, the handler's extra headers, Connection when needed.
 * Nothing is sent here; the connection flushes once per event (conn.c).
 *
 * Framing rules (RFC 9110 §6.4.1, §8.6; RFC 9112 §6.3):
 *   - 1xx, 204 and 304 carry no body; 204 no Content-Length either;
 *   - a HEAD response carries the headers a GET would, no body;
 *   - streamed responses use chunked coding on HTTP/1.1 and
 *     close-delimited bodies on HTTP/1.0;
 *   - we answer HTTP/1.0 requests as HTTP/1.1 (RFC 9110 §6.2), adding
 *     "Connection: keep-alive" when the client asked for it.
 *
 * gzip: a body of at least gzip_min_bytes with a compressible type is
 * deflated (level 5, one z_stream per loop reused with deflateReset) when
 * the request accepts gzip and the result is smaller. Eligible responses
 * carry "Vary: Accept-Encoding" whether compressed or not, so caches keep
 * the variants apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/common.h"
#include "http/internal.h"

#define GZIP_LEVEL 5

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* The dialect's default message per status (DIALECT.md §2.4). */
static const char *default_message(int status)
{
	switch (status) {
	case 401: return "Missing or invalid authentication.";
	case 403: return "You are not allowed to perform this request.";
	case 404: return "The requested resource wasn't found.";
	case 405: return "Method not allowed.";
	case 413: return "Request entity too large.";
	case 429: return "Too Many Requests.";
	case 400:
	case 500:
	default: return "Something went wrong while processing your request.";
	}
}

size_t hr_resp_status_line(int status, int minor, char *out)
{
	(void)minor;
	if (status < 100 || status > 999)
		status = 500;
	const char *r = reason(status);
	size_t rl = strlen(r);
	memcpy(out, "HTTP/1.1 ", 9);
	out[9] = (char)('0' + status / 100);
	out[10] = (char)('0' + status / 10 % 10);
	out[11] = (char)('0' + status % 10);
	out[12] = ' ';
	memcpy(out + 13, r, rl);
	out[13 + rl] = '\r';
	out[14 + rl] = '\n';
	return 15 + rl;
}

hr_str hr_resp_canned_503(void)
{
#define BODY_503 "{\"data\":{},\"message\":\"Too many connections; try again later.\",\"status\":503}"
#define STR_(x) #x
#define STR(x) STR_(x)
	static const char body[] = BODY_503;
	_Static_assert(sizeof body - 1 == 75, "update the Content-Length below");
	static const char r[] = "HTTP/1.1 503 Service Unavailable\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: " STR(75) "\r\n"
				"Connection: close\r\n"
				"Retry-After: 1\r\n"
				"\r\n" BODY_503;
#undef BODY_503
#undef STR
#undef STR_
	return hr_str_make(r, sizeof r - 1);
}

static size_t put_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* RFC 9110 §5.6.2 token characters. */
static bool is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
		      (c && strchr(extra, c))))
			return false;
	}
	return true;
}

static int xhdr_append(hearth_req *req, const char *name, size_t nlen, const char *value,
		       size_t vlen)
{
	if (!is_token(name, nlen))
		return HR_EINVAL;
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == '\r' || c == '\n' || c == '\0')
			return HR_EINVAL;
	}
	size_t need = nlen + 2 + vlen + 2;
	if (req->xhdr_cap - req->xhdr_len < need) {
		size_t cap = req->xhdr_cap ? req->xhdr_cap * 2 : 256;
		while (cap - req->xhdr_len < need)
			cap *= 2;
		char *p = hr_arena_alloc(&req->arena, cap);
		if (!p)
			return HR_ENOMEM;
		if (req->xhdr_len)
			memcpy(p, req->xhdr, req->xhdr_len);
		req->xhdr = p;
		req->xhdr_cap = cap;
	}
	char *p = req->xhdr + req->xhdr_len;
	memcpy(p, name, nlen);
	p[nlen] = ':';
	p[nlen + 1] = ' ';
	memcpy(p + nlen + 2, value, vlen);
	p[nlen + 2 + vlen] = '\r';
	p[nlen + 3 + vlen] = '\n';
	req->xhdr_len += need;
	return 0;
}

int hearth_resp_header(hearth_req *req, const char *name, const char *value, size_t value_len)
{
	if (req->flags & (RF_STARTED | RF_DONE))
		return HR_ESTATE;
	return xhdr_append(req, name, strlen(name), value, value_len);
}

/* A detached request's answer goes nowhere: free it now. */
static int drop_detached(hearth_req *req)
{
	hr_req_free(req);
	return HR_ECLOSED;
}

enum { EMIT_CHUNKED = 1, EMIT_CLOSE_DELIM = 2, EMIT_GZIP = 4, EMIT_VARY = 8 };

/*
 * Queues status line, headers and (when body != NULL and the method is not
 * HEAD) the body. clen < 0 writes no Content-Length. Sets RF_STARTED and
 * counts bytes. Returns 0 or HR_ENOMEM.
 */
static int emit(hearth_req *req, int status, hr_str ctype, int64_t clen, int flags,
		const void *body, size_t blen)
{
	hr_conn *c = req->conn;
	hr_http_loop *hl = req->hl;
	bool no_body = (req->flags & RF_HEAD) || status == 204 || status == 304 || status < 200;
	bool closing = (c->flags & CF_CLOSE_AFTER) || !req->head.keep_alive || hl->stopping ||
		       req->head.head_len == 0 || (flags & EMIT_CLOSE_DELIM);
	if (closing)
		c->flags |= CF_CLOSE_AFTER;
	size_t body_n = (!no_body && body) ? blen : 0;
	size_t cap = 64 + 16 + hl->date_len + 16 + ctype.len + 40 + 28 + 30 + 56 + req->xhdr_len +
		     2 + body_n;
	char *p;
	hr_out_seg *seg = hr_conn_out_reserve(c, cap, &p);
	if (!seg)
		return HR_ENOMEM;
	char *start = p;
	p += hr_resp_status_line(status, req->head.minor_version, p);
	memcpy(p, "Server: hearth\r\n", 16);
	p += 16;
	memcpy(p, hl->date_line, hl->date_len);
	p += hl->date_len;
	if (ctype.len) {
		memcpy(p, "Content-Type: ", 14);
		p += 14;
		memcpy(p, ctype.ptr, ctype.len);
		p += ctype.len;
		*p++ = '\r';
		*p++ = '\n';
	}
	if (flags & EMIT_GZIP) {
		memcpy(p, "Content-Encoding: gzip\r\n", 24);
		p += 24;
	}
	if (flags & EMIT_VARY) {
		memcpy(p, "Vary: Accept-Encoding\r\n", 23);
		p += 23;
	}
	if (flags & EMIT_CHUNKED) {
		memcpy(p, "Transfer-Encoding: chunked\r\n", 28);
		p += 28;
	} else if (clen >= 0 && status != 204 && status >= 200) {
		memcpy(p, "Content-Length: ", 16);
		p += 16;
		p += put_u64(p, (uint64_t)clen);
		*p++ = '\r';
		*p++ = '\n';
	}
	if (closing) {
		memcpy(p, "Connection: close\r\n", 19);
		p += 19;
	} else if (req->head.minor_version == 0) {
		memcpy(p, "Connection: keep-alive\r\n", 24);
		p += 24;
	}
	if (req->xhdr_len) {
		memcpy(p, req->xhdr, req->xhdr_len);
		p += req->xhdr_len;
	}
	*p++ = '\r';
	*p++ = '\n';
	if (body_n) {
		memcpy(p, body, body_n);
		p += body_n;
	}
	size_t n = (size_t)(p - start);
	HR_ASSERT(n <= cap);
	hr_conn_out_commit(c, seg, n);
	req->status = status;
	req->bytes_out += n;
	req->flags |= RF_STARTED;
	return 0;
}

static void finish(hearth_req *req)
{
	req->flags |= RF_DONE;
	hr_conn *c = req->conn;
	hr_conn_req_done(c, req);
}

bool hr_http_mime_compressible(hr_str t)
{
	if (hr_str_istarts(t, HR_STR("text/")))
		return true;
	static const char *const types[] = {"application/json", "application/javascript",
					    "application/xml", "image/svg+xml",
					    "application/manifest+json", "application/wasm"};
	for (size_t i = 0; i < HR_ARRAY_LEN(types); i++)
		if (hr_str_istarts(t, hr_str_make(types[i], strlen(types[i]))))
			return true;
	return false;
}

/* Deflates src into a gzip member; returns a malloc'd buffer or NULL when
 * compression fails or does not make it smaller. */
static char *gzip_body(hr_http_loop *hl, const void *src, size_t n, size_t *out_len)
{
	if (!hl->gz) {
		z_stream *z = calloc(1, sizeof *z);
		if (!z)
			return NULL;
		if (deflateInit2(z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			return NULL;
		}
		hl->gz = z;
	} else if (deflateReset(hl->gz) != Z_OK) {
		return NULL;
	}
	z_stream *z = hl->gz;
	uLong bound = deflateBound(z, (uLong)n);
	if (bound >= n)
		bound = n; /* no point in an output that is not smaller */
	char *dst = malloc(bound ? bound : 1);
	if (!dst)
		return NULL;
	z->next_in = (Bytef *)(uintptr_t)src;
	z->avail_in = (uInt)n;
	z->next_out = (Bytef *)dst;
	z->avail_out = (uInt)bound;
	int rc = deflate(z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		free(dst);
		return NULL;
	}
	*out_len = bound - z->avail_out;
	return dst;
}

int hearth_resp_send(hearth_req *req, int status, const char *content_type, const void *body,
		     size_t len)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	if (req->flags & (RF_STARTED | RF_DONE))
		return HR_ESTATE;
	hr_str ct = content_type ? hr_str_make(content_type, strlen(content_type)) : HR_STR_NULL;
	int flags = 0;
	char *gz = NULL;
	const hr_http_config *cfg = req->hl->cfg;
	if (cfg->gzip && len >= cfg->gzip_min_bytes && len <= UINT32_MAX && status == 200 &&
	    ct.len && hr_http_mime_compressible(ct)) {
		flags |= EMIT_VARY;
		size_t glen;
		if (hr_http_req_accepts_gzip(req) && (gz = gzip_body(req->hl, body, len, &glen))) {
			flags |= EMIT_GZIP;
			body = gz;
			len = glen;
		}
	}
	int rc = emit(req, status, ct, (int64_t)len, flags, body, len);
	free(gz);
	if (rc != 0)
		return rc;
	finish(req);
	return 0;
}

static size_t json_escape(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			memcpy(out + o, "\\u00", 4);
			o += 4;
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	return o;
}

int hearth_resp_error(hearth_req *req, int status, const char *msg)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	if (!msg)
		msg = default_message(status);
	size_t ml = strlen(msg);
	if (ml > 1024)
		ml = 1024;
	char buf[64 + 6 * 1024];
	size_t n = 0;
	memcpy(buf, "{\"data\":{},\"message\":\"", 22);
	n = 22;
	n += json_escape(buf + n, msg, ml);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "\",\"status\":%d}", status);
	return hearth_resp_send(req, status, "application/json", buf, n);
}

int hr_resp_simple_error(hearth_req *req, int status, const char *msg, bool close)
{
	hr_conn *c = req->conn;
	if (close)
		c->flags |= CF_CLOSE_AFTER;
	if (req->flags & RF_STARTED) {
		/* Too late for a status: the only honest signal left is closing. */
		c->flags |= CF_CLOSE_AFTER;
		req->flags |= RF_DONE;
		hr_conn_req_done(c, req);
		return 0;
	}
	if (c->state != CS_HANDLER)
		c->state = CS_HANDLER;
	/* Error text for the wire: sentence-cased with a final period. */
	char m[256];
	size_t ml = msg ? strlen(msg) : 0;
	if (ml >= sizeof m - 2)
		ml = sizeof m - 2;
	if (ml) {
		memcpy(m, msg, ml);
		if (m[0] >= 'a' && m[0] <= 'z')
			m[0] = (char)(m[0] - 32);
		if (m[ml - 1] != '.' && m[ml - 1] != '?' && m[ml - 1] != '!')
			m[ml++] = '.';
	}
	m[ml] = '\0';
	return hearth_resp_error(req, status, ml ? m : NULL);
}

/* ---- streaming -------------------------------------------------------- */

int hearth_resp_start(hearth_req *req, int status, const char *content_type)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	if (req->flags & (RF_STARTED | RF_DONE))
		return HR_ESTATE;
	hr_str ct = content_type ? hr_str_make(content_type, strlen(content_type)) : HR_STR_NULL;
	int flags = req->head.minor_version >= 1 ? EMIT_CHUNKED : EMIT_CLOSE_DELIM;
	int rc = emit(req, status, ct, -1, flags, NULL, 0);
	if (rc)
		return rc;
	req->flags |= RF_STREAM;
	if (flags & EMIT_CHUNKED)
		req->flags |= RF_CHUNKED;
	hr_conn_flush_later(req->conn);
	return 0;
}

int hearth_resp_write(hearth_req *req, const void *data, size_t len)
{
	if (req->flags & RF_DETACHED)
		return HR_ECLOSED;
	if (!(req->flags & RF_STREAM) || (req->flags & RF_DONE))
		return HR_ESTATE;
	if (len == 0 || (req->flags & RF_HEAD))
		return 0;
	hr_conn *c = req->conn;
	bool ch = req->flags & RF_CHUNKED;
	char *p;
	hr_out_seg *seg = hr_conn_out_reserve(c, len + (ch ? 20 : 0), &p);
	if (!seg)
		return HR_ENOMEM;
	char *start = p;
	if (ch)
		p += (size_t)sprintf(p, "%zx\r\n", len);
	memcpy(p, data, len);
	p += len;
	if (ch) {
		*p++ = '\r';
		*p++ = '\n';
	}
	size_t n = (size_t)(p - start);
	hr_conn_out_commit(c, seg, n);
	req->bytes_out += n;
	hr_conn_flush_later(c);
	return 0;
}

int hearth_resp_end(hearth_req *req)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	if (!(req->flags & RF_STREAM) || (req->flags & RF_DONE))
		return HR_ESTATE;
	if ((req->flags & RF_CHUNKED) && !(req->flags & RF_HEAD)) {
		char *p;
		hr_out_seg *seg = hr_conn_out_reserve(req->conn, 5, &p);
		if (seg) {
			memcpy(p, "0\r\n\r\n", 5);
			hr_conn_out_commit(req->conn, seg, 5);
			req->bytes_out += 5;
		} else {
			req->conn->flags |= CF_CLOSE_AFTER;
		}
	}
	finish(req);
	return 0;
}

/* ---- lower-level building (static files) ------------------------------ */

int hr_http_resp_begin(hearth_req *req, int status)
{
	if (req->flags & (RF_STARTED | RF_DONE | RF_BEGUN))
		return HR_ESTATE;
	req->flags |= RF_BEGUN;
	req->status = status;
	return 0;
}

int hr_http_resp_add(hearth_req *req, hr_str name, hr_str value)
{
	return xhdr_append(req, name.ptr, name.len, value.ptr, value.len);
}

int hr_http_resp_finish_mem(hearth_req *req, const void *body, size_t len)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	int rc = emit(req, req->status, HR_STR_NULL, (int64_t)len, 0, body, len);
	if (rc)
		return rc;
	finish(req);
	return 0;
}

int hr_http_resp_finish_file(hearth_req *req, int fd, uint64_t off, uint64_t len, bool close_fd)
{
	if (req->flags & RF_DETACHED) {
		if (close_fd)
			close(fd);
		return drop_detached(req);
	}
	int rc = emit(req, req->status, HR_STR_NULL, (int64_t)len, 0, NULL, 0);
	if (rc == 0 && !(req->flags & RF_HEAD) && len) {
		rc = hr_conn_out_file(req->conn, fd, off, len, close_fd);
		if (rc == 0) {
			req->bytes_out += len;
			close_fd = false;
		} else {
			req->conn->flags |= CF_CLOSE_AFTER;
		}
	}
	if (close_fd)
		close(fd);
	if (req->flags & RF_STARTED)
		finish(req);
	return rc;
}

int hr_http_resp_finish_empty(hearth_req *req, int64_t content_length)
{
	if (req->flags & RF_DETACHED)
		return drop_detached(req);
	int rc = emit(req, req->status, HR_STR_NULL, content_length, 0, NULL, 0);
	if (rc)
		return rc;
	finish(req);
	return 0;
}

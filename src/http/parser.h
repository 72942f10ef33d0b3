/*
 * http/parser.h - the HTTP/1.1 request-head parser and chunked body decoder.
 *
 * Both are pure: bytes and limits in, slices and a verdict out. They do no
 * I/O, never allocate and never call out. The connection code owns buffers.
 *
 * Request head (RFC 9112 §2-§3, §5, §6; RFC 9110 §5, §7.2)
 * ---------------------------------------------------------
 * hr_http_parse_head() is incremental at line granularity: the caller keeps
 * one hr_http_head per request being read, zeroed by hr_http_head_init(), and
 * calls it again with the same buffer start and a larger len whenever more
 * bytes arrive. Lines already validated are not looked at again, so a client
 * that sends one byte at a time costs linear work, and a malformed line is
 * refused as soon as it is complete rather than when the head ends.
 *
 * The slices it fills (method, target, path, query, header names and values,
 * host) point into the caller's buffer. If that buffer moves between calls or
 * after completion, call hr_http_head_rebase().
 *
 * Strictness. Everything that could let two parsers disagree on where a
 * message ends is an error, and every error closes the connection:
 *   - lines end in CRLF; a bare CR or a bare LF anywhere in the head is 400;
 *   - NUL and other control characters (except HTAB in field values) are 400;
 *   - a header name outside the RFC 9110 token set, whitespace before the
 *     colon (RFC 9112 §5.1 "MUST respond with 400"), obs-fold (§5.2) are 400;
 *   - Content-Length and Transfer-Encoding together (§6.1 allows rejecting;
 *     we do, instead of letting TE win as h2o does), two Content-Length
 *     fields (even with equal values), a Content-Length that is not 1*DIGIT
 *     or overflows are 400;
 *   - Transfer-Encoding in an HTTP/1.0 request is 400 (§6.1); any coding
 *     other than a single "chunked" is 501 (we implement no other coding, and
 *     "gzip, chunked" would require one);
 *   - HTTP/1.1 without exactly one Host, or with a Host that is not
 *     uri-host [ ":" port ] with port = *DIGIT, is 400 (RFC 9112 §3.2);
 *   - a version other than HTTP/1.0 and HTTP/1.1 is 505 when it is
 *     well-formed ("HTTP/" DIGIT "." DIGIT) and 400 otherwise.
 * Limits: request line longer than max_request_line is 414; a head longer
 * than max_head_bytes or with more than max_headers fields is 431; a
 * Content-Length above max_body is 413.
 *
 * Targets: origin-form ("/p?q"), absolute-form ("http://h/p?q", which RFC
 * 9112 §3.2.2 says a server MUST accept; path and query are taken from it,
 * and "*"-form for OPTIONS. Authority-form (CONNECT) is refused with 400:
 * we are not a proxy. The path is not decoded here; the router decodes.
 *
 * Chunked bodies (RFC 9112 §7.1)
 * ------------------------------
 * hr_http_chunked_decode() is a byte-resumable state machine that decodes in
 * place: data bytes are moved to the front of the buffer it is given.
 * Chunk extensions are parsed by their grammar and ignored; trailer fields
 * are validated like header fields and counted against the head limits.
 */
#ifndef HR_HTTP_PARSER_H
#define HR_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* Known header names, mapped while parsing (case-insensitive). */
enum hr_http_hdr_id {
	HR_HDR_OTHER = 0,
	HR_HDR_HOST,
	HR_HDR_CONTENT_LENGTH,
	HR_HDR_TRANSFER_ENCODING,
	HR_HDR_CONNECTION,
	HR_HDR_EXPECT,
	HR_HDR_ACCEPT_ENCODING,
	HR_HDR_IF_NONE_MATCH,
	HR_HDR_IF_MODIFIED_SINCE,
	HR_HDR_RANGE,
	HR_HDR_IF_RANGE,
	HR_HDR_CONTENT_TYPE,
	HR_HDR_AUTHORIZATION,
	HR_HDR_ORIGIN,
	HR_HDR_COOKIE,
	HR_HDR_UPGRADE,
	HR_HDR_USER_AGENT,
	HR_HDR_ACCEPT,
	HR_HDR__COUNT
};

/* Known methods; HR_METHOD_OTHER is any other valid token. */
enum hr_http_method {
	HR_METHOD_OTHER = 0,
	HR_METHOD_GET,
	HR_METHOD_HEAD,
	HR_METHOD_POST,
	HR_METHOD_PUT,
	HR_METHOD_PATCH,
	HR_METHOD_DELETE,
	HR_METHOD_OPTIONS,
	HR_METHOD_TRACE,
	HR_METHOD_CONNECT,
	HR_METHOD__COUNT
};

/* Each distinct failure has its own code; hr_http_err_status() maps it. */
enum hr_http_err {
	HR_HTTP_OK = 0,
	HR_HTTP_E_METHOD,	 /* 400 method is not a token / empty */
	HR_HTTP_E_TARGET,	 /* 400 malformed or unsupported request-target */
	HR_HTTP_E_URI_TOO_LONG,	 /* 414 request line over max_request_line */
	HR_HTTP_E_VERSION,	 /* 400 malformed HTTP-version */
	HR_HTTP_E_VERSION_UNSUP, /* 505 well-formed but not 1.0/1.1 */
	HR_HTTP_E_REQUEST_LINE,	 /* 400 wrong separators in the request line */
	HR_HTTP_E_HEADER_NAME,	 /* 400 empty name or non-token character */
	HR_HTTP_E_SPACE_BEFORE_COLON, /* 400 */
	HR_HTTP_E_OBS_FOLD,	 /* 400 line starting with SP/HTAB */
	HR_HTTP_E_BARE_CR,	 /* 400 CR not followed by LF */
	HR_HTTP_E_BARE_LF,	 /* 400 LF not preceded by CR */
	HR_HTTP_E_CTL,		 /* 400 NUL or control character */
	HR_HTTP_E_NO_COLON,	 /* 400 header line without ':' */
	HR_HTTP_E_HEAD_TOO_LARGE, /* 431 head over max_head_bytes */
	HR_HTTP_E_TOO_MANY_HEADERS, /* 431 more than max_headers fields */
	HR_HTTP_E_CL_AND_TE,	 /* 400 both Content-Length and Transfer-Encoding */
	HR_HTTP_E_BAD_CL,	 /* 400 Content-Length not 1*DIGIT or overflowing */
	HR_HTTP_E_DUP_CL,	 /* 400 more than one Content-Length */
	HR_HTTP_E_TE_UNSUPPORTED, /* 501 a transfer coding other than chunked */
	HR_HTTP_E_TE_HTTP10,	 /* 400 Transfer-Encoding in HTTP/1.0 */
	HR_HTTP_E_BAD_TE,	 /* 400 malformed Transfer-Encoding / chunked not last */
	HR_HTTP_E_NO_HOST,	 /* 400 HTTP/1.1 without Host */
	HR_HTTP_E_DUP_HOST,	 /* 400 more than one Host */
	HR_HTTP_E_BAD_HOST,	 /* 400 Host is not uri-host [":" port] */
	HR_HTTP_E_BODY_TOO_LARGE, /* 413 Content-Length (or chunked total) over max_body */
	HR_HTTP_E_CHUNK_SIZE,	 /* 400 malformed or overflowing chunk-size */
	HR_HTTP_E_CHUNK_EXT,	 /* 400 malformed chunk extension */
	HR_HTTP_E_CHUNK_DATA,	 /* 400 chunk data not followed by CRLF */
	HR_HTTP_E_TRAILER,	 /* 400 malformed trailer field */
	HR_HTTP_E__COUNT
};

typedef struct hr_http_limits {
	size_t max_request_line; /* bytes, CRLF excluded; 414 above */
	size_t max_head_bytes;	 /* bytes of the whole head incl. final CRLFCRLF; 431 */
	unsigned max_headers;	 /* header fields; 431 above; <= capacity of the array */
	uint64_t max_body;	 /* bytes of decoded body; 413 above */
} hr_http_limits;

typedef struct hr_http_header {
	hr_str name;  /* as sent (case preserved) */
	hr_str value; /* OWS trimmed on both sides */
	int id;	      /* enum hr_http_hdr_id */
} hr_http_header;

typedef struct hr_http_head {
	/* Outputs, valid when hr_http_parse_head() returned > 0. */
	hr_str method;
	int method_id;	    /* enum hr_http_method */
	hr_str target;	    /* request-target as sent */
	hr_str path;	    /* path part, not decoded; "*" for asterisk-form; "/"
			     * (a constant, not in buf) for an absolute-form
			     * target with an empty path */
	hr_str query;	    /* after '?', without it; empty when absent */
	int minor_version;  /* 0 or 1 */
	hr_http_header *headers; /* caller's array, set before the first call */
	unsigned headers_cap;	 /* its capacity; must be >= limits->max_headers */
	unsigned num_headers;
	hr_str host;		 /* Host value (or absolute-form authority), empty if none */
	int64_t content_length;	 /* -1 when absent */
	bool chunked;		 /* Transfer-Encoding: chunked */
	bool keep_alive;	 /* per version and Connection tokens */
	bool expect_continue;	 /* Expect: 100-continue (case-insensitive) */
	bool upgrade;		 /* Connection: upgrade present (we never switch) */
	size_t head_len;	 /* bytes of the head incl. CRLFCRLF */

	/* Resume state; private to the parser. */
	size_t pos_;   /* start of the first line not yet validated */
	size_t scan_;  /* bytes already searched for LF beyond pos_ */
	int stage_;    /* 0 request line, 1 headers, 2 done, < 0 failed: -(err) */
	int cl_count_, te_count_, host_count_;
	unsigned flags_; /* Connection close/keep-alive seen, absolute-form */
} hr_http_head;

/*
 * Prepares head for a new request. headers/cap is caller storage for the
 * fields (borrowed; must outlive the head). Any thread.
 */
void hr_http_head_init(hr_http_head *head, hr_http_header *headers, unsigned cap);

/*
 * Parses a request head from buf[0..len). buf must start at the request's
 * first byte and be the same logical buffer on every call for this head
 * (use hr_http_head_rebase() if it moved), with len never shrinking.
 *
 * Returns:
 *   > 0   the head is complete; the value is its length (head->head_len);
 *         the body, if any, starts at buf + value;
 *   0     incomplete: call again with more bytes;
 *   < 0   -(enum hr_http_err): the request is refused; the connection must
 *         be closed after the error response.
 * Size limits are enforced on incomplete input too: 414 or 431 is returned
 * as soon as the bytes so far prove the request line or the head too long,
 * so the caller never needs to buffer more than max_head_bytes. However the
 * input is split across calls, the result is the one the whole input gives
 * (an error may only come earlier). Once complete or refused, further calls
 * return the same value without reading buf.
 * Any thread; no allocation.
 */
int hr_http_parse_head(const char *buf, size_t len, const hr_http_limits *lim,
		       hr_http_head *head);

/*
 * Adjusts every slice in head after its buffer moved: each slice pointer
 * moves by new_base - old_base. Any pair with the buffer's displacement
 * will do (the head's start, or the start of a larger read buffer holding
 * it). The parse state is offsets and needs no adjustment.
 */
void hr_http_head_rebase(hr_http_head *head, const char *old_base, const char *new_base);

/* Returns the header with the given id, or NULL (first occurrence). */
const hr_http_header *hr_http_head_find(const hr_http_head *head, int id);

/* Returns the first header named name (case-insensitive), or NULL. */
const hr_http_header *hr_http_head_find_name(const hr_http_head *head, hr_str name);

/* Returns the last header named name (case-insensitive), or NULL: the one
 * the nearest proxy appended when a header is repeated. */
const hr_http_header *hr_http_head_find_last_name(const hr_http_head *head, hr_str name);

/* HTTP status for an error code (400, 413, 414, 431, 501, 505). */
int hr_http_err_status(int err);

/* Short human reason for an error code, e.g. "Whitespace before header colon". */
const char *hr_http_err_reason(int err);

/* Method id for a method token (exact, case-sensitive per RFC 9110 §9.1). */
int hr_http_method_id(hr_str method);

/* Canonical name of a known method id ("GET"...), "" for OTHER. */
const char *hr_http_method_name(int id);

/* ---------------------------------------------------------------------- */

typedef struct hr_http_chunked {
	int state_;	     /* private */
	uint64_t remaining_; /* private: data bytes left in the current chunk */
	size_t line_len_;    /* private: bytes of the current size/trailer line */
	unsigned trailers_;  /* private */
	size_t trailer_bytes_; /* private */
	uint64_t total;	     /* decoded body bytes so far */
} hr_http_chunked;

void hr_http_chunked_init(hr_http_chunked *c);

/*
 * Decodes chunked data from buf[0..*len) in place.
 *
 * On return, buf[0..*out) holds the body bytes decoded by this call (moved
 * to the front), and *len is set to the number of input bytes consumed.
 * Returns:
 *   1     the body ended (last-chunk and trailer section consumed); input
 *         after *len belongs to the next request;
 *   0     all input consumed, more needed;
 *   < 0   -(enum hr_http_err) (CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, TRAILER,
 *         BODY_TOO_LARGE, HEAD_TOO_LARGE, TOO_MANY_HEADERS, BARE_CR, ...).
 * Trailer fields are validated and discarded; their bytes and count are
 * bounded by lim->max_head_bytes and lim->max_headers; the decoded total by
 * lim->max_body (a chunk whose size would pass it fails at its size line).
 * On error *len and *out are left unchanged and buf's contents are
 * unspecified; the error is sticky. After 1, further calls return 1 and
 * consume nothing. Any thread; no allocation.
 */
int hr_http_chunked_decode(hr_http_chunked *c, char *buf, size_t *len, size_t *out,
			   const hr_http_limits *lim);

#endif

/*
 * http/http.h - what the rest of hearth may call in the http layer.
 *
 * The http layer turns accepted sockets into hearth_req objects and
 * hearth_resp_* calls into bytes on the wire. It knows nothing of routes,
 * workers or the database: a worker owns one hr_http_loop per event loop,
 * hands it accepted file descriptors, and gives it one dispatch function
 * that receives every complete request.
 *
 * Connections are raw non-blocking sockets watched with uv_poll_t, not
 * uv_tcp_t: we read into our own pooled buffers, write with writev and
 * sendfile, and keep per-connection state small (about 250 bytes when
 * idle; buffers return to the loop's pool between requests).
 *
 * The connection limit is the one thing loops share: an atomic counter
 * touched once per accept and once per close, never per request (a
 * per-loop share would refuse clients early whenever the kernel spreads
 * connections unevenly, and admit too many the other way).
 *
 * Timeouts are not a timer per connection. Every connection that waits
 * is on exactly one of a few lists whose members all share the same
 * timeout (header, idle, write, linger), so each list is ordered by
 * deadline and moving to its tail is O(1); one tick per loop closes what
 * expired at the heads. Bodies are checked against a minimum rate on the
 * same tick.
 */
#ifndef HR_HTTP_HTTP_H
#define HR_HTTP_HTTP_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>
#include <zlib.h>

#include "core/list.h"
#include "core/log.h"
#include "core/pool.h"
#include "hearth.h"
#include "http/parser.h"

typedef struct hr_http_config {
	hr_http_limits limits;
	unsigned header_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned body_min_rate;	     /* bytes per second */
	unsigned write_timeout_ms;
	unsigned linger_ms;	     /* how long to drain input after a final response */
	unsigned max_conns;	     /* whole server, counted in *conn_count */
	atomic_uint *conn_count;     /* shared by every loop of the server */
	bool gzip;
	unsigned gzip_min_bytes;
} hr_http_config;

/* Which timeout list a connection waits on. */
enum hr_http_wait {
	HR_WAIT_NONE = 0, /* a handler owns the request; no engine timeout */
	HR_WAIT_HEAD,	  /* reading a request head */
	HR_WAIT_IDLE,	  /* keep-alive, nothing buffered */
	HR_WAIT_WRITE,	  /* output queued, waiting for the socket */
	HR_WAIT_LINGER,	  /* final response sent, draining input before close */
	HR_WAIT__LISTS,
	HR_WAIT_BODY = HR_WAIT__LISTS, /* reading a body: on body_conns, rate-checked */
};

typedef struct hr_http_loop hr_http_loop;

/* Receives every complete request; must answer it now or later. */
typedef void (*hr_http_dispatch_fn)(hearth_req *req, void *ud);

struct hr_http_loop {
	uv_loop_t *loop;
	const hr_http_config *cfg;
	unsigned worker_id;
	hr_pool pool;		 /* HR_BLOCK_SIZE blocks for buffers and arenas */
	hr_log *log;
	hr_http_dispatch_fn dispatch;
	void *dispatch_ud;
	hr_list waits[HR_WAIT__LISTS]; /* [HR_WAIT_NONE] unused */
	hr_list body_conns;
	hr_list all_conns;
	unsigned nconns;	 /* connections counted against max_conns */
	unsigned nrefused;	 /* refused connections still draining */
	uv_timer_t tick;
	uint64_t now_ms;	 /* loop time of the last tick/event */
	char date_line[48];	 /* "Date: Wed, 25 Nov 2026 19:29:20 GMT\r\n" */
	size_t date_len;
	int64_t date_sec;
	bool stopping;		 /* graceful stop in progress */
	void (*on_drained)(hr_http_loop *hl); /* called once when stopping and idle */
	z_stream *gz;		 /* lazily created, reused with deflateReset */
	uint64_t requests;	 /* served (statistics) */
};

/*
 * Prepares hl on loop (caller's thread) with cfg (borrowed; must outlive
 * hl) and log (borrowed). Starts the tick timer. Returns 0 or a negative
 * libuv code.
 */
int hr_http_loop_init(hr_http_loop *hl, uv_loop_t *loop, const hr_http_config *cfg, hr_log *log,
		      unsigned worker_id, hr_http_dispatch_fn dispatch, void *ud);

/*
 * Adopts an accepted, non-blocking socket and the client's address as
 * accept returned it (NULL when unknown). Takes ownership of fd (closed
 * on failure). When the loop is at max_conns the client gets a 503 and
 * the socket is closed. Loop thread.
 */
struct sockaddr;
void hr_http_loop_accept(hr_http_loop *hl, int fd, const struct sockaddr *peer);

/*
 * Begins a graceful stop: idle connections close now, busy ones close
 * after their current response. on_drained runs once nothing is left.
 */
void hr_http_loop_stop(hr_http_loop *hl, void (*on_drained)(hr_http_loop *hl));

/* Closes every connection now (the shutdown deadline passed). */
void hr_http_loop_close_all(hr_http_loop *hl);

/* Closes the loop's own handle (the tick timer) once connections are gone. */
void hr_http_loop_close(hr_http_loop *hl);

/* Frees the loop's memory after uv_run has returned (every handle closed,
 * every offloaded request answered). */
void hr_http_loop_dispose(hr_http_loop *hl);

/* The request's arena (everything in it lives until the response ends). */
struct hr_arena;
struct hr_arena *hr_http_req_arena(hearth_req *req);

/* The request's method id (enum hr_http_method) and parsed head. */
int hr_http_req_method_id(const hearth_req *req);
const hr_http_head *hr_http_req_head(const hearth_req *req);
hr_http_loop *hr_http_req_loop(const hearth_req *req);

/* Stores route parameters (names borrowed from the router, values in the
 * request's arena). At most HR_HTTP_MAX_PARAMS. */
#define HR_HTTP_MAX_PARAMS 8
void hr_http_req_set_params(hearth_req *req, const hr_str *names, const hr_str *values, unsigned n);

/*
 * Lower-level response building for modules that need more than
 * hearth_resp_send (static files): begin the head with a status, add
 * headers, then finish with an in-memory body, a file range, or none.
 * Content-Length is written by the finishing call. Each returns 0 or a
 * negative code; on failure the request is answered with 500 if possible.
 */
int hr_http_resp_begin(hearth_req *req, int status);
int hr_http_resp_add(hearth_req *req, hr_str name, hr_str value);
int hr_http_resp_finish_mem(hearth_req *req, const void *body, size_t len);
/* Sends len bytes of fd from off with sendfile; takes ownership of fd
 * when close_fd (closed once sent or when the connection dies). */
int hr_http_resp_finish_file(hearth_req *req, int fd, uint64_t off, uint64_t len, bool close_fd);
/* Ends a response that has no body and declares content_length (HEAD,
 * 304): Content-Length is written unless content_length < 0. */
int hr_http_resp_finish_empty(hearth_req *req, int64_t content_length);

/* Does the request accept gzip (Accept-Encoding, q-values honoured)? */
bool hr_http_req_accepts_gzip(const hearth_req *req);

/* Is a Content-Type worth compressing (text types, json, js, xml, svg)? */
bool hr_http_mime_compressible(hr_str content_type);

/* Formats an IMF-fixdate (29 bytes + NUL) for t. */
void hr_http_date(int64_t t, char out[30]);

/* Parses an IMF-fixdate; returns -1 when malformed. */
int64_t hr_http_parse_date(hr_str s);

#endif

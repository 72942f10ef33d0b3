/*
 * hearth.h - the public C API of hearth: start a server, add routes, read a
 * request, write a response.
 *
 * Threading model. A server runs N worker threads, each with its own event
 * loop and its own listening socket (SO_REUSEPORT). A request lives on one
 * worker from its first byte to its last response byte, and every hearth_req
 * and hearth_resp function must be called on that worker's thread. A handler
 * may answer at once or later (after work on the thread pool, say): the
 * connection waits, pipelined requests behind it stay queued, and responses
 * always leave in request order.
 *
 * Memory. Strings a request hands out (hearth_str) point into its read
 * buffer or its arena and live until its response ends. hearth_req_alloc()
 * gives memory with the same lifetime. Nothing returned here needs freeing.
 *
 * Errors. Functions returning int give 0 or a negative error code;
 * hearth_strerror() describes it.
 */
#ifndef HEARTH_H
#define HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEARTH_VERSION "0.1.0"

/* Error codes of our own; the others are negated errno values. */
#define HEARTH_ELIMIT (-4001)
#define HEARTH_EPARSE (-4002)
#define HEARTH_ECLOSED (-4003)
#define HEARTH_ESTATE (-4004)

typedef struct hearth_server hearth_server;
typedef struct hearth_req hearth_req;

typedef struct hearth_str {
	const char *ptr; /* not NUL-terminated */
	size_t len;
} hearth_str;

enum hearth_log_format { HEARTH_LOG_TEXT = 0, HEARTH_LOG_JSON = 1 };

typedef struct hearth_config {
	const char *http_addr;	   /* "host:port"; default "127.0.0.1:8090" */
	unsigned workers;	   /* event-loop threads; 0 = number of cores */
	const char *public_dir;	   /* static files served at "/", NULL for none */
	const char *data_dir;	   /* data folder; default "./hearth_data" */
	int log_format;		   /* enum hearth_log_format */
	bool quiet;		   /* no access log */
	int log_fd;		   /* access and error log destination; default 1 */

	/* Request limits; each violation has its own status. */
	size_t max_request_line;   /* bytes; 414 above (default 8 KiB) */
	size_t max_head_bytes;	   /* bytes of request line + headers; 431 (default 16 KiB) */
	unsigned max_headers;	   /* header fields; 431 (default 100) */
	uint64_t max_body;	   /* bytes; 413 (default 32 MiB) */

	/* Connection limits and timeouts. */
	unsigned max_connections;  /* whole server; 503 above (default 100000) */
	unsigned header_timeout_ms; /* first byte to end of head (default 10 s) */
	unsigned idle_timeout_ms;   /* keep-alive wait for the next request (default 60 s) */
	unsigned body_min_rate;	    /* bytes/s a body must keep after a grace period
				       of header_timeout_ms (default 1024) */
	unsigned write_timeout_ms;  /* no progress writing a response (default 60 s) */
	unsigned shutdown_timeout_ms; /* graceful-stop deadline (default 10 s) */

	/* Responses. */
	bool gzip;		   /* compress compressible bodies if accepted (default on) */
	unsigned gzip_min_bytes;   /* smaller bodies are sent as they are (default 1024) */
	unsigned static_max_age;   /* Cache-Control max-age for static files, s (default 0:
				      "no-cache", i.e. always revalidate) */

	/*
	 * Optional per-worker hooks, for resources a program keeps per event
	 * loop (a database connection, a cache). worker_start runs on the
	 * worker's thread before it serves, with its libuv loop (uv_loop_t *);
	 * returning non-zero stops the server from starting. worker_idle runs
	 * once per loop iteration, after the iteration's requests were handled
	 * (release per-iteration state there). worker_stop runs on the worker's
	 * thread after its last request. All receive worker_ud.
	 */
	int (*worker_start)(unsigned worker, void *loop, void *ud);
	void (*worker_idle)(unsigned worker, void *ud);
	void (*worker_stop)(unsigned worker, void *ud);
	void *worker_ud;
} hearth_config;

/* Fills cfg with the defaults documented above. */
void hearth_config_init(hearth_config *cfg);

/*
 * A handler answers a request with one of the hearth_resp_* calls, now or
 * later (on the same worker). ud is the pointer given to hearth_route().
 */
typedef void (*hearth_handler)(hearth_req *req, void *ud);

/*
 * Creates a server from cfg (copied; strings are duplicated). Does not bind
 * yet. Returns 0 and *out, or a negative code (invalid configuration).
 */
int hearth_server_new(const hearth_config *cfg, hearth_server **out);

/*
 * Adds a route before hearth_server_start(). method is "GET", "POST"...;
 * a GET route also answers HEAD. pattern is a path of literal segments,
 * "{name}" segments (one segment, percent-decoded, read with
 * hearth_req_param) and a final "{name...}" catching the rest of the path.
 * Literal segments win over parameters. Returns 0, -EEXIST for a duplicate
 * method+pattern, or -EINVAL for a malformed pattern.
 */
int hearth_route(hearth_server *s, const char *method, const char *pattern,
		 hearth_handler fn, void *ud);

/*
 * Binds the listening sockets and starts the workers. Returns 0 or a
 * negative code (address in use, ...). Call from the thread that created
 * the server.
 */
int hearth_server_start(hearth_server *s);

/* The TCP port the server listens on (useful with port 0). */
int hearth_server_port(const hearth_server *s);

/*
 * Begins a graceful stop: stop accepting, finish in-flight requests, close
 * idle connections, and force-close whatever remains after
 * shutdown_timeout_ms. Safe from any thread; not from a signal handler.
 */
void hearth_server_stop(hearth_server *s);

/*
 * Waits for the workers to end after hearth_server_stop(). Returns 0, or 1
 * when the shutdown deadline passed while offloaded work was still running
 * on libuv's thread pool: that work cannot be cancelled, and libuv's exit
 * handler would wait for it, so a program that wants to leave on time
 * should then end with _exit() after hearth_server_free().
 */
int hearth_server_wait(hearth_server *s);

/* Frees a server that was never started or has been waited for. */
void hearth_server_free(hearth_server *s);

const char *hearth_strerror(int code);

/* ---- Reading a request (worker thread only) ---- */

hearth_str hearth_req_method(const hearth_req *req);
hearth_str hearth_req_path(const hearth_req *req);  /* raw, not decoded */
hearth_str hearth_req_query(const hearth_req *req); /* raw, after '?' */

/* First header named name (case-insensitive), {NULL,0} when absent. */
hearth_str hearth_req_header(const hearth_req *req, const char *name);

/* The i-th request header (0-based, as received) and its name; {NULL,0}
 * past the last one. */
hearth_str hearth_req_header_at(const hearth_req *req, unsigned i, hearth_str *name);

/* Last header named name (case-insensitive), {NULL,0} when absent. For
 * headers that proxies append to, where the last one is the one the
 * nearest (trusted) proxy wrote. */
hearth_str hearth_req_header_last(const hearth_req *req, const char *name);

/* A route parameter, decoded; {NULL,0} when the route has no such name. */
hearth_str hearth_req_param(const hearth_req *req, const char *name);

/* First query parameter named name, form-decoded; {NULL,0} when absent. */
hearth_str hearth_req_query_param(hearth_req *req, const char *name);

/* The whole request body (de-chunked). */
hearth_str hearth_req_body(const hearth_req *req);

/* The peer's IP address as text. */
hearth_str hearth_req_remote_addr(hearth_req *req);

/* Arena memory that lives until the response ends; NULL if over limits. */
void *hearth_req_alloc(hearth_req *req, size_t n);

/* Index of the worker running this request, 0 .. workers-1. */
unsigned hearth_req_worker(const hearth_req *req);

/*
 * Registers fn to run if the connection dies before the response ends; the
 * request is invalid after fn returns. One callback per request.
 */
void hearth_req_on_abort(hearth_req *req, void (*fn)(hearth_req *req, void *ud), void *ud);

/*
 * Runs work(ud) on the thread pool (never blocking an event loop), then
 * done(req, ud) back on the request's worker, which must answer the
 * request. If the client went away meanwhile, done still runs and its
 * answer is dropped. work must not touch req. Returns 0 or a negative code
 * (then neither callback runs).
 */
int hearth_req_offload(hearth_req *req, void (*work)(void *ud),
		       void (*done)(hearth_req *req, void *ud), void *ud);

/* ---- Writing a response (worker thread only) ---- */

/*
 * Adds a response header before the status line is sent. name and value are
 * copied. Returns 0 or -EINVAL (CR, LF or NUL in the value, name not a token).
 */
int hearth_resp_header(hearth_req *req, const char *name, const char *value, size_t value_len);

/*
 * Sends a complete response: status, Content-Type (NULL for none),
 * Content-Length and body (copied or compressed as needed; for HEAD, the
 * length only). Ends the request. Returns 0 or a negative code.
 */
int hearth_resp_send(hearth_req *req, int status, const char *content_type,
		     const void *body, size_t len);

/*
 * Starts a streamed response (chunked on HTTP/1.1, until-close on 1.0),
 * then hearth_resp_write() pieces and hearth_resp_end(). Writes are queued
 * and sent when the loop next flushes; hearth_resp_write returns HEARTH_ECLOSED
 * once the client is gone.
 */
int hearth_resp_start(hearth_req *req, int status, const char *content_type);
int hearth_resp_write(hearth_req *req, const void *data, size_t len);
int hearth_resp_end(hearth_req *req);

/*
 * Sends the dialect's error body {"data":{},"message":msg,"status":status}
 * (msg NULL = the default message of the status). Ends the request.
 */
int hearth_resp_error(hearth_req *req, int status, const char *msg);

#ifdef __cplusplus
}
#endif
#endif

/*
 * http/internal.h - structures shared by the files of the http layer
 * (conn.c, request.c, response.c, static.c). Nothing outside src/http/
 * includes this; other layers use http.h.
 *
 * Ownership, in one place:
 *   hr_conn      malloc'd at accept, freed in the poll handle's close
 *                callback. Holds the socket, the read buffer while it has
 *                unconsumed bytes, the output queue and at most one request.
 *   hearth_req   lives at the start of a pool block whose tail is the
 *                request's arena. Created when the first byte of a request
 *                is buffered; freed when its response has been queued
 *                (hr_conn_req_done). If the connection dies while a handler
 *                still owns the request, the request is detached: it keeps
 *                the read buffer its slices point into, and is freed when the
 *                handler answers (the answer is dropped) or, if the handler
 *                registered an abort callback, right after that callback.
 *   hr_out_seg   output queue entries: pooled or malloc'd memory, or a file
 *                range for sendfile. Freed once written or when the
 *                connection dies (owned file descriptors are closed).
 */
#ifndef HR_HTTP_INTERNAL_H
#define HR_HTTP_INTERNAL_H

#include "core/arena.h"
#include "http/http.h"

enum hr_conn_state {
	CS_HEAD = 0, /* waiting for or reading a request head */
	CS_BODY,     /* reading a request body */
	CS_HANDLER,  /* a handler owns the request */
	CS_CLOSING,  /* final response queued; close once it is written */
	CS_LINGER,   /* write side shut; draining input until EOF or timeout */
};

enum hr_conn_flags {
	CF_IN_PROCESS = 1 << 0, /* inside conn_process: flush and resume at its end */
	CF_CLOSE_AFTER = 1 << 1, /* close after the current response */
	CF_EOF = 1 << 2,	/* peer shut down its write side */
	CF_CLOSED = 1 << 3,	/* handle is closing */
	CF_RBUF_HEAP = 1 << 4,	/* rbuf is malloc'd (larger than a block) */
	CF_PAUSED = 1 << 5,	/* output above the high-water mark */
	CF_UNREAD = 1 << 6,	/* input left unread: linger before close */
	CF_REFUSED = 1 << 7,	/* over the connection limit: 503, not counted */
	CF_HOLD = 1 << 8,	/* input arrived while a handler works: stop polling it */
};

enum hr_seg_kind { SEG_MEM = 0, SEG_FILE = 1 };

typedef struct hr_out_seg {
	struct hr_out_seg *next;
	int kind;
	bool pooled;	  /* SEG_MEM: this struct heads a pool block */
	bool close_fd;	  /* SEG_FILE: close fd when done */
	char *data;	  /* SEG_MEM: bytes [off, len) are unsent */
	size_t len, cap, off;
	int fd;		  /* SEG_FILE */
	uint64_t foff, fend; /* SEG_FILE: next offset to send, end offset */
} hr_out_seg;

typedef struct hr_conn {
	uv_poll_t poll;
	hr_http_loop *hl;
	int fd;
	int events;	      /* events currently polled */
	uint8_t state;	      /* enum hr_conn_state */
	uint8_t wait;	      /* enum hr_http_wait */
	uint16_t flags;	      /* enum hr_conn_flags */
	hr_list wait_link;
	hr_list all_link;
	uint64_t deadline_ms; /* for the wait list it is on */
	char *rbuf;	      /* read buffer, NULL while idle */
	size_t rcap, rlen;    /* capacity, bytes held */
	size_t rpos;	      /* start of the current request's bytes */
	struct hearth_req *req;
	hr_out_seg *out_head, *out_tail;
	size_t out_bytes;     /* unsent bytes queued (memory segments and files) */
	uint8_t peer_family;  /* AF_INET or AF_INET6; 0 when unknown */
	uint8_t peer[16];     /* the client's address, from accept */
} hr_conn;

enum hr_req_flags {
	RF_STARTED = 1 << 0,  /* status line queued */
	RF_DONE = 1 << 1,     /* response complete */
	RF_STREAM = 1 << 2,   /* hearth_resp_start streaming */
	RF_CHUNKED = 1 << 3,  /* streaming with chunked coding */
	RF_HEAD = 1 << 4,     /* method HEAD: no body bytes */
	RF_DETACHED = 1 << 5, /* connection gone; answer is dropped */
	RF_BODY_HEAP = 1 << 6, /* body in body_buf (malloc) */
	RF_OWNS_RBUF = 1 << 7, /* detached request owns the read buffer */
	RF_RBUF_HEAP = 1 << 8,
	RF_CONTINUE_SENT = 1 << 9,
	RF_BEGUN = 1 << 10,   /* hr_http_resp_begin called */
};

struct hearth_req {
	hr_conn *conn;	      /* NULL once detached */
	hr_http_loop *hl;
	hr_arena arena;
	hr_http_head head;
	hr_str body;
	char *body_buf;	      /* malloc'd body (RF_BODY_HEAP) */
	size_t body_cap, body_len;
	uint64_t body_want;   /* Content-Length */
	uint64_t body_start_ms;
	hr_http_chunked chunked;
	unsigned nparams;
	hr_str pnames[HR_HTTP_MAX_PARAMS], pvals[HR_HTTP_MAX_PARAMS];
	unsigned flags;	      /* enum hr_req_flags */
	int status;
	char *xhdr;	      /* extra response header lines, arena */
	size_t xhdr_len, xhdr_cap;
	uint64_t t_start_ns;  /* uv_hrtime() when the head completed (0 if no log) */
	uint64_t bytes_out;   /* response bytes queued, head included */
	char *rbuf_owned;     /* detached: the read buffer to free with the request */
	void (*abort_cb)(hearth_req *req, void *ud);
	void *abort_ud;
	hr_str remote;	      /* cached text of the peer address */
};

/* conn.c */
hr_out_seg *hr_conn_out_reserve(hr_conn *c, size_t n, char **dst);
void hr_conn_out_commit(hr_conn *c, hr_out_seg *seg, size_t n);
int hr_conn_out_file(hr_conn *c, int fd, uint64_t off, uint64_t len, bool close_fd);
void hr_conn_req_done(hr_conn *c, hearth_req *req);
/* The client's address as text into out[46]; its length, 0 when unknown. */
size_t hr_conn_peer_text(const hr_conn *c, char out[46]);
void hr_conn_flush_later(hr_conn *c);

/* request.c */
hearth_req *hr_req_new(hr_conn *c);
void hr_req_free(hearth_req *req);

/* response.c */
int hr_resp_simple_error(hearth_req *req, int status, const char *msg, bool close);
size_t hr_resp_status_line(int status, int minor, char *out);
/* Writes a complete error response for a request that has no hearth_req
 * (503 at accept): returns its bytes in a static buffer. */
hr_str hr_resp_canned_503(void);

#endif

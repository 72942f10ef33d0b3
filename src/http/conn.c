/*
 * http/conn.c - the connection state machine: read, parse, dispatch,
 * pipeline in order, write, keep-alive, time out, close.
 *
 * DESIGN
 * One hr_conn per accepted socket, watched by a level-triggered uv_poll_t.
 * A readable event reads once into the connection's buffer (taken from the
 * loop's pool on demand) and runs conn_process(), which parses and
 * dispatches every complete request in the buffer, one at a time. A handler
 * that answers at once lets the loop go on to the next pipelined request;
 * one that answers later (CS_HANDLER) stops parsing and reading until it
 * does, which is how responses stay in request order without a reorder
 * queue. Output of everything processed in one event is sent with one
 * sendmsg() at the end (plus sendfile for file bodies).
 *
 * Reading stops (backpressure) while a handler owns the request and while
 * more than HIGH_WATER bytes of output are queued; the peer's TCP window
 * does the rest.
 *
 * Every state that waits has a timeout (see http.h): the head must arrive
 * within header_timeout_ms of its first byte (or of accept), a body must
 * keep body_min_rate after a grace period, a keep-alive connection may idle
 * for idle_timeout_ms, and queued output must make progress within
 * write_timeout_ms. A request that is refused (parse error, 408, 413)
 * gets its response and then the connection closes: once framing is in
 * doubt nothing more is read from it. When input may remain unread at close
 * the write side is shut first and input drained for a short while
 * (lingering close), so the kernel does not turn our last response into a
 * reset.
 *
 * Invariants
 *   - c->req is non-NULL from the first byte of a request to hr_conn_req_done.
 *   - In CS_HANDLER the connection does not poll for input.
 *   - A connection is on at most one wait list (c->wait says which).
 *   - conn_close() is the only place a connection ends; it is idempotent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/common.h"
#include "http/internal.h"

#define HIGH_WATER (1u << 20)	  /* stop processing input above this much queued output */
#define MAX_IOV 64
#define TICK_MS 250
#define SENDFILE_CHUNK (1u << 30)
#define BODY_INITIAL (64u << 10)  /* first allocation for a body that is not yet here */
#define MAX_REFUSED_LINGERING 1024 /* refused (503) connections draining at once */

static void conn_process(hr_conn *c);
static void conn_close(hr_conn *c);
static void conn_flush(hr_conn *c);
static void conn_update_poll(hr_conn *c);

/* ---- wait lists ------------------------------------------------------- */

static uint64_t wait_timeout(const hr_http_loop *hl, int wait)
{
	switch (wait) {
	case HR_WAIT_HEAD:
		return hl->cfg->header_timeout_ms;
	case HR_WAIT_IDLE:
		return hl->cfg->idle_timeout_ms;
	case HR_WAIT_WRITE:
		return hl->cfg->write_timeout_ms;
	case HR_WAIT_LINGER:
		return hl->cfg->linger_ms;
	default:
		return 0;
	}
}

/* Puts c on wait list `wait` with a fresh deadline (moves it to the tail). */
static void conn_wait(hr_conn *c, int wait)
{
	hr_http_loop *hl = c->hl;
	hr_list_remove(&c->wait_link);
	c->wait = (uint8_t)wait;
	if (wait == HR_WAIT_NONE)
		return;
	if (wait == HR_WAIT_BODY) {
		hr_list_push_back(&hl->body_conns, &c->wait_link);
		return;
	}
	c->deadline_ms = hl->now_ms + wait_timeout(hl, wait);
	hr_list_push_back(&hl->waits[wait], &c->wait_link);
}

/* Same list, keeping the existing deadline (HEAD is measured from the first byte). */
static void conn_wait_keep(hr_conn *c, int wait)
{
	if (c->wait != wait)
		conn_wait(c, wait);
}

/* ---- buffers ---------------------------------------------------------- */

static void rbuf_release(hr_conn *c)
{
	if (!c->rbuf)
		return;
	if (c->flags & CF_RBUF_HEAP)
		free(c->rbuf);
	else
		hr_pool_put(&c->hl->pool, c->rbuf);
	c->rbuf = NULL;
	c->rcap = c->rlen = c->rpos = 0;
	c->flags &= (uint16_t)~CF_RBUF_HEAP;
}

static void rbuf_ensure(hr_conn *c)
{
	if (!c->rbuf) {
		c->rbuf = hr_pool_get(&c->hl->pool);
		c->rcap = HR_BLOCK_SIZE;
		c->rlen = c->rpos = 0;
	}
}

static void seg_free(hr_http_loop *hl, hr_out_seg *s)
{
	if (s->kind == SEG_FILE) {
		if (s->close_fd)
			close(s->fd);
		free(s);
	} else if (s->pooled) {
		hr_pool_put(&hl->pool, s);
	} else {
		free(s);
	}
}

hr_out_seg *hr_conn_out_reserve(hr_conn *c, size_t n, char **dst)
{
	hr_out_seg *t = c->out_tail;
	if (t && t->kind == SEG_MEM && t->cap - t->len >= n) {
		*dst = t->data + t->len;
		return t;
	}
	hr_out_seg *s;
	if (n <= HR_BLOCK_SIZE - sizeof *s) {
		s = hr_pool_get(&c->hl->pool);
		s->pooled = true;
		s->cap = HR_BLOCK_SIZE - sizeof *s;
	} else {
		s = malloc(sizeof *s + n);
		if (!s)
			return NULL;
		s->pooled = false;
		s->cap = n;
	}
	s->next = NULL;
	s->kind = SEG_MEM;
	s->close_fd = false;
	s->data = (char *)(s + 1);
	s->len = s->off = 0;
	s->fd = -1;
	if (c->out_tail)
		c->out_tail->next = s;
	else
		c->out_head = s;
	c->out_tail = s;
	*dst = s->data;
	return s;
}

void hr_conn_out_commit(hr_conn *c, hr_out_seg *seg, size_t n)
{
	seg->len += n;
	c->out_bytes += n;
}

int hr_conn_out_file(hr_conn *c, int fd, uint64_t off, uint64_t len, bool close_fd)
{
	hr_out_seg *s = malloc(sizeof *s);
	if (!s)
		return HR_ENOMEM;
	memset(s, 0, sizeof *s);
	s->kind = SEG_FILE;
	s->fd = fd;
	s->close_fd = close_fd;
	s->foff = off;
	s->fend = off + len;
	if (c->out_tail)
		c->out_tail->next = s;
	else
		c->out_head = s;
	c->out_tail = s;
	c->out_bytes += len;
	return 0;
}

static void out_free_all(hr_conn *c)
{
	while (c->out_head) {
		hr_out_seg *s = c->out_head;
		c->out_head = s->next;
		seg_free(c->hl, s);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

/* ---- the loop --------------------------------------------------------- */

static void update_date(hr_http_loop *hl)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec == hl->date_sec)
		return;
	hl->date_sec = ts.tv_sec;
	char d[30];
	hr_http_date(ts.tv_sec, d);
	memcpy(hl->date_line, "Date: ", 6);
	memcpy(hl->date_line + 6, d, 29);
	memcpy(hl->date_line + 35, "\r\n", 2);
	hl->date_len = 37;
}

static void expire_list(hr_http_loop *hl, int wait)
{
	hr_list *head = &hl->waits[wait];
	hr_list *n;
	while ((n = hr_list_first(head)) != NULL) {
		hr_conn *c = HR_CONTAINER_OF(n, hr_conn, wait_link);
		if (c->deadline_ms > hl->now_ms)
			break;
		hr_list_remove(n);
		c->wait = HR_WAIT_NONE;
		if (wait == HR_WAIT_HEAD && c->req && c->rlen > c->rpos) {
			/* RFC 9110 §15.5.9: 408 for a request that did not arrive in time. */
			hr_resp_simple_error(c->req, 408, "Request Timeout.", true);
			conn_flush(c);
			if (!(c->flags & CF_CLOSED) && c->wait == HR_WAIT_NONE)
				conn_close(c);
		} else {
			conn_close(c);
		}
	}
}

static void check_bodies(hr_http_loop *hl)
{
	const hr_http_config *cfg = hl->cfg;
	hr_list *n = hl->body_conns.next;
	while (n != &hl->body_conns) {
		hr_list *next = n->next;
		hr_conn *c = HR_CONTAINER_OF(n, hr_conn, wait_link);
		hearth_req *r = c->req;
		uint64_t elapsed = hl->now_ms - r->body_start_ms;
		uint64_t got = r->head.chunked ? r->chunked.total : r->body_len;
		if (elapsed > cfg->header_timeout_ms) {
			uint64_t need = (elapsed - cfg->header_timeout_ms) * cfg->body_min_rate / 1000;
			if (got < need) {
				hr_list_remove(n);
				c->wait = HR_WAIT_NONE;
				hr_resp_simple_error(r, 408, "Request body too slow.", true);
				conn_flush(c);
				if (!(c->flags & CF_CLOSED) && c->wait == HR_WAIT_NONE)
					conn_close(c);
			}
		}
		n = next;
	}
}

static void on_tick(uv_timer_t *t)
{
	hr_http_loop *hl = t->data;
	hl->now_ms = uv_now(hl->loop);
	update_date(hl);
	for (int w = HR_WAIT_HEAD; w < HR_WAIT__LISTS; w++)
		expire_list(hl, w);
	check_bodies(hl);
}

int hr_http_loop_init(hr_http_loop *hl, uv_loop_t *loop, const hr_http_config *cfg, hr_log *log,
		      unsigned worker_id, hr_http_dispatch_fn dispatch, void *ud)
{
	memset(hl, 0, sizeof *hl);
	hl->loop = loop;
	hl->cfg = cfg;
	hl->log = log;
	hl->worker_id = worker_id;
	hl->dispatch = dispatch;
	hl->dispatch_ud = ud;
	hr_pool_init(&hl->pool, 1024);
	for (int i = 0; i < HR_WAIT__LISTS; i++)
		hr_list_init(&hl->waits[i]);
	hr_list_init(&hl->body_conns);
	hr_list_init(&hl->all_conns);
	hl->date_sec = -1;
	update_date(hl);
	hl->now_ms = uv_now(loop);
	int rc = uv_timer_init(loop, &hl->tick);
	if (rc)
		return rc;
	hl->tick.data = hl;
	rc = uv_timer_start(&hl->tick, on_tick, TICK_MS, TICK_MS);
	if (rc)
		return rc;
	uv_unref((uv_handle_t *)&hl->tick);
	return 0;
}

void hr_http_loop_close(hr_http_loop *hl)
{
	uv_timer_stop(&hl->tick);
	uv_close((uv_handle_t *)&hl->tick, NULL);
}

void hr_http_loop_dispose(hr_http_loop *hl)
{
	if (hl->gz) {
		deflateEnd(hl->gz);
		free(hl->gz);
		hl->gz = NULL;
	}
	hr_pool_dispose(&hl->pool);
}

static void maybe_drained(hr_http_loop *hl)
{
	if (hl->stopping && hl->nconns == 0 && hl->nrefused == 0 && hl->on_drained) {
		void (*fn)(hr_http_loop *) = hl->on_drained;
		hl->on_drained = NULL;
		fn(hl);
	}
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Creates the connection object for fd, or NULL (fd closed). */
static hr_conn *conn_new(hr_http_loop *hl, int fd, const struct sockaddr *peer)
{
	hr_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (uv_poll_init_socket(hl->loop, &c->poll, fd) != 0) {
		free(c);
		close(fd);
		return NULL;
	}
	c->poll.data = c;
	c->hl = hl;
	c->fd = fd;
	c->state = CS_HEAD;
	if (peer && peer->sa_family == AF_INET) {
		c->peer_family = AF_INET;
		memcpy(c->peer, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer && peer->sa_family == AF_INET6) {
		c->peer_family = AF_INET6;
		memcpy(c->peer, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	}
	hr_list_node_init(&c->wait_link);
	hr_list_push_back(&hl->all_conns, &c->all_link);
	hl->now_ms = uv_now(hl->loop);
	return c;
}

size_t hr_conn_peer_text(const hr_conn *c, char out[46])
{
	if (!c->peer_family || !inet_ntop(c->peer_family, c->peer, out, 46)) {
		out[0] = '\0';
		return 0;
	}
	return strlen(out);
}

void hr_http_loop_accept(hr_http_loop *hl, int fd, const struct sockaddr *peer)
{
	bool over = atomic_fetch_add_explicit(hl->cfg->conn_count, 1, memory_order_relaxed) >=
		    hl->cfg->max_conns;
	if (over)
		atomic_fetch_sub_explicit(hl->cfg->conn_count, 1, memory_order_relaxed);
	if (hl->stopping || over) {
		/* Refuse gracefully: a 503 the client can read. The client may
		 * already have sent its request, so the connection lingers like
		 * any other refused one (a plain close would reset it and lose
		 * the 503). Refused connections do not count against the limit,
		 * but only a bounded number linger at a time. */
		hr_str r = hr_resp_canned_503();
		hr_conn *c;
		if (!over)
			atomic_fetch_sub_explicit(hl->cfg->conn_count, 1, memory_order_relaxed);
		if (hl->nrefused >= MAX_REFUSED_LINGERING || !(c = conn_new(hl, fd, peer))) {
			if (hl->nrefused >= MAX_REFUSED_LINGERING) {
				ssize_t w = send(fd, r.ptr, r.len, MSG_NOSIGNAL | MSG_DONTWAIT);
				(void)w;
				close(fd);
			}
			return;
		}
		hl->nrefused++;
		c->flags |= CF_REFUSED | CF_CLOSE_AFTER | CF_UNREAD;
		c->state = CS_CLOSING;
		char *dst;
		hr_out_seg *seg = hr_conn_out_reserve(c, r.len, &dst);
		memcpy(dst, r.ptr, r.len);
		hr_conn_out_commit(c, seg, r.len);
		conn_flush(c);
		return;
	}
	hr_conn *c = conn_new(hl, fd, peer);
	if (!c) {
		atomic_fetch_sub_explicit(hl->cfg->conn_count, 1, memory_order_relaxed);
		return;
	}
	hl->nconns++;
	conn_wait(c, HR_WAIT_HEAD);
	conn_update_poll(c);
}

void hr_http_loop_stop(hr_http_loop *hl, void (*on_drained)(hr_http_loop *hl))
{
	hl->stopping = true;
	hl->on_drained = on_drained;
	hr_list *n = hl->all_conns.next;
	while (n != &hl->all_conns) {
		hr_list *next = n->next;
		hr_conn *c = HR_CONTAINER_OF(n, hr_conn, all_link);
		if (c->state == CS_HEAD && c->out_bytes == 0 &&
		    (!c->req || c->rlen == c->rpos)) {
			conn_close(c);
		} else {
			c->flags |= CF_CLOSE_AFTER;
		}
		n = next;
	}
	maybe_drained(hl);
}

void hr_http_loop_close_all(hr_http_loop *hl)
{
	while (!hr_list_empty(&hl->all_conns)) {
		hr_conn *c = HR_CONTAINER_OF(hl->all_conns.next, hr_conn, all_link);
		conn_close(c);
	}
}

/* ---- closing ---------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Ends a request whose connection is going away (see internal.h). */
static void req_abandon(hr_conn *c, hearth_req *r)
{
	c->req = NULL;
	if (c->state != CS_HANDLER || (r->flags & RF_DONE)) {
		hr_req_free(r);
		return;
	}
	/* A handler owns it: detach, handing it the read buffer its slices use. */
	r->conn = NULL;
	r->flags |= RF_DETACHED;
	if (c->rbuf) {
		r->rbuf_owned = c->rbuf;
		if (c->flags & CF_RBUF_HEAP)
			r->flags |= RF_RBUF_HEAP;
		c->rbuf = NULL;
	}
	if (r->abort_cb) {
		void (*fn)(hearth_req *, void *) = r->abort_cb;
		r->abort_cb = NULL;
		fn(r, r->abort_ud);
		hr_req_free(r);
	}
}

static void conn_close(hr_conn *c)
{
	if (c->flags & CF_CLOSED)
		return;
	c->flags |= CF_CLOSED;
	hr_http_loop *hl = c->hl;
	hr_list_remove(&c->wait_link);
	hr_list_remove(&c->all_link);
	if (c->req)
		req_abandon(c, c->req);
	out_free_all(c);
	rbuf_release(c);
	uv_close((uv_handle_t *)&c->poll, on_conn_closed);
	close(c->fd);
	c->fd = -1;
	if (c->flags & CF_REFUSED) {
		hl->nrefused--;
	} else {
		hl->nconns--;
		atomic_fetch_sub_explicit(hl->cfg->conn_count, 1, memory_order_relaxed);
	}
	maybe_drained(hl);
}

/* The final response is queued; close now or after lingering. */
static void conn_finish_close(hr_conn *c)
{
	if (c->out_head) {
		conn_update_poll(c);
		return; /* conn_flush comes back here when the queue drains */
	}
	if (!(c->flags & CF_UNREAD) && !(c->flags & CF_EOF) && c->rlen == c->rpos) {
		conn_close(c);
		return;
	}
	if (c->flags & CF_EOF) {
		conn_close(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = CS_LINGER;
	conn_wait(c, HR_WAIT_LINGER);
	conn_update_poll(c);
}

/* ---- polling ---------------------------------------------------------- */

static void conn_update_poll(hr_conn *c)
{
	if (c->flags & CF_CLOSED)
		return;
	int ev = 0;
	switch (c->state) {
	case CS_HEAD:
	case CS_BODY:
		if (!(c->flags & (CF_PAUSED | CF_EOF)))
			ev |= UV_READABLE;
		break;
	case CS_HANDLER:
		/* Keep the events we had while the handler works: changing them
		 * costs two epoll_ctl calls per request, and a client that waits
		 * for its answer sends nothing meanwhile. If input does arrive,
		 * on_poll sets CF_HOLD and we fall back to watching for EOF. */
		if ((c->events & UV_READABLE) && !(c->flags & (CF_HOLD | CF_EOF)))
			ev |= c->events & (UV_READABLE | UV_DISCONNECT);
		else if (!(c->flags & CF_EOF))
			ev |= UV_DISCONNECT;
		break;
	case CS_LINGER:
		ev |= UV_READABLE;
		break;
	default:
		break;
	}
	if (c->out_head)
		ev |= UV_WRITABLE;
	if (ev == c->events)
		return;
	c->events = ev;
	if (ev)
		uv_poll_start(&c->poll, ev, on_poll);
	else
		uv_poll_stop(&c->poll);
}

/* ---- writing ---------------------------------------------------------- */

static void out_advance(hr_conn *c, size_t n)
{
	c->out_bytes -= n;
	while (n) {
		hr_out_seg *s = c->out_head;
		size_t left = s->len - s->off;
		if (n < left) {
			s->off += n;
			return;
		}
		n -= left;
		c->out_head = s->next;
		if (!c->out_head)
			c->out_tail = NULL;
		seg_free(c->hl, s);
	}
	/* Drop fully sent empty segments at the head. */
	while (c->out_head && c->out_head->kind == SEG_MEM &&
	       c->out_head->off == c->out_head->len) {
		hr_out_seg *s = c->out_head;
		c->out_head = s->next;
		if (!c->out_head)
			c->out_tail = NULL;
		seg_free(c->hl, s);
	}
}

/* Writes as much queued output as the socket takes. Returns 0, or -1 when
 * the connection was closed on a write error. */
static int out_write(hr_conn *c)
{
	while (c->out_head) {
		hr_out_seg *s = c->out_head;
		if (s->kind == SEG_MEM) {
			struct iovec iov[MAX_IOV];
			int n = 0;
			hr_out_seg *t = s;
			for (; t && t->kind == SEG_MEM && n < MAX_IOV; t = t->next) {
				if (t->len == t->off)
					continue;
				iov[n].iov_base = t->data + t->off;
				iov[n].iov_len = t->len - t->off;
				n++;
			}
			if (n == 0) {
				out_advance(c, 0);
				continue;
			}
			struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
			int flags = MSG_NOSIGNAL | (t && t->kind == SEG_FILE ? MSG_MORE : 0);
			ssize_t w = sendmsg(c->fd, &msg, flags);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				conn_close(c);
				return -1;
			}
			out_advance(c, (size_t)w);
			if (c->out_head == s && s->off < s->len)
				return 0; /* partial: the socket is full */
		} else {
			off_t off = (off_t)s->foff;
			size_t want = (size_t)HR_MIN(s->fend - s->foff, (uint64_t)SENDFILE_CHUNK);
			ssize_t w = want ? sendfile(c->fd, s->fd, &off, want) : 0;
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				conn_close(c);
				return -1;
			}
			if (w == 0 && want) {
				/* The file shrank under us: the framing promised more
				 * bytes than exist, so the connection cannot continue. */
				conn_close(c);
				return -1;
			}
			s->foff += (uint64_t)w;
			c->out_bytes -= (size_t)w;
			if (s->foff == s->fend) {
				c->out_head = s->next;
				if (!c->out_head)
					c->out_tail = NULL;
				seg_free(c->hl, s);
			} else if ((size_t)w < want) {
				return 0;
			}
		}
	}
	return 0;
}

/* Puts c on the wait list its state calls for and polls what it needs. */
static void conn_settle(hr_conn *c)
{
	if (c->flags & CF_CLOSED)
		return;
	if ((c->flags & (CF_EOF | CF_CLOSE_AFTER)) && c->state == CS_HEAD && !c->req &&
	    !c->out_head && c->rpos == c->rlen) {
		/* The peer sent all it will send, or we are stopping: nothing
		 * is in flight, so there is nothing left to wait for. */
		conn_close(c);
		return;
	}
	if ((c->flags & CF_EOF) && c->state == CS_HEAD && !c->out_head) {
		conn_close(c); /* EOF inside a partial head: it cannot complete */
		return;
	}
	if (c->out_head) {
		conn_wait_keep(c, HR_WAIT_WRITE);
	} else {
		switch (c->state) {
		case CS_HEAD:
			conn_wait_keep(c, c->req ? HR_WAIT_HEAD : HR_WAIT_IDLE);
			break;
		case CS_BODY:
			conn_wait_keep(c, HR_WAIT_BODY);
			break;
		case CS_LINGER:
			conn_wait_keep(c, HR_WAIT_LINGER);
			break;
		default:
			conn_wait_keep(c, HR_WAIT_NONE);
			break;
		}
	}
	if (c->state == CS_HEAD && !c->req && c->rbuf && c->rpos == c->rlen)
		rbuf_release(c);
	conn_update_poll(c);
}

static void conn_flush(hr_conn *c)
{
	if (c->flags & CF_CLOSED)
		return;
	size_t before = c->out_bytes;
	if (out_write(c) < 0)
		return;
	if (c->out_head && c->out_bytes != before && c->wait == HR_WAIT_WRITE)
		conn_wait(c, HR_WAIT_WRITE); /* progress: a fresh deadline */
	if ((c->flags & CF_PAUSED) && c->out_bytes < HIGH_WATER / 2) {
		c->flags &= (uint16_t)~CF_PAUSED;
		if (!(c->flags & CF_IN_PROCESS) && c->state == CS_HEAD) {
			conn_process(c);
			return;
		}
	}
	if (c->state == CS_CLOSING && !c->out_head) {
		conn_finish_close(c);
		return;
	}
	conn_settle(c);
}

void hr_conn_flush_later(hr_conn *c)
{
	if (!(c->flags & CF_IN_PROCESS))
		conn_flush(c);
}

/* ---- requests --------------------------------------------------------- */

void hr_conn_req_done(hr_conn *c, hearth_req *req)
{
	hr_http_loop *hl = c->hl;
	HR_ASSERT(c->req == req);
	hl->requests++;
	if (hl->log->access_on) {
		uint64_t us = req->t_start_ns ? (uv_hrtime() - req->t_start_ns) / 1000 : 0;
		char addr[46];
		size_t alen = hr_conn_peer_text(c, addr);
		hr_log_access(hl->log, hr_str_make(addr, alen), req->head.method, req->head.target,
			      req->status, req->bytes_out, us);
	}
	bool close_after = (c->flags & CF_CLOSE_AFTER) || !req->head.keep_alive ||
			   req->head.head_len == 0;
	c->req = NULL;
	hr_req_free(req);
	if (close_after) {
		c->state = CS_CLOSING;
		if (!(c->flags & CF_IN_PROCESS))
			conn_flush(c);
		return;
	}
	c->state = CS_HEAD;
	c->flags &= (uint16_t)~CF_HOLD;
	if (!(c->flags & CF_IN_PROCESS))
		conn_process(c);
}

/* Answers a request we refuse; the connection closes after the response. */
static void conn_refuse(hr_conn *c, int status, const char *msg)
{
	c->flags |= CF_CLOSE_AFTER | CF_UNREAD;
	if (!c->req)
		c->req = hr_req_new(c);
	c->state = CS_HANDLER;
	hr_resp_simple_error(c->req, status, msg, true);
}

static void send_continue(hr_conn *c, hearth_req *r)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (r->head.minor_version < 1 || (r->flags & RF_CONTINUE_SENT))
		return;
	r->flags |= RF_CONTINUE_SENT;
	char *dst;
	hr_out_seg *s = hr_conn_out_reserve(c, sizeof cont - 1, &dst);
	if (!s)
		return;
	memcpy(dst, cont, sizeof cont - 1);
	hr_conn_out_commit(c, s, sizeof cont - 1);
}

static void dispatch(hr_conn *c, hearth_req *r)
{
	c->state = CS_HANDLER;
	conn_wait_keep(c, HR_WAIT_NONE);
	if (r->flags & RF_BODY_HEAP)
		r->body = hr_str_make(r->body_buf ? r->body_buf : "", r->body_len);
	c->hl->dispatch(r, c->hl->dispatch_ud);
}

/* Grows the heap body buffer to at least `need` bytes (need <= max_body). */
static int body_reserve(hearth_req *r, size_t need)
{
	if (need <= r->body_cap)
		return 0;
	size_t cap = r->body_cap ? r->body_cap : BODY_INITIAL;
	while (cap < need)
		cap *= 2;
	char *p = realloc(r->body_buf, cap);
	if (!p)
		return HR_ENOMEM;
	r->body_buf = p;
	r->body_cap = cap;
	return 0;
}

/* Moves the read buffer to new storage of cap bytes, rebasing the head. */
static int rbuf_move(hr_conn *c, size_t cap)
{
	char *nb = malloc(cap);
	if (!nb)
		return HR_ENOMEM;
	memcpy(nb, c->rbuf, c->rlen);
	if (c->req)
		hr_http_head_rebase(&c->req->head, c->rbuf, nb);
	if (c->flags & CF_RBUF_HEAP)
		free(c->rbuf);
	else
		hr_pool_put(&c->hl->pool, c->rbuf);
	c->rbuf = nb;
	c->rcap = cap;
	c->flags |= CF_RBUF_HEAP;
	return 0;
}

/*
 * Runs the chunked decoder over rbuf[rpos..rlen), appending decoded bytes
 * to the body buffer. Returns 1 when the body is complete (rpos is then the
 * first byte after it), 0 when more input is needed (the input was
 * consumed and rlen rewound to rpos), or -1 after refusing the request.
 */
static int body_chunked(hr_conn *c, hearth_req *r)
{
	size_t from = c->rpos;
	size_t len = c->rlen - from, out = 0;
	int rc = hr_http_chunked_decode(&r->chunked, c->rbuf + from, &len, &out,
					&c->hl->cfg->limits);
	if (rc < 0) {
		conn_refuse(c, hr_http_err_status(-rc), hr_http_err_reason(-rc));
		return -1;
	}
	r->flags |= RF_BODY_HEAP;
	if (out) {
		if (body_reserve(r, r->body_len + out) != 0) {
			conn_refuse(c, 503, "Out of memory.");
			return -1;
		}
		memcpy(r->body_buf + r->body_len, c->rbuf + from, out);
		r->body_len += out;
	}
	if (rc == 1) {
		size_t rest = c->rlen - from - len;
		memmove(c->rbuf + from, c->rbuf + from + len, rest);
		c->rlen = from + rest;
		return 1;
	}
	c->rlen = from;
	return 0;
}

/* The head of c->req is complete: set up its body and dispatch when it is all here.
 * Returns true when the request was dispatched. */
static bool head_done(hr_conn *c, hearth_req *r, size_t head_len)
{
	hr_http_loop *hl = c->hl;
	c->rpos += head_len;
	if (hl->log->access_on)
		r->t_start_ns = uv_hrtime();
	if (r->head.method_id == HR_METHOD_HEAD)
		r->flags |= RF_HEAD;
	r->body_start_ms = hl->now_ms;
	if (r->head.chunked) {
		hr_http_chunked_init(&r->chunked);
		c->state = CS_BODY;
		int b = body_chunked(c, r);
		if (b < 0)
			return false;
		if (b == 1) {
			dispatch(c, r);
			return true;
		}
		if (r->head.expect_continue)
			send_continue(c, r);
		return false;
	}
	uint64_t cl = r->head.content_length > 0 ? (uint64_t)r->head.content_length : 0;
	size_t have = c->rlen - c->rpos;
	if (have >= cl) {
		r->body = hr_str_make(c->rbuf + c->rpos, (size_t)cl);
		c->rpos += (size_t)cl;
		dispatch(c, r);
		return true;
	}
	/* Not all here: collect it in its own buffer, read straight into it. */
	r->body_want = cl;
	if (body_reserve(r, (size_t)HR_MIN(cl, (uint64_t)BODY_INITIAL)) != 0) {
		conn_refuse(c, 503, "Out of memory.");
		return false;
	}
	r->flags |= RF_BODY_HEAP;
	memcpy(r->body_buf, c->rbuf + c->rpos, have);
	r->body_len = have;
	c->rlen = c->rpos;
	c->state = CS_BODY;
	if (r->head.expect_continue)
		send_continue(c, r);
	return false;
}

static void conn_process(hr_conn *c)
{
	hr_http_loop *hl = c->hl;
	c->flags |= CF_IN_PROCESS;
	while (!(c->flags & (CF_CLOSED | CF_PAUSED))) {
		if (c->state == CS_HEAD) {
			if (!c->rbuf || c->rpos == c->rlen)
				break;
			if (!c->req) {
				c->req = hr_req_new(c);
				if (hl->stopping)
					c->flags |= CF_CLOSE_AFTER;
				conn_wait(c, HR_WAIT_HEAD);
			}
			hearth_req *r = c->req;
			int rc = hr_http_parse_head(c->rbuf + c->rpos, c->rlen - c->rpos,
						    &hl->cfg->limits, &r->head);
			if (rc < 0) {
				conn_refuse(c, hr_http_err_status(-rc), hr_http_err_reason(-rc));
				break;
			}
			if (rc == 0) {
				if (c->rlen < c->rcap)
					break;
				/* Full: move the partial head to the front, or grow
				 * when the limit allows a head larger than the buffer. */
				if (c->rpos > 0) {
					size_t n = c->rlen - c->rpos;
					memmove(c->rbuf, c->rbuf + c->rpos, n);
					hr_http_head_rebase(&r->head, c->rbuf + c->rpos, c->rbuf);
					c->rlen = n;
					c->rpos = 0;
				} else if (c->rcap <= hl->cfg->limits.max_head_bytes) {
					if (rbuf_move(c, hl->cfg->limits.max_head_bytes + 1) != 0)
						conn_refuse(c, 503, "Out of memory.");
				} else {
					conn_refuse(c, 431, "Request header fields too large.");
				}
				break;
			}
			if (!head_done(c, r, (size_t)rc))
				break;
		} else if (c->state == CS_BODY) {
			hearth_req *r = c->req;
			if (r->head.chunked) {
				int b = body_chunked(c, r);
				if (b != 1)
					break;
			} else if (r->body_len < r->body_want) {
				break;
			}
			dispatch(c, r);
		} else {
			break;
		}
	}
	c->flags &= (uint16_t)~CF_IN_PROCESS;
	if (c->flags & CF_CLOSED)
		return;
	if (c->out_bytes > HIGH_WATER)
		c->flags |= CF_PAUSED;
	conn_flush(c);
}

/* ---- reading ---------------------------------------------------------- */

static void conn_read(hr_conn *c)
{
	char *dst;
	size_t room;
	hearth_req *r = c->req;
	if (c->state == CS_LINGER) {
		char sink[4096];
		for (int i = 0; i < 8; i++) {
			ssize_t n = recv(c->fd, sink, sizeof sink, 0);
			if (n > 0)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			conn_close(c);
			return;
		}
		return;
	}
	if (c->state == CS_BODY && !r->head.chunked) {
		uint64_t left = r->body_want - r->body_len;
		if (r->body_cap == r->body_len &&
		    body_reserve(r, (size_t)HR_MIN(r->body_want, (uint64_t)r->body_cap * 2)) != 0) {
			conn_refuse(c, 503, "Out of memory.");
			conn_flush(c);
			return;
		}
		dst = r->body_buf + r->body_len;
		room = (size_t)HR_MIN(left, (uint64_t)(r->body_cap - r->body_len));
	} else {
		rbuf_ensure(c);
		if (c->rcap - c->rlen < 1024 && c->state == CS_BODY) {
			/* A chunked body behind a head that nearly fills the buffer. */
			if (rbuf_move(c, c->rcap + HR_BLOCK_SIZE) != 0) {
				conn_refuse(c, 503, "Out of memory.");
				conn_flush(c);
				return;
			}
		}
		dst = c->rbuf + c->rlen;
		room = c->rcap - c->rlen;
	}
	HR_ASSERT(room > 0);
	ssize_t n = recv(c->fd, dst, room, 0);
	if (n > 0) {
		if (c->state == CS_BODY && !r->head.chunked)
			r->body_len += (size_t)n;
		else
			c->rlen += (size_t)n;
		conn_process(c);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		conn_settle(c);
		return;
	}
	if (n == 0 && c->state == CS_HEAD && !c->req) {
		/* Half-closed between requests: send what is queued, then close. */
		c->flags |= CF_EOF;
		conn_settle(c);
		return;
	}
	/* A reset, or EOF inside a request that can no longer be answered. */
	conn_close(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	hr_conn *c = h->data;
	c->hl->now_ms = uv_now(c->hl->loop);
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (events & UV_WRITABLE) {
		conn_flush(c);
		if (c->flags & CF_CLOSED)
			return;
	}
	if (c->state == CS_HANDLER) {
		if ((events & UV_READABLE) && !(c->flags & CF_HOLD)) {
			c->flags |= CF_HOLD;
			conn_update_poll(c);
		}
		if (events & UV_DISCONNECT) {
			/* Half-closed while a handler works: answer what was
			 * sent, then close (conn_settle sees CF_EOF). */
			c->flags |= CF_EOF;
			conn_update_poll(c);
		}
		return;
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		conn_read(c);
}

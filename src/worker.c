/*
 * worker.c - one thread = one uv_loop_t + one SO_REUSEPORT listener + the
 * per-thread resources (http loop state, log buffers, static-file cache).
 *
 * DESIGN
 * Each worker accepts on its own listening socket bound to the same
 * address with SO_REUSEPORT, so the kernel spreads connections across
 * workers and nothing on the request path crosses threads. Debian 12's
 * libuv (1.44) has no UV_TCP_REUSEPORT, so the socket is made here and
 * watched with uv_poll_t; accepted sockets go to the http layer as raw
 * descriptors (see http/http.h for why). Accepting is bounded per wakeup
 * (64) for fairness; EMFILE pauses accepting for 100 ms instead of
 * spinning on a listener that stays readable.
 *
 * The only cross-thread message is "stop", sent with uv_async_send. On it
 * the worker closes its listener, lets the http layer finish in-flight
 * requests, arms the shutdown deadline, and closes its handles once the
 * connections are gone, which ends uv_run.
 *
 * Dispatch order for a request: the router; on no route, static files
 * for GET/HEAD outside /api/ when --public is set; else 404, or 405 with
 * Allow when the path exists for other methods (except under /api/, where
 * the dialect answers 404 for any unmatched method, DIALECT.md §1.1).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/common.h"
#include "server.h"

#define ACCEPT_BATCH 64
#define LISTEN_BACKLOG 4096

int hr_worker_listen_socket(const hearth_server *s, int *out_fd)
{
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int rc = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
		rc = -errno;
		goto fail;
	}
	if (s->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		rc = -errno;
		goto fail;
	}
	*out_fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

static void on_listen(uv_poll_t *h, int status, int events);

static void on_accept_retry(uv_timer_t *t)
{
	hr_worker *w = t->data;
	if (!w->listen_closed)
		uv_poll_start(&w->listen_poll, UV_READABLE, on_listen);
}

static void on_listen(uv_poll_t *h, int status, int events)
{
	hr_worker *w = h->data;
	if (status < 0)
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd = accept4(w->listen_fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			hr_http_loop_accept(&w->http, fd, (const struct sockaddr *)&peer);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			hr_log_error(&w->log, HR_LOG_WARN, "worker",
				     "accept: %s; pausing accepts for 100 ms", strerror(errno));
			uv_poll_stop(&w->listen_poll);
			uv_timer_start(&w->accept_retry, on_accept_retry, 100, 0);
		}
		break;
	}
}

static void on_before_poll(uv_prepare_t *p)
{
	hr_worker *w = p->data;
	hr_log_flush(&w->log);
	if (w->srv->api)
		hr_api_worker_idle(w->srv->api, w->id);
	if (w->srv->cfg.worker_idle)
		w->srv->cfg.worker_idle(w->id, w->srv->cfg.worker_ud);
}

/* ---- dispatch --------------------------------------------------------- */

static bool under_api(hr_str path)
{
	return path.len >= 5 && memcmp(path.ptr, "/api/", 5) == 0;
}

static void dispatch(hearth_req *req, void *ud)
{
	hr_worker *w = ud;
	const hr_http_head *h = hr_http_req_head(req);
	char *scratch = hearth_req_alloc(req, h->path.len + 1);
	hr_route_match m;
	if (!scratch) {
		hearth_resp_error(req, 503, "Out of memory.");
		return;
	}
	int rc = hr_router_match(w->srv->router, h->method_id, h->method, h->path, scratch, &m);
	if (rc == 0) {
		if (w->srv->api && under_api(h->path))
			hr_api_common_headers(req);
		hr_http_req_set_params(req, m.names, m.values, m.nparams);
		((hearth_handler)m.fn)(req, m.ud);
		return;
	}
	if (rc == HR_EPARSE) {
		hearth_resp_error(req, 400, "Malformed percent-encoding in the path.");
		return;
	}
	bool api = under_api(h->path);
	if (api && w->srv->api) {
		if (h->method_id == HR_METHOD_OPTIONS) {
			hr_api_preflight(req);
			return;
		}
		hr_api_common_headers(req);
	}
	if (w->scache && !api && rc == HR_ENOENT) {
		hr_static_serve(w->scache, req);
		return;
	}
	if (rc == HR_ESTATE && !api) {
		hearth_resp_header(req, "Allow", m.allow, strlen(m.allow));
		hearth_resp_error(req, 405, NULL);
		return;
	}
	hearth_resp_error(req, 404, NULL);
}

/* ---- lifecycle -------------------------------------------------------- */

static void close_cb_noop(uv_handle_t *h)
{
	(void)h;
}

static void close_listener(hr_worker *w)
{
	if (w->listen_closed)
		return;
	w->listen_closed = 1;
	uv_timer_stop(&w->accept_retry);
	uv_close((uv_handle_t *)&w->listen_poll, close_cb_noop);
	close(w->listen_fd);
	w->listen_fd = -1;
}

static void on_drained(hr_http_loop *hl)
{
	hr_worker *w = HR_CONTAINER_OF(hl, hr_worker, http);
	uv_timer_stop(&w->deadline);
	uv_close((uv_handle_t *)&w->deadline, close_cb_noop);
	uv_close((uv_handle_t *)&w->accept_retry, close_cb_noop);
	uv_close((uv_handle_t *)&w->wake, close_cb_noop);
	uv_close((uv_handle_t *)&w->before_poll, close_cb_noop);
	if (w->srv->api)
		hr_api_worker_stop(w->srv->api, w->id);
	if (w->srv->cfg.worker_stop)
		w->srv->cfg.worker_stop(w->id, w->srv->cfg.worker_ud);
	hr_http_loop_close(&w->http);
}

static void on_deadline(uv_timer_t *t)
{
	hr_worker *w = t->data;
	hr_log_error(&w->log, HR_LOG_WARN, "worker",
		     "shutdown deadline passed; closing %u connection(s)", w->http.nconns);
	hr_http_loop_close_all(&w->http);
	/* Work still running on the thread pool (an offloaded request) would
	 * keep uv_run going past the deadline: leave the loop now. */
	w->deadline_passed = 1;
	uv_stop(&w->loop);
}

static void on_wake(uv_async_t *a)
{
	hr_worker *w = a->data;
	if (!atomic_load(&w->srv->stopping) || w->listen_closed)
		return;
	close_listener(w);
	uv_timer_start(&w->deadline, on_deadline, w->srv->cfg.shutdown_timeout_ms, 0);
	hr_http_loop_stop(&w->http, on_drained);
}

static void worker_main(void *arg)
{
	hr_worker *w = arg;
	const hearth_config *cfg = &w->srv->cfg;
	char name[16];
	snprintf(name, sizeof name, "hearth-w%u", w->id);
	hr_thread_name(name);
	if (cfg->worker_start && cfg->worker_start(w->id, &w->loop, cfg->worker_ud) != 0) {
		/* refuse to serve: leave at once, as a stop would */
		hr_log_error(&w->log, HR_LOG_ERROR, "worker", "worker %u: start hook failed", w->id);
		atomic_store(&w->srv->stopping, 1);
		on_wake(&w->wake);
	}
	uv_run(&w->loop, UV_RUN_DEFAULT);
	hr_http_loop_dispose(&w->http);
	hr_log_flush(&w->log);
	if (w->scache) {
		hr_static_cache_free(w->scache);
		w->scache = NULL;
	}
	if (w->deadline_passed) {
		/* Let pending close callbacks run, without waiting for thread-pool work. */
		uv_run(&w->loop, UV_RUN_NOWAIT);
	}
	if (uv_loop_close(&w->loop) != 0) {
		if (!w->deadline_passed)
			uv_run(&w->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&w->loop) != 0)
			w->loop_busy = 1; /* thread-pool work will still post to it */
	}
	hr_log_dispose(&w->log);
}

int hr_worker_start(hr_worker *w)
{
	hearth_server *s = w->srv;
	int rc = uv_loop_init(&w->loop);
	if (rc)
		return rc;
	hr_log_init(&w->log, s->cfg.log_fd, 2, s->cfg.log_format, !s->cfg.quiet, HR_LOG_INFO);
	rc = hr_http_loop_init(&w->http, &w->loop, &s->http, &w->log, w->id, dispatch, w);
	if (rc)
		return rc;
	if (s->statics)
		w->scache = hr_static_cache_new(s->statics, (64u << 20) / s->nworkers);
	if (s->api && (rc = hr_api_worker_start(s->api, w->id, &w->loop)) != 0)
		return rc;
	uv_poll_init_socket(&w->loop, &w->listen_poll, w->listen_fd);
	w->listen_poll.data = w;
	uv_poll_start(&w->listen_poll, UV_READABLE, on_listen);
	uv_timer_init(&w->loop, &w->accept_retry);
	w->accept_retry.data = w;
	uv_timer_init(&w->loop, &w->deadline);
	w->deadline.data = w;
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	uv_prepare_init(&w->loop, &w->before_poll);
	w->before_poll.data = w;
	uv_prepare_start(&w->before_poll, on_before_poll);
	uv_unref((uv_handle_t *)&w->before_poll);
	return uv_thread_create(&w->thread, worker_main, w);
}

void hr_worker_wake(hr_worker *w)
{
	uv_async_send(&w->wake);
}

void hr_worker_join(hr_worker *w)
{
	uv_thread_join(&w->thread);
}

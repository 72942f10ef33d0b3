/*
 * server.c - the process-wide server: configuration, listening address,
 * workers, graceful stop. Implements the hearth_server_* part of hearth.h.
 *
 * DESIGN
 * hearth_server_new copies the configuration and derives each worker's
 * share of the limits. hearth_server_start resolves and binds the address
 * once per worker (SO_REUSEPORT; with port 0 the first socket picks the
 * port and the others bind to it), then starts the worker threads. Nothing
 * here runs on the request path; after start the server object is read-only
 * except for the `stopping` flag.
 *
 * Signals are the program's business (main.c blocks them and waits with
 * sigwait); the library only makes sure SIGPIPE cannot kill the process,
 * because sendfile has no MSG_NOSIGNAL.
 */
#include "server.h"

#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"

void hearth_config_init(hearth_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->http_addr = "127.0.0.1:8090";
	cfg->workers = 0;
	cfg->data_dir = "./hearth_data";
	cfg->log_format = HEARTH_LOG_TEXT;
	cfg->log_fd = 1;
	cfg->max_request_line = 8192;
	cfg->max_head_bytes = 16384;
	cfg->max_headers = 100;
	cfg->max_body = 32u << 20;
	cfg->max_connections = 100000;
	cfg->header_timeout_ms = 10000;
	cfg->idle_timeout_ms = 60000;
	cfg->body_min_rate = 1024;
	cfg->write_timeout_ms = 60000;
	cfg->shutdown_timeout_ms = 10000;
	cfg->gzip = true;
	cfg->gzip_min_bytes = 1024;
	cfg->static_max_age = 0;
}

const char *hearth_strerror(int code)
{
	return hr_strerror(code);
}

/* Splits "host:port", "[v6]:port" or ":port" and resolves it numerically first. */
static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (!colon || colon[1] == '\0')
		return HR_EINVAL;
	const char *h = spec;
	size_t hl = (size_t)(colon - spec);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return HR_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return HR_EINVAL;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 0 || port > 65535)
		return HR_EINVAL;
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res) != 0 || !res)
		return HR_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int hearth_server_new(const hearth_config *cfg, hearth_server **out)
{
	hearth_server *s = hr_xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	int rc = 0;
	if (!cfg->http_addr || parse_addr(cfg->http_addr, &s->addr, &s->addrlen) != 0) {
		rc = HR_EINVAL;
		goto fail;
	}
	if (cfg->max_headers == 0 || cfg->max_head_bytes < 64 || cfg->max_request_line < 16) {
		rc = HR_EINVAL;
		goto fail;
	}
	s->http_addr = hr_xstrdup(cfg->http_addr);
	s->cfg.http_addr = s->http_addr;
	if (cfg->public_dir) {
		s->public_dir = hr_xstrdup(cfg->public_dir);
		s->cfg.public_dir = s->public_dir;
	}
	if (cfg->data_dir) {
		s->data_dir = hr_xstrdup(cfg->data_dir);
		s->cfg.data_dir = s->data_dir;
	}
	unsigned n = cfg->workers;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1;
	}
	if (n > 256)
		n = 256;
	s->nworkers = n;
	hr_http_config *h = &s->http;
	h->limits.max_request_line = cfg->max_request_line;
	h->limits.max_head_bytes = cfg->max_head_bytes;
	h->limits.max_headers = cfg->max_headers;
	h->limits.max_body = cfg->max_body;
	h->header_timeout_ms = cfg->header_timeout_ms;
	h->idle_timeout_ms = cfg->idle_timeout_ms;
	h->body_min_rate = cfg->body_min_rate;
	h->write_timeout_ms = cfg->write_timeout_ms;
	h->linger_ms = 2000;
	h->max_conns = cfg->max_connections;
	atomic_init(&s->conn_count, 0);
	h->conn_count = &s->conn_count;
	h->gzip = cfg->gzip;
	h->gzip_min_bytes = cfg->gzip_min_bytes;
	s->router = hr_router_new();
	atomic_init(&s->stopping, 0);
	*out = s;
	return 0;
fail:
	free(s);
	return rc;
}

int hearth_route(hearth_server *s, const char *method, const char *pattern, hearth_handler fn,
		 void *ud)
{
	if (s->started)
		return HR_ESTATE;
	return hr_router_add(s->router, method, pattern, (void *)fn, ud);
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * The workers' listeners share the port through SO_REUSEPORT, which would
 * just as gladly share it with another process of the same user: a second
 * server started on a taken port would silently get a part of its
 * connections. A socket without SO_REUSEPORT cannot bind where anybody
 * listens, so a probe bind tells whether the port is free.
 */
static int port_free(const hearth_server *s)
{
	const struct sockaddr_storage *a = &s->addr;
	in_port_t port = a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
						  : ((const struct sockaddr_in *)a)->sin_port;
	if (port == 0)
		return 0; /* the kernel picks a free one */
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, rc = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int hearth_server_start(hearth_server *s)
{
	if (s->started)
		return HR_ESTATE;
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	int rc = 0;
	if (s->cfg.public_dir) {
		rc = hr_static_root_new(s->cfg.public_dir, s->cfg.static_max_age, &s->statics);
		if (rc)
			return rc;
	}
	if ((rc = port_free(s)) != 0) {
		hr_static_root_free(s->statics);
		s->statics = NULL;
		return rc;
	}
	s->workers = hr_xcalloc(s->nworkers, sizeof *s->workers);
	unsigned bound = 0;
	for (; bound < s->nworkers; bound++) {
		hr_worker *w = &s->workers[bound];
		w->srv = s;
		w->id = bound;
		rc = hr_worker_listen_socket(s, &w->listen_fd);
		if (rc)
			goto fail;
		if (bound == 0) {
			s->port = bound_port(w->listen_fd);
			if (s->addr.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&s->addr)->sin6_port = htons((uint16_t)s->port);
			else
				((struct sockaddr_in *)&s->addr)->sin_port = htons((uint16_t)s->port);
		}
	}
	s->started = true;
	for (unsigned i = 0; i < s->nworkers; i++) {
		rc = hr_worker_start(&s->workers[i]);
		if (rc)
			hr_fatal("cannot start worker %u: %s", i, hr_strerror(rc));
	}
	return 0;
fail:
	for (unsigned i = 0; i < bound; i++)
		close(s->workers[i].listen_fd);
	free(s->workers);
	s->workers = NULL;
	hr_static_root_free(s->statics);
	s->statics = NULL;
	return rc;
}

void hr_server_set_api(hearth_server *s, hr_api *api)
{
	s->api = api;
}

int hearth_server_port(const hearth_server *s)
{
	return s->port;
}

void hearth_server_stop(hearth_server *s)
{
	if (!s->started)
		return;
	atomic_store(&s->stopping, 1);
	for (unsigned i = 0; i < s->nworkers; i++)
		hr_worker_wake(&s->workers[i]);
}

int hearth_server_wait(hearth_server *s)
{
	if (!s->started)
		return 0;
	int busy = 0;
	for (unsigned i = 0; i < s->nworkers; i++) {
		hr_worker_join(&s->workers[i]);
		busy |= s->workers[i].loop_busy;
	}
	return busy ? 1 : 0;
}

/*
 * Workers whose loop could not be closed because offloaded work was still
 * running when the shutdown deadline passed. libuv's thread pool will post
 * that work's completion to the loop, so its memory must stay valid (and
 * reachable, for leak checkers) for the rest of the process.
 */
static hr_worker *abandoned_workers[16];
static atomic_int nabandoned;

void hearth_server_free(hearth_server *s)
{
	if (!s)
		return;
	bool busy = false;
	for (unsigned i = 0; s->workers && i < s->nworkers; i++)
		busy |= s->workers[i].loop_busy != 0;
	if (busy) {
		int k = atomic_fetch_add(&nabandoned, 1);
		if (k < (int)HR_ARRAY_LEN(abandoned_workers))
			abandoned_workers[k] = s->workers;
	} else {
		free(s->workers);
	}
	hr_router_free(s->router);
	hr_static_root_free(s->statics);
	free(s->http_addr);
	free(s->public_dir);
	free(s->data_dir);
	free(s);
}

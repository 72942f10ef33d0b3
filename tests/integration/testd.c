/*
 * tests/integration/testd.c - a test server on the public API (hearth.h),
 * used by the integration tests for what the hearth binary's own routes
 * cannot exercise: request bodies, handlers that answer later, streaming,
 * large compressible bodies, route parameters. It takes the same flags as
 * `hearth serve` that the engine understands, and serves --public files.
 *
 * Routes:
 *   GET  /hello                 "hello"
 *   POST|PUT /echo              the body back; X-Body-Length; X-Method
 *   GET  /slow?ms=N             answers "slow N" after N ms on the thread pool
 *   GET  /stream?n=N            N chunks "chunk i\n", streamed
 *   GET  /big?kb=N              N KiB of compressible text
 *   GET  /params/{a}/{rest...}  {"a":"...","rest":"..."}
 *   GET  /query?k=NAME          the decoded value of query parameter NAME
 *   GET  /api/health            as the hearth binary
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hearth.h"

static void hello(hearth_req *req, void *ud)
{
	(void)ud;
	hearth_resp_send(req, 200, "text/plain", "hello", 5);
}

static void echo(hearth_req *req, void *ud)
{
	(void)ud;
	hearth_str b = hearth_req_body(req);
	hearth_str m = hearth_req_method(req);
	char n[32];
	int l = snprintf(n, sizeof n, "%zu", b.len);
	hearth_resp_header(req, "X-Body-Length", n, (size_t)l);
	hearth_resp_header(req, "X-Method", m.ptr, m.len);
	hearth_resp_send(req, 200, "application/octet-stream", b.ptr, b.len);
}

static long query_long(hearth_req *req, const char *name, long dflt)
{
	hearth_str v = hearth_req_query_param(req, name);
	if (!v.ptr)
		return dflt;
	char buf[32];
	size_t n = v.len < sizeof buf - 1 ? v.len : sizeof buf - 1;
	memcpy(buf, v.ptr, n);
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void slow_work(void *ud)
{
	long ms = *(long *)ud;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void slow_done(hearth_req *req, void *ud)
{
	char b[64];
	int l = snprintf(b, sizeof b, "slow %ld", *(long *)ud);
	hearth_resp_send(req, 200, "text/plain", b, (size_t)l);
}

static void slow(hearth_req *req, void *ud)
{
	(void)ud;
	long *ms = hearth_req_alloc(req, sizeof *ms);
	*ms = query_long(req, "ms", 100);
	if (*ms < 0 || *ms > 60000)
		*ms = 100;
	if (hearth_req_offload(req, slow_work, slow_done, ms) != 0)
		hearth_resp_error(req, 500, NULL);
}

static void stream(hearth_req *req, void *ud)
{
	(void)ud;
	long n = query_long(req, "n", 3);
	hearth_resp_start(req, 200, "text/plain");
	for (long i = 0; i < n; i++) {
		char b[32];
		int l = snprintf(b, sizeof b, "chunk %ld\n", i);
		hearth_resp_write(req, b, (size_t)l);
	}
	hearth_resp_end(req);
}

static void big(hearth_req *req, void *ud)
{
	(void)ud;
	long kb = query_long(req, "kb", 64);
	if (kb < 0 || kb > 65536)
		kb = 64;
	size_t n = (size_t)kb * 1024;
	char *p = hearth_req_alloc(req, n + 1);
	if (!p) {
		hearth_resp_error(req, 503, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = "hearth is a backend. "[i % 21];
	hearth_resp_send(req, 200, "text/plain; charset=utf-8", p, n);
}

static void params(hearth_req *req, void *ud)
{
	(void)ud;
	hearth_str a = hearth_req_param(req, "a"), r = hearth_req_param(req, "rest");
	char b[4096];
	int l = snprintf(b, sizeof b, "{\"a\":\"%.*s\",\"rest\":\"%.*s\"}", (int)a.len, a.ptr,
			 (int)r.len, r.ptr);
	hearth_resp_send(req, 200, "application/json", b, (size_t)l);
}

static void query(hearth_req *req, void *ud)
{
	(void)ud;
	hearth_str k = hearth_req_query_param(req, "k");
	char name[128];
	size_t n = k.len < sizeof name - 1 ? k.len : sizeof name - 1;
	memcpy(name, k.ptr ? k.ptr : "", n);
	name[n] = '\0';
	hearth_str v = hearth_req_query_param(req, name);
	if (!v.ptr) {
		hearth_resp_error(req, 404, "No such parameter.");
		return;
	}
	hearth_resp_send(req, 200, "text/plain", v.ptr, v.len);
}

static void health(hearth_req *req, void *ud)
{
	(void)ud;
	static const char body[] = "{\"message\":\"API is healthy.\",\"code\":200,\"data\":{}}";
	hearth_resp_send(req, 200, "application/json", body, sizeof body - 1);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		v *= 1024;
	else if (*end == 'M' || *end == 'm')
		v *= 1024 * 1024;
	return v;
}

int main(int argc, char **argv)
{
	hearth_config cfg;
	hearth_config_init(&cfg);
	cfg.http_addr = "127.0.0.1:0";
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--http"))
			cfg.http_addr = v;
		else if (!strcmp(a, "--public"))
			cfg.public_dir = v;
		else if (!strcmp(a, "--workers"))
			cfg.workers = (unsigned)num(v);
		else if (!strcmp(a, "--max-body"))
			cfg.max_body = num(v);
		else if (!strcmp(a, "--max-header-bytes"))
			cfg.max_head_bytes = num(v);
		else if (!strcmp(a, "--max-headers"))
			cfg.max_headers = (unsigned)num(v);
		else if (!strcmp(a, "--max-request-line"))
			cfg.max_request_line = num(v);
		else if (!strcmp(a, "--max-connections"))
			cfg.max_connections = (unsigned)num(v);
		else if (!strcmp(a, "--header-timeout-ms"))
			cfg.header_timeout_ms = (unsigned)num(v);
		else if (!strcmp(a, "--idle-timeout-ms"))
			cfg.idle_timeout_ms = (unsigned)num(v);
		else if (!strcmp(a, "--write-timeout-ms"))
			cfg.write_timeout_ms = (unsigned)num(v);
		else if (!strcmp(a, "--shutdown-timeout-ms"))
			cfg.shutdown_timeout_ms = (unsigned)num(v);
		else if (!strcmp(a, "--body-min-rate"))
			cfg.body_min_rate = (unsigned)num(v);
		else if (!strcmp(a, "--log-format"))
			cfg.log_format = !strcmp(v, "json") ? HEARTH_LOG_JSON : HEARTH_LOG_TEXT;
		else if (!strcmp(a, "--quiet"))
			cfg.quiet = !strcmp(v, "1");
		else {
			fprintf(stderr, "testd: unknown option %s\n", a);
			return 2;
		}
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	hearth_server *s;
	if (hearth_server_new(&cfg, &s) != 0)
		return 2;
	hearth_route(s, "GET", "/hello", hello, NULL);
	hearth_route(s, "POST", "/echo", echo, NULL);
	hearth_route(s, "PUT", "/echo", echo, NULL);
	hearth_route(s, "GET", "/slow", slow, NULL);
	hearth_route(s, "GET", "/stream", stream, NULL);
	hearth_route(s, "GET", "/big", big, NULL);
	hearth_route(s, "GET", "/params/{a}/{rest...}", params, NULL);
	hearth_route(s, "GET", "/query", query, NULL);
	hearth_route(s, "GET", "/api/health", health, NULL);
	int rc = hearth_server_start(s);
	if (rc != 0) {
		fprintf(stderr, "testd: start: %s\n", hearth_strerror(rc));
		hearth_server_free(s);
		return 1;
	}
	fprintf(stderr, "testd listening on port %d\n", hearth_server_port(s));
	int sig;
	sigwait(&set, &sig);
	hearth_server_stop(s);
	int busy = hearth_server_wait(s);
	hearth_server_free(s);
	fprintf(stderr, "testd stopped\n");
	if (busy) {
		fflush(stdout);
		_exit(0);
	}
	return 0;
}

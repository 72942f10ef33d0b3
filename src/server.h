/*
 * server.h - the process-wide server object shared by server.c, worker.c
 * and main.c (the top layer). Other layers never see it.
 */
#ifndef HR_SERVER_H
#define HR_SERVER_H

#include <stdatomic.h>
#include <sys/socket.h>
#include <uv.h>

#include "api/api.h"
#include "core/log.h"
#include "hearth.h"
#include "http/http.h"
#include "http/static.h"
#include "router.h"

typedef struct hr_worker hr_worker;

struct hearth_server {
	hearth_config cfg;	  /* strings below are owned copies */
	char *http_addr, *public_dir, *data_dir;
	hr_http_config http;
	hr_router *router;
	hr_static_root *statics;  /* NULL without --public */
	unsigned nworkers;
	hr_worker *workers;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int port;		  /* bound port */
	atomic_int stopping;
	atomic_uint conn_count;	  /* open connections, all workers (the limit's counter) */
	hr_api *api;		  /* the REST API, when the program attached one (borrowed) */
	bool started;
};

struct hr_worker {
	hearth_server *srv;
	unsigned id;
	uv_thread_t thread;
	uv_loop_t loop;
	int listen_fd;
	uv_poll_t listen_poll;
	uv_timer_t accept_retry;  /* re-arms accept after EMFILE */
	uv_async_t wake;	  /* server -> worker: stop */
	uv_prepare_t before_poll; /* flushes logs once per loop iteration */
	uv_timer_t deadline;	  /* shutdown deadline */
	hr_http_loop http;
	hr_log log;
	hr_static_cache *scache;
	int listen_closed;
	int deadline_passed;	  /* stopped by the shutdown deadline */
	int loop_busy;		  /* loop could not close: work still on the thread pool */
};

/* Attaches the API (before hearth_server_start): workers then open its
 * per-worker resources and API responses get the dialect's headers. */
void hr_server_set_api(hearth_server *s, hr_api *api);

/* worker.c */
int hr_worker_listen_socket(const hearth_server *s, int *out_fd);
int hr_worker_start(hr_worker *w);
void hr_worker_wake(hr_worker *w);
void hr_worker_join(hr_worker *w);

#endif

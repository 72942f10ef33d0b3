/*
 * api/api.h - the REST API in the PocketBase dialect (../shared/api/DIALECT.md).
 *
 * The API owns the store (db.h) and registers its routes on a server.
 * Modules here are HTTP adapters: they read requests through hearth.h, call
 * the layers below, and answer in the dialect's JSON. Only the top layer
 * (main.c, server.c, worker.c) includes this header.
 */
#ifndef HR_API_API_H
#define HR_API_API_H

#include <stddef.h>
#include <uv.h>

#include "hearth.h"

typedef struct hr_api hr_api;

/*
 * Opens (creating if needed) the database in data_dir, bootstraps the
 * system collections and starts the writer. workers is the number of event
 * loops that will serve requests. Returns 0 or a negative code with a
 * message in errbuf.
 */
int hr_api_new(const char *data_dir, unsigned workers, hr_api **out, char *errbuf, size_t n);
void hr_api_free(hr_api *api);

/*
 * Sends mail through the SMTP server of url (smtp://user:pass@host:port,
 * smtps://..., "?starttls" to require STARTTLS) unless settings.smtp is
 * enabled, which then wins. Without it mail goes to DATA_DIR/outbox/.
 * Call before serving. Returns 0 or HR_EINVAL with a message.
 */
int hr_api_set_smtp(hr_api *api, const char *url, char *errbuf, size_t n);

/* Registers every API route on s. Returns 0 or the first hearth_route error. */
int hr_api_register(hr_api *api, hearth_server *s);

/* Per-worker resources (read connection, write completions): called on
 * the worker's thread before it serves / after it stopped serving. */
int hr_api_worker_start(hr_api *api, unsigned idx, uv_loop_t *loop);
void hr_api_worker_stop(hr_api *api, unsigned idx);

/* End of a loop iteration on worker idx: releases its read snapshot. */
void hr_api_worker_idle(hr_api *api, unsigned idx);

/* Adds the headers every API response carries (DIALECT.md §1.5) and CORS
 * headers when the request has an Origin. */
void hr_api_common_headers(hearth_req *req);

/* Answers a CORS preflight (OPTIONS) under /api/. */
void hr_api_preflight(hearth_req *req);

/* The number of superusers (0 on a fresh database), for the start-up hint. */
int hr_api_superuser_count(hr_api *api);

/*
 * Creates or updates a superuser (hearth superuser upsert). Blocking: run
 * before serving. Returns 0 or a negative code with a message.
 */
int hr_api_superuser_upsert(hr_api *api, const char *email, const char *password, char *errbuf,
			    size_t n);

#endif

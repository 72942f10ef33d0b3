/*
 * api/api.h - the REST API in the PocketBase dialect (../shared/api/DIALECT.md).
 *
 * Modules here are HTTP adapters: they read requests through hearth.h,
 * call the layers below, and answer in the dialect's JSON. Only the top
 * layer (main.c, server.c, worker.c) includes this header.
 */
#ifndef HR_API_API_H
#define HR_API_API_H

#include "hearth.h"

/* Registers every API route on s. Returns 0 or the first hearth_route error. */
int hr_api_register(hearth_server *s);

/*
 * Sends a JSON body with the headers the dialect puts on every API response
 * (DIALECT.md §1.5): X-XSS-Protection, X-Content-Type-Options,
 * X-Frame-Options. Ends the request.
 */
int hr_api_send_json(hearth_req *req, int status, const char *json, size_t len);

/* The dialect's error body with the same headers (msg NULL = default). */
int hr_api_error(hearth_req *req, int status, const char *msg);

#endif

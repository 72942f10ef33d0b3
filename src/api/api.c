/*
 * api/api.c - route registration and the response helpers every API module
 * shares. See api.h.
 */
#include "api/api.h"

#include <string.h>

static void security_headers(hearth_req *req)
{
	hearth_resp_header(req, "X-XSS-Protection", "1; mode=block", 13);
	hearth_resp_header(req, "X-Content-Type-Options", "nosniff", 7);
	hearth_resp_header(req, "X-Frame-Options", "SAMEORIGIN", 10);
}

int hr_api_send_json(hearth_req *req, int status, const char *json, size_t len)
{
	security_headers(req);
	return hearth_resp_send(req, status, "application/json", json, len);
}

int hr_api_error(hearth_req *req, int status, const char *msg)
{
	security_headers(req);
	return hearth_resp_error(req, status, msg);
}

/* GET /api/health (DIALECT.md §17). */
static void health(hearth_req *req, void *ud)
{
	(void)ud;
	static const char body[] = "{\"message\":\"API is healthy.\",\"code\":200,\"data\":{}}";
	hr_api_send_json(req, 200, body, sizeof body - 1);
}

int hr_api_register(hearth_server *s)
{
	return hearth_route(s, "GET", "/api/health", health, NULL);
}

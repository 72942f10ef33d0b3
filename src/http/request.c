/*
 * http/request.c - the request object: creation from a pool block, the
 * hearth_req_* accessors, and freeing.
 *
 * A request occupies one HR_BLOCK_SIZE block from the loop's pool: the
 * hearth_req struct at its start, its header array and arena in the rest.
 * So a typical request costs no malloc at all; the arena spills into
 * malloc'd chunks only for large needs (see core/arena.h).
 *
 * Accessors return slices into the read buffer (head fields), the body
 * buffer, or the arena; all live until the response ends.
 */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "http/internal.h"

/* Arena spill limit per request: bounds memory a single request can pin. */
#define REQ_ARENA_LIMIT (64u << 20)

hearth_req *hr_req_new(hr_conn *c)
{
	hr_http_loop *hl = c->hl;
	char *block = hr_pool_get(&hl->pool);
	hearth_req *r = (hearth_req *)(void *)block;
	memset(r, 0, sizeof *r);
	r->conn = c;
	r->hl = hl;
	r->status = 0;
	size_t used = (sizeof *r + 15) & ~(size_t)15;
	unsigned cap = hl->cfg->limits.max_headers;
	size_t hbytes = (size_t)cap * sizeof(hr_http_header);
	hr_http_header *hdrs;
	if (used + hbytes + 2048 <= HR_BLOCK_SIZE) {
		hdrs = (hr_http_header *)(void *)(block + used);
		used += (hbytes + 15) & ~(size_t)15;
		hr_arena_init(&r->arena, block + used, HR_BLOCK_SIZE - used, REQ_ARENA_LIMIT);
	} else {
		hr_arena_init(&r->arena, block + used, HR_BLOCK_SIZE - used, REQ_ARENA_LIMIT);
		hdrs = hr_arena_alloc(&r->arena, hbytes);
		HR_ASSERT(hdrs != NULL);
	}
	hr_http_head_init(&r->head, hdrs, cap);
	return r;
}

void hr_req_free(hearth_req *r)
{
	hr_http_loop *hl = r->hl;
	hr_arena_dispose(&r->arena);
	free(r->body_buf);
	if (r->rbuf_owned) {
		if (r->flags & RF_RBUF_HEAP)
			free(r->rbuf_owned);
		else
			hr_pool_put(&hl->pool, r->rbuf_owned);
	}
	hr_pool_put(&hl->pool, r);
}

static hearth_str pub(hr_str s)
{
	return (hearth_str){s.ptr, s.len};
}

hearth_str hearth_req_method(const hearth_req *req)
{
	return pub(req->head.method);
}

hearth_str hearth_req_path(const hearth_req *req)
{
	return pub(req->head.path);
}

hearth_str hearth_req_query(const hearth_req *req)
{
	return pub(req->head.query);
}

hearth_str hearth_req_header(const hearth_req *req, const char *name)
{
	const hr_http_header *h = hr_http_head_find_name(&req->head, hr_str_make(name, strlen(name)));
	return h ? pub(h->value) : (hearth_str){NULL, 0};
}

hearth_str hearth_req_header_at(const hearth_req *req, unsigned i, hearth_str *name)
{
	if (i >= req->head.num_headers) {
		*name = (hearth_str){NULL, 0};
		return (hearth_str){NULL, 0};
	}
	*name = pub(req->head.headers[i].name);
	return pub(req->head.headers[i].value);
}

hearth_str hearth_req_header_last(const hearth_req *req, const char *name)
{
	const hr_http_header *h =
		hr_http_head_find_last_name(&req->head, hr_str_make(name, strlen(name)));
	return h ? pub(h->value) : (hearth_str){NULL, 0};
}

hearth_str hearth_req_param(const hearth_req *req, const char *name)
{
	size_t n = strlen(name);
	for (unsigned i = 0; i < req->nparams; i++)
		if (hr_str_eq(req->pnames[i], hr_str_make(name, n)))
			return pub(req->pvals[i]);
	return (hearth_str){NULL, 0};
}

hearth_str hearth_req_query_param(hearth_req *req, const char *name)
{
	hr_str q = req->head.query;
	size_t nlen = strlen(name);
	size_t i = 0;
	while (i < q.len) {
		size_t start = i;
		while (i < q.len && q.ptr[i] != '&')
			i++;
		hr_str pair = hr_str_make(q.ptr + start, i - start);
		i++;
		size_t eq = 0;
		while (eq < pair.len && pair.ptr[eq] != '=')
			eq++;
		hr_str k = hr_str_make(pair.ptr, eq);
		char *kd = hr_arena_alloc(&req->arena, k.len + 1);
		if (!kd)
			return (hearth_str){NULL, 0};
		long kl = hr_str_pct_decode(k, kd, true);
		if (kl < 0 || (size_t)kl != nlen || memcmp(kd, name, nlen) != 0)
			continue;
		hr_str v = eq < pair.len ? hr_str_make(pair.ptr + eq + 1, pair.len - eq - 1)
					 : hr_str_make("", 0);
		char *vd = hr_arena_alloc(&req->arena, v.len + 1);
		if (!vd)
			return (hearth_str){NULL, 0};
		long vl = hr_str_pct_decode(v, vd, true);
		if (vl < 0)
			return (hearth_str){NULL, 0};
		vd[vl] = '\0';
		return (hearth_str){vd, (size_t)vl};
	}
	return (hearth_str){NULL, 0};
}

hearth_str hearth_req_body(const hearth_req *req)
{
	return pub(req->body);
}

hearth_str hearth_req_remote_addr(hearth_req *req)
{
	if (req->remote.ptr || !req->conn)
		return pub(req->remote);
	char *text = hr_arena_alloc(&req->arena, 46);
	size_t n = text ? hr_conn_peer_text(req->conn, text) : 0;
	if (n == 0)
		return (hearth_str){NULL, 0};
	req->remote = hr_str_make(text, n);
	return pub(req->remote);
}

void *hearth_req_alloc(hearth_req *req, size_t n)
{
	return hr_arena_alloc(&req->arena, n);
}

unsigned hearth_req_worker(const hearth_req *req)
{
	return req->hl->worker_id;
}

void hearth_req_on_abort(hearth_req *req, void (*fn)(hearth_req *req, void *ud), void *ud)
{
	req->abort_cb = fn;
	req->abort_ud = ud;
}

hr_arena *hr_http_req_arena(hearth_req *req)
{
	return &req->arena;
}

int hr_http_req_method_id(const hearth_req *req)
{
	return req->head.method_id;
}

const hr_http_head *hr_http_req_head(const hearth_req *req)
{
	return &req->head;
}

hr_http_loop *hr_http_req_loop(const hearth_req *req)
{
	return req->hl;
}

void hr_http_req_set_params(hearth_req *req, const hr_str *names, const hr_str *values, unsigned n)
{
	if (n > HR_HTTP_MAX_PARAMS)
		n = HR_HTTP_MAX_PARAMS;
	for (unsigned i = 0; i < n; i++) {
		req->pnames[i] = names[i];
		req->pvals[i] = values[i];
	}
	req->nparams = n;
}

bool hr_http_req_accepts_gzip(const hearth_req *req)
{
	const hr_http_header *h = hr_http_head_find(&req->head, HR_HDR_ACCEPT_ENCODING);
	if (!h)
		return false;
	/* RFC 9110 §12.5.3: "gzip" or "x-gzip" (or "*") with q > 0. */
	size_t pos = 0;
	hr_str e;
	bool star = false, gz = false, gz_seen = false;
	while (hr_str_list_next(h->value, &pos, &e)) {
		size_t n = 0;
		while (n < e.len && e.ptr[n] != ';' && e.ptr[n] != ' ' && e.ptr[n] != '\t')
			n++;
		hr_str coding = hr_str_make(e.ptr, n);
		bool zero = false;
		for (size_t i = n; i + 1 < e.len; i++) {
			if ((e.ptr[i] == 'q' || e.ptr[i] == 'Q') && e.ptr[i + 1] == '=') {
				size_t j = i + 2;
				zero = j < e.len && e.ptr[j] == '0';
				for (j++; zero && j < e.len; j++)
					if (e.ptr[j] != '.' && e.ptr[j] != '0')
						zero = false;
				break;
			}
		}
		if (hr_str_ieq_lit(coding, "gzip") || hr_str_ieq_lit(coding, "x-gzip")) {
			gz_seen = true;
			gz = !zero;
		} else if (hr_str_eq_lit(coding, "*")) {
			star = !zero;
		}
	}
	return gz_seen ? gz : star;
}

typedef struct offload {
	uv_work_t work;
	hearth_req *req;
	void (*fn)(void *ud);
	void (*done)(hearth_req *req, void *ud);
	void *ud;
} offload;

static void offload_work(uv_work_t *w)
{
	offload *o = w->data;
	o->fn(o->ud);
}

static void offload_after(uv_work_t *w, int status)
{
	(void)status;
	offload *o = w->data;
	o->done(o->req, o->ud);
}

int hearth_req_offload(hearth_req *req, void (*work)(void *ud),
		       void (*done)(hearth_req *req, void *ud), void *ud)
{
	offload *o = hr_arena_alloc(&req->arena, sizeof *o);
	if (!o)
		return HR_ENOMEM;
	o->work.data = o;
	o->req = req;
	o->fn = work;
	o->done = done;
	o->ud = ud;
	return uv_queue_work(req->hl->loop, &o->work, offload_work, offload_after);
}

/*
 * router.c - see router.h for the pattern language and matching rules.
 *
 * Each trie node holds its literal children in an array (kept short in
 * practice; a linear scan with a first-byte check beats hashing here), one
 * parameter child and one catch-all. Handlers sit on nodes per method id;
 * methods we do not know by id are kept in a small list by name.
 */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "http/parser.h"

typedef struct route_other {
	struct route_other *next;
	char *method;
	void *fn, *ud;
} route_other;

typedef struct node {
	char *lit; /* literal segment (decoded form); NULL for param/catch-all */
	size_t lit_len;
	char *pname; /* parameter name for param and catch-all nodes */
	struct node **kids;
	size_t nkids;
	struct node *param;
	struct node *rest;
	void *fn[HR_METHOD__COUNT], *ud[HR_METHOD__COUNT];
	route_other *other;
	bool any; /* some handler is registered here */
} node;

struct hr_router {
	node root;
};

hr_router *hr_router_new(void)
{
	return hr_xcalloc(1, sizeof(hr_router));
}

static void node_free(node *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		node_free(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
	if (n->param) {
		node_free(n->param);
		free(n->param);
	}
	if (n->rest) {
		node_free(n->rest);
		free(n->rest);
	}
	while (n->other) {
		route_other *o = n->other;
		n->other = o->next;
		free(o->method);
		free(o);
	}
	free(n->lit);
	free(n->pname);
}

void hr_router_free(hr_router *r)
{
	if (!r)
		return;
	node_free(&r->root);
	free(r);
}

static bool valid_pname(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

static node *child_for(node *n, const char *seg, size_t len, int *err)
{
	if (len >= 2 && seg[0] == '{' && seg[len - 1] == '}') {
		bool rest = len > 5 && memcmp(seg + len - 4, "...}", 4) == 0;
		const char *name = seg + 1;
		size_t nl = len - 2 - (rest ? 3 : 0);
		if (!valid_pname(name, nl)) {
			*err = HR_EINVAL;
			return NULL;
		}
		node **slot = rest ? &n->rest : &n->param;
		if (*slot) {
			if (strlen((*slot)->pname) != nl || memcmp((*slot)->pname, name, nl) != 0) {
				*err = HR_EINVAL;
				return NULL;
			}
			return *slot;
		}
		node *k = hr_xcalloc(1, sizeof *k);
		k->pname = hr_xmalloc(nl + 1);
		memcpy(k->pname, name, nl);
		k->pname[nl] = '\0';
		*slot = k;
		return k;
	}
	for (size_t i = 0; i < len; i++)
		if (seg[i] == '{' || seg[i] == '}') {
			*err = HR_EINVAL;
			return NULL;
		}
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i]->lit_len == len && memcmp(n->kids[i]->lit, seg, len) == 0)
			return n->kids[i];
	node *k = hr_xcalloc(1, sizeof *k);
	k->lit = hr_xmalloc(len + 1);
	memcpy(k->lit, seg, len);
	k->lit[len] = '\0';
	k->lit_len = len;
	n->kids = hr_xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
	n->kids[n->nkids++] = k;
	return k;
}

int hr_router_add(hr_router *r, const char *method, const char *pattern, void *fn, void *ud)
{
	if (!method || !pattern || pattern[0] != '/' || !fn)
		return HR_EINVAL;
	node *n = &r->root;
	const char *p = pattern + 1;
	unsigned params = 0;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 && e)
			return HR_EINVAL; /* "//" */
		if (len == 0 && !e) {
			/* Trailing slash: an empty literal segment. */
			if (p != pattern + 1 || pattern[1] != '\0') {
				int err = 0;
				n = child_for(n, "", 0, &err);
				if (!n)
					return err;
			}
			break;
		}
		bool is_param = p[0] == '{';
		bool is_rest = is_param && len > 5 && memcmp(p + len - 4, "...}", 4) == 0;
		if (is_rest && e)
			return HR_EINVAL;
		if (is_param && ++params > HR_ROUTER_MAX_PARAMS)
			return HR_EINVAL;
		int err = 0;
		n = child_for(n, p, len, &err);
		if (!n)
			return err;
		if (!e)
			break;
		p = e + 1;
	}
	int id = hr_http_method_id(hr_str_make(method, strlen(method)));
	if (id != HR_METHOD_OTHER) {
		if (n->fn[id])
			return HR_EEXIST;
		n->fn[id] = fn;
		n->ud[id] = ud;
	} else {
		for (route_other *o = n->other; o; o = o->next)
			if (strcmp(o->method, method) == 0)
				return HR_EEXIST;
		route_other *o = hr_xcalloc(1, sizeof *o);
		o->method = hr_xstrdup(method);
		o->fn = fn;
		o->ud = ud;
		o->next = n->other;
		n->other = o;
	}
	n->any = true;
	return 0;
}

typedef struct match_ctx {
	const char *path;
	size_t len;
	char *scratch;
	size_t used;
	hr_route_match *m;
	unsigned depth;
	int bad;
} match_ctx;

/* Decodes path[start..end) into scratch; returns the slice or ptr NULL on error. */
static hr_str decode_seg(match_ctx *x, size_t start, size_t end)
{
	hr_str raw = hr_str_make(x->path + start, end - start);
	if (!memchr(raw.ptr, '%', raw.len))
		return raw;
	char *dst = x->scratch + x->used;
	long n = hr_str_pct_decode(raw, dst, false);
	if (n < 0) {
		x->bad = 1;
		return HR_STR_NULL;
	}
	x->used += (size_t)n;
	return hr_str_make(dst, (size_t)n);
}

/* Finds the node for path[pos..] under n; records params. */
static const node *walk(match_ctx *x, const node *n, size_t pos)
{
	if (pos == x->len)
		return n->any ? n : NULL;
	if (++x->depth > HR_ROUTER_MAX_DEPTH)
		return NULL;
	/* pos points at '/' */
	size_t start = pos + 1, end = start;
	while (end < x->len && x->path[end] != '/')
		end++;
	size_t mark = x->used;
	unsigned np = x->m->nparams;
	hr_str seg = decode_seg(x, start, end);
	if (x->bad)
		return NULL;
	for (size_t i = 0; i < n->nkids; i++) {
		const node *k = n->kids[i];
		if (k->lit_len == seg.len && (seg.len == 0 || memcmp(k->lit, seg.ptr, seg.len) == 0)) {
			const node *f = walk(x, k, end);
			if (f)
				return f;
			if (x->bad)
				return NULL;
		}
	}
	if (n->param && seg.len > 0 && np < HR_ROUTER_MAX_PARAMS) {
		x->m->names[np] = hr_str_make(n->param->pname, strlen(n->param->pname));
		x->m->values[np] = seg;
		x->m->nparams = np + 1;
		const node *f = walk(x, n->param, end);
		if (f)
			return f;
		if (x->bad)
			return NULL;
		x->m->nparams = np;
	}
	if (n->rest && n->rest->any && np < HR_ROUTER_MAX_PARAMS) {
		x->used = mark;
		char *dst = x->scratch + x->used;
		hr_str raw = hr_str_make(x->path + start, x->len - start);
		long dn = hr_str_pct_decode(raw, dst, false);
		if (dn < 0) {
			x->bad = 1;
			return NULL;
		}
		x->used += (size_t)dn;
		x->m->names[np] = hr_str_make(n->rest->pname, strlen(n->rest->pname));
		x->m->values[np] = hr_str_make(dst, (size_t)dn);
		x->m->nparams = np + 1;
		return n->rest;
	}
	x->used = mark;
	return NULL;
}

static void allow_list(const node *n, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (int id = 1; id < HR_METHOD__COUNT; id++) {
		bool has = n->fn[id] != NULL || (id == HR_METHOD_HEAD && n->fn[HR_METHOD_GET]);
		if (!has)
			continue;
		const char *name = hr_http_method_name(id);
		size_t l = strlen(name);
		if (o + l + 3 >= cap)
			break;
		if (o) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		memcpy(out + o, name, l);
		o += l;
	}
	for (const route_other *ot = n->other; ot; ot = ot->next) {
		size_t l = strlen(ot->method);
		if (o + l + 3 >= cap)
			break;
		if (o) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		memcpy(out + o, ot->method, l);
		o += l;
	}
	out[o] = '\0';
}

int hr_router_match(const hr_router *r, int method_id, hr_str method, hr_str path, char *scratch,
		    hr_route_match *m)
{
	m->fn = m->ud = NULL;
	m->nparams = 0;
	m->allow[0] = '\0';
	if (path.len == 0 || path.ptr[0] != '/')
		return HR_ENOENT;
	match_ctx x = {path.ptr, path.len, scratch, 0, m, 0, 0};
	const node *n;
	if (path.len == 1 && r->root.any)
		n = &r->root;
	else
		n = walk(&x, &r->root, 0);
	if (x.bad)
		return HR_EPARSE;
	if (!n)
		return HR_ENOENT;
	if (method_id != HR_METHOD_OTHER) {
		int id = method_id;
		if (!n->fn[id] && id == HR_METHOD_HEAD)
			id = HR_METHOD_GET;
		if (n->fn[id]) {
			m->fn = n->fn[id];
			m->ud = n->ud[id];
			return 0;
		}
	} else {
		for (const route_other *o = n->other; o; o = o->next)
			if (strlen(o->method) == method.len &&
			    memcmp(o->method, method.ptr, method.len) == 0) {
				m->fn = o->fn;
				m->ud = o->ud;
				return 0;
			}
	}
	allow_list(n, m->allow, sizeof m->allow);
	return HR_ESTATE;
}

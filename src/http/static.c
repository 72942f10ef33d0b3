/*
 * http/static.c - static files from the --public folder.
 *
 * PATH SAFETY
 * The raw path is percent-decoded once. Refused with 400: an encoded
 * slash or backslash (%2F, %5C), a raw backslash, NUL or any control byte,
 * a malformed escape, and "." or ".." segments (decoded, so %2e%2e is
 * caught too). Refused with 404: empty segments ("a//b") and hidden names
 * (a segment starting with '.') other than ".well-known". The remaining
 * relative path is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) against the root's directory descriptor, so the
 * kernel refuses any resolution - symlinks included - that would leave the
 * root; symlinks that stay inside it work. Only regular files are served.
 *
 * HTTP
 * GET and HEAD (others: 405, Allow: GET, HEAD). Directories: "dir/" serves
 * dir/index.html; "dir" without the slash answers 301 to "dir/" (query
 * kept). Strong ETag from mtime (ns) and size, Last-Modified, conditional
 * GET per RFC 9110 §13.2.2 (If-None-Match, else If-Modified-Since) with
 * 304; one byte range (bytes=a-b, a-, -n) with 206 or 416, If-Range
 * honoured; several ranges are answered with the whole file (allowed by
 * RFC 9110 §14.2). Accept-Ranges: bytes. Cache-Control: "no-cache" or
 * "public, max-age=N".
 *
 * Compression: for compressible types, when the client accepts gzip and no
 * Range is asked, a precompressed "name.gz" sibling is served if present
 * (Content-Encoding: gzip, Vary: Accept-Encoding, ETag suffixed "-gz");
 * small cached files are otherwise gzipped once in memory.
 *
 * CACHE
 * Each worker keeps the bytes and response metadata of small files
 * (<= CACHE_FILE_MAX) in a hash table with LRU eviction under a byte
 * budget; an entry is revalidated (openat2 + fstat of the path) when it is
 * older than REVALIDATE_MS, so a changed file is seen within a second and a
 * hit costs no system call. Larger files are opened per request and sent
 * with sendfile from the page cache.
 * Caveat: a file changed in place within the same nanosecond mtime and size
 * would not be noticed; editors and deploy tools replace files.
 */
#include "http/static.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "core/common.h"
#include "core/list.h"
#include "http/internal.h"

#define CACHE_FILE_MAX (64u << 10)
#define REVALIDATE_MS 1000
#define NBUCKETS 1024
#define MAX_ENTRIES 4096

struct hr_static_root {
	int dirfd;
	unsigned max_age;
	char cache_control[48];
};

typedef struct entry {
	struct entry *hnext; /* bucket chain */
	hr_list lru;
	char *key;	     /* relative path as opened */
	size_t key_len;
	uint32_t hash;
	uint64_t validated_ms;
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	char *data;	     /* file bytes */
	char *gz;	     /* gzip form, or NULL */
	size_t gz_len;
	bool gz_tried;
	bool gz_sibling;     /* gz came from name.gz */
	bool sib_present;    /* name.gz existed when gz_tried was set ... */
	dev_t sib_dev;	     /* ... with this identity, for revalidation */
	ino_t sib_ino;
	off_t sib_size;
	int64_t sib_mtime_ns;
	const char *mime;
	char etag[48];
	char etag_gz[64];
	char lastmod[30];
} entry;

struct hr_static_cache {
	const hr_static_root *root;
	entry *buckets[NBUCKETS];
	hr_list lru; /* most recent at the tail */
	size_t bytes, max_bytes;
	unsigned n;
	z_stream *z;
};

int hr_static_root_new(const char *dir, unsigned max_age, hr_static_root **out)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	hr_static_root *r = hr_xcalloc(1, sizeof *r);
	r->dirfd = fd;
	r->max_age = max_age;
	if (max_age)
		snprintf(r->cache_control, sizeof r->cache_control, "public, max-age=%u", max_age);
	else
		snprintf(r->cache_control, sizeof r->cache_control, "no-cache");
	*out = r;
	return 0;
}

void hr_static_root_free(hr_static_root *r)
{
	if (!r)
		return;
	close(r->dirfd);
	free(r);
}

hr_static_cache *hr_static_cache_new(const hr_static_root *root, size_t max_bytes)
{
	hr_static_cache *c = hr_xcalloc(1, sizeof *c);
	c->root = root;
	c->max_bytes = max_bytes;
	hr_list_init(&c->lru);
	return c;
}

static void entry_free(entry *e)
{
	free(e->key);
	free(e->data);
	free(e->gz);
	free(e);
}

static void entry_unlink(hr_static_cache *c, entry *e)
{
	entry **pp = &c->buckets[e->hash % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	hr_list_remove(&e->lru);
	c->bytes -= (size_t)e->size + e->gz_len;
	c->n--;
}

void hr_static_cache_free(hr_static_cache *c)
{
	if (!c)
		return;
	while (!hr_list_empty(&c->lru)) {
		entry *e = HR_CONTAINER_OF(c->lru.next, entry, lru);
		entry_unlink(c, e);
		entry_free(e);
	}
	if (c->z) {
		deflateEnd(c->z);
		free(c->z);
	}
	free(c);
}

/* ---- MIME types ------------------------------------------------------- */

static const struct {
	const char *ext, *type;
} mimes[] = {
	{"html", "text/html; charset=utf-8"},
	{"htm", "text/html; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"webmanifest", "application/manifest+json"},
	{"txt", "text/plain; charset=utf-8"},
	{"md", "text/markdown; charset=utf-8"},
	{"csv", "text/csv; charset=utf-8"},
	{"xml", "application/xml"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"avif", "image/avif"},
	{"ico", "image/x-icon"},
	{"bmp", "image/bmp"},
	{"woff", "font/woff"},
	{"woff2", "font/woff2"},
	{"ttf", "font/ttf"},
	{"otf", "font/otf"},
	{"wasm", "application/wasm"},
	{"pdf", "application/pdf"},
	{"zip", "application/zip"},
	{"gz", "application/gzip"},
	{"tar", "application/x-tar"},
	{"mp3", "audio/mpeg"},
	{"ogg", "audio/ogg"},
	{"wav", "audio/wav"},
	{"mp4", "video/mp4"},
	{"webm", "video/webm"},
};

static const char *mime_for(const char *path, size_t len)
{
	size_t i = len;
	while (i > 0 && path[i - 1] != '.' && path[i - 1] != '/')
		i--;
	if (i == 0 || path[i - 1] != '.')
		return "application/octet-stream";
	hr_str ext = hr_str_make(path + i, len - i);
	for (size_t k = 0; k < HR_ARRAY_LEN(mimes); k++)
		if (hr_str_ieq(ext, hr_str_make(mimes[k].ext, strlen(mimes[k].ext))))
			return mimes[k].type;
	return "application/octet-stream";
}

/* ---- path safety ------------------------------------------------------ */

static int hexv(unsigned char c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20;
	if ((unsigned)(c - 'a') < 6u)
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes and checks the request path into out (room: path.len + 11, for
 * an appended "index.html"). Returns the relative path length (no leading
 * slash), or -400 / -404.
 */
static long safe_relpath(hr_str path, char *out)
{
	if (path.len == 0 || path.ptr[0] != '/')
		return -400;
	size_t o = 0;
	size_t seg_start = 0;
	for (size_t i = 1; i <= path.len; i++) {
		if (i == path.len || path.ptr[i] == '/') {
			hr_str seg = hr_str_make(out + seg_start, o - seg_start);
			if (seg.len == 0 && i < path.len)
				return -404; /* "a//b" */
			if (hr_str_eq_lit(seg, ".") || hr_str_eq_lit(seg, ".."))
				return -400;
			if (seg.len && seg.ptr[0] == '.' && !hr_str_eq_lit(seg, ".well-known"))
				return -404;
			if (i < path.len) {
				out[o++] = '/';
				seg_start = o;
			}
			continue;
		}
		unsigned char ch = (unsigned char)path.ptr[i];
		if (ch == '%') {
			if (path.len - i < 3)
				return -400;
			int hi = hexv((unsigned char)path.ptr[i + 1]);
			int lo = hexv((unsigned char)path.ptr[i + 2]);
			if (hi < 0 || lo < 0)
				return -400;
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (ch == '/')
				return -400;
		}
		if (ch == '\\' || ch < 0x20 || ch == 0x7f)
			return -400;
		out[o++] = (char)ch;
	}
	return (long)o;
}

static int open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, rel[0] ? rel : ".", &how, sizeof how);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* ---- responses -------------------------------------------------------- */

static void common_headers(hearth_req *req, const hr_static_cache *c, const char *etag,
			   const char *lastmod, bool vary)
{
	hr_http_resp_add(req, HR_STR("ETag"), hr_str_make(etag, strlen(etag)));
	hr_http_resp_add(req, HR_STR("Last-Modified"), hr_str_make(lastmod, strlen(lastmod)));
	hr_http_resp_add(req, HR_STR("Cache-Control"),
			 hr_str_make(c->root->cache_control, strlen(c->root->cache_control)));
	if (vary)
		hr_http_resp_add(req, HR_STR("Vary"), HR_STR("Accept-Encoding"));
}

static void fail(hearth_req *req, int status)
{
	hearth_resp_error(req, status, NULL);
}

/* RFC 9110 §8.8.3.2: weak comparison for If-None-Match. */
static bool etag_list_matches(hr_str list, const char *etag, const char *etag2)
{
	size_t pos = 0;
	hr_str e;
	while (hr_str_list_next(list, &pos, &e)) {
		if (hr_str_eq_lit(e, "*"))
			return true;
		if (e.len > 2 && e.ptr[0] == 'W' && e.ptr[1] == '/') {
			e.ptr += 2;
			e.len -= 2;
		}
		if (hr_str_eq(e, hr_str_make(etag, strlen(etag))) ||
		    (etag2 && hr_str_eq(e, hr_str_make(etag2, strlen(etag2)))))
			return true;
	}
	return false;
}

typedef struct meta {
	off_t size;
	int64_t mtime_ns;
	const char *etag;    /* of the representation being sent */
	const char *etag_other; /* the other representation's (also matches INM) */
	const char *lastmod;
	const char *mime;
	bool gzip;	     /* sending the gzip representation */
	bool vary;
} meta;

/*
 * Evaluates conditionals and Range. Returns 304, 416, 206 (with *from,
 * *len set) or 200.
 */
static int preconditions(hearth_req *req, const meta *m, off_t *from, off_t *len)
{
	const hr_http_head *h = hr_http_req_head(req);
	*from = 0;
	*len = m->size;
	const hr_http_header *inm = hr_http_head_find(h, HR_HDR_IF_NONE_MATCH);
	if (inm) {
		if (etag_list_matches(inm->value, m->etag, m->etag_other))
			return 304;
	} else {
		const hr_http_header *ims = hr_http_head_find(h, HR_HDR_IF_MODIFIED_SINCE);
		if (ims) {
			int64_t t = hr_http_parse_date(ims->value);
			if (t >= 0 && m->mtime_ns / 1000000000 <= t)
				return 304;
		}
	}
	const hr_http_header *range = hr_http_head_find(h, HR_HDR_RANGE);
	if (!range || m->gzip || h->method_id != HR_METHOD_GET)
		return 200;
	const hr_http_header *ifr = hr_http_head_find(h, HR_HDR_IF_RANGE);
	if (ifr) {
		hr_str v = ifr->value;
		bool is_etag = (v.len && v.ptr[0] == '"') ||
			       (v.len >= 2 && v.ptr[0] == 'W' && v.ptr[1] == '/');
		if (is_etag) {
			if (!hr_str_eq(v, hr_str_make(m->etag, strlen(m->etag))))
				return 200; /* strong comparison; weak never matches */
		} else if (!hr_str_eq(v, hr_str_make(m->lastmod, strlen(m->lastmod)))) {
			return 200;
		}
	}
	hr_str v = range->value;
	if (!hr_str_istarts(v, HR_STR("bytes=")))
		return 200;
	v.ptr += 6;
	v.len -= 6;
	v = hr_str_trim_ows(v);
	if (memchr(v.ptr, ',', v.len))
		return 200;
	const char *dash = memchr(v.ptr, '-', v.len);
	if (!dash)
		return 200;
	hr_str a = hr_str_make(v.ptr, (size_t)(dash - v.ptr));
	hr_str b = hr_str_make(dash + 1, v.len - a.len - 1);
	uint64_t x, y;
	uint64_t size = (uint64_t)m->size;
	if (a.len == 0) {
		/* suffix: last y bytes */
		if (hr_str_to_u64(b, UINT64_MAX, &y) != 0)
			return 200;
		if (y == 0 || size == 0)
			return 416;
		if (y > size)
			y = size;
		*from = (off_t)(size - y);
		*len = (off_t)y;
		return 206;
	}
	if (hr_str_to_u64(a, UINT64_MAX, &x) != 0)
		return 200;
	if (b.len == 0) {
		y = size ? size - 1 : 0;
	} else if (hr_str_to_u64(b, UINT64_MAX, &y) != 0 || y < x) {
		return 200;
	}
	if (x >= size)
		return 416;
	if (y >= size)
		y = size - 1;
	*from = (off_t)x;
	*len = (off_t)(y - x + 1);
	return 206;
}

/* Answers per the preconditions; body from mem (when non-NULL) or fd. */
static void respond(hr_static_cache *c, hearth_req *req, const meta *m, const char *mem, int fd)
{
	off_t from, len;
	int st = preconditions(req, m, &from, &len);
	if (st == 304) {
		if (fd >= 0)
			close(fd);
		hr_http_resp_begin(req, 304);
		common_headers(req, c, m->etag, m->lastmod, m->vary);
		hr_http_resp_finish_empty(req, -1);
		return;
	}
	if (st == 416) {
		if (fd >= 0)
			close(fd);
		char cr[48];
		int n = snprintf(cr, sizeof cr, "bytes */%lld", (long long)m->size);
		hearth_resp_header(req, "Content-Range", cr, (size_t)n);
		hearth_resp_error(req, 416, "Range not satisfiable.");
		return;
	}
	hr_http_resp_begin(req, st);
	hr_http_resp_add(req, HR_STR("Content-Type"), hr_str_make(m->mime, strlen(m->mime)));
	hr_http_resp_add(req, HR_STR("Accept-Ranges"), HR_STR("bytes"));
	common_headers(req, c, m->etag, m->lastmod, m->vary);
	if (m->gzip)
		hr_http_resp_add(req, HR_STR("Content-Encoding"), HR_STR("gzip"));
	if (st == 206) {
		char cr[80];
		int n = snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)from,
				 (long long)(from + len - 1), (long long)m->size);
		hr_http_resp_add(req, HR_STR("Content-Range"), hr_str_make(cr, (size_t)n));
	}
	if (mem) {
		hr_http_resp_finish_mem(req, mem + from, (size_t)len);
		if (fd >= 0)
			close(fd);
	} else {
		hr_http_resp_finish_file(req, fd, (uint64_t)from, (uint64_t)len, true);
	}
}

static void redirect_slash(hearth_req *req)
{
	const hr_http_head *h = hr_http_req_head(req);
	size_t n = h->path.len + 2 + h->query.len;
	char *loc = hearth_req_alloc(req, n + 1);
	if (!loc) {
		fail(req, 503);
		return;
	}
	memcpy(loc, h->path.ptr, h->path.len);
	size_t o = h->path.len;
	loc[o++] = '/';
	if (h->query.len) {
		loc[o++] = '?';
		memcpy(loc + o, h->query.ptr, h->query.len);
		o += h->query.len;
	}
	hr_http_resp_begin(req, 301);
	hr_http_resp_add(req, HR_STR("Location"), hr_str_make(loc, o));
	hr_http_resp_finish_mem(req, NULL, 0);
}

static void fill_validators(const struct stat *st, char *etag, size_t etag_cap, char *etag_gz,
			    size_t gz_cap, char lastmod[30])
{
	int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	snprintf(etag, etag_cap, "\"%llx-%llx\"", (unsigned long long)ns,
		 (unsigned long long)st->st_size);
	if (etag_gz)
		snprintf(etag_gz, gz_cap, "\"%llx-%llx-gz\"", (unsigned long long)ns,
			 (unsigned long long)st->st_size);
	hr_http_date(st->st_mtim.tv_sec, lastmod);
}

/* ---- large files: never wait for the disk on the loop ------------------ */

#define WARM_CHUNK (256u << 10)
#define WARM_PROBES 8

/*
 * Is [off, off+len) of fd in the page cache? Reads one byte at a few
 * offsets with RWF_NOWAIT, which fails with EAGAIN instead of waiting for
 * the disk. A kernel or file system without RWF_NOWAIT answers EOPNOTSUPP
 * and we treat the range as cached (sendfile then behaves as before).
 */
static bool range_cached(int fd, off_t off, off_t len)
{
	if (len <= 0)
		return true;
	for (int i = 0; i < WARM_PROBES; i++) {
		off_t at = off + (off_t)((long double)len * i / WARM_PROBES);
		char byte;
		struct iovec iov = {&byte, 1};
		ssize_t n = preadv2(fd, &iov, 1, at, RWF_NOWAIT);
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n < 0)
			return true;
	}
	return true;
}

typedef struct warm_job {
	hr_static_cache *c;
	int fd;
	off_t off, len;
	meta m;
	char etag[64], etag_other[64], lastmod[30], mime[64];
} warm_job;

/* Thread pool: read the range once so that sendfile finds it in memory. */
static void warm_work(void *ud)
{
	warm_job *w = ud;
	posix_fadvise(w->fd, w->off, w->len, POSIX_FADV_WILLNEED);
	char *buf = malloc(WARM_CHUNK);
	if (!buf)
		return;
	for (off_t at = w->off; at < w->off + w->len;) {
		size_t want = (size_t)HR_MIN((off_t)WARM_CHUNK, w->off + w->len - at);
		ssize_t n = pread(w->fd, buf, want, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		at += n;
	}
	free(buf);
}

static void warm_done(hearth_req *req, void *ud)
{
	warm_job *w = ud;
	respond(w->c, req, &w->m, NULL, w->fd);
}

static void copy_cstr(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/*
 * Sends a file too large for the memory cache. When the part to be sent is
 * not in the page cache, it is first read on the thread pool (sendfile
 * from a cold file would block the event loop on the disk); when it is,
 * sendfile runs at once.
 */
static void serve_large(hr_static_cache *c, hearth_req *req, const meta *m, int fd)
{
	const hr_http_head *h = hr_http_req_head(req);
	off_t from = 0, len = 0;
	bool no_body = h->method_id == HR_METHOD_HEAD;
	int st = no_body ? 0 : preconditions(req, m, &from, &len);
	if (no_body || st == 304 || st == 416 || range_cached(fd, from, len)) {
		respond(c, req, m, NULL, fd);
		return;
	}
	warm_job *w = hearth_req_alloc(req, sizeof *w);
	if (!w) {
		respond(c, req, m, NULL, fd);
		return;
	}
	w->c = c;
	w->fd = fd;
	w->off = from;
	w->len = len;
	w->m = *m;
	copy_cstr(w->etag, sizeof w->etag, m->etag);
	copy_cstr(w->etag_other, sizeof w->etag_other, m->etag_other);
	copy_cstr(w->lastmod, sizeof w->lastmod, m->lastmod);
	copy_cstr(w->mime, sizeof w->mime, m->mime);
	w->m.etag = w->etag;
	w->m.etag_other = m->etag_other ? w->etag_other : NULL;
	w->m.lastmod = w->lastmod;
	w->m.mime = w->mime;
	if (hearth_req_offload(req, warm_work, warm_done, w) != 0)
		respond(c, req, m, NULL, fd);
}

/* ---- the cache -------------------------------------------------------- */

static uint32_t hash_key(const char *k, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

static entry *cache_find(hr_static_cache *c, const char *k, size_t n, uint32_t h)
{
	for (entry *e = c->buckets[h % NBUCKETS]; e; e = e->hnext)
		if (e->hash == h && e->key_len == n && memcmp(e->key, k, n) == 0)
			return e;
	return NULL;
}

static void cache_evict_for(hr_static_cache *c, size_t need)
{
	while ((c->bytes + need > c->max_bytes || c->n >= MAX_ENTRIES) && !hr_list_empty(&c->lru)) {
		entry *e = HR_CONTAINER_OF(c->lru.next, entry, lru);
		entry_unlink(c, e);
		entry_free(e);
	}
}

static bool read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static bool same_file(const entry *e, const struct stat *st)
{
	int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime_ns == ns;
}

/* Caches a small regular file already open as fd (borrowed). NULL if it cannot. */
static entry *cache_insert(hr_static_cache *c, const char *k, size_t n, uint32_t h, int fd,
			   const struct stat *st, uint64_t now)
{
	if ((size_t)st->st_size > c->max_bytes / 4)
		return NULL;
	cache_evict_for(c, (size_t)st->st_size);
	entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->key = malloc(n + 1);
	e->data = malloc(st->st_size ? (size_t)st->st_size : 1);
	if (!e->key || !e->data || !read_all(fd, e->data, (size_t)st->st_size)) {
		entry_free(e);
		return NULL;
	}
	memcpy(e->key, k, n);
	e->key[n] = '\0';
	e->key_len = n;
	e->hash = h;
	e->validated_ms = now;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->mime = mime_for(k, n);
	fill_validators(st, e->etag, sizeof e->etag, e->etag_gz, sizeof e->etag_gz, e->lastmod);
	e->hnext = c->buckets[h % NBUCKETS];
	c->buckets[h % NBUCKETS] = e;
	hr_list_push_back(&c->lru, &e->lru);
	c->bytes += (size_t)e->size;
	c->n++;
	return e;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * Opens key + ".gz" beneath the root. Returns the descriptor (and *st) of a
 * regular file, or -1. A sibling older than the file it compresses is
 * stale (the file was edited, the .gz not rebuilt) and is never served.
 */
static int open_sibling(const hr_static_cache *c, const char *key, size_t n, struct stat *st)
{
	char *sib = malloc(n + 4);
	if (!sib)
		return -1;
	memcpy(sib, key, n);
	memcpy(sib + n, ".gz", 4);
	int fd = open_beneath(c->root->dirfd, sib, O_RDONLY);
	free(sib);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Records what the sibling looks like now, so revalidation can see changes. */
static void note_sibling(entry *e, int fd, const struct stat *st)
{
	e->sib_present = fd >= 0;
	if (fd >= 0) {
		e->sib_dev = st->st_dev;
		e->sib_ino = st->st_ino;
		e->sib_size = st->st_size;
		e->sib_mtime_ns = mtime_ns(st);
	}
}

static void drop_gzip(hr_static_cache *c, entry *e)
{
	c->bytes -= e->gz_len;
	free(e->gz);
	e->gz = NULL;
	e->gz_len = 0;
	e->gz_tried = false;
	e->gz_sibling = false;
}

/* Has name.gz appeared, gone or changed since e->gz was decided? */
static bool sibling_changed(const hr_static_cache *c, const entry *e)
{
	struct stat st;
	int fd = open_sibling(c, e->key, e->key_len, &st);
	bool present = fd >= 0;
	if (fd >= 0)
		close(fd);
	if (present != e->sib_present)
		return true;
	return present && (st.st_dev != e->sib_dev || st.st_ino != e->sib_ino ||
			   st.st_size != e->sib_size || mtime_ns(&st) != e->sib_mtime_ns);
}

/* Fills e->gz once: from a current .gz sibling, else by compressing. */
static void entry_gzip(hr_static_cache *c, entry *e)
{
	e->gz_tried = true;
	struct stat st;
	int fd = open_sibling(c, e->key, e->key_len, &st);
	note_sibling(e, fd, &st);
	if (fd >= 0) {
		if (mtime_ns(&st) >= e->mtime_ns && st.st_size > 0 &&
		    (size_t)st.st_size <= CACHE_FILE_MAX) {
			char *buf = malloc((size_t)st.st_size);
			if (buf && read_all(fd, buf, (size_t)st.st_size)) {
				e->gz = buf;
				e->gz_len = (size_t)st.st_size;
				e->gz_sibling = true;
				c->bytes += e->gz_len;
				snprintf(e->etag_gz, sizeof e->etag_gz, "\"%llx-%llx-gz%llx\"",
					 (unsigned long long)e->mtime_ns, (unsigned long long)e->size,
					 (unsigned long long)e->sib_mtime_ns);
			} else {
				free(buf);
			}
		}
		close(fd);
		if (e->gz)
			return;
	}
	snprintf(e->etag_gz, sizeof e->etag_gz, "\"%llx-%llx-gz\"",
		 (unsigned long long)e->mtime_ns, (unsigned long long)e->size);
	if (e->size < 256)
		return;
	if (!c->z) {
		c->z = calloc(1, sizeof *c->z);
		if (!c->z || deflateInit2(c->z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(c->z);
			c->z = NULL;
			return;
		}
	} else {
		deflateReset(c->z);
	}
	uLong bound = deflateBound(c->z, (uLong)e->size);
	char *out = malloc(bound);
	if (!out)
		return;
	c->z->next_in = (Bytef *)e->data;
	c->z->avail_in = (uInt)e->size;
	c->z->next_out = (Bytef *)out;
	c->z->avail_out = (uInt)bound;
	if (deflate(c->z, Z_FINISH) != Z_STREAM_END || bound - c->z->avail_out >= (uLong)e->size) {
		free(out);
		return;
	}
	e->gz = out;
	e->gz_len = bound - c->z->avail_out;
	c->bytes += e->gz_len;
}

static void serve_entry(hr_static_cache *c, hearth_req *req, entry *e)
{
	meta m = {.size = e->size,
		  .mtime_ns = e->mtime_ns,
		  .etag = e->etag,
		  .etag_other = NULL,
		  .lastmod = e->lastmod,
		  .mime = e->mime};
	bool compressible = hr_http_mime_compressible(hr_str_make(e->mime, strlen(e->mime)));
	const hr_http_head *h = hr_http_req_head(req);
	if (compressible && e->size >= 256) {
		m.vary = true;
		if (!hr_http_head_find(h, HR_HDR_RANGE) && hr_http_req_accepts_gzip(req)) {
			if (!e->gz_tried)
				entry_gzip(c, e);
			if (e->gz) {
				m.gzip = true;
				m.size = (off_t)e->gz_len;
				m.etag = e->etag_gz;
				m.etag_other = e->etag;
				respond(c, req, &m, e->gz, -1);
				return;
			}
		}
		m.etag_other = e->etag_gz;
	}
	respond(c, req, &m, e->data, -1);
}

void hr_static_serve(hr_static_cache *c, hearth_req *req)
{
	const hr_http_head *h = hr_http_req_head(req);
	if (h->method_id != HR_METHOD_GET && h->method_id != HR_METHOD_HEAD) {
		hearth_resp_header(req, "Allow", "GET, HEAD", 9);
		fail(req, 405);
		return;
	}
	char *rel = hearth_req_alloc(req, h->path.len + 12);
	if (!rel) {
		fail(req, 503);
		return;
	}
	long rl = safe_relpath(h->path, rel);
	if (rl < 0) {
		fail(req, (int)-rl);
		return;
	}
	size_t n = (size_t)rl;
	bool dir_index = n == 0 || rel[n - 1] == '/';
	if (dir_index) {
		memcpy(rel + n, "index.html", 10);
		n += 10;
	}
	rel[n] = '\0';
	uint64_t now = hr_http_req_loop(req)->now_ms;
	uint32_t hash = hash_key(rel, n);
	entry *e = cache_find(c, rel, n, hash);
	if (e && now - e->validated_ms < REVALIDATE_MS) {
		hr_list_remove(&e->lru);
		hr_list_push_back(&c->lru, &e->lru);
		serve_entry(c, req, e);
		return;
	}
	int fd = open_beneath(c->root->dirfd, rel, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		if (e) {
			entry_unlink(c, e);
			entry_free(e);
		}
		fail(req, 404);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (dir_index)
			fail(req, 404); /* "x/index.html" is a directory */
		else
			redirect_slash(req);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		fail(req, 404);
		return;
	}
	if (e) {
		if (same_file(e, &st)) {
			close(fd);
			e->validated_ms = now;
			if (e->gz_tried && sibling_changed(c, e))
				drop_gzip(c, e);
			hr_list_remove(&e->lru);
			hr_list_push_back(&c->lru, &e->lru);
			serve_entry(c, req, e);
			return;
		}
		entry_unlink(c, e);
		entry_free(e);
	}
	if ((size_t)st.st_size <= CACHE_FILE_MAX &&
	    (e = cache_insert(c, rel, n, hash, fd, &st, now)) != NULL) {
		close(fd);
		serve_entry(c, req, e);
		return;
	}
	/* A large file: sendfile from this descriptor, or from a .gz sibling. */
	char etag[48], etag_gz[64], lastmod[30];
	fill_validators(&st, etag, sizeof etag, etag_gz, sizeof etag_gz, lastmod);
	meta m = {.size = st.st_size,
		  .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		  .etag = etag,
		  .lastmod = lastmod,
		  .mime = mime_for(rel, n)};
	if (hr_http_mime_compressible(hr_str_make(m.mime, strlen(m.mime)))) {
		m.vary = true;
		m.etag_other = etag_gz;
		if (!hr_http_head_find(h, HR_HDR_RANGE) && hr_http_req_accepts_gzip(req)) {
			struct stat gst;
			int gfd = open_sibling(c, rel, n, &gst);
			if (gfd >= 0 && mtime_ns(&gst) >= m.mtime_ns) {
				close(fd);
				fd = gfd;
				snprintf(etag_gz, sizeof etag_gz, "\"%llx-%llx-gz%llx\"",
					 (unsigned long long)m.mtime_ns, (unsigned long long)st.st_size,
					 (unsigned long long)mtime_ns(&gst));
				m.gzip = true;
				m.size = gst.st_size;
				m.etag = etag_gz;
				m.etag_other = etag;
			} else if (gfd >= 0) {
				close(gfd);
			}
		}
	}
	serve_large(c, req, &m, fd);
}

/*
 * core/log.c - see log.h.
 *
 * Time stamps use CLOCK_REALTIME_COARSE (no syscall through the vDSO, a few
 * milliseconds of resolution) and cache the formatted second, so an access
 * line costs a clock read, a few memcpy and some digit formatting.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/common.h"

#define LOG_BUF 65536

void hr_log_init(hr_log *l, int access_fd, int error_fd, int format, bool access_on, int min_level)
{
	l->access_fd = access_fd;
	l->error_fd = error_fd;
	l->format = format;
	l->access_on = access_on;
	l->min_level = min_level;
	l->cap = LOG_BUF;
	l->abuf = hr_xmalloc(LOG_BUF);
	l->ebuf = hr_xmalloc(LOG_BUF);
	l->alen = l->elen = 0;
	l->cached_sec = -1;
}

void hr_log_dispose(hr_log *l)
{
	hr_log_flush(l);
	free(l->abuf);
	free(l->ebuf);
	l->abuf = l->ebuf = NULL;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* a log we cannot write must not stop serving */
		}
		p += w;
		n -= (size_t)w;
	}
}

void hr_log_flush(hr_log *l)
{
	if (l->alen) {
		write_all(l->access_fd, l->abuf, l->alen);
		l->alen = 0;
	}
	if (l->elen) {
		write_all(l->error_fd, l->ebuf, l->elen);
		l->elen = 0;
	}
}

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) to out. */
static void stamp(hr_log *l, char *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != l->cached_sec) {
		struct tm tm;
		time_t t = ts.tv_sec;
		gmtime_r(&t, &tm);
		char tmp[96];
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		memcpy(l->cached_time, tmp, 20);
		l->cached_sec = ts.tv_sec;
	}
	memcpy(out, l->cached_time, 20);
	unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
}

static size_t put_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Escapes at most HR_LOG_FIELD_MAX input bytes; out needs 6x room. */
static size_t put_escaped(char *out, hr_str s, bool json)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = HR_MIN(s.len, (size_t)HR_LOG_FIELD_MAX), o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || (!json && c == ' ')) {
			if (json && (c == '"' || c == '\\')) {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (json) {
				memcpy(out + o, "\\u00", 4);
				o += 4;
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			} else {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		} else {
			out[o++] = (char)c;
		}
	}
	if (s.len > n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	return o;
}

void hr_log_access(hr_log *l, hr_str addr, hr_str method, hr_str path, int status,
		   uint64_t bytes, uint64_t usec)
{
	if (!l->access_on)
		return;
	if (addr.len == 0)
		addr = HR_STR("-");
	/* A refused request may have no method or target yet: "-" keeps the
	 * text format's fields separable. */
	if (method.len == 0)
		method = HR_STR("-");
	if (path.len == 0)
		path = HR_STR("-");
	/* Worst case: three escaped fields at 6 bytes per input byte plus fixed text. */
	size_t need = 3 * (6 * HR_LOG_FIELD_MAX + 3) + 170;
	if (l->cap - l->alen < need)
		hr_log_flush(l);
	char *p = l->abuf + l->alen;
	bool json = l->format == HR_LOG_JSON;
	if (json) {
		memcpy(p, "{\"time\":\"", 9);
		p += 9;
		stamp(l, p);
		p += 24;
		memcpy(p, "\",\"addr\":\"", 10);
		p += 10;
		p += put_escaped(p, addr, true);
		memcpy(p, "\",\"method\":\"", 12);
		p += 12;
		p += put_escaped(p, method, true);
		memcpy(p, "\",\"path\":\"", 10);
		p += 10;
		p += put_escaped(p, path, true);
		memcpy(p, "\",\"status\":", 11);
		p += 11;
		p += put_u64(p, (uint64_t)status);
		memcpy(p, ",\"bytes\":", 9);
		p += 9;
		p += put_u64(p, bytes);
		memcpy(p, ",\"us\":", 6);
		p += 6;
		p += put_u64(p, usec);
		*p++ = '}';
	} else {
		stamp(l, p);
		p += 24;
		*p++ = ' ';
		p += put_escaped(p, addr, false);
		*p++ = ' ';
		p += put_escaped(p, method, false);
		*p++ = ' ';
		p += put_escaped(p, path, false);
		*p++ = ' ';
		p += put_u64(p, (uint64_t)status);
		*p++ = ' ';
		p += put_u64(p, bytes);
		*p++ = ' ';
		p += put_u64(p, usec);
		*p++ = 'u';
		*p++ = 's';
	}
	*p++ = '\n';
	l->alen = (size_t)(p - l->abuf);
}

void hr_log_error(hr_log *l, int level, const char *module, const char *fmt, ...)
{
	if (level < l->min_level)
		return;
	static const char *const names[] = {"debug", "info", "warn", "error"};
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t mlen = HR_MIN((size_t)n, sizeof msg - 1);
	size_t need = 6 * mlen + 128;
	if (l->cap - l->elen < need)
		hr_log_flush(l);
	char *p = l->ebuf + l->elen;
	bool json = l->format == HR_LOG_JSON;
	const char *lv = names[level < 0 ? 0 : level > 3 ? 3 : level];
	if (json) {
		memcpy(p, "{\"time\":\"", 9);
		p += 9;
		stamp(l, p);
		p += 24;
		p += sprintf(p, "\",\"level\":\"%s\",\"module\":\"%s\",\"message\":\"", lv, module);
		p += put_escaped(p, hr_str_make(msg, mlen), true);
		*p++ = '"';
		*p++ = '}';
	} else {
		stamp(l, p);
		p += 24;
		p += sprintf(p, " %s [%s] ", lv, module);
		for (size_t i = 0; i < mlen; i++) {
			unsigned char c = (unsigned char)msg[i];
			*p++ = (char)(c < 0x20 || c == 0x7f ? '?' : c);
		}
	}
	*p++ = '\n';
	l->elen = (size_t)(p - l->ebuf);
}

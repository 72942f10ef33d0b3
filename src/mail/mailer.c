/*
 * mail/mailer.c - the mail thread (see mail.h): a bounded FIFO of tasks,
 * SMTP delivery through libcurl, and the outbox folder.
 *
 * DESIGN. One thread, one mutex, one condition variable (redis bio.c's
 * shape). Event loops only append to the list under the mutex and signal;
 * the thread pops one task at a time and runs it without the lock, so a
 * slow mail server delays other mail but never a request. The list is
 * bounded (HR_MAIL_QUEUE_MAX): a flood of requests cannot grow memory
 * without limit; posting above the bound fails and the caller decides.
 *
 * SMTP. libcurl's smtp:// and smtps:// with CURLOPT_USE_SSL for STARTTLS,
 * short timeouts (10 s to connect, 30 s in all) and CURLOPT_NOSIGNAL, as
 * required for libcurl in a thread. libcurl does the SMTP dot-stuffing;
 * the message text (mail.c) never has a line starting with '.' anyway.
 *
 * OUTBOX. <outbox>/<ms>-<16 hex>.eml, written as .<name>.tmp, fsync'd,
 * renamed, and the folder fsync'd, so a file either is complete or does
 * not exist. Readable by the owner only (it holds live tokens).
 */
#include "mail/mail.h"

#include <curl/curl.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/common.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/time.h"

typedef struct task {
	struct task *next;
	hr_mail_task_fn fn;
	void *ud;
} task;

struct hr_mailer {
	char *outbox;
	hr_smtp smtp; /* default (the --smtp flag); enabled false: none */
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	task *head, *tail; /* under mu */
	size_t queued;	   /* under mu */
	bool stopping;	   /* under mu; also read by the thread after the pop */
	hr_log log;	   /* mail thread only */
};

/* ---- SMTP configuration ----------------------------------------------- */

static int pct_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	long l = hr_str_pct_decode(hr_str_make(s, n), dst, false);
	if (l < 0)
		return -1;
	for (long i = 0; i < l; i++)
		if (dst[i] == '\0' || dst[i] == '\r' || dst[i] == '\n')
			return -1;
	dst[l] = '\0';
	return 0;
}

int hr_smtp_parse_url(const char *url, hr_smtp *out, char *err, size_t n)
{
	hr_smtp c;
	memset(&c, 0, sizeof c);
	const char *p;
	if (strncmp(url, "smtp://", 7) == 0) {
		p = url + 7;
		c.tls = HR_SMTP_TLS_NONE;
		c.port = 25;
	} else if (strncmp(url, "smtps://", 8) == 0) {
		p = url + 8;
		c.tls = HR_SMTP_TLS_IMPLICIT;
		c.port = 465;
	} else {
		snprintf(err, n, "the SMTP URL must start with smtp:// or smtps://");
		return HR_EINVAL;
	}
	const char *end = p + strcspn(p, "/?");
	const char *at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ul = colon ? (size_t)(colon - p) : (size_t)(at - p);
		if (pct_copy(c.username, sizeof c.username, p, ul) ||
		    (colon && pct_copy(c.password, sizeof c.password, colon + 1,
				       (size_t)(at - colon - 1)))) {
			snprintf(err, n, "bad user name or password in the SMTP URL");
			return HR_EINVAL;
		}
		p = at + 1;
	}
	const char *colon = memchr(p, ':', (size_t)(end - p));
	size_t hl = colon ? (size_t)(colon - p) : (size_t)(end - p);
	if (hl == 0 || hl >= sizeof c.host) {
		snprintf(err, n, "the SMTP URL has no host");
		return HR_EINVAL;
	}
	for (size_t i = 0; i < hl; i++) {
		char ch = p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '-')) {
			snprintf(err, n, "bad host in the SMTP URL");
			return HR_EINVAL;
		}
	}
	memcpy(c.host, p, hl);
	if (colon) {
		uint64_t port;
		if (hr_str_to_u64(hr_str_make(colon + 1, (size_t)(end - colon - 1)), 65535, &port) ||
		    port == 0) {
			snprintf(err, n, "bad port in the SMTP URL");
			return HR_EINVAL;
		}
		c.port = (unsigned)port;
	}
	if (*end == '/' && end[1] && end[1] != '?') {
		snprintf(err, n, "the SMTP URL takes no path");
		return HR_EINVAL;
	}
	const char *query = strchr(end, '?');
	if (query) {
		if (strcmp(query, "?starttls") != 0 || c.tls == HR_SMTP_TLS_IMPLICIT) {
			snprintf(err, n, "the only SMTP URL option is ?starttls (with smtp://)");
			return HR_EINVAL;
		}
		c.tls = HR_SMTP_TLS_STARTTLS;
	}
	c.enabled = true;
	*out = c;
	return 0;
}

/* ---- SMTP ------------------------------------------------------------- */

typedef struct reader {
	const char *p;
	size_t left;
} reader;

static size_t read_cb(char *dst, size_t size, size_t nitems, void *ud)
{
	reader *r = ud;
	size_t n = HR_MIN(size * nitems, r->left);
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

static int smtp_send(hr_mailer *m, const hr_smtp *s, const hr_mail_msg *msg, hr_str text)
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return HR_ENOMEM;
	char url[600], from[300], to[300];
	snprintf(url, sizeof url, "%s://%s:%u/%s", s->tls == HR_SMTP_TLS_IMPLICIT ? "smtps" : "smtp",
		 s->host, s->port, s->local_name);
	snprintf(from, sizeof from, "<%.*s>", (int)msg->from_addr.len, msg->from_addr.ptr);
	snprintf(to, sizeof to, "<%.*s>", (int)msg->to.len, msg->to.ptr);
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	reader rd = {text.ptr, text.len};
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &rd);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)text.len);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	switch (s->tls) {
	case HR_SMTP_TLS_TRY:
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		break;
	case HR_SMTP_TLS_STARTTLS:
	case HR_SMTP_TLS_IMPLICIT:
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		break;
	default:
		break;
	}
	if (s->username[0]) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, s->password);
	}
	CURLcode cc = rcpt ? curl_easy_perform(curl) : CURLE_OUT_OF_MEMORY;
	int rc = 0;
	if (cc != CURLE_OK) {
		hr_mailer_log(m, "SMTP delivery to %s:%u failed: %s", s->host, s->port,
			      curl_easy_strerror(cc));
		rc = HR_EAGAIN;
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	return rc;
}

/* ---- outbox ----------------------------------------------------------- */

static int outbox_write(hr_mailer *m, hr_str text, char *name, size_t namecap)
{
	if (mkdir(m->outbox, 0700) != 0 && errno != EEXIST)
		return -errno;
	char rnd[17], tmp[4096], fin[4096];
	hr_rand_string(rnd, 16, "0123456789abcdef", 16);
	rnd[16] = '\0';
	snprintf(name, namecap, "%lld-%s.eml", (long long)hr_time_now_ms(), rnd);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", m->outbox, name);
	snprintf(fin, sizeof fin, "%s/%s", m->outbox, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	size_t off = 0;
	while (off < text.len) {
		ssize_t w = write(fd, text.ptr + off, text.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : HR_EAGAIN;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, fin) != 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	int dfd = open(m->outbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int hr_mailer_deliver(hr_mailer *m, const hr_mail_msg *msg, const hr_smtp *override)
{
	char id[33];
	hr_rand_string(id, 32, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	id[32] = '\0';
	hr_buf text;
	hr_buf_init(&text, 16u << 20);
	int rc = hr_mail_format(&text, msg, hr_time_now_ms(), hr_str_make(id, 32));
	if (rc) {
		hr_mailer_log(m, "message refused (bad header value or address)");
		hr_buf_dispose(&text);
		return rc;
	}
	hr_str t = hr_str_make(text.ptr, text.len);
	const hr_smtp *s = override && override->enabled ? override : m->smtp.enabled ? &m->smtp : NULL;
	uv_mutex_lock(&m->mu);
	bool stopping = m->stopping;
	uv_mutex_unlock(&m->mu);
	if (s && !stopping && smtp_send(m, s, msg, t) == 0) {
		hr_buf_dispose(&text);
		return 0;
	}
	char name[64];
	rc = outbox_write(m, t, name, sizeof name);
	if (rc)
		hr_mailer_log(m, "cannot write to the outbox %s: %s; message lost", m->outbox,
			      strerror(-rc));
	else if (s)
		hr_mailer_log(m, "message kept in the outbox as %s", name);
	hr_buf_dispose(&text);
	return rc;
}

void hr_mailer_log(hr_mailer *m, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	hr_log_error(&m->log, HR_LOG_WARN, "mail", "%s", line);
	hr_log_flush(&m->log);
}

/* ---- the thread ------------------------------------------------------- */

static void thread_main(void *ud)
{
	hr_mailer *m = ud;
	hr_thread_name("hearth-mail");
	for (;;) {
		uv_mutex_lock(&m->mu);
		while (!m->head && !m->stopping)
			uv_cond_wait(&m->cv, &m->mu);
		task *t = m->head;
		if (!t) {
			uv_mutex_unlock(&m->mu);
			break; /* stopping and drained */
		}
		m->head = t->next;
		if (!m->head)
			m->tail = NULL;
		m->queued--;
		uv_mutex_unlock(&m->mu);
		t->fn(m, t->ud);
		free(t);
	}
}

int hr_mailer_new(const char *outbox, const hr_smtp *smtp, hr_mailer **out)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return HR_ENOMEM;
	hr_mailer *m = calloc(1, sizeof *m);
	if (!m || !(m->outbox = strdup(outbox))) {
		free(m);
		curl_global_cleanup();
		return HR_ENOMEM;
	}
	if (smtp)
		m->smtp = *smtp;
	hr_log_init(&m->log, 1, 2, HR_LOG_TEXT, false, HR_LOG_INFO);
	int rc = uv_mutex_init(&m->mu);
	if (rc == 0 && (rc = uv_cond_init(&m->cv)) != 0)
		uv_mutex_destroy(&m->mu);
	if (rc == 0 && (rc = uv_thread_create(&m->thread, thread_main, m)) != 0) {
		uv_cond_destroy(&m->cv);
		uv_mutex_destroy(&m->mu);
	}
	if (rc) {
		hr_log_dispose(&m->log);
		free(m->outbox);
		free(m);
		curl_global_cleanup();
		return rc;
	}
	*out = m;
	return 0;
}

void hr_mailer_free(hr_mailer *m)
{
	if (!m)
		return;
	uv_mutex_lock(&m->mu);
	m->stopping = true;
	uv_cond_signal(&m->cv);
	uv_mutex_unlock(&m->mu);
	uv_thread_join(&m->thread);
	uv_cond_destroy(&m->cv);
	uv_mutex_destroy(&m->mu);
	hr_log_dispose(&m->log);
	sodium_memzero(m->smtp.password, sizeof m->smtp.password);
	free(m->outbox);
	free(m);
	curl_global_cleanup();
}

int hr_mailer_post(hr_mailer *m, hr_mail_task_fn fn, void *ud)
{
	task *t = malloc(sizeof *t);
	if (!t)
		return HR_ENOMEM;
	t->next = NULL;
	t->fn = fn;
	t->ud = ud;
	uv_mutex_lock(&m->mu);
	int rc = m->stopping ? HR_ESTATE : m->queued >= HR_MAIL_QUEUE_MAX ? HR_ELIMIT : 0;
	if (rc == 0) {
		if (m->tail)
			m->tail->next = t;
		else
			m->head = t;
		m->tail = t;
		m->queued++;
		uv_cond_signal(&m->cv);
	}
	uv_mutex_unlock(&m->mu);
	if (rc)
		free(t);
	return rc;
}

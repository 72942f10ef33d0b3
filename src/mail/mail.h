/*
 * mail/mail.h - outgoing e-mail: templates, RFC 5322 messages, and a
 * mailer thread that sends them over SMTP (libcurl) or keeps them in an
 * outbox folder.
 *
 * PIECES.
 *   hr_mail_render()   fills {NAME} placeholders of a template; values
 *                      are HTML-escaped for bodies.
 *   hr_mail_format()   a whole message (headers, multipart/alternative
 *                      plain text + HTML, quoted-printable). Header values
 *                      with CR, LF or NUL are refused (no header
 *                      injection); non-ASCII ones are RFC 2047 encoded.
 *   hr_mailer          one thread with a bounded task queue. Event loops
 *                      post tasks (hr_mailer_post) and never wait; a task
 *                      runs on the mail thread, where it may block (a
 *                      database lookup, an SMTP exchange) and hands
 *                      messages to hr_mailer_deliver().
 *
 * DELIVERY. With an SMTP configuration (the --smtp flag, or one passed per
 * message from the settings) a message goes through libcurl; when SMTP is
 * not configured, or the exchange fails, the message is written to
 * <outbox>/<time>-<random>.eml (temporary name, fsync, rename, fsync of
 * the folder), so no message is ever dropped silently. Failures are logged
 * on stderr, one line each, without the password.
 *
 * SHUTDOWN. hr_mailer_free() lets the thread finish the queued tasks, but
 * from then on deliveries skip SMTP and go straight to the outbox, so a
 * stop never waits on a mail server.
 *
 * Not done: DKIM, attachments, a retry queue for the outbox (the files are
 * for a person or another program to pick up).
 */
#ifndef HR_MAIL_MAIL_H
#define HR_MAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"

/* Longest header value accepted (subject, names, addresses), bytes. */
#define HR_MAIL_HEADER_MAX 998
/* Most tasks waiting for the mail thread; hr_mailer_post() refuses above. */
#define HR_MAIL_QUEUE_MAX 1024

typedef struct hr_mail_msg {
	hr_str from_name; /* display name, may be empty */
	hr_str from_addr;
	hr_str to;
	hr_str subject;
	hr_str html; /* HTML body */
	hr_str text; /* plain-text alternative; empty: derived from html */
} hr_mail_msg;

typedef struct hr_mail_var {
	const char *name; /* placeholder without braces, e.g. "TOKEN", "RECORD:email" */
	hr_str value;
} hr_mail_var;

/*
 * Appends tmpl to out with every {NAME} whose NAME is one of vars[0..n)
 * replaced by its value, HTML-escaped (& < > " ') when html is true.
 * Unknown placeholders and lone braces are copied as they are; values are
 * not scanned again. Returns 0 or out's error (HR_ENOMEM, HR_ELIMIT).
 */
int hr_mail_render(hr_buf *out, hr_str tmpl, const hr_mail_var *vars, size_t n, bool html);

/* Appends a plain-text rendering of html: tags dropped, the common
 * entities decoded, runs of blank lines collapsed. Returns 0 or out's error. */
int hr_mail_html_to_text(hr_buf *out, hr_str html);

/*
 * Is s usable as a header value: at most HR_MAIL_HEADER_MAX bytes and no
 * CR, LF or NUL?
 */
bool hr_mail_header_ok(hr_str s);

/*
 * Appends s as a header value: as is when it is printable ASCII, else as
 * RFC 2047 encoded-words (=?UTF-8?B?...?=, each under 76 characters).
 * The caller has checked hr_mail_header_ok(). Returns 0 or out's error.
 */
int hr_mail_encode_header(hr_buf *out, hr_str s);

/*
 * Appends the RFC 5322 text of m (CRLF line ends): Date (now_ms), From,
 * To, Subject, Message-ID (<msg_id@host of from_addr>), MIME headers and a
 * multipart/alternative body with the plain text and HTML parts in
 * quoted-printable. Returns 0, HR_EINVAL (a header value fails
 * hr_mail_header_ok(), an address is not a plain addr-spec, or html is
 * empty) or out's error; on failure out is left as it was.
 */
int hr_mail_format(hr_buf *out, const hr_mail_msg *m, int64_t now_ms, hr_str msg_id);

/* ---- SMTP configuration ----------------------------------------------- */

enum hr_smtp_tls {
	HR_SMTP_TLS_NONE = 0,	/* plain SMTP */
	HR_SMTP_TLS_TRY,	/* STARTTLS when the server offers it */
	HR_SMTP_TLS_STARTTLS,	/* STARTTLS required */
	HR_SMTP_TLS_IMPLICIT	/* smtps:// */
};

typedef struct hr_smtp {
	bool enabled;
	char host[256];
	unsigned port;
	char username[256];
	char password[256];
	char local_name[256]; /* EHLO name; empty: libcurl's default */
	int tls;	      /* enum hr_smtp_tls */
} hr_smtp;

/*
 * Parses smtp://[user[:pass]@]host[:port][?starttls] or smtps://...
 * (user and password percent-decoded; default ports 25 and 465) into out
 * (enabled). "?starttls" makes STARTTLS mandatory. Returns 0 or
 * HR_EINVAL with a reason in err; out is untouched on failure.
 */
int hr_smtp_parse_url(const char *url, hr_smtp *out, char *err, size_t n);

/* ---- the mailer ------------------------------------------------------- */

typedef struct hr_mailer hr_mailer;
typedef void (*hr_mail_task_fn)(hr_mailer *m, void *ud);

/*
 * Creates the mailer and starts its thread. outbox is the folder for .eml
 * files (created on first use); smtp (may be NULL) is the default SMTP
 * configuration, copied. Call from the main thread before other threads
 * use libcurl (it initialises libcurl). Returns 0, HR_ENOMEM or a thread
 * error.
 */
int hr_mailer_new(const char *outbox, const hr_smtp *smtp, hr_mailer **out);

/* Runs the queued tasks (delivering to the outbox only), stops the thread
 * and frees the mailer. NULL is fine. */
void hr_mailer_free(hr_mailer *m);

/*
 * Queues fn(m, ud) to run on the mail thread. Any thread; never blocks
 * for long (one mutex held for a list append). Returns 0, HR_ELIMIT (the
 * queue holds HR_MAIL_QUEUE_MAX tasks) or HR_ESTATE (stopping); on
 * failure fn is not called and ud stays the caller's. fn owns ud.
 */
int hr_mailer_post(hr_mailer *m, hr_mail_task_fn fn, void *ud);

/*
 * Sends msg: through override when it is non-NULL and enabled, else
 * through the mailer's default SMTP configuration when it has one, else
 * (and after any SMTP failure) into the outbox. Mail thread only
 * (blocking). Returns 0 when the message was sent or stored, HR_EINVAL
 * for a message hr_mail_format() refuses, or an error when even the
 * outbox could not be written.
 */
int hr_mailer_deliver(hr_mailer *m, const hr_mail_msg *msg, const hr_smtp *override);

/* Logs a line on the mailer's error stream. Mail thread only. */
__attribute__((format(printf, 2, 3))) void hr_mailer_log(hr_mailer *m, const char *fmt, ...);

#endif

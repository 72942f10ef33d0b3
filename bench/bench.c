/*
 * bench/bench.c - the benchmark server: hearth's engine behind the public API
 * only (include/hearth.h), with the TechEmpower-style routes that
 * bench/run.sh measures against nginx, Node.js and the ceiling server.
 *
 *   GET /plaintext  "Hello, World!" as text/plain
 *   GET /json       {"message":"Hello, World!"} as application/json
 *   GET /db, /queries, /updates   TechEmpower's database tests (te.c), with --te-db
 *   anything else   the engine's static files from --public, or its 404
 *
 * Usage:
 *   hearth-bench [--http ADDR:PORT] [--workers N] [--public DIR] [--dir DIR]
 *                [--te-db FILE] [--quiet | --access-log]
 *   hearth-bench seed ...       writes the benchmark data set (seed.c)
 *
 * --http and --workers mean what they mean for the hearth binary; --dir is
 * the engine's data folder (the bench stores nothing there, but the engine
 * may create it, so run.sh points it at a temp dir). --te-db names a SQLite
 * file with TechEmpower's world table and adds the database routes. The
 * server is quiet by default: an access line per request would be a
 * benchmark of the log.
 *
 * Design.
 * - Only hearth.h is included (through bench.h): this file is also the
 *   proof that a program outside src/ can build a server on the public
 *   API. te.c and seed.c, which measure and fill the storage layer, are
 *   the files that include an internal header (src/db/db.h).
 * - TechEmpower's JSON rule: "for each request, an object mapping the key
 *   message to Hello, World! must be instantiated", and serialized per
 *   request by a JSON serializer, not sent as a constant. json_handler()
 *   builds a struct message on the stack and writes it with the small
 *   escaping writer below (struct jw), which is general enough for any
 *   string, not shaped to this one.
 * - Signals. SIGINT and SIGTERM are blocked before the server starts, so
 *   every worker thread inherits the mask, and the main thread takes them
 *   with sigwait(). Nothing runs in a signal handler, so stopping can call
 *   hearth_server_stop(), which is not async-signal-safe. SIGPIPE is
 *   ignored: a peer that closes mid-write must give EPIPE, not kill us.
 *
 * Deliberately not here: any route the bench does not measure, and any
 * tuning of the engine's defaults beyond what the flags set. The numbers
 * should describe hearth as a user would run it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "hearth.h"

/* ---- A small JSON writer ---- */

/*
 * Writes JSON text into a caller-owned buffer. Nothing allocates; when the
 * buffer is too small the writer stops and sets overflow, and the caller
 * decides what to do (here: a 500). len never exceeds cap.
 */
struct jw {
	char *buf;	/* caller-owned, cap bytes */
	size_t cap;	/* bytes */
	size_t len;	/* bytes written so far */
	bool overflow;	/* a write did not fit; buf holds a truncated prefix */
};

static void jw_init(struct jw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

/* Appends n bytes as they are (JSON punctuation, already-escaped text). */
static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/*
 * Appends s[0..n) as a JSON string: quotes, and the escapes RFC 8259 §7
 * requires (quotation mark, reverse solidus, U+0000..U+001F). Bytes >= 0x80
 * pass through; the caller supplies UTF-8.
 */
static void jw_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0; /* start of the pending run of bytes needing no escape */

	jw_raw(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_raw(w, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			elen = 6;
		}
		jw_raw(w, esc, elen);
	}
	jw_raw(w, s + run, n - run);
	jw_raw(w, "\"", 1);
}

/* ---- Handlers ---- */

static const char hello[] = "Hello, World!";

/* The object TechEmpower's JSON test asks for, one per request. */
struct message {
	const char *text; /* borrowed; not NUL-terminated */
	size_t len;	  /* bytes */
};

/* Serializes m as {"message":"..."}; false if buf is too small. */
static bool message_to_json(const struct message *m, struct jw *w)
{
	jw_raw(w, "{", 1);
	jw_string(w, "message", 7);
	jw_raw(w, ":", 1);
	jw_string(w, m->text, m->len);
	jw_raw(w, "}", 1);
	return !w->overflow;
}

/*
 * A failed hearth_resp_send() leaves the request unanswered (the API's
 * error convention), so fall back to the engine's error response; if that
 * fails too the connection is gone and there is no one left to tell.
 */
static void send_or_500(hearth_req *req, const char *type, const void *body, size_t len)
{
	if (hearth_resp_send(req, 200, type, body, len) != 0)
		(void)hearth_resp_error(req, 500, NULL);
}

static void plaintext_handler(hearth_req *req, void *ud)
{
	(void)ud;
	send_or_500(req, "text/plain", hello, sizeof(hello) - 1);
}

static void json_handler(hearth_req *req, void *ud)
{
	struct message m = { .text = hello, .len = sizeof(hello) - 1 };
	char buf[128]; /* hearth_resp_send copies the body */
	struct jw w;

	(void)ud;
	jw_init(&w, buf, sizeof(buf));
	if (!message_to_json(&m, &w)) {
		(void)hearth_resp_error(req, 500, NULL);
		return;
	}
	send_or_500(req, "application/json", w.buf, w.len);
}

/* ---- Command line ---- */

struct options {
	const char *http;   /* NULL: the engine's default */
	const char *public_dir;
	const char *data_dir;
	const char *te_db;  /* NULL: no database routes */
	unsigned workers;   /* 0: one per core */
	bool access_log;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hearth-bench [--http ADDR:PORT] [--workers N] [--public DIR]\n"
		   "                    [--dir DIR] [--te-db FILE] [--quiet | --access-log]\n"
		   "       hearth-bench seed [--posts DATA_DB [--count N] [--ids FILE]]"
		   " [--world FILE]\n"
		   "                         [--auth DATA_DB [--users N] [--notes N]]\n");
}

static int parse_workers(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > 1024)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * Reads "--name VALUE" or "--name=VALUE" at argv[*i]. Returns the value (and
 * advances *i past a separate value), or NULL when argv[*i] is not --name.
 * Sets *missing when --name has no value.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

/* Returns 0, 1 for --help (exit 0), or -1 after printing the error. */
static int parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			o->access_log = false;
		} else if (strcmp(argv[i], "--access-log") == 0) {
			o->access_log = true;
		} else if ((v = opt_value(argc, argv, &i, "--http", &missing)) != NULL) {
			o->http = v;
		} else if ((v = opt_value(argc, argv, &i, "--public", &missing)) != NULL) {
			o->public_dir = v;
		} else if ((v = opt_value(argc, argv, &i, "--dir", &missing)) != NULL) {
			o->data_dir = v;
		} else if ((v = opt_value(argc, argv, &i, "--te-db", &missing)) != NULL) {
			o->te_db = v;
		} else if ((v = opt_value(argc, argv, &i, "--workers", &missing)) != NULL) {
			if (parse_workers(v, &o->workers) != 0) {
				fprintf(stderr, "hearth-bench: --workers wants 0..1024, got '%s'\n", v);
				return -1;
			}
		} else {
			if (missing)
				fprintf(stderr, "hearth-bench: %s needs a value\n", argv[i]);
			else
				fprintf(stderr, "hearth-bench: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

/* ---- Main ---- */

int main(int argc, char **argv)
{
	struct options o = { 0 };
	hearth_config cfg;
	hearth_server *s = NULL;
	te_state *te = NULL;
	sigset_t stop_set;
	int rc, sig;

	if (argc > 1 && strcmp(argv[1], "seed") == 0)
		return seed_main(argc - 1, argv + 1);
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	/* Before any thread exists, so every worker inherits the mask. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	if ((rc = pthread_sigmask(SIG_BLOCK, &stop_set, NULL)) != 0) {
		fprintf(stderr, "hearth-bench: pthread_sigmask: %s\n", strerror(rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	hearth_config_init(&cfg);
	if (o.http != NULL)
		cfg.http_addr = o.http;
	cfg.workers = o.workers;
	cfg.public_dir = o.public_dir;
	if (o.data_dir != NULL)
		cfg.data_dir = o.data_dir;
	cfg.quiet = !o.access_log;

	if (o.te_db != NULL) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned n = cfg.workers != 0 ? cfg.workers : ncpu > 0 ? (unsigned)ncpu : 1;
		const char *why = "";

		if ((rc = te_open(o.te_db, n, &cfg, &te, &why)) != 0) {
			fprintf(stderr, "hearth-bench: --te-db %s: %s (%s)\n", o.te_db, why,
				hearth_strerror(rc));
			return 1;
		}
	}
	if ((rc = hearth_server_new(&cfg, &s)) != 0) {
		fprintf(stderr, "hearth-bench: %s\n", hearth_strerror(rc));
		te_free(te);
		return 1;
	}
	if ((rc = hearth_route(s, "GET", "/plaintext", plaintext_handler, NULL)) != 0 ||
	    (rc = hearth_route(s, "GET", "/json", json_handler, NULL)) != 0) {
		fprintf(stderr, "hearth-bench: route: %s\n", hearth_strerror(rc));
		goto fail;
	}
	if (te != NULL && (rc = te_register(s, te)) != 0) {
		fprintf(stderr, "hearth-bench: route: %s\n", hearth_strerror(rc));
		goto fail;
	}
	if ((rc = hearth_server_start(s)) != 0) {
		fprintf(stderr, "hearth-bench: start: %s\n", hearth_strerror(rc));
		goto fail;
	}
	if (cfg.workers == 0)
		fprintf(stderr, "hearth-bench %s: port %d, a worker per core", HEARTH_VERSION,
			hearth_server_port(s));
	else
		fprintf(stderr, "hearth-bench %s: port %d, %u worker(s)", HEARTH_VERSION,
			hearth_server_port(s), cfg.workers);
	fprintf(stderr, "%s%s\n", o.public_dir != NULL ? ", public " : "",
		o.public_dir != NULL ? o.public_dir : "");

	do {
		rc = sigwait(&stop_set, &sig);
	} while (rc == EINTR);
	if (rc != 0)
		fprintf(stderr, "hearth-bench: sigwait: %s; stopping\n", strerror(rc));

	hearth_server_stop(s);
	hearth_server_wait(s);
	hearth_server_free(s);
	te_free(te);
	return 0;

fail:
	hearth_server_free(s);
	te_free(te);
	return 1;
}

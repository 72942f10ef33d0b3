/*
 * main.c - the hearth program: command line, signals, exit codes. The only
 * place in hearth that prints usage or calls exit().
 *
 *   hearth serve [--http ADDR:PORT] [--dir DATA] [--public DIR] [--workers N] ...
 *   hearth --help | --version
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts (so all
 * threads inherit the mask) and taken synchronously with sigwait() in the
 * main thread, which then asks the server to stop gracefully and waits for
 * its workers. No code runs in signal-handler context.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "hearth.h"
#include "server.h"

static void usage(FILE *f)
{
	fputs("hearth " HEARTH_VERSION " - a backend in one binary\n"
	      "\n"
	      "Usage:\n"
	      "  hearth serve [options]     serve HTTP until SIGINT/SIGTERM\n"
	      "  hearth superuser upsert EMAIL PASSWORD [--dir DIR]\n"
	      "                             create or update a superuser\n"
	      "  hearth --help              this text\n"
	      "  hearth --version           the version\n"
	      "\n"
	      "Options of serve:\n"
	      "  --http ADDR:PORT           listen address (default 127.0.0.1:8090)\n"
	      "  --dir DIR                  data folder (default ./hearth_data)\n"
	      "  --public DIR               serve static files from DIR at /\n"
	      "  --workers N                event-loop threads (default: number of cores)\n"
	      "  --log-format text|json     access and error log format (default text)\n"
	      "  --quiet                    no access log\n"
	      "  --max-body SIZE            request body limit, 413 above (default 32M)\n"
	      "  --max-header-bytes SIZE    request head limit, 431 above (default 16K)\n"
	      "  --max-headers N            header field count limit, 431 above (default 100)\n"
	      "  --max-request-line SIZE    request line limit, 414 above (default 8K)\n"
	      "  --max-connections N        open connections, 503 above (default 100000)\n"
	      "  --header-timeout DURATION  time to receive a request head (default 10s)\n"
	      "  --idle-timeout DURATION    keep-alive idle time (default 60s)\n"
	      "  --write-timeout DURATION   time without write progress (default 60s)\n"
	      "  --body-min-rate BYTES      minimum body rate per second after the\n"
	      "                             header timeout as grace (default 1024)\n"
	      "  --shutdown-timeout DURATION  graceful-stop deadline (default 10s)\n"
	      "  --static-max-age SECONDS   Cache-Control max-age of static files\n"
	      "                             (default 0: no-cache, always revalidate)\n"
	      "  --no-gzip                  never compress responses\n"
	      "  --smtp URL                 send mail through this SMTP server:\n"
	      "                             smtp://[USER:PASS@]HOST[:PORT][?starttls] or\n"
	      "                             smtps://... (settings.smtp, when enabled, wins);\n"
	      "                             without it mail is kept in DIR/outbox/\n"
	      "\n"
	      "SIZE takes K, M or G suffixes (powers of 1024); DURATION takes ms or s.\n",
	      f);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	uint64_t mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_ms(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (strcmp(end, "ms") == 0) {
	} else if (strcmp(end, "s") == 0 || *end == '\0') {
		v *= 1000;
	} else {
		return -1;
	}
	if (v == 0 || v > 86400000ull)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int die_arg(const char *opt, const char *val)
{
	fprintf(stderr, "hearth: invalid value for %s: '%s' (see hearth --help)\n", opt,
		val ? val : "");
	return 2;
}

static int cmd_serve(int argc, char **argv)
{
	hearth_config cfg;
	hearth_config_init(&cfg);
	const char *smtp_url = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		unsigned ms;
#define NEED_VALUE()                                                                   \
	do {                                                                           \
		if (!v) {                                                              \
			fprintf(stderr, "hearth: %s needs a value (see hearth --help)\n", a); \
			return 2;                                                      \
		}                                                                      \
		i++;                                                                   \
	} while (0)
		if (strcmp(a, "--http") == 0) {
			NEED_VALUE();
			cfg.http_addr = v;
		} else if (strcmp(a, "--dir") == 0) {
			NEED_VALUE();
			cfg.data_dir = v;
		} else if (strcmp(a, "--public") == 0) {
			NEED_VALUE();
			cfg.public_dir = v;
		} else if (strcmp(a, "--workers") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n > 256)
				return die_arg(a, v);
			cfg.workers = (unsigned)n;
		} else if (strcmp(a, "--log-format") == 0) {
			NEED_VALUE();
			if (strcmp(v, "text") == 0)
				cfg.log_format = HEARTH_LOG_TEXT;
			else if (strcmp(v, "json") == 0)
				cfg.log_format = HEARTH_LOG_JSON;
			else
				return die_arg(a, v);
		} else if (strcmp(a, "--quiet") == 0) {
			cfg.quiet = true;
		} else if (strcmp(a, "--smtp") == 0) {
			NEED_VALUE();
			smtp_url = v;
		} else if (strcmp(a, "--no-gzip") == 0) {
			cfg.gzip = false;
		} else if (strcmp(a, "--max-body") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n == 0)
				return die_arg(a, v);
			cfg.max_body = n;
		} else if (strcmp(a, "--max-header-bytes") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n < 64 || n > (64u << 20))
				return die_arg(a, v);
			cfg.max_head_bytes = (size_t)n;
		} else if (strcmp(a, "--max-headers") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n == 0 || n > 10000)
				return die_arg(a, v);
			cfg.max_headers = (unsigned)n;
		} else if (strcmp(a, "--max-request-line") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n < 16 || n > (64u << 20))
				return die_arg(a, v);
			cfg.max_request_line = (size_t)n;
		} else if (strcmp(a, "--max-connections") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n == 0 || n > 10000000)
				return die_arg(a, v);
			cfg.max_connections = (unsigned)n;
		} else if (strcmp(a, "--header-timeout") == 0) {
			NEED_VALUE();
			if (parse_ms(v, &ms))
				return die_arg(a, v);
			cfg.header_timeout_ms = ms;
		} else if (strcmp(a, "--idle-timeout") == 0) {
			NEED_VALUE();
			if (parse_ms(v, &ms))
				return die_arg(a, v);
			cfg.idle_timeout_ms = ms;
		} else if (strcmp(a, "--write-timeout") == 0) {
			NEED_VALUE();
			if (parse_ms(v, &ms))
				return die_arg(a, v);
			cfg.write_timeout_ms = ms;
		} else if (strcmp(a, "--shutdown-timeout") == 0) {
			NEED_VALUE();
			if (parse_ms(v, &ms))
				return die_arg(a, v);
			cfg.shutdown_timeout_ms = ms;
		} else if (strcmp(a, "--body-min-rate") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n > UINT32_MAX)
				return die_arg(a, v);
			cfg.body_min_rate = (unsigned)n;
		} else if (strcmp(a, "--static-max-age") == 0) {
			NEED_VALUE();
			if (parse_size(v, &n) || n > 31536000)
				return die_arg(a, v);
			cfg.static_max_age = (unsigned)n;
		} else {
			fprintf(stderr, "hearth: unknown option '%s' (see hearth --help)\n", a);
			return 2;
		}
#undef NEED_VALUE
	}
	if (cfg.data_dir && mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "hearth: cannot create data folder %s: %s\n", cfg.data_dir,
			strerror(errno));
		return 1;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	hearth_server *s;
	int rc = hearth_server_new(&cfg, &s);
	if (rc) {
		fprintf(stderr, "hearth: invalid configuration: %s\n", hearth_strerror(rc));
		return 2;
	}
	hr_api *api;
	char err[512];
	unsigned nworkers = cfg.workers;
	if (nworkers == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nworkers = c > 0 ? (unsigned)c : 1;
	}
	if (nworkers > 256)
		nworkers = 256;
	rc = hr_api_new(cfg.data_dir, nworkers, &api, err, sizeof err);
	if (rc) {
		fprintf(stderr, "hearth: %s\n", err);
		hearth_server_free(s);
		return 1;
	}
	if (smtp_url && hr_api_set_smtp(api, smtp_url, err, sizeof err) != 0) {
		fprintf(stderr, "hearth: invalid value for --smtp: %s\n", err);
		hearth_server_free(s);
		hr_api_free(api);
		return 2;
	}
	rc = hr_api_register(api, s);
	if (rc) {
		fprintf(stderr, "hearth: cannot register API routes: %s\n", hearth_strerror(rc));
		hearth_server_free(s);
		hr_api_free(api);
		return 1;
	}
	hr_server_set_api(s, api);
	rc = hearth_server_start(s);
	if (rc) {
		fprintf(stderr, "hearth: cannot listen on %s: %s\n", cfg.http_addr,
			hearth_strerror(rc));
		hearth_server_free(s);
		hr_api_free(api);
		return 1;
	}
	/* the address as given, with the port the kernel picked for ":0" */
	const char *colon = strrchr(cfg.http_addr, ':');
	int host_len = colon ? (int)(colon - cfg.http_addr) : (int)strlen(cfg.http_addr);
	fprintf(stderr, "hearth %s listening on http://%.*s:%d (port %d)%s%s\n", HEARTH_VERSION,
		host_len, cfg.http_addr, hearth_server_port(s), hearth_server_port(s),
		cfg.public_dir ? ", public folder " : "", cfg.public_dir ? cfg.public_dir : "");
	if (hr_api_superuser_count(api) == 0)
		fprintf(stderr,
			"hearth: no superuser yet; create the first one with\n"
			"  hearth superuser upsert EMAIL PASSWORD --dir %s\n",
			cfg.data_dir);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "hearth: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	hearth_server_stop(s);
	int busy = hearth_server_wait(s);
	hearth_server_free(s);
	if (!busy)
		hr_api_free(api);
	fprintf(stderr, "hearth: stopped\n");
	if (busy) {
		/* Work left running past the deadline: do not wait for it. */
		fflush(stdout);
		_exit(0);
	}
	return 0;
}

static int cmd_superuser(int argc, char **argv)
{
	const char *dir = "./hearth_data";
	const char *args[3] = {NULL, NULL, NULL};
	int na = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (na < 3)
			args[na++] = argv[i];
		else
			na++;
	}
	if (na != 3 || strcmp(args[0], "upsert") != 0) {
		fprintf(stderr, "usage: hearth superuser upsert EMAIL PASSWORD [--dir DIR]\n");
		return 2;
	}
	hr_api *api;
	char err[512];
	if (hr_api_new(dir, 1, &api, err, sizeof err) != 0) {
		fprintf(stderr, "hearth: %s\n", err);
		return 1;
	}
	int rc = hr_api_superuser_upsert(api, args[1], args[2], err, sizeof err);
	hr_api_free(api);
	if (rc) {
		fprintf(stderr, "hearth: %s\n", err);
		return 1;
	}
	printf("Superuser %s %s.\n", args[1], err);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("hearth %s\n", HEARTH_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "superuser") == 0)
		return cmd_superuser(argc - 2, argv + 2);
	fprintf(stderr, "hearth: unknown command '%s' (see hearth --help)\n", argv[1]);
	return 2;
}

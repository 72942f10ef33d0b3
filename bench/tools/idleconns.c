/*
 * bench/tools/idleconns.c - the client of the idle keep-alive workload:
 * open N connections to a server, send one GET on each, read its response,
 * then hold them all open and idle while bench/run.sh reads the server's
 * memory.
 *
 * Usage: idleconns PORT N [PATH] [HOLD_S] [TIMEOUT_S]
 *   connects to 127.0.0.1:PORT; PATH defaults to /plaintext, HOLD_S to 3,
 *   TIMEOUT_S (deadline for opening all N) to 60.
 *
 * Output, one line each, flushed at once, so the harness can act on them:
 *   READY ok=K failed=F       all N settled: K answered 200, F did not
 *   HELD held=H               after HOLD_S idle seconds, H of the K are
 *                             still open (the server did not drop them)
 * Exit status 0 when all N were answered and held, 1 otherwise, 2 on usage
 * or setup errors.
 *
 * Design. One thread, epoll, non-blocking sockets. At most MAX_PENDING
 * connections are between connect() and a complete response at any time:
 * opening 10,000 at once would overflow the server's listen backlog and
 * turn the test into a measure of SYN retransmission timers. A response is
 * complete when its head has been read and Content-Length more bytes (or
 * the end of a chunked body); then its read buffer is freed and the socket
 * leaves the epoll set, so each held connection costs the client one fd.
 * Connections are closed with SO_LINGER 0 (a reset): 10,000 sockets in
 * TIME_WAIT would linger for a minute and eat the ephemeral port range of
 * the next run.
 *
 * Deliberately not handled: redirects, 1xx responses, responses without a
 * length (until-close), TLS. This is a load client for our own harness,
 * pointed at servers we configure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 256	   /* connections opening at once */
#define RESP_CAP 8192	   /* bytes of one response we keep */
#define MAX_EVENTS 256

enum state { ST_FREE, ST_CONNECTING, ST_READING, ST_DONE, ST_FAILED };

struct conn {
	int fd;		 /* -1 when none */
	enum state st;
	size_t len;	 /* bytes in buf */
	char *buf;	 /* RESP_CAP bytes while ST_READING, else NULL */
};

struct client {
	struct sockaddr_in addr;
	const char *req;     /* the request bytes */
	size_t req_len;
	struct conn *conns;  /* n of them */
	size_t n;
	size_t next;	     /* next conn to open */
	size_t pending;	     /* connecting or reading */
	size_t ok, failed;
	int ep;		     /* epoll fd */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void settle(struct client *c, struct conn *k, bool ok)
{
	free(k->buf);
	k->buf = NULL;
	if (k->fd >= 0)
		(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, k->fd, NULL);
	if (ok) {
		k->st = ST_DONE;
		c->ok++;
	} else {
		if (k->fd >= 0)
			close(k->fd);
		k->fd = -1;
		k->st = ST_FAILED;
		c->failed++;
	}
	c->pending--;
}

/* Starts connection c->next. A failure to even start counts as failed. */
static void open_one(struct client *c)
{
	struct conn *k = &c->conns[c->next++];
	struct epoll_event ev;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1;

	c->pending++;
	k->st = ST_CONNECTING;
	k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		settle(c, k, false);
		return;
	}
	(void)setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(k->fd, (const struct sockaddr *)&c->addr, sizeof(c->addr)) != 0 &&
	    errno != EINPROGRESS) {
		settle(c, k, false);
		return;
	}
	ev.events = EPOLLOUT;
	ev.data.ptr = k;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, k->fd, &ev) != 0)
		settle(c, k, false);
}

/* Connected (or failed to): send the request, switch to reading. */
static void on_writable(struct client *c, struct conn *k)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t elen = sizeof(err);
	ssize_t w;

	if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		settle(c, k, false);
		return;
	}
	/* A short request into an empty socket buffer: one write suffices. */
	w = write(k->fd, c->req, c->req_len);
	if (w != (ssize_t)c->req_len || (k->buf = malloc(RESP_CAP)) == NULL) {
		settle(c, k, false);
		return;
	}
	k->st = ST_READING;
	k->len = 0;
	ev.events = EPOLLIN;
	ev.data.ptr = k;
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &ev) != 0)
		settle(c, k, false);
}

/* Case-insensitive search for a header line "\r\nname:" in head[0..n). */
static const char *find_header(const char *head, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + 2 + nl < n; i++) {
		if (head[i] == '\r' && head[i + 1] == '\n' &&
		    strncasecmp(head + i + 2, name, nl) == 0)
			return head + i + 2 + nl;
	}
	return NULL;
}

/*
 * Returns 1 when buf holds one complete 200 response, 0 when more bytes
 * are needed, -1 when it is not a 200 or has no length we understand.
 */
static int response_complete(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *v;
	size_t head, body;

	if (end == NULL)
		return len == RESP_CAP ? -1 : 0;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || memcmp(buf + 8, " 200", 4) != 0)
		return -1;
	head = (size_t)(end - buf) + 4;
	body = len - head;
	if ((v = find_header(buf, head, "content-length:")) != NULL) {
		unsigned long cl = strtoul(v, NULL, 10);

		if (cl > RESP_CAP)
			return -1;
		return body >= cl ? 1 : 0;
	}
	if ((v = find_header(buf, head, "transfer-encoding:")) != NULL)
		return body >= 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0 ? 1 : 0;
	return -1;
}

static void on_readable(struct client *c, struct conn *k)
{
	for (;;) {
		ssize_t r = read(k->fd, k->buf + k->len, RESP_CAP - k->len);
		int done;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			settle(c, k, false);
			return;
		}
		k->len += (size_t)r;
		done = response_complete(k->buf, k->len);
		if (done != 0) {
			settle(c, k, done > 0);
			return;
		}
	}
}

/* Counts held connections the server has not closed or reset. */
static size_t count_held(const struct client *c)
{
	size_t held = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct conn *k = &c->conns[i];
		struct pollfd p = { .fd = k->fd, .events = POLLIN | POLLRDHUP };

		if (k->st != ST_DONE)
			continue;
		/* Idle and open: nothing to read, no hang-up. */
		if (poll(&p, 1, 0) == 0)
			held++;
	}
	return held;
}

static int parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	struct client c = { .ep = -1 };
	struct rlimit rl;
	unsigned long port, n, hold = 3, timeout = 60;
	const char *path = argc > 3 ? argv[3] : "/plaintext";
	char req[512];
	double deadline;
	size_t held;
	int len;

	if (argc < 3 || argc > 6 || parse_num(argv[1], 1, 65535, &port) != 0 ||
	    parse_num(argv[2], 1, 1000000, &n) != 0 ||
	    (argc > 4 && parse_num(argv[4], 0, 3600, &hold) != 0) ||
	    (argc > 5 && parse_num(argv[5], 1, 3600, &timeout) != 0) || path[0] != '/') {
		fprintf(stderr, "usage: idleconns PORT N [PATH] [HOLD_S] [TIMEOUT_S]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 16) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < n + 16) {
			fprintf(stderr, "idleconns: ulimit -n is %lu, need %lu\n",
				(unsigned long)rl.rlim_cur, n + 16);
			return 2;
		}
	}
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%lu\r\nUser-Agent: idleconns\r\n\r\n",
		       path, port);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		fprintf(stderr, "idleconns: path too long\n");
		return 2;
	}
	c.req = req;
	c.req_len = (size_t)len;
	c.n = n;
	c.addr.sin_family = AF_INET;
	c.addr.sin_port = htons((unsigned short)port);
	c.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c.conns = calloc(n, sizeof(*c.conns))) == NULL ||
	    (c.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("idleconns: setup");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		c.conns[i].fd = -1;

	deadline = now_s() + (double)timeout;
	while (c.ok + c.failed < c.n) {
		int m;

		while (c.next < c.n && c.pending < MAX_PENDING)
			open_one(&c);
		if (now_s() > deadline)
			break;
		m = epoll_wait(c.ep, evs, MAX_EVENTS, 100);
		if (m < 0 && errno != EINTR) {
			perror("idleconns: epoll_wait");
			return 2;
		}
		for (int i = 0; i < m; i++) {
			struct conn *k = evs[i].data.ptr;

			if (k->st == ST_CONNECTING)
				on_writable(&c, k);
			else if (k->st == ST_READING)
				on_readable(&c, k);
		}
	}
	/* Past the deadline: whatever has not settled has failed. */
	for (size_t i = 0; i < c.n; i++) {
		if (c.conns[i].st == ST_CONNECTING || c.conns[i].st == ST_READING)
			settle(&c, &c.conns[i], false);
		else if (c.conns[i].st == ST_FREE)
			c.failed++;
	}
	printf("READY ok=%zu failed=%zu\n", c.ok, c.failed);
	fflush(stdout);

	sleep((unsigned)hold);
	held = count_held(&c);
	printf("HELD held=%zu\n", held);
	fflush(stdout);

	for (size_t i = 0; i < c.n; i++)
		if (c.conns[i].fd >= 0)
			close(c.conns[i].fd);
	return c.failed == 0 && held == c.ok ? 0 : 1;
}

/*
 * A minimal fake chat server for the fan-out and client-cost benchmarks
 * only (not a test server: it answers every request with one canned chat
 * completion and understands nothing else).
 *
 *   fast_server LATENCY_MS
 *
 * Listens on 127.0.0.1 (a free port), prints the port alone on one line,
 * and answers each request LATENCY_MS after it arrived (HTTP/1.1,
 * keep-alive, any number of connections), on one thread with epoll.  The
 * latency is the same for every request, so due answers form a FIFO queue.
 * tests/fake_server.py (a thread per connection) and fast_server.py (one
 * asyncio thread) spend a few hundred microseconds of CPU per request; on a
 * 2-core machine that CPU is taken from the client being measured and sets
 * the pace at 64 in flight.  This one spends a few microseconds.
 */
#define _GNU_SOURCE /* memmem, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define BUF_CAP 65536

static const char reply_body[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":0,"
    "\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
    "\"message\":{\"role\":\"assistant\",\"content\":\" amber basin cedar\"}}],"
    "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}";

struct conn {
	char *buf;
	size_t len;
	unsigned gen; /* bumped on close: queued answers for the old one are dropped */
	int open;
};

struct due {
	int64_t at_ns;
	int fd;
	unsigned gen;
};

static struct conn conns[MAX_FD];
static struct due *queue;
static size_t q_head, q_len, q_cap;
static char reply[1024];
static size_t reply_len;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void push(int64_t at, int fd, unsigned gen)
{
	if (q_len == q_cap) {
		size_t ncap = q_cap ? q_cap * 2 : 1024, i;
		struct due *nq = malloc(ncap * sizeof(*nq));

		if (!nq)
			abort();
		for (i = 0; i < q_len; i++)
			nq[i] = queue[(q_head + i) % q_cap];
		free(queue);
		queue = nq;
		q_cap = ncap;
		q_head = 0;
	}
	queue[(q_head + q_len) % q_cap] = (struct due){at, fd, gen};
	q_len++;
}

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	conns[fd].open = 0;
	conns[fd].len = 0;
	conns[fd].gen++;
}

static void answer(int fd)
{
	size_t off = 0;

	while (off < reply_len) {
		ssize_t w = write(fd, reply + off, reply_len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the client went away; epoll will say so */
		off += (size_t)w;
	}
}

/* Takes every complete request out of the connection's buffer. */
static void parse(struct conn *c, int fd, int64_t delay_ns)
{
	for (;;) {
		char *end, *p;
		size_t head, length = 0;

		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (!end)
			return;
		head = (size_t)(end - c->buf) + 4;
		for (p = c->buf; p < end; p++)
			if ((p == c->buf || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15))
				length = strtoul(p + 15, NULL, 10);
		if (c->len < head + length)
			return;
		memmove(c->buf, c->buf + head + length, c->len - head - length);
		c->len -= head + length;
		if (delay_ns)
			push(now_ns() + delay_ns, fd, c->gen);
		else
			answer(fd);
	}
}

int main(int argc, char **argv)
{
	int64_t delay_ns = (argc > 1 ? atol(argv[1]) : 0) * 1000000;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	struct epoll_event ev, evs[256];
	int lfd, ep, one = 1;

	reply_len = (size_t)snprintf(reply, sizeof(reply),
				     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				     "Content-Length: %zu\r\n\r\n%s",
				     sizeof(reply_body) - 1, reply_body);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1024) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
		perror("fast_server");
		return 1;
	}
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int timeout = -1, n, i;

		while (q_len) {
			struct due d = queue[q_head];
			int64_t t = now_ns();

			if (d.at_ns > t) {
				timeout = (int)((d.at_ns - t + 999999) / 1000000);
				break;
			}
			q_head = (q_head + 1) % q_cap;
			q_len--;
			if (conns[d.fd].open && conns[d.fd].gen == d.gen)
				answer(d.fd);
		}
		n = epoll_wait(ep, evs, 256, timeout);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct conn *c;
			ssize_t r;

			if (fd == lfd) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

				if (cfd < 0 || cfd >= MAX_FD) {
					if (cfd >= 0)
						close(cfd);
					continue;
				}
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c = &conns[cfd];
				if (!c->buf && !(c->buf = malloc(BUF_CAP)))
					abort();
				c->len = 0;
				c->open = 1;
				ev.events = EPOLLIN;
				ev.data.fd = cfd;
				epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
				continue;
			}
			c = &conns[fd];
			r = read(fd, c->buf + c->len, BUF_CAP - c->len);
			if (r <= 0 || c->len + (size_t)r >= BUF_CAP) {
				if (r < 0 && errno == EINTR)
					continue;
				drop(ep, fd);
				continue;
			}
			c->len += (size_t)r;
			parse(c, fd, delay_ns);
		}
	}
}

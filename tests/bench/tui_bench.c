/*
 * Screen benchmark (tests/bench/run.py drives it; not a test): the loom on
 * a pseudo-terminal, in process, one key at a time (tui_open / tui_key).
 * A thread drains the pty's master side as a terminal emulator would.
 *
 *   tui_bench keys FILE [KEYS [ROWS COLS]]   moves through the session with
 *                                            a fixed pseudo-random walk of
 *                                            KEYS keys (default 3000) and
 *                                            times each key to its finished
 *                                            frame (median, p99, max)
 *   tui_bench first FILE [ROWS COLS]         session_load + tui_open (first
 *                                            frame sent), from main()
 *
 * Prints one line of JSON.  The terminal is 40 x 120 unless told.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/session.h"
#include "weft/tree.h"
#include "weft/tui.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int master_fd = -1;
static volatile long drained;

static void *drain(void *arg)
{
	char buf[65536];

	(void)arg;
	for (;;) {
		ssize_t n = read(master_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		drained += n;
	}
}

/* Opens a pty of rows x cols; returns the slave as FILE *s for curses. */
static int open_pty(int rows, int cols, FILE **out, FILE **in)
{
	struct winsize ws;
	const char *name;
	int sfd;
	pthread_t th;

	master_fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (master_fd < 0 || grantpt(master_fd) || unlockpt(master_fd) ||
	    !(name = ptsname(master_fd)))
		return -1;
	sfd = open(name, O_RDWR | O_NOCTTY);
	if (sfd < 0)
		return -1;
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	ioctl(sfd, TIOCSWINSZ, &ws);
	*out = fdopen(sfd, "w");
	*in = fdopen(dup(sfd), "r");
	if (!*out || !*in)
		return -1;
	if (pthread_create(&th, NULL, drain, NULL))
		return -1;
	pthread_detach(th);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* The next key of the walk: mostly down the tree and across siblings, up
 * when there is nowhere further down. */
static int next_key(const struct tree *t)
{
	uint32_t r = rnd(100);

	if (t->nodes[t->focus].first_child == TREE_NONE)
		return r < 50 ? 'h' : r < 75 ? 'j' : 'k';
	if (r < 35)
		return 'l';
	if (r < 55)
		return '\t';
	if (r < 70)
		return 'j';
	if (r < 80)
		return 'k';
	return 'h';
}

static int do_keys(const char *path, int nkeys, int rows, int cols)
{
	struct errbuf err;
	struct tree *t;
	struct tui *u;
	FILE *out, *in;
	double *lat, *cpu, sum = 0;
	long before;
	int i;

	if (session_load(path, &t, &err)) {
		fprintf(stderr, "tui_bench: %s\n", err.msg);
		return 1;
	}
	if (open_pty(rows, cols, &out, &in)) {
		fprintf(stderr, "tui_bench: cannot open a pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	u = tui_open(t, NULL, NULL, out, in, &err);
	if (!u) {
		fprintf(stderr, "tui_bench: %s\n", err.msg);
		return 1;
	}
	lat = calloc((size_t)nkeys, sizeof(*lat));
	cpu = calloc((size_t)nkeys, sizeof(*cpu));
	before = drained;
	for (i = 0; i < nkeys; i++) {
		int key = next_key(t);
		double c0 = thread_cpu(), t0 = now();

		tui_key(u, key, 0);
		lat[i] = now() - t0;
		cpu[i] = thread_cpu() - c0;
		sum += lat[i];
	}
	tui_close(u);
	qsort(lat, (size_t)nkeys, sizeof(*lat), cmp_double);
	qsort(cpu, (size_t)nkeys, sizeof(*cpu), cmp_double);
	printf("{\"nodes\": %u, \"keys\": %d, \"rows\": %d, \"cols\": %d, \"median_ms\": %.4f, "
	       "\"p99_ms\": %.4f, \"max_ms\": %.4f, \"mean_ms\": %.4f, \"cpu_median_ms\": %.4f, "
	       "\"cpu_p99_ms\": %.4f, \"bytes_per_key\": %.0f}\n",
	       t->count, nkeys, rows, cols, lat[nkeys / 2] * 1e3,
	       lat[(size_t)((double)nkeys * 0.99)] * 1e3, lat[nkeys - 1] * 1e3,
	       sum / nkeys * 1e3, cpu[nkeys / 2] * 1e3, cpu[(size_t)((double)nkeys * 0.99)] * 1e3,
	       (double)(drained - before) / nkeys);
	free(lat);
	free(cpu);
	tree_free(t);
	return 0;
}

static int do_first(const char *path, int rows, int cols, double t0)
{
	struct errbuf err;
	struct tree *t;
	struct tui *u;
	FILE *out, *in;
	double t1, t2;

	if (open_pty(rows, cols, &out, &in)) {
		fprintf(stderr, "tui_bench: cannot open a pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	t1 = now();
	if (session_load(path, &t, &err)) {
		fprintf(stderr, "tui_bench: %s\n", err.msg);
		return 1;
	}
	u = tui_open(t, NULL, NULL, out, in, &err);
	if (!u) {
		fprintf(stderr, "tui_bench: %s\n", err.msg);
		return 1;
	}
	t2 = now();
	tui_close(u);
	printf("{\"nodes\": %u, \"first_ms\": %.3f, \"load_and_draw_ms\": %.3f}\n", t->count,
	       (t2 - t0) * 1e3, (t2 - t1) * 1e3);
	tree_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	double t0 = now();
	const char *term = getenv("TERM");

	if (!term || !*term || !strcmp(term, "dumb"))
		setenv("TERM", "xterm-256color", 1);
	if (argc >= 3 && !strcmp(argv[1], "keys"))
		return do_keys(argv[2], argc > 3 ? atoi(argv[3]) : 3000,
			       argc > 5 ? atoi(argv[4]) : 40, argc > 5 ? atoi(argv[5]) : 120);
	if (argc >= 3 && !strcmp(argv[1], "first"))
		return do_first(argv[2], argc > 4 ? atoi(argv[3]) : 40,
				argc > 4 ? atoi(argv[4]) : 120, t0);
	fputs("usage: tui_bench keys FILE [KEYS [ROWS COLS]] | first FILE [ROWS COLS]\n", stderr);
	return 2;
}

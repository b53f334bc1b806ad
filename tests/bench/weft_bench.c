/*
 * The C half of `make bench` (tests/bench/run.py drives it; not a test).
 * Each subcommand does one measured thing in a fresh process and prints one
 * line of JSON on stdout, so peak RSS (getrusage ru_maxrss) is that phase's.
 *
 *   weft_bench load FILE              session_load: seconds (wall and
 *                                     user+sys CPU), peak RSS
 *   weft_bench save FILE OUT          session_load (not timed), then
 *                                     session_save to OUT: seconds
 *   weft_bench fanout URL N INFLIGHT  N chat requests on the lm engine with
 *                                     INFLIGHT in flight: wall seconds and
 *                                     the process's user+sys CPU seconds
 *
 * The sessions are made by tree_1m (`tree_1m save FILE N`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/session.h"
#include "weft/tree.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User CPU seconds so far; system seconds in *sys. */
static double cpu_seconds(double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}

static long peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int do_load(const char *path)
{
	struct errbuf err;
	struct tree *t;
	double t0, t1, u0, u1, s0, s1;

	u0 = cpu_seconds(&s0);
	t0 = now();
	if (session_load(path, &t, &err)) {
		fprintf(stderr, "weft_bench: %s\n", err.msg);
		return 1;
	}
	t1 = now();
	u1 = cpu_seconds(&s1);
	printf("{\"nodes\": %u, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"peak_kib\": %ld}\n",
	       t->count, t1 - t0, u1 - u0 + s1 - s0, peak_kib());
	tree_free(t);
	return 0;
}

static int do_save(const char *path, const char *out)
{
	struct errbuf err;
	struct tree *t;
	double t0, t1;

	if (session_load(path, &t, &err)) {
		fprintf(stderr, "weft_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now();
	if (session_save(t, out, &err)) {
		fprintf(stderr, "weft_bench: %s\n", err.msg);
		tree_free(t);
		return 1;
	}
	t1 = now();
	printf("{\"nodes\": %u, \"seconds\": %.6f, \"peak_kib\": %ld}\n", t->count, t1 - t0,
	       peak_kib());
	tree_free(t);
	return 0;
}

struct fan {
	long ok, failed;
	char first_error[1100];
};

static void fan_done(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct fan *f = ctx;

	(void)resp;
	if (err) {
		if (!f->failed)
			snprintf(f->first_error, sizeof(f->first_error), "%s", err->msg);
		f->failed++;
	} else {
		f->ok++;
	}
}

static int do_fanout(const char *url, long n, int inflight)
{
	struct lm_engine *e = lm_engine_new();
	struct lm_request req;
	struct errbuf err;
	struct fan f = {0, 0, ""};
	double t0, t1, u0, u1, s0, s1;
	long i;
	int rc;

	lm_request_init(&req);
	lm_request_set(&req.base_url, url);
	lm_request_set(&req.model, "bench-model");
	lm_request_add_message(&req, "user", "Does sugar make children hyperactive?");
	req.max_tokens = 8;
	req.concurrency = inflight;
	req.retry.max_retries = 0;
	lm_engine_set_default_concurrency(e, inflight);
	u0 = cpu_seconds(&s0);
	t0 = now();
	for (i = 0; i < n; i++)
		lm_submit(e, &req, fan_done, &f);
	rc = lm_run(e, &err);
	t1 = now();
	u1 = cpu_seconds(&s1);
	lm_request_release(&req);
	lm_engine_free(e);
	if (rc) {
		fprintf(stderr, "weft_bench: %s\n", err.msg);
		return 1;
	}
	printf("{\"requests\": %ld, \"ok\": %ld, \"failed\": %ld, \"seconds\": %.6f, "
	       "\"cpu_seconds\": %.6f, \"user_seconds\": %.6f, \"sys_seconds\": %.6f, "
	       "\"peak_kib\": %ld}\n",
	       n, f.ok, f.failed, t1 - t0, u1 - u0 + s1 - s0, u1 - u0, s1 - s0, peak_kib());
	if (f.failed)
		fprintf(stderr, "weft_bench: first failure: %s\n", f.first_error);
	return f.failed != 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "load"))
		return do_load(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "save"))
		return do_save(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "fanout"))
		return do_fanout(argv[2], strtol(argv[3], NULL, 10), atoi(argv[4]));
	fputs("usage: weft_bench load FILE | save FILE OUT | fanout URL N INFLIGHT\n", stderr);
	return 2;
}

/*
 * weft ping [ROLE]: one tiny request per configured role (all at once),
 * printing model, endpoint, latency, and whether the server honoured n and
 * returned logprobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/cli.h"
#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"
#include "weft/safetext.h"

struct ping {
	const struct config_role *role;
	struct timespec start;
	double ms;
	int done, failed, n_ok, logprobs_ok;
	size_t nchoices;
	struct errbuf err;
};

/* Text from configuration or servers, made safe (safetext.h), so nothing
 * printed can drive the terminal. */
static void on_ping(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct ping *p = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	p->ms = (double)(now.tv_sec - p->start.tv_sec) * 1e3 +
		(double)(now.tv_nsec - p->start.tv_nsec) / 1e6;
	p->done = 1;
	if (err) {
		p->failed = 1;
		p->err = *err;
		return;
	}
	p->nchoices = resp->nchoices;
	p->n_ok = resp->nchoices >= 2 && !resp->n_fallback;
	p->logprobs_ok =
	    resp->nchoices > 0 && resp->choices[0].has_logprobs && resp->choices[0].ntokens > 0;
}

static const char ping_usage[] =
    "usage: weft ping [--config FILE] [--set ROLE.KEY=VALUE]... [ROLE]\n"
    "\n"
    "Sends one tiny request (n = 2, logprobs) to each configured role, or to\n"
    "ROLE (generator, judge, scorer.NAME), and prints the model, endpoint,\n"
    "latency, and whether the server honours n and returns logprobs.  Roles\n"
    "the loom needs (generator, judge) that are not configured are named.\n";

int cmd_ping(int argc, char **argv)
{
	struct config cfg;
	struct errbuf err;
	const char *path = NULL, *only = NULL;
	struct ping *pings;
	struct lm_engine *e;
	struct strbuf config_file = STRBUF_INIT;
	size_t i, np = 0;
	int i_arg, failed = 0;

	config_init(&cfg);
	for (i_arg = 1; i_arg < argc; i_arg++) {
		const char *a = argv[i_arg];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(ping_usage, stdout);
			config_release(&cfg);
			return 0;
		}
		if ((!strcmp(a, "--config") || !strcmp(a, "--set")) && i_arg + 1 >= argc) {
			config_release(&cfg);
			return cli_unknown_option("ping", ping_usage, a, 1);
		}
		if (!strcmp(a, "--config")) {
			path = argv[++i_arg];
		} else if (!strcmp(a, "--set")) {
			i_arg++; /* applied after the file and environment, below */
		} else if (a[0] == '-') {
			config_release(&cfg);
			return cli_unknown_option("ping", ping_usage, a, 0);
		} else if (!only) {
			only = a;
		} else {
			fputs(ping_usage, stderr);
			config_release(&cfg);
			return 2;
		}
	}
	if (config_load(&cfg, path, &err) < 0) {
		fputs("weft ping: ", stderr);
		safetext_fputs(err.msg, stderr);
		fputc('\n', stderr);
		config_release(&cfg);
		return 2;
	}
	for (i_arg = 1; i_arg < argc; i_arg++)
		if (!strcmp(argv[i_arg], "--config")) {
			i_arg++;
		} else if (!strcmp(argv[i_arg], "--set")) {
			if (config_set(&cfg, argv[++i_arg], &err) < 0) {
				fputs("weft ping: ", stderr);
				safetext_fputs(err.msg, stderr);
				fputc('\n', stderr);
				config_release(&cfg);
				return 2;
			}
		}
	if (only && !config_role(&cfg, only)) {
		fputs("weft ping: no role '", stderr);
		safetext_fputs(only, stderr);
		fputs("' in the configuration\n", stderr);
		config_release(&cfg);
		return 1;
	}

	pings = xcalloc(cfg.nroles, sizeof(*pings));
	e = lm_engine_new();
	config_hide_keys(&cfg, e);
	for (i = 0; i < cfg.nroles; i++) {
		const struct config_role *r = &cfg.roles[i];
		struct lm_request req;

		if (only ? strcmp(r->name, only) != 0 : !config_role_configured(r))
			continue;
		if (!config_role_configured(r)) {
			fputs("weft ping: role ", stderr);
			safetext_fputs(r->name, stderr);
			fputs(" has no model (set model in its section, or WEFT_<ROLE>_MODEL)\n",
			      stderr);
			failed = 1;
			continue;
		}
		lm_request_init(&req);
		config_role_request(r, &req);
		req.n = 2;
		/* a server that refuses n = 2 (400: llama-server's slots) is
		 * asked once per choice, as steering does, and shows "n: no" */
		req.n_mode = LM_N_AUTO;
		req.max_tokens = 4;
		req.temperature = 1.0;
		req.logprobs = 1;
		req.top_logprobs = 2;
		if (req.timeout_ms > 30000)
			req.timeout_ms = 30000;
		req.retry.max_retries = 1;
		if (r->endpoint == LM_CHAT)
			lm_request_add_message(&req, "user", "Reply with the word OK.");
		else
			lm_request_set(&req.prompt, "The capital of France is");
		pings[np].role = r;
		clock_gettime(CLOCK_MONOTONIC, &pings[np].start);
		lm_submit(e, &req, on_ping, &pings[np]);
		np++;
		lm_request_release(&req);
	}
	cli_config_path(path, &config_file);
	if (np == 0 && !failed) {
		fputs("weft ping: no model is configured; put a [generator] section with\n"
		      "base_url and model in ",
		      stderr);
		safetext_fputs(config_file.data, stderr);
		fputs(", or set WEFT_GENERATOR_MODEL\n"
		      "(see README, Configuration)\n",
		      stderr);
		failed = 1;
	}
	if (np && lm_run(e, &err) < 0) {
		fputs("weft ping: ", stderr);
		safetext_fputs(err.msg, stderr);
		fputc('\n', stderr);
		failed = 1;
	}
	for (i = 0; i < np; i++) {
		struct ping *p = &pings[i];

		safetext_fputs(p->role->name, stdout);
		fputs("  ", stdout);
		safetext_fputs(p->role->model, stdout);
		fputs("  ", stdout);
		safetext_fputs(config_role_base_url(p->role), stdout);
		if (p->failed) {
			fputs("  unreachable or failed: ", stdout);
			safetext_fputs(p->err.msg, stdout);
			fputc('\n', stdout);
			failed = 1;
			continue;
		}
		printf("  %.0f ms  n: %s  logprobs: %s\n", p->ms,
		       p->n_ok ? "yes" : "no (weft fans out)", p->logprobs_ok ? "yes" : "no");
	}
	/* A role the loom needs and nobody configured: ping itself succeeds,
	 * but the person learns now, not at the first g. */
	for (i = 0; !only && np && i < 2; i++) {
		static const char *const needed[] = {"generator", "judge"};
		static const char *const vars[] = {"WEFT_GENERATOR_MODEL", "WEFT_JUDGE_MODEL"};
		const struct config_role *r = config_role(&cfg, needed[i]);

		if (r && config_role_configured(r))
			continue;
		printf("%s: not configured (the loom and generate need one)\n", needed[i]);
		fprintf(stdout, "  set [%s] model in ", needed[i]);
		safetext_fputs(config_file.data, stdout);
		fprintf(stdout, ", or %s\n", vars[i]);
	}
	strbuf_release(&config_file);
	lm_engine_free(e);
	free(pings);
	config_release(&cfg);
	return failed ? 1 : 0;
}

/*
 * weft ping [ROLE]: one tiny request per configured role (all at once),
 * printing model, endpoint, latency, and whether the server honoured n and
 * returned logprobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clicommon.h"
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
    "ROLE (generator, judge, verifier, embedder, scorer.NAME), and prints the model,\n"
    "endpoint, latency, and whether the server honours n and returns logprobs.\n"
    "Roles the loom needs (generator, judge) that are not configured are named.\n";

struct ping_options {
	const char *config_path, *only; /* only: the one role to ping, or NULL */
	char **sets;			/* the --set flags, owned (the strings borrowed) */
	size_t nsets;
};

static void ping_options_init(struct ping_options *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
}

/* Returns -1 when the options are good, else the exit status. */
static int ping_parse(struct ping_options *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(ping_usage, stdout);
			return 0;
		}
		if ((!strcmp(a, "--config") || !strcmp(a, "--set")) && i + 1 >= argc)
			return cli_unknown_option("ping", ping_usage, a, 1);
		if (!strcmp(a, "--config")) {
			o->config_path = argv[++i];
		} else if (!strcmp(a, "--set")) {
			/* applied after the file and environment */
			o->sets[o->nsets++] = argv[++i];
		} else if (a[0] == '-') {
			return cli_unknown_option("ping", ping_usage, a, 0);
		} else if (!o->only) {
			o->only = a;
		} else {
			fputs(ping_usage, stderr);
			return 2;
		}
	}
	return -1;
}

/* Sends role r its tiny request, answered into p. */
static void ping_submit(struct lm_engine *e, const struct config_role *r, struct ping *p)
{
	struct lm_request req;

	lm_request_init(&req);
	config_role_request(r, &req);
	req.n = 2;
	/* a server that refuses n = 2 (400: llama-server's slots) is asked
	 * once per choice, as steering does, and shows "n: no" */
	req.n_mode = LM_N_AUTO;
	req.max_tokens = 4;
	req.temperature = 1.0;
	req.logprobs = 1;
	req.top_logprobs = 2;
	if (req.timeout_ms > 30000)
		req.timeout_ms = 30000;
	req.retry.max_retries = 1;
	if (r->endpoint == LM_EMBEDDINGS) {
		/* an embedder is asked for one vector: n means nothing to it */
		req.n = 1;
		lm_request_add_input(&req, "ping");
	} else if (r->endpoint == LM_CHAT)
		lm_request_add_message(&req, "user", "Reply with the word OK.");
	else
		lm_request_set(&req.prompt, "The capital of France is");
	p->role = r;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	lm_submit(e, &req, on_ping, p);
	lm_request_release(&req);
}

/* Submits a request per role pinged into pings; a role named that has no
 * model is said and sets *failed.  Returns how many were sent. */
static size_t ping_roles(struct lm_engine *e, const struct config *cfg, const char *only,
			 struct ping *pings, int *failed)
{
	size_t i, np = 0;

	for (i = 0; i < cfg->nroles; i++) {
		const struct config_role *r = &cfg->roles[i];

		if (only ? strcmp(r->name, only) != 0 : !config_role_configured(r))
			continue;
		if (!config_role_configured(r)) {
			fputs("weft ping: role ", stderr);
			safetext_fputs(r->name, stderr);
			fputs(" has no model (set model in its section, or WEFT_<ROLE>_MODEL)\n",
			      stderr);
			*failed = 1;
			continue;
		}
		ping_submit(e, r, &pings[np++]);
	}
	return np;
}

/* One line per role pinged; 1 when any failed. */
static int ping_print(const struct ping *pings, size_t np)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < np; i++) {
		const struct ping *p = &pings[i];

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
		if (p->role->endpoint == LM_EMBEDDINGS) {
			printf("  %.0f ms  embeddings: yes\n", p->ms);
			continue;
		}
		printf("  %.0f ms  n: %s  logprobs: %s\n", p->ms,
		       p->n_ok ? "yes" : "no (weft fans out)", p->logprobs_ok ? "yes" : "no");
	}
	return failed;
}

/* A role the loom needs and nobody configured: ping itself succeeds, but
 * the person learns now, not at the first g. */
static void ping_missing_roles(struct config *cfg, const char *config_file)
{
	static const char *const needed[] = {"generator", "judge"};
	static const char *const vars[] = {"WEFT_GENERATOR_MODEL", "WEFT_JUDGE_MODEL"};
	size_t i;

	for (i = 0; i < 2; i++) {
		const struct config_role *r = config_role(cfg, needed[i]);

		if (r && config_role_configured(r))
			continue;
		printf("%s: not configured (the loom and generate need one)\n", needed[i]);
		fprintf(stdout, "  set [%s] model in ", needed[i]);
		safetext_fputs(config_file, stdout);
		fprintf(stdout, ", or %s\n", vars[i]);
	}
}

/* Pings the roles of cfg; returns the exit status. */
static int ping_run_config(struct config *cfg, const struct ping_options *o)
{
	struct ping *pings = xcalloc(cfg->nroles, sizeof(*pings));
	struct lm_engine *e = cli_start_engine(cfg);
	struct strbuf config_file = STRBUF_INIT;
	struct errbuf err;
	int failed = 0;
	size_t np = ping_roles(e, cfg, o->only, pings, &failed);

	cli_config_path(o->config_path, &config_file);
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
	if (np && lm_run(e, &err) < 0)
		failed = cli_error("ping", err.msg);
	if (ping_print(pings, np))
		failed = 1;
	if (!o->only && np)
		ping_missing_roles(cfg, config_file.data);
	strbuf_release(&config_file);
	lm_engine_free(e);
	free(pings);
	return failed ? 1 : 0;
}

static int ping_run(const struct ping_options *o)
{
	struct config cfg;
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 0};
	int r;

	config_init(&cfg);
	r = cli_load_config("ping", &cfg, &ca);
	if (!r && o->only && !config_role(&cfg, o->only)) {
		fputs("weft ping: no role '", stderr);
		safetext_fputs(o->only, stderr);
		fputs("' in the configuration\n", stderr);
		r = 1;
	}
	if (!r)
		r = ping_run_config(&cfg, o);
	config_release(&cfg);
	return r;
}

int cmd_ping(int argc, char **argv)
{
	struct ping_options o;
	int r;

	ping_options_init(&o, argc);
	r = ping_parse(&o, argc, argv);
	if (r < 0)
		r = ping_run(&o);
	free(o.sets);
	return r;
}

#include "weft/verify.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "weft/config.h"
#include "weft/lm.h"
#include "weft/task.h"
#include "weft/xalloc.h"

const char *verify_source_name(enum verify_source s)
{
	return s == VERIFY_SOURCE_LOGPROBS ? "logprobs" : "answer";
}

int verify_source_parse(const char *s, enum verify_source *out)
{
	if (!strcmp(s, "logprobs"))
		*out = VERIFY_SOURCE_LOGPROBS;
	else if (!strcmp(s, "answer"))
		*out = VERIFY_SOURCE_ANSWER;
	else
		return -1;
	return 0;
}

int verify_prompt(const char *tmpl, const char *description, const struct verify_pair *pair,
		  struct strbuf *out, struct errbuf *err)
{
	static const char *const keys[] = {"question", "answer", "label", "description"};
	const char *values[4];
	size_t size = 0;

	values[0] = pair->question;
	values[1] = pair->answer;
	values[2] = pair->label;
	values[3] = description ? description : "";
	/* template_render copies values as bytes: a pair's braces or percent
	 * signs are text, never a place or a format */
	if (template_render(tmpl, keys, values, 4, TASK_PROMPT_MAX, out, &size) < 0)
		return errbuf_set(
		    err,
		    "the verify prompt is %zu bytes, more than the %u bytes (4 MiB) a "
		    "prompt may have",
		    size, TASK_PROMPT_MAX);
	return 0;
}

/* 1 for a yes token, 0 for a no token, -1 for anything else: case and
 * surrounding spaces ignored. */
static int yes_no_token(const char *tok)
{
	size_t len;

	while (isspace((unsigned char)*tok))
		tok++;
	len = strlen(tok);
	while (len && isspace((unsigned char)tok[len - 1]))
		len--;
	if (len == 3 && !strncasecmp(tok, "yes", 3))
		return 1;
	if (len == 2 && !strncasecmp(tok, "no", 2))
		return 0;
	return -1;
}

/* log(exp(a) + exp(b)), with -INFINITY as nothing yet. */
static double log_add(double a, double b)
{
	double hi = a > b ? a : b, lo = a > b ? b : a;

	if (hi == -INFINITY)
		return lo;
	return hi + log1p(exp(lo - hi));
}

/* Whether the token itself is also among its alternatives (servers
 * usually list it): then it is counted once. */
static int listed(const struct lm_token *t)
{
	size_t i;

	for (i = 0; i < t->ntop; i++)
		if (t->top[i].token && !strcmp(t->top[i].token, t->token))
			return 1;
	return 0;
}

int verify_p_from_logprobs(const struct lm_choice *c, double *p)
{
	const struct lm_token *t;
	double sum[2] = {-INFINITY, -INFINITY}, lowest = INFINITY;
	size_t i;

	if (!c->has_logprobs || !c->ntokens || !c->tokens[0].ntop)
		return 0;
	t = &c->tokens[0];
	for (i = 0; i <= t->ntop; i++) {
		const char *tok = i < t->ntop ? t->top[i].token : t->token;
		double l = i < t->ntop ? t->top[i].logprob : t->logprob;
		int yn;

		if (!tok || isnan(l) || (i == t->ntop && listed(t)))
			continue;
		if (l < lowest)
			lowest = l;
		yn = yes_no_token(tok);
		if (yn >= 0)
			sum[yn] = log_add(sum[yn], l);
	}
	if (sum[0] == -INFINITY && sum[1] == -INFINITY)
		return 0;
	/* a word not listed is less likely than anything listed: half the
	 * least, as evalrun_top_logprob's floor */
	for (i = 0; i < 2; i++)
		if (sum[i] == -INFINITY)
			sum[i] = lowest - log(2.0);
	*p = 1.0 / (1.0 + exp(sum[0] - sum[1]));
	return 1;
}

int verify_p_from_text(const char *text, double *p)
{
	size_t len = 0;

	while (*text && !isalnum((unsigned char)*text))
		text++;
	while (isalpha((unsigned char)text[len]))
		len++;
	if (len == 3 && !strncasecmp(text, "yes", 3))
		*p = 1.0;
	else if (len == 2 && !strncasecmp(text, "no", 2))
		*p = 0.0;
	else
		return -1;
	return 0;
}

int verify_read_choice(const struct lm_choice *c, struct verify_verdict *v, struct errbuf *err)
{
	const char *text = c->text ? c->text : "";

	if (verify_p_from_logprobs(c, &v->p)) {
		v->source = VERIFY_SOURCE_LOGPROBS;
		return 0;
	}
	if (verify_p_from_text(text, &v->p) == 0) {
		v->source = VERIFY_SOURCE_ANSWER;
		return 0;
	}
	return errbuf_set(err, "the verifier answered neither Yes nor No: '%.60s'", text);
}

/* ---- the run ---------------------------------------------------------- */

struct verify_job {
	struct verify_run *run;
	size_t index;
	uint64_t id;
	int done;
};

struct verify_run {
	struct lm_engine *engine;
	struct verify_job *jobs; /* owned, count of them */
	size_t count, pending;
	verify_done_cb *cb;
	void *ctx;
};

static void on_reply(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct verify_job *job = ctx;
	struct verify_run *run = job->run;
	struct verify_verdict v;
	struct errbuf bad;

	job->done = 1;
	run->pending--;
	if (err) {
		run->cb(run->ctx, job->index, NULL, err);
		return;
	}
	if (!resp->nchoices) {
		errbuf_set(&bad, "the verifier's reply has no answer");
		run->cb(run->ctx, job->index, NULL, &bad);
		return;
	}
	if (verify_read_choice(&resp->choices[0], &v, &bad) < 0)
		run->cb(run->ctx, job->index, NULL, &bad);
	else
		run->cb(run->ctx, job->index, &v, NULL);
}

/* The request for one rendered prompt, as role asks. */
static void build_request(const struct config_role *role, const char *prompt,
			  struct lm_request *req)
{
	config_role_request(role, req);
	req->n = 1;
	req->n_mode = LM_N_NATIVE;
	req->logprobs = 1;
	req->top_logprobs = VERIFY_TOP_LOGPROBS;
	if (req->max_tokens <= 0)
		req->max_tokens = CONFIG_VERIFIER_MAX_TOKENS;
	if (role->endpoint == LM_CHAT)
		lm_request_add_message(req, "user", prompt);
	else
		lm_request_set(&req->prompt, prompt);
}

int verify_request(const struct config_role *role, const char *tmpl, const char *description,
		   const struct verify_pair *pair, struct lm_request *req, struct errbuf *err)
{
	struct strbuf prompt = STRBUF_INIT;
	int rc = verify_prompt(tmpl, description, pair, &prompt, err);

	if (!rc)
		build_request(role, prompt.data, req);
	strbuf_release(&prompt);
	return rc;
}

struct verify_run *verify_start(struct lm_engine *e, const struct config_role *role,
				const char *tmpl, const char *description,
				const struct verify_pair *pairs, size_t count, verify_done_cb *cb,
				void *ctx, struct errbuf *err)
{
	struct strbuf *prompts = xcalloc(count ? count : 1, sizeof(*prompts));
	struct verify_run *run = NULL;
	size_t i;

	for (i = 0; i < count; i++) {
		strbuf_init(&prompts[i]);
		if (verify_prompt(tmpl, description, &pairs[i], &prompts[i], err) < 0) {
			errbuf_prefix(err, "pair %zu", i + 1);
			count = i + 1;
			goto out;
		}
	}
	run = xcalloc(1, sizeof(*run));
	run->engine = e;
	run->jobs = xcalloc(count ? count : 1, sizeof(*run->jobs));
	run->count = run->pending = count;
	run->cb = cb;
	run->ctx = ctx;
	for (i = 0; i < count; i++) {
		struct lm_request req;

		lm_request_init(&req);
		build_request(role, prompts[i].data, &req);
		run->jobs[i].run = run;
		run->jobs[i].index = i;
		run->jobs[i].id = lm_submit(e, &req, on_reply, &run->jobs[i]);
		lm_request_release(&req);
	}
out:
	for (i = 0; i < count; i++)
		strbuf_release(&prompts[i]);
	free(prompts);
	return run;
}

size_t verify_pending(const struct verify_run *r)
{
	return r ? r->pending : 0;
}

void verify_run_free(struct verify_run *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++)
		if (!r->jobs[i].done)
			lm_cancel(r->engine, r->jobs[i].id);
	free(r->jobs);
	free(r);
}

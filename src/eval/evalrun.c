#include "weft/evalrun.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/atomicfile.h"
#include "weft/display.h"
#include "weft/plot.h"
#include "weft/task.h"
#include "weft/xalloc.h"

struct job {
	struct evalrun *run;
	size_t model;
	size_t unit; /* example * nslots + slot */
	uint64_t id;
	int probe; /* 0 normal, 1 probe, 2 top-logprobs probe */
};

struct evalrun {
	struct lm_engine *engine;
	const struct evalset *set;
	struct evalrun_options opts;
	char *prompt_tmpl;
	struct evalrun_model *models;
	size_t nmodels, models_cap;
	struct job **jobs; /* in flight */
	size_t njobs, jobs_cap;
	evalrun_progress_cb *cb;
	void *cb_ctx;
	int started, cancelled;
	size_t done_units;
	size_t stride; /* the largest slot count of any example */
};

void evalrun_options_init(struct evalrun_options *o)
{
	memset(o, 0, sizeof(*o));
	o->method = EVALRUN_GENERATE;
	o->rules = SCORE_STRICT;
}

const char *evalrun_method_name(enum evalrun_method m)
{
	return m == EVALRUN_LOGPROB ? "logprob" : "generate";
}

const char *evalrun_way_name(enum evalrun_way w)
{
	return w == EVALRUN_WAY_ECHO ? "echo" : w == EVALRUN_WAY_TOP ? "top_logprobs" : "none";
}

/* ---- pure parts ---------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int evalrun_echo_logprob(const struct lm_choice *c, const char *prompt, const char *cls, double *lp,
			 struct errbuf *err)
{
	size_t plen = strlen(prompt), clen = strlen(cls), pos = 0, i, start = (size_t)-1;
	long chars = (long)utf8_chars(prompt);
	double sum = 0;

	if (!c->has_logprobs || !c->ntokens)
		return 1;
	/* the tokens must spell prompt + cls */
	for (i = 0; i < c->ntokens && pos < plen + clen; i++) {
		const char *t = c->tokens[i].token ? c->tokens[i].token : "";
		size_t tl = strlen(t), k;

		for (k = 0; k < tl && pos < plen + clen; k++, pos++) {
			char want = pos < plen ? prompt[pos] : cls[pos - plen];

			if (t[k] != want)
				return 1;
		}
	}
	if (pos < plen + clen)
		return 1;
	for (i = 0; i < c->ntokens; i++)
		if (c->tokens[i].offset == chars) {
			start = i;
			break;
		}
	if (start == (size_t)-1)
		for (i = 0; i < c->ntokens; i++)
			if (c->tokens[i].offset == (long)plen) {
				start = i;
				break;
			}
	if (start == (size_t)-1) {
		pos = 0;
		for (i = 0; i < c->ntokens; i++) {
			if (pos == plen) {
				start = i;
				break;
			}
			pos += strlen(c->tokens[i].token ? c->tokens[i].token : "");
		}
	}
	if (start == (size_t)-1)
		return errbuf_set(
		    err, "class '%.60s' does not start on a token boundary after the prompt", cls);
	for (i = start; i < c->ntokens; i++) {
		if (isnan(c->tokens[i].logprob))
			return errbuf_set(err, "no logprob for echoed token %zu", i);
		sum += c->tokens[i].logprob;
	}
	*lp = sum;
	return 0;
}

int evalrun_top_logprob(const struct lm_choice *c, const char *cls, double *lp)
{
	const struct lm_token *t;
	size_t i, best_len = 0;
	double lowest = INFINITY, best = 0;
	int found = 0;

	if (!c->has_logprobs || !c->ntokens)
		return -1;
	t = &c->tokens[0];
	if (!t->ntop && !t->token)
		return -1;
	for (i = 0; i <= t->ntop; i++) {
		const char *tok = i < t->ntop ? t->top[i].token : t->token;
		double l = i < t->ntop ? t->top[i].logprob : t->logprob;
		size_t tl;

		if (!tok || isnan(l))
			continue;
		if (l < lowest)
			lowest = l;
		tl = strlen(tok);
		if (!strcmp(tok, cls)) {
			*lp = l;
			return 1;
		}
		if (tl > best_len && !strncmp(cls, tok, tl)) {
			best_len = tl;
			best = l;
			found = 1;
		}
	}
	if (found) {
		*lp = best;
		return 1;
	}
	if (lowest == INFINITY)
		return -1;
	*lp = lowest - log(2.0);
	return 0;
}

static int is_yes_no(const char *s)
{
	while (*s == ' ')
		s++;
	return !strncasecmp(s, "yes", 3)  ? !s[3 + strspn(s + 3, " ")]
	       : !strncasecmp(s, "no", 2) ? !s[2 + strspn(s + 2, " ")]
					  : 0;
}

static int is_letter(const char *s)
{
	while (*s == ' ')
		s++;
	if (*s == '(')
		return isupper((unsigned char)s[1]) && s[2] == ')' && !s[3 + strspn(s + 3, " ")];
	return isupper((unsigned char)s[0]) && !s[1 + strspn(s + 1, " ")];
}

enum score_type evalrun_score_type(const char *const *classes, size_t n)
{
	size_t i, yn = 0, letters = 0;

	for (i = 0; i < n; i++) {
		yn += (size_t)is_yes_no(classes[i]);
		letters += (size_t)is_letter(classes[i]);
	}
	if (n && yn == n)
		return SCORE_BOOLEAN;
	if (n && letters == n)
		return SCORE_CHOICE;
	return SCORE_TEXT;
}

static char *trimmed(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* ---- the run --------------------------------------------------------------- */

static size_t nslots(const struct evalrun *run, const struct evalrun_model *m,
		     const struct evalset_example *e)
{
	size_t prompts = run->set->logodds ? 2 : 1;

	if (run->opts.method == EVALRUN_GENERATE)
		return 1;
	if (m->way == EVALRUN_WAY_TOP)
		return prompts;
	return prompts * e->nclasses;
}

/* The largest slot count of any example (the stride of lps). */
static size_t stride(const struct evalrun *run)
{
	return run->stride;
}

static size_t compute_stride(const struct evalset *set)
{
	size_t i, mx = 1;

	for (i = 0; i < set->n; i++) {
		size_t k = set->items[i].nclasses * 2;

		if (k > mx)
			mx = k;
	}
	return mx;
}

struct evalrun *evalrun_new(struct lm_engine *e, const struct evalset *set,
			    const struct evalrun_options *o, struct errbuf *err)
{
	struct evalrun *run;
	size_t i;

	if (o->method == EVALRUN_LOGPROB && set->logodds)
		for (i = 0; i < set->n; i++)
			if (set->items[i].nclasses != 2 || !set->items[i].other_prompt) {
				errbuf_set(err,
					   "row %zu: logodds needs two classes and an other_prompt",
					   i);
				return NULL;
			}
	if (o->method == EVALRUN_GENERATE) {
		/* every prompt fits before any is built (TASK_PROMPT_MAX) */
		const char *tmpl = o->eval_prompt ? o->eval_prompt : EVALRUN_DEFAULT_PROMPT;
		const char *keys[] = {"question"};
		struct strbuf none = STRBUF_INIT;
		size_t size;

		for (i = 0; i < set->n; i++) {
			const char *vals[] = {set->items[i].question};

			if (template_render(tmpl, keys, vals, 1, TASK_PROMPT_MAX, &none, &size) ==
			    0) {
				strbuf_reset(&none);
				continue;
			}
			errbuf_set(
			    err,
			    "%s: the prompt for row %zu is %zu bytes, more than the %u bytes "
			    "(4 MiB) a prompt may have",
			    o->eval_prompt_name ? o->eval_prompt_name : "the eval prompt", i, size,
			    TASK_PROMPT_MAX);
			strbuf_release(&none);
			return NULL;
		}
		strbuf_release(&none);
	}
	run = xcalloc(1, sizeof(*run));
	run->engine = e;
	run->set = set;
	run->stride = compute_stride(set);
	run->opts = *o;
	run->prompt_tmpl = xstrdup(o->eval_prompt ? o->eval_prompt : EVALRUN_DEFAULT_PROMPT);
	run->opts.eval_prompt = run->prompt_tmpl;
	if (run->opts.max_tokens <= 0)
		run->opts.max_tokens = EVALRUN_DEFAULT_MAX_TOKENS;
	return run;
}

static void job_forget(struct evalrun *run, struct job *j)
{
	size_t i;

	for (i = 0; i < run->njobs; i++)
		if (run->jobs[i] == j) {
			run->jobs[i] = run->jobs[--run->njobs];
			break;
		}
	free(j);
}

void evalrun_cancel(struct evalrun *run)
{
	size_t i;

	for (i = 0; i < run->njobs; i++) {
		lm_cancel(run->engine, run->jobs[i]->id);
		run->models[run->jobs[i]->model].inflight--;
		free(run->jobs[i]);
	}
	run->njobs = 0;
	run->cancelled = 1;
}

void evalrun_free(struct evalrun *run)
{
	size_t i, k;

	if (!run)
		return;
	evalrun_cancel(run);
	free(run->jobs);
	for (i = 0; i < run->nmodels; i++) {
		struct evalrun_model *m = &run->models[i];

		for (k = 0; k < run->set->n; k++) {
			free(m->results[k].raw);
			free(m->results[k].parsed);
		}
		free(m->results);
		free(m->lps);
		free(m->left);
		free(m->name);
		free(m->model);
		free(m->base_url);
		free(m->family);
		free(m->error);
		lm_request_release(&m->req);
	}
	free(run->models);
	free(run->prompt_tmpl);
	free(run);
}

void evalrun_add_model(struct evalrun *run, const char *name, const struct config_role *role,
		       double size, const char *family)
{
	struct evalrun_model *m;

	XGROW(run->models, run->models_cap, run->nmodels + 1);
	m = &run->models[run->nmodels++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->model = xstrdup(role->model ? role->model : "");
	m->base_url = xstrdup(config_role_base_url(role));
	m->size = size;
	m->family = xstrdup_or_null(family);
	m->results = xcalloc(run->set->n ? run->set->n : 1, sizeof(*m->results));
	m->lps = xcalloc((run->set->n ? run->set->n : 1) * stride(run), sizeof(*m->lps));
	m->left = xcalloc(run->set->n ? run->set->n : 1, sizeof(*m->left));
	lm_request_init(&m->req);
	config_role_request(role, &m->req);
	lm_request_set(&m->req.role, "eval");
	m->req.n = 1;
	m->req.n_mode = LM_N_NATIVE;
	if (run->opts.concurrency > 0)
		m->req.concurrency = run->opts.concurrency;
	else if (m->req.concurrency <= 0)
		m->req.concurrency = 8;
	{
		/* one concurrency group per model */
		struct strbuf g = STRBUF_INIT;

		strbuf_addf(&g, "eval:%s", name);
		lm_request_set(&m->req.role, g.data);
		strbuf_release(&g);
	}
}

size_t evalrun_add_configured(struct evalrun *run, const struct config *c,
			      const struct model_sizes *sizes)
{
	size_t i, n = 0;

	for (i = 0; i < c->nroles; i++) {
		const struct config_role *r = &c->roles[i];
		const struct model_size *ms = NULL;
		double size = r->size;
		const char *family = r->family;

		if (strncmp(r->name, "scorer.", 7) || !config_role_configured(r))
			continue;
		if (sizes && !(size > 0)) {
			ms = model_sizes_find(sizes, r->name + 7);
			if (!ms && r->model)
				ms = model_sizes_find(sizes, r->model);
			if (ms) {
				size = ms->size;
				family = ms->family;
			}
		}
		evalrun_add_model(run, r->name + 7, r, size, family);
		n++;
	}
	return n;
}

void evalrun_set_progress(struct evalrun *run, evalrun_progress_cb *cb, void *ctx)
{
	run->cb = cb;
	run->cb_ctx = ctx;
}

static void on_reply(void *ctx, const struct lm_response *resp, const struct errbuf *err);

/* Fills req for unit u of model m; probe 2 = top-logprobs way. */
static void build_request(struct evalrun *run, struct evalrun_model *m, size_t ex, size_t slot,
			  enum evalrun_way way, struct lm_request *req)
{
	const struct evalset_example *e = &run->set->items[ex];

	lm_request_copy(req, &m->req);
	if (run->opts.method == EVALRUN_GENERATE) {
		struct strbuf p = STRBUF_INIT;
		const char *keys[] = {"question"};
		const char *vals[] = {e->question};

		template_render(run->prompt_tmpl, keys, vals, 1, SIZE_MAX, &p, NULL); /* fits */
		req->temperature = 0;
		req->max_tokens = run->opts.max_tokens;
		if (req->kind == LM_CHAT)
			lm_request_add_message(req, "user", p.data);
		else
			lm_request_set(&req->prompt, p.data);
		strbuf_release(&p);
		return;
	}
	req->kind = LM_COMPLETIONS;
	req->temperature = 0;
	req->logprobs = 1;
	if (way == EVALRUN_WAY_TOP) {
		const char *prompt = slot == 0 ? e->prompt : e->other_prompt;

		req->max_tokens = 1;
		req->top_logprobs = EVALRUN_TOP_K;
		lm_request_set(&req->prompt, prompt);
	} else {
		size_t c = slot % e->nclasses;
		const char *prompt = slot < e->nclasses ? e->prompt : e->other_prompt;
		struct strbuf p = STRBUF_INIT;

		strbuf_addstr(&p, prompt);
		strbuf_addstr(&p, e->classes[c]);
		req->max_tokens = 0;
		req->top_logprobs = 1;
		req->echo = 1;
		lm_request_set(&req->prompt, p.data);
		strbuf_release(&p);
	}
}

static void submit(struct evalrun *run, size_t mi, size_t ex, size_t slot, int probe)
{
	struct evalrun_model *m = &run->models[mi];
	struct lm_request req;
	struct job *j = xcalloc(1, sizeof(*j));

	build_request(run, m, ex, slot, probe == 2 ? EVALRUN_WAY_TOP : m->way, &req);
	j->run = run;
	j->model = mi;
	j->unit = ex * stride(run) + slot;
	j->probe = probe;
	XGROW(run->jobs, run->jobs_cap, run->njobs + 1);
	run->jobs[run->njobs++] = j;
	m->inflight++;
	j->id = lm_submit(run->engine, &req, on_reply, j);
	lm_request_release(&req);
}

/* Submits model mi's next jobs up to its window. */
static void pump(struct evalrun *run, size_t mi)
{
	struct evalrun_model *m = &run->models[mi];
	size_t st = stride(run);

	if (run->cancelled || m->fatal || m->probing)
		return;
	while (m->inflight < (size_t)m->req.concurrency && m->next < run->set->n * st) {
		size_t ex = m->next / st, slot = m->next % st;
		const struct evalset_example *e = &run->set->items[ex];

		if (slot >= nslots(run, m, e) || m->results[ex].state) {
			m->next = (ex + 1) * st;
			continue;
		}
		if (slot == 0 && !m->left[ex])
			m->left[ex] = (unsigned)nslots(run, m, e);
		m->next++;
		submit(run, mi, ex, slot, 0);
	}
}

static void notify(struct evalrun *run)
{
	if (run->cb)
		run->cb(run->cb_ctx, run);
}

static void finish_example(struct evalrun *run, struct evalrun_model *m, size_t ex)
{
	const struct evalset_example *e = &run->set->items[ex];
	struct evalrun_result *r = &m->results[ex];
	const double *lp = &m->lps[ex * stride(run)];
	struct errbuf err;

	if (run->set->logodds) {
		double p[2], q[2];
		struct metrics_logodds lo = {0}; /* set by metrics_logodds */

		p[0] = lp[0];
		p[1] = lp[1];
		q[0] = lp[2];
		q[1] = lp[3];
		if (metrics_logodds(p, q, e->answer, 0, &lo, &err) < 0) {
			r->state = 2;
			m->failed++;
			if (!m->error)
				m->error = display_sanitize_dup(err.msg);
			return;
		}
		r->ex.loss = lo.difference;
		r->ex.correct = lo.correct;
		r->ex.predicted = q[1] > q[0] ? 1 : 0;
		r->ex.total_logprob = lo.total_logprob;
	} else if (metrics_classify(lp, e->nclasses, e->answer, &r->ex, &err) < 0) {
		r->state = 2;
		m->failed++;
		if (!m->error)
			m->error = display_sanitize_dup(err.msg);
		return;
	}
	r->state = 1;
	m->done++;
}

static void fail_model(struct evalrun *run, struct evalrun_model *m, const char *msg)
{
	size_t i;

	m->fatal = 1;
	free(m->error);
	m->error = display_sanitize_dup(msg);
	for (i = 0; i < run->set->n; i++)
		if (!m->results[i].state) {
			m->results[i].state = 2;
			m->failed++;
			run->done_units++;
		}
}

/*
 * Errors that will not go away by asking again for another example: the key
 * (401, 403), the model (404), the account's quota.  After the probe they
 * stop the model as a failed probe does (what finished is kept) instead of
 * sending every remaining example to fail the same way.
 */
static int stops_model(const struct lm_response *resp)
{
	return resp->insufficient_quota || resp->http_status == 401 || resp->http_status == 403 ||
	       resp->http_status == 404;
}

/* Cancels model mi's requests in flight (their examples are failed). */
static void cancel_model_jobs(struct evalrun *run, size_t mi)
{
	size_t i = 0;

	while (i < run->njobs) {
		struct job *j = run->jobs[i];

		if (j->model != mi) {
			i++;
			continue;
		}
		lm_cancel(run->engine, j->id);
		run->models[mi].inflight--;
		run->jobs[i] = run->jobs[--run->njobs];
		free(j);
	}
}

static void on_reply(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct job *j = ctx;
	struct evalrun *run = j->run;
	size_t mi = j->model, st = stride(run), ex = j->unit / st, slot = j->unit % st;
	struct evalrun_model *m = &run->models[mi];
	const struct evalset_example *e = &run->set->items[ex];
	struct evalrun_result *r = &m->results[ex];
	int probe = j->probe;
	struct errbuf e2;

	m->inflight--;
	job_forget(run, j);
	if (probe)
		m->probing = 0;
	if (err || !resp->nchoices) {
		const char *msg = err ? err->msg : "the reply has no choices";

		if (probe || (err && stops_model(resp))) {
			fail_model(run, m, msg);
			cancel_model_jobs(run, mi);
			notify(run);
			return;
		}
		if (!r->state) {
			r->state = 2;
			m->failed++;
			run->done_units++;
			if (!m->error)
				m->error = display_sanitize_dup(msg);
			notify(run);
		}
		pump(run, mi);
		return;
	}
	if (r->state) { /* the example already failed */
		pump(run, mi);
		return;
	}
	if (run->opts.method == EVALRUN_GENERATE) {
		struct score_result sr;
		const char *raw = resp->choices[0].text ? resp->choices[0].text : "";
		char *target = trimmed(e->classes[e->answer]);
		enum score_type type =
		    evalrun_score_type((const char *const *)e->classes, e->nclasses);
		int gpt = strstr(m->model, "gpt-3.5-turbo") || strstr(m->model, "gpt-4");

		score_answer(raw, target, type, run->opts.rules, e->question, gpt, &sr);
		r->raw = xstrdup(raw);
		r->parsed = xstrdup(sr.parsed ? sr.parsed : "");
		r->outcome = sr.outcome;
		r->ex.correct = sr.outcome == SCORE_CORRECT;
		r->ex.loss = NAN;
		r->ex.total_logprob = NAN;
		if (sr.outcome == SCORE_UNPARSED)
			m->unparsed++;
		score_result_release(&sr);
		free(target);
		r->state = 1;
		m->done++;
		run->done_units++;
		notify(run);
		pump(run, mi);
		return;
	}
	/* logprob */
	if (probe == 1) {
		double lp;
		int rc =
		    evalrun_echo_logprob(&resp->choices[0], e->prompt, e->classes[0], &lp, &e2);

		if (rc == 1) {
			/* echo ignored: probe the top-logprobs way */
			m->probing = 1;
			submit(run, mi, ex, 0, 2);
			return;
		}
		if (rc < 0) {
			fail_model(run, m, e2.msg);
			notify(run);
			return;
		}
		m->way = EVALRUN_WAY_ECHO;
		m->left[ex] = (unsigned)nslots(run, m, e);
		m->lps[ex * st + 0] = lp;
		m->left[ex]--;
		m->next = 1; /* unit 0 is done */
		pump(run, mi);
		return;
	}
	if (probe == 2) {
		m->way = EVALRUN_WAY_TOP;
		m->left[ex] = (unsigned)nslots(run, m, e);
		m->next = 0;
	}
	if (m->way == EVALRUN_WAY_TOP) {
		size_t c, base = slot * e->nclasses;

		for (c = 0; c < e->nclasses; c++) {
			double lp;
			int rc = evalrun_top_logprob(&resp->choices[0], e->classes[c], &lp);

			if (rc < 0) {
				const char *msg = "no logprobs in the reply: the logprob method "
						  "needs a completions endpoint that returns "
						  "logprobs";
				if (probe) {
					fail_model(run, m, msg);
					notify(run);
					return;
				}
				r->state = 2;
				m->failed++;
				run->done_units++;
				if (!m->error)
					m->error = xstrdup(msg);
				notify(run);
				pump(run, mi);
				return;
			}
			if (rc == 0)
				m->floored++;
			m->lps[ex * st + base + c] = lp;
		}
		if (probe == 2)
			m->next = 1;
	} else {
		double lp;
		size_t c = slot % e->nclasses;
		const char *prompt = slot < e->nclasses ? e->prompt : e->other_prompt;
		int rc = evalrun_echo_logprob(&resp->choices[0], prompt, e->classes[c], &lp, &e2);

		if (rc != 0) {
			if (rc == 1)
				errbuf_set(&e2, "the reply is not an echo of the prompt");
			r->state = 2;
			m->failed++;
			run->done_units++;
			if (!m->error)
				m->error = display_sanitize_dup(e2.msg);
			notify(run);
			pump(run, mi);
			return;
		}
		m->lps[ex * st + slot] = lp;
	}
	if (m->left[ex])
		m->left[ex]--;
	if (!m->left[ex]) {
		finish_example(run, m, ex);
		run->done_units++;
		notify(run);
	}
	pump(run, mi);
}

void evalrun_start(struct evalrun *run)
{
	size_t i;

	if (run->started)
		return;
	run->started = 1;
	for (i = 0; i < run->nmodels; i++) {
		struct evalrun_model *m = &run->models[i];

		if (!run->set->n)
			continue;
		m->probing = 1;
		if (run->opts.method == EVALRUN_LOGPROB) {
			m->way = EVALRUN_WAY_ECHO;
			m->left[0] = (unsigned)nslots(run, m, &run->set->items[0]);
			submit(run, i, 0, 0, 1);
			m->way = EVALRUN_WAY_NONE;
		} else {
			m->left[0] = 1;
			m->next = 1;
			submit(run, i, 0, 0, 1);
		}
	}
}

int evalrun_done(const struct evalrun *run)
{
	return run->cancelled || (run->started && run->njobs == 0);
}

int evalrun_cancelled(const struct evalrun *run)
{
	return run->cancelled;
}

void evalrun_progress(const struct evalrun *run, size_t *done, size_t *total)
{
	*done = run->done_units;
	*total = run->set->n * run->nmodels;
}

size_t evalrun_model_count(const struct evalrun *run)
{
	return run->nmodels;
}

const struct evalrun_model *evalrun_model(const struct evalrun *run, size_t i)
{
	return &run->models[i];
}

const struct evalset *evalrun_set(const struct evalrun *run)
{
	return run->set;
}

const struct evalrun_options *evalrun_opts(const struct evalrun *run)
{
	return &run->opts;
}

void evalrun_model_table(const struct evalrun *run, size_t i, struct metrics_table *t)
{
	const struct evalrun_model *m = &run->models[i];
	size_t k;

	metrics_table_init(t, m->name);
	t->logodds = run->set->logodds && run->opts.method == EVALRUN_LOGPROB;
	for (k = 0; k < run->set->n; k++) {
		const struct evalrun_result *r = &m->results[k];
		const struct evalset_example *e = &run->set->items[k];

		if (r->state != 1)
			continue;
		if (run->opts.method == EVALRUN_GENERATE)
			metrics_table_add(t, e->index, &r->ex, r->parsed);
		else
			metrics_table_add(t, e->index, &r->ex, e->classes[r->ex.predicted]);
	}
}

void evalrun_model_summary(const struct evalrun *run, size_t i, struct metrics_summary *s)
{
	struct metrics_table t;
	unsigned *nc;
	size_t k, n = 0;
	const struct evalrun_model *m = &run->models[i];

	evalrun_model_table(run, i, &t);
	nc = xcalloc(t.n ? t.n : 1, sizeof(*nc));
	for (k = 0; k < run->set->n; k++)
		if (m->results[k].state == 1)
			nc[n++] = (unsigned)run->set->items[k].nclasses;
	metrics_summarize(&t, nc, s);
	free(nc);
	metrics_table_release(&t);
}

/* ---- results ----------------------------------------------------------------- */

static void add_sanitized(struct strbuf *out, const char *s)
{
	display_sanitize(s, strlen(s), out);
}

static void pad(struct strbuf *out, size_t used, size_t width)
{
	while (used++ < width)
		strbuf_addch(out, ' ');
}

void evalrun_format_table(const struct evalrun *run, struct strbuf *out)
{
	size_t i, w = 5;
	int logprob = run->opts.method == EVALRUN_LOGPROB;

	for (i = 0; i < run->nmodels; i++) {
		struct strbuf s = STRBUF_INIT;

		add_sanitized(&s, run->models[i].name);
		if (display_width(s.data, s.len) > w)
			w = display_width(s.data, s.len);
		strbuf_release(&s);
	}
	if (w > 40)
		w = 40;
	strbuf_addstr(out, "model");
	pad(out, 5, w);
	strbuf_addf(out, " %9s %5s %8s %16s %9s %8s %6s%s\n", "size", "n", "accuracy", "95% CI",
		    "mean_loss", "unparsed", "failed", logprob ? "  way" : "");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;
		struct strbuf name = STRBUF_INIT;
		size_t used, cut;
		char size[32] = "-";

		evalrun_model_summary(run, i, &s);
		add_sanitized(&name, m->name);
		cut = display_truncate(name.data, name.len, w, &used);
		strbuf_add(out, name.data, cut);
		pad(out, used, w);
		strbuf_release(&name);
		if (m->size > 0)
			snprintf(size, sizeof(size), "%.3g", m->size);
		strbuf_addf(out, " %9s %5zu %8.3f   [%.3f, %.3f]", size, s.n, s.accuracy, s.acc_low,
			    s.acc_high);
		if (s.n && !isnan(s.mean_loss))
			strbuf_addf(out, " %9.4f", s.mean_loss);
		else
			strbuf_addf(out, " %9s", "-");
		strbuf_addf(out, " %8zu %6zu", m->unparsed, m->failed);
		if (logprob)
			strbuf_addf(out, "  %s", evalrun_way_name(m->way));
		strbuf_addch(out, '\n');
		if (m->floored)
			strbuf_addf(out,
				    "  (%zu class log-probabilities were not among the top %d "
				    "and got the floor value)\n",
				    m->floored, EVALRUN_TOP_K);
		if (m->error) {
			strbuf_addstr(out, "  error: ");
			add_sanitized(out, m->error);
			strbuf_addch(out, '\n');
		}
	}
}

void evalrun_format_balance(const struct evalrun *run, struct strbuf *out)
{
	const struct evalset *set = run->set;
	char **names = NULL;
	size_t *counts = NULL, n = 0, cap = 0, i, k;

	for (i = 0; i < set->n; i++) {
		char *t = trimmed(set->items[i].classes[set->items[i].answer]);

		for (k = 0; k < n; k++)
			if (!strcmp(names[k], t))
				break;
		if (k == n) {
			XGROW(names, cap, n + 1);
			counts = xreallocarray(counts, cap, sizeof(*counts));
			names[n] = t;
			counts[n++] = 0;
		} else {
			free(t);
		}
		counts[k]++;
	}
	strbuf_addstr(out, "class balance:");
	for (k = 0; k < n; k++) {
		strbuf_addstr(out, k ? ", " : " ");
		add_sanitized(out, names[k]);
		strbuf_addf(out, " %zu (%.1f%%)", counts[k],
			    100.0 * (double)counts[k] / (double)set->n);
		free(names[k]);
	}
	if (!n)
		strbuf_addstr(out, " no examples");
	strbuf_addch(out, '\n');
	free(names);
	free(counts);
}

/* The plot points of the models with a size; returns how many.  The
 * caller frees *pts and the summaries. */
static size_t plot_points(const struct evalrun *run, struct plot_point **pts)
{
	size_t i, n = 0;

	*pts = xcalloc(run->nmodels ? run->nmodels : 1, sizeof(**pts));
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;

		if (!(m->size > 0) || m->fatal)
			continue;
		evalrun_model_summary(run, i, &s);
		if (!s.n)
			continue;
		(*pts)[n].model = m->name;
		(*pts)[n].family = m->family ? m->family : "models";
		(*pts)[n].size = m->size;
		(*pts)[n].accuracy = s.accuracy;
		(*pts)[n].acc_low = s.acc_low;
		(*pts)[n].acc_high = s.acc_high;
		(*pts)[n].mean_loss =
		    run->opts.method == EVALRUN_LOGPROB && !run->set->logodds ? s.mean_loss : NAN;
		n++;
	}
	return n;
}

void evalrun_format_plot(const struct evalrun *run, int width, int height, struct strbuf *out)
{
	struct plot_point *pts;
	size_t n = plot_points(run, &pts);

	if (!n)
		strbuf_addstr(out, "no model sizes known: no scaling plot (give --size NAME=SIZE "
				   "or --sizes FILE, or scorer.NAME.size in the config)\n");
	else
		plot_terminal(pts, n, width, height, out);
	free(pts);
}

static void add_double(struct strbuf *out, double x)
{
	char b[64];

	if (isnan(x)) {
		return;
	}
	metrics_format_double(x, b, sizeof(b));
	strbuf_addstr(out, b);
}

static void csv_str(struct strbuf *out, const char *s)
{
	size_t i;

	if (!strpbrk(s, ",\"\n\r")) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '"');
	for (i = 0; s[i]; i++) {
		if (s[i] == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, s[i]);
	}
	strbuf_addch(out, '"');
}

void evalrun_format_summary_csv(const struct evalrun *run, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out,
		      "model,size,family,n,accuracy,mean_loss,acc_low,acc_high,unparsed,failed\n");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;

		evalrun_model_summary(run, i, &s);
		csv_str(out, m->name);
		strbuf_addch(out, ',');
		if (m->size > 0)
			strbuf_addf(out, "%.15g", m->size);
		strbuf_addch(out, ',');
		csv_str(out, m->family ? m->family : "");
		strbuf_addf(out, ",%zu,", s.n);
		add_double(out, s.accuracy);
		strbuf_addch(out, ',');
		if (s.n)
			add_double(out, s.mean_loss);
		strbuf_addch(out, ',');
		add_double(out, s.acc_low);
		strbuf_addch(out, ',');
		add_double(out, s.acc_high);
		strbuf_addf(out, ",%zu,%zu\n", m->unparsed, m->failed);
	}
}

int evalrun_format_model_csv(const struct evalrun *run, size_t i, struct strbuf *out)
{
	const struct evalrun_model *m = &run->models[i];
	size_t k;

	if (run->opts.method == EVALRUN_LOGPROB) {
		struct metrics_table t;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc;

		if (!f)
			return -1;
		evalrun_model_table(run, i, &t);
		rc = metrics_table_write(&t, f);
		metrics_table_release(&t);
		if (fclose(f))
			rc = -1;
		strbuf_add(out, buf, len);
		free(buf);
		return rc;
	}
	strbuf_addstr(out, "index,question,label,raw_answer,normalised,correct\n");
	for (k = 0; k < run->set->n; k++) {
		const struct evalrun_result *r = &m->results[k];
		const struct evalset_example *e = &run->set->items[k];
		char *label;

		if (r->state != 1)
			continue;
		label = trimmed(e->classes[e->answer]);
		strbuf_addf(out, "%ld,", e->index);
		csv_str(out, e->question);
		strbuf_addch(out, ',');
		csv_str(out, label);
		strbuf_addch(out, ',');
		csv_str(out, r->raw ? r->raw : "");
		strbuf_addch(out, ',');
		csv_str(out, r->parsed ? r->parsed : "");
		strbuf_addf(out, ",%d\n", r->outcome == SCORE_CORRECT);
		free(label);
	}
	return 0;
}

/* Appends one URL (len bytes) without its credentials (user:pass@). */
static void add_url_part(struct strbuf *u, const char *url, size_t len)
{
	const char *end = url + len, *scheme = NULL, *host, *at = NULL, *p;

	for (p = url; p + 3 <= end; p++)
		if (!memcmp(p, "://", 3)) {
			scheme = p;
			break;
		}
	host = scheme ? scheme + 3 : url;
	for (p = host; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	if (at) {
		strbuf_add(u, url, (size_t)(host - url));
		strbuf_add(u, at + 1, (size_t)(end - at - 1));
	} else {
		strbuf_add(u, url, len);
	}
}

/* base_url (one URL, or several separated by commas, as the engine reads
 * it) without anything that looks like credentials, in any of them. */
static void add_url(struct strbuf *out, const char *url)
{
	struct strbuf u = STRBUF_INIT;
	const char *p = url;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		add_url_part(&u, p, len);
		if (!comma)
			break;
		strbuf_addch(&u, ',');
		p = comma + 1;
	}
	strbuf_add_json_string(out, u.data);
	strbuf_release(&u);
}

void evalrun_format_config(const struct evalrun *run, struct strbuf *out)
{
	size_t i, done, total;
	const struct evalset *set = run->set;

	evalrun_progress(run, &done, &total);
	strbuf_addstr(out, "{\n  \"dataset\": {\"name\": ");
	strbuf_add_json_string(out, set->name ? set->name : "");
	strbuf_addstr(out, ", \"hash\": ");
	strbuf_add_json_string(out, set->hash);
	strbuf_addstr(out, ", \"hash_algorithm\": \"fnv1a-64\", \"task\": ");
	if (set->task)
		strbuf_add_json_string(out, set->task);
	else
		strbuf_addstr(out, "null");
	strbuf_addf(out, ", \"examples\": %zu, \"type\": \"%s\"},\n", set->n,
		    set->logodds ? "logodds" : "classification");
	strbuf_addf(out, "  \"method\": \"%s\",\n", evalrun_method_name(run->opts.method));
	if (run->opts.method == EVALRUN_GENERATE) {
		strbuf_addf(out, "  \"scoring\": \"%s\",\n",
			    run->opts.rules == SCORE_OPRO ? "opro" : "strict");
		strbuf_addstr(out, "  \"prompt\": ");
		strbuf_add_json_string(out, run->prompt_tmpl);
		strbuf_addf(out, ",\n  \"temperature\": 0,\n  \"max_tokens\": %d,\n",
			    run->opts.max_tokens);
	} else {
		strbuf_addstr(out, "  \"prompt\": \"the dataset's prompt + class (ISP)\",\n");
	}
	strbuf_addf(out, "  \"partial\": %s,\n  \"finished\": %zu,\n  \"total\": %zu,\n",
		    run->cancelled || done < total ? "true" : "false", done, total);
	strbuf_addstr(out, "  \"models\": [");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];

		strbuf_addstr(out, i ? ",\n    {" : "\n    {");
		strbuf_addstr(out, "\"name\": ");
		strbuf_add_json_string(out, m->name);
		strbuf_addstr(out, ", \"model\": ");
		strbuf_add_json_string(out, m->model);
		strbuf_addstr(out, ", \"base_url\": ");
		add_url(out, m->base_url);
		strbuf_addf(out, ", \"endpoint\": \"%s\"",
			    run->opts.method == EVALRUN_LOGPROB || m->req.kind == LM_COMPLETIONS
				? "completions"
				: "chat");
		strbuf_addstr(out, ", \"size\": ");
		if (m->size > 0)
			strbuf_addf(out, "%.15g", m->size);
		else
			strbuf_addstr(out, "null");
		strbuf_addstr(out, ", \"family\": ");
		if (m->family)
			strbuf_add_json_string(out, m->family);
		else
			strbuf_addstr(out, "null");
		if (run->opts.method == EVALRUN_LOGPROB)
			strbuf_addf(out, ", \"logprob_way\": \"%s\", \"floored\": %zu",
				    evalrun_way_name(m->way), m->floored);
		strbuf_addf(out, ", \"done\": %zu, \"failed\": %zu, \"unparsed\": %zu", m->done,
			    m->failed, m->unparsed);
		strbuf_addstr(out, ", \"error\": ");
		if (m->error)
			strbuf_add_json_string(out, m->error);
		else
			strbuf_addstr(out, "null");
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, "\n  ]\n}\n");
}

static int write_file(const char *dir, const char *name, const struct strbuf *b, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	strbuf_addf(&path, "%s/%s", dir, name);
	rc = atomicfile_write(path.data, b->data, b->len, err);
	strbuf_release(&path);
	return rc;
}

int evalrun_write(const struct evalrun *run, const char *dir, struct errbuf *err)
{
	struct strbuf b = STRBUF_INIT, name = STRBUF_INIT;
	struct plot_point *pts;
	size_t i, n;
	int rc = -1;

	evalrun_format_config(run, &b);
	if (write_file(dir, "config.json", &b, err) < 0)
		goto out;
	for (i = 0; i < run->nmodels; i++) {
		const char *s;

		strbuf_reset(&b);
		strbuf_reset(&name);
		if (evalrun_format_model_csv(run, i, &b) < 0) {
			errbuf_set(err, "cannot format the results of %.100s", run->models[i].name);
			goto out;
		}
		for (s = run->models[i].name; *s; s++)
			strbuf_addch(&name, *s == '/' || (unsigned char)*s < 0x20 ? '_' : *s);
		if (!strcmp(name.data, "summary") || !strcmp(name.data, "config"))
			strbuf_addch(&name, '_');
		strbuf_addstr(&name, ".csv");
		if (write_file(dir, name.data, &b, err) < 0)
			goto out;
	}
	strbuf_reset(&b);
	evalrun_format_summary_csv(run, &b);
	if (write_file(dir, "summary.csv", &b, err) < 0)
		goto out;
	n = plot_points(run, &pts);
	if (n) {
		strbuf_reset(&b);
		plot_svg(pts, n, run->set->name ? run->set->name : "evaluation", &b);
		if (write_file(dir, "scaling.svg", &b, err) < 0) {
			free(pts);
			goto out;
		}
	}
	free(pts);
	rc = 0;
out:
	strbuf_release(&b);
	strbuf_release(&name);
	return rc;
}

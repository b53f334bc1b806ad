#include "weft/evalrun.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/display.h"
#include "weft/task.h"
#include "weft/xalloc.h"

#include "evalrun_run.h"

/* ---- pure parts ---------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

enum evalrun_echo_result evalrun_echo_logprob(const struct lm_choice *c, const char *prompt,
					      const char *cls, double *lp, struct errbuf *err)
{
	size_t plen = strlen(prompt), clen = strlen(cls), pos = 0, i, start = (size_t)-1;
	long chars = (long)utf8_chars(prompt);
	double sum = 0;

	if (!c->has_logprobs || !c->ntokens)
		return EVALRUN_ECHO_IGNORED;
	/* the tokens must spell prompt + cls */
	for (i = 0; i < c->ntokens && pos < plen + clen; i++) {
		const char *t = c->tokens[i].token ? c->tokens[i].token : "";
		size_t tl = strlen(t), k;

		for (k = 0; k < tl && pos < plen + clen; k++, pos++) {
			char want = pos < plen ? prompt[pos] : cls[pos - plen];

			if (t[k] != want)
				return EVALRUN_ECHO_IGNORED;
		}
	}
	if (pos < plen + clen)
		return EVALRUN_ECHO_IGNORED;
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
	if (start == (size_t)-1) {
		errbuf_set(err, "class '%.60s' does not start on a token boundary after the prompt",
			   cls);
		return EVALRUN_ECHO_ERROR;
	}
	for (i = start; i < c->ntokens; i++) {
		if (isnan(c->tokens[i].logprob)) {
			errbuf_set(err, "no logprob for echoed token %zu", i);
			return EVALRUN_ECHO_ERROR;
		}
		sum += c->tokens[i].logprob;
	}
	*lp = sum;
	return EVALRUN_ECHO_OK;
}

enum evalrun_top_result evalrun_top_logprob(const struct lm_choice *c, const char *cls, double *lp)
{
	const struct lm_token *t;
	size_t i, best_len = 0;
	double lowest = INFINITY, best = 0;
	int found = 0;

	if (!c->has_logprobs || !c->ntokens)
		return EVALRUN_TOP_NO_LOGPROBS;
	t = &c->tokens[0];
	if (!t->ntop && !t->token)
		return EVALRUN_TOP_NO_LOGPROBS;
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
			return EVALRUN_TOP_FOUND;
		}
		if (tl > best_len && !strncmp(cls, tok, tl)) {
			best_len = tl;
			best = l;
			found = 1;
		}
	}
	if (found) {
		*lp = best;
		return EVALRUN_TOP_FOUND;
	}
	if (lowest == INFINITY)
		return EVALRUN_TOP_NO_LOGPROBS;
	*lp = lowest - log(2.0);
	return EVALRUN_TOP_FLOOR;
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

char *evalrun_trimmed(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

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

static void on_reply(void *ctx, const struct lm_response *resp, const struct errbuf *err);

/* Fills req for slot of example ex of model m, asked the given way. */
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

/* Sends slot of example ex for model mi; a probe is the model's only
 * request out until its reply. */
static void submit(struct evalrun *run, size_t mi, size_t ex, size_t slot, enum evalrun_probe probe)
{
	struct evalrun_model *m = &run->models[mi];
	struct lm_request req;
	struct job *j = xcalloc(1, sizeof(*j));

	build_request(run, m, ex, slot, probe == EVALRUN_PROBE_TOP ? EVALRUN_WAY_TOP : m->way,
		      &req);
	j->run = run;
	j->model = mi;
	j->unit = ex * stride(run) + slot;
	j->probe = probe;
	if (probe != EVALRUN_PROBE_NONE)
		m->probe = probe;
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

	if (run->cancelled || run->hold || m->fatal || m->probe != EVALRUN_PROBE_NONE)
		return;
	while (m->inflight < (size_t)m->req.concurrency && m->next < run->set->n * st) {
		size_t ex = m->next / st, slot = m->next % st;
		const struct evalset_example *e = &run->set->items[ex];

		if (slot >= nslots(run, m, e) || m->results[ex].state != EVALRUN_PENDING) {
			m->next = (ex + 1) * st;
			continue;
		}
		if (slot == 0 && !m->left[ex])
			m->left[ex] = (unsigned)nslots(run, m, e);
		m->next++;
		submit(run, mi, ex, slot, EVALRUN_PROBE_NONE);
	}
}

static void notify(struct evalrun *run)
{
	if (run->cb)
		run->cb(run->cb_ctx, run);
}

/* Marks example r of model m failed with msg (the model's first error is
 * kept). */
static void mark_failed(struct evalrun_model *m, struct evalrun_result *r, const char *msg)
{
	r->state = EVALRUN_FAILED;
	m->failed++;
	if (!m->error)
		m->error = display_sanitize_dup(msg);
}

/* An example that ends failed: counted as finished and reported. */
static void fail_example(struct evalrun *run, struct evalrun_model *m, struct evalrun_result *r,
			 const char *msg)
{
	mark_failed(m, r, msg);
	run->done_units++;
	notify(run);
}

/* Every slot of example ex is in: its metrics from the log-probabilities. */
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
			mark_failed(m, r, err.msg);
			return;
		}
		r->ex.loss = lo.difference;
		r->ex.correct = lo.correct;
		r->ex.predicted = q[1] > q[0] ? 1 : 0;
		r->ex.total_logprob = lo.total_logprob;
	} else if (metrics_classify(lp, e->nclasses, e->answer, &r->ex, &err) < 0) {
		mark_failed(m, r, err.msg);
		return;
	}
	r->state = EVALRUN_DONE;
	m->done++;
}

static void fail_model(struct evalrun *run, struct evalrun_model *m, const char *msg)
{
	size_t i;

	m->fatal = 1;
	free(m->error);
	m->error = display_sanitize_dup(msg);
	for (i = 0; i < run->set->n; i++)
		if (m->results[i].state == EVALRUN_PENDING) {
			m->results[i].state = EVALRUN_FAILED;
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

/* A request that failed, or a reply with no choices: a failed probe or an
 * error that would repeat for every example stops the model; any other
 * fails this example only. */
static void on_failed_reply(struct evalrun *run, size_t mi, struct evalrun_result *r,
			    enum evalrun_probe probe, const struct lm_response *resp,
			    const struct errbuf *err)
{
	struct evalrun_model *m = &run->models[mi];
	const char *msg = err ? err->msg : "the reply has no choices";

	if (probe || (err && stops_model(resp))) {
		fail_model(run, m, msg);
		cancel_model_jobs(run, mi);
		notify(run);
		return;
	}
	if (r->state == EVALRUN_PENDING)
		fail_example(run, m, r, msg);
	pump(run, mi);
}

/* The generate method: the first choice scored against the answer's
 * class; the example is done. */
static void record_answer(struct evalrun *run, struct evalrun_model *m, size_t ex,
			  const struct lm_response *resp)
{
	const struct evalset_example *e = &run->set->items[ex];
	struct evalrun_result *r = &m->results[ex];
	struct score_result sr;
	const char *raw = resp->choices[0].text ? resp->choices[0].text : "";
	char *target = evalrun_trimmed(e->classes[e->answer]);
	enum score_type type = evalrun_score_type((const char *const *)e->classes, e->nclasses);
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
	r->state = EVALRUN_DONE;
	m->done++;
}

/* The logprob method's first probe, prompt + first class with echo: when
 * the server ignored echo, the top-logprobs probe goes out instead; else
 * the model's way is echo and unit 0 is in. */
static void on_echo_probe(struct evalrun *run, size_t mi, size_t ex, const struct lm_response *resp)
{
	struct evalrun_model *m = &run->models[mi];
	const struct evalset_example *e = &run->set->items[ex];
	struct errbuf err;
	double lp;
	enum evalrun_echo_result rc =
	    evalrun_echo_logprob(&resp->choices[0], e->prompt, e->classes[0], &lp, &err);

	if (rc == EVALRUN_ECHO_IGNORED) {
		submit(run, mi, ex, 0, EVALRUN_PROBE_TOP);
		return;
	}
	if (rc == EVALRUN_ECHO_ERROR) {
		fail_model(run, m, err.msg);
		notify(run);
		return;
	}
	m->way = EVALRUN_WAY_ECHO;
	m->left[ex] = (unsigned)nslots(run, m, e);
	m->lps[ex * stride(run) + 0] = lp;
	m->left[ex]--;
	m->next = 1; /* unit 0 is done */
	pump(run, mi);
}

/* The top way: every class's log-probability of prompt slot from the
 * reply's alternatives.  Returns 0, or -1 when the reply has no logprobs
 * (then the model, on a probe, or else the example has failed). */
static int read_top_reply(struct evalrun *run, size_t mi, size_t ex, size_t slot,
			  enum evalrun_probe probe, const struct lm_response *resp)
{
	static const char no_logprobs[] = "no logprobs in the reply: the logprob method needs a "
					  "completions endpoint that returns logprobs";
	struct evalrun_model *m = &run->models[mi];
	const struct evalset_example *e = &run->set->items[ex];
	size_t c, base = ex * stride(run) + slot * e->nclasses;

	for (c = 0; c < e->nclasses; c++) {
		double lp;
		enum evalrun_top_result rc =
		    evalrun_top_logprob(&resp->choices[0], e->classes[c], &lp);

		if (rc == EVALRUN_TOP_NO_LOGPROBS) {
			if (probe) {
				fail_model(run, m, no_logprobs);
				notify(run);
				return -1;
			}
			fail_example(run, m, &m->results[ex], no_logprobs);
			pump(run, mi);
			return -1;
		}
		if (rc == EVALRUN_TOP_FLOOR)
			m->floored++;
		m->lps[base + c] = lp;
	}
	if (probe == EVALRUN_PROBE_TOP)
		m->next = 1;
	return 0;
}

/* The echo way: the log-probability of slot's prompt + class.  Returns 0,
 * or -1 when the reply does not give it (the example has failed). */
static int read_echo_reply(struct evalrun *run, size_t mi, size_t ex, size_t slot,
			   const struct lm_response *resp)
{
	struct evalrun_model *m = &run->models[mi];
	const struct evalset_example *e = &run->set->items[ex];
	size_t c = slot % e->nclasses;
	const char *prompt = slot < e->nclasses ? e->prompt : e->other_prompt;
	struct errbuf err;
	double lp;
	enum evalrun_echo_result rc =
	    evalrun_echo_logprob(&resp->choices[0], prompt, e->classes[c], &lp, &err);

	if (rc != EVALRUN_ECHO_OK) {
		if (rc == EVALRUN_ECHO_IGNORED)
			errbuf_set(&err, "the reply is not an echo of the prompt");
		fail_example(run, m, &m->results[ex], err.msg);
		pump(run, mi);
		return -1;
	}
	m->lps[ex * stride(run) + slot] = lp;
	return 0;
}

static void on_reply(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct job *j = ctx;
	struct evalrun *run = j->run;
	size_t mi = j->model, ex = j->unit / stride(run), slot = j->unit % stride(run);
	struct evalrun_model *m = &run->models[mi];
	struct evalrun_result *r = &m->results[ex];
	enum evalrun_probe probe = j->probe;
	int rc;

	m->inflight--;
	job_forget(run, j);
	if (probe)
		m->probe = EVALRUN_PROBE_NONE;
	if (err || !resp->nchoices) {
		on_failed_reply(run, mi, r, probe, resp, err);
		return;
	}
	if (r->state != EVALRUN_PENDING) { /* the example already failed */
		pump(run, mi);
		return;
	}
	if (run->reply_hook && !probe)
		run->reply_hook(run->hook_ctx, mi, ex, slot, resp);
	if (run->opts.method == EVALRUN_GENERATE) {
		record_answer(run, m, ex, resp);
		run->done_units++;
		notify(run);
		pump(run, mi);
		return;
	}
	if (probe == EVALRUN_PROBE_FIRST) {
		on_echo_probe(run, mi, ex, resp);
		return;
	}
	if (probe == EVALRUN_PROBE_TOP) {
		m->way = EVALRUN_WAY_TOP;
		m->left[ex] = (unsigned)nslots(run, m, &run->set->items[ex]);
		m->next = 0;
	}
	if (m->way == EVALRUN_WAY_TOP)
		rc = read_top_reply(run, mi, ex, slot, probe, resp);
	else
		rc = read_echo_reply(run, mi, ex, slot, resp);
	if (rc < 0)
		return;
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
		if (run->opts.method == EVALRUN_LOGPROB) {
			m->way = EVALRUN_WAY_ECHO;
			m->left[0] = (unsigned)nslots(run, m, &run->set->items[0]);
			submit(run, i, 0, 0, EVALRUN_PROBE_FIRST);
			m->way = EVALRUN_WAY_NONE;
		} else {
			m->left[0] = 1;
			m->next = 1;
			submit(run, i, 0, 0, EVALRUN_PROBE_FIRST);
		}
	}
}

/* ---- for batch mode --------------------------------------------------------- */

size_t evalrun_unit_slots(const struct evalrun *run, size_t mi, size_t ex)
{
	return nslots(run, &run->models[mi], &run->set->items[ex]);
}

void evalrun_unit_request(const struct evalrun *run, size_t mi, size_t ex, size_t slot,
			  struct lm_request *req)
{
	struct evalrun_model *m = &run->models[mi];

	/* build_request only reads the run */
	build_request((struct evalrun *)run, m, ex, slot, m->way, req);
}

void evalrun_reset_units(struct evalrun *run)
{
	size_t i, k, n = run->set->n;

	run->done_units = 0;
	for (i = 0; i < run->nmodels; i++) {
		struct evalrun_model *m = &run->models[i];

		if (m->fatal) {
			run->done_units += m->done + m->failed;
			continue;
		}
		for (k = 0; k < n; k++) {
			free(m->results[k].raw);
			free(m->results[k].parsed);
			memset(&m->results[k], 0, sizeof(m->results[k]));
			m->left[k] = (unsigned)nslots(run, m, &run->set->items[k]);
		}
		memset(m->lps, 0, (n ? n : 1) * stride(run) * sizeof(*m->lps));
		m->done = m->failed = m->unparsed = m->floored = 0;
		m->next = n * stride(run); /* nothing left for pump */
		free(m->error);
		m->error = NULL;
	}
}

void evalrun_feed(struct evalrun *run, size_t mi, size_t ex, size_t slot,
		  const struct lm_response *resp, const char *err)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct lm_response none;
	struct errbuf e;

	j->run = run;
	j->model = mi;
	j->unit = ex * stride(run) + slot;
	run->models[mi].inflight++;
	if (!err) {
		on_reply(j, resp, NULL);
		return;
	}
	lm_response_init(&none);
	errbuf_set(&e, "%s", err);
	on_reply(j, &none, &e);
}

void evalrun_send_unit(struct evalrun *run, size_t mi, size_t ex, size_t slot)
{
	submit(run, mi, ex, slot, EVALRUN_PROBE_NONE);
}

void evalrun_fail_model(struct evalrun *run, size_t mi, const char *msg)
{
	fail_model(run, &run->models[mi], msg);
}

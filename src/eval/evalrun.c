#include "weft/evalrun.h"

#include <stdlib.h>
#include <string.h>

#include "weft/config.h"
#include "weft/plot.h"
#include "weft/task.h"
#include "weft/xalloc.h"

#include "evalrun_run.h"

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

/* ---- the run --------------------------------------------------------------- */

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
		m->req.concurrency = CONFIG_DEFAULT_CONCURRENCY;
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

		if (r->state != EVALRUN_DONE)
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
		if (m->results[k].state == EVALRUN_DONE)
			nc[n++] = (unsigned)run->set->items[k].nclasses;
	metrics_summarize(&t, nc, s);
	free(nc);
	metrics_table_release(&t);
}

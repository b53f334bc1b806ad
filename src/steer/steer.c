#include "weft/steer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/rank.h"
#include "weft/steerpairs.h"
#include "weft/xalloc.h"

struct steer_step {
	struct lm_engine *engine;
	struct tree *tree;
	uint32_t at;
	const struct task *task;
	const struct config_role *generator, *judge;
	struct steer_settings settings;
	steer_done_fn *done;
	void *ctx;

	uint64_t request; /* in flight, 0 when none */
	struct strbuf document;

	/* The options put to the judge: existing candidates of the step first
	 * (existing[k] is their node), then new texts. */
	char **texts;	    /* owned */
	uint32_t *existing; /* TREE_NONE for new texts */
	char **finish;	    /* owned, may be NULL entries */
	unsigned *merged;
	size_t count;

	/* what the judge is told of the path: the pairs on it ({balance},
	 * {recent}) and a note for each option that would repeat one */
	struct steer_pairs pairs;
	struct strbuf balance, recent;
	char **notes; /* owned; nnotes entries (the options then), NULL for none */
	size_t nnotes;

	struct steer_judge *judge_req; /* after generation */
	struct steer_outcome outcome;
};

void steer_settings_init(struct steer_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->n = 5;
	s->temperature = 1.0;
	s->max_tokens = 60;
	s->judge_temperature = 0.0;
	s->rank = RANK_LOGPROBS;
	s->judge_attempts = STEER_JUDGE_ATTEMPTS;
	s->rejudge_waiting = 0;
}

void steer_settings_from_task(struct steer_settings *s, const struct task *task)
{
	steer_settings_init(s);
	s->n = task->n;
	s->temperature = task->temperature;
	s->max_tokens = task->max_tokens;
	s->judge_temperature = task->judge_temperature;
	s->rank = task->rank;
	s->judge_attempts = STEER_JUDGE_ATTEMPTS;
}

/* A request's own copy of the settings s; a judge_attempts of 0 (settings
 * not from steer_settings_init) is the default. */
static void settings_copy(struct steer_settings *dst, const struct steer_settings *s)
{
	*dst = *s;
	if (!dst->judge_attempts)
		dst->judge_attempts = STEER_JUDGE_ATTEMPTS;
}

void steer_candidate_text(const char *document_end, const char *text, struct strbuf *out)
{
	static const char space[] = " \t\n\r";
	int doc_space = !*document_end || strchr(space, *document_end);

	if (!doc_space && *text && !strchr(space, *text))
		strbuf_addch(out, ' ');
	strbuf_addstr(out, text);
}

size_t steer_path_steps(const struct tree *t)
{
	return t->path_len ? t->path_len - 1 : 0;
}

int steer_choose(struct tree *t, uint32_t child, enum tree_picker who)
{
	uint32_t parent = tree_node(t, child)->parent;
	struct tree_step *s;

	if (parent == TREE_NONE)
		return -1;
	s = tree_step_get(t, parent);
	if (s->final_pick != TREE_NONE && s->final_pick != child)
		tree_set_flag(t, s->final_pick, TREE_HUMAN_PICK, 0);
	s->final_pick = child;
	s->picker = who;
	tree_set_flag(t, child, TREE_HUMAN_PICK, who == TREE_PICKER_HUMAN);
	tree_set_focus(t, child);
	if (tree_path_index(t, child) < 0 || tree_path_tip(t) != child) {
		/* the pick becomes the tip of the chosen path */
		uint32_t *path = xreallocarray(NULL, tree_depth(t, child) + 1, sizeof(*path));
		size_t k = tree_depth(t, child) + 1, len = k;
		uint32_t i = child;

		while (k > 0) {
			path[--k] = i;
			i = tree_node(t, i)->parent;
		}
		tree_set_path(t, path, len);
		free(path);
	}
	return 0;
}

static void finish(struct steer_step *st)
{
	steer_done_fn *done = st->done;

	st->request = 0;
	st->done = NULL;
	if (done)
		done(st->ctx, &st->outcome);
}

static void add_usage(struct steer_step *st, const struct lm_response *resp)
{
	if (resp->prompt_tokens > 0)
		st->outcome.prompt_tokens += resp->prompt_tokens;
	if (resp->completion_tokens > 0)
		st->outcome.completion_tokens += resp->completion_tokens;
	st->outcome.key_redacted += resp->key_redacted;
}

/* ---- recording ---------------------------------------------------------- */

static void record(struct steer_step *st, const double *scores, size_t pick, const char *raw,
		   const char *rank_used, const char *needs_human)
{
	struct tree *t = st->tree;
	struct tree_step *s = tree_step_get(t, st->at);
	uint32_t *nodes = xcalloc(st->count, sizeof(*nodes));
	size_t k, j;

	for (k = 0; k < st->count; k++) {
		uint32_t i = st->existing[k];

		if (i == TREE_NONE) {
			i = tree_add(t, st->at, NULL, st->texts[k], strlen(st->texts[k]));
			tree_set_model(t, i, st->generator->model);
			tree_set_finish_reason(t, i, st->finish[k]);
			tree_node(t, i)->temperature = (float)st->settings.temperature;
			tree_set_flag(t, i, TREE_HAS_TEMPERATURE, 1);
		}
		tree_node(t, i)->merged += st->merged[k];
		tree_set_flag(t, i, TREE_JUDGE_PICK, 0);
		nodes[k] = i;
	}
	/* The record lists every candidate once, in option order. */
	free(s->candidates);
	free(s->scores);
	s->candidates = NULL;
	s->scores = NULL;
	s->count = 0;
	for (k = 0; k < st->count; k++) {
		tree_step_add_candidate(s, nodes[k], scores ? scores[k] : 0, scores != NULL);
		if (scores) {
			int32_t rank = 1;

			for (j = 0; j < st->count; j++)
				if (scores[j] > scores[k] || (scores[j] == scores[k] && j < k))
					rank++;
			tree_set_score(t, nodes[k], scores[k], rank);
		}
	}
	s->judge_pick = scores ? nodes[pick] : TREE_NONE;
	if (scores)
		tree_set_flag(t, nodes[pick], TREE_JUDGE_PICK, 1);
	tree_step_set_str(&s->judge_raw, raw);
	tree_step_set_str(&s->rank_mode, rank_used);
	tree_step_set_str(&s->needs_human, needs_human);
	{
		struct strbuf id = STRBUF_INIT;

		strbuf_addf(&id, "%s/judge.txt", st->task->name);
		tree_step_set_str(&s->judge_prompt, id.data);
		strbuf_release(&id);
	}
	st->outcome.candidates = st->count;
	st->outcome.judge_pick = s->judge_pick;
	st->outcome.rank_used = s->rank_mode;
	free(nodes);
}

/* ---- judging ------------------------------------------------------------ */

struct steer_judge {
	struct lm_engine *engine;
	const struct config_role *role;
	struct steer_settings settings;
	size_t count;
	struct strbuf prompt;
	uint64_t request; /* in flight, 0 when none */
	unsigned asks;
	long prompt_tokens, completion_tokens;
	steer_judge_fn *done;
	void *ctx;
};

static void judge_ask(struct steer_judge *j);

static void judge_finish(struct steer_judge *j, struct steer_verdict *v)
{
	steer_judge_fn *done = j->done;

	v->asks = j->asks;
	v->prompt_tokens = j->prompt_tokens;
	v->completion_tokens = j->completion_tokens;
	j->request = 0;
	j->done = NULL;
	/* j may be freed from done: nothing touches it after the call */
	if (done)
		done(j->ctx, v);
}

static void judge_done(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct steer_judge *j = ctx;
	double *scores = xcalloc(j->count, sizeof(*scores));
	struct steer_verdict v;
	size_t pick = 0;
	int ok = -1;

	memset(&v, 0, sizeof(v));
	v.raw = "";
	v.rank_used = rank_mode_name(j->settings.rank);
	j->request = 0;
	if (resp->prompt_tokens > 0)
		j->prompt_tokens += resp->prompt_tokens;
	if (resp->completion_tokens > 0)
		j->completion_tokens += resp->completion_tokens;
	if (err) {
		errbuf_set(&v.err, "judge: %s", err->msg);
	} else if (!resp->nchoices) {
		errbuf_set(&v.err, "judge: no answer");
	} else {
		const struct lm_choice *c = &resp->choices[0];

		v.raw = c->text ? c->text : "";
		if (j->settings.rank == RANK_SCORES) {
			ok = rank_parse_scores(v.raw, j->count, scores, &pick, &v.err);
		} else if (j->settings.rank == RANK_LOGPROBS && c->ntokens && c->tokens[0].ntop) {
			const struct lm_token *tok = &c->tokens[0];
			struct rank_alt *alts = xcalloc(tok->ntop, sizeof(*alts));
			size_t k;

			for (k = 0; k < tok->ntop; k++) {
				alts[k].token = tok->top[k].token;
				alts[k].logprob = tok->top[k].logprob;
			}
			ok = rank_from_top_logprobs(alts, tok->ntop, j->count, scores, &pick,
						    &v.err);
			free(alts);
		} else {
			/* choice, or logprobs from an endpoint that gave none */
			v.rank_used = "choice";
			ok = rank_parse_choice(v.raw, j->count, scores, &pick, &v.err);
		}
	}
	if (ok == 0) {
		v.ok = 1;
		v.scores = scores;
		v.pick = pick;
		judge_finish(j, &v);
		free(scores);
		return;
	}
	free(scores);
	/* Asking again cannot help when the server refused the request for a
	 * reason that stays: rate or quota (429), the key (401, 403), the
	 * model's name (404). */
	if (j->asks < j->settings.judge_attempts &&
	    !(err && (resp->http_status == 429 || resp->http_status == 401 ||
		      resp->http_status == 403 || resp->http_status == 404))) {
		judge_ask(j);
		return;
	}
	if (err) {
		/* no answer came: an error to report, not an answer to judge */
		v.request_failed = 1;
		errbuf_set(&v.err, "the judge's request failed (asked %u time%s): %s", j->asks,
			   j->asks == 1 ? "" : "s", err->msg);
	} else {
		errbuf_prefix(&v.err, "the judge gave no usable answer after %u asks", j->asks);
	}
	judge_finish(j, &v);
}

static void judge_ask(struct steer_judge *j)
{
	struct lm_request req;
	struct strbuf prompt = STRBUF_INIT;

	lm_request_init(&req);
	config_role_request(j->role, &req);
	req.n = 1;
	req.temperature = j->settings.judge_temperature;
	strbuf_add(&prompt, j->prompt.data, j->prompt.len);
	if (j->asks > 0)
		strbuf_addf(&prompt, "\n\nAnswer with %s from 1 to %zu.",
			    j->settings.rank == RANK_SCORES
				? "a JSON array of scores, one per option,"
				: "one number",
			    j->count);
	/* the configured judge.max_tokens, else enough for the rank mode's
	 * answer: a score list, or one option number */
	if (j->settings.rank == RANK_SCORES) {
		req.max_tokens = 200;
	} else {
		req.max_tokens = 4;
		if (j->settings.rank == RANK_LOGPROBS) {
			req.logprobs = 1;
			req.top_logprobs = j->count > 20 ? 20 : (int)(j->count < 5 ? 5 : j->count);
		}
	}
	if (j->role->max_tokens_set)
		req.max_tokens = j->role->max_tokens;
	if (req.kind == LM_CHAT)
		lm_request_add_message(&req, "user", prompt.data);
	else
		lm_request_set(&req.prompt, prompt.data);
	j->asks++;
	j->request = lm_submit(j->engine, &req, judge_done, j);
	lm_request_release(&req);
	strbuf_release(&prompt);
}

/* {options}: the texts as numbered blocks, a flagged one with its note on
 * the line after its text. */
static void judge_options(const char *const *texts, size_t count, const char *const *notes,
			  struct strbuf *out)
{
	struct strbuf *noted = xcalloc(count ? count : 1, sizeof(*noted));
	const char **shown = xcalloc(count ? count : 1, sizeof(*shown));
	size_t *first = xcalloc(count ? count : 1, sizeof(*first));
	size_t k;

	for (k = 0; k < count; k++) {
		first[k] = k;
		shown[k] = texts[k];
		strbuf_init(&noted[k]);
		if (!notes || !notes[k])
			continue;
		strbuf_addstr(&noted[k], texts[k]);
		if (!noted[k].len || noted[k].data[noted[k].len - 1] != '\n')
			strbuf_addch(&noted[k], '\n');
		strbuf_addstr(&noted[k], notes[k]);
		shown[k] = noted[k].data;
	}
	rank_format_options(shown, first, count, out);
	for (k = 0; k < count; k++)
		strbuf_release(&noted[k]);
	free(noted);
	free(shown);
	free(first);
}

int steer_judge_prompt(const char *tmpl, const char *document, const char *const *texts,
		       size_t count, const struct steer_judge_context *ctx, struct strbuf *out,
		       size_t *size)
{
	static const char *const keys[] = {"document", "options", "n", "balance", "recent"};
	struct strbuf options = STRBUF_INIT, n = STRBUF_INIT;
	size_t len = strlen(document);
	const char *doc = document;
	const char *values[5];
	int r;

	if (len > STEER_JUDGE_CONTEXT) {
		doc += len - STEER_JUDGE_CONTEXT;
		while (*doc && *doc != '\n')
			doc++;
	}
	judge_options(texts, count, ctx ? ctx->notes : NULL, &options);
	strbuf_addf(&n, "%zu", count);
	values[0] = doc;
	values[1] = options.data;
	values[2] = n.data;
	values[3] = ctx && ctx->balance ? ctx->balance : "";
	values[4] = ctx && ctx->recent ? ctx->recent : "";
	r = template_render(tmpl, keys, values, 5, TASK_PROMPT_MAX, out, size);
	strbuf_release(&options);
	strbuf_release(&n);
	return r;
}

/* The error of a prompt past TASK_PROMPT_MAX. */
static void prompt_too_large(struct errbuf *err, const char *what, size_t size)
{
	errbuf_set(err, "%s is %zu bytes, more than the %u bytes (4 MiB) a prompt may have", what,
		   size, TASK_PROMPT_MAX);
}

struct steer_judge *steer_judge_start(struct lm_engine *e, const struct config_role *judge,
				      const char *tmpl, const char *document,
				      const char *const *texts, size_t count,
				      const struct steer_judge_context *context,
				      const struct steer_settings *s, steer_judge_fn *done,
				      void *ctx, struct errbuf *err)
{
	struct steer_judge *j = xcalloc(1, sizeof(*j));
	size_t size;

	strbuf_init(&j->prompt);
	if (steer_judge_prompt(tmpl, document, texts, count, context, &j->prompt, &size)) {
		prompt_too_large(err, "the rendered judge prompt", size);
		strbuf_release(&j->prompt);
		free(j);
		return NULL;
	}
	j->engine = e;
	j->role = judge;
	settings_copy(&j->settings, s);
	j->count = count;
	j->done = done;
	j->ctx = ctx;
	judge_ask(j);
	return j;
}

void steer_judge_free(struct steer_judge *j)
{
	if (!j)
		return;
	if (j->request)
		lm_cancel(j->engine, j->request);
	strbuf_release(&j->prompt);
	free(j);
}

static void step_judged(void *ctx, const struct steer_verdict *v)
{
	struct steer_step *st = ctx;

	st->outcome.judge_asks = v->asks;
	st->outcome.prompt_tokens += v->prompt_tokens;
	st->outcome.completion_tokens += v->completion_tokens;
	if (v->ok) {
		record(st, v->scores, v->pick, v->raw, v->rank_used, NULL);
		st->outcome.status = STEER_JUDGED;
	} else if (v->request_failed) {
		/* the candidates are kept (a rerun judges them), but nobody is
		 * asked to pick: the judge was not heard */
		record(st, NULL, 0, v->raw, v->rank_used, NULL);
		st->outcome.status = STEER_JUDGE_FAILED;
		st->outcome.err = v->err;
	} else {
		record(st, NULL, 0, v->raw, v->rank_used, v->err.msg);
		st->outcome.status = STEER_NEEDS_HUMAN;
		st->outcome.err = v->err;
	}
	finish(st);
}

/* ---- generating --------------------------------------------------------- */

static void add_option(struct steer_step *st, const char *text, uint32_t existing,
		       const char *finish_reason)
{
	size_t k;

	for (k = 0; k < st->count; k++) {
		if (!strcmp(st->texts[k], text)) {
			st->merged[k]++;
			return;
		}
	}
	st->texts = xreallocarray(st->texts, st->count + 1, sizeof(*st->texts));
	st->existing = xreallocarray(st->existing, st->count + 1, sizeof(*st->existing));
	st->finish = xreallocarray(st->finish, st->count + 1, sizeof(*st->finish));
	st->merged = xreallocarray(st->merged, st->count + 1, sizeof(*st->merged));
	st->texts[st->count] = xstrdup(text);
	st->existing[st->count] = existing;
	st->finish[st->count] = xstrdup_or_null(finish_reason);
	st->merged[st->count] = 0;
	st->count++;
}

/* What the judge is told of the path for the step's options as they stand:
 * their notes are worked out again (new options have none yet). */
static void step_context(struct steer_step *st, struct steer_judge_context *ctx)
{
	steer_pairs_notes_free(st->notes, st->nnotes);
	st->notes = steer_pairs_notes(&st->pairs, (const char *const *)st->texts, st->count);
	st->nnotes = st->count;
	ctx->balance = st->balance.data;
	ctx->recent = st->recent.data;
	ctx->notes = (const char *const *)st->notes;
}

/* Returns 0, or -1 with err when the judge prompt would be too large
 * (nothing is asked). */
static int start_judging(struct steer_step *st, struct errbuf *err)
{
	struct steer_judge_context ctx;

	step_context(st, &ctx);
	st->judge_req = steer_judge_start(st->engine, st->judge, st->task->judge, st->document.data,
					  (const char *const *)st->texts, st->count, &ctx,
					  &st->settings, step_judged, st, err);
	if (st->judge_req)
		return 0;
	errbuf_prefix(err, "%s/judge.txt", st->task->dir);
	return -1;
}

static void generation_done(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct steer_step *st = ctx;
	const char *end = st->document.len ? st->document.data + st->document.len - 1 : "";
	struct strbuf text = STRBUF_INIT;
	size_t k, fresh = 0;

	st->request = 0;
	add_usage(st, resp);
	if (err) {
		errbuf_set(&st->outcome.err, "generator: %s", err->msg);
		st->outcome.status = STEER_FAILED;
		finish(st);
		return;
	}
	for (k = 0; k < resp->nchoices; k++) {
		const struct lm_choice *c = &resp->choices[k];

		if (!c->text || !*c->text)
			continue;
		strbuf_reset(&text);
		steer_candidate_text(end, c->text, &text);
		add_option(st, text.data, TREE_NONE, c->finish_reason);
		fresh++;
	}
	strbuf_release(&text);
	if (!fresh) {
		errbuf_set(&st->outcome.err, "generator: the reply had no non-empty candidate");
		st->outcome.status = STEER_FAILED;
		finish(st);
		return;
	}
	if (start_judging(st, &st->outcome.err)) {
		/* the new candidates made the judge prompt too large: they are
		 * kept, and the judge was not asked (an error, as when its
		 * request fails) */
		record(st, NULL, 0, "", rank_mode_name(st->settings.rank), NULL);
		st->outcome.status = STEER_JUDGE_FAILED;
		finish(st);
	}
}

struct steer_step *steer_start(struct lm_engine *e, struct tree *t, uint32_t at,
			       const struct task *task, const struct config_role *generator,
			       const struct config_role *judge, const struct steer_settings *s,
			       steer_done_fn *done, void *ctx, struct errbuf *err)
{
	struct steer_step *st = xcalloc(1, sizeof(*st));
	struct tree_step *old = tree_node(t, at)->step;
	struct lm_request req;
	struct strbuf judge_prompt = STRBUF_INIT;
	struct steer_judge_context about;
	size_t k, size;
	int fits;

	st->engine = e;
	st->tree = t;
	st->at = at;
	st->task = task;
	st->generator = generator;
	st->judge = judge;
	settings_copy(&st->settings, s);
	st->done = done;
	st->ctx = ctx;
	strbuf_init(&st->document);
	st->outcome.node = at;
	st->outcome.judge_pick = TREE_NONE;
	tree_document(t, at, &st->document);
	/* a task whose pattern fails here leaves the judge's balance
	 * "unknown" and flags nothing: the step goes on without them */
	steer_pairs_init(&st->pairs, t, at, task);
	strbuf_init(&st->balance);
	strbuf_init(&st->recent);
	steer_pairs_balance(&st->pairs, &st->balance);
	steer_pairs_recent(&st->pairs, &st->recent);

	/* Candidates already in this step are judged again with the new ones. */
	for (k = 0; old && k < old->count; k++) {
		uint32_t c = old->candidates[k];

		if (!tree_is_pruned(t, c))
			add_option(st, tree_node(t, c)->text, c, NULL);
	}
	/* Both prompts fit before anything is sent: the document (the
	 * generation prompt) and the judge prompt with the candidates known
	 * so far (new ones only add to it). */
	if (st->document.len > TASK_PROMPT_MAX) {
		prompt_too_large(err, "the document to continue", st->document.len);
		errbuf_prefix(err, "%s/generate.txt and the text grown from it", task->dir);
		steer_step_free(st);
		return NULL;
	}
	step_context(st, &about);
	fits = !steer_judge_prompt(task->judge, st->document.data, (const char *const *)st->texts,
				   st->count, &about, &judge_prompt, &size);
	strbuf_release(&judge_prompt);
	if (!fits) {
		prompt_too_large(err, "the rendered judge prompt", size);
		errbuf_prefix(err, "%s/judge.txt", task->dir);
		steer_step_free(st);
		return NULL;
	}
	if (st->settings.rejudge_waiting && old && old->final_pick == TREE_NONE &&
	    st->count >= st->settings.n) {
		start_judging(st, err); /* fits: checked just above */
		return st;
	}
	lm_request_init(&req);
	config_role_request(generator, &req);
	req.n = (int)st->settings.n;
	req.temperature = st->settings.temperature;
	req.max_tokens = (int)st->settings.max_tokens;
	if (req.kind == LM_CHAT) {
		if (task->system && *task->system)
			lm_request_add_message(&req, "system", task->system);
		lm_request_add_message(&req, "user", st->document.data);
	} else {
		lm_request_set(&req.prompt, st->document.data);
	}
	st->request = lm_submit(e, &req, generation_done, st);
	lm_request_release(&req);
	return st;
}

void steer_step_free(struct steer_step *st)
{
	size_t k;

	if (!st)
		return;
	if (st->request)
		lm_cancel(st->engine, st->request);
	for (k = 0; k < st->count; k++) {
		free(st->texts[k]);
		free(st->finish[k]);
	}
	steer_pairs_notes_free(st->notes, st->nnotes);
	free(st->texts);
	free(st->existing);
	free(st->finish);
	free(st->merged);
	strbuf_release(&st->document);
	steer_pairs_release(&st->pairs);
	strbuf_release(&st->balance);
	strbuf_release(&st->recent);
	steer_judge_free(st->judge_req);
	free(st);
}

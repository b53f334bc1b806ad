#include "weft/replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/dataset.h"
#include "weft/meta.h"
#include "weft/steerpairs.h"
#include "weft/xalloc.h"

const char *replay_picker_name(enum tree_picker p)
{
	switch (p) {
	case TREE_PICKER_AI: return "ai";
	case TREE_PICKER_HUMAN: return "human";
	default: return "unknown";
	}
}

static long index_of(const uint32_t *v, size_t n, uint32_t x)
{
	size_t k;

	if (x == TREE_NONE)
		return -1;
	for (k = 0; k < n; k++)
		if (v[k] == x)
			return (long)k;
	return -1;
}

/*
 * Whether candidate c of the step at a node is pruned, given whether that
 * node is (node_pruned): a candidate is a child of its step's node, so one
 * flag decides, and the walk stays linear however deep the path is
 * (tree_is_pruned would climb to the root for every candidate).  A
 * candidate that is not a child (a damaged record) is checked in full.
 */
static int candidate_pruned(const struct tree *t, uint32_t node, int node_pruned, uint32_t c,
			    struct replay_walk *w)
{
	const struct tree_node *cn = tree_node(t, c);

	w->visits++;
	if (cn->parent == node)
		return node_pruned || (cn->flags & TREE_PRUNED);
	return tree_is_pruned(t, c);
}

/* The step from a decision record; pruned candidates are left out. */
static void from_record(const struct tree *t, const struct tree_step *s, int node_pruned,
			struct replay_step *rs, struct replay_walk *w)
{
	size_t k;

	rs->has_record = 1;
	rs->candidates = xcalloc(s->count ? s->count : 1, sizeof(*rs->candidates));
	if (s->scores)
		rs->scores = xcalloc(s->count ? s->count : 1, sizeof(*rs->scores));
	for (k = 0; k < s->count; k++) {
		if (s->candidates[k] >= t->count ||
		    candidate_pruned(t, rs->node, node_pruned, s->candidates[k], w))
			continue;
		if (rs->scores)
			rs->scores[rs->count] = s->scores[k];
		rs->candidates[rs->count++] = s->candidates[k];
	}
	rs->judge_pick = s->judge_pick;
	rs->needs_human = s->needs_human;
	rs->rank_mode = s->rank_mode;
	if (s->final_pick == rs->final_pick)
		rs->picker = s->picker;
	else if (tree_node(t, rs->final_pick)->flags & TREE_HUMAN_PICK)
		rs->picker = TREE_PICKER_HUMAN;
}

/*
 * The step from what the nodes know: visible children as candidates, read
 * in one walk of the sibling list (tree_child_at per child would make a
 * node with many children quadratic).
 */
static void from_children(const struct tree *t, struct replay_step *rs, struct replay_walk *w)
{
	size_t n = 0, scored = 0;
	uint32_t c;

	for (c = tree_node(t, rs->node)->first_child; c != TREE_NONE;
	     c = tree_node(t, c)->next_sibling) {
		w->visits++;
		n += !(tree_node(t, c)->flags & TREE_PRUNED);
	}
	rs->candidates = xcalloc(n ? n : 1, sizeof(*rs->candidates));
	rs->scores = xcalloc(n ? n : 1, sizeof(*rs->scores));
	for (c = tree_node(t, rs->node)->first_child; c != TREE_NONE && rs->count < n;
	     c = tree_node(t, c)->next_sibling) {
		const struct tree_node *cn = tree_node(t, c);

		w->visits++;
		if (cn->flags & TREE_PRUNED)
			continue;
		if (cn->flags & TREE_HAS_SCORE) {
			rs->scores[rs->count] = cn->score;
			scored++;
		}
		if ((cn->flags & TREE_JUDGE_PICK) && rs->judge_pick == TREE_NONE)
			rs->judge_pick = c;
		rs->candidates[rs->count++] = c;
	}
	if (!n || scored != n) {
		free(rs->scores);
		rs->scores = NULL;
	}
	if (tree_node(t, rs->final_pick)->flags & TREE_HUMAN_PICK)
		rs->picker = TREE_PICKER_HUMAN;
}

static void balance(const struct tree *t, const struct task *task, struct replay_walk *w)
{
	struct pairs_result r;
	struct errbuf err;
	size_t k;

	if (task_path_pairs(task, t, &r, &err) == 0) {
		w->balance_ok = 1;
		for (k = 0; k < r.nlabels; k++) {
			w->labels[k] = xstrdup(r.labels[k]);
			w->per_class[k] = r.per_class[k];
		}
		w->nlabels = r.nlabels;
		w->pairs = r.count;
	} else {
		memcpy(w->balance_error, err.msg, sizeof(w->balance_error));
	}
	pairs_result_release(&r);
}

void replay_walk_build(const struct tree *t, const struct task *task, struct replay_walk *w)
{
	double sum = 0;
	size_t k;
	int pruned = 0; /* whether path[k] or an ancestor is pruned */

	memset(w, 0, sizeof(*w));
	if (t->path_len > 0) /* a step per node after the root, and maybe a waiting one */
		w->steps = xcalloc(t->path_len, sizeof(*w->steps));
	for (k = 0; k + 1 < t->path_len; k++) {
		struct replay_step *rs = &w->steps[w->count++];
		const struct tree_step *s = tree_node(t, t->path[k])->step;

		/* the path is a root-first chain: path[k]'s parent is path[k-1] */
		pruned = pruned || (tree_node(t, t->path[k])->flags & TREE_PRUNED);
		rs->node = t->path[k];
		rs->final_pick = t->path[k + 1];
		rs->judge_pick = TREE_NONE;
		rs->picker = TREE_PICKER_NONE;
		if (s)
			from_record(t, s, pruned, rs, w);
		else
			from_children(t, rs, w);
		rs->final_index = index_of(rs->candidates, rs->count, rs->final_pick);
		rs->judge_index = index_of(rs->candidates, rs->count, rs->judge_pick);
		if (rs->judge_index < 0)
			rs->judge_pick = TREE_NONE;
		rs->override = rs->picker == TREE_PICKER_HUMAN && rs->judge_pick != TREE_NONE &&
			       rs->final_pick != rs->judge_pick;
		if (rs->override)
			w->overrides++;
		if (rs->needs_human)
			w->needed_human++;
		if (rs->scores && rs->final_index >= 0) {
			sum += rs->scores[rs->final_index];
			w->scored++;
		}
	}
	if (t->path_len > 0) {
		uint32_t tip = t->path[t->path_len - 1];
		const struct tree_step *s = tree_node(t, tip)->step;

		pruned = pruned || (tree_node(t, tip)->flags & TREE_PRUNED);
		if (s && s->count > 0 && s->final_pick == TREE_NONE) {
			struct replay_step *rs = &w->steps[w->count++];

			rs->node = tip;
			rs->final_pick = TREE_NONE;
			rs->judge_pick = TREE_NONE;
			rs->picker = TREE_PICKER_NONE;
			from_record(t, s, pruned, rs, w);
			rs->waiting = 1;
			rs->final_index = -1;
			rs->judge_index = index_of(rs->candidates, rs->count, rs->judge_pick);
			if (rs->judge_index < 0)
				rs->judge_pick = TREE_NONE;
			if (rs->needs_human)
				w->needed_human++;
			w->waiting = 1;
		}
	}
	w->mean_pick_score = w->scored ? sum / (double)w->scored : 0;
	balance(t, task, w);
}

void replay_walk_release(struct replay_walk *w)
{
	size_t k;

	for (k = 0; k < w->count; k++) {
		free(w->steps[k].candidates);
		free(w->steps[k].scores);
	}
	free(w->steps);
	for (k = 0; k < w->nlabels; k++)
		free(w->labels[k]);
	memset(w, 0, sizeof(*w));
}

/* ---- Spearman ----------------------------------------------------------- */

/* Average ranks (1-based) of v into r, ties sharing their mean rank. */
static void ranks(const double *v, size_t n, double *r)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t less = 0, equal = 0;

		for (j = 0; j < n; j++) {
			if (v[j] < v[i])
				less++;
			else if (v[j] == v[i])
				equal++;
		}
		r[i] = (double)less + ((double)equal + 1) / 2;
	}
}

double replay_spearman(const double *a, const double *b, size_t n)
{
	double *ra, *rb, ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0, rho;
	size_t k;

	if (n < 2)
		return NAN;
	ra = xcalloc(n, sizeof(*ra));
	rb = xcalloc(n, sizeof(*rb));
	ranks(a, n, ra);
	ranks(b, n, rb);
	for (k = 0; k < n; k++) {
		ma += ra[k];
		mb += rb[k];
	}
	ma /= (double)n;
	mb /= (double)n;
	for (k = 0; k < n; k++) {
		sab += (ra[k] - ma) * (rb[k] - mb);
		saa += (ra[k] - ma) * (ra[k] - ma);
		sbb += (rb[k] - mb) * (rb[k] - mb);
	}
	free(ra);
	free(rb);
	if (saa <= 0 || sbb <= 0)
		return NAN;
	rho = sab / sqrt(saa * sbb);
	return rho > 1 ? 1 : rho < -1 ? -1 : rho;
}

/* ---- re-judging --------------------------------------------------------- */

struct pending {
	struct replay_rejudge *out;
	size_t step;
	size_t count;
	struct steer_judge *judge;
};

static void verdict_done(void *ctx, const struct steer_verdict *v)
{
	struct pending *p = ctx;
	struct replay_verdict *rv = &p->out->verdicts[p->step];

	rv->asks = v->asks;
	rv->rank_used = v->rank_used;
	rv->raw = xstrdup(v->raw ? v->raw : "");
	p->out->prompt_tokens += v->prompt_tokens;
	p->out->completion_tokens += v->completion_tokens;
	if (v->ok) {
		rv->ok = 1;
		rv->scores = xcalloc(p->count, sizeof(*rv->scores));
		memcpy(rv->scores, v->scores, p->count * sizeof(*rv->scores));
		rv->pick = (long)v->pick;
	} else {
		rv->request_failed = v->request_failed;
		rv->error = xstrdup(v->err.msg);
	}
}

/* Starts the judge of step rs as steering would: the path's balance and
 * recent questions, and the notes of its candidates that repeat a pair. */
static struct steer_judge *judge_step(struct lm_engine *e, const struct tree *t,
				      const struct replay_step *rs, const struct task *task,
				      const struct config_role *judge, const char *tmpl,
				      const char *doc, const char **texts,
				      const struct steer_settings *s, struct pending *p,
				      struct errbuf *err)
{
	struct steer_pairs sp;
	struct strbuf balance = STRBUF_INIT, recent = STRBUF_INIT;
	struct steer_judge_context ctx;
	struct steer_judge *j;
	char **notes;

	steer_pairs_init(&sp, t, rs->node, task); /* a failure leaves them empty */
	steer_pairs_balance(&sp, &balance);
	steer_pairs_recent(&sp, &recent);
	notes = steer_pairs_notes(&sp, texts, rs->count);
	ctx.balance = balance.data;
	ctx.recent = recent.data;
	ctx.notes = (const char *const *)notes;
	j = steer_judge_start(e, judge, tmpl, doc, texts, rs->count, &ctx, s, verdict_done, p, err);
	steer_pairs_notes_free(notes, rs->count);
	strbuf_release(&balance);
	strbuf_release(&recent);
	steer_pairs_release(&sp);
	return j;
}

/* Starts the judge of every step of w into p (out's verdicts ready for
 * them).  Returns how many steps were started: w->count, or fewer with err
 * when a step's prompt is past the cap. */
static size_t start_judges(struct lm_engine *e, const struct tree *t, const struct replay_walk *w,
			   const struct task *task, const struct config_role *judge,
			   const char *tmpl, const struct steer_settings *s, struct pending *p,
			   struct replay_rejudge *out, struct errbuf *err)
{
	struct strbuf doc = STRBUF_INIT;
	size_t k, j;

	for (k = 0; k < w->count; k++) {
		const struct replay_step *rs = &w->steps[k];
		const char **texts;

		out->verdicts[k].pick = -1;
		out->verdicts[k].spearman = NAN;
		p[k].out = out;
		p[k].step = k;
		p[k].count = rs->count;
		if (!rs->count) {
			out->verdicts[k].error = xstrdup("no candidates to judge");
			continue;
		}
		texts = xcalloc(rs->count, sizeof(*texts));
		for (j = 0; j < rs->count; j++)
			texts[j] = tree_node(t, rs->candidates[j])->text;
		strbuf_reset(&doc);
		tree_document(t, rs->node, &doc);
		p[k].judge =
		    judge_step(e, t, rs, task, judge, tmpl, doc.data, texts, s, &p[k], err);
		free(texts);
		if (!p[k].judge) {
			/* a prompt past the cap: refused before anything is sent
			 * (the engine sends only when run) */
			errbuf_prefix(err, "step %zu", k + 1);
			break;
		}
	}
	strbuf_release(&doc);
	return k;
}

/* out's counts and mean Spearman from its verdicts against the walk. */
static void tally_verdicts(const struct replay_walk *w, struct replay_rejudge *out)
{
	double sum = 0;
	size_t k;

	for (k = 0; k < w->count; k++) {
		const struct replay_step *rs = &w->steps[k];
		struct replay_verdict *rv = &out->verdicts[k];

		if (!rv->ok) {
			out->failed++;
			out->request_failed += rv->request_failed != 0;
			continue;
		}
		out->judged++;
		if (rs->judge_index >= 0) {
			out->vs_judge++;
			out->agree_judge += rv->pick == rs->judge_index;
		}
		if (rs->picker == TREE_PICKER_HUMAN && rs->final_index >= 0) {
			out->vs_human++;
			out->agree_human += rv->pick == rs->final_index;
		}
		if (rs->scores) {
			rv->spearman = replay_spearman(rs->scores, rv->scores, rs->count);
			if (!isnan(rv->spearman)) {
				sum += rv->spearman;
				out->spearman_steps++;
			}
		}
	}
	out->spearman_mean = out->spearman_steps ? sum / (double)out->spearman_steps : NAN;
}

int replay_rejudge(struct lm_engine *e, const struct tree *t, const struct replay_walk *w,
		   const struct task *task, const struct config_role *judge, const char *tmpl,
		   const struct steer_settings *s, struct replay_rejudge *out, struct errbuf *err)
{
	struct pending *p = xcalloc(w->count ? w->count : 1, sizeof(*p));
	size_t k, started;
	int r;

	memset(out, 0, sizeof(*out));
	out->verdicts = xcalloc(w->count ? w->count : 1, sizeof(*out->verdicts));
	out->count = w->count;
	started = start_judges(e, t, w, task, judge, tmpl, s, p, out, err);
	if (started < w->count) {
		for (k = 0; k < started; k++)
			steer_judge_free(p[k].judge);
		free(p);
		return REPLAY_PROMPT_TOO_LARGE;
	}
	r = lm_run(e, err);
	for (k = 0; k < w->count; k++)
		steer_judge_free(p[k].judge);
	free(p);
	tally_verdicts(w, out);
	return r;
}

void replay_rejudge_release(struct replay_rejudge *r)
{
	size_t k;

	for (k = 0; k < r->count; k++) {
		free(r->verdicts[k].scores);
		free(r->verdicts[k].raw);
		free(r->verdicts[k].error);
	}
	free(r->verdicts);
	memset(r, 0, sizeof(*r));
}

static void put_number(struct strbuf *sb, double v)
{
	if (isfinite(v))
		strbuf_addf(sb, "%.17g", v);
	else
		strbuf_addstr(sb, "null");
}

void replay_rejudge_store(struct tree *t, const struct replay_walk *w,
			  const struct replay_rejudge *r, const char *model, const char *prompt)
{
	struct strbuf v = STRBUF_INIT, members = STRBUF_INIT;
	size_t k, j;

	for (k = 0; k < w->count && k < r->count; k++) {
		const struct replay_step *rs = &w->steps[k];
		const struct replay_verdict *rv = &r->verdicts[k];
		struct tree_step *s;

		if (!rs->count)
			continue;
		s = tree_node(t, rs->node)->step;
		if (!s) {
			s = tree_step_get(t, rs->node);
			for (j = 0; j < rs->count; j++)
				tree_step_add_candidate(s, rs->candidates[j], 0, 0);
		}
		strbuf_reset(&v);
		strbuf_addstr(&v, "{\"model\":");
		strbuf_add_json_string(&v, model ? model : "");
		strbuf_addstr(&v, ",\"prompt\":");
		strbuf_add_json_string(&v, prompt ? prompt : "");
		if (rv->ok) {
			strbuf_addstr(&v, ",\"rank\":");
			strbuf_add_json_string(&v, rv->rank_used ? rv->rank_used : "");
			strbuf_addstr(&v, ",\"scores\":[");
			for (j = 0; j < rs->count; j++) {
				if (j)
					strbuf_addch(&v, ',');
				put_number(&v, rv->scores[j]);
			}
			strbuf_addstr(&v, "],\"pick\":");
			strbuf_add_json_string(&v, tree_node(t, rs->candidates[rv->pick])->id);
			strbuf_addstr(&v, ",\"candidates\":[");
			for (j = 0; j < rs->count; j++) {
				if (j)
					strbuf_addch(&v, ',');
				strbuf_add_json_string(&v, tree_node(t, rs->candidates[j])->id);
			}
			strbuf_addch(&v, ']');
		} else {
			strbuf_addstr(&v, ",\"error\":");
			strbuf_add_json_string(&v, rv->error ? rv->error : "");
		}
		strbuf_addch(&v, '}');
		strbuf_reset(&members);
		if (meta_members_set(s->extra_json, "rejudge", v.data, &members) == 0)
			tree_step_set_str(&s->extra_json, members.data);
	}
	strbuf_release(&v);
	strbuf_release(&members);
}

/*
 * Steering from the loom: g runs a step at the focus (G adds candidates to
 * it), a turns autopilot on and off, Esc cancels what is in flight.  A step
 * runs in the engine the loop polls; when it ends, finish_step makes its
 * nodes one undoable action, journals the step as one line and, on
 * autopilot, takes the judge's pick and starts the next.
 */
#include "loom.h"

#include "weft/journal.h"

static void step_done(void *ctx, const struct steer_outcome *o)
{
	struct tui *u = ctx;

	u->outcome = *o;
	u->step_ended = 1;
}

/* Why steering cannot run, or NULL when it can. */
static const char *steer_missing(const struct tui *u)
{
	const struct tui_options *o = u->opts;

	if (!o || !o->engine || !o->generator || !o->judge || !config_role_configured(o->generator))
		return "no generator configured: see README Configuration ([generator] model)";
	if (!config_role_configured(o->judge))
		return "no judge configured: see README Configuration ([judge] model)";
	if (!o->task)
		return "the session names no task (weft new --task NAME starts one)";
	return NULL;
}

static unsigned start_step(struct tui *u, uint32_t at)
{
	struct steer_settings s;
	struct errbuf err;

	/* every field set: G at a step that waits for a pick must add
	 * candidates, never re-judge on a stray rejudge_waiting */
	steer_settings_from_task(&s, u->opts->task);
	u->step_at = at;
	u->count_before = u->t->count;
	u->step_ended = 0;
	u->step = steer_start(u->opts->engine, u->t, at, u->opts->task, u->opts->generator,
			      u->opts->judge, &s, step_done, u, &err);
	if (!u->step) { /* a prompt past the cap: nothing was sent */
		u->autopilot = 0;
		set_msg(u, MSG_ERROR, "%s", err.msg);
		return REDRAW_STATUS;
	}
	set_msg(u, MSG_INFO, "asking the generator for %u candidates...", s.n);
	return REDRAW_STATUS;
}

unsigned act_generate(struct tui *u, int more)
{
	const char *why = steer_missing(u);
	const struct tree_node *f = tree_node(u->t, u->t->focus);

	if (why) {
		set_msg(u, MSG_ERROR, "%s", why);
		return REDRAW_STATUS;
	}
	if (u->step) {
		set_msg(u, MSG_INFO, "a step is in flight (Esc cancels)");
		return REDRAW_STATUS;
	}
	if (!more && f->step && f->step->count) {
		set_msg(u, MSG_INFO,
			"this step has candidates: Enter accepts, 1-9 picks, G adds more");
		return REDRAW_STATUS;
	}
	return start_step(u, u->t->focus);
}

unsigned act_autopilot(struct tui *u, int arg)
{
	const char *why = steer_missing(u);

	(void)arg;
	if (u->autopilot) {
		u->autopilot = 0;
		if (u->step) {
			steer_step_free(u->step);
			u->step = NULL;
		}
		set_msg(u, MSG_INFO, "autopilot off");
		return REDRAW_ALL;
	}
	if (why) {
		set_msg(u, MSG_ERROR, "%s", why);
		return REDRAW_STATUS;
	}
	u->autopilot = 1;
	if (!u->step) {
		focus_on(u, tree_path_tip(u->t));
		start_step(u, u->t->focus);
	}
	set_msg(u, MSG_INFO, "autopilot on (a or Esc stops it)");
	return REDRAW_ALL;
}

unsigned act_cancel(struct tui *u, int arg)
{
	(void)arg;
	if (u->map_pid)
		return map_page_cancel(u);
	if (u->eval) {
		evalrun_free(u->eval);
		u->eval = NULL;
		evalset_release(&u->evalset);
		set_msg(u, MSG_INFO, "evaluation cancelled");
		return REDRAW_STATUS;
	}
	if (u->pverify && !u->step && !u->autopilot)
		return pairs_verify_cancel(u);
	if (!u->step && !u->autopilot)
		return REDRAW_NONE;
	if (u->step) {
		steer_step_free(u->step);
		u->step = NULL;
	}
	u->autopilot = 0;
	set_msg(u, MSG_INFO, "cancelled; the tree is as it was");
	return REDRAW_ALL;
}

/* Writes the step grown at node (its candidates, the node, the chosen
 * path) to the journal as one line; -1 when it could not (said on screen).
 * A tree with no file has no journal. */
static int journal_step(struct tui *u, uint32_t node)
{
	const struct tree *t = u->t;
	const struct tree_step *s = tree_node(t, node)->step;
	struct journal_batch b;
	struct errbuf err;
	size_t k;

	if (!u->path)
		return 0;
	journal_batch_init(&b);
	for (k = 0; s && k < s->count; k++)
		journal_batch_node(&b, t, s->candidates[k]);
	journal_batch_node(&b, t, node);
	journal_batch_path(&b, t);
	if (journal_batch_commit(u->path, &b, &err) < 0) {
		journal_failure(u, &err);
		return -1;
	}
	return 0;
}

/* The new children of node (the step's nodes, already in the tree) become
 * one undoable action, the focus on node.  They are not journalled one by
 * one: journal_step writes the step whole. */
static void adopt_step(struct tui *u, uint32_t node)
{
	struct tree *t = u->t;
	void (*observer)(void *, uint32_t, enum history_change) = u->hist.observer;
	uint32_t i;

	u->hist.observer = NULL;
	history_begin(&u->hist, t);
	for (i = u->count_before; i < t->count; i++)
		if (tree_node(t, i)->parent == node)
			history_added(&u->hist, t, i);
	focus_on(u, node);
	history_end(&u->hist, t);
	u->hist.observer = observer;
	mark_changed(u);
}

/* Autopilot after a step: takes the judge's pick and starts the next step,
 * until the task's rounds are done. */
static unsigned autopilot_next(struct tui *u, uint32_t judge_pick)
{
	const struct tree *t = u->t;

	record_pick(u, judge_pick, TREE_PICKER_AI);
	journal_path_if_due(u);
	if (steer_path_steps(t) >= u->opts->task->rounds) {
		u->autopilot = 0;
		set_msg(u, MSG_INFO, "autopilot done: %zu steps (the task's rounds)",
			steer_path_steps(t));
	} else {
		start_step(u, u->t->focus);
		set_msg(u, MSG_INFO, "autopilot: step %zu", steer_path_steps(t) + 1);
	}
	return REDRAW_ALL | REDRAW_STATS;
}

/*
 * A step ended: its nodes are already in the tree.  Make them undoable (one
 * action) and write the step to the journal as one line, then, on
 * autopilot, take the judge's pick and go on.
 */
unsigned finish_step(struct tui *u)
{
	struct steer_outcome o = u->outcome;

	steer_step_free(u->step);
	u->step = NULL;
	u->step_ended = 0;
	if (o.prompt_tokens > 0)
		u->tokens += o.prompt_tokens;
	if (o.completion_tokens > 0)
		u->tokens += o.completion_tokens;
	if (o.key_redacted)
		set_sticky(u, "a model's reply held a piece of an API key: stored as [key hidden]");
	if (o.status == STEER_FAILED) {
		u->autopilot = 0;
		set_msg(u, MSG_ERROR, "%s", o.err.msg);
		return REDRAW_ALL;
	}
	adopt_step(u, o.node);
	if (journal_step(u, o.node) < 0) {
		/* the step is only in memory: nothing may build on it */
		u->autopilot = 0;
		return REDRAW_ALL | REDRAW_STATS;
	}
	if (o.status == STEER_JUDGE_FAILED) {
		/* an error, not a person's turn: say the judge failed and why */
		u->autopilot = 0;
		set_msg(u, MSG_ERROR, "%s (g asks again)", o.err.msg);
		return REDRAW_ALL | REDRAW_STATS;
	}
	if (o.status == STEER_NEEDS_HUMAN) {
		u->autopilot = 0;
		set_msg(u, MSG_ERROR, "pick with 1-9: %s", o.err.msg);
		return REDRAW_ALL | REDRAW_STATS;
	}
	if (!u->autopilot) {
		set_msg(u, MSG_INFO,
			"%zu candidates; the judge picked one: Enter accepts, 1-9 overrides",
			o.candidates);
		return REDRAW_ALL | REDRAW_STATS;
	}
	return autopilot_next(u, o.judge_pick);
}

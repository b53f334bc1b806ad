/*
 * The evaluation preview (v): the chosen path's pairs run on every
 * configured scorer.NAME in the engine the loop polls, progress on the
 * status line, and when the run ends a page with the class balance, the
 * table and the plot.  Esc cancels a run (steering.c's act_cancel).
 */
#include "loom.h"

unsigned act_eval(struct tui *u, int arg)
{
	const struct tui_options *o = u->opts;
	const struct task *task = o ? o->task : NULL;
	struct pairs_result pr;
	struct evalrun_options eo;
	struct errbuf err;
	size_t models;

	(void)arg;
	if (u->eval) {
		set_msg(u, MSG_INFO, "an evaluation is running (Esc cancels)");
		return REDRAW_STATUS;
	}
	if (!o || !o->engine || !o->config) {
		set_msg(u, MSG_ERROR,
			"no scorer configured: add [scorer.NAME] sections (README Configuration)");
		return REDRAW_STATUS;
	}
	if (path_pairs(u, &pr) < 0)
		return REDRAW_STATUS;
	evalset_init(&u->evalset);
	evalset_from_pairs(&u->evalset, &pr);
	pairs_result_release(&pr);
	evalrun_options_init(&eo);
	if (task)
		eo.eval_prompt = task->eval;
	u->eval = evalrun_new(o->engine, &u->evalset, &eo, &err);
	if (!u->eval) {
		evalset_release(&u->evalset);
		set_msg(u, MSG_ERROR, "%s", err.msg);
		return REDRAW_STATUS;
	}
	models = evalrun_add_configured(u->eval, o->config, NULL);
	if (!models) {
		evalrun_free(u->eval);
		u->eval = NULL;
		evalset_release(&u->evalset);
		set_msg(u, MSG_ERROR,
			"no scorer configured: add [scorer.NAME] sections (README Configuration)");
		return REDRAW_STATUS;
	}
	evalrun_start(u->eval);
	set_msg(u, MSG_INFO, "evaluating %zu pairs on %zu models (Esc cancels)", u->evalset.n,
		models);
	return REDRAW_STATUS;
}

/* Called by the loop: progress while the run goes, the popup when it ends. */
unsigned eval_tick(struct tui *u)
{
	size_t done, total;

	if (!u->eval)
		return 0;
	evalrun_progress(u->eval, &done, &total);
	if (!evalrun_done(u->eval)) {
		set_msg(u, MSG_INFO, "evaluating: %zu/%zu (Esc cancels)", done, total);
		return 0;
	}
	strbuf_reset(&u->eval_page);
	evalrun_format_balance(u->eval, &u->eval_page);
	strbuf_addch(&u->eval_page, '\n');
	evalrun_format_table(u->eval, &u->eval_page);
	strbuf_addch(&u->eval_page, '\n');
	evalrun_format_plot(u->eval, COLS > 100 ? 90 : COLS - 10, LINES > 30 ? 16 : 8,
			    &u->eval_page);
	evalrun_free(u->eval);
	u->eval = NULL;
	evalset_release(&u->evalset);
	u->help_scroll = 0;
	u->mode = MODE_EVAL;
	set_msg(u, MSG_INFO, "evaluation done");
	return REDRAW_ALL;
}

void draw_eval(const struct tui *u)
{
	draw_page(u, " evaluation preview (any key returns; j/k scroll)", &u->eval_page);
}

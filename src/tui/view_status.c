/*
 * The status line (the bottom row): the facts on the left (models, steps
 * in flight, autopilot, the focus's step, tokens, the path's class
 * balance, the theme), on the right what the person must see: the prompt
 * being typed, or read-only, the warning that stays and the last message.
 */
#include "loom.h"

#include <stdio.h>
#include <string.h>

#include "weft/display.h"
#include "weft/lm.h"

/* The right part: the prompt being typed; else what stays (read-only, a
 * journal or save that failed) first, so a message never hides it, then
 * the last message. */
static void status_right(const struct tui *u, struct strbuf *right)
{
	if (prompt_text(u, right))
		return;
	if (u->opts && u->opts->read_only) {
		strbuf_addstr(right, "READ-ONLY (");
		display_sanitize(u->opts->read_only, strlen(u->opts->read_only), right);
		strbuf_addstr(right, ")");
	}
	if (u->sticky[0])
		strbuf_addf(right, "%s%s", right->len ? " " : "", u->sticky);
	if (right->len && u->msg[0])
		strbuf_addstr(right, " | ");
	strbuf_addstr(right, u->msg);
}

/* A model name from a file, at most 40 bytes, sanitized. */
static void model_name(const char *name, struct strbuf *out)
{
	if (name)
		display_sanitize(name, strlen(name) < 40 ? strlen(name) : 40, out);
	else
		strbuf_addstr(out, "-");
}

/* The facts on the left: the configured models (else, for the generator,
 * the model that wrote the highlighted candidate or the focus), the step
 * in flight, autopilot, where the focus is, tokens, balance, theme. */
static void status_facts(const struct tui *u, char *buf, size_t size)
{
	static const char spinner[] = "|/-\\";
	const struct tree *t = u->t;
	const char *model = u->opts ? u->opts->generator_model : NULL;
	struct strbuf gen = STRBUF_INIT, judge = STRBUF_INIT;
	size_t inflight = u->opts && u->opts->engine ? lm_engine_in_flight(u->opts->engine) : 0;
	long pos = u->vpos;

	if (!model && u->cand != TREE_NONE)
		model = tree_node(t, u->cand)->model;
	if (!model)
		model = tree_node(t, t->focus)->model;
	model_name(model, &gen);
	model_name(u->opts ? u->opts->judge_model : NULL, &judge);
	snprintf(buf, size,
		 " gen %s judge %s | %c%zu in flight | autopilot %s | step %ld/%zu%s | %ld tok | "
		 "%s | %s | ",
		 gen.data, judge.data, u->step ? spinner[u->spin % 4] : ' ', inflight,
		 u->autopilot ? "ON" : "off", pos, t->path_len ? t->path_len - 1 : 0,
		 view_on_path(u, (size_t)pos) ? "" : " browsing", u->tokens, u->balance,
		 u->theme.name);
	strbuf_release(&gen);
	strbuf_release(&judge);
}

void draw_status(const struct tui *u, int y, int width)
{
	char buf[320];
	struct strbuf right = STRBUF_INIT;
	int right_w, info_w;

	/* The bottom-right cell is left alone: writing it scrolls some
	 * terminals. */
	width--;
	status_right(u, &right);
	status_facts(u, buf, sizeof(buf));
	/* The message (or the prompt being typed) has the right part; the
	 * facts get what is left, at least a quarter of the line. */
	right_w = (int)display_width(right.data, right.len);
	info_w = (int)strlen(buf);
	if (info_w + right_w > width)
		info_w = width - right_w < width / 4 ? width / 4 : width - right_w;
	wmove(stdscr, y, 0);
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	put_ascii(stdscr, buf, info_w);
	if (right.len) {
		int x, yy;

		getyx(stdscr, yy, x);
		(void)yy;
		if ((u->msg_kind == MSG_ERROR || u->sticky[0] || (u->opts && u->opts->read_only)) &&
		    u->mode != MODE_SEARCH && u->mode != MODE_EXPORT)
			wattrset(stdscr, role_attr(u, THEME_ERROR));
		if (x < width)
			put_text(stdscr, right.data, right.len, width - x);
	}
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	fill_to(stdscr, y, width);
	strbuf_release(&right);
}

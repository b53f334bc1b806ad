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

/* The right part when no prompt is open: what stays (read-only, a
 * journal or save that failed) first, so a message never hides it, then
 * the last message. */
static void status_right(const struct tui *u, struct strbuf *right)
{
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

/* The facts on the left, each whole or not at all: a message gets the
 * room the facts leave, and they make way for it (drop 1 before 2 ...)
 * about from the right end, as the line read before a message covered
 * them.  Drop 0 always stays: where the focus is, and autopilot or steps
 * in flight while they run. */
struct field {
	char text[128];
	int drop;
};

enum { FIELD_COUNT = 7 };

/* The configured models (else, for the generator, the model that wrote the
 * highlighted candidate or the focus), the steps in flight, autopilot,
 * where the focus is, tokens, the balance and the theme. */
static void status_fields(const struct tui *u, struct field *f)
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
	snprintf(f[0].text, sizeof(f[0].text), "gen %s judge %s", gen.data, judge.data);
	f[0].drop = 6;
	snprintf(f[1].text, sizeof(f[1].text), "%c%zu in flight",
		 u->step ? spinner[u->spin % 4] : ' ', inflight);
	f[1].drop = u->step || inflight ? 0 : 5;
	snprintf(f[2].text, sizeof(f[2].text), "autopilot %s", u->autopilot ? "ON" : "off");
	f[2].drop = u->autopilot ? 0 : 4;
	snprintf(f[3].text, sizeof(f[3].text), "step %ld/%zu%s", pos,
		 t->path_len ? t->path_len - 1 : 0,
		 view_on_path(u, (size_t)pos) ? "" : " browsing");
	f[3].drop = 0;
	snprintf(f[4].text, sizeof(f[4].text), "%ld tok", u->tokens);
	f[4].drop = 2;
	snprintf(f[5].text, sizeof(f[5].text), "%s", u->balance);
	f[5].drop = 3;
	snprintf(f[6].text, sizeof(f[6].text), "%s", u->theme.name);
	f[6].drop = 1;
	strbuf_release(&gen);
	strbuf_release(&judge);
}

/* A fact's columns with its " | ". */
static int field_width(const struct field *f)
{
	return (int)display_width(f->text, strlen(f->text)) + 3;
}

/* The facts kept (the others get drop -1) so that at least need columns
 * are left of width; returns their width.  A prompt may take the facts
 * that stay too (prompt set). */
static int fit_fields(struct field *f, int width, int need, int prompt)
{
	int w = 1, k, rank;

	for (k = 0; k < FIELD_COUNT; k++)
		w += field_width(&f[k]);
	for (rank = 1; rank <= 6 && w > width - need; rank++)
		for (k = 0; k < FIELD_COUNT; k++)
			if (f[k].drop == rank) {
				w -= field_width(&f[k]);
				f[k].drop = -1;
			}
	for (k = FIELD_COUNT - 1; prompt && k >= 0 && w > width - need; k--)
		if (f[k].drop == 0) {
			w -= field_width(&f[k]);
			f[k].drop = -1;
		}
	return w;
}

/* The width of the facts that always stay. */
static int kept_width(const struct field *f)
{
	int w = 1, k;

	for (k = 0; k < FIELD_COUNT; k++)
		if (f[k].drop == 0)
			w += field_width(&f[k]);
	return w;
}

/* Draws the right part in cols columns: a message cut to fit ends in "…"
 * (by display width); a prompt is only cut. */
static void put_right(const struct strbuf *right, int cols, int prompt)
{
	size_t n;

	if (cols <= 0)
		return;
	if (prompt || display_width(right->data, right->len) <= (size_t)cols) {
		put_text(stdscr, right->data, right->len, cols);
		return;
	}
	n = display_truncate(right->data, right->len, (size_t)cols - 1, NULL);
	put_text(stdscr, right->data, n, cols - 1);
	put_text(stdscr, "\xe2\x80\xa6", 3, 1);
}

void draw_status(const struct tui *u, int y, int width)
{
	struct field f[FIELD_COUNT];
	struct strbuf right = STRBUF_INIT;
	int right_w, info_w, prompt, k, cap;

	/* The bottom-right cell is left alone: writing it scrolls some
	 * terminals. */
	width--;
	prompt = prompt_text(u, &right);
	if (!prompt)
		status_right(u, &right);
	status_fields(u, f);
	/* A message may take the room of every fact but those that stay; a
	 * prompt being typed three quarters of the line, as before. */
	right_w = (int)display_width(right.data, right.len);
	cap = prompt ? width - width / 4 : width - kept_width(f);
	info_w = fit_fields(f, width, right_w < cap ? right_w : cap, prompt);
	wmove(stdscr, y, 0);
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	waddch(stdscr, ' ');
	for (k = 0; k < FIELD_COUNT; k++)
		if (f[k].drop >= 0) {
			put_ascii(stdscr, f[k].text, width - getcurx(stdscr));
			put_ascii(stdscr, " | ", width - getcurx(stdscr));
		}
	if (right.len && info_w < width) {
		if ((u->msg_kind == MSG_ERROR || u->sticky[0] || (u->opts && u->opts->read_only)) &&
		    !prompt)
			wattrset(stdscr, role_attr(u, THEME_ERROR));
		put_right(&right, width - getcurx(stdscr), prompt);
	}
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	fill_to(stdscr, y, width);
	strbuf_release(&right);
}

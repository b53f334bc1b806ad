/*
 * One frame of the loom: the page the mode shows (help, evaluation,
 * replay), or the header, then the areas laid out on the screen (the
 * outline on the left when there is room, the text pane and under it the
 * candidates on the right) and the status line at the bottom.
 */
#include "loom.h"

#include <stdio.h>

/* The areas of the main screen for a terminal of rows x cols. */
struct areas {
	int body;    /* rows between the header and the status line */
	int tree_w;  /* the outline's width; 0: no outline */
	int right_x; /* where the text pane and the candidates start */
	int right_w;
	int cand_h; /* the candidates' rows; 0: none (with their rule above) */
	int text_h;
};

static void layout_areas(const struct tui *u, int rows, int cols, struct areas *a)
{
	int kids = 0;
	uint32_t c;

	a->body = rows - 2;
	a->tree_w = cols >= 80 ? cols * 2 / 5 : cols >= 50 ? 20 : 0;
	a->right_x = a->tree_w ? a->tree_w + 1 : 0;
	a->right_w = cols - a->right_x;
	for (c = first_visible_child(u->t, u->t->focus); c != TREE_NONE && kids < 10;
	     c = next_visible_sibling(u->t, c))
		kids++;
	a->cand_h = a->body >= 12 ? (kids < 3 ? 3 : kids > 9 ? 9 : kids) : a->body >= 6 ? 2 : 0;
	a->text_h = a->body - (a->cand_h ? a->cand_h + 1 : 0);
}

/* The top row: the session's name and file. */
static void draw_header(const struct tui *u, int cols)
{
	struct strbuf title = STRBUF_INIT;

	wmove(stdscr, 0, 0);
	wattrset(stdscr, role_attr(u, THEME_BORDER));
	strbuf_addstr(&title, " weft  ");
	if (u->t->name)
		strbuf_addstr(&title, u->t->name);
	if (u->path) {
		strbuf_addstr(&title, "  ");
		strbuf_addstr(&title, u->path);
	}
	strbuf_addstr(&title, "   ? help");
	put_untrusted(stdscr, title.data, title.len, cols);
	strbuf_release(&title);
	fill_to(stdscr, 0, cols);
}

int screen_outline_height(void)
{
	return LINES - 2;
}

/* The main screen: header, outline, text, candidates, status line. */
static void draw_main(const struct tui *u)
{
	int rows = LINES, cols = COLS, y;
	struct areas a;
	char buf[128];

	wattrset(stdscr, role_attr(u, THEME_NORMAL));
	erase();
	draw_header(u, cols);
	layout_areas(u, rows, cols, &a);
	if (a.body < 1) {
		draw_status(u, rows - 1, cols);
		return;
	}
	if (a.tree_w) {
		draw_outline(u, 1, 0, a.body, a.tree_w);
		wattrset(stdscr, role_attr(u, THEME_BORDER));
		for (y = 1; y <= a.body; y++)
			mvaddch(y, a.tree_w, ACS_VLINE);
	}
	draw_text(u, 1, a.right_x, a.text_h, a.right_w, u->view, u->view_len, u->vpos, u->view_len);
	if (a.cand_h) {
		wmove(stdscr, 1 + a.text_h, a.right_x);
		wattrset(stdscr, role_attr(u, THEME_BORDER));
		snprintf(buf, sizeof(buf), "-- candidates of step %ld (Enter accepts, 1-9 pick) ",
			 u->vpos + 1);
		put_ascii(stdscr, buf, a.right_w);
		draw_rule_to(1 + a.text_h, cols);
		draw_candidates(u, 2 + a.text_h, a.right_x, a.cand_h, a.right_w);
	}
	draw_status(u, rows - 1, cols);
}

void screen_draw(const struct tui *u)
{
	switch (u->mode) {
	case MODE_HELP: draw_help(u); return;
	case MODE_MESSAGES: draw_messages(u); return;
	case MODE_EVAL: draw_eval(u); return;
	case MODE_REPLAY: draw_replay(u); return;
	case MODE_PAIRS: draw_pairs(u); return;
	case MODE_MAP: draw_map(u); return;
	case MODE_NORMAL:
	case MODE_CONFIRM_PRUNE:
	case MODE_SEARCH:
	case MODE_EXPORT:
	case MODE_CONFIRM_QUIT: break;
	}
	draw_main(u);
}

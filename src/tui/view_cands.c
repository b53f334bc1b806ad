/*
 * The candidates area: the focus's visible children, numbered 1-9 for the
 * pick keys, each with its marks, score bar and first line, the
 * highlighted one in the selected role and kept in sight.
 */
#include "loom.h"

#include <stdio.h>

/* "dup #3 " before the text of a candidate that would repeat pair 3 of
 * the path, in the error role, cut at the area's right edge x_end. */
static void draw_dup_mark(const struct tui *u, uint32_t c, enum theme_role role, int x_end)
{
	const struct steer_dup *d = candidate_dup(u, c);
	struct strbuf mark = STRBUF_INIT;
	int y, x;

	if (!d)
		return;
	getyx(stdscr, y, x);
	(void)y;
	steer_dup_mark(d, &mark);
	strbuf_addch(&mark, ' ');
	wattrset(stdscr, role_attr(u, THEME_ERROR));
	if (x < x_end)
		put_ascii(stdscr, mark.data, x_end - x);
	wattrset(stdscr, role_attr(u, role));
	strbuf_release(&mark);
}

void draw_candidates(const struct tui *u, int y0, int x0, int h, int width)
{
	const struct tree *t = u->t;
	uint32_t c;
	size_t k = 0, sel = 0, first;
	int row;
	char buf[64];

	if (h <= 0 || width <= 0)
		return;
	for (c = first_visible_child(t, t->focus); c != TREE_NONE && c != u->cand;
	     c = next_visible_sibling(t, c))
		sel++;
	first = sel >= (size_t)h ? sel - (size_t)h + 1 : 0;
	c = first_visible_child(t, t->focus);
	for (k = 0; k < first && c != TREE_NONE; k++)
		c = next_visible_sibling(t, c);
	for (row = 0; row < h; row++, k++) {
		const struct tree_node *nd;
		enum theme_role role;
		int x, y;

		wmove(stdscr, y0 + row, x0);
		wattrset(stdscr, role_attr(u, THEME_CANDIDATE));
		if (c == TREE_NONE) {
			if (row == 0 && k == 0)
				put_ascii(stdscr, " no candidates: g runs a step", width);
			fill_to(stdscr, y0 + row, x0 + width);
			continue;
		}
		nd = tree_node(t, c);
		role = c == u->cand ? THEME_SELECTED : THEME_CANDIDATE;
		wattrset(stdscr, role_attr(u, role));
		if (k < 9)
			snprintf(buf, sizeof(buf), "%zu ", k + 1);
		else
			snprintf(buf, sizeof(buf), "  ");
		put_ascii(stdscr, buf, width);
		draw_marks(u, stdscr, nd);
		waddch(stdscr, ' ');
		draw_score(u, stdscr, (nd->flags & TREE_HAS_SCORE) != 0, nd->score, role);
		draw_dup_mark(u, c, role, x0 + width);
		getyx(stdscr, y, x);
		(void)y;
		if (x < x0 + width)
			put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
		fill_to(stdscr, y0 + row, x0 + width);
		c = next_visible_sibling(t, c);
	}
}

/*
 * The outline (the left area): the view line root..focus..branch, one line
 * per node, with the alternatives of each step under it (at most
 * OUTLINE_ALT_MAX, then "... N more"), the focus a third of the way down.
 * Marks: '>' the chosen path, '~' the branch browsed off it, '+'/'-' an
 * alternative with/without children.
 */
#include "loom.h"

#include <stdio.h>
#include <stdlib.h>

#include "weft/xalloc.h"

enum oline_kind { OLINE_PATH, OLINE_ALT, OLINE_MORE };

struct oline {
	uint32_t node;
	size_t depth;
	enum oline_kind kind;
	size_t more;
};

/* Appends the outline lines of view node p (itself and the alternatives of
 * the next step), at most max lines. */
static void outline_of(const struct tui *u, size_t p, struct oline *out, size_t *n, size_t max)
{
	const struct tree *t = u->t;
	uint32_t node = u->view[p];
	uint32_t next = p + 1 < u->view_len ? u->view[p + 1] : TREE_NONE;
	uint32_t c;
	size_t shown = 0, total = 0;

	if (*n < max)
		out[(*n)++] = (struct oline){node, p, OLINE_PATH, 0};
	for (c = first_visible_child(t, node); c != TREE_NONE; c = next_visible_sibling(t, c)) {
		if (c == next)
			continue;
		total++;
		if (shown < OUTLINE_ALT_MAX) {
			if (*n < max)
				out[(*n)++] = (struct oline){c, p + 1, OLINE_ALT, 0};
			shown++;
		} else if (total > OUTLINE_ALT_MAX + 64) {
			/* counting further only changes a number: stop early */
			total = tree_visible_children(t, node) - (next != TREE_NONE);
			break;
		}
	}
	if (total > shown && *n < max)
		out[(*n)++] = (struct oline){TREE_NONE, p + 1, OLINE_MORE, total - shown};
}

static size_t outline_count(const struct tui *u, size_t p)
{
	struct oline tmp[OUTLINE_ALT_MAX + 2];
	size_t n = 0;

	outline_of(u, p, tmp, &n, OUTLINE_ALT_MAX + 2);
	return n;
}

size_t outline_page_nodes(const struct tui *u, size_t p, int dir, int h)
{
	size_t n = 0, lines = 0, q;

	for (q = p; dir < 0 ? q > 0 : q + 1 < u->view_len; q = dir < 0 ? q - 1 : q + 1) {
		lines += outline_count(u, dir < 0 ? q - 1 : q);
		if (lines > (size_t)h)
			break;
		n++;
	}
	return n ? n : 1;
}

/* One outline line of a node: the mark, the node's marks, its score, its
 * visible children (an alternative's), and its first line of text. */
static void draw_node_line(const struct tui *u, const struct oline *l, int x0, int width)
{
	const struct tree *t = u->t;
	const struct tree_node *nd = tree_node(t, l->node);
	char buf[32];
	uint32_t kids = first_visible_child(t, l->node) != TREE_NONE;
	int x, y;
	/* '>' marks the chosen path (the dataset), '~' the branch browsed off
	 * it; an alternative the chosen path takes is marked '>' too, so both
	 * lines can be seen */
	int chosen = l->kind == OLINE_PATH ? view_on_path(u, l->depth)
					   : l->depth < t->path_len && t->path[l->depth] == l->node;
	char mark = chosen ? '>' : l->kind == OLINE_PATH ? '~' : kids ? '+' : '-';
	enum theme_role role = l->node == t->focus     ? THEME_FOCUS
			       : chosen		       ? THEME_PATH
			       : l->kind == OLINE_PATH ? THEME_BROWSE
						       : THEME_TREE;

	wattrset(stdscr, role_attr(u, role));
	waddch(stdscr, mark);
	draw_marks(u, stdscr, nd);
	wattrset(stdscr, role_attr(u, role));
	waddch(stdscr, ' ');
	if (nd->flags & TREE_HAS_SCORE)
		snprintf(buf, sizeof(buf), "%4.2f ", nd->score);
	else
		snprintf(buf, sizeof(buf), "  -  ");
	put_ascii(stdscr, buf, 5);
	if (l->kind == OLINE_ALT && kids) {
		snprintf(buf, sizeof(buf), "(%zu) ", tree_visible_children(t, l->node));
		getyx(stdscr, y, x);
		put_ascii(stdscr, buf, x0 + width - x);
	}
	getyx(stdscr, y, x);
	(void)y;
	if (x < x0 + width)
		put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
}

/*
 * The outline lines around the focus: from a third of the height above it
 * to enough below.  Returns them (free them) with their count in *n and
 * the first one to show in *top.
 */
static struct oline *outline_lines(const struct tui *u, int h, size_t *n, size_t *top)
{
	size_t cap = (size_t)h + OUTLINE_ALT_MAX + 2, i, start, above = 0;
	size_t fpos = u->vpos < 0 ? 0 : (size_t)u->vpos, focus_line = 0;
	struct oline *lines;

	/* Walk back from the focus until a third of the height is above it. */
	start = fpos;
	while (start > 0 && above < (size_t)h / 3) {
		start--;
		above += outline_count(u, start);
	}
	lines = xreallocarray(NULL, cap + (size_t)h, sizeof(*lines));
	*n = 0;
	for (i = start; i < u->view_len && *n < cap + (size_t)h / 3; i++) {
		if (i == fpos)
			focus_line = *n;
		outline_of(u, i, lines, n, cap + (size_t)h);
	}
	*top = focus_line > (size_t)h / 3 ? focus_line - (size_t)h / 3 : 0;
	if (start == 0 && focus_line < (size_t)h)
		*top = 0;
	return lines;
}

void draw_outline(const struct tui *u, int y0, int x0, int h, int width)
{
	struct oline *lines;
	size_t n, top, i;
	int row;

	if (h <= 0 || width < 8 || u->t->root == TREE_NONE || u->view_len == 0)
		return;
	lines = outline_lines(u, h, &n, &top);
	for (row = 0; row < h && top + (size_t)row < n; row++) {
		const struct oline *l = &lines[top + (size_t)row];
		size_t indent = l->depth < (size_t)width / 3 ? l->depth : (size_t)width / 3;

		wmove(stdscr, y0 + row, x0);
		wattrset(stdscr, role_attr(u, THEME_TREE));
		for (i = 0; i < indent; i++)
			waddch(stdscr, ' ');
		if (l->kind == OLINE_MORE) {
			char buf[64];

			snprintf(buf, sizeof(buf), "  ... %zu more", l->more);
			put_ascii(stdscr, buf, width - (int)indent);
		} else {
			draw_node_line(u, l, x0, width);
		}
		fill_to(stdscr, y0 + row, x0 + width);
	}
	free(lines);
}

/*
 * The text pane: the document along a line of nodes (the view, or in
 * replay the chosen path), wrapped at the pane's width at word boundaries,
 * the focused node in its own role and a third of the way down.  Only the bytes that can
 * reach the screen are laid out, whatever the tree's size.
 */
#include "loom.h"

#include <stdlib.h>
#include <string.h>

#include "weft/display.h"
#include "weft/xalloc.h"

struct piece {
	int row, col;
	enum theme_role role;
	size_t off, len; /* into the layout's text */
};

struct layout {
	struct strbuf text; /* sanitized text of every segment */
	struct piece *pieces;
	size_t count, cap;
	int rows; /* rows used */
	int focus_first, focus_last;
};

static void layout_piece(struct layout *lo, int row, int col, enum theme_role role, size_t off,
			 size_t len)
{
	XGROW(lo->pieces, lo->cap, lo->count + 1);
	lo->pieces[lo->count++] = (struct piece){row, col, role, off, len};
}

/* The columns of the word at s: up to a space, a newline or end. */
static int word_cols(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && *p != ' ' && *p != '\n')
		p++;
	return (int)display_width(s, (size_t)(p - s));
}

/* Where the line that overflows at i breaks, in bytes after the break:
 * after its last space when the word from there fits on a line of its
 * own, at the start of the segment when the text before it ended in a
 * space and its first word fits, else 0 (mid-word, at i). */
static size_t word_break(const char *s, size_t start, size_t i, size_t end, int start_col,
			 int width)
{
	size_t k = i;

	while (k > start && s[k - 1] != ' ')
		k--;
	if (k > start)
		return word_cols(s + k, s + end) <= width ? k : 0;
	if (start_col > 0 && start > 0 && s[start - 1] == ' ' &&
	    word_cols(s + start, s + end) <= width)
		return start;
	return 0;
}

/* Ends the row at the piece [start, brk) and starts the next one. */
static void layout_newline(struct layout *lo, enum theme_role role, size_t start, size_t brk,
			   int start_col, int *row)
{
	if (brk > start)
		layout_piece(lo, *row, start_col, role, start, brk - start);
	(*row)++;
}

/* Lays out one segment of sanitized text (newlines kept), wrapping at
 * width at word boundaries (a word longer than the width breaks where it
 * must), continuing at the row and column given. */
static void layout_segment(struct layout *lo, size_t off, size_t len, enum theme_role role,
			   int width, int *row, int *col)
{
	size_t i = off, end = off + len, start = off, brk;
	int start_col = *col, cw;

	while (i < end) {
		const char *s = lo->text.data;
		size_t n;

		if (s[i] == '\n') {
			layout_newline(lo, role, start, i, start_col, row);
			*col = start_col = 0;
			start = ++i;
			continue;
		}
		n = display_char(s + i, end - i, &cw);
		if (*col + cw > width && s[i] == ' ') {
			/* the space that does not fit ends the row */
			layout_newline(lo, role, start, i, start_col, row);
			*col = start_col = 0;
			start = ++i;
			continue;
		}
		if (*col + cw > width) {
			brk = word_break(s, start, i, end, start_col, width);
			if (!brk)
				brk = i;
			layout_newline(lo, role, start, brk, start_col, row);
			*col = (int)display_width(s + brk, i - brk);
			start = brk;
			start_col = 0;
		}
		*col += cw;
		i += n;
	}
	if (i > start)
		layout_piece(lo, *row, start_col, role, start, i - start);
}

/* Where a slice of at most cap bytes from the end of s starts, moved to a
 * character boundary. */
static size_t tail_start(const char *s, size_t len, size_t cap)
{
	size_t i;

	if (len <= cap)
		return 0;
	i = len - cap;
	while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
		i++;
	return i;
}

static size_t head_len(const char *s, size_t len, size_t cap)
{
	size_t i;

	if (len <= cap)
		return len;
	i = cap;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

/* The nodes line[*s..*e) that hold enough text (budget bytes) to fill
 * the pane above and below the focus at fpos; drawing never touches more,
 * whatever the tree's size. */
static void text_window(const struct tree *t, const uint32_t *line, size_t fpos, size_t end,
			size_t budget, size_t *s, size_t *e)
{
	size_t acc = 0;

	*s = fpos;
	while (*s > 0 && acc < budget) {
		(*s)--;
		acc += tree_node(t, line[*s])->text_len;
	}
	acc = 0;
	for (*e = fpos; *e < end && acc < 2 * budget; (*e)++)
		acc += tree_node(t, line[*e])->text_len;
}

/* Lays out nodes line[s..e) (sanitized, wrapped at width) into lo, the
 * node at fpos in the focus role and nodes off the chosen path in their
 * own; budget caps the bytes taken from each end. */
static void text_layout(const struct tree *t, struct layout *lo, const uint32_t *line, size_t s,
			size_t e, size_t fpos, size_t budget, int width)
{
	int row = 0, col = 0;
	size_t p;

	lo->focus_first = lo->focus_last = -1;
	for (p = s; p < e; p++) {
		const struct tree_node *nd = tree_node(t, line[p]);
		size_t from = 0, len = nd->text_len, off;
		int chosen = p < t->path_len && t->path[p] == line[p];
		enum theme_role role = p == fpos ? THEME_TEXT_FOCUS
				       : chosen	 ? THEME_TEXT
						 : THEME_TEXT_BROWSE;

		if (p < fpos)
			from = tail_start(nd->text, len, budget);
		else
			len = head_len(nd->text, len, 2 * budget);
		len -= from;
		off = lo->text.len;
		display_sanitize_flags(nd->text + from, len,
				       DISPLAY_KEEP_NEWLINE | DISPLAY_TAB_AS_SPACE, &lo->text);
		if (role == THEME_TEXT_FOCUS)
			lo->focus_first = row;
		layout_segment(lo, off, lo->text.len - off, role, width, &row, &col);
		if (role == THEME_TEXT_FOCUS)
			lo->focus_last = row;
	}
	lo->rows = row + 1;
}

/* The first layout row to show in h rows: the focus a third of the way
 * down, the pane kept full when the text ends. */
static int text_top(const struct layout *lo, int h)
{
	int top = lo->focus_first - h / 3;

	if (lo->rows - top < h)
		top = lo->rows - h;
	if (top > lo->focus_first)
		top = lo->focus_first;
	return top < 0 ? 0 : top;
}

/* Draws the document along line (root first, line_len nodes: the view or
 * the chosen path) up to (not including) index end, the node at fpos
 * highlighted and nodes off the chosen path in their own role. */
void draw_text(const struct tui *u, int y0, int x0, int h, int width, const uint32_t *line,
	       size_t line_len, long fpos, size_t end)
{
	struct layout lo;
	size_t budget, s, e, i;
	int row, top;

	if (h <= 0 || width <= 0 || line_len == 0)
		return;
	memset(&lo, 0, sizeof(lo));
	strbuf_init(&lo.text);
	if (fpos < 0)
		fpos = 0;
	budget = (size_t)h * (size_t)width + (size_t)width;
	if (end > line_len)
		end = line_len;
	text_window(u->t, line, (size_t)fpos, end, budget, &s, &e);
	text_layout(u->t, &lo, line, s, e, (size_t)fpos, budget, width);
	top = text_top(&lo, h);
	wattrset(stdscr, role_attr(u, THEME_TEXT));
	for (row = 0; row < h; row++) {
		wmove(stdscr, y0 + row, x0);
		fill_to(stdscr, y0 + row, x0 + width);
	}
	for (i = 0; i < lo.count; i++) {
		const struct piece *pc = &lo.pieces[i];

		if (pc->row < top || pc->row >= top + h)
			continue;
		wmove(stdscr, y0 + pc->row - top, x0 + pc->col);
		wattrset(stdscr, role_attr(u, pc->role));
		put_text(stdscr, lo.text.data + pc->off, pc->len, width - pc->col);
	}
	strbuf_release(&lo.text);
	free(lo.pieces);
}

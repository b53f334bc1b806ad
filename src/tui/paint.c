/*
 * Curses drawing primitives shared by the views: text that is already
 * sanitized, untrusted text sanitized on the way, blank fills, a node's
 * marks, a score bar and a rule.  Each draws at the cursor and never past
 * the columns it is given.
 */
#include "loom.h"

#include <stdio.h>
#include <string.h>

#include "weft/display.h"
#include "weft/utf8.h"

/* Draws the n-byte character at s; a character the C library calls
 * unprintable (or bytes that are not one character) as U+FFFD, one column
 * wide, with *cw set to 1. */
static void put_char(WINDOW *w, const char *s, size_t n, int *cw)
{
	uint32_t cp;
	wchar_t ws[2];
	cchar_t cc;

	if (utf8_decode((const unsigned char *)s, n, &cp) != n || wcwidth((wchar_t)cp) < 0) {
		cp = 0xFFFD;
		*cw = 1;
	}
	ws[0] = (wchar_t)cp;
	ws[1] = 0;
	setcchar(&cc, ws, 0, 0, NULL);
	wadd_wch(w, &cc);
}

/*
 * Draws len bytes of sanitized UTF-8 at the cursor, at most cols columns;
 * returns the columns used.  Characters the C library calls unprintable
 * (unassigned code points) are drawn as U+FFFD so curses' idea of widths
 * and ours agree.
 */
/* The columns of the word that starts s: up to a space or the end. */
static size_t word_width(const char *s, size_t len)
{
	const char *sp = memchr(s, ' ', len);

	return display_width(s, sp ? (size_t)(sp - s) : len);
}

size_t wrap_line(const char *s, size_t len, int cols)
{
	size_t i = 0, after_space = 0;
	int col = 0, cw;

	while (i < len) {
		size_t n = display_char(s + i, len - i, &cw);

		if (col + cw > cols && i > 0) {
			if (after_space &&
			    word_width(s + after_space, len - after_space) <= (size_t)cols)
				return after_space;
			return i;
		}
		col += cw;
		i += n;
		if (s[i - n] == ' ')
			after_space = i;
	}
	return len;
}

int put_text(WINDOW *w, const char *s, size_t len, int cols)
{
	size_t i = 0, n;
	int used = 0, cw;

	while (i < len && used < cols) {
		n = display_char(s + i, len - i, &cw);
		if (used + cw > cols)
			break;
		if (n == 1 && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
			/* a run of printable ASCII in one call */
			size_t run = 1;

			while (i + run < len && used + (int)run < cols &&
			       (unsigned char)s[i + run] >= 0x20 &&
			       (unsigned char)s[i + run] < 0x7f)
				run++;
			waddnstr(w, s + i, (int)run);
			used += (int)run;
			i += run;
			continue;
		}
		if (n == 1) {
			waddch(w, (chtype)(unsigned char)s[i]);
		} else {
			put_char(w, s + i, n, &cw);
		}
		used += cw;
		i += n;
	}
	return used;
}

/* Sanitizes raw text into a one-line form (newlines and tabs as spaces,
 * every other control visible) and draws it. */
int put_untrusted(WINDOW *w, const char *s, size_t len, int cols)
{
	struct strbuf safe = STRBUF_INIT;
	int used;
	/* Only what can be seen is sanitized: a 10 MB line costs one screen. */
	size_t cap = (size_t)(cols > 0 ? cols : 0) * 4 + 16;

	display_sanitize_flags(s, len < cap ? len : cap,
			       DISPLAY_NEWLINE_AS_SPACE | DISPLAY_TAB_AS_SPACE, &safe);
	used = put_text(w, safe.data, safe.len, cols);
	strbuf_release(&safe);
	return used;
}

void fill_to(WINDOW *w, int y, int x_end)
{
	int y0, x, maxy = getmaxy(w), maxx = getmaxx(w);

	getyx(w, y0, x);
	if (y0 != y)
		return;
	if (x_end > maxx)
		x_end = maxx;
	if (x >= x_end)
		return;
	/* one call, not a waddch per cell: a blank takes the window's
	 * attributes either way; the cursor ends where waddch left it */
	whline(w, ' ', x_end - x);
	if (x_end < maxx)
		wmove(w, y, x_end);
	else if (y + 1 < maxy)
		wmove(w, y + 1, 0);
	else
		wmove(w, y, maxx - 1);
}

void put_ascii(WINDOW *w, const char *s, int cols)
{
	put_text(w, s, strlen(s), cols);
}

void draw_marks(const struct tui *u, WINDOW *w, const struct tree_node *nd)
{
	wattrset(w, role_attr(u, THEME_JUDGE));
	waddch(w, (nd->flags & TREE_JUDGE_PICK) ? 'J' : ' ');
	wattrset(w, role_attr(u, THEME_HUMAN));
	waddch(w, (nd->flags & TREE_HUMAN_PICK) ? 'H' : (nd->flags & TREE_EDITED) ? 'E' : ' ');
	wattrset(w, role_attr(u, THEME_BOOKMARK));
	waddch(w, (nd->flags & TREE_BOOKMARK) ? '*' : ' ');
}

void draw_score(const struct tui *u, WINDOW *w, int has_score, double score, enum theme_role role)
{
	char buf[32];
	int filled = 0, b;

	if (has_score) {
		double sc = score < 0 ? 0 : score > 1 ? 1 : score;

		filled = (int)(sc * BAR_WIDTH + 0.5);
	}
	wattrset(w, role_attr(u, THEME_BAR));
	for (b = 0; b < BAR_WIDTH; b++)
		waddch(w, b < filled ? '#' : '.');
	wattrset(w, role_attr(u, role));
	if (has_score)
		snprintf(buf, sizeof(buf), " %4.2f ", score);
	else
		snprintf(buf, sizeof(buf), "   -  ");
	put_ascii(w, buf, 6);
}

void draw_rule_to(int y, int x_end)
{
	int cy, x;

	getyx(stdscr, cy, x);
	/* a header that filled the row left the cursor on the next */
	for (; cy == y && x < x_end; x++)
		mvaddch(cy, x, ACS_HLINE);
}

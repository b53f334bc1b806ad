/*
 * Full-screen pages of text (the help, the evaluation preview): j and k
 * scroll, any other key returns to the loom.  The help page is the key
 * table's own text (tui_keymap_help), so it cannot drift from the keys.
 */
#include "loom.h"

#include <string.h>

/* A full-screen page of text (help, the evaluation popup); j/k scroll. */
void draw_page(const struct tui *u, const char *title, const struct strbuf *text)
{
	const char *p = text->data, *end = text->data + text->len;
	int row = 0, skip = u->help_scroll;

	erase();
	wattrset(stdscr, role_attr(u, THEME_BORDER));
	mvaddstr(0, 0, title);
	wattrset(stdscr, role_attr(u, THEME_HELP));
	while (p < end && row < LINES - 2) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (skip > 0) {
			skip--;
		} else {
			wmove(stdscr, 2 + row, 2);
			put_untrusted(stdscr, p, n, COLS - 2);
			row++;
		}
		p += n + 1;
	}
}

void draw_help(const struct tui *u)
{
	struct strbuf text = STRBUF_INIT;

	tui_keymap_help(&text);
	draw_page(u, " weft keys (any key returns; j/k scroll)", &text);
	strbuf_release(&text);
}

unsigned act_help(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_HELP;
	u->help_scroll = 0;
	return REDRAW_ALL;
}

unsigned page_key(struct tui *u, wint_t ch, int is_key)
{
	if (!is_key && ch == 'j')
		u->help_scroll++;
	else if (!is_key && ch == 'k' && u->help_scroll > 0)
		u->help_scroll--;
	else
		u->mode = MODE_NORMAL;
	return REDRAW_ALL;
}

/*
 * Full-screen pages of text (the help, the recent messages, the evaluation
 * preview): j and k scroll, any other key returns to the loom.  The help
 * page is the key table's own text (tui_keymap_help), so it cannot drift
 * from the keys.
 */
#include "loom.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* Appends one message: its time and kind, then its text wrapped at cols,
 * the lines after the first indented under the text. */
static void message_lines(const struct msg_entry *e, int cols, struct strbuf *out)
{
	char when[16] = "--:--:--";
	struct tm tm;
	const char *p = e->text;
	size_t len = strlen(e->text), indent = out->len, n;

	if (localtime_r(&e->when, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	strbuf_addf(out, "%s %-5s ", when, e->kind == MSG_ERROR ? "error" : "info");
	indent = out->len - indent;
	cols -= (int)indent;
	for (;;) {
		n = wrap_line(p, len, cols < 8 ? 8 : cols);
		strbuf_add(out, p, n);
		strbuf_addch(out, '\n');
		p += n;
		len -= n;
		while (len && *p == ' ') {
			p++;
			len--;
		}
		if (!len)
			break;
		strbuf_addf(out, "%*s", (int)indent, "");
	}
}

void draw_messages(const struct tui *u)
{
	struct strbuf text = STRBUF_INIT;
	size_t k, n = u->msg_log_count < MSG_LOG_LEN ? u->msg_log_count : MSG_LOG_LEN;

	for (k = 0; k < n; k++)
		message_lines(&u->msg_log[(u->msg_log_count - 1 - k) % MSG_LOG_LEN], COLS - 4,
			      &text);
	if (!n)
		strbuf_addstr(&text, "no messages yet\n");
	draw_page(u, " weft messages, newest first (any key returns; j/k scroll)", &text);
	strbuf_release(&text);
}

unsigned act_messages(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_MESSAGES;
	u->help_scroll = 0;
	return REDRAW_ALL;
}

unsigned act_help(struct tui *u, int arg)
{
	(void)arg;
	u->help_return = u->mode == MODE_PAIRS ? MODE_PAIRS : MODE_NORMAL;
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
		u->mode = u->mode == MODE_HELP ? u->help_return : MODE_NORMAL;
	return REDRAW_ALL;
}

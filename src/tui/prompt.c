/*
 * The line prompts on the status line: the line editing they share, the
 * search (/ types it, n and N find the next and previous match) and the
 * export (x names the file, Tab picks the format, Enter writes).  prompt_text
 * says what the status line shows while one is open.
 */
#include "loom.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/display.h"
#include "weft/export.h"
#include "weft/outfile.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/* The most a prompt line holds, in bytes. */
#define PROMPT_MAX 1024

/* What x offers, in Tab's order, with the suffix of the default file name. */
static const struct export_choice {
	const char *name;
	enum export_format format;
	const char *suffix;
} export_choices[] = {
    {"classification", EXPORT_CLASSIFICATION, ".classification.csv"},
    {"logodds", EXPORT_LOGODDS, ".logodds.csv"},
    {"mwe", EXPORT_MWE, ".mwe.jsonl"},
    {"openai-evals", EXPORT_OPENAI_EVALS, ".openai-evals.jsonl"},
    {"jsonl", EXPORT_JSONL, ".pairs.jsonl"},
    {"csv", EXPORT_CSV, ".pairs.csv"},
    {"bonsai", EXPORT_BONSAI, ".bonsai.json"},
};
#define EXPORT_CHOICES (sizeof(export_choices) / sizeof(export_choices[0]))

enum line_event { LINE_EDITED, LINE_ENTER, LINE_CANCEL, LINE_OTHER };

/* The prompt line's editing (search, export): typed characters, Backspace,
 * Enter and Esc (or C-g); anything else is the caller's. */
static enum line_event line_key(struct tui *u, wint_t ch, int is_key)
{
	if (is_key && (ch == KEY_BACKSPACE || ch == KEY_DC))
		goto backspace;
	if (is_key)
		return ch == KEY_ENTER ? LINE_ENTER : LINE_OTHER;
	if (ch == 27 || ch == CTRL('g'))
		return LINE_CANCEL;
	if (ch == '\n' || ch == '\r')
		return LINE_ENTER;
	if (ch == 127 || ch == '\b')
		goto backspace;
	if (ch < 0x20)
		return LINE_OTHER;
	if (ch <= 0x10FFFF && !(ch >= 0xD800 && ch <= 0xDFFF)) {
		struct strbuf mb = STRBUF_INIT;

		utf8_encode(&mb, (uint32_t)ch);
		if (u->input.len + mb.len < PROMPT_MAX)
			strbuf_add(&u->input, mb.data, mb.len);
		strbuf_release(&mb);
	}
	return LINE_EDITED;
backspace:
	while (u->input.len && ((unsigned char)u->input.data[u->input.len - 1] & 0xC0) == 0x80)
		strbuf_truncate(&u->input, u->input.len - 1);
	if (u->input.len)
		strbuf_truncate(&u->input, u->input.len - 1);
	return LINE_EDITED;
}

/* ---- search ------------------------------------------------------------ */

unsigned act_search(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_SEARCH;
	strbuf_reset(&u->input);
	return REDRAW_STATUS;
}

/* Whether the search pattern has a capital (ASCII): then case counts, as
 * in vim's and less's smartcase. */
static int has_capital(const struct strbuf *pattern)
{
	size_t k;

	for (k = 0; k < pattern->len; k++)
		if (pattern->data[k] >= 'A' && pattern->data[k] <= 'Z')
			return 1;
	return 0;
}

static int same_byte(char a, char b, int fold)
{
	if (fold) {
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
	}
	return a == b;
}

/* Whether hay (n bytes) holds needle (m bytes), ASCII case folded when
 * fold is set; folding ASCII only never splits a UTF-8 character. */
static int contains(const char *hay, size_t n, const char *needle, size_t m, int fold)
{
	size_t i, k;

	if (m == 0 || m > n)
		return m == 0;
	for (i = 0; i + m <= n; i++) {
		for (k = 0; k < m && same_byte(hay[i + k], needle[k], fold); k++)
			;
		if (k == m)
			return 1;
	}
	return 0;
}

static int search_matches(const struct tui *u, uint32_t i, int fold)
{
	const struct tree_node *nd = tree_node(u->t, i);

	return contains(nd->text, nd->text_len, u->search.data, u->search.len, fold) &&
	       !tree_is_pruned(u->t, i);
}

/* Finds the next visible node after the focus (dir 1; before it, dir -1)
 * in creation order, wrapping, whose text contains the search, and says
 * which match of how many it is and whether the search wrapped.  Linear in
 * the tree: runs on a key, not per frame. */
unsigned act_search_next(struct tui *u, int dir)
{
	struct tree *t = u->t;
	uint32_t i, k, start = t->focus, found = TREE_NONE, nth = 0, total = 0;
	int fold = !has_capital(&u->search);

	if (!u->search.len) {
		set_msg(u, MSG_INFO, "no search yet (/ starts one)");
		return REDRAW_STATUS;
	}
	for (k = 1; k <= t->count && found == TREE_NONE; k++) {
		i = (uint32_t)(dir < 0 ? (start + t->count - k) % t->count
				       : (start + k) % t->count);
		if (search_matches(u, i, fold))
			found = i;
	}
	if (found == TREE_NONE) {
		set_msg(u, MSG_INFO, "not found: \"%s\"", u->search.data);
		return REDRAW_STATUS;
	}
	for (i = 0; i < t->count; i++)
		if (search_matches(u, i, fold)) {
			total++;
			nth += i <= found;
		}
	focus_on(u, found);
	set_msg(u, MSG_INFO, "found \"%s\": match %u of %u%s", u->search.data, nth, total,
		(dir < 0 ? found >= start : found <= start)
		    ? (dir < 0 ? " (search wrapped to the bottom)" : " (search wrapped to the top)")
		    : "");
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned search_key(struct tui *u, wint_t ch, int is_key)
{
	switch (line_key(u, ch, is_key)) {
	case LINE_CANCEL:
		u->mode = MODE_NORMAL;
		set_msg(u, MSG_INFO, "search cancelled");
		return REDRAW_STATUS;
	case LINE_ENTER:
		u->mode = MODE_NORMAL;
		if (u->input.len) {
			strbuf_reset(&u->search);
			strbuf_add(&u->search, u->input.data, u->input.len);
		}
		return act_search_next(u, 1);
	case LINE_EDITED: return REDRAW_STATUS;
	case LINE_OTHER: break;
	}
	return REDRAW_NONE;
}

/* ---- export ------------------------------------------------------------ */

/* The default file of an export: the session's name without .json, and
 * the format's suffix ("weft" when the tree has no file). */
static void export_default(struct tui *u)
{
	const char *path = u->path ? u->path : "weft";
	size_t len = strlen(path);

	if (len > 5 && !strcmp(path + len - 5, ".json"))
		len -= 5;
	strbuf_reset(&u->input);
	strbuf_add(&u->input, path, len);
	strbuf_addstr(&u->input, export_choices[u->export_format].suffix);
	u->export_replace = 0;
}

unsigned act_export(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_EXPORT;
	export_default(u);
	return REDRAW_STATUS;
}

/* Writes the export of format c to file; the status line says how it went. */
static void export_write_file(struct tui *u, const struct export_choice *c, const char *file)
{
	struct pairs_result pr;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	int r;

	if (c->format == EXPORT_BONSAI) {
		/* a copy: never folds or removes the journal of file, and
		 * never writes a session another weft is writing */
		struct session_lock lock = SESSION_LOCK_INIT;

		r = session_lock_acquire(&lock, file, NULL, &err);
		if (r == 0)
			r = session_save(u->t, file, &err);
		session_lock_release(&lock);
		if (r < 0)
			set_msg(u, MSG_ERROR, "%s", err.msg);
		else
			set_msg(u, MSG_INFO, "exported the session (%u nodes) to %s (bonsai)",
				u->t->count, file);
	} else if (path_pairs(u, &pr) == 0) {
		r = export_write(&pr, c->format, NULL, &out, &err);
		if (r == 0)
			r = atomicfile_write(file, out.data, out.len, &err);
		if (r < 0)
			set_msg(u, MSG_ERROR, "%s", err.msg);
		else
			set_msg(u, MSG_INFO, "exported %zu pairs to %s (%s)", pr.count, file,
				c->name);
		pairs_result_release(&pr);
	}
	strbuf_release(&out);
}

/* Writes the export the prompt line names; keeps the prompt open when the
 * file exists (Enter again replaces it). */
static unsigned export_enter(struct tui *u)
{
	struct errbuf err;
	char *file;

	if (!u->input.len) {
		u->mode = MODE_NORMAL;
		set_msg(u, MSG_INFO, "export cancelled");
		return REDRAW_STATUS;
	}
	file = xstrndup(u->input.data, u->input.len);
	if (u->path) {
		/* outputs never clobber inputs: the session is never replaced
		 * by its own export (Enter again replaces any other file) */
		const char *inputs[1] = {u->path};

		if (outfile_check(file, inputs, 1, 1, &err) == OUTFILE_IS_INPUT) {
			set_msg(u, MSG_ERROR, "%s", err.msg);
			free(file);
			u->mode = MODE_NORMAL;
			return REDRAW_STATUS;
		}
	}
	if (!u->export_replace && access(file, F_OK) == 0) {
		u->export_replace = 1; /* the prompt line says so */
		free(file);
		return REDRAW_STATUS;
	}
	export_write_file(u, &export_choices[u->export_format], file);
	free(file);
	u->mode = MODE_NORMAL;
	return REDRAW_STATUS;
}

unsigned export_key(struct tui *u, wint_t ch, int is_key)
{
	switch (line_key(u, ch, is_key)) {
	case LINE_CANCEL:
		u->mode = MODE_NORMAL;
		set_msg(u, MSG_INFO, "export cancelled");
		return REDRAW_STATUS;
	case LINE_ENTER: return export_enter(u);
	case LINE_EDITED: u->export_replace = 0; return REDRAW_STATUS;
	case LINE_OTHER: break;
	}
	if (ch == '\t' || (is_key && ch == KEY_BTAB)) {
		size_t n = EXPORT_CHOICES;

		u->export_format = (u->export_format + (ch == '\t' ? 1 : n - 1)) % n;
		export_default(u);
		u->msg[0] = '\0';
		return REDRAW_STATUS;
	}
	return REDRAW_NONE;
}

/* ---- what the status line shows ------------------------------------------ */

int prompt_text(const struct tui *u, struct strbuf *out)
{
	if (u->mode == MODE_SEARCH) {
		strbuf_addch(out, '/');
		display_sanitize(u->input.data, u->input.len, out);
		return 1;
	}
	if (u->mode == MODE_EXPORT) {
		strbuf_addf(out,
			    "export %s (Tab: format) to: ", export_choices[u->export_format].name);
		display_sanitize(u->input.data, u->input.len, out);
		if (u->export_replace)
			strbuf_addstr(out, "  (exists: Enter replaces it, Esc cancels)");
		return 1;
	}
	return 0;
}

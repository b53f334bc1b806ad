#ifndef WEFT_TUI_H
#define WEFT_TUI_H
/*
 * The terminal loom: a curses screen over one session tree.  Curses lives
 * only in src/tui.  Every change the screen makes to the tree goes through
 * history.h (undo/redo).  Text from the tree is shown through display.h,
 * never raw.  The terminal is restored before any message reaches stderr,
 * on every path out (normal, out of memory through xalloc's fatal hook,
 * fatal signals).
 */
#include "weft/errbuf.h"
#include "weft/tree.h"

struct tui_options {
	/* Theme name to start with (a file in themes_dir); NULL: "default",
	 * or "mono" when NO_COLOR is set. */
	const char *theme;
	/* Folder of theme files; NULL: $WEFT_THEMES, else ./themes, else
	 * WEFT_DATADIR/themes.  Missing default/mono files fall back to the
	 * built-in tables. */
	const char *themes_dir;
	/* Writes the session (s and q); NULL: saving is unavailable and the
	 * status line says so.  Borrowed. */
	int (*save)(const struct tree *t, const char *path, struct errbuf *err);
	/* Models configured for the status line (borrowed); NULL: none. */
	const char *generator_model;
	const char *judge_model;
	/* A first message for the status line (e.g. a configuration error);
	 * borrowed, may be NULL; sanitized when shown. */
	const char *notice;
};

/*
 * Runs the loom on t (borrowed; changed in place by the person's actions)
 * until the person quits.  path names the session file (shown, and given to
 * opts->save); it may be NULL for a tree with no file.  Returns 0 after a
 * normal quit, -1 when the screen cannot start (stdin/stdout not a terminal,
 * no terminfo entry) with err set; the terminal is restored either way.
 */
int tui_run(struct tree *t, const char *path, const struct tui_options *opts, struct errbuf *err);

/*
 * The help text generated from the keymap table (one "KEYS  what" line per
 * binding), appended to out.  The `?` screen shows the same lines.
 */
struct strbuf;
void tui_keymap_help(struct strbuf *out);

#endif

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
#include <stdio.h>

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/task.h"
#include "weft/tree.h"

struct tui_options {
	/* Theme name to start with (a file in themes_dir); NULL: "default",
	 * or "mono" when NO_COLOR is set. */
	const char *theme;
	/* Folder of theme files; NULL: theme_find's places (datadir.h:
	 * $WEFT_THEMES, ./themes, beside the executable, the installed share
	 * folder).  Missing default/mono files fall back to the built-in
	 * tables. */
	const char *themes_dir;
	/* Writes the session (s and q); NULL: saving is unavailable and the
	 * status line says so.  Borrowed. */
	int (*save)(const struct tree *t, const char *path, struct errbuf *err);
	/* Models configured for the status line (borrowed); NULL: none. */
	const char *generator_model;
	const char *judge_model;
	/* Steering (g, G, a): the engine the loop polls together with the
	 * terminal, the session's task and the two roles.  All borrowed; when
	 * any is NULL or a role has no model, those keys say what to
	 * configure. */
	struct lm_engine *engine;
	const struct task *task;
	const struct config_role *generator;
	const struct config_role *judge;
	/* The whole configuration: v previews the pairs of the chosen path on
	 * every configured scorer.NAME.  Borrowed; may be NULL. */
	const struct config *config;
	/* A first message for the status line (e.g. a configuration error);
	 * borrowed, may be NULL; sanitized when shown. */
	const char *notice;
	/* The tree holds changes the file does not (a replayed journal): q
	 * saves them even when nothing else changes. */
	int unsaved;
	/* NULL: the loom may change and save the session.  Else why it may
	 * not (e.g. "opened with --read-only"): browsing, search, export,
	 * evaluation and replay work; every key that would change the session
	 * says it is read-only and changes nothing; nothing is journalled or
	 * saved.  Shown in the status line all the time.  Borrowed. */
	const char *read_only;
};

/* The one initialiser: every field zero or NULL (no steering, no saving,
 * the default theme).  Callers set what they have after it. */
void tui_options_init(struct tui_options *o);

/*
 * Runs the loom on t (borrowed; changed in place by the person's actions)
 * until the person quits.  path names the session file (shown, and given to
 * opts->save); it may be NULL for a tree with no file.  Returns 0 after a
 * normal quit; 1 when the person chose to quit although the session could
 * not be saved, with err saying what was not saved and where the changes
 * are; -1 when the screen cannot start (stdin/stdout not a terminal, no
 * terminfo entry) with err set.  The terminal is restored either way.
 */
int tui_run(struct tree *t, const char *path, const struct tui_options *opts, struct errbuf *err);

/*
 * The loom driven one key at a time, for benchmarks and embedding
 * (tests/bench/tui_bench.c): the same set-up, keys and frames as tui_run,
 * but on any terminal given as out/in (e.g. a pseudo-terminal's slave) and
 * without the loop.  tui_open starts the screen and draws the first frame
 * (sent to out before it returns); NULL with err set when the screen cannot
 * start.  tui_key handles one key (a character, or a curses KEY_* code with
 * is_key 1) as the loop does and draws the resulting frame before it
 * returns; it returns 1 when the key asks to quit (nothing drawn), else 0.
 * tui_close restores the terminal and frees; t stays the caller's.  Only one
 * screen at a time.
 */
struct tui;
struct tui *tui_open(struct tree *t, const char *path, const struct tui_options *opts, FILE *out,
		     FILE *in, struct errbuf *err);
int tui_key(struct tui *u, int key, int is_key);
void tui_close(struct tui *u);

/*
 * The help text generated from the keymap table (one "KEYS  what" line per
 * binding), appended to out.  The `?` screen shows the same lines.
 */
struct strbuf;
void tui_keymap_help(struct strbuf *out);

#endif

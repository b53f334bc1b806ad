#include "weft/tui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "weft/atomicfile.h"
#include "weft/dataset.h"
#include "weft/display.h"
#include "weft/evalrun.h"
#include "weft/evalset.h"
#include "weft/export.h"
#include "weft/pairs.h"
#include "weft/history.h"
#include "weft/steer.h"
#include "weft/journal.h"
#include "weft/outfile.h"
#include "weft/replay.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/strbuf.h"
#include "weft/theme.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/* What an action changed: the loop redraws accordingly. */
enum {
	REDRAW_NONE = 0,
	REDRAW_STATUS = 1u << 0, /* the status line only */
	REDRAW_ALL = 1u << 1,	 /* every area */
	REDRAW_STATS = 1u << 2,	 /* the path changed: recount the Yes/No balance */
	ACTION_QUIT = 1u << 3,
};

/* Alternatives listed under one node of the outline before "… N more". */
#define OUTLINE_ALT_MAX 8
/* Score bar width in the candidates area. */
#define BAR_WIDTH 10
#define MSG_SIZE  512

enum mode {
	MODE_NORMAL,
	MODE_CONFIRM_PRUNE,
	MODE_SEARCH, /* typing a search */
	MODE_EXPORT, /* typing where to export (x) */
	MODE_HELP,
	MODE_EVAL,	   /* the evaluation preview's popup */
	MODE_CONFIRM_QUIT, /* saving failed: Y quits without saving, anything else stays */
	MODE_REPLAY,	   /* walking the recorded steps (r); changes nothing */
};

/* Replay's Space plays one step per this many ms (WEFT_REPLAY_PACE_MS). */
#define REPLAY_PACE_MS 1500

static const char *const theme_cycle[] = {"default", "light", "mono"};

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

struct tui {
	struct tree *t;
	const char *path;
	const struct tui_options *opts;
	struct history hist;
	struct theme theme;
	size_t theme_index;
	int no_color;
	int has_colors;
	enum mode mode;
	uint32_t cand;	       /* highlighted candidate (a child of the focus) or TREE_NONE */
	uint32_t cand_owner;   /* the focus cand was chosen for */
	uint32_t prune_target; /* MODE_CONFIRM_PRUNE */
	struct strbuf search;  /* the last search (raw bytes typed) */
	struct strbuf input;   /* the search or export file being typed */
	size_t export_format;  /* MODE_EXPORT: index in export_choices */
	int export_replace;    /* MODE_EXPORT: Enter again replaces the file */
	char msg[MSG_SIZE];    /* status message, sanitized when set */
	int msg_error;
	unsigned changes;	/* tree changes since the last save */
	char balance[96];	/* the path's pairs per class, for the status line */
	uint32_t stats_tip;	/* path tip the balance was counted for */
	size_t stats_len;	/* path length it was counted for */
	unsigned stats_changes; /* changes counter it was counted for */
	int help_scroll;
	/* The line the screen shows (see view_pos): root..focus, then the
	 * branch below the focus.  It follows the cursor; the chosen path
	 * (t->path, the dataset) changes only by a decision. */
	uint32_t *view;
	size_t view_len, view_cap;
	long vpos;	       /* cached position of the focus on the view */
	unsigned version;      /* tree changes since the start (never reset) */
	unsigned view_version; /* version the view was built for */
	uint32_t saved_focus;  /* the cursor as the file has it */
	int journal_path_due;  /* a change was journaled: the path follows */
	int journal_failed;
	/* A warning that stays in the status line until what it says is
	 * resolved (a journal that cannot be written, a failed save);
	 * sanitized when set. */
	char sticky[MSG_SIZE];
	/* q quit although the session was not saved: what was not saved and
	 * where the changes are (tui_run's err) */
	char quit_unsaved[MSG_SIZE];
	/* steering */
	struct steer_step *step; /* in flight, or NULL */
	uint32_t step_at;	 /* the node it grows from */
	uint32_t count_before;	 /* tree size when it started: newer nodes are its own */
	int step_ended;		 /* its callback fired; the loop handles the outcome */
	struct steer_outcome outcome;
	int autopilot;
	unsigned spin;
	long tokens;
	/* the evaluation preview (v): a run in flight, and the popup's text */
	struct evalrun *eval;
	struct evalset evalset;
	struct strbuf eval_page;
	/* MODE_REPLAY: the walk of the chosen path as it was when r was
	 * pressed, the step shown, and Space's playing */
	struct replay_walk walk;
	size_t rstep;
	int rplaying;
	long rpace_ms;
	struct timespec rdue; /* when playing: the next step is due */
	SCREEN *scr;
};

static void set_msg(struct tui *u, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_sticky(struct tui *u, const char *text);

/* The tree changed: unsaved work, and the view is built again. */
static void mark_changed(struct tui *u)
{
	u->changes++;
	u->version++;
}

/* Whether c is a visible child of p. */
static int visible_child_of(const struct tree *t, uint32_t c, uint32_t p)
{
	return c < t->count && tree_node(t, c)->parent == p &&
	       !(tree_node(t, c)->flags & TREE_PRUNED);
}

/* Whether view node k (at depth k) is on the chosen path.  O(1). */
static int view_on_path(const struct tui *u, size_t k)
{
	return k < u->t->path_len && k < u->view_len && u->t->path[k] == u->view[k];
}

/*
 * Builds the view: root..focus, then below the focus the branch shown
 * before when it still hangs there (so h then l comes back the same way),
 * else the chosen path where the line is on it, else each step's final
 * pick.  O(depth + branch).
 */
static void view_build(struct tui *u)
{
	const struct tree *t = u->t;
	size_t old_len = u->view_len, d = tree_depth(t, t->focus), k;
	uint32_t i = t->focus;

	XGROW(u->view, u->view_cap, d + 1);
	for (k = d + 1; k > 0; k--) {
		u->view[k - 1] = i;
		i = tree_node(t, i)->parent;
	}
	for (k = d;; k++) {
		uint32_t at = u->view[k], next = TREE_NONE;
		const struct tree_step *st = tree_node(t, at)->step;

		/* entries past k are still the old view's */
		if (k + 1 < old_len && visible_child_of(t, u->view[k + 1], at))
			next = u->view[k + 1];
		else if (k + 1 < t->path_len && t->path[k] == at)
			next = t->path[k + 1];
		else if (st && st->final_pick != TREE_NONE &&
			 visible_child_of(t, st->final_pick, at))
			next = st->final_pick;
		if (next == TREE_NONE)
			break;
		XGROW(u->view, u->view_cap, k + 2);
		u->view[k + 1] = next;
	}
	u->view_len = k + 1;
	u->vpos = (long)d;
	u->view_version = u->version;
}

/*
 * The focus's position on the view (its depth), rebuilding the view when
 * the focus left it or the tree changed.  Moving one step along the view
 * (h, l) is found in O(1), so a frame costs the same on a 1,000,000-deep
 * chain as on a short one.
 */
static long view_pos(struct tui *u)
{
	const struct tree *t = u->t;
	long p = u->vpos;

	if (u->view_version == u->version && p >= 0 && (size_t)p < u->view_len) {
		if (u->view[p] == t->focus)
			return p;
		if (p > 0 && u->view[p - 1] == t->focus)
			return u->vpos = p - 1;
		if ((size_t)p + 1 < u->view_len && u->view[p + 1] == t->focus)
			return u->vpos = p + 1;
	}
	view_build(u);
	return u->vpos;
}

/* Whether the view is the chosen path, node for node. */
static int view_is_path(struct tui *u)
{
	const struct tree *t = u->t;

	view_pos(u);
	return u->view_len == t->path_len &&
	       (!t->path_len || !memcmp(u->view, t->path, t->path_len * sizeof(*t->path)));
}

/* A change made but not journalled: said where it stays on screen (a
 * crash now would lose it; s saves it), for as long as it is true. */
static void journal_failure(struct tui *u, const struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;

	u->journal_failed = 1;
	strbuf_addf(&sb, "NOT JOURNALLED: %s (s saves)", err->msg);
	set_sticky(u, sb.data);
	strbuf_release(&sb);
}

/*
 * The journal: every change history makes (done, undone, redone) is
 * appended beside the session file before the screen shows it, so a killed
 * process loses nothing it had shown as done.
 */
static void journal_observer(void *ctx, uint32_t i, enum history_change what)
{
	struct tui *u = ctx;
	struct errbuf err;
	int ret;

	if (what == HISTORY_CHANGED_NODE)
		ret = journal_append_node(u->path, u->t, i, &err);
	else
		ret = journal_append_prune(u->path, u->t, i, what == HISTORY_CHANGED_PRUNE, &err);
	if (ret < 0)
		journal_failure(u, &err);
	u->journal_path_due = 1;
}

static void journal_path_if_due(struct tui *u)
{
	struct errbuf err;

	if (!u->journal_path_due)
		return;
	u->journal_path_due = 0;
	if (!u->path) /* a tree with no file has no journal */
		return;
	if (journal_append_path(u->path, u->t, &err) < 0)
		journal_failure(u, &err);
}

/* ---- terminal life cycle ------------------------------------------------ */

static volatile sig_atomic_t curses_active;
static volatile sig_atomic_t stop_signal;

static void restore_terminal(void)
{
	if (curses_active) {
		curses_active = 0;
		endwin();
	}
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "weft: fatal signal; terminal restored\n";
	ssize_t n;

	restore_terminal();
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(int on)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	static const int stop[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? on_fatal_signal : SIG_DFL;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	sa.sa_handler = on ? on_stop_signal : SIG_DFL;
	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		sigaction(stop[i], &sa, NULL);
}

/* Makes sure wide characters work: the environment's locale if it is UTF-8,
 * else C.UTF-8 for the character type. */
static void ensure_utf8_locale(void)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	if (cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")))
		return;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
}

/* ---- themes ---------------------------------------------------------------- */

static attr_t role_attr(const struct tui *u, enum theme_role role)
{
	unsigned a = u->theme.roles[role].attrs;
	attr_t out = 0;

	if (a & THEME_BOLD)
		out |= A_BOLD;
	if (a & THEME_DIM)
		out |= A_DIM;
	if (a & THEME_UNDERLINE)
		out |= A_UNDERLINE;
	if (a & THEME_REVERSE)
		out |= A_REVERSE;
	if (a & THEME_STANDOUT)
		out |= A_STANDOUT;
#ifdef A_ITALIC
	if (a & THEME_ITALIC)
		out |= A_ITALIC;
#endif
	if (u->has_colors)
		out |= COLOR_PAIR((int)role + 1);
	return out;
}

static short clamp_colour(short c)
{
	if (c < 0)
		return -1;
	if (c >= COLORS)
		return (short)(c % 8);
	return c;
}

static void apply_theme(struct tui *u)
{
	size_t i;

	if (!u->has_colors)
		return;
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		init_pair((short)(i + 1), clamp_colour(u->theme.roles[i].fg),
			  clamp_colour(u->theme.roles[i].bg));
}

/* Loads theme name: from the themes folder, else built-in; keeps the current
 * theme and says why on failure. */
static int load_theme(struct tui *u, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	struct theme th;
	int found, ret = -1;

	found = theme_find(u->opts ? u->opts->themes_dir : NULL, name, &path);
	if (found == 0) {
		if (theme_load(&th, path.data, &err) == 0) {
			ret = 0;
		} else {
			set_msg(u, 1, "%s", err.msg);
		}
	} else if (found == 1 && theme_init_builtin(&th, name) == 0) {
		ret = 0;
	} else {
		set_msg(u, 1, "theme '%s' not found", name);
	}
	if (ret == 0) {
		if (u->no_color)
			theme_strip_colours(&th);
		u->theme = th;
		apply_theme(u);
	}
	strbuf_release(&path);
	return ret;
}

/* ---- status messages ----------------------------------------------------- */

static void set_msg(struct tui *u, int error, const char *fmt, ...)
{
	struct strbuf raw = STRBUF_INIT, safe = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&raw, fmt, ap);
	va_end(ap);
	display_sanitize(raw.data, raw.len, &safe);
	snprintf(u->msg, sizeof(u->msg), "%s", safe.data);
	u->msg_error = error;
	strbuf_release(&raw);
	strbuf_release(&safe);
}

/* Sets the warning that stays (see struct tui's sticky); "" clears it. */
static void set_sticky(struct tui *u, const char *text)
{
	struct strbuf safe = STRBUF_INIT;

	display_sanitize(text, strlen(text), &safe);
	snprintf(u->sticky, sizeof(u->sticky), "%s", safe.data);
	strbuf_release(&safe);
}

/* ---- drawing helpers ----------------------------------------------------- */

/*
 * Draws len bytes of sanitized UTF-8 at the cursor, at most cols columns;
 * returns the columns used.  Characters the C library calls unprintable
 * (unassigned code points) are drawn as U+FFFD so curses' idea of widths
 * and ours agree.
 */
static int put_text(WINDOW *w, const char *s, size_t len, int cols)
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
			wchar_t wc;
			mbstate_t st;
			cchar_t cc;
			wchar_t ws[2];

			memset(&st, 0, sizeof(st));
			if (mbrtowc(&wc, s + i, n, &st) != n || wcwidth(wc) < 0) {
				wc = 0xFFFD;
				cw = 1;
			}
			ws[0] = wc;
			ws[1] = 0;
			setcchar(&cc, ws, 0, 0, NULL);
			wadd_wch(w, &cc);
		}
		used += cw;
		i += n;
	}
	return used;
}

/* Sanitizes raw text into a one-line form (newlines and tabs as spaces,
 * every other control visible) and draws it. */
static int put_untrusted(WINDOW *w, const char *s, size_t len, int cols)
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

static void fill_to(WINDOW *w, int y, int x_end)
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

static void put_ascii(WINDOW *w, const char *s, int cols)
{
	put_text(w, s, strlen(s), cols);
}

/* ---- the tree outline ----------------------------------------------------- */

enum oline_kind { OLINE_PATH, OLINE_ALT, OLINE_MORE };

struct oline {
	uint32_t node;
	size_t depth;
	enum oline_kind kind;
	size_t more;
};

static uint32_t next_visible(const struct tree *t, uint32_t c)
{
	while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED))
		c = tree_node(t, c)->next_sibling;
	return c;
}

static uint32_t first_visible_child(const struct tree *t, uint32_t i)
{
	return next_visible(t, tree_node(t, i)->first_child);
}

static uint32_t next_visible_sibling(const struct tree *t, uint32_t c)
{
	return next_visible(t, tree_node(t, c)->next_sibling);
}

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

static void draw_marks(struct tui *u, WINDOW *w, const struct tree_node *nd)
{
	wattrset(w, role_attr(u, THEME_JUDGE));
	waddch(w, (nd->flags & TREE_JUDGE_PICK) ? 'J' : ' ');
	wattrset(w, role_attr(u, THEME_HUMAN));
	waddch(w, (nd->flags & TREE_HUMAN_PICK) ? 'H' : (nd->flags & TREE_EDITED) ? 'E' : ' ');
	wattrset(w, role_attr(u, THEME_BOOKMARK));
	waddch(w, (nd->flags & TREE_BOOKMARK) ? '*' : ' ');
}

static void draw_outline(struct tui *u, int y0, int x0, int h, int width)
{
	const struct tree *t = u->t;
	struct oline *lines;
	size_t cap = (size_t)h + OUTLINE_ALT_MAX + 2, n = 0, i, start, above = 0;
	long fpos = view_pos(u);
	size_t focus_line = 0, top;
	int row;

	if (h <= 0 || width < 8 || t->root == TREE_NONE || u->view_len == 0)
		return;
	if (fpos < 0)
		fpos = 0;
	/* Walk back from the focus until a third of the height is above it. */
	start = (size_t)fpos;
	while (start > 0 && above < (size_t)h / 3) {
		start--;
		above += outline_count(u, start);
	}
	lines = xreallocarray(NULL, cap + (size_t)h, sizeof(*lines));
	for (i = start; i < u->view_len && n < cap + (size_t)h / 3; i++) {
		if (i == (size_t)fpos)
			focus_line = n;
		outline_of(u, i, lines, &n, cap + (size_t)h);
	}
	top = focus_line > (size_t)h / 3 ? focus_line - (size_t)h / 3 : 0;
	if (start == 0 && focus_line < (size_t)h)
		top = 0;
	for (row = 0; row < h && top + (size_t)row < n; row++) {
		const struct oline *l = &lines[top + (size_t)row];
		size_t indent = l->depth < (size_t)width / 3 ? l->depth : (size_t)width / 3;
		int x;
		enum theme_role role;

		wmove(stdscr, y0 + row, x0);
		wattrset(stdscr, role_attr(u, THEME_TREE));
		for (i = 0; i < indent; i++)
			waddch(stdscr, ' ');
		if (l->kind == OLINE_MORE) {
			char buf[64];

			snprintf(buf, sizeof(buf), "  ... %zu more", l->more);
			put_ascii(stdscr, buf, width - (int)indent);
			fill_to(stdscr, y0 + row, x0 + width);
			continue;
		}
		{
			const struct tree_node *nd = tree_node(t, l->node);
			char buf[32];
			uint32_t kids = first_visible_child(t, l->node) != TREE_NONE;

			/* '>' marks the chosen path (the dataset), '~' the
			 * branch browsed off it; an alternative the chosen path
			 * takes is marked '>' too, so both lines can be seen */
			int chosen = l->kind == OLINE_PATH
					 ? view_on_path(u, l->depth)
					 : l->depth < t->path_len && t->path[l->depth] == l->node;
			char mark = chosen ? '>' : l->kind == OLINE_PATH ? '~' : kids ? '+' : '-';

			role = l->node == t->focus     ? THEME_FOCUS
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
				snprintf(buf, sizeof(buf), "(%zu) ",
					 tree_visible_children(t, l->node));
				getyx(stdscr, i, x);
				put_ascii(stdscr, buf, x0 + width - x);
			}
			getyx(stdscr, i, x);
			(void)i;
			if (x < x0 + width)
				put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
			fill_to(stdscr, y0 + row, x0 + width);
		}
	}
	free(lines);
}

/* ---- the text of the path -------------------------------------------------- */

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

/* Lays out one segment of sanitized text (newlines kept), wrapping at
 * width, continuing at the row and column given. */
static void layout_segment(struct layout *lo, size_t off, size_t len, enum theme_role role,
			   int width, int *row, int *col)
{
	size_t i = off, end = off + len, start = off;
	int start_col = *col, cw;

	while (i < end) {
		const char *s = lo->text.data;
		size_t n;

		if (s[i] == '\n') {
			if (i > start)
				layout_piece(lo, *row, start_col, role, start, i - start);
			(*row)++;
			*col = 0;
			i++;
			start = i;
			start_col = 0;
			continue;
		}
		n = display_char(s + i, end - i, &cw);
		if (*col + cw > width) {
			if (i > start)
				layout_piece(lo, *row, start_col, role, start, i - start);
			(*row)++;
			*col = 0;
			start = i;
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

/* Draws the document along line (root first, line_len nodes: the view or
 * the chosen path) up to (not including) index end, the node at fpos
 * highlighted and nodes off the chosen path in their own role. */
static void draw_text(struct tui *u, int y0, int x0, int h, int width, const uint32_t *line,
		      size_t line_len, long fpos, size_t end)
{
	const struct tree *t = u->t;
	struct layout lo;
	size_t budget, acc = 0, s, e, p;
	int row = 0, col = 0, top;
	size_t i;

	if (h <= 0 || width <= 0 || line_len == 0)
		return;
	memset(&lo, 0, sizeof(lo));
	strbuf_init(&lo.text);
	if (fpos < 0)
		fpos = 0;
	/* Enough bytes to fill the area above and below the focus; drawing
	 * never touches more than this, whatever the tree's size. */
	budget = (size_t)h * (size_t)width + (size_t)width;
	s = (size_t)fpos;
	while (s > 0 && acc < budget) {
		s--;
		acc += tree_node(t, line[s])->text_len;
	}
	acc = 0;
	if (end > line_len)
		end = line_len;
	for (e = (size_t)fpos; e < end && acc < 2 * budget; e++)
		acc += tree_node(t, line[e])->text_len;
	lo.focus_first = lo.focus_last = -1;
	for (p = s; p < e; p++) {
		const struct tree_node *nd = tree_node(t, line[p]);
		size_t from = 0, len = nd->text_len, off;
		int chosen = p < t->path_len && t->path[p] == line[p];
		enum theme_role role = p == (size_t)fpos ? THEME_TEXT_FOCUS
				       : chosen		 ? THEME_TEXT
							 : THEME_TEXT_BROWSE;

		if (p < (size_t)fpos)
			from = tail_start(nd->text, len, budget);
		else
			len = head_len(nd->text, len, 2 * budget);
		len -= from;
		off = lo.text.len;
		display_sanitize_flags(nd->text + from, len,
				       DISPLAY_KEEP_NEWLINE | DISPLAY_TAB_AS_SPACE, &lo.text);
		if (role == THEME_TEXT_FOCUS)
			lo.focus_first = row;
		layout_segment(&lo, off, lo.text.len - off, role, width, &row, &col);
		if (role == THEME_TEXT_FOCUS)
			lo.focus_last = row;
	}
	lo.rows = row + 1;
	top = lo.focus_first - h / 3;
	if (lo.rows - top < h)
		top = lo.rows - h;
	if (top > lo.focus_first)
		top = lo.focus_first;
	if (top < 0)
		top = 0;
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

/* ---- the candidates ------------------------------------------------------- */

/* The candidate to highlight by default: the view's next node, else the
 * judge's pick, else the first child. */
static uint32_t default_candidate(struct tui *u)
{
	const struct tree *t = u->t;
	uint32_t f = t->focus;
	long pos = view_pos(u);
	const struct tree_node *nd = tree_node(t, f);
	uint32_t judge = nd->step ? nd->step->judge_pick : TREE_NONE;

	if (pos >= 0 && (size_t)pos + 1 < u->view_len)
		return u->view[pos + 1];
	/* The focus is never inside a pruned subtree, so a child of it is
	 * visible unless it is itself marked pruned. */
	if (judge != TREE_NONE && tree_node(t, judge)->parent == f &&
	    !(tree_node(t, judge)->flags & TREE_PRUNED))
		return judge;
	return first_visible_child(t, f);
}

static void sync_candidate(struct tui *u)
{
	const struct tree *t = u->t;

	if (u->cand_owner != t->focus || u->cand == TREE_NONE ||
	    tree_node(t, u->cand)->parent != t->focus ||
	    (tree_node(t, u->cand)->flags & TREE_PRUNED)) {
		u->cand_owner = t->focus;
		u->cand = default_candidate(u);
	}
}

static void draw_candidates(struct tui *u, int y0, int x0, int h, int width)
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
		int x, y, filled = 0, b;

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
		if (nd->flags & TREE_HAS_SCORE) {
			double sc = nd->score < 0 ? 0 : nd->score > 1 ? 1 : nd->score;

			filled = (int)(sc * BAR_WIDTH + 0.5);
		}
		wattrset(stdscr, role_attr(u, THEME_BAR));
		for (b = 0; b < BAR_WIDTH; b++)
			waddch(stdscr, b < filled ? '#' : '.');
		wattrset(stdscr, role_attr(u, role));
		if (nd->flags & TREE_HAS_SCORE)
			snprintf(buf, sizeof(buf), " %4.2f ", nd->score);
		else
			snprintf(buf, sizeof(buf), "   -  ");
		put_ascii(stdscr, buf, 6);
		getyx(stdscr, y, x);
		(void)y;
		if (x < x0 + width)
			put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
		fill_to(stdscr, y0 + row, x0 + width);
		c = next_visible_sibling(t, c);
	}
}

/* ---- status line ------------------------------------------------------------ */

/* Counts "Answer: Yes" / "Answer: No" lines on the chosen path, again only
 * when the path or the tree changed.  Streams over the path's texts (lines
 * may span nodes) without building the document. */
/* The class balance of the chosen path's pairs, as weft extract counts
 * them ("Yes 3 No 7"); recounted when the path or the tree changed. */
static void update_stats(struct tui *u)
{
	const struct tree *t = u->t;
	uint32_t tip = tree_path_tip(t);
	struct pairs_result pr;
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	size_t k;

	if (u->stats_tip == tip && u->stats_len == t->path_len && u->stats_changes == u->changes)
		return;
	u->stats_tip = tip;
	u->stats_len = t->path_len;
	u->stats_changes = u->changes;
	if (task_path_pairs(u->opts ? u->opts->task : NULL, t, &pr, &err) == 0) {
		for (k = 0; k < pr.nlabels; k++) {
			if (k)
				strbuf_addch(&sb, ' ');
			display_sanitize(pr.labels[k],
					 strlen(pr.labels[k]) < 12 ? strlen(pr.labels[k]) : 12,
					 &sb);
			strbuf_addf(&sb, " %zu", pr.per_class[k]);
		}
	} else {
		strbuf_addstr(&sb, "pairs ?");
	}
	snprintf(u->balance, sizeof(u->balance), "%s", sb.data);
	strbuf_release(&sb);
	pairs_result_release(&pr);
}

static void draw_status(struct tui *u, int y, int width)
{
	const struct tree *t = u->t;
	char buf[320];
	long pos = view_pos(u);
	int browsing = !view_on_path(u, (size_t)pos);
	struct strbuf right = STRBUF_INIT;
	int right_w, info_w;

	/* The bottom-right cell is left alone: writing it scrolls some
	 * terminals. */
	width--;
	update_stats(u);
	/* The message (or the search being typed) has the right part; the
	 * facts get what is left, at least a quarter of the line. */
	if (u->mode == MODE_SEARCH) {
		strbuf_addch(&right, '/');
		display_sanitize(u->input.data, u->input.len, &right);
	} else if (u->mode == MODE_EXPORT) {
		strbuf_addf(&right,
			    "export %s (Tab: format) to: ", export_choices[u->export_format].name);
		display_sanitize(u->input.data, u->input.len, &right);
		if (u->export_replace)
			strbuf_addstr(&right, "  (exists: Enter replaces it, Esc cancels)");
	} else {
		/* what stays (read-only, a journal or save that failed) comes
		 * first, so a message never hides it */
		if (u->opts && u->opts->read_only) {
			strbuf_addstr(&right, "READ-ONLY (");
			display_sanitize(u->opts->read_only, strlen(u->opts->read_only), &right);
			strbuf_addstr(&right, ")");
		}
		if (u->sticky[0])
			strbuf_addf(&right, "%s%s", right.len ? " " : "", u->sticky);
		if (right.len && u->msg[0])
			strbuf_addstr(&right, " | ");
		strbuf_addstr(&right, u->msg);
	}
	right_w = (int)display_width(right.data, right.len);
	{
		/* The configured models; else, for the generator, the model that
		 * wrote the highlighted candidate (or the focus).  Model names
		 * come from files: sanitized. */
		const char *model = u->opts ? u->opts->generator_model : NULL;
		const char *judge = u->opts ? u->opts->judge_model : NULL;
		struct strbuf gen_safe = STRBUF_INIT, judge_safe = STRBUF_INIT;

		if (!model && u->cand != TREE_NONE)
			model = tree_node(t, u->cand)->model;
		if (!model)
			model = tree_node(t, t->focus)->model;
		if (model)
			display_sanitize(model, strlen(model) < 40 ? strlen(model) : 40, &gen_safe);
		if (judge)
			display_sanitize(judge, strlen(judge) < 40 ? strlen(judge) : 40,
					 &judge_safe);
		static const char spinner[] = "|/-\\";
		size_t inflight =
		    u->opts && u->opts->engine ? lm_engine_in_flight(u->opts->engine) : 0;

		snprintf(buf, sizeof(buf),
			 " gen %s judge %s | %c%zu in flight | autopilot %s | step %ld/%zu%s | %ld "
			 "tok | "
			 "%s | %s | ",
			 model ? gen_safe.data : "-", judge ? judge_safe.data : "-",
			 u->step ? spinner[u->spin % 4] : ' ', inflight,
			 u->autopilot ? "ON" : "off", pos, t->path_len ? t->path_len - 1 : 0,
			 browsing ? " browsing" : "", u->tokens, u->balance, u->theme.name);
		strbuf_release(&gen_safe);
		strbuf_release(&judge_safe);
	}
	info_w = (int)strlen(buf);
	if (info_w + right_w > width)
		info_w = width - right_w < width / 4 ? width / 4 : width - right_w;
	wmove(stdscr, y, 0);
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	put_ascii(stdscr, buf, info_w);
	if (right.len) {
		int x, yy;

		getyx(stdscr, yy, x);
		(void)yy;
		if ((u->msg_error || u->sticky[0] || (u->opts && u->opts->read_only)) &&
		    u->mode != MODE_SEARCH && u->mode != MODE_EXPORT)
			wattrset(stdscr, role_attr(u, THEME_ERROR));
		if (x < width)
			put_text(stdscr, right.data, right.len, width - x);
	}
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	fill_to(stdscr, y, width);
	strbuf_release(&right);
}

/* ---- the key table ------------------------------------------------------------ */

typedef unsigned (*action_fn)(struct tui *u, int arg);

struct binding {
	int keys[4]; /* 0-terminated */
	const char *label;
	const char *help;
	action_fn fn;
	int arg;
};

static unsigned act_parent(struct tui *u, int arg);
static unsigned act_child(struct tui *u, int arg);
static unsigned act_sibling(struct tui *u, int arg);
static unsigned act_next_candidate(struct tui *u, int arg);
static unsigned act_accept(struct tui *u, int arg);
static unsigned act_pick(struct tui *u, int arg);
static unsigned act_choose(struct tui *u, int arg);
static unsigned act_edit(struct tui *u, int arg);
static unsigned act_prune(struct tui *u, int arg);
static unsigned act_history(struct tui *u, int arg);
static unsigned act_bookmark(struct tui *u, int arg);
static unsigned act_search(struct tui *u, int arg);
static unsigned act_search_next(struct tui *u, int arg);
static unsigned act_save(struct tui *u, int arg);
static unsigned act_theme(struct tui *u, int arg);
static unsigned act_help(struct tui *u, int arg);
static unsigned act_quit(struct tui *u, int arg);
static unsigned act_export(struct tui *u, int arg);
static unsigned act_generate(struct tui *u, int more);
static unsigned act_autopilot(struct tui *u, int arg);
static unsigned act_cancel(struct tui *u, int arg);
static unsigned act_eval(struct tui *u, int arg);
static unsigned act_replay(struct tui *u, int arg);
static unsigned act_redraw(struct tui *u, int arg);
static unsigned act_ctrl_c(struct tui *u, int arg);

#define CTRL(c) ((c)&0x1f)

/* The one keymap: dispatch and the `?` screen both read it. */
static const struct binding keymap[] = {
    {{'h', KEY_LEFT, 0}, "h Left", "go to the parent", act_parent, 0},
    {{'l', KEY_RIGHT, 0}, "l Right", "go to the highlighted candidate (child)", act_child, 0},
    {{'k', KEY_UP, 0}, "k Up", "go to the previous sibling", act_sibling, -1},
    {{'j', KEY_DOWN, 0}, "j Down", "go to the next sibling", act_sibling, 1},
    {{'\t', 0}, "Tab", "highlight the next candidate", act_next_candidate, 1},
    {{KEY_BTAB, 0}, "S-Tab", "highlight the previous candidate", act_next_candidate, -1},
    {{'\n', '\r', KEY_ENTER, 0},
     "Enter",
     "accept the judge's pick (or the highlighted candidate) and move on",
     act_accept,
     0},
    {{'1', 0}, "1-9", "pick that candidate (an override, recorded as human)", act_pick, 1},
    {{'2', 0}, NULL, NULL, act_pick, 2},
    {{'3', 0}, NULL, NULL, act_pick, 3},
    {{'4', 0}, NULL, NULL, act_pick, 4},
    {{'5', 0}, NULL, NULL, act_pick, 5},
    {{'6', 0}, NULL, NULL, act_pick, 6},
    {{'7', 0}, NULL, NULL, act_pick, 7},
    {{'8', 0}, NULL, NULL, act_pick, 8},
    {{'9', 0}, NULL, NULL, act_pick, 9},
    {{'c', 0},
     "c",
     "choose: make the branch shown the chosen path (what x, v and the balance use; u undoes)",
     act_choose,
     0},
    {{'e', 0}, "e", "edit the focused node in $EDITOR (as a new sibling)", act_edit, 0},
    {{'d', 0}, "d", "prune the focused subtree (asks y/n; undoable)", act_prune, 0},
    {{'u', 0}, "u", "undo the last tree change", act_history, -1},
    {{CTRL('r'), 0}, "C-r", "redo", act_history, 1},
    {{'b', 0}, "b", "bookmark the focused node (toggle)", act_bookmark, 0},
    {{'/', 0}, "/", "search text across the tree", act_search, 0},
    {{'n', 0}, "n", "next search match", act_search_next, 0},
    {{'s', 0}, "s", "save the session", act_save, 0},
    {{'t', 0}, "t", "cycle the theme (default, light, mono)", act_theme, 0},
    {{'g', 0}, "g", "run a steering step at the focused node", act_generate, 0},
    {{'G', 0}, "G", "add more candidates to this step (all are judged again)", act_generate, 1},
    {{'a', 0},
     "a",
     "autopilot on/off (steps until stopped, a person is needed, or the rounds)",
     act_autopilot,
     0},
    {{27, 0}, "Esc", "cancel the step in flight (and autopilot)", act_cancel, 0},
    {{'v', 0}, "v", "evaluation preview: the path's pairs on the configured scorers", act_eval, 0},
    {{'x', 0}, "x", "export the chosen path's pairs (Tab picks the format)", act_export, 0},
    {{'r', 0},
     "r",
     "replay the chosen path's steps (Right/n, Left/p, Space plays, Esc leaves)",
     act_replay,
     0},
    {{CTRL('l'), 0}, "C-l", "redraw the screen", act_redraw, 0},
    {{'?', 0}, "?", "this help", act_help, 0},
    {{'q', 0}, "q", "quit (saving)", act_quit, 0},
    {{CTRL('c'), 0}, NULL, NULL, act_ctrl_c, 0},
};

void tui_keymap_help(struct strbuf *out)
{
	size_t i;

	for (i = 0; i < sizeof(keymap) / sizeof(keymap[0]); i++)
		if (keymap[i].label)
			strbuf_addf(out, "%-8s %s\n", keymap[i].label, keymap[i].help);
}

static const struct binding *find_binding(int key)
{
	size_t i, k;

	for (i = 0; i < sizeof(keymap) / sizeof(keymap[0]); i++)
		for (k = 0; k < 4 && keymap[i].keys[k]; k++)
			if (keymap[i].keys[k] == key)
				return &keymap[i];
	return NULL;
}

/* ---- actions ---------------------------------------------------------------------- */

static void focus_on(struct tui *u, uint32_t i)
{
	tree_set_focus(u->t, i);
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
}

static unsigned act_parent(struct tui *u, int arg)
{
	uint32_t p = tree_node(u->t, u->t->focus)->parent;

	(void)arg;
	if (p == TREE_NONE) {
		set_msg(u, 0, "at the root");
		return REDRAW_STATUS;
	}
	focus_on(u, p);
	return REDRAW_ALL;
}

static unsigned act_child(struct tui *u, int arg)
{
	(void)arg;
	sync_candidate(u);
	if (u->cand == TREE_NONE) {
		set_msg(u, 0, "no children here");
		return REDRAW_STATUS;
	}
	focus_on(u, u->cand);
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned act_sibling(struct tui *u, int dir)
{
	const struct tree *t = u->t;
	uint32_t c = t->focus;

	do {
		c = dir < 0 ? tree_node(t, c)->prev_sibling : tree_node(t, c)->next_sibling;
	} while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED));
	if (c == TREE_NONE) {
		set_msg(u, 0, dir < 0 ? "no previous sibling" : "no next sibling");
		return REDRAW_STATUS;
	}
	focus_on(u, c);
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned act_next_candidate(struct tui *u, int dir)
{
	const struct tree *t = u->t;
	uint32_t c;

	sync_candidate(u);
	if (u->cand == TREE_NONE)
		return REDRAW_NONE;
	c = u->cand;
	do {
		c = dir < 0 ? tree_node(t, c)->prev_sibling : tree_node(t, c)->next_sibling;
	} while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED));
	if (c == TREE_NONE) /* wrap around */
		c = dir < 0 ? tree_node(t, t->focus)->last_child : first_visible_child(t, t->focus);
	while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED))
		c = tree_node(t, c)->prev_sibling;
	if (c != TREE_NONE)
		u->cand = c;
	return REDRAW_ALL;
}

/* Records pick as the final pick of the focus's step and moves to it. */
static void record_pick(struct tui *u, uint32_t pick, enum tree_picker picker)
{
	struct tree *t = u->t;
	uint32_t owner = t->focus;
	struct tree_step *s = tree_step_get(t, owner);
	uint32_t old = s->final_pick;

	history_begin(&u->hist, t);
	if (old != TREE_NONE && old != pick && s->picker == TREE_PICKER_HUMAN &&
	    (tree_node(t, old)->flags & TREE_HUMAN_PICK))
		history_set_flag(&u->hist, t, old, TREE_HUMAN_PICK, 0);
	history_set_pick(&u->hist, t, owner, pick, picker);
	if (picker == TREE_PICKER_HUMAN)
		history_set_flag(&u->hist, t, pick, TREE_HUMAN_PICK, 1);
	/* a pick is a decision: the chosen path goes through it */
	tree_path_through(t, pick);
	focus_on(u, pick);
	history_end(&u->hist, t);
	mark_changed(u);
	u->journal_path_due = 1;
}

/* c: the line shown (root, the focus, the branch below it) becomes the
 * chosen path, as one undoable action. */
static unsigned act_choose(struct tui *u, int arg)
{
	struct tree *t = u->t;

	(void)arg;
	if (view_is_path(u)) {
		set_msg(u, 0, "this is the chosen path already");
		return REDRAW_STATUS;
	}
	history_begin(&u->hist, t);
	if (tree_set_path(t, u->view, u->view_len) < 0) {
		history_end(&u->hist, t);
		set_msg(u, 1, "cannot choose this branch");
		return REDRAW_STATUS;
	}
	history_end(&u->hist, t);
	mark_changed(u);
	u->journal_path_due = 1;
	set_msg(u, 0, "chose this branch: the chosen path has %zu steps now (u undoes)",
		steer_path_steps(t));
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned no_candidates(struct tui *u)
{
	set_msg(u, 0,
		"no candidates here; g runs a step (no generator configured: see README "
		"Configuration)");
	return REDRAW_STATUS;
}

/* A pick made off the chosen path takes the path to its branch: said so. */
#define BRANCH_CHOSEN "; the chosen path follows this branch now (u undoes)"

static unsigned act_accept(struct tui *u, int arg)
{
	const struct tree_node *f;
	uint32_t judge;
	enum tree_picker picker;
	int moved;

	(void)arg;
	sync_candidate(u);
	if (u->cand == TREE_NONE)
		return no_candidates(u);
	f = tree_node(u->t, u->t->focus);
	judge = f->step ? f->step->judge_pick : TREE_NONE;
	/* Accepting the judge's pick is the AI's decision; accepting another
	 * highlighted candidate is the person's. */
	picker = (judge == TREE_NONE || judge == u->cand) ? TREE_PICKER_AI : TREE_PICKER_HUMAN;
	if (judge == TREE_NONE && !(tree_node(u->t, u->cand)->flags & TREE_JUDGE_PICK))
		picker = TREE_PICKER_HUMAN;
	moved = !view_on_path(u, (size_t)view_pos(u));
	record_pick(u, u->cand, picker);
	set_msg(u, 0, "accepted (%s)%s", picker == TREE_PICKER_AI ? "judge's pick" : "your pick",
		moved ? BRANCH_CHOSEN : "");
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned act_pick(struct tui *u, int k)
{
	const struct tree *t = u->t;
	uint32_t c = first_visible_child(t, t->focus);
	int i, moved;

	for (i = 1; i < k && c != TREE_NONE; i++)
		c = next_visible_sibling(t, c);
	if (c == TREE_NONE) {
		if (first_visible_child(t, t->focus) == TREE_NONE)
			return no_candidates(u);
		set_msg(u, 0, "no candidate %d here", k);
		return REDRAW_STATUS;
	}
	moved = !view_on_path(u, (size_t)view_pos(u));
	record_pick(u, c, TREE_PICKER_HUMAN);
	set_msg(u, 0, "picked candidate %d (human)%s", k, moved ? BRANCH_CHOSEN : "");
	return REDRAW_ALL | REDRAW_STATS;
}

/* Runs $WEFT_EDITOR_CMD (set from $VISUAL, $EDITOR or vi) on path with the terminal given back to
 * it. */
static int run_editor(const char *path)
{
	pid_t pid;
	int status = 0;

	def_prog_mode();
	restore_terminal();
	/* Ctrl-C in the editor is the editor's. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	pid = fork();
	if (pid == 0) {
		install_signals(0);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", "$WEFT_EDITOR_CMD \"$1\"", "sh", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	install_signals(1);
	reset_prog_mode();
	curses_active = 1;
	refresh();
	if (pid < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The largest text an edit may bring back (16 MiB). */
#define EDIT_MAX_BYTES (16u << 20)

static unsigned act_edit(struct tui *u, int arg)
{
	struct tree *t = u->t;
	const struct tree_node *f = tree_node(t, t->focus);
	char tmpl[] = "/tmp/weft-edit-XXXXXX";
	struct strbuf text = STRBUF_INIT;
	const char *ed;
	FILE *fp;
	int fd, rc;
	uint32_t added;

	(void)arg;
	if (f->parent == TREE_NONE) {
		set_msg(u, 1, "the root cannot be edited (edits make a sibling)");
		return REDRAW_STATUS;
	}
	fd = mkstemp(tmpl);
	if (fd < 0) {
		set_msg(u, 1, "edit: cannot create a temporary file: %s", strerror(errno));
		return REDRAW_STATUS;
	}
	fp = fdopen(fd, "w+");
	if (!fp || fwrite(f->text, 1, f->text_len, fp) != f->text_len || fflush(fp)) {
		set_msg(u, 1, "edit: cannot write %s", tmpl);
		if (fp)
			fclose(fp);
		else
			close(fd);
		unlink(tmpl);
		return REDRAW_STATUS;
	}
	fclose(fp);
	ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	setenv("WEFT_EDITOR_CMD", ed, 1);
	rc = run_editor(tmpl);
	if (rc != 0) {
		set_msg(u, 1, "edit: the editor exited with status %d; nothing changed", rc);
		unlink(tmpl);
		return REDRAW_ALL;
	}
	{
		struct errbuf rerr;
		char *data;
		size_t len, bad;

		/* what the editor left must be text a session can hold: else
		 * nothing changes and the person's text stays in the file */
		if (atomicfile_read(tmpl, EDIT_MAX_BYTES, &data, &len, &rerr)) {
			set_msg(u, 1, "edit: %s, nothing changed; the text is kept in %s", rerr.msg,
				tmpl);
			return REDRAW_ALL;
		}
		strbuf_add(&text, data, len);
		free(data);
		/* the first byte that is not UTF-8, or a NUL */
		for (bad = 0; bad < text.len;) {
			uint32_t cp;
			size_t k = utf8_decode((const unsigned char *)text.data + bad,
					       text.len - bad, &cp);

			if (!k || !cp)
				break;
			bad += k;
		}
		if (bad < text.len) {
			set_msg(u, 1,
				"edit: %s at byte %zu, nothing changed (a session holds UTF-8); "
				"the text is kept in %s",
				bad < text.len && !text.data[bad] ? "a NUL byte"
								  : "not valid UTF-8",
				bad, tmpl);
			strbuf_release(&text);
			return REDRAW_ALL;
		}
	}
	unlink(tmpl);
	if (text.len == f->text_len && !memcmp(text.data, f->text, text.len)) {
		set_msg(u, 0, "edit: no change");
		strbuf_release(&text);
		return REDRAW_ALL;
	}
	history_begin(&u->hist, t);
	added = tree_add(t, f->parent, NULL, text.data, text.len);
	tree_set_flag(t, added, TREE_EDITED, 1);
	history_added(&u->hist, t, added);
	/* an edit is a decision: the chosen path takes the edited text */
	tree_path_through(t, added);
	focus_on(u, added);
	history_end(&u->hist, t);
	mark_changed(u);
	set_msg(u, 0, "edited: a new sibling (the original stays)");
	strbuf_release(&text);
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned act_prune(struct tui *u, int arg)
{
	(void)arg;
	if (u->t->focus == u->t->root) {
		set_msg(u, 1, "the root cannot be pruned");
		return REDRAW_STATUS;
	}
	u->prune_target = u->t->focus;
	u->mode = MODE_CONFIRM_PRUNE;
	set_msg(u, 0, "prune this subtree? (y/n)");
	return REDRAW_STATUS;
}

static unsigned confirm_prune(struct tui *u, int key)
{
	u->mode = MODE_NORMAL;
	if (key != 'y' && key != 'Y') {
		set_msg(u, 0, "not pruned");
		return REDRAW_STATUS;
	}
	history_begin(&u->hist, u->t);
	history_prune(&u->hist, u->t, u->prune_target);
	history_end(&u->hist, u->t);
	mark_changed(u);
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
	set_msg(u, 0, "pruned (u undoes)");
	return REDRAW_ALL | REDRAW_STATS;
}

/* u (arg -1) and C-r (arg 1). */
static unsigned act_history(struct tui *u, int arg)
{
	int redo = arg > 0;

	if ((redo ? history_redo : history_undo)(&u->hist, u->t) < 0) {
		set_msg(u, 0, redo ? "nothing to redo" : "nothing to undo");
		return REDRAW_STATUS;
	}
	mark_changed(u);
	u->journal_path_due = 1; /* the chosen path may be all that moved */
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
	set_msg(u, 0, redo ? "redone" : "undone");
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned act_bookmark(struct tui *u, int arg)
{
	int on = !(tree_node(u->t, u->t->focus)->flags & TREE_BOOKMARK);

	(void)arg;
	history_set_flag(&u->hist, u->t, u->t->focus, TREE_BOOKMARK, on);
	mark_changed(u);
	set_msg(u, 0, on ? "bookmarked" : "bookmark removed");
	return REDRAW_ALL;
}

static unsigned act_search(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_SEARCH;
	strbuf_reset(&u->input);
	return REDRAW_STATUS;
}

static int contains(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *p = hay, *end = hay + n;

	if (m == 0 || m > n)
		return m == 0;
	while ((size_t)(end - p) >= m) {
		p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
		if (!p)
			return 0;
		if (!memcmp(p, needle, m))
			return 1;
		p++;
	}
	return 0;
}

/* Finds the next visible node after the focus (in creation order, wrapping)
 * whose text contains the search.  Linear in the tree: runs on a key, not
 * per frame. */
static unsigned act_search_next(struct tui *u, int arg)
{
	struct tree *t = u->t;
	uint32_t i, k, start = t->focus;

	(void)arg;
	if (!u->search.len) {
		set_msg(u, 0, "no search yet (/ starts one)");
		return REDRAW_STATUS;
	}
	for (k = 1; k <= t->count; k++) {
		i = (uint32_t)((start + k) % t->count);
		if (contains(tree_node(t, i)->text, tree_node(t, i)->text_len, u->search.data,
			     u->search.len) &&
		    !tree_is_pruned(t, i)) {
			focus_on(u, i);
			set_msg(u, 0, "found \"%s\"", u->search.data);
			return REDRAW_ALL | REDRAW_STATS;
		}
	}
	set_msg(u, 0, "not found: \"%s\"", u->search.data);
	return REDRAW_STATUS;
}

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
	{
		char mb[MB_LEN_MAX];
		mbstate_t st;
		size_t n;

		memset(&st, 0, sizeof(st));
		n = wcrtomb(mb, (wchar_t)ch, &st);
		if (n != (size_t)-1 && u->input.len + n < 1024)
			strbuf_add(&u->input, mb, n);
	}
	return LINE_EDITED;
backspace:
	while (u->input.len && ((unsigned char)u->input.data[u->input.len - 1] & 0xC0) == 0x80)
		strbuf_truncate(&u->input, u->input.len - 1);
	if (u->input.len)
		strbuf_truncate(&u->input, u->input.len - 1);
	return LINE_EDITED;
}

static unsigned search_key(struct tui *u, wint_t ch, int is_key)
{
	switch (line_key(u, ch, is_key)) {
	case LINE_CANCEL:
		u->mode = MODE_NORMAL;
		set_msg(u, 0, "search cancelled");
		return REDRAW_STATUS;
	case LINE_ENTER:
		u->mode = MODE_NORMAL;
		if (u->input.len) {
			strbuf_reset(&u->search);
			strbuf_add(&u->search, u->input.data, u->input.len);
		}
		return act_search_next(u, 0);
	case LINE_EDITED: return REDRAW_STATUS;
	case LINE_OTHER: break;
	}
	return REDRAW_NONE;
}

static int do_save(struct tui *u)
{
	struct errbuf err;

	if (!u->opts || !u->opts->save) {
		set_msg(u, 1, "cannot save: this build has no session writer");
		return -1;
	}
	if (!u->path) {
		set_msg(u, 1, "cannot save: no file name");
		return -1;
	}
	if (u->opts->save(u->t, u->path, &err) < 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "NOT SAVED: %s", err.msg);
		set_sticky(u, sb.data);
		strbuf_release(&sb);
		set_msg(u, 1, "save failed");
		return -1;
	}
	u->changes = 0;
	u->stats_changes = (unsigned)-1;
	u->journal_failed = 0; /* what the journal missed is in the file now */
	u->sticky[0] = '\0';
	u->saved_focus = u->t->focus;
	set_msg(u, 0, "saved %s", u->path);
	return 0;
}

static unsigned act_save(struct tui *u, int arg)
{
	(void)arg;
	do_save(u);
	return REDRAW_STATUS;
}

static unsigned act_theme(struct tui *u, int arg)
{
	size_t tries;

	(void)arg;
	for (tries = 0; tries < 3; tries++) {
		u->theme_index = (u->theme_index + 1) % 3;
		if (load_theme(u, theme_cycle[u->theme_index]) == 0) {
			set_msg(u, 0, "theme %s%s", u->theme.name,
				u->no_color ? " (NO_COLOR: no colours)" : "");
			break;
		}
	}
	return REDRAW_ALL;
}

static unsigned act_help(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_HELP;
	u->help_scroll = 0;
	return REDRAW_ALL;
}

/* Where the changes the save could not write are, for the person deciding
 * whether to quit without saving. */
static void unsaved_fate(struct tui *u, int brief, struct strbuf *out)
{
	struct strbuf jpath = STRBUF_INIT;

	journal_path(u->path, &jpath);
	if (!u->journal_failed && access(jpath.data, F_OK) == 0 && brief)
		strbuf_addf(out, "changes kept in %s", jpath.data);
	else if (!u->journal_failed && access(jpath.data, F_OK) == 0)
		strbuf_addf(out, "the changes are kept in %s: opening %s again replays them",
			    jpath.data, u->path);
	else
		strbuf_addf(out, "%u change%s since the last save LOST", u->changes,
			    u->changes == 1 ? "" : "s");
	strbuf_release(&jpath);
}

static unsigned act_quit(struct tui *u, int arg)
{
	struct strbuf sb = STRBUF_INIT;
	/* Nothing changed since the last save (or the opening), and the
	 * cursor (focusedId) is where the file has it (or the session is
	 * read-only): nothing to write. */
	int cursor_moved = u->path && u->opts && u->opts->save && !u->opts->read_only &&
			   u->t->focus != u->saved_focus;

	(void)arg;
	if (u->changes == 0 && !cursor_moved)
		return ACTION_QUIT;
	if (do_save(u) == 0)
		return ACTION_QUIT;
	if (!u->path) {
		/* a tree with no file (--synthetic) has nowhere to go */
		u->mode = MODE_CONFIRM_QUIT;
		u->sticky[0] = '\0';
		set_msg(u, 1, "cannot save: no file name; q again quits without saving");
		return REDRAW_STATUS;
	}
	/* Quitting now leaves changes unsaved: only a deliberate Y does. */
	u->mode = MODE_CONFIRM_QUIT;
	/* the question first, so a narrow screen still shows it */
	strbuf_addstr(&sb, "QUIT WITHOUT SAVING? Y quits (");
	unsaved_fate(u, 1, &sb);
	strbuf_addf(&sb, "), any other key stays.  %s", u->sticky);
	set_sticky(u, sb.data);
	u->msg[0] = '\0';
	strbuf_release(&sb);
	return REDRAW_STATUS;
}

/* ---- steering ----------------------------------------------------------- */

static void step_done(void *ctx, const struct steer_outcome *o)
{
	struct tui *u = ctx;

	u->outcome = *o;
	u->step_ended = 1;
}

/* Why steering cannot run, or NULL when it can. */
static const char *steer_missing(const struct tui *u)
{
	const struct tui_options *o = u->opts;

	if (!o || !o->engine || !o->generator || !o->judge || !config_role_configured(o->generator))
		return "no generator configured: see README Configuration ([generator] model)";
	if (!config_role_configured(o->judge))
		return "no judge configured: see README Configuration ([judge] model)";
	if (!o->task)
		return "the session names no task (weft new --task NAME starts one)";
	return NULL;
}

static unsigned start_step(struct tui *u, uint32_t at)
{
	struct steer_settings s;
	struct errbuf err;

	/* every field set: G at a step that waits for a pick must add
	 * candidates, never re-judge on a stray rejudge_waiting */
	steer_settings_from_task(&s, u->opts->task);
	u->step_at = at;
	u->count_before = u->t->count;
	u->step_ended = 0;
	u->step = steer_start(u->opts->engine, u->t, at, u->opts->task, u->opts->generator,
			      u->opts->judge, &s, step_done, u, &err);
	if (!u->step) { /* a prompt past the cap: nothing was sent */
		u->autopilot = 0;
		set_msg(u, 1, "%s", err.msg);
		return REDRAW_STATUS;
	}
	set_msg(u, 0, "asking the generator for %u candidates...", s.n);
	return REDRAW_STATUS;
}

static unsigned act_generate(struct tui *u, int more)
{
	const char *why = steer_missing(u);
	const struct tree_node *f = tree_node(u->t, u->t->focus);

	if (why) {
		set_msg(u, 1, "%s", why);
		return REDRAW_STATUS;
	}
	if (u->step) {
		set_msg(u, 0, "a step is in flight (Esc cancels)");
		return REDRAW_STATUS;
	}
	if (!more && f->step && f->step->count) {
		set_msg(u, 0, "this step has candidates: Enter accepts, 1-9 picks, G adds more");
		return REDRAW_STATUS;
	}
	return start_step(u, u->t->focus);
}

static unsigned act_autopilot(struct tui *u, int arg)
{
	const char *why = steer_missing(u);

	(void)arg;
	if (u->autopilot) {
		u->autopilot = 0;
		if (u->step) {
			steer_step_free(u->step);
			u->step = NULL;
		}
		set_msg(u, 0, "autopilot off");
		return REDRAW_ALL;
	}
	if (why) {
		set_msg(u, 1, "%s", why);
		return REDRAW_STATUS;
	}
	u->autopilot = 1;
	if (!u->step) {
		focus_on(u, tree_path_tip(u->t));
		start_step(u, u->t->focus);
	}
	set_msg(u, 0, "autopilot on (a or Esc stops it)");
	return REDRAW_ALL;
}

static unsigned act_cancel(struct tui *u, int arg)
{
	(void)arg;
	if (u->eval) {
		evalrun_free(u->eval);
		u->eval = NULL;
		evalset_release(&u->evalset);
		set_msg(u, 0, "evaluation cancelled");
		return REDRAW_STATUS;
	}
	if (!u->step && !u->autopilot)
		return REDRAW_NONE;
	if (u->step) {
		steer_step_free(u->step);
		u->step = NULL;
	}
	u->autopilot = 0;
	set_msg(u, 0, "cancelled; the tree is as it was");
	return REDRAW_ALL;
}

/*
 * A step ended: its nodes are already in the tree.  Make them undoable (one
 * action) and write the step to the journal as one line, then, on
 * autopilot, take the judge's pick and go on.
 */
static unsigned finish_step(struct tui *u)
{
	struct steer_outcome o = u->outcome;
	struct tree *t = u->t;
	struct journal_batch b;
	struct errbuf err;
	void (*observer)(void *, uint32_t, enum history_change) = u->hist.observer;
	uint32_t i;

	steer_step_free(u->step);
	u->step = NULL;
	u->step_ended = 0;
	if (o.prompt_tokens > 0)
		u->tokens += o.prompt_tokens;
	if (o.completion_tokens > 0)
		u->tokens += o.completion_tokens;
	if (o.key_redacted)
		set_sticky(u, "a model's reply held a piece of an API key: stored as [key hidden]");
	if (o.status == STEER_FAILED) {
		u->autopilot = 0;
		set_msg(u, 1, "%s", o.err.msg);
		return REDRAW_ALL;
	}
	u->hist.observer = NULL; /* the batch below journals the step whole */
	history_begin(&u->hist, t);
	for (i = u->count_before; i < t->count; i++)
		if (tree_node(t, i)->parent == o.node)
			history_added(&u->hist, t, i);
	focus_on(u, o.node);
	history_end(&u->hist, t);
	u->hist.observer = observer;
	mark_changed(u);
	if (u->path) {
		const struct tree_step *s = tree_node(t, o.node)->step;
		size_t k;

		journal_batch_init(&b);
		for (k = 0; s && k < s->count; k++)
			journal_batch_node(&b, t, s->candidates[k]);
		journal_batch_node(&b, t, o.node);
		journal_batch_path(&b, t);
		if (journal_batch_commit(u->path, &b, &err) < 0) {
			/* the step is only in memory: nothing may build on it */
			journal_failure(u, &err);
			u->autopilot = 0;
			return REDRAW_ALL | REDRAW_STATS;
		}
	}
	if (o.status == STEER_JUDGE_FAILED) {
		/* an error, not a person's turn: say the judge failed and why */
		u->autopilot = 0;
		set_msg(u, 1, "%s (g asks again)", o.err.msg);
		return REDRAW_ALL | REDRAW_STATS;
	}
	if (o.status == STEER_NEEDS_HUMAN) {
		u->autopilot = 0;
		set_msg(u, 1, "pick with 1-9: %s", o.err.msg);
		return REDRAW_ALL | REDRAW_STATS;
	}
	if (!u->autopilot) {
		set_msg(u, 0, "%zu candidates; the judge picked one: Enter accepts, 1-9 overrides",
			o.candidates);
		return REDRAW_ALL | REDRAW_STATS;
	}
	record_pick(u, o.judge_pick, TREE_PICKER_AI);
	journal_path_if_due(u);
	if (steer_path_steps(t) >= u->opts->task->rounds) {
		u->autopilot = 0;
		set_msg(u, 0, "autopilot done: %zu steps (the task's rounds)", steer_path_steps(t));
	} else {
		start_step(u, u->t->focus);
		set_msg(u, 0, "autopilot: step %zu", steer_path_steps(t) + 1);
	}
	return REDRAW_ALL | REDRAW_STATS;
}

/* ---- the chosen path's pairs: evaluation preview and export --------------- */

/* Extracts the pairs of the chosen path as weft extract does (after the
 * task's preamble, else after the root) with the task's pattern and labels.  Returns 0 with *pr
 * filled (at least one pair; release it), or -1 with the status message set. */
static int path_pairs(struct tui *u, struct pairs_result *pr)
{
	struct errbuf err;
	int r;

	r = task_path_pairs(u->opts ? u->opts->task : NULL, u->t, pr, &err);
	if (r < 0 || !pr->count) {
		set_msg(u, 1, "%s",
			r < 0 ? err.msg : "no question/answer pairs on the chosen path");
		pairs_result_release(pr);
		return -1;
	}
	return 0;
}

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

static unsigned act_export(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_EXPORT;
	export_default(u);
	return REDRAW_STATUS;
}

/* Writes the export the prompt line names; keeps the prompt open when the
 * file exists (Enter again replaces it). */
static unsigned export_enter(struct tui *u)
{
	const struct export_choice *c = &export_choices[u->export_format];
	struct pairs_result pr;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	char *file;
	int r;

	if (!u->input.len) {
		u->mode = MODE_NORMAL;
		set_msg(u, 0, "export cancelled");
		return REDRAW_STATUS;
	}
	file = xstrndup(u->input.data, u->input.len);
	if (u->path) {
		/* outputs never clobber inputs: the session is never replaced
		 * by its own export (Enter again replaces any other file) */
		const char *inputs[1] = {u->path};

		if (outfile_check(file, inputs, 1, 1, &err) == OUTFILE_IS_INPUT) {
			set_msg(u, 1, "%s", err.msg);
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
	if (c->format == EXPORT_BONSAI) {
		/* a copy: never folds or removes the journal of file, and
		 * never writes a session another weft is writing */
		struct session_lock lock = SESSION_LOCK_INIT;

		r = session_lock_acquire(&lock, file, NULL, &err);
		if (r == 0)
			r = session_save(u->t, file, &err);
		session_lock_release(&lock);
		if (r < 0) {
			set_msg(u, 1, "%s", err.msg);
		} else {
			set_msg(u, 0, "exported the session (%u nodes) to %s (bonsai)", u->t->count,
				file);
		}
	} else if ((r = path_pairs(u, &pr)) == 0) {
		r = export_write(&pr, c->format, NULL, &out, &err);
		if (r == 0)
			r = atomicfile_write(file, out.data, out.len, &err);
		if (r < 0)
			set_msg(u, 1, "%s", err.msg);
		else
			set_msg(u, 0, "exported %zu pairs to %s (%s)", pr.count, file, c->name);
		pairs_result_release(&pr);
	}
	strbuf_release(&out);
	free(file);
	u->mode = MODE_NORMAL;
	return REDRAW_STATUS;
}

static unsigned export_key(struct tui *u, wint_t ch, int is_key)
{
	switch (line_key(u, ch, is_key)) {
	case LINE_CANCEL:
		u->mode = MODE_NORMAL;
		set_msg(u, 0, "export cancelled");
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

/* ---- evaluation preview --------------------------------------------------- */

static unsigned act_eval(struct tui *u, int arg)
{
	const struct tui_options *o = u->opts;
	const struct task *task = o ? o->task : NULL;
	struct pairs_result pr;
	struct evalrun_options eo;
	struct errbuf err;
	size_t models;

	(void)arg;
	if (u->eval) {
		set_msg(u, 0, "an evaluation is running (Esc cancels)");
		return REDRAW_STATUS;
	}
	if (!o || !o->engine || !o->config) {
		set_msg(u, 1,
			"no scorer configured: add [scorer.NAME] sections (README Configuration)");
		return REDRAW_STATUS;
	}
	if (path_pairs(u, &pr) < 0)
		return REDRAW_STATUS;
	evalset_init(&u->evalset);
	evalset_from_pairs(&u->evalset, &pr);
	pairs_result_release(&pr);
	evalrun_options_init(&eo);
	if (task)
		eo.eval_prompt = task->eval;
	u->eval = evalrun_new(o->engine, &u->evalset, &eo, &err);
	if (!u->eval) {
		evalset_release(&u->evalset);
		set_msg(u, 1, "%s", err.msg);
		return REDRAW_STATUS;
	}
	models = evalrun_add_configured(u->eval, o->config, NULL);
	if (!models) {
		evalrun_free(u->eval);
		u->eval = NULL;
		evalset_release(&u->evalset);
		set_msg(u, 1,
			"no scorer configured: add [scorer.NAME] sections (README Configuration)");
		return REDRAW_STATUS;
	}
	evalrun_start(u->eval);
	set_msg(u, 0, "evaluating %zu pairs on %zu models (Esc cancels)", u->evalset.n, models);
	return REDRAW_STATUS;
}

/* Called by the loop: progress while the run goes, the popup when it ends. */
static unsigned eval_tick(struct tui *u)
{
	size_t done, total;

	if (!u->eval)
		return 0;
	evalrun_progress(u->eval, &done, &total);
	if (!evalrun_done(u->eval)) {
		set_msg(u, 0, "evaluating: %zu/%zu (Esc cancels)", done, total);
		return 0;
	}
	strbuf_reset(&u->eval_page);
	evalrun_format_balance(u->eval, &u->eval_page);
	strbuf_addch(&u->eval_page, '\n');
	evalrun_format_table(u->eval, &u->eval_page);
	strbuf_addch(&u->eval_page, '\n');
	evalrun_format_plot(u->eval, COLS > 100 ? 90 : COLS - 10, LINES > 30 ? 16 : 8,
			    &u->eval_page);
	evalrun_free(u->eval);
	u->eval = NULL;
	evalset_release(&u->evalset);
	u->help_scroll = 0;
	u->mode = MODE_EVAL;
	set_msg(u, 0, "evaluation done");
	return REDRAW_ALL;
}

static unsigned act_ctrl_c(struct tui *u, int arg)
{
	(void)arg;
	set_msg(u, 0, "q quits (saving)");
	return REDRAW_STATUS;
}

static unsigned act_redraw(struct tui *u, int arg)
{
	(void)u;
	(void)arg;
	clearok(curscr, TRUE);
	return REDRAW_ALL;
}

/* ---- replay ----------------------------------------------------------------------- */

static void ms_from_now(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Milliseconds until ts (0 when past). */
static long ms_until(const struct timespec *ts)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(ts->tv_sec - now.tv_sec) * 1000 + (ts->tv_nsec - now.tv_nsec) / 1000000L;
	return ms < 0 ? 0 : ms;
}

static void replay_leave(struct tui *u)
{
	replay_walk_release(&u->walk);
	u->rplaying = 0;
	u->mode = MODE_NORMAL;
}

/* r: walks the chosen path's recorded steps.  Nothing in the tree changes:
 * replay reads the walk built here and draws its own screen. */
static unsigned act_replay(struct tui *u, int arg)
{
	const char *env = getenv("WEFT_REPLAY_PACE_MS");
	char *end;

	(void)arg;
	replay_walk_release(&u->walk);
	replay_walk_build(u->t, NULL, &u->walk);
	if (!u->walk.count) {
		replay_walk_release(&u->walk);
		set_msg(u, 1, "replay: the chosen path has no steps yet");
		return REDRAW_STATUS;
	}
	u->rpace_ms = REPLAY_PACE_MS;
	if (env && *env) {
		long v = strtol(env, &end, 10);

		if (!*end && v >= 10 && v <= 60000)
			u->rpace_ms = v;
	}
	u->rstep = 0;
	u->rplaying = 0;
	u->mode = MODE_REPLAY;
	return REDRAW_ALL;
}

static unsigned replay_key(struct tui *u, wint_t ch, int is_key)
{
	int fwd = is_key ? ch == KEY_RIGHT : ch == 'n' || ch == 'l';
	int back = is_key ? ch == KEY_LEFT : ch == 'p' || ch == 'h';

	if (fwd || back) {
		u->rplaying = 0;
		if (fwd && u->rstep + 1 < u->walk.count)
			u->rstep++;
		else if (back && u->rstep > 0)
			u->rstep--;
		return REDRAW_ALL;
	}
	if (!is_key && ch == ' ') {
		u->rplaying = !u->rplaying;
		if (u->rplaying && u->rstep + 1 >= u->walk.count)
			u->rstep = 0; /* playing from the end starts again */
		ms_from_now(&u->rdue, u->rpace_ms);
		return REDRAW_ALL;
	}
	if (!is_key && (ch == 27 || ch == 'r' || ch == 'q')) {
		replay_leave(u);
		set_msg(u, 0, "left replay; the session is unchanged");
		return REDRAW_ALL;
	}
	if (is_key && ch == KEY_HOME)
		u->rstep = 0;
	else if (is_key && ch == KEY_END)
		u->rstep = u->walk.count - 1;
	else
		set_msg(u, 0, "replay: Right/n forward, Left/p back, Space plays, Esc leaves");
	return REDRAW_ALL;
}

/* While playing: the next step when it is due. */
static unsigned replay_tick(struct tui *u)
{
	if (u->mode != MODE_REPLAY || !u->rplaying || ms_until(&u->rdue) > 0)
		return 0;
	if (u->rstep + 1 < u->walk.count)
		u->rstep++;
	if (u->rstep + 1 >= u->walk.count)
		u->rplaying = 0;
	ms_from_now(&u->rdue, u->rpace_ms);
	return REDRAW_ALL;
}

/* How long the loop may wait for a key. */
static int loop_timeout(const struct tui *u)
{
	long ms;

	if (u->mode != MODE_REPLAY || !u->rplaying)
		return 1000;
	ms = ms_until(&u->rdue);
	return ms > 1000 ? 1000 : (int)ms;
}

static void draw_replay_steps(struct tui *u, int y0, int h, int width)
{
	size_t first = u->rstep >= (size_t)h ? u->rstep - (size_t)h + 1 : 0, k;
	int row;
	char buf[96];

	for (row = 0, k = first; row < h; row++, k++) {
		wmove(stdscr, y0 + row, 0);
		if (k < u->walk.count) {
			const struct replay_step *rs = &u->walk.steps[k];
			char judge[24], fin[24];

			if (rs->judge_index >= 0)
				snprintf(judge, sizeof(judge), "J%ld", rs->judge_index + 1);
			else
				snprintf(judge, sizeof(judge), "J-");
			if (rs->waiting)
				snprintf(fin, sizeof(fin), "wait");
			else if (rs->final_index >= 0)
				snprintf(fin, sizeof(fin), "*%ld", rs->final_index + 1);
			else
				snprintf(fin, sizeof(fin), "*?");
			snprintf(buf, sizeof(buf), " step %-4zu %-4s %-4s %-7s%s", k + 1, judge,
				 fin, replay_picker_name(rs->picker),
				 rs->override ? " override" : "");
			wattrset(stdscr, role_attr(u, k == u->rstep  ? THEME_FOCUS
						      : rs->override ? THEME_HUMAN
								     : THEME_TREE));
			put_ascii(stdscr, buf, width);
		}
		fill_to(stdscr, y0 + row, width);
	}
}

static void draw_replay_candidates(struct tui *u, const struct replay_step *rs, int y0, int x0,
				   int h, int width)
{
	const struct tree *t = u->t;
	size_t sel = rs->final_index >= 0 ? (size_t)rs->final_index : 0;
	size_t first = sel >= (size_t)h ? sel - (size_t)h + 1 : 0, k;
	int row;
	char buf[64];

	for (row = 0, k = first; row < h; row++, k++) {
		const struct tree_node *nd;
		enum theme_role role;
		int x, y, filled = 0, b;

		wmove(stdscr, y0 + row, x0);
		wattrset(stdscr, role_attr(u, THEME_CANDIDATE));
		if (k >= rs->count) {
			if (k == 0)
				put_ascii(stdscr, " no candidates recorded", width);
			fill_to(stdscr, y0 + row, x0 + width);
			continue;
		}
		nd = tree_node(t, rs->candidates[k]);
		role = (long)k == rs->final_index ? THEME_SELECTED : THEME_CANDIDATE;
		wattrset(stdscr, role_attr(u, role));
		snprintf(buf, sizeof(buf), "%zu ", k + 1);
		put_ascii(stdscr, buf, width);
		wattrset(stdscr, role_attr(u, THEME_JUDGE));
		waddch(stdscr, (long)k == rs->judge_index ? 'J' : ' ');
		wattrset(stdscr, role_attr(u, THEME_HUMAN));
		waddch(stdscr, (long)k != rs->final_index	 ? ' '
			       : rs->picker == TREE_PICKER_HUMAN ? 'H'
								 : '*');
		waddch(stdscr, ' ');
		if (rs->scores) {
			double sc = rs->scores[k] < 0 ? 0 : rs->scores[k] > 1 ? 1 : rs->scores[k];

			filled = (int)(sc * BAR_WIDTH + 0.5);
		}
		wattrset(stdscr, role_attr(u, THEME_BAR));
		for (b = 0; b < BAR_WIDTH; b++)
			waddch(stdscr, b < filled ? '#' : '.');
		wattrset(stdscr, role_attr(u, role));
		if (rs->scores)
			snprintf(buf, sizeof(buf), " %4.2f ", rs->scores[k]);
		else
			snprintf(buf, sizeof(buf), "   -  ");
		put_ascii(stdscr, buf, 6);
		getyx(stdscr, y, x);
		(void)y;
		if (x < x0 + width)
			put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
		fill_to(stdscr, y0 + row, x0 + width);
	}
}

static void draw_replay(struct tui *u)
{
	const struct replay_step *rs = &u->walk.steps[u->rstep];
	int rows = LINES, cols = COLS, body = rows - 2, tree_w, right_x, right_w, cand_h, text_h;
	int kids = rs->count > 9 ? 9 : (int)rs->count;
	struct strbuf line = STRBUF_INIT;
	char buf[160];

	wattrset(stdscr, role_attr(u, THEME_NORMAL));
	erase();
	wmove(stdscr, 0, 0);
	wattrset(stdscr, role_attr(u, THEME_BORDER));
	snprintf(buf, sizeof(buf),
		 " weft  replay  step %zu/%zu   Right/n forward  Left/p back  Space %s  Esc leaves",
		 u->rstep + 1, u->walk.count, u->rplaying ? "pauses" : "plays");
	put_ascii(stdscr, buf, cols);
	fill_to(stdscr, 0, cols);
	if (body >= 1) {
		tree_w = cols >= 80 ? cols * 2 / 5 : cols >= 50 ? 20 : 0;
		right_x = tree_w ? tree_w + 1 : 0;
		right_w = cols - right_x;
		cand_h = body >= 12 ? (kids < 3 ? 3 : kids) : body >= 6 ? 2 : 0;
		text_h = body - (cand_h ? cand_h + 1 : 0);
		if (tree_w) {
			int y;

			draw_replay_steps(u, 1, body, tree_w);
			wattrset(stdscr, role_attr(u, THEME_BORDER));
			for (y = 1; y <= body; y++)
				mvaddch(y, tree_w, ACS_VLINE);
		}
		/* the session as it was at this step: the document to the node
		 * the step grew from */
		draw_text(u, 1, right_x, text_h, right_w, u->t->path, u->t->path_len,
			  (long)u->rstep, u->rstep + 1);
		if (cand_h) {
			strbuf_addf(&line, "-- step %zu: judge ", u->rstep + 1);
			if (rs->judge_index >= 0)
				strbuf_addf(&line, "%ld", rs->judge_index + 1);
			else
				strbuf_addstr(&line, rs->needs_human ? "could not pick" : "-");
			if (rs->waiting)
				strbuf_addstr(&line, ", waiting for a person");
			else if (rs->final_index >= 0)
				strbuf_addf(&line, ", final %ld", rs->final_index + 1);
			if (!rs->waiting)
				strbuf_addf(&line, " by %s", replay_picker_name(rs->picker));
			if (rs->override)
				strbuf_addstr(&line, "  OVERRIDE");
			strbuf_addch(&line, ' ');
			wmove(stdscr, 1 + text_h, right_x);
			wattrset(stdscr, role_attr(u, rs->override ? THEME_ERROR : THEME_BORDER));
			put_ascii(stdscr, line.data, right_w);
			{
				int y, x;

				getyx(stdscr, y, x);
				wattrset(stdscr, role_attr(u, THEME_BORDER));
				for (; y == 1 + text_h && x < cols; x++)
					mvaddch(y, x, ACS_HLINE);
			}
			draw_replay_candidates(u, rs, 2 + text_h, right_x, cand_h, right_w);
		}
	}
	strbuf_reset(&line);
	strbuf_addf(&line, " replay | step %zu/%zu | %zu overrides | %zu needed a person | %s | ",
		    u->rstep + 1, u->walk.count, u->walk.overrides, u->walk.needed_human,
		    u->rplaying ? "playing" : "paused");
	strbuf_addstr(&line, u->msg);
	wmove(stdscr, rows - 1, 0);
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	put_text(stdscr, line.data, line.len, cols - 1);
	fill_to(stdscr, rows - 1, cols - 1);
	strbuf_release(&line);
}

/* ---- screens --------------------------------------------------------------------- */

/* A full-screen page of text (help, the evaluation popup); j/k scroll. */
static void draw_page(struct tui *u, const char *title, const struct strbuf *text)
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

static void draw_help(struct tui *u)
{
	struct strbuf text = STRBUF_INIT;

	tui_keymap_help(&text);
	draw_page(u, " weft keys (any key returns; j/k scroll)", &text);
	strbuf_release(&text);
}

static void draw(struct tui *u)
{
	int rows = LINES, cols = COLS;
	int body = rows - 2, tree_w, right_x, right_w, cand_h, text_h, kids = 0;
	uint32_t c;
	char buf[128];
	struct strbuf title = STRBUF_INIT;

	if (u->mode == MODE_HELP) {
		draw_help(u);
		return;
	}
	if (u->mode == MODE_EVAL) {
		draw_page(u, " evaluation preview (any key returns; j/k scroll)", &u->eval_page);
		return;
	}
	if (u->mode == MODE_REPLAY) {
		draw_replay(u);
		return;
	}
	sync_candidate(u);
	wattrset(stdscr, role_attr(u, THEME_NORMAL));
	erase();
	/* header */
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
	if (body < 1) {
		draw_status(u, rows - 1, cols);
		return;
	}
	tree_w = cols >= 80 ? cols * 2 / 5 : cols >= 50 ? 20 : 0;
	right_x = tree_w ? tree_w + 1 : 0;
	right_w = cols - right_x;
	for (c = first_visible_child(u->t, u->t->focus); c != TREE_NONE && kids < 10;
	     c = next_visible_sibling(u->t, c))
		kids++;
	cand_h = body >= 12 ? (kids < 3 ? 3 : kids > 9 ? 9 : kids) : body >= 6 ? 2 : 0;
	text_h = body - (cand_h ? cand_h + 1 : 0);
	if (tree_w) {
		int y;

		draw_outline(u, 1, 0, body, tree_w);
		wattrset(stdscr, role_attr(u, THEME_BORDER));
		for (y = 1; y <= body; y++)
			mvaddch(y, tree_w, ACS_VLINE);
	}
	draw_text(u, 1, right_x, text_h, right_w, u->view, u->view_len, view_pos(u), u->view_len);
	if (cand_h) {
		long pos = view_pos(u);

		wmove(stdscr, 1 + text_h, right_x);
		wattrset(stdscr, role_attr(u, THEME_BORDER));
		snprintf(buf, sizeof(buf), "-- candidates of step %ld (Enter accepts, 1-9 pick) ",
			 pos + 1);
		put_ascii(stdscr, buf, right_w);
		{
			int y, x;

			getyx(stdscr, y, x);
			/* a header that filled the row left the cursor on the next */
			for (; y == 1 + text_h && x < cols; x++)
				mvaddch(y, x, ACS_HLINE);
		}
		draw_candidates(u, 2 + text_h, right_x, cand_h, right_w);
	}
	draw_status(u, rows - 1, cols);
}

/* ---- the loop --------------------------------------------------------------------- */

/*
 * The one place the loop waits: for the terminal and the network together
 * (lm_engine_poll runs the transfers and fires their callbacks), with a
 * timeout in milliseconds.  Returns 1 when input is ready, 0 on
 * timeout or a signal.
 */
static int wait_for_events(struct tui *u, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	if (u->opts && u->opts->engine) {
		static const int fds[1] = {STDIN_FILENO};
		unsigned char readable[1] = {0};
		struct errbuf err;

		n = lm_engine_poll(u->opts->engine, fds, 1, timeout_ms, readable, &err);
		if (n < 0)
			set_msg(u, 1, "network: %s", err.msg);
		return n > 0;
	}
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, timeout_ms);
	return n > 0;
}

/* How a warning that a change was refused starts. */
#define REFUSED_STICKY "NOT JOURNALLED, so not done: "

/* The keys that change the session (or spend requests to). */
static int changes_session(const struct tui *u, const struct binding *b)
{
	static const action_fn writers[] = {
	    act_accept,	  act_pick, act_edit,	  act_prune,	 act_history,
	    act_bookmark, act_save, act_generate, act_autopilot, act_choose,
	};
	size_t k;

	/* turning autopilot off only stops it */
	if (b->fn == act_autopilot && u->autopilot)
		return 0;
	for (k = 0; k < sizeof(writers) / sizeof(writers[0]); k++)
		if (b->fn == writers[k])
			return 1;
	return 0;
}

/*
 * A change is refused before it is made (and before any request is spent)
 * when the loom is read-only, or when the journal cannot take it: a change
 * that cannot be journalled is not applied.  The reason stays on screen
 * until a later change gets through.  Returns 1 when refused.
 */
static int refuse_change(struct tui *u, const struct binding *b)
{
	struct errbuf err;
	struct strbuf sb = STRBUF_INIT;

	if (!changes_session(u, b))
		return 0;
	if (u->opts && u->opts->read_only) {
		set_msg(u, 1, "%s: read-only, nothing changed", b->label ? b->label : "this key");
		return 1;
	}
	/* s saves without the journal; a tree with no file has none */
	if (b->fn == act_save || !u->path || !u->hist.observer)
		return 0;
	/* A change the journal missed (a full disk) is only in memory: a later
	 * change journalled on top of it would name a node the journal never
	 * had, and the session would no longer open.  Nothing more is changed
	 * until s has put everything in the file. */
	if (u->journal_failed) {
		set_msg(u, 1,
			"nothing was changed: an earlier change is not in the journal; s "
			"saves everything first");
		return 1;
	}
	if (journal_check_writable(u->path, &err) == 0) {
		/* a refusal's warning goes; a change made but not journalled
		 * (journal_failure) is still true until a save */
		if (!strncmp(u->sticky, REFUSED_STICKY, strlen(REFUSED_STICKY)))
			u->sticky[0] = '\0';
		return 0;
	}
	strbuf_addf(&sb, "%s%s", REFUSED_STICKY, err.msg);
	set_sticky(u, sb.data);
	strbuf_release(&sb);
	set_msg(u, 1, "nothing was changed");
	return 1;
}

static unsigned handle_key(struct tui *u, wint_t ch, int is_key)
{
	const struct binding *b;

	if (is_key && ch == KEY_RESIZE)
		return REDRAW_ALL;
	switch (u->mode) {
	case MODE_HELP:
	case MODE_EVAL:
		if (!is_key && ch == 'j')
			u->help_scroll++;
		else if (!is_key && ch == 'k' && u->help_scroll > 0)
			u->help_scroll--;
		else
			u->mode = MODE_NORMAL;
		return REDRAW_ALL;
	case MODE_CONFIRM_PRUNE: return confirm_prune(u, is_key ? 0 : (int)ch);
	case MODE_SEARCH: return search_key(u, ch, is_key);
	case MODE_EXPORT: return export_key(u, ch, is_key);
	case MODE_REPLAY: return replay_key(u, ch, is_key);
	case MODE_CONFIRM_QUIT:
		u->mode = MODE_NORMAL;
		if (!u->path) {
			if (!is_key && ch == 'q')
				return ACTION_QUIT;
			break;
		}
		if (!is_key && ch == 'Y') {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s was not saved; ", u->path);
			unsaved_fate(u, 0, &sb);
			snprintf(u->quit_unsaved, sizeof(u->quit_unsaved), "%s", sb.data);
			strbuf_release(&sb);
			return ACTION_QUIT;
		}
		/* still open: the warning stays, without the question; a key
		 * other than q does what it does */
		snprintf(u->sticky, sizeof(u->sticky), "%s", "NOT SAVED (s tries again)");
		if (is_key || ch != 'q')
			break;
		set_msg(u, 0, "not quitting: the changes are still here");
		return REDRAW_ALL;
	case MODE_NORMAL: break;
	}
	b = find_binding((int)ch);
	if (!b) {
		if (!is_key && ch < 0x80 && ch >= 0x20)
			set_msg(u, 0, "unbound key '%c' (? shows the keys)", (int)ch);
		return REDRAW_STATUS;
	}
	u->msg[0] = '\0';
	u->msg_error = 0;
	if (refuse_change(u, b))
		return REDRAW_ALL;
	{
		unsigned changes = u->changes, flags = b->fn(u, b->arg);

		/* A read-only loom changes nothing, whichever key tried: a
		 * change that got through is taken back at once. */
		if (u->opts && u->opts->read_only && u->changes != changes) {
			void (*observer)(void *, uint32_t, enum history_change) = u->hist.observer;

			u->hist.observer = NULL;
			history_undo(&u->hist, u->t);
			u->hist.observer = observer;
			u->changes = changes;
			u->cand_owner = TREE_NONE;
			sync_candidate(u);
			set_msg(u, 1, "read-only: nothing was changed");
			flags |= REDRAW_ALL | REDRAW_STATS;
		}
		return flags;
	}
}

void tui_options_init(struct tui_options *o)
{
	memset(o, 0, sizeof(*o));
}

/* Sets up u and a screen on out/in (everything tui_run does before its
 * loop).  Returns 0, or -1 with err set and nothing left to release. */
static int tui_start(struct tui *u, struct tree *t, const char *path,
		     const struct tui_options *opts, FILE *out, FILE *in, struct errbuf *err)
{
	const char *nc = getenv("NO_COLOR");
	const char *start_theme;
	size_t i;

	if (t->root == TREE_NONE)
		return errbuf_set(err, "the session has no nodes");
	memset(u, 0, sizeof(*u));
	u->t = t;
	u->path = path;
	u->opts = opts;
	u->cand = u->cand_owner = TREE_NONE;
	u->vpos = -1;
	u->stats_tip = TREE_NONE;
	u->stats_changes = (unsigned)-1;
	u->no_color = nc && *nc;
	history_init(&u->hist);
	if (path && !(opts && opts->read_only)) {
		u->hist.observer = journal_observer;
		u->hist.observer_ctx = u;
	}
	strbuf_init(&u->search);
	strbuf_init(&u->input);
	strbuf_init(&u->eval_page);
	if (t->focus == TREE_NONE || t->focus >= t->count || tree_is_pruned(t, t->focus))
		tree_set_focus(t, t->path_len ? tree_path_tip(t) : t->root);
	else if (t->path_len == 0)
		tree_path_through(t, t->focus);
	u->saved_focus = t->focus;

	ensure_utf8_locale();
	u->scr = newterm(NULL, out, in);
	if (!u->scr) {
		history_release(&u->hist);
		strbuf_release(&u->search);
		strbuf_release(&u->input);
		return errbuf_set(err, "cannot start the screen (TERM=%s)",
				  getenv("TERM") ? getenv("TERM") : "unset");
	}
	curses_active = 1;
	stop_signal = 0;
	xalloc_set_fatal_hook(restore_terminal);
	install_signals(1);
	raw(); /* Ctrl-C and Ctrl-Z are keys: an accident must not lose work */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* ncurses (6.x) flushes its output buffer on every cursor move until
	 * the screen has once been left with endwin and resumed: a frame went
	 * out in one write(2) per line.  Leave and resume now, before anything
	 * is drawn, so each frame is sent in one write. */
	endwin();
	if (!u->no_color && has_colors()) {
		start_color();
		use_default_colors();
		u->has_colors = 1;
	}
	start_theme = opts && opts->theme ? opts->theme : u->no_color ? "mono" : "default";
	for (i = 0; i < 3; i++)
		if (!strcmp(start_theme, theme_cycle[i]))
			u->theme_index = i;
	if (opts && opts->notice)
		set_msg(u, 1, "%s", opts->notice);
	if (opts && opts->unsaved && !opts->read_only)
		mark_changed(u);
	if (load_theme(u, start_theme) < 0) {
		theme_init_builtin(&u->theme, u->no_color ? "mono" : "default");
		apply_theme(u);
	}
	return 0;
}

/* Restores the terminal and releases what tui_start set up. */
static void tui_stop(struct tui *u)
{
	if (u->step)
		steer_step_free(u->step);
	if (u->eval) {
		evalrun_free(u->eval);
		evalset_release(&u->evalset);
	}
	strbuf_release(&u->eval_page);
	restore_terminal();
	delscreen(u->scr);
	install_signals(0);
	xalloc_set_fatal_hook(NULL);
	replay_walk_release(&u->walk);
	history_release(&u->hist);
	strbuf_release(&u->search);
	strbuf_release(&u->input);
	free(u->view);
}

/* Draws what flags say changed and sends it to the terminal. */
static void tui_frame(struct tui *u, unsigned flags)
{
	if (flags & (REDRAW_ALL | REDRAW_STATUS)) {
		if (flags & REDRAW_ALL)
			draw(u);
		else if (u->mode == MODE_HELP || u->mode == MODE_REPLAY || u->mode == MODE_EVAL)
			draw(u);
		else
			draw_status(u, LINES - 1, COLS);
		refresh();
	}
}

int tui_run(struct tree *t, const char *path, const struct tui_options *opts, struct errbuf *err)
{
	struct tui u;
	unsigned flags = REDRAW_ALL;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return errbuf_set(err, "the loom needs a terminal (stdin and stdout)");
	if (tui_start(&u, t, path, opts, stdout, stdin, err) < 0)
		return -1;
	for (;;) {
		wint_t ch;
		int r;

		tui_frame(&u, flags);
		flags = 0;
		if (stop_signal)
			break;
		/* Drain the keys already typed before drawing again. */
		while ((r = get_wch(&ch)) != ERR) {
			flags |= handle_key(&u, ch, r == KEY_CODE_YES);
			journal_path_if_due(&u);
			if (flags & ACTION_QUIT)
				break;
		}
		if (flags & ACTION_QUIT)
			break;
		if (u.step_ended)
			flags |= finish_step(&u);
		flags |= replay_tick(&u);
		flags |= eval_tick(&u);
		if (!flags) {
			int timeout = loop_timeout(&u);

			wait_for_events(&u, (u.step || u.eval) && timeout > 100 ? 100 : timeout);
			if (u.step || u.eval) {
				u.spin++;
				flags |= REDRAW_STATUS;
			}
		}
	}
	tui_stop(&u);
	if (stop_signal)
		return errbuf_set(err, "stopped by signal %d", (int)stop_signal);
	if (u.quit_unsaved[0]) {
		errbuf_set(err, "%s", u.quit_unsaved);
		return 1;
	}
	return 0;
}

struct tui *tui_open(struct tree *t, const char *path, const struct tui_options *opts, FILE *out,
		     FILE *in, struct errbuf *err)
{
	struct tui *u = xmalloc(sizeof(*u));

	if (tui_start(u, t, path, opts, out, in, err) < 0) {
		free(u);
		return NULL;
	}
	tui_frame(u, REDRAW_ALL);
	return u;
}

int tui_key(struct tui *u, int key, int is_key)
{
	unsigned flags = handle_key(u, (wint_t)key, is_key);

	journal_path_if_due(u);
	if (flags & ACTION_QUIT)
		return 1;
	tui_frame(u, flags);
	return 0;
}

void tui_close(struct tui *u)
{
	if (!u)
		return;
	tui_stop(u);
	free(u);
}

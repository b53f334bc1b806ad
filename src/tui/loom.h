#ifndef WEFT_TUI_LOOM_H
#define WEFT_TUI_LOOM_H
/*
 * The loom's private parts, shared by the files of src/tui (the public
 * interface is include/weft/tui.h).  One rule holds them apart: the
 * state side (keys, actions, ticks, loom_settle) changes struct tui and
 * never draws; the views (view_*.c, page_*.c, screen.c, the draw half of
 * mode_replay.c) draw from a const struct tui and never change it.
 *
 *   loom.c         life cycle, the loop, key dispatch
 *   keymap.c       the key table (dispatch and the help page read it)
 *   state.c        the view line, the highlighted candidate, messages,
 *                  the journal, loom_settle
 *   term.c         the terminal: start, restore, signals, colours
 *   theme.c        theme files (weft/theme.h): parsing, finding, built-ins
 *   paint.c        curses drawing primitives
 *   screen.c       one frame: header, the areas' layout, which page
 *   view_tree.c    the outline       view_text.c    the text pane
 *   view_cands.c   the candidates    view_status.c  the status line
 *   actions.c      moving and deciding (h j k l, Enter, 1-9, c, d, u, b, ',
 *                  PgUp PgDn Home End)
 *   prompt.c       the line prompts: search (/ n N) and export (x)
 *   save.c         saving and quitting (s q)
 *   steering.c     steps and autopilot (g G a Esc)
 *   edit.c         the editor (e)
 *   page_help.c    full-screen pages: the help (?) and the messages (m)
 *   page_eval.c    the evaluation preview (v)
 *   page_map.c     the map of the path's pairs (M), made in a child process
 *   page_pairs.c   the pairs page (p): decisions about the path's pairs
 *   pairs_verify.c the pairs page's verify keys (v V)
 *   mode_replay.c  replay (r)
 */
#include <curses.h>
#include <sys/types.h>
#include <time.h>
#include <wchar.h>

#include "weft/evalrun.h"
#include "weft/evalset.h"
#include "weft/history.h"
#include "weft/pairs.h"
#include "weft/replay.h"
#include "weft/steer.h"
#include "weft/steerpairs.h"
#include "weft/strbuf.h"
#include "weft/theme.h"
#include "weft/tui.h"

/* What an action changed: the loop redraws accordingly. */
enum redraw {
	REDRAW_NONE = 0,
	REDRAW_STATUS = 1u << 0, /* the status line only */
	REDRAW_ALL = 1u << 1,	 /* every area */
	REDRAW_STATS = 1u << 2,	 /* the path changed: recount the Yes/No balance */
	ACTION_QUIT = 1u << 3,
};

/* Alternatives listed under one node of the outline before "… N more". */
#define OUTLINE_ALT_MAX 8
/* The candidates the duplicate flag is worked out for, in order: a step
 * has at most TASK_MAX_N; past that a node is browsed, not steered. */
#define DUP_FLAGS_MAX TASK_MAX_N
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
	MODE_MESSAGES,	   /* the recent messages, newest first (m) */
	MODE_PAIRS,	   /* the pairs page (p): keys of its own (keymap.c) */
	MODE_MAP,	   /* the map's summary (M) */
};

/* Whether the whole screen is a page of its own (no status line alone). */
#define MODE_IS_PAGE(m)                                                                    \
	((m) == MODE_HELP || (m) == MODE_REPLAY || (m) == MODE_EVAL || (m) == MODE_MESSAGES ||  \
	 (m) == MODE_PAIRS || (m) == MODE_MAP)

/* Whether a message is an error (shown in the error role). */
enum msg_kind { MSG_INFO = 0, MSG_ERROR = 1 };

/* Messages the messages page (m) keeps: the status line has room for a
 * part of one, the page for the whole of the last few. */
#define MSG_LOG_LEN 50

struct msg_entry {
	char text[MSG_SIZE]; /* sanitized */
	enum msg_kind kind;
	time_t when;
};

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
	size_t export_format;  /* MODE_EXPORT: index in prompt.c's export choices */
	int export_replace;    /* MODE_EXPORT: Enter again replaces the file */
	char msg[MSG_SIZE];    /* status message, sanitized when set */
	enum msg_kind msg_kind;
	struct msg_entry msg_log[MSG_LOG_LEN]; /* a ring: msg_log_count were set, */
	size_t msg_log_count;		       /* the newest at (count - 1) % LEN */
	unsigned changes;	/* tree changes since the last save */
	char balance[96];	/* the path's pairs per class, for the status line */
	uint32_t stats_tip;	/* path tip the balance was counted for */
	size_t stats_len;	/* path length it was counted for */
	unsigned stats_changes; /* changes counter it was counted for */
	/* The duplicate flags of the focus's first DUP_FLAGS_MAX visible
	 * children (steerpairs.h), worked out for dups_for at dups_version */
	uint32_t dups_for;
	unsigned dups_version;
	uint32_t *dup_nodes; /* owned; ndups entries */
	struct steer_dup *dups;
	size_t ndups;
	int help_scroll;	/* lines a page (help, evaluation) is scrolled by */
	enum mode help_return;	/* the mode ? was pressed in (the loom or the pairs page) */
	/* The line the screen shows (see view_pos): root..focus, then the
	 * branch below the focus.  It follows the cursor; the chosen path
	 * (t->path, the dataset) changes only by a decision. */
	uint32_t *view;
	size_t view_len, view_cap;
	long vpos;	       /* position of the focus on the view (valid after loom_settle) */
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
	/* MODE_PAIRS: the chosen path's pairs, rejected ones included (built
	 * again by pairs_refresh when the tree changed), the order shown (an
	 * index into pairs.pairs per line: sorted, maybe filtered), the line
	 * of the cursor, the sort and the filter */
	struct pairs_result pairs;
	int pairs_built;
	unsigned pairs_version; /* u->version it was built for */
	size_t *pairs_order;
	size_t pairs_shown, pairs_cur;
	int pairs_sort; /* enum pairs_sort (page_pairs.c) */
	int pairs_flagged_only;
	/* the node + 1 whose edit the last key asked to confirm (e twice), or 0 */
	uint32_t pairs_edit_armed;
	struct pairs_verify *pverify; /* verify requests out (pairs_verify.c), or NULL */
	/* the map (M): the child making it (0 when none), the pipe its
	 * summary comes through, the folder it writes, and the page */
	pid_t map_pid;
	int map_fd;	     /* the pipe's reading end, non-blocking; -1 when none */
	int map_eof;	     /* the pipe ended: the child is reaped next */
	struct strbuf map_out;	/* what the child wrote so far (capped) */
	struct strbuf map_dir;
	struct strbuf map_page; /* sanitized, for the page */
	int map_ready;		/* the page waits for the loom's own screen */
	SCREEN *scr;
};

#define CTRL(c) ((c)&0x1f)

/* ---- the key table (keymap.c) ---- */

typedef unsigned (*action_fn)(struct tui *u, int arg);

struct binding {
	int keys[4]; /* 0-terminated */
	const char *label;
	const char *help;
	action_fn fn;
	int arg;
};

/* The binding of key, or NULL: in the loom's table, or on the pairs
 * page in the page's own table. */
const struct binding *keymap_find(int key);
const struct binding *keymap_find_pairs(int key);
/* Whether b changes the session (or spends requests to), as u stands. */
int keymap_changes_session(const struct tui *u, const struct binding *b);

/* The actions the table names, by file.  Each returns enum redraw flags. */
unsigned act_parent(struct tui *u, int arg); /* actions.c */
unsigned act_child(struct tui *u, int arg);
unsigned act_sibling(struct tui *u, int dir);
unsigned act_next_candidate(struct tui *u, int dir);
unsigned act_accept(struct tui *u, int arg);
unsigned act_pick(struct tui *u, int k);
unsigned act_choose(struct tui *u, int arg);
unsigned act_prune(struct tui *u, int arg);
unsigned act_history(struct tui *u, int arg);
unsigned act_bookmark(struct tui *u, int arg);
unsigned act_next_bookmark(struct tui *u, int arg);
unsigned act_page(struct tui *u, int dir);
unsigned act_ends(struct tui *u, int dir);
unsigned act_redraw(struct tui *u, int arg);
unsigned act_ctrl_c(struct tui *u, int arg);
unsigned act_edit(struct tui *u, int arg);   /* edit.c */
unsigned act_search(struct tui *u, int arg); /* prompt.c */
unsigned act_search_next(struct tui *u, int dir);
unsigned act_export(struct tui *u, int arg);
unsigned act_save(struct tui *u, int arg); /* save.c */
unsigned act_quit(struct tui *u, int arg);
unsigned act_theme(struct tui *u, int arg);	/* term.c */
unsigned act_help(struct tui *u, int arg);	/* page_help.c */
unsigned act_messages(struct tui *u, int arg);
unsigned act_generate(struct tui *u, int more); /* steering.c */
unsigned act_autopilot(struct tui *u, int arg);
unsigned act_cancel(struct tui *u, int arg);
unsigned act_eval(struct tui *u, int arg);   /* page_eval.c */
unsigned act_replay(struct tui *u, int arg); /* mode_replay.c */
unsigned act_map(struct tui *u, int arg);    /* page_map.c */
unsigned act_pairs(struct tui *u, int arg);  /* page_pairs.c */
unsigned act_pairs_move(struct tui *u, int dir);
unsigned act_pairs_page(struct tui *u, int dir);
unsigned act_pairs_ends(struct tui *u, int dir);
unsigned act_pairs_reject(struct tui *u, int arg);
unsigned act_pairs_relabel(struct tui *u, int arg);
unsigned act_pairs_edit(struct tui *u, int arg);
unsigned act_pairs_jump(struct tui *u, int arg);
unsigned act_pairs_sort(struct tui *u, int arg);
unsigned act_pairs_filter(struct tui *u, int arg);
unsigned act_pairs_back(struct tui *u, int arg);
unsigned act_pairs_verify(struct tui *u, int all); /* pairs_verify.c */

/* Records pick as the final pick of the focus's step (one undoable action)
 * and moves to it; the chosen path goes through it (actions.c). */
void record_pick(struct tui *u, uint32_t pick, enum tree_picker picker);

/* ---- keys of the other modes (each returns enum redraw flags) ---- */

unsigned confirm_prune(struct tui *u, int key);			 /* actions.c */
unsigned confirm_quit_key(struct tui *u, wint_t ch, int is_key); /* save.c */
unsigned search_key(struct tui *u, wint_t ch, int is_key);	 /* prompt.c */
unsigned export_key(struct tui *u, wint_t ch, int is_key);
unsigned page_key(struct tui *u, wint_t ch, int is_key);   /* page_help.c */
unsigned replay_key(struct tui *u, wint_t ch, int is_key); /* mode_replay.c */

/* ---- the state side (state.c) ---- */

/* The tree changed: unsaved work, and the view is built again. */
void mark_changed(struct tui *u);
/* The focus's position on the view, rebuilding the view when needed. */
long view_pos(struct tui *u);
/* Whether view node k (at depth k) is on the chosen path.  O(1). */
int view_on_path(const struct tui *u, size_t k);
/* Whether the view is the chosen path, node for node. */
int view_is_path(struct tui *u);
/* Moves the cursor to i and highlights i's default candidate. */
void focus_on(struct tui *u, uint32_t i);
/* Makes the highlighted candidate a visible child of the focus. */
void sync_candidate(struct tui *u);
uint32_t first_visible_child(const struct tree *t, uint32_t i);
uint32_t next_visible_sibling(const struct tree *t, uint32_t c);
/*
 * Brings everything the views read up to date after keys and events: the
 * view line and the focus's place on it (vpos), the highlighted candidate,
 * the path's class balance.  Called before each frame is drawn.
 */
void loom_settle(struct tui *u);
/* On the pairs page: the pairs built again when the tree changed, the
 * order shown and the cursor made valid (page_pairs.c). */
void pairs_refresh(struct tui *u);
/* Lets go of the pairs page's state. */
void pairs_release(struct tui *u);
/* The duplicate flag of candidate c of the focus, or NULL (state.c). */
const struct steer_dup *candidate_dup(const struct tui *u, uint32_t c);
/* The status message, formatted and sanitized. */
void set_msg(struct tui *u, enum msg_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the warning that stays (see struct tui's sticky); "" clears it. */
void set_sticky(struct tui *u, const char *text);
/* The journal: history's observer, a failure that stays on screen, and
 * the chosen path after a change. */
void journal_observer(void *ctx, uint32_t i, enum history_change what);
void journal_failure(struct tui *u, const struct errbuf *err);
void journal_path_if_due(struct tui *u);
/* The chosen path's pairs as weft extract finds them: 0 with *pr filled
 * (at least one pair; release it), or -1 with the status message set. */
int path_pairs(struct tui *u, struct pairs_result *pr);

/* ---- the terminal (term.c) ---- */

/* Starts curses on out/in (locale, modes, colours); 0, or -1 with err. */
int term_start(struct tui *u, FILE *out, FILE *in, struct errbuf *err);
/* Loads the theme to start with (after term_start, once the status line
 * may say why it could not): else the built-in default. */
void term_load_start_theme(struct tui *u);
/* Restores the terminal and lets go of the screen. */
void term_stop(struct tui *u);
/* The stop signal that arrived (SIGTERM, SIGHUP, ...), or 0. */
int term_stop_signal(void);
/* Gives the terminal to a child process (the editor) and takes it back. */
void term_suspend(void);
void term_resume(void);
/* In a forked child: the signals as a new program expects them. */
void term_child_signals(void);
/* Loads theme name (keeps the current one and says why on failure). */
int load_theme(struct tui *u, const char *name);
/* The curses attributes of a theme role. */
attr_t role_attr(const struct tui *u, enum theme_role role);

/* ---- painting (paint.c): at the cursor of w, never past cols ---- */

/* Draws len bytes of sanitized UTF-8; returns the columns used. */
int put_text(WINDOW *w, const char *s, size_t len, int cols);
/* Sanitizes raw text into one line and draws it. */
int put_untrusted(WINDOW *w, const char *s, size_t len, int cols);
void put_ascii(WINDOW *w, const char *s, int cols);
/* The bytes of the first line of s (len bytes of sanitized one-line
 * text) wrapped at cols columns: broken after a space when the next word
 * fits on a line of its own, else mid-word (at least one character). */
size_t wrap_line(const char *s, size_t len, int cols);
/* Blanks row y from the cursor to column x_end. */
void fill_to(WINDOW *w, int y, int x_end);
/* The J, H/E and * marks of a node. */
void draw_marks(const struct tui *u, WINDOW *w, const struct tree_node *nd);
/* A score as BAR_WIDTH cells then " 0.42 " ("   -  " without one). */
void draw_score(const struct tui *u, WINDOW *w, int has_score, double score, enum theme_role role);
/* A row of ACS_HLINE from the cursor to column x_end, on row y only. */
void draw_rule_to(int y, int x_end);

/* ---- the views: draw from const state ---- */

/* The outline of the view line, focus a third down (view_tree.c). */
void draw_outline(const struct tui *u, int y0, int x0, int h, int width);
/* How many nodes of the view line a page of the outline (h lines) holds
 * from view position p, going down (dir 1) or up (-1); at least 1. */
size_t outline_page_nodes(const struct tui *u, size_t p, int dir, int h);
/* The outline's height on the screen as it is (screen.c). */
int screen_outline_height(void);
/* The document along line (root first, line_len nodes) up to index end,
 * the node at fpos highlighted (view_text.c). */
void draw_text(const struct tui *u, int y0, int x0, int h, int width, const uint32_t *line,
	       size_t line_len, long fpos, size_t end);
/* The focus's children, the highlighted one shown (view_cands.c). */
void draw_candidates(const struct tui *u, int y0, int x0, int h, int width);
/* The status line at row y (view_status.c). */
void draw_status(const struct tui *u, int y, int width);
/* The prompt being typed (search, export) for the status line; 0 when
 * none is open (prompt.c). */
int prompt_text(const struct tui *u, struct strbuf *out);
/* A full-screen page of text scrolled by help_scroll (page_help.c). */
void draw_page(const struct tui *u, const char *title, const struct strbuf *text);
void draw_help(const struct tui *u);
void draw_messages(const struct tui *u);
void draw_eval(const struct tui *u);   /* page_eval.c */
void draw_replay(const struct tui *u); /* mode_replay.c */
void draw_pairs(const struct tui *u);  /* page_pairs.c */
void draw_map(const struct tui *u);    /* page_map.c */
/* The whole screen for the mode (screen.c). */
void screen_draw(const struct tui *u);

/* ---- ticks: what the loop runs between keys (each returns redraw flags) ---- */

unsigned finish_step(struct tui *u); /* steering.c: when step_ended */
unsigned eval_tick(struct tui *u);   /* page_eval.c */
unsigned replay_tick(struct tui *u); /* mode_replay.c */
/* Stores the verdicts that came and says how far verifying is. */
unsigned pairs_verify_tick(struct tui *u); /* pairs_verify.c */
/* Cancels what is still out and lets go. */
void pairs_verify_release(struct tui *u);
/* Esc: keeps the verdicts that came, cancels the rest, says so. */
unsigned pairs_verify_cancel(struct tui *u);
/* 1 with the verdicts stored so far and the pairs asked while verifying,
 * else 0. */
int pairs_verify_progress(const struct tui *u, size_t *done, size_t *count);
/* Reads what the map's child wrote; when it ended, the page or the
 * error (page_map.c). */
unsigned map_page_tick(struct tui *u);
/* Esc: kills the map's child and reaps it, says so. */
unsigned map_page_cancel(struct tui *u);
/* Cancels a running map and lets go of the page. */
void map_page_release(struct tui *u);
/* How long replay may let the loop wait (ms); -1 when it has no deadline. */
long replay_timeout(const struct tui *u);

#endif

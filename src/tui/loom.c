/*
 * The loom's life cycle and its loop: tui_run (and tui_open, tui_key,
 * tui_close for one key at a time) set up the state and the screen, wait
 * for keys and the network together, hand each key to its mode or the key
 * table, run what ended in between (a step, an evaluation, replay's
 * pace), then settle the state and draw one frame.
 */
#include "loom.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/journal.h"
#include "weft/xalloc.h"

/* How long the loop waits for a key at most (ms), and while a step or an
 * evaluation runs (the spinner turns). */
#define LOOP_WAIT_MS 1000
#define LOOP_BUSY_MS 100

/*
 * The one place the loop waits: for the terminal and the network together
 * (lm_engine_poll runs the transfers and fires their callbacks), with a
 * timeout in milliseconds.  Returns 1 when input is ready, 0 on
 * timeout or a signal.
 */
static int wait_for_events(struct tui *u, int timeout_ms)
{
	struct pollfd pfd[2];
	int n;

	/* the map's pipe (page_map.c) wakes the loop when its child writes */
	int nfds = u->map_pid && u->map_fd >= 0 ? 2 : 1;

	if (u->opts && u->opts->engine) {
		const int fds[2] = {STDIN_FILENO, u->map_fd};
		unsigned char readable[2] = {0, 0};
		struct errbuf err;

		n = lm_engine_poll(u->opts->engine, fds, (size_t)nfds, timeout_ms, readable, &err);
		if (n < 0)
			set_msg(u, MSG_ERROR, "network: %s", err.msg);
		return n > 0;
	}
	pfd[0].fd = STDIN_FILENO;
	pfd[1].fd = u->map_fd;
	pfd[0].events = pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	n = poll(pfd, (nfds_t)nfds, timeout_ms);
	return n > 0;
}

/* How a warning that a change was refused starts. */
#define REFUSED_STICKY "NOT JOURNALLED, so not done: "

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

	if (!keymap_changes_session(u, b))
		return 0;
	if (u->opts && u->opts->read_only) {
		set_msg(u, MSG_ERROR, "%s: read-only, nothing changed",
			b->label ? b->label : "this key");
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
		set_msg(u, MSG_ERROR,
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
	set_msg(u, MSG_ERROR, "nothing was changed");
	return 1;
}

/* A read-only loom changes nothing, whichever key tried: a change that got
 * through (changes counted before the key) is taken back at once. */
static unsigned undo_if_read_only(struct tui *u, unsigned changes)
{
	void (*observer)(void *, uint32_t, enum history_change) = u->hist.observer;

	if (!(u->opts && u->opts->read_only) || u->changes == changes)
		return 0;
	u->hist.observer = NULL;
	history_undo(&u->hist, u->t);
	u->hist.observer = observer;
	u->changes = changes;
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
	set_msg(u, MSG_ERROR, "read-only: nothing was changed");
	return REDRAW_ALL | REDRAW_STATS;
}

/* A key in a mode with keys of its own; REDRAW_NONE with *pass set when
 * the key table is to have it. */
static unsigned mode_key(struct tui *u, wint_t ch, int is_key, int *pass)
{
	unsigned flags;

	*pass = 0;
	switch (u->mode) {
	case MODE_HELP:
	case MODE_MESSAGES:
	case MODE_EVAL:
	case MODE_MAP: return page_key(u, ch, is_key);
	case MODE_CONFIRM_PRUNE: return confirm_prune(u, is_key ? 0 : (int)ch);
	case MODE_SEARCH: return search_key(u, ch, is_key);
	case MODE_EXPORT: return export_key(u, ch, is_key);
	case MODE_REPLAY: return replay_key(u, ch, is_key);
	case MODE_PAIRS: break; /* the page's own table (keymap_find_pairs) */
	case MODE_CONFIRM_QUIT:
		flags = confirm_quit_key(u, ch, is_key);
		*pass = flags == REDRAW_NONE;
		return flags;
	case MODE_NORMAL: break;
	}
	*pass = 1;
	return REDRAW_NONE;
}

static unsigned handle_key(struct tui *u, wint_t ch, int is_key)
{
	const struct binding *b;
	unsigned changes, flags;
	int pass;

	if (is_key && ch == KEY_RESIZE)
		return REDRAW_ALL;
	flags = mode_key(u, ch, is_key, &pass);
	if (!pass)
		return flags;
	b = u->mode == MODE_PAIRS ? keymap_find_pairs((int)ch) : keymap_find((int)ch);
	if (!b || b->fn != act_pairs_edit)
		u->pairs_edit_armed = 0; /* a confirmation holds for the next key only */
	if (!b) {
		if (!is_key && ch < 0x80 && ch >= 0x20)
			set_msg(u, MSG_INFO, "unbound key '%c' (? shows the keys)", (int)ch);
		return REDRAW_STATUS;
	}
	u->msg[0] = '\0';
	u->msg_kind = MSG_INFO;
	if (refuse_change(u, b))
		return REDRAW_ALL;
	changes = u->changes;
	flags = b->fn(u, b->arg);
	return flags | undo_if_read_only(u, changes);
}

void tui_options_init(struct tui_options *o)
{
	memset(o, 0, sizeof(*o));
}

/* The state before the screen starts: the tree's cursor made valid, the
 * journal observing history unless there is no file or it is read-only. */
static void state_init(struct tui *u, struct tree *t, const char *path,
		       const struct tui_options *opts)
{
	const char *nc = getenv("NO_COLOR");

	memset(u, 0, sizeof(*u));
	u->t = t;
	u->path = path;
	u->opts = opts;
	u->cand = u->cand_owner = TREE_NONE;
	u->vpos = -1;
	u->stats_tip = TREE_NONE;
	u->stats_changes = (unsigned)-1;
	u->dups_for = TREE_NONE;
	u->no_color = nc && *nc;
	history_init(&u->hist);
	if (path && !(opts && opts->read_only)) {
		u->hist.observer = journal_observer;
		u->hist.observer_ctx = u;
	}
	strbuf_init(&u->search);
	strbuf_init(&u->input);
	strbuf_init(&u->eval_page);
	strbuf_init(&u->map_out);
	strbuf_init(&u->map_dir);
	strbuf_init(&u->map_page);
	u->map_fd = -1;
	if (t->focus == TREE_NONE || t->focus >= t->count || tree_is_pruned(t, t->focus))
		tree_set_focus(t, t->path_len ? tree_path_tip(t) : t->root);
	else if (t->path_len == 0)
		tree_path_through(t, t->focus);
	u->saved_focus = t->focus;
}

/* Releases what state_init and the loom's work since hold. */
static void state_release(struct tui *u)
{
	if (u->step)
		steer_step_free(u->step);
	if (u->eval) {
		evalrun_free(u->eval);
		evalset_release(&u->evalset);
	}
	strbuf_release(&u->eval_page);
	replay_walk_release(&u->walk);
	pairs_release(u);
	pairs_verify_release(u);
	map_page_release(u);
	history_release(&u->hist);
	strbuf_release(&u->search);
	strbuf_release(&u->input);
	free(u->view);
	free(u->dup_nodes);
	free(u->dups);
}

/* Sets up u and a screen on out/in (everything tui_run does before its
 * loop).  Returns 0, or -1 with err set and nothing left to release. */
static int tui_start(struct tui *u, struct tree *t, const char *path,
		     const struct tui_options *opts, FILE *out, FILE *in, struct errbuf *err)
{
	if (t->root == TREE_NONE)
		return errbuf_set(err, "the session has no nodes");
	state_init(u, t, path, opts);
	if (term_start(u, out, in, err) < 0) {
		state_release(u);
		return -1;
	}
	if (opts && opts->notice)
		set_msg(u, MSG_ERROR, "%s", opts->notice);
	if (opts && opts->unsaved && !opts->read_only)
		mark_changed(u);
	term_load_start_theme(u);
	return 0;
}

/* Restores the terminal and releases what tui_start set up. */
static void tui_stop(struct tui *u)
{
	term_stop(u);
	state_release(u);
}

/* Settles the state and draws what flags say changed, then sends it to
 * the terminal. */
static void tui_frame(struct tui *u, unsigned flags)
{
	if (!(flags & (REDRAW_ALL | REDRAW_STATUS)))
		return;
	if (!MODE_IS_PAGE(u->mode) || u->mode == MODE_PAIRS)
		loom_settle(u);
	if ((flags & REDRAW_ALL) || MODE_IS_PAGE(u->mode))
		screen_draw(u);
	else
		draw_status(u, LINES - 1, COLS);
	refresh();
}

/* How long the loop may wait for a key. */
static int loop_timeout(const struct tui *u)
{
	long ms = replay_timeout(u);

	if (ms < 0 || ms > LOOP_WAIT_MS)
		ms = LOOP_WAIT_MS;
	if ((u->step || u->eval || u->pverify || u->map_pid) && ms > LOOP_BUSY_MS)
		ms = LOOP_BUSY_MS;
	return (int)ms;
}

/* What ended between keys: a step, an evaluation, replay's next step,
 * verdicts. */
static unsigned run_ticks(struct tui *u)
{
	unsigned flags = 0;

	if (u->step_ended)
		flags |= finish_step(u);
	flags |= replay_tick(u);
	flags |= eval_tick(u);
	flags |= pairs_verify_tick(u);
	flags |= map_page_tick(u);
	return flags;
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
		if (term_stop_signal())
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
		flags |= run_ticks(&u);
		if (!flags) {
			wait_for_events(&u, loop_timeout(&u));
			if (u.step || u.eval || u.map_pid) {
				u.spin++;
				flags |= REDRAW_STATUS;
			}
		}
	}
	tui_stop(&u);
	if (term_stop_signal())
		return errbuf_set(err, "stopped by signal %d", term_stop_signal());
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

/*
 * Replay (r): walks the chosen path's recorded steps as they were when r
 * was pressed, one screen per step (the steps, the document up to the step,
 * its candidates with the judge's and the final pick), Right/Left to move,
 * Space to play at WEFT_REPLAY_PACE_MS.  Nothing in the tree changes.
 */
#include "loom.h"

#include <stdio.h>
#include <stdlib.h>

/* Replay's Space plays one step per this many ms (WEFT_REPLAY_PACE_MS,
 * taken when it lies within the bounds below). */
#define REPLAY_PACE_MS	   1500
#define REPLAY_PACE_MIN_MS 10
#define REPLAY_PACE_MAX_MS 60000

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
unsigned act_replay(struct tui *u, int arg)
{
	const char *env = getenv("WEFT_REPLAY_PACE_MS");
	char *end;

	(void)arg;
	replay_walk_release(&u->walk);
	replay_walk_build(u->t, NULL, &u->walk);
	if (!u->walk.count) {
		replay_walk_release(&u->walk);
		set_msg(u, MSG_ERROR, "replay: the chosen path has no steps yet");
		return REDRAW_STATUS;
	}
	u->rpace_ms = REPLAY_PACE_MS;
	if (env && *env) {
		long v = strtol(env, &end, 10);

		if (!*end && v >= REPLAY_PACE_MIN_MS && v <= REPLAY_PACE_MAX_MS)
			u->rpace_ms = v;
	}
	u->rstep = 0;
	u->rplaying = 0;
	u->mode = MODE_REPLAY;
	return REDRAW_ALL;
}

unsigned replay_key(struct tui *u, wint_t ch, int is_key)
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
		set_msg(u, MSG_INFO, "left replay; the session is unchanged");
		return REDRAW_ALL;
	}
	if (is_key && ch == KEY_HOME)
		u->rstep = 0;
	else if (is_key && ch == KEY_END)
		u->rstep = u->walk.count - 1;
	else
		set_msg(u, MSG_INFO,
			"replay: Right/n forward, Left/p back, Space plays, Esc leaves");
	return REDRAW_ALL;
}

/* While playing: the next step when it is due. */
unsigned replay_tick(struct tui *u)
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

long replay_timeout(const struct tui *u)
{
	if (u->mode != MODE_REPLAY || !u->rplaying)
		return -1;
	return ms_until(&u->rdue);
}

/* ---- drawing ------------------------------------------------------------- */

static void draw_replay_steps(const struct tui *u, int y0, int h, int width)
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

static void draw_replay_candidates(const struct tui *u, const struct replay_step *rs, int y0,
				   int x0, int h, int width)
{
	const struct tree *t = u->t;
	size_t sel = rs->final_index >= 0 ? (size_t)rs->final_index : 0;
	size_t first = sel >= (size_t)h ? sel - (size_t)h + 1 : 0, k;
	int row;
	char buf[64];

	for (row = 0, k = first; row < h; row++, k++) {
		const struct tree_node *nd;
		enum theme_role role;
		int x, y;

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
		draw_score(u, stdscr, rs->scores != NULL, rs->scores ? rs->scores[k] : 0, role);
		getyx(stdscr, y, x);
		(void)y;
		if (x < x0 + width)
			put_untrusted(stdscr, nd->text, nd->text_len, x0 + width - x);
		fill_to(stdscr, y0 + row, x0 + width);
	}
}

/* The rule over the candidates: what the judge and the person did. */
static void draw_replay_rule(const struct tui *u, const struct replay_step *rs, int y, int x0,
			     int width)
{
	struct strbuf line = STRBUF_INIT;

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
	wmove(stdscr, y, x0);
	wattrset(stdscr, role_attr(u, rs->override ? THEME_ERROR : THEME_BORDER));
	put_ascii(stdscr, line.data, width);
	wattrset(stdscr, role_attr(u, THEME_BORDER));
	draw_rule_to(y, COLS);
	strbuf_release(&line);
}

/* The bottom row: where the walk is, its counts, and the last message. */
static void draw_replay_status(const struct tui *u, int y, int cols)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addf(&line, " replay | step %zu/%zu | %zu overrides | %zu needed a person | %s | ",
		    u->rstep + 1, u->walk.count, u->walk.overrides, u->walk.needed_human,
		    u->rplaying ? "playing" : "paused");
	strbuf_addstr(&line, u->msg);
	wmove(stdscr, y, 0);
	wattrset(stdscr, role_attr(u, THEME_STATUS));
	put_text(stdscr, line.data, line.len, cols - 1);
	fill_to(stdscr, y, cols - 1);
	strbuf_release(&line);
}

void draw_replay(const struct tui *u)
{
	const struct replay_step *rs = &u->walk.steps[u->rstep];
	int rows = LINES, cols = COLS, body = rows - 2, tree_w, right_x, right_w, cand_h, text_h;
	int kids = rs->count > 9 ? 9 : (int)rs->count;
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
			draw_replay_rule(u, rs, 1 + text_h, right_x, right_w);
			draw_replay_candidates(u, rs, 2 + text_h, right_x, cand_h, right_w);
		}
	}
	draw_replay_status(u, rows - 1, cols);
}

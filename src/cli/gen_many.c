/*
 * weft generate with several sessions (generate.h): each session grows on
 * its own through one engine, one step in flight per open session, the
 * engine keeping each role within its concurrency.  A step ends in its
 * session's callback; the loop then journals it and starts that session's
 * next, so a slow or failing session holds up none of the others.  Each
 * session has its own lock, journal and outcome, and is saved (its journal
 * folded in) as soon as it ends.
 *
 * Sessions are opened as room frees up: at most as many as the generator
 * and the judge may have requests in flight together (more would only wait
 * in the engine's queue), so a run of thousands holds that many trees,
 * locks and requests, not thousands.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clicommon.h"
#include "generate.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/progress.h"
#include "weft/safetext.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/steer.h"
#include "weft/task.h"
#include "weft/xalloc.h"

enum gen_state {
	GEN_QUEUED,  /* not opened yet */
	GEN_OPEN,    /* open, a step in flight */
	GEN_DONE,    /* its chosen path has its rounds; saved */
	GEN_WAITING, /* a step needs a person; saved */
	GEN_FAILED,  /* an error, said in why; saved when it was open */
	GEN_STOPPED, /* interrupted; saved */
};

struct gen_session {
	char *path; /* owned */
	enum gen_state state;
	struct tree *tree; /* owned while open */
	struct task task;  /* loaded while open */
	struct session_lock lock;
	struct steer_settings settings;
	struct steer_step *step;      /* the step in flight, owned */
	uint32_t tip;		      /* the node it grows from */
	struct steer_outcome outcome; /* the step's, once ended */
	int ended;		      /* the step's done fired */
	/* a step taken and not journalled yet (TREE_NONE: none): the node it
	 * grew from and its number */
	uint32_t pending;
	size_t pending_step;
	size_t steps, target; /* steps on the chosen path, and wanted */
	int known;	      /* steps and target have been read */
	size_t recorded;      /* steps journalled by this run */
	struct errbuf why;    /* GEN_FAILED or GEN_WAITING: why */
};

struct gen_many {
	const struct generate_options *o;
	struct config config;
	struct config_role *gen, *judge;
	struct lm_engine *engine;
	struct gen_session *sessions; /* owned, count of them, in the order given */
	size_t count;
	struct gen_session **open; /* the open ones (borrowed), nopen of them */
	size_t nopen, max_open;
	size_t next;	/* the next session to open */
	size_t created; /* sessions this run made (--sessions) */
	int tty;	/* stderr is a terminal: one progress line, redrawn */
	int drawn;	/* the progress line is on the screen */
	struct timespec started, shown;
	size_t shown_tenth; /* plain lines: tenths of steps and of sessions shown */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void gen_session_init(struct gen_session *gs, const char *path)
{
	memset(gs, 0, sizeof(*gs));
	gs->path = xstrdup(path);
	gs->state = GEN_QUEUED;
	gs->pending = TREE_NONE;
	task_init(&gs->task);
	session_lock_init(&gs->lock);
	steer_settings_init(&gs->settings);
}

/* What an open session holds, let go; its path and outcome stay. */
static void gen_session_close_files(struct gen_session *gs)
{
	steer_step_free(gs->step);
	gs->step = NULL;
	tree_free(gs->tree);
	gs->tree = NULL;
	task_release(&gs->task);
	task_init(&gs->task);
	session_lock_release(&gs->lock);
}

static void gen_many_init(struct gen_many *m, const struct generate_options *o)
{
	memset(m, 0, sizeof(*m));
	m->o = o;
	config_init(&m->config);
	m->tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &m->started);
	m->shown = m->started;
}

static void gen_many_release(struct gen_many *m)
{
	size_t k;

	for (k = 0; k < m->count; k++) {
		gen_session_close_files(&m->sessions[k]);
		free(m->sessions[k].path);
	}
	free(m->sessions);
	free(m->open);
	lm_engine_free(m->engine);
	config_release(&m->config);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- the sessions of the run -------------------------------------------- */

/* The folder of --sessions, made when missing.  Returns 0, or 1 said. */
static int gen_out_dir(const char *dir)
{
	struct stat st;
	struct strbuf msg = STRBUF_INIT;

	if (mkdir(dir, 0777) == 0 ||
	    (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	strbuf_addf(&msg, "%s: ", dir);
	strbuf_addstr(&msg, errno == EEXIST ? "not a folder" : strerror(errno));
	cli_error("generate", msg.data);
	strbuf_release(&msg);
	return 1;
}

/*
 * The sessions of the run: the files given, or --sessions K's
 * DIR/STEM-001.json .. DIR/STEM-K.json (the number three digits wide at
 * least, so the same K names the same files every time).  Returns 0, or
 * the exit status said.
 */
static int gen_many_list(struct gen_many *m)
{
	const struct generate_options *o = m->o;
	struct strbuf path = STRBUF_INIT, stem = STRBUF_INIT;
	struct task task;
	struct errbuf err;
	size_t k, dir_len;

	if (o->sessions < 0) {
		m->count = o->npaths;
		m->sessions = xcalloc(m->count, sizeof(*m->sessions));
		for (k = 0; k < m->count; k++)
			gen_session_init(&m->sessions[k], o->paths[k]);
		return 0;
	}
	/* a task that does not load is said once, before any file is made */
	task_init(&task);
	if (cli_load_task(o->task, &task, &err)) {
		task_release(&task);
		return cli_error("generate", err.msg);
	}
	task_release(&task);
	if (gen_out_dir(o->out_dir))
		return 1;
	generate_session_stem(o->task, &stem);
	strbuf_addstr(&path, o->out_dir);
	if (path.len && path.data[path.len - 1] != '/')
		strbuf_addch(&path, '/');
	dir_len = path.len;
	m->count = (size_t)o->sessions;
	m->sessions = xcalloc(m->count, sizeof(*m->sessions));
	for (k = 0; k < m->count; k++) {
		strbuf_truncate(&path, dir_len);
		strbuf_addf(&path, "%s-%03zu.json", stem.data, k + 1);
		gen_session_init(&m->sessions[k], path.data);
	}
	strbuf_release(&path);
	strbuf_release(&stem);
	return 0;
}

/* ---- what is shown ------------------------------------------------------ */

/* The progress line, off the screen so a line can be printed above it. */
static void gen_unshow(struct gen_many *m)
{
	if (m->drawn)
		fputs("\r\033[K", stderr);
	m->drawn = 0;
}

/* Counts where the run stands.  A session that waits or failed wants no
 * more steps of this run; one not opened yet is reckoned to want what
 * --rounds says, else what the opened ones want on average. */
static void gen_count(const struct gen_many *m, struct progress_sessions *p)
{
	size_t k, known = 0, settled = 0, wanted = 0;

	progress_sessions_init(p);
	p->sessions = m->count;
	for (k = 0; k < m->count; k++) {
		const struct gen_session *gs = &m->sessions[k];

		p->done += gs->state == GEN_DONE;
		p->waiting += gs->state == GEN_WAITING;
		p->failed += gs->state == GEN_FAILED;
		p->taken += gs->recorded;
		p->steps += gs->steps;
		if (gs->state == GEN_WAITING || gs->state == GEN_FAILED) {
			settled++;
			p->steps_total += gs->steps;
		} else if (gs->known) {
			known++;
			wanted += gs->target;
		}
	}
	p->steps_total += wanted;
	if (known + settled < m->count)
		p->steps_total +=
		    (m->count - known - settled) * (m->o->rounds > 0 ? (size_t)m->o->rounds
						    : known	     ? wanted / known
								     : 0);
	p->in_flight = lm_engine_in_flight(m->engine);
	p->elapsed = seconds_since(&m->started);
}

/* The terminal's width, 80 when it does not say. */
static size_t gen_width(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/*
 * One progress display for the run, on stderr: on a terminal one line
 * redrawn at most five times a second (cut to the width, so it never
 * wraps); else a plain line each time a tenth more of the steps is done,
 * or a tenth more of the sessions has ended; none with --quiet.  force:
 * draw now.
 */
static void gen_show(struct gen_many *m, int force)
{
	struct progress_sessions p;
	struct strbuf line = STRBUF_INIT;
	size_t tenth;

	if (m->o->quiet || (!force && seconds_since(&m->shown) < 0.2))
		return;
	clock_gettime(CLOCK_MONOTONIC, &m->shown);
	gen_count(m, &p);
	tenth = (p.steps_total ? p.steps * 10 / p.steps_total : 10) * 100 +
		(p.done + p.waiting + p.failed) * 10 / (p.sessions ? p.sessions : 1);
	if (!m->tty && tenth == m->shown_tenth)
		return;
	m->shown_tenth = tenth;
	progress_sessions_format(&p, &line);
	if (m->tty) {
		size_t width = gen_width() - 1;

		strbuf_truncate(&line, line.len < width ? line.len : width);
		fputs("\r\033[K", stderr);
		fputs(line.data, stderr);
		m->drawn = 1;
	} else {
		fprintf(stderr, "weft generate: %s\n", line.data);
	}
	fflush(stderr);
	strbuf_release(&line);
}

/* The line of step n, grown from `at`, as one session's generate prints
 * it, with the session's file in front. */
static void gen_print_step(struct gen_many *m, struct gen_session *gs, uint32_t at, size_t n)
{
	struct tree *t = gs->tree;
	struct strbuf balance = STRBUF_INIT;
	const struct tree_step *s = tree_node(t, at)->step;
	long idx = 0;
	size_t k;

	if (m->o->quiet)
		return;
	for (k = 0; k < s->count; k++)
		if (s->candidates[k] == s->judge_pick)
			idx = (long)k + 1;
	generate_path_balance(t, &gs->task, &balance);
	gen_unshow(m);
	safetext_fputs(gs->path, stdout);
	printf(": step %zu/%zu  pick %ld of %zu  score %.3f  %s\n", n, gs->target, idx, s->count,
	       tree_node(t, s->judge_pick)->score, balance.data);
	fflush(stdout);
	strbuf_release(&balance);
}

/* "weft generate: FILE: MSG" on stderr, above the progress line. */
static void gen_say(struct gen_many *m, const struct gen_session *gs, const char *msg)
{
	gen_unshow(m);
	safetext_printf(stderr, "weft generate: %s: %s\n", gs->path, msg);
}

/* ---- one session -------------------------------------------------------- */

/*
 * Opens gs as one session's generate does (creating it first when it is
 * a --sessions file not made yet): its lock, the file and its journal
 * replayed, a journal that can be written, its task and settings.
 * Returns 0, or -1 with gs->why set (nothing asked of the models).
 */
static int gen_open(struct gen_many *m, struct gen_session *gs)
{
	const struct generate_options *o = m->o;
	struct errbuf *err = &gs->why;
	int r;

	if (o->sessions > 0 && access(gs->path, F_OK) != 0) {
		struct strbuf path = STRBUF_INIT;

		strbuf_addstr(&path, gs->path);
		r = cli_new_session(o->task, &path, 0, err);
		strbuf_release(&path);
		if (r)
			return -1;
		m->created++;
	}
	if (session_lock_acquire(&gs->lock, gs->path, NULL, err) ||
	    session_load(gs->path, &gs->tree, err))
		return -1;
	r = journal_replay(gs->path, gs->tree, err);
	if (r < 0)
		return -1;
	if (r == 1) /* a torn last line: said, not fatal */
		gen_say(m, gs, err->msg);
	if (journal_check_writable(gs->path, err))
		return -1;
	r = o->task ? cli_load_task(o->task, &gs->task, err)
		    : cli_session_task(gs->tree, &gs->task, err);
	if (r) {
		struct errbuf said = *err;

		errbuf_set(err, "%s (give the task with --task NAME)", said.msg);
		return -1;
	}
	generate_settings(o, &gs->task, &gs->settings); /* --rank was checked */
	gs->steps = steer_path_steps(gs->tree);
	gs->target = gs->task.rounds;
	gs->known = 1;
	return 0;
}

static void gen_step_done(void *ctx, const struct steer_outcome *o)
{
	struct gen_session *gs = ctx;

	gs->outcome = *o;
	gs->ended = 1;
}

/* Starts gs's next step: GEN_OPEN when one is in flight, GEN_DONE when
 * its chosen path is long enough, GEN_FAILED (why set) when a prompt is
 * past the cap. */
static enum gen_state gen_next(struct gen_many *m, struct gen_session *gs)
{
	gs->steps = steer_path_steps(gs->tree);
	if (gs->steps >= gs->target)
		return GEN_DONE;
	gs->tip = tree_path_tip(gs->tree);
	gs->ended = 0;
	gs->step = steer_start(m->engine, gs->tree, gs->tip, &gs->task, m->gen, m->judge,
			       &gs->settings, gen_step_done, gs, &gs->why);
	return gs->step ? GEN_OPEN : GEN_FAILED;
}

/* A step that ends without a pick keeps its candidates, journalled with
 * the cursor at the tip. */
static void gen_keep_unpicked(struct gen_many *m, struct gen_session *gs)
{
	struct errbuf err;

	tree_set_focus(gs->tree, gs->tip);
	if (generate_record_step(gs->path, gs->tree, gs->tip, &err))
		gen_say(m, gs, err.msg); /* the save at its end still keeps them */
}

/* What gs's ended step means: GEN_OPEN go on (the judge's pick taken,
 * pending its journal line), else how the session ends, why set. */
static enum gen_state gen_step_ended(struct gen_many *m, struct gen_session *gs)
{
	const struct steer_outcome *last = &gs->outcome;
	size_t step = steer_path_steps(gs->tree) + 1;
	struct errbuf err;

	steer_step_free(gs->step);
	gs->step = NULL;
	if (last->key_redacted) {
		errbuf_set(&err,
			   "warning: a model's reply held a piece of an API key; weft stored "
			   "it as [key hidden] (%zu place%s)",
			   last->key_redacted, last->key_redacted == 1 ? "" : "s");
		gen_say(m, gs, err.msg);
	}
	if (last->status == STEER_FAILED) {
		errbuf_set(&gs->why, "step %zu: %s", step, last->err.msg);
		return GEN_FAILED;
	}
	if (last->status == STEER_JUDGE_FAILED || last->status == STEER_NEEDS_HUMAN) {
		gen_keep_unpicked(m, gs);
		if (last->status == STEER_NEEDS_HUMAN) {
			errbuf_set(&gs->why, "step %zu needs a person: %s", step, last->err.msg);
			return GEN_WAITING;
		}
		errbuf_set(&gs->why, "step %zu: the judge failed (its %zu candidates are kept): %s",
			   step, last->candidates, last->err.msg);
		return GEN_FAILED;
	}
	steer_choose(gs->tree, last->judge_pick, TREE_PICKER_AI);
	gs->steps = steer_path_steps(gs->tree);
	gs->pending = gs->tip;
	gs->pending_step = gs->steps;
	return GEN_OPEN;
}

/* Writes gs's pending step to its journal (one line, fsync'd) and prints
 * it.  Returns 0, or -1 with why set. */
static int gen_journal(struct gen_many *m, struct gen_session *gs)
{
	uint32_t at = gs->pending;

	if (at == TREE_NONE)
		return 0;
	gs->pending = TREE_NONE;
	if (generate_record_step(gs->path, gs->tree, at, &gs->why))
		return -1;
	gs->recorded++;
	gen_print_step(m, gs, at, gs->pending_step);
	return 0;
}

/* Ends an open session as state: saves it (the journal folded in), lets
 * its files go, and says how it ended. */
static void gen_close(struct gen_many *m, struct gen_session *gs, enum gen_state state)
{
	struct errbuf err;

	steer_step_free(gs->step); /* interrupted: the step in flight is dropped */
	gs->step = NULL;
	if (session_save_replayed(gs->tree, gs->path, &err)) {
		if (state == GEN_FAILED)
			gen_say(m, gs, err.msg); /* why keeps the first error */
		else
			gs->why = err;
		if (gs->recorded)
			errbuf_prefix(&gs->why, "the steps of this run are still in its journal, "
						"which the next weft to open it replays");
		state = GEN_FAILED;
	}
	gs->state = state;
	gen_session_close_files(gs);
	if (state == GEN_DONE && !m->o->quiet) {
		gen_unshow(m);
		safetext_printf(stdout, "%s: %zu steps\n", gs->path, gs->steps);
		fflush(stdout);
	} else if (state == GEN_FAILED || state == GEN_WAITING) {
		gen_say(m, gs, gs->why.msg);
	}
}

/* ---- the run ------------------------------------------------------------ */

/* Sends the requests just queued, at once rather than at the loop's next
 * poll, so the network works while this process writes files (an engine
 * that fails says so at that next poll). */
static void gen_send(struct gen_many *m)
{
	struct errbuf ignored;

	lm_engine_poll(m->engine, NULL, 0, 0, NULL, &ignored);
}

/* Opens queued sessions while there is room, each with its first step
 * sent before the next session is opened (opening writes and fsyncs). */
static void gen_fill(struct gen_many *m)
{
	while (m->nopen < m->max_open && m->next < m->count && !interrupted) {
		struct gen_session *gs = &m->sessions[m->next++];
		enum gen_state state;

		if (gen_open(m, gs)) {
			gen_session_close_files(gs);
			gs->state = GEN_FAILED;
			gen_say(m, gs, gs->why.msg);
			continue;
		}
		state = gen_next(m, gs);
		if (state == GEN_OPEN) {
			gs->state = GEN_OPEN;
			m->open[m->nopen++] = gs;
			gen_send(m);
		} else {
			gen_close(m, gs, state);
		}
	}
}

/*
 * Every session whose step ended: the step taken in, then the next started
 * or the session closed.  The steps that go on are journalled only once
 * their sessions' next requests are on their way: a journal line waits for
 * its fsync (milliseconds each, one session after another), and meanwhile
 * the network works for all.  A step is still journalled before the next
 * one can end: that needs two more round trips, and callbacks fire only
 * inside lm_engine_poll.
 */
static void gen_settle(struct gen_many *m)
{
	size_t k = 0;
	int sent = 0;

	while (k < m->nopen) {
		struct gen_session *gs = m->open[k];
		enum gen_state state;

		if (!gs->ended) {
			k++;
			continue;
		}
		state = gen_step_ended(m, gs);
		if (state == GEN_OPEN)
			state = gen_next(m, gs);
		if (state == GEN_OPEN) {
			sent = 1;
			k++;
			continue;
		}
		if (gen_journal(m, gs))
			state = GEN_FAILED;
		gen_close(m, gs, state);
		m->open[k] = m->open[--m->nopen];
		gen_show(m, 1);
	}
	if (sent)
		gen_send(m);
	for (k = 0; k < m->nopen;) {
		if (gen_journal(m, m->open[k]) == 0) {
			k++;
			continue;
		}
		gen_close(m, m->open[k], GEN_FAILED);
		m->open[k] = m->open[--m->nopen];
	}
}

/* Ends the run early: the open sessions saved as they stand (their steps
 * in flight dropped) as state, the queued ones failed with msg when one is
 * given (the engine broke), else left as they are. */
static void gen_stop(struct gen_many *m, enum gen_state state, const char *msg)
{
	size_t k;

	for (k = 0; k < m->nopen; k++) {
		if (msg)
			errbuf_set(&m->open[k]->why, "%s", msg);
		gen_close(m, m->open[k], state);
	}
	m->nopen = 0;
	for (k = m->next; msg && k < m->count; k++) {
		m->sessions[k].state = GEN_FAILED;
		errbuf_set(&m->sessions[k].why, "not started: %s", msg);
	}
	m->next = m->count;
}

/* Grows every session until each has ended. */
static void gen_many_loop(struct gen_many *m)
{
	struct errbuf err;

	for (;;) {
		gen_fill(m);
		if (!m->nopen || interrupted)
			break;
		gen_show(m, 0);
		if (lm_engine_poll(m->engine, NULL, 0, 200, NULL, &err) < 0) {
			gen_stop(m, GEN_FAILED, err.msg);
			break;
		}
		gen_settle(m);
	}
	if (interrupted)
		gen_stop(m, GEN_STOPPED, NULL);
	gen_show(m, 1);
	gen_unshow(m);
}

/* The sessions that ended in state, listed on stderr under "N sessions
 * VERB WHAT:" (verb as one or many takes it); returns how many. */
static size_t gen_list(const struct gen_many *m, enum gen_state state, const char *one,
		       const char *many, const char *what)
{
	size_t k, n = 0;

	for (k = 0; k < m->count; k++)
		n += m->sessions[k].state == state;
	if (!n)
		return 0;
	fprintf(stderr, "weft generate: %zu session%s %s %s:\n", n, n == 1 ? "" : "s",
		n == 1 ? one : many, what);
	for (k = 0; k < m->count; k++)
		if (m->sessions[k].state == state)
			safetext_printf(stderr, "  %s: %s\n", m->sessions[k].path,
					m->sessions[k].why.msg);
	return n;
}

/* The closing lines and the exit status. */
static int gen_many_report(const struct gen_many *m)
{
	struct progress_sessions p;
	size_t waiting, failed;

	gen_count(m, &p);
	waiting = gen_list(m, GEN_WAITING, "waits", "wait",
			   "for a person (open each in weft and pick, or run the same command "
			   "again to ask the judge again)");
	failed = gen_list(m, GEN_FAILED, "failed", "failed",
			  "(run the same command again to retry; what was done is kept)");
	printf("%zu sessions", m->count);
	if (m->created)
		printf(" (%zu new)", m->created);
	printf(": %zu done, %zu waiting for a person, %zu failed; %zu steps on their paths, %zu "
	       "this run\n",
	       p.done, waiting, failed, p.steps, p.taken);
	if (interrupted) {
		fputs("weft generate: interrupted; every step taken is saved: run the same command "
		      "again to continue\n",
		      stderr);
		return 130;
	}
	return failed ? 1 : waiting ? 3 : 0;
}

/* How many sessions may be open at once: one step each, so as many as
 * the generator and the judge may have requests in flight together. */
static size_t gen_max_open(const struct gen_many *m)
{
	int g = m->gen->concurrency > 0 ? m->gen->concurrency : LM_DEFAULT_CONCURRENCY;
	int j = m->judge->concurrency > 0 ? m->judge->concurrency : LM_DEFAULT_CONCURRENCY;

	return (size_t)g + (size_t)j;
}

int gen_many_run(const struct generate_options *o)
{
	struct gen_many m;
	struct sigaction sa, old_int, old_term;
	enum rank_mode rank;
	int r;

	gen_many_init(&m, o);
	r = generate_roles(o, &m.config, &m.gen, &m.judge);
	if (!r && o->rank && rank_mode_parse(o->rank, &rank)) {
		fprintf(stderr, "weft generate: --rank takes logprobs, scores or choice\n");
		r = 2;
	}
	if (!r)
		r = gen_many_list(&m);
	if (!r) {
		m.max_open = gen_max_open(&m);
		m.open = xcalloc(m.max_open, sizeof(*m.open));
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		m.engine = cli_start_engine(&m.config);
		gen_many_loop(&m);
		r = gen_many_report(&m);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	gen_many_release(&m);
	return r;
}

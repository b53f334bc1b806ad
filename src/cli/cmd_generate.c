/*
 * weft new: start a session from a task.
 * weft generate: the AI-steered loop, headless.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clicommon.h"
#include "generate.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/dataset.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/pairs.h"
#include "weft/progress.h"
#include "weft/safetext.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/steer.h"
#include "weft/task.h"
#include "weft/xalloc.h"

/* ---- weft new ----------------------------------------------------------- */

static const char new_usage[] =
    "usage: weft new --task NAME [-o FILE] [--force]\n"
    "\n"
    "Starts a session whose root is the task's generation prompt and writes\n"
    "it to FILE (default weft-NAME-YYYYMMDD-HHMMSS.json in the current folder,\n"
    "as bare weft names it).  Tasks are folders prompts/NAME/ (README, Tasks).\n"
    "  -t, --task NAME   the task (nice-sounding-wrong, disjunctive-syllogism, ...)\n"
    "  -o, --output FILE where to write the session\n"
    "  -f, --force       replace FILE if it exists\n";

struct new_options {
	const char *task, *out; /* out: NULL names the file as bare weft does */
	int force;
};

static void new_options_init(struct new_options *o)
{
	memset(o, 0, sizeof(*o));
}

/* Returns -1 when the options are good, else the exit status. */
static int new_parse(struct new_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"task", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":t:o:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->task = optarg; break;
		case 'o': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'h': fputs(new_usage, stdout); return 0;
		default: return cli_option_error("new", new_usage, c, argv);
		}
	}
	if (!o->task || optind != argc) {
		fputs(new_usage, stderr);
		return 2;
	}
	return -1;
}

static int new_run(const struct new_options *o)
{
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	int r = 1;

	if (o->out)
		strbuf_addstr(&path, o->out);
	else
		cli_new_session_name(o->task, &path);
	if (cli_new_session(o->task, &path, o->force, &err)) {
		cli_error("new", err.msg);
	} else {
		safetext_printf(stdout, "%s: new session of task %s\n", path.data, o->task);
		r = 0;
	}
	strbuf_release(&path);
	return r;
}

int cmd_new(int argc, char **argv)
{
	struct new_options o;
	int r;

	new_options_init(&o);
	r = new_parse(&o, argc, argv);
	return r >= 0 ? r : new_run(&o);
}

int cli_new_session(const char *task_name, struct strbuf *path, int force, struct errbuf *err)
{
	struct session_lock lock = SESSION_LOCK_INIT;
	struct task task;
	struct tree *t;
	int r;

	task_init(&task);
	if (cli_load_task(task_name, &task, err)) {
		task_release(&task);
		return -1;
	}
	if (!path->len)
		cli_new_session_name(task.name, path);
	/* a session open in another weft is not replaced under it */
	if (session_lock_acquire(&lock, path->data, NULL, err)) {
		task_release(&task);
		return -1;
	}
	if (!force && access(path->data, F_OK) == 0) {
		session_lock_release(&lock);
		task_release(&task);
		return errbuf_set(err, "%s: the file exists (use --force to replace it)",
				  path->data);
	}
	t = tree_new();
	tree_add(t, TREE_NONE, NULL, task.generate, strlen(task.generate));
	tree_set_name(t, task.name);
	meta_set_string(t, "task", task.name);
	r = session_save(t, path->data, err);
	session_lock_release(&lock);
	tree_free(t);
	task_release(&task);
	return r < 0 ? -1 : 0;
}

int cli_session_task(const struct tree *t, struct task *task, struct errbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int r = -1;

	if (meta_get_string(t, "task", &name) || !name.len)
		errbuf_set(err, "the session names no task");
	else
		r = cli_load_task(name.data, task, err);
	strbuf_release(&name);
	return r < 0 ? -1 : 0;
}

void cli_dataset_task(struct dataset_args *a, const struct tree *t, struct task *task)
{
	struct pairs_options o;
	struct errbuf ignored;

	task_init(task);
	if (t && cli_session_task(t, task, &ignored) == 0) {
		task_pairs_options(task, &o);
		dataset_args_defaults(a, &o);
	}
}

void generate_session_stem(const char *task_name, struct strbuf *out)
{
	size_t len = strlen(task_name), i;

	while (len > 1 && task_name[len - 1] == '/')
		len--;
	for (i = len; i > 0 && task_name[i - 1] != '/'; i--)
		;
	for (; i < len; i++) {
		char c = task_name[i];

		strbuf_addch(out, isalnum((unsigned char)c) || c == '-' || c == '_' ? c : '-');
	}
}

void cli_new_session_name(const char *task_name, struct strbuf *out)
{
	struct strbuf name = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t base = out->len;
	unsigned k;

	/* the last part of a task given as a folder, in safe characters */
	generate_session_stem(task_name, &name);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (k = 1;; k++) {
		strbuf_truncate(out, base);
		strbuf_addf(out, "weft-%s-%s", name.data, stamp);
		if (k > 1)
			strbuf_addf(out, "-%u", k);
		strbuf_addstr(out, ".json");
		if (access(out->data, F_OK) != 0)
			break;
	}
	strbuf_release(&name);
}

/* ---- weft generate ------------------------------------------------------ */

static const char generate_usage[] =
    "usage: weft generate FILE... [--rounds N] [--n K] [--rank MODE] [--task NAME]\n"
    "                             [--set ROLE.KEY=VALUE]... [--config FILE] [--quiet]\n"
    "       weft generate --sessions K --task NAME -o DIR [--rounds N] [options]\n"
    "\n"
    "Runs the AI-steered loop with no terminal: at the tip of the chosen path,\n"
    "sample K candidates from the generator, have the judge rank them and take\n"
    "its pick, until the chosen path has N steps.  Running the same command\n"
    "again continues to N.  The session is saved after every step.\n"
    "Several FILEs grow at once on one engine, within each role's concurrency:\n"
    "each session has its own journal, lock and outcome, and a slow or failing\n"
    "one holds up none of the others.\n"
    "  -r, --rounds N     steps the chosen path should have (default: the task's)\n"
    "  -n, --n K          candidates per step (default: the task's)\n"
    "      --rank MODE    logprobs, scores or choice (default: the task's)\n"
    "  -t, --task NAME    the task, when the session does not name one\n"
    "  -s, --set R.K=V    a configuration setting, e.g. judge.model=gpt-4o\n"
    "  -c, --config FILE  the configuration file (default $XDG_CONFIG_HOME/weft/config,\n"
    "                     else ~/.config/weft/config)\n"
    "  -q, --quiet        print only errors and the final line\n"
    "  -S, --sessions K   grow K sessions of --task in DIR at once: DIR/NAME-001.json\n"
    "                     .. DIR/NAME-K.json (NAME: the task's name), each created\n"
    "                     when missing and continued when there, so the same command\n"
    "                     again resumes them all (a larger K adds sessions)\n"
    "  -o, --output DIR   the folder of --sessions (made when missing)\n"
    "\n"
    "While it runs it holds each session's lock: a loom or another generate on\n"
    "the same file is refused (weft --read-only FILE can browse it).\n"
    "\n"
    "Exit status: 0 done; 1 error (a failed request, the judge's too: the\n"
    "candidates are kept and a rerun asks again; also: the session is open\n"
    "for writing in another weft, or its folder cannot be written); 2 usage\n"
    "or configuration; 3 a step needs a person (the judge answered,\n"
    "unusably); 130 interrupted.  With several sessions: 0 when all reached N,\n"
    "1 when any failed, else 3 when any waits for a person; those that failed\n"
    "or wait are listed at the end with why.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct run {
	struct steer_outcome last;
	int finished;
};

static void step_done(void *ctx, const struct steer_outcome *o)
{
	struct run *run = ctx;

	run->last = *o;
	run->finished = 1;
}

/* Counts the pairs on the chosen path per class, with the task's rules. */
void generate_path_balance(const struct tree *t, const struct task *task, struct strbuf *out)
{
	struct pairs_result r;
	struct errbuf err;
	size_t k;

	if (task_path_pairs(task, t, &r, &err) == 0) {
		for (k = 0; k < r.nlabels; k++) {
			/* labels come from the task's files: made safe */
			strbuf_addstr(out, k ? " / " : "");
			safetext_append(out, r.labels[k], strlen(r.labels[k]), 0);
			strbuf_addf(out, " %zu", r.per_class[k]);
		}
	} else {
		strbuf_addstr(out, "pairs: ?");
	}
	pairs_result_release(&r);
}

/* Seconds since t0 on the monotonic clock. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The bar, the steps, and this run's rate with the time left: done of
 * total steps, of which this run took done - at_start since started. */
static void progress_bar(size_t done, size_t total, size_t at_start, const struct timespec *started)
{
	struct strbuf rate = STRBUF_INIT;
	char bar[31];
	size_t fill = total ? done * 30 / total : 30, k;

	for (k = 0; k < 30; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[30] = '\0';
	progress_rate_eta(done > at_start ? done - at_start : 0, total > done ? total - done : 0,
			  seconds_since(started), "steps", PROGRESS_PER_MINUTE, &rate);
	/* padded: a shorter line covers a longer one's end without an escape */
	fprintf(stderr, "\r[%s] %zu/%zu  %-34s", bar, done, total, rate.data);
	fflush(stderr);
	strbuf_release(&rate);
}

int generate_record_step(const char *path, const struct tree *t, uint32_t at, struct errbuf *err)
{
	const struct tree_step *s = tree_node(t, at)->step;
	struct journal_batch b;
	size_t k;

	journal_batch_init(&b);
	for (k = 0; s && k < s->count; k++)
		journal_batch_node(&b, t, s->candidates[k]);
	journal_batch_node(&b, t, at);
	journal_batch_path(&b, t);
	return journal_batch_commit(path, &b, err);
}

/* A step that ends without a pick (the judge failed, or answered
 * unusably): its candidates are journalled with the cursor at the tip, and
 * why is said. */
static void keep_unpicked_step(const char *path, struct tree *t, uint32_t tip,
			       const struct steer_outcome *o)
{
	struct errbuf err;

	tree_set_focus(t, tip);
	if (generate_record_step(path, t, tip, &err))
		cli_error("generate", err.msg);
	cli_error("generate", o->err.msg);
}

static void generate_options_init(struct generate_options *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->rounds = -1;
	o->n = -1;
	o->sessions = -1;
	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
}

/* v as a number from 1 to max; 0 when it is not one. */
static long count_arg(const char *v, long max)
{
	char *end;
	long r = strtol(v, &end, 10);

	return *end || r < 1 || r > max ? 0 : r;
}

/* Returns -1 when the flags and files go together, else the exit status
 * (2) with the usage said. */
static int generate_check(const struct generate_options *o)
{
	if (o->sessions == 0)
		return cli_usage_error("generate", generate_usage,
				       "--sessions takes a number from 1 to 10000");
	if (o->sessions > 0 && o->npaths)
		return cli_usage_error("generate", generate_usage,
				       "--sessions makes its own files in -o DIR: give no FILE");
	if (o->sessions > 0 && (!o->out_dir || !o->task))
		return cli_usage_error("generate", generate_usage,
				       "--sessions needs --task NAME and -o DIR");
	if (o->sessions < 0 && o->out_dir)
		return cli_usage_error("generate", generate_usage, "-o DIR goes with --sessions K");
	if ((o->sessions < 0 && !o->npaths) || o->rounds == 0 || o->n == 0) {
		if (o->rounds == 0)
			fputs("weft generate: --rounds takes a number from 1 to 1000000\n", stderr);
		if (o->n == 0)
			fprintf(stderr, "weft generate: --n takes a number from 1 to %d\n",
				TASK_MAX_N);
		fputs(generate_usage, stderr);
		return 2;
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int generate_parse(struct generate_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"n", required_argument, NULL, 'n'},
	    {"rank", required_argument, NULL, 'R'},
	    {"task", required_argument, NULL, 't'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"sessions", required_argument, NULL, 'S'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":r:n:t:s:c:qS:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->rounds = count_arg(optarg, 1000000); break;
		case 'n': o->n = count_arg(optarg, TASK_MAX_N); break;
		case 'R': o->rank = optarg; break;
		case 't': o->task = optarg; break;
		case 's': o->sets[o->nsets++] = optarg; break;
		case 'c': o->config_path = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'S': o->sessions = count_arg(optarg, GENERATE_MAX_SESSIONS); break;
		case 'o': o->out_dir = optarg; break;
		case 'h': fputs(generate_usage, stdout); return 0;
		default: return cli_option_error("generate", generate_usage, c, argv);
		}
	}
	o->paths = argv + optind;
	o->npaths = (size_t)(argc - optind);
	return generate_check(o);
}

/* Everything one run of the loop needs. */
struct generation {
	const struct generate_options *o;
	struct cli_session s;
	struct config config;
	struct config_role *gen, *judge;
	struct steer_settings settings;
	struct lm_engine *engine;
	size_t recorded; /* steps journalled by this run */
	int tty;
	/* the progress line's rate: when this run started, at which step */
	struct timespec started;
	size_t steps_at_start;
};

int generate_roles(const struct generate_options *o, struct config *c, struct config_role **gen,
		   struct config_role **judge)
{
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 0};
	int r = cli_load_config("generate", c, &ca);

	if (r)
		return r;
	*gen = config_role(c, "generator");
	*judge = config_role(c, "judge");
	if (!config_role_configured(*gen) || !config_role_configured(*judge)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, "no model configured for the generator and the judge: set "
				    "[generator] and [judge] model in ");
		cli_config_path(o->config_path, &msg);
		strbuf_addstr(&msg, ", or WEFT_GENERATOR_MODEL and WEFT_JUDGE_MODEL (see README "
				    "Configuration)");
		cli_error("generate", msg.data);
		strbuf_release(&msg);
		return 1;
	}
	return 0;
}

int generate_settings(const struct generate_options *o, struct task *task, struct steer_settings *s)
{
	steer_settings_from_task(s, task);
	/* a rerun asks again about a step that waits for a person */
	s->rejudge_waiting = 1;
	if (o->rounds > 0)
		task->rounds = (unsigned)o->rounds;
	if (o->n > 0)
		s->n = (unsigned)o->n;
	if (o->rank && rank_mode_parse(o->rank, &s->rank))
		return -1;
	return 0;
}

/* The generator and the judge, with the settings of the task and flags.
 * Returns 0, or the exit status with the error said. */
static int generation_models(struct generation *g)
{
	int r = generate_roles(g->o, &g->config, &g->gen, &g->judge);

	if (r)
		return r;
	if (generate_settings(g->o, &g->s.task, &g->settings)) {
		fprintf(stderr, "weft generate: --rank takes logprobs, scores or choice\n");
		return 2;
	}
	return 0;
}

/* The line a step taken prints, and the progress bar under it. */
static void print_step(struct generation *g, uint32_t tip, const struct steer_outcome *last)
{
	struct tree *t = g->s.tree;
	struct strbuf line = STRBUF_INIT;
	struct tree_node *pick = tree_node(t, last->judge_pick);
	struct tree_step *s = tree_node(t, tip)->step;
	long idx = 0;
	size_t k;

	if (g->tty && !g->o->quiet)
		fputs("\r\033[K", stderr);
	generate_path_balance(t, &g->s.task, &line);
	if (g->o->quiet) {
		strbuf_release(&line);
		return;
	}
	for (k = 0; k < s->count; k++)
		if (s->candidates[k] == last->judge_pick)
			idx = (long)k + 1;
	printf("step %zu/%u  pick %ld of %zu  score %.3f  %s\n", steer_path_steps(t),
	       g->s.task.rounds, idx, last->candidates, pick->score, line.data);
	fflush(stdout);
	if (g->tty)
		progress_bar(steer_path_steps(t), g->s.task.rounds, g->steps_at_start, &g->started);
	strbuf_release(&line);
}

/* What a step that ended means for the run: -1 go on (the judge's pick
 * taken and journalled), else the exit status. */
static int step_ended(struct generation *g, uint32_t tip, const struct steer_outcome *last)
{
	struct tree *t = g->s.tree;
	const char *path = g->o->paths[0];
	struct errbuf err;

	if (last->key_redacted)
		fprintf(stderr,
			"weft generate: warning: a model's reply held a piece of an API key; "
			"weft stored it as [key hidden] (%zu place%s)\n",
			last->key_redacted, last->key_redacted == 1 ? "" : "s");
	if (last->status == STEER_FAILED)
		return cli_error("generate", last->err.msg);
	if (last->status == STEER_JUDGE_FAILED) {
		/* an error (exit 1), not a person's turn: the candidates are
		 * kept and the same command asks the judge again */
		keep_unpicked_step(path, t, tip, last);
		fprintf(stderr,
			"weft generate: step %zu: the judge failed; its %zu candidates are "
			"kept: run the same command again to ask the judge again\n",
			steer_path_steps(t) + 1, last->candidates);
		return 1;
	}
	if (last->status == STEER_NEEDS_HUMAN) {
		keep_unpicked_step(path, t, tip, last);
		safetext_printf(stderr, "weft generate: step %zu needs a person: open %s in weft\n",
				steer_path_steps(t) + 1, path);
		return 3;
	}
	steer_choose(t, last->judge_pick, TREE_PICKER_AI);
	if (generate_record_step(path, t, tip, &err))
		return cli_error("generate", err.msg);
	g->recorded++;
	print_step(g, tip, last);
	return -1;
}

/* One step at the tip of the chosen path: -1 go on, else the exit
 * status. */
static int generate_step(struct generation *g)
{
	struct tree *t = g->s.tree;
	uint32_t tip = tree_path_tip(t);
	struct run run;
	struct steer_step *st;
	struct errbuf err;

	memset(&run, 0, sizeof(run));
	st = steer_start(g->engine, t, tip, &g->s.task, g->gen, g->judge, &g->settings, step_done,
			 &run, &err);
	if (!st) /* a prompt past the cap: nothing was sent */
		return cli_error("generate", err.msg);
	while (!run.finished && !interrupted) {
		if (lm_engine_poll(g->engine, NULL, 0, 200, NULL, &err) < 0) {
			cli_error("generate", err.msg);
			break;
		}
	}
	steer_step_free(st);
	if (!run.finished)
		return interrupted ? 130 : 1;
	return step_ended(g, tip, &run.last);
}

/* Steps until the chosen path is long enough, then the journal folded
 * into the file; returns the exit status. */
static int generate_loop(struct generation *g)
{
	struct tree *t = g->s.tree;
	const char *path = g->o->paths[0];
	struct errbuf err;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &g->started);
	g->steps_at_start = steer_path_steps(t);
	while (steer_path_steps(t) < g->s.task.rounds && !interrupted) {
		int sr = generate_step(g);

		if (sr >= 0) {
			r = sr;
			break;
		}
	}
	if (g->tty && !g->o->quiet)
		fputs("\r\033[K", stderr);
	/* Fold the journal into the file; if that fails the journal keeps all. */
	if (session_save_replayed(t, path, &err)) {
		cli_error("generate", err.msg);
		if (g->recorded) {
			fputs("weft generate: the steps of this run are still in ", stderr);
			safetext_fputs(path, stderr);
			fputs(".journal: the next weft to open the session replays them\n", stderr);
		}
		if (!r)
			r = 1;
	}
	if (interrupted) {
		safetext_printf(stderr, "weft generate: interrupted; %zu steps are saved in %s\n",
				steer_path_steps(t), path);
		r = 130;
	} else if (r == 0) {
		safetext_printf(stdout, "%s: %zu steps\n", path, steer_path_steps(t));
	}
	return r;
}

static int generate_run(const struct generate_options *o)
{
	struct generation g;
	struct sigaction sa, old_int, old_term;
	int r;

	memset(&g, 0, sizeof(g));
	g.o = o;
	g.tty = isatty(2);
	steer_settings_init(&g.settings);
	config_init(&g.config);
	r = cli_session_open(&g.s, "generate", o->paths[0], o->task,
			     CLI_SESSION_WRITE | CLI_SESSION_NEEDS_TASK);
	if (!r)
		r = generation_models(&g);
	if (!r) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		g.engine = cli_start_engine(&g.config);
		r = generate_loop(&g);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	lm_engine_free(g.engine);
	cli_session_release(&g.s);
	config_release(&g.config);
	return r;
}

int cmd_generate(int argc, char **argv)
{
	struct generate_options o;
	int r;

	generate_options_init(&o, argc);
	r = generate_parse(&o, argc, argv);
	if (r < 0 && o.npaths == 1 && o.sessions < 0)
		r = generate_run(&o);
	else if (r < 0)
		r = gen_many_run(&o);
	free(o.sets);
	return r;
}

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

#include "weft/cli.h"
#include "weft/config.h"
#include "weft/dataset.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/pairs.h"
#include "weft/safetext.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/steer.h"
#include "weft/task.h"
#include "weft/xalloc.h"

static int load_task(const char *name, struct task *task, struct errbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int r = task_find(name, &dir, err);

	if (!r)
		r = task_load(task, dir.data, err);
	strbuf_release(&dir);
	return r;
}

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

int cmd_new(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"task", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *task_name = NULL, *out = NULL;
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	int c, force = 0, r = 1;

	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":t:o:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': task_name = optarg; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'h': fputs(new_usage, stdout); return 0;
		default: return cli_option_error("new", new_usage, c, argv);
		}
	}
	if (!task_name || optind != argc) {
		fputs(new_usage, stderr);
		return 2;
	}
	if (out)
		strbuf_addstr(&path, out);
	else
		cli_new_session_name(task_name, &path);
	if (cli_new_session(task_name, &path, force, &err)) {
		cli_error("new", err.msg);
	} else {
		safetext_printf(stdout, "%s: new session of task %s\n", path.data, task_name);
		r = 0;
	}
	strbuf_release(&path);
	return r;
}

int cli_new_session(const char *task_name, struct strbuf *path, int force, struct errbuf *err)
{
	struct session_lock lock = SESSION_LOCK_INIT;
	struct task task;
	struct tree *t;
	int r;

	task_init(&task);
	if (load_task(task_name, &task, err)) {
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
		r = load_task(name.data, task, err);
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

void cli_new_session_name(const char *task_name, struct strbuf *out)
{
	struct strbuf name = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t base = out->len, len = strlen(task_name), i;
	unsigned k;

	/* the last part of a task given as a folder, in safe characters */
	while (len > 1 && task_name[len - 1] == '/')
		len--;
	for (i = len; i > 0 && task_name[i - 1] != '/'; i--)
		;
	for (; i < len; i++) {
		char c = task_name[i];

		strbuf_addch(&name, isalnum((unsigned char)c) || c == '-' || c == '_' ? c : '-');
	}
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
    "usage: weft generate FILE [--rounds N] [--n K] [--rank MODE] [--task NAME]\n"
    "                          [--set ROLE.KEY=VALUE]... [--config FILE] [--quiet]\n"
    "\n"
    "Runs the AI-steered loop with no terminal: at the tip of the chosen path,\n"
    "sample K candidates from the generator, have the judge rank them and take\n"
    "its pick, until the chosen path has N steps.  Running the same command\n"
    "again continues to N.  The session is saved after every step.\n"
    "  -r, --rounds N     steps the chosen path should have (default: the task's)\n"
    "  -n, --n K          candidates per step (default: the task's)\n"
    "      --rank MODE    logprobs, scores or choice (default: the task's)\n"
    "  -t, --task NAME    the task, when the session does not name one\n"
    "  -s, --set R.K=V    a configuration setting, e.g. judge.model=gpt-4o\n"
    "  -c, --config FILE  the configuration file (default $XDG_CONFIG_HOME/weft/config,\n"
    "                     else ~/.config/weft/config)\n"
    "  -q, --quiet        print only errors and the final line\n"
    "\n"
    "While it runs it holds the session's lock: a loom or another generate on\n"
    "the same file is refused (weft --read-only FILE can browse it).\n"
    "\n"
    "Exit status: 0 done; 1 error (a failed request, the judge's too: the\n"
    "candidates are kept and a rerun asks again; also: the session is open\n"
    "for writing in another weft, or its folder cannot be written); 2 usage\n"
    "or configuration; 3 a step needs a person (the judge answered,\n"
    "unusably); 130 interrupted.\n";

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
static void path_balance(const struct tree *t, const struct task *task, struct strbuf *out)
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

static void progress_bar(size_t done, size_t total)
{
	char bar[31];
	size_t fill = total ? done * 30 / total : 30, k;

	for (k = 0; k < 30; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu", bar, done, total);
	fflush(stderr);
}

/*
 * Writes the step grown from `at` (its candidates, its decision record and
 * the new chosen path) to the journal as one line: a crash keeps it whole
 * or loses it whole.
 */
static int record_step(const char *path, const struct tree *t, uint32_t at, struct errbuf *err)
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
	if (record_step(path, t, tip, &err))
		cli_error("generate", err.msg);
	cli_error("generate", o->err.msg);
}

int cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"n", required_argument, NULL, 'n'},
	    {"rank", required_argument, NULL, 'R'},
	    {"task", required_argument, NULL, 't'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *task_opt = NULL, *config_path = NULL, *rank_opt = NULL;
	long rounds = -1, n = -1;
	char **sets = xcalloc((size_t)argc + 1, sizeof(*sets));
	size_t nsets = 0, k;
	struct strbuf task_name = STRBUF_INIT;
	struct config config;
	struct task task;
	struct errbuf err;
	struct tree *t = NULL;
	struct lm_engine *engine = NULL;
	struct steer_settings settings;
	struct config_role *gen, *judge;
	struct sigaction sa, old_int, old_term;
	struct session_lock lock = SESSION_LOCK_INIT;
	const char *path;
	size_t recorded = 0;
	int c, quiet = 0, r = 1, tty = isatty(2);
	char *end;

	steer_settings_init(&settings);
	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":r:n:t:s:c:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = strtol(optarg, &end, 10);
			if (*end || rounds < 1 || rounds > 1000000)
				rounds = 0;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > TASK_MAX_N)
				n = 0;
			break;
		case 'R': rank_opt = optarg; break;
		case 't': task_opt = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'c': config_path = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
			fputs(generate_usage, stdout);
			free(sets);
			return 0;
		default:
			cli_option_error("generate", generate_usage, c, argv);
			free(sets);
			return 2;
		}
	}
	if (optind != argc - 1 || rounds == 0 || n == 0) {
		if (rounds == 0)
			fputs("weft generate: --rounds takes a number from 1 to 1000000\n", stderr);
		if (n == 0)
			fprintf(stderr, "weft generate: --n takes a number from 1 to %d\n",
				TASK_MAX_N);
		fputs(generate_usage, stderr);
		free(sets);
		return 2;
	}
	path = argv[optind];
	config_init(&config);
	task_init(&task);

	/* One writer: the lock before the file is read, so what is read is
	 * what no one else will change. */
	if (cli_lock_session("generate", path, &lock)) {
		fputs("weft generate: nothing was asked of the models\n", stderr);
		goto out;
	}
	if (session_load(path, &t, &err)) {
		cli_error("generate", err.msg);
		goto out;
	}
	switch (journal_replay(path, t, &err)) {
	case 0: break;
	case 1: cli_error("generate", err.msg); break; /* a torn last line: warned */
	default: cli_error("generate", err.msg); goto out;
	}
	/* Each step is journalled as it is taken: a journal that cannot be
	 * written is found now, before any request is spent. */
	if (journal_check_writable(path, &err)) {
		cli_error("generate", err.msg);
		fputs("weft generate: nothing was asked of the models\n", stderr);
		goto out;
	}
	if (task_opt)
		strbuf_addstr(&task_name, task_opt);
	else if (meta_get_string(t, "task", &task_name)) {
		cli_error("generate", "the session names no task: give one with --task NAME");
		goto out;
	}
	if (load_task(task_name.data, &task, &err)) {
		cli_error("generate", err.msg);
		goto out;
	}
	if (config_load(&config, config_path, &err)) {
		cli_error("generate", err.msg);
		r = 2;
		goto out;
	}
	for (k = 0; k < nsets; k++) {
		if (config_set(&config, sets[k], &err)) {
			cli_error("generate", err.msg);
			r = 2;
			goto out;
		}
	}
	gen = config_role(&config, "generator");
	judge = config_role(&config, "judge");
	if (!config_role_configured(gen) || !config_role_configured(judge)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, "no model configured for the generator and the judge: set "
				    "[generator] and [judge] model in ");
		cli_config_path(config_path, &msg);
		strbuf_addstr(&msg, ", or WEFT_GENERATOR_MODEL and WEFT_JUDGE_MODEL (see README "
				    "Configuration)");
		cli_error("generate", msg.data);
		strbuf_release(&msg);
		goto out;
	}
	steer_settings_from_task(&settings, &task);
	/* a rerun asks again about a step that waits for a person */
	settings.rejudge_waiting = 1;
	if (rounds > 0)
		task.rounds = (unsigned)rounds;
	if (n > 0)
		settings.n = (unsigned)n;
	if (rank_opt && rank_mode_parse(rank_opt, &settings.rank)) {
		fprintf(stderr, "weft generate: --rank takes logprobs, scores or choice\n");
		r = 2;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	engine = lm_engine_new();
	config_hide_keys(&config, engine);
	r = 0;
	while (steer_path_steps(t) < task.rounds && !interrupted) {
		struct run run;
		struct steer_step *st;
		struct strbuf line = STRBUF_INIT;
		uint32_t tip = tree_path_tip(t);

		memset(&run, 0, sizeof(run));
		st = steer_start(engine, t, tip, &task, gen, judge, &settings, step_done, &run,
				 &err);
		if (!st) { /* a prompt past the cap: nothing was sent */
			cli_error("generate", err.msg);
			r = 1;
			strbuf_release(&line);
			break;
		}
		while (!run.finished && !interrupted) {
			if (lm_engine_poll(engine, NULL, 0, 200, NULL, &err) < 0) {
				cli_error("generate", err.msg);
				break;
			}
		}
		steer_step_free(st);
		if (!run.finished) {
			r = interrupted ? 130 : 1;
			break;
		}
		if (run.last.key_redacted)
			fprintf(
			    stderr,
			    "weft generate: warning: a model's reply held a piece of an API key; "
			    "weft stored it as [key hidden] (%zu place%s)\n",
			    run.last.key_redacted, run.last.key_redacted == 1 ? "" : "s");
		if (run.last.status == STEER_FAILED) {
			cli_error("generate", run.last.err.msg);
			r = 1;
			break;
		}
		if (run.last.status == STEER_JUDGE_FAILED) {
			/* an error (exit 1), not a person's turn: the candidates
			 * are kept and the same command asks the judge again */
			keep_unpicked_step(path, t, tip, &run.last);
			fprintf(stderr,
				"weft generate: step %zu: the judge failed; its %zu candidates are "
				"kept: run the same command again to ask the judge again\n",
				steer_path_steps(t) + 1, run.last.candidates);
			r = 1;
			break;
		}
		if (run.last.status == STEER_NEEDS_HUMAN) {
			keep_unpicked_step(path, t, tip, &run.last);
			safetext_printf(stderr,
					"weft generate: step %zu needs a person: open %s in weft\n",
					steer_path_steps(t) + 1, path);
			r = 3;
			break;
		}
		steer_choose(t, run.last.judge_pick, TREE_PICKER_AI);
		if (record_step(path, t, tip, &err)) {
			cli_error("generate", err.msg);
			r = 1;
			break;
		}
		recorded++;
		if (tty && !quiet)
			fputs("\r\033[K", stderr);
		path_balance(t, &task, &line);
		if (!quiet) {
			struct tree_node *pick = tree_node(t, run.last.judge_pick);
			long idx = 0;
			struct tree_step *s = tree_node(t, tip)->step;

			for (k = 0; k < s->count; k++)
				if (s->candidates[k] == run.last.judge_pick)
					idx = (long)k + 1;
			printf("step %zu/%u  pick %ld of %zu  score %.3f  %s\n",
			       steer_path_steps(t), task.rounds, idx, run.last.candidates,
			       pick->score, line.data);
			fflush(stdout);
			if (tty)
				progress_bar(steer_path_steps(t), task.rounds);
		}
		strbuf_release(&line);
	}
	if (tty && !quiet)
		fputs("\r\033[K", stderr);
	/* Fold the journal into the file; if that fails the journal keeps all. */
	if (session_save_replayed(t, path, &err)) {
		cli_error("generate", err.msg);
		if (recorded) {
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
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	lm_engine_free(engine);
	session_lock_release(&lock);
	tree_free(t);
	task_release(&task);
	config_release(&config);
	strbuf_release(&task_name);
	free(sets);
	return r;
}

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weft/cli.h"
#include "weft/config.h"
#include "weft/display.h"
#include "weft/evalrun.h"
#include "weft/evalset.h"
#include "weft/lm.h"
#include "weft/outfile.h"
#include "weft/plot.h"
#include "weft/strbuf.h"
#include "weft/task.h"
#include "weft/xalloc.h"

static const char eval_usage[] =
    "usage: weft eval DATASET --models A,B,C [--method generate|logprob]\n"
    "                 [--scoring opro|strict] [--limit N] [--out DIR] [--sizes FILE]\n"
    "                 [--size NAME=SIZE[:FAMILY]]... [--set ROLE.KEY=VALUE]...\n"
    "                 [--config FILE] [--concurrency N]\n"
    "\n"
    "Scores every example of DATASET (a session, a text file of pairs, or an\n"
    "exported classification/logodds CSV or JSONL) with each scorer model: NAME\n"
    "is the config role scorer.NAME (or give --set scorer.NAME.model=M); a NAME\n"
    "that is no configured scorer is the model NAME on the default endpoint\n"
    "(OPENAI_BASE_URL, else api.openai.com; key OPENAI_API_KEY), said on stderr.\n"
    "Sizes for the plot: --size, --sizes, the scorer's size, else weft's table of\n"
    "well-known models (GPT-3, InstructGPT, Pythia, Llama, Qwen; see weft plot).\n"
    "  generate  ask the question (the task's eval.txt), score the answer\n"
    "  logprob   log-probability of each class after the prompt (completions\n"
    "            endpoint: echo, else the next token's top logprobs)\n"
    "Writes DIR/<dataset>-<method>-<time>/ (default DIR: results): config.json,\n"
    "one CSV per model, summary.csv and scaling.svg.  Ctrl-C stops and keeps\n"
    "what finished.\n"
    "\n"
    "Exit status: 0 every example scored by every model; 1 error, or some\n"
    "examples failed (each model's count and first cause on stderr; what\n"
    "finished is kept); 2 usage or configuration; 130 interrupted.\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct progress {
	int tty;
	size_t last_pct;
};

static void show_progress(void *ctx, const struct evalrun *run)
{
	struct progress *p = ctx;
	size_t done, total, pct, i, bar = 30, fill;

	evalrun_progress(run, &done, &total);
	pct = total ? done * 100 / total : 100;
	if (p->tty) {
		fill = total ? done * bar / total : bar;
		fputs("\r[", stderr);
		for (i = 0; i < bar; i++)
			fputs(i < fill ? "#" : " ", stderr);
		fprintf(stderr, "] %zu/%zu %3zu%%", done, total, pct);
		fflush(stderr);
	} else if (pct / 10 != p->last_pct / 10 || done == total) {
		if (pct != p->last_pct)
			fprintf(stderr, "weft eval: %zu/%zu done (%zu%%)\n", done, total, pct);
	}
	p->last_pct = pct;
}

static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* mkdir -p for the results folder's parent. */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* evalset_task_fn: a session's pairs read with its task's settings. */
static int session_task_options(const char *name, struct pairs_options *o, void *ctx)
{
	struct task *task = ctx;
	struct strbuf dir = STRBUF_INIT;
	struct errbuf ignored;
	int found = !task_find(name, &dir, &ignored) && !task_load(task, dir.data, &ignored);

	strbuf_release(&dir);
	if (!found)
		return -1;
	task_pairs_options(task, o);
	return 0;
}

/* Where a scorer made from a bare model name sends its requests, said
 * without the URL itself (it may carry credentials). */
static const char *default_endpoint(const struct config_role *r)
{
	const char *all = getenv("WEFT_BASE_URL"), *openai = getenv("OPENAI_BASE_URL");

	if (r->base_url && *r->base_url) {
		if (all && *all && !strcmp(r->base_url, all))
			return "the endpoint WEFT_BASE_URL names";
		return "its scorer's base_url";
	}
	if (openai && *openai)
		return "the default endpoint (OPENAI_BASE_URL)";
	return "the default endpoint (" CONFIG_DEFAULT_BASE_URL ")";
}

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"models", required_argument, NULL, 'm'},
	    {"method", required_argument, NULL, 'M'},
	    {"scoring", required_argument, NULL, 'S'},
	    {"limit", required_argument, NULL, 'l'},
	    {"out", required_argument, NULL, 'o'},
	    {"sizes", required_argument, NULL, 'z'},
	    {"size", required_argument, NULL, 'Z'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"concurrency", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *models_opt = NULL, *method_opt = "generate", *scoring_opt = "strict";
	const char *out_dir = "results", *sizes_path = NULL, *config_path = NULL;
	char **sets = xcalloc((size_t)argc + 1, sizeof(*sets));
	char **size_specs = xcalloc((size_t)argc + 1, sizeof(*size_specs));
	size_t nsets = 0, nsize_specs = 0, k;
	long limit = -1, concurrency = -1;
	struct evalrun_options opts;
	struct config config;
	struct model_sizes sizes;
	struct evalset set;
	struct task task, pairs_task;
	struct errbuf err;
	struct lm_engine *engine = NULL;
	struct evalrun *run = NULL;
	struct strbuf sb = STRBUF_INIT, dir = STRBUF_INIT, prompt = STRBUF_INIT;
	struct strbuf eval_name = STRBUF_INIT;
	struct sigaction sa, old_int;
	struct progress prog = {0, 0};
	char *names = NULL;
	int c, r = 1, usage_bad = 0, sig_installed = 0;

	evalrun_options_init(&opts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:M:S:l:o:s:c:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': models_opt = optarg; break;
		case 'M': method_opt = optarg; break;
		case 'S': scoring_opt = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'z': sizes_path = optarg; break;
		case 'Z': size_specs[nsize_specs++] = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'c': config_path = optarg; break;
		case 'l':
			if (parse_count(optarg, 100000000L, &limit) < 0) {
				fputs("weft eval: --limit takes a positive number\n", stderr);
				usage_bad = 1;
			}
			break;
		case 'j':
			if (parse_count(optarg, 1024, &concurrency) < 0) {
				fputs("weft eval: --concurrency takes a number from 1 to 1024\n",
				      stderr);
				usage_bad = 1;
			}
			break;
		case 'h':
			fputs(eval_usage, stdout);
			free(sets);
			free(size_specs);
			return 0;
		default:
			/* the first bad option is enough: the rest of a cluster
			 * (-xyz) would each be reported again */
			cli_option_error("eval", eval_usage, c, argv);
			free(sets);
			free(size_specs);
			return 2;
		}
	}
	if (!strcmp(method_opt, "generate"))
		opts.method = EVALRUN_GENERATE;
	else if (!strcmp(method_opt, "logprob"))
		opts.method = EVALRUN_LOGPROB;
	else {
		fputs("weft eval: --method is generate or logprob\n", stderr);
		usage_bad = 1;
	}
	if (score_rules_parse(scoring_opt, &opts.rules) < 0) {
		fputs("weft eval: --scoring is opro or strict\n", stderr);
		usage_bad = 1;
	}
	if (!models_opt || !*models_opt) {
		fputs("weft eval: --models A,B,... is required\n", stderr);
		usage_bad = 1;
	}
	if (optind != argc - 1 || usage_bad) {
		fputs(eval_usage, stderr);
		free(sets);
		free(size_specs);
		return 2;
	}
	if (concurrency > 0)
		opts.concurrency = (int)concurrency;
	{
		/* --out is a folder to write a new run folder into: it may
		 * exist, but never be one of the files read */
		const char *inputs[3] = {argv[optind], sizes_path, config_path};

		if (outfile_check(out_dir, inputs, 3, 1, &err)) {
			cli_error("eval", err.msg);
			free(sets);
			free(size_specs);
			return 2;
		}
	}

	config_init(&config);
	model_sizes_init(&sizes);
	evalset_init(&set);
	task_init(&task);
	task_init(&pairs_task);
	if (config_load(&config, config_path, &err) < 0) {
		cli_error("eval", err.msg);
		r = 2;
		goto out;
	}
	for (k = 0; k < nsets; k++)
		if (config_set(&config, sets[k], &err) < 0) {
			cli_error("eval", err.msg);
			r = 2;
			goto out;
		}
	/* scorer roles the flags created get the environment too (WEFT_BASE_URL,
	 * WEFT_SCORER_X_MODEL); the flags then win again */
	if (nsets && config_apply_env(&config, &err) < 0) {
		cli_error("eval", err.msg);
		goto out;
	}
	for (k = 0; k < nsets; k++)
		config_set(&config, sets[k], &err);
	if (sizes_path && model_sizes_load(&sizes, sizes_path, &err) < 0) {
		cli_error("eval", err.msg);
		goto out;
	}
	for (k = 0; k < nsize_specs; k++)
		if (model_sizes_add_spec(&sizes, size_specs[k], &err) < 0) {
			cli_error("eval", err.msg);
			r = 2;
			goto out;
		}
	if (evalset_load(&set, argv[optind], session_task_options, &pairs_task, &err) < 0) {
		cli_error("eval", err.msg);
		goto out;
	}
	if (set.warning)
		cli_error("eval", set.warning); /* a torn journal line: said, not fatal */
	if (limit > 0)
		evalset_truncate(&set, (size_t)limit);
	if (set.task && opts.method == EVALRUN_GENERATE) {
		struct strbuf tdir = STRBUF_INIT;

		if (!task_find(set.task, &tdir, &err) && !task_load(&task, tdir.data, &err) &&
		    task.eval && *task.eval) {
			opts.eval_prompt = task.eval;
			strbuf_addf(&eval_name, "%s/eval.txt", task.dir);
			opts.eval_prompt_name = eval_name.data;
		}
		strbuf_release(&tdir);
	}

	engine = lm_engine_new();
	config_hide_keys(&config, engine);
	run = evalrun_new(engine, &set, &opts, &err);
	if (!run) {
		cli_error("eval", err.msg);
		goto out;
	}
	names = xstrdup(models_opt);
	{
		char *save = NULL, *name;

		for (name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
			struct config_role *role;
			const struct model_size *ms;
			double size;
			const char *family;

			while (*name == ' ')
				name++;
			if (!*name)
				continue;
			for (k = 0; k < evalrun_model_count(run); k++)
				if (!strcmp(evalrun_model(run, k)->name, name))
					break;
			if (k < evalrun_model_count(run))
				continue; /* named twice */
			role = config_scorer(&config, name);
			if (!role || !config_role_configured(role)) {
				/* not a configured scorer: a model on the default
				 * endpoint, and the output says so */
				role = config_model_scorer(&config, name);
				if (!role) {
					strbuf_reset(&prompt);
					strbuf_addf(
					    &prompt,
					    "unknown model '%s': no scorer.%s with a model in "
					    "the configuration, nor a model id (add a "
					    "[scorer.NAME] section with model = ..., or give "
					    "--set scorer.NAME.model=MODEL)",
					    name, name);
					cli_error("eval", prompt.data);
					goto out;
				}
				strbuf_reset(&prompt);
				strbuf_addf(&prompt,
					    "'%s' is not a configured scorer: scoring model '%s' "
					    "on %s",
					    name, role->model, default_endpoint(role));
				cli_error("eval", prompt.data);
			}
			size = role->size;
			family = role->family;
			ms = model_sizes_find(&sizes, name);
			if (!ms && role->model)
				ms = model_sizes_find(&sizes, role->model);
			if (!ms && !(size > 0)) {
				/* weft's table of well-known models, said when used */
				int from_table = 0;

				ms = model_sizes_find_known(&sizes, name, &from_table);
				if (!ms && role->model)
					ms = model_sizes_find_known(&sizes, role->model,
								    &from_table);
				if (ms && from_table) {
					strbuf_reset(&prompt);
					strbuf_addf(&prompt,
						    "size of '%s' from weft's table of known "
						    "models: %.3g (%s); --size NAME=SIZE to "
						    "change it",
						    name, ms->size, ms->family);
					cli_error("eval", prompt.data);
				}
			}
			if (ms) {
				size = ms->size;
				family = ms->family;
			}
			evalrun_add_model(run, name, role, size, family);
		}
	}
	if (!evalrun_model_count(run)) {
		fputs("weft eval: --models names no model\n", stderr);
		r = 2;
		goto out;
	}

	/* the results folder */
	{
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		struct stat st;
		int i;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		if (make_dirs(out_dir) < 0) {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "cannot create %s: %s", out_dir, strerror(errno));
			cli_error("eval", sb.data);
			goto out;
		}
		for (i = 1;; i++) {
			strbuf_reset(&dir);
			strbuf_addf(&dir, "%s/%s-%s-%s", out_dir, set.name ? set.name : "dataset",
				    evalrun_method_name(opts.method), stamp);
			if (i > 1)
				strbuf_addf(&dir, "-%d", i);
			if (stat(dir.data, &st) < 0)
				break;
		}
	}

	prog.tty = isatty(2);
	evalrun_set_progress(run, show_progress, &prog);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sig_installed = 1;

	fprintf(stderr, "weft eval: %zu examples x %zu models, method %s\n", set.n,
		evalrun_model_count(run), evalrun_method_name(opts.method));
	evalrun_start(run);
	while (!evalrun_done(run)) {
		if (interrupted) {
			evalrun_cancel(run);
			break;
		}
		if (lm_engine_poll(engine, NULL, 0, 100, NULL, &err) < 0) {
			cli_error("eval", err.msg);
			evalrun_cancel(run);
			break;
		}
	}
	if (prog.tty)
		fputc('\n', stderr);

	if (mkdir(dir.data, 0777) < 0) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "cannot create %s: %s", dir.data, strerror(errno));
		cli_error("eval", sb.data);
		goto out;
	}
	if (evalrun_write(run, dir.data, &err) < 0) {
		cli_error("eval", err.msg);
		goto out;
	}
	strbuf_reset(&sb);
	evalrun_format_balance(run, &sb);
	evalrun_format_table(run, &sb);
	strbuf_addch(&sb, '\n');
	evalrun_format_plot(run, 60, 12, &sb);
	fputs(sb.data, stdout);
	strbuf_reset(&sb);
	display_sanitize(dir.data, dir.len, &sb);
	r = 0;
	for (k = 0; k < evalrun_model_count(run); k++) {
		const struct evalrun_model *m = evalrun_model(run, k);

		strbuf_reset(&prompt);
		if (m->fatal)
			strbuf_addf(&prompt, "model %s failed (%zu of %zu examples done, kept): %s",
				    m->name, m->done, set.n,
				    m->error ? m->error : "no reason given");
		else if (m->failed)
			/* examples left out are a failure too: the figures above
			 * cover only those that finished */
			strbuf_addf(&prompt,
				    "model %s: %zu of %zu examples failed and are left out "
				    "(%zu done, kept); the first failure: %s",
				    m->name, m->failed, set.n, m->done,
				    m->error ? m->error : "no reason given");
		else
			continue;
		r = 1;
		cli_error("eval", prompt.data);
	}
	if (evalrun_cancelled(run)) {
		size_t done, total;

		evalrun_progress(run, &done, &total);
		printf("interrupted: partial results (%zu of %zu finished) in %s\n", done, total,
		       sb.data);
		r = 130;
	} else {
		printf("results in %s\n", sb.data);
	}
	fflush(stdout);
out:
	if (sig_installed)
		sigaction(SIGINT, &old_int, NULL);
	evalrun_free(run);
	if (engine)
		lm_engine_free(engine);
	free(names);
	task_release(&task);
	task_release(&pairs_task);
	evalset_release(&set);
	model_sizes_release(&sizes);
	config_release(&config);
	strbuf_release(&sb);
	strbuf_release(&dir);
	strbuf_release(&prompt);
	strbuf_release(&eval_name);
	free(sets);
	free(size_specs);
	return r;
}

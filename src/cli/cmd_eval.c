#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/display.h"
#include "weft/evalbatch.h"
#include "weft/evalrun.h"
#include "weft/evalset.h"
#include "weft/lm.h"
#include "weft/outfile.h"
#include "weft/plot.h"
#include "weft/progress.h"
#include "weft/strbuf.h"
#include "weft/task.h"
#include "weft/xalloc.h"

static const char eval_usage[] =
    "usage: weft eval DATASET... --models A,B,C [--method generate|logprob]\n"
    "                 [--scoring opro|strict] [--limit N] [--out DIR] [--sizes FILE]\n"
    "                 [--size NAME=SIZE[:FAMILY]]... [--set ROLE.KEY=VALUE]...\n"
    "                 [--config FILE] [--concurrency N] [--batch] [--retry-live]\n"
    "       weft eval --resume DIR [--retry-live]\n"
    "\n"
    "Scores every example of DATASET (a session, a text file of pairs, or an\n"
    "exported classification/logodds CSV or JSONL; several, or a folder of\n"
    "sessions, are one dataset: examples in input order, those repeating an\n"
    "earlier input's question, exactly, normalised or near, left out and listed\n"
    "on stderr) with each scorer model: NAME\n"
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
    "  --batch       send the requests through the provider's Batch API (OpenAI:\n"
    "                half the price, done within 24 hours): after one live probe\n"
    "                per model, one batch per model, polled until it ends; the\n"
    "                results are those a live run writes.  The state is kept in\n"
    "                DIR/.../batch/: Ctrl-C or a crash loses nothing\n"
    "  --resume DIR  pick a batch run up where it stopped (the upload, the\n"
    "                polling, the download), with the options it was started with\n"
    "  --retry-live  send the requests a batch did not answer (failed, expired)\n"
    "                live at the end, at the live price; without it they are\n"
    "                failed examples, listed, and a later --resume DIR\n"
    "                --retry-live sends them\n"
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
	struct timespec started; /* for the rate on a terminal */
};

/* Seconds since t0 on the monotonic clock. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void show_progress(void *ctx, const struct evalrun *run)
{
	struct progress *p = ctx;
	size_t done, total, pct, i, bar = 30, fill;

	evalrun_progress(run, &done, &total);
	pct = total ? done * 100 / total : 100;
	if (p->tty) {
		struct strbuf rate = STRBUF_INIT;

		fill = total ? done * bar / total : bar;
		fputs("\r[", stderr);
		for (i = 0; i < bar; i++)
			fputs(i < fill ? "#" : " ", stderr);
		fprintf(stderr, "] %zu/%zu %3zu%%  ", done, total, pct);
		progress_rate_eta(done, total - done, seconds_since(&p->started), "requests",
				  PROGRESS_PER_SECOND, &rate);
		/* padded: a shorter line covers a longer one's end without an
		 * escape */
		fprintf(stderr, "%-38s", rate.data);
		strbuf_release(&rate);
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

struct eval_options {
	const char *const *datasets; /* borrowed from argv: every DATASET given */
	size_t ndatasets;
	const char *models, *method, *scoring, *out_dir, *sizes_path, *config_path;
	char **sets, **size_specs; /* owned arrays of borrowed flags */
	size_t nsets, nsize_specs;
	long limit, concurrency; /* -1: not given */
	struct evalrun_options run;
	int batch, retry_live; /* --batch, --retry-live */
	const char *resume;    /* --resume DIR, or NULL */
	int others;	       /* options other than --resume and --retry-live */
	int argc;	       /* the command's arguments, kept in a batch's state */
	char **argv;
};

static void eval_options_init(struct eval_options *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->method = "generate";
	o->scoring = "strict";
	o->out_dir = "results";
	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
	o->size_specs = xcalloc((size_t)argc + 1, sizeof(*o->size_specs));
	o->limit = -1;
	o->concurrency = -1;
	evalrun_options_init(&o->run);
}

static void eval_options_release(struct eval_options *o)
{
	free(o->sets);
	free(o->size_specs);
}

/* The flags that take a value and are checked after all are read; 1 when
 * one is bad (said on stderr). */
static int eval_check_values(struct eval_options *o)
{
	int bad = 0;

	if (!strcmp(o->method, "generate"))
		o->run.method = EVALRUN_GENERATE;
	else if (!strcmp(o->method, "logprob"))
		o->run.method = EVALRUN_LOGPROB;
	else {
		fputs("weft eval: --method is generate or logprob\n", stderr);
		bad = 1;
	}
	if (score_rules_parse(o->scoring, &o->run.rules) < 0) {
		fputs("weft eval: --scoring is opro or strict\n", stderr);
		bad = 1;
	}
	if (!o->models || !*o->models) {
		fputs("weft eval: --models A,B,... is required\n", stderr);
		bad = 1;
	}
	return bad;
}

/* One option c with its value; 1 when the value is bad (said). */
static int eval_option(struct eval_options *o, int c, char *v)
{
	if (c != 'R' && c != 'L')
		o->others++;
	switch (c) {
	case 'm': o->models = v; break;
	case 'M': o->method = v; break;
	case 'S': o->scoring = v; break;
	case 'o': o->out_dir = v; break;
	case 'z': o->sizes_path = v; break;
	case 'Z': o->size_specs[o->nsize_specs++] = v; break;
	case 's': o->sets[o->nsets++] = v; break;
	case 'c': o->config_path = v; break;
	case 'B': o->batch = 1; break;
	case 'R': o->resume = v; break;
	case 'L': o->retry_live = 1; break;
	case 'l':
		if (parse_count(v, 100000000L, &o->limit) < 0) {
			fputs("weft eval: --limit takes a positive number\n", stderr);
			return 1;
		}
		break;
	case 'j':
		if (parse_count(v, CONFIG_MAX_CONCURRENCY, &o->concurrency) < 0) {
			fprintf(stderr, "weft eval: --concurrency takes a number from 1 to %d\n",
				CONFIG_MAX_CONCURRENCY);
			return 1;
		}
		break;
	}
	return 0;
}

/* --resume DIR takes every other option from the batch's state: only
 * --retry-live may come with it.  Returns -1 when so, else 2 (said). */
static int eval_resume_args(struct eval_options *o, int argc)
{
	if (o->others || optind != argc) {
		fputs("weft eval: --resume DIR takes the run's options from its batch state; "
		      "only --retry-live may come with it\n",
		      stderr);
		fputs(eval_usage, stderr);
		return 2;
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int eval_parse(struct eval_options *o, int argc, char **argv)
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
	    {"batch", no_argument, NULL, 'B'},
	    {"resume", required_argument, NULL, 'R'},
	    {"retry-live", no_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, bad = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:M:S:l:o:s:c:j:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(eval_usage, stdout);
			return 0;
		}
		/* the first bad option is enough: the rest of a cluster (-xyz)
		 * would each be reported again */
		if (c == '?' || c == ':')
			return cli_option_error("eval", eval_usage, c, argv);
		bad |= eval_option(o, c, optarg);
	}
	if (o->resume)
		return eval_resume_args(o, argc);
	bad |= eval_check_values(o);
	if (optind >= argc || bad) {
		fputs(eval_usage, stderr);
		return 2;
	}
	o->datasets = (const char *const *)argv + optind;
	o->ndatasets = (size_t)(argc - optind);
	if (o->retry_live && !o->batch) {
		fputs("weft eval: --retry-live goes with --batch or --resume DIR\n", stderr);
		return 2;
	}
	if (o->concurrency > 0)
		o->run.concurrency = (int)o->concurrency;
	return -1;
}

/* Everything one evaluation holds. */
struct evaluation {
	const struct eval_options *o;
	struct config config;
	struct model_sizes sizes;
	struct evalset set;
	struct task task, pairs_task;
	struct evalrun_options opts;
	struct strbuf eval_name, dir;
	struct lm_engine *engine;
	struct evalrun *run;
};

/* The task's eval.txt asks the questions of a dataset that names it. */
static void eval_task_prompt(struct evaluation *ev)
{
	struct errbuf err;

	if (!ev->set.task || ev->opts.method != EVALRUN_GENERATE)
		return;
	if (!cli_load_task(ev->set.task, &ev->task, &err) && ev->task.eval && *ev->task.eval) {
		ev->opts.eval_prompt = ev->task.eval;
		strbuf_addf(&ev->eval_name, "%s/eval.txt", ev->task.dir);
		ev->opts.eval_prompt_name = ev->eval_name.data;
	}
}

/* The configuration, the sizes and the dataset.  Returns 0, or the exit
 * status with the error said. */
static int eval_load(struct evaluation *ev)
{
	const struct eval_options *o = ev->o;
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 1};
	struct errbuf err;
	size_t k;
	int r = cli_load_config("eval", &ev->config, &ca);

	if (r)
		return r;
	if (o->sizes_path && model_sizes_load(&ev->sizes, o->sizes_path, &err) < 0)
		return cli_error("eval", err.msg);
	for (k = 0; k < o->nsize_specs; k++)
		if (model_sizes_add_spec(&ev->sizes, o->size_specs[k], &err) < 0) {
			cli_error("eval", err.msg);
			return 2;
		}
	if (evalset_load_many(&ev->set, o->datasets, o->ndatasets, cli_task_pairs_options,
			      &ev->pairs_task, &err) < 0)
		return cli_error("eval", err.msg);
	cli_evalset_warnings("eval", &ev->set); /* torn journal lines: said, not fatal */
	cli_evalset_repeats(stderr, &ev->set);
	cli_dataset_mixing("eval", ", and the questions asked with the first one's eval.txt",
			   ev->set.tasks_differ, 0);
	if (o->limit > 0)
		evalset_truncate(&ev->set, (size_t)o->limit);
	eval_task_prompt(ev);
	return 0;
}

/* The scorer role for name; NULL when there is none (said). */
static struct config_role *eval_role(struct evaluation *ev, const char *name)
{
	struct config_role *role = config_scorer(&ev->config, name);
	struct strbuf msg = STRBUF_INIT;

	if (role && config_role_configured(role))
		return role;
	/* not a configured scorer: a model on the default endpoint, and the
	 * output says so */
	role = config_model_scorer(&ev->config, name);
	if (!role)
		strbuf_addf(&msg,
			    "unknown model '%s': no scorer.%s with a model in the "
			    "configuration, nor a model id (add a [scorer.NAME] section with "
			    "model = ..., or give --set scorer.NAME.model=MODEL)",
			    name, name);
	else
		strbuf_addf(&msg, "'%s' is not a configured scorer: scoring model '%s' on %s", name,
			    role->model, default_endpoint(role));
	cli_error("eval", msg.data);
	strbuf_release(&msg);
	return role;
}

/* The size of the model name asks for: the flags', the role's, else weft's
 * table of well-known models (said when used); NULL for the role's own. */
static const struct model_size *eval_size(struct evaluation *ev, const char *name,
					  const struct config_role *role)
{
	const struct model_size *ms = model_sizes_find(&ev->sizes, name);
	struct strbuf msg = STRBUF_INIT;
	int from_table = 0;

	if (!ms && role->model)
		ms = model_sizes_find(&ev->sizes, role->model);
	if (ms || role->size > 0)
		return ms;
	ms = model_sizes_find_known(&ev->sizes, name, &from_table);
	if (!ms && role->model)
		ms = model_sizes_find_known(&ev->sizes, role->model, &from_table);
	if (ms && from_table) {
		strbuf_addf(&msg,
			    "size of '%s' from weft's table of known models: %.3g (%s); --size "
			    "NAME=SIZE to change it",
			    name, ms->size, ms->family);
		cli_error("eval", msg.data);
	}
	strbuf_release(&msg);
	return ms;
}

/* Adds the models --models names, each once.  Returns 0, or the exit
 * status with the error said. */
static int eval_add_models(struct evaluation *ev)
{
	char *names = xstrdup(ev->o->models), *save = NULL, *name;
	size_t k;
	int r = 0;

	for (name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		struct config_role *role;
		const struct model_size *ms;

		while (*name == ' ')
			name++;
		if (!*name)
			continue;
		for (k = 0; k < evalrun_model_count(ev->run); k++)
			if (!strcmp(evalrun_model(ev->run, k)->name, name))
				break;
		if (k < evalrun_model_count(ev->run))
			continue; /* named twice */
		role = eval_role(ev, name);
		if (!role) {
			r = 1;
			break;
		}
		ms = eval_size(ev, name, role);
		evalrun_add_model(ev->run, name, role, ms ? ms->size : role->size,
				  ms ? ms->family : role->family);
	}
	free(names);
	if (!r && !evalrun_model_count(ev->run)) {
		fputs("weft eval: --models names no model\n", stderr);
		r = 2;
	}
	return r;
}

/* Sets ev->dir to a results folder that does not exist yet, in --out
 * (made when missing).  Returns 0, or 1 with the error said. */
static int eval_results_dir(struct evaluation *ev)
{
	const char *out_dir = ev->o->out_dir;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (make_dirs(out_dir) < 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "cannot create %s: %s", out_dir, strerror(errno));
		cli_error("eval", msg.data);
		strbuf_release(&msg);
		return 1;
	}
	for (i = 1;; i++) {
		strbuf_reset(&ev->dir);
		strbuf_addf(&ev->dir, "%s/%s-%s-%s", out_dir,
			    ev->set.name ? ev->set.name : "dataset",
			    evalrun_method_name(ev->opts.method), stamp);
		if (i > 1)
			strbuf_addf(&ev->dir, "-%d", i);
		if (stat(ev->dir.data, &st) < 0)
			return 0;
	}
}

/* Runs every request until all are done, Ctrl-C or an engine error. */
static void eval_wait(struct evaluation *ev)
{
	struct progress prog;
	struct errbuf err;

	memset(&prog, 0, sizeof(prog));
	prog.tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &prog.started);
	evalrun_set_progress(ev->run, show_progress, &prog);
	fprintf(stderr, "weft eval: %zu examples x %zu models, method %s\n", ev->set.n,
		evalrun_model_count(ev->run), evalrun_method_name(ev->opts.method));
	evalrun_start(ev->run);
	while (!evalrun_done(ev->run)) {
		if (interrupted) {
			evalrun_cancel(ev->run);
			break;
		}
		if (lm_engine_poll(ev->engine, NULL, 0, 100, NULL, &err) < 0) {
			cli_error("eval", err.msg);
			evalrun_cancel(ev->run);
			break;
		}
	}
	if (prog.tty)
		fputc('\n', stderr);
}

/* Each model that failed, said; 1 when any did, else 0. */
static int eval_failures(const struct evaluation *ev)
{
	struct strbuf msg = STRBUF_INIT;
	size_t k, n = ev->set.n;
	int r = 0;

	for (k = 0; k < evalrun_model_count(ev->run); k++) {
		const struct evalrun_model *m = evalrun_model(ev->run, k);
		const char *why = m->error ? m->error : "no reason given";

		strbuf_reset(&msg);
		if (m->fatal)
			strbuf_addf(&msg, "model %s failed (%zu of %zu examples done, kept): %s",
				    m->name, m->done, n, why);
		else if (m->failed)
			/* examples left out are a failure too: the figures above
			 * cover only those that finished */
			strbuf_addf(&msg,
				    "model %s: %zu of %zu examples failed and are left out "
				    "(%zu done, kept); the first failure: %s",
				    m->name, m->failed, n, m->done, why);
		else
			continue;
		r = 1;
		cli_error("eval", msg.data);
	}
	strbuf_release(&msg);
	return r;
}

/* Writes the results folder and prints the tables; returns the exit
 * status. */
static int eval_report(struct evaluation *ev)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	int r = 1;

	if (mkdir(ev->dir.data, 0777) < 0 && !(ev->o->batch && errno == EEXIST)) {
		strbuf_addf(&sb, "cannot create %s: %s", ev->dir.data, strerror(errno));
		cli_error("eval", sb.data);
	} else if (evalrun_write(ev->run, ev->dir.data, &err) < 0) {
		cli_error("eval", err.msg);
	} else {
		evalrun_format_balance(ev->run, &sb);
		evalrun_format_table(ev->run, &sb);
		strbuf_addch(&sb, '\n');
		evalrun_format_plot(ev->run, 60, 12, &sb);
		fputs(sb.data, stdout);
		strbuf_reset(&sb);
		display_sanitize(ev->dir.data, ev->dir.len, &sb);
		r = eval_failures(ev);
		if (evalrun_cancelled(ev->run)) {
			size_t done, total;

			evalrun_progress(ev->run, &done, &total);
			printf("interrupted: partial results (%zu of %zu finished) in %s\n", done,
			       total, sb.data);
			r = 130;
		} else {
			printf("results in %s\n", sb.data);
		}
		fflush(stdout);
	}
	strbuf_release(&sb);
	return r;
}

static int eval_start(struct evaluation *ev)
{
	struct errbuf err;
	int r = eval_load(ev);

	if (r)
		return r;
	ev->engine = cli_start_engine(&ev->config);
	ev->run = evalrun_new(ev->engine, &ev->set, &ev->opts, &err);
	if (!ev->run)
		return cli_error("eval", err.msg);
	r = eval_add_models(ev);
	if (!r && ev->o->resume)
		strbuf_addstr(&ev->dir, ev->o->resume);
	else if (!r)
		r = eval_results_dir(ev);
	return r;
}

/* A batch's step or status, said on stderr. */
static void show_batch(void *ctx, const struct evalbatch_model *m)
{
	struct strbuf line = STRBUF_INIT, safe = STRBUF_INIT;

	(void)ctx;
	strbuf_addf(&line, "model %s: ", m->name);
	if (m->step == EVALBATCH_CREATE)
		strbuf_addf(&line, "uploaded as %s", m->input_file ? m->input_file : "?");
	else if (m->step == EVALBATCH_DONE)
		strbuf_addf(&line, "batch %s %s: downloaded", m->batch ? m->batch : "?",
			    m->status ? m->status : "?");
	else
		strbuf_addf(&line, "batch %s %s", m->batch ? m->batch : "?",
			    m->status ? m->status : "?");
	if (m->step != EVALBATCH_CREATE && m->total >= 0)
		strbuf_addf(&line, " (%ld of %ld done, %ld failed)", m->completed, m->total,
			    m->failed);
	display_sanitize(line.data, line.len, &safe);
	fprintf(stderr, "weft eval: %s\n", safe.data);
	strbuf_release(&line);
	strbuf_release(&safe);
}

/* The requests each model's batch did not answer, said with what to do. */
static void eval_batch_unanswered(const struct evaluation *ev, const struct evalbatch_state *st)
{
	struct strbuf msg = STRBUF_INIT, dir = STRBUF_INIT;
	size_t i;

	display_sanitize(ev->dir.data, ev->dir.len, &dir);
	for (i = 0; i < st->nmodels; i++) {
		const struct evalbatch_model *m = &st->models[i];

		if (!m->unanswered)
			continue;
		strbuf_reset(&msg);
		strbuf_addf(&msg, "model %s: %zu requests not answered by batch %s (%s)%s%s",
			    m->name, m->unanswered, m->batch ? m->batch : "?",
			    m->status ? m->status : "?",
			    ev->o->retry_live ? ": sent live" : "; `weft eval --resume ",
			    ev->o->retry_live ? "" : dir.data);
		if (!ev->o->retry_live)
			strbuf_addstr(&msg,
				      " --retry-live` sends them live (the listed errors are in "
				      "batch/NAME.errors.jsonl)");
		cli_error("eval", msg.data);
	}
	strbuf_release(&msg);
	strbuf_release(&dir);
}

/* The run through the provider's batches.  Returns -1 when the results
 * are to be written, else the exit status (said). */
static int eval_batch(struct evaluation *ev, struct evalbatch_state *st)
{
	struct evalbatch_options bo;
	struct strbuf dir = STRBUF_INIT;
	struct errbuf err;
	const char *poll = getenv("WEFT_BATCH_POLL_MS");
	int rc;

	if (mkdir(ev->dir.data, 0777) < 0 && errno != EEXIST) {
		strbuf_addf(&dir, "cannot create %s: %s", ev->dir.data, strerror(errno));
		cli_error("eval", dir.data);
		strbuf_release(&dir);
		return 1;
	}
	evalbatch_options_init(&bo);
	bo.retry_live = ev->o->retry_live;
	bo.stop = &interrupted;
	bo.status = show_batch;
	if (poll && atol(poll) > 0) {
		bo.poll_ms = atol(poll);
		bo.poll_max_ms = bo.poll_ms * 4;
	}
	fprintf(stderr, "weft eval: %zu examples x %zu models, method %s, in batches\n", ev->set.n,
		evalrun_model_count(ev->run), evalrun_method_name(ev->opts.method));
	rc = evalbatch_run(ev->run, ev->dir.data, st, &bo, &err);
	display_sanitize(ev->dir.data, ev->dir.len, &dir);
	if (rc == EVALBATCH_STOPPED && !st->nmodels) {
		printf("interrupted during the probes, before any batch: nothing to resume\n");
		rc = 130;
	} else if (rc == EVALBATCH_STOPPED) {
		printf("interrupted: the batches go on at the provider; `weft eval --resume %s` "
		       "picks them up\n",
		       dir.data);
		rc = 130;
	} else if (rc < 0) {
		cli_error("eval", err.msg);
		fprintf(stderr, "weft eval: the batch state is kept: `weft eval --resume %s`\n",
			dir.data);
		rc = 1;
	} else {
		eval_batch_unanswered(ev, st);
		rc = -1;
	}
	strbuf_release(&dir);
	return rc;
}

/* Whether arg holds a URL with a user name or password ("://user:pass@"
 * before the path). */
static int has_url_credentials(const char *arg)
{
	const char *p = strstr(arg, "://");

	for (; p; p = strstr(p + 3, "://")) {
		size_t auth = strcspn(p + 3, "/?#");

		if (memchr(p + 3, '@', auth))
			return 1;
	}
	return 0;
}

/* A new batch's state: the arguments that start it again, but
 * --retry-live (asked for each time).  Returns 0, or 2 (said) when one
 * cannot be kept in the state's lines. */
static int eval_batch_state(const struct eval_options *o, struct evalbatch_state *st)
{
	int i;

	for (i = 1; i < o->argc; i++) {
		const char *p;

		if (!strcmp(o->argv[i], "--retry-live"))
			continue;
		for (p = o->argv[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(stderr,
					"weft eval: argument %d has a control character: --batch "
					"keeps the arguments in its state file, one a line\n",
					i);
				return 2;
			}
		if (has_url_credentials(o->argv[i])) {
			/* the state file keeps the arguments: no password in it */
			fprintf(stderr,
				"weft eval: argument %d%s%s has a URL with a user name or "
				"password (user:pass@): --batch keeps the arguments in its state "
				"file; give the key through api_key_env instead\n",
				i, i > 1 ? " after " : "", i > 1 ? o->argv[i - 1] : "");
			return 2;
		}
		evalbatch_state_add_arg(st, o->argv[i]);
	}
	return 0;
}

static int eval_run(const struct eval_options *o, struct evalbatch_state *st)
{
	struct evaluation ev;
	struct errbuf err;
	/* --out is a folder to write a new run folder into: it may exist,
	 * but never be one of the files read */
	const char **inputs = xcalloc(o->ndatasets + 2, sizeof(*inputs));
	size_t k;
	int r;

	for (k = 0; k < o->ndatasets; k++)
		inputs[k] = o->datasets[k];
	inputs[k++] = o->sizes_path;
	inputs[k++] = o->config_path;
	r = outfile_check(o->out_dir, inputs, k, 1, &err);
	free(inputs);
	if (r) {
		cli_error("eval", err.msg);
		return 2;
	}
	memset(&ev, 0, sizeof(ev));
	ev.o = o;
	ev.opts = o->run;
	config_init(&ev.config);
	model_sizes_init(&ev.sizes);
	evalset_init(&ev.set);
	task_init(&ev.task);
	task_init(&ev.pairs_task);
	strbuf_init(&ev.eval_name);
	strbuf_init(&ev.dir);
	r = eval_start(&ev);
	if (!r) {
		/* Ctrl-C stops the requests and keeps what finished, written
		 * out whole */
		struct sigaction sa, old_int;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigemptyset(&sa.sa_mask);
		interrupted = 0;
		sigaction(SIGINT, &sa, &old_int);
		if (o->batch) {
			r = eval_batch(&ev, st);
		} else {
			eval_wait(&ev);
			r = -1;
		}
		if (r < 0)
			r = eval_report(&ev);
		sigaction(SIGINT, &old_int, NULL);
	}
	evalrun_free(ev.run);
	if (ev.engine)
		lm_engine_free(ev.engine);
	task_release(&ev.task);
	task_release(&ev.pairs_task);
	evalset_release(&ev.set);
	model_sizes_release(&ev.sizes);
	config_release(&ev.config);
	strbuf_release(&ev.eval_name);
	strbuf_release(&ev.dir);
	return r;
}

/* --resume DIR: the run's options from DIR's batch state, run again on
 * that state. */
static int eval_resume(const struct eval_options *given)
{
	static char name[] = "eval";
	struct evalbatch_state st;
	struct eval_options o;
	struct errbuf err;
	char **argv;
	size_t i;
	int r;

	evalbatch_state_init(&st);
	if (evalbatch_state_load(&st, given->resume, &err) < 0) {
		cli_error("eval", err.msg);
		return 2;
	}
	argv = xcalloc(st.nargs + 2, sizeof(*argv));
	argv[0] = name;
	for (i = 0; i < st.nargs; i++)
		argv[i + 1] = st.args[i];
	eval_options_init(&o, (int)st.nargs + 1);
	r = eval_parse(&o, (int)st.nargs + 1, argv);
	if (r < 0 && (!o.batch || o.resume)) {
		fprintf(stderr, "weft eval: %s/batch/state: its arguments are not a --batch run\n",
			given->resume);
		r = 2;
	}
	if (r < 0) {
		o.resume = given->resume;
		o.retry_live = given->retry_live;
		r = eval_run(&o, &st);
	}
	eval_options_release(&o);
	free(argv);
	evalbatch_state_release(&st);
	return r;
}

int cmd_eval(int argc, char **argv)
{
	struct eval_options o;
	int r;

	eval_options_init(&o, argc);
	r = eval_parse(&o, argc, argv);
	if (r < 0 && o.resume) {
		r = eval_resume(&o);
	} else if (r < 0) {
		struct evalbatch_state st;

		evalbatch_state_init(&st);
		o.argc = argc;
		o.argv = argv;
		r = o.batch ? eval_batch_state(&o, &st) : 0;
		if (!r)
			r = eval_run(&o, &st);
		evalbatch_state_release(&st);
	}
	eval_options_release(&o);
	return r;
}

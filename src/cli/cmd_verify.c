/*
 * weft verify: the verifier model checks the label of every pair on the
 * chosen path (verify.h), the verdicts are stored in the session
 * (pairstore.h) as they come, and a summary says how many labels hold.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/curate.h"
#include "weft/dataset.h"
#include "weft/evalbatch.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/lmbatch.h"
#include "weft/num.h"
#include "weft/pairs.h"
#include "weft/pairstore.h"
#include "weft/safetext.h"
#include "weft/session.h"
#include "weft/task.h"
#include "weft/tree.h"
#include "weft/verify.h"
#include "weft/xalloc.h"

static const char verify_usage[] =
    "usage: weft verify FILE... [--limit N] [--min-confidence P] [--reject-below P]\n"
    "                        [--task NAME] [--set ROLE.KEY=VALUE]... [--config FILE]\n"
    "                        [--batch]\n"
    "\n"
    "Asks the verifier model, once per pair on the chosen path, whether the\n"
    "pair is what the task wants (the task's verify.txt), stores each verdict\n"
    "in the session as it comes, and prints the label-validity rate overall and\n"
    "per label with 95% intervals, the pairs below the threshold, and how the\n"
    "verifier agrees with the person's keep/reject decisions.  Pairs verified\n"
    "before with the same text, label and verifier model are not asked again,\n"
    "so an interrupted run is finished by running it again.\n"
    "Several FILEs (or a folder: its *.json sessions in name order) are one\n"
    "dataset, as in weft extract: each pair verified with its own session's\n"
    "task, its verdict stored in the session it came from (every session\n"
    "locked while the run lasts); a pair repeating an earlier session's is\n"
    "not asked about, and listed on stderr.\n"
    "  -l, --limit N            the first N pairs of the path (of the dataset) only\n"
    "  -m, --min-confidence P   a pair is valid when the verifier's p >= P, and\n"
    "                           listed when below (default 0.5)\n"
    "  -r, --reject-below P     reject (by the verifier) every pair with p < P\n"
    "                           that nobody decided on; a person can overturn it\n"
    "  -t, --task NAME          the task, when the session does not name one\n"
    "  -s, --set R.K=V          a configuration setting, e.g. verifier.model=gpt-4o\n"
    "  -c, --config FILE        the configuration file (default\n"
    "                           $XDG_CONFIG_HOME/weft/config, else ~/.config/weft/config)\n"
    "  -b, --batch              ask through the provider's Batch API (OpenAI: half\n"
    "                           the price, within 24 hours), kept in FILE.verify/batch/\n"
    "                           of the first FILE:\n"
    "                           an interrupted run is picked up by running it again;\n"
    "                           pairs the batch did not answer get no verdict (a\n"
    "                           rerun without --batch asks them live)\n"
    "\n"
    "Exit status: 0 done; 1 error (no verifier configured, the task has no\n"
    "verify.txt, a pair's request failed or its answer was neither Yes nor\n"
    "No: those are not stored and a rerun asks again; the session is open for\n"
    "writing in another weft); 2 usage or configuration; 130 interrupted (the\n"
    "verdicts that came are kept).\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct verify_options {
	const char *const *args; /* every FILE given (argv), files or folders */
	size_t nargs;
	const char *task, *config_path;
	long limit;	       /* 0: every pair */
	double min_confidence; /* the validity threshold */
	double reject_below;   /* < 0: no rejections */
	char **sets;	       /* the --set flags, owned (the strings borrowed) */
	size_t nsets;
	int batch; /* --batch */
};

static void verify_options_init(struct verify_options *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->min_confidence = VERIFY_DEFAULT_THRESHOLD;
	o->reject_below = -1;
	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
}

/* A probability option's value; -1 with the error said when it is none. */
static int probability_arg(const char *name, const char *v, double *out)
{
	if (num_parse_double(v, 0, 1, out) == 0)
		return 0;
	safetext_printf(stderr, "weft verify: %s takes a number from 0 to 1, not '%s'\n", name, v);
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int verify_parse(struct verify_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"limit", required_argument, NULL, 'l'},
	    {"min-confidence", required_argument, NULL, 'm'},
	    {"reject-below", required_argument, NULL, 'r'},
	    {"task", required_argument, NULL, 't'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"batch", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, bad = 0;
	char *end;

	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":l:m:r:t:s:c:bh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->limit = strtol(optarg, &end, 10);
			if (*end || o->limit < 1) {
				fputs("weft verify: --limit takes a number from 1 up\n", stderr);
				bad = 1;
			}
			break;
		case 'm':
			bad |= probability_arg("--min-confidence", optarg, &o->min_confidence) < 0;
			break;
		case 'r':
			bad |= probability_arg("--reject-below", optarg, &o->reject_below) < 0;
			break;
		case 't': o->task = optarg; break;
		case 's': o->sets[o->nsets++] = optarg; break;
		case 'c': o->config_path = optarg; break;
		case 'b': o->batch = 1; break;
		case 'h': fputs(verify_usage, stdout); return 0;
		default: return cli_option_error("verify", verify_usage, c, argv);
		}
	}
	if (bad || optind >= argc) {
		fputs(verify_usage, stderr);
		return 2;
	}
	o->args = (const char *const *)argv + optind;
	o->nargs = (size_t)(argc - optind);
	return -1;
}

/* One pair on the chosen path, and what became of it. */
struct item {
	size_t session;	  /* the session it came from, into verification.sessions */
	size_t number;	  /* 1-based place on the path (in the dataset, when several) */
	uint32_t node;	  /* the answer's node */
	char *question;	  /* owned */
	char *answer;	  /* owned */
	char *label;	  /* owned: the label now (a relabel's, else the answer's) */
	int person_keeps; /* -1: a verifier decided, so no person's decision */
	int has_verdict, asked;
	double p;
	char *error; /* owned; why the pair has no verdict, or NULL */
};

/* Everything one run needs. */
struct verification {
	const struct verify_options *o;
	struct dataset_inputs inputs; /* the session files, in order */
	struct cli_session *sessions; /* one per input, each locked */
	size_t nsessions;
	struct strbuf names; /* the session files, as the summary names them */
	struct config config;
	const struct config_role *role;
	struct item *items;
	size_t count;
	size_t *asking; /* items[asking[k]] is the run's pair k */
	size_t nasking, failed, rejected;
	int journal_failed;
};

/* The verifier, configured, and the task's verify prompt.  Returns 0, or
 * the exit status with the error said. */
static int verification_models(struct verification *w)
{
	const struct verify_options *o = w->o;
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 0};
	size_t k;
	int r = cli_load_config("verify", &w->config, &ca);

	if (r)
		return r;
	w->role = config_role(&w->config, "verifier");
	if (!config_role_configured(w->role)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg,
			      "no model configured for the verifier: set [verifier] model in ");
		cli_config_path(o->config_path, &msg);
		strbuf_addstr(&msg, ", or WEFT_VERIFIER_MODEL (see README Configuration)");
		cli_error("verify", msg.data);
		strbuf_release(&msg);
		return 1;
	}
	for (k = 0; k < w->nsessions; k++)
		if (!w->sessions[k].task.verify) {
			safetext_printf(
			    stderr,
			    "weft verify: task %s has no verify.txt: write one (docs/commands.md, "
			    "Tasks) to verify its pairs\n",
			    w->sessions[k].task.name);
			return 1;
		}
	return 0;
}

/* Every pair of the chosen path, curated (curate.h: relabels applied)
 * with the rejected ones kept in their place: the verifier checks them
 * too, and the agreement needs the person's rejections.  Returns 0, or -1
 * with err set; release r either way. */
static int path_pairs(const struct cli_session *s, struct pairs_result *r, double *near,
		      struct errbuf *err)
{
	struct dataset_args a;
	struct dataset_input in;
	int ret;

	memset(&a, 0, sizeof(a));
	memset(r, 0, sizeof(*r));
	task_pairs_options(&s->task, &a.pairs);
	*near = a.pairs.near_threshold;
	curate_options_init(&a.curate);
	a.curate.include_rejected = 1;
	dataset_input_from_tree(s->tree, &in);
	in.tree = s->tree;
	ret = dataset_extract(&a, &in, r, err);
	in.tree = NULL; /* the session's, not the input's to free */
	dataset_input_release(&in);
	return ret < 0 ? -1 : 0;
}

/* The person's word on a curated pair: 1 keeps (the default, or a
 * relabel), 0 rejects, -1 a verifier decided, so no person did. */
static int person_keeps(const struct pair *p)
{
	if (p->decision != PAIRSTORE_KEPT && p->decided_by == PAIRSTORE_BY_VERIFIER)
		return -1;
	return p->decision != PAIRSTORE_REJECTED;
}

/* Every session's pairs as one dataset (dataset.h: a repeat of an earlier
 * session's pair is left out, and said).  Returns 0, or 1 with the error
 * said. */
static int merged_pairs(struct verification *w, struct dataset *d)
{
	struct errbuf err;
	size_t k;

	for (k = 0; k < w->nsessions; k++) {
		const struct cli_session *s = &w->sessions[k];
		struct pairs_result r;
		double near;

		if (path_pairs(s, &r, &near, &err) ||
		    dataset_add(d, w->inputs.paths[k], s->task_name.len ? s->task_name.data : NULL,
				&r, near, &err)) {
			pairs_result_release(&r);
			if (w->nsessions > 1)
				errbuf_prefix(&err, "%s", w->inputs.paths[k]);
			return cli_error("verify", err.msg);
		}
	}
	cli_dataset_repeats(stderr, d);
	cli_dataset_mixing("verify", ", its pairs verified with that task's verify.txt",
			   d->tasks_differ, d->labels_differ);
	return 0;
}

/* The pairs of the chosen paths, with their decisions and cached verdicts.
 * Returns 0, or 1 with the error said. */
static int collect_items(struct verification *w)
{
	struct dataset d;
	struct pairstore_verdict v;
	size_t i, n;

	dataset_init(&d);
	if (merged_pairs(w, &d)) {
		dataset_release(&d);
		return 1;
	}
	n = w->o->limit && (size_t)w->o->limit < d.r.count ? (size_t)w->o->limit : d.r.count;
	w->items = xcalloc(n ? n : 1, sizeof(*w->items));
	for (i = 0; i < n; i++) {
		const struct pair *pr = &d.r.pairs[i];
		struct item *it = &w->items[w->count];
		const struct tree *t = w->sessions[d.source[i]].tree;

		it->node = pr->node_id ? tree_find(t, pr->node_id) : TREE_NONE;
		if (it->node == TREE_NONE)
			continue; /* not from a node: nowhere to store a verdict */
		it->session = d.source[i];
		it->number = i + 1;
		it->question = xstrdup(pr->question);
		it->answer = xstrdup(pr->answer);
		it->label = xstrdup(d.r.labels[pr->class_index]);
		it->person_keeps = person_keeps(pr);
		memset(&v, 0, sizeof(v));
		if (pairstore_find_verdict(t, it->node, it->question, it->answer, w->role->model,
					   &v) &&
		    !strcmp(v.label, it->label)) {
			it->has_verdict = 1;
			it->p = v.p;
		}
		pairstore_verdict_release(&v);
		w->count++;
	}
	dataset_release(&d);
	return 0;
}

/* The pairs of one session asked in one verify run: w->asking[first..). */
struct verify_batch {
	struct verification *w;
	size_t first;
};

/* A verdict that came: stored on the pair's node in the session it came
 * from and journalled there at once, so an interrupted run keeps it. */
static void on_verdict(void *ctx, size_t index, const struct verify_verdict *v,
		       const struct errbuf *err)
{
	struct verify_batch *b = ctx;
	struct verification *w = b->w;
	struct item *it = &w->items[w->asking[b->first + index]];
	struct cli_session *s = &w->sessions[it->session];
	const char *path = w->inputs.paths[it->session];
	struct pairstore_verdict pv;
	struct errbuf e;

	if (!v) {
		it->error = xstrdup(err->msg);
		w->failed++;
		return;
	}
	memset(&pv, 0, sizeof(pv));
	pv.question = it->question;
	pv.answer = it->answer;
	pv.label = it->label;
	pv.verifier = w->role->model;
	pv.p = v->p;
	pairstore_source_parse(verify_source_name(v->source), &pv.source);
	if (pairstore_add_verdict(s->tree, NULL, it->node, &pv, &e) == 0 &&
	    journal_append_verdict(path, s->tree, it->node, it->question, it->answer,
				   w->role->model, &e) == 0) {
		it->has_verdict = 1;
		it->p = v->p;
		return;
	}
	it->error = xstrdup(e.msg);
	w->failed++;
	w->journal_failed = 1;
}

/* Removes a finished batch's folder (the files evalbatch_requests keeps
 * there, then the folders if empty): its answers are in the journal. */
static void batch_remove(const char *dir)
{
	static const char *const names[] = {"state", "verifier.input.jsonl",
					    "verifier.output.jsonl", "verifier.errors.jsonl"};
	struct strbuf path = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/batch/%s", dir, names[i]);
		unlink(path.data);
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/batch", dir);
	rmdir(path.data);
	rmdir(dir);
	strbuf_release(&path);
}

/* A batch's step or status, said on stderr. */
static void show_batch(void *ctx, const struct evalbatch_model *m)
{
	(void)ctx;
	if (!m->batch)
		safetext_printf(stderr, "weft verify: uploaded as %s\n",
				m->input_file ? m->input_file : "?");
	else if (m->total < 0)
		safetext_printf(stderr, "weft verify: batch %s %s\n", m->batch,
				m->status ? m->status : "?");
	else
		safetext_printf(stderr, "weft verify: batch %s %s (%ld of %ld done, %ld failed)\n",
				m->batch, m->status ? m->status : "?", m->completed, m->total,
				m->failed);
}

/* --batch: the pairs of w->asking through one batch, kept in FILE.verify/
 * beside the first session given (removed once every answer is in the
 * journals), each pair asked with its own session's task.  Returns 0, or
 * the exit status with the error said. */
static int ask_batch(struct verification *w, const struct verify_pair *pairs)
{
	struct lm_request *reqs = xcalloc(w->nasking ? w->nasking : 1, sizeof(*reqs));
	struct lm_batch_result *res = xcalloc(w->nasking ? w->nasking : 1, sizeof(*res));
	struct evalbatch_options bo;
	struct verify_batch all = {w, 0}; /* on_verdict's index: into w->asking */
	struct strbuf dir = STRBUF_INIT;
	struct errbuf err;
	size_t i, made = 0;
	int rc = 0;

	strbuf_addf(&dir, "%s.verify", w->inputs.paths[0]);
	for (i = 0; i < w->nasking && !rc; i++, made++) {
		const struct task *task = &w->sessions[w->items[w->asking[i]].session].task;

		lm_request_init(&reqs[i]);
		lm_batch_result_init(&res[i]);
		rc = verify_request(w->role, task->verify, task->description, &pairs[i], &reqs[i],
				    &err);
	}
	evalbatch_options_init(&bo);
	bo.stop = &interrupted;
	bo.status = show_batch;
	if (getenv("WEFT_BATCH_POLL_MS") && atol(getenv("WEFT_BATCH_POLL_MS")) > 0) {
		bo.poll_ms = atol(getenv("WEFT_BATCH_POLL_MS"));
		bo.poll_max_ms = bo.poll_ms * 4;
	}
	if (!rc)
		rc = evalbatch_requests(dir.data, "verifier", reqs, w->nasking, &bo, res, &err);
	for (i = 0; i < w->nasking && !rc && !w->journal_failed; i++) {
		struct verify_verdict v;
		struct errbuf bad;

		if (res[i].error)
			errbuf_set(&bad, "%s", res[i].error);
		else if (!res[i].resp.nchoices)
			errbuf_set(&bad, "the verifier's reply has no answer");
		if (res[i].error || !res[i].resp.nchoices ||
		    verify_read_choice(&res[i].resp.choices[0], &v, &bad) < 0)
			on_verdict(&all, i, NULL, &bad);
		else
			on_verdict(&all, i, &v, NULL);
	}
	if (!rc && !w->journal_failed)
		batch_remove(dir.data);
	for (i = 0; i < made; i++) {
		lm_request_release(&reqs[i]);
		lm_batch_result_release(&res[i]);
	}
	free(reqs);
	free(res);
	if (rc == EVALBATCH_STOPPED)
		rc = 0; /* interrupted: said by the caller, the state kept */
	else if (rc)
		rc = cli_error("verify", err.msg);
	strbuf_release(&dir);
	return rc;
}

/* Asks the verifier about every pair without a verdict (one run per
 * session, with its task's prompt), polling the engine until all came,
 * the journal failed or the run was interrupted.  Returns 0, or 1 with
 * the error said. */
static int ask_missing(struct verification *w)
{
	struct verify_pair *pairs = xcalloc(w->count ? w->count : 1, sizeof(*pairs));
	struct verify_batch *batches = xcalloc(w->nsessions, sizeof(*batches));
	struct verify_run **runs = xcalloc(w->nsessions, sizeof(*runs));
	struct lm_engine *engine = cli_start_engine(&w->config);
	struct errbuf err;
	size_t i, k, pending = 1;
	int r = 0;

	w->asking = xcalloc(w->count ? w->count : 1, sizeof(*w->asking));
	for (k = 0; k < w->nsessions; k++) {
		batches[k].w = w;
		batches[k].first = w->nasking;
		for (i = 0; i < w->count; i++) {
			if (w->items[i].has_verdict || w->items[i].session != k)
				continue;
			w->items[i].asked = 1;
			pairs[w->nasking].question = w->items[i].question;
			pairs[w->nasking].answer = w->items[i].answer;
			pairs[w->nasking].label = w->items[i].label;
			w->asking[w->nasking++] = i;
		}
	}
	if (w->o->batch && w->nasking) {
		pending = 0;
		r = ask_batch(w, pairs);
	}
	for (k = 0; k < w->nsessions && !r && pending; k++) {
		const struct task *task = &w->sessions[k].task;
		size_t end = k + 1 < w->nsessions ? batches[k + 1].first : w->nasking;

		runs[k] = verify_start(engine, w->role, task->verify, task->description,
				       pairs + batches[k].first, end - batches[k].first, on_verdict,
				       &batches[k], &err);
		if (!runs[k])
			r = cli_error("verify", err.msg);
	}
	while (!r && pending && !interrupted && !w->journal_failed) {
		for (k = 0, pending = 0; k < w->nsessions; k++)
			pending += verify_pending(runs[k]);
		if (pending && lm_engine_poll(engine, NULL, 0, 200, NULL, &err) < 0)
			r = cli_error("verify", err.msg);
	}
	for (k = 0; k < w->nsessions; k++)
		verify_run_free(runs[k]);
	lm_engine_free(engine);
	free(runs);
	free(batches);
	free(pairs);
	return r;
}

/* --reject-below: pairs under it that nobody decided on are rejected by
 * the verifier, each journalled.  Returns 0, or 1 with the error said. */
static int reject_below(struct verification *w)
{
	struct errbuf err;
	size_t i;

	for (i = 0; i < w->count && w->o->reject_below >= 0; i++) {
		struct item *it = &w->items[i];
		struct tree *t = w->sessions[it->session].tree;
		struct pairstore_mark m, prev;

		if (!it->has_verdict || it->p >= w->o->reject_below)
			continue;
		if (pairstore_get(t, it->node, it->question, &prev)) {
			pairstore_mark_release(&prev);
			continue; /* a decision stands: the verifier does not overrule it */
		}
		pairstore_mark_release(&prev);
		memset(&m, 0, sizeof(m));
		m.question = it->question;
		m.decision = PAIRSTORE_REJECTED;
		m.by = PAIRSTORE_BY_VERIFIER;
		if (pairstore_set(t, NULL, it->node, &m, NULL, &err) ||
		    journal_append_decision(w->inputs.paths[it->session], t, it->node, it->question,
					    &err))
			return cli_error("verify", err.msg);
		it->person_keeps = -1;
		w->rejected++;
	}
	return 0;
}

/* "62.5% (25/40), 95% interval 47.0%-75.8%" */
static void print_rate(const char *what, size_t valid, size_t total)
{
	struct verify_rate rate;

	verify_rate_compute(&rate, valid, total);
	fputs(what, stdout);
	if (!total) {
		fputs(": no pairs\n", stdout);
		return;
	}
	printf(": %.1f%% (%zu/%zu), 95%% interval %.1f%%-%.1f%%\n", 100 * rate.rate, valid, total,
	       100 * rate.low, 100 * rate.high);
}

/* "  LABEL: rate" of the verified pairs with that label. */
static void print_label_rate(const struct verification *w, const char *label)
{
	struct strbuf what = STRBUF_INIT;
	size_t i, n = 0, valid = 0;

	for (i = 0; i < w->count; i++) {
		const struct item *it = &w->items[i];

		if (it->has_verdict && !strcmp(it->label, label)) {
			n++;
			valid += it->p >= w->o->min_confidence;
		}
	}
	strbuf_addstr(&what, "  ");
	safetext_append(&what, label, strlen(label), 0);
	print_rate(what.data, valid, n);
	strbuf_release(&what);
}

/* Whether label is one of the labels of the tasks of sessions before k. */
static int label_seen(const struct verification *w, size_t k, const char *label)
{
	size_t j, l;

	for (j = 0; j < k; j++)
		for (l = 0; l < w->sessions[j].task.label_count; l++)
			if (!strcmp(w->sessions[j].task.labels[l], label))
				return 1;
	return 0;
}

/* The rate per label of every session's task (each label once). */
static void print_validity(const struct verification *w, size_t verified)
{
	double th = w->o->min_confidence;
	struct strbuf what = STRBUF_INIT;
	size_t i, j, k, valid = 0;

	for (i = 0; i < w->count; i++)
		valid += w->items[i].has_verdict && w->items[i].p >= th;
	strbuf_addf(&what, "label validity (p >= %.2f)", th);
	print_rate(what.data, valid, verified);
	for (j = 0; j < w->nsessions; j++) {
		const struct task *task = &w->sessions[j].task;

		for (k = 0; k < task->label_count; k++)
			if (!label_seen(w, j, task->labels[k]))
				print_label_rate(w, task->labels[k]);
	}
	strbuf_release(&what);
}

/* The pairs below the threshold, and those with no verdict and why. */
static void print_flagged(const struct verification *w)
{
	size_t i, below = 0;

	for (i = 0; i < w->count; i++)
		below += w->items[i].has_verdict && w->items[i].p < w->o->min_confidence;
	printf("below %.2f: %zu pair%s\n", w->o->min_confidence, below, below == 1 ? "" : "s");
	for (i = 0; i < w->count; i++) {
		const struct item *it = &w->items[i];

		if (it->has_verdict && it->p < w->o->min_confidence)
			safetext_printf(stdout, "  #%zu  p %.3f  %s  %s\n", it->number, it->p,
					it->label, it->question);
	}
	for (i = 0; i < w->count; i++) {
		const struct item *it = &w->items[i];

		if (it->error)
			safetext_printf(stdout, "  #%zu  no verdict: %s\n", it->number, it->error);
	}
}

static void print_agreement(const struct verification *w)
{
	struct verify_agreement a;
	size_t i;

	verify_agreement_init(&a);
	for (i = 0; i < w->count; i++) {
		const struct item *it = &w->items[i];

		if (it->has_verdict && it->person_keeps >= 0)
			verify_agreement_add(&a, it->p >= w->o->min_confidence, it->person_keeps);
	}
	verify_agreement_compute(&a);
	if (!a.count) {
		fputs("agreement with the person's decisions: no pairs\n", stdout);
		return;
	}
	printf("agreement with the person's decisions: %zu pairs, %.1f%% agree, kappa ", a.count,
	       100 * a.fraction);
	if (isnan(a.kappa))
		fputs("undefined (every pair rated alike)\n", stdout);
	else
		printf("%.3f\n", a.kappa);
}

static void print_summary(const struct verification *w)
{
	size_t i, verified = 0, asked = 0;

	for (i = 0; i < w->count; i++) {
		verified += w->items[i].has_verdict;
		asked += w->items[i].asked && w->items[i].has_verdict;
	}
	safetext_printf(stdout, "%s: %zu pairs verified (%zu new, %zu cached), %zu failed\n",
			w->names.data, verified, asked, verified - asked, w->failed);
	print_validity(w, verified);
	print_flagged(w);
	if (w->o->reject_below >= 0)
		printf("rejected by the verifier (p < %.2f): %zu pair%s\n", w->o->reject_below,
		       w->rejected, w->rejected == 1 ? "" : "s");
	print_agreement(w);
}

/* Verifies, rejects, folds the journal into the file and says what came
 * of it; returns the exit status. */
static int verification_run(struct verification *w)
{
	struct errbuf err;
	size_t k;
	int r = collect_items(w);

	if (!r)
		r = ask_missing(w);
	if (!r && !interrupted && !w->journal_failed)
		r = reject_below(w);
	for (k = 0; k < w->nsessions; k++)
		if (session_save_replayed(w->sessions[k].tree, w->inputs.paths[k], &err)) {
			cli_error("verify", err.msg);
			fputs("weft verify: the verdicts of this run are still in the journal: the "
			      "next weft to open the session replays them\n",
			      stderr);
			r = 1;
		}
	if (interrupted) {
		safetext_printf(stderr,
				"weft verify: interrupted; the verdicts that came are saved "
				"in %s: run the same command to finish\n",
				w->names.data);
		return 130;
	}
	if (!r)
		print_summary(w);
	return r ? r : w->failed ? 1 : 0;
}

static void verification_release(struct verification *w)
{
	size_t i;

	for (i = 0; i < w->count; i++) {
		free(w->items[i].question);
		free(w->items[i].answer);
		free(w->items[i].label);
		free(w->items[i].error);
	}
	free(w->items);
	free(w->asking);
	for (i = 0; i < w->nsessions; i++)
		cli_session_release(&w->sessions[i]);
	free(w->sessions);
	dataset_inputs_release(&w->inputs);
	strbuf_release(&w->names);
	config_release(&w->config);
}

/* Every session, each locked, read and with its task, before anything is
 * asked: a bad one stops the run with nothing written.  Returns 0, or the
 * exit status with the error said. */
static int verification_open(struct verification *w)
{
	const struct verify_options *o = w->o;
	struct errbuf err;
	size_t k;
	int r = 0;

	if (dataset_inputs_expand(&w->inputs, o->args, o->nargs, &err))
		return cli_error("verify", err.msg);
	w->sessions = xcalloc(w->inputs.n, sizeof(*w->sessions));
	for (k = 0; k < w->inputs.n && !r; k++) {
		strbuf_addf(&w->names, "%s%s", k ? ", " : "", w->inputs.paths[k]);
		w->nsessions++;
		r = cli_session_open(&w->sessions[k], "verify", w->inputs.paths[k], o->task,
				     CLI_SESSION_WRITE | CLI_SESSION_NEEDS_TASK);
	}
	return r;
}

static int verify_run(const struct verify_options *o)
{
	struct verification w;
	struct sigaction sa, old_int, old_term;
	int r;

	memset(&w, 0, sizeof(w));
	strbuf_init(&w.names);
	w.o = o;
	interrupted = 0;
	config_init(&w.config);
	r = verification_open(&w);
	if (!r)
		r = verification_models(&w);
	if (!r) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		r = verification_run(&w);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	verification_release(&w);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_options o;
	int r;

	verify_options_init(&o, argc);
	r = verify_parse(&o, argc, argv);
	if (r < 0)
		r = verify_run(&o);
	free(o.sets);
	return r;
}

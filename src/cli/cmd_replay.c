/*
 * weft replay: walk a session's recorded decisions as text or JSON, and
 * optionally re-judge them with another judge.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clicommon.h"
#include "weft/atomicfile.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/display.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/outfile.h"
#include "weft/replay.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/steer.h"
#include "weft/steerpairs.h"
#include "weft/task.h"
#include "weft/xalloc.h"

static const char usage[] =
    "usage: weft replay FILE [--width N] [--json]\n"
    "                   [--judge MODEL | --rejudge] [--judge-prompt FILE] [--rank MODE]\n"
    "                   [--task NAME] [--set ROLE.KEY=VALUE]... [--config FILE]\n"
    "                   [--save-as NEW [--force]]\n"
    "\n"
    "Walks the chosen path of a session step by step: the candidates of each\n"
    "step with their scores, the judge's pick (J), the final pick (*) and\n"
    "whether a person made it (H); then a summary.  The file is only read.\n"
    "  -w, --width N         line width (default: the terminal's, else 100)\n"
    "  -j, --json            print the walk (and comparison) as JSON\n"
    "      --judge MODEL     re-judge every step with this judge model\n"
    "      --rejudge         re-judge with the configured judge\n"
    "      --judge-prompt F  the judge prompt ({document}, {options}); default\n"
    "                        the task's judge.txt\n"
    "      --rank MODE       logprobs, scores or choice (default: the task's)\n"
    "  -t, --task NAME       the task, when the session names none\n"
    "  -s, --set R.K=V       a configuration setting, e.g. judge.base_url=...\n"
    "  -c, --config FILE     the configuration file\n"
    "      --save-as NEW     write a copy with the re-judged scores stored beside\n"
    "                        the recorded ones (the step's \"rejudge\" key)\n"
    "  -f, --force           replace NEW if it exists\n";

/* Appends text as one line of at most cols terminal columns: white space
 * runs become one space, everything else display_sanitize shows as marks
 * (controls in caret form, bidi and invisible characters as <U+XXXX>,
 * bad UTF-8 as <XX>); "…" marks a cut. */
static void one_line(struct strbuf *out, const char *text, size_t cols)
{
	struct strbuf flat = STRBUF_INIT, safe = STRBUF_INIT;
	const char *p;
	size_t used = 0, k = 0, n;
	int space = 0, cw;

	for (p = text; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t') {
			space = flat.len > 0;
			continue;
		}
		if (space)
			strbuf_addch(&flat, ' ');
		space = 0;
		strbuf_addch(&flat, *p);
	}
	display_sanitize(flat.data, flat.len, &safe);
	if (display_width(safe.data, safe.len) <= cols) {
		strbuf_add(out, safe.data, safe.len);
	} else if (cols > 0) {
		/* the widest prefix that leaves one column for the mark */
		while (k < safe.len) {
			n = display_char(safe.data + k, safe.len - k, &cw);
			if (used + (size_t)cw + 1 > cols)
				break;
			used += (size_t)cw;
			k += n;
		}
		strbuf_add(out, safe.data, k);
		strbuf_addstr(out, "\xe2\x80\xa6");
	}
	strbuf_release(&flat);
	strbuf_release(&safe);
}

static void put_safe(struct strbuf *out, const char *s)
{
	display_sanitize(s, strlen(s), out);
}

static const char *node_id(const struct tree *t, uint32_t i)
{
	return i == TREE_NONE ? NULL : tree_node(t, i)->id;
}

/* The duplicate flag of each candidate of every step of w
 * (steerpairs.h), all in one reading of the chosen path: owned, one owned
 * array of the step's count entries per step (none flagged when the
 * task's pattern fails).  Free with free_dups. */
static struct steer_dup **walk_dups(const struct tree *t, const struct task *task,
				    const struct replay_walk *w)
{
	struct steer_dup **d = xcalloc(w->count ? w->count : 1, sizeof(*d));
	struct steer_pairs_step *steps = xcalloc(w->count ? w->count : 1, sizeof(*steps));
	struct steer_pairs sp;
	size_t k, j;

	for (k = 0; k < w->count; k++) {
		const struct replay_step *rs = &w->steps[k];
		const char **texts = xcalloc(rs->count ? rs->count : 1, sizeof(*texts));

		for (j = 0; j < rs->count; j++)
			texts[j] = tree_node(t, rs->candidates[j])->text;
		d[k] = xcalloc(rs->count ? rs->count : 1, sizeof(**d));
		steps[k].node = rs->node;
		steps[k].texts = texts;
		steps[k].count = rs->count;
		steps[k].flags = d[k];
	}
	if (w->count) {
		steer_pairs_init(&sp, t, tree_path_tip(t), task); /* failing: none flagged */
		steer_pairs_flag_steps(&sp, t, steps, w->count);
		steer_pairs_release(&sp);
	}
	for (k = 0; k < w->count; k++)
		free((void *)steps[k].texts);
	free(steps);
	return d;
}

static void free_dups(struct steer_dup **d, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++)
		free(d[k]);
	free(d);
}

/* ---- text --------------------------------------------------------------- */

/* The step's line: its picks, the re-judge's and how they compare. */
static void step_line(struct strbuf *sb, size_t k, const struct replay_step *rs,
		      const struct replay_verdict *rv)
{
	strbuf_addf(sb, "step %zu  ", k + 1);
	if (rs->judge_index >= 0)
		strbuf_addf(sb, "judge %ld", rs->judge_index + 1);
	else
		strbuf_addstr(sb, "judge -");
	if (rs->waiting)
		strbuf_addstr(sb, ", waiting for a person");
	else if (rs->final_index >= 0)
		strbuf_addf(sb, ", final %ld", rs->final_index + 1);
	else
		strbuf_addstr(sb, ", final (not a candidate)");
	if (!rs->waiting)
		strbuf_addf(sb, " by %s", replay_picker_name(rs->picker));
	if (rs->override)
		strbuf_addstr(sb, "  OVERRIDE");
	if (!rs->has_record)
		strbuf_addstr(sb, "  (no decision record)");
	if (rv && rv->ok) {
		strbuf_addf(sb, "  re-judged %ld", rv->pick + 1);
		if (rs->judge_index >= 0)
			strbuf_addstr(sb, rv->pick == rs->judge_index ? " (agrees)" : " (differs)");
		if (!isnan(rv->spearman))
			strbuf_addf(sb, "  rho %.3f", rv->spearman);
	}
}

/* Candidate j of the step: its marks, scores and text on one line. */
static void candidate_line(struct strbuf *sb, const struct tree *t, size_t j,
			   const struct replay_step *rs, const struct replay_verdict *rv,
			   int rejudged, const struct steer_dup *dup, size_t width)
{
	long i = (long)j;
	int human = i == rs->final_index && rs->picker == TREE_PICKER_HUMAN;

	strbuf_addf(sb, "  %c%c%c %2zu  ", i == rs->judge_index ? 'J' : ' ',
		    i == rs->final_index ? '*' : ' ', human ? 'H' : ' ', j + 1);
	if (rs->scores)
		strbuf_addf(sb, "%5.3f  ", rs->scores[j]);
	else
		strbuf_addstr(sb, "  -    ");
	if (rejudged) {
		if (rv->ok)
			strbuf_addf(sb, "%5.3f%c ", rv->scores[j], i == rv->pick ? 'N' : ' ');
		else
			strbuf_addstr(sb, "  -    ");
		strbuf_addch(sb, ' ');
	}
	if (dup->kind != STEER_DUP_NONE) {
		steer_dup_mark(dup, sb);
		strbuf_addstr(sb, "  ");
	}
	one_line(sb, tree_node(t, rs->candidates[j])->text,
		 width > sb->len + 10 ? width - sb->len : 10);
}

static void print_step(const struct tree *t, size_t k, const struct replay_step *rs,
		       const struct replay_verdict *rv, const struct steer_dup *dups, size_t width)
{
	struct strbuf sb = STRBUF_INIT;
	size_t j;

	step_line(&sb, k, rs, rv);
	printf("%s\n", sb.data);
	/* reasons in full, never cut before their cause */
	if (rs->needs_human) {
		strbuf_reset(&sb);
		one_line(&sb, rs->needs_human, SIZE_MAX);
		printf("  %s a person: %s\n", rs->waiting ? "needs" : "needed", sb.data);
	}
	if (rv && !rv->ok && rv->error) {
		strbuf_reset(&sb);
		one_line(&sb, rv->error, SIZE_MAX);
		printf("  re-judging failed: %s\n", sb.data);
	}
	for (j = 0; j < rs->count; j++) {
		strbuf_reset(&sb);
		candidate_line(&sb, t, j, rs, rv, rv != NULL, &dups[j], width);
		printf("%s\n", sb.data);
	}
	strbuf_release(&sb);
}

static void print_summary(const struct replay_walk *w)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k, j;

	printf("\nsummary\n");
	if (w->waiting)
		printf("  steps            %zu (the last waits for a person)\n", w->count);
	else
		printf("  steps            %zu\n", w->count);
	strbuf_addf(&sb, "%zu", w->overrides);
	for (k = 0, j = 0; k < w->count; k++)
		if (w->steps[k].override)
			strbuf_addf(&sb, "%s%zu", j++ ? ", " : " (steps ", k + 1);
	if (j)
		strbuf_addch(&sb, ')');
	printf("  human overrides  %s\n", sb.data);
	printf("  needed a person  %zu\n", w->needed_human);
	if (w->scored)
		printf("  mean pick score  %.3f over %zu steps with scores\n", w->mean_pick_score,
		       w->scored);
	else
		printf("  mean pick score  - (no scores)\n");
	strbuf_reset(&sb);
	if (w->balance_ok) {
		for (k = 0; k < w->nlabels; k++) {
			if (k)
				strbuf_addstr(&sb, " / ");
			put_safe(&sb, w->labels[k]);
			strbuf_addf(&sb, " %zu", w->per_class[k]);
		}
		strbuf_addf(&sb, " (%zu pairs)", w->pairs);
	} else {
		strbuf_addstr(&sb, "? (");
		put_safe(&sb, w->balance_error);
		strbuf_addch(&sb, ')');
	}
	printf("  balance          %s\n", sb.data);
	strbuf_release(&sb);
}

static void print_walk(const struct tree *t, const struct task *task, const struct replay_walk *w,
		       const struct replay_rejudge *rj, size_t width)
{
	struct steer_dup **dups = walk_dups(t, task, w);
	size_t k;

	for (k = 0; k < w->count; k++)
		print_step(t, k, &w->steps[k], rj ? &rj->verdicts[k] : NULL, dups[k], width);
	free_dups(dups, w->count);
	print_summary(w);
}

static void print_fraction(const char *what, size_t agree, size_t of)
{
	if (of)
		printf("  %-22s %zu of %zu steps = %.3f\n", what, agree, of,
		       (double)agree / (double)of);
	else
		printf("  %-22s - (no such steps)\n", what);
}

static void print_rejudge(const struct replay_rejudge *rj, const char *model, const char *prompt,
			  const char *rank)
{
	struct strbuf sb = STRBUF_INIT;

	put_safe(&sb, model);
	strbuf_addstr(&sb, ", rank ");
	put_safe(&sb, rank);
	strbuf_addstr(&sb, ", prompt ");
	put_safe(&sb, prompt);
	printf("\nre-judged by %s\n", sb.data);
	printf("  judged                 %zu of %zu steps (%zu without a usable answer", rj->judged,
	       rj->count, rj->failed);
	if (rj->request_failed)
		printf(", %zu of them because the request failed", rj->request_failed);
	printf(")\n");
	print_fraction("agrees with the judge", rj->agree_judge, rj->vs_judge);
	print_fraction("agrees with a person", rj->agree_human, rj->vs_human);
	if (rj->spearman_steps)
		printf("  rank correlation       %.3f (Spearman per step, averaged over %zu "
		       "steps)\n",
		       rj->spearman_mean, rj->spearman_steps);
	else
		printf("  rank correlation       - (no step with two varying score lists)\n");
	strbuf_release(&sb);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_id(struct strbuf *sb, const struct tree *t, uint32_t i)
{
	const char *id = node_id(t, i);

	if (id)
		strbuf_add_json_string(sb, id);
	else
		strbuf_addstr(sb, "null");
}

static void json_scores(struct strbuf *sb, const double *v, size_t n)
{
	size_t k;

	if (!v) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addch(sb, '[');
	for (k = 0; k < n; k++) {
		if (k)
			strbuf_addch(sb, ',');
		strbuf_add_json_number(sb, v[k]);
	}
	strbuf_addch(sb, ']');
}

static void json_fraction(struct strbuf *sb, const char *key, size_t agree, size_t of)
{
	strbuf_addf(sb, ",\"%s\":{\"agree\":%zu,\"of\":%zu,\"fraction\":", key, agree, of);
	if (of)
		strbuf_add_json_number(sb, (double)agree / (double)of);
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '}');
}

static void json_string_or_null(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_string(sb, s);
	else
		strbuf_addstr(sb, "null");
}

static void json_verdict(struct strbuf *sb, const struct tree *t, const struct replay_step *rs,
			 const struct replay_verdict *rv)
{
	strbuf_addstr(sb, ",\"rejudge\":{\"scores\":");
	json_scores(sb, rv->ok ? rv->scores : NULL, rs->count);
	strbuf_addstr(sb, ",\"pick\":");
	json_id(sb, t, rv->ok ? rs->candidates[rv->pick] : TREE_NONE);
	strbuf_addstr(sb, ",\"spearman\":");
	strbuf_add_json_number(sb, rv->spearman);
	strbuf_addstr(sb, ",\"raw\":");
	json_string_or_null(sb, rv->raw);
	strbuf_addstr(sb, ",\"error\":");
	json_string_or_null(sb, rv->error);
	strbuf_addch(sb, '}');
}

/* "duplicates": one per candidate, null or {"kind", "of", "similarity"}. */
static void json_dups(struct strbuf *sb, const struct replay_step *rs, const struct steer_dup *dups)
{
	static const char *const kinds[] = {"none", "exact", "normalised", "near"};
	size_t j;

	strbuf_addstr(sb, ",\"duplicates\":[");
	for (j = 0; j < rs->count; j++) {
		const struct steer_dup *d = &dups[j];

		if (j)
			strbuf_addch(sb, ',');
		if (d->kind == STEER_DUP_NONE) {
			strbuf_addstr(sb, "null");
			continue;
		}
		strbuf_addf(sb, "{\"kind\":\"%s\",\"of\":", kinds[d->kind]);
		if (d->of == STEER_DUP_UNNAMED)
			strbuf_addstr(sb, "null");
		else
			strbuf_addf(sb, "%zu", d->of + 1);
		strbuf_addstr(sb, ",\"similarity\":");
		strbuf_add_json_number(sb, d->score);
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, ']');
}

static void json_step(struct strbuf *sb, const struct tree *t, size_t k,
		      const struct replay_step *rs, const struct replay_verdict *rv,
		      const struct steer_dup *dups)
{
	size_t j;

	strbuf_addf(sb, "{\"step\":%zu,\"node\":", k + 1);
	json_id(sb, t, rs->node);
	strbuf_addstr(sb, ",\"record\":");
	strbuf_addstr(sb, rs->has_record ? "true" : "false");
	strbuf_addstr(sb, ",\"candidates\":[");
	for (j = 0; j < rs->count; j++) {
		if (j)
			strbuf_addch(sb, ',');
		json_id(sb, t, rs->candidates[j]);
	}
	strbuf_addstr(sb, "],\"scores\":");
	json_scores(sb, rs->scores, rs->count);
	strbuf_addstr(sb, ",\"judgePick\":");
	json_id(sb, t, rs->judge_pick);
	strbuf_addstr(sb, ",\"finalPick\":");
	json_id(sb, t, rs->final_pick);
	strbuf_addstr(sb, ",\"pickedBy\":");
	strbuf_add_json_string(sb, replay_picker_name(rs->picker));
	strbuf_addf(sb, ",\"override\":%s,\"waiting\":%s,\"needsHuman\":",
		    rs->override ? "true" : "false", rs->waiting ? "true" : "false");
	json_string_or_null(sb, rs->needs_human);
	json_dups(sb, rs, dups);
	if (rv)
		json_verdict(sb, t, rs, rv);
	strbuf_addch(sb, '}');
}

static void json_summary(struct strbuf *sb, const struct replay_walk *w)
{
	size_t k;

	strbuf_addf(sb,
		    "],\"summary\":{\"steps\":%zu,\"waiting\":%zu,\"overrides\":%zu,"
		    "\"neededHuman\":%zu,\"scoredSteps\":%zu,\"meanPickScore\":",
		    w->count, w->waiting, w->overrides, w->needed_human, w->scored);
	strbuf_add_json_number(sb, w->scored ? w->mean_pick_score : NAN);
	strbuf_addstr(sb, ",\"balance\":");
	if (w->balance_ok) {
		strbuf_addch(sb, '{');
		for (k = 0; k < w->nlabels; k++) {
			if (k)
				strbuf_addch(sb, ',');
			strbuf_add_json_string(sb, w->labels[k]);
			strbuf_addf(sb, ":%zu", w->per_class[k]);
		}
		strbuf_addch(sb, '}');
	} else {
		strbuf_addstr(sb, "null");
	}
	strbuf_addch(sb, '}');
}

static void json_rejudge(struct strbuf *sb, const struct replay_rejudge *rj, const char *model,
			 const char *prompt, const char *rank)
{
	strbuf_addstr(sb, ",\"rejudge\":{\"model\":");
	strbuf_add_json_string(sb, model);
	strbuf_addstr(sb, ",\"prompt\":");
	strbuf_add_json_string(sb, prompt);
	strbuf_addstr(sb, ",\"rank\":");
	strbuf_add_json_string(sb, rank);
	strbuf_addf(sb, ",\"judged\":%zu,\"failed\":%zu,\"requestFailed\":%zu", rj->judged,
		    rj->failed, rj->request_failed);
	json_fraction(sb, "agreeJudge", rj->agree_judge, rj->vs_judge);
	json_fraction(sb, "agreeHuman", rj->agree_human, rj->vs_human);
	strbuf_addstr(sb, ",\"spearman\":{\"mean\":");
	strbuf_add_json_number(sb, rj->spearman_mean);
	strbuf_addf(sb, ",\"steps\":%zu}}", rj->spearman_steps);
}

static void print_json(const struct tree *t, const struct task *task, const char *file,
		       const struct replay_walk *w, const struct replay_rejudge *rj,
		       const char *model, const char *prompt, const char *rank)
{
	struct strbuf sb = STRBUF_INIT;
	struct steer_dup **dups = walk_dups(t, task, w);
	size_t k;

	strbuf_addstr(&sb, "{\"file\":");
	strbuf_add_json_string(&sb, file);
	strbuf_addstr(&sb, ",\"steps\":[");
	for (k = 0; k < w->count; k++) {
		if (k)
			strbuf_addch(&sb, ',');
		json_step(&sb, t, k, &w->steps[k], rj ? &rj->verdicts[k] : NULL, dups[k]);
	}
	json_summary(&sb, w);
	if (rj)
		json_rejudge(&sb, rj, model, prompt, rank);
	strbuf_addstr(&sb, "}\n");
	fwrite(sb.data, 1, sb.len, stdout);
	free_dups(dups, w->count);
	strbuf_release(&sb);
}

/* ---- the command -------------------------------------------------------- */

/* A judge prompt file: a regular file of at most TASK_FILE_MAX bytes,
 * without NUL bytes. */
static int read_text(const char *path, struct strbuf *out, struct errbuf *err)
{
	char *data;
	size_t len;

	if (atomicfile_read(path, TASK_FILE_MAX, &data, &len, err))
		return -1;
	strbuf_add(out, data, len);
	free(data);
	if (memchr(out->data, '\0', out->len))
		return errbuf_set(err, "%s: holds a NUL byte", path);
	return 0;
}

static size_t terminal_width(void)
{
	struct winsize ws;

	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 100;
}

enum { OPT_JUDGE = 256, OPT_REJUDGE, OPT_PROMPT, OPT_RANK, OPT_SAVE };

struct replay_options {
	const char *path, *judge_model, *prompt_file, *rank, *task, *config_path, *save_as;
	char **sets; /* the --set flags, owned (the strings borrowed) */
	size_t nsets, width;
	int json, rejudge, force;
};

static void replay_options_init(struct replay_options *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
}

/* One option c with its value; -1 when good, else the exit status. */
static int replay_option(struct replay_options *o, int c, char *v)
{
	char *end;
	long w;

	switch (c) {
	case 'w':
		w = strtol(v, &end, 10);
		if (*end || w < 20 || w > 10000) {
			fputs("weft replay: --width takes a number from 20 to 10000\n", stderr);
			return 2;
		}
		o->width = (size_t)w;
		break;
	case 'j': o->json = 1; break;
	case OPT_JUDGE:
		o->judge_model = v;
		o->rejudge = 1;
		break;
	case OPT_REJUDGE: o->rejudge = 1; break;
	case OPT_PROMPT: o->prompt_file = v; break;
	case OPT_RANK: o->rank = v; break;
	case 't': o->task = v; break;
	case 's': o->sets[o->nsets++] = v; break;
	case 'c': o->config_path = v; break;
	case OPT_SAVE: o->save_as = v; break;
	case 'f': o->force = 1; break;
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int replay_parse(struct replay_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"width", required_argument, NULL, 'w'},
	    {"json", no_argument, NULL, 'j'},
	    {"judge", required_argument, NULL, OPT_JUDGE},
	    {"rejudge", no_argument, NULL, OPT_REJUDGE},
	    {"judge-prompt", required_argument, NULL, OPT_PROMPT},
	    {"rank", required_argument, NULL, OPT_RANK},
	    {"task", required_argument, NULL, 't'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"save-as", required_argument, NULL, OPT_SAVE},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, r;

	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":w:jt:s:c:fh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c == '?' || c == ':')
			return cli_option_error("replay", usage, c, argv);
		r = replay_option(o, c, optarg);
		if (r >= 0)
			return r;
	}
	if (optind == argc - 1 && (!o->save_as || o->rejudge) &&
	    (!(o->prompt_file || o->rank) || o->rejudge)) {
		o->path = argv[optind];
		return -1;
	}
	if (o->save_as && !o->rejudge)
		fputs("weft replay: --save-as stores re-judged scores: give --judge "
		      "MODEL or --rejudge\n",
		      stderr);
	else if ((o->prompt_file || o->rank) && !o->rejudge)
		fputs("weft replay: --judge-prompt and --rank are for re-judging: give "
		      "--judge MODEL or --rejudge\n",
		      stderr);
	fputs(usage, stderr);
	return 2;
}

/* Everything one replay holds. */
struct replaying {
	const struct replay_options *o;
	struct cli_session s;
	struct config config;
	struct replay_walk walk;
	struct replay_rejudge rj;
	struct steer_settings settings;
	struct lm_engine *engine;
	struct config_role *judge;
	struct strbuf tmpl, prompt_id;
	struct session_lock save_lock;
};

/* The checks made before the session is read.  Returns 0, or the exit
 * status with the error said. */
static int replay_check(const struct replay_options *o)
{
	struct errbuf err;
	enum rank_mode m;

	if (o->rank && rank_mode_parse(o->rank, &m)) {
		fputs("weft replay: --rank takes logprobs, scores or choice\n", stderr);
		return 2;
	}
	if (o->save_as) {
		const char *inputs[2] = {o->path, o->config_path};
		int c = outfile_check(o->save_as, inputs, 2, o->force, &err);

		if (c) {
			cli_error("replay", err.msg);
			return c == OUTFILE_IS_INPUT ? 2 : 1;
		}
	}
	return 0;
}

/* The session and its walk; a task that does not load is an error only
 * when given or needed for its judge prompt.  Returns 0, or the exit
 * status with the error said. */
static int replay_open(struct replaying *rp)
{
	const struct replay_options *o = rp->o;
	int r = cli_session_open(&rp->s, "replay", o->path, o->task, 0);

	if (r)
		return r;
	if (rp->s.task_name.len && !rp->s.has_task) {
		cli_error("replay", rp->s.task_err.msg);
		if (o->task || (o->rejudge && !o->prompt_file))
			return 1;
		cli_error("replay", "the balance uses the seed's pattern and labels");
	}
	replay_walk_build(rp->s.tree, rp->s.has_task ? &rp->s.task : NULL, &rp->walk);
	return 0;
}

/* The judge prompt: --judge-prompt, else the task's.  Returns 0, or 1 with
 * the error said. */
static int replay_prompt(struct replaying *rp)
{
	const struct replay_options *o = rp->o;
	struct errbuf err;

	if (o->prompt_file) {
		if (read_text(o->prompt_file, &rp->tmpl, &err))
			return cli_error("replay", err.msg);
		strbuf_addstr(&rp->prompt_id, o->prompt_file);
	} else if (rp->s.has_task) {
		strbuf_addstr(&rp->tmpl, rp->s.task.judge);
		strbuf_addf(&rp->prompt_id, "%s/judge.txt", rp->s.task.name);
	} else {
		return cli_error("replay", "no judge prompt: the session names no task; give "
					   "--task NAME or --judge-prompt FILE");
	}
	return 0;
}

/* The judge: the configured one, its model replaced by --judge's. */
static int replay_judge(struct replaying *rp)
{
	const struct replay_options *o = rp->o;
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 0};
	int r = cli_load_config("replay", &rp->config, &ca);

	if (r)
		return r;
	rp->judge = config_role(&rp->config, "judge");
	if (o->judge_model) {
		free(rp->judge->model);
		rp->judge->model = xstrdup(o->judge_model);
	}
	if (!config_role_configured(rp->judge)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, "no judge model: give --judge MODEL, or set [judge] model in ");
		cli_config_path(o->config_path, &msg);
		strbuf_addstr(&msg, " or WEFT_JUDGE_MODEL");
		cli_error("replay", msg.data);
		strbuf_release(&msg);
		return 1;
	}
	return 0;
}

/* Asks the judge again about every step.  Returns 0, or the exit status
 * with the error said. */
static int replay_rejudge_steps(struct replaying *rp)
{
	struct errbuf err;
	int r;

	if (rp->s.has_task)
		steer_settings_from_task(&rp->settings, &rp->s.task);
	if (rp->o->rank)
		rank_mode_parse(rp->o->rank, &rp->settings.rank);
	r = replay_prompt(rp);
	if (!r)
		r = replay_judge(rp);
	if (r)
		return r;
	rp->engine = cli_start_engine(&rp->config);
	r = replay_rejudge(rp->engine, rp->s.tree, &rp->walk, rp->s.has_task ? &rp->s.task : NULL,
			   rp->judge, rp->tmpl.data, &rp->settings, &rp->rj, &err);
	if (!r)
		return 0;
	if (r == REPLAY_PROMPT_TOO_LARGE) /* nothing was sent */
		errbuf_prefix(&err, "%s", rp->prompt_id.data);
	return cli_error("replay", err.msg);
}

/* Failed requests are an error (exit 1), with the first cause in full;
 * what was judged is still shown and saved.  Returns 1 when any failed. */
static int replay_request_failures(const struct replay_rejudge *rj)
{
	struct strbuf msg = STRBUF_INIT;
	size_t k;

	if (!rj->request_failed)
		return 0;
	for (k = 0; k < rj->count; k++)
		if (rj->verdicts[k].request_failed)
			break;
	strbuf_addf(&msg,
		    "re-judging failed for %zu of %zu steps (the judge's request failed); "
		    "step %zu: %s",
		    rj->request_failed, rj->count, k + 1,
		    k < rj->count && rj->verdicts[k].error ? rj->verdicts[k].error : "?");
	cli_error("replay", msg.data);
	strbuf_release(&msg);
	return 1;
}

/* --save-as: the session with the re-judged scores.  Returns 0 or 1. */
static int replay_save(struct replaying *rp)
{
	const struct replay_options *o = rp->o;
	struct errbuf err;
	struct strbuf sb = STRBUF_INIT;

	replay_rejudge_store(rp->s.tree, &rp->walk, &rp->rj, rp->judge->model, rp->prompt_id.data);
	if (cli_lock_session("replay", o->save_as, &rp->save_lock))
		return 1; /* NEW is a session another weft is writing */
	if (session_save(rp->s.tree, o->save_as, &err))
		return cli_error("replay", err.msg);
	if (!o->json) {
		put_safe(&sb, o->save_as);
		printf("\nsaved with the re-judged scores as %s\n", sb.data);
		strbuf_release(&sb);
	}
	return 0;
}

/* Prints the walk (and the comparison), then saves; returns the exit
 * status. */
static int replay_report(struct replaying *rp)
{
	const struct replay_options *o = rp->o;
	const struct replay_rejudge *rj = o->rejudge ? &rp->rj : NULL;
	const char *rank = rank_mode_name(rp->settings.rank);
	const struct task *task = rp->s.has_task ? &rp->s.task : NULL;
	int r;

	if (o->json)
		print_json(rp->s.tree, task, o->path, &rp->walk, rj,
			   rp->judge ? rp->judge->model : "", rp->prompt_id.data, rank);
	else
		print_walk(rp->s.tree, task, &rp->walk, rj, o->width ? o->width : terminal_width());
	if (rj && !o->json)
		print_rejudge(rj, rp->judge->model, rp->prompt_id.data, rank);
	r = rj ? replay_request_failures(rj) : 0;
	if (o->save_as && replay_save(rp))
		r = 1;
	return r;
}

static int replay_run(const struct replay_options *o)
{
	struct replaying rp;
	int r = replay_check(o);

	if (r)
		return r;
	memset(&rp, 0, sizeof(rp));
	rp.o = o;
	config_init(&rp.config);
	/* --json names the rank mode even without --judge */
	steer_settings_init(&rp.settings);
	strbuf_init(&rp.tmpl);
	strbuf_init(&rp.prompt_id);
	session_lock_init(&rp.save_lock);
	r = replay_open(&rp);
	if (!r && o->rejudge)
		r = replay_rejudge_steps(&rp);
	if (!r)
		r = replay_report(&rp);
	session_lock_release(&rp.save_lock);
	replay_rejudge_release(&rp.rj);
	replay_walk_release(&rp.walk);
	lm_engine_free(rp.engine);
	cli_session_release(&rp.s);
	config_release(&rp.config);
	strbuf_release(&rp.tmpl);
	strbuf_release(&rp.prompt_id);
	return r;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_options o;
	int r;

	replay_options_init(&o, argc);
	r = replay_parse(&o, argc, argv);
	if (r < 0)
		r = replay_run(&o);
	free(o.sets);
	return r;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/cli.h"
#include "weft/regfile.h"
#include "weft/score.h"
#include "weft/strbuf.h"
#include "weft/task.h"
#include "weft/safetext.h"

static const char score_usage[] =
    "usage: weft score --type boolean|choice|number|text|adaptive [--scoring opro|strict]\n"
    "                  --target T [--prompt FILE] [--gpt] ANSWER...\n"
    "\n"
    "Scores each ANSWER against the target T and prints, per answer, the\n"
    "parsed answer and 1 (correct), 0 (wrong) or `unparsed` (strict mode's\n"
    "hedges and refusals), tab-separated.  --scoring opro follows OPRO's rules\n"
    "to the letter; strict (the default) is weft's own (docs/evaluation.md).\n"
    "--prompt FILE gives the question with its (A) (B) ... options for\n"
    "--type choice; --gpt turns on OPRO's \\boxed{} rule for GPT scorers.\n"
    "--type adaptive is OPRO's MATH mode: number when the target is numeric\n"
    "(Python's isnumeric), else text.\n";

/* Prints s made safe for a terminal (safetext.h). */
static void print_sanitized(FILE *out, const char *s)
{
	safetext_fputs(s, out);
}

/* Reads a prompt file of at most TASK_PROMPT_MAX bytes (4 MiB, the most a
 * prompt weft builds may hold); -1 if unreadable or larger. */
static int read_file(const char *path, struct strbuf *sb)
{
	char buf[4096];
	size_t n;
	FILE *f = regfile_fopen(path, NULL);

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb->len + n > TASK_PROMPT_MAX) {
			fclose(f);
			return -1;
		}
		strbuf_add(sb, buf, n);
	}
	fclose(f);
	return 0;
}

struct score_options {
	enum score_type type;
	enum score_rules rules;
	const char *target, *prompt_path;
	int have_type, gpt, adaptive;
	int first; /* argv index of the first ANSWER; 0 none */
};

static void score_options_init(struct score_options *o)
{
	memset(o, 0, sizeof(*o));
	o->type = SCORE_TEXT;
	o->rules = SCORE_STRICT;
}

/* An option a with its value v; -1 when good, else the exit status. */
static int score_value(struct score_options *o, const char *a, const char *v)
{
	if (!strcmp(a, "--type")) {
		if (!strcmp(v, "adaptive")) {
			o->adaptive = 1;
		} else if (score_type_parse(v, &o->type) < 0) {
			fputs("weft score: --type must be boolean, choice, number, text or "
			      "adaptive\n",
			      stderr);
			return 2;
		}
		o->have_type = 1;
	} else if (!strcmp(a, "--scoring")) {
		if (score_rules_parse(v, &o->rules) < 0) {
			fputs("weft score: --scoring must be opro or strict\n", stderr);
			return 2;
		}
	} else if (!strcmp(a, "--target")) {
		o->target = v;
	} else {
		o->prompt_path = v;
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int score_parse(struct score_options *o, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc && !o->first; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(score_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--")) {
			o->first = i + 1;
		} else if (!strcmp(a, "--gpt")) {
			o->gpt = 1;
		} else if (!strcmp(a, "--type") || !strcmp(a, "--scoring") ||
			   !strcmp(a, "--target") || !strcmp(a, "--prompt")) {
			if (i + 1 >= argc)
				return cli_unknown_option("score", score_usage, a, 1);
			r = score_value(o, a, argv[++i]);
			if (r >= 0)
				return r;
		} else if (a[0] == '-' && a[1]) {
			return cli_unknown_option("score", score_usage, a, 0);
		} else {
			o->first = i;
		}
	}
	if (!o->have_type || !o->target || !o->first || o->first >= argc) {
		fputs(score_usage, stderr);
		return 2;
	}
	if (o->adaptive)
		o->type = score_target_is_numeric(o->target) ? SCORE_NUMBER : SCORE_TEXT;
	return -1;
}

/* Scores answers[0..n) and prints a line for each; returns the exit
 * status. */
static int score_run(const struct score_options *o, char **answers, int n)
{
	struct strbuf prompt = STRBUF_INIT;
	int i;

	if (o->prompt_path && read_file(o->prompt_path, &prompt) < 0) {
		fputs("weft score: cannot read prompt file '", stderr);
		print_sanitized(stderr, o->prompt_path);
		fputs("' (missing, unreadable or over 4 MiB)\n", stderr);
		strbuf_release(&prompt);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct score_result r;

		score_answer(answers[i], o->target, o->type, o->rules,
			     o->prompt_path ? prompt.data : NULL, o->gpt, &r);
		print_sanitized(stdout, r.parsed);
		if (r.outcome == SCORE_UNPARSED) {
			fputs("\tunparsed", stdout);
			if (r.note) {
				fputs("\t", stdout);
				print_sanitized(stdout, r.note);
			}
		} else {
			printf("\t%d", r.outcome == SCORE_CORRECT);
		}
		fputc('\n', stdout);
		score_result_release(&r);
	}
	strbuf_release(&prompt);
	return 0;
}

int cmd_score(int argc, char **argv)
{
	struct score_options o;
	int r;

	score_options_init(&o);
	r = score_parse(&o, argc, argv);
	return r >= 0 ? r : score_run(&o, argv + o.first, argc - o.first);
}

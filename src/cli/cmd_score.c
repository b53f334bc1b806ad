#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/cli.h"
#include "weft/regfile.h"
#include "weft/score.h"
#include "weft/strbuf.h"
#include "weft/safetext.h"

static const char score_usage[] =
    "usage: weft score --type boolean|choice|number|text|adaptive [--scoring opro|strict]\n"
    "                  --target T [--prompt FILE] [--gpt] ANSWER...\n"
    "\n"
    "Scores each ANSWER against the target T and prints, per answer, the\n"
    "parsed answer and 1 (correct), 0 (wrong) or `unparsed` (strict mode's\n"
    "hedges and refusals), tab-separated.  --scoring opro follows OPRO's rules\n"
    "to the letter; strict (the default) is weft's own (see README).\n"
    "--prompt FILE gives the question with its (A) (B) ... options for\n"
    "--type choice; --gpt turns on OPRO's \\boxed{} rule for GPT scorers.\n"
    "--type adaptive is OPRO's MATH mode: number when the target is numeric\n"
    "(Python's isnumeric), else text.\n";

/* Prints s made safe for a terminal (safetext.h). */
static void print_sanitized(FILE *out, const char *s)
{
	safetext_fputs(s, out);
}

#define PROMPT_CAP (4u << 20)

/* Reads a prompt file of at most PROMPT_CAP bytes; -1 if unreadable or
 * larger. */
static int read_file(const char *path, struct strbuf *sb)
{
	char buf[4096];
	size_t n;
	FILE *f = regfile_fopen(path, NULL);

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb->len + n > PROMPT_CAP) {
			fclose(f);
			return -1;
		}
		strbuf_add(sb, buf, n);
	}
	fclose(f);
	return 0;
}

int cmd_score(int argc, char **argv)
{
	enum score_type type = SCORE_TEXT;
	enum score_rules rules = SCORE_STRICT;
	const char *target = NULL, *prompt_path = NULL;
	struct strbuf prompt = STRBUF_INIT;
	int have_type = 0, gpt = 0, i, first = 0, adaptive = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(score_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--")) {
			first = i + 1;
			break;
		} else if (!strcmp(a, "--gpt")) {
			gpt = 1;
		} else if (!strcmp(a, "--type") || !strcmp(a, "--scoring") ||
			   !strcmp(a, "--target") || !strcmp(a, "--prompt")) {
			const char *v;

			if (i + 1 >= argc)
				return cli_unknown_option("score", score_usage, a, 1);
			v = argv[++i];
			if (!strcmp(a, "--type")) {
				if (!strcmp(v, "adaptive")) {
					adaptive = 1;
				} else if (score_type_parse(v, &type) < 0) {
					fputs("weft score: --type must be boolean, choice, number, "
					      "text or adaptive\n",
					      stderr);
					return 2;
				}
				have_type = 1;
			} else if (!strcmp(a, "--scoring")) {
				if (score_rules_parse(v, &rules) < 0) {
					fputs("weft score: --scoring must be opro or strict\n",
					      stderr);
					return 2;
				}
			} else if (!strcmp(a, "--target")) {
				target = v;
			} else {
				prompt_path = v;
			}
		} else if (a[0] == '-' && a[1]) {
			return cli_unknown_option("score", score_usage, a, 0);
		} else {
			first = i;
			break;
		}
	}
	if (!have_type || !target || !first || first >= argc) {
		fputs(score_usage, stderr);
		return 2;
	}
	if (adaptive)
		type = score_target_is_numeric(target) ? SCORE_NUMBER : SCORE_TEXT;
	if (prompt_path && read_file(prompt_path, &prompt) < 0) {
		fputs("weft score: cannot read prompt file '", stderr);
		print_sanitized(stderr, prompt_path);
		fputs("' (missing, unreadable or over 4 MiB)\n", stderr);
		strbuf_release(&prompt);
		return 1;
	}
	for (i = first; i < argc; i++) {
		struct score_result r;

		score_answer(argv[i], target, type, rules, prompt_path ? prompt.data : NULL, gpt,
			     &r);
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

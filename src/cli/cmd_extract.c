#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/dataset.h"
#include "weft/export.h"
#include "weft/pairs.h"
#include "weft/task.h"

static const char usage_text[] =
    "usage: weft extract FILE... [--format text|csv|jsonl] [--compat seed]\n"
    "                    [--pattern RE] [--preamble TEXT] [--labels Yes,No]\n"
    "                    [--near-duplicate T]\n"
    "\n"
    "Prints the question/answer pairs of FILE (a session's chosen path, or a\n"
    "text file) and a summary: count, per-class counts and balance,\n"
    "duplicates dropped, ambiguous and unmatched answers.  A session's pair\n"
    "decisions apply: rejected pairs are left out, relabelled ones carry\n"
    "their new label; the summary counts both.  Near-duplicates are kept\n"
    "and flagged with the earlier pair they repeat.\n"
    "\n"
    "Several FILEs (or a folder: its *.json sessions in name order) are one\n"
    "dataset: their pairs in that order, each session read with its own\n"
    "task's settings; a pair that repeats an earlier input's (exactly, after\n"
    "folding case, space and punctuation, or at the near-duplicate\n"
    "similarity) is dropped and listed with the file and node of both.\n"
    "\n"
    "  --format F     text (default), csv or jsonl (summary then on stderr)\n"
    "  --compat seed  reproduce the seed project's cleaner, quirks included\n"
    "  --pattern RE   PCRE2, dot-all; group 1 question, group 2 answer\n"
    "                 (default: Question: (.*?)\\nAnswer: (.*?)\\n)\n"
    "  --preamble T   extract after the last T (default: the seed's\n"
    "                 generation-prompt sentence; \"\" for none)\n"
    "  --labels L     comma-separated class labels (default Yes,No)\n"
    "  --near-duplicate T  flag a question whose word-pair similarity to an\n"
    "                 earlier one is at least T (0 to 1; default: the task's\n"
    "                 near_duplicate, else 0.8; 0: none)\n";

/* Writes s to f, control characters visible when f is a terminal. */
static void put_text(FILE *f, const char *s, size_t len, int keep_newlines)
{
	struct strbuf sb = STRBUF_INIT;

	if (!isatty(fileno(f)) && keep_newlines) {
		fwrite(s, 1, len, f);
		return;
	}
	dataset_caret(&sb, s, len, keep_newlines);
	fwrite(sb.data, 1, sb.len, f);
	strbuf_release(&sb);
}

static void put_str(FILE *f, const char *s)
{
	put_text(f, s, strlen(s), 0);
}

static const char *status_name(enum pair_status s)
{
	switch (s) {
	case PAIR_AMBIGUOUS: return "ambiguous answer";
	case PAIR_UNMATCHED: return "unmatched answer";
	case PAIR_DUP_EXACT: return "duplicate";
	case PAIR_DUP_NORMALISED: return "duplicate (normalised)";
	case PAIR_REJECTED: return "rejected";
	case PAIR_BELOW_VERIFY: return "below --min-verify";
	case PAIR_KEPT: break;
	}
	return "kept";
}

/* The input a pair came from, when there are several (else NULL). */
static const char *source_of(const struct dataset *d, const size_t *sources, size_t i)
{
	return d->npaths > 1 ? d->paths[sources[i]] : NULL;
}

static void print_where(const struct pair *p, const char *file)
{
	if (file) {
		put_str(stdout, file);
		fputs(", ", stdout);
	}
	printf("line %zu", p->line);
	if (p->node_id) {
		fputs(", node ", stdout);
		put_str(stdout, p->node_id);
	}
}

static void print_text(const struct dataset *d)
{
	const struct pairs_result *r = &d->r;
	size_t i;

	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];

		printf("%zu. [", i + 1);
		put_str(stdout, r->labels[p->class_index]);
		if (p->relabelled) {
			fputs(", relabelled from ", stdout);
			put_str(stdout, r->labels[p->original_class]);
		}
		fputs("] ", stdout);
		put_str(stdout, p->question);
		fputs("\n   answer: ", stdout);
		put_str(stdout, p->answer);
		fputs("\n   (", stdout);
		print_where(p, source_of(d, d->source, i));
		fputs(")\n", stdout);
		if (p->near_dup)
			printf("   near-duplicate of %zu (similarity %.2f, %s)\n", p->near_of + 1,
			       p->near_score, p->near_source);
	}
	for (i = 0; i < r->ndropped; i++) {
		const struct pair *p = &r->dropped[i];

		printf("dropped, %s (", status_name(p->status));
		print_where(p, source_of(d, d->dropped_source, i));
		fputs("): ", stdout);
		put_str(stdout, p->question);
		fputs(" -> ", stdout);
		put_str(stdout, p->answer);
		fputc('\n', stdout);
	}
}

struct extract_options {
	struct dataset_args a; /* filled by dataset_args_parse */
	int text;	       /* the text listing, else f */
	enum export_format f;
};

static void extract_options_init(struct extract_options *o)
{
	memset(o, 0, sizeof(*o));
	o->f = EXPORT_CSV;
}

/* Returns -1 when the options are good, else the exit status. */
static int extract_parse(struct extract_options *o, int argc, char **argv)
{
	struct errbuf err;
	const char *format;
	int rc = dataset_args_parse(&o->a, argc, argv, 0, &err);

	if (rc == DATASET_ARGS_HELP) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (rc)
		return cli_usage_error("extract", usage_text, err.msg);
	format = o->a.format;
	o->text = !format || !strcmp(format, "text");
	if (!o->text && strcmp(format, "csv") && strcmp(format, "jsonl")) {
		errbuf_set(&err, "unknown format '%s' (text, csv, jsonl)", format);
		return cli_usage_error("extract", usage_text, err.msg);
	}
	if (!o->text && !strcmp(format, "jsonl"))
		o->f = EXPORT_JSONL;
	return -1;
}

/* The pairs on stdout (as text, or CSV or JSONL with the summary on
 * stderr); returns the exit status. */
static int extract_print(const struct extract_options *o, const struct dataset *d)
{
	const struct pairs_result *r = &d->r;
	struct strbuf out = STRBUF_INIT, summary = STRBUF_INIT;
	struct errbuf err;
	int rc = 0;

	pairs_summary(r, &summary);
	if (o->text) {
		print_text(d);
		cli_dataset_repeats(stdout, d);
		put_text(stdout, summary.data, summary.len, 1);
	} else {
		if (r->count)
			export_write(r, o->f, NULL, &out, &err);
		else if (o->f == EXPORT_CSV)
			export_csv_header(r, &out);
		put_text(stdout, out.data, out.len, 1);
		cli_dataset_repeats(stderr, d);
		put_text(stderr, summary.data, summary.len, 1);
	}
	fflush(stdout);
	if (ferror(stdout)) {
		fputs("weft extract: cannot write to standard output\n", stderr);
		rc = 1;
	}
	strbuf_release(&out);
	strbuf_release(&summary);
	return rc;
}

static int extract_run(struct extract_options *o)
{
	struct dataset d;
	struct task task; /* the task of the session being read */
	struct errbuf err;
	size_t k;
	int rc = 0;

	dataset_init(&d);
	task_init(&task);
	rc = dataset_load(&d, &o->a, cli_task_pairs_options, &task, &err) ? 1 : 0;
	for (k = 0; k < d.nwarnings; k++)
		cli_error("extract", d.warnings[k]); /* a torn journal line: said, not fatal */
	if (rc) {
		fputs("weft extract: ", stderr);
		put_str(stderr, err.msg);
		fputc('\n', stderr);
	}
	if (!rc) {
		cli_dataset_mixing("extract", NULL, d.tasks_differ, d.labels_differ);
		rc = extract_print(o, &d);
	}
	task_release(&task);
	dataset_release(&d);
	return rc;
}

int cmd_extract(int argc, char **argv)
{
	struct extract_options o;
	int rc;

	extract_options_init(&o);
	rc = extract_parse(&o, argc, argv);
	if (rc < 0)
		rc = extract_run(&o);
	dataset_args_release(&o.a);
	return rc;
}

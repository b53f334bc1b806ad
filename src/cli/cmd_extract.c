#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weft/cli.h"
#include "weft/dataset.h"
#include "weft/export.h"
#include "weft/pairs.h"
#include "weft/task.h"

static const char usage_text[] =
    "usage: weft extract FILE [--format text|csv|jsonl] [--compat seed]\n"
    "                    [--pattern RE] [--preamble TEXT] [--labels Yes,No]\n"
    "\n"
    "Prints the question/answer pairs of FILE (a session's chosen path, or a\n"
    "text file) and a summary: count, per-class counts and balance,\n"
    "duplicates dropped, ambiguous and unmatched answers.\n"
    "\n"
    "  --format F     text (default), csv or jsonl (summary then on stderr)\n"
    "  --compat seed  reproduce the seed project's cleaner, quirks included\n"
    "  --pattern RE   PCRE2, dot-all; group 1 question, group 2 answer\n"
    "                 (default: Question: (.*?)\\nAnswer: (.*?)\\n)\n"
    "  --preamble T   extract after the last T (default: the seed's\n"
    "                 generation-prompt sentence; \"\" for none)\n"
    "  --labels L     comma-separated class labels (default Yes,No)\n";

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
	case PAIR_KEPT: break;
	}
	return "kept";
}

static void print_where(const struct pair *p)
{
	printf("line %zu", p->line);
	if (p->node_id) {
		fputs(", node ", stdout);
		put_str(stdout, p->node_id);
	}
}

static void print_text(const struct pairs_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];

		printf("%zu. [", i + 1);
		put_str(stdout, r->labels[p->class_index]);
		fputs("] ", stdout);
		put_str(stdout, p->question);
		fputs("\n   answer: ", stdout);
		put_str(stdout, p->answer);
		fputs("\n   (", stdout);
		print_where(p);
		fputs(")\n", stdout);
	}
	for (i = 0; i < r->ndropped; i++) {
		const struct pair *p = &r->dropped[i];

		printf("dropped, %s (", status_name(p->status));
		print_where(p);
		fputs("): ", stdout);
		put_str(stdout, p->question);
		fputs(" -> ", stdout);
		put_str(stdout, p->answer);
		fputc('\n', stdout);
	}
}

int cmd_extract(int argc, char **argv)
{
	struct dataset_args a;
	struct dataset_input in;
	struct task task;
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT, summary = STRBUF_INIT;
	struct errbuf err;
	enum export_format f = EXPORT_CSV;
	int rc, text;

	rc = dataset_args_parse(&a, argc, argv, 0, &err);
	if (rc) {
		dataset_args_release(&a);
		if (rc > 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		return cli_usage_error("extract", usage_text, err.msg);
	}
	text = !a.format || !strcmp(a.format, "text");
	if (!text && strcmp(a.format, "csv") && strcmp(a.format, "jsonl")) {
		errbuf_set(&err, "unknown format '%s' (text, csv, jsonl)", a.format);
		dataset_args_release(&a);
		return cli_usage_error("extract", usage_text, err.msg);
	}
	if (!text && !strcmp(a.format, "jsonl"))
		f = EXPORT_JSONL;
	if (dataset_input_load(a.file, &in, &err)) {
		fputs("weft extract: ", stderr);
		put_str(stderr, err.msg);
		fputc('\n', stderr);
		dataset_args_release(&a);
		return 1;
	}
	if (in.warned)
		cli_error("extract", in.warning.msg); /* a torn journal line: said, not fatal */
	cli_dataset_task(&a, in.tree, &task);
	rc = 0;
	if (dataset_extract(&a, &in, &r, &err)) {
		fputs("weft extract: ", stderr);
		put_str(stderr, a.file);
		fputs(": ", stderr);
		put_str(stderr, err.msg);
		fputc('\n', stderr);
		rc = 1;
		goto out;
	}
	pairs_summary(&r, &summary);
	if (text) {
		print_text(&r);
		put_text(stdout, summary.data, summary.len, 1);
	} else {
		if (r.count)
			export_write(&r, f, NULL, &out, &err);
		else if (f == EXPORT_CSV)
			strbuf_addstr(&out, "question,answer,label,class_index,node\n");
		put_text(stdout, out.data, out.len, 1);
		put_text(stderr, summary.data, summary.len, 1);
	}
	fflush(stdout);
	if (ferror(stdout)) {
		fputs("weft extract: cannot write to standard output\n", stderr);
		rc = 1;
	}
out:
	task_release(&task);
	pairs_result_release(&r);
	dataset_input_release(&in);
	dataset_args_release(&a);
	strbuf_release(&out);
	strbuf_release(&summary);
	return rc;
}

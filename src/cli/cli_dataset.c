/*
 * What the dataset commands say about a dataset made from several inputs
 * (dataset.h, evalset.h): where each repeat came from and what it
 * repeats, and how the inputs' tasks and labels mix.
 */
#include <stdio.h>
#include <string.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/dataset.h"
#include "weft/evalset.h"
#include "weft/safetext.h"
#include "weft/strbuf.h"

/* "FILE, node ID, line N" into b (no node: left out). */
static void where(struct strbuf *b, const char *file, const char *node, const char *unit, size_t n)
{
	strbuf_addstr(b, file);
	if (node)
		strbuf_addf(b, ", node %s", node);
	strbuf_addf(b, ", %s %zu", unit, n);
}

/* One repeat, two lines: the pair dropped (where, question) and the one
 * kept. */
static void repeat_lines(FILE *f, int kind, double similarity, const char *how,
			 const char *dropped_where, const char *question, const char *kept_where)
{
	if (kind == DATASET_REPEAT_NEAR)
		safetext_printf(f,
				"repeat of an earlier input, dropped (near, similarity %.2f, %s): ",
				similarity, how);
	else
		safetext_printf(f, "repeat of an earlier input, dropped (%s): ",
				dataset_repeat_name((enum dataset_repeat)kind));
	safetext_printf(f, "%s: %s\n", dropped_where, question);
	safetext_printf(f, "  kept: %s\n", kept_where);
}

/* "N inputs: K kept, R dropped as repeats of an earlier input (e exact,
 * n normalised, m near)"; count[] by enum dataset_repeat. */
static void repeats_total(FILE *f, size_t inputs, size_t kept, const size_t *count)
{
	size_t n = count[DATASET_REPEAT_EXACT] + count[DATASET_REPEAT_NORMALISED] +
		   count[DATASET_REPEAT_NEAR];

	fprintf(f,
		"%zu inputs: %zu kept, %zu dropped as repeats of an earlier input (%zu exact, %zu "
		"normalised, %zu near)\n",
		inputs, kept, n, count[DATASET_REPEAT_EXACT], count[DATASET_REPEAT_NORMALISED],
		count[DATASET_REPEAT_NEAR]);
}

void cli_dataset_repeats(FILE *f, const struct dataset *d)
{
	struct strbuf dw = STRBUF_INIT, kw = STRBUF_INIT;
	size_t k, count[4] = {0, 0, 0, 0};

	if (d->npaths < 2)
		return;
	for (k = 0; k < d->nrepeats; k++) {
		const struct dataset_repeat_drop *x = &d->repeats[k];
		const struct pair *kept = &d->r.pairs[x->kept];

		strbuf_reset(&dw);
		strbuf_reset(&kw);
		where(&dw, d->paths[x->source], x->pair.node_id, "line", x->pair.line);
		where(&kw, d->paths[d->source[x->kept]], kept->node_id, "line", kept->line);
		repeat_lines(f, x->kind, x->similarity, x->how, dw.data, x->pair.question, kw.data);
		count[x->kind & 3]++;
	}
	repeats_total(f, d->npaths, d->r.count, count);
	strbuf_release(&dw);
	strbuf_release(&kw);
}

void cli_evalset_warnings(const char *cmd, const struct evalset *s)
{
	const char *p = s->warning, *nl;

	for (; p && *p; p = nl ? nl + 1 : NULL) {
		struct strbuf line = STRBUF_INIT;

		nl = strchr(p, '\n');
		strbuf_add(&line, p, nl ? (size_t)(nl - p) : strlen(p));
		cli_error(cmd, line.data);
		strbuf_release(&line);
	}
}

void cli_evalset_repeats(FILE *f, const struct evalset *s)
{
	struct strbuf dw = STRBUF_INIT, kw = STRBUF_INIT;
	size_t k, count[4] = {0, 0, 0, 0};

	if (s->nsources < 2)
		return;
	for (k = 0; k < s->nrepeats; k++) {
		const struct evalset_repeat *x = &s->repeats[k];
		const struct evalset_example *kept = &s->items[x->kept];

		strbuf_reset(&dw);
		strbuf_reset(&kw);
		where(&dw, s->sources[x->source], x->node_id, "row", (size_t)x->row + 1);
		where(&kw, s->sources[kept->source], kept->node_id, "row", (size_t)kept->row + 1);
		repeat_lines(f, x->kind, x->similarity, x->how, dw.data, x->question, kw.data);
		count[x->kind & 3]++;
	}
	repeats_total(f, s->nsources, s->n, count);
	strbuf_release(&dw);
	strbuf_release(&kw);
}

void cli_dataset_mixing(const char *cmd, const char *what, int tasks_differ, int labels_differ)
{
	struct strbuf msg = STRBUF_INIT;

	if (tasks_differ) {
		strbuf_addf(&msg,
			    "note: the inputs name different tasks; each session is read with its "
			    "own task's settings%s",
			    what ? what : "");
		cli_error(cmd, msg.data);
	}
	if (labels_differ)
		cli_error(cmd, "note: the inputs' labels differ; the dataset's classes are all of "
			       "them, in the order they first appear");
	strbuf_release(&msg);
}

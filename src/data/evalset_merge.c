/*
 * Several inputs as one evaluation set (evalset.h, evalset_load_many):
 * each loaded as evalset_load loads one, their examples in input order, and
 * the examples repeating an earlier input's left out (dataset.h's
 * dataset_match_earlier, the same rules as extract and export).
 */
#include <stdlib.h>
#include <string.h>

#include "weft/dataset.h"
#include "weft/evalset.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

/* Longest name joined from the inputs' names before it is cut short. */
#define EVALSET_MAX_JOINED_NAME 60

/* The last part of path (trailing slashes left out) into out. */
static void base_name(const char *path, struct strbuf *out)
{
	size_t len = strlen(path), start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	for (start = len; start > 0 && path[start - 1] != '/'; start--)
		;
	strbuf_add(out, path + start, len - start);
}

/* A folder's name for one folder, else the inputs' names joined by "+"
 * (the first and a count when that is long). */
static void merged_name(struct evalset *s, const char *const *args, size_t nargs,
			const char *const *names, size_t n)
{
	struct strbuf b = STRBUF_INIT;
	size_t k;

	if (nargs == 1) {
		base_name(args[0], &b);
	} else {
		for (k = 0; k < n; k++)
			strbuf_addf(&b, "%s%s", k ? "+" : "", names[k]);
		if (b.len > EVALSET_MAX_JOINED_NAME) {
			strbuf_reset(&b);
			strbuf_addf(&b, "%s+%zu-more", names[0], n - 1);
		}
	}
	free(s->name);
	s->name = strbuf_detach(&b, NULL);
}

/* part's examples appended to s (moved), those repeating s's earlier ones
 * listed in s->repeats instead. */
static void append_part(struct evalset *s, struct evalset *part, size_t source)
{
	const char **earlier = xcalloc(s->n + 1, sizeof(*earlier));
	const char **texts = xcalloc(part->n + 1, sizeof(*texts));
	struct dataset_match *m = xcalloc(part->n + 1, sizeof(*m));
	size_t i;

	for (i = 0; i < s->n; i++)
		earlier[i] = s->items[i].question;
	for (i = 0; i < part->n; i++)
		texts[i] = part->items[i].question;
	dataset_match_earlier(earlier, s->n, texts, part->n, part->near_threshold, m);
	for (i = 0; i < part->n; i++) {
		struct evalset_example *e = &part->items[i];

		if (m[i].kind != DATASET_NEW) {
			struct evalset_repeat *x;

			s->repeats =
			    xreallocarray(s->repeats, s->nrepeats + 1, sizeof(*s->repeats));
			x = &s->repeats[s->nrepeats++];
			x->source = source;
			x->row = e->row;
			x->node_id = e->node_id;
			x->question = e->question;
			e->node_id = e->question = NULL; /* moved; the rest part frees */
			x->kept = m[i].of;
			x->kind = (int)m[i].kind;
			x->similarity = m[i].similarity;
			x->how = m[i].source;
			continue;
		}
		XGROW(s->items, s->cap, s->n + 1);
		s->items[s->n] = *e;
		s->items[s->n].index = (long)s->n;
		s->items[s->n].source = source;
		s->n++;
		memset(e, 0, sizeof(*e)); /* moved */
	}
	free(earlier);
	free(texts);
	free(m);
}

/* Input k (path) into s; its name into names[k] (owned), its hash into
 * hashes.  Returns 0, or -1 with err set. */
static int load_part(struct evalset *s, const char *path, size_t k, evalset_task_fn *task_opts,
		     void *ctx, char **names, struct strbuf *hashes, struct errbuf *err)
{
	struct evalset part;
	int rc;

	evalset_init(&part);
	rc = evalset_load(&part, path, task_opts, ctx, err);
	if (!rc) {
		strbuf_addstr(hashes, part.hash);
		names[k] = part.name ? xstrdup(part.name) : xstrdup("dataset");
		if (!k) {
			s->task = xstrdup_or_null(part.task);
			s->logodds = part.logodds;
		} else {
			if (part.task ? !s->task || strcmp(part.task, s->task) : !!s->task)
				s->tasks_differ = 1;
			s->logodds &= part.logodds;
		}
		if (part.warning && !s->warning) {
			s->warning = xstrdup(part.warning);
		} else if (part.warning) { /* every input's said, one a line */
			struct strbuf all = STRBUF_INIT;

			strbuf_addf(&all, "%s\n%s", s->warning, part.warning);
			free(s->warning);
			s->warning = strbuf_detach(&all, NULL);
		}
		append_part(s, &part, k);
	}
	evalset_release(&part);
	return rc;
}

int evalset_load_many(struct evalset *s, const char *const *args, size_t nargs,
		      evalset_task_fn *task_opts, void *ctx, struct errbuf *err)
{
	struct dataset_inputs in;
	struct strbuf hashes = STRBUF_INIT;
	char **names;
	size_t k;
	int rc = 0;

	memset(&in, 0, sizeof(in));
	if (nargs == 1 && dataset_inputs_expand(&in, args, 1, err) == 0 && in.n == 1 &&
	    !in.in_folder[0]) {
		dataset_inputs_release(&in);
		return evalset_load(s, args[0], task_opts, ctx, err); /* one file: as always */
	}
	dataset_inputs_release(&in);
	if (dataset_inputs_expand(&in, args, nargs, err)) {
		dataset_inputs_release(&in);
		return -1;
	}
	names = xcalloc(in.n + 1, sizeof(*names));
	s->sources = xcalloc(in.n + 1, sizeof(*s->sources));
	for (k = 0; !rc && k < in.n; k++) {
		s->sources[s->nsources++] = xstrdup(in.paths[k]);
		rc = load_part(s, in.paths[k], k, task_opts, ctx, names, &hashes, err);
	}
	if (!rc) {
		merged_name(s, args, nargs, (const char *const *)names, in.n);
		evalset_hash(hashes.data, hashes.len, s->hash);
	}
	for (k = 0; k < in.n; k++)
		free(names[k]);
	free(names);
	strbuf_release(&hashes);
	dataset_inputs_release(&in);
	return rc;
}

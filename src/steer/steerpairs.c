/*
 * The pairs a steering step sees (steerpairs.h): the path's pairs and the
 * duplicate flags of candidates, by the data layer's own extraction.
 */
#include "weft/steerpairs.h"

#include <stdlib.h>
#include <string.h>

#include "weft/curate.h"
#include "weft/similar.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/* The document from t's root to at, one span per node. */
static void path_document(struct steer_pairs *sp, const struct tree *t, uint32_t at)
{
	size_t depth = tree_depth(t, at) + 1, k = depth;
	uint32_t *nodes = xcalloc(depth, sizeof(*nodes));
	uint32_t i = at;

	while (k > 0) {
		nodes[--k] = i;
		i = tree_node(t, i)->parent;
	}
	sp->spans = xcalloc(depth, sizeof(*sp->spans));
	sp->nspans = depth;
	for (k = 0; k < depth; k++) {
		const struct tree_node *nd = tree_node(t, nodes[k]);

		sp->spans[k].offset = sp->document.len;
		sp->spans[k].node_id = nd->id;
		strbuf_add(&sp->document, nd->text, nd->text_len);
		if (k == 0)
			sp->options.start = sp->document.len; /* pairs start after the root */
	}
	free(nodes);
}

int steer_pairs_init(struct steer_pairs *sp, const struct tree *t, uint32_t at,
		     const struct task *task)
{
	struct curate_options co;
	size_t k;

	memset(sp, 0, sizeof(*sp));
	strbuf_init(&sp->document);
	task_pairs_options(task, &sp->options);
	path_document(sp, t, at);
	if (pairs_extract(sp->document.data, sp->document.len, sp->spans, sp->nspans, &sp->options,
			  &sp->path, &sp->err) < 0)
		return -1;
	/* the dataset's pairs: the session's decisions applied; near-duplicates
	 * among the path's own pairs are no concern of the step */
	curate_options_init(&co);
	co.near_threshold = 0;
	curate_pairs(&sp->path, t, &co);
	sp->keys = xcalloc(sp->path.count ? sp->path.count : 1, sizeof(*sp->keys));
	for (k = 0; k < sp->path.count; k++) {
		struct strbuf key = STRBUF_INIT;

		pairs_normalise_question(sp->path.pairs[k].question, &key);
		sp->keys[k] = strbuf_detach(&key, NULL);
	}
	sp->ok = 1;
	return 0;
}

void steer_pairs_release(struct steer_pairs *sp)
{
	size_t k;

	for (k = 0; sp->keys && k < sp->path.count; k++)
		free(sp->keys[k]);
	free(sp->keys);
	pairs_result_release(&sp->path);
	free(sp->spans);
	strbuf_release(&sp->document);
	memset(sp, 0, sizeof(*sp));
}

void steer_pairs_balance(const struct steer_pairs *sp, struct strbuf *out)
{
	size_t k;

	if (!sp->ok) {
		strbuf_addstr(out, "unknown");
		return;
	}
	for (k = 0; k < sp->path.nlabels; k++)
		strbuf_addf(out, "%s%s: %zu", k ? ", " : "", sp->path.labels[k],
			    sp->path.per_class[k]);
}

/* A question on one line for the judge: line breaks (and tabs) as spaces,
 * cut at STEER_QUESTION_MAX bytes on a character. */
static void quote_question(const char *q, struct strbuf *out)
{
	size_t len = strlen(q), cut = len, k;

	if (len > STEER_QUESTION_MAX)
		cut = utf8_valid_prefix(q, STEER_QUESTION_MAX);
	for (k = 0; k < cut; k++)
		strbuf_addch(out, q[k] == '\n' || q[k] == '\r' || q[k] == '\t' ? ' ' : q[k]);
	if (cut < len)
		strbuf_addstr(out, "...");
}

void steer_pairs_recent(const struct steer_pairs *sp, struct strbuf *out)
{
	size_t n = sp->ok ? sp->path.count : 0;
	size_t k = n > STEER_RECENT ? n - STEER_RECENT : 0;

	if (!n) {
		strbuf_addstr(out, "(none yet)");
		return;
	}
	for (; k < n; k++) {
		quote_question(sp->path.pairs[k].question, out);
		if (k + 1 < n)
			strbuf_addch(out, '\n');
	}
}

/* The pairs r holds whose answer is in the candidate (the span without a
 * node) and that the dataset would take or drop as a repeat, in line
 * order.  Returns their count; *out is owned by the caller. */
static size_t candidate_pairs(const struct pairs_result *r, const struct pair ***out)
{
	const struct pair **v = xcalloc(r->count + r->ndropped + 1, sizeof(*v));
	size_t i = 0, j = 0, n = 0;

	while (i < r->count || j < r->ndropped) {
		const struct pair *p;

		if (j == r->ndropped || (i < r->count && r->pairs[i].line <= r->dropped[j].line))
			p = &r->pairs[i++];
		else
			p = &r->dropped[j++];
		if (!p->node_id && (p->status == PAIR_KEPT || p->status == PAIR_DUP_EXACT ||
				    p->status == PAIR_DUP_NORMALISED))
			v[n++] = p;
	}
	*out = v;
	return n;
}

/* The first of texts[0..n) equal to texts[n], or n when none. */
static size_t same_before(const char *const *texts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(texts[i], texts[n]))
			return i;
	return n;
}

/* Flags the pair texts[at] (keys[at] its normalised question, status its
 * extraction's) against every pair before it: exact, normalised, else
 * near (the near-duplicate search's matches).  Returns 1 when flagged. */
static int flag_one(const char *const *texts, const char *const *keys, size_t at,
		    enum pair_status status, const struct similar_match *near, struct steer_dup *d)
{
	size_t i = same_before(texts, at);

	d->score = 1;
	d->source = NULL;
	if (i < at) {
		d->kind = STEER_DUP_EXACT;
		d->of = i;
	} else if ((i = same_before(keys, at)) < at) {
		d->kind = STEER_DUP_NORMALISED;
		d->of = i;
	} else if (status != PAIR_KEPT) {
		/* dropped as a repeat of a pair no longer among the path's */
		d->kind = status == PAIR_DUP_EXACT ? STEER_DUP_EXACT : STEER_DUP_NORMALISED;
		d->of = STEER_DUP_UNNAMED;
	} else if (near[at].found) {
		d->kind = STEER_DUP_NEAR;
		d->of = near[at].of;
		d->score = near[at].score;
		d->source = near[at].source;
	} else {
		return 0;
	}
	return 1;
}

/* Flags the first of the n new pairs that repeats an earlier one. */
static int flag_new_pairs(const struct steer_pairs *sp, const struct pair *const *added, size_t n,
			  struct steer_dup *d)
{
	size_t base = sp->path.count, all = base + n, j;
	const char **texts = xcalloc(all, sizeof(*texts));
	const char **keys = xcalloc(all, sizeof(*keys));
	struct similar_match *near = xcalloc(all, sizeof(*near));
	int flagged = 0;

	for (j = 0; j < base; j++) {
		texts[j] = sp->path.pairs[j].question;
		keys[j] = sp->keys[j];
	}
	for (j = 0; j < n; j++) {
		struct strbuf key = STRBUF_INIT;

		pairs_normalise_question(added[j]->question, &key);
		texts[base + j] = added[j]->question;
		keys[base + j] = strbuf_detach(&key, NULL);
	}
	/* a search past its budget leaves the rest unmatched: no near flag */
	similar_near_duplicates(texts, all, NULL, sp->options.near_threshold, near);
	for (j = 0; j < n && !flagged; j++)
		flagged = flag_one(texts, keys, base + j, added[j]->status, near, d);
	for (j = base; j < all; j++)
		free((char *)keys[j]);
	free(texts);
	free(keys);
	free(near);
	return flagged;
}

int steer_pairs_flag(const struct steer_pairs *sp, const char *text, struct steer_dup *d)
{
	struct strbuf doc = STRBUF_INIT;
	struct pairs_span *spans;
	struct pairs_result r;
	struct errbuf err;
	const struct pair **added = NULL;
	size_t n;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	d->of = STEER_DUP_UNNAMED;
	if (!sp->ok)
		return -1;
	strbuf_add(&doc, sp->document.data, sp->document.len);
	strbuf_addstr(&doc, text);
	spans = xcalloc(sp->nspans + 1, sizeof(*spans));
	memcpy(spans, sp->spans, sp->nspans * sizeof(*spans));
	/* the candidate's span has no node: its pairs are those with none */
	spans[sp->nspans].offset = sp->document.len;
	spans[sp->nspans].node_id = NULL;
	memset(&r, 0, sizeof(r));
	if (pairs_extract(doc.data, doc.len, spans, sp->nspans + 1, &sp->options, &r, &err) >= 0) {
		n = candidate_pairs(&r, &added);
		ret = n ? flag_new_pairs(sp, added, n, d) : 0;
		free(added);
	}
	pairs_result_release(&r);
	free(spans);
	strbuf_release(&doc);
	return ret;
}

const char *steer_pairs_question(const struct steer_pairs *sp, const struct steer_dup *d)
{
	if (d->kind == STEER_DUP_NONE || d->of >= sp->path.count)
		return NULL;
	return sp->path.pairs[d->of].question;
}

void steer_dup_mark(const struct steer_dup *d, struct strbuf *out)
{
	if (d->kind == STEER_DUP_NONE)
		return;
	strbuf_addstr(out, d->kind == STEER_DUP_NEAR ? "near-dup" : "dup");
	if (d->of != STEER_DUP_UNNAMED)
		strbuf_addf(out, " #%zu", d->of + 1);
}

void steer_pairs_note(const struct steer_pairs *sp, const struct steer_dup *d, struct strbuf *out)
{
	const char *q = steer_pairs_question(sp, d);

	if (d->kind == STEER_DUP_NONE)
		return;
	strbuf_addstr(out, d->kind == STEER_DUP_NEAR ? "(nearly repeats " : "(repeats ");
	if (d->of == STEER_DUP_UNNAMED)
		strbuf_addstr(out, "an earlier question");
	else
		strbuf_addf(out, "question %zu", d->of + 1);
	if (d->kind == STEER_DUP_NEAR)
		strbuf_addf(out, ", similarity %.2f", d->score);
	if (q) {
		strbuf_addstr(out, ": ");
		quote_question(q, out);
	}
	strbuf_addch(out, ')');
}

char **steer_pairs_notes(const struct steer_pairs *sp, const char *const *texts, size_t count)
{
	char **notes = xcalloc(count ? count : 1, sizeof(*notes));
	struct strbuf note = STRBUF_INIT;
	size_t k;

	for (k = 0; k < count; k++) {
		struct steer_dup d;

		if (steer_pairs_flag(sp, texts[k], &d) != 1)
			continue;
		strbuf_reset(&note);
		steer_pairs_note(sp, &d, &note);
		notes[k] = xstrdup(note.data);
	}
	strbuf_release(&note);
	return notes;
}

void steer_pairs_notes_free(char **notes, size_t count)
{
	size_t k;

	for (k = 0; notes && k < count; k++)
		free(notes[k]);
	free(notes);
}

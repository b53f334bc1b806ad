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

/* The document from t's root to at into sp, and its spans (one per node,
 * ids borrowed from t) into *spans (owned by the caller). */
static size_t path_document(struct steer_pairs *sp, const struct tree *t, uint32_t at,
			    struct pairs_span **spans)
{
	size_t depth = tree_depth(t, at) + 1, k = depth;
	uint32_t *nodes = xcalloc(depth, sizeof(*nodes));
	uint32_t i = at;

	while (k > 0) {
		nodes[--k] = i;
		i = tree_node(t, i)->parent;
	}
	*spans = xcalloc(depth, sizeof(**spans));
	for (k = 0; k < depth; k++) {
		const struct tree_node *nd = tree_node(t, nodes[k]);

		(*spans)[k].offset = sp->document.len;
		(*spans)[k].node_id = nd->id;
		strbuf_add(&sp->document, nd->text, nd->text_len);
		if (k == 0)
			sp->options.start = sp->document.len; /* pairs start after the root */
	}
	free(nodes);
	return depth;
}

static char *normalised(const char *q)
{
	struct strbuf key = STRBUF_INIT;

	pairs_normalise_question(q, &key);
	return strbuf_detach(&key, NULL);
}

/* The questions a candidate's are compared with: the path's pairs, and the
 * rejected ones extraction would still drop a repeat of. */
static void comparison_keys(struct steer_pairs *sp)
{
	const struct pairs_result *r = &sp->path;
	size_t k;

	sp->keys = xcalloc(r->count ? r->count : 1, sizeof(*sp->keys));
	for (k = 0; k < r->count; k++)
		sp->keys[k] = normalised(r->pairs[k].question);
	sp->rejected = xcalloc(r->ndropped ? r->ndropped : 1, sizeof(*sp->rejected));
	sp->rejected_keys = xcalloc(r->ndropped ? r->ndropped : 1, sizeof(*sp->rejected_keys));
	for (k = 0; k < r->ndropped; k++) {
		if (r->dropped[k].status != PAIR_REJECTED)
			continue;
		sp->rejected[sp->nrejected] = r->dropped[k].question;
		sp->rejected_keys[sp->nrejected++] = normalised(r->dropped[k].question);
	}
}

int steer_pairs_init(struct steer_pairs *sp, const struct tree *t, uint32_t at,
		     const struct task *task)
{
	struct curate_options co;
	struct pairs_span *spans;
	size_t nspans;
	const char *doc;
	int r;

	memset(sp, 0, sizeof(*sp));
	strbuf_init(&sp->document);
	task_pairs_options(task, &sp->options);
	nspans = path_document(sp, t, at, &spans);
	r = pairs_extract(sp->document.data, sp->document.len, spans, nspans, &sp->options,
			  &sp->path, &sp->err);
	free(spans);
	if (r < 0)
		return -1;
	/* the dataset's pairs: the session's decisions applied; near-duplicates
	 * among the path's own pairs are no concern of the step */
	curate_options_init(&co);
	co.near_threshold = 0;
	curate_pairs(&sp->path, t, &co);
	comparison_keys(sp);
	doc = sp->document.data;
	sp->tail = sp->document.len;
	while (sp->tail > 0 && strchr(" \t\r\n\f\v", doc[sp->tail - 1]))
		sp->tail--;
	while (sp->tail > 0 && doc[sp->tail - 1] != '\n')
		sp->tail--;
	sp->ok = 1;
	return 0;
}

void steer_pairs_release(struct steer_pairs *sp)
{
	size_t k;

	for (k = 0; sp->keys && k < sp->path.count; k++)
		free(sp->keys[k]);
	free(sp->keys);
	for (k = 0; k < sp->nrejected; k++)
		free(sp->rejected_keys[k]);
	free(sp->rejected_keys);
	free(sp->rejected);
	pairs_result_release(&sp->path);
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

/* The pairs of one candidate's text, in line order, that the dataset would
 * take or drop as a repeat (not those whose answer names no label or
 * several). */
struct added {
	struct pairs_result r;
	const struct pair **pairs;
	size_t count;
	int failed; /* extraction failed: nothing flagged */
};

/* The pairs text adds after the path: extraction of the path's last line
 * and text, reading pairs whose answer ends in text (pairs_extract's start
 * rule); the preamble was found in the path already. */
static void added_pairs(const struct steer_pairs *sp, const char *text, struct added *a)
{
	struct pairs_options o = sp->options;
	struct strbuf doc = STRBUF_INIT;
	struct errbuf err;
	const struct pairs_result *r = &a->r;
	size_t i = 0, j = 0;

	memset(a, 0, sizeof(*a));
	strbuf_add(&doc, sp->document.data + sp->tail, sp->document.len - sp->tail);
	o.start = doc.len;
	o.preamble = "";
	strbuf_addstr(&doc, text);
	a->failed = pairs_extract(doc.data, doc.len, NULL, 0, &o, &a->r, &err) < 0;
	strbuf_release(&doc);
	a->pairs = xcalloc(r->count + r->ndropped + 1, sizeof(*a->pairs));
	while (!a->failed && (i < r->count || j < r->ndropped)) {
		const struct pair *p;

		if (j == r->ndropped || (i < r->count && r->pairs[i].line <= r->dropped[j].line))
			p = &r->pairs[i++];
		else
			p = &r->dropped[j++];
		if (p->status == PAIR_KEPT || p->status == PAIR_DUP_EXACT ||
		    p->status == PAIR_DUP_NORMALISED)
			a->pairs[a->count++] = p;
	}
}

/* The first of v[from..to) equal to s, or to when none. */
static size_t find_same(const char *const *v, size_t from, size_t to, const char *s)
{
	for (; from < to; from++)
		if (!strcmp(v[from], s))
			return from;
	return to;
}

/* Questions in one array for the comparisons: the path's pairs (base of
 * them, eligible for near-duplicates), then every candidate's new pairs. */
struct compared {
	const char **texts;
	const char **keys; /* the path's borrowed, the new ones owned */
	size_t base, count;
	struct similar_match *near;
};

/* Flags new pair at (of one candidate whose pairs start at first) against
 * the path's pairs, the rejected ones and the candidate's earlier pairs:
 * exact, normalised, then near.  Returns 1 when flagged. */
static int flag_one(const struct steer_pairs *sp, const struct compared *c, size_t first, size_t at,
		    struct steer_dup *d)
{
	const char *q = c->texts[at], *key = c->keys[at];
	size_t i;

	d->score = 1;
	d->source = NULL;
	d->of = STEER_DUP_UNNAMED;
	if ((i = find_same(c->texts, 0, c->base, q)) < c->base ||
	    (i = find_same(c->texts, first, at, q)) < at) {
		d->kind = STEER_DUP_EXACT;
		d->of = i < c->base ? i : c->base + (i - first);
	} else if ((i = find_same(c->keys, 0, c->base, key)) < c->base ||
		   (i = find_same(c->keys, first, at, key)) < at) {
		d->kind = STEER_DUP_NORMALISED;
		d->of = i < c->base ? i : c->base + (i - first);
	} else if (find_same(sp->rejected, 0, sp->nrejected, q) < sp->nrejected) {
		d->kind = STEER_DUP_EXACT;
	} else if (find_same((const char *const *)sp->rejected_keys, 0, sp->nrejected, key) <
		   sp->nrejected) {
		d->kind = STEER_DUP_NORMALISED;
	} else if (c->near[at].found) {
		d->kind = STEER_DUP_NEAR;
		d->of = c->near[at].of;
		d->score = c->near[at].score;
		d->source = c->near[at].source;
	} else {
		return 0;
	}
	return 1;
}

/* The comparison arrays for the path and the added pairs of n texts, with
 * one near-duplicate search of them all against the path's pairs. */
static void compare_init(const struct steer_pairs *sp, const struct added *a, size_t n,
			 struct compared *c)
{
	unsigned char *eligible;
	size_t k, j, total = sp->path.count;

	for (k = 0; k < n; k++)
		total += a[k].count;
	c->base = sp->path.count;
	c->count = total;
	c->texts = xcalloc(total ? total : 1, sizeof(*c->texts));
	c->keys = xcalloc(total ? total : 1, sizeof(*c->keys));
	c->near = xcalloc(total ? total : 1, sizeof(*c->near));
	eligible = xcalloc(total ? total : 1, 1);
	for (j = 0; j < c->base; j++) {
		c->texts[j] = sp->path.pairs[j].question;
		c->keys[j] = sp->keys[j];
		eligible[j] = 1;
	}
	total = c->base;
	for (k = 0; k < n; k++)
		for (j = 0; j < a[k].count; j++) {
			c->texts[total] = a[k].pairs[j]->question;
			c->keys[total++] = normalised(a[k].pairs[j]->question);
		}
	/* a search past its budget leaves the rest unmatched: no near flag */
	if (c->count > c->base)
		similar_near_duplicates(c->texts, c->count, eligible, sp->options.near_threshold,
					c->near);
	free(eligible);
}

static void compare_release(struct compared *c)
{
	size_t k;

	for (k = c->base; k < c->count; k++)
		free((char *)c->keys[k]);
	free(c->texts);
	free(c->keys);
	free(c->near);
}

/* steer_pairs_flag_all; *failed counts the texts whose extraction failed. */
static int flag_texts(const struct steer_pairs *sp, const char *const *texts, size_t count,
		      struct steer_dup *d, size_t *failed)
{
	struct added *a = xcalloc(count ? count : 1, sizeof(*a));
	struct compared c;
	size_t k, j, first;
	int flagged = 0;

	*failed = 0;
	for (k = 0; k < count; k++) {
		memset(&d[k], 0, sizeof(d[k]));
		d[k].of = STEER_DUP_UNNAMED;
		added_pairs(sp, texts[k], &a[k]);
		*failed += a[k].failed != 0;
	}
	compare_init(sp, a, count, &c);
	for (k = 0, first = c.base; k < count; first += a[k].count, k++) {
		for (j = 0; j < a[k].count && !flag_one(sp, &c, first, first + j, &d[k]); j++)
			;
		if (j < a[k].count) {
			flagged++;
		} else {
			memset(&d[k], 0, sizeof(d[k]));
			d[k].of = STEER_DUP_UNNAMED;
		}
	}
	compare_release(&c);
	for (k = 0; k < count; k++) {
		free(a[k].pairs);
		pairs_result_release(&a[k].r);
	}
	free(a);
	return flagged;
}

int steer_pairs_flag_all(const struct steer_pairs *sp, const char *const *texts, size_t count,
			 struct steer_dup *d)
{
	size_t k, failed;

	if (sp->ok)
		return flag_texts(sp, texts, count, d, &failed);
	for (k = 0; k < count; k++) {
		memset(&d[k], 0, sizeof(d[k]));
		d[k].of = STEER_DUP_UNNAMED;
	}
	return -1;
}

int steer_pairs_flag(const struct steer_pairs *sp, const char *text, struct steer_dup *d)
{
	size_t failed;
	int r;

	if (!sp->ok)
		return steer_pairs_flag_all(sp, &text, 1, d);
	r = flag_texts(sp, &text, 1, d, &failed);
	return failed ? -1 : r;
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
	struct steer_dup *d = xcalloc(count ? count : 1, sizeof(*d));
	struct strbuf note = STRBUF_INIT;
	size_t k;

	steer_pairs_flag_all(sp, texts, count, d);
	for (k = 0; k < count; k++) {
		if (d[k].kind == STEER_DUP_NONE)
			continue;
		strbuf_reset(&note);
		steer_pairs_note(sp, &d[k], &note);
		notes[k] = xstrdup(note.data);
	}
	strbuf_release(&note);
	free(d);
	return notes;
}

void steer_pairs_notes_free(char **notes, size_t count)
{
	size_t k;

	for (k = 0; notes && k < count; k++)
		free(notes[k]);
	free(notes);
}

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

/* The document from t's root to at into sp, with the nodes and where each
 * ends, and its spans (ids borrowed from t) into *spans (the caller's). */
static size_t path_document(struct steer_pairs *sp, const struct tree *t, uint32_t at,
			    struct pairs_span **spans)
{
	size_t depth = tree_depth(t, at) + 1, k = depth;
	uint32_t i = at;

	sp->nodes = xcalloc(depth, sizeof(*sp->nodes));
	sp->ends = xcalloc(depth, sizeof(*sp->ends));
	sp->nnodes = depth;
	while (k > 0) {
		sp->nodes[--k] = i;
		i = tree_node(t, i)->parent;
	}
	*spans = xcalloc(depth, sizeof(**spans));
	for (k = 0; k < depth; k++) {
		const struct tree_node *nd = tree_node(t, sp->nodes[k]);

		(*spans)[k].offset = sp->document.len;
		(*spans)[k].node_id = nd->id;
		strbuf_add(&sp->document, nd->text, nd->text_len);
		sp->ends[k] = sp->document.len;
		if (k == 0)
			sp->options.start = sp->document.len; /* pairs start after the root */
	}
	return depth;
}

/* The start of the last line that is not blank in doc's first end bytes. */
static size_t tail_of(const char *doc, size_t end)
{
	while (end > 0 && doc[end - 1] && strchr(" \t\r\n\f\v", doc[end - 1]))
		end--;
	while (end > 0 && doc[end - 1] != '\n')
		end--;
	return end;
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
	size_t k, n = r->ndropped ? r->ndropped : 1;

	sp->questions = xcalloc(r->count ? r->count : 1, sizeof(*sp->questions));
	sp->keys = xcalloc(r->count ? r->count : 1, sizeof(*sp->keys));
	for (k = 0; k < r->count; k++) {
		sp->questions[k] = r->pairs[k].question;
		sp->keys[k] = normalised(r->pairs[k].question);
	}
	sp->rejected = xcalloc(n, sizeof(*sp->rejected));
	sp->rejected_keys = xcalloc(n, sizeof(*sp->rejected_keys));
	sp->rejected_nodes = xcalloc(n, sizeof(*sp->rejected_nodes));
	for (k = 0; k < r->ndropped; k++) {
		if (r->dropped[k].status != PAIR_REJECTED)
			continue;
		sp->rejected[sp->nrejected] = r->dropped[k].question;
		sp->rejected_nodes[sp->nrejected] = r->dropped[k].node_id;
		sp->rejected_keys[sp->nrejected++] = normalised(r->dropped[k].question);
	}
}

int steer_pairs_init(struct steer_pairs *sp, const struct tree *t, uint32_t at,
		     const struct task *task)
{
	struct curate_options co;
	struct pairs_span *spans;
	size_t nspans;
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
	sp->tail = tail_of(sp->document.data, sp->document.len);
	sp->ok = 1;
	return 0;
}

void steer_pairs_release(struct steer_pairs *sp)
{
	size_t k;

	for (k = 0; sp->keys && k < sp->path.count; k++)
		free(sp->keys[k]);
	free(sp->keys);
	free(sp->questions);
	for (k = 0; k < sp->nrejected; k++)
		free(sp->rejected_keys[k]);
	free(sp->rejected_keys);
	free(sp->rejected);
	free(sp->rejected_nodes);
	free(sp->nodes);
	free(sp->ends);
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
/* One step's candidates as flag_probes reads them: the path's document
 * up to end, whose first base pairs and nrejected rejected pairs are the
 * step's, its candidates' pairs read from tail. */
struct probe {
	size_t base, nrejected, tail, end;
	const char *const *texts;
	size_t count;
	struct steer_dup *out; /* count entries */
};

/* The pairs of one candidate's text, in line order, that the dataset would
 * take or drop as a repeat (not those whose answer names no label or
 * several). */
struct added {
	struct pairs_result r;
	const struct pair **pairs;
	size_t count;
	int failed; /* extraction failed: nothing flagged */
};

/* The pairs text adds after the document's first end bytes: extraction
 * from tail (its last line that is not blank) with text after it, reading
 * pairs whose answer ends in text (pairs_extract's start rule); the
 * preamble was looked for in the path already. */
static void added_pairs(const struct steer_pairs *sp, const struct probe *pr, const char *text,
			struct added *a)
{
	struct pairs_options o = sp->options;
	struct strbuf doc = STRBUF_INIT;
	struct errbuf err;
	const struct pairs_result *r = &a->r;
	size_t i = 0, j = 0;

	memset(a, 0, sizeof(*a));
	strbuf_add(&doc, sp->document.data + pr->tail, pr->end - pr->tail);
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

/* Every question compared, in one sequence for one near-duplicate search:
 * for each step in order, the path's pairs up to its own (eligible as the
 * earlier text), then its candidates' new pairs (not eligible). */
struct compared {
	const char **texts;
	char **keys;	 /* owned for new pairs, NULL for the path's */
	size_t *path_of; /* the path pair's index, for the path's entries */
	size_t count;
	struct similar_match *near;
};

/* A candidate's new pairs: their questions and normalised forms, and
 * their near-duplicate matches (indices into c). */
struct own {
	const char *const *texts;
	char *const *keys;
	const struct similar_match *near;
};

/* Flags new pair j of a candidate of step pr against the step's path
 * pairs, its rejected ones and the candidate's earlier pairs: exact,
 * normalised, then near.  Returns 1 when flagged. */
static int flag_one(const struct steer_pairs *sp, const struct probe *pr, const struct own *o,
		    const size_t *path_of, size_t j, struct steer_dup *d)
{
	const char *q = o->texts[j], *key = o->keys[j];
	const char *const *keys = (const char *const *)sp->keys;
	const char *const *rkeys = (const char *const *)sp->rejected_keys;
	size_t i;

	d->score = 1;
	d->source = NULL;
	d->of = STEER_DUP_UNNAMED;
	if ((i = find_same(sp->questions, 0, pr->base, q)) < pr->base ||
	    (i = pr->base + find_same(o->texts, 0, j, q)) < pr->base + j) {
		d->kind = STEER_DUP_EXACT;
		d->of = i;
	} else if ((i = find_same(keys, 0, pr->base, key)) < pr->base ||
		   (i = pr->base + find_same((const char *const *)o->keys, 0, j, key)) <
		       pr->base + j) {
		d->kind = STEER_DUP_NORMALISED;
		d->of = i;
	} else if (find_same(sp->rejected, 0, pr->nrejected, q) < pr->nrejected) {
		d->kind = STEER_DUP_EXACT;
	} else if (find_same(rkeys, 0, pr->nrejected, key) < pr->nrejected) {
		d->kind = STEER_DUP_NORMALISED;
	} else if (o->near[j].found) {
		d->kind = STEER_DUP_NEAR;
		d->of = path_of[o->near[j].of];
		d->score = o->near[j].score;
		d->source = o->near[j].source;
	} else {
		return 0;
	}
	return 1;
}

/* The sequence of c for the probes and their candidates' added pairs a
 * (flattened, probe by probe); start[k] gets where candidate k's pairs
 * begin.  Then the one near-duplicate search. */
static void compare_init(const struct steer_pairs *sp, const struct probe *pr, size_t nprobes,
			 const struct added *a, size_t *start, struct compared *c)
{
	unsigned char *eligible;
	size_t s, k = 0, j, g = 0, pb = 0, total = sp->path.count, ncand = 0;

	for (s = 0; s < nprobes; s++)
		ncand += pr[s].count;
	for (k = 0; k < ncand; k++)
		total += a[k].count;
	c->texts = xcalloc(total ? total : 1, sizeof(*c->texts));
	c->keys = xcalloc(total ? total : 1, sizeof(*c->keys));
	c->path_of = xcalloc(total ? total : 1, sizeof(*c->path_of));
	c->near = xcalloc(total ? total : 1, sizeof(*c->near));
	eligible = xcalloc(total ? total : 1, 1);
	for (s = 0, k = 0; s < nprobes; s++) {
		for (; pb < pr[s].base; pb++, g++) {
			c->texts[g] = sp->questions[pb];
			c->path_of[g] = pb;
			eligible[g] = 1;
		}
		for (j = 0; j < pr[s].count; j++, k++) {
			size_t m;

			start[k] = g;
			for (m = 0; m < a[k].count; m++, g++) {
				c->texts[g] = a[k].pairs[m]->question;
				c->keys[g] = normalised(a[k].pairs[m]->question);
			}
		}
	}
	c->count = g;
	/* a search past its budget leaves the rest unmatched: no near flag */
	if (g > pb)
		similar_near_duplicates(c->texts, g, eligible, sp->options.near_threshold, c->near);
	free(eligible);
}

static void compare_release(struct compared *c)
{
	size_t k;

	for (k = 0; k < c->count; k++)
		free(c->keys[k]);
	free(c->texts);
	free(c->keys);
	free(c->path_of);
	free(c->near);
}

/* The flags of every candidate of the probes (their bases in path order).
 * Returns how many are flagged; *failed counts the candidates whose
 * extraction failed. */
static int flag_probes(const struct steer_pairs *sp, const struct probe *pr, size_t nprobes,
		       size_t *failed)
{
	struct added *a;
	struct compared c;
	size_t s, k, j, ncand = 0, *start;
	int flagged = 0;

	for (s = 0; s < nprobes; s++)
		ncand += pr[s].count;
	a = xcalloc(ncand ? ncand : 1, sizeof(*a));
	start = xcalloc(ncand ? ncand : 1, sizeof(*start));
	*failed = 0;
	for (s = 0, k = 0; s < nprobes; s++)
		for (j = 0; j < pr[s].count; j++, k++) {
			added_pairs(sp, &pr[s], pr[s].texts[j], &a[k]);
			*failed += a[k].failed != 0;
		}
	compare_init(sp, pr, nprobes, a, start, &c);
	for (s = 0, k = 0; s < nprobes; s++)
		for (j = 0; j < pr[s].count; j++, k++) {
			struct own o = {c.texts + start[k], c.keys + start[k], c.near + start[k]};
			struct steer_dup *d = &pr[s].out[j];
			size_t m;

			for (m = 0; m < a[k].count && !flag_one(sp, &pr[s], &o, c.path_of, m, d);
			     m++)
				;
			if (m < a[k].count) {
				flagged++;
			} else {
				memset(d, 0, sizeof(*d));
				d->of = STEER_DUP_UNNAMED;
			}
		}
	compare_release(&c);
	for (k = 0; k < ncand; k++) {
		free(a[k].pairs);
		pairs_result_release(&a[k].r);
	}
	free(a);
	free(start);
	return flagged;
}

static void clear_flags(struct steer_dup *d, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++) {
		memset(&d[k], 0, sizeof(d[k]));
		d[k].of = STEER_DUP_UNNAMED;
	}
}

/* The probe of candidates at sp's own node: the whole path is theirs. */
static void own_probe(const struct steer_pairs *sp, const char *const *texts, size_t count,
		      struct steer_dup *d, struct probe *pr)
{
	pr->base = sp->path.count;
	pr->nrejected = sp->nrejected;
	pr->tail = sp->tail;
	pr->end = sp->document.len;
	pr->texts = texts;
	pr->count = count;
	pr->out = d;
}

int steer_pairs_flag_all(const struct steer_pairs *sp, const char *const *texts, size_t count,
			 struct steer_dup *d)
{
	struct probe pr;
	size_t failed;

	clear_flags(d, count);
	if (!sp->ok)
		return -1;
	own_probe(sp, texts, count, d, &pr);
	return flag_probes(sp, &pr, 1, &failed);
}

int steer_pairs_flag(const struct steer_pairs *sp, const char *text, struct steer_dup *d)
{
	struct probe pr;
	size_t failed;
	int r;

	clear_flags(d, 1);
	if (!sp->ok)
		return -1;
	own_probe(sp, &text, 1, d, &pr);
	r = flag_probes(sp, &pr, 1, &failed);
	return failed ? -1 : r;
}

/* The position on sp's path of node id (t's), or 0 when not on it. */
static size_t path_position(const struct tree *t, const uint32_t *pos, const char *id)
{
	uint32_t i = id ? tree_find(t, id) : TREE_NONE;

	return i == TREE_NONE ? 0 : pos[i];
}

int steer_pairs_flag_steps(const struct steer_pairs *sp, const struct tree *t,
			   struct steer_pairs_step *steps, size_t nsteps)
{
	struct probe *pr = xcalloc(nsteps ? nsteps : 1, sizeof(*pr));
	uint32_t *pos = xcalloc(t->count ? t->count : 1, sizeof(*pos));
	size_t s, p = 0, b = 0, rj = 0, failed;
	int r = -1;

	for (s = 0; s < nsteps; s++)
		clear_flags(steps[s].flags, steps[s].count);
	for (s = 0; s < sp->nnodes; s++)
		pos[sp->nodes[s]] = (uint32_t)s;
	for (s = 0; sp->ok && s < nsteps; s++) {
		while (p < sp->nnodes && sp->nodes[p] != steps[s].node)
			p++;
		if (p == sp->nnodes)
			break; /* not on the path, or out of order */
		while (b < sp->path.count && path_position(t, pos, sp->path.pairs[b].node_id) <= p)
			b++;
		while (rj < sp->nrejected && path_position(t, pos, sp->rejected_nodes[rj]) <= p)
			rj++;
		pr[s].base = b;
		pr[s].nrejected = rj;
		pr[s].end = sp->ends[p];
		pr[s].tail = tail_of(sp->document.data, pr[s].end);
		pr[s].texts = steps[s].texts;
		pr[s].count = steps[s].count;
		pr[s].out = steps[s].flags;
	}
	if (sp->ok && s == nsteps)
		r = flag_probes(sp, pr, nsteps, &failed);
	free(pos);
	free(pr);
	return r;
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

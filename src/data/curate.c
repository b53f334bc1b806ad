/*
 * The curated dataset (curate.h): decisions, verdicts and near-duplicate
 * flags applied to an extraction result.
 */
#include "weft/curate.h"

#include <stdlib.h>
#include <string.h>

#include "weft/pairstore.h"
#include "weft/similar.h"
#include "weft/xalloc.h"

void curate_options_init(struct curate_options *o)
{
	memset(o, 0, sizeof(*o));
	o->near_threshold = SIMILAR_DEFAULT_THRESHOLD;
	o->min_verify = -1;
}

static int label_index(const struct pairs_result *r, const char *label, size_t *out)
{
	size_t k;

	for (k = 0; label && k < r->nlabels; k++)
		if (!strcmp(r->labels[k], label)) {
			*out = k;
			return 0;
		}
	return -1;
}

/* The session's decision and latest verdict on p. */
static void read_session(struct pairs_result *r, const struct tree *t, struct pair *p)
{
	struct pairstore_mark m;
	struct pairstore_verdict v;
	uint32_t node = p->node_id ? tree_find(t, p->node_id) : TREE_NONE;
	size_t k;

	if (node == TREE_NONE)
		return;
	if (pairstore_get(t, node, p->question, &m)) {
		p->decision = m.decision;
		p->decided_by = m.by;
		if (m.decision == PAIRSTORE_RELABELLED && !label_index(r, m.label, &k) &&
		    k != p->class_index) {
			p->relabelled = 1;
			p->original_class = p->class_index;
			p->class_index = k;
		}
		pairstore_mark_release(&m);
	}
	if (pairstore_find_verdict(t, node, p->question, p->answer, NULL, &v)) {
		p->has_verdict = 1;
		p->verify_p = v.p;
		pairstore_verdict_release(&v);
	}
}

/* Merges dropped[0..before) and dropped[before..) (each in line order)
 * into one list in line order, the earlier list first on a tie. */
static void merge_dropped(struct pairs_result *r, size_t before)
{
	struct pair *out = xreallocarray(NULL, r->ndropped, sizeof(*out));
	size_t i = 0, j = before, k = 0;

	while (i < before || j < r->ndropped) {
		if (j == r->ndropped || (i < before && r->dropped[i].line <= r->dropped[j].line))
			out[k++] = r->dropped[i++];
		else
			out[k++] = r->dropped[j++];
	}
	memcpy(r->dropped, out, r->ndropped * sizeof(*out));
	free(out);
}

static void drop(struct pairs_result *r, struct pair *p, enum pair_status why)
{
	p->status = why;
	if (why == PAIR_REJECTED)
		r->rejected++;
	else
		r->below_verify++;
	XGROW(r->dropped, r->dropped_cap, r->ndropped + 1);
	r->dropped[r->ndropped++] = *p;
}

static void flag_near_duplicates(struct pairs_result *r, double threshold)
{
	const char **texts;
	unsigned char *eligible;
	struct similar_match *m;
	size_t i;

	if (r->count < 2)
		return;
	texts = xreallocarray(NULL, r->count, sizeof(*texts));
	eligible = xmalloc(r->count);
	m = xreallocarray(NULL, r->count, sizeof(*m));
	for (i = 0; i < r->count; i++) {
		texts[i] = r->pairs[i].question;
		eligible[i] = r->pairs[i].decision != PAIRSTORE_REJECTED;
	}
	r->near_stopped = similar_near_duplicates(texts, r->count, eligible, threshold, m);
	for (i = 0; i < r->count; i++) {
		struct pair *p = &r->pairs[i];

		if (!m[i].found || !eligible[i])
			continue;
		p->near_dup = 1;
		p->near_of = m[i].of;
		p->near_score = m[i].score;
		p->near_source = m[i].source;
		r->near_dups++;
	}
	free(texts);
	free(eligible);
	free(m);
}

void curate_pairs(struct pairs_result *r, const struct tree *t, const struct curate_options *o)
{
	size_t i, kept = 0, before = r->ndropped;

	r->rejected = r->relabelled = r->below_verify = r->near_dups = 0;
	r->near_stopped = 0;
	memset(r->per_class, 0, sizeof(r->per_class));
	for (i = 0; i < r->count; i++) {
		struct pair *p = &r->pairs[i];

		if (t)
			read_session(r, t, p);
		if (p->decision == PAIRSTORE_REJECTED && !o->include_rejected) {
			drop(r, p, PAIR_REJECTED);
			continue;
		}
		if (p->decision != PAIRSTORE_REJECTED && p->has_verdict && o->min_verify >= 0 &&
		    p->verify_p < o->min_verify) {
			drop(r, p, PAIR_BELOW_VERIFY);
			continue;
		}
		if (p->decision == PAIRSTORE_REJECTED)
			r->rejected++;
		else
			r->per_class[p->class_index]++;
		r->relabelled += p->relabelled != 0;
		r->pairs[kept++] = *p;
	}
	r->count = kept;
	if (r->ndropped > before && before)
		merge_dropped(r, before);
	r->curated = t != NULL;
	flag_near_duplicates(r, o->near_threshold);
}

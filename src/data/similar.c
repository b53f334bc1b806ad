/*
 * Near-duplicates by word 2-gram Jaccard (similar.h).  Many texts are
 * compared through a set-similarity join with prefix filtering: 2-grams are
 * numbered rarest first, and two sets with Jaccard >= t must share one of
 * the first |A| - ceil(t |A|) + 1 numbers of each, so only the 2-grams of
 * those prefixes are indexed and looked up.
 */
#include "weft/similar.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/pairs.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

struct hashes {
	uint64_t *v;
	size_t n, cap;
};

static int is_punct(unsigned char c)
{
	return c < 0x80 && c > ' ' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		h = (h ^ (unsigned char)s[k]) * 1099511628211u;
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted, distinct hashes of text's word 2-grams into *h (reset). */
static void shingles(const char *text, struct strbuf *norm, struct hashes *h)
{
	const char *w[2] = {NULL, NULL};
	size_t wl[2] = {0, 0}, nwords = 0, k, m;
	const char *p, *end;

	h->n = 0;
	strbuf_reset(norm);
	pairs_normalise_question(text, norm);
	p = norm->data;
	end = p + norm->len;
	while (p < end) {
		const char *s = p, *e;

		while (p < end && *p != ' ')
			p++;
		e = p++;
		while (s < e && is_punct((unsigned char)*s))
			s++;
		while (e > s && is_punct((unsigned char)e[-1]))
			e--;
		if (s == e)
			continue;
		w[0] = w[1];
		wl[0] = wl[1];
		w[1] = s;
		wl[1] = (size_t)(e - s);
		if (++nwords < 2)
			continue;
		XGROW(h->v, h->cap, h->n + 1);
		h->v[h->n++] =
		    fnv(fnv(fnv(14695981039346656037u, w[0], wl[0]), " ", 1), w[1], wl[1]);
	}
	if (nwords == 1) {
		XGROW(h->v, h->cap, 1);
		h->v[h->n++] = fnv(14695981039346656037u, w[1], wl[1]);
	}
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	for (k = m = 0; k < h->n; k++)
		if (!m || h->v[m - 1] != h->v[k])
			h->v[m++] = h->v[k];
	h->n = m;
}

/* Jaccard of two ascending arrays of distinct values, one function per
 * element type. */
static double ratio(size_t both, size_t na, size_t nb)
{
	return na + nb ? (double)both / (double)(na + nb - both) : 0.0;
}

static double jaccard64(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t i = 0, j = 0, both = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j]) {
			both++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return ratio(both, na, nb);
}

static double jaccard32(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0, j = 0, both = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j]) {
			both++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return ratio(both, na, nb);
}

double similar_text(const char *a, const char *b)
{
	struct strbuf norm = STRBUF_INIT;
	struct hashes x = {0}, y = {0};
	double score;

	shingles(a, &norm, &x);
	shingles(b, &norm, &y);
	score = jaccard64(x.v, x.n, y.v, y.n);
	free(x.v);
	free(y.v);
	strbuf_release(&norm);
	return score;
}

/* ---- the join ----------------------------------------------------------- */

struct token {
	uint64_t hash;
	uint32_t count; /* texts holding it */
	uint32_t id;	/* rank: rarest first */
};

struct join {
	uint32_t **sets; /* per text: token ids, ascending */
	size_t *lens;
	struct token *tokens; /* distinct hashes, sorted by hash */
	size_t ntokens;
	uint32_t **post; /* per token id: texts whose prefix holds it */
	size_t *npost, *post_cap;
};

static int cmp_rarest(const void *a, const void *b)
{
	const struct token *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? -1 : 1;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static int cmp_hash(const void *a, const void *b)
{
	const struct token *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t token_id(const struct join *j, uint64_t hash)
{
	size_t lo = 0, hi = j->ntokens;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->tokens[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return j->tokens[lo].id;
}

/* Every text's 2-grams as token ids numbered rarest first. */
static void join_build(struct join *j, const char *const *texts, size_t n)
{
	struct strbuf norm = STRBUF_INIT;
	struct hashes *h = xcalloc(n ? n : 1, sizeof(*h));
	size_t i, k, all = 0;

	for (i = 0; i < n; i++) {
		shingles(texts[i], &norm, &h[i]);
		all += h[i].n;
	}
	j->tokens = xreallocarray(NULL, all ? all : 1, sizeof(*j->tokens));
	for (i = 0; i < n; i++)
		for (k = 0; k < h[i].n; k++)
			j->tokens[j->ntokens++] = (struct token){h[i].v[k], 1, 0};
	qsort(j->tokens, j->ntokens, sizeof(*j->tokens), cmp_hash);
	for (i = k = 0; i < j->ntokens; i++) {
		if (k && j->tokens[k - 1].hash == j->tokens[i].hash)
			j->tokens[k - 1].count++;
		else
			j->tokens[k++] = j->tokens[i];
	}
	j->ntokens = k;
	qsort(j->tokens, j->ntokens, sizeof(*j->tokens), cmp_rarest);
	for (i = 0; i < j->ntokens; i++)
		j->tokens[i].id = (uint32_t)i;
	qsort(j->tokens, j->ntokens, sizeof(*j->tokens), cmp_hash);
	j->sets = xcalloc(n ? n : 1, sizeof(*j->sets));
	j->lens = xcalloc(n ? n : 1, sizeof(*j->lens));
	for (i = 0; i < n; i++) {
		j->sets[i] = xreallocarray(NULL, h[i].n ? h[i].n : 1, sizeof(uint32_t));
		for (k = 0; k < h[i].n; k++)
			j->sets[i][k] = token_id(j, h[i].v[k]);
		j->lens[i] = h[i].n;
		if (j->lens[i])
			qsort(j->sets[i], j->lens[i], sizeof(uint32_t), cmp_u32);
		free(h[i].v);
	}
	free(h);
	strbuf_release(&norm);
	j->post = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->post));
	j->npost = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->npost));
	j->post_cap = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->post_cap));
}

static void join_release(struct join *j, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(j->sets[i]);
	for (i = 0; i < j->ntokens; i++)
		free(j->post[i]);
	free(j->sets);
	free(j->lens);
	free(j->tokens);
	free(j->post);
	free(j->npost);
	free(j->post_cap);
}

static size_t prefix_len(size_t len, double threshold)
{
	size_t need = (size_t)ceil(threshold * (double)len - 1e-9);

	return need >= len ? 1 : len - need + 1;
}

/* The best earlier match of text i among the indexed ones; seen is a
 * stamp per text (i + 1 when already compared). */
static void join_probe(struct join *j, size_t i, double threshold, size_t *seen,
		       struct similar_match *m)
{
	size_t k, q, plen = prefix_len(j->lens[i], threshold);

	for (k = 0; k < plen && k < j->lens[i]; k++) {
		uint32_t tok = j->sets[i][k];

		for (q = 0; q < j->npost[tok]; q++) {
			uint32_t o = j->post[tok][q];
			double score;

			if (seen[o] == i + 1)
				continue;
			seen[o] = i + 1;
			score = jaccard32(j->sets[i], j->lens[i], j->sets[o], j->lens[o]);
			if (score >= threshold &&
			    (!m->found || score > m->score || (score == m->score && o < m->of))) {
				m->found = 1;
				m->of = o;
				m->score = score;
				m->source = SIMILAR_SOURCE_LEXICAL;
			}
		}
	}
}

static void join_index(struct join *j, size_t i, double threshold)
{
	size_t k, plen = prefix_len(j->lens[i], threshold);

	for (k = 0; k < plen && k < j->lens[i]; k++) {
		uint32_t tok = j->sets[i][k];

		XGROW(j->post[tok], j->post_cap[tok], j->npost[tok] + 1);
		j->post[tok][j->npost[tok]++] = (uint32_t)i;
	}
}

void similar_near_duplicates(const char *const *texts, size_t n, const unsigned char *eligible,
			     double threshold, struct similar_match *out)
{
	struct join j = {0};
	size_t i, *seen;

	if (n)
		memset(out, 0, n * sizeof(*out));
	if (!(threshold > 0 && threshold <= 1) || n < 2 || n > UINT32_MAX)
		return;
	join_build(&j, texts, n);
	seen = xcalloc(n, sizeof(*seen));
	for (i = 0; i < n; i++) {
		if (!j.lens[i])
			continue;
		join_probe(&j, i, threshold, seen, &out[i]);
		if (!eligible || eligible[i])
			join_index(&j, i, threshold);
	}
	free(seen);
	join_release(&j, n);
}

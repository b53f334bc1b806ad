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

/* One 2-gram of one text, while the join is built. */
struct entry {
	uint64_t hash;
	uint32_t text;
	uint32_t id; /* the 2-gram's rank: rarest first */
};

/* A text holding a token in its prefix, and where. */
struct posting {
	uint32_t text;
	uint32_t pos;
};

struct join {
	size_t n;	       /* texts */
	uint32_t **sets;       /* per text: token ids, ascending (into flat) */
	uint32_t *flat;	       /* every text's ids, one after another */
	size_t *lens;	       /* per text */
	size_t ntokens;	       /* distinct 2-grams */
	struct posting **post; /* per token id: texts whose prefix holds it */
	size_t *npost, *post_cap;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->text < y->text ? -1 : x->text > y->text;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Numbers the 2-grams of e (sorted by hash) rarest first, ties by hash:
 * a counting sort of the runs of equal hashes by their length, stable. */
static size_t number_tokens(struct entry *e, size_t ne, size_t n)
{
	size_t *runs = xreallocarray(NULL, ne + 1, sizeof(*runs)); /* run starts */
	size_t *first = xcalloc(n + 2, sizeof(*first));		   /* per length */
	size_t nruns = 0, k, r;

	for (k = 0; k < ne; k++)
		if (!k || e[k].hash != e[k - 1].hash)
			runs[nruns++] = k;
	runs[nruns] = ne;
	for (r = 0; r < nruns; r++)
		first[runs[r + 1] - runs[r] + 1]++;
	for (k = 1; k < n + 2; k++)
		first[k] += first[k - 1];
	for (r = 0; r < nruns; r++) {
		uint32_t id = (uint32_t)first[runs[r + 1] - runs[r]]++;

		for (k = runs[r]; k < runs[r + 1]; k++)
			e[k].id = id;
	}
	free(first);
	free(runs);
	return nruns;
}

/* Every text's 2-grams as token ids numbered rarest first. */
static void join_build(struct join *j, const char *const *texts, size_t n)
{
	struct strbuf norm = STRBUF_INIT;
	struct hashes h = {0};
	struct entry *e = NULL;
	size_t ne = 0, cap = 0, i, k, *fill;

	j->lens = xcalloc(n, sizeof(*j->lens));
	for (i = 0; i < n; i++) {
		shingles(texts[i], &norm, &h);
		j->lens[i] = h.n;
		XGROW(e, cap, ne + h.n);
		for (k = 0; k < h.n; k++)
			e[ne++] = (struct entry){h.v[k], (uint32_t)i, 0};
	}
	free(h.v);
	strbuf_release(&norm);
	if (ne)
		qsort(e, ne, sizeof(*e), cmp_entry);
	j->ntokens = number_tokens(e, ne, n);
	j->flat = xreallocarray(NULL, ne ? ne : 1, sizeof(*j->flat));
	j->sets = xreallocarray(NULL, n, sizeof(*j->sets));
	fill = xcalloc(n, sizeof(*fill));
	for (i = k = 0; i < n; k += j->lens[i++])
		j->sets[i] = j->flat + k;
	for (k = 0; k < ne; k++)
		j->sets[e[k].text][fill[e[k].text]++] = e[k].id;
	for (i = 0; i < n; i++)
		if (j->lens[i] > 1)
			qsort(j->sets[i], j->lens[i], sizeof(uint32_t), cmp_u32);
	free(fill);
	free(e);
	j->post = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->post));
	j->npost = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->npost));
	j->post_cap = xcalloc(j->ntokens ? j->ntokens : 1, sizeof(*j->post_cap));
}

static void join_release(struct join *j)
{
	size_t i;

	for (i = 0; i < j->ntokens; i++)
		free(j->post[i]);
	free(j->sets);
	free(j->flat);
	free(j->lens);
	free(j->post);
	free(j->npost);
	free(j->post_cap);
}

static size_t prefix_len(size_t len, double threshold)
{
	size_t need = (size_t)ceil(threshold * (double)len - 1e-9);

	return need >= len ? 1 : len - need + 1;
}

/* Whether texts of na and nb tokens whose first shared token is at ka and
 * kb could reach the threshold: o / (na + nb - o) >= t needs o >= t (na +
 * nb) / (1 + t) shared, and at most 1 + the shorter rest can be. */
static int may_reach(size_t na, size_t nb, size_t ka, size_t kb, double threshold)
{
	size_t rest = na - ka - 1 < nb - kb - 1 ? na - ka - 1 : nb - kb - 1;

	return (double)(1 + rest) >= threshold * (double)(na + nb) / (1 + threshold) - 1e-9;
}

/* The best earlier match of text i among the indexed ones; seen is a
 * stamp per text (i + 1 when already compared).  Returns 0, or -1 when
 * *work passed the budget. */
static int join_probe(struct join *j, size_t i, double threshold, size_t *seen, size_t *work,
		      struct similar_match *m)
{
	size_t k, q, plen = prefix_len(j->lens[i], threshold);

	for (k = 0; k < plen && k < j->lens[i]; k++) {
		uint32_t tok = j->sets[i][k];

		for (q = 0; q < j->npost[tok]; q++) {
			uint32_t o = j->post[tok][q].text;
			double score;

			if (seen[o] == i + 1)
				continue;
			seen[o] = i + 1;
			if (++*work > SIMILAR_WORK_BASE + SIMILAR_WORK_PER_TEXT * j->n)
				return -1;
			/* the first token both share is here (both lists ascend), so
			 * at most 1 + what follows it in the shorter rest is shared */
			if (!may_reach(j->lens[i], j->lens[o], k, j->post[tok][q].pos, threshold))
				continue;
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
	return 0;
}

static void join_index(struct join *j, size_t i, double threshold)
{
	size_t k, plen = prefix_len(j->lens[i], threshold);

	for (k = 0; k < plen && k < j->lens[i]; k++) {
		uint32_t tok = j->sets[i][k];

		XGROW(j->post[tok], j->post_cap[tok], j->npost[tok] + 1);
		j->post[tok][j->npost[tok]].text = (uint32_t)i;
		j->post[tok][j->npost[tok]++].pos = (uint32_t)k;
	}
}

int similar_near_duplicates(const char *const *texts, size_t n, const unsigned char *eligible,
			    double threshold, struct similar_match *out)
{
	struct join j = {0};
	size_t i, *seen, work = 0;
	int stopped = 0;

	if (n)
		memset(out, 0, n * sizeof(*out));
	if (!(threshold > 0 && threshold <= 1) || n < 2 || n > UINT32_MAX)
		return 0;
	j.n = n;
	join_build(&j, texts, n);
	seen = xcalloc(n, sizeof(*seen));
	for (i = 0; i < n; i++) {
		if (!j.lens[i])
			continue;
		if (join_probe(&j, i, threshold, seen, &work, &out[i])) {
			memset(&out[i], 0, (n - i) * sizeof(*out));
			stopped = 1;
			break;
		}
		if (!eligible || eligible[i])
			join_index(&j, i, threshold);
	}
	free(seen);
	join_release(&j);
	return stopped;
}

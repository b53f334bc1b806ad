#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/map.h"
#include "weft/lm.h"
#include "weft/similar.h"
#include "weft/xalloc.h"

size_t map_default_clusters(size_t n)
{
	size_t k = (size_t)lround(sqrt((double)n / 2.0));

	if (k < 2)
		k = 2;
	if (k > MAP_MAX_CLUSTERS)
		k = MAP_MAX_CLUSTERS;
	return k > n ? n : k;
}

/* Words so common in questions that they would name every cluster. */
static const char *const stop_words[] = {
    "a",      "about", "an",	"and",	"any",	 "are",	  "as",	  "at",	  "be",	   "but",
    "by",     "can",   "could", "did",	"do",	 "does",  "for",  "from", "had",   "has",
    "have",   "he",    "her",	"his",	"how",	 "if",	  "in",	  "into", "is",	   "it",
    "its",    "more",  "most",	"no",	"not",	 "of",	  "on",	  "or",	  "our",   "she",
    "should", "so",    "than",	"that", "the",	 "their", "them", "then", "there", "these",
    "they",   "this",  "to",	"was",	"we",	 "were",  "what", "when", "where", "which",
    "who",    "why",   "will",	"with", "would", "yes",	  "you",  "your"};

static int is_stop_word(const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(stop_words) / sizeof(stop_words[0]); i++)
		if (strlen(stop_words[i]) == len && !memcmp(stop_words[i], w, len))
			return 1;
	return 0;
}

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

void map_words(const char *text, void (*fn)(const char *w, size_t len, void *ctx), void *ctx)
{
	char word[64];
	const unsigned char *p = (const unsigned char *)text;

	while (*p) {
		size_t len = 0;

		while (*p && !word_byte(*p))
			p++;
		while (*p && word_byte(*p)) {
			/* a longer word keeps its first bytes: still one word */
			if (len < sizeof(word))
				word[len++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
			p++;
		}
		if (len >= 2 && !is_stop_word(word, len))
			fn(word, len, ctx);
	}
}

/* One word of one question, while the vocabulary is gathered. */
struct occurrence {
	char *word; /* owned */
	size_t doc;
};

struct gather {
	struct occurrence *items;
	size_t n, cap, doc;
};

static void gather_word(const char *w, size_t len, void *ctx)
{
	struct gather *g = ctx;

	xgrow((void **)&g->items, &g->cap, g->n + 1, sizeof(*g->items));
	g->items[g->n].word = xstrndup(w, len);
	g->items[g->n++].doc = g->doc;
}

static int cmp_occurrence(const void *a, const void *b)
{
	const struct occurrence *x = a, *y = b;
	int c = strcmp(x->word, y->word);

	if (c)
		return c;
	return (x->doc > y->doc) - (x->doc < y->doc);
}

/* A word of the vocabulary with the number of questions holding it. */
struct term {
	const char *word; /* borrowed from the gather */
	size_t df;
};

static int cmp_term_df(const void *a, const void *b)
{
	const struct term *x = a, *y = b;

	if (x->df != y->df)
		return x->df < y->df ? 1 : -1;
	return strcmp(x->word, y->word);
}

static int cmp_term_word(const void *a, const void *b)
{
	return strcmp(((const struct term *)a)->word, ((const struct term *)b)->word);
}

/* The vocabulary: the MAP_MAX_TERMS words in most questions, sorted by
 * word for lookup.  Words in one question only are left out when enough
 * others remain: they place nothing near anything. */
static struct term *vocabulary(const struct gather *g, size_t *nterms)
{
	struct term *t = NULL;
	size_t n = 0, cap = 0, i, shared = 0;

	for (i = 0; i < g->n; i++) {
		if (n && !strcmp(t[n - 1].word, g->items[i].word)) {
			if (g->items[i].doc != g->items[i - 1].doc)
				t[n - 1].df++;
			continue;
		}
		xgrow((void **)&t, &cap, n + 1, sizeof(*t));
		t[n].word = g->items[i].word;
		t[n++].df = 1;
	}
	if (n)
		qsort(t, n, sizeof(*t), cmp_term_df);
	while (shared < n && t[shared].df >= 2)
		shared++;
	if (shared >= 2)
		n = shared;
	if (n > MAP_MAX_TERMS)
		n = MAP_MAX_TERMS;
	if (n)
		qsort(t, n, sizeof(*t), cmp_term_word);
	*nterms = n;
	return t;
}

/* The TF-IDF rows (n by d, each of unit length or zero): term count times
 * log((1 + n) / (1 + df)) + 1. */
static double *tfidf(const struct gather *g, size_t n, const struct term *terms, size_t d)
{
	double *x = xcalloc(n * (d ? d : 1), sizeof(*x));
	size_t i, j;

	for (i = 0; i < g->n; i++) {
		struct term key = {g->items[i].word, 0};
		const struct term *t = bsearch(&key, terms, d, sizeof(*terms), cmp_term_word);

		if (t)
			x[g->items[i].doc * d + (size_t)(t - terms)] += 1.0;
	}
	for (i = 0; i < n; i++) {
		double norm = 0;

		for (j = 0; j < d; j++) {
			x[i * d + j] *= log((1.0 + (double)n) / (1.0 + (double)terms[j].df)) + 1.0;
			norm += x[i * d + j] * x[i * d + j];
		}
		if (norm > 0)
			for (j = 0; j < d; j++)
				x[i * d + j] /= sqrt(norm);
	}
	return x;
}

/* The top dims eigenvectors of the symmetric s by s matrix a (destroyed),
 * largest first, as rows of vec (dims by s), with their eigenvalues. */
static int top_eigen(double *a, size_t s, size_t dims, double *vec, double *val, struct errbuf *err)
{
	double *w = xcalloc(s, sizeof(*w)), *z = xcalloc(s * dims, sizeof(*z));
	lapack_int *support = xcalloc(2 * s, sizeof(*support));
	lapack_int found = 0, info;
	size_t c, i;

	info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)s, a, (lapack_int)s, 0,
			      0, (lapack_int)(s - dims + 1), (lapack_int)s, 0, &found, w, z,
			      (lapack_int)dims, support);
	if (info == 0 && (size_t)found == dims) {
		/* ascending order: component c is column dims - 1 - c */
		for (c = 0; c < dims; c++) {
			val[c] = w[dims - 1 - c];
			for (i = 0; i < s; i++)
				vec[c * s + i] = z[i * dims + (dims - 1 - c)];
		}
	}
	free(w);
	free(z);
	free(support);
	if (info != 0 || (size_t)found != dims)
		return errbuf_set(err, "PCA: LAPACKE_dsyevr failed (info %d)", (int)info), -1;
	return 0;
}

/* The covariance's cross products (d by d) from the rows' non-zero
 * entries (TF-IDF rows are sparse), minus n times the mean's. */
static double *cross_products(const double *x, size_t n, size_t d, const double *mean)
{
	double *a = xcalloc(d * d, sizeof(*a));
	size_t *nz = xcalloc(d, sizeof(*nz));
	size_t i, j, p, q, m;

	for (i = 0; i < n; i++) {
		const double *r = x + i * d;

		for (m = 0, j = 0; j < d; j++)
			if (r[j] != 0)
				nz[m++] = j;
		for (p = 0; p < m; p++)
			for (q = p; q < m; q++)
				a[nz[p] * d + nz[q]] += r[nz[p]] * r[nz[q]];
	}
	for (p = 0; p < d; p++)
		for (q = p; q < d; q++)
			a[p * d + q] -= (double)n * mean[p] * mean[q];
	free(nz);
	return a;
}

/* The Gram matrix of the centred rows (n by n). */
static double *gram(const double *x, size_t n, size_t d, const double *mean)
{
	double *a = xcalloc(n * n, sizeof(*a));
	size_t i, j, t;

	for (i = 0; i < n; i++)
		for (j = i; j < n; j++) {
			double s = 0;

			for (t = 0; t < d; t++)
				s += (x[i * d + t] - mean[t]) * (x[j * d + t] - mean[t]);
			a[i * n + j] = s;
		}
	return a;
}

/* Turns the Gram matrix's eigenvectors (rows of u, n long) into axes in
 * the d-dimensional space: the centred rows weighted by u, made unit. */
static void gram_axes(const double *x, size_t n, size_t d, const double *mean, const double *u,
		      size_t dims, double *axes)
{
	size_t c, i, t;

	for (c = 0; c < dims; c++) {
		double *v = axes + c * d, norm = 0;

		for (t = 0; t < d; t++) {
			v[t] = 0;
			for (i = 0; i < n; i++)
				v[t] += (x[i * d + t] - mean[t]) * u[c * n + i];
			norm += v[t] * v[t];
		}
		for (t = 0; t < d && norm > 0; t++)
			v[t] /= sqrt(norm);
	}
}

static void fix_sign(double *v, size_t d)
{
	size_t t, big = 0;

	for (t = 1; t < d; t++)
		if (fabs(v[t]) > fabs(v[big]))
			big = t;
	if (v[big] < 0)
		for (t = 0; t < d; t++)
			v[t] = -v[t];
}

int map_pca(const double *x, size_t n, size_t d, size_t dims, double *axes, double *coords,
	    double *explained, struct errbuf *err)
{
	double *mean = xcalloc(d, sizeof(*mean)), *ax = xcalloc(dims * d, sizeof(*ax));
	double val[MAP_TSNE_DIMS], total = 0;
	size_t i, t, c;
	int r;

	if (dims < 1 || dims > MAP_TSNE_DIMS || dims > d || dims >= n) {
		free(mean);
		free(ax);
		return errbuf_set(err, "PCA: %zu components of %zu points in %zu dimensions", dims,
				  n, d),
		       -1;
	}
	for (i = 0; i < n; i++)
		for (t = 0; t < d; t++)
			mean[t] += x[i * d + t] / (double)n;
	for (i = 0; i < n; i++)
		for (t = 0; t < d; t++)
			total += (x[i * d + t] - mean[t]) * (x[i * d + t] - mean[t]);
	if (n >= d) {
		double *a = cross_products(x, n, d, mean);

		r = top_eigen(a, d, dims, ax, val, err);
		free(a);
	} else {
		double *a = gram(x, n, d, mean), *u = xcalloc(dims * n, sizeof(*u));

		r = top_eigen(a, n, dims, u, val, err);
		if (r == 0)
			gram_axes(x, n, d, mean, u, dims, ax);
		free(a);
		free(u);
	}
	for (c = 0; c < dims && r == 0; c++) {
		fix_sign(ax + c * d, d);
		if (explained)
			explained[c] = total > 0 && val[c] > 0 ? val[c] / total : 0;
		for (i = 0; i < n; i++) {
			double s = 0;

			for (t = 0; t < d; t++)
				s += (x[i * d + t] - mean[t]) * ax[c * d + t];
			coords[i * dims + c] = s;
		}
	}
	if (axes && r == 0)
		memcpy(axes, ax, dims * d * sizeof(*ax));
	free(mean);
	free(ax);
	return r;
}

static double dist2(const double *a, const double *b, size_t d)
{
	double s = 0;
	size_t t;

	for (t = 0; t < d; t++)
		s += (a[t] - b[t]) * (a[t] - b[t]);
	return s;
}

/* The farthest-point start: the row nearest the mean, then each time the
 * row farthest from the centres chosen (the first on a tie). */
static void kmeans_start(const double *x, size_t n, size_t d, size_t k, double *centres)
{
	double *mean = xcalloc(d, sizeof(*mean)), *near = xcalloc(n, sizeof(*near));
	size_t i, t, c, pick = 0;

	for (i = 0; i < n; i++)
		for (t = 0; t < d; t++)
			mean[t] += x[i * d + t] / (double)n;
	for (i = 1; i < n; i++)
		if (dist2(x + i * d, mean, d) < dist2(x + pick * d, mean, d))
			pick = i;
	for (c = 0; c < k; c++) {
		memcpy(centres + c * d, x + pick * d, d * sizeof(*x));
		for (i = 0; i < n; i++) {
			double e = dist2(x + i * d, centres + c * d, d);

			if (c == 0 || e < near[i])
				near[i] = e;
		}
		for (pick = 0, i = 1; i < n; i++)
			if (near[i] > near[pick])
				pick = i;
	}
	free(mean);
	free(near);
}

void map_kmeans(const double *x, size_t n, size_t d, size_t k, size_t *assign)
{
	double *centres = xcalloc(k * d, sizeof(*centres));
	size_t *count = xcalloc(k, sizeof(*count));
	size_t i, t, c, step;
	int moved = 1;

	kmeans_start(x, n, d, k, centres);
	for (i = 0; i < n; i++)
		assign[i] = k; /* none yet: the first step moves every row */
	/* Lloyd's steps converge; the cap only bounds a pathological cycle */
	for (step = 0; moved && step < 300; step++) {
		moved = 0;
		for (i = 0; i < n; i++) {
			size_t best = 0;

			for (c = 1; c < k; c++)
				if (dist2(x + i * d, centres + c * d, d) <
				    dist2(x + i * d, centres + best * d, d))
					best = c;
			if (best != assign[i])
				moved = 1;
			assign[i] = best;
		}
		memset(count, 0, k * sizeof(*count));
		for (i = 0; i < n; i++)
			count[assign[i]]++;
		for (c = 0; c < k; c++)
			if (count[c]) /* an empty group keeps its centre */
				memset(centres + c * d, 0, d * sizeof(*centres));
		for (i = 0; i < n; i++)
			for (t = 0; t < d; t++)
				centres[assign[i] * d + t] +=
				    x[i * d + t] / (double)count[assign[i]];
	}
	free(centres);
	free(count);
}

/* A word with its class-based TF-IDF in one group. */
struct scored {
	const char *word;
	double score;
};

static int cmp_scored(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->word, y->word);
}

/* Counts of each distinct word (sorted occurrences) overall and in group
 * c, and the group's name from them. */
static char *name_of(const struct gather *g, const size_t *assign, size_t c, double avg)
{
	struct scored *s = xcalloc(g->n ? g->n : 1, sizeof(*s));
	size_t ns = 0, i = 0, j, words = 0, w;
	struct strbuf name;

	for (j = 0; j < g->n; j++)
		words += assign[g->items[j].doc] == c;
	while (i < g->n && words) {
		size_t all = 0, in = 0;

		for (j = i; j < g->n && !strcmp(g->items[j].word, g->items[i].word); j++) {
			all++;
			in += assign[g->items[j].doc] == c;
		}
		if (in) {
			s[ns].word = g->items[i].word;
			s[ns++].score = ((double)in / (double)words) * log(1.0 + avg / (double)all);
		}
		i = j;
	}
	if (ns)
		qsort(s, ns, sizeof(*s), cmp_scored);
	strbuf_init(&name);
	for (w = 0; w < ns && w < MAP_NAME_WORDS; w++) {
		if (w)
			strbuf_addch(&name, ' ');
		strbuf_addstr(&name, s[w].word);
	}
	free(s);
	return strbuf_detach(&name, NULL);
}

void map_cluster_names(const char *const *questions, size_t n, const size_t *assign, size_t k,
		       char **names)
{
	struct gather g = {0};
	size_t i;
	double avg;

	for (i = 0; i < n; i++) {
		g.doc = i;
		map_words(questions[i], gather_word, &g);
	}
	if (g.n)
		qsort(g.items, g.n, sizeof(*g.items), cmp_occurrence);
	avg = (double)g.n / (double)(k ? k : 1);
	for (i = 0; i < k; i++)
		names[i] = name_of(&g, assign, i, avg);
	for (i = 0; i < g.n; i++)
		free(g.items[i].word);
	free(g.items);
}

int map_is_shortcut(const size_t *per_label, size_t nlabels, size_t *label)
{
	size_t i, total = 0, best = 0;

	for (i = 0; i < nlabels; i++) {
		total += per_label[i];
		if (per_label[i] > per_label[best])
			best = i;
	}
	if (nlabels == 0 || total < MAP_SHORTCUT_MIN ||
	    (double)per_label[best] < MAP_SHORTCUT_SHARE * (double)total)
		return 0;
	*label = best;
	return 1;
}

/* Each point's most similar other point by the cosine of the (unit)
 * TF-IDF rows, through an inverted index since rows share few words. */
static void nearest(const double *x, size_t n, size_t d, struct map_point *pts)
{
	size_t *start = xcalloc(d + 1, sizeof(*start)), *post, *fill;
	double *acc = xcalloc(n, sizeof(*acc));
	size_t i, t, p;

	for (i = 0; i < n; i++)
		for (t = 0; t < d; t++)
			start[t + 1] += x[i * d + t] != 0;
	for (t = 0; t < d; t++)
		start[t + 1] += start[t];
	post = xcalloc(start[d] ? start[d] : 1, sizeof(*post));
	fill = xcalloc(d ? d : 1, sizeof(*fill));
	for (i = 0; i < n; i++)
		for (t = 0; t < d; t++)
			if (x[i * d + t] != 0)
				post[start[t] + fill[t]++] = i;
	for (i = 0; i < n; i++) {
		memset(acc, 0, n * sizeof(*acc));
		for (t = 0; t < d; t++)
			if (x[i * d + t] != 0)
				for (p = start[t]; p < start[t + 1]; p++)
					acc[post[p]] += x[i * d + t] * x[post[p] * d + t];
		for (p = 0; p < n; p++)
			if (p != i && acc[p] > 0 &&
			    (!pts[i].has_nearest || acc[p] > pts[i].similarity)) {
				pts[i].has_nearest = 1;
				pts[i].nearest = p;
				pts[i].similarity = acc[p] > 1 ? 1 : acc[p];
			}
	}
	free(start);
	free(post);
	free(fill);
	free(acc);
}

static int check_input(const struct map_input *in, struct errbuf *err)
{
	size_t i;

	if (in->n < 2)
		return errbuf_set(err, "a map needs at least 2 pairs (the dataset has %zu)", in->n),
		       -1;
	if (in->n > MAP_MAX_PAIRS)
		return errbuf_set(err, "a map takes at most %d pairs (the dataset has %zu)",
				  MAP_MAX_PAIRS, in->n),
		       -1;
	if (in->nlabels < 1 || in->nlabels > MAP_MAX_LABELS)
		return errbuf_set(err, "a map takes 1 to %d labels, not %zu", MAP_MAX_LABELS,
				  in->nlabels),
		       -1;
	if (in->vectors && (in->dim < 1 || in->dim > LM_MAX_EMBED_DIM))
		return errbuf_set(err, "vectors of %zu numbers", in->dim), -1;
	for (i = 0; i < in->n; i++)
		if (in->labels[i] >= in->nlabels)
			return errbuf_set(err, "pair %zu: label %zu out of range", i + 1,
					  in->labels[i]),
			       -1;
	return 0;
}

/* The t-SNE layout of x's rows, started from the PCA layout in m. */
static int tsne_layout(const double *x, size_t d, struct map *m, struct errbuf *err)
{
	double *xy = xcalloc(2 * m->n, sizeof(*xy));
	size_t i;
	int r;

	for (i = 0; i < m->n; i++) {
		xy[i * 2] = m->points[i].x;
		xy[i * 2 + 1] = m->points[i].y;
	}
	r = map_tsne(x, m->n, d, xy, MAP_TSNE_PERPLEXITY, xy, err);
	for (i = 0; r == 0 && i < m->n; i++) {
		m->points[i].x = xy[i * 2];
		m->points[i].y = xy[i * 2 + 1];
	}
	/* no axis of t-SNE explains a share of the variance */
	m->explained[0] = m->explained[1] = 0;
	free(xy);
	return r;
}

/* The principal components for the layout and the groups: dims of them
 * into coords (n by dims).  Past exact t-SNE's bound, Barnes-Hut t-SNE
 * finds each pair's nearest neighbours among all the others, which in
 * hundreds of dimensions would cost more than the rest of the map: it
 * gets the first MAP_TSNE_DIMS components instead (*tsne, *tsne_dims;
 * NULL when t-SNE takes x itself), of which coords are the first. */
static int components(const double *x, size_t d, const struct map_input *in, size_t dims,
		      double *coords, double *explained, double **tsne, size_t *tsne_dims,
		      struct errbuf *err)
{
	size_t n = in->n, wide = MAP_TSNE_DIMS, i;
	double share[MAP_TSNE_DIMS] = {0};

	*tsne = NULL;
	*tsne_dims = d;
	if (in->method != MAP_METHOD_TSNE || !map_tsne_uses_barnes_hut(n) || d <= wide)
		return map_pca(x, n, d, dims, NULL, coords, explained, err);
	if (wide > n - 1)
		wide = n - 1;
	*tsne = xcalloc(n * wide, sizeof(**tsne));
	*tsne_dims = wide;
	if (map_pca(x, n, d, wide, NULL, *tsne, share, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		memcpy(coords + i * dims, *tsne + i * wide, dims * sizeof(*coords));
	memcpy(explained, share, dims * sizeof(*explained));
	return 0;
}

/* The layout and the groups from the TF-IDF rows. */
static int layout(const double *x, size_t d, const struct map_input *in, struct map *m,
		  size_t *assign, struct errbuf *err)
{
	size_t n = in->n, dims = MAP_PCA_DIMS, tsne_dims = d, i;
	double *coords, explained[MAP_PCA_DIMS] = {0}, *tsne = NULL;
	int r = 0;

	if (dims > d)
		dims = d;
	if (dims > n - 1)
		dims = n - 1;
	coords = xcalloc(n * (dims ? dims : 1), sizeof(*coords));
	if (dims)
		r = components(x, d, in, dims, coords, explained, &tsne, &tsne_dims, err);
	for (i = 0; r == 0 && i < n; i++) {
		m->points[i].x = dims ? coords[i * dims] : 0;
		m->points[i].y = dims > 1 ? coords[i * dims + 1] : 0;
	}
	m->explained[0] = explained[0];
	m->explained[1] = dims > 1 ? explained[1] : 0;
	if (r == 0 && in->method == MAP_METHOD_TSNE)
		r = tsne_layout(tsne ? tsne : x, tsne_dims, m, err);
	if (r == 0)
		map_kmeans(coords, n, dims ? dims : 1, m->k, assign);
	free(tsne);
	free(coords);
	return r;
}

static void fill_clusters(const struct map_input *in, struct map *m, const size_t *assign)
{
	char *names[MAP_MAX_CLUSTERS];
	size_t i, c;

	map_cluster_names(in->questions, in->n, assign, m->k, names);
	for (c = 0; c < m->k; c++)
		m->clusters[c].name = names[c];
	for (i = 0; i < in->n; i++) {
		struct map_cluster *cl = &m->clusters[assign[i]];

		m->points[i].cluster = assign[i];
		cl->n++;
		cl->per_label[in->labels[i]]++;
		cl->cx += m->points[i].x;
		cl->cy += m->points[i].y;
	}
	for (c = 0; c < m->k; c++) {
		struct map_cluster *cl = &m->clusters[c];

		if (cl->n) {
			cl->cx /= (double)cl->n;
			cl->cy /= (double)cl->n;
		}
		cl->shortcut = map_is_shortcut(cl->per_label, in->nlabels, &cl->shortcut_label);
	}
}

/* The nearest other row by cosine of the embedder's unit rows, and the
 * near-duplicates as similar.h finds them: the most similar earlier row
 * (the earliest on a tie) at or above the threshold. */
static void dense_neighbours(const struct map_input *in, struct map *m)
{
	size_t i, j, t, d = in->dim;

	for (i = 0; i < in->n; i++) {
		const double *a = in->vectors + i * d;
		struct map_point *p = &m->points[i];

		for (j = 0; j < in->n; j++) {
			const double *b = in->vectors + j * d;
			double s = 0;

			if (j == i)
				continue;
			for (t = 0; t < d; t++)
				s += a[t] * b[t];
			s = s > 1 ? 1 : s;
			if (!p->has_nearest || s > p->similarity) {
				p->has_nearest = 1;
				p->nearest = j;
				p->similarity = s;
			}
			if (j < i && in->near > 0 && s >= in->near &&
			    (!p->near_dup || s > p->near_score)) {
				p->near_dup = 1;
				p->near_of = j;
				p->near_score = s;
				p->near_source = SIMILAR_SOURCE_EMBEDDING;
			}
		}
	}
}

static void near_duplicates(const struct map_input *in, struct map *m)
{
	struct similar_match *near = xcalloc(in->n, sizeof(*near));
	size_t i;

	m->near_stopped = similar_near_duplicates(in->questions, in->n, NULL, in->near, near) != 0;
	for (i = 0; i < in->n; i++)
		if (near[i].found) {
			m->points[i].near_dup = 1;
			m->points[i].near_of = near[i].of;
			m->points[i].near_score = near[i].score;
			m->points[i].near_source = SIMILAR_SOURCE_LEXICAL;
		}
	free(near);
}

int map_build(const struct map_input *in, struct map *m, struct errbuf *err)
{
	struct gather g = {0};
	struct term *terms;
	size_t d, i, *assign;
	double *x;
	int r;

	memset(m, 0, sizeof(*m));
	if (check_input(in, err) < 0)
		return -1;
	for (i = 0; i < in->n; i++) {
		g.doc = i;
		map_words(in->questions[i], gather_word, &g);
	}
	if (g.n)
		qsort(g.items, g.n, sizeof(*g.items), cmp_occurrence);
	terms = vocabulary(&g, &d);
	x = tfidf(&g, in->n, terms, d);
	m->n = in->n;
	m->points = xcalloc(in->n, sizeof(*m->points));
	m->k = in->clusters ? in->clusters : map_default_clusters(in->n);
	if (m->k > MAP_MAX_CLUSTERS)
		m->k = MAP_MAX_CLUSTERS;
	if (m->k > in->n)
		m->k = in->n;
	m->clusters = xcalloc(m->k, sizeof(*m->clusters));
	assign = xcalloc(in->n, sizeof(*assign));
	if (in->vectors)
		r = layout(in->vectors, in->dim, in, m, assign, err);
	else
		r = layout(x, d, in, m, assign, err);
	if (r == 0) {
		fill_clusters(in, m, assign);
		if (in->vectors) {
			dense_neighbours(in, m);
		} else {
			nearest(x, in->n, d, m->points);
			near_duplicates(in, m);
		}
	}
	free(assign);
	free(x);
	free(terms);
	for (i = 0; i < g.n; i++)
		free(g.items[i].word);
	free(g.items);
	return r;
}

void map_release(struct map *m)
{
	size_t c;

	for (c = 0; c < m->k && m->clusters; c++)
		free(m->clusters[c].name);
	free(m->clusters);
	free(m->points);
	memset(m, 0, sizeof(*m));
}

#ifndef WEFT_MAP_H
#define WEFT_MAP_H
/*
 * An offline map of a dataset's pairs (src/eval/map.c, the writers in
 * src/eval/map_write.c): each question as a TF-IDF vector (no embedder:
 * the questions' own words), laid out in 2-D by PCA (LAPACKE) or t-SNE
 * (src/eval/map_tsne.c exact, map_tsne_bh.c Barnes-Hut past
 * MAP_TSNE_EXACT_PAIRS), grouped by k-means and each group named
 * by its most distinctive words (class-based TF-IDF), with the
 * near-duplicates of similar.h and the groups where one label holds
 * nearly every pair (a topic that gives the answer away).
 *
 * Everything is deterministic: the same pairs give the same map.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

#define MAP_MAX_LABELS	   16 /* as PAIRS_MAX_LABELS */
#define MAP_MAX_CLUSTERS   12
#define MAP_MAX_TERMS	   500 /* vocabulary: the words in most questions */
#define MAP_MAX_PAIRS	   20000
#define MAP_PCA_DIMS	   10 /* k-means works on this many components */
#define MAP_NAME_WORDS	   3
#define MAP_SHORTCUT_MIN   8	/* pairs in a cluster before it can be one */
#define MAP_SHORTCUT_SHARE 0.85 /* one label's share of them */
/* exact t-SNE takes time and memory growing with pairs squared: past
 * this many pairs map_tsne runs Barnes-Hut t-SNE instead */
#define MAP_TSNE_EXACT_PAIRS 3000
#define MAP_TSNE_PERPLEXITY  30.0
#define MAP_TSNE_THETA	     0.5 /* Barnes-Hut: a cell is far when side / distance < theta */
/* Barnes-Hut t-SNE's input: the first this many principal components */
#define MAP_TSNE_DIMS 50

/* How the 2-D layout is made; the clusters are k-means on the vectors
 * either way. */
enum map_method {
	MAP_METHOD_PCA = 0, /* linear, fast, keeps global distances */
	MAP_METHOD_TSNE,    /* t-SNE (map_tsne*.c): keeps neighbourhoods */
};

/* What to map; every pointer borrowed. */
struct map_input {
	const char *const *questions; /* n */
	const char *const *answers;   /* n, or NULL */
	const char *const *node_ids;  /* n (entries may be NULL), or NULL */
	const size_t *labels;	      /* n, each < nlabels */
	size_t n;
	const char *const *label_names; /* nlabels */
	size_t nlabels;
	size_t clusters; /* 0: map_default_clusters(n) */
	double near;	 /* near-duplicate threshold (similar.h) */
	/* An embedder's vectors (embed.h: n rows of dim numbers, unit length
	 * or zero), used instead of TF-IDF for the layout, the groups, the
	 * nearest pairs and the near-duplicates (cosine >= near); NULL: TF-IDF
	 * and similar.h's lexical near-duplicates.  Names stay TF-IDF of words. */
	const double *vectors;
	size_t dim;
	enum map_method method;
};

struct map_point {
	double x, y;
	size_t cluster;
	int has_nearest; /* nearest and similarity valid: some other pair shares a word */
	size_t nearest;	 /* the most similar other pair (cosine of TF-IDF) */
	double similarity;
	int near_dup; /* near-duplicate of the earlier pair near_of (similar.h) */
	size_t near_of;
	double near_score;
	const char *near_source; /* SIMILAR_SOURCE_* (static) when near_dup */
};

struct map_cluster {
	size_t n;
	size_t per_label[MAP_MAX_LABELS];
	double cx, cy; /* centroid in the layout */
	char *name;    /* owned; its top words, space-separated ("" for none) */
	int shortcut;  /* one label holds >= MAP_SHORTCUT_SHARE of >= MAP_SHORTCUT_MIN */
	size_t shortcut_label;
};

struct map {
	struct map_point *points; /* owned, n */
	size_t n;
	struct map_cluster *clusters; /* owned, k */
	size_t k;
	double explained[2]; /* share of the variance along x and y */
	int near_stopped;    /* the near-duplicate search passed its budget */
};

/* round(sqrt(n / 2)) clamped to [2, MAP_MAX_CLUSTERS], and at most n. */
size_t map_default_clusters(size_t n);

/*
 * Builds the map of in into m (zeroed first).  Returns 0, or -1 with err
 * (fewer than 2 pairs, more than MAP_MAX_PAIRS, a label out of range, a
 * LAPACK failure).  Release m with map_release either way.
 */
int map_build(const struct map_input *in, struct map *m, struct errbuf *err);
void map_release(struct map *m);

/*
 * The parts, for tests and for each other.  x is row-major n by d.
 *
 * map_pca: the first dims principal components of x (dims <= d, dims < n,
 * dims <= MAP_TSNE_DIMS):
 * axes (dims by d, unit vectors, may be NULL) and coords (n by dims, the
 * centred rows projected).  Each axis's sign is fixed so that its entry of
 * largest magnitude (the first on a tie) is positive.  explained (dims, may
 * be NULL) gets each component's share of the total variance.  Works on
 * the covariance (d by d) or, when n < d, on the Gram matrix (n by n).
 * Returns 0, or -1 with err.
 */
int map_pca(const double *x, size_t n, size_t d, size_t dims, double *axes, double *coords,
	    double *explained, struct errbuf *err);

/*
 * map_tsne (map_tsne.c): t-SNE (van der Maaten & Hinton 2008) of x's
 * rows into y (n by 2), exact up to MAP_TSNE_EXACT_PAIRS rows and by
 * map_tsne_barnes_hut (theta MAP_TSNE_THETA) past them.  init (n by 2,
 * e.g. the PCA layout, may be NULL) is scaled to a standard deviation of
 * 1e-4 and used as the start; with no spread in it the start is a fixed
 * small spiral, so no random seed is involved and the same input gives
 * the same y (init may be y).  perplexity is clamped to (n - 1) / 3.
 * Returns 0, or -1 with err past MAP_MAX_PAIRS.
 */
int map_tsne(const double *x, size_t n, size_t d, const double *init, double perplexity, double *y,
	     struct errbuf *err);
/* Whether map_tsne lays n points out by Barnes-Hut (else exactly). */
int map_tsne_uses_barnes_hut(size_t n);
/*
 * map_tsne_barnes_hut (map_tsne_bh.c): Barnes-Hut t-SNE (van der Maaten
 * 2014), whatever n: P over each row's 3 * perplexity nearest rows only,
 * and the repulsion of a quadtree cell whose side is less than theta times
 * its distance taken from its centre of mass (theta 0: every point on its
 * own, the exact repulsion).  O(n^2 d) once for the neighbours, then
 * O(n log n) a step.  Start, clamp, determinism and errors as map_tsne.
 */
int map_tsne_barnes_hut(const double *x, size_t n, size_t d, const double *init, double perplexity,
			double theta, double *y, struct errbuf *err);
/* The gradient of KL(P || Q) at the layout y (n by 2) into grad (n by 2),
 * no exaggeration: exact t-SNE's when theta < 0, else Barnes-Hut's with
 * theta.  For tests: with 3 * perplexity >= n - 1, theta 0 gives the exact
 * gradient up to rounding. */
void map_tsne_gradient(const double *x, size_t n, size_t d, double perplexity, double theta,
		       const double *y, double *grad);
/* The conditional affinities p(j|i) (n by n, rows summing to 1, zero
 * diagonal), each row's Gaussian bandwidth found by binary search so that
 * its entropy (natural log) is log(perplexity). */
void map_tsne_affinities(const double *x, size_t n, size_t d, double perplexity, double *p);

/* k-means of x's rows into k groups (1 <= k <= n): farthest-point start
 * (the row nearest the mean first), then Lloyd's steps until nothing
 * moves.  Fills assign (n). */
void map_kmeans(const double *x, size_t n, size_t d, size_t k, size_t *assign);

/* The tokens of text as map_build counts them: ASCII letters folded to
 * lower case, words as runs of letters, digits and non-ASCII bytes, words
 * shorter than 2 bytes and common English words left out.  Calls fn with
 * each word (not NUL-terminated). */
void map_words(const char *text, void (*fn)(const char *w, size_t len, void *ctx), void *ctx);

/* Names each of k groups (assign: n questions' groups) by its MAP_NAME_WORDS
 * words of highest class-based TF-IDF (a word's share of the group's words
 * times log(1 + average words per group / the word's count overall); ties
 * by the word's bytes).  names: k owned strings. */
void map_cluster_names(const char *const *questions, size_t n, const size_t *assign, size_t k,
		       char **names);

/* Whether a group with these label counts is a possible shortcut; *label
 * gets the label. */
int map_is_shortcut(const size_t *per_label, size_t nlabels, size_t *label);

/*
 * Writers (map_write.c), appending to out.  Text from pairs is escaped for
 * each: XML character references in SVG, and in HTML the data sits in a
 * <script type="application/json"> block with <, >, &, U+2028 and U+2029
 * as \u escapes; bytes that are not UTF-8 become U+FFFD everywhere.
 */
void map_write_csv(const struct map *m, const struct map_input *in, struct strbuf *out);
void map_write_svg(const struct map *m, const struct map_input *in, struct strbuf *out);
void map_write_html(const struct map *m, const struct map_input *in, struct strbuf *out);
/* s as XML text or attribute content (& < > " ' escaped). */
void map_add_xml(struct strbuf *out, const char *s);
/* s as a JSON string (quotes included) safe inside an HTML script block. */
void map_add_json(struct strbuf *out, const char *s);

#endif

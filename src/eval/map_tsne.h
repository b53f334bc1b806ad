#ifndef WEFT_EVAL_MAP_TSNE_H
#define WEFT_EVAL_MAP_TSNE_H
/*
 * Private to src/eval/map_tsne*.c: what exact t-SNE (map_tsne.c) and
 * Barnes-Hut t-SNE (map_tsne_bh.c) share, the affinities' bandwidth
 * search, the start and the descent.
 */
#include <stddef.h>

/* Row i's conditional affinities from its squared distances dist (len),
 * the entry at skip (i itself, or (size_t)-1 for none) left at 0, the
 * bandwidth searched so that the row's entropy is logperp; row sums to 1. */
void tsne_row_affinities(const double *dist, size_t len, size_t skip, double logperp,
			 double *row);

/* The start, y (n by 2): init (may be y) scaled to a small spread, or a
 * fixed spiral when init is NULL or has no spread. */
void tsne_start(const double *init, size_t n, double *y);

/* The gradient of KL(P || Q) at y into grad (2n used; 4n room for
 * scratch), P's attraction scaled by exaggeration.  ctx: the method's P
 * and whatever else it keeps between calls. */
typedef void (*tsne_gradient_fn)(void *ctx, size_t n, const double *y, double exaggeration,
				 double *grad);

/* Gradient descent from y with momentum and gains, y kept centred. */
void tsne_descend(tsne_gradient_fn gradient, void *ctx, size_t n, double *y);

/* The exact gradient (map_tsne.c) from P packed as the upper triangle's
 * rows (p_ij for j > i). */
void tsne_exact_gradient(void *packed_p, size_t n, const double *y, double exaggeration,
			 double *grad);
/* That packed P of x's rows (n by d), perplexity already clamped. */
double *tsne_exact_p(const double *x, size_t n, size_t d, double perplexity);

#endif

/*
 * Exact t-SNE (van der Maaten & Hinton 2008), written here: no packaged C
 * library does it.  O(n^2) time per iteration and an n by n table while P
 * is found (then packed to its upper triangle), hence MAP_TSNE_EXACT_PAIRS:
 * past it, map_tsne hands over to Barnes-Hut (map_tsne_bh.c).  No random
 * numbers: the start is the PCA layout (or a fixed spiral) and every sum
 * runs in a fixed order, so the same input gives the same layout, bit for
 * bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/map.h"
#include "weft/xalloc.h"
#include "map_tsne.h"

#define TSNE_ITERATIONS	  1000
#define TSNE_EARLY	  250 /* iterations with exaggeration and low momentum */
#define TSNE_EXAGGERATION 12.0
#define TSNE_START_STD	  1e-4
#define TSNE_SEARCH_STEPS 100
#define TSNE_SEARCH_TOL	  1e-6
#define TSNE_GOLDEN_ANGLE 2.399963229728653

/* Distances are taken relative to the nearest one so that the nearest
 * weighs 1 and the sum never underflows. */
void tsne_row_affinities(const double *dist, size_t n, size_t i, double logperp, double *row)
{
	double dmin = HUGE_VAL, beta = 1, lo = 0, hi = HUGE_VAL, sum = 1;
	size_t j, step;

	for (j = 0; j < n; j++)
		if (j != i && dist[j] < dmin)
			dmin = dist[j];
	for (step = 0; step < TSNE_SEARCH_STEPS; step++) {
		double weighted = 0, h;

		sum = 0;
		for (j = 0; j < n; j++) {
			double w = j == i ? 0 : exp(-beta * (dist[j] - dmin));

			row[j] = w;
			sum += w;
			weighted += w * (dist[j] - dmin);
		}
		h = log(sum) + beta * weighted / sum;
		if (fabs(h - logperp) < TSNE_SEARCH_TOL)
			break;
		if (h > logperp) {
			lo = beta;
			beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
		} else {
			hi = beta;
			beta = (beta + lo) / 2;
		}
	}
	for (j = 0; j < n; j++)
		row[j] /= sum;
}

void map_tsne_affinities(const double *x, size_t n, size_t d, double perplexity, double *p)
{
	double *dist = xcalloc(n ? n : 1, sizeof(*dist));
	size_t i, j, t;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			double s = 0;

			for (t = 0; t < d; t++) {
				double diff = x[i * d + t] - x[j * d + t];

				s += diff * diff;
			}
			p[i * n + j] = p[j * n + i] = s;
		}
	for (i = 0; i < n; i++) {
		memcpy(dist, p + i * n, n * sizeof(*dist));
		tsne_row_affinities(dist, n, i, log(perplexity), p + i * n);
	}
	free(dist);
}

/* The start: init scaled to a small spread (the first axis's standard
 * deviation TSNE_START_STD, both axes by the same factor), or a spiral
 * when init has no spread. */
void tsne_start(const double *init, size_t n, double *y)
{
	double mean[2] = {0, 0}, var = 0;
	size_t i;

	if (init) {
		for (i = 0; i < n; i++) {
			mean[0] += init[i * 2] / (double)n;
			mean[1] += init[i * 2 + 1] / (double)n;
		}
		for (i = 0; i < n; i++)
			var += (init[i * 2] - mean[0]) * (init[i * 2] - mean[0]) / (double)n;
	}
	for (i = 0; i < n; i++) {
		if (var > 0) {
			double scale = TSNE_START_STD / sqrt(var);

			y[i * 2] = (init[i * 2] - mean[0]) * scale;
			y[i * 2 + 1] = (init[i * 2 + 1] - mean[1]) * scale;
		} else {
			double r = TSNE_START_STD * sqrt((double)(i + 1) / (double)n);

			y[i * 2] = r * cos(TSNE_GOLDEN_ANGLE * (double)i);
			y[i * 2 + 1] = r * sin(TSNE_GOLDEN_ANGLE * (double)i);
		}
	}
}

/*
 * The gradient of KL(P || Q) into grad (n by 2), in one pass over the
 * pairs: with w = 1 / (1 + |yi - yj|^2) and Z the sum of w over i != j,
 * grad_i = 4 (exaggeration sum_j p_ij w (yi - yj) - sum_j w^2 (yi - yj) / Z),
 * so the kernel need not be stored.  p is packed: row i holds p_ij for
 * j > i, rows one after another.
 */
void tsne_exact_gradient(void *packed_p, size_t n, const double *y, double exaggeration,
			 double *grad)
{
	double sumq = 0, *repel = grad + 2 * n;
	const double *row = packed_p;
	size_t i, j, k;

	memset(grad, 0, 4 * n * sizeof(*grad));
	for (i = 0; i < n; row += n - i - 1, i++)
		for (j = i + 1; j < n; j++) {
			double dx = y[i * 2] - y[j * 2], dy = y[i * 2 + 1] - y[j * 2 + 1];
			double w = 1 / (1 + dx * dx + dy * dy),
			       f = exaggeration * row[j - i - 1] * w;

			sumq += 2 * w;
			grad[i * 2] += f * dx;
			grad[i * 2 + 1] += f * dy;
			grad[j * 2] -= f * dx;
			grad[j * 2 + 1] -= f * dy;
			repel[i * 2] += w * w * dx;
			repel[i * 2 + 1] += w * w * dy;
			repel[j * 2] -= w * w * dx;
			repel[j * 2 + 1] -= w * w * dy;
		}
	for (k = 0; k < 2 * n; k++)
		grad[k] = 4 * (grad[k] - repel[k] / sumq);
}

/* Gradient descent with momentum and per-coordinate gains (Jacobs 1988),
 * as in the paper, the layout kept centred. */
void tsne_descend(tsne_gradient_fn gradient, void *ctx, size_t n, double *y)
{
	double *grad = xcalloc(4 * n, sizeof(*grad)), *update = xcalloc(2 * n, sizeof(*update));
	double *gains = xcalloc(2 * n, sizeof(*gains));
	double rate = (double)n / TSNE_EXAGGERATION / 4;
	size_t it, k;

	if (rate < 50)
		rate = 50;
	for (k = 0; k < 2 * n; k++)
		gains[k] = 1;
	for (it = 0; it < TSNE_ITERATIONS; it++) {
		int early = it < TSNE_EARLY;
		double momentum = early ? 0.5 : 0.8, mean[2] = {0, 0};

		gradient(ctx, n, y, early ? TSNE_EXAGGERATION : 1, grad);
		for (k = 0; k < 2 * n; k++) {
			if ((grad[k] > 0) != (update[k] > 0))
				gains[k] += 0.2;
			else
				gains[k] *= 0.8;
			if (gains[k] < 0.01)
				gains[k] = 0.01;
			update[k] = momentum * update[k] - rate * gains[k] * grad[k];
			y[k] += update[k];
			mean[k % 2] += y[k] / (double)n;
		}
		for (k = 0; k < 2 * n; k++)
			y[k] -= mean[k % 2];
	}
	free(gains);
	free(update);
	free(grad);
}

/* The symmetrised p_ij = (p(j|i) + p(i|j)) / 2n, floored so that no pair
 * is pulled by nothing at all, packed into the upper triangle's rows. */
double *tsne_exact_p(const double *x, size_t n, size_t d, double perplexity)
{
	double *table = xcalloc(n * n, sizeof(*table));
	size_t i, j, k;

	map_tsne_affinities(x, n, d, perplexity, table);
	/* packed in place: each write lands at or before what it was read
	 * from, and after every p(i|k) still to be read */
	for (i = 0, k = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			double v = (table[i * n + j] + table[j * n + i]) / (2 * (double)n);

			table[k++] = v > 1e-12 ? v : 1e-12;
		}
	return xrealloc(table, (k ? k : 1) * sizeof(*table));
}

int map_tsne_uses_barnes_hut(size_t n)
{
	return n > MAP_TSNE_EXACT_PAIRS;
}

int map_tsne(const double *x, size_t n, size_t d, const double *init, double perplexity, double *y,
	     struct errbuf *err)
{
	double *table;

	if (map_tsne_uses_barnes_hut(n))
		return map_tsne_barnes_hut(x, n, d, init, perplexity, MAP_TSNE_THETA, y, err);
	if (n < 2) {
		memset(y, 0, 2 * n * sizeof(*y));
		return 0;
	}
	if (perplexity > (double)(n - 1) / 3)
		perplexity = (double)(n - 1) / 3;
	table = tsne_exact_p(x, n, d, perplexity);
	tsne_start(init, n, y);
	tsne_descend(tsne_exact_gradient, table, n, y);
	free(table);
	return 0;
}

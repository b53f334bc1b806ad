/*
 * Barnes-Hut t-SNE (van der Maaten 2014), for maps past exact t-SNE's
 * MAP_TSNE_EXACT_PAIRS.  Two approximations make it O(n log n) a step:
 * P is sparse, each point's affinities spread over its 3 * perplexity
 * nearest neighbours only (found exactly, in one pass over the pairs);
 * and the repulsion of a far group of points is taken from its centre of
 * mass, the groups being the cells of a quadtree over the layout, a cell
 * counting as far when its side is less than theta times its distance.
 * As with exact t-SNE there are no random numbers and every sum runs in a
 * fixed order: the same input gives the same layout, bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/map.h"
#include "weft/xalloc.h"
#include "map_tsne.h"

#define QUAD_NONE      SIZE_MAX
#define QUAD_MAX_DEPTH 48 /* points closer than 2^-48 of the span share a leaf */

/* One neighbour candidate: squared distance, then index, decide order. */
struct neighbour {
	double dist;
	size_t j;
};

static int worse(const struct neighbour *a, const struct neighbour *b)
{
	return a->dist > b->dist || (a->dist == b->dist && a->j > b->j);
}

/* Offers c to the max-heap h (len of k, the worst on top). */
static void heap_offer(struct neighbour *h, size_t *len, size_t k, struct neighbour c)
{
	size_t at;

	if (*len < k) {
		at = (*len)++;
		while (at > 0 && worse(&c, &h[(at - 1) / 2])) {
			h[at] = h[(at - 1) / 2];
			at = (at - 1) / 2;
		}
		h[at] = c;
		return;
	}
	if (!worse(&h[0], &c))
		return;
	at = 0;
	for (;;) {
		size_t big = 2 * at + 1;

		if (big >= k)
			break;
		if (big + 1 < k && worse(&h[big + 1], &h[big]))
			big++;
		if (!worse(&h[big], &c))
			break;
		h[at] = h[big];
		at = big;
	}
	h[at] = c;
}

static int cmp_neighbour(const void *a, const void *b)
{
	return worse(a, b) ? 1 : worse(b, a) ? -1 : 0;
}

/* The k nearest neighbours of every row of x (n by k, nearest first),
 * each pair's distance computed once. */
static struct neighbour *nearest_k(const double *x, size_t n, size_t d, size_t k)
{
	struct neighbour *h = xcalloc(n * k, sizeof(*h));
	size_t *len = xcalloc(n, sizeof(*len));
	size_t i, j, t;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			struct neighbour c;
			double s = 0;

			for (t = 0; t < d; t++) {
				double diff = x[i * d + t] - x[j * d + t];

				s += diff * diff;
			}
			c.dist = s;
			c.j = j;
			heap_offer(h + i * k, &len[i], k, c);
			c.j = i;
			heap_offer(h + j * k, &len[j], k, c);
		}
	for (i = 0; i < n; i++)
		qsort(h + i * k, k, sizeof(*h), cmp_neighbour);
	free(len);
	return h;
}

/* P as sparse rows: row i's entries are col and val from start[i] to
 * start[i + 1], by column; symmetric. */
struct sparse_p {
	size_t *start; /* n + 1 */
	size_t *col;
	double *val;
};

struct entry {
	size_t col;
	double val;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->col > y->col ? 1 : x->col < y->col ? -1 : 0;
}

/* p_ij = (p(j|i) + p(i|j)) / 2n over the neighbour pairs. */
static void sparse_p_build(const double *x, size_t n, size_t d, double perplexity,
			   struct sparse_p *p)
{
	size_t k = (size_t)(3 * perplexity), i, e, out;
	struct neighbour *nb;
	double *dist, *row;
	struct entry *all;
	size_t *fill;

	if (k > n - 1)
		k = n - 1;
	nb = nearest_k(x, n, d, k);
	dist = xcalloc(k, sizeof(*dist));
	row = xcalloc(k, sizeof(*row));
	all = xcalloc(2 * n * k, sizeof(*all));
	fill = xcalloc(n, sizeof(*fill));
	p->start = xcalloc(n + 1, sizeof(*p->start));
	for (i = 0; i < n; i++)
		for (e = 0; e < k; e++) {
			p->start[i + 1]++;
			p->start[nb[i * k + e].j + 1]++;
		}
	for (i = 0; i < n; i++)
		p->start[i + 1] += p->start[i];
	for (i = 0; i < n; i++) {
		for (e = 0; e < k; e++)
			dist[e] = nb[i * k + e].dist;
		tsne_row_affinities(dist, k, QUAD_NONE, log(perplexity), row);
		for (e = 0; e < k; e++) {
			size_t j = nb[i * k + e].j;
			struct entry a = {j, row[e] / (2 * (double)n)}, b = {i, a.val};

			all[p->start[i] + fill[i]++] = a;
			all[p->start[j] + fill[j]++] = b;
		}
	}
	/* each row by column, a pair found from both sides summed into one */
	p->col = xcalloc(2 * n * k, sizeof(*p->col));
	p->val = xcalloc(2 * n * k, sizeof(*p->val));
	for (i = 0, out = 0; i < n; i++) {
		size_t from = p->start[i], to = p->start[i + 1];

		qsort(all + from, to - from, sizeof(*all), cmp_entry);
		p->start[i] = out;
		for (e = from; e < to; e++) {
			if (e > from && all[e].col == all[e - 1].col) {
				p->val[out - 1] += all[e].val;
				continue;
			}
			p->col[out] = all[e].col;
			p->val[out++] = all[e].val;
		}
	}
	p->start[n] = out;
	free(fill);
	free(all);
	free(row);
	free(dist);
	free(nb);
}

static void sparse_p_release(struct sparse_p *p)
{
	free(p->start);
	free(p->col);
	free(p->val);
}

/* A cell of the quadtree.  A leaf holds its points as a list (first,
 * then the tree's next[]); an inner cell has four children from child
 * (0: none, as the root is no one's child). */
struct quad {
	double cx, cy, half; /* centre and half the side; once built, the side squared */
	double sx, sy;	     /* the sum of its points' positions; once built, their mean */
	size_t count;
	size_t child;
	size_t first;
};

struct quadtree {
	struct quad *cells; /* owned; [0] the root */
	size_t len, cap;
	size_t *next; /* owned, n: the next point in the same leaf */
};

static size_t quad_add(struct quadtree *t, double cx, double cy, double half)
{
	struct quad *q;

	if (t->len == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
	}
	q = &t->cells[t->len];
	memset(q, 0, sizeof(*q));
	q->cx = cx;
	q->cy = cy;
	q->half = half;
	q->first = QUAD_NONE;
	return t->len++;
}

static size_t quadrant(const struct quad *q, double x, double y)
{
	return (size_t)(x >= q->cx) + 2 * (size_t)(y >= q->cy);
}

/* Splits leaf at (holding one point, old) into four, old moved down. */
static void quad_split(struct quadtree *t, size_t at, const double *y)
{
	struct quad q = t->cells[at];
	size_t c, old = q.first, child;

	for (c = 0; c < 4; c++)
		quad_add(t, q.cx + (c & 1 ? 0.5 : -0.5) * q.half,
			 q.cy + (c & 2 ? 0.5 : -0.5) * q.half, q.half / 2);
	child = t->len - 4;
	t->cells[at].child = child;
	t->cells[at].first = QUAD_NONE;
	child += quadrant(&q, y[old * 2], y[old * 2 + 1]);
	t->cells[child].count = 1;
	t->cells[child].sx = y[old * 2];
	t->cells[child].sy = y[old * 2 + 1];
	t->cells[child].first = old;
	t->next[old] = QUAD_NONE;
}

static void quad_insert(struct quadtree *t, const double *y, size_t p)
{
	double px = y[p * 2], py = y[p * 2 + 1];
	size_t at = 0, depth;

	for (depth = 0;; depth++) {
		struct quad *q = &t->cells[at];

		q->count++;
		q->sx += px;
		q->sy += py;
		if (!q->child) {
			if (q->count == 1 || depth == QUAD_MAX_DEPTH) {
				t->next[p] = q->first;
				q->first = p;
				return;
			}
			quad_split(t, at, y);
		}
		at = t->cells[at].child + quadrant(&t->cells[at], px, py);
	}
}

/* Turns each cell's sums of positions into its centre of mass, and its
 * half side into its side squared, which is what quad_repel asks of it. */
static void quad_finish(struct quadtree *t)
{
	size_t c;

	for (c = 0; c < t->len; c++) {
		struct quad *q = &t->cells[c];

		if (q->count) {
			q->sx /= (double)q->count;
			q->sy /= (double)q->count;
		}
		q->half = 4 * q->half * q->half;
	}
}

/* The tree of the layout y (n points), its root a square around them. */
static void quad_build(struct quadtree *t, const double *y, size_t n)
{
	double x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1], half;
	size_t i;

	for (i = 1; i < n; i++) {
		x0 = fmin(x0, y[i * 2]);
		x1 = fmax(x1, y[i * 2]);
		y0 = fmin(y0, y[i * 2 + 1]);
		y1 = fmax(y1, y[i * 2 + 1]);
	}
	half = fmax(x1 - x0, y1 - y0) / 2 * (1 + 1e-9) + 1e-12;
	t->len = 0;
	quad_add(t, (x0 + x1) / 2, (y0 + y1) / 2, half);
	for (i = 0; i < n; i++)
		quad_insert(t, y, i);
	quad_finish(t);
}

/* The repulsion on point i: the sums over the others of w = 1 / (1 + d^2)
 * into *sumq and of w^2 (yi - yj) into f, far cells as one.  A leaf of
 * one point is exact either way; a leaf of several coinciding points is
 * taken point by point, so that i's own is left out. */
static void quad_repel(const struct quadtree *t, const double *y, size_t i, double theta2,
		       double *sumq, double *f)
{
	size_t stack[4 * QUAD_MAX_DEPTH + 4], top = 0, c, j;
	double xi = y[i * 2], yi = y[i * 2 + 1];

	stack[top++] = 0;
	while (top) {
		const struct quad *q = &t->cells[stack[--top]];
		double dx = xi - q->sx, dy = yi - q->sy, d2 = dx * dx + dy * dy, w;

		if (!q->count)
			continue;
		if (q->child && q->half >= theta2 * d2) {
			for (c = 4; c-- > 0;)
				stack[top++] = q->child + c;
			continue;
		}
		if (q->child || (q->count == 1 && q->first != i)) {
			w = 1 / (1 + d2);
			*sumq += (double)q->count * w;
			f[0] += (double)q->count * w * w * dx;
			f[1] += (double)q->count * w * w * dy;
			continue;
		}
		for (j = q->first; j != QUAD_NONE; j = t->next[j]) {
			if (j == i)
				continue;
			dx = xi - y[j * 2];
			dy = yi - y[j * 2 + 1];
			w = 1 / (1 + dx * dx + dy * dy);
			*sumq += w;
			f[0] += w * w * dx;
			f[1] += w * w * dy;
		}
	}
}

struct bh {
	struct sparse_p p;
	struct quadtree tree;
	double theta;
};

/* grad_i = 4 (exaggeration sum_j p_ij w (yi - yj) - sum_j w^2 (yi - yj) / Z),
 * the first over P's entries, the second through the tree. */
static void bh_gradient(void *ctx, size_t n, const double *y, double exaggeration, double *grad)
{
	struct bh *b = ctx;
	double sumq = 0, *repel = grad + 2 * n;
	size_t i, e, k;

	memset(grad, 0, 4 * n * sizeof(*grad));
	quad_build(&b->tree, y, n);
	for (i = 0; i < n; i++) {
		for (e = b->p.start[i]; e < b->p.start[i + 1]; e++) {
			size_t j = b->p.col[e];
			double dx = y[i * 2] - y[j * 2], dy = y[i * 2 + 1] - y[j * 2 + 1];
			double f = exaggeration * b->p.val[e] / (1 + dx * dx + dy * dy);

			grad[i * 2] += f * dx;
			grad[i * 2 + 1] += f * dy;
		}
		quad_repel(&b->tree, y, i, b->theta * b->theta, &sumq, repel + i * 2);
	}
	for (k = 0; k < 2 * n; k++)
		grad[k] = 4 * (grad[k] - repel[k] / sumq);
}

static void bh_init(struct bh *b, const double *x, size_t n, size_t d, double perplexity,
		    double theta)
{
	memset(b, 0, sizeof(*b));
	sparse_p_build(x, n, d, perplexity, &b->p);
	b->tree.next = xcalloc(n, sizeof(*b->tree.next));
	b->theta = theta;
}

static void bh_release(struct bh *b)
{
	sparse_p_release(&b->p);
	free(b->tree.cells);
	free(b->tree.next);
}

int map_tsne_barnes_hut(const double *x, size_t n, size_t d, const double *init, double perplexity,
			double theta, double *y, struct errbuf *err)
{
	struct bh b;

	if (n > MAP_MAX_PAIRS)
		return errbuf_set(err, "t-SNE maps at most %d pairs, not %zu", MAP_MAX_PAIRS, n),
		       -1;
	if (n < 2) {
		memset(y, 0, 2 * n * sizeof(*y));
		return 0;
	}
	if (perplexity > (double)(n - 1) / 3)
		perplexity = (double)(n - 1) / 3;
	bh_init(&b, x, n, d, perplexity, theta);
	tsne_start(init, n, y);
	tsne_descend(bh_gradient, &b, n, y);
	bh_release(&b);
	return 0;
}

void map_tsne_gradient(const double *x, size_t n, size_t d, double perplexity, double theta,
		       const double *y, double *grad)
{
	double *scratch = xcalloc(4 * n, sizeof(*scratch));

	if (perplexity > (double)(n - 1) / 3)
		perplexity = (double)(n - 1) / 3;
	if (theta < 0) {
		double *p = tsne_exact_p(x, n, d, perplexity);

		tsne_exact_gradient(p, n, y, 1, scratch);
		free(p);
	} else {
		struct bh b;

		bh_init(&b, x, n, d, perplexity, theta);
		bh_gradient(&b, n, y, 1, scratch);
		bh_release(&b);
	}
	memcpy(grad, scratch, 2 * n * sizeof(*grad));
	free(scratch);
}

#include "testutil.h"

#include <math.h>
#include <string.h>

#include "weft/map.h"

/* A fixed linear congruential generator: the same points on every run. */
static double uniform(unsigned long *state)
{
	*state = *state * 6364136223846793005UL + 1442695040888963407UL;
	return (double)((*state >> 11) & ((1UL << 53) - 1)) / (double)(1UL << 53);
}

/* Each row's entropy is log(perplexity): the bandwidth search hit it. */
static void test_perplexity(void **state)
{
	enum { N = 40, D = 5 };
	static double x[N * D], p[N * N];
	unsigned long seed = 7;
	double perplexity = 10;
	size_t i, j;

	(void)state;
	for (i = 0; i < N * D; i++)
		x[i] = 10 * uniform(&seed);
	map_tsne_affinities(x, N, D, perplexity, p);
	for (i = 0; i < N; i++) {
		double sum = 0, h = 0;

		assert_true(p[i * N + i] == 0);
		for (j = 0; j < N; j++) {
			sum += p[i * N + j];
			if (p[i * N + j] > 0)
				h -= p[i * N + j] * log(p[i * N + j]);
		}
		assert_true(fabs(sum - 1) < 1e-9);
		assert_true(fabs(h - log(perplexity)) < 1e-4);
	}
}

enum { BLOB = 30, BLOB_D = 50 };

/* Two blobs far apart in 50 dimensions, the first N points in one. */
static void blobs(double *x)
{
	unsigned long seed = 11;
	size_t i, t;

	for (i = 0; i < 2 * BLOB; i++)
		for (t = 0; t < BLOB_D; t++)
			x[i * BLOB_D + t] =
			    uniform(&seed) - 0.5 + (t == i / BLOB ? 8 : 0) + (t == 5 ? 3 : 0);
}

/* From a start that knows nothing of them (no init: the spiral), every
 * point ends nearer its own blob's centroid than the other's. */
static void test_blobs(void **state)
{
	static double x[2 * BLOB * BLOB_D], y[2 * BLOB * 2];
	double c[2][2] = {{0, 0}, {0, 0}};
	struct errbuf err;
	size_t i, b;

	(void)state;
	blobs(x);
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, NULL, 30, y, &err), 0);
	for (i = 0; i < 2 * BLOB; i++) {
		assert_true(isfinite(y[i * 2]) && isfinite(y[i * 2 + 1]));
		c[i / BLOB][0] += y[i * 2] / BLOB;
		c[i / BLOB][1] += y[i * 2 + 1] / BLOB;
	}
	for (i = 0; i < 2 * BLOB; i++) {
		double dist[2];

		for (b = 0; b < 2; b++)
			dist[b] = hypot(y[i * 2] - c[b][0], y[i * 2 + 1] - c[b][1]);
		assert_true(dist[i / BLOB] < dist[1 - i / BLOB]);
	}
}

/* The same input, started from the same init, gives the same bits. */
static void test_deterministic(void **state)
{
	static double x[2 * BLOB * BLOB_D], init[2 * BLOB * 2], y1[2 * BLOB * 2], y2[2 * BLOB * 2];
	struct errbuf err;
	size_t i;

	(void)state;
	blobs(x);
	for (i = 0; i < 2 * BLOB; i++) {
		init[i * 2] = x[i * BLOB_D];
		init[i * 2 + 1] = x[i * BLOB_D + 1];
	}
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, init, 30, y1, &err), 0);
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, init, 30, y2, &err), 0);
	assert_memory_equal(y1, y2, sizeof(y1));
	/* init may be the output */
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, init, 30, init, &err), 0);
	assert_memory_equal(y1, init, sizeof(y1));
	/* and so does the spiral start */
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, NULL, 30, y1, &err), 0);
	assert_int_equal(map_tsne(x, 2 * BLOB, BLOB_D, NULL, 30, y2, &err), 0);
	assert_memory_equal(y1, y2, sizeof(y1));
}

/* One point sits at the origin; two and three (perplexity clamped below
 * one) come out finite and apart. */
static void test_tiny(void **state)
{
	double x[3 * 2] = {0, 0, 1, 0, 0, 3}, y[3 * 2] = {9, 9};
	struct errbuf err;
	size_t n, i;

	(void)state;
	assert_int_equal(map_tsne(x, 1, 2, NULL, 30, y, &err), 0);
	assert_true(y[0] == 0 && y[1] == 0);
	for (n = 2; n <= 3; n++) {
		assert_int_equal(map_tsne(x, n, 2, x, 30, y, &err), 0);
		for (i = 0; i < 2 * n; i++)
			assert_true(isfinite(y[i]));
		assert_true(hypot(y[0] - y[2], y[1] - y[3]) > 1e-3);
	}
}

/* Past the bound: refused, naming it. */
static void test_bound(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(map_tsne(NULL, MAP_MAX_PAIRS + 1, 2, NULL, 30, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "20000"));
}

/* With every other point a neighbour (3 * perplexity >= n - 1) and theta
 * 0 (no cell far enough to stand for its points), Barnes-Hut's gradient is
 * the exact one up to rounding; theta 0.5 is near it, but not it. */
static void test_bh_gradient(void **state)
{
	enum { N = 60, D = 6 };
	static double x[N * D], y[N * 2], exact[N * 2], bh[N * 2];
	unsigned long seed = 5;
	double big = 0, diff = 0, sq = 0, sqdiff = 0;
	size_t i;

	(void)state;
	for (i = 0; i < N * D; i++)
		x[i] = 4 * uniform(&seed) + (i / D < N / 2 ? 0 : 3);
	for (i = 0; i < N * 2; i++)
		y[i] = 10 * uniform(&seed) - 5;
	map_tsne_gradient(x, N, D, 20, -1, y, exact);
	map_tsne_gradient(x, N, D, 20, 0, y, bh);
	for (i = 0; i < N * 2; i++) {
		big = fmax(big, fabs(exact[i]));
		diff = fmax(diff, fabs(exact[i] - bh[i]));
	}
	assert_true(big > 0);
	assert_true(diff <= 1e-9 * big);
	map_tsne_gradient(x, N, D, 20, 0.5, y, bh);
	for (i = 0; i < N * 2; i++) {
		sq += exact[i] * exact[i];
		sqdiff += (exact[i] - bh[i]) * (exact[i] - bh[i]);
	}
	assert_true(sqdiff > 0);
	assert_true(sqrt(sqdiff / sq) < 0.05);
}

enum { PLANTS = 5, PLANT = 650, PLANT_D = 10 };

/* Five groups of 650 points in 10 dimensions (3250 in all: past exact
 * t-SNE's bound, so map_tsne runs Barnes-Hut), each a cube of side 1
 * around its own corner of a simplex of side 4 * sqrt(2), interleaved so
 * that a group is not a run of rows. */
static size_t planted(double *x)
{
	unsigned long seed = 3;
	size_t i, t;

	for (i = 0; i < PLANTS * PLANT; i++)
		for (t = 0; t < PLANT_D; t++)
			x[i * PLANT_D + t] = uniform(&seed) - 0.5 + (t == i % PLANTS ? 4 : 0);
	return PLANTS * PLANT;
}

/* Past exact t-SNE's bound map_tsne runs Barnes-Hut: k-means on the 2-D
 * layout recovers the planted groups, and each point's nearest neighbour
 * in the layout is of its own group. */
static void test_bh_clusters(void **state)
{
	static double x[PLANTS * PLANT * PLANT_D], y[PLANTS * PLANT * 2];
	static size_t assign[PLANTS * PLANT];
	size_t n = planted(x), of[PLANTS], i, j, g, kept = 0;
	struct errbuf err;

	(void)state;
	assert_false(map_tsne_uses_barnes_hut(MAP_TSNE_EXACT_PAIRS));
	assert_true(map_tsne_uses_barnes_hut(n));
	assert_int_equal(map_tsne(x, n, PLANT_D, NULL, 30, y, &err), 0);
	map_kmeans(y, n, 2, PLANTS, assign);
	/* the k-means group of each planted group's first point, all apart */
	for (g = 0; g < PLANTS; g++) {
		of[g] = assign[g];
		for (j = 0; j < g; j++)
			assert_true(of[j] != of[g]);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(assign[i], of[i % PLANTS]);
	for (i = 0; i < n; i++) {
		size_t best = i ? 0 : 1;

		for (j = 0; j < n; j++)
			if (j != i &&
			    hypot(y[i * 2] - y[j * 2], y[i * 2 + 1] - y[j * 2 + 1]) <
				hypot(y[i * 2] - y[best * 2], y[i * 2 + 1] - y[best * 2 + 1]))
				best = j;
		kept += best % PLANTS == i % PLANTS;
	}
	assert_int_equal(kept, n);
}

/* Barnes-Hut gives the same bits twice, and copes with points that
 * coincide (they share a leaf of the quadtree rather than splitting it
 * without end). */
static void test_bh_deterministic(void **state)
{
	enum { N = 300, D = 4 };
	static double x[N * D], y1[N * 2], y2[N * 2];
	unsigned long seed = 9;
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < N * D; i++)
		x[i] = i / D < N / 3 ? 1 : uniform(&seed);
	assert_int_equal(map_tsne_barnes_hut(x, N, D, NULL, 30, 0.5, y1, &err), 0);
	assert_int_equal(map_tsne_barnes_hut(x, N, D, NULL, 30, 0.5, y2, &err), 0);
	assert_memory_equal(y1, y2, sizeof(y1));
	for (i = 0; i < N * 2; i++)
		assert_true(isfinite(y1[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_perplexity),	  cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_deterministic), cmocka_unit_test(test_tiny),
	    cmocka_unit_test(test_bound),	  cmocka_unit_test(test_bh_gradient),
	    cmocka_unit_test(test_bh_clusters),	  cmocka_unit_test(test_bh_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

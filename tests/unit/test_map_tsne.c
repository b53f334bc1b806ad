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

/* Past the bound: refused, naming it and the way out. */
static void test_bound(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(map_tsne(NULL, MAP_TSNE_MAX_PAIRS + 1, 2, NULL, 30, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "3000"));
	assert_non_null(strstr(err.msg, "--method pca"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_perplexity),	  cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_deterministic), cmocka_unit_test(test_tiny),
	    cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/atomicfile.h"
#include "weft/embed.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return testutil_tmpdir(dir, sizeof(dir), "embed");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(dir);
}

/* Vectors come back exactly, under their model and text only; a missing
 * file is an empty cache; damaged lines are skipped, the rest kept. */
static void test_cache_round_trip(void **state)
{
	const double a[3] = {0.1, -1.0 / 3.0, 1e-300}, b[2] = {2.5, -0.0};
	char path[300];
	struct embed_cache c, d;
	struct errbuf err;
	const double *v;
	size_t dim = 0;
	char *data;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, EMBED_CACHE_FILE);
	embed_cache_init(&c);
	assert_int_equal(embed_cache_load(&c, path, &err), 0);
	assert_int_equal(c.n, 0);
	embed_cache_put(&c, "m1", "Is the sky blue?", a, 3);
	embed_cache_put(&c, "m2", "Is the sky blue?", b, 2);
	embed_cache_put(&c, "m1", "", b, 2);
	embed_cache_put(&c, "m1", "", a, 3); /* replaced */
	assert_int_equal(c.n, 3);
	assert_int_equal(embed_cache_save(&c, path, &err), 0);

	embed_cache_init(&d);
	assert_int_equal(embed_cache_load(&d, path, &err), 0);
	assert_int_equal(d.n, 3);
	v = embed_cache_find(&d, "m1", "Is the sky blue?", &dim);
	assert_non_null(v);
	assert_int_equal(dim, 3);
	assert_memory_equal(v, a, sizeof(a));
	v = embed_cache_find(&d, "m2", "Is the sky blue?", &dim);
	assert_non_null(v);
	assert_int_equal(dim, 2);
	assert_true(v[0] == 2.5 && v[1] == 0 && signbit(v[1]));
	v = embed_cache_find(&d, "m1", "", &dim);
	assert_non_null(v);
	assert_int_equal(dim, 3);
	assert_null(embed_cache_find(&d, "m3", "Is the sky blue?", &dim));
	assert_null(embed_cache_find(&d, "m1", "Is the sky blue", &dim));
	embed_cache_release(&d);

	/* damage: a short line, a bad number, a torn last line */
	assert_int_equal(atomicfile_read(path, 1 << 20, &data, &len, &err), 0);
	{
		char *nl = strchr(data, '\n');
		char *second = strchr(nl + 1, '\n');
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite(data, 1, (size_t)(second + 1 - data), f); /* header, first entry */
		fputs("0000000000000001 00000000000000020000000000000003 2 1 nan\n", f);
		fputs("0000000000000001 00000000000000020000000000000003 3 1 2\n", f);
		fputs("garbage\n", f);
		fputs(second + 1, f);
		fputs("0000000000000001 00000000000000020000000000000003 1 1", f);
		fclose(f);
	}
	free(data);
	embed_cache_init(&d);
	assert_int_equal(embed_cache_load(&d, path, &err), 0);
	assert_int_equal(d.n, 3);
	embed_cache_release(&d);

	/* a file that is not a cache is an empty one */
	assert_int_equal(atomicfile_write(path, "hello\n", 6, &err), 0);
	embed_cache_init(&d);
	assert_int_equal(embed_cache_load(&d, path, &err), 0);
	assert_int_equal(d.n, 0);
	embed_cache_release(&d);
	embed_cache_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cache_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

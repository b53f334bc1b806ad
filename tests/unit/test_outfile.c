#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/outfile.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return testutil_tmpdir(dir, sizeof(dir), "outfile");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(dir);
}

static void put(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
}

static void test_output_is_an_input(void **state)
{
	char in[320], other[320], spelled[340], link_[320], sym[320];
	const char *inputs[3];
	struct errbuf err;

	(void)state;
	snprintf(in, sizeof(in), "%s/s.json", dir);
	snprintf(other, sizeof(other), "%s/sizes.txt", dir);
	snprintf(spelled, sizeof(spelled), "%s/./s.json", dir);
	snprintf(link_, sizeof(link_), "%s/hard.json", dir);
	snprintf(sym, sizeof(sym), "%s/sym.json", dir);
	put(in);
	put(other);
	assert_int_equal(link(in, link_), 0);
	assert_int_equal(symlink(in, sym), 0);
	inputs[0] = other;
	inputs[1] = NULL; /* an option not given */
	inputs[2] = in;
	/* the same name, another spelling, a hard link, a symlink: all the
	 * input itself, refused even when replacing is allowed */
	assert_int_equal(outfile_check(in, inputs, 3, 1, &err), OUTFILE_IS_INPUT);
	assert_non_null(strstr(err.msg, "is an input of this command"));
	assert_int_equal(outfile_check(spelled, inputs, 3, 1, &err), OUTFILE_IS_INPUT);
	assert_non_null(strstr(err.msg, "the same file as the input"));
	assert_int_equal(outfile_check(link_, inputs, 3, 1, &err), OUTFILE_IS_INPUT);
	assert_int_equal(outfile_check(sym, inputs, 3, 1, &err), OUTFILE_IS_INPUT);
	assert_int_equal(outfile_check(other, inputs, 3, 1, &err), OUTFILE_IS_INPUT);
}

static void test_existing_output_needs_replace(void **state)
{
	char in[320], out[320], missing[320], gone[320];
	const char *inputs[2];
	struct errbuf err;

	(void)state;
	snprintf(in, sizeof(in), "%s/s.json", dir);
	snprintf(out, sizeof(out), "%s/out.csv", dir);
	snprintf(missing, sizeof(missing), "%s/new.csv", dir);
	snprintf(gone, sizeof(gone), "%s/gone.json", dir);
	put(in);
	inputs[0] = in;
	inputs[1] = gone; /* inputs that do not exist are skipped */
	assert_int_equal(outfile_check(missing, inputs, 2, 0, &err), 0);
	put(out);
	assert_int_equal(outfile_check(out, inputs, 2, 0, &err), OUTFILE_EXISTS);
	assert_non_null(strstr(err.msg, "exists (use --force"));
	assert_int_equal(outfile_check(out, inputs, 2, 1, &err), 0);
	assert_int_equal(outfile_check(out, NULL, 0, 1, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_output_is_an_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_existing_output_needs_replace, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

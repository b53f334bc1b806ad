#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/atomicfile.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return testutil_tmpdir(dir, sizeof(dir), "atomicfile");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(dir);
}

static size_t count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_write_read_replace(void **state)
{
	char path[512], *data;
	size_t len;
	struct errbuf err;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	assert_int_equal(atomicfile_write(path, "old\n", 4, &err), 0);
	assert_int_equal(atomicfile_write(path, "new\0x", 5, &err), 0);
	assert_int_equal(atomicfile_read(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "new\0x", 5);
	assert_int_equal(data[5], '\0');
	free(data);
	assert_int_equal(count_entries(), 1); /* no temporary left */
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IRUSR);
	/* too large */
	assert_int_equal(atomicfile_read(path, 4, &data, &len, &err), -1);
	assert_non_null(strstr(err.msg, "larger"));
	assert_null(data);
}

static void test_failures(void **state)
{
	char path[512], *data;
	size_t len;
	struct errbuf err;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing/out.csv", dir);
	assert_int_equal(atomicfile_write(path, "x", 1, &err), -1);
	assert_non_null(strstr(err.msg, "missing/out.csv"));
	assert_int_equal(atomicfile_read(path, 100, &data, &len, &err), -1);
	assert_null(data);
	/* a folder in the way: the rename fails, the temporary goes */
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(atomicfile_write(path, "x", 1, &err), -1);
	assert_int_equal(count_entries(), 1);
	rmdir(path);
}

static void test_empty_file(void **state)
{
	char path[512], *data;
	size_t len;
	struct errbuf err;

	(void)state;
	snprintf(path, sizeof(path), "%s/empty", dir);
	assert_int_equal(atomicfile_write(path, "", 0, &err), 0);
	assert_int_equal(atomicfile_read(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

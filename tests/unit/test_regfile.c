#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "weft/regfile.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return testutil_tmpdir(dir, sizeof(dir), "regfile");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(dir);
}

/* A FIFO with no writer is refused at once (it used to hang), a device and
 * a folder are named, a regular file opens blocking. */
static void test_only_regular_files(void **state)
{
	struct errbuf err;
	char path[512];
	FILE *f;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(regfile_open(path, &err), -1);
	assert_non_null(strstr(err.msg, "fifo: is not a regular file (a FIFO)"));

	assert_int_equal(regfile_open("/dev/zero", &err), -1);
	assert_non_null(strstr(err.msg, "/dev/zero: is not a regular file (a character device)"));

	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(regfile_fopen(path, &err));
	assert_non_null(strstr(err.msg, "sub: is a folder"));

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(regfile_open(path, &err), -1);
	assert_non_null(strstr(err.msg, "missing: cannot open: No such file or directory"));

	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hello", f);
	fclose(f);
	fd = regfile_open(path, &err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	f = regfile_fopen(path, &err);
	assert_non_null(f);
	assert_int_equal(fgetc(f), 'h');
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_regular_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft/sessionlock.h"

static char dir[256], session[320], lockfile[330];

static int setup(void **state)
{
	(void)state;
	if (testutil_tmpdir(dir, sizeof(dir), "sessionlock"))
		return -1;
	snprintf(session, sizeof(session), "%s/s.json", dir);
	snprintf(lockfile, sizeof(lockfile), "%s/s.json.lock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(dir);
}

/* In a child: tries the lock once; exits 0 acquired, 1 held (and the
 * message named the file and want_pid), 2 anything else. */
static int child_try(pid_t want_pid)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct session_lock l = SESSION_LOCK_INIT;
		struct errbuf err;
		pid_t holder = -1;
		char want[64];
		int r = session_lock_acquire(&l, session, &holder, &err);

		snprintf(want, sizeof(want), "(pid %ld)", (long)want_pid);
		if (r == 0) {
			session_lock_release(&l);
			_exit(0);
		}
		if (r == SESSION_LOCK_HELD && holder == want_pid && strstr(err.msg, session) &&
		    strstr(err.msg, want))
			_exit(1);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A second writer is refused with the holder's pid; free again after the
 * release, which removes the lock file. */
static void test_second_writer_refused(void **state)
{
	struct session_lock l = SESSION_LOCK_INIT;
	struct errbuf err;

	(void)state;
	assert_int_equal(session_lock_acquire(&l, session, NULL, &err), 0);
	assert_int_equal(access(lockfile, F_OK), 0);
	assert_int_equal(child_try(getpid()), 1);
	session_lock_release(&l);
	assert_int_equal(l.fd, -1);
	assert_null(l.lock_path);
	assert_int_equal(access(lockfile, F_OK), -1);
	assert_int_equal(child_try(0), 0);
	/* releasing a lock not held does nothing */
	session_lock_release(&l);
}

/* A holder killed without releasing leaves FILE.lock behind; it never
 * blocks the next writer. */
static void test_dead_holder_never_blocks(void **state)
{
	struct session_lock l = SESSION_LOCK_INIT;
	struct errbuf err;
	pid_t pid = fork(), holder = -1;
	int status = 0;
	char buf[32] = {0};
	FILE *f;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		struct session_lock c = SESSION_LOCK_INIT;

		_exit(session_lock_acquire(&c, session, NULL, &err) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(lockfile, F_OK), 0); /* stale, left behind */
	assert_int_equal(session_lock_acquire(&l, session, &holder, &err), 0);
	/* the file now names this process */
	f = fopen(lockfile, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strtol(buf, NULL, 10), (long)getpid());
	session_lock_release(&l);
}

/* A folder where no lock file can be made: an error that says so, not
 * "held". */
static void test_cannot_create(void **state)
{
	struct session_lock l = SESSION_LOCK_INIT;
	struct errbuf err;
	char path[400];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-folder/s.json", dir);
	assert_int_equal(session_lock_acquire(&l, path, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create the lock file"));
	assert_int_equal(l.fd, -1);
}

/* Writers racing to acquire and release (each release removes the file)
 * are never two at once: a marker only a holder makes with O_EXCL would
 * be found. */
static void test_never_two_holders(void **state)
{
	enum { WORKERS = 4, ROUNDS = 150 };
	char marker[340];
	pid_t pids[WORKERS];
	int w, status;

	(void)state;
	snprintf(marker, sizeof(marker), "%s/inside", dir);
	for (w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			int round = 0, bad = 0;

			while (round < ROUNDS) {
				struct session_lock l = SESSION_LOCK_INIT;
				struct errbuf err;
				int fd, r = session_lock_acquire(&l, session, NULL, &err);

				if (r == SESSION_LOCK_HELD)
					continue;
				if (r < 0)
					_exit(3);
				fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
				if (fd < 0)
					bad = 1;
				else
					close(fd);
				unlink(marker);
				session_lock_release(&l);
				round++;
			}
			_exit(bad);
		}
	}
	for (w = 0; w < WORKERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_second_writer_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dead_holder_never_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cannot_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_two_holders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

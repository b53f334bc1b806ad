#include "weft/sessionlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weft/strbuf.h"

/* Tries of an acquire that keeps finding a lock file already removed; each
 * try means another process released the lock in between. */
#define ACQUIRE_TRIES 50
/* How long a refused acquire waits for a new holder to write its pid. */
#define PID_WAIT_TRIES 20
#define PID_WAIT_NS    5000000L

void session_lock_init(struct session_lock *l)
{
	l->fd = -1;
	l->lock_path = NULL;
}

char *session_lock_path(const char *session_path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s.lock", session_path);
	return strbuf_detach(&sb, NULL);
}

/* The pid written in an open lock file; 0 when none (yet). */
static pid_t read_holder(int fd)
{
	struct timespec pause = {0, PID_WAIT_NS};
	char buf[32];
	int tries;

	for (tries = 0; tries < PID_WAIT_TRIES; tries++) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		if (n > 0 && buf[n - 1] == '\n') {
			long pid;
			char *end;

			buf[n] = '\0';
			pid = strtol(buf, &end, 10);
			if (end != buf && *end == '\n' && pid > 0)
				return (pid_t)pid;
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

static int same_inode(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int session_lock_acquire(struct session_lock *l, const char *session_path, pid_t *holder,
			 struct errbuf *err)
{
	char *path = session_lock_path(session_path);
	char pid[32];
	int fd = -1, tries, n;

	if (holder)
		*holder = 0;
	for (tries = 0; tries < ACQUIRE_TRIES; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			errbuf_set(err, "%s: cannot create the lock file %s: %s", session_path,
				   path, strerror(errno));
			free(path);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;

			if (e == EWOULDBLOCK || e == EAGAIN) {
				pid_t p = read_holder(fd);

				if (holder)
					*holder = p;
				if (p)
					errbuf_set(
					    err, "%s is open for writing in another weft (pid %ld)",
					    session_path, (long)p);
				else
					errbuf_set(err, "%s is open for writing in another weft",
						   session_path);
				close(fd);
				free(path);
				return SESSION_LOCK_HELD;
			}
			errbuf_set(err, "%s: cannot lock %s: %s", session_path, path, strerror(e));
			close(fd);
			free(path);
			return -1;
		}
		/* A holder releasing removes the file it locked: the lock that
		 * counts is the one on the file the name points to now. */
		if (same_inode(fd, path))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		errbuf_set(err, "%s: the lock file %s keeps changing", session_path, path);
		free(path);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	/* The pid is for messages only: a failure to write it is no failure
	 * of the lock. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0)
		(void)0;
	l->fd = fd;
	l->lock_path = path;
	return 0;
}

void session_lock_release(struct session_lock *l)
{
	if (l->fd < 0)
		return;
	/* Removed while still held, so no one locks a file about to vanish
	 * without noticing (see session_lock_acquire). */
	unlink(l->lock_path);
	close(l->fd);
	free(l->lock_path);
	l->fd = -1;
	l->lock_path = NULL;
}

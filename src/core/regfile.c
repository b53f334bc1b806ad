#include "weft/regfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "is a folder";
	if (S_ISFIFO(m))
		return "is not a regular file (a FIFO)";
	if (S_ISCHR(m))
		return "is not a regular file (a character device)";
	if (S_ISBLK(m))
		return "is not a regular file (a block device)";
	if (S_ISSOCK(m))
		return "is not a regular file (a socket)";
	return "is not a regular file";
}

int regfile_open(const char *path, struct errbuf *err)
{
	struct stat st;
	int fd, flags;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		errbuf_set(err, "%s: cannot open: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errbuf_set(err, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errbuf_set(err, "%s: %s", path, kind_of(st.st_mode));
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

FILE *regfile_fopen(const char *path, struct errbuf *err)
{
	int fd = regfile_open(path, err);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "rb");
	if (!f) {
		int e = errno;

		close(fd);
		errbuf_set(err, "%s: %s", path, strerror(e));
	}
	return f;
}

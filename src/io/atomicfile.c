#include "weft/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/strbuf.h"
#include "weft/xalloc.h"

static void split_path(const char *path, struct strbuf *dir, struct strbuf *base)
{
	const char *slash = strrchr(path, '/');

	if (slash) {
		strbuf_add(dir, path, (size_t)(slash - path) + 1);
		strbuf_addstr(base, slash + 1);
	} else {
		strbuf_addstr(dir, "./");
		strbuf_addstr(base, path);
	}
}

int atomicfile_write(const char *path, const void *data, size_t len, struct errbuf *err)
{
	struct strbuf dir = STRBUF_INIT, base = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *p = data;
	mode_t mask;
	int fd, dfd, rc = -1;

	split_path(path, &dir, &base);
	strbuf_addf(&tmp, "%s.%s.XXXXXX", dir.data, base.data);
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		errbuf_set(err, "%s: cannot create a temporary file: %s", path, strerror(errno));
		goto out;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		goto fail;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp.data, path) < 0)
		goto fail;
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd); /* best effort: some file systems refuse */
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	errbuf_set(err, "%s: cannot write: %s; nothing was replaced", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
out:
	strbuf_release(&dir);
	strbuf_release(&base);
	strbuf_release(&tmp);
	return rc;
}

int atomicfile_read(const char *path, size_t max, char **out, size_t *len, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	*out = NULL;
	*len = 0;
	if (!f)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb.len + n > max) {
			fclose(f);
			strbuf_release(&sb);
			return errbuf_set(err, "%s: larger than %zu bytes", path, max);
		}
		strbuf_add(&sb, buf, n);
	}
	if (ferror(f)) {
		errbuf_set(err, "%s: %s", path, strerror(errno));
		fclose(f);
		strbuf_release(&sb);
		return -1;
	}
	fclose(f);
	*out = strbuf_detach(&sb, len);
	return 0;
}

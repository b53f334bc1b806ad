#include "weft/atomicfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/regfile.h"
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

/* A temporary file of BASE is ".BASE" TMP_TAG "PID-" and mkstemp's six
 * characters: a name no user file has by chance, and the pid tells the
 * sweep whether its writer still lives. */
#define TMP_TAG ".weft-"

/*
 * Where a write to path goes: path itself, or, when path is a symbolic
 * link, the file it points to (as editors do: the link stays a link).
 * A link to nothing is refused rather than replaced by a regular file.
 */
static int resolve_target(const char *path, char **out, struct errbuf *err)
{
	struct stat st;
	char *real;

	if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
		*out = xstrdup(path);
		return 0;
	}
	real = realpath(path, NULL);
	if (!real)
		return errbuf_set(err,
				  "%s: is a symbolic link to a file that cannot be reached (%s); "
				  "nothing was written",
				  path, strerror(errno));
	*out = real;
	return 0;
}

int atomicfile_open(struct atomicfile *af, const char *path, struct errbuf *err)
{
	struct strbuf dir = STRBUF_INIT, base = STRBUF_INIT, tmp = STRBUF_INIT;
	struct stat st;
	mode_t mode;
	char *target;

	af->fd = -1;
	af->path = NULL;
	af->tmp = NULL;
	if (resolve_target(path, &target, err) < 0)
		return -1;
	path = target;
	split_path(path, &dir, &base);
	strbuf_addf(&tmp, "%s.%s" TMP_TAG "%ld-XXXXXX", dir.data, base.data, (long)getpid());
	strbuf_release(&dir);
	strbuf_release(&base);
	af->fd = mkstemp(tmp.data);
	if (af->fd < 0) {
		errbuf_set(err, "%s: cannot create a temporary file beside it: %s", path,
			   strerror(errno));
		strbuf_release(&tmp);
		free(target);
		return -1;
	}
	af->tmp = strbuf_detach(&tmp, NULL);
	af->path = target;
	if (!stat(path, &st)) {
		mode = st.st_mode & 07777;
	} else {
		mode = umask(022);
		umask(mode);
		mode = 0666 & ~mode;
	}
	if (fchmod(af->fd, mode) < 0)
		return atomicfile_commit(af, errno, err);
	return 0;
}

int atomicfile_put(struct atomicfile *af, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(af->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomicfile_commit(struct atomicfile *af, int errn, struct errbuf *err)
{
	const char *step = "write";
	struct strbuf dir = STRBUF_INIT, base = STRBUF_INIT;
	struct stat st;
	int dfd, rc = -1;

	if (errn)
		goto fail;
	step = "sync";
	if (fsync(af->fd) < 0)
		goto fail_errno;
	step = "close";
	dfd = af->fd;
	af->fd = -1;
	if (close(dfd) < 0)
		goto fail_errno;
	step = "replace";
	if (rename(af->tmp, af->path) < 0)
		goto fail_errno;
	split_path(af->path, &dir, &base);
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* best effort: some file systems refuse */
		close(dfd);
	}
	rc = 0;
	goto out;
fail_errno:
	errn = errno;
fail:
	/* Say what the user most wants to know: nothing was lost. */
	errbuf_set(err, "%s: cannot %s: %s; %s", af->path, step, strerror(errn),
		   stat(af->path, &st) ? "nothing was written"
				       : "the previous file was left as it was");
	if (af->fd >= 0)
		close(af->fd);
	unlink(af->tmp);
out:
	free(af->tmp);
	free(af->path);
	af->fd = -1;
	af->tmp = af->path = NULL;
	strbuf_release(&dir);
	strbuf_release(&base);
	return rc;
}

void atomicfile_remove_stale(const char *path)
{
	struct strbuf dir = STRBUF_INIT, base = STRBUF_INIT, victim = STRBUF_INIT;
	struct dirent *de;
	char *target = NULL;
	size_t k;
	DIR *d;

	if (resolve_target(path, &target, NULL) < 0)
		return;
	split_path(target, &dir, &base);
	d = opendir(dir.data);
	while (d && (de = readdir(d)) != NULL) {
		const char *n = de->d_name, *p;
		char *end;
		long pid;

		/* .BASE.weft-PID-XXXXXX and nothing else */
		if (n[0] != '.' || strncmp(n + 1, base.data, base.len) ||
		    strncmp(n + 1 + base.len, TMP_TAG, strlen(TMP_TAG)))
			continue;
		p = n + 1 + base.len + strlen(TMP_TAG);
		if (!isdigit((unsigned char)*p))
			continue;
		pid = strtol(p, &end, 10);
		if (*end != '-' || strlen(end + 1) != 6)
			continue;
		for (k = 0; k < 6; k++)
			if (!isalnum((unsigned char)end[1 + k]))
				break;
		/* only a dead writer's: a live one may be writing it now */
		if (k < 6 || pid <= 0 ||
		    (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH)))
			continue;
		strbuf_reset(&victim);
		strbuf_addf(&victim, "%s%s", dir.data, n);
		unlink(victim.data);
	}
	if (d)
		closedir(d);
	free(target);
	strbuf_release(&dir);
	strbuf_release(&base);
	strbuf_release(&victim);
}

int atomicfile_write(const char *path, const void *data, size_t len, struct errbuf *err)
{
	struct atomicfile af;

	if (atomicfile_open(&af, path, err) < 0)
		return -1;
	return atomicfile_commit(&af, atomicfile_put(&af, data, len) < 0 ? errno : 0, err);
}

int atomicfile_read(const char *path, size_t max, char **out, size_t *len, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = regfile_fopen(path, err);

	*out = NULL;
	*len = 0;
	if (!f)
		return -1;
	strbuf_set_max(&sb, max);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (strbuf_add(&sb, buf, n) < 0) {
			fclose(f);
			strbuf_release(&sb);
			return errbuf_set(err, "%s: larger than %zu bytes", path, max);
		}
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

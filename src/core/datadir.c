#include "weft/datadir.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/strbuf.h"
#include "weft/xalloc.h"

#ifndef WEFT_DATADIR
#define WEFT_DATADIR "/usr/local/share/weft"
#endif

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Adds dir unless it is already listed (the same folder by another path
 * counts as the same: ./prompts in a checkout is the executable's too). */
static void add_dir(struct datadir *d, const char *dir)
{
	char real[PATH_MAX], other[PATH_MAX];
	int have_real;
	size_t i;

	if (d->count >= DATADIR_MAX)
		return;
	have_real = realpath(dir, real) != NULL;
	for (i = 0; i < d->count; i++) {
		if (!strcmp(d->dirs[i], dir))
			return;
		if (have_real && realpath(d->dirs[i], other) && !strcmp(real, other))
			return;
	}
	d->dirs[d->count++] = xstrdup(dir);
}

/* Adds BASE/kind when that folder exists. */
static void add_beside(struct datadir *d, const char *base, const char *kind)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", base, kind);
	if (is_dir(sb.data))
		add_dir(d, sb.data);
	strbuf_release(&sb);
}

/* The places beside the running executable (see the header, 3). */
static void add_exe_places(struct datadir *d, const char *kind)
{
	char exe[PATH_MAX];
	struct strbuf sb = STRBUF_INIT;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0'; /* exe is now the executable's folder */
	add_beside(d, exe, kind);
	/* build/NAME/weft in a checkout: the checkout is two levels up */
	slash = strrchr(exe, '/');
	if (slash && slash > exe) {
		char *build;

		*slash = '\0';
		build = strrchr(exe, '/');
		if (!strcmp(build ? build + 1 : exe, "build")) {
			if (build) {
				*build = '\0';
				add_beside(d, build == exe ? "/" : exe, kind);
				*build = '/';
			}
		}
		/* PREFIX/bin/weft: PREFIX/share/weft, wherever PREFIX went */
		strbuf_addf(&sb, "%s/share/weft", exe);
		add_beside(d, sb.data, kind);
		*slash = '/';
	}
	strbuf_release(&sb);
}

void datadir_init(struct datadir *d, const char *kind, const char *env)
{
	const char *value = env ? getenv(env) : NULL;
	struct strbuf sb = STRBUF_INIT;

	memset(d, 0, sizeof(*d));
	if (value && *value)
		add_dir(d, value);
	add_dir(d, kind);
	add_exe_places(d, kind);
	strbuf_addf(&sb, "%s/%s", WEFT_DATADIR, kind);
	add_dir(d, sb.data);
	strbuf_release(&sb);
}

void datadir_release(struct datadir *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		free(d->dirs[i]);
	memset(d, 0, sizeof(*d));
}

#ifndef WEFT_ATOMICFILE_H
#define WEFT_ATOMICFILE_H
/*
 * Whole-file writes that never leave a half-written file behind
 * (src/io/atomicfile.c): the bytes go to a temporary file in the same folder
 * (".NAME.weft-PID-XXXXXX"), which is fsynced and renamed over path; the
 * folder is then fsynced.  The new file keeps the mode of the file it
 * replaces, else gets 0666 minus the umask.  When path is a symbolic link
 * the write goes to the file it points to and the link stays (a link to
 * nothing is refused).  On any failure path is untouched, the temporary
 * file is removed, and the message ends by saying so.
 */
#include <stddef.h>

#include "weft/errbuf.h"

/* A write in progress: open, write to fd, then commit or abort. */
struct atomicfile {
	int fd;
	char *path; /* owned */
	char *tmp;  /* owned */
};

/* Creates the temporary file for path.  Returns 0, or -1 with err set. */
int atomicfile_open(struct atomicfile *af, const char *path, struct errbuf *err);

/* Writes len bytes to the temporary file.  Returns 0, or -1 with errno. */
int atomicfile_put(struct atomicfile *af, const void *data, size_t len);

/*
 * Syncs, closes and renames the temporary file over path, then syncs the
 * folder.  errn, when not 0, is an error the caller met while writing: the
 * write is abandoned with it.  Returns 0, or -1 with err naming the file
 * and the failing step.  Either way af is released.
 */
int atomicfile_commit(struct atomicfile *af, int errn, struct errbuf *err);

/*
 * Removes the temporary files that writes killed between open and commit
 * left beside path (.NAME.weft-PID-XXXXXX) whose writer (PID) is no longer
 * running: a live process's write in progress, and any file not named so
 * (a user's .NAME.backup), are never touched.  Best effort.
 */
void atomicfile_remove_stale(const char *path);

/* Writes len bytes of data to path atomically (open, put, commit).
 * Returns 0, or -1 with err set. */
int atomicfile_write(const char *path, const void *data, size_t len, struct errbuf *err);

/* Reads the whole file at path into a new NUL-terminated buffer (*out,
 * caller frees; *len its length without the NUL).  Fails (-1, err set) on
 * read errors and on files larger than max bytes. */
int atomicfile_read(const char *path, size_t max, char **out, size_t *len, struct errbuf *err);

#endif

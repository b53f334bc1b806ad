#ifndef WEFT_ATOMICFILE_H
#define WEFT_ATOMICFILE_H
/*
 * Whole-file writes that never leave a half-written file behind
 * (src/io/atomicfile.c): the bytes go to a temporary file in the same folder
 * (".NAME.XXXXXX"), which is flushed, fsynced and renamed over path; the
 * folder is then fsynced.  The new file gets mode 0666 minus the umask.
 */
#include <stddef.h>

#include "weft/errbuf.h"

/* Writes len bytes of data to path atomically.  Returns 0, or -1 with err
 * naming the file and the failing step; on failure path is untouched and
 * the temporary file removed. */
int atomicfile_write(const char *path, const void *data, size_t len, struct errbuf *err);

/* Reads the whole file at path into a new NUL-terminated buffer (*out,
 * caller frees; *len its length without the NUL).  Fails (-1, err set) on
 * read errors and on files larger than max bytes. */
int atomicfile_read(const char *path, size_t max, char **out, size_t *len, struct errbuf *err);

#endif

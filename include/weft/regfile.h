#ifndef WEFT_REGFILE_H
#define WEFT_REGFILE_H
/*
 * Opening an input file that must be a regular file.  Every file weft reads
 * (sessions, journals, tasks, configuration, datasets, results) goes
 * through here, so a FIFO never hangs it, a device never feeds it
 * gigabytes and a folder is named as one: what is not a regular file is
 * refused before a byte is read.  The open itself never blocks (O_NONBLOCK,
 * cleared once the file is known to be regular).
 */
#include <stdio.h>

#include "weft/errbuf.h"

/*
 * Opens path for reading.  Returns a file descriptor (close-on-exec,
 * blocking), or -1 with err set to "PATH: REASON" ("cannot open: No such
 * file or directory", "is a folder", "is not a regular file (a FIFO)", ...)
 * and errno set: open's, EISDIR for a folder, EINVAL for another kind.
 */
int regfile_open(const char *path, struct errbuf *err);

/* The same, as a stdio stream ("rb"); NULL with err set. */
FILE *regfile_fopen(const char *path, struct errbuf *err);

#endif

#ifndef WEFT_OUTFILE_H
#define WEFT_OUTFILE_H
/*
 * Outputs never clobber inputs (src/io/outfile.c): the one check every
 * command that writes a file it was named (export -o, eval --out,
 * plot --svg and --summary, replay --save-as, the loom's x) makes before
 * it writes, and before it spends any request.
 */
#include <stddef.h>

#include "weft/errbuf.h"

/*
 * Checks that output may be written.  Refuses (-1, err naming both) when
 * output is one of the inputs: the same file by st_dev and st_ino, so
 * another spelling of the path, a symlink or a hard link is caught
 * (inputs that do not exist, and NULL entries, are skipped).  Refuses an
 * output that exists unless replace is set (the caller's --force, or a
 * folder to write into).  Returns 0 when the write may go ahead,
 * OUTFILE_IS_INPUT or OUTFILE_EXISTS with err set.
 */
#define OUTFILE_EXISTS	 (-1)
#define OUTFILE_IS_INPUT (-2)
int outfile_check(const char *output, const char *const *inputs, size_t ninputs, int replace,
		  struct errbuf *err);

#endif

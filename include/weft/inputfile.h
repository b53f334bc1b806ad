#ifndef WEFT_INPUTFILE_H
#define WEFT_INPUTFILE_H
/*
 * The one reader of a file a command reads as a session or a dataset
 * (src/io/inputfile.c): extract, export and eval read through it, so that
 * they see what check, replay and the loom see (session_load and
 * journal_replay, which follow the same rules).
 *
 * - A UTF-8 byte-order mark at the start is skipped (utf8_bom_len).
 * - A file whose first non-blank byte is '{' is loaded as a session, unless
 *   INPUTFILE_TEXT.  One that does not load is an error when its name ends
 *   in ".json", else it is read as text.
 * - A session's journal (FILE.journal) is applied, read-only: it is never
 *   removed or rewritten here.  A damaged line is an error naming
 *   FILE.journal:LINE; a torn last line (a crash mid-write) is ignored with
 *   a warning.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/tree.h"

/* Never a session: the file is text whatever it starts with (JSONL). */
#define INPUTFILE_TEXT 1u

struct inputfile {
	char *data; /* owned, NUL-terminated: the file's bytes after a byte-order
		     * mark (also for a session; callers hash them) */
	size_t len;
	struct tree *tree;     /* owned: the session, journal applied; or NULL */
	int warned;	       /* warning holds a message (a torn journal line) */
	struct errbuf warning; /* "FILE.journal:LINE: ignored a torn last line" */
};

/*
 * Reads path (at most max bytes) into *f, which it initialises.  Returns 0,
 * or -1 with err set (unreadable, too large, a .json session that does not
 * load, a damaged journal); f then holds nothing.  Release with
 * inputfile_release either way.
 */
int inputfile_read(struct inputfile *f, const char *path, size_t max, unsigned flags,
		   struct errbuf *err);

/* Detaches the session (the caller frees it with tree_free). */
struct tree *inputfile_take_tree(struct inputfile *f);

/* Detaches the data (the caller frees it); *len gets its length. */
char *inputfile_take_data(struct inputfile *f, size_t *len);

void inputfile_release(struct inputfile *f);

#endif

#ifndef WEFT_SESSION_H
#define WEFT_SESSION_H
/*
 * Session files: Bonsai's JSON tree, extended under "weft" keys (see
 * docs/formats.md).  Loading checks the whole file before returning a tree;
 * saving is atomic.  Unknown keys, in nodes, under "weft" and at the top,
 * are kept and written back.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

/* Largest session file read, in bytes. */
#define SESSION_MAX_BYTES ((size_t)4 << 30)

/*
 * Reads and validates the session at path.  On success returns 0 and a new
 * tree in *out (caller frees with tree_free).  On failure returns -1, sets
 * *out to NULL and err to one line naming the file, the node id (or line and
 * column for JSON syntax) and what is wrong; nothing is half-loaded.
 */
int session_load(const char *path, struct tree **out, struct errbuf *err);

/* The same for a file already in memory; name is used in messages. */
int session_load_buffer(const char *name, const char *data, size_t len, struct tree **out,
			struct errbuf *err);

/* Appends the session as JSON to out (visible nodes only; pruned subtrees
 * are left out). */
void session_write(const struct tree *t, struct strbuf *out);

/*
 * Writes the session to path atomically: a temporary file in the same
 * folder, flushed and fsynced, then renamed over path.  On failure (disk
 * full, read-only folder) the old file is left intact, returns -1 with err
 * set.  A writer that may replace a session someone has open holds its
 * lock (sessionlock.h) around the call.
 *
 * session_save writes a tree that did not come from path with path's
 * journal (an export, a copy, a new session): it never removes a journal,
 * and refuses (-1, err saying what to do) while path.journal exists, since
 * the next opening would replay those changes onto what it wrote.
 *
 * session_save_replayed is for the one process that loaded path, replayed
 * its journal into t and holds its lock: it saves, and only once the file
 * is durable removes the journal, whose changes are now in the file.
 */
int session_save(const struct tree *t, const char *path, struct errbuf *err);
int session_save_replayed(const struct tree *t, const char *path, struct errbuf *err);

/* Appends one node as session JSON (the same object session_write puts in
 * "nodes", with its "weft" keys). */
void session_write_node(const struct tree *t, uint32_t i, struct strbuf *out);

/*
 * Upserts one node given as session JSON (for journals).  A node whose id
 * is new is added as the last child of its parentIds[0] (which must exist;
 * with no parent it becomes the root of an empty tree); a known id gets
 * the given text and metadata (its links and pruning stay).  The step's
 * candidates and picks must be children of the node.  Returns 0, or -1
 * with err set (name is used in messages) and t unchanged.
 */
int session_apply_node(struct tree *t, const char *name, const char *json, size_t len,
		       struct errbuf *err);

#endif

#ifndef WEFT_JOURNAL_H
#define WEFT_JOURNAL_H
/*
 * The journal beside a session: FILE.journal, append-only JSON lines, one
 * per change, each flushed to disk (fdatasync) before the call returns, so
 * a killed process loses nothing it had shown as done.  Opening a session
 * replays its journal; a clean session_save removes it.
 *
 *   {"op":"node","node":{...}}        upsert, the node as in the session file
 *   {"op":"prune","id":"..."}
 *   {"op":"unprune","id":"..."}
 *   {"op":"path","pathNodes":[...],"focusedId":"..."}
 *
 * Each append opens, writes, syncs and closes the file, so a journal
 * removed by a save is simply started again by the next append.
 */
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

/* Sets out to session_path + ".journal". */
void journal_path(const char *session_path, struct strbuf *out);

/* Each appends one line for the change just made to t; 0, or -1 with err. */
int journal_append_node(const char *session_path, const struct tree *t, uint32_t i,
			struct errbuf *err);
int journal_append_prune(const char *session_path, const struct tree *t, uint32_t i, int prune,
			 struct errbuf *err);
int journal_append_path(const char *session_path, const struct tree *t, struct errbuf *err);

/*
 * Applies the journal of session_path (if any) to t, in order.  Returns 0
 * when there was none or it applied cleanly; 1 when it applied but a torn
 * last line (a crash mid-write) was ignored, with err holding the warning;
 * -1 on an error (err: "FILE.journal:LINE: ..."), t then holding the
 * lines before it.
 */
int journal_replay(const char *session_path, struct tree *t, struct errbuf *err);

/* Removes the journal; 0 when it is gone (or was never there). */
int journal_remove(const char *session_path, struct errbuf *err);

#endif

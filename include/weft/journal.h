#ifndef WEFT_JOURNAL_H
#define WEFT_JOURNAL_H
/*
 * The journal beside a session: FILE.journal, append-only JSON lines, one
 * per change, each flushed to disk (fdatasync) before the call returns, so
 * a killed process loses nothing it had shown as done.  Opening a session
 * replays its journal; session_save_replayed, by the process that
 * replayed it, removes it (session.h).
 *
 *   {"op":"node","node":{...}}        upsert, the node as in the session file
 *   {"op":"prune","id":"..."}
 *   {"op":"unprune","id":"..."}
 *   {"op":"path","pathNodes":[...],"focusedId":"..."}
 *   {"op":"pair","id":"...","question":"...","decision":"rejected",
 *    "label":"...","by":"person","at":"..."}   a pair decision (pairstore.h);
 *                                     "kept" removes it
 *   {"op":"verdict","id":"...","question":"...","answer":"...","label":"...",
 *    "verifier":"...","p":0.8,"source":"logprobs","at":"..."}   a verdict
 *   {"op":"batch","ops":[OP, ...]}    several changes as one line: a
 *                                     crash keeps all of them or none
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
/* The decision on pair (i, question) as t holds it now (pairstore_get), or
 * "kept" when it has none. */
int journal_append_decision(const char *session_path, const struct tree *t, uint32_t i,
			    const char *question, struct errbuf *err);
/* The verdict on (i, question, answer) by verifier as t holds it now
 * (pairstore_find_verdict); -1 with err when t has none. */
int journal_append_verdict(const char *session_path, const struct tree *t, uint32_t i,
			   const char *question, const char *answer, const char *verifier,
			   struct errbuf *err);

/*
 * A batch: several changes written as one line, so that a step (its
 * candidates, the decision record and the new path) is recorded whole or
 * not at all.  init, add changes, then commit (which appends the line,
 * syncs, and releases the batch; an empty batch writes nothing).  Add a
 * node after its parent and before the node whose step record names it.
 */
struct journal_batch {
	struct strbuf line;
	size_t count;
};
void journal_batch_init(struct journal_batch *b);
void journal_batch_node(struct journal_batch *b, const struct tree *t, uint32_t i);
void journal_batch_prune(struct journal_batch *b, const struct tree *t, uint32_t i, int prune);
void journal_batch_path(struct journal_batch *b, const struct tree *t);
/* As journal_append_decision / _verdict (a verdict t lacks adds nothing). */
void journal_batch_decision(struct journal_batch *b, const struct tree *t, uint32_t i,
			    const char *question);
void journal_batch_verdict(struct journal_batch *b, const struct tree *t, uint32_t i,
			   const char *question, const char *answer, const char *verifier);
int journal_batch_commit(const char *session_path, struct journal_batch *b, struct errbuf *err);
/* Drops a batch without writing it. */
void journal_batch_release(struct journal_batch *b);

/* Longest journal line read (a node with a long text). */
#define JOURNAL_MAX_LINE ((size_t)64 << 20)

/*
 * Reads a journal one line at a time, holding one line at most (never
 * much more than its cap in memory, however long the line in the file).
 * journal_replay reads through it.
 */
struct journal_reader {
	int fd;		    /* borrowed */
	struct strbuf line; /* owned: the line just read, without its '\n' */
	size_t pos, len;    /* the unread bytes of buf */
	char buf[65536];
};

/* Reads fd from where it is, with lines capped at max_line bytes. */
void journal_reader_init(struct journal_reader *r, int fd, size_t max_line);
/*
 * Reads the next line into r->line.  Returns 1 for a line ended by '\n', 2
 * for a last line without one, 0 at the end of the file, -1 on a read error
 * (errno set), -2 for a line longer than the cap: reading stops as soon as
 * it passes the cap, the rest of the line unread.
 */
int journal_reader_next(struct journal_reader *r);
void journal_reader_release(struct journal_reader *r);

/*
 * Applies the journal of session_path (if any) to t, in order.  Returns 0
 * when there was none or it applied cleanly; 1 when it applied but a torn
 * last line (a crash mid-write) was ignored, with err holding the warning;
 * -1 on an error (err: "FILE.journal:LINE: ..."), t then holding the
 * lines before it.
 */
int journal_replay(const char *session_path, struct tree *t, struct errbuf *err);

/*
 * Whether a change could be journalled now: 0 when the journal exists and
 * can be opened for writing, or can be created beside the session (it is
 * then removed again); -1 with err ("FILE.journal: cannot be written: ...")
 * when not, e.g. in a read-only folder.  A caller checks before spending
 * requests or applying a change it would have to journal.
 */
int journal_check_writable(const char *session_path, struct errbuf *err);

/* Removes the journal; 0 when it is gone (or was never there). */
int journal_remove(const char *session_path, struct errbuf *err);

#endif

#ifndef WEFT_PAIRSTORE_H
#define WEFT_PAIRSTORE_H
/*
 * Decisions about pairs and verifiers' verdicts, stored in the session
 * (src/io/pairstore.c).  A pair is named by its answer's node and its
 * question text: an edited pair is a new node, so a new pair.  Both live
 * under the answer node's "weft" object (docs/formats.md, "Pair decisions
 * and verdicts"):
 *
 *   "weft": {"pairs": [{"question": "...", "decision": "rejected",
 *                       "by": "person", "at": "2026-11-29T18:00:00Z"},
 *                      {"question": "...", "decision": "relabelled",
 *                       "label": "No", "by": "verifier", "at": "..."}],
 *            "verdicts": [{"question": "...", "answer": "...", "label": "Yes",
 *                          "verifier": "MODEL", "p": 0.83,
 *                          "source": "logprobs", "at": "..."}]}
 *
 * A pair with no entry is kept: setting the decision "kept" removes the
 * entry.  The text is kept in the node's unknown "weft" keys
 * (tree_node.weft_extra_json), so it survives save, reload, --format bonsai
 * and other looms as every weft key does; the session loader checks it
 * (pairstore_check_json).  Strings are UTF-8 and capped as below.
 *
 * Undo: pass a history (history.h) and the change is one undoable entry
 * whose observer is told the node changed (the loom journals the node);
 * pass NULL (commands, journal replay) and the change is made directly.
 * The set functions also hand back what was there before.
 * Journal lines for commands: journal_append_decision, journal_append_verdict.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/history.h"
#include "weft/tree.h"

#define PAIRSTORE_MAX_TEXT    ((size_t)1 << 20) /* a question or an answer, bytes */
#define PAIRSTORE_MAX_NAME    1024		/* a label, a verifier, a time */
#define PAIRSTORE_MAX_ENTRIES 65536		/* decisions or verdicts per node */
#define PAIRSTORE_TIME_SIZE   21		/* "2026-11-29T18:00:00Z" and NUL */

enum pairstore_decision {
	PAIRSTORE_KEPT = 0, /* the default: no entry */
	PAIRSTORE_REJECTED,
	PAIRSTORE_RELABELLED,
};

/* Who decided. */
enum pairstore_by {
	PAIRSTORE_BY_PERSON = 0,
	PAIRSTORE_BY_VERIFIER,
};

/* Where a verdict's p came from: the Yes/No tokens' logprobs, or the
 * verifier's answer alone (p is then 1 or 0). */
enum pairstore_source {
	PAIRSTORE_SOURCE_LOGPROBS = 0,
	PAIRSTORE_SOURCE_ANSWER,
};

/* One decision.  Strings owned (pairstore_decision_release); label is the
 * new label when relabelled, else NULL; at may be NULL (then "now"). */
struct pairstore_mark {
	char *question;
	enum pairstore_decision decision;
	char *label;
	enum pairstore_by by;
	char *at;
};

/* One verifier's verdict on a pair as it read then.  Strings owned
 * (pairstore_verdict_release); label: the label the verifier was asked
 * about; p in [0, 1]: the probability that the pair is valid. */
struct pairstore_verdict {
	char *question;
	char *answer;
	char *label;
	char *verifier;
	double p;
	enum pairstore_source source;
	char *at;
};

void pairstore_mark_release(struct pairstore_mark *m);
void pairstore_verdict_release(struct pairstore_verdict *v);

/* Names as stored: "kept"/"rejected"/"relabelled", "person"/"verifier",
 * "logprobs"/"answer"; the parsers return 0, or -1 for another name. */
const char *pairstore_decision_name(enum pairstore_decision d);
const char *pairstore_by_name(enum pairstore_by b);
const char *pairstore_source_name(enum pairstore_source s);
int pairstore_decision_parse(const char *s, enum pairstore_decision *out);
int pairstore_by_parse(const char *s, enum pairstore_by *out);
int pairstore_source_parse(const char *s, enum pairstore_source *out);

/* The current time as stored: UTC, "YYYY-MM-DDTHH:MM:SSZ". */
void pairstore_now(char out[PAIRSTORE_TIME_SIZE]);

/*
 * The decision on the pair (node, question).  Fills *out (zeroed first; the
 * caller releases it) and returns 1 when one is stored (a person's "kept"
 * over an earlier decision included), 0 when none (out then says kept, by
 * person, with no time).
 */
int pairstore_get(const struct tree *t, uint32_t node, const char *question,
		  struct pairstore_mark *out);

/*
 * Records m for the pair (node, m->question): rejected or relabelled
 * replaces any earlier decision; kept removes it, except that a person
 * keeping a pair that was rejected or relabelled is recorded as "kept" by
 * the person (so a filter run again, `weft verify --reject-below`, leaves
 * the pair alone).  at NULL: now.  prev (may
 * be NULL) receives the decision before, as pairstore_get gives it, so a
 * caller can put it back.  h: see above.  Returns 0, or -1 with err set
 * (not UTF-8, too long, relabelled without a label, too many entries).
 */
int pairstore_set(struct tree *t, struct history *h, uint32_t node, const struct pairstore_mark *m,
		  struct pairstore_mark *prev, struct errbuf *err);
/* Removes any decision on the pair: kept, by nobody in particular. */
int pairstore_clear(struct tree *t, struct history *h, uint32_t node, const char *question,
		    struct pairstore_mark *prev, struct errbuf *err);
/* Puts back a decision as pairstore_get gave it (a journal line): with a
 * time, stored as it is, "kept" included; without one, cleared. */
int pairstore_restore(struct tree *t, uint32_t node, const struct pairstore_mark *m,
		      struct errbuf *err);

/*
 * Records v on node, replacing a verdict with the same question, answer
 * and verifier (a rerun).  at NULL: now.  Returns 0, or -1 with err set.
 */
int pairstore_add_verdict(struct tree *t, struct history *h, uint32_t node,
			  const struct pairstore_verdict *v, struct errbuf *err);
/*
 * The latest verdict (the last stored) on the pair (node, question,
 * answer) by verifier (NULL: any verifier).  Fills *out (the caller
 * releases it) and returns 1, or 0 when there is none.
 */
int pairstore_find_verdict(const struct tree *t, uint32_t node, const char *question,
			   const char *answer, const char *verifier, struct pairstore_verdict *out);

/* Every decision and verdict stored on one node, in stored order. */
struct pairstore_node {
	struct pairstore_mark *marks;
	size_t nmarks;
	struct pairstore_verdict *verdicts;
	size_t nverdicts;
};
/* Fills *out (zeroed first) from node; 0, or -1 when the stored text is
 * malformed (the loader refuses such a session, so only after a bad
 * tree_set_extra).  Release with pairstore_node_release. */
int pairstore_list(const struct tree *t, uint32_t node, struct pairstore_node *out);
void pairstore_node_release(struct pairstore_node *n);

/*
 * Checks the "pairs" and "verdicts" members of a node's unknown "weft" keys
 * ("\"k\":v,..." as tree_node.weft_extra_json holds them; NULL is fine):
 * their shape, names, UTF-8 and caps.  Returns 0, or -1 with err saying
 * what ("weft.pairs[2]: \"decision\" is not ...").
 */
int pairstore_check_json(const char *weft_extra_json, struct errbuf *err);

#endif

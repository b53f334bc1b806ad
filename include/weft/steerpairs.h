#ifndef WEFT_STEERPAIRS_H
#define WEFT_STEERPAIRS_H
/*
 * The pairs a steering step sees (src/steer/steerpairs.c): the pairs of the
 * path the step grows from (root to its node), as weft extract finds them
 * (the task's pattern, preamble and labels; the session's decisions
 * applied, curate.h), and the pairs each candidate would add to them.
 *
 * From the path's pairs come the judge prompt's {balance} (the label
 * counts) and {recent} (the last questions); from a candidate's pairs its
 * duplicate flag: the first pair it would add whose question repeats one
 * already there, exactly, after normalising (pairs_normalise_question), or
 * nearly (similar.h, the task's near_duplicate threshold).  The steering
 * step puts the flags in the judge's listing of the candidates; the loom's
 * candidates and weft replay show them.  The flags are worked out again
 * whenever they are shown, never stored in the session: they follow from
 * the tree and the task, and a stored copy would go stale when a pair is
 * edited, rejected or relabelled.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"
#include "weft/task.h"
#include "weft/tree.h"

/*
 * {recent} lists the last STEER_RECENT questions of the path.  The judge
 * already sees the end of the document ({document}); the list is the same
 * questions put plainly, one per line, so a judge can check a candidate
 * against them.  Ten covers the repeats a generator makes from what it
 * has just read; repeats of anything older are caught by the duplicate
 * flag, which looks at the whole path.
 */
#define STEER_RECENT 10
/* A question quoted to the judge ({recent}, a flag's note) is cut to at
 * most this many bytes (at a character), with "..." after the cut. */
#define STEER_QUESTION_MAX 300

enum steer_dup_kind {
	STEER_DUP_NONE = 0,
	STEER_DUP_EXACT,      /* the same question */
	STEER_DUP_NORMALISED, /* the same after case, space and punctuation folding */
	STEER_DUP_NEAR,	      /* similar at or above the task's threshold */
};

/* of when the repeated pair has no number: extraction drops the new pair
 * as a duplicate of a pair that was rejected (not among the path's). */
#define STEER_DUP_UNNAMED SIZE_MAX

struct steer_dup {
	enum steer_dup_kind kind;
	/* the repeated pair: 0-based among the path's pairs (weft extract's
	 * numbering, minus one), or past them for an earlier pair of the same
	 * candidate; STEER_DUP_UNNAMED when it has none */
	size_t of;
	double score;	    /* STEER_DUP_NEAR: the similarity; else 1 */
	const char *source; /* STEER_DUP_NEAR: SIMILAR_SOURCE_*; else NULL; static */
};

struct steer_pairs {
	struct pairs_options options; /* the task's; strings borrowed from it */
	struct strbuf document;	      /* root .. node */
	/* where a candidate's pairs are looked for: the start of the
	 * document's last line that is not blank (pairs_extract's rule for
	 * pairs that begin in a prompt and end after it) */
	size_t tail;
	struct pairs_result path; /* the path's pairs, curated */
	const char **questions;	  /* path.count, borrowed from path */
	char **keys;		  /* owned; path.count normalised questions */
	/* the rejected pairs' questions and nodes' ids (borrowed from
	 * path.dropped) and normalised questions (owned): extraction still
	 * drops a repeat of one */
	const char **rejected;
	const char **rejected_nodes;
	char **rejected_keys;
	size_t nrejected;
	uint32_t *nodes; /* owned; the path, root first */
	size_t *ends;	 /* owned; where each node's text ends in document */
	size_t nnodes;
	int ok; /* 0: extraction failed (err); nothing is flagged */
	struct errbuf err;
};

/*
 * Reads the pairs of the path from t's root to node at, with task's
 * options (task may be NULL: the seed's defaults).  t and task are
 * borrowed until steer_pairs_release.  Returns 0, or -1 with sp->err
 * (sp->ok 0) when the task's pattern fails; release sp either way.
 */
int steer_pairs_init(struct steer_pairs *sp, const struct tree *t, uint32_t at,
		     const struct task *task);
void steer_pairs_release(struct steer_pairs *sp);

/* {balance}: "Yes: 7, No: 3" (the task's labels in order), or "unknown"
 * when extraction failed.  Appends to out. */
void steer_pairs_balance(const struct steer_pairs *sp, struct strbuf *out);

/* {recent}: the last STEER_RECENT questions of the path, oldest first,
 * one a line (line breaks inside a question become spaces, each cut at
 * STEER_QUESTION_MAX), or "(none yet)".  Appends to out. */
void steer_pairs_recent(const struct steer_pairs *sp, struct strbuf *out);

/*
 * The duplicate flag of a candidate whose text (appended to the path's
 * document as it stands) would extend the path: fills *d with the first
 * pair it would add that repeats one before it (STEER_DUP_NONE when none).
 * The pairs it would add are those pairs_extract finds from the
 * document's last line that is not blank (sp->tail) with the text after
 * it, whose answer ends in the text; one whose answer names no label, or
 * several, adds nothing.  Each is compared with the path's pairs, the
 * rejected ones (STEER_DUP_UNNAMED) and the text's earlier pairs, exactly
 * and normalised; then with the path's pairs for near-duplicates.
 * Returns 1 when flagged, 0 when not, -1 when extraction failed (sp not
 * ok, or a costly pattern: nothing flagged).
 */
int steer_pairs_flag(const struct steer_pairs *sp, const char *text, struct steer_dup *d);

/* steer_pairs_flag for count texts at once, into d[0..count): one
 * near-duplicate search for them all.  Returns how many are flagged, or -1
 * when sp is not ok (d all STEER_DUP_NONE). */
int steer_pairs_flag_all(const struct steer_pairs *sp, const char *const *texts, size_t count,
			 struct steer_dup *d);

/*
 * The flags of the candidates of several steps along the path sp was read
 * for (weft replay: sp read at the tip of the chosen path), as if sp had
 * been read at each step's node, with one near-duplicate search for all:
 * steps[k].node is on the path, in path order; steps[k].flags (count
 * entries) are filled.  t is the tree sp was read from.  A step's path
 * pairs are those whose answer is in a node up to its own.  Returns how
 * many are flagged, or -1 (nothing flagged) when sp is not ok or a step's
 * node is not on the path in order.
 */
struct steer_pairs_step {
	uint32_t node;
	const char *const *texts; /* its candidates */
	size_t count;
	struct steer_dup *flags;
};
int steer_pairs_flag_steps(const struct steer_pairs *sp, const struct tree *t,
			   struct steer_pairs_step *steps, size_t nsteps);

/* The repeated pair's question, or NULL when d names no pair of the path
 * (none, a rejected pair, or an earlier pair of the candidate itself). */
const char *steer_pairs_question(const struct steer_pairs *sp, const struct steer_dup *d);

/* The loom's and replay's short mark: "dup #3", "near-dup #3" ("dup" when
 * the pair has no number; nothing for STEER_DUP_NONE).  Appends to out. */
void steer_dup_mark(const struct steer_dup *d, struct strbuf *out);

/*
 * The line the judge reads under a flagged candidate: "(repeats question
 * 3: QUESTION)" or "(nearly repeats question 3, similarity 0.85:
 * QUESTION)", the question cut at STEER_QUESTION_MAX.  Appends to out
 * (nothing for STEER_DUP_NONE).
 */
void steer_pairs_note(const struct steer_pairs *sp, const struct steer_dup *d, struct strbuf *out);

/* The notes of count candidate texts (steer_pairs_flag, then
 * steer_pairs_note): an owned array of count owned strings, NULL where a
 * text is not flagged.  Free with steer_pairs_notes_free. */
char **steer_pairs_notes(const struct steer_pairs *sp, const char *const *texts, size_t count);
void steer_pairs_notes_free(char **notes, size_t count);

#endif

#ifndef WEFT_PAIRS_H
#define WEFT_PAIRS_H
/*
 * Question/answer pair extraction (src/data/pairs.c, PCRE2).
 *
 * A document (bytes, optionally with the spans of the nodes it was built
 * from) is searched with a pattern whose group 1 is the question and group 2
 * the answer.  Each answer is mapped to one of the task's class labels,
 * duplicate questions are dropped, and everything left out is kept in a
 * second list with the reason, so callers can report it.
 *
 * Two modes (docs/formats.md, "Datasets"):
 * - default: CR LF and lone CR become LF; extraction starts after the last
 *   occurrence of the preamble, or when it is absent, at start, where a
 *   pair counts when its answer ends after start (its question marker may
 *   end the text before start: a session's root ending in "Question:");
 *   whitespace after the question marker, a line break included, reads as
 *   the marker's space (the literal space before group 1 matches \s+); a
 *   final answer line without its newline is
 *   still read; question and answer are trimmed; an answer matches a class
 *   when it contains the label as a word, ignoring ASCII case; exactly one
 *   class -> that class, several -> ambiguous, none -> unmatched (both
 *   excluded); duplicates are dropped exactly and after normalising case,
 *   whitespace and trailing punctuation (first kept).
 * - compat seed (EVAL_RULES 2.4): the seed cleaner's behaviour, bugs
 *   included: the pattern as written, from start (or the preamble); the
 *   text after the preamble is trimmed, so a final pair that
 *   ends the text is lost; question and answer are kept as matched; class 0
 *   iff the answer contains labels[0] case-sensitively, else the last class;
 *   only exact duplicates are dropped.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/pairstore.h"
#include "weft/strbuf.h"

/* The seed's pattern and generation-prompt sentence. */
#define PAIRS_DEFAULT_PATTERN "Question: (.*?)\\nAnswer: (.*?)\\n"
#define PAIRS_DEFAULT_PREAMBLE                                                                     \
	"The possible class labels for these question-answer pairs are: ['Yes', 'No']. Make "      \
	"sure that the generated pairs are class balanced, and maintain diversity in the dataset."

#define PAIRS_MAX_LABELS 16

/*
 * What one extraction may cost (pairs.c explains how it is counted): the
 * matcher's steps over all start positions, PAIRS_WORK_BASE plus
 * PAIRS_WORK_PER_BYTE for each byte searched.  The seed's pattern takes
 * about 2 steps a byte; (?:a|aa)*(c) over 400 lines of 30 a's takes
 * billions and is stopped in a fraction of a second.  Within one start
 * position PCRE2's own limits apply too: its match limit, set to the same
 * budget (a legitimate lazy .*? over a 10 MB line takes a step a byte), and
 * PAIRS_DEPTH_LIMIT nested backtracking points (PCRE2's default).
 */
#define PAIRS_WORK_BASE	    2000000u
#define PAIRS_WORK_PER_BYTE 200u
#define PAIRS_DEPTH_LIMIT   10000000u

/* Where a node's text starts in the document, and that node's id. */
struct pairs_span {
	size_t offset;
	const char *node_id; /* borrowed */
};

struct pairs_options {
	const char *pattern; /* PCRE2, dot-all; group 1 question, 2 answer */
	/* extract after its last occurrence in the whole document; "" or NULL:
	 * none */
	const char *preamble;
	const char *labels[PAIRS_MAX_LABELS]; /* borrowed */
	size_t nlabels;			      /* >= 2 */
	/* byte offset in the input document where extraction starts when the
	 * preamble is unset or absent (for a session: after the root, the
	 * task's prompt); default mode reads a pair whose answer ends after it */
	size_t start;
	int compat_seed;
	const char *task; /* borrowed; the task the pattern is from, named in
			     errors, or NULL */
	/* questions at least this similar to an earlier kept one are flagged
	 * near-duplicates by curate_pairs (similar.h; default
	 * SIMILAR_DEFAULT_THRESHOLD, 0: none); pairs_extract ignores it */
	double near_threshold;
};

enum pair_status {
	PAIR_KEPT,
	PAIR_AMBIGUOUS,	     /* the answer names several classes */
	PAIR_UNMATCHED,	     /* the answer names no class */
	PAIR_DUP_EXACT,	     /* the same question was kept before */
	PAIR_DUP_NORMALISED, /* the same after case/space/punctuation folding */
	PAIR_REJECTED,	     /* a decision in the session rejected it (curate.h) */
	PAIR_BELOW_VERIFY,   /* its verifier's p is below --min-verify (curate.h) */
};

struct pair {
	char *question;	    /* owned, NUL-terminated (may contain any bytes) */
	char *answer;	    /* owned */
	size_t class_index; /* into pairs_result.labels; valid when KEPT or DUP_* */
	char *node_id;	    /* owned; the node the answer came from, or NULL */
	size_t line;	    /* 1-based line of the question in the normalised text */
	enum pair_status status;
	/* Curation (curate.h; all zero straight from pairs_extract): */
	enum pairstore_decision decision; /* as stored in the session */
	enum pairstore_by decided_by;	  /* when decision is not KEPT */
	int relabelled;			  /* class_index is the new label ... */
	size_t original_class;		  /* ... and this the one the answer named */
	int has_verdict;		  /* verify_p holds the latest verdict's p */
	double verify_p;
	/* A near-duplicate of the kept pair pairs[near_of] (earlier), with its
	 * similarity and where that came from (SIMILAR_SOURCE_*, similar.h). */
	int near_dup;
	size_t near_of;
	double near_score;
	const char *near_source; /* static string */
};

struct pairs_result {
	struct pair *pairs; /* kept, in document order */
	size_t count, cap;
	struct pair *dropped; /* everything else, in document order */
	size_t ndropped, dropped_cap;
	char *labels[PAIRS_MAX_LABELS]; /* owned copies */
	size_t nlabels;
	size_t per_class[PAIRS_MAX_LABELS];
	size_t matches; /* pattern matches after the preamble */
	size_t dupes_exact, dupes_normalised, ambiguous, unmatched;
	int compat_seed;
	/* curate.h: whether the session's decisions were applied, and counts */
	int curated;
	size_t rejected, relabelled, below_verify, near_dups;
	int near_stopped; /* the near-duplicate search passed its budget */
};

/* Defaults: the seed's pattern and preamble, labels Yes, No, default mode. */
void pairs_options_init(struct pairs_options *o);

/*
 * Parses "Yes,No" (comma-separated, each trimmed, non-empty, at most
 * PAIRS_MAX_LABELS, at least 2) into o->labels; the pointers point into
 * *storage, which the caller frees.  Returns 0, or -1 with err set.
 */
int pairs_options_set_labels(struct pairs_options *o, const char *list, char **storage,
			     struct errbuf *err);

/*
 * Extracts the pairs of doc (len bytes, any bytes).  spans (nspans, sorted
 * by offset, may be NULL) give the node each byte belongs to.  Fills *r
 * (which the caller releases with pairs_result_release, also on failure).
 * Returns 0, or -1 with err set (bad pattern, fewer than two groups, bad
 * labels, matching failure, or a pattern that costs more than the budget
 * above: "pattern too costly: task 'T': 'P' gave up at line N (...);
 * simplify it").
 */
int pairs_extract(const char *doc, size_t len, const struct pairs_span *spans, size_t nspans,
		  const struct pairs_options *o, struct pairs_result *r, struct errbuf *err);

void pairs_result_release(struct pairs_result *r);

/* Appends the multi-line summary: count, per class with balance, duplicates
 * exact/normalised, ambiguous, unmatched.  Ends in a newline. */
void pairs_summary(const struct pairs_result *r, struct strbuf *out);

/* The key used for normalised duplicates (exposed for tests): ASCII lower
 * case, whitespace runs folded to one space, trimmed, trailing punctuation
 * and space removed. */
void pairs_normalise_question(const char *q, struct strbuf *out);

#endif

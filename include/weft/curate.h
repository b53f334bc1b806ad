#ifndef WEFT_CURATE_H
#define WEFT_CURATE_H
/*
 * The curated dataset (src/data/curate.c): the pairs extracted from a
 * session's chosen path with the session's decisions and verdicts applied
 * (pairstore.h), and near-duplicates flagged (similar.h).  Every use of a
 * session's pairs goes through here: dataset_tree_pairs and dataset_extract
 * call it, so extract, export, eval, the loom's preview and its balance
 * all see the same pairs.
 */
#include "weft/pairs.h"
#include "weft/tree.h"

struct curate_options {
	/* flag near-duplicates at or above this similarity (0: none) */
	double near_threshold;
	/* leave out pairs whose latest verdict's p is below it; < 0: off
	 * (pairs without a verdict are always kept) */
	double min_verify;
	/* audits: rejected pairs stay in pairs (decision REJECTED, not counted
	 * in per_class) instead of moving to dropped */
	int include_rejected;
};

/* near_threshold SIMILAR_DEFAULT_THRESHOLD, min_verify off, rejected left out. */
void curate_options_init(struct curate_options *o);

/*
 * Curates r in place (r straight from pairs_extract; t the session its
 * pairs came from, each pair's node_id naming the answer's node, or NULL
 * for a text file: then only near-duplicates are flagged):
 * - a pair the session rejected moves to r->dropped with PAIR_REJECTED (in
 *   line order), unless o->include_rejected;
 * - a relabelled pair takes its new label (class_index; relabelled set,
 *   original_class the old one); a new label that is not one of r's labels
 *   is ignored;
 * - each pair gets the latest verdict's p on its question and answer
 *   (has_verdict, verify_p); below o->min_verify it moves to r->dropped
 *   with PAIR_BELOW_VERIFY;
 * - per_class is counted again; rejected, relabelled, below_verify count
 *   what happened; curated is set when t is given;
 * - among the pairs left (not rejected), one whose question is near an
 *   earlier one's is flagged (near_dup, near_of, near_score, near_source)
 *   and kept; near_dups counts them (near_stopped: the search passed its
 *   budget, similar.h, and flagged only the pairs before where it stopped).
 */
void curate_pairs(struct pairs_result *r, const struct tree *t, const struct curate_options *o);

#endif

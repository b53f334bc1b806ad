#ifndef WEFT_HISTORY_H
#define WEFT_HISTORY_H
/*
 * Undo and redo of tree changes.  Every change the screen makes to a tree
 * goes through here: the history applies it and records how to revert it.
 * Changes are grouped into actions (history_begin .. history_end): one undo
 * reverts one whole action, and restores the focus and chosen path as they
 * were when it began; one redo replays it and restores them as they were when
 * it ended.  A new action after undos drops the redo list.
 *
 * Nodes are never removed from a tree, so undoing an added node prunes it
 * (and redoing unprunes it).
 *
 * Ownership: struct history owns its entries; it borrows the tree passed to
 * each call, which must be the same tree for the life of the history.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/tree.h"

struct history_entry;

/* What an observer is told: node i changed (flags, step record, or it was
 * added), or its subtree was pruned / unpruned. */
enum history_change {
	HISTORY_CHANGED_NODE,
	HISTORY_CHANGED_PRUNE,
	HISTORY_CHANGED_UNPRUNE,
};

struct history {
	/* Called after every change made, undone or redone (for the journal);
	 * may be NULL. */
	void (*observer)(void *ctx, uint32_t i, enum history_change what);
	void *observer_ctx;
	struct history_entry *entries; /* owned */
	size_t len, cap;
	size_t top;	  /* entries[0..top) can be undone, [top..len) redone */
	unsigned group;	  /* id of the action being recorded */
	int open;	  /* inside history_begin .. history_end */
	size_t begin_len; /* len at history_begin */
};

void history_init(struct history *h);
void history_release(struct history *h);

/* Starts an action (records focus and path).  Actions do not nest. */
void history_begin(struct history *h, const struct tree *t);
/* Ends it.  An action that changed nothing, not even the chosen path,
 * leaves no entry; one that changed only the path (choosing a branch) is
 * undone like any other. */
void history_end(struct history *h, const struct tree *t);

/* Sets or clears flag on node i. */
void history_set_flag(struct history *h, struct tree *t, uint32_t i, uint32_t flag, int on);
/* Sets the final pick and picker of the step recorded on node owner (made
 * when missing). */
void history_set_pick(struct history *h, struct tree *t, uint32_t owner, uint32_t final_pick,
		      enum tree_picker picker);
/* Prunes the subtree at i; returns tree_prune's result (-1: the root). */
int history_prune(struct history *h, struct tree *t, uint32_t i);
/* Replaces node i's unknown "weft" keys (tree_node.weft_extra_json, copied;
 * NULL clears), where pair decisions and verdicts live (pairstore.h). */
void history_set_weft_extra(struct history *h, struct tree *t, uint32_t i, const char *weft_extra);
/* Records that node i was just added (by tree_add). */
void history_added(struct history *h, struct tree *t, uint32_t i);

/* Reverts the last action / replays the last reverted one.  Return 0, or -1
 * when there is nothing to undo / redo. */
int history_undo(struct history *h, struct tree *t);
int history_redo(struct history *h, struct tree *t);

/* Number of actions that can be undone (for tests and the status line). */
size_t history_undo_count(const struct history *h);

#endif

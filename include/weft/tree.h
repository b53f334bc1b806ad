#ifndef WEFT_TREE_H
#define WEFT_TREE_H
/*
 * The tree of a session: nodes with string ids, each holding the text it
 * appends to its parent's text, weft's metadata, and (on the node a step
 * grew from) the step's decision record.  No I/O here.
 *
 * Layout: nodes live in one array and refer to each other by index
 * (uint32_t, TREE_NONE for none), so a 1,000,000-node tree is a handful of
 * large allocations; strings live in the tree's arena; ids are found through
 * an open-addressing hash table in O(1).  Indices are stable for the life of
 * the tree: nothing is ever removed from the array.  Pruning marks a subtree
 * TREE_PRUNED (undoable); pruned nodes are skipped by the walkers below and
 * not saved.
 *
 * Ownership: struct tree owns every string and record reachable from it.
 * Callers read struct tree and struct tree_node fields directly but change
 * them only through the functions here (metadata setters copy their input).
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/strbuf.h"

#define TREE_NONE UINT32_MAX

enum tree_flag {
	TREE_JUDGE_PICK = 1u << 0, /* the judge ranked it first in its step */
	TREE_HUMAN_PICK = 1u << 1, /* a person chose it */
	TREE_BOOKMARK = 1u << 2,
	TREE_HAS_SCORE = 1u << 3, /* score and rank are set */
	TREE_PRUNED = 1u << 4,	  /* root of a pruned subtree */
	TREE_HAS_TEMPERATURE = 1u << 5,
	TREE_HAS_USAGE = 1u << 6,
	TREE_EDITED = 1u << 7, /* written by a person's edit */
};

/* Who made a step's final pick. */
enum tree_picker {
	TREE_PICKER_NONE = 0,
	TREE_PICKER_AI,
	TREE_PICKER_HUMAN,
};

/*
 * The decision record of one steering step, kept on the node the step grew
 * from.  candidates/scores are parallel arrays of count entries (scores may
 * be NULL when the step has none).  Strings may be NULL.  Owned by the tree.
 */
struct tree_step {
	uint32_t *candidates; /* node indices, children of the owner */
	double *scores;	      /* rank scores, normally summing to 1; or NULL */
	size_t count;
	uint32_t judge_pick; /* node index or TREE_NONE */
	uint32_t final_pick; /* node index or TREE_NONE */
	enum tree_picker picker;
	char *judge_raw;    /* the judge's raw answer */
	char *judge_prompt; /* id or name of the judge prompt used */
	char *rank_mode;    /* "logprobs", "scores", "choice" */
	char *needs_human;  /* why the judge could not pick, or NULL */
	char *extra_json;   /* unknown keys of the record, "\"k\":v,..." or NULL */
};

struct tree_node {
	const char *id;	  /* arena; unique in the tree */
	const char *text; /* arena; NUL-terminated, text_len bytes */
	size_t text_len;
	uint32_t parent; /* TREE_NONE for the root */
	uint32_t first_child, last_child, next_sibling, prev_sibling;
	uint32_t child_count; /* includes pruned children */
	uint32_t flags;	      /* enum tree_flag */
	int32_t rank;	      /* 1-based rank in its step when TREE_HAS_SCORE */
	double score;	      /* AI rank score when TREE_HAS_SCORE */
	float temperature;    /* when TREE_HAS_TEMPERATURE */
	uint32_t prompt_tokens, completion_tokens; /* when TREE_HAS_USAGE */
	uint32_t merged;			   /* identical candidates merged into this one */
	int64_t created;			   /* Unix seconds, 0 when unknown */
	/* arena; "lastVisited" as loaded, as JSON text (Bonsai's string of Unix
	 * seconds with its quotes, another loom's integer, or null), or NULL
	 * when the node had none */
	const char *last_visited;
	const char *group;	     /* arena; Bonsai group as loaded, or NULL */
	const char *model;	     /* arena or NULL */
	const char *finish_reason;   /* arena or NULL */
	const char *extra_json;	     /* arena; unknown node keys, "\"k\":v,..." or NULL */
	const char *weft_extra_json; /* arena; unknown keys under "weft", or NULL */
	struct tree_step *step;	     /* owned; decision record, or NULL */
};

struct tree_arena_block;

/* One entry of the id table: a node index (TREE_NONE: empty) and its id's
 * hash, compared before the id itself so a probe rarely reads a node. */
struct tree_slot {
	uint32_t node;
	uint32_t hash;
};

struct tree {
	struct tree_node *nodes; /* count used of cap */
	uint32_t count;
	uint32_t cap;
	uint32_t root;	/* TREE_NONE while empty */
	uint32_t focus; /* the node the cursor is on */
	uint32_t *path; /* the chosen path, root first; path_len entries */
	size_t path_len, path_cap;
	char *name;	  /* owned; session name, or NULL */
	char *weft_json;  /* owned; the top-level "weft" object as JSON text, or NULL */
	char *extra_json; /* owned; unknown top-level keys, "\"k\":v,..." or NULL */
	/* private */
	struct tree_slot *slots; /* open-addressing id table, slot_cap entries */
	size_t slot_cap;
	struct tree_arena_block *arena;
	struct tree_arena_block *id_arena; /* the nodes' ids */
	uint64_t next_id;
	uint64_t id_salt;
};

struct tree *tree_new(void);
void tree_free(struct tree *t);

/* Copies len bytes of s (plus a NUL) into the tree's arena. */
const char *tree_intern(struct tree *t, const char *s, size_t len);

/*
 * Adds a node with the given id (NULL: a fresh unique id) and text under
 * parent (TREE_NONE: the root; there may be only one, see tree_add_root
 * semantics below), as its last child.  Returns the new index, or TREE_NONE
 * when the id is already taken or a second root is asked for.
 */
uint32_t tree_add(struct tree *t, uint32_t parent, const char *id, const char *text,
		  size_t text_len);
/* Adds a node with no parent link yet (used by loaders, which link later);
 * returns TREE_NONE when the id is taken. */
uint32_t tree_add_detached(struct tree *t, const char *id, const char *text, size_t text_len);
/* Links a detached child under parent as its last child.  Returns 0, or -1
 * when child already has a parent or child == parent. */
int tree_link(struct tree *t, uint32_t parent, uint32_t child);
/* Sets the root to a node without a parent (for loaders). */
void tree_set_root(struct tree *t, uint32_t root);

/* The index of the node with this id, or TREE_NONE. */
uint32_t tree_find(const struct tree *t, const char *id);
/* The hash of an id of len bytes as the id table keeps it (ids with equal
 * hashes are told apart by their bytes). */
uint32_t tree_id_hash(const char *id, size_t len);
/* Starts reading into the cache the id table's slot for an id about to be
 * added or found (a loader calls it as soon as it knows the id, so the
 * memory access overlaps its other work).  Changes nothing. */
void tree_prefetch_id(const struct tree *t, const char *id, size_t len);
/* Makes room for nodes in all without growing again: for loaders that know
 * roughly how many nodes are coming.  Only ever grows. */
void tree_reserve(struct tree *t, uint32_t nodes);
static inline struct tree_node *tree_node(const struct tree *t, uint32_t i)
{
	return &t->nodes[i];
}

/* Metadata setters: copy strings into the arena; NULL clears. */
void tree_set_model(struct tree *t, uint32_t i, const char *model);
void tree_set_finish_reason(struct tree *t, uint32_t i, const char *reason);
void tree_set_extra(struct tree *t, uint32_t i, const char *extra_json,
		    const char *weft_extra_json);
void tree_set_score(struct tree *t, uint32_t i, double score, int32_t rank);
void tree_set_flag(struct tree *t, uint32_t i, uint32_t flag, int on);

/*
 * Decision records.  tree_step_get returns the node's record, creating an
 * empty one (count 0, picks TREE_NONE) when it has none.  Candidates are
 * appended in order; a candidate must be a child of the record's node.
 */
struct tree_step *tree_step_get(struct tree *t, uint32_t i);
void tree_step_add_candidate(struct tree_step *s, uint32_t node, double score, int has_score);
void tree_step_set_str(char **field, const char *value); /* copies; NULL clears */
void tree_step_free(struct tree_step *s);

/* Pruning: marks/unmarks the subtree at i.  The root cannot be pruned.
 * If the focus or path runs through it, they move to the parent. */
int tree_prune(struct tree *t, uint32_t i);
void tree_unprune(struct tree *t, uint32_t i);
/* Whether i or an ancestor is pruned. */
int tree_is_pruned(const struct tree *t, uint32_t i);

/*
 * Focus and chosen path.  The chosen path is the dataset; the focus is only
 * the cursor, and moving it never changes the path.  tree_set_focus moves
 * the cursor to i.  tree_set_path replaces the path (indices must form a
 * root-first chain of visible nodes; returns -1 otherwise).
 * tree_path_through makes i part of the path: unchanged when i is on it,
 * else root..i.  Only decisions (a pick, an edit, a prune, choosing a
 * branch) call the last two.
 */
void tree_set_focus(struct tree *t, uint32_t i);
int tree_set_path(struct tree *t, const uint32_t *path, size_t len);
void tree_path_through(struct tree *t, uint32_t i);
/* Position of i on the chosen path, or -1. */
long tree_path_index(const struct tree *t, uint32_t i);
/* The last node of the chosen path (the tip), or the root. */
uint32_t tree_path_tip(const struct tree *t);

/* Depth of i (the root is 0). */
size_t tree_depth(const struct tree *t, uint32_t i);
/* Appends to out the document at i: the texts from the root to i.  Linear
 * in the document's length. */
void tree_document(const struct tree *t, uint32_t i, struct strbuf *out);
/* The k-th (0-based) visible child of i, or TREE_NONE. */
uint32_t tree_child_at(const struct tree *t, uint32_t i, size_t k);
/* Number of visible (not pruned) children. */
size_t tree_visible_children(const struct tree *t, uint32_t i);

/*
 * Visits every visible node in preorder (parents before children, children
 * in order) without recursion.  The callback returns 0 to go on, non-zero to
 * stop (that value is returned).
 */
int tree_walk(const struct tree *t, int (*visit)(const struct tree *t, uint32_t i, void *ctx),
	      void *ctx);

/* Sets the session-level strings (copied; NULL clears). */
void tree_set_name(struct tree *t, const char *name);
void tree_set_weft_json(struct tree *t, const char *json);
void tree_set_top_extra(struct tree *t, const char *extra_json);

#endif

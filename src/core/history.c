#include "weft/history.h"

#include <stdlib.h>
#include <string.h>

#include "weft/xalloc.h"

enum history_kind {
	HISTORY_BEGIN, /* undo: restore focus/path before the action */
	HISTORY_END,   /* redo: restore focus/path after the action */
	HISTORY_FLAG,
	HISTORY_PICK,
	HISTORY_PRUNE,
	HISTORY_ADD,
	HISTORY_WEFT_EXTRA,
};

struct history_entry {
	enum history_kind kind;
	unsigned group;
	uint32_t node;
	uint32_t flag;			  /* HISTORY_FLAG */
	int before_on, after_on;	  /* HISTORY_FLAG */
	uint32_t before_pick, after_pick; /* HISTORY_PICK */
	enum tree_picker before_picker, after_picker;
	const char *before_extra, *after_extra; /* HISTORY_WEFT_EXTRA: arena strings */
	uint32_t *path;				/* HISTORY_BEGIN/END: owned copy of the path */
	size_t path_len;
	uint32_t focus;
};

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

static void notify(struct history *h, uint32_t i, enum history_change what)
{
	if (h->observer)
		h->observer(h->observer_ctx, i, what);
}

static void entry_release(struct history_entry *e)
{
	free(e->path);
	e->path = NULL;
}

static void drop_from(struct history *h, size_t from)
{
	size_t i;

	for (i = from; i < h->len; i++)
		entry_release(&h->entries[i]);
	h->len = from;
	if (h->top > from)
		h->top = from;
}

void history_release(struct history *h)
{
	drop_from(h, 0);
	free(h->entries);
	history_init(h);
}

static struct history_entry *push(struct history *h, enum history_kind kind)
{
	struct history_entry *e;

	if (h->top < h->len)
		drop_from(h, h->top);
	XGROW(h->entries, h->cap, h->len + 1);
	e = &h->entries[h->len++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->group = h->group;
	h->top = h->len;
	return e;
}

static void snapshot(struct history_entry *e, const struct tree *t)
{
	e->focus = t->focus;
	e->path_len = t->path_len;
	e->path = xreallocarray(NULL, t->path_len ? t->path_len : 1, sizeof(uint32_t));
	if (t->path_len)
		memcpy(e->path, t->path, t->path_len * sizeof(uint32_t));
}

static void restore(const struct history_entry *e, struct tree *t)
{
	if (e->path_len)
		tree_set_path(t, e->path, e->path_len);
	if (e->focus != TREE_NONE && e->focus < t->count && !tree_is_pruned(t, e->focus))
		tree_set_focus(t, e->focus);
}

/* Whether the chosen path differs from the one e recorded.  Choosing a
 * branch changes nothing but the path, and is an action of its own. */
static int path_changed(const struct history_entry *e, const struct tree *t)
{
	return e->path_len != t->path_len ||
	       (t->path_len && memcmp(e->path, t->path, t->path_len * sizeof(uint32_t)) != 0);
}

void history_begin(struct history *h, const struct tree *t)
{
	h->group++;
	h->open = 1;
	h->begin_len = h->top;
	snapshot(push(h, HISTORY_BEGIN), t);
}

void history_end(struct history *h, const struct tree *t)
{
	if (!h->open)
		return;
	h->open = 0;
	if (h->len == h->begin_len + 1 && !path_changed(&h->entries[h->begin_len], t)) {
		/* nothing recorded and the same chosen path: drop the BEGIN */
		drop_from(h, h->begin_len);
		return;
	}
	snapshot(push(h, HISTORY_END), t);
}

/* Outside an action, each change is its own action. */
static int auto_begin(struct history *h, const struct tree *t)
{
	if (h->open)
		return 0;
	history_begin(h, t);
	return 1;
}

static void set_pick(struct tree *t, uint32_t owner, uint32_t pick, enum tree_picker picker)
{
	struct tree_step *s = tree_step_get(t, owner);

	s->final_pick = pick;
	s->picker = picker;
}

void history_set_flag(struct history *h, struct tree *t, uint32_t i, uint32_t flag, int on)
{
	int own = auto_begin(h, t);
	struct history_entry *e = push(h, HISTORY_FLAG);

	e->node = i;
	e->flag = flag;
	e->before_on = (tree_node(t, i)->flags & flag) != 0;
	e->after_on = on != 0;
	tree_set_flag(t, i, flag, on);
	notify(h, i, HISTORY_CHANGED_NODE);
	if (own)
		history_end(h, t);
}

void history_set_pick(struct history *h, struct tree *t, uint32_t owner, uint32_t final_pick,
		      enum tree_picker picker)
{
	int own = auto_begin(h, t);
	struct tree_step *s = tree_step_get(t, owner);
	struct history_entry *e = push(h, HISTORY_PICK);

	e->node = owner;
	e->before_pick = s->final_pick;
	e->before_picker = s->picker;
	e->after_pick = final_pick;
	e->after_picker = picker;
	set_pick(t, owner, final_pick, picker);
	notify(h, owner, HISTORY_CHANGED_NODE);
	if (own)
		history_end(h, t);
}

int history_prune(struct history *h, struct tree *t, uint32_t i)
{
	int own, ret;
	struct history_entry *e;

	if (tree_node(t, i)->flags & TREE_PRUNED || i == t->root)
		return -1;
	own = auto_begin(h, t);
	ret = tree_prune(t, i);
	if (ret == 0) {
		e = push(h, HISTORY_PRUNE);
		e->node = i;
		notify(h, i, HISTORY_CHANGED_PRUNE);
	}
	if (own)
		history_end(h, t);
	return ret;
}

void history_added(struct history *h, struct tree *t, uint32_t i)
{
	int own = auto_begin(h, t);
	struct history_entry *e = push(h, HISTORY_ADD);

	e->node = i;
	notify(h, i, HISTORY_CHANGED_NODE);
	if (own)
		history_end(h, t);
}

void history_set_weft_extra(struct history *h, struct tree *t, uint32_t i, const char *weft_extra)
{
	int own = auto_begin(h, t);
	struct history_entry *e = push(h, HISTORY_WEFT_EXTRA);
	struct tree_node *n = tree_node(t, i);

	e->node = i;
	e->before_extra = n->weft_extra_json;
	tree_set_extra(t, i, n->extra_json, weft_extra);
	/* the arena never frees, so both strings stay valid for the tree's life */
	e->after_extra = n->weft_extra_json;
	notify(h, i, HISTORY_CHANGED_NODE);
	if (own)
		history_end(h, t);
}

static void set_weft_extra(struct history *h, struct tree *t, uint32_t i, const char *json)
{
	tree_set_extra(t, i, tree_node(t, i)->extra_json, json);
	notify(h, i, HISTORY_CHANGED_NODE);
}

static void revert(struct history *h, struct history_entry *e, struct tree *t)
{
	switch (e->kind) {
	case HISTORY_BEGIN: restore(e, t); return;
	case HISTORY_END: return;
	case HISTORY_FLAG:
		tree_set_flag(t, e->node, e->flag, e->before_on);
		notify(h, e->node, HISTORY_CHANGED_NODE);
		return;
	case HISTORY_PICK:
		set_pick(t, e->node, e->before_pick, e->before_picker);
		notify(h, e->node, HISTORY_CHANGED_NODE);
		return;
	case HISTORY_PRUNE:
		tree_unprune(t, e->node);
		notify(h, e->node, HISTORY_CHANGED_UNPRUNE);
		return;
	case HISTORY_ADD:
		tree_prune(t, e->node);
		notify(h, e->node, HISTORY_CHANGED_PRUNE);
		return;
	case HISTORY_WEFT_EXTRA: set_weft_extra(h, t, e->node, e->before_extra); return;
	}
}

static void replay(struct history *h, struct history_entry *e, struct tree *t)
{
	switch (e->kind) {
	case HISTORY_BEGIN: return;
	case HISTORY_END: restore(e, t); return;
	case HISTORY_FLAG:
		tree_set_flag(t, e->node, e->flag, e->after_on);
		notify(h, e->node, HISTORY_CHANGED_NODE);
		return;
	case HISTORY_PICK:
		set_pick(t, e->node, e->after_pick, e->after_picker);
		notify(h, e->node, HISTORY_CHANGED_NODE);
		return;
	case HISTORY_PRUNE:
		tree_prune(t, e->node);
		notify(h, e->node, HISTORY_CHANGED_PRUNE);
		return;
	case HISTORY_ADD:
		tree_unprune(t, e->node);
		notify(h, e->node, HISTORY_CHANGED_UNPRUNE);
		return;
	case HISTORY_WEFT_EXTRA: set_weft_extra(h, t, e->node, e->after_extra); return;
	}
}

int history_undo(struct history *h, struct tree *t)
{
	unsigned g;

	if (h->open || h->top == 0)
		return -1;
	g = h->entries[h->top - 1].group;
	while (h->top > 0 && h->entries[h->top - 1].group == g) {
		h->top--;
		revert(h, &h->entries[h->top], t);
	}
	return 0;
}

int history_redo(struct history *h, struct tree *t)
{
	unsigned g;

	if (h->open || h->top == h->len)
		return -1;
	g = h->entries[h->top].group;
	while (h->top < h->len && h->entries[h->top].group == g) {
		replay(h, &h->entries[h->top], t);
		h->top++;
	}
	return 0;
}

size_t history_undo_count(const struct history *h)
{
	size_t i, n = 0;

	for (i = 0; i < h->top; i++)
		if (h->entries[i].kind == HISTORY_BEGIN)
			n++;
	return n;
}

/*
 * The keys that move the cursor and make decisions: h j k l and Tab move,
 * Enter and 1-9 pick, c chooses the branch shown, d prunes (after y/n), u
 * and C-r undo and redo, b bookmarks and ' goes to the next one, PgUp PgDn
 * Home End page through the line; and the two that only speak to the
 * screen (C-l, C-c).  Every tree change goes through history.h.
 */
#include "loom.h"

#include "weft/history.h"

unsigned act_parent(struct tui *u, int arg)
{
	uint32_t p = tree_node(u->t, u->t->focus)->parent;

	(void)arg;
	if (p == TREE_NONE) {
		set_msg(u, MSG_INFO, "at the root");
		return REDRAW_STATUS;
	}
	focus_on(u, p);
	return REDRAW_ALL;
}

unsigned act_child(struct tui *u, int arg)
{
	(void)arg;
	sync_candidate(u);
	if (u->cand == TREE_NONE) {
		set_msg(u, MSG_INFO, "no children here");
		return REDRAW_STATUS;
	}
	focus_on(u, u->cand);
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_sibling(struct tui *u, int dir)
{
	const struct tree *t = u->t;
	uint32_t c = t->focus;

	do {
		c = dir < 0 ? tree_node(t, c)->prev_sibling : tree_node(t, c)->next_sibling;
	} while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED));
	if (c == TREE_NONE) {
		set_msg(u, MSG_INFO, dir < 0 ? "no previous sibling" : "no next sibling");
		return REDRAW_STATUS;
	}
	focus_on(u, c);
	return REDRAW_ALL | REDRAW_STATS;
}

/* PgDn (dir 1) and PgUp (-1): a page of the outline down or up the line
 * the screen shows. */
unsigned act_page(struct tui *u, int dir)
{
	long pos = view_pos(u), to;
	long n = (long)outline_page_nodes(u, (size_t)pos, dir, screen_outline_height());

	to = dir < 0 ? pos - n : pos + n;
	if (to < 0)
		to = 0;
	if (to > (long)u->view_len - 1)
		to = (long)u->view_len - 1;
	if (to == pos) {
		set_msg(u, MSG_INFO, dir < 0 ? "at the root" : "at the end of the line");
		return REDRAW_STATUS;
	}
	focus_on(u, u->view[to]);
	return REDRAW_ALL | REDRAW_STATS;
}

/* Home (dir -1) and End (1): the first and the last node of the line. */
unsigned act_ends(struct tui *u, int dir)
{
	long pos = view_pos(u), to = dir < 0 ? 0 : (long)u->view_len - 1;

	if (to == pos) {
		set_msg(u, MSG_INFO, dir < 0 ? "at the root" : "at the end of the line");
		return REDRAW_STATUS;
	}
	focus_on(u, u->view[to]);
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_next_candidate(struct tui *u, int dir)
{
	const struct tree *t = u->t;
	uint32_t c;

	sync_candidate(u);
	if (u->cand == TREE_NONE)
		return REDRAW_NONE;
	c = u->cand;
	do {
		c = dir < 0 ? tree_node(t, c)->prev_sibling : tree_node(t, c)->next_sibling;
	} while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED));
	if (c == TREE_NONE) /* wrap around */
		c = dir < 0 ? tree_node(t, t->focus)->last_child : first_visible_child(t, t->focus);
	while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED))
		c = tree_node(t, c)->prev_sibling;
	if (c != TREE_NONE)
		u->cand = c;
	return REDRAW_ALL;
}

/* Records pick as the final pick of the focus's step and moves to it. */
void record_pick(struct tui *u, uint32_t pick, enum tree_picker picker)
{
	struct tree *t = u->t;
	uint32_t owner = t->focus;
	struct tree_step *s = tree_step_get(t, owner);
	uint32_t old = s->final_pick;

	history_begin(&u->hist, t);
	if (old != TREE_NONE && old != pick && s->picker == TREE_PICKER_HUMAN &&
	    (tree_node(t, old)->flags & TREE_HUMAN_PICK))
		history_set_flag(&u->hist, t, old, TREE_HUMAN_PICK, 0);
	history_set_pick(&u->hist, t, owner, pick, picker);
	if (picker == TREE_PICKER_HUMAN)
		history_set_flag(&u->hist, t, pick, TREE_HUMAN_PICK, 1);
	/* a pick is a decision: the chosen path goes through it */
	tree_path_through(t, pick);
	focus_on(u, pick);
	history_end(&u->hist, t);
	mark_changed(u);
	u->journal_path_due = 1;
}

/* c: the line shown (root, the focus, the branch below it) becomes the
 * chosen path, as one undoable action. */
unsigned act_choose(struct tui *u, int arg)
{
	struct tree *t = u->t;

	(void)arg;
	if (view_is_path(u)) {
		set_msg(u, MSG_INFO, "this is the chosen path already");
		return REDRAW_STATUS;
	}
	history_begin(&u->hist, t);
	if (tree_set_path(t, u->view, u->view_len) < 0) {
		history_end(&u->hist, t);
		set_msg(u, MSG_ERROR, "cannot choose this branch");
		return REDRAW_STATUS;
	}
	history_end(&u->hist, t);
	mark_changed(u);
	u->journal_path_due = 1;
	set_msg(u, MSG_INFO, "chose this branch: the chosen path has %zu steps now (u undoes)",
		steer_path_steps(t));
	return REDRAW_ALL | REDRAW_STATS;
}

static unsigned no_candidates(struct tui *u)
{
	set_msg(u, MSG_INFO,
		"no candidates here; g runs a step (no generator configured: see README "
		"Configuration)");
	return REDRAW_STATUS;
}

/* A pick made off the chosen path takes the path to its branch: said so. */
#define BRANCH_CHOSEN "; the chosen path follows this branch now (u undoes)"

unsigned act_accept(struct tui *u, int arg)
{
	const struct tree_node *f;
	uint32_t judge;
	enum tree_picker picker;
	int moved;

	(void)arg;
	sync_candidate(u);
	if (u->cand == TREE_NONE)
		return no_candidates(u);
	f = tree_node(u->t, u->t->focus);
	judge = f->step ? f->step->judge_pick : TREE_NONE;
	/* Accepting the judge's pick is the AI's decision; accepting another
	 * highlighted candidate is the person's. */
	picker = (judge == TREE_NONE || judge == u->cand) ? TREE_PICKER_AI : TREE_PICKER_HUMAN;
	if (judge == TREE_NONE && !(tree_node(u->t, u->cand)->flags & TREE_JUDGE_PICK))
		picker = TREE_PICKER_HUMAN;
	moved = !view_on_path(u, (size_t)view_pos(u));
	record_pick(u, u->cand, picker);
	set_msg(u, MSG_INFO, "accepted (%s)%s",
		picker == TREE_PICKER_AI ? "judge's pick" : "your pick",
		moved ? BRANCH_CHOSEN : "");
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_pick(struct tui *u, int k)
{
	const struct tree *t = u->t;
	uint32_t c = first_visible_child(t, t->focus);
	int i, moved;

	for (i = 1; i < k && c != TREE_NONE; i++)
		c = next_visible_sibling(t, c);
	if (c == TREE_NONE) {
		if (first_visible_child(t, t->focus) == TREE_NONE)
			return no_candidates(u);
		set_msg(u, MSG_INFO, "no candidate %d here", k);
		return REDRAW_STATUS;
	}
	moved = !view_on_path(u, (size_t)view_pos(u));
	record_pick(u, c, TREE_PICKER_HUMAN);
	set_msg(u, MSG_INFO, "picked candidate %d (human)%s", k, moved ? BRANCH_CHOSEN : "");
	return REDRAW_ALL | REDRAW_STATS;
}

/* The visible nodes of the subtree at top, top included: what d takes
 * away.  Walks the subtree once, without a stack. */
static size_t subtree_size(const struct tree *t, uint32_t top)
{
	size_t n = 1;
	uint32_t i = first_visible_child(t, top);

	while (i != TREE_NONE) {
		uint32_t next = first_visible_child(t, i);

		n++;
		/* no child: the next sibling, else the next of an ancestor's */
		while (next == TREE_NONE && i != top) {
			next = next_visible_sibling(t, i);
			i = tree_node(t, i)->parent;
		}
		if (next == TREE_NONE)
			break;
		i = next;
	}
	return n;
}

unsigned act_prune(struct tui *u, int arg)
{
	size_t n;

	(void)arg;
	if (u->t->focus == u->t->root) {
		set_msg(u, MSG_ERROR, "the root cannot be pruned");
		return REDRAW_STATUS;
	}
	u->prune_target = u->t->focus;
	u->mode = MODE_CONFIRM_PRUNE;
	n = subtree_size(u->t, u->prune_target);
	set_msg(u, MSG_INFO, "prune this subtree? (y/n) %zu node%s go%s", n, n == 1 ? "" : "s",
		n == 1 ? "es" : "");
	return REDRAW_STATUS;
}

unsigned confirm_prune(struct tui *u, int key)
{
	u->mode = MODE_NORMAL;
	if (key != 'y' && key != 'Y') {
		set_msg(u, MSG_INFO, "not pruned");
		return REDRAW_STATUS;
	}
	history_begin(&u->hist, u->t);
	history_prune(&u->hist, u->t, u->prune_target);
	history_end(&u->hist, u->t);
	mark_changed(u);
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
	set_msg(u, MSG_INFO, "pruned (u undoes)");
	return REDRAW_ALL | REDRAW_STATS;
}

/* u (arg -1) and C-r (arg 1). */
unsigned act_history(struct tui *u, int arg)
{
	int redo = arg > 0;

	if ((redo ? history_redo : history_undo)(&u->hist, u->t) < 0) {
		set_msg(u, MSG_INFO, redo ? "nothing to redo" : "nothing to undo");
		return REDRAW_STATUS;
	}
	mark_changed(u);
	u->journal_path_due = 1; /* the chosen path may be all that moved */
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
	set_msg(u, MSG_INFO, redo ? "redone" : "undone");
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_bookmark(struct tui *u, int arg)
{
	int on = !(tree_node(u->t, u->t->focus)->flags & TREE_BOOKMARK);

	(void)arg;
	history_set_flag(&u->hist, u->t, u->t->focus, TREE_BOOKMARK, on);
	mark_changed(u);
	set_msg(u, MSG_INFO, on ? "bookmarked" : "bookmark removed");
	return REDRAW_ALL;
}

/* ': the next bookmarked node after the focus in creation order, wrapping
 * (as search's n does), and which of how many it is. */
unsigned act_next_bookmark(struct tui *u, int arg)
{
	const struct tree *t = u->t;
	uint32_t i, k, found = TREE_NONE, nth = 0, total = 0;

	(void)arg;
	for (i = 0; i < t->count; i++)
		if ((tree_node(t, i)->flags & TREE_BOOKMARK) && !tree_is_pruned(t, i))
			total++;
	for (k = 1; k <= t->count && total && found == TREE_NONE; k++) {
		i = (uint32_t)((t->focus + k) % t->count);
		if ((tree_node(t, i)->flags & TREE_BOOKMARK) && !tree_is_pruned(t, i))
			found = i;
	}
	if (found == TREE_NONE) {
		set_msg(u, MSG_INFO, "no bookmarks (b sets one)");
		return REDRAW_STATUS;
	}
	for (i = 0; i <= found; i++)
		if ((tree_node(t, i)->flags & TREE_BOOKMARK) && !tree_is_pruned(t, i))
			nth++;
	set_msg(u, MSG_INFO, "bookmark %u of %u%s", nth, total,
		found <= t->focus ? " (wrapped to the first)" : "");
	focus_on(u, found);
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_ctrl_c(struct tui *u, int arg)
{
	(void)arg;
	set_msg(u, MSG_INFO, "q quits (saving)");
	return REDRAW_STATUS;
}

unsigned act_redraw(struct tui *u, int arg)
{
	(void)u;
	(void)arg;
	clearok(curscr, TRUE);
	return REDRAW_ALL;
}

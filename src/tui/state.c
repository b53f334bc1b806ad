/*
 * The loom's state beside the tree: the line the screen shows (the view)
 * and the focus's place on it, the highlighted candidate, the status
 * messages, the journal of changes, the path's class balance, and
 * loom_settle, which brings all of it up to date before a frame is drawn.
 * Nothing here draws.
 */
#include "loom.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weft/display.h"
#include "weft/journal.h"
#include "weft/task.h"
#include "weft/xalloc.h"

/* The tree changed: unsaved work, and the view is built again. */
void mark_changed(struct tui *u)
{
	u->changes++;
	u->version++;
}

/* ---- the view line ----------------------------------------------------------- */

/* Whether c is a visible child of p. */
static int visible_child_of(const struct tree *t, uint32_t c, uint32_t p)
{
	return c < t->count && tree_node(t, c)->parent == p &&
	       !(tree_node(t, c)->flags & TREE_PRUNED);
}

/* Whether view node k (at depth k) is on the chosen path.  O(1). */
int view_on_path(const struct tui *u, size_t k)
{
	return k < u->t->path_len && k < u->view_len && u->t->path[k] == u->view[k];
}

/*
 * Builds the view: root..focus, then below the focus the branch shown
 * before when it still hangs there (so h then l comes back the same way),
 * else the chosen path where the line is on it, else each step's final
 * pick.  O(depth + branch).
 */
static void view_build(struct tui *u)
{
	const struct tree *t = u->t;
	size_t old_len = u->view_len, d = tree_depth(t, t->focus), k;
	uint32_t i = t->focus;

	XGROW(u->view, u->view_cap, d + 1);
	for (k = d + 1; k > 0; k--) {
		u->view[k - 1] = i;
		i = tree_node(t, i)->parent;
	}
	for (k = d;; k++) {
		uint32_t at = u->view[k], next = TREE_NONE;
		const struct tree_step *st = tree_node(t, at)->step;

		/* entries past k are still the old view's */
		if (k + 1 < old_len && visible_child_of(t, u->view[k + 1], at))
			next = u->view[k + 1];
		else if (k + 1 < t->path_len && t->path[k] == at)
			next = t->path[k + 1];
		else if (st && st->final_pick != TREE_NONE &&
			 visible_child_of(t, st->final_pick, at))
			next = st->final_pick;
		if (next == TREE_NONE)
			break;
		XGROW(u->view, u->view_cap, k + 2);
		u->view[k + 1] = next;
	}
	u->view_len = k + 1;
	u->vpos = (long)d;
	u->view_version = u->version;
}

/*
 * The focus's position on the view (its depth), rebuilding the view when
 * the focus left it or the tree changed.  Moving one step along the view
 * (h, l) is found in O(1), so a frame costs the same on a 1,000,000-deep
 * chain as on a short one.
 */
long view_pos(struct tui *u)
{
	const struct tree *t = u->t;
	long p = u->vpos;

	if (u->view_version == u->version && p >= 0 && (size_t)p < u->view_len) {
		if (u->view[p] == t->focus)
			return p;
		if (p > 0 && u->view[p - 1] == t->focus)
			return u->vpos = p - 1;
		if ((size_t)p + 1 < u->view_len && u->view[p + 1] == t->focus)
			return u->vpos = p + 1;
	}
	view_build(u);
	return u->vpos;
}

/* Whether the view is the chosen path, node for node. */
int view_is_path(struct tui *u)
{
	const struct tree *t = u->t;

	view_pos(u);
	return u->view_len == t->path_len &&
	       (!t->path_len || !memcmp(u->view, t->path, t->path_len * sizeof(*t->path)));
}

/* ---- the journal ------------------------------------------------------------- */

/* A change made but not journalled: said where it stays on screen (a
 * crash now would lose it; s saves it), for as long as it is true. */
void journal_failure(struct tui *u, const struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;

	u->journal_failed = 1;
	strbuf_addf(&sb, "NOT JOURNALLED: %s (s saves)", err->msg);
	set_sticky(u, sb.data);
	strbuf_release(&sb);
}

/*
 * The journal: every change history makes (done, undone, redone) is
 * appended beside the session file before the screen shows it, so a killed
 * process loses nothing it had shown as done.
 */
void journal_observer(void *ctx, uint32_t i, enum history_change what)
{
	struct tui *u = ctx;
	struct errbuf err;
	int ret;

	if (what == HISTORY_CHANGED_NODE)
		ret = journal_append_node(u->path, u->t, i, &err);
	else
		ret = journal_append_prune(u->path, u->t, i, what == HISTORY_CHANGED_PRUNE, &err);
	if (ret < 0)
		journal_failure(u, &err);
	u->journal_path_due = 1;
}

void journal_path_if_due(struct tui *u)
{
	struct errbuf err;

	if (!u->journal_path_due)
		return;
	u->journal_path_due = 0;
	if (!u->path) /* a tree with no file has no journal */
		return;
	if (journal_append_path(u->path, u->t, &err) < 0)
		journal_failure(u, &err);
}

/* ---- the tree's visible nodes (pruned ones are hidden) ------------------------ */

static uint32_t next_visible(const struct tree *t, uint32_t c)
{
	while (c != TREE_NONE && (tree_node(t, c)->flags & TREE_PRUNED))
		c = tree_node(t, c)->next_sibling;
	return c;
}

uint32_t first_visible_child(const struct tree *t, uint32_t i)
{
	return next_visible(t, tree_node(t, i)->first_child);
}

uint32_t next_visible_sibling(const struct tree *t, uint32_t c)
{
	return next_visible(t, tree_node(t, c)->next_sibling);
}

/* ---- the highlighted candidate --------------------------------------------- */

/* The candidate to highlight by default: the view's next node, else the
 * judge's pick, else the first child. */
static uint32_t default_candidate(struct tui *u)
{
	const struct tree *t = u->t;
	uint32_t f = t->focus;
	long pos = view_pos(u);
	const struct tree_node *nd = tree_node(t, f);
	uint32_t judge = nd->step ? nd->step->judge_pick : TREE_NONE;

	if (pos >= 0 && (size_t)pos + 1 < u->view_len)
		return u->view[pos + 1];
	/* The focus is never inside a pruned subtree, so a child of it is
	 * visible unless it is itself marked pruned. */
	if (judge != TREE_NONE && tree_node(t, judge)->parent == f &&
	    !(tree_node(t, judge)->flags & TREE_PRUNED))
		return judge;
	return first_visible_child(t, f);
}

void sync_candidate(struct tui *u)
{
	const struct tree *t = u->t;

	if (u->cand_owner != t->focus || u->cand == TREE_NONE ||
	    tree_node(t, u->cand)->parent != t->focus ||
	    (tree_node(t, u->cand)->flags & TREE_PRUNED)) {
		u->cand_owner = t->focus;
		u->cand = default_candidate(u);
	}
}

void focus_on(struct tui *u, uint32_t i)
{
	tree_set_focus(u->t, i);
	u->cand_owner = TREE_NONE;
	sync_candidate(u);
}

/* ---- the chosen path's pairs ------------------------------------------------ */

/* The class balance of the chosen path's pairs, as weft extract counts
 * them ("Yes 3 No 7"); recounted when the path or the tree changed. */
static void update_stats(struct tui *u)
{
	const struct tree *t = u->t;
	uint32_t tip = tree_path_tip(t);
	struct pairs_result pr;
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	size_t k;

	if (u->stats_tip == tip && u->stats_len == t->path_len && u->stats_changes == u->changes)
		return;
	u->stats_tip = tip;
	u->stats_len = t->path_len;
	u->stats_changes = u->changes;
	if (task_path_pairs(u->opts ? u->opts->task : NULL, t, &pr, &err) == 0) {
		for (k = 0; k < pr.nlabels; k++) {
			if (k)
				strbuf_addch(&sb, ' ');
			display_sanitize(pr.labels[k],
					 strlen(pr.labels[k]) < 12 ? strlen(pr.labels[k]) : 12,
					 &sb);
			strbuf_addf(&sb, " %zu", pr.per_class[k]);
		}
	} else {
		strbuf_addstr(&sb, "pairs ?");
	}
	snprintf(u->balance, sizeof(u->balance), "%s", sb.data);
	strbuf_release(&sb);
	pairs_result_release(&pr);
}

/* The chosen path's pairs as weft extract finds them (after the task's
 * preamble, else after the root, with the task's pattern and labels): 0
 * with *pr filled (at least one pair; release it), or -1 with the status
 * message set. */
int path_pairs(struct tui *u, struct pairs_result *pr)
{
	struct errbuf err;
	int r;

	r = task_path_pairs(u->opts ? u->opts->task : NULL, u->t, pr, &err);
	if (r < 0 || !pr->count) {
		set_msg(u, MSG_ERROR, "%s",
			r < 0 ? err.msg : "no question/answer pairs on the chosen path");
		pairs_result_release(pr);
		return -1;
	}
	return 0;
}

/* ---- the candidates' duplicate flags ------------------------------------- */

/* The flags of the focus's candidates: whether each would add a pair that
 * repeats one of the path to the focus; worked out again when the focus
 * or the tree changed. */
static void update_dups(struct tui *u)
{
	const struct tree *t = u->t;
	const char *texts[DUP_FLAGS_MAX];
	struct steer_pairs sp;
	uint32_t c;

	if (u->dups_for == t->focus && u->dups_version == u->version)
		return;
	u->dups_for = t->focus;
	u->dups_version = u->version;
	u->ndups = 0;
	c = first_visible_child(t, t->focus);
	if (c == TREE_NONE)
		return;
	if (!u->dups) {
		u->dup_nodes = xcalloc(DUP_FLAGS_MAX, sizeof(*u->dup_nodes));
		u->dups = xcalloc(DUP_FLAGS_MAX, sizeof(*u->dups));
	}
	for (; c != TREE_NONE && u->ndups < DUP_FLAGS_MAX; c = next_visible_sibling(t, c)) {
		u->dup_nodes[u->ndups] = c;
		texts[u->ndups++] = tree_node(t, c)->text;
	}
	/* a task whose pattern fails flags nothing (the balance says so) */
	steer_pairs_init(&sp, t, t->focus, u->opts ? u->opts->task : NULL);
	steer_pairs_flag_all(&sp, texts, u->ndups, u->dups);
	steer_pairs_release(&sp);
}

const struct steer_dup *candidate_dup(const struct tui *u, uint32_t c)
{
	size_t k;

	if (u->dups_for != u->t->focus)
		return NULL;
	for (k = 0; k < u->ndups; k++)
		if (u->dup_nodes[k] == c)
			return u->dups[k].kind != STEER_DUP_NONE ? &u->dups[k] : NULL;
	return NULL;
}

/* ---- before a frame ------------------------------------------------------- */

void loom_settle(struct tui *u)
{
	view_pos(u);
	sync_candidate(u);
	update_stats(u);
	pairs_refresh(u);
	update_dups(u);
}

/* ---- status messages ----------------------------------------------------- */

/* Keeps a message for the messages page (m): the status line may have
 * room for only a part of it. */
static void msg_log_add(struct tui *u, enum msg_kind kind, const char *text)
{
	struct msg_entry *e;

	if (!text[0])
		return;
	e = &u->msg_log[u->msg_log_count++ % MSG_LOG_LEN];
	snprintf(e->text, sizeof(e->text), "%s", text);
	e->kind = kind;
	e->when = time(NULL);
}

void set_msg(struct tui *u, enum msg_kind kind, const char *fmt, ...)
{
	struct strbuf raw = STRBUF_INIT, safe = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&raw, fmt, ap);
	va_end(ap);
	display_sanitize(raw.data, raw.len, &safe);
	snprintf(u->msg, sizeof(u->msg), "%s", safe.data);
	u->msg_kind = kind;
	msg_log_add(u, kind, u->msg);
	strbuf_release(&raw);
	strbuf_release(&safe);
}

void set_sticky(struct tui *u, const char *text)
{
	struct strbuf safe = STRBUF_INIT;

	display_sanitize(text, strlen(text), &safe);
	/* a new warning goes to the messages page too, once */
	if (strncmp(u->sticky, safe.data, sizeof(u->sticky) - 1))
		msg_log_add(u, MSG_ERROR, safe.data);
	snprintf(u->sticky, sizeof(u->sticky), "%s", safe.data);
	strbuf_release(&safe);
}

/*
 * The pairs page (p): one line per pair of the chosen path, rejected ones
 * included, with its label (and the one its answer named, when
 * relabelled), its question, and its flags: near-duplicate of an earlier
 * pair, the verifier's confidence, the decision and who made it.  The
 * decisions go through pairstore_set with the loom's history, so u undoes
 * them and the journal keeps them like any change.
 *
 * Pairs weft extract drops (ambiguous or unmatched answers, exact and
 * normalised duplicates) are not listed: there is nothing to decide about
 * them here; weft extract names them.
 */
#include "loom.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/curate.h"
#include "weft/dataset.h"
#include "weft/pairstore.h"
#include "weft/task.h"
#include "weft/xalloc.h"

/* A verdict below this p flags the pair (the verifier doubts it). */
#define PAIRS_DOUBT_P 0.5
/* Columns of the label column ("No←Yes"): each label cut to half. */
#define PAIRS_LABEL_COLS 15

enum pairs_sort {
	PAIRS_SORT_ORDER = 0,
	PAIRS_SORT_CONFIDENCE,
	PAIRS_SORT_FLAG,
	PAIRS_SORT_COUNT,
};

static const char *const sort_names[PAIRS_SORT_COUNT] = {"in order", "by confidence",
							 "flagged first"};

static int pair_flagged(const struct pair *p)
{
	return p->near_dup || (p->has_verdict && p->verify_p < PAIRS_DOUBT_P);
}

/* The chosen path's pairs with the session's decisions applied, rejected
 * ones kept in the list (curate.h's audit mode). */
static void pairs_build(struct tui *u)
{
	struct pairs_options o;
	struct curate_options co;
	struct dataset_input in;
	struct errbuf err;

	pairs_result_release(&u->pairs);
	memset(&u->pairs, 0, sizeof(u->pairs));
	task_pairs_options(u->opts ? u->opts->task : NULL, &o);
	dataset_input_from_tree(u->t, &in);
	o.start = in.start;
	if (pairs_extract(in.doc, in.len, in.spans, in.nspans, &o, &u->pairs, &err) < 0) {
		pairs_result_release(&u->pairs);
		memset(&u->pairs, 0, sizeof(u->pairs));
		set_msg(u, MSG_ERROR, "%s", err.msg);
	} else {
		curate_options_init(&co);
		co.near_threshold = o.near_threshold;
		co.include_rejected = 1;
		curate_pairs(&u->pairs, u->t, &co);
	}
	dataset_input_release(&in);
	u->pairs_built = 1;
	u->pairs_version = u->version;
}

/* qsort's context: the pairs being ordered (qsort has no argument for it;
 * the loom runs one thread). */
static const struct pairs_result *sort_pairs;

static int by_confidence(const void *a, const void *b)
{
	const struct pair *x = &sort_pairs->pairs[*(const size_t *)a];
	const struct pair *y = &sort_pairs->pairs[*(const size_t *)b];

	/* pairs without a verdict last, then the order on the path */
	if (x->has_verdict != y->has_verdict)
		return x->has_verdict ? -1 : 1;
	if (x->has_verdict && x->verify_p != y->verify_p)
		return x->verify_p < y->verify_p ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int by_flag(const void *a, const void *b)
{
	int fx = pair_flagged(&sort_pairs->pairs[*(const size_t *)a]);
	int fy = pair_flagged(&sort_pairs->pairs[*(const size_t *)b]);

	if (fx != fy)
		return fx ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

void pairs_refresh(struct tui *u)
{
	size_t k, keep = SIZE_MAX;

	if (u->mode != MODE_PAIRS)
		return;
	if (u->pairs_shown && u->pairs_cur < u->pairs_shown)
		keep = u->pairs_order[u->pairs_cur];
	if (!u->pairs_built || u->pairs_version != u->version)
		pairs_build(u);
	free(u->pairs_order);
	u->pairs_order = xcalloc(u->pairs.count + 1, sizeof(*u->pairs_order));
	u->pairs_shown = 0;
	for (k = 0; k < u->pairs.count; k++)
		if (!u->pairs_flagged_only || pair_flagged(&u->pairs.pairs[k]))
			u->pairs_order[u->pairs_shown++] = k;
	sort_pairs = &u->pairs;
	if (u->pairs_sort == PAIRS_SORT_CONFIDENCE)
		qsort(u->pairs_order, u->pairs_shown, sizeof(size_t), by_confidence);
	else if (u->pairs_sort == PAIRS_SORT_FLAG)
		qsort(u->pairs_order, u->pairs_shown, sizeof(size_t), by_flag);
	/* the cursor stays on its pair when the order changed around it */
	for (k = 0; keep != SIZE_MAX && k < u->pairs_shown; k++)
		if (u->pairs_order[k] == keep)
			u->pairs_cur = k;
	if (u->pairs_cur >= u->pairs_shown)
		u->pairs_cur = u->pairs_shown ? u->pairs_shown - 1 : 0;
}

void pairs_release(struct tui *u)
{
	pairs_result_release(&u->pairs);
	memset(&u->pairs, 0, sizeof(u->pairs));
	free(u->pairs_order);
	u->pairs_order = NULL;
	u->pairs_shown = u->pairs_cur = 0;
	u->pairs_built = 0;
}

unsigned act_pairs(struct tui *u, int arg)
{
	(void)arg;
	u->mode = MODE_PAIRS;
	u->pairs_built = 0;
	u->pairs_cur = 0;
	u->pairs_shown = 0;
	pairs_refresh(u);
	if (!u->pairs.count && !u->msg[0])
		set_msg(u, MSG_INFO, "no question/answer pairs on the chosen path");
	return REDRAW_ALL;
}

unsigned act_pairs_back(struct tui *u, int arg)
{
	(void)arg;
	pairs_release(u);
	u->mode = MODE_NORMAL;
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_pairs_move(struct tui *u, int dir)
{
	pairs_refresh(u);
	if (dir < 0 && u->pairs_cur > 0)
		u->pairs_cur--;
	else if (dir > 0 && u->pairs_cur + 1 < u->pairs_shown)
		u->pairs_cur++;
	return REDRAW_ALL;
}

unsigned act_pairs_page(struct tui *u, int dir)
{
	size_t page = LINES > 4 ? (size_t)LINES - 3 : 1;

	pairs_refresh(u);
	if (dir < 0)
		u->pairs_cur = u->pairs_cur > page ? u->pairs_cur - page : 0;
	else if (u->pairs_shown)
		u->pairs_cur =
		    u->pairs_cur + page < u->pairs_shown ? u->pairs_cur + page : u->pairs_shown - 1;
	return REDRAW_ALL;
}

unsigned act_pairs_ends(struct tui *u, int dir)
{
	pairs_refresh(u);
	u->pairs_cur = dir < 0 || !u->pairs_shown ? 0 : u->pairs_shown - 1;
	return REDRAW_ALL;
}

/* The pair under the cursor and its answer's node, or NULL with the
 * status message set.  The pairs are built again first if the tree
 * changed since (keys typed ahead of a frame). */
static const struct pair *current_pair(struct tui *u, uint32_t *node)
{
	const struct pair *p;

	pairs_refresh(u);
	if (!u->pairs_shown) {
		set_msg(u, MSG_INFO, "no pair here");
		return NULL;
	}
	p = &u->pairs.pairs[u->pairs_order[u->pairs_cur]];
	*node = p->node_id ? tree_find(u->t, p->node_id) : TREE_NONE;
	if (*node == TREE_NONE) {
		set_msg(u, MSG_ERROR, "pair %zu: its answer's node is not in the tree",
			u->pairs_order[u->pairs_cur] + 1);
		return NULL;
	}
	return p;
}

/* Records the person's decision m on the pair under the cursor (one
 * undoable change, journalled). */
static unsigned decide(struct tui *u, uint32_t node, struct pairstore_mark *m, const char *what)
{
	struct errbuf err;
	size_t number = u->pairs_order[u->pairs_cur] + 1;

	m->by = PAIRSTORE_BY_PERSON;
	if (pairstore_set(u->t, &u->hist, node, m, NULL, &err) < 0) {
		set_msg(u, MSG_ERROR, "pair %zu: %s", number, err.msg);
		return REDRAW_STATUS;
	}
	mark_changed(u);
	set_msg(u, MSG_INFO, "pair %zu %s (u undoes)", number, what);
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned act_pairs_reject(struct tui *u, int arg)
{
	struct pairstore_mark m;
	uint32_t node;
	const struct pair *p = current_pair(u, &node);

	(void)arg;
	if (!p)
		return REDRAW_STATUS;
	memset(&m, 0, sizeof(m));
	m.question = p->question;
	m.decision = p->decision == PAIRSTORE_REJECTED ? PAIRSTORE_KEPT : PAIRSTORE_REJECTED;
	return decide(u, node, &m, m.decision == PAIRSTORE_KEPT ? "kept" : "rejected");
}

unsigned act_pairs_relabel(struct tui *u, int arg)
{
	struct pairstore_mark m;
	uint32_t node;
	const struct pair *p = current_pair(u, &node);
	size_t own, next;

	(void)arg;
	if (!p)
		return REDRAW_STATUS;
	own = p->relabelled ? p->original_class : p->class_index;
	next = (p->class_index + 1) % u->pairs.nlabels;
	memset(&m, 0, sizeof(m));
	m.question = p->question;
	if (next == own) {
		m.decision = PAIRSTORE_KEPT;
		return decide(u, node, &m, "has its own label again");
	}
	m.decision = PAIRSTORE_RELABELLED;
	m.label = u->pairs.labels[next];
	return decide(u, node, &m, "relabelled");
}

/* Pairs after index k whose answers are in later nodes than node's: an
 * edit of node makes a new sibling without them, so the chosen path, and
 * the dataset, end at the edit. */
static size_t pairs_after(const struct tui *u, size_t k, uint32_t node)
{
	const char *id = tree_node(u->t, node)->id;
	size_t i, n = 0;

	for (i = k + 1; i < u->pairs.count; i++)
		if (!u->pairs.pairs[i].node_id || strcmp(u->pairs.pairs[i].node_id, id))
			n++;
	return n;
}

/* e: edits the pair's node as a new sibling, as e does in the tree.  When
 * later pairs would leave the dataset, the first e says how many and a
 * second e in a row edits. */
unsigned act_pairs_edit(struct tui *u, int arg)
{
	uint32_t node;
	size_t k, later;

	(void)arg;
	if (!current_pair(u, &node))
		return REDRAW_STATUS;
	k = u->pairs_order[u->pairs_cur];
	later = pairs_after(u, k, node);
	if (later && u->pairs_edit_armed != node + 1) {
		u->pairs_edit_armed = node + 1;
		set_msg(u, MSG_INFO,
			"the edit ends the path at pair %zu: %zu later pair%s leave%s the dataset "
			"(they stay in the tree); e again edits",
			k + 1, later, later == 1 ? "" : "s", later == 1 ? "s" : "");
		return REDRAW_STATUS;
	}
	u->pairs_edit_armed = 0;
	focus_on(u, node);
	return act_edit(u, 0);
}

unsigned act_pairs_jump(struct tui *u, int arg)
{
	uint32_t node;

	(void)arg;
	if (!current_pair(u, &node))
		return REDRAW_STATUS;
	pairs_release(u);
	u->mode = MODE_NORMAL;
	focus_on(u, node);
	return REDRAW_ALL;
}

unsigned act_pairs_sort(struct tui *u, int arg)
{
	(void)arg;
	u->pairs_sort = (u->pairs_sort + 1) % PAIRS_SORT_COUNT;
	pairs_refresh(u);
	set_msg(u, MSG_INFO, "pairs %s", sort_names[u->pairs_sort]);
	return REDRAW_ALL;
}

unsigned act_pairs_filter(struct tui *u, int arg)
{
	(void)arg;
	u->pairs_flagged_only = !u->pairs_flagged_only;
	pairs_refresh(u);
	set_msg(u, MSG_INFO, u->pairs_flagged_only ? "flagged pairs only" : "all pairs");
	return REDRAW_ALL;
}

/* ---- drawing ------------------------------------------------------------- */

/* The flags column of p (ASCII). */
static void pair_flags(const struct pair *p, char *buf, size_t size)
{
	int n = 0;

	buf[0] = '\0';
	if (p->near_dup)
		n += snprintf(buf + n, size - (size_t)n, " near #%zu", p->near_of + 1);
	if (p->has_verdict && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " p %.2f", p->verify_p);
	if (p->decision != PAIRSTORE_KEPT && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %s by %s",
			 pairstore_decision_name(p->decision), pairstore_by_name(p->decided_by));
}

static void draw_pair_line(const struct tui *u, size_t index, int y, int focus)
{
	const struct pair *p = &u->pairs.pairs[index];
	const char *label = u->pairs.labels[p->class_index];
	char num[16], flags[96];
	int x, room;

	wattrset(stdscr, role_attr(u, focus				  ? THEME_SELECTED
				      : p->decision == PAIRSTORE_REJECTED ? THEME_BROWSE
				      : pair_flagged(p)			  ? THEME_MATCH
									  : THEME_NORMAL));
	wmove(stdscr, y, 0);
	snprintf(num, sizeof(num), "%4zu ", index + 1);
	put_ascii(stdscr, num, COLS);
	put_untrusted(stdscr, label, strlen(label),
		      p->relabelled ? PAIRS_LABEL_COLS / 2 : PAIRS_LABEL_COLS);
	if (p->relabelled) {
		const char *was = u->pairs.labels[p->original_class];

		put_text(stdscr, "\xe2\x86\x90", 3, 1); /* ← */
		put_untrusted(stdscr, was, strlen(was), PAIRS_LABEL_COLS / 2);
	}
	fill_to(stdscr, y, 5 + PAIRS_LABEL_COLS + 1);
	wmove(stdscr, y, 5 + PAIRS_LABEL_COLS + 1);
	pair_flags(p, flags, sizeof(flags));
	room = COLS - (5 + PAIRS_LABEL_COLS + 1) - (int)strlen(flags) - 1;
	if (room > 0)
		put_untrusted(stdscr, p->question, strlen(p->question), room);
	fill_to(stdscr, y, COLS - (int)strlen(flags));
	x = COLS - (int)strlen(flags);
	if (x > 5 + PAIRS_LABEL_COLS) {
		wmove(stdscr, y, x);
		put_ascii(stdscr, flags, (int)strlen(flags));
	}
}

void draw_pairs(const struct tui *u)
{
	int h = LINES - 3, row;
	size_t first, k, done, count;
	char title[160], progress[64] = "";

	erase();
	wattrset(stdscr, role_attr(u, THEME_BORDER));
	if (pairs_verify_progress(u, &done, &count))
		snprintf(progress, sizeof(progress), ", verifying %zu of %zu", done, count);
	snprintf(title, sizeof(title),
		 " pairs of the chosen path: %zu (%zu rejected, %zu relabelled), %s%s%s  "
		 "(q back, ? keys)",
		 u->pairs.count, u->pairs.rejected, u->pairs.relabelled, sort_names[u->pairs_sort],
		 u->pairs_flagged_only ? ", flagged only" : "", progress);
	wmove(stdscr, 0, 0);
	put_ascii(stdscr, title, COLS);
	if (h < 1) {
		draw_status(u, LINES - 1, COLS);
		return;
	}
	first = u->pairs_cur >= (size_t)h ? u->pairs_cur - (size_t)h + 1 : 0;
	for (row = 0, k = first; row < h && k < u->pairs_shown; row++, k++)
		draw_pair_line(u, u->pairs_order[k], 2 + row, k == u->pairs_cur);
	if (!u->pairs_shown) {
		wattrset(stdscr, role_attr(u, THEME_HELP));
		wmove(stdscr, 2, 2);
		put_ascii(stdscr,
			  u->pairs_flagged_only ? "no flagged pairs (f shows all)"
						: "no question/answer pairs on the chosen path",
			  COLS - 2);
	}
	draw_status(u, LINES - 1, COLS);
}

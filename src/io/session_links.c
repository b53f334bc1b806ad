/*
 * Once every node is read (session_load.h): parents and children linked
 * and checked to form one tree, each step's candidates and picks resolved,
 * then "edges" and "pathNodes" read against the tree.
 */
#include "weft/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/xalloc.h"

#include "session_load.h"

static int mark_reached(const struct tree *t, uint32_t i, void *ctx)
{
	uint8_t *seen = ctx;

	(void)t;
	seen[i] = 1;
	return 0;
}

static int report_cycle(struct loader *l)
{
	struct tree *t = l->t;
	uint8_t *seen = xcalloc(t->count, 1);
	uint32_t i, u = TREE_NONE;
	int r;

	tree_walk(t, mark_reached, seen);
	for (i = 0; i < t->count && u == TREE_NONE; i++)
		if (!seen[i])
			u = i;
	if (u == TREE_NONE) {
		free(seen);
		return 0;
	}
	/* follow parents until a node repeats: it lies on the cycle */
	while (seen[u] != 2) {
		seen[u] = 2;
		u = t->nodes[u].parent;
	}
	r = loader_node_error(l, t->nodes[u].id,
			      "cycle in parent links (not reachable from the root)");
	free(seen);
	return r;
}

static uint32_t count_reached(const struct tree *t)
{
	uint32_t n = 0, i = t->root, next;

	/* preorder over every node, pruned or not */
	for (;;) {
		n++;
		next = t->nodes[i].first_child;
		if (next != TREE_NONE) {
			i = next;
			continue;
		}
		while (i != t->root && t->nodes[i].next_sibling == TREE_NONE)
			i = t->nodes[i].parent;
		if (i == t->root)
			return n;
		i = t->nodes[i].next_sibling;
	}
}

/*
 * The node named pid, the parent of node i.  In a file written in preorder
 * (weft's, Bonsai's) a node's parent is the node before it or one of that
 * node's ancestors, whose ids are still in the cache: those are tried
 * first, then the hash table.
 */
static uint32_t find_parent(const struct loader *l, uint32_t i, const char *pid)
{
	const struct tree *t = l->t;
	uint32_t c = i ? i - 1 : TREE_NONE;
	int tries;

	for (tries = 0; tries < 8 && c != TREE_NONE; tries++) {
		if (!strcmp(t->nodes[c].id, pid))
			return c;
		c = l->pn[c].parent_idx;
	}
	return tree_find(t, pid);
}

/* Resolves every node's parentIds[0]; finds the root (tree's root set). */
static int resolve_parents(struct loader *l)
{
	struct tree *t = l->t;
	uint32_t i, root = TREE_NONE;
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];

	if (!t->count)
		return loader_file_error(l, "no root: \"nodes\" is empty");
	for (i = 0; i < t->count; i++) {
		struct pending_node *pn = &l->pn[i];

		if (pn->nparents > 1)
			return loader_node_error(l, t->nodes[i].id,
						 "has %u parents in \"parentIds\"", pn->nparents);
		if (!pn->nparents) {
			if (root != TREE_NONE)
				return loader_file_error(
				    l, "two roots: '%s' and '%s' have no parent",
				    SHOW(t->nodes[root].id, b1), SHOW(t->nodes[i].id, b2));
			root = i;
			continue;
		}
		pn->parent_idx = find_parent(l, i, pool_str(l, pn->parent));
		if (pn->parent_idx == TREE_NONE)
			return loader_node_error(l, t->nodes[i].id,
						 "\"parentIds\" names '%s', which is not a node",
						 SHOW(pool_str(l, pn->parent), b1));
		if (pn->parent_idx == i)
			return loader_node_error(l, t->nodes[i].id, "is its own parent (a cycle)");
	}
	if (root == TREE_NONE)
		return loader_file_error(l, "no root: every node has a parent (a cycle?)");
	tree_set_root(t, root);
	return 0;
}

/* Links node i's childrenIds one by one, each through a hash lookup,
 * checking it names i in its parentIds. */
static int link_kids(struct loader *l, uint32_t i)
{
	struct tree *t = l->t;
	const struct pending_node *pn = &l->pn[i];
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	size_t k;

	for (k = 0; k < pn->nkids; k++) {
		const char *cid = pool_str(l, l->offs[pn->kids + k]);
		uint32_t c = tree_find(t, cid);

		if (c == TREE_NONE)
			return loader_node_error(l, t->nodes[i].id,
						 "\"childrenIds\" names '%s', which is not a node",
						 SHOW(cid, b1));
		if (l->pn[c].parent_idx != i) {
			if (l->pn[c].parent_idx == TREE_NONE)
				return loader_node_error(l, t->nodes[i].id,
							 "\"childrenIds\" lists '%s', which has no "
							 "parent in its \"parentIds\"",
							 SHOW(cid, b1));
			return loader_node_error(l, t->nodes[i].id,
						 "\"childrenIds\" lists '%s', whose \"parentIds\" "
						 "names '%s'",
						 SHOW(cid, b1),
						 SHOW(t->nodes[l->pn[c].parent_idx].id, b2));
		}
		if (t->nodes[c].parent != TREE_NONE)
			return loader_node_error(l, t->nodes[i].id,
						 "\"childrenIds\" lists '%s' twice", SHOW(cid, b1));
		tree_link(t, i, c);
	}
	return 0;
}

/*
 * Links every node to its children.  Fast path: the children each node's
 * parentIds give, in file order (bucketed by parent), usually are its
 * childrenIds in the same order; then one strcmp each links them, without
 * a hash lookup.
 */
static int link_children(struct loader *l)
{
	struct tree *t = l->t;
	uint32_t i, *start, *order;
	size_t k;
	int r = 0;

	start = xcalloc((size_t)t->count + 1, sizeof(*start));
	order = xreallocarray(NULL, t->count, sizeof(*order));
	for (i = 0; i < t->count; i++)
		if (l->pn[i].parent_idx != TREE_NONE)
			start[l->pn[i].parent_idx + 1]++;
	for (i = 0; i < t->count; i++)
		start[i + 1] += start[i];
	for (i = 0; i < t->count; i++) {
		uint32_t p = l->pn[i].parent_idx;

		if (p != TREE_NONE)
			order[start[p]++] = i;
	}
	/* start[p] now is the end of p's bucket; the bucket begins at end - count */
	for (i = 0; i < t->count && !r; i++) {
		const struct pending_node *pn = &l->pn[i];
		uint32_t end = start[i], begin = i ? start[i - 1] : 0;

		if (end - begin == pn->nkids) {
			for (k = 0; k < pn->nkids; k++)
				if (strcmp(pool_str(l, l->offs[pn->kids + k]),
					   t->nodes[order[begin + k]].id))
					break;
			if (k == pn->nkids) {
				for (k = 0; k < pn->nkids; k++)
					tree_link(t, i, order[begin + k]);
				continue;
			}
		}
		r = link_kids(l, i);
	}
	free(start);
	free(order);
	return r;
}

int loader_resolve_links(struct loader *l)
{
	struct tree *t = l->t;
	char b1[ID_SHOW * 4 + 16];
	uint32_t i;

	if (resolve_parents(l) || link_children(l))
		return -1;
	for (i = 0; i < t->count; i++)
		if (i != t->root && t->nodes[i].parent == TREE_NONE)
			return loader_node_error(
			    l, t->nodes[i].id,
			    "\"parentIds\" names '%s', whose \"childrenIds\" does "
			    "not list it",
			    SHOW(t->nodes[l->pn[i].parent_idx].id, b1));
	if (count_reached(t) != t->count)
		return report_cycle(l);
	return 0;
}

int loader_resolve_steps(struct loader *l)
{
	struct tree *t = l->t;
	char b[ID_SHOW * 4 + 16];
	size_t j, j2, k;

	for (j = 0; j < l->nps; j++) {
		const struct pending_step *ps = &l->ps[j];
		struct tree_step *s = t->nodes[ps->node].step;
		const char *owner = t->nodes[ps->node].id;
		size_t offs[2] = {ps->judge, ps->final};
		uint32_t *picks[2] = {&s->judge_pick, &s->final_pick};

		uint32_t next = t->nodes[ps->node].first_child;

		for (k = 0; k < s->count; k++) {
			const char *cid = pool_str(l, l->offs[ps->cands + k]);
			uint32_t c;

			/* candidates usually are the children, in order */
			if (next != TREE_NONE && !strcmp(cid, t->nodes[next].id))
				c = next;
			else
				c = tree_find(t, cid);
			if (c != TREE_NONE)
				next = t->nodes[c].next_sibling;

			if (c == TREE_NONE)
				return loader_node_error(
				    l, owner,
				    "\"weft.step.candidates\" names '%s', which is "
				    "not a node",
				    SHOW(cid, b));
			if (t->nodes[c].parent != ps->node)
				return loader_node_error(
				    l, owner, "step candidate '%s' is not a child of this node",
				    SHOW(cid, b));
			s->candidates[k] = c;
		}
		for (k = 0; k < 2; k++) {
			const char *pid;
			uint32_t c;

			if (offs[k] == NO_OFF)
				continue;
			pid = pool_str(l, offs[k]);
			c = TREE_NONE;
			for (j2 = 0; j2 < s->count && c == TREE_NONE; j2++)
				if (!strcmp(pid, t->nodes[s->candidates[j2]].id))
					c = s->candidates[j2];
			if (c == TREE_NONE)
				c = tree_find(t, pid);
			if (c == TREE_NONE)
				return loader_node_error(
				    l, owner, "\"weft.step.%s\" names '%s', which is not a node",
				    k ? "finalPick" : "judgePick", SHOW(pid, b));
			if (t->nodes[c].parent != ps->node)
				return loader_node_error(
				    l, owner, "\"weft.step.%s\" '%s' is not a child of this node",
				    k ? "finalPick" : "judgePick", SHOW(pid, b));
			*picks[k] = c;
		}
	}
	return 0;
}

int loader_edge(struct loader *l, const struct jdoc *d, const char *start, size_t index)
{
	uint32_t from, to, rel;
	const char *fs, *ts;
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	uint32_t f, c;

	(void)start;
	if (!jv_is(d, 0, JV_OBJECT))
		return loader_file_error(l, "edges[%zu]: not an object", index);
	from = jdoc_member(d, 0, "from");
	to = jdoc_member(d, 0, "to");
	rel = jdoc_member(d, 0, "relation");
	if (!from || !to || !jv_is(d, from, JV_STRING) || !jv_is(d, to, JV_STRING))
		return loader_file_error(l, "edges[%zu]: \"from\" and \"to\" must be strings",
					 index);
	if (rel && !jv_is(d, rel, JV_STRING))
		return loader_file_error(l, "edges[%zu]: \"relation\" is not a string", index);
	if (rel && strcmp(jv_str(d, rel), "parentId"))
		return 0; /* not a parent link: not ours to check */
	fs = jv_str(d, from);
	ts = jv_str(d, to);
	/* edges usually list the nodes in file order: try the next one first */
	c = l->edge_next;
	if (c == l->t->root)
		c++;
	if (c >= l->t->count || strcmp(l->t->nodes[c].id, ts))
		c = tree_find(l->t, ts);
	if (c != TREE_NONE)
		l->edge_next = c + 1;
	f = c == TREE_NONE ? TREE_NONE : l->t->nodes[c].parent;
	if (f == TREE_NONE || strcmp(l->t->nodes[f].id, fs))
		f = tree_find(l->t, fs);
	if (f == TREE_NONE)
		return loader_file_error(l, "edges[%zu]: \"from\" names '%s', which is not a node",
					 index, SHOW(fs, b1));
	if (c == TREE_NONE)
		return loader_file_error(l, "edges[%zu]: \"to\" names '%s', which is not a node",
					 index, SHOW(ts, b1));
	if (l->t->nodes[c].parent != f)
		return loader_file_error(l,
					 "edges[%zu]: edge '%s' -> '%s' disagrees with childrenIds",
					 index, SHOW(fs, b1), SHOW(ts, b2));
	if (l->edge_seen[c])
		return loader_file_error(l, "edges[%zu]: edge '%s' -> '%s' appears twice", index,
					 SHOW(fs, b1), SHOW(ts, b2));
	l->edge_seen[c] = 1;
	l->nedges++;
	return 0;
}

int loader_path_node(struct loader *l, const struct jdoc *d, const char *start, size_t index)
{
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	const char *id;
	uint32_t i;

	(void)start;
	if (!jv_is(d, 0, JV_STRING))
		return loader_file_error(l, "pathNodes[%zu]: not a string", index);
	id = jv_str(d, 0);
	i = TREE_NONE;
	if (index) { /* usually one of the previous node's first few children */
		uint32_t c = l->t->nodes[l->path_idx[index - 1]].first_child;
		int tries;

		for (tries = 0; c != TREE_NONE && tries < 8; tries++) {
			if (!strcmp(l->t->nodes[c].id, id)) {
				i = c;
				break;
			}
			c = l->t->nodes[c].next_sibling;
		}
	}
	if (i == TREE_NONE)
		i = tree_find(l->t, id);
	if (i == TREE_NONE)
		return loader_file_error(l, "pathNodes[%zu]: '%s' is not a node", index,
					 SHOW(id, b1));
	if (!index && i != l->t->root)
		return loader_file_error(l, "pathNodes[0]: '%s' is not the root", SHOW(id, b1));
	if (index && l->t->nodes[i].parent != l->path_idx[index - 1])
		return loader_file_error(l, "pathNodes[%zu]: '%s' is not a child of '%s'", index,
					 SHOW(id, b1),
					 SHOW(l->t->nodes[l->path_idx[index - 1]].id, b2));
	XGROW(l->path_idx, l->path_cap, l->path_len + 1);
	l->path_idx[l->path_len++] = i;
	return 0;
}

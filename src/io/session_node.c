/*
 * Loading one element of "nodes" (session_load.h): its id, text, the ids of
 * its links (kept in the pool until every node is read), and its "weft"
 * fields and step.
 */
#include "weft/session.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/pairstore.h"
#include "weft/xalloc.h"

#include "session_load.h"

static size_t pool_add(struct loader *l, const char *s)
{
	size_t off = l->pool.len;

	strbuf_add(&l->pool, s, strlen(s) + 1);
	return off;
}

static void offs_push(struct loader *l, size_t off)
{
	XGROW(l->offs, l->offs_cap, l->noffs + 1);
	l->offs[l->noffs++] = off;
}

/* An integer-valued number in [lo, hi]. */
static int is_int(const struct jdoc *d, uint32_t v, double lo, double hi)
{
	double x = d->v[v].num;

	return jv_is(d, v, JV_NUMBER) && x >= lo && x <= hi && x == floor(x);
}

/* Reads one member c of a step other than its candidates and scores:
 * into s, ps (picks to resolve) or extra (unknown keys). */
static int load_step_member(struct loader *l, const char *id, const struct jdoc *d, uint32_t c,
			    struct tree_step *s, struct pending_step *ps, struct strbuf *extra)
{
	const char *key = jv_key(d, c);

	if (KEY_IS(d, c, "judgeRaw") || KEY_IS(d, c, "judgePrompt") || KEY_IS(d, c, "rank") ||
	    KEY_IS(d, c, "needsHuman")) {
		char **field = KEY_IS(d, c, "judgeRaw")	     ? &s->judge_raw
			       : KEY_IS(d, c, "judgePrompt") ? &s->judge_prompt
			       : KEY_IS(d, c, "rank")	     ? &s->rank_mode
							     : &s->needs_human;
		if (jv_is(d, c, JV_NULL))
			return 0;
		if (!jv_is(d, c, JV_STRING))
			goto bad_type;
		tree_step_set_str(field, jv_str(d, c));
	} else if (KEY_IS(d, c, "judgePick") || KEY_IS(d, c, "finalPick")) {
		size_t *off = key[0] == 'j' ? &ps->judge : &ps->final;

		if (jv_is(d, c, JV_NULL))
			return 0;
		if (!jv_is(d, c, JV_STRING))
			goto bad_type;
		*off = pool_add(l, jv_str(d, c));
	} else if (KEY_IS(d, c, "pickedBy")) {
		if (jv_is(d, c, JV_NULL))
			s->picker = TREE_PICKER_NONE;
		else if (jv_is(d, c, JV_STRING) && !strcmp(jv_str(d, c), "ai"))
			s->picker = TREE_PICKER_AI;
		else if (jv_is(d, c, JV_STRING) && !strcmp(jv_str(d, c), "human"))
			s->picker = TREE_PICKER_HUMAN;
		else
			return loader_node_error(l, id,
						 "\"weft.step.pickedBy\" must be \"ai\", \"human\" "
						 "or null");
	} else {
		jdoc_add_member(extra, d, c);
	}
	return 0;
bad_type:
	return loader_node_error(l, id, "\"weft.step.%s\" must be a string or null", key);
}

/* Reads a step's candidates (into the pool, *n of them) and scores. */
static int load_step_lists(struct loader *l, const char *id, const struct jdoc *d, uint32_t cands,
			   uint32_t scores, struct tree_step *s, size_t *n)
{
	uint32_t c;
	size_t k;

	if (cands) {
		if (!jv_is(d, cands, JV_ARRAY))
			return loader_node_error(l, id, "\"weft.step.candidates\" is not an array");
		for (c = d->v[cands].child; c; c = d->v[c].next) {
			if (!jv_is(d, c, JV_STRING))
				return loader_node_error(l, id,
							 "\"weft.step.candidates\" holds a "
							 "non-string");
			offs_push(l, pool_add(l, jv_str(d, c)));
			(*n)++;
		}
	}
	if (scores) {
		if (!jv_is(d, scores, JV_ARRAY))
			return loader_node_error(l, id, "\"weft.step.scores\" is not an array");
		if (d->v[scores].count != *n)
			return loader_node_error(
			    l, id, "\"weft.step.scores\" has %d entries for %zu candidates",
			    (int)d->v[scores].count, *n);
		s->scores = xreallocarray(NULL, *n ? *n : 1, sizeof(*s->scores));
		for (c = d->v[scores].child, k = 0; c; c = d->v[c].next, k++) {
			if (!jv_is(d, c, JV_NUMBER))
				return loader_node_error(l, id,
							 "\"weft.step.scores\" holds a "
							 "non-number");
			s->scores[k] = d->v[c].num;
		}
	}
	return 0;
}

static int load_step(struct loader *l, uint32_t i, const struct jdoc *d, uint32_t o)
{
	const char *id = tree_node(l->t, i)->id;
	uint32_t cands = 0, scores = 0, c;
	struct pending_step ps = {i, l->noffs, NO_OFF, NO_OFF};
	struct strbuf extra = STRBUF_INIT;
	struct tree_step *s;
	size_t n = 0, k;

	if (!jv_is(d, o, JV_OBJECT))
		return loader_node_error(l, id, "\"weft.step\" is not an object");
	s = tree_step_get(l->t, i);
	for (c = d->v[o].child; c; c = d->v[c].next) {
		if (KEY_IS(d, c, "candidates")) {
			cands = c;
		} else if (KEY_IS(d, c, "scores")) {
			scores = c;
		} else if (load_step_member(l, id, d, c, s, &ps, &extra)) {
			strbuf_release(&extra);
			return -1;
		}
	}
	if (extra.len)
		s->extra_json = strbuf_detach(&extra, NULL);
	strbuf_release(&extra);
	if (load_step_lists(l, id, d, cands, scores, s, &n))
		return -1;
	s->candidates = xreallocarray(NULL, n ? n : 1, sizeof(*s->candidates));
	for (k = 0; k < n; k++)
		s->candidates[k] = TREE_NONE;
	s->count = n;
	XGROW(l->ps, l->ps_cap, l->nps + 1);
	l->ps[l->nps++] = ps;
	return 0;
}

/*
 * The arena copy of s for a node's string field: the previous node's copy
 * when it holds the same bytes (a model, a finish reason or a group is
 * usually the same for thousands of nodes), else a new one kept in *last.
 */
static const char *shared_string(struct tree *t, const char **last, const char *s, size_t len)
{
	if (!*last || strcmp(*last, s))
		*last = tree_intern(t, s, len);
	return *last;
}

/* "weft.usage": {"prompt": int, "completion": int}, other keys ignored. */
static int load_usage(struct loader *l, struct tree_node *n, const struct jdoc *d, uint32_t c)
{
	uint32_t pt = jv_is(d, c, JV_OBJECT) ? jdoc_member(d, c, "prompt") : 0;
	uint32_t ct = jv_is(d, c, JV_OBJECT) ? jdoc_member(d, c, "completion") : 0;

	if (!jv_is(d, c, JV_OBJECT) || (pt && !is_int(d, pt, 0, UINT32_MAX)) ||
	    (ct && !is_int(d, ct, 0, UINT32_MAX)))
		return loader_node_error(l, n->id,
					 "\"weft.usage\" must be {\"prompt\": int, "
					 "\"completion\": int}");
	n->prompt_tokens = pt ? (uint32_t)d->v[pt].num : 0;
	n->completion_tokens = ct ? (uint32_t)d->v[ct].num : 0;
	n->flags |= TREE_HAS_USAGE;
	return 0;
}

/* One member c of a node's "weft" with a number or true/false value. */
static int load_weft_scalar(struct loader *l, uint32_t i, const struct jdoc *d, uint32_t c,
			    const char *key)
{
	struct tree_node *n = tree_node(l->t, i);
	double x = d->v[c].num;

	if (KEY_IS(d, c, "temperature")) {
		if (!jv_is(d, c, JV_NUMBER))
			return loader_node_error(l, n->id, "\"weft.temperature\" is not a number");
		n->temperature = (float)x;
		n->flags |= TREE_HAS_TEMPERATURE;
	} else if (KEY_IS(d, c, "score")) {
		if (!jv_is(d, c, JV_NUMBER))
			return loader_node_error(l, n->id, "\"weft.score\" is not a number");
		n->score = x;
		n->flags |= TREE_HAS_SCORE;
	} else if (KEY_IS(d, c, "rank")) {
		if (!is_int(d, c, 0, INT32_MAX))
			return loader_node_error(l, n->id,
						 "\"weft.rank\" is not a positive integer");
		n->rank = (int32_t)x;
		n->flags |= TREE_HAS_SCORE;
	} else if (KEY_IS(d, c, "merged")) {
		if (!is_int(d, c, 0, UINT32_MAX))
			return loader_node_error(l, n->id, "\"weft.merged\" is not a count");
		n->merged = (uint32_t)x;
	} else if (KEY_IS(d, c, "created")) {
		if (!is_int(d, c, -9e15, 9e15))
			return loader_node_error(l, n->id, "\"weft.created\" is not Unix seconds");
		n->created = (int64_t)x;
	} else {
		uint32_t flag = key[0] == 'j'	? TREE_JUDGE_PICK
				: key[0] == 'h' ? TREE_HUMAN_PICK
				: key[0] == 'b' ? TREE_BOOKMARK
						: TREE_EDITED;

		if (!jv_is_bool(d, c))
			return loader_node_error(l, n->id, "\"weft.%s\" is not true or false", key);
		tree_set_flag(l->t, i, flag, jv_is(d, c, JV_TRUE));
	}
	return 0;
}

static int load_node_weft(struct loader *l, uint32_t i, const struct jdoc *d, uint32_t o,
			  const char **weft_extra, struct strbuf *extra)
{
	struct tree_node *n = tree_node(l->t, i);
	const char *id = n->id;
	uint32_t c;

	if (!jv_is(d, o, JV_OBJECT))
		return loader_node_error(l, id, "\"weft\" is not an object");
	for (c = d->v[o].child; c; c = d->v[c].next) {
		const char *key = jv_key(d, c);

		if (KEY_IS(d, c, "model") || KEY_IS(d, c, "finish")) {
			if (!jv_is(d, c, JV_STRING))
				return loader_node_error(l, id, "\"weft.%s\" is not a string", key);
			if (key[0] == 'm')
				n->model =
				    shared_string(l->t, &l->last_model, jv_str(d, c), d->v[c].len);
			else
				n->finish_reason =
				    shared_string(l->t, &l->last_finish, jv_str(d, c), d->v[c].len);
		} else if (KEY_IS(d, c, "usage")) {
			if (load_usage(l, n, d, c))
				return -1;
		} else if (KEY_IS(d, c, "temperature") || KEY_IS(d, c, "score") ||
			   KEY_IS(d, c, "rank") || KEY_IS(d, c, "merged") ||
			   KEY_IS(d, c, "created") || KEY_IS(d, c, "judgePick") ||
			   KEY_IS(d, c, "humanPick") || KEY_IS(d, c, "bookmark") ||
			   KEY_IS(d, c, "edited")) {
			if (load_weft_scalar(l, i, d, c, key))
				return -1;
		} else if (KEY_IS(d, c, "step")) {
			if (n->step)
				return loader_node_error(l, id, "\"weft.step\" appears twice");
			if (load_step(l, i, d, c))
				return -1;
		} else {
			jdoc_add_member(extra, d, c);
		}
	}
	if (extra->len) {
		struct errbuf e;

		if (pairstore_check_json(extra->data, &e))
			return loader_node_error(l, id, "%s", e.msg);
	}
	*weft_extra = extra->len ? extra->data : NULL;
	return 0;
}

/* Whether the raw JSON in [s, e) spells a \u0000 escape. */
static int has_nul_escape(const char *s, const char *e)
{
	const char *q = s;

	while ((q = memchr(q, '\\', (size_t)(e - q))) && e - q >= 6) {
		if (!memcmp(q, "\\u0000", 6))
			return 1;
		q += 2; /* skip the escaped character (also an escaped backslash) */
	}
	return 0;
}

/* The keys of a node weft reads (values of the jdoc, 0 when absent); any
 * other goes to its extra. */
struct node_keys {
	uint32_t id, text, parents, kids, visited, group, weft;
};

/* Sorts o's members into k and extra; -1 for a key given twice. */
static int sort_keys(struct loader *l, const struct jdoc *d, size_t index, struct node_keys *k,
		     struct strbuf *extra)
{
	uint32_t c;

	for (c = d->v[0].child; c; c = d->v[c].next) {
		uint32_t *slot = NULL;
		const char *key = jv_key(d, c);

		if (KEY_IS(d, c, "id"))
			slot = &k->id;
		else if (KEY_IS(d, c, "text"))
			slot = &k->text;
		else if (KEY_IS(d, c, "parentIds"))
			slot = &k->parents;
		else if (KEY_IS(d, c, "childrenIds"))
			slot = &k->kids;
		else if (KEY_IS(d, c, "lastVisited"))
			slot = &k->visited;
		else if (KEY_IS(d, c, "group"))
			slot = &k->group;
		else if (KEY_IS(d, c, "weft"))
			slot = &k->weft;
		if (!slot) {
			jdoc_add_member(extra, d, c);
			continue;
		}
		if (*slot)
			return loader_file_error(l, "nodes[%zu]: key \"%s\" appears twice", index,
						 key);
		*slot = c;
	}
	return 0;
}

/* Checks the id and the text of the node that starts at start. */
static int check_id_text(struct loader *l, const struct jdoc *d, const struct node_keys *k,
			 const char *start, size_t index)
{
	if (!k->id)
		return loader_file_error(l, "nodes[%zu]: missing \"id\"", index);
	if (!jv_is(d, k->id, JV_STRING))
		return loader_file_error(l, "nodes[%zu]: \"id\" is not a string", index);
	if (!jv_str(d, k->id)[0])
		return loader_file_error(l, "nodes[%zu]: \"id\" is empty", index);
	loader_check_utf8(l, l->p);
	if (l->bad_utf8 != NO_OFF && l->base + l->bad_utf8 >= start && l->base + l->bad_utf8 < l->p)
		return loader_node_error(l, jv_str(d, k->id),
					 "invalid UTF-8 (or a NUL byte) at byte %zu", l->bad_utf8);
	if (has_nul_escape(start, l->p))
		return loader_node_error(l, jv_str(d, k->id),
					 "a string holds \\u0000, which weft cannot keep");
	if (!k->text)
		return loader_node_error(l, jv_str(d, k->id), "missing \"text\"");
	if (!jv_is(d, k->text, JV_STRING))
		return loader_node_error(l, jv_str(d, k->id), "\"text\" is not a string");
	return 0;
}

/* Keeps node i's parentIds and childrenIds in the pool, to be resolved
 * once every node is read. */
static int pend_links(struct loader *l, uint32_t i, const struct jdoc *d, const struct node_keys *k)
{
	const char *id = jv_str(d, k->id);
	struct pending_node *pn;
	uint32_t c;

	XGROW(l->pn, l->pn_cap, (size_t)i + 1);
	pn = &l->pn[i];
	memset(pn, 0, sizeof(*pn));
	pn->parent = NO_OFF;
	pn->parent_idx = TREE_NONE;
	pn->kids = l->noffs;
	if (k->parents) {
		if (!jv_is(d, k->parents, JV_ARRAY))
			return loader_node_error(l, id, "\"parentIds\" is not an array");
		for (c = d->v[k->parents].child; c; c = d->v[c].next) {
			if (!jv_is(d, c, JV_STRING))
				return loader_node_error(l, id, "\"parentIds\" holds a non-string");
			if (!pn->nparents)
				pn->parent = pool_add(l, jv_str(d, c));
			pn->nparents++;
		}
	}
	if (k->kids) {
		if (!jv_is(d, k->kids, JV_ARRAY))
			return loader_node_error(l, id, "\"childrenIds\" is not an array");
		for (c = d->v[k->kids].child; c; c = d->v[c].next) {
			if (!jv_is(d, c, JV_STRING))
				return loader_node_error(l, id,
							 "\"childrenIds\" holds a non-string");
			offs_push(l, pool_add(l, jv_str(d, c)));
			pn->nkids++;
		}
	}
	return 0;
}

/* Node i's lastVisited and group. */
static int load_visited_group(struct loader *l, uint32_t i, const struct jdoc *d,
			      const struct node_keys *k)
{
	const char *id = jv_str(d, k->id);

	if (k->visited) {
		/* Bonsai writes a string of seconds; other looms (tel-0s/damask)
		 * an integer of milliseconds, or null: kept as loaded, as JSON */
		uint32_t v = k->visited;
		struct strbuf *raw = &l->scratch;

		strbuf_reset(raw);
		if (jv_is(d, v, JV_STRING))
			strbuf_add_json_string(raw, jv_str(d, v));
		else if (jv_is(d, v, JV_NULL))
			strbuf_addstr(raw, "null");
		else if (is_int(d, v, -9007199254740992.0, 9007199254740992.0))
			strbuf_addf(raw, "%.0f", d->v[v].num);
		if (!raw->len)
			return loader_node_error(
			    l, id, "\"lastVisited\" is not a string, an integer or null");
		tree_node(l->t, i)->last_visited =
		    shared_string(l->t, &l->last_visited, raw->data, raw->len);
	}
	if (k->group) {
		if (!jv_is(d, k->group, JV_STRING))
			return loader_node_error(l, id, "\"group\" is not a string");
		tree_node(l->t, i)->group =
		    shared_string(l->t, &l->last_group, jv_str(d, k->group), d->v[k->group].len);
	}
	return 0;
}

int loader_node(struct loader *l, const struct jdoc *d, const char *start, size_t index)
{
	struct node_keys k = {0};
	struct strbuf extra = STRBUF_INIT, wextra = STRBUF_INIT;
	const char *weft_extra = NULL;
	uint32_t i;
	int r = -1;

	if (!jv_is(d, 0, JV_OBJECT))
		return loader_file_error(l, "nodes[%zu]: not an object", index);
	/* "id" is usually the first key: its slot comes in while the rest is
	 * checked */
	if (d->v[0].child && KEY_IS(d, d->v[0].child, "id") && jv_is(d, d->v[0].child, JV_STRING))
		tree_prefetch_id(l->t, jv_str(d, d->v[0].child), d->v[d->v[0].child].len);
	if (sort_keys(l, d, index, &k, &extra) || check_id_text(l, d, &k, start, index))
		goto out;
	i = tree_add_detached(l->t, jv_str(d, k.id), jv_str(d, k.text), d->v[k.text].len);
	if (i == TREE_NONE) {
		if (tree_find(l->t, jv_str(d, k.id)) != TREE_NONE)
			loader_node_error(l, jv_str(d, k.id), "duplicate id");
		else
			loader_node_error(l, jv_str(d, k.id), "too many nodes");
		goto out;
	}
	if (pend_links(l, i, d, &k) || load_visited_group(l, i, d, &k))
		goto out;
	if (k.weft && load_node_weft(l, i, d, k.weft, &weft_extra, &wextra))
		goto out;
	if (extra.len || weft_extra)
		tree_set_extra(l->t, i, extra.len ? extra.data : NULL, weft_extra);
	r = 0;
out:
	strbuf_release(&extra);
	strbuf_release(&wextra);
	return r;
}

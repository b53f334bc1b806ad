/*
 * Loading one element of "nodes" (session_load.h): its id, text, the ids of
 * its links (kept in the pool until every node is read), and its "weft"
 * fields and step.
 */
#include "weft/session.h"

#include <cjson/cJSON.h>
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

static void extra_add(struct strbuf *sb, const cJSON *item)
{
	char *v = cJSON_PrintUnformatted(item);

	if (!v)
		xalloc_die("out of memory");
	if (sb->len)
		strbuf_addch(sb, ',');
	strbuf_add_json_string(sb, item->string);
	strbuf_addch(sb, ':');
	strbuf_addstr(sb, v);
	cJSON_free(v);
}

/* An integer-valued number in [lo, hi]. */
static int is_int(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
	       v->valuedouble == floor(v->valuedouble);
}

/* Reads one member c of a step other than its candidates and scores:
 * into s, ps (picks to resolve) or extra (unknown keys). */
static int load_step_member(struct loader *l, const char *id, const cJSON *c, struct tree_step *s,
			    struct pending_step *ps, struct strbuf *extra)
{
	const char *key = c->string;

	if (!strcmp(key, "judgeRaw") || !strcmp(key, "judgePrompt") || !strcmp(key, "rank") ||
	    !strcmp(key, "needsHuman")) {
		char **field = !strcmp(key, "judgeRaw")	     ? &s->judge_raw
			       : !strcmp(key, "judgePrompt") ? &s->judge_prompt
			       : !strcmp(key, "rank")	     ? &s->rank_mode
							     : &s->needs_human;
		if (cJSON_IsNull(c))
			return 0;
		if (!cJSON_IsString(c))
			goto bad_type;
		tree_step_set_str(field, c->valuestring);
	} else if (!strcmp(key, "judgePick") || !strcmp(key, "finalPick")) {
		size_t *off = key[0] == 'j' ? &ps->judge : &ps->final;

		if (cJSON_IsNull(c))
			return 0;
		if (!cJSON_IsString(c))
			goto bad_type;
		*off = pool_add(l, c->valuestring);
	} else if (!strcmp(key, "pickedBy")) {
		if (cJSON_IsNull(c))
			s->picker = TREE_PICKER_NONE;
		else if (cJSON_IsString(c) && !strcmp(c->valuestring, "ai"))
			s->picker = TREE_PICKER_AI;
		else if (cJSON_IsString(c) && !strcmp(c->valuestring, "human"))
			s->picker = TREE_PICKER_HUMAN;
		else
			return loader_node_error(l, id,
						 "\"weft.step.pickedBy\" must be \"ai\", \"human\" "
						 "or null");
	} else {
		extra_add(extra, c);
	}
	return 0;
bad_type:
	return loader_node_error(l, id, "\"weft.step.%s\" must be a string or null", key);
}

/* Reads a step's candidates (into the pool, *n of them) and scores. */
static int load_step_lists(struct loader *l, const char *id, const cJSON *cands,
			   const cJSON *scores, struct tree_step *s, size_t *n)
{
	const cJSON *c;
	size_t k;

	if (cands) {
		if (!cJSON_IsArray(cands))
			return loader_node_error(l, id, "\"weft.step.candidates\" is not an array");
		for (c = cands->child; c; c = c->next) {
			if (!cJSON_IsString(c))
				return loader_node_error(l, id,
							 "\"weft.step.candidates\" holds a "
							 "non-string");
			offs_push(l, pool_add(l, c->valuestring));
			(*n)++;
		}
	}
	if (scores) {
		if (!cJSON_IsArray(scores))
			return loader_node_error(l, id, "\"weft.step.scores\" is not an array");
		if ((size_t)cJSON_GetArraySize(scores) != *n)
			return loader_node_error(
			    l, id, "\"weft.step.scores\" has %d entries for %zu candidates",
			    cJSON_GetArraySize(scores), *n);
		s->scores = xreallocarray(NULL, *n ? *n : 1, sizeof(*s->scores));
		for (c = scores->child, k = 0; c; c = c->next, k++) {
			if (!cJSON_IsNumber(c))
				return loader_node_error(l, id,
							 "\"weft.step.scores\" holds a "
							 "non-number");
			s->scores[k] = c->valuedouble;
		}
	}
	return 0;
}

static int load_step(struct loader *l, uint32_t i, const cJSON *o)
{
	const char *id = tree_node(l->t, i)->id;
	const cJSON *cands = NULL, *scores = NULL, *c;
	struct pending_step ps = {i, l->noffs, NO_OFF, NO_OFF};
	struct strbuf extra = STRBUF_INIT;
	struct tree_step *s;
	size_t n = 0, k;

	if (!cJSON_IsObject(o))
		return loader_node_error(l, id, "\"weft.step\" is not an object");
	s = tree_step_get(l->t, i);
	for (c = o->child; c; c = c->next) {
		if (!strcmp(c->string, "candidates")) {
			cands = c;
		} else if (!strcmp(c->string, "scores")) {
			scores = c;
		} else if (load_step_member(l, id, c, s, &ps, &extra)) {
			strbuf_release(&extra);
			return -1;
		}
	}
	if (extra.len)
		s->extra_json = strbuf_detach(&extra, NULL);
	strbuf_release(&extra);
	if (load_step_lists(l, id, cands, scores, s, &n))
		return -1;
	s->candidates = xreallocarray(NULL, n ? n : 1, sizeof(*s->candidates));
	for (k = 0; k < n; k++)
		s->candidates[k] = TREE_NONE;
	s->count = n;
	XGROW(l->ps, l->ps_cap, l->nps + 1);
	l->ps[l->nps++] = ps;
	return 0;
}

static int load_node_weft(struct loader *l, uint32_t i, const cJSON *o, const char **weft_extra,
			  struct strbuf *extra)
{
	struct tree_node *n = tree_node(l->t, i);
	const char *id = n->id;
	const cJSON *c;

	if (!cJSON_IsObject(o))
		return loader_node_error(l, id, "\"weft\" is not an object");
	for (c = o->child; c; c = c->next) {
		const char *key = c->string;

		if (!strcmp(key, "model") || !strcmp(key, "finish")) {
			if (!cJSON_IsString(c))
				return loader_node_error(l, id, "\"weft.%s\" is not a string", key);
			if (key[0] == 'm')
				tree_set_model(l->t, i, c->valuestring);
			else
				tree_set_finish_reason(l->t, i, c->valuestring);
		} else if (!strcmp(key, "temperature")) {
			if (!cJSON_IsNumber(c))
				return loader_node_error(l, id,
							 "\"weft.temperature\" is not a number");
			n->temperature = (float)c->valuedouble;
			n->flags |= TREE_HAS_TEMPERATURE;
		} else if (!strcmp(key, "usage")) {
			const cJSON *pt = cJSON_GetObjectItemCaseSensitive(c, "prompt");
			const cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "completion");

			if (!cJSON_IsObject(c) || (pt && !is_int(pt, 0, UINT32_MAX)) ||
			    (ct && !is_int(ct, 0, UINT32_MAX)))
				return loader_node_error(l, id,
							 "\"weft.usage\" must be {\"prompt\": int, "
							 "\"completion\": int}");
			n->prompt_tokens = pt ? (uint32_t)pt->valuedouble : 0;
			n->completion_tokens = ct ? (uint32_t)ct->valuedouble : 0;
			n->flags |= TREE_HAS_USAGE;
		} else if (!strcmp(key, "score")) {
			if (!cJSON_IsNumber(c))
				return loader_node_error(l, id, "\"weft.score\" is not a number");
			n->score = c->valuedouble;
			n->flags |= TREE_HAS_SCORE;
		} else if (!strcmp(key, "rank")) {
			if (!is_int(c, 0, INT32_MAX))
				return loader_node_error(l, id,
							 "\"weft.rank\" is not a positive integer");
			n->rank = (int32_t)c->valuedouble;
			n->flags |= TREE_HAS_SCORE;
		} else if (!strcmp(key, "judgePick") || !strcmp(key, "humanPick") ||
			   !strcmp(key, "bookmark") || !strcmp(key, "edited")) {
			uint32_t flag = key[0] == 'j'	? TREE_JUDGE_PICK
					: key[0] == 'h' ? TREE_HUMAN_PICK
					: key[0] == 'b' ? TREE_BOOKMARK
							: TREE_EDITED;

			if (!cJSON_IsBool(c))
				return loader_node_error(l, id, "\"weft.%s\" is not true or false",
							 key);
			tree_set_flag(l->t, i, flag, cJSON_IsTrue(c));
		} else if (!strcmp(key, "merged")) {
			if (!is_int(c, 0, UINT32_MAX))
				return loader_node_error(l, id, "\"weft.merged\" is not a count");
			n->merged = (uint32_t)c->valuedouble;
		} else if (!strcmp(key, "created")) {
			if (!is_int(c, -9e15, 9e15))
				return loader_node_error(l, id,
							 "\"weft.created\" is not Unix seconds");
			n->created = (int64_t)c->valuedouble;
		} else if (!strcmp(key, "step")) {
			if (n->step)
				return loader_node_error(l, id, "\"weft.step\" appears twice");
			if (load_step(l, i, c))
				return -1;
		} else {
			extra_add(extra, c);
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

/* The keys of a node weft reads; any other goes to its extra. */
struct node_keys {
	const cJSON *id, *text, *parents, *kids, *visited, *group, *weft;
};

/* Sorts o's members into k and extra; -1 for a key given twice. */
static int sort_keys(struct loader *l, const cJSON *o, size_t index, struct node_keys *k,
		     struct strbuf *extra)
{
	const cJSON *c;

	for (c = o->child; c; c = c->next) {
		const cJSON **slot = NULL;
		const char *key = c->string;

		if (!strcmp(key, "id"))
			slot = &k->id;
		else if (!strcmp(key, "text"))
			slot = &k->text;
		else if (!strcmp(key, "parentIds"))
			slot = &k->parents;
		else if (!strcmp(key, "childrenIds"))
			slot = &k->kids;
		else if (!strcmp(key, "lastVisited"))
			slot = &k->visited;
		else if (!strcmp(key, "group"))
			slot = &k->group;
		else if (!strcmp(key, "weft"))
			slot = &k->weft;
		if (!slot) {
			extra_add(extra, c);
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
static int check_id_text(struct loader *l, const struct node_keys *k, const char *start,
			 size_t index)
{
	if (!k->id)
		return loader_file_error(l, "nodes[%zu]: missing \"id\"", index);
	if (!cJSON_IsString(k->id))
		return loader_file_error(l, "nodes[%zu]: \"id\" is not a string", index);
	if (!k->id->valuestring[0])
		return loader_file_error(l, "nodes[%zu]: \"id\" is empty", index);
	if (l->bad_utf8 != NO_OFF && l->base + l->bad_utf8 >= start && l->base + l->bad_utf8 < l->p)
		return loader_node_error(l, k->id->valuestring,
					 "invalid UTF-8 (or a NUL byte) at byte %zu", l->bad_utf8);
	if (has_nul_escape(start, l->p))
		return loader_node_error(l, k->id->valuestring,
					 "a string holds \\u0000, which weft cannot keep");
	if (!k->text)
		return loader_node_error(l, k->id->valuestring, "missing \"text\"");
	if (!cJSON_IsString(k->text))
		return loader_node_error(l, k->id->valuestring, "\"text\" is not a string");
	return 0;
}

/* Keeps node i's parentIds and childrenIds in the pool, to be resolved
 * once every node is read. */
static int pend_links(struct loader *l, uint32_t i, const struct node_keys *k)
{
	const char *id = k->id->valuestring;
	struct pending_node *pn;
	const cJSON *c;

	XGROW(l->pn, l->pn_cap, (size_t)i + 1);
	pn = &l->pn[i];
	memset(pn, 0, sizeof(*pn));
	pn->parent = NO_OFF;
	pn->parent_idx = TREE_NONE;
	pn->kids = l->noffs;
	if (k->parents) {
		if (!cJSON_IsArray(k->parents))
			return loader_node_error(l, id, "\"parentIds\" is not an array");
		for (c = k->parents->child; c; c = c->next) {
			if (!cJSON_IsString(c))
				return loader_node_error(l, id, "\"parentIds\" holds a non-string");
			if (!pn->nparents)
				pn->parent = pool_add(l, c->valuestring);
			pn->nparents++;
		}
	}
	if (k->kids) {
		if (!cJSON_IsArray(k->kids))
			return loader_node_error(l, id, "\"childrenIds\" is not an array");
		for (c = k->kids->child; c; c = c->next) {
			if (!cJSON_IsString(c))
				return loader_node_error(l, id,
							 "\"childrenIds\" holds a non-string");
			offs_push(l, pool_add(l, c->valuestring));
			/* pn may have moved? no: offs is a separate array */
			l->pn[i].nkids++;
		}
	}
	return 0;
}

/* Node i's lastVisited and group. */
static int load_visited_group(struct loader *l, uint32_t i, const struct node_keys *k)
{
	const char *id = k->id->valuestring;

	if (k->visited) {
		/* Bonsai writes a string of seconds; other looms (tel-0s/damask)
		 * an integer of milliseconds, or null: kept as loaded, as JSON */
		const cJSON *visited = k->visited;
		struct strbuf raw = STRBUF_INIT;

		if (cJSON_IsString(visited))
			strbuf_add_json_string(&raw, visited->valuestring);
		else if (cJSON_IsNull(visited))
			strbuf_addstr(&raw, "null");
		else if (is_int(visited, -9007199254740992.0, 9007199254740992.0))
			strbuf_addf(&raw, "%.0f", visited->valuedouble);
		if (!raw.len)
			return loader_node_error(
			    l, id, "\"lastVisited\" is not a string, an integer or null");
		tree_node(l->t, i)->last_visited = tree_intern(l->t, raw.data, raw.len);
		strbuf_release(&raw);
	}
	if (k->group) {
		if (!cJSON_IsString(k->group))
			return loader_node_error(l, id, "\"group\" is not a string");
		tree_node(l->t, i)->group =
		    tree_intern(l->t, k->group->valuestring, strlen(k->group->valuestring));
	}
	return 0;
}

int loader_node(struct loader *l, cJSON *o, const char *start, size_t index)
{
	struct node_keys k = {0};
	struct strbuf extra = STRBUF_INIT, wextra = STRBUF_INIT;
	const char *weft_extra = NULL;
	uint32_t i;
	int r = -1;

	if (!cJSON_IsObject(o))
		return loader_file_error(l, "nodes[%zu]: not an object", index);
	if (sort_keys(l, o, index, &k, &extra) || check_id_text(l, &k, start, index))
		goto out;
	i = tree_add_detached(l->t, k.id->valuestring, k.text->valuestring,
			      strlen(k.text->valuestring));
	if (i == TREE_NONE) {
		if (tree_find(l->t, k.id->valuestring) != TREE_NONE)
			loader_node_error(l, k.id->valuestring, "duplicate id");
		else
			loader_node_error(l, k.id->valuestring, "too many nodes");
		goto out;
	}
	if (pend_links(l, i, &k) || load_visited_group(l, i, &k))
		goto out;
	if (k.weft && load_node_weft(l, i, k.weft, &weft_extra, &wextra))
		goto out;
	if (extra.len || weft_extra)
		tree_set_extra(l->t, i, extra.len ? extra.data : NULL, weft_extra);
	r = 0;
out:
	strbuf_release(&extra);
	strbuf_release(&wextra);
	return r;
}

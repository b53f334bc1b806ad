#include "weft/session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/regfile.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/*
 * Loading never builds one DOM of the whole file: the top-level object is
 * walked here, byte by byte, and each array element (a node, an edge, a path
 * id) and each other top-level value is parsed on its own by cJSON, whose
 * return_parse_end tells where the value ended.  Ids named by links are kept
 * in a scratch pool until every node is read, then resolved; nothing
 * recurses on the tree's depth.
 */

#define NO_OFF ((size_t)-1)
/* Longest id shown in a message. */
#define ID_SHOW 64

struct pending_node {
	size_t parent; /* pool offset of parentIds[0], or NO_OFF */
	size_t kids;   /* index into offs of the first childrenIds entry */
	uint32_t nparents;
	uint32_t nkids;
	uint32_t parent_idx; /* parentIds[0] resolved */
};

struct pending_step {
	uint32_t node;
	size_t cands;	     /* index into offs; step->count entries */
	size_t judge, final; /* pool offsets or NO_OFF */
};

struct loader {
	const char *name;
	const char *base, *end, *p;
	struct errbuf *err;
	struct tree *t;
	size_t bad_utf8;    /* offset of the first invalid byte, or NO_OFF */
	struct strbuf pool; /* NUL-terminated ids waiting to be resolved */
	size_t *offs;
	size_t noffs, offs_cap;
	struct pending_node *pn;
	size_t pn_cap;
	struct pending_step *ps;
	size_t nps, ps_cap;
	const char *edges, *path; /* starts of the arrays, walked after nodes */
	char *focus;		  /* focusedId, owned */
	int seen_nodes, seen_name, seen_weft, seen_focus;
	int mapped;	     /* base is a read-only file mapping */
	const char *dropped; /* pages below this were handed back */
	uint8_t *edge_seen;
	size_t nedges;
	uint32_t edge_next; /* the node the next edge probably points to */
	uint32_t *path_idx;
	size_t path_len, path_cap;
	struct strbuf extra;
};

/* ---- messages ----------------------------------------------------------- */

/* Offset of the first byte that is not valid UTF-8 (or a NUL), or NO_OFF. */
static size_t utf8_first_invalid(const char *data, size_t len)
{
	const char *nul = memchr(data, '\0', len);
	size_t upto = nul ? (size_t)(nul - data) : len;
	size_t valid = utf8_valid_prefix(data, upto);

	if (valid < upto || nul)
		return valid;
	return NO_OFF;
}

/* A printable short form of an id for messages: invalid bytes as \xNN,
 * cut after ID_SHOW bytes. */
static const char *show_id(const char *id, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)id;
	size_t n = strlen(id), i = 0, o = 0;

	while (i < n && o + 8 < size) {
		uint32_t cp;
		size_t k = utf8_decode(s + i, n - i, &cp);

		if (i >= ID_SHOW) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (k) {
			if (o + k + 4 >= size)
				break;
			memcpy(buf + o, s + i, k);
			o += k;
			i += k;
		} else {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", s[i]);
			i++;
		}
	}
	buf[o] = '\0';
	return buf;
}

#define SHOW(id, b) show_id((id), (b), sizeof(b))

static int loc_error(struct loader *l, const char *at, const char *what)
{
	size_t line = 1, col = 1;
	const char *s;

	if (at > l->end)
		at = l->end;
	for (s = l->base; s < at; s++) {
		if (*s == '\n') {
			line++;
			col = 1;
		} else if ((*s & 0xc0) != 0x80) {
			col++;
		}
	}
	return errbuf_set(l->err, "%s:%zu:%zu: %s", l->name, line, col, what);
}

static int node_error(struct loader *l, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int node_error(struct loader *l, const char *id, const char *fmt, ...)
{
	char what[512], b[ID_SHOW * 4 + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return errbuf_set(l->err, "%s: node '%s': %s", l->name, SHOW(id, b), what);
}

static int file_error(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int file_error(struct loader *l, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return errbuf_set(l->err, "%s: %s", l->name, what);
}

/* ---- the top-level walk ------------------------------------------------- */

static void skip_ws(struct loader *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

/* Parses one JSON value at l->p and moves past it; NULL with err set. */
static cJSON *parse_value(struct loader *l)
{
	const char *endp = NULL;
	cJSON *item;

	if (l->p >= l->end) {
		loc_error(l, l->end, "unexpected end of file (truncated?)");
		return NULL;
	}
	item = cJSON_ParseWithLengthOpts(l->p, (size_t)(l->end - l->p), &endp, 0);
	if (!item) {
		if (!endp || endp >= l->end - 1)
			loc_error(l, l->end, "unexpected end of file (truncated?)");
		else
			loc_error(l, endp, "JSON syntax error");
		return NULL;
	}
	l->p = endp;
	return item;
}

/*
 * For a mapped file, hands the pages already parsed back to the kernel
 * every 64 MiB, so a big file does not stay resident beside the tree.
 * They are clean file pages: touching them again (an error message, the
 * deferred edges) just reads them back.
 */
static void drop_pages(struct loader *l)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from, to;

	if (!l->mapped || l->p - l->dropped < (64 << 20))
		return;
	from = ((uintptr_t)l->dropped + page - 1) & ~(page - 1);
	to = (uintptr_t)l->p & ~(page - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
	l->dropped = l->p;
}

typedef int (*element_fn)(struct loader *l, cJSON *item, const char *start, size_t index);

/*
 * Walks the array at l->p, parsing one element at a time and calling fn
 * (which may be NULL: syntax only).  what names the array in messages.
 */
static int walk_array(struct loader *l, const char *what, element_fn fn)
{
	size_t index = 0;

	skip_ws(l);
	if (l->p >= l->end)
		return loc_error(l, l->end, "unexpected end of file (truncated?)");
	if (*l->p != '[') {
		cJSON *v = parse_value(l);

		if (!v)
			return -1;
		cJSON_Delete(v);
		return file_error(l, "\"%s\" is not an array", what);
	}
	l->p++;
	skip_ws(l);
	if (l->p < l->end && *l->p == ']') {
		l->p++;
		return 0;
	}
	for (;;) {
		const char *start;
		cJSON *item;
		int r = 0;

		skip_ws(l);
		start = l->p;
		item = parse_value(l);
		if (!item)
			return -1;
		if (fn)
			r = fn(l, item, start, index);
		cJSON_Delete(item);
		if (r)
			return r;
		index++;
		drop_pages(l);
		skip_ws(l);
		if (l->p >= l->end)
			return loc_error(l, l->end, "unexpected end of file (truncated?)");
		if (*l->p == ']') {
			l->p++;
			return 0;
		}
		if (*l->p != ',')
			return loc_error(l, l->p, "JSON syntax error: expected ',' or ']'");
		l->p++;
	}
}

static size_t pool_add(struct loader *l, const char *s)
{
	size_t off = l->pool.len;

	strbuf_add(&l->pool, s, strlen(s) + 1);
	return off;
}

static const char *pool_str(const struct loader *l, size_t off)
{
	return l->pool.data + off;
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

/* ---- nodes -------------------------------------------------------------- */

static int load_step(struct loader *l, uint32_t i, const cJSON *o)
{
	const char *id = tree_node(l->t, i)->id;
	const cJSON *cands = NULL, *scores = NULL, *c;
	struct pending_step ps = {i, l->noffs, NO_OFF, NO_OFF};
	struct strbuf extra = STRBUF_INIT;
	struct tree_step *s;
	size_t n = 0, k;

	if (!cJSON_IsObject(o))
		return node_error(l, id, "\"weft.step\" is not an object");
	s = tree_step_get(l->t, i);
	for (c = o->child; c; c = c->next) {
		const char *key = c->string;

		if (!strcmp(key, "candidates")) {
			cands = c;
		} else if (!strcmp(key, "scores")) {
			scores = c;
		} else if (!strcmp(key, "judgeRaw") || !strcmp(key, "judgePrompt") ||
			   !strcmp(key, "rank") || !strcmp(key, "needsHuman")) {
			char **field = !strcmp(key, "judgeRaw")	     ? &s->judge_raw
				       : !strcmp(key, "judgePrompt") ? &s->judge_prompt
				       : !strcmp(key, "rank")	     ? &s->rank_mode
								     : &s->needs_human;
			if (cJSON_IsNull(c))
				continue;
			if (!cJSON_IsString(c))
				goto bad_type;
			tree_step_set_str(field, c->valuestring);
		} else if (!strcmp(key, "judgePick") || !strcmp(key, "finalPick")) {
			size_t *off = key[0] == 'j' ? &ps.judge : &ps.final;

			if (cJSON_IsNull(c))
				continue;
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
			else {
				strbuf_release(&extra);
				return node_error(
				    l, id,
				    "\"weft.step.pickedBy\" must be \"ai\", \"human\" "
				    "or null");
			}
		} else {
			extra_add(&extra, c);
		}
		continue;
	bad_type:
		strbuf_release(&extra);
		return node_error(l, id, "\"weft.step.%s\" must be a string or null", key);
	}
	if (extra.len)
		s->extra_json = strbuf_detach(&extra, NULL);
	strbuf_release(&extra);
	if (cands) {
		if (!cJSON_IsArray(cands))
			return node_error(l, id, "\"weft.step.candidates\" is not an array");
		for (c = cands->child; c; c = c->next) {
			if (!cJSON_IsString(c))
				return node_error(l, id,
						  "\"weft.step.candidates\" holds a "
						  "non-string");
			offs_push(l, pool_add(l, c->valuestring));
			n++;
		}
	}
	if (scores) {
		if (!cJSON_IsArray(scores))
			return node_error(l, id, "\"weft.step.scores\" is not an array");
		if ((size_t)cJSON_GetArraySize(scores) != n)
			return node_error(l, id,
					  "\"weft.step.scores\" has %d entries for %zu candidates",
					  cJSON_GetArraySize(scores), n);
		s->scores = xreallocarray(NULL, n ? n : 1, sizeof(*s->scores));
		for (c = scores->child, k = 0; c; c = c->next, k++) {
			if (!cJSON_IsNumber(c))
				return node_error(l, id,
						  "\"weft.step.scores\" holds a "
						  "non-number");
			s->scores[k] = c->valuedouble;
		}
	}
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
		return node_error(l, id, "\"weft\" is not an object");
	for (c = o->child; c; c = c->next) {
		const char *key = c->string;

		if (!strcmp(key, "model") || !strcmp(key, "finish")) {
			if (!cJSON_IsString(c))
				return node_error(l, id, "\"weft.%s\" is not a string", key);
			if (key[0] == 'm')
				tree_set_model(l->t, i, c->valuestring);
			else
				tree_set_finish_reason(l->t, i, c->valuestring);
		} else if (!strcmp(key, "temperature")) {
			if (!cJSON_IsNumber(c))
				return node_error(l, id, "\"weft.temperature\" is not a number");
			n->temperature = (float)c->valuedouble;
			n->flags |= TREE_HAS_TEMPERATURE;
		} else if (!strcmp(key, "usage")) {
			const cJSON *pt = cJSON_GetObjectItemCaseSensitive(c, "prompt");
			const cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "completion");

			if (!cJSON_IsObject(c) || (pt && !is_int(pt, 0, UINT32_MAX)) ||
			    (ct && !is_int(ct, 0, UINT32_MAX)))
				return node_error(l, id,
						  "\"weft.usage\" must be {\"prompt\": int, "
						  "\"completion\": int}");
			n->prompt_tokens = pt ? (uint32_t)pt->valuedouble : 0;
			n->completion_tokens = ct ? (uint32_t)ct->valuedouble : 0;
			n->flags |= TREE_HAS_USAGE;
		} else if (!strcmp(key, "score")) {
			if (!cJSON_IsNumber(c))
				return node_error(l, id, "\"weft.score\" is not a number");
			n->score = c->valuedouble;
			n->flags |= TREE_HAS_SCORE;
		} else if (!strcmp(key, "rank")) {
			if (!is_int(c, 0, INT32_MAX))
				return node_error(l, id, "\"weft.rank\" is not a positive integer");
			n->rank = (int32_t)c->valuedouble;
			n->flags |= TREE_HAS_SCORE;
		} else if (!strcmp(key, "judgePick") || !strcmp(key, "humanPick") ||
			   !strcmp(key, "bookmark") || !strcmp(key, "edited")) {
			uint32_t flag = key[0] == 'j'	? TREE_JUDGE_PICK
					: key[0] == 'h' ? TREE_HUMAN_PICK
					: key[0] == 'b' ? TREE_BOOKMARK
							: TREE_EDITED;

			if (!cJSON_IsBool(c))
				return node_error(l, id, "\"weft.%s\" is not true or false", key);
			tree_set_flag(l->t, i, flag, cJSON_IsTrue(c));
		} else if (!strcmp(key, "merged")) {
			if (!is_int(c, 0, UINT32_MAX))
				return node_error(l, id, "\"weft.merged\" is not a count");
			n->merged = (uint32_t)c->valuedouble;
		} else if (!strcmp(key, "created")) {
			if (!is_int(c, -9e15, 9e15))
				return node_error(l, id, "\"weft.created\" is not Unix seconds");
			n->created = (int64_t)c->valuedouble;
		} else if (!strcmp(key, "step")) {
			if (n->step)
				return node_error(l, id, "\"weft.step\" appears twice");
			if (load_step(l, i, c))
				return -1;
		} else {
			extra_add(extra, c);
		}
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

static int load_node(struct loader *l, cJSON *o, const char *start, size_t index)
{
	const cJSON *id = NULL, *text = NULL, *parents = NULL, *kids = NULL, *visited = NULL;
	const cJSON *group = NULL, *weft = NULL, *c;
	struct strbuf extra = STRBUF_INIT, wextra = STRBUF_INIT;
	const char *weft_extra = NULL;
	struct pending_node *pn;
	uint32_t i;
	int r = -1;

	if (!cJSON_IsObject(o))
		return file_error(l, "nodes[%zu]: not an object", index);
	for (c = o->child; c; c = c->next) {
		const cJSON **slot = NULL;
		const char *key = c->string;

		if (!strcmp(key, "id"))
			slot = &id;
		else if (!strcmp(key, "text"))
			slot = &text;
		else if (!strcmp(key, "parentIds"))
			slot = &parents;
		else if (!strcmp(key, "childrenIds"))
			slot = &kids;
		else if (!strcmp(key, "lastVisited"))
			slot = &visited;
		else if (!strcmp(key, "group"))
			slot = &group;
		else if (!strcmp(key, "weft"))
			slot = &weft;
		if (!slot) {
			extra_add(&extra, c);
			continue;
		}
		if (*slot) {
			file_error(l, "nodes[%zu]: key \"%s\" appears twice", index, key);
			goto out;
		}
		*slot = c;
	}
	if (!id) {
		file_error(l, "nodes[%zu]: missing \"id\"", index);
		goto out;
	}
	if (!cJSON_IsString(id)) {
		file_error(l, "nodes[%zu]: \"id\" is not a string", index);
		goto out;
	}
	if (!id->valuestring[0]) {
		file_error(l, "nodes[%zu]: \"id\" is empty", index);
		goto out;
	}
	if (l->bad_utf8 != NO_OFF && l->base + l->bad_utf8 >= start &&
	    l->base + l->bad_utf8 < l->p) {
		node_error(l, id->valuestring, "invalid UTF-8 (or a NUL byte) at byte %zu",
			   l->bad_utf8);
		goto out;
	}
	if (has_nul_escape(start, l->p)) {
		node_error(l, id->valuestring, "a string holds \\u0000, which weft cannot keep");
		goto out;
	}
	if (!text) {
		node_error(l, id->valuestring, "missing \"text\"");
		goto out;
	}
	if (!cJSON_IsString(text)) {
		node_error(l, id->valuestring, "\"text\" is not a string");
		goto out;
	}
	i = tree_add_detached(l->t, id->valuestring, text->valuestring, strlen(text->valuestring));
	if (i == TREE_NONE) {
		if (tree_find(l->t, id->valuestring) != TREE_NONE)
			node_error(l, id->valuestring, "duplicate id");
		else
			node_error(l, id->valuestring, "too many nodes");
		goto out;
	}
	XGROW(l->pn, l->pn_cap, (size_t)i + 1);
	pn = &l->pn[i];
	memset(pn, 0, sizeof(*pn));
	pn->parent = NO_OFF;
	pn->parent_idx = TREE_NONE;
	pn->kids = l->noffs;
	if (parents) {
		if (!cJSON_IsArray(parents)) {
			node_error(l, id->valuestring, "\"parentIds\" is not an array");
			goto out;
		}
		for (c = parents->child; c; c = c->next) {
			if (!cJSON_IsString(c)) {
				node_error(l, id->valuestring, "\"parentIds\" holds a non-string");
				goto out;
			}
			if (!pn->nparents)
				pn->parent = pool_add(l, c->valuestring);
			pn->nparents++;
		}
	}
	if (kids) {
		if (!cJSON_IsArray(kids)) {
			node_error(l, id->valuestring, "\"childrenIds\" is not an array");
			goto out;
		}
		for (c = kids->child; c; c = c->next) {
			if (!cJSON_IsString(c)) {
				node_error(l, id->valuestring,
					   "\"childrenIds\" holds a non-string");
				goto out;
			}
			offs_push(l, pool_add(l, c->valuestring));
			/* pn may have moved? no: offs is a separate array */
			l->pn[i].nkids++;
		}
	}
	if (visited) {
		/* Bonsai writes a string of seconds; other looms (tel-0s/damask)
		 * an integer of milliseconds, or null: kept as loaded, as JSON */
		struct strbuf raw = STRBUF_INIT;

		if (cJSON_IsString(visited))
			strbuf_add_json_string(&raw, visited->valuestring);
		else if (cJSON_IsNull(visited))
			strbuf_addstr(&raw, "null");
		else if (is_int(visited, -9007199254740992.0, 9007199254740992.0))
			strbuf_addf(&raw, "%.0f", visited->valuedouble);
		if (!raw.len) {
			node_error(l, id->valuestring,
				   "\"lastVisited\" is not a string, an integer or null");
			goto out;
		}
		tree_node(l->t, i)->last_visited = tree_intern(l->t, raw.data, raw.len);
		strbuf_release(&raw);
	}
	if (group) {
		if (!cJSON_IsString(group)) {
			node_error(l, id->valuestring, "\"group\" is not a string");
			goto out;
		}
		tree_node(l->t, i)->group =
		    tree_intern(l->t, group->valuestring, strlen(group->valuestring));
	}
	if (weft && load_node_weft(l, i, weft, &weft_extra, &wextra))
		goto out;
	if (extra.len || weft_extra)
		tree_set_extra(l->t, i, extra.len ? extra.data : NULL, weft_extra);
	r = 0;
out:
	strbuf_release(&extra);
	strbuf_release(&wextra);
	return r;
}

/* ---- links -------------------------------------------------------------- */

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
	r = node_error(l, t->nodes[u].id, "cycle in parent links (not reachable from the root)");
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

static int resolve_links(struct loader *l)
{
	struct tree *t = l->t;
	uint32_t i, root = TREE_NONE, *start, *order;
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	size_t k;

	if (!t->count)
		return file_error(l, "no root: \"nodes\" is empty");
	for (i = 0; i < t->count; i++) {
		struct pending_node *pn = &l->pn[i];

		if (pn->nparents > 1)
			return node_error(l, t->nodes[i].id, "has %u parents in \"parentIds\"",
					  pn->nparents);
		if (!pn->nparents) {
			if (root != TREE_NONE)
				return file_error(l, "two roots: '%s' and '%s' have no parent",
						  SHOW(t->nodes[root].id, b1),
						  SHOW(t->nodes[i].id, b2));
			root = i;
			continue;
		}
		pn->parent_idx = tree_find(t, pool_str(l, pn->parent));
		if (pn->parent_idx == TREE_NONE)
			return node_error(l, t->nodes[i].id,
					  "\"parentIds\" names '%s', which is not a node",
					  SHOW(pool_str(l, pn->parent), b1));
		if (pn->parent_idx == i)
			return node_error(l, t->nodes[i].id, "is its own parent (a cycle)");
	}
	if (root == TREE_NONE)
		return file_error(l, "no root: every node has a parent (a cycle?)");
	tree_set_root(t, root);
	/*
	 * Fast path: the children each node's parentIds give, in file order
	 * (bucketed by parent), usually are its childrenIds in the same order;
	 * then one strcmp each links them, without a hash lookup.
	 */
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
	for (i = 0; i < t->count; i++) {
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
		for (k = 0; k < pn->nkids; k++) {
			const char *cid = pool_str(l, l->offs[pn->kids + k]);
			uint32_t c = tree_find(t, cid);

			if (c == TREE_NONE) {
				node_error(l, t->nodes[i].id,
					   "\"childrenIds\" names '%s', which is not a node",
					   SHOW(cid, b1));
				goto fail;
			}
			if (l->pn[c].parent_idx != i) {
				if (l->pn[c].parent_idx == TREE_NONE)
					node_error(l, t->nodes[i].id,
						   "\"childrenIds\" lists '%s', which has no "
						   "parent in its \"parentIds\"",
						   SHOW(cid, b1));
				else
					node_error(
					    l, t->nodes[i].id,
					    "\"childrenIds\" lists '%s', whose \"parentIds\" "
					    "names '%s'",
					    SHOW(cid, b1),
					    SHOW(t->nodes[l->pn[c].parent_idx].id, b2));
				goto fail;
			}
			if (t->nodes[c].parent != TREE_NONE) {
				node_error(l, t->nodes[i].id, "\"childrenIds\" lists '%s' twice",
					   SHOW(cid, b1));
				goto fail;
			}
			tree_link(t, i, c);
		}
	}
	free(start);
	free(order);
	for (i = 0; i < t->count; i++)
		if (i != root && t->nodes[i].parent == TREE_NONE)
			return node_error(l, t->nodes[i].id,
					  "\"parentIds\" names '%s', whose \"childrenIds\" does "
					  "not list it",
					  SHOW(t->nodes[l->pn[i].parent_idx].id, b1));
	if (count_reached(t) != t->count)
		return report_cycle(l);
	return 0;
fail:
	free(start);
	free(order);
	return -1;
}

static int resolve_steps(struct loader *l)
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
				return node_error(l, owner,
						  "\"weft.step.candidates\" names '%s', which is "
						  "not a node",
						  SHOW(cid, b));
			if (t->nodes[c].parent != ps->node)
				return node_error(l, owner,
						  "step candidate '%s' is not a child of this node",
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
				return node_error(
				    l, owner, "\"weft.step.%s\" names '%s', which is not a node",
				    k ? "finalPick" : "judgePick", SHOW(pid, b));
			if (t->nodes[c].parent != ps->node)
				return node_error(
				    l, owner, "\"weft.step.%s\" '%s' is not a child of this node",
				    k ? "finalPick" : "judgePick", SHOW(pid, b));
			*picks[k] = c;
		}
	}
	return 0;
}

static int load_edge(struct loader *l, cJSON *o, const char *start, size_t index)
{
	const cJSON *from, *to, *rel;
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	uint32_t f, c;

	(void)start;
	if (!cJSON_IsObject(o))
		return file_error(l, "edges[%zu]: not an object", index);
	from = cJSON_GetObjectItemCaseSensitive(o, "from");
	to = cJSON_GetObjectItemCaseSensitive(o, "to");
	rel = cJSON_GetObjectItemCaseSensitive(o, "relation");
	if (!cJSON_IsString(from) || !cJSON_IsString(to))
		return file_error(l, "edges[%zu]: \"from\" and \"to\" must be strings", index);
	if (rel && !cJSON_IsString(rel))
		return file_error(l, "edges[%zu]: \"relation\" is not a string", index);
	if (rel && strcmp(rel->valuestring, "parentId"))
		return 0; /* not a parent link: not ours to check */
	/* edges usually list the nodes in file order: try the next one first */
	c = l->edge_next;
	if (c == l->t->root)
		c++;
	if (c >= l->t->count || strcmp(l->t->nodes[c].id, to->valuestring))
		c = tree_find(l->t, to->valuestring);
	if (c != TREE_NONE)
		l->edge_next = c + 1;
	f = c == TREE_NONE ? TREE_NONE : l->t->nodes[c].parent;
	if (f == TREE_NONE || strcmp(l->t->nodes[f].id, from->valuestring))
		f = tree_find(l->t, from->valuestring);
	if (f == TREE_NONE)
		return file_error(l, "edges[%zu]: \"from\" names '%s', which is not a node", index,
				  SHOW(from->valuestring, b1));
	if (c == TREE_NONE)
		return file_error(l, "edges[%zu]: \"to\" names '%s', which is not a node", index,
				  SHOW(to->valuestring, b1));
	if (l->t->nodes[c].parent != f)
		return file_error(l, "edges[%zu]: edge '%s' -> '%s' disagrees with childrenIds",
				  index, SHOW(from->valuestring, b1), SHOW(to->valuestring, b2));
	if (l->edge_seen[c])
		return file_error(l, "edges[%zu]: edge '%s' -> '%s' appears twice", index,
				  SHOW(from->valuestring, b1), SHOW(to->valuestring, b2));
	l->edge_seen[c] = 1;
	l->nedges++;
	return 0;
}

static int load_path_node(struct loader *l, cJSON *v, const char *start, size_t index)
{
	char b1[ID_SHOW * 4 + 16], b2[ID_SHOW * 4 + 16];
	uint32_t i;

	(void)start;
	if (!cJSON_IsString(v))
		return file_error(l, "pathNodes[%zu]: not a string", index);
	i = TREE_NONE;
	if (index) { /* usually one of the previous node's first few children */
		uint32_t c = l->t->nodes[l->path_idx[index - 1]].first_child;
		int tries;

		for (tries = 0; c != TREE_NONE && tries < 8; tries++) {
			if (!strcmp(l->t->nodes[c].id, v->valuestring)) {
				i = c;
				break;
			}
			c = l->t->nodes[c].next_sibling;
		}
	}
	if (i == TREE_NONE)
		i = tree_find(l->t, v->valuestring);
	if (i == TREE_NONE)
		return file_error(l, "pathNodes[%zu]: '%s' is not a node", index,
				  SHOW(v->valuestring, b1));
	if (!index && i != l->t->root)
		return file_error(l, "pathNodes[0]: '%s' is not the root",
				  SHOW(v->valuestring, b1));
	if (index && l->t->nodes[i].parent != l->path_idx[index - 1])
		return file_error(l, "pathNodes[%zu]: '%s' is not a child of '%s'", index,
				  SHOW(v->valuestring, b1),
				  SHOW(l->t->nodes[l->path_idx[index - 1]].id, b2));
	XGROW(l->path_idx, l->path_cap, l->path_len + 1);
	l->path_idx[l->path_len++] = i;
	return 0;
}

/* ---- the whole file ----------------------------------------------------- */

static int top_value(struct loader *l, const char *key)
{
	const char *start = l->p;
	cJSON *v;

	if (!strcmp(key, "nodes")) {
		if (l->seen_nodes++)
			return file_error(l, "top-level key \"nodes\" appears twice");
		return walk_array(l, "nodes", load_node);
	}
	if (!strcmp(key, "edges") || !strcmp(key, "pathNodes")) {
		const char **at = key[0] == 'e' ? &l->edges : &l->path;

		if (*at)
			return file_error(l, "top-level key \"%s\" appears twice", key);
		skip_ws(l);
		*at = l->p;
		return walk_array(l, key, NULL);
	}
	v = parse_value(l);
	if (!v)
		return -1;
	if (!strcmp(key, "name")) {
		if (l->seen_name++ || !cJSON_IsString(v))
			goto bad;
		tree_set_name(l->t, v->valuestring);
	} else if (!strcmp(key, "focusedId")) {
		if (l->seen_focus++ || !cJSON_IsString(v))
			goto bad;
		l->focus = xstrdup(v->valuestring);
	} else if (!strcmp(key, "weft")) {
		char *raw;

		if (l->seen_weft++ || !cJSON_IsObject(v))
			goto bad;
		while (start < l->p && strchr(" \t\r\n", *start))
			start++;
		raw = xstrndup(start, (size_t)(l->p - start));
		tree_set_weft_json(l->t, raw);
		free(raw);
	} else {
		while (start < l->p && strchr(" \t\r\n", *start))
			start++;
		if (l->extra.len)
			strbuf_addch(&l->extra, ',');
		strbuf_add_json_string(&l->extra, key);
		strbuf_addch(&l->extra, ':');
		strbuf_add(&l->extra, start, (size_t)(l->p - start));
	}
	cJSON_Delete(v);
	return 0;
bad:
	cJSON_Delete(v);
	if (!strcmp(key, "weft"))
		return file_error(l, "top-level \"weft\" is not an object or appears twice");
	return file_error(l, "top-level \"%s\" is not a string or appears twice", key);
}

static int walk_top(struct loader *l)
{
	skip_ws(l);
	if (l->p >= l->end)
		return file_error(l, "empty file (not JSON)");
	if (*l->p != '{') {
		cJSON *v = parse_value(l);

		if (!v)
			return -1;
		cJSON_Delete(v);
		return file_error(l, "the top level is not a JSON object");
	}
	l->p++;
	skip_ws(l);
	if (l->p < l->end && *l->p == '}') {
		l->p++;
	} else {
		for (;;) {
			cJSON *key;
			int r;

			skip_ws(l);
			if (l->p >= l->end)
				return loc_error(l, l->end, "unexpected end of file (truncated?)");
			if (*l->p != '"')
				return loc_error(l, l->p, "JSON syntax error: expected a key");
			key = parse_value(l);
			if (!key)
				return -1;
			skip_ws(l);
			if (l->p >= l->end || *l->p != ':') {
				cJSON_Delete(key);
				if (l->p >= l->end)
					return loc_error(l, l->end,
							 "unexpected end of file (truncated?)");
				return loc_error(l, l->p, "JSON syntax error: expected ':'");
			}
			l->p++;
			skip_ws(l);
			r = top_value(l, key->valuestring);
			cJSON_Delete(key);
			if (r)
				return r;
			skip_ws(l);
			if (l->p >= l->end)
				return loc_error(l, l->end, "unexpected end of file (truncated?)");
			if (*l->p == '}') {
				l->p++;
				break;
			}
			if (*l->p != ',')
				return loc_error(l, l->p, "JSON syntax error: expected ',' or '}'");
			l->p++;
		}
	}
	skip_ws(l);
	if (l->p < l->end)
		return loc_error(l, l->p, "unexpected data after the top-level object");
	if (l->bad_utf8 != NO_OFF)
		return loc_error(l, l->base + l->bad_utf8, "invalid UTF-8 (or a NUL byte)");
	if (!l->seen_nodes)
		return file_error(l, "missing \"nodes\"");
	return 0;
}

static int finish(struct loader *l)
{
	struct tree *t = l->t;
	uint32_t i;

	if (resolve_links(l) || resolve_steps(l))
		return -1;
	if (l->edges) {
		l->p = l->edges;
		l->edge_seen = xcalloc(t->count, 1);
		if (walk_array(l, "edges", load_edge))
			return -1;
		if (l->nedges)
			for (i = 0; i < t->count; i++)
				if (i != t->root && !l->edge_seen[i])
					return node_error(l, t->nodes[i].id,
							  "no edge from its parent in \"edges\"");
	}
	if (l->path) {
		l->p = l->path;
		if (walk_array(l, "pathNodes", load_path_node))
			return -1;
		if (l->path_len)
			tree_set_path(t, l->path_idx, l->path_len);
	}
	if (l->focus) {
		char b[ID_SHOW * 4 + 16];

		i = tree_find(t, l->focus);
		if (i == TREE_NONE)
			return file_error(l, "\"focusedId\" names '%s', which is not a node",
					  SHOW(l->focus, b));
		tree_set_focus(t, i);
		/* a file with a cursor and no chosen path (other looms): the
		 * path leads to the cursor */
		if (!l->path_len)
			tree_path_through(t, i);
	} else {
		t->focus = tree_path_tip(t);
	}
	if (l->extra.len)
		tree_set_top_extra(t, l->extra.data);
	return 0;
}

static int load_buffer(const char *name, const char *data, size_t len, int mapped,
		       struct tree **out, struct errbuf *err)
{
	struct loader l;
	int r;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.mapped = mapped;
	l.dropped = data;
	l.name = name;
	l.base = data;
	l.end = data + len;
	l.p = data;
	l.err = err;
	strbuf_init(&l.pool);
	strbuf_init(&l.extra);
	if (len > SESSION_MAX_BYTES)
		return file_error(&l, "larger than %zu bytes", SESSION_MAX_BYTES);
	l.p += utf8_bom_len(data, len);
	l.bad_utf8 = utf8_first_invalid(data, len);
	l.t = tree_new();
	r = walk_top(&l);
	if (!r)
		r = finish(&l);
	if (r) {
		tree_free(l.t);
		l.t = NULL;
	}
	*out = l.t;
	strbuf_release(&l.pool);
	strbuf_release(&l.extra);
	free(l.offs);
	free(l.pn);
	free(l.ps);
	free(l.focus);
	free(l.edge_seen);
	free(l.path_idx);
	return r ? -1 : 0;
}

int session_load_buffer(const char *name, const char *data, size_t len, struct tree **out,
			struct errbuf *err)
{
	return load_buffer(name, data, len, 0, out, err);
}

/*
 * Copies a node's fields from the scratch tree src (node 0) into t's node
 * i, interning strings in t.  The step is resolved against t.  With i
 * TREE_NONE only checks that the step could apply.
 */
static int copy_node(struct loader *l, struct tree *t, uint32_t i)
{
	const struct tree *src = l->t;
	const struct tree_node *s = &src->nodes[0];
	struct tree_node *n;
	char b[ID_SHOW * 4 + 16];
	size_t k;

	/* check the step first: nothing changes unless all of it applies */
	for (k = 0; s->step && k < s->step->count + 2; k++) {
		size_t off = k < s->step->count	   ? l->offs[l->ps[0].cands + k]
			     : k == s->step->count ? l->ps[0].judge
						   : l->ps[0].final;
		uint32_t c;

		if (off == NO_OFF)
			continue;
		c = tree_find(t, pool_str(l, off));
		if (c == TREE_NONE || i == TREE_NONE || t->nodes[c].parent != i)
			return node_error(l, s->id, "step names '%s', which is not a child",
					  SHOW(pool_str(l, off), b));
	}
	if (i == TREE_NONE)
		return 0;
	n = &t->nodes[i];
	n->text = tree_intern(t, s->text, s->text_len);
	n->text_len = s->text_len;
	n->flags = (s->flags & ~(uint32_t)TREE_PRUNED) | (n->flags & TREE_PRUNED);
	n->rank = s->rank;
	n->score = s->score;
	n->temperature = s->temperature;
	n->prompt_tokens = s->prompt_tokens;
	n->completion_tokens = s->completion_tokens;
	n->merged = s->merged;
	n->created = s->created;
	n->last_visited =
	    s->last_visited ? tree_intern(t, s->last_visited, strlen(s->last_visited)) : NULL;
	n->group = s->group ? tree_intern(t, s->group, strlen(s->group)) : NULL;
	tree_set_model(t, i, s->model);
	tree_set_finish_reason(t, i, s->finish_reason);
	tree_set_extra(t, i, s->extra_json, s->weft_extra_json);
	tree_step_free(n->step);
	n->step = NULL;
	if (s->step) {
		const struct pending_step *ps = &l->ps[0];
		struct tree_step *d = tree_step_get(t, i);
		size_t offs[2] = {ps->judge, ps->final};
		uint32_t *picks[2] = {&d->judge_pick, &d->final_pick};

		for (k = 0; k < s->step->count; k++) {
			const char *cid = pool_str(l, l->offs[ps->cands + k]);
			uint32_t c = tree_find(t, cid);

			if (c == TREE_NONE || t->nodes[c].parent != i)
				return node_error(l, n->id, "step candidate '%s' is not a child",
						  SHOW(cid, b));
			tree_step_add_candidate(d, c, s->step->scores ? s->step->scores[k] : 0,
						s->step->scores != NULL);
		}
		for (k = 0; k < 2; k++) {
			uint32_t c;

			if (offs[k] == NO_OFF)
				continue;
			c = tree_find(t, pool_str(l, offs[k]));
			if (c == TREE_NONE || t->nodes[c].parent != i)
				return node_error(l, n->id, "step pick '%s' is not a child",
						  SHOW(pool_str(l, offs[k]), b));
			*picks[k] = c;
		}
		d->picker = s->step->picker;
		tree_step_set_str(&d->judge_raw, s->step->judge_raw);
		tree_step_set_str(&d->judge_prompt, s->step->judge_prompt);
		tree_step_set_str(&d->rank_mode, s->step->rank_mode);
		tree_step_set_str(&d->needs_human, s->step->needs_human);
		tree_step_set_str(&d->extra_json, s->step->extra_json);
	}
	return 0;
}

int session_apply_node(struct tree *t, const char *name, const char *json, size_t len,
		       struct errbuf *err)
{
	struct loader l;
	cJSON *item;
	uint32_t i;
	int r = -1;

	memset(&l, 0, sizeof(l));
	l.name = name;
	l.base = l.p = json;
	l.end = json + len;
	l.err = err;
	l.dropped = json;
	l.bad_utf8 = utf8_first_invalid(json, len);
	strbuf_init(&l.pool);
	strbuf_init(&l.extra);
	l.t = tree_new();
	skip_ws(&l);
	item = parse_value(&l);
	if (!item)
		goto out;
	r = load_node(&l, item, json, 0);
	cJSON_Delete(item);
	if (r)
		goto out;
	r = -1;
	i = tree_find(t, l.t->nodes[0].id);
	if (i == TREE_NONE) {
		const struct pending_node *pn = &l.pn[0];
		uint32_t parent = TREE_NONE;

		if (pn->nparents) {
			parent = tree_find(t, pool_str(&l, pn->parent));
			if (parent == TREE_NONE) {
				node_error(&l, l.t->nodes[0].id,
					   "\"parentIds\" names a node that is not in the tree");
				goto out;
			}
		} else if (t->root != TREE_NONE) {
			node_error(&l, l.t->nodes[0].id, "a second root");
			goto out;
		}
		if (copy_node(&l, t, TREE_NONE))
			goto out;
		i = tree_add_detached(t, l.t->nodes[0].id, "", 0);
		if (parent == TREE_NONE)
			tree_set_root(t, i);
		else
			tree_link(t, parent, i);
	}
	r = copy_node(&l, t, i);
out:
	tree_free(l.t);
	strbuf_release(&l.pool);
	strbuf_release(&l.extra);
	free(l.offs);
	free(l.pn);
	free(l.ps);
	return r;
}

int session_load(const char *path, struct tree **out, struct errbuf *err)
{
	struct stat st;
	void *map = NULL;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	/* only a regular file: a FIFO would hang, a device never end */
	fd = regfile_open(path, err);
	if (fd < 0) {
		if (err && strstr(err->msg, ": is a folder"))
			errbuf_set(err, "%s: is a folder, not a session file", path);
		return -1;
	}
	if (fstat(fd, &st)) {
		r = errbuf_set(err, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if ((uint64_t)st.st_size > SESSION_MAX_BYTES) {
		close(fd);
		return errbuf_set(err, "%s: larger than %zu bytes", path, SESSION_MAX_BYTES);
	}
	len = (size_t)st.st_size;
	if (len) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			map = NULL;
	}
	if (!map && len) {
		size_t got = 0;

		buf = xmalloc(len);
		while (got < len) {
			ssize_t n = read(fd, buf + got, len - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = errbuf_set(err, "%s: cannot read: %s", path,
					       n ? strerror(errno) : "file shrank");
				free(buf);
				close(fd);
				return r;
			}
			got += (size_t)n;
		}
	}
	close(fd);
	if (map)
		madvise(map, len, MADV_SEQUENTIAL);
	r = load_buffer(path, map ? map : buf ? buf : "", len, map != NULL, out, err);
	if (map)
		munmap(map, len);
	free(buf);
	return r;
}

/* ---- writing ------------------------------------------------------------ */

struct writer {
	struct strbuf *sb;
	const struct tree *t;
	const uint8_t *on_path;
	int fd;	     /* -1: keep everything in sb */
	int errn;    /* first write error */
	size_t nput; /* entries written in the current array */
};

static void writer_flush(struct writer *w, int force)
{
	size_t off = 0;

	if (w->fd < 0 || (!force && w->sb->len < (1u << 20)))
		return;
	while (!w->errn && off < w->sb->len) {
		ssize_t n = write(w->fd, w->sb->data + off, w->sb->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			w->errn = errno;
		else
			off += (size_t)n;
	}
	strbuf_reset(w->sb);
}

static void put_double(struct strbuf *sb, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		strbuf_addch(sb, '0');
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	strbuf_addstr(sb, buf);
}

static void put_float(struct strbuf *sb, float v)
{
	char buf[40];

	if (!isfinite(v)) {
		strbuf_addch(sb, '0');
		return;
	}
	snprintf(buf, sizeof(buf), "%.7g", (double)v);
	if (strtof(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.9g", (double)v);
	strbuf_addstr(sb, buf);
}

/* Adds ,"key": when something came before in the object (*first == 0). */
static void put_key(struct strbuf *sb, int *first, const char *key)
{
	if (!*first)
		strbuf_addch(sb, ',');
	*first = 0;
	strbuf_addch(sb, '"');
	strbuf_addstr(sb, key);
	strbuf_addstr(sb, "\":");
}

/* Whether node i exists and is written (pruned nodes are not). */
static int kept(const struct tree *t, uint32_t i)
{
	return i < t->count && !(t->nodes[i].flags & TREE_PRUNED);
}

static void put_opt_string(struct strbuf *sb, int *first, const char *key, const char *v)
{
	if (!v)
		return;
	put_key(sb, first, key);
	strbuf_add_json_string(sb, v);
}

static void put_step(const struct tree *t, uint32_t i, struct strbuf *sb)
{
	const struct tree_step *s = t->nodes[i].step;
	int first = 1, any;
	size_t k;

	strbuf_addstr(sb, "\"step\":{");
	put_key(sb, &first, "candidates");
	strbuf_addch(sb, '[');
	for (k = 0, any = 0; k < s->count; k++) {
		if (!kept(t, s->candidates[k]))
			continue;
		if (any++)
			strbuf_addch(sb, ',');
		strbuf_add_json_string(sb, t->nodes[s->candidates[k]].id);
	}
	strbuf_addch(sb, ']');
	if (s->scores) {
		put_key(sb, &first, "scores");
		strbuf_addch(sb, '[');
		for (k = 0, any = 0; k < s->count; k++) {
			if (!kept(t, s->candidates[k]))
				continue;
			if (any++)
				strbuf_addch(sb, ',');
			put_double(sb, s->scores[k]);
		}
		strbuf_addch(sb, ']');
	}
	put_opt_string(sb, &first, "judgeRaw", s->judge_raw);
	put_opt_string(sb, &first, "judgePrompt", s->judge_prompt);
	put_opt_string(sb, &first, "rank", s->rank_mode);
	if (kept(t, s->judge_pick))
		put_opt_string(sb, &first, "judgePick", t->nodes[s->judge_pick].id);
	if (kept(t, s->final_pick))
		put_opt_string(sb, &first, "finalPick", t->nodes[s->final_pick].id);
	if (s->picker != TREE_PICKER_NONE)
		put_opt_string(sb, &first, "pickedBy",
			       s->picker == TREE_PICKER_HUMAN ? "human" : "ai");
	put_opt_string(sb, &first, "needsHuman", s->needs_human);
	if (s->extra_json && s->extra_json[0]) {
		if (!first)
			strbuf_addch(sb, ',');
		strbuf_addstr(sb, s->extra_json);
	}
	strbuf_addch(sb, '}');
}

static void put_node_weft(const struct tree *t, uint32_t i, struct strbuf *sb)
{
	const struct tree_node *n = &t->nodes[i];
	size_t start = sb->len;
	int first = 1;

	strbuf_addstr(sb, ",\"weft\":{");
	put_opt_string(sb, &first, "model", n->model);
	if (n->flags & TREE_HAS_TEMPERATURE) {
		put_key(sb, &first, "temperature");
		put_float(sb, n->temperature);
	}
	put_opt_string(sb, &first, "finish", n->finish_reason);
	if (n->flags & TREE_HAS_USAGE) {
		put_key(sb, &first, "usage");
		strbuf_addf(sb, "{\"prompt\":%u,\"completion\":%u}", n->prompt_tokens,
			    n->completion_tokens);
	}
	if (n->flags & TREE_HAS_SCORE) {
		put_key(sb, &first, "score");
		put_double(sb, n->score);
		if (n->rank > 0) {
			put_key(sb, &first, "rank");
			strbuf_addf(sb, "%d", (int)n->rank);
		}
	}
	if (n->flags & TREE_JUDGE_PICK) {
		put_key(sb, &first, "judgePick");
		strbuf_addstr(sb, "true");
	}
	if (n->flags & TREE_HUMAN_PICK) {
		put_key(sb, &first, "humanPick");
		strbuf_addstr(sb, "true");
	}
	if (n->flags & TREE_BOOKMARK) {
		put_key(sb, &first, "bookmark");
		strbuf_addstr(sb, "true");
	}
	if (n->flags & TREE_EDITED) {
		put_key(sb, &first, "edited");
		strbuf_addstr(sb, "true");
	}
	if (n->merged) {
		put_key(sb, &first, "merged");
		strbuf_addf(sb, "%u", n->merged);
	}
	if (n->created) {
		put_key(sb, &first, "created");
		strbuf_addf(sb, "%lld", (long long)n->created);
	}
	if (n->step) {
		if (!first)
			strbuf_addch(sb, ',');
		first = 0;
		put_step(t, i, sb);
	}
	if (n->weft_extra_json && n->weft_extra_json[0]) {
		if (!first)
			strbuf_addch(sb, ',');
		first = 0;
		strbuf_addstr(sb, n->weft_extra_json);
	}
	if (first)
		strbuf_truncate(sb, start); /* nothing set: no "weft" key */
	else
		strbuf_addch(sb, '}');
}

static void node_json(const struct tree *t, uint32_t i, int on_path, struct strbuf *sb)
{
	const struct tree_node *n = &t->nodes[i];
	const char *group;
	uint32_t c;
	int any = 0;

	strbuf_addstr(sb, "{\"id\":");
	strbuf_add_json_string(sb, n->id);
	strbuf_addstr(sb, ",\"text\":\"");
	strbuf_add_json_escaped(sb, n->text, n->text_len);
	strbuf_addstr(sb, "\",\"parentIds\":[");
	if (n->parent != TREE_NONE)
		strbuf_add_json_string(sb, t->nodes[n->parent].id);
	strbuf_addstr(sb, "],\"childrenIds\":[");
	for (c = n->first_child; c != TREE_NONE; c = t->nodes[c].next_sibling) {
		if (t->nodes[c].flags & TREE_PRUNED)
			continue;
		if (any++)
			strbuf_addch(sb, ',');
		strbuf_add_json_string(sb, t->nodes[c].id);
	}
	strbuf_addch(sb, ']');
	/* as loaded; a node weft made gets its creation time, as Bonsai does;
	 * a node loaded without one gets none */
	if (n->last_visited) {
		strbuf_addstr(sb, ",\"lastVisited\":");
		strbuf_addstr(sb, n->last_visited);
	} else if (n->created) {
		strbuf_addf(sb, ",\"lastVisited\":\"%lld\"", (long long)n->created);
	}
	if (on_path)
		group = "path";
	else if (!n->group || !strcmp(n->group, "path"))
		group = "normal";
	else
		group = n->group;
	strbuf_addstr(sb, ",\"group\":");
	strbuf_add_json_string(sb, group);
	if (n->extra_json && n->extra_json[0]) {
		strbuf_addch(sb, ',');
		strbuf_addstr(sb, n->extra_json);
	}
	put_node_weft(t, i, sb);
	strbuf_addch(sb, '}');
}

void session_write_node(const struct tree *t, uint32_t i, struct strbuf *out)
{
	node_json(t, i, tree_path_index(t, i) >= 0, out);
}

static int put_node(const struct tree *t, uint32_t i, void *ctx)
{
	struct writer *w = ctx;

	if (i != t->root)
		strbuf_addstr(w->sb, ",\n");
	node_json(t, i, w->on_path[i], w->sb);
	writer_flush(w, 0);
	return 0;
}

static int put_edge(const struct tree *t, uint32_t i, void *ctx)
{
	struct writer *w = ctx;

	if (i == t->root)
		return 0;
	if (w->nput++)
		strbuf_addstr(w->sb, ",\n");
	strbuf_addstr(w->sb, "{\"from\":");
	strbuf_add_json_string(w->sb, t->nodes[t->nodes[i].parent].id);
	strbuf_addstr(w->sb, ",\"to\":");
	strbuf_add_json_string(w->sb, t->nodes[i].id);
	strbuf_addstr(w->sb, ",\"relation\":\"parentId\"}");
	writer_flush(w, 0);
	return 0;
}

static void write_all(struct writer *w)
{
	const struct tree *t = w->t;
	struct strbuf *sb = w->sb;
	uint8_t *on_path = xcalloc(t->count ? t->count : 1, 1);
	size_t k;

	for (k = 0; k < t->path_len; k++)
		if (t->path[k] < t->count)
			on_path[t->path[k]] = 1;
	w->on_path = on_path;
	strbuf_addstr(sb, "{\"nodes\":[\n");
	tree_walk(t, put_node, w);
	strbuf_addstr(sb, "\n],\n\"edges\":[\n");
	w->nput = 0;
	tree_walk(t, put_edge, w);
	strbuf_addstr(sb, "\n],\n\"name\":");
	strbuf_add_json_string(sb, t->name ? t->name : "");
	strbuf_addstr(sb, ",\n\"pathNodes\":[");
	for (k = 0; k < t->path_len; k++) {
		if (k)
			strbuf_addch(sb, ',');
		strbuf_add_json_string(sb, t->nodes[t->path[k]].id);
		writer_flush(w, 0);
	}
	strbuf_addstr(sb, "]");
	if (t->focus != TREE_NONE) {
		strbuf_addstr(sb, ",\n\"focusedId\":");
		strbuf_add_json_string(sb, t->nodes[t->focus].id);
	}
	if (t->weft_json && t->weft_json[0]) {
		strbuf_addstr(sb, ",\n\"weft\":");
		strbuf_addstr(sb, t->weft_json);
	}
	if (t->extra_json && t->extra_json[0]) {
		strbuf_addstr(sb, ",\n");
		strbuf_addstr(sb, t->extra_json);
	}
	strbuf_addstr(sb, "\n}\n");
	writer_flush(w, 1);
	free(on_path);
}

void session_write(const struct tree *t, struct strbuf *out)
{
	struct writer w = {out, t, NULL, -1, 0, 0};

	write_all(&w);
}

/* The atomic write of session_save and session_save_replayed. */
static int save_file(const struct tree *t, const char *path, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct writer w = {&sb, t, NULL, -1, 0, 0};
	struct atomicfile af;
	int r;

	if (atomicfile_open(&af, path, err) < 0)
		return -1;
	w.fd = af.fd;
	write_all(&w);
	r = atomicfile_commit(&af, w.errn, err);
	if (r == 0)
		atomicfile_remove_stale(path);
	strbuf_release(&sb);
	return r;
}

int session_save(const struct tree *t, const char *path, struct errbuf *err)
{
	struct strbuf journal = STRBUF_INIT;
	struct stat st;

	/* A journal beside path holds changes to the file there now: the next
	 * opening would replay them onto what this writes. */
	strbuf_addf(&journal, "%s.journal", path);
	if (lstat(journal.data, &st) == 0) {
		errbuf_set(err,
			   "%s: %s holds changes not yet saved in it; open %s in weft to "
			   "save them, or move the journal away, before writing over it",
			   path, journal.data, path);
		strbuf_release(&journal);
		return -1;
	}
	strbuf_release(&journal);
	return save_file(t, path, err);
}

int session_save_replayed(const struct tree *t, const char *path, struct errbuf *err)
{
	struct strbuf journal = STRBUF_INIT;
	int r = -1;

	if (save_file(t, path, err) < 0)
		return -1;
	/* the journal's changes are all in the file now, synced */
	strbuf_addf(&journal, "%s.journal", path);
	if (unlink(journal.data) && errno != ENOENT)
		errbuf_set(err, "%s: saved, but cannot remove %s: %s", path, journal.data,
			   strerror(errno));
	else
		r = 0;
	strbuf_release(&journal);
	return r;
}

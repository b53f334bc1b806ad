#include "weft/tree.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "weft/xalloc.h"

/* Arena: strings are appended to blocks and freed all at once.  Blocks
 * double from ARENA_FIRST to ARENA_BLOCK, so a small tree (a test, a
 * fuzzer's input, a journal replay) does not map megabytes. */
#define ARENA_FIRST (1u << 12)
#define ARENA_BLOCK (1u << 20)

struct tree_arena_block {
	struct tree_arena_block *next;
	size_t used, size;
	char data[];
};

static char *arena_alloc(struct tree_arena_block **arena, size_t len)
{
	struct tree_arena_block *b = *arena;
	char *p;

	if (!b || b->size - b->used < len) {
		size_t size = b ? b->size * 2 : ARENA_FIRST;

		if (size > ARENA_BLOCK)
			size = ARENA_BLOCK;
		if (len > ARENA_BLOCK / 4 || len > size)
			size = len;

		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		if (size == len && *arena) {
			/* a big string gets its own block, kept behind the current one */
			b->next = (*arena)->next;
			(*arena)->next = b;
		} else {
			b->next = *arena;
			*arena = b;
		}
	}
	p = b->data + b->used;
	b->used += len;
	return p;
}

const char *tree_intern(struct tree *t, const char *s, size_t len)
{
	char *p = arena_alloc(&t->arena, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void arena_free(struct tree_arena_block *b)
{
	while (b) {
		struct tree_arena_block *next = b->next;

		free(b);
		b = next;
	}
}

static const char *intern_or_null(struct tree *t, const char *s)
{
	return s ? tree_intern(t, s, strlen(s)) : NULL;
}

/* ---- id hash table ------------------------------------------------------ */

/*
 * Open addressing with linear probing, at most half full.  Each slot keeps
 * its id's hash beside the node index, so a probe compares the id's bytes
 * only when the hashes agree (almost only for the id sought) and growing
 * the table never reads an id again.  The index of a slot is the hash's
 * low bits.
 */

uint32_t tree_id_hash(const char *id, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len, w;

	/* eight bytes at a time: an id is usually one to three words */
	while (len >= 8) {
		memcpy(&w, id, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		id += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, id, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (uint32_t)(h ^ (h >> 32));
}

/* The slot holding id, or the empty slot where it would go. */
static size_t slot_for(const struct tree *t, const char *id, uint32_t hash)
{
	size_t mask = t->slot_cap - 1, i = hash & mask;

	for (;;) {
		const struct tree_slot *s = &t->slots[i];

		if (s->node == TREE_NONE || (s->hash == hash && !strcmp(t->nodes[s->node].id, id)))
			return i;
		i = (i + 1) & mask;
	}
}

/*
 * Asks for huge pages under a big table: every probe of the id table lands
 * on a random slot, and with 4 KiB pages most of them also miss the TLB.
 * Only advice: without transparent huge pages nothing changes.
 */
static void huge_pages(void *p, size_t size)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t to = ((uintptr_t)p + size) & ~(huge - 1);

	if (to > from)
		madvise((void *)from, to - from, MADV_HUGEPAGE);
}

static void rehash(struct tree *t, size_t cap)
{
	struct tree_slot *old = t->slots;
	size_t old_cap = t->slot_cap, k, mask = cap - 1;

	t->slots = xreallocarray(NULL, cap, sizeof(*t->slots));
	huge_pages(t->slots, cap * sizeof(*t->slots));
	memset(t->slots, 0xff, cap * sizeof(*t->slots));
	t->slot_cap = cap;
	for (k = 0; k < old_cap; k++) {
		size_t i;

		if (old[k].node == TREE_NONE)
			continue;
		/* ids are distinct: only an empty slot is needed */
		for (i = old[k].hash & mask; t->slots[i].node != TREE_NONE; i = (i + 1) & mask)
			;
		t->slots[i] = old[k];
	}
	free(old);
}

uint32_t tree_find(const struct tree *t, const char *id)
{
	if (!t->slot_cap)
		return TREE_NONE;
	return t->slots[slot_for(t, id, tree_id_hash(id, strlen(id)))].node;
}

void tree_prefetch_id(const struct tree *t, const char *id, size_t len)
{
	if (t->slot_cap)
		__builtin_prefetch(&t->slots[tree_id_hash(id, len) & (t->slot_cap - 1)]);
}

static void grow_nodes(struct tree *t, size_t need)
{
	size_t cap = t->cap;

	XGROW(t->nodes, cap, need);
	t->cap = (uint32_t)(cap > TREE_NONE - 1 ? TREE_NONE - 1 : cap);
}

void tree_reserve(struct tree *t, uint32_t nodes)
{
	size_t cap = t->slot_cap;

	if (nodes > TREE_NONE - 1)
		nodes = TREE_NONE - 1;
	if (nodes > t->cap)
		grow_nodes(t, nodes);
	while ((size_t)nodes * 2 > cap)
		cap *= 2;
	if (cap > t->slot_cap)
		rehash(t, cap);
}

/* ---- life cycle --------------------------------------------------------- */

struct tree *tree_new(void)
{
	struct tree *t = xcalloc(1, sizeof(*t));
	struct timespec ts;

	t->root = TREE_NONE;
	t->focus = TREE_NONE;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->id_salt = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
		     ((uint64_t)(uintptr_t)t << 16);
	rehash(t, 64);
	return t;
}

void tree_step_free(struct tree_step *s)
{
	if (!s)
		return;
	free(s->candidates);
	free(s->scores);
	free(s->judge_raw);
	free(s->judge_prompt);
	free(s->rank_mode);
	free(s->needs_human);
	free(s->extra_json);
	free(s);
}

void tree_free(struct tree *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; i < t->count; i++)
		tree_step_free(t->nodes[i].step);
	arena_free(t->arena);
	arena_free(t->id_arena);
	free(t->nodes);
	free(t->slots);
	free(t->path);
	free(t->name);
	free(t->weft_json);
	free(t->extra_json);
	free(t);
}

/* ---- adding and linking ------------------------------------------------- */

static void fresh_id(struct tree *t, char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

	do {
		uint64_t v = t->id_salt + 0x9e3779b97f4a7c15ull * ++t->next_id;
		size_t n = 0;

		v ^= v >> 31;
		buf[n++] = 'w';
		while (v && n < size - 1) {
			buf[n++] = digits[v % 36];
			v /= 36;
		}
		buf[n] = '\0';
	} while (tree_find(t, buf) != TREE_NONE);
}

uint32_t tree_add_detached(struct tree *t, const char *id, const char *text, size_t text_len)
{
	char idbuf[24];
	struct tree_node *n;
	size_t slot, id_len;
	uint32_t i, hash;

	if (!id) {
		fresh_id(t, idbuf, sizeof(idbuf));
		id = idbuf;
	}
	if (t->count == TREE_NONE - 1)
		return TREE_NONE;
	if ((size_t)(t->count + 1) * 2 > t->slot_cap)
		rehash(t, t->slot_cap * 2);
	id_len = strlen(id);
	hash = tree_id_hash(id, id_len);
	slot = slot_for(t, id, hash);
	if (t->slots[slot].node != TREE_NONE)
		return TREE_NONE; /* the id is taken */
	if (t->count == t->cap)
		grow_nodes(t, (size_t)t->count + 1);
	i = t->count++;
	n = &t->nodes[i];
	memset(n, 0, sizeof(*n));
	/* ids in an arena of their own: the loader's link checks compare many
	 * ids, which then share cache lines instead of sitting between texts */
	n->id = arena_alloc(&t->id_arena, id_len + 1);
	memcpy((char *)n->id, id, id_len + 1);
	n->text = tree_intern(t, text ? text : "", text ? text_len : 0);
	n->text_len = text ? text_len : 0;
	n->parent = n->first_child = n->last_child = TREE_NONE;
	n->next_sibling = n->prev_sibling = TREE_NONE;
	t->slots[slot].node = i;
	t->slots[slot].hash = hash;
	return i;
}

int tree_link(struct tree *t, uint32_t parent, uint32_t child)
{
	struct tree_node *p = &t->nodes[parent];
	struct tree_node *c = &t->nodes[child];

	if (parent == child || c->parent != TREE_NONE || child == t->root)
		return -1;
	c->parent = parent;
	c->prev_sibling = p->last_child;
	c->next_sibling = TREE_NONE;
	if (p->last_child != TREE_NONE)
		t->nodes[p->last_child].next_sibling = child;
	else
		p->first_child = child;
	p->last_child = child;
	p->child_count++;
	return 0;
}

void tree_set_root(struct tree *t, uint32_t root)
{
	t->root = root;
	if (t->focus == TREE_NONE)
		t->focus = root;
	if (!t->path_len && root != TREE_NONE)
		tree_set_path(t, &root, 1);
}

uint32_t tree_add(struct tree *t, uint32_t parent, const char *id, const char *text,
		  size_t text_len)
{
	uint32_t i;

	if (parent == TREE_NONE && t->root != TREE_NONE)
		return TREE_NONE;
	i = tree_add_detached(t, id, text, text_len);
	if (i == TREE_NONE)
		return TREE_NONE;
	t->nodes[i].created = (int64_t)time(NULL);
	if (parent == TREE_NONE)
		tree_set_root(t, i);
	else
		tree_link(t, parent, i);
	return i;
}

/* ---- metadata ----------------------------------------------------------- */

void tree_set_model(struct tree *t, uint32_t i, const char *model)
{
	t->nodes[i].model = intern_or_null(t, model);
}

void tree_set_finish_reason(struct tree *t, uint32_t i, const char *reason)
{
	t->nodes[i].finish_reason = intern_or_null(t, reason);
}

void tree_set_extra(struct tree *t, uint32_t i, const char *extra_json, const char *weft_extra_json)
{
	t->nodes[i].extra_json = intern_or_null(t, extra_json);
	t->nodes[i].weft_extra_json = intern_or_null(t, weft_extra_json);
}

void tree_set_score(struct tree *t, uint32_t i, double score, int32_t rank)
{
	t->nodes[i].score = score;
	t->nodes[i].rank = rank;
	t->nodes[i].flags |= TREE_HAS_SCORE;
}

void tree_set_flag(struct tree *t, uint32_t i, uint32_t flag, int on)
{
	if (on)
		t->nodes[i].flags |= flag;
	else
		t->nodes[i].flags &= ~flag;
}

struct tree_step *tree_step_get(struct tree *t, uint32_t i)
{
	struct tree_node *n = &t->nodes[i];

	if (!n->step) {
		n->step = xcalloc(1, sizeof(*n->step));
		n->step->judge_pick = TREE_NONE;
		n->step->final_pick = TREE_NONE;
	}
	return n->step;
}

void tree_step_add_candidate(struct tree_step *s, uint32_t node, double score, int has_score)
{
	size_t n = s->count + 1;

	s->candidates = xreallocarray(s->candidates, n, sizeof(*s->candidates));
	s->candidates[s->count] = node;
	if (has_score && !s->scores)
		s->scores = xcalloc(n, sizeof(*s->scores)); /* earlier ones: 0 */
	else if (s->scores)
		s->scores = xreallocarray(s->scores, n, sizeof(*s->scores));
	if (s->scores)
		s->scores[s->count] = has_score ? score : 0;
	s->count = n;
}

void tree_step_set_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup_or_null(value);
}

void tree_set_name(struct tree *t, const char *name)
{
	free(t->name);
	t->name = xstrdup_or_null(name);
}

void tree_set_weft_json(struct tree *t, const char *json)
{
	free(t->weft_json);
	t->weft_json = xstrdup_or_null(json);
}

void tree_set_top_extra(struct tree *t, const char *extra_json)
{
	free(t->extra_json);
	t->extra_json = xstrdup_or_null(extra_json);
}

/* ---- structure queries -------------------------------------------------- */

int tree_is_pruned(const struct tree *t, uint32_t i)
{
	while (i != TREE_NONE) {
		if (t->nodes[i].flags & TREE_PRUNED)
			return 1;
		i = t->nodes[i].parent;
	}
	return 0;
}

size_t tree_depth(const struct tree *t, uint32_t i)
{
	size_t d = 0;

	while (t->nodes[i].parent != TREE_NONE) {
		i = t->nodes[i].parent;
		d++;
	}
	return d;
}

void tree_document(const struct tree *t, uint32_t i, struct strbuf *out)
{
	size_t depth = tree_depth(t, i);
	uint32_t *chain = xreallocarray(NULL, depth + 1, sizeof(*chain));
	size_t k = depth + 1, total = 0;
	uint32_t j = i;

	while (k > 0) {
		chain[--k] = j;
		total += t->nodes[j].text_len;
		j = t->nodes[j].parent;
	}
	strbuf_grow(out, total);
	for (k = 0; k <= depth; k++)
		strbuf_add(out, t->nodes[chain[k]].text, t->nodes[chain[k]].text_len);
	free(chain);
}

uint32_t tree_child_at(const struct tree *t, uint32_t i, size_t k)
{
	uint32_t c;

	for (c = t->nodes[i].first_child; c != TREE_NONE; c = t->nodes[c].next_sibling) {
		if (t->nodes[c].flags & TREE_PRUNED)
			continue;
		if (k-- == 0)
			return c;
	}
	return TREE_NONE;
}

size_t tree_visible_children(const struct tree *t, uint32_t i)
{
	size_t n = 0;
	uint32_t c;

	for (c = t->nodes[i].first_child; c != TREE_NONE; c = t->nodes[c].next_sibling)
		if (!(t->nodes[c].flags & TREE_PRUNED))
			n++;
	return n;
}

int tree_walk(const struct tree *t, int (*visit)(const struct tree *t, uint32_t i, void *ctx),
	      void *ctx)
{
	uint32_t i = t->root;

	if (i == TREE_NONE || (t->nodes[i].flags & TREE_PRUNED))
		return 0;
	for (;;) {
		int r = visit(t, i, ctx);
		uint32_t next;

		if (r)
			return r;
		/* descend to the first visible child */
		next = t->nodes[i].first_child;
		while (next != TREE_NONE && (t->nodes[next].flags & TREE_PRUNED))
			next = t->nodes[next].next_sibling;
		if (next != TREE_NONE) {
			i = next;
			continue;
		}
		/* else the next visible sibling of i or of an ancestor */
		for (;;) {
			if (i == t->root)
				return 0;
			next = t->nodes[i].next_sibling;
			while (next != TREE_NONE && (t->nodes[next].flags & TREE_PRUNED))
				next = t->nodes[next].next_sibling;
			if (next != TREE_NONE) {
				i = next;
				break;
			}
			i = t->nodes[i].parent;
		}
	}
}

/* ---- focus, path, pruning ----------------------------------------------- */

long tree_path_index(const struct tree *t, uint32_t i)
{
	size_t d;

	if (i == TREE_NONE)
		return -1;
	d = tree_depth(t, i);
	if (d < t->path_len && t->path[d] == i)
		return (long)d;
	return -1;
}

uint32_t tree_path_tip(const struct tree *t)
{
	return t->path_len ? t->path[t->path_len - 1] : t->root;
}

static void path_to(struct tree *t, uint32_t i)
{
	size_t depth = tree_depth(t, i);
	size_t k = depth + 1;

	XGROW(t->path, t->path_cap, depth + 1);
	t->path_len = depth + 1;
	while (k > 0) {
		t->path[--k] = i;
		i = t->nodes[i].parent;
	}
}

void tree_set_focus(struct tree *t, uint32_t i)
{
	if (i == TREE_NONE)
		return;
	t->focus = i;
}

void tree_path_through(struct tree *t, uint32_t i)
{
	if (i == TREE_NONE || i >= t->count)
		return;
	if (tree_path_index(t, i) < 0)
		path_to(t, i);
}

int tree_set_path(struct tree *t, const uint32_t *path, size_t len)
{
	size_t k;

	if (!len || path[0] != t->root)
		return -1;
	for (k = 1; k < len; k++)
		if (path[k] >= t->count || t->nodes[path[k]].parent != path[k - 1] ||
		    (t->nodes[path[k]].flags & TREE_PRUNED))
			return -1;
	XGROW(t->path, t->path_cap, len);
	memcpy(t->path, path, len * sizeof(*path));
	t->path_len = len;
	return 0;
}

int tree_prune(struct tree *t, uint32_t i)
{
	uint32_t parent;
	long at;

	if (i == t->root || i >= t->count)
		return -1;
	parent = t->nodes[i].parent;
	t->nodes[i].flags |= TREE_PRUNED;
	at = tree_path_index(t, i);
	if (at > 0)
		t->path_len = (size_t)at;
	if (tree_is_pruned(t, t->focus))
		t->focus = parent;
	return 0;
}

void tree_unprune(struct tree *t, uint32_t i)
{
	t->nodes[i].flags &= ~(uint32_t)TREE_PRUNED;
}

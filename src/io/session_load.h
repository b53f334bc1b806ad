#ifndef WEFT_SESSION_LOAD_H
#define WEFT_SESSION_LOAD_H
/*
 * The session loader's insides, shared by session.c (the top-level walk and
 * the whole file), session_node.c (one node) and session_links.c (parents,
 * children, steps, edges and the path).  Not an interface: only these
 * files include it.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

/*
 * Loading never builds one DOM of the whole file: the top-level object is
 * walked here, byte by byte, and each array element (a node, an edge, a path
 * id) is read on its own into a struct jdoc (session_json.c), reused from
 * one element to the next; other top-level values are parsed by cJSON.  Ids
 * named by links are kept in a scratch pool until every node is read, then
 * resolved; nothing recurses on the tree's depth.
 */

/* ---- one JSON value, read (session_json.c) ---------------------------- */

enum jval_type { JV_NULL, JV_FALSE, JV_TRUE, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

/*
 * One value of a jdoc.  Values are numbered from 0, the element itself;
 * 0 also means "none" in child and next (the element is nobody's child).
 * Strings (and keys) are decoded, NUL-terminated, in the jdoc's buffer at
 * an offset; a string value holds no NUL (weft refuses \u0000).
 */
struct jval {
	uint8_t type;	/* enum jval_type */
	uint32_t child; /* first member or element */
	uint32_t next;	/* next member or element of the parent */
	uint32_t count; /* members or elements */
	size_t key;	/* offset of a member's key ("" otherwise) */
	size_t klen;	/* its length */
	size_t str;	/* offset of a string's bytes */
	size_t len;	/* their length */
	double num;
	const char *raw, *raw_end; /* the value's text, when the quick reader read it */
	const cJSON *item;	   /* or the cJSON item it was copied from */
};

struct jdoc {
	struct jval *v; /* n used of cap */
	size_t n, cap;
	struct strbuf s; /* decoded strings and keys */
	cJSON *owned;	 /* cJSON's reading, when it read the element */
	int dry;	 /* jdoc_skip at work: nothing is kept */
};

void jdoc_init(struct jdoc *d);
void jdoc_release(struct jdoc *d);
static inline const char *jv_str(const struct jdoc *d, uint32_t i)
{
	return d->s.data + d->v[i].str;
}
static inline const char *jv_key(const struct jdoc *d, uint32_t i)
{
	return d->s.data + d->v[i].key;
}
/* Whether member i's key is the n bytes of lit; KEY_IS(d, i, "literal"). */
static inline int jv_key_is(const struct jdoc *d, uint32_t i, const char *lit, size_t n)
{
	return d->v[i].klen == n && !memcmp(d->s.data + d->v[i].key, lit, n);
}
#define KEY_IS(d, i, lit) jv_key_is((d), (i), (lit), sizeof(lit) - 1)
static inline int jv_is(const struct jdoc *d, uint32_t i, enum jval_type type)
{
	return d->v[i].type == type;
}
static inline int jv_is_bool(const struct jdoc *d, uint32_t i)
{
	return d->v[i].type == JV_TRUE || d->v[i].type == JV_FALSE;
}
/* The first member of object o named key, or 0 (as
 * cJSON_GetObjectItemCaseSensitive). */
uint32_t jdoc_member(const struct jdoc *d, uint32_t o, const char *key);
/* Appends ,"KEY":VALUE for member i (no comma when sb is empty), the value
 * as cJSON_PrintUnformatted writes it. */
void jdoc_add_member(struct strbuf *sb, const struct jdoc *d, uint32_t i);

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
	const char *checked; /* bytes before it were checked for bad_utf8 */
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
	struct jdoc doc;	/* the element being read */
	struct strbuf scratch;	/* for one node's lastVisited */
	const char *last_model; /* the previous node's strings, shared when equal */
	const char *last_finish, *last_group, *last_visited;
};

/* Reads the value at l->p into d (cJSON when the quick reader declines)
 * and moves past it; -1 with the error set as cJSON's syntax error. */
int jdoc_read(struct loader *l, struct jdoc *d);
/* The same for a value whose syntax alone matters: d keeps nothing of it
 * (unless cJSON had to read it). */
int jdoc_skip(struct loader *l, struct jdoc *d);
/* Checks the file's UTF-8 up to upto at least (session.c): bad_utf8 is
 * then the first invalid byte of the file if there is one before upto. */
void loader_check_utf8(struct loader *l, const char *upto);
/* cJSON's parse of the value at l->p (session.c); NULL with err set. */
cJSON *loader_parse_value(struct loader *l);


/* A printable short form of an id for messages: invalid bytes as \xNN,
 * cut after ID_SHOW bytes, written into buf. */
const char *loader_show_id(const char *id, char *buf, size_t size);
#define SHOW(id, b) loader_show_id((id), (b), sizeof(b))

/* Each sets the loader's error ("FILE: node 'ID': WHAT", "FILE: WHAT") and
 * returns -1. */
int loader_node_error(struct loader *l, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int loader_file_error(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An id kept in the scratch pool, by its offset. */
static inline const char *pool_str(const struct loader *l, size_t off)
{
	return l->pool.data + off;
}

/* session_node.c: reads nodes[index] (value 0 of d, which starts at start)
 * into the tree, its links into the pool. */
int loader_node(struct loader *l, const struct jdoc *d, const char *start, size_t index);

/* session_links.c: once every node is read, links parents and children,
 * then each step's candidates, checking the tree is one tree. */
int loader_resolve_links(struct loader *l);
int loader_resolve_steps(struct loader *l);
/* session_links.c: one element of "edges" and of "pathNodes". */
int loader_edge(struct loader *l, const struct jdoc *d, const char *start, size_t index);
int loader_path_node(struct loader *l, const struct jdoc *d, const char *start, size_t index);

#endif

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

#include "weft/errbuf.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

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

/* session_node.c: reads nodes[index] (o, which starts at start) into the
 * tree, its links into the pool. */
int loader_node(struct loader *l, cJSON *o, const char *start, size_t index);

/* session_links.c: once every node is read, links parents and children,
 * then each step's candidates, checking the tree is one tree. */
int loader_resolve_links(struct loader *l);
int loader_resolve_steps(struct loader *l);
/* session_links.c: one element of "edges" and of "pathNodes". */
int loader_edge(struct loader *l, cJSON *o, const char *start, size_t index);
int loader_path_node(struct loader *l, cJSON *v, const char *start, size_t index);

#endif

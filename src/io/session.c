#include "weft/session.h"

#include <ctype.h>
#include <cjson/cJSON.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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

#include "session_load.h"

/* ---- messages ----------------------------------------------------------- */

/*
 * Offset of the first byte that is not valid UTF-8 (or a NUL), or NO_OFF.
 * Runs of eight ASCII bytes with no NUL are passed a word at a time (a
 * session is mostly ASCII); anything else goes through utf8_decode, whose
 * continuation bytes are never NUL, so a NUL is always found where it is.
 */
static size_t utf8_first_invalid(const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t k;

#if defined(__SSE2__)
		/* sixteen bytes at a time: no high bit, no zero byte */
		if (len - i >= 16) {
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i zero = _mm_cmpeq_epi8(w, _mm_setzero_si128());
			int mask = _mm_movemask_epi8(_mm_or_si128(w, zero));

			if (!mask) {
				i += 16;
				continue;
			}
			/* the plain bytes before the first other one */
			i += (size_t)__builtin_ctz((unsigned)mask);
		}
#endif
		if (len - i >= 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (!((w | ((w - ones) & ~w)) & highs)) {
				i += 8;
				continue;
			}
		}
		if (s[i] && s[i] < 0x80) {
			i++;
			continue;
		}
		k = s[i] ? utf8_decode(s + i, len - i, &cp) : 0;
		if (!k)
			return i;
		i += k;
	}
	return NO_OFF;
}

/* The UTF-8 check runs this far ahead of the reader, so the reader finds
 * the bytes still in the cache instead of reading the file from memory a
 * second time. */
#define UTF8_AHEAD ((size_t)256 << 10)

void loader_check_utf8(struct loader *l, const char *upto)
{
	if (upto > l->end)
		upto = l->end;
	while (l->checked < upto && l->bad_utf8 == NO_OFF) {
		size_t n = (size_t)(l->end - l->checked), r;

		if (n > UTF8_AHEAD)
			n = UTF8_AHEAD;
		r = utf8_first_invalid(l->checked, n);
		if (r == NO_OFF)
			l->checked += n;
		else if (l->checked + n < l->end && n - r < 4)
			l->checked += r; /* a character cut by the chunk's end */
		else
			l->bad_utf8 = (size_t)(l->checked + r - l->base);
	}
}

const char *loader_show_id(const char *id, char *buf, size_t size)
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

/* declared again here, where make check-deps looks for the format */
int loader_node_error(struct loader *l, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int loader_node_error(struct loader *l, const char *id, const char *fmt, ...)
{
	char what[512], b[ID_SHOW * 4 + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return errbuf_set(l->err, "%s: node '%s': %s", l->name, SHOW(id, b), what);
}

int loader_file_error(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int loader_file_error(struct loader *l, const char *fmt, ...)
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

/*
 * The first \u escape in JSON text [p, end) without four hex digits, or
 * NULL.  cJSON reads one as U+0000, and keeps strings NUL-terminated, so
 * it would silently cut its string and the rest be lost at the next save
 * (a real \u0000 is refused where the strings are read).  Outside strings
 * a backslash is a syntax error, so the two bytes from a backslash are an
 * escape.
 */
static const char *bad_unicode_escape(const char *p, const char *end)
{
	for (p = memchr(p, '\\', (size_t)(end - p)); p && end - p >= 2;
	     p = memchr(p, '\\', (size_t)(end - p))) {
		int k;

		for (k = 2; p[1] == 'u' && k < 6; k++)
			if (k >= end - p || !isxdigit((unsigned char)p[k]))
				return p;
		p += 2;
	}
	return NULL;
}

cJSON *loader_parse_value(struct loader *l)
{
	const char *endp = NULL, *bad;
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
	bad = bad_unicode_escape(l->p, endp);
	if (bad) {
		cJSON_Delete(item);
		loc_error(l, bad,
			  "a \\u escape without four hex digits (it would cut its text "
			  "short)");
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

typedef int (*element_fn)(struct loader *l, const struct jdoc *d, const char *start, size_t index);

/*
 * Walks the array at l->p, reading one element at a time into l->doc and
 * calling fn (which may be NULL: syntax only).  what names the array in
 * messages.
 */
static int walk_array(struct loader *l, const char *what, element_fn fn)
{
	size_t index = 0;

	skip_ws(l);
	if (l->p >= l->end)
		return loc_error(l, l->end, "unexpected end of file (truncated?)");
	if (*l->p != '[') {
		cJSON *v = loader_parse_value(l);

		if (!v)
			return -1;
		cJSON_Delete(v);
		return loader_file_error(l, "\"%s\" is not an array", what);
	}
	l->p++;
	skip_ws(l);
	if (l->p < l->end && *l->p == ']') {
		l->p++;
		return 0;
	}
	for (;;) {
		const char *start;
		int r = 0;

		skip_ws(l);
		start = l->p;
		loader_check_utf8(l, l->p + UTF8_AHEAD / 2);
		if (fn ? jdoc_read(l, &l->doc) : jdoc_skip(l, &l->doc))
			return -1;
		if (fn)
			r = fn(l, &l->doc, start, index);
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

/* ---- the whole file ----------------------------------------------------- */

static int top_value(struct loader *l, const char *key)
{
	const char *start = l->p;
	cJSON *v;

	if (!strcmp(key, "nodes")) {
		if (l->seen_nodes++)
			return loader_file_error(l, "top-level key \"nodes\" appears twice");
		return walk_array(l, "nodes", loader_node);
	}
	if (!strcmp(key, "edges") || !strcmp(key, "pathNodes")) {
		const char **at = key[0] == 'e' ? &l->edges : &l->path;

		if (*at)
			return loader_file_error(l, "top-level key \"%s\" appears twice", key);
		skip_ws(l);
		*at = l->p;
		return walk_array(l, key, NULL);
	}
	v = loader_parse_value(l);
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
		return loader_file_error(l, "top-level \"weft\" is not an object or appears twice");
	return loader_file_error(l, "top-level \"%s\" is not a string or appears twice", key);
}

static int walk_top(struct loader *l)
{
	skip_ws(l);
	if (l->p >= l->end)
		return loader_file_error(l, "empty file (not JSON)");
	if (*l->p != '{') {
		cJSON *v = loader_parse_value(l);

		if (!v)
			return -1;
		cJSON_Delete(v);
		return loader_file_error(l, "the top level is not a JSON object");
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
			key = loader_parse_value(l);
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
	loader_check_utf8(l, l->end);
	if (l->bad_utf8 != NO_OFF)
		return loc_error(l, l->base + l->bad_utf8, "invalid UTF-8 (or a NUL byte)");
	if (!l->seen_nodes)
		return loader_file_error(l, "missing \"nodes\"");
	return 0;
}

static int finish(struct loader *l)
{
	struct tree *t = l->t;
	uint32_t i;

	if (loader_resolve_links(l) || loader_resolve_steps(l))
		return -1;
	if (l->edges) {
		l->p = l->edges;
		l->edge_seen = xcalloc(t->count, 1);
		if (walk_array(l, "edges", loader_edge))
			return -1;
		if (l->nedges)
			for (i = 0; i < t->count; i++)
				if (i != t->root && !l->edge_seen[i])
					return loader_node_error(
					    l, t->nodes[i].id,
					    "no edge from its parent in \"edges\"");
	}
	if (l->path) {
		l->p = l->path;
		if (walk_array(l, "pathNodes", loader_path_node))
			return -1;
		if (l->path_len)
			tree_set_path(t, l->path_idx, l->path_len);
	}
	if (l->focus) {
		char b[ID_SHOW * 4 + 16];

		i = tree_find(t, l->focus);
		if (i == TREE_NONE)
			return loader_file_error(l, "\"focusedId\" names '%s', which is not a node",
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
	strbuf_init(&l.scratch);
	jdoc_init(&l.doc);
	if (len > SESSION_MAX_BYTES)
		return loader_file_error(&l, "larger than %zu bytes", SESSION_MAX_BYTES);
	l.p += utf8_bom_len(data, len);
	l.bad_utf8 = NO_OFF;
	l.checked = data;
	l.t = tree_new();
	/* weft writes about 600 bytes a node (Bonsai files more): room for
	 * that many from the start spares the id table its regrowths; a file
	 * of shorter nodes grows it as usual */
	tree_reserve(l.t, (uint32_t)(len / 600 < TREE_NONE - 1 ? len / 600 : TREE_NONE - 1));
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
	strbuf_release(&l.scratch);
	jdoc_release(&l.doc);
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
			return loader_node_error(l, s->id, "step names '%s', which is not a child",
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
				return loader_node_error(
				    l, n->id, "step candidate '%s' is not a child", SHOW(cid, b));
			tree_step_add_candidate(d, c, s->step->scores ? s->step->scores[k] : 0,
						s->step->scores != NULL);
		}
		for (k = 0; k < 2; k++) {
			uint32_t c;

			if (offs[k] == NO_OFF)
				continue;
			c = tree_find(t, pool_str(l, offs[k]));
			if (c == TREE_NONE || t->nodes[c].parent != i)
				return loader_node_error(l, n->id, "step pick '%s' is not a child",
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
	uint32_t i;
	int r = -1;

	memset(&l, 0, sizeof(l));
	l.name = name;
	l.base = l.p = json;
	l.end = json + len;
	l.err = err;
	l.dropped = json;
	l.bad_utf8 = NO_OFF;
	l.checked = json;
	strbuf_init(&l.pool);
	strbuf_init(&l.extra);
	strbuf_init(&l.scratch);
	jdoc_init(&l.doc);
	l.t = tree_new();
	skip_ws(&l);
	if (jdoc_read(&l, &l.doc))
		goto out;
	r = loader_node(&l, &l.doc, json, 0);
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
				loader_node_error(
				    &l, l.t->nodes[0].id,
				    "\"parentIds\" names a node that is not in the tree");
				goto out;
			}
		} else if (t->root != TREE_NONE) {
			loader_node_error(&l, l.t->nodes[0].id, "a second root");
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
	strbuf_release(&l.scratch);
	jdoc_release(&l.doc);
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

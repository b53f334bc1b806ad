/*
 * Writing a session (session.h): the tree as Bonsai-style JSON, streamed
 * to a temporary file that replaces the old one, or into a buffer.
 */
#include "weft/session.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/xalloc.h"

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

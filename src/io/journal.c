#include "weft/journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/session.h"
#include "weft/xalloc.h"

/* Longest journal line read (a node with a long text). */
#define JOURNAL_MAX_LINE ((size_t)64 << 20)

void journal_path(const char *session_path, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addstr(out, session_path);
	strbuf_addstr(out, ".journal");
}

/*
 * A crash can leave a last line without its newline; replay ignores it, and
 * so must the file: cut it off before appending, so that it never ends up
 * in the middle.  Sets *end to where the next line starts.
 */
static int drop_torn_tail(int fd, off_t *end)
{
	char buf[4096];
	off_t size = lseek(fd, 0, SEEK_END), pos;

	if (size < 0)
		return -1;
	pos = size;
	while (pos > 0) {
		off_t from = pos > (off_t)sizeof(buf) ? pos - (off_t)sizeof(buf) : 0;
		ssize_t n = pread(fd, buf, (size_t)(pos - from), from);

		if (n <= 0)
			return -1;
		while (n > 0 && buf[n - 1] != '\n')
			n--;
		if (n > 0) {
			pos = from + n;
			break;
		}
		pos = from;
	}
	*end = pos;
	if (pos != size && ftruncate(fd, pos))
		return -1;
	return 0;
}

/*
 * Opens the journal at path (of the session at session_path) with flags.
 * It must be a regular file and not a symbolic link (a link could point
 * weft's appends and repairs at another file); it is created with the
 * session's permissions and never left more open than the session (a
 * journal of a 0600 session is 0600).  Returns the descriptor, -1 with err
 * set, or -2 (err untouched) when it does not exist and O_CREAT is not in
 * flags.
 */
static int journal_open(const char *session_path, const char *path, int flags, struct errbuf *err)
{
	struct stat ss, js;
	mode_t mode = 0600;
	int fd, fl;

	if (stat(session_path, &ss) == 0)
		mode = ss.st_mode & 0666;
	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
	if (fd < 0) {
		if (errno == ENOENT && !(flags & O_CREAT))
			return -2;
		if (errno == ELOOP)
			return errbuf_set(
			    err,
			    "%s: is a symbolic link; weft does not follow a journal's "
			    "link (move the file it points to in its place)",
			    path);
		return errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &js) < 0 || !S_ISREG(js.st_mode)) {
		close(fd);
		return errbuf_set(err, "%s: is not a regular file", path);
	}
	if ((flags & O_ACCMODE) != O_RDONLY && (js.st_mode & 0777 & ~mode) &&
	    fchmod(fd, js.st_mode & mode & 0777) < 0) {
		close(fd);
		return errbuf_set(err, "%s: cannot restrict its permissions: %s", path,
				  strerror(errno));
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

static int append_line(const char *session_path, struct strbuf *line, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	size_t off = 0;
	off_t start = 0;
	int fd, r = 0;

	journal_path(session_path, &path);
	strbuf_addch(line, '\n');
	fd = journal_open(session_path, path.data, O_RDWR | O_APPEND | O_CREAT, err);
	if (fd < 0) {
		r = -1;
		goto out;
	}
	if (drop_torn_tail(fd, &start)) {
		r = errbuf_set(err, "%s: cannot repair a torn last line: %s", path.data,
			       strerror(errno));
		close(fd);
		goto out;
	}
	while (off < line->len) {
		ssize_t n = write(fd, line->data + off, line->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errbuf_set(err, "%s: cannot write: %s", path.data, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (!r && fdatasync(fd))
		r = errbuf_set(err, "%s: cannot sync: %s", path.data, strerror(errno));
	if (r && ftruncate(fd, start) == 0) /* leave no half line behind */
		fdatasync(fd);
	if (close(fd) && !r)
		r = errbuf_set(err, "%s: cannot close: %s", path.data, strerror(errno));
out:
	strbuf_release(&path);
	return r;
}

static void put_node_op(struct strbuf *line, const struct tree *t, uint32_t i)
{
	strbuf_addstr(line, "{\"op\":\"node\",\"node\":");
	session_write_node(t, i, line);
	strbuf_addch(line, '}');
}

static void put_prune_op(struct strbuf *line, const struct tree *t, uint32_t i, int prune)
{
	strbuf_addstr(line, prune ? "{\"op\":\"prune\",\"id\":" : "{\"op\":\"unprune\",\"id\":");
	strbuf_add_json_string(line, t->nodes[i].id);
	strbuf_addch(line, '}');
}

static void put_path_op(struct strbuf *line, const struct tree *t)
{
	size_t k;

	strbuf_addstr(line, "{\"op\":\"path\",\"pathNodes\":[");
	for (k = 0; k < t->path_len; k++) {
		if (k)
			strbuf_addch(line, ',');
		strbuf_add_json_string(line, t->nodes[t->path[k]].id);
	}
	strbuf_addch(line, ']');
	if (t->focus != TREE_NONE) {
		strbuf_addstr(line, ",\"focusedId\":");
		strbuf_add_json_string(line, t->nodes[t->focus].id);
	}
	strbuf_addch(line, '}');
}

static int append_one(const char *session_path, struct strbuf *line, struct errbuf *err)
{
	int r = append_line(session_path, line, err);

	strbuf_release(line);
	return r;
}

int journal_append_node(const char *session_path, const struct tree *t, uint32_t i,
			struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;

	put_node_op(&line, t, i);
	return append_one(session_path, &line, err);
}

int journal_append_prune(const char *session_path, const struct tree *t, uint32_t i, int prune,
			 struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;

	put_prune_op(&line, t, i, prune);
	return append_one(session_path, &line, err);
}

int journal_append_path(const char *session_path, const struct tree *t, struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;

	put_path_op(&line, t);
	return append_one(session_path, &line, err);
}

void journal_batch_init(struct journal_batch *b)
{
	strbuf_init(&b->line);
	b->count = 0;
}

void journal_batch_release(struct journal_batch *b)
{
	strbuf_release(&b->line);
	b->count = 0;
}

static struct strbuf *batch_next(struct journal_batch *b)
{
	strbuf_addstr(&b->line, b->count++ ? "," : "{\"op\":\"batch\",\"ops\":[");
	return &b->line;
}

void journal_batch_node(struct journal_batch *b, const struct tree *t, uint32_t i)
{
	put_node_op(batch_next(b), t, i);
}

void journal_batch_prune(struct journal_batch *b, const struct tree *t, uint32_t i, int prune)
{
	put_prune_op(batch_next(b), t, i, prune);
}

void journal_batch_path(struct journal_batch *b, const struct tree *t)
{
	put_path_op(batch_next(b), t);
}

int journal_batch_commit(const char *session_path, struct journal_batch *b, struct errbuf *err)
{
	int r = 0;

	if (b->count) {
		strbuf_addstr(&b->line, "]}");
		r = append_line(session_path, &b->line, err);
	}
	journal_batch_release(b);
	return r;
}

static int apply_kind(struct tree *t, const char *loc, const cJSON *op, const cJSON *kind,
		      struct errbuf *err);

static uint32_t find_str(const struct tree *t, const cJSON *v)
{
	return cJSON_IsString(v) ? tree_find(t, v->valuestring) : TREE_NONE;
}

/* Applies one parsed line; 0 or -1 with err set, starting with loc. */
static int apply(struct tree *t, const char *loc, const cJSON *op, struct errbuf *err)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(op, "op");
	int r;

	if (!cJSON_IsString(kind))
		return errbuf_set(err, "%s: missing \"op\"", loc);
	r = apply_kind(t, loc, op, kind, err);
	if (r && strncmp(err->msg, loc, strlen(loc)))
		errbuf_prefix(err, "%s", loc);
	return r;
}

static int apply_kind(struct tree *t, const char *loc, const cJSON *op, const cJSON *kind,
		      struct errbuf *err)
{
	if (!strcmp(kind->valuestring, "node")) {
		const cJSON *node = cJSON_GetObjectItemCaseSensitive(op, "node");
		char *json;
		int r;

		if (!cJSON_IsObject(node))
			return errbuf_set(err, "\"node\" is not an object");
		json = cJSON_PrintUnformatted(node);
		if (!json)
			xalloc_die("out of memory");
		r = session_apply_node(t, loc, json, strlen(json), err);
		cJSON_free(json);
		return r;
	}
	if (!strcmp(kind->valuestring, "prune") || !strcmp(kind->valuestring, "unprune")) {
		uint32_t i = find_str(t, cJSON_GetObjectItemCaseSensitive(op, "id"));

		if (i == TREE_NONE)
			return errbuf_set(err, "%s of a node that is not in the tree",
					  kind->valuestring);
		if (kind->valuestring[0] == 'u')
			tree_unprune(t, i);
		else if (tree_prune(t, i))
			return errbuf_set(err, "the root cannot be pruned");
		return 0;
	}
	if (!strcmp(kind->valuestring, "path")) {
		const cJSON *ids = cJSON_GetObjectItemCaseSensitive(op, "pathNodes"), *c;
		const cJSON *focus = cJSON_GetObjectItemCaseSensitive(op, "focusedId");
		uint32_t *path = NULL, f = TREE_NONE;
		size_t n = 0, cap = 0;
		int r = 0;

		if (!cJSON_IsArray(ids))
			return errbuf_set(err, "\"pathNodes\" is not an array");
		cJSON_ArrayForEach(c, ids)
		{
			XGROW(path, cap, n + 1);
			path[n] = find_str(t, c);
			if (path[n++] == TREE_NONE)
				r = errbuf_set(
				    err, "\"pathNodes\" names a node that is not in the tree");
		}
		if (!r && focus && (f = find_str(t, focus)) == TREE_NONE)
			r = errbuf_set(err, "\"focusedId\" names a node that is not in the tree");
		if (!r && n && tree_set_path(t, path, n))
			r = errbuf_set(err, "\"pathNodes\" is not a chain of visible nodes from "
					    "the root");
		if (!r && f != TREE_NONE && tree_is_pruned(t, f))
			r = errbuf_set(err, "\"focusedId\" names a pruned node");
		if (!r && f != TREE_NONE)
			tree_set_focus(t, f);
		free(path);
		return r;
	}
	if (!strcmp(kind->valuestring, "batch")) {
		const cJSON *ops = cJSON_GetObjectItemCaseSensitive(op, "ops"), *c;

		if (!cJSON_IsArray(ops))
			return errbuf_set(err, "\"ops\" is not an array");
		cJSON_ArrayForEach(c, ops)
		{
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "op");

			if (!cJSON_IsObject(c) || !cJSON_IsString(k))
				return errbuf_set(err, "a batch entry has no \"op\"");
			if (!strcmp(k->valuestring, "batch"))
				return errbuf_set(err, "batches do not nest");
			if (apply_kind(t, loc, c, k, err))
				return -1;
		}
		return 0;
	}
	return errbuf_set(err, "unknown op \"%s\"", kind->valuestring);
}

static int blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

int journal_replay(const char *session_path, struct tree *t, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT, loc = STRBUF_INIT;
	char buf[65536];
	size_t line = 0, pos = 0;
	int fd, r = 0;
	ssize_t n;

	journal_path(session_path, &path);
	fd = journal_open(session_path, path.data, O_RDONLY, err);
	if (fd < 0) {
		r = fd == -2 ? 0 : -1;
		strbuf_release(&path);
		return r;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errbuf_set(err, "%s: cannot read: %s", path.data, strerror(errno));
			goto out;
		}
		strbuf_add(&data, buf, (size_t)n);
	}
	while (pos < data.len) {
		char *nl = memchr(data.data + pos, '\n', data.len - pos);
		size_t end = nl ? (size_t)(nl - data.data) : data.len;
		const char *rest;
		cJSON *op;

		line++;
		if (end - pos > JOURNAL_MAX_LINE) {
			r = errbuf_set(err, "%s:%zu: line longer than %zu bytes", path.data, line,
				       JOURNAL_MAX_LINE);
			goto out;
		}
		op = cJSON_ParseWithLengthOpts(data.data + pos, end - pos, &rest, 0);
		if (op && !blank(rest, data.data + end)) {
			/* one object per line, nothing after it */
			cJSON_Delete(op);
			op = NULL;
		}
		if (!op || !cJSON_IsObject(op)) {
			cJSON_Delete(op);
			if (!nl) { /* the last line, cut short by a crash */
				r = 1;
				errbuf_set(err, "%s:%zu: ignored a torn last line", path.data,
					   line);
				goto out;
			}
			r = errbuf_set(err, "%s:%zu: not a JSON object", path.data, line);
			goto out;
		}
		strbuf_reset(&loc);
		strbuf_addf(&loc, "%s:%zu", path.data, line);
		if (apply(t, loc.data, op, err)) {
			cJSON_Delete(op);
			r = -1;
			goto out;
		}
		cJSON_Delete(op);
		pos = end + 1;
	}
out:
	close(fd);
	strbuf_release(&path);
	strbuf_release(&data);
	strbuf_release(&loc);
	return r;
}

int journal_check_writable(const char *session_path, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int fd, r = 0;

	journal_path(session_path, &path);
	fd = open(path.data, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* not there: can it be made?  (made and removed again) */
		fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlink(path.data);
	}
	if (fd < 0)
		r = errbuf_set(err, "%s: cannot be written: %s", path.data, strerror(errno));
	else
		close(fd);
	strbuf_release(&path);
	return r;
}

int journal_remove(const char *session_path, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r = 0;

	journal_path(session_path, &path);
	if (unlink(path.data) && errno != ENOENT)
		r = errbuf_set(err, "%s: cannot remove: %s", path.data, strerror(errno));
	strbuf_release(&path);
	return r;
}

#include "weft/journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/pairstore.h"
#include "weft/session.h"
#include "weft/xalloc.h"

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

static void put_member(struct strbuf *line, const char *key, const char *value)
{
	if (!value)
		return;
	strbuf_addch(line, ',');
	strbuf_add_json_string(line, key);
	strbuf_addch(line, ':');
	strbuf_add_json_string(line, value);
}

/* The pair's decision as stored now ("kept" when none). */
static void put_decision_op(struct strbuf *line, const struct tree *t, uint32_t i,
			    const char *question)
{
	struct pairstore_mark m;

	pairstore_get(t, i, question, &m);
	strbuf_addstr(line, "{\"op\":\"pair\",\"id\":");
	strbuf_add_json_string(line, t->nodes[i].id);
	put_member(line, "question", question);
	put_member(line, "decision", pairstore_decision_name(m.decision));
	put_member(line, "label", m.label);
	put_member(line, "by", pairstore_by_name(m.by));
	put_member(line, "at", m.at);
	strbuf_addch(line, '}');
	pairstore_mark_release(&m);
}

/* The pair's verdict by verifier as stored now; 0, or -1 when there is
 * none. */
static int put_verdict_op(struct strbuf *line, const struct tree *t, uint32_t i,
			  const char *question, const char *answer, const char *verifier)
{
	struct pairstore_verdict v;

	if (!pairstore_find_verdict(t, i, question, answer, verifier, &v))
		return -1;
	strbuf_addstr(line, "{\"op\":\"verdict\",\"id\":");
	strbuf_add_json_string(line, t->nodes[i].id);
	put_member(line, "question", v.question);
	put_member(line, "answer", v.answer);
	put_member(line, "label", v.label);
	put_member(line, "verifier", v.verifier);
	strbuf_addstr(line, ",\"p\":");
	strbuf_add_json_number(line, v.p);
	put_member(line, "source", pairstore_source_name(v.source));
	put_member(line, "at", v.at);
	strbuf_addch(line, '}');
	pairstore_verdict_release(&v);
	return 0;
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

int journal_append_decision(const char *session_path, const struct tree *t, uint32_t i,
			    const char *question, struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;

	put_decision_op(&line, t, i, question);
	return append_one(session_path, &line, err);
}

int journal_append_verdict(const char *session_path, const struct tree *t, uint32_t i,
			   const char *question, const char *answer, const char *verifier,
			   struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;

	if (put_verdict_op(&line, t, i, question, answer, verifier)) {
		strbuf_release(&line);
		return errbuf_set(err, "node %s: no such verdict to journal", t->nodes[i].id);
	}
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

void journal_batch_decision(struct journal_batch *b, const struct tree *t, uint32_t i,
			    const char *question)
{
	put_decision_op(batch_next(b), t, i, question);
}

void journal_batch_verdict(struct journal_batch *b, const struct tree *t, uint32_t i,
			   const char *question, const char *answer, const char *verifier)
{
	struct strbuf op = STRBUF_INIT;

	if (!put_verdict_op(&op, t, i, question, answer, verifier))
		strbuf_add(batch_next(b), op.data, op.len);
	strbuf_release(&op);
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

static const char *op_string(const cJSON *op, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A "pair" or "verdict" line: the same checks as the session's keys
 * (pairstore_set and pairstore_add_verdict refuse what the loader would). */
static int apply_pair_op(struct tree *t, const cJSON *op, int verdict, struct errbuf *err)
{
	uint32_t i = find_str(t, cJSON_GetObjectItemCaseSensitive(op, "id"));
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(op, "p");
	const char *by = op_string(op, "by"), *source = op_string(op, "source");
	struct pairstore_mark m = {0};
	struct pairstore_verdict v = {0};

	if (i == TREE_NONE)
		return errbuf_set(err, "%s of a node that is not in the tree",
				  verdict ? "verdict" : "pair decision");
	if (verdict) {
		v.question = (char *)op_string(op, "question");
		v.answer = (char *)op_string(op, "answer");
		v.label = (char *)op_string(op, "label");
		v.verifier = (char *)op_string(op, "verifier");
		v.at = (char *)op_string(op, "at");
		v.p = cJSON_IsNumber(p) ? p->valuedouble : -1;
		if (source && pairstore_source_parse(source, &v.source))
			return errbuf_set(err, "\"source\" is not \"logprobs\" or \"answer\"");
		return pairstore_add_verdict(t, NULL, i, &v, err);
	}
	m.question = (char *)op_string(op, "question");
	m.label = (char *)op_string(op, "label");
	m.at = (char *)op_string(op, "at");
	if (pairstore_decision_parse(op_string(op, "decision"), &m.decision))
		return errbuf_set(err, "\"decision\" is not \"kept\", \"rejected\" or "
				       "\"relabelled\"");
	if (by && pairstore_by_parse(by, &m.by))
		return errbuf_set(err, "\"by\" is not \"person\" or \"verifier\"");
	return pairstore_restore(t, i, &m, err);
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
	if (!strcmp(kind->valuestring, "pair") || !strcmp(kind->valuestring, "verdict"))
		return apply_pair_op(t, op, kind->valuestring[0] == 'v', err);
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

void journal_reader_init(struct journal_reader *r, int fd, size_t max_line)
{
	r->fd = fd;
	strbuf_init(&r->line);
	strbuf_set_max(&r->line, max_line);
	r->pos = 0;
	r->len = 0;
}

void journal_reader_release(struct journal_reader *r)
{
	strbuf_release(&r->line);
}

int journal_reader_next(struct journal_reader *r)
{
	strbuf_reset(&r->line);
	for (;;) {
		const char *start, *nl;
		size_t take;

		if (r->pos == r->len) {
			ssize_t n = read(r->fd, r->buf, sizeof(r->buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0)
				return r->line.len ? 2 : 0;
			r->pos = 0;
			r->len = (size_t)n;
		}
		start = r->buf + r->pos;
		nl = memchr(start, '\n', r->len - r->pos);
		take = nl ? (size_t)(nl - start) : r->len - r->pos;
		if (strbuf_add(&r->line, start, take) < 0)
			return -2;
		r->pos += nl ? take + 1 : take;
		if (nl)
			return 1;
	}
}

/* Parses and applies one line of the journal; 0, 1 for a torn last line
 * (err set), -1 on an error. */
static int replay_line(struct tree *t, const char *path, size_t lineno, const struct strbuf *line,
		       int ended, struct errbuf *err)
{
	struct strbuf loc = STRBUF_INIT;
	const char *rest;
	cJSON *op;
	int r = 0;

	op = cJSON_ParseWithLengthOpts(line->data, line->len, &rest, 0);
	if (op && !blank(rest, line->data + line->len)) {
		/* one object per line, nothing after it */
		cJSON_Delete(op);
		op = NULL;
	}
	if (!op || !cJSON_IsObject(op)) {
		cJSON_Delete(op);
		if (!ended) { /* the last line, cut short by a crash */
			errbuf_set(err, "%s:%zu: ignored a torn last line", path, lineno);
			return 1;
		}
		return errbuf_set(err, "%s:%zu: not a JSON object", path, lineno);
	}
	strbuf_addf(&loc, "%s:%zu", path, lineno);
	if (apply(t, loc.data, op, err))
		r = -1;
	cJSON_Delete(op);
	strbuf_release(&loc);
	return r;
}

int journal_replay(const char *session_path, struct tree *t, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct journal_reader *reader;
	size_t line = 0;
	int fd, r = 0, got;

	journal_path(session_path, &path);
	fd = journal_open(session_path, path.data, O_RDONLY, err);
	if (fd < 0) {
		r = fd == -2 ? 0 : -1;
		strbuf_release(&path);
		return r;
	}
	reader = xmalloc(sizeof(*reader));
	journal_reader_init(reader, fd, JOURNAL_MAX_LINE);
	while (!r && (got = journal_reader_next(reader)) != 0) {
		line++;
		if (got == -1)
			r = errbuf_set(err, "%s: cannot read: %s", path.data, strerror(errno));
		else if (got == -2)
			r = errbuf_set(err, "%s:%zu: line longer than %zu bytes", path.data, line,
				       JOURNAL_MAX_LINE);
		else
			r = replay_line(t, path.data, line, &reader->line, got == 1, err);
	}
	journal_reader_release(reader);
	free(reader);
	close(fd);
	strbuf_release(&path);
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

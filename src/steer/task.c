#include "weft/task.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "weft/dataset.h"
#include "weft/datadir.h"
#include "weft/num.h"
#include "weft/regfile.h"
#include "weft/similar.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

void task_init(struct task *t)
{
	memset(t, 0, sizeof(*t));
}

void task_release(struct task *t)
{
	size_t i;

	free(t->name);
	free(t->dir);
	free(t->description);
	free(t->generate);
	free(t->judge);
	free(t->system);
	free(t->eval);
	free(t->verify);
	for (i = 0; i < t->label_count; i++)
		free(t->labels[i]);
	free(t->pattern);
	free(t->preamble);
	task_init(t);
}

/* The offset of the first byte of s that does not start a well-formed
 * UTF-8 sequence, or len. */
static size_t first_invalid_utf8(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);

		if (!n)
			return i;
		i += n;
	}
	return len;
}

static int read_file(const char *dir, const char *name, char **out, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT;
	char buf[8192];
	size_t got;
	FILE *f;
	int ret = 0;

	strbuf_addf(&path, "%s/%s", dir, name);
	f = regfile_fopen(path.data, err);
	if (!f) {
		ret = -1;
		goto out;
	}
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		strbuf_add(&data, buf, got);
		if (data.len > TASK_FILE_MAX) {
			ret = errbuf_set(err, "%s: larger than %u bytes", path.data, TASK_FILE_MAX);
			break;
		}
	}
	if (!ret && ferror(f))
		ret = errbuf_set(err, "%s: read error", path.data);
	fclose(f);
	if (!ret && memchr(data.data, '\0', data.len))
		ret = errbuf_set(err, "%s: contains a NUL byte", path.data);
	if (!ret) {
		size_t bad = first_invalid_utf8(data.data, data.len);

		if (bad < data.len)
			ret = errbuf_set(err,
					 "%s: not valid UTF-8 at byte %zu (a session holds only "
					 "UTF-8: save the file as UTF-8)",
					 path.data, bad);
	}
	if (!ret)
		*out = strbuf_detach(&data, NULL);
out:
	strbuf_release(&data);
	strbuf_release(&path);
	return ret;
}

/* A file a task may leave out: *out stays NULL when dir has no name;
 * one that is there is read as read_file reads it. */
static int read_optional_file(const char *dir, const char *name, char **out, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int missing;

	strbuf_addf(&path, "%s/%s", dir, name);
	missing = lstat(path.data, &st) != 0 && errno == ENOENT;
	strbuf_release(&path);
	return missing ? 0 : read_file(dir, name, out, err);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Turns the two-character escapes \n, \t, \\ of a setting into bytes. */
static char *unescape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			strbuf_addch(&sb, '\n');
			s++;
		} else if (*s == '\\' && s[1] == 't') {
			strbuf_addch(&sb, '\t');
			s++;
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	long x;

	if (num_parse_long(v, lo, hi, &x))
		return -1;
	*out = (unsigned)x;
	return 0;
}

static int set_labels(struct task *t, const char *v)
{
	const char *p = v;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *label = xstrndup(p, len);
		char *tl = trim(label);

		if (!*tl || t->label_count == TASK_MAX_LABELS) {
			free(label);
			return -1;
		}
		t->labels[t->label_count++] = xstrdup(tl);
		free(label);
		p = comma ? comma + 1 : p + len;
	}
	return t->label_count >= 2 ? 0 : -1;
}

static int parse_settings(struct task *t, const char *path, char *text, struct errbuf *err)
{
	char *line = text;
	unsigned lineno = 0;

	while (line && *line) {
		char *next = strchr(line, '\n');
		char *eq, *key, *value;
		int bad = 0;

		if (next)
			*next++ = '\0';
		lineno++;
		key = trim(line);
		line = next;
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			return errbuf_set(err, "%s:%u: expected 'key = value'", path, lineno);
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (!strcmp(key, "description")) {
			free(t->description);
			t->description = xstrdup(value);
		} else if (!strcmp(key, "labels")) {
			while (t->label_count)
				free(t->labels[--t->label_count]);
			bad = set_labels(t, value);
		} else if (!strcmp(key, "pattern")) {
			free(t->pattern);
			t->pattern = unescape(value);
			bad = !*t->pattern;
		} else if (!strcmp(key, "preamble")) {
			free(t->preamble);
			t->preamble = unescape(value);
		} else if (!strcmp(key, "n")) {
			bad = parse_uint(value, 1, TASK_MAX_N, &t->n);
		} else if (!strcmp(key, "temperature")) {
			bad = num_parse_double(value, 0, 2, &t->temperature);
		} else if (!strcmp(key, "judge_temperature")) {
			bad = num_parse_double(value, 0, 2, &t->judge_temperature);
		} else if (!strcmp(key, "max_tokens")) {
			bad = parse_uint(value, 1, 1000000, &t->max_tokens);
		} else if (!strcmp(key, "rounds")) {
			bad = parse_uint(value, 1, 1000000, &t->rounds);
		} else if (!strcmp(key, "near_duplicate")) {
			bad = num_parse_double(value, 0, 1, &t->near_duplicate);
		} else if (!strcmp(key, "rank")) {
			bad = rank_mode_parse(value, &t->rank);
		} else {
			return errbuf_set(err, "%s:%u: unknown key '%s'", path, lineno, key);
		}
		if (bad)
			return errbuf_set(err, "%s:%u: bad value for '%s'", path, lineno, key);
	}
	return 0;
}

int task_load(struct task *t, const char *dir, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	char *settings = NULL;
	const char *slash;
	int ret;

	task_release(t);
	t->n = 5;
	t->temperature = 1.0;
	t->max_tokens = 60;
	t->judge_temperature = 0.0;
	t->near_duplicate = SIMILAR_DEFAULT_THRESHOLD;
	t->rounds = 100;
	t->rank = RANK_LOGPROBS;
	t->dir = xstrdup(dir);
	slash = strrchr(dir, '/');
	t->name = xstrdup(slash && slash[1] ? slash + 1 : dir);
	if (first_invalid_utf8(t->name, strlen(t->name)) < strlen(t->name)) {
		/* the name goes into every session of the task */
		task_release(t);
		return errbuf_set(err, "task folder '%s': its name is not valid UTF-8", dir);
	}
	t->description = xstrdup("");
	t->pattern = xstrdup("Question: (.*?)\nAnswer: (.*?)\n");
	t->preamble = xstrdup("");

	ret = read_file(dir, "task.conf", &settings, err);
	if (!ret) {
		strbuf_addf(&path, "%s/task.conf", dir);
		ret = parse_settings(t, path.data, settings, err);
	}
	if (!ret && t->label_count < 2)
		ret = errbuf_set(err, "%s: 'labels' must name at least two classes", path.data);
	if (!ret)
		ret = read_file(dir, "generate.txt", &t->generate, err);
	if (!ret)
		ret = read_file(dir, "judge.txt", &t->judge, err);
	if (!ret)
		ret = read_file(dir, "system.txt", &t->system, err);
	if (!ret)
		ret = read_file(dir, "eval.txt", &t->eval, err);
	if (!ret && !strstr(t->judge, "{options}"))
		ret =
		    errbuf_set(err, "%s/judge.txt: has no {options} place for the candidates", dir);
	if (!ret && !strstr(t->eval, "{question}"))
		ret = errbuf_set(err, "%s/eval.txt: has no {question} place", dir);
	if (!ret)
		ret = read_optional_file(dir, "verify.txt", &t->verify, err);
	if (!ret && t->verify && !strstr(t->verify, "{question}"))
		ret = errbuf_set(err, "%s/verify.txt: has no {question} place", dir);
	free(settings);
	strbuf_release(&path);
	if (ret)
		task_release(t);
	return ret;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int task_find(const char *name, struct strbuf *out, struct errbuf *err)
{
	struct strbuf tried = STRBUF_INIT, cand = STRBUF_INIT;
	struct datadir places;
	size_t i;

	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return errbuf_set(err, "task name '%s' is not valid", name);
	if (strchr(name, '/')) {
		if (is_dir(name)) {
			strbuf_addstr(out, name);
			return 0;
		}
		return errbuf_set(err, "task folder '%s' not found", name);
	}
	datadir_init(&places, "prompts", "WEFT_PROMPTS");
	for (i = 0; i < places.count; i++) {
		strbuf_reset(&cand);
		strbuf_addf(&cand, "%s/%s", places.dirs[i], name);
		if (is_dir(cand.data)) {
			strbuf_addstr(out, cand.data);
			strbuf_release(&cand);
			strbuf_release(&tried);
			datadir_release(&places);
			return 0;
		}
		strbuf_addf(&tried, "%s%s", i ? ", " : "", cand.data);
	}
	errbuf_set(err, "task '%s' not found (looked in %s)", name, tried.data);
	strbuf_release(&cand);
	strbuf_release(&tried);
	datadir_release(&places);
	return -1;
}

static const char *const rank_names[] = {"logprobs", "scores", "choice"};

int rank_mode_parse(const char *s, enum rank_mode *mode)
{
	size_t i;

	for (i = 0; i < sizeof(rank_names) / sizeof(rank_names[0]); i++) {
		if (!strcmp(s, rank_names[i])) {
			*mode = (enum rank_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *rank_mode_name(enum rank_mode mode)
{
	return (unsigned)mode < 3 ? rank_names[mode] : "?";
}

/*
 * Walks tmpl as template_render does: with out NULL it only adds up the
 * size (saturating), so a template can be refused before anything is built.
 */
static size_t render_walk(const char *tmpl, const char *const *keys, const char *const *values,
			  size_t count, struct strbuf *out)
{
	const char *p = tmpl, *end = tmpl + strlen(tmpl);
	size_t size = 0, longest = 0, i;

	/* Linear in the template: memchr over the known rest (strchr would be
	 * checked to the end each time under the sanitizers), and a '}' is
	 * looked for only as far as the longest key reaches: a '{' further
	 * from its '}' is no place. */
	for (i = 0; i < count; i++)
		if (strlen(keys[i]) > longest)
			longest = strlen(keys[i]);
#define EMIT(s, n)                                                                                 \
	do {                                                                                       \
		size_t n_ = (n);                                                                   \
		if (out)                                                                           \
			strbuf_add(out, (s), n_);                                                  \
		size = n_ > SIZE_MAX - size ? SIZE_MAX : size + n_;                                \
	} while (0)
	while (p < end) {
		const char *open = memchr(p, '{', (size_t)(end - p));
		const char *close;
		size_t reach;

		if (!open) {
			EMIT(p, (size_t)(end - p));
			break;
		}
		EMIT(p, (size_t)(open - p));
		reach = (size_t)(end - open - 1);
		close = memchr(open + 1, '}', reach < longest + 1 ? reach : longest + 1);
		if (!close) {
			EMIT("{", 1);
			p = open + 1;
			continue;
		}
		for (i = 0; i < count; i++) {
			size_t klen = strlen(keys[i]);

			if ((size_t)(close - open - 1) == klen && !memcmp(open + 1, keys[i], klen))
				break;
		}
		if (i < count) {
			EMIT(values[i], strlen(values[i]));
			p = close + 1;
		} else {
			EMIT("{", 1);
			p = open + 1;
		}
	}
#undef EMIT
	return size;
}

int template_render(const char *tmpl, const char *const *keys, const char *const *values,
		    size_t count, size_t max, struct strbuf *out, size_t *size)
{
	size_t n = render_walk(tmpl, keys, values, count, NULL);

	if (size)
		*size = n;
	if (n > max)
		return -1;
	strbuf_grow(out, n);
	render_walk(tmpl, keys, values, count, out);
	return 0;
}

void task_pairs_options(const struct task *t, struct pairs_options *o)
{
	size_t k;

	pairs_options_init(o);
	if (!t)
		return;
	o->task = t->name;
	if (t->pattern)
		o->pattern = t->pattern;
	if (t->preamble)
		o->preamble = t->preamble;
	for (k = 0; k < t->label_count && k < PAIRS_MAX_LABELS; k++)
		o->labels[k] = t->labels[k];
	if (k >= 2)
		o->nlabels = k;
	o->near_threshold = t->near_duplicate;
}

int task_path_pairs(const struct task *t, const struct tree *tree, struct pairs_result *r,
		    struct errbuf *err)
{
	struct pairs_options o;

	memset(r, 0, sizeof(*r));
	task_pairs_options(t, &o);
	return dataset_tree_pairs(tree, &o, r, err) < 0 ? -1 : 0;
}

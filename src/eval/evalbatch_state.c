/*
 * The batch state file (evalbatch.h), DIR/batch/state: a versioned text
 * file of "KEY VALUE" lines, so a person can read where a batch stands and
 * a broken one is reported by line.
 *
 *     weft-batch 1
 *     arg --models
 *     arg small,large
 *     examples 2000
 *     model small
 *       way echo
 *       step poll
 *       input_file file-abc
 *       creating file-abc   (only while a create's reply is awaited)
 *       batch batch_abc
 *       status in_progress
 *       counts 4000 120 0
 */
#include <stdlib.h>
#include <string.h>

#include "weft/atomicfile.h"
#include "weft/evalbatch.h"
#include "weft/xalloc.h"

static const char *const step_names[] = {"upload", "create", "poll", "download", "done"};

const char *evalbatch_step_name(enum evalbatch_step s)
{
	return (unsigned)s < 5 ? step_names[s] : "?";
}

void evalbatch_options_init(struct evalbatch_options *o)
{
	memset(o, 0, sizeof(*o));
}

void evalbatch_state_init(struct evalbatch_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void model_release(struct evalbatch_model *m)
{
	free(m->name);
	free(m->fatal);
	free(m->input_file);
	free(m->creating);
	free(m->batch);
	free(m->status);
	free(m->output_file);
	free(m->error_file);
}

void evalbatch_state_release(struct evalbatch_state *st)
{
	size_t i;

	for (i = 0; i < st->nargs; i++)
		free(st->args[i]);
	free(st->args);
	for (i = 0; i < st->nmodels; i++)
		model_release(&st->models[i]);
	free(st->models);
	evalbatch_state_init(st);
}

void evalbatch_state_add_arg(struct evalbatch_state *st, const char *arg)
{
	st->args = xreallocarray(st->args, st->nargs + 1, sizeof(*st->args));
	st->args[st->nargs++] = xstrdup(arg);
}

void evalbatch_format_id(size_t ex, size_t slot, struct strbuf *out)
{
	strbuf_addf(out, "e%zu-s%zu", ex, slot);
}

/* A decimal number without sign or leading zeros, at most 9 digits. */
static const char *parse_num(const char *s, size_t *out)
{
	size_t n = 0, k = 0;

	if (*s == '0' && s[1] >= '0' && s[1] <= '9')
		return NULL;
	while (s[k] >= '0' && s[k] <= '9' && k < 10)
		n = n * 10 + (size_t)(s[k++] - '0');
	if (!k || k > 9)
		return NULL;
	*out = n;
	return s + k;
}

int evalbatch_parse_id(const char *id, size_t *ex, size_t *slot)
{
	const char *p;

	if (!id || *id != 'e')
		return -1;
	p = parse_num(id + 1, ex);
	if (!p || p[0] != '-' || p[1] != 's')
		return -1;
	p = parse_num(p + 2, slot);
	return p && !*p ? 0 : -1;
}

static const char *way_word(enum evalrun_way w)
{
	return w == EVALRUN_WAY_ECHO ? "echo" : w == EVALRUN_WAY_TOP ? "top" : "none";
}

static void add_field(struct strbuf *out, const char *key, const char *value)
{
	if (value)
		strbuf_addf(out, "  %s %s\n", key, value);
}

void evalbatch_state_format(const struct evalbatch_state *st, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "weft-batch 1\n");
	for (i = 0; i < st->nargs; i++)
		strbuf_addf(out, "arg %s\n", st->args[i]);
	strbuf_addf(out, "examples %zu\n", st->examples);
	for (i = 0; i < st->nmodels; i++) {
		const struct evalbatch_model *m = &st->models[i];

		strbuf_addf(out, "model %s\n", m->name);
		strbuf_addf(out, "  way %s\n", way_word(m->way));
		add_field(out, "fatal", m->fatal);
		strbuf_addf(out, "  step %s\n", evalbatch_step_name(m->step));
		add_field(out, "input_file", m->input_file);
		add_field(out, "creating", m->creating);
		add_field(out, "batch", m->batch);
		add_field(out, "status", m->status);
		add_field(out, "output_file", m->output_file);
		add_field(out, "error_file", m->error_file);
		if (m->total >= 0)
			strbuf_addf(out, "  counts %ld %ld %ld\n", m->total, m->completed,
				    m->failed);
	}
}

/* One "KEY VALUE" line for model m; 0, or -1 with why. */
static int model_field(struct evalbatch_model *m, const char *key, const char *v,
		       struct strbuf *why)
{
	char **slot = !strcmp(key, "fatal")	    ? &m->fatal
		      : !strcmp(key, "input_file")  ? &m->input_file
		      : !strcmp(key, "creating")    ? &m->creating
		      : !strcmp(key, "batch")	    ? &m->batch
		      : !strcmp(key, "status")	    ? &m->status
		      : !strcmp(key, "output_file") ? &m->output_file
		      : !strcmp(key, "error_file")  ? &m->error_file
						    : NULL;
	size_t k;

	if (slot) {
		free(*slot);
		*slot = xstrdup(v);
		return 0;
	}
	if (!strcmp(key, "way")) {
		if (!strcmp(v, "echo"))
			m->way = EVALRUN_WAY_ECHO;
		else if (!strcmp(v, "top"))
			m->way = EVALRUN_WAY_TOP;
		else if (!strcmp(v, "none"))
			m->way = EVALRUN_WAY_NONE;
		else
			strbuf_addf(why, "way '%.40s' is not echo, top or none", v);
		return why->len ? -1 : 0;
	}
	if (!strcmp(key, "step")) {
		for (k = 0; k < 5; k++)
			if (!strcmp(v, step_names[k])) {
				m->step = (enum evalbatch_step)k;
				return 0;
			}
		strbuf_addf(why, "step '%.40s' is not upload, create, poll, download or done", v);
		return -1;
	}
	if (!strcmp(key, "counts")) {
		size_t n[3];
		const char *p = v;

		for (k = 0; k < 3 && p; k++) {
			p = parse_num(p, &n[k]);
			if (p && k < 2)
				p = *p == ' ' ? p + 1 : NULL;
		}
		if (!p || *p) {
			strbuf_addstr(why, "counts are three numbers: total, completed, failed");
			return -1;
		}
		m->total = (long)n[0];
		m->completed = (long)n[1];
		m->failed = (long)n[2];
	}
	return 0; /* an unknown key: a newer weft's */
}

/* One line (NUL-terminated, no newline) into st. */
static int state_line(struct evalbatch_state *st, char *line, size_t lineno, struct strbuf *why)
{
	char *key = line + strspn(line, " "), *v;
	const char *p;

	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			strbuf_addstr(why, "a control character in the line");
			return -1;
		}
	if (lineno == 1) {
		if (!strcmp(line, "weft-batch 1"))
			return 0;
		if (!strncmp(line, "weft-batch ", 11))
			strbuf_addf(why, "version '%.20s': written by a newer weft", line + 11);
		else
			strbuf_addstr(why, "not a weft batch state (no \"weft-batch 1\" line)");
		return -1;
	}
	if (!*key)
		return 0;
	v = strchr(key, ' ');
	if (!v) {
		strbuf_addf(why, "'%.40s' has no value", key);
		return -1;
	}
	*v++ = 0;
	if (!strcmp(key, "arg")) {
		if (st->nargs >= EVALBATCH_MAX_ITEMS) {
			strbuf_addf(why, "more than %d arguments", EVALBATCH_MAX_ITEMS);
			return -1;
		}
		evalbatch_state_add_arg(st, v);
		return 0;
	}
	if (!strcmp(key, "examples")) {
		if (!parse_num(v, &st->examples) || *parse_num(v, &st->examples)) {
			strbuf_addf(why, "examples '%.40s' is not a number", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "model")) {
		size_t i;

		if (st->nmodels >= EVALBATCH_MAX_ITEMS || !*v) {
			strbuf_addstr(why, "too many models, or one without a name");
			return -1;
		}
		for (i = 0; i < st->nmodels; i++)
			if (!strcmp(st->models[i].name, v)) {
				strbuf_addf(why, "model '%.80s' twice", v);
				return -1;
			}
		st->models = xreallocarray(st->models, st->nmodels + 1, sizeof(*st->models));
		memset(&st->models[st->nmodels], 0, sizeof(*st->models));
		st->models[st->nmodels].name = xstrdup(v);
		st->models[st->nmodels].total = -1;
		st->models[st->nmodels].completed = st->models[st->nmodels].failed = -1;
		st->nmodels++;
		return 0;
	}
	if (!st->nmodels) {
		strbuf_addf(why, "'%.40s' before any model line", key);
		return -1;
	}
	return model_field(&st->models[st->nmodels - 1], key, v, why);
}

int evalbatch_state_parse(struct evalbatch_state *st, const char *text, size_t len,
			  const char *name, struct errbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	size_t pos = 0, lineno = 0;
	int rc = 0;

	evalbatch_state_release(st);
	if (!len)
		rc = errbuf_set(err, "%s: empty: not a weft batch state", name);
	while (!rc && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *line;

		lineno++;
		if (n > EVALBATCH_MAX_LINE) {
			rc = errbuf_set(err, "%s:%zu: a line longer than %d bytes", name, lineno,
					EVALBATCH_MAX_LINE);
			break;
		}
		if (memchr(text + pos, 0, n)) {
			rc = errbuf_set(err, "%s:%zu: a NUL byte in the line", name, lineno);
			break;
		}
		line = xstrndup(text + pos, n);
		if (state_line(st, line, lineno, &why) < 0)
			rc = errbuf_set(err, "%s:%zu: %s", name, lineno, why.data);
		free(line);
		pos += n + 1;
	}
	strbuf_release(&why);
	if (rc)
		evalbatch_state_release(st);
	return rc;
}

int evalbatch_state_load(struct evalbatch_state *st, const char *dir, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	char *text = NULL;
	size_t len = 0;
	int rc;

	strbuf_addf(&path, "%s/batch/state", dir);
	rc = atomicfile_read(path.data, EVALBATCH_STATE_MAX, &text, &len, err);
	if (!rc)
		rc = evalbatch_state_parse(st, text, len, path.data, err);
	free(text);
	strbuf_release(&path);
	return rc;
}

int evalbatch_state_save(const struct evalbatch_state *st, const char *dir, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int rc;

	strbuf_addf(&path, "%s/batch/state", dir);
	evalbatch_state_format(st, &text);
	rc = atomicfile_write(path.data, text.data, text.len, err);
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

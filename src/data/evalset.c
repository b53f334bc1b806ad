#include "weft/evalset.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/dataset.h"
#include "weft/export.h"
#include "weft/inputfile.h"
#include "weft/meta.h"
#include "weft/similar.h"
#include "weft/strbuf.h"
#include "weft/tree.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

#define EVALSET_MAX_BYTES ((size_t)1 << 30)

void evalset_init(struct evalset *s)
{
	memset(s, 0, sizeof(*s));
	evalset_hash("", 0, s->hash);
	s->near_threshold = SIMILAR_DEFAULT_THRESHOLD;
}

static void example_release(struct evalset_example *e)
{
	size_t i;

	free(e->prompt);
	free(e->other_prompt);
	free(e->question);
	free(e->node_id);
	for (i = 0; i < e->nclasses; i++)
		free(e->classes[i]);
	free(e->classes);
}

void evalset_release(struct evalset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		example_release(&s->items[i]);
	free(s->items);
	free(s->name);
	free(s->task);
	free(s->warning);
	for (i = 0; i < s->nsources; i++)
		free(s->sources[i]);
	free(s->sources);
	for (i = 0; i < s->nrepeats; i++) {
		free(s->repeats[i].node_id);
		free(s->repeats[i].question);
	}
	free(s->repeats);
	evalset_init(s);
}

void evalset_truncate(struct evalset *s, size_t n)
{
	while (s->n > n)
		example_release(&s->items[--s->n]);
}

void evalset_hash(const void *data, size_t len, char out[17])
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

char *evalset_question_of(const char *prompt)
{
	static const char head[] = "Question: ", tail[] = "\nAnswer:";
	size_t len = strlen(prompt), hl = sizeof(head) - 1, tl = sizeof(tail) - 1;

	if (len >= hl + tl && !strncmp(prompt, head, hl) && !strcmp(prompt + len - tl, tail)) {
		size_t end = len - tl;

		if (end > hl && prompt[end - 1] == ' ')
			end--;
		return xstrndup(prompt + hl, end - hl);
	}
	return xstrdup(prompt);
}

int evalset_add(struct evalset *s, const char *prompt, const char *other_prompt,
		const char *question, const char *const *classes, size_t nclasses, size_t answer,
		struct errbuf *err)
{
	struct evalset_example *e;
	size_t i;

	if (nclasses < 2)
		return errbuf_set(err, "row %zu: needs at least two classes", s->n);
	if (answer >= nclasses)
		return errbuf_set(err, "row %zu: answer_index %zu is not below the %zu classes",
				  s->n, answer, nclasses);
	XGROW(s->items, s->cap, s->n + 1);
	e = &s->items[s->n];
	memset(e, 0, sizeof(*e));
	e->index = (long)s->n;
	e->row = (long)s->n;
	e->prompt = xstrdup(prompt);
	e->other_prompt = xstrdup_or_null(other_prompt);
	e->question = question ? xstrdup(question) : evalset_question_of(prompt);
	e->classes = xcalloc(nclasses, sizeof(*e->classes));
	for (i = 0; i < nclasses; i++)
		e->classes[i] = xstrdup(classes[i]);
	e->nclasses = nclasses;
	e->answer = answer;
	s->n++;
	return 0;
}

void evalset_from_pairs(struct evalset *s, const struct pairs_result *r)
{
	struct strbuf prompt = STRBUF_INIT;
	char *classes[PAIRS_MAX_LABELS];
	size_t i;

	for (i = 0; i < r->nlabels; i++) {
		size_t l = strlen(r->labels[i]);

		classes[i] = xmalloc(l + 2);
		classes[i][0] = ' ';
		memcpy(classes[i] + 1, r->labels[i], l + 1);
	}
	for (i = 0; i < r->count; i++) {
		strbuf_reset(&prompt);
		export_prompt(r->pairs[i].question, &prompt);
		/* cannot fail: nlabels >= 2 and class_index < nlabels */
		evalset_add(s, prompt.data, NULL, r->pairs[i].question,
			    (const char *const *)classes, r->nlabels, r->pairs[i].class_index,
			    NULL);
		s->items[s->n - 1].node_id = xstrdup_or_null(r->pairs[i].node_id);
	}
	for (i = 0; i < r->nlabels; i++)
		free(classes[i]);
	strbuf_release(&prompt);
}

/* ---- Python list literal ------------------------------------------------ */

static int hexval(const char *p, int n, unsigned long *out)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void free_list(char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* One backslash escape of a Python string literal at *pp (just after the
 * backslash) into b; -1 for one this reader does not take. */
static int pylist_escape(const char **pp, struct strbuf *b)
{
	const char *p = *pp;
	unsigned long c;
	int len;

	switch (*p) {
	case 'n': strbuf_addch(b, '\n'); break;
	case 't': strbuf_addch(b, '\t'); break;
	case 'r': strbuf_addch(b, '\r'); break;
	case '\\':
	case '\'':
	case '"': strbuf_addch(b, *p); break;
	case 'x':
	case 'u':
	case 'U':
		len = *p == 'x' ? 2 : *p == 'u' ? 4 : 8;
		if ((int)strnlen(p + 1, (size_t)len) < len || hexval(p + 1, len, &c) < 0 ||
		    c > 0x10ffff)
			return -1;
		utf8_encode(b, (uint32_t)c);
		*pp = p + 1 + len;
		return 0;
	default: return -1;
	}
	*pp = p + 1;
	return 0;
}

/* The quoted string literal at *pp into b (reset first), *pp moved past
 * its closing quote; -1 when it is not one. */
static int pylist_string(const char **pp, struct strbuf *b)
{
	const char *p = *pp;
	char q = *p;

	if (q != '\'' && q != '"')
		return -1;
	p++;
	strbuf_reset(b);
	while (*p && *p != q) {
		if (*p != '\\') {
			strbuf_addch(b, *p++);
			continue;
		}
		p++;
		if (pylist_escape(&p, b) < 0)
			return -1;
	}
	if (*p != q)
		return -1;
	*pp = p + 1;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int evalset_parse_pylist(const char *text, char ***out, size_t *n)
{
	const char *p = skip_blanks(text);
	char **items = NULL;
	size_t count = 0, cap = 0;
	struct strbuf b = STRBUF_INIT;

	*out = NULL;
	*n = 0;
	if (*p++ != '[')
		return -1;
	for (;;) {
		p = skip_blanks(p);
		if (*p == ']' && !count) {
			p++;
			break;
		}
		if (pylist_string(&p, &b) < 0)
			goto bad;
		XGROW(items, cap, count + 1);
		items[count++] = xstrdup(b.data);
		p = skip_blanks(p);
		if (*p == ',') {
			p = skip_blanks(p + 1);
			if (*p == ']') {
				p++;
				break;
			}
			continue;
		}
		if (*p != ']')
			goto bad;
		p++;
		break;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p)
		goto bad;
	strbuf_release(&b);
	*out = items;
	*n = count;
	return 0;
bad:
	strbuf_release(&b);
	free_list(items, count);
	return -1;
}

/* ---- CSV ----------------------------------------------------------------- */

/* Reads one RFC 4180 record at *p (end at end) into fields; returns the
 * number of fields, or -1 on an unterminated quote.  *line counts newlines. */
static long csv_record(const char **p, const char *end, struct strbuf *fields, size_t maxf,
		       size_t *line)
{
	const char *s = *p;
	size_t nf = 0;

	if (s >= end)
		return 0;
	for (;;) {
		struct strbuf tmp = STRBUF_INIT;

		if (s < end && *s == '"') {
			s++;
			for (;;) {
				if (s >= end) {
					strbuf_release(&tmp);
					return -1;
				}
				if (*s == '"') {
					if (s + 1 < end && s[1] == '"') {
						strbuf_addch(&tmp, '"');
						s += 2;
						continue;
					}
					s++;
					break;
				}
				if (*s == '\n')
					(*line)++;
				strbuf_addch(&tmp, *s++);
			}
		}
		while (s < end && *s != ',' && *s != '\n') {
			if (*s != '\r' || (s + 1 < end && s[1] != '\n'))
				strbuf_addch(&tmp, *s);
			s++;
		}
		if (nf < maxf) {
			strbuf_release(&fields[nf]);
			fields[nf] = tmp;
		} else {
			strbuf_release(&tmp);
		}
		nf++;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\n') {
			s++;
			(*line)++;
		}
		break;
	}
	*p = s;
	return (long)nf;
}

#define CSV_MAXF 32

/* The columns of a CSV evalset: -1 where absent. */
struct csv_columns {
	int prompt, other, classes, answer;
};

/* The columns the header's nf fields name (a UTF-8 BOM before the first is
 * skipped). */
static void csv_columns_find(const struct strbuf *f, long nf, struct csv_columns *c)
{
	size_t i;

	c->prompt = c->other = c->classes = c->answer = -1;
	for (i = 0; nf > 0 && i < (size_t)nf && i < CSV_MAXF; i++) {
		const char *h = f[i].data;

		if (i == 0 && !strncmp(h, "\xef\xbb\xbf", 3))
			h += 3;
		if (!strcmp(h, "prompt"))
			c->prompt = (int)i;
		else if (!strcmp(h, "other_prompt"))
			c->other = (int)i;
		else if (!strcmp(h, "classes"))
			c->classes = (int)i;
		else if (!strcmp(h, "answer_index"))
			c->answer = (int)i;
	}
}

/* One CSV row of nf fields, starting at path:line, into s. */
static int csv_row_add(struct evalset *s, const struct strbuf *f, long nf,
		       const struct csv_columns *c, const char *path, size_t line,
		       struct errbuf *err)
{
	int need = c->prompt > c->classes ? c->prompt : c->classes;
	size_t nc;
	char **classes, *endp;
	long ans;
	int rc;

	if (need < c->answer)
		need = c->answer;
	if (need < c->other)
		need = c->other;
	if (nf <= need)
		return errbuf_set(err, "%s:%zu: %ld fields, expected %d", path, line, nf, need + 1);
	if (evalset_parse_pylist(f[c->classes].data, &classes, &nc) < 0)
		return errbuf_set(err, "%s:%zu: classes is not a Python list of strings", path,
				  line);
	ans = strtol(f[c->answer].data, &endp, 10);
	if (endp == f[c->answer].data || *endp || ans < 0) {
		free_list(classes, nc);
		return errbuf_set(err, "%s:%zu: answer_index is not a number", path, line);
	}
	rc = evalset_add(s, f[c->prompt].data, c->other >= 0 ? f[c->other].data : NULL, NULL,
			 (const char *const *)classes, nc, (size_t)ans, err);
	free_list(classes, nc);
	if (rc < 0)
		return errbuf_prefix(err, "%s:%zu", path, line);
	return 0;
}

static int load_csv(struct evalset *s, const char *path, const char *buf, size_t len,
		    struct errbuf *err)
{
	struct strbuf f[CSV_MAXF];
	struct csv_columns c;
	const char *p = buf, *end = buf + len;
	int rc = 0;
	size_t line = 1, i;
	long nf;

	for (i = 0; i < CSV_MAXF; i++)
		strbuf_init(&f[i]);
	nf = csv_record(&p, end, f, CSV_MAXF, &line);
	csv_columns_find(f, nf, &c);
	if (c.prompt < 0 || c.classes < 0 || c.answer < 0)
		rc = errbuf_set(err, "%s:1: the header needs prompt, classes and answer_index",
				path);
	else
		s->logodds = c.other >= 0;
	while (rc == 0 && p < end) {
		size_t start = line;

		nf = csv_record(&p, end, f, CSV_MAXF, &line);
		if (nf < 0)
			rc = errbuf_set(err, "%s:%zu: unterminated quoted field", path, start);
		else if (!(nf == 1 && !f[0].len)) /* a blank line is skipped */
			rc = csv_row_add(s, f, nf, &c, path, start, err);
	}
	for (i = 0; i < CSV_MAXF; i++)
		strbuf_release(&f[i]);
	return rc < 0 ? -1 : 0;
}

/* ---- JSONL --------------------------------------------------------------- */

/* One JSONL row's object o, at path:line, into s; *has_other says whether
 * it had an other_prompt. */
static int json_row_add(struct evalset *s, const cJSON *o, const char *path, size_t line,
			int *has_other, struct errbuf *err)
{
	const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(o, "prompt");
	const cJSON *other = cJSON_GetObjectItemCaseSensitive(o, "other_prompt");
	const cJSON *classes = cJSON_GetObjectItemCaseSensitive(o, "classes");
	const cJSON *ans = cJSON_GetObjectItemCaseSensitive(o, "answer_index");
	const cJSON *it;
	const char **cl;
	size_t nc, k = 0;
	int rc;

	if (!cJSON_IsString(prompt) || !cJSON_IsArray(classes) || !cJSON_IsNumber(ans) ||
	    (other && !cJSON_IsString(other)))
		return errbuf_set(err,
				  "%s:%zu: needs \"prompt\" (string), \"classes\" (list "
				  "of strings) and \"answer_index\" (number)",
				  path, line);
	nc = (size_t)cJSON_GetArraySize(classes);
	cl = xcalloc(nc ? nc : 1, sizeof(*cl));
	cJSON_ArrayForEach(it, classes)
	{
		if (!cJSON_IsString(it)) {
			free(cl);
			return errbuf_set(err, "%s:%zu: a class is not a string", path, line);
		}
		cl[k++] = it->valuestring;
	}
	if (ans->valuedouble < 0 || ans->valuedouble != (double)(long)ans->valuedouble) {
		free(cl);
		return errbuf_set(err, "%s:%zu: answer_index is not a whole number", path, line);
	}
	*has_other = other != NULL;
	rc = evalset_add(s, prompt->valuestring, other ? other->valuestring : NULL, NULL, cl, nc,
			 (size_t)ans->valuedouble, err);
	free(cl);
	if (rc < 0)
		return errbuf_prefix(err, "%s:%zu", path, line);
	return 0;
}

static int load_jsonl(struct evalset *s, const char *path, const char *buf, size_t len,
		      struct errbuf *err)
{
	const char *p = buf, *end = buf + len;
	size_t line = 0;
	int any_other = 0, all_other = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p), j = 0;
		cJSON *o;
		int rc, has_other = 0;

		line++;
		while (j < l && (p[j] == ' ' || p[j] == '\r' || p[j] == '\t'))
			j++;
		if (j == l) {
			p += l + (nl ? 1 : 0);
			continue; /* blank line */
		}
		o = cJSON_ParseWithLength(p, l);
		p += l + (nl ? 1 : 0);
		if (!o || !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			return errbuf_set(err, "%s:%zu: not a JSON object", path, line);
		}
		rc = json_row_add(s, o, path, line, &has_other, err);
		cJSON_Delete(o);
		if (rc < 0)
			return rc;
		if (has_other)
			any_other = 1;
		else
			all_other = 0;
	}
	s->logodds = any_other && all_other;
	return 0;
}

/* ---- sessions and text ----------------------------------------------------- */

static int load_pairs(struct evalset *s, const char *path, const char *buf, size_t len,
		      struct tree *t, evalset_task_fn *task_opts, void *ctx, struct errbuf *err)
{
	struct pairs_options o;
	struct pairs_result r;
	struct strbuf name = STRBUF_INIT;
	int rc;

	memset(&r, 0, sizeof(r));
	pairs_options_init(&o);
	if (t && !meta_get_string(t, "task", &name) && name.len) {
		s->task = xstrdup(name.data);
		if (task_opts && task_opts(name.data, &o, ctx) < 0)
			pairs_options_init(&o);
	}
	s->near_threshold = o.near_threshold;
	if (t)
		rc = dataset_tree_pairs(t, &o, &r, err);
	else
		rc = pairs_extract(buf, len, NULL, 0, &o, &r, err);
	if (rc < 0)
		errbuf_prefix(err, "%s", path);
	else
		evalset_from_pairs(s, &r);
	pairs_result_release(&r);
	strbuf_release(&name);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int evalset_load(struct evalset *s, const char *path, evalset_task_fn *task_opts, void *ctx,
		 struct errbuf *err)
{
	struct inputfile f;
	const char *base = strrchr(path, '/'), *dot, *buf;
	size_t len;
	int rc, jsonl = ends_with(path, ".jsonl");

	/* the one reader: a byte-order mark skipped, a session's journal
	 * applied (read-only); JSONL is never a session */
	if (inputfile_read(&f, path, EVALSET_MAX_BYTES, jsonl ? INPUTFILE_TEXT : 0, err) < 0) {
		inputfile_release(&f);
		return -1;
	}
	buf = f.data;
	len = f.len;
	evalset_hash(buf, len, s->hash);
	free(s->warning);
	s->warning = f.warned ? xstrdup(f.warning.msg) : NULL;
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	free(s->name);
	s->name = dot && dot != base ? xstrndup(base, (size_t)(dot - base)) : xstrdup(base);
	if (jsonl) {
		rc = load_jsonl(s, path, buf, len, err);
	} else if (f.tree) {
		rc = load_pairs(s, path, buf, len, f.tree, task_opts, ctx, err);
	} else {
		const char *nl = memchr(buf, '\n', len);
		size_t l1 = nl ? (size_t)(nl - buf) : len;
		char *first = xstrndup(buf, l1);
		int csv = strstr(first, "prompt") && strstr(first, "classes") &&
			  strstr(first, "answer_index") && strchr(first, ',');

		free(first);
		if (csv)
			rc = load_csv(s, path, buf, len, err);
		else
			rc = load_pairs(s, path, buf, len, NULL, task_opts, ctx, err);
	}
	inputfile_release(&f);
	if (!rc && !s->n)
		return errbuf_set(err, "%s: no examples", path);
	return rc;
}

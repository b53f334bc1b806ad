/*
 * One dataset from several inputs (dataset.h): the inputs a command names,
 * the pairs of each in input order, and the pairs that repeat an earlier
 * input's left out with where they came from.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft/dataset.h"
#include "weft/meta.h"
#include "weft/similar.h"
#include "weft/strbuf.h"
#include "weft/tree.h"
#include "weft/xalloc.h"

/* ---- the inputs ------------------------------------------------------------ */

static void inputs_push(struct dataset_inputs *in, size_t *cap, char *path, int in_folder)
{
	size_t old = *cap;

	XGROW(in->paths, *cap, in->n + 1);
	if (*cap != old)
		in->in_folder = xreallocarray(in->in_folder, *cap, 1);
	in->paths[in->n] = path;
	in->in_folder[in->n++] = (unsigned char)in_folder;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name is a session file of a folder: *.json, not hidden. */
static int session_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".json");
}

/* The session files of folder dir, in name order, appended to in. */
static int inputs_folder(struct dataset_inputs *in, size_t *cap, const char *dir,
			 struct errbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, ncap = 0, k;
	int rc = 0;

	if (!d)
		return errbuf_set(err, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		struct strbuf path = STRBUF_INIT;
		struct stat st;

		if (!session_name(e->d_name))
			continue;
		strbuf_addf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			    e->d_name);
		/* regular files only: a folder named x.json is not a session */
		if (stat(path.data, &st) < 0 || !S_ISREG(st.st_mode)) {
			strbuf_release(&path);
			continue;
		}
		XGROW(names, ncap, n + 1);
		names[n++] = strbuf_detach(&path, NULL);
	}
	closedir(d);
	if (!n)
		rc = errbuf_set(err, "%s: no session files (*.json) in this folder", dir);
	else
		qsort(names, n, sizeof(*names), by_name);
	for (k = 0; k < n; k++)
		inputs_push(in, cap, names[k], 1);
	free(names);
	return rc;
}

int dataset_inputs_expand(struct dataset_inputs *in, const char *const *args, size_t nargs,
			  struct errbuf *err)
{
	size_t cap = 0, k;

	memset(in, 0, sizeof(*in));
	for (k = 0; k < nargs; k++) {
		struct stat st;

		if (stat(args[k], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (inputs_folder(in, &cap, args[k], err))
				return -1;
		} else {
			/* a missing file is said by the reader, naming it */
			inputs_push(in, &cap, xstrdup(args[k]), 0);
		}
		if (in->n > DATASET_MAX_INPUTS)
			return errbuf_set(err, "more than %d inputs", DATASET_MAX_INPUTS);
	}
	return 0;
}

void dataset_inputs_release(struct dataset_inputs *in)
{
	size_t k;

	for (k = 0; k < in->n; k++)
		free(in->paths[k]);
	free(in->paths);
	free(in->in_folder);
	memset(in, 0, sizeof(*in));
}

/* ---- repeats of earlier inputs ---------------------------------------------- */

const char *dataset_repeat_name(enum dataset_repeat kind)
{
	switch (kind) {
	case DATASET_REPEAT_EXACT: return "exact";
	case DATASET_REPEAT_NORMALISED: return "normalised";
	case DATASET_REPEAT_NEAR: return "near";
	case DATASET_NEW: break;
	}
	return "new";
}

/* A key and the earlier text it belongs to, sorted to be searched. */
struct keyed {
	const char *key;
	size_t index;
};

static int by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The earliest earlier text whose key is key, or SIZE_MAX. */
static size_t key_find(const struct keyed *keys, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	/* the first entry not below key: entries of one key are in index order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(keys[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(keys[lo].key, key) ? keys[lo].index : SIZE_MAX;
}

/* Exact, then normalised repeats of earlier, into out (the rest NEW). */
static void match_keys(const char *const *earlier, size_t nearlier, const char *const *texts,
		       size_t n, struct dataset_match *out)
{
	struct keyed *exact = xcalloc(nearlier + 1, sizeof(*exact));
	struct keyed *norm = xcalloc(nearlier + 1, sizeof(*norm));
	char **norm_keys = xcalloc(nearlier + 1, sizeof(*norm_keys));
	struct strbuf key = STRBUF_INIT;
	size_t i, of;

	for (i = 0; i < nearlier; i++) {
		strbuf_reset(&key);
		pairs_normalise_question(earlier[i], &key);
		norm_keys[i] = xstrdup(key.data ? key.data : "");
		exact[i] = (struct keyed){earlier[i], i};
		norm[i] = (struct keyed){norm_keys[i], i};
	}
	qsort(exact, nearlier, sizeof(*exact), by_key);
	qsort(norm, nearlier, sizeof(*norm), by_key);
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		of = key_find(exact, nearlier, texts[i]);
		if (of == SIZE_MAX) {
			strbuf_reset(&key);
			pairs_normalise_question(texts[i], &key);
			of = key_find(norm, nearlier, key.data ? key.data : "");
			if (of == SIZE_MAX)
				continue;
			out[i].kind = DATASET_REPEAT_NORMALISED;
		} else {
			out[i].kind = DATASET_REPEAT_EXACT;
		}
		out[i].of = of;
		out[i].similarity = 1;
		out[i].source = SIMILAR_SOURCE_LEXICAL;
	}
	for (i = 0; i < nearlier; i++)
		free(norm_keys[i]);
	free(norm_keys);
	free(exact);
	free(norm);
	strbuf_release(&key);
}

int dataset_match_earlier(const char *const *earlier, size_t nearlier, const char *const *texts,
			  size_t n, double threshold, struct dataset_match *out)
{
	const char **all;
	unsigned char *eligible;
	struct similar_match *m;
	size_t i;
	int stopped;

	match_keys(earlier, nearlier, texts, n, out);
	if (!n || !nearlier || threshold <= 0)
		return 0;
	/* the earlier texts first, eligible; the new ones after, searched
	 * against them alone */
	all = xcalloc(nearlier + n, sizeof(*all));
	eligible = xcalloc(nearlier + n, 1);
	m = xcalloc(nearlier + n, sizeof(*m));
	for (i = 0; i < nearlier; i++) {
		all[i] = earlier[i];
		eligible[i] = 1;
	}
	for (i = 0; i < n; i++)
		all[nearlier + i] = texts[i];
	stopped = similar_near_duplicates(all, nearlier + n, eligible, threshold, m);
	for (i = 0; i < n; i++) {
		const struct similar_match *s = &m[nearlier + i];

		if (out[i].kind != DATASET_NEW || !s->found)
			continue;
		out[i].kind = DATASET_REPEAT_NEAR;
		out[i].of = s->of;
		out[i].similarity = s->score;
		out[i].source = s->source;
	}
	free(all);
	free(eligible);
	free(m);
	return stopped;
}

/* ---- the merged dataset ------------------------------------------------------ */

void dataset_init(struct dataset *d)
{
	memset(d, 0, sizeof(*d));
}

static void pair_free(struct pair *p)
{
	free(p->question);
	free(p->answer);
	free(p->node_id);
}

void dataset_release(struct dataset *d)
{
	size_t k;

	pairs_result_release(&d->r);
	free(d->source);
	free(d->dropped_source);
	for (k = 0; k < d->npaths; k++) {
		free(d->paths[k]);
		free(d->tasks[k]);
	}
	free(d->paths);
	free(d->tasks);
	for (k = 0; k < d->nrepeats; k++)
		pair_free(&d->repeats[k].pair);
	free(d->repeats);
	for (k = 0; k < d->nwarnings; k++)
		free(d->warnings[k]);
	free(d->warnings);
	dataset_init(d);
}

/* map[k]: where r's label k is in d's labels, new ones appended.  -1 with
 * err when they would pass PAIRS_MAX_LABELS (d unchanged). */
static int labels_merge(struct dataset *d, const struct pairs_result *r, size_t *map,
			struct errbuf *err)
{
	size_t k, j, n = d->r.nlabels;

	for (k = 0; k < r->nlabels; k++) {
		for (j = 0; j < d->r.nlabels && strcmp(d->r.labels[j], r->labels[k]); j++)
			;
		map[k] = j < d->r.nlabels ? j : n++;
	}
	if (n > PAIRS_MAX_LABELS)
		return errbuf_set(err, "the inputs' labels together are more than %d",
				  PAIRS_MAX_LABELS);
	for (k = 0; k < r->nlabels; k++)
		if (map[k] >= d->r.nlabels)
			d->r.labels[d->r.nlabels++] = xstrdup(r->labels[k]);
	if (!d->npaths) {
		d->first_nlabels = r->nlabels;
		return 0;
	}
	if (r->nlabels != d->first_nlabels)
		d->labels_differ = 1;
	for (k = 0; k < r->nlabels; k++)
		if (map[k] != k)
			d->labels_differ = 1;
	return 0;
}

/* What r's pairs repeat of d's (rejected pairs on neither side).  Fills
 * m[i] for each r->pairs[i] with of an index into d->r.pairs. */
static void repeats_find(struct dataset *d, const struct pairs_result *r, double threshold,
			 struct dataset_match *m)
{
	const char **earlier = xcalloc(d->r.count + 1, sizeof(*earlier));
	const char **texts = xcalloc(r->count + 1, sizeof(*texts));
	size_t *emap = xcalloc(d->r.count + 1, sizeof(*emap));
	size_t *tmap = xcalloc(r->count + 1, sizeof(*tmap));
	struct dataset_match *tm = xcalloc(r->count + 1, sizeof(*tm));
	size_t i, ne = 0, nt = 0;

	for (i = 0; i < d->r.count; i++)
		if (d->r.pairs[i].decision != PAIRSTORE_REJECTED) {
			emap[ne] = i;
			earlier[ne++] = d->r.pairs[i].question;
		}
	for (i = 0; i < r->count; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		if (r->pairs[i].decision != PAIRSTORE_REJECTED) {
			tmap[nt] = i;
			texts[nt++] = r->pairs[i].question;
		}
	}
	if (dataset_match_earlier(earlier, ne, texts, nt, threshold, tm))
		d->r.near_stopped = 1;
	for (i = 0; i < nt; i++) {
		m[tmap[i]] = tm[i];
		if (tm[i].kind != DATASET_NEW)
			m[tmap[i]].of = emap[tm[i].of];
	}
	free(earlier);
	free(texts);
	free(emap);
	free(tmap);
	free(tm);
}

static void remap_class(struct pair *p, const size_t *map, size_t nlabels)
{
	if (p->class_index < nlabels)
		p->class_index = map[p->class_index];
	if (p->relabelled && p->original_class < nlabels)
		p->original_class = map[p->original_class];
}

/* r's kept pairs into d (or into d->repeats), to[i] their new index. */
static void pairs_move(struct dataset *d, struct pairs_result *r, const size_t *map,
		       const struct dataset_match *m, size_t source)
{
	size_t *to = xcalloc(r->count + 1, sizeof(*to));
	size_t i;

	for (i = 0; i < r->count; i++) {
		struct pair p = r->pairs[i];

		remap_class(&p, map, r->nlabels);
		to[i] = SIZE_MAX;
		if (m[i].kind != DATASET_NEW) {
			struct dataset_repeat_drop *x;

			XGROW(d->repeats, d->repeats_cap, d->nrepeats + 1);
			x = &d->repeats[d->nrepeats++];
			memset(x, 0, sizeof(*x));
			x->pair = p;
			x->source = source;
			x->kept = m[i].of;
			x->kind = m[i].kind;
			x->similarity = m[i].similarity;
			x->how = m[i].source;
			continue;
		}
		/* a flag on a pair that left as a repeat points nowhere now */
		if (p.near_dup && to[p.near_of] == SIZE_MAX)
			p.near_dup = 0, p.near_of = 0, p.near_score = 0, p.near_source = NULL;
		else if (p.near_dup)
			p.near_of = to[p.near_of];
		XGROW(d->r.pairs, d->r.cap, d->r.count + 1);
		XGROW(d->source, d->source_cap, d->r.count + 1);
		to[i] = d->r.count;
		d->source[d->r.count] = source;
		d->r.pairs[d->r.count++] = p;
	}
	for (i = 0; i < r->ndropped; i++) {
		struct pair p = r->dropped[i];

		remap_class(&p, map, r->nlabels);
		XGROW(d->r.dropped, d->r.dropped_cap, d->r.ndropped + 1);
		XGROW(d->dropped_source, d->dropped_source_cap, d->r.ndropped + 1);
		d->dropped_source[d->r.ndropped] = source;
		d->r.dropped[d->r.ndropped++] = p;
	}
	r->count = r->ndropped = 0; /* moved */
	free(to);
}

/* The counts of r added to d's; per_class and near_dups counted again. */
static void counts_add(struct dataset *d, const struct pairs_result *r)
{
	struct pairs_result *t = &d->r;
	size_t i;

	t->matches += r->matches;
	t->dupes_exact += r->dupes_exact;
	t->dupes_normalised += r->dupes_normalised;
	t->ambiguous += r->ambiguous;
	t->unmatched += r->unmatched;
	t->rejected += r->rejected;
	t->relabelled += r->relabelled;
	t->below_verify += r->below_verify;
	t->compat_seed |= r->compat_seed;
	t->curated |= r->curated;
	t->near_stopped |= r->near_stopped;
	memset(t->per_class, 0, sizeof(t->per_class));
	t->near_dups = 0;
	for (i = 0; i < t->count; i++) {
		if (t->pairs[i].decision != PAIRSTORE_REJECTED)
			t->per_class[t->pairs[i].class_index]++;
		t->near_dups += t->pairs[i].near_dup != 0;
	}
}

int dataset_add(struct dataset *d, const char *path, const char *task, struct pairs_result *r,
		double near_threshold, struct errbuf *err)
{
	size_t map[PAIRS_MAX_LABELS];
	struct dataset_match *m;

	if (labels_merge(d, r, map, err)) {
		pairs_result_release(r);
		return errbuf_prefix(err, "%s", path);
	}
	if (d->npaths && (task ? !d->tasks[0] || strcmp(task, d->tasks[0]) : !!d->tasks[0]))
		d->tasks_differ = 1;
	m = xcalloc(r->count + 1, sizeof(*m));
	repeats_find(d, r, near_threshold, m);
	pairs_move(d, r, map, m, d->npaths);
	free(m);
	counts_add(d, r);
	d->paths = xreallocarray(d->paths, d->npaths + 1, sizeof(*d->paths));
	d->tasks = xreallocarray(d->tasks, d->npaths + 1, sizeof(*d->tasks));
	d->paths[d->npaths] = xstrdup(path);
	d->tasks[d->npaths++] = xstrdup_or_null(task);
	pairs_result_release(r);
	return 0;
}

/* ---- loading ----------------------------------------------------------------- */

static void warning_add(struct dataset *d, const char *msg)
{
	d->warnings = xreallocarray(d->warnings, d->nwarnings + 1, sizeof(*d->warnings));
	d->warnings[d->nwarnings++] = xstrdup(msg);
}

/* One input into d, read with its own session's task. */
static int load_one(struct dataset *d, const struct dataset_args *a, const char *path,
		    int in_folder, dataset_task_fn *task_opts, void *ctx, struct errbuf *err)
{
	struct dataset_input in;
	struct dataset_args ai = *a;
	struct strbuf task = STRBUF_INIT;
	struct pairs_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (dataset_input_load(path, &in, err))
		return -1;
	if (in_folder && !in.tree) {
		dataset_input_release(&in);
		return errbuf_set(err,
				  "%s: not a session (a folder's *.json files are read as "
				  "sessions)",
				  path);
	}
	if (in.warned)
		warning_add(d, in.warning.msg);
	if (in.tree && !meta_get_string(in.tree, "task", &task) && task.len) {
		struct pairs_options o;

		pairs_options_init(&o);
		if (task_opts && !task_opts(task.data, &o, ctx))
			dataset_args_defaults(&ai, &o);
	}
	rc = dataset_extract(&ai, &in, &r, err);
	if (rc < 0) {
		errbuf_prefix(err, "%s", path);
		pairs_result_release(&r);
	} else {
		rc = dataset_add(d, path, task.len ? task.data : NULL, &r, ai.pairs.near_threshold,
				 err);
	}
	strbuf_release(&task);
	dataset_input_release(&in);
	return rc < 0 ? -1 : 0;
}

int dataset_load(struct dataset *d, const struct dataset_args *a, dataset_task_fn *task_opts,
		 void *ctx, struct errbuf *err)
{
	struct dataset_inputs in;
	size_t k;
	int rc = dataset_inputs_expand(&in, a->files, a->nfiles, err);

	for (k = 0; !rc && k < in.n; k++)
		rc = load_one(d, a, in.paths[k], in.in_folder[k], task_opts, ctx, err);
	dataset_inputs_release(&in);
	return rc < 0 ? -1 : 0;
}

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/dataset.h"
#include "weft/display.h"
#include "weft/embed.h"
#include "weft/evalset.h"
#include "weft/inputfile.h"
#include "weft/lm.h"
#include "weft/map.h"
#include "weft/maptext.h"
#include "weft/meta.h"
#include "weft/num.h"
#include "weft/outfile.h"
#include "weft/similar.h"
#include "weft/task.h"
#include "weft/xalloc.h"
#include "clicommon.h"

static const char map_usage[] =
    "usage: weft map DATASET... [--out DIR] [--method pca|tsne] [--clusters K] [--near T]\n"
    "                [--force] [--set ROLE.KEY=VALUE]... [--config FILE]\n"
    "\n"
    "Draws an offline map of a dataset's pairs (a session, a text file, or an\n"
    "exported CSV or JSONL, as weft eval reads them): each question as a TF-IDF\n"
    "vector of its words (no embedder), laid out in 2-D by PCA, grouped by\n"
    "k-means (K clusters, default round(sqrt(pairs / 2)) from 2 to 12), each\n"
    "cluster named by its most distinctive words.  Prints a scatter by label,\n"
    "the clusters with their balance, the near-duplicate questions (similarity\n"
    "at least T, default 0.8) and the possible shortcuts (a cluster of at\n"
    "least 8 pairs where one label holds 85% or more).  Writes DIR/map.csv,\n"
    "DIR/map.svg and DIR/map.html (default DIR: map), replacing existing files\n"
    "only with --force.  Several DATASETs (or a folder of sessions) are one\n"
    "dataset, as weft eval reads them: repeats of an earlier input's questions\n"
    "left out and listed on stderr.\n"
    "\n"
    "With an embedder configured ([embedder] model, WEFT_EMBEDDER_MODEL or\n"
    "--set embedder.model=M), the questions are the embedder's vectors instead\n"
    "(cosine similarity), cached in DIR/embeddings.cache so that a rerun asks\n"
    "for none again; cluster names stay the clusters' distinctive words.\n"
    "--method tsne lays the pairs out by t-SNE instead (perplexity 30; exact up\n"
    "to 3000 pairs, Barnes-Hut past them): neighbourhoods kept, distances\n"
    "between groups not.\n";

struct map_options {
	const char *dataset;   /* the first DATASET */
	const char **datasets; /* owned array of borrowed argv strings */
	size_t ndatasets;
	const char *dir;
	const char *config_path; /* --config, or NULL */
	char **sets;		 /* --set flags, owned (the strings borrowed) */
	size_t nsets;
	size_t clusters; /* 0: the default */
	double near;
	enum map_method method;
	int force;
};

static void map_options_init(struct map_options *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = "map";
	o->near = SIMILAR_DEFAULT_THRESHOLD;
}

/* An option a with its value v; -1 when good, else the exit status. */
static int map_value(struct map_options *o, const char *a, const char *v)
{
	long k;

	if (!strcmp(a, "--out")) {
		o->dir = v;
	} else if (!strcmp(a, "--set") || !strcmp(a, "-s")) {
		o->sets[o->nsets++] = (char *)v;
	} else if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
		o->config_path = v;
	} else if (!strcmp(a, "--method")) {
		if (strcmp(v, "pca") && strcmp(v, "tsne"))
			return cli_usage_error("map", map_usage, "--method must be pca or tsne");
		o->method = strcmp(v, "pca") ? MAP_METHOD_TSNE : MAP_METHOD_PCA;
	} else if (!strcmp(a, "--clusters")) {
		if (num_parse_long(v, 1, MAP_MAX_CLUSTERS, &k))
			return cli_usage_error("map", map_usage,
					       "--clusters must be a number from 1 to 12");
		o->clusters = (size_t)k;
	} else if (num_parse_double(v, 0, 1, &o->near) || o->near <= 0) {
		return cli_usage_error("map", map_usage,
				       "--near must be a similarity above 0 and at most 1");
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int map_parse(struct map_options *o, int argc, char **argv)
{
	int i, r;

	o->sets = xcalloc((size_t)argc + 1, sizeof(*o->sets));
	o->datasets = xcalloc((size_t)argc + 1, sizeof(*o->datasets));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(map_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o->force = 1;
		} else if (!strcmp(a, "--out") || !strcmp(a, "--clusters") ||
			   !strcmp(a, "--near") || !strcmp(a, "--set") || !strcmp(a, "-s") ||
			   !strcmp(a, "--config") || !strcmp(a, "-c") || !strcmp(a, "--method")) {
			if (i + 1 >= argc)
				return cli_unknown_option("map", map_usage, a, 1);
			r = map_value(o, a, argv[++i]);
			if (r >= 0)
				return r;
		} else if (a[0] == '-' && a[1]) {
			return cli_unknown_option("map", map_usage, a, 0);
		} else {
			if (!o->dataset)
				o->dataset = a;
			o->datasets[o->ndatasets++] = a;
		}
	}
	if (!o->dataset)
		return cli_usage_error("map", map_usage, "no DATASET given");
	return -1;
}

/* The dataset as map_build takes it: a session's pairs (with their
 * answers and nodes, which evalset keeps not) or else evalset's examples;
 * the strings borrowed from them except the label names (owned, the
 * leading space of evalset's " Yes" dropped). */
struct map_data {
	struct inputfile file; /* the session, while its pairs are used */
	struct pairs_result pairs;
	struct evalset set;
	struct task task;
	const char **questions, **answers, **nodes;
	size_t *labels;
	char *names[MAP_MAX_LABELS];
	struct map_input in;
};

/* The largest dataset read, as weft eval's. */
#define MAP_MAX_BYTES ((size_t)1 << 30)

static int map_data_session(struct map_data *md, struct errbuf *err)
{
	const struct pairs_result *r = &md->pairs;
	struct pairs_options po;
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int rc;

	pairs_options_init(&po);
	if (!meta_get_string(md->file.tree, "task", &name) && name.len &&
	    cli_task_pairs_options(name.data, &po, &md->task) < 0)
		pairs_options_init(&po);
	rc = dataset_tree_pairs(md->file.tree, &po, &md->pairs, err);
	strbuf_release(&name);
	if (rc < 0)
		return -1;
	md->in.n = r->count;
	md->questions = xcalloc(r->count + 1, sizeof(*md->questions));
	md->answers = xcalloc(r->count + 1, sizeof(*md->answers));
	md->nodes = xcalloc(r->count + 1, sizeof(*md->nodes));
	md->labels = xcalloc(r->count + 1, sizeof(*md->labels));
	for (i = 0; i < r->count; i++) {
		md->questions[i] = r->pairs[i].question;
		md->answers[i] = r->pairs[i].answer;
		md->nodes[i] = r->pairs[i].node_id;
		md->labels[i] = r->pairs[i].class_index;
	}
	for (i = 0; i < r->nlabels && i < MAP_MAX_LABELS; i++)
		md->names[md->in.nlabels++] = xstrdup(r->labels[i]);
	md->in.answers = md->answers;
	md->in.node_ids = md->nodes;
	return 0;
}

static int map_data_examples(struct map_data *md, const struct map_options *o, struct errbuf *err)
{
	size_t i, l;

	if (evalset_load_many(&md->set, o->datasets, o->ndatasets, cli_task_pairs_options,
			      &md->task, err) < 0)
		return -1;
	cli_evalset_repeats(stderr, &md->set);
	md->questions = xcalloc(md->set.n + 1, sizeof(*md->questions));
	if (md->set.nsources > 1) {
		/* several inputs: the sessions' nodes, as evalset keeps them */
		md->nodes = xcalloc(md->set.n + 1, sizeof(*md->nodes));
		for (i = 0; i < md->set.n; i++)
			md->nodes[i] = md->set.items[i].node_id;
		md->in.node_ids = md->nodes;
	}
	md->labels = xcalloc(md->set.n + 1, sizeof(*md->labels));
	for (i = 0; i < md->set.n; i++) {
		const struct evalset_example *e = &md->set.items[i];
		const char *name = e->classes[e->answer];

		name += *name == ' ';
		for (l = 0; l < md->in.nlabels && strcmp(md->names[l], name); l++)
			;
		if (l == md->in.nlabels) {
			if (l == MAP_MAX_LABELS)
				return errbuf_set(err, "more than %d labels", MAP_MAX_LABELS), -1;
			md->names[md->in.nlabels++] = xstrdup(name);
		}
		md->questions[i] = e->question;
		md->labels[i] = l;
	}
	md->in.n = md->set.n;
	return 0;
}

static int map_data_load(struct map_data *md, const struct map_options *o, struct errbuf *err)
{
	size_t len = strlen(o->dataset);
	int jsonl = len >= 6 && !strcmp(o->dataset + len - 6, ".jsonl"), rc;
	struct stat st;

	/* several inputs or a folder: one dataset, as weft eval reads it */
	if (o->ndatasets > 1 || (stat(o->dataset, &st) == 0 && S_ISDIR(st.st_mode)))
		jsonl = 1;
	/* a session is read here, for its pairs' nodes; anything else as
	 * weft eval reads it */
	if (!jsonl && inputfile_read(&md->file, o->dataset, MAP_MAX_BYTES, 0, err) < 0)
		return -1;
	if (md->file.tree) {
		rc = map_data_session(md, err);
		if (rc < 0)
			errbuf_prefix(err, "%s", o->dataset);
	} else {
		inputfile_release(&md->file);
		memset(&md->file, 0, sizeof(md->file));
		rc = map_data_examples(md, o, err);
	}
	md->in.questions = md->questions;
	md->in.labels = md->labels;
	md->in.label_names = (const char *const *)md->names;
	md->in.clusters = o->clusters;
	md->in.near = o->near;
	md->in.method = o->method;
	return rc;
}

static void map_data_release(struct map_data *md)
{
	size_t l;

	inputfile_release(&md->file);
	pairs_result_release(&md->pairs);
	evalset_release(&md->set);
	task_release(&md->task);
	free(md->questions);
	free(md->answers);
	free(md->nodes);
	free(md->labels);
	for (l = 0; l < md->in.nlabels; l++)
		free(md->names[l]);
}

/* Prints s made safe for a terminal, cut to cols columns. */
static void put_cut(const char *s, size_t cols)
{
	struct strbuf b = STRBUF_INIT;
	size_t n;

	display_sanitize_flags(s, strlen(s), DISPLAY_NEWLINE_AS_SPACE | DISPLAY_TAB_AS_SPACE, &b);
	n = display_truncate(b.data, b.len, cols, NULL);
	fwrite(b.data, 1, n, stdout);
	if (n < b.len)
		fputs("...", stdout);
	strbuf_release(&b);
}

static const char *const map_files[] = {"map.csv", "map.svg", "map.html"};
#define MAP_NFILES 3

/* Checks the three outputs before writing any (none is an input, a
 * folder's sessions included); the folder is made when missing.  Returns
 * 0, or the exit status. */
static int map_outputs_check(const struct map_options *o, const struct evalset *set, char **paths)
{
	const char **inputs = xcalloc(o->ndatasets + set->nsources + 1, sizeof(*inputs));
	struct errbuf err;
	size_t f, n = 0, k;
	int r = 0;

	for (k = 0; k < o->ndatasets; k++)
		inputs[n++] = o->datasets[k];
	for (k = 0; k < set->nsources; k++)
		inputs[n++] = set->sources[k];
	if (mkdir(o->dir, 0777) < 0 && errno != EEXIST) {
		errbuf_set(&err, "%s: %s", o->dir, strerror(errno));
		r = cli_error("map", err.msg);
	}
	for (f = 0; !r && f < MAP_NFILES; f++) {
		size_t len = strlen(o->dir) + strlen(map_files[f]) + 2;

		paths[f] = xmalloc(len);
		snprintf(paths[f], len, "%s/%s", o->dir, map_files[f]);
	}
	for (f = 0; !r && f < MAP_NFILES; f++)
		if (outfile_check(paths[f], inputs, n, o->force, &err) < 0)
			r = cli_error("map", err.msg);
	free(inputs);
	return r;
}

static int map_outputs_write(const struct map *m, const struct map_input *in, char **paths)
{
	void (*writers[MAP_NFILES])(const struct map *, const struct map_input *,
				    struct strbuf *) = {map_write_csv, map_write_svg,
							map_write_html};
	struct errbuf err;
	size_t f;

	for (f = 0; f < MAP_NFILES; f++) {
		struct strbuf out = STRBUF_INIT;
		int r;

		writers[f](m, in, &out);
		r = atomicfile_write(paths[f], out.data, out.len, &err);
		strbuf_release(&out);
		if (r)
			return cli_error("map", err.msg);
	}
	fputs("wrote ", stdout);
	for (f = 0; f < MAP_NFILES; f++) {
		put_cut(paths[f], 200);
		fputs(f + 1 < MAP_NFILES ? ", " : "\n", stdout);
	}
	return 0;
}

/* The embedder's vectors of the questions, when one is configured. */
struct map_embed {
	struct embed_result res;
	char *model; /* owned; NULL: no embedder, TF-IDF */
};

/* Asks the configured embedder (if any) for the questions' vectors, after
 * the outputs are checked (the cache lives in DIR).  Returns 0, or the
 * exit status with the error said. */
static int map_embed(const struct map_options *o, struct map_data *md, char **paths,
		     struct map_embed *me)
{
	struct cli_config_args ca = {o->config_path, o->sets, o->nsets, 0};
	struct config cfg;
	const struct config_role *role;
	struct lm_engine *e;
	struct strbuf cache = STRBUF_INIT;
	struct errbuf err;
	int r;

	config_init(&cfg);
	r = cli_load_config("map", &cfg, &ca);
	role = r ? NULL : config_role(&cfg, "embedder");
	if (r || !config_role_configured(role)) {
		config_release(&cfg);
		return r;
	}
	r = map_outputs_check(o, &md->set, paths);
	if (r == 0) {
		strbuf_addf(&cache, "%s/%s", o->dir, EMBED_CACHE_FILE);
		e = cli_start_engine(&cfg);
		if (embed_texts(e, role, cache.data, md->in.questions, md->in.n, &me->res, &err) <
		    0)
			r = cli_error("map", err.msg);
		lm_engine_free(e);
		strbuf_release(&cache);
	}
	if (r == 0) {
		me->model = xstrdup(role->model);
		md->in.vectors = me->res.vectors;
		md->in.dim = me->res.dim;
	}
	config_release(&cfg);
	return r;
}

int cmd_map(int argc, char **argv)
{
	struct map_options o;
	struct map_data md;
	struct map m = {0};
	struct map_embed me;
	struct errbuf err;
	char *paths[MAP_NFILES] = {NULL, NULL, NULL};
	int r, f;

	map_options_init(&o);
	memset(&me, 0, sizeof(me));
	r = map_parse(&o, argc, argv);
	if (r >= 0) {
		free(o.sets);
		free(o.datasets);
		return r;
	}
	memset(&md, 0, sizeof(md));
	evalset_init(&md.set);
	task_init(&md.task);
	if (map_data_load(&md, &o, &err) < 0) {
		r = cli_error("map", err.msg);
	} else if ((r = map_embed(&o, &md, paths, &me)) != 0) {
		/* said */
	} else if (map_build(&md.in, &m, &err) < 0) {
		r = cli_error("map", err.msg);
	} else {
		/* a torn journal line: said, not fatal */
		cli_evalset_warnings("map", &md.set);
		if (md.file.warned)
			cli_error("map", md.file.warning.msg);
		if (!paths[0])
			r = map_outputs_check(&o, &md.set, paths);
	}
	if (r == 0 && me.model) {
		printf("%zu pairs, %zu clusters; vectors: embeddings from ", m.n, m.k);
		put_cut(me.model, 80);
		printf(" (%zu new, %zu cached)\n", me.res.fresh, me.res.cached);
	} else if (r == 0) {
		printf("%zu pairs, %zu clusters; vectors: TF-IDF of the questions (no embedder)\n",
		       m.n, m.k);
	}
	if (r == 0) {
		struct strbuf text = STRBUF_INIT;

		map_format_body(&m, &md.in, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), &text);
		fwrite(text.data, 1, text.len, stdout);
		strbuf_release(&text);
		r = map_outputs_write(&m, &md.in, paths);
	}
	for (f = 0; f < MAP_NFILES; f++)
		free(paths[f]);
	map_release(&m);
	map_data_release(&md);
	embed_result_release(&me.res);
	free(me.model);
	free(o.sets);
	free(o.datasets);
	return r;
}

#include "weft/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "weft/curate.h"
#include "weft/inputfile.h"
#include "weft/num.h"
#include "weft/tree.h"
#include "weft/xalloc.h"
#include "weft/safetext.h"

/* Largest text file read, in bytes. */
#define DATASET_MAX_TEXT ((size_t)1 << 30)

/* The value of option name at argv[*i] ("--name V" or "--name=V"), or NULL
 * when argv[*i] is not that option; *missing is set when the value is. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int dataset_args_parse(struct dataset_args *a, int argc, char **argv, int accept_output,
		       struct errbuf *err)
{
	int i, only_files = 0;

	memset(a, 0, sizeof(*a));
	pairs_options_init(&a->pairs);
	curate_options_init(&a->curate);
	a->files = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*a->files));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		int missing = 0;

		if (only_files || arg[0] != '-' || !arg[1]) {
			if (!a->file)
				a->file = arg;
			a->files[a->nfiles++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_files = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return DATASET_ARGS_HELP;
		if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
			a->format = v;
		} else if ((v = opt_value(argc, argv, &i, "--compat", &missing))) {
			if (strcmp(v, "seed"))
				return errbuf_set(err, "--compat: unknown mode '%s' (only 'seed')",
						  v);
			a->pairs.compat_seed = 1;
		} else if ((v = opt_value(argc, argv, &i, "--pattern", &missing))) {
			a->pairs.pattern = v;
			a->given |= DATASET_GIVEN_PATTERN;
		} else if ((v = opt_value(argc, argv, &i, "--preamble", &missing))) {
			a->pairs.preamble = v;
			a->given |= DATASET_GIVEN_PREAMBLE;
		} else if ((v = opt_value(argc, argv, &i, "--labels", &missing))) {
			free(a->labels_storage);
			if (pairs_options_set_labels(&a->pairs, v, &a->labels_storage, err))
				return errbuf_prefix(err, "--labels");
			a->given |= DATASET_GIVEN_LABELS;
		} else if ((v = opt_value(argc, argv, &i, "--near-duplicate", &missing))) {
			if (num_parse_double(v, 0, 1, &a->pairs.near_threshold))
				return errbuf_set(err,
						  "--near-duplicate: '%s' is not a similarity "
						  "from 0 to 1",
						  v);
			a->given |= DATASET_GIVEN_NEAR;
		} else if (accept_output &&
			   (v = opt_value(argc, argv, &i, "--min-verify", &missing))) {
			if (num_parse_double(v, 0, 1, &a->curate.min_verify))
				return errbuf_set(err,
						  "--min-verify: '%s' is not a probability from 0 "
						  "to 1",
						  v);
		} else if (accept_output && !strcmp(arg, "--include-rejected")) {
			a->curate.include_rejected = 1;
		} else if (accept_output && (!strcmp(arg, "-f") || !strcmp(arg, "--force"))) {
			a->force = 1;
		} else if (accept_output && (v = opt_value(argc, argv, &i, "-o", &missing))) {
			a->output = v;
		} else if (accept_output && (v = opt_value(argc, argv, &i, "--output", &missing))) {
			a->output = v;
		} else if (accept_output &&
			   (v = opt_value(argc, argv, &i, "--other-prefix", &missing))) {
			a->other_prefix = v;
		} else if (accept_output && (v = opt_value(argc, argv, &i, "--system", &missing))) {
			a->system_prompt = v;
		} else if (missing) {
			return errbuf_set(err, "option '%s' needs a value", arg);
		} else {
			return errbuf_set(err, "unknown option '%s'", arg);
		}
		if (missing)
			return errbuf_set(err, "option '%s' needs a value", arg);
	}
	if (!a->file)
		return errbuf_set(err, "no input file");
	return DATASET_ARGS_OK;
}

void dataset_args_defaults(struct dataset_args *a, const struct pairs_options *o)
{
	size_t k;

	if (!(a->given & DATASET_GIVEN_PATTERN))
		a->pairs.pattern = o->pattern;
	if (!(a->given & DATASET_GIVEN_PREAMBLE))
		a->pairs.preamble = o->preamble;
	if (!(a->given & DATASET_GIVEN_LABELS)) {
		for (k = 0; k < o->nlabels; k++)
			a->pairs.labels[k] = o->labels[k];
		a->pairs.nlabels = o->nlabels;
	}
	if (!(a->given & DATASET_GIVEN_NEAR))
		a->pairs.near_threshold = o->near_threshold;
}

void dataset_args_release(struct dataset_args *a)
{
	free(a->labels_storage);
	a->labels_storage = NULL;
	free(a->files);
	a->files = NULL;
	a->nfiles = 0;
}

void dataset_input_from_tree(const struct tree *t, struct dataset_input *in)
{
	struct strbuf doc = STRBUF_INIT;
	size_t n = t->path_len, k;

	memset(in, 0, sizeof(*in));
	if (t->root == TREE_NONE)
		n = 0;
	else if (!n)
		n = 1;
	in->spans = n ? xcalloc(n, sizeof(*in->spans)) : NULL;
	for (k = 0; k < n; k++) {
		const struct tree_node *node = tree_node(t, t->path_len ? t->path[k] : t->root);

		in->spans[k].offset = doc.len;
		in->spans[k].node_id = node->id;
		strbuf_add(&doc, node->text, node->text_len);
		if (k == 0)
			in->start = doc.len;
	}
	in->nspans = n;
	in->doc = strbuf_detach(&doc, &in->len);
}

int dataset_input_load(const char *path, struct dataset_input *in, struct errbuf *err)
{
	struct inputfile f;
	struct tree *t;

	memset(in, 0, sizeof(*in));
	if (inputfile_read(&f, path, DATASET_MAX_TEXT, 0, err)) {
		inputfile_release(&f);
		return -1;
	}
	t = inputfile_take_tree(&f);
	if (t) {
		dataset_input_from_tree(t, in); /* zeroes in first */
		in->tree = t;
	} else {
		in->doc = inputfile_take_data(&f, &in->len);
	}
	in->warned = f.warned;
	in->warning = f.warning;
	inputfile_release(&f);
	return 0;
}

void dataset_input_release(struct dataset_input *in)
{
	free(in->doc);
	free(in->spans);
	if (in->tree)
		tree_free(in->tree);
	memset(in, 0, sizeof(*in));
}

int dataset_tree_pairs(const struct tree *t, const struct pairs_options *o, struct pairs_result *r,
		       struct errbuf *err)
{
	struct dataset_input in;
	struct pairs_options po = *o;
	int ret;

	dataset_input_from_tree(t, &in);
	po.start = in.start;
	ret = pairs_extract(in.doc, in.len, in.spans, in.nspans, &po, r, err);
	dataset_input_release(&in);
	if (ret >= 0) {
		struct curate_options co;

		curate_options_init(&co);
		co.near_threshold = o->near_threshold;
		curate_pairs(r, t, &co);
	}
	return ret;
}

int dataset_extract(const struct dataset_args *a, const struct dataset_input *in,
		    struct pairs_result *r, struct errbuf *err)
{
	struct pairs_options o = a->pairs;

	struct curate_options co = a->curate;
	int ret;

	o.start = in->start;
	ret = pairs_extract(in->doc, in->len, in->spans, in->nspans, &o, r, err);
	if (ret >= 0) {
		co.near_threshold = a->pairs.near_threshold;
		curate_pairs(r, in->tree, &co);
	}
	return ret;
}

void dataset_caret(struct strbuf *out, const char *s, size_t len, int keep_newlines)
{
	safetext_append(out, s, len, keep_newlines);
}

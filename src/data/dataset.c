#include "weft/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "weft/atomicfile.h"
#include "weft/xalloc.h"

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
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		int missing = 0;

		if (only_files || arg[0] != '-' || !arg[1]) {
			if (a->file)
				return errbuf_set(err, "one input file only ('%s' and '%s')",
						  a->file, arg);
			a->file = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_files = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return 1;
		if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
			a->format = v;
		} else if ((v = opt_value(argc, argv, &i, "--compat", &missing))) {
			if (strcmp(v, "seed"))
				return errbuf_set(err, "--compat: unknown mode '%s' (only 'seed')",
						  v);
			a->pairs.compat_seed = 1;
		} else if ((v = opt_value(argc, argv, &i, "--pattern", &missing))) {
			a->pairs.pattern = v;
		} else if ((v = opt_value(argc, argv, &i, "--preamble", &missing))) {
			a->pairs.preamble = v;
			a->preamble_given = 1;
		} else if ((v = opt_value(argc, argv, &i, "--labels", &missing))) {
			free(a->labels_storage);
			if (pairs_options_set_labels(&a->pairs, v, &a->labels_storage, err))
				return errbuf_prefix(err, "--labels");
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
	return 0;
}

void dataset_args_release(struct dataset_args *a)
{
	free(a->labels_storage);
	a->labels_storage = NULL;
}

int dataset_input_load(const char *path, struct dataset_input *in, struct errbuf *err)
{
	memset(in, 0, sizeof(*in));
	return atomicfile_read(path, DATASET_MAX_TEXT, &in->doc, &in->len, err);
}

void dataset_input_release(struct dataset_input *in)
{
	free(in->doc);
	free(in->spans);
	memset(in, 0, sizeof(*in));
}

int dataset_extract(const struct dataset_args *a, const struct dataset_input *in,
		    struct pairs_result *r, struct errbuf *err)
{
	struct pairs_options o = a->pairs;

	o.start = in->start;
	return pairs_extract(in->doc, in->len, in->spans, in->nspans, &o, r, err);
}

void dataset_caret(struct strbuf *out, const char *s, size_t len, int keep_newlines)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (keep_newlines && (c == '\n' || c == '\t'))
			strbuf_addch(out, c);
		else if (c < 0x20) {
			strbuf_addch(out, '^');
			strbuf_addch(out, c + '@');
		} else if (c == 0x7f)
			strbuf_addstr(out, "^?");
		else
			strbuf_addch(out, c);
	}
}

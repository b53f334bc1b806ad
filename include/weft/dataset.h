#ifndef WEFT_DATASET_H
#define WEFT_DATASET_H
/*
 * What `weft extract` and `weft export` share (src/data/dataset.c): their
 * options, loading the input (a text file, or a session's chosen path), and
 * showing text from files on a terminal.  Extraction itself is pairs.h, the
 * writers export.h.
 */
#include <stddef.h>

#include "weft/curate.h"
#include "weft/errbuf.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"

struct tree;

struct dataset_args {
	const char *file;
	const char *format; /* NULL: the command's default */
	const char *output; /* -o */
	int force;	    /* -f, --force: -o may replace an existing file */
	const char *other_prefix;
	const char *system_prompt;
	struct pairs_options pairs;
	struct curate_options curate; /* --min-verify, --include-rejected (export) */
	char *labels_storage;	      /* owned (pairs_options_set_labels) */
	unsigned given;		      /* DATASET_GIVEN_*: set on the command line */
};

enum {
	DATASET_GIVEN_PATTERN = 1u << 0,
	DATASET_GIVEN_PREAMBLE = 1u << 1,
	DATASET_GIVEN_LABELS = 1u << 2,
	DATASET_GIVEN_NEAR = 1u << 3, /* --near-duplicate */
};

/*
 * Parses the options after the command name (argv[0]).  accept_output: -o,
 * --force, --other-prefix, --system, --min-verify and --include-rejected
 * are allowed (export).  Returns
 * DATASET_ARGS_OK; DATASET_ARGS_HELP when --help was asked;
 * DATASET_ARGS_USAGE_ERROR with err set on a usage error.  Release with
 * dataset_args_release.
 */
enum dataset_args_result {
	DATASET_ARGS_USAGE_ERROR = -1,
	DATASET_ARGS_OK = 0,
	DATASET_ARGS_HELP = 1,
};
int dataset_args_parse(struct dataset_args *a, int argc, char **argv, int accept_output,
		       struct errbuf *err);
void dataset_args_release(struct dataset_args *a);

/* Takes the pattern, preamble, labels and near-duplicate threshold the
 * command line did not give from o (a session's task); o's strings must
 * outlive a. */
void dataset_args_defaults(struct dataset_args *a, const struct pairs_options *o);

/* A document to extract from. */
struct dataset_input {
	char *doc; /* owned */
	size_t len;
	struct pairs_span *spans; /* owned array; ids borrowed from tree */
	size_t nspans;
	size_t start;	   /* where extraction starts (after a session's root) */
	struct tree *tree; /* the session, or NULL for a text file */
	int warned;	   /* warning holds a message for the person */
	struct errbuf warning;
};

/*
 * Loads path through inputfile_read (a byte-order mark skipped; a session's
 * journal applied, read-only): a session (the document of its chosen path,
 * one span per node) or else plain text.  Returns 0 (warned set when the
 * journal's torn last line was ignored), or -1 with err set.  Release with
 * dataset_input_release.
 */
int dataset_input_load(const char *path, struct dataset_input *in, struct errbuf *err);
void dataset_input_release(struct dataset_input *in);

/* Fills in (zeroed first) with the document of t's chosen path (the root
 * alone when there is none), one span per node, and start after the root.
 * in->tree stays NULL: t is only borrowed while the spans are used. */
void dataset_input_from_tree(const struct tree *t, struct dataset_input *in);

/* Extracts the pairs of t's chosen path with o (its start is replaced by
 * the end of the root) into *r, each pair with its node's id (borrowed
 * from t), curated (curate_pairs: the session's decisions applied,
 * near-duplicates at o->near_threshold flagged).  Returns pairs_extract's result; release r either
 * way. */
int dataset_tree_pairs(const struct tree *t, const struct pairs_options *o, struct pairs_result *r,
		       struct errbuf *err);

/* Extracts with a's options from in, with in's spans; for a session, after
 * the preamble when the document holds it, else after the root node (the
 * task's prompt).  Then curate_pairs with a->curate (in->tree: the
 * session's decisions; a text file: near-duplicates only). */
int dataset_extract(const struct dataset_args *a, const struct dataset_input *in,
		    struct pairs_result *r, struct errbuf *err);

/* Appends s (len bytes) for a terminal: safetext_append (C0 controls and
 * DEL in caret form, except newline and tab when keep_newlines; C1, bidi
 * and zero-width characters as <U+XXXX>; bytes that are not UTF-8 as
 * <XX>). */
void dataset_caret(struct strbuf *out, const char *s, size_t len, int keep_newlines);

#endif

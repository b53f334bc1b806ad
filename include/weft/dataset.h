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

/*
 * How the pairs of a session whose task is task_name read (dataset_load):
 * fills o (already at pairs_options_init's defaults) and returns 0, or -1
 * to keep the defaults.  The strings put in o must live until the next
 * call or until dataset_load returns.  (Tasks are the steering layer's; the
 * caller supplies them this way: cli_task_pairs_options.)
 */
typedef int dataset_task_fn(const char *task_name, struct pairs_options *o, void *ctx);

struct dataset_args {
	const char *file;   /* the first input (files[0]) */
	const char **files; /* owned array of borrowed argv strings: every
			     * input given, files or folders (dataset_inputs) */
	size_t nfiles;
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

/* ---- Several inputs, one dataset (src/data/dataset_merge.c) ----------

 * The inputs a command was given, as files: a folder stands for the
 * session files in it (its *.json regular files, not hidden ones, in name
 * order by byte; its journals, locks and sub-folders such as results are
 * not read), a file for itself.
 */
struct dataset_inputs {
	char **paths;		  /* owned array of owned strings */
	unsigned char *in_folder; /* per path: it came from a folder, so it must
				   * be a session */
	size_t n;
};

/* Most inputs one command reads. */
#define DATASET_MAX_INPUTS 100000

/*
 * Fills in (needs no initialisation) from args[0..nargs).  Returns 0, or
 * -1 with err set ("DIR: no session files (*.json) in this folder", a
 * folder that cannot be read, more than DATASET_MAX_INPUTS).  Release with
 * dataset_inputs_release either way.
 */
int dataset_inputs_expand(struct dataset_inputs *in, const char *const *args, size_t nargs,
			  struct errbuf *err);
void dataset_inputs_release(struct dataset_inputs *in);

/* How a text repeats an earlier input's (the kinds extraction drops within
 * one input, pairs.h, and its near-duplicates, similar.h). */
enum dataset_repeat {
	DATASET_NEW = 0,
	DATASET_REPEAT_EXACT,
	DATASET_REPEAT_NORMALISED, /* pairs_normalise_question equal */
	DATASET_REPEAT_NEAR,	   /* similar_text at or above the threshold */
};

struct dataset_match {
	enum dataset_repeat kind;
	size_t of;	    /* index into earlier of the text it repeats */
	double similarity;  /* 1 for exact and normalised */
	const char *source; /* SIMILAR_SOURCE_LEXICAL; static */
};

/* "exact", "normalised", "near" (or "new"). */
const char *dataset_repeat_name(enum dataset_repeat kind);

/*
 * For each texts[i] (n), whether it repeats one of earlier[0..nearlier):
 * exactly, else after normalising (the earliest such), else the most
 * similar at or above threshold (similar_near_duplicates: the earliest on
 * a tie; threshold <= 0 finds none).  texts are not compared with each
 * other.  Fills out[0..n).  Returns 0, or 1 when the near search passed its
 * budget (similar.h: the texts after where it stopped get no near match).
 */
int dataset_match_earlier(const char *const *earlier, size_t nearlier, const char *const *texts,
			  size_t n, double threshold, struct dataset_match *out);

/* A pair dropped because it repeats a pair of an earlier input. */
struct dataset_repeat_drop {
	struct pair pair; /* owned: the dropped pair (line, node_id in its input) */
	size_t source;	  /* its input, into dataset.paths */
	size_t kept;	  /* the pair it repeats, into dataset.r.pairs */
	enum dataset_repeat kind;
	double similarity;
	const char *how; /* SIMILAR_SOURCE_*, static */
};

/*
 * One dataset from several inputs: their pairs in input order, each with
 * the input it came from; a pair repeating an earlier input's pair
 * (dataset_match_earlier, at its own input's near-duplicate threshold) is
 * left out and listed in repeats.  Within one input nothing changes: its
 * own duplicates are dropped (r.dropped) and near-duplicates flagged as
 * extraction and curate_pairs do, so one input gives exactly its own
 * result.  Rejected pairs (kept with include_rejected) neither repeat nor
 * are repeated.
 */
struct dataset {
	struct pairs_result r;	/* the merged result; labels the union, in order of
				 * first use */
	size_t *source;		/* per r.pairs[i]: its input */
	size_t *dropped_source; /* per r.dropped[i]: its input */
	size_t source_cap, dropped_source_cap;
	char **paths; /* owned; the inputs, in order */
	char **tasks; /* owned; per input the session's task name, or NULL */
	size_t npaths;
	struct dataset_repeat_drop *repeats; /* owned */
	size_t nrepeats, repeats_cap;
	size_t first_nlabels; /* the first input's labels are r.labels[0..this) */
	int labels_differ;    /* an input's labels are not the first input's */
	int tasks_differ;     /* two inputs name different tasks */
	char **warnings;      /* owned; for the person (torn journal lines) */
	size_t nwarnings;
};

void dataset_init(struct dataset *d);
void dataset_release(struct dataset *d);

/*
 * Moves r (straight from dataset_extract) into d as the input path (task:
 * the session's task name, or NULL), its pairs checked against those
 * already in d at near_threshold.  r is released.  Returns 0, or -1 with
 * err set when the labels together pass PAIRS_MAX_LABELS (d unchanged
 * but r released).
 */
int dataset_add(struct dataset *d, const char *path, const char *task, struct pairs_result *r,
		double near_threshold, struct errbuf *err);

/*
 * Loads every input of a (dataset_inputs_expand of a->files) into d: each
 * read (dataset_input_load) and extracted (dataset_extract) with a's
 * options, the ones the command line did not give taken from its own
 * session's task (task_opts; NULL: the defaults), then dataset_add.  A
 * file from a folder that is not a session is an error.  Returns 0, or -1
 * with err naming the file at the first input that fails (release d
 * either way).  Warnings (a journal's torn last line) are kept in
 * d->warnings, to be said and not fatal.
 */
int dataset_load(struct dataset *d, const struct dataset_args *a, dataset_task_fn *task_opts,
		 void *ctx, struct errbuf *err);

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

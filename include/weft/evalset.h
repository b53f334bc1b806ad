#ifndef WEFT_EVALSET_H
#define WEFT_EVALSET_H
/*
 * The examples `weft eval` scores (src/data/evalset.c): loaded from a
 * session (the pairs of its chosen path), a text file (its pairs), an
 * exported classification or logodds CSV (EVAL_RULES 4.1/4.2, `classes` a
 * Python list literal) or a JSONL file with the same keys (`classes` a JSON
 * list).  Pairs become ISP examples: prompt "Question: {q} \nAnswer:",
 * classes " LABEL" (leading space), answer_index the pair's class.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/pairs.h"

struct evalset_example {
	long index;	    /* 0-based row of the dataset */
	char *prompt;	    /* owned; the ISP prompt (logprob method) */
	char *other_prompt; /* owned; NULL unless the dataset is a logodds one */
	char *question;	    /* owned; the bare question (generate method): the prompt
			     * without "Question: " and " \nAnswer:" when it has that shape */
	char **classes;	    /* owned array of owned strings, as in the dataset (" Yes") */
	size_t nclasses;
	size_t answer; /* answer_index, < nclasses */
	char *node_id; /* owned; the node of a session's pair, or NULL */
	size_t source; /* the input it came from (evalset.sources), 0 for one */
	long row;      /* 0-based row in its own input */
};

/* An example left out because it repeats an earlier input's
 * (evalset_load_many). */
struct evalset_repeat {
	size_t source;	/* its input */
	long row;	/* its row there, 0-based */
	char *node_id;	/* owned, or NULL */
	char *question; /* owned */
	size_t kept;	/* the example it repeats, into items */
	int kind;	/* enum dataset_repeat (dataset.h) */
	double similarity;
	const char *how; /* SIMILAR_SOURCE_*, static */
};

struct evalset {
	struct evalset_example *items; /* owned */
	size_t n, cap;
	char *name;    /* owned; the file's base name without its extension */
	char *task;    /* owned; the session's task name, or NULL */
	int logodds;   /* every example has an other_prompt */
	char hash[17]; /* FNV-1a 64 of the file's bytes, 16 hex digits */
	char *warning; /* owned; for the person (a session journal's torn last
			* line was ignored), or NULL; from several inputs
			* (evalset_load_many), one line each */
	/* questions at least this similar to an earlier input's are repeats
	 * (evalset_load_many): a session's or text's task near_duplicate,
	 * else SIMILAR_DEFAULT_THRESHOLD */
	double near_threshold;
	/* evalset_load_many of several inputs (else 0 and NULL): */
	char **sources; /* owned; each input's path, in order */
	size_t nsources;
	struct evalset_repeat *repeats; /* owned */
	size_t nrepeats;
	int tasks_differ; /* the inputs name different tasks (task: the first's) */
};

void evalset_init(struct evalset *s);
void evalset_release(struct evalset *s);

/* Appends an example (every string copied; other_prompt may be NULL;
 * question NULL: derived from prompt).  Returns 0, or -1 with err when
 * nclasses < 2 or answer >= nclasses. */
int evalset_add(struct evalset *s, const char *prompt, const char *other_prompt,
		const char *question, const char *const *classes, size_t nclasses, size_t answer,
		struct errbuf *err);

/* Keeps the first n examples (no-op when there are fewer). */
void evalset_truncate(struct evalset *s, size_t n);

/* Appends r's kept pairs as examples (index = position among them). */
void evalset_from_pairs(struct evalset *s, const struct pairs_result *r);

/*
 * How the pairs of a session whose task is task_name read: fills o (already
 * at pairs_options_init's defaults) and returns 0, or returns -1 to keep the
 * defaults.  The strings put in o must live until evalset_load returns.
 * Tasks are the steering layer's; the caller supplies them this way.
 */
struct pairs_options;
typedef int evalset_task_fn(const char *task_name, struct pairs_options *o, void *ctx);

/*
 * Loads path through inputfile_read (a byte-order mark skipped; a session's
 * journal applied, read-only) by its contents and name: a `.jsonl` file as JSONL; a file whose
 * first line is a CSV header naming prompt, classes and answer_index as a
 * CSV; JSON that loads as a session as the pairs of its chosen path (with
 * the options task_opts gives for the session's task, when given, else the
 * defaults); anything else as text with the default pattern and Yes/No
 * labels.  Returns 0, or -1 with err ("PATH:LINE: ...").
 */
int evalset_load(struct evalset *s, const char *path, evalset_task_fn *task_opts, void *ctx,
		 struct errbuf *err);

/*
 * Loads several inputs (args, nargs: files or folders of sessions,
 * dataset_inputs_expand) as one dataset: each with evalset_load, their
 * examples in input order (index counted again, source and row kept), an
 * example whose question repeats an earlier input's (dataset_match_earlier
 * at its own input's near_threshold) left out and listed in repeats.
 * name: a folder's name, else the inputs' names joined by "+" (or
 * "FIRST+N-more" when long); hash: FNV-1a of the inputs' hashes in order;
 * task: the first input's; logodds when every input is.  One file
 * argument is evalset_load itself, nothing more.  Returns 0, or -1 with
 * err naming the file at the first input that fails.
 */
int evalset_load_many(struct evalset *s, const char *const *args, size_t nargs,
		      evalset_task_fn *task_opts, void *ctx, struct errbuf *err);

/* Parses a Python list literal of str ("[' Yes', ' No']"; ' or " quotes,
 * backslash escapes \\ \' \" \n \t \r \xHH \uXXXX \UXXXXXXXX).  Fills a new
 * array *out of *n owned strings.  Returns 0, or -1 when it is not one. */
int evalset_parse_pylist(const char *text, char ***out, size_t *n);

/* The bare question of an ISP prompt "Question: Q \nAnswer:" (Q), or the
 * prompt itself when it has another shape.  Caller frees. */
char *evalset_question_of(const char *prompt);

/* FNV-1a 64 of len bytes as 16 lower-case hex digits into out[17]. */
void evalset_hash(const void *data, size_t len, char out[17]);

#endif

#ifndef WEFT_TASK_H
#define WEFT_TASK_H
/*
 * Tasks: a folder prompts/NAME/ with
 *   task.conf     settings, `key = value` lines, `#` comments (README "Tasks")
 *   generate.txt  the generation prompt: the document a session starts from
 *   judge.txt     the judge prompt, with {document}, {options} and {n}
 *                 places, and {balance} and {recent} (steerpairs.h)
 *   system.txt    the system prompt for chat models
 *   eval.txt      the scorers' prompt, with a {question} place
 *   verify.txt    optional: the verifier's Yes/No prompt (verify.h), with
 *                 {question}, {answer}, {label} and {description} places
 * Loading reads and checks all of it; a missing file or bad setting is an
 * error naming the file (and line, for settings).
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"

enum rank_mode {
	RANK_LOGPROBS = 0, /* option-number probabilities from top logprobs */
	RANK_SCORES,	   /* the judge gives a score per option */
	RANK_CHOICE,	   /* the judge names one option */
};

#define TASK_MAX_LABELS 16
#define TASK_MAX_N	64

/* The largest prompt or settings file weft reads (1 MiB): prompt files are
 * small; anything larger is a mistake. */
#define TASK_FILE_MAX (1u << 20)

struct task {
	char *name;	   /* owned; the folder's name */
	char *dir;	   /* owned; the folder */
	char *description; /* owned; may be "" */
	char *generate;	   /* owned; file contents */
	char *judge;
	char *system;
	char *eval;
	char *verify;		       /* owned; NULL when the task has no verify.txt */
	char *labels[TASK_MAX_LABELS]; /* owned */
	size_t label_count;
	char *pattern;	/* owned; PCRE2 pattern with two groups: question, answer */
	char *preamble; /* owned; pairs are read after its last occurrence */
	unsigned n;	/* candidates per step, 1..TASK_MAX_N */
	double temperature;
	unsigned max_tokens;
	double judge_temperature;
	unsigned rounds;
	enum rank_mode rank;
	double near_duplicate; /* near-duplicate threshold (similar.h) */
};

/* Zeroes t; task_release is then safe whether or not a load happened. */
void task_init(struct task *t);
void task_release(struct task *t);

/* The extraction options of t's pairs: pairs_options_init's defaults with
 * t's pattern, preamble and labels (t may be NULL: the defaults).  The
 * strings stay t's. */
void task_pairs_options(const struct task *t, struct pairs_options *o);

/* Extracts the pairs of tree's chosen path with t's options (t may be
 * NULL): task_pairs_options, then dataset_tree_pairs.  *r is zeroed first;
 * release it either way.  Returns 0, or -1 with err set. */
struct tree;
int task_path_pairs(const struct task *t, const struct tree *tree, struct pairs_result *r,
		    struct errbuf *err);

/* Loads the task in folder dir.  Returns 0, or -1 with err naming the file. */
int task_load(struct task *t, const char *dir, struct errbuf *err);

/*
 * Finds the folder of task name: NAME in the first of datadir.h's places
 * for "prompts" that has it ($WEFT_PROMPTS, ./prompts, beside the
 * executable, the installed share folder).  A name containing '/' is
 * taken as a folder.
 * Appends the folder to out and returns 0, or -1 with err listing where it
 * looked.
 */
int task_find(const char *name, struct strbuf *out, struct errbuf *err);

/* "logprobs", "scores" or "choice" to the mode; returns -1 when unknown. */
int rank_mode_parse(const char *s, enum rank_mode *mode);
const char *rank_mode_name(enum rank_mode mode);

/*
 * The most a prompt weft builds may hold: a rendered judge or eval prompt,
 * or the document sent for generation.  4 MiB is about a million tokens,
 * beyond any model's context; without a cap, judge.txt with {document}
 * 100,000 times would build 100 MB requests.  A prompt past it is refused
 * with an error naming the template and the size, before any request is
 * built.
 */
#define TASK_PROMPT_MAX (4u << 20)

/*
 * Renders tmpl, replacing each {key} whose key is in keys[] by the value at
 * the same place; other braces are kept as they are.  Appends to out and
 * returns 0; or, when the result would be larger than max bytes, appends
 * nothing and returns -1.  *size (size may be NULL) gets the result's size
 * either way, found before anything is built.
 */
int template_render(const char *tmpl, const char *const *keys, const char *const *values,
		    size_t count, size_t max, struct strbuf *out, size_t *size);

#endif

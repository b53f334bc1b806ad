#ifndef WEFT_CLI_GENERATE_H
#define WEFT_CLI_GENERATE_H
/*
 * weft generate's insides, shared by cmd_generate.c (the command, and one
 * session grown alone) and gen_many.c (several sessions grown at once on
 * one engine).  Private to src/cli.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

struct config;
struct config_role;
struct steer_settings;
struct task;
struct tree;

/* The command's flags and files, as given. */
struct generate_options {
	char **paths; /* the session files given, borrowed from argv */
	size_t npaths;
	const char *task, *config_path, *rank;
	const char *out_dir; /* -o DIR, only with --sessions */
	long rounds, n;	     /* -1 not given, 0 out of range */
	long sessions;	     /* --sessions K: -1 not given, 0 out of range */
	char **sets;	     /* the --set flags, owned (the strings borrowed) */
	size_t nsets;
	int quiet;
};

/* Sessions one --sessions run may hold. */
#define GENERATE_MAX_SESSIONS 10000

/*
 * Writes the step grown from `at` (its candidates, its decision record and
 * the new chosen path) to path's journal as one line: a crash keeps it
 * whole or loses it whole.  Returns 0, or -1 with err set.
 */
int generate_record_step(const char *path, const struct tree *t, uint32_t at, struct errbuf *err);

/* Appends the pairs on the chosen path per class ("Yes 3 / No 2"), with
 * the task's rules, made safe to print; "pairs: ?" when they cannot be
 * read. */
void generate_path_balance(const struct tree *t, const struct task *task, struct strbuf *out);

/*
 * Loads the configuration the flags name into c (initialised by the
 * caller) and finds the generator and the judge, which must both have a
 * model.  Returns 0, or the exit status with the error said (2 a file or
 * flag that does not load, 1 no model configured).
 */
int generate_roles(const struct generate_options *o, struct config *c, struct config_role **gen,
		   struct config_role **judge);

/*
 * The step's settings for a session of task: the task's, then the flags
 * (--n, --rank), re-judging a step that waits for a person; --rounds goes
 * into task->rounds.  Returns 0, or -1 when --rank names no mode (nothing
 * said).
 */
int generate_settings(const struct generate_options *o, struct task *task,
		      struct steer_settings *s);

/*
 * Several sessions at once (gen_many.c): the files given, or with
 * --sessions K the files DIR/STEM-001.json .. DIR/STEM-K.json (STEM the
 * task's name, generate_session_stem), those missing created.  Returns
 * the exit status: 0 all finished, 1 some failed, 3 some wait for a person
 * (none failed), 2 usage or configuration, 130 interrupted.
 */
int gen_many_run(const struct generate_options *o);

/* The last part of a task's name (a folder given as a path), in safe
 * characters (letters, digits, '-', '_'; others become '-'): the stem of
 * new sessions' file names.  Appends to out. */
void generate_session_stem(const char *task_name, struct strbuf *out);

#endif

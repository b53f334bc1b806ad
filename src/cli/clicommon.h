#ifndef WEFT_CLICOMMON_H
#define WEFT_CLICOMMON_H
/*
 * The steps several commands share, one call each: loading the
 * configuration, opening a session with its task, starting the engine.
 * Those given a command's name print their errors as "weft CMD: MSG"
 * (cli_error) and return the command's exit status, so a command only
 * passes it on; cli_config_read and cli_load_task only fill err.
 */
#include <stddef.h>
#include <stdio.h>

#include "weft/errbuf.h"
#include "weft/sessionlock.h"
#include "weft/strbuf.h"
#include "weft/task.h"

struct config;
struct pairs_options;
struct lm_engine;
struct tree;

/* Where a command's configuration comes from, as its flags gave it. */
struct cli_config_args {
	const char *path;  /* --config FILE, or NULL for the default file */
	char *const *sets; /* the --set ROLE.KEY=VALUE flags, borrowed */
	size_t nsets;
	/* roles a --set created (scorer.NAME) get the environment too, then
	 * the flags win again */
	int env_for_sets;
};

/*
 * Loads into c (initialised by the caller, who releases it whatever this
 * returns) the defaults, the file, the environment and the --set flags.
 * Returns 0, or the exit status with err set: 2 for a file or a flag that
 * does not load, 1 for the environment of roles the flags created.
 */
int cli_config_read(struct config *c, const struct cli_config_args *a, struct errbuf *err);

/* The same, the error said as "weft CMD: MSG". */
int cli_load_config(const char *cmd, struct config *c, const struct cli_config_args *a);

/* A new engine that hides every configured role's key in what it shows.
 * The caller frees it (lm_engine_free). */
struct lm_engine *cli_start_engine(const struct config *c);

/* Finds the task name (a folder, or prompts/NAME: task_find) and loads it
 * into task (initialised by the caller).  Returns 0, or -1 with err set. */
int cli_load_task(const char *name, struct task *task, struct errbuf *err);

/* An evalset_task_fn (evalset.h): loads the task a session names into ctx
 * (a struct task, initialised by the caller, who releases it) and gives
 * its extraction settings, so a session's pairs read as its task says. */
int cli_task_pairs_options(const char *name, struct pairs_options *o, void *ctx);

/* cli_session_open's flags. */
enum {
	/* the command writes the session: its lock is taken before it is
	 * read, and its journal must be writable; a refusal is followed by
	 * "nothing was asked of the models" (a writer asks them) */
	CLI_SESSION_WRITE = 1 << 0,
	/* a session with no task (none named, none given) is an error, as is
	 * a task that does not load */
	CLI_SESSION_NEEDS_TASK = 1 << 1,
};

/* A session read from its file and journal, with its task. */
struct cli_session {
	struct tree *tree; /* owned */
	struct task task;  /* loaded when has_task */
	int has_task;
	struct strbuf task_name; /* given, else the session's; may be empty */
	struct errbuf task_err;	 /* why the named task did not load */
	struct session_lock lock;
};

/*
 * Opens the session at path for the command cmd into s (which needs no
 * initialisation): with CLI_SESSION_WRITE its lock, then the file with its
 * journal replayed (a torn last line is said, not fatal), then the task
 * task_name (NULL: the one the session names).  Without
 * CLI_SESSION_NEEDS_TASK a task that does not load leaves has_task 0 and
 * task_err set, for the caller to judge.  Returns 0, or the exit status
 * (1) with the error said.  Release s with cli_session_release either way.
 */
int cli_session_open(struct cli_session *s, const char *cmd, const char *path,
		     const char *task_name, unsigned flags);

void cli_session_release(struct cli_session *s);

/* ---- several inputs as one dataset (cli_dataset.c) ---- */
struct dataset;
struct evalset;

/* With several inputs, each pair (example) dropped as a repeat of an
 * earlier input's, with where both came from (file, node, line or row) and
 * why (exact, normalised, near with its similarity), then the totals; one
 * input: nothing. */
void cli_dataset_repeats(FILE *f, const struct dataset *d);
void cli_evalset_repeats(FILE *f, const struct evalset *s);

/* An evalset's warning (evalset.h: a line per input whose journal's torn
 * last line was ignored), each line said as "weft CMD: LINE"; none: nothing. */
void cli_evalset_warnings(const char *cmd, const struct evalset *s);

/* Notes on stderr ("weft CMD: note: ...") when the inputs name different
 * tasks (what: added to the sentence, or NULL) or their labels differ. */
void cli_dataset_mixing(const char *cmd, const char *what, int tasks_differ, int labels_differ);

#endif

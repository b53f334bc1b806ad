#ifndef WEFT_CLI_H
#define WEFT_CLI_H
/*
 * The command line.  main() only calls cli_run(), so every command can be
 * tested as a function.  Each command takes its own argv (argv[0] is the
 * command's name), prints its results on stdout and its errors on stderr
 * (sanitized), and returns the process exit status: 0 success, 1 failure of
 * the work (invalid file, failed request), 2 wrong usage.
 */

int cli_run(int argc, char **argv);

/* One per subcommand, in src/cli/cmd_NAME.c. */
int cmd_check(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_new(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_map(int argc, char **argv);

struct errbuf;
struct strbuf;

/*
 * For a command whose getopt_long optstring starts with ':' and that set
 * opterr = 0 (getopt's own messages print the option raw): after it
 * returned c, '?' (an unknown option) or ':' (a missing value), prints
 * "weft CMD: unknown option 'X'" or "weft CMD: option 'X' needs a value"
 * on stderr, X made terminal-safe, then the command's synopsis (usage up
 * to its first blank line, not the whole help) and where the help is.
 * Returns 2, a usage error.
 */
int cli_option_error(const char *cmd, const char *usage, int c, char **argv);

/* The same for a command that reads its options by hand: arg is the
 * option as given; needs_value: it lacks its value, else it is unknown.
 * Returns 2. */
int cli_unknown_option(const char *cmd, const char *usage, const char *arg, int needs_value);

/* Prints "weft CMD: MSG" on stderr, MSG made terminal-safe (it may hold
 * text from files and servers); returns 1, the exit status of a failure. */
int cli_error(const char *cmd, const char *msg);

/* The same, then the synopsis of usage (the command's usage text) and
 * where the whole help is, as cli_option_error; returns 2, a usage error. */
int cli_usage_error(const char *cmd, const char *usage, const char *msg);

/*
 * Writes a new session of the task task_name (found as weft new finds it)
 * to path: a root holding the task's generation prompt.  An empty path is
 * first set to cli_new_session_name's name, in the current folder.
 * Fails when the file exists unless force, and when another weft has it
 * open for writing (it holds the session's lock while writing).  Returns
 * 0, or -1 with err set.
 */
int cli_new_session(const char *task_name, struct strbuf *path, int force, struct errbuf *err);

/* Appends to out the configuration file weft reads: given (--config)
 * when not NULL, else $XDG_CONFIG_HOME/weft/config when that is set,
 * else ~/.config/weft/config with HOME spelled out; for messages that
 * tell a person which file to edit. */
void cli_config_path(const char *given, struct strbuf *out);

struct session_lock;

/*
 * Takes the writer's lock (sessionlock.h) of the session at path for the
 * command cmd.  Returns 0 when held; else prints why on stderr ("weft CMD:
 * FILE is open for writing in another weft (pid N)", with what the person
 * can do) and returns 1, the exit status of a session that is locked.
 */
int cli_lock_session(const char *cmd, const char *path, struct session_lock *lock);

struct task;
struct tree;

/* Loads the task t's session names (meta "task") into task (initialised
 * by the caller).  Returns 0, or -1 when there is none or it does not
 * load (err says why; the caller may go on with the defaults). */
int cli_session_task(const struct tree *t, struct task *task, struct errbuf *err);

struct dataset_args;

/* Initialises task and, when t (a session, or NULL for text) names a task
 * that loads, takes from it the pattern, preamble and labels a did not get
 * on the command line.  Release task after a is done with. */
void cli_dataset_task(struct dataset_args *a, const struct tree *t, struct task *task);

/*
 * Appends to out a name for a new session of task_name in the current
 * folder that does not exist yet: weft-TASK-YYYYMMDD-HHMMSS.json, with -2,
 * -3... added when taken.
 */
void cli_new_session_name(const char *task_name, struct strbuf *out);

#endif

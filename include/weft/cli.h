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
int cmd_new(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_tui(int argc, char **argv);

#endif

#include "weft/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/safetext.h"
#include "weft/sessionlock.h"
#include "weft/strbuf.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.0.0"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* The one table of commands: dispatch and `weft --help` both read it. */
static const struct command commands[] = {
    {"check", cmd_check, "validate a session file and summarise it"},
    {"ping", cmd_ping, "send a tiny request to each configured model"},
    {"extract", cmd_extract, "print the question/answer pairs of a session or text"},
    {"export", cmd_export, "write the pairs as an evaluation dataset"},
    {"new", cmd_new, "start a session from a task"},
    {"generate", cmd_generate, "run the AI-steered loop headless"},
    {"plot", cmd_plot, "draw accuracy and loss against model size from result CSVs"},
    {"replay", cmd_replay, "walk a session's recorded decisions; re-judge them"},
    {"score", cmd_score, "score answers against a target (OPRO or strict rules)"},
    {"tui", cmd_tui, "open a session in the loom (the same as weft FILE)"},
    {"eval", cmd_eval, "score a dataset with scorer models (generate or logprob)"},
    {"verify", cmd_verify, "check each pair's label with the verifier model"},
    {"map", cmd_map, "draw an offline map of a dataset's pairs: layout, clusters, shortcuts"},
};

int cli_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "weft %s: ", cmd);
	safetext_fputs(msg, stderr);
	fputc('\n', stderr);
	return 1;
}

/* The usage text up to its first blank line: the synopsis, "usage: weft
 * CMD ..." and its continuation lines. */
static void print_synopsis(const char *usage)
{
	const char *end = strstr(usage, "\n\n");

	if (!usage[0])
		return;
	fwrite(usage, 1, end ? (size_t)(end - usage) + 1 : strlen(usage), stderr);
}

/* The end of every option error: the synopsis and where the rest is. */
static int option_error_tail(const char *cmd, const char *usage)
{
	print_synopsis(usage);
	fprintf(stderr, "(weft %s --help shows the whole help)\n", cmd);
	return 2;
}

int cli_option_error(const char *cmd, const char *usage, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	int is_long = !strncmp(arg, "--", 2);
	char opt[3] = {'-', (char)optopt, '\0'};

	/* optopt is the option's character for a short option (and the value
	 * of a long one); in a cluster (-xyz) optind may not have moved past
	 * it yet, so argv[optind - 1] names it only for a long option */
	if (c == ':')
		safetext_printf(stderr, "weft %s: option '%s' needs a value\n", cmd,
				is_long || optopt <= 0 || optopt > 255 ? arg : opt);
	else if (!optopt)
		safetext_printf(stderr, "weft %s: unknown option '%s'\n", cmd, arg);
	else if (is_long && strchr(arg, '='))
		safetext_printf(stderr, "weft %s: option '%s' takes no value\n", cmd, arg);
	else
		safetext_printf(stderr, "weft %s: unknown option '%s'\n", cmd, opt);
	return option_error_tail(cmd, usage);
}

int cli_usage_error(const char *cmd, const char *usage, const char *msg)
{
	cli_error(cmd, msg);
	return option_error_tail(cmd, usage);
}

int cli_unknown_option(const char *cmd, const char *usage, const char *arg, int needs_value)
{
	safetext_printf(stderr, "weft %s: %s '%s'%s\n", cmd,
			needs_value ? "option" : "unknown option", arg,
			needs_value ? " needs a value" : "");
	return option_error_tail(cmd, usage);
}

void cli_config_path(const char *given, struct strbuf *out)
{
	char *path = given ? NULL : config_default_path();

	if (given)
		strbuf_addstr(out, given);
	else if (path)
		strbuf_addstr(out, path);
	else /* neither XDG_CONFIG_HOME nor HOME: no file is read */
		strbuf_addstr(out, "$XDG_CONFIG_HOME/weft/config (neither it nor HOME is set)");
	free(path);
}

int cli_lock_session(const char *cmd, const char *path, struct session_lock *lock)
{
	struct errbuf err;
	int r = session_lock_acquire(lock, path, NULL, &err);

	if (r == 0)
		return 0;
	cli_error(cmd, err.msg);
	if (r == SESSION_LOCK_HELD) {
		fprintf(stderr,
			"weft %s: one weft at a time writes a session; wait for the "
			"other to finish, or browse it meanwhile with: weft --read-only ",
			cmd);
		safetext_fputs(path, stderr);
		fputc('\n', stderr);
	}
	return 1;
}

static const char synopsis[] = "usage: weft [--read-only] [--theme NAME] [FILE]\n"
			       "       weft COMMAND [ARGS]\n";

static void usage(FILE *out)
{
	size_t i;

	fputs(synopsis, out);
	fputs("\n"
	      "weft is a terminal loom for writing evaluation datasets with language\n"
	      "models.  With no command it opens FILE (or a new session) in the loom.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "options:\n"
	      "  -h, --help     show this help (weft COMMAND --help: the command's)\n"
	      "  -V, --version  show the version\n",
	      out);
}

/* The edit distance between a and b, adjacent swaps counting as one edit
 * (optimal string alignment); words longer than 31 bytes are far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la > 31 || lb > 31)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The command word is nearest to, or NULL when none is near: at most two
 * edits (one for words of up to four letters), or the only command it
 * begins. */
static const char *nearest_command(const char *word)
{
	size_t i, best = 99, len = strlen(word), prefixed = 0;
	const char *name = NULL, *prefix_of = NULL;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t dist = edit_distance(word, commands[i].name);

		if (dist < best) {
			best = dist;
			name = commands[i].name;
		}
		if (len >= 2 && !strncmp(commands[i].name, word, len)) {
			prefixed++;
			prefix_of = commands[i].name;
		}
	}
	if (best <= (len <= 4 ? 1u : 2u))
		return name;
	return prefixed == 1 ? prefix_of : NULL;
}

/* A word that is neither a command nor a file: says so, lists the
 * commands and the nearest one.  Returns 2, a usage error. */
static int unknown_command(const char *word)
{
	const char *near = nearest_command(word);
	size_t i;

	safetext_printf(stderr, "weft: unknown command '%s'", word);
	if (near)
		fprintf(stderr, "; did you mean '%s'?", near);
	fputs("\ncommands:", stderr);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fputs("\n(weft FILE opens a session file; weft --help shows the whole help)\n", stderr);
	return 2;
}

int cli_run(int argc, char **argv)
{
	size_t i;

	/* Past a file-size limit (ulimit -f) a write fails with EFBIG, which
	 * the atomic save reports; the default SIGXFSZ would kill weft. */
	signal(SIGXFSZ, SIG_IGN);
	if (argc < 2) {
		/* On a terminal: the loom, on a new session of the default task. */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			return cmd_tui(argc, argv);
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("weft %s\n", WEFT_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	/* the loom's own options before FILE: weft --read-only FILE */
	if (!strcmp(argv[1], "--read-only") || !strcmp(argv[1], "--theme"))
		return cmd_tui(argc, argv);
	if (argv[1][0] == '-') {
		safetext_printf(stderr, "weft: unknown option '%s'\n", argv[1]);
		fputs(synopsis, stderr);
		fputs("(weft --help shows the whole help)\n", stderr);
		return 2;
	}
	/* A word that names no file and looks like no file name (no '.',
	 * no '/') is a command mistyped: weft exprot says so rather than
	 * "exprot: cannot open". */
	if (access(argv[1], F_OK) != 0 && !strchr(argv[1], '.') && !strchr(argv[1], '/'))
		return unknown_command(argv[1]);
	/* Not a command, not an option: a FILE to open in the loom. */
	return cmd_tui(argc, argv);
}

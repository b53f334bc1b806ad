#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/task.h"
#include "weft/display.h"
#include "weft/safetext.h"
#include "weft/journal.h"
#include "weft/errbuf.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/strbuf.h"
#include "weft/theme.h"
#include "weft/tree.h"
#include "weft/tui.h"
#include "weft/xalloc.h"

/* The task of a session started with no FILE. */
#define DEFAULT_TASK "nice-sounding-wrong"

static const char tui_usage[] =
    "usage: weft [--read-only] [--theme NAME] [FILE]\n"
    "       weft tui [--theme NAME] [--read-only] [FILE | --task NAME]\n"
    "       weft tui [--theme NAME] --synthetic N [--hostile] [FILE]\n"
    "\n"
    "Opens the session FILE in the loom (press ? there for the keys).  With\n"
    "no FILE, on a terminal, it starts a new session of the task (default\n"
    "nice-sounding-wrong) in weft-TASK-YYYYMMDD-HHMMSS.json here.\n"
    "\n"
    "options:\n"
    "  --task NAME      the task of a new session (prompts/NAME)\n"
    "  --read-only      browse, search, export and evaluate FILE without\n"
    "                   changing it: no lock, no journal, no save\n"
    "  --theme NAME     default, light or mono (themes/NAME); NO_COLOR is honoured\n"
    "  --synthetic N    open a generated tree of N nodes (benchmarks, tests);\n"
    "                   s saves it to FILE when given\n"
    "  --hostile        put terminal escape sequences, bidi controls, invalid\n"
    "                   UTF-8 and a 10 MB line in the synthetic tree's texts\n"
    "  --keys           print the keys (the table the ? screen shows)\n"
    "  -h, --help       show this help\n"
    "\n"
    "One weft at a time writes a session: the loom holds FILE's lock while it\n"
    "is open, and a FILE another weft is writing is refused (exit 1) with\n"
    "that process's pid; on a terminal the loom offers to open it read-only.\n";

/* Appends the file at path to out; -1 when it cannot be read whole (a new
 * session is a few kilobytes: the cap only guards against a surprise). */
static int read_small_file(const char *path, struct strbuf *out)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n;
	int ret = 0;

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		strbuf_add(out, buf, n);
		if (out->len > ((size_t)1 << 20)) {
			ret = -1;
			break;
		}
	}
	if (ferror(f))
		ret = -1;
	fclose(f);
	return ret;
}

/* A new session the loom quit without adding anything to: the file is
 * still byte for byte what weft wrote, and no journal holds a change.
 * Removes it (the caller still holds its lock) and returns 1; else 0. */
static int remove_if_untouched(const char *path, const struct strbuf *written)
{
	struct strbuf now = STRBUF_INIT, jpath = STRBUF_INIT;
	int same, removed = 0;

	journal_path(path, &jpath);
	same = written->len && access(jpath.data, F_OK) != 0 && read_small_file(path, &now) == 0 &&
	       now.len == written->len && !memcmp(now.data, written->data, now.len);
	if (same && unlink(path) == 0)
		removed = 1;
	strbuf_release(&now);
	strbuf_release(&jpath);
	return removed;
}

/* Prints the error (made safe) on stderr. */
static void print_error(const char *msg)
{
	char *safe = display_sanitize_dup(msg);

	fprintf(stderr, "weft: %s\n", safe);
	free(safe);
}

/* On a terminal, asks whether to open the session read-only instead;
 * 1 for yes.  Off a terminal (scripts, tests) the answer is no.  The
 * question goes to the terminal (stdout), the reason before it to
 * stderr. */
static int offer_read_only(void)
{
	char line[16];

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return 0;
	fputs("weft: open it read-only instead (browse, search, export, evaluate)? [y/N] ", stdout);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

static const char *const hostile_texts[] = {
    " \x1b[31mRED\x1b[0m \x1b[2J\x1b[H\x1b[10;20Hmoved",
    " \x1b]52;c;cm0gLXJmIH4=\x07"
    "clip",
    " \x1b]0;PWNED-TITLE\x07title",
    " over\rEVIL\b\b\b\bwrite",
    " abc\xe2\x80\xae"
    "fed\xe2\x81\xa6x\xe2\x80\x8bz",
    " \xc2\x9b"
    "31mc1 \xff\xfe bytes",
};

/* A generated tree: a path of depth ~n/5, each path node with 4 more
 * children; scores and judge picks set.  Deterministic. */
static struct tree *synthetic_tree(unsigned long n, int hostile)
{
	struct tree *t = tree_new();
	uint32_t parent, node = TREE_NONE, k;
	unsigned long made = 1, step = 0;
	char text[160];
	uint32_t *path = NULL;
	size_t path_len = 0, path_cap = 0;

	parent = tree_add(t, TREE_NONE, NULL, "Task: write questions with wrong answers.\n", 42);
	XGROW(path, path_cap, 1);
	path[path_len++] = parent;
	while (made < n) {
		uint32_t next = TREE_NONE;
		struct tree_step *s;

		for (k = 0; k < 5 && made < n; k++, made++) {
			const char *txt = text;
			size_t len;

			if (hostile && k < 2) {
				txt = hostile_texts[(step + k) % (sizeof(hostile_texts) /
								  sizeof(hostile_texts[0]))];
				len = strlen(txt);
			} else {
				len = (size_t)snprintf(
				    text, sizeof(text),
				    "\nQuestion: Is %lu%s a step %lu candidate %u?\nAnswer: %s",
				    step * 7 + k, k == 3 ? " \xe4\xb8\xad\xe6\x96\x87" : "", step,
				    k + 1, (step + k) % 2 ? "No" : "Yes");
			}
			node = tree_add(t, parent, NULL, txt, len);
			tree_set_score(t, node, (5.0 - k) / 15.0, (int32_t)k + 1);
			s = tree_step_get(t, parent);
			tree_step_add_candidate(s, node, (5.0 - k) / 15.0, 1);
			if (k == 0) {
				tree_set_flag(t, node, TREE_JUDGE_PICK, 1);
				s->judge_pick = node;
				next = node;
			}
		}
		if (hostile && step == 1) {
			/* one 10 MB single line of escapes and text */
			size_t big = (size_t)10 << 20, b;
			char *line = xmalloc(big);

			for (b = 0; b < big; b++)
				line[b] = (b % 16 == 15) ? '\x1b' : (char)('a' + b % 26);
			memcpy(line, " HUGE-LINE-START", 16);
			tree_add(t, parent, NULL, line, big);
			free(line);
			made++;
		}
		if (next == TREE_NONE)
			break;
		XGROW(path, path_cap, path_len + 1);
		path[path_len++] = next;
		parent = next;
		step++;
	}
	tree_set_name(t, hostile ? "hostile" : "synthetic");
	tree_set_path(t, path, path_len);
	tree_set_focus(t, t->root);
	free(path);
	return t;
}

struct tui_args {
	const char *file, *new_task, *theme;
	unsigned long synthetic; /* 0: none */
	int hostile, read_only;
};

static void tui_args_init(struct tui_args *o)
{
	memset(o, 0, sizeof(*o));
}

/* One argument at argv[*i] (moved past its value); -1 when good, else the
 * exit status. */
static int tui_arg(struct tui_args *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int has_value = *i + 1 < argc;

	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		fputs(tui_usage, stdout);
		return 0;
	} else if (!strcmp(a, "--theme") && has_value) {
		o->theme = argv[++*i];
	} else if (!strcmp(a, "--task") && has_value) {
		o->new_task = argv[++*i];
	} else if (!strcmp(a, "--synthetic") && has_value) {
		char *end;

		errno = 0;
		o->synthetic = strtoul(argv[++*i], &end, 10);
		if (errno || *end || o->synthetic < 1 || o->synthetic > 50000000ul) {
			fputs("weft tui: --synthetic takes a count from 1 to 50000000\n", stderr);
			return 2;
		}
	} else if (!strcmp(a, "--keys")) {
		struct strbuf keys = STRBUF_INIT;

		tui_keymap_help(&keys);
		fputs(keys.data, stdout);
		strbuf_release(&keys);
		return 0;
	} else if (!strcmp(a, "--hostile")) {
		o->hostile = 1;
	} else if (!strcmp(a, "--read-only")) {
		o->read_only = 1;
	} else if (a[0] == '-' && a[1]) {
		int needs_value =
		    !strcmp(a, "--theme") || !strcmp(a, "--task") || !strcmp(a, "--synthetic");

		return cli_unknown_option("tui", tui_usage, a, needs_value);
	} else if (!o->file) {
		o->file = a;
	} else {
		fputs(tui_usage, stderr);
		return 2;
	}
	return -1;
}

/* The options that go together; -1 when they do, else the exit status. */
static int tui_args_check(const struct tui_args *o)
{
	if (o->file && o->new_task) {
		fputs("weft tui: --task starts a new session; it cannot go with FILE\n", stderr);
		return 2;
	}
	if (o->theme) {
		/* a theme that does not exist is a usage error, as any bad flag */
		struct strbuf found = STRBUF_INIT;
		int missing = theme_find(NULL, o->theme, &found) < 0;

		if (missing) {
			strbuf_reset(&found);
			theme_names(NULL, &found);
			safetext_printf(stderr, "weft tui: unknown theme '%s' (themes found: %s)\n",
					o->theme, found.data);
		}
		strbuf_release(&found);
		if (missing)
			return 2;
	}
	if (o->read_only && !o->file) {
		fputs("weft tui: --read-only opens an existing FILE\n", stderr);
		return 2;
	}
	return -1;
}

/* Returns -1 when the arguments are good, else the exit status. */
static int tui_parse(struct tui_args *o, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		r = tui_arg(o, argc, argv, &i);
		if (r >= 0)
			return r;
	}
	return tui_args_check(o);
}

/* Everything the loom is opened with. */
struct loom {
	struct tui_options opts;
	const char *file; /* borrowed: the argument, or new_file's */
	struct tree *tree;
	struct session_lock lock;
	struct config cfg;
	struct task task;
	struct lm_engine *engine;
	struct strbuf new_file, new_written; /* a new session and what was written */
	char read_only[ERRBUF_SIZE + 64];    /* why it is read-only, or "" */
	char notice[ERRBUF_SIZE + 32];
};

/* A new session, written before the loom opens so that nothing done in it
 * can be lost; off a terminal there is nothing to do.  Returns -1 when
 * written, else the exit status. */
static int loom_new_session(struct loom *l, const char *task)
{
	struct errbuf err;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs(tui_usage, stderr);
		return 2;
	}
	if (!task)
		task = DEFAULT_TASK;
	cli_new_session_name(task, &l->new_file);
	if (cli_new_session(task, &l->new_file, 0, &err)) {
		print_error(err.msg);
		return 1;
	}
	l->file = l->new_file.data;
	/* what was written, to tell at the end whether anything was added
	 * (a quit before any step leaves no file behind) */
	if (read_small_file(l->file, &l->new_written) < 0)
		strbuf_reset(&l->new_written);
	return -1;
}

/* One writer: the lock is taken before the file is read, so what is shown
 * is what no other weft will change.  Returns -1 when the loom may go on
 * (perhaps read-only), else the exit status. */
static int loom_lock(struct loom *l)
{
	struct errbuf err;
	int lr = session_lock_acquire(&l->lock, l->file, NULL, &err);

	if (lr == SESSION_LOCK_HELD) {
		print_error(err.msg);
		if (!offer_read_only()) {
			fputs("weft: to browse it meanwhile: weft --read-only ", stderr);
			safetext_fputs(l->file, stderr);
			fputc('\n', stderr);
			return 1;
		}
		snprintf(l->read_only, sizeof(l->read_only), "another weft is writing it");
	} else if (lr < 0 && access(l->file, F_OK) == 0) {
		/* a folder weft cannot write in: the session can be read, and
		 * the loom says from the start that nothing can change */
		const char *why = strrchr(err.msg, ':');

		snprintf(l->read_only, sizeof(l->read_only), "cannot write in its folder: %s",
			 why ? why + 2 : err.msg);
	}
	return -1;
}

/* A journal that stops at a damaged line holds changes the tree now
 * lacks: saving would drop them with it.  The person decides what to
 * keep: the session is opened read-only, or not at all.  Returns the
 * journal's replay (as journal_replay), or 2 for not opened. */
static int loom_damaged_journal(struct loom *l, const char *jpath, struct errbuf *err)
{
	print_error(err->msg);
	fputs("weft: the session is not opened for writing, so nothing in its journal is lost.  "
	      "To recover: keep a copy of the journal; weft --read-only ",
	      stderr);
	safetext_fputs(l->file, stderr);
	fputs(" shows the session with the journal up to the damaged line (x exports it, "
	      "bonsai format, to a new file); or mend or move away ",
	      stderr);
	safetext_fputs(jpath, stderr);
	fputs(" and open the session again.\n", stderr);
	tree_free(l->tree);
	l->tree = NULL;
	session_lock_release(&l->lock);
	if (!offer_read_only())
		return 2;
	if (session_load(l->file, &l->tree, err) < 0) {
		print_error(err->msg);
		return 2;
	}
	snprintf(l->read_only, sizeof(l->read_only), "its journal is damaged");
	return journal_replay(l->file, l->tree, err);
}

/* The session file with its journal replayed (changes made after the last
 * save).  Returns -1 when loaded, else the exit status. */
static int loom_load(struct loom *l)
{
	struct strbuf jpath = STRBUF_INIT;
	struct errbuf err;
	int jr;

	if (session_load(l->file, &l->tree, &err) < 0) {
		print_error(err.msg);
		return 1;
	}
	journal_path(l->file, &jpath);
	l->opts.unsaved = access(jpath.data, F_OK) == 0;
	jr = journal_replay(l->file, l->tree, &err);
	if (jr < 0 && !l->read_only[0])
		jr = loom_damaged_journal(l, jpath.data, &err);
	strbuf_release(&jpath);
	if (jr == 2)
		return 1;
	if (jr != 0) {
		snprintf(l->notice, sizeof(l->notice), "journal%s: %s",
			 jr > 0 ? " (recovered)" : " (stopped at an error)", err.msg);
		l->opts.notice = l->notice;
	}
	return -1;
}

/* Models for the status line; a bad configuration is shown there, not
 * fatal: everything but generation works without one.  Then the
 * session's task, for steering; without one g says so. */
static void loom_config_and_task(struct loom *l, int synthetic)
{
	struct cli_config_args ca = {NULL, NULL, 0, 0};
	struct strbuf task_name = STRBUF_INIT;
	struct errbuf err;

	if (cli_config_read(&l->cfg, &ca, &err) && !l->notice[0]) {
		snprintf(l->notice, sizeof(l->notice), "configuration: %s", err.msg);
		l->opts.notice = l->notice;
	} else {
		struct config_role *gen = config_role(&l->cfg, "generator");
		struct config_role *judge = config_role(&l->cfg, "judge");

		if (gen && config_role_configured(gen))
			l->opts.generator_model = gen->model;
		if (judge && config_role_configured(judge))
			l->opts.judge_model = judge->model;
		l->opts.generator = gen;
		l->opts.judge = judge;
		l->opts.config = &l->cfg;
	}
	if (!synthetic && meta_get_string(l->tree, "task", &task_name) == 0) {
		if (cli_load_task(task_name.data, &l->task, &err) == 0)
			l->opts.task = &l->task;
		else if (!l->notice[0]) {
			snprintf(l->notice, sizeof(l->notice), "task: %s", err.msg);
			l->opts.notice = l->notice;
		}
	}
	strbuf_release(&task_name);
}

/* The session to show, locked when written.  Returns -1 when ready, else
 * the exit status. */
static int loom_open(struct loom *l, const struct tui_args *o)
{
	int r = -1;

	if (o->read_only)
		snprintf(l->read_only, sizeof(l->read_only), "opened with --read-only");
	if (!l->file && !o->synthetic)
		r = loom_new_session(l, o->new_task);
	if (r < 0 && l->file && !l->read_only[0])
		r = loom_lock(l);
	if (r >= 0)
		return r;
	if (o->synthetic)
		l->tree = synthetic_tree(o->synthetic, o->hostile);
	else
		r = loom_load(l);
	if (r >= 0)
		return r;
	if (l->read_only[0])
		l->opts.read_only = l->read_only;
	else
		l->opts.save = session_save_replayed;
	loom_config_and_task(l, o->synthetic != 0);
	return -1;
}

/* Runs the loom; after it, a new session nothing was added to is not
 * kept.  Returns the exit status. */
static int loom_run(struct loom *l)
{
	struct errbuf err;
	int ret;

	l->engine = cli_start_engine(&l->cfg);
	l->opts.engine = l->engine;
	ret = tui_run(l->tree, l->file, &l->opts, &err);
	if (l->new_file.len && ret == 0 && remove_if_untouched(l->file, &l->new_written)) {
		printf("weft: nothing was added, so %s was not kept\n", l->new_file.data);
		strbuf_reset(&l->new_file);
	}
	session_lock_release(&l->lock);
	if (l->new_file.len && ret >= 0)
		printf("weft: the new session is in %s\n", l->new_file.data);
	if (ret != 0) {
		/* ret 1: quit without saving, err says what is where */
		print_error(err.msg);
		return 1;
	}
	return 0;
}

static int tui_start(const struct tui_args *o)
{
	struct loom l;
	int r;

	memset(&l, 0, sizeof(l));
	tui_options_init(&l.opts);
	l.opts.theme = o->theme;
	l.file = o->file;
	session_lock_init(&l.lock);
	config_init(&l.cfg);
	task_init(&l.task);
	strbuf_init(&l.new_file);
	strbuf_init(&l.new_written);
	r = loom_open(&l, o);
	if (r < 0)
		r = loom_run(&l);
	session_lock_release(&l.lock);
	lm_engine_free(l.engine);
	task_release(&l.task);
	config_release(&l.cfg);
	tree_free(l.tree);
	strbuf_release(&l.new_file);
	strbuf_release(&l.new_written);
	return r;
}

int cmd_tui(int argc, char **argv)
{
	struct tui_args o;
	int r;

	tui_args_init(&o);
	r = tui_parse(&o, argc, argv);
	return r >= 0 ? r : tui_start(&o);
}

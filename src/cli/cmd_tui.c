#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int cmd_tui(int argc, char **argv)
{
	struct tui_options opts;
	struct errbuf err, cfg_err;
	struct config cfg;
	struct task task;
	struct strbuf task_name = STRBUF_INIT;
	struct lm_engine *engine;
	char notice[ERRBUF_SIZE + 32];
	struct tree *t = NULL;
	const char *file = NULL, *new_task = NULL;
	struct strbuf new_file = STRBUF_INIT, new_written = STRBUF_INIT;
	struct session_lock lock = SESSION_LOCK_INIT;
	char read_only[ERRBUF_SIZE + 64];
	unsigned long synthetic = 0;
	int hostile = 0, i, ret;

	tui_options_init(&opts);
	read_only[0] = '\0';
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(tui_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--theme") && i + 1 < argc) {
			opts.theme = argv[++i];
		} else if (!strcmp(argv[i], "--task") && i + 1 < argc) {
			new_task = argv[++i];
		} else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc) {
			char *end;

			errno = 0;
			synthetic = strtoul(argv[++i], &end, 10);
			if (errno || *end || synthetic < 1 || synthetic > 50000000ul) {
				fputs("weft tui: --synthetic takes a count from 1 to 50000000\n",
				      stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--keys")) {
			struct strbuf keys = STRBUF_INIT;

			tui_keymap_help(&keys);
			fputs(keys.data, stdout);
			strbuf_release(&keys);
			return 0;
		} else if (!strcmp(argv[i], "--hostile")) {
			hostile = 1;
		} else if (!strcmp(argv[i], "--read-only")) {
			snprintf(read_only, sizeof(read_only), "opened with --read-only");
		} else if (argv[i][0] == '-' && argv[i][1]) {
			int needs_value = !strcmp(argv[i], "--theme") ||
					  !strcmp(argv[i], "--task") ||
					  !strcmp(argv[i], "--synthetic");

			return cli_unknown_option("tui", tui_usage, argv[i], needs_value);
		} else if (!file) {
			file = argv[i];
		} else {
			fputs(tui_usage, stderr);
			return 2;
		}
	}
	if (file && new_task) {
		fputs("weft tui: --task starts a new session; it cannot go with FILE\n", stderr);
		return 2;
	}
	if (opts.theme) {
		/* a theme that does not exist is a usage error, as any bad flag */
		struct strbuf found = STRBUF_INIT;

		if (theme_find(NULL, opts.theme, &found) < 0) {
			strbuf_reset(&found);
			theme_names(NULL, &found);
			safetext_printf(stderr, "weft tui: unknown theme '%s' (themes found: %s)\n",
					opts.theme, found.data);
			strbuf_release(&found);
			return 2;
		}
		strbuf_release(&found);
	}
	if (read_only[0] && !file) {
		fputs("weft tui: --read-only opens an existing FILE\n", stderr);
		return 2;
	}
	if (!file && !synthetic) {
		/* A new session, written before the loom opens so that nothing
		 * done in it can be lost; off a terminal there is nothing to do. */
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			fputs(tui_usage, stderr);
			return 2;
		}
		if (!new_task)
			new_task = DEFAULT_TASK;
		cli_new_session_name(new_task, &new_file);
		if (cli_new_session(new_task, &new_file, 0, &err)) {
			char *safe = display_sanitize_dup(err.msg);

			fprintf(stderr, "weft: %s\n", safe);
			free(safe);
			strbuf_release(&new_file);
			strbuf_release(&new_written);
			return 1;
		}
		file = new_file.data;
		/* what was written, to tell at the end whether anything was
		 * added (a quit before any step leaves no file behind) */
		if (read_small_file(file, &new_written) < 0)
			strbuf_reset(&new_written);
	}
	/* One writer: the lock is taken before the file is read, so what is
	 * shown is what no other weft will change. */
	if (file && !read_only[0]) {
		int lr = session_lock_acquire(&lock, file, NULL, &err);

		if (lr == SESSION_LOCK_HELD) {
			print_error(err.msg);
			if (!offer_read_only()) {
				fputs("weft: to browse it meanwhile: weft --read-only ", stderr);
				safetext_fputs(file, stderr);
				fputc('\n', stderr);
				strbuf_release(&new_file);
				strbuf_release(&new_written);
				return 1;
			}
			snprintf(read_only, sizeof(read_only), "another weft is writing it");
		} else if (lr < 0 && access(file, F_OK) == 0) {
			/* a folder weft cannot write in: the session can be read,
			 * and the loom says from the start that nothing can change */
			const char *why = strrchr(err.msg, ':');

			snprintf(read_only, sizeof(read_only), "cannot write in its folder: %s",
				 why ? why + 2 : err.msg);
		}
	}
	if (synthetic) {
		t = synthetic_tree(synthetic, hostile);
	} else if (session_load(file, &t, &err) < 0) {
		print_error(err.msg);
		session_lock_release(&lock);
		strbuf_release(&new_file);
		strbuf_release(&new_written);
		return 1;
	}
	notice[0] = '\0';
	/* Changes made after the last save are in the journal: replay them. */
	if (!synthetic) {
		struct strbuf jpath = STRBUF_INIT;
		int jr;

		journal_path(file, &jpath);
		opts.unsaved = access(jpath.data, F_OK) == 0;
		jr = journal_replay(file, t, &err);
		if (jr < 0 && !read_only[0]) {
			/* A journal that stops at a damaged line holds changes the
			 * tree now lacks: saving would drop them with it.  The
			 * person decides what to keep. */
			print_error(err.msg);
			fputs("weft: the session is not opened for writing, so nothing in its "
			      "journal is lost.  To recover: keep a copy of the journal; "
			      "weft --read-only ",
			      stderr);
			safetext_fputs(file, stderr);
			fputs(" shows the session with the journal up to the damaged line (x "
			      "exports it, bonsai format, to a new file); or mend or move away ",
			      stderr);
			safetext_fputs(jpath.data, stderr);
			fputs(" and open the session again.\n", stderr);
			strbuf_release(&jpath);
			tree_free(t);
			session_lock_release(&lock);
			if (!offer_read_only()) {
				strbuf_release(&new_file);
				strbuf_release(&new_written);
				return 1;
			}
			if (session_load(file, &t, &err) < 0) {
				print_error(err.msg);
				strbuf_release(&new_file);
				strbuf_release(&new_written);
				return 1;
			}
			jr = journal_replay(file, t, &err);
			snprintf(read_only, sizeof(read_only), "its journal is damaged");
		} else {
			strbuf_release(&jpath);
		}
		if (jr != 0) {
			snprintf(notice, sizeof(notice), "journal%s: %s",
				 jr > 0 ? " (recovered)" : " (stopped at an error)", err.msg);
			opts.notice = notice;
		}
	}
	if (read_only[0])
		opts.read_only = read_only;
	else
		opts.save = session_save_replayed;
	/* Models for the status line; a bad configuration is shown there, not
	 * fatal: everything but generation works without one. */
	config_init(&cfg);
	if (config_load(&cfg, NULL, &cfg_err) < 0 && !notice[0]) {
		snprintf(notice, sizeof(notice), "configuration: %s", cfg_err.msg);
		opts.notice = notice;
	} else {
		struct config_role *gen = config_role(&cfg, "generator");
		struct config_role *judge = config_role(&cfg, "judge");

		if (gen && config_role_configured(gen))
			opts.generator_model = gen->model;
		if (judge && config_role_configured(judge))
			opts.judge_model = judge->model;
		opts.generator = gen;
		opts.judge = judge;
		opts.config = &cfg;
	}
	/* The session's task, for steering; without one g says so. */
	task_init(&task);
	if (!synthetic && meta_get_string(t, "task", &task_name) == 0) {
		struct strbuf dir = STRBUF_INIT;

		if (task_find(task_name.data, &dir, &err) == 0 &&
		    task_load(&task, dir.data, &err) == 0)
			opts.task = &task;
		else if (!notice[0]) {
			snprintf(notice, sizeof(notice), "task: %s", err.msg);
			opts.notice = notice;
		}
		strbuf_release(&dir);
	}
	engine = lm_engine_new();
	config_hide_keys(&cfg, engine);
	opts.engine = engine;
	ret = tui_run(t, file, &opts, &err);
	if (new_file.len && ret == 0 && remove_if_untouched(file, &new_written)) {
		printf("weft: nothing was added, so %s was not kept\n", new_file.data);
		strbuf_reset(&new_file);
	}
	session_lock_release(&lock);
	lm_engine_free(engine);
	task_release(&task);
	strbuf_release(&task_name);
	config_release(&cfg);
	tree_free(t);
	if (new_file.len && ret >= 0)
		printf("weft: the new session is in %s\n", new_file.data);
	strbuf_release(&new_file);
	strbuf_release(&new_written);
	if (ret != 0) {
		/* ret 1: quit without saving, err says what is where */
		print_error(err.msg);
		return 1;
	}
	return 0;
}

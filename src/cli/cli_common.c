/*
 * The steps several commands share: the configuration, a session with its
 * task, the engine.
 */
#include <stdio.h>
#include <string.h>

#include "clicommon.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/session.h"
#include "weft/tree.h"

int cli_config_read(struct config *c, const struct cli_config_args *a, struct errbuf *err)
{
	size_t k;

	if (config_load(c, a->path, err) < 0)
		return 2;
	for (k = 0; k < a->nsets; k++)
		if (config_set(c, a->sets[k], err) < 0)
			return 2;
	if (!a->env_for_sets || !a->nsets)
		return 0;
	if (config_apply_env(c, err) < 0)
		return 1;
	for (k = 0; k < a->nsets; k++)
		config_set(c, a->sets[k], err); /* each loaded once already */
	return 0;
}

int cli_load_config(const char *cmd, struct config *c, const struct cli_config_args *a)
{
	struct errbuf err;
	int r = cli_config_read(c, a, &err);

	if (r)
		cli_error(cmd, err.msg);
	return r;
}

struct lm_engine *cli_start_engine(const struct config *c)
{
	struct lm_engine *e = lm_engine_new();

	config_hide_keys(c, e);
	return e;
}

int cli_load_task(const char *name, struct task *task, struct errbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int r = task_find(name, &dir, err);

	if (!r)
		r = task_load(task, dir.data, err);
	strbuf_release(&dir);
	return r;
}

/* The file and its journal; a torn last line is said, not fatal. */
static int load_replayed(struct cli_session *s, const char *cmd, const char *path)
{
	struct errbuf err;

	if (session_load(path, &s->tree, &err)) {
		cli_error(cmd, err.msg);
		return 1;
	}
	switch (journal_replay(path, s->tree, &err)) {
	case 0: return 0;
	case 1: cli_error(cmd, err.msg); return 0;
	default: cli_error(cmd, err.msg); return 1;
	}
}

/* The task given, else the one the session names. */
static int open_task(struct cli_session *s, const char *cmd, const char *task_name, unsigned flags)
{
	int needed = flags & CLI_SESSION_NEEDS_TASK;

	if (task_name) {
		strbuf_addstr(&s->task_name, task_name);
	} else if (meta_get_string(s->tree, "task", &s->task_name)) {
		if (!needed)
			return 0;
		cli_error(cmd, "the session names no task: give one with --task NAME");
		return 1;
	}
	if (!s->task_name.len && !needed)
		return 0;
	if (cli_load_task(s->task_name.data, &s->task, &s->task_err) == 0) {
		s->has_task = 1;
		return 0;
	}
	if (needed) {
		cli_error(cmd, s->task_err.msg);
		return 1;
	}
	return 0;
}

int cli_session_open(struct cli_session *s, const char *cmd, const char *path,
		     const char *task_name, unsigned flags)
{
	struct errbuf err;
	int writer = flags & CLI_SESSION_WRITE;

	memset(s, 0, sizeof(*s));
	task_init(&s->task);
	strbuf_init(&s->task_name);
	session_lock_init(&s->lock);
	/* One writer: the lock before the file is read, so what is read is
	 * what no one else will change. */
	if (writer && cli_lock_session(cmd, path, &s->lock)) {
		fprintf(stderr, "weft %s: nothing was asked of the models\n", cmd);
		return 1;
	}
	if (load_replayed(s, cmd, path))
		return 1;
	/* Each step is journalled as it is taken: a journal that cannot be
	 * written is found now, before any request is spent. */
	if (writer && journal_check_writable(path, &err)) {
		cli_error(cmd, err.msg);
		fprintf(stderr, "weft %s: nothing was asked of the models\n", cmd);
		return 1;
	}
	return open_task(s, cmd, task_name, flags);
}

void cli_session_release(struct cli_session *s)
{
	session_lock_release(&s->lock);
	tree_free(s->tree);
	s->tree = NULL;
	task_release(&s->task);
	strbuf_release(&s->task_name);
}

int cli_task_pairs_options(const char *name, struct pairs_options *o, void *ctx)
{
	struct task *task = ctx;
	struct errbuf ignored;

	if (cli_load_task(name, task, &ignored))
		return -1;
	task_pairs_options(task, o);
	return 0;
}

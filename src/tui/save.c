/*
 * Saving and quitting: s saves; q saves and quits, and when the save fails
 * asks before quitting without it (Y), saying where the unsaved changes
 * are (the journal) or that they would be lost.
 */
#include "loom.h"

#include <stdio.h>
#include <unistd.h>

#include "weft/journal.h"

static int do_save(struct tui *u)
{
	struct errbuf err;

	if (!u->opts || !u->opts->save) {
		set_msg(u, MSG_ERROR, "cannot save: this build has no session writer");
		return -1;
	}
	if (!u->path) {
		set_msg(u, MSG_ERROR, "cannot save: no file name");
		return -1;
	}
	if (u->opts->save(u->t, u->path, &err) < 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "NOT SAVED: %s", err.msg);
		set_sticky(u, sb.data);
		strbuf_release(&sb);
		set_msg(u, MSG_ERROR, "save failed");
		return -1;
	}
	u->changes = 0;
	u->stats_changes = (unsigned)-1;
	u->journal_failed = 0; /* what the journal missed is in the file now */
	u->sticky[0] = '\0';
	u->saved_focus = u->t->focus;
	set_msg(u, MSG_INFO, "saved %s", u->path);
	return 0;
}

unsigned act_save(struct tui *u, int arg)
{
	(void)arg;
	do_save(u);
	return REDRAW_STATUS;
}

/* Where the changes the save could not write are, for the person deciding
 * whether to quit without saving. */
static void unsaved_fate(struct tui *u, int brief, struct strbuf *out)
{
	struct strbuf jpath = STRBUF_INIT;

	journal_path(u->path, &jpath);
	if (!u->journal_failed && access(jpath.data, F_OK) == 0 && brief)
		strbuf_addf(out, "changes kept in %s", jpath.data);
	else if (!u->journal_failed && access(jpath.data, F_OK) == 0)
		strbuf_addf(out, "the changes are kept in %s: opening %s again replays them",
			    jpath.data, u->path);
	else
		strbuf_addf(out, "%u change%s since the last save LOST", u->changes,
			    u->changes == 1 ? "" : "s");
	strbuf_release(&jpath);
}

unsigned act_quit(struct tui *u, int arg)
{
	struct strbuf sb = STRBUF_INIT;
	/* Nothing changed since the last save (or the opening), and the
	 * cursor (focusedId) is where the file has it (or the session is
	 * read-only): nothing to write. */
	int cursor_moved = u->path && u->opts && u->opts->save && !u->opts->read_only &&
			   u->t->focus != u->saved_focus;

	(void)arg;
	if (u->changes == 0 && !cursor_moved)
		return ACTION_QUIT;
	if (do_save(u) == 0)
		return ACTION_QUIT;
	if (!u->path) {
		/* a tree with no file (--synthetic) has nowhere to go */
		u->mode = MODE_CONFIRM_QUIT;
		u->sticky[0] = '\0';
		set_msg(u, MSG_ERROR, "cannot save: no file name; q again quits without saving");
		return REDRAW_STATUS;
	}
	/* Quitting now leaves changes unsaved: only a deliberate Y does. */
	u->mode = MODE_CONFIRM_QUIT;
	/* the question first, so a narrow screen still shows it */
	strbuf_addstr(&sb, "QUIT WITHOUT SAVING? Y quits (");
	unsaved_fate(u, 1, &sb);
	strbuf_addf(&sb, "), any other key stays.  %s", u->sticky);
	set_sticky(u, sb.data);
	u->msg[0] = '\0';
	strbuf_release(&sb);
	return REDRAW_STATUS;
}

/* MODE_CONFIRM_QUIT: Y quits without saving (q, for a tree with no file);
 * any other key stays and, but for q, does what it does (REDRAW_NONE
 * hands it to the key table). */
unsigned confirm_quit_key(struct tui *u, wint_t ch, int is_key)
{
	u->mode = MODE_NORMAL;
	if (!u->path)
		return !is_key && ch == 'q' ? ACTION_QUIT : REDRAW_NONE;
	if (!is_key && ch == 'Y') {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s was not saved; ", u->path);
		unsaved_fate(u, 0, &sb);
		snprintf(u->quit_unsaved, sizeof(u->quit_unsaved), "%s", sb.data);
		strbuf_release(&sb);
		return ACTION_QUIT;
	}
	/* still open: the warning stays, without the question */
	snprintf(u->sticky, sizeof(u->sticky), "%s", "NOT SAVED (s tries again)");
	if (is_key || ch != 'q')
		return REDRAW_NONE;
	set_msg(u, MSG_INFO, "not quitting: the changes are still here");
	return REDRAW_ALL;
}

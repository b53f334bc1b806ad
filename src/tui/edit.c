/*
 * The editor (e): the focused node's text goes to $VISUAL/$EDITOR (else vi)
 * in a temporary file with the terminal given over; what comes back, when
 * it is text a session can hold and differs, becomes a new sibling marked
 * edited (the original stays), and the chosen path takes it.
 */
#include "loom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/utf8.h"

/* The largest text an edit may bring back (16 MiB). */
#define EDIT_MAX_BYTES (16u << 20)

/* Runs $WEFT_EDITOR_CMD (set from $VISUAL, $EDITOR or vi) on path with the
 * terminal given back to it.  Returns its exit status, or -1. */
static int run_editor(const char *path)
{
	pid_t pid;
	int status = 0;

	term_suspend();
	pid = fork();
	if (pid == 0) {
		term_child_signals();
		execl("/bin/sh", "sh", "-c", "$WEFT_EDITOR_CMD \"$1\"", "sh", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	term_resume();
	if (pid < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Writes the focused node's text to a new temporary file named in tmpl
 * (a mkstemp template).  0, or -1 with the status line saying why. */
static int write_temp(struct tui *u, const struct tree_node *f, char *tmpl)
{
	FILE *fp;
	int fd = mkstemp(tmpl);

	if (fd < 0) {
		set_msg(u, MSG_ERROR, "edit: cannot create a temporary file: %s", strerror(errno));
		return -1;
	}
	fp = fdopen(fd, "w+");
	if (!fp || fwrite(f->text, 1, f->text_len, fp) != f->text_len || fflush(fp)) {
		set_msg(u, MSG_ERROR, "edit: cannot write %s", tmpl);
		if (fp)
			fclose(fp);
		else
			close(fd);
		unlink(tmpl);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* Reads back what the editor left in tmpl into text.  It must be text a
 * session can hold (UTF-8 without NUL): else nothing changes, the
 * person's text stays in the file, and -1 with the status line saying
 * where. */
static int read_back(struct tui *u, const char *tmpl, struct strbuf *text)
{
	struct errbuf rerr;
	char *data;
	size_t len, bad;

	if (atomicfile_read(tmpl, EDIT_MAX_BYTES, &data, &len, &rerr)) {
		set_msg(u, MSG_ERROR, "edit: %s, nothing changed; the text is kept in %s", rerr.msg,
			tmpl);
		return -1;
	}
	strbuf_add(text, data, len);
	free(data);
	/* the first byte that is not UTF-8, or a NUL */
	for (bad = 0; bad < text->len;) {
		uint32_t cp;
		size_t k =
		    utf8_decode((const unsigned char *)text->data + bad, text->len - bad, &cp);

		if (!k || !cp)
			break;
		bad += k;
	}
	if (bad < text->len) {
		set_msg(u, MSG_ERROR,
			"edit: %s at byte %zu, nothing changed (a session holds UTF-8); "
			"the text is kept in %s",
			!text->data[bad] ? "a NUL byte" : "not valid UTF-8", bad, tmpl);
		return -1;
	}
	return 0;
}

/* The edited text becomes a new sibling of the focus, marked edited, and
 * the chosen path takes it: one undoable action. */
static void add_edited(struct tui *u, uint32_t parent, const struct strbuf *text)
{
	struct tree *t = u->t;
	uint32_t added;

	history_begin(&u->hist, t);
	added = tree_add(t, parent, NULL, text->data, text->len);
	tree_set_flag(t, added, TREE_EDITED, 1);
	history_added(&u->hist, t, added);
	/* an edit is a decision: the chosen path takes the edited text */
	tree_path_through(t, added);
	focus_on(u, added);
	history_end(&u->hist, t);
	mark_changed(u);
}

unsigned act_edit(struct tui *u, int arg)
{
	const struct tree_node *f = tree_node(u->t, u->t->focus);
	char tmpl[] = "/tmp/weft-edit-XXXXXX";
	struct strbuf text = STRBUF_INIT;
	const char *ed;
	int rc;

	(void)arg;
	if (f->parent == TREE_NONE) {
		set_msg(u, MSG_ERROR, "the root cannot be edited (edits make a sibling)");
		return REDRAW_STATUS;
	}
	if (write_temp(u, f, tmpl) < 0)
		return REDRAW_STATUS;
	ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	setenv("WEFT_EDITOR_CMD", ed, 1);
	rc = run_editor(tmpl);
	if (rc != 0) {
		set_msg(u, MSG_ERROR, "edit: the editor exited with status %d; nothing changed",
			rc);
		unlink(tmpl);
		return REDRAW_ALL;
	}
	if (read_back(u, tmpl, &text) < 0) {
		strbuf_release(&text);
		return REDRAW_ALL;
	}
	unlink(tmpl);
	if (text.len == f->text_len && !memcmp(text.data, f->text, text.len)) {
		set_msg(u, MSG_INFO, "edit: no change");
		strbuf_release(&text);
		return REDRAW_ALL;
	}
	add_edited(u, f->parent, &text);
	set_msg(u, MSG_INFO, "edited: a new sibling (the original stays)");
	strbuf_release(&text);
	return REDRAW_ALL | REDRAW_STATS;
}

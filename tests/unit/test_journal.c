#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/journal.h"
#include "weft/session.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

static char tmpdir[64];
static char session[128];

static int setup(void **state)
{
	(void)state;
	if (testutil_tmpdir(tmpdir, sizeof(tmpdir), "journal"))
		return -1;
	snprintf(session, sizeof(session), "%s/s.json", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(tmpdir);
}

static void append_raw(const char *data)
{
	struct strbuf p = STRBUF_INIT;
	FILE *f;

	journal_path(session, &p);
	f = fopen(p.data, "ab");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
	strbuf_release(&p);
}

static int journal_exists(void)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	journal_path(session, &p);
	r = access(p.data, F_OK) == 0;
	strbuf_release(&p);
	return r;
}

/* Removes the journal an earlier test left (a save refuses a target
 * that has one). */
static void drop_journal(void)
{
	struct strbuf p = STRBUF_INIT;

	journal_path(session, &p);
	unlink(p.data);
	strbuf_release(&p);
}

/* Builds a base session on disk and returns it loaded. */
static struct tree *base(void)
{
	struct tree *t = tree_new();
	struct errbuf err;
	uint32_t r;

	r = tree_add(t, TREE_NONE, "r", "Question:", 9);
	tree_add(t, r, "a", " A?", 3);
	tree_set_name(t, "j");
	assert_int_equal(session_save(t, session, &err), 0);
	tree_free(t);
	assert_int_equal(session_load(session, &t, &err), 0);
	return t;
}

/* Replaying the journal on the saved file gives what was in memory. */
static void test_replay_restores_changes(void **state)
{
	struct tree *live = base(), *back;
	struct strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;
	struct errbuf err = {{0}};
	uint32_t r = tree_find(live, "r"), a = tree_find(live, "a"), b, c;
	struct tree_step *st;

	(void)state;
	b = tree_add(live, r, "b", " B?", 3);
	assert_int_equal(journal_append_node(session, live, b, &err), 0);
	c = tree_add(live, b, "c", " C \xc3\xa9\n", 6);
	tree_set_model(live, c, "m");
	tree_set_score(live, c, 0.5, 1);
	assert_int_equal(journal_append_node(session, live, c, &err), 0);
	st = tree_step_get(live, r);
	tree_step_add_candidate(st, a, 0.25, 1);
	tree_step_add_candidate(st, b, 0.75, 1);
	st->judge_pick = b;
	st->final_pick = a;
	st->picker = TREE_PICKER_HUMAN;
	tree_set_flag(live, a, TREE_HUMAN_PICK, 1);
	assert_int_equal(journal_append_node(session, live, r, &err), 0);
	assert_int_equal(journal_append_node(session, live, a, &err), 0);
	tree_set_focus(live, c);
	tree_path_through(live, c);
	assert_int_equal(journal_append_path(session, live, &err), 0);
	tree_prune(live, a);
	assert_int_equal(journal_append_prune(session, live, a, 1, &err), 0);

	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(back->count, 2);
	assert_int_equal(journal_replay(session, back, &err), 0);
	session_write(live, &s1);
	session_write(back, &s2);
	assert_string_equal(s1.data, s2.data);

	/* unprune through the journal */
	tree_free(back);
	tree_unprune(live, a);
	assert_int_equal(journal_append_prune(session, live, a, 0, &err), 0);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_equal(back->count, 4);
	assert_int_equal(tree_visible_children(back, back->root), 2);
	strbuf_reset(&s1);
	strbuf_reset(&s2);
	session_write(live, &s1);
	session_write(back, &s2);
	assert_string_equal(s1.data, s2.data);

	/* a plain save (an export, a copy) never writes over a session with a
	 * journal, nor removes the journal */
	assert_true(journal_exists());
	assert_int_equal(session_save(back, session, &err), -1);
	assert_non_null(strstr(err.msg, ".journal holds changes"));
	assert_true(journal_exists());
	/* the save of the process that replayed it takes the journal's
	 * changes and removes it */
	assert_int_equal(session_save_replayed(back, session, &err), 0);
	assert_false(journal_exists());
	tree_free(back);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	strbuf_reset(&s2);
	session_write(back, &s2);
	assert_string_equal(s1.data, s2.data);

	strbuf_release(&s1);
	strbuf_release(&s2);
	tree_free(live);
	tree_free(back);
	assert_int_equal(journal_remove(session, &err), 0);
}

static void test_torn_last_line_is_ignored(void **state)
{
	struct tree *t = base();
	struct errbuf err = {{0}};
	uint32_t b;

	(void)state;
	b = tree_add(t, t->root, "b", " B", 2);
	assert_int_equal(journal_append_node(session, t, b, &err), 0);
	tree_free(t);
	append_raw("{\"op\":\"node\",\"node\":{\"id\":\"z\",\"te");
	assert_int_equal(session_load(session, &t, &err), 0);
	assert_int_equal(journal_replay(session, t, &err), 1);
	assert_non_null(strstr(err.msg, "s.json.journal:2: ignored a torn last line"));
	assert_int_not_equal(tree_find(t, "b"), TREE_NONE);
	assert_int_equal(tree_find(t, "z"), TREE_NONE);
	tree_free(t);
	assert_int_equal(journal_remove(session, &err), 0);
}

static void test_bad_lines_are_errors(void **state)
{
	static const struct {
		const char *line, *expect;
	} cases[] = {
	    {"not json\n{}\n", "s.json.journal:1: not a JSON object"},
	    {"{\"op\":\"fly\"}\n", "s.json.journal:1: unknown op \"fly\""},
	    {"{\"node\":{}}\n", "s.json.journal:1: missing \"op\""},
	    {"{\"op\":\"prune\",\"id\":\"nope\"}\n", "s.json.journal:1: prune of a node"},
	    {"{\"op\":\"prune\",\"id\":\"r\"}\n", "root cannot be pruned"},
	    {"{\"op\":\"path\",\"pathNodes\":[\"a\"]}\n", "not a chain of visible nodes"},
	    /* found by fuzz_journal: trailing bytes after the object were
	     * ignored, and a path could run through a pruned node, which then
	     * saved as a file that does not load */
	    {"{\"op\":\"prune\",\"id\":\"a\"}junk\n{}\n", "s.json.journal:1: not a JSON object"},
	    {"{\"op\":\"prune\",\"id\":\"a\"}\n{\"op\":\"path\",\"pathNodes\":[\"r\",\"a\"]}\n",
	     "s.json.journal:2: \"pathNodes\" is not a chain of visible nodes"},
	    {"{\"op\":\"prune\",\"id\":\"a\"}\n{\"op\":\"path\",\"pathNodes\":[\"r\"],"
	     "\"focusedId\":\"a\"}\n",
	     "s.json.journal:2: \"focusedId\" names a pruned node"},
	    {"{\"op\":\"node\",\"node\":{\"id\":\"q\",\"text\":\"x\",\"parentIds\":[\"zz\"]}}\n",
	     "s.json.journal:1: node 'q': \"parentIds\" names a node that is not in the tree"},
	    {"{\"op\":\"node\",\"node\":{\"id\":\"q\",\"text\":\"x\",\"parentIds\":[\"r\"],"
	     "\"weft\":{\"step\":{\"candidates\":[\"a\"]}}}}\n",
	     "node 'q': step names 'a', which is not a child"},
	    {"{\"op\":\"node\",\"node\":{\"id\":\"q\",\"text\":5}}\n", "\"text\" is not a string"},
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct tree *t = base();
		struct errbuf err = {{0}};

		append_raw(cases[k].line);
		if (journal_replay(session, t, &err) != -1 || !strstr(err.msg, cases[k].expect))
			print_error("case %zu: '%s'\n", k, err.msg);
		assert_non_null(strstr(err.msg, cases[k].expect));
		assert_null(strchr(err.msg, '\n'));
		tree_free(t);
		assert_int_equal(journal_remove(session, &err), 0);
	}
}

/* Whatever a journal does to a tree, up to its first bad line, the tree
 * saves as a file that loads (fuzz_journal's first finding). */
static void test_replayed_tree_always_saves(void **state)
{
	static const char *const journals[] = {
	    "{\"op\":\"node\",\"node\":{\"id\":\"c\",\"text\":\" c\",\"parentIds\":[\"a\"]}}\n"
	    "{\"op\":\"prune\",\"id\":\"c\"}\n"
	    "{\"op\":\"path\",\"pathNodes\":[\"r\",\"a\",\"c\"],\"focusedId\":\"c\"}\n",
	    "{\"op\":\"node\",\"node\":{\"id\":\"c\",\"text\":\" c\",\"parentIds\":[\"a\"]}}\n"
	    "{\"op\":\"path\",\"pathNodes\":[\"r\",\"a\",\"c\"],\"focusedId\":\"c\"}\n"
	    "{\"op\":\"prune\",\"id\":\"a\"}\n",
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(journals) / sizeof(journals[0]); k++) {
		struct tree *t = base(), *back = NULL;
		struct strbuf sb = STRBUF_INIT;
		struct errbuf err = {{0}};

		append_raw(journals[k]);
		journal_replay(session, t, &err);
		session_write(t, &sb);
		if (session_load_buffer("replayed", sb.data, sb.len, &back, &err))
			print_error("journal %zu: %s\n", k, err.msg);
		assert_non_null(back);
		tree_free(back);
		tree_free(t);
		strbuf_release(&sb);
		assert_int_equal(journal_remove(session, &err), 0);
	}
}

static void test_no_journal(void **state)
{
	struct tree *t = base();
	struct errbuf err = {{0}};

	(void)state;
	assert_int_equal(journal_replay(session, t, &err), 0);
	assert_int_equal(t->count, 2);
	tree_free(t);
}

/* The journal has the session's permissions: a private session's journal
 * is private from its first line, and an older, wider one is narrowed. */
static void test_journal_permissions(void **state)
{
	struct tree *t = (drop_journal(), base());
	struct strbuf p = STRBUF_INIT;
	struct errbuf err = {{0}};
	struct stat st;
	mode_t old = umask(022);

	(void)state;
	journal_path(session, &p);
	assert_int_equal(chmod(session, 0600), 0);
	assert_int_equal(journal_append_node(session, t, 1, &err), 0);
	assert_int_equal(stat(p.data, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(p.data, 0644), 0);
	assert_int_equal(journal_append_node(session, t, 1, &err), 0);
	assert_int_equal(stat(p.data, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(p.data);
	umask(old);
	strbuf_release(&p);
	tree_free(t);
}

/* A journal that is a symbolic link is refused, for writing and reading:
 * weft never truncates or creates the file it points to. */
static void test_journal_symlink_refused(void **state)
{
	struct tree *t = (drop_journal(), base());
	struct strbuf p = STRBUF_INIT;
	struct errbuf err = {{0}};
	char victim[256], dangling[256];
	struct stat st;
	FILE *f;

	(void)state;
	journal_path(session, &p);
	snprintf(victim, sizeof(victim), "%s/victim.txt", tmpdir);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\nhalf a line", f);
	fclose(f);
	assert_int_equal(symlink(victim, p.data), 0);
	assert_int_equal(journal_append_node(session, t, 1, &err), -1);
	assert_non_null(strstr(err.msg, "s.json.journal: is a symbolic link"));
	assert_int_equal(journal_replay(session, t, &err), -1);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 20); /* not trimmed, not appended to */
	unlink(p.data);

	/* a dangling link does not create its target */
	snprintf(dangling, sizeof(dangling), "%s/created-by-weft", tmpdir);
	assert_int_equal(symlink(dangling, p.data), 0);
	assert_int_equal(journal_append_node(session, t, 1, &err), -1);
	assert_int_equal(access(dangling, F_OK), -1);
	unlink(p.data);

	/* nor is a FIFO read (it would block) */
	assert_int_equal(mkfifo(p.data, 0600), 0);
	assert_int_equal(journal_replay(session, t, &err), -1);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	unlink(p.data);
	unlink(victim);
	strbuf_release(&p);
	tree_free(t);
}

/* A batch is one line: a step and its path come back together, and a
 * torn batch (cut anywhere) brings back none of it. */
static void test_batch_is_all_or_nothing(void **state)
{
	struct tree *live = base(), *back;
	struct journal_batch b;
	struct strbuf jp = STRBUF_INIT, data = STRBUF_INIT;
	struct errbuf err = {{0}};
	uint32_t r = tree_find(live, "r"), c1, c2;
	struct tree_step *st;
	char buf[4096];
	size_t n, cut;
	FILE *f;

	(void)state;
	c1 = tree_add(live, r, "c1", " B?", 3);
	c2 = tree_add(live, r, "c2", " C?", 3);
	st = tree_step_get(live, r);
	tree_step_add_candidate(st, c1, 0.25, 1);
	tree_step_add_candidate(st, c2, 0.75, 1);
	st->judge_pick = c2;
	tree_set_focus(live, c2);
	tree_path_through(live, c2);
	journal_batch_init(&b);
	journal_batch_node(&b, live, c1);
	journal_batch_node(&b, live, c2);
	journal_batch_node(&b, live, r); /* its step names c1, c2: after them */
	journal_batch_path(&b, live);
	assert_int_equal(journal_batch_commit(session, &b, &err), 0);

	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_not_equal(tree_find(back, "c2"), TREE_NONE);
	assert_int_equal(tree_path_tip(back), tree_find(back, "c2"));
	assert_non_null(tree_node(back, back->root)->step);
	assert_int_equal(tree_node(back, back->root)->step->count, 2);
	tree_free(back);

	/* cut the line at several places: nothing of the step comes back */
	journal_path(session, &jp);
	f = fopen(jp.data, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	strbuf_add(&data, buf, n);
	for (cut = 1; cut < data.len - 1; cut += data.len / 7) {
		f = fopen(jp.data, "wb");
		fwrite(data.data, 1, cut, f);
		fclose(f);
		assert_int_equal(session_load(session, &back, &err), 0);
		assert_int_equal(journal_replay(session, back, &err), 1);
		assert_int_equal(tree_find(back, "c1"), TREE_NONE);
		assert_null(tree_node(back, back->root)->step);
		tree_free(back);
		/* the next append repairs the torn tail instead of burying it
		 * mid-file, where replay would stop with an error */
		assert_int_equal(tree_set_path(live, &r, 1), 0);
		tree_set_focus(live, r);
		assert_int_equal(journal_append_path(session, live, &err), 0);
		assert_int_equal(session_load(session, &back, &err), 0);
		assert_int_equal(journal_replay(session, back, &err), 0);
		assert_int_equal(tree_path_tip(back), back->root);
		tree_free(back);
	}
	strbuf_release(&jp);
	strbuf_release(&data);
	tree_free(live);
}

/* A line past the cap is refused as soon as it passes it: the reader
 * neither holds nor reads the rest of it. */
static void test_long_line_is_refused_early(void **state)
{
	char path[160], chunk[4096];
	struct journal_reader *r = malloc(sizeof(*r));
	FILE *f;
	int fd, i;

	(void)state;
	snprintf(path, sizeof(path), "%s/long.journal", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("{\"a\":1}\n", f);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 1024; i++) /* a 4 MiB line */
		assert_int_equal(fwrite(chunk, 1, sizeof(chunk), f), sizeof(chunk));
	fputs("\n{\"b\":2}\n", f);
	assert_int_equal(fclose(f), 0);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	journal_reader_init(r, fd, 1000);
	assert_int_equal(journal_reader_next(r), 1);
	assert_string_equal(r->line.data, "{\"a\":1}");
	assert_int_equal(journal_reader_next(r), -2);
	assert_true(r->line.len <= 1000);
	assert_true(r->line.cap <= 1001);
	/* one buffer's worth read, not the 4 MiB */
	assert_true(lseek(fd, 0, SEEK_CUR) <= (off_t)sizeof(r->buf));
	journal_reader_release(r);
	free(r);
	close(fd);
}

/* The reader's line ends: '\n', a last line without one, the end. */
static void test_reader_lines(void **state)
{
	char path[160];
	struct journal_reader *r = malloc(sizeof(*r));
	FILE *f;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/lines.journal", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("one\n\nthree", f);
	assert_int_equal(fclose(f), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	journal_reader_init(r, fd, 5);
	assert_int_equal(journal_reader_next(r), 1);
	assert_string_equal(r->line.data, "one");
	assert_int_equal(journal_reader_next(r), 1);
	assert_string_equal(r->line.data, "");
	assert_int_equal(journal_reader_next(r), 2);
	assert_string_equal(r->line.data, "three");
	assert_int_equal(journal_reader_next(r), 0);
	journal_reader_release(r);
	free(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replay_restores_changes),
	    cmocka_unit_test(test_replayed_tree_always_saves),
	    cmocka_unit_test(test_torn_last_line_is_ignored),
	    cmocka_unit_test(test_bad_lines_are_errors),
	    cmocka_unit_test(test_no_journal),
	    cmocka_unit_test(test_batch_is_all_or_nothing),
	    cmocka_unit_test(test_journal_permissions),
	    cmocka_unit_test(test_journal_symlink_refused),
	    cmocka_unit_test(test_long_line_is_refused_early),
	    cmocka_unit_test(test_reader_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

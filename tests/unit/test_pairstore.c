#include "testutil.h"

#include "weft/errbuf.h"
#include "weft/history.h"
#include "weft/journal.h"
#include "weft/pairstore.h"
#include "weft/session.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

static char tmpdir[64];
static char session[128];

static int setup(void **state)
{
	(void)state;
	if (testutil_tmpdir(tmpdir, sizeof(tmpdir), "pairstore"))
		return -1;
	snprintf(session, sizeof(session), "%s/s.json", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(tmpdir);
}

static struct tree *small_tree(void)
{
	struct tree *t = tree_new();
	uint32_t r = tree_add(t, TREE_NONE, "r", "Question:", 9);

	tree_add(t, r, "a", " A?\nAnswer: Yes\n", 16);
	tree_set_name(t, "p");
	return t;
}

static struct pairstore_mark mark(const char *q, enum pairstore_decision d, const char *label)
{
	struct pairstore_mark m = {0};

	m.question = (char *)q;
	m.decision = d;
	m.label = (char *)label;
	m.at = (char *)"2026-11-29T18:00:00Z";
	return m;
}

/* Set, get, replace and clear, each handing back what was there. */
static void test_set_get_clear(void **state)
{
	struct tree *t = small_tree();
	uint32_t a = tree_find(t, "a");
	struct pairstore_mark m = mark("A?", PAIRSTORE_REJECTED, NULL), got, prev;
	struct errbuf err = {{0}};

	(void)state;
	assert_int_equal(pairstore_get(t, a, "A?", &got), 0);
	assert_int_equal(got.decision, PAIRSTORE_KEPT);
	assert_int_equal(pairstore_set(t, NULL, a, &m, &prev, &err), 0);
	assert_int_equal(prev.decision, PAIRSTORE_KEPT);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_REJECTED);
	assert_string_equal(got.at, "2026-11-29T18:00:00Z");
	pairstore_mark_release(&got);
	assert_int_equal(pairstore_get(t, a, "B?", &got), 0); /* another question */

	m = mark("A?", PAIRSTORE_RELABELLED, "No");
	m.by = PAIRSTORE_BY_VERIFIER;
	assert_int_equal(pairstore_set(t, NULL, a, &m, &prev, &err), 0);
	assert_int_equal(prev.decision, PAIRSTORE_REJECTED);
	pairstore_mark_release(&prev);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_RELABELLED);
	assert_int_equal(got.by, PAIRSTORE_BY_VERIFIER);
	assert_string_equal(got.label, "No");
	pairstore_mark_release(&got);
	/* one entry per pair, not one per change */
	assert_string_equal(
	    tree_node(t, a)->weft_extra_json,
	    "\"pairs\":[{\"question\":\"A?\",\"decision\":\"relabelled\","
	    "\"label\":\"No\",\"by\":\"verifier\",\"at\":\"2026-11-29T18:00:00Z\"}]");

	assert_int_equal(pairstore_clear(t, NULL, a, "A?", &prev, &err), 0);
	assert_int_equal(prev.decision, PAIRSTORE_RELABELLED);
	pairstore_mark_release(&prev);
	assert_null(tree_node(t, a)->weft_extra_json);
	tree_free(t);
}

/* Hostile input is refused with a message, and nothing changes. */
static void test_refuses_bad_input(void **state)
{
	struct tree *t = small_tree();
	uint32_t a = tree_find(t, "a");
	struct pairstore_mark m = mark("A\xff?", PAIRSTORE_REJECTED, NULL);
	struct pairstore_verdict v = {0};
	struct errbuf err = {{0}};
	char *big = malloc(PAIRSTORE_MAX_TEXT + 2);

	(void)state;
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "UTF-8"));
	m = mark("A?", PAIRSTORE_RELABELLED, NULL);
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), -1);
	memset(big, 'q', PAIRSTORE_MAX_TEXT + 1);
	big[PAIRSTORE_MAX_TEXT + 1] = '\0';
	m = mark(big, PAIRSTORE_REJECTED, NULL);
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "longer"));
	v.question = (char *)"A?";
	v.answer = (char *)"Yes";
	v.p = 1.5;
	assert_int_equal(pairstore_add_verdict(t, NULL, a, &v, &err), -1);
	assert_null(tree_node(t, a)->weft_extra_json);
	free(big);
	tree_free(t);
}

/* Verdicts: a rerun by the same verifier replaces, another adds; the
 * latest one is found. */
static void test_verdicts(void **state)
{
	struct tree *t = small_tree();
	uint32_t a = tree_find(t, "a");
	struct pairstore_verdict v = {0}, got;
	struct pairstore_node all;
	struct errbuf err = {{0}};

	(void)state;
	v.question = (char *)"A?";
	v.answer = (char *)"Yes";
	v.label = (char *)"Yes";
	v.verifier = (char *)"m1";
	v.p = 0.25;
	assert_int_equal(pairstore_add_verdict(t, NULL, a, &v, &err), 0);
	v.p = 0.75;
	assert_int_equal(pairstore_add_verdict(t, NULL, a, &v, &err), 0);
	v.verifier = (char *)"m2";
	v.p = 0.5;
	v.source = PAIRSTORE_SOURCE_ANSWER;
	assert_int_equal(pairstore_add_verdict(t, NULL, a, &v, &err), 0);
	assert_int_equal(pairstore_list(t, a, &all), 0);
	assert_int_equal(all.nverdicts, 2);
	assert_int_equal(all.nmarks, 0);
	pairstore_node_release(&all);
	assert_int_equal(pairstore_find_verdict(t, a, "A?", "Yes", "m1", &got), 1);
	assert_true(got.p == 0.75);
	assert_int_equal(got.source, PAIRSTORE_SOURCE_LOGPROBS);
	assert_non_null(got.at);
	pairstore_verdict_release(&got);
	assert_int_equal(pairstore_find_verdict(t, a, "A?", "Yes", NULL, &got), 1);
	assert_string_equal(got.verifier, "m2");
	assert_int_equal(got.source, PAIRSTORE_SOURCE_ANSWER);
	pairstore_verdict_release(&got);
	assert_int_equal(pairstore_find_verdict(t, a, "A?", "No", NULL, &got), 0);
	tree_free(t);
}

static void count_changes(void *ctx, uint32_t i, enum history_change what)
{
	(void)i;
	(void)what;
	++*(int *)ctx;
}

/* Through a history: one undo puts the decision back, redo again, and the
 * observer (the loom's journal) hears of each. */
static void test_undo_redo(void **state)
{
	struct tree *t = small_tree();
	uint32_t a = tree_find(t, "a");
	struct history h;
	struct pairstore_mark m = mark("A?", PAIRSTORE_REJECTED, NULL), got;
	struct errbuf err = {{0}};
	int changes = 0;

	(void)state;
	history_init(&h);
	h.observer = count_changes;
	h.observer_ctx = &changes;
	assert_int_equal(pairstore_set(t, &h, a, &m, NULL, &err), 0);
	m = mark("A?", PAIRSTORE_RELABELLED, "No");
	history_begin(&h, t);
	assert_int_equal(pairstore_set(t, &h, a, &m, NULL, &err), 0);
	history_end(&h, t);
	assert_int_equal(history_undo_count(&h), 2);
	assert_int_equal(changes, 2);

	assert_int_equal(history_undo(&h, t), 0);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_REJECTED);
	pairstore_mark_release(&got);
	assert_int_equal(history_undo(&h, t), 0);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 0);
	assert_int_equal(history_redo(&h, t), 0);
	assert_int_equal(history_redo(&h, t), 0);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_RELABELLED);
	assert_string_equal(got.label, "No");
	pairstore_mark_release(&got);
	assert_int_equal(changes, 6);
	history_release(&h);
	tree_free(t);
}

static void drop_journal(void)
{
	struct strbuf p = STRBUF_INIT;

	journal_path(session, &p);
	unlink(p.data);
	strbuf_release(&p);
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

static void journal_node(void *ctx, uint32_t i, enum history_change what)
{
	struct errbuf err = {{0}};

	assert_int_equal(what, HISTORY_CHANGED_NODE);
	assert_int_equal(journal_append_node(session, ctx, i, &err), 0);
}

/* The loom's way: every change (and undo) journalled as a node line; a
 * replay gives the state after the undo. */
static void test_loom_journal_of_undo(void **state)
{
	struct tree *t = small_tree(), *back;
	uint32_t a = tree_find(t, "a");
	struct history h;
	struct pairstore_mark m = mark("A?", PAIRSTORE_REJECTED, NULL), got;
	struct errbuf err = {{0}};

	(void)state;
	drop_journal();
	assert_int_equal(session_save(t, session, &err), 0);
	history_init(&h);
	h.observer = journal_node;
	h.observer_ctx = t;
	assert_int_equal(pairstore_set(t, &h, a, &m, NULL, &err), 0);
	m = mark("A?", PAIRSTORE_RELABELLED, "No");
	assert_int_equal(pairstore_set(t, &h, a, &m, NULL, &err), 0);
	assert_int_equal(history_undo(&h, t), 0);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_equal(pairstore_get(back, tree_find(back, "a"), "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_REJECTED);
	pairstore_mark_release(&got);
	tree_free(back);
	assert_int_equal(history_undo(&h, t), 0);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_equal(pairstore_get(back, tree_find(back, "a"), "A?", &got), 0);
	tree_free(back);
	drop_journal();
	history_release(&h);
	tree_free(t);
}

/* Decisions and verdicts survive the journal and a save and reload. */
static void test_journal_and_save(void **state)
{
	struct tree *t = small_tree(), *back;
	uint32_t a = tree_find(t, "a");
	struct pairstore_mark m = mark("A?", PAIRSTORE_RELABELLED, "No"), got;
	struct pairstore_verdict v = {0}, gv;
	struct journal_batch b;
	struct strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;
	struct errbuf err = {{0}};

	(void)state;
	drop_journal();
	assert_int_equal(session_save(t, session, &err), 0);
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), 0);
	assert_int_equal(journal_append_decision(session, t, a, "A?", &err), 0);
	v.question = (char *)"A?";
	v.answer = (char *)"Yes";
	v.verifier = (char *)"m";
	v.p = 0.83;
	assert_int_equal(pairstore_add_verdict(t, NULL, a, &v, &err), 0);
	journal_batch_init(&b);
	journal_batch_verdict(&b, t, a, "A?", "Yes", "m");
	assert_int_equal(journal_batch_commit(session, &b, &err), 0);

	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	session_write(t, &s1);
	session_write(back, &s2);
	assert_string_equal(s1.data, s2.data);
	assert_int_equal(pairstore_find_verdict(back, a, "A?", "Yes", "m", &gv), 1);
	assert_true(gv.p == 0.83);
	pairstore_verdict_release(&gv);
	tree_free(back);

	/* clearing is journalled as "kept" */
	assert_int_equal(pairstore_clear(t, NULL, a, "A?", NULL, &err), 0);
	assert_int_equal(journal_append_decision(session, t, a, "A?", &err), 0);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_equal(pairstore_get(back, a, "A?", &got), 0);
	tree_free(back);

	/* a save and reload keeps them as weft keys */
	drop_journal();
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), 0);
	assert_int_equal(session_save(t, session, &err), 0);
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(pairstore_get(back, a, "A?", &got), 1);
	assert_string_equal(got.label, "No");
	pairstore_mark_release(&got);
	tree_free(back);
	strbuf_release(&s1);
	strbuf_release(&s2);
	tree_free(t);
}

/* A bad decision line is an error naming the line; a torn last one is a
 * warning, as for the other kinds; a bad stored entry fails the load. */
static void test_bad_lines_and_files(void **state)
{
	struct tree *t = small_tree(), *back;
	struct errbuf err = {{0}};
	static const char bad_file[] =
	    "{\"nodes\":[{\"id\":\"r\",\"text\":\"Q\",\"parentIds\":[],\"childrenIds\":[],"
	    "\"weft\":{\"pairs\":[{\"question\":\"A?\",\"decision\":\"maybe\"}]}}],"
	    "\"pathNodes\":[\"r\"]}";

	(void)state;
	drop_journal();
	assert_int_equal(session_save(t, session, &err), 0);
	append_raw("{\"op\":\"pair\",\"id\":\"a\",\"question\":\"A?\",\"decision\":\"maybe\"}\n");
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), -1);
	assert_non_null(strstr(err.msg, ".journal:1"));
	assert_non_null(strstr(err.msg, "decision"));
	tree_free(back);

	drop_journal();
	append_raw(
	    "{\"op\":\"pair\",\"id\":\"zz\",\"question\":\"A?\",\"decision\":\"rejected\"}\n");
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), -1);
	assert_non_null(strstr(err.msg, "not in the tree"));
	tree_free(back);

	drop_journal();
	append_raw("{\"op\":\"pair\",\"id\":\"a\",\"question\":\"A?\",\"decision\":\"rejected\"}\n"
		   "{\"op\":\"pair\",\"id\":\"a\",\"quest");
	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 1);
	{
		struct pairstore_mark got;

		assert_int_equal(pairstore_get(back, tree_find(back, "a"), "A?", &got), 1);
		assert_int_equal(got.decision, PAIRSTORE_REJECTED);
		pairstore_mark_release(&got);
	}
	tree_free(back);
	drop_journal();

	assert_int_equal(
	    session_load_buffer("bad.json", bad_file, sizeof(bad_file) - 1, &back, &err), -1);
	assert_non_null(strstr(err.msg, "weft.pairs[0]"));
	tree_free(t);
}

/* A person keeping a pair the verifier rejected stays on record, through
 * the journal too, so a filter run again leaves it; keeping a pair nobody
 * decided on records nothing. */
static void test_person_overturns_filter(void **state)
{
	struct tree *t = small_tree(), *back;
	uint32_t a = tree_find(t, "a");
	struct pairstore_mark m = mark("A?", PAIRSTORE_REJECTED, NULL), got;
	struct errbuf err = {{0}};

	(void)state;
	drop_journal();
	assert_int_equal(session_save(t, session, &err), 0);
	m.by = PAIRSTORE_BY_VERIFIER;
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), 0);
	assert_int_equal(journal_append_decision(session, t, a, "A?", &err), 0);
	m = mark("A?", PAIRSTORE_KEPT, NULL);
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), 0);
	assert_int_equal(journal_append_decision(session, t, a, "A?", &err), 0);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_KEPT);
	assert_int_equal(got.by, PAIRSTORE_BY_PERSON);
	pairstore_mark_release(&got);

	assert_int_equal(session_load(session, &back, &err), 0);
	assert_int_equal(journal_replay(session, back, &err), 0);
	assert_int_equal(pairstore_get(back, a, "A?", &got), 1);
	assert_int_equal(got.decision, PAIRSTORE_KEPT);
	assert_int_equal(got.by, PAIRSTORE_BY_PERSON);
	pairstore_mark_release(&got);
	tree_free(back);

	/* cleared, then kept by a person: nothing to record */
	assert_int_equal(pairstore_clear(t, NULL, a, "A?", NULL, &err), 0);
	assert_int_equal(pairstore_set(t, NULL, a, &m, NULL, &err), 0);
	assert_int_equal(pairstore_get(t, a, "A?", &got), 0);
	assert_null(tree_node(t, a)->weft_extra_json);
	tree_free(t);
	drop_journal();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_get_clear),
	    cmocka_unit_test(test_refuses_bad_input),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_undo_redo),
	    cmocka_unit_test(test_journal_and_save),
	    cmocka_unit_test(test_loom_journal_of_undo),
	    cmocka_unit_test(test_bad_lines_and_files),
	    cmocka_unit_test(test_person_overturns_filter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

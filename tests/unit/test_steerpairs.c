#include "testutil.h"

#include "weft/pairstore.h"
#include "weft/steer.h"
#include "weft/steerpairs.h"
#include "weft/tree.h"

/* A chosen path root .. one node per text; returns its tip. */
static uint32_t grow(struct tree *t, const char *const *texts, size_t n)
{
	uint32_t at = tree_add(t, TREE_NONE, "root", "Write questions.\nQuestion:", 26);
	char id[32];
	size_t k;

	for (k = 0; k < n; k++) {
		snprintf(id, sizeof(id), "n%zu", k + 1);
		at = tree_add(t, at, id, texts[k], strlen(texts[k]));
		tree_path_through(t, at);
	}
	return at;
}

static const char *const three[] = {
    " Is water wet?\nAnswer: Yes\nQuestion:",
    " Is fire cold?\nAnswer: No\nQuestion:",
    " Does the sun rise in the east every single morning?\nAnswer: Yes\nQuestion:",
};

static void reject(struct tree *t, const char *id, const char *q)
{
	struct pairstore_mark m = {0};
	struct errbuf err = {{0}};

	m.question = (char *)q;
	m.decision = PAIRSTORE_REJECTED;
	assert_int_equal(pairstore_set(t, NULL, tree_find(t, id), &m, NULL, &err), 0);
}

static void test_balance_and_recent(void **state)
{
	struct tree *t = tree_new();
	uint32_t tip = grow(t, three, 3);
	struct steer_pairs sp;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	steer_pairs_balance(&sp, &sb);
	assert_string_equal(sb.data, "Yes: 2, No: 1");
	strbuf_reset(&sb);
	steer_pairs_recent(&sp, &sb);
	assert_string_equal(sb.data, "Is water wet?\nIs fire cold?\n"
				     "Does the sun rise in the east every single morning?");
	steer_pairs_release(&sp);

	/* the path to an earlier node: only its pairs */
	strbuf_reset(&sb);
	assert_int_equal(steer_pairs_init(&sp, t, tree_find(t, "n1"), NULL), 0);
	steer_pairs_balance(&sp, &sb);
	assert_string_equal(sb.data, "Yes: 1, No: 0");
	steer_pairs_release(&sp);

	/* the root alone: nothing yet */
	strbuf_reset(&sb);
	assert_int_equal(steer_pairs_init(&sp, t, t->root, NULL), 0);
	steer_pairs_balance(&sp, &sb);
	steer_pairs_recent(&sp, &sb);
	assert_string_equal(sb.data, "Yes: 0, No: 0(none yet)");
	steer_pairs_release(&sp);

	/* a rejected pair counts no more, as in weft extract */
	reject(t, "n2", "Is fire cold?");
	strbuf_reset(&sb);
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	steer_pairs_balance(&sp, &sb);
	strbuf_addch(&sb, '|');
	steer_pairs_recent(&sp, &sb);
	assert_string_equal(sb.data, "Yes: 2, No: 0|Is water wet?\n"
				     "Does the sun rise in the east every single morning?");
	steer_pairs_release(&sp);
	strbuf_release(&sb);
	tree_free(t);
}

/* {recent} holds the last STEER_RECENT questions, each on one line and cut
 * at STEER_QUESTION_MAX bytes on a character, whatever they hold. */
static void test_recent_is_capped(void **state)
{
	struct tree *t = tree_new();
	struct strbuf texts[STEER_RECENT + 3], sb = STRBUF_INIT, want = STRBUF_INIT;
	const char *ptrs[STEER_RECENT + 3];
	struct steer_pairs sp;
	uint32_t tip;
	size_t k, n = STEER_RECENT + 3;

	(void)state;
	for (k = 0; k < n; k++) {
		strbuf_init(&texts[k]);
		strbuf_addf(&texts[k], " Is %zu odd?\nAnswer: %s\nQuestion:", k,
			    k % 2 ? "Yes" : "No");
		ptrs[k] = texts[k].data;
	}
	/* the last: a long one of two-byte characters, a tab and a line
	 * break, and braces and a format in it */
	strbuf_reset(&texts[n - 1]);
	strbuf_addstr(&texts[n - 1], " {options} %s%n\tline\nbreaks ");
	for (k = 0; k < 400; k++)
		strbuf_addstr(&texts[n - 1], "\xc3\xa9");
	strbuf_addstr(&texts[n - 1], "?\nAnswer: Yes\n");
	ptrs[n - 1] = texts[n - 1].data;
	tip = grow(t, ptrs, n);
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	steer_pairs_recent(&sp, &sb);
	for (k = n - STEER_RECENT; k < n - 1; k++)
		strbuf_addf(&want, "Is %zu odd?\n", k);
	strbuf_addstr(&want, "{options} %s%n line breaks ");
	/* 300 bytes: the 27 above and 136 whole characters; the half one
	 * that would pass the cut is left out */
	for (k = 0; k < (STEER_QUESTION_MAX - 27) / 2; k++)
		strbuf_addstr(&want, "\xc3\xa9");
	strbuf_addstr(&want, "...");
	assert_string_equal(sb.data, want.data);
	steer_pairs_release(&sp);
	for (k = 0; k < n; k++)
		strbuf_release(&texts[k]);
	strbuf_release(&sb);
	strbuf_release(&want);
	tree_free(t);
}

static enum steer_dup_kind flag(const struct steer_pairs *sp, const char *text, size_t *of)
{
	struct steer_dup d;
	int r = steer_pairs_flag(sp, text, &d);

	assert_int_equal(r, d.kind != STEER_DUP_NONE);
	*of = d.of;
	return d.kind;
}

static void test_candidate_flags(void **state)
{
	struct tree *t = tree_new();
	uint32_t tip = grow(t, three, 3);
	struct steer_pairs sp;
	size_t of = 0;

	(void)state;
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	/* a new question: no flag */
	assert_int_equal(flag(&sp, " Is ice hot?\nAnswer: No\nQuestion:", &of), STEER_DUP_NONE);
	/* the same question as pair 2 */
	assert_int_equal(flag(&sp, " Is fire cold?\nAnswer: Yes\nQuestion:", &of), STEER_DUP_EXACT);
	assert_int_equal(of, 1);
	/* the same after folding case, space and the final mark */
	assert_int_equal(flag(&sp, " is  WATER wet\nAnswer: No\n", &of), STEER_DUP_NORMALISED);
	assert_int_equal(of, 0);
	/* nearly the same as pair 3 (Jaccard 9/10 of its word pairs) */
	assert_int_equal(
	    flag(&sp, " Does the sun rise in the east every single morning too?\nAnswer: Yes\n",
		 &of),
	    STEER_DUP_NEAR);
	assert_int_equal(of, 2);
	/* the second of two pairs repeats: still flagged */
	assert_int_equal(
	    flag(&sp, " Is ice hot?\nAnswer: No\nQuestion: Is fire cold?\nAnswer: No\n", &of),
	    STEER_DUP_EXACT);
	assert_int_equal(of, 1);
	/* two new pairs that repeat each other: the earlier is pair 4 */
	assert_int_equal(
	    flag(&sp, " Is ice hot?\nAnswer: No\nQuestion: Is ice hot?\nAnswer: No\n", &of),
	    STEER_DUP_EXACT);
	assert_int_equal(of, 3);
	/* a pair whose answer names no label adds nothing: no flag */
	assert_int_equal(flag(&sp, " Is fire cold?\nAnswer: maybe\n", &of), STEER_DUP_NONE);
	/* no pair at all (the answer still to come) */
	assert_int_equal(flag(&sp, " Is fire cold?", &of), STEER_DUP_NONE);
	steer_pairs_release(&sp);

	/* a question repeating a rejected pair: extraction drops it as a
	 * repeat, and the pair has no number among the path's */
	reject(t, "n2", "Is fire cold?");
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	assert_int_equal(flag(&sp, " Is fire cold?\nAnswer: No\n", &of), STEER_DUP_EXACT);
	assert_int_equal(of, STEER_DUP_UNNAMED);
	steer_pairs_release(&sp);
	tree_free(t);
}

/* The task's threshold decides near-duplicates: 0 flags none, exact ones
 * still; its labels and pattern are the ones read. */
static void test_task_threshold(void **state)
{
	static const char *const texts[] = {
	    " Q: Is the cat on the warm mat now?\nA: Oui\n",
	};
	struct tree *t = tree_new();
	uint32_t tip = grow(t, texts, 1);
	struct task task;
	struct steer_pairs sp;
	struct strbuf sb = STRBUF_INIT;
	size_t of;

	(void)state;
	task_init(&task);
	task.name = (char *)"t";
	task.pattern = (char *)"Q: (.*?)\\nA: (.*?)\\n";
	task.preamble = (char *)"";
	task.labels[0] = (char *)"Oui";
	task.labels[1] = (char *)"Non";
	task.label_count = 2;
	task.near_duplicate = 0.5;
	assert_int_equal(steer_pairs_init(&sp, t, tip, &task), 0);
	steer_pairs_balance(&sp, &sb);
	assert_string_equal(sb.data, "Oui: 1, Non: 0");
	assert_int_equal(flag(&sp, "Q: Is the cat on the warm mat?\nA: Non\n", &of),
			 STEER_DUP_NEAR);
	steer_pairs_release(&sp);
	task.near_duplicate = 0;
	assert_int_equal(steer_pairs_init(&sp, t, tip, &task), 0);
	assert_int_equal(flag(&sp, "Q: Is the cat on the warm mat?\nA: Non\n", &of),
			 STEER_DUP_NONE);
	assert_int_equal(flag(&sp, "Q: is the cat on the warm mat now\nA: Non\n", &of),
			 STEER_DUP_NORMALISED);
	steer_pairs_release(&sp);

	/* a pattern that does not compile: unknown balance, no flags */
	task.pattern = (char *)"Q: (.*?";
	assert_int_equal(steer_pairs_init(&sp, t, tip, &task), -1);
	strbuf_reset(&sb);
	steer_pairs_balance(&sp, &sb);
	steer_pairs_recent(&sp, &sb);
	assert_string_equal(sb.data, "unknown(none yet)");
	assert_int_equal(steer_pairs_flag(&sp, "Q: Is the cat on the warm mat now?\nA: Non\n",
					  &(struct steer_dup){0}),
			 -1);
	steer_pairs_release(&sp);
	strbuf_release(&sb);
	tree_free(t);
}

static void test_marks_and_notes(void **state)
{
	struct tree *t = tree_new();
	uint32_t tip = grow(t, three, 3);
	struct steer_pairs sp;
	struct steer_dup d;
	struct strbuf sb = STRBUF_INIT;
	const char *texts[] = {" Is ice hot?\nAnswer: No\n", " Is fire cold?\nAnswer: No\n"};
	char **notes;

	(void)state;
	assert_int_equal(steer_pairs_init(&sp, t, tip, NULL), 0);
	assert_int_equal(steer_pairs_flag(&sp, texts[1], &d), 1);
	steer_dup_mark(&d, &sb);
	assert_string_equal(sb.data, "dup #2");
	strbuf_reset(&sb);
	steer_pairs_note(&sp, &d, &sb);
	assert_string_equal(sb.data, "(repeats question 2: Is fire cold?)");
	strbuf_reset(&sb);
	assert_int_equal(
	    steer_pairs_flag(
		&sp, " Does the sun rise in the east every single morning too?\nAnswer: No\n", &d),
	    1);
	steer_dup_mark(&d, &sb);
	assert_string_equal(sb.data, "near-dup #3");
	strbuf_reset(&sb);
	steer_pairs_note(&sp, &d, &sb);
	assert_string_equal(sb.data, "(nearly repeats question 3, similarity 0.90: Does the sun "
				     "rise in the east every single morning?)");
	d.of = STEER_DUP_UNNAMED;
	d.kind = STEER_DUP_EXACT;
	strbuf_reset(&sb);
	steer_dup_mark(&d, &sb);
	steer_pairs_note(&sp, &d, &sb);
	assert_string_equal(sb.data, "dup(repeats an earlier question)");
	d.kind = STEER_DUP_NONE;
	strbuf_reset(&sb);
	steer_dup_mark(&d, &sb);
	steer_pairs_note(&sp, &d, &sb);
	assert_string_equal(sb.data, "");

	notes = steer_pairs_notes(&sp, texts, 2);
	assert_null(notes[0]);
	assert_string_equal(notes[1], "(repeats question 2: Is fire cold?)");
	steer_pairs_notes_free(notes, 2);
	steer_pairs_release(&sp);
	strbuf_release(&sb);
	tree_free(t);
}

/* Flags for the steps along a path at once (replay) are those of each
 * step read on its own. */
static void test_steps_match_each_step(void **state)
{
	static const char *const path[] = {
	    " Is water wet?\nAnswer: Yes\nQuestion:",
	    " Is fire cold?\nAnswer: No\nQuestion:",
	    " Does the sun rise in the east every single morning?\nAnswer: Yes\nQuestion:",
	    " Is ice hot?\nAnswer: No\nQuestion:",
	};
	static const char *const cands[] = {
	    " Is water wet?\nAnswer: No\n",
	    " IS FIRE COLD\nAnswer: Yes\n",
	    " Does the sun rise in the east every single morning too?\nAnswer: No\n",
	    " Is ice hot?\nAnswer: Yes\n",
	    " Is snow white?\nAnswer: Yes\n",
	};
	struct tree *t = tree_new();
	uint32_t tip = grow(t, path, 4), node;
	struct steer_pairs whole, one;
	struct steer_pairs_step steps[5];
	struct steer_dup got[5][5], want[5];
	size_t k, j, flagged = 0;

	(void)state;
	reject(t, "n2", "Is fire cold?");
	assert_int_equal(steer_pairs_init(&whole, t, tip, NULL), 0);
	for (k = 0, node = t->root; k < 5; k++, node = tree_child_at(t, node, 0)) {
		steps[k].node = node;
		steps[k].texts = cands;
		steps[k].count = 5;
		steps[k].flags = got[k];
	}
	assert_true(steer_pairs_flag_steps(&whole, t, steps, 5) > 0);
	for (k = 0; k < 5; k++) {
		assert_int_equal(steer_pairs_init(&one, t, steps[k].node, NULL), 0);
		steer_pairs_flag_all(&one, cands, 5, want);
		for (j = 0; j < 5; j++) {
			assert_int_equal(got[k][j].kind, want[j].kind);
			assert_int_equal(got[k][j].of, want[j].of);
			flagged += want[j].kind != STEER_DUP_NONE;
		}
		steer_pairs_release(&one);
	}
	/* 1 + 2 + 3 + 4 candidates repeat, step by step */
	assert_int_equal(flagged, 10);
	/* a step off the path: nothing */
	steps[0].node = tree_add(t, t->root, "off", " x", 2);
	assert_int_equal(steer_pairs_flag_steps(&whole, t, steps, 1), -1);
	steer_pairs_release(&whole);
	tree_free(t);
}

/* The judge prompt's places: values go in as they are (never read as a
 * template or a format), the notes under their options only. */
static void test_judge_prompt_places(void **state)
{
	const char *texts[] = {" Is ice hot?\nAnswer: No\n", " Is fire cold?\nAnswer: No"};
	const char *notes[] = {NULL, "(repeats question 2: {balance} %s)"};
	struct steer_judge_context ctx = {"Yes: 7, No: 3", "Is {n} %d?\n{recent}", notes};
	struct strbuf sb = STRBUF_INIT;
	size_t size = 0;

	(void)state;
	assert_int_equal(steer_judge_prompt("D={document}|B={balance}|R={recent}|O={options}|{n}",
					    "doc {options}", texts, 2, &ctx, &sb, &size),
			 0);
	assert_string_equal(sb.data, "D=doc {options}|B=Yes: 7, No: 3|R=Is {n} %d?\n{recent}|"
				     "O=1.  Is ice hot?\nAnswer: No\n\n\n"
				     "2.  Is fire cold?\nAnswer: No\n"
				     "(repeats question 2: {balance} %s)|2");
	assert_int_equal(size, sb.len);

	/* no context: the places are empty, the options bare */
	strbuf_reset(&sb);
	assert_int_equal(
	    steer_judge_prompt("[{balance}][{recent}]{options}", "", texts, 2, NULL, &sb, NULL), 0);
	assert_string_equal(sb.data, "[][]1.  Is ice hot?\nAnswer: No\n\n\n"
				     "2.  Is fire cold?\nAnswer: No");
	strbuf_release(&sb);
}

/* A {recent} too large for a prompt is refused like any other. */
static void test_judge_prompt_cap(void **state)
{
	const char *texts[] = {"x"};
	struct steer_judge_context ctx = {"", NULL, NULL};
	struct strbuf sb = STRBUF_INIT;
	char *big = malloc(TASK_PROMPT_MAX / 2 + 1);
	size_t size = 0;

	(void)state;
	memset(big, 'q', TASK_PROMPT_MAX / 2);
	big[TASK_PROMPT_MAX / 2] = '\0';
	ctx.recent = big;
	assert_int_equal(
	    steer_judge_prompt("{recent}{recent}{recent}{options}", "", texts, 1, &ctx, &sb, &size),
	    -1);
	assert_true(size > TASK_PROMPT_MAX);
	assert_int_equal(sb.len, 0);
	free(big);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_balance_and_recent), cmocka_unit_test(test_recent_is_capped),
	    cmocka_unit_test(test_candidate_flags),    cmocka_unit_test(test_task_threshold),
	    cmocka_unit_test(test_marks_and_notes),    cmocka_unit_test(test_judge_prompt_places),
	    cmocka_unit_test(test_judge_prompt_cap),   cmocka_unit_test(test_steps_match_each_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

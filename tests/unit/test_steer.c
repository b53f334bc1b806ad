#include "testutil.h"

#include "weft/steer.h"

static void test_candidate_text(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	steer_candidate_text(":", "Yes", &sb);
	assert_string_equal(sb.data, " Yes");
	strbuf_reset(&sb);
	steer_candidate_text(":", " Yes", &sb);
	assert_string_equal(sb.data, " Yes");
	strbuf_reset(&sb);
	steer_candidate_text("\n", "Yes", &sb);
	assert_string_equal(sb.data, "Yes");
	strbuf_reset(&sb);
	steer_candidate_text("", "Yes", &sb);
	assert_string_equal(sb.data, "Yes");
	strbuf_release(&sb);
}

static void test_choose_records_who(void **state)
{
	struct tree *t = tree_new();
	uint32_t r, a, b, a1;
	struct tree_step *s;

	(void)state;
	r = tree_add(t, TREE_NONE, "r", "Q:", 2);
	a = tree_add(t, r, "a", " A", 2);
	b = tree_add(t, r, "b", " B", 2);
	s = tree_step_get(t, r);
	tree_step_add_candidate(s, a, 0.7, 1);
	tree_step_add_candidate(s, b, 0.3, 1);
	s->judge_pick = a;

	assert_int_equal(steer_choose(t, b, TREE_PICKER_HUMAN), 0);
	assert_int_equal(s->final_pick, b);
	assert_int_equal(s->picker, TREE_PICKER_HUMAN);
	assert_true(tree_node(t, b)->flags & TREE_HUMAN_PICK);
	assert_int_equal(tree_path_tip(t), b);
	assert_int_equal(t->focus, b);
	assert_int_equal(steer_path_steps(t), 1);

	/* changing one's mind moves the mark and the path */
	assert_int_equal(steer_choose(t, a, TREE_PICKER_AI), 0);
	assert_false(tree_node(t, b)->flags & TREE_HUMAN_PICK);
	assert_false(tree_node(t, a)->flags & TREE_HUMAN_PICK);
	assert_int_equal(s->picker, TREE_PICKER_AI);
	assert_int_equal(tree_path_tip(t), a);

	a1 = tree_add(t, a, "a1", " x", 2);
	assert_int_equal(steer_choose(t, a1, TREE_PICKER_AI), 0);
	assert_int_equal(steer_path_steps(t), 2);
	assert_int_equal(steer_choose(t, r, TREE_PICKER_AI), -1);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_candidate_text),
	    cmocka_unit_test(test_choose_records_who),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

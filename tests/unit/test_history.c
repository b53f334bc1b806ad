#include "testutil.h"

#include "weft/history.h"
#include "weft/tree.h"

/* r -> a -> (a1, a2), r -> b */
static struct tree *small_tree(uint32_t *r, uint32_t *a, uint32_t *b, uint32_t *a1, uint32_t *a2)
{
	struct tree *t = tree_new();

	*r = tree_add(t, TREE_NONE, "r", "R", 1);
	*a = tree_add(t, *r, "a", " a", 2);
	*b = tree_add(t, *r, "b", " b", 2);
	*a1 = tree_add(t, *a, "a1", " 1", 2);
	*a2 = tree_add(t, *a, "a2", " 2", 2);
	return t;
}

static void test_flag_undo_redo(void **state)
{
	struct history h;
	uint32_t r, a, b, a1, a2;
	struct tree *t = small_tree(&r, &a, &b, &a1, &a2);

	(void)state;
	history_init(&h);
	assert_int_equal(history_undo(&h, t), -1);
	history_set_flag(&h, t, b, TREE_BOOKMARK, 1);
	assert_true(tree_node(t, b)->flags & TREE_BOOKMARK);
	assert_int_equal(history_undo_count(&h), 1);
	assert_int_equal(history_undo(&h, t), 0);
	assert_false(tree_node(t, b)->flags & TREE_BOOKMARK);
	assert_int_equal(history_redo(&h, t), 0);
	assert_true(tree_node(t, b)->flags & TREE_BOOKMARK);
	assert_int_equal(history_redo(&h, t), -1);
	history_release(&h);
	tree_free(t);
}

static void test_pick_action_and_focus(void **state)
{
	struct history h;
	uint32_t r, a, b, a1, a2;
	struct tree *t = small_tree(&r, &a, &b, &a1, &a2);
	struct tree_step *s;

	(void)state;
	history_init(&h);
	tree_set_focus(t, a);
	tree_path_through(t, a);
	history_begin(&h, t);
	history_set_pick(&h, t, a, a2, TREE_PICKER_HUMAN);
	history_set_flag(&h, t, a2, TREE_HUMAN_PICK, 1);
	tree_path_through(t, a2);
	tree_set_focus(t, a2);
	history_end(&h, t);
	s = tree_step_get(t, a);
	assert_int_equal(s->final_pick, a2);
	assert_int_equal(s->picker, TREE_PICKER_HUMAN);

	assert_int_equal(history_undo(&h, t), 0); /* the whole action */
	s = tree_step_get(t, a);
	assert_int_equal(s->final_pick, TREE_NONE);
	assert_int_equal(s->picker, TREE_PICKER_NONE);
	assert_false(tree_node(t, a2)->flags & TREE_HUMAN_PICK);
	assert_int_equal(t->focus, a);
	assert_int_equal(tree_path_tip(t), a); /* the path as it was */

	assert_int_equal(history_redo(&h, t), 0);
	assert_int_equal(tree_step_get(t, a)->final_pick, a2);
	assert_true(tree_node(t, a2)->flags & TREE_HUMAN_PICK);
	assert_int_equal(t->focus, a2);
	assert_int_equal(tree_path_tip(t), a2);
	history_release(&h);
	tree_free(t);
}

/* Choosing a branch changes only the chosen path: still one action, undone
 * and redone like any other.  Moving the cursor alone is no action. */
static void test_choose_branch_is_an_action(void **state)
{
	struct history h;
	uint32_t r, a, b, a1, a2;
	struct tree *t = small_tree(&r, &a, &b, &a1, &a2);
	uint32_t branch[3];

	(void)state;
	history_init(&h);
	tree_path_through(t, a1);
	history_begin(&h, t);
	tree_set_focus(t, a2);
	history_end(&h, t);
	assert_int_equal(history_undo_count(&h), 0);
	assert_int_equal(tree_path_tip(t), a1);

	branch[0] = r;
	branch[1] = a;
	branch[2] = a2;
	history_begin(&h, t);
	assert_int_equal(tree_set_path(t, branch, 3), 0);
	history_end(&h, t);
	assert_int_equal(history_undo_count(&h), 1);
	assert_int_equal(history_undo(&h, t), 0);
	assert_int_equal(tree_path_tip(t), a1);
	assert_int_equal(history_redo(&h, t), 0);
	assert_int_equal(tree_path_tip(t), a2);
	history_release(&h);
	tree_free(t);
}

static void test_prune_and_add(void **state)
{
	struct history h;
	uint32_t r, a, b, a1, a2, e;
	struct tree *t = small_tree(&r, &a, &b, &a1, &a2);

	(void)state;
	history_init(&h);
	tree_set_focus(t, a1);
	tree_path_through(t, a1);
	assert_int_equal(history_prune(&h, t, a), 0);
	assert_true(tree_is_pruned(t, a1));
	assert_int_equal(t->focus, r);
	assert_int_equal(history_prune(&h, t, r), -1); /* the root: nothing recorded */
	assert_int_equal(history_undo_count(&h), 1);
	assert_int_equal(history_undo(&h, t), 0);
	assert_false(tree_is_pruned(t, a1));
	assert_int_equal(t->focus, a1); /* focus and path come back */
	assert_int_equal(t->path_len, 3);

	/* a new action drops the redo list */
	e = tree_add(t, a, NULL, " edited", 7);
	history_added(&h, t, e);
	assert_int_equal(history_redo(&h, t), -1);
	assert_int_equal(history_undo(&h, t), 0);
	assert_true(tree_is_pruned(t, e));
	assert_int_equal(history_redo(&h, t), 0);
	assert_false(tree_is_pruned(t, e));

	/* an empty action leaves nothing */
	history_begin(&h, t);
	history_end(&h, t);
	assert_int_equal(history_undo_count(&h), 1);
	history_release(&h);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flag_undo_redo),
	    cmocka_unit_test(test_pick_action_and_focus),
	    cmocka_unit_test(test_choose_branch_is_an_action),
	    cmocka_unit_test(test_prune_and_add),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

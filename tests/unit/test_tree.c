#include "testutil.h"

#include "weft/strbuf.h"
#include "weft/tree.h"

static void test_add_find_document(void **state)
{
	struct tree *t = tree_new();
	struct strbuf doc = STRBUF_INIT;
	uint32_t root, a, b, c;

	(void)state;
	root = tree_add(t, TREE_NONE, "r", "Hello", 5);
	assert_int_equal(root, 0);
	assert_int_equal(tree_add(t, TREE_NONE, "r2", "x", 1), TREE_NONE); /* one root */
	a = tree_add(t, root, "a", " world", 6);
	b = tree_add(t, root, "b", " there", 6);
	c = tree_add(t, a, NULL, "!", 1);
	assert_int_not_equal(c, TREE_NONE);
	assert_int_equal(tree_add(t, root, "a", "dup", 3), TREE_NONE);
	assert_int_equal(tree_find(t, "a"), a);
	assert_int_equal(tree_find(t, "b"), b);
	assert_int_equal(tree_find(t, "nope"), TREE_NONE);
	assert_int_equal(tree_find(t, tree_node(t, c)->id), c);
	tree_document(t, c, &doc);
	assert_string_equal(doc.data, "Hello world!");
	assert_int_equal(tree_depth(t, c), 2);
	assert_int_equal(tree_child_at(t, root, 1), b);
	assert_int_equal(tree_visible_children(t, root), 2);
	strbuf_release(&doc);
	tree_free(t);
}

static int collect(const struct tree *t, uint32_t i, void *ctx)
{
	struct strbuf *sb = ctx;

	strbuf_addstr(sb, tree_node(t, i)->id);
	return 0;
}

static void test_walk_prune_focus(void **state)
{
	struct tree *t = tree_new();
	struct strbuf order = STRBUF_INIT;
	uint32_t r, a, b, a1, a2;

	(void)state;
	r = tree_add(t, TREE_NONE, "r", "", 0);
	a = tree_add(t, r, "a", "", 0);
	b = tree_add(t, r, "b", "", 0);
	a1 = tree_add(t, a, "1", "", 0);
	a2 = tree_add(t, a, "2", "", 0);
	tree_walk(t, collect, &order);
	assert_string_equal(order.data, "ra12b");

	/* the cursor moves; the chosen path (the dataset) does not */
	tree_set_focus(t, a2);
	assert_int_equal(t->focus, a2);
	assert_int_equal(t->path_len, 1);
	tree_set_focus(t, b);
	assert_int_equal(t->path_len, 1);
	/* a decision takes the path through a node */
	tree_path_through(t, a2);
	assert_int_equal(t->path_len, 3);
	assert_int_equal(tree_path_tip(t), a2);
	tree_path_through(t, a); /* on the path: the path stays */
	assert_int_equal(t->path_len, 3);
	tree_set_focus(t, a2);

	assert_int_equal(tree_prune(t, a), 0);
	assert_true(tree_is_pruned(t, a1));
	assert_int_equal(t->focus, r);
	assert_int_equal(t->path_len, 1);
	strbuf_reset(&order);
	tree_walk(t, collect, &order);
	assert_string_equal(order.data, "rb");
	assert_int_equal(tree_visible_children(t, r), 1);
	assert_int_equal(tree_prune(t, r), -1);
	tree_unprune(t, a);
	strbuf_reset(&order);
	tree_walk(t, collect, &order);
	assert_string_equal(order.data, "ra12b");
	(void)b;
	(void)a1;
	strbuf_release(&order);
	tree_free(t);
}

static void test_steps_and_metadata(void **state)
{
	struct tree *t = tree_new();
	struct tree_step *s;
	uint32_t r, c1, c2;

	(void)state;
	r = tree_add(t, TREE_NONE, "r", "", 0);
	c1 = tree_add(t, r, NULL, " A", 2);
	c2 = tree_add(t, r, NULL, " B", 2);
	s = tree_step_get(t, r);
	assert_ptr_equal(s, tree_step_get(t, r));
	tree_step_add_candidate(s, c1, 0, 0);
	tree_step_add_candidate(s, c2, 0.75, 1);
	assert_int_equal(s->count, 2);
	assert_non_null(s->scores);
	assert_true(s->scores[0] == 0.0);
	assert_true(s->scores[1] == 0.75);
	tree_step_set_str(&s->judge_raw, "2");
	s->judge_pick = c2;
	s->final_pick = c1;
	s->picker = TREE_PICKER_HUMAN;
	tree_set_score(t, c2, 0.75, 1);
	tree_set_model(t, c1, "gpt-x");
	tree_set_flag(t, c1, TREE_BOOKMARK, 1);
	assert_true(tree_node(t, c1)->flags & TREE_BOOKMARK);
	tree_set_flag(t, c1, TREE_BOOKMARK, 0);
	assert_false(tree_node(t, c1)->flags & TREE_BOOKMARK);
	assert_string_equal(tree_node(t, c1)->model, "gpt-x");
	tree_set_name(t, "n");
	tree_set_weft_json(t, "{\"format\":1}");
	tree_free(t);
}

static void test_many_nodes_and_deep_chain(void **state)
{
	struct tree *t = tree_new();
	struct strbuf doc = STRBUF_INIT;
	uint32_t prev, i;
	char id[32];

	(void)state;
	prev = tree_add(t, TREE_NONE, "root", "x", 1);
	for (i = 0; i < 200000; i++) {
		snprintf(id, sizeof(id), "n%u", i);
		prev = tree_add(t, prev, id, "y", 1); /* a 200,000-deep chain */
		assert_int_not_equal(prev, TREE_NONE);
	}
	assert_int_equal(tree_find(t, "n123456"), 123457);
	tree_document(t, prev, &doc);
	assert_int_equal(doc.len, 200001);
	tree_path_through(t, prev);
	assert_int_equal(t->path_len, 200001);
	strbuf_release(&doc);
	tree_free(t);
}

/* ---- the id table ------------------------------------------------------- */

struct hashed_id {
	uint32_t hash;
	uint32_t n;
};

static int by_hash(const void *a, const void *b)
{
	const struct hashed_id *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : (x->n > y->n) - (x->n < y->n);
}

/* Two different ids whose hashes are equal (a birthday search over
 * 300,000 ids finds about ten such pairs among 2^32 hashes). */
static int colliding_ids(char *a, char *b, size_t size)
{
	const uint32_t n = 300000;
	struct hashed_id *h = calloc(n, sizeof(*h));
	uint32_t i;
	int found = 0;

	assert_non_null(h);
	for (i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "id-%u", i);
		h[i].hash = tree_id_hash(id, strlen(id));
		h[i].n = i;
	}
	qsort(h, n, sizeof(*h), by_hash);
	for (i = 1; i < n && !found; i++) {
		if (h[i].hash != h[i - 1].hash)
			continue;
		snprintf(a, size, "id-%u", h[i - 1].n);
		snprintf(b, size, "id-%u", h[i].n);
		found = 1;
	}
	free(h);
	return found;
}

/* Ids with the same hash are still told apart by their bytes. */
static void test_id_table_collisions(void **state)
{
	struct tree *t = tree_new();
	char a[32], b[32];
	uint32_t r, ia, ib;

	(void)state;
	assert_true(colliding_ids(a, b, sizeof(a)));
	assert_string_not_equal(a, b);
	assert_int_equal(tree_id_hash(a, strlen(a)), tree_id_hash(b, strlen(b)));
	r = tree_add(t, TREE_NONE, "r", "", 0);
	assert_int_equal(tree_find(t, b), TREE_NONE); /* a's twin is not there yet */
	ia = tree_add(t, r, a, "A", 1);
	assert_int_equal(tree_find(t, b), TREE_NONE);
	ib = tree_add(t, r, b, "B", 1);
	assert_int_not_equal(ib, TREE_NONE); /* not taken for a duplicate */
	assert_int_equal(tree_find(t, a), ia);
	assert_int_equal(tree_find(t, b), ib);
	assert_int_equal(tree_add(t, r, a, "again", 5), TREE_NONE);
	assert_int_equal(tree_add(t, r, b, "again", 5), TREE_NONE);
	/* and after the table grows (the hashes are kept, not recomputed) */
	tree_reserve(t, 100000);
	assert_int_equal(tree_find(t, a), ia);
	assert_int_equal(tree_find(t, b), ib);
	tree_free(t);
}

/* The table grows from 64 slots as nodes come, keeps every index, and
 * tree_reserve only ever grows it. */
static void test_id_table_growth(void **state)
{
	struct tree *t = tree_new();
	uint32_t i, r, n = 70000;
	char id[32];
	size_t cap;

	(void)state;
	r = tree_add(t, TREE_NONE, "root", "", 0);
	cap = t->slot_cap;
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "n%u", i);
		assert_int_equal(tree_add(t, r, id, "", 0), i + 1);
		if (i == 1000) {
			assert_true(t->slot_cap > cap);
			tree_reserve(t, 10); /* smaller: nothing changes */
			assert_true(t->slot_cap >= 2 * (size_t)t->count);
		}
	}
	assert_true(t->slot_cap >= 2 * (size_t)t->count);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "n%u", i);
		assert_int_equal(tree_find(t, id), i + 1);
		snprintf(id, sizeof(id), "m%u", i);
		assert_int_equal(tree_find(t, id), TREE_NONE);
	}
	cap = t->slot_cap;
	tree_reserve(t, 400000);
	assert_true(t->slot_cap >= 800000 && t->slot_cap > cap);
	assert_true(t->cap >= 400000);
	assert_int_equal(tree_find(t, "n69999"), 70000);
	assert_int_equal(tree_find(t, "root"), r);
	assert_int_equal(tree_add(t, r, "n5", "", 0), TREE_NONE);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_find_document),
	    cmocka_unit_test(test_walk_prune_focus),
	    cmocka_unit_test(test_steps_and_metadata),
	    cmocka_unit_test(test_many_nodes_and_deep_chain),
	    cmocka_unit_test(test_id_table_collisions),
	    cmocka_unit_test(test_id_table_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

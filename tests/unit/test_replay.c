#include "testutil.h"

#include <math.h>

#include "weft/meta.h"
#include "weft/replay.h"
#include "weft/session.h"
#include "weft/steer.h"

/*
 * r -> a (judge 0.6, picked by the AI) | b (0.4)
 * a -> c (judge 0.7) | d (0.3, picked by a person: an override)
 * d -> e | f, a step the judge could not rank; a person picked f
 */
static struct tree *hand_built(void)
{
	struct tree *t = tree_new();
	uint32_t r, a, b, c, d, e, f;
	struct tree_step *s;

	r = tree_add(t, TREE_NONE, "r", "Intro\n", 6);
	a = tree_add(t, r, "a", "Question: A?\nAnswer: Yes\n", 25);
	b = tree_add(t, r, "b", "Question: B?\nAnswer: No\n", 24);
	s = tree_step_get(t, r);
	tree_step_add_candidate(s, a, 0.6, 1);
	tree_step_add_candidate(s, b, 0.4, 1);
	s->judge_pick = a;
	steer_choose(t, a, TREE_PICKER_AI);

	c = tree_add(t, a, "c", "Question: C?\nAnswer: Yes\n", 25);
	d = tree_add(t, a, "d", "Question: D?\nAnswer: No\n", 24);
	s = tree_step_get(t, a);
	tree_step_add_candidate(s, c, 0.7, 1);
	tree_step_add_candidate(s, d, 0.3, 1);
	s->judge_pick = c;
	steer_choose(t, d, TREE_PICKER_HUMAN);

	e = tree_add(t, d, "e", "Question: E?\nAnswer: No\n", 24);
	f = tree_add(t, d, "f", "Question: F?\nAnswer: No\n", 24);
	s = tree_step_get(t, d);
	tree_step_add_candidate(s, e, 0, 0);
	tree_step_add_candidate(s, f, 0, 0);
	tree_step_set_str(&s->needs_human, "the judge gave no usable answer after 3 asks");
	steer_choose(t, f, TREE_PICKER_HUMAN);
	return t;
}

static void test_walk_with_records(void **state)
{
	struct tree *t = hand_built();
	struct replay_walk w;

	(void)state;
	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 3);

	assert_int_equal(w.steps[0].node, tree_find(t, "r"));
	assert_int_equal(w.steps[0].count, 2);
	assert_int_equal(w.steps[0].judge_index, 0);
	assert_int_equal(w.steps[0].final_index, 0);
	assert_int_equal(w.steps[0].picker, TREE_PICKER_AI);
	assert_false(w.steps[0].override);
	assert_true(w.steps[0].has_record);

	assert_int_equal(w.steps[1].judge_pick, tree_find(t, "c"));
	assert_int_equal(w.steps[1].final_pick, tree_find(t, "d"));
	assert_int_equal(w.steps[1].picker, TREE_PICKER_HUMAN);
	assert_true(w.steps[1].override);

	/* a person picking where the judge could not is no override */
	assert_null(w.steps[2].scores);
	assert_int_equal(w.steps[2].judge_index, -1);
	assert_int_equal(w.steps[2].final_index, 1);
	assert_non_null(w.steps[2].needs_human);
	assert_false(w.steps[2].override);

	assert_int_equal(w.overrides, 1);
	assert_int_equal(w.needed_human, 1);
	assert_int_equal(w.scored, 2);
	assert_true(fabs(w.mean_pick_score - (0.6 + 0.3) / 2) < 1e-12);
	assert_true(w.balance_ok);
	assert_int_equal(w.nlabels, 2);
	assert_string_equal(w.labels[0], "Yes");
	assert_int_equal(w.per_class[0], 1); /* A */
	assert_int_equal(w.per_class[1], 2); /* D, F */
	replay_walk_release(&w);
	tree_free(t);
}

/* A step at the tip of the chosen path with candidates and no final pick
 * (generate exited 3, or 1 for a dead judge) is the walk's last step,
 * waiting; a tip with nothing recorded adds none. */
static void test_walk_ends_with_a_waiting_step(void **state)
{
	struct tree *t = hand_built();
	struct replay_walk w;
	struct tree_step *s;
	uint32_t f = tree_find(t, "f"), g, h;

	(void)state;
	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 3);
	assert_int_equal(w.waiting, 0);
	replay_walk_release(&w);

	g = tree_add(t, f, "g", "Question: G?\nAnswer: Yes\n", 25);
	h = tree_add(t, f, "h", "Question: H?\nAnswer: No\n", 24);
	s = tree_step_get(t, f);
	tree_step_add_candidate(s, g, 0, 0);
	tree_step_add_candidate(s, h, 0, 0);
	tree_step_set_str(&s->needs_human, "no option number in the answer");
	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 4);
	assert_int_equal(w.waiting, 1);
	assert_true(w.steps[3].waiting);
	assert_int_equal(w.steps[3].node, f);
	assert_int_equal(w.steps[3].count, 2);
	assert_int_equal(w.steps[3].final_pick, TREE_NONE);
	assert_int_equal(w.steps[3].final_index, -1);
	assert_int_equal(w.steps[3].judge_index, -1);
	assert_false(w.steps[3].override);
	assert_int_equal(w.needed_human, 2);
	assert_int_equal(w.scored, 2); /* the waiting step has no pick to score */
	assert_false(w.steps[2].waiting);
	replay_walk_release(&w);
	tree_free(t);
}

static void test_walk_without_records(void **state)
{
	struct tree *t = tree_new();
	uint32_t r, a, b, c, a1, a2;
	uint32_t path[3];
	struct replay_walk w;

	(void)state;
	r = tree_add(t, TREE_NONE, "r", "Intro\n", 6);
	a = tree_add(t, r, "a", "Question: A?\nAnswer: Yes\n", 25);
	b = tree_add(t, r, "b", "x", 1);
	c = tree_add(t, r, "c", "y", 1);
	a1 = tree_add(t, a, "a1", "Question: Z?\nAnswer: No\n", 24);
	a2 = tree_add(t, a, "a2", "z", 1);
	tree_set_score(t, a1, 0.25, 2);
	tree_set_score(t, a2, 0.75, 1);
	tree_set_flag(t, a2, TREE_JUDGE_PICK, 1);
	tree_set_flag(t, a1, TREE_HUMAN_PICK, 1);
	tree_prune(t, c);
	path[0] = r;
	path[1] = a;
	path[2] = a1;
	assert_int_equal(tree_set_path(t, path, 3), 0);

	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 2);
	/* visible children, the pruned one left out; no scores, no judge */
	assert_int_equal(w.steps[0].count, 2);
	assert_int_equal(w.steps[0].candidates[1], b);
	assert_null(w.steps[0].scores);
	assert_int_equal(w.steps[0].judge_pick, TREE_NONE);
	assert_int_equal(w.steps[0].picker, TREE_PICKER_NONE);
	assert_false(w.steps[0].has_record);
	/* the marks on the nodes tell what is known */
	assert_non_null(w.steps[1].scores);
	assert_int_equal(w.steps[1].judge_pick, a2);
	assert_int_equal(w.steps[1].picker, TREE_PICKER_HUMAN);
	assert_true(w.steps[1].override);
	assert_int_equal(w.overrides, 1);
	assert_int_equal(w.scored, 1);
	assert_true(fabs(w.mean_pick_score - 0.25) < 1e-12);
	assert_int_equal(w.per_class[0], 1);
	assert_int_equal(w.per_class[1], 1);
	replay_walk_release(&w);

	/* a root alone: no steps */
	tree_set_path(t, path, 1);
	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 0);
	assert_int_equal(w.scored, 0);
	replay_walk_release(&w);
	tree_free(t);
}

static void test_spearman(void **state)
{
	double a[] = {0.1, 0.2, 0.3, 0.4}, b[] = {0.4, 0.3, 0.2, 0.1};
	double c[] = {1, 2, 2, 3}, flat[] = {0.25, 0.25, 0.25, 0.25};

	(void)state;
	assert_true(fabs(replay_spearman(a, a, 4) - 1) < 1e-12);
	assert_true(fabs(replay_spearman(a, b, 4) + 1) < 1e-12);
	/* ties take average ranks: ranks of c are 1, 2.5, 2.5, 4 */
	assert_true(fabs(replay_spearman(a, c, 4) - 4.5 / sqrt(5 * 4.5)) < 1e-12);
	assert_true(isnan(replay_spearman(a, flat, 4)));
	assert_true(isnan(replay_spearman(a, b, 1)));
}

static void test_store_beside(void **state)
{
	struct tree *t = hand_built();
	struct replay_walk w;
	struct replay_rejudge rj;
	struct strbuf out = STRBUF_INIT;
	struct tree *back;
	struct errbuf err;
	const struct tree_step *s;
	size_t k;

	(void)state;
	replay_walk_build(t, NULL, &w);
	memset(&rj, 0, sizeof(rj));
	rj.count = w.count;
	rj.verdicts = calloc(w.count, sizeof(*rj.verdicts));
	for (k = 0; k < w.count; k++) {
		rj.verdicts[k].ok = k != 2;
		rj.verdicts[k].pick = k != 2 ? 1 : -1;
		rj.verdicts[k].rank_used = "choice";
		if (k != 2) {
			rj.verdicts[k].scores = calloc(2, sizeof(double));
			rj.verdicts[k].scores[1] = 1;
		} else {
			rj.verdicts[k].error = strdup("judge: no answer");
		}
	}
	/* an earlier re-judging is replaced, other extra keys are kept */
	tree_step_set_str(&tree_node(t, tree_find(t, "r"))->step->extra_json,
			  "\"rejudge\":1,\"note\":\"x\"");
	replay_rejudge_store(t, &w, &rj, "m2", "p.txt");
	session_write(t, &out);
	assert_int_equal(session_load_buffer("mem", out.data, out.len, &back, &err), 0);
	s = tree_node(back, tree_find(back, "r"))->step;
	assert_true(fabs(s->scores[0] - 0.6) < 1e-12); /* the recorded ones */
	assert_int_equal(s->judge_pick, tree_find(back, "a"));
	assert_non_null(strstr(s->extra_json, "\"note\":\"x\""));
	assert_non_null(strstr(s->extra_json, "\"rejudge\":{\"model\":\"m2\""));
	assert_non_null(strstr(s->extra_json, "\"pick\":\"b\""));
	assert_null(strstr(s->extra_json, "\"rejudge\":1"));
	s = tree_node(back, tree_find(back, "d"))->step;
	assert_non_null(strstr(s->extra_json, "\"error\":\"judge: no answer\""));
	tree_free(back);
	strbuf_release(&out);
	replay_rejudge_release(&rj);
	replay_walk_release(&w);
	tree_free(t);
}

static void test_bonsai_fixture(void **state)
{
	const char *dir;
	char path[1024];
	struct tree *t;
	struct errbuf err;
	struct replay_walk w;
	size_t k;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	snprintf(path, sizeof(path), "%s/bonsai.json", dir);
	assert_int_equal(session_load(path, &t, &err), 0);
	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 3);
	for (k = 0; k < w.count; k++) {
		assert_false(w.steps[k].has_record);
		assert_int_equal(w.steps[k].count, tree_visible_children(t, w.steps[k].node));
		assert_int_equal(w.steps[k].final_pick, t->path[k + 1]);
		assert_true(w.steps[k].final_index >= 0);
	}
	replay_walk_release(&w);
	tree_free(t);
}

/*
 * A node with 200,000 children and no decision records (a Bonsai file from
 * elsewhere), then a chain 100,000 steps deep, half with records.  The walk
 * must look at each child a bounded number of times: the quadratic walk
 * (tree_child_at for every child, tree_is_pruned climbing to the root for
 * every candidate) looks at ~2e10 nodes here, which the visits figure
 * shows whatever the machine's speed.
 */
#define WIDE 200000u
#define DEEP 100000u

static void test_walk_is_linear(void **state)
{
	struct tree *t = tree_new();
	uint32_t root, at, pick = TREE_NONE, *path = calloc(DEEP + 2, sizeof(*path));
	struct replay_walk w;
	size_t k, len = 0, children = 0, candidates = 0;
	char id[32];

	(void)state;
	assert_non_null(path);
	root = tree_add(t, TREE_NONE, "r", "Intro\n", 6);
	path[len++] = root;
	for (k = 0; k < WIDE; k++) {
		uint32_t c;

		snprintf(id, sizeof(id), "w%zu", k);
		c = tree_add(t, root, id, " x", 2);
		tree_set_score(t, c, 1.0 / WIDE, 1);
		if (k == 150000)
			tree_set_flag(t, c, TREE_JUDGE_PICK, 1);
		if (k == 190000)
			pick = c;
		if (k % 1000 == 999)
			tree_set_flag(t, c, TREE_PRUNED, 1);
		children++;
	}
	tree_set_flag(t, pick, TREE_HUMAN_PICK, 1);
	path[len++] = pick;
	at = pick;
	for (k = 0; k < DEEP; k++) {
		uint32_t c, other;

		snprintf(id, sizeof(id), "d%zu", k);
		c = tree_add(t, at, id, " y", 2);
		snprintf(id, sizeof(id), "o%zu", k);
		other = tree_add(t, at, id, " z", 2);
		children += 2;
		if (k % 2) {
			struct tree_step *s = tree_step_get(t, at);

			tree_step_add_candidate(s, c, 0.7, 1);
			tree_step_add_candidate(s, other, 0.3, 1);
			s->judge_pick = c;
			s->final_pick = c;
			s->picker = TREE_PICKER_AI;
			candidates += 2;
		}
		path[len++] = c;
		at = c;
	}
	assert_int_equal(tree_set_path(t, path, len), 0);

	replay_walk_build(t, NULL, &w);
	assert_int_equal(w.count, 1 + DEEP);
	assert_int_equal(w.steps[0].count, WIDE - WIDE / 1000);
	assert_false(w.steps[0].has_record);
	assert_int_equal(w.steps[0].final_pick, pick);
	assert_int_equal(w.steps[0].final_index, 190000 - 190);
	assert_int_equal(w.steps[0].judge_index, 150000 - 150);
	assert_int_equal(w.steps[0].picker, TREE_PICKER_HUMAN);
	assert_true(w.steps[0].override);
	assert_non_null(w.steps[0].scores); /* every visible child has one */
	for (k = 1; k < w.count; k++) {
		assert_int_equal(w.steps[k].count, 2);
		assert_int_equal(w.steps[k].final_index, 0);
		assert_int_equal(w.steps[k].has_record, k % 2 == 0);
	}
	assert_int_equal(w.overrides, 1);
	/* each child walked at most twice, each recorded candidate checked once */
	assert_true(w.visits <= 2 * children + candidates);
	replay_walk_release(&w);
	free(path);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk_with_records),
	    cmocka_unit_test(test_walk_ends_with_a_waiting_step),
	    cmocka_unit_test(test_walk_without_records),
	    cmocka_unit_test(test_spearman),
	    cmocka_unit_test(test_store_beside),
	    cmocka_unit_test(test_bonsai_fixture),
	    cmocka_unit_test(test_walk_is_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/curate.h"
#include "weft/dataset.h"
#include "weft/errbuf.h"
#include "weft/pairs.h"
#include "weft/pairstore.h"
#include "weft/similar.h"
#include "weft/tree.h"

/* A session whose chosen path holds five pairs, one node each. */
static struct tree *five_pairs(void)
{
	static const char *texts[] = {
	    " Is water wet?\nAnswer: Yes\nQuestion:",
	    " Is fire cold?\nAnswer: No\nQuestion:",
	    " Is the sky blue on a clear summer day?\nAnswer: Yes\nQuestion:",
	    " Is the sky blue on a clear summer day today?\nAnswer: Yes\nQuestion:",
	    " Do fish swim?\nAnswer: Yes\n",
	};
	static const char *ids[] = {"n1", "n2", "n3", "n4", "n5"};
	struct tree *t = tree_new();
	uint32_t at = tree_add(t, TREE_NONE, "root", "Question:", 9);
	size_t k;

	for (k = 0; k < 5; k++) {
		at = tree_add(t, at, ids[k], texts[k], strlen(texts[k]));
		tree_path_through(t, at);
	}
	return t;
}

static void decide(struct tree *t, const char *id, const char *q, enum pairstore_decision d,
		   const char *label)
{
	struct pairstore_mark m = {0};
	struct errbuf err = {{0}};

	m.question = (char *)q;
	m.decision = d;
	m.label = (char *)label;
	assert_int_equal(pairstore_set(t, NULL, tree_find(t, id), &m, NULL, &err), 0);
}

static void verdict(struct tree *t, const char *id, const char *q, const char *a, double p)
{
	struct pairstore_verdict v = {0};
	struct errbuf err = {{0}};

	v.question = (char *)q;
	v.answer = (char *)a;
	v.verifier = (char *)"m";
	v.p = p;
	assert_int_equal(pairstore_add_verdict(t, NULL, tree_find(t, id), &v, &err), 0);
}

static void extract(struct tree *t, struct pairs_result *r)
{
	struct pairs_options o;
	struct errbuf err = {{0}};

	pairs_options_init(&o);
	o.preamble = "";
	assert_int_equal(dataset_tree_pairs(t, &o, r, &err), 0);
}

/* With no decisions the pairs are pairs_extract's; a near-duplicate is
 * flagged and kept. */
static void test_no_decisions(void **state)
{
	struct tree *t = five_pairs();
	struct pairs_result r;

	(void)state;
	extract(t, &r);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.per_class[0], 4);
	assert_int_equal(r.rejected + r.relabelled + r.below_verify, 0);
	assert_true(r.curated);
	assert_int_equal(r.near_dups, 1);
	assert_true(r.pairs[3].near_dup);
	assert_int_equal(r.pairs[3].near_of, 2);
	assert_string_equal(r.pairs[3].near_source, SIMILAR_SOURCE_LEXICAL);
	assert_true(r.pairs[3].near_score >= 0.8);
	pairs_result_release(&r);
	tree_free(t);
}

/* Rejected left out (in line order among the dropped), relabelled with the
 * new label and the old remembered, counts and per_class follow. */
static void test_decisions(void **state)
{
	struct tree *t = five_pairs();
	struct pairs_result r;
	struct curate_options co;

	(void)state;
	decide(t, "n1", "Is water wet?", PAIRSTORE_REJECTED, NULL);
	decide(t, "n2", "Is fire cold?", PAIRSTORE_RELABELLED, "Yes");
	decide(t, "n5", "Do fish swim?", PAIRSTORE_RELABELLED, "Maybe"); /* not a label */
	decide(t, "n3", "Another question?", PAIRSTORE_REJECTED, NULL);	 /* no such pair */
	extract(t, &r);
	assert_int_equal(r.count, 4);
	assert_string_equal(r.pairs[0].question, "Is fire cold?");
	assert_int_equal(r.pairs[0].class_index, 0);
	assert_true(r.pairs[0].relabelled);
	assert_int_equal(r.pairs[0].original_class, 1);
	assert_int_equal(r.pairs[0].decision, PAIRSTORE_RELABELLED);
	assert_int_equal(r.pairs[3].class_index, 0);
	assert_false(r.pairs[3].relabelled);
	assert_int_equal(r.per_class[0], 4);
	assert_int_equal(r.per_class[1], 0);
	assert_int_equal(r.rejected, 1);
	assert_int_equal(r.relabelled, 1);
	assert_int_equal(r.ndropped, 1);
	assert_int_equal(r.dropped[0].status, PAIR_REJECTED);
	assert_string_equal(r.dropped[0].question, "Is water wet?");
	pairs_result_release(&r);

	/* audits: the rejected pair stays, marked, out of per_class */
	extract(t, &r);
	pairs_result_release(&r);
	{
		struct pairs_options o;
		struct errbuf err = {{0}};
		struct dataset_input in;

		pairs_options_init(&o);
		o.preamble = "";
		dataset_input_from_tree(t, &in);
		o.start = in.start;
		assert_int_equal(pairs_extract(in.doc, in.len, in.spans, in.nspans, &o, &r, &err),
				 0);
		dataset_input_release(&in);
	}
	curate_options_init(&co);
	co.include_rejected = 1;
	curate_pairs(&r, t, &co);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.pairs[0].decision, PAIRSTORE_REJECTED);
	assert_int_equal(r.per_class[0] + r.per_class[1], 4);
	assert_int_equal(r.rejected, 1);
	pairs_result_release(&r);
	tree_free(t);
}

/* --min-verify leaves out pairs whose latest p is below it, keeps pairs
 * without a verdict. */
static void test_min_verify(void **state)
{
	struct tree *t = five_pairs();
	struct pairs_result r;
	struct pairs_options o;
	struct curate_options co;
	struct dataset_input in;
	struct errbuf err = {{0}};

	(void)state;
	verdict(t, "n1", "Is water wet?", "Yes", 0.9);
	verdict(t, "n2", "Is fire cold?", "No", 0.2);
	verdict(t, "n3", "Is the sky blue on a clear summer day?", "No",
		0.1); /* another answer: not this pair */
	pairs_options_init(&o);
	o.preamble = "";
	dataset_input_from_tree(t, &in);
	o.start = in.start;
	assert_int_equal(pairs_extract(in.doc, in.len, in.spans, in.nspans, &o, &r, &err), 0);
	dataset_input_release(&in);
	curate_options_init(&co);
	co.min_verify = 0.5;
	co.near_threshold = 0;
	curate_pairs(&r, t, &co);
	assert_int_equal(r.count, 4);
	assert_true(r.pairs[0].has_verdict);
	assert_true(r.pairs[0].verify_p == 0.9);
	assert_false(r.pairs[1].has_verdict);
	assert_int_equal(r.below_verify, 1);
	assert_int_equal(r.dropped[0].status, PAIR_BELOW_VERIFY);
	assert_int_equal(r.near_dups, 0);
	pairs_result_release(&r);
	tree_free(t);
}

static void test_similarity(void **state)
{
	(void)state;
	assert_true(similar_text("Is the sky blue?", "is the  SKY blue") == 1.0);
	assert_true(similar_text("Is the sky blue?", "Do fish swim?") == 0.0);
	/* {is the, the sky, sky blue} vs the same plus {blue today}: 3/4 */
	assert_true(fabs(similar_text("Is the sky blue?", "Is the sky blue today?") - 0.75) <
		    1e-12);
	assert_true(similar_text("", "") == 0.0);
	assert_true(similar_text("Why?", "why") == 1.0);
}

/* The join finds what comparing every pair finds, the best and earliest
 * earlier text, and skips texts not eligible. */
static void test_near_duplicates(void **state)
{
	const char *texts[] = {
	    "Is the sky blue on a clear day?",	     "Do fish swim in the sea?",
	    "Is the sky blue on a clear day today?", "Is the sky blue on a clear day?!",
	    "Do fish swim in the sea at night?",     "Completely different words here",
	};
	unsigned char eligible[] = {0, 1, 1, 1, 1, 1};
	struct similar_match m[6];
	size_t i, j;

	(void)state;
	similar_near_duplicates(texts, 6, NULL, 0.7, m);
	for (i = 0; i < 6; i++) {
		double best = 0;
		size_t of = 0;

		for (j = 0; j < i; j++) {
			double s = similar_text(texts[i], texts[j]);

			if (s >= 0.7 && s > best) {
				best = s;
				of = j;
			}
		}
		assert_int_equal(m[i].found, best > 0);
		if (best > 0) {
			assert_int_equal(m[i].of, of);
			assert_true(m[i].score == best);
		}
	}
	assert_true(m[3].found && m[3].of == 0 && m[3].score == 1.0);
	similar_near_duplicates(texts, 6, eligible, 0.7, m);
	assert_true(m[3].found && m[3].of == 2); /* text 0 is not eligible */
	similar_near_duplicates(texts, 6, NULL, 0, m);
	assert_false(m[3].found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_decisions),    cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_min_verify),	    cmocka_unit_test(test_similarity),
	    cmocka_unit_test(test_near_duplicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/rank.h"

static void test_choice(void **state)
{
	struct errbuf err;
	double s[5];
	size_t pick = 99;

	(void)state;
	assert_int_equal(rank_parse_choice("3", 5, s, &pick, &err), 0);
	assert_int_equal(pick, 2);
	assert_true(s[2] == 1.0 && s[0] == 0.0);
	assert_int_equal(rank_parse_choice("  Option 2: it is new", 5, s, &pick, &err), 0);
	assert_int_equal(pick, 1);
	assert_int_equal(rank_parse_choice("(4)", 5, s, &pick, &err), 0);
	assert_int_equal(pick, 3);
	assert_int_equal(rank_parse_choice("The best is 5.", 5, s, &pick, &err), 0);
	assert_int_equal(pick, 4);
	assert_int_equal(rank_parse_choice("I pick 1, clearly 1", 5, s, &pick, &err), 0);
	assert_int_equal(pick, 0);

	assert_int_equal(rank_parse_choice("6", 5, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "outside 1..5"));
	assert_int_equal(rank_parse_choice("0", 5, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "outside"));
	assert_int_equal(rank_parse_choice("   ", 5, s, &pick, &err), -1);
	assert_string_equal(err.msg, "empty answer");
	assert_int_equal(rank_parse_choice("the second one", 5, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "no option number"));
	assert_int_equal(rank_parse_choice("maybe 2 or 3", 5, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "several"));
	assert_int_equal(rank_parse_choice("99999999999999", 5, s, &pick, &err), -1);
}

static void test_logprobs(void **state)
{
	struct rank_alt alts[] = {
	    {"2", log(0.5)}, {" 1", log(0.2)}, {"1", log(0.1)}, {"x", log(0.1)}, {"7", log(0.1)},
	};
	struct errbuf err;
	double s[3];
	size_t pick = 99;

	(void)state;
	assert_int_equal(rank_from_top_logprobs(alts, 5, 3, s, &pick, &err), 0);
	assert_int_equal(pick, 1);
	assert_true(fabs(s[0] - 0.3 / 0.8) < 1e-12);
	assert_true(fabs(s[1] - 0.5 / 0.8) < 1e-12);
	assert_true(s[2] == 0.0);
	assert_int_equal(rank_from_top_logprobs(alts + 3, 2, 3, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "no option number"));
}

static void test_scores(void **state)
{
	struct errbuf err;
	double s[3];
	size_t pick = 99;

	(void)state;
	assert_int_equal(rank_parse_scores("Scores: [1, 3, 0]", 3, s, &pick, &err), 0);
	assert_int_equal(pick, 1);
	assert_true(fabs(s[1] - 0.75) < 1e-12);
	assert_int_equal(
	    rank_parse_scores("{\"1\": 0.2, \"3\": 0.6, \"2\": 0.2}", 3, s, &pick, &err), 0);
	assert_int_equal(pick, 2);
	assert_int_equal(rank_parse_scores("{\"1\": 0.2, \"3\": 0.6}", 3, s, &pick, &err), -1);
	assert_non_null(strstr(err.msg, "2 of 3"));
	assert_int_equal(rank_parse_scores("[1, 2]", 3, s, &pick, &err), -1);
	assert_int_equal(rank_parse_scores("[0, 0, 0]", 3, s, &pick, &err), -1);
	assert_int_equal(rank_parse_scores("[1, -2, 3]", 3, s, &pick, &err), -1);
	assert_int_equal(rank_parse_scores("{\"4\": 1}", 3, s, &pick, &err), -1);
	assert_int_equal(rank_parse_scores("no json", 3, s, &pick, &err), -1);
}

static void test_merge_and_format(void **state)
{
	const char *texts[] = {" a", " b", " a", " c", " b"};
	size_t option_of[5], first[5];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(rank_merge(texts, 5, option_of, first), 3);
	assert_int_equal(option_of[2], 0);
	assert_int_equal(option_of[4], 1);
	assert_int_equal(option_of[3], 2);
	assert_int_equal(first[2], 3);
	rank_format_options(texts, first, 3, &sb);
	assert_string_equal(sb.data, "1.  a\n\n2.  b\n\n3.  c");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choice),
	    cmocka_unit_test(test_logprobs),
	    cmocka_unit_test(test_scores),
	    cmocka_unit_test(test_merge_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

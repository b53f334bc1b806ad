#include "testutil.h"

#include "weft/maptext.h"
#include "weft/strbuf.h"

/* The summary holds the count, the scatter, the cluster table, a planted
 * near-duplicate, and no byte of a terminal escape from a question. */
static void test_summary(void **state)
{
	const char *q[8] = {"Do cats purr when happy?",	 "Do cats sleep all day?",
			    "Do cats like warm milk?",	 "Do cats purr when happy?!",
			    "Is the moon made of rock?", "Is the moon made of rock? \x1b\x07",
			    "Is the moon far away?",	 "Is the moon bright tonight?"};
	size_t labels[8] = {0, 0, 0, 0, 1, 1, 1, 0};
	const char *names[2] = {"Yes", "No"};
	struct map_input in = {0};
	struct map m = {0};
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;

	(void)state;
	in.questions = q;
	in.labels = labels;
	in.n = 8;
	in.label_names = names;
	in.nlabels = 2;
	in.clusters = 2;
	in.near = 0.8;
	assert_int_equal(map_build(&in, &m, &err), 0);
	map_format_text(&m, &in, &sb);
	assert_non_null(strstr(sb.data, "8 pairs, 2 clusters"));
	assert_non_null(strstr(sb.data, "\xe2\xa0")); /* braille */
	assert_non_null(strstr(sb.data, "labels: Yes  No\n"));
	assert_non_null(strstr(sb.data, "\nclusters:\n"));
	assert_non_null(strstr(sb.data, "pair 4 ~ pair 1"));
	assert_non_null(strstr(sb.data, "pair 6 ~ pair 5")); /* the escape's, shown safe */
	assert_non_null(strstr(sb.data, "possible shortcuts"));
	assert_null(strchr(sb.data, '\x1b'));
	strbuf_release(&sb);
	map_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/curate.h"
#include "weft/dataset.h"
#include "weft/pairs.h"
#include "weft/similar.h"

/* The pairs of a text with labels (comma list), curated as a text file's. */
static void extract(const char *text, const char *labels, struct pairs_result *r)
{
	struct pairs_options o;
	struct curate_options co;
	struct errbuf err;
	char *storage = NULL;

	pairs_options_init(&o);
	o.preamble = "";
	assert_int_equal(pairs_options_set_labels(&o, labels, &storage, &err), 0);
	assert_int_equal(pairs_extract(text, strlen(text), NULL, 0, &o, r, &err), 0);
	curate_options_init(&co);
	curate_pairs(r, NULL, &co);
	free(storage);
}

static void test_match_earlier(void **state)
{
	const char *earlier[] = {"Is water wet?", "Is the sky blue on a clear summer day?",
				 "Do fish swim?"};
	const char *texts[] = {"Is water wet?", "  IS the sky   BLUE on a clear summer day ?!",
			       "Is the sky blue on a clear summer day today?", "Do cats fly?",
			       "Do cats fly?"};
	struct dataset_match m[5];

	(void)state;
	assert_int_equal(dataset_match_earlier(earlier, 3, texts, 5, 0.8, m), 0);
	assert_int_equal(m[0].kind, DATASET_REPEAT_EXACT);
	assert_int_equal(m[0].of, 0);
	assert_int_equal(m[1].kind, DATASET_REPEAT_NORMALISED);
	assert_int_equal(m[1].of, 1);
	assert_true(m[1].similarity == 1.0);
	/* 8 shared word pairs of 9 */
	assert_int_equal(m[2].kind, DATASET_REPEAT_NEAR);
	assert_int_equal(m[2].of, 1);
	assert_true(fabs(m[2].similarity - 8.0 / 9.0) < 1e-12);
	assert_true(fabs(m[2].similarity - similar_text(texts[2], earlier[1])) < 1e-12);
	assert_string_equal(m[2].source, SIMILAR_SOURCE_LEXICAL);
	/* new texts are not compared with each other */
	assert_int_equal(m[3].kind, DATASET_NEW);
	assert_int_equal(m[4].kind, DATASET_NEW);
	/* above the similarity: not near; 0: no near search at all */
	dataset_match_earlier(earlier, 3, texts, 5, 0.9, m);
	assert_int_equal(m[2].kind, DATASET_NEW);
	assert_int_equal(m[1].kind, DATASET_REPEAT_NORMALISED);
	dataset_match_earlier(earlier, 3, texts, 5, 0, m);
	assert_int_equal(m[2].kind, DATASET_NEW);
	assert_string_equal(dataset_repeat_name(DATASET_REPEAT_NEAR), "near");
}

static const char first[] = "Question: Is water wet?\nAnswer: Yes\n"
			    "Question: Is the sky blue on a clear summer day?\nAnswer: No\n"
			    "Question: Is water wet?\nAnswer: Yes\n"
			    "Question: Do fish swim?\nAnswer: Yes\n";
static const char second[] = "Question: Do birds sing?\nAnswer: No\n"
			     "Question: IS WATER WET\nAnswer: Yes\n"
			     "Question: Do fish swim?\nAnswer: Yes\n"
			     "Question: Is the sky blue on a clear summer day today?\nAnswer: No\n"
			     "Question: Can pigs fly?\nAnswer: Maybe\n"
			     "Question: Is it true?\nAnswer: True\n";

static void test_one_input_is_itself(void **state)
{
	struct pairs_result alone, r;
	struct dataset d;
	struct errbuf err;
	size_t i;

	(void)state;
	extract(first, "Yes,No", &alone);
	extract(first, "Yes,No", &r);
	dataset_init(&d);
	assert_int_equal(dataset_add(&d, "a.txt", NULL, &r, 0.8, &err), 0);
	assert_int_equal(d.r.count, alone.count);
	assert_int_equal(d.r.ndropped, alone.ndropped);
	assert_int_equal(d.r.dupes_exact, 1);
	for (i = 0; i < alone.count; i++) {
		assert_string_equal(d.r.pairs[i].question, alone.pairs[i].question);
		assert_int_equal(d.r.pairs[i].class_index, alone.pairs[i].class_index);
		assert_int_equal(d.source[i], 0);
	}
	assert_memory_equal(d.r.per_class, alone.per_class, sizeof(alone.per_class));
	assert_int_equal(d.nrepeats, 0);
	assert_false(d.labels_differ);
	pairs_result_release(&alone);
	dataset_release(&d);
}

static void test_two_inputs(void **state)
{
	struct pairs_result r;
	struct dataset d;
	struct errbuf err;

	(void)state;
	dataset_init(&d);
	extract(first, "Yes,No", &r);
	assert_int_equal(dataset_add(&d, "a.txt", "t1", &r, 0.8, &err), 0);
	extract(second, "No,Yes,True", &r);
	assert_int_equal(dataset_add(&d, "b.txt", "t2", &r, 0.8, &err), 0);
	/* a's three, then b's two new ones: its repeats of a left out */
	assert_int_equal(d.r.count, 5);
	assert_string_equal(d.r.pairs[3].question, "Do birds sing?");
	assert_string_equal(d.r.pairs[4].question, "Is it true?");
	assert_int_equal(d.source[2], 0);
	assert_int_equal(d.source[3], 1);
	/* labels: the union in order of first use, b's remapped */
	assert_int_equal(d.r.nlabels, 3);
	assert_string_equal(d.r.labels[2], "True");
	assert_int_equal(d.r.pairs[3].class_index, 1); /* No */
	assert_int_equal(d.r.pairs[4].class_index, 2); /* True */
	assert_int_equal(d.r.per_class[0], 2);
	assert_int_equal(d.r.per_class[1], 2);
	assert_int_equal(d.r.per_class[2], 1);
	assert_true(d.labels_differ);
	assert_true(d.tasks_differ);
	/* the repeats, each with where it came from and what it repeats */
	assert_int_equal(d.nrepeats, 3);
	assert_int_equal(d.repeats[0].kind, DATASET_REPEAT_NORMALISED);
	assert_string_equal(d.repeats[0].pair.question, "IS WATER WET");
	assert_int_equal(d.repeats[0].source, 1);
	assert_int_equal(d.repeats[0].kept, 0);
	assert_int_equal(d.repeats[0].pair.line, 3);
	assert_int_equal(d.repeats[1].kind, DATASET_REPEAT_EXACT);
	assert_int_equal(d.repeats[1].kept, 2);
	assert_int_equal(d.repeats[2].kind, DATASET_REPEAT_NEAR);
	assert_int_equal(d.repeats[2].kept, 1);
	assert_true(fabs(d.repeats[2].similarity - 8.0 / 9.0) < 1e-12);
	assert_int_equal(d.repeats[2].pair.class_index, 1); /* No, remapped */
	/* each input's own drops kept, with their input */
	assert_int_equal(d.r.ndropped, 2);
	assert_int_equal(d.dropped_source[0], 0);
	assert_int_equal(d.dropped_source[1], 1);
	assert_int_equal(d.r.dropped[1].status, PAIR_UNMATCHED);
	assert_int_equal(d.r.unmatched, 1);
	assert_int_equal(d.r.dupes_exact, 1);
	assert_int_equal(d.npaths, 2);
	assert_string_equal(d.paths[1], "b.txt");
	assert_string_equal(d.tasks[0], "t1");
	dataset_release(&d);
}

static void touch(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_inputs_expand(void **state)
{
	char dir[] = "/tmp/weft-merge-XXXXXX", sub[600], empty[600];
	const char *args[2];
	struct dataset_inputs in;
	struct errbuf err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	touch(dir, "b.json", "{}");
	touch(dir, "a.json", "{}");
	touch(dir, "a.json.journal", "");
	touch(dir, "a.json.lock", "");
	touch(dir, ".a.json.tmp.json", "");
	touch(dir, "notes.txt", "");
	snprintf(sub, sizeof(sub), "%s/results.json", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	args[0] = "x.txt";
	args[1] = dir;
	assert_int_equal(dataset_inputs_expand(&in, args, 2, &err), 0);
	assert_int_equal(in.n, 3);
	assert_string_equal(in.paths[0], "x.txt");
	assert_false(in.in_folder[0]);
	assert_non_null(strstr(in.paths[1], "/a.json"));
	assert_non_null(strstr(in.paths[2], "/b.json"));
	assert_true(in.in_folder[1] && in.in_folder[2]);
	dataset_inputs_release(&in);

	snprintf(empty, sizeof(empty), "%s/results.json", dir);
	args[0] = empty;
	assert_int_equal(dataset_inputs_expand(&in, args, 1, &err), -1);
	assert_non_null(strstr(err.msg, "no session files (*.json) in this folder"));
	dataset_inputs_release(&in);

	snprintf(sub, sizeof(sub), "rm -r '%s'", dir);
	assert_int_equal(system(sub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_earlier),
	    cmocka_unit_test(test_one_input_is_itself),
	    cmocka_unit_test(test_two_inputs),
	    cmocka_unit_test(test_inputs_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/metrics.h"
#include "weft/plot.h"
#include "weft/strbuf.h"

static void test_logsumexp(void **state)
{
	double big[] = {1000.0, 1000.0};
	double small[] = {-1000.0, -1000.0};
	double mixed[] = {-INFINITY, log(0.25), log(0.75)};
	double none[] = {-INFINITY, -INFINITY};
	double nan_[] = {0.0, NAN};

	(void)state;
	/* naive exp() would overflow / underflow here */
	assert_true(fabs(metrics_logsumexp(big, 2) - (1000.0 + log(2.0))) < 1e-12);
	assert_true(fabs(metrics_logsumexp(small, 2) - (-1000.0 + log(2.0))) < 1e-12);
	assert_true(fabs(metrics_logsumexp(mixed, 3)) < 1e-15);
	assert_true(isinf(metrics_logsumexp(none, 2)) && metrics_logsumexp(none, 2) < 0);
	assert_true(isinf(metrics_logsumexp(NULL, 0)));
	assert_true(isnan(metrics_logsumexp(nan_, 2)));
}

static void test_classify(void **state)
{
	struct metrics_example ex;
	struct errbuf err;
	double lp[] = {log(0.2), log(0.6)};
	double tie[] = {-1.5, -1.5, -3.0};
	double bad[] = {0.0, NAN};

	(void)state;
	assert_int_equal(metrics_classify(lp, 2, 0, &ex, &err), 0);
	/* renormalised over the classes: 0.2 / 0.8 */
	assert_true(fabs(ex.loss - (-log(0.25))) < 1e-12);
	assert_true(fabs(ex.total_logprob - log(0.8)) < 1e-12);
	assert_int_equal(ex.predicted, 1);
	assert_int_equal(ex.correct, 0);
	assert_int_equal(metrics_classify(lp, 2, 1, &ex, &err), 0);
	assert_int_equal(ex.correct, 1);
	assert_true(fabs(ex.loss - (-log(0.75))) < 1e-12);

	/* ties go to the lowest index */
	assert_int_equal(metrics_classify(tie, 3, 1, &ex, &err), 0);
	assert_int_equal(ex.predicted, 0);
	assert_int_equal(ex.correct, 0);
	assert_int_equal(metrics_classify(tie, 3, 0, &ex, &err), 0);
	assert_int_equal(ex.correct, 1);

	assert_int_equal(metrics_classify(lp, 2, 2, &ex, &err), -1);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(metrics_classify(lp, 0, 0, &ex, &err), -1);
	assert_int_equal(metrics_classify(bad, 2, 0, &ex, &err), -1);
}

static void test_logodds(void **state)
{
	struct metrics_logodds lo;
	struct errbuf err;
	double p[] = {-0.5, -1.5}, q[] = {-2.0, -0.25};

	(void)state;
	assert_int_equal(metrics_logodds(p, q, 0, 0, &lo, &err), 0);
	assert_true(fabs(lo.difference - ((-0.5 + 1.5) - (-2.0 + 0.25))) < 1e-12);
	assert_int_equal(lo.correct, 0); /* judged on q: class 1 wins */
	assert_int_equal(metrics_logodds(p, q, 1, 0, &lo, &err), 0);
	assert_true(fabs(lo.difference + 2.75) < 1e-12);
	assert_int_equal(lo.correct, 1);
	assert_int_equal(metrics_logodds(p, q, 1, 1, &lo, &err), 0);
	assert_true(fabs(lo.difference - 2.75) < 1e-12);
	{
		double all[] = {-0.5, -1.5, -2.0, -0.25};

		assert_true(fabs(lo.total_logprob - metrics_logsumexp(all, 4)) < 1e-15);
		assert_true(lo.total_logprob > 0); /* can exceed 0 */
	}
	assert_int_equal(metrics_logodds(p, q, 2, 0, &lo, &err), -1);
}

static void test_wilson_and_summary(void **state)
{
	struct metrics_table t;
	struct metrics_summary s;
	struct metrics_example ex = {0, 0, 0, 0};
	double lo, hi;
	unsigned nc[4] = {2, 2, 4, 4};
	int i;

	(void)state;
	metrics_wilson(0, 0, &lo, &hi);
	assert_true(lo == 0.0 && hi == 1.0);
	/* 50/100: 0.5 -+ 0.0971... (Wilson, z = 1.96) */
	metrics_wilson(50, 100, &lo, &hi);
	assert_true(fabs(lo - 0.40383) < 1e-4 && fabs(hi - 0.59617) < 1e-4);
	metrics_wilson(10, 10, &lo, &hi);
	assert_true(hi <= 1.0 && lo > 0.69 && lo < 0.73);

	metrics_table_init(&t, "m");
	for (i = 0; i < 4; i++) {
		ex.loss = (double)i;
		ex.correct = i % 2;
		ex.total_logprob = log(0.5);
		metrics_table_add(&t, i, &ex, " Yes");
	}
	metrics_summarize(&t, nc, &s);
	assert_int_equal(s.n, 4);
	assert_true(fabs(s.mean_loss - 1.5) < 1e-12);
	assert_true(fabs(s.accuracy - 0.5) < 1e-12);
	/* population std of 0..3 is sqrt(1.25); / sqrt(4) */
	assert_true(fabs(s.loss_stderr - sqrt(1.25) / 2) < 1e-12);
	assert_true(fabs(s.acc_stderr - 0.25) < 1e-12);
	assert_true(fabs(s.baseline_loss - (2 * log(2.0) + 2 * log(4.0)) / 4) < 1e-12);
	assert_true(fabs(s.baseline_acc - (0.5 + 0.5 + 0.25 + 0.25) / 4) < 1e-12);
	assert_true(fabs(s.coverage - 0.5) < 1e-12);
	metrics_table_release(&t);
}

static void test_format_double(void **state)
{
	char buf[64];

	(void)state;
	metrics_format_double(1.4901268482208252, buf, sizeof(buf));
	assert_string_equal(buf, "1.4901268482208252");
	metrics_format_double(0.5, buf, sizeof(buf));
	assert_string_equal(buf, "0.5");
	metrics_format_double(2.0, buf, sizeof(buf));
	assert_string_equal(buf, "2.0");
	metrics_format_double(-1e-7, buf, sizeof(buf));
	assert_string_equal(buf, "-1e-07");
}

static void test_csv_round_trip(void **state)
{
	char path[] = "/tmp/weft-metrics-XXXXXX";
	struct metrics_table t, back;
	struct metrics_example ex;
	struct errbuf err;
	double lp[] = {-0.1, -2.5};
	FILE *f;
	int fd;

	(void)state;
	metrics_table_init(&t, "x");
	assert_int_equal(metrics_classify(lp, 2, 1, &ex, &err), 0);
	metrics_table_add(&t, 0, &ex, " Yes");
	assert_int_equal(metrics_classify(lp, 2, 0, &ex, &err), 0);
	metrics_table_add(&t, 1, &ex, " a, \"quoted\" class");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(metrics_table_write(&t, f), 0);
	fclose(f);
	assert_int_equal(metrics_table_read(&back, path, &err), 0);
	assert_int_equal(back.n, 2);
	assert_true(back.rows[0].loss == t.rows[0].loss); /* exact round trip */
	assert_true(back.rows[1].total_logprob == t.rows[1].total_logprob);
	assert_string_equal(back.rows[0].predicted, " Yes");
	assert_string_equal(back.rows[1].predicted, " a, \"quoted\" class");
	assert_int_equal(back.rows[0].correct, 0);
	assert_int_equal(back.rows[1].correct, 1);
	metrics_table_release(&back);

	/* logodds tuple quirk, True/False, columns in another order */
	f = fopen(path, "w");
	fputs("correct,index,logodds_difference,total_logprob\nTrue,0,0.25,\"(-0.53,)\"\n", f);
	fclose(f);
	assert_int_equal(metrics_table_read(&back, path, &err), 0);
	assert_int_equal(back.logodds, 1);
	assert_true(fabs(back.rows[0].total_logprob + 0.53) < 1e-12);
	assert_int_equal(back.rows[0].correct, 1);
	metrics_table_release(&back);

	f = fopen(path, "w");
	fputs("index,loss,correct\n0,0.1,1\n1,0.2,maybe\n", f);
	fclose(f);
	assert_int_equal(metrics_table_read(&back, path, &err), -1);
	assert_non_null(strstr(err.msg, ":3: correct"));
	metrics_table_release(&back);

	/* a generate run's file: no loss column, extra text columns */
	f = fopen(path, "w");
	fputs("index,question,label,raw_answer,normalised,correct\n"
	      "0,\"Is it?\nreally\",Yes,\"Yes, it is\",yes,1\n1,Q2,No,Maybe,maybe,0\n",
	      f);
	fclose(f);
	assert_int_equal(metrics_table_read(&back, path, &err), 0);
	assert_int_equal(back.n, 2);
	assert_true(isnan(back.rows[0].loss));
	assert_int_equal(back.rows[0].correct, 1);
	{
		struct metrics_summary s;

		metrics_summarize(&back, NULL, &s);
		assert_true(isnan(s.mean_loss));
		assert_true(fabs(s.accuracy - 0.5) < 1e-12);
	}
	metrics_table_release(&back);

	f = fopen(path, "w");
	fputs("a,b\n", f);
	fclose(f);
	assert_int_equal(metrics_table_read(&back, path, &err), -1);
	assert_non_null(strstr(err.msg, ":1: header"));
	metrics_table_release(&back);
	remove(path);
	metrics_table_release(&t);
}

static void test_fixture_results(void **state)
{
	const char *dir;
	char path[1024];
	struct metrics_table t;
	struct metrics_summary s;
	struct errbuf err;
	size_t i;
	double sum = 0;
	int k = 0;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	snprintf(path, sizeof(path), "%s/results/ada.csv", dir);
	assert_int_equal(metrics_table_read(&t, path, &err), 0);
	assert_string_equal(t.model, "ada");
	assert_int_equal(t.n, 201);
	assert_string_equal(t.rows[0].predicted, " Yes");
	for (i = 0; i < t.n; i++) {
		sum += t.rows[i].loss;
		k += t.rows[i].correct;
		/* each row is consistent: correct iff loss < ln 2 for 2 classes */
		assert_int_equal(t.rows[i].correct, t.rows[i].loss < log(2.0));
	}
	metrics_summarize(&t, NULL, &s);
	assert_true(fabs(s.accuracy - (double)k / 201.0) < 1e-12);
	assert_true(fabs(s.mean_loss - sum / 201.0) < 1e-12);
	assert_true(s.acc_low < s.accuracy && s.accuracy < s.acc_high);
	metrics_table_release(&t);
}

static void test_sizes(void **state)
{
	struct model_sizes s;
	struct errbuf err;
	double v;
	char path[] = "/tmp/weft-sizes-XXXXXX";
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(model_size_parse("350e6", &v), 0);
	assert_true(fabs(v - 350e6) < 1);
	assert_int_equal(model_size_parse("1.3B", &v), 0);
	assert_true(fabs(v - 1.3e9) < 1);
	assert_int_equal(model_size_parse("-3", &v), -1);
	assert_int_equal(model_size_parse("12x", &v), -1);

	model_sizes_init(&s);
	assert_int_equal(model_sizes_add_spec(&s, "ada=350e6:gpt3", &err), 0);
	assert_int_equal(model_sizes_add_spec(&s, "bare=7B", &err), 0);
	assert_int_equal(model_sizes_add_spec(&s, "nosize=", &err), -1);
	assert_int_equal(model_sizes_add_spec(&s, "=5", &err), -1);
	assert_string_equal(model_sizes_find(&s, "ada")->family, "gpt3");
	assert_string_equal(model_sizes_find(&s, "bare")->family, "models");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("# comment\n\n  curie = 6.7e9   gpt3  # note\nada = 400M other\n", f);
	fclose(f);
	assert_int_equal(model_sizes_load(&s, path, &err), 0);
	assert_true(fabs(model_sizes_find(&s, "curie")->size - 6.7e9) < 1);
	assert_string_equal(model_sizes_find(&s, "ada")->family, "other"); /* replaced */
	assert_null(model_sizes_find(&s, "davinci"));
	f = fopen(path, "w");
	fputs("ok = 1e9\nbroken line\n", f);
	fclose(f);
	assert_int_equal(model_sizes_load(&s, path, &err), -1);
	assert_non_null(strstr(err.msg, ":2:"));
	remove(path);
	model_sizes_release(&s);
}

static void assert_known(const char *name, double size, const char *family)
{
	char fam[64];
	double v = 0;

	assert_int_equal(model_sizes_known(name, &v, fam, sizeof(fam)), 0);
	assert_true(fabs(v - size) < 1);
	assert_string_equal(fam, family);
}

static void test_known_sizes(void **state)
{
	struct model_sizes s;
	struct errbuf err;
	const struct model_size *m;
	char fam[64];
	double v;
	int from_table = -1;

	(void)state;
	assert_known("ada", 350e6, "gpt3");
	assert_known("babbage", 1.3e9, "gpt3");
	assert_known("curie", 6.7e9, "gpt3");
	assert_known("davinci", 175e9, "gpt3");
	assert_known("text-ada-001", 350e6, "instructgpt");
	assert_known("text-babbage-001", 1.3e9, "instructgpt");
	assert_known("text-curie-001", 6.7e9, "instructgpt");
	assert_known("text-davinci-001", 175e9, "instructgpt");
	assert_known("pythia-70m", 70e6, "pythia");
	assert_known("EleutherAI/pythia-1.4b-deduped", 1.4e9, "pythia-deduped");
	assert_known("pythia-12b", 12e9, "pythia");
	assert_known("meta-llama/Llama-2-7b-hf", 7e9, "llama-2-hf");
	assert_known("llama3:8b", 8e9, "llama3");
	assert_known("Meta-Llama-3.1-70B-Instruct", 70e9, "meta-llama-3.1-instruct");
	assert_known("Qwen/Qwen2.5-0.5B-Instruct", 0.5e9, "qwen2.5-instruct");
	assert_known("qwen2.5:1.5b", 1.5e9, "qwen2.5");
	/* not known: no table entry, no size in the name, other families */
	assert_int_equal(model_sizes_known("gpt-4o-mini", &v, fam, sizeof(fam)), -1);
	assert_int_equal(model_sizes_known("llama", &v, fam, sizeof(fam)), -1);
	assert_int_equal(model_sizes_known("Mixtral-8x7B", &v, fam, sizeof(fam)), -1);
	assert_int_equal(model_sizes_known("qwen-7b", &v, fam, 1), -1);
	assert_int_equal(model_sizes_known("Ada", &v, fam, sizeof(fam)), -1);
	assert_int_equal(model_sizes_known("", &v, fam, sizeof(fam)), -1);

	/* given sizes win; the table fills in the rest */
	model_sizes_init(&s);
	assert_int_equal(model_sizes_add_spec(&s, "ada=1B:mine", &err), 0);
	m = model_sizes_find_known(&s, "ada", &from_table);
	assert_int_equal(from_table, 0);
	assert_string_equal(m->family, "mine");
	m = model_sizes_find_known(&s, "curie", &from_table);
	assert_int_equal(from_table, 1);
	assert_true(fabs(m->size - 6.7e9) < 1);
	assert_string_equal(m->family, "gpt3");
	m = model_sizes_find_known(&s, "curie", &from_table); /* now added */
	assert_int_equal(from_table, 0);
	assert_null(model_sizes_find_known(&s, "gpt-4o", &from_table));
	assert_int_equal(from_table, 0);
	model_sizes_release(&s);
}

static void test_plots(void **state)
{
	struct plot_point pts[] = {
	    {"b", "f1", 1e9, 0.6, 0.5, 0.7, 0.7},
	    {"a", "f1", 1e8, 0.5, 0.4, 0.6, 0.8},
	    {"c", "f2<&>", 1e8, 0.9, 0.8, 0.95, 0.2},
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	plot_terminal(pts, 3, 40, 10, &sb);
	assert_non_null(strstr(sb.data, "accuracy"));
	assert_non_null(strstr(sb.data, "mean loss"));
	assert_non_null(strstr(sb.data, "\xe2\x97\x8f f1"));
	strbuf_reset(&sb);
	plot_svg(pts, 3, "t", &sb);
	assert_non_null(strstr(sb.data, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(sb.data, "data-family=\"f2&lt;&amp;&gt;\""));
	assert_null(strstr(sb.data, "f2<&>"));
	assert_non_null(strstr(sb.data, "</svg>"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logsumexp),	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_logodds),	    cmocka_unit_test(test_wilson_and_summary),
	    cmocka_unit_test(test_format_double),   cmocka_unit_test(test_csv_round_trip),
	    cmocka_unit_test(test_fixture_results), cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_known_sizes),	    cmocka_unit_test(test_plots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/config.h"
#include "weft/evalrun.h"
#include "weft/evalset.h"
#include "weft/lm.h"
#include "weft/plot.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

/* A choice whose tokens are toks[] with logprobs lps[] and text offsets
 * counted in characters (as OpenAI sends them) unless offsets is 0. */
static void make_choice(struct lm_choice *c, const char *const *toks, const double *lps, size_t n,
			int offsets)
{
	size_t i;
	long off = 0;

	memset(c, 0, sizeof(*c));
	c->has_logprobs = 1;
	c->tokens = xcalloc(n ? n : 1, sizeof(*c->tokens));
	c->ntokens = n;
	for (i = 0; i < n; i++) {
		const char *s;

		c->tokens[i].token = xstrdup(toks[i]);
		c->tokens[i].logprob = lps[i];
		c->tokens[i].offset = offsets ? off : -1;
		for (s = toks[i]; *s; s++)
			if (((unsigned char)*s & 0xc0) != 0x80)
				off++;
	}
}

static void free_choice(struct lm_choice *c)
{
	size_t i, k;

	for (i = 0; i < c->ntokens; i++) {
		free(c->tokens[i].token);
		for (k = 0; k < c->tokens[i].ntop; k++)
			free(c->tokens[i].top[k].token);
		free(c->tokens[i].top);
	}
	free(c->tokens);
}

static void test_echo_slicing(void **state)
{
	const char *toks[] = {"Question:", " Is", " it?", " \nAnswer:", " Yes"};
	double lps[] = {NAN, -1.0, -2.0, -0.5, -0.25};
	struct lm_choice c;
	struct errbuf err;
	double lp = 0;

	(void)state;
	make_choice(&c, toks, lps, 5, 1);
	assert_int_equal(evalrun_echo_logprob(&c, "Question: Is it? \nAnswer:", " Yes", &lp, &err),
			 0);
	assert_true(lp == -0.25);
	/* not an echo of this class */
	assert_int_equal(evalrun_echo_logprob(&c, "Question: Is it? \nAnswer:", " No", &lp, &err),
			 1);
	/* a class that starts inside a token: an error, as ISP */
	assert_int_equal(evalrun_echo_logprob(&c, "Question: Is it? \nAnswer: Y", "es", &lp, &err),
			 -1);
	assert_non_null(strstr(err.msg, "token boundary"));
	free_choice(&c);

	/* a two-token class: both summed; offsets absent: counted from texts */
	{
		const char *t2[] = {"Q:", " x", " Ye", "s"};
		double l2[] = {NAN, -3.0, -0.5, -0.125};

		make_choice(&c, t2, l2, 4, 0);
		assert_int_equal(evalrun_echo_logprob(&c, "Q: x", " Yes", &lp, &err), 0);
		assert_true(lp == -0.625);
		free_choice(&c);
	}
	/* offsets in characters with non-ASCII text before the class */
	{
		const char *t3[] = {"Qué", " pasa", " Sí"};
		double l3[] = {NAN, -1.0, -0.75};

		make_choice(&c, t3, l3, 3, 1);
		assert_int_equal(evalrun_echo_logprob(&c, "Qué pasa", " Sí", &lp, &err), 0);
		assert_true(lp == -0.75);
		free_choice(&c);
	}
	/* echo ignored: only generated tokens came back */
	{
		const char *t4[] = {" amber"};
		double l4[] = {-0.3};

		make_choice(&c, t4, l4, 1, 1);
		assert_int_equal(evalrun_echo_logprob(&c, "Q: x", " Yes", &lp, &err), 1);
		free_choice(&c);
	}
	/* no logprobs at all */
	memset(&c, 0, sizeof(c));
	assert_int_equal(evalrun_echo_logprob(&c, "Q: x", " Yes", &lp, &err), 1);
}

static void add_top(struct lm_token *t, const char *tok, double lp)
{
	t->top = xreallocarray(t->top, t->ntop + 1, sizeof(*t->top));
	t->top[t->ntop].token = xstrdup(tok);
	t->top[t->ntop].logprob = lp;
	t->ntop++;
}

static void test_top_fallback(void **state)
{
	const char *toks[] = {" Yes"};
	double lps[] = {-0.2};
	struct lm_choice c;
	double lp = 0;

	(void)state;
	make_choice(&c, toks, lps, 1, 1);
	add_top(&c.tokens[0], " Yes", -0.2);
	add_top(&c.tokens[0], " No", -1.8);
	add_top(&c.tokens[0], " Y", -4.0);
	assert_int_equal(evalrun_top_logprob(&c, " Yes", &lp), 1);
	assert_true(lp == -0.2);
	assert_int_equal(evalrun_top_logprob(&c, " No", &lp), 1);
	assert_true(lp == -1.8);
	/* a class not listed as a whole: its longest listed first token */
	assert_int_equal(evalrun_top_logprob(&c, " Yesterday", &lp), 1);
	assert_true(lp == -0.2);
	/* not among them: the floor, lowest listed minus ln 2 */
	assert_int_equal(evalrun_top_logprob(&c, " Maybe", &lp), 0);
	assert_true(fabs(lp - (-4.0 - log(2.0))) < 1e-12);
	free_choice(&c);
	/* no logprobs: -1 */
	memset(&c, 0, sizeof(c));
	assert_int_equal(evalrun_top_logprob(&c, " Yes", &lp), -1);
}

static void test_score_type_and_question(void **state)
{
	const char *yn[] = {" Yes", " No"}, *abc[] = {" (A)", " (B)", " C"},
		   *txt[] = {" red", " blue"};
	char *q;

	(void)state;
	assert_int_equal(evalrun_score_type(yn, 2), SCORE_BOOLEAN);
	assert_int_equal(evalrun_score_type(abc, 3), SCORE_CHOICE);
	assert_int_equal(evalrun_score_type(txt, 2), SCORE_TEXT);
	q = evalset_question_of("Question: Is it? \nAnswer:");
	assert_string_equal(q, "Is it?");
	free(q);
	q = evalset_question_of("Say something");
	assert_string_equal(q, "Say something");
	free(q);
}

static void test_pylist(void **state)
{
	char **items;
	size_t n;

	(void)state;
	assert_int_equal(evalset_parse_pylist("[' Yes', ' No']", &items, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0], " Yes");
	assert_string_equal(items[1], " No");
	free(items[0]);
	free(items[1]);
	free(items);
	assert_int_equal(evalset_parse_pylist("[\" it's\", ' a\\'b\\n', ' \\xe9']", &items, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0], " it's");
	assert_string_equal(items[1], " a'b\n");
	assert_string_equal(items[2], " \xc3\xa9");
	free(items[0]);
	free(items[1]);
	free(items[2]);
	free(items);
	assert_int_equal(evalset_parse_pylist("[' Yes' ' No']", &items, &n), -1);
	assert_int_equal(evalset_parse_pylist("' Yes'", &items, &n), -1);
	assert_int_equal(evalset_parse_pylist("[' Yes', 3]", &items, &n), -1);
	assert_int_equal(evalset_parse_pylist("[' Yes", &items, &n), -1);
}

/* Results formatting on a run whose results are filled in by hand. */
static void test_results_formatting(void **state)
{
	struct evalset set;
	struct evalrun_options o;
	struct lm_engine *e = lm_engine_new();
	struct evalrun *run;
	struct config cfg;
	struct errbuf err;
	struct evalrun_model *m;
	struct strbuf out = STRBUF_INIT;
	const char *cl[] = {" Yes", " No"};

	(void)state;
	evalset_init(&set);
	assert_int_equal(
	    evalset_add(&set, "Question: a, \"b\" \nAnswer:", NULL, NULL, cl, 2, 0, &err), 0);
	assert_int_equal(evalset_add(&set, "Question: c \nAnswer:", NULL, NULL, cl, 2, 1, &err), 0);
	assert_int_equal(evalset_add(&set, "x", NULL, NULL, cl, 2, 2, &err), -1);
	evalrun_options_init(&o);
	run = evalrun_new(e, &set, &o, &err);
	assert_non_null(run);
	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "scorer.s.model=m1", &err), 0);
	assert_int_equal(config_set(&cfg, "scorer.s.api_key_env=SECRET_VAR", &err), 0);
	/* credentials in any of several URLs never reach config.json */
	assert_int_equal(config_set(&cfg,
				    "scorer.s.base_url=http://al:pw1secret@a:1/v1,"
				    "https://bob:hunter2pass@b.example/v1,http://c/v1?x=@y",
				    &err),
			 0);
	evalrun_add_model(run, "s", config_role(&cfg, "scorer.s"), 350e6, "fam");
	m = (struct evalrun_model *)evalrun_model(run, 0);
	m->results[0].state = 1;
	m->results[0].raw = xstrdup("Yes,\nreally");
	m->results[0].parsed = xstrdup("yes");
	m->results[0].outcome = SCORE_CORRECT;
	m->results[0].ex.correct = 1;
	m->results[0].ex.loss = NAN;
	m->results[0].ex.total_logprob = NAN;
	m->done = 1;
	m->failed = 1;
	m->results[1].state = 2;

	assert_int_equal(evalrun_format_model_csv(run, 0, &out), 0);
	assert_string_equal(out.data, "index,question,label,raw_answer,normalised,correct\n"
				      "0,\"a, \"\"b\"\"\",Yes,\"Yes,\nreally\",yes,1\n");
	strbuf_reset(&out);
	evalrun_format_summary_csv(run, &out);
	assert_non_null(strstr(out.data, "\ns,350000000,fam,1,1.0,,"));
	assert_non_null(strstr(out.data, ",0,1\n"));
	strbuf_reset(&out);
	evalrun_format_config(run, &out);
	assert_non_null(strstr(out.data, "\"partial\": true"));
	assert_non_null(strstr(out.data, "\"method\": \"generate\""));
	assert_null(strstr(out.data, "SECRET_VAR"));
	assert_null(strstr(out.data, "hunter2pass"));
	assert_null(strstr(out.data, "pw1secret"));
	assert_non_null(
	    strstr(out.data, "\"http://a:1/v1,https://b.example/v1,http://c/v1?x=@y\""));
	strbuf_reset(&out);
	evalrun_format_table(run, &out);
	assert_non_null(strstr(out.data, "1.000"));
	strbuf_reset(&out);
	evalrun_format_balance(run, &out);
	assert_string_equal(out.data, "class balance: Yes 1 (50.0%), No 1 (50.0%)\n");
	strbuf_reset(&out);
	evalrun_format_plot(run, 40, 8, &out);
	assert_null(strstr(out.data, "no model sizes"));

	strbuf_release(&out);
	evalrun_free(run);

	/* every configured scorer, sizes from the role or the sizes list */
	run = evalrun_new(e, &set, &o, &err);
	assert_int_equal(config_set(&cfg, "scorer.t.model=m2", &err), 0);
	assert_int_equal(config_set(&cfg, "scorer.u.size=7", &err), 0); /* no model: skipped */
	{
		struct model_sizes sizes;

		model_sizes_init(&sizes);
		assert_int_equal(model_sizes_add_spec(&sizes, "m2=1.3B:big", &err), 0);
		assert_int_equal(evalrun_add_configured(run, &cfg, &sizes), 2);
		assert_string_equal(evalrun_model(run, 1)->name, "t");
		assert_true(evalrun_model(run, 1)->size == 1.3e9);
		assert_string_equal(evalrun_model(run, 1)->family, "big");
		model_sizes_release(&sizes);
	}
	evalrun_free(run);
	config_release(&cfg);
	evalset_release(&set);
	lm_engine_free(e);
}

/* An eval prompt that would render past TASK_PROMPT_MAX for a row is
 * refused by evalrun_new, naming the prompt, the row and the size. */
static void test_prompt_cap(void **state)
{
	struct evalset set;
	struct evalrun_options o;
	struct lm_engine *e = lm_engine_new();
	struct errbuf err;
	struct strbuf tmpl = STRBUF_INIT, question = STRBUF_INIT;
	const char *cl[] = {" Yes", " No"};
	size_t k;

	(void)state;
	evalset_init(&set);
	assert_int_equal(evalset_add(&set, "Question: a \nAnswer:", NULL, NULL, cl, 2, 0, &err), 0);
	for (k = 0; k < 100; k++)
		strbuf_addstr(&question, "Is it so? ");
	assert_int_equal(
	    evalset_add(&set, "Question: b \nAnswer:", NULL, question.data, cl, 2, 1, &err), 0);
	for (k = 0; k < 100000; k++)
		strbuf_addstr(&tmpl, "{question}");
	evalrun_options_init(&o);
	o.method = EVALRUN_GENERATE;
	o.eval_prompt = tmpl.data;
	o.eval_prompt_name = "prompts/big/eval.txt";
	/* row 0's question is short: 100,000 times it fits; row 1's does not */
	assert_null(evalrun_new(e, &set, &o, &err));
	assert_non_null(strstr(
	    err.msg, "prompts/big/eval.txt: the prompt for row 1 is 100000000 bytes, more than "
		     "the 4194304 bytes"));
	evalset_release(&set);
	strbuf_release(&tmpl);
	strbuf_release(&question);
	lm_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_slicing),
	    cmocka_unit_test(test_top_fallback),
	    cmocka_unit_test(test_score_type_and_question),
	    cmocka_unit_test(test_pylist),
	    cmocka_unit_test(test_results_formatting),
	    cmocka_unit_test(test_prompt_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

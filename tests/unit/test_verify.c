#include "testutil.h"

#include <math.h>

#include "weft/lm.h"
#include "weft/strbuf.h"
#include "weft/verify.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* A choice whose first token is tok with the alternatives (tokens and
 * probabilities) given; the caller frees it with choice_free. */
static struct lm_choice choice(const char *text, const char *tok, double tok_p,
			       const char *const *alts, const double *ps, size_t nalts)
{
	struct lm_choice c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.text = strdup(text);
	c.has_logprobs = 1;
	c.ntokens = 1;
	c.tokens = calloc(1, sizeof(*c.tokens));
	c.tokens[0].token = strdup(tok);
	c.tokens[0].logprob = log(tok_p);
	c.tokens[0].offset = -1;
	c.tokens[0].ntop = nalts;
	c.tokens[0].top = calloc(nalts ? nalts : 1, sizeof(*c.tokens[0].top));
	for (i = 0; i < nalts; i++) {
		c.tokens[0].top[i].token = strdup(alts[i]);
		c.tokens[0].top[i].logprob = log(ps[i]);
	}
	return c;
}

static void choice_free(struct lm_choice *c)
{
	size_t i;

	for (i = 0; i < c->tokens[0].ntop; i++)
		free(c->tokens[0].top[i].token);
	free(c->tokens[0].top);
	free(c->tokens[0].token);
	free(c->tokens);
	free(c->text);
}

static void test_p_from_logprobs(void **state)
{
	static const char *const plain[] = {"Yes", "No", "Maybe"};
	static const double plain_p[] = {0.6, 0.3, 0.1};
	static const char *const variants[] = {" yes", "Yes", "NO", "x"};
	static const double variants_p[] = {0.3, 0.3, 0.2, 0.2};
	static const char *const no_no[] = {"Yes", "Sure"};
	static const double no_no_p[] = {0.5, 0.2};
	static const char *const neither[] = {"The", "A"};
	static const double neither_p[] = {0.5, 0.2};
	struct lm_choice c;
	double p = -1;

	(void)state;
	/* 0.6 / (0.6 + 0.3); the token listed among its alternatives counts once */
	c = choice("Yes", "Yes", 0.6, plain, plain_p, 3);
	assert_int_equal(verify_p_from_logprobs(&c, &p), 1);
	NEAR(p, 0.6 / 0.9);
	choice_free(&c);
	/* case and spaces ignored, variants added: 0.6 / (0.6 + 0.2) */
	c = choice(" yes", " yes", 0.3, variants, variants_p, 4);
	assert_int_equal(verify_p_from_logprobs(&c, &p), 1);
	NEAR(p, 0.75);
	choice_free(&c);
	/* No not listed: half the least listed, 0.1; 0.5 / 0.6 */
	c = choice("Yes", "Yes", 0.5, no_no, no_no_p, 2);
	assert_int_equal(verify_p_from_logprobs(&c, &p), 1);
	NEAR(p, 0.5 / 0.6);
	choice_free(&c);
	/* neither word among the alternatives: the logprobs do not tell */
	c = choice("The answer", "The", 0.5, neither, neither_p, 2);
	assert_int_equal(verify_p_from_logprobs(&c, &p), 0);
	choice_free(&c);
	/* a token without alternatives does not tell either */
	c = choice("No", "No", 0.9, NULL, NULL, 0);
	assert_int_equal(verify_p_from_logprobs(&c, &p), 0);
	choice_free(&c);
}

static void test_p_from_text(void **state)
{
	double p = -1;

	(void)state;
	assert_int_equal(verify_p_from_text("Yes.", &p), 0);
	NEAR(p, 1.0);
	assert_int_equal(verify_p_from_text("  no, because", &p), 0);
	NEAR(p, 0.0);
	assert_int_equal(verify_p_from_text("**YES**", &p), 0);
	NEAR(p, 1.0);
	assert_int_equal(verify_p_from_text("Not really", &p), -1);
	assert_int_equal(verify_p_from_text("Yesterday", &p), -1);
	assert_int_equal(verify_p_from_text("", &p), -1);
}

static void test_read_choice(void **state)
{
	static const char *const neither[] = {"Perhaps", "Maybe"};
	static const double neither_p[] = {0.5, 0.2};
	static const char *const plain[] = {"No", "Yes"};
	static const double plain_p[] = {0.8, 0.2};
	struct lm_choice c;
	struct verify_verdict v;
	struct errbuf err;

	(void)state;
	c = choice("No", "No", 0.8, plain, plain_p, 2);
	assert_int_equal(verify_read_choice(&c, &v, &err), 0);
	assert_int_equal(v.source, VERIFY_SOURCE_LOGPROBS);
	NEAR(v.p, 0.2);
	choice_free(&c);
	/* no logprobs at all: the answer's word, recorded as such */
	c = choice("Yes", "Yes", 0.8, NULL, NULL, 0);
	c.has_logprobs = 0;
	assert_int_equal(verify_read_choice(&c, &v, &err), 0);
	assert_int_equal(v.source, VERIFY_SOURCE_ANSWER);
	NEAR(v.p, 1.0);
	choice_free(&c);
	c = choice("Perhaps so", "Perhaps", 0.5, neither, neither_p, 2);
	assert_int_equal(verify_read_choice(&c, &v, &err), -1);
	assert_string_equal(err.msg, "the verifier answered neither Yes nor No: 'Perhaps so'");
	choice_free(&c);
	assert_string_equal(verify_source_name(VERIFY_SOURCE_LOGPROBS), "logprobs");
	assert_string_equal(verify_source_name(VERIFY_SOURCE_ANSWER), "answer");
	assert_int_equal(verify_source_parse("answer", &v.source), 0);
	assert_int_equal(v.source, VERIFY_SOURCE_ANSWER);
	assert_int_equal(verify_source_parse("text", &v.source), -1);
}

/* A pair's text is copied as it is: braces and percent signs in it are
 * neither places nor formats. */
static void test_prompt_is_safe(void **state)
{
	struct verify_pair pair = {"Is 100%s {label} %n real?", "Yes {question}", "No"};
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;

	(void)state;
	assert_int_equal(verify_prompt("[{description}] Q: {question} A: {answer} L: {label} {x}",
				       "a task", &pair, &out, &err),
			 0);
	assert_string_equal(out.data, "[a task] Q: Is 100%s {label} %n real? A: Yes {question} "
				      "L: No {x}");
	strbuf_release(&out);
}

static void test_wilson(void **state)
{
	double lo, hi;

	(void)state;
	/* 8 of 10: the textbook 95% Wilson interval [0.4902, 0.9433]:
	 * centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10), half-width
	 * 1.96 / (1 + 1.96^2/10) * sqrt(0.016 + 1.96^2/400) */
	verify_wilson(8, 10, VERIFY_Z95, &lo, &hi);
	assert_true(fabs(lo - 0.490162) < 1e-6);
	assert_true(fabs(hi - 0.943318) < 1e-6);
	/* 0 of 10 starts at 0; 10 of 10 ends at 1 */
	verify_wilson(0, 10, VERIFY_Z95, &lo, &hi);
	NEAR(lo, 0.0);
	assert_true(fabs(hi - 0.277533) < 1e-6);
	verify_wilson(10, 10, VERIFY_Z95, &lo, &hi);
	assert_true(fabs(lo - 0.722467) < 1e-6);
	assert_true(hi <= 1.0 && hi > 0.999999);
	verify_wilson(0, 0, VERIFY_Z95, &lo, &hi);
	assert_true(isnan(lo) && isnan(hi));
}

static void test_rate(void **state)
{
	struct verify_rate r;

	(void)state;
	verify_rate_compute(&r, 25, 40);
	assert_int_equal(r.valid, 25);
	assert_int_equal(r.total, 40);
	NEAR(r.rate, 0.625);
	assert_true(fabs(r.low - 0.470324) < 1e-6);
	assert_true(fabs(r.high - 0.757770) < 1e-6);
	verify_rate_compute(&r, 0, 0);
	assert_true(isnan(r.rate) && isnan(r.low) && isnan(r.high));
}

static void add_n(struct verify_agreement *a, int valid, int kept, size_t n)
{
	while (n--)
		verify_agreement_add(a, valid, kept);
}

static void test_agreement(void **state)
{
	struct verify_agreement a;

	(void)state;
	/* 50 pairs: 20 valid and kept, 5 valid and rejected, 10 invalid and
	 * kept, 15 invalid and rejected.  po = 35/50 = 0.7; the verifier says
	 * valid of 25/50, the person keeps 30/50: pe = 0.5 * 0.6 + 0.5 * 0.4 =
	 * 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4 */
	verify_agreement_init(&a);
	add_n(&a, 1, 1, 20);
	add_n(&a, 1, 0, 5);
	add_n(&a, 0, 1, 10);
	add_n(&a, 0, 0, 15);
	verify_agreement_compute(&a);
	assert_int_equal(a.count, 50);
	assert_int_equal(a.agree, 35);
	NEAR(a.fraction, 0.7);
	NEAR(a.kappa, 0.4);
	/* full disagreement: po 0, pe 0.5, kappa -1 */
	verify_agreement_init(&a);
	add_n(&a, 1, 0, 3);
	add_n(&a, 0, 1, 3);
	verify_agreement_compute(&a);
	NEAR(a.fraction, 0.0);
	NEAR(a.kappa, -1.0);
	/* both raters said "keep, valid" of all: kappa undefined */
	verify_agreement_init(&a);
	add_n(&a, 1, 1, 4);
	verify_agreement_compute(&a);
	NEAR(a.fraction, 1.0);
	assert_true(isnan(a.kappa));
	/* nothing to compare */
	verify_agreement_init(&a);
	verify_agreement_compute(&a);
	assert_int_equal(a.count, 0);
	assert_true(isnan(a.fraction) && isnan(a.kappa));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_p_from_logprobs), cmocka_unit_test(test_p_from_text),
	    cmocka_unit_test(test_read_choice),	    cmocka_unit_test(test_prompt_is_safe),
	    cmocka_unit_test(test_wilson),	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_agreement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include "weft/score.h"
#include "weft/strbuf.h"

struct norm_case {
	const char *raw;
	int number, boolean;
	const char *want;
};

static void check_norm(const struct norm_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;

		score_opro_normalize(c[i].raw, c[i].number, c[i].boolean, &sb);
		if (strcmp(sb.data, c[i].want))
			print_message("normalize(%s, num=%d, bool=%d) = [%s], want [%s]\n",
				      c[i].raw, c[i].number, c[i].boolean, sb.data, c[i].want);
		assert_string_equal(sb.data, c[i].want);
		strbuf_release(&sb);
	}
}

/* Section 1.2 steps 1-7 and the text branch. */
static void test_opro_normalize_text(void **state)
{
	static const struct norm_case c[] = {
	    {"  YES.  ", 0, 0, "yes"},
	    {"Yes", 0, 0, "yes"},
	    /* Python lower() on non-ASCII; strip() removes U+00A0 and U+3000 */
	    {"\xc2\xa0\xce\x91\xce\x92\xce\x93 \xd0\x96\xd0\x98\xc3\x89\xe3\x80\x80", 0, 0,
	     "\xce\xb1\xce\xb2\xce\xb3 \xd0\xb6\xd0\xb8\xc3\xa9"},
	    {"\xc4\xb0", 0, 0, "i\xcc\x87"}, /* U+0130 -> i + combining dot */
	    /* final sigma: ΑΣ -> ας, ΑΣΑ -> ασα, Σ alone -> σ, ΑΣ.. then a letter */
	    {"\xce\x91\xce\xa3", 0, 0, "\xce\xb1\xcf\x82"},
	    {"\xce\x91\xce\xa3\xce\x91", 0, 0, "\xce\xb1\xcf\x83\xce\xb1"},
	    {"\xce\xa3", 0, 0, "\xcf\x83"},
	    {"\xce\x91\xce\xa3''x", 0, 0, "\xce\xb1\xcf\x83''x"},
	    /* step 3: continuation questions, inside words too */
	    {"faq: yes", 0, 0, "fa"},
	    {"yes\nQuestion: is it?", 0, 0, "yes"},
	    {"no Frage: x", 0, 0, "no"},
	    {"blue \xe9\x97\xae\xe9\xa2\x98\xef\xbc\x9a red", 0, 0, "blue"},
	    /* step 2: markers chosen on the un-lowercased text */
	    {"So the answer is: blue", 0, 0, "blue"},
	    {"Answer: blue", 0, 0, "answer: blue"},
	    {"answer: blue", 0, 0, "blue"},
	    {"The colours are: red", 0, 0, "red"},
	    {"x answer is y answer is z", 0, 0, "z"},
	    /* step 4: step-by-step and #### markers, last occurrence */
	    {"Step-by-step answer: 1 then 2", 0, 0, "1 then 2"},
	    {"Schritt-f\xc3\xbcr-Schritt-Antwort: gut", 0, 0, "gut"},
	    {"work #### 12 #### 13", 0, 0, "13"},
	    /* step 5: answer-ahead, first occurrence */
	    {"red is the answer, blue is the answer", 0, 0, "red"},
	    {"Red is the correct answer.", 0, 0, "red"},
	    /* step 6 */
	    {"ok this is the solution: more", 0, 0, "ok "},
	    {"done...", 0, 0, "done"},
	    {"b'yes'", 0, 0, "b'yes"},
	    /* step 7: bracket reduction */
	    {"(A) apple", 0, 0, "(a)"},
	    {"(1) (b)", 0, 0, "(1)"},
	    {"(b) or (b)", 0, 0, "(b)"},
	    {"(a) or (b)", 0, 0, "(a) or (b)"},
	    /* text branch: before the first '.' */
	    {"3.14 is pi", 0, 0, "3"},
	};

	(void)state;
	check_norm(c, sizeof(c) / sizeof(c[0]));
}

/* Section 1.2 numeric parser and 1.3 numbers. */
static void test_opro_normalize_number(void **state)
{
	static const struct norm_case c[] = {
	    {"1,234", 1, 0, "1234"},
	    {"$18.50", 1, 0, "18"},
	    {"50%", 1, 0, "50"},
	    {"\xe2\x82\xac"
	     "7 and \xc2\xa3"
	     "9",
	     1, 0, "9"},
	    {"156kgs", 1, 0, "156"},
	    {"x = 5", 1, 0, "5"},
	    {"a = 1 = 7 apples", 1, 0, "7"},
	    {"12: the total", 1, 0, "12"},
	    {"eight", 1, 0, "8"},
	    {"seventeen", 1, 0, "7"},
	    {"eighty", 1, 0, "8"},
	    {"none", 1, 0, "1"},
	    {"someone", 1, 0, "1"},
	    {"twenty-one", 1, 0, "1"},
	    {"Answer: 42", 1, 0, ""},
	    {"answer: 42 apples", 1, 0, "42"},
	    {"5  apples", 1, 0, ""},
	    {"I have 3 apples and 5 pears", 1, 0, "5"},
	    {"The answer is 3 apples and 5 pears", 1, 0, "3"},
	    {"all letters here", 1, 0, ""},
	    {"823-yard", 1, 0, "823"},
	    {"3.5", 1, 0, "4"},
	    {"18.5", 1, 0, "18"},
	    {"19.5", 1, 0, "20"},
	    {"2.5", 1, 0, "2"},
	    {"-0.4", 1, 0, "-0"},
	    {"1e3", 1, 0, "1000"},
	    {"+5", 1, 0, "5"},
	    {".5", 1, 0, "0"},
	    {"1_0", 1, 0, "10"},
	    {"1__0", 1, 0, "0"},
	    {"v2x3", 1, 0, "3"},
	    {"a12b34", 1, 0, "34"},
	    {"3/4", 1, 0, "4"},
	    /* Unicode digits: float() and \d take them, isalpha() does not */
	    {"\xef\xbc\x91\xef\xbc\x92 apples", 1, 0, "12"}, /* fullwidth 12 */
	    {"x\xd9\xa3y", 1, 0, "\xd9\xa3"},		     /* Arabic-Indic 3 */
	    {"12\n34", 1, 0, "12"},			     /* first line with a digit */
	};

	(void)state;
	check_norm(c, sizeof(c) / sizeof(c[0]));
}

/* Section 1.2 step 8, boolean branch. */
static void test_opro_normalize_boolean(void **state)
{
	static const struct norm_case c[] = {
	    {"Yes.", 0, 1, "yes"},
	    {"invalid", 0, 1, "invalid"},
	    {"0", 0, 1, "false"},
	    {"1", 0, 1, "true"},
	    {"None", 0, 1, "true"},
	    {"1.0", 0, 1, "true"},
	    {"yes, it is.", 0, 1, "yes it is"},
	    {"the sky: blue!", 0, 1, "the sky blue"},
	    {"2", 0, 1, "2"},
	};

	(void)state;
	check_norm(c, sizeof(c) / sizeof(c[0]));
}

struct acc_case {
	const char *target, *pred;
	int mc, include;
	int want;
};

static const char mc_prompt[] =
    "From which direction does the sun rise? (A) west (B) east (C) north (D) south";

static void test_opro_accuracy(void **state)
{
	static const struct acc_case c[] = {
	    {"(B)", "b", 1, 1, 1},
	    {"(B)", "(b)", 1, 1, 1},
	    {"B", "b", 1, 1, 1},
	    {"(B)", "east", 1, 1, 1},
	    {"(B)", "east, not west", 1, 1, 0},
	    {"(B)", "i think east", 1, 1, 1},
	    {"(B)", "east.", 1, 1, 1},
	    {"(B)", "a", 1, 1, 0},
	    {"(B)", "(a) or (b)", 1, 1, 1},
	    {"(A)", "(a) or (b)", 1, 1, 1},
	    {"yes", "(b)", 1, 1, 0}, /* not (x): 0 before the include rule */
	    {"A", "i cannot answer this", 1, 1, 1},
	    {"-3", "3", 0, 0, 1},
	    {"3.5", "35", 0, 0, 1},
	    {"3.5", "4", 0, 0, 0},
	    {"12", "123", 0, 0, 0}, /* numbers: no include rule */
	    {"12", "123", 0, 1, 1},
	    {"No", "not sure", 0, 1, 1},
	    {"No", "know", 0, 1, 1},
	    {"valid", "invalid", 0, 1, 1},
	    {"Yes", "true", 0, 1, 1},
	    {"valid", "1", 0, 1, 1},
	    {"True", "1", 0, 1, 1},
	    {"No", "false", 0, 1, 1},
	    {"invalid", "0", 0, 1, 1},
	    {"False", "no", 0, 1, 0}, /* one way only */
	    {"False", "yes", 0, 1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int got = score_opro_accuracy(c[i].target, c[i].pred, c[i].mc ? mc_prompt : "",
					      c[i].include);
		if (got != c[i].want)
			print_message("accuracy(%s, %s, mc=%d) = %d\n", c[i].target, c[i].pred,
				      c[i].mc, got);
		assert_int_equal(got, c[i].want);
	}
	/* an earlier "A:" shifts the option texts: (B)'s text is then "west" */
	assert_int_equal(score_opro_accuracy("(B)", "west", "Q A: x (A) west (B) east", 0), 1);
	/* the last line's option keeps only its first line */
	assert_int_equal(score_opro_accuracy("(B)", "east", "Q (A) west (B) east\nA:", 0), 1);
	/* letters counted from (A) until the first missing one */
	assert_int_equal(
	    score_opro_accuracy("(A)", "west or south", "(A) west (B) east (D) south", 0), 1);
	/* target letter past the options: OPRO raises */
	assert_int_equal(score_opro_accuracy("(E)", "e", mc_prompt, 1), -1);
}

struct full_case {
	enum score_type type;
	const char *raw, *target;
	int gpt;
	const char *parsed;
	enum score_outcome want;
};

static void check_full(enum score_rules rules, const struct full_case *c, size_t n,
		       const char *prompt)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct score_result r;

		assert_int_equal(
		    score_answer(c[i].raw, c[i].target, c[i].type, rules, prompt, c[i].gpt, &r), 0);
		if (strcmp(r.parsed, c[i].parsed) || r.outcome != c[i].want)
			print_message("score(%s, %s) = [%s] %d, want [%s] %d\n", c[i].raw,
				      c[i].target, r.parsed, r.outcome, c[i].parsed, c[i].want);
		assert_string_equal(r.parsed, c[i].parsed);
		assert_int_equal(r.outcome, c[i].want);
		score_result_release(&r);
	}
}

/* Section 1.1 (parse, clean up, score) and 1.3 through score_answer. */
static void test_opro_pipeline(void **state)
{
	static const struct full_case c[] = {
	    {SCORE_BOOLEAN, "yes.", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "YES", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "Not sure", "No", 0, "not sure", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "True", "Yes", 0, "true", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "1", "valid", 0, "true", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "0", "No", 0, "false", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "No", "False", 0, "no", SCORE_WRONG},
	    {SCORE_BOOLEAN, "None", "True", 0, "true", SCORE_CORRECT},
	    {SCORE_NUMBER, "Answer: 42", "42", 0, "", SCORE_WRONG},
	    {SCORE_NUMBER, "twenty-one", "21", 0, "1", SCORE_WRONG},
	    {SCORE_NUMBER, "seventeen", "17", 0, "7", SCORE_WRONG},
	    {SCORE_NUMBER, "3.5", "3.5", 0, "4", SCORE_WRONG},
	    {SCORE_NUMBER, "$18.50", "18", 0, "18", SCORE_CORRECT},
	    {SCORE_NUMBER, "The answer is 1,234.", "1234", 0, "1234", SCORE_CORRECT},
	    {SCORE_NUMBER, "123", "12", 0, "123", SCORE_WRONG},
	    {SCORE_TEXT, "::  blue\nred", "blue", 0, "blue", SCORE_CORRECT},
	    {SCORE_TEXT, "green Q: blue", "blue", 0, "green", SCORE_WRONG},
	    /* \boxed: verbatim to the first '}' for GPT scorers only */
	    {SCORE_TEXT, "so \\boxed{\\frac{1}{2}}", "x", 1, "\\frac{1", SCORE_WRONG},
	    {SCORE_TEXT, "so \\boxed{Blue}.", "blue", 1, "Blue", SCORE_CORRECT},
	    {SCORE_TEXT, "so \\boxed{Blue}", "blue", 0, "so \\boxed{blue}", SCORE_CORRECT},
	    {SCORE_TEXT, "\\boxed", "x", 1, "", SCORE_UNPARSED},
	};

	(void)state;
	check_full(SCORE_OPRO, c, sizeof(c) / sizeof(c[0]), NULL);
}

static void test_opro_choice(void **state)
{
	static const struct full_case c[] = {
	    {SCORE_CHOICE, "(B)", "(B)", 0, "(b)", SCORE_CORRECT},
	    {SCORE_CHOICE, "B", "(B)", 0, "b", SCORE_CORRECT},
	    {SCORE_CHOICE, "(b) east", "(B)", 0, "(b)", SCORE_CORRECT},
	    {SCORE_CHOICE, "The answer is (B).", "(B)", 0, "(b)", SCORE_CORRECT},
	    {SCORE_CHOICE, "east", "(B)", 0, "east", SCORE_CORRECT},
	    {SCORE_CHOICE, "Answer: B", "(B)", 0, "answer: b", SCORE_WRONG},
	    {SCORE_CHOICE, "answer: B", "(B)", 0, "b", SCORE_CORRECT},
	    {SCORE_CHOICE, "(A) or (B)", "(B)", 0, "(a) or (b)", SCORE_CORRECT},
	    {SCORE_CHOICE, "(A) or (B)", "(A)", 0, "(a) or (b)", SCORE_CORRECT},
	    {SCORE_CHOICE, "I cannot answer this.", "A", 0, "i cannot answer this", SCORE_CORRECT},
	};

	(void)state;
	check_full(SCORE_OPRO, c, sizeof(c) / sizeof(c[0]), mc_prompt);
}

/* weft's strict rules: at least 30 answer shapes. */
static void test_strict(void **state)
{
	static const struct full_case c[] = {
	    {SCORE_BOOLEAN, "Yes", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "yes.", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "**No**", "No", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "Not sure", "No", 0, "not sure", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "I don\xe2\x80\x99t know", "No", 0, "i don't know", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "I know", "No", 0, "i know", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "It depends on the context.", "Yes", 0, "it depends on the context.",
	     SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "As an AI, I cannot answer that.", "Yes", 0,
	     "as an ai, i cannot answer that.", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "invalid", "valid", 0, "invalid", SCORE_WRONG},
	    {SCORE_BOOLEAN, "No, it is not true.", "No", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "True", "Yes", 0, "true", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "No", "False", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "Answer: Yes", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "After thinking, the answer is no.", "No", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "Definitely yes", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "That is not true", "No", 0, "not true", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "yes and no", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "It could be yes or it could be no", "Yes", 0,
	     "it could be yes or it could be no", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "", "Yes", 0, "", SCORE_UNPARSED},
	    {SCORE_NUMBER, "Answer: 42", "42", 0, "42", SCORE_CORRECT},
	    {SCORE_NUMBER, "twenty-one", "21", 0, "21", SCORE_CORRECT},
	    {SCORE_NUMBER, "seventeen", "17", 0, "17", SCORE_CORRECT},
	    {SCORE_NUMBER, "one hundred and five", "105", 0, "105", SCORE_CORRECT},
	    {SCORE_NUMBER, "3.5", "3.5", 0, "3.5", SCORE_CORRECT},
	    {SCORE_NUMBER, "3.5", "4", 0, "3.5", SCORE_WRONG},
	    {SCORE_NUMBER, "1,234 apples", "1234", 0, "1234", SCORE_CORRECT},
	    {SCORE_NUMBER, "$18.50", "18.5", 0, "18.5", SCORE_CORRECT},
	    {SCORE_NUMBER, "5  apples", "5", 0, "5", SCORE_CORRECT},
	    {SCORE_NUMBER, "-3", "3", 0, "-3", SCORE_WRONG},
	    {SCORE_NUMBER, "I have 3 apples, then 5, so 8 in total", "8", 0, "8", SCORE_CORRECT},
	    {SCORE_NUMBER, "The answer is 8 (3 + 5)", "8", 0, "8", SCORE_CORRECT},
	    {SCORE_NUMBER, "#### 72", "72", 0, "72", SCORE_CORRECT},
	    {SCORE_NUMBER, "\\boxed{12}", "12", 0, "12", SCORE_CORRECT},
	    {SCORE_NUMBER, "none", "1", 0, "", SCORE_UNPARSED},
	    {SCORE_NUMBER, "I'm not sure, maybe 4", "4", 0, "i'm not sure, maybe 4",
	     SCORE_UNPARSED},
	    {SCORE_TEXT, "Blue.", "blue", 0, "blue", SCORE_CORRECT},
	    {SCORE_TEXT, "The answer is: the Pacific Ocean", "Pacific Ocean", 0, "pacific ocean",
	     SCORE_CORRECT},
	    {SCORE_TEXT, "light blue", "blue", 0, "light blue", SCORE_WRONG},
	    {SCORE_TEXT, "I cannot answer that", "blue", 0, "i cannot answer that", SCORE_UNPARSED},
	};

	(void)state;
	check_full(SCORE_STRICT, c, sizeof(c) / sizeof(c[0]), NULL);
}

static void test_strict_choice(void **state)
{
	static const struct full_case c[] = {
	    {SCORE_CHOICE, "(B)", "(B)", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "B", "(B)", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "b) east", "B", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "Answer: B", "(B)", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "The answer is (B).", "(B)", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "east", "(B)", 0, "B", SCORE_CORRECT},
	    {SCORE_CHOICE, "east, not west", "(B)", 0, "east, not west", SCORE_UNPARSED},
	    {SCORE_CHOICE, "(A) or (B)", "(B)", 0, "(a) or (b)", SCORE_UNPARSED},
	    {SCORE_CHOICE, "A is right", "(A)", 0, "A", SCORE_CORRECT},
	    {SCORE_CHOICE, "a guess would be south", "(D)", 0, "D", SCORE_CORRECT},
	    {SCORE_CHOICE, "I cannot answer this.", "A", 0, "i cannot answer this.",
	     SCORE_UNPARSED},
	    {SCORE_CHOICE, "Option C", "(B)", 0, "C", SCORE_WRONG},
	};

	(void)state;
	check_full(SCORE_STRICT, c, sizeof(c) / sizeof(c[0]), mc_prompt);
}

/* Strict word boundaries are Unicode-aware: a letter of any script (or a
 * combining mark) continues a word, so "ności" is not the word "no". */
static void test_strict_unicode_words(void **state)
{
	static const struct full_case c[] = {
	    {SCORE_BOOLEAN, "no\u015bci", "No", 0, "no\u015bci", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "N\xc3\xb3", "No", 0, "n\xc3\xb3", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "no\xcc\x81", "No", 0, "no\xcc\x81", SCORE_UNPARSED},
	    {SCORE_BOOLEAN, "No, no\u015bci", "No", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "no\u015bci? Tak. No", "No", 0, "no", SCORE_CORRECT},
	    {SCORE_BOOLEAN, "\xd0\xb4\xd0\xb0yes", "Yes", 0, "\xd0\xb4\xd0\xb0yes", SCORE_UNPARSED},
	    /* a hedge word inside a longer word is no hedge */
	    {SCORE_BOOLEAN, "\xc5\xbcmaybe yes", "Yes", 0, "yes", SCORE_CORRECT},
	    {SCORE_NUMBER, "twenty\xc3\xa9", "20", 0, "", SCORE_UNPARSED},
	    {SCORE_NUMBER, "\xc3\xa9-3", "3", 0, "3", SCORE_CORRECT},
	};
	static const struct full_case choice[] = {
	    {SCORE_CHOICE, "b\xc3\xa9", "(B)", 0, "b\xc3\xa9", SCORE_UNPARSED},
	    {SCORE_CHOICE, "b) \xc3\xa9t\xc3\xa9", "(B)", 0, "B", SCORE_CORRECT},
	};

	(void)state;
	check_full(SCORE_STRICT, c, sizeof(c) / sizeof(c[0]), NULL);
	check_full(SCORE_STRICT, choice, sizeof(choice) / sizeof(choice[0]), mc_prompt);
}

/* Section 1.5: number_included_accuracy (expected values from Python). */
static void test_opro_number_included(void **state)
{
	static const struct {
		const char *target, *pred, *parsed;
		int want;
	} c[] = {
	    {"42", "The answer is 42.", "42", 1},
	    {"3.50", "3.5 dollars", "3.50", 1}, /* decimals from the target */
	    {"3.5", "3.54", "3.5", 1},
	    {"3.5", "3.46", "3.5", 1},
	    {"The answer is: 12", "12", "12", 1},
	    {"#### 1,234", "1234", "1234", 0}, /* target stays text */
	    {"#### 1,234", "1,234", "1,234", 1},
	    {"0.125", "0.125", "0.125", 1},
	    {"0.12", "0.125", "0.12", 1}, /* half-even on the binary value */
	    {"12.", "12", "12", 1},
	    {"Paris", "paris", "paris", 1},
	    {"Paris", "Paris.", "paris", 1},
	    {"The answer is Paris", "paris", "paris", 1},
	    {"x is: 7;", "7", "7", 1}, /* trailing ';' dropped before a float */
	    {"2.675", "2.675", "2.675", 1},
	    {"2.68", "2.675", "2.67", 0}, /* 2.675 is 2.67499999... in binary */
	    {"1e3", "1000", "1000", 1},
	    {"-0.5", "-0.49", "-0.5", 1},
	    {"10", "ten", "10", 1},
	    {"5 is the answer", "5", "5", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		int got = score_opro_number_included(c[i].target, c[i].pred, &sb);

		if (got != c[i].want || strcmp(sb.data, c[i].parsed))
			print_message("number_included(%s, %s) = [%s] %d\n", c[i].target, c[i].pred,
				      sb.data, got);
		assert_string_equal(sb.data, c[i].parsed);
		assert_int_equal(got, c[i].want);
		strbuf_release(&sb);
	}
}

static void test_adaptive(void **state)
{
	(void)state;
	/* the same answers as Python's str.isnumeric() */
	assert_true(score_target_is_numeric("12"));
	assert_true(score_target_is_numeric("\xd9\xa3"));     /* Arabic-Indic 3 */
	assert_true(score_target_is_numeric("\xc2\xbd"));     /* one half */
	assert_true(score_target_is_numeric("\xc2\xb2"));     /* superscript 2 */
	assert_true(score_target_is_numeric("\xe4\xba\x94")); /* CJK five */
	assert_false(score_target_is_numeric(""));
	assert_false(score_target_is_numeric("1.5"));
	assert_false(score_target_is_numeric("-3"));
	assert_false(score_target_is_numeric("1/2"));
	assert_false(score_target_is_numeric("12 "));
}

static void test_parse_names(void **state)
{
	enum score_type t;
	enum score_rules r;

	(void)state;
	assert_int_equal(score_type_parse("boolean", &t), 0);
	assert_int_equal(t, SCORE_BOOLEAN);
	assert_int_equal(score_type_parse("number", &t), 0);
	assert_int_equal(t, SCORE_NUMBER);
	assert_int_equal(score_type_parse("nope", &t), -1);
	assert_int_equal(score_rules_parse("opro", &r), 0);
	assert_int_equal(r, SCORE_OPRO);
	assert_int_equal(score_rules_parse("loose", &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opro_normalize_text),
	    cmocka_unit_test(test_opro_normalize_number),
	    cmocka_unit_test(test_opro_normalize_boolean),
	    cmocka_unit_test(test_opro_accuracy),
	    cmocka_unit_test(test_opro_pipeline),
	    cmocka_unit_test(test_opro_choice),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_strict_unicode_words),
	    cmocka_unit_test(test_strict_choice),
	    cmocka_unit_test(test_opro_number_included),
	    cmocka_unit_test(test_adaptive),
	    cmocka_unit_test(test_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#ifndef WEFT_SCORE_H
#define WEFT_SCORE_H
/*
 * Scoring one generated answer against its target (the `generate` method of
 * weft eval, and `weft score`).  Two rule sets:
 *
 *  - SCORE_OPRO follows OPRO's normalisation and accuracy to the letter,
 *    quirks included (../shared/EVAL_RULES.md section 1): numbers are then
 *    comparable with OPRO's.  Python's str semantics are reproduced:
 *    lower() via towlower in the C.UTF-8 locale plus U+0130 -> "i\u0307"
 *    and the final-sigma rule; strip() on Unicode whitespace; \d and
 *    float() on every Unicode decimal digit; isalpha() via iswalpha minus
 *    digits.  Limits: without the C.UTF-8 locale only ASCII and Latin-1 are
 *    lowered; Case_Ignorable (for final sigma) is approximated by a short
 *    list; full case mappings other than U+0130 (none lowercase to two
 *    characters otherwise) need nothing more.
 *  - SCORE_STRICT is weft's own: no substring credit, answer markers in any
 *    case, number words composed (`twenty-one` is 21), and hedges or refusals
 *    counted as SCORE_UNPARSED rather than right or wrong.
 *
 * All text is UTF-8 (invalid bytes pass through unchanged).  The parsed
 * answer is the only memory handed to the caller.  Thread-safe.
 */
#include "weft/strbuf.h"

enum score_type {
	SCORE_BOOLEAN,
	SCORE_CHOICE,
	SCORE_NUMBER,
	SCORE_TEXT,
};

enum score_rules {
	SCORE_OPRO,
	SCORE_STRICT,
};

enum score_outcome {
	SCORE_WRONG = 0,
	SCORE_CORRECT = 1,
	/* No answer could be read: strict mode's hedges, refusals, empty or
	 * ambiguous answers; in OPRO mode only the inputs on which OPRO itself
	 * raises an exception (a `\boxed` without `{...}` on one line, a target
	 * letter past the options of the prompt). */
	SCORE_UNPARSED = 2,
};

struct score_result {
	char *parsed; /* owned; the normalised answer ("" if none) */
	enum score_outcome outcome;
	const char *note; /* static; why unparsed, or NULL */
};

/*
 * Scores raw (the model's answer) against target.  prompt is the full
 * question text for SCORE_CHOICE (its `(A) ...` options), else ignored; may
 * be NULL.  scorer_is_gpt enables OPRO's `\boxed{}` rule (OPRO applies it
 * only for gpt-3.5-turbo/gpt-4 scorers); strict mode always reads `\boxed{}`.
 * Fills *out (release with score_result_release) and returns 0.
 */
int score_answer(const char *raw, const char *target, enum score_type type, enum score_rules rules,
		 const char *prompt, int scorer_is_gpt, struct score_result *out);
void score_result_release(struct score_result *r);

/* OPRO's get_normalized_prediction(raw, treat_as_number, num_decimals=0,
 * treat_as_bool), appended to out (section 1.2). */
void score_opro_normalize(const char *raw, int treat_as_number, int treat_as_bool,
			  struct strbuf *out);
/* OPRO's _get_accuracy(true, pred, input_text, include) (section 1.4);
 * returns 0/1, or -1 where OPRO raises (target letter with no option text). */
int score_opro_accuracy(const char *target, const char *pred, const char *input_text,
			int include_rule);

/*
 * OPRO's second scorer, number_included_accuracy_list for one pair
 * (metrics.py; EVAL_RULES section 1.5; not used by OPRO's driver): the
 * target is normalised, typed as number or text by whether it parses as a
 * float (decimals = digits after its last '.'), the prediction normalised
 * accordingly; numbers compare within 1e-5 after rounding, text exactly.
 * Returns 0/1; appends the normalised prediction to parsed (may be NULL).
 */
int score_opro_number_included(const char *target, const char *pred, struct strbuf *parsed);

/* Python's target.isnumeric(), which OPRO's "adaptive" mode (MATH) uses to
 * score an example as SCORE_NUMBER, else as SCORE_TEXT.  Covers decimal
 * digits of every script, super/subscript digits, vulgar fractions, number
 * forms, circled numbers and the common CJK numerals; "" is not numeric. */
int score_target_is_numeric(const char *target);

/* Name <-> enum for the command line; return 0, or -1 for an unknown name. */
int score_type_parse(const char *name, enum score_type *type);
int score_rules_parse(const char *name, enum score_rules *rules);

#endif

#ifndef WEFT_RANK_H
#define WEFT_RANK_H
/*
 * Turning a judge's answer into rank scores for n options (numbered 1..n).
 * Each function fills scores[0..n-1] (normalised to sum to 1) and *pick
 * (0-based, the highest score, ties to the lowest number), or returns -1
 * with err saying why the answer is unusable (empty, no option number, out
 * of range, several options, bad scores).  An invalid answer is never
 * turned into a pick: the caller asks again or waits for a person.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

/* One alternative among a token's top logprobs. */
struct rank_alt {
	const char *token; /* borrowed */
	double logprob;
};

/* choice: the answer names one option ("3", "3.", "(3)", "Option 3", ...). */
int rank_parse_choice(const char *answer, size_t n, double *scores, size_t *pick,
		      struct errbuf *err);

/* logprobs: the probabilities of the tokens "1".."n" (surrounding white
 * space ignored; the same number seen twice adds up) among the top
 * alternatives of the judge's first answer token. */
int rank_from_top_logprobs(const struct rank_alt *alts, size_t count, size_t n, double *scores,
			   size_t *pick, struct errbuf *err);

/* scores: a JSON array of n numbers, or an object {"1": x, ..., "n": y},
 * anywhere in the answer; every option needs a score >= 0, not all 0. */
int rank_parse_scores(const char *answer, size_t n, double *scores, size_t *pick,
		      struct errbuf *err);

/*
 * Merges identical candidates before judging.  For texts[0..count-1] fills
 * option_of[i] with the 0-based option that text i became, and returns the
 * number of distinct options; first[k] (when not NULL) gets the index of the
 * first text of option k.
 */
size_t rank_merge(const char *const *texts, size_t count, size_t *option_of, size_t *first);

/* Appends the options as "1. TEXT" blocks separated by blank lines. */
void rank_format_options(const char *const *texts, const size_t *first, size_t options,
			 struct strbuf *out);

#endif

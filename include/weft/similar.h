#ifndef WEFT_SIMILAR_H
#define WEFT_SIMILAR_H
/*
 * Near-duplicate texts (src/data/similar.c): lexical similarity of short
 * texts (questions), for the curated dataset (curate.h), the steering step
 * and a dataset map.
 *
 * Similarity is the Jaccard index of two texts' word 2-gram sets after the
 * normalisation of normalised duplicates (pairs_normalise_question: ASCII
 * case folded, whitespace runs folded), each word stripped of the ASCII
 * punctuation around it; a text of one word is its one word.  1 for equal
 * sets, 0 for disjoint or empty ones.
 *
 * A match records where its similarity came from, so that an embedding
 * similarity (an `embedder` role) can fill the same flag:
 * SIMILAR_SOURCE_LEXICAL here, SIMILAR_SOURCE_EMBEDDING for cosines.
 */
#include <stddef.h>

#define SIMILAR_DEFAULT_THRESHOLD 0.8
#define SIMILAR_SOURCE_LEXICAL	  "lexical"
#define SIMILAR_SOURCE_EMBEDDING  "embedding"

/* The similarity of two texts (NUL-terminated, any bytes), in [0, 1]. */
double similar_text(const char *a, const char *b);

/* The nearest earlier text of one text. */
struct similar_match {
	int found;	    /* 0: nothing at or above the threshold */
	size_t of;	    /* index of the earlier text */
	double score;	    /* its similarity */
	const char *source; /* SIMILAR_SOURCE_*, static */
};

/*
 * What one search may cost: SIMILAR_WORK_BASE plus SIMILAR_WORK_PER_TEXT
 * for each text, counted in candidate pairs looked at.  Ordinary questions
 * take a few per text; thousands of questions drawn from a handful of words
 * take many more, and the search stops rather than take minutes.
 */
#define SIMILAR_WORK_BASE     20000000u
#define SIMILAR_WORK_PER_TEXT 100u

/*
 * For each texts[i] (n of them), the most similar earlier texts[j] (j < i,
 * the earliest on a tie) with similarity >= threshold, among the j with
 * eligible[j] non-zero (eligible NULL: all).  Fills out[0..n).  threshold
 * <= 0 or > 1 finds nothing.  Each text is compared only with earlier ones
 * sharing one of its rarest 2-grams and able to reach the threshold from
 * where they share it (prefix and position filtering), which loses no
 * match at or above the threshold.  Returns 0, or 1 when the search passed
 * its budget: out then holds the matches of the texts before the one it
 * stopped at, and nothing for that one and the rest.
 */
int similar_near_duplicates(const char *const *texts, size_t n, const unsigned char *eligible,
			    double threshold, struct similar_match *out);

#endif

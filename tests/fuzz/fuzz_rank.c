/* libFuzzer target: judge answers through every rank parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/rank.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	double scores[9];
	size_t pick;
	struct errbuf err;
	struct rank_alt alts[2];

	memcpy(s, data, size);
	s[size] = '\0';
	rank_parse_choice(s, 9, scores, &pick, &err);
	rank_parse_scores(s, 9, scores, &pick, &err);
	alts[0].token = s;
	alts[0].logprob = -0.5;
	alts[1].token = "3";
	alts[1].logprob = -1.5;
	rank_from_top_logprobs(alts, 2, 9, scores, &pick, &err);
	free(s);
	return 0;
}

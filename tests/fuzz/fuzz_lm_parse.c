/* libFuzzer target: model reply bodies through every parser of src/lm
 * (both logprob shapes, error bodies, Retry-After). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/lm.h"
#include "weft/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_response r, copy;
	struct errbuf err;
	struct strbuf sb = STRBUF_INIT;
	char *s = malloc(size + 1);
	int quota;

	memcpy(s, data, size);
	s[size] = '\0';
	lm_response_init(&r);
	lm_response_parse(&r, LM_CHAT, s, size, &err);
	lm_response_parse(&r, LM_COMPLETIONS, s, size, &err);
	lm_response_copy(&copy, &r);
	lm_response_truncate(&copy, 1);
	lm_response_release(&copy);
	lm_response_release(&r);
	lm_error_message(s, size, &sb, &quota);
	strbuf_release(&sb);
	lm_retry_after_ms(s, NULL, 0);
	lm_retry_after_ms(NULL, s, 0);
	free(s);
	return 0;
}

#ifndef WEFT_LM_JSON_H
#define WEFT_LM_JSON_H
/*
 * Private to src/lm: a reply already parsed by cJSON, for the batch
 * result lines (lmbatch.c), whose bodies sit inside a line.  Printing a
 * body back to text and parsing it again would round some logprobs
 * (cJSON prints 15 digits when they read back "close enough"), so the
 * parsed object is read directly.
 */
#include <cjson/cJSON.h>

#include "weft/errbuf.h"
#include "weft/lm.h"

/* lm_response_parse on the parsed root (see lm.h). */
int lm_response_from_json(struct lm_response *resp, enum lm_endpoint kind, const cJSON *root,
			  struct errbuf *err);

#endif

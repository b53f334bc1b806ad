/*
 * The reply of POST /embeddings: one vector per input, checked whole before
 * any of it is kept, so a caller never sees half a batch or vectors of
 * different widths.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/xalloc.h"

/* The vector of one data[] item into row (dim numbers; dim 0: learn it). */
static int take_vector(const cJSON *emb, double **rows, size_t *dim, size_t index, size_t expect,
		       struct errbuf *err)
{
	const cJSON *v;
	size_t n = 0;

	if (!cJSON_IsArray(emb))
		return errbuf_set(err, "embedding %zu is not an array of numbers", index);
	if (!*dim) {
		cJSON_ArrayForEach(v, emb)
		{
			if (++n > LM_MAX_EMBED_DIM)
				return errbuf_set(err, "embedding %zu has more than %d numbers",
						  index, LM_MAX_EMBED_DIM);
		}
		if (!n)
			return errbuf_set(err, "embedding %zu is empty", index);
		*dim = n;
		*rows = xreallocarray(NULL, expect * n, sizeof(double));
		n = 0;
	}
	cJSON_ArrayForEach(v, emb)
	{
		if (n >= *dim)
			return errbuf_set(err,
					  "embedding %zu has more than %zu numbers, as the first",
					  index, *dim);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			return errbuf_set(err, "embedding %zu holds something not a finite number",
					  index);
		(*rows)[index * *dim + n++] = v->valuedouble;
	}
	if (n != *dim)
		return errbuf_set(err, "embedding %zu has %zu numbers, the first %zu", index, n,
				  *dim);
	return 0;
}

static int parse_data(const cJSON *data, double **rows, size_t *dim, size_t expect,
		      struct errbuf *err)
{
	unsigned char *seen;
	const cJSON *item;
	size_t got = 0;
	int rc = 0;

	if (!cJSON_IsArray(data))
		return errbuf_set(err, "response has no \"data\" array");
	if ((size_t)cJSON_GetArraySize(data) != expect)
		return errbuf_set(err, "response has %d embeddings for %zu inputs",
				  cJSON_GetArraySize(data), expect);
	seen = xcalloc(expect ? expect : 1, 1);
	cJSON_ArrayForEach(item, data)
	{
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(item, "index");
		double d = cJSON_IsNumber(idx) ? idx->valuedouble : -1;
		size_t i;

		if (!(d >= 0 && d < (double)expect && d == floor(d))) {
			rc = errbuf_set(err, "embedding %zu has no valid \"index\"", got);
			break;
		}
		i = (size_t)d;
		if (seen[i]) {
			rc = errbuf_set(err, "index %zu comes twice", i);
			break;
		}
		seen[i] = 1;
		rc = take_vector(cJSON_GetObjectItemCaseSensitive(item, "embedding"), rows, dim, i,
				 expect, err);
		if (rc < 0)
			break;
		got++;
	}
	free(seen);
	return rc;
}

int lm_embeddings_parse(struct lm_response *resp, const char *body, size_t len, size_t expect,
			struct errbuf *err)
{
	cJSON *root;
	double *rows = NULL;
	size_t dim = 0;
	int rc;

	free(resp->vectors);
	resp->vectors = NULL;
	resp->nvectors = resp->dim = 0;
	if (!expect || expect > LM_MAX_EMBED_INPUTS)
		return errbuf_set(err, "%zu inputs: expected 1 to %d", expect, LM_MAX_EMBED_INPUTS);
	root = cJSON_ParseWithLength(body, len);
	if (!root)
		return errbuf_set(err, "invalid JSON in response (%zu bytes)", len);
	rc = parse_data(cJSON_GetObjectItemCaseSensitive(root, "data"), &rows, &dim, expect, err);
	cJSON_Delete(root);
	if (rc < 0) {
		free(rows);
		return -1;
	}
	resp->vectors = rows;
	resp->nvectors = expect;
	resp->dim = dim;
	return 0;
}

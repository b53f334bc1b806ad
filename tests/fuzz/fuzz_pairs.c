/* libFuzzer target: pair extraction.  The first byte picks the mode and
 * the start offset; the rest is the document, with a node span every 64
 * bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "weft/pairs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *ids[] = {"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"};
	struct pairs_span spans[8];
	struct pairs_options o;
	struct pairs_result r = {0};
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	size_t k, nspans = 0, len;
	const char *doc;

	if (size < 1)
		return 0;
	doc = (const char *)data + 1;
	len = size - 1;
	pairs_options_init(&o);
	o.compat_seed = data[0] & 1;
	if (data[0] & 2)
		o.preamble = NULL;
	o.start = (data[0] >> 2) % (len + 1);
	for (k = 0; k < 8 && k * 64 < len; k++) {
		spans[k].offset = k * 64;
		spans[k].node_id = ids[k];
		nspans++;
	}
	if (pairs_extract(doc, len, nspans ? spans : NULL, nspans, &o, &r, &err) == 0)
		pairs_summary(&r, &sb);
	pairs_result_release(&r);
	strbuf_release(&sb);
	return 0;
}

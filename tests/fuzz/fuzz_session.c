/* libFuzzer target: session files through session_load_buffer; whatever
 * loads is written back and must load again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "weft/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree *t = NULL, *t2 = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;

	if (session_load_buffer("fuzz", (const char *)data, size, &t, &err))
		return 0;
	session_write(t, &sb);
	if (session_load_buffer("fuzz2", sb.data, sb.len, &t2, &err))
		abort(); /* what weft writes, weft must read */
	tree_free(t2);
	tree_free(t);
	strbuf_release(&sb);
	return 0;
}

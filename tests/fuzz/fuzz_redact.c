/* libFuzzer target: redaction.  The input is split at its first NUL into
 * a secret and a text (the secret cut to 64 bytes).  Whatever the text,
 * the output holds no REDACT_MIN_PIECE-byte piece of the secret (no whole
 * secret when it is shorter; secrets holding '[' or ']' aside) and redacting the output again changes nothing (when no piece of
 * the secret is in the mark itself). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has(const char *hay, size_t hl, const char *needle, size_t nl)
{
	size_t i;

	for (i = 0; nl && i + nl <= hl; i++)
		if (!memcmp(hay + i, needle, nl))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	char secret[65];
	const char *secrets[1] = {secret};
	const char *text;
	size_t sl, tl, i, piece;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (!nul)
		return 0;
	sl = (size_t)(nul - (const char *)data);
	if (sl > 64)
		sl = 64;
	memcpy(secret, data, sl);
	secret[sl] = '\0';
	/* A piece of output that overlaps the mark holds '[' or ']'; keys
	 * never do, and a secret that does (or lies inside the mark) could
	 * "leak" the mark's own bytes. */
	if (memchr(secret, '[', sl) || memchr(secret, ']', sl) ||
	    has(REDACT_MARK, strlen(REDACT_MARK), secret, sl))
		return 0;
	text = nul + 1;
	tl = size - (size_t)(nul - (const char *)data) - 1;
	redact_append(&a, text, tl, secrets, 1);
	piece = sl < REDACT_MIN_PIECE ? sl : REDACT_MIN_PIECE;
	for (i = 0; sl && i + piece <= sl; i++)
		if (has(a.data ? a.data : "", a.len, secret + i, piece))
			abort();
	for (i = 0; sl && i + piece <= sl; i++)
		if (has(REDACT_MARK, strlen(REDACT_MARK), secret + i, piece))
			break;
	if (sl && i + piece > sl) { /* no piece of the secret is in the mark */
		redact_append(&b, a.data ? a.data : "", a.len, secrets, 1);
		if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			abort();
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}

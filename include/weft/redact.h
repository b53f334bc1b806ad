#ifndef WEFT_REDACT_H
#define WEFT_REDACT_H
/*
 * Keeping secrets (API keys) out of everything weft prints, logs, stores
 * or exports.  A key is never written whole, and no piece of it long
 * enough to matter is either: every run of a text that shares
 * REDACT_MIN_PIECE or more consecutive bytes with a secret is replaced by
 * REDACT_MARK, so a key cut short, echoed with one character changed or
 * split across a text's edge still comes out hidden.  A secret shorter
 * than REDACT_MIN_PIECE is hidden where it appears whole, and one shorter
 * than REDACT_MIN_SECRET is no secret: it is the placeholder a local
 * server takes ("none", "x", "EMPTY"), and hiding it would cut every
 * "none" and every x out of the text a model writes.
 *
 * Linear in the text for a fixed set of secrets (a rolling hash of every
 * piece of every secret): a 16 MiB reply costs one pass.
 */
#include <stddef.h>

#include "weft/strbuf.h"

#define REDACT_MIN_PIECE  12
#define REDACT_MIN_SECRET 8
#define REDACT_MARK	  "[key hidden]"

/*
 * Appends text (len bytes, any bytes) to out with every run that shares
 * REDACT_MIN_PIECE bytes with one of the nsecrets secrets (NUL-terminated;
 * NULL ones and those shorter than REDACT_MIN_SECRET are skipped) replaced
 * by REDACT_MARK.  Returns the
 * number of runs replaced.
 */
size_t redact_append(struct strbuf *out, const char *text, size_t len, const char *const *secrets,
		     size_t nsecrets);

/*
 * Redacts the NUL-terminated heap string *s in place (it may be
 * reallocated; NULL is left alone).  Returns the number of runs replaced.
 */
size_t redact_string(char **s, const char *const *secrets, size_t nsecrets);

#endif

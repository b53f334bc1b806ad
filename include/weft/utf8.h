#ifndef WEFT_UTF8_H
#define WEFT_UTF8_H
/*
 * UTF-8 (src/core/utf8.c), as RFC 3629 defines it: no overlong forms, no
 * surrogates, nothing above U+10FFFF.  Text from models and files may be
 * anything; these say what is well formed and leave the rest to the caller.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/strbuf.h"

/* Decodes the sequence at s (len > 0 bytes left).  Returns its length (1
 * to 4) with the code point in *cp, or 0 when s does not start a
 * well-formed sequence (*cp is then unset). */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Whether all n bytes of s are well-formed UTF-8. */
int utf8_valid(const unsigned char *s, size_t n);

/* The length of the longest well-formed prefix of the n bytes of s: n when
 * they all are, else the offset of the first byte that does not start a
 * well-formed sequence. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Appends the len bytes of s to sb with every byte that does not start a
 * well-formed sequence replaced by U+FFFD (one replacement per byte). */
void utf8_add_sanitized(struct strbuf *sb, const char *s, size_t len);

/* The length of a UTF-8 byte-order mark (EF BB BF) at the start of the len
 * bytes of s: 3, or 0 when there is none.  Every reader of a file skips it
 * (docs/formats.md). */
size_t utf8_bom_len(const char *s, size_t len);

/* Appends the encoding of cp (at most U+10FFFF) to sb. */
void utf8_encode(struct strbuf *sb, uint32_t cp);

#endif

#ifndef WEFT_SAFETEXT_H
#define WEFT_SAFETEXT_H
/*
 * Text from files and models, made safe to print on a terminal.  Only the
 * display changes: sessions keep every byte.
 *
 *   C0 controls (ESC, CR, BS, BEL...)   ^[ ^M ^H ^G (newline and tab kept
 *                                       when keep_newlines)
 *   DEL                                 ^?
 *   C1 controls U+0080..U+009F          <U+009B>
 *   bidi controls U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069,
 *   zero-width and invisible U+200B..U+200D, U+2060..U+2064, U+FEFF,
 *   separators U+2028, U+2029           <U+202E>
 *   bytes that are not UTF-8 (bad lead, truncated, overlong, surrogate,
 *   above U+10FFFF), one at a time      \xFF
 *
 * Everything else (printable ASCII, valid UTF-8) is copied as it is.  The
 * cost is linear in len and nothing recurses.
 */
#include <stddef.h>
#include <stdio.h>

#include "weft/strbuf.h"

/* Appends s (len bytes, any bytes) to out, made safe as above. */
void safetext_append(struct strbuf *out, const char *s, size_t len, int keep_newlines);

/* Writes the NUL-terminated s to f, made safe (newlines shown as ^J). */
void safetext_fputs(const char *s, FILE *f);

#endif

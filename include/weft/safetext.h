#ifndef WEFT_SAFETEXT_H
#define WEFT_SAFETEXT_H
/*
 * Text from files and models, made safe to print on a terminal by the
 * commands (stdio): display.h's sanitizer (C0 and DEL in caret form, C1,
 * bidi and invisible characters as <U+XXXX>, bytes that are not UTF-8 as
 * <XX>).  Only the display changes: sessions keep every byte.  Linear in
 * the length; nothing recurses.
 */
#include <stddef.h>
#include <stdio.h>

#include "weft/strbuf.h"

/* Appends s (len bytes, any bytes) to out, made safe as above. */
void safetext_append(struct strbuf *out, const char *s, size_t len, int keep_newlines);

/* Writes the NUL-terminated s to f, made safe (newlines shown as ^J). */
void safetext_fputs(const char *s, FILE *f);

/*
 * Formats as fprintf(f, fmt, ...) does and writes the result to f made safe
 * as above, a final "\n" kept (any other shown as ^J): for a line that
 * holds paths, names or labels.  fmt is weft's own literal; text from
 * outside goes in as %s.
 */
void safetext_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

#ifndef WEFT_DISPLAY_H
#define WEFT_DISPLAY_H
/*
 * Making untrusted text (model output, file contents, error messages that
 * quote them) safe to show on a terminal, and measuring it in columns.
 * The session keeps text as it was; only what is shown goes through here.
 *
 * display_sanitize() turns any bytes into printable UTF-8 in one linear pass:
 *
 *   C0 controls and DEL   caret form: ESC "^[", CR "^M", BS "^H", NUL "^@",
 *                         DEL "^?".  "\n" and "\t" too, unless kept by a flag.
 *   C1 controls           U+0080..U+009F as "<U+009B>" (CSI), etc.
 *   invalid UTF-8         each bad byte as "<XX>" (two upper-case hex digits):
 *                         stray continuation bytes, truncated sequences,
 *                         overlong forms, surrogates, code points > U+10FFFF.
 *   bidi controls         U+061C, U+200E, U+200F, U+202A..U+202E,
 *                         U+2066..U+2069 as "<U+202E>", etc.
 *   invisible characters  zero-width U+200B..U+200D, U+2060..U+2064,
 *                         U+FEFF, U+180E, U+2028/U+2029 (line and paragraph
 *                         separators), U+206A..U+206F, U+FFF9..U+FFFB and the
 *                         tag characters U+E0000..U+E007F (used to hide text
 *                         from a reader) as "<U+XXXX>".
 *
 * Everything else valid is copied unchanged.  The output therefore contains
 * no byte below 0x20 (except kept "\n"/"\t") and no DEL, no C1 control, no
 * invalid UTF-8: a terminal can neither be driven by it nor be made to
 * reorder or hide it.  A literal "^[" in the input stays "^[" (a reader sees
 * the same glyphs either way; the marks are for display, not round trips).
 *
 * Column widths use wcwidth(3), so call setlocale(LC_ALL, "") with a UTF-8
 * locale first; without one (or for code points the C library does not
 * know) a built-in rule applies: East Asian wide ranges and emoji count 2,
 * combining marks 0, everything else 1.
 */
#include <stddef.h>

#include "weft/strbuf.h"

enum display_flag {
	DISPLAY_KEEP_NEWLINE = 1u << 0,	    /* keep "\n" as is (multi-line views) */
	DISPLAY_KEEP_TAB = 1u << 1,	    /* keep "\t" as is */
	DISPLAY_TAB_AS_SPACE = 1u << 2,	    /* "\t" becomes one space */
	DISPLAY_NEWLINE_AS_SPACE = 1u << 3, /* "\n" becomes one space (one-line views) */
};

/* Appends the sanitized form of len bytes of s to out, with "\n" and "\t" in
 * caret form ("^J", "^I"): the one-line form for status lines and errors. */
void display_sanitize(const char *s, size_t len, struct strbuf *out);
/* The same with enum display_flag flags. */
void display_sanitize_flags(const char *s, size_t len, unsigned flags, struct strbuf *out);
/* Convenience: sanitizes a NUL-terminated string into a fresh heap string
 * (caller frees). */
char *display_sanitize_dup(const char *s);

/* Whether the code point c is one display_sanitize shows as "<U+XXXX>": a
 * C1 control (U+0080..U+009F), a bidi control or an invisible character
 * (the lists above).  C0 controls and DEL are not: they take caret form. */
int display_codepoint_hidden(unsigned long c);

/*
 * Decodes the next character of sanitized UTF-8 at s (len > 0 bytes left).
 * Returns its length in bytes (1..4, never more than len) and stores its
 * width in columns (0, 1 or 2) in *cols.  A byte that does not start a valid
 * sequence is one byte of width 1 (it cannot occur in sanitized text).
 */
size_t display_char(const char *s, size_t len, int *cols);
/* Columns of the code point c on a terminal (0, 1 or 2; see above). */
int display_codepoint_width(unsigned long c);
/* Columns that len bytes of sanitized UTF-8 take ("\n" and "\t" count 1). */
size_t display_width(const char *s, size_t len);
/*
 * The longest prefix of s (len bytes of sanitized UTF-8) that fits in cols
 * columns, never splitting a character, and keeping zero-width characters
 * (combining marks) with the character before them.  Returns its length in
 * bytes; *used (may be NULL) gets its width in columns.
 */
size_t display_truncate(const char *s, size_t len, size_t cols, size_t *used);

#endif

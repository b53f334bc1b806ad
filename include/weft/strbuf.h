#ifndef WEFT_STRBUF_H
#define WEFT_STRBUF_H
/*
 * A growable byte string, always NUL-terminated (data[len] == '\0'), which
 * may also hold NUL bytes.  Life cycle: STRBUF_INIT or strbuf_init(), then
 * strbuf_release() (or strbuf_detach() to take the buffer).  After release
 * the strbuf is empty, uncapped and reusable.  Allocation never fails
 * (xalloc.h).
 *
 * A strbuf filled from outside input can be capped (strbuf_set_max): then
 * an add that would take it past max bytes adds nothing, strbuf_add
 * returns -1, and the strbuf stays full (every later add is refused too)
 * until strbuf_reset; it never allocates much more than max + 1 bytes.
 */
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *data; /* owned; never NULL after init (points to "" when empty) */
	size_t len;
	size_t cap; /* 0 while data points at the shared empty string */
	size_t max; /* 0: no cap; else len never passes it (strbuf_set_max) */
	int full;   /* 1 once an add was refused for passing max */
};

extern char strbuf_empty[];
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		strbuf_empty, 0, 0, 0, 0                                                           \
	}

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Returns the owned buffer (caller frees) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Ensures room for extra more bytes (plus the terminating NUL). */
void strbuf_grow(struct strbuf *sb, size_t extra);
/* Empties sb; it keeps its cap and may be filled again. */
void strbuf_reset(struct strbuf *sb);
/* Caps sb at max bytes (0: no cap); max must not be below sb->len. */
void strbuf_set_max(struct strbuf *sb, size_t max);
/* Shortens to len (len <= sb->len). */
void strbuf_truncate(struct strbuf *sb, size_t len);

/* 0, or -1 when sb is capped and would pass its max (nothing added). */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
/* fmt is always a literal of weft's; untrusted text goes in as %s. */
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Appends s as the inside of a JSON string (RFC 8259, no quotes).  Besides
 * what RFC 8259 requires, DEL, C1 controls, bidi controls and invisible
 * characters (display.h) are escaped as \u0085, \u202e, \udb40\udc41...:
 * the same JSON text, but one that cannot drive, reorder or hide anything
 * when a file or an output weft writes is printed on a terminal.  Other
 * bytes are copied as they are.
 */
void strbuf_add_json_escaped(struct strbuf *sb, const char *s, size_t len);
/* Appends s as a JSON string with its quotes. */
void strbuf_add_json_string(struct strbuf *sb, const char *s);
/* Appends v as the shorter of %.15g and %.17g that reads back as v (so
 * 0.7 is "0.7"); a NaN or an infinity, which JSON cannot hold, as null. */
void strbuf_add_json_number(struct strbuf *sb, double v);

#endif

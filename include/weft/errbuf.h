#ifndef WEFT_ERRBUF_H
#define WEFT_ERRBUF_H
/*
 * Errors below the screen are returned, not printed (git's policy): a
 * function that can fail returns 0 on success or a negative value, and
 * fills the caller's errbuf with one line that says what and where
 * ("FILE:LINE: key 'x': expected a number").  The caller decides how to show
 * it; text in it may come from files or servers, so whoever prints it runs it
 * through display_sanitize() first.
 */
#include <stdarg.h>

#define ERRBUF_SIZE 1024

struct errbuf {
	char msg[ERRBUF_SIZE];
};

/* Sets the message (truncated to fit) and returns -1, so a caller can write
 * `return errbuf_set(err, "...", ...);`.  err may be NULL. */
int errbuf_set(struct errbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int errbuf_vset(struct errbuf *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Prepends "prefix: " to the message already there; returns -1. */
int errbuf_prefix(struct errbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errbuf_clear(struct errbuf *err);

#endif

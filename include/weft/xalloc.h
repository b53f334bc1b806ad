#ifndef WEFT_XALLOC_H
#define WEFT_XALLOC_H
/*
 * Allocation that does not return NULL.  On exhaustion the fatal hook runs
 * (the TUI installs one that restores the terminal), then a message goes to
 * stderr and the process exits with status 70.  Everything else in weft may
 * therefore treat allocation as infallible.
 */
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
/* Grows or shrinks; xrealloc(NULL, n) is xmalloc(n). */
void *xrealloc(void *ptr, size_t size);
/* count * size with overflow checked. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/* Returns a copy of s, or NULL when s is NULL. */
char *xstrdup_or_null(const char *s);

/*
 * Grows *items (an array of *cap elements of elem_size bytes) so that it can
 * hold at least need elements, doubling.  The classic ALLOC_GROW of git.
 */
void xgrow(void **items, size_t *cap, size_t need, size_t elem_size);
#define XGROW(items, cap, need) xgrow((void **)&(items), &(cap), (need), sizeof(*(items)))

/* Called once before exit on out-of-memory and by fatal paths; may be NULL. */
void xalloc_set_fatal_hook(void (*hook)(void));
/* Restores what the hook guards (runs the hook once), prints, exits(70). */
_Noreturn void xalloc_die(const char *what);

#endif

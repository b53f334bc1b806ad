#ifndef WEFT_DATADIR_H
#define WEFT_DATADIR_H
/*
 * Where weft's shipped data (tasks in prompts/, themes in themes/) is
 * looked for, in one place, so that every command finds the same files
 * wherever weft runs from.  The order, first found wins:
 *
 *   1. $ENV (WEFT_PROMPTS, WEFT_THEMES) when set and not empty: an
 *      explicit choice wins over every built-in place;
 *   2. ./KIND in the current folder (a person's own tasks and themes);
 *   3. beside the executable: the folder of /proc/self/exe (./weft in a
 *      checkout), or the checkout two levels up for build/NAME/weft, or
 *      ../share/weft for an installed bin/weft (a moved PREFIX);
 *   4. the installed share folder compiled in (WEFT_DATADIR/KIND).
 *
 * Places of 3 are listed only when they hold a KIND folder; the same
 * folder reached two ways is listed once.  libc only.
 */
#include <stddef.h>

#define DATADIR_MAX 6

struct datadir {
	/* The folders, in the order above; owned. */
	char *dirs[DATADIR_MAX];
	size_t count;
};

/* Fills d with the folders where weft looks for kind ("prompts" or
 * "themes"); env names its variable ("WEFT_PROMPTS").  Release with
 * datadir_release. */
void datadir_init(struct datadir *d, const char *kind, const char *env);
void datadir_release(struct datadir *d);

#endif

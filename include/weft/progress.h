#ifndef WEFT_PROGRESS_H
#define WEFT_PROGRESS_H
/*
 * The rate and the time left that `weft generate` and `weft eval` show on
 * their progress line when stderr is a terminal (src/cli/progress.c).
 * Only formatting: the caller measures the time.
 */
#include <stddef.h>

#include "weft/strbuf.h"

/* How a rate is counted: per minute suits slow work (a steering step takes
 * seconds), per second fast work (scoring requests). */
enum progress_per { PROGRESS_PER_MINUTE, PROGRESS_PER_SECOND };

/*
 * Appends "RATE UNIT/min, ETA TIME" (or "/s") to out: done items (of this
 * run) took elapsed seconds; left items remain.  RATE has one decimal;
 * TIME is "42s", "3m05s" or "2h07m", "0s" when nothing is left, and "--"
 * (as is RATE) before anything is done or time is measured.
 */
void progress_rate_eta(size_t done, size_t left, double elapsed, const char *unit,
		       enum progress_per per, struct strbuf *out);

#endif

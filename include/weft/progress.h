#ifndef WEFT_PROGRESS_H
#define WEFT_PROGRESS_H
/*
 * The rate and the time left that `weft generate` and `weft eval` show on
 * their progress line when stderr is a terminal (src/cli/progress.c), and
 * the line of `weft generate` growing several sessions at once.  Only
 * formatting: the caller measures the time and counts.
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

/* Where a run of several sessions stands (weft generate FILE...). */
struct progress_sessions {
	size_t sessions;	      /* in the run */
	size_t done, waiting, failed; /* ended: reached their rounds, wait for a person, failed */
	size_t steps, steps_total;    /* on the sessions' chosen paths, and wanted in all */
	size_t taken;		      /* steps this run took */
	size_t in_flight;	      /* requests sent or queued, not answered */
	double elapsed;		      /* seconds this run has taken */
};

/* All counts 0. */
void progress_sessions_init(struct progress_sessions *p);

/*
 * Appends "sessions D/K done (W waiting, F failed)  steps S/T  R in
 * flight  RATE steps/min, ETA TIME" to out: the parenthesis only when
 * some wait or failed, the rate and time left as progress_rate_eta gives
 * them for this run's steps and those the chosen paths still lack.
 */
void progress_sessions_format(const struct progress_sessions *p, struct strbuf *out);

#endif

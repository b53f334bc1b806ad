/*
 * The rate and the time left on a progress line, and the line of several
 * sessions (weft/progress.h).
 */
#include <string.h>

#include "weft/progress.h"

/* Seconds as "42s", "3m05s" or "2h07m" (minutes rounded down past an
 * hour: a long wait's seconds are noise). */
static void add_duration(double seconds, struct strbuf *out)
{
	unsigned long s = seconds < 0 ? 0 : (unsigned long)(seconds + 0.5);

	if (s < 60)
		strbuf_addf(out, "%lus", s);
	else if (s < 3600)
		strbuf_addf(out, "%lum%02lus", s / 60, s % 60);
	else
		strbuf_addf(out, "%luh%02lum", s / 3600, s % 3600 / 60);
}

void progress_rate_eta(size_t done, size_t left, double elapsed, const char *unit,
		       enum progress_per per, struct strbuf *out)
{
	const char *per_name = per == PROGRESS_PER_MINUTE ? "min" : "s";
	double rate;

	if (!done || elapsed <= 0) {
		strbuf_addf(out, "-- %s/%s, ETA %s", unit, per_name, left ? "--" : "0s");
		return;
	}
	rate = (double)done / elapsed;
	strbuf_addf(out, "%.1f %s/%s, ETA ", per == PROGRESS_PER_MINUTE ? rate * 60 : rate, unit,
		    per_name);
	add_duration((double)left / rate, out);
}

void progress_sessions_init(struct progress_sessions *p)
{
	memset(p, 0, sizeof(*p));
}

void progress_sessions_format(const struct progress_sessions *p, struct strbuf *out)
{
	size_t left = p->steps_total > p->steps ? p->steps_total - p->steps : 0;

	strbuf_addf(out, "sessions %zu/%zu done", p->done, p->sessions);
	if (p->waiting && p->failed)
		strbuf_addf(out, " (%zu waiting, %zu failed)", p->waiting, p->failed);
	else if (p->waiting || p->failed)
		strbuf_addf(out, " (%zu %s)", p->waiting ? p->waiting : p->failed,
			    p->waiting ? "waiting" : "failed");
	strbuf_addf(out, "  steps %zu/%zu  %zu in flight  ", p->steps, p->steps_total,
		    p->in_flight);
	progress_rate_eta(p->taken, left, p->elapsed, "steps", PROGRESS_PER_MINUTE, out);
}

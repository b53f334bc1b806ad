/*
 * Strict number parsing: strtol and strtod accept leading space, an empty
 * string (as 0) and trailing garbage; settings must not.
 */
#include "weft/num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int starts_like_a_number(const char *s)
{
	return *s && !isspace((unsigned char)*s);
}

int num_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!starts_like_a_number(s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int num_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!starts_like_a_number(s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

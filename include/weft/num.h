#ifndef WEFT_NUM_H
#define WEFT_NUM_H
/*
 * Numbers from settings and command lines (src/core/num.c): the whole
 * string must be the number, with no space around it, and in range.
 */

/* Parses s as a decimal integer (an optional sign, then digits) in
 * [lo, hi] into *out.  Returns 0, or -1 leaving *out alone. */
int num_parse_long(const char *s, long lo, long hi, long *out);

/* Parses s as a finite number (strtod's forms: 0.5, 1e-3, ...) in [lo, hi]
 * into *out.  Returns 0, or -1 leaving *out alone. */
int num_parse_double(const char *s, double lo, double hi, double *out);

#endif

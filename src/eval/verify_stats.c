/*
 * The verifier's statistics (verify.h): pure functions of counts, so the
 * numbers `weft verify` prints can be checked by hand.
 */
#include <math.h>

#include "weft/verify.h"

void verify_wilson(size_t k, size_t n, double z, double *low, double *high)
{
	double nn = (double)n, p, z2, denom, centre, half;

	if (n == 0) {
		*low = *high = NAN;
		return;
	}
	p = (double)k / nn;
	z2 = z * z;
	denom = 1.0 + z2 / nn;
	centre = (p + z2 / (2.0 * nn)) / denom;
	half = z / denom * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
	*low = centre - half < 0 ? 0 : centre - half;
	*high = centre + half > 1 ? 1 : centre + half;
}

void verify_rate_compute(struct verify_rate *r, size_t valid, size_t total)
{
	r->valid = valid;
	r->total = total;
	r->rate = total ? (double)valid / (double)total : NAN;
	verify_wilson(valid, total, VERIFY_Z95, &r->low, &r->high);
}

void verify_agreement_init(struct verify_agreement *a)
{
	a->valid_kept = a->valid_rejected = a->invalid_kept = a->invalid_rejected = 0;
	a->count = a->agree = 0;
	a->fraction = a->kappa = NAN;
}

void verify_agreement_add(struct verify_agreement *a, int verifier_valid, int person_keeps)
{
	if (verifier_valid)
		*(person_keeps ? &a->valid_kept : &a->valid_rejected) += 1;
	else
		*(person_keeps ? &a->invalid_kept : &a->invalid_rejected) += 1;
}

void verify_agreement_compute(struct verify_agreement *a)
{
	double n, valid, kept, pe;

	a->count = a->valid_kept + a->valid_rejected + a->invalid_kept + a->invalid_rejected;
	a->agree = a->valid_kept + a->invalid_rejected;
	if (!a->count) {
		a->fraction = a->kappa = NAN;
		return;
	}
	n = (double)a->count;
	a->fraction = (double)a->agree / n;
	/* chance agreement: each rater's own proportions, independent */
	valid = (double)(a->valid_kept + a->valid_rejected) / n;
	kept = (double)(a->valid_kept + a->invalid_kept) / n;
	pe = valid * kept + (1.0 - valid) * (1.0 - kept);
	a->kappa = pe >= 1.0 ? NAN : (a->fraction - pe) / (1.0 - pe);
}

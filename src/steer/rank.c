#include "weft/rank.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t argmax(const double *scores, size_t n)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++)
		if (scores[i] > scores[best])
			best = i;
	return best;
}

static int normalise(double *scores, size_t n, size_t *pick)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += scores[i];
	if (!(sum > 0) || !isfinite(sum))
		return -1;
	for (i = 0; i < n; i++)
		scores[i] /= sum;
	*pick = argmax(scores, n);
	return 0;
}

/* Reads a decimal number of at most 9 digits at s; returns digits read. */
static size_t read_uint(const char *s, unsigned long *v)
{
	size_t k = 0;

	*v = 0;
	while (isdigit((unsigned char)s[k]) && k < 9)
		*v = *v * 10 + (unsigned long)(s[k++] - '0');
	if (isdigit((unsigned char)s[k]))
		return 0;
	return k;
}

static int out_of_range(unsigned long v, size_t n, struct errbuf *err)
{
	return errbuf_set(err, "answer names option %lu, outside 1..%zu", v, n);
}

int rank_parse_choice(const char *answer, size_t n, double *scores, size_t *pick,
		      struct errbuf *err)
{
	static const char *const lead[] = {"option", "candidate", "answer", "choice", "number"};
	const char *p = answer;
	unsigned long first = 0, v;
	size_t i, k, distinct = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return errbuf_set(err, "empty answer");
	/* A leading "Option 3", "(3)", "#3" or "3" decides. */
	for (i = 0; i < sizeof(lead) / sizeof(lead[0]); i++) {
		size_t len = strlen(lead[i]);

		if (!strncasecmp(p, lead[i], len)) {
			p += len;
			while (*p == ' ' || *p == ':')
				p++;
			break;
		}
	}
	while (*p == '(' || *p == '[' || *p == '#')
		p++;
	k = read_uint(p, &v);
	if (k && !isalnum((unsigned char)p[k])) {
		if (v < 1 || v > n)
			return out_of_range(v, n, err);
		first = v;
	} else {
		/* Otherwise exactly one distinct number anywhere in the answer. */
		for (p = answer; *p; p++) {
			if (!isdigit((unsigned char)*p) ||
			    (p > answer && isalnum((unsigned char)p[-1])))
				continue;
			k = read_uint(p, &v);
			if (!k)
				return errbuf_set(err,
						  "answer has a number too long to be an option");
			if (!distinct || v != first) {
				distinct++;
				first = v;
			}
			p += k - 1;
		}
		if (distinct == 0)
			return errbuf_set(err, "no option number in the answer");
		if (distinct > 1)
			return errbuf_set(err, "answer names several options");
		if (first < 1 || first > n)
			return out_of_range(first, n, err);
	}
	for (i = 0; i < n; i++)
		scores[i] = 0;
	scores[first - 1] = 1;
	*pick = first - 1;
	return 0;
}

int rank_from_top_logprobs(const struct rank_alt *alts, size_t count, size_t n, double *scores,
			   size_t *pick, struct errbuf *err)
{
	size_t i, found = 0;

	for (i = 0; i < n; i++)
		scores[i] = 0;
	for (i = 0; i < count; i++) {
		const char *t = alts[i].token;
		unsigned long v;
		size_t k;

		if (!t)
			continue;
		while (isspace((unsigned char)*t))
			t++;
		k = read_uint(t, &v);
		if (!k)
			continue;
		t += k;
		while (isspace((unsigned char)*t))
			t++;
		if (*t || v < 1 || v > n || !isfinite(alts[i].logprob))
			continue;
		scores[v - 1] += exp(alts[i].logprob);
		found++;
	}
	if (!found)
		return errbuf_set(err, "no option number 1..%zu among the judge's top logprobs", n);
	if (normalise(scores, n, pick))
		return errbuf_set(err, "the judge's option probabilities are all zero");
	return 0;
}

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static int read_score(const char **pp, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(*pp, &end);
	if (end == *pp || errno || !isfinite(v) || v < 0)
		return -1;
	*pp = end;
	*out = v;
	return 0;
}

int rank_parse_scores(const char *answer, size_t n, double *scores, size_t *pick,
		      struct errbuf *err)
{
	const char *arr = strchr(answer, '[');
	const char *obj = strchr(answer, '{');
	const char *p;
	size_t i, seen = 0;

	for (i = 0; i < n; i++)
		scores[i] = -1;
	if (!arr && !obj)
		return errbuf_set(err, "no JSON scores in the answer");
	if (arr && (!obj || arr < obj)) {
		p = skip_ws(arr + 1);
		for (i = 0; i < n; i++) {
			if (read_score(&p, &scores[i]))
				return errbuf_set(err, "score %zu is missing or not a number >= 0",
						  i + 1);
			p = skip_ws(p);
			if (i + 1 < n && *p++ != ',')
				return errbuf_set(err, "expected %zu scores", n);
			p = skip_ws(p);
		}
		if (*p != ']')
			return errbuf_set(err, "expected %zu scores", n);
	} else {
		p = skip_ws(obj + 1);
		while (*p && *p != '}') {
			unsigned long v;
			size_t k;
			double s;

			if (*p++ != '"')
				return errbuf_set(err, "bad scores object");
			k = read_uint(p, &v);
			if (!k || p[k] != '"')
				return errbuf_set(err, "scores object keys must be option numbers");
			if (v < 1 || v > n)
				return out_of_range(v, n, err);
			p = skip_ws(p + k + 1);
			if (*p++ != ':')
				return errbuf_set(err, "bad scores object");
			p = skip_ws(p);
			if (read_score(&p, &s))
				return errbuf_set(err, "score for option %lu is not a number >= 0",
						  v);
			if (scores[v - 1] < 0)
				seen++;
			scores[v - 1] = s;
			p = skip_ws(p);
			if (*p == ',')
				p = skip_ws(p + 1);
		}
		if (*p != '}')
			return errbuf_set(err, "scores object is not closed");
		if (seen != n)
			return errbuf_set(err, "scores given for %zu of %zu options", seen, n);
	}
	if (normalise(scores, n, pick))
		return errbuf_set(err, "all scores are zero");
	return 0;
}

size_t rank_merge(const char *const *texts, size_t count, size_t *option_of, size_t *first)
{
	size_t i, j, options = 0;

	/* n is small (at most TASK_MAX_N), so pairwise comparison is fine. */
	for (i = 0; i < count; i++) {
		for (j = 0; j < i; j++) {
			if (!strcmp(texts[i], texts[j])) {
				option_of[i] = option_of[j];
				break;
			}
		}
		if (j == i) {
			if (first)
				first[options] = i;
			option_of[i] = options++;
		}
	}
	return options;
}

void rank_format_options(const char *const *texts, const size_t *first, size_t options,
			 struct strbuf *out)
{
	size_t k;

	for (k = 0; k < options; k++)
		strbuf_addf(out, "%s%zu. %s", k ? "\n\n" : "", k + 1, texts[first[k]]);
}

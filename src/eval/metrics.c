#include "weft/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/regfile.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

#define LINE_CAP (1u << 20)

double metrics_logsumexp(const double *x, size_t n)
{
	double m = -INFINITY, sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(x[i]))
			return NAN;
		if (x[i] > m)
			m = x[i];
	}
	if (isinf(m))
		return m; /* all -inf (or n == 0), or one +inf */
	for (i = 0; i < n; i++)
		sum += exp(x[i] - m);
	return m + log(sum);
}

int metrics_classify(const double *lp, size_t n, size_t answer, struct metrics_example *out,
		     struct errbuf *err)
{
	size_t i, best = 0;
	double lse;

	if (!n)
		return errbuf_set(err, "no classes");
	if (answer >= n)
		return errbuf_set(err, "answer_index %zu out of range (%zu classes)", answer, n);
	for (i = 0; i < n; i++) {
		if (isnan(lp[i]) || (isinf(lp[i]) && lp[i] > 0))
			return errbuf_set(err, "class %zu: log-probability is not a number <= +inf",
					  i);
		if (lp[i] > lp[best]) /* strict: ties keep the lowest index */
			best = i;
	}
	lse = metrics_logsumexp(lp, n);
	out->total_logprob = lse;
	out->loss = isinf(lse) ? INFINITY : -(lp[answer] - lse);
	out->predicted = best;
	out->correct = best == answer;
	return 0;
}

int metrics_logodds(const double p[2], const double q[2], size_t answer, int absolute,
		    struct metrics_logodds *out, struct errbuf *err)
{
	double all[4];
	double d;

	if (answer > 1)
		return errbuf_set(err, "answer_index %zu out of range (2 classes)", answer);
	if (isnan(p[0]) || isnan(p[1]) || isnan(q[0]) || isnan(q[1]))
		return errbuf_set(err, "log-probability is not a number");
	d = (p[0] - p[1]) - (q[0] - q[1]);
	if (answer == 1)
		d = -d;
	if (absolute)
		d = fabs(d);
	all[0] = p[0];
	all[1] = p[1];
	all[2] = q[0];
	all[3] = q[1];
	out->difference = d;
	out->correct = (q[1] > q[0] ? 1u : 0u) == answer;
	out->total_logprob = metrics_logsumexp(all, 4);
	return 0;
}

void metrics_table_init(struct metrics_table *t, const char *model)
{
	memset(t, 0, sizeof(*t));
	t->model = xstrdup(model ? model : "");
}

void metrics_table_release(struct metrics_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rows[i].predicted);
	free(t->rows);
	free(t->model);
	memset(t, 0, sizeof(*t));
}

void metrics_table_add(struct metrics_table *t, long index, const struct metrics_example *ex,
		       const char *predicted)
{
	struct metrics_row *r;

	XGROW(t->rows, t->cap, t->n + 1);
	r = &t->rows[t->n++];
	r->index = index;
	r->loss = ex->loss;
	r->correct = ex->correct;
	r->predicted = xstrdup(predicted ? predicted : "");
	r->total_logprob = ex->total_logprob;
}

/* Splits one CSV record (which may span lines inside quotes) from f into
 * fields.  Returns the field count, 0 at end of file, -1 on an error. */
static int csv_record(FILE *f, struct strbuf *fields, size_t max_fields, size_t *lines,
		      struct errbuf *err)
{
	size_t nf = 0, total = 0;
	int c, quoted = 0, at_start = 1, any = 0;

	for (nf = 0; nf < max_fields; nf++)
		strbuf_reset(&fields[nf]);
	nf = 0;
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (++total > LINE_CAP)
			return errbuf_set(err, "record longer than %u bytes", LINE_CAP);
		if (quoted) {
			if (c == '"') {
				int d = getc(f);

				if (d == '"') {
					strbuf_addch(&fields[nf], '"');
					continue;
				}
				quoted = 0;
				if (d == EOF)
					break;
				c = d;
			} else {
				if (c == '\n')
					(*lines)++;
				strbuf_addch(&fields[nf], c);
				continue;
			}
		}
		if (c == '"' && at_start) {
			quoted = 1;
			at_start = 0;
			continue;
		}
		if (c == ',') {
			if (nf + 1 >= max_fields)
				return errbuf_set(err, "more than %zu fields", max_fields);
			nf++;
			at_start = 1;
			continue;
		}
		if (c == '\n') {
			(*lines)++;
			break;
		}
		if (c == '\r')
			continue;
		at_start = 0;
		strbuf_addch(&fields[nf], c);
	}
	if (quoted)
		return errbuf_set(err, "unterminated quoted field");
	if (!any)
		return 0;
	return (int)(nf + 1);
}

static int parse_double(const char *s, double *v)
{
	struct strbuf t = STRBUF_INIT;
	char *end;
	int ok;

	strbuf_addstr(&t, s);
	/* a 1-tuple "(-0.53,)" (ISP's GPT-3 logodds quirk) */
	if (t.len >= 3 && t.data[0] == '(' && t.data[t.len - 1] == ')' &&
	    t.data[t.len - 2] == ',') {
		memmove(t.data, t.data + 1, t.len - 3);
		strbuf_truncate(&t, t.len - 3);
	}
	errno = 0;
	*v = strtod(t.data, &end);
	ok = t.len && end != t.data && !*end;
	strbuf_release(&t);
	return ok;
}

enum { COL_INDEX, COL_LOSS, COL_CORRECT, COL_PREDICTED, COL_TOTAL, NCOLS };

/* The columns the header names (col[] -1 where absent); a
 * logodds_difference column is the loss and makes t a logodds table. */
static void read_header(const struct strbuf *fields, int nf, int col[NCOLS],
			struct metrics_table *t)
{
	int i;

	for (i = 0; i < NCOLS; i++)
		col[i] = -1;
	for (i = 0; i < nf; i++) {
		const char *h = fields[i].data;

		if (!strcmp(h, "index"))
			col[COL_INDEX] = i;
		else if (!strcmp(h, "loss"))
			col[COL_LOSS] = i;
		else if (!strcmp(h, "logodds_difference")) {
			col[COL_LOSS] = i;
			t->logodds = 1;
		} else if (!strcmp(h, "correct"))
			col[COL_CORRECT] = i;
		else if (!strcmp(h, "predicted"))
			col[COL_PREDICTED] = i;
		else if (!strcmp(h, "total_logprob"))
			col[COL_TOTAL] = i;
	}
}

/* One row of nf fields, at path:line, into t; -1 with err when a field
 * is missing or not what its column holds. */
static int read_row(const struct strbuf *fields, int nf, const int col[NCOLS],
		    struct metrics_table *t, const char *path, size_t line, struct errbuf *err)
{
	struct metrics_example ex = {0, 0, 0, NAN};
	const char *pred = NULL, *c;
	long index = (long)t->n;
	double v;
	size_t i;

	for (i = 0; i < NCOLS; i++)
		if (col[i] >= 0 && col[i] >= nf)
			return errbuf_set(err, "%s:%zu: %d fields, expected more", path, line, nf);
	ex.loss = NAN; /* a generate run's file has no loss */
	if (col[COL_LOSS] >= 0 && !parse_double(fields[col[COL_LOSS]].data, &ex.loss))
		return errbuf_set(err, "%s:%zu: loss is not a number", path, line);
	c = fields[col[COL_CORRECT]].data;
	if (!strcmp(c, "1") || !strcmp(c, "True") || !strcmp(c, "1.0"))
		ex.correct = 1;
	else if (!strcmp(c, "0") || !strcmp(c, "False") || !strcmp(c, "0.0"))
		ex.correct = 0;
	else
		return errbuf_set(err, "%s:%zu: correct is not 0/1", path, line);
	if (col[COL_INDEX] >= 0) {
		if (!parse_double(fields[col[COL_INDEX]].data, &v) || v < 0 || v > 1e15 ||
		    floor(v) != v)
			return errbuf_set(err, "%s:%zu: index is not a row number", path, line);
		index = (long)v;
	}
	if (col[COL_TOTAL] >= 0 && !parse_double(fields[col[COL_TOTAL]].data, &ex.total_logprob))
		return errbuf_set(err, "%s:%zu: total_logprob is not a number", path, line);
	if (col[COL_PREDICTED] >= 0)
		pred = fields[col[COL_PREDICTED]].data;
	metrics_table_add(t, index, &ex, pred);
	return 0;
}

/* The header and the rows of the open file f into t. */
static int read_records(FILE *f, struct strbuf *fields, struct metrics_table *t, const char *path,
			struct errbuf *err)
{
	int col[NCOLS];
	size_t line = 1, next_line = 1;
	int nf = csv_record(f, fields, 16, &next_line, err);

	if (nf <= 0) {
		if (nf == 0)
			errbuf_set(err, "empty file");
		errbuf_prefix(err, "%s:1", path);
		return -1;
	}
	read_header(fields, nf, col, t);
	if (col[COL_CORRECT] < 0)
		return errbuf_set(err, "%s:1: header needs a correct column", path);
	for (;;) {
		line = next_line;
		nf = csv_record(f, fields, 16, &next_line, err);
		if (nf < 0) {
			errbuf_prefix(err, "%s:%zu", path, line);
			return -1;
		}
		if (nf == 0)
			return 0;
		if (nf == 1 && !fields[0].len)
			continue; /* blank line */
		if (read_row(fields, nf, col, t, path, line, err) < 0)
			return -1;
	}
}

int metrics_table_read(struct metrics_table *t, const char *path, struct errbuf *err)
{
	struct strbuf fields[16];
	size_t i;
	FILE *f;
	int rc;
	const char *base, *dot;
	char *model;

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	model = xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
	metrics_table_init(t, model);
	free(model);
	f = regfile_fopen(path, err);
	if (!f)
		return -1;
	for (i = 0; i < 16; i++)
		strbuf_init(&fields[i]);
	rc = read_records(f, fields, t, path, err) < 0 ? -1 : 0;
	for (i = 0; i < 16; i++)
		strbuf_release(&fields[i]);
	fclose(f);
	return rc;
}

void metrics_format_double(double x, char *buf, size_t cap)
{
	int prec;

	if (isnan(x)) {
		snprintf(buf, cap, "nan");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, cap, x > 0 ? "inf" : "-inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, x);
		if (strtod(buf, NULL) == x) /* exact round trip is the point here */
			break;
	}
	/* Python writes integral floats as "2.0" */
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int metrics_table_write(const struct metrics_table *t, FILE *out)
{
	char a[64], b[64];
	size_t i;

	fputs(t->logodds ? "index,logodds_difference,correct,predicted,total_logprob\n"
			 : "index,loss,correct,predicted,total_logprob\n",
	      out);
	for (i = 0; i < t->n; i++) {
		const struct metrics_row *r = &t->rows[i];

		metrics_format_double(r->loss, a, sizeof(a));
		metrics_format_double(r->total_logprob, b, sizeof(b));
		fprintf(out, "%ld,%s,%d,", r->index, a, r->correct);
		csv_field(out, r->predicted ? r->predicted : "");
		fprintf(out, ",%s\n", b);
	}
	return ferror(out) ? -1 : 0;
}

void metrics_wilson(size_t k, size_t n, double *low, double *high)
{
	const double z = 1.959963984540054; /* 97.5th percentile of N(0,1) */
	double p, nn, denom, centre, half;

	if (!n) {
		*low = 0;
		*high = 1;
		return;
	}
	nn = (double)n;
	p = (double)k / nn;
	denom = 1 + z * z / nn;
	centre = (p + z * z / (2 * nn)) / denom;
	half = z / denom * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
	*low = fmax(0, centre - half);
	*high = fmin(1, centre + half);
}

void metrics_summarize(const struct metrics_table *t, const unsigned *n_classes,
		       struct metrics_summary *s)
{
	double sl = 0, sc = 0, vl = 0, vc = 0, bl = 0, ba = 0, cov = 0, nn;
	size_t i, k = 0, ncov = 0;

	memset(s, 0, sizeof(*s));
	s->n = t->n;
	s->acc_high = 1;
	if (!t->n)
		return;
	nn = (double)t->n;
	for (i = 0; i < t->n; i++) {
		unsigned nc = n_classes ? n_classes[i] : 2;

		sl += t->rows[i].loss;
		sc += t->rows[i].correct;
		k += t->rows[i].correct != 0;
		if (nc) {
			bl += log((double)nc);
			ba += 1.0 / (double)nc;
		}
		if (!isnan(t->rows[i].total_logprob)) {
			cov += exp(t->rows[i].total_logprob);
			ncov++;
		}
	}
	s->mean_loss = sl / nn;
	s->accuracy = sc / nn;
	for (i = 0; i < t->n; i++) {
		double dl = t->rows[i].loss - s->mean_loss;
		double dc = t->rows[i].correct - s->accuracy;

		vl += dl * dl;
		vc += dc * dc;
	}
	s->loss_stderr = sqrt(vl / nn) / sqrt(nn);
	s->acc_stderr = sqrt(vc / nn) / sqrt(nn);
	metrics_wilson(k, t->n, &s->acc_low, &s->acc_high);
	s->baseline_loss = bl / nn;
	s->baseline_acc = ba / nn;
	s->coverage = ncov ? cov / (double)ncov : NAN;
}

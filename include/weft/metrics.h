#ifndef WEFT_METRICS_H
#define WEFT_METRICS_H
/*
 * Inverse Scaling Prize metrics (../shared/EVAL_RULES.md section 2): the
 * per-example values of a `classification` task from its class
 * log-probabilities, the `logodds` values, per-model result files
 * (`index,loss,correct,predicted,total_logprob`) and their summary.
 *
 * Log-sum-exp is always max-subtracted, so it neither overflows nor
 * underflows to -inf while one class has a finite log-probability.
 */
#include <stddef.h>
#include <stdio.h>

#include "weft/errbuf.h"

/* log(sum_i exp(x[i])), max-subtracted; -INFINITY when n == 0 or every x is
 * -INFINITY; NaN when any x is NaN. */
double metrics_logsumexp(const double *x, size_t n);

struct metrics_example {
	double loss;	      /* -(lp[answer] - LSE(lp)) */
	int correct;	      /* argmax(lp) == answer, ties to the lowest index */
	size_t predicted;     /* argmax(lp) */
	double total_logprob; /* LSE(lp) */
};

/* The classification values of one example from its n class
 * log-probabilities lp (log P(class_i | prompt), summed over the class's
 * tokens).  Returns 0, or -1 (fills err) when n == 0, answer >= n or an lp
 * is NaN or +inf. */
int metrics_classify(const double *lp, size_t n, size_t answer, struct metrics_example *out,
		     struct errbuf *err);

struct metrics_logodds {
	double difference;    /* (p0 - p1) - (q0 - q1), sign flipped for answer 1 */
	int correct;	      /* argmax(q) == answer (other_prompt only) */
	double total_logprob; /* LSE(p0, p1, q0, q1) */
};

/* The logodds values from p (prompt) and q (other_prompt), two classes
 * each; absolute != 0 gives absolute_logodds.  Returns 0, or -1 when
 * answer > 1 or a value is NaN. */
int metrics_logodds(const double p[2], const double q[2], size_t answer, int absolute,
		    struct metrics_logodds *out, struct errbuf *err);

/* One row of a per-model result file. */
struct metrics_row {
	long index;
	double loss; /* loss, or logodds_difference for logodds files */
	int correct;
	char *predicted; /* owned; the class string with its leading space, or "" */
	double total_logprob;
};

/* A per-model result file in memory. */
struct metrics_table {
	char *model; /* owned; the file's name without `.csv` */
	int logodds; /* file had logodds_difference instead of loss */
	struct metrics_row *rows;
	size_t n, cap;
};

void metrics_table_init(struct metrics_table *t, const char *model);
void metrics_table_release(struct metrics_table *t);
/* Appends a row; predicted is copied (may be NULL). */
void metrics_table_add(struct metrics_table *t, long index, const struct metrics_example *ex,
		       const char *predicted);

/*
 * Reads an ISP result CSV: a header naming at least `correct`, and
 * `loss` (or `logodds_difference`; without either, as in a `generate` run's
 * file, every loss is NaN), optionally `index`, `predicted` and
 * `total_logprob`, in any order; other columns are ignored; quoted fields (RFC 4180) allowed;
 * `correct` as 0/1 or True/False; a total_logprob written as a 1-tuple `(-0.5,)` is read.  Lines
 * are capped at 1 MiB.  Returns 0, or -1 with "PATH:LINE: ..." in err.
 */
int metrics_table_read(struct metrics_table *t, const char *path, struct errbuf *err);
/* Writes `index,loss,correct,predicted,total_logprob` with the shortest
 * round-trip float text (Python's repr).  Returns 0 or -1 on a write error. */
int metrics_table_write(const struct metrics_table *t, FILE *out);

struct metrics_summary {
	size_t n;
	double mean_loss;   /* mean of loss */
	double loss_stderr; /* population std (ddof 0) / sqrt(n) */
	double accuracy;    /* mean of correct */
	double acc_stderr;  /* population std / sqrt(n) */
	double acc_low;	    /* 95% Wilson score interval of accuracy */
	double acc_high;
	double baseline_loss; /* mean ln(n_classes) */
	double baseline_acc;  /* mean 1/n_classes */
	double coverage;      /* mean exp(total_logprob) */
};

/* Summarises t.  n_classes gives each row's class count (NULL: 2 for every
 * row, the Yes/No case).  All means are 0 (and the interval [0,1]) when t is
 * empty. */
void metrics_summarize(const struct metrics_table *t, const unsigned *n_classes,
		       struct metrics_summary *s);

/* The 95% Wilson score interval of k successes in n trials. */
void metrics_wilson(size_t k, size_t n, double *low, double *high);

/* Writes x into buf (cap bytes, 32 is enough) as the shortest text that reads back
 * as the same double (like Python's repr: "1.4901268482208252", "0.5"). */
void metrics_format_double(double x, char *buf, size_t cap);

#endif

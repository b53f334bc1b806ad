#ifndef WEFT_VERIFY_H
#define WEFT_VERIFY_H
/*
 * The verifier: a second model checks each question/answer pair's label,
 * as model-written evaluations filter what one model wrote with another
 * (Perez et al., 2022).  The task's verify.txt asks a Yes/No question about
 * one pair ("Yes": the pair is what the task wants); the verdict is the
 * probability p of Yes.
 *
 * Where p comes from: the reply's first token and its top alternatives,
 * when the endpoint returns logprobs (source "logprobs"): p = P(Yes) /
 * (P(Yes) + P(No)), Yes and No read ignoring case and spaces (" yes",
 * "YES" and "Yes" all count, their probabilities added); a word missing
 * from the alternatives gets half the least probability listed, as the
 * evaluation's top-logprob reading does.  Else the answer's first word
 * (source "answer"): Yes is 1, No is 0.  An answer that is neither is an
 * error for that pair.
 *
 * Requests go through the lm engine (lm.h) one per pair, all submitted at
 * once (the role's concurrency limits what is in flight); the caller
 * polls the engine, so a loom stays responsive.  Results come back through
 * a callback, one per pair, from inside lm_engine_poll.
 *
 * The statistics below are pure functions of counts.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

struct config_role;
struct lm_request;
struct lm_choice;
struct lm_engine;

/* Alternatives asked for on the answer's first token. */
#define VERIFY_TOP_LOGPROBS 10
/* A pair is valid when p >= the threshold; this one unless told. */
#define VERIFY_DEFAULT_THRESHOLD 0.5
/* z for a two-sided 95% interval. */
#define VERIFY_Z95 1.959963984540054

/* One pair to verify; the strings are borrowed. */
struct verify_pair {
	const char *question;
	const char *answer;
	const char *label;
};

enum verify_source {
	VERIFY_SOURCE_LOGPROBS, /* p from the Yes/No tokens' probabilities */
	VERIFY_SOURCE_ANSWER,	/* p 1 or 0 from the answer's word */
};

/* "logprobs" or "answer"; parse returns 0, or -1 for another word. */
const char *verify_source_name(enum verify_source s);
int verify_source_parse(const char *s, enum verify_source *out);

struct verify_verdict {
	double p; /* probability that the pair is valid, 0..1 */
	enum verify_source source;
};

/*
 * Renders the verify template tmpl for pair into out: {question},
 * {answer}, {label} and {description} (the task's) replaced by their
 * text, taken as it is (never as a format or a template), other braces
 * kept.  Returns 0, or -1 with err when the prompt would pass
 * TASK_PROMPT_MAX (out then unchanged).
 */
int verify_prompt(const char *tmpl, const char *description, const struct verify_pair *pair,
		  struct strbuf *out, struct errbuf *err);

/*
 * p from the first token of c and its alternatives, as above.  Returns 1
 * with *p set, or 0 when c carries no alternatives or none of them is Yes
 * or No.
 */
int verify_p_from_logprobs(const struct lm_choice *c, double *p);

/* p from text's first word: 1 for yes, 0 for no (any case, after spaces
 * and punctuation).  Returns 0, or -1 when the word is neither. */
int verify_p_from_text(const char *text, double *p);

/* The verdict of one reply's choice: logprobs when they tell, else the
 * text.  Returns 0, or -1 with err quoting (cut) what the verifier said. */
int verify_read_choice(const struct lm_choice *c, struct verify_verdict *v, struct errbuf *err);

/*
 * Called once per pair of a run, from inside lm_engine_poll: index is the
 * pair's place in the list given to verify_start; on success err is NULL
 * and v holds the verdict, else v is NULL and err says why (the request
 * failed, or the answer was neither Yes nor No).  Both are valid during
 * the call only.
 */
typedef void verify_done_cb(void *ctx, size_t index, const struct verify_verdict *v,
			    const struct errbuf *err);

/*
 * The request verify_start sends for one pair (for a batch of them): the
 * prompt rendered (verify_prompt) and role's settings, into req (init'ed
 * or released).  Returns 0, or -1 with err when the prompt is past the cap.
 */
int verify_request(const struct config_role *role, const char *tmpl, const char *description,
		   const struct verify_pair *pair, struct lm_request *req, struct errbuf *err);

struct verify_run;

/*
 * Renders every pair's prompt (tmpl, description: verify_prompt) and
 * submits one request per pair to e as role (its endpoint, model and
 * settings; n 1, logprobs with VERIFY_TOP_LOGPROBS alternatives).  pairs
 * (count of them) and their strings are borrowed until every callback has
 * fired or the run is freed.  Returns the run, or NULL with err when a
 * prompt is past the cap (then nothing was sent).
 */
struct verify_run *verify_start(struct lm_engine *e, const struct config_role *role,
				const char *tmpl, const char *description,
				const struct verify_pair *pairs, size_t count, verify_done_cb *cb,
				void *ctx, struct errbuf *err);

/* Pairs whose callback has not fired yet. */
size_t verify_pending(const struct verify_run *r);

/* Cancels what is still pending (those callbacks never fire) and frees r.
 * NULL is ignored. */
void verify_run_free(struct verify_run *r);

/* ---- statistics ------------------------------------------------------ */

/*
 * The Wilson score interval for k successes in n trials at z (VERIFY_Z95
 * for 95%): [*low, *high], within [0, 1].  n 0 gives NAN for both.
 */
void verify_wilson(size_t k, size_t n, double z, double *low, double *high);

/* A rate with its 95% Wilson interval; NAN when total is 0. */
struct verify_rate {
	size_t valid, total;
	double rate, low, high;
};

void verify_rate_compute(struct verify_rate *r, size_t valid, size_t total);

/*
 * Agreement between the verifier (valid: p >= threshold) and a person
 * (keeps or rejects the pair), over the pairs that have both: the 2x2
 * counts, the fraction agreeing and Cohen's kappa, (po - pe) / (1 - pe)
 * with pe from the two raters' own proportions.  kappa is NAN when pe is
 * 1 (both raters said the same of every pair: chance explains it all);
 * fraction and kappa are NAN for no pairs.
 */
struct verify_agreement {
	size_t valid_kept, valid_rejected, invalid_kept, invalid_rejected;
	size_t count, agree;
	double fraction, kappa;
};

void verify_agreement_init(struct verify_agreement *a);
/* Counts one pair; verifier_valid and person_keeps are 0 or 1. */
void verify_agreement_add(struct verify_agreement *a, int verifier_valid, int person_keeps);
/* Fills count, agree, fraction and kappa from the counts. */
void verify_agreement_compute(struct verify_agreement *a);

#endif

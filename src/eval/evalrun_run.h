#ifndef WEFT_EVAL_EVALRUN_RUN_H
#define WEFT_EVAL_EVALRUN_RUN_H
/*
 * Private to src/eval/evalrun*.c: the run's state, shared by its life
 * cycle (evalrun.c), its requests and replies (evalrun_reply.c) and its
 * results (evalrun_write.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/evalrun.h"

struct job {
	struct evalrun *run;
	size_t model;
	size_t unit; /* example * nslots + slot */
	uint64_t id;
	enum evalrun_probe probe;
};

struct evalrun {
	struct lm_engine *engine;
	const struct evalset *set;
	struct evalrun_options opts;
	char *prompt_tmpl;
	struct evalrun_model *models;
	size_t nmodels, models_cap;
	struct job **jobs; /* in flight */
	size_t njobs, jobs_cap;
	evalrun_progress_cb *cb;
	void *cb_ctx;
	int started, cancelled;
	size_t done_units;
	size_t stride; /* the largest slot count of any example */
	/* batch mode (evalbatch.c): hold keeps pump from sending anything
	 * past the probes; reply_hook sees every successful live reply
	 * before it is scored (to keep it beside the batch's answers) */
	int hold;
	void (*reply_hook)(void *ctx, size_t model, size_t ex, size_t slot,
			   const struct lm_response *resp);
	void *hook_ctx;
};


/* The largest slot count of any example (the stride of lps). */
static inline size_t stride(const struct evalrun *run)
{
	return run->stride;
}

/* s without leading and trailing white space; owned. */
char *evalrun_trimmed(const char *s);

/* ---- for batch mode (evalbatch.c) ----------------------------------------- */

/* The requests example ex needs from model mi, the way the model is asked. */
size_t evalrun_unit_slots(const struct evalrun *run, size_t mi, size_t ex);
/* Fills req (init'ed or released) with slot of example ex for model mi,
 * byte for byte what a live run sends. */
void evalrun_unit_request(const struct evalrun *run, size_t mi, size_t ex, size_t slot,
			  struct lm_request *req);
/* Forgets every example's outcome of every model that did not fail (the
 * probes' answers, which the batch asks again), keeping the way each model
 * is asked; every example then waits for its slots. */
void evalrun_reset_units(struct evalrun *run);
/* Scores a reply to slot of example ex of model mi as a live reply is
 * scored; with err NULL resp is the reply, else the request failed with
 * err's message (the example fails). */
void evalrun_feed(struct evalrun *run, size_t mi, size_t ex, size_t slot,
		  const struct lm_response *resp, const char *err);
/* Sends slot of example ex of model mi live, on the run's engine. */
void evalrun_send_unit(struct evalrun *run, size_t mi, size_t ex, size_t slot);
/* Marks model mi failed with msg (as a failed probe does). */
void evalrun_fail_model(struct evalrun *run, size_t mi, const char *msg);

#endif

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
};


/* The largest slot count of any example (the stride of lps). */
static inline size_t stride(const struct evalrun *run)
{
	return run->stride;
}

/* s without leading and trailing white space; owned. */
char *evalrun_trimmed(const char *s);

#endif

#ifndef WEFT_EVALBATCH_H
#define WEFT_EVALBATCH_H
/*
 * An evaluation run through the provider's batch engine (src/eval/evalbatch.c):
 * the requests a live run (evalrun.h) would send go into one JSONL input
 * file per model, each is uploaded and run as an OpenAI batch (lmbatch.h),
 * and the answers are scored by custom_id exactly as live replies are, so
 * the results files are those of a live run.
 *
 * The probe: before any batch, each model gets the live run's probe (one
 * request; for the logprob method, echo and, when the server ignores echo,
 * the top-logprobs probe), live.  It decides the way the model is asked and
 * stops a model with a bad key, name or endpoint before a batch is paid
 * for; its answer is not kept (the batch asks that example again), so every
 * result comes from a batch line or a live retry.
 *
 * Resumable: everything is kept in DIR/batch/ (DIR the results folder):
 * `state` (the step of each model's batch, written atomically before and
 * after each step), NAME.input.jsonl (the requests), NAME.output.jsonl and
 * NAME.errors.jsonl (the provider's files, once downloaded) and
 * NAME.retry.jsonl (replies to requests retried live, one line each,
 * appended as they come).  A run killed at any point picks up where the
 * state says: the upload (again), the batch's creation, the polling, the
 * download or the scoring.  Before a batch is created the state says
 * "creating FILE"; a resume in that state first looks for a batch made
 * from FILE in the provider's list (lm_batch_find) and adopts it, so a
 * kill between the provider's reply to "create" and the state's save does
 * not pay for a second batch.
 *
 * Requests the batch did not answer (a line in the error file, a status
 * other than 200, or none at all in a failed, expired or cancelled batch)
 * are failed examples, unless retry_live: then they are sent live at the
 * end, through the engine, as the live run sends them.
 */
#include <signal.h>
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/evalrun.h"
#include "weft/strbuf.h"

#define EVALBATCH_POLL_MS     5000L		/* first wait between polls */
#define EVALBATCH_POLL_MAX_MS 60000L		/* the wait grows by half to this */
#define EVALBATCH_STATE_MAX   ((size_t)1 << 20) /* the state file's largest size */
#define EVALBATCH_MAX_LINE    4096		/* one line of the state file */
#define EVALBATCH_MAX_ITEMS   4096		/* models, and arguments, in it */

/* Where one model's batch stands (the state file's step). */
enum evalbatch_step {
	EVALBATCH_UPLOAD,   /* the input file is written, not uploaded */
	EVALBATCH_CREATE,   /* uploaded (input_file), no batch yet */
	EVALBATCH_POLL,	    /* the batch runs (batch, status) */
	EVALBATCH_DOWNLOAD, /* the batch ended; its files are not all here */
	EVALBATCH_DONE,	    /* its files are in DIR/batch/ */
};

struct evalbatch_model {
	char *name;	      /* owned: the scorer's name */
	enum evalrun_way way; /* how the model is asked (decided by the probe) */
	char *fatal;	      /* owned: the probe's error, or NULL */
	enum evalbatch_step step;
	char *input_file;	       /* owned: the uploaded file's id, or NULL */
	char *creating;		       /* owned: the input file a create was sent for, or NULL */
	char *batch;		       /* owned: the batch id, or NULL */
	char *status;		       /* owned: the provider's last status, or NULL */
	char *output_file;	       /* owned, or NULL */
	char *error_file;	       /* owned, or NULL */
	long total, completed, failed; /* request_counts; -1 unknown */
	/* not saved: after evalbatch_run, the requests the batch did not
	 * answer (sent live with retry_live, else failed examples) */
	size_t unanswered;
};

/* The state file, DIR/batch/state. */
struct evalbatch_state {
	char **args; /* owned: the command's arguments, to resume it */
	size_t nargs;
	size_t examples;		/* the dataset's size when the batch was made */
	struct evalbatch_model *models; /* owned */
	size_t nmodels;
};

void evalbatch_state_init(struct evalbatch_state *st);
void evalbatch_state_release(struct evalbatch_state *st);
/* Appends a copy of arg to the arguments. */
void evalbatch_state_add_arg(struct evalbatch_state *st, const char *arg);

/*
 * Parses the text of a state file (len bytes; name is how errors name
 * it) into st (released first).  Returns 0, or -1 with err "NAME:LINE:
 * what is wrong" (a missing or newer header, an unknown step or way, a
 * key outside a model, a value with control characters, a line or a
 * count past the caps, a model twice...).  Unknown keys are skipped, so an
 * older weft reads a newer file's known parts.  Safe on any input.
 */
int evalbatch_state_parse(struct evalbatch_state *st, const char *text, size_t len,
			  const char *name, struct errbuf *err);
/* Appends the state file's text. */
void evalbatch_state_format(const struct evalbatch_state *st, struct strbuf *out);
/* DIR/batch/state into st.  Returns 0, or -1 with err naming the file. */
int evalbatch_state_load(struct evalbatch_state *st, const char *dir, struct errbuf *err);
/* Writes DIR/batch/state atomically.  Returns 0, or -1 with err. */
int evalbatch_state_save(const struct evalbatch_state *st, const char *dir, struct errbuf *err);

const char *evalbatch_step_name(enum evalbatch_step s);

/*
 * A custom_id: "e<EXAMPLE>-s<SLOT>"; evalbatch_parse_id returns 0 with the
 * numbers, or -1 for anything else (no sign, no leading zeros, no excess).
 */
void evalbatch_format_id(size_t ex, size_t slot, struct strbuf *out);
int evalbatch_parse_id(const char *id, size_t *ex, size_t *slot);

/* Told after each step of a model's batch and after each poll whose
 * status or counts changed. */
typedef void evalbatch_status_cb(void *ctx, const struct evalbatch_model *m);

struct evalbatch_options {
	long poll_ms;		     /* <= 0: EVALBATCH_POLL_MS */
	long poll_max_ms;	     /* <= 0: EVALBATCH_POLL_MAX_MS */
	int retry_live;		     /* send what the batch did not answer live */
	volatile sig_atomic_t *stop; /* may be NULL; set (Ctrl-C): stop soon, state kept */
	evalbatch_status_cb *status;
	void *ctx;
};

void evalbatch_options_init(struct evalbatch_options *o);

#define EVALBATCH_STOPPED 1

/*
 * Runs run (made with evalrun_new and its models added, not started)
 * through batches, keeping everything in dir/batch/ (made when missing).
 * st is the state: empty for a new batch (its args already added: they are
 * saved with it), or loaded for a resume (its models must be the run's and
 * the requests built now the same bytes as the input files: else an
 * error, nothing sent).  Returns 0 when every example has its outcome
 * (write the results with evalrun_write), EVALBATCH_STOPPED when *stop was
 * set (the state is saved: resume later), or -1 with err (the state as
 * saved before the failing step).
 */
int evalbatch_run(struct evalrun *run, const char *dir, struct evalbatch_state *st,
		  const struct evalbatch_options *o, struct errbuf *err);

/*
 * The lower half of evalbatch_run, for requests of any kind (weft verify):
 * takes every entry of st (loaded, or new with its input file
 * dir/batch/NAME.input.jsonl written and the state saved) to
 * EVALBATCH_DONE: upload, create, poll, download, the state saved after
 * each step.  conns[i] and kinds[i] are entry i's connection (lmbatch.h)
 * and endpoint.  Returns 0, EVALBATCH_STOPPED, or -1 with err.
 */
int evalbatch_drive(struct evalbatch_state *st, const char *dir,
		    const struct lm_request *const *conns, const enum lm_endpoint *kinds,
		    const struct evalbatch_options *o, struct errbuf *err);

struct lm_batch_result;
/*
 * n requests (one connection and endpoint: reqs[0]'s) as one batch named
 * name, everything kept in dir/batch/ as evalbatch_run keeps it, with ids
 * e<I>-s0.  A state already there is resumed when its input file is the
 * one these requests make (else an error, nothing sent).  On return 0
 * results[i] (n of them, init'ed) holds request i's answer or why there is
 * none (failed in the batch, or not answered by it).  Returns 0,
 * EVALBATCH_STOPPED, or -1 with err.
 */
int evalbatch_requests(const char *dir, const char *name, const struct lm_request *reqs, size_t n,
		       const struct evalbatch_options *o, struct lm_batch_result *results,
		       struct errbuf *err);

#endif

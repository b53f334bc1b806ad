#ifndef WEFT_STEER_H
#define WEFT_STEER_H
/*
 * One steering step, asynchronous on the lm engine so that the loom and the
 * headless driver use it unchanged:
 *
 *   1. ask the generator for n continuations of the document at a node;
 *   2. merge identical ones (their count is kept on the node);
 *   3. ask the judge to rank them with the task's judge prompt, in the
 *      task's rank mode; an unusable answer (empty, no option number, out of
 *      range, bad scores) or a failed request is asked again up to
 *      judge_attempts times in all, except a refusal that would not change
 *      (HTTP 401, 403, 404, 429 after the engine's own retries);
 *   4. record the candidates as children of the node with their metadata,
 *      and the step's decision record on the node.
 *
 * Nothing is written to the tree until the step finishes, so a step is
 * recorded whole or not at all.  The step does not choose: the caller
 * applies the judge's pick (autopilot) or a person's with steer_choose().
 */
#include <stdint.h>

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/task.h"
#include "weft/tree.h"

#define STEER_JUDGE_ATTEMPTS 3
/* The judge sees at most this many bytes of the end of the document. */
#define STEER_JUDGE_CONTEXT 12000

enum steer_status {
	STEER_JUDGED = 0,      /* candidates recorded, the judge picked */
	STEER_NEEDS_HUMAN = 1, /* candidates recorded, the judge answered unusably */
	/* candidates recorded (no needsHuman), the judge's request failed
	 * (network, HTTP error, bad reply): an error, not a person's turn; a
	 * step started again with rejudge_waiting asks the judge again */
	STEER_JUDGE_FAILED = 2,
	STEER_FAILED = -1, /* nothing recorded (generation failed) */
};

struct steer_settings {
	unsigned n;	     /* candidates asked for */
	double temperature;  /* generator */
	unsigned max_tokens; /* generator */
	double judge_temperature;
	enum rank_mode rank;
	unsigned judge_attempts; /* default STEER_JUDGE_ATTEMPTS */
	/* When the node's step already holds n or more candidates and no
	 * final pick (it waits for a person: the judge failed), ask the judge
	 * about those again instead of generating more (weft generate's
	 * rerun). */
	int rejudge_waiting;
};

/*
 * The one initialiser: every field set, to the seed's defaults (n 5,
 * temperature 1.0, 60 tokens, judge temperature 0, logprobs ranking,
 * STEER_JUDGE_ATTEMPTS, no re-judging).  Every caller that fills a struct
 * steer_settings starts here, so a field added later is never read
 * uninitialised.
 */
void steer_settings_init(struct steer_settings *s);
/* steer_settings_init, then the task's defaults. */
void steer_settings_from_task(struct steer_settings *s, const struct task *task);

struct steer_outcome {
	enum steer_status status;
	uint32_t node;			       /* the node the step grew from */
	uint32_t judge_pick;		       /* a child, or TREE_NONE */
	size_t candidates;		       /* distinct candidates recorded */
	unsigned judge_asks;		       /* judge requests made */
	long prompt_tokens, completion_tokens; /* generator and judge, summed */
	const char *rank_used;		       /* the mode that produced the scores */
	size_t key_redacted;		       /* pieces of an API key hidden in replies (lm.h) */
	struct errbuf err;		       /* why, when status is not STEER_JUDGED */
};

struct steer_step;

/* Called once, from inside lm_engine_poll(), when the step ends; the
 * outcome is valid during the call only.  The step may be freed from it. */
typedef void steer_done_fn(void *ctx, const struct steer_outcome *outcome);

/*
 * Starts a step at node `at` of t.  The task, roles and settings are
 * borrowed and must outlive the step; t must not lose `at` meanwhile.
 * Returns the step (free with steer_step_free after done fired, or to
 * cancel it: pending requests are dropped and done does not fire).
 * Returns NULL with err, having sent nothing, when a prompt would be larger
 * than TASK_PROMPT_MAX: the document at `at` (the generation prompt), or
 * the judge prompt rendered with the step's existing candidates; err names
 * the task's file and the size.  (New candidates that push the judge prompt
 * past the cap end the step as STEER_JUDGE_FAILED, candidates kept.)
 */
struct steer_step *steer_start(struct lm_engine *e, struct tree *t, uint32_t at,
			       const struct task *task, const struct config_role *generator,
			       const struct config_role *judge, const struct steer_settings *s,
			       steer_done_fn *done, void *ctx, struct errbuf *err);
void steer_step_free(struct steer_step *st);

/*
 * Makes child the final pick of the step at its parent: records who chose
 * (TREE_PICKER_AI or TREE_PICKER_HUMAN), marks the child (human picks get
 * TREE_HUMAN_PICK; a person choosing another than the judge is an
 * override), and moves the focus and chosen path to it.  Returns -1 when
 * child has no parent.
 */
int steer_choose(struct tree *t, uint32_t child, enum tree_picker who);

/* Steps on the chosen path: nodes on it after the root. */
size_t steer_path_steps(const struct tree *t);

/*
 * The candidate text as a child node: a separating space is put in front
 * when the document ends in neither white space nor the text starts with
 * it.  Appends to out.
 */
void steer_candidate_text(const char *document_end, const char *text, struct strbuf *out);

/*
 * What a judge prompt says about the path besides its text: {balance},
 * {recent} and a note under each flagged candidate (steerpairs.h).  All
 * borrowed.  A NULL context, or a NULL member, renders as nothing: an
 * empty {balance} or {recent}, no notes.
 */
struct steer_judge_context {
	const char *balance;	  /* {balance}: "Yes: 7, No: 3" */
	const char *recent;	  /* {recent}: the last questions, one a line */
	const char *const *notes; /* one per option, NULL entries for none */
};

/*
 * One judge ranking with a step's retries, shared by steering and replay's
 * re-judging.  steer_judge_start renders tmpl (a judge prompt with
 * {document}, {options}, {n}, {balance} and {recent} places; see
 * steer_judge_prompt) for the count option texts and the context (may be
 * NULL), asks the judge role in s->rank mode at
 * s->judge_temperature, asks again on an unusable answer (empty, no option
 * number, out of range, bad scores) or a failed request up to
 * s->judge_attempts times in all (not after an HTTP 401, 403, 404 or 429),
 * and then calls done once, from inside
 * lm_engine_poll().  Everything given is copied except e and judge, which
 * must outlive the judging.  Free with steer_judge_free (also from done,
 * or before it to cancel: done then does not fire).  Returns NULL with err
 * ("the rendered judge prompt is N bytes, more than ..."), nothing asked
 * and done never firing, when the prompt is larger than TASK_PROMPT_MAX.
 */
struct steer_verdict {
	int ok;		       /* 1: scores and pick are set */
	const double *scores;  /* count entries, summing to 1, when ok */
	size_t pick;	       /* 0-based option, when ok */
	const char *raw;       /* the last answer, "" when none */
	const char *rank_used; /* static: the mode that gave the scores */
	/* when not ok: 1 when the last ask's request failed (no answer came:
	 * network, HTTP error, bad reply), 0 when the judge answered unusably */
	int request_failed;
	unsigned asks; /* requests made */
	long prompt_tokens, completion_tokens;
	struct errbuf err; /* why, when not ok */
};

struct steer_judge;

/* The verdict and its strings are valid during the call only. */
typedef void steer_judge_fn(void *ctx, const struct steer_verdict *v);

struct steer_judge *steer_judge_start(struct lm_engine *e, const struct config_role *judge,
				      const char *tmpl, const char *document,
				      const char *const *texts, size_t count,
				      const struct steer_judge_context *context,
				      const struct steer_settings *s, steer_judge_fn *done,
				      void *ctx, struct errbuf *err);
void steer_judge_free(struct steer_judge *j);

/*
 * The judge prompt: tmpl with {document} (the end of document, at most
 * STEER_JUDGE_CONTEXT bytes, starting at a line), {options} (the texts as
 * numbered blocks, rank_format_options, each flagged one with its note on
 * a line after its text), {n}, {balance} and {recent} (ctx's, may be
 * NULL).  Values are put in as they are, never read as a template or a
 * format.  Appends to out and returns 0; or returns -1, appending nothing,
 * when it would be larger than TASK_PROMPT_MAX.  *size (may be NULL) gets
 * its size either way.
 */
int steer_judge_prompt(const char *tmpl, const char *document, const char *const *texts,
		       size_t count, const struct steer_judge_context *ctx, struct strbuf *out,
		       size_t *size);

#endif

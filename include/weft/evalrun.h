#ifndef WEFT_EVALRUN_H
#define WEFT_EVALRUN_H
/*
 * An evaluation run (src/eval/evalrun.c): every example of an evalset
 * scored by every scorer model, on the asynchronous lm engine.  The run
 * never blocks: it submits requests and its callbacks fire inside
 * lm_engine_poll(), so the TUI drives it from its event loop and a headless
 * run is `while (!evalrun_done(run)) lm_engine_poll(...)`.
 *
 * Per model at most `concurrency` requests are in flight.  Each model starts
 * with one probe request; when it fails (bad model, no logprobs, 401...)
 * the model is marked failed with that error and sends nothing more.  After
 * the probe, a failed request (after the engine's retries) marks that one
 * example failed for that model; it is counted and left out of the results;
 * except a failure that would repeat for every example (401, 403, 404, a
 * 429 insufficient_quota): it stops the model as a failed probe does, its
 * requests in flight are cancelled and what finished is kept.
 *
 * Methods:
 *  - EVALRUN_GENERATE: the question rendered into the eval prompt (`{question}`),
 *    sent at temperature 0 with max_tokens (default 16) on the role's
 *    endpoint (chat: one user message), the first choice scored with
 *    score_answer against the answer's class (trimmed): type boolean when
 *    every class is Yes/No (any case), choice when every class is a letter
 *    (`A`, `(B)`), else text.  Unparsed answers count as not correct and are
 *    counted separately.
 *  - EVALRUN_LOGPROB: always the completions endpoint.  Way "echo": per
 *    class, prompt + class with echo, max_tokens 0, logprobs 1; the class's
 *    log-probability is the sum of the token logprobs from the token whose
 *    text_offset is len(prompt) to the end (ISP's GPT-3 path).  When the
 *    probe shows the server ignored echo (the tokens that come back do not
 *    spell prompt + class), way "top": per prompt, max_tokens 1, logprobs 20;
 *    a class's log-probability is that of the alternative equal to the
 *    class, else of the longest alternative that is a prefix of it (its
 *    first token), else the floor: the lowest listed logprob minus ln 2
 *    (half the least likely listed token's probability: below every listed
 *    token, so never tied with one).  A reply with no logprobs at all is the
 *    error "no logprobs".  Logodds sets (other_prompt, two classes) give
 *    metrics_logodds rows, others metrics_classify rows.
 *
 * The API key is never in anything here: requests name its variable only.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/evalset.h"
#include "weft/lm.h"
#include "weft/metrics.h"
#include "weft/score.h"
#include "weft/strbuf.h"

enum evalrun_method {
	EVALRUN_GENERATE,
	EVALRUN_LOGPROB,
};

enum evalrun_way {
	EVALRUN_WAY_NONE, /* not decided yet (or generate) */
	EVALRUN_WAY_ECHO,
	EVALRUN_WAY_TOP,
};

#define EVALRUN_DEFAULT_PROMPT	   "{question}\nAnswer Yes or No."
#define EVALRUN_DEFAULT_MAX_TOKENS 16
#define EVALRUN_TOP_K		   20

struct evalrun_options {
	enum evalrun_method method;
	enum score_rules rules;	      /* generate; default SCORE_STRICT */
	const char *eval_prompt;      /* generate; with {question}; NULL: EVALRUN_DEFAULT_PROMPT */
	const char *eval_prompt_name; /* where eval_prompt is from, named in errors, or NULL */
	int concurrency;	      /* per model; <= 0: the role's, else 8 */
	int max_tokens;		      /* generate; <= 0: EVALRUN_DEFAULT_MAX_TOKENS */
};

void evalrun_options_init(struct evalrun_options *o);

/* Where one example stands for one model (the values are stable: callers
 * may have stored or compared them as numbers). */
enum evalrun_state {
	EVALRUN_PENDING = 0,
	EVALRUN_DONE = 1,
	EVALRUN_FAILED = 2,
};

/* The probe a model has out: nothing else is sent for it until the reply. */
enum evalrun_probe {
	EVALRUN_PROBE_NONE = 0,
	EVALRUN_PROBE_FIRST = 1, /* the first request (logprob: the echo way) */
	EVALRUN_PROBE_TOP = 2,	 /* logprob: the top-logprobs way, after echo was ignored */
};

/* One example's outcome for one model. */
struct evalrun_result {
	enum evalrun_state state;
	/* logprob */
	struct metrics_example ex; /* classification values, or for logodds: loss =
				    * logodds_difference, predicted = argmax q */
	/* generate */
	char *raw;    /* owned; the model's answer */
	char *parsed; /* owned; the normalised answer */
	enum score_outcome outcome;
};

struct evalrun_model {
	char *name;  /* owned; the scorer's name (NAME of scorer.NAME) */
	char *model; /* owned; the model id sent */
	char *base_url;
	double size;  /* parameters; 0 unknown */
	char *family; /* owned; NULL unknown */
	enum evalrun_way way;
	struct evalrun_result *results; /* one per example */
	size_t done, failed, unparsed, floored;
	char *error; /* owned; the first error (sanitized), or NULL */
	int fatal;   /* the probe failed, or a stopping error (see above) */
	/* private */
	struct lm_request req;
	double *lps;	/* nexamples * nslots */
	unsigned *left; /* slots still missing per example */
	size_t next;	/* next job (example * nslots + slot) to submit */
	size_t inflight;
	enum evalrun_probe probe; /* the probe out, or EVALRUN_PROBE_NONE */
};

struct evalrun;

/* Called after every finished example of a model (done, failed or the
 * model's failure) with the run. */
typedef void evalrun_progress_cb(void *ctx, const struct evalrun *run);

/*
 * A new run of set (borrowed: must outlive the run) on engine e (borrowed).
 * Returns NULL with err when the options cannot apply to the set (logprob on
 * a logodds set whose rows do not have two classes), or when a generate
 * prompt rendered for a row would be larger than TASK_PROMPT_MAX (err names
 * eval_prompt_name, the row and the size): before anything is built.
 */
struct evalrun *evalrun_new(struct lm_engine *e, const struct evalset *set,
			    const struct evalrun_options *o, struct errbuf *err);
/* Cancels what is in flight (no more callbacks) and frees the run. */
void evalrun_free(struct evalrun *run);

/*
 * Adds a scorer: name is shown and names the files; role gives the endpoint
 * and settings (must have a model); size 0 and family NULL when unknown.
 * Only before evalrun_start.
 */
void evalrun_add_model(struct evalrun *run, const char *name, const struct config_role *role,
		       double size, const char *family);

struct model_sizes;
/*
 * Adds every configured scorer role of c (scorer.NAME with a model), in
 * config order, as model NAME; sizes and families from the role, else from
 * sizes (by NAME, then by model id; may be NULL).  Returns how many.  For
 * the TUI's preview: evalset_from_pairs, evalrun_new, this, evalrun_start.
 */
size_t evalrun_add_configured(struct evalrun *run, const struct config *c,
			      const struct model_sizes *sizes);

void evalrun_set_progress(struct evalrun *run, evalrun_progress_cb *cb, void *ctx);
/* Submits the probes.  Progress comes with lm_engine_poll() on the engine. */
void evalrun_start(struct evalrun *run);
/* Cancels every request in flight; the run is then done, and what finished
 * stays. */
void evalrun_cancel(struct evalrun *run);
/* 1 when nothing is left to do (finished or cancelled). */
int evalrun_done(const struct evalrun *run);
int evalrun_cancelled(const struct evalrun *run);
/* Units (example x model) finished (done or failed) and in all. */
void evalrun_progress(const struct evalrun *run, size_t *done, size_t *total);

size_t evalrun_model_count(const struct evalrun *run);
const struct evalrun_model *evalrun_model(const struct evalrun *run, size_t i);
const struct evalset *evalrun_set(const struct evalrun *run);
const struct evalrun_options *evalrun_opts(const struct evalrun *run);

/* The model's finished rows as a result table (caller inits nothing:
 * filled here, release with metrics_table_release).  Generate rows have
 * loss and total_logprob NaN and predicted the normalised answer. */
void evalrun_model_table(const struct evalrun *run, size_t i, struct metrics_table *t);
/* The model's summary (over finished rows). */
void evalrun_model_summary(const struct evalrun *run, size_t i, struct metrics_summary *s);

/* ---- results ----------------------------------------------------------- */

/* Appends the per-model table (model, size, n, accuracy with its 95% Wilson
 * interval, mean loss, unparsed, failed, and the logprob way) as text,
 * names sanitized.  Ends in a newline. */
void evalrun_format_table(const struct evalrun *run, struct strbuf *out);
/* Appends the class balance of the set: "class balance: Yes 25 (50.0%), No 25
 * (50.0%)" (classes trimmed, counted by answer), and a newline. */
void evalrun_format_balance(const struct evalrun *run, struct strbuf *out);
/* Appends the terminal plot (plot_terminal), or a one-line note when no
 * model has a size. */
void evalrun_format_plot(const struct evalrun *run, int width, int height, struct strbuf *out);
/* Appends summary.csv: model,size,family,n,accuracy,mean_loss,acc_low,acc_high,
 * unparsed,failed. */
void evalrun_format_summary_csv(const struct evalrun *run, struct strbuf *out);
/* Appends model i's CSV: logprob `index,loss,correct,predicted,total_logprob`
 * (metrics_table_write; logodds_difference for logodds sets); generate
 * `index,question,label,raw_answer,normalised,correct` (RFC 4180). */
int evalrun_format_model_csv(const struct evalrun *run, size_t i, struct strbuf *out);
/* Appends config.json: dataset (name, FNV-1a 64 hash, examples), method,
 * scoring, prompt, models (name, model, endpoint URL, size, family,
 * logprob way, error) and "partial" when cancelled or incomplete.  No key. */
void evalrun_format_config(const struct evalrun *run, struct strbuf *out);
/*
 * Writes config.json, one CSV per model (NAME.csv, '/' in names as '_'),
 * summary.csv and, when some model has a size, scaling.svg into the
 * existing folder dir, each atomically.  Returns 0 or -1 with err.
 */
int evalrun_write(const struct evalrun *run, const char *dir, struct errbuf *err);

/* ---- pure parts (exposed for tests) ------------------------------------ */

/*
 * The echo way: c is a reply to prompt + cls with echo.  Returns
 * EVALRUN_ECHO_OK and the class's log-probability in *lp;
 * EVALRUN_ECHO_IGNORED when the reply is not an echo of prompt + cls (the
 * server ignored echo, or sent no logprobs); EVALRUN_ECHO_ERROR with err
 * when it is an echo but no token starts at len(prompt) (text_offset in
 * code points, else in bytes, else counted from the token texts), or a
 * needed logprob is missing.
 */
enum evalrun_echo_result {
	EVALRUN_ECHO_ERROR = -1,
	EVALRUN_ECHO_OK = 0,
	EVALRUN_ECHO_IGNORED = 1, /* not an echo of prompt + cls */
};
enum evalrun_echo_result evalrun_echo_logprob(const struct lm_choice *c, const char *prompt,
					      const char *cls, double *lp, struct errbuf *err);
/*
 * The top way: c is a reply to prompt with max_tokens 1 and top logprobs.
 * Returns EVALRUN_TOP_FOUND with *lp found among the alternatives,
 * EVALRUN_TOP_FLOOR with *lp the floor, or EVALRUN_TOP_NO_LOGPROBS when c
 * has no alternatives.
 */
enum evalrun_top_result {
	EVALRUN_TOP_NO_LOGPROBS = -1,
	EVALRUN_TOP_FLOOR = 0,
	EVALRUN_TOP_FOUND = 1,
};
enum evalrun_top_result evalrun_top_logprob(const struct lm_choice *c, const char *cls, double *lp);

/* The score type for a set of classes (see above). */
enum score_type evalrun_score_type(const char *const *classes, size_t n);

const char *evalrun_method_name(enum evalrun_method m);
const char *evalrun_way_name(enum evalrun_way w);

#endif

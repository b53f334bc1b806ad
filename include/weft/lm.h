#ifndef WEFT_LM_H
#define WEFT_LM_H
/*
 * Talking to models: OpenAI-compatible requests (POST {base}/chat/completions,
 * POST {base}/completions and POST {base}/embeddings) on an asynchronous
 * engine.  src/lm is the one
 * place that speaks HTTP; this header does not expose curl.
 *
 * Life cycle of a request: fill a struct lm_request (lm_request_init sets
 * the defaults), lm_submit() it with a callback (the engine takes a deep
 * copy: the caller may release its request at once), then call
 * lm_engine_poll() from the event loop (or lm_run() headless) until the
 * callback has fired.  Callbacks run only inside lm_engine_poll()/lm_run(),
 * never inside lm_submit(); a callback may submit or cancel other requests.
 *
 * The API key: a request names an environment variable (api_key_env); the
 * engine reads it with getenv() when it sends, puts it only in the
 * Authorization header, and hides every piece of it (redact.h) in any error
 * text a server echoes and in the text of any choice, before either is cut
 * or handed on (lm_response.key_redacted counts what was hidden).
 * No struct here ever holds the key.
 *
 * Retries: connection errors, timeouts, partial bodies, HTTP 408, 409, 429
 * and 5xx are retried up to retry.max_retries times (default
 * LM_DEFAULT_RETRIES, 2: three attempts), waiting a "full jitter" delay:
 * uniform in [0, min(cap, base * 2^k)] for retry k = 0, 1, ... (base
 * LM_DEFAULT_RETRY_BASE_MS, cap LM_DEFAULT_RETRY_CAP_MS), or exactly what
 * the server asked with `retry-after-ms` or `Retry-After` (seconds or an
 * HTTP date), capped at retry.max_retry_after_ms (default
 * LM_DEFAULT_RETRY_AFTER_CAP_MS).  400, 401, 403, 404, other 4xx and a 429 whose error code or type
 * is `insufficient_quota` are not retried.
 *
 * n: with n_mode LM_N_AUTO the request is sent with n; a reply with fewer
 * choices marks that base URL as ignoring n (remembered by the engine), and
 * the missing choices are topped up with single (n = 1) requests in
 * parallel; later requests to that URL are fanned out from the start.  A 400
 * to a request with n > 1 (llama-server's slot limit) also switches to fan
 * out.  LM_N_NATIVE always sends n (and still tops up short replies);
 * LM_N_FANOUT always sends n single requests.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

enum lm_endpoint {
	LM_CHAT,	/* POST {base}/chat/completions, messages */
	LM_COMPLETIONS, /* POST {base}/completions, prompt */
	LM_EMBEDDINGS,	/* POST {base}/embeddings, inputs: one vector each */
};

enum lm_n_mode {
	LM_N_AUTO,
	LM_N_NATIVE,
	LM_N_FANOUT,
};

/*
 * The defaults of a request (lm_request_init) and of a configured role
 * (config.h), written once here so the engine, the request and the
 * configuration cannot drift apart.
 */
#define LM_DEFAULT_TIMEOUT_MS	      60000L /* whole request, per attempt */
#define LM_CONNECT_TIMEOUT_MS	      10000L /* connecting, unless the timeout is shorter */
#define LM_DEFAULT_RETRIES	      2
#define LM_DEFAULT_RETRY_BASE_MS      500L
#define LM_DEFAULT_RETRY_CAP_MS	      8000L
#define LM_DEFAULT_RETRY_AFTER_CAP_MS 60000L
#define LM_DEFAULT_MAX_BODY	      ((size_t)16 << 20) /* response body cap */
#define LM_DEFAULT_CONCURRENCY	      16		 /* per role, when the request says 0 */
/* Choices one request may ask for (n). */
#define LM_MAX_N 128
/* Texts one embeddings request may send, and the widest vector taken. */
#define LM_MAX_EMBED_INPUTS 2048
#define LM_MAX_EMBED_DIM    65536

struct lm_message {
	char *role;    /* owned: "system", "user", "assistant" */
	char *content; /* owned */
};

struct lm_retry {
	int max_retries;	 /* retries after the first attempt */
	long base_ms;		 /* backoff base */
	long cap_ms;		 /* backoff cap */
	long max_retry_after_ms; /* cap on a server's Retry-After */
};

/*
 * The retry delay's ceiling for retry k (0 for the first retry):
 * min(cap_ms, base_ms * 2^k), never negative.
 */
long lm_backoff_ceiling_ms(const struct lm_retry *r, int k);

/*
 * The "full jitter" delay for retry k, given a uniformly random draw:
 * draw mod (ceiling + 1), so uniform in [0, lm_backoff_ceiling_ms(r, k)].
 * The engine calls it with its own generator; tests call it with theirs.
 */
long lm_backoff_ms(const struct lm_retry *r, int k, uint64_t draw);

/* Unset optional numbers: LM_UNSET (ints, longs) or a negative double. */
#define LM_UNSET (-1)

struct lm_request {
	enum lm_endpoint kind;
	/* Owned strings.  base_url is e.g. "http://127.0.0.1:8080/v1" without
	 * the trailing path; several comma-separated URLs spread requests over
	 * them (least in flight first). */
	char *base_url;
	char *model;
	char *api_key_env; /* the NAME of the variable; NULL or "" = no key */
	char *role;	   /* concurrency group, e.g. "generator"; NULL = "" */

	struct lm_message *messages; /* owned array (LM_CHAT) */
	size_t nmessages, messages_cap;
	char *prompt;  /* owned (LM_COMPLETIONS) */
	char **inputs; /* owned array of owned texts (LM_EMBEDDINGS) */
	size_t ninputs;

	int n;		    /* choices wanted, >= 1; default 1 */
	double temperature; /* < 0: not sent */
	int max_tokens;	    /* LM_UNSET: not sent; 0 is sent (echo scoring) */
	double top_p;	    /* < 0: not sent */
	char **stop;	    /* owned array of owned strings */
	size_t nstop;
	int logprobs;	  /* 0/1; completions send top_logprobs as the int */
	int top_logprobs; /* LM_UNSET or 0..20 */
	int echo;	  /* completions only */
	long seed;	  /* LM_UNSET: not sent */

	enum lm_n_mode n_mode; /* default LM_N_AUTO */
	int concurrency;       /* limit for this role; 0 = engine default */
	long timeout_ms;       /* whole request, per attempt; <= 0: the default */
	size_t max_body;       /* response cap in bytes */
	struct lm_retry retry;
	/* 1: the key may go over plain http to a host that is not this
	 * machine (default 0: such a request fails before it is sent). */
	int allow_http_key;
};

/* Sets every field to its default (empty strings are NULL). */
void lm_request_init(struct lm_request *req);
/* Frees what the request owns and re-initialises it. */
void lm_request_release(struct lm_request *req);
/* Deep copy into dst (which must not hold anything: init or released). */
void lm_request_copy(struct lm_request *dst, const struct lm_request *src);
/* Replaces *field (a char * inside req) with a copy of value (may be NULL). */
void lm_request_set(char **field, const char *value);
/* Appends a message (copies role and content). */
void lm_request_add_message(struct lm_request *req, const char *role, const char *content);
void lm_request_add_stop(struct lm_request *req, const char *stop);
/* Appends a text to embed (LM_EMBEDDINGS; copies it). */
void lm_request_add_input(struct lm_request *req, const char *text);
/*
 * The JSON body for req with n choices (the engine sends n = 1 when it fans
 * out).  Appends to out.  No key is ever part of the body.
 */
void lm_request_to_json(const struct lm_request *req, int n, struct strbuf *out);

/*
 * Caps on what one choice's logprobs may hold: tokens past the first
 * LM_MAX_LOGPROB_TOKENS and alternatives past the first LM_MAX_TOP_LOGPROBS
 * of a token are not kept (OpenAI sends at most 20 alternatives; weft asks
 * for at most 10).  Parsing is linear in the reply either way.
 */
#define LM_MAX_LOGPROB_TOKENS 65536
#define LM_MAX_TOP_LOGPROBS   64

struct lm_top {
	char *token; /* owned */
	double logprob;
};

struct lm_token {
	char *token;	    /* owned */
	double logprob;	    /* NAN when the server sent null (first echoed token) */
	long offset;	    /* legacy text_offset; -1 when absent */
	struct lm_top *top; /* owned, best first as sent; may be empty */
	size_t ntop;
};

struct lm_choice {
	char *text;		 /* owned, valid UTF-8 (bad bytes become U+FFFD) */
	char *finish_reason;	 /* owned, may be NULL */
	int index;		 /* 0..n-1 after merging (renumbered) */
	struct lm_token *tokens; /* owned; NULL/0 when no logprobs came back */
	size_t ntokens;
	int has_logprobs;
};

struct lm_response {
	struct lm_choice *choices; /* owned, sorted by index */
	size_t nchoices;
	long prompt_tokens;	/* summed over sub-requests; -1 if absent */
	long completion_tokens; /* summed; -1 if absent */
	long http_status;	/* of the last attempt; 0 if none got an answer */
	int attempts;		/* HTTP attempts over all sub-requests */
	int requests;		/* sub-requests (1 unless fanned out or topped up) */
	long last_delay_ms;	/* the last retry delay chosen; -1 if no retry */
	long total_delay_ms;	/* sum of retry delays */
	int n_fallback;		/* 1 when this request fanned out or topped up */
	int insufficient_quota; /* 1 when it failed on a 429 insufficient_quota */
	size_t key_redacted;	/* pieces of an API key hidden in choices' text */
	/* LM_EMBEDDINGS: nvectors rows of dim numbers, row i for input i */
	double *vectors; /* owned */
	size_t nvectors, dim;
};

void lm_response_init(struct lm_response *resp);
void lm_response_release(struct lm_response *resp);
/* Drops the choices after the first n. */
void lm_response_truncate(struct lm_response *resp, size_t n);
/* Deep copy into dst (init or released). */
void lm_response_copy(struct lm_response *dst, const struct lm_response *src);

/*
 * Parses a 200 reply body of the given endpoint shape into resp (appending
 * choices).  Accepts chat logprobs (content[].top_logprobs) and legacy
 * completions logprobs (tokens, token_logprobs, top_logprobs, text_offset)
 * on either endpoint, and null logprobs.  Returns 0, or -1 with err set
 * ("invalid JSON in response", "no choices array" ...).  Never crashes on
 * any input (fuzzed).
 */
int lm_response_parse(struct lm_response *resp, enum lm_endpoint kind, const char *body, size_t len,
		      struct errbuf *err);

/*
 * Parses a 200 reply of POST /embeddings to a request of expect inputs:
 * {"data": [{"index": I, "embedding": [numbers]}, ...]}.  Every index in
 * 0..expect-1 must come exactly once, every vector must hold the same
 * number (1..LM_MAX_EMBED_DIM) of finite numbers.  On success resp's
 * vectors (replaced) are in input order; returns 0, or -1 with err saying
 * what is wrong (resp's vectors then empty).  Safe on any input.
 */
int lm_embeddings_parse(struct lm_response *resp, const char *body, size_t len, size_t expect,
			struct errbuf *err);

/*
 * The server's error message from an error body ({"error": {"message"}},
 * {"error": "..."}, {"message": ...}, or the raw text), sanitized (control
 * characters replaced, at most 200 bytes).  Also tells whether the error's
 * code or type is insufficient_quota.  Appends to out.
 */
void lm_error_message(const char *body, size_t len, struct strbuf *out, int *insufficient_quota);

/*
 * The delay a server asked for, in ms: retry-after-ms (a number of ms) wins
 * over Retry-After (seconds, or an HTTP date compared with now, in seconds since
 * the epoch).  Either
 * header value may be NULL.  Returns -1 when neither says anything usable.
 */
long lm_retry_after_ms(const char *retry_after, const char *retry_after_ms, int64_t now);

/* ---- the engine ----------------------------------------------------- */

struct lm_engine;

/*
 * Called once per submitted request that was not cancelled, from inside
 * lm_engine_poll().  On success err is NULL and resp holds the choices; on
 * failure err is one line ("POST URL (model M): HTTP 503: message, after 3
 * attempts") and resp still tells http_status, attempts and delays.  resp
 * and err belong to the engine and are valid during the call only (copy
 * with lm_response_copy to keep).
 */
typedef void lm_callback(void *ctx, const struct lm_response *resp, const struct errbuf *err);

/* A new engine (one curl multi handle); never NULL. */
struct lm_engine *lm_engine_new(void);
/* Cancels everything still pending (no callbacks) and frees the engine. */
void lm_engine_free(struct lm_engine *e);

/*
 * Names an environment variable whose key (read when a text is checked)
 * is hidden like a request's own in everything the engine reports, though
 * no request sent it (every configured role's key: a server may echo
 * any of them).  At most 16 names are kept.
 */
void lm_engine_hide_key_env(struct lm_engine *e, const char *env);
/* Sets the default concurrency for roles whose requests say 0. */
void lm_engine_set_default_concurrency(struct lm_engine *e, int limit);

/*
 * Queues a copy of req; cb(ctx, ...) fires later.  Returns the request's id
 * (> 0).  A request that cannot be sent at all (no URL, bad n) still gets
 * its callback, with the error, at the next poll.
 */
uint64_t lm_submit(struct lm_engine *e, const struct lm_request *req, lm_callback *cb, void *ctx);
/* Drops request id and its transfers; its callback will not fire.
 * Returns 0, or -1 when id is unknown or already finished. */
int lm_cancel(struct lm_engine *e, uint64_t id);
/* Submitted requests whose callback has not fired yet. */
size_t lm_engine_in_flight(const struct lm_engine *e);

/*
 * The one call an event loop makes: waits up to timeout_ms for network
 * activity, a due retry, or one of the caller's extra_fds (nfds of them,
 * polled for reading), advances every transfer and fires the callbacks of
 * finished requests.  readable (nfds entries, may be NULL) is set to 1 for
 * each extra fd that is readable, else 0.  timeout_ms < 0 counts as 0; the
 * wait ends early for a due retry or a finished request.  Returns the number
 * of readable extra fds, or -1 with err set when curl's multi interface
 * fails.
 */
int lm_engine_poll(struct lm_engine *e, const int *extra_fds, size_t nfds, int timeout_ms,
		   unsigned char *readable, struct errbuf *err);

/* Polls until lm_engine_in_flight() is 0.  Returns 0, or -1 with err. */
int lm_run(struct lm_engine *e, struct errbuf *err);

/*
 * Synchronous helper: sends one request and waits.  On success fills resp
 * (init'ed by the caller) and returns 0; on failure returns -1 with err set
 * (resp still has status and attempts).
 */
int lm_request_sync(struct lm_engine *e, const struct lm_request *req, struct lm_response *resp,
		    struct errbuf *err);

#endif

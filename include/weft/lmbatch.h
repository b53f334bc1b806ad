#ifndef WEFT_LMBATCH_H
#define WEFT_LMBATCH_H
/*
 * The provider's batch engine (src/lm/lm_batch.c): the OpenAI Files API
 * (POST {base}/files multipart, GET {base}/files/ID/content) and Batch
 * API (POST {base}/batches, GET {base}/batches/ID), and the JSONL lines
 * they trade.  src/lm stays the one place that speaks HTTP; the engine's
 * request paths (lm.h) are untouched by this.
 *
 * The calls are synchronous: a batch is polled every few seconds to hours
 * by a headless command, so nothing here needs the event loop.  Each call
 * takes the connection from a request (conn: base_url, the first of a
 * comma-separated list; api_key_env; timeout_ms; retry; allow_http_key)
 * and follows the engine's rules: only http and https, no key over plain
 * http to another machine unless allowed, connection errors, timeouts,
 * 408, 409, 429 and 5xx retried with the same "full jitter" backoff and
 * Retry-After, and every piece of the key hidden (redact.h) in any error
 * text and any choice text taken from a result line.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/strbuf.h"

/* The most requests one batch input file may hold (OpenAI's limit), and
 * the largest input file (200 MB). */
#define LM_BATCH_MAX_REQUESTS 50000
#define LM_BATCH_MAX_FILE     ((size_t)200 << 20)
/* The largest output or error file taken (bytes). */
#define LM_BATCH_MAX_CONTENT ((size_t)1 << 30)

/* A batch as the provider reports it. */
struct lm_batch {
	char *id;		       /* owned */
	char *status;		       /* owned: validating, in_progress, finalizing, completed,
					* failed, expired, cancelling, cancelled */
	char *output_file_id;	       /* owned, NULL until there is one */
	char *error_file_id;	       /* owned, NULL until there is one */
	long total, completed, failed; /* request_counts; -1 when absent */
	char *errors;		       /* owned: the first of errors.data (sanitized), or NULL */
};

void lm_batch_init(struct lm_batch *b);
void lm_batch_release(struct lm_batch *b);

/*
 * Uploads len bytes of data as a file named filename with purpose "batch"
 * (multipart/form-data).  On success appends the file's id to file_id and
 * returns 0; else -1 with err ("POST URL: HTTP 401: message").
 */
int lm_file_upload(const struct lm_request *conn, const char *filename, const char *data,
		   size_t len, struct strbuf *file_id, struct errbuf *err);
/* GET {base}/files/ID/content into out (replaced; at most max bytes, else
 * an error).  Returns 0, or -1 with err. */
int lm_file_content(const struct lm_request *conn, const char *file_id, size_t max,
		    struct strbuf *out, struct errbuf *err);
/* POST {base}/batches for input_file_id on the endpoint of kind (chat or
 * completions), completion_window "24h", with metadata {"weft_run": run,
 * "weft_model": model} (each left out when NULL or longer than the 512
 * bytes OpenAI takes).  Fills b (released first).  Returns 0, or -1 with
 * err. */
int lm_batch_create(const struct lm_request *conn, const char *input_file_id, enum lm_endpoint kind,
		    const char *run, const char *model, struct lm_batch *b, struct errbuf *err);

/* The most pages of GET {base}/batches?limit=100 lm_batch_find reads. */
#define LM_BATCH_FIND_PAGES 10
/*
 * Looks for a batch made from input_file_id in the provider's list (GET
 * {base}/batches?limit=100, newest first, then &after=LAST while has_more,
 * at most LM_BATCH_FIND_PAGES pages): one whose metadata names another
 * weft_model than model (when both are there) is not it.  Returns 1 with
 * the batch in b (released first), 0 when there is none, -1 with err.
 * Used on resume when a create's reply may have been lost, so the batch
 * already paid for is adopted instead of made again.
 */
int lm_batch_find(const struct lm_request *conn, const char *input_file_id, const char *model,
		  struct lm_batch *b, struct errbuf *err);
/* GET {base}/batches/ID into b (released first).  Returns 0, or -1. */
int lm_batch_get(const struct lm_request *conn, const char *id, struct lm_batch *b,
		 struct errbuf *err);
/*
 * Parses a batch object (the body of a create or get) into b (released
 * first): id and status are required.  Returns 0, or -1 with err.  Safe
 * on any input.
 */
int lm_batch_parse(const char *body, size_t len, struct lm_batch *b, struct errbuf *err);

/* "/v1/chat/completions" or "/v1/completions": the url of kind's lines. */
const char *lm_batch_endpoint(enum lm_endpoint kind);

/*
 * Appends one input line for req (one choice, the body lm_request_to_json
 * gives the engine: byte for byte what a live request sends) and '\n':
 * {"custom_id":ID,"method":"POST","url":ENDPOINT,"body":{...}}.
 */
void lm_batch_request_line(const struct lm_request *req, const char *custom_id, struct strbuf *out);

/* One line of an output or error file. */
struct lm_batch_result {
	char *custom_id;	 /* owned */
	long status;		 /* response.status_code; 0 when there is no response */
	struct lm_response resp; /* the choices of a 200 */
	char *error;		 /* owned: why it failed (sanitized, key hidden), or NULL */
};

void lm_batch_result_init(struct lm_batch_result *r);
void lm_batch_result_release(struct lm_batch_result *r);

/*
 * Parses one line of an output or error file for requests of kind into r
 * (released first): {"custom_id", "response": {"status_code", "body"} or
 * null, "error": {"code", "message"} or null}.  A 200 whose body parses
 * gives r->resp and error NULL; anything else (an error object, another
 * status, a body that does not parse) gives r->error.  The key of conn is
 * hidden in the choices' text and the error.  Returns 0, or -1 with err
 * when the line itself is broken (not JSON, no custom_id).
 */
int lm_batch_result_parse(const struct lm_request *conn, const char *line, size_t len,
			  enum lm_endpoint kind, struct lm_batch_result *r, struct errbuf *err);

/*
 * Appends a result line for a reply resp of kind got live (status 200):
 * the same shape as the provider's, with a body lm_batch_result_parse
 * reads back into the same choices (text, finish_reason, and logprobs:
 * tokens, their logprobs, text offsets and alternatives), and '\n'.
 */
void lm_batch_result_line(const char *custom_id, const struct lm_response *resp,
			  enum lm_endpoint kind, struct strbuf *out);

#endif

/*
 * One transfer of the engine: its easy handle and headers, starting it,
 * taking its reply, and whether a failure is retried (lm_engine.h).
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/redact.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

#include "lm_engine.h"

void engine_xfer_add(struct lm_engine *e, struct job *j, int n, int64_t due)
{
	struct xfer *x = xcalloc(1, sizeof(*x));

	x->job = j;
	x->n = n;
	x->due_ms = due;
	strbuf_init(&x->body);
	strbuf_init(&x->reply);
	strbuf_set_max(&x->reply, j->req.max_body);
	lm_request_to_json(&j->req, n, &x->body);
	LIST_APPEND(e->xfers, e->xfers_tail, x);
	j->pending++;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;

	if (strbuf_add(&x->reply, data, n) < 0) {
		x->too_big = 1;
		return 0;
	}
	return n;
}

/* An easy handle with the options every transfer shares: from the pool or
 * new (NULL if curl cannot make one).  Every other option is set by
 * xfer_start on each use, so a pooled handle needs no curl_easy_reset. */
static CURL *easy_get(struct lm_engine *e)
{
	CURL *c;

	if (e->npool)
		return e->pool[--e->npool];
	c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "weft/" WEFT_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	return c;
}

/* Returns a handle (off the multi handle) to the pool, or frees it. */
static void easy_put(struct lm_engine *e, CURL *c)
{
	if (e->npool < POOL_MAX) {
		/* nothing of the finished transfer may be reached through it */
		curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c, CURLOPT_PRIVATE, NULL);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		e->pool[e->npool++] = c;
	} else {
		curl_easy_cleanup(c);
	}
}

/* The header list for API key key (NULL or "": none), built on first use. */
static struct curl_slist *headers_for(struct lm_engine *e, const char *key)
{
	struct lm_headers *h;
	struct strbuf sb = STRBUF_INIT;

	if (key && !*key)
		key = NULL;
	for (h = e->headers; h; h = h->next)
		if (key ? h->key && !strcmp(h->key, key) : !h->key)
			return h->list;
	h = xcalloc(1, sizeof(*h));
	h->key = key ? xstrdup(key) : NULL;
	h->list = curl_slist_append(NULL, "Content-Type: application/json");
	h->list = curl_slist_append(h->list, "Expect:");
	if (key) {
		strbuf_addstr(&sb, "Authorization: Bearer ");
		strbuf_addstr(&sb, key);
		h->list = curl_slist_append(h->list, sb.data);
		memset(sb.data, 0, sb.len);
		strbuf_release(&sb);
	}
	h->next = e->headers;
	e->headers = h;
	return h->list;
}

void engine_headers_free(struct lm_engine *e)
{
	while (e->headers) {
		struct lm_headers *h = e->headers;
		struct curl_slist *l;

		e->headers = h->next;
		for (l = h->list; l; l = l->next)
			memset(l->data, 0, strlen(l->data));
		curl_slist_free_all(h->list);
		if (h->key) {
			memset(h->key, 0, strlen(h->key));
			free(h->key);
		}
		free(h);
	}
}

/* Takes x off the multi handle and the counters (if running). */
static void xfer_stop(struct lm_engine *e, struct xfer *x)
{
	if (!x->running)
		return;
	curl_multi_remove_handle(e->multi, x->easy);
	easy_put(e, x->easy);
	x->easy = NULL;
	x->running = 0;
	x->job->role->in_flight--;
	x->host->in_flight--;
}

static void xfer_free(struct lm_engine *e, struct xfer *x)
{
	xfer_stop(e, x);
	LIST_REMOVE(e->xfers, e->xfers_tail, x);
	x->job->pending--;
	strbuf_release(&x->body);
	strbuf_release(&x->reply);
	free(x);
}

void engine_job_free(struct job *j)
{
	lm_request_release(&j->req);
	lm_response_release(&j->resp);
	free(j->hosts);
	free(j);
}

/* Moves j from the active list to the done list (its callback fires at the
 * end of this poll). */
static void job_mark_done(struct lm_engine *e, struct job *j)
{
	if (j->done)
		return;
	LIST_REMOVE(e->active, e->active_tail, j);
	LIST_APPEND(e->done, e->done_tail, j);
	j->done = 1;
}

/* Removes every transfer of job j. */
void engine_job_drop_xfers(struct lm_engine *e, struct job *j)
{
	struct xfer *x = e->xfers, *next;

	for (; x; x = next) {
		next = x->next;
		if (x->job == j)
			xfer_free(e, x);
	}
}

/* The keys to hide from what job j reports: its own key and every key the
 * engine has sent.  Returns how many were put in out. */
static size_t job_secrets(const struct lm_engine *e, const struct job *j, const char **out)
{
	const char *env = j->req.api_key_env;
	const struct lm_headers *h;
	size_t n = 0;

	size_t k;

	if (env && *env && getenv(env) && *getenv(env))
		out[n++] = getenv(env);
	for (h = e->headers; h && n < MAX_SECRETS; h = h->next)
		if (h->key)
			out[n++] = h->key;
	for (k = 0; k < e->nhide_env && n < MAX_SECRETS; k++) {
		const char *v = getenv(e->hide_env[k]);

		if (v && *v)
			out[n++] = v;
	}
	return n;
}

/* Hides every piece of every key (redact.h) in err's message. */
static void redact_errbuf(const struct lm_engine *e, const struct job *j, struct errbuf *err)
{
	const char *secrets[MAX_SECRETS];
	size_t n = job_secrets(e, j, secrets);
	struct strbuf sb = STRBUF_INIT;

	if (n && redact_append(&sb, err->msg, strlen(err->msg), secrets, n))
		errbuf_set(err, "%s", sb.data);
	strbuf_release(&sb);
}

void engine_job_fail(struct lm_engine *e, struct job *j, struct xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails job j with "POST URL (model M): WHAT (after N attempts)". */
void engine_job_fail(struct lm_engine *e, struct job *j, struct xfer *x, const char *fmt, ...)
{
	struct strbuf what = STRBUF_INIT;
	va_list ap;
	int attempts = x ? x->attempts : 0;

	va_start(ap, fmt);
	strbuf_vaddf(&what, fmt, ap);
	va_end(ap);
	errbuf_set(&j->err, "POST %s (model %s): %s (after %d attempt%s)",
		   x && x->url ? x->url : (j->req.base_url ? j->req.base_url : "(no URL)"),
		   j->req.model ? j->req.model : "(none)", what.data, attempts,
		   attempts == 1 ? "" : "s");
	strbuf_release(&what);
	redact_errbuf(e, j, &j->err);
	j->failed = 1;
	job_mark_done(e, j);
	engine_job_drop_xfers(e, j);
}

static struct lm_host *pick_host(struct job *j)
{
	struct lm_host *best = NULL;
	size_t i;

	for (i = 0; i < j->nhosts; i++)
		if (!best || j->hosts[i]->in_flight < best->in_flight)
			best = j->hosts[i];
	return best;
}

static int xfer_start(struct lm_engine *e, struct xfer *x)
{
	struct job *j = x->job;
	const char *key =
	    j->req.api_key_env && *j->req.api_key_env ? getenv(j->req.api_key_env) : NULL;
	long timeout = j->req.timeout_ms > 0 ? j->req.timeout_ms : LM_DEFAULT_TIMEOUT_MS;
	CURL *c;

	x->host = pick_host(j);
	x->url = j->req.kind == LM_CHAT		? x->host->chat_url
		 : j->req.kind == LM_EMBEDDINGS ? x->host->embed_url
						: x->host->complete_url;
	if (key) {
		const char *p;

		for (p = key; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				engine_job_fail(
				    e, j, x,
				    "the API key in $%s contains control characters; not sent",
				    j->req.api_key_env);
				return -1;
			}
	}
	engine_start_curl(e);
	c = easy_get(e);
	if (!c) {
		engine_job_fail(e, j, x, "curl_easy_init failed");
		return -1;
	}
	strbuf_reset(&x->reply);
	x->too_big = 0;
	x->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body.data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_for(e, key));
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout < LM_CONNECT_TIMEOUT_MS ? timeout : LM_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
	x->easy = c;
	if (curl_multi_add_handle(e->multi, c) != CURLM_OK) {
		curl_easy_cleanup(c);
		x->easy = NULL;
		engine_job_fail(e, j, x, "curl_multi_add_handle failed");
		return -1;
	}
	x->running = 1;
	x->attempts++;
	j->resp.attempts++;
	j->role->in_flight++;
	x->host->in_flight++;
	return 0;
}

/* Whether any role has fewer transfers running than its limit. */
static int role_has_room(const struct lm_engine *e)
{
	size_t i;

	for (i = 0; i < e->nroles; i++)
		if (e->roles[i]->in_flight < e->roles[i]->limit)
			return 1;
	return 0;
}

/* Starts the waiting transfers that are due, as the role limits allow.
 * Returns the earliest due time of a transfer left waiting for time (or
 * INT64_MAX). */
int64_t engine_start_ready(struct lm_engine *e)
{
	int64_t now = now_ms(), next = INT64_MAX;
	int again = 1;

	/* With every role at its limit nothing can start, and a finishing
	 * transfer wakes the poll anyway: skip the walk over the waiting list
	 * (thousands of queued requests made it quadratic). */
	if (!role_has_room(e))
		return next;
	while (again) {
		struct xfer *x;

		again = 0;
		for (x = e->xfers; x; x = x->next) {
			if (x->running || x->job->done)
				continue;
			if (x->due_ms > now) {
				if (x->due_ms < next)
					next = x->due_ms;
				continue;
			}
			if (x->job->role->in_flight >= x->job->role->limit)
				continue;
			if (xfer_start(e, x) < 0) {
				/* the list changed under us: start over */
				again = 1;
				break;
			}
			if (!role_has_room(e))
				return next;
		}
	}
	return next;
}

/* Transport failures worth another attempt (a bad URL or a certificate
 * problem is not). */
static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING: return 1;
	default: return 0;
	}
}

static int retryable_status(long status)
{
	return status == 408 || status == 409 || status == 429 || status >= 500;
}

static const char *header_value(CURL *c, const char *name)
{
	struct curl_header *h;

	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
		return h->value;
	return NULL;
}

long lm_backoff_ceiling_ms(const struct lm_retry *r, int k)
{
	long ceiling = r->base_ms > 0 ? r->base_ms : 0;

	for (; k > 0 && ceiling < r->cap_ms; k--)
		ceiling *= 2;
	return ceiling > r->cap_ms ? (r->cap_ms > 0 ? r->cap_ms : 0) : ceiling;
}

long lm_backoff_ms(const struct lm_retry *r, int k, uint64_t draw)
{
	long ceiling = lm_backoff_ceiling_ms(r, k);

	return ceiling > 0 ? (long)(draw % (uint64_t)(ceiling + 1)) : 0;
}

/* Schedules x again or fails the job; reason is for the final error. */
static void retry_or_fail(struct lm_engine *e, struct xfer *x, long asked_ms, const char *reason)
{
	struct job *j = x->job;
	const struct lm_retry *r = &j->req.retry;
	long delay;

	if (x->attempts - 1 >= r->max_retries) {
		engine_job_fail(e, j, x, "%s", reason);
		return;
	}
	if (asked_ms >= 0) {
		delay = asked_ms < r->max_retry_after_ms ? asked_ms : r->max_retry_after_ms;
	} else {
		delay = lm_backoff_ms(r, x->attempts - 1, rng_next(e));
	}
	j->resp.last_delay_ms = delay;
	j->resp.total_delay_ms += delay;
	xfer_stop(e, x);
	x->due_ms = now_ms() + delay;
}

int engine_cmp_choice(const void *a, const void *b)
{
	int x = ((const struct lm_choice *)a)->index, y = ((const struct lm_choice *)b)->index;

	return (x > y) - (x < y);
}

/* A transfer curl could not complete: retried when that may help. */
static void xfer_curl_failed(struct lm_engine *e, struct xfer *x, CURLcode result)
{
	struct job *j = x->job;
	struct strbuf why = STRBUF_INIT;

	if (x->too_big) {
		engine_job_fail(e, j, x, "response larger than %zu bytes", j->req.max_body);
		return;
	}
	strbuf_addstr(&why, curl_easy_strerror(result));
	if (x->curl_err[0]) {
		strbuf_addstr(&why, ": ");
		strbuf_addstr(&why, x->curl_err);
	}
	if (retryable_curl(result))
		retry_or_fail(e, x, -1, why.data);
	else
		engine_job_fail(e, j, x, "%s", why.data);
	strbuf_release(&why);
}

/* A reply with a status outside 2xx: fanned out, retried or failed. */
static void xfer_http_error(struct lm_engine *e, struct xfer *x, long status)
{
	struct job *j = x->job;
	struct strbuf msg = STRBUF_INIT, body = STRBUF_INIT;
	const char *secrets[MAX_SECRETS];
	size_t ns = job_secrets(e, j, secrets);
	int quota = 0;
	long asked =
	    lm_retry_after_ms(header_value(x->easy, "Retry-After"),
			      header_value(x->easy, "retry-after-ms"), (int64_t)time(NULL));

	strbuf_addf(&msg, "HTTP %ld: ", status);
	/* Hidden before the message is cut to length: a cut key is still a
	 * piece of the key. */
	redact_append(&body, x->reply.data ? x->reply.data : "", x->reply.len, secrets, ns);
	lm_error_message(body.data ? body.data : "", body.len, &msg, &quota);
	strbuf_release(&body);
	if (status == 400 && x->n > 1 && j->req.n_mode == LM_N_AUTO && !j->fell_back) {
		/* Probably n above the server's slots: fan out. */
		int i, n = x->n;

		j->fell_back = 1;
		j->resp.n_fallback = 1;
		x->host->ignores_n = 1;
		xfer_free(e, x);
		for (i = 0; i < n; i++)
			engine_xfer_add(e, j, 1, 0);
	} else if (retryable_status(status) && !(status == 429 && quota)) {
		retry_or_fail(e, x, asked, msg.data);
	} else {
		const char *env = j->req.api_key_env;
		const char *key = env && *env ? getenv(env) : NULL;

		if ((status == 401 || status == 403) && env && *env && (!key || !*key))
			strbuf_addf(&msg, " ($%s is not set)", env);
		j->resp.insufficient_quota = status == 429 && quota;
		engine_job_fail(e, j, x, "%s", msg.data);
	}
	strbuf_release(&msg);
}

/* A 2xx reply: its choices join the job's, any missing ones asked for
 * again one by one.  Returns -1 when the job failed on it. */
static int xfer_take_reply(struct lm_engine *e, struct xfer *x, long status)
{
	struct job *j = x->job;
	size_t before = j->resp.nchoices, got, ns, k;
	const char *secrets[MAX_SECRETS];
	struct errbuf perr;
	int i;

	if (j->req.kind == LM_EMBEDDINGS) {
		if (lm_embeddings_parse(&j->resp, x->reply.data, x->reply.len, j->req.ninputs,
					&perr) < 0) {
			engine_job_fail(e, j, x, "HTTP %ld: %s", status, perr.msg);
			return -1;
		}
		j->resp.requests++;
		return 0;
	}
	if (lm_response_parse(&j->resp, j->req.kind, x->reply.data, x->reply.len, &perr) < 0) {
		engine_job_fail(e, j, x, "HTTP %ld: %s", status, perr.msg);
		return -1;
	}
	got = j->resp.nchoices - before;
	/* A key echoed in a reply never reaches a session. */
	ns = job_secrets(e, j, secrets);
	for (k = before; ns && k < j->resp.nchoices; k++)
		j->resp.key_redacted += redact_string(&j->resp.choices[k].text, secrets, ns);
	if (got > 1)
		qsort(j->resp.choices + before, got, sizeof(*j->resp.choices), engine_cmp_choice);
	j->resp.requests++;
	if (got < (size_t)x->n) {
		if (x->n == 1) {
			engine_job_fail(e, j, x, "HTTP %ld: response has no choices", status);
			return -1;
		}
		if (j->req.n_mode == LM_N_AUTO)
			x->host->ignores_n = 1;
		j->resp.n_fallback = 1;
		for (i = 0; i < x->n - (int)got; i++)
			engine_xfer_add(e, j, 1, 0);
	}
	return 0;
}

void engine_xfer_done(struct lm_engine *e, struct xfer *x, CURLcode result)
{
	struct job *j = x->job;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status)
		j->resp.http_status = status;
	if (result != CURLE_OK) {
		xfer_curl_failed(e, x, result);
		return;
	}
	if (status < 200 || status > 299) {
		xfer_http_error(e, x, status);
		return;
	}
	if (xfer_take_reply(e, x, status) < 0)
		return;
	xfer_free(e, x);
	if (j->pending == 0)
		job_mark_done(e, j);
}

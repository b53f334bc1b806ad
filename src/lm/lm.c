/*
 * The engine: one curl multi handle, requests ("jobs") split into transfers
 * (one per HTTP request: the native n, or n single requests when fanning
 * out), a per-role concurrency limit, retries with backoff, and callbacks
 * fired from lm_engine_poll().  Single-threaded: curl's multi interface does
 * the waiting, so no thread is needed.
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

struct lm_role {
	char *name;
	int limit;
	int in_flight;
};

struct lm_host {
	char *url;	    /* base URL without trailing '/' */
	char *chat_url;	    /* url + "/chat/completions" */
	char *complete_url; /* url + "/completions" */
	int in_flight;
	int ignores_n;
};

/* The request headers for one API key (or none), built once per engine. */
struct lm_headers {
	struct lm_headers *next;
	char *key; /* NULL: no Authorization header */
	struct curl_slist *list;
};

/* Finished easy handles kept for the next transfer (curl_easy_init and its
 * first options cost a few allocations of several KiB each per request). */
#define POOL_MAX 256

struct job;

struct xfer {
	struct xfer *prev, *next; /* the engine's transfers, oldest first */
	struct job *job;
	int running;
	int n;
	int attempts;
	int64_t due_ms;
	CURL *easy;
	struct lm_host *host;
	struct strbuf body;
	struct strbuf reply;
	const char *url; /* the host's, while running or after */
	int too_big;
	char curl_err[CURL_ERROR_SIZE];
};

struct job {
	struct job *prev, *next; /* on the active list, or the done list */
	uint64_t id;
	struct lm_request req;
	lm_callback *cb;
	void *ctx;
	struct lm_response resp;
	struct errbuf err;
	int failed;
	int pending; /* live transfers */
	int done;    /* on the done list, callback not yet fired */
	int fell_back;
	struct lm_role *role;
	struct lm_host **hosts;
	size_t nhosts;
};

struct lm_engine {
	CURLM *multi;
	struct job *active, *active_tail; /* submitted, not finished */
	struct job *done, *done_tail;	  /* finished, callback pending */
	struct xfer *xfers, *xfers_tail;
	struct lm_role **roles;
	size_t nroles, roles_cap;
	struct lm_host **hosts;
	size_t nhosts, hosts_cap;
	uint64_t next_id;
	int default_limit;
	uint64_t rng;
	size_t njobs;
	int epfd;	      /* curl's sockets (CURLMOPT_SOCKETFUNCTION) */
	CURL *pool[POOL_MAX]; /* idle easy handles, options of a past transfer */
	size_t npool;
	struct lm_headers *headers;
	char *hide_env[16]; /* owned: variables whose keys are hidden too */
	size_t nhide_env;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Doubly linked FIFO lists with a head and tail (jobs and transfers). */
#define LIST_APPEND(head, tail, item)                                                              \
	do {                                                                                       \
		(item)->next = NULL;                                                               \
		(item)->prev = (tail);                                                             \
		if (tail)                                                                          \
			(tail)->next = (item);                                                     \
		else                                                                               \
			(head) = (item);                                                           \
		(tail) = (item);                                                                   \
	} while (0)
#define LIST_REMOVE(head, tail, item)                                                              \
	do {                                                                                       \
		if ((item)->prev)                                                                  \
			(item)->prev->next = (item)->next;                                         \
		else                                                                               \
			(head) = (item)->next;                                                     \
		if ((item)->next)                                                                  \
			(item)->next->prev = (item)->prev;                                         \
		else                                                                               \
			(tail) = (item)->prev;                                                     \
		(item)->prev = (item)->next = NULL;                                                \
	} while (0)

static uint64_t rng_next(struct lm_engine *e)
{
	/* xorshift64*: jitter only, not security. */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 0x2545F4914F6CDD1DULL;
}

/* CURLMOPT_SOCKETFUNCTION: keeps the epoll set in step with what curl
 * waits for on each socket. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct lm_engine *e = userp;
	struct epoll_event ev;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* fails harmlessly when curl closed the socket first */
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	ev.data.fd = s;
	if (!socketp || epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) < 0) {
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) < 0)
			epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev);
		curl_multi_assign(e->multi, s, e);
	}
	return 0;
}

struct lm_engine *lm_engine_new(void)
{
	struct lm_engine *e = xcalloc(1, sizeof(*e));
	struct timespec ts;

	e->epfd = -1;
	e->next_id = 1;
	e->default_limit = LM_DEFAULT_CONCURRENCY;
	clock_gettime(CLOCK_REALTIME, &ts);
	e->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
		 0x9E3779B97F4A7C15ULL;
	if (!e->rng)
		e->rng = 1;
	return e;
}

/* Makes the curl multi handle on first use: curl_global_init (TLS library
 * set-up, a few ms) is paid by the first request, not by every start of
 * weft. */
static void engine_start_curl(struct lm_engine *e)
{
	if (e->multi)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e->multi = curl_multi_init();
	if (!e->multi)
		xalloc_die("curl_multi_init");
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, 256L);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0)
		xalloc_die("epoll_create1");
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
}

void lm_engine_set_default_concurrency(struct lm_engine *e, int limit)
{
	e->default_limit = limit > 0 ? limit : 1;
}

size_t lm_engine_in_flight(const struct lm_engine *e)
{
	return e->njobs;
}

static struct lm_role *role_get(struct lm_engine *e, const char *name, int limit)
{
	size_t i;
	struct lm_role *r;

	if (!name)
		name = "";
	for (i = 0; i < e->nroles; i++)
		if (!strcmp(e->roles[i]->name, name)) {
			if (limit > 0)
				e->roles[i]->limit = limit;
			return e->roles[i];
		}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	r->limit = limit > 0 ? limit : e->default_limit;
	XGROW(e->roles, e->roles_cap, e->nroles + 1);
	e->roles[e->nroles++] = r;
	return r;
}

static struct lm_host *host_get(struct lm_engine *e, const char *url, size_t len)
{
	size_t i;
	struct lm_host *h;

	while (len && url[len - 1] == '/')
		len--;
	for (i = 0; i < e->nhosts; i++)
		if (strlen(e->hosts[i]->url) == len && !memcmp(e->hosts[i]->url, url, len))
			return e->hosts[i];
	h = xcalloc(1, sizeof(*h));
	h->url = xstrndup(url, len);
	h->chat_url = xmalloc(len + sizeof("/chat/completions"));
	memcpy(h->chat_url, url, len);
	memcpy(h->chat_url + len, "/chat/completions", sizeof("/chat/completions"));
	h->complete_url = xmalloc(len + sizeof("/completions"));
	memcpy(h->complete_url, url, len);
	memcpy(h->complete_url + len, "/completions", sizeof("/completions"));
	XGROW(e->hosts, e->hosts_cap, e->nhosts + 1);
	e->hosts[e->nhosts++] = h;
	return h;
}

static void job_parse_hosts(struct lm_engine *e, struct job *j)
{
	const char *p = j->req.base_url ? j->req.base_url : "";

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len;

		if (!end)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			j->hosts = xreallocarray(j->hosts, j->nhosts + 1, sizeof(*j->hosts));
			j->hosts[j->nhosts++] = host_get(e, p, len);
		}
		p = *end ? end + 1 : end;
	}
}

/*
 * Is the host of url (SCHEME://[USER@]HOST[:PORT]/...) this machine?
 * localhost, 127.0.0.0/8 and ::1 are.
 */
static int url_is_loopback(const char *url)
{
	const char *h = strstr(url, "://"), *end, *at;
	size_t len;

	if (!h)
		return 0;
	h += 3;
	end = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	if (*h == '[')
		return !strncmp(h, "[::1]", 5);
	len = strcspn(h, ":/?#");
	return (len == 9 && !strncasecmp(h, "localhost", 9)) || !strncmp(h, "127.", 4);
}

/*
 * Keys go only where the user meant: a base URL must be http or https
 * (curl would also read file://, ftp:// ...), and a key is not sent over
 * plain http to another machine unless the role allows it.  Returns 0, or
 * -1 with why set.
 */
static int url_allowed(const struct job *j, const char *url, struct strbuf *why)
{
	const char *env = j->req.api_key_env;
	const char *key = env && *env ? getenv(env) : NULL;

	if (!strncasecmp(url, "https://", 8))
		return 0;
	if (strncasecmp(url, "http://", 7)) {
		strbuf_addf(why, "base URL '%.200s' is not http:// or https://", url);
		return -1;
	}
	if (key && *key && !j->req.allow_http_key && !url_is_loopback(url)) {
		strbuf_addf(why,
			    "refusing to send the API key ($%s) over plain http to '%.200s'; "
			    "use https, or set %s.allow_http_key = true",
			    env, url, j->req.role && *j->req.role ? j->req.role : "ROLE");
		return -1;
	}
	return 0;
}

static void xfer_add(struct lm_engine *e, struct job *j, int n, int64_t due)
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

static void headers_free(struct lm_engine *e)
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

static void job_free(struct job *j)
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
static void job_drop_xfers(struct lm_engine *e, struct job *j)
{
	struct xfer *x = e->xfers, *next;

	for (; x; x = next) {
		next = x->next;
		if (x->job == j)
			xfer_free(e, x);
	}
}

/* At most this many keys are hidden in one text: the job's own and those
 * the engine has sent before (a server may echo any of them). */
#define MAX_SECRETS 16

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

static void job_fail(struct lm_engine *e, struct job *j, struct xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails job j with "POST URL (model M): WHAT (after N attempts)". */
static void job_fail(struct lm_engine *e, struct job *j, struct xfer *x, const char *fmt, ...)
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
	job_drop_xfers(e, j);
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
	x->url = j->req.kind == LM_CHAT ? x->host->chat_url : x->host->complete_url;
	if (key) {
		const char *p;

		for (p = key; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				job_fail(e, j, x,
					 "the API key in $%s contains control characters; not sent",
					 j->req.api_key_env);
				return -1;
			}
	}
	engine_start_curl(e);
	c = easy_get(e);
	if (!c) {
		job_fail(e, j, x, "curl_easy_init failed");
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
		job_fail(e, j, x, "curl_multi_add_handle failed");
		return -1;
	}
	x->running = 1;
	x->attempts++;
	j->resp.attempts++;
	j->role->in_flight++;
	x->host->in_flight++;
	return 0;
}

/* Starts the waiting transfers that are due, as the role limits allow.
 * Returns the earliest due time of a transfer left waiting for time (or
 * INT64_MAX). */
static int role_has_room(const struct lm_engine *e)
{
	size_t i;

	for (i = 0; i < e->nroles; i++)
		if (e->roles[i]->in_flight < e->roles[i]->limit)
			return 1;
	return 0;
}

static int64_t start_ready(struct lm_engine *e)
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
		job_fail(e, j, x, "%s", reason);
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

static int cmp_choice(const void *a, const void *b)
{
	int x = ((const struct lm_choice *)a)->index, y = ((const struct lm_choice *)b)->index;

	return (x > y) - (x < y);
}

static void xfer_done(struct lm_engine *e, struct xfer *x, CURLcode result)
{
	struct job *j = x->job;
	long status = 0;
	struct errbuf perr;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status)
		j->resp.http_status = status;
	if (result != CURLE_OK) {
		struct strbuf why = STRBUF_INIT;

		if (x->too_big) {
			job_fail(e, j, x, "response larger than %zu bytes", j->req.max_body);
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
			job_fail(e, j, x, "%s", why.data);
		strbuf_release(&why);
		return;
	}
	if (status < 200 || status > 299) {
		struct strbuf msg = STRBUF_INIT;
		int quota = 0;
		long asked =
		    lm_retry_after_ms(header_value(x->easy, "Retry-After"),
				      header_value(x->easy, "retry-after-ms"), (int64_t)time(NULL));

		strbuf_addf(&msg, "HTTP %ld: ", status);
		{
			/* Hidden before the message is cut to length: a cut key
			 * is still a piece of the key. */
			const char *secrets[MAX_SECRETS];
			size_t ns = job_secrets(e, j, secrets);
			struct strbuf body = STRBUF_INIT;

			redact_append(&body, x->reply.data ? x->reply.data : "", x->reply.len,
				      secrets, ns);
			lm_error_message(body.data ? body.data : "", body.len, &msg, &quota);
			strbuf_release(&body);
		}
		if (status == 400 && x->n > 1 && j->req.n_mode == LM_N_AUTO && !j->fell_back) {
			/* Probably n above the server's slots: fan out. */
			int i, n = x->n;

			j->fell_back = 1;
			j->resp.n_fallback = 1;
			x->host->ignores_n = 1;
			xfer_free(e, x);
			for (i = 0; i < n; i++)
				xfer_add(e, j, 1, 0);
		} else if (retryable_status(status) && !(status == 429 && quota)) {
			retry_or_fail(e, x, asked, msg.data);
		} else {
			const char *env = j->req.api_key_env;
			const char *key = env && *env ? getenv(env) : NULL;

			if ((status == 401 || status == 403) && env && *env && (!key || !*key))
				strbuf_addf(&msg, " ($%s is not set)", env);
			j->resp.insufficient_quota = status == 429 && quota;
			job_fail(e, j, x, "%s", msg.data);
		}
		strbuf_release(&msg);
		return;
	}
	{
		size_t before = j->resp.nchoices, got;

		if (lm_response_parse(&j->resp, j->req.kind, x->reply.data, x->reply.len, &perr) <
		    0) {
			job_fail(e, j, x, "HTTP %ld: %s", status, perr.msg);
			return;
		}
		got = j->resp.nchoices - before;
		{
			/* A key echoed in a reply never reaches a session. */
			const char *secrets[MAX_SECRETS];
			size_t ns = job_secrets(e, j, secrets), k;

			for (k = before; ns && k < j->resp.nchoices; k++)
				j->resp.key_redacted +=
				    redact_string(&j->resp.choices[k].text, secrets, ns);
		}
		if (got > 1)
			qsort(j->resp.choices + before, got, sizeof(*j->resp.choices), cmp_choice);
		j->resp.requests++;
		if (got < (size_t)x->n) {
			int i, missing = x->n - (int)got;

			if (x->n == 1) {
				job_fail(e, j, x, "HTTP %ld: response has no choices", status);
				return;
			}
			if (j->req.n_mode == LM_N_AUTO)
				x->host->ignores_n = 1;
			j->resp.n_fallback = 1;
			for (i = 0; i < missing; i++)
				xfer_add(e, j, 1, 0);
		}
	}
	xfer_free(e, x);
	if (j->pending == 0)
		job_mark_done(e, j);
}

uint64_t lm_submit(struct lm_engine *e, const struct lm_request *req, lm_callback *cb, void *ctx)
{
	struct job *j = xcalloc(1, sizeof(*j));
	size_t i;
	int fanout = 0;

	j->id = e->next_id++;
	lm_request_copy(&j->req, req);
	j->cb = cb;
	j->ctx = ctx;
	lm_response_init(&j->resp);
	j->role = role_get(e, req->role, req->concurrency);
	LIST_APPEND(e->active, e->active_tail, j);
	e->njobs++;
	job_parse_hosts(e, j);
	if (!j->nhosts) {
		job_fail(e, j, NULL, "no base URL configured");
		return j->id;
	}
	for (i = 0; i < j->nhosts; i++) {
		struct strbuf why = STRBUF_INIT;

		if (url_allowed(j, j->hosts[i]->url, &why) < 0) {
			job_fail(e, j, NULL, "%s", why.data);
			strbuf_release(&why);
			return j->id;
		}
		strbuf_release(&why);
	}
	if (!req->model || !*req->model) {
		job_fail(e, j, NULL, "no model configured");
		return j->id;
	}
	if (req->n < 1 || req->n > LM_MAX_N) {
		job_fail(e, j, NULL, "n must be between 1 and %d, not %d", LM_MAX_N, req->n);
		return j->id;
	}
	if (req->n > 1) {
		if (req->n_mode == LM_N_FANOUT)
			fanout = 1;
		else if (req->n_mode == LM_N_AUTO)
			for (i = 0; i < j->nhosts; i++)
				fanout |= j->hosts[i]->ignores_n;
	}
	if (fanout) {
		for (i = 0; i < (size_t)req->n; i++)
			xfer_add(e, j, 1, 0);
		j->resp.n_fallback = req->n_mode == LM_N_AUTO;
	} else {
		xfer_add(e, j, req->n, 0);
	}
	return j->id;
}

static void job_unlink(struct lm_engine *e, struct job *j)
{
	if (j->done)
		LIST_REMOVE(e->done, e->done_tail, j);
	else
		LIST_REMOVE(e->active, e->active_tail, j);
	e->njobs--;
}

static struct job *job_find(struct lm_engine *e, uint64_t id)
{
	struct job *j;

	for (j = e->active; j; j = j->next)
		if (j->id == id)
			return j;
	for (j = e->done; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

int lm_cancel(struct lm_engine *e, uint64_t id)
{
	struct job *j = job_find(e, id);

	if (!j)
		return -1;
	job_drop_xfers(e, j);
	job_unlink(e, j);
	job_free(j);
	return 0;
}

/* Runs the callbacks of finished jobs, oldest first.  Each job leaves the
 * done list before its callback runs, so a callback may submit, or cancel
 * any other request (including one finished in the same poll). */
static void fire_callbacks(struct lm_engine *e)
{
	while (e->done) {
		struct job *j = e->done;
		size_t i;

		job_unlink(e, j);
		if (!j->failed) {
			if (j->resp.nchoices > 1)
				qsort(j->resp.choices, j->resp.nchoices, sizeof(*j->resp.choices),
				      cmp_choice);
			/* fan-out choices all say index 0: number them as they are */
			for (i = 0; i < j->resp.nchoices; i++)
				j->resp.choices[i].index = (int)i;
			lm_response_truncate(&j->resp, (size_t)j->req.n);
		}
		if (j->cb)
			j->cb(j->ctx, &j->resp, j->failed ? &j->err : NULL);
		job_free(j);
	}
}

/* Runs curl's timers if they are due; *next_ms is set to the ms until the
 * next one (-1: none).  curl_multi_timeout rather than a timer callback:
 * curl calls that only when its earliest deadline changes, which a caller
 * clearing its own copy of the deadline can miss. */
static CURLMcode run_timer(struct lm_engine *e, long *next_ms)
{
	CURLMcode mc;
	int running;
	long t = -1;

	*next_ms = -1;
	if (!e->multi)
		return CURLM_OK;
	mc = curl_multi_timeout(e->multi, &t);
	if (mc == CURLM_OK && t == 0) {
		mc = curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (mc == CURLM_OK)
			mc = curl_multi_timeout(e->multi, &t);
	}
	*next_ms = t;
	return mc;
}

/* Hands curl the sockets epoll reports ready (waiting up to wait ms when
 * wait > 0). */
static CURLMcode run_sockets(struct lm_engine *e, int wait)
{
	struct epoll_event ev[64];
	int n, i, running;
	CURLMcode mc = CURLM_OK;

	if (e->epfd < 0) {
		if (wait > 0) {
			struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000};

			nanosleep(&ts, NULL);
		}
		return CURLM_OK;
	}
	n = epoll_wait(e->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), wait);
	for (i = 0; i < n && mc == CURLM_OK; i++) {
		int what = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			   (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			   (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

		mc = curl_multi_socket_action(e->multi, ev[i].data.fd, what, &running);
	}
	return mc;
}

/* Handles the transfers curl has finished. */
static void finish_xfers(struct lm_engine *e)
{
	CURLMsg *msg;
	int left;

	if (!e->multi)
		return;
	while ((msg = curl_multi_info_read(e->multi, &left))) {
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_done(e, x, msg->data.result);
	}
}

int lm_engine_poll(struct lm_engine *e, const int *extra_fds, size_t nfds, int timeout_ms,
		   unsigned char *readable, struct errbuf *err)
{
	struct pollfd stack_fds[9], *pfds = stack_fds;
	int64_t next, now;
	int wait = timeout_ms < 0 ? 0 : timeout_ms, ready = 0;
	long timer;
	CURLMcode mc;
	size_t i;

	next = start_ready(e);
	/* new transfers start on curl's timer (due at once) */
	mc = run_timer(e, &timer);
	/* on a reused connection a fast answer can finish a transfer inside
	 * that call already: handle it now rather than after the wait */
	finish_xfers(e);
	now = now_ms();
	if (next != INT64_MAX && next - now < wait)
		wait = next - now < 0 ? 0 : (int)(next - now);
	if (timer >= 0 && timer < wait)
		wait = (int)timer;
	if (e->done)
		wait = 0;
	if (mc == CURLM_OK && !nfds) {
		mc = run_sockets(e, wait);
	} else if (mc == CURLM_OK) {
		if (nfds + 1 > sizeof(stack_fds) / sizeof(stack_fds[0]))
			pfds = xcalloc(nfds + 1, sizeof(*pfds));
		pfds[0].fd = e->epfd;
		pfds[0].events = POLLIN;
		pfds[0].revents = 0;
		for (i = 0; i < nfds; i++) {
			pfds[i + 1].fd = extra_fds[i];
			pfds[i + 1].events = POLLIN;
			pfds[i + 1].revents = 0;
		}
		if (poll(pfds, nfds + 1, wait) > 0 && pfds[0].revents)
			mc = run_sockets(e, 0);
	}
	if (mc == CURLM_OK)
		mc = run_timer(e, &timer);
	if (mc != CURLM_OK) {
		if (pfds != stack_fds)
			free(pfds);
		return errbuf_set(err, "curl multi: %s", curl_multi_strerror(mc));
	}
	finish_xfers(e);
	start_ready(e);
	fire_callbacks(e);
	for (i = 0; i < nfds; i++) {
		int r = (pfds[i + 1].revents & (POLLIN | POLLPRI | POLLHUP | POLLERR)) != 0;

		if (readable)
			readable[i] = (unsigned char)r;
		ready += r;
	}
	if (pfds != stack_fds)
		free(pfds);
	return ready;
}

int lm_run(struct lm_engine *e, struct errbuf *err)
{
	while (e->njobs > 0)
		if (lm_engine_poll(e, NULL, 0, 1000, NULL, err) < 0)
			return -1;
	return 0;
}

void lm_engine_hide_key_env(struct lm_engine *e, const char *env)
{
	size_t k;

	if (!env || !*env)
		return;
	for (k = 0; k < e->nhide_env; k++)
		if (!strcmp(e->hide_env[k], env))
			return;
	if (e->nhide_env < sizeof(e->hide_env) / sizeof(e->hide_env[0]))
		e->hide_env[e->nhide_env++] = xstrdup(env);
}

void lm_engine_free(struct lm_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nhide_env; i++)
		free(e->hide_env[i]);
	while (e->active || e->done) {
		struct job *j = e->active ? e->active : e->done;

		job_drop_xfers(e, j);
		job_unlink(e, j);
		job_free(j);
	}
	while (e->npool)
		curl_easy_cleanup(e->pool[--e->npool]);
	if (e->multi) {
		curl_multi_cleanup(e->multi);
		close(e->epfd);
	}
	headers_free(e);
	for (i = 0; i < e->nroles; i++) {
		free(e->roles[i]->name);
		free(e->roles[i]);
	}
	free(e->roles);
	for (i = 0; i < e->nhosts; i++) {
		free(e->hosts[i]->url);
		free(e->hosts[i]->chat_url);
		free(e->hosts[i]->complete_url);
		free(e->hosts[i]);
	}
	free(e->hosts);
	if (e->multi)
		curl_global_cleanup();
	free(e);
}

struct sync_result {
	struct lm_response *resp;
	struct errbuf *err;
	int failed;
	int finished;
};

static void sync_done(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct sync_result *r = ctx;

	r->finished = 1;
	lm_response_release(r->resp);
	lm_response_copy(r->resp, resp);
	if (err) {
		r->failed = 1;
		if (r->err)
			*r->err = *err;
	}
}

int lm_request_sync(struct lm_engine *e, const struct lm_request *req, struct lm_response *resp,
		    struct errbuf *err)
{
	struct sync_result r = {resp, err, 0, 0};
	uint64_t id = lm_submit(e, req, sync_done, &r);

	while (!r.finished) {
		if (lm_engine_poll(e, NULL, 0, 1000, NULL, err) < 0) {
			lm_cancel(e, id);
			return -1;
		}
	}
	return r.failed ? -1 : 0;
}

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

#include "lm_engine.h"

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
void engine_start_curl(struct lm_engine *e)
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
	h->embed_url = xmalloc(len + sizeof("/embeddings"));
	memcpy(h->embed_url, url, len);
	memcpy(h->embed_url + len, "/embeddings", sizeof("/embeddings"));
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

int engine_url_is_loopback(const char *url)
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
	if (key && *key && !j->req.allow_http_key && !engine_url_is_loopback(url)) {
		strbuf_addf(why,
			    "refusing to send the API key ($%s) over plain http to '%.200s'; "
			    "use https, or set %s.allow_http_key = true",
			    env, url, j->req.role && *j->req.role ? j->req.role : "ROLE");
		return -1;
	}
	return 0;
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
		engine_job_fail(e, j, NULL, "no base URL configured");
		return j->id;
	}
	for (i = 0; i < j->nhosts; i++) {
		struct strbuf why = STRBUF_INIT;

		if (url_allowed(j, j->hosts[i]->url, &why) < 0) {
			engine_job_fail(e, j, NULL, "%s", why.data);
			strbuf_release(&why);
			return j->id;
		}
		strbuf_release(&why);
	}
	if (!req->model || !*req->model) {
		engine_job_fail(e, j, NULL, "no model configured");
		return j->id;
	}
	if (req->kind == LM_EMBEDDINGS &&
	    (req->n != 1 || !req->ninputs || req->ninputs > LM_MAX_EMBED_INPUTS)) {
		engine_job_fail(e, j, NULL, "an embeddings request sends 1 to %d inputs, not %zu",
				LM_MAX_EMBED_INPUTS, req->ninputs);
		return j->id;
	}
	if (req->n < 1 || req->n > LM_MAX_N) {
		engine_job_fail(e, j, NULL, "n must be between 1 and %d, not %d", LM_MAX_N, req->n);
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
			engine_xfer_add(e, j, 1, 0);
		j->resp.n_fallback = req->n_mode == LM_N_AUTO;
	} else {
		engine_xfer_add(e, j, req->n, 0);
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
	engine_job_drop_xfers(e, j);
	job_unlink(e, j);
	engine_job_free(j);
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
				      engine_cmp_choice);
			/* fan-out choices all say index 0: number them as they are */
			for (i = 0; i < j->resp.nchoices; i++)
				j->resp.choices[i].index = (int)i;
			lm_response_truncate(&j->resp, (size_t)j->req.n);
		}
		if (j->cb)
			j->cb(j->ctx, &j->resp, j->failed ? &j->err : NULL);
		engine_job_free(j);
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
			engine_xfer_done(e, x, msg->data.result);
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

	next = engine_start_ready(e);
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
	engine_start_ready(e);
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

		engine_job_drop_xfers(e, j);
		job_unlink(e, j);
		engine_job_free(j);
	}
	while (e->npool)
		curl_easy_cleanup(e->pool[--e->npool]);
	if (e->multi) {
		curl_multi_cleanup(e->multi);
		close(e->epfd);
	}
	engine_headers_free(e);
	for (i = 0; i < e->nroles; i++) {
		free(e->roles[i]->name);
		free(e->roles[i]);
	}
	free(e->roles);
	for (i = 0; i < e->nhosts; i++) {
		free(e->hosts[i]->url);
		free(e->hosts[i]->chat_url);
		free(e->hosts[i]->complete_url);
		free(e->hosts[i]->embed_url);
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

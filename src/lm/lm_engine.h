#ifndef WEFT_LM_ENGINE_H
#define WEFT_LM_ENGINE_H
/*
 * The engine's insides, shared by lm.c (the engine, jobs, roles, hosts and
 * the poll loop) and lm_xfer.c (one transfer: starting it, its reply, and
 * what is retried).  Not an interface: only these files include it.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <time.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/strbuf.h"

/* At most this many keys are hidden in one text: the job's own and those
 * the engine has sent before (a server may echo any of them); also the
 * most variables lm_engine_hide_key_env keeps. */
#define MAX_SECRETS 16

struct lm_role {
	char *name;
	int limit;
	int in_flight;
};

struct lm_host {
	char *url;	    /* base URL without trailing '/' */
	char *chat_url;	    /* url + "/chat/completions" */
	char *complete_url; /* url + "/completions" */
	char *embed_url;    /* url + "/embeddings" */
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
	char *hide_env[MAX_SECRETS]; /* owned: variables whose keys are hidden too */
	size_t nhide_env;
};


static inline int64_t now_ms(void)
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


static inline uint64_t rng_next(struct lm_engine *e)
{
	/* xorshift64*: jitter only, not security. */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 0x2545F4914F6CDD1DULL;
}

/* lm.c: makes the curl multi handle on first use. */
void engine_start_curl(struct lm_engine *e);

/* lm_xfer.c: queues a transfer of n choices for j, due at due (ms). */
void engine_xfer_add(struct lm_engine *e, struct job *j, int n, int64_t due);
/* Starts the due transfers there is room for; returns when the next one
 * falls due (INT64_MAX: none waiting). */
int64_t engine_start_ready(struct lm_engine *e);
/* Handles a finished transfer: its choices, a retry or the job's failure. */
void engine_xfer_done(struct lm_engine *e, struct xfer *x, CURLcode result);
/* Ends j with the message (its secrets hidden); x: the transfer at fault. */
void engine_job_fail(struct lm_engine *e, struct job *j, struct xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void engine_job_drop_xfers(struct lm_engine *e, struct job *j);
void engine_job_free(struct job *j);
void engine_headers_free(struct lm_engine *e);
/* Is the host of url (SCHEME://[USER@]HOST[:PORT]/...) this machine?
 * localhost, 127.0.0.0/8 and ::1 are: a key may go there over http. */
int engine_url_is_loopback(const char *url);
/* qsort order of choices: by index. */
int engine_cmp_choice(const void *a, const void *b);

#endif

/*
 * The OpenAI-compatible wire format: request bodies, reply parsing, error
 * bodies and Retry-After.  No I/O here (the engine is in lm.c), so all of it
 * is testable on canned bodies.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/strbuf.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

#include "lm_json.h"

void lm_request_init(struct lm_request *req)
{
	memset(req, 0, sizeof(*req));
	req->kind = LM_CHAT;
	req->n = 1;
	req->temperature = -1;
	req->max_tokens = LM_UNSET;
	req->top_p = -1;
	req->top_logprobs = LM_UNSET;
	req->seed = LM_UNSET;
	req->n_mode = LM_N_AUTO;
	req->timeout_ms = LM_DEFAULT_TIMEOUT_MS;
	req->max_body = LM_DEFAULT_MAX_BODY;
	req->retry.max_retries = LM_DEFAULT_RETRIES;
	req->retry.base_ms = LM_DEFAULT_RETRY_BASE_MS;
	req->retry.cap_ms = LM_DEFAULT_RETRY_CAP_MS;
	req->retry.max_retry_after_ms = LM_DEFAULT_RETRY_AFTER_CAP_MS;
}

void lm_request_release(struct lm_request *req)
{
	size_t i;

	free(req->base_url);
	free(req->model);
	free(req->api_key_env);
	free(req->role);
	for (i = 0; i < req->nmessages; i++) {
		free(req->messages[i].role);
		free(req->messages[i].content);
	}
	free(req->messages);
	free(req->prompt);
	for (i = 0; i < req->nstop; i++)
		free(req->stop[i]);
	free(req->stop);
	for (i = 0; i < req->ninputs; i++)
		free(req->inputs[i]);
	free(req->inputs);
	lm_request_init(req);
}

void lm_request_copy(struct lm_request *dst, const struct lm_request *src)
{
	size_t i;

	*dst = *src;
	dst->base_url = xstrdup_or_null(src->base_url);
	dst->model = xstrdup_or_null(src->model);
	dst->api_key_env = xstrdup_or_null(src->api_key_env);
	dst->role = xstrdup_or_null(src->role);
	dst->prompt = xstrdup_or_null(src->prompt);
	dst->messages = NULL;
	dst->nmessages = dst->messages_cap = 0;
	for (i = 0; i < src->nmessages; i++)
		lm_request_add_message(dst, src->messages[i].role, src->messages[i].content);
	dst->stop = NULL;
	dst->nstop = 0;
	for (i = 0; i < src->nstop; i++)
		lm_request_add_stop(dst, src->stop[i]);
	dst->inputs = NULL;
	dst->ninputs = 0;
	for (i = 0; i < src->ninputs; i++)
		lm_request_add_input(dst, src->inputs[i]);
}

void lm_request_set(char **field, const char *value)
{
	char *v = xstrdup_or_null(value);

	free(*field);
	*field = v;
}

void lm_request_add_message(struct lm_request *req, const char *role, const char *content)
{
	XGROW(req->messages, req->messages_cap, req->nmessages + 1);
	req->messages[req->nmessages].role = xstrdup(role ? role : "user");
	req->messages[req->nmessages].content = xstrdup(content ? content : "");
	req->nmessages++;
}

void lm_request_add_stop(struct lm_request *req, const char *stop)
{
	req->stop = xreallocarray(req->stop, req->nstop + 1, sizeof(*req->stop));
	req->stop[req->nstop++] = xstrdup(stop);
}

void lm_request_add_input(struct lm_request *req, const char *text)
{
	req->inputs = xreallocarray(req->inputs, req->ninputs + 1, sizeof(*req->inputs));
	req->inputs[req->ninputs++] = xstrdup(text ? text : "");
}

/* {"model":..., "input":[...]}: sampling settings mean nothing here. */
static void embeddings_to_json(const struct lm_request *req, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "{\"model\":");
	strbuf_add_json_string(out, req->model ? req->model : "");
	strbuf_addstr(out, ",\"input\":[");
	for (i = 0; i < req->ninputs; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_json_string(out, req->inputs[i]);
	}
	strbuf_addstr(out, "]}");
}

/* A double in JSON whatever LC_NUMERIC says. */
static void add_double(struct strbuf *sb, double v)
{
	char buf[64];
	char *p;

	if (!isfinite(v))
		v = 0;
	snprintf(buf, sizeof(buf), "%.17g", v);
	for (p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
	/* %.17g of 0.7 is 0.69999999999999996: prefer the short form when it
	 * reads back the same. */
	{
		char s[64];

		snprintf(s, sizeof(s), "%.6g", v);
		for (p = s; *p; p++)
			if (*p == ',')
				*p = '.';
		if (strtod(s, NULL) == v || strtod(buf, NULL) != v) {
			strbuf_addstr(sb, s);
			return;
		}
	}
	strbuf_addstr(sb, buf);
}

void lm_request_to_json(const struct lm_request *req, int n, struct strbuf *out)
{
	size_t i;

	if (req->kind == LM_EMBEDDINGS) {
		embeddings_to_json(req, out);
		return;
	}
	strbuf_addstr(out, "{\"model\":");
	strbuf_add_json_string(out, req->model ? req->model : "");
	if (req->kind == LM_CHAT) {
		strbuf_addstr(out, ",\"messages\":[");
		for (i = 0; i < req->nmessages; i++) {
			strbuf_addstr(out, i ? ",{\"role\":" : "{\"role\":");
			strbuf_add_json_string(out, req->messages[i].role);
			strbuf_addstr(out, ",\"content\":");
			strbuf_add_json_string(out, req->messages[i].content);
			strbuf_addch(out, '}');
		}
		strbuf_addch(out, ']');
	} else {
		strbuf_addstr(out, ",\"prompt\":");
		strbuf_add_json_string(out, req->prompt ? req->prompt : "");
	}
	if (n != 1)
		strbuf_addf(out, ",\"n\":%d", n);
	if (req->temperature >= 0) {
		strbuf_addstr(out, ",\"temperature\":");
		add_double(out, req->temperature);
	}
	if (req->max_tokens != LM_UNSET)
		strbuf_addf(out, ",\"max_tokens\":%d", req->max_tokens);
	if (req->top_p >= 0) {
		strbuf_addstr(out, ",\"top_p\":");
		add_double(out, req->top_p);
	}
	if (req->nstop) {
		strbuf_addstr(out, ",\"stop\":[");
		for (i = 0; i < req->nstop; i++) {
			if (i)
				strbuf_addch(out, ',');
			strbuf_add_json_string(out, req->stop[i]);
		}
		strbuf_addch(out, ']');
	}
	if (req->kind == LM_CHAT) {
		if (req->logprobs) {
			strbuf_addstr(out, ",\"logprobs\":true");
			if (req->top_logprobs != LM_UNSET)
				strbuf_addf(out, ",\"top_logprobs\":%d", req->top_logprobs);
		}
	} else {
		if (req->logprobs)
			strbuf_addf(out, ",\"logprobs\":%d",
				    req->top_logprobs != LM_UNSET ? req->top_logprobs : 1);
		if (req->echo)
			strbuf_addstr(out, ",\"echo\":true");
	}
	if (req->seed != LM_UNSET)
		strbuf_addf(out, ",\"seed\":%ld", req->seed);
	strbuf_addch(out, '}');
}

/* ---- responses ---------------------------------------------------------- */

void lm_response_init(struct lm_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->prompt_tokens = -1;
	resp->completion_tokens = -1;
	resp->last_delay_ms = -1;
}

static void choice_release(struct lm_choice *c)
{
	size_t i, j;

	free(c->text);
	free(c->finish_reason);
	for (i = 0; i < c->ntokens; i++) {
		free(c->tokens[i].token);
		for (j = 0; j < c->tokens[i].ntop; j++)
			free(c->tokens[i].top[j].token);
		free(c->tokens[i].top);
	}
	free(c->tokens);
}

void lm_response_release(struct lm_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nchoices; i++)
		choice_release(&resp->choices[i]);
	free(resp->choices);
	free(resp->vectors);
	lm_response_init(resp);
}

void lm_response_truncate(struct lm_response *resp, size_t n)
{
	while (resp->nchoices > n)
		choice_release(&resp->choices[--resp->nchoices]);
}

static void choice_copy(struct lm_choice *dst, const struct lm_choice *src)
{
	size_t i, j;

	*dst = *src;
	dst->text = xstrdup_or_null(src->text);
	dst->finish_reason = xstrdup_or_null(src->finish_reason);
	dst->tokens = src->ntokens ? xcalloc(src->ntokens, sizeof(*dst->tokens)) : NULL;
	for (i = 0; i < src->ntokens; i++) {
		const struct lm_token *t = &src->tokens[i];
		struct lm_token *d = &dst->tokens[i];

		*d = *t;
		d->token = xstrdup_or_null(t->token);
		d->top = t->ntop ? xcalloc(t->ntop, sizeof(*d->top)) : NULL;
		for (j = 0; j < t->ntop; j++) {
			d->top[j].token = xstrdup_or_null(t->top[j].token);
			d->top[j].logprob = t->top[j].logprob;
		}
	}
}

void lm_response_copy(struct lm_response *dst, const struct lm_response *src)
{
	size_t i;

	*dst = *src;
	dst->choices = src->nchoices ? xcalloc(src->nchoices, sizeof(*dst->choices)) : NULL;
	for (i = 0; i < src->nchoices; i++)
		choice_copy(&dst->choices[i], &src->choices[i]);
	dst->vectors = NULL;
	if (src->nvectors && src->dim) {
		dst->vectors = xreallocarray(NULL, src->nvectors * src->dim, sizeof(double));
		memcpy(dst->vectors, src->vectors, src->nvectors * src->dim * sizeof(double));
	}
}

/* A copy of s[0..len) with invalid UTF-8 replaced by U+FFFD. */
static char *utf8_clean(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	utf8_add_sanitized(&sb, s, len);
	return strbuf_detach(&sb, NULL);
}

static char *json_str(const cJSON *item)
{
	if (!cJSON_IsString(item) || !item->valuestring)
		return NULL;
	return utf8_clean(item->valuestring, strlen(item->valuestring));
}

/* A JSON number as a long in [0, 1e12], or def (no overflowing casts). */
static long json_count(const cJSON *item, long def)
{
	if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0) || item->valuedouble > 1e12)
		return def;
	return (long)item->valuedouble;
}

static double json_num(const cJSON *item)
{
	return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

/* Chat shape: {"content": [{"token", "logprob", "top_logprobs": [...]}]}.
 * Linear in the reply: each array is walked once, through its links. */
static void parse_chat_logprobs(struct lm_choice *c, const cJSON *content)
{
	const cJSON *t, *a;
	size_t n = (size_t)cJSON_GetArraySize(content), i = 0;

	if (n > LM_MAX_LOGPROB_TOKENS)
		n = LM_MAX_LOGPROB_TOKENS;
	c->tokens = n ? xcalloc(n, sizeof(*c->tokens)) : NULL;
	cJSON_ArrayForEach(t, content)
	{
		struct lm_token *tok = &c->tokens[i];
		const cJSON *top = cJSON_GetObjectItemCaseSensitive(t, "top_logprobs");
		size_t m, j = 0;

		if (i >= n)
			break;
		tok->token = json_str(cJSON_GetObjectItemCaseSensitive(t, "token"));
		if (!tok->token)
			tok->token = xstrdup("");
		tok->logprob = json_num(cJSON_GetObjectItemCaseSensitive(t, "logprob"));
		tok->offset = -1;
		i++;
		if (!cJSON_IsArray(top))
			continue;
		m = (size_t)cJSON_GetArraySize(top);
		if (m > LM_MAX_TOP_LOGPROBS)
			m = LM_MAX_TOP_LOGPROBS;
		tok->top = m ? xcalloc(m, sizeof(*tok->top)) : NULL;
		cJSON_ArrayForEach(a, top)
		{
			if (j >= m)
				break;
			tok->top[j].token = json_str(cJSON_GetObjectItemCaseSensitive(a, "token"));
			if (!tok->top[j].token)
				tok->top[j].token = xstrdup("");
			tok->top[j].logprob =
			    json_num(cJSON_GetObjectItemCaseSensitive(a, "logprob"));
			j++;
		}
		tok->ntop = j;
	}
	c->ntokens = i;
	c->has_logprobs = 1;
}

static int cmp_top(const void *a, const void *b)
{
	double x = ((const struct lm_top *)a)->logprob, y = ((const struct lm_top *)b)->logprob;

	return (x < y) - (x > y);
}

/* The first element of an array, else NULL; next_of steps through it.
 * cJSON_GetArrayItem(i) walks from the head each time, which made parsing
 * quadratic in the number of tokens. */
static const cJSON *first_of(const cJSON *arr)
{
	return cJSON_IsArray(arr) ? arr->child : NULL;
}

static const cJSON *next_of(const cJSON *item)
{
	return item ? item->next : NULL;
}

/* Legacy shape: tokens[], token_logprobs[], top_logprobs[{tok: lp}|null],
 * text_offset[], walked side by side, once. */
static void parse_legacy_logprobs(struct lm_choice *c, const cJSON *lp)
{
	const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(lp, "tokens");
	const cJSON *lps = cJSON_GetObjectItemCaseSensitive(lp, "token_logprobs");
	const cJSON *tops = cJSON_GetObjectItemCaseSensitive(lp, "top_logprobs");
	const cJSON *offs = cJSON_GetObjectItemCaseSensitive(lp, "text_offset");
	const cJSON *item, *lpi, *top, *off;
	size_t n = (size_t)cJSON_GetArraySize(tokens), i;

	if (!cJSON_IsArray(tokens))
		return;
	if (n > LM_MAX_LOGPROB_TOKENS)
		n = LM_MAX_LOGPROB_TOKENS;
	c->tokens = n ? xcalloc(n, sizeof(*c->tokens)) : NULL;
	item = first_of(tokens);
	lpi = first_of(lps);
	top = first_of(tops);
	off = first_of(offs);
	for (i = 0; i < n && item; i++) {
		struct lm_token *tok = &c->tokens[i];
		const cJSON *a;
		size_t m, j = 0;

		tok->token = json_str(item);
		if (!tok->token)
			tok->token = xstrdup("");
		tok->logprob = lpi ? json_num(lpi) : NAN;
		tok->offset = off ? json_count(off, -1) : -1;
		if (cJSON_IsObject(top)) {
			m = (size_t)cJSON_GetArraySize(top);
			if (m > LM_MAX_TOP_LOGPROBS)
				m = LM_MAX_TOP_LOGPROBS;
			tok->top = m ? xcalloc(m, sizeof(*tok->top)) : NULL;
			cJSON_ArrayForEach(a, top)
			{
				if (j >= m || !a->string)
					break;
				tok->top[j].token = utf8_clean(a->string, strlen(a->string));
				tok->top[j].logprob = json_num(a);
				j++;
			}
			tok->ntop = j;
			if (j > 1)
				qsort(tok->top, j, sizeof(*tok->top), cmp_top);
		}
		item = next_of(item);
		lpi = next_of(lpi);
		top = next_of(top);
		off = next_of(off);
	}
	c->ntokens = i;
	c->has_logprobs = 1;
}

int lm_response_parse(struct lm_response *resp, enum lm_endpoint kind, const char *body, size_t len,
		      struct errbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	int rc;

	if (!root)
		return errbuf_set(err, "invalid JSON in response (%zu bytes)", len);
	rc = lm_response_from_json(resp, kind, root, err);
	cJSON_Delete(root);
	return rc;
}

int lm_response_from_json(struct lm_response *resp, enum lm_endpoint kind, const cJSON *root,
			  struct errbuf *err)
{
	const cJSON *choices, *ch, *usage;
	size_t n, base;

	choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	if (!cJSON_IsArray(choices))
		return errbuf_set(err, "response has no \"choices\" array");
	n = (size_t)cJSON_GetArraySize(choices);
	base = resp->nchoices;
	if (n) {
		resp->choices = xreallocarray(resp->choices, base + n, sizeof(*resp->choices));
		memset(resp->choices + base, 0, n * sizeof(*resp->choices));
	}
	cJSON_ArrayForEach(ch, choices)
	{
		struct lm_choice *c;
		const cJSON *text, *lp, *idx;

		if (resp->nchoices >= base + n)
			break;
		c = &resp->choices[resp->nchoices];
		if (kind == LM_CHAT || cJSON_GetObjectItemCaseSensitive(ch, "message")) {
			const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");

			text = cJSON_GetObjectItemCaseSensitive(msg, "content");
			if (!text)
				text = cJSON_GetObjectItemCaseSensitive(ch, "text");
		} else {
			text = cJSON_GetObjectItemCaseSensitive(ch, "text");
		}
		c->text = json_str(text);
		if (!c->text)
			c->text = xstrdup("");
		c->finish_reason = json_str(cJSON_GetObjectItemCaseSensitive(ch, "finish_reason"));
		idx = cJSON_GetObjectItemCaseSensitive(ch, "index");
		c->index = (int)json_count(idx, (long)(resp->nchoices - base));
		if (c->index < 0 || c->index > 1000000)
			c->index = 1000000;
		lp = cJSON_GetObjectItemCaseSensitive(ch, "logprobs");
		if (cJSON_IsObject(lp)) {
			const cJSON *content = cJSON_GetObjectItemCaseSensitive(lp, "content");

			if (cJSON_IsArray(content))
				parse_chat_logprobs(c, content);
			else
				parse_legacy_logprobs(c, lp);
		}
		resp->nchoices++;
	}
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	if (cJSON_IsObject(usage)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");

		if (json_count(p, -1) >= 0)
			resp->prompt_tokens =
			    (resp->prompt_tokens < 0 ? 0 : resp->prompt_tokens) + json_count(p, 0);
		if (json_count(c, -1) >= 0)
			resp->completion_tokens =
			    (resp->completion_tokens < 0 ? 0 : resp->completion_tokens) +
			    json_count(c, 0);
	}
	return 0;
}

/* ---- errors --------------------------------------------------------------- */

/* Appends s with control characters as spaces, at most max bytes, never
 * cutting a UTF-8 sequence. */
static void add_sanitized(struct strbuf *out, const char *s, size_t len, size_t max)
{
	char *clean = utf8_clean(s, len);
	size_t n = strlen(clean), i;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)clean[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)clean[i];

		strbuf_addch(out, c < 0x20 || c == 0x7f ? ' ' : c);
	}
	if (n < strlen(clean))
		strbuf_addstr(out, "...");
	free(clean);
}

static int is_quota(const cJSON *v)
{
	return cJSON_IsString(v) && v->valuestring && !strcmp(v->valuestring, "insufficient_quota");
}

void lm_error_message(const char *body, size_t len, struct strbuf *out, int *insufficient_quota)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *e, *m = NULL;

	if (insufficient_quota)
		*insufficient_quota = 0;
	if (root) {
		e = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (cJSON_IsObject(e)) {
			m = cJSON_GetObjectItemCaseSensitive(e, "message");
			if (insufficient_quota)
				*insufficient_quota =
				    is_quota(cJSON_GetObjectItemCaseSensitive(e, "code")) ||
				    is_quota(cJSON_GetObjectItemCaseSensitive(e, "type"));
		} else if (cJSON_IsString(e)) {
			m = e;
		} else {
			m = cJSON_GetObjectItemCaseSensitive(root, "message");
			if (!m)
				m = cJSON_GetObjectItemCaseSensitive(root, "detail");
		}
	}
	if (cJSON_IsString(m) && m->valuestring)
		add_sanitized(out, m->valuestring, strlen(m->valuestring), 200);
	else if (len)
		add_sanitized(out, body, len, 200);
	else
		strbuf_addstr(out, "(empty body)");
	cJSON_Delete(root);
}

long lm_retry_after_ms(const char *retry_after, const char *retry_after_ms, int64_t now)
{
	char *end;

	if (retry_after_ms && *retry_after_ms) {
		double v = strtod(retry_after_ms, &end);

		if (end != retry_after_ms && v >= 0 && v < 1e9)
			return (long)ceil(v);
	}
	if (retry_after && *retry_after) {
		long v;
		time_t t;

		while (*retry_after == ' ')
			retry_after++;
		v = strtol(retry_after, &end, 10);
		if (end != retry_after && (*end == '\0' || *end == ' ' || *end == '\r') && v >= 0 &&
		    v < 1000000)
			return v * 1000;
		t = curl_getdate(retry_after, NULL);
		if (t != (time_t)-1) {
			if ((int64_t)t <= now)
				return 0;
			if ((int64_t)t - now > 1000000)
				return 1000000000;
			return (long)((int64_t)t - now) * 1000;
		}
	}
	return -1;
}

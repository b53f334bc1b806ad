/*
 * The Files and Batch APIs (lmbatch.h): a few synchronous HTTP calls on a
 * curl easy handle of their own, with the engine's rules for URLs, keys,
 * retries and redaction, and the JSONL lines of batch input and output.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "weft/display.h"
#include "weft/lmbatch.h"
#include "weft/redact.h"
#include "weft/xalloc.h"

#include "lm_engine.h"
#include "lm_json.h"

void lm_batch_init(struct lm_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->total = b->completed = b->failed = -1;
}

void lm_batch_release(struct lm_batch *b)
{
	free(b->id);
	free(b->status);
	free(b->output_file_id);
	free(b->error_file_id);
	free(b->errors);
	lm_batch_init(b);
}

void lm_batch_result_init(struct lm_batch_result *r)
{
	memset(r, 0, sizeof(*r));
	lm_response_init(&r->resp);
}

void lm_batch_result_release(struct lm_batch_result *r)
{
	free(r->custom_id);
	free(r->error);
	lm_response_release(&r->resp);
	lm_batch_result_init(r);
}

const char *lm_batch_endpoint(enum lm_endpoint kind)
{
	return kind == LM_CHAT ? "/v1/chat/completions" : "/v1/completions";
}

/* ---- HTTP ------------------------------------------------------------------ */

/* The key conn names, or NULL. */
static const char *conn_key(const struct lm_request *conn)
{
	const char *env = conn->api_key_env;
	const char *key = env && *env ? getenv(env) : NULL;

	return key && *key ? key : NULL;
}

/* Every piece of conn's key hidden in text, appended to out. */
static void add_redacted(const struct lm_request *conn, const char *text, size_t len,
			 struct strbuf *out)
{
	const char *key = conn_key(conn);

	redact_append(out, text, len, &key, key ? 1 : 0);
}

/* {base}PATH in url, base being the first of conn's comma-separated URLs
 * without a trailing '/'.  Returns 0, or -1 with err when the URL may not
 * be used (see lm.h). */
static int conn_url(const struct lm_request *conn, const char *path, struct strbuf *url,
		    struct errbuf *err)
{
	const char *base = conn->base_url ? conn->base_url : "";
	size_t len = strcspn(base, ",");

	while (len && base[len - 1] == '/')
		len--;
	if (!len)
		return errbuf_set(err, "no base URL for the batch API");
	strbuf_add(url, base, len);
	strbuf_addstr(url, path);
	if (!strncasecmp(url->data, "https://", 8))
		return 0;
	if (strncasecmp(url->data, "http://", 7))
		return errbuf_set(err, "base URL '%.200s' is not http:// or https://", url->data);
	if (conn_key(conn) && !conn->allow_http_key && !engine_url_is_loopback(url->data))
		return errbuf_set(err,
				  "refusing to send the API key ($%s) over plain http to "
				  "'%.200s'; use https, or set allow_http_key",
				  conn->api_key_env, url->data);
	return 0;
}

struct call {
	const char *method;		   /* "GET" or "POST" */
	const char *json;		   /* POST body, or NULL */
	const char *file_name, *file_data; /* multipart upload, or NULL */
	size_t file_len;
	size_t max; /* reply cap */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
	struct strbuf *sb = userp;

	return strbuf_add(sb, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* One attempt; the reply in reply, the status in *status (0: none). */
static CURLcode attempt(const struct lm_request *conn, const char *url, const struct call *c,
			struct strbuf *reply, long *status, long *retry_after_ms, char *cerr)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	curl_mime *mime = NULL;
	const char *key = conn_key(conn);
	long timeout = conn->timeout_ms > 0 ? conn->timeout_ms : LM_DEFAULT_TIMEOUT_MS;
	curl_off_t ra = -1;
	CURLcode rc;

	if (!h)
		return CURLE_FAILED_INIT;
	strbuf_reset(reply);
	hdr = curl_slist_append(hdr, "Expect:");
	if (key) {
		struct strbuf a = STRBUF_INIT;

		strbuf_addf(&a, "Authorization: Bearer %s", key);
		hdr = curl_slist_append(hdr, a.data);
		memset(a.data, 0, a.len);
		strbuf_release(&a);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "weft/" WEFT_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->file_data ? timeout * 10 : timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout < LM_CONNECT_TIMEOUT_MS ? timeout : LM_CONNECT_TIMEOUT_MS);
	if (c->file_data) {
		curl_mimepart *p;

		mime = curl_mime_init(h);
		p = curl_mime_addpart(mime);
		curl_mime_name(p, "purpose");
		curl_mime_data(p, "batch", CURL_ZERO_TERMINATED);
		p = curl_mime_addpart(mime);
		curl_mime_name(p, "file");
		curl_mime_filename(p, c->file_name);
		curl_mime_type(p, "application/jsonl");
		curl_mime_data(p, c->file_data, c->file_len);
		curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	} else if (c->json) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->json);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(h);
	*status = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			*retry_after_ms = (long)ra * 1000;
	}
	curl_easy_cleanup(h);
	curl_mime_free(mime);
	{
		struct curl_slist *l;

		for (l = hdr; l; l = l->next)
			memset(l->data, 0, strlen(l->data));
	}
	curl_slist_free_all(hdr);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0)
		;
}

static int retryable(CURLcode rc, long status)
{
	if (rc != CURLE_OK)
		return rc != CURLE_WRITE_ERROR; /* the cap: asking again gives as much */
	return status == 408 || status == 409 || status == 429 || status >= 500;
}

/* Sends c to {base}path with the engine's retries.  Returns 0 with the
 * 2xx reply in reply, or -1 with err ("METHOD URL: WHAT"). */
static int call(const struct lm_request *conn, const char *path, const struct call *c,
		struct strbuf *reply, struct errbuf *err)
{
	struct strbuf url = STRBUF_INIT, msg = STRBUF_INIT, out = STRBUF_INIT;
	uint64_t rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&url;
	char cerr[CURL_ERROR_SIZE];
	int k, tries = conn->retry.max_retries >= 0 ? conn->retry.max_retries + 1 : 1;
	long status = 0;
	CURLcode rc = CURLE_OK;

	if (conn_url(conn, path, &url, err) < 0) {
		strbuf_release(&url);
		return -1;
	}
	strbuf_set_max(reply, c->max);
	for (k = 0; k < tries; k++) {
		long ra = -1;

		cerr[0] = 0;
		rc = attempt(conn, url.data, c, reply, &status, &ra, cerr);
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			strbuf_release(&url);
			return 0;
		}
		if (!retryable(rc, status) || k + 1 == tries)
			break;
		rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
		if (ra < 0 || ra > conn->retry.max_retry_after_ms)
			ra = lm_backoff_ms(&conn->retry, k, rng * 0x2545F4914F6CDD1DULL);
		sleep_ms(ra);
	}
	if (rc == CURLE_WRITE_ERROR)
		strbuf_addf(&msg, "the reply is larger than %zu bytes", c->max);
	else if (rc != CURLE_OK)
		strbuf_addstr(&msg, cerr[0] ? cerr : curl_easy_strerror(rc));
	else {
		strbuf_addf(&msg, "HTTP %ld: ", status);
		lm_error_message(reply->data ? reply->data : "", reply->len, &msg, NULL);
	}
	strbuf_addf(&msg, " (after %d attempt%s)", k + 1, k ? "s" : "");
	strbuf_addf(&out, "%s %s: ", c->method, url.data);
	add_redacted(conn, msg.data, msg.len, &out);
	errbuf_set(err, "%s", out.data);
	strbuf_release(&url);
	strbuf_release(&msg);
	strbuf_release(&out);
	return -1;
}

/* ---- the calls --------------------------------------------------------------- */

static char *dup_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring ? display_sanitize_dup(v->valuestring) : NULL;
}

static long get_count(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12
		   ? (long)v->valuedouble
		   : -1;
}

int lm_batch_parse(const char *body, size_t len, struct lm_batch *b, struct errbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *counts, *errors;

	lm_batch_release(b);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return errbuf_set(err, "the batch reply is not a JSON object (%zu bytes)", len);
	}
	b->id = dup_string(root, "id");
	b->status = dup_string(root, "status");
	b->output_file_id = dup_string(root, "output_file_id");
	b->error_file_id = dup_string(root, "error_file_id");
	counts = cJSON_GetObjectItemCaseSensitive(root, "request_counts");
	b->total = get_count(counts, "total");
	b->completed = get_count(counts, "completed");
	b->failed = get_count(counts, "failed");
	errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
	errors = cJSON_GetObjectItemCaseSensitive(errors, "data");
	if (cJSON_IsArray(errors) && errors->child)
		b->errors = dup_string(errors->child, "message");
	cJSON_Delete(root);
	if (!b->id || !b->status || !*b->id || strpbrk(b->id, "/?#% ")) {
		lm_batch_release(b);
		return errbuf_set(err, "the batch reply has no usable \"id\" and \"status\"");
	}
	return 0;
}

int lm_file_upload(const struct lm_request *conn, const char *filename, const char *data,
		   size_t len, struct strbuf *file_id, struct errbuf *err)
{
	struct call c = {"POST", NULL, filename, data, len, (size_t)1 << 20};
	struct strbuf reply = STRBUF_INIT;
	cJSON *root;
	char *id = NULL;

	if (call(conn, "/files", &c, &reply, err) < 0) {
		strbuf_release(&reply);
		return -1;
	}
	root = cJSON_ParseWithLength(reply.data ? reply.data : "", reply.len);
	id = dup_string(root, "id");
	cJSON_Delete(root);
	strbuf_release(&reply);
	if (!id || !*id || strpbrk(id, "/?#% ")) {
		free(id);
		return errbuf_set(err, "the reply to the file upload has no usable \"id\"");
	}
	strbuf_addstr(file_id, id);
	free(id);
	return 0;
}

int lm_file_content(const struct lm_request *conn, const char *file_id, size_t max,
		    struct strbuf *out, struct errbuf *err)
{
	struct call c = {"GET", NULL, NULL, NULL, 0, max};
	struct strbuf path = STRBUF_INIT;
	int rc;

	strbuf_addf(&path, "/files/%s/content", file_id);
	strbuf_reset(out);
	rc = call(conn, path.data, &c, out, err);
	strbuf_release(&path);
	return rc;
}

/* ,"metadata":{...} for the names that fit (OpenAI: values of at most
 * 512 characters). */
static void add_metadata(struct strbuf *body, const char *run, const char *model)
{
	int any = 0;

	if (run && strlen(run) <= 512) {
		strbuf_addstr(body, ",\"metadata\":{\"weft_run\":");
		strbuf_add_json_string(body, run);
		any = 1;
	}
	if (model && strlen(model) <= 512) {
		strbuf_addstr(body, any ? ",\"weft_model\":" : ",\"metadata\":{\"weft_model\":");
		strbuf_add_json_string(body, model);
		any = 1;
	}
	if (any)
		strbuf_addch(body, '}');
}

int lm_batch_create(const struct lm_request *conn, const char *input_file_id, enum lm_endpoint kind,
		    const char *run, const char *model, struct lm_batch *b, struct errbuf *err)
{
	struct strbuf body = STRBUF_INIT, reply = STRBUF_INIT;
	struct call c = {"POST", NULL, NULL, NULL, 0, (size_t)1 << 20};
	int rc;

	strbuf_addstr(&body, "{\"input_file_id\":");
	strbuf_add_json_string(&body, input_file_id);
	strbuf_addstr(&body, ",\"endpoint\":");
	strbuf_add_json_string(&body, lm_batch_endpoint(kind));
	strbuf_addstr(&body, ",\"completion_window\":\"24h\"");
	add_metadata(&body, run, model);
	strbuf_addch(&body, '}');
	c.json = body.data;
	rc = call(conn, "/batches", &c, &reply, err);
	if (!rc)
		rc = lm_batch_parse(reply.data ? reply.data : "", reply.len, b, err);
	strbuf_release(&body);
	strbuf_release(&reply);
	return rc;
}

/* Whether item of a batch list is the batch made from input for model. */
static int is_ours(const cJSON *item, const char *input, const char *model)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(item, "input_file_id");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, "weft_model");

	if (!cJSON_IsString(f) || !f->valuestring || strcmp(f->valuestring, input))
		return 0;
	return !model || !cJSON_IsString(m) || !m->valuestring || !strcmp(m->valuestring, model);
}

/* One page of the list: 1 found (in b), 0 not; *after set to the next
 * page's cursor (freed first) or NULL at the end.  -1 with err. */
static int find_page(const char *body, size_t len, const char *input, const char *model,
		     struct lm_batch *b, char **after, struct errbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data"), *item;
	const cJSON *more = cJSON_GetObjectItemCaseSensitive(root, "has_more");
	const cJSON *last = NULL;
	int rc = 0;

	free(*after);
	*after = NULL;
	if (!cJSON_IsArray(data)) {
		cJSON_Delete(root);
		return errbuf_set(err, "the batch list has no \"data\" array (%zu bytes)", len);
	}
	cJSON_ArrayForEach(item, data)
	{
		last = item;
		if (!rc && is_ours(item, input, model)) {
			char *text = cJSON_PrintUnformatted(item);

			rc = text && lm_batch_parse(text, strlen(text), b, err) == 0 ? 1 : -1;
			free(text);
		}
	}
	if (!rc && cJSON_IsTrue(more) && last) {
		*after = dup_string(last, "id");
		if (*after && (!**after || strpbrk(*after, "/?#%& "))) {
			free(*after);
			*after = NULL;
		}
	}
	cJSON_Delete(root);
	return rc;
}

int lm_batch_find(const struct lm_request *conn, const char *input_file_id, const char *model,
		  struct lm_batch *b, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, reply = STRBUF_INIT;
	struct call c = {"GET", NULL, NULL, NULL, 0, (size_t)16 << 20};
	char *after = NULL;
	int page, rc = 0;

	lm_batch_release(b);
	for (page = 0; page < LM_BATCH_FIND_PAGES && !rc; page++) {
		strbuf_reset(&path);
		strbuf_addstr(&path, "/batches?limit=100");
		if (after)
			strbuf_addf(&path, "&after=%s", after);
		rc = call(conn, path.data, &c, &reply, err);
		if (!rc)
			rc = find_page(reply.data ? reply.data : "", reply.len, input_file_id,
				       model, b, &after, err);
		if (!rc && !after)
			break;
	}
	free(after);
	strbuf_release(&path);
	strbuf_release(&reply);
	return rc;
}

int lm_batch_get(const struct lm_request *conn, const char *id, struct lm_batch *b,
		 struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, reply = STRBUF_INIT;
	struct call c = {"GET", NULL, NULL, NULL, 0, (size_t)1 << 20};
	int rc;

	strbuf_addf(&path, "/batches/%s", id);
	rc = call(conn, path.data, &c, &reply, err);
	if (!rc)
		rc = lm_batch_parse(reply.data ? reply.data : "", reply.len, b, err);
	strbuf_release(&path);
	strbuf_release(&reply);
	return rc;
}

/* ---- lines --------------------------------------------------------------------- */

void lm_batch_request_line(const struct lm_request *req, const char *custom_id, struct strbuf *out)
{
	strbuf_addstr(out, "{\"custom_id\":");
	strbuf_add_json_string(out, custom_id);
	strbuf_addstr(out, ",\"method\":\"POST\",\"url\":");
	strbuf_add_json_string(out, lm_batch_endpoint(req->kind));
	strbuf_addstr(out, ",\"body\":");
	lm_request_to_json(req, 1, out);
	strbuf_addstr(out, "}\n");
}

/* Why a result line failed: its error object, else the body's error, else
 * the status; key hidden, sanitized. */
static char *result_error(const struct lm_request *conn, const cJSON *error, const cJSON *body,
			  long status)
{
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(error, "message");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");

	if (cJSON_IsString(m) && m->valuestring) {
		if (cJSON_IsString(code) && code->valuestring)
			strbuf_addf(&sb, "%.80s: ", code->valuestring);
		strbuf_addstr(&sb, m->valuestring);
	} else if (body) {
		char *text = cJSON_PrintUnformatted(body);

		strbuf_addf(&sb, "HTTP %ld: ", status);
		lm_error_message(text ? text : "", text ? strlen(text) : 0, &sb, NULL);
		free(text);
	} else {
		strbuf_addf(&sb, "HTTP %ld in the batch", status);
	}
	add_redacted(conn, sb.data, sb.len, &out);
	strbuf_reset(&sb);
	display_sanitize(out.data, out.len > 300 ? 300 : out.len, &sb);
	strbuf_release(&out);
	return strbuf_detach(&sb, NULL);
}

/* A 200 body into r->resp; the key hidden in the choices' text. */
static void result_body(const struct lm_request *conn, const cJSON *body, enum lm_endpoint kind,
			struct lm_batch_result *r)
{
	const char *key = conn_key(conn);
	struct errbuf e;
	size_t i;

	if (lm_response_from_json(&r->resp, kind, body, &e) < 0) {
		r->error = display_sanitize_dup(e.msg);
		lm_response_release(&r->resp);
	} else {
		for (i = 0; i < r->resp.nchoices; i++)
			r->resp.key_redacted +=
			    redact_string(&r->resp.choices[i].text, &key, key ? 1 : 0);
		r->resp.http_status = 200;
		r->resp.attempts = 1;
		r->resp.requests = 1;
	}
}

int lm_batch_result_parse(const struct lm_request *conn, const char *line, size_t len,
			  enum lm_endpoint kind, struct lm_batch_result *r, struct errbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(line, len);
	const cJSON *response, *error, *body, *sc;

	lm_batch_result_release(r);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return errbuf_set(err, "not a JSON object");
	}
	r->custom_id = dup_string(root, "custom_id");
	if (!r->custom_id) {
		cJSON_Delete(root);
		return errbuf_set(err, "no \"custom_id\"");
	}
	response = cJSON_GetObjectItemCaseSensitive(root, "response");
	error = cJSON_GetObjectItemCaseSensitive(root, "error");
	sc = cJSON_GetObjectItemCaseSensitive(response, "status_code");
	body = cJSON_GetObjectItemCaseSensitive(response, "body");
	r->status = cJSON_IsNumber(sc) ? (long)sc->valuedouble : 0;
	if (cJSON_IsObject(error) || r->status != 200 || !cJSON_IsObject(body))
		r->error = result_error(conn, error, body, r->status);
	else
		result_body(conn, body, kind, r);
	cJSON_Delete(root);
	return 0;
}

static void add_number(struct strbuf *out, double v)
{
	if (isnan(v) || isinf(v))
		strbuf_addstr(out, "null");
	else
		strbuf_addf(out, "%.17g", v);
}

/* The legacy logprobs object of c (completions) or the chat one. */
static void add_logprobs(const struct lm_choice *c, enum lm_endpoint kind, struct strbuf *out)
{
	size_t i, k;

	if (!c->has_logprobs) {
		strbuf_addstr(out, "null");
		return;
	}
	if (kind == LM_CHAT) {
		strbuf_addstr(out, "{\"content\":[");
		for (i = 0; i < c->ntokens; i++) {
			const struct lm_token *t = &c->tokens[i];

			strbuf_addstr(out, i ? ",{\"token\":" : "{\"token\":");
			strbuf_add_json_string(out, t->token ? t->token : "");
			strbuf_addstr(out, ",\"logprob\":");
			add_number(out, t->logprob);
			strbuf_addstr(out, ",\"top_logprobs\":[");
			for (k = 0; k < t->ntop; k++) {
				strbuf_addstr(out, k ? ",{\"token\":" : "{\"token\":");
				strbuf_add_json_string(out, t->top[k].token);
				strbuf_addstr(out, ",\"logprob\":");
				add_number(out, t->top[k].logprob);
				strbuf_addch(out, '}');
			}
			strbuf_addstr(out, "]}");
		}
		strbuf_addstr(out, "]}");
		return;
	}
	strbuf_addstr(out, "{\"tokens\":[");
	for (i = 0; i < c->ntokens; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_json_string(out, c->tokens[i].token ? c->tokens[i].token : "");
	}
	strbuf_addstr(out, "],\"token_logprobs\":[");
	for (i = 0; i < c->ntokens; i++) {
		if (i)
			strbuf_addch(out, ',');
		add_number(out, c->tokens[i].logprob);
	}
	strbuf_addstr(out, "],\"top_logprobs\":[");
	for (i = 0; i < c->ntokens; i++) {
		const struct lm_token *t = &c->tokens[i];

		strbuf_addstr(out, i ? "," : "");
		if (!t->ntop) {
			strbuf_addstr(out, "null");
			continue;
		}
		strbuf_addch(out, '{');
		for (k = 0; k < t->ntop; k++) {
			if (k)
				strbuf_addch(out, ',');
			strbuf_add_json_string(out, t->top[k].token);
			strbuf_addch(out, ':');
			add_number(out, t->top[k].logprob);
		}
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, "],\"text_offset\":[");
	for (i = 0; i < c->ntokens; i++)
		strbuf_addf(out, "%s%ld", i ? "," : "", c->tokens[i].offset);
	strbuf_addstr(out, "]}");
}

void lm_batch_result_line(const char *custom_id, const struct lm_response *resp,
			  enum lm_endpoint kind, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "{\"custom_id\":");
	strbuf_add_json_string(out, custom_id);
	strbuf_addstr(out, ",\"response\":{\"status_code\":200,\"body\":{\"choices\":[");
	for (i = 0; i < resp->nchoices; i++) {
		const struct lm_choice *c = &resp->choices[i];

		strbuf_addf(out, "%s{\"index\":%d,", i ? "," : "", c->index);
		if (kind == LM_CHAT) {
			strbuf_addstr(out, "\"message\":{\"role\":\"assistant\",\"content\":");
			strbuf_add_json_string(out, c->text ? c->text : "");
			strbuf_addch(out, '}');
		} else {
			strbuf_addstr(out, "\"text\":");
			strbuf_add_json_string(out, c->text ? c->text : "");
		}
		strbuf_addstr(out, ",\"finish_reason\":");
		if (c->finish_reason)
			strbuf_add_json_string(out, c->finish_reason);
		else
			strbuf_addstr(out, "null");
		strbuf_addstr(out, ",\"logprobs\":");
		add_logprobs(c, kind, out);
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, "]}},\"error\":null}\n");
}

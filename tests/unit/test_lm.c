#include "testutil.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/strbuf.h"

#define KEY_ENV "WEFT_TEST_LM_KEY"
#define KEY	"sk-test-DoNotLeakThis1234567890"

/* ---- the fake server as a subprocess ------------------------------------ */

static pid_t server_pid;
static int server_in = -1;
static int server_port;
static char base_url[64];

static int server_start(void **state)
{
	int in[2], out[2];
	char line[32] = "";
	ssize_t got;
	size_t len = 0;
	const char *script = getenv("WEFT_FAKE_SERVER");

	(void)state;
	setenv("no_proxy", "127.0.0.1", 1);
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv(KEY_ENV, KEY, 1);
	if (pipe(in) || pipe(out))
		return -1;
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script ? script : "tests/fake_server.py",
		       "--exit-on-eof", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_in = in[1];
	while (len < sizeof(line) - 1) {
		got = read(out[0], line + len, 1);
		if (got != 1 || line[len] == '\n')
			break;
		len++;
	}
	close(out[0]);
	line[len] = '\0';
	server_port = atoi(line);
	if (server_port <= 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d/v1", server_port);
	return 0;
}

static int server_stop(void **state)
{
	int status;

	(void)state;
	if (server_in >= 0)
		close(server_in);
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &status, 0);
	}
	return 0;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
	strbuf_add(userp, data, size * nmemb);
	return size * nmemb;
}

/* A plain HTTP call to the fake server's control side. */
static void server_call(const char *path, const char *json, struct strbuf *out)
{
	CURL *c = curl_easy_init();
	char url[128];
	struct strbuf sink = STRBUF_INIT;
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (json)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out ? out : &sink);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_easy_cleanup(c);
	strbuf_release(&sink);
}

static void control(const char *json)
{
	server_call("/control", json, NULL);
}

static int reset(void **state)
{
	(void)state;
	control("{\"reset\": true}");
	return 0;
}

/* The recorded requests, parsed. */
static cJSON *recorded(void)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *j;

	server_call("/requests", NULL, &sb);
	j = cJSON_Parse(sb.data);
	strbuf_release(&sb);
	assert_non_null(j);
	return j;
}

/* Runs a Python expression over fake_server's rule and returns its output
 * lines (the expected answers are computed, not written down). */
static void expect_py(const char *expr, struct strbuf *out)
{
	struct strbuf cmd = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *p;

	strbuf_addstr(&cmd, "python3 -c 'import sys; sys.path.insert(0, \"tests\"); "
			    "import fake_server as f; ");
	strbuf_addstr(&cmd, expr);
	strbuf_addstr(&cmd, "'");
	p = popen(cmd.data, "r");
	assert_non_null(p);
	for (n = fread(buf, 1, sizeof(buf), p); n > 0; n = fread(buf, 1, sizeof(buf), p))
		strbuf_add(out, buf, n);
	assert_int_equal(pclose(p), 0);
	strbuf_release(&cmd);
}

static void base_request(struct lm_request *req, enum lm_endpoint kind, const char *model)
{
	lm_request_init(req);
	req->kind = kind;
	lm_request_set(&req->base_url, base_url);
	lm_request_set(&req->model, model);
	lm_request_set(&req->api_key_env, KEY_ENV);
	req->retry.base_ms = 1;
	req->retry.cap_ms = 4;
	req->timeout_ms = 15000; /* generous: the machine may be busy */
}

/* ---- parsing, no server ------------------------------------------------- */

static void test_parse_chat_logprobs(void **state)
{
	static const char body[] =
	    "{\"choices\":[{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":\"B\"},"
	    "\"finish_reason\":\"stop\",\"logprobs\":null},"
	    "{\"index\":0,\"message\":{\"content\":\"Yes\"},\"finish_reason\":\"length\","
	    "\"logprobs\":{\"content\":[{\"token\":\"Yes\",\"logprob\":-0.25,\"bytes\":[89],"
	    "\"top_logprobs\":[{\"token\":\"Yes\",\"logprob\":-0.25},{\"token\":\"No\","
	    "\"logprob\":-1.5}]}]}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}";
	struct lm_response r;
	struct errbuf err;

	(void)state;
	lm_response_init(&r);
	assert_int_equal(lm_response_parse(&r, LM_CHAT, body, strlen(body), &err), 0);
	assert_int_equal(r.nchoices, 2);
	assert_string_equal(r.choices[0].text, "B");
	assert_int_equal(r.choices[0].index, 1);
	assert_false(r.choices[0].has_logprobs);
	assert_string_equal(r.choices[1].text, "Yes");
	assert_string_equal(r.choices[1].finish_reason, "length");
	assert_true(r.choices[1].has_logprobs);
	assert_int_equal(r.choices[1].ntokens, 1);
	assert_string_equal(r.choices[1].tokens[0].token, "Yes");
	assert_true(r.choices[1].tokens[0].logprob == -0.25);
	assert_int_equal(r.choices[1].tokens[0].ntop, 2);
	assert_string_equal(r.choices[1].tokens[0].top[1].token, "No");
	assert_true(r.choices[1].tokens[0].top[1].logprob == -1.5);
	assert_int_equal(r.prompt_tokens, 7);
	assert_int_equal(r.completion_tokens, 2);
	lm_response_release(&r);
}

static void test_parse_legacy_logprobs(void **state)
{
	static const char body[] =
	    "{\"choices\":[{\"index\":0,\"text\":\"A cat\",\"finish_reason\":\"length\","
	    "\"logprobs\":{\"tokens\":[\"A\",\" cat\"],\"token_logprobs\":[null,-2.5],"
	    "\"top_logprobs\":[null,{\" dog\":-3.0,\" cat\":-2.5}],\"text_offset\":[0,1]}}]}";
	struct lm_response r;
	struct errbuf err;

	(void)state;
	lm_response_init(&r);
	assert_int_equal(lm_response_parse(&r, LM_COMPLETIONS, body, strlen(body), &err), 0);
	assert_int_equal(r.nchoices, 1);
	assert_string_equal(r.choices[0].text, "A cat");
	assert_int_equal(r.choices[0].ntokens, 2);
	assert_true(isnan(r.choices[0].tokens[0].logprob));
	assert_int_equal(r.choices[0].tokens[0].ntop, 0);
	assert_true(r.choices[0].tokens[1].logprob == -2.5);
	assert_int_equal(r.choices[0].tokens[1].offset, 1);
	assert_int_equal(r.choices[0].tokens[1].ntop, 2);
	/* sorted best first */
	assert_string_equal(r.choices[0].tokens[1].top[0].token, " cat");
	assert_int_equal(r.prompt_tokens, -1);
	lm_response_release(&r);

	/* llama-server: the chat shape on /v1/completions */
	{
		static const char llama[] =
		    "{\"choices\":[{\"text\":\" Yes\",\"index\":0,\"logprobs\":{\"content\":"
		    "[{\"token\":\" Yes\",\"logprob\":-0.1,\"top_logprobs\":[{\"token\":\" Yes\","
		    "\"logprob\":-0.1},{\"token\":\" No\",\"logprob\":-2.4}]}]}}]}";

		lm_response_init(&r);
		assert_int_equal(lm_response_parse(&r, LM_COMPLETIONS, llama, strlen(llama), &err),
				 0);
		assert_string_equal(r.choices[0].text, " Yes");
		assert_int_equal(r.choices[0].ntokens, 1);
		assert_int_equal(r.choices[0].tokens[0].ntop, 2);
		assert_true(r.choices[0].tokens[0].top[1].logprob == -2.4);
		lm_response_release(&r);
	}
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 16 MiB legacy-shaped reply with 360,000 tokens: parsed in one pass
 * (it once took hours: each token looked up its four arrays from the
 * head), the four arrays kept aligned, and the tokens capped. */
static void test_parse_huge_legacy_reply(void **state)
{
	struct strbuf b = STRBUF_INIT;
	struct lm_response r;
	struct errbuf err;
	const struct lm_token *last;
	size_t i, n = 360000;
	double took;

	(void)state;
	strbuf_addstr(&b, "{\"choices\":[{\"index\":0,\"text\":\"x\",\"logprobs\":{\"tokens\":[");
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s\"w%zu\"", i ? "," : "", i);
	strbuf_addstr(&b, "],\"token_logprobs\":[");
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s-%zu.5", i ? "," : "", i % 7);
	strbuf_addstr(&b, "],\"top_logprobs\":[");
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s{\" alt\":-9.0,\"w%zu\":-%zu.5}", i ? "," : "", i, i % 7);
	strbuf_addstr(&b, "],\"text_offset\":[");
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s%zu", i ? "," : "", i * 3);
	strbuf_addstr(&b, "]}}]}");
	assert_true(b.len > 16u * 1024 * 1024);

	lm_response_init(&r);
	took = seconds_now();
	assert_int_equal(lm_response_parse(&r, LM_COMPLETIONS, b.data, b.len, &err), 0);
	took = seconds_now() - took;
	/* No bound on time here (timing is for make bench): the quadratic
	 * parser took hours on this reply, past the runner's 600 s timeout,
	 * which fails the test.  One pass takes 0.4 s (release). */
	print_message("parsed %zu bytes in %.2f s\n", b.len, took);
	assert_int_equal(r.choices[0].ntokens, LM_MAX_LOGPROB_TOKENS);
	last = &r.choices[0].tokens[LM_MAX_LOGPROB_TOKENS - 1];
	assert_string_equal(last->token, "w65535");
	assert_true(last->logprob == -((double)(65535 % 7) + 0.5));
	assert_int_equal(last->offset, 65535 * 3);
	assert_int_equal(last->ntop, 2);
	assert_string_equal(last->top[0].token, "w65535");
	lm_response_release(&r);
	strbuf_release(&b);
}

static void test_parse_bad_bodies(void **state)
{
	static const char *bad[] = {
	    "", "{", "<html>", "{\"choices\": 3}", "[1,2]", "{\"choices\":[{\"text\":\"x\"}"};
	static const char utf[] = "{\"choices\":[{\"text\":\"a\xff\xfe"
				  "b\"}]}";
	struct lm_response r;
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lm_response_init(&r);
		assert_int_equal(lm_response_parse(&r, LM_CHAT, bad[i], strlen(bad[i]), &err), -1);
		assert_true(strlen(err.msg) > 0);
		lm_response_release(&r);
	}
	/* numbers far out of range (found by fuzz_lm_parse): no overflowing casts */
	{
		static const char huge[] =
		    "{\"choices\":[{\"index\":1e300,\"text\":\"A\",\"logprobs\":{\"tokens\":[\"A\"]"
		    ","
		    "\"token_logprobs\":[-1],\"text_offset\":[1e300]}}],"
		    "\"usage\":{\"prompt_tokens\":-1e300,\"completion_tokens\":1e20}}";

		lm_response_init(&r);
		assert_int_equal(lm_response_parse(&r, LM_COMPLETIONS, huge, strlen(huge), &err),
				 0);
		assert_int_equal(r.choices[0].tokens[0].offset, -1);
		assert_int_equal(r.prompt_tokens, -1);
		assert_int_equal(r.completion_tokens, -1);
		lm_response_release(&r);
	}
	lm_response_init(&r);
	assert_int_equal(lm_response_parse(&r, LM_COMPLETIONS, utf, strlen(utf), &err), 0);
	assert_string_equal(r.choices[0].text, "a\xef\xbf\xbd\xef\xbf\xbd"
					       "b");
	lm_response_release(&r);
}

/* An embeddings reply: vectors land in input order whatever order data[]
 * comes in; a reply of the wrong shape keeps no vector at all. */
static void test_parse_embeddings(void **state)
{
	static const char good[] = "{\"object\":\"list\",\"data\":["
				   "{\"index\":1,\"embedding\":[3,4.5,-1e-3]},"
				   "{\"index\":0,\"embedding\":[1,2,0]}],\"usage\":{}}";
	static const char *bad[] = {
	    "",
	    "<html>",
	    "{\"data\":3}",
	    "{\"choices\":[]}",
	    /* one vector for two inputs */
	    "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}",
	    /* widths differ */
	    "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,"
	    "\"embedding\":[1,2,3]}]}",
	    /* not numbers */
	    "{\"data\":[{\"index\":0,\"embedding\":[1,\"2\"]},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":[1,null]},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":\"AAAA\"},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":[1e999,2]},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    /* missing, repeated, fractional, out-of-range and hostile indices */
	    "{\"data\":[{\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":1,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":0.5,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":2,\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":-1,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":1e300,\"embedding\":[1,2]},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    "{\"data\":[{\"index\":\"0\",\"embedding\":[1,2]},{\"index\":1,"
	    "\"embedding\":[1,2]}]}",
	    /* empty vectors */
	    "{\"data\":[{\"index\":0,\"embedding\":[]},{\"index\":1,\"embedding\":[]}]}",
	    "{\"data\":[{\"index\":0,\"embedding\":[1,2]},3]}",
	};
	struct lm_response r;
	struct errbuf err;
	struct strbuf wide = STRBUF_INIT;
	size_t i;

	(void)state;
	lm_response_init(&r);
	assert_int_equal(lm_embeddings_parse(&r, good, strlen(good), 2, &err), 0);
	assert_int_equal(r.nvectors, 2);
	assert_int_equal(r.dim, 3);
	assert_true(r.vectors[0] == 1 && r.vectors[1] == 2 && r.vectors[2] == 0);
	assert_true(r.vectors[3] == 3 && r.vectors[4] == 4.5 && r.vectors[5] == -1e-3);
	/* the wrong count of inputs is an error, and drops the vectors */
	assert_int_equal(lm_embeddings_parse(&r, good, strlen(good), 3, &err), -1);
	assert_string_equal(err.msg, "response has 2 embeddings for 3 inputs");
	assert_null(r.vectors);
	assert_int_equal(r.nvectors, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(lm_embeddings_parse(&r, bad[i], strlen(bad[i]), 2, &err), -1);
		assert_true(strlen(err.msg) > 0);
		assert_null(r.vectors);
		assert_int_equal(r.dim, 0);
	}
	/* wider than LM_MAX_EMBED_DIM */
	strbuf_addstr(&wide, "{\"data\":[{\"index\":0,\"embedding\":[0");
	for (i = 0; i < LM_MAX_EMBED_DIM; i++)
		strbuf_addstr(&wide, ",0");
	strbuf_addstr(&wide, "]}]}");
	assert_int_equal(lm_embeddings_parse(&r, wide.data, wide.len, 1, &err), -1);
	assert_non_null(strstr(err.msg, "more than"));
	strbuf_release(&wide);
	lm_response_release(&r);
}

/* The body is OpenAI's: model and the inputs, nothing of sampling. */
static void test_embeddings_request_json(void **state)
{
	struct lm_request req, copy;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	lm_request_init(&req);
	req.kind = LM_EMBEDDINGS;
	req.temperature = 0.5;
	req.max_tokens = 9;
	lm_request_set(&req.model, "emb");
	lm_request_add_input(&req, "a \"b\"");
	lm_request_add_input(&req, "c");
	lm_request_copy(&copy, &req);
	lm_request_release(&req);
	lm_request_to_json(&copy, 1, &sb);
	assert_string_equal(sb.data, "{\"model\":\"emb\",\"input\":[\"a \\\"b\\\"\",\"c\"]}");
	strbuf_release(&sb);
	lm_request_release(&copy);
}

static void test_request_json(void **state)
{
	struct lm_request req;
	struct strbuf sb = STRBUF_INIT;
	cJSON *j;

	(void)state;
	lm_request_init(&req);
	lm_request_set(&req.model, "m\"x");
	lm_request_set(&req.api_key_env, KEY_ENV);
	lm_request_add_message(&req, "user", "line\nwith \"quotes\"");
	lm_request_add_stop(&req, "\n");
	req.temperature = 0.7;
	req.max_tokens = 60;
	req.logprobs = 1;
	req.top_logprobs = 5;
	req.seed = 42;
	lm_request_to_json(&req, 3, &sb);
	assert_null(strstr(sb.data, KEY));
	j = cJSON_Parse(sb.data);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "m\"x");
	assert_int_equal(cJSON_GetObjectItem(j, "n")->valueint, 3);
	assert_true(cJSON_GetObjectItem(j, "temperature")->valuedouble == 0.7);
	assert_int_equal(cJSON_GetObjectItem(j, "top_logprobs")->valueint, 5);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "logprobs")));
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "messages"), 0),
				"content")
		->valuestring,
	    "line\nwith \"quotes\"");
	assert_null(cJSON_GetObjectItem(j, "top_p"));
	cJSON_Delete(j);
	strbuf_reset(&sb);

	req.kind = LM_COMPLETIONS;
	lm_request_set(&req.prompt, "Q: x\nA:");
	req.echo = 1;
	req.max_tokens = 0;
	lm_request_to_json(&req, 1, &sb);
	j = cJSON_Parse(sb.data);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItem(j, "n"));
	assert_null(cJSON_GetObjectItem(j, "messages"));
	assert_int_equal(cJSON_GetObjectItem(j, "logprobs")->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valueint, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "echo")));
	cJSON_Delete(j);
	strbuf_release(&sb);
	lm_request_release(&req);
}

static void test_retry_after(void **state)
{
	char date[64];
	time_t now = time(NULL), later = now + 30;
	struct tm tm;

	(void)state;
	assert_int_equal(lm_retry_after_ms("2", NULL, now), 2000);
	assert_int_equal(lm_retry_after_ms("2", "150", now), 150);
	assert_int_equal(lm_retry_after_ms(NULL, "12.5", now), 13);
	assert_int_equal(lm_retry_after_ms("soon", NULL, now), -1);
	assert_int_equal(lm_retry_after_ms(NULL, NULL, now), -1);
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_int_equal(lm_retry_after_ms(date, NULL, now), 30000);
	assert_int_equal(lm_retry_after_ms(date, NULL, now + 100), 0);
}

static void test_error_message(void **state)
{
	static const char quota[] = "{\"error\":{\"message\":\"You exceeded\\nyour quota\","
				    "\"type\":\"insufficient_quota\",\"code\":null}}";
	static const char plain[] = "{\"error\":\"model not loaded\"}";
	struct strbuf sb = STRBUF_INIT;
	int q = 0;

	(void)state;
	lm_error_message(quota, strlen(quota), &sb, &q);
	assert_string_equal(sb.data, "You exceeded your quota");
	assert_int_equal(q, 1);
	strbuf_reset(&sb);
	lm_error_message(plain, strlen(plain), &sb, &q);
	assert_string_equal(sb.data, "model not loaded");
	assert_int_equal(q, 0);
	strbuf_reset(&sb);
	lm_error_message("<h1>Bad\tGateway</h1>", 20, &sb, &q);
	assert_string_equal(sb.data, "<h1>Bad Gateway</h1>");
	strbuf_release(&sb);
}

/* ---- against the fake server --------------------------------------------- */

struct result {
	int calls;
	struct lm_response resp;
	struct errbuf err;
	int failed;
};

static void on_result(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct result *r = ctx;

	r->calls++;
	lm_response_release(&r->resp);
	lm_response_copy(&r->resp, resp);
	r->failed = err != NULL;
	if (err)
		r->err = *err;
}

/* Submits req on a fresh engine and runs it to the end. */
static void run_one(const struct lm_request *req, struct result *r)
{
	struct lm_engine *e = lm_engine_new();
	struct errbuf err;

	memset(r, 0, sizeof(*r));
	lm_response_init(&r->resp);
	assert_true(lm_submit(e, req, on_result, r) > 0);
	assert_int_equal(lm_engine_in_flight(e), 1);
	assert_int_equal(lm_run(e, &err), 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(lm_engine_in_flight(e), 0);
	lm_engine_free(e);
	/* no key in any message */
	assert_null(strstr(r->err.msg, KEY));
}

static void test_chat_n(void **state)
{
	struct lm_request req;
	struct result r;
	struct strbuf want = STRBUF_INIT;
	cJSON *reqs, *body;
	char *line;
	size_t i;

	(void)state;
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "system", "be brief");
	lm_request_add_message(&req, "user", "Question: sky?");
	req.n = 3;
	req.max_tokens = 60;
	req.logprobs = 1;
	req.top_logprobs = 2;
	run_one(&req, &r);
	assert_false(r.failed);
	assert_int_equal(r.resp.nchoices, 3);
	assert_int_equal(r.resp.attempts, 1);
	assert_int_equal(r.resp.requests, 1);
	assert_int_equal(r.resp.http_status, 200);
	expect_py("k = \"system: be brief\\nuser: Question: sky?\"; "
		  "[print(f.completion_text(\"gen-model\", k, i, 60)) for i in range(3)]",
		  &want);
	line = want.data;
	for (i = 0; i < 3; i++) {
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		*nl = '\0';
		assert_string_equal(r.resp.choices[i].text, line);
		assert_int_equal(r.resp.choices[i].index, (int)i);
		assert_string_equal(r.resp.choices[i].finish_reason, "stop");
		assert_int_equal(r.resp.choices[i].ntokens, 5);
		assert_int_equal(r.resp.choices[i].tokens[0].ntop, 2);
		assert_true(r.resp.choices[i].tokens[0].logprob < 0);
		line = nl + 1;
	}
	reqs = recorded();
	assert_int_equal(cJSON_GetArraySize(reqs), 1);
	body = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "body");
	assert_int_equal(cJSON_GetObjectItem(body, "n")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(body, "model")->valuestring, "gen-model");
	{
		char *printed = cJSON_PrintUnformatted(body);

		assert_null(strstr(printed, KEY)); /* the key is not in the body */
		free(printed);
	}
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "headers"),
				"Authorization")
		->valuestring,
	    "Bearer " KEY);
	cJSON_Delete(reqs);
	strbuf_release(&want);
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

static void test_completions_echo(void **state)
{
	struct lm_request req;
	struct result r;
	struct strbuf want = STRBUF_INIT;
	char *line;
	size_t i;

	(void)state;
	base_request(&req, LM_COMPLETIONS, "base-model");
	lm_request_set(&req.prompt, "Is the sky blue? Yes");
	req.echo = 1;
	req.max_tokens = 0;
	req.logprobs = 1;
	req.top_logprobs = 1;
	run_one(&req, &r);
	assert_false(r.failed);
	assert_int_equal(r.resp.nchoices, 1);
	assert_string_equal(r.resp.choices[0].text, "Is the sky blue? Yes");
	expect_py("p = \"Is the sky blue? Yes\"; t = f.prompt_tokens(p); print(len(t)); "
		  "[print(repr(f.prompt_token_logprob(\"base-model\", x, i))) "
		  "for i, x in enumerate(t)]",
		  &want);
	line = want.data;
	assert_int_equal(r.resp.choices[0].ntokens, (size_t)strtol(line, &line, 10));
	assert_true(isnan(r.resp.choices[0].tokens[0].logprob));
	line = strchr(line + 1, '\n'); /* skip the first (null) logprob */
	for (i = 1; i < r.resp.choices[0].ntokens; i++) {
		double lp = strtod(line, &line);

		assert_true(fabs(r.resp.choices[0].tokens[i].logprob - lp) < 1e-9);
	}
	assert_int_equal(r.resp.choices[0].tokens[4].offset, 16);
	strbuf_release(&want);
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

static int count_with_n(cJSON *reqs, int n)
{
	cJSON *it;
	int c = 0;

	cJSON_ArrayForEach(it, reqs)
	{
		cJSON *nv = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "body"), "n");
		int v = nv ? nv->valueint : 1;

		c += v == n;
	}
	return c;
}

static void test_n_ignored_topped_up(void **state)
{
	struct lm_engine *e = lm_engine_new();
	struct lm_request req;
	struct result r = {0}, r2 = {0};
	struct errbuf err;
	cJSON *reqs;

	(void)state;
	control("{\"ignore_n\": true}");
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hello");
	req.n = 4;
	lm_response_init(&r.resp);
	lm_response_init(&r2.resp);
	lm_submit(e, &req, on_result, &r);
	assert_int_equal(lm_run(e, &err), 0);
	assert_false(r.failed);
	assert_int_equal(r.resp.nchoices, 4);
	assert_int_equal(r.resp.requests, 4);
	assert_true(r.resp.n_fallback);
	reqs = recorded();
	assert_int_equal(cJSON_GetArraySize(reqs), 4);
	assert_int_equal(count_with_n(reqs, 4), 1);
	assert_int_equal(count_with_n(reqs, 1), 3);
	cJSON_Delete(reqs);
	/* the engine remembers: the next request fans out from the start */
	control("{\"clear_requests\": true}");
	lm_submit(e, &req, on_result, &r2);
	assert_int_equal(lm_run(e, &err), 0);
	assert_int_equal(r2.resp.nchoices, 4);
	reqs = recorded();
	assert_int_equal(cJSON_GetArraySize(reqs), 4);
	assert_int_equal(count_with_n(reqs, 1), 4);
	cJSON_Delete(reqs);
	lm_engine_free(e);
	lm_response_release(&r.resp);
	lm_response_release(&r2.resp);
	lm_request_release(&req);
}

static void test_fewer_choices_and_slots(void **state)
{
	struct lm_request req;
	struct result r;
	cJSON *reqs;

	(void)state;
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hello");
	req.n = 5;
	req.n_mode = LM_N_NATIVE;
	control("{\"faults\": [{\"fewer\": 2}]}");
	run_one(&req, &r);
	assert_false(r.failed);
	assert_int_equal(r.resp.nchoices, 5);
	assert_int_equal(r.resp.requests, 4);
	lm_response_release(&r.resp);

	/* llama-server with 2 slots: 400 for n > 2, then fan out */
	control("{\"reset\": true, \"max_n\": 2}");
	req.n_mode = LM_N_AUTO;
	req.n = 3;
	run_one(&req, &r);
	assert_false(r.failed);
	assert_int_equal(r.resp.nchoices, 3);
	reqs = recorded();
	assert_int_equal(cJSON_GetArraySize(reqs), 4);
	cJSON_Delete(reqs);
	lm_response_release(&r.resp);

	/* fanout mode never sends n */
	control("{\"reset\": true}");
	req.n_mode = LM_N_FANOUT;
	run_one(&req, &r);
	assert_int_equal(r.resp.nchoices, 3);
	reqs = recorded();
	assert_int_equal(count_with_n(reqs, 1), 3);
	cJSON_Delete(reqs);
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

struct fault_case {
	const char *faults; /* JSON list */
	int max_retries;
	int failed;
	int attempts;
	long delay_ms; /* -2: any */
	const char *in_error;
};

static void test_faults(void **state)
{
	static const struct fault_case cases[] = {
	    {"[{\"status\": 500}]", 2, 0, 2, -2, NULL},
	    {"[{\"status\": 502}, {\"status\": 503}]", 2, 0, 3, -2, NULL},
	    {"[{\"status\": 408}, {\"status\": 409}]", 2, 0, 3, -2, NULL},
	    {"[{\"status\": 429, \"retry_after_ms\": \"25\"}]", 2, 0, 2, 25, NULL},
	    {"[{\"status\": 429, \"retry_after\": \"120\"}]", 2, 0, 2, 40, NULL}, /* capped */
	    {"[{\"status\": 503, \"retry_after\": \"Wed, 21 Oct 2015 07:28:00 GMT\"}]", 2, 0, 2, 0,
	     NULL},
	    {"[{\"status\": 503}, {\"status\": 503}, {\"status\": 503}]", 2, 1, 3, -2,
	     "HTTP 503: fake error 503 (after 3 attempts)"},
	    {"[{\"status\": 500}]", 0, 1, 1, -1, "HTTP 500"},
	    {"[{\"status\": 400, \"message\": \"bad request\"}]", 2, 1, 1, -1,
	     "HTTP 400: bad request (after 1 attempt)"},
	    {"[{\"status\": 401}]", 2, 1, 1, -1,
	     "HTTP 401: Incorrect API key provided: [key hidden]"},
	    {"[{\"status\": 403}]", 2, 1, 1, -1, "HTTP 403"},
	    {"[{\"status\": 404}]", 2, 1, 1, -1, "HTTP 404"},
	    {"[{\"insufficient_quota\": true}]", 2, 1, 1, -1, "HTTP 429: You exceeded"},
	    {"[{\"drop\": true}]", 2, 0, 2, -2, NULL},
	    {"[{\"malformed\": true}]", 2, 1, 1, -1, "invalid JSON in response"},
	    {"[{\"truncated\": true}]", 2, 1, 1, -1, "invalid JSON in response"},
	    {"[{\"empty_choices\": true}]", 2, 1, 1, -1, "response has no choices"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fault_case *c = &cases[i];
		struct lm_request req;
		struct result r;
		struct strbuf ctl = STRBUF_INIT;

		print_message("fault case %zu: %s\n", i, c->faults);
		control("{\"reset\": true}");
		strbuf_addf(&ctl, "{\"faults\": %s}", c->faults);
		control(ctl.data);
		strbuf_release(&ctl);
		base_request(&req, i % 2 ? LM_CHAT : LM_COMPLETIONS, "fault-model");
		lm_request_add_message(&req, "user", "hi");
		lm_request_set(&req.prompt, "hi");
		req.retry.max_retries = c->max_retries;
		req.retry.max_retry_after_ms = 40;
		run_one(&req, &r);
		assert_int_equal(r.failed, c->failed);
		assert_int_equal(r.resp.attempts, c->attempts);
		if (c->delay_ms != -2)
			assert_int_equal(r.resp.last_delay_ms, c->delay_ms);
		else
			assert_true(r.resp.last_delay_ms >= 0 && r.resp.last_delay_ms <= 4);
		if (!c->failed) {
			assert_int_equal(r.resp.nchoices, 1);
		} else {
			char url[128];

			snprintf(url, sizeof(url), "POST %s/%s (model fault-model): ", base_url,
				 i % 2 ? "chat/completions" : "completions");
			assert_non_null(strstr(r.err.msg, url));
			assert_non_null(strstr(r.err.msg, c->in_error));
			assert_null(strchr(r.err.msg, '\n'));
		}
		lm_response_release(&r.resp);
		lm_request_release(&req);
	}
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* The documented formula: retry k waits uniform in [0, min(cap, base * 2^k)]. */
static void test_backoff_formula(void **state)
{
	static const long ceilings[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
	struct lm_retry r = {2, 500, 8000, 60000};
	uint64_t seed = 42;
	int k, i;

	(void)state;
	for (k = 0; k < 7; k++) {
		long c = ceilings[k], lo = c, hi = 0;
		double sum = 0;

		assert_int_equal(lm_backoff_ceiling_ms(&r, k), c);
		for (i = 0; i < 4000; i++) {
			long d = lm_backoff_ms(&r, k, splitmix(&seed));

			assert_true(d >= 0 && d <= c);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += (double)d;
		}
		/* spread over the whole range, centred on c / 2 */
		assert_true(lo <= c * 3 / 100);
		assert_true(hi >= c * 97 / 100);
		assert_true(sum / 4000 > (double)c * 0.46 && sum / 4000 < (double)c * 0.54);
	}
	assert_int_equal(lm_backoff_ceiling_ms(&r, 1000), 8000); /* no overflow */
	r.base_ms = 0;
	assert_int_equal(lm_backoff_ms(&r, 3, 12345), 0);
	r.base_ms = 500;
	r.cap_ms = 300;
	assert_int_equal(lm_backoff_ceiling_ms(&r, 0), 300);
}

/* The engine waits what the formula says: over 24 retried requests the
 * delays it chose lie in [0, ceiling] and are spread, not all zero. */
static void test_backoff_in_engine(void **state)
{
	long lo = 1000, hi = -1;
	int i, distinct = 0;
	char seen[25] = {0};

	(void)state;
	for (i = 0; i < 24; i++) {
		struct lm_request req;
		struct result r;

		control("{\"reset\": true, \"faults\": [{\"status\": 500}]}");
		base_request(&req, LM_CHAT, "fault-model");
		lm_request_add_message(&req, "user", "hi");
		req.retry.base_ms = 24;
		req.retry.cap_ms = 24;
		run_one(&req, &r);
		assert_false(r.failed);
		assert_int_equal(r.resp.attempts, 2);
		assert_true(r.resp.last_delay_ms >= 0 && r.resp.last_delay_ms <= 24);
		assert_int_equal(r.resp.total_delay_ms, r.resp.last_delay_ms);
		if (!seen[r.resp.last_delay_ms]++)
			distinct++;
		lo = r.resp.last_delay_ms < lo ? r.resp.last_delay_ms : lo;
		hi = r.resp.last_delay_ms > hi ? r.resp.last_delay_ms : hi;
		lm_response_release(&r.resp);
		lm_request_release(&req);
	}
	assert_true(distinct >= 6);
	assert_true(hi >= 12);
	assert_true(lo <= 12);
}

/* No 12-byte piece of the key in s. */
static void assert_no_key_piece(const char *s)
{
	size_t i;
	char piece[13];

	for (i = 0; i + 12 <= strlen(KEY); i++) {
		memcpy(piece, &KEY[i], 12);
		piece[12] = '\0';
		if (strstr(s, piece))
			fail_msg("a piece of the key (%s) is in: %s", piece, s);
	}
}

/* A server that echoes the key at the end of a long message, or with one
 * character changed, or in a reply's content: no piece of it comes out. */
static void test_key_pieces_hidden(void **state)
{
	struct strbuf ctl = STRBUF_INIT;
	struct lm_request req;
	struct result r;
	char changed[] = KEY;
	int i;

	(void)state;
	changed[10] = changed[10] == 'Q' ? 'R' : 'Q';
	strbuf_addstr(&ctl, "{\"faults\": [{\"status\": 401, \"message\": \"");
	for (i = 0; i < 185; i++)
		strbuf_addch(&ctl, 'x');
	strbuf_addf(&ctl, "%s\"}, {\"status\": 403, \"message\": \"key %s\"}]}", KEY, changed);
	control(ctl.data);
	strbuf_release(&ctl);
	for (i = 0; i < 2; i++) {
		base_request(&req, LM_CHAT, "gen-model");
		lm_request_add_message(&req, "user", "hi");
		run_one(&req, &r);
		assert_true(r.failed);
		assert_no_key_piece(r.err.msg);
		assert_non_null(strstr(r.err.msg, "[key hidden]"));
		lm_response_release(&r.resp);
		lm_request_release(&req);
	}
	/* echoed in a normal reply: hidden, and counted so the caller can warn */
	ctl = (struct strbuf)STRBUF_INIT;
	strbuf_addf(&ctl, "{\"script\": {\"gen-model\": [\"my key is %s, ok\"]}}", KEY);
	control(ctl.data);
	strbuf_release(&ctl);
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hi");
	run_one(&req, &r);
	assert_false(r.failed);
	assert_string_equal(r.resp.choices[0].text, "my key is [key hidden], ok");
	assert_int_equal(r.resp.key_redacted, 1);
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

/* A configured key no request sent (another role's) is hidden too. */
static void test_other_configured_key_hidden(void **state)
{
	static const char other[] = "sk-scorer-OtherRoleKey-0042";
	struct lm_engine *e = lm_engine_new();
	struct lm_request req;
	struct result r;
	struct errbuf err;

	(void)state;
	setenv("WEFT_TEST_LM_OTHER", other, 1);
	lm_engine_hide_key_env(e, "WEFT_TEST_LM_OTHER");
	lm_engine_hide_key_env(e, "WEFT_TEST_LM_OTHER"); /* once is enough */
	control("{\"faults\": [{\"status\": 400, \"message\": \"bad: "
		"sk-scorer-OtherRoleKey-0042\"}]}");
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hi");
	memset(&r, 0, sizeof(r));
	lm_response_init(&r.resp);
	assert_true(lm_submit(e, &req, on_result, &r) > 0);
	assert_int_equal(lm_run(e, &err), 0);
	assert_true(r.failed);
	assert_null(strstr(r.err.msg, "OtherRoleKey"));
	assert_non_null(strstr(r.err.msg, "bad: [key hidden]"));
	lm_response_release(&r.resp);
	lm_request_release(&req);
	lm_engine_free(e);
	unsetenv("WEFT_TEST_LM_OTHER");
}

/* Keys go only where the user meant: no scheme but http(s), and no key
 * over plain http to another machine unless the role allows it.  Refused
 * before anything is sent (the .invalid host is never looked up). */
static void test_url_rules(void **state)
{
	static const struct {
		const char *url;
		const char *in_error; /* NULL: allowed */
	} cases[] = {
	    {"file:///etc/passwd", "base URL 'file:///etc/passwd' is not http:// or https://"},
	    {"ftp://127.0.0.1/v1", "is not http:// or https://"},
	    {"http://weft-test.invalid/v1",
	     "refusing to send the API key ($WEFT_TEST_LM_KEY) over plain http to "
	     "'http://weft-test.invalid/v1'; use https, or set generator.allow_http_key = true"},
	    {"http://127.0.0.1:1/v1,http://user@weft-test.invalid:80/v1", "over plain http"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lm_request req;
		struct result r;
		cJSON *reqs;

		base_request(&req, LM_CHAT, "gen-model");
		lm_request_set(&req.base_url, cases[i].url);
		lm_request_set(&req.role, "generator");
		lm_request_add_message(&req, "user", "hi");
		run_one(&req, &r);
		assert_true(r.failed);
		assert_int_equal(r.resp.attempts, 0);
		assert_non_null(strstr(r.err.msg, cases[i].in_error));
		lm_response_release(&r.resp);
		lm_request_release(&req);
		reqs = recorded();
		assert_int_equal(cJSON_GetArraySize(reqs), 0);
		cJSON_Delete(reqs);
	}
	/* the fake server (loopback, plain http) is fine, with a key */
	{
		struct lm_request req;
		struct result r;

		base_request(&req, LM_CHAT, "gen-model");
		lm_request_add_message(&req, "user", "hi");
		run_one(&req, &r);
		assert_false(r.failed);
		lm_response_release(&r.resp);
		lm_request_release(&req);
	}
}

static void test_non_utf8_and_cap(void **state)
{
	struct lm_request req;
	struct result r;

	(void)state;
	/* a key variable that is not set: said on 401; a key with a newline:
	 * never sent (no header injection) */
	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hi");
	lm_request_set(&req.api_key_env, "WEFT_TEST_LM_UNSET_KEY");
	unsetenv("WEFT_TEST_LM_UNSET_KEY");
	control("{\"faults\": [{\"status\": 401, \"message\": \"no key\"}]}");
	run_one(&req, &r);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.msg, "HTTP 401: no key ($WEFT_TEST_LM_UNSET_KEY is not set)"));
	lm_response_release(&r.resp);
	setenv("WEFT_TEST_LM_UNSET_KEY", "sk-a\r\nX-Evil: 1", 1);
	run_one(&req, &r);
	assert_true(r.failed);
	assert_int_equal(r.resp.attempts, 0);
	assert_non_null(strstr(r.err.msg, "contains control characters"));
	assert_null(strstr(r.err.msg, "Evil"));
	unsetenv("WEFT_TEST_LM_UNSET_KEY");
	lm_response_release(&r.resp);
	/* a URL that is not http(s) is refused before any attempt */
	unsetenv("WEFT_TEST_LM_UNSET_KEY");
	lm_request_set(&req.base_url, "gopherx://127.0.0.1:1/v1");
	run_one(&req, &r);
	assert_true(r.failed);
	assert_int_equal(r.resp.attempts, 0);
	assert_non_null(strstr(r.err.msg, "POST gopherx://127.0.0.1:1/v1 (model gen-model): base "
					  "URL 'gopherx://127.0.0.1:1/v1' is not http"));
	lm_response_release(&r.resp);
	/* connection refused: retried, then reported */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		char url[64];

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
		close(fd); /* nobody listens there now */
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", ntohs(sa.sin_port));
		lm_request_set(&req.base_url, url);
		run_one(&req, &r);
		assert_true(r.failed);
		assert_int_equal(r.resp.attempts, 3);
		assert_int_equal(r.resp.http_status, 0);
		assert_non_null(strstr(r.err.msg, "Couldn't connect"));
		assert_non_null(strstr(r.err.msg, "(after 3 attempts)"));
		lm_response_release(&r.resp);
	}
	lm_request_release(&req);
	control("{\"reset\": true}");

	base_request(&req, LM_CHAT, "gen-model");
	lm_request_add_message(&req, "user", "hi");
	control("{\"faults\": [{\"non_utf8\": true}]}");
	run_one(&req, &r);
	assert_false(r.failed);
	assert_memory_equal(r.resp.choices[0].text, "\xef\xbf\xbd\xef\xbf\xbd", 6);
	lm_response_release(&r.resp);

	req.max_body = 64;
	run_one(&req, &r);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.msg, "response larger than 64 bytes"));
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

static void test_timeout(void **state)
{
	struct lm_request req;
	struct result r;

	(void)state;
	base_request(&req, LM_CHAT, "slow-model");
	lm_request_add_message(&req, "user", "hi");
	req.timeout_ms = 300;
	req.retry.max_retries = 0;
	control("{\"faults\": [{\"hang\": 3}]}");
	run_one(&req, &r);
	assert_true(r.failed);
	assert_int_equal(r.resp.attempts, 1);
	assert_non_null(strstr(r.err.msg, "Timeout"));
	assert_non_null(strstr(r.err.msg, "slow-model"));
	lm_response_release(&r.resp);

	/* a hang once, then an answer: retried */
	req.retry.max_retries = 1;
	control("{\"reset\": true, \"faults\": [{\"hang\": 3}]}");
	run_one(&req, &r);
	assert_false(r.failed);
	assert_int_equal(r.resp.attempts, 2);
	lm_response_release(&r.resp);
	lm_request_release(&req);
}

struct many {
	int index;
	int calls;
	char *want;
	int ok;
};

static void on_many(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct many *m = ctx;

	m->calls++;
	m->ok = !err && resp->nchoices == 1 && !strcmp(resp->choices[0].text, m->want);
}

static double cpu_ms(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

static void test_many_in_flight(void **state)
{
	enum { N = 200 };
	struct lm_engine *e = lm_engine_new();
	struct many *m = calloc(N, sizeof(*m));
	struct strbuf want = STRBUF_INIT;
	struct errbuf err;
	char *line;
	size_t i;
	struct timespec t0, t1;
	struct rusage ru0, ru1;

	(void)state;
	expect_py("[print(f.completion_text(\"many\", \"user: prompt %d\" % i, 0, 8)) "
		  "for i in range(200)]",
		  &want);
	line = want.data;
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < N; i++) {
		struct lm_request req;
		char prompt[32];
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		*nl = '\0';
		m[i].want = line;
		line = nl + 1;
		m[i].index = (int)i;
		base_request(&req, LM_CHAT, "many");
		snprintf(prompt, sizeof(prompt), "prompt %zu", i);
		lm_request_add_message(&req, "user", prompt);
		lm_request_set(&req.role, "generator");
		req.concurrency = 64;
		req.max_tokens = 8;
		lm_submit(e, &req, on_many, &m[i]);
		lm_request_release(&req);
	}
	assert_int_equal(lm_engine_in_flight(e), N);
	assert_int_equal(lm_run(e, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru1);
	print_message("200 requests, 64 in flight: %.0f ms wall, %.3f ms CPU per request\n",
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		      (cpu_ms(&ru1) - cpu_ms(&ru0)) / N);
	for (i = 0; i < N; i++) {
		assert_int_equal(m[i].calls, 1);
		assert_true(m[i].ok);
	}
	{
		/* connections are reused, and never more than 64 at once */
		cJSON *reqs = recorded(), *it;
		int ports[N], nports = 0, k;

		assert_int_equal(cJSON_GetArraySize(reqs), N);
		cJSON_ArrayForEach(it, reqs)
		{
			int port = cJSON_GetObjectItem(it, "client_port")->valueint;

			for (k = 0; k < nports && ports[k] != port; k++)
				;
			if (k == nports)
				ports[nports++] = port;
		}
		print_message("%d connections for %d requests\n", nports, N);
		assert_true(nports <= 64);
		cJSON_Delete(reqs);
	}
	free(m);
	strbuf_release(&want);
	lm_engine_free(e);
}

static void test_cancel_poll_fds_script(void **state)
{
	struct lm_engine *e = lm_engine_new();
	struct lm_request req;
	struct result a = {0}, b = {0};
	struct errbuf err;
	int fds[2];
	unsigned char readable[1];
	uint64_t id;
	cJSON *reqs, *it;
	int plain = 0, v1 = 0;

	(void)state;
	lm_response_init(&a.resp);
	lm_response_init(&b.resp);
	control("{\"script\": {\"judge-model\": [\"3\"]}}");
	base_request(&req, LM_CHAT, "judge-model");
	lm_request_add_message(&req, "user", "rank");
	req.logprobs = 1;
	req.top_logprobs = 3;
	id = lm_submit(e, &req, on_result, &a);
	assert_int_equal(lm_cancel(e, id), 0);
	assert_int_equal(lm_cancel(e, id), -1);
	assert_int_equal(lm_engine_in_flight(e), 0);
	lm_submit(e, &req, on_result, &b);

	/* the caller's fd wakes the poll */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(lm_engine_poll(e, &fds[0], 1, 1000, readable, &err), 1);
	assert_int_equal(readable[0], 1);
	assert_int_equal(lm_run(e, &err), 0);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_string_equal(b.resp.choices[0].text, "3");
	assert_int_equal(b.resp.choices[0].tokens[0].ntop, 3);
	assert_string_equal(b.resp.choices[0].tokens[0].top[0].token, "3");

	/* two base URLs (the server answers with and without /v1): both used */
	{
		char urls[160];
		int k;

		snprintf(urls, sizeof(urls), "%s, http://127.0.0.1:%d", base_url, server_port);
		lm_request_set(&req.base_url, urls);
		control("{\"reset\": true, \"latency_ms\": 50}");
		for (k = 0; k < 4; k++)
			lm_submit(e, &req, NULL, NULL);
		assert_int_equal(lm_run(e, &err), 0);
		reqs = recorded();
		cJSON_ArrayForEach(it, reqs)
		{
			const char *path = cJSON_GetObjectItem(it, "path")->valuestring;

			plain += !strcmp(path, "/chat/completions");
			v1 += !strcmp(path, "/v1/chat/completions");
		}
		cJSON_Delete(reqs);
		assert_int_equal(plain, 2);
		assert_int_equal(v1, 2);
	}

	/* the synchronous helper */
	{
		struct lm_response resp;

		lm_response_init(&resp);
		control("{\"reset\": true}");
		assert_int_equal(lm_request_sync(e, &req, &resp, &err), 0);
		assert_int_equal(resp.nchoices, 1);
		lm_response_release(&resp);
	}
	lm_engine_free(e);
	lm_response_release(&a.resp);
	lm_response_release(&b.resp);
	lm_request_release(&req);
}

struct order {
	struct lm_engine *e;
	int seen[8];
	int nseen;
	uint64_t cancel_id;
};

static void on_order(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct order *o = ctx;

	(void)resp;
	(void)err;
	o->seen[o->nseen++] = 1;
	if (o->cancel_id) {
		assert_int_equal(lm_cancel(o->e, o->cancel_id), 0);
		o->cancel_id = 0;
	}
}

struct fifo {
	int *log;
	int *nlog;
	int me;
};

static void on_fifo(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct fifo *f = ctx;

	assert_null(err);
	assert_int_equal(resp->nchoices, 1);
	f->log[(*f->nlog)++] = f->me;
}

static void test_fifo_and_cancel_in_callback(void **state)
{
	struct lm_engine *e = lm_engine_new();
	struct lm_request req;
	struct order o = {0};
	struct fifo f[5];
	int log[5], nlog = 0, i;
	struct errbuf err;

	(void)state;
	/* two requests that fail at once finish in the same poll; the first
	 * callback cancels the second, whose callback must not run */
	lm_request_init(&req);
	o.e = e;
	lm_submit(e, &req, on_order, &o);
	o.cancel_id = lm_submit(e, &req, on_order, &o);
	assert_int_equal(lm_run(e, &err), 0);
	assert_int_equal(o.nseen, 1);
	lm_request_release(&req);

	/* one at a time: they start (and finish) in submission order */
	base_request(&req, LM_CHAT, "fifo");
	lm_request_add_message(&req, "user", "x");
	lm_request_set(&req.role, "serial");
	req.concurrency = 1;
	for (i = 0; i < 5; i++) {
		f[i].log = log;
		f[i].nlog = &nlog;
		f[i].me = i;
		lm_submit(e, &req, on_fifo, &f[i]);
	}
	assert_int_equal(lm_run(e, &err), 0);
	assert_int_equal(nlog, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(log[i], i);
	lm_request_release(&req);
	lm_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest parse[] = {
	    cmocka_unit_test(test_parse_chat_logprobs),
	    cmocka_unit_test(test_parse_legacy_logprobs),
	    cmocka_unit_test(test_parse_huge_legacy_reply),
	    cmocka_unit_test(test_parse_bad_bodies),
	    cmocka_unit_test(test_parse_embeddings),
	    cmocka_unit_test(test_embeddings_request_json),
	    cmocka_unit_test(test_request_json),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_backoff_formula),
	    cmocka_unit_test(test_error_message),
	};
	const struct CMUnitTest served[] = {
	    cmocka_unit_test_setup(test_chat_n, reset),
	    cmocka_unit_test_setup(test_completions_echo, reset),
	    cmocka_unit_test_setup(test_n_ignored_topped_up, reset),
	    cmocka_unit_test_setup(test_fewer_choices_and_slots, reset),
	    cmocka_unit_test_setup(test_faults, reset),
	    cmocka_unit_test_setup(test_backoff_in_engine, reset),
	    cmocka_unit_test_setup(test_key_pieces_hidden, reset),
	    cmocka_unit_test_setup(test_url_rules, reset),
	    cmocka_unit_test_setup(test_other_configured_key_hidden, reset),
	    cmocka_unit_test_setup(test_non_utf8_and_cap, reset),
	    cmocka_unit_test_setup(test_timeout, reset),
	    cmocka_unit_test_setup(test_many_in_flight, reset),
	    cmocka_unit_test_setup(test_cancel_poll_fds_script, reset),
	    cmocka_unit_test_setup(test_fifo_and_cancel_in_callback, reset),
	};
	int rc;

	rc = cmocka_run_group_tests_name("lm parsing", parse, NULL, NULL);
	rc |= cmocka_run_group_tests_name("lm against the fake server", served, server_start,
					  server_stop);
	return rc;
}

#include "testutil.h"

#include <math.h>

#include "weft/evalbatch.h"
#include "weft/lm.h"
#include "weft/lmbatch.h"
#include "weft/strbuf.h"

static const char good_state[] = "weft-batch 1\n"
				 "arg --models\n"
				 "arg a,b c\n"
				 "examples 12\n"
				 "model a\n"
				 "  way echo\n"
				 "  step poll\n"
				 "  input_file file-1\n"
				 "  creating file-1\n"
				 "  batch batch_1\n"
				 "  status in_progress\n"
				 "  counts 24 3 1\n"
				 "  later_key kept out\n"
				 "model b\n"
				 "  way none\n"
				 "  fatal HTTP 401: no key\n"
				 "  step done\n";

static void test_state_round_trip(void **state)
{
	struct evalbatch_state st;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;

	(void)state;
	evalbatch_state_init(&st);
	assert_int_equal(evalbatch_state_parse(&st, good_state, sizeof(good_state) - 1, "S", &err),
			 0);
	assert_int_equal(st.nargs, 2);
	assert_string_equal(st.args[1], "a,b c");
	assert_int_equal(st.examples, 12);
	assert_int_equal(st.nmodels, 2);
	assert_int_equal(st.models[0].way, EVALRUN_WAY_ECHO);
	assert_int_equal(st.models[0].step, EVALBATCH_POLL);
	assert_string_equal(st.models[0].batch, "batch_1");
	assert_string_equal(st.models[0].creating, "file-1");
	assert_null(st.models[1].creating);
	assert_int_equal(st.models[0].total, 24);
	assert_int_equal(st.models[0].completed, 3);
	assert_int_equal(st.models[0].failed, 1);
	assert_null(st.models[0].output_file);
	assert_string_equal(st.models[1].fatal, "HTTP 401: no key");
	assert_int_equal(st.models[1].step, EVALBATCH_DONE);
	evalbatch_state_format(&st, &out);
	/* what is written reads back to the same text */
	{
		struct evalbatch_state again;
		struct strbuf out2 = STRBUF_INIT;

		evalbatch_state_init(&again);
		assert_int_equal(evalbatch_state_parse(&again, out.data, out.len, "T", &err), 0);
		evalbatch_state_format(&again, &out2);
		assert_string_equal(out.data, out2.data);
		strbuf_release(&out2);
		evalbatch_state_release(&again);
	}
	assert_non_null(strstr(out.data, "  counts 24 3 1\n"));
	strbuf_release(&out);
	evalbatch_state_release(&st);
}

/* Each broken text fails with the file's name, the line and the reason. */
static void test_state_hostile(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"", "DIR/state: empty"},
	    {"{\"json\": true}\n", "DIR/state:1: not a weft batch state"},
	    {"weft-batch 2\n", "DIR/state:1: version '2': written by a newer weft"},
	    {"weft-batch 1\nway echo\n", "DIR/state:2: 'way' before any model line"},
	    {"weft-batch 1\nmodel a\n  step flying\n", "DIR/state:3: step 'flying' is not"},
	    {"weft-batch 1\nmodel a\n  way sideways\n", "DIR/state:3: way 'sideways'"},
	    {"weft-batch 1\nmodel a\nmodel a\n", "DIR/state:3: model 'a' twice"},
	    {"weft-batch 1\nmodel a\n  counts 1 2\n", "DIR/state:3: counts are three"},
	    {"weft-batch 1\nmodel a\n  counts 1 2 -3\n", "DIR/state:3: counts are three"},
	    {"weft-batch 1\nexamples lots\n", "DIR/state:2: examples 'lots'"},
	    {"weft-batch 1\nexamples 0012\n", "DIR/state:2: examples '0012'"},
	    {"weft-batch 1\nmodel a\n  batch b\x1b[2J\n", "DIR/state:3: a control character"},
	    {"weft-batch 1\nmodel\n", "DIR/state:2: 'model' has no value"},
	};
	struct evalbatch_state st;
	struct errbuf err;
	size_t i;

	(void)state;
	evalbatch_state_init(&st);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = 0;
		assert_int_equal(evalbatch_state_parse(&st, cases[i].text, strlen(cases[i].text),
						       "DIR/state", &err),
				 -1);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
		assert_int_equal(st.nmodels, 0);
	}
	{
		/* a NUL byte, and a line past the cap */
		static const char nul[] = "weft-batch 1\nmodel a\0b\n";
		struct strbuf big = STRBUF_INIT;
		size_t k;

		assert_int_equal(
		    evalbatch_state_parse(&st, nul, sizeof(nul) - 1, "DIR/state", &err), -1);
		assert_non_null(strstr(err.msg, "DIR/state:2: a NUL byte"));
		strbuf_addstr(&big, "weft-batch 1\narg ");
		for (k = 0; k < EVALBATCH_MAX_LINE; k++)
			strbuf_addch(&big, 'x');
		assert_int_equal(evalbatch_state_parse(&st, big.data, big.len, "DIR/state", &err),
				 -1);
		assert_non_null(strstr(err.msg, "DIR/state:2: a line longer than"));
		strbuf_release(&big);
	}
	evalbatch_state_release(&st);
}

static void test_custom_ids(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t ex = 0, slot = 0;
	static const char *const bad[] = {
	    "",	      "e",     "e1",	"e1-s",	  "e-1-s2",	    "e01-s2",
	    "e1-s2x", "x1-s2", "e1_s2", "e1-s02", "e1234567890-s1", NULL};
	size_t i;

	(void)state;
	evalbatch_format_id(1234, 7, &sb);
	assert_string_equal(sb.data, "e1234-s7");
	assert_int_equal(evalbatch_parse_id(sb.data, &ex, &slot), 0);
	assert_int_equal(ex, 1234);
	assert_int_equal(slot, 7);
	assert_int_equal(evalbatch_parse_id("e0-s0", &ex, &slot), 0);
	for (i = 0; bad[i]; i++)
		if (evalbatch_parse_id(bad[i], &ex, &slot) == 0)
			fail_msg("'%s' parsed", bad[i]);
	strbuf_release(&sb);
}

static void test_request_line(void **state)
{
	struct lm_request req;
	struct strbuf line = STRBUF_INIT, body = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	lm_request_init(&req);
	req.kind = LM_COMPLETIONS;
	lm_request_set(&req.model, "m");
	lm_request_set(&req.prompt, "Q: \"x\"\n");
	req.max_tokens = 0;
	req.echo = 1;
	req.logprobs = 1;
	lm_batch_request_line(&req, "e3-s1", &line);
	lm_request_to_json(&req, 1, &body);
	strbuf_addf(&want,
		    "{\"custom_id\":\"e3-s1\",\"method\":\"POST\",\"url\":\"/v1/completions\","
		    "\"body\":%s}\n",
		    body.data);
	assert_string_equal(line.data, want.data);
	req.kind = LM_CHAT;
	strbuf_reset(&line);
	lm_batch_request_line(&req, "e0-s0", &line);
	assert_non_null(strstr(line.data, "\"url\":\"/v1/chat/completions\""));
	lm_request_release(&req);
	strbuf_release(&line);
	strbuf_release(&body);
	strbuf_release(&want);
}

static void test_result_lines(void **state)
{
	static const char ok[] =
	    "{\"id\":\"r1\",\"custom_id\":\"e0-s1\",\"response\":{\"status_code\":200,"
	    "\"body\":{\"choices\":[{\"index\":0,\"text\":\"Q A\",\"logprobs\":{\"tokens\":"
	    "[\"Q\",\" A\"],\"token_logprobs\":[null,-0.12345678901234567],\"top_logprobs\":"
	    "[null,{\" A\":-0.12345678901234567,\" B\":-2.5}],\"text_offset\":[0,1]}}]}},"
	    "\"error\":null}";
	static const char failed[] = "{\"custom_id\":\"e2-s0\",\"response\":null,\"error\":"
				     "{\"code\":\"server_error\",\"message\":\"boom\"}}";
	static const char status[] = "{\"custom_id\":\"e2-s0\",\"response\":{\"status_code\":400,"
				     "\"body\":{\"error\":{\"message\":\"bad prompt\"}}}}";
	struct lm_request conn;
	struct lm_batch_result r, back;
	struct strbuf line = STRBUF_INIT;
	struct errbuf err;

	(void)state;
	lm_request_init(&conn);
	lm_batch_result_init(&r);
	lm_batch_result_init(&back);
	assert_int_equal(lm_batch_result_parse(&conn, ok, sizeof(ok) - 1, LM_COMPLETIONS, &r, &err),
			 0);
	assert_string_equal(r.custom_id, "e0-s1");
	assert_null(r.error);
	assert_int_equal(r.resp.nchoices, 1);
	assert_int_equal(r.resp.choices[0].ntokens, 2);
	assert_true(isnan(r.resp.choices[0].tokens[0].logprob));
	assert_true(r.resp.choices[0].tokens[1].logprob == -0.12345678901234567);
	/* a live retry's line reads back to the same numbers, exactly */
	lm_batch_result_line("e0-s1", &r.resp, LM_COMPLETIONS, &line);
	assert_int_equal(
	    lm_batch_result_parse(&conn, line.data, line.len - 1, LM_COMPLETIONS, &back, &err), 0);
	assert_true(back.resp.choices[0].tokens[1].logprob == -0.12345678901234567);
	assert_true(isnan(back.resp.choices[0].tokens[0].logprob));
	assert_int_equal(back.resp.choices[0].tokens[1].ntop, 2);
	assert_string_equal(back.resp.choices[0].tokens[1].top[1].token, " B");
	assert_int_equal(back.resp.choices[0].tokens[1].offset, 1);
	assert_string_equal(back.resp.choices[0].text, "Q A");
	assert_int_equal(
	    lm_batch_result_parse(&conn, failed, sizeof(failed) - 1, LM_CHAT, &r, &err), 0);
	assert_string_equal(r.error, "server_error: boom");
	assert_int_equal(
	    lm_batch_result_parse(&conn, status, sizeof(status) - 1, LM_CHAT, &r, &err), 0);
	assert_non_null(strstr(r.error, "HTTP 400: bad prompt"));
	assert_int_equal(lm_batch_result_parse(&conn, "{\"x\":1}", 7, LM_CHAT, &r, &err), -1);
	assert_non_null(strstr(err.msg, "custom_id"));
	assert_int_equal(lm_batch_result_parse(&conn, "[1,", 3, LM_CHAT, &r, &err), -1);
	lm_batch_result_release(&r);
	lm_batch_result_release(&back);
	lm_request_release(&conn);
	strbuf_release(&line);
}

static void test_batch_object(void **state)
{
	static const char body[] =
	    "{\"id\":\"batch_9\",\"status\":\"failed\",\"output_file_id\":null,"
	    "\"error_file_id\":\"file-e\",\"request_counts\":{\"total\":4,\"completed\":1,"
	    "\"failed\":3},\"errors\":{\"data\":[{\"code\":\"x\",\"message\":\"bad line\"}]}}";
	struct lm_batch b;
	struct errbuf err;

	(void)state;
	lm_batch_init(&b);
	assert_int_equal(lm_batch_parse(body, sizeof(body) - 1, &b, &err), 0);
	assert_string_equal(b.id, "batch_9");
	assert_string_equal(b.status, "failed");
	assert_null(b.output_file_id);
	assert_string_equal(b.error_file_id, "file-e");
	assert_int_equal(b.total, 4);
	assert_int_equal(b.failed, 3);
	assert_string_equal(b.errors, "bad line");
	/* an id that would change the URL it is put in is refused */
	assert_int_equal(lm_batch_parse("{\"id\":\"../x\",\"status\":\"completed\"}", 35, &b, &err),
			 -1);
	assert_int_equal(lm_batch_parse("{\"status\":\"completed\"}", 22, &b, &err), -1);
	assert_int_equal(lm_batch_parse("nope", 4, &b, &err), -1);
	lm_batch_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_round_trip), cmocka_unit_test(test_state_hostile),
	    cmocka_unit_test(test_custom_ids),	     cmocka_unit_test(test_request_line),
	    cmocka_unit_test(test_result_lines),     cmocka_unit_test(test_batch_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

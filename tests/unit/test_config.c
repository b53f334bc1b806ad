#include "testutil.h"

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/lm.h"

static void clear_env(void)
{
	unsetenv("OPENAI_BASE_URL");
	unsetenv("WEFT_BASE_URL");
	unsetenv("WEFT_GENERATOR_MODEL");
	unsetenv("WEFT_JUDGE_MODEL");
	unsetenv("WEFT_JUDGE_BASE_URL");
	unsetenv("WEFT_SCORER_SMALL_MODEL");
	unsetenv("WEFT_SCORER_GPT_4O_MODEL");
	unsetenv("WEFT_SCORER_BIG_BASE_URL");
	unsetenv("WEFT_VERIFIER_MODEL");
	unsetenv("WEFT_VERIFIER_BASE_URL");
	unsetenv("WEFT_EMBEDDER_MODEL");
	unsetenv("WEFT_EMBEDDER_BASE_URL");
}

static void test_parse_file(void **state)
{
	static const char text[] = "# weft config\n"
				   "[generator]\n"
				   "base_url = http://127.0.0.1:8080/v1, http://127.0.0.1:8081/v1\n"
				   "model = llama-3-8b   # the local one\n"
				   "temperature = 0.9\n"
				   "n = 4\n"
				   "n_mode = fanout\n"
				   "\n"
				   "[judge]\r\n"
				   "model = \"gpt-4o-mini\"\n"
				   "api_key_env = MY_KEY\n"
				   "timeout = 2.5\n"
				   "[scorer.small]\n"
				   "endpoint = completions\n"
				   "model = gpt2\n"
				   "size = 124e6\n"
				   "family = gpt2\n";
	struct config c;
	struct errbuf err;
	struct config_role *r;
	struct lm_request req;

	(void)state;
	clear_env();
	config_init(&c);
	assert_int_equal(config_parse(&c, text, strlen(text), "cfg", &err), 0);
	r = config_role(&c, "generator");
	assert_string_equal(r->model, "llama-3-8b");
	assert_true(r->temperature == 0.9);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->n_mode, LM_N_FANOUT);
	assert_int_equal(r->max_tokens, 60); /* default kept */
	r = config_role(&c, "judge");
	assert_string_equal(r->model, "gpt-4o-mini");
	assert_string_equal(r->api_key_env, "MY_KEY");
	assert_int_equal(r->timeout_ms, 2500);
	assert_true(r->temperature == 0.0);
	assert_string_equal(config_role_base_url(r), CONFIG_DEFAULT_BASE_URL);
	setenv("OPENAI_BASE_URL", "http://example.invalid/v1", 1);
	assert_string_equal(config_role_base_url(r), "http://example.invalid/v1");
	r = config_role(&c, "scorer.small");
	assert_non_null(r);
	assert_int_equal(r->endpoint, LM_COMPLETIONS);
	assert_true(r->size == 124e6);
	assert_string_equal(r->family, "gpt2");

	lm_request_init(&req);
	config_role_request(config_role(&c, "generator"), &req);
	assert_string_equal(req.base_url, "http://127.0.0.1:8080/v1, http://127.0.0.1:8081/v1");
	assert_string_equal(req.role, "generator");
	assert_string_equal(req.api_key_env, "OPENAI_API_KEY");
	assert_int_equal(req.n, 4);
	assert_int_equal(req.allow_http_key, 0);
	lm_request_release(&req);
	assert_int_equal(config_set(&c, "judge.allow_http_key=true", &err), 0);
	lm_request_init(&req);
	config_role_request(config_role(&c, "judge"), &req);
	assert_int_equal(req.allow_http_key, 1);
	lm_request_release(&req);
	assert_int_equal(config_set(&c, "judge.allow_http_key=maybe", &err), -1);
	assert_non_null(strstr(err.msg, "expected true or false"));
	config_release(&c);
	clear_env();
}

static void test_errors_name_place(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"[generator]\nmodle = x\n", "f.conf:2: key 'modle': unknown key"},
	    {"[generator]\n\ntemperature = hot\n",
	     "f.conf:3: key 'temperature': expected a number"},
	    {"[generator]\ntemperature = 3\n", "f.conf:2: key 'temperature'"},
	    {"[generator]\nn = 0\n", "f.conf:2: key 'n'"},
	    {"[generator]\nn_mode = sometimes\n", "f.conf:2: key 'n_mode'"},
	    {"[generator]\nbase_url = ftp://x\n", "f.conf:2: key 'base_url'"},
	    {"[generator]\napi_key_env = sk-abc\n", "f.conf:2: key 'api_key_env'"},
	    {"model = x\n", "f.conf:1: key 'model': outside any [section]"},
	    {"[critic]\n", "f.conf:1: section [critic]: unknown section"},
	    {"[generator\n", "f.conf:1: expected [SECTION]"},
	    {"[judge]\njust words\n", "f.conf:2: expected 'key = value'"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct errbuf err;

		config_init(&c);
		assert_int_equal(
		    config_parse(&c, cases[i].text, strlen(cases[i].text), "f.conf", &err), -1);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, cases[i].want);
		config_release(&c);
	}
}

static void test_env_and_flags(void **state)
{
	static const char text[] = "[generator]\nmodel = from-file\n"
				   "[judge]\nmodel = judge-file\nbase_url = http://a.invalid/v1\n"
				   "[scorer.small]\nmodel = s\n";
	struct config c;
	struct errbuf err;

	(void)state;
	clear_env();
	config_init(&c);
	assert_int_equal(config_parse(&c, text, strlen(text), "f", &err), 0);
	setenv("WEFT_GENERATOR_MODEL", "from-env", 1);
	setenv("WEFT_JUDGE_BASE_URL", "http://b.invalid/v1", 1);
	setenv("WEFT_SCORER_SMALL_MODEL", "s-env", 1);
	assert_int_equal(config_apply_env(&c, &err), 0);
	assert_string_equal(config_role(&c, "generator")->model, "from-env");
	assert_string_equal(config_role(&c, "judge")->model, "judge-file");
	assert_string_equal(config_role(&c, "judge")->base_url, "http://b.invalid/v1");
	assert_string_equal(config_role(&c, "scorer.small")->model, "s-env");
	/* flags last */
	assert_int_equal(config_set(&c, "generator.model=from-flag", &err), 0);
	assert_string_equal(config_role(&c, "generator")->model, "from-flag");
	assert_int_equal(config_set(&c, "scorer.big.size=1.3e9", &err), 0);
	assert_true(config_role(&c, "scorer.big")->size == 1.3e9);
	assert_int_equal(config_set(&c, "judge.temperature=x", &err), -1);
	assert_non_null(strstr(err.msg, "key 'temperature'"));
	assert_int_equal(config_set(&c, "critic.model=x", &err), -1);
	assert_int_equal(config_set(&c, "nodot", &err), -1);
	setenv("WEFT_BASE_URL", "not a url", 1);
	assert_int_equal(config_apply_env(&c, &err), -1);
	assert_non_null(strstr(err.msg, "WEFT_BASE_URL"));
	config_release(&c);
	clear_env();
}

static void test_parse_never_crashes(void **state)
{
	/* a few hostile buffers: NUL bytes, no newline, huge keys */
	static const char nul[] = "[judge]\nmodel = a\0b\n";
	char big[5000];
	struct config c;
	struct errbuf err;

	(void)state;
	config_init(&c);
	assert_int_equal(config_parse(&c, nul, sizeof(nul) - 1, "f", &err), -1);
	assert_non_null(strstr(err.msg, "f:2"));
	memset(big, 'k', sizeof(big));
	memcpy(big, "[judge]\n", 8);
	big[sizeof(big) - 3] = '=';
	assert_int_equal(config_parse(&c, big, sizeof(big), "f", &err), -1);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_int_equal(config_parse(&c, "", 0, "f", &err), 0);
	assert_int_equal(config_parse(&c, "[judge]", 7, "f", &err), 0);
	config_release(&c);
}

static void test_model_scorer(void **state)
{
	struct config c;
	struct errbuf err;
	struct config_role *r;

	(void)state;
	clear_env();
	config_init(&c);
	/* a bare name: that model on the default endpoint */
	r = config_model_scorer(&c, "gpt-4o-mini");
	assert_non_null(r);
	assert_string_equal(r->name, "scorer.gpt-4o-mini");
	assert_string_equal(r->model, "gpt-4o-mini");
	assert_string_equal(config_role_base_url(r), CONFIG_DEFAULT_BASE_URL);
	setenv("OPENAI_BASE_URL", "http://example.invalid/v1", 1);
	assert_string_equal(config_role_base_url(r), "http://example.invalid/v1");
	/* model ids with '/' and ':' are names too */
	r = config_model_scorer(&c, "Qwen/Qwen2.5-0.5B-Instruct");
	assert_non_null(r);
	assert_string_equal(r->model, "Qwen/Qwen2.5-0.5B-Instruct");
	/* settings given without a model are kept */
	assert_int_equal(config_set(&c, "scorer.tuned.max_tokens=5", &err), 0);
	r = config_model_scorer(&c, "tuned");
	assert_string_equal(r->model, "tuned");
	assert_int_equal(r->max_tokens, 5);
	assert_ptr_equal(config_scorer(&c, "tuned"), r);
	/* WEFT_BASE_URL is every role's endpoint */
	setenv("WEFT_BASE_URL", "http://all.invalid/v1", 1);
	r = config_model_scorer(&c, "other");
	assert_string_equal(config_role_base_url(r), "http://all.invalid/v1");
	/* not model ids */
	assert_null(config_model_scorer(&c, ""));
	assert_null(config_model_scorer(&c, "two words"));
	assert_null(config_model_scorer(&c, "bell\a"));
	clear_env();
	config_release(&c);
}

static void test_env_creates_scorers(void **state)
{
	struct config c;
	struct errbuf err;
	struct config_role *r;

	(void)state;
	clear_env();
	config_init(&c);
	setenv("WEFT_SCORER_SMALL_MODEL", "s-env", 1);
	setenv("WEFT_SCORER_GPT_4O_MODEL", "gpt-4o", 1);
	setenv("WEFT_SCORER_BIG_BASE_URL", "http://big.invalid/v1", 1);
	assert_int_equal(config_apply_env(&c, &err), 0);
	assert_string_equal(config_role(&c, "scorer.small")->model, "s-env");
	assert_true(config_role_configured(config_scorer(&c, "small")));
	/* found by the name a person types, and by the environment's */
	r = config_scorer(&c, "gpt-4o");
	assert_non_null(r);
	assert_string_equal(r->model, "gpt-4o");
	assert_ptr_equal(config_scorer(&c, "gpt_4o"), r);
	/* a base URL alone makes the role, without a model */
	r = config_role(&c, "scorer.big");
	assert_non_null(r);
	assert_string_equal(r->base_url, "http://big.invalid/v1");
	assert_false(config_role_configured(r));
	assert_null(config_scorer(&c, "none"));
	/* applied twice (flags made roles), nothing is made twice */
	assert_int_equal(config_set(&c, "scorer.gpt-4o.size=1e9", &err), 0);
	assert_int_equal(config_apply_env(&c, &err), 0);
	assert_int_equal(c.nroles, 4 + 4); /* generator, judge, verifier, embedder; scorers */
	assert_ptr_equal(config_scorer(&c, "gpt-4o"), config_role(&c, "scorer.gpt-4o"));
	assert_string_equal(config_role(&c, "scorer.gpt-4o")->model, "gpt-4o");
	config_release(&c);
	clear_env();
}

static void test_named_file_must_exist(void **state)
{
	struct config c;
	struct errbuf err;

	(void)state;
	clear_env();
	config_init(&c);
	assert_int_equal(config_load(&c, "/nonexistent/weft.conf", &err), -1);
	assert_string_equal(err.msg, "config file /nonexistent/weft.conf: No such file or "
				     "directory");
	assert_int_equal(config_load(&c, "/", &err), -1);
	assert_string_equal(err.msg, "config file /: Is a directory");
	/* the file the default path names may be missing */
	assert_int_equal(config_load_file(&c, "/nonexistent/weft.conf", &err), 0);
	config_release(&c);
}

static void test_max_tokens_set_is_known(void **state)
{
	static const char text[] = "[judge]\nmodel = j\nmax_tokens = 24\n";
	struct config c;
	struct errbuf err;

	(void)state;
	config_init(&c);
	assert_false(config_role(&c, "judge")->max_tokens_set);
	assert_int_equal(config_parse(&c, text, strlen(text), "f", &err), 0);
	assert_true(config_role(&c, "judge")->max_tokens_set);
	assert_int_equal(config_role(&c, "judge")->max_tokens, 24);
	assert_false(config_role(&c, "generator")->max_tokens_set);
	config_release(&c);
}

/* The verifier is configured as the judge is: a section, the
 * environment, a flag, each later source winning. */
static void test_verifier_role(void **state)
{
	static const char text[] = "[verifier]\nmodel = v-file\nconcurrency = 3\n";
	struct config c;
	struct errbuf err;
	struct config_role *r;

	(void)state;
	clear_env();
	config_init(&c);
	r = config_role(&c, "verifier");
	assert_non_null(r);
	assert_false(config_role_configured(r));
	assert_int_equal(r->max_tokens, CONFIG_VERIFIER_MAX_TOKENS);
	assert_true(r->temperature == 0.0);
	assert_int_equal(config_parse(&c, text, strlen(text), "f", &err), 0);
	r = config_role(&c, "verifier");
	assert_string_equal(r->model, "v-file");
	assert_int_equal(r->concurrency, 3);
	setenv("WEFT_VERIFIER_MODEL", "v-env", 1);
	setenv("WEFT_VERIFIER_BASE_URL", "http://127.0.0.1:9/v1", 1);
	assert_int_equal(config_apply_env(&c, &err), 0);
	r = config_role(&c, "verifier");
	assert_string_equal(r->model, "v-env");
	assert_string_equal(r->base_url, "http://127.0.0.1:9/v1");
	assert_int_equal(config_set(&c, "verifier.model=v-flag", &err), 0);
	assert_string_equal(config_role(&c, "verifier")->model, "v-flag");
	/* still one verifier, third after the generator and the judge (the embedder fourth) */
	assert_int_equal(c.nroles, 4);
	assert_string_equal(c.roles[2].name, "verifier");
	config_release(&c);
	clear_env();
}

/* The embedder is a role as the verifier is, asking for vectors. */
static void test_embedder_role(void **state)
{
	static const char text[] = "[embedder]\nmodel = e-file\nendpoint = embeddings\n";
	static const char bad[] = "[embedder]\nendpoint = chat\n";
	struct config c;
	struct errbuf err;
	struct config_role *r;
	struct lm_request req;

	(void)state;
	clear_env();
	config_init(&c);
	r = config_role(&c, "embedder");
	assert_non_null(r);
	assert_false(config_role_configured(r));
	assert_int_equal(r->endpoint, LM_EMBEDDINGS);
	assert_int_equal(config_parse(&c, text, strlen(text), "f", &err), 0);
	assert_string_equal(config_role(&c, "embedder")->model, "e-file");
	assert_int_equal(config_parse(&c, bad, strlen(bad), "f", &err), -1);
	assert_non_null(strstr(err.msg, "embeddings"));
	setenv("WEFT_EMBEDDER_MODEL", "e-env", 1);
	setenv("WEFT_EMBEDDER_BASE_URL", "http://127.0.0.1:9/v1", 1);
	assert_int_equal(config_apply_env(&c, &err), 0);
	r = config_role(&c, "embedder");
	assert_string_equal(r->model, "e-env");
	assert_string_equal(r->base_url, "http://127.0.0.1:9/v1");
	assert_int_equal(config_set(&c, "embedder.model=e-flag", &err), 0);
	r = config_role(&c, "embedder");
	assert_string_equal(r->model, "e-flag");
	lm_request_init(&req);
	config_role_request(r, &req);
	assert_int_equal(req.kind, LM_EMBEDDINGS);
	assert_string_equal(req.role, "embedder");
	lm_request_release(&req);
	assert_int_equal(c.nroles, 4);
	config_release(&c);
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_file),
	    cmocka_unit_test(test_errors_name_place),
	    cmocka_unit_test(test_env_and_flags),
	    cmocka_unit_test(test_parse_never_crashes),
	    cmocka_unit_test(test_env_creates_scorers),
	    cmocka_unit_test(test_model_scorer),
	    cmocka_unit_test(test_named_file_must_exist),
	    cmocka_unit_test(test_max_tokens_set_is_known),
	    cmocka_unit_test(test_verifier_role),
	    cmocka_unit_test(test_embedder_role),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

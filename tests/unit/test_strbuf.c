#include "testutil.h"

#include <math.h>
#include <stdlib.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

static void test_strbuf_basics(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;
	size_t len;

	(void)state;
	assert_string_equal(sb.data, "");
	strbuf_addstr(&sb, "ab");
	strbuf_addch(&sb, 'c');
	strbuf_addf(&sb, "%d-%s", 42, "x");
	assert_string_equal(sb.data, "abc42-x");
	strbuf_truncate(&sb, 2);
	assert_string_equal(sb.data, "ab");
	p = strbuf_detach(&sb, &len);
	assert_int_equal(len, 2);
	assert_string_equal(p, "ab");
	free(p);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_json_escape(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add_json_string(&sb, "a\"b\\c\n\x01\x1b\xc3\xa9");
	assert_string_equal(sb.data, "\"a\\\"b\\\\c\\n\\u0001\\u001b\xc3\xa9\"");
	strbuf_release(&sb);
}

/* DEL, C1, bidi and invisible characters are escaped too: the JSON means
 * the same text, and printing it cannot drive or reorder a terminal. */
static void test_json_escape_terminal_safe(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add_json_string(&sb, "\x7f\xc2\x9b"
				    "31m\xc2\x85\xc2\xa0\xe2\x80\xae"
				    "x\xe2\x81\xa6\xe2\x80\x8b\xef\xbb\xbf\xf3\xa0\x81\x81"
				    "\xf0\x9f\x98\x80\xe2\x82\xac");
	assert_string_equal(sb.data, "\"\\u007f\\u009b31m\\u0085\xc2\xa0\\u202ex\\u2066\\u200b"
				     "\\ufeff\\udb40\\udc41\xf0\x9f\x98\x80\xe2\x82\xac\"");
	/* bytes that are not UTF-8 are copied as they are (a session holds
	 * none: the loader refuses them) */
	strbuf_reset(&sb);
	strbuf_add_json_escaped(&sb, "a\xff\x9b\xe2\x80", 5);
	assert_memory_equal(sb.data, "a\xff\x9b\xe2\x80", 5);
	assert_int_equal(sb.len, 5);
	strbuf_release(&sb);
}

static void test_json_number(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {0.7, "0.7"},			/* not 0.69999999999999996 */
	    {0.1 + 0.2, "0.30000000000000004"}, /* %.15g would not read back */
	    {-2, "-2"},
	    {1e300, "1e+300"},
	    {5e-324, "4.94065645841247e-324"}, /* the smallest subnormal reads back */
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_add_json_number(&sb, cases[k].v);
		assert_string_equal(sb.data, cases[k].want);
		assert_true(strtod(sb.data, NULL) == cases[k].v);
		strbuf_release(&sb);
	}
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_add_json_number(&sb, NAN);
		strbuf_add_json_number(&sb, -INFINITY);
		assert_string_equal(sb.data, "nullnull");
		strbuf_release(&sb);
	}
}

static void test_errbuf(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(errbuf_set(&err, "node '%s': %s", "x", "bad"), -1);
	errbuf_prefix(&err, "%s", "file.json");
	assert_string_equal(err.msg, "file.json: node 'x': bad");
	assert_int_equal(errbuf_set(NULL, "ignored"), -1);
}

static void test_strbuf_max(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1000];
	size_t i;

	(void)state;
	memset(big, 'x', sizeof(big));
	strbuf_set_max(&sb, 10);
	assert_int_equal(strbuf_add(&sb, "0123456789", 10), 0); /* exactly max fits */
	assert_int_equal(sb.len, 10);
	assert_false(sb.full);
	assert_int_equal(strbuf_add(&sb, "a", 1), -1);
	assert_true(sb.full);
	assert_string_equal(sb.data, "0123456789");
	strbuf_addch(&sb, 'b');
	strbuf_addf(&sb, "%d", 7);
	assert_string_equal(sb.data, "0123456789");
	assert_int_equal(strbuf_add(&sb, "", 0), 0);

	/* a refused add leaves it full, even for what would still fit */
	strbuf_reset(&sb);
	assert_false(sb.full);
	assert_int_equal(strbuf_add(&sb, "abc", 3), 0);
	assert_int_equal(strbuf_add(&sb, big, 8), -1);
	assert_int_equal(strbuf_add(&sb, "d", 1), -1);
	assert_string_equal(sb.data, "abc");
	strbuf_release(&sb);
	assert_int_equal(sb.max, 0);
	assert_false(sb.full);

	/* growing in small steps never allocates much past the cap */
	strbuf_set_max(&sb, 300);
	for (i = 0; i < sizeof(big); i++)
		if (strbuf_add(&sb, big + i, 1) < 0)
			break;
	assert_int_equal(i, 300);
	assert_int_equal(sb.len, 300);
	assert_true(sb.cap <= 301);
	strbuf_release(&sb);

	/* uncapped, nothing is refused */
	for (i = 0; i < 100; i++)
		assert_int_equal(strbuf_add(&sb, big, sizeof(big)), 0);
	assert_int_equal(sb.len, 100 * sizeof(big));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strbuf_basics),
	    cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_json_escape_terminal_safe),
	    cmocka_unit_test(test_json_number),
	    cmocka_unit_test(test_errbuf),
	    cmocka_unit_test(test_strbuf_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

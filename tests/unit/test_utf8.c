#include "testutil.h"

#include <string.h>

#include "weft/utf8.h"

static size_t dec(const char *s, uint32_t *cp)
{
	return utf8_decode((const unsigned char *)s, strlen(s), cp);
}

static void test_decode(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(dec("A", &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(dec("\xc3\xa9", &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(dec("\xe4\xb8\xad", &cp), 3);
	assert_int_equal(cp, 0x4E2D);
	assert_int_equal(dec("\xf0\x9f\x98\x80", &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(dec("\xf4\x8f\xbf\xbf", &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	/* overlong forms */
	assert_int_equal(dec("\xc0\xaf", &cp), 0);
	assert_int_equal(dec("\xc1\xbf", &cp), 0);
	assert_int_equal(dec("\xe0\x80\xaf", &cp), 0);
	assert_int_equal(dec("\xf0\x80\x80\xaf", &cp), 0);
	/* surrogates, above U+10FFFF, lone continuation, bad lead */
	assert_int_equal(dec("\xed\xa0\x80", &cp), 0);
	assert_int_equal(dec("\xf4\x90\x80\x80", &cp), 0);
	assert_int_equal(dec("\x80", &cp), 0);
	assert_int_equal(dec("\xff", &cp), 0);
	/* cut short, or a non-continuation inside */
	assert_int_equal(utf8_decode((const unsigned char *)"\xe4\xb8\xad", 2, &cp), 0);
	assert_int_equal(dec("\xe4"
			     "A"
			     "\xad",
			     &cp),
			 0);
}

static void test_valid_and_encode(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	static const uint32_t cps[] = {0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
	size_t i, at = 0;

	(void)state;
	assert_true(utf8_valid((const unsigned char *)"", 0));
	assert_true(utf8_valid((const unsigned char *)"caf\xc3\xa9 \xe4\xb8\xad", 9));
	assert_false(utf8_valid((const unsigned char *)"caf\xc3", 4));
	assert_false(utf8_valid((const unsigned char *)"a\xed\xa0\x80", 4));
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++)
		utf8_encode(&sb, cps[i]);
	assert_true(utf8_valid((const unsigned char *)sb.data, sb.len));
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)sb.data + at, sb.len - at, &cp);

		assert_true(n > 0);
		assert_int_equal(cp, cps[i]);
		at += n;
	}
	assert_int_equal(at, sb.len);
	strbuf_release(&sb);
}

static void test_valid_prefix(void **state)
{
	(void)state;
	assert_int_equal(utf8_valid_prefix("", 0), 0);
	assert_int_equal(utf8_valid_prefix("caf\xc3\xa9", 5), 5);
	assert_int_equal(utf8_valid_prefix("caf\xc3", 4), 3);	       /* cut short */
	assert_int_equal(utf8_valid_prefix("a\xed\xa0\x80", 4), 1);    /* a surrogate */
	assert_int_equal(utf8_valid_prefix("ab\xc0\xaf", 4), 2);       /* overlong */
	assert_int_equal(utf8_valid_prefix("\xe0\x80\xaf", 3), 0);     /* overlong */
	assert_int_equal(utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	assert_int_equal(utf8_valid_prefix("x\xff", 2), 1);
}

static void expect_sanitized(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "<");
	utf8_add_sanitized(&sb, in, len);
	assert_string_equal(sb.data, want);
	strbuf_release(&sb);
}

static void test_add_sanitized(void **state)
{
	(void)state;
	expect_sanitized("", 0, "<");
	expect_sanitized("caf\xc3\xa9 \xe4\xb8\xad", 9, "<caf\xc3\xa9 \xe4\xb8\xad");
	/* one U+FFFD per byte that starts no well-formed sequence */
	expect_sanitized("a\xed\xa0\x80"
			 "b",
			 5,
			 "<a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "b");
	expect_sanitized("\xc0\xaf", 2, "<\xef\xbf\xbd\xef\xbf\xbd");
	expect_sanitized("end\xe4\xb8", 5, "<end\xef\xbf\xbd\xef\xbf\xbd");
	expect_sanitized("\xf0\x9f\x98\x80!", 5, "<\xf0\x9f\x98\x80!");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_valid_and_encode),
	    cmocka_unit_test(test_valid_prefix),
	    cmocka_unit_test(test_add_sanitized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include "weft/safetext.h"

static void check(const char *in, size_t len, int keep, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	safetext_append(&sb, in, len, keep);
	assert_string_equal(sb.data, want);
	strbuf_release(&sb);
}

#define CHECK(in, keep, want) check(in, sizeof(in) - 1, keep, want)

static void test_ascii_and_utf8_pass(void **state)
{
	(void)state;
	CHECK("plain text, 100%", 0, "plain text, 100%");
	CHECK("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK("", 0, "");
}

static void test_c0_and_del(void **state)
{
	(void)state;
	CHECK("\x1b[31mred\x1b[0m", 0, "^[[31mred^[[0m");
	CHECK("a\rb\bc\x07\x7f", 0, "a^Mb^Hc^G^?");
	CHECK("a\nb\tc", 0, "a^Jb^Ic");
	CHECK("a\nb\tc\r", 1, "a\nb\tc^M");
	CHECK("\x1b]52;c;SGVsbG8=\x07", 0, "^[]52;c;SGVsbG8=^G");
	CHECK("x\0y", 0, "x^@y");
}

static void test_c1_bidi_zero_width(void **state)
{
	(void)state;
	CHECK("\xc2\x9b"
	      "2J",
	      0, "<U+009B>2J");
	CHECK("\xc2\x80\xc2\x9f\xc2\xa0", 0, "<U+0080><U+009F>\xc2\xa0");
	CHECK("abc\xe2\x80\xae"
	      "fed",
	      0, "abc<U+202E>fed");
	CHECK("\xe2\x81\xa6x\xe2\x81\xa9", 0, "<U+2066>x<U+2069>");
	CHECK("a\xe2\x80\x8b"
	      "b\xef\xbb\xbf",
	      0, "a<U+200B>b<U+FEFF>");
	CHECK("\xe2\x80\xa8", 0, "<U+2028>");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	CHECK("\xff\xfe", 0, "<FF><FE>");
	CHECK("\x9b", 0, "<9B>");			  /* a raw 8-bit CSI */
	CHECK("\xc0\xaf", 0, "<C0><AF>");		  /* overlong '/' */
	CHECK("\xe0\x80\xaf", 0, "<E0><80><AF>");	  /* overlong */
	CHECK("\xed\xa0\x80", 0, "<ED><A0><80>");	  /* a surrogate */
	CHECK("\xf4\x90\x80\x80", 0, "<F4><90><80><80>"); /* above U+10FFFF */
	CHECK("ab\xe2\x82", 0, "ab<E2><82>");		  /* truncated */
	CHECK("\xe2\x82x", 0, "<E2><82>x");
}

static void test_long_line_is_linear(void **state)
{
	size_t n = 10u << 20, k;
	char *s = malloc(n);
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (k = 0; k < n; k++)
		s[k] = k % 7 == 0 ? '\x1b' : 'a';
	safetext_append(&sb, s, n, 0);
	assert_true(sb.len > n);
	assert_null(memchr(sb.data, '\x1b', sb.len));
	strbuf_release(&sb);
	free(s);
}

static void test_printf(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	safetext_printf(f, "%s: %zu steps\n", "s\x1b]0;t\x07\xc2\x9b\xe2\x80\xae.json", (size_t)3);
	safetext_printf(f, "a %s b", "x\ny\r");
	fclose(f);
	assert_string_equal(buf, "s^[]0;t^G<U+009B><U+202E>.json: 3 steps\na x^Jy^M b");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ascii_and_utf8_pass), cmocka_unit_test(test_c0_and_del),
	    cmocka_unit_test(test_c1_bidi_zero_width),	cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_long_line_is_linear), cmocka_unit_test(test_printf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <locale.h>

#include "weft/display.h"
#include "weft/strbuf.h"

static int utf8_locale;

static int setup(void **state)
{
	(void)state;
	utf8_locale = setlocale(LC_ALL, "C.UTF-8") != NULL || setlocale(LC_ALL, "C.utf8") != NULL ||
		      setlocale(LC_ALL, "en_US.UTF-8") != NULL;
	return 0;
}

/* Sanitizes len bytes of s with flags and compares with want. */
static void check_flags(const char *s, size_t len, unsigned flags, const char *want)
{
	struct strbuf out = STRBUF_INIT;

	display_sanitize_flags(s, len, flags, &out);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	strbuf_release(&out);
}

static void check(const char *s, const char *want)
{
	check_flags(s, strlen(s), 0, want);
}

/* No byte of out may be a control, DEL or part of a C1 control. */
static void assert_safe(const char *s, size_t len, unsigned flags)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' && (flags & DISPLAY_KEEP_NEWLINE))
			continue;
		if (c == '\t' && (flags & DISPLAY_KEEP_TAB))
			continue;
		assert_false(c < 0x20 || c == 0x7F);
		/* C2 80..C2 9F is the UTF-8 of U+0080..U+009F */
		if (c == 0xC2 && i + 1 < len)
			assert_false((unsigned char)s[i + 1] <= 0x9F);
	}
}

static void test_plain_text_unchanged(void **state)
{
	(void)state;
	check("", "");
	check("Question: Is 7 prime?", "Question: Is 7 prime?");
	check("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
	      "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
}

static void test_c0_controls_caret(void **state)
{
	(void)state;
	check("a\x1b"
	      "b",
	      "a^[b");
	check("line\r", "line^M");
	check("ab\bc", "ab^Hc");
	check("x\x7fy", "x^?y");
	check("\x01\x1f", "^A^_");
	check("bell\a", "bell^G");
	check_flags("a\0b", 3, 0, "a^@b");
	/* newline and tab: caret form by default, kept by flags */
	check("a\nb\tc", "a^Jb^Ic");
	check_flags("a\nb\tc", 5, DISPLAY_KEEP_NEWLINE, "a\nb^Ic");
	check_flags("a\nb\tc", 5, DISPLAY_KEEP_NEWLINE | DISPLAY_KEEP_TAB, "a\nb\tc");
	check_flags("a\tb", 3, DISPLAY_TAB_AS_SPACE, "a b");
	check_flags("a\nb\r", 4, DISPLAY_NEWLINE_AS_SPACE | DISPLAY_TAB_AS_SPACE, "a b^M");
	/* CR is never kept, even in multi-line views */
	check_flags("a\r\nb", 4, DISPLAY_KEEP_NEWLINE, "a^M\nb");
}

static void test_c1_controls(void **state)
{
	(void)state;
	check("\xc2\x9b"
	      "31m",
	      "<U+009B>31m"); /* 8-bit CSI */
	check("\xc2\x80\xc2\x9f", "<U+0080><U+009F>");
	check("\xc2\x9d"
	      "0;t\xc2\x9c",
	      "<U+009D>0;t<U+009C>");  /* OSC ... ST */
	check("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is printable */
	/* raw 8-bit C1 bytes are invalid UTF-8 */
	check("\x9b"
	      "2J",
	      "<9B>2J");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	check("\xff", "<FF>");
	check("a\x80z", "a<80>z");		       /* stray continuation */
	check("\xc3", "<C3>");			       /* truncated at end */
	check("\xe4\xb8z", "<E4><B8>z");	       /* truncated in the middle */
	check("\xc0\xaf", "<C0><AF>");		       /* overlong '/' */
	check("\xe0\x80\xaf", "<E0><80><AF>");	       /* overlong */
	check("\xed\xa0\x80", "<ED><A0><80>");	       /* surrogate */
	check("\xf4\x90\x80\x80", "<F4><90><80><80>"); /* above U+10FFFF */
	check("\xf0\x9f\x98", "<F0><9F><98>");	       /* truncated emoji */
	check("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF is valid */
	check("\xef\xbf\xbd", "\xef\xbf\xbd");	       /* U+FFFD itself passes */
}

static void test_bidi_and_invisible(void **state)
{
	(void)state;
	check("abc\xe2\x80\xae"
	      "fed",
	      "abc<U+202E>fed"); /* RLO */
	check("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
	      "<U+202A><U+202B><U+202C><U+202D>");
	check("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	      "<U+2066><U+2067><U+2068><U+2069>");
	check("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "<U+200E><U+200F><U+061C>");
	check("a\xe2\x80\x8b"
	      "b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf",
	      "a<U+200B>b<U+200C><U+200D><U+2060><U+FEFF>");
	check("\xe2\x80\xa8\xe2\x80\xa9", "<U+2028><U+2029>");
	/* tag characters (hidden "ASCII smuggling") */
	check("\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", "<U+E0001><U+E007F>");
	/* neighbours stay */
	check("\xe2\x80\x90\xe2\x80\xaf", "\xe2\x80\x90\xe2\x80\xaf");
}

static void test_terminal_sequences(void **state)
{
	struct strbuf out = STRBUF_INIT;
	static const char *attacks[] = {
	    "\x1b[31mred\x1b[0m",			/* colour */
	    "\x1b[2J\x1b[H\x1b[10;20Hx\x1b[5A",		/* clear, cursor moves */
	    "\x1b]52;c;cm0gLXJmIH4=\x07",		/* OSC 52 clipboard, BEL */
	    "\x1b]52;c;cm0gLXJmIH4=\x1b\\",		/* OSC 52, ST */
	    "\x1b]0;pwned title\x07",			/* title set */
	    "\x1b]2;title\x1b\\",			/* title set, ST */
	    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", /* hyperlink */
	    "\x1bP+q544e\x1b\\",			/* DCS */
	    "\x1b[6n",					/* report cursor (answerback) */
	    "\033c",					/* reset */
	    "ok\rEVIL\b\b\b\bgood",			/* overwrite tricks */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		strbuf_reset(&out);
		display_sanitize(attacks[i], strlen(attacks[i]), &out);
		assert_null(memchr(out.data, 0x1b, out.len));
		assert_null(memchr(out.data, 0x07, out.len));
		assert_null(memchr(out.data, '\r', out.len));
		assert_null(memchr(out.data, '\b', out.len));
		assert_safe(out.data, out.len, 0);
	}
	strbuf_reset(&out);
	display_sanitize("\x1b[31mred\x1b[0m", 12, &out);
	assert_string_equal(out.data, "^[[31mred^[[0m");
	strbuf_reset(&out);
	display_sanitize("\x1b]52;c;eA==\x07", 12, &out);
	assert_string_equal(out.data, "^[]52;c;eA==^G");
	strbuf_reset(&out);
	display_sanitize("\x1b]0;t\x1b\\", 7, &out);
	assert_string_equal(out.data, "^[]0;t^[\\");
	strbuf_release(&out);
}

/* Every byte value, alone and in pairs: output is always safe, valid UTF-8
 * that sanitizes to itself. */
static void test_all_bytes_idempotent(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char in[2];
	int x, y;

	(void)state;
	for (x = 0; x < 256; x++) {
		for (y = 0; y < 256; y += 7) {
			in[0] = (char)x;
			in[1] = (char)y;
			strbuf_reset(&a);
			strbuf_reset(&b);
			display_sanitize(in, 2, &a);
			assert_safe(a.data, a.len, 0);
			display_sanitize(a.data, a.len, &b);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
		}
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_sanitize_dup_and_append(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *d;

	(void)state;
	d = display_sanitize_dup("x\x1by");
	assert_string_equal(d, "x^[y");
	free(d);
	strbuf_addstr(&out, "pre:");
	display_sanitize("\r", 1, &out);
	assert_string_equal(out.data, "pre:^M");
	strbuf_release(&out);
}

static void test_widths(void **state)
{
	(void)state;
	assert_int_equal(display_width("abc", 3), 3);
	assert_int_equal(display_width("", 0), 0);
	/* CJK: 2 columns each */
	assert_int_equal(display_width("\xe4\xb8\xad\xe6\x96\x87", 6), 4);
	/* emoji: 2 columns */
	assert_int_equal(display_width("\xf0\x9f\x98\x80", 4), 2);
	/* fullwidth A */
	assert_int_equal(display_width("\xef\xbc\xa1", 3), 2);
	/* e + combining acute: 1 column */
	assert_int_equal(display_width("e\xcc\x81", 3), 1);
	/* Latin-1 letter */
	assert_int_equal(display_width("\xc3\xa9", 2), 1);
	/* Hangul syllable */
	assert_int_equal(display_width("\xea\xb0\x80", 3), 2);
	assert_int_equal(display_codepoint_width(0x4E00), 2);
	assert_int_equal(display_codepoint_width(0x1F600), 2);
	assert_int_equal(display_codepoint_width(0x0301), 0);
	assert_int_equal(display_codepoint_width('a'), 1);
	/* a mark is as wide as its text */
	assert_int_equal(display_width("<U+202E>", 8), 8);
	(void)utf8_locale;
}

static void test_truncate(void **state)
{
	const char *s = "a\xe4\xb8\xad"
			"b"; /* a 中 b: 4 columns, 5 bytes */
	size_t used;

	(void)state;
	assert_int_equal(display_truncate(s, 5, 10, &used), 5);
	assert_int_equal(used, 4);
	assert_int_equal(display_truncate(s, 5, 3, &used), 4);
	assert_int_equal(used, 3);
	/* 2 columns cannot hold a + the wide char: never split it */
	assert_int_equal(display_truncate(s, 5, 2, &used), 1);
	assert_int_equal(used, 1);
	assert_int_equal(display_truncate(s, 5, 0, &used), 0);
	assert_int_equal(used, 0);
	/* combining mark stays with its base */
	assert_int_equal(display_truncate("e\xcc\x81x", 4, 1, &used), 3);
	assert_int_equal(used, 1);
	/* emoji never split */
	assert_int_equal(display_truncate("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8, 3, NULL), 4);
	/* display_char */
	{
		int cols;

		assert_int_equal(display_char("\xe4\xb8\xad", 3, &cols), 3);
		assert_int_equal(cols, 2);
		assert_int_equal(display_char("\xe4\xb8", 2, &cols), 1);
		assert_int_equal(cols, 1);
	}
}

/* A 10 MB single line of hostile text: one pass (a quadratic pass would not
 * finish in the test's time); checks the output's content, not its time. */
static void test_ten_megabyte_line(void **state)
{
	const size_t n = 10u << 20;
	char *big = malloc(n);
	struct strbuf out = STRBUF_INIT;
	size_t i, w, cut;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (i % 10 == 9) ? '\x1b' : 'x';
	display_sanitize(big, n, &out);
	assert_int_equal(out.len, n + n / 10);
	assert_null(memchr(out.data, 0x1b, out.len));
	w = display_width(out.data, out.len);
	assert_int_equal(w, out.len);
	cut = display_truncate(out.data, out.len, 80, NULL);
	assert_int_equal(cut, 80);
	free(big);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text_unchanged),
	    cmocka_unit_test(test_c0_controls_caret),
	    cmocka_unit_test(test_c1_controls),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_bidi_and_invisible),
	    cmocka_unit_test(test_terminal_sequences),
	    cmocka_unit_test(test_all_bytes_idempotent),
	    cmocka_unit_test(test_sanitize_dup_and_append),
	    cmocka_unit_test(test_widths),
	    cmocka_unit_test(test_truncate),
	    cmocka_unit_test(test_ten_megabyte_line),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

#include "testutil.h"

#include "weft/redact.h"
#include "weft/strbuf.h"

#define KEY "sk-weft-SECRET-7f3a9c1e5b0d42aa"

/* No REDACT_MIN_PIECE-byte piece of key appears in s. */
static void assert_no_piece(const char *s, const char *key)
{
	size_t kl = strlen(key), i;
	char piece[REDACT_MIN_PIECE + 1];

	for (i = 0; i + REDACT_MIN_PIECE <= kl; i++) {
		memcpy(piece, key + i, REDACT_MIN_PIECE);
		piece[REDACT_MIN_PIECE] = '\0';
		if (strstr(s, piece))
			fail_msg("piece \"%s\" of the key is in \"%s\"", piece, s);
	}
}

static char *redacted(const char *text, const char *const *keys, size_t n, size_t *runs)
{
	struct strbuf sb = STRBUF_INIT;

	*runs = redact_append(&sb, text, strlen(text), keys, n);
	return strbuf_detach(&sb, NULL);
}

static void test_whole_and_pieces(void **state)
{
	static const char *const keys[] = {KEY};
	struct strbuf in = STRBUF_INIT;
	size_t runs, i;
	char *out;

	(void)state;
	out = redacted("Incorrect API key provided: " KEY ". Find yours.", keys, 1, &runs);
	assert_string_equal(out, "Incorrect API key provided: " REDACT_MARK ". Find yours.");
	assert_int_equal(runs, 1);
	free(out);

	/* 185 x then the key, cut at 200 bytes: 15 bytes of it are left */
	for (i = 0; i < 185; i++)
		strbuf_addch(&in, 'x');
	strbuf_add(&in, KEY, 15);
	out = redacted(in.data, keys, 1, &runs);
	assert_no_piece(out, KEY);
	assert_int_equal(runs, 1);
	assert_int_equal(strlen(out), 185 + strlen(REDACT_MARK));
	free(out);
	strbuf_release(&in);

	/* the key with one character changed: only that character is left */
	{
		char changed[] = KEY;

		changed[16] = changed[16] == 'Z' ? 'Y' : 'Z';
		out = redacted(changed, keys, 1, &runs);
		assert_no_piece(out, KEY);
		assert_true(strlen(out) <= 2 * strlen(REDACT_MARK) + 1);
		free(out);
	}

	/* a piece shorter than the minimum stays (it says nothing) */
	out = redacted("ref sk-weft-SE", keys, 1, &runs);
	assert_string_equal(out, "ref sk-weft-SE");
	assert_int_equal(runs, 0);
	free(out);
}

static void test_short_and_several_secrets(void **state)
{
	static const char *const keys[] = {NULL, "", "hunter22", KEY};
	static const char *const placeholders[] = {"x", "none", "EMPTY", "sk-none"};
	size_t runs;
	char *out;

	(void)state;
	out = redacted("user bob:hunter22@host, key=" KEY KEY, keys, 4, &runs);
	assert_string_equal(out, "user bob:" REDACT_MARK "@host, key=" REDACT_MARK);
	assert_int_equal(runs, 2);
	free(out);
	/* a local server's placeholder key is no secret: the text is kept */
	out = redacted("xenon: none of it, EMPTY; sk-none", placeholders, 4, &runs);
	assert_string_equal(out, "xenon: none of it, EMPTY; sk-none");
	assert_int_equal(runs, 0);
	free(out);
	/* no secrets: the text as it was, with every byte */
	{
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(redact_append(&sb, "a\0b", 3, keys, 0), 0);
		assert_int_equal(sb.len, 3);
		assert_memory_equal(sb.data, "a\0b", 3);
		strbuf_release(&sb);
	}
	/* in place */
	{
		char *s = strdup("[" KEY "]");

		assert_int_equal(redact_string(&s, keys, 4), 1);
		assert_string_equal(s, "[" REDACT_MARK "]");
		assert_int_equal(redact_string(&s, keys, 4), 0);
		free(s);
		s = NULL;
		assert_int_equal(redact_string(&s, keys, 4), 0);
	}
}

/* Pieces of the key at random places in random text: none survives. */
static void test_random_pieces(void **state)
{
	static const char *const keys[] = {KEY};
	uint32_t seed = 7;
	int round;

	(void)state;
	for (round = 0; round < 500; round++) {
		struct strbuf in = STRBUF_INIT;
		size_t runs, k, kl = strlen(KEY);
		char *out;

		for (k = 0; k < 6; k++) {
			size_t junk, from, len;

			seed = seed * 1103515245u + 12345u;
			junk = (seed >> 16) % 20;
			while (junk--)
				strbuf_addch(&in, "abcsk-X0"[(seed >> (junk % 16)) % 8]);
			seed = seed * 1103515245u + 12345u;
			from = (seed >> 16) % kl;
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 16) % (kl - from + 1);
			strbuf_add(&in, &KEY[from], len);
		}
		out = redacted(in.data, keys, 1, &runs);
		assert_no_piece(out, KEY);
		free(out);
		strbuf_release(&in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_and_pieces),
	    cmocka_unit_test(test_short_and_several_secrets),
	    cmocka_unit_test(test_random_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

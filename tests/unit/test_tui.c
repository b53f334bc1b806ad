#include "testutil.h"

#include "weft/strbuf.h"
#include "weft/tui.h"

/* The help screen comes from the keymap: every key the loom promises is in
 * it, once, with a description. */
static void test_keymap_help(void **state)
{
	static const char *labels[] = {
	    "h Left", "l Right", "k Up", "j Down", "Enter", "1-9", "e", "d", "u", "C-r", "b", "/",
	    "n",      "s",	 "t",	 "g",	   "G",	    "a",   "v", "x", "r", "?",	 "q"};
	struct strbuf help = STRBUF_INIT;
	size_t i;

	(void)state;
	strbuf_addch(&help, '\n'); /* every line then starts after a newline */
	tui_keymap_help(&help);
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		struct strbuf line = STRBUF_INIT;
		const char *first, *second;

		strbuf_addf(&line, "\n%-8s ", labels[i]);
		first = strstr(help.data, line.data);
		if (!first)
			fail_msg("no help line for key '%s'", labels[i]);
		second = strstr(first + 1, line.data);
		assert_null(second);
		strbuf_release(&line);
	}
	assert_non_null(strstr(help.data, "(an override, recorded as human)"));
	strbuf_release(&help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keymap_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

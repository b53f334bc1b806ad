#include "testutil.h"

#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"
#include "weft/theme.h"

static int parse(struct theme *t, const char *text, struct errbuf *err)
{
	return theme_parse(t, "themes/test", text, strlen(text), err);
}

static void test_parse_good(void **state)
{
	struct theme t;
	struct errbuf err;

	(void)state;
	assert_int_equal(parse(&t,
			       "# a comment\n"
			       "\n"
			       "normal default default\n"
			       "focus black yellow bold reverse   # trailing comment\n"
			       "status 17 bright-blue underline\r\n"
			       "\terror\twhite\tred\n",
			       &err),
			 0);
	assert_string_equal(t.name, "test");
	assert_int_equal(t.roles[THEME_FOCUS].fg, 0);
	assert_int_equal(t.roles[THEME_FOCUS].bg, 3);
	assert_int_equal(t.roles[THEME_FOCUS].attrs, THEME_BOLD | THEME_REVERSE);
	assert_int_equal(t.roles[THEME_STATUS].fg, 17);
	assert_int_equal(t.roles[THEME_STATUS].bg, 12);
	assert_int_equal(t.roles[THEME_STATUS].attrs, THEME_UNDERLINE);
	assert_int_equal(t.roles[THEME_ERROR].fg, 7);
	assert_int_equal(t.roles[THEME_ERROR].bg, 1);
	/* unnamed roles take normal's style */
	assert_int_equal(t.roles[THEME_TEXT].fg, THEME_DEFAULT_COLOUR);
	assert_int_equal(t.roles[THEME_TEXT].attrs, 0);
}

static void test_unnamed_roles_inherit_normal(void **state)
{
	struct theme t;
	struct errbuf err;

	(void)state;
	assert_int_equal(parse(&t, "normal white blue dim\n", &err), 0);
	assert_int_equal(t.roles[THEME_HELP].fg, 7);
	assert_int_equal(t.roles[THEME_HELP].bg, 4);
	assert_int_equal(t.roles[THEME_HELP].attrs, THEME_DIM);
}

static void check_error(const char *text, const char *want)
{
	struct theme t;
	struct errbuf err;

	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(parse(&t, text, &err), -1);
	assert_string_equal(err.msg, want);
	/* t is unchanged on error */
	assert_int_equal(t.name[0], 0x5a);
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	check_error("normal default default\nfocsu black yellow\n",
		    "themes/test:2: unknown role 'focsu'");
	check_error("\n\n\nfocus purple yellow\n",
		    "themes/test:4: unknown foreground colour 'purple'");
	check_error("focus black 256\n", "themes/test:1: unknown background colour '256'");
	check_error("focus black -1\n", "themes/test:1: unknown background colour '-1'");
	check_error("focus black yellow blinky\n", "themes/test:1: unknown attribute 'blinky'");
	check_error("focus black\n",
		    "themes/test:1: expected 'ROLE FOREGROUND BACKGROUND [ATTRIBUTE...]'");
	check_error("focus black yellow\nfocus red red\n",
		    "themes/test:2: role set twice: 'focus'");
	check_error("focus bright-12 red\n",
		    "themes/test:1: unknown foreground colour 'bright-12'");
	/* hostile bytes in the file are quoted sanitized */
	check_error("\x1b[31m x y\n", "themes/test:1: unknown role '^[[31m'");
}

static void test_builtin_and_strip(void **state)
{
	struct theme t;
	size_t i;

	(void)state;
	assert_int_equal(theme_init_builtin(&t, "default"), 0);
	assert_string_equal(t.name, "default");
	assert_int_equal(t.roles[THEME_FOCUS].bg, 3);
	theme_strip_colours(&t);
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		assert_int_equal(t.roles[i].fg, THEME_DEFAULT_COLOUR);
		assert_int_equal(t.roles[i].bg, THEME_DEFAULT_COLOUR);
	}
	assert_int_equal(t.roles[THEME_FOCUS].attrs, THEME_BOLD);
	assert_int_equal(theme_init_builtin(&t, "mono"), 0);
	assert_true(t.roles[THEME_FOCUS].attrs & THEME_REVERSE);
	assert_int_equal(theme_init_builtin(&t, "nope"), -1);
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		assert_non_null(theme_role_name((enum theme_role)i));
	assert_null(theme_role_name(THEME_ROLE_COUNT));
	assert_string_equal(theme_role_name(THEME_TEXT_FOCUS), "text-focus");
}

/* The shipped theme files parse, and themes/default matches the built-in. */
static void test_shipped_files(void **state)
{
	static const char *names[] = {"default", "light", "mono"};
	struct theme t, builtin;
	struct errbuf err;
	char path[256];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "themes/%s", names[i]);
		if (theme_load(&t, path, &err) < 0)
			fail_msg("%s", err.msg);
		assert_string_equal(t.name, names[i]);
		if (i != 1) {
			assert_int_equal(theme_init_builtin(&builtin, names[i]), 0);
			assert_memory_equal(t.roles, builtin.roles, sizeof(t.roles));
		}
	}
	assert_int_equal(theme_load(&t, "themes/does-not-exist", &err), -1);
	assert_non_null(strstr(err.msg, "themes/does-not-exist: "));
}

/* Theme lookup (datadir.h's order): $WEFT_THEMES wins over ./themes and
 * the built-ins; the names found are listed, sorted. */
static void test_find_and_names(void **state)
{
	char dir[] = "/tmp/weft-theme-find-XXXXXX";
	struct strbuf path = STRBUF_INIT, names = STRBUF_INIT;
	char file[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/default", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("normal default default\n", f);
	fclose(f);
	snprintf(file, sizeof(file), "%s/zebra", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);

	snprintf(file, sizeof(file), "%s/default", dir);
	setenv("WEFT_THEMES", dir, 1);
	assert_int_equal(theme_find(NULL, "default", &path), 0);
	assert_string_equal(path.data, file);
	strbuf_reset(&path);
	assert_int_equal(theme_find(NULL, "light", &path), 0); /* ./themes, next */
	assert_string_equal(path.data, "themes/light");
	theme_names(NULL, &names);
	assert_string_equal(names.data, "default, light, mono, zebra");

	unsetenv("WEFT_THEMES");
	strbuf_reset(&path);
	assert_int_equal(theme_find(NULL, "default", &path), 0);
	assert_string_equal(path.data, "themes/default");
	strbuf_reset(&path);
	assert_int_equal(theme_find(NULL, "zebra", &path), -1);
	assert_int_equal(theme_find(NULL, "../themes/light", &path), -1);
	assert_int_equal(path.len, 0);
	/* no file, a built-in: 1 */
	assert_int_equal(theme_find(dir, "mono", &path), 1);
	assert_int_equal(theme_find(dir, "zebra", &path), 0);

	unlink(file);
	snprintf(file, sizeof(file), "%s/zebra", dir);
	unlink(file);
	rmdir(dir);
	strbuf_release(&path);
	strbuf_release(&names);
}

static void test_size_cap(void **state)
{
	struct theme t;
	struct errbuf err;
	size_t n = THEME_MAX_BYTES + 1;
	char *big = malloc(n);

	(void)state;
	memset(big, '#', n);
	assert_int_equal(theme_parse(&t, "big", big, n, &err), -1);
	assert_non_null(strstr(err.msg, "big: theme file larger than"));
	memset(big, ' ', 10);
	big[10] = '\0';
	assert_int_equal(theme_parse(&t, "nul", "focus\0x", 7, &err), -1);
	assert_non_null(strstr(err.msg, "nul:1: NUL byte"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_unnamed_roles_inherit_normal),
	    cmocka_unit_test(test_errors_name_file_and_line),
	    cmocka_unit_test(test_builtin_and_strip),
	    cmocka_unit_test(test_shipped_files),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_find_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

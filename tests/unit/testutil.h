#ifndef WEFT_TESTUTIL_H
#define WEFT_TESTUTIL_H
/* Shared by the cmocka unit tests: cmocka's headers in the order it needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The upstream fixtures folder ($WEFT_FIXTURES, else
 * ../shared/fixtures/upstream-mwe beside the checkout), or NULL when it has
 * no bonsai.json: tests that need it skip with a message, or fail under
 * WEFT_REQUIRE_FIXTURES=1 (set by .ci/run), as tests/fixtures.py does for
 * the python tests. */
static inline const char *testutil_fixtures(void)
{
	static const char *dirs[] = {"../shared/fixtures/upstream-mwe",
				     "../../shared/fixtures/upstream-mwe"};
	const char *env = getenv("WEFT_FIXTURES");
	size_t i;
	FILE *f;
	static char buf[1024];

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *dir = env && *env ? env : dirs[i];

		snprintf(buf, sizeof(buf), "%s/bonsai.json", dir);
		f = fopen(buf, "r");
		if (f) {
			fclose(f);
			return dir;
		}
		if (env && *env)
			break;
	}
	return NULL;
}

/* Whether a missing fixtures folder fails the test (WEFT_REQUIRE_FIXTURES
 * set and not "0") rather than skipping it. */
static inline int testutil_fixtures_required(void)
{
	const char *env = getenv("WEFT_REQUIRE_FIXTURES");

	return env && *env && strcmp(env, "0") != 0;
}

#define SKIP_WITHOUT_FIXTURES(dir)                                                                 \
	do {                                                                                       \
		(dir) = testutil_fixtures();                                                       \
		if (!(dir) && testutil_fixtures_required())                                        \
			fail_msg("../shared/fixtures/upstream-mwe (or $WEFT_FIXTURES) not found, " \
				 "and WEFT_REQUIRE_FIXTURES=1 makes that a failure");              \
		if (!(dir)) {                                                                      \
			print_message("skipped: ../shared/fixtures/upstream-mwe not found\n");     \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* A scratch folder for a test program: /tmp/weft-test-NAME-XXXXXX, made
 * into buf (n bytes).  Returns 0, or -1 when it cannot be made. */
static inline int testutil_tmpdir(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/tmp/weft-test-%s-XXXXXX", name);
	return mkdtemp(buf) ? 0 : -1;
}

/* Removes dir and everything below it (made writable first: tests make
 * read-only folders).  Returns 0, or -1. */
static inline int testutil_rmtree(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif

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

/* The upstream fixtures folder (../shared/fixtures/upstream-mwe beside the
 * checkout), or NULL when absent: tests that need it skip with a message. */
static inline const char *testutil_fixtures(void)
{
	static const char *dirs[] = {"../shared/fixtures/upstream-mwe",
				     "../../shared/fixtures/upstream-mwe"};
	const char *env = getenv("WEFT_FIXTURES");
	size_t i;
	FILE *f;
	static char buf[1024];

	if (env)
		return env;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s/bonsai.json", dirs[i]);
		f = fopen(buf, "r");
		if (f) {
			fclose(f);
			return dirs[i];
		}
	}
	return NULL;
}

#define SKIP_WITHOUT_FIXTURES(dir)                                                                 \
	do {                                                                                       \
		(dir) = testutil_fixtures();                                                       \
		if (!(dir)) {                                                                      \
			print_message("skipped: ../shared/fixtures/upstream-mwe not found\n");     \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

#endif

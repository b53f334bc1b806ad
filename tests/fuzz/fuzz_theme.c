/* libFuzzer target: theme files through the theme parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "weft/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	struct errbuf err;
	size_t i;

	if (theme_parse(&t, "fuzz", (const char *)data, size, &err) == 0) {
		for (i = 0; i < THEME_ROLE_COUNT; i++)
			if (t.roles[i].fg < -1 || t.roles[i].fg > 255 || t.roles[i].bg < -1 ||
			    t.roles[i].bg > 255)
				abort();
	}
	return 0;
}

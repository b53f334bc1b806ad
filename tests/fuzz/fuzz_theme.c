/* libFuzzer target: theme files through theme_parse. */
#include <stddef.h>
#include <stdint.h>

#include "weft/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	struct errbuf err;

	theme_init_builtin(&t, "default");
	theme_parse(&t, "fuzz", (const char *)data, size, &err);
	return 0;
}

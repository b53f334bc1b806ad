/* libFuzzer target: config files through config_parse and config_set. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct errbuf err;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	config_init(&c);
	config_parse(&c, (const char *)data, size, "fuzz", &err);
	config_set(&c, s, &err);
	config_release(&c);
	free(s);
	return 0;
}

/* libFuzzer target: the display sanitizer.  Its output must hold no control
 * byte, no C1 control, no invalid UTF-8 and no bidi control, must sanitize
 * to itself, and truncation must never split a character. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/display.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i, cut, cols = size % 97;

	display_sanitize((const char *)data, size, &a);
	for (i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.data[i];

		if (c < 0x20 || c == 0x7f)
			abort();
		if (c == 0xC2 && i + 1 < a.len && (unsigned char)a.data[i + 1] <= 0x9F)
			abort();
		if (c == 0xE2 && i + 2 < a.len && (unsigned char)a.data[i + 1] == 0x80 &&
		    (unsigned char)a.data[i + 2] >= 0xAA && (unsigned char)a.data[i + 2] <= 0xAE)
			abort();
	}
	display_sanitize(a.data, a.len, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len))
		abort();
	cut = display_truncate(a.data, a.len, cols, NULL);
	if (cut < a.len && ((unsigned char)a.data[cut] & 0xC0) == 0x80)
		abort();
	if (display_width(a.data, cut) > cols)
		abort();
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}

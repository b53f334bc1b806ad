#include "weft/safetext.h"

#include <string.h>

#include "weft/display.h"

void safetext_append(struct strbuf *out, const char *s, size_t len, int keep_newlines)
{
	display_sanitize_flags(s, len, keep_newlines ? DISPLAY_KEEP_NEWLINE | DISPLAY_KEEP_TAB : 0,
			       out);
}

void safetext_fputs(const char *s, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;

	display_sanitize(s, strlen(s), &sb);
	fwrite(sb.data, 1, sb.len, f);
	strbuf_release(&sb);
}

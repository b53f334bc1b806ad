#include "weft/safetext.h"

#include <stdarg.h>
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

void safetext_printf(FILE *f, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT, sb = STRBUF_INIT;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	len = line.len;
	if (len && line.data[len - 1] == '\n')
		len--;
	display_sanitize(line.data, len, &sb);
	if (len < line.len)
		strbuf_addch(&sb, '\n');
	fwrite(sb.data, 1, sb.len, f);
	strbuf_release(&sb);
	strbuf_release(&line);
}

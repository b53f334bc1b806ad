#include "weft/safetext.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0
 * when the bytes there are not UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, k;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x61c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

void safetext_append(struct strbuf *out, const char *s, size_t len, int keep_newlines)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	strbuf_grow(out, len);
	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t n;

		if (c >= 0x20 && c < 0x7f) {
			run++;
			i++;
			continue;
		}
		if (run) {
			strbuf_add(out, p + i - run, run);
			run = 0;
		}
		if (c < 0x20 || c == 0x7f) {
			if (keep_newlines && (c == '\n' || c == '\t')) {
				strbuf_addch(out, c);
			} else {
				strbuf_addch(out, '^');
				strbuf_addch(out, c == 0x7f ? '?' : c + '@');
			}
			i++;
			continue;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (!n) {
			strbuf_addstr(out, "\\x");
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
			i++;
		} else if (invisible(cp)) {
			strbuf_addf(out, "<U+%04X>", (unsigned)cp);
			i += n;
		} else {
			strbuf_add(out, p + i, n);
			i += n;
		}
	}
	if (run)
		strbuf_add(out, p + i - run, run);
}

void safetext_fputs(const char *s, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;

	safetext_append(&sb, s, strlen(s), 0);
	fwrite(sb.data, 1, sb.len, f);
	strbuf_release(&sb);
}

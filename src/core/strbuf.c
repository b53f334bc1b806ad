#include "weft/strbuf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/display.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

char strbuf_empty[1];

void strbuf_init(struct strbuf *sb)
{
	sb->data = strbuf_empty;
	sb->len = 0;
	sb->cap = 0;
	sb->max = 0;
	sb->full = 0;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->cap)
		free(sb->data);
	strbuf_init(sb);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (len)
		*len = sb->len;
	if (!sb->cap)
		p = xstrdup("");
	else
		p = sb->data;
	strbuf_init(sb);
	return p;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap;

	if (need < sb->len)
		xalloc_die("string too long");
	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need) {
		if (cap > (size_t)-1 / 2)
			xalloc_die("string too long");
		cap *= 2;
	}
	/* a capped strbuf never needs room past its max */
	if (sb->max && cap > sb->max + 1)
		cap = need > sb->max + 1 ? need : sb->max + 1;
	if (sb->cap) {
		sb->data = xrealloc(sb->data, cap);
	} else {
		sb->data = xmalloc(cap);
		sb->data[0] = '\0';
	}
	sb->cap = cap;
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_truncate(sb, 0);
	sb->full = 0;
}

void strbuf_set_max(struct strbuf *sb, size_t max)
{
	sb->max = max;
}

/* Whether len more bytes are refused by sb's cap (and marks it full). */
static int over_max(struct strbuf *sb, size_t len)
{
	if (!sb->full && (!sb->max || len <= sb->max - sb->len))
		return 0;
	sb->full = 1;
	return 1;
}

void strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (len > sb->len)
		return;
	sb->len = len;
	if (sb->cap)
		sb->data[len] = '\0';
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return 0;
	if (over_max(sb, len))
		return -1;
	strbuf_grow(sb, len);
	memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return 0;
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	if (over_max(sb, 1))
		return;
	strbuf_grow(sb, 1);
	sb->data[sb->len++] = (char)c;
	sb->data[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0 || over_max(sb, (size_t)n))
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

/* Appends the JSON escape of the UTF-16 code unit u. */
static void add_json_unit(struct strbuf *sb, unsigned u)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = "\\u";
	int k;

	for (k = 5; k > 1; k--, u >>= 4)
		e[k] = hex[u & 15];
	strbuf_add(sb, e, sizeof(e));
}

void strbuf_add_json_escaped(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	uint32_t cp;

	strbuf_grow(sb, len + 2);
	while (i < len) {
		unsigned char c = p[i];
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			/* only C1, bidi and invisible characters are escaped
			 * (display.h); anything else, malformed bytes included,
			 * is copied as it is */
			n = utf8_decode(p + i, len - i, &cp);
			if (!n || !display_codepoint_hidden(cp)) {
				i += n ? n : 1;
				continue;
			}
			strbuf_add(sb, s + run, i - run);
			if (cp > 0xffff) { /* a surrogate pair */
				add_json_unit(sb, 0xd800 + ((cp - 0x10000) >> 10));
				add_json_unit(sb, 0xdc00 + ((cp - 0x10000) & 0x3ff));
			} else {
				add_json_unit(sb, cp);
			}
			i += n;
			run = i;
			continue;
		}
		strbuf_add(sb, s + run, i - run);
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		}
		if (esc)
			strbuf_addstr(sb, esc);
		else
			add_json_unit(sb, c);
		i++;
		run = i;
	}
	strbuf_add(sb, s + run, len - run);
}

void strbuf_add_json_string(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	strbuf_add_json_escaped(sb, s, strlen(s));
	strbuf_addch(sb, '"');
}

void strbuf_add_json_number(struct strbuf *sb, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		strbuf_addstr(sb, "null");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	strbuf_addstr(sb, buf);
}

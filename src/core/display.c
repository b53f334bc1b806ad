#include "weft/display.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "weft/utf8.h"
#include "weft/xalloc.h"

static const char hex[] = "0123456789ABCDEF";

int display_codepoint_hidden(unsigned long c)
{
	if (c < 0x061C)
		return c >= 0x80 && c <= 0x9F;
	return c == 0x061C || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
	       (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) ||
	       (c >= 0x2066 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
	       (c >= 0xE0000 && c <= 0xE007F);
}

static void add_mark(struct strbuf *out, unsigned long c)
{
	char buf[12];
	size_t n = 0;
	int shift = c > 0xFFFFF ? 20 : c > 0xFFFF ? 16 : 12;

	buf[n++] = '<';
	buf[n++] = 'U';
	buf[n++] = '+';
	for (; shift >= 0; shift -= 4)
		buf[n++] = hex[(c >> shift) & 0xFu];
	buf[n++] = '>';
	strbuf_add(out, buf, n);
}

void display_sanitize_flags(const char *s, size_t len, unsigned flags, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	uint32_t c;
	char two[4];

	strbuf_grow(out, len);
	while (i < len) {
		unsigned char b = p[i];

		/* The common case: a run of printable ASCII, copied at once. */
		if (b >= 0x20 && b < 0x7F) {
			i++;
			run++;
			continue;
		}
		if (run) {
			strbuf_add(out, s + i - run, run);
			run = 0;
		}
		if (b < 0x20 || b == 0x7F) {
			if ((b == '\n' && (flags & DISPLAY_KEEP_NEWLINE)) ||
			    (b == '\t' && (flags & DISPLAY_KEEP_TAB))) {
				strbuf_addch(out, b);
			} else if ((b == '\t' && (flags & DISPLAY_TAB_AS_SPACE)) ||
				   (b == '\n' && (flags & DISPLAY_NEWLINE_AS_SPACE))) {
				strbuf_addch(out, ' ');
			} else {
				two[0] = '^';
				two[1] = b == 0x7F ? '?' : (char)(b + 0x40);
				strbuf_add(out, two, 2);
			}
			i++;
			continue;
		}
		n = utf8_decode(p + i, len - i, &c);
		if (!n) {
			two[0] = '<';
			two[1] = hex[b >> 4];
			two[2] = hex[b & 0xFu];
			two[3] = '>';
			strbuf_add(out, two, 4);
			i++;
			continue;
		}
		if (c <= 0x9F || display_codepoint_hidden(c))
			add_mark(out, c);
		else
			strbuf_add(out, s + i, n);
		i += n;
	}
	if (run)
		strbuf_add(out, s + i - run, run);
}

void display_sanitize(const char *s, size_t len, struct strbuf *out)
{
	display_sanitize_flags(s, len, 0, out);
}

char *display_sanitize_dup(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	display_sanitize(s, strlen(s), &sb);
	return strbuf_detach(&sb, NULL);
}

struct range {
	uint32_t lo, hi;
};

/* Wide (2 columns) when the C library cannot tell: East Asian Wide and
 * Fullwidth blocks and the emoji blocks. */
static const struct range wide_ranges[] = {
    {0x1100, 0x115F},	{0x231A, 0x231B},   {0x2329, 0x232A},	{0x23E9, 0x23EC},
    {0x23F0, 0x23F0},	{0x23F3, 0x23F3},   {0x25FD, 0x25FE},	{0x2614, 0x2615},
    {0x2648, 0x2653},	{0x267F, 0x267F},   {0x2693, 0x2693},	{0x26A1, 0x26A1},
    {0x26AA, 0x26AB},	{0x26BD, 0x26BE},   {0x26C4, 0x26C5},	{0x26CE, 0x26CE},
    {0x26D4, 0x26D4},	{0x26EA, 0x26EA},   {0x26F2, 0x26F5},	{0x26FA, 0x26FD},
    {0x2705, 0x2705},	{0x270A, 0x270B},   {0x2728, 0x2728},	{0x274C, 0x274C},
    {0x2753, 0x2755},	{0x2757, 0x2757},   {0x2795, 0x2797},	{0x27B0, 0x27B0},
    {0x27BF, 0x27BF},	{0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},	{0x2B55, 0x2B55},
    {0x2E80, 0x303E},	{0x3041, 0x33FF},   {0x3400, 0x4DBF},	{0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},	{0xA960, 0xA97F},   {0xAC00, 0xD7A3},	{0xF900, 0xFAFF},
    {0xFE10, 0xFE19},	{0xFE30, 0xFE6F},   {0xFF00, 0xFF60},	{0xFFE0, 0xFFE6},
    {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004},
    {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F900, 0x1F9FF},
    {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

/* Zero width when the C library cannot tell: combining marks. */
static const struct range zero_ranges[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},   {0x064B, 0x065F},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF},   {0x1DC0, 0x1DFF},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0x1F3FB, 0x1F3FF},
};

static int in_ranges(unsigned long c, const struct range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c < r[mid].lo)
			hi = mid;
		else if (c > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int display_codepoint_width(unsigned long c)
{
	int w;

	if (c < 0x7F)
		return 1;
	if (sizeof(wchar_t) >= 4 || c <= 0xFFFF) {
		w = wcwidth((wchar_t)c);
		if (w >= 0)
			return w > 2 ? 2 : w;
	}
	if (in_ranges(c, zero_ranges, sizeof(zero_ranges) / sizeof(zero_ranges[0])))
		return 0;
	if (in_ranges(c, wide_ranges, sizeof(wide_ranges) / sizeof(wide_ranges[0])))
		return 2;
	return 1;
}

size_t display_char(const char *s, size_t len, int *cols)
{
	uint32_t c;
	size_t n = utf8_decode((const unsigned char *)s, len, &c);

	if (!n) {
		*cols = 1;
		return 1;
	}
	*cols = c < 0x80 ? 1 : display_codepoint_width(c);
	return n;
}

size_t display_width(const char *s, size_t len)
{
	size_t i = 0, w = 0;
	int cols;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			w++;
			continue;
		}
		i += display_char(s + i, len - i, &cols);
		w += (size_t)cols;
	}
	return w;
}

size_t display_truncate(const char *s, size_t len, size_t cols, size_t *used)
{
	size_t i = 0, w = 0, n;
	int c;

	while (i < len) {
		n = display_char(s + i, len - i, &c);
		if (w + (size_t)c > cols)
			break;
		w += (size_t)c;
		i += n;
	}
	if (used)
		*used = w;
	return i;
}

#include "score_text.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <wctype.h>

#include "weft/score.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/* ---- Python str semantics on UTF-8 -------------------------------------- */

/* Decodes one code point; returns the bytes used (1 for an invalid byte,
 * which is then reported as 0xFFFFFFFF and copied through unchanged). */
size_t py_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_decode(s, len, cp);

	if (!n) {
		*cp = 0xFFFFFFFFu;
		n = 1;
	}
	return n;
}

static locale_t utf8_locale;
static once_flag utf8_once = ONCE_FLAG_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t get_utf8_locale(void)
{
	call_once(&utf8_once, utf8_locale_init);
	return utf8_locale;
}

static uint32_t cp_lower(uint32_t cp)
{
	locale_t loc;

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	loc = get_utf8_locale();
	if (loc && cp <= 0x10FFFF && (wint_t)cp <= (wint_t)WINT_MAX)
		return (uint32_t)towlower_l((wint_t)cp, loc);
	if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
		return cp + 32;
	return cp;
}

/* Python isalpha() for one code point (iswalpha in C.UTF-8; ASCII and
 * Latin-1 letters without that locale). */
int py_cp_isalpha(uint32_t cp)
{
	locale_t loc;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	if (cp == 0xFFFFFFFFu || py_cp_digit(cp) >= 0)
		return 0; /* glibc counts other scripts' digits as alpha */
	loc = get_utf8_locale();
	if (loc)
		return iswalpha_l((wint_t)cp, loc) != 0;
	return cp == 0xAA || cp == 0xB5 || cp == 0xBA || (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7);
}

/* Python str.isspace() for one code point. */
static int cp_isspace(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
	       cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* A combining mark (the main blocks): it belongs to the word it follows. */
static int cp_is_combining(uint32_t cp)
{
	return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	       (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
	       (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* The zeros of Unicode's decimal-digit (Nd) runs, each followed by 1..9:
 * what Python's \d and float() accept as digits. */
static const uint32_t nd_zeros[] = {
    0x30,    0x660,   0x6F0,   0x7C0,	0x966,	 0x9E6,	  0xA66,   0xAE6,   0xB66,   0xBE6,
    0xC66,   0xCE6,   0xD66,   0xDE6,	0xE50,	 0xED0,	  0xF20,   0x1040,  0x1090,  0x17E0,
    0x1810,  0x1946,  0x19D0,  0x1A80,	0x1A90,	 0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,
    0xA8D0,  0xA900,  0xA9D0,  0xA9F0,	0xAA50,	 0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066,
    0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0,
    0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2,
    0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

/* The value 0..9 of a decimal digit code point, or -1. */
int py_cp_digit(uint32_t cp)
{
	size_t i;

	for (i = 0; i < sizeof(nd_zeros) / sizeof(nd_zeros[0]); i++)
		if (cp >= nd_zeros[i] && cp <= nd_zeros[i] + 9)
			return (int)(cp - nd_zeros[i]);
	return -1;
}

static int cp_is_cased(uint32_t cp)
{
	locale_t loc = get_utf8_locale();

	if (cp < 0x80 || !loc)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	return iswupper_l((wint_t)cp, loc) || iswlower_l((wint_t)cp, loc);
}

/* Case_Ignorable, approximately: the ASCII and Latin-1 ones, combining
 * marks, and the quote-like word-internal punctuation. */
static int cp_case_ignorable(uint32_t cp)
{
	return cp == '\'' || cp == '.' || cp == ':' || cp == '^' || cp == '`' || cp == 0xA8 ||
	       cp == 0xAD || cp == 0xAF || cp == 0xB4 || cp == 0xB7 || cp == 0xB8 ||
	       (cp >= 0x2B0 && cp <= 0x36F) || cp == 0x374 || cp == 0x375 || cp == 0x37A ||
	       cp == 0x384 || cp == 0x385 || cp == 0x387 || (cp >= 0x483 && cp <= 0x489) ||
	       cp == 0x2018 || cp == 0x2019 || cp == 0x2024 || cp == 0x2027 ||
	       (cp >= 0x200B && cp <= 0x200F);
}

/* Python's Final_Sigma test for the capital sigma at s[i..i+n): a cased
 * letter before it and none after it, skipping case-ignorable characters. */
static int final_sigma(const unsigned char *s, size_t len, size_t i, size_t n)
{
	size_t j = i, k;
	uint32_t cp = 0xFFFFFFFFu;
	int before = 0;

	while (j > 0) {
		k = py_last_char((const char *)s, j, &cp);
		j -= k;
		if (!cp_case_ignorable(cp)) {
			before = cp != 0xFFFFFFFFu && cp_is_cased(cp);
			break;
		}
	}
	if (!before)
		return 0;
	for (j = i + n; j < len; j += k) {
		k = py_decode(s + j, len - j, &cp);
		if (!cp_case_ignorable(cp))
			return !(cp != 0xFFFFFFFFu && cp_is_cased(cp));
	}
	return 1;
}

/* Python s.lower(), appended to out. */
void py_lower(const char *s, size_t len, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = py_decode(p + i, len - i, &cp);
		if (cp == 0xFFFFFFFFu) {
			strbuf_addch(out, p[i]);
		} else if (cp == 0x130) {
			strbuf_addstr(out, "i\xcc\x87"); /* Python's full mapping */
		} else if (cp == 0x3A3) {
			utf8_encode(out, final_sigma(p, len, i, n) ? 0x3C2 : 0x3C3);
		} else {
			utf8_encode(out, cp_lower(cp));
		}
		i += n;
	}
}

/* Length of the code point ending at s[len-1] (1 for invalid bytes). */
size_t py_last_char(const char *s, size_t len, uint32_t *cp)
{
	size_t k;

	for (k = 1; k <= 4 && k <= len; k++) {
		unsigned char c = (unsigned char)s[len - k];

		if ((c & 0xC0) != 0x80) {
			if (py_decode((const unsigned char *)s + len - k, k, cp) == k)
				return k;
			break;
		}
	}
	*cp = 0xFFFFFFFFu;
	return 1;
}

/*
 * Strict scoring's word characters: letters and digits of any script
 * (iswalnum in C.UTF-8; without that locale, Python's isalpha and the
 * decimal digits) and combining marks, so that "ności" is one word and
 * not "no" followed by a break.  An invalid byte is not one.
 */
static int cp_is_word(uint32_t cp)
{
	locale_t loc;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		       (cp >= '0' && cp <= '9');
	if (cp == 0xFFFFFFFFu)
		return 0;
	if (py_cp_digit(cp) >= 0 || cp_is_combining(cp))
		return 1;
	loc = get_utf8_locale();
	if (loc)
		return iswalnum_l((wint_t)cp, loc) != 0;
	return py_cp_isalpha(cp);
}

/* Whether the character starting at p (NUL-terminated) is a word
 * character; the NUL is not. */
int py_word_at(const char *p)
{
	uint32_t cp;

	if (!*p)
		return 0;
	py_decode((const unsigned char *)p, strnlen(p, 4), &cp);
	return cp_is_word(cp);
}

/* Whether the character that ends just before p (s the string's start) is
 * a word character; the start of the string is not. */
int py_word_before(const char *s, const char *p)
{
	uint32_t cp;

	if (p <= s)
		return 0;
	py_last_char(s, (size_t)(p - s), &cp);
	return cp_is_word(cp);
}

/* The length in bytes of the character at p (NUL-terminated, not at NUL). */
size_t py_char_len(const char *p)
{
	uint32_t cp;

	return py_decode((const unsigned char *)p, strnlen(p, 4), &cp);
}

/* Python s.strip() (Unicode whitespace) in place. */
void py_strip(struct strbuf *sb)
{
	size_t start = 0, n;
	uint32_t cp;

	while (start < sb->len) {
		n = py_decode((unsigned char *)sb->data + start, sb->len - start, &cp);
		if (!cp_isspace(cp))
			break;
		start += n;
	}
	while (sb->len > start) {
		n = py_last_char(sb->data + start, sb->len - start, &cp);
		if (!cp_isspace(cp))
			break;
		strbuf_truncate(sb, sb->len - n);
	}
	if (start) {
		memmove(sb->data, sb->data + start, sb->len - start);
		strbuf_truncate(sb, sb->len - start);
	}
}

/* Python s.strip(chars) for ASCII chars. */
void py_strip_chars(struct strbuf *sb, const char *chars)
{
	size_t start = 0;

	while (start < sb->len && strchr(chars, sb->data[start]) && sb->data[start])
		start++;
	while (sb->len > start && sb->data[sb->len - 1] && strchr(chars, sb->data[sb->len - 1]))
		strbuf_truncate(sb, sb->len - 1);
	if (start) {
		memmove(sb->data, sb->data + start, sb->len - start);
		strbuf_truncate(sb, sb->len - start);
	}
}

void py_set(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add(&tmp, s, len); /* s may point into sb */
	strbuf_reset(sb);
	strbuf_add(sb, tmp.data, tmp.len);
	strbuf_release(&tmp);
}

/* s.split(sep)[0] */
void py_cut_before(struct strbuf *sb, const char *sep)
{
	const char *p = strstr(sb->data, sep);

	if (p)
		strbuf_truncate(sb, (size_t)(p - sb->data));
}

const char *py_find_last(const char *s, const char *sep)
{
	const char *p = strstr(s, sep), *last = NULL;
	size_t n = strlen(sep);

	while (p) {
		last = p;
		p = strstr(p + n, sep); /* Python's split is non-overlapping */
	}
	return last;
}

/* s.split(sep)[-1]; returns whether sep was present. */
int py_keep_after_last(struct strbuf *sb, const char *sep)
{
	const char *p = py_find_last(sb->data, sep);

	if (!p)
		return 0;
	p += strlen(sep);
	py_set(sb, p, sb->len - (size_t)(p - sb->data));
	return 1;
}

/* s.replace(from, to); an empty `from` leaves s as is here (the callers
 * never rely on Python's insert-between-every-character behaviour). */
void py_replace_all(struct strbuf *sb, const char *from, const char *to)
{
	struct strbuf out = STRBUF_INIT;
	size_t n = strlen(from);
	const char *p = sb->data, *q;

	if (!n || !strstr(sb->data, from))
		return;
	while ((q = strstr(p, from)) != NULL) {
		strbuf_add(&out, p, (size_t)(q - p));
		strbuf_addstr(&out, to);
		p = q + n;
	}
	strbuf_addstr(&out, p);
	strbuf_reset(sb);
	strbuf_add(sb, out.data, out.len);
	strbuf_release(&out);
}

int py_is_ascii_punct(int c)
{
	return c > 0 && c < 0x80 && ispunct(c);
}

/* s.translate(maketrans('', '', string.punctuation)) */
void py_remove_punct(struct strbuf *sb)
{
	size_t i, j = 0;

	for (i = 0; i < sb->len; i++)
		if (!py_is_ascii_punct((unsigned char)sb->data[i]))
			sb->data[j++] = sb->data[i];
	strbuf_truncate(sb, j);
}

/* Python str.isalpha(): non-empty and every code point a letter. */
int py_isalpha(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	if (!len)
		return 0;
	while (i < len) {
		i += py_decode((const unsigned char *)s + i, len - i, &cp);
		if (!py_cp_isalpha(cp))
			return 0;
	}
	return 1;
}

/* Python float(s) succeeds?  Grammar: whitespace, sign, digits with single
 * underscores between digits, optional fraction and exponent, or inf,
 * infinity, nan; ASCII digits only. */
int py_is_float(const char *s, double *value)
{
	struct strbuf t = STRBUF_INIT, clean = STRBUF_INIT;
	const char *p;
	int digits = 0, ok = 1;
	char *end;

	{
		/* Python maps every Nd digit to ASCII first; other non-ASCII
		 * characters can only make the parse fail */
		const unsigned char *u = (const unsigned char *)s;
		size_t len = strlen(s), i = 0, n;
		uint32_t cp;

		while (i < len) {
			n = py_decode(u + i, len - i, &cp);
			if (cp < 0x80)
				strbuf_addch(&t, (int)cp);
			else if (py_cp_digit(cp) >= 0)
				strbuf_addch(&t, '0' + py_cp_digit(cp));
			else if (cp_isspace(cp))
				strbuf_addch(&t, ' ');
			else
				strbuf_addch(&t, '\x01');
			i += n;
		}
	}
	py_strip(&t);
	p = t.data;
	if (*p == '+' || *p == '-')
		strbuf_addch(&clean, *p++);
	if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity") || !strcasecmp(p, "nan")) {
		strbuf_addstr(&clean, p);
		goto done;
	}
#define DIGITPART()                                                                                \
	do {                                                                                       \
		int n_ = 0;                                                                        \
		while (isdigit((unsigned char)*p) ||                                               \
		       (*p == '_' && n_ && isdigit((unsigned char)p[1]))) {                        \
			if (*p != '_')                                                             \
				strbuf_addch(&clean, *p);                                          \
			p++;                                                                       \
			n_++;                                                                      \
		}                                                                                  \
		digits += n_;                                                                      \
	} while (0)
	DIGITPART();
	if (*p == '.') {
		strbuf_addch(&clean, *p++);
		DIGITPART();
	}
	if (!digits) {
		ok = 0;
		goto done;
	}
	if (*p == 'e' || *p == 'E') {
		strbuf_addch(&clean, *p++);
		if (*p == '+' || *p == '-')
			strbuf_addch(&clean, *p++);
		digits = 0;
		DIGITPART();
		if (!digits)
			ok = 0;
	}
#undef DIGITPART
	if (*p)
		ok = 0;
done:
	if (ok && value) {
		errno = 0;
		*value = strtod(clean.data, &end);
	}
	strbuf_release(&t);
	strbuf_release(&clean);
	return ok;
}

/* ---- answer text both rule sets read ------------------------------------ */

/* The option texts of input_text: re.split on (A)..(Z) and A:, first piece
 * dropped, each stripped, lowercased, cut at its first newline. */
size_t score_option_texts(const char *input, char ***out)
{
	char **items = NULL;
	size_t n = 0, cap = 0;
	const char *p = input, *piece = input;
	int first = 1;

	for (;;) {
		int at_sep = 0;
		size_t seplen = 0;

		if (*p == '(' && p[1] >= 'A' && p[1] <= 'Z' && p[2] == ')') {
			at_sep = 1;
			seplen = 3;
		} else if (p[0] == 'A' && p[1] == ':') {
			at_sep = 1;
			seplen = 2;
		}
		if (at_sep || !*p) {
			if (!first) {
				struct strbuf t = STRBUF_INIT, low = STRBUF_INIT;

				strbuf_add(&t, piece, (size_t)(p - piece));
				py_strip(&t);
				py_lower(t.data, t.len, &low);
				py_cut_before(&low, "\n");
				XGROW(items, cap, n + 1);
				items[n++] = strbuf_detach(&low, NULL);
				strbuf_release(&t);
			}
			first = 0;
			if (!*p)
				break;
			p += seplen;
			piece = p;
			continue;
		}
		p++;
	}
	*out = items;
	return n;
}

void score_free_texts(char **t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i]);
	free(t);
}

int score_bool_meaning(const char *s)
{
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "invalid"))
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "valid"))
		return 1;
	return -1;
}

/* re.findall(r'\\boxed{(.*?)}', x)[0] */
int score_boxed_content(const char *raw, struct strbuf *out)
{
	const char *p = raw;

	while ((p = strstr(p, "\\boxed{")) != NULL) {
		const char *q = p + 7;

		while (*q && *q != '\n' && *q != '}')
			q++;
		if (*q == '}') {
			strbuf_add(out, p + 7, (size_t)(q - p - 7));
			return 1;
		}
		p += 7;
	}
	return 0;
}

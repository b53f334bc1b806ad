#include "weft/score.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <wctype.h>

#include "weft/utf8.h"
#include "weft/xalloc.h"

/* ---- Python str semantics on UTF-8 -------------------------------------- */

/* Decodes one code point; returns the bytes used (1 for an invalid byte,
 * which is then reported as 0xFFFFFFFF and copied through unchanged). */
static size_t decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_decode(s, len, cp);

	if (!n) {
		*cp = 0xFFFFFFFFu;
		n = 1;
	}
	return n;
}

static size_t utf8_last(const char *s, size_t len, uint32_t *cp);
static int cp_digit(uint32_t cp);

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
static int cp_isalpha(uint32_t cp)
{
	locale_t loc;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	if (cp == 0xFFFFFFFFu || cp_digit(cp) >= 0)
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
static int cp_digit(uint32_t cp)
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
		k = utf8_last((const char *)s, j, &cp);
		j -= k;
		if (!cp_case_ignorable(cp)) {
			before = cp != 0xFFFFFFFFu && cp_is_cased(cp);
			break;
		}
	}
	if (!before)
		return 0;
	for (j = i + n; j < len; j += k) {
		k = decode(s + j, len - j, &cp);
		if (!cp_case_ignorable(cp))
			return !(cp != 0xFFFFFFFFu && cp_is_cased(cp));
	}
	return 1;
}

/* Python s.lower(), appended to out. */
static void py_lower(const char *s, size_t len, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = decode(p + i, len - i, &cp);
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
static size_t utf8_last(const char *s, size_t len, uint32_t *cp)
{
	size_t k;

	for (k = 1; k <= 4 && k <= len; k++) {
		unsigned char c = (unsigned char)s[len - k];

		if ((c & 0xC0) != 0x80) {
			if (decode((const unsigned char *)s + len - k, k, cp) == k)
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
	if (cp_digit(cp) >= 0 || cp_is_combining(cp))
		return 1;
	loc = get_utf8_locale();
	if (loc)
		return iswalnum_l((wint_t)cp, loc) != 0;
	return cp_isalpha(cp);
}

/* Whether the character starting at p (NUL-terminated) is a word
 * character; the NUL is not. */
static int word_at(const char *p)
{
	uint32_t cp;

	if (!*p)
		return 0;
	decode((const unsigned char *)p, strnlen(p, 4), &cp);
	return cp_is_word(cp);
}

/* Whether the character that ends just before p (s the string's start) is
 * a word character; the start of the string is not. */
static int word_before(const char *s, const char *p)
{
	uint32_t cp;

	if (p <= s)
		return 0;
	utf8_last(s, (size_t)(p - s), &cp);
	return cp_is_word(cp);
}

/* The length in bytes of the character at p (NUL-terminated, not at NUL). */
static size_t char_len(const char *p)
{
	uint32_t cp;

	return decode((const unsigned char *)p, strnlen(p, 4), &cp);
}

/* Python s.strip() (Unicode whitespace) in place. */
static void py_strip(struct strbuf *sb)
{
	size_t start = 0, n;
	uint32_t cp;

	while (start < sb->len) {
		n = decode((unsigned char *)sb->data + start, sb->len - start, &cp);
		if (!cp_isspace(cp))
			break;
		start += n;
	}
	while (sb->len > start) {
		n = utf8_last(sb->data + start, sb->len - start, &cp);
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
static void strip_chars(struct strbuf *sb, const char *chars)
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

static void sb_set(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add(&tmp, s, len); /* s may point into sb */
	strbuf_reset(sb);
	strbuf_add(sb, tmp.data, tmp.len);
	strbuf_release(&tmp);
}

/* s.split(sep)[0] */
static void cut_before(struct strbuf *sb, const char *sep)
{
	const char *p = strstr(sb->data, sep);

	if (p)
		strbuf_truncate(sb, (size_t)(p - sb->data));
}

static const char *find_last(const char *s, const char *sep)
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
static int keep_after_last(struct strbuf *sb, const char *sep)
{
	const char *p = find_last(sb->data, sep);

	if (!p)
		return 0;
	p += strlen(sep);
	sb_set(sb, p, sb->len - (size_t)(p - sb->data));
	return 1;
}

/* s.replace(from, to); an empty `from` leaves s as is here (the callers
 * never rely on Python's insert-between-every-character behaviour). */
static void replace_all(struct strbuf *sb, const char *from, const char *to)
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

static int is_ascii_punct(int c)
{
	return c > 0 && c < 0x80 && ispunct(c);
}

/* s.translate(maketrans('', '', string.punctuation)) */
static void remove_punct(struct strbuf *sb)
{
	size_t i, j = 0;

	for (i = 0; i < sb->len; i++)
		if (!is_ascii_punct((unsigned char)sb->data[i]))
			sb->data[j++] = sb->data[i];
	strbuf_truncate(sb, j);
}

/* Python str.isalpha(): non-empty and every code point a letter. */
static int py_isalpha(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	if (!len)
		return 0;
	while (i < len) {
		i += decode((const unsigned char *)s + i, len - i, &cp);
		if (!cp_isalpha(cp))
			return 0;
	}
	return 1;
}

/* Python float(s) succeeds?  Grammar: whitespace, sign, digits with single
 * underscores between digits, optional fraction and exponent, or inf,
 * infinity, nan; ASCII digits only. */
static int py_is_float(const char *s, double *value)
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
			n = decode(u + i, len - i, &cp);
			if (cp < 0x80)
				strbuf_addch(&t, (int)cp);
			else if (cp_digit(cp) >= 0)
				strbuf_addch(&t, '0' + cp_digit(cp));
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

/* ---- OPRO: get_normalized_prediction ------------------------------------ */

static const char *const opro_question_delims[] = {
    /* MULTILINGUAL_QUESTION_DELIMITER[*]['Q'].strip().lower(), then 'Q:' */
    "\xe0\xa6\xaa\xe0\xa7\x8d\xe0\xa6\xb0\xe0\xa6\xb6\xe0\xa7\x8d\xe0\xa6\xa8:", /* bn */
    "frage:",
    "question:",
    "pregunta:",
    "question :",
    "\xe5\x95\x8f\xe9\xa1\x8c\xef\xbc\x9a",		 /* ja */
    "\xd0\xb7\xd0\xb0\xd0\xb4\xd0\xb0\xd1\x87\xd0\xb0:", /* ru */
    "swali:",
    "\xe0\xb0\xaa\xe0\xb1\x8d\xe0\xb0\xb0\xe0\xb0\xb6\xe0\xb1\x8d\xe0\xb0\xa8:", /* te */
    "\xe0\xb9\x82\xe0\xb8\x88\xe0\xb8\x97\xe0\xb8\xa2\xe0\xb9\x8c:",		 /* th */
    "\xe9\x97\xae\xe9\xa2\x98\xef\xbc\x9a",					 /* zh */
    "q:",
};

/* MULTILINGUAL_QUESTION_DELIMITER[*]['A'].lower() (not stripped), in the
 * dict's order; the "-en" copies repeat English and change nothing. */
static const char *const opro_step_markers[] = {
    "\xe0\xa6\xa7\xe0\xa6\xbe\xe0\xa6\xaa\xe0\xa7\x87 \xe0\xa6\xa7\xe0\xa6\xbe\xe0\xa6\xaa\xe0\xa7"
    "\x87 \xe0\xa6\x89\xe0\xa6\xa4\xe0\xa7\x8d\xe0\xa6\xa4\xe0\xa6\xb0: ", /* bn */
    "schritt-f\xc3\xbcr-schritt-antwort: ",
    "step-by-step answer: ",
    "respuesta paso a paso: ",
    "r\xc3\xa9ponse \xc3\xa9tape par \xc3\xa9tape : ",
    "\xe3\x82\xb9\xe3\x83\x86\xe3\x83\x83\xe3\x83\x97\xe3\x81\x94\xe3\x81\xa8\xe3\x81\xae\xe7\xad"
    "\x94\xe3\x81\x88\xef\xbc\x9a", /* ja */
    "\xd0\xbf\xd0\xbe\xd1\x88\xd0\xb0\xd0\xb3\xd0\xbe\xd0\xb2\xd0\xbe\xd0\xb5 \xd1\x80\xd0\xb5\xd1"
    "\x88\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5: ", /* ru */
    "jibu la hatua kwa hatua: ",
    "\xe0\xb0\xa6\xe0\xb0\xb6\xe0\xb0\xb2\xe0\xb0\xb5\xe0\xb0\xbe\xe0\xb0\xb0\xe0\xb1\x80\xe0\xb0"
    "\x97\xe0\xb0\xbe \xe0\xb0\xb8\xe0\xb0\xae\xe0\xb0\xbe\xe0\xb0\xa7\xe0\xb0\xbe\xe0\xb0\xa8\xe0"
    "\xb0\x82: ", /* te */
    "\xe0\xb8\x84\xe0\xb8\xb3\xe0\xb8\x95\xe0\xb8\xad\xe0\xb8\x9a\xe0\xb8\x97\xe0\xb8\xb5\xe0\xb8"
    "\xa5\xe0\xb8\xb0\xe0\xb8\x82\xe0\xb8\xb1\xe0\xb9\x89\xe0\xb8\x99\xe0\xb8\x95\xe0\xb8\xad\xe0"
    "\xb8\x99: ",						    /* th */
    "\xe9\x80\x90\xe6\xad\xa5\xe8\xa7\xa3\xe7\xad\x94\xef\xbc\x9a", /* zh */
    "#### ",
};

static const char *const opro_ahead[] = {
    " is the correct answer",
    " is the right answer",
    " is the final answer",
    " is the answer",
};

static const char *const opro_words[] = {
    "zero",	"one",	   "two",     "three",	   "four",     "five",	   "six",
    "seven",	"eight",   "nine",    "ten",	   "eleven",   "twelve",   "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty",	"forty",   "fifty",   "sixty",	   "seventy",  "eighty",   "ninety",
};
static const char *const opro_word_values[] = {
    "0",  "1",	"2",  "3",  "4",  "5",	"6",  "7",  "8",  "9",	"10", "11", "12", "13",
    "14", "15", "16", "17", "18", "19", "20", "30", "40", "50", "60", "70", "80", "90",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* re.findall(r'\(.*?\)', s)[0]: the first '(' followed on its line by ')'. */
static int first_paren_group(const char *s, size_t *start, size_t *len)
{
	const char *p;

	for (p = s; *p; p++) {
		const char *q;

		if (*p != '(')
			continue;
		for (q = p + 1; *q && *q != '\n' && *q != ')'; q++)
			;
		if (*q == ')') {
			*start = (size_t)(p - s);
			*len = (size_t)(q - p + 1);
			return 1;
		}
	}
	return 0;
}

/* re.search(r'(\d+)(?!.*\d)', s)[0]: the last run of (Unicode) digits on
 * the first line holding a digit.  Returns 0 when s has no digit. */
static int last_digit_run(const char *s, size_t *start, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t total = strlen(s), i = 0, n, run_start = 0, run_end = 0;
	int found = 0, in_run = 0;
	uint32_t cp;

	while (i < total) {
		n = decode(u + i, total - i, &cp);
		if (cp == '\n' && found)
			break;
		if (cp_digit(cp) >= 0) {
			if (!in_run)
				run_start = i;
			run_end = i + n;
			in_run = 1;
			found = 1;
		} else {
			in_run = 0;
		}
		i += n;
	}
	if (!found)
		return 0;
	*start = run_start;
	*len = run_end - run_start;
	return 1;
}

static void opro_parse_number(const char *text, int indicated, int decimals, struct strbuf *out)
{
	struct strbuf s = STRBUF_INIT;
	const char *tok_start = NULL;
	size_t tok_len = 0, i, n_tok = 0, start, len;
	const char *p;
	double v;
	uint32_t cp;

	strbuf_addstr(&s, text);
	keep_after_last(&s, "=");
	replace_all(&s, "$", "");
	replace_all(&s, ",", "");
	replace_all(&s, "%", "");
	replace_all(&s, "\xe2\x82\xac", "");
	replace_all(&s, "\xc2\xa3", "");
	cut_before(&s, ":");
	py_strip(&s);
	for (i = 0; i < NELEM(opro_words); i++)
		replace_all(&s, opro_words[i], opro_word_values[i]);

	/* split(' '), scanned forwards or backwards; the default is the first
	 * token in scan order, the pick the first that is not all letters. */
	{
		const char **starts = NULL;
		size_t *lens = NULL, cap1 = 0, cap2 = 0, k;

		p = s.data;
		for (;;) {
			const char *sp = strchr(p, ' ');
			size_t l = sp ? (size_t)(sp - p) : strlen(p);

			XGROW(starts, cap1, n_tok + 1);
			XGROW(lens, cap2, n_tok + 1);
			starts[n_tok] = p;
			lens[n_tok] = l;
			n_tok++;
			if (!sp)
				break;
			p = sp + 1;
		}
		for (k = 0; k < n_tok; k++) {
			size_t j = indicated ? k : n_tok - 1 - k;

			if (k == 0) {
				tok_start = starts[j];
				tok_len = lens[j];
			}
			if (!py_isalpha(starts[j], lens[j])) {
				tok_start = starts[j];
				tok_len = lens[j];
				break;
			}
		}
		{
			struct strbuf tok = STRBUF_INIT;

			strbuf_add(&tok, tok_start, tok_len);
			strbuf_reset(&s);
			strbuf_add(&s, tok.data, tok.len);
			strbuf_release(&tok);
		}
		free(starts);
		free(lens);
	}
	while (s.len) {
		size_t n = utf8_last(s.data, s.len, &cp);

		if (!cp_isalpha(cp))
			break;
		strbuf_truncate(&s, s.len - n);
	}
	if (s.len && s.data[s.len - 1] == '-')
		strbuf_truncate(&s, s.len - 1);

	if (py_is_float(s.data, &v)) {
		/* round(x, d) then '{:.df}': both round the exact binary value
		 * half-even (Python's dtoa, glibc's printf), so printing with d
		 * decimals directly gives the same text (18.5 -> 18, -0.4 -> -0). */
		if (isfinite(v))
			strbuf_addf(out, "%.*f", decimals, v);
		else
			strbuf_addstr(out, isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
	} else if (last_digit_run(s.data, &start, &len)) {
		strbuf_add(out, s.data + start, len);
	} else {
		strbuf_addstr(out, s.data);
	}
	strbuf_release(&s);
}

static void opro_normalize(const char *raw, int treat_as_number, int treat_as_bool, int decimals,
			   struct strbuf *out)
{
	struct strbuf s = STRBUF_INIT;
	int primary, indicated = 0, distinct = 0;
	size_t i, start, len;
	char probe[4] = "(a)";

	py_lower(raw, strlen(raw), &s);
	py_strip(&s);
	primary =
	    strstr(raw, "answer is ") || strstr(raw, "answer: ") || strstr(raw, "answer is: ");

	for (i = 0; i < NELEM(opro_question_delims); i++)
		cut_before(&s, opro_question_delims[i]);
	for (i = 0; i < NELEM(opro_step_markers); i++)
		if (keep_after_last(&s, opro_step_markers[i]))
			indicated = 1;
	if (primary) {
		static const char *const m[] = {"answer is ", "answer: ", "answer is: "};

		for (i = 0; i < NELEM(m); i++)
			if (keep_after_last(&s, m[i]))
				indicated = 1;
	} else {
		static const char *const m[] = {"is: ", "are: "};

		for (i = 0; i < NELEM(m); i++)
			if (keep_after_last(&s, m[i]))
				indicated = 1;
	}
	for (i = 0; i < NELEM(opro_ahead); i++) {
		if (strstr(s.data, opro_ahead[i])) {
			cut_before(&s, opro_ahead[i]);
			indicated = 1;
		}
	}
	py_strip(&s);
	cut_before(&s, "this is the solution:");
	while (s.len && s.data[s.len - 1] == '.')
		strbuf_truncate(&s, s.len - 1);
	while (s.len && s.data[s.len - 1] == '\'')
		strbuf_truncate(&s, s.len - 1);

	/* _extract_bracketed_choice_from_string (lowercases again) */
	{
		struct strbuf low = STRBUF_INIT;

		py_lower(s.data, s.len, &low);
		strbuf_reset(&s);
		strbuf_add(&s, low.data, low.len);
		strbuf_release(&low);
	}
	for (probe[1] = 'a'; probe[1] <= 'z'; probe[1]++)
		if (strstr(s.data, probe))
			distinct++;
	if (distinct == 1 && first_paren_group(s.data, &start, &len))
		sb_set(&s, s.data + start, len);

	if (!treat_as_bool) {
		if (!treat_as_number) {
			cut_before(&s, ".");
			strbuf_add(out, s.data, s.len);
		} else {
			opro_parse_number(s.data, indicated, decimals, out);
		}
	} else {
		static const char *const bools[] = {"false", "true",	"no",
						    "yes",   "invalid", "valid"};
		struct strbuf a = STRBUF_INIT, num = STRBUF_INIT;
		int is_bool = 0;

		strbuf_addstr(&a, s.data);
		cut_before(&a, ".");
		opro_parse_number(s.data, indicated, decimals, &num);
		for (i = 0; i < NELEM(bools); i++)
			if (!strcmp(a.data, bools[i]))
				is_bool = 1;
		if (is_bool) {
			sb_set(&s, a.data, a.len);
		} else {
			if (!strcmp(num.data, "0") || !strcmp(num.data, "1"))
				sb_set(&s, num.data[0] == '1' ? "true" : "false",
				       num.data[0] == '1' ? 4 : 5);
			if (!strcmp(a.data, "0") || !strcmp(a.data, "1"))
				sb_set(&s, a.data[0] == '1' ? "true" : "false",
				       a.data[0] == '1' ? 4 : 5);
		}
		remove_punct(&s);
		py_strip(&s);
		strbuf_add(out, s.data, s.len);
		strbuf_release(&a);
		strbuf_release(&num);
	}
	strbuf_release(&s);
}

void score_opro_normalize(const char *raw, int treat_as_number, int treat_as_bool,
			  struct strbuf *out)
{
	opro_normalize(raw, treat_as_number, treat_as_bool, 0, out);
}

/* re.split('|'.join(alts), s)[-1]: the text after the end of the last
 * match, scanning left to right with the alternatives tried in order. */
static void after_last_alt(struct strbuf *sb, const char *const *alts, size_t n)
{
	size_t pos = 0, keep = 0, i;
	int found = 0;

	while (pos < sb->len) {
		for (i = 0; i < n; i++) {
			size_t l = strlen(alts[i]);

			if (!strncmp(sb->data + pos, alts[i], l))
				break;
		}
		if (i < n) {
			pos += strlen(alts[i]);
			keep = pos;
			found = 1;
		} else {
			pos++;
		}
	}
	if (found)
		sb_set(sb, sb->data + keep, sb->len - keep);
}

int score_opro_number_included(const char *target, const char *pred, struct strbuf *parsed)
{
	static const char *const p1[] = {"answer is ", "answer: ", "answer is: "};
	static const char *const p2[] = {"is: ", "are: "};
	struct strbuf t = STRBUF_INIT, p = STRBUF_INIT;
	int primary = 0, secondary = 0, ahead = 0, numeric, decimals = 0, correct;
	size_t i;
	double tv, pv;

	for (i = 0; i < NELEM(p1); i++)
		primary |= strstr(target, p1[i]) != NULL;
	for (i = 0; i < NELEM(p2); i++)
		secondary |= strstr(target, p2[i]) != NULL;
	py_lower(target, strlen(target), &t);
	for (i = 0; i < NELEM(opro_ahead); i++)
		ahead |= strstr(t.data, opro_ahead[i]) != NULL;
	if (primary || secondary || ahead || strstr(t.data, "#### ")) {
		const char *first = NULL;

		if (primary)
			after_last_alt(&t, p1, NELEM(p1));
		else if (secondary)
			after_last_alt(&t, p2, NELEM(p2));
		for (i = 0; i < NELEM(opro_ahead); i++) {
			const char *q = strstr(t.data, opro_ahead[i]);

			if (q && (!first || q < first))
				first = q;
		}
		if (first)
			strbuf_truncate(&t, (size_t)(first - t.data));
		keep_after_last(&t, "#### ");
		if (t.len && strchr(";,.", t.data[t.len - 1])) {
			struct strbuf u = STRBUF_INIT;

			strbuf_add(&u, t.data, t.len - 1);
			if (py_is_float(u.data, NULL))
				strbuf_truncate(&t, t.len - 1);
			strbuf_release(&u);
		}
	}
	numeric = py_is_float(t.data, &tv);
	if (numeric && strchr(t.data, '.'))
		decimals = (int)strlen(strrchr(t.data, '.') + 1);
	opro_normalize(pred, numeric, 0, decimals, &p);
	if (!numeric) {
		correct = !strcmp(t.data, p.data);
	} else if (py_is_float(p.data, &pv)) {
		struct strbuf r = STRBUF_INIT;

		strbuf_addf(&r, "%.*f", decimals, pv); /* round(pv, decimals) */
		correct = fabs(strtod(r.data, NULL) - tv) <= 1e-5;
		strbuf_release(&r);
	} else {
		correct = 0;
	}
	if (parsed)
		strbuf_add(parsed, p.data, p.len);
	strbuf_release(&t);
	strbuf_release(&p);
	return correct;
}

/* ---- OPRO: _get_accuracy ------------------------------------------------- */

static int is_bracketed_lower(const char *s)
{
	return s[0] == '(' && s[1] >= 'a' && s[1] <= 'z' && s[2] == ')' && !s[3];
}

/* The option texts of input_text: re.split on (A)..(Z) and A:, first piece
 * dropped, each stripped, lowercased, cut at its first newline. */
static size_t option_texts(const char *input, char ***out)
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
				cut_before(&low, "\n");
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

static void free_texts(char **t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i]);
	free(t);
}

/* remove_punctuation_from_string(s, is_filename=True) then strip() */
static void filename_clean(const char *s, struct strbuf *out)
{
	for (; *s; s++) {
		if (*s == '!')
			strbuf_addstr(out, "<EXCLAMATION>");
		else if (*s == '?')
			strbuf_addstr(out, "<QUESTION>");
		else if (*s == '.')
			strbuf_addstr(out, "<PERIOD>");
		else if (!is_ascii_punct((unsigned char)*s))
			strbuf_addch(out, *s);
	}
	py_strip(out);
}

static int bool_meaning(const char *s)
{
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "invalid"))
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "valid"))
		return 1;
	return -1;
}

int score_opro_accuracy(const char *target, const char *pred, const char *input_text,
			int include_rule)
{
	struct strbuf t = STRBUF_INIT, p = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
	char **texts = NULL;
	size_t n_texts = 0;
	const char *true_text = "";
	int included, mc = input_text && *input_text, ok = 0, result = 0;
	int meaning;

	py_lower(target, strlen(target), &t);
	py_lower(pred, strlen(pred), &p);
	included = strstr(p.data, t.data) != NULL;
	if (mc) {
		int true_idx, n_symbols = 0;
		char sym[4] = "(A)";

		/* `x in string.ascii_lowercase` is a substring test: "" and
		 * "ab" pass too, and are then bracketed. */
		if (strstr(letters, t.data)) {
			strbuf_reset(&a);
			strbuf_addf(&a, "(%s)", t.data);
			sb_set(&t, a.data, a.len);
		}
		if (strstr(letters, p.data)) {
			strbuf_reset(&a);
			strbuf_addf(&a, "(%s)", p.data);
			sb_set(&p, a.data, a.len);
		}
		if (!is_bracketed_lower(t.data)) {
			result = 0;
			goto out;
		}
		true_idx = t.data[1] - 'a';
		n_texts = option_texts(input_text, &texts);
		if ((size_t)true_idx >= n_texts) {
			result = -1; /* OPRO: IndexError */
			goto out;
		}
		true_text = texts[true_idx];
		for (sym[1] = 'A'; sym[1] <= 'Z'; sym[1]++) {
			if (!strstr(input_text, sym))
				break;
			if (sym[1] - 'A' != true_idx && (size_t)(sym[1] - 'A') >= n_texts) {
				result = -1;
				goto out;
			}
			n_symbols++;
		}
		/* option text checks */
		if (!strcmp(p.data, true_text))
			ok = 1;
		strbuf_reset(&a);
		filename_clean(p.data, &a);
		if (!strcmp(a.data, true_text))
			ok = 1;
		if (strstr(p.data, true_text)) {
			int true_in_other = 0, other_found = 0, k;

			for (k = 0; k < n_symbols; k++)
				if (k != true_idx && strstr(texts[k], true_text))
					true_in_other = 1;
			strbuf_reset(&b);
			strbuf_addstr(&b, p.data);
			if (!true_in_other)
				replace_all(&b, true_text, "");
			for (k = 0; k < n_symbols; k++)
				if (k != true_idx && strstr(b.data, texts[k]))
					other_found = 1;
			if (!other_found)
				ok = 1;
		}
	}
	if (is_bracketed_lower(t.data))
		sb_set(&t, t.data + 1, 1);
	if (is_bracketed_lower(p.data))
		sb_set(&p, p.data + 1, 1);
	if (!strcmp(p.data, t.data))
		ok = 1;
	strbuf_reset(&a);
	strbuf_reset(&b);
	strbuf_addstr(&a, p.data);
	strbuf_addstr(&b, t.data);
	remove_punct(&a);
	remove_punct(&b);
	py_strip(&a);
	py_strip(&b);
	if (!strcmp(a.data, b.data))
		ok = 1;
	meaning = bool_meaning(t.data);
	if (meaning >= 0) {
		const char *want = meaning ? "true" : "false";

		if (!strcmp(p.data, "0"))
			sb_set(&p, "false", 5);
		else if (!strcmp(p.data, "1"))
			sb_set(&p, "true", 4);
		strbuf_reset(&a);
		strbuf_addstr(&a, p.data);
		py_strip(&a);
		if (!strcmp(p.data, want) || !strcmp(a.data, want))
			ok = 1;
	}
	result = ok || (include_rule && included);
out:
	free_texts(texts, n_texts);
	strbuf_release(&t);
	strbuf_release(&p);
	strbuf_release(&a);
	strbuf_release(&b);
	return result;
}

/* re.findall(r'\\boxed{(.*?)}', x)[0] */
static int boxed_content(const char *raw, struct strbuf *out)
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

static void score_opro(const char *raw, const char *target, enum score_type type,
		       const char *prompt, int scorer_is_gpt, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT;
	int acc;

	if (scorer_is_gpt && strstr(raw, "\\boxed")) {
		if (!boxed_content(raw, &s)) {
			out->outcome = SCORE_UNPARSED;
			out->note = "\\boxed without {...} on one line (OPRO raises IndexError)";
			out->parsed = strbuf_detach(&s, NULL);
			return;
		}
	} else {
		score_opro_normalize(raw, type == SCORE_NUMBER, type == SCORE_BOOLEAN, &s);
	}
	strip_chars(&s, ":");
	py_strip(&s);
	cut_before(&s, "\n");
	cut_before(&s, "Q:");
	acc = score_opro_accuracy(target, s.data, type == SCORE_CHOICE && prompt ? prompt : "",
				  type != SCORE_NUMBER);
	if (acc < 0) {
		out->outcome = SCORE_UNPARSED;
		out->note =
		    "target letter has no option text in the prompt (OPRO raises IndexError)";
	} else {
		out->outcome = acc ? SCORE_CORRECT : SCORE_WRONG;
	}
	out->parsed = strbuf_detach(&s, NULL);
}

/* ---- strict -------------------------------------------------------------- */

/* Phrases that make an answer a hedge or refusal (matched on lowercase text
 * with apostrophes normalised). */
static const char *const strict_hedges[] = {
    "not sure",
    "unsure",
    "i don't know",
    "i do not know",
    "don't know",
    "cannot answer",
    "can't answer",
    "cannot determine",
    "can't determine",
    "cannot be determined",
    "unable to",
    "i'm sorry",
    "i am sorry",
    "as an ai",
    "as a language model",
    "it depends",
    "depends on",
    "hard to say",
    "difficult to say",
    "impossible to say",
    "not enough information",
    "insufficient information",
    "no way to know",
    "cannot say",
    "can't say",
    "i won't",
    "i will not",
    "i refuse",
    "not possible to",
    "unclear",
    "uncertain",
    "maybe",
    "perhaps",
    "possibly",
    "either",
    "unknown",
    "cannot be sure",
    "can't be sure",
    "no idea",
};

static int strict_is_hedge(const char *low)
{
	size_t i;

	for (i = 0; i < NELEM(strict_hedges); i++) {
		const char *h = strict_hedges[i];
		const char *p = strstr(low, h);

		while (p) {
			size_t n = strlen(h);
			int left = !word_before(low, p);
			int right = !word_at(p + n);

			if (left && right)
				return 1;
			p = strstr(p + 1, h);
		}
	}
	return 0;
}

/* Lowercase, typographic apostrophes and dashes to ASCII, markdown emphasis
 * and backticks removed, trimmed. */
static void strict_prepare(const char *raw, struct strbuf *out)
{
	struct strbuf low = STRBUF_INIT;

	py_lower(raw, strlen(raw), &low);
	replace_all(&low, "\xe2\x80\x99", "'");
	replace_all(&low, "\xe2\x80\x98", "'");
	replace_all(&low, "\xe2\x80\x93", "-");
	replace_all(&low, "\xe2\x80\x94", "-");
	replace_all(&low, "**", "");
	replace_all(&low, "`", "");
	replace_all(&low, "__", "");
	py_strip(&low);
	strbuf_add(out, low.data, low.len);
	strbuf_release(&low);
}

/* Keeps the text after the last answer marker, if any; returns whether one
 * was found.  `\boxed{x}` wins over everything. */
static int strict_after_marker(struct strbuf *s)
{
	static const char *const markers[] = {
	    "final answer is",	 "final answer:", "the answer is", "answer is",
	    "answer:",		 "answer -",	  "####",	   "correct option is",
	    "correct choice is", "my answer:",
	};
	struct strbuf box = STRBUF_INIT;
	size_t i;
	const char *best = NULL;
	size_t best_len = 0;

	if (boxed_content(s->data, &box)) {
		sb_set(s, box.data, box.len);
		strbuf_release(&box);
		return 1;
	}
	strbuf_release(&box);
	for (i = 0; i < NELEM(markers); i++) {
		const char *p = find_last(s->data, markers[i]);

		if (p && (!best || p > best)) {
			best = p;
			best_len = strlen(markers[i]);
		}
	}
	if (!best) {
		/* a leading "a:" (the answer line of a Q/A prompt) */
		if (s->data[0] == 'a' && s->data[1] == ':') {
			sb_set(s, s->data + 2, s->len - 2);
			py_strip(s);
			return 1;
		}
		return 0;
	}
	best += best_len;
	sb_set(s, best, s->len - (size_t)(best - s->data));
	strip_chars(s, ": \t\n");
	py_strip(s);
	return 1;
}

/* Splits into words (runs of word characters of any script, cp_is_word)
 * and reports them in order, each cut to its first 15 bytes (enough for
 * every word compared). */
static size_t strict_words(const char *s, char words[][16], size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		size_t k = 0;

		while (*s && !word_at(s))
			s += char_len(s);
		if (!*s)
			break;
		while (word_at(s)) {
			size_t c = char_len(s);

			while (c--) {
				if (k < 15)
					words[n][k++] = *s;
				s++;
			}
		}
		words[n][k] = '\0';
		n++;
	}
	return n;
}

static void strict_boolean(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	char words[256][16]; /* the first 256 words are read */
	size_t n, i;
	int meaning = -1, want, ambiguous = 0;
	struct strbuf word = STRBUF_INIT;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	remove_punct(&tg);
	want = bool_meaning(tg.data);
	strict_after_marker(&s);
	cut_before(&s, "\n\n");
	if (strict_is_hedge(s.data)) {
		out->outcome = SCORE_UNPARSED;
		out->note = "hedge or refusal";
		goto done;
	}
	n = strict_words(s.data, words, 256);
	for (i = 0; i < n; i++) {
		int m = bool_meaning(words[i]), negated = 0;

		if (i == 0 && (!strcmp(words[i], "correct") || !strcmp(words[i], "right")))
			m = 1;
		if (i == 0 && (!strcmp(words[i], "incorrect") || !strcmp(words[i], "wrong")))
			m = 0;
		if (!strcmp(words[i], "not") && i + 1 < n && bool_meaning(words[i + 1]) >= 0) {
			m = !bool_meaning(words[i + 1]); /* "not true", "not valid" */
			negated = 1;
			i++;
		}
		if (m < 0)
			continue;
		if (meaning < 0) {
			meaning = m;
			strbuf_reset(&word);
			if (negated)
				strbuf_addstr(&word, "not ");
			strbuf_addstr(&word, words[i]);
			if (i == 0 || (negated && i == 1))
				break; /* "No, it is not true" reads as its first word */
		} else if (m != meaning) {
			ambiguous = 1;
		}
	}
	if (meaning < 0 || ambiguous) {
		out->outcome = SCORE_UNPARSED;
		out->note = meaning < 0 ? "no yes/no answer" : "both yes and no";
		goto done;
	}
	strbuf_reset(&s);
	strbuf_addstr(&s, word.data);
	out->outcome = (want >= 0 && meaning == want) ? SCORE_CORRECT : SCORE_WRONG;
	if (want < 0)
		out->note = "target is not a boolean word";
done:
	out->parsed = strbuf_detach(&s, NULL);
	strbuf_release(&tg);
	strbuf_release(&word);
}

static const char *const strict_units[] = {
    "zero",	"one",	   "two",     "three",	   "four",     "five",	   "six",
    "seven",	"eight",   "nine",    "ten",	   "eleven",   "twelve",   "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
};
static const char *const strict_tens[] = {"twenty", "thirty",  "forty",	 "fifty",
					  "sixty",  "seventy", "eighty", "ninety"};

/* Reads a number word phrase at *p ("twenty-one", "one hundred and five",
 * "three thousand"); returns 1 and advances on success. */
static int strict_number_words(const char **pp, double *value)
{
	const char *p = *pp;
	double total = 0, group = 0;
	int any = 0;

	for (;;) {
		size_t i, best = 0;
		double v = -1;

		for (i = 0; i < NELEM(strict_units); i++) {
			size_t n = strlen(strict_units[i]);

			if (!strncmp(p, strict_units[i], n) && !word_at(p + n) && n > best) {
				best = n;
				v = (double)i;
			}
		}
		for (i = 0; i < NELEM(strict_tens); i++) {
			size_t n = strlen(strict_tens[i]);

			if (!strncmp(p, strict_tens[i], n) && !word_at(p + n) && n > best) {
				best = n;
				v = (double)(20 + 10 * i);
			}
		}
		if (best) {
			group += v;
			p += best;
			any = 1;
		} else if (any && !strncmp(p, "hundred", 7) && !word_at(p + 7)) {
			group *= 100;
			p += 7;
		} else if (any && !strncmp(p, "thousand", 8) && !word_at(p + 8)) {
			total += group * 1000;
			group = 0;
			p += 8;
		} else if (any && !strncmp(p, "million", 7) && !word_at(p + 7)) {
			total += group * 1e6;
			group = 0;
			p += 7;
		} else {
			break;
		}
		*pp = p;
		/* connectors between parts */
		if (*p == '-' && isalpha((unsigned char)p[1]))
			p++;
		else if (*p == ' ' && !strncmp(p + 1, "and ", 4))
			p += 5;
		else if (*p == ' ')
			p++;
		else
			break;
	}
	if (!any)
		return 0;
	*value = total + group;
	return 1;
}

/* Finds the numbers of s in order (digits with thousands separators,
 * decimals, signs, or number words); stores the first and the last, returns
 * how many. */
static size_t strict_numbers(const char *s, double *first, double *last)
{
	const char *p = s;
	size_t n = 0;

	while (*p) {
		double v;

		if (isdigit((unsigned char)*p) ||
		    ((*p == '-' || *p == '+' || *p == '.') && isdigit((unsigned char)p[1]) &&
		     !word_before(s, p))) {
			struct strbuf num = STRBUF_INIT;
			const char *q = p;

			if (*q == '-' || *q == '+')
				strbuf_addch(&num, *q++);
			while (isdigit((unsigned char)*q) ||
			       (*q == ',' && isdigit((unsigned char)q[1]) &&
				isdigit((unsigned char)q[2]) && isdigit((unsigned char)q[3]) &&
				!isdigit((unsigned char)q[4])) ||
			       (*q == '.' && isdigit((unsigned char)q[1]))) {
				if (*q != ',')
					strbuf_addch(&num, *q);
				q++;
			}
			*last = strtod(num.data, NULL);
			if (!n++)
				*first = *last;
			strbuf_release(&num);
			p = q;
			continue;
		}
		if (isalpha((unsigned char)*p) && !word_before(s, p) &&
		    strict_number_words(&p, &v)) {
			*last = v;
			if (!n++)
				*first = v;
			continue;
		}
		p++;
	}
	return n;
}

static void strict_number(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	double first = 0, last = 0, tv = 0, tv_last;
	size_t n;
	int marked;
	double v, tol;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	marked = strict_after_marker(&s);
	if (strict_is_hedge(s.data)) {
		out->outcome = SCORE_UNPARSED;
		out->note = "hedge or refusal";
		out->parsed = strbuf_detach(&s, NULL);
		strbuf_release(&tg);
		return;
	}
	n = strict_numbers(s.data, &first, &last);
	strbuf_reset(&s);
	if (!n) {
		out->outcome = SCORE_UNPARSED;
		out->note = "no number";
		goto done;
	}
	/* after a marker the first number is the answer; otherwise the last */
	v = marked ? first : last;
	strbuf_addf(&s, "%.15g", v);
	if (strict_numbers(tg.data, &tv, &tv_last) < 1) {
		out->outcome = SCORE_WRONG;
		out->note = "target is not a number";
		goto done;
	}
	tol = 1e-9 * fmax(1.0, fabs(tv));
	out->outcome = fabs(v - tv) <= tol ? SCORE_CORRECT : SCORE_WRONG;
done:
	out->parsed = strbuf_detach(&s, NULL);
	strbuf_release(&tg);
}

/* A choice letter in s (lowercase): one distinct "(x)"; else a letter
 * standing as the first word ("b", "b)", "b.", "b is ..."; the words "a"
 * and "i" only when followed by is/because/since); else "option x".
 * Returns the letter, 0 when none, '?' when several. */
static int strict_letter(const char *s)
{
	char probe[4] = "(a)";
	int found = 0, count = 0;

	for (probe[1] = 'a'; probe[1] <= 'z'; probe[1]++) {
		if (strstr(s, probe)) {
			count++;
			found = probe[1];
		}
	}
	if (count > 1)
		return '?';
	if (count == 1)
		return found;
	if (isalpha((unsigned char)s[0]) && !word_at(s + 1)) {
		if (s[1] != ' ')
			return s[0];
		if ((s[0] != 'a' && s[0] != 'i') || !strncmp(s + 2, "is", 2) ||
		    !strncmp(s + 2, "because", 7) || !strncmp(s + 2, "since", 5))
			return s[0];
	}
	{
		const char *p = strstr(s, "option ");

		if (p && isalpha((unsigned char)p[7]) && !word_at(p + 8))
			return p[7];
	}
	return 0;
}

static void strict_choice(const char *raw, const char *target, const char *prompt,
			  struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	int letter, want;
	char **texts = NULL;
	size_t n_texts = 0;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	strict_after_marker(&s);
	cut_before(&s, "\n");
	want = strict_letter(tg.data);
	if (!want || want == '?') {
		out->outcome = SCORE_WRONG;
		out->note = "target is not a choice letter";
		goto done;
	}
	if (strict_is_hedge(s.data)) {
		out->outcome = SCORE_UNPARSED;
		out->note = "hedge or refusal";
		goto done;
	}
	letter = strict_letter(s.data);
	if (!letter && prompt && *prompt) {
		/* the text of exactly one option, as a whole phrase */
		size_t i;
		int hits = 0;

		n_texts = option_texts(prompt, &texts);
		for (i = 0; i < n_texts && i < 26; i++) {
			struct strbuf t = STRBUF_INIT;

			strbuf_addstr(&t, texts[i]);
			while (t.len && is_ascii_punct((unsigned char)t.data[t.len - 1]))
				strbuf_truncate(&t, t.len - 1);
			if (t.len) {
				const char *p = strstr(s.data, t.data);

				if (p && !word_before(s.data, p) && !word_at(p + t.len)) {
					hits++;
					letter = 'a' + (int)i;
				}
			}
			strbuf_release(&t);
		}
		if (hits > 1)
			letter = '?';
	}
	if (!letter || letter == '?') {
		out->outcome = SCORE_UNPARSED;
		out->note = letter ? "several options named" : "no option found";
		goto done;
	}
	strbuf_reset(&s);
	strbuf_addch(&s, toupper(letter));
	out->outcome = letter == want ? SCORE_CORRECT : SCORE_WRONG;
done:
	free_texts(texts, n_texts);
	out->parsed = strbuf_detach(&s, NULL);
	strbuf_release(&tg);
}

/* Lowercase, ASCII punctuation removed, whitespace collapsed, leading
 * article dropped. */
static void strict_text_norm(struct strbuf *s)
{
	struct strbuf t = STRBUF_INIT;
	size_t i;
	int space = 0;

	remove_punct(s);
	py_strip(s);
	for (i = 0; i < s->len; i++) {
		if (isspace((unsigned char)s->data[i])) {
			space = 1;
			continue;
		}
		if (space && t.len)
			strbuf_addch(&t, ' ');
		space = 0;
		strbuf_addch(&t, s->data[i]);
	}
	if (!strncmp(t.data, "the ", 4))
		sb_set(&t, t.data + 4, t.len - 4);
	else if (!strncmp(t.data, "an ", 3))
		sb_set(&t, t.data + 3, t.len - 3);
	else if (!strncmp(t.data, "a ", 2))
		sb_set(&t, t.data + 2, t.len - 2);
	strbuf_reset(s);
	strbuf_add(s, t.data, t.len);
	strbuf_release(&t);
}

static void strict_text(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	strict_after_marker(&s);
	cut_before(&s, "\n");
	if (strict_is_hedge(s.data)) {
		out->outcome = SCORE_UNPARSED;
		out->note = "hedge or refusal";
		out->parsed = strbuf_detach(&s, NULL);
		strbuf_release(&tg);
		return;
	}
	strict_text_norm(&s);
	strict_text_norm(&tg);
	if (!s.len) {
		out->outcome = SCORE_UNPARSED;
		out->note = "empty answer";
	} else {
		out->outcome = !strcmp(s.data, tg.data) ? SCORE_CORRECT : SCORE_WRONG;
	}
	out->parsed = strbuf_detach(&s, NULL);
	strbuf_release(&tg);
}

/* ---- public -------------------------------------------------------------- */

int score_answer(const char *raw, const char *target, enum score_type type, enum score_rules rules,
		 const char *prompt, int scorer_is_gpt, struct score_result *out)
{
	out->parsed = NULL;
	out->note = NULL;
	out->outcome = SCORE_WRONG;
	if (rules == SCORE_OPRO) {
		score_opro(raw, target, type, prompt, scorer_is_gpt, out);
		return 0;
	}
	switch (type) {
	case SCORE_BOOLEAN: strict_boolean(raw, target, out); break;
	case SCORE_CHOICE: strict_choice(raw, target, prompt, out); break;
	case SCORE_NUMBER: strict_number(raw, target, out); break;
	case SCORE_TEXT:
	default: strict_text(raw, target, out); break;
	}
	return 0;
}

void score_result_release(struct score_result *r)
{
	free(r->parsed);
	r->parsed = NULL;
	r->note = NULL;
}

int score_target_is_numeric(const char *target)
{
	static const uint32_t cjk[] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D,
				       0x4E03, 0x516B, 0x4E5D, 0x5341, 0x767E, 0x5343, 0x4E07};
	const unsigned char *u = (const unsigned char *)target;
	size_t len = strlen(target), i = 0, k;
	uint32_t cp;

	if (!len)
		return 0;
	while (i < len) {
		int ok = 0;

		i += decode(u + i, len - i, &cp);
		if (cp_digit(cp) >= 0 || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 ||
		    (cp >= 0xBC && cp <= 0xBE) || (cp >= 0x2150 && cp <= 0x2189) ||
		    (cp >= 0x2460 && cp <= 0x249B) ||
		    (cp >= 0x2070 && cp <= 0x2079 && cp != 0x2071 && cp != 0x2072 &&
		     cp != 0x2073) ||
		    (cp >= 0x2080 && cp <= 0x2089))
			ok = 1;
		for (k = 0; !ok && k < NELEM(cjk); k++)
			ok = cp == cjk[k];
		if (!ok)
			return 0;
	}
	return 1;
}

int score_type_parse(const char *name, enum score_type *type)
{
	if (!strcmp(name, "boolean") || !strcmp(name, "bool"))
		*type = SCORE_BOOLEAN;
	else if (!strcmp(name, "choice") || !strcmp(name, "multiple-choice"))
		*type = SCORE_CHOICE;
	else if (!strcmp(name, "number") || !strcmp(name, "numeric"))
		*type = SCORE_NUMBER;
	else if (!strcmp(name, "text"))
		*type = SCORE_TEXT;
	else
		return -1;
	return 0;
}

int score_rules_parse(const char *name, enum score_rules *rules)
{
	if (!strcmp(name, "opro"))
		*rules = SCORE_OPRO;
	else if (!strcmp(name, "strict"))
		*rules = SCORE_STRICT;
	else
		return -1;
	return 0;
}

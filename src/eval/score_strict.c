#include "weft/score.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score_text.h"

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
			int left = !py_word_before(low, p);
			int right = !py_word_at(p + n);

			if (left && right)
				return 1;
			p = strstr(p + 1, h);
		}
	}
	return 0;
}

/* Whether the prepared answer s is a hedge or refusal: then out is
 * unparsed, with the note that says so. */
static int strict_hedged(const char *s, struct score_result *out)
{
	if (!strict_is_hedge(s))
		return 0;
	out->outcome = SCORE_UNPARSED;
	out->note = "hedge or refusal";
	return 1;
}

/* Lowercase, typographic apostrophes and dashes to ASCII, markdown emphasis
 * and backticks removed, trimmed. */
static void strict_prepare(const char *raw, struct strbuf *out)
{
	struct strbuf low = STRBUF_INIT;

	py_lower(raw, strlen(raw), &low);
	py_replace_all(&low, "\xe2\x80\x99", "'");
	py_replace_all(&low, "\xe2\x80\x98", "'");
	py_replace_all(&low, "\xe2\x80\x93", "-");
	py_replace_all(&low, "\xe2\x80\x94", "-");
	py_replace_all(&low, "**", "");
	py_replace_all(&low, "`", "");
	py_replace_all(&low, "__", "");
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

	if (score_boxed_content(s->data, &box)) {
		py_set(s, box.data, box.len);
		strbuf_release(&box);
		return 1;
	}
	strbuf_release(&box);
	for (i = 0; i < NELEM(markers); i++) {
		const char *p = py_find_last(s->data, markers[i]);

		if (p && (!best || p > best)) {
			best = p;
			best_len = strlen(markers[i]);
		}
	}
	if (!best) {
		/* a leading "a:" (the answer line of a Q/A prompt) */
		if (s->data[0] == 'a' && s->data[1] == ':') {
			py_set(s, s->data + 2, s->len - 2);
			py_strip(s);
			return 1;
		}
		return 0;
	}
	best += best_len;
	py_set(s, best, s->len - (size_t)(best - s->data));
	py_strip_chars(s, ": \t\n");
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

		while (*s && !py_word_at(s))
			s += py_char_len(s);
		if (!*s)
			break;
		while (py_word_at(s)) {
			size_t c = py_char_len(s);

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

void strict_boolean(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	char words[256][16]; /* the first 256 words are read */
	size_t n, i;
	int meaning = -1, want, ambiguous = 0;
	struct strbuf word = STRBUF_INIT;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	py_remove_punct(&tg);
	want = score_bool_meaning(tg.data);
	strict_after_marker(&s);
	py_cut_before(&s, "\n\n");
	if (strict_hedged(s.data, out))
		goto done;
	n = strict_words(s.data, words, 256);
	for (i = 0; i < n; i++) {
		int m = score_bool_meaning(words[i]), negated = 0;

		if (i == 0 && (!strcmp(words[i], "correct") || !strcmp(words[i], "right")))
			m = 1;
		if (i == 0 && (!strcmp(words[i], "incorrect") || !strcmp(words[i], "wrong")))
			m = 0;
		if (!strcmp(words[i], "not") && i + 1 < n &&
		    score_bool_meaning(words[i + 1]) >= 0) {
			m = !score_bool_meaning(words[i + 1]); /* "not true", "not valid" */
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

			if (!strncmp(p, strict_units[i], n) && !py_word_at(p + n) && n > best) {
				best = n;
				v = (double)i;
			}
		}
		for (i = 0; i < NELEM(strict_tens); i++) {
			size_t n = strlen(strict_tens[i]);

			if (!strncmp(p, strict_tens[i], n) && !py_word_at(p + n) && n > best) {
				best = n;
				v = (double)(20 + 10 * i);
			}
		}
		if (best) {
			group += v;
			p += best;
			any = 1;
		} else if (any && !strncmp(p, "hundred", 7) && !py_word_at(p + 7)) {
			group *= 100;
			p += 7;
		} else if (any && !strncmp(p, "thousand", 8) && !py_word_at(p + 8)) {
			total += group * 1000;
			group = 0;
			p += 8;
		} else if (any && !strncmp(p, "million", 7) && !py_word_at(p + 7)) {
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
		     !py_word_before(s, p))) {
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
		if (isalpha((unsigned char)*p) && !py_word_before(s, p) &&
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

void strict_number(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	double first = 0, last = 0, tv = 0, tv_last;
	size_t n;
	int marked;
	double v, tol;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	marked = strict_after_marker(&s);
	if (strict_hedged(s.data, out))
		goto done;
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
	if (isalpha((unsigned char)s[0]) && !py_word_at(s + 1)) {
		if (s[1] != ' ')
			return s[0];
		if ((s[0] != 'a' && s[0] != 'i') || !strncmp(s + 2, "is", 2) ||
		    !strncmp(s + 2, "because", 7) || !strncmp(s + 2, "since", 5))
			return s[0];
	}
	{
		const char *p = strstr(s, "option ");

		if (p && isalpha((unsigned char)p[7]) && !py_word_at(p + 8))
			return p[7];
	}
	return 0;
}

void strict_choice(const char *raw, const char *target, const char *prompt,
		   struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;
	int letter, want;
	char **texts = NULL;
	size_t n_texts = 0;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	strict_after_marker(&s);
	py_cut_before(&s, "\n");
	want = strict_letter(tg.data);
	if (!want || want == '?') {
		out->outcome = SCORE_WRONG;
		out->note = "target is not a choice letter";
		goto done;
	}
	if (strict_hedged(s.data, out))
		goto done;
	letter = strict_letter(s.data);
	if (!letter && prompt && *prompt) {
		/* the text of exactly one option, as a whole phrase */
		size_t i;
		int hits = 0;

		n_texts = score_option_texts(prompt, &texts);
		for (i = 0; i < n_texts && i < 26; i++) {
			struct strbuf t = STRBUF_INIT;

			strbuf_addstr(&t, texts[i]);
			while (t.len && py_is_ascii_punct((unsigned char)t.data[t.len - 1]))
				strbuf_truncate(&t, t.len - 1);
			if (t.len) {
				const char *p = strstr(s.data, t.data);

				if (p && !py_word_before(s.data, p) && !py_word_at(p + t.len)) {
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
	score_free_texts(texts, n_texts);
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

	py_remove_punct(s);
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
		py_set(&t, t.data + 4, t.len - 4);
	else if (!strncmp(t.data, "an ", 3))
		py_set(&t, t.data + 3, t.len - 3);
	else if (!strncmp(t.data, "a ", 2))
		py_set(&t, t.data + 2, t.len - 2);
	strbuf_reset(s);
	strbuf_add(s, t.data, t.len);
	strbuf_release(&t);
}

void strict_text(const char *raw, const char *target, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT, tg = STRBUF_INIT;

	strict_prepare(raw, &s);
	strict_prepare(target, &tg);
	strict_after_marker(&s);
	py_cut_before(&s, "\n");
	if (strict_hedged(s.data, out)) {
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

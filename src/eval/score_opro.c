#include "weft/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/xalloc.h"

#include "score_text.h"

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
		n = py_decode(u + i, total - i, &cp);
		if (cp == '\n' && found)
			break;
		if (py_cp_digit(cp) >= 0) {
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

/* The number text's clean-up before a token is picked: the part after the
 * last '=', currency, thousands and percent signs dropped, cut at ':', and
 * number words replaced by digits. */
static void opro_number_clean(struct strbuf *s)
{
	size_t i;

	py_keep_after_last(s, "=");
	py_replace_all(s, "$", "");
	py_replace_all(s, ",", "");
	py_replace_all(s, "%", "");
	py_replace_all(s, "\xe2\x82\xac", "");
	py_replace_all(s, "\xc2\xa3", "");
	py_cut_before(s, ":");
	py_strip(s);
	for (i = 0; i < NELEM(opro_words); i++)
		py_replace_all(s, opro_words[i], opro_word_values[i]);
}

/* split(' '), scanned forwards when the answer was indicated, else
 * backwards; s keeps the first token in scan order that is not all letters,
 * else the first token in scan order. */
static void opro_pick_token(struct strbuf *s, int indicated)
{
	const char **starts = NULL;
	const char *p = s->data, *tok_start = NULL;
	size_t *lens = NULL, cap1 = 0, cap2 = 0, k, n_tok = 0, tok_len = 0;

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
	py_set(s, tok_start, tok_len);
	free(starts);
	free(lens);
}

/* The picked token as OPRO prints it: a float rounded to decimals, else
 * its last run of digits, else as it is. */
static void opro_format_number(const char *tok, int decimals, struct strbuf *out)
{
	size_t start, len;
	double v;

	if (py_is_float(tok, &v)) {
		/* round(x, d) then '{:.df}': both round the exact binary value
		 * half-even (Python's dtoa, glibc's printf), so printing with d
		 * decimals directly gives the same text (18.5 -> 18, -0.4 -> -0). */
		if (isfinite(v))
			strbuf_addf(out, "%.*f", decimals, v);
		else
			strbuf_addstr(out, isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
	} else if (last_digit_run(tok, &start, &len)) {
		strbuf_add(out, tok + start, len);
	} else {
		strbuf_addstr(out, tok);
	}
}

static void opro_parse_number(const char *text, int indicated, int decimals, struct strbuf *out)
{
	struct strbuf s = STRBUF_INIT;
	uint32_t cp;

	strbuf_addstr(&s, text);
	opro_number_clean(&s);
	opro_pick_token(&s, indicated);
	while (s.len) {
		size_t n = py_last_char(s.data, s.len, &cp);

		if (!py_cp_isalpha(cp))
			break;
		strbuf_truncate(&s, s.len - n);
	}
	if (s.len && s.data[s.len - 1] == '-')
		strbuf_truncate(&s, s.len - 1);
	opro_format_number(s.data, decimals, out);
	strbuf_release(&s);
}

/* Keeps the part of the lowercased answer s after the last answer marker
 * and before the question that may follow; returns whether a marker
 * indicated where the answer is (raw is the answer as sent). */
static int opro_cut_to_answer(const char *raw, struct strbuf *s)
{
	static const char *const primary_markers[] = {"answer is ", "answer: ", "answer is: "};
	static const char *const other_markers[] = {"is: ", "are: "};
	int primary, indicated = 0;
	size_t i;

	primary =
	    strstr(raw, "answer is ") || strstr(raw, "answer: ") || strstr(raw, "answer is: ");
	for (i = 0; i < NELEM(opro_question_delims); i++)
		py_cut_before(s, opro_question_delims[i]);
	for (i = 0; i < NELEM(opro_step_markers); i++)
		if (py_keep_after_last(s, opro_step_markers[i]))
			indicated = 1;
	if (primary) {
		for (i = 0; i < NELEM(primary_markers); i++)
			if (py_keep_after_last(s, primary_markers[i]))
				indicated = 1;
	} else {
		for (i = 0; i < NELEM(other_markers); i++)
			if (py_keep_after_last(s, other_markers[i]))
				indicated = 1;
	}
	for (i = 0; i < NELEM(opro_ahead); i++) {
		if (strstr(s->data, opro_ahead[i])) {
			py_cut_before(s, opro_ahead[i]);
			indicated = 1;
		}
	}
	py_strip(s);
	py_cut_before(s, "this is the solution:");
	while (s->len && s->data[s->len - 1] == '.')
		strbuf_truncate(s, s->len - 1);
	while (s->len && s->data[s->len - 1] == '\'')
		strbuf_truncate(s, s->len - 1);
	return indicated;
}

/* _extract_bracketed_choice_from_string (lowercases again): when exactly
 * one of (a)..(z) appears, s becomes its first bracketed group. */
static void opro_bracketed_choice(struct strbuf *s)
{
	struct strbuf low = STRBUF_INIT;
	char probe[4] = "(a)";
	int distinct = 0;
	size_t start, len;

	py_lower(s->data, s->len, &low);
	py_set(s, low.data, low.len);
	strbuf_release(&low);
	for (probe[1] = 'a'; probe[1] <= 'z'; probe[1]++)
		if (strstr(s->data, probe))
			distinct++;
	if (distinct == 1 && first_paren_group(s->data, &start, &len))
		py_set(s, s->data + start, len);
}

/* The boolean reading of s: a boolean word as it is, else 0 or 1 (as a
 * number or as the text before '.') as false or true; punctuation dropped. */
static void opro_normalize_bool(struct strbuf *s, int indicated, int decimals, struct strbuf *out)
{
	static const char *const bools[] = {"false", "true", "no", "yes", "invalid", "valid"};
	struct strbuf a = STRBUF_INIT, num = STRBUF_INIT;
	int is_bool = 0;
	size_t i;

	strbuf_addstr(&a, s->data);
	py_cut_before(&a, ".");
	opro_parse_number(s->data, indicated, decimals, &num);
	for (i = 0; i < NELEM(bools); i++)
		if (!strcmp(a.data, bools[i]))
			is_bool = 1;
	if (is_bool) {
		py_set(s, a.data, a.len);
	} else {
		if (!strcmp(num.data, "0") || !strcmp(num.data, "1"))
			py_set(s, num.data[0] == '1' ? "true" : "false",
			       num.data[0] == '1' ? 4 : 5);
		if (!strcmp(a.data, "0") || !strcmp(a.data, "1"))
			py_set(s, a.data[0] == '1' ? "true" : "false", a.data[0] == '1' ? 4 : 5);
	}
	py_remove_punct(s);
	py_strip(s);
	strbuf_add(out, s->data, s->len);
	strbuf_release(&a);
	strbuf_release(&num);
}

static void opro_normalize(const char *raw, int treat_as_number, int treat_as_bool, int decimals,
			   struct strbuf *out)
{
	struct strbuf s = STRBUF_INIT;
	int indicated;

	py_lower(raw, strlen(raw), &s);
	py_strip(&s);
	indicated = opro_cut_to_answer(raw, &s);
	opro_bracketed_choice(&s);
	if (treat_as_bool) {
		opro_normalize_bool(&s, indicated, decimals, out);
	} else if (treat_as_number) {
		opro_parse_number(s.data, indicated, decimals, out);
	} else {
		py_cut_before(&s, ".");
		strbuf_add(out, s.data, s.len);
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
		py_set(sb, sb->data + keep, sb->len - keep);
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
		py_keep_after_last(&t, "#### ");
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
		else if (!py_is_ascii_punct((unsigned char)*s))
			strbuf_addch(out, *s);
	}
	py_strip(out);
}

/* `x in string.ascii_lowercase` is a substring test: "" and "ab" pass too,
 * and are then bracketed. */
static void bracket_letter(struct strbuf *s)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
	struct strbuf b = STRBUF_INIT;

	if (!strstr(letters, s->data))
		return;
	strbuf_addf(&b, "(%s)", s->data);
	py_set(s, b.data, b.len);
	strbuf_release(&b);
}

/* Whether pred names the true option by its text: equal to it (as is or
 * cleaned like a file name), or holding it and no other option's text
 * (the true text is left out of that search unless another option holds
 * it too). */
static int option_text_matches(const char *pred, char **texts, int n_symbols, int true_idx)
{
	const char *true_text = texts[true_idx];
	struct strbuf a = STRBUF_INIT;
	int ok = 0, true_in_other = 0, other_found = 0, k;

	filename_clean(pred, &a);
	if (!strcmp(pred, true_text) || !strcmp(a.data, true_text))
		ok = 1;
	if (strstr(pred, true_text)) {
		for (k = 0; k < n_symbols; k++)
			if (k != true_idx && strstr(texts[k], true_text))
				true_in_other = 1;
		strbuf_reset(&a);
		strbuf_addstr(&a, pred);
		if (!true_in_other)
			py_replace_all(&a, true_text, "");
		for (k = 0; k < n_symbols; k++)
			if (k != true_idx && strstr(a.data, texts[k]))
				other_found = 1;
		if (!other_found)
			ok = 1;
	}
	strbuf_release(&a);
	return ok;
}

/* The multiple-choice part of _get_accuracy: t and p (lowercased target and
 * prediction) bracketed when they are letters; *ok set when p names the
 * true option by its text.  Returns 1 to go on, 0 when the target is no
 * bracketed letter (not correct), -1 where OPRO raises IndexError. */
static int opro_choice_check(struct strbuf *t, struct strbuf *p, const char *input_text, int *ok)
{
	char **texts = NULL;
	size_t n_texts;
	int true_idx, n_symbols = 0, result = 1;
	char sym[4] = "(A)";

	bracket_letter(t);
	bracket_letter(p);
	if (!is_bracketed_lower(t->data))
		return 0;
	true_idx = t->data[1] - 'a';
	n_texts = score_option_texts(input_text, &texts);
	if ((size_t)true_idx >= n_texts) {
		score_free_texts(texts, n_texts);
		return -1;
	}
	for (sym[1] = 'A'; sym[1] <= 'Z'; sym[1]++) {
		if (!strstr(input_text, sym))
			break;
		if (sym[1] - 'A' != true_idx && (size_t)(sym[1] - 'A') >= n_texts) {
			result = -1;
			break;
		}
		n_symbols++;
	}
	if (result > 0 && option_text_matches(p->data, texts, n_symbols, true_idx))
		*ok = 1;
	score_free_texts(texts, n_texts);
	return result;
}

/* The rest of _get_accuracy's checks: the same letter, the same text
 * without punctuation, or the same boolean (0 and 1 read as false, true). */
static int opro_plain_match(struct strbuf *t, struct strbuf *p)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int ok = 0, meaning;

	if (is_bracketed_lower(t->data))
		py_set(t, t->data + 1, 1);
	if (is_bracketed_lower(p->data))
		py_set(p, p->data + 1, 1);
	if (!strcmp(p->data, t->data))
		ok = 1;
	strbuf_addstr(&a, p->data);
	strbuf_addstr(&b, t->data);
	py_remove_punct(&a);
	py_remove_punct(&b);
	py_strip(&a);
	py_strip(&b);
	if (!strcmp(a.data, b.data))
		ok = 1;
	meaning = score_bool_meaning(t->data);
	if (meaning >= 0) {
		const char *want = meaning ? "true" : "false";

		if (!strcmp(p->data, "0"))
			py_set(p, "false", 5);
		else if (!strcmp(p->data, "1"))
			py_set(p, "true", 4);
		strbuf_reset(&a);
		strbuf_addstr(&a, p->data);
		py_strip(&a);
		if (!strcmp(p->data, want) || !strcmp(a.data, want))
			ok = 1;
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return ok;
}

int score_opro_accuracy(const char *target, const char *pred, const char *input_text,
			int include_rule)
{
	struct strbuf t = STRBUF_INIT, p = STRBUF_INIT;
	int included, ok = 0, result;

	py_lower(target, strlen(target), &t);
	py_lower(pred, strlen(pred), &p);
	included = strstr(p.data, t.data) != NULL;
	result = input_text && *input_text ? opro_choice_check(&t, &p, input_text, &ok) : 1;
	if (result > 0) {
		if (opro_plain_match(&t, &p))
			ok = 1;
		result = ok || (include_rule && included);
	}
	strbuf_release(&t);
	strbuf_release(&p);
	return result;
}

void score_opro(const char *raw, const char *target, enum score_type type, const char *prompt,
		int scorer_is_gpt, struct score_result *out)
{
	struct strbuf s = STRBUF_INIT;
	int acc;

	if (scorer_is_gpt && strstr(raw, "\\boxed")) {
		if (!score_boxed_content(raw, &s)) {
			out->outcome = SCORE_UNPARSED;
			out->note = "\\boxed without {...} on one line (OPRO raises IndexError)";
			out->parsed = strbuf_detach(&s, NULL);
			return;
		}
	} else {
		score_opro_normalize(raw, type == SCORE_NUMBER, type == SCORE_BOOLEAN, &s);
	}
	py_strip_chars(&s, ":");
	py_strip(&s);
	py_cut_before(&s, "\n");
	py_cut_before(&s, "Q:");
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

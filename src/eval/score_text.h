#ifndef WEFT_EVAL_SCORE_TEXT_H
#define WEFT_EVAL_SCORE_TEXT_H
/*
 * Private to src/eval/score*.c: Python str semantics on UTF-8 (what the
 * OPRO scripts call, byte for byte) and the answer-text helpers that both
 * rule sets, OPRO and strict, read answers with.  Defined in score_text.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/score.h"
#include "weft/strbuf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes one code point; returns the bytes used (1 for an invalid byte,
 * which is then reported as 0xFFFFFFFF and copied through unchanged). */
size_t py_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Length of the code point ending at s[len-1] (1 for invalid bytes). */
size_t py_last_char(const char *s, size_t len, uint32_t *cp);
/* The decimal value of a Unicode Nd digit, or -1. */
int py_cp_digit(uint32_t cp);
/* Python's str.isalpha() for one code point. */
int py_cp_isalpha(uint32_t cp);
/* Python s.lower(), appended to out. */
void py_lower(const char *s, size_t len, struct strbuf *out);
/* Whether the character starting at p (NUL-terminated) is a word character
 * of strict scoring (letters, digits, combining marks); the NUL is not. */
int py_word_at(const char *p);
/* Whether the character that ends just before p (s the string's start) is
 * a word character; the start of the string is not. */
int py_word_before(const char *s, const char *p);
/* The length in bytes of the character at p (NUL-terminated, not at NUL). */
size_t py_char_len(const char *p);
/* Python s.strip() (Unicode whitespace) in place. */
void py_strip(struct strbuf *sb);
/* Python s.strip(chars) for ASCII chars. */
void py_strip_chars(struct strbuf *sb, const char *chars);
/* sb = s[0:len]; s may point into sb. */
void py_set(struct strbuf *sb, const char *s, size_t len);
/* s.split(sep)[0] */
void py_cut_before(struct strbuf *sb, const char *sep);
/* The last non-overlapping occurrence of sep in s, or NULL. */
const char *py_find_last(const char *s, const char *sep);
/* s.split(sep)[-1]; returns whether sep was present. */
int py_keep_after_last(struct strbuf *sb, const char *sep);
/* s.replace(from, to); an empty `from` leaves s as is. */
void py_replace_all(struct strbuf *sb, const char *from, const char *to);
/* A character of Python's string.punctuation. */
int py_is_ascii_punct(int c);
/* s.translate(maketrans('', '', string.punctuation)) */
void py_remove_punct(struct strbuf *sb);
/* Python str.isalpha(): non-empty and every code point a letter. */
int py_isalpha(const char *s, size_t len);
/* Whether Python float(s) succeeds; its value in *value (may be NULL). */
int py_is_float(const char *s, double *value);

/* The option texts of input: re.split on (A)..(Z) and A:, first piece
 * dropped, each stripped, lowercased, cut at its first newline.  Returns
 * how many; *out owned, free with score_free_texts. */
size_t score_option_texts(const char *input, char ***out);
void score_free_texts(char **t, size_t n);
/* 1 for true/yes/valid, 0 for false/no/invalid, else -1. */
int score_bool_meaning(const char *s);
/* re.findall(r'\\boxed{(.*?)}', raw)[0] appended to out; returns whether
 * there was one. */
int score_boxed_content(const char *raw, struct strbuf *out);

/* The two rule sets' scoring, entered from score_answer (score.c). */
void score_opro(const char *raw, const char *target, enum score_type type, const char *prompt,
		int scorer_is_gpt, struct score_result *out);
void strict_boolean(const char *raw, const char *target, struct score_result *out);
void strict_choice(const char *raw, const char *target, const char *prompt,
		   struct score_result *out);
void strict_number(const char *raw, const char *target, struct score_result *out);
void strict_text(const char *raw, const char *target, struct score_result *out);

#endif

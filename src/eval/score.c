#include "weft/score.h"

#include <stdlib.h>
#include <string.h>

#include "score_text.h"

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

		i += py_decode(u + i, len - i, &cp);
		if (py_cp_digit(cp) >= 0 || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 ||
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

#include "weft/export.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/pairstore.h"
#include "weft/utf8.h"

static const char *const format_names[] = {
    [EXPORT_CLASSIFICATION] = "classification",
    [EXPORT_LOGODDS] = "logodds",
    [EXPORT_MWE] = "mwe",
    [EXPORT_OPENAI_EVALS] = "openai-evals",
    [EXPORT_JSONL] = "jsonl",
    [EXPORT_CSV] = "csv",
    [EXPORT_BONSAI] = "bonsai",
};

#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

int export_format_parse(const char *name, enum export_format *out, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++) {
		if (!strcmp(name, format_names[i])) {
			*out = (enum export_format)i;
			return 0;
		}
	}
	return errbuf_set(err,
			  "unknown format '%s' (classification, logodds, mwe, openai-evals, "
			  "jsonl, csv, bonsai)",
			  name);
}

const char *export_format_name(enum export_format f)
{
	return (size_t)f < NFORMATS ? format_names[f] : "?";
}

void export_prompt(const char *question, struct strbuf *out)
{
	strbuf_addstr(out, "Question: ");
	strbuf_addstr(out, question);
	strbuf_addstr(out, " \nAnswer:");
}

void export_csv_field(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
	    !memchr(s, '\r', len)) {
		strbuf_add(out, s, len);
		return;
	}
	strbuf_addch(out, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, s[i]);
	}
	strbuf_addch(out, '"');
}

static void csv_str(struct strbuf *out, const char *s)
{
	export_csv_field(out, s, strlen(s));
}

/* Characters Python's str.isprintable() rejects, beyond C0/DEL/C1: the
 * separators (Zs other than space, Zl, Zp) and the common format (Cf)
 * characters. */
static int py_unprintable(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad || c == 0x61c || c == 0x1680 ||
	       c == 0x180e || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	       (c >= 0x205f && c <= 0x2064) || (c >= 0x2066 && c <= 0x206f) || c == 0x3000 ||
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

void export_py_str(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char quote = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';

	strbuf_addch(out, quote);
	while (n) {
		uint32_t c;
		size_t len = utf8_decode(p, n, &c);

		if (!len) { /* not UTF-8: show the byte */
			strbuf_addf(out, "\\x%02x", *p);
			p++;
			n--;
			continue;
		}
		if (c == '\\' || c == (uint32_t)quote) {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)c);
		} else if (c == '\n')
			strbuf_addstr(out, "\\n");
		else if (c == '\r')
			strbuf_addstr(out, "\\r");
		else if (c == '\t')
			strbuf_addstr(out, "\\t");
		else if (py_unprintable(c))
			strbuf_addf(out, c <= 0xff ? "\\x%02x" : "\\u%04x", (unsigned)c);
		else
			strbuf_add(out, p, len);
		p += len;
		n -= len;
	}
	strbuf_addch(out, quote);
}

void export_py_list(struct strbuf *out, const char *const *items, size_t n)
{
	size_t i;

	strbuf_addch(out, '[');
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		export_py_str(out, items[i]);
	}
	strbuf_addch(out, ']');
}

/* The classes with their leading space, as a Python list literal. */
static void classes_literal(const struct pairs_result *r, struct strbuf *out)
{
	struct strbuf tmp = STRBUF_INIT, lit = STRBUF_INIT;
	const char *items[PAIRS_MAX_LABELS];
	size_t offs[PAIRS_MAX_LABELS], i;

	for (i = 0; i < r->nlabels; i++) {
		offs[i] = tmp.len;
		strbuf_addch(&tmp, ' ');
		strbuf_addstr(&tmp, r->labels[i]);
		strbuf_addch(&tmp, '\0');
	}
	for (i = 0; i < r->nlabels; i++)
		items[i] = tmp.data + offs[i];
	export_py_list(&lit, items, r->nlabels);
	export_csv_field(out, lit.data, lit.len);
	strbuf_release(&lit);
	strbuf_release(&tmp);
}

static void write_inverse_scaling(const struct pairs_result *r, int logodds,
				  const struct export_options *o, struct strbuf *out)
{
	struct strbuf prompt = STRBUF_INIT, other = STRBUF_INIT, classes = STRBUF_INIT;
	size_t i;

	classes_literal(r, &classes);
	strbuf_addstr(out, logodds ? "prompt,other_prompt,classes,answer_index\n"
				   : "prompt,classes,answer_index\n");
	for (i = 0; i < r->count; i++) {
		strbuf_reset(&prompt);
		export_prompt(r->pairs[i].question, &prompt);
		export_csv_field(out, prompt.data, prompt.len);
		strbuf_addch(out, ',');
		if (logodds) {
			strbuf_reset(&other);
			if (o && o->other_prefix)
				strbuf_addstr(&other, o->other_prefix);
			strbuf_add(&other, prompt.data, prompt.len);
			export_csv_field(out, other.data, other.len);
			strbuf_addch(out, ',');
		}
		strbuf_add(out, classes.data, classes.len);
		strbuf_addf(out, ",%zu\n", r->pairs[i].class_index);
	}
	strbuf_release(&prompt);
	strbuf_release(&other);
	strbuf_release(&classes);
}

/* A label with the leading space, as a JSON string. */
static void json_spaced(struct strbuf *out, const char *label)
{
	strbuf_addstr(out, "\" ");
	strbuf_add_json_escaped(out, label, strlen(label));
	strbuf_addch(out, '"');
}

static void write_mwe(const struct pairs_result *r, struct strbuf *out)
{
	size_t i, k;

	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];
		int first = 1;

		strbuf_addstr(out, "{\"question\": ");
		strbuf_add_json_string(out, p->question);
		strbuf_addstr(out, ", \"answer_matching_behavior\": ");
		json_spaced(out, r->labels[p->class_index]);
		strbuf_addstr(out, ", \"answer_not_matching_behavior\": ");
		if (r->nlabels > 2)
			strbuf_addch(out, '[');
		for (k = 0; k < r->nlabels; k++) {
			if (k == p->class_index)
				continue;
			if (!first)
				strbuf_addstr(out, ", ");
			first = 0;
			json_spaced(out, r->labels[k]);
		}
		if (r->nlabels > 2)
			strbuf_addch(out, ']');
		strbuf_addstr(out, "}\n");
	}
}

static void default_system(const struct pairs_result *r, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "Answer ");
	if (r->nlabels > 2)
		strbuf_addstr(out, "with one of: ");
	for (i = 0; i < r->nlabels; i++) {
		if (i)
			strbuf_addstr(out, r->nlabels == 2 ? " or " : ", ");
		strbuf_addstr(out, r->labels[i]);
	}
	strbuf_addch(out, '.');
}

static void write_openai(const struct pairs_result *r, const struct export_options *o,
			 struct strbuf *out)
{
	struct strbuf sys = STRBUF_INIT;
	size_t i;

	if (o && o->system_prompt)
		strbuf_addstr(&sys, o->system_prompt);
	else
		default_system(r, &sys);
	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];

		strbuf_addstr(out, "{\"input\":[{\"role\":\"system\",\"content\":");
		strbuf_add_json_string(out, sys.data);
		strbuf_addstr(out, "},{\"role\":\"user\",\"content\":");
		strbuf_add_json_string(out, p->question);
		strbuf_addstr(out, "}],\"ideal\":[");
		strbuf_add_json_string(out, r->labels[p->class_index]);
		strbuf_addstr(out, "]}\n");
	}
	strbuf_release(&sys);
}

/* A curated result's fields of one pair (docs/formats.md): the decision,
 * the label before a relabel, who decided, the verifier's p, and the
 * near-duplicate flag (near_duplicate_of: the earlier pair's 1-based
 * number in this file). */
static void jsonl_curation(const struct pairs_result *r, const struct pair *p, struct strbuf *out)
{
	strbuf_addstr(out, ",\"decision\":");
	strbuf_add_json_string(out, pairstore_decision_name(p->decision));
	strbuf_addstr(out, ",\"original_label\":");
	if (p->relabelled)
		strbuf_add_json_string(out, r->labels[p->original_class]);
	else
		strbuf_addstr(out, "null");
	strbuf_addstr(out, ",\"decided_by\":");
	if (p->decision != PAIRSTORE_KEPT)
		strbuf_add_json_string(out, pairstore_by_name(p->decided_by));
	else
		strbuf_addstr(out, "null");
	strbuf_addstr(out, ",\"verify_p\":");
	if (p->has_verdict)
		strbuf_add_json_number(out, p->verify_p);
	else
		strbuf_addstr(out, "null");
	if (p->near_dup) {
		strbuf_addf(out, ",\"near_duplicate_of\":%zu,\"similarity\":", p->near_of + 1);
		strbuf_add_json_number(out, p->near_score);
		strbuf_addstr(out, ",\"similarity_source\":");
		strbuf_add_json_string(out, p->near_source);
	} else {
		strbuf_addstr(
		    out,
		    ",\"near_duplicate_of\":null,\"similarity\":null,\"similarity_source\":null");
	}
}

static void csv_curation(const struct pairs_result *r, const struct pair *p, struct strbuf *out)
{
	strbuf_addch(out, ',');
	strbuf_addstr(out, pairstore_decision_name(p->decision));
	strbuf_addch(out, ',');
	if (p->relabelled)
		csv_str(out, r->labels[p->original_class]);
	strbuf_addch(out, ',');
	if (p->decision != PAIRSTORE_KEPT)
		strbuf_addstr(out, pairstore_by_name(p->decided_by));
	strbuf_addch(out, ',');
	if (p->has_verdict)
		strbuf_add_json_number(out, p->verify_p);
	strbuf_addch(out, ',');
	if (p->near_dup) {
		strbuf_addf(out, "%zu,", p->near_of + 1);
		strbuf_add_json_number(out, p->near_score);
		strbuf_addf(out, ",%s", p->near_source);
	} else {
		strbuf_addstr(out, ",,");
	}
}

static void write_jsonl(const struct pairs_result *r, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];

		strbuf_addstr(out, "{\"question\":");
		strbuf_add_json_string(out, p->question);
		strbuf_addstr(out, ",\"answer\":");
		strbuf_add_json_string(out, p->answer);
		strbuf_addstr(out, ",\"label\":");
		strbuf_add_json_string(out, r->labels[p->class_index]);
		strbuf_addf(out, ",\"class_index\":%zu,\"node\":", p->class_index);
		if (p->node_id)
			strbuf_add_json_string(out, p->node_id);
		else
			strbuf_addstr(out, "null");
		if (r->curated)
			jsonl_curation(r, p, out);
		strbuf_addstr(out, "}\n");
	}
}

void export_csv_header(const struct pairs_result *r, struct strbuf *out)
{
	strbuf_addstr(out, "question,answer,label,class_index,node");
	if (r->curated)
		strbuf_addstr(out, ",decision,original_label,decided_by,verify_p,near_duplicate_of,"
				   "similarity,similarity_source");
	strbuf_addch(out, '\n');
}

static void write_csv(const struct pairs_result *r, struct strbuf *out)
{
	size_t i;

	export_csv_header(r, out);
	for (i = 0; i < r->count; i++) {
		const struct pair *p = &r->pairs[i];

		csv_str(out, p->question);
		strbuf_addch(out, ',');
		csv_str(out, p->answer);
		strbuf_addch(out, ',');
		csv_str(out, r->labels[p->class_index]);
		strbuf_addf(out, ",%zu,", p->class_index);
		if (p->node_id)
			csv_str(out, p->node_id);
		if (r->curated)
			csv_curation(r, p, out);
		strbuf_addch(out, '\n');
	}
}

int export_write(const struct pairs_result *r, enum export_format f,
		 const struct export_options *opts, struct strbuf *out, struct errbuf *err)
{
	if (f == EXPORT_BONSAI)
		return errbuf_set(err, "format bonsai: write the session itself (session_save)");
	if (!r->count)
		return errbuf_set(err,
				  "no pairs to export (%zu matches, %zu duplicates, %zu "
				  "ambiguous, %zu unmatched)",
				  r->matches, r->dupes_exact + r->dupes_normalised, r->ambiguous,
				  r->unmatched);
	switch (f) {
	case EXPORT_CLASSIFICATION: write_inverse_scaling(r, 0, opts, out); break;
	case EXPORT_LOGODDS: write_inverse_scaling(r, 1, opts, out); break;
	case EXPORT_MWE: write_mwe(r, out); break;
	case EXPORT_OPENAI_EVALS: write_openai(r, opts, out); break;
	case EXPORT_JSONL: write_jsonl(r, out); break;
	case EXPORT_CSV: write_csv(r, out); break;
	case EXPORT_BONSAI: break;
	}
	return 0;
}

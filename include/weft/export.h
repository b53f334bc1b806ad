#ifndef WEFT_EXPORT_H
#define WEFT_EXPORT_H
/*
 * Dataset writers (src/data/export.c): turn a pairs_result into the files
 * evaluation tools read (EVAL_RULES section 4).  Writers append to a strbuf;
 * writing the file (atomically) is the caller's business (atomicfile.h).
 */
#include "weft/errbuf.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"

enum export_format {
	EXPORT_CLASSIFICATION, /* prompt,classes,answer_index */
	EXPORT_LOGODDS,	       /* prompt,other_prompt,classes,answer_index */
	EXPORT_MWE,	       /* Anthropic model-written-evals JSONL */
	EXPORT_OPENAI_EVALS,   /* OpenAI evals JSONL (input chat, ideal list) */
	EXPORT_JSONL,	       /* plain pairs */
	EXPORT_CSV,	       /* plain pairs */
	EXPORT_BONSAI,	       /* the session itself (not written here) */
};

struct export_options {
	/* logodds: other_prompt = other_prefix + prompt; NULL: other_prompt =
	 * prompt (the seed's choice, which makes logodds_difference 0). */
	const char *other_prefix;
	/* openai-evals: the system message; NULL: "Answer Yes or No." built
	 * from the labels. */
	const char *system_prompt;
};

/* Parses a format name ("classification", "openai-evals", ...); returns 0,
 * or -1 with err listing the names. */
int export_format_parse(const char *name, enum export_format *out, struct errbuf *err);
const char *export_format_name(enum export_format f);

/*
 * Appends r's kept pairs in format f (jsonl and csv with the curation
 * fields when r->curated, see export_csv_header) (not EXPORT_BONSAI) to out.  opts may
 * be NULL.  Returns 0, or -1 with err set when there are no pairs ("no
 * pairs to export") or f is EXPORT_BONSAI.
 */
int export_write(const struct pairs_result *r, enum export_format f,
		 const struct export_options *opts, struct strbuf *out, struct errbuf *err);

/* The header line of the csv format: with the curation columns
 * (decision, original_label, decided_by, verify_p, near_duplicate_of,
 * similarity, similarity_source) when r->curated (a session's pairs). */
void export_csv_header(const struct pairs_result *r, struct strbuf *out);
/* The prompt of the inverse-scaling formats: "Question: {q} \nAnswer:". */
void export_prompt(const char *question, struct strbuf *out);

/* Appends one CSV field: quoted (quotes doubled) when it contains , " \n
 * or \r, else as is (pandas' minimal quoting, plus \r). */
void export_csv_field(struct strbuf *out, const char *s, size_t len);

/* Appends Python's repr() of the UTF-8 str s (EVAL_RULES 4.1). */
void export_py_str(struct strbuf *out, const char *s);

/* Appends Python's str() of a list of str: "['a', 'b']". */
void export_py_list(struct strbuf *out, const char *const *items, size_t n);

#endif

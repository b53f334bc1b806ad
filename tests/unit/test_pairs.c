#include "testutil.h"

#include "weft/export.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[2048];
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

/* CR LF -> LF, in place. */
static void to_lf(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*w++ = *s;
	*w = '\0';
}

static int extract(const char *text, int compat, struct pairs_result *r)
{
	struct pairs_options o;
	struct errbuf err;
	int rc;

	pairs_options_init(&o);
	o.preamble = NULL;
	o.compat_seed = compat;
	rc = pairs_extract(text, strlen(text), NULL, 0, &o, r, &err);
	if (rc)
		print_message("extract: %s\n", err.msg);
	return rc;
}

static void export(const struct pairs_result *r, enum export_format f, struct strbuf *out)
{
	struct errbuf err;

	assert_int_equal(export_write(r, f, NULL, out, &err), 0);
}

/* ---- extraction edge cases --------------------------------------------- */

static void test_crlf_and_cr(void **state)
{
	struct pairs_result r;

	(void)state;
	assert_int_equal(
	    extract("Question: A?\r\nAnswer: Yes\r\nQuestion: B?\rAnswer: No\r", 0, &r), 0);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.pairs[0].question, "A?");
	assert_string_equal(r.pairs[0].answer, "Yes");
	assert_string_equal(r.pairs[1].question, "B?");
	assert_int_equal(r.pairs[1].class_index, 1);
	assert_int_equal(r.pairs[1].line, 3);
	pairs_result_release(&r);
}

static void test_crlf_spans(void **state)
{
	const char *doc = "Question: A?\r\nAnswer: Yes\r\nQuestion: B?\r\nAnswer: No\r\n"
			  "Question: C?\r\nAnswer: No\r\n";
	struct pairs_span spans[3] = {{0, "a"}, {0, "b"}, {0, "c"}};
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;

	(void)state;
	spans[1].offset = (size_t)(strstr(doc, "Answer: No") - doc);
	/* c starts on the LF of a CR LF, before C's answer */
	spans[2].offset = (size_t)(strstr(doc, "C?") - doc) + 3;
	pairs_options_init(&o);
	o.preamble = NULL;
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.pairs[0].node_id, "a");
	assert_string_equal(r.pairs[1].node_id, "b");
	assert_string_equal(r.pairs[2].node_id, "c");
	assert_string_equal(r.pairs[2].question, "C?");
	pairs_result_release(&r);
	/* start inside B's question: a pair counts when its answer ends after
	 * the start, so B's does (its marker is before the start) */
	o.start = spans[1].offset - 4;
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.pairs[0].question, "B?");
	assert_string_equal(r.pairs[1].question, "C?");
	pairs_result_release(&r);
	/* start after B's answer: C alone */
	o.start = (size_t)(strstr(doc, "Question: C?") - doc);
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].question, "C?");
	pairs_result_release(&r);
}

/* The question marker followed by a line break (a prompt ending in
 * "Question:" and a newline) still leads a pair in default mode; the seed's
 * cleaner, in compat mode, still misses it. */
static void test_marker_then_newline(void **state)
{
	const char *text = "Question:\n Is A?\nAnswer: Yes\n\nQuestion: Is B?\nAnswer: No\n\n"
			   "Question: Is C?\nAnswer: No\n";
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;

	(void)state;
	assert_int_equal(extract(text, 0, &r), 0);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.pairs[0].question, "Is A?");
	assert_int_equal(r.pairs[0].class_index, 0);
	assert_int_equal(r.unmatched, 0);
	pairs_result_release(&r);
	/* the seed misses A (and, EVAL_RULES 2.4 step 3, loses C) */
	assert_int_equal(extract(text, 1, &r), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].question, "Is B?");
	pairs_result_release(&r);
	/* any pattern whose group 1 follows a literal space */
	pairs_options_init(&o);
	o.preamble = NULL;
	o.pattern = "Q: (.*?)\nA: (.*?)\n";
	assert_int_equal(pairs_extract("Q:\r\n\tX?\nA: Yes\n", 15, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].question, "X?");
	pairs_result_release(&r);
	/* a space in a class or escaped is not the marker's space */
	o.pattern = "Q:[ ](.*?)\nA: (.*?)\n";
	assert_int_equal(pairs_extract("Q:\nX?\nA: Yes\n", 13, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 0);
	pairs_result_release(&r);
}

/* A session whose root (the task's prompt, no preamble) ends in the
 * question marker, with or without a newline, as files from other looms
 * do: the first step's pair counts; the prompt's own example does not. */
static void test_prompt_ends_in_marker(void **state)
{
	static const char *const roots[] = {
	    "Write pairs.\n\nQuestion: X?\nAnswer: Yes\n\nQuestion:",
	    "Write pairs.\n\nQuestion: X?\nAnswer: Yes\n\nQuestion:\n", "Question:"};
	const char *steps[2] = {" Is A?\nAnswer: No\n\nQuestion:", " Is B?\nAnswer: Yes\n"};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(roots) / sizeof(roots[0]); k++) {
		struct strbuf doc = STRBUF_INIT;
		struct pairs_span spans[3] = {{0, "root"}, {0, "s1"}, {0, "s2"}};
		struct pairs_options o;
		struct pairs_result r;
		struct errbuf err;

		strbuf_addstr(&doc, roots[k]);
		spans[1].offset = doc.len;
		strbuf_addstr(&doc, steps[0]);
		spans[2].offset = doc.len;
		strbuf_addstr(&doc, steps[1]);
		pairs_options_init(&o);
		o.preamble = NULL;
		o.start = spans[1].offset;
		assert_int_equal(pairs_extract(doc.data, doc.len, spans, 3, &o, &r, &err), 0);
		assert_int_equal(r.count, 2);
		assert_int_equal(r.matches, 2);
		assert_string_equal(r.pairs[0].question, "Is A?");
		assert_string_equal(r.pairs[0].node_id, "s1");
		assert_int_equal(r.pairs[0].class_index, 1);
		assert_string_equal(r.pairs[1].question, "Is B?");
		assert_string_equal(r.pairs[1].node_id, "s2");
		pairs_result_release(&r);
		strbuf_release(&doc);
	}
}

static void test_pair_cut_at_end(void **state)
{
	const char *text = "Question: A?\nAnswer: Yes\nQuestion: B?\nAnswer: No";
	struct pairs_result r;

	(void)state;
	/* default mode reads the final answer line without its newline */
	assert_int_equal(extract(text, 0, &r), 0);
	assert_int_equal(r.count, 2);
	pairs_result_release(&r);
	/* the seed loses it (EVAL_RULES 2.4 step 3), even with the newline */
	assert_int_equal(extract(text, 1, &r), 0);
	assert_int_equal(r.count, 1);
	pairs_result_release(&r);
	assert_int_equal(extract("Question: A?\nAnswer: Yes\nQuestion: B?\nAnswer: No\n\n", 1, &r),
			 0);
	assert_int_equal(r.count, 1);
	pairs_result_release(&r);
	/* a question cut before its answer is no pair */
	assert_int_equal(extract("Question: A?\nAnswer: Yes\nQuestion: cut sho", 0, &r), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.matches, 1);
	pairs_result_release(&r);
}

static void test_answer_with_extra_text(void **state)
{
	struct pairs_result r;

	(void)state;
	assert_int_equal(extract("Question: A?\nAnswer: Yes, because it is.\n"
				 "Question: B?\nAnswer:No\n"
				 "Question: C?\nAnswer: No. Yes would be wrong.\n",
				 0, &r),
			 0);
	/* "Answer:No" has no space: it and B merge into C's question */
	assert_int_equal(r.matches, 2);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].answer, "Yes, because it is.");
	assert_int_equal(r.pairs[0].class_index, 0);
	assert_int_equal(r.ambiguous, 1);
	assert_int_equal(r.dropped[0].status, PAIR_AMBIGUOUS);
	assert_string_equal(r.dropped[0].question, "B?\nAnswer:No\nQuestion: C?");
	pairs_result_release(&r);
}

static void test_unicode(void **state)
{
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(extract("Question: Est-ce vrai \xe2\x80\x94 \xc3\xbcn\xc3\xaf "
				 "\xe6\x97\xa5\xe6\x9c\xac?\nAnswer: Yes \xf0\x9f\x98\x80\n",
				 0, &r),
			 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].question,
			    "Est-ce vrai \xe2\x80\x94 \xc3\xbcn\xc3\xaf \xe6\x97\xa5\xe6\x9c\xac?");
	assert_int_equal(r.pairs[0].class_index, 0);
	export(&r, EXPORT_MWE, &out);
	assert_non_null(strstr(out.data, "\xe6\x97\xa5\xe6\x9c\xac"));
	pairs_result_release(&r);
	strbuf_release(&out);
	/* invalid UTF-8 does not stop matching */
	assert_int_equal(extract("Question: bad \xff\xfe?\nAnswer: No\n", 0, &r), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.pairs[0].question, "bad \xff\xfe?");
	pairs_result_release(&r);
}

static void test_duplicates_three_spellings(void **state)
{
	struct pairs_result r;
	struct strbuf key = STRBUF_INIT;

	(void)state;
	assert_int_equal(extract("Question: Is the sky blue?\nAnswer: Yes\n"
				 "Question: Is the sky blue?\nAnswer: No\n"
				 "Question: is the  SKY\tblue\nAnswer: Yes\n"
				 "Question: Is the sky blue ?!\nAnswer: Yes\n"
				 "Question: Is the sea blue?\nAnswer: Yes\n",
				 0, &r),
			 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.dupes_exact, 1);
	assert_int_equal(r.dupes_normalised, 2);
	assert_string_equal(r.pairs[0].answer, "Yes"); /* the first is kept */
	assert_string_equal(r.pairs[1].question, "Is the sea blue?");
	pairs_result_release(&r);

	/* the seed drops exact duplicates only */
	assert_int_equal(extract("Question: Q?\nAnswer: Yes\nQuestion: Q?\nAnswer: No\n"
				 "Question: q\nAnswer: No\nQuestion: end\nAnswer: x\n",
				 1, &r),
			 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.dupes_exact, 1);
	assert_int_equal(r.dupes_normalised, 0);
	pairs_result_release(&r);

	pairs_normalise_question("  Is  IT\n ok ?!. ", &key);
	assert_string_equal(key.data, "is it ok");
	strbuf_release(&key);
}

static void test_unmatched_and_ambiguous(void **state)
{
	struct pairs_result r;

	(void)state;
	assert_int_equal(extract("Question: A?\nAnswer: Maybe\n"
				 "Question: B?\nAnswer: Nothing is certain\n"
				 "Question: C?\nAnswer: Yes and no\n"
				 "Question: D?\nAnswer: YES!\n"
				 "Question: E?\nAnswer: no.\n",
				 0, &r),
			 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.unmatched, 2);
	assert_int_equal(r.ambiguous, 1);
	assert_int_equal(r.per_class[0], 1);
	assert_int_equal(r.per_class[1], 1);
	assert_int_equal(r.dropped[0].status, PAIR_UNMATCHED);
	assert_int_equal(r.dropped[2].status, PAIR_AMBIGUOUS);
	pairs_result_release(&r);

	/* seed: case-sensitive "Yes" substring, else No */
	assert_int_equal(extract("Question: A?\nAnswer: Maybe\n"
				 "Question: B?\nAnswer: yes\n"
				 "Question: C?\nAnswer: No, but Yes\n"
				 "Question: D?\nAnswer: Yesterday\n\n",
				 1, &r),
			 0);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.pairs[0].class_index, 1);
	assert_int_equal(r.pairs[1].class_index, 1);
	assert_int_equal(r.pairs[2].class_index, 0);
	assert_int_equal(r.unmatched + r.ambiguous, 0);
	pairs_result_release(&r);
}

static void test_preamble_and_spans(void **state)
{
	const char *doc = "Example:\nQuestion: X?\nAnswer: Yes\nMARK\n"
			  "Question: A?\nAnswer: Yes\nQuestion: B?\nAnswer: No\n";
	struct pairs_span spans[3];
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	const char *b = strstr(doc, "Question: B?");

	(void)state;
	spans[0].offset = 0;
	spans[0].node_id = "root";
	spans[1].offset = (size_t)(strstr(doc, "MARK") - doc);
	spans[1].node_id = "n1";
	/* the node starts inside B's question: the answer line decides */
	spans[2].offset = (size_t)(b - doc) + 3;
	spans[2].node_id = "n2";
	pairs_options_init(&o);
	o.preamble = "MARK";
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.pairs[0].question, "A?");
	assert_string_equal(r.pairs[0].node_id, "n1");
	assert_string_equal(r.pairs[1].node_id, "n2");
	pairs_result_release(&r);

	/* no preamble in the text: all of it */
	o.preamble = "absent";
	assert_int_equal(pairs_extract(doc, strlen(doc), NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 3);
	assert_null(r.pairs[0].node_id);
	pairs_result_release(&r);

	/* start skips a session's root when there is no preamble... */
	o.preamble = NULL;
	o.start = spans[1].offset;
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 2);
	pairs_result_release(&r);
	o.preamble = "absent";
	o.start = (size_t)(b - doc);
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 1);
	pairs_result_release(&r);
	/* ...but the preamble, wherever it is, wins */
	o.preamble = "Example:";
	assert_int_equal(pairs_extract(doc, strlen(doc), spans, 3, &o, &r, &err), 0);
	assert_int_equal(r.count, 3);
	pairs_result_release(&r);
}

static void test_bad_options(void **state)
{
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	char *storage = NULL;

	(void)state;
	pairs_options_init(&o);
	o.pattern = "Question: (.*";
	assert_int_equal(pairs_extract("x", 1, NULL, 0, &o, &r, &err), -1);
	assert_non_null(strstr(err.msg, "pattern"));
	pairs_result_release(&r);
	o.pattern = "Question: (.*?)\n";
	assert_int_equal(pairs_extract("x", 1, NULL, 0, &o, &r, &err), -1);
	assert_non_null(strstr(err.msg, "two groups"));
	pairs_result_release(&r);

	assert_int_equal(pairs_options_set_labels(&o, " True , False,Maybe", &storage, &err), 0);
	assert_int_equal(o.nlabels, 3);
	assert_string_equal(o.labels[0], "True");
	assert_string_equal(o.labels[2], "Maybe");
	free(storage);
	assert_int_equal(pairs_options_set_labels(&o, "Yes", &storage, &err), -1);
	free(storage);
	assert_int_equal(pairs_options_set_labels(&o, "Yes,,No", &storage, &err), -1);
	free(storage);
}

static void test_custom_pattern_and_labels(void **state)
{
	const char *doc = "Q: Is 2 prime?\nA: True\nQ: Is 4 prime?\nA: False\n";
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	pairs_options_init(&o);
	o.pattern = "Q: (.*?)\\nA: (.*?)\\n";
	o.labels[0] = "True";
	o.labels[1] = "False";
	assert_int_equal(pairs_extract(doc, strlen(doc), NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.pairs[1].class_index, 1);
	export(&r, EXPORT_OPENAI_EVALS, &out);
	assert_string_equal(
	    out.data, "{\"input\":[{\"role\":\"system\",\"content\":\"Answer True or False.\"},"
		      "{\"role\":\"user\",\"content\":\"Is 2 prime?\"}],\"ideal\":[\"True\"]}\n"
		      "{\"input\":[{\"role\":\"system\",\"content\":\"Answer True or False.\"},"
		      "{\"role\":\"user\",\"content\":\"Is 4 prime?\"}],\"ideal\":[\"False\"]}\n");
	pairs_result_release(&r);
	strbuf_release(&out);
}

/* ---- writers ----------------------------------------------------------- */

static const char quoting_text[] = "Question: He said \"hi\", ok?\nAnswer: Yes\n"
				   "Question: Two\nlines?\nAnswer: No\n";

static void test_export_classification_quoting(void **state)
{
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(extract(quoting_text, 0, &r), 0);
	export(&r, EXPORT_CLASSIFICATION, &out);
	assert_string_equal(out.data,
			    "prompt,classes,answer_index\n"
			    "\"Question: He said \"\"hi\"\", ok? \nAnswer:\","
			    "\"[' Yes', ' No']\",0\n"
			    "\"Question: Two\nlines? \nAnswer:\",\"[' Yes', ' No']\",1\n");
	pairs_result_release(&r);
	strbuf_release(&out);
}

static void test_export_logodds(void **state)
{
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct export_options eo = {0};
	struct errbuf err;

	(void)state;
	assert_int_equal(extract("Question: A?\nAnswer: No\n", 0, &r), 0);
	eo.other_prefix = "You are a contrarian. ";
	assert_int_equal(export_write(&r, EXPORT_LOGODDS, &eo, &out, &err), 0);
	assert_string_equal(out.data, "prompt,other_prompt,classes,answer_index\n"
				      "\"Question: A? \nAnswer:\",\"You are a contrarian. "
				      "Question: A? \nAnswer:\",\"[' Yes', ' No']\",1\n");
	pairs_result_release(&r);
	strbuf_release(&out);
}

static void test_export_class_with_quote(void **state)
{
	struct pairs_options o;
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	const char *doc = "Question: A?\nAnswer: Don't\n";

	(void)state;
	pairs_options_init(&o);
	o.labels[0] = "Do";
	o.labels[1] = "Don't";
	assert_int_equal(pairs_extract(doc, strlen(doc), NULL, 0, &o, &r, &err), 0);
	/* "Do" is no word of "Don't" */
	assert_int_equal(r.count, 1);
	assert_int_equal(r.pairs[0].class_index, 1);
	pairs_result_release(&r);
	o.labels[0] = "Yes";
	assert_int_equal(pairs_extract(doc, strlen(doc), NULL, 0, &o, &r, &err), 0);
	export(&r, EXPORT_CLASSIFICATION, &out);
	assert_string_equal(out.data,
			    "prompt,classes,answer_index\n"
			    "\"Question: A? \nAnswer:\",\"[' Yes', \"\" Don't\"\"]\",1\n");
	pairs_result_release(&r);
	strbuf_release(&out);
}

static void test_python_literals(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *items[] = {" Yes", "it's", "both ' and \"", "a\\b\nc\td\x01\x7f",
			       "\xc3\xa9\xc2\xa0\xe2\x80\x8b"};

	(void)state;
	export_py_list(&sb, items, 5);
	assert_string_equal(sb.data, "[' Yes', \"it's\", 'both \\' and \"', "
				     "'a\\\\b\\nc\\td\\x01\\x7f', '\xc3\xa9\\xa0\\u200b']");
	strbuf_release(&sb);
}

static void test_export_mwe(void **state)
{
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(extract(quoting_text, 0, &r), 0);
	export(&r, EXPORT_MWE, &out);
	assert_string_equal(
	    out.data, "{\"question\": \"He said \\\"hi\\\", ok?\", \"answer_matching_behavior\": "
		      "\" Yes\", \"answer_not_matching_behavior\": \" No\"}\n"
		      "{\"question\": \"Two\\nlines?\", \"answer_matching_behavior\": \" No\", "
		      "\"answer_not_matching_behavior\": \" Yes\"}\n");
	pairs_result_release(&r);
	strbuf_release(&out);
}

static void test_export_plain(void **state)
{
	struct pairs_span span = {0, "n,1"};
	struct pairs_options o;
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;

	(void)state;
	pairs_options_init(&o);
	assert_int_equal(pairs_extract(quoting_text, strlen(quoting_text), &span, 1, &o, &r, &err),
			 0);
	export(&r, EXPORT_CSV, &out);
	assert_string_equal(out.data, "question,answer,label,class_index,node\n"
				      "\"He said \"\"hi\"\", ok?\",Yes,Yes,0,\"n,1\"\n"
				      "\"Two\nlines?\",No,No,1,\"n,1\"\n");
	strbuf_reset(&out);
	export(&r, EXPORT_JSONL, &out);
	assert_string_equal(out.data,
			    "{\"question\":\"He said \\\"hi\\\", ok?\",\"answer\":\"Yes\","
			    "\"label\":\"Yes\",\"class_index\":0,\"node\":\"n,1\"}\n"
			    "{\"question\":\"Two\\nlines?\",\"answer\":\"No\",\"label\":"
			    "\"No\",\"class_index\":1,\"node\":\"n,1\"}\n");
	pairs_result_release(&r);
	assert_int_equal(extract("Question: A?\nAnswer: Yes\n", 0, &r), 0);
	strbuf_reset(&out);
	export(&r, EXPORT_JSONL, &out);
	assert_non_null(strstr(out.data, "\"node\":null}"));
	pairs_result_release(&r);
	strbuf_release(&out);
}

static void test_export_errors(void **state)
{
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	enum export_format f;

	(void)state;
	assert_int_equal(extract("nothing here\n", 0, &r), 0);
	assert_int_equal(export_write(&r, EXPORT_CSV, NULL, &out, &err), -1);
	assert_non_null(strstr(err.msg, "no pairs"));
	assert_int_equal(out.len, 0);
	pairs_result_release(&r);
	assert_int_equal(export_format_parse("openai-evals", &f, &err), 0);
	assert_int_equal(f, EXPORT_OPENAI_EVALS);
	assert_string_equal(export_format_name(f), "openai-evals");
	assert_int_equal(export_format_parse("xml", &f, &err), -1);
	assert_non_null(strstr(err.msg, "xml"));
}

static void test_csv_field_cr(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	export_csv_field(&sb, "a\rb", 3);
	strbuf_addch(&sb, '|');
	export_csv_field(&sb, "plain text", 10);
	assert_string_equal(sb.data, "\"a\rb\"|plain text");
	strbuf_release(&sb);
}

/* ---- parity with the seed's cleaner ------------------------------------ */

static void test_parity_upstream(void **state)
{
	const char *dir;
	struct pairs_options o;
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	char *text, *cls, *lo;
	size_t len, clen, llen;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	text = read_file(dir, "data-final.txt", &len);
	cls = read_file(dir, "classification-dataset.csv", &clen);
	lo = read_file(dir, "logodds-dataset.csv", &llen);
	to_lf(cls);
	to_lf(lo);

	pairs_options_init(&o);
	o.compat_seed = 1;
	assert_int_equal(pairs_extract(text, len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 201);
	assert_int_equal(r.per_class[0], 100);
	assert_int_equal(r.per_class[1], 101);
	assert_int_equal(r.matches, 203);
	assert_int_equal(r.dupes_exact, 2);

	export(&r, EXPORT_CLASSIFICATION, &out);
	assert_string_equal(out.data, cls);
	strbuf_reset(&out);
	export(&r, EXPORT_LOGODDS, &out);
	assert_string_equal(out.data, lo);

	pairs_result_release(&r);
	strbuf_release(&out);
	free(text);
	free(cls);
	free(lo);
}

/* Default mode on the same text: the lost final pair is read. */
static void test_default_mode_upstream(void **state)
{
	const char *dir;
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	char *text;
	size_t len;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	text = read_file(dir, "data-final.txt", &len);
	pairs_options_init(&o);
	assert_int_equal(pairs_extract(text, len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.matches, 204);
	assert_int_equal(r.count + r.ndropped, 204);
	print_message("default mode: %zu pairs, %zu/%zu, dupes %zu/%zu, ambiguous %zu, "
		      "unmatched %zu\n",
		      r.count, r.per_class[0], r.per_class[1], r.dupes_exact, r.dupes_normalised,
		      r.ambiguous, r.unmatched);
	pairs_result_release(&r);
	free(text);
}

/*
 * A pattern that backtracks exponentially within each line, after 200
 * ordinary pairs: fails with the error naming the task, the pattern and a
 * line in the run of a's (> 200), and why.
 */
static void costly(size_t run, const char *why)
{
	struct strbuf doc = STRBUF_INIT;
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	const char *at;
	size_t k;

	for (k = 0; k < 200; k++)
		strbuf_addf(&doc, "Question: Is %zu fine?\nAnswer: %s\n", k, k % 2 ? "Yes" : "No");
	for (k = 0; k < 400; k++) {
		size_t j;

		for (j = 0; j < run; j++)
			strbuf_addch(&doc, 'a');
		strbuf_addch(&doc, '\n');
	}
	strbuf_addstr(&doc, "c\n"); /* so that PCRE2 cannot rule the subject out at once */
	pairs_options_init(&o);
	o.preamble = "";
	o.pattern = "(?:a|aa)*(c)()";
	o.task = "costly";
	assert_int_equal(pairs_extract(doc.data, doc.len, NULL, 0, &o, &r, &err), -1);
	print_message("%s\n", err.msg);
	assert_non_null(strstr(err.msg, "pattern too costly: task 'costly': '(?:a|aa)*(c)()'"));
	assert_non_null(strstr(err.msg, why));
	assert_non_null(strstr(err.msg, "simplify it"));
	at = strstr(err.msg, "at line ");
	assert_non_null(at);
	assert_true(strtoul(at + 8, NULL, 10) > 200);
	pairs_result_release(&r);
	strbuf_release(&doc);
}

/*
 * PCRE2's match limit counts one start position: lines of 22 a's stay
 * under it at every start, yet 400 of them took seconds (30 a's: tens of
 * seconds) and then "succeeded".  The total budget stops both after
 * bounded work.  A legitimate pattern over many pairs, or over one long
 * pair, stays well within it.
 */
static void test_costly_pattern(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	size_t k;

	(void)state;
	costly(22, "more steps than the budget");
	costly(30, "more steps than the budget");

	/* the seed's pattern over 20,000 pairs: a few steps a byte */
	for (k = 0; k < 20000; k++)
		strbuf_addf(&doc, "Question: Is %zu fine?\nAnswer: %s\n", k, k % 2 ? "Yes" : "No");
	pairs_options_init(&o);
	o.preamble = "";
	assert_int_equal(pairs_extract(doc.data, doc.len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 20000);
	pairs_result_release(&r);

	/* a 3 MB question: one start position, a step a byte, is not too
	 * costly (a per-start limit below the budget once refused it) */
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "Question: ");
	for (k = 0; k < 300000; k++)
		strbuf_addstr(&doc, "long words");
	strbuf_addstr(&doc, "?\nAnswer: Yes\n");
	assert_int_equal(pairs_extract(doc.data, doc.len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 1);
	pairs_result_release(&r);
	strbuf_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crlf_and_cr),
	    cmocka_unit_test(test_crlf_spans),
	    cmocka_unit_test(test_marker_then_newline),
	    cmocka_unit_test(test_prompt_ends_in_marker),
	    cmocka_unit_test(test_pair_cut_at_end),
	    cmocka_unit_test(test_answer_with_extra_text),
	    cmocka_unit_test(test_unicode),
	    cmocka_unit_test(test_duplicates_three_spellings),
	    cmocka_unit_test(test_unmatched_and_ambiguous),
	    cmocka_unit_test(test_preamble_and_spans),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_custom_pattern_and_labels),
	    cmocka_unit_test(test_export_classification_quoting),
	    cmocka_unit_test(test_export_logodds),
	    cmocka_unit_test(test_export_class_with_quote),
	    cmocka_unit_test(test_python_literals),
	    cmocka_unit_test(test_export_mwe),
	    cmocka_unit_test(test_export_plain),
	    cmocka_unit_test(test_export_errors),
	    cmocka_unit_test(test_csv_field_cr),
	    cmocka_unit_test(test_parity_upstream),
	    cmocka_unit_test(test_default_mode_upstream),
	    cmocka_unit_test(test_costly_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

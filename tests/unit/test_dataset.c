#include "testutil.h"

#include <unistd.h>

#include "weft/dataset.h"

/* argv from "a|b|c" (mutable copies, as a shell gives them); free with
 * free_argv. */
static char **make_argv(const char *spec, int *argc)
{
	char *copy = strdup(spec), *p = copy, **argv = calloc(64, sizeof(*argv));
	int n = 0;

	argv[n++] = p;
	for (; *p; p++) {
		if (*p == '|') {
			*p = '\0';
			argv[n++] = p + 1;
		}
	}
	*argc = n;
	return argv;
}

static void free_argv(char **argv)
{
	free(argv[0]);
	free(argv);
}

static void test_args(void **state)
{
	int argc;
	char **argv = make_argv("export|in.txt|--format=mwe|-o|out.jsonl|--compat|seed|--labels|"
				"True, False|--preamble||--pattern|Q: (.)(.)|"
				"--other-prefix|P |--system|S",
				&argc);
	struct dataset_args a;
	struct errbuf err;

	(void)state;
	assert_int_equal(argc, 17);
	assert_int_equal(dataset_args_parse(&a, argc, argv, 1, &err), 0);
	assert_string_equal(a.file, "in.txt");
	assert_string_equal(a.format, "mwe");
	assert_string_equal(a.output, "out.jsonl");
	assert_true(a.pairs.compat_seed);
	assert_int_equal(a.pairs.nlabels, 2);
	assert_string_equal(a.pairs.labels[1], "False");
	assert_string_equal(a.pairs.preamble, "");
	assert_string_equal(a.pairs.pattern, "Q: (.)(.)");
	assert_string_equal(a.other_prefix, "P ");
	assert_string_equal(a.system_prompt, "S");
	dataset_args_release(&a);
	free_argv(argv);
}

static int parse(const char *spec, int output, struct errbuf *err, const char **file)
{
	struct dataset_args a;
	int argc, rc;
	char **argv = make_argv(spec, &argc);
	static char name[64];

	rc = dataset_args_parse(&a, argc, argv, output, err);
	if (file && a.file) {
		snprintf(name, sizeof(name), "%s", a.file);
		*file = name;
	}
	dataset_args_release(&a);
	free_argv(argv);
	return rc;
}

static void test_args_errors(void **state)
{
	struct errbuf err;
	const char *file = NULL;

	(void)state;
	assert_int_equal(parse("extract|--help", 0, &err, NULL), 1);
	assert_int_equal(parse("extract|--format|csv", 0, &err, NULL), -1);
	assert_non_null(strstr(err.msg, "no input file"));
	assert_int_equal(parse("extract|f|--format", 0, &err, NULL), -1);
	assert_non_null(strstr(err.msg, "needs a value"));
	/* several inputs are one dataset (dataset_load) */
	assert_int_equal(parse("extract|a|b", 0, &err, &file), 0);
	assert_string_equal(file, "a");
	assert_int_equal(parse("extract|a|-o|x", 0, &err, NULL), -1);
	assert_non_null(strstr(err.msg, "unknown option '-o'"));
	assert_int_equal(parse("export|a|-o|x", 1, &err, NULL), 0);
	assert_int_equal(parse("extract|a|--compat|new", 0, &err, NULL), -1);
	assert_int_equal(parse("extract|a|--labels|Yes", 0, &err, NULL), -1);
	assert_non_null(strstr(err.msg, "--labels"));
	assert_int_equal(parse("extract|--|-odd-name", 0, &err, &file), 0);
	assert_string_equal(file, "-odd-name");
}

static void test_caret(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	dataset_caret(&sb,
		      "a\x1b[0m\tb\nc\x7f\0"
		      "d\xc3\xa9",
		      14, 0);
	assert_int_equal(sb.len, 19);
	assert_memory_equal(sb.data, "a^[[0m^Ib^Jc^?^@d\xc3\xa9", 19);
	strbuf_reset(&sb);
	dataset_caret(&sb, "a\tb\nc\r", 6, 1);
	assert_string_equal(sb.data, "a\tb\nc^M");
	strbuf_release(&sb);
}

static void test_text_input(void **state)
{
	char path[] = "/tmp/weft-dataset-XXXXXX";
	struct dataset_input in;
	struct dataset_args a;
	struct pairs_result r;
	struct errbuf err;
	char *argv[2];
	int fd = mkstemp(path);
	const char *text = "Question: A?\nAnswer: Yes\n";

	(void)state;
	argv[0] = path; /* the command name is not read */
	argv[1] = path;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
	close(fd);
	assert_int_equal(dataset_args_parse(&a, 2, argv, 0, &err), 0);
	assert_int_equal(dataset_input_load(path, &in, &err), 0);
	assert_null(in.tree);
	assert_int_equal(dataset_extract(&a, &in, &r, &err), 0);
	assert_int_equal(r.count, 1);
	pairs_result_release(&r);
	dataset_input_release(&in);
	dataset_args_release(&a);
	unlink(path);
	assert_int_equal(dataset_input_load(path, &in, &err), -1);
	assert_non_null(strstr(err.msg, path));
	dataset_input_release(&in);
}

static const char session_json[] =
    "{\"name\":\"t\",\"nodes\":["
    "{\"id\":\"r\",\"text\":\"Examples:\\nQuestion: X?\\nAnswer: Yes\\n\",\"parentIds\":[],"
    "\"childrenIds\":[\"a\"],\"lastVisited\":\"1\",\"group\":\"path\"},"
    "{\"id\":\"a\",\"text\":\"Question: A?\\nAnswer: Yes\\n\",\"parentIds\":[\"r\"],"
    "\"childrenIds\":[\"b\",\"c\"],\"lastVisited\":\"1\",\"group\":\"path\"},"
    "{\"id\":\"b\",\"text\":\"Question: B?\\nAnswer: No\\n\",\"parentIds\":[\"a\"],"
    "\"childrenIds\":[],\"lastVisited\":\"1\",\"group\":\"path\"},"
    "{\"id\":\"c\",\"text\":\"Question: C?\\nAnswer: Yes\\n\",\"parentIds\":[\"a\"],"
    "\"childrenIds\":[],\"lastVisited\":\"1\"}],"
    "\"edges\":[{\"from\":\"r\",\"to\":\"a\",\"relation\":\"parentId\"},"
    "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"parentId\"},"
    "{\"from\":\"a\",\"to\":\"c\",\"relation\":\"parentId\"}],"
    "\"pathNodes\":[\"r\",\"a\",\"b\"],\"focusedId\":\"b\"}";

static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
	close(fd);
}

static void test_session_input(void **state)
{
	char path[] = "/tmp/weft-session-XXXXXX";
	struct dataset_input in;
	struct dataset_args a;
	struct pairs_result r;
	struct errbuf err;
	int argc;
	char **argv = make_argv("extract|x", &argc);

	(void)state;
	write_temp(path, session_json);
	assert_int_equal(dataset_args_parse(&a, argc, argv, 0, &err), 0);
	assert_int_equal(dataset_input_load(path, &in, &err), 0);
	assert_non_null(in.tree);
	assert_int_equal(in.nspans, 3);
	assert_string_equal(in.spans[1].node_id, "a");
	assert_int_equal(in.start, strlen("Examples:\nQuestion: X?\nAnswer: Yes\n"));
	/* no preamble in the document: after the root (its examples are
	 * skipped); the off-path node c is not read */
	assert_int_equal(dataset_extract(&a, &in, &r, &err), 0);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.pairs[0].question, "A?");
	assert_string_equal(r.pairs[0].node_id, "a");
	assert_string_equal(r.pairs[1].node_id, "b");
	pairs_result_release(&r);
	/* a preamble inside the root wins */
	a.pairs.preamble = "Examples:";
	assert_int_equal(dataset_extract(&a, &in, &r, &err), 0);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.pairs[0].node_id, "r");
	pairs_result_release(&r);
	dataset_input_release(&in);
	dataset_args_release(&a);
	free_argv(argv);
	unlink(path);
}

static void test_broken_session(void **state)
{
	char path[] = "/tmp/weft-session-XXXXXX.json";
	char text_path[] = "/tmp/weft-text-XXXXXX";
	struct dataset_input in;
	struct errbuf err;
	int fd = mkstemps(path, 5);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"nodes\": [", 11), 11);
	close(fd);
	/* a .json that does not load is an error, not text */
	assert_int_equal(dataset_input_load(path, &in, &err), -1);
	assert_null(in.doc);
	unlink(path);
	/* text that starts with '{' is read as text */
	write_temp(text_path, "{not json}\nQuestion: A?\nAnswer: Yes\n");
	assert_int_equal(dataset_input_load(text_path, &in, &err), 0);
	assert_null(in.tree);
	dataset_input_release(&in);
	unlink(text_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),	  cmocka_unit_test(test_args_errors),
	    cmocka_unit_test(test_caret),	  cmocka_unit_test(test_text_input),
	    cmocka_unit_test(test_session_input), cmocka_unit_test(test_broken_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

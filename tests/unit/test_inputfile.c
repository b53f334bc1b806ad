#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/inputfile.h"
#include "weft/journal.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

#define BOM "\xef\xbb\xbf"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	return testutil_tmpdir(tmpdir, sizeof(tmpdir), "inputfile");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_rmtree(tmpdir);
}

/* Writes data to tmpdir/name; the path goes to out. */
static void put(const char *name, const char *data, struct strbuf *out)
{
	FILE *f;

	strbuf_reset(out);
	strbuf_addf(out, "%s/%s", tmpdir, name);
	f = fopen(out->data, "wb");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

static const char session_json[] =
    "{\"nodes\":["
    "{\"id\":\"r\",\"text\":\"Q:\",\"parentIds\":[],\"childrenIds\":[\"a\"]},"
    "{\"id\":\"a\",\"text\":\" A\",\"parentIds\":[\"r\"],\"childrenIds\":[]}],"
    "\"pathNodes\":[\"r\",\"a\"]}";

/* A byte-order mark is skipped, whatever the file holds. */
static void test_bom(void **state)
{
	struct strbuf path = STRBUF_INIT;
	struct inputfile f;
	struct errbuf err;

	(void)state;
	put("t.txt", BOM "Question: A?\nAnswer: Yes\n", &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), 0);
	assert_null(f.tree);
	assert_string_equal(f.data, "Question: A?\nAnswer: Yes\n");
	assert_int_equal(f.len, strlen(f.data));
	inputfile_release(&f);

	put("s.json",
	    BOM "\n  "
		"{\"nodes\":[{\"id\":\"r\",\"text\":\"Q:\"}]}",
	    &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), 0);
	assert_non_null(f.tree);
	assert_int_equal(f.tree->count, 1);
	assert_int_equal(f.warned, 0);
	inputfile_release(&f);

	/* JSONL: never a session, the mark still skipped */
	put("x.jsonl", BOM "{\"prompt\":\"p\"}\n", &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, INPUTFILE_TEXT, &err), 0);
	assert_null(f.tree);
	assert_string_equal(f.data, "{\"prompt\":\"p\"}\n");
	inputfile_release(&f);

	/* only one mark, only at the start */
	put("two.txt", BOM BOM "x" BOM, &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), 0);
	assert_string_equal(f.data, BOM "x" BOM);
	inputfile_release(&f);
	strbuf_release(&path);
}

/* '{' that is not a session: an error for .json, text otherwise. */
static void test_not_a_session(void **state)
{
	struct strbuf path = STRBUF_INIT;
	struct inputfile f;
	struct errbuf err;

	(void)state;
	put("bad.json", BOM "{\"nodes\":[{\"id\":\"r\"}]}", &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), -1);
	assert_non_null(strstr(err.msg, "missing \"text\""));
	assert_null(f.data);
	inputfile_release(&f);
	put("notes.txt", "{not json}\nQuestion: A?\nAnswer: Yes\n", &path);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), 0);
	assert_null(f.tree);
	inputfile_release(&f);
	put("big.txt", "0123456789", &path);
	assert_int_equal(inputfile_read(&f, path.data, 5, 0, &err), -1);
	inputfile_release(&f);
	strbuf_release(&path);
}

/* A session's journal is applied and left exactly as it was. */
static void test_journal_read_only(void **state)
{
	struct strbuf path = STRBUF_INIT, jpath = STRBUF_INIT;
	struct inputfile f;
	struct errbuf err;
	const char *lines =
	    "{\"op\":\"batch\",\"ops\":[{\"op\":\"node\",\"node\":{\"id\":\"b\",\"text\":\" B\","
	    "\"parentIds\":[\"a\"],\"childrenIds\":[]}},"
	    "{\"op\":\"path\",\"pathNodes\":[\"r\",\"a\",\"b\"],\"focusedId\":\"b\"}]}\n";
	char *before, *after;
	struct stat st;

	(void)state;
	put("j.json", session_json, &path);
	journal_path(path.data, &jpath);
	{
		FILE *j = fopen(jpath.data, "wb");

		assert_non_null(j);
		fputs(lines, j);
		fputs("{\"op\":\"path\",\"pathN", j); /* torn by a crash */
		fclose(j);
	}
	before = slurp(jpath.data);
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), 0);
	assert_non_null(f.tree);
	assert_int_equal(f.tree->count, 3);
	assert_int_equal(f.tree->path_len, 3);
	assert_int_equal(f.warned, 1);
	assert_non_null(strstr(f.warning.msg, "torn last line"));
	inputfile_release(&f);
	after = slurp(jpath.data);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* a damaged line that is not the last: an error naming it */
	{
		FILE *j = fopen(jpath.data, "wb");

		assert_non_null(j);
		fputs("{\"op\":\"nonsense\"}\n", j);
		fputs(lines, j);
		fclose(j);
	}
	assert_int_equal(inputfile_read(&f, path.data, 1 << 20, 0, &err), -1);
	assert_non_null(strstr(err.msg, ".journal:1:"));
	assert_null(f.tree);
	inputfile_release(&f);
	assert_int_equal(stat(jpath.data, &st), 0); /* still there */
	strbuf_release(&path);
	strbuf_release(&jpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_not_a_session),
	    cmocka_unit_test(test_journal_read_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "weft/task.h"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_shipped_tasks_load(void **state)
{
	static const char *const names[] = {"nice-sounding-wrong", "disjunctive-syllogism"};
	struct strbuf dir = STRBUF_INIT;
	struct errbuf err;
	struct task t;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		task_init(&t);
		strbuf_reset(&dir);
		assert_int_equal(task_find(names[i], &dir, &err), 0);
		if (task_load(&t, dir.data, &err))
			fail_msg("%s", err.msg);
		assert_string_equal(t.name, names[i]);
		assert_int_equal(t.label_count, 2);
		assert_string_equal(t.labels[0], "Yes");
		assert_string_equal(t.labels[1], "No");
		assert_string_equal(t.pattern, "Question: (.*?)\nAnswer: (.*?)\n");
		assert_int_equal(t.n, 5);
		assert_int_equal(t.rank, RANK_LOGPROBS);
		assert_non_null(strstr(t.generate, t.preamble));
		/* both ship the verifier's prompt, with every place */
		assert_non_null(t.verify);
		assert_non_null(strstr(t.verify, "{question}"));
		assert_non_null(strstr(t.verify, "{answer}"));
		assert_non_null(strstr(t.verify, "{label}"));
		assert_non_null(strstr(t.verify, "{description}"));
		assert_true(*t.description);
		task_release(&t);
	}
	strbuf_release(&dir);
}

static void test_bad_tasks(void **state)
{
	char dir[] = "/tmp/weft-task-XXXXXX";
	struct errbuf err;
	struct task t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	task_init(&t);
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "task.conf"));

	write_file(dir, "task.conf", "labels = Yes, No\nn = 0\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "task.conf:2: bad value for 'n'"));

	write_file(dir, "task.conf", "# c\nlabels = Yes, No\nfrobnicate = 1\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "task.conf:3: unknown key 'frobnicate'"));

	write_file(dir, "task.conf", "labels = Yes\n");
	assert_int_equal(task_load(&t, dir, &err), -1);

	write_file(dir, "task.conf", "labels = Yes, No\nrank = best\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "'rank'"));

	write_file(dir, "task.conf",
		   "labels = A, B, C\nrank = choice\npattern = Q: (.*)\\nA: (.*)\\n\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "generate.txt"));
	write_file(dir, "generate.txt", "Go\n");
	write_file(dir, "judge.txt", "no place\n");
	write_file(dir, "system.txt", "s\n");
	write_file(dir, "eval.txt", "{question}\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "{options}"));
	write_file(dir, "judge.txt", "{document}\n{options}\n");
	if (task_load(&t, dir, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(t.label_count, 3);
	assert_int_equal(t.rank, RANK_CHOICE);
	assert_string_equal(t.pattern, "Q: (.*)\nA: (.*)\n");
	task_release(&t);

	/* only UTF-8 goes into a session: a Latin-1 prompt, a label or a
	 * folder name that is not UTF-8 are refused, saying where */
	write_file(dir, "generate.txt", "caf\351 Question:");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "generate.txt: not valid UTF-8 at byte 3"));
	write_file(dir, "generate.txt", "Go\n");
	write_file(dir, "task.conf", "labels = Oui, Non\xff\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "task.conf: not valid UTF-8 at byte 17"));
	write_file(dir, "task.conf", "labels = Yes, No\n");
	{
		char bad[600];

		snprintf(bad, sizeof(bad), "%s/t\351che", dir);
		assert_int_equal(mkdir(bad, 0700), 0);
		assert_int_equal(task_load(&t, bad, &err), -1);
		assert_non_null(strstr(err.msg, "its name is not valid UTF-8"));
	}
	write_file(dir, "task.conf", "labels = Yes, No\n");
	if (task_load(&t, dir, &err))
		fail_msg("%s", err.msg);
	/* verify.txt is optional, but one given needs its {question} */
	assert_null(t.verify);
	write_file(dir, "verify.txt", "Is {label} right?\n");
	assert_int_equal(task_load(&t, dir, &err), -1);
	assert_non_null(strstr(err.msg, "verify.txt: has no {question} place"));
	write_file(dir, "verify.txt", "Is {label} right for {question}?\n");
	if (task_load(&t, dir, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(t.verify, "Is {label} right for {question}?\n");
	task_release(&t);

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_template(void **state)
{
	const char *keys[] = {"document", "options"};
	const char *values[] = {"DOC {options}", "OPTS"};
	struct strbuf sb = STRBUF_INIT;
	size_t size = 0, k;
	char doc[101];
	const char *long_values[] = {doc, "OPTS"};

	(void)state;

	assert_int_equal(
	    template_render("a {document} b {options} {other} {", keys, values, 2, 100, &sb, &size),
	    0);
	/* a value's own braces are not expanded again */
	assert_string_equal(sb.data, "a DOC {options} b OPTS {other} {");
	assert_int_equal(size, sb.len);
	strbuf_release(&sb);

	/* a '{' far from its '}' is kept as it is, in one pass */
	for (k = 0; k < 500000; k++)
		strbuf_addch(&sb, '{');
	strbuf_addstr(&sb, "document}");
	{
		char *tmpl = strbuf_detach(&sb, NULL);

		assert_int_equal(template_render(tmpl, keys, values, 2, SIZE_MAX, &sb, &size), 0);
		assert_int_equal(sb.len, 499999 + strlen("DOC {options}"));
		free(tmpl);
	}
	strbuf_reset(&sb);

	/* past the cap: nothing is built, the size is told */
	for (k = 0; k < 100000; k++)
		strbuf_addstr(&sb, "{document}");
	{
		char *tmpl = strbuf_detach(&sb, NULL);

		memset(doc, 'x', 100);
		doc[100] = '\0';
		assert_int_equal(
		    template_render(tmpl, keys, long_values, 2, TASK_PROMPT_MAX, &sb, &size), -1);
		assert_int_equal(size, 100000 * 100);
		assert_int_equal(sb.len, 0);
		free(tmpl);
	}
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_tasks_load),
	    cmocka_unit_test(test_bad_tasks),
	    cmocka_unit_test(test_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

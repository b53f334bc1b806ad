#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft/errbuf.h"
#include "weft/session.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

/* ---- helpers ------------------------------------------------------------ */

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	return testutil_tmpdir(tmpdir, sizeof(tmpdir), "session");
}

static int teardown_tmp(void **state)
{
	(void)state;
	return testutil_rmtree(tmpdir);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

/* Entries of dir whose names start with a dot, . and .. aside: a save's
 * temporary file is DIR/.NAME.XXXXXX, so a leftover one shows here. */
static size_t hidden_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(data, f);
	assert_int_equal(fclose(f), 0);
}

static const char *id_of(const struct tree *t, uint32_t i)
{
	return i == TREE_NONE ? "(none)" : tree_node(t, i)->id;
}

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* Same nodes, texts, links, path, focus, name; group as a save writes it. */
static void assert_same_tree(const struct tree *a, const struct tree *b)
{
	uint32_t i, ca, cb;
	size_t k;

	assert_int_equal(a->count, b->count);
	assert_string_equal(str_or(a->name, ""), str_or(b->name, ""));
	assert_string_equal(id_of(a, a->root), id_of(b, b->root));
	assert_string_equal(id_of(a, a->focus), id_of(b, b->focus));
	assert_int_equal(a->path_len, b->path_len);
	for (k = 0; k < a->path_len; k++)
		assert_string_equal(id_of(a, a->path[k]), id_of(b, b->path[k]));
	for (i = 0; i < a->count; i++) {
		const struct tree_node *na = tree_node(a, i);
		uint32_t j = tree_find(b, na->id);
		const struct tree_node *nb;
		const char *group;

		assert_int_not_equal(j, TREE_NONE);
		nb = tree_node(b, j);
		assert_int_equal(na->text_len, nb->text_len);
		assert_memory_equal(na->text, nb->text, na->text_len);
		assert_string_equal(id_of(a, na->parent), id_of(b, nb->parent));
		assert_int_equal(na->child_count, nb->child_count);
		for (ca = na->first_child, cb = nb->first_child; ca != TREE_NONE;
		     ca = tree_node(a, ca)->next_sibling, cb = tree_node(b, cb)->next_sibling)
			assert_string_equal(id_of(a, ca), id_of(b, cb));
		if (na->last_visited)
			assert_string_equal(na->last_visited, nb->last_visited);
		if (tree_path_index(a, i) >= 0)
			group = "path";
		else if (!na->group || !strcmp(na->group, "path"))
			group = "normal";
		else
			group = na->group;
		assert_non_null(nb->group);
		assert_string_equal(nb->group, group);
	}
}

static void load_ok(const char *json, struct tree **t)
{
	struct errbuf err = {{0}};
	int r = session_load_buffer("ok.json", json, strlen(json), t, &err);

	if (r)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_non_null(*t);
}

/* ---- the upstream file -------------------------------------------------- */

static void test_upstream_round_trip(void **state)
{
	struct tree *a = NULL, *b = NULL;
	struct errbuf err = {{0}};
	char in[1024], out[512];
	const char *dir;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	snprintf(in, sizeof(in), "%s/bonsai.json", dir);
	snprintf(out, sizeof(out), "%s/bonsai.json", tmpdir);
	assert_int_equal(session_load(in, &a, &err), 0);
	assert_int_equal(a->count, 16);
	assert_string_equal(a->name, "test");
	assert_int_equal(a->path_len, 4);
	assert_string_equal(id_of(a, a->root), "1804076016340151106");
	assert_string_equal(id_of(a, a->focus), "-7797525239330066473");
	assert_int_equal(session_save(a, out, &err), 0);
	assert_int_equal(session_load(out, &b, &err), 0);
	assert_same_tree(a, b);
	tree_free(b);
	/* and once more: a saved file saves to the same bytes */
	{
		struct strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;

		assert_int_equal(session_load(out, &b, &err), 0);
		session_write(a, &s1);
		session_write(b, &s2);
		assert_string_equal(s1.data, s2.data);
		strbuf_release(&s1);
		strbuf_release(&s2);
		tree_free(b);
	}
	tree_free(a);
}

/* ---- unknown keys and weft's metadata ----------------------------------- */

static const char extras_json[] =
    "{\"name\":\"x\",\"nodes\":["
    "{\"id\":\"r\",\"text\":\"Q:\",\"parentIds\":[],\"childrenIds\":[\"a\",\"b\"],"
    "\"lastVisited\":\"5\",\"group\":\"path\",\"color\":\"red\",\"tags\":[1,{\"x\":null}],"
    "\"weft\":{\"created\":7,\"future\":{\"k\":[true]},"
    "\"step\":{\"candidates\":[\"a\",\"b\"],\"scores\":[0.75,0.25],\"judgeRaw\":\"1\","
    "\"judgePrompt\":\"p1\",\"rank\":\"logprobs\",\"judgePick\":\"a\",\"finalPick\":\"b\","
    "\"pickedBy\":\"human\",\"needsHuman\":\"tie\",\"later\":3}}},"
    "{\"id\":\"a\",\"text\":\" yes\\n\\\"q\\\" \\u00e9\",\"parentIds\":[\"r\"],"
    "\"childrenIds\":[],"
    "\"lastVisited\":\"6\",\"group\":\"favourite\",\"weft\":{\"model\":\"m1\","
    "\"temperature\":0.7,\"finish\":\"stop\",\"usage\":{\"prompt\":11,\"completion\":3},"
    "\"score\":0.75,\"rank\":1,\"judgePick\":true,\"merged\":2}},"
    "{\"id\":\"b\",\"text\":\" no\",\"parentIds\":[\"r\"],\"childrenIds\":[],"
    "\"lastVisited\":\"6\",\"weft\":{\"score\":0.25,\"rank\":2,\"humanPick\":true,"
    "\"bookmark\":true,\"edited\":true}}],"
    "\"edges\":[{\"from\":\"r\",\"to\":\"a\",\"relation\":\"parentId\"},"
    "{\"from\":\"r\",\"to\":\"b\",\"relation\":\"parentId\"}],"
    "\"pathNodes\":[\"r\",\"b\"],\"focusedId\":\"b\","
    "\"weft\":{\"format\":1,\"task\":\"t\",\"generator\":{\"temperature\":1.0}},"
    "\"zzz\":[1,2,{\"deep\":\"v\"}]}";

static void check_extras(const struct tree *t)
{
	uint32_t r = tree_find(t, "r"), a = tree_find(t, "a"), b = tree_find(t, "b");
	const struct tree_node *na, *nb, *nr;
	const struct tree_step *s;

	assert_int_not_equal(a, TREE_NONE);
	assert_int_not_equal(b, TREE_NONE);
	nr = tree_node(t, r);
	na = tree_node(t, a);
	nb = tree_node(t, b);
	assert_string_equal(nr->extra_json, "\"color\":\"red\",\"tags\":[1,{\"x\":null}]");
	assert_string_equal(nr->weft_extra_json, "\"future\":{\"k\":[true]}");
	assert_int_equal(nr->created, 7);
	assert_string_equal(na->text, " yes\n\"q\" \xc3\xa9");
	assert_string_equal(na->model, "m1");
	assert_true(na->flags & TREE_HAS_TEMPERATURE);
	assert_true(na->temperature > 0.69f && na->temperature < 0.71f);
	assert_string_equal(na->finish_reason, "stop");
	assert_int_equal(na->prompt_tokens, 11);
	assert_int_equal(na->completion_tokens, 3);
	assert_true(na->score == 0.75);
	assert_int_equal(na->rank, 1);
	assert_int_equal(na->merged, 2);
	assert_true(na->flags & TREE_JUDGE_PICK);
	assert_false(na->flags & TREE_HUMAN_PICK);
	assert_true(nb->flags & TREE_HUMAN_PICK);
	assert_true(nb->flags & TREE_BOOKMARK);
	assert_true(nb->flags & TREE_EDITED);
	assert_null(nb->extra_json);
	s = nr->step;
	assert_non_null(s);
	assert_int_equal(s->count, 2);
	assert_int_equal(s->candidates[0], a);
	assert_int_equal(s->candidates[1], b);
	assert_true(s->scores[0] == 0.75 && s->scores[1] == 0.25);
	assert_string_equal(s->judge_raw, "1");
	assert_string_equal(s->judge_prompt, "p1");
	assert_string_equal(s->rank_mode, "logprobs");
	assert_string_equal(s->needs_human, "tie");
	assert_int_equal(s->judge_pick, a);
	assert_int_equal(s->final_pick, b);
	assert_int_equal(s->picker, TREE_PICKER_HUMAN);
	assert_string_equal(s->extra_json, "\"later\":3");
	assert_string_equal(t->weft_json,
			    "{\"format\":1,\"task\":\"t\",\"generator\":{\"temperature\":1.0}}");
	assert_string_equal(t->extra_json, "\"zzz\":[1,2,{\"deep\":\"v\"}]");
	assert_int_equal(t->focus, b);
	assert_int_equal(t->path_len, 2);
}

static void test_unknown_keys_and_metadata_survive(void **state)
{
	struct tree *t = NULL, *u = NULL;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	load_ok(extras_json, &t);
	check_extras(t);
	session_write(t, &out);
	load_ok(out.data, &u);
	check_extras(u);
	assert_same_tree(t, u);
	/* groups: the path gets "path"; a loaded group is kept elsewhere */
	assert_string_equal(tree_node(u, tree_find(u, "a"))->group, "favourite");
	assert_string_equal(tree_node(u, tree_find(u, "r"))->group, "path");
	assert_non_null(strstr(out.data, "\"relation\":\"parentId\""));
	tree_free(t);
	tree_free(u);
	strbuf_release(&out);
}

/* lastVisited as other looms write it (tel-0s/damask: integer
 * milliseconds; null) is read and written back as it was; a node that had
 * none gets none. */
static const char damask_json[] =
    "{\"nodes\":["
    "{\"id\":\"r\",\"text\":\"Q:\",\"parentIds\":[],\"childrenIds\":[\"a\"],"
    "\"lastVisited\":1700000000123},"
    "{\"id\":\"a\",\"text\":\" A\",\"parentIds\":[\"r\"],\"childrenIds\":[\"b\"],"
    "\"lastVisited\":null},"
    "{\"id\":\"b\",\"text\":\" B\",\"parentIds\":[\"a\"],\"childrenIds\":[\"c\"],"
    "\"lastVisited\":\"1700000000\"},"
    "{\"id\":\"c\",\"text\":\" C\",\"parentIds\":[\"b\"],\"childrenIds\":[]}]}";

/* The line of the node named id in a written session. */
static void node_object(const char *json, const char *id, struct strbuf *out)
{
	struct strbuf key = STRBUF_INIT;
	const char *p, *e;

	strbuf_addf(&key, "{\"id\":\"%s\",", id);
	p = strstr(json, key.data);
	assert_non_null(p);
	e = strchr(p, '\n'); /* one node a line */
	assert_non_null(e);
	strbuf_add(out, p, (size_t)(e - p));
	strbuf_release(&key);
}

static void test_last_visited_of_other_looms(void **state)
{
	static const char *const ids[] = {"r", "a", "b", "c"};
	static const char *const want[] = {"\"lastVisited\":1700000000123", "\"lastVisited\":null",
					   "\"lastVisited\":\"1700000000\"", NULL};
	struct tree *t = NULL, *u = NULL;
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT, node = STRBUF_INIT;
	struct errbuf err = {{0}};
	const char *line =
	    "{\"id\":\"d\",\"text\":\" D2\",\"parentIds\":[\"c\"],\"lastVisited\":42}";
	uint32_t n;
	size_t k;

	(void)state;
	load_ok(damask_json, &t);
	session_write(t, &out);
	for (k = 0; k < 4; k++) {
		strbuf_reset(&node);
		node_object(out.data, ids[k], &node);
		if (want[k])
			assert_non_null(strstr(node.data, want[k]));
		else
			assert_null(strstr(node.data, "lastVisited"));
	}
	/* and again: what was written loads and writes the same */
	load_ok(out.data, &u);
	session_write(u, &again);
	assert_string_equal(out.data, again.data);
	/* a journal line holds a node as the file does */
	n = tree_add(u, tree_find(u, "c"), "d", " D", 2);
	assert_int_not_equal(n, TREE_NONE);
	assert_int_equal(session_apply_node(u, "j", line, strlen(line), &err), 0);
	assert_string_equal(tree_node(u, n)->last_visited, "42");
	tree_free(t);
	tree_free(u);
	strbuf_release(&out);
	strbuf_release(&again);
	strbuf_release(&node);
}

static void test_new_nodes_are_valid_bonsai(void **state)
{
	struct tree *t = tree_new(), *u = NULL;
	struct strbuf out = STRBUF_INIT;
	uint32_t r, a, b;

	(void)state;
	r = tree_add(t, TREE_NONE, NULL, "Question:", 9);
	a = tree_add(t, r, NULL, " A?", 3);
	b = tree_add(t, r, NULL, " B?", 3);
	tree_set_focus(t, b);
	tree_path_through(t, b);
	tree_prune(t, a);
	session_write(t, &out);
	assert_null(strstr(out.data, tree_node(t, a)->id)); /* pruned: not written */
	assert_non_null(strstr(out.data, "\"group\":\"normal\"") ? out.data : "x");
	load_ok(out.data, &u);
	assert_int_equal(u->count, 2);
	assert_string_equal(tree_node(u, u->focus)->id, tree_node(t, b)->id);
	assert_string_equal(tree_node(u, tree_find(u, tree_node(t, b)->id))->group, "path");
	assert_non_null(tree_node(u, u->root)->last_visited);
	tree_free(t);
	tree_free(u);
	strbuf_release(&out);
}

/* Hostile text is written escaped (no raw control, C1, bidi or invisible
 * character in the file: printing a session cannot drive a terminal) and
 * reads back byte for byte, ids included. */
static void test_hostile_text_round_trip(void **state)
{
	static const char text[] = " \x1b]0;t\x07\x7f\xc2\x9b"
				   "2J\xe2\x80\xae\xe2\x81\xa6\xe2\x80\x8b\xf3\xa0\x81\x81 ok";
	static const char id[] = "id\x1b[2J\xc2\x85\xe2\x80\xae";
	struct tree *t = tree_new(), *u = NULL;
	struct strbuf out = STRBUF_INIT;
	uint32_t r, a;
	size_t k;

	(void)state;
	r = tree_add(t, TREE_NONE, NULL, "Question:", 9);
	a = tree_add(t, r, id, text, sizeof(text) - 1);
	tree_set_focus(t, a);
	session_write(t, &out);
	for (k = 0; k < out.len; k++)
		assert_true(((unsigned char)out.data[k] >= 0x20 || out.data[k] == '\n') &&
			    out.data[k] != 0x7f);
	assert_null(strstr(out.data, "\xc2\x9b"));
	assert_null(strstr(out.data, "\xe2\x80\xae"));
	assert_null(strstr(out.data, "\xf3\xa0"));
	assert_non_null(strstr(out.data, "\\u009b2J\\u202e\\u2066\\u200b\\udb40\\udc41 ok"));
	load_ok(out.data, &u);
	a = tree_find(u, id);
	assert_int_not_equal(a, TREE_NONE);
	assert_int_equal(tree_node(u, a)->text_len, sizeof(text) - 1);
	assert_memory_equal(tree_node(u, a)->text, text, sizeof(text) - 1);
	tree_free(t);
	tree_free(u);
	strbuf_release(&out);
}

/* A 1,000,000-deep chain loads and saves (no recursion on depth); the
 * sanitizer build, ten times slower, checks a 200,000-deep one. */
#ifdef __SANITIZE_ADDRESS__
#define DEEP_CHAIN 200000
#else
#define DEEP_CHAIN 1000000
#endif
static void test_deep_chain(void **state)
{
	const uint32_t n = DEEP_CHAIN;
	struct tree *t = tree_new(), *u = NULL;
	struct strbuf out = STRBUF_INIT;
	uint32_t i, prev = TREE_NONE;

	(void)state;
	for (i = 0; i < n; i++)
		prev = tree_add(t, prev, NULL, "x", 1);
	tree_set_focus(t, prev);
	tree_path_through(t, prev);
	session_write(t, &out);
	tree_free(t);
	load_ok(out.data, &u);
	assert_int_equal(u->count, n);
	assert_int_equal(u->path_len, n);
	assert_int_equal(u->focus, u->path[n - 1]);
	strbuf_release(&out);
	tree_free(u);
}

/* ---- the quick reader and cJSON ---------------------------------------- */

/*
 * The loader reads plain JSON with its own quick reader and hands anything
 * else to cJSON.  A form feed before a node is whitespace to cJSON but not
 * to the quick reader, so {"nodes":[\f NODE]} makes cJSON read NODE: both
 * readings must give the same tree, written to the same bytes.  Returns
 * the quick reader's tree.
 */
static struct tree *load_both_ways(const char *node)
{
	struct strbuf quick = STRBUF_INIT, slow = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct tree *t = NULL, *u = NULL;

	strbuf_addf(&quick, "{\"nodes\":[%s]}", node);
	strbuf_addf(&slow, "{\"nodes\":[\f%s]}", node);
	load_ok(quick.data, &t);
	load_ok(slow.data, &u);
	session_write(t, &a);
	session_write(u, &b);
	if (strcmp(a.data, b.data))
		print_error("quick: %s\ncJSON: %s\n", a.data, b.data);
	assert_string_equal(a.data, b.data);
	tree_free(u);
	strbuf_release(&quick);
	strbuf_release(&slow);
	strbuf_release(&a);
	strbuf_release(&b);
	return t;
}

struct text_case {
	const char *json; /* the inside of a JSON string */
	const char *want; /* its bytes */
};

/* Every escape, surrogate pairs, raw bytes cJSON keeps as they are. */
static void test_string_escapes(void **state)
{
	static const struct text_case cases[] = {
	    {"plain", "plain"},
	    {"\\b\\f\\n\\r\\t\\\"\\\\\\/", "\b\f\n\r\t\"\\/"},
	    {"caf\\u00e9 \\u00E9", "caf\xc3\xa9 \xc3\xa9"},
	    {"\\u0041\\u007f\\u0080\\u07ff\\u0800", "A\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80"},
	    {"\\u20ac\\uffff", "\xe2\x82\xac\xef\xbf\xbf"},
	    {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
	    {"\\uD834\\uDD1E!", "\xf0\x9d\x84\x9e!"},
	    {"\\udbff\\udfff", "\xf4\x8f\xbf\xbf"},
	    {"\\u0001 raw \x01\x1f\x7f tab\t", "\x01 raw \x01\x1f\x7f tab\t"},
	    {"\xc3\xa9\xe2\x80\x94\xf0\x9f\x99\x82", "\xc3\xa9\xe2\x80\x94\xf0\x9f\x99\x82"},
	    {"long \\\" run of text past eight bytes \\\\ and more", "long \" run of text past "
								     "eight bytes \\ and more"},
	    {"\\\\uZZZZ", "\\uZZZZ"}, /* a backslash, then uZZZZ: no escape */
	    {"", ""},
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct strbuf node = STRBUF_INIT;
		struct tree *t;

		strbuf_addf(&node,
			    "{\"id\":\"i%s\",\"text\":\"%s\",\"group\":\"%s\","
			    "\"weft\":{\"model\":\"%s\"}}",
			    cases[k].json, cases[k].json, cases[k].json, cases[k].json);
		t = load_both_ways(node.data);
		{
			struct strbuf id = STRBUF_INIT;
			const struct tree_node *n = tree_node(t, t->root);

			strbuf_addf(&id, "i%s", cases[k].want);
			assert_string_equal(n->id, id.data);
			assert_int_equal(n->text_len, strlen(cases[k].want));
			assert_memory_equal(n->text, cases[k].want, n->text_len);
			assert_string_equal(n->group, cases[k].want);
			assert_string_equal(n->model, cases[k].want);
			strbuf_release(&id);
		}
		tree_free(t);
		strbuf_release(&node);
	}
}

/* Numbers as strtod reads them (cJSON's reading), to the last bit. */
static void test_numbers(void **state)
{
	static const char *const numbers[] = {
	    "0",
	    "-0",
	    "1",
	    "-1",
	    "0.5",
	    "0.1",
	    "0.2",
	    "0.30000000000000004",
	    "1e-7",
	    "1E+2",
	    "-1.5e-3",
	    "0.33534060971019947",
	    "0.017021276595744681",
	    "0.022205494919081671",
	    "9007199254740993",
	    "9007199254740992",
	    "1e22",
	    "1e23",
	    "8.589973e9",
	    "1.7976931348623157e308",
	    "2.2250738585072014e-308",
	    "5e-324",
	    "4.9e-324",
	    "1e400",
	    "-1e400",
	    "123456789012345678901234",
	    "0.000000000000000000000000000001234",
	    "12345678901234567890",
	    "1234567890123456789",
	    "0.1234567890123456789012",
	    "2.5",
	    "1e0",
	    "100e-2",
	    "7.0e-10",
	    "3.14159265358979323846264338327950288",
	    "1e-400",
	    /* exactly halfway between two doubles after a first rounding to 64
	     * bits: rounding twice would be one bit off */
	    "80748.72045841556246",
	    "8713.929540400665246",
	    "4.438034038900898287e-7",
	    /* 45 characters: longer than the quick reader takes */
	    "1.00000000000000000000000000000000000000000001",
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(numbers) / sizeof(numbers[0]); k++) {
		struct strbuf node = STRBUF_INIT;
		struct tree *t;
		const struct tree_node *n;
		double want = strtod(numbers[k], NULL);

		strbuf_addf(
		    &node,
		    "{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"score\":%s,\"temperature\":%s,"
		    "\"step\":{\"candidates\":[],\"scores\":[]},\"later\":[%s]}}",
		    numbers[k], numbers[k], numbers[k]);
		t = load_both_ways(node.data);
		n = tree_node(t, t->root);
		if (memcmp(&n->score, &want, sizeof(want)))
			print_error("%s: read %.17g, strtod %.17g\n", numbers[k], n->score, want);
		assert_memory_equal(&n->score, &want, sizeof(want)); /* -0 and 0 differ too */
		assert_true(n->temperature == (float)want || (want != want));
		tree_free(t);
		strbuf_release(&node);
	}
}

/* Deep values, odd whitespace, duplicate and escaped keys, unknown keys. */
static void test_odd_nodes(void **state)
{
	static const char *const nodes[] = {
	    /* deeper than the quick reader goes (cJSON reads it) */
	    "{\"id\":\"r\",\"text\":\"x\",\"deep\":"
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	    "{\"id\":\"r\",\"text\":\"x\",\"deep\":[[[[[[[[[[{\"a\":[[[{}]]]}]]]]]]]]]]}",
	    " { \"id\" : \"r\" ,\n\t\"text\" :\r\n\"x\" , \"weft\" : { } , \"u\" : [ ] } ",
	    /* unknown keys, twice, as cJSON writes them */
	    "{\"id\":\"r\",\"text\":\"x\",\"u\":1.50,\"u\":{\"a\":[true,false,null,\"s\\u00e9\"]},"
	    "\"v\":-0,\"w\":1e5,\"s\":\"a\\u0001\\/b\",\"weft\":{\"later\":{\"x\":0.1}}}",
	    /* a key written with escapes is the same key */
	    "{\"i\\u0064\":\"r\",\"te\\u0078t\":\"x\",\"\\u0067roup\":\"g\"}",
	    /* the usage object's other keys are ignored; the first of two is read */
	    "{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"usage\":{\"prompt\":3,\"prompt\":4,"
	    "\"completion\":5,\"cached\":9},\"model\":\"a\",\"model\":\"b\"}}",
	    "{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":1700000000123}",
	    "{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":-0}",
	    "{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":1e3}",
	    "{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":null}",
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(nodes) / sizeof(nodes[0]); k++) {
		struct tree *t = load_both_ways(nodes[k]);
		const struct tree_node *n = tree_node(t, t->root);

		assert_string_equal(n->id, "r");
		assert_string_equal(n->text, "x");
		if (k == 3) {
			assert_string_equal(
			    n->extra_json,
			    "\"u\":1.5,\"u\":{\"a\":[true,false,null,\"s\xc3\xa9\"]},"
			    "\"v\":-0,\"w\":100000,\"s\":\"a\\u0001/b\"");
			assert_string_equal(n->weft_extra_json, "\"later\":{\"x\":0.1}");
		}
		if (k == 4)
			assert_string_equal(n->group, "g");
		if (k == 5) {
			assert_int_equal(n->prompt_tokens, 3);
			assert_int_equal(n->completion_tokens, 5);
			assert_string_equal(n->model, "b");
		}
		if (k >= 6)
			assert_string_equal(n->last_visited, k == 6   ? "1700000000123"
							     : k == 7 ? "-0"
							     : k == 8 ? "1000"
								      : "null");
		tree_free(t);
	}
}

/*
 * The UTF-8 check runs ahead of the reader in pieces of a few hundred KiB:
 * a big file of three-byte characters has characters cut by every piece's
 * end, which must not count as invalid, and a bad byte far into the file
 * is still named where it is.
 */
static void big_utf8_file(struct strbuf *sb, size_t nodes, size_t *offsets)
{
	size_t i, k;

	strbuf_addstr(sb, "{\"nodes\":[");
	for (i = 0; i < nodes; i++) {
		strbuf_addf(sb, "%s{\"id\":\"n%zu\",\"text\":\"", i ? ",\n" : "", i);
		offsets[i] = sb->len;
		for (k = 0; k < 1000; k++)
			strbuf_addstr(sb, "\xe2\x82\xac"); /* the euro sign */
		strbuf_addstr(sb, "\",\"parentIds\":[");
		if (i)
			strbuf_addf(sb, "\"n%zu\"", i - 1);
		strbuf_addstr(sb, "],\"childrenIds\":[");
		if (i + 1 < nodes)
			strbuf_addf(sb, "\"n%zu\"", i + 1);
		strbuf_addstr(sb, "]}");
	}
	strbuf_addstr(sb, "],\"name\":\"big\"}");
}

static void test_big_file_utf8(void **state)
{
	enum { NODES = 400 }; /* 1.2 MB */
	struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
	size_t offsets[NODES];
	struct errbuf err = {{0}};
	struct tree *t = NULL;
	char *copy;

	(void)state;
	big_utf8_file(&sb, NODES, offsets);
	assert_true(sb.len > 1000000);
	if (session_load_buffer("big.json", sb.data, sb.len, &t, &err))
		print_error("%s\n", err.msg);
	assert_non_null(t);
	assert_int_equal(t->count, NODES);
	tree_free(t);
	/* a bad byte in node 300's text, far past the first piece: the second
	 * byte of a euro sign */
	copy = malloc(sb.len);
	memcpy(copy, sb.data, sb.len);
	copy[offsets[300] + 1501] = '\xff';
	assert_int_equal(session_load_buffer("big.json", copy, sb.len, &t, &err), -1);
	/* the character it cuts starts a byte before it */
	strbuf_addf(&want, "big.json: node 'n300': invalid UTF-8 (or a NUL byte) at byte %zu",
		    offsets[300] + 1500);
	assert_string_equal(err.msg, want.data);
	/* and a NUL after the nodes: named by line and column at the end */
	memcpy(copy, sb.data, sb.len);
	copy[sb.len - 4] = '\0';
	assert_int_equal(session_load_buffer("big.json", copy, sb.len, &t, &err), -1);
	strbuf_reset(&want);
	strbuf_addf(&want, "big.json:%d:", NODES);
	assert_non_null(strstr(err.msg, want.data));
	assert_non_null(strstr(err.msg, "invalid UTF-8 (or a NUL byte)"));
	free(copy);
	strbuf_release(&sb);
	strbuf_release(&want);
}

/* ---- malformed input ---------------------------------------------------- */

struct bad_case {
	const char *json;
	const char *expect; /* a part of the message */
};

#define N3(extra)                                                                                  \
	"{\"id\":\"r\",\"text\":\"R\",\"parentIds\":[],\"childrenIds\":[\"a\"]},"                  \
	"{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"],\"childrenIds\":[]}" extra

static const struct bad_case bad_cases[] = {
    {"", "empty file"},
    {"hello", "ok-bad.json:1:1: JSON syntax error"},
    {"{\"nodes\": [\n  {\"id\": \"r\",, }]}", "ok-bad.json:2:"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\"", "unexpected end of file"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\"}]", "unexpected end of file"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\"}]} x", "unexpected data after"},
    {"[1, 2]", "top level is not a JSON object"},
    {"{\"name\":\"x\"}", "missing \"nodes\""},
    {"{\"nodes\":{}}", "\"nodes\" is not an array"},
    {"{\"nodes\":[],\"nodes\":[]}", "\"nodes\" appears twice"},
    {"{\"nodes\":[]}", "no root"},
    {"{\"nodes\":[1]}", "nodes[0]: not an object"},
    {"{\"nodes\":[{\"text\":\"x\"}]}", "nodes[0]: missing \"id\""},
    {"{\"nodes\":[{\"id\":7,\"text\":\"x\"}]}", "nodes[0]: \"id\" is not a string"},
    {"{\"nodes\":[{\"id\":\"\",\"text\":\"x\"}]}", "\"id\" is empty"},
    {"{\"nodes\":[{\"id\":\"r\"}]}", "node 'r': missing \"text\""},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":[]}]}", "node 'r': \"text\" is not a string"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"id\":\"s\"}]}", "\"id\" appears twice"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"parentIds\":\"p\"}]}",
     "node 'r': \"parentIds\" is not an array"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"parentIds\":[1]}]}",
     "node 'r': \"parentIds\" holds a non-string"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"childrenIds\":{}}]}",
     "node 'r': \"childrenIds\" is not an array"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"childrenIds\":[null]}]}",
     "node 'r': \"childrenIds\" holds a non-string"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":5.5}]}",
     "node 'r': \"lastVisited\" is not a string, an integer or null"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":true}]}",
     "node 'r': \"lastVisited\" is not a string, an integer or null"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"lastVisited\":{}}]}",
     "node 'r': \"lastVisited\" is not a string, an integer or null"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"group\":true}]}",
     "node 'r': \"group\" is not a string"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":[]}]}",
     "node 'r': \"weft\" is not an object"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"score\":\"hi\"}}]}",
     "node 'r': \"weft.score\" is not a number"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"rank\":1.5}}]}",
     "node 'r': \"weft.rank\""},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"bookmark\":1}}]}",
     "node 'r': \"weft.bookmark\" is not true or false"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"usage\":{\"prompt\":-1}}}]}",
     "node 'r': \"weft.usage\""},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"step\":{\"pickedBy\":\"cat\"}}}]}",
     "node 'r': \"weft.step.pickedBy\""},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"step\":{\"candidates\":[],"
     "\"scores\":[1]}}}]}",
     "node 'r': \"weft.step.scores\" has 1 entries for 0 candidates"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"step\":{\"candidates\":[\"zz\"]}}}]}",
     "node 'r': \"weft.step.candidates\" names 'zz', which is not a node"},
    {"{\"nodes\":[" N3(",{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"]}") "]}",
     "node 'b': \"parentIds\" names 'a', whose"}, /* a does not list b */
    {"{\"nodes\":[" N3(",{\"id\":\"a\",\"text\":\"B\",\"parentIds\":[\"r\"]}") "]}",
     "node 'a': duplicate id"},
    {"{\"nodes\":[" N3(",{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"q\"]}") "]}",
     "node 'b': \"parentIds\" names 'q', which is not a node"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"q\"]}]}",
     "node 'r': \"childrenIds\" names 'q', which is not a node"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\",\"a\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"]}]}",
     "node 'r': \"childrenIds\" lists 'a' twice"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\",\"b\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"],\"childrenIds\":[\"c\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"r\"]},"
     "{\"id\":\"c\",\"text\":\"C\",\"parentIds\":[\"a\",\"b\"]}]}",
     "node 'c': has 2 parents"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"]}]}",
     "node 'b': \"parentIds\" names 'a', whose \"childrenIds\" does not list it"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\",\"b\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"]}]}",
     "node 'r': \"childrenIds\" lists 'b', whose \"parentIds\" names 'a'"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\"},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"b\"],\"childrenIds\":[\"b\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"],\"childrenIds\":[\"a\"]}]}",
     "cycle in parent links"},
    {"{\"nodes\":[{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"a\"],\"childrenIds\":[\"a\"]}]}",
     "node 'a': is its own parent"},
    {"{\"nodes\":[{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"b\"],\"childrenIds\":[\"b\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"],\"childrenIds\":[\"a\"]}]}",
     "no root"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\"},{\"id\":\"s\",\"text\":\"S\"}]}",
     "two roots: 'r' and 's'"},
    {"{\"nodes\":[" N3("") "],\"edges\":[{\"from\":\"a\",\"to\":\"r\"}]}",
     "edges[0]: edge 'a' -> 'r' disagrees with childrenIds"},
    {"{\"nodes\":[" N3(
	 ",{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"]}") "],"
								 "\"edges\":[{\"from\":\"r\","
								 "\"to\":\"a\"}]}",
     "node 'b': \"parentIds\" names 'a', whose"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\",\"b\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"r\"]}],"
     "\"edges\":[{\"from\":\"r\",\"to\":\"a\",\"relation\":\"parentId\"}]}",
     "node 'b': no edge from its parent in \"edges\""},
    {"{\"nodes\":[" N3("") "],\"edges\":[{\"from\":\"r\",\"to\":\"a\"},"
			   "{\"from\":\"r\",\"to\":\"a\"}]}",
     "edges[1]: edge 'r' -> 'a' appears twice"},
    {"{\"nodes\":[" N3("") "],\"edges\":[{\"from\":\"r\",\"to\":\"zz\"}]}",
     "edges[0]: \"to\" names 'zz', which is not a node"},
    {"{\"edges\":[{\"from\":\"qq\",\"to\":\"a\"}],\"nodes\":[" N3("") "]}",
     "edges[0]: \"from\" names 'qq', which is not a node"},
    {"{\"nodes\":[" N3("") "],\"edges\":[3]}", "edges[0]: not an object"},
    {"{\"nodes\":[" N3("") "],\"pathNodes\":[\"r\",\"zz\"]}", "pathNodes[1]: 'zz' is not a node"},
    {"{\"nodes\":[" N3("") "],\"pathNodes\":[\"a\"]}", "pathNodes[0]: 'a' is not the root"},
    {"{\"nodes\":[" N3(",{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"r\"]}") "]}",
     "node 'b': \"parentIds\" names 'r', whose"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\",\"childrenIds\":[\"a\"]},"
     "{\"id\":\"a\",\"text\":\"A\",\"parentIds\":[\"r\"],\"childrenIds\":[\"b\"]},"
     "{\"id\":\"b\",\"text\":\"B\",\"parentIds\":[\"a\"]}],\"pathNodes\":[\"r\",\"b\"]}",
     "pathNodes[1]: 'b' is not a child of 'r'"},
    {"{\"nodes\":[" N3("") "],\"pathNodes\":\"r\"}", "\"pathNodes\" is not an array"},
    {"{\"nodes\":[" N3("") "],\"focusedId\":\"zz\"}",
     "\"focusedId\" names 'zz', which is not a node"},
    {"{\"nodes\":[" N3("") "],\"focusedId\":3}", "\"focusedId\" is not a string"},
    {"{\"nodes\":[" N3("") "],\"name\":{}}", "\"name\" is not a string"},
    {"{\"nodes\":[" N3("") "],\"weft\":\"x\"}", "\"weft\" is not an object"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"bad \xff byte\"}]}", "node 'r': invalid UTF-8"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"overlong \xc0\xaf\"}]}", "node 'r': invalid UTF-8"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"surrogate \xed\xa0\x80\"}]}", "node 'r': invalid UTF-8"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"cut \xe2\x82\"}]}", "node 'r': invalid UTF-8"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"R\"}],\n\"name\":\"\xf5\x80\x80\x80\"}",
     "ok-bad.json:2:9: invalid UTF-8"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"a\\u0000b\"}]}", "node 'r': a string holds \\u0000"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"\\ud800\"}]}", "JSON syntax error"},
    /* cJSON reads these as U+0000 and would cut the text short */
    {"{\"nodes\":[\n{\"id\":\"r\",\"text\":\"a\\uZZZZb\"}]}",
     "ok-bad.json:2:20: a \\u escape without four hex digits"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"note\":\"\\u12G4x\"}}]}",
     "a \\u escape without four hex digits"},
    /* where cJSON stops, the quick reader's fallback says so too */
    {"{\"nodes\":[\n{\"id\":\"r\",\"text\":\"a\\qb\"}]}", "ok-bad.json:2:20: JSON syntax error"},
    {"{\"nodes\":[\n{\"id\":\"r\",\"text\":\"x\\ud83d\\u0041\"}]}",
     "ok-bad.json:2:20: JSON syntax error"},
    {"{\"nodes\":[\n{\"id\":\"r\",\n\"text\":\"\\udc00\"}]}", "ok-bad.json:3:9: JSON syntax error"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"score\":1.5.3}}]}",
     "ok-bad.json:1:51: JSON syntax error"},
    {"{\"nodes\":[\n {\"id\":\"r\",\"text\":\"x\", \"weft\":{\"rank\":-}}]}",
     "ok-bad.json:2:39: JSON syntax error"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"text\":\"y\"}]}",
     "nodes[0]: key \"text\" appears twice"},
    {"{\"nodes\":[{\"id\":\"r\",\"text\":\"x\",\"weft\":{\"step\":{},\"step\":{}}}]}",
     "node 'r': \"weft.step\" appears twice"},
};

static void test_malformed(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
		struct errbuf err = {{0}};
		struct tree *t = (struct tree *)&err; /* must be set to NULL */
		const char *json = bad_cases[k].json;
		int r = session_load_buffer("ok-bad.json", json, strlen(json), &t, &err);

		if (r != -1 || !strstr(err.msg, bad_cases[k].expect))
			print_error("case %zu: r=%d, message '%s', expected '%s'\n", k, r, err.msg,
				    bad_cases[k].expect);
		assert_int_equal(r, -1);
		assert_null(t);
		assert_non_null(strstr(err.msg, bad_cases[k].expect));
		assert_true(!strncmp(err.msg, "ok-bad.json", 11));
		assert_null(strchr(err.msg, '\n'));
	}
}

/* Every prefix of a valid file is rejected cleanly (truncation anywhere). */
static void test_every_truncation(void **state)
{
	size_t len = strlen(extras_json), n;

	(void)state;
	for (n = 0; n < len; n++) {
		struct errbuf err = {{0}};
		struct tree *t = NULL;

		/* a copy of exactly n bytes, so ASan sees any read past the end */
		char *buf = malloc(n ? n : 1);

		memcpy(buf, extras_json, n);
		assert_int_equal(session_load_buffer("cut.json", buf, n, &t, &err), -1);
		assert_null(t);
		assert_null(strchr(err.msg, '\n'));
		free(buf);
	}
}

static void test_load_file_errors(void **state)
{
	struct errbuf err = {{0}};
	struct tree *t = NULL;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_int_equal(session_load(path, &t, &err), -1);
	assert_non_null(strstr(err.msg, "missing.json: cannot open"));
	assert_int_equal(session_load(tmpdir, &t, &err), -1);
	assert_non_null(strstr(err.msg, "is a folder"));
	snprintf(path, sizeof(path), "%s/empty.json", tmpdir);
	write_file(path, "");
	assert_int_equal(session_load(path, &t, &err), -1);
	assert_non_null(strstr(err.msg, "empty.json: empty file"));
	assert_null(t);
}

/* ---- atomic saves ------------------------------------------------------- */

static void test_atomic_save(void **state)
{
	struct errbuf err = {{0}};
	struct tree *t = NULL;
	char path[512], ro[512], *before, *after;
	size_t blen, alen;
	struct stat st;
	char cmd[1024];

	(void)state;
	load_ok(extras_json, &t);

	/* a missing folder */
	snprintf(path, sizeof(path), "%s/no/such/dir/s.json", tmpdir);
	assert_int_equal(session_save(t, path, &err), -1);
	assert_non_null(strstr(err.msg, "s.json: cannot create a temporary file"));

	/* a folder that is a file */
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/plain/s.json", tmpdir);
	assert_int_equal(session_save(t, path, &err), -1);

	/* the target is a folder: rename fails, the folder and no temp file remain */
	snprintf(path, sizeof(path), "%s/isdir", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(cmd, sizeof(cmd), "%s/isdir/keep", tmpdir);
	write_file(cmd, "k");
	assert_int_equal(session_save(t, path, &err), -1);
	assert_non_null(strstr(err.msg, "isdir: cannot replace"));
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(hidden_entries(tmpdir), 0); /* temporaries are .NAME.XXXXXX */

	/* a read-only folder: the old file stays as it was */
	snprintf(ro, sizeof(ro), "%s/ro", tmpdir);
	assert_int_equal(mkdir(ro, 0755), 0);
	snprintf(path, sizeof(path), "%s/ro/s.json", tmpdir);
	write_file(path, "old contents");
	before = read_all(path, &blen);
	assert_int_equal(chmod(ro, 0555), 0);
	if (access(ro, W_OK) == 0) {
		print_message("note: running as root, a read-only folder is writable; "
			      "that part is skipped\n");
	} else {
		assert_int_equal(session_save(t, path, &err), -1);
		assert_non_null(strstr(err.msg, "s.json: cannot create a temporary file"));
		after = read_all(path, &alen);
		assert_int_equal(alen, blen);
		assert_memory_equal(before, after, blen);
		free(after);
	}
	assert_int_equal(chmod(ro, 0755), 0);
	free(before);

	/* temporary files a killed save left go with the next good save; a
	 * live writer's, another file's and a user's look-alikes stay */
	{
		pid_t dead = fork();
		char live[512], backup[512];

		assert_true(dead >= 0);
		if (dead == 0)
			_exit(0);
		assert_int_equal(waitpid(dead, NULL, 0), dead);
		snprintf(cmd, sizeof(cmd), "%s/ro/.s.json.weft-%ld-Ab3xYz", tmpdir, (long)dead);
		write_file(cmd, "half a save");
		snprintf(live, sizeof(live), "%s/ro/.s.json.weft-%ld-Ab3xYz", tmpdir,
			 (long)getppid());
		write_file(live, "a save in progress");
		snprintf(backup, sizeof(backup), "%s/ro/.s.json.backup", tmpdir);
		write_file(backup, "the user's");
		snprintf(ro, sizeof(ro), "%s/ro/.s.json.keep", tmpdir);
		write_file(ro, "k");
		assert_int_equal(session_save(t, path, &err), 0);
		assert_int_equal(stat(cmd, &st), -1);
		assert_int_equal(stat(live, &st), 0);
		assert_int_equal(stat(backup, &st), 0);
		assert_int_equal(stat(ro, &st), 0);
		unlink(live);
		unlink(backup);
		snprintf(cmd, sizeof(cmd), "%s/ro/.t.json.weft-%ld-Ab3xYz", tmpdir, (long)dead);
		write_file(cmd, "another file's");
		assert_int_equal(session_save(t, path, &err), 0);
		assert_int_equal(stat(cmd, &st), 0);
	}

	/* a session that is a symbolic link is saved to the file it points
	 * to, and stays a link; a link to nothing is refused */
	{
		char link[512], target[512], dangling[512];

		snprintf(target, sizeof(target), "%s/ro/target.json", tmpdir);
		snprintf(link, sizeof(link), "%s/ro/link.json", tmpdir);
		assert_int_equal(symlink("target.json", link), 0);
		write_file(target, "old");
		assert_int_equal(session_save(t, link, &err), 0);
		assert_int_equal(lstat(link, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
		tree_free(t);
		assert_int_equal(session_load(target, &t, &err), 0);
		check_extras(t);
		snprintf(dangling, sizeof(dangling), "%s/ro/dangling.json", tmpdir);
		assert_int_equal(symlink("nowhere/x.json", dangling), 0);
		assert_int_equal(session_save(t, dangling, &err), -1);
		assert_non_null(strstr(err.msg, "dangling.json: is a symbolic link"));
		assert_int_equal(lstat(dangling, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
		unlink(link);
		unlink(target);
		unlink(dangling);
	}

	/* and a good save replaces the file, keeping its mode */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(session_save(t, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	tree_free(t);
	assert_int_equal(session_load(path, &t, &err), 0);
	check_extras(t);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upstream_round_trip),
	    cmocka_unit_test(test_unknown_keys_and_metadata_survive),
	    cmocka_unit_test(test_new_nodes_are_valid_bonsai),
	    cmocka_unit_test(test_hostile_text_round_trip),
	    cmocka_unit_test(test_last_visited_of_other_looms),
	    cmocka_unit_test(test_deep_chain),
	    cmocka_unit_test(test_string_escapes),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_odd_nodes),
	    cmocka_unit_test(test_big_file_utf8),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_load_file_errors),
	    cmocka_unit_test(test_atomic_save),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}

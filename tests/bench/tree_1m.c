/*
 * Session benchmark (not a test): builds a 1,000,000-node tree the way
 * steering grows one (steps of 5 candidates, 80-200 bytes of UTF-8 text
 * each, scores, ranks, decision records), saves it, then reloads it in a
 * fresh process, printing times and peak RSS (getrusage ru_maxrss).
 *
 *   tree_1m save FILE [NODES]   build and save
 *   tree_1m load FILE           load, validate and walk
 *
 * `make bench-tree` runs both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "weft/errbuf.h"
#include "weft/session.h"
#include "weft/strbuf.h"
#include "weft/tree.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* 80-200 bytes of text with some multi-byte characters, whole characters. */
static void make_text(struct strbuf *sb)
{
	static const char *words[] = {"Does",	  "sugar",    "make",	  "children", "hyperactive?",
				      "\xc3\xa9t\xc3\xa9", "caf\xc3\xa9", "\xe2\x80\x94", "na\xc3\xafve",
				      "\xe2\x80\x9cwhy\xe2\x80\x9d", "Answer:", "Yes", "No",
				      "Question:", "evidence", "the", "of", "\xf0\x9f\x99\x82"};
	size_t want = 80 + rnd(121);

	strbuf_reset(sb);
	strbuf_addch(sb, ' ');
	while (sb->len < want) {
		const char *w = words[rnd(sizeof(words) / sizeof(words[0]))];

		if (sb->len + strlen(w) + 1 > 200)
			break;
		strbuf_addstr(sb, w);
		strbuf_addch(sb, rnd(9) ? ' ' : '\n');
	}
	while (sb->len < 80)
		strbuf_addch(sb, '.');
}

static int do_save(const char *path, uint32_t want)
{
	struct strbuf text = STRBUF_INIT;
	struct errbuf err;
	struct tree *t = tree_new();
	double t0, t1, t2;
	uint32_t owner = 0, k;
	struct stat st;

	t0 = now();
	make_text(&text);
	tree_add(t, TREE_NONE, NULL, text.data, text.len);
	while (t->count + 5 <= want) {
		struct tree_step *s = tree_step_get(t, owner);
		double sc[5], sum = 0;
		uint32_t kids[5], best = 0;

		for (k = 0; k < 5; k++) {
			sc[k] = 1 + rnd(1000);
			sum += sc[k];
		}
		for (k = 0; k < 5; k++) {
			make_text(&text);
			kids[k] = tree_add(t, owner, NULL, text.data, text.len);
			tree_set_model(t, kids[k], "gpt-3.5-turbo");
			tree_set_finish_reason(t, kids[k], "stop");
			tree_node(t, kids[k])->temperature = 1.0f;
			tree_node(t, kids[k])->flags |= TREE_HAS_TEMPERATURE | TREE_HAS_USAGE;
			tree_node(t, kids[k])->prompt_tokens = 300;
			tree_node(t, kids[k])->completion_tokens = 20 + rnd(40);
			sc[k] /= sum;
			if (sc[k] > sc[best])
				best = k;
		}
		for (k = 0; k < 5; k++) {
			uint32_t r = 1, j;

			for (j = 0; j < 5; j++)
				r += sc[j] > sc[k];
			tree_set_score(t, kids[k], sc[k], (int32_t)r);
			tree_step_add_candidate(s, kids[k], sc[k], 1);
		}
		tree_set_flag(t, kids[best], TREE_JUDGE_PICK, 1);
		s->judge_pick = s->final_pick = kids[best];
		s->picker = TREE_PICKER_AI;
		tree_step_set_str(&s->rank_mode, "logprobs");
		tree_step_set_str(&s->judge_raw, "1");
		owner++; /* breadth first: the next node grows the next step */
	}
	tree_set_focus(t, t->count - 1);
	tree_path_through(t, t->count - 1);
	tree_set_name(t, "bench");
	t1 = now();
	if (session_save(t, path, &err)) {
		fprintf(stderr, "tree_1m: %s\n", err.msg);
		return 1;
	}
	t2 = now();
	stat(path, &st);
	printf("build: %u nodes, %zu steps-worth, %.2f s\n", t->count, (size_t)owner, t1 - t0);
	printf("save:  %.2f s, %.1f MiB file, %.0f MiB/s\n", t2 - t1,
	       (double)st.st_size / 1048576.0, (double)st.st_size / 1048576.0 / (t2 - t1));
	printf("peak RSS after build and save: %.0f MiB\n", peak_mib());
	tree_free(t);
	strbuf_release(&text);
	return 0;
}

static int do_load(const char *path)
{
	struct errbuf err;
	struct tree *t;
	double t0, t1;
	size_t steps = 0;
	uint32_t i;

	t0 = now();
	if (session_load(path, &t, &err)) {
		fprintf(stderr, "tree_1m: %s\n", err.msg);
		return 1;
	}
	t1 = now();
	for (i = 0; i < t->count; i++)
		steps += t->nodes[i].step != NULL;
	printf("load:  %u nodes, %zu steps, path %zu, %.2f s\n", t->count, steps, t->path_len,
	       t1 - t0);
	printf("peak RSS of the loading process: %.0f MiB\n", peak_mib());
	tree_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "save"))
		return do_save(argv[2], argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1000000);
	if (argc == 3 && !strcmp(argv[1], "load"))
		return do_load(argv[2]);
	fputs("usage: tree_1m save FILE [NODES] | tree_1m load FILE\n", stderr);
	return 2;
}

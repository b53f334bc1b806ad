#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/cli.h"
#include "weft/errbuf.h"
#include "weft/journal.h"
#include "weft/session.h"
#include "weft/tree.h"
#include "weft/xalloc.h"
#include "weft/safetext.h"

static const char check_usage[] =
    "usage: weft check FILE\n"
    "\n"
    "Validates the session FILE (Bonsai JSON with weft's keys), with its\n"
    "journal FILE.journal replayed on it when there is one, and prints a\n"
    "summary: nodes, depth, branching, chosen path, leaves, bookmarks, steps\n"
    "with decision records and human overrides.  Exit status: 0 valid,\n"
    "1 invalid (one line naming the file, the node and the problem), 2 usage.\n";

struct summary {
	uint32_t *depth; /* per node */
	size_t nodes, max_depth, leaves, inner, children, max_children;
	size_t bookmarks, steps, overrides;
};

static int count_node(const struct tree *t, uint32_t i, void *ctx)
{
	struct summary *s = ctx;
	const struct tree_node *n = tree_node(t, i);
	size_t kids = tree_visible_children(t, i);

	s->depth[i] = n->parent == TREE_NONE ? 0 : s->depth[n->parent] + 1;
	if (s->depth[i] > s->max_depth)
		s->max_depth = s->depth[i];
	s->nodes++;
	if (kids) {
		s->inner++;
		s->children += kids;
		if (kids > s->max_children)
			s->max_children = kids;
	} else {
		s->leaves++;
	}
	if (n->flags & TREE_BOOKMARK)
		s->bookmarks++;
	if (n->step && n->step->count) {
		s->steps++;
		if (n->step->picker == TREE_PICKER_HUMAN &&
		    n->step->final_pick != n->step->judge_pick)
			s->overrides++;
	}
	return 0;
}

static int journal_exists(const char *session)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	journal_path(session, &p);
	r = access(p.data, F_OK) == 0;
	strbuf_release(&p);
	return r;
}

/* Returns -1 when the arguments are good (the one FILE), else the exit
 * status. */
static int check_parse(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(check_usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_unknown_option("check", check_usage, argv[i], 0);
	}
	if (argc != 2) {
		fputs(check_usage, stderr);
		return 2;
	}
	return -1;
}

/* The summary of the valid session t read from path; torn: the journal's
 * torn last line that was ignored, or NULL. */
static void print_check(const char *path, const struct tree *t, const char *torn)
{
	struct summary s;

	memset(&s, 0, sizeof(s));
	s.depth = xcalloc(t->count ? t->count : 1, sizeof(*s.depth));
	tree_walk(t, count_node, &s);
	fputs("ok: ", stdout);
	safetext_fputs(path, stdout);
	fputc('\n', stdout);
	if (t->name) {
		fputs("  name:        ", stdout);
		safetext_fputs(t->name, stdout);
		fputc('\n', stdout);
	}
	printf("  nodes:       %zu\n", s.nodes);
	printf("  depth:       %zu\n", s.max_depth);
	printf("  branching:   max %zu, mean %.2f children per inner node\n", s.max_children,
	       s.inner ? (double)s.children / (double)s.inner : 0.0);
	printf("  chosen path: %zu nodes\n", t->path_len);
	printf("  leaves:      %zu\n", s.leaves);
	printf("  bookmarks:   %zu\n", s.bookmarks);
	printf("  steps:       %zu with decision records, %zu human overrides\n", s.steps,
	       s.overrides);
	if (journal_exists(path)) {
		fputs(torn ? "  journal:     replayed; its torn last line was ignored: "
			   : "  journal:     replayed (changes not yet folded into the file)",
		      stdout);
		if (torn)
			safetext_fputs(torn, stdout);
		fputc('\n', stdout);
	}
	free(s.depth);
}

static int check_run(const char *path)
{
	struct errbuf err;
	struct tree *t;
	int replayed;

	if (session_load(path, &t, &err))
		return cli_error("check", err.msg);
	replayed = journal_replay(path, t, &err);
	if (replayed < 0) {
		tree_free(t);
		return cli_error("check", err.msg);
	}
	print_check(path, t, replayed ? err.msg : NULL);
	tree_free(t);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	int r = check_parse(argc, argv);

	return r >= 0 ? r : check_run(argv[1]);
}

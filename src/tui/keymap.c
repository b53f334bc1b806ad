/*
 * The key table: each binding names its keys, the label and help line the
 * `?` page shows (tui_keymap_help generates it from here) and the action
 * it runs.  A key is added here and nowhere else.
 */
#include "loom.h"

#include "weft/strbuf.h"

#define KEYMAP_LEN (sizeof(keymap) / sizeof(keymap[0]))

/* The one keymap: dispatch and the `?` screen both read it. */
static const struct binding keymap[] = {
    {{'h', KEY_LEFT, 0}, "h Left", "go to the parent", act_parent, 0},
    {{'l', KEY_RIGHT, 0}, "l Right", "go to the highlighted candidate (child)", act_child, 0},
    {{'k', KEY_UP, 0}, "k Up", "go to the previous sibling", act_sibling, -1},
    {{'j', KEY_DOWN, 0}, "j Down", "go to the next sibling", act_sibling, 1},
    {{'\t', 0}, "Tab", "highlight the next candidate", act_next_candidate, 1},
    {{KEY_BTAB, 0}, "S-Tab", "highlight the previous candidate", act_next_candidate, -1},
    {{'\n', '\r', KEY_ENTER, 0},
     "Enter",
     "accept the judge's pick (or the highlighted candidate) and move on",
     act_accept,
     0},
    {{'1', 0}, "1-9", "pick that candidate (an override, recorded as human)", act_pick, 1},
    {{'2', 0}, NULL, NULL, act_pick, 2},
    {{'3', 0}, NULL, NULL, act_pick, 3},
    {{'4', 0}, NULL, NULL, act_pick, 4},
    {{'5', 0}, NULL, NULL, act_pick, 5},
    {{'6', 0}, NULL, NULL, act_pick, 6},
    {{'7', 0}, NULL, NULL, act_pick, 7},
    {{'8', 0}, NULL, NULL, act_pick, 8},
    {{'9', 0}, NULL, NULL, act_pick, 9},
    {{'c', 0},
     "c",
     "choose: make the branch shown the chosen path (what x, v and the balance use; u undoes)",
     act_choose,
     0},
    {{'e', 0}, "e", "edit the focused node in $EDITOR (as a new sibling)", act_edit, 0},
    {{'d', 0}, "d", "prune the focused subtree (asks y/n; undoable)", act_prune, 0},
    {{'u', 0}, "u", "undo the last tree change", act_history, -1},
    {{CTRL('r'), 0}, "C-r", "redo", act_history, 1},
    {{'b', 0}, "b", "bookmark the focused node (toggle)", act_bookmark, 0},
    {{'/', 0},
     "/",
     "search text across the tree (case counts only when the search has a capital)",
     act_search,
     0},
    {{'n', 0}, "n", "next search match (says which of how many)", act_search_next, 1},
    {{'s', 0}, "s", "save the session", act_save, 0},
    {{'t', 0}, "t", "cycle the theme (default, light, mono)", act_theme, 0},
    {{'g', 0}, "g", "run a steering step at the focused node", act_generate, 0},
    {{'G', 0}, "G", "add more candidates to this step (all are judged again)", act_generate, 1},
    {{'a', 0},
     "a",
     "autopilot on/off (steps until stopped, a person is needed, or the rounds)",
     act_autopilot,
     0},
    {{27, 0}, "Esc", "cancel the step in flight (and autopilot)", act_cancel, 0},
    {{'v', 0}, "v", "evaluation preview: the path's pairs on the configured scorers", act_eval, 0},
    {{'x', 0}, "x", "export the chosen path's pairs (Tab picks the format)", act_export, 0},
    {{'r', 0},
     "r",
     "replay the chosen path's steps (Right/n, Left/p, Space plays, Esc leaves)",
     act_replay,
     0},
    {{CTRL('l'), 0}, "C-l", "redraw the screen", act_redraw, 0},
    {{'?', 0}, "?", "this help", act_help, 0},
    {{'q', 0}, "q", "quit (saving)", act_quit, 0},
    {{'M', 0},
     "M",
     "map the chosen path's pairs (clusters, near-duplicates, shortcuts; map.html beside the "
     "session)",
     act_map,
     0},
    /* after q: the help page's first screen keeps the keys a newcomer
     * needs first */
    {{'m', 0},
     "m",
     "the recent messages in full (an error's whole cause), newest first",
     act_messages,
     0},
    {{'p', 0},
     "p",
     "the pairs page: the chosen path's pairs, to reject, relabel and verify (keys below)",
     act_pairs,
     0},
    {{'N', 0}, "N", "previous search match", act_search_next, -1},
    {{'\'', 0}, "'", "go to the next bookmark (wrapping)", act_next_bookmark, 0},
    {{KEY_NPAGE, 0}, "PgDn", "a page down the tree's line", act_page, 1},
    {{KEY_PPAGE, 0}, "PgUp", "a page up the tree's line", act_page, -1},
    {{KEY_HOME, 0}, "Home", "go to the root (the first line)", act_ends, -1},
    {{KEY_END, 0}, "End", "go to the end of the tree's line (the last line)", act_ends, 1},
    {{CTRL('c'), 0}, NULL, NULL, act_ctrl_c, 0},
};

/*
 * The pairs page's keys (p): on that page these and no others.  Keys the
 * loom also has (u, s, ?) run the loom's action, so an undo on the page
 * is the loom's undo.
 */
static const struct binding pairs_keymap[] = {
    {{'j', KEY_DOWN, 0}, "j Down", "next pair", act_pairs_move, 1},
    {{'k', KEY_UP, 0}, "k Up", "previous pair", act_pairs_move, -1},
    {{KEY_NPAGE, 0}, "PgDn", "a page of pairs down", act_pairs_page, 1},
    {{KEY_PPAGE, 0}, "PgUp", "a page of pairs up", act_pairs_page, -1},
    {{KEY_HOME, 0}, "Home", "the first pair", act_pairs_ends, -1},
    {{KEY_END, 0}, "End", "the last pair", act_pairs_ends, 1},
    {{'x', 0}, "x", "reject the pair, or keep it again (toggle; u undoes)", act_pairs_reject, 0},
    {{'r', 0},
     "r",
     "relabel the pair: the task's next label (back to its own keeps it)",
     act_pairs_relabel,
     0},
    {{'e', 0},
     "e",
     "edit the pair's answer in $EDITOR (as a new sibling, as e does)",
     act_pairs_edit,
     0},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", "go to the pair's node in the tree", act_pairs_jump, 0},
    {{'o', 0},
     "o",
     "sort: in order, by verifier confidence (lowest first), flagged first",
     act_pairs_sort,
     0},
    {{'f', 0},
     "f",
     "show only flagged pairs (near-duplicates, doubted by the verifier), or all",
     act_pairs_filter,
     0},
    {{'v', 0},
     "v",
     "verify the pair with the verifier (its p shows when it comes)",
     act_pairs_verify,
     0},
    {{'V', 0},
     "V",
     "verify every pair listed (the page stays usable: verifying k of n)",
     act_pairs_verify,
     1},
    {{'u', 0}, "u", "undo the last change (a decision too)", act_history, -1},
    {{CTRL('r'), 0}, "C-r", "redo", act_history, 1},
    {{'s', 0}, "s", "save the session", act_save, 0},
    {{'?', 0}, "?", "this help", act_help, 0},
    {{'q', 'p', 27, 0}, "q p Esc", "back to the tree", act_pairs_back, 0},
    {{CTRL('l'), 0}, NULL, NULL, act_redraw, 0},
    {{CTRL('c'), 0}, NULL, NULL, act_ctrl_c, 0},
};

#define PAIRS_KEYMAP_LEN (sizeof(pairs_keymap) / sizeof(pairs_keymap[0]))

static void help_lines(const struct binding *map, size_t n, const char *indent, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (map[i].label)
			strbuf_addf(out, "%s%-8s %s\n", indent, map[i].label, map[i].help);
}

/* The loom's keys, then the pairs page's under a line of its own (shaped
 * as a key line, so that every line of --keys reads "KEY  WHAT"). */
void tui_keymap_help(struct strbuf *out)
{
	help_lines(keymap, KEYMAP_LEN, "", out);
	strbuf_addf(out, "\n%-8s %s\n", "p page", "on the pairs page, these keys instead:");
	help_lines(pairs_keymap, PAIRS_KEYMAP_LEN, "  ", out);
}

static const struct binding *find_in(const struct binding *map, size_t n, int key)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < 4 && map[i].keys[k]; k++)
			if (map[i].keys[k] == key)
				return &map[i];
	return NULL;
}

const struct binding *keymap_find(int key)
{
	return find_in(keymap, KEYMAP_LEN, key);
}

const struct binding *keymap_find_pairs(int key)
{
	return find_in(pairs_keymap, PAIRS_KEYMAP_LEN, key);
}

int keymap_changes_session(const struct tui *u, const struct binding *b)
{
	static const action_fn writers[] = {
	    act_accept,	      act_pick,		 act_edit,	 act_prune,	   act_history,
	    act_bookmark,     act_save,		 act_generate,	 act_autopilot,	   act_choose,
	    act_pairs_reject, act_pairs_relabel, act_pairs_edit, act_pairs_verify,
	};
	size_t k;

	/* turning autopilot off only stops it */
	if (b->fn == act_autopilot && u->autopilot)
		return 0;
	for (k = 0; k < sizeof(writers) / sizeof(writers[0]); k++)
		if (b->fn == writers[k])
			return 1;
	return 0;
}

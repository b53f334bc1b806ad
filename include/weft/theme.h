#ifndef WEFT_THEME_H
#define WEFT_THEME_H
/*
 * Colour themes: a table of screen roles, each with a foreground, a
 * background and attributes.  Drawing code names a role, never a colour.
 *
 * A theme file (themes/NAME) is text, one role a line:
 *
 *     # comment
 *     ROLE  FOREGROUND  BACKGROUND  [ATTRIBUTE...]
 *
 * ROLE is one of theme_role_name()'s names; a colour is "default", one of
 * black red green yellow blue magenta cyan white, "bright-" one of those, or
 * a number 0..255; attributes are bold dim underline reverse standout italic
 * (or "none").  Roles a file does not name take the style of "normal".  Any
 * other content is an error naming the file and line.  Files larger than
 * THEME_MAX_BYTES are refused.  This module is the parser and table only;
 * the screen applies a theme with curses.
 */
#include <stddef.h>

#include "weft/errbuf.h"

#define THEME_MAX_BYTES	     (64u * 1024u)
#define THEME_DEFAULT_COLOUR (-1)

enum theme_role {
	THEME_NORMAL = 0,  /* "normal": background of every area */
	THEME_BORDER,	   /* "border": area titles and dividers */
	THEME_TREE,	   /* "tree": a node in the outline */
	THEME_PATH,	   /* "path": a node on the chosen path */
	THEME_FOCUS,	   /* "focus": the focused node in the outline */
	THEME_TEXT,	   /* "text": the document */
	THEME_TEXT_FOCUS,  /* "text-focus": the focused node's text */
	THEME_CANDIDATE,   /* "candidate": a candidate of the step */
	THEME_SELECTED,	   /* "selected": the highlighted candidate */
	THEME_BAR,	   /* "bar": score bars */
	THEME_JUDGE,	   /* "judge": the judge's pick mark */
	THEME_HUMAN,	   /* "human": the person's pick mark */
	THEME_BOOKMARK,	   /* "bookmark": bookmark mark */
	THEME_STATUS,	   /* "status": the status line */
	THEME_ERROR,	   /* "error": errors in the status line */
	THEME_MATCH,	   /* "match": search matches */
	THEME_HELP,	   /* "help": the help screen */
	THEME_BROWSE,	   /* "browse": a node of the branch browsed, off the chosen path */
	THEME_TEXT_BROWSE, /* "text-browse": its text in the document */
	THEME_ROLE_COUNT
};

enum theme_attr {
	THEME_BOLD = 1u << 0,
	THEME_DIM = 1u << 1,
	THEME_UNDERLINE = 1u << 2,
	THEME_REVERSE = 1u << 3,
	THEME_STANDOUT = 1u << 4,
	THEME_ITALIC = 1u << 5,
};

struct theme_style {
	short fg, bg;	/* 0..255 or THEME_DEFAULT_COLOUR */
	unsigned attrs; /* enum theme_attr */
};

struct theme {
	char name[64];
	struct theme_style roles[THEME_ROLE_COUNT];
};

/* The role's name in theme files ("text-focus"), or NULL when out of range. */
const char *theme_role_name(enum theme_role role);

/* Fills t with the built-in theme "default" or "mono" (used when no file is
 * found, and mono for NO_COLOR).  Returns 0, or -1 for another name. */
int theme_init_builtin(struct theme *t, const char *name);

/*
 * Parses a theme from len bytes of data; name (the file's path) appears in
 * errors and its last component becomes t->name.  Returns 0, or -1 with err
 * set to "NAME:LINE: what is wrong" and t unchanged.
 */
int theme_parse(struct theme *t, const char *name, const char *data, size_t len,
		struct errbuf *err);
/* Reads and parses the file at path (same contract). */
int theme_load(struct theme *t, const char *path, struct errbuf *err);

struct strbuf;

/*
 * Finds the theme called name: the file dir/NAME when dir is not NULL,
 * else NAME in the first of datadir.h's places for "themes" that has it
 * ($WEFT_THEMES, ./themes, beside the executable, the installed share
 * folder).  Appends the file's path to path and returns 0; returns 1 when
 * no file has it but a built-in theme does (default, mono), -1 when
 * neither (path unchanged).
 */
int theme_find(const char *dir, const char *name, struct strbuf *path);

/* Appends to out the names of the themes theme_find finds (files in
 * those places and the built-ins), sorted, one each, ", " between. */
void theme_names(const char *dir, struct strbuf *out);

/* Drops every colour, keeping attributes (for NO_COLOR and the mono theme). */
void theme_strip_colours(struct theme *t);

#endif

/*
 * Theme files (weft/theme.h): the role and colour names, the built-in
 * default and mono themes (for when no file is found), parsing a file into
 * a table of roles, and finding a theme by name.  Nothing here knows curses: term.c turns a
 * role into colours and attributes on the screen.
 */
#include "weft/theme.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/datadir.h"
#include "weft/display.h"
#include "weft/regfile.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

static const char *const role_names[THEME_ROLE_COUNT] = {
    [THEME_NORMAL] = "normal",
    [THEME_BORDER] = "border",
    [THEME_TREE] = "tree",
    [THEME_PATH] = "path",
    [THEME_FOCUS] = "focus",
    [THEME_TEXT] = "text",
    [THEME_TEXT_FOCUS] = "text-focus",
    [THEME_CANDIDATE] = "candidate",
    [THEME_SELECTED] = "selected",
    [THEME_BAR] = "bar",
    [THEME_JUDGE] = "judge",
    [THEME_HUMAN] = "human",
    [THEME_BOOKMARK] = "bookmark",
    [THEME_STATUS] = "status",
    [THEME_ERROR] = "error",
    [THEME_MATCH] = "match",
    [THEME_HELP] = "help",
    [THEME_BROWSE] = "browse",
    [THEME_TEXT_BROWSE] = "text-browse",
};

static const char *const colour_names[8] = {"black", "red",	"green", "yellow",
					    "blue",  "magenta", "cyan",	 "white"};

static const struct {
	const char *name;
	unsigned attr;
} attr_names[] = {
    {"bold", THEME_BOLD},
    {"dim", THEME_DIM},
    {"underline", THEME_UNDERLINE},
    {"reverse", THEME_REVERSE},
    {"standout", THEME_STANDOUT},
    {"italic", THEME_ITALIC},
    {"none", 0},
};

/* The built-in default, the same as themes/default. */
static const char builtin_default[] = "normal default default\n"
				      "border cyan default bold\n"
				      "tree default default\n"
				      "path green default\n"
				      "focus black yellow bold\n"
				      "text default default\n"
				      "text-focus black cyan\n"
				      "candidate default default\n"
				      "selected black yellow\n"
				      "bar blue default\n"
				      "judge yellow default bold\n"
				      "human magenta default bold\n"
				      "bookmark cyan default bold\n"
				      "status black white\n"
				      "error white red bold\n"
				      "match black green\n"
				      "help default default\n"
				      "browse yellow default\n"
				      "text-browse yellow default\n";

/* The built-in mono theme, the same as themes/mono: attributes only. */
static const char builtin_mono[] = "normal default default\n"
				   "border default default bold\n"
				   "tree default default\n"
				   "path default default bold\n"
				   "focus default default reverse bold\n"
				   "text default default\n"
				   "text-focus default default reverse\n"
				   "candidate default default\n"
				   "selected default default reverse\n"
				   "bar default default bold\n"
				   "judge default default bold\n"
				   "human default default bold underline\n"
				   "bookmark default default bold\n"
				   "status default default reverse\n"
				   "error default default reverse bold\n"
				   "match default default underline bold\n"
				   "help default default\n"
				   "browse default default italic\n"
				   "text-browse default default underline\n";

const char *theme_role_name(enum theme_role role)
{
	if ((int)role < 0 || role >= THEME_ROLE_COUNT)
		return NULL;
	return role_names[role];
}

int theme_init_builtin(struct theme *t, const char *name)
{
	struct errbuf err;
	int mono = !strcmp(name, "mono");

	if (!mono && strcmp(name, "default"))
		return -1;
	/* The built-in texts are ours and valid (the unit test parses them). */
	memset(t, 0, sizeof(*t));
	if (mono)
		return theme_parse(t, "mono", builtin_mono, sizeof(builtin_mono) - 1, &err);
	return theme_parse(t, "default", builtin_default, sizeof(builtin_default) - 1, &err);
}

static int parse_colour(const char *w, short *out)
{
	size_t i;
	const char *base = w;
	int bright = 0;
	char *end;
	long v;

	if (!strcmp(w, "default")) {
		*out = THEME_DEFAULT_COLOUR;
		return 0;
	}
	if (!strncmp(w, "bright-", 7)) {
		bright = 8;
		base = w + 7;
	}
	for (i = 0; i < 8; i++) {
		if (!strcmp(base, colour_names[i])) {
			*out = (short)(i + (size_t)bright);
			return 0;
		}
	}
	if (bright || *w < '0' || *w > '9')
		return -1;
	errno = 0;
	v = strtol(w, &end, 10);
	if (errno || *end || v < 0 || v > 255)
		return -1;
	*out = (short)v;
	return 0;
}

/* Splits line (modified in place) into at most max words. Returns the count,
 * or max + 1 when there are more. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return max + 1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* err's text quotes file content: sanitize what we quote. */
static int bad_word(struct errbuf *err, const char *name, size_t line, const char *what,
		    const char *word)
{
	char *safe_name = display_sanitize_dup(name);
	char *safe = display_sanitize_dup(word);

	errbuf_set(err, "%s:%zu: %s '%s'", safe_name, line, what, safe);
	free(safe_name);
	free(safe);
	return -1;
}

/* The attributes words[0..count) name, or -1 with err naming the word. */
static int parse_attrs(char **words, size_t count, unsigned *attrs, const char *name, size_t lineno,
		       struct errbuf *err)
{
	size_t i, j, k = sizeof(attr_names) / sizeof(attr_names[0]);

	*attrs = 0;
	for (i = 0; i < count; i++) {
		for (j = 0; j < k; j++)
			if (!strcmp(words[i], attr_names[j].name))
				break;
		if (j == k)
			return bad_word(err, name, lineno, "unknown attribute", words[i]);
		*attrs |= attr_names[j].attr;
	}
	return 0;
}

/*
 * One line of a theme file (NUL-free, comment cut off, modified in place):
 * "ROLE FOREGROUND BACKGROUND [ATTRIBUTE...]" sets that role in out (each
 * role once, seen records which); a blank line sets nothing.  Returns 0,
 * or -1 with err naming the file, the line and the word.
 */
static int parse_line(struct theme *out, int *seen, char *line, const char *name, size_t lineno,
		      struct errbuf *err)
{
	char *words[16];
	struct theme_style style;
	size_t count = split_words(line, words, 15), i;
	int role = -1;

	if (count == 0)
		return 0;
	if (count > 15 || count < 3) {
		char *safe_name = display_sanitize_dup(name);

		errbuf_set(err, "%s:%zu: expected 'ROLE FOREGROUND BACKGROUND [ATTRIBUTE...]'",
			   safe_name, lineno);
		free(safe_name);
		return -1;
	}
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		if (!strcmp(words[0], role_names[i]))
			role = (int)i;
	if (role < 0)
		return bad_word(err, name, lineno, "unknown role", words[0]);
	if (seen[role])
		return bad_word(err, name, lineno, "role set twice:", words[0]);
	if (parse_colour(words[1], &style.fg) < 0)
		return bad_word(err, name, lineno, "unknown foreground colour", words[1]);
	if (parse_colour(words[2], &style.bg) < 0)
		return bad_word(err, name, lineno, "unknown background colour", words[2]);
	if (parse_attrs(words + 3, count - 3, &style.attrs, name, lineno, err) < 0)
		return -1;
	seen[role] = 1;
	out->roles[role] = style;
	return 0;
}

int theme_parse(struct theme *t, const char *name, const char *data, size_t len, struct errbuf *err)
{
	struct theme out;
	struct strbuf line = STRBUF_INIT;
	int seen[THEME_ROLE_COUNT] = {0};
	size_t pos = 0, lineno = 0, i;
	const char *base;
	int ret = -1;

	if (len > THEME_MAX_BYTES) {
		char *safe_name = display_sanitize_dup(name);

		errbuf_set(err, "%s: theme file larger than %u bytes", safe_name, THEME_MAX_BYTES);
		free(safe_name);
		return -1;
	}
	memset(&out, 0, sizeof(out));
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		out.roles[i].fg = out.roles[i].bg = THEME_DEFAULT_COLOUR;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		char *hash;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, data + pos, n);
		pos += n + (nl ? 1 : 0);
		if (line.len && line.data[line.len - 1] == '\r')
			strbuf_truncate(&line, line.len - 1);
		if (memchr(line.data, '\0', line.len)) {
			bad_word(err, name, lineno, "NUL byte in line", "");
			goto out;
		}
		hash = strchr(line.data, '#');
		if (hash)
			*hash = '\0';
		if (parse_line(&out, seen, line.data, name, lineno, err) < 0)
			goto out;
	}
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		if (!seen[i])
			out.roles[i] = out.roles[THEME_NORMAL];
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	snprintf(out.name, sizeof(out.name), "%s", base);
	*t = out;
	ret = 0;
out:
	strbuf_release(&line);
	return ret;
}

int theme_load(struct theme *t, const char *path, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf ferr;
	FILE *f = regfile_fopen(path, &ferr);
	char buf[4096];
	size_t n;
	int ret;

	if (!f) {
		char *safe = display_sanitize_dup(ferr.msg);

		errbuf_set(err, "%s", safe);
		free(safe);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		strbuf_add(&sb, buf, n);
		if (sb.len > THEME_MAX_BYTES)
			break;
	}
	if (ferror(f)) {
		char *safe = display_sanitize_dup(path);

		errbuf_set(err, "%s: read error", safe);
		free(safe);
		fclose(f);
		strbuf_release(&sb);
		return -1;
	}
	fclose(f);
	ret = theme_parse(t, path, sb.data, sb.len, err);
	strbuf_release(&sb);
	return ret;
}

void theme_strip_colours(struct theme *t)
{
	size_t i;

	for (i = 0; i < THEME_ROLE_COUNT; i++)
		t->roles[i].fg = t->roles[i].bg = THEME_DEFAULT_COLOUR;
}

/* The folders theme_find looks in: dir alone, else datadir.h's. */
static void theme_places(struct datadir *d, const char *dir)
{
	if (dir) {
		memset(d, 0, sizeof(*d));
		d->dirs[d->count++] = xstrdup(dir);
	} else {
		datadir_init(d, "themes", "WEFT_THEMES");
	}
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int theme_find(const char *dir, const char *name, struct strbuf *path)
{
	struct strbuf cand = STRBUF_INIT;
	struct datadir places;
	struct theme t;
	size_t i;
	int ret = -1;

	if (!*name || strchr(name, '/') || name[0] == '.')
		return -1;
	theme_places(&places, dir);
	for (i = 0; i < places.count && ret < 0; i++) {
		strbuf_reset(&cand);
		strbuf_addf(&cand, "%s/%s", places.dirs[i], name);
		if (is_file(cand.data) && access(cand.data, R_OK) == 0) {
			strbuf_addstr(path, cand.data);
			ret = 0;
		}
	}
	if (ret < 0 && theme_init_builtin(&t, name) == 0)
		ret = 1;
	strbuf_release(&cand);
	datadir_release(&places);
	return ret;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds name to names unless it is there. */
static void add_name(char ***names, size_t *count, size_t *cap, const char *name)
{
	size_t i;

	for (i = 0; i < *count; i++)
		if (!strcmp((*names)[i], name))
			return;
	XGROW(*names, *cap, *count + 1);
	(*names)[(*count)++] = xstrdup(name);
}

void theme_names(const char *dir, struct strbuf *out)
{
	struct datadir places;
	struct strbuf cand = STRBUF_INIT;
	char **names = NULL;
	size_t count = 0, cap = 0, i;

	theme_places(&places, dir);
	add_name(&names, &count, &cap, "default");
	add_name(&names, &count, &cap, "mono");
	for (i = 0; i < places.count; i++) {
		DIR *d = opendir(places.dirs[i]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			strbuf_reset(&cand);
			strbuf_addf(&cand, "%s/%s", places.dirs[i], e->d_name);
			if (is_file(cand.data))
				add_name(&names, &count, &cap, e->d_name);
		}
		closedir(d);
	}
	qsort(names, count, sizeof(*names), compare_names);
	for (i = 0; i < count; i++) {
		strbuf_addf(out, "%s%s", i ? ", " : "", names[i]);
		free(names[i]);
	}
	free(names);
	strbuf_release(&cand);
	datadir_release(&places);
}

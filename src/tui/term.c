/*
 * The terminal: starting curses, giving the terminal back on every path out
 * (a normal stop, out of memory through xalloc's hook, a fatal signal) and
 * to the editor, the stop signals the loop watches, and the theme's roles
 * as curses colours and attributes (t cycles the themes).
 */
#include "loom.h"

#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/xalloc.h"

static const char *const theme_cycle[] = {"default", "light", "mono"};
#define THEME_CYCLE_LEN (sizeof(theme_cycle) / sizeof(theme_cycle[0]))

static volatile sig_atomic_t curses_active;
static volatile sig_atomic_t stop_signal;

static void restore_terminal(void)
{
	if (curses_active) {
		curses_active = 0;
		endwin();
	}
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "weft: fatal signal; terminal restored\n";
	ssize_t n;

	restore_terminal();
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(int on)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	static const int stop[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? on_fatal_signal : SIG_DFL;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	sa.sa_handler = on ? on_stop_signal : SIG_DFL;
	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		sigaction(stop[i], &sa, NULL);
}

/* Makes sure wide characters work: the environment's locale if it is UTF-8,
 * else C.UTF-8 for the character type. */
static void ensure_utf8_locale(void)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	if (cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")))
		return;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
}

int term_stop_signal(void)
{
	return (int)stop_signal;
}

/* Leaves the screen as the file had it (def_prog_mode) for a child that
 * uses the terminal; Ctrl-C there is the child's. */
void term_suspend(void)
{
	def_prog_mode();
	restore_terminal();
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
}

/* In the child, after fork: every signal as a new program expects it. */
void term_child_signals(void)
{
	install_signals(0);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
}

void term_resume(void)
{
	install_signals(1);
	reset_prog_mode();
	curses_active = 1;
	refresh();
}

/* ---- themes ---------------------------------------------------------------- */

attr_t role_attr(const struct tui *u, enum theme_role role)
{
	unsigned a = u->theme.roles[role].attrs;
	attr_t out = 0;

	if (a & THEME_BOLD)
		out |= A_BOLD;
	if (a & THEME_DIM)
		out |= A_DIM;
	if (a & THEME_UNDERLINE)
		out |= A_UNDERLINE;
	if (a & THEME_REVERSE)
		out |= A_REVERSE;
	if (a & THEME_STANDOUT)
		out |= A_STANDOUT;
#ifdef A_ITALIC
	if (a & THEME_ITALIC)
		out |= A_ITALIC;
#endif
	if (u->has_colors)
		out |= COLOR_PAIR((int)role + 1);
	return out;
}

static short clamp_colour(short c)
{
	if (c < 0)
		return -1;
	if (c >= COLORS)
		return (short)(c % 8);
	return c;
}

static void apply_theme(struct tui *u)
{
	size_t i;

	if (!u->has_colors)
		return;
	for (i = 0; i < THEME_ROLE_COUNT; i++)
		init_pair((short)(i + 1), clamp_colour(u->theme.roles[i].fg),
			  clamp_colour(u->theme.roles[i].bg));
}

/* Loads theme name: from the themes folder, else built-in; keeps the current
 * theme and says why on failure. */
int load_theme(struct tui *u, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	struct theme th;
	int found, ret = -1;

	found = theme_find(u->opts ? u->opts->themes_dir : NULL, name, &path);
	if (found == 0) {
		if (theme_load(&th, path.data, &err) == 0) {
			ret = 0;
		} else {
			set_msg(u, MSG_ERROR, "%s", err.msg);
		}
	} else if (found == 1 && theme_init_builtin(&th, name) == 0) {
		ret = 0;
	} else {
		set_msg(u, MSG_ERROR, "theme '%s' not found", name);
	}
	if (ret == 0) {
		if (u->no_color)
			theme_strip_colours(&th);
		u->theme = th;
		apply_theme(u);
	}
	strbuf_release(&path);
	return ret;
}

unsigned act_theme(struct tui *u, int arg)
{
	size_t tries;

	(void)arg;
	for (tries = 0; tries < THEME_CYCLE_LEN; tries++) {
		u->theme_index = (u->theme_index + 1) % THEME_CYCLE_LEN;
		if (load_theme(u, theme_cycle[u->theme_index]) == 0) {
			set_msg(u, MSG_INFO, "theme %s%s", u->theme.name,
				u->no_color ? " (NO_COLOR: no colours)" : "");
			break;
		}
	}
	return REDRAW_ALL;
}

/* ---- start and stop ---------------------------------------------------------- */

/* The theme to start with: tui_options' or the default for NO_COLOR. */
static const char *start_theme(const struct tui *u)
{
	if (u->opts && u->opts->theme)
		return u->opts->theme;
	return u->no_color ? "mono" : "default";
}

int term_start(struct tui *u, FILE *out, FILE *in, struct errbuf *err)
{
	size_t i;

	ensure_utf8_locale();
	u->scr = newterm(NULL, out, in);
	if (!u->scr)
		return errbuf_set(err, "cannot start the screen (TERM=%s)",
				  getenv("TERM") ? getenv("TERM") : "unset");
	curses_active = 1;
	stop_signal = 0;
	xalloc_set_fatal_hook(restore_terminal);
	install_signals(1);
	raw(); /* Ctrl-C and Ctrl-Z are keys: an accident must not lose work */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* ncurses (6.x) flushes its output buffer on every cursor move until
	 * the screen has once been left with endwin and resumed: a frame went
	 * out in one write(2) per line.  Leave and resume now, before anything
	 * is drawn, so each frame is sent in one write. */
	endwin();
	if (!u->no_color && has_colors()) {
		start_color();
		use_default_colors();
		u->has_colors = 1;
	}
	for (i = 0; i < THEME_CYCLE_LEN; i++)
		if (!strcmp(start_theme(u), theme_cycle[i]))
			u->theme_index = i;
	return 0;
}

void term_load_start_theme(struct tui *u)
{
	if (load_theme(u, start_theme(u)) < 0) {
		theme_init_builtin(&u->theme, u->no_color ? "mono" : "default");
		apply_theme(u);
	}
}

void term_stop(struct tui *u)
{
	restore_terminal();
	delscreen(u->scr);
	install_signals(0);
	xalloc_set_fatal_hook(NULL);
}

/*
 * The map of the chosen path's pairs (M): what weft map draws, made for
 * the curated pairs as the loom holds them.  The work (PCA, k-means, the
 * near-duplicate search, three files written) can take seconds, so a
 * forked child does it while the loom goes on: the child writes the files
 * into a folder beside the session (SESSION.map/) and the summary into a
 * pipe, then leaves with _exit; it never touches the screen.  With an
 * embedder configured the child also asks it for the questions' vectors,
 * on an engine of its own (the loom's stays the loom's), cached in
 * SESSION.map/embeddings.cache as weft map caches them, so that the next
 * map sends no request for a question it has seen.  The loop
 * waits on the pipe beside the terminal, map_page_tick reads it, and when the
 * child is reaped its summary becomes a page.  Esc, or leaving the loom,
 * kills the child and reaps it.
 */
#include "loom.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/config.h"
#include "weft/display.h"
#include "weft/embed.h"
#include "weft/lm.h"
#include "weft/map.h"
#include "weft/maptext.h"
#include "weft/similar.h"
#include "weft/xalloc.h"

/* The most of the child's summary kept: far more than any map prints. */
#define MAP_OUT_MAX ((size_t)4 << 20)
/* A test hook: the child waits this many milliseconds before it starts, so
 * a test can see the loom answer keys while a map runs. */
#define MAP_DELAY_ENV "WEFT_TEST_MAP_DELAY_MS"

static const char *const map_files[] = {"map.csv", "map.svg", "map.html"};
#define MAP_NFILES 3

/* The folder made when missing; an existing one must be a folder (not a
 * link), and an existing output a plain file: those are weft's own and
 * replaced, anything else is left alone.  Returns 0, or -1 with err. */
static int map_dir_ready(const char *dir, struct errbuf *err)
{
	struct stat st;
	size_t f;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return errbuf_set(err, "%s: %s", dir, strerror(errno)), -1;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return errbuf_set(err, "%s is there and is not a folder: left as it is", dir), -1;
	for (f = 0; f < MAP_NFILES; f++) {
		struct strbuf p = STRBUF_INIT;
		int bad;

		strbuf_addf(&p, "%s/%s", dir, map_files[f]);
		bad = lstat(p.data, &st) == 0 && !S_ISREG(st.st_mode);
		if (bad)
			errbuf_set(err, "%s is not a map weft wrote: left as it is", p.data);
		strbuf_release(&p);
		if (bad)
			return -1;
	}
	return 0;
}

static int map_write_files(const struct map *m, const struct map_input *in, const char *dir,
			   struct errbuf *err)
{
	void (*writers[MAP_NFILES])(const struct map *, const struct map_input *,
				    struct strbuf *) = {map_write_csv, map_write_svg,
							map_write_html};
	size_t f;

	for (f = 0; f < MAP_NFILES; f++) {
		struct strbuf out = STRBUF_INIT, p = STRBUF_INIT;
		int r;

		writers[f](m, in, &out);
		strbuf_addf(&p, "%s/%s", dir, map_files[f]);
		r = atomicfile_write(p.data, out.data, out.len, err);
		strbuf_release(&out);
		strbuf_release(&p);
		if (r)
			return -1;
	}
	return 0;
}

/* The configured embedder role, or NULL (TF-IDF then). */
static const struct config_role *map_embedder(const struct config *cfg)
{
	size_t k;

	for (k = 0; cfg && k < cfg->nroles; k++)
		if (!strcmp(cfg->roles[k].name, "embedder") &&
		    config_role_configured(&cfg->roles[k]))
			return &cfg->roles[k];
	return NULL;
}

/* In the child, with an embedder configured: the questions' vectors into
 * res and in, cached in dir (which exists).  Returns 0 (also when no
 * embedder is configured), or -1 with err. */
static int map_child_embed(const struct config *cfg, const char *dir, struct map_input *in,
			   struct embed_result *res, struct errbuf *err)
{
	const struct config_role *role = map_embedder(cfg);
	struct strbuf cache = STRBUF_INIT;
	struct lm_engine *e;
	int r;

	if (!role)
		return 0;
	strbuf_addf(&cache, "%s/%s", dir, EMBED_CACHE_FILE);
	e = lm_engine_new();
	config_hide_keys(cfg, e);
	r = embed_texts(e, role, cache.data, in->questions, in->n, res, err);
	lm_engine_free(e);
	strbuf_release(&cache);
	if (r == 0) {
		in->vectors = res->vectors;
		in->dim = res->dim;
	}
	return r;
}

/* The child's work: the map of pr into dir, its summary (or the error)
 * into out.  Returns the exit status. */
static int map_child_work(const struct pairs_result *pr, const struct config *cfg, const char *dir,
			  struct strbuf *out)
{
	struct embed_result res;
	const char **questions = xcalloc(pr->count + 1, sizeof(*questions));
	const char **answers = xcalloc(pr->count + 1, sizeof(*answers));
	const char **nodes = xcalloc(pr->count + 1, sizeof(*nodes));
	size_t *labels = xcalloc(pr->count + 1, sizeof(*labels));
	struct map_input in;
	struct map m = {0};
	struct errbuf err;
	size_t i;
	int rc = 1;

	memset(&in, 0, sizeof(in));
	memset(&res, 0, sizeof(res));
	for (i = 0; i < pr->count; i++) {
		questions[i] = pr->pairs[i].question;
		answers[i] = pr->pairs[i].answer;
		nodes[i] = pr->pairs[i].node_id;
		labels[i] = pr->pairs[i].class_index;
	}
	in.questions = questions;
	in.answers = answers;
	in.node_ids = nodes;
	in.labels = labels;
	in.n = pr->count;
	in.label_names = (const char *const *)pr->labels;
	in.nlabels = pr->nlabels < MAP_MAX_LABELS ? pr->nlabels : MAP_MAX_LABELS;
	in.near = SIMILAR_DEFAULT_THRESHOLD;
	/* the folder first when the embedder's cache goes in it */
	if ((map_embedder(cfg) &&
	     (map_dir_ready(dir, &err) < 0 || map_child_embed(cfg, dir, &in, &res, &err) < 0)) ||
	    map_build(&in, &m, &err) < 0 || map_dir_ready(dir, &err) < 0 ||
	    map_write_files(&m, &in, dir, &err) < 0) {
		strbuf_addstr(out, err.msg);
	} else {
		if (in.vectors)
			strbuf_addf(out, "embeddings from %s: %zu new, %zu cached\n",
				    map_embedder(cfg)->model, res.fresh, res.cached);
		map_format_text(&m, &in, out);
		rc = 0;
	}
	map_release(&m);
	embed_result_release(&res);
	free(questions);
	free(answers);
	free(nodes);
	free(labels);
	return rc;
}

/* In the child: never returns, never draws. */
static void map_child(const struct pairs_result *pr, const struct config *cfg, const char *dir,
		      int fd)
{
	struct strbuf out = STRBUF_INIT;
	const char *delay = getenv(MAP_DELAY_ENV);
	size_t off = 0;
	int rc;

	term_child_signals();
	if (delay && atoi(delay) > 0) {
		struct timespec ts = {atoi(delay) / 1000, (long)(atoi(delay) % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	rc = map_child_work(pr, cfg, dir, &out);
	while (off < out.len) {
		ssize_t n = write(fd, out.data + off, out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	_exit(rc);
}

unsigned act_map(struct tui *u, int arg)
{
	struct pairs_result pr;
	int fds[2];
	pid_t pid;

	(void)arg;
	if (u->map_pid) {
		set_msg(u, MSG_INFO, "a map is being made (Esc cancels)");
		return REDRAW_STATUS;
	}
	if (!u->path) {
		set_msg(u, MSG_ERROR, "the map is written beside the session: it has no file");
		return REDRAW_STATUS;
	}
	if (path_pairs(u, &pr) < 0)
		return REDRAW_STATUS;
	strbuf_reset(&u->map_dir);
	strbuf_addf(&u->map_dir, "%s.map", u->path);
	if (pipe(fds) < 0) {
		set_msg(u, MSG_ERROR, "map: %s", strerror(errno));
		pairs_result_release(&pr);
		return REDRAW_STATUS;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		map_child(&pr, u->opts ? u->opts->config : NULL, u->map_dir.data, fds[1]);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		set_msg(u, MSG_ERROR, "map: %s", strerror(errno));
		pairs_result_release(&pr);
		return REDRAW_STATUS;
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	u->map_pid = pid;
	u->map_fd = fds[0];
	u->map_eof = 0;
	u->map_ready = 0;
	strbuf_reset(&u->map_out);
	set_msg(u, MSG_INFO, "mapping %zu pairs into %s (Esc cancels)", pr.count, u->map_dir.data);
	pairs_result_release(&pr);
	return REDRAW_STATUS;
}

/* Reads what the pipe holds; sets map_eof when it ended. */
static void map_read(struct tui *u)
{
	char buf[4096];

	while (!u->map_eof) {
		ssize_t n = read(u->map_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN: nothing more yet */
		if (n == 0) {
			u->map_eof = 1;
			return;
		}
		if (u->map_out.len + (size_t)n <= MAP_OUT_MAX)
			strbuf_add(&u->map_out, buf, (size_t)n);
	}
}

/* The child was reaped with status st: the page, or what went wrong. */
static unsigned map_ended(struct tui *u, int st)
{
	const char *out = u->map_out.len ? u->map_out.data : "";

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			set_msg(u, MSG_ERROR, "map: stopped by signal %d", WTERMSIG(st));
		else
			set_msg(u, MSG_ERROR, "map: %s", *out ? out : "it failed");
		return REDRAW_STATUS;
	}
	strbuf_reset(&u->map_page);
	strbuf_addstr(&u->map_page, "written: ");
	display_sanitize_flags(u->map_dir.data, u->map_dir.len, 0, &u->map_page);
	strbuf_addstr(&u->map_page, "/map.html (open it in a browser), map.svg and map.csv\n\n");
	display_sanitize_flags(out, strlen(out), DISPLAY_KEEP_NEWLINE | DISPLAY_TAB_AS_SPACE,
			       &u->map_page);
	u->map_ready = 1;
	set_msg(u, MSG_INFO, "map written to %s/map.html", u->map_dir.data);
	return REDRAW_STATUS;
}

/* The page, once the loom shows its own screen: a prompt being typed, a
 * question asked or another page is not taken away. */
static unsigned map_show_when_free(struct tui *u)
{
	if (!u->map_ready || u->mode != MODE_NORMAL)
		return 0;
	u->map_ready = 0;
	u->help_scroll = 0;
	u->mode = MODE_MAP;
	return REDRAW_ALL;
}

unsigned map_page_tick(struct tui *u)
{
	int st;
	pid_t r;

	if (!u->map_pid)
		return map_show_when_free(u);
	map_read(u);
	if (!u->map_eof)
		return 0;
	r = waitpid(u->map_pid, &st, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return 0; /* it closed the pipe and is about to exit */
	close(u->map_fd);
	u->map_fd = -1;
	u->map_pid = 0;
	if (r < 0) {
		set_msg(u, MSG_ERROR, "map: %s", strerror(errno));
		return REDRAW_STATUS;
	}
	return map_ended(u, st) | map_show_when_free(u);
}

/* Kills the child and reaps it; SIGKILL, so the wait is short. */
static void map_stop(struct tui *u)
{
	if (!u->map_pid)
		return;
	kill(u->map_pid, SIGKILL);
	while (waitpid(u->map_pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(u->map_fd);
	u->map_fd = -1;
	u->map_pid = 0;
}

unsigned map_page_cancel(struct tui *u)
{
	map_stop(u);
	set_msg(u, MSG_INFO, "map cancelled");
	return REDRAW_STATUS;
}

void map_page_release(struct tui *u)
{
	map_stop(u);
	strbuf_release(&u->map_out);
	strbuf_release(&u->map_dir);
	strbuf_release(&u->map_page);
}

void draw_map(const struct tui *u)
{
	draw_page(u, " map of the chosen path's pairs (any key returns; j/k scroll)", &u->map_page);
}

/*
 * The map's summary as text (weft/maptext.h): what weft map prints on a
 * terminal, for the loom's page, which draws text and no colours.
 */
#include <stdlib.h>
#include <string.h>

#include "weft/display.h"
#include "weft/maptext.h"
#include "weft/similar.h"
#include "weft/xalloc.h"

#define SCATTER_COLS 60
#define SCATTER_ROWS 16

/* s made safe for a terminal and cut to cols columns. */
static void add_cut(struct strbuf *out, const char *s, size_t cols)
{
	struct strbuf b = STRBUF_INIT;
	size_t n;

	display_sanitize_flags(s, strlen(s), DISPLAY_NEWLINE_AS_SPACE | DISPLAY_TAB_AS_SPACE, &b);
	n = display_truncate(b.data, b.len, cols, NULL);
	strbuf_add(out, b.data, n);
	if (n < b.len)
		strbuf_addstr(out, "...");
	strbuf_release(&b);
}

/* The label colour's SGR start: one of six, by the label's index. */
static void add_colour(struct strbuf *out, size_t label)
{
	strbuf_addf(out, "\033[%dm", 31 + (int)(label % 6));
}

/* The layout in braille, 2 by 4 dots a cell; with colour, each cell in
 * the colour of the label most of its points have. */
static void add_scatter(const struct map *m, const struct map_input *in, int colour,
			struct strbuf *out)
{
	static const unsigned char bit[4][2] = {
	    {0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	unsigned char dots[SCATTER_ROWS][SCATTER_COLS] = {{0}};
	size_t(*count)[SCATTER_COLS][MAP_MAX_LABELS] = xcalloc(SCATTER_ROWS, sizeof(*count));
	double x0 = m->points[0].x, x1 = x0, y0 = m->points[0].y, y1 = y0;
	size_t i, r, c, l;

	for (i = 1; i < m->n; i++) {
		x0 = m->points[i].x < x0 ? m->points[i].x : x0;
		x1 = m->points[i].x > x1 ? m->points[i].x : x1;
		y0 = m->points[i].y < y0 ? m->points[i].y : y0;
		y1 = m->points[i].y > y1 ? m->points[i].y : y1;
	}
	for (i = 0; i < m->n; i++) {
		size_t dx =
		    x1 > x0
			? (size_t)((m->points[i].x - x0) / (x1 - x0) * (SCATTER_COLS * 2 - 1) + 0.5)
			: 0;
		size_t dy =
		    y1 > y0
			? (size_t)((y1 - m->points[i].y) / (y1 - y0) * (SCATTER_ROWS * 4 - 1) + 0.5)
			: 0;

		dots[dy / 4][dx / 2] |= bit[dy % 4][dx % 2];
		count[dy / 4][dx / 2][in->labels[i]]++;
	}
	for (r = 0; r < SCATTER_ROWS; r++) {
		for (c = 0; c < SCATTER_COLS; c++) {
			unsigned cp = 0x2800u + dots[r][c];
			size_t best = 0;

			for (l = 1; l < in->nlabels; l++)
				if (count[r][c][l] > count[r][c][best])
					best = l;
			if (colour && dots[r][c])
				add_colour(out, best);
			strbuf_addch(out, (char)(0xE0 | (cp >> 12)));
			strbuf_addch(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
			strbuf_addch(out, (char)(0x80 | (cp & 0x3F)));
			if (colour && dots[r][c])
				strbuf_addstr(out, "\033[0m");
		}
		strbuf_addch(out, '\n');
	}
	for (l = 0; l < in->nlabels; l++) {
		if (colour)
			add_colour(out, l);
		strbuf_addstr(out, l ? "  " : "labels: ");
		add_cut(out, in->label_names[l], 20);
		if (colour)
			strbuf_addstr(out, "\033[0m");
	}
	strbuf_addch(out, '\n');
	free(count);
}

static void add_clusters(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	size_t c, l;

	strbuf_addstr(out, "\nclusters:\n");
	for (c = 0; c < m->k; c++) {
		const struct map_cluster *cl = &m->clusters[c];

		strbuf_addf(out, "  %2zu  %5zu pairs  ", c + 1, cl->n);
		for (l = 0; l < in->nlabels; l++) {
			add_cut(out, in->label_names[l], 20);
			strbuf_addf(out, " %zu%s", cl->per_label[l],
				    l + 1 < in->nlabels ? ", " : "  ");
		}
		add_cut(out, cl->name, 40);
		strbuf_addch(out, '\n');
	}
}

static void add_findings(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	size_t i, c, found = 0;

	strbuf_addf(out, "\nnear-duplicates (similarity >= %.2f):\n", in->near);
	for (i = 0; i < m->n; i++)
		if (m->points[i].near_dup) {
			strbuf_addf(out, "  pair %zu ~ pair %zu (%.2f%s): ", i + 1,
				    m->points[i].near_of + 1, m->points[i].near_score,
				    m->points[i].near_source && !strcmp(m->points[i].near_source,
									SIMILAR_SOURCE_EMBEDDING)
					? ", embedding"
					: "");
			add_cut(out, in->questions[i], 60);
			strbuf_addch(out, '\n');
			found++;
		}
	if (m->near_stopped)
		strbuf_addstr(out, "  (the search stopped at its budget: the later pairs were "
				   "not compared)\n");
	else if (!found)
		strbuf_addstr(out, "  none\n");
	strbuf_addf(out, "\npossible shortcuts (one label >= %.0f%% of >= %d pairs):\n",
		    MAP_SHORTCUT_SHARE * 100, MAP_SHORTCUT_MIN);
	for (found = 0, c = 0; c < m->k; c++) {
		const struct map_cluster *cl = &m->clusters[c];

		if (!cl->shortcut)
			continue;
		strbuf_addf(out, "  cluster %zu (", c + 1);
		add_cut(out, cl->name, 40);
		strbuf_addf(out, "): %zu of %zu pairs are ", cl->per_label[cl->shortcut_label],
			    cl->n);
		add_cut(out, in->label_names[cl->shortcut_label], 20);
		strbuf_addch(out, '\n');
		found++;
	}
	if (!found)
		strbuf_addstr(out, "  none\n");
}

void map_format_body(const struct map *m, const struct map_input *in, int colour,
		     struct strbuf *out)
{
	add_scatter(m, in, colour, out);
	add_clusters(m, in, out);
	add_findings(m, in, out);
}

void map_format_text(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	strbuf_addf(out, "%zu pairs, %zu clusters; vectors: %s\n", m->n, m->k,
		    in->vectors ? "an embedder's" : "TF-IDF of the questions (no embedder)");
	map_format_body(m, in, 0, out);
}

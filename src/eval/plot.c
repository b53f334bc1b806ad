#include "weft/plot.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/display.h"
#include "weft/regfile.h"
#include "weft/xalloc.h"

/* ---- sizes ---------------------------------------------------------------- */

void model_sizes_init(struct model_sizes *s)
{
	memset(s, 0, sizeof(*s));
}

void model_sizes_release(struct model_sizes *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->items[i].name);
		free(s->items[i].family);
	}
	free(s->items);
	memset(s, 0, sizeof(*s));
}

int model_size_parse(const char *text, double *size)
{
	char *end;
	double v, mult = 1;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1e3;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1e6;
		end++;
		break;
	case 'b':
	case 'B':
	case 'g':
	case 'G':
		mult = 1e9;
		end++;
		break;
	case 't':
	case 'T':
		mult = 1e12;
		end++;
		break;
	default: break;
	}
	if (*end || !isfinite(v) || v <= 0)
		return -1;
	*size = v * mult;
	return 0;
}

static void sizes_put(struct model_sizes *s, const char *name, size_t name_len, double size,
		      const char *family, size_t family_len)
{
	struct model_size *m = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->items[i].name) == name_len &&
		    !strncmp(s->items[i].name, name, name_len))
			m = &s->items[i];
	if (!m) {
		XGROW(s->items, s->cap, s->n + 1);
		m = &s->items[s->n++];
		m->name = xstrndup(name, name_len);
	} else {
		free(m->family);
	}
	m->size = size;
	m->family = family_len ? xstrndup(family, family_len) : xstrdup("models");
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "NAME <sep> SIZE [<fsep> FAMILY]" where sep is '=' and fsep ':' or blanks. */
static int parse_entry(struct model_sizes *s, const char *line, struct errbuf *err)
{
	const char *eq = strchr(line, '='), *p, *name_end, *size_start, *size_end, *fam;
	char sizebuf[64];
	double size;
	size_t fl;

	if (!eq)
		return errbuf_set(err, "expected NAME = SIZE [FAMILY]");
	line = skip_ws(line);
	name_end = eq;
	while (name_end > line && (name_end[-1] == ' ' || name_end[-1] == '\t'))
		name_end--;
	if (name_end == line)
		return errbuf_set(err, "missing model name before '='");
	size_start = skip_ws(eq + 1);
	for (p = size_start; *p && *p != ' ' && *p != '\t' && *p != ':' && *p != '\n' && *p != '\r';
	     p++)
		;
	size_end = p;
	if ((size_t)(size_end - size_start) >= sizeof(sizebuf) || size_end == size_start)
		return errbuf_set(err, "missing or overlong size");
	memcpy(sizebuf, size_start, (size_t)(size_end - size_start));
	sizebuf[size_end - size_start] = '\0';
	if (model_size_parse(sizebuf, &size) < 0)
		return errbuf_set(err, "size '%.60s' is not a positive number", sizebuf);
	fam = skip_ws(size_end);
	if (*fam == ':')
		fam = skip_ws(fam + 1);
	fl = strcspn(fam, " \t\r\n#");
	if (*skip_ws(fam + fl) && *skip_ws(fam + fl) != '#' && *skip_ws(fam + fl) != '\r' &&
	    *skip_ws(fam + fl) != '\n')
		return errbuf_set(err, "unexpected text after the family");
	sizes_put(s, line, (size_t)(name_end - line), size, fam, fl);
	return 0;
}

/* Splits one CSV line (RFC 4180 quotes, no line breaks inside) into at
 * most max fields; returns how many, or -1 when a quote is left open. */
static int csv_line_fields(const char *line, struct strbuf *fields, int max)
{
	int n = 0, quoted = 0, at_start = 1;
	const char *p;

	strbuf_reset(&fields[0]);
	for (p = line; *p && *p != '\n' && *p != '\r'; p++) {
		if (quoted) {
			if (*p == '"' && p[1] == '"') {
				strbuf_addch(&fields[n], '"');
				p++;
			} else if (*p == '"') {
				quoted = 0;
			} else {
				strbuf_addch(&fields[n], *p);
			}
		} else if (*p == '"' && at_start) {
			quoted = 1;
			at_start = 0;
		} else if (*p == ',') {
			if (n + 1 >= max)
				return n + 1;
			strbuf_reset(&fields[++n]);
			at_start = 1;
		} else {
			strbuf_addch(&fields[n], *p);
			at_start = 0;
		}
	}
	return quoted ? -1 : n + 1;
}

int model_sizes_load_results(struct model_sizes *s, const char *dir, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, file_name = STRBUF_INIT, fields[3];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int k, added = 0, rc = 0;
	FILE *f;

	for (k = 0; k < 3; k++)
		strbuf_init(&fields[k]);
	strbuf_addf(&path, "%s/summary.csv", dir);
	f = regfile_fopen(path.data, err);
	if (!f) {
		if (errno != ENOENT)
			rc = -1;
		else
			errbuf_clear(err);
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *name, *fam;
		double size;
		int nf;

		lineno++;
		if (len > 4096) {
			rc = errbuf_set(err, "%s:%zu: line too long", path.data, lineno);
			break;
		}
		nf = csv_line_fields(line, fields, 3);
		if (lineno == 1) {
			if (nf < 2 || strcmp(fields[0].data, "model") ||
			    strcmp(fields[1].data, "size")) {
				rc = errbuf_set(err, "%s: expected a model,size,... header",
						path.data);
				break;
			}
			continue;
		}
		/* a model without a size (empty field) is simply not plotted */
		if (nf < 2 || !fields[0].len || model_size_parse(fields[1].data, &size) < 0)
			continue;
		name = fields[0].data;
		fam = nf >= 3 ? fields[2].data : "";
		strbuf_reset(&file_name);
		for (k = 0; name[k]; k++)
			strbuf_addch(&file_name, name[k] == '/' || (unsigned char)name[k] < 0x20
						     ? '_'
						     : name[k]);
		if (!strcmp(file_name.data, "summary") || !strcmp(file_name.data, "config"))
			strbuf_addch(&file_name, '_');
		if (!model_sizes_find(s, name)) {
			sizes_put(s, name, strlen(name), size, fam, strlen(fam));
			added++;
		}
		if (!model_sizes_find(s, file_name.data))
			sizes_put(s, file_name.data, file_name.len, size, fam, strlen(fam));
	}
	if (!rc && ferror(f))
		rc = errbuf_set(err, "%s: read error: %s", path.data, strerror(errno));
	fclose(f);
out:
	free(line);
	for (k = 0; k < 3; k++)
		strbuf_release(&fields[k]);
	strbuf_release(&path);
	strbuf_release(&file_name);
	return rc < 0 ? -1 : added;
}

int model_sizes_add_spec(struct model_sizes *s, const char *spec, struct errbuf *err)
{
	if (parse_entry(s, spec, err) < 0)
		return errbuf_prefix(err, "size '%.80s'", spec);
	return 0;
}

int model_sizes_load(struct model_sizes *s, const char *path, struct errbuf *err)
{
	FILE *f = regfile_fopen(path, err);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if (!f)
		return -1;
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *p = skip_ws(line);

		lineno++;
		if (len > 4096) {
			rc = errbuf_set(err, "%s:%zu: line too long", path, lineno);
			break;
		}
		if (!*p || *p == '#' || *p == '\n' || *p == '\r')
			continue;
		if (parse_entry(s, p, err) < 0) {
			rc = errbuf_prefix(err, "%s:%zu", path, lineno);
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

const struct model_size *model_sizes_find(const struct model_sizes *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].name, name))
			return &s->items[i];
	return NULL;
}

/*
 * The sizes weft knows without being told: the seed's GPT-3 and InstructGPT
 * models (the parameter counts commonly cited for them), and the families
 * whose names carry their size (Pythia, Llama, Qwen).  The one place these
 * live; plot and eval ask it when no --size, sizes file or summary.csv names
 * a model.
 */
static const struct {
	const char *name;
	double size;
	const char *family;
} known_sizes[] = {
    {"ada", 350e6, "gpt3"},
    {"babbage", 1.3e9, "gpt3"},
    {"curie", 6.7e9, "gpt3"},
    {"davinci", 175e9, "gpt3"},
    {"text-ada-001", 350e6, "instructgpt"},
    {"text-babbage-001", 1.3e9, "instructgpt"},
    {"text-curie-001", 6.7e9, "instructgpt"},
    {"text-davinci-001", 175e9, "instructgpt"},
};

/* families whose names carry the size: a prefix of the lower-cased name */
static const char *const sized_families[] = {"pythia", "llama", "meta-llama", "codellama", "qwen"};

static int name_sep(char c)
{
	return c == '-' || c == '_' || c == ':';
}

/* "70m", "1.4b", "0.5B" as a whole part of a name: the size, else -1 */
static int size_part(const char *p, size_t len, double *size)
{
	char buf[32];
	size_t i, dots = 0;

	if (len < 2 || len >= sizeof(buf) || !isdigit((unsigned char)p[0]))
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (p[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)p[i]))
			return -1;
	}
	if (dots > 1 || p[len - 2] == '.' || !strchr("mMbB", p[len - 1]))
		return -1;
	memcpy(buf, p, len);
	buf[len] = 0;
	return model_size_parse(buf, size);
}

int model_sizes_known(const char *name, double *size, char *family, size_t family_cap)
{
	char low[128];
	const char *base = strrchr(name, '/'), *p;
	size_t i, n, fl = 0;
	int found = 0;

	for (i = 0; i < sizeof(known_sizes) / sizeof(known_sizes[0]); i++)
		if (!strcmp(name, known_sizes[i].name)) {
			*size = known_sizes[i].size;
			snprintf(family, family_cap, "%s", known_sizes[i].family);
			return 0;
		}
	base = base ? base + 1 : name; /* EleutherAI/pythia-70m, Qwen/Qwen2.5-7B */
	n = strlen(base);
	if (!n || n >= sizeof(low) || family_cap < 2)
		return -1;
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)base[i]);
	for (i = 0; i < sizeof(sized_families) / sizeof(sized_families[0]); i++)
		if (!strncmp(low, sized_families[i], strlen(sized_families[i])))
			break;
	if (i == sizeof(sized_families) / sizeof(sized_families[0]))
		return -1;
	/* the first part that is a size; the family is the name without it
	 * (pythia-70m-deduped: pythia-deduped; Qwen2.5-7B-Instruct:
	 * qwen2.5-instruct), so base and tuned models draw as two lines */
	for (p = low; *p;) {
		size_t len = 0;

		while (p[len] && !name_sep(p[len]))
			len++;
		if (!found && size_part(p, len, size) == 0) {
			found = 1;
		} else if (len && fl + len + 1 < family_cap) {
			if (fl)
				family[fl++] = '-';
			memcpy(family + fl, p, len);
			fl += len;
		}
		p += len;
		while (name_sep(*p))
			p++;
	}
	family[fl] = 0;
	return found && fl ? 0 : -1;
}

const struct model_size *model_sizes_find_known(struct model_sizes *s, const char *name,
						int *from_table)
{
	const struct model_size *m = model_sizes_find(s, name);
	char family[64];
	double size;

	if (from_table)
		*from_table = 0;
	if (m || model_sizes_known(name, &size, family, sizeof(family)) < 0)
		return m;
	if (from_table)
		*from_table = 1;
	sizes_put(s, name, strlen(name), size, family, strlen(family));
	return model_sizes_find(s, name);
}

/* ---- shared ---------------------------------------------------------------- */

struct family {
	const char *name;
	size_t *idx; /* points of this family sorted by size */
	size_t n;
};

static size_t group_families(const struct plot_point *pts, size_t n, struct family **out)
{
	struct family *fam = NULL;
	size_t nf = 0, cap = 0, i, j;

	for (i = 0; i < n; i++) {
		const char *name = pts[i].family ? pts[i].family : "models";

		for (j = 0; j < nf; j++)
			if (!strcmp(fam[j].name, name))
				break;
		if (j == nf) {
			XGROW(fam, cap, nf + 1);
			fam[nf].name = name;
			fam[nf].idx = xcalloc(n, sizeof(size_t));
			fam[nf].n = 0;
			nf++;
		}
		{
			/* insertion by size keeps the polyline monotone in x */
			struct family *f = &fam[j];
			size_t k = f->n;

			while (k > 0 && pts[f->idx[k - 1]].size > pts[i].size) {
				f->idx[k] = f->idx[k - 1];
				k--;
			}
			f->idx[k] = i;
			f->n++;
		}
	}
	*out = fam;
	return nf;
}

static void free_families(struct family *fam, size_t nf)
{
	size_t i;

	for (i = 0; i < nf; i++)
		free(fam[i].idx);
	free(fam);
}

static double metric_of(const struct plot_point *p, int loss)
{
	return loss ? p->mean_loss : p->accuracy;
}

/* The y range of a metric over the points, padded; returns 0 if none. */
static int y_range(const struct plot_point *pts, size_t n, int loss, double *lo, double *hi)
{
	double a = INFINITY, b = -INFINITY, pad;
	size_t i;

	for (i = 0; i < n; i++) {
		double v = metric_of(&pts[i], loss);

		if (!isfinite(v))
			continue;
		a = fmin(a, v);
		b = fmax(b, v);
	}
	if (!isfinite(a))
		return 0;
	pad = (b - a) * 0.08;
	if (pad < 1e-9)
		pad = fmax(0.05, fabs(a) * 0.05);
	*lo = a - pad;
	*hi = b + pad;
	if (!loss) {
		*lo = fmax(0, *lo);
		*hi = fmin(1, *hi);
	}
	return 1;
}

static void x_range(const struct plot_point *pts, size_t n, double *lo, double *hi)
{
	double a = INFINITY, b = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(pts[i].size > 0))
			continue;
		a = fmin(a, log10(pts[i].size));
		b = fmax(b, log10(pts[i].size));
	}
	if (!isfinite(a)) {
		a = 0;
		b = 1;
	}
	*lo = floor(a);
	*hi = ceil(b);
	if (*hi - *lo < 1)
		*hi = *lo + 1;
}

/* "350M", "1.3B", "175B" */
static void size_label(double size, char *buf, size_t cap)
{
	static const struct {
		double div;
		const char *suffix;
	} units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (size >= units[i].div) {
			snprintf(buf, cap, "%.3g%s", size / units[i].div, units[i].suffix);
			return;
		}
	}
	snprintf(buf, cap, "%.3g", size);
}

/* ---- terminal ---------------------------------------------------------------- */

static const char *const term_markers[] = {"\xe2\x97\x8f", "\xe2\x96\xb2", "\xe2\x96\xa0",
					   "\xe2\x97\x86", "\xe2\x98\x85", "\xe2\x9c\x9a"};
#define N_MARKERS (sizeof(term_markers) / sizeof(term_markers[0]))

static void braille_set(uint8_t *dots, int w, int h, int x, int y)
{
	static const uint8_t bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};

	if (x < 0 || y < 0 || x >= 2 * w || y >= 4 * h)
		return;
	dots[(y / 4) * w + x / 2] |= bit[y % 4][x % 2];
}

/* A terminal panel's cells: braille dots and family markers, w x h. */
struct term_canvas {
	uint8_t *dots;
	int *mark; /* 1 + the family's marker, or 0 */
	int w, h;
};

/* Bresenham's line of dots from (px, py) to (x, y). */
static void braille_line(struct term_canvas *c, int px, int py, int x, int y)
{
	int dx = abs(x - px), dy = -abs(y - py);
	int sx = px < x ? 1 : -1, sy = py < y ? 1 : -1, e = dx + dy;
	int cx = px, cy = py;

	for (;;) {
		int e2;

		braille_set(c->dots, c->w, c->h, cx, cy);
		if (cx == x && cy == y)
			break;
		e2 = 2 * e;
		if (e2 >= dy) {
			e += dy;
			cx += sx;
		}
		if (e2 <= dx) {
			e += dx;
			cy += sy;
		}
	}
}

/* Family f's points, joined by lines, onto c (x in log10 of the size). */
static void term_family(struct term_canvas *c, const struct plot_point *pts,
			const struct family *fam, size_t f, int loss, const double range[4])
{
	double xlo = range[0], xhi = range[1], ylo = range[2], yhi = range[3];
	int px = -1, py = -1;
	size_t k;

	for (k = 0; k < fam[f].n; k++) {
		const struct plot_point *p = &pts[fam[f].idx[k]];
		double v = metric_of(p, loss);
		int x, y;

		if (!isfinite(v) || !(p->size > 0))
			continue;
		x = (int)lround((log10(p->size) - xlo) / (xhi - xlo) * (2 * c->w - 1));
		y = (int)lround((yhi - v) / (yhi - ylo) * (4 * c->h - 1));
		if (px >= 0)
			braille_line(c, px, py, x, y);
		px = x;
		py = y;
		if (x / 2 < c->w && y / 4 < c->h)
			c->mark[(y / 4) * c->w + x / 2] = (int)(f % N_MARKERS) + 1;
	}
}

/* The canvas's rows behind the y axis (three of them labelled), then the
 * x axis line. */
static void term_rows(const struct term_canvas *c, double ylo, double yhi, struct strbuf *out)
{
	int row, col;

	for (row = 0; row < c->h; row++) {
		double v = yhi - (yhi - ylo) * (double)row / (double)(c->h - 1);

		if (row == 0 || row == c->h - 1 || row == (c->h - 1) / 2)
			strbuf_addf(out, "%8.3f \xe2\x94\xa4", v);
		else
			strbuf_addstr(out, "         \xe2\x94\x82");
		for (col = 0; col < c->w; col++) {
			int m = c->mark[row * c->w + col];
			uint8_t d = c->dots[row * c->w + col];

			if (m)
				strbuf_addstr(out, term_markers[m - 1]);
			else if (d)
				strbuf_addf(out, "%c%c%c", 0xE2, 0xA0 | (d >> 6),
					    0x80 | (d & 0x3F));
			else
				strbuf_addch(out, ' ');
		}
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "         \xe2\x94\x94");
	for (col = 0; col < c->w; col++)
		strbuf_addstr(out, "\xe2\x94\x80");
	strbuf_addch(out, '\n');
}

/* The decade labels under an axis w cells wide; a label that would overlap
 * the one before is left out. */
static void term_decades(double xlo, double xhi, int w, struct strbuf *out)
{
	struct strbuf axis = STRBUF_INIT;
	char label[32];
	double d;
	size_t used = 0;

	strbuf_addstr(&axis, "          ");
	for (d = xlo; d <= xhi + 1e-9; d += 1) {
		size_t pos = 10 + (size_t)lround((d - xlo) / (xhi - xlo) * (w - 1));
		size_t len;

		size_label(pow(10, d), label, sizeof(label));
		len = strlen(label);
		if (pos + len > 10 + (size_t)w + 4)
			pos = 10 + (size_t)w + 4 - len;
		if (pos < used + 1 && used > 10)
			continue;
		while (axis.len < pos)
			strbuf_addch(&axis, ' ');
		strbuf_addstr(&axis, label);
		used = axis.len;
	}
	strbuf_addstr(out, axis.data);
	strbuf_addstr(out, "  (parameters, log scale)\n");
	strbuf_release(&axis);
}

static void panel_terminal(const struct plot_point *pts, size_t n, const struct family *fam,
			   size_t nf, int loss, int w, int h, struct strbuf *out)
{
	struct term_canvas c;
	double range[4]; /* xlo, xhi, ylo, yhi */
	size_t f;

	x_range(pts, n, &range[0], &range[1]);
	if (!y_range(pts, n, loss, &range[2], &range[3]))
		return;
	c.w = w;
	c.h = h;
	c.dots = xcalloc((size_t)w * (size_t)h, 1);
	c.mark = xcalloc((size_t)w * (size_t)h, sizeof(int));
	strbuf_addstr(out, loss ? "mean loss\n" : "accuracy\n");
	for (f = 0; f < nf; f++)
		term_family(&c, pts, fam, f, loss, range);
	term_rows(&c, range[2], range[3], out);
	term_decades(range[0], range[1], w, out);
	free(c.dots);
	free(c.mark);
}

void plot_terminal(const struct plot_point *pts, size_t n, int width, int height,
		   struct strbuf *out)
{
	struct family *fam;
	size_t nf = group_families(pts, n, &fam), f;
	int has_loss = 0;
	size_t i;

	if (width < 30)
		width = 30;
	if (height < 8)
		height = 8;
	for (i = 0; i < n; i++)
		if (isfinite(pts[i].mean_loss))
			has_loss = 1;
	panel_terminal(pts, n, fam, nf, 0, width, height, out);
	if (has_loss) {
		strbuf_addch(out, '\n');
		panel_terminal(pts, n, fam, nf, 1, width, height, out);
	}
	strbuf_addstr(out, "legend:");
	for (f = 0; f < nf; f++) {
		strbuf_addf(out, "  %s ", term_markers[f % N_MARKERS]);
		/* a family's name comes from arguments, config or a results
		 * folder's summary.csv: shown made safe */
		display_sanitize(fam[f].name, strlen(fam[f].name), out);
	}
	strbuf_addch(out, '\n');
	free_families(fam, nf);
}

/* ---- SVG ---------------------------------------------------------------------- */

static void xml_text(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		case '\'': strbuf_addstr(out, "&apos;"); break;
		default:
			/* XML 1.0 forbids most C0 controls, even escaped */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				strbuf_addch(out, '?');
			else
				strbuf_addch(out, c);
		}
	}
}

static const char *const svg_colours[] = {"#1f77b4", "#d62728", "#2ca02c",
					  "#9467bd", "#ff7f0e", "#8c564b"};
#define N_COLOURS (sizeof(svg_colours) / sizeof(svg_colours[0]))

enum { SVG_PW = 460, SVG_PH = 340, SVG_ML = 70, SVG_MR = 20, SVG_MT = 50, SVG_MB = 60 };

/* A panel's plot area on the page and the data ranges it shows. */
struct svg_frame {
	double x0, x1, y0, y1;	   /* the area, in SVG units */
	double xlo, xhi, ylo, yhi; /* log10 size, metric */
};

static double svg_x(const struct svg_frame *fr, double v)
{
	return fr->x0 + (v - fr->xlo) / (fr->xhi - fr->xlo) * (fr->x1 - fr->x0);
}

static double svg_y(const struct svg_frame *fr, double v)
{
	return fr->y1 - (v - fr->ylo) / (fr->yhi - fr->ylo) * (fr->y1 - fr->y0);
}

/* The panel's title, axes, ticks and axis labels. */
static void svg_axes(const struct svg_frame *fr, int loss, double ox, struct strbuf *out)
{
	double d, x0 = fr->x0, x1 = fr->x1, y0 = fr->y0, y1 = fr->y1;
	int t;

	strbuf_addf(out,
		    "<text class=\"title\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s against "
		    "model size</text>\n",
		    (x0 + x1) / 2, SVG_MT - 20, loss ? "Mean loss" : "Accuracy");
	strbuf_addf(out,
		    "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
		    "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		    x0, y1, x1, y1, x0, y0, x0, y1);
	for (d = fr->xlo; d <= fr->xhi + 1e-9; d += 1) {
		char label[32];

		size_label(pow(10, d), label, sizeof(label));
		strbuf_addf(out,
			    "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\"/>\n<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"middle\">%s</text>\n",
			    svg_x(fr, d), y1, svg_x(fr, d), y1 + 5, svg_x(fr, d), y1 + 18, label);
	}
	for (t = 0; t <= 4; t++) {
		double v = fr->ylo + (fr->yhi - fr->ylo) * t / 4.0;

		strbuf_addf(out,
			    "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\"/>\n<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"end\">%.3f</text>\n",
			    x0 - 5, svg_y(fr, v), x0, svg_y(fr, v), x0 - 8, svg_y(fr, v) + 4, v);
	}
	strbuf_addf(out,
		    "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">Model size "
		    "(parameters, log scale)</text>\n",
		    (x0 + x1) / 2, y1 + 40);
	strbuf_addf(out,
		    "<text class=\"label\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
		    "text-anchor=\"middle\">%s</text>\n",
		    ox + 18, (y0 + y1) / 2, loss ? "Mean loss" : "Accuracy");
}

/* Family f's line, its points (with their accuracy intervals) and their
 * tooltips. */
static void svg_family(const struct svg_frame *fr, const struct plot_point *pts,
		       const struct family *fam, size_t f, int loss, struct strbuf *out)
{
	const char *colour = svg_colours[f % N_COLOURS];
	size_t k;

	strbuf_addstr(out, "<polyline class=\"series\" data-family=\"");
	xml_text(out, fam[f].name);
	strbuf_addf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colour);
	for (k = 0; k < fam[f].n; k++) {
		const struct plot_point *p = &pts[fam[f].idx[k]];
		double v = metric_of(p, loss);

		if (isfinite(v) && p->size > 0)
			strbuf_addf(out, "%s%.1f,%.1f", k ? " " : "", svg_x(fr, log10(p->size)),
				    svg_y(fr, v));
	}
	strbuf_addstr(out, "\"/>\n");
	for (k = 0; k < fam[f].n; k++) {
		const struct plot_point *p = &pts[fam[f].idx[k]];
		double v = metric_of(p, loss), x;

		if (!isfinite(v) || !(p->size > 0))
			continue;
		x = svg_x(fr, log10(p->size));
		if (!loss && isfinite(p->acc_low) && isfinite(p->acc_high))
			strbuf_addf(out,
				    "<line class=\"errorbar\" stroke=\"%s\" x1=\"%.1f\" "
				    "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				    colour, x, svg_y(fr, fmax(p->acc_low, fr->ylo)), x,
				    svg_y(fr, fmin(p->acc_high, fr->yhi)));
		strbuf_addf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>", x,
			    svg_y(fr, v), colour);
		xml_text(out, p->model ? p->model : "");
		strbuf_addf(out, ": %.4f</title></circle>\n", v);
	}
}

static void panel_svg(const struct plot_point *pts, size_t n, const struct family *fam, size_t nf,
		      int loss, double ox, struct strbuf *out)
{
	struct svg_frame fr = {
	    .x0 = ox + SVG_ML, .x1 = ox + SVG_PW - SVG_MR, .y0 = SVG_MT, .y1 = SVG_PH - SVG_MB};
	size_t f;

	x_range(pts, n, &fr.xlo, &fr.xhi);
	if (!y_range(pts, n, loss, &fr.ylo, &fr.yhi))
		return;
	strbuf_addf(out, "<g id=\"%s\">\n", loss ? "loss" : "accuracy");
	svg_axes(&fr, loss, ox, out);
	for (f = 0; f < nf; f++)
		svg_family(&fr, pts, fam, f, loss, out);
	strbuf_addstr(out, "</g>\n");
}

void plot_svg(const struct plot_point *pts, size_t n, const char *title, struct strbuf *out)
{
	struct family *fam;
	size_t nf = group_families(pts, n, &fam), f, i;
	int has_loss = 0, panels, width, height;

	for (i = 0; i < n; i++)
		if (isfinite(pts[i].mean_loss))
			has_loss = 1;
	panels = has_loss ? 2 : 1;
	width = SVG_PW * panels;
	height = SVG_PH + 30 + 20 * (int)((nf + 3) / 4);
	strbuf_addf(out,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		    width, height, width, height);
	strbuf_addstr(out, "<title>");
	xml_text(out, title ? title : "Scaling plot");
	strbuf_addstr(out, "</title>\n<style>.axis{stroke:#000;stroke-width:1}"
			   ".tick{stroke:#000;fill:#000}text.tick{stroke:none}"
			   ".title{font-size:14px;font-weight:bold}"
			   ".errorbar{stroke-width:1;opacity:0.6}</style>\n");
	strbuf_addf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", width, height);
	panel_svg(pts, n, fam, nf, 0, 0, out);
	if (has_loss)
		panel_svg(pts, n, fam, nf, 1, SVG_PW, out);
	strbuf_addstr(out, "<g id=\"legend\">\n");
	for (f = 0; f < nf; f++) {
		double lx = SVG_ML + (double)(f % 4) * 160;
		double ly = SVG_PH + 20 + (double)(f / 4) * 20;

		strbuf_addf(out,
			    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
			    lx, ly, lx + 24, ly, svg_colours[f % N_COLOURS], lx + 30, ly + 4);
		xml_text(out, fam[f].name);
		strbuf_addstr(out, "</text>\n");
	}
	strbuf_addstr(out, "</g>\n</svg>\n");
	free_families(fam, nf);
}

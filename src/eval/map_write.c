#include <stdint.h>
#include <string.h>

#include "weft/export.h"
#include "weft/map.h"
#include "weft/utf8.h"

/* One colour per label (labels past the table reuse it), readable on white. */
static const char *const palette[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
				      "#66a61e", "#e6ab02", "#a6761d", "#666666"};
#define PALETTE_N (sizeof(palette) / sizeof(palette[0]))

#define SVG_W	   720
#define SVG_H	   520
#define SVG_MARGIN 40

/* Calls fn for each character of s: its code point, or U+FFFD for a byte
 * that does not start one. */
static void each_char(const char *s, void (*fn)(struct strbuf *out, uint32_t c), struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	while (len) {
		uint32_t c;
		size_t k = utf8_decode(p, len, &c);

		if (k == 0) {
			c = 0xFFFD;
			k = 1;
		}
		fn(out, c);
		p += k;
		len -= k;
	}
}

static void xml_char(struct strbuf *out, uint32_t c)
{
	switch (c) {
	case '&': strbuf_addstr(out, "&amp;"); return;
	case '<': strbuf_addstr(out, "&lt;"); return;
	case '>': strbuf_addstr(out, "&gt;"); return;
	case '"': strbuf_addstr(out, "&quot;"); return;
	case '\'': strbuf_addstr(out, "&#39;"); return;
	}
	/* XML 1.0 has no place for the other C0 controls, DEL's neighbours
	 * are allowed but kept out of a reader's way too */
	if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F || (c >= 0x80 && c < 0xA0) ||
	    c == 0xFFFE || c == 0xFFFF)
		c = 0xFFFD;
	if (c == 0x2028 || c == 0x2029) /* line breaks to some readers: kept as references */
		strbuf_addf(out, "&#x%04X;", (unsigned)c);
	else
		utf8_encode(out, c);
}

void map_add_xml(struct strbuf *out, const char *s)
{
	each_char(s, xml_char, out);
}

static void json_char(struct strbuf *out, uint32_t c)
{
	if (c == '"' || c == '\\') {
		strbuf_addch(out, '\\');
		strbuf_addch(out, (int)c);
	} else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029 ||
		   c == 0x7F) {
		/* < > & never appear raw, so no "</script" or "<!--" can end
		 * or bend the block holding the data */
		strbuf_addf(out, "\\u%04x", (unsigned)c);
	} else {
		utf8_encode(out, c);
	}
}

void map_add_json(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	each_char(s ? s : "", json_char, out);
	strbuf_addch(out, '"');
}

static void csv_text(struct strbuf *out, const char *s)
{
	struct strbuf clean;

	strbuf_init(&clean);
	utf8_add_sanitized(&clean, s ? s : "", s ? strlen(s) : 0);
	export_csv_field(out, clean.data, clean.len);
	strbuf_release(&clean);
}

void map_write_csv(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "pair,node,label,x,y,cluster,cluster_name,nearest,similarity,"
			   "near_duplicate_of,near_similarity,flags,question\n");
	for (i = 0; i < m->n; i++) {
		const struct map_point *p = &m->points[i];
		const struct map_cluster *cl = &m->clusters[p->cluster];

		strbuf_addf(out, "%zu,", i + 1);
		csv_text(out, in->node_ids ? in->node_ids[i] : NULL);
		strbuf_addch(out, ',');
		csv_text(out, in->label_names[in->labels[i]]);
		strbuf_addf(out, ",%.6f,%.6f,%zu,", p->x, p->y, p->cluster + 1);
		csv_text(out, cl->name);
		if (p->has_nearest)
			strbuf_addf(out, ",%zu,%.4f,", p->nearest + 1, p->similarity);
		else
			strbuf_addstr(out, ",,,");
		if (p->near_dup)
			strbuf_addf(out, "%zu,%.4f,", p->near_of + 1, p->near_score);
		else
			strbuf_addstr(out, ",,");
		if (p->near_dup && cl->shortcut)
			strbuf_addstr(out, "near-duplicate;shortcut");
		else if (p->near_dup || cl->shortcut)
			strbuf_addstr(out, p->near_dup ? "near-duplicate" : "shortcut");
		strbuf_addch(out, ',');
		csv_text(out, in->questions[i]);
		strbuf_addch(out, '\n');
	}
}

/* The layout's bounds, so that the points fill the drawing. */
struct frame {
	double x0, x1, y0, y1;
};

static struct frame frame_of(const struct map *m)
{
	struct frame f = {0, 0, 0, 0};
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct map_point *p = &m->points[i];

		if (i == 0 || p->x < f.x0)
			f.x0 = p->x;
		if (i == 0 || p->x > f.x1)
			f.x1 = p->x;
		if (i == 0 || p->y < f.y0)
			f.y0 = p->y;
		if (i == 0 || p->y > f.y1)
			f.y1 = p->y;
	}
	if (f.x1 - f.x0 < 1e-12) {
		f.x0 -= 1;
		f.x1 += 1;
	}
	if (f.y1 - f.y0 < 1e-12) {
		f.y0 -= 1;
		f.y1 += 1;
	}
	return f;
}

static double sx(const struct frame *f, double x)
{
	return SVG_MARGIN + (x - f->x0) / (f->x1 - f->x0) * (SVG_W - 2 * SVG_MARGIN);
}

/* y grows upwards in the layout, downwards in SVG */
static double sy(const struct frame *f, double y)
{
	return SVG_H - SVG_MARGIN - (y - f->y0) / (f->y1 - f->y0) * (SVG_H - 2 * SVG_MARGIN);
}

static void svg_points(const struct map *m, const struct map_input *in, const struct frame *f,
		       struct strbuf *out)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct map_point *p = &m->points[i];

		strbuf_addf(out,
			    "<circle data-i=\"%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
			    "fill-opacity=\"0.75\"><title>",
			    i, sx(f, p->x), sy(f, p->y), palette[in->labels[i] % PALETTE_N]);
		map_add_xml(out, in->label_names[in->labels[i]]);
		strbuf_addstr(out, ": ");
		map_add_xml(out, in->questions[i]);
		strbuf_addstr(out, "</title></circle>\n");
	}
}

void map_write_svg(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	struct frame f = frame_of(m);
	size_t c, l;

	strbuf_addf(
	    out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"map\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
	    SVG_W, SVG_H, SVG_W, SVG_H);
	svg_points(m, in, &f, out);
	/* the cluster names and the legend lie over points: the pointer goes
	 * through them, so that every point can be hovered */
	for (c = 0; c < m->k; c++) {
		const struct map_cluster *cl = &m->clusters[c];

		if (!cl->n)
			continue;
		strbuf_addf(out,
			    "<text class=\"cluster\" data-c=\"%zu\" x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"middle\" font-weight=\"bold\" fill=\"#222222\" "
			    "pointer-events=\"none\">%zu. ",
			    c, sx(&f, cl->cx), sy(&f, cl->cy), c + 1);
		map_add_xml(out, cl->name);
		strbuf_addstr(out, "</text>\n");
	}
	for (l = 0; l < in->nlabels; l++) {
		strbuf_addf(out,
			    "<g pointer-events=\"none\"><circle cx=\"%d\" cy=\"%zu\" r=\"5\" "
			    "fill=\"%s\"/><text x=\"%d\" y=\"%zu\">",
			    12, 14 + 16 * l, palette[l % PALETTE_N], 22, 18 + 16 * l);
		map_add_xml(out, in->label_names[l]);
		strbuf_addstr(out, "</text></g>\n");
	}
	strbuf_addstr(out, "</svg>\n");
}

/* The page's behaviour.  Pair text reaches the page only as the JSON data
 * and through textContent, never as markup. */
static const char page_script[] =
    "(function () {\n"
    "var d = JSON.parse(document.getElementById('map-data').textContent);\n"
    "var dots = document.querySelectorAll('#map circle[data-i]');\n"
    "var tip = document.getElementById('tip');\n"
    "var showL = d.labels.map(function () { return true; });\n"
    "var showC = d.clusters.map(function () { return true; });\n"
    "function el(tag, text) { var e = document.createElement(tag);\n"
    "  if (text !== undefined) e.textContent = text; return e; }\n"
    "function refresh() {\n"
    "  var q = document.getElementById('search').value.toLowerCase();\n"
    "  dots.forEach(function (c) { var p = d.points[+c.getAttribute('data-i')];\n"
    "    c.style.display = showL[p.l] && showC[p.c] ? '' : 'none';\n"
    "    var hit = q !== '' && (p.q + ' ' + p.a).toLowerCase().indexOf(q) >= 0;\n"
    "    c.setAttribute('stroke', hit ? '#000' : 'none');\n"
    "    c.setAttribute('stroke-width', hit ? '2' : '0');\n"
    "    c.setAttribute('r', hit ? '6' : '4'); });\n"
    "}\n"
    "dots.forEach(function (c) {\n"
    "  c.addEventListener('mouseover', function (ev) {\n"
    "    var p = d.points[+c.getAttribute('data-i')];\n"
    "    tip.textContent = 'Q: ' + p.q + '\\nA: ' + p.a + '\\nlabel: ' + d.labels[p.l] +\n"
    "      '\\ncluster: ' + (p.c + 1) + ' ' + d.clusters[p.c].name +\n"
    "      (p.id ? '\\nnode: ' + p.id : '');\n"
    "    tip.style.display = 'block';\n"
    "    tip.style.left = (ev.pageX + 12) + 'px'; tip.style.top = (ev.pageY + 12) + 'px'; });\n"
    "  c.addEventListener('mouseout', function () { tip.style.display = 'none'; });\n"
    "});\n"
    "function toggles(where, names, show, colours) {\n"
    "  var box = document.getElementById(where);\n"
    "  names.forEach(function (n, i) { var l = el('label'), b = el('input');\n"
    "    b.type = 'checkbox'; b.checked = true;\n"
    "    b.addEventListener('change', function () { show[i] = b.checked; refresh(); });\n"
    "    l.appendChild(b);\n"
    "    if (colours) { var s = el('span', '\\u25cf '); s.style.color = colours[i];\n"
    "      l.appendChild(s); }\n"
    "    l.appendChild(document.createTextNode(n + ' ')); box.appendChild(l); });\n"
    "}\n"
    "toggles('labels', d.labels, showL, d.colours);\n"
    "toggles('clusters', d.clusters.map(function (c, i) { return (i + 1) + '. ' + c.name; }),\n"
    "  showC);\n"
    "var counts = d.labels.map(function () { return 0; });\n"
    "d.points.forEach(function (p) { counts[p.l]++; });\n"
    "var bars = document.getElementById('balance');\n"
    "d.labels.forEach(function (n, i) { var row = el('div'), bar = el('span');\n"
    "  bar.className = 'bar'; bar.style.background = d.colours[i];\n"
    "  bar.style.width = Math.round(300 * counts[i] / d.points.length) + 'px';\n"
    "  row.appendChild(bar); row.appendChild(document.createTextNode(' ' + n + ' ' +\n"
    "    counts[i])); bars.appendChild(row); });\n"
    "var table = document.getElementById('table');\n"
    "d.clusters.forEach(function (c, i) { var tr = el('tr');\n"
    "  tr.appendChild(el('td', String(i + 1))); tr.appendChild(el('td', c.name));\n"
    "  tr.appendChild(el('td', String(c.n)));\n"
    "  tr.appendChild(el('td', d.labels.map(function (n, j) { return n + ' ' +\n"
    "    c.per_label[j]; }).join(', ')));\n"
    "  tr.appendChild(el('td', c.shortcut ? 'possible shortcut: ' + d.labels[c.shortcut_label]\n"
    "    : '')); table.appendChild(tr); });\n"
    "document.getElementById('search').addEventListener('input', refresh);\n"
    "})();\n";

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>weft map</title>\n<style>\n"
    "body { font-family: sans-serif; margin: 1em; }\n"
    "#tip { position: absolute; display: none; white-space: pre-wrap; max-width: 40em;\n"
    "  background: #ffffe8; border: 1px solid #888; padding: 4px; font-size: 12px; }\n"
    ".bar { display: inline-block; height: 10px; }\n"
    "td, th { padding: 2px 8px; text-align: left; }\n"
    "label { margin-right: 1em; }\n"
    "</style>\n</head>\n<body>\n<h1>weft map</h1>\n";

static const char page_controls[] =
    "<p><input id=\"search\" type=\"search\" placeholder=\"search questions and answers\"></p>\n"
    "<p>Labels: <span id=\"labels\"></span></p>\n"
    "<p>Clusters: <span id=\"clusters\"></span></p>\n";

static const char page_tail[] =
    "<div id=\"tip\"></div>\n<h2>Class balance</h2>\n<div id=\"balance\"></div>\n"
    "<h2>Clusters</h2>\n<table>\n<thead><tr><th>#</th><th>name</th><th>pairs</th>"
    "<th>labels</th><th></th></tr></thead>\n<tbody id=\"table\"></tbody>\n</table>\n";

static void page_data(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	size_t i, l;

	strbuf_addstr(out, "{\"labels\":[");
	for (l = 0; l < in->nlabels; l++) {
		strbuf_addstr(out, l ? "," : "");
		map_add_json(out, in->label_names[l]);
	}
	strbuf_addstr(out, "],\"colours\":[");
	for (l = 0; l < in->nlabels; l++)
		strbuf_addf(out, "%s\"%s\"", l ? "," : "", palette[l % PALETTE_N]);
	strbuf_addstr(out, "],\"clusters\":[");
	for (i = 0; i < m->k; i++) {
		const struct map_cluster *cl = &m->clusters[i];

		strbuf_addstr(out, i ? ",{\"name\":" : "{\"name\":");
		map_add_json(out, cl->name);
		strbuf_addf(out,
			    ",\"n\":%zu,\"shortcut\":%s,\"shortcut_label\":%zu,\"per_label\":[",
			    cl->n, cl->shortcut ? "true" : "false", cl->shortcut_label);
		for (l = 0; l < in->nlabels; l++)
			strbuf_addf(out, "%s%zu", l ? "," : "", cl->per_label[l]);
		strbuf_addstr(out, "]}");
	}
	strbuf_addstr(out, "],\"points\":[");
	for (i = 0; i < m->n; i++) {
		strbuf_addstr(out, i ? ",{\"q\":" : "{\"q\":");
		map_add_json(out, in->questions[i]);
		strbuf_addstr(out, ",\"a\":");
		map_add_json(out, in->answers ? in->answers[i] : in->label_names[in->labels[i]]);
		strbuf_addstr(out, ",\"id\":");
		map_add_json(out, in->node_ids ? in->node_ids[i] : NULL);
		strbuf_addf(out, ",\"l\":%zu,\"c\":%zu}", in->labels[i], m->points[i].cluster);
	}
	strbuf_addstr(out, "]}");
}

void map_write_html(const struct map *m, const struct map_input *in, struct strbuf *out)
{
	strbuf_addstr(out, page_head);
	strbuf_addf(out, "<p>Vectors: %s; layout: %s; groups: k-means.</p>\n",
		    in->vectors ? "the embedder's (cosine similarity)"
				: "TF-IDF of the questions (no embedder)",
		    in->method != MAP_METHOD_TSNE    ? "PCA"
		    : map_tsne_uses_barnes_hut(m->n) ? "t-SNE (Barnes-Hut)"
						     : "t-SNE");
	strbuf_addstr(out, page_controls);
	map_write_svg(m, in, out);
	strbuf_addstr(out, page_tail);
	strbuf_addstr(out, "<script type=\"application/json\" id=\"map-data\">");
	page_data(m, in, out);
	strbuf_addstr(out, "</script>\n<script>\n");
	strbuf_addstr(out, page_script);
	strbuf_addstr(out, "</script>\n</body>\n</html>\n");
}

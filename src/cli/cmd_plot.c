#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/cli.h"
#include "weft/errbuf.h"
#include "weft/metrics.h"
#include "weft/num.h"
#include "weft/outfile.h"
#include "weft/plot.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"
#include "weft/safetext.h"

static const char plot_usage[] =
    "usage: weft plot DIR [--sizes FILE] [--size NAME=SIZE[:FAMILY]]...\n"
    "                 [--svg FILE | --no-svg] [--summary FILE] [--force]\n"
    "                 [--width N] [--height N]\n"
    "\n"
    "Reads the per-model result files DIR/*.csv (index,loss,correct,predicted,\n"
    "total_logprob), prints per model n, accuracy with its 95% Wilson interval\n"
    "and mean loss, draws accuracy and mean loss against model size (log axis,\n"
    "one line per family) and writes the plot as SVG (default DIR/scaling.svg).\n"
    "Sizes: --size and --sizes first, then those weft eval stored in\n"
    "DIR/summary.csv, then weft's table of well-known models (GPT-3 ada ...\n"
    "davinci, InstructGPT text-ada-001 ..., and Pythia, Llama and Qwen names\n"
    "with their size, e.g. pythia-70m, Llama-2-7b, Qwen2.5-0.5B; stderr says\n"
    "which came from the table).\n"
    "Sizes file lines: `NAME = SIZE [FAMILY]`, e.g. `ada = 350e6 gpt3`.\n"
    "--svg and --summary never name a file plot reads, and replace an existing\n"
    "file only with --force.\n";

/* Prints s made safe for a terminal (safetext.h). */
static void err_line(const char *prefix, const char *msg)
{
	fputs(prefix, stderr);
	safetext_fputs(msg, stderr);
	fputc('\n', stderr);
}

struct entry {
	struct metrics_table table;
	struct metrics_summary sum;
	const struct model_size *size; /* borrowed from sizes, or NULL */
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (!x->size || !y->size)
		return (x->size == NULL) - (y->size == NULL);
	c = strcmp(x->size->family, y->size->family);
	if (c)
		return c;
	if (x->size->size < y->size->size)
		return -1;
	if (x->size->size > y->size->size)
		return 1;
	return strcmp(x->table.model, y->table.model);
}

static int parse_int(const char *s, int *v)
{
	long l;

	if (num_parse_long(s, 1, 1000, &l))
		return -1;
	*v = (int)l;
	return 0;
}

struct plot_options {
	const char *dir, *svg_path, *summary_path, *sizes_file;
	int no_svg, force, width, height;
	struct model_sizes sizes; /* from --sizes and --size, read as they come */
};

static void plot_options_init(struct plot_options *o)
{
	memset(o, 0, sizeof(*o));
	o->width = 60;
	o->height = 14;
	model_sizes_init(&o->sizes);
}

/* An option a with its value v; -1 when good, else the exit status. */
static int plot_value(struct plot_options *o, const char *a, const char *v)
{
	struct errbuf err;

	if (!strcmp(a, "--sizes")) {
		o->sizes_file = v;
		if (model_sizes_load(&o->sizes, v, &err) < 0)
			return cli_error("plot", err.msg);
	} else if (!strcmp(a, "--size")) {
		if (model_sizes_add_spec(&o->sizes, v, &err) < 0) {
			cli_error("plot", err.msg);
			return 2;
		}
	} else if (!strcmp(a, "--svg")) {
		o->svg_path = v;
	} else if (!strcmp(a, "--summary")) {
		o->summary_path = v;
	} else if (parse_int(v, !strcmp(a, "--width") ? &o->width : &o->height) < 0) {
		fprintf(stderr, "weft plot: %s must be a number from 1 to 1000\n", a);
		return 2;
	}
	return -1;
}

/* Returns -1 when the options are good, else the exit status. */
static int plot_parse(struct plot_options *o, int argc, char **argv)
{
	static const char *const with_value[] = {"--sizes",   "--size",	 "--svg",
						 "--summary", "--width", "--height"};
	int i, r;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		for (k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			if (!strcmp(a, with_value[k]))
				break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(plot_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--no-svg")) {
			o->no_svg = 1;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o->force = 1;
		} else if (k < sizeof(with_value) / sizeof(with_value[0])) {
			if (i + 1 >= argc)
				return cli_unknown_option("plot", plot_usage, a, 1);
			r = plot_value(o, a, argv[++i]);
			if (r >= 0)
				return r;
		} else if (a[0] == '-' && a[1]) {
			return cli_unknown_option("plot", plot_usage, a, 0);
		} else if (!o->dir) {
			o->dir = a;
		} else {
			fputs(plot_usage, stderr);
			return 2;
		}
	}
	if (!o->dir) {
		fputs(plot_usage, stderr);
		return 2;
	}
	return -1;
}

/* What one plot reads and draws. */
struct plotting {
	struct plot_options *o;
	char **names; /* the per-model CSVs in DIR, sorted; owned */
	size_t n_names;
	struct entry *entries;
	size_t n;
	struct plot_point *pts; /* the entries with a size */
	size_t np;
};

/* The per-model CSVs of DIR, sorted.  Returns 0, or 1 with the error said. */
static int plot_list(struct plotting *p)
{
	const char *dir = p->o->dir;
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		fputs("weft plot: ", stderr);
		safetext_fputs(dir, stderr);
		fprintf(stderr, ": %s\n", strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 4 && !strcmp(de->d_name + len - 4, ".csv") &&
		    strcmp(de->d_name, "summary.csv")) {
			XGROW(p->names, cap, p->n_names + 1);
			p->names[p->n_names++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (!p->n_names) {
		fputs("weft plot: no per-model .csv files in ", stderr);
		safetext_fputs(dir, stderr);
		fputc('\n', stderr);
		return 1;
	}
	qsort(p->names, p->n_names, sizeof(*p->names), cmp_names);
	return 0;
}

/* Outputs never clobber inputs: the files read are the CSVs and the sizes
 * file; the default DIR/scaling.svg is plot's own.  Returns 0, or the exit
 * status with the error said. */
static int plot_check_outputs(const struct plotting *p)
{
	const struct plot_options *o = p->o;
	const char **inputs = xcalloc(p->n_names + 1, sizeof(*inputs));
	char **paths = xcalloc(p->n_names, sizeof(*paths));
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	size_t i, n = p->n_names + 1;
	int bad = 0;

	for (i = 0; i < p->n_names; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", o->dir, p->names[i]);
		paths[i] = xstrdup(path.data);
		inputs[i] = paths[i];
	}
	inputs[p->n_names] = o->sizes_file;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/scaling.svg", o->dir);
	if (!o->no_svg)
		bad = outfile_check(o->svg_path ? o->svg_path : path.data, inputs, n,
				    o->svg_path ? o->force : 1, &err);
	if (!bad && o->summary_path)
		bad = outfile_check(o->summary_path, inputs, n, o->force, &err);
	for (i = 0; i < p->n_names; i++)
		free(paths[i]);
	free(paths);
	free(inputs);
	strbuf_release(&path);
	if (!bad)
		return 0;
	cli_error("plot", err.msg);
	return bad == OUTFILE_IS_INPUT ? 2 : 1;
}

/* Where the size of e's model comes from, said when it is weft's table
 * or nowhere. */
static void plot_size_note(struct model_sizes *sizes, const struct entry *e)
{
	int from_table;
	const struct model_size *ms = model_sizes_find_known(sizes, e->table.model, &from_table);

	if (!ms) {
		fputs("weft plot: no size for model '", stderr);
		safetext_fputs(e->table.model, stderr);
		fputs("' (give --size NAME=SIZE); left out of the plot\n", stderr);
	} else if (from_table) {
		fputs("weft plot: size of '", stderr);
		safetext_fputs(e->table.model, stderr);
		fprintf(stderr, "' from weft's table of known models: %.3g (", ms->size);
		safetext_fputs(ms->family, stderr);
		fputs("); --size NAME=SIZE to change it\n", stderr);
	}
}

/* Reads and summarises every CSV, sorted by family and size.  Returns 0,
 * or 1 with the error said. */
static int plot_read(struct plotting *p)
{
	struct strbuf path = STRBUF_INIT;
	struct errbuf err;
	size_t i;

	p->entries = xcalloc(p->n_names, sizeof(*p->entries));
	for (i = 0; i < p->n_names; i++) {
		struct entry *e = &p->entries[p->n];

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", p->o->dir, p->names[i]);
		if (metrics_table_read(&e->table, path.data, &err) < 0) {
			metrics_table_release(&e->table);
			strbuf_release(&path);
			return cli_error("plot", err.msg);
		}
		metrics_summarize(&e->table, NULL, &e->sum);
		plot_size_note(&p->o->sizes, e);
		p->n++;
	}
	strbuf_release(&path);
	/* after the table may have added entries (and moved them) */
	for (i = 0; i < p->n; i++)
		p->entries[i].size = model_sizes_find(&p->o->sizes, p->entries[i].table.model);
	qsort(p->entries, p->n, sizeof(*p->entries), cmp_entries);
	return 0;
}

/* Text padded with spaces to cols columns (by bytes, as printf would). */
static void print_padded(const char *s, size_t cols)
{
	size_t len = strlen(s);

	safetext_fputs(s, stdout);
	printf("%*s", (int)(len < cols ? cols - len : 0), "");
}

/* The table on stdout, and the points of the entries with a size. */
static void plot_table(struct plotting *p)
{
	size_t i, cap = 0;

	printf("%-20s %-12s %9s %5s %8s %17s %9s %8s\n", "model", "family", "size", "n", "accuracy",
	       "95% CI (Wilson)", "mean_loss", "loss_se");
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];
		char size[32] = "-";

		if (e->size)
			snprintf(size, sizeof(size), "%.3g", e->size->size);
		print_padded(e->table.model, 20);
		putchar(' ');
		print_padded(e->size ? e->size->family : "-", 12);
		printf(" %9s %5zu %8.3f   [%0.3f, %0.3f]", size, e->sum.n, e->sum.accuracy,
		       e->sum.acc_low, e->sum.acc_high);
		if (isnan(e->sum.mean_loss))
			printf(" %9s %8s\n", "-", "-");
		else
			printf(" %9.4f %8.4f\n", e->sum.mean_loss, e->sum.loss_stderr);
		if (!e->size)
			continue;
		XGROW(p->pts, cap, p->np + 1);
		p->pts[p->np].model = e->table.model;
		p->pts[p->np].family = e->size->family;
		p->pts[p->np].size = e->size->size;
		p->pts[p->np].accuracy = e->sum.accuracy;
		p->pts[p->np].acc_low = e->sum.acc_low;
		p->pts[p->np].acc_high = e->sum.acc_high;
		p->pts[p->np].mean_loss = e->table.logodds ? NAN : e->sum.mean_loss;
		p->np++;
	}
}

/* --summary: the table as CSV.  Returns 0, or 1 with the error said. */
static int plot_write_summary(const struct plotting *p, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f) {
		err_line("weft plot: cannot write ", path);
		return 1;
	}
	fputs("model,size,n,accuracy,mean_loss,acc_low,acc_high\n", f);
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		fprintf(f, "%s,%.6g,%zu,%.6f,%.6f,%.6f,%.6f\n", e->table.model,
			e->size ? e->size->size : NAN, e->sum.n, e->sum.accuracy, e->sum.mean_loss,
			e->sum.acc_low, e->sum.acc_high);
	}
	if (fclose(f) != 0) {
		err_line("weft plot: cannot write ", path);
		return 1;
	}
	return 0;
}

/* The plot on the terminal and, unless --no-svg, as SVG.  Returns 0, or 1
 * with the error said. */
static int plot_draw(const struct plotting *p)
{
	const struct plot_options *o = p->o;
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;
	int r = 0;

	putchar('\n');
	plot_terminal(p->pts, p->np, o->width, o->height, &out);
	fputs(out.data, stdout);
	if (!o->no_svg) {
		strbuf_reset(&out);
		plot_svg(p->pts, p->np, "weft scaling plot", &out);
		if (o->svg_path)
			strbuf_addstr(&path, o->svg_path);
		else
			strbuf_addf(&path, "%s/scaling.svg", o->dir);
		f = fopen(path.data, "w");
		if (!f || fwrite(out.data, 1, out.len, f) != out.len) {
			if (f)
				fclose(f);
			err_line("weft plot: cannot write ", path.data);
			r = 1;
		} else if (fclose(f) != 0) {
			err_line("weft plot: cannot write ", path.data);
			r = 1;
		} else {
			fputs("wrote ", stdout);
			safetext_fputs(path.data, stdout);
			putchar('\n');
		}
	}
	strbuf_release(&out);
	strbuf_release(&path);
	return r;
}

static int plot_run(struct plot_options *o)
{
	struct plotting p;
	struct errbuf err;
	size_t i;
	int r;

	memset(&p, 0, sizeof(p));
	p.o = o;
	/* the sizes weft eval stored beside the results; --sizes/--size win */
	if (model_sizes_load_results(&o->sizes, o->dir, &err) < 0)
		cli_error("plot", err.msg);
	r = plot_list(&p);
	if (!r)
		r = plot_check_outputs(&p);
	if (!r)
		r = plot_read(&p);
	if (!r) {
		plot_table(&p);
		if (o->summary_path)
			r = plot_write_summary(&p, o->summary_path);
	}
	if (!r && p.np)
		r = plot_draw(&p);
	for (i = 0; i < p.n; i++)
		metrics_table_release(&p.entries[i].table);
	free(p.entries);
	for (i = 0; i < p.n_names; i++)
		free(p.names[i]);
	free(p.names);
	free(p.pts);
	return r;
}

int cmd_plot(int argc, char **argv)
{
	struct plot_options o;
	int r;

	plot_options_init(&o);
	r = plot_parse(&o, argc, argv);
	if (r < 0)
		r = plot_run(&o);
	model_sizes_release(&o.sizes);
	return r;
}

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

int cmd_plot(int argc, char **argv)
{
	struct model_sizes sizes;
	struct errbuf err;
	struct entry *entries = NULL;
	struct plot_point *pts = NULL;
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	const char *dir = NULL, *svg_path = NULL, *summary_path = NULL, *sizes_file = NULL;
	char **names = NULL;
	size_t n_names = 0, cap_names = 0, n = 0, np = 0, cap_pts = 0, i;
	int no_svg = 0, force = 0, width = 60, height = 14, rc = 1;
	DIR *d;
	struct dirent *de;

	model_sizes_init(&sizes);
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(plot_usage, stdout);
			model_sizes_release(&sizes);
			return 0;
		} else if (!strcmp(a, "--no-svg")) {
			no_svg = 1;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			force = 1;
		} else if (!strcmp(a, "--sizes") || !strcmp(a, "--size") || !strcmp(a, "--svg") ||
			   !strcmp(a, "--summary") || !strcmp(a, "--width") ||
			   !strcmp(a, "--height")) {
			const char *v;

			if (i + 1 >= (size_t)argc) {
				rc = cli_unknown_option("plot", plot_usage, a, 1);
				goto done;
			}
			v = argv[++i];
			if (!strcmp(a, "--sizes")) {
				sizes_file = v;
				if (model_sizes_load(&sizes, v, &err) < 0) {
					cli_error("plot", err.msg);
					goto done;
				}
			} else if (!strcmp(a, "--size")) {
				if (model_sizes_add_spec(&sizes, v, &err) < 0) {
					cli_error("plot", err.msg);
					rc = 2;
					goto done;
				}
			} else if (!strcmp(a, "--svg")) {
				svg_path = v;
			} else if (!strcmp(a, "--summary")) {
				summary_path = v;
			} else if (parse_int(v, !strcmp(a, "--width") ? &width : &height) < 0) {
				fprintf(stderr, "weft plot: %s must be a number from 1 to 1000\n",
					a);
				rc = 2;
				goto done;
			}
		} else if (a[0] == '-' && a[1]) {
			rc = cli_unknown_option("plot", plot_usage, a, 0);
			goto done;
		} else if (!dir) {
			dir = a;
		} else {
			fputs(plot_usage, stderr);
			rc = 2;
			goto done;
		}
	}
	if (!dir) {
		fputs(plot_usage, stderr);
		rc = 2;
		goto done;
	}
	/* the sizes weft eval stored beside the results; --sizes/--size win */
	if (model_sizes_load_results(&sizes, dir, &err) < 0)
		cli_error("plot", err.msg);
	d = opendir(dir);
	if (!d) {
		fputs("weft plot: ", stderr);
		safetext_fputs(dir, stderr);
		fprintf(stderr, ": %s\n", strerror(errno));
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 4 && !strcmp(de->d_name + len - 4, ".csv") &&
		    strcmp(de->d_name, "summary.csv")) {
			XGROW(names, cap_names, n_names + 1);
			names[n_names++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (!n_names) {
		fputs("weft plot: no per-model .csv files in ", stderr);
		safetext_fputs(dir, stderr);
		fputc('\n', stderr);
		goto done;
	}
	qsort(names, n_names, sizeof(*names), cmp_names);
	{
		/* Outputs never clobber inputs: the files read are the CSVs and
		 * the sizes file; the default DIR/scaling.svg is plot's own. */
		const char **inputs = xcalloc(n_names + 1, sizeof(*inputs));
		char **paths = xcalloc(n_names, sizeof(*paths));
		int bad = 0;

		for (i = 0; i < n_names; i++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", dir, names[i]);
			paths[i] = xstrdup(path.data);
			inputs[i] = paths[i];
		}
		inputs[n_names] = sizes_file;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/scaling.svg", dir);
		if (!no_svg)
			bad = outfile_check(svg_path ? svg_path : path.data, inputs, n_names + 1,
					    svg_path ? force : 1, &err);
		if (!bad && summary_path)
			bad = outfile_check(summary_path, inputs, n_names + 1, force, &err);
		for (i = 0; i < n_names; i++)
			free(paths[i]);
		free(paths);
		free(inputs);
		if (bad) {
			cli_error("plot", err.msg);
			rc = bad == OUTFILE_IS_INPUT ? 2 : 1;
			goto done;
		}
	}
	entries = xcalloc(n_names, sizeof(*entries));
	for (i = 0; i < n_names; i++) {
		struct entry *e = &entries[n];

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, names[i]);
		if (metrics_table_read(&e->table, path.data, &err) < 0) {
			metrics_table_release(&e->table);
			cli_error("plot", err.msg);
			goto done;
		}
		metrics_summarize(&e->table, NULL, &e->sum);
		{
			int from_table;
			const struct model_size *ms =
			    model_sizes_find_known(&sizes, e->table.model, &from_table);

			if (!ms) {
				fputs("weft plot: no size for model '", stderr);
				safetext_fputs(e->table.model, stderr);
				fputs("' (give --size NAME=SIZE); left out of the plot\n", stderr);
			} else if (from_table) {
				fputs("weft plot: size of '", stderr);
				safetext_fputs(e->table.model, stderr);
				fprintf(stderr, "' from weft's table of known models: %.3g (",
					ms->size);
				safetext_fputs(ms->family, stderr);
				fputs("); --size NAME=SIZE to change it\n", stderr);
			}
		}
		n++;
	}
	/* after the table may have added entries (and moved them) */
	for (i = 0; i < n; i++)
		entries[i].size = model_sizes_find(&sizes, entries[i].table.model);
	qsort(entries, n, sizeof(*entries), cmp_entries);

	printf("%-20s %-12s %9s %5s %8s %17s %9s %8s\n", "model", "family", "size", "n", "accuracy",
	       "95% CI (Wilson)", "mean_loss", "loss_se");
	for (i = 0; i < n; i++) {
		const struct entry *e = &entries[i];
		char size[32] = "-";

		if (e->size)
			snprintf(size, sizeof(size), "%.3g", e->size->size);
		fputs("", stdout);
		safetext_fputs(e->table.model, stdout);
		printf("%*s ", (int)(strlen(e->table.model) < 20 ? 20 - strlen(e->table.model) : 0),
		       "");
		safetext_fputs(e->size ? e->size->family : "-", stdout);
		{
			size_t fl = strlen(e->size ? e->size->family : "-");

			printf("%*s", (int)(fl < 12 ? 12 - fl : 0), "");
		}
		printf(" %9s %5zu %8.3f   [%0.3f, %0.3f]", size, e->sum.n, e->sum.accuracy,
		       e->sum.acc_low, e->sum.acc_high);
		if (isnan(e->sum.mean_loss))
			printf(" %9s %8s\n", "-", "-");
		else
			printf(" %9.4f %8.4f\n", e->sum.mean_loss, e->sum.loss_stderr);
		if (e->size) {
			XGROW(pts, cap_pts, np + 1);
			pts[np].model = e->table.model;
			pts[np].family = e->size->family;
			pts[np].size = e->size->size;
			pts[np].accuracy = e->sum.accuracy;
			pts[np].acc_low = e->sum.acc_low;
			pts[np].acc_high = e->sum.acc_high;
			pts[np].mean_loss = e->table.logodds ? NAN : e->sum.mean_loss;
			np++;
		}
	}
	if (summary_path) {
		FILE *f = fopen(summary_path, "w");

		if (!f) {
			err_line("weft plot: cannot write ", summary_path);
			goto done;
		}
		fputs("model,size,n,accuracy,mean_loss,acc_low,acc_high\n", f);
		for (i = 0; i < n; i++) {
			const struct entry *e = &entries[i];

			fprintf(f, "%s,%.6g,%zu,%.6f,%.6f,%.6f,%.6f\n", e->table.model,
				e->size ? e->size->size : NAN, e->sum.n, e->sum.accuracy,
				e->sum.mean_loss, e->sum.acc_low, e->sum.acc_high);
		}
		if (fclose(f) != 0) {
			err_line("weft plot: cannot write ", summary_path);
			goto done;
		}
	}
	if (np) {
		FILE *f;

		putchar('\n');
		plot_terminal(pts, np, width, height, &out);
		fputs(out.data, stdout);
		if (!no_svg) {
			strbuf_reset(&out);
			plot_svg(pts, np, "weft scaling plot", &out);
			strbuf_reset(&path);
			if (svg_path)
				strbuf_addstr(&path, svg_path);
			else
				strbuf_addf(&path, "%s/scaling.svg", dir);
			f = fopen(path.data, "w");
			if (!f || fwrite(out.data, 1, out.len, f) != out.len) {
				if (f)
					fclose(f);
				err_line("weft plot: cannot write ", path.data);
				goto done;
			}
			if (fclose(f) != 0) {
				err_line("weft plot: cannot write ", path.data);
				goto done;
			}
			fputs("wrote ", stdout);
			safetext_fputs(path.data, stdout);
			putchar('\n');
		}
	}
	rc = 0;
done:
	for (i = 0; i < n; i++)
		metrics_table_release(&entries[i].table);
	free(entries);
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(pts);
	strbuf_release(&path);
	strbuf_release(&out);
	model_sizes_release(&sizes);
	return rc;
}

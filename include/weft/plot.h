#ifndef WEFT_PLOT_H
#define WEFT_PLOT_H
/*
 * The scaling plot: accuracy and mean loss against model size (log axis),
 * one line per model family, drawn as Unicode text for a terminal and as a
 * standalone SVG file.  Model sizes and families come from configuration:
 *
 *   # sizes file: NAME = SIZE [FAMILY]   (blank lines and # comments skipped)
 *   ada          = 350e6  gpt3
 *   text-ada-001 = 350e6  instructgpt
 *
 * or on the command line as NAME=SIZE[:FAMILY] (`ada=350e6:gpt3`).  SIZE is
 * a number of parameters (`350e6`, `1.3e9`, or with a suffix `350M`, `1.3B`,
 * `175B`, `7k`).  A model without a family is in family "models".
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/strbuf.h"

struct model_size {
	char *name;   /* owned */
	double size;  /* parameters, > 0 */
	char *family; /* owned */
};

struct model_sizes {
	struct model_size *items;
	size_t n, cap;
};

void model_sizes_init(struct model_sizes *s);
void model_sizes_release(struct model_sizes *s);
/* Parses "NAME=SIZE[:FAMILY]" and adds it (a later entry for the same name
 * replaces the earlier).  Returns 0, or -1 with a message in err. */
int model_sizes_add_spec(struct model_sizes *s, const char *spec, struct errbuf *err);
/* Reads a sizes file (format above).  Returns 0, or -1 with "PATH:LINE: ..." */
int model_sizes_load(struct model_sizes *s, const char *path, struct errbuf *err);
/*
 * Reads the sizes `weft eval` stored in a results folder: dir/summary.csv
 * (model,size,family,...) gives each model with a size, under its name and
 * under its CSV file's name (NAME.csv, '/' and controls as '_'), unless s
 * already has that name (sizes given by the person win).  A folder without
 * summary.csv adds nothing.  Returns how many were added, or -1 with err
 * when the file is there but cannot be read or has no model,size header.
 */
int model_sizes_load_results(struct model_sizes *s, const char *dir, struct errbuf *err);
/* The entry for name, or NULL (borrowed). */
const struct model_size *model_sizes_find(const struct model_sizes *s, const char *name);
/*
 * weft's table of well-known models: the GPT-3 models (ada 350M, babbage
 * 1.3B, curie 6.7B, davinci 175B; family gpt3) and InstructGPT's
 * text-ada-001 ... text-davinci-001 (the same sizes; instructgpt), and Pythia,
 * Llama and Qwen names that carry their size ("pythia-70m", "Llama-2-7b-hf",
 * "Qwen/Qwen2.5-0.5B-Instruct", "llama3:8b"; the family is the lower-cased
 * name without the size and any "org/": pythia, llama-2-hf, qwen2.5-instruct).
 * Returns 0 with *size and family (NUL-terminated, truncated to family_cap),
 * or -1 when the name is not known.
 */
int model_sizes_known(const char *name, double *size, char *family, size_t family_cap);
/*
 * model_sizes_find, else the table's entry for name added to s; *from_table
 * (when not NULL) says which.  NULL when neither knows the name.
 */
const struct model_size *model_sizes_find_known(struct model_sizes *s, const char *name,
						int *from_table);
/* Parses a size ("350e6", "1.3B"); returns 0 or -1. */
int model_size_parse(const char *text, double *size);

/* One point of the plot (all strings borrowed). */
struct plot_point {
	const char *model;
	const char *family;
	double size;
	double accuracy;
	double acc_low, acc_high; /* interval drawn as an error bar in the SVG */
	double mean_loss;	  /* NaN when the run has no loss (generate) */
};

/*
 * Appends the terminal plot of the points: one panel for accuracy and one
 * for mean loss (skipped when every loss is NaN), width x height cells each
 * (clamped to at least 30 x 8), x log10(size), one marker per family, the
 * segments between a family's points drawn with braille dots; then a legend.
 */
void plot_terminal(const struct plot_point *pts, size_t n, int width, int height,
		   struct strbuf *out);

/*
 * Appends a standalone SVG document (no scripts, no external references):
 * one panel per metric (<g id="accuracy">, <g id="loss">), each with axes,
 * decade ticks and labels, the axis titles, one <polyline class="series"
 * data-family="F"> per family with a circle per model, and a legend.
 */
void plot_svg(const struct plot_point *pts, size_t n, const char *title, struct strbuf *out);

#endif

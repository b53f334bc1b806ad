#include "weft/evalrun.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/atomicfile.h"
#include "weft/display.h"
#include "weft/export.h"
#include "weft/plot.h"
#include "weft/xalloc.h"

#include "evalrun_run.h"

/* ---- results ----------------------------------------------------------------- */

static void add_sanitized(struct strbuf *out, const char *s)
{
	display_sanitize(s, strlen(s), out);
}

static void pad(struct strbuf *out, size_t used, size_t width)
{
	while (used++ < width)
		strbuf_addch(out, ' ');
}

void evalrun_format_table(const struct evalrun *run, struct strbuf *out)
{
	size_t i, w = 5;
	int logprob = run->opts.method == EVALRUN_LOGPROB;

	for (i = 0; i < run->nmodels; i++) {
		struct strbuf s = STRBUF_INIT;

		add_sanitized(&s, run->models[i].name);
		if (display_width(s.data, s.len) > w)
			w = display_width(s.data, s.len);
		strbuf_release(&s);
	}
	if (w > 40)
		w = 40;
	strbuf_addstr(out, "model");
	pad(out, 5, w);
	strbuf_addf(out, " %9s %5s %8s %16s %9s %8s %6s%s\n", "size", "n", "accuracy", "95% CI",
		    "mean_loss", "unparsed", "failed", logprob ? "  way" : "");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;
		struct strbuf name = STRBUF_INIT;
		size_t used, cut;
		char size[32] = "-";

		evalrun_model_summary(run, i, &s);
		add_sanitized(&name, m->name);
		cut = display_truncate(name.data, name.len, w, &used);
		strbuf_add(out, name.data, cut);
		pad(out, used, w);
		strbuf_release(&name);
		if (m->size > 0)
			snprintf(size, sizeof(size), "%.3g", m->size);
		strbuf_addf(out, " %9s %5zu %8.3f   [%.3f, %.3f]", size, s.n, s.accuracy, s.acc_low,
			    s.acc_high);
		if (s.n && !isnan(s.mean_loss))
			strbuf_addf(out, " %9.4f", s.mean_loss);
		else
			strbuf_addf(out, " %9s", "-");
		strbuf_addf(out, " %8zu %6zu", m->unparsed, m->failed);
		if (logprob)
			strbuf_addf(out, "  %s", evalrun_way_name(m->way));
		strbuf_addch(out, '\n');
		if (m->floored)
			strbuf_addf(out,
				    "  (%zu class log-probabilities were not among the top %d "
				    "and got the floor value)\n",
				    m->floored, EVALRUN_TOP_K);
		if (m->error) {
			strbuf_addstr(out, "  error: ");
			add_sanitized(out, m->error);
			strbuf_addch(out, '\n');
		}
	}
}

void evalrun_format_balance(const struct evalrun *run, struct strbuf *out)
{
	const struct evalset *set = run->set;
	char **names = NULL;
	size_t *counts = NULL, n = 0, cap = 0, i, k;

	for (i = 0; i < set->n; i++) {
		char *t = evalrun_trimmed(set->items[i].classes[set->items[i].answer]);

		for (k = 0; k < n; k++)
			if (!strcmp(names[k], t))
				break;
		if (k == n) {
			XGROW(names, cap, n + 1);
			counts = xreallocarray(counts, cap, sizeof(*counts));
			names[n] = t;
			counts[n++] = 0;
		} else {
			free(t);
		}
		counts[k]++;
	}
	strbuf_addstr(out, "class balance:");
	for (k = 0; k < n; k++) {
		strbuf_addstr(out, k ? ", " : " ");
		add_sanitized(out, names[k]);
		strbuf_addf(out, " %zu (%.1f%%)", counts[k],
			    100.0 * (double)counts[k] / (double)set->n);
		free(names[k]);
	}
	if (!n)
		strbuf_addstr(out, " no examples");
	strbuf_addch(out, '\n');
	free(names);
	free(counts);
}

/* The plot points of the models with a size; returns how many.  The
 * caller frees *pts and the summaries. */
static size_t plot_points(const struct evalrun *run, struct plot_point **pts)
{
	size_t i, n = 0;

	*pts = xcalloc(run->nmodels ? run->nmodels : 1, sizeof(**pts));
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;

		if (!(m->size > 0) || m->fatal)
			continue;
		evalrun_model_summary(run, i, &s);
		if (!s.n)
			continue;
		(*pts)[n].model = m->name;
		(*pts)[n].family = m->family ? m->family : "models";
		(*pts)[n].size = m->size;
		(*pts)[n].accuracy = s.accuracy;
		(*pts)[n].acc_low = s.acc_low;
		(*pts)[n].acc_high = s.acc_high;
		(*pts)[n].mean_loss =
		    run->opts.method == EVALRUN_LOGPROB && !run->set->logodds ? s.mean_loss : NAN;
		n++;
	}
	return n;
}

void evalrun_format_plot(const struct evalrun *run, int width, int height, struct strbuf *out)
{
	struct plot_point *pts;
	size_t n = plot_points(run, &pts);

	if (!n)
		strbuf_addstr(out, "no model sizes known: no scaling plot (give --size NAME=SIZE "
				   "or --sizes FILE, or scorer.NAME.size in the config)\n");
	else
		plot_terminal(pts, n, width, height, out);
	free(pts);
}

static void add_double(struct strbuf *out, double x)
{
	char b[64];

	if (isnan(x)) {
		return;
	}
	metrics_format_double(x, b, sizeof(b));
	strbuf_addstr(out, b);
}

static void csv_str(struct strbuf *out, const char *s)
{
	export_csv_field(out, s, strlen(s));
}

void evalrun_format_summary_csv(const struct evalrun *run, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out,
		      "model,size,family,n,accuracy,mean_loss,acc_low,acc_high,unparsed,failed\n");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];
		struct metrics_summary s;

		evalrun_model_summary(run, i, &s);
		csv_str(out, m->name);
		strbuf_addch(out, ',');
		if (m->size > 0)
			strbuf_addf(out, "%.15g", m->size);
		strbuf_addch(out, ',');
		csv_str(out, m->family ? m->family : "");
		strbuf_addf(out, ",%zu,", s.n);
		add_double(out, s.accuracy);
		strbuf_addch(out, ',');
		if (s.n)
			add_double(out, s.mean_loss);
		strbuf_addch(out, ',');
		add_double(out, s.acc_low);
		strbuf_addch(out, ',');
		add_double(out, s.acc_high);
		strbuf_addf(out, ",%zu,%zu\n", m->unparsed, m->failed);
	}
}

int evalrun_format_model_csv(const struct evalrun *run, size_t i, struct strbuf *out)
{
	const struct evalrun_model *m = &run->models[i];
	size_t k;

	if (run->opts.method == EVALRUN_LOGPROB) {
		struct metrics_table t;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc;

		if (!f)
			return -1;
		evalrun_model_table(run, i, &t);
		rc = metrics_table_write(&t, f);
		metrics_table_release(&t);
		if (fclose(f))
			rc = -1;
		strbuf_add(out, buf, len);
		free(buf);
		return rc;
	}
	strbuf_addstr(out, "index,question,label,raw_answer,normalised,correct\n");
	for (k = 0; k < run->set->n; k++) {
		const struct evalrun_result *r = &m->results[k];
		const struct evalset_example *e = &run->set->items[k];
		char *label;

		if (r->state != EVALRUN_DONE)
			continue;
		label = evalrun_trimmed(e->classes[e->answer]);
		strbuf_addf(out, "%ld,", e->index);
		csv_str(out, e->question);
		strbuf_addch(out, ',');
		csv_str(out, label);
		strbuf_addch(out, ',');
		csv_str(out, r->raw ? r->raw : "");
		strbuf_addch(out, ',');
		csv_str(out, r->parsed ? r->parsed : "");
		strbuf_addf(out, ",%d\n", r->outcome == SCORE_CORRECT);
		free(label);
	}
	return 0;
}

/* Appends one URL (len bytes) without its credentials (user:pass@). */
static void add_url_part(struct strbuf *u, const char *url, size_t len)
{
	const char *end = url + len, *scheme = NULL, *host, *at = NULL, *p;

	for (p = url; p + 3 <= end; p++)
		if (!memcmp(p, "://", 3)) {
			scheme = p;
			break;
		}
	host = scheme ? scheme + 3 : url;
	for (p = host; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	if (at) {
		strbuf_add(u, url, (size_t)(host - url));
		strbuf_add(u, at + 1, (size_t)(end - at - 1));
	} else {
		strbuf_add(u, url, len);
	}
}

/* base_url (one URL, or several separated by commas, as the engine reads
 * it) without anything that looks like credentials, in any of them. */
static void add_url(struct strbuf *out, const char *url)
{
	struct strbuf u = STRBUF_INIT;
	const char *p = url;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		add_url_part(&u, p, len);
		if (!comma)
			break;
		strbuf_addch(&u, ',');
		p = comma + 1;
	}
	strbuf_add_json_string(out, u.data);
	strbuf_release(&u);
}

void evalrun_format_config(const struct evalrun *run, struct strbuf *out)
{
	size_t i, done, total;
	const struct evalset *set = run->set;

	evalrun_progress(run, &done, &total);
	strbuf_addstr(out, "{\n  \"dataset\": {\"name\": ");
	strbuf_add_json_string(out, set->name ? set->name : "");
	strbuf_addstr(out, ", \"hash\": ");
	strbuf_add_json_string(out, set->hash);
	strbuf_addstr(out, ", \"hash_algorithm\": \"fnv1a-64\", \"task\": ");
	if (set->task)
		strbuf_add_json_string(out, set->task);
	else
		strbuf_addstr(out, "null");
	if (set->nsources > 1) {
		/* one dataset from several inputs: all of them, in order */
		strbuf_addstr(out, ", \"inputs\": [");
		for (i = 0; i < set->nsources; i++) {
			strbuf_addstr(out, i ? ", " : "");
			strbuf_add_json_string(out, set->sources[i]);
		}
		strbuf_addf(out, "], \"repeats_dropped\": %zu", set->nrepeats);
	}
	strbuf_addf(out, ", \"examples\": %zu, \"type\": \"%s\"},\n", set->n,
		    set->logodds ? "logodds" : "classification");
	strbuf_addf(out, "  \"method\": \"%s\",\n", evalrun_method_name(run->opts.method));
	if (run->opts.method == EVALRUN_GENERATE) {
		strbuf_addf(out, "  \"scoring\": \"%s\",\n",
			    run->opts.rules == SCORE_OPRO ? "opro" : "strict");
		strbuf_addstr(out, "  \"prompt\": ");
		strbuf_add_json_string(out, run->prompt_tmpl);
		strbuf_addf(out, ",\n  \"temperature\": 0,\n  \"max_tokens\": %d,\n",
			    run->opts.max_tokens);
	} else {
		strbuf_addstr(out, "  \"prompt\": \"the dataset's prompt + class (ISP)\",\n");
	}
	strbuf_addf(out, "  \"partial\": %s,\n  \"finished\": %zu,\n  \"total\": %zu,\n",
		    run->cancelled || done < total ? "true" : "false", done, total);
	strbuf_addstr(out, "  \"models\": [");
	for (i = 0; i < run->nmodels; i++) {
		const struct evalrun_model *m = &run->models[i];

		strbuf_addstr(out, i ? ",\n    {" : "\n    {");
		strbuf_addstr(out, "\"name\": ");
		strbuf_add_json_string(out, m->name);
		strbuf_addstr(out, ", \"model\": ");
		strbuf_add_json_string(out, m->model);
		strbuf_addstr(out, ", \"base_url\": ");
		add_url(out, m->base_url);
		strbuf_addf(out, ", \"endpoint\": \"%s\"",
			    run->opts.method == EVALRUN_LOGPROB || m->req.kind == LM_COMPLETIONS
				? "completions"
				: "chat");
		strbuf_addstr(out, ", \"size\": ");
		if (m->size > 0)
			strbuf_addf(out, "%.15g", m->size);
		else
			strbuf_addstr(out, "null");
		strbuf_addstr(out, ", \"family\": ");
		if (m->family)
			strbuf_add_json_string(out, m->family);
		else
			strbuf_addstr(out, "null");
		if (run->opts.method == EVALRUN_LOGPROB)
			strbuf_addf(out, ", \"logprob_way\": \"%s\", \"floored\": %zu",
				    evalrun_way_name(m->way), m->floored);
		strbuf_addf(out, ", \"done\": %zu, \"failed\": %zu, \"unparsed\": %zu", m->done,
			    m->failed, m->unparsed);
		strbuf_addstr(out, ", \"error\": ");
		if (m->error)
			strbuf_add_json_string(out, m->error);
		else
			strbuf_addstr(out, "null");
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, "\n  ]\n}\n");
}

static int write_file(const char *dir, const char *name, const struct strbuf *b, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	strbuf_addf(&path, "%s/%s", dir, name);
	rc = atomicfile_write(path.data, b->data, b->len, err);
	strbuf_release(&path);
	return rc;
}

int evalrun_write(const struct evalrun *run, const char *dir, struct errbuf *err)
{
	struct strbuf b = STRBUF_INIT, name = STRBUF_INIT;
	struct plot_point *pts;
	size_t i, n;
	int rc = -1;

	evalrun_format_config(run, &b);
	if (write_file(dir, "config.json", &b, err) < 0)
		goto out;
	for (i = 0; i < run->nmodels; i++) {
		const char *s;

		strbuf_reset(&b);
		strbuf_reset(&name);
		if (evalrun_format_model_csv(run, i, &b) < 0) {
			errbuf_set(err, "cannot format the results of %.100s", run->models[i].name);
			goto out;
		}
		for (s = run->models[i].name; *s; s++)
			strbuf_addch(&name, *s == '/' || (unsigned char)*s < 0x20 ? '_' : *s);
		if (!strcmp(name.data, "summary") || !strcmp(name.data, "config"))
			strbuf_addch(&name, '_');
		strbuf_addstr(&name, ".csv");
		if (write_file(dir, name.data, &b, err) < 0)
			goto out;
	}
	strbuf_reset(&b);
	evalrun_format_summary_csv(run, &b);
	if (write_file(dir, "summary.csv", &b, err) < 0)
		goto out;
	n = plot_points(run, &pts);
	if (n) {
		strbuf_reset(&b);
		plot_svg(pts, n, run->set->name ? run->set->name : "evaluation", &b);
		if (write_file(dir, "scaling.svg", &b, err) < 0) {
			free(pts);
			goto out;
		}
	}
	free(pts);
	rc = 0;
out:
	strbuf_release(&b);
	strbuf_release(&name);
	return rc;
}

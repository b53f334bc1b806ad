/*
 * weft replay: walk a session's recorded decisions as text or JSON, and
 * optionally re-judge them with another judge.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/cli.h"
#include "weft/config.h"
#include "weft/display.h"
#include "weft/journal.h"
#include "weft/lm.h"
#include "weft/meta.h"
#include "weft/outfile.h"
#include "weft/replay.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/steer.h"
#include "weft/task.h"
#include "weft/xalloc.h"

static const char usage[] =
    "usage: weft replay FILE [--width N] [--json]\n"
    "                   [--judge MODEL | --rejudge] [--judge-prompt FILE] [--rank MODE]\n"
    "                   [--task NAME] [--set ROLE.KEY=VALUE]... [--config FILE]\n"
    "                   [--save-as NEW [--force]]\n"
    "\n"
    "Walks the chosen path of a session step by step: the candidates of each\n"
    "step with their scores, the judge's pick (J), the final pick (*) and\n"
    "whether a person made it (H); then a summary.  The file is only read.\n"
    "  -w, --width N         line width (default: the terminal's, else 100)\n"
    "  -j, --json            print the walk (and comparison) as JSON\n"
    "      --judge MODEL     re-judge every step with this judge model\n"
    "      --rejudge         re-judge with the configured judge\n"
    "      --judge-prompt F  the judge prompt ({document}, {options}); default\n"
    "                        the task's judge.txt\n"
    "      --rank MODE       logprobs, scores or choice (default: the task's)\n"
    "  -t, --task NAME       the task, when the session names none\n"
    "  -s, --set R.K=V       a configuration setting, e.g. judge.base_url=...\n"
    "  -c, --config FILE     the configuration file\n"
    "      --save-as NEW     write a copy with the re-judged scores stored beside\n"
    "                        the recorded ones (the step's \"rejudge\" key)\n"
    "  -f, --force           replace NEW if it exists\n";

/* Appends text as one line of at most cols terminal columns: white space
 * runs become one space, everything else display_sanitize shows as marks
 * (controls in caret form, bidi and invisible characters as <U+XXXX>,
 * bad UTF-8 as <XX>); "…" marks a cut. */
static void one_line(struct strbuf *out, const char *text, size_t cols)
{
	struct strbuf flat = STRBUF_INIT, safe = STRBUF_INIT;
	const char *p;
	size_t used = 0, k = 0, n;
	int space = 0, cw;

	for (p = text; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t') {
			space = flat.len > 0;
			continue;
		}
		if (space)
			strbuf_addch(&flat, ' ');
		space = 0;
		strbuf_addch(&flat, *p);
	}
	display_sanitize(flat.data, flat.len, &safe);
	if (display_width(safe.data, safe.len) <= cols) {
		strbuf_add(out, safe.data, safe.len);
	} else if (cols > 0) {
		/* the widest prefix that leaves one column for the mark */
		while (k < safe.len) {
			n = display_char(safe.data + k, safe.len - k, &cw);
			if (used + (size_t)cw + 1 > cols)
				break;
			used += (size_t)cw;
			k += n;
		}
		strbuf_add(out, safe.data, k);
		strbuf_addstr(out, "\xe2\x80\xa6");
	}
	strbuf_release(&flat);
	strbuf_release(&safe);
}

static void put_safe(struct strbuf *out, const char *s)
{
	display_sanitize(s, strlen(s), out);
}

static const char *node_id(const struct tree *t, uint32_t i)
{
	return i == TREE_NONE ? NULL : tree_node(t, i)->id;
}

/* ---- text --------------------------------------------------------------- */

static void print_walk(const struct tree *t, const struct replay_walk *w,
		       const struct replay_rejudge *rj, size_t width)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k, j;

	for (k = 0; k < w->count; k++) {
		const struct replay_step *rs = &w->steps[k];
		const struct replay_verdict *rv = rj ? &rj->verdicts[k] : NULL;

		strbuf_reset(&sb);
		strbuf_addf(&sb, "step %zu  ", k + 1);
		if (rs->judge_index >= 0)
			strbuf_addf(&sb, "judge %ld", rs->judge_index + 1);
		else
			strbuf_addstr(&sb, "judge -");
		if (rs->waiting)
			strbuf_addstr(&sb, ", waiting for a person");
		else if (rs->final_index >= 0)
			strbuf_addf(&sb, ", final %ld", rs->final_index + 1);
		else
			strbuf_addstr(&sb, ", final (not a candidate)");
		if (!rs->waiting)
			strbuf_addf(&sb, " by %s", replay_picker_name(rs->picker));
		if (rs->override)
			strbuf_addstr(&sb, "  OVERRIDE");
		if (!rs->has_record)
			strbuf_addstr(&sb, "  (no decision record)");
		if (rv && rv->ok) {
			strbuf_addf(&sb, "  re-judged %ld", rv->pick + 1);
			if (rs->judge_index >= 0)
				strbuf_addstr(&sb, rv->pick == rs->judge_index ? " (agrees)"
									       : " (differs)");
			if (!isnan(rv->spearman))
				strbuf_addf(&sb, "  rho %.3f", rv->spearman);
		}
		printf("%s\n", sb.data);
		/* reasons in full, never cut before their cause */
		if (rs->needs_human) {
			strbuf_reset(&sb);
			one_line(&sb, rs->needs_human, SIZE_MAX);
			printf("  %s a person: %s\n", rs->waiting ? "needs" : "needed", sb.data);
		}
		if (rv && !rv->ok && rv->error) {
			strbuf_reset(&sb);
			one_line(&sb, rv->error, SIZE_MAX);
			printf("  re-judging failed: %s\n", sb.data);
		}
		for (j = 0; j < rs->count; j++) {
			const struct tree_node *n = tree_node(t, rs->candidates[j]);

			strbuf_reset(&sb);
			strbuf_addf(&sb, "  %c%c%c %2zu  ", (long)j == rs->judge_index ? 'J' : ' ',
				    (long)j == rs->final_index ? '*' : ' ',
				    ((long)j == rs->final_index && rs->picker == TREE_PICKER_HUMAN)
					? 'H'
					: ' ',
				    j + 1);
			if (rs->scores)
				strbuf_addf(&sb, "%5.3f  ", rs->scores[j]);
			else
				strbuf_addstr(&sb, "  -    ");
			if (rj) {
				if (rv->ok)
					strbuf_addf(&sb, "%5.3f%c ", rv->scores[j],
						    (long)j == rv->pick ? 'N' : ' ');
				else
					strbuf_addstr(&sb, "  -    ");
				strbuf_addch(&sb, ' ');
			}
			one_line(&sb, n->text, width > sb.len + 10 ? width - sb.len : 10);
			printf("%s\n", sb.data);
		}
	}
	strbuf_reset(&sb);
	printf("\nsummary\n");
	if (w->waiting)
		printf("  steps            %zu (the last waits for a person)\n", w->count);
	else
		printf("  steps            %zu\n", w->count);
	strbuf_addf(&sb, "%zu", w->overrides);
	for (k = 0, j = 0; k < w->count; k++)
		if (w->steps[k].override)
			strbuf_addf(&sb, "%s%zu", j++ ? ", " : " (steps ", k + 1);
	if (j)
		strbuf_addch(&sb, ')');
	printf("  human overrides  %s\n", sb.data);
	printf("  needed a person  %zu\n", w->needed_human);
	if (w->scored)
		printf("  mean pick score  %.3f over %zu steps with scores\n", w->mean_pick_score,
		       w->scored);
	else
		printf("  mean pick score  - (no scores)\n");
	strbuf_reset(&sb);
	if (w->balance_ok) {
		for (k = 0; k < w->nlabels; k++) {
			if (k)
				strbuf_addstr(&sb, " / ");
			put_safe(&sb, w->labels[k]);
			strbuf_addf(&sb, " %zu", w->per_class[k]);
		}
		strbuf_addf(&sb, " (%zu pairs)", w->pairs);
	} else {
		strbuf_addstr(&sb, "? (");
		put_safe(&sb, w->balance_error);
		strbuf_addch(&sb, ')');
	}
	printf("  balance          %s\n", sb.data);
	strbuf_release(&sb);
}

static void print_fraction(const char *what, size_t agree, size_t of)
{
	if (of)
		printf("  %-22s %zu of %zu steps = %.3f\n", what, agree, of,
		       (double)agree / (double)of);
	else
		printf("  %-22s - (no such steps)\n", what);
}

static void print_rejudge(const struct replay_rejudge *rj, const char *model, const char *prompt,
			  const char *rank)
{
	struct strbuf sb = STRBUF_INIT;

	put_safe(&sb, model);
	strbuf_addstr(&sb, ", rank ");
	put_safe(&sb, rank);
	strbuf_addstr(&sb, ", prompt ");
	put_safe(&sb, prompt);
	printf("\nre-judged by %s\n", sb.data);
	printf("  judged                 %zu of %zu steps (%zu without a usable answer", rj->judged,
	       rj->count, rj->failed);
	if (rj->request_failed)
		printf(", %zu of them because the request failed", rj->request_failed);
	printf(")\n");
	print_fraction("agrees with the judge", rj->agree_judge, rj->vs_judge);
	print_fraction("agrees with a person", rj->agree_human, rj->vs_human);
	if (rj->spearman_steps)
		printf("  rank correlation       %.3f (Spearman per step, averaged over %zu "
		       "steps)\n",
		       rj->spearman_mean, rj->spearman_steps);
	else
		printf("  rank correlation       - (no step with two varying score lists)\n");
	strbuf_release(&sb);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_id(struct strbuf *sb, const struct tree *t, uint32_t i)
{
	const char *id = node_id(t, i);

	if (id)
		strbuf_add_json_string(sb, id);
	else
		strbuf_addstr(sb, "null");
}

/* The shortest of %.15g and %.17g that reads back as v. */
static void json_num(struct strbuf *sb, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		strbuf_addstr(sb, "null");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	strbuf_addstr(sb, buf);
}

static void json_scores(struct strbuf *sb, const double *v, size_t n)
{
	size_t k;

	if (!v) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addch(sb, '[');
	for (k = 0; k < n; k++) {
		if (k)
			strbuf_addch(sb, ',');
		json_num(sb, v[k]);
	}
	strbuf_addch(sb, ']');
}

static void json_fraction(struct strbuf *sb, const char *key, size_t agree, size_t of)
{
	strbuf_addf(sb, ",\"%s\":{\"agree\":%zu,\"of\":%zu,\"fraction\":", key, agree, of);
	if (of)
		json_num(sb, (double)agree / (double)of);
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '}');
}

static void print_json(const struct tree *t, const char *file, const struct replay_walk *w,
		       const struct replay_rejudge *rj, const char *model, const char *prompt,
		       const char *rank)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k, j;

	strbuf_addstr(&sb, "{\"file\":");
	strbuf_add_json_string(&sb, file);
	strbuf_addstr(&sb, ",\"steps\":[");
	for (k = 0; k < w->count; k++) {
		const struct replay_step *rs = &w->steps[k];

		if (k)
			strbuf_addch(&sb, ',');
		strbuf_addf(&sb, "{\"step\":%zu,\"node\":", k + 1);
		json_id(&sb, t, rs->node);
		strbuf_addstr(&sb, ",\"record\":");
		strbuf_addstr(&sb, rs->has_record ? "true" : "false");
		strbuf_addstr(&sb, ",\"candidates\":[");
		for (j = 0; j < rs->count; j++) {
			if (j)
				strbuf_addch(&sb, ',');
			json_id(&sb, t, rs->candidates[j]);
		}
		strbuf_addstr(&sb, "],\"scores\":");
		json_scores(&sb, rs->scores, rs->count);
		strbuf_addstr(&sb, ",\"judgePick\":");
		json_id(&sb, t, rs->judge_pick);
		strbuf_addstr(&sb, ",\"finalPick\":");
		json_id(&sb, t, rs->final_pick);
		strbuf_addstr(&sb, ",\"pickedBy\":");
		strbuf_add_json_string(&sb, replay_picker_name(rs->picker));
		strbuf_addf(&sb, ",\"override\":%s,\"waiting\":%s,\"needsHuman\":",
			    rs->override ? "true" : "false", rs->waiting ? "true" : "false");
		if (rs->needs_human)
			strbuf_add_json_string(&sb, rs->needs_human);
		else
			strbuf_addstr(&sb, "null");
		if (rj) {
			const struct replay_verdict *rv = &rj->verdicts[k];

			strbuf_addstr(&sb, ",\"rejudge\":{\"scores\":");
			json_scores(&sb, rv->ok ? rv->scores : NULL, rs->count);
			strbuf_addstr(&sb, ",\"pick\":");
			json_id(&sb, t, rv->ok ? rs->candidates[rv->pick] : TREE_NONE);
			strbuf_addstr(&sb, ",\"spearman\":");
			json_num(&sb, rv->spearman);
			strbuf_addstr(&sb, ",\"raw\":");
			if (rv->raw)
				strbuf_add_json_string(&sb, rv->raw);
			else
				strbuf_addstr(&sb, "null");
			strbuf_addstr(&sb, ",\"error\":");
			if (rv->error)
				strbuf_add_json_string(&sb, rv->error);
			else
				strbuf_addstr(&sb, "null");
			strbuf_addch(&sb, '}');
		}
		strbuf_addch(&sb, '}');
	}
	strbuf_addf(&sb,
		    "],\"summary\":{\"steps\":%zu,\"waiting\":%zu,\"overrides\":%zu,"
		    "\"neededHuman\":%zu,\"scoredSteps\":%zu,\"meanPickScore\":",
		    w->count, w->waiting, w->overrides, w->needed_human, w->scored);
	json_num(&sb, w->scored ? w->mean_pick_score : NAN);
	strbuf_addstr(&sb, ",\"balance\":");
	if (w->balance_ok) {
		strbuf_addch(&sb, '{');
		for (k = 0; k < w->nlabels; k++) {
			if (k)
				strbuf_addch(&sb, ',');
			strbuf_add_json_string(&sb, w->labels[k]);
			strbuf_addf(&sb, ":%zu", w->per_class[k]);
		}
		strbuf_addch(&sb, '}');
	} else {
		strbuf_addstr(&sb, "null");
	}
	strbuf_addch(&sb, '}');
	if (rj) {
		strbuf_addstr(&sb, ",\"rejudge\":{\"model\":");
		strbuf_add_json_string(&sb, model);
		strbuf_addstr(&sb, ",\"prompt\":");
		strbuf_add_json_string(&sb, prompt);
		strbuf_addstr(&sb, ",\"rank\":");
		strbuf_add_json_string(&sb, rank);
		strbuf_addf(&sb, ",\"judged\":%zu,\"failed\":%zu,\"requestFailed\":%zu", rj->judged,
			    rj->failed, rj->request_failed);
		json_fraction(&sb, "agreeJudge", rj->agree_judge, rj->vs_judge);
		json_fraction(&sb, "agreeHuman", rj->agree_human, rj->vs_human);
		strbuf_addstr(&sb, ",\"spearman\":{\"mean\":");
		json_num(&sb, rj->spearman_mean);
		strbuf_addf(&sb, ",\"steps\":%zu}}", rj->spearman_steps);
	}
	strbuf_addstr(&sb, "}\n");
	fwrite(sb.data, 1, sb.len, stdout);
	strbuf_release(&sb);
}

/* ---- the command -------------------------------------------------------- */

/* A judge prompt file: a regular file of at most TASK_FILE_MAX bytes,
 * without NUL bytes. */
static int read_text(const char *path, struct strbuf *out, struct errbuf *err)
{
	char *data;
	size_t len;

	if (atomicfile_read(path, TASK_FILE_MAX, &data, &len, err))
		return -1;
	strbuf_add(out, data, len);
	free(data);
	if (memchr(out->data, '\0', out->len))
		return errbuf_set(err, "%s: holds a NUL byte", path);
	return 0;
}

static size_t terminal_width(void)
{
	struct winsize ws;

	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 100;
}

int cmd_replay(int argc, char **argv)
{
	enum { OPT_JUDGE = 256, OPT_REJUDGE, OPT_PROMPT, OPT_RANK, OPT_SAVE };
	static const struct option longopts[] = {
	    {"width", required_argument, NULL, 'w'},
	    {"json", no_argument, NULL, 'j'},
	    {"judge", required_argument, NULL, OPT_JUDGE},
	    {"rejudge", no_argument, NULL, OPT_REJUDGE},
	    {"judge-prompt", required_argument, NULL, OPT_PROMPT},
	    {"rank", required_argument, NULL, OPT_RANK},
	    {"task", required_argument, NULL, 't'},
	    {"set", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"save-as", required_argument, NULL, OPT_SAVE},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *judge_model = NULL, *prompt_file = NULL, *rank_opt = NULL, *task_opt = NULL;
	const char *config_path = NULL, *save_as = NULL, *path;
	char **sets = xcalloc((size_t)argc + 1, sizeof(*sets));
	size_t nsets = 0, k, width = 0;
	struct strbuf task_name = STRBUF_INIT, tmpl = STRBUF_INIT, prompt_id = STRBUF_INIT;
	struct strbuf dir = STRBUF_INIT;
	struct config config;
	struct task task;
	struct errbuf err;
	struct tree *t = NULL;
	struct replay_walk walk;
	struct replay_rejudge rj;
	struct steer_settings settings;
	struct lm_engine *engine = NULL;
	struct config_role *judge = NULL;
	struct session_lock lock = SESSION_LOCK_INIT;
	int c, json = 0, rejudge = 0, force = 0, have_task = 0, r = 1, rr;
	char *end;

	/* --json names the rank mode even without --judge */
	steer_settings_init(&settings);
	optind = 1;
	opterr = 0; /* getopt's messages would print the option raw */
	while ((c = getopt_long(argc, argv, ":w:jt:s:c:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 20 || v > 10000) {
				fputs("weft replay: --width takes a number from 20 to 10000\n",
				      stderr);
				free(sets);
				return 2;
			}
			width = (size_t)v;
			break;
		}
		case 'j': json = 1; break;
		case OPT_JUDGE:
			judge_model = optarg;
			rejudge = 1;
			break;
		case OPT_REJUDGE: rejudge = 1; break;
		case OPT_PROMPT: prompt_file = optarg; break;
		case OPT_RANK: rank_opt = optarg; break;
		case 't': task_opt = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_SAVE: save_as = optarg; break;
		case 'f': force = 1; break;
		case 'h':
			fputs(usage, stdout);
			free(sets);
			return 0;
		default:
			cli_option_error("replay", usage, c, argv);
			free(sets);
			return 2;
		}
	}
	if (optind != argc - 1 || (save_as && !rejudge) ||
	    ((prompt_file || rank_opt) && !rejudge)) {
		if (save_as && !rejudge)
			fputs("weft replay: --save-as stores re-judged scores: give --judge "
			      "MODEL or --rejudge\n",
			      stderr);
		else if ((prompt_file || rank_opt) && !rejudge)
			fputs("weft replay: --judge-prompt and --rank are for re-judging: give "
			      "--judge MODEL or --rejudge\n",
			      stderr);
		fputs(usage, stderr);
		free(sets);
		return 2;
	}
	path = argv[optind];
	config_init(&config);
	task_init(&task);
	memset(&walk, 0, sizeof(walk));
	memset(&rj, 0, sizeof(rj));
	if (!width)
		width = terminal_width();
	if (rank_opt) {
		enum rank_mode m;

		if (rank_mode_parse(rank_opt, &m)) {
			fputs("weft replay: --rank takes logprobs, scores or choice\n", stderr);
			r = 2;
			goto out;
		}
	}
	if (save_as) {
		const char *inputs[2] = {path, config_path};
		int c2 = outfile_check(save_as, inputs, 2, force, &err);

		if (c2) {
			cli_error("replay", err.msg);
			r = c2 == OUTFILE_IS_INPUT ? 2 : 1;
			goto out;
		}
	}

	if (session_load(path, &t, &err)) {
		cli_error("replay", err.msg);
		goto out;
	}
	switch (journal_replay(path, t, &err)) {
	case 0: break;
	case 1: cli_error("replay", err.msg); break; /* a torn last line: warned */
	default: cli_error("replay", err.msg); goto out;
	}
	if (task_opt)
		strbuf_addstr(&task_name, task_opt);
	else
		meta_get_string(t, "task", &task_name);
	if (task_name.len) {
		if (task_find(task_name.data, &dir, &err) || task_load(&task, dir.data, &err)) {
			if (task_opt || (rejudge && !prompt_file)) {
				cli_error("replay", err.msg);
				goto out;
			}
			cli_error("replay", err.msg);
			cli_error("replay", "the balance uses the seed's pattern and labels");
		} else {
			have_task = 1;
		}
	}
	replay_walk_build(t, have_task ? &task : NULL, &walk);

	if (rejudge) {
		if (have_task)
			steer_settings_from_task(&settings, &task);
		if (rank_opt)
			rank_mode_parse(rank_opt, &settings.rank);
		if (prompt_file) {
			if (read_text(prompt_file, &tmpl, &err)) {
				cli_error("replay", err.msg);
				goto out;
			}
			strbuf_addstr(&prompt_id, prompt_file);
		} else if (have_task) {
			strbuf_addstr(&tmpl, task.judge);
			strbuf_addf(&prompt_id, "%s/judge.txt", task.name);
		} else {
			cli_error("replay",
				  "no judge prompt: the session names no task; give --task NAME "
				  "or --judge-prompt FILE");
			goto out;
		}
		if (config_load(&config, config_path, &err)) {
			cli_error("replay", err.msg);
			r = 2;
			goto out;
		}
		for (k = 0; k < nsets; k++) {
			if (config_set(&config, sets[k], &err)) {
				cli_error("replay", err.msg);
				r = 2;
				goto out;
			}
		}
		judge = config_role(&config, "judge");
		if (judge_model) {
			free(judge->model);
			judge->model = xstrdup(judge_model);
		}
		if (!config_role_configured(judge)) {
			struct strbuf msg = STRBUF_INIT;

			strbuf_addstr(&msg, "no judge model: give --judge MODEL, or set [judge] "
					    "model in ");
			cli_config_path(config_path, &msg);
			strbuf_addstr(&msg, " or WEFT_JUDGE_MODEL");
			cli_error("replay", msg.data);
			strbuf_release(&msg);
			goto out;
		}
		engine = lm_engine_new();
		config_hide_keys(&config, engine);
		rr = replay_rejudge(engine, t, &walk, judge, tmpl.data, &settings, &rj, &err);
		if (rr) {
			if (rr == -2) /* the prompt too large: nothing was sent */
				errbuf_prefix(&err, "%s", prompt_id.data);
			cli_error("replay", err.msg);
			goto out;
		}
	}

	if (json)
		print_json(t, path, &walk, rejudge ? &rj : NULL, judge ? judge->model : "",
			   prompt_id.data, rank_mode_name(settings.rank));
	else
		print_walk(t, &walk, rejudge ? &rj : NULL, width);
	if (rejudge && !json)
		print_rejudge(&rj, judge->model, prompt_id.data, rank_mode_name(settings.rank));
	r = 0;
	if (rejudge && rj.request_failed) {
		/* failed requests are an error (exit 1), with the first cause in
		 * full; what was judged is still shown and saved */
		struct strbuf msg = STRBUF_INIT;

		for (k = 0; k < rj.count; k++)
			if (rj.verdicts[k].request_failed)
				break;
		strbuf_addf(&msg,
			    "re-judging failed for %zu of %zu steps (the judge's request "
			    "failed); step %zu: %s",
			    rj.request_failed, rj.count, k + 1,
			    k < rj.count && rj.verdicts[k].error ? rj.verdicts[k].error : "?");
		cli_error("replay", msg.data);
		strbuf_release(&msg);
		r = 1;
	}
	if (save_as) {
		replay_rejudge_store(t, &walk, &rj, judge->model, prompt_id.data);
		if (cli_lock_session("replay", save_as, &lock)) {
			r = 1; /* NEW is a session another weft is writing */
		} else if (session_save(t, save_as, &err)) {
			cli_error("replay", err.msg);
			r = 1;
		} else if (!json) {
			struct strbuf sb = STRBUF_INIT;

			put_safe(&sb, save_as);
			printf("\nsaved with the re-judged scores as %s\n", sb.data);
			strbuf_release(&sb);
		}
	}
out:
	session_lock_release(&lock);
	replay_rejudge_release(&rj);
	replay_walk_release(&walk);
	lm_engine_free(engine);
	tree_free(t);
	task_release(&task);
	config_release(&config);
	strbuf_release(&task_name);
	strbuf_release(&tmpl);
	strbuf_release(&prompt_id);
	strbuf_release(&dir);
	free(sets);
	return r;
}

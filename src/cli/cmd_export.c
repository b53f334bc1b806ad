#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clicommon.h"
#include "weft/atomicfile.h"
#include "weft/cli.h"
#include "weft/dataset.h"
#include "weft/export.h"
#include "weft/outfile.h"
#include "weft/pairs.h"
#include "weft/safetext.h"
#include "weft/session.h"
#include "weft/sessionlock.h"
#include "weft/task.h"
#include "weft/tree.h"
#include "weft/xalloc.h"

static const char usage_text[] =
    "usage: weft export FILE... --format F -o OUT [--force] [--compat seed] [--pattern RE]\n"
    "                   [--preamble TEXT] [--labels Yes,No]\n"
    "                   [--other-prefix TEXT] [--system TEXT] [--near-duplicate T]\n"
    "                   [--min-verify P] [--include-rejected]\n"
    "\n"
    "Writes the pairs of FILE (a session's chosen path, or a text file) to OUT\n"
    "(atomically).  OUT is never FILE itself (nor a link to it), and an existing\n"
    "OUT is replaced only with --force.  Several FILEs (or a folder: its *.json\n"
    "sessions in name order) are one dataset, as in weft extract: pairs in that\n"
    "order, repeats of an earlier input's pairs dropped and listed; OUT is none\n"
    "of them.  Formats:\n"
    "  classification  inverse-scaling CSV: prompt,classes,answer_index\n"
    "  logodds         inverse-scaling CSV: prompt,other_prompt,classes,answer_index\n"
    "  mwe             Anthropic model-written-evals JSONL\n"
    "  openai-evals    OpenAI evals JSONL (input chat, ideal list)\n"
    "  jsonl, csv      plain pairs: question, answer, label, class index, node;\n"
    "                  from a session also the decision, the original label,\n"
    "                  who decided, the verifier's p and the near-duplicate flag\n"
    "  bonsai          the session itself, as Bonsai reads it (one FILE)\n"
    "\n"
    "  -f, --force       replace OUT if it exists\n"
    "  --other-prefix T  logodds: other_prompt = T + prompt (default: the\n"
    "                    prompt itself, so logodds_difference is 0)\n"
    "  --system T        openai-evals: the system message (default\n"
    "                    \"Answer Yes or No.\" from the labels)\n"
    "  --min-verify P    leave out pairs whose verifier's p is below P (0 to\n"
    "                    1); pairs without a verdict are kept\n"
    "  --include-rejected  audits (jsonl, csv): rejected pairs included, with\n"
    "                    decision \"rejected\"\n"
    "  The session's decisions apply: rejected pairs are left out, relabelled\n"
    "  ones carry their new label.\n"
    "  --compat, --pattern, --preamble, --labels, --near-duplicate: as in weft\n"
    "  extract --help\n";

struct export_cli_options {
	struct dataset_args a; /* filled by dataset_args_parse */
	enum export_format f;
};

static void export_options_init(struct export_cli_options *o)
{
	memset(o, 0, sizeof(*o));
	o->f = EXPORT_CLASSIFICATION; /* set by export_format_parse */
}

/* Returns -1 when the options are good, else the exit status. */
static int export_parse(struct export_cli_options *o, int argc, char **argv)
{
	struct errbuf err;
	int rc = dataset_args_parse(&o->a, argc, argv, 1, &err);

	if (!rc && !o->a.format)
		rc = errbuf_set(&err, "--format is required");
	if (!rc && export_format_parse(o->a.format, &o->f, &err))
		rc = -1;
	if (!rc && !o->a.output)
		rc = errbuf_set(&err, "-o OUT is required");
	if (!rc && o->a.curate.include_rejected && o->f != EXPORT_JSONL && o->f != EXPORT_CSV)
		rc = errbuf_set(&err, "--include-rejected: only with --format jsonl or csv "
				      "(the formats that mark them)");
	if (!rc)
		return -1;
	if (rc == DATASET_ARGS_HELP) {
		fputs(usage_text, stdout);
		return 0;
	}
	return cli_usage_error("export", usage_text, err.msg);
}

/* The session itself, as Bonsai reads it; returns the exit status. */
static int export_bonsai(const struct dataset_args *a, const struct dataset_input *in)
{
	struct session_lock lock = SESSION_LOCK_INIT;
	struct errbuf err;
	int rc = 0;

	if (!in->tree) {
		errbuf_set(&err, "%s: bonsai export needs a session file, not text", a->file);
		rc = cli_error("export", err.msg);
	} else if (cli_lock_session("export", a->output, &lock)) {
		rc = 1; /* OUT is a session another weft is writing */
	} else if (session_save(in->tree, a->output, &err)) {
		rc = cli_error("export", err.msg);
	} else {
		printf("wrote the session (%u nodes) to ", in->tree->count);
		safetext_fputs(a->output, stdout);
		fputs(" (bonsai)\n", stdout);
	}
	session_lock_release(&lock);
	return rc;
}

/* The pairs in format f, written atomically, and their summary; returns
 * the exit status. */
static int export_pairs(const struct dataset_args *a, enum export_format f)
{
	struct export_options eo = {0};
	struct dataset d;
	struct task task; /* the task of the session being read */
	struct pairs_result *rp = &d.r;
	struct strbuf out = STRBUF_INIT, summary = STRBUF_INIT;
	struct errbuf err;
	size_t k;
	int rc = 1, loaded;

	dataset_init(&d);
	task_init(&task);
	eo.other_prefix = a->other_prefix;
	eo.system_prompt = a->system_prompt;
	loaded = dataset_load(&d, a, cli_task_pairs_options, &task, &err) == 0;
	for (k = 0; k < d.nwarnings; k++)
		cli_error("export", d.warnings[k]); /* a torn journal line: said, not fatal */
	if (loaded)
		cli_dataset_mixing("export", NULL, d.tasks_differ, d.labels_differ);
	if (!loaded) {
		cli_error("export", err.msg); /* names the file; nothing written */
	} else if (export_write(rp, f, &eo, &out, &err)) {
		errbuf_prefix(&err, "%s", a->file);
		cli_error("export", err.msg);
	} else if (atomicfile_write(a->output, out.data, out.len, &err)) {
		cli_error("export", err.msg);
	} else {
		pairs_summary(rp, &summary);
		cli_dataset_repeats(stdout, &d);
		printf("wrote %zu pairs to ", rp->count);
		safetext_fputs(a->output, stdout);
		printf(" (%s)\n", export_format_name(f));
		strbuf_reset(&out);
		dataset_caret(&out, summary.data, summary.len, 1); /* labels come from argv */
		fwrite(out.data, 1, out.len, stdout);
		if (f == EXPORT_LOGODDS && !a->other_prefix && !a->pairs.compat_seed)
			fputs("weft export: note: other_prompt = prompt, so logodds_difference is "
			      "0 for every row (see --other-prefix)\n",
			      stderr);
		rc = 0;
	}
	task_release(&task);
	dataset_release(&d);
	strbuf_release(&out);
	strbuf_release(&summary);
	return rc;
}

/* The one session of a bonsai export; returns the exit status. */
static int export_session(struct dataset_args *a, int one_file)
{
	struct dataset_input in;
	struct task task;
	struct errbuf err;
	int rc;

	if (!one_file)
		return cli_error("export", "bonsai export takes one session file");
	if (dataset_input_load(a->file, &in, &err))
		return cli_error("export", err.msg);
	if (in.warned)
		cli_error("export", in.warning.msg); /* a torn journal line: said, not fatal */
	cli_dataset_task(a, in.tree, &task);
	rc = export_bonsai(a, &in);
	task_release(&task);
	dataset_input_release(&in);
	return rc;
}

static int export_run(struct export_cli_options *o)
{
	struct dataset_args *a = &o->a;
	struct dataset_inputs in;
	struct errbuf err;
	const char **inputs;
	size_t n = 0, k;
	int rc = dataset_inputs_expand(&in, a->files, a->nfiles, &err), one_file;

	if (rc) {
		dataset_inputs_release(&in);
		return cli_error("export", err.msg);
	}
	/* Outputs never clobber inputs, any of them (a folder's sessions
	 * too): checked before anything is read. */
	inputs = xcalloc(in.n + a->nfiles + 1, sizeof(*inputs));
	for (k = 0; k < a->nfiles; k++)
		inputs[n++] = a->files[k];
	for (k = 0; k < in.n; k++)
		inputs[n++] = in.paths[k];
	rc = outfile_check(a->output, inputs, n, a->force, &err);
	one_file = in.n == 1 && !in.in_folder[0];
	free(inputs);
	dataset_inputs_release(&in);
	if (rc) {
		cli_error("export", err.msg);
		return rc == OUTFILE_IS_INPUT ? 2 : 1;
	}
	if (o->f == EXPORT_BONSAI)
		return export_session(a, one_file);
	return export_pairs(a, o->f);
}

int cmd_export(int argc, char **argv)
{
	struct export_cli_options o;
	int rc;

	export_options_init(&o);
	rc = export_parse(&o, argc, argv);
	if (rc < 0)
		rc = export_run(&o);
	dataset_args_release(&o.a);
	return rc;
}

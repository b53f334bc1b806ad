/*
 * An evaluation through the provider's batches (evalbatch.h): the probes,
 * one batch per model taken step by step with the state saved around each
 * step, and the answers scored by custom_id through the live run's own
 * scoring (evalrun_feed).
 */
#include "weft/evalbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weft/atomicfile.h"
#include "weft/lmbatch.h"
#include "weft/xalloc.h"

#include "evalrun_run.h"

/* What one run of evalbatch_run holds. */
struct batch {
	struct evalrun *run;		       /* NULL under evalbatch_drive */
	const struct lm_request *const *conns; /* per state entry: where it goes */
	const enum lm_endpoint *kinds;	       /* per state entry: its endpoint */
	const char *dir;
	struct evalbatch_state *st;
	const struct evalbatch_options *o;
	struct evalbatch_model **bm; /* per run model: its state entry, NULL when failed */
	int retry_fd;		     /* the model's retry file while retrying, else -1 */
	size_t retry_model;
	int retry_failed; /* a retry line could not be written */
	struct errbuf retry_err;
};

static void tell(const struct batch *b, const struct evalbatch_model *m)
{
	if (b->o->status)
		b->o->status(b->o->ctx, m);
}

static int stopped(const struct batch *b)
{
	return b->o->stop && *b->o->stop;
}

/* DIR/batch/NAME.WHAT ('/' in names as '_', as the results' CSVs). */
static void file_path(const struct batch *b, const char *name, const char *what, struct strbuf *out)
{
	const char *p;

	strbuf_reset(out);
	strbuf_addf(out, "%s/batch/", b->dir);
	for (p = name; *p; p++)
		strbuf_addch(out, *p == '/' ? '_' : *p);
	strbuf_addf(out, ".%s", what);
}

static int save(const struct batch *b, struct errbuf *err)
{
	return evalbatch_state_save(b->st, b->dir, err);
}

/* ---- the probes ------------------------------------------------------------- */

/* Each model's live probe; the state gets one entry per model. */
static int probe(struct batch *b, struct errbuf *err)
{
	struct evalrun *run = b->run;
	size_t i;

	run->hold = 1;
	evalrun_start(run);
	while (!evalrun_done(run)) {
		if (stopped(b)) {
			evalrun_cancel(run);
			return EVALBATCH_STOPPED;
		}
		if (lm_engine_poll(run->engine, NULL, 0, 100, NULL, err) < 0)
			return -1;
	}
	b->st->examples = run->set->n;
	b->st->models = xcalloc(run->nmodels ? run->nmodels : 1, sizeof(*b->st->models));
	for (i = 0; i < run->nmodels; i++) {
		struct evalbatch_model *m = &b->st->models[i];

		m->name = xstrdup(run->models[i].name);
		m->way = run->models[i].way;
		m->fatal = run->models[i].fatal ? xstrdup(run->models[i].error) : NULL;
		m->step = m->fatal ? EVALBATCH_DONE : EVALBATCH_UPLOAD;
		m->total = m->completed = m->failed = -1;
	}
	b->st->nmodels = run->nmodels;
	return 0;
}

/* A resumed state onto the run: the same models, their ways and failures. */
static int restore(struct batch *b, struct errbuf *err)
{
	struct evalrun *run = b->run;
	size_t i;

	if (b->st->nmodels != run->nmodels)
		return errbuf_set(err, "the batch state has %zu models, the run %zu",
				  b->st->nmodels, run->nmodels);
	if (b->st->examples != run->set->n)
		return errbuf_set(err,
				  "the batch was made for %zu examples, the dataset now has %zu",
				  b->st->examples, run->set->n);
	for (i = 0; i < run->nmodels; i++) {
		struct evalbatch_model *m = &b->st->models[i];

		if (strcmp(m->name, run->models[i].name))
			return errbuf_set(err,
					  "the batch state's model %zu is '%.80s', not '%.80s'",
					  i + 1, m->name, run->models[i].name);
		run->models[i].way = m->way;
		if (m->fatal)
			evalrun_fail_model(run, i, m->fatal);
	}
	run->started = 1;
	return 0;
}

/* ---- the input files --------------------------------------------------------- */

/* Model mi's input file; returns how many requests it holds. */
static size_t build_input(const struct evalrun *run, size_t mi, struct strbuf *out)
{
	struct strbuf id = STRBUF_INIT;
	size_t ex, slot, n = 0;

	for (ex = 0; ex < run->set->n; ex++)
		for (slot = 0; slot < evalrun_unit_slots(run, mi, ex); slot++) {
			struct lm_request req;

			lm_request_init(&req);
			evalrun_unit_request(run, mi, ex, slot, &req);
			strbuf_reset(&id);
			evalbatch_format_id(ex, slot, &id);
			lm_batch_request_line(&req, id.data, out);
			lm_request_release(&req);
			n++;
		}
	strbuf_release(&id);
	return n;
}

/* Writes each new model's input file, or checks a resumed one is what the
 * run would send now. */
static int inputs(struct batch *b, int fresh, struct errbuf *err)
{
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < b->run->nmodels && !rc; i++) {
		struct evalbatch_model *m = &b->st->models[i];
		char *old = NULL;
		size_t len = 0;

		if (m->fatal)
			continue;
		strbuf_reset(&text);
		len = build_input(b->run, i, &text);
		if (len > LM_BATCH_MAX_REQUESTS || text.len > LM_BATCH_MAX_FILE) {
			rc = errbuf_set(
			    err,
			    "model %s: %zu requests (%zu bytes), more than a batch takes "
			    "(%d requests, 200 MB); use --limit, or a live run",
			    m->name, len, text.len, LM_BATCH_MAX_REQUESTS);
			break;
		}
		len = 0;
		file_path(b, m->name, "input.jsonl", &path);
		if (fresh) {
			rc = atomicfile_write(path.data, text.data ? text.data : "", text.len, err);
			continue;
		}
		rc = atomicfile_read(path.data, LM_BATCH_MAX_FILE, &old, &len, err);
		if (!rc && (len != text.len || memcmp(old, text.data ? text.data : "", len)))
			rc = errbuf_set(err,
					"%s: not the requests this run sends now (the dataset, "
					"its prompt or the options changed since the batch was "
					"made); nothing sent",
					path.data);
		free(old);
	}
	strbuf_release(&text);
	strbuf_release(&path);
	return rc;
}

/* ---- the steps ---------------------------------------------------------------- */

static int is_terminal(const char *status)
{
	return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
			  !strcmp(status, "expired") || !strcmp(status, "cancelled"));
}

static void set_str(char **field, const char *v)
{
	char *copy = v ? xstrdup(v) : NULL;

	free(*field);
	*field = copy;
}

/* Takes what the provider says of the batch; 1 when it changed. */
static int take_batch(struct evalbatch_model *m, const struct lm_batch *lb)
{
	int changed = !m->status || strcmp(m->status, lb->status) || m->total != lb->total ||
		      m->completed != lb->completed || m->failed != lb->failed;

	set_str(&m->batch, lb->id);
	set_str(&m->status, lb->status);
	if (lb->output_file_id)
		set_str(&m->output_file, lb->output_file_id);
	if (lb->error_file_id)
		set_str(&m->error_file, lb->error_file_id);
	m->total = lb->total;
	m->completed = lb->completed;
	m->failed = lb->failed;
	if (is_terminal(m->status))
		m->step = EVALBATCH_DOWNLOAD;
	return changed;
}

static int step_upload(struct batch *b, size_t mi, struct evalbatch_model *m,
		       const struct lm_request *conn, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT, id = STRBUF_INIT, name = STRBUF_INIT;
	char *data = NULL;
	size_t len = 0;
	int rc;

	(void)mi;
	file_path(b, m->name, "input.jsonl", &path);
	rc = atomicfile_read(path.data, LM_BATCH_MAX_FILE, &data, &len, err);
	strbuf_addf(&name, "weft-%s.jsonl", m->name);
	if (!rc)
		rc = lm_file_upload(conn, name.data, data, len, &id, err);
	if (!rc) {
		set_str(&m->input_file, id.data);
		m->step = EVALBATCH_CREATE;
	}
	free(data);
	strbuf_release(&path);
	strbuf_release(&id);
	strbuf_release(&name);
	return rc;
}

/* The run folder's name (the last part of dir), kept in the batch's
 * metadata so a person can tell weft's batches apart. */
static void run_name(const char *dir, struct strbuf *out)
{
	size_t len = strlen(dir), start;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (start = len; start && dir[start - 1] != '/'; start--)
		;
	strbuf_add(out, dir + start, len - start);
}

/*
 * Creates model mi's batch.  The state says "creating FILE" before the
 * request goes, so a run killed before the reply's batch id is saved
 * looks, on resume, for the batch the provider made from FILE and takes
 * it instead of paying for a second one.
 */
static int step_create(struct batch *b, size_t mi, struct evalbatch_model *m, struct lm_batch *lb,
		       struct errbuf *err)
{
	const struct lm_request *conn = b->conns[mi];
	struct strbuf run = STRBUF_INIT;
	int found = 0, rc = 0;

	if (m->creating && !strcmp(m->creating, m->input_file))
		found = lm_batch_find(conn, m->input_file, m->name, lb, err);
	if (found < 0) {
		/* never a second batch unasked: the person decides */
		errbuf_prefix(err,
			      "a create was sent for %s but its reply was not saved, and the "
			      "provider's batch list could not be searched for it (remove the "
			      "\"creating\" line from %s/batch/state to create a batch anew, "
			      "perhaps paying twice): ",
			      m->input_file, b->dir);
		return -1;
	}
	if (!found) {
		set_str(&m->creating, m->input_file);
		run_name(b->dir, &run);
		rc = save(b, err);
		if (!rc)
			rc = lm_batch_create(conn, m->input_file, b->kinds[mi], run.data, m->name,
					     lb, err);
		strbuf_release(&run);
		/* the tests' way to lose the reply: end as a kill would, before
		 * the batch id is saved */
		if (!rc && getenv("WEFT_TEST_EXIT_AFTER_CREATE"))
			_exit(75);
	}
	if (rc)
		return -1;
	set_str(&m->creating, NULL);
	m->step = EVALBATCH_POLL;
	take_batch(m, lb);
	return 0;
}

static int step_download(struct batch *b, struct evalbatch_model *m, const struct lm_request *conn,
			 struct errbuf *err)
{
	const char *ids[2] = {m->output_file, m->error_file};
	const char *whats[2] = {"output.jsonl", "errors.jsonl"};
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
	int k, rc = 0;

	for (k = 0; k < 2 && !rc; k++) {
		if (!ids[k])
			continue;
		rc = lm_file_content(conn, ids[k], LM_BATCH_MAX_CONTENT, &body, err);
		file_path(b, m->name, whats[k], &path);
		if (!rc)
			rc = atomicfile_write(path.data, body.data ? body.data : "", body.len, err);
	}
	if (!rc)
		m->step = EVALBATCH_DONE;
	strbuf_release(&path);
	strbuf_release(&body);
	return rc;
}

/* One step of model mi's batch (the state saved after it).  Returns 1 when
 * something changed, 0 when not, -1 with err. */
static int advance(struct batch *b, size_t mi, struct errbuf *err)
{
	struct evalbatch_model *m = &b->st->models[mi];
	const struct lm_request *conn = b->conns[mi];
	struct lm_batch lb;
	int rc = 0, changed = 1;

	lm_batch_init(&lb);
	switch (m->step) {
	case EVALBATCH_UPLOAD: rc = step_upload(b, mi, m, conn, err); break;
	case EVALBATCH_CREATE: rc = step_create(b, mi, m, &lb, err); break;
	case EVALBATCH_POLL:
		rc = lm_batch_get(conn, m->batch, &lb, err);
		if (!rc)
			changed = take_batch(m, &lb);
		break;
	case EVALBATCH_DOWNLOAD: rc = step_download(b, m, conn, err); break;
	case EVALBATCH_DONE: changed = 0; break;
	}
	lm_batch_release(&lb);
	if (rc < 0) {
		errbuf_prefix(err, "model %s: ", m->name);
		return -1;
	}
	if (changed) {
		if (save(b, err) < 0)
			return -1;
		tell(b, m);
	}
	return changed;
}

/* Waits ms, waking early on a stop. */
static void wait_ms(const struct batch *b, long ms)
{
	while (ms > 0 && !stopped(b)) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = {0, slice * 1000000L};

		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

/* Every model's batch to its end, polling with a growing wait. */
static int drive(struct batch *b, struct errbuf *err)
{
	long wait = b->o->poll_ms > 0 ? b->o->poll_ms : EVALBATCH_POLL_MS;
	long most = b->o->poll_max_ms > 0 ? b->o->poll_max_ms : EVALBATCH_POLL_MAX_MS;
	size_t i;

	for (;;) {
		int busy = 0, moved = 0;

		for (i = 0; i < b->st->nmodels; i++) {
			int rc;

			/* upload, create and download go on at once; a poll
			 * waits its turn */
			do {
				if (stopped(b))
					return EVALBATCH_STOPPED;
				rc = advance(b, i, err);
				if (rc < 0)
					return -1;
				moved |= rc;
			} while (rc && b->st->models[i].step != EVALBATCH_POLL &&
				 b->st->models[i].step != EVALBATCH_DONE);
			busy |= b->st->models[i].step != EVALBATCH_DONE;
		}
		if (!busy)
			return 0;
		if (moved)
			wait = b->o->poll_ms > 0 ? b->o->poll_ms : EVALBATCH_POLL_MS;
		wait_ms(b, wait);
		wait = wait + wait / 2 > most ? most : wait + wait / 2;
	}
}

/* ---- the answers -------------------------------------------------------------- */

/* Per unit of one model: 1 answered, with the reason of a failure kept. */
struct answers {
	unsigned char *got;
	char **why;
	size_t n;
};

/* Reads one downloaded file's lines into the run (answers) and a.
 * A file that is not there is no lines. */
static int read_results(struct batch *b, size_t mi, const char *what, struct answers *a,
			struct errbuf *err)
{
	struct evalrun *run = b->run;
	struct strbuf path = STRBUF_INIT;
	struct lm_batch_result r;
	struct stat sb;
	char *text = NULL;
	size_t len = 0, pos = 0, lineno = 0, st = run->stride;
	enum lm_endpoint kind =
	    run->opts.method == EVALRUN_LOGPROB ? LM_COMPLETIONS : run->models[mi].req.kind;
	int rc = 0;

	file_path(b, run->models[mi].name, what, &path);
	if (stat(path.data, &sb) < 0 && errno == ENOENT) {
		strbuf_release(&path);
		return 0;
	}
	if (atomicfile_read(path.data, LM_BATCH_MAX_CONTENT, &text, &len, err) < 0) {
		strbuf_release(&path);
		return -1;
	}
	lm_batch_result_init(&r);
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos, ex, slot;
		struct errbuf e;

		lineno++;
		if (n &&
		    lm_batch_result_parse(&run->models[mi].req, text + pos, n, kind, &r, &e) < 0) {
			/* the retry file's last line may be torn by a crash */
			if (!nl && !strcmp(what, "retry.jsonl"))
				break;
			rc = errbuf_set(err, "%s:%zu: %s", path.data, lineno, e.msg);
		} else if (n && (evalbatch_parse_id(r.custom_id, &ex, &slot) < 0 ||
				 ex >= run->set->n || slot >= evalrun_unit_slots(run, mi, ex))) {
			rc = errbuf_set(err, "%s:%zu: custom_id '%.60s' is no request of this run",
					path.data, lineno, r.custom_id);
		} else if (n && !a->got[ex * st + slot]) {
			if (!r.error) {
				a->got[ex * st + slot] = 1;
				evalrun_feed(run, mi, ex, slot, &r.resp, NULL);
			} else if (!a->why[ex * st + slot]) {
				a->why[ex * st + slot] = xstrdup(r.error);
			}
		}
		pos += n + 1;
	}
	lm_batch_result_release(&r);
	free(text);
	strbuf_release(&path);
	return rc;
}

/* Keeps a live retry's reply in the model's retry file. */
static void keep_retry(void *ctx, size_t mi, size_t ex, size_t slot, const struct lm_response *resp)
{
	struct batch *b = ctx;
	struct strbuf line = STRBUF_INIT, id = STRBUF_INIT;
	enum lm_endpoint kind =
	    b->run->opts.method == EVALRUN_LOGPROB ? LM_COMPLETIONS : b->run->models[mi].req.kind;

	if (b->retry_fd < 0 || mi != b->retry_model)
		return;
	evalbatch_format_id(ex, slot, &id);
	lm_batch_result_line(id.data, resp, kind, &line);
	if (write(b->retry_fd, line.data, line.len) != (ssize_t)line.len ||
	    fdatasync(b->retry_fd) < 0) {
		b->retry_failed = 1;
		errbuf_set(&b->retry_err, "cannot write a live retry's reply: %s", strerror(errno));
	}
	strbuf_release(&line);
	strbuf_release(&id);
}

/* Sends model mi's unanswered requests live and waits for them. */
static int retry_live(struct batch *b, size_t mi, const struct answers *a, struct errbuf *err)
{
	struct evalrun *run = b->run;
	struct strbuf path = STRBUF_INIT;
	size_t u;

	file_path(b, run->models[mi].name, "retry.jsonl", &path);
	b->retry_fd = open(path.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (b->retry_fd < 0) {
		errbuf_set(err, "cannot open %s: %s", path.data, strerror(errno));
		strbuf_release(&path);
		return -1;
	}
	strbuf_release(&path);
	b->retry_model = mi;
	run->reply_hook = keep_retry;
	run->hook_ctx = b;
	for (u = 0; u < a->n; u++)
		if (!a->got[u] && u % run->stride < evalrun_unit_slots(run, mi, u / run->stride) &&
		    run->models[mi].results[u / run->stride].state == EVALRUN_PENDING)
			evalrun_send_unit(run, mi, u / run->stride, u % run->stride);
	while (run->njobs) {
		if (stopped(b)) {
			evalrun_cancel(run);
			break;
		}
		if (lm_engine_poll(run->engine, NULL, 0, 100, NULL, err) < 0)
			break;
	}
	run->reply_hook = NULL;
	run->hook_ctx = NULL;
	close(b->retry_fd);
	b->retry_fd = -1;
	if (b->retry_failed) {
		errbuf_set(err, "%s", b->retry_err.msg);
		return -1;
	}
	return stopped(b) ? EVALBATCH_STOPPED : 0;
}

/* Model mi's answers from its files, then what is missing: retried live
 * or failed with the batch's reason. */
static int score_model(struct batch *b, size_t mi, struct errbuf *err)
{
	struct evalrun *run = b->run;
	struct evalbatch_model *m = &b->st->models[mi];
	struct answers a;
	size_t u, n = run->set->n * run->stride;
	int rc;

	a.n = n;
	a.got = xcalloc(n ? n : 1, 1);
	a.why = xcalloc(n ? n : 1, sizeof(*a.why));
	rc = read_results(b, mi, "output.jsonl", &a, err);
	if (!rc)
		rc = read_results(b, mi, "errors.jsonl", &a, err);
	if (!rc)
		rc = read_results(b, mi, "retry.jsonl", &a, err);
	m->unanswered = 0;
	for (u = 0; u < n; u++)
		if (!a.got[u] && u % run->stride < evalrun_unit_slots(run, mi, u / run->stride))
			m->unanswered++;
	if (!rc && m->unanswered && b->o->retry_live)
		rc = retry_live(b, mi, &a, err);
	for (u = 0; u < n && !rc; u++) {
		struct strbuf why = STRBUF_INIT;

		if (a.got[u] || u % run->stride >= evalrun_unit_slots(run, mi, u / run->stride) ||
		    run->models[mi].results[u / run->stride].state != EVALRUN_PENDING)
			continue;
		if (a.why[u])
			strbuf_addf(&why, "failed in batch %s: %s", m->batch, a.why[u]);
		else
			strbuf_addf(&why, "not answered: batch %s ended %s", m->batch,
				    m->status ? m->status : "?");
		evalrun_feed(run, mi, u / run->stride, u % run->stride, NULL, why.data);
		strbuf_release(&why);
	}
	for (u = 0; u < n; u++)
		free(a.why[u]);
	free(a.why);
	free(a.got);
	return rc;
}

int evalbatch_run(struct evalrun *run, const char *dir, struct evalbatch_state *st,
		  const struct evalbatch_options *o, struct errbuf *err)
{
	struct batch b;
	struct strbuf path = STRBUF_INIT;
	const struct lm_request **conns;
	enum lm_endpoint *kinds;
	int fresh = st->nmodels == 0, rc;
	size_t i;

	memset(&b, 0, sizeof(b));
	b.run = run;
	b.conns = conns = xcalloc(run->nmodels ? run->nmodels : 1, sizeof(*conns));
	b.kinds = kinds = xcalloc(run->nmodels ? run->nmodels : 1, sizeof(*kinds));
	for (i = 0; i < run->nmodels; i++) {
		conns[i] = &run->models[i].req;
		kinds[i] =
		    run->opts.method == EVALRUN_LOGPROB ? LM_COMPLETIONS : run->models[i].req.kind;
	}
	b.dir = dir;
	b.st = st;
	b.o = o;
	b.retry_fd = -1;
	strbuf_addf(&path, "%s/batch", dir);
	rc = mkdir(path.data, 0777) < 0 && errno != EEXIST
		 ? errbuf_set(err, "cannot create %s: %s", path.data, strerror(errno))
		 : 0;
	strbuf_release(&path);
	if (!rc)
		rc = fresh ? probe(&b, err) : restore(&b, err);
	if (!rc) {
		run->hold = 1;
		evalrun_reset_units(run);
		rc = inputs(&b, fresh, err);
	}
	if (!rc && fresh)
		rc = save(&b, err);
	if (!rc)
		rc = drive(&b, err);
	for (i = 0; i < run->nmodels && !rc; i++)
		if (!st->models[i].fatal)
			rc = score_model(&b, i, err);
	free(conns);
	free(kinds);
	return rc;
}

int evalbatch_drive(struct evalbatch_state *st, const char *dir,
		    const struct lm_request *const *conns, const enum lm_endpoint *kinds,
		    const struct evalbatch_options *o, struct errbuf *err)
{
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.dir = dir;
	b.st = st;
	b.o = o;
	b.conns = conns;
	b.kinds = kinds;
	b.retry_fd = -1;
	return drive(&b, err);
}

/* ---- any requests (weft verify) ---------------------------------------------- */

/* The state for one new batch of requests, its input file written. */
static int requests_begin(const char *dir, const char *name, const struct strbuf *text,
			  struct evalbatch_state *st, struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	char *old = NULL;
	size_t len = 0;
	int rc;

	strbuf_addf(&path, "%s/batch/%s.input.jsonl", dir, name);
	if (evalbatch_state_load(st, dir, err) == 0) {
		rc = atomicfile_read(path.data, LM_BATCH_MAX_FILE, &old, &len, err);
		if (!rc && (st->nmodels != 1 || len != text->len ||
			    memcmp(old, text->data ? text->data : "", len)))
			rc = errbuf_set(err,
					"%s: not the requests this run would send (pairs were "
					"verified since?): remove %s/batch to start again",
					path.data, dir);
		free(old);
		strbuf_release(&path);
		return rc;
	}
	evalbatch_state_release(st);
	st->examples = 0;
	st->models = xcalloc(1, sizeof(*st->models));
	st->models[0].name = xstrdup(name);
	st->models[0].step = EVALBATCH_UPLOAD;
	st->models[0].total = st->models[0].completed = st->models[0].failed = -1;
	st->nmodels = 1;
	rc = atomicfile_write(path.data, text->data ? text->data : "", text->len, err);
	if (!rc)
		rc = evalbatch_state_save(st, dir, err);
	strbuf_release(&path);
	return rc;
}

/* One downloaded file's lines into results. */
static int requests_read(const char *dir, const char *name, const char *what,
			 const struct lm_request *conn, size_t n, struct lm_batch_result *results,
			 struct errbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct lm_batch_result r;
	struct stat sb;
	char *text = NULL;
	size_t len = 0, pos = 0, lineno = 0;
	int rc = 0;

	strbuf_addf(&path, "%s/batch/%s.%s", dir, name, what);
	if (stat(path.data, &sb) < 0)
		rc = errno == ENOENT ? 1 : errbuf_set(err, "%s: %s", path.data, strerror(errno));
	else if (atomicfile_read(path.data, LM_BATCH_MAX_CONTENT, &text, &len, err) < 0)
		rc = -1;
	if (rc) {
		strbuf_release(&path);
		return rc < 0 ? -1 : 0; /* a file the batch did not make: no lines */
	}
	lm_batch_result_init(&r);
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t k = nl ? (size_t)(nl - (text + pos)) : len - pos, i, slot;
		struct errbuf e;

		lineno++;
		if (k && lm_batch_result_parse(conn, text + pos, k, conn->kind, &r, &e) < 0)
			rc = errbuf_set(err, "%s:%zu: %s", path.data, lineno, e.msg);
		else if (k && (evalbatch_parse_id(r.custom_id, &i, &slot) < 0 || i >= n || slot))
			rc = errbuf_set(err, "%s:%zu: custom_id '%.60s' is no request of this run",
					path.data, lineno, r.custom_id);
		else if (k && !results[i].custom_id) {
			results[i] = r; /* moved */
			lm_batch_result_init(&r);
		}
		pos += k + 1;
	}
	lm_batch_result_release(&r);
	free(text);
	strbuf_release(&path);
	return rc;
}

int evalbatch_requests(const char *dir, const char *name, const struct lm_request *reqs, size_t n,
		       const struct evalbatch_options *o, struct lm_batch_result *results,
		       struct errbuf *err)
{
	struct evalbatch_state st;
	struct strbuf text = STRBUF_INIT, id = STRBUF_INIT;
	const struct lm_request *conn = n ? &reqs[0] : NULL;
	enum lm_endpoint kind = n ? reqs[0].kind : LM_CHAT;
	size_t i;
	int rc = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		strbuf_reset(&id);
		evalbatch_format_id(i, 0, &id);
		lm_batch_request_line(&reqs[i], id.data, &text);
	}
	evalbatch_state_init(&st);
	if (n > LM_BATCH_MAX_REQUESTS || text.len > LM_BATCH_MAX_FILE)
		rc = errbuf_set(err, "%zu requests, more than a batch takes (%d, 200 MB)", n,
				LM_BATCH_MAX_REQUESTS);
	strbuf_reset(&id);
	strbuf_addf(&id, "%s/batch", dir);
	if (!rc && (mkdir(dir, 0777) < 0 && errno != EEXIST))
		rc = errbuf_set(err, "cannot create %s: %s", dir, strerror(errno));
	if (!rc && mkdir(id.data, 0777) < 0 && errno != EEXIST)
		rc = errbuf_set(err, "cannot create %s: %s", id.data, strerror(errno));
	if (!rc)
		rc = requests_begin(dir, name, &text, &st, err);
	if (!rc)
		rc = evalbatch_drive(&st, dir, &conn, &kind, o, err);
	if (!rc)
		rc = requests_read(dir, name, "output.jsonl", conn, n, results, err);
	if (!rc)
		rc = requests_read(dir, name, "errors.jsonl", conn, n, results, err);
	for (i = 0; i < n && !rc; i++) {
		strbuf_reset(&id);
		if (results[i].custom_id && !results[i].error)
			continue;
		if (results[i].custom_id)
			strbuf_addf(&id, "failed in batch %s: %s", st.models[0].batch,
				    results[i].error);
		else
			strbuf_addf(&id, "not answered: batch %s ended %s", st.models[0].batch,
				    st.models[0].status ? st.models[0].status : "?");
		free(results[i].error);
		results[i].error = strbuf_detach(&id, NULL);
	}
	evalbatch_state_release(&st);
	strbuf_release(&text);
	strbuf_release(&id);
	return rc;
}

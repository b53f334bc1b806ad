/*
 * The pairs page's verify keys (v: the pair under the cursor, V: every
 * pair listed): one request per pair to the configured verifier with the
 * task's verify.txt (verify.h), through the engine the loop polls, so the
 * page stays responsive.  The replies' callbacks only note the verdicts;
 * pairs_verify_tick, between keys, stores each with pairstore_add_verdict
 * (one journalled change each) and keeps "verifying k of n" on the status
 * line.
 */
#include "loom.h"

#include <stdlib.h>
#include <string.h>

#include "weft/config.h"
#include "weft/pairstore.h"
#include "weft/task.h"
#include "weft/verify.h"
#include "weft/xalloc.h"

/* One pair sent, with what it was asked about: copies, since the page's
 * pairs are built again while the requests are out. */
struct pv_item {
	char *question, *answer, *label, *node_id;
	int replied, stored, ok;
	struct verify_verdict verdict;
};

struct pairs_verify {
	struct verify_run *run;
	struct verify_pair *asked; /* borrowed by run: points into items */
	struct pv_item *items;
	size_t count, stored, failed;
	char *verifier;		   /* the model, as the verdicts name it */
	struct strbuf first_error; /* why the first pair that failed failed */
};

static void pv_free(struct pairs_verify *pv)
{
	size_t k;

	if (!pv)
		return;
	verify_run_free(pv->run);
	for (k = 0; k < pv->count; k++) {
		free(pv->items[k].question);
		free(pv->items[k].answer);
		free(pv->items[k].label);
		free(pv->items[k].node_id);
	}
	free(pv->items);
	free(pv->asked);
	free(pv->verifier);
	strbuf_release(&pv->first_error);
	free(pv);
}

int pairs_verify_progress(const struct tui *u, size_t *done, size_t *count)
{
	if (!u->pverify)
		return 0;
	*done = u->pverify->stored;
	*count = u->pverify->count;
	return 1;
}

void pairs_verify_release(struct tui *u)
{
	pv_free(u->pverify);
	u->pverify = NULL;
}

/* From inside lm_engine_poll: only noted here, stored by the tick. */
static void on_verdict(void *ctx, size_t index, const struct verify_verdict *v,
		       const struct errbuf *err)
{
	struct pairs_verify *pv = ctx;
	struct pv_item *it = &pv->items[index];

	it->replied = 1;
	it->ok = v != NULL;
	if (v)
		it->verdict = *v;
	else if (!pv->first_error.len)
		strbuf_addf(&pv->first_error, "pair \"%.60s\": %s", it->question,
			    err ? err->msg : "no verdict");
}

/* The configured verifier role, or NULL with *why set. */
static const struct config_role *verifier_role(const struct tui *u, const char **why)
{
	const struct tui_options *o = u->opts;
	size_t k;

	*why = "no verifier configured: see README Configuration ([verifier] model)";
	if (!o || !o->engine || !o->config)
		return NULL;
	for (k = 0; k < o->config->nroles; k++) {
		const struct config_role *r = &o->config->roles[k];

		if (!strcmp(r->name, "verifier") && config_role_configured(r)) {
			if (!o->task || !o->task->verify) {
				*why =
				    "the session's task has no verify.txt to ask the verifier with";
				return NULL;
			}
			return r;
		}
	}
	return NULL;
}

/* Copies the listed pairs first..first+n (in the order shown) to ask. */
static struct pairs_verify *pv_new(const struct tui *u, size_t first, size_t n)
{
	struct pairs_verify *pv = xcalloc(1, sizeof(*pv));
	size_t k;

	strbuf_init(&pv->first_error);
	pv->items = xcalloc(n ? n : 1, sizeof(*pv->items));
	pv->asked = xcalloc(n ? n : 1, sizeof(*pv->asked));
	for (k = 0; k < n; k++) {
		const struct pair *p = &u->pairs.pairs[u->pairs_order[first + k]];
		struct pv_item *it = &pv->items[k];

		it->question = xstrdup(p->question);
		it->answer = xstrdup(p->answer);
		it->label = xstrdup(u->pairs.labels[p->class_index]);
		it->node_id = xstrdup(p->node_id ? p->node_id : "");
		pv->asked[k].question = it->question;
		pv->asked[k].answer = it->answer;
		pv->asked[k].label = it->label;
	}
	pv->count = n;
	return pv;
}

unsigned act_pairs_verify(struct tui *u, int all)
{
	const char *why;
	const struct config_role *role = verifier_role(u, &why);
	struct pairs_verify *pv;
	struct errbuf err;

	if (u->pverify) {
		set_msg(u, MSG_INFO, "verifying %zu of %zu already (Esc in the tree cancels)",
			u->pverify->stored, u->pverify->count);
		return REDRAW_STATUS;
	}
	if (!role) {
		set_msg(u, MSG_ERROR, "%s", why);
		return REDRAW_STATUS;
	}
	pairs_refresh(u);
	if (!u->pairs_shown) {
		set_msg(u, MSG_INFO, "no pair to verify");
		return REDRAW_STATUS;
	}
	pv = all ? pv_new(u, 0, u->pairs_shown) : pv_new(u, u->pairs_cur, 1);
	pv->verifier = xstrdup(role->model);
	pv->run =
	    verify_start(u->opts->engine, role, u->opts->task->verify, u->opts->task->description,
			 pv->asked, pv->count, on_verdict, pv, &err);
	if (!pv->run) {
		pv_free(pv);
		set_msg(u, MSG_ERROR, "verify: %s", err.msg);
		return REDRAW_STATUS;
	}
	u->pverify = pv;
	set_msg(u, MSG_INFO, "verifying 0 of %zu", pv->count);
	return REDRAW_ALL;
}

/* Stores one verdict that came (one journalled change). */
static void store_verdict(struct tui *u, struct pairs_verify *pv, struct pv_item *it)
{
	struct pairstore_verdict v;
	struct errbuf err;
	uint32_t node = tree_find(u->t, it->node_id);

	it->stored = 1;
	pv->stored++;
	if (!it->ok || node == TREE_NONE) {
		pv->failed++;
		return;
	}
	memset(&v, 0, sizeof(v));
	v.question = it->question;
	v.answer = it->answer;
	v.label = it->label;
	v.verifier = pv->verifier;
	v.p = it->verdict.p;
	v.source = it->verdict.source == VERIFY_SOURCE_LOGPROBS ? PAIRSTORE_SOURCE_LOGPROBS
								: PAIRSTORE_SOURCE_ANSWER;
	if (pairstore_add_verdict(u->t, &u->hist, node, &v, &err) < 0) {
		pv->failed++;
		if (!pv->first_error.len)
			strbuf_addstr(&pv->first_error, err.msg);
		return;
	}
	mark_changed(u);
}

unsigned pairs_verify_tick(struct tui *u)
{
	struct pairs_verify *pv = u->pverify;
	size_t k, before;

	if (!pv)
		return 0;
	before = pv->stored;
	for (k = 0; k < pv->count; k++)
		if (pv->items[k].replied && !pv->items[k].stored)
			store_verdict(u, pv, &pv->items[k]);
	if (pv->stored < pv->count) {
		if (pv->stored != before)
			set_msg(u, MSG_INFO, "verifying %zu of %zu", pv->stored, pv->count);
		return pv->stored != before ? REDRAW_ALL | REDRAW_STATS : 0;
	}
	if (pv->failed)
		set_msg(u, MSG_ERROR, "verified %zu of %zu pairs; %zu failed: %s",
			pv->count - pv->failed, pv->count, pv->failed, pv->first_error.data);
	else
		set_msg(u, MSG_INFO, "verified %zu pairs", pv->count);
	pairs_verify_release(u);
	return REDRAW_ALL | REDRAW_STATS;
}

unsigned pairs_verify_cancel(struct tui *u)
{
	size_t stored, count;
	unsigned flags;

	if (!u->pverify)
		return REDRAW_NONE;
	flags = pairs_verify_tick(u); /* what came is kept */
	if (!u->pverify)
		return flags;
	stored = u->pverify->stored - u->pverify->failed;
	count = u->pverify->count;
	pairs_verify_release(u);
	set_msg(u, MSG_INFO, "verifying cancelled: %zu of %zu verdicts stored", stored, count);
	return flags | REDRAW_ALL;
}

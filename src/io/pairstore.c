/*
 * Pair decisions and verdicts kept in a node's unknown "weft" keys
 * (pairstore.h).  Each change parses that text, edits the one array and
 * prints it back: a node holds the few pairs of its own text, so this costs
 * little, and the text stays what every save and reader already carries.
 */
#include "weft/pairstore.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/strbuf.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

static const char *const decision_names[] = {"kept", "rejected", "relabelled"};
static const char *const by_names[] = {"person", "verifier"};
static const char *const source_names[] = {"logprobs", "answer"};

static int parse_name(const char *s, const char *const *names, size_t n, int *out)
{
	size_t k;

	for (k = 0; s && k < n; k++)
		if (!strcmp(s, names[k])) {
			*out = (int)k;
			return 0;
		}
	return -1;
}

const char *pairstore_decision_name(enum pairstore_decision d)
{
	return decision_names[d];
}

const char *pairstore_by_name(enum pairstore_by b)
{
	return by_names[b];
}

const char *pairstore_source_name(enum pairstore_source s)
{
	return source_names[s];
}

int pairstore_decision_parse(const char *s, enum pairstore_decision *out)
{
	int v;

	if (parse_name(s, decision_names, 3, &v))
		return -1;
	*out = (enum pairstore_decision)v;
	return 0;
}

int pairstore_by_parse(const char *s, enum pairstore_by *out)
{
	int v;

	if (parse_name(s, by_names, 2, &v))
		return -1;
	*out = (enum pairstore_by)v;
	return 0;
}

int pairstore_source_parse(const char *s, enum pairstore_source *out)
{
	int v;

	if (parse_name(s, source_names, 2, &v))
		return -1;
	*out = (enum pairstore_source)v;
	return 0;
}

void pairstore_now(char out[PAIRSTORE_TIME_SIZE])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(out, PAIRSTORE_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

void pairstore_mark_release(struct pairstore_mark *m)
{
	free(m->question);
	free(m->label);
	free(m->at);
	memset(m, 0, sizeof(*m));
}

void pairstore_verdict_release(struct pairstore_verdict *v)
{
	free(v->question);
	free(v->answer);
	free(v->label);
	free(v->verifier);
	free(v->at);
	memset(v, 0, sizeof(*v));
}

void pairstore_node_release(struct pairstore_node *n)
{
	size_t k;

	for (k = 0; k < n->nmarks; k++)
		pairstore_mark_release(&n->marks[k]);
	for (k = 0; k < n->nverdicts; k++)
		pairstore_verdict_release(&n->verdicts[k]);
	free(n->marks);
	free(n->verdicts);
	memset(n, 0, sizeof(*n));
}

/* ---- checking ----------------------------------------------------------- */

/* A string no longer than cap and valid UTF-8, or (optional) absent. */
static int check_string(const cJSON *v, size_t cap, int optional)
{
	size_t n;

	if (!v)
		return optional ? 0 : -1;
	if (!cJSON_IsString(v))
		return -1;
	n = strlen(v->valuestring);
	return n <= cap && utf8_valid((const unsigned char *)v->valuestring, n) ? 0 : -1;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int check_mark(const cJSON *o, const char **why)
{
	enum pairstore_decision d;
	enum pairstore_by b;
	const cJSON *dv = member(o, "decision"), *bv = member(o, "by");

	if (!cJSON_IsObject(o))
		return *why = "is not an object", -1;
	if (check_string(member(o, "question"), PAIRSTORE_MAX_TEXT, 0))
		return *why = "\"question\" is not a string (UTF-8, at most 1 MiB)", -1;
	if (!cJSON_IsString(dv) || pairstore_decision_parse(dv->valuestring, &d))
		return *why = "\"decision\" is not \"kept\", \"rejected\" or \"relabelled\"", -1;
	if (bv && (!cJSON_IsString(bv) || pairstore_by_parse(bv->valuestring, &b)))
		return *why = "\"by\" is not \"person\" or \"verifier\"", -1;
	if (check_string(member(o, "label"), PAIRSTORE_MAX_NAME, d != PAIRSTORE_RELABELLED))
		return *why = "\"label\" is not a label (a relabelled pair needs one)", -1;
	if (check_string(member(o, "at"), PAIRSTORE_MAX_NAME, 1))
		return *why = "\"at\" is not a time", -1;
	return 0;
}

static int check_verdict(const cJSON *o, const char **why)
{
	enum pairstore_source s;
	const cJSON *p = member(o, "p"), *sv = member(o, "source");

	if (!cJSON_IsObject(o))
		return *why = "is not an object", -1;
	if (check_string(member(o, "question"), PAIRSTORE_MAX_TEXT, 0) ||
	    check_string(member(o, "answer"), PAIRSTORE_MAX_TEXT, 0))
		return *why = "\"question\" or \"answer\" is not a string (UTF-8, at most 1 MiB)",
		       -1;
	if (check_string(member(o, "label"), PAIRSTORE_MAX_NAME, 1) ||
	    check_string(member(o, "verifier"), PAIRSTORE_MAX_NAME, 1) ||
	    check_string(member(o, "at"), PAIRSTORE_MAX_NAME, 1))
		return *why = "\"label\", \"verifier\" or \"at\" is not a short string", -1;
	if (!cJSON_IsNumber(p) || !(p->valuedouble >= 0 && p->valuedouble <= 1))
		return *why = "\"p\" is not a number from 0 to 1", -1;
	if (sv && (!cJSON_IsString(sv) || pairstore_source_parse(sv->valuestring, &s)))
		return *why = "\"source\" is not \"logprobs\" or \"answer\"", -1;
	return 0;
}

static int check_list(const cJSON *a, const char *key, int (*check)(const cJSON *, const char **),
		      struct errbuf *err)
{
	const cJSON *c;
	const char *why = NULL;
	size_t k = 0;

	if (!cJSON_IsArray(a))
		return errbuf_set(err, "\"weft.%s\" is not an array", key);
	for (c = a->child; c; c = c->next, k++) {
		if (k >= PAIRSTORE_MAX_ENTRIES)
			return errbuf_set(err, "\"weft.%s\" has more than %d entries", key,
					  PAIRSTORE_MAX_ENTRIES);
		if (check(c, &why))
			return errbuf_set(err, "\"weft.%s[%zu]\": %s", key, k, why);
	}
	return 0;
}

static int check_object(const cJSON *o, struct errbuf *err)
{
	const cJSON *pairs = member(o, "pairs"), *verdicts = member(o, "verdicts");

	if (pairs && check_list(pairs, "pairs", check_mark, err))
		return -1;
	if (verdicts && check_list(verdicts, "verdicts", check_verdict, err))
		return -1;
	return 0;
}

/* Parses "{" + extra + "}"; NULL extra gives an empty object. */
static cJSON *parse_extra(const char *extra)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *o;

	strbuf_addch(&sb, '{');
	if (extra)
		strbuf_addstr(&sb, extra);
	strbuf_addch(&sb, '}');
	o = cJSON_ParseWithLength(sb.data, sb.len);
	strbuf_release(&sb);
	return o;
}

int pairstore_check_json(const char *weft_extra_json, struct errbuf *err)
{
	cJSON *o;
	int r;

	if (!weft_extra_json ||
	    (!strstr(weft_extra_json, "\"pairs\"") && !strstr(weft_extra_json, "\"verdicts\"")))
		return 0;
	o = parse_extra(weft_extra_json);
	if (!o)
		return errbuf_set(err, "the \"weft\" keys cannot be read");
	r = check_object(o, err);
	cJSON_Delete(o);
	return r;
}

/* ---- reading ------------------------------------------------------------ */

static char *dup_member(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static void read_mark(const cJSON *o, struct pairstore_mark *m)
{
	const cJSON *bv = member(o, "by");

	memset(m, 0, sizeof(*m));
	m->question = dup_member(o, "question");
	pairstore_decision_parse(member(o, "decision")->valuestring, &m->decision);
	if (m->decision == PAIRSTORE_RELABELLED)
		m->label = dup_member(o, "label");
	if (bv)
		pairstore_by_parse(bv->valuestring, &m->by);
	m->at = dup_member(o, "at");
}

static void read_verdict(const cJSON *o, struct pairstore_verdict *v)
{
	const cJSON *sv = member(o, "source");

	memset(v, 0, sizeof(*v));
	v->question = dup_member(o, "question");
	v->answer = dup_member(o, "answer");
	v->label = dup_member(o, "label");
	v->verifier = dup_member(o, "verifier");
	v->p = member(o, "p")->valuedouble;
	if (sv)
		pairstore_source_parse(sv->valuestring, &v->source);
	v->at = dup_member(o, "at");
}

/* The node's "weft" keys, checked; NULL when malformed.  A node without
 * any gives an empty object. */
static cJSON *node_object(const struct tree *t, uint32_t node)
{
	cJSON *o = parse_extra(tree_node(t, node)->weft_extra_json);

	if (o && check_object(o, NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int same_string(const cJSON *o, const char *key, const char *s)
{
	const cJSON *v = member(o, key);

	return cJSON_IsString(v) && s && !strcmp(v->valuestring, s);
}

int pairstore_list(const struct tree *t, uint32_t node, struct pairstore_node *out)
{
	cJSON *o = node_object(t, node);
	const cJSON *c;

	memset(out, 0, sizeof(*out));
	if (!o)
		return -1;
	c = member(o, "pairs");
	for (c = c ? c->child : NULL; c; c = c->next) {
		out->marks = xreallocarray(out->marks, out->nmarks + 1, sizeof(*out->marks));
		read_mark(c, &out->marks[out->nmarks++]);
	}
	c = member(o, "verdicts");
	for (c = c ? c->child : NULL; c; c = c->next) {
		out->verdicts =
		    xreallocarray(out->verdicts, out->nverdicts + 1, sizeof(*out->verdicts));
		read_verdict(c, &out->verdicts[out->nverdicts++]);
	}
	cJSON_Delete(o);
	return 0;
}

/* Whether entry c is about the pair (question) and, when given, the
 * answer and verifier. */
static int entry_matches(const cJSON *c, const char *question, const char *answer,
			 const char *verifier)
{
	return same_string(c, "question", question) &&
	       (!answer || same_string(c, "answer", answer)) &&
	       (!verifier || same_string(c, "verifier", verifier));
}

/* The last entry of node's list key that matches (the last one counts),
 * or NULL; *owner is the node's "weft" object it lives in, for the caller
 * to delete after reading (NULL when there is none). */
static const cJSON *last_entry(const struct tree *t, uint32_t node, const char *key,
			       const char *question, const char *answer, const char *verifier,
			       cJSON **owner)
{
	const cJSON *c, *found = NULL;

	*owner = tree_node(t, node)->weft_extra_json ? node_object(t, node) : NULL;
	if (!*owner)
		return NULL;
	c = member(*owner, key);
	for (c = c ? c->child : NULL; c; c = c->next)
		if (entry_matches(c, question, answer, verifier))
			found = c;
	return found;
}

int pairstore_get(const struct tree *t, uint32_t node, const char *question,
		  struct pairstore_mark *out)
{
	cJSON *o;
	const cJSON *found = last_entry(t, node, "pairs", question, NULL, NULL, &o);

	memset(out, 0, sizeof(*out));
	if (found)
		read_mark(found, out);
	cJSON_Delete(o);
	return found ? 1 : 0;
}

int pairstore_find_verdict(const struct tree *t, uint32_t node, const char *question,
			   const char *answer, const char *verifier, struct pairstore_verdict *out)
{
	cJSON *o;
	const cJSON *found = last_entry(t, node, "verdicts", question, answer, verifier, &o);

	memset(out, 0, sizeof(*out));
	if (found)
		read_verdict(found, out);
	cJSON_Delete(o);
	return found ? 1 : 0;
}

/* ---- changing ----------------------------------------------------------- */

static int check_text(const char *what, const char *s, size_t cap, struct errbuf *err)
{
	size_t n = s ? strlen(s) : 0;

	if (!s)
		return errbuf_set(err, "%s is missing", what);
	if (n > cap)
		return errbuf_set(err, "%s is longer than %zu bytes", what, cap);
	if (!utf8_valid((const unsigned char *)s, n))
		return errbuf_set(err, "%s is not UTF-8", what);
	return 0;
}

/* Writes o back into node (through h when given). */
static void store(struct tree *t, struct history *h, uint32_t node, const cJSON *o)
{
	char *json = NULL;
	size_t n;

	if (o->child) {
		json = cJSON_PrintUnformatted(o);
		if (!json)
			xalloc_die("out of memory");
		n = strlen(json);
		json[n - 1] = '\0'; /* drop the braces: "k":v,... */
	}
	if (h)
		history_set_weft_extra(h, t, node, json ? json + 1 : NULL);
	else
		tree_set_extra(t, node, tree_node(t, node)->extra_json, json ? json + 1 : NULL);
	cJSON_free(json);
}

static cJSON *list_of(cJSON *o, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!a) {
		a = cJSON_AddArrayToObject(o, key);
		if (!a)
			xalloc_die("out of memory");
	}
	return a;
}

static void add_string(cJSON *o, const char *key, const char *s)
{
	if (!cJSON_AddStringToObject(o, key, s))
		xalloc_die("out of memory");
}

/* Removes every entry of o's key whose members match; drops an empty list. */
static void remove_matching(cJSON *o, const char *key, const char *question, const char *answer,
			    const char *verifier)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *c, *next;

	if (!a)
		return;
	for (c = a->child; c; c = next) {
		next = c->next;
		if (entry_matches(c, question, answer, verifier))
			cJSON_Delete(cJSON_DetachItemViaPointer(a, c));
	}
	if (!a->child)
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
}

static int check_mark_input(const struct pairstore_mark *m, struct errbuf *err)
{
	if (check_text("the question", m->question, PAIRSTORE_MAX_TEXT, err))
		return -1;
	if (m->decision == PAIRSTORE_RELABELLED &&
	    check_text("the new label", m->label, PAIRSTORE_MAX_NAME, err))
		return -1;
	if (m->at && check_text("the time", m->at, PAIRSTORE_MAX_NAME, err))
		return -1;
	return 0;
}

/* How a "kept" is recorded: as a decision (see pairstore_set), as none
 * (pairstore_clear), or as it is given (pairstore_restore). */
enum keep_as { KEEP_DECIDED, KEEP_CLEARED, KEEP_EXACT };

/* Whether m is stored as an entry: rejected and relabelled always; kept
 * as keep_as says, for a decision only when a person keeps a pair someone
 * had decided on (overturning a filter's rejection stays on record, so a
 * rerun of the filter leaves it). */
static int stored(const struct tree *t, uint32_t node, const struct pairstore_mark *m,
		  enum keep_as keep_as)
{
	struct pairstore_mark before;
	int had;

	if (m->decision != PAIRSTORE_KEPT || keep_as == KEEP_EXACT)
		return 1;
	if (keep_as == KEEP_CLEARED || m->by != PAIRSTORE_BY_PERSON)
		return 0;
	had = pairstore_get(t, node, m->question, &before) && before.decision != PAIRSTORE_KEPT;
	pairstore_mark_release(&before);
	return had;
}

static int set_mark(struct tree *t, struct history *h, uint32_t node,
		    const struct pairstore_mark *m, struct pairstore_mark *prev,
		    enum keep_as keep_as, struct errbuf *err)
{
	char now[PAIRSTORE_TIME_SIZE];
	cJSON *o, *e;
	int keep_entry;

	if (prev)
		memset(prev, 0, sizeof(*prev));
	if (check_mark_input(m, err))
		return -1;
	o = node_object(t, node);
	if (!o)
		return errbuf_set(err, "node %s: its \"weft\" keys cannot be read",
				  tree_node(t, node)->id);
	if (cJSON_GetArraySize(member(o, "pairs")) >= PAIRSTORE_MAX_ENTRIES) {
		cJSON_Delete(o);
		return errbuf_set(err, "node %s: more than %d pair decisions",
				  tree_node(t, node)->id, PAIRSTORE_MAX_ENTRIES);
	}
	if (prev)
		pairstore_get(t, node, m->question, prev);
	keep_entry = stored(t, node, m, keep_as);
	remove_matching(o, "pairs", m->question, NULL, NULL);
	if (keep_entry) {
		e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(list_of(o, "pairs"), e))
			xalloc_die("out of memory");
		add_string(e, "question", m->question);
		add_string(e, "decision", pairstore_decision_name(m->decision));
		if (m->decision == PAIRSTORE_RELABELLED)
			add_string(e, "label", m->label);
		add_string(e, "by", pairstore_by_name(m->by));
		if (!m->at)
			pairstore_now(now);
		add_string(e, "at", m->at ? m->at : now);
	}
	store(t, h, node, o);
	cJSON_Delete(o);
	return 0;
}

int pairstore_set(struct tree *t, struct history *h, uint32_t node, const struct pairstore_mark *m,
		  struct pairstore_mark *prev, struct errbuf *err)
{
	return set_mark(t, h, node, m, prev, KEEP_DECIDED, err);
}

int pairstore_restore(struct tree *t, uint32_t node, const struct pairstore_mark *m,
		      struct errbuf *err)
{
	return set_mark(t, NULL, node, m, NULL, m->at ? KEEP_EXACT : KEEP_CLEARED, err);
}

int pairstore_clear(struct tree *t, struct history *h, uint32_t node, const char *question,
		    struct pairstore_mark *prev, struct errbuf *err)
{
	struct pairstore_mark m = {0};

	m.question = (char *)question;
	m.decision = PAIRSTORE_KEPT;
	return set_mark(t, h, node, &m, prev, KEEP_CLEARED, err);
}

static int check_verdict_input(const struct pairstore_verdict *v, struct errbuf *err)
{
	if (check_text("the question", v->question, PAIRSTORE_MAX_TEXT, err) ||
	    check_text("the answer", v->answer, PAIRSTORE_MAX_TEXT, err))
		return -1;
	if ((v->label && check_text("the label", v->label, PAIRSTORE_MAX_NAME, err)) ||
	    (v->verifier && check_text("the verifier", v->verifier, PAIRSTORE_MAX_NAME, err)) ||
	    (v->at && check_text("the time", v->at, PAIRSTORE_MAX_NAME, err)))
		return -1;
	if (!(v->p >= 0 && v->p <= 1))
		return errbuf_set(err, "the verdict's p is not from 0 to 1");
	return 0;
}

int pairstore_add_verdict(struct tree *t, struct history *h, uint32_t node,
			  const struct pairstore_verdict *v, struct errbuf *err)
{
	char now[PAIRSTORE_TIME_SIZE];
	cJSON *o, *e;

	if (check_verdict_input(v, err))
		return -1;
	o = node_object(t, node);
	if (!o)
		return errbuf_set(err, "node %s: its \"weft\" keys cannot be read",
				  tree_node(t, node)->id);
	remove_matching(o, "verdicts", v->question, v->answer, v->verifier ? v->verifier : "");
	if (cJSON_GetArraySize(member(o, "verdicts")) >= PAIRSTORE_MAX_ENTRIES) {
		cJSON_Delete(o);
		return errbuf_set(err, "node %s: more than %d verdicts", tree_node(t, node)->id,
				  PAIRSTORE_MAX_ENTRIES);
	}
	e = cJSON_CreateObject();
	if (!e || !cJSON_AddItemToArray(list_of(o, "verdicts"), e))
		xalloc_die("out of memory");
	add_string(e, "question", v->question);
	add_string(e, "answer", v->answer);
	if (v->label)
		add_string(e, "label", v->label);
	add_string(e, "verifier", v->verifier ? v->verifier : "");
	if (!cJSON_AddNumberToObject(e, "p", v->p))
		xalloc_die("out of memory");
	add_string(e, "source", pairstore_source_name(v->source));
	if (!v->at)
		pairstore_now(now);
	add_string(e, "at", v->at ? v->at : now);
	store(t, h, node, o);
	cJSON_Delete(o);
	return 0;
}

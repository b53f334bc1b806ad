#define PCRE2_CODE_UNIT_WIDTH 8
#include "weft/pairs.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/safetext.h"
#include "weft/similar.h"
#include "weft/utf8.h"
#include "weft/xalloc.h"

/* ---- small string helpers ---------------------------------------------- */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Python's str.strip() also strips the ASCII separators 0x1c-0x1f. */
static int is_py_space(unsigned char c)
{
	return is_space(c) || (c >= 0x1c && c <= 0x1f);
}

static int is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int is_trailing_punct(unsigned char c)
{
	return c == '.' || c == '?' || c == '!' || c == ',' || c == ';' || c == ':' || c == '"' ||
	       c == '\'' || c == ')' || is_space(c);
}

/* memmem is a GNU extension; this is the portable one. */
static const char *find_bytes(const char *h, size_t hlen, const char *n, size_t nlen)
{
	const char *end;

	if (!nlen || nlen > hlen)
		return NULL;
	end = h + hlen - nlen;
	for (; h <= end; h++) {
		h = memchr(h, n[0], (size_t)(end - h) + 1);
		if (!h)
			return NULL;
		if (!memcmp(h, n, nlen))
			return h;
	}
	return NULL;
}

/* ---- a set of strings (open addressing, FNV-1a) ------------------------- */

struct strset_slot {
	uint64_t hash;
	char *s; /* owned; NULL when free */
};

struct strset {
	struct strset_slot *slots;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static void strset_release(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slots[i].s);
	free(set->slots);
	set->slots = NULL;
	set->cap = set->n = 0;
}

static struct strset_slot *strset_find(struct strset_slot *slots, size_t cap, uint64_t h,
				       const char *s)
{
	size_t i = (size_t)(h & (cap - 1));

	while (slots[i].s && (slots[i].hash != h || strcmp(slots[i].s, s)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Adds s (copied); returns 1 when added, 0 when it was there already. */
static int strset_add(struct strset *set, const char *s)
{
	struct strset_slot *slot;
	uint64_t h = hash_str(s);

	if ((set->n + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64, i;
		struct strset_slot *ns = xcalloc(ncap, sizeof(*ns));

		for (i = 0; i < set->cap; i++)
			if (set->slots[i].s)
				*strset_find(ns, ncap, set->slots[i].hash, set->slots[i].s) =
				    set->slots[i];
		free(set->slots);
		set->slots = ns;
		set->cap = ncap;
	}
	slot = strset_find(set->slots, set->cap, h, s);
	if (slot->s)
		return 0;
	slot->hash = h;
	slot->s = xstrdup(s);
	set->n++;
	return 1;
}

/* ---- options ------------------------------------------------------------ */

void pairs_options_init(struct pairs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->pattern = PAIRS_DEFAULT_PATTERN;
	o->preamble = PAIRS_DEFAULT_PREAMBLE;
	o->labels[0] = "Yes";
	o->labels[1] = "No";
	o->nlabels = 2;
	o->near_threshold = SIMILAR_DEFAULT_THRESHOLD;
}

int pairs_options_set_labels(struct pairs_options *o, const char *list, char **storage,
			     struct errbuf *err)
{
	char *copy = xstrdup(list), *p = copy, *next;
	size_t n = 0;

	*storage = copy;
	for (;;) {
		char *end;

		next = strchr(p, ',');
		if (next)
			*next = '\0';
		while (is_space((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && is_space((unsigned char)end[-1]))
			*--end = '\0';
		if (!*p)
			return errbuf_set(err, "labels '%s': empty label", list);
		if (n == PAIRS_MAX_LABELS)
			return errbuf_set(err, "labels '%s': more than %d labels", list,
					  PAIRS_MAX_LABELS);
		o->labels[n++] = p;
		if (!next)
			break;
		p = next + 1;
	}
	if (n < 2)
		return errbuf_set(err, "labels '%s': need at least two labels", list);
	o->nlabels = n;
	return 0;
}

/* ---- result ------------------------------------------------------------- */

static void pair_release(struct pair *p)
{
	free(p->question);
	free(p->answer);
	free(p->node_id);
}

void pairs_result_release(struct pairs_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		pair_release(&r->pairs[i]);
	for (i = 0; i < r->ndropped; i++)
		pair_release(&r->dropped[i]);
	free(r->pairs);
	free(r->dropped);
	for (i = 0; i < r->nlabels; i++)
		free(r->labels[i]);
	memset(r, 0, sizeof(*r));
}

static void result_push(struct pairs_result *r, struct pair *p)
{
	if (p->status == PAIR_KEPT) {
		XGROW(r->pairs, r->cap, r->count + 1);
		r->pairs[r->count++] = *p;
		r->per_class[p->class_index]++;
		return;
	}
	XGROW(r->dropped, r->dropped_cap, r->ndropped + 1);
	r->dropped[r->ndropped++] = *p;
	switch (p->status) {
	case PAIR_AMBIGUOUS: r->ambiguous++; break;
	case PAIR_UNMATCHED: r->unmatched++; break;
	case PAIR_DUP_EXACT: r->dupes_exact++; break;
	case PAIR_DUP_NORMALISED: r->dupes_normalised++; break;
	case PAIR_REJECTED: r->rejected++; break;
	case PAIR_BELOW_VERIFY: r->below_verify++; break;
	case PAIR_KEPT: break;
	}
}

/* ---- normalisation ------------------------------------------------------ */

void pairs_normalise_question(const char *q, struct strbuf *out)
{
	const unsigned char *s = (const unsigned char *)q;
	size_t base = out->len;
	int pending_space = 0;

	for (; *s; s++) {
		if (is_space(*s)) {
			pending_space = out->len > base;
			continue;
		}
		if (pending_space)
			strbuf_addch(out, ' ');
		pending_space = 0;
		strbuf_addch(out, lower(*s));
	}
	while (out->len > base && is_trailing_punct((unsigned char)out->data[out->len - 1]))
		strbuf_truncate(out, out->len - 1);
}

/*
 * CR LF and lone CR become LF.  Offsets (spans and start) are mapped into
 * the new text; the mapped spans go to *mapped (caller frees).
 */
static void normalise_newlines(const char *doc, size_t len, const struct pairs_span *spans,
			       size_t nspans, size_t start, struct strbuf *out,
			       struct pairs_span **mapped, size_t *mapped_start)
{
	size_t i, k = 0;
	int start_done = 0;
	struct pairs_span *m = nspans ? xcalloc(nspans, sizeof(*m)) : NULL;

	*mapped_start = start;
	strbuf_grow(out, len + 1);
	i = 0;
	for (;;) {
		size_t stop;
		const char *cr;

		/* a span starting at i starts where the output stands now */
		while (k < nspans && spans[k].offset <= i) {
			m[k].offset = out->len;
			m[k].node_id = spans[k].node_id;
			k++;
		}
		if (!start_done && start <= i) {
			*mapped_start = out->len;
			start_done = 1;
		}
		if (i >= len)
			break;
		if (doc[i] == '\r') {
			if (!(i + 1 < len && doc[i + 1] == '\n'))
				strbuf_addch(out, '\n'); /* a lone CR; a CR LF keeps its LF */
			i++;
			continue;
		}
		/* copy the run before the next CR, span start or start offset */
		cr = memchr(doc + i, '\r', len - i);
		stop = cr ? (size_t)(cr - doc) : len;
		if (k < nspans && spans[k].offset < stop)
			stop = spans[k].offset;
		if (!start_done && start < stop)
			stop = start;
		strbuf_add(out, doc + i, stop - i);
		i = stop;
	}
	for (; k < nspans; k++) { /* offsets past the end */
		m[k].offset = out->len;
		m[k].node_id = spans[k].node_id;
	}
	if (!start_done)
		*mapped_start = out->len;
	*mapped = m;
}

static const char *span_at(const struct pairs_span *spans, size_t nspans, size_t off)
{
	size_t lo = 0, hi = nspans;

	/* the last span whose offset <= off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (spans[mid].offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? spans[lo - 1].node_id : NULL;
}

/* Whether label occurs in s as a word, ignoring ASCII case. */
static int contains_word(const char *s, size_t slen, const char *label)
{
	size_t ll = strlen(label), i, j;

	if (!ll || ll > slen)
		return 0;
	for (i = 0; i + ll <= slen; i++) {
		for (j = 0; j < ll; j++)
			if (lower((unsigned char)s[i + j]) != lower((unsigned char)label[j]))
				break;
		if (j < ll)
			continue;
		if (i > 0 && is_word((unsigned char)s[i - 1]) && is_word((unsigned char)label[0]))
			continue;
		if (i + ll < slen && is_word((unsigned char)s[i + ll]) &&
		    is_word((unsigned char)label[ll - 1]))
			continue;
		return 1;
	}
	return 0;
}

static void classify(const struct pairs_result *r, struct pair *p)
{
	size_t i, found = 0, alen = strlen(p->answer);

	if (r->compat_seed) {
		/* EVAL_RULES 2.4 step 5: the first label contained (case-
		 * sensitively) wins, else the last class. */
		for (i = 0; i + 1 < r->nlabels; i++)
			if (strstr(p->answer, r->labels[i]))
				break;
		p->class_index = i;
		p->status = PAIR_KEPT;
		return;
	}
	for (i = 0; i < r->nlabels; i++) {
		if (contains_word(p->answer, alen, r->labels[i])) {
			if (!found)
				p->class_index = i;
			found++;
		}
	}
	p->status = found == 1 ? PAIR_KEPT : found ? PAIR_AMBIGUOUS : PAIR_UNMATCHED;
}

static char *copy_trimmed(const char *s, size_t len, int trim)
{
	if (trim) {
		while (len && is_space((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && is_space((unsigned char)s[len - 1]))
			len--;
	}
	return xstrndup(s, len);
}

static size_t count_lines(const char *s, size_t from, size_t to)
{
	size_t n = 0;

	for (; from < to; from++)
		n += s[from] == '\n';
	return n;
}

/*
 * Default mode reads a question marker followed by any whitespace, a line
 * break included ("Question:\n Does ..."), as the marker with its space:
 * a task prompt that ends in "Question:" and a newline (as the shipped ones
 * once did, and as files from other looms do) would otherwise lose the
 * first pair.  The literal space right before group 1 in the pattern
 * becomes \s+ (the question is trimmed anyway).  Returns 1 and fills out
 * when the pattern has such a space, else 0 (the pattern is used as it is).
 */
static int tolerant_pattern(const char *pattern, struct strbuf *out)
{
	const char *p = pattern;
	int literal_space = 0; /* the previous token was an unescaped ' ' */

	if (strstr(pattern, "(?x") || strstr(pattern, "(*"))
		return 0; /* extended syntax or verbs: spaces mean something else */
	while (*p) {
		if (*p == '\\') {
			if (p[1] == 'Q')
				return 0; /* quoted runs: keep it simple, leave it be */
			p += p[1] ? 2 : 1;
			literal_space = 0;
			continue;
		}
		if (*p == '[') { /* a class: skip to its closing ']' */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '[' && p[1] == ':') {
					const char *e = strstr(p + 2, ":]");

					if (e)
						p = e + 1;
				}
				p++;
			}
			if (*p)
				p++;
			literal_space = 0;
			continue;
		}
		if (*p == '(') {
			int capturing = p[1] != '?' ||
					(p[2] == '<' && p[3] != '=' && p[3] != '!') ||
					(p[2] == 'P' && p[3] == '<') || p[2] == '\'';

			if (capturing) {
				if (!literal_space)
					return 0;
				strbuf_add(out, pattern, (size_t)(p - 1 - pattern));
				strbuf_addstr(out, "\\s+");
				strbuf_addstr(out, p);
				return 1;
			}
		}
		literal_space = *p == ' ';
		p++;
	}
	return 0;
}

/*
 * The work budget of one extraction.  PCRE2's match limit counts the
 * backtracking of one start position, and one pcre2_match call tries many
 * start positions (and an extraction makes many calls), so a pattern that
 * backtracks exponentially within each line, like (?:a|aa)*(c), stays under
 * the limit everywhere and still runs for minutes over a few hundred lines.
 * So the pattern is compiled with PCRE2_AUTO_CALLOUT and count_step counts
 * every item the matcher tries, across all start positions and calls: a
 * total that depends only on the pattern and the text (not on the machine,
 * nor on JIT against the interpreter).  Past the budget the match is
 * abandoned and the extraction fails, naming the pattern and the line it
 * had reached.  The budget grows with the text so that any legitimate
 * pattern (a few steps per byte) passes on a session of any size.
 */
struct work_budget {
	uint64_t used, limit;
	size_t start; /* where the match being tried started */
	int exceeded;
};

static int count_step(pcre2_callout_block *b, void *ctx)
{
	struct work_budget *w = ctx;

	w->start = (size_t)b->start_match; /* for the line, whichever limit stops it */
	if (++w->used <= w->limit)
		return 0;
	w->exceeded = 1;
	return PCRE2_ERROR_CALLOUT; /* negative: pcre2_match gives up and returns it */
}

/* One extraction's working state, from the text to the last match. */
struct extraction {
	const struct pairs_options *o;
	struct strbuf text; /* the document, newlines normalised */
	struct pairs_span *mspans;
	size_t nspans;
	size_t begin, end;     /* the part searched */
	size_t prompt_end;     /* default mode: matches ending by here are the prompt's */
	size_t line, line_pos; /* the line number at line_pos */
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	struct work_budget budget;
	uint32_t matchopts;
	struct strset exact, norm; /* questions seen, as they are and normalised */
	struct strbuf key;
};

static int copy_labels(const struct pairs_options *o, struct pairs_result *r, struct errbuf *err)
{
	size_t i;

	if (o->nlabels < 2 || o->nlabels > PAIRS_MAX_LABELS)
		return errbuf_set(err, "labels: need between 2 and %d, got %zu", PAIRS_MAX_LABELS,
				  o->nlabels);
	for (i = 0; i < o->nlabels; i++) {
		if (!o->labels[i] || !*o->labels[i])
			return errbuf_set(err, "labels: label %zu is empty", i + 1);
		r->labels[i] = xstrdup(o->labels[i]);
	}
	r->nlabels = o->nlabels;
	return 0;
}

/* Compiles the pattern (the tolerant form outside compat mode) for x's
 * text: UTF mode when the text is UTF-8 (so . and classes see characters),
 * bytes otherwise, so invalid bytes do not stop a match. */
static int compile_pattern(struct extraction *x, struct errbuf *err)
{
	struct strbuf tolerant = STRBUF_INIT;
	const char *pattern = x->o->pattern ? x->o->pattern : PAIRS_DEFAULT_PATTERN;
	uint32_t ngroups = 0;
	int errcode, utf;
	PCRE2_SIZE erroff;

	if (!x->o->compat_seed && tolerant_pattern(pattern, &tolerant))
		pattern = tolerant.data;
	utf = utf8_valid((const unsigned char *)x->text.data, x->text.len);
	x->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_DOTALL | PCRE2_AUTO_CALLOUT | (utf ? PCRE2_UTF : 0), &errcode,
			      &erroff, NULL);
	strbuf_release(&tolerant);
	if (!x->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return errbuf_set(err, "pattern, at offset %zu: %s", (size_t)erroff, (char *)msg);
	}
	pcre2_pattern_info(x->re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
	if (ngroups < 2)
		return errbuf_set(err, "pattern: needs two groups (question, answer), has %u",
				  ngroups);
	return 0;
}

/* Where the search begins and ends: after the preamble's last occurrence,
 * else after the task's prompt (see below), else from the start. */
static void find_bounds(struct extraction *x)
{
	const struct pairs_options *o = x->o;
	const char *data = x->text.data;
	int found_preamble = 0;

	x->end = x->text.len;
	if (o->preamble && *o->preamble) {
		size_t plen = strlen(o->preamble);
		const char *p = data, *hit, *last = NULL;

		while ((hit = find_bytes(p, (size_t)(data + x->end - p), o->preamble, plen)))
			p = last = hit + plen;
		if (last) {
			x->begin = (size_t)(last - data);
			found_preamble = 1;
		}
	}
	/* With no preamble, extraction starts after the task's prompt (a
	 * session's root).  Default mode: a pair counts when its answer ends
	 * after the prompt, so the search starts at the prompt's last line that
	 * is not blank (a prompt ending in "Question:" leads the first pair)
	 * and matches whose answer ends within the prompt are skipped. */
	x->prompt_end = 0;
	if (!o->compat_seed && !found_preamble && x->begin > 0) {
		x->prompt_end = x->begin;
		while (x->begin > 0 && is_space((unsigned char)data[x->begin - 1]))
			x->begin--;
		while (x->begin > 0 && data[x->begin - 1] != '\n')
			x->begin--;
	}
	if (o->compat_seed) {
		/* Python's strip(): the closing newline of a final pair goes. */
		while (x->begin < x->end && is_py_space((unsigned char)data[x->begin]))
			x->begin++;
		while (x->end > x->begin && is_py_space((unsigned char)data[x->end - 1]))
			x->end--;
	} else if (x->end > x->begin && data[x->end - 1] != '\n') {
		strbuf_addch(&x->text, '\n'); /* the last answer line counts */
		x->end = x->text.len;
	}
	x->line = 1 + count_lines(x->text.data, 0, x->begin);
	x->line_pos = x->begin;
}

/* The match data, JIT code and limits for the search of x. */
static void prepare_match(struct extraction *x)
{
	uint32_t reopts = 0;

	pcre2_pattern_info(x->re, PCRE2_INFO_ALLOPTIONS, &reopts);
	if (reopts & PCRE2_UTF) { /* checked once above, not on every match */
		x->matchopts = PCRE2_NO_UTF_CHECK;
		while (x->begin < x->end && ((unsigned char)x->text.data[x->begin] & 0xc0) == 0x80)
			x->begin++;
	}
	pcre2_jit_compile(x->re, PCRE2_JIT_COMPLETE); /* when unavailable, interpreted */
	x->md = pcre2_match_data_create_from_pattern(x->re, NULL);
	memset(&x->budget, 0, sizeof(x->budget));
	x->budget.limit = PAIRS_WORK_BASE + (uint64_t)PAIRS_WORK_PER_BYTE * (x->end - x->begin);
	x->mc = pcre2_match_context_create(NULL);
	/* PCRE2's own limits count one start position: never more than the
	 * whole budget (a lazy .*? over a 10 MB line takes one step a byte), and
	 * nesting no deeper than PAIRS_DEPTH_LIMIT (its memory is bounded by
	 * PCRE2's heap limit too) */
	pcre2_set_match_limit(x->mc, x->budget.limit < UINT32_MAX ? (uint32_t)x->budget.limit
								  : UINT32_MAX);
	pcre2_set_depth_limit(x->mc, PAIRS_DEPTH_LIMIT);
	pcre2_set_callout(x->mc, count_step, &x->budget);
}

/* Moves the line count forward to offset at. */
static void advance_line(struct extraction *x, size_t at)
{
	if (at > x->line_pos) {
		x->line += count_lines(x->text.data, x->line_pos, at);
		x->line_pos = at;
	}
}

/* The error for pcre2_match's result m < 0 (not NOMATCH) at pos. */
static int match_error(struct extraction *x, int m, size_t pos, struct errbuf *err)
{
	const struct pairs_options *o = x->o;
	const char *pattern = o->pattern ? o->pattern : PAIRS_DEFAULT_PATTERN; /* as written */
	struct strbuf shown = STRBUF_INIT;
	PCRE2_UCHAR msg[256];
	int rc;

	if (!x->budget.exceeded && m != PCRE2_ERROR_MATCHLIMIT && m != PCRE2_ERROR_DEPTHLIMIT &&
	    m != PCRE2_ERROR_HEAPLIMIT && m != PCRE2_ERROR_JIT_STACKLIMIT) {
		pcre2_get_error_message(m, msg, sizeof(msg));
		return errbuf_set(err, "pattern: matching failed at line %zu: %s", x->line,
				  (char *)msg);
	}
	advance_line(x, x->budget.used && x->budget.start >= pos ? x->budget.start : pos);
	safetext_append(&shown, pattern, strlen(pattern), 0);
	rc = errbuf_set(err, "pattern too costly: %s%s%s'%s' gave up at line %zu (%s); simplify it",
			o->task ? "task '" : "", o->task ? o->task : "", o->task ? "': " : "",
			shown.data, x->line,
			x->budget.exceeded	      ? "more steps than the budget for this text"
			: m == PCRE2_ERROR_MATCHLIMIT ? "backtracking limit"
						      : "nesting limit");
	strbuf_release(&shown);
	return rc;
}

/* The pair of the match in ov (a missing group is empty at the match's
 * start or end), classified and checked for duplicates, into r. */
static void add_match(struct extraction *x, const PCRE2_SIZE *ov, struct pairs_result *r)
{
	int compat = x->o->compat_seed;
	size_t qs = ov[2] == PCRE2_UNSET ? ov[0] : ov[2];
	size_t qe = ov[2] == PCRE2_UNSET ? ov[0] : ov[3];
	size_t as = ov[4] == PCRE2_UNSET ? ov[1] : ov[4];
	size_t ae = ov[4] == PCRE2_UNSET ? ov[1] : ov[5];
	struct pair p;

	if (x->prompt_end && ae <= x->prompt_end)
		return; /* a pair of the prompt itself */
	r->matches++;
	memset(&p, 0, sizeof(p));
	p.question = copy_trimmed(x->text.data + qs, qe - qs, !compat);
	p.answer = copy_trimmed(x->text.data + as, ae - as, !compat);
	p.node_id = xstrdup_or_null(span_at(x->mspans, x->nspans, as));
	advance_line(x, ov[0]);
	p.line = x->line;
	if (compat) {
		/* EVAL_RULES 2.4: duplicates first, then labels. */
		if (!strset_add(&x->exact, p.question))
			p.status = PAIR_DUP_EXACT;
		else
			classify(r, &p);
	} else {
		classify(r, &p);
		if (p.status == PAIR_KEPT) {
			strbuf_reset(&x->key);
			pairs_normalise_question(p.question, &x->key);
			if (!strset_add(&x->exact, p.question))
				p.status = PAIR_DUP_EXACT;
			else if (!strset_add(&x->norm, x->key.data))
				p.status = PAIR_DUP_NORMALISED;
		}
	}
	result_push(r, &p);
}

/* Every match from x->begin to x->end into r. */
static int match_all(struct extraction *x, struct pairs_result *r, struct errbuf *err)
{
	size_t pos = x->begin;

	while (pos <= x->end) {
		PCRE2_SIZE *ov;
		int m = pcre2_match(x->re, (PCRE2_SPTR)x->text.data, x->end, pos, x->matchopts,
				    x->md, x->mc);

		if (m == PCRE2_ERROR_NOMATCH)
			break;
		if (x->budget.exceeded || m < 0)
			return match_error(x, m, pos, err);
		ov = pcre2_get_ovector_pointer(x->md);
		add_match(x, ov, r);
		if (ov[1] > ov[0]) {
			pos = ov[1];
		} else if (ov[1] < x->end) { /* empty match: step one UTF-8 character */
			pos = ov[1] + 1;
			while (pos < x->end && ((unsigned char)x->text.data[pos] & 0xc0) == 0x80)
				pos++;
		} else {
			break;
		}
	}
	return 0;
}

int pairs_extract(const char *doc, size_t len, const struct pairs_span *spans, size_t nspans,
		  const struct pairs_options *o, struct pairs_result *r, struct errbuf *err)
{
	struct extraction x;
	int rc;

	memset(r, 0, sizeof(*r));
	r->compat_seed = o->compat_seed;
	rc = copy_labels(o, r, err);
	if (rc < 0)
		return rc;
	memset(&x, 0, sizeof(x));
	x.o = o;
	x.nspans = nspans;
	strbuf_init(&x.text);
	strbuf_init(&x.key);
	normalise_newlines(doc, len, spans, nspans, o->start, &x.text, &x.mspans, &x.begin);
	/* PCRE2's JIT may read a few bytes past the subject's end (wide loads,
	 * results unused): make the buffer's spare room defined so nothing
	 * depends on uninitialised memory (valgrind flagged it). */
	if (x.text.cap > x.text.len)
		memset(x.text.data + x.text.len, 0, x.text.cap - x.text.len);
	rc = compile_pattern(&x, err);
	if (rc == 0) {
		find_bounds(&x);
		prepare_match(&x);
		rc = match_all(&x, r, err);
	}
	pcre2_match_context_free(x.mc);
	pcre2_match_data_free(x.md);
	pcre2_code_free(x.re);
	strset_release(&x.exact);
	strset_release(&x.norm);
	strbuf_release(&x.key);
	strbuf_release(&x.text);
	free(x.mspans);
	return rc;
}

/* Whether the rejected pairs went to dropped (not --include-rejected). */
static int rejected_dropped(const struct pairs_result *r)
{
	size_t i;

	for (i = 0; i < r->ndropped; i++)
		if (r->dropped[i].status == PAIR_REJECTED)
			return 1;
	return 0;
}

void pairs_summary(const struct pairs_result *r, struct strbuf *out)
{
	size_t i, lo = SIZE_MAX, hi = 0;

	strbuf_addf(out, "pairs: %zu (of %zu matches)\n", r->count, r->matches);
	for (i = 0; i < r->nlabels; i++) {
		double pct = r->count ? 100.0 * (double)r->per_class[i] / (double)r->count : 0.0;

		strbuf_addf(out, "  %s: %zu (%.1f%%)\n", r->labels[i], r->per_class[i], pct);
		if (r->per_class[i] < lo)
			lo = r->per_class[i];
		if (r->per_class[i] > hi)
			hi = r->per_class[i];
	}
	strbuf_addf(out, "balance: %s (largest class minus smallest: %zu)\n",
		    hi - lo <= 1 ? "balanced" : "unbalanced", hi - lo);
	strbuf_addf(out, "duplicates dropped: %zu exact, %zu normalised\n", r->dupes_exact,
		    r->dupes_normalised);
	strbuf_addf(out, "ambiguous answers (excluded): %zu\n", r->ambiguous);
	strbuf_addf(out, "unmatched answers (excluded): %zu\n", r->unmatched);
	/* curate.h: said only when something happened, so a session without
	 * decisions reads as before */
	if (r->rejected || r->relabelled)
		strbuf_addf(out, "decisions: %zu rejected (%s), %zu relabelled\n", r->rejected,
			    rejected_dropped(r) ? "excluded" : "included", r->relabelled);
	if (r->below_verify)
		strbuf_addf(out, "below the verifier's threshold (excluded): %zu\n",
			    r->below_verify);
	if (r->near_dups)
		strbuf_addf(out, "near-duplicates (kept, flagged): %zu\n", r->near_dups);
	if (r->near_stopped)
		strbuf_addstr(out, "near-duplicates: the search stopped early (too many similar "
				   "questions; --near-duplicate 0 skips it)\n");
}

/*
 * Vectors from the embedder role, batched, sent concurrently, and kept in
 * a cache file (embed.h).
 */
#include "weft/embed.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft/atomicfile.h"
#include "weft/config.h"
#include "weft/lm.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

#define CACHE_HEADER "weft-embeddings 1\n"

static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t model_hash(const char *model)
{
	return fnv1a(model, 0xcbf29ce484222325ULL);
}

/* Two hashes of the text from different bases: 128 bits against a
 * collision handing one question another's vector. */
static void text_hash(const char *text, uint64_t h[2])
{
	h[0] = fnv1a(text, 0xcbf29ce484222325ULL);
	h[1] = fnv1a(text, 0x84222325cbf29ce4ULL) ^ (uint64_t)strlen(text);
}

void embed_cache_init(struct embed_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void embed_cache_release(struct embed_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->items[i].vec);
	free(c->items);
	embed_cache_init(c);
}

static struct embed_entry *find(const struct embed_cache *c, uint64_t model, const uint64_t t[2])
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->items[i].model == model && c->items[i].text[0] == t[0] &&
		    c->items[i].text[1] == t[1])
			return &c->items[i];
	return NULL;
}

static void put(struct embed_cache *c, uint64_t model, const uint64_t t[2], const double *vec,
		size_t dim)
{
	struct embed_entry *e = find(c, model, t);

	if (!e) {
		XGROW(c->items, c->cap, c->n + 1);
		e = &c->items[c->n++];
		e->model = model;
		e->text[0] = t[0];
		e->text[1] = t[1];
	} else {
		free(e->vec);
	}
	e->vec = xreallocarray(NULL, dim, sizeof(double));
	memcpy(e->vec, vec, dim * sizeof(double));
	e->dim = dim;
}

const double *embed_cache_find(const struct embed_cache *c, const char *model, const char *text,
			       size_t *dim)
{
	uint64_t t[2];
	const struct embed_entry *e;

	text_hash(text, t);
	e = find(c, model_hash(model), t);
	if (!e)
		return NULL;
	*dim = e->dim;
	return e->vec;
}

void embed_cache_put(struct embed_cache *c, const char *model, const char *text, const double *vec,
		     size_t dim)
{
	uint64_t t[2];

	text_hash(text, t);
	put(c, model_hash(model), t, vec, dim);
}

/* One line "MODEL TEXT DIM V..." (NUL-terminated, no newline) into c;
 * a line that does not read is left out. */
static void load_line(struct embed_cache *c, char *line)
{
	uint64_t model, t[2];
	unsigned long long a, b, m;
	size_t dim, i;
	double *vec;
	char *p, *end;
	int used = 0;

	if (sscanf(line, "%16llx %16llx%16llx %zu%n", &m, &a, &b, &dim, &used) != 4 || !dim ||
	    dim > LM_MAX_EMBED_DIM)
		return;
	model = m;
	t[0] = a;
	t[1] = b;
	vec = xreallocarray(NULL, dim, sizeof(double));
	p = line + used;
	for (i = 0; i < dim; i++) {
		errno = 0;
		vec[i] = strtod(p, &end);
		if (end == p || errno || !isfinite(vec[i]))
			break;
		p = end;
	}
	if (i == dim && !*p)
		put(c, model, t, vec, dim);
	free(vec);
}

int embed_cache_load(struct embed_cache *c, const char *path, struct errbuf *err)
{
	struct stat st;
	char *data, *line, *nl;
	size_t len;

	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (atomicfile_read(path, EMBED_CACHE_MAX, &data, &len, err) < 0)
		return -1;
	if (strncmp(data, CACHE_HEADER, strlen(CACHE_HEADER))) {
		/* not ours, or another version: it is rebuilt */
		free(data);
		return 0;
	}
	for (line = data + strlen(CACHE_HEADER); *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break; /* a torn last line */
		*nl = '\0';
		load_line(c, line);
	}
	free(data);
	return 0;
}

int embed_cache_save(const struct embed_cache *c, const char *path, struct errbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	size_t i, j;
	int r;

	strbuf_addstr(&out, CACHE_HEADER);
	for (i = 0; i < c->n; i++) {
		const struct embed_entry *e = &c->items[i];

		strbuf_addf(&out, "%016llx %016llx%016llx %zu", (unsigned long long)e->model,
			    (unsigned long long)e->text[0], (unsigned long long)e->text[1], e->dim);
		for (j = 0; j < e->dim; j++)
			strbuf_addf(&out, " %.17g", e->vec[j]);
		strbuf_addch(&out, '\n');
	}
	r = atomicfile_write(path, out.data, out.len, err);
	strbuf_release(&out);
	return r;
}

/* The state of one embed_texts: what each answer fills in. */
struct run {
	struct embed_result *res;
	struct embed_cache *cache;
	const char *model;
	const char *const *texts;
	size_t *todo; /* the texts not cached, by index */
	int failed;
	struct errbuf err;
};

struct batch {
	struct run *run;
	size_t first, count; /* a slice of run->todo */
};

static void on_vectors(void *ctx, const struct lm_response *resp, const struct errbuf *err)
{
	struct batch *b = ctx;
	struct run *run = b->run;
	size_t i;

	if (run->failed)
		return;
	if (err) {
		run->failed = 1;
		errbuf_set(&run->err, "%s", err->msg);
		return;
	}
	if (!run->res->dim) {
		run->res->dim = resp->dim;
		run->res->vectors = xcalloc(run->res->n * resp->dim, sizeof(double));
	} else if (resp->dim != run->res->dim) {
		run->failed = 1;
		errbuf_set(&run->err, "vectors of %zu and of %zu numbers", run->res->dim,
			   resp->dim);
		return;
	}
	for (i = 0; i < b->count; i++) {
		size_t t = run->todo[b->first + i];

		memcpy(run->res->vectors + t * resp->dim, resp->vectors + i * resp->dim,
		       resp->dim * sizeof(double));
		embed_cache_put(run->cache, run->model, run->texts[t],
				resp->vectors + i * resp->dim, resp->dim);
	}
	run->res->fresh += b->count;
}

/* Sends the texts run->todo[0..ntodo) in batches; returns how many. */
static size_t submit_batches(struct lm_engine *e, const struct config_role *r, struct run *run,
			     size_t ntodo, struct batch *batches)
{
	size_t i = 0, nb = 0;

	while (i < ntodo) {
		struct lm_request req;
		size_t bytes = 0;

		lm_request_init(&req);
		config_role_request(r, &req);
		req.n = 1;
		batches[nb].run = run;
		batches[nb].first = i;
		while (i < ntodo && req.ninputs < EMBED_BATCH &&
		       (!req.ninputs ||
			bytes + strlen(run->texts[run->todo[i]]) <= EMBED_BATCH_BYTES)) {
			bytes += strlen(run->texts[run->todo[i]]);
			lm_request_add_input(&req, run->texts[run->todo[i++]]);
		}
		batches[nb].count = req.ninputs;
		lm_submit(e, &req, on_vectors, &batches[nb]);
		lm_request_release(&req);
		nb++;
	}
	return nb;
}

/* The cached vectors into res; the others' indices into todo. */
static size_t from_cache(const struct embed_cache *cache, const char *model,
			 const char *const *texts, struct embed_result *res, size_t *todo)
{
	size_t i, dim, ntodo = 0;
	const double *v;

	for (i = 0; i < res->n; i++) {
		v = embed_cache_find(cache, model, texts[i], &dim);
		if (v && (!res->dim || dim == res->dim)) {
			if (!res->dim) {
				res->dim = dim;
				res->vectors = xcalloc(res->n * dim, sizeof(double));
			}
			memcpy(res->vectors + i * dim, v, dim * sizeof(double));
			res->cached++;
		} else {
			todo[ntodo++] = i;
		}
	}
	return ntodo;
}

static void normalise(struct embed_result *res)
{
	size_t i, j;

	for (i = 0; i < res->n; i++) {
		double *v = res->vectors + i * res->dim, s = 0;

		for (j = 0; j < res->dim; j++)
			s += v[j] * v[j];
		if (s > 0)
			for (j = 0; j < res->dim; j++)
				v[j] /= sqrt(s);
	}
}

int embed_texts(struct lm_engine *e, const struct config_role *r, const char *cache_path,
		const char *const *texts, size_t n, struct embed_result *res, struct errbuf *err)
{
	struct embed_cache cache;
	struct run run;
	struct batch *batches;
	size_t ntodo;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	res->n = n;
	embed_cache_init(&cache);
	if (embed_cache_load(&cache, cache_path, err) < 0) {
		errbuf_prefix(err, "embedder %s: cache", r->model);
		return -1;
	}
	memset(&run, 0, sizeof(run));
	run.res = res;
	run.cache = &cache;
	run.model = r->model;
	run.texts = texts;
	run.todo = xcalloc(n ? n : 1, sizeof(*run.todo));
	ntodo = from_cache(&cache, r->model, texts, res, run.todo);
	batches = xcalloc(ntodo ? ntodo : 1, sizeof(*batches));
	if (ntodo) {
		submit_batches(e, r, &run, ntodo, batches);
		if (lm_run(e, err) < 0)
			rc = -1;
		else if (run.failed)
			rc = errbuf_set(err, "%s", run.err.msg);
		if (rc == 0 && embed_cache_save(&cache, cache_path, err) < 0)
			rc = -1;
		if (rc < 0)
			errbuf_prefix(err, "embedder %s", r->model);
	}
	if (rc == 0 && n)
		normalise(res);
	free(batches);
	free(run.todo);
	embed_cache_release(&cache);
	return rc;
}

void embed_result_release(struct embed_result *res)
{
	free(res->vectors);
	memset(res, 0, sizeof(*res));
}

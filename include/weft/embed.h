#ifndef WEFT_EMBED_H
#define WEFT_EMBED_H
/*
 * Vectors of texts from the `embedder` role (src/eval/embed.c), for weft
 * map: texts are sent in batches (at most EMBED_BATCH texts and about
 * EMBED_BATCH_BYTES of them a request) concurrently through the lm
 * engine with its retries, and every vector is kept in a cache file so
 * that a rerun sends no request for a text it has seen.
 *
 * The cache file is text: a first line "weft-embeddings 1", then one line
 * per vector: "MODEL TEXT DIM V1 ... VDIM" where MODEL and TEXT are 16-hex
 * hashes (64-bit FNV-1a of the model's name; two 64-bit FNV-1a of the text
 * with different bases, as 32 hex) and the values are written with 17
 * significant digits (read back exactly).  A line that does not read is
 * skipped: the cache only saves requests.  It is written whole and
 * atomically (atomicfile.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/errbuf.h"

struct config_role;
struct lm_engine;

#define EMBED_BATCH	  64
#define EMBED_BATCH_BYTES ((size_t)256 << 10)
#define EMBED_CACHE_FILE  "embeddings.cache"
/* The largest cache file read. */
#define EMBED_CACHE_MAX ((size_t)1 << 30)

struct embed_entry {
	uint64_t model, text[2];
	double *vec; /* owned, dim numbers */
	size_t dim;
};

struct embed_cache {
	struct embed_entry *items; /* owned */
	size_t n, cap;
};

void embed_cache_init(struct embed_cache *c);
void embed_cache_release(struct embed_cache *c);
/* Reads path into c (appending); a missing file is an empty cache.
 * Returns 0, or -1 with err when the file cannot be read. */
int embed_cache_load(struct embed_cache *c, const char *path, struct errbuf *err);
/* Writes c to path atomically.  Returns 0, or -1 with err. */
int embed_cache_save(const struct embed_cache *c, const char *path, struct errbuf *err);
/* The vector of text under model, or NULL; *dim gets its width. */
const double *embed_cache_find(const struct embed_cache *c, const char *model, const char *text,
			       size_t *dim);
/* Adds (or replaces) the vector of text under model (copied). */
void embed_cache_put(struct embed_cache *c, const char *model, const char *text, const double *vec,
		     size_t dim);

struct embed_result {
	double *vectors; /* owned, n rows of dim numbers, each of length 1 (or 0) */
	size_t n, dim;
	size_t fresh;  /* vectors the embedder sent */
	size_t cached; /* vectors the cache held */
};

/*
 * The unit-length vectors of texts[0..n) from role r (configured), through
 * engine e, cached in cache_path (read first; written when any vector is
 * new).  A zero vector stays zero.  Returns 0, or -1 with err ("embedder
 * MODEL: CAUSE"), nothing written then; release res either way.
 */
int embed_texts(struct lm_engine *e, const struct config_role *r, const char *cache_path,
		const char *const *texts, size_t n, struct embed_result *res, struct errbuf *err);
void embed_result_release(struct embed_result *res);

#endif

#include "weft/redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/xalloc.h"

/* One piece of a secret: its hash, where it starts and how long it is. */
struct piece {
	uint64_t hash;
	const char *at;
	size_t len;
};

#define BASE 0x100000001b3ULL

static uint64_t hash_of(const unsigned char *p, size_t n)
{
	uint64_t h = 0;
	size_t i;

	for (i = 0; i < n; i++)
		h = h * BASE + p[i];
	return h;
}

static int cmp_piece(const void *a, const void *b)
{
	uint64_t x = ((const struct piece *)a)->hash, y = ((const struct piece *)b)->hash;

	return (x > y) - (x < y);
}

/* Is the g bytes at p one of the pieces (sorted by hash) of length g? */
static int is_piece(const struct piece *pc, size_t npc, uint64_t h, const char *p, size_t g)
{
	size_t lo = 0, hi = npc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < npc && pc[lo].hash == h; lo++)
		if (pc[lo].len == g && !memcmp(pc[lo].at, p, g))
			return 1;
	return 0;
}

/*
 * Marks in mask (allocated on the first hit) every byte of text covered by
 * a piece of length g.  Returns the mask.
 */
static unsigned char *mark_pieces(const char *text, size_t len, const struct piece *pc, size_t npc,
				  size_t g, unsigned char *mask)
{
	const unsigned char *t = (const unsigned char *)text;
	uint64_t h, top = 1;
	size_t i;

	if (!npc || len < g)
		return mask;
	for (i = 1; i < g; i++)
		top *= BASE;
	h = hash_of(t, g);
	for (i = 0;; i++) {
		if (is_piece(pc, npc, h, text + i, g)) {
			if (!mask)
				mask = xcalloc(len, 1);
			memset(mask + i, 1, g);
		}
		if (i + g >= len)
			break;
		h = (h - t[i] * top) * BASE + t[i + g];
	}
	return mask;
}

size_t redact_append(struct strbuf *out, const char *text, size_t len, const char *const *secrets,
		     size_t nsecrets)
{
	struct piece *full = NULL, *part = NULL;
	size_t nfull = 0, npart = 0, cap = 0, k, i, runs = 0;
	unsigned char *mask = NULL;

	for (k = 0; k < nsecrets; k++) {
		size_t sl = secrets[k] ? strlen(secrets[k]) : 0;

		if (sl >= REDACT_MIN_PIECE)
			cap += sl - REDACT_MIN_PIECE + 1;
	}
	part = cap ? xcalloc(cap, sizeof(*part)) : NULL;
	full = nsecrets ? xcalloc(nsecrets, sizeof(*full)) : NULL;
	for (k = 0; k < nsecrets; k++) {
		const char *s = secrets[k];
		size_t sl = s ? strlen(s) : 0;

		if (sl < REDACT_MIN_SECRET)
			continue;
		if (sl < REDACT_MIN_PIECE) {
			full[nfull].hash = hash_of((const unsigned char *)s, sl);
			full[nfull].at = s;
			full[nfull++].len = sl;
			continue;
		}
		for (i = 0; i + REDACT_MIN_PIECE <= sl; i++) {
			part[npart].hash = hash_of((const unsigned char *)s + i, REDACT_MIN_PIECE);
			part[npart].at = s + i;
			part[npart++].len = REDACT_MIN_PIECE;
		}
	}
	if (npart > 1)
		qsort(part, npart, sizeof(*part), cmp_piece);
	mask = mark_pieces(text, len, part, npart, REDACT_MIN_PIECE, mask);
	/* short secrets, one length at a time */
	for (k = 0; k < nfull; k++)
		mask = mark_pieces(text, len, full + k, 1, full[k].len, mask);
	if (!mask) {
		strbuf_add(out, text, len);
	} else {
		for (i = 0; i < len;) {
			size_t j = i;

			if (!mask[i]) {
				while (j < len && !mask[j])
					j++;
				strbuf_add(out, text + i, j - i);
			} else {
				while (j < len && mask[j])
					j++;
				strbuf_addstr(out, REDACT_MARK);
				runs++;
			}
			i = j;
		}
	}
	free(mask);
	free(part);
	free(full);
	return runs;
}

size_t redact_string(char **s, const char *const *secrets, size_t nsecrets)
{
	struct strbuf sb = STRBUF_INIT;
	size_t runs;

	if (!s || !*s)
		return 0;
	runs = redact_append(&sb, *s, strlen(*s), secrets, nsecrets);
	if (runs) {
		free(*s);
		*s = strbuf_detach(&sb, NULL);
	} else {
		strbuf_release(&sb);
	}
	return runs;
}

#ifndef WEFT_MAPTEXT_H
#define WEFT_MAPTEXT_H
/*
 * A map (weft/map.h) as plain text (src/eval/maptext.c), for the loom's
 * map page (M): the braille scatter, the cluster table with its balance,
 * the near-duplicates and the possible shortcuts, as weft map prints them
 * (the one formatter of both).  Text from the pairs is sanitized and
 * cut, so each line is safe to show.
 */
#include "weft/map.h"
#include "weft/strbuf.h"

/* Appends the summary of m (built from in) to out, lines ending in "\n":
 * a line saying how many pairs and clusters and whose vectors, then
 * map_format_body without colour. */
void map_format_text(const struct map *m, const struct map_input *in, struct strbuf *out);

/* The scatter with its labels line, the cluster table, the near-duplicates
 * and the shortcuts; with colour, the scatter's cells and the labels in
 * ANSI colours by label (weft map on a terminal). */
void map_format_body(const struct map *m, const struct map_input *in, int colour,
		     struct strbuf *out);

#endif

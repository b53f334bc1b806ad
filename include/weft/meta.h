#ifndef WEFT_META_H
#define WEFT_META_H
/*
 * The session-level "weft" object (tree->weft_json): which task the session
 * follows and how it was configured.  Kept as JSON text in the tree so that
 * keys weft does not know survive; these helpers read and set its fields.
 */
#include "weft/strbuf.h"
#include "weft/tree.h"

/* Appends the string value of top-level key in tree->weft_json to out;
 * returns 0, or -1 when absent or not a string. */
int meta_get_string(const struct tree *t, const char *key, struct strbuf *out);

/* Sets key to a string value (other keys kept; creates the object and
 * "format": 1 when there is none). */
void meta_set_string(struct tree *t, const char *key, const char *value);

/* Sets key to a JSON value given as text (e.g. "{\"model\":\"x\"}"); returns
 * -1 when value_json does not parse. */
int meta_set_json(struct tree *t, const char *key, const char *value_json);

/*
 * Sets key to a JSON value (value_json) in a list of object members given
 * as text ("\"k\":v,...", the form unknown keys are kept in; NULL or ""
 * for none), replacing that key only.  Appends the new list to out and
 * returns 0, or -1 (out unchanged) when members or value_json does not
 * parse.
 */
int meta_members_set(const char *members, const char *key, const char *value_json,
		     struct strbuf *out);

#endif

#include "weft/meta.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static cJSON *parse_meta(const struct tree *t)
{
	cJSON *o = t->weft_json ? cJSON_Parse(t->weft_json) : NULL;

	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	if (!o) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "format", 1);
	}
	return o;
}

static void store_meta(struct tree *t, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	tree_set_weft_json(t, s);
	cJSON_free(s);
	cJSON_Delete(o);
}

int meta_get_string(const struct tree *t, const char *key, struct strbuf *out)
{
	cJSON *o, *v;
	int r = -1;

	if (!t->weft_json)
		return -1;
	o = cJSON_Parse(t->weft_json);
	v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v)) {
		strbuf_addstr(out, v->valuestring);
		r = 0;
	}
	cJSON_Delete(o);
	return r;
}

void meta_set_string(struct tree *t, const char *key, const char *value)
{
	cJSON *o = parse_meta(t);

	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, value);
	store_meta(t, o);
}

int meta_set_json(struct tree *t, const char *key, const char *value_json)
{
	cJSON *v = cJSON_Parse(value_json);
	cJSON *o;

	if (!v)
		return -1;
	o = parse_meta(t);
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
	store_meta(t, o);
	return 0;
}

int meta_members_set(const char *members, const char *key, const char *value_json,
		     struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	cJSON *o, *v;
	char *s;
	size_t len;

	strbuf_addch(&text, '{');
	if (members)
		strbuf_addstr(&text, members);
	strbuf_addch(&text, '}');
	o = cJSON_Parse(text.data);
	strbuf_release(&text);
	v = cJSON_Parse(value_json);
	if (!cJSON_IsObject(o) || !v) {
		cJSON_Delete(o);
		cJSON_Delete(v);
		return -1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
	s = cJSON_PrintUnformatted(o);
	len = strlen(s);
	if (len >= 2)
		strbuf_add(out, s + 1, len - 2);
	cJSON_free(s);
	cJSON_Delete(o);
	return 0;
}

#include "weft/inputfile.h"

#include <stdlib.h>
#include <string.h>

#include "weft/atomicfile.h"
#include "weft/journal.h"
#include "weft/session.h"
#include "weft/utf8.h"

/* Whether the first non-blank byte is '{' (a JSON object). */
static int looks_like_json(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i < len && s[i] == '{';
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int inputfile_read(struct inputfile *f, const char *path, size_t max, unsigned flags,
		   struct errbuf *err)
{
	struct errbuf serr;
	struct tree *t = NULL;
	size_t bom;
	int jr;

	memset(f, 0, sizeof(*f));
	if (atomicfile_read(path, max, &f->data, &f->len, err))
		return -1;
	bom = utf8_bom_len(f->data, f->len);
	if (bom) {
		memmove(f->data, f->data + bom, f->len - bom + 1); /* with the NUL */
		f->len -= bom;
	}
	if ((flags & INPUTFILE_TEXT) || !looks_like_json(f->data, f->len))
		return 0;
	if (session_load_buffer(path, f->data, f->len, &t, &serr)) {
		if (!ends_with(path, ".json"))
			return 0; /* text that happens to start with '{' */
		*err = serr;
		inputfile_release(f);
		return -1;
	}
	jr = journal_replay(path, t, &serr);
	if (jr < 0) {
		*err = serr;
		tree_free(t);
		inputfile_release(f);
		return -1;
	}
	if (jr > 0) {
		f->warning = serr;
		f->warned = 1;
	}
	f->tree = t;
	return 0;
}

struct tree *inputfile_take_tree(struct inputfile *f)
{
	struct tree *t = f->tree;

	f->tree = NULL;
	return t;
}

char *inputfile_take_data(struct inputfile *f, size_t *len)
{
	char *d = f->data;

	*len = f->len;
	f->data = NULL;
	f->len = 0;
	return d;
}

void inputfile_release(struct inputfile *f)
{
	free(f->data);
	if (f->tree)
		tree_free(f->tree);
	f->data = NULL;
	f->tree = NULL;
	f->len = 0;
}

/* libFuzzer target: the journal reader.  Each input is written as
 * FILE.journal beside a small session (a root and two children) in a
 * scratch folder and replayed onto it; whatever it yields must save and
 * load again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/journal.h"
#include "weft/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
    "{\"name\":\"f\",\"nodes\":["
    "{\"id\":\"r\",\"text\":\"root\",\"parentIds\":[],\"childrenIds\":[\"a\",\"b\"]},"
    "{\"id\":\"a\",\"text\":\" a\",\"parentIds\":[\"r\"],\"childrenIds\":[]},"
    "{\"id\":\"b\",\"text\":\" b\",\"parentIds\":[\"r\"],\"childrenIds\":[]}],"
    "\"pathNodes\":[\"r\",\"a\"],\"focusedId\":\"a\"}";

static char session_path[256];
static char journal_file[300];

static void setup(void)
{
	char dir[] = "/tmp/weft-fuzz-journal-XXXXXX";

	if (!mkdtemp(dir))
		abort();
	snprintf(session_path, sizeof(session_path), "%s/s.json", dir);
	snprintf(journal_file, sizeof(journal_file), "%s.journal", session_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree *t = NULL, *t2 = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	FILE *f;

	if (!session_path[0])
		setup();
	if (session_load_buffer("base", base, sizeof(base) - 1, &t, &err))
		abort();
	f = fopen(journal_file, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (journal_replay(session_path, t, &err) >= -1) {
		session_write(t, &sb);
		if (session_load_buffer("replayed", sb.data, sb.len, &t2, &err)) {
			fprintf(stderr, "replayed tree does not reload: %s\n", err.msg);
			abort();
		}
	}
	unlink(journal_file);
	tree_free(t2);
	tree_free(t);
	strbuf_release(&sb);
	return 0;
}

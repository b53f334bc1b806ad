/* libFuzzer target: what the read-only commands (extract, export, eval)
 * read.  The input is split at its first NUL into a session file and its
 * journal, written to a scratch folder, and read with inputfile_read, as
 * those commands do.  Whatever it yields must never touch the journal
 * (same bytes after), and a session it yields must save and load again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/inputfile.h"
#include "weft/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char session_path[256];
static char journal_file[300];

static void put(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || (n && fwrite(p, 1, n, f) != n))
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	const uint8_t *j = nul ? nul + 1 : NULL;
	size_t jlen = nul ? size - slen - 1 : 0;
	struct inputfile in;
	struct errbuf err;

	if (!session_path[0]) {
		char dir[] = "/tmp/weft-fuzz-inputfile-XXXXXX";

		if (!mkdtemp(dir))
			abort();
		snprintf(session_path, sizeof(session_path), "%s/s.json", dir);
		snprintf(journal_file, sizeof(journal_file), "%s.journal", session_path);
	}
	put(session_path, data, slen);
	if (j)
		put(journal_file, j, jlen);
	else
		unlink(journal_file);
	if (inputfile_read(&in, session_path, 1u << 24, 0, &err) == 0 && in.tree) {
		struct strbuf sb = STRBUF_INIT;
		struct tree *t2 = NULL;

		session_write(in.tree, &sb);
		if (session_load_buffer("again", sb.data, sb.len, &t2, &err)) {
			fprintf(stderr, "a session read does not reload: %s\n", err.msg);
			abort();
		}
		tree_free(t2);
		strbuf_release(&sb);
	}
	inputfile_release(&in);
	if (j) { /* read-only: the journal is as it was */
		FILE *f = fopen(journal_file, "rb");
		uint8_t *back = malloc(jlen + 1);
		size_t got;

		if (!f || !back)
			abort();
		got = fread(back, 1, jlen + 1, f);
		fclose(f);
		if (got != jlen || (jlen && memcmp(back, j, jlen)))
			abort();
		free(back);
	}
	return 0;
}

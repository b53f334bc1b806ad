#include "testutil.h"

#include "weft/export.h"
#include "weft/pairs.h"
#include "weft/strbuf.h"

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[2048];
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

/* CR LF -> LF, in place. */
static void to_lf(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*w++ = *s;
	*w = '\0';
}

static inline int extract(const char *text, int compat, struct pairs_result *r)
{
	struct pairs_options o;
	struct errbuf err;
	int rc;

	pairs_options_init(&o);
	o.preamble = NULL;
	o.compat_seed = compat;
	rc = pairs_extract(text, strlen(text), NULL, 0, &o, r, &err);
	if (rc)
		print_message("extract: %s\n", err.msg);
	return rc;
}

static void export(const struct pairs_result *r, enum export_format f, struct strbuf *out)
{
	struct errbuf err;

	assert_int_equal(export_write(r, f, NULL, out, &err), 0);
}

/* ---- parity with the seed's cleaner ------------------------------------ */

static void test_parity_upstream(void **state)
{
	const char *dir;
	struct pairs_options o;
	struct pairs_result r;
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	char *text, *cls, *lo;
	size_t len, clen, llen;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	text = read_file(dir, "data-final.txt", &len);
	cls = read_file(dir, "classification-dataset.csv", &clen);
	lo = read_file(dir, "logodds-dataset.csv", &llen);
	to_lf(cls);
	to_lf(lo);

	pairs_options_init(&o);
	o.compat_seed = 1;
	assert_int_equal(pairs_extract(text, len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.count, 201);
	assert_int_equal(r.per_class[0], 100);
	assert_int_equal(r.per_class[1], 101);
	assert_int_equal(r.matches, 203);
	assert_int_equal(r.dupes_exact, 2);

	export(&r, EXPORT_CLASSIFICATION, &out);
	assert_string_equal(out.data, cls);
	strbuf_reset(&out);
	export(&r, EXPORT_LOGODDS, &out);
	assert_string_equal(out.data, lo);

	pairs_result_release(&r);
	strbuf_release(&out);
	free(text);
	free(cls);
	free(lo);
}

/* Default mode on the same text: the lost final pair is read. */
static void test_default_mode_upstream(void **state)
{
	const char *dir;
	struct pairs_options o;
	struct pairs_result r;
	struct errbuf err;
	char *text;
	size_t len;

	(void)state;
	SKIP_WITHOUT_FIXTURES(dir);
	text = read_file(dir, "data-final.txt", &len);
	pairs_options_init(&o);
	assert_int_equal(pairs_extract(text, len, NULL, 0, &o, &r, &err), 0);
	assert_int_equal(r.matches, 204);
	assert_int_equal(r.count + r.ndropped, 204);
	print_message("default mode: %zu pairs, %zu/%zu, dupes %zu/%zu, ambiguous %zu, "
		      "unmatched %zu\n",
		      r.count, r.per_class[0], r.per_class[1], r.dupes_exact, r.dupes_normalised,
		      r.ambiguous, r.unmatched);
	pairs_result_release(&r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parity_upstream),
	    cmocka_unit_test(test_default_mode_upstream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "testutil.h"

#include <math.h>

#include "weft/map.h"
#include "weft/strbuf.h"

/* Points on the line y = 2x with a little noise across it: the first
 * axis is (1, 2) / sqrt(5), sign fixed so its larger entry is positive. */
static void test_pca_line(void **state)
{
	double x[21 * 2], axes[2 * 2], coords[21 * 2], explained[2];
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < 21; i++) {
		double t = (double)i - 10, noise = 0.01 * sin(7.0 * t);

		x[i * 2] = t - 2 * noise;
		x[i * 2 + 1] = 2 * t + noise;
	}
	assert_int_equal(map_pca(x, 21, 2, 2, axes, coords, explained, &err), 0);
	assert_true(fabs(axes[0] - 1 / sqrt(5.0)) < 1e-3);
	assert_true(fabs(axes[1] - 2 / sqrt(5.0)) < 1e-3);
	assert_true(explained[0] > 0.999);
	/* the point at t = 10 lies at about 10 sqrt(5) along it */
	assert_true(fabs(coords[20 * 2] - 10 * sqrt(5.0)) < 0.05);
	/* the second axis is across the line */
	assert_true(fabs(axes[0] * axes[2] + axes[1] * axes[3]) < 1e-9);
}

/* Fewer points than dimensions: the Gram matrix's route finds the same
 * axis. */
static void test_pca_gram(void **state)
{
	enum { N = 6, D = 30 };
	double x[N * D], axes[D], coords[N], dir[D], norm = 0, dot = 0;
	struct errbuf err;
	size_t i, t;

	(void)state;
	for (t = 0; t < D; t++) {
		dir[t] = (t % 3 == 0) ? 1.0 + (double)t / 10 : (t % 3 == 1 ? -0.5 : 0.0);
		norm += dir[t] * dir[t];
	}
	for (t = 0; t < D; t++)
		dir[t] /= sqrt(norm);
	for (i = 0; i < N; i++)
		for (t = 0; t < D; t++)
			x[i * D + t] = 5 + (double)i * dir[t] + 0.001 * cos((double)(i * D + t));
	assert_int_equal(map_pca(x, N, D, 1, axes, coords, NULL, &err), 0);
	for (t = 0; t < D; t++)
		dot += axes[t] * dir[t];
	assert_true(dot > 0.9999); /* dir's largest entry is positive, so is the axis's */
	assert_int_equal(map_pca(x, N, D, 6, axes, coords, NULL, &err), -1);
}

static void test_kmeans_blobs(void **state)
{
	static const double centre[3][2] = {{0, 0}, {10, 0}, {0, 10}};
	double x[15 * 2];
	size_t assign[15], i, j;

	(void)state;
	for (i = 0; i < 15; i++) { /* interleaved: blob i % 3 */
		x[i * 2] = centre[i % 3][0] + 0.3 * sin((double)i);
		x[i * 2 + 1] = centre[i % 3][1] + 0.3 * cos((double)i);
	}
	map_kmeans(x, 15, 2, 3, assign);
	for (i = 0; i < 15; i++)
		for (j = 0; j < 15; j++)
			assert_int_equal(assign[i] == assign[j], i % 3 == j % 3);
}

static void test_default_clusters(void **state)
{
	(void)state;
	assert_int_equal(map_default_clusters(2), 2);
	assert_int_equal(map_default_clusters(50), 5);
	assert_int_equal(map_default_clusters(10000), MAP_MAX_CLUSTERS);
}

static void test_cluster_names(void **state)
{
	static const char *const q[] = {
	    "Is the apple orchard thing ripe?",	      "Does an apple tree orchard thing need bees?",
	    "Is an apple tree thing in the orchard?", "Does the rocket engine thing burn fuel?",
	    "Is a rocket engine nozzle thing loud?",  "Is the rocket engine nozzle thing hot?"};
	size_t assign[] = {0, 0, 0, 1, 1, 1};
	char *names[2];

	(void)state;
	map_cluster_names(q, 6, assign, 2, names);
	/* "thing", in every question, ranks below words in two of the
	 * group's three; ties by the word */
	assert_string_equal(names[0], "apple orchard tree");
	assert_string_equal(names[1], "engine rocket nozzle");
	free(names[0]);
	free(names[1]);
}

static void test_shortcut(void **state)
{
	size_t all_yes[] = {8, 0}, too_few[] = {7, 0}, mixed[] = {9, 2}, edge[] = {3, 17},
	       label = 99;

	(void)state;
	assert_true(map_is_shortcut(all_yes, 2, &label));
	assert_int_equal(label, 0);
	assert_false(map_is_shortcut(too_few, 2, &label));
	assert_false(map_is_shortcut(mixed, 2, &label)); /* 9 of 11 is 82% */
	assert_true(map_is_shortcut(edge, 2, &label));	 /* 17 of 20 is 85% */
	assert_int_equal(label, 1);
}

/* Two topics, one all Yes, and a near-duplicate: the map finds them. */
static void test_build(void **state)
{
	static const char *const topics[2][3] = {{"paris", "louvre", "seine"},
						 {"quasar", "pulsar", "nebula"}};
	static const char *const names[] = {"Yes", "No"};
	char text[20][96];
	const char *q[20];
	size_t labels[20], i, c;
	struct map_input in = {0};
	struct map m;
	struct errbuf err;

	(void)state;
	for (i = 0; i < 20; i++) {
		snprintf(text[i], sizeof(text[i]), "Question %zu about %s %s number %zu?", i,
			 topics[i % 2][i % 3], topics[i % 2][(i + 1) % 3], i * 7);
		labels[i] = i % 2 ? i % 4 == 1 : 0;
	}
	snprintf(text[19], sizeof(text[19]), "%s", text[17]); /* a near-duplicate */
	text[19][0] = 'q';
	for (i = 0; i < 20; i++)
		q[i] = text[i];
	in.questions = q;
	in.labels = labels;
	in.n = 20;
	in.label_names = names;
	in.nlabels = 2;
	in.clusters = 2;
	in.near = 0.8;
	assert_int_equal(map_build(&in, &m, &err), 0);
	assert_int_equal(m.k, 2);
	for (i = 0; i < 20; i++)
		assert_int_equal(m.points[i].cluster == m.points[0].cluster, i % 2 == 0);
	c = m.points[0].cluster;
	assert_true(m.clusters[c].shortcut);
	assert_int_equal(m.clusters[c].shortcut_label, 0);
	assert_false(m.clusters[1 - c].shortcut);
	assert_true(m.points[19].near_dup);
	assert_int_equal(m.points[19].near_of, 17);
	assert_true(m.points[19].has_nearest);
	assert_int_equal(m.points[19].nearest, 17);
	map_release(&m);

	in.n = 1;
	assert_int_equal(map_build(&in, &m, &err), -1);
	map_release(&m);
}

/* With an embedder's vectors, they decide the groups, nearest pairs and
 * near-duplicates (cosine, source embedding), not the questions' words:
 * here the words say nothing (all questions alike) and the vectors put
 * even and odd pairs on two axes. */
static void test_build_vectors(void **state)
{
	static const char *const names[] = {"Yes", "No"};
	const char *q[8];
	size_t labels[8], i;
	double v[8 * 3];
	struct map_input in = {0};
	struct map m;
	struct errbuf err;

	(void)state;
	for (i = 0; i < 8; i++) {
		double t = 0.05 * (double)i, n;

		q[i] = "Is it so?";
		labels[i] = i % 2;
		v[i * 3] = i % 2 ? t : 1;
		v[i * 3 + 1] = i % 2 ? 1 : t;
		v[i * 3 + 2] = 0;
		n = sqrt(v[i * 3] * v[i * 3] + v[i * 3 + 1] * v[i * 3 + 1]);
		v[i * 3] /= n;
		v[i * 3 + 1] /= n;
	}
	/* pair 7 is pair 5 exactly; pair 3 is pair 1 */
	memcpy(v + 7 * 3, v + 5 * 3, 3 * sizeof(double));
	memcpy(v + 3 * 3, v + 1 * 3, 3 * sizeof(double));
	in.questions = q;
	in.labels = labels;
	in.n = 8;
	in.label_names = names;
	in.nlabels = 2;
	in.clusters = 2;
	in.near = 0.999;
	in.vectors = v;
	in.dim = 3;
	assert_int_equal(map_build(&in, &m, &err), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(m.points[i].cluster == m.points[0].cluster, i % 2 == 0);
	/* ties go to the earliest: pair 7 equals pairs 5 and 3 is pair 1 */
	assert_true(m.points[7].near_dup);
	assert_int_equal(m.points[7].near_of, 5);
	assert_string_equal(m.points[7].near_source, "embedding");
	assert_true(fabs(m.points[7].near_score - 1) < 1e-12);
	assert_true(m.points[3].near_dup);
	assert_int_equal(m.points[3].near_of, 1);
	assert_false(m.points[5].near_dup);
	assert_false(m.points[2].near_dup);	      /* words alike, vectors not */
	assert_int_equal(m.points[2].nearest % 2, 0); /* its own axis */
	assert_int_equal(m.points[1].nearest, 3);
	map_release(&m);

	/* the same questions without vectors: every one a lexical duplicate */
	in.vectors = NULL;
	assert_int_equal(map_build(&in, &m, &err), 0);
	assert_true(m.points[2].near_dup);
	assert_string_equal(m.points[2].near_source, "lexical");
	map_release(&m);
}

static void test_escaping(void **state)
{
	static const char *const hostile =
	    "</script><script>alert(1)</script> & \"x\" 'y' <!-- \xe2\x80\xa8 \xff";
	static const char *const q[] = {hostile, "a calm question about paris"};
	static const char *const names[] = {"<b>Yes</b>", "No"};
	size_t labels[] = {0, 1};
	struct map_input in = {0};
	struct map m;
	struct errbuf err;
	struct strbuf sb = STRBUF_INIT;
	const char *data;

	(void)state;
	map_add_json(&sb, "<a>&\"\\\xe2\x80\xa8\xe2\x80\xa9\n\xff");
	assert_string_equal(sb.data,
			    "\"\\u003ca\\u003e\\u0026\\\"\\\\\\u2028\\u2029\\u000a\xef\xbf\xbd\"");
	strbuf_reset(&sb);
	map_add_xml(&sb, "<a href='x'>&\"\x01\xff");
	assert_string_equal(sb.data,
			    "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\xef\xbf\xbd\xef\xbf\xbd");
	strbuf_reset(&sb);

	in.questions = q;
	in.labels = labels;
	in.n = 2;
	in.label_names = names;
	in.nlabels = 2;
	in.near = 0.8;
	assert_int_equal(map_build(&in, &m, &err), 0);
	map_write_html(&m, &in, &sb);
	/* the page's own three script tags (data, code) and nothing else */
	data = strstr(sb.data, "<script type=\"application/json\" id=\"map-data\">");
	assert_non_null(data);
	assert_null(strstr(sb.data, "<script>alert"));
	assert_null(strstr(sb.data, "<b>"));
	assert_null(strstr(sb.data, "<!--"));
	assert_null(strstr(sb.data, "\xe2\x80\xa8"));
	assert_null(strstr(sb.data, "\xff"));
	assert_non_null(strstr(data, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
	assert_non_null(strstr(sb.data, "&lt;/script&gt;&lt;script&gt;alert(1)"));
	strbuf_reset(&sb);
	map_write_svg(&m, &in, &sb);
	assert_null(strstr(sb.data, "<script"));
	assert_non_null(strstr(sb.data, "&lt;b&gt;Yes&lt;/b&gt;"));
	strbuf_reset(&sb);
	map_write_csv(&m, &in, &sb);
	assert_non_null(strstr(sb.data, "\"</script><script>alert(1)</script> & \"\"x\"\""));
	assert_null(strstr(sb.data, "\xff"));
	strbuf_release(&sb);
	map_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pca_line),	  cmocka_unit_test(test_pca_gram),
	    cmocka_unit_test(test_kmeans_blobs),  cmocka_unit_test(test_default_clusters),
	    cmocka_unit_test(test_cluster_names), cmocka_unit_test(test_shortcut),
	    cmocka_unit_test(test_build),	  cmocka_unit_test(test_build_vectors),
	    cmocka_unit_test(test_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

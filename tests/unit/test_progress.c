#include "testutil.h"

#include "weft/progress.h"

/* The line progress_rate_eta appends, checked and released. */
static void expect(size_t done, size_t left, double elapsed, const char *unit,
		   enum progress_per per, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "> ");
	progress_rate_eta(done, left, elapsed, unit, per, &sb);
	assert_string_equal(sb.data, want);
	strbuf_release(&sb);
}

static void test_rates(void **state)
{
	(void)state;
	/* 3 steps in 90 s: 2 a minute, 7 left take 3.5 minutes */
	expect(3, 7, 90, "steps", PROGRESS_PER_MINUTE, "> 2.0 steps/min, ETA 3m30s");
	/* 50 requests in 4 s: 12.5 a second, 150 left take 12 s */
	expect(50, 150, 4, "requests", PROGRESS_PER_SECOND, "> 12.5 requests/s, ETA 12s");
	expect(1, 3, 0.5, "requests", PROGRESS_PER_SECOND, "> 2.0 requests/s, ETA 2s");
	expect(10, 0, 30, "steps", PROGRESS_PER_MINUTE, "> 20.0 steps/min, ETA 0s");
}

static void test_durations(void **state)
{
	(void)state;
	expect(1, 59, 1, "x", PROGRESS_PER_SECOND, "> 1.0 x/s, ETA 59s");
	expect(1, 60, 1, "x", PROGRESS_PER_SECOND, "> 1.0 x/s, ETA 1m00s");
	expect(1, 3599, 1, "x", PROGRESS_PER_SECOND, "> 1.0 x/s, ETA 59m59s");
	expect(1, 3600, 1, "x", PROGRESS_PER_SECOND, "> 1.0 x/s, ETA 1h00m");
	expect(1, 7679, 1, "x", PROGRESS_PER_SECOND, "> 1.0 x/s, ETA 2h07m");
	expect(2, 1, 1, "x", PROGRESS_PER_SECOND, "> 2.0 x/s, ETA 1s"); /* 0.5 s rounds up */
}

static void test_nothing_measured_yet(void **state)
{
	(void)state;
	expect(0, 10, 5, "steps", PROGRESS_PER_MINUTE, "> -- steps/min, ETA --");
	expect(4, 10, 0, "requests", PROGRESS_PER_SECOND, "> -- requests/s, ETA --");
	expect(0, 0, 0, "steps", PROGRESS_PER_MINUTE, "> -- steps/min, ETA 0s");
}

/* The line of several sessions: counts, then this run's rate and ETA. */
static void test_sessions_line(void **state)
{
	struct progress_sessions p;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	progress_sessions_init(&p);
	p.sessions = 16;
	p.steps_total = 160;
	p.in_flight = 16;
	progress_sessions_format(&p, &sb);
	assert_string_equal(sb.data, "sessions 0/16 done  steps 0/160  16 in flight  -- steps/min, "
				     "ETA --");
	strbuf_truncate(&sb, 0);
	/* 40 steps this run in 2 minutes: 20 a minute; 100 left of 160 */
	p.done = 3;
	p.failed = 1;
	p.steps = 60;
	p.taken = 40;
	p.elapsed = 120;
	progress_sessions_format(&p, &sb);
	assert_string_equal(sb.data, "sessions 3/16 done (1 failed)  steps 60/160  16 in flight  "
				     "20.0 steps/min, ETA 5m00s");
	strbuf_truncate(&sb, 0);
	p.waiting = 2;
	progress_sessions_format(&p, &sb);
	assert_string_equal(sb.data, "sessions 3/16 done (2 waiting, 1 failed)  steps 60/160  16 "
				     "in flight  20.0 steps/min, ETA 5m00s");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rates),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_nothing_measured_yet),
	    cmocka_unit_test(test_sessions_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

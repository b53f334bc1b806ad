#include "testutil.h"

#include <float.h>
#include <limits.h>

#include "weft/num.h"

static void test_long(void **state)
{
	long v = -7;

	(void)state;
	assert_int_equal(num_parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(num_parse_long("-3", -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(num_parse_long("+8", 0, 10, &v), 0);
	assert_int_equal(v, 8);
	/* every refusal leaves v alone */
	v = 99;
	assert_int_equal(num_parse_long("", 0, 100, &v), -1);
	assert_int_equal(num_parse_long(" 4", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("4 ", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("4x", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("0x10", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("3.5", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("101", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("-1", 0, 100, &v), -1);
	assert_int_equal(num_parse_long("99999999999999999999999", 0, LONG_MAX, &v), -1);
	assert_int_equal(v, 99);
	assert_int_equal(num_parse_long("100", 0, 100, &v), 0);
	assert_int_equal(v, 100);
}

static void test_double(void **state)
{
	double d = -1;

	(void)state;
	assert_int_equal(num_parse_double("0.5", 0, 1, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(num_parse_double("1e-3", 0, 1, &d), 0);
	assert_true(d == 1e-3);
	assert_int_equal(num_parse_double("2", 0, 2, &d), 0);
	assert_true(d == 2);
	d = 7;
	assert_int_equal(num_parse_double("", 0, 2, &d), -1);
	assert_int_equal(num_parse_double(" 1", 0, 2, &d), -1);
	assert_int_equal(num_parse_double("1 ", 0, 2, &d), -1);
	assert_int_equal(num_parse_double("2.0001", 0, 2, &d), -1);
	assert_int_equal(num_parse_double("-0.1", 0, 2, &d), -1);
	assert_int_equal(num_parse_double("nan", -DBL_MAX, DBL_MAX, &d), -1);
	assert_int_equal(num_parse_double("inf", -DBL_MAX, DBL_MAX, &d), -1);
	assert_int_equal(num_parse_double("1e999", -DBL_MAX, DBL_MAX, &d), -1);
	assert_int_equal(num_parse_double("1,5", 0, 2, &d), -1);
	assert_true(d == 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_long),
	    cmocka_unit_test(test_double),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

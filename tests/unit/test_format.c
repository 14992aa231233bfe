/*
 * Unit tests for src/core/format.c (counts and waits as pages write them) and
 * for the formula rule of src/core/csvout.c (what an export neutralises).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/buf.h"
#include "core/csvout.h"
#include "core/format.h"

static void
test_counts(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(format_count(0, out, sizeof out), "0");
	assert_string_equal(format_count(999, out, sizeof out), "999");
	assert_string_equal(format_count(1000, out, sizeof out), "1,000");
	assert_string_equal(format_count(55040, out, sizeof out), "55,040");
	assert_string_equal(format_count(1234567, out, sizeof out), "1,234,567");
	assert_string_equal(format_count(-1200, out, sizeof out), "-1,200");
	assert_string_equal(format_count_noun(1, 0, "company", "companies", out, sizeof out),
			    "1 company");
	assert_string_equal(format_count_noun(55040, 0, "company", "companies", out, sizeof out),
			    "55,040 companies");
	assert_string_equal(format_count_noun(10000, 1, "company", "companies", out, sizeof out),
			    "10,000+ companies");
	/* a short buffer is cut, never overrun */
	assert_string_equal(format_count(1234567, out, 4), "1,2");
}

static void
test_waits(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(format_wait(899, out, sizeof out), "15 minutes");
	assert_string_equal(format_wait(900, out, sizeof out), "15 minutes");
	assert_string_equal(format_wait(61, out, sizeof out), "2 minutes");
	assert_string_equal(format_wait(60, out, sizeof out), "1 minute");
	assert_string_equal(format_wait(59, out, sizeof out), "59 seconds");
	assert_string_equal(format_wait(1, out, sizeof out), "1 second");
	assert_string_equal(format_wait(0, out, sizeof out), "1 second");
	assert_string_equal(format_wait(5400, out, sizeof out), "90 minutes");
	assert_string_equal(format_wait(7200, out, sizeof out), "2 hours");
}

static void
test_csv_formulas(void **state)
{
	buf b = BUF_INIT;

	(void)state;
	/* formulas and anything with letters after = + - @ */
	assert_true(csvout_risky("=1+2"));
	assert_true(csvout_risky("=HYPERLINK(\"http://evil.example\")"));
	assert_true(csvout_risky("@SUM(1)"));
	assert_true(csvout_risky("+cmd|' /C calc'!A0"));
	assert_true(csvout_risky("-2+3*cmd|' /C calc'!A0"));
	assert_true(csvout_risky("\tx"));
	assert_true(csvout_risky("-"));
	/* plain numbers and phone numbers stay as they are */
	assert_false(csvout_risky("+1 555 0100"));
	assert_false(csvout_risky("+44 (0)20 7946-0000"));
	assert_false(csvout_risky("-3"));
	assert_false(csvout_risky("+1.5"));
	assert_false(csvout_risky("Acme"));
	assert_false(csvout_risky(NULL));
	csvout_cell(&b, "+1 555 0100", 1);
	csvout_cell(&b, "=1+2", 0);
	assert_string_equal(b.data, "\"+1 555 0100\",\"'=1+2\"");
	buf_reset(&b);
	csvout_bom(&b);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "\xEF\xBB\xBF", 3);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_waits),
	    cmocka_unit_test(test_csv_formulas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

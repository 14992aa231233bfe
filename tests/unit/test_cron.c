/*
 * Unit tests for src/core/cron.c.
 *
 * Parsing is checked against the bitsets it should produce and the messages
 * it should give; cron_next against dates worked out by hand (month ends,
 * Feb 29 and the 2100 non-leap year, Sunday spelled 0 and 7, Vixie's
 * day-of-month OR day-of-week rule) and against a slow but obviously right
 * search that looks at every minute of every matching day.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/cron.h"

/* Masks of a whole field. */
#define ALL_MINUTES ((1ULL << 60) - 1)
#define ALL_HOURS ((1U << 24) - 1)
#define ALL_DOM 0xFFFFFFFEU
#define ALL_MONTHS 0x1FFEU
#define ALL_DOW 0xFFU

static time_t utc(int y, int mon, int d, int h, int min);
static void parse_ok(const char *expr, struct cron *c);
static void assert_same_cron(const struct cron *a, const struct cron *b);
static void assert_next(const char *expr, time_t after, time_t want);
static int slow_day_matches(const struct cron *c, const struct tm *tm);
static time_t slow_next(const struct cron *c, time_t after, int max_days);

static time_t
utc(int y, int mon, int d, int h, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	return timegm(&tm);
}

static void
parse_ok(const char *expr, struct cron *c)
{
	char err[256] = "";

	if (cron_parse(expr, c, err, sizeof err) != 0)
		fail_msg("'%s' did not parse: %s", expr, err);
}

static void
assert_same_cron(const struct cron *a, const struct cron *b)
{
	assert_true(a->minute == b->minute);
	assert_int_equal(a->hour, b->hour);
	assert_int_equal(a->dom, b->dom);
	assert_int_equal(a->month, b->month);
	assert_int_equal(a->dow, b->dow);
	assert_int_equal(a->dom_star, b->dom_star);
	assert_int_equal(a->dow_star, b->dow_star);
}

static void
assert_next(const char *expr, time_t after, time_t want)
{
	struct cron c;
	time_t got;

	parse_ok(expr, &c);
	got = cron_next(&c, after);
	if (got != want) {
		char g[32] = "-1", w[32] = "-1", a[32];
		struct tm tm;

		if (got != (time_t)-1)
			strftime(g, sizeof g, "%Y-%m-%d %H:%M:%S %a", gmtime_r(&got, &tm));
		if (want != (time_t)-1)
			strftime(w, sizeof w, "%Y-%m-%d %H:%M:%S %a", gmtime_r(&want, &tm));
		strftime(a, sizeof a, "%Y-%m-%d %H:%M:%S %a", gmtime_r(&after, &tm));
		fail_msg("'%s' after %s: got %s, want %s", expr, a, g, w);
	}
}

/* ---------------------------------------------------------------- parsing */

static void
test_parse_star_and_step(void **state)
{
	struct cron c;

	(void)state;
	parse_ok("*/15 * * * *", &c);
	assert_true(c.minute == (1ULL << 0 | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	assert_int_equal(c.hour, ALL_HOURS);
	assert_int_equal(c.dom, ALL_DOM);
	assert_int_equal(c.month, ALL_MONTHS);
	assert_int_equal(c.dow, ALL_DOW);
	assert_int_equal(c.dom_star, 1);
	assert_int_equal(c.dow_star, 1);

	parse_ok("* * * * *", &c);
	assert_true(c.minute == ALL_MINUTES);
}

static void
test_parse_lists_ranges_names(void **state)
{
	struct cron c;

	(void)state;
	parse_ok("0 9-17/2 1,15 jan,Mar-MAY mon-fri", &c);
	assert_true(c.minute == 1);
	assert_int_equal(c.hour, 1U << 9 | 1U << 11 | 1U << 13 | 1U << 15 | 1U << 17);
	assert_int_equal(c.dom, 1U << 1 | 1U << 15);
	assert_int_equal(c.month, 1U << 1 | 1U << 3 | 1U << 4 | 1U << 5);
	assert_int_equal(c.dow, 0x3E);
	assert_int_equal(c.dom_star, 0);
	assert_int_equal(c.dow_star, 0);

	parse_ok("5,10-12,30-40/5 0 31 12 6", &c);
	assert_true(c.minute == (1ULL << 5 | 1ULL << 10 | 1ULL << 11 | 1ULL << 12 | 1ULL << 30 |
				 1ULL << 35 | 1ULL << 40));
	assert_int_equal(c.hour, 1);
	assert_int_equal(c.dom, 1U << 31);
	assert_int_equal(c.month, 1U << 12);
	assert_int_equal(c.dow, 1U << 6);

	/* Blanks of any kind and number separate fields; leading and trailing ones are fine. */
	parse_ok("  0\t0   * *  *  \n", &c);
	assert_true(c.minute == 1);
	assert_int_equal(c.hour, 1);

	/* A weekday range may wrap to Sunday: fri-sun is Friday, Saturday, Sunday. */
	parse_ok("0 0 * * fri-sun", &c);
	assert_int_equal(c.dow, 1U << 0 | 1U << 5 | 1U << 6 | 1U << 7);
}

static void
test_parse_sunday_0_and_7(void **state)
{
	struct cron zero, seven, name;

	(void)state;
	parse_ok("0 0 * * 0", &zero);
	parse_ok("0 0 * * 7", &seven);
	parse_ok("0 0 * * SUN", &name);
	assert_int_equal(zero.dow, 0x81);
	assert_same_cron(&zero, &seven);
	assert_same_cron(&zero, &name);
	parse_ok("0 0 * * 1-7", &seven);
	assert_int_equal(seven.dow, ALL_DOW);
}

static void
test_parse_shortcuts(void **state)
{
	static const char *const pairs[][2] = {
	    {"@hourly", "0 * * * *"},	{"@daily", "0 0 * * *"},      {"@midnight", "0 0 * * *"},
	    {"@weekly", "0 0 * * 0"},	{"@monthly", "0 0 1 * *"},    {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"}, {" @WEEKLY \n", "0 0 * * 0"},
	};
	struct cron a, b;

	(void)state;
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		parse_ok(pairs[i][0], &a);
		parse_ok(pairs[i][1], &b);
		assert_same_cron(&a, &b);
	}
}

static void
test_parse_errors(void **state)
{
	static const char *const cases[][2] = {
	    {"", "empty expression"},
	    {"   ", "empty expression"},
	    {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
	    {"* * * * * *",
	     "expected 5 fields (minute hour day-of-month month day-of-week), found 6"},
	    {"60 * * * *", "minute: 60 is out of range 0-59"},
	    {"* 24 * * *", "hour: 24 is out of range 0-23"},
	    {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
	    {"* * 32 * *", "day-of-month: 32 is out of range 1-31"},
	    {"* * * 0 *", "month: 0 is out of range 1-12"},
	    {"* * * 13 *", "month: 13 is out of range 1-12"},
	    {"* * * * 8", "day-of-week: 8 is out of range 0-7"},
	    {"99999999999999999999 * * * *", "minute: 99999999999999999999 is out of range 0-59"},
	    {"*/0 * * * *", "minute: step 0 is out of range 1-59"},
	    {"* */24 * * *", "hour: step 24 is out of range 1-23"},
	    {"*/a * * * *", "minute: step 'a' is not a number"},
	    {"*/ * * * *", "minute: step '' is not a number"},
	    {"5/15 * * * *", "minute: a step needs * or a range before it (as in 5-59/n)"},
	    {"* * * * 1/2", "day-of-week: a step needs * or a range before it (as in 1-7/n)"},
	    {"10-5 * * * *", "minute: range 10-5 runs backwards"},
	    {"* * * dec-jan *", "month: range dec-jan runs backwards"},
	    {"1,,2 * * * *", "minute: empty item in list '1,,2'"},
	    {"1, * * * *", "minute: empty item in list '1,'"},
	    {"-5 * * * *", "minute: missing number"},
	    {"* * * * mon-", "day-of-week: missing number"},
	    {"x * * * *", "minute: 'x' is not a number"},
	    {"* * jan * *", "day-of-month: 'jan' is not a number"},
	    {"* * * foo *", "month: unknown name 'foo' (use jan..dec or a number)"},
	    {"* * * january *", "month: unknown name 'january' (use jan..dec or a number)"},
	    {"* * * * mon-fry", "day-of-week: unknown name 'fry' (use sun..sat or a number)"},
	    {"* * * * sun,1.5", "day-of-week: '1.5' is not a number"},
	    {"0 0 30 feb *", "day-of-month: 30 never occurs in the chosen month"},
	    {"0 0 31 apr,jun,sep,nov *", "day-of-month: 31 never occurs in the chosen months"},
	    {"@reboot", "unknown shortcut '@reboot'"},
	    {"@", "unknown shortcut '@'"},
	    {"@daily 5", "nothing may follow @daily"},
	};
	struct cron c, before;
	char err[256];

	(void)state;
	parse_ok("1 2 3 4 5", &before);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = before;
		strcpy(err, "unchanged");
		if (cron_parse(cases[i][0], &c, err, sizeof err) != -1)
			fail_msg("'%s' parsed but should not", cases[i][0]);
		if (strcmp(err, cases[i][1]))
			fail_msg("'%s': got \"%s\", want \"%s\"", cases[i][0], err, cases[i][1]);
		/* A failed parse leaves the output alone. */
		assert_same_cron(&c, &before);
	}
	assert_int_equal(cron_parse(NULL, &c, err, sizeof err), -1);
	assert_string_equal(err, "empty expression");
	/* err may be left out. */
	assert_int_equal(cron_parse("61 * * * *", &c, NULL, 0), -1);
	/* Feb 29 is a real day, if not every year. */
	parse_ok("0 0 29 2 *", &c);
	/* With a weekday restricted too, the weekday alone can match (see the OR rule). */
	parse_ok("0 0 30 2 mon", &c);
}

/* ---------------------------------------------------------------- next run */

static void
test_next_is_strictly_after(void **state)
{
	time_t t = utc(2024, 5, 6, 10, 20);

	(void)state;
	assert_next("* * * * *", t, t + 60);
	assert_next("* * * * *", t + 1, t + 60);
	assert_next("* * * * *", t + 59, t + 60);
	assert_next("* * * * *", t - 1, t);
	assert_next("20 10 * * *", t, utc(2024, 5, 7, 10, 20));
	assert_next("5 * * * *", utc(2024, 5, 6, 10, 6), utc(2024, 5, 6, 11, 5));
	assert_next("5 * * * *", utc(2024, 5, 6, 23, 6), utc(2024, 5, 7, 0, 5));
	assert_next("*/20 9-10 * * *", utc(2024, 5, 6, 10, 40), utc(2024, 5, 7, 9, 0));
	assert_next("0 */6 * * *", utc(2024, 5, 6, 12, 0), utc(2024, 5, 6, 18, 0));
}

static void
test_next_month_and_year_ends(void **state)
{
	(void)state;
	assert_next("0 0 1 * *", utc(2023, 1, 31, 12, 0), utc(2023, 2, 1, 0, 0));
	/* April has no 31st: the next one is in May. */
	assert_next("0 0 31 * *", utc(2023, 4, 1, 0, 0), utc(2023, 5, 31, 0, 0));
	assert_next("0 0 31 * *", utc(2023, 1, 31, 0, 0), utc(2023, 3, 31, 0, 0));
	assert_next("0 0 30 * *", utc(2023, 1, 30, 0, 0), utc(2023, 3, 30, 0, 0));
	assert_next("0 0 1 1 *", utc(2023, 12, 31, 23, 59), utc(2024, 1, 1, 0, 0));
	assert_next("59 23 31 12 *", utc(2023, 12, 31, 23, 59), utc(2024, 12, 31, 23, 59));
	assert_next("0 12 * dec *", utc(2023, 12, 31, 12, 0), utc(2024, 12, 1, 12, 0));
	assert_next("0 0 1 jan,jul *", utc(2024, 1, 1, 0, 0), utc(2024, 7, 1, 0, 0));
}

static void
test_next_leap_years(void **state)
{
	(void)state;
	assert_next("30 12 29 2 *", utc(2023, 3, 1, 0, 0), utc(2024, 2, 29, 12, 30));
	assert_next("30 12 29 2 *", utc(2024, 2, 29, 12, 30), utc(2028, 2, 29, 12, 30));
	/* 2100 is not a leap year (divisible by 100, not by 400); 2000 was. */
	assert_next("30 12 29 2 *", utc(2096, 3, 1, 0, 0), utc(2104, 2, 29, 12, 30));
	assert_next("0 0 29 2 *", utc(1999, 1, 1, 0, 0), utc(2000, 2, 29, 0, 0));
	/* The last day of February in a leap year is the 29th, then March. */
	assert_next("0 0 * * *", utc(2024, 2, 28, 0, 0), utc(2024, 2, 29, 0, 0));
	assert_next("0 0 * * *", utc(2024, 2, 29, 0, 0), utc(2024, 3, 1, 0, 0));
	assert_next("0 0 * * *", utc(2023, 2, 28, 0, 0), utc(2023, 3, 1, 0, 0));
	/* Feb 29 that is also a Sunday: the weekday field starts with '*', so both must match. */
	assert_next("0 0 29 2 */7", utc(2024, 3, 1, 0, 0), utc(2032, 2, 29, 0, 0));
}

static void
test_next_sunday_0_and_7(void **state)
{
	time_t wed = utc(2024, 1, 3, 9, 0), sun = utc(2024, 1, 7, 12, 0);

	(void)state;
	assert_next("0 12 * * 0", wed, sun);
	assert_next("0 12 * * 7", wed, sun);
	assert_next("0 12 * * sun", wed, sun);
	assert_next("0 12 * * 6-7", wed, utc(2024, 1, 6, 12, 0));
	assert_next("0 12 * * 7", sun, utc(2024, 1, 14, 12, 0));
}

static void
test_next_dom_dow_or_rule(void **state)
{
	(void)state;
	/* Both restricted: the 13th or any Friday. 2024-01-05 and -12 are Fridays, the 13th a
	 * Saturday. */
	assert_next("0 0 13 * fri", utc(2024, 1, 1, 0, 0), utc(2024, 1, 5, 0, 0));
	assert_next("0 0 13 * fri", utc(2024, 1, 5, 0, 0), utc(2024, 1, 12, 0, 0));
	assert_next("0 0 13 * fri", utc(2024, 1, 12, 0, 0), utc(2024, 1, 13, 0, 0));
	assert_next("0 0 13 * fri", utc(2024, 1, 13, 0, 0), utc(2024, 1, 19, 0, 0));
	/* Day of month unrestricted: only the weekday counts (2024-01-01 is a Monday). */
	assert_next("0 0 * * mon", utc(2024, 1, 1, 0, 0), utc(2024, 1, 8, 0, 0));
	/* Weekday unrestricted: only the day of month counts. */
	assert_next("0 0 13 * *", utc(2024, 1, 1, 0, 0), utc(2024, 1, 13, 0, 0));
	/*
	 * Vixie looks at the spelling: a star with a step counts as unrestricted, so the rule
	 * is AND: a 13th on Sun/Tue/Thu/Sat. Jan 13 (Sat) is past; Feb 13 is a Tuesday.
	 */
	assert_next("0 0 13 * */2", utc(2024, 1, 14, 0, 0), utc(2024, 2, 13, 0, 0));
	/* With Feb 30 restricted by weekday too, the Mondays of February still match. */
	assert_next("0 0 30 2 mon", utc(2024, 1, 1, 0, 0), utc(2024, 2, 5, 0, 0));
}

static void
test_next_weekly(void **state)
{
	time_t sat = utc(2024, 3, 2, 10, 0), sun = utc(2024, 3, 3, 0, 0);

	(void)state;
	assert_next("@weekly", sat, sun);
	assert_next("@weekly", sun, utc(2024, 3, 10, 0, 0));
	assert_next("@weekly", sun - 1, sun);
	/* The default dedup schedule: Sundays at 03:00. */
	assert_next("0 3 * * 0", sun, utc(2024, 3, 3, 3, 0));
	assert_next("0 3 * * 0", utc(2024, 3, 3, 3, 0), utc(2024, 3, 10, 3, 0));
	assert_next("@monthly", sat, utc(2024, 4, 1, 0, 0));
	assert_next("@yearly", sat, utc(2025, 1, 1, 0, 0));
	assert_next("@hourly", sat, utc(2024, 3, 2, 11, 0));
	assert_next("@daily", sat, utc(2024, 3, 3, 0, 0));
}

static void
test_next_before_epoch(void **state)
{
	(void)state;
	/* 1970-01-01 was a Thursday; times before it must round down, not toward zero. */
	assert_next("0 0 1 1 *", -1, 0);
	assert_next("* * * * *", -61, -60);
	assert_next("* * * * *", -60, 0);
	assert_next("0 0 * * thu", utc(1969, 12, 30, 0, 0), 0);
	assert_next("0 0 * * wed", utc(1969, 12, 30, 0, 0), utc(1969, 12, 31, 0, 0));
}

/* A day that can never come gives -1 after one 400-year cycle, not an endless loop. */
static void
test_next_never(void **state)
{
	struct cron c;

	(void)state;
	memset(&c, 0, sizeof c);
	c.minute = 1;
	c.hour = 1;
	c.dom = 1U << 30;
	c.month = 1U << 2;
	c.dow = ALL_DOW;
	c.dom_star = 0;
	c.dow_star = 1;
	assert_int_equal(cron_next(&c, utc(2024, 1, 1, 0, 0)), -1);

	memset(&c, 0, sizeof c);
	assert_int_equal(cron_next(&c, 0), -1);
}

/*
 * The slow search: each day from the start, and within matching days each
 * minute, with the C library's own calendar. Obviously right, too slow to ship.
 */
static int
slow_day_matches(const struct cron *c, const struct tm *tm)
{
	int dom = c->dom >> tm->tm_mday & 1, dow = c->dow >> tm->tm_wday & 1;

	if (!(c->month >> (tm->tm_mon + 1) & 1))
		return 0;
	return (c->dom_star || c->dow_star) ? dom && dow : dom || dow;
}

static time_t
slow_next(const struct cron *c, time_t after, int max_days)
{
	time_t t = after - (after % 60 + 60) % 60 + 60, end = after + (time_t)max_days * 86400;
	struct tm tm;

	while (t <= end) {
		gmtime_r(&t, &tm);
		if (!slow_day_matches(c, &tm)) {
			t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
			continue;
		}
		if ((c->hour >> tm.tm_hour & 1) && (c->minute >> tm.tm_min & 1))
			return t;
		t += 60;
	}
	return (time_t)-1;
}

static void
test_next_matches_slow_search(void **state)
{
	static const char *const exprs[] = {
	    "*/7 3-5 * * *", "0 0 13 * 5",	 "30 2 1,15 * 1-5",   "0 */6 * * sun",
	    "15 10 * 2 *",   "0 0 29,30,31 * *", "*/20 23 28-31 * *", "@monthly",
	    "59 23 * * 6,0", "0 0 29 2 *",	 "1-5 0 1 * mon",     "45 11 * jan-mar,oct */3",
	};
	const time_t starts[] = {
	    utc(2023, 12, 31, 23, 59) + 30, utc(2024, 2, 28, 23, 59),
	    utc(2024, 2, 29, 10, 0),	    utc(2024, 12, 31, 23, 0),
	    utc(2025, 2, 28, 23, 59),	    utc(2023, 6, 15, 12, 34) + 56,
	    utc(2099, 12, 31, 23, 59),	    utc(1969, 12, 31, 23, 59),
	};
	struct cron c;

	(void)state;
	for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
		parse_ok(exprs[i], &c);
		for (size_t j = 0; j < sizeof starts / sizeof starts[0]; j++) {
			time_t after = starts[j];

			/* Follow each schedule for a few runs, not just the first. */
			for (int k = 0; k < 5; k++) {
				time_t want = slow_next(&c, after, 9 * 366);

				assert_true(want != (time_t)-1);
				assert_next(exprs[i], after, want);
				after = want;
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_star_and_step),
	    cmocka_unit_test(test_parse_lists_ranges_names),
	    cmocka_unit_test(test_parse_sunday_0_and_7),
	    cmocka_unit_test(test_parse_shortcuts),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_next_is_strictly_after),
	    cmocka_unit_test(test_next_month_and_year_ends),
	    cmocka_unit_test(test_next_leap_years),
	    cmocka_unit_test(test_next_sunday_0_and_7),
	    cmocka_unit_test(test_next_dom_dow_or_rule),
	    cmocka_unit_test(test_next_weekly),
	    cmocka_unit_test(test_next_before_epoch),
	    cmocka_unit_test(test_next_never),
	    cmocka_unit_test(test_next_matches_slow_search),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

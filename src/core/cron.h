/*
 * cron — standard 5-field cron expressions, as in crontab(5).
 *
 * Used for the schedule of the duplicate-detection job (dedup_schedule in the
 * config and on /admin/dedup). An expression is parsed once into bitsets and
 * then asked for the next run time; all times are UTC.
 *
 *   minute hour day-of-month month day-of-week
 *
 * Each field is `*`, a number, a range `a-b`, `*` or a range followed by /n
 * (every n-th value of it), or a comma-separated list of those. Months may be
 * written jan..dec and weekdays sun..sat (any case); day-of-week 0 and 7 are
 * both Sunday. The shortcuts @hourly, @daily (= @midnight), @weekly, @monthly
 * and @yearly (= @annually) stand for their usual expressions.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week are
 * restricted (the field does not start with `*`), a day matches if either
 * does; otherwise both must.
 */
#ifndef SPANNER_CRON_H
#define SPANNER_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t minute;  /* bit m set: minute m (0-59) */
	uint32_t hour;	  /* bit h: hour h (0-23) */
	uint32_t dom;	  /* bit d: day of month d (1-31); bit 0 unused */
	uint16_t month;	  /* bit m: month m (1-12); bit 0 unused */
	uint8_t dow;	  /* bit d: weekday d (0-7, 0 = 7 = Sunday; both bits always agree) */
	uint8_t dom_star; /* day-of-month field started with '*' (unrestricted, Vixie rule) */
	uint8_t dow_star; /* day-of-week field started with '*' */
};

/*
 * Parses expr into *out. Returns 0, or -1 with err holding the reason, e.g.
 * "hour: 25 is out of range 0-23" or "expected 5 fields, found 4". *out is
 * only written on success. err may be NULL.
 */
int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen);

/*
 * The first matching minute strictly after `after` (UTC), as a time_t with
 * zero seconds; (time_t)-1 if the expression never matches (e.g. Feb 30
 * restricted by weekday too, checked over a whole 400-year calendar cycle).
 */
time_t cron_next(const struct cron *c, time_t after);

#endif

/*
 * cron — parse 5-field cron expressions into bitsets; find the next run.
 *
 * The idea: every field becomes a set of allowed values, one bit each, so a
 * time matches when each of its parts is in its set. Parsing is a small
 * recursive descent per field: list -> item -> (`*` | value | range) [/step].
 *
 * cron_next walks forward through the calendar in the biggest step that can
 * be ruled out at once: a whole month when the month is not allowed, a whole
 * day when the day is not, then to the next allowed hour and minute found
 * with a bit scan. So even a yearly schedule costs a few dozen steps, never a
 * minute-by-minute search. The walk keeps its own year/month/day/weekday
 * counters (started from gmtime_r) rather than calling the C library for
 * every candidate day, and works in UTC only, so no daylight-saving gaps or
 * repeated hours exist to be handled.
 */
#include "cron.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One of the five fields: its name for messages, its range, its names if any. */
struct field_spec {
	const char *name;
	int lo, hi;
	const char *const *names; /* three-letter names, NULL if none */
	int nnames;
	int name_base; /* value of names[0] */
};

/* Where cron_next is in the calendar; days counts from 1970-01-01. */
struct walk {
	long long days;
	int year, month, mday, wday, hour, min;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int parse_fields(const char *expr, struct cron *out, char *err, size_t errlen);
static int parse_field(const char *s, size_t len, const struct field_spec *f, uint64_t *bits,
		       char *err, size_t errlen);
static int parse_item(const char *s, size_t len, const struct field_spec *f, uint64_t *bits,
		      char *err, size_t errlen);
static int parse_value(const char *s, size_t len, const struct field_spec *f, int *out, char *err,
		       size_t errlen);
static int parse_shortcut(const char *expr, struct cron *out, char *err, size_t errlen);
static int days_possible(const struct cron *c);
static int is_leap(int year);
static int days_in_month(int year, int month);
static long long floor_div(long long a, long long b);
static int next_bit(uint64_t set, int from);
static int day_matches(const struct cron *c, int mday, int wday);
static void walk_next_day(struct walk *w);
static void walk_next_month(struct walk *w);

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

static const struct field_spec fields[F_COUNT] = {
    [F_MINUTE] = {"minute", 0, 59, NULL, 0, 0},
    [F_HOUR] = {"hour", 0, 23, NULL, 0, 0},
    [F_DOM] = {"day-of-month", 1, 31, NULL, 0, 0},
    [F_MONTH] = {"month", 1, 12, month_names, 12, 1},
    [F_DOW] = {"day-of-week", 0, 7, dow_names, 7, 0},
};

/* Longest piece of user input quoted back in a message; keeps messages one line. */
#define QUOTE_MAX 20

/* A full 400-year Gregorian cycle: if nothing matches in it, nothing ever will. */
#define CYCLE_DAYS 146097LL

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
cron_parse(const char *expr, struct cron *out, char *err, size_t errlen)
{
	struct cron c;

	if (!expr) {
		set_err(err, errlen, "empty expression");
		return -1;
	}
	while (isspace((unsigned char)*expr))
		expr++;
	if (*expr == '@')
		return parse_shortcut(expr, out, err, errlen);
	if (parse_fields(expr, &c, err, errlen) < 0)
		return -1;
	*out = c;
	return 0;
}

/* The shortcuts are spelled out as ordinary expressions and parsed as such. */
static int
parse_shortcut(const char *expr, struct cron *out, char *err, size_t errlen)
{
	static const struct {
		const char *name, *expr;
	} shortcuts[] = {
	    {"@hourly", "0 * * * *"},	{"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
	    {"@weekly", "0 0 * * 0"},	{"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"},
	};
	size_t len = strcspn(expr, " \t\r\n\v\f");
	const char *rest = expr + len;

	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest) {
		set_err(err, errlen, "nothing may follow %.*s", (int)len, expr);
		return -1;
	}
	for (size_t i = 0; i < sizeof shortcuts / sizeof shortcuts[0]; i++) {
		if (strlen(shortcuts[i].name) == len && !strncasecmp(expr, shortcuts[i].name, len))
			return cron_parse(shortcuts[i].expr, out, err, errlen);
	}
	set_err(err, errlen, "unknown shortcut '%.*s'", len > QUOTE_MAX ? QUOTE_MAX : (int)len,
		expr);
	return -1;
}

static int
parse_fields(const char *expr, struct cron *out, char *err, size_t errlen)
{
	const char *start[F_COUNT];
	size_t len[F_COUNT];
	uint64_t bits[F_COUNT];
	int n = 0;
	const char *p = expr;

	/* Split on whitespace first so a wrong field count is reported as such. */
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, " \t\r\n\v\f");
		if (n < F_COUNT) {
			start[n] = p;
			len[n] = l;
		}
		n++;
		p += l;
	}
	if (n == 0) {
		set_err(err, errlen, "empty expression");
		return -1;
	}
	if (n != F_COUNT) {
		set_err(err, errlen,
			"expected 5 fields (minute hour day-of-month month day-of-week), "
			"found %d",
			n);
		return -1;
	}
	for (int i = 0; i < F_COUNT; i++) {
		bits[i] = 0;
		if (parse_field(start[i], len[i], &fields[i], &bits[i], err, errlen) < 0)
			return -1;
	}

	memset(out, 0, sizeof *out);
	out->minute = bits[F_MINUTE];
	out->hour = (uint32_t)bits[F_HOUR];
	out->dom = (uint32_t)bits[F_DOM];
	out->month = (uint16_t)bits[F_MONTH];
	/* 0 and 7 are the same Sunday: keep both bits equal so either spelling compares equal. */
	if (bits[F_DOW] & 0x81u)
		bits[F_DOW] |= 0x81u;
	out->dow = (uint8_t)bits[F_DOW];
	/* Vixie's rule looks at the spelling, not the set: a star with a step is unrestricted too.
	 */
	out->dom_star = start[F_DOM][0] == '*';
	out->dow_star = start[F_DOW][0] == '*';

	if (!days_possible(out)) {
		set_err(err, errlen, "day-of-month: %.*s never occurs in the chosen month%s",
			len[F_DOM] > QUOTE_MAX ? QUOTE_MAX : (int)len[F_DOM], start[F_DOM],
			__builtin_popcount(out->month) > 1 ? "s" : "");
		return -1;
	}
	return 0;
}

/*
 * When the weekday does not widen the choice (its field starts with '*'), a
 * day must be one of the listed days of the month; "30 feb" would then make
 * cron_next search forever, so it is refused here. Feb counts 29 days.
 */
static int
days_possible(const struct cron *c)
{
	if (!c->dow_star)
		return 1;
	for (int m = 1; m <= 12; m++) {
		if (!(c->month >> m & 1))
			continue;
		uint64_t days = ((1ULL << (days_in_month(2000, m) + 1)) - 1) & ~1ULL;
		if (c->dom & days)
			return 1;
	}
	return 0;
}

static int
parse_field(const char *s, size_t len, const struct field_spec *f, uint64_t *bits, char *err,
	    size_t errlen)
{
	size_t i = 0;

	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		if (j == i) {
			set_err(err, errlen, "%s: empty item in list '%.*s'", f->name,
				len > QUOTE_MAX ? QUOTE_MAX : (int)len, s);
			return -1;
		}
		if (parse_item(s + i, j - i, f, bits, err, errlen) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static int
parse_item(const char *s, size_t len, const struct field_spec *f, uint64_t *bits, char *err,
	   size_t errlen)
{
	const char *slash = memchr(s, '/', len);
	size_t base_len = slash ? (size_t)(slash - s) : len;
	int lo, hi, step = 1;

	if (base_len == 1 && s[0] == '*') {
		lo = f->lo;
		hi = f->hi;
	} else {
		const char *dash = memchr(s, '-', base_len);
		if (dash) {
			if (parse_value(s, (size_t)(dash - s), f, &lo, err, errlen) < 0 ||
			    parse_value(dash + 1, base_len - (size_t)(dash - s) - 1, f, &hi, err,
					errlen) < 0)
				return -1;
			/* "fri-sun" means Friday to Sunday, so a range may end on Sunday as 0. */
			if (f->names == dow_names && hi == 0 && lo > 0)
				hi = 7;
			if (lo > hi) {
				set_err(err, errlen, "%s: range %.*s runs backwards", f->name,
					base_len > QUOTE_MAX ? QUOTE_MAX : (int)base_len, s);
				return -1;
			}
		} else {
			if (parse_value(s, base_len, f, &lo, err, errlen) < 0)
				return -1;
			hi = lo;
			if (slash) {
				set_err(err, errlen,
					"%s: a step needs * or a range before it (as in %d-%d/n)",
					f->name, lo, f->hi);
				return -1;
			}
		}
	}

	if (slash) {
		const char *p = slash + 1;
		size_t plen = len - base_len - 1;
		int n = 0;

		if (plen == 0 || plen > 3 || strspn(p, "0123456789") < plen) {
			set_err(err, errlen, "%s: step '%.*s' is not a number", f->name,
				plen > QUOTE_MAX ? QUOTE_MAX : (int)plen, p);
			return -1;
		}
		for (size_t i = 0; i < plen; i++)
			n = n * 10 + (p[i] - '0');
		if (n < 1 || n > f->hi) {
			set_err(err, errlen, "%s: step %d is out of range 1-%d", f->name, n, f->hi);
			return -1;
		}
		step = n;
	}

	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

/* A number in the field's range, or (month, weekday) a three-letter name. */
static int
parse_value(const char *s, size_t len, const struct field_spec *f, int *out, char *err,
	    size_t errlen)
{
	int q = len > QUOTE_MAX ? QUOTE_MAX : (int)len;

	if (len == 0) {
		set_err(err, errlen, "%s: missing number", f->name);
		return -1;
	}
	if (strspn(s, "0123456789") >= len) {
		long v = 0;
		/* Cap the value while accumulating: a long digit string must not overflow. */
		for (size_t i = 0; i < len; i++)
			v = v > 1000 ? v : v * 10 + (s[i] - '0');
		if (v < f->lo || v > f->hi) {
			set_err(err, errlen, "%s: %.*s is out of range %d-%d", f->name, q, s, f->lo,
				f->hi);
			return -1;
		}
		*out = (int)v;
		return 0;
	}
	if (f->names && len == 3) {
		for (int i = 0; i < f->nnames; i++) {
			if (!strncasecmp(s, f->names[i], 3)) {
				*out = f->name_base + i;
				return 0;
			}
		}
	}
	if (f->names && isalpha((unsigned char)s[0]))
		set_err(err, errlen, "%s: unknown name '%.*s' (use %s..%s or a number)", f->name, q,
			s, f->names[0], f->names[f->nnames - 1]);
	else
		set_err(err, errlen, "%s: '%.*s' is not a number", f->name, q, s);
	return -1;
}

static int
is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

static long long
floor_div(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The lowest set bit at or above from, or -1. */
static int
next_bit(uint64_t set, int from)
{
	if (from >= 64)
		return -1;
	set >>= from;
	return set ? from + __builtin_ctzll(set) : -1;
}

static int
day_matches(const struct cron *c, int mday, int wday)
{
	int dom_ok = c->dom >> mday & 1;
	int dow_ok = c->dow >> wday & 1;

	if (c->dom_star || c->dow_star)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok;
}

static void
walk_next_day(struct walk *w)
{
	w->days++;
	w->wday = (w->wday + 1) % 7;
	if (++w->mday > days_in_month(w->year, w->month)) {
		w->mday = 1;
		if (++w->month > 12) {
			w->month = 1;
			w->year++;
		}
	}
	w->hour = 0;
	w->min = 0;
}

static void
walk_next_month(struct walk *w)
{
	int skip = days_in_month(w->year, w->month) - w->mday + 1;

	w->days += skip;
	w->wday = (w->wday + skip) % 7;
	w->mday = 1;
	if (++w->month > 12) {
		w->month = 1;
		w->year++;
	}
	w->hour = 0;
	w->min = 0;
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct walk w;
	struct tm tm;
	long long start, limit;
	time_t t;

	if (!c->minute || !c->hour || !c->dom || !c->month || !c->dow)
		return (time_t)-1;
	if ((long long)after > LLONG_MAX - 120)
		return (time_t)-1;
	start = (floor_div((long long)after, 60) + 1) * 60;
	t = (time_t)start;
	if (!gmtime_r(&t, &tm))
		return (time_t)-1;
	w.days = floor_div(start, 86400);
	w.year = tm.tm_year + 1900;
	w.month = tm.tm_mon + 1;
	w.mday = tm.tm_mday;
	w.wday = tm.tm_wday;
	w.hour = tm.tm_hour;
	w.min = tm.tm_min;
	limit = w.days + CYCLE_DAYS + 1;

	while (w.days <= limit) {
		int h, m;

		if (!(c->month >> w.month & 1)) {
			walk_next_month(&w);
			continue;
		}
		if (!day_matches(c, w.mday, w.wday)) {
			walk_next_day(&w);
			continue;
		}
		h = next_bit(c->hour, w.hour);
		if (h < 0) {
			walk_next_day(&w);
			continue;
		}
		if (h != w.hour) {
			w.hour = h;
			w.min = 0;
		}
		m = next_bit(c->minute, w.min);
		if (m < 0) {
			if (++w.hour == 24)
				walk_next_day(&w);
			else
				w.min = 0;
			continue;
		}
		return (time_t)(w.days * 86400 + w.hour * 3600 + m * 60);
	}
	return (time_t)-1;
}

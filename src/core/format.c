/*
 * format — counts with thousands separators and waits in words.
 *
 * Pages show counts and waits to people who compare them across screens, so
 * each has exactly one writer here. No locale: the product is in English and
 * setlocale would change every printf in the process.
 */
#include "format.h"

#include <stdio.h>
#include <string.h>

const char *
format_count(long long n, char *out, size_t outlen)
{
	char digits[32];
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
	size_t len, i, o = 0;

	if (outlen == 0)
		return out;
	len = (size_t)snprintf(digits, sizeof digits, "%llu", u);
	if (n < 0 && o + 1 < outlen)
		out[o++] = '-';
	for (i = 0; i < len && o + 1 < outlen; i++) {
		if (i > 0 && (len - i) % 3 == 0) {
			out[o++] = ',';
			if (o + 1 >= outlen)
				break;
		}
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

const char *
format_count_noun(long long n, int capped, const char *one, const char *many, char *out,
		  size_t outlen)
{
	char num[32];

	format_count(n, num, sizeof num);
	snprintf(out, outlen, "%s%s %s", num, capped ? "+" : "", n == 1 && !capped ? one : many);
	return out;
}

const char *
format_wait(long long seconds, char *out, size_t outlen)
{
	static const struct {
		long long size;
		const char *one, *many;
	} units[] = {{3600, "hour", "hours"}, {60, "minute", "minutes"}, {1, "second", "seconds"}};
	size_t i;

	if (seconds < 1)
		seconds = 1;
	/* Seconds under a minute, minutes under two hours ("90 minutes"), then hours. */
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		long long limit = units[i].size == 3600 ? 7200 : units[i].size == 60 ? 60 : 0;

		if (seconds >= limit) {
			long long n = (seconds + units[i].size - 1) / units[i].size;
			char num[32];

			snprintf(out, outlen, "%s %s", format_count(n, num, sizeof num),
				 n == 1 ? units[i].one : units[i].many);
			return out;
		}
	}
	return out; /* not reached: the last unit's limit is 0 */
}

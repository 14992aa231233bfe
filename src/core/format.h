/*
 * format — numbers and waits the way every page writes them.
 *
 * One place decides that a count reads "55,040" and a wait "15 minutes", so
 * the companies list, the users page and an import's result never disagree.
 */
#ifndef SPANNER_FORMAT_H
#define SPANNER_FORMAT_H

#include <stddef.h>

/* n with thousands separators ("55,040", "-1,200"); returns out. */
const char *format_count(long long n, char *out, size_t outlen);

/*
 * "3 companies", "1 company", "1,000+ companies" (capped: the list counts at
 * most that many rows and says so); returns out.
 */
const char *format_count_noun(long long n, int capped, const char *one, const char *many, char *out,
			      size_t outlen);

/*
 * A wait for people: "1 second", "40 seconds", "1 minute", "15 minutes",
 * "2 hours" — rounded up, so "in 15 minutes" never comes too early; returns out.
 */
const char *format_wait(long long seconds, char *out, size_t outlen);

#endif

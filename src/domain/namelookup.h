/*
 * namelookup — names typed in a CSV file, matched to records regardless of
 * case (segments are unique on lower(name); a contact names its company).
 *
 * The caller adds every candidate once, under a scope ("" or, say,
 * "<segment id>/") and its name as stored, and then looks typed names up as
 * often as it likes. Both sides are lowered by the same C function
 * (normalise_lower), never by a query: the import engine streams COPY data
 * on its connection while rows are being checked, so a look-up must not
 * need the database. Every answer is cached, so a 50,000-row file naming
 * five segments lowers five names.
 */
#ifndef SPANNER_NAMELOOKUP_H
#define SPANNER_NAMELOOKUP_H

#include <stddef.h>

/* A small string → int hash map (open addressing). */
struct namelookup_map {
	char **keys;
	int *vals;
	size_t cap, n;
};

struct namelookup {
	struct namelookup_map by_lower; /* scope + lowered name → value */
	struct namelookup_map cache;	/* scope + the name as typed → value, or -1 */
};

void namelookup_init(struct namelookup *l);
void namelookup_free(struct namelookup *l);
/* Adds a candidate; of two with one lowered name in one scope, the first added wins. */
void namelookup_add(struct namelookup *l, const char *scope, const char *name, int value);
/* The value of name within scope ("" for none), or -1 when there is none. */
int namelookup_find(struct namelookup *l, const char *scope, const char *name);

#endif

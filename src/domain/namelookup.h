/*
 * namelookup — names typed in a CSV file, matched to records the way the
 * database matches them: case-insensitively, as PostgreSQL's lower() sees
 * them (segments are unique on lower(name); a contact names its company).
 *
 * The caller loads every candidate once with its key computed by PostgreSQL
 * (lower(name), optionally behind a scope such as "<segment id>/") and looks
 * typed names up as often as it likes. A typed name is lowered here when it
 * is plain ASCII (where C and PostgreSQL agree), otherwise by PostgreSQL,
 * once per distinct name. Every answer is cached, so a 50,000-row file naming
 * five segments costs five look-ups in memory.
 */
#ifndef SPANNER_NAMELOOKUP_H
#define SPANNER_NAMELOOKUP_H

#include <stddef.h>

#include "core/db.h"

/* A small string → int hash map (open addressing). */
struct namelookup_map {
	char **keys;
	int *vals;
	size_t cap, n;
};

struct namelookup {
	db_conn *db;
	struct namelookup_map by_lower; /* scope + PostgreSQL's lower(name) → value */
	struct namelookup_map cache;	/* scope + the name as typed → value, or -1 */
};

void namelookup_init(struct namelookup *l, db_conn *db);
void namelookup_free(struct namelookup *l);
/* Adds a candidate under its key as PostgreSQL computed it (scope included). */
void namelookup_add(struct namelookup *l, const char *key, int value);
/*
 * The value of name within scope ("" for none): the candidate whose key is
 * scope + lower(name); -1 when there is none, -2 on a database error.
 */
int namelookup_find(struct namelookup *l, const char *scope, const char *name);

#endif

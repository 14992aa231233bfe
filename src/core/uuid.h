/*
 * uuid — recognising the ids that appear in URLs and forms.
 *
 * Every id in Spanner is a PostgreSQL uuid. Checking the shape before a query
 * turns "/companies/nonsense" into a clean 404 instead of a database error.
 */
#ifndef SPANNER_UUID_H
#define SPANNER_UUID_H

/* 1 for the canonical 8-4-4-4-12 hex form (either case). */
int uuid_valid(const char *s);

#endif

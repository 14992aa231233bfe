/*
 * migrate — applies migrations/NNNN_name.sql in order at start.
 *
 * Each file runs whole inside one transaction together with the row that
 * records it in schema_migrations, so a failed migration leaves nothing
 * behind and is tried again at the next start. A session advisory lock makes
 * two servers starting at once take turns instead of racing.
 */
#ifndef SPANNER_MIGRATE_H
#define SPANNER_MIGRATE_H

#include "db.h"

/* Returns the number of migrations applied now (0 when up to date), or -1. */
int migrate_run(db_conn *c, const char *dir);

#endif

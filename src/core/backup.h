/*
 * backup — a consistent copy of the database, and its return into a fresh one.
 *
 * PostgreSQL's own tools do the work: pg_dump reads everything inside one
 * repeatable-read snapshot, so the copy is consistent while Spanner keeps
 * serving; pg_restore loads it in one transaction, so a restore that fails
 * leaves the fresh database empty rather than half-filled. A restore refuses
 * a database that already holds tables: it never mixes two pipelines.
 */
#ifndef SPANNER_BACKUP_H
#define SPANNER_BACKUP_H

#include <stddef.h>

#include "config.h"

/* Writes a pg_dump custom-format archive of conninfo's database to path. 0 or -1 (logged). */
int backup_dump(const struct config *cfg, const char *conninfo, const char *path);

/*
 * Restores the archive at path into conninfo's database, which must hold no
 * table yet (a fresh cluster or an empty database). 0, -1 (logged), or 1
 * when the database is not empty (nothing was changed).
 */
int backup_restore(const struct config *cfg, const char *conninfo, const char *path);

#endif

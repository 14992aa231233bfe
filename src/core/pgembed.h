/*
 * pgembed — the private PostgreSQL cluster under var/.
 *
 * With no `database` setting, Spanner runs its own cluster: initdb on first
 * start, pg_ctl start when it is not running, a Unix socket inside the
 * project and no TCP listener at all. PostgreSQL refuses to run as root, so
 * when we are root the cluster is created and run as the `postgres` user.
 * The cluster outlives the server process (a restart of Spanner should not
 * restart the database); `spanner --stop-db` stops it.
 */
#ifndef SPANNER_PGEMBED_H
#define SPANNER_PGEMBED_H

#include "config.h"

/* Ensures the cluster exists and runs, and the database exists. Returns a conninfo (free it). */
char *pgembed_start(const struct config *cfg);
int pgembed_stop(const struct config *cfg);
/* Stops the embedded cluster and deletes its data: the tests' throw-away database. */
int pgembed_drop(const struct config *cfg);
/* Where PostgreSQL's program tool (pg_dump, pg_restore …) is: pg_bindir or the search. 0 or -1. */
int pgembed_tool(const struct config *cfg, const char *tool, char *out, size_t len);
/* 1 when the cluster under var_dir was created by this call (a new database). */
int pgembed_created(void);

#endif

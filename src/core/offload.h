/*
 * offload — run blocking work where it cannot stall the event loop.
 *
 * Argon2, storing an upload, anything that would hold a Kore worker's loop
 * for more than about a millisecond, goes through offload_run. On a request's
 * fiber it runs in a Kore task thread while the request sleeps (the runner is
 * installed by http.c in each worker); anywhere else — task threads, jobs,
 * tools, tests — it simply runs inline, because blocking there is fine.
 */
#ifndef SPANNER_OFFLOAD_H
#define SPANNER_OFFLOAD_H

#include "db.h"

typedef void (*offload_fn)(void *arg);
typedef int (*offload_runner)(offload_fn fn, void *arg);

/* Runs fn(arg) to completion. 0, or -1 when it could not be started (fn did not run). */
int offload_run(offload_fn fn, void *arg);

/*
 * Runs fn(c, arg) with a blocking database connection of the task thread's
 * own (kept for the thread's next task). fn's return value, or -1 (with
 * nothing run) when no connection could be had.
 */
int offload_db(int (*fn)(db_conn *c, void *arg), void *arg);

/* Installed by the HTTP layer in each worker; NULL runs inline. */
void offload_set_runner(offload_runner runner);

#endif

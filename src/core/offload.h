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

/* offload_run_gated's answer when the gate's queue is full. */
#define OFFLOAD_BUSY (-2)

struct offload_waiter;

/*
 * Bounds one kind of work per process: at most `limit` run at once, at most
 * `queue_max` wait (in arrival order) for a turn; the rest are refused, so a
 * burst costs bounded memory and CPU instead of an ever longer queue. Only
 * requests' fibers (one event-loop thread) ever touch a gate: no lock.
 */
struct offload_gate {
	const char *name;
	int limit;
	int queue_max;
	int running;
	int waiting;
	struct offload_waiter *head;
	struct offload_waiter *tail;
};

/* What the HTTP layer provides so work can wait on a request's fiber. */
struct offload_ops {
	/* Runs fn(arg) in a task thread while the calling fiber sleeps. */
	int (*run)(offload_fn fn, void *arg);
	/* The calling request fiber, or NULL when not on one (tools, jobs, tests). */
	void *(*self)(void);
	/* The calling fiber sleeps until woken: 0, or -1 when its request is gone. */
	int (*park)(void);
	void (*wake)(void *who);
	/* The calling fiber sleeps ms milliseconds: 0, or -1 when its request is gone. */
	int (*sleep)(unsigned ms);
};

/* Runs fn(arg) to completion. 0, or -1 when it could not be started (fn did not run). */
int offload_run(offload_fn fn, void *arg);

/*
 * Runs fn(c, arg) with a blocking database connection of the task thread's
 * own (kept for the thread's next task). fn's return value, or -1 (with
 * nothing run) when no connection could be had.
 */
int offload_db(int (*fn)(db_conn *c, void *arg), void *arg);

/*
 * Takes a turn at g: at once when fewer than limit hold one, else waits in
 * line (the fiber sleeps). 0 when the turn is taken (give it back with
 * offload_gate_leave); OFFLOAD_BUSY when may_refuse and the queue is full;
 * -1 when the request went away while it waited. Off a request's fiber
 * (tools, jobs, tests) there is no gate: 0 at once.
 */
int offload_gate_enter(struct offload_gate *g, int may_refuse);
void offload_gate_leave(struct offload_gate *g);

/*
 * offload_run behind a gate: waits for a turn when `limit` already run.
 * OFFLOAD_BUSY (fn not run) when may_refuse and the queue is full; -1 when
 * the request went away while it waited. Inline, ungated, off a request.
 */
int offload_run_gated(struct offload_gate *g, int may_refuse, offload_fn fn, void *arg);

/* Waits ms milliseconds without holding the event loop (nanosleep off a request). */
int offload_sleep(unsigned ms);

/* Installed by the HTTP layer in each worker; NULL runs everything inline. */
void offload_set_ops(const struct offload_ops *ops);

#endif

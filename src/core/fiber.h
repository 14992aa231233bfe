/*
 * fiber — a request's own stack, so handlers can wait without blocking Kore.
 *
 * Kore runs every request of a worker on one event loop: a handler that waits
 * for PostgreSQL or a task must return KORE_RESULT_RETRY and be called again
 * when the answer is there. Written by hand, every handler would become a
 * state machine. Instead each request runs on a fiber (a small stack of its
 * own, switched with ucontext): where the handler would wait, the fiber
 * yields back to Kore's loop, and Kore's wake-up resumes it exactly there. So
 * the async state machine is written once, here and in db_kore.c/task.c, and
 * a handler still reads top to bottom: parse → statements → render.
 *
 * Only the worker's event-loop thread uses fibers; task threads never do.
 */
#ifndef SPANNER_FIBER_H
#define SPANNER_FIBER_H

struct fiber;

typedef void (*fiber_fn)(void *arg);

/* A new fiber that will run fn(arg) on its first resume. NULL when out of memory. */
struct fiber *fiber_new(fiber_fn fn, void *arg);
/*
 * Runs f until it yields or returns. 1 when fn has returned (the fiber is
 * finished and may be freed), 0 when it yielded.
 */
int fiber_resume(struct fiber *f);
/* From inside a fiber: back to whoever resumed it. */
void fiber_yield(void);
/* The running fiber, or NULL on the loop's own stack (and in task threads and tests). */
struct fiber *fiber_current(void);
/* Frees a finished (or never started) fiber; its stack is kept for reuse. */
void fiber_free(struct fiber *f);

#endif

/*
 * offload — see offload.h. The inline fallback, gates, and the per-thread
 * blocking connection for database work done off the event loop.
 *
 * A gate hands its turn on: when a run ends and someone waits, the turn
 * passes straight to the oldest waiter (running is not decremented), so a
 * request arriving meanwhile cannot overtake the queue.
 */
#include "offload.h"

#include <errno.h>
#include <stddef.h>
#include <libpq-fe.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

struct offload_waiter {
	void *who;
	int turn; /* set by the run that handed its turn over */
	struct offload_waiter *next;
};

struct offload_db_call {
	int (*fn)(db_conn *c, void *arg);
	void *arg;
	int rc;
};

static const struct offload_ops *ops;
/* Each task thread keeps one connection: connecting per task would cost more than most tasks. */
static __thread db_conn *thread_conn;

static void offload_db_trampoline(void *arg);
static void offload_unqueue(struct offload_gate *g, struct offload_waiter *w);
static void offload_pass_turn(struct offload_gate *g);

void
offload_set_ops(const struct offload_ops *o)
{
	ops = o;
}

int
offload_run(offload_fn fn, void *arg)
{
	if (ops)
		return ops->run(fn, arg);
	fn(arg);
	return 0;
}

static void
offload_unqueue(struct offload_gate *g, struct offload_waiter *w)
{
	struct offload_waiter **pp, *prev = NULL;

	for (pp = &g->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			if (g->tail == w)
				g->tail = prev;
			g->waiting--;
			metrics_gate_waiting(g->name, -1);
			return;
		}
	}
}

/* The turn of a run that ended: to the oldest waiter, or back to the gate. */
static void
offload_pass_turn(struct offload_gate *g)
{
	struct offload_waiter *w = g->head;

	if (!w) {
		g->running--;
		metrics_gate_running(g->name, -1);
		return;
	}
	offload_unqueue(g, w);
	w->turn = 1;
	ops->wake(w->who);
}

int
offload_gate_enter(struct offload_gate *g, int may_refuse)
{
	struct offload_waiter w = {NULL, 0, NULL};

	if (!ops || !(w.who = ops->self()))
		return 0;
	if (g->running < g->limit && !g->head) {
		g->running++;
		metrics_gate_running(g->name, 1);
		return 0;
	}
	if (may_refuse && g->waiting >= g->queue_max) {
		metrics_gate_refused(g->name);
		return OFFLOAD_BUSY;
	}
	if (g->tail)
		g->tail->next = &w;
	else
		g->head = &w;
	g->tail = &w;
	g->waiting++;
	metrics_gate_waiting(g->name, 1);
	while (!w.turn) {
		if (ops->park() != 0 && !w.turn) {
			offload_unqueue(g, &w);
			return -1;
		}
	}
	return 0;
}

void
offload_gate_leave(struct offload_gate *g)
{
	if (ops && ops->self())
		offload_pass_turn(g);
}

int
offload_run_gated(struct offload_gate *g, int may_refuse, offload_fn fn, void *arg)
{
	int rc = offload_gate_enter(g, may_refuse);

	if (rc != 0)
		return rc;
	rc = offload_run(fn, arg);
	offload_gate_leave(g);
	return rc;
}

int
offload_sleep(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (ops && ops->self())
		return ops->sleep(ms);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}

static void
offload_db_trampoline(void *arg)
{
	struct offload_db_call *call = arg;

	if (thread_conn && PQstatus(db_pg(thread_conn)) != CONNECTION_OK) {
		db_close(thread_conn);
		thread_conn = NULL;
	}
	if (!thread_conn && db_conninfo())
		thread_conn = db_connect(db_conninfo());
	if (!thread_conn) {
		call->rc = -1;
		return;
	}
	call->rc = call->fn(thread_conn, call->arg);
	/* Never hand the next task a transaction this one left open. */
	if (PQtransactionStatus(db_pg(thread_conn)) != PQTRANS_IDLE)
		db_rollback(thread_conn);
}

int
offload_db(int (*fn)(db_conn *c, void *arg), void *arg)
{
	struct offload_db_call call = {fn, arg, -1};

	if (offload_run(offload_db_trampoline, &call) != 0)
		return -1;
	return call.rc;
}

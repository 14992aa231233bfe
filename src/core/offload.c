/*
 * offload — see offload.h. The inline fallback and the per-thread blocking
 * connection for database work done off the event loop.
 */
#include "offload.h"

#include <stddef.h>
#include <libpq-fe.h>

#include "log.h"

struct offload_db_call {
	int (*fn)(db_conn *c, void *arg);
	void *arg;
	int rc;
};

static offload_runner runner;
/* Each task thread keeps one connection: connecting per task would cost more than most tasks. */
static __thread db_conn *thread_conn;

static void offload_db_trampoline(void *arg);

void
offload_set_runner(offload_runner r)
{
	runner = r;
}

int
offload_run(offload_fn fn, void *arg)
{
	if (runner)
		return runner(fn, arg);
	fn(arg);
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

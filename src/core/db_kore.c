/*
 * db_kore — a request's database connection on Kore's async pgsql layer.
 *
 * The driver behind db.c for connections a request borrows from Kore's pool
 * (pgsql_conn_max per worker, the database registered as "db" by the
 * parent). A statement is sent with libpq's PQsend*, the connection's socket
 * is handed to Kore's event loop, and the request's fiber yields; Kore's
 * pgsql event handler reads the answer and wakes the request, which resumes
 * the fiber here. The connection stays with the request until it ends, so a
 * transaction spans several statements as it would on a blocking connection.
 *
 * Why not kore_pgsql_query and kore_pgsql_continue alone: Kore hands the
 * connection back to its pool as soon as a statement is DONE, which would cut
 * every transaction in two; and it has no prepared statements. So this file
 * sends and drains results itself and only borrows Kore's pool, queue and
 * event handler.
 *
 * A connection that broke (PostgreSQL restarted) is destroyed through Kore's
 * own error path, never returned to the pool: the request that met it answers
 * 503 and the next one connects afresh.
 */
#include "db_kore.h"

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fiber.h"
#include "log.h"

#define DBK_NAME "db"
/* Prepared-statement records kept per worker: more than pgsql_conn_max ever holds. */
#define DBK_RECORDS 64

struct dbk {
	struct kore_pgsql kpg;
	struct http_request *req;
	int bound;
	int aborted;
};

/* What this worker has prepared on each of its connections. */
struct dbk_record {
	PGconn *pg;
	int pid; /* backend pid: a freed PGconn's address may come back for a new connection */
	struct db_prepared prep;
};

static struct dbk_record records[DBK_RECORDS];
static int in_use;
/* A connection broke (PostgreSQL restarted): the next new one is worth a log line. */
static int lost;

static PGconn *dbk_conn(db_conn *c, struct db_prepared **prep);
static PGresult *dbk_wait(db_conn *c, PGconn *pg);
static struct db_prepared *dbk_record(PGconn *pg);
static void dbk_destroy_conn(struct dbk *k);
static void dbk_sleep(struct dbk *k);
static int dbk_release(db_conn *c);

static const struct db_driver dbk_driver = {dbk_conn, dbk_wait, dbk_release};

int
db_kore_register(const char *conninfo)
{
	return kore_pgsql_register(DBK_NAME, conninfo) == KORE_RESULT_OK ? 0 : -1;
}

db_conn *
db_kore_open(struct http_request *req)
{
	struct dbk *k = xcalloc(1, sizeof *k);

	k->req = req;
	kore_pgsql_init(&k->kpg);
	return db_driver_conn(&dbk_driver, k);
}

void
db_kore_abort(db_conn *c)
{
	struct dbk *k;

	if (!c)
		return;
	k = db_driver_ctx(c);
	if (k->aborted)
		return;
	k->aborted = 1;
	k->req = NULL;
	/*
	 * Let go of the connection now, while Kore's request still exists: Kore
	 * would otherwise hand it back to its pool itself, even in the middle of
	 * a transaction or a statement, and the next request would run inside
	 * what this one left open. Only an idle connection goes back.
	 */
	if (k->kpg.conn) {
		PGconn *pg = k->kpg.conn->db;

		if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE)
			dbk_destroy_conn(k);
		else
			in_use--;
	}
	if (k->bound)
		kore_pgsql_cleanup(&k->kpg);
}

void
db_kore_close(db_conn *c)
{
	struct dbk *k;

	if (!c)
		return;
	k = db_driver_ctx(c);
	if (k->kpg.conn) {
		PGconn *pg = k->kpg.conn->db;
		PGTransactionStatusType ts = PQtransactionStatus(pg);

		/*
		 * A handler that bailed out mid-transaction must not leak it to the
		 * next request: roll back while the fiber can still wait for it, and
		 * when it cannot (the client went away mid-statement), close the
		 * connection rather than return it to the pool half-way.
		 */
		if (PQstatus(pg) == CONNECTION_OK &&
		    (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR))
			db_rollback(c);
		if (k->kpg.conn) {
			pg = k->kpg.conn->db;
			if (PQstatus(pg) != CONNECTION_OK ||
			    PQtransactionStatus(pg) != PQTRANS_IDLE)
				dbk_destroy_conn(k);
			else
				in_use--;
		}
	}
	if (k->bound)
		kore_pgsql_cleanup(&k->kpg);
	free(k);
	db_close(c);
}

int
db_kore_in_use(void)
{
	return in_use;
}

static struct db_prepared *
dbk_record(PGconn *pg)
{
	int pid = PQbackendPID(pg), i, free_slot = -1;

	for (i = 0; i < DBK_RECORDS; i++) {
		if (records[i].pg == pg && records[i].pid == pid)
			return &records[i].prep;
		if (free_slot < 0 && !records[i].pg)
			free_slot = i;
	}
	/*
	 * A connection seen for the first time. JIT compilation pays off for long
	 * analytical queries, never for ours (a 3 ms page took 200 ms with it):
	 * off, once per connection, blocking like Kore's own connect just before.
	 */
	PQclear(PQexec(pg, "SET jit = off"));
	if (lost) {
		log_info("database: connection re-established");
		lost = 0;
	}
	if (free_slot < 0) {
		/* Full of dead connections' records: start over (statements re-prepare). */
		for (i = 0; i < DBK_RECORDS; i++) {
			free(records[i].prep.ids);
			memset(&records[i], 0, sizeof records[i]);
		}
		free_slot = 0;
	}
	records[free_slot].pg = pg;
	records[free_slot].pid = pid;
	return &records[free_slot].prep;
}

static void
dbk_destroy_conn(struct dbk *k)
{
	int i;

	for (i = 0; i < DBK_RECORDS; i++) {
		if (records[i].pg == k->kpg.conn->db) {
			free(records[i].prep.ids);
			memset(&records[i], 0, sizeof records[i]);
		}
	}
	if (!lost) {
		const char *why = PQerrorMessage(k->kpg.conn->db);

		log_warn("database: connection lost (%.*s); requests answer 503 until it is back",
			 (int)strcspn(why, "\n"), why);
	}
	lost = 1;
	/* Kore's error path: takes it out of the pool, frees it, wakes the request. */
	kore_pgsql_handle(k->kpg.conn, 1);
	k->kpg.flags &= ~KORE_PGSQL_SCHEDULED;
	in_use--;
	if (k->kpg.error) {
		kore_free(k->kpg.error);
		k->kpg.error = NULL;
	}
}

/*
 * An idle connection back to Kore's pool (which wakes a request queued for
 * one); the kore_pgsql is made new so the next statement can bind and borrow
 * again. Inside a transaction nothing happens: it must keep its connection.
 */
static int
dbk_release(db_conn *c)
{
	struct dbk *k = db_driver_ctx(c);
	PGconn *pg;

	if (!k->kpg.conn || k->aborted)
		return 0;
	pg = k->kpg.conn->db;
	if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE)
		return 0;
	kore_pgsql_cleanup(&k->kpg);
	kore_pgsql_init(&k->kpg);
	k->bound = 0;
	in_use--;
	return 1;
}

static void
dbk_sleep(struct dbk *k)
{
	if (k->req)
		http_request_sleep(k->req);
	fiber_yield();
}

static PGconn *
dbk_conn(db_conn *c, struct db_prepared **prep)
{
	struct dbk *k = db_driver_ctx(c);
	int tries = 0;

	if (k->aborted || !fiber_current()) {
		db_fail_text(c, DB_ERR_UNAVAILABLE, "the request has ended");
		return NULL;
	}
	if (k->kpg.conn) {
		*prep = dbk_record(k->kpg.conn->db);
		return k->kpg.conn->db;
	}
	if (!k->bound) {
		kore_pgsql_bind_request(&k->kpg, k->req);
		k->bound = 1;
	}
	for (;;) {
		if (k->kpg.error) {
			kore_free(k->kpg.error);
			k->kpg.error = NULL;
		}
		if (kore_pgsql_setup(&k->kpg, DBK_NAME, KORE_PGSQL_ASYNC) == KORE_RESULT_OK) {
			in_use++;
			if (PQstatus(k->kpg.conn->db) == CONNECTION_OK)
				break;
			/* Broken while idle in the pool (a server restart): replace it once. */
			dbk_destroy_conn(k);
			if (++tries > 1) {
				db_fail_text(c, DB_ERR_UNAVAILABLE,
					     "the database cannot be reached");
				return NULL;
			}
			continue;
		}
		if (k->kpg.error) {
			db_fail_text(c, DB_ERR_UNAVAILABLE, k->kpg.error);
			kore_free(k->kpg.error);
			k->kpg.error = NULL;
			return NULL;
		}
		/* Every connection is lent out: Kore queued us and wakes us when one is free. */
		fiber_yield();
		if (k->aborted) {
			db_fail_text(c, DB_ERR_UNAVAILABLE, "the request has ended");
			return NULL;
		}
	}
	*prep = dbk_record(k->kpg.conn->db);
	return k->kpg.conn->db;
}

static PGresult *
dbk_wait(db_conn *c, PGconn *pg)
{
	struct dbk *k = db_driver_ctx(c);
	PGresult *last = NULL, *r;

	/* What Kore's own send does: the socket goes to the event loop, the request to sleep. */
	kore_platform_schedule_read(PQsocket(pg), k->kpg.conn);
	k->kpg.state = KORE_PGSQL_STATE_WAIT;
	k->kpg.flags |= KORE_PGSQL_SCHEDULED;
	for (;;) {
		dbk_sleep(k);
		if (k->aborted) {
			/* The cleanup cancels the statement (its state is not DONE). */
			PQclear(last);
			db_fail_text(c, DB_ERR_UNAVAILABLE, "the request has ended");
			return NULL;
		}
		if (!k->kpg.conn) {
			/* Kore saw the socket fail and destroyed the connection. */
			lost = 1;
			in_use--;
			PQclear(last);
			db_fail_text(c, DB_ERR_UNAVAILABLE, "the database connection was lost");
			if (k->kpg.error) {
				kore_free(k->kpg.error);
				k->kpg.error = NULL;
			}
			return NULL;
		}
		if (k->kpg.state == KORE_PGSQL_STATE_WAIT)
			continue;
		/* Kore's handler read one result (or the end, or a failure). */
		r = k->kpg.result;
		k->kpg.result = NULL;
		if (k->kpg.error) {
			kore_free(k->kpg.error);
			k->kpg.error = NULL;
		}
		if (!r && PQstatus(pg) != CONNECTION_OK) {
			PQclear(last);
			db_fail(c, pg, NULL);
			dbk_destroy_conn(k);
			return NULL;
		}
		if (r) {
			PQclear(last);
			last = r;
		}
		/* Drain what is already buffered without waiting; wait again only when busy. */
		for (;;) {
			if (!PQconsumeInput(pg)) {
				PQclear(last);
				db_fail(c, pg, NULL);
				dbk_destroy_conn(k);
				return NULL;
			}
			if (PQisBusy(pg)) {
				k->kpg.state = KORE_PGSQL_STATE_WAIT;
				break;
			}
			r = PQgetResult(pg);
			if (!r) {
				/* Idle again: Kore must not cancel anything when it takes it back.
				 */
				k->kpg.state = KORE_PGSQL_STATE_DONE;
				return last;
			}
			PQclear(last);
			last = r;
		}
	}
}

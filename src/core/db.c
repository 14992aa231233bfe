/*
 * db — PostgreSQL connection pool and prepared statements.
 *
 * The pool is a fixed array of connections guarded by one mutex; a borrower
 * waits on a condition variable when all are out. DESIGN.md explains the small
 * default size: on two cores, two to four busy connections give far better
 * tail latency than eight.
 *
 * Statements are identified by a process-wide small integer assigned on first
 * use, so each connection keeps a byte per statement telling whether it has
 * prepared it. A reset connection (after a server restart) has lost its
 * prepared statements, so the bytes are cleared with it.
 */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"

struct db_conn {
	PGconn *pg; /* blocking: owned; driven: the one the driver lent for the last statement */
	const struct db_driver *drv;
	void *drv_ctx;
	struct db_prepared own_prep;
	struct db_prepared *prep; /* own_prep, or the driver's record for its connection */
	enum db_err err;
	char *errmsg;
	char sqlstate[6];
	char constraint[128];
};

enum db_trip { DB_TRIP_PREPARE, DB_TRIP_PREPARED, DB_TRIP_PARAMS };

static char *conninfo_global;

static atomic_int next_stmt_id;
static pthread_mutex_t stmt_id_lock = PTHREAD_MUTEX_INITIALIZER;

static int db_open(db_conn *c, const char *conninfo);
static int db_stmt_id(db_stmt *st);
static void db_mark_prepared(struct db_prepared *pp, int id);
static int db_prepare(db_conn *c, db_stmt *st);
static void db_clear_error(db_conn *c);
static int db_result_ok(db_conn *c, PGresult *res);
static void db_notice_quiet(void *arg, const char *message);
static void db_session_setup(db_conn *c);
static PGresult *db_roundtrip(db_conn *c, enum db_trip kind, const char *name, const char *sql,
			      int n, const char *const *p);

static void
db_notice_quiet(void *arg, const char *message)
{
	/*
	 * libpq prints NOTICEs (e.g. "relation already exists, skipping") on
	 * stderr by default, which would break the one-line-per-event log.
	 */
	(void)arg;
	(void)message;
}

static int
db_open(db_conn *c, const char *conninfo)
{
	c->pg = PQconnectdb(conninfo);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		c->err = DB_ERR_UNAVAILABLE;
		free(c->errmsg);
		c->errmsg = xstrdup(PQerrorMessage(c->pg));
		return -1;
	}
	PQsetNoticeProcessor(c->pg, db_notice_quiet, NULL);
	db_session_setup(c);
	return 0;
}

/*
 * Per-connection settings. JIT compilation pays off for long analytical
 * queries, never for ours: on small unanalysed tables the planner's cost
 * estimates switched it on and made a 3 ms page take 200 ms.
 */
static void
db_session_setup(db_conn *c)
{
	PQclear(PQexec(c->pg, "SET jit = off"));
}

void
db_set_conninfo(const char *conninfo)
{
	free(conninfo_global);
	conninfo_global = conninfo ? xstrdup(conninfo) : NULL;
}

const char *
db_conninfo(void)
{
	return conninfo_global;
}

db_conn *
db_connect(const char *conninfo)
{
	db_conn *c = xcalloc(1, sizeof *c);

	c->prep = &c->own_prep;
	if (db_open(c, conninfo) != 0) {
		log_error("database: cannot connect: %s", c->errmsg);
		db_close(c);
		return NULL;
	}
	return c;
}

db_conn *
db_driver_conn(const struct db_driver *drv, void *ctx)
{
	db_conn *c = xcalloc(1, sizeof *c);

	c->drv = drv;
	c->drv_ctx = ctx;
	return c;
}

void
db_release(db_conn *c)
{
	if (c && c->drv && c->drv->release) {
		if (c->drv->release(c))
			c->pg = NULL;
	}
}

void *
db_driver_ctx(db_conn *c)
{
	return c->drv_ctx;
}

void
db_close(db_conn *c)
{
	if (!c)
		return;
	if (c->pg && !c->drv)
		PQfinish(c->pg);
	free(c->own_prep.ids);
	free(c->errmsg);
	free(c);
}

PGconn *
db_pg(db_conn *c)
{
	return c->drv ? NULL : c->pg;
}

/*
 * One round trip: a PREPARE, an EXECUTE of a prepared statement, or a
 * statement with parameters. Blocking connections ask libpq to wait; driven
 * ones send and let the driver wait (the request's fiber yields meanwhile).
 */
static PGresult *
db_roundtrip(db_conn *c, enum db_trip kind, const char *name, const char *sql, int n,
	     const char *const *p)
{
	PGconn *pg;
	int ok;

	if (!c->drv) {
		switch (kind) {
		case DB_TRIP_PREPARE:
			return PQprepare(c->pg, name, sql, 0, NULL);
		case DB_TRIP_PREPARED:
			return PQexecPrepared(c->pg, name, n, p, NULL, NULL, 0);
		default:
			return n > 0 ? PQexecParams(c->pg, sql, n, NULL, p, NULL, NULL, 0)
				     : PQexec(c->pg, sql);
		}
	}
	pg = c->drv->conn(c, &c->prep);
	if (!pg)
		return NULL;
	c->pg = pg;
	switch (kind) {
	case DB_TRIP_PREPARE:
		ok = PQsendPrepare(pg, name, sql, 0, NULL);
		break;
	case DB_TRIP_PREPARED:
		ok = PQsendQueryPrepared(pg, name, n, p, NULL, NULL, 0);
		break;
	default:
		ok = PQsendQueryParams(pg, sql, n, NULL, p, NULL, NULL, 0);
		break;
	}
	if (!ok) {
		db_fail(c, pg, NULL);
		return NULL;
	}
	{
		PGresult *res = c->drv->wait(c, pg);

		if (!res)
			c->pg = NULL; /* the driver may have closed it */
		return res;
	}
}

static int
db_stmt_id(db_stmt *st)
{
	int id = __atomic_load_n(&st->id, __ATOMIC_ACQUIRE);

	if (id >= 0)
		return id;
	pthread_mutex_lock(&stmt_id_lock);
	if (st->id < 0)
		__atomic_store_n(&st->id, atomic_fetch_add(&next_stmt_id, 1), __ATOMIC_RELEASE);
	id = st->id;
	pthread_mutex_unlock(&stmt_id_lock);
	return id;
}

static void
db_mark_prepared(struct db_prepared *pp, int id)
{
	if (id >= pp->cap) {
		int cap = pp->cap ? pp->cap : 64;

		while (cap <= id)
			cap *= 2;
		pp->ids = xrealloc(pp->ids, (size_t)cap);
		memset(pp->ids + pp->cap, 0, (size_t)(cap - pp->cap));
		pp->cap = cap;
	}
	pp->ids[id] = 1;
}

static int
db_prepare(db_conn *c, db_stmt *st)
{
	char name[24];
	PGresult *res;
	struct db_prepared *pp;
	int id = db_stmt_id(st);

	/* A driven connection is only known once the driver has lent it. */
	if (c->drv && !c->drv->conn(c, &c->prep))
		return -1;
	pp = c->prep;
	if (id < pp->cap && pp->ids[id])
		return 0;
	snprintf(name, sizeof name, "s%d", id);
	res = db_roundtrip(c, DB_TRIP_PREPARE, name, st->sql, 0, NULL);
	if (!db_result_ok(c, res) && !strcmp(c->sqlstate, "42P05")) {
		/* Prepared already by a record the driver had to forget: fine. */
		db_clear_error(c);
		db_mark_prepared(c->prep, id);
		return 0;
	}
	if (c->err != DB_OK) {
		if (c->err != DB_ERR_UNAVAILABLE)
			log_error("database: cannot prepare statement: %s -- %s", c->errmsg,
				  st->sql);
		return -1;
	}
	PQclear(res);
	/* c->prep, not pp: the driver may have replaced its record meanwhile. */
	db_mark_prepared(c->prep, id);
	return 0;
}

static void
db_clear_error(db_conn *c)
{
	c->err = DB_OK;
	c->sqlstate[0] = '\0';
	c->constraint[0] = '\0';
	free(c->errmsg);
	c->errmsg = NULL;
}

void
db_fail(db_conn *c, PGconn *pg, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	free(c->errmsg);
	c->errmsg = xstrdup(msg ? msg : pg ? PQerrorMessage(pg) : "no database connection");
	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
	snprintf(c->constraint, sizeof c->constraint, "%s", cons ? cons : "");

	if (!pg || PQstatus(pg) != CONNECTION_OK || !strncmp(c->sqlstate, "08", 2) ||
	    !strncmp(c->sqlstate, "57P", 3))
		c->err = DB_ERR_UNAVAILABLE;
	else if (!strncmp(c->sqlstate, "23", 2) || !strncmp(c->sqlstate, "SP", 2))
		c->err = DB_ERR_CONSTRAINT;
	else if (!strcmp(c->sqlstate, "40001") || !strcmp(c->sqlstate, "40P01") ||
		 !strcmp(c->sqlstate, "55P03"))
		c->err = DB_ERR_CONFLICT;
	else
		c->err = DB_ERR_OTHER;
}

void
db_fail_text(db_conn *c, enum db_err err, const char *message)
{
	free(c->errmsg);
	c->errmsg = xstrdup(message);
	c->sqlstate[0] = '\0';
	c->constraint[0] = '\0';
	c->err = err;
}

/* Takes ownership of res: returns 1 (res kept) on success, 0 (res freed) on failure. */
static int
db_result_ok(db_conn *c, PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_COPY_IN)
		return 1;
	if (!res && c->err != DB_OK)
		return 0; /* the driver has said why */
	db_fail(c, c->pg, res);
	PQclear(res);
	return 0;
}

PGresult *
db_exec(db_conn *c, db_stmt *st, int nparams, const char *const *params)
{
	char name[24];
	PGresult *res;

	db_clear_error(c);
	if (db_prepare(c, st) != 0)
		return NULL;
	snprintf(name, sizeof name, "s%d", st->id);
	res = db_roundtrip(c, DB_TRIP_PREPARED, name, NULL, nparams, params);
	if (!db_result_ok(c, res)) {
		if (c->err == DB_ERR_OTHER)
			log_error("database: %s (%s)", c->errmsg, c->sqlstate);
		return NULL;
	}
	return res;
}

PGresult *
db_exec_params(db_conn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;

	db_clear_error(c);
	res = db_roundtrip(c, DB_TRIP_PARAMS, NULL, sql, nparams, params);
	if (!db_result_ok(c, res)) {
		if (c->err == DB_ERR_OTHER)
			log_error("database: %s (%s)", c->errmsg, c->sqlstate);
		return NULL;
	}
	return res;
}

int
db_run(db_conn *c, db_stmt *st, int nparams, const char *const *params)
{
	PGresult *res = db_exec(c, st, nparams, params);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

PGresult *
db_exec_sql(db_conn *c, const char *sql)
{
	PGresult *res;

	db_clear_error(c);
	res = db_roundtrip(c, DB_TRIP_PARAMS, NULL, sql, 0, NULL);
	if (!db_result_ok(c, res))
		return NULL;
	return res;
}

int
db_begin(db_conn *c)
{
	PGresult *res = db_exec_sql(c, "BEGIN");

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int
db_commit(db_conn *c)
{
	PGresult *res = db_exec_sql(c, "COMMIT");
	int rolled_back;

	if (!res)
		return -1;
	/* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
	rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
	PQclear(res);
	if (rolled_back) {
		c->err = DB_ERR_OTHER;
		free(c->errmsg);
		c->errmsg = xstrdup("transaction was rolled back");
		return -1;
	}
	return 0;
}

void
db_rollback(db_conn *c)
{
	enum db_err err = c->err;
	char *msg = c->errmsg ? xstrdup(c->errmsg) : NULL;
	PGresult *res;

	/* Keeps the error that made the caller roll back, for its message. */
	res = db_roundtrip(c, DB_TRIP_PARAMS, NULL, "ROLLBACK", 0, NULL);
	PQclear(res);
	c->err = err;
	free(c->errmsg);
	c->errmsg = msg;
}

enum db_err
db_error(const db_conn *c)
{
	return c->err;
}

const char *
db_error_message(const db_conn *c)
{
	return c->errmsg ? c->errmsg : "";
}

const char *
db_error_sqlstate(const db_conn *c)
{
	return c->sqlstate;
}

const char *
db_error_constraint(const db_conn *c)
{
	return c->constraint;
}

int
db_ping(db_conn *c)
{
	PGresult *res = db_exec_sql(c, "SELECT 1");

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

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

/* How long a request waits for a free connection before it answers 503. */
#define DB_ACQUIRE_WAIT_SEC 5

struct db_conn {
	PGconn *pg;
	unsigned char *prepared; /* prepared[id] != 0: statement id is prepared here */
	int prepared_cap;
	int borrowed;
	enum db_err err;
	char *errmsg;
	char sqlstate[6];
	char constraint[128];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	db_conn *conns;
	int size;
	int in_use;
	char *conninfo;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, NULL};

static atomic_int next_stmt_id;
static pthread_mutex_t stmt_id_lock = PTHREAD_MUTEX_INITIALIZER;

static int db_open(db_conn *c, const char *conninfo);
static void db_forget_prepared(db_conn *c);
static int db_ensure_usable(db_conn *c);
static int db_stmt_id(db_stmt *st);
static int db_prepare(db_conn *c, db_stmt *st);
static void db_clear_error(db_conn *c);
static void db_set_error(db_conn *c, const PGresult *res);
static int db_result_ok(db_conn *c, PGresult *res);
static void db_notice_quiet(void *arg, const char *message);
static void db_session_setup(db_conn *c);

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

int
db_pool_init(const char *conninfo, int size)
{
	int i;

	pool.conninfo = xstrdup(conninfo);
	pool.conns = xcalloc((size_t)size, sizeof(db_conn));
	pool.size = size;
	for (i = 0; i < size; i++) {
		if (db_open(&pool.conns[i], conninfo) != 0) {
			log_error("database: cannot connect: %s", pool.conns[i].errmsg);
			db_pool_shutdown();
			return -1;
		}
	}
	return 0;
}

void
db_pool_shutdown(void)
{
	int i;

	for (i = 0; i < pool.size; i++) {
		PQfinish(pool.conns[i].pg);
		free(pool.conns[i].prepared);
		free(pool.conns[i].errmsg);
	}
	free(pool.conns);
	free(pool.conninfo);
	pool.conns = NULL;
	pool.conninfo = NULL;
	pool.size = 0;
	pool.in_use = 0;
}

int
db_pool_size(void)
{
	return pool.size;
}

int
db_pool_in_use(void)
{
	int n;

	pthread_mutex_lock(&pool.lock);
	n = pool.in_use;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

const char *
db_conninfo(void)
{
	return pool.conninfo;
}

static void
db_forget_prepared(db_conn *c)
{
	if (c->prepared)
		memset(c->prepared, 0, (size_t)c->prepared_cap);
}

/*
 * A connection that failed (server restart, network) is reset here, when it
 * is next borrowed, rather than at the failure: the request that met the
 * failure has already answered 503, and the next one gets a fresh connection.
 */
static int
db_ensure_usable(db_conn *c)
{
	if (PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	PQreset(c->pg);
	db_forget_prepared(c);
	if (PQstatus(c->pg) != CONNECTION_OK)
		return -1;
	PQsetNoticeProcessor(c->pg, db_notice_quiet, NULL);
	db_session_setup(c);
	log_info("database: connection re-established");
	return 0;
}

db_conn *
db_acquire(void)
{
	struct timespec deadline;
	db_conn *c = NULL;
	int i;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DB_ACQUIRE_WAIT_SEC;
	pthread_mutex_lock(&pool.lock);
	while (pool.size > 0) {
		for (i = 0; i < pool.size; i++) {
			if (!pool.conns[i].borrowed) {
				c = &pool.conns[i];
				break;
			}
		}
		if (c)
			break;
		if (pthread_cond_timedwait(&pool.freed, &pool.lock, &deadline) != 0)
			break;
	}
	if (c) {
		c->borrowed = 1;
		pool.in_use++;
	}
	pthread_mutex_unlock(&pool.lock);
	if (!c) {
		log_warn("database: no free connection within %d s", DB_ACQUIRE_WAIT_SEC);
		return NULL;
	}
	db_clear_error(c);
	if (db_ensure_usable(c) != 0) {
		log_warn("database: unreachable: %s", PQerrorMessage(c->pg));
		db_release(c);
		return NULL;
	}
	return c;
}

void
db_release(db_conn *c)
{
	if (!c)
		return;
	/* A handler that bailed out mid-transaction must not leak it to the next borrower. */
	if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		db_rollback(c);
	pthread_mutex_lock(&pool.lock);
	c->borrowed = 0;
	pool.in_use--;
	pthread_cond_signal(&pool.freed);
	pthread_mutex_unlock(&pool.lock);
}

db_conn *
db_connect(const char *conninfo)
{
	db_conn *c = xcalloc(1, sizeof *c);

	if (db_open(c, conninfo) != 0) {
		log_error("database: cannot connect: %s", c->errmsg);
		db_close(c);
		return NULL;
	}
	return c;
}

void
db_close(db_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c->prepared);
	free(c->errmsg);
	free(c);
}

PGconn *
db_pg(db_conn *c)
{
	return c->pg;
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

static int
db_prepare(db_conn *c, db_stmt *st)
{
	char name[24];
	PGresult *res;
	int id = db_stmt_id(st);

	if (id < c->prepared_cap && c->prepared[id])
		return 0;
	if (id >= c->prepared_cap) {
		int cap = c->prepared_cap ? c->prepared_cap : 64;

		while (cap <= id)
			cap *= 2;
		c->prepared = xrealloc(c->prepared, (size_t)cap);
		memset(c->prepared + c->prepared_cap, 0, (size_t)(cap - c->prepared_cap));
		c->prepared_cap = cap;
	}
	snprintf(name, sizeof name, "s%d", id);
	res = PQprepare(c->pg, name, st->sql, 0, NULL);
	if (!db_result_ok(c, res)) {
		log_error("database: cannot prepare statement: %s -- %s", c->errmsg, st->sql);
		return -1;
	}
	PQclear(res);
	c->prepared[id] = 1;
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

static void
db_set_error(db_conn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	free(c->errmsg);
	c->errmsg = xstrdup(msg ? msg : PQerrorMessage(c->pg));
	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
	snprintf(c->constraint, sizeof c->constraint, "%s", cons ? cons : "");

	if (PQstatus(c->pg) != CONNECTION_OK || !strncmp(c->sqlstate, "08", 2) ||
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

/* Takes ownership of res: returns 1 (res kept) on success, 0 (res freed) on failure. */
static int
db_result_ok(db_conn *c, PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_COPY_IN)
		return 1;
	db_set_error(c, res);
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
	res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
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
	res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
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
	res = PQexec(c->pg, sql);
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
	PGresult *res = PQexec(c->pg, "ROLLBACK");

	PQclear(res);
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

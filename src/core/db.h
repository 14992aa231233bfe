/*
 * db — the PostgreSQL connection pool.
 *
 * A fixed pool of libpq connections (pgsql_conn_max). A request borrows one for
 * its whole life and gives it back when the response is queued; task workers
 * hold their own. Statements are declared once as `db_stmt` values and
 * prepared lazily, once per connection, the first time that connection runs
 * them. Parameters are always bound: no SQL is ever built from input.
 *
 * A connection broken by a PostgreSQL restart is noticed when it fails; the
 * statement reports DB_ERR_UNAVAILABLE (the request answers 503) and the
 * connection is reset the next time it is borrowed.
 */
#ifndef SPANNER_DB_H
#define SPANNER_DB_H

#include <libpq-fe.h>

typedef struct db_conn db_conn;

/* A statement: declare with DB_STMT(name, "SELECT ... $1"). */
typedef struct db_stmt {
	const char *sql;
	int id; /* assigned on first use; index into each connection's prepared set */
} db_stmt;

#define DB_STMT(var, text) static db_stmt var = {text, -1}

enum db_err {
	DB_OK = 0,
	DB_ERR_UNAVAILABLE, /* no connection to the server */
	DB_ERR_CONSTRAINT,  /* integrity violation (SQLSTATE class 23) or a raised check */
	DB_ERR_CONFLICT,    /* serialization failure / deadlock / lock not available */
	DB_ERR_OTHER,
};

/* Opens size connections to conninfo. 0, or -1 (logged) when the server cannot be reached. */
int db_pool_init(const char *conninfo, int size);
void db_pool_shutdown(void);
int db_pool_size(void);
int db_pool_in_use(void);
const char *db_conninfo(void);

/* Borrows a connection, waiting up to a few seconds. NULL when none is usable (answer 503). */
db_conn *db_acquire(void);
void db_release(db_conn *c);

/* A stand-alone connection outside the pool (task workers, migrations). */
db_conn *db_connect(const char *conninfo);
void db_close(db_conn *c);
PGconn *db_pg(db_conn *c);

/*
 * Runs a prepared statement. params may hold NULLs (SQL NULL). Returns the
 * result (caller PQclear()s it) for PGRES_TUPLES_OK / PGRES_COMMAND_OK, or NULL
 * with the error recorded on the connection.
 */
PGresult *db_exec(db_conn *c, db_stmt *st, int nparams, const char *const *params);
/* Runs a statement expected to return nothing interesting. 0 or -1. */
int db_run(db_conn *c, db_stmt *st, int nparams, const char *const *params);
/*
 * SQL text assembled at run time from fixed fragments (list filters), with
 * every value bound as a parameter. Planned per execution, which is what an
 * optional-filter query wants anyway. Same result contract as db_exec.
 */
PGresult *db_exec_params(db_conn *c, const char *sql, int nparams, const char *const *params);
/* Plain SQL without parameters (migrations, BEGIN/COMMIT). NULL on error. */
PGresult *db_exec_sql(db_conn *c, const char *sql);

int db_begin(db_conn *c);
int db_commit(db_conn *c);
void db_rollback(db_conn *c);

enum db_err db_error(const db_conn *c);
const char *db_error_message(const db_conn *c);
const char *db_error_sqlstate(const db_conn *c);   /* "" when none */
const char *db_error_constraint(const db_conn *c); /* "" when none */

/* Reachability check for /healthz: runs SELECT 1. 0 when the server answered. */
int db_ping(db_conn *c);

#endif

/*
 * db — statements on PostgreSQL connections, blocking or not.
 *
 * A db_conn is one of two kinds behind one API:
 *   - a plain blocking libpq connection (db_connect): task threads, jobs,
 *     migrations, the command-line tool and the tests;
 *   - a request's connection from Kore's async pgsql pool (db_kore.c): the
 *     statement is sent, the request's fiber yields to Kore's event loop, and
 *     it resumes when the answer is in. The worker never waits on the server.
 * Callers cannot tell the difference, which is the point: the domain code is
 * written once and runs in both places.
 *
 * Statements are declared once as `db_stmt` values and prepared lazily, once
 * per connection, the first time that connection runs them. Parameters are
 * always bound: no SQL is ever built from input.
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

/* The conninfo every connection of this process uses (set once at start-up). */
void db_set_conninfo(const char *conninfo);
const char *db_conninfo(void);

/* A blocking connection of its own (task threads, jobs, migrations, tools). */
db_conn *db_connect(const char *conninfo);
void db_close(db_conn *c);
/* The libpq connection of a blocking db_conn (COPY and the like); NULL for a request's. */
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

/*
 * Before slow work that needs no database (an Argon2 check): a request's
 * pooled connection goes back to the pool if no transaction is open on it,
 * so others can use it meanwhile; the next statement borrows one again. A
 * blocking connection stays as it is.
 */
void db_release(db_conn *c);

/* Reachability check for /healthz: runs SELECT 1. 0 when the server answered. */
int db_ping(db_conn *c);

/*
 * The seam for non-blocking connections (db_kore.c). conn() returns the
 * PGconn to send on, acquiring it when needed (NULL: unavailable, error set);
 * wait() is called after a PQsend* and returns the statement's result (or
 * NULL, error set) once it has arrived, the connection idle again.
 */
struct db_prepared {
	unsigned char *ids; /* ids[n] != 0: statement n is prepared on this connection */
	int cap;
};
struct db_driver {
	PGconn *(*conn)(db_conn *c, struct db_prepared **prep);
	PGresult *(*wait)(db_conn *c, PGconn *pg);
	/* Hands an idle connection back to the pool (see db_release); may be NULL. */
	int (*release)(db_conn *c); /* 1 when it went back */
};
/* A connection run by drv; ctx is the driver's (db_driver_ctx). */
db_conn *db_driver_conn(const struct db_driver *drv, void *ctx);
void *db_driver_ctx(db_conn *c);
/* Records an error on c: a result's (may be NULL) or the connection's. */
void db_fail(db_conn *c, PGconn *pg, const PGresult *res);
void db_fail_text(db_conn *c, enum db_err err, const char *message);

#endif

/*
 * db_kore — a request's database connection on Kore's async pgsql layer
 * (see db_kore.c). Only for code running on a request's fiber.
 */
#ifndef SPANNER_DB_KORE_H
#define SPANNER_DB_KORE_H

#include "db.h"

struct http_request;

/* Registers the database with Kore's pgsql layer (parent, before the workers start). 0 or -1. */
int db_kore_register(const char *conninfo);
/* The request's connection; nothing is borrowed from the pool until its first statement. */
db_conn *db_kore_open(struct http_request *req);
/* The request is gone: every later statement fails at once. */
void db_kore_abort(db_conn *c);
/* Rolls back what was left open and gives the connection back to the pool. */
void db_kore_close(db_conn *c);
/* Connections this worker's requests hold right now (for /metrics). */
int db_kore_in_use(void);

#endif

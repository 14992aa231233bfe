/*
 * audit — the append-only trail of every mutation.
 *
 * Every domain function that changes state calls audit_record on the same
 * connection, inside its own transaction, so the change and its audit row
 * commit or vanish together. The table refuses UPDATE and DELETE in the
 * database itself (migrations/0001_schema.sql).
 */
#ifndef SPANNER_AUDIT_H
#define SPANNER_AUDIT_H

#include <jansson.h>

#include "core/db.h"

/*
 * Writes one audit row. actor_id NULL = the system. details (ownership taken,
 * may be NULL) must never hold a password, hash or token. 0 or -1.
 */
int audit_record(db_conn *tx, const char *actor_id, const char *action, const char *entity_type,
		 const char *entity_id, json_t *details);

#endif

/*
 * audit — one INSERT, shared by every module.
 */
#include "audit.h"

#include <stdlib.h>

DB_STMT(stmt_audit_insert, "INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, "
			   "details) VALUES ($1, $2, $3, $4, coalesce($5::jsonb, '{}'))");

int
audit_record(db_conn *tx, const char *actor_id, const char *action, const char *entity_type,
	     const char *entity_id, json_t *details)
{
	char *json = details ? json_dumps(details, JSON_COMPACT) : NULL;
	const char *params[5] = {actor_id, action, entity_type, entity_id, json};
	int rc = db_run(tx, &stmt_audit_insert, 5, params);

	free(json);
	json_decref(details);
	return rc;
}

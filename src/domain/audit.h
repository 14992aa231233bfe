/*
 * audit — the append-only trail of every mutation.
 *
 * Every domain function that changes state calls audit_record on the same
 * connection, inside its own transaction, so the change and its audit row
 * commit or vanish together. The table refuses UPDATE and DELETE in the
 * database itself (migrations/0001_schema.sql).
 *
 * Reading it back: audit_timeline turns an entity's rows into the activity
 * timeline detail views show (templates/audit/_timeline.mustache). Edits
 * record what changed as details.changes = {field: {"old": …, "new": …}},
 * built with audit_change, so every module's edits read the same way there.
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

/*
 * Adds {field: {"old": old_value, "new": new_value}} to the object changes
 * when the two values differ (json_equal), and reports 1; 0 when equal.
 * Takes ownership of old_value and new_value (NULL = JSON null).
 */
int audit_change(json_t *changes, const char *field, json_t *old_value, json_t *new_value);

/*
 * The activity timeline of one entity, newest first, at most limit entries
 * (entity_id NULL = the rows without an entity, e.g. grant changes). Each
 * entry: {id, actor {id, name} | null, actor_name, action, verb ("created",
 * "changed", "signed in", …), at (ISO 8601), at_text (absolute, e.g.
 * "12 Mar 2025, 14:05"), ago ("3 minutes ago" or the date), changes
 * [{field, label, old, new, has_old}], has_changes, note (a reason), context
 * ("from 10.0.0.7")}. NULL on a database error.
 */
json_t *audit_timeline(db_conn *c, const char *entity_type, const char *entity_id, int limit);

/*
 * The latest rows about any entity of one type (e.g. every collateral link,
 * removed ones included), newest first, as audit_timeline's entries. For
 * types with few rows: the order is not served by an index.
 */
json_t *audit_timeline_of_type(db_conn *c, const char *entity_type, int limit);

/* The words for an action in a timeline: "deactivate" → "deactivated". */
const char *audit_verb(const char *action, const char *entity_type);

/* "3 minutes ago", "yesterday", "5 days ago", or NULL past a week (show the date). */
const char *audit_ago(long long seconds, char *out, size_t outlen);

#endif

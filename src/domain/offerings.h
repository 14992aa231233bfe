/*
 * offerings — the global master list of what the organisation sells.
 *
 * Segments pick offerings from this list (many-to-many, segment_offerings)
 * through an auto-complete field that can also add a new one inline. Names are
 * unique regardless of case (the unique index offerings_name_lower_key), and
 * creating is idempotent: asking for "cloud migration" when "Cloud Migration"
 * exists hands back the existing one instead of failing. That makes the
 * inline "Create …" option safe to press twice, from two tabs at once, or
 * after a search result arrived late.
 *
 * Names and descriptions reach these functions already normalised
 * (normalise_text: trimmed, inner white space collapsed, empty → NULL).
 */
#ifndef SPANNER_OFFERINGS_H
#define SPANNER_OFFERINGS_H

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"

#define OFFERINGS_NAME_MAX 200
#define OFFERINGS_DESCRIPTION_MAX 5000
#define OFFERINGS_SEARCH_LIMIT 10

/*
 * The active offerings whose name contains q (case-insensitive; NULL or "" =
 * all), names starting with q first, then alphabetical, at most limit, never
 * one of the exclude ids (those already chosen). Each {id, name, description}.
 * *exact is set when one of them is named q exactly (ignoring case), so the
 * caller knows not to offer to create it. NULL on a database error.
 */
json_t *offerings_search(db_conn *c, const char *q, const char *const *exclude, size_t nexclude,
			 int limit, int *exact);

/*
 * Every offering whose name or description contains q (NULL = all), by name:
 * [{id, name, description, status, is_active, segment_count, created_text}].
 * inactive 0 leaves out inactive ones. NULL on a database error.
 */
json_t *offerings_list(db_conn *c, const char *q, int inactive);

/*
 * The offerings with these ids, by name: [{id, name, status}]. Unknown ids are
 * simply absent (ids must be well-formed UUIDs). NULL on a database error.
 */
json_t *offerings_by_ids(db_conn *c, const char *const *ids, size_t n);

/*
 * Finds the offering named name (case-insensitive) or creates it, inside the
 * caller's transaction tx; a creation writes its audit row there too. id
 * receives the offering's id and stored its name as stored (which keeps the
 * first writer's casing). *created tells which happened. 0, or -1 on a
 * database error (the transaction is then aborted).
 */
int offerings_ensure(db_conn *tx, const char *actor_id, const char *name, const char *description,
		     char id[37], char **stored, int *created);

/*
 * offerings_ensure in a transaction of its own: the inline "Create" of the
 * auto-complete. Returns {id, name, description, status, created} or NULL on
 * a database error.
 */
json_t *offerings_create(db_conn *c, const char *actor_id, const char *name,
			 const char *description);

/* One offering: {id, name, description, status, is_active, segment_count}; NULL if none (or *err). */
json_t *offerings_get(db_conn *c, const char *id, int *err);

enum offerings_result {
	OFFERINGS_OK,
	OFFERINGS_NOT_FOUND,
	OFFERINGS_NAME_TAKEN, /* another offering has this name (ignoring case) */
	OFFERINGS_ERROR,      /* database trouble: see db_error(c) */
};

/*
 * Renames, re-describes and (de)activates an offering (status "active" or
 * "inactive"; SPEC §2), with one audit row of what changed, in one
 * transaction. An inactive offering stays on the segments that have it but
 * is no longer offered by the auto-complete. Nothing changed: OFFERINGS_OK
 * and no audit row.
 */
enum offerings_result offerings_update(db_conn *c, const char *actor_id, const char *id,
				       const char *name, const char *description,
				       const char *status);

#endif

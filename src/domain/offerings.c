/*
 * offerings — search, list and idempotent create of the offering master list.
 *
 * The list is small (tens to a few hundred names) and read far more often
 * than written, so searching is a plain substring match on lower(name):
 * strpos() needs no LIKE escaping of the user's % and _, and ordering "starts
 * with q" before "contains q" puts the likely pick at the top of the
 * auto-complete. Id sets travel as one JSON array parameter, never as SQL.
 *
 * Creation relies on the unique index on lower(name) rather than a
 * check-then-insert: INSERT … ON CONFLICT DO NOTHING either creates the row or
 * (after waiting for a concurrent creator to commit) does nothing, and the
 * follow-up SELECT — a new snapshot under READ COMMITTED — then finds the
 * winner. Two people creating "Cloud" at once both end up with one offering.
 */
#include "offerings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/audit.h"

DB_STMT(stmt_offerings_search,
	"SELECT o.id, o.name, coalesce(o.description, '') FROM offerings o "
	"WHERE o.status = 'active' AND ($1::text IS NULL OR strpos(lower(o.name), lower($1)) > 0) "
	"AND o.id NOT IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid) "
	"ORDER BY coalesce(strpos(lower(o.name), lower($1)) = 1, true) DESC, lower(o.name), o.id "
	"LIMIT $3::int");
DB_STMT(stmt_offerings_exact,
	"SELECT 1 FROM offerings WHERE lower(name) = lower($1) AND status = 'active'");
DB_STMT(stmt_offerings_list,
	"SELECT o.id, o.name, o.description, o.status, (SELECT count(*) FROM segment_offerings so "
	"WHERE so.offering_id = o.id), to_char(o.created_at, 'FMDD Mon YYYY') FROM offerings o "
	"WHERE ($1::text IS NULL OR strpos(lower(o.name), lower($1)) > 0 "
	"OR strpos(lower(coalesce(o.description, '')), lower($1)) > 0) "
	"AND ($2::boolean OR o.status = 'active') ORDER BY lower(o.name), o.id");
DB_STMT(stmt_offerings_by_ids, "SELECT o.id, o.name, o.status FROM offerings o "
			       "WHERE o.id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid) "
			       "ORDER BY lower(o.name), o.id");
DB_STMT(stmt_offerings_insert,
	"INSERT INTO offerings (name, description, created_by) VALUES ($1, $2, $3) "
	"ON CONFLICT ((lower(name))) DO NOTHING RETURNING id, name, coalesce(description, ''), "
	"status");
DB_STMT(stmt_offerings_by_name, "SELECT id, name, coalesce(description, ''), status FROM offerings "
				"WHERE lower(name) = lower($1)");

DB_STMT(stmt_offerings_get,
	"SELECT o.id, o.name, o.description, o.status, (SELECT count(*) FROM segment_offerings so "
	"WHERE so.offering_id = o.id) FROM offerings o WHERE o.id = $1::uuid");
DB_STMT(stmt_offerings_lock,
	"SELECT name, description, status FROM offerings WHERE id = $1::uuid FOR NO KEY UPDATE");
DB_STMT(stmt_offerings_update,
	"UPDATE offerings SET name = $2, description = $3, status = $4 WHERE id = $1::uuid");

static char *offerings_ids_json(const char *const *ids, size_t n);
static PGresult *offerings_upsert(db_conn *tx, const char *actor_id, const char *name,
				  const char *description, int *created);

json_t *
offerings_search(db_conn *c, const char *q, const char *const *exclude, size_t nexclude, int limit,
		 int *exact)
{
	char *ids = offerings_ids_json(exclude, nexclude);
	char lim[16];
	const char *params[3] = {q && *q ? q : NULL, ids, lim};
	PGresult *res;
	json_t *list;
	int i;

	*exact = 0;
	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : OFFERINGS_SEARCH_LIMIT);
	res = db_exec(c, &stmt_offerings_search, 3, params);
	free(ids);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, i, 0), "name",
				    PQgetvalue(res, i, 1), "description", PQgetvalue(res, i, 2)));
	PQclear(res);
	if (params[0]) {
		res = db_exec(c, &stmt_offerings_exact, 1, params);
		if (!res) {
			json_decref(list);
			return NULL;
		}
		*exact = PQntuples(res) > 0;
		PQclear(res);
	}
	return list;
}

json_t *
offerings_list(db_conn *c, const char *q, int inactive)
{
	const char *params[2] = {q && *q ? q : NULL, inactive ? "true" : "false"};
	PGresult *res = db_exec(c, &stmt_offerings_list, 2, params);
	json_t *list;
	int i;

	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s?, s:s, s:b, s:I, s:s}", "id", PQgetvalue(res, i, 0),
			      "name", PQgetvalue(res, i, 1), "description",
			      PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2), "status",
			      PQgetvalue(res, i, 3), "is_active",
			      strcmp(PQgetvalue(res, i, 3), "active") == 0, "segment_count",
			      (json_int_t)atoll(PQgetvalue(res, i, 4)), "created_text",
			      PQgetvalue(res, i, 5)));
	PQclear(res);
	return list;
}

json_t *
offerings_by_ids(db_conn *c, const char *const *ids, size_t n)
{
	char *text = offerings_ids_json(ids, n);
	const char *params[1] = {text};
	PGresult *res = db_exec(c, &stmt_offerings_by_ids, 1, params);
	json_t *list;
	int i;

	free(text);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, i, 0), "name",
				    PQgetvalue(res, i, 1), "status", PQgetvalue(res, i, 2)));
	PQclear(res);
	return list;
}

int
offerings_ensure(db_conn *tx, const char *actor_id, const char *name, const char *description,
		 char id[37], char **stored, int *created)
{
	PGresult *res = offerings_upsert(tx, actor_id, name, description, created);

	if (!res)
		return -1;
	snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	if (stored)
		*stored = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

json_t *
offerings_create(db_conn *c, const char *actor_id, const char *name, const char *description)
{
	PGresult *res;
	json_t *out;
	int created;

	if (db_begin(c) != 0)
		return NULL;
	res = offerings_upsert(c, actor_id, name, description, &created);
	if (!res) {
		db_rollback(c);
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", PQgetvalue(res, 0, 0), "name",
			PQgetvalue(res, 0, 1), "description", PQgetvalue(res, 0, 2), "status",
			PQgetvalue(res, 0, 3), "created", created);
	PQclear(res);
	if (db_commit(c) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/*
 * The shared core of ensure and create: one row (id, name, description,
 * status) of the new or the existing offering. The audit row is written only
 * when this call created it; finding an existing one changes nothing.
 */
static PGresult *
offerings_upsert(db_conn *tx, const char *actor_id, const char *name, const char *description,
		 int *created)
{
	const char *params[3] = {name, description, actor_id};
	PGresult *res = db_exec(tx, &stmt_offerings_insert, 3, params);

	*created = 0;
	if (!res)
		return NULL;
	if (PQntuples(res) == 1) {
		*created = 1;
		if (audit_record(tx, actor_id, "create", "offering", PQgetvalue(res, 0, 0),
				 json_pack("{s:s, s:s?}", "name", PQgetvalue(res, 0, 1),
					   "description", description)) != 0) {
			PQclear(res);
			return NULL;
		}
		return res;
	}
	PQclear(res);
	res = db_exec(tx, &stmt_offerings_by_name, 1, params);
	if (res && PQntuples(res) != 1) {
		/* Cannot happen while the unique index exists; never hand back a wrong row. */
		PQclear(res);
		return NULL;
	}
	return res;
}

/* ids as a JSON array text, the one form id sets take on their way to SQL. */
static char *
offerings_ids_json(const char *const *ids, size_t n)
{
	json_t *arr = json_array();
	char *text;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(ids[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

json_t *
offerings_get(db_conn *c, const char *id, int *err)
{
	const char *p[1] = {id};
	PGresult *res;
	json_t *o;

	*err = 0;
	res = db_exec(c, &stmt_offerings_get, 1, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s?, s:s, s:b, s:I}", "id", PQgetvalue(res, 0, 0), "name",
		      PQgetvalue(res, 0, 1), "description",
		      PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2), "status",
		      PQgetvalue(res, 0, 3), "is_active", strcmp(PQgetvalue(res, 0, 3), "active") == 0,
		      "segment_count", (json_int_t)atoll(PQgetvalue(res, 0, 4)));
	PQclear(res);
	return o;
}

enum offerings_result
offerings_update(db_conn *c, const char *actor_id, const char *id, const char *name,
		 const char *description, const char *status)
{
	const char *p[4] = {id, name, description, status};
	json_t *changes;
	PGresult *res;

	if (db_begin(c) != 0)
		return OFFERINGS_ERROR;
	res = db_exec(c, &stmt_offerings_lock, 1, p);
	if (!res)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(c);
		return OFFERINGS_NOT_FOUND;
	}
	changes = json_object();
	audit_change(changes, "name", json_string(PQgetvalue(res, 0, 0)), json_string(name));
	audit_change(changes, "description",
		     PQgetisnull(res, 0, 1) ? NULL : json_string(PQgetvalue(res, 0, 1)),
		     description ? json_string(description) : NULL);
	audit_change(changes, "status", json_string(PQgetvalue(res, 0, 2)), json_string(status));
	PQclear(res);
	if (json_object_size(changes) == 0) {
		json_decref(changes);
		db_rollback(c);
		return OFFERINGS_OK;
	}
	if (db_run(c, &stmt_offerings_update, 4, p) != 0) {
		json_decref(changes);
		goto fail;
	}
	if (audit_record(c, actor_id, "update", "offering", id,
			 json_pack("{s:o}", "changes", changes)) != 0 ||
	    db_commit(c) != 0)
		goto fail;
	return OFFERINGS_OK;
fail:
	db_rollback(c);
	/* the unique index on lower(name): another offering already has this name */
	return db_error(c) == DB_ERR_CONSTRAINT ? OFFERINGS_NAME_TAKEN : OFFERINGS_ERROR;
}

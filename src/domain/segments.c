/*
 * segments — list, read, create, edit, archive and unarchive.
 *
 * The list is keyset-paginated by (lower(name), id), like every list, so its
 * first screen costs the same however many segments there are. Company counts
 * count what the companies list shows by default (active, not flagged as
 * duplicates), so the number on a segment and the list its link opens agree.
 *
 * Mutations share one shape: BEGIN → lock the segment row (edits) → resolve
 * the offerings (finding or creating a typed-in one through offerings_ensure,
 * in this same transaction) → change → audit_record → COMMIT, rolling back on
 * any failure so nothing lands without its audit row. Offering id sets travel
 * to PostgreSQL as one JSON array parameter; no SQL is built from input.
 */
#include "segments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/offerings.h"

#define SEGMENTS_LIST_WHERE                                                                        \
	"WHERE ($1::text IS NULL OR s.name ILIKE $1 OR s.description ILIKE $1) "                   \
	"AND ($2::boolean OR s.status = 'active') "

DB_STMT(stmt_segments_list,
	"SELECT s.id, s.name, s.description, s.status, cb.name, to_json(s.created_at) #>> '{}', "
	"to_char(s.created_at, 'FMDD Mon YYYY'), coalesce((SELECT json_agg(o.name ORDER BY "
	"lower(o.name)) FROM segment_offerings so JOIN offerings o ON o.id = so.offering_id "
	"WHERE so.segment_id = s.id), '[]')::text, cc.pending, cc.approved, cc.rejected "
	"FROM segments s LEFT JOIN users cb ON cb.id = s.created_by " SEGMENTS_COMPANY_COUNTS
	    SEGMENTS_LIST_WHERE
	"AND ($3::uuid IS NULL OR (lower(s.name), s.id) > (SELECT lower(x.name), x.id FROM "
	"segments x WHERE x.id = $3::uuid)) ORDER BY lower(s.name), s.id LIMIT $4::int");
DB_STMT(stmt_segments_count,
	"SELECT count(*) FILTER (WHERE $2::boolean OR s.status = 'active'), "
	"count(*) FILTER (WHERE s.status = 'archived' AND NOT $2::boolean) FROM segments s "
	"WHERE ($1::text IS NULL OR s.name ILIKE $1 OR s.description ILIKE $1)");

DB_STMT(stmt_segments_get,
	"SELECT s.id, s.name, s.description, s.status, cb.name, to_char(s.created_at, 'FMDD Mon "
	"YYYY, HH24:MI'), ab.name, to_char(s.archived_at, 'FMDD Mon YYYY, HH24:MI'), "
	"to_char(s.updated_at, 'FMDD Mon YYYY, HH24:MI'), coalesce((SELECT "
	"json_agg(json_build_object('id', o.id, 'name', o.name, 'status', o.status) ORDER BY "
	"lower(o.name)) FROM segment_offerings so JOIN offerings o ON o.id = so.offering_id "
	"WHERE so.segment_id = s.id), '[]')::text, cc.pending, cc.approved, cc.rejected, "
	"to_json(s.created_at) #>> '{}' FROM segments s LEFT JOIN users cb ON cb.id = "
	"s.created_by LEFT JOIN users ab ON ab.id = s.archived_by " SEGMENTS_COMPANY_COUNTS
	"WHERE s.id = $1::uuid");
DB_STMT(stmt_segments_assignments,
	"SELECT u.id, u.name, u.email, r.name, ab.name, to_char(a.created_at, 'FMDD Mon YYYY') "
	"FROM assignments a JOIN users u ON u.id = a.assigned_to LEFT JOIN roles r ON r.id = "
	"a.role_id LEFT JOIN users ab ON ab.id = a.assigned_by WHERE a.entity_type = 'segment' "
	"AND a.entity_id = $1::uuid AND a.is_active ORDER BY lower(u.name), u.id");

/* The offerings named by a JSON array of ids (unknown ids are simply absent). */
DB_STMT(stmt_segments_offerings_named,
	"SELECT o.id, o.name FROM offerings o WHERE o.id IN "
	"(SELECT jsonb_array_elements_text($1::jsonb)::uuid) ORDER BY lower(o.name), o.id");
DB_STMT(stmt_segments_insert,
	"INSERT INTO segments (name, description, created_by) VALUES ($1, $2, $3) RETURNING id");
DB_STMT(stmt_segments_lock,
	"SELECT s.name, s.description, s.status, coalesce((SELECT json_agg(json_build_object("
	"'id', o.id, 'name', o.name) ORDER BY lower(o.name)) FROM segment_offerings so JOIN "
	"offerings o ON o.id = so.offering_id WHERE so.segment_id = s.id), '[]')::text "
	"FROM segments s WHERE s.id = $1::uuid FOR UPDATE OF s");
DB_STMT(stmt_segments_update,
	"UPDATE segments SET name = $2, description = $3 WHERE id = $1::uuid");
DB_STMT(stmt_segments_offerings_keep,
	"DELETE FROM segment_offerings WHERE segment_id = $1::uuid AND offering_id NOT IN "
	"(SELECT jsonb_array_elements_text($2::jsonb)::uuid)");
DB_STMT(
    stmt_segments_offerings_add,
    "INSERT INTO segment_offerings (segment_id, offering_id, created_by) SELECT $1::uuid, o.id, "
    "$3 FROM offerings o WHERE o.id IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid) "
    "ON CONFLICT (segment_id, offering_id) DO NOTHING");
DB_STMT(stmt_segments_set_status,
	"UPDATE segments SET status = $2, archived_at = CASE WHEN $2 = 'archived' THEN now() END, "
	"archived_by = CASE WHEN $2 = 'archived' THEN $3::uuid END WHERE id = $1::uuid");

static json_t *segments_json_column(PGresult *res, int row, int col);
static json_t *segments_counts(PGresult *res, int row, int col);
static enum segments_result segments_resolve_offerings(db_conn *tx, const char *actor_id,
						       const struct segment_input *in,
						       json_t **offerings, char **ids_text);
static json_t *segments_names(json_t *offerings);
static json_t *segments_minus(json_t *a, json_t *b);
static int segments_name_taken(db_conn *c);
static enum segments_result segments_set_status(db_conn *c, const char *actor_id, const char *id,
						const char *status);

/* ---------------------------------------------------------------- reading */

json_t *
segments_list(db_conn *c, const struct segments_filter *f)
{
	char *like = normalise_search_pattern(f->q);
	const char *after = f->after && *f->after ? f->after : NULL;
	char limit[16];
	const char *params[4] = {like, f->archived ? "true" : "false", after, limit};
	PGresult *res, *cnt;
	json_t *out, *list;
	int i, n;

	/* One more than a page tells whether there is a next one. */
	snprintf(limit, sizeof limit, "%d", SEGMENTS_PAGE_SIZE + 1);
	res = db_exec(c, &stmt_segments_list, 4, params);
	cnt = res ? db_exec(c, &stmt_segments_count, 2, params) : NULL;
	free(like);
	if (!res || !cnt) {
		PQclear(res);
		return NULL;
	}
	list = json_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < SEGMENTS_PAGE_SIZE; i++) {
		const char *status = PQgetvalue(res, i, 3);

		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s?, s:s, s:b, s:o, s:o, s:s?, s:s, s:s}", "id",
			      PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1), "description",
			      PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2), "status",
			      status, "is_archived", strcmp(status, "archived") == 0, "offerings",
			      segments_json_column(res, i, 7), "companies",
			      segments_counts(res, i, 8), "created_by",
			      PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4), "created_at",
			      PQgetvalue(res, i, 5), "created_text", PQgetvalue(res, i, 6)));
	}
	out = json_pack("{s:o, s:s?, s:I, s:I}", "segments", list, "next",
			n > SEGMENTS_PAGE_SIZE ? PQgetvalue(res, SEGMENTS_PAGE_SIZE - 1, 0) : NULL,
			"total", (json_int_t)atoll(PQgetvalue(cnt, 0, 0)), "archived_hidden",
			(json_int_t)atoll(PQgetvalue(cnt, 0, 1)));
	PQclear(res);
	PQclear(cnt);
	return out;
}

json_t *
segments_get(db_conn *c, const char *id, int *db_failed)
{
	const char *params[1] = {id};
	PGresult *res = db_exec(c, &stmt_segments_get, 1, params), *ar;
	json_t *s, *assignments;
	const char *status;
	int i;

	*db_failed = !res;
	if (!res || PQntuples(res) == 0) {
		PQclear(res);
		return NULL;
	}
	ar = db_exec(c, &stmt_segments_assignments, 1, params);
	if (!ar) {
		PQclear(res);
		*db_failed = 1;
		return NULL;
	}
	assignments = json_array();
	for (i = 0; i < PQntuples(ar); i++) {
		char initials[16];

		normalise_initials(PQgetvalue(ar, i, 1), initials);
		json_array_append_new(
		    assignments,
		    json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "user_id",
			      PQgetvalue(ar, i, 0), "name", PQgetvalue(ar, i, 1), "email",
			      PQgetvalue(ar, i, 2), "initials", initials, "role",
			      PQgetisnull(ar, i, 3) ? NULL : PQgetvalue(ar, i, 3), "assigned_by",
			      PQgetisnull(ar, i, 4) ? NULL : PQgetvalue(ar, i, 4), "assigned_text",
			      PQgetvalue(ar, i, 5)));
	}
	PQclear(ar);
	status = PQgetvalue(res, 0, 3);
	s = json_pack("{s:s, s:s, s:s?, s:s, s:b, s:s?, s:s, s:s, s:s?, s:s?, s:s, s:o, s:o, s:o}",
		      "id", PQgetvalue(res, 0, 0), "name", PQgetvalue(res, 0, 1), "description",
		      PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2), "status", status,
		      "is_archived", strcmp(status, "archived") == 0, "created_by",
		      PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4), "created_text",
		      PQgetvalue(res, 0, 5), "created_at", PQgetvalue(res, 0, 13), "archived_by",
		      PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6), "archived_text",
		      PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7), "updated_text",
		      PQgetvalue(res, 0, 8), "offerings", segments_json_column(res, 0, 9),
		      "companies", segments_counts(res, 0, 10), "assignments", assignments);
	PQclear(res);
	return s;
}

/* ---------------------------------------------------------------- mutations */

enum segments_result
segments_create(db_conn *c, const char *actor_id, const struct segment_input *in, char id[37])
{
	enum segments_result rc = SEGMENTS_ERROR;
	json_t *offerings = NULL;
	char *ids_text = NULL;
	PGresult *res;

	if (db_begin(c) != 0)
		return SEGMENTS_ERROR;
	rc = segments_resolve_offerings(c, actor_id, in, &offerings, &ids_text);
	if (rc != SEGMENTS_OK)
		goto fail;
	rc = SEGMENTS_ERROR;
	{
		const char *params[3] = {in->name, in->description, actor_id};

		res = db_exec(c, &stmt_segments_insert, 3, params);
	}
	if (!res) {
		if (segments_name_taken(c))
			rc = SEGMENTS_NAME_TAKEN;
		goto fail;
	}
	snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	{
		const char *params[3] = {id, ids_text, actor_id};

		if (db_run(c, &stmt_segments_offerings_add, 3, params) != 0)
			goto fail;
	}
	if (audit_record(c, actor_id, "create", "segment", id,
			 json_pack("{s:s, s:s?, s:o}", "name", in->name, "description",
				   in->description, "offerings", segments_names(offerings))) != 0)
		goto fail;
	if (db_commit(c) == 0)
		rc = SEGMENTS_OK;
	goto out;
fail:
	db_rollback(c);
out:
	json_decref(offerings);
	free(ids_text);
	return rc;
}

enum segments_result
segments_update(db_conn *c, const char *actor_id, const char *id, const struct segment_input *in)
{
	const char *lock_params[1] = {id};
	enum segments_result rc = SEGMENTS_ERROR;
	json_t *offerings = NULL, *old = NULL, *changes = json_object(), *details, *added, *removed;
	char *ids_text = NULL;
	int fields_changed;
	PGresult *res;

	if (db_begin(c) != 0) {
		json_decref(changes);
		return SEGMENTS_ERROR;
	}
	res = db_exec(c, &stmt_segments_lock, 1, lock_params);
	if (!res)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = SEGMENTS_NOT_FOUND;
		goto fail;
	}
	fields_changed = audit_change(changes, "name", json_string(PQgetvalue(res, 0, 0)),
				      json_string(in->name));
	fields_changed |=
	    audit_change(changes, "description",
			 PQgetisnull(res, 0, 1) ? json_null() : json_string(PQgetvalue(res, 0, 1)),
			 in->description ? json_string(in->description) : json_null());
	old = segments_json_column(res, 0, 3);
	PQclear(res);
	rc = segments_resolve_offerings(c, actor_id, in, &offerings, &ids_text);
	if (rc != SEGMENTS_OK)
		goto fail;
	rc = SEGMENTS_ERROR;
	audit_change(changes, "offerings", segments_names(old), segments_names(offerings));
	if (json_object_size(changes) == 0) {
		rc = SEGMENTS_NO_CHANGE;
		goto fail;
	}
	if (fields_changed) {
		const char *params[3] = {id, in->name, in->description};

		if (db_run(c, &stmt_segments_update, 3, params) != 0) {
			if (segments_name_taken(c))
				rc = SEGMENTS_NAME_TAKEN;
			goto fail;
		}
	}
	{
		const char *params[3] = {id, ids_text, actor_id};

		if (db_run(c, &stmt_segments_offerings_keep, 2, params) != 0 ||
		    db_run(c, &stmt_segments_offerings_add, 3, params) != 0)
			goto fail;
	}
	/* Edits read as old → new; the set difference is kept too, for whoever reads the log. */
	details = json_pack("{s:O}", "changes", changes);
	added = segments_minus(offerings, old);
	removed = segments_minus(old, offerings);
	if (json_array_size(added) > 0)
		json_object_set(details, "offerings_added", added);
	if (json_array_size(removed) > 0)
		json_object_set(details, "offerings_removed", removed);
	json_decref(added);
	json_decref(removed);
	if (audit_record(c, actor_id, "update", "segment", id, details) != 0)
		goto fail;
	if (db_commit(c) == 0)
		rc = SEGMENTS_OK;
	goto out;
fail:
	db_rollback(c);
out:
	json_decref(offerings);
	json_decref(old);
	json_decref(changes);
	free(ids_text);
	return rc;
}

enum segments_result
segments_archive(db_conn *c, const char *actor_id, const char *id)
{
	return segments_set_status(c, actor_id, id, "archived");
}

enum segments_result
segments_unarchive(db_conn *c, const char *actor_id, const char *id)
{
	return segments_set_status(c, actor_id, id, "active");
}

/* ---------------------------------------------------------------- helpers */

static enum segments_result
segments_set_status(db_conn *c, const char *actor_id, const char *id, const char *status)
{
	const char *params[3] = {id, status, actor_id};
	PGresult *res;
	json_t *changes;
	int same;

	if (db_begin(c) != 0)
		return SEGMENTS_ERROR;
	res = db_exec(c, &stmt_segments_lock, 1, params);
	if (!res) {
		db_rollback(c);
		return SEGMENTS_ERROR;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(c);
		return SEGMENTS_NOT_FOUND;
	}
	same = strcmp(PQgetvalue(res, 0, 2), status) == 0;
	changes = json_object();
	audit_change(changes, "status", json_string(PQgetvalue(res, 0, 2)), json_string(status));
	PQclear(res);
	if (same) {
		json_decref(changes);
		db_rollback(c);
		return SEGMENTS_NO_CHANGE;
	}
	if (db_run(c, &stmt_segments_set_status, 3, params) != 0 ||
	    audit_record(c, actor_id, strcmp(status, "archived") == 0 ? "archive" : "unarchive",
			 "segment", id, json_pack("{s:o}", "changes", changes)) != 0) {
		db_rollback(c);
		return SEGMENTS_ERROR;
	}
	return db_commit(c) == 0 ? SEGMENTS_OK : SEGMENTS_ERROR;
}

/*
 * The offerings the segment is to have: the chosen ids plus, when one was
 * typed in, the offering of that name (found or created here, in the
 * caller's transaction). *offerings gets [{id, name}] by name, *ids_text the
 * ids as a JSON array. SEGMENTS_UNKNOWN_OFFERING when a chosen id does not
 * exist — an offering cannot be deleted, so that is a tampered or stale form.
 */
static enum segments_result
segments_resolve_offerings(db_conn *tx, const char *actor_id, const struct segment_input *in,
			   json_t **offerings, char **ids_text)
{
	json_t *ids = json_array(), *id_json;
	size_t i, j, distinct;
	PGresult *res;

	for (i = 0; i < in->noffering_ids; i++) {
		int seen = 0;

		for (j = 0; j < i; j++)
			if (strcmp(in->offering_ids[i], in->offering_ids[j]) == 0)
				seen = 1;
		if (!seen)
			json_array_append_new(ids, json_string(in->offering_ids[i]));
	}
	distinct = json_array_size(ids);
	if (in->new_offering) {
		char oid[37];
		int created, dup = 0;

		if (offerings_ensure(tx, actor_id, in->new_offering, NULL, oid, NULL, &created) !=
		    0) {
			json_decref(ids);
			return SEGMENTS_ERROR;
		}
		json_array_foreach(
		    ids, i, id_json) if (strcasecmp(json_string_value(id_json), oid) == 0) dup = 1;
		if (!dup) {
			json_array_append_new(ids, json_string(oid));
			distinct++;
		}
	}
	*ids_text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	{
		const char *params[1] = {*ids_text};

		res = db_exec(tx, &stmt_segments_offerings_named, 1, params);
	}
	if (!res)
		return SEGMENTS_ERROR;
	*offerings = json_array();
	for (i = 0; i < (size_t)PQntuples(res); i++)
		json_array_append_new(*offerings,
				      json_pack("{s:s, s:s}", "id", PQgetvalue(res, (int)i, 0),
						"name", PQgetvalue(res, (int)i, 1)));
	PQclear(res);
	return json_array_size(*offerings) == distinct ? SEGMENTS_OK : SEGMENTS_UNKNOWN_OFFERING;
}

/* [{id, name}] → [name], keeping the order (by name). */
static json_t *
segments_names(json_t *offerings)
{
	json_t *names = json_array(), *o;
	size_t i;

	json_array_foreach(offerings, i, o) json_array_append(names, json_object_get(o, "name"));
	return names;
}

/* The names of the offerings in a but not in b (compared by id). */
static json_t *
segments_minus(json_t *a, json_t *b)
{
	json_t *out = json_array(), *x, *y;
	size_t i, j;

	json_array_foreach(a, i, x)
	{
		int found = 0;

		json_array_foreach(
		    b, j, y) if (strcasecmp(json_string_value(json_object_get(x, "id")),
					    json_string_value(json_object_get(y, "id"))) == 0)
		    found = 1;
		if (!found)
			json_array_append(out, json_object_get(x, "name"));
	}
	return out;
}

static int
segments_name_taken(db_conn *c)
{
	return db_error(c) == DB_ERR_CONSTRAINT &&
	       strcmp(db_error_constraint(c), "segments_name_lower_key") == 0;
}

static json_t *
segments_json_column(PGresult *res, int row, int col)
{
	json_t *v = json_loads(PQgetvalue(res, row, col), 0, NULL);

	return v ? v : json_array();
}

/* {pending, approved, rejected, total} from three count columns starting at col. */
static json_t *
segments_counts(PGresult *res, int row, int col)
{
	json_int_t p = atoll(PQgetvalue(res, row, col));
	json_int_t a = atoll(PQgetvalue(res, row, col + 1));
	json_int_t r = atoll(PQgetvalue(res, row, col + 2));

	return json_pack("{s:I, s:I, s:I, s:I}", "pending", p, "approved", a, "rejected", r,
			 "total", p + a + r);
}

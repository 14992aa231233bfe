/*
 * collateral — the marketing links, their scope and where they show.
 *
 * A link's scope is a (scope_type, scope_id) pair that a foreign key cannot
 * express; the database checks it on write (marketing_collaterals_scope_exists)
 * and this module names it for people: the one select below joins the three
 * possible scope tables, so every list, page and partial names a scope the
 * same way. Every change writes its audit row in the same transaction; a
 * removal's row keeps what was removed, since the link itself is gone.
 */
#include "collateral.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/records.h"
#include "domain/validate.h"

#define COLLATERAL_SELECT                                                                          \
	"SELECT m.id::text, m.title, m.url, m.description, m.scope_type, m.scope_id::text, "       \
	"CASE m.scope_type WHEN 'segment' THEN s.name WHEN 'offering' THEN o.name "                \
	"ELSE concat_ws(' ', k.first_name, k.last_name) END, "                                     \
	"CASE WHEN m.scope_type = 'lead' THEN concat_ws(' · ', k.email, kc.name) END, u.name, "   \
	"to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "          \
	"to_char(m.created_at, 'FMDD Mon YYYY'), url_host(m.url) "                                 \
	"FROM marketing_collaterals m "                                                            \
	"LEFT JOIN segments s ON m.scope_type = 'segment' AND s.id = m.scope_id "                  \
	"LEFT JOIN offerings o ON m.scope_type = 'offering' AND o.id = m.scope_id "                \
	"LEFT JOIN contacts k ON m.scope_type = 'lead' AND k.id = m.scope_id "                     \
	"LEFT JOIN companies kc ON kc.id = k.company_id JOIN users u ON u.id = m.created_by "
#define COLLATERAL_CURSOR_COL 9
#define COLLATERAL_MAX_PARAMS 8

DB_STMT(st_get, COLLATERAL_SELECT "WHERE m.id = $1::uuid");
DB_STMT(st_for_scope, COLLATERAL_SELECT "WHERE m.scope_type = $1 AND m.scope_id = $2::uuid "
					"ORDER BY m.created_at DESC, m.id DESC");
/* A segment's offerings' links, grouped by offering (name order). */
DB_STMT(
    st_segment_offerings,
    "SELECT so.offering_id::text, o.name, m.id::text FROM segment_offerings so "
    "JOIN offerings o ON o.id = so.offering_id JOIN marketing_collaterals m "
    "ON m.scope_type = 'offering' AND m.scope_id = so.offering_id "
    "WHERE so.segment_id = $1::uuid ORDER BY lower(o.name), o.id, m.created_at DESC, m.id DESC");
/* A contact's own links, then its segment's, then its segment's offerings'. */
DB_STMT(st_for_contact,
	"SELECT l.id::text, l.via FROM ("
	"SELECT m.id, 'This lead' AS via, 0 AS ord, '' AS name, m.created_at "
	"FROM marketing_collaterals m WHERE m.scope_type = 'lead' AND m.scope_id = $1::uuid "
	"UNION ALL SELECT m.id, 'Segment ' || s.name, 1, '', m.created_at FROM contacts k "
	"JOIN segments s ON s.id = k.segment_id JOIN marketing_collaterals m "
	"ON m.scope_type = 'segment' AND m.scope_id = k.segment_id WHERE k.id = $1::uuid "
	"UNION ALL SELECT m.id, 'Offering ' || o.name, 2, lower(o.name), m.created_at "
	"FROM contacts k JOIN segment_offerings so ON so.segment_id = k.segment_id "
	"JOIN offerings o ON o.id = so.offering_id JOIN marketing_collaterals m "
	"ON m.scope_type = 'offering' AND m.scope_id = o.id WHERE k.id = $1::uuid) l "
	"ORDER BY l.ord, l.name, l.created_at DESC, l.id DESC");
DB_STMT(st_insert, "INSERT INTO marketing_collaterals (title, url, description, scope_type, "
		   "scope_id, created_by) VALUES ($1, $2, $3, $4, $5::uuid, $6::uuid) "
		   "RETURNING id::text");
DB_STMT(st_lock, "SELECT title, url, description, scope_type, scope_id::text "
		 "FROM marketing_collaterals WHERE id = $1::uuid FOR UPDATE");
DB_STMT(st_update,
	"UPDATE marketing_collaterals SET title = $2, url = $3, description = $4, "
	"scope_type = $5, scope_id = $6::uuid, updated_by = $7::uuid WHERE id = $1::uuid");
DB_STMT(st_delete, "DELETE FROM marketing_collaterals WHERE id = $1::uuid "
		   "RETURNING title, url, scope_type, scope_id::text");
/* The scope's name for the audit row (the scope may be renamed or the link removed later). */
DB_STMT(st_scope_name,
	"SELECT CASE $1::text WHEN 'segment' THEN (SELECT name FROM segments WHERE id = $2::uuid) "
	"WHEN 'offering' THEN (SELECT name FROM offerings WHERE id = $2::uuid) "
	"ELSE (SELECT concat_ws(' ', first_name, last_name) || ' <' || email || '>' FROM contacts "
	"WHERE id = $2::uuid) END");

/* The picker: one statement per type; the selected one sorts first. */
DB_STMT(st_opt_segment,
	"SELECT id::text, name, CASE WHEN status = 'archived' THEN 'archived' ELSE '' END, "
	"id = $3::uuid FROM segments WHERE ($1::text IS NULL OR name ILIKE $1) OR id = $3::uuid "
	"ORDER BY id = $3::uuid DESC, status, lower(name) LIMIT $2::int");
DB_STMT(st_opt_offering,
	"SELECT id::text, name, CASE WHEN status = 'inactive' THEN 'inactive' ELSE '' END, "
	"id = $3::uuid FROM offerings WHERE ($1::text IS NULL OR name ILIKE $1) OR id = $3::uuid "
	"ORDER BY id = $3::uuid DESC, status, lower(name) LIMIT $2::int");
DB_STMT(
    st_opt_lead,
    "SELECT k.id::text, concat_ws(' ', k.first_name, k.last_name), "
    "concat_ws(' · ', k.email, c.name), k.id = $3::uuid FROM contacts k "
    "JOIN companies c ON c.id = k.company_id WHERE k.id = $3::uuid OR ($1::text IS NOT NULL AND "
    "(k.email ILIKE $1 OR k.last_name ILIKE $1 OR k.first_name ILIKE $1 "
    "OR concat_ws(' ', k.first_name, k.last_name) ILIKE $1 OR c.name ILIKE $1)) "
    "ORDER BY k.id = $3::uuid DESC, k.is_duplicate, lower(k.last_name), "
    "lower(k.first_name), k.id LIMIT $2::int");

static json_t *collateral_row(PGresult *res, int i);
static enum collateral_result collateral_fail(db_conn *c, json_t *errors);
static char *collateral_scope_name(db_conn *c, const char *type, const char *id);
static json_t *collateral_by_ids(db_conn *c, PGresult *ids, int id_col);

const char *
collateral_scope_label(const char *scope_type)
{
	if (!scope_type)
		return NULL;
	if (!strcmp(scope_type, "segment"))
		return "Segment";
	if (!strcmp(scope_type, "offering"))
		return "Offering";
	if (!strcmp(scope_type, "lead"))
		return "Lead";
	return NULL;
}

int
collateral_clean(const char *title, const char *url, const char *description,
		 const char *scope_type, const char *scope_id, struct collateral_input *out,
		 json_t *errors)
{
	const char *msg;
	int n = 0;

	memset(out, 0, sizeof *out);
	if ((title && validate_utf8(title, strlen(title))) ||
	    (url && validate_utf8(url, strlen(url))) ||
	    (description && validate_utf8(description, strlen(description)))) {
		json_object_set_new(errors, "title",
				    json_string("The form held text that is not valid UTF-8."));
		return 1;
	}
	out->title = normalise_text(title);
	out->url = normalise_url(url);
	out->description = normalise_multiline(description);
	out->scope_type = scope_type;
	out->scope_id = scope_id;
	if (!out->title) {
		json_object_set_new(errors, "title", json_string("Give the link a title."));
		n++;
	} else if (validate_max_length(out->title, COLLATERAL_TITLE_MAX)) {
		json_object_set_new(errors, "title",
				    json_string("Keep the title to 500 characters or fewer."));
		n++;
	}
	if (!out->url) {
		json_object_set_new(errors, "url", json_string("Paste the link's address."));
		n++;
	} else if ((msg = validate_url(out->url)) != NULL) {
		json_object_set_new(errors, "url", json_string(msg));
		n++;
	}
	if (out->description && validate_max_length(out->description, COLLATERAL_DESCRIPTION_MAX)) {
		json_object_set_new(
		    errors, "description",
		    json_string("Keep the description to 5,000 characters or fewer."));
		n++;
	}
	if (!collateral_scope_label(scope_type)) {
		json_object_set_new(errors, "scope_type",
				    json_string("Choose whether the link is for a segment, an "
						"offering or a lead."));
		n++;
	} else if (!scope_id || !uuid_valid(scope_id)) {
		char m[120];

		snprintf(m, sizeof m, "Choose the %s the link is for.",
			 !strcmp(scope_type, "lead") ? "lead" : scope_type);
		json_object_set_new(errors, "scope_id", json_string(m));
		n++;
	}
	return n;
}

void
collateral_input_free(struct collateral_input *in)
{
	free(in->title);
	free(in->url);
	free(in->description);
	memset(in, 0, sizeof *in);
}

/* A refused write: the scope vanished (23503) or a check failed; anything else is the DB's. */
static enum collateral_result
collateral_fail(db_conn *c, json_t *errors)
{
	const char *con = db_error_constraint(c);

	db_rollback(c);
	if (db_error(c) != DB_ERR_CONSTRAINT)
		return COLLATERAL_DB_ERROR;
	if (!strcmp(con, "marketing_collaterals_scope_fkey"))
		json_object_set_new(
		    errors, "scope_id",
		    json_string("That segment, offering or lead no longer exists."));
	else if (!strcmp(con, "marketing_collaterals_url_check"))
		json_object_set_new(errors, "url", json_string("Use an http or https link."));
	else if (!strcmp(con, "marketing_collaterals_title_check"))
		json_object_set_new(errors, "title", json_string("Give the link a title."));
	else
		json_object_set_new(errors, "title", json_string(db_error_message(c)));
	return COLLATERAL_INVALID;
}

static char *
collateral_scope_name(db_conn *c, const char *type, const char *id)
{
	const char *p[2] = {type, id};
	PGresult *res = db_exec(c, &st_scope_name, 2, p);
	char *name = NULL;

	if (!res)
		return NULL;
	name = xstrdup(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return name;
}

enum collateral_result
collateral_create(db_conn *c, const char *actor, const struct collateral_input *in, char id_out[37],
		  json_t *errors)
{
	const char *p[6] = {in->title,	    in->url,	  in->description,
			    in->scope_type, in->scope_id, actor};
	PGresult *res;
	char *scope;

	if (db_begin(c) != 0)
		return COLLATERAL_DB_ERROR;
	res = db_exec(c, &st_insert, 6, p);
	if (!res)
		return collateral_fail(c, errors);
	snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	scope = collateral_scope_name(c, in->scope_type, in->scope_id);
	if (!scope ||
	    audit_record(c, actor, "create", "collateral", id_out,
			 json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", in->title, "url", in->url,
				   "scope_type", in->scope_type, "scope", scope, "scope_id",
				   in->scope_id)) != 0 ||
	    db_commit(c) != 0) {
		free(scope);
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	free(scope);
	return COLLATERAL_OK;
}

enum collateral_result
collateral_update(db_conn *c, const char *actor, const char *id, const struct collateral_input *in,
		  json_t *errors)
{
	const char *lp[1] = {id};
	const char *p[7] = {id,		  in->title, in->url, in->description, in->scope_type,
			    in->scope_id, actor};
	json_t *changes = json_object();
	PGresult *old;
	char *old_scope = NULL, *new_scope = NULL;
	int moved;

	if (db_begin(c) != 0) {
		json_decref(changes);
		return COLLATERAL_DB_ERROR;
	}
	old = db_exec(c, &st_lock, 1, lp);
	if (!old) {
		json_decref(changes);
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	if (PQntuples(old) == 0) {
		PQclear(old);
		json_decref(changes);
		db_rollback(c);
		return COLLATERAL_NOT_FOUND;
	}
	audit_change(changes, "title", json_string(PQgetvalue(old, 0, 0)), json_string(in->title));
	audit_change(changes, "url", json_string(PQgetvalue(old, 0, 1)), json_string(in->url));
	audit_change(changes, "description",
		     PQgetisnull(old, 0, 2) ? NULL : json_string(PQgetvalue(old, 0, 2)),
		     in->description ? json_string(in->description) : NULL);
	moved = strcmp(PQgetvalue(old, 0, 3), in->scope_type) != 0 ||
		strcmp(PQgetvalue(old, 0, 4), in->scope_id) != 0;
	if (moved) {
		old_scope = collateral_scope_name(c, PQgetvalue(old, 0, 3), PQgetvalue(old, 0, 4));
		new_scope = collateral_scope_name(c, in->scope_type, in->scope_id);
		if (old_scope && new_scope) {
			char a[600], b[600];

			snprintf(a, sizeof a, "%s %s",
				 collateral_scope_label(PQgetvalue(old, 0, 3))
				     ? collateral_scope_label(PQgetvalue(old, 0, 3))
				     : "",
				 old_scope);
			snprintf(b, sizeof b, "%s %s", collateral_scope_label(in->scope_type),
				 new_scope);
			audit_change(changes, "scope", json_string(a), json_string(b));
		}
	}
	PQclear(old);
	if ((moved && (!old_scope || !new_scope))) {
		free(old_scope);
		free(new_scope);
		json_decref(changes);
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	free(old_scope);
	free(new_scope);
	if (json_object_size(changes) == 0) {
		json_decref(changes);
		db_rollback(c);
		return COLLATERAL_OK;
	}
	if (db_run(c, &st_update, 7, p) != 0) {
		json_decref(changes);
		return collateral_fail(c, errors);
	}
	if (audit_record(c, actor, "update", "collateral", id,
			 json_pack("{s:o}", "changes", changes)) != 0 ||
	    db_commit(c) != 0) {
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	return COLLATERAL_OK;
}

enum collateral_result
collateral_remove(db_conn *c, const char *actor, const char *id, json_t **removed)
{
	const char *p[1] = {id};
	PGresult *res;
	char *scope;
	json_t *details;

	if (removed)
		*removed = NULL;
	if (db_begin(c) != 0)
		return COLLATERAL_DB_ERROR;
	res = db_exec(c, &st_delete, 1, p);
	if (!res) {
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(c);
		return COLLATERAL_NOT_FOUND;
	}
	scope = collateral_scope_name(c, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	if (!scope) {
		PQclear(res);
		db_rollback(c);
		return COLLATERAL_DB_ERROR;
	}
	/* What was removed stays readable in the trail: the link itself is gone. */
	details = json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", PQgetvalue(res, 0, 0), "url",
			    PQgetvalue(res, 0, 1), "scope_type", PQgetvalue(res, 0, 2), "scope",
			    scope, "scope_id", PQgetvalue(res, 0, 3));
	free(scope);
	if (removed)
		*removed = json_incref(details);
	PQclear(res);
	if (audit_record(c, actor, "remove", "collateral", id, details) != 0 || db_commit(c) != 0) {
		db_rollback(c);
		if (removed) {
			json_decref(*removed);
			*removed = NULL;
		}
		return COLLATERAL_DB_ERROR;
	}
	return COLLATERAL_OK;
}

static json_t *
collateral_row(PGresult *res, int i)
{
	const char *type = PQgetvalue(res, i, 4);
	const char *label = collateral_scope_label(type);
	buf href = BUF_INIT;
	json_t *row;

	buf_printf(&href, "/%s/%s",
		   !strcmp(type, "segment")    ? "segments"
		   : !strcmp(type, "offering") ? "offerings"
					       : "contacts",
		   PQgetvalue(res, i, 5));
	row = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, "
			"s:b, s:b, s:b}",
			"id", PQgetvalue(res, i, 0), "title", PQgetvalue(res, i, 1), "url",
			PQgetvalue(res, i, 2), "description",
			records_nullable(records_value(res, i, 3)), "scope_type", type,
			"scope_label", label ? label : type, "scope_id", PQgetvalue(res, i, 5),
			"scope_name", PQgetvalue(res, i, 6), "scope_href", href.data, "scope_sub",
			records_nullable(records_value(res, i, 7)), "created_by",
			PQgetvalue(res, i, 8), "created_at", PQgetvalue(res, i, 9), "created_text",
			PQgetvalue(res, i, 10), "host", records_nullable(records_value(res, i, 11)),
			"is_segment", !strcmp(type, "segment"), "is_offering",
			!strcmp(type, "offering"), "is_lead", !strcmp(type, "lead"));
	buf_free(&href);
	return row;
}

json_t *
collateral_get(db_conn *c, const char *id, int *err)
{
	const char *p[1] = {id};
	PGresult *res;
	json_t *row = NULL;

	*err = 0;
	if (!uuid_valid(id))
		return NULL;
	res = db_exec(c, &st_get, 1, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) == 1)
		row = collateral_row(res, 0);
	PQclear(res);
	return row;
}

const char *
collateral_filter_problem(const struct collateral_filter *f)
{
	char ts[40], id[37];

	if (f->scope_type && !collateral_scope_label(f->scope_type))
		return "Choose segment, offering or lead.";
	if (f->scope_id && !uuid_valid(f->scope_id))
		return "That scope link is no longer valid.";
	if (f->after && records_parse_cursor(f->after, ts, id) != 0)
		return "That page link is no longer valid.";
	return validate_search(f->q);
}

/* The WHERE clause of the list and the count, binding the filter's values. */
static char *
collateral_where(buf *sql, const struct collateral_filter *f, const char **params, int *n)
{
	char *like = normalise_search_pattern(f->q);

	buf_puts(sql, "WHERE true");
	if (like) {
		params[(*n)++] = like;
		buf_printf(sql, " AND (m.title ILIKE $%d OR m.url ILIKE $%d)", *n, *n);
	}
	if (f->scope_type) {
		params[(*n)++] = f->scope_type;
		buf_printf(sql, " AND m.scope_type = $%d", *n);
	}
	if (f->scope_id) {
		params[(*n)++] = f->scope_id;
		buf_printf(sql, " AND m.scope_id = $%d::uuid", *n);
	}
	return like;
}

json_t *
collateral_list(db_conn *c, const struct collateral_filter *f, char **next)
{
	const char *params[COLLATERAL_MAX_PARAMS];
	char ts[40], id[37];
	buf sql = BUF_INIT;
	json_t *rows;
	char *like;
	int n = 0;

	buf_puts(&sql, COLLATERAL_SELECT);
	like = collateral_where(&sql, f, params, &n);
	records_keyset(&sql, params, &n, "m", f->after, 0, ts, id);
	rows = records_page(c, &sql, params, n, f->limit > 0 ? f->limit : 50, COLLATERAL_CURSOR_COL,
			    collateral_row, next);
	buf_free(&sql);
	free(like);
	return rows;
}

long long
collateral_count(db_conn *c, const struct collateral_filter *f)
{
	const char *params[COLLATERAL_MAX_PARAMS];
	buf sql = BUF_INIT;
	PGresult *res;
	long long total = -1;
	char *like;
	int n = 0;

	buf_puts(&sql, "SELECT count(*) FROM marketing_collaterals m ");
	like = collateral_where(&sql, f, params, &n);
	res = db_exec_params(c, sql.data, n, params);
	if (res) {
		total = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	buf_free(&sql);
	free(like);
	return total;
}

json_t *
collateral_for_scope(db_conn *c, const char *scope_type, const char *scope_id)
{
	const char *p[2] = {scope_type, scope_id};

	return records_rows(db_exec(c, &st_for_scope, 2, p), collateral_row);
}

/* The links whose ids are in column id_col of ids, in that order (one statement each: few). */
static json_t *
collateral_by_ids(db_conn *c, PGresult *ids, int id_col)
{
	json_t *list = json_array();
	int i;

	for (i = 0; i < PQntuples(ids); i++) {
		const char *p[1] = {PQgetvalue(ids, i, id_col)};
		PGresult *res = db_exec(c, &st_get, 1, p);

		if (!res) {
			json_decref(list);
			return NULL;
		}
		if (PQntuples(res) == 1)
			json_array_append_new(list, collateral_row(res, 0));
		PQclear(res);
	}
	return list;
}

json_t *
collateral_for_segment(db_conn *c, const char *segment_id)
{
	const char *p[1] = {segment_id};
	json_t *own = collateral_for_scope(c, "segment", segment_id), *groups, *links,
	       *group = NULL;
	PGresult *res;
	int i;

	if (!own)
		return NULL;
	res = db_exec(c, &st_segment_offerings, 1, p);
	if (!res) {
		json_decref(own);
		return NULL;
	}
	links = collateral_by_ids(c, res, 2);
	if (!links) {
		PQclear(res);
		json_decref(own);
		return NULL;
	}
	groups = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		const char *oid = PQgetvalue(res, i, 0);

		if (!group || strcmp(json_string_value(json_object_get(group, "id")), oid) != 0) {
			buf href = BUF_INIT;

			buf_printf(&href, "/offerings/%s", oid);
			group = json_pack("{s:s, s:s, s:s, s:[]}", "id", oid, "name",
					  PQgetvalue(res, i, 1), "href", href.data, "links");
			buf_free(&href);
			json_array_append_new(groups, group);
		}
		json_array_append(json_object_get(group, "links"),
				  json_array_get(links, (size_t)i));
	}
	PQclear(res);
	json_decref(links);
	return json_pack("{s:o, s:o, s:b, s:b}", "links", own, "offerings", groups, "has_any",
			 json_array_size(own) + json_array_size(groups) > 0, "has_own",
			 json_array_size(own) > 0);
}

json_t *
collateral_for_contact(db_conn *c, const char *contact_id)
{
	const char *p[1] = {contact_id};
	PGresult *res = db_exec(c, &st_for_contact, 1, p);
	json_t *links;
	size_t i;

	if (!res)
		return NULL;
	links = collateral_by_ids(c, res, 0);
	if (!links) {
		PQclear(res);
		return NULL;
	}
	for (i = 0; i < json_array_size(links); i++)
		json_object_set_new(json_array_get(links, i), "via",
				    json_string(PQgetvalue(res, (int)i, 1)));
	PQclear(res);
	return json_pack("{s:o, s:b}", "links", links, "has_any", json_array_size(links) > 0);
}

json_t *
collateral_scope_options(db_conn *c, const char *scope_type, const char *q, const char *selected_id,
			 int limit)
{
	char lim[16], *like = normalise_search_pattern(q);
	const char *p[3];
	db_stmt *st;
	PGresult *res;
	json_t *list;
	int i;

	if (!collateral_scope_label(scope_type)) {
		free(like);
		return json_array();
	}
	st = !strcmp(scope_type, "segment")    ? &st_opt_segment
	     : !strcmp(scope_type, "offering") ? &st_opt_offering
					       : &st_opt_lead;
	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 20);
	p[0] = like;
	p[1] = lim;
	p[2] = selected_id && uuid_valid(selected_id) ? selected_id : NULL;
	res = db_exec(c, st, 3, p);
	free(like);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s, s:b}", "id", PQgetvalue(res, i, 0), "label",
				    PQgetvalue(res, i, 1), "sub", PQgetvalue(res, i, 2), "checked",
				    PQgetvalue(res, i, 3)[0] == 't'));
	PQclear(res);
	return list;
}

/*
 * companies — field rules, the filtered list, the record, and its decisions.
 *
 * The list is built from fixed SQL fragments, one per filter in use, with
 * every value bound: the planner then sees exactly the predicates of this
 * request and picks the matching index (segment, status, creator, pending
 * queue), which a single catch-all statement with "$1 IS NULL OR …" would not
 * get from a cached generic plan. Pages are keyset-paginated on
 * (created_at, id), so page 500 costs what page 1 does.
 */
#include "companies.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/validate.h"

const struct record_field companies_fields[COMPANIES_NFIELDS] = {
    {"name", "Company name", "Company Name", RF_NAME, 500, 1},
    {"website", "Website", "Company Website", RF_URL, 2048, 0},
    {"phone", "Phone", "Company Phone", RF_TEXT, 50, 0},
    {"description", "Description", "Company Description", RF_LONG, 5000, 0},
    {"linkedin_url", "LinkedIn URL", "Company LinkedIn URL", RF_URL, 2048, 0},
    {"industry", "Industry", "Company Industry", RF_TEXT, 200, 0},
    {"sub_industry", "Sub-industry", "Company Sub-Industry", RF_TEXT, 200, 0},
    {"address_street", "Street", "Street", RF_TEXT, 500, 0},
    {"address_city", "City", "City", RF_TEXT, 200, 0},
    {"address_state", "State/Province", "State/Province", RF_TEXT, 200, 0},
    {"address_country", "Country/Region", "Country/Region", RF_TEXT, 200, 0},
    {"address_zip", "ZIP/Postal code", "ZIP/Postal Code", RF_TEXT, 50, 0},
    {"founded_year", "Founded", "Founded Year", RF_YEAR, 4, 0},
    {"revenue_range", "Revenue range", "Revenue Range", RF_TEXT, 200, 0},
    {"employee_size_range", "Employees", "Employee Size Range", RF_TEXT, 200, 0},
};

/* The columns the list and export read, shared so that both show the same rows. */
#define COMPANIES_LIST_SELECT                                                                      \
	"SELECT c.id, c.name, c.website, c.status, c.industry, c.address_city, "                   \
	"c.address_country, c.is_duplicate, c.is_active, s.name, u.name, "                         \
	"to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "          \
	"to_char(c.created_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY'), c.segment_id, "                \
	"c.rejection_reason, c.founded_year, c.phone " COMPANIES_LIST_FROM

#define COMPANIES_LIST_FROM                                                                        \
	"FROM companies c JOIN segments s ON s.id = c.segment_id "                                 \
	"JOIN users u ON u.id = c.created_by WHERE true"

/*
 * The export: every column, in the import template's order (so an exported
 * file can be edited and imported again), then what only the database knows.
 */
#define COMPANIES_EXPORT_SELECT                                                                    \
	"SELECT c.name, s.name, c.website, c.phone, c.description, c.linkedin_url, c.industry, "   \
	"c.sub_industry, c.address_street, c.address_city, c.address_state, c.address_country, "   \
	"c.address_zip, c.founded_year, c.revenue_range, c.employee_size_range, c.status, "        \
	"c.rejection_reason, c.is_duplicate, c.is_active, c.batch_id, "                            \
	"to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "                      \
	"to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), u.name, "              \
	"c.id " COMPANIES_LIST_FROM
#define COMPANIES_EXPORT_IMPORTED 16 /* the import template's columns come first */

/* The list counts at most this many rows: the first screen must not grow with the data. */
#define COMPANIES_COUNT_CAP 10000

#define COMPANIES_MAX_PARAMS 16

static void companies_build_query(const struct companies_filter *f, const char *select, buf *sql,
				  const char *params[COMPANIES_MAX_PARAMS], int *n,
				  const char *like, char *cur_ts, char *cur_id, int ordered);
static json_t *companies_row(PGresult *res, int i);
static json_t *companies_meta(PGresult *res, int i, const char *place);
static json_t *companies_id_names(db_conn *c, db_stmt *st);
static void companies_conflict_message(db_conn *c, const char *id, char *msg, size_t msglen);
static const char *companies_segment_problem(db_conn *c, const char *segment_id, int *dberr);
static enum companies_result companies_decide(db_conn *c, const char *actor, const char *id,
					      const char *reason, char *msg, size_t msglen);

DB_STMT(stmt_segment_status, "SELECT status FROM segments WHERE id = $1");
DB_STMT(
    stmt_company_get,
    "SELECT c.id, c.name, c.website, c.phone, c.description, c.linkedin_url, c.industry, "
    "c.sub_industry, c.address_street, c.address_city, c.address_state, c.address_country, "
    "c.address_zip, c.founded_year, c.revenue_range, c.employee_size_range, c.segment_id, "
    "s.name, c.status, c.rejection_reason, c.is_duplicate, c.duplicate_of, d.name, c.is_active, "
    "c.batch_id, u.name, to_char(c.created_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI'), "
    "sc.name, to_char(c.status_changed_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI'), "
    "s.status, (SELECT count(*) FROM contacts k WHERE k.company_id = c.id) "
    "FROM companies c JOIN segments s ON s.id = c.segment_id "
    "JOIN users u ON u.id = c.created_by LEFT JOIN companies d ON d.id = c.duplicate_of "
    "LEFT JOIN users sc ON sc.id = c.status_changed_by WHERE c.id = $1");
DB_STMT(stmt_company_lock,
	"SELECT name, website, phone, description, linkedin_url, industry, sub_industry, "
	"address_street, address_city, address_state, address_country, address_zip, "
	"founded_year::text, revenue_range, employee_size_range, segment_id "
	"FROM companies WHERE id = $1 FOR UPDATE");
DB_STMT(stmt_company_insert,
	"INSERT INTO companies (name, website, phone, description, linkedin_url, industry, "
	"sub_industry, address_street, address_city, address_state, address_country, address_zip, "
	"founded_year, revenue_range, employee_size_range, segment_id, created_by) VALUES "
	"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::int, $14, $15, $16, $17) "
	"RETURNING id");
DB_STMT(stmt_company_approve,
	"UPDATE companies SET status = 'approved', status_changed_at = now(), "
	"status_changed_by = $2 WHERE id = $1 AND status = 'pending' RETURNING name");
DB_STMT(stmt_company_reject,
	"UPDATE companies SET status = 'rejected', rejection_reason = $3, "
	"status_changed_at = now(), status_changed_by = $2 WHERE id = $1 AND status = 'pending' "
	"RETURNING name");
DB_STMT(stmt_company_decided,
	"SELECT c.status, coalesce(u.name, 'someone'), "
	"coalesce(to_char(c.status_changed_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI'), '') "
	"FROM companies c LEFT JOIN users u ON u.id = c.status_changed_by WHERE c.id = $1");
DB_STMT(stmt_active_segments,
	"SELECT id, name FROM segments WHERE status = 'active' ORDER BY lower(name)");
/*
 * One statement for the filter bar's lists: every list page shows them, and
 * round trips are what cost. Rows (list, id, name), each list in its order.
 */
DB_STMT(stmt_filter_options,
	"SELECT l, id::text, name FROM ("
	"SELECT 1 AS k, 'segments' AS l, id, name FROM segments WHERE status = 'active' "
	"UNION ALL SELECT 2, 'researchers', u.id, u.name FROM users u WHERE EXISTS "
	"(SELECT 1 FROM companies c WHERE c.created_by = u.id) "
	"UNION ALL SELECT 3, 'assignees', u.id, u.name FROM users u WHERE EXISTS (SELECT 1 FROM "
	"assignments a WHERE a.assigned_to = u.id AND a.entity_type = 'company' AND a.is_active)"
	") x ORDER BY k, lower(name), id");

/* ------------------------------------------------------------- field rules */

json_t *
companies_field_json(const struct record_field *f, json_t *value)
{
	return records_field_json(f, value);
}

int
companies_clean(companies_get_fn get, void *ctx, int partial, char *out[COMPANIES_NFIELDS],
		int present[COMPANIES_NFIELDS], json_t *errors)
{
	return records_clean(companies_fields, COMPANIES_NFIELDS, get, ctx, partial, out, present,
			     errors);
}

void
companies_values_free(char *out[COMPANIES_NFIELDS])
{
	records_values_free(out, COMPANIES_NFIELDS);
}

/* ------------------------------------------------------------------- list */

const char *
companies_filter_problem(const struct companies_filter *f)
{
	if (f->status && strcmp(f->status, "pending") && strcmp(f->status, "approved") &&
	    strcmp(f->status, "rejected"))
		return "Status must be pending, approved or rejected.";
	if (f->assigned_to && !uuid_valid(f->assigned_to))
		return "Choose the assigned researcher from the list.";
	return records_filter_problem(f->segment_id, f->created_by, f->batch_id, f->q, f->from,
				      f->to, f->after);
}

/*
 * Appends "AND …" for each filter in use, binding values in order. like is
 * the search pattern (normalise_search_pattern) or NULL; cur_ts and cur_id
 * are caller storage for the parsed cursor.
 */
static void
companies_build_query(const struct companies_filter *f, const char *select, buf *sql,
		      const char *params[COMPANIES_MAX_PARAMS], int *n, const char *like,
		      char *cur_ts, char *cur_id, int ordered)
{
	buf_puts(sql, select);
	*n = 0;
	records_where(sql, params, n, "c.segment_id", f->segment_id);
	records_where(sql, params, n, "c.status", f->status);
	records_where(sql, params, n, "c.created_by", f->created_by);
	if (f->assigned_to) {
		params[(*n)++] = f->assigned_to;
		buf_printf(
		    sql,
		    " AND EXISTS (SELECT 1 FROM assignments a WHERE a.entity_type = "
		    "'company' AND a.entity_id = c.id AND a.assigned_to = $%d AND a.is_active)",
		    *n);
	}
	records_where(sql, params, n, "c.batch_id", f->batch_id);
	records_date_range(sql, params, n, "c", f->from, f->to);
	if (like) {
		params[(*n)++] = like;
		buf_printf(sql, " AND c.name ILIKE $%d", *n);
	}
	if (!f->show_duplicates)
		buf_puts(sql, " AND NOT c.is_duplicate");
	else if (f->show_duplicates == COMPANIES_ONLY_DUPLICATES)
		buf_puts(sql, " AND c.is_duplicate");
	if (!f->show_inactive)
		buf_puts(sql, " AND c.is_active");
	/* A count wants neither the cursor nor the order. */
	if (ordered)
		records_keyset(sql, params, n, "c", f->after, f->oldest_first, cur_ts, cur_id);
}

/* "acme.com · Robotics · Lyon, France" without dangling separators: the queue's second line. */
static json_t *
companies_meta(PGresult *res, int i, const char *place)
{
	const char *parts[3] = {records_value(res, i, 2), records_value(res, i, 4), place};
	buf b = BUF_INIT;
	json_t *s;
	int k;

	for (k = 0; k < 3; k++) {
		if (!parts[k] || !*parts[k])
			continue;
		if (b.len)
			buf_puts(&b, " · ");
		buf_puts(&b, parts[k]);
	}
	s = json_string(b.data ? b.data : "");
	buf_free(&b);
	return s;
}

static json_t *
companies_row(PGresult *res, int i)
{
	const char *city = records_value(res, i, 5), *country = records_value(res, i, 6);
	buf place = BUF_INIT;
	json_t *row;

	if (city)
		buf_puts(&place, city);
	if (city && country)
		buf_puts(&place, ", ");
	if (country)
		buf_puts(&place, country);
	row = json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:o}",
			"id", PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1), "website",
			records_nullable(records_value(res, i, 2)), "status", PQgetvalue(res, i, 3),
			"industry", records_nullable(records_value(res, i, 4)), "place",
			place.data ? place.data : "", "is_duplicate",
			PQgetvalue(res, i, 7)[0] == 't', "is_active",
			PQgetvalue(res, i, 8)[0] == 't', "segment", PQgetvalue(res, i, 9),
			"created_by", PQgetvalue(res, i, 10), "created_at", PQgetvalue(res, i, 11),
			"created_on", PQgetvalue(res, i, 12), "segment_id", PQgetvalue(res, i, 13),
			"rejection_reason", records_nullable(records_value(res, i, 14)));
	json_object_set_new(row, PQgetvalue(res, i, 3), json_true()); /* {{#pending}} etc. */
	json_object_set_new(row, "meta", companies_meta(res, i, place.data));
	buf_free(&place);
	return row;
}

json_t *
companies_list(db_conn *c, const struct companies_filter *f, char **next)
{
	buf sql = BUF_INIT;
	const char *params[COMPANIES_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	json_t *rows;
	int n;

	companies_build_query(f, COMPANIES_LIST_SELECT, &sql, params, &n, like, ts, id, 1);
	rows = records_page(c, &sql, params, n, f->limit, 11, companies_row, next);
	buf_free(&sql);
	free(like);
	return rows;
}

long long
companies_count(db_conn *c, const struct companies_filter *f, int *capped)
{
	struct companies_filter all = *f;
	buf sql = BUF_INIT;
	const char *params[COMPANIES_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	long long total;
	int n;

	all.after = NULL; /* the count is of the whole filtered list, not what is left of it */
	/*
	 * No join: every filter is on the company's own columns, and its segment
	 * and creator always exist, so the joins the list needs for names would
	 * only cost the count (21 ms of the approval queue's 100× floor).
	 */
	companies_build_query(&all, "SELECT 1 FROM companies c WHERE true", &sql, params, &n, like,
			      ts, id, 0);
	total = records_count(c, &sql, params, n, COMPANIES_COUNT_CAP, capped);
	buf_free(&sql);
	free(like);
	return total;
}

int
companies_export_open(db_conn *tx, const struct companies_filter *f)
{
	buf sql = BUF_INIT;
	const char *params[COMPANIES_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	int n, rc;

	companies_build_query(f, COMPANIES_EXPORT_SELECT, &sql, params, &n, like, ts, id, 1);
	rc = records_export_open(tx, "companies_export", &sql, params, n);
	buf_free(&sql);
	free(like);
	return rc;
}

int
companies_export_fetch(db_conn *tx, buf *out, int *header_done)
{
	static const char *header[COMPANIES_EXPORT_IMPORTED + 9];
	static const int yes_no[] = {COMPANIES_EXPORT_IMPORTED + 2, COMPANIES_EXPORT_IMPORTED + 3,
				     -1};
	static const char *const extra[] = {"Status", "Rejection Reason", "Duplicate", "Active",
					    "Batch",  "Created",	  "Updated",   "Researcher",
					    "Id"};
	const struct records_export e = {"companies_export", header,
					 sizeof header / sizeof header[0], yes_no};
	size_t i;

	/* the import template's order: the name, the segment, then the other fields */
	header[0] = companies_fields[0].csv_header;
	header[1] = "Segment Name";
	for (i = 1; i < COMPANIES_NFIELDS; i++)
		header[i + 1] = companies_fields[i].csv_header;
	for (i = 0; i < sizeof extra / sizeof extra[0]; i++)
		header[COMPANIES_EXPORT_IMPORTED + i] = extra[i];
	return records_export_fetch(tx, &e, out, header_done);
}

/* ------------------------------------------------------------------ record */

json_t *
companies_get(db_conn *c, const char *id, int *err)
{
	const char *p[1] = {id};
	PGresult *res;
	json_t *o, *fields;
	int i;

	*err = 0;
	res = db_exec(c, &stmt_company_get, 1, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:b, s:o, s:s, s:s, s:o, s:o, "
		      "s:b, s:s}",
		      "id", PQgetvalue(res, 0, 0), "segment_id", PQgetvalue(res, 0, 16), "segment",
		      PQgetvalue(res, 0, 17), "status", PQgetvalue(res, 0, 18), "rejection_reason",
		      records_nullable(records_value(res, 0, 19)), "is_duplicate",
		      PQgetvalue(res, 0, 20)[0] == 't', "duplicate_of",
		      records_nullable(records_value(res, 0, 21)), "duplicate_of_name",
		      records_nullable(records_value(res, 0, 22)), "is_active",
		      PQgetvalue(res, 0, 23)[0] == 't', "batch_id",
		      records_nullable(records_value(res, 0, 24)), "created_by",
		      PQgetvalue(res, 0, 25), "created_at", PQgetvalue(res, 0, 26),
		      "status_changed_by", records_nullable(records_value(res, 0, 27)),
		      "status_changed_at", records_nullable(records_value(res, 0, 28)),
		      "segment_active", strcmp(PQgetvalue(res, 0, 29), "active") == 0,
		      "contacts_count", PQgetvalue(res, 0, 30));
	json_object_set_new(o, PQgetvalue(res, 0, 18), json_true());
	fields = json_array();
	for (i = 0; i < COMPANIES_NFIELDS; i++) {
		const char *v = records_value(res, 0, i + 1);

		json_object_set_new(o, companies_fields[i].column, records_nullable(v));
		json_array_append_new(
		    fields, companies_field_json(&companies_fields[i], records_nullable(v)));
	}
	json_object_set_new(o, "name", json_string(PQgetvalue(res, 0, 1)));
	json_object_set_new(o, "fields", fields);
	PQclear(res);
	return o;
}

/* [{id, name}] from a statement returning those two columns. */
static json_t *
companies_id_names(db_conn *c, db_stmt *st)
{
	PGresult *res = db_exec(c, st, 0, NULL);
	json_t *list;
	int i;

	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "id", PQgetvalue(res, i, 0),
						      "name", PQgetvalue(res, i, 1)));
	PQclear(res);
	return list;
}

json_t *
companies_active_segments(db_conn *c)
{
	return companies_id_names(c, &stmt_active_segments);
}

json_t *
companies_filter_options(db_conn *c)
{
	static const char *const lists[] = {"segments", "researchers", "assignees"};

	return records_lists(c, &stmt_filter_options, 0, NULL, lists, 3);
}

/* The segment must exist and be active: only active segments take new companies. */
static const char *
companies_segment_problem(db_conn *c, const char *segment_id, int *dberr)
{
	const char *p[1] = {segment_id};
	PGresult *res;
	const char *problem = NULL;

	*dberr = 0;
	if (!segment_id || !uuid_valid(segment_id))
		return "Choose a segment.";
	res = db_exec(c, &stmt_segment_status, 1, p);
	if (!res) {
		*dberr = 1;
		return NULL;
	}
	if (PQntuples(res) != 1)
		problem = "That segment does not exist.";
	else if (strcmp(PQgetvalue(res, 0, 0), "active") != 0)
		problem = "That segment is archived and takes no new companies.";
	PQclear(res);
	return problem;
}

enum companies_result
companies_create(db_conn *c, const char *actor, const char *segment_id,
		 char *vals[COMPANIES_NFIELDS], char id_out[37], json_t *errors)
{
	const char *p[17];
	const char *problem;
	PGresult *res;
	json_t *details;
	int i, dberr;

	problem = companies_segment_problem(c, segment_id, &dberr);
	if (dberr)
		return COMPANIES_DB_ERROR;
	if (problem) {
		json_object_set_new(errors, "segment_id", json_string(problem));
		return COMPANIES_INVALID;
	}
	for (i = 0; i < COMPANIES_NFIELDS; i++)
		p[i] = vals[i];
	p[15] = segment_id;
	p[16] = actor;
	if (db_begin(c) != 0)
		return COMPANIES_DB_ERROR;
	res = db_exec(c, &stmt_company_insert, 17, p);
	if (!res)
		goto fail;
	snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	details = json_object();
	for (i = 0; i < COMPANIES_NFIELDS; i++)
		if (vals[i])
			json_object_set_new(details, companies_fields[i].column,
					    json_string(vals[i]));
	json_object_set_new(details, "segment_id", json_string(segment_id));
	if (audit_record(c, actor, "create", "company", id_out, details) != 0 || db_commit(c) != 0)
		goto fail;
	return COMPANIES_OK;
fail:
	db_rollback(c);
	if (db_error(c) == DB_ERR_CONSTRAINT) {
		/* the segment was archived between the check and the insert */
		json_object_set_new(errors, "segment_id", json_string(db_error_message(c)));
		return COMPANIES_INVALID;
	}
	return COMPANIES_DB_ERROR;
}

enum companies_result
companies_update(db_conn *c, const char *actor, const char *id, const char *segment_id,
		 char *vals[COMPANIES_NFIELDS], const int present[COMPANIES_NFIELDS],
		 json_t *errors)
{
	const char *p[1] = {id};
	const char *up[COMPANIES_NFIELDS + 2];
	json_t *changes = json_object();
	buf sql = BUF_INIT;
	PGresult *res;
	int n = 0, dberr;

	if (segment_id) {
		const char *problem = companies_segment_problem(c, segment_id, &dberr);

		if (dberr)
			goto dbfail_nobegin;
		if (problem) {
			json_object_set_new(errors, "segment_id", json_string(problem));
			json_decref(changes);
			return COMPANIES_INVALID;
		}
	}
	if (db_begin(c) != 0)
		goto dbfail_nobegin;
	res = db_exec(c, &stmt_company_lock, 1, p);
	if (!res)
		goto dbfail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(c);
		json_decref(changes);
		return COMPANIES_NOT_FOUND;
	}
	buf_puts(&sql, "UPDATE companies SET ");
	records_set_changes(&sql, up, &n, companies_fields, COMPANIES_NFIELDS, res, 0, vals,
			    present, changes);
	if (segment_id &&
	    audit_change(changes, "segment_id", json_string(PQgetvalue(res, 0, COMPANIES_NFIELDS)),
			 json_string(segment_id))) {
		up[n++] = segment_id;
		buf_printf(&sql, "%ssegment_id = $%d", n > 1 ? ", " : "", n);
	}
	PQclear(res);
	if (n == 0) { /* nothing changed: nothing to write or audit */
		db_rollback(c);
		buf_free(&sql);
		json_decref(changes);
		return COMPANIES_OK;
	}
	up[n++] = id;
	buf_printf(&sql, " WHERE id = $%d", n);
	res = db_exec_params(c, sql.data, n, up);
	buf_free(&sql);
	if (!res)
		goto dbfail;
	PQclear(res);
	if (audit_record(c, actor, "update", "company", id,
			 json_pack("{s:o}", "changes", changes)) != 0 ||
	    db_commit(c) != 0) {
		changes = NULL;
		goto dbfail;
	}
	return COMPANIES_OK;
dbfail:
	db_rollback(c);
dbfail_nobegin:
	buf_free(&sql);
	json_decref(changes);
	if (db_error(c) == DB_ERR_CONSTRAINT) {
		json_object_set_new(errors, "segment_id", json_string(db_error_message(c)));
		return COMPANIES_INVALID;
	}
	return COMPANIES_DB_ERROR;
}

/* Why a decision could not be taken: who took the other one, and when. */
static void
companies_conflict_message(db_conn *c, const char *id, char *msg, size_t msglen)
{
	const char *p[1] = {id};
	PGresult *res = db_exec(c, &stmt_company_decided, 1, p);

	if (!res || PQntuples(res) != 1)
		snprintf(msg, msglen, "This company no longer exists.");
	else if (strcmp(PQgetvalue(res, 0, 0), "approved") == 0)
		snprintf(msg, msglen, "Already approved by %s on %s.", PQgetvalue(res, 0, 1),
			 PQgetvalue(res, 0, 2));
	else
		snprintf(msg, msglen, "Already rejected by %s on %s. A rejection is final.",
			 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
}

static enum companies_result
companies_decide(db_conn *c, const char *actor, const char *id, const char *reason, char *msg,
		 size_t msglen)
{
	const char *p[3] = {id, actor, reason};
	PGresult *res;
	char *name;

	if (!uuid_valid(id))
		return COMPANIES_NOT_FOUND;
	if (db_begin(c) != 0)
		return COMPANIES_DB_ERROR;
	/*
	 * "AND status = 'pending'" is the whole concurrency story: a second
	 * approver's UPDATE waits for the first one's row lock, then finds the
	 * row no longer pending and changes nothing.
	 */
	res = db_exec(c, reason ? &stmt_company_reject : &stmt_company_approve, reason ? 3 : 2, p);
	if (!res)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(c);
		companies_conflict_message(c, id, msg, msglen);
		return strstr(msg, "no longer exists") ? COMPANIES_NOT_FOUND : COMPANIES_CONFLICT;
	}
	name = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (audit_record(c, actor, reason ? "reject" : "approve", "company", id,
			 reason ? json_pack("{s:s, s:s}", "name", name, "reason", reason)
				: json_pack("{s:s}", "name", name)) != 0 ||
	    db_commit(c) != 0) {
		free(name);
		goto fail;
	}
	snprintf(msg, msglen, "%s %s.", name, reason ? "rejected" : "approved");
	free(name);
	return COMPANIES_OK;
fail:
	db_rollback(c);
	if (db_error(c) == DB_ERR_CONSTRAINT) {
		snprintf(msg, msglen, "%s", db_error_message(c));
		return COMPANIES_CONFLICT;
	}
	return COMPANIES_DB_ERROR;
}

enum companies_result
companies_approve(db_conn *c, const char *actor, const char *id, char *msg, size_t msglen)
{
	return companies_decide(c, actor, id, NULL, msg, msglen);
}

enum companies_result
companies_reject(db_conn *c, const char *actor, const char *id, const char *reason, char *msg,
		 size_t msglen)
{
	char *clean;
	enum companies_result r;

	if (reason && validate_utf8(reason, strlen(reason))) {
		snprintf(msg, msglen, "The reason is not valid UTF-8 text.");
		return COMPANIES_INVALID;
	}
	clean = normalise_multiline(reason);
	if (!clean) {
		snprintf(msg, msglen, "Give a reason for the rejection.");
		return COMPANIES_INVALID;
	}
	if (validate_max_length(clean, 5000)) {
		snprintf(msg, msglen, "Keep the reason under 5000 characters.");
		free(clean);
		return COMPANIES_INVALID;
	}
	r = companies_decide(c, actor, id, clean, msg, msglen);
	free(clean);
	return r;
}

/*
 * contacts — field rules, the filtered list, the record, its status history
 * and (bulk) approval.
 *
 * As for companies, the list is built from fixed SQL fragments, one per
 * filter in use, every value bound, so the planner sees this request's
 * predicates and picks the matching index; pages are keyset-paginated on
 * (created_at, id) (domain/records.h). The search box looks in first and
 * last name, e-mail, job title and the company's name, each predicate the
 * expression a trigram index was built on (migrations 0001, 0006).
 */
#include "contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/contact_import.h"
#include "domain/normalise.h"

/* Table order; CONTACTS_FIELD_COLUMNS below lists the same columns in the same order. */
const struct record_field contacts_fields[CONTACTS_NFIELDS] = {
    {"first_name", "First name", "First Name", RF_TEXT, 200, 1},
    {"last_name", "Last name", "Last Name", RF_TEXT, 200, 1},
    {"email", "E-mail", "Email", RF_EMAIL, 320, 1},
    {"mobile_phone", "Mobile phone", "Mobile Phone", RF_TEXT, 50, 0},
    {"direct_phone", "Direct phone", "Direct Phone Number", RF_TEXT, 50, 0},
    {"job_title", "Job title", "Job Title", RF_TEXT, 500, 0},
    {"email_2", "Second e-mail", "Email Address 2", RF_EMAIL, 320, 0},
    {"email_active_status", "E-mail status", "Email Active Status", RF_TEXT, 100, 0},
    {"lead_source", "Lead source", "Lead Source Global", RF_TEXT, 200, 0},
    {"management_level", "Management level", "Management Level", RF_TEXT, 200, 0},
    {"address_street", "Street", "Street", RF_TEXT, 500, 0},
    {"address_city", "City", "City", RF_TEXT, 200, 0},
    {"address_state", "State/Province", "State/Province", RF_TEXT, 200, 0},
    {"address_country", "Country/Region", "Country/Region", RF_TEXT, 200, 0},
    {"address_zip", "ZIP/Postal code", "ZIP/Postal Code", RF_TEXT, 50, 0},
    {"primary_timezone", "Time zone", "Primary Time Zone", RF_TEXT, 100, 0},
    {"linkedin_url", "LinkedIn URL", "Contact LinkedIn URL", RF_URL, 2048, 0},
    {"linkedin_summary", "LinkedIn summary", "LinkedIn Summary", RF_LONG, 5000, 0},
    {"data_requester_details", "Data requester", "Data Requester Details", RF_TEXT, 500, 0},
};

#define CONTACTS_FIELD_COLUMNS                                                                     \
	"first_name, last_name, email, mobile_phone, direct_phone, job_title, email_2, "           \
	"email_active_status, lead_source, management_level, address_street, address_city, "       \
	"address_state, address_country, address_zip, primary_timezone, linkedin_url, "            \
	"linkedin_summary, data_requester_details"

/* The same, read through the alias k where other tables have columns of those names. */
#define CONTACTS_K_FIELD_COLUMNS                                                                   \
	"k.first_name, k.last_name, k.email, k.mobile_phone, k.direct_phone, k.job_title, "        \
	"k.email_2, k.email_active_status, k.lead_source, k.management_level, k.address_street, "  \
	"k.address_city, k.address_state, k.address_country, k.address_zip, k.primary_timezone, "  \
	"k.linkedin_url, k.linkedin_summary, k.data_requester_details"

static const char *const contacts_statuses[] = {"uploaded", "approved", "assigned_to_sdr",
						"meeting_scheduled"};
static const char *const contacts_status_labels[] = {"Uploaded", "Approved", "Assigned to SDR",
						     "Meeting scheduled"};

#define CONTACTS_LIST_SELECT                                                                       \
	"SELECT k.id, k.first_name, k.last_name, k.email, k.job_title, k.status, "                 \
	"k.is_duplicate, k.is_active, k.company_id, co.name, k.segment_id, s.name, u.name, "       \
	"k.assigned_sdr_id, sdr.name, "                                                            \
	"to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "          \
	"to_char(k.created_at AT TIME ZONE 'UTC', 'DD Mon YYYY'), "                                \
	"coalesce(k.direct_phone, k.mobile_phone), k.batch_id "                                    \
	"FROM contacts k JOIN companies co ON co.id = k.company_id "                               \
	"JOIN segments s ON s.id = k.segment_id JOIN users u ON u.id = k.created_by "              \
	"LEFT JOIN users sdr ON sdr.id = k.assigned_sdr_id WHERE true"

/* A count needs no join: every filter is on the contact's own columns. */
#define CONTACTS_COUNT_SELECT "SELECT 1 FROM contacts k WHERE true"

/* The list counts at most this many rows: the first screen must not grow with the data. */
#define CONTACTS_COUNT_CAP 10000

/* What the export adds after the import template's columns. */
static const char *const contacts_export_extra[] = {
    "Status", "SDR", "Duplicate", "Active", "Batch", "Created", "Updated", "Researcher", "Id"};
#define CONTACTS_EXPORT_EXTRA_SQL                                                                  \
	"k.status, sdr.name, k.is_duplicate, k.is_active, k.batch_id, "                            \
	"to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "                      \
	"to_char(k.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), u.name, k.id "
#define CONTACTS_EXPORT_NEXTRA (sizeof contacts_export_extra / sizeof contacts_export_extra[0])

#define CONTACTS_MAX_PARAMS 16
#define CONTACTS_CURSOR_COL 15

static const char *contacts_status_label(const char *status);
static json_t *contacts_row(PGresult *res, int i);
static int contacts_company_problem(db_conn *c, const char *company_id, char *msg, size_t msglen);
static enum contacts_result contacts_db_failure(db_conn *c, json_t *errors);
static int contacts_ids_array(const char *const *ids, size_t nids, buf *arr, json_t *missing);
static void contacts_build_query(const struct contacts_filter *f, const char *select, buf *sql,
				 const char **params, int *n, const char *like, char *ts, char *id,
				 int ordered);
static const char *contacts_export_select(void);

DB_STMT(stmt_contact_get,
	"SELECT k.id, " CONTACTS_K_FIELD_COLUMNS
	", k.company_id, co.name, co.status, k.segment_id, "
	"s.name, k.status, k.assigned_sdr_id, sdr.name, sc.name, "
	"to_char(k.status_changed_at AT TIME ZONE 'UTC', 'DD Mon YYYY, HH24:MI'), k.is_duplicate, "
	"k.duplicate_of, k.is_active, k.batch_id, u.name, "
	"to_char(k.created_at AT TIME ZONE 'UTC', 'DD Mon YYYY, HH24:MI'), k.created_by "
	"FROM contacts k JOIN companies co ON co.id = k.company_id "
	"JOIN segments s ON s.id = k.segment_id JOIN users u ON u.id = k.created_by "
	"LEFT JOIN users sdr ON sdr.id = k.assigned_sdr_id "
	"LEFT JOIN users sc ON sc.id = k.status_changed_by WHERE k.id = $1");
DB_STMT(stmt_contact_lock,
	"SELECT " CONTACTS_FIELD_COLUMNS ", company_id FROM contacts WHERE id = $1 FOR UPDATE");
DB_STMT(stmt_contact_insert,
	"INSERT INTO contacts (" CONTACTS_FIELD_COLUMNS ", company_id, created_by) VALUES "
	"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
	"$20, $21) RETURNING id, segment_id");
DB_STMT(stmt_company_state, "SELECT status, name FROM companies WHERE id = $1");
/* The contacts' filter bar, as companies' (records_lists); "company" is the one chosen, if any. */
DB_STMT(stmt_contact_filter_options,
	"SELECT l, id::text, name FROM ("
	"SELECT 1 AS k, 'segments' AS l, id, name FROM segments WHERE status = 'active' "
	"UNION ALL SELECT 2, 'researchers', u.id, u.name FROM users u WHERE EXISTS "
	"(SELECT 1 FROM contacts k WHERE k.created_by = u.id) "
	"UNION ALL SELECT 3, 'sdrs', u.id, u.name FROM users u WHERE EXISTS (SELECT 1 FROM "
	"user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = "
	"'SDR') OR EXISTS (SELECT 1 FROM contacts k WHERE k.assigned_sdr_id = u.id) "
	"UNION ALL SELECT 4, 'company', id, name FROM companies WHERE id = $1::uuid"
	") x ORDER BY k, lower(name), id");
/* Approved companies to pick from, by name; the one chosen already always among them. */
DB_STMT(stmt_contact_company_choices,
	"(SELECT c.id, c.name, s.name FROM companies c JOIN segments s ON s.id = c.segment_id "
	"WHERE c.status = 'approved' AND c.is_active AND ($1::text IS NULL OR c.name ILIKE $1) "
	"AND ($2::uuid IS NULL OR c.segment_id = $2::uuid) ORDER BY lower(c.name), c.id LIMIT $3) "
	"UNION SELECT c.id, c.name, s.name FROM companies c JOIN segments s ON s.id = c.segment_id "
	"WHERE c.id = $4::uuid ORDER BY 2, 1");
/*
 * The history: the creation from the contact itself (an imported contact has
 * no 'create' row of its own), then every audited step that moved its status
 * (details.status, or the action's own meaning for rows written before
 * details carried it, such as the demo data's).
 */
DB_STMT(stmt_contact_history,
	"SELECT 'uploaded', to_char(k.created_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(k.created_at AT TIME ZONE 'UTC', "
	"'DD Mon YYYY, HH24:MI'), u.name, k.created_at, 0 "
	"FROM contacts k JOIN users u ON u.id = k.created_by WHERE k.id = $1 "
	"UNION ALL "
	"SELECT coalesce(a.details->>'status', CASE a.action WHEN 'approve' THEN 'approved' "
	"WHEN 'assign_sdr' THEN 'assigned_to_sdr' WHEN 'schedule_meeting' THEN "
	"'meeting_scheduled' END), to_char(a.created_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(a.created_at AT TIME ZONE 'UTC', "
	"'DD Mon YYYY, HH24:MI'), coalesce(u.name, 'the system'), a.created_at, 1 "
	"FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id "
	"WHERE a.entity_type = 'contact' AND a.entity_id = $1 AND a.action <> 'create' "
	"AND (a.details ? 'status' OR a.action IN ('approve', 'assign_sdr', 'schedule_meeting')) "
	"ORDER BY 5, 6");
/*
 * Bulk approval, one statement: the rows are locked in id order (so two
 * approvers with overlapping selections queue rather than deadlock), a row
 * a concurrent approver got first is found approved once its lock is free
 * and left out, the UPDATE approves only what is still uploaded, and the
 * audit rows are written from exactly the rows it changed.
 */
DB_STMT(stmt_contacts_approve,
	"WITH lk AS (SELECT id FROM contacts WHERE id = ANY ($2::uuid[]) AND status = 'uploaded' "
	"ORDER BY id FOR UPDATE), "
	"upd AS (UPDATE contacts k SET status = 'approved', status_changed_by = $1 "
	"FROM lk WHERE k.id = lk.id AND k.status = 'uploaded' "
	"RETURNING k.id, k.first_name || ' ' || k.last_name AS name, k.email, k.company_id), "
	"aud AS (INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, details) "
	"SELECT $1, 'approve', 'contact', id, jsonb_build_object('name', name, 'email', email, "
	"'company_id', company_id, 'status', 'approved') FROM upd) "
	"SELECT id, name FROM upd");
/* Why the others were not approved: read after the UPDATE, so it sees who did. */
DB_STMT(stmt_contacts_not_approved,
	"SELECT k.id, k.first_name || ' ' || k.last_name, k.status, coalesce(u.name, 'someone'), "
	"coalesce(to_char(k.status_changed_at AT TIME ZONE 'UTC', 'DD Mon YYYY, HH24:MI'), '') "
	"FROM contacts k LEFT JOIN users u ON u.id = k.status_changed_by "
	"WHERE k.id = ANY ($1::uuid[])");

/* ------------------------------------------------------------- field rules */

int
contacts_clean(records_get_fn get, void *ctx, int partial, char *out[CONTACTS_NFIELDS],
	       int present[CONTACTS_NFIELDS], json_t *errors)
{
	return records_clean(contacts_fields, CONTACTS_NFIELDS, get, ctx, partial, out, present,
			     errors);
}

void
contacts_values_free(char *out[CONTACTS_NFIELDS])
{
	records_values_free(out, CONTACTS_NFIELDS);
}

int
contacts_status_valid(const char *s)
{
	size_t i;

	for (i = 0; s && i < sizeof contacts_statuses / sizeof contacts_statuses[0]; i++)
		if (strcmp(s, contacts_statuses[i]) == 0)
			return 1;
	return 0;
}

static const char *
contacts_status_label(const char *status)
{
	size_t i;

	for (i = 0; status && i < sizeof contacts_statuses / sizeof contacts_statuses[0]; i++)
		if (strcmp(status, contacts_statuses[i]) == 0)
			return contacts_status_labels[i];
	return status ? status : "";
}

/* ------------------------------------------------------------------- list */

const char *
contacts_filter_problem(const struct contacts_filter *f)
{
	if (f->company_id && !uuid_valid(f->company_id))
		return "That company does not exist.";
	if (f->sdr_id && !uuid_valid(f->sdr_id))
		return "That SDR does not exist.";
	if (f->status && !contacts_status_valid(f->status))
		return "Status must be uploaded, approved, assigned_to_sdr or meeting_scheduled.";
	return records_filter_problem(f->segment_id, f->created_by, f->batch_id, f->q, f->from,
				      f->to, f->after);
}

static json_t *
contacts_row(PGresult *res, int i)
{
	const char *first = PQgetvalue(res, i, 1), *last = PQgetvalue(res, i, 2);
	const char *status = PQgetvalue(res, i, 5);
	buf name = BUF_INIT;
	json_t *row;

	buf_printf(&name, "%s %s", first, last);
	row = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:b, s:b, s:s, s:s, s:s, "
	    "s:s, s:s, s:o, s:o, s:s, s:s, s:o}",
	    "id", PQgetvalue(res, i, 0), "first_name", first, "last_name", last, "name", name.data,
	    "email", PQgetvalue(res, i, 3), "job_title", records_nullable(records_value(res, i, 4)),
	    "phone", records_nullable(records_value(res, i, 17)), "status", status, "status_label",
	    contacts_status_label(status), "is_duplicate", PQgetvalue(res, i, 6)[0] == 't',
	    "is_active", PQgetvalue(res, i, 7)[0] == 't', "company_id", PQgetvalue(res, i, 8),
	    "company", PQgetvalue(res, i, 9), "segment_id", PQgetvalue(res, i, 10), "segment",
	    PQgetvalue(res, i, 11), "created_by", PQgetvalue(res, i, 12), "assigned_sdr_id",
	    records_nullable(records_value(res, i, 13)), "assigned_sdr",
	    records_nullable(records_value(res, i, 14)), "created_at", PQgetvalue(res, i, 15),
	    "created_on", PQgetvalue(res, i, 16), "batch_id",
	    records_nullable(records_value(res, i, 18)));
	json_object_set_new(row, status, json_true()); /* {{#uploaded}} etc. */
	buf_free(&name);
	return row;
}

/*
 * Appends "AND …" for each filter in use to select, binding values in order.
 * like is the search pattern (normalise_search_pattern) or NULL; ts and id
 * are caller storage for the parsed cursor; ordered adds the keyset and the
 * order (a count wants neither).
 */
static void
contacts_build_query(const struct contacts_filter *f, const char *select, buf *sql,
		     const char **params, int *n, const char *like, char *ts, char *id, int ordered)
{
	buf_puts(sql, select);
	*n = 0;
	records_where(sql, params, n, "k.segment_id", f->segment_id);
	records_where(sql, params, n, "k.company_id", f->company_id);
	records_where(sql, params, n, "k.status", f->status);
	records_where(sql, params, n, "k.assigned_sdr_id", f->sdr_id);
	records_where(sql, params, n, "k.created_by", f->created_by);
	records_where(sql, params, n, "k.batch_id", f->batch_id);
	records_date_range(sql, params, n, "k", f->from, f->to);
	if (like) {
		/* the very expressions the trigram indexes were built on */
		params[(*n)++] = like;
		buf_printf(
		    sql,
		    " AND ((k.first_name || ' ' || k.last_name) ILIKE $%d OR k.email ILIKE $%d "
		    "OR k.job_title ILIKE $%d OR k.company_id IN (SELECT x.id FROM companies x "
		    "WHERE x.name ILIKE $%d))",
		    *n, *n, *n, *n);
	}
	if (!f->show_duplicates)
		buf_puts(sql, " AND NOT k.is_duplicate");
	else if (f->show_duplicates == CONTACTS_ONLY_DUPLICATES)
		buf_puts(sql, " AND k.is_duplicate");
	if (!f->show_inactive)
		buf_puts(sql, " AND k.is_active");
	if (ordered)
		records_keyset(sql, params, n, "k", f->after, f->oldest_first, ts, id);
}

json_t *
contacts_list(db_conn *c, const struct contacts_filter *f, char **next)
{
	buf sql = BUF_INIT;
	const char *params[CONTACTS_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	json_t *rows;
	int n;

	contacts_build_query(f, CONTACTS_LIST_SELECT, &sql, params, &n, like, ts, id, 1);
	rows = records_page(c, &sql, params, n, f->limit > 0 ? f->limit : 50, CONTACTS_CURSOR_COL,
			    contacts_row, next);
	buf_free(&sql);
	free(like);
	return rows;
}

long long
contacts_count(db_conn *c, const struct contacts_filter *f, int *capped)
{
	struct contacts_filter all = *f;
	buf sql = BUF_INIT;
	const char *params[CONTACTS_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	long long total;
	int n;

	all.after = NULL; /* the whole filtered list, not what is left of it */
	contacts_build_query(&all, CONTACTS_COUNT_SELECT, &sql, params, &n, like, ts, id, 0);
	total = records_count(c, &sql, params, n, CONTACTS_COUNT_CAP, capped);
	buf_free(&sql);
	free(like);
	return total;
}

/* The export's SQL expression for an import template heading (SPEC §4). */
static const char *
contacts_export_column(const char *header)
{
	int f;

	if (strcmp(header, "Company Name") == 0)
		return "co.name";
	if (strcmp(header, "Segment Name") == 0)
		return "s.name";
	for (f = 0; f < CONTACTS_NFIELDS; f++)
		if (strcmp(header, contacts_fields[f].csv_header) == 0)
			return contacts_fields[f].column;
	return NULL;
}

/*
 * "SELECT <the import template's columns, in its order>, <the extras> FROM …":
 * built once from the import's own column list, so an exported file is a
 * file the import takes as it is, whatever order SPEC §4 gives.
 */
static const char *
contacts_export_select(void)
{
	static char *sql;
	buf b = BUF_INIT;
	size_t i;

	if (sql)
		return sql;
	buf_puts(&b, "SELECT ");
	for (i = 0; i < contact_import_spec.ncolumns; i++) {
		const char *col = contacts_export_column(contact_import_spec.columns[i].header);

		buf_printf(&b, "%s%s", strchr(col ? col : "", '.') ? "" : "k.", col ? col : "NULL");
		buf_puts(&b, ", ");
	}
	buf_puts(&b, CONTACTS_EXPORT_EXTRA_SQL);
	buf_puts(&b, strstr(CONTACTS_LIST_SELECT, " FROM contacts k"));
	sql = buf_steal(&b); /* one per process, for its lifetime */
	return sql;
}

int
contacts_export_open(db_conn *tx, const struct contacts_filter *f)
{
	buf sql = BUF_INIT;
	const char *params[CONTACTS_MAX_PARAMS];
	char ts[40], id[37];
	char *like = normalise_search_pattern(f->q);
	int n, rc;

	contacts_build_query(f, contacts_export_select(), &sql, params, &n, like, ts, id, 1);
	rc = records_export_open(tx, "contacts_export", &sql, params, n);
	buf_free(&sql);
	free(like);
	return rc;
}

int
contacts_export_fetch(db_conn *tx, buf *out, int *header_done)
{
	static const char *header[CONTACTS_NFIELDS + 2 + CONTACTS_EXPORT_NEXTRA];
	static int yes_no[3];
	const size_t nimport = contact_import_spec.ncolumns;
	const struct records_export e = {"contacts_export", header,
					 nimport + CONTACTS_EXPORT_NEXTRA, yes_no};
	size_t i;

	for (i = 0; i < nimport && i < CONTACTS_NFIELDS + 2; i++)
		header[i] = contact_import_spec.columns[i].header;
	for (i = 0; i < CONTACTS_EXPORT_NEXTRA; i++)
		header[nimport + i] = contacts_export_extra[i];
	/* Duplicate and Active, after Status and SDR */
	yes_no[0] = (int)nimport + 2;
	yes_no[1] = (int)nimport + 3;
	yes_no[2] = -1;
	return records_export_fetch(tx, &e, out, header_done);
}

json_t *
contacts_filter_options(db_conn *c, const char *company_id)
{
	static const char *const lists[] = {"segments", "researchers", "sdrs", "company"};
	const char *p[1] = {company_id && uuid_valid(company_id) ? company_id : NULL};
	json_t *o = records_lists(c, &stmt_contact_filter_options, 1, p, lists, 4);
	json_t *company;

	if (!o)
		return NULL;
	/* The chosen company is one object (or null), not a list. */
	company = json_array_get(json_object_get(o, "company"), 0);
	json_object_set(o, "company", company ? company : json_null());
	return o;
}

json_t *
contacts_company_choices(db_conn *c, const char *q, const char *segment_id, const char *chosen,
			 int limit)
{
	char *like = normalise_search_pattern(q);
	char lim[16];
	const char *p[4] = {like, segment_id && uuid_valid(segment_id) ? segment_id : NULL, lim,
			    chosen && uuid_valid(chosen) ? chosen : NULL};
	PGresult *res;
	json_t *list;
	int i;

	snprintf(lim, sizeof lim, "%d", limit);
	res = db_exec(c, &stmt_contact_company_choices, 4, p);
	free(like);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s, s:b}", "id", PQgetvalue(res, i, 0), "name",
			      PQgetvalue(res, i, 1), "segment", PQgetvalue(res, i, 2), "selected",
			      chosen && strcmp(chosen, PQgetvalue(res, i, 0)) == 0));
	PQclear(res);
	return list;
}

/* ------------------------------------------------------------------ record */

json_t *
contacts_history(db_conn *c, const char *id)
{
	const char *p[1] = {id};
	PGresult *res;
	json_t *list;
	int i;

	res = db_exec(c, &stmt_contact_history, 1, p);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		const char *status = records_value(res, i, 0);

		if (!status)
			continue;
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", status, "status_label",
				    contacts_status_label(status), "at", PQgetvalue(res, i, 1),
				    "at_text", PQgetvalue(res, i, 2), "by", PQgetvalue(res, i, 3)));
	}
	PQclear(res);
	return list;
}

json_t *
contacts_get(db_conn *c, const char *id, int *err)
{
	const char *p[1] = {id};
	const int base = 1 + CONTACTS_NFIELDS;
	PGresult *res;
	json_t *o, *fields, *history;
	const char *status;
	int i;

	*err = 0;
	if (!uuid_valid(id))
		return NULL;
	res = db_exec(c, &stmt_contact_get, 1, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	status = PQgetvalue(res, 0, base + 5);
	o = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:o, "
		      "s:b, s:o, s:s, s:s, s:s}",
		      "id", PQgetvalue(res, 0, 0), "company", "id", PQgetvalue(res, 0, base),
		      "name", PQgetvalue(res, 0, base + 1), "status", PQgetvalue(res, 0, base + 2),
		      "segment_id", PQgetvalue(res, 0, base + 3), "segment",
		      PQgetvalue(res, 0, base + 4), "status", status, "status_label",
		      contacts_status_label(status), "assigned_sdr_id",
		      records_nullable(records_value(res, 0, base + 6)), "assigned_sdr",
		      records_nullable(records_value(res, 0, base + 7)), "status_changed_by",
		      records_nullable(records_value(res, 0, base + 8)), "status_changed_at",
		      records_nullable(records_value(res, 0, base + 9)), "is_duplicate",
		      PQgetvalue(res, 0, base + 10)[0] == 't', "duplicate_of",
		      records_nullable(records_value(res, 0, base + 11)), "is_active",
		      PQgetvalue(res, 0, base + 12)[0] == 't', "batch_id",
		      records_nullable(records_value(res, 0, base + 13)), "created_by",
		      PQgetvalue(res, 0, base + 14), "created_at", PQgetvalue(res, 0, base + 15),
		      "created_by_id", PQgetvalue(res, 0, base + 16));
	json_object_set_new(o, "company_id", json_string(PQgetvalue(res, 0, base)));
	json_object_set_new(o, status, json_true());
	fields = json_array();
	for (i = 0; i < CONTACTS_NFIELDS; i++) {
		const char *v = records_value(res, 0, i + 1);

		json_object_set_new(o, contacts_fields[i].column, records_nullable(v));
		json_array_append_new(fields,
				      records_field_json(&contacts_fields[i], records_nullable(v)));
	}
	json_object_set_new(o, "fields", fields);
	PQclear(res);
	history = contacts_history(c, id);
	if (!history) {
		json_decref(o);
		*err = 1;
		return NULL;
	}
	json_object_set_new(o, "history", history);
	return o;
}

/*
 * The company must exist and be approved: the same words the database uses
 * (0006), so a race between this check and the INSERT reads the same.
 * 0 when it may take contacts, 1 with msg filled when not, -1 on a database
 * error.
 */
static int
contacts_company_problem(db_conn *c, const char *company_id, char *msg, size_t msglen)
{
	const char *p[1] = {company_id};
	PGresult *res;
	int rc = 1;

	if (!company_id || !uuid_valid(company_id)) {
		snprintf(msg, msglen, "Choose a company.");
		return 1;
	}
	res = db_exec(c, &stmt_company_state, 1, p);
	if (!res)
		return -1;
	if (PQntuples(res) != 1)
		snprintf(msg, msglen, "That company does not exist.");
	else if (strcmp(PQgetvalue(res, 0, 0), "pending") == 0)
		snprintf(msg, msglen,
			 "The company “%.*s” is still pending approval: contacts can be added "
			 "once it is approved.",
			 utf8_prefix(PQgetvalue(res, 0, 1), 500), PQgetvalue(res, 0, 1));
	else if (strcmp(PQgetvalue(res, 0, 0), "approved") != 0)
		snprintf(msg, msglen, "The company “%.*s” was rejected and cannot have contacts.",
			 utf8_prefix(PQgetvalue(res, 0, 1), 500), PQgetvalue(res, 0, 1));
	else
		rc = 0;
	PQclear(res);
	return rc;
}

/* A refused write: the database's rule, said on the field it is about. */
static enum contacts_result
contacts_db_failure(db_conn *c, json_t *errors)
{
	const char *state = db_error_sqlstate(c);
	const char *column = "company_id";

	if (db_error(c) != DB_ERR_CONSTRAINT)
		return CONTACTS_DB_ERROR;
	if (strcmp(state, "SP006") == 0)
		column = "segment_id";
	else if (strncmp(db_error_constraint(c), "contacts_", 9) == 0) {
		int f;

		for (f = 0; f < CONTACTS_NFIELDS; f++) {
			size_t len = strlen(contacts_fields[f].column);

			if (strncmp(db_error_constraint(c) + 9, contacts_fields[f].column, len) ==
				0 &&
			    strncmp(db_error_constraint(c) + 9 + len, "_check", 6) == 0)
				column = contacts_fields[f].column;
		}
	}
	json_object_set_new(errors, column, json_string(db_error_message(c)));
	return CONTACTS_INVALID;
}

enum contacts_result
contacts_create(db_conn *c, const char *actor, const char *company_id, char *vals[CONTACTS_NFIELDS],
		char id_out[37], json_t *errors)
{
	const char *p[CONTACTS_NFIELDS + 2];
	char msg[700];
	PGresult *res;
	json_t *details;
	int i, rc;

	rc = contacts_company_problem(c, company_id, msg, sizeof msg);
	if (rc < 0)
		return CONTACTS_DB_ERROR;
	if (rc > 0) {
		json_object_set_new(errors, "company_id", json_string(msg));
		return CONTACTS_INVALID;
	}
	for (i = 0; i < CONTACTS_NFIELDS; i++)
		p[i] = vals[i];
	p[CONTACTS_NFIELDS] = company_id;
	p[CONTACTS_NFIELDS + 1] = actor;
	if (db_begin(c) != 0)
		return CONTACTS_DB_ERROR;
	/* segment_id left out: the database sets the company's (0001, 0006) */
	res = db_exec(c, &stmt_contact_insert, CONTACTS_NFIELDS + 2, p);
	if (!res)
		goto fail;
	snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
	details = json_object();
	for (i = 0; i < CONTACTS_NFIELDS; i++)
		if (vals[i])
			json_object_set_new(details, contacts_fields[i].column,
					    json_string(vals[i]));
	json_object_set_new(details, "company_id", json_string(company_id));
	json_object_set_new(details, "segment_id", json_string(PQgetvalue(res, 0, 1)));
	json_object_set_new(details, "status", json_string("uploaded"));
	PQclear(res);
	if (audit_record(c, actor, "create", "contact", id_out, details) != 0 || db_commit(c) != 0)
		goto fail;
	return CONTACTS_OK;
fail:
	db_rollback(c);
	return contacts_db_failure(c, errors);
}

enum contacts_result
contacts_update(db_conn *c, const char *actor, const char *id, const char *company_id,
		char *vals[CONTACTS_NFIELDS], const int present[CONTACTS_NFIELDS], json_t *errors)
{
	const char *p[1] = {id};
	const char *up[CONTACTS_NFIELDS + 3];
	json_t *changes = json_object();
	buf sql = BUF_INIT;
	PGresult *res;
	int n = 0;

	if (!uuid_valid(id)) {
		json_decref(changes);
		return CONTACTS_NOT_FOUND;
	}
	if (company_id) {
		char msg[700];
		int rc = contacts_company_problem(c, company_id, msg, sizeof msg);

		if (rc != 0) {
			json_decref(changes);
			if (rc < 0)
				return CONTACTS_DB_ERROR;
			json_object_set_new(errors, "company_id", json_string(msg));
			return CONTACTS_INVALID;
		}
	}
	if (db_begin(c) != 0) {
		json_decref(changes);
		return CONTACTS_DB_ERROR;
	}
	res = db_exec(c, &stmt_contact_lock, 1, p);
	if (!res)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(c);
		json_decref(changes);
		return CONTACTS_NOT_FOUND;
	}
	buf_puts(&sql, "UPDATE contacts SET ");
	records_set_changes(&sql, up, &n, contacts_fields, CONTACTS_NFIELDS, res, 0, vals, present,
			    changes);
	if (company_id &&
	    audit_change(changes, "company_id", json_string(PQgetvalue(res, 0, CONTACTS_NFIELDS)),
			 json_string(company_id))) {
		/* the segment follows the company, from the database, never from the client */
		up[n++] = company_id;
		buf_printf(&sql,
			   "%scompany_id = $%d, segment_id = (SELECT segment_id FROM companies "
			   "WHERE id = $%d)",
			   n > 1 ? ", " : "", n, n);
	}
	PQclear(res);
	if (n == 0) { /* nothing changed: nothing to write or audit */
		db_rollback(c);
		buf_free(&sql);
		json_decref(changes);
		return CONTACTS_OK;
	}
	up[n++] = id;
	buf_printf(&sql, " WHERE id = $%d", n);
	res = db_exec_params(c, sql.data, n, up);
	buf_free(&sql);
	if (!res)
		goto fail;
	PQclear(res);
	if (audit_record(c, actor, "update", "contact", id,
			 json_pack("{s:o}", "changes", changes)) != 0 ||
	    db_commit(c) != 0) {
		changes = NULL;
		goto fail;
	}
	return CONTACTS_OK;
fail:
	db_rollback(c);
	buf_free(&sql);
	json_decref(changes);
	return contacts_db_failure(c, errors);
}

/* ------------------------------------------------------------------ approve */

/* The valid ids as a uuid[] literal; the others go to missing. The count of valid ones. */
static int
contacts_ids_array(const char *const *ids, size_t nids, buf *arr, json_t *missing)
{
	size_t i;
	int valid = 0;

	buf_putc(arr, '{');
	for (i = 0; i < nids; i++) {
		if (!ids[i] || !uuid_valid(ids[i])) {
			json_array_append_new(missing, json_string(ids[i] ? ids[i] : ""));
			continue;
		}
		buf_printf(arr, "%s%s", valid ? "," : "", ids[i]);
		valid++;
	}
	buf_putc(arr, '}');
	return valid;
}

enum contacts_result
contacts_approve(db_conn *c, const char *actor, const char *const *ids, size_t nids,
		 json_t *outcome)
{
	json_t *approved_ids = json_array(), *rows = json_array(), *already = json_array();
	json_t *missing = json_array(), *seen = json_object();
	buf arr = BUF_INIT, msg = BUF_INIT;
	const char *p[2];
	PGresult *res;
	int i, napproved = 0;

	if (nids == 0 || nids > CONTACTS_APPROVE_MAX) {
		json_object_set_new(outcome, "message",
				    json_string(nids ? "Approve at most 5,000 contacts at a time."
						     : "Select the contacts to approve."));
		json_decref(approved_ids);
		json_decref(rows);
		json_decref(already);
		json_decref(missing);
		json_decref(seen);
		return CONTACTS_INVALID;
	}
	contacts_ids_array(ids, nids, &arr, missing);
	p[0] = actor;
	p[1] = arr.data;
	res = db_exec(c, &stmt_contacts_approve, 2, p);
	if (!res)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		json_array_append_new(approved_ids, json_string(PQgetvalue(res, i, 0)));
		json_array_append_new(rows,
				      json_pack("{s:s, s:s, s:b}", "id", PQgetvalue(res, i, 0),
						"name", PQgetvalue(res, i, 1), "approved", 1));
		json_object_set_new(seen, PQgetvalue(res, i, 0), json_true());
	}
	napproved = PQntuples(res);
	PQclear(res);
	/* the rest: moved on by someone else (or never there) */
	res = db_exec(c, &stmt_contacts_not_approved, 1, p + 1);
	if (!res)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		const char *kid = PQgetvalue(res, i, 0), *status = PQgetvalue(res, i, 2);
		buf why = BUF_INIT;

		if (json_object_get(seen, kid))
			continue;
		json_object_set_new(seen, kid, json_true());
		if (strcmp(status, "uploaded") == 0) /* cannot happen: the UPDATE took them all */
			buf_printf(&why, "%s was not approved; try again.", PQgetvalue(res, i, 1));
		else
			buf_printf(&why, "%s is already %s (%s, %s).", PQgetvalue(res, i, 1),
				   strcmp(status, "approved") == 0 ? "approved" : "past approval",
				   PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
		json_array_append_new(already,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", kid, "name",
						PQgetvalue(res, i, 1), "status", status, "by",
						PQgetvalue(res, i, 3), "at", PQgetvalue(res, i, 4),
						"message", why.data));
		json_array_append_new(rows, json_pack("{s:s, s:s, s:b}", "id", kid, "name",
						      PQgetvalue(res, i, 1), "approved", 0));
		buf_free(&why);
	}
	PQclear(res);
	for (i = 0; i < (int)nids; i++)
		if (ids[i] && uuid_valid(ids[i]) && !json_object_get(seen, ids[i])) {
			json_array_append_new(missing, json_string(ids[i]));
			json_object_set_new(seen, ids[i], json_true());
		}
	buf_printf(&msg, "%d contact%s approved.", napproved, napproved == 1 ? "" : "s");
	if (json_array_size(already))
		buf_printf(&msg, " %zu already approved by someone else.",
			   json_array_size(already));
	if (json_array_size(missing))
		buf_printf(&msg, " %zu not found.", json_array_size(missing));
	json_object_set_new(outcome, "approved", json_integer(napproved));
	json_object_set_new(outcome, "approved_ids", approved_ids);
	json_object_set_new(outcome, "rows", rows);
	json_object_set_new(outcome, "already", already);
	json_object_set_new(outcome, "missing", missing);
	json_object_set_new(outcome, "message", json_string(msg.data));
	json_decref(seen);
	buf_free(&arr);
	buf_free(&msg);
	return CONTACTS_OK;
fail:
	log_error("contacts: approval failed: %s", db_error_message(c));
	json_decref(approved_ids);
	json_decref(rows);
	json_decref(already);
	json_decref(missing);
	json_decref(seen);
	buf_free(&arr);
	buf_free(&msg);
	return CONTACTS_DB_ERROR;
}

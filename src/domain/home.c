/*
 * home — the statements behind each role's home page.
 *
 * Each section is one statement that returns its whole view as JSON
 * (json_build_object / json_agg in PostgreSQL), so a home page for a user
 * with every role costs a handful of round trips, and each list is bounded
 * (LIMIT, capped counts) so the page does not grow with the data. Every
 * number counts what the matching list shows by default: active records,
 * not flagged as duplicates.
 */
#include "home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/format.h"
#include "domain/records.h"
#include "domain/segments.h"

#define HOME_STR(x) #x
#define HOME_XSTR(x) HOME_STR(x)
#define HOME_CAP1 "10001" /* HOME_COUNT_CAP + 1: one more tells the count was capped */

#define HOME_ROWS_SQL HOME_XSTR(HOME_ROWS)

/*
 * The companies a researcher's contact research waits on: approved, shown,
 * no shown contact yet, in segment m.segment_id. The approved, shown
 * companies of a segment have a partial index in creation order; the ones
 * with a contact come from the stored counts (migrations/0012): one range of
 * a small table, hashed, instead of a look-up per company. One scan per
 * segment serves the count (capped) and the list.
 */
#define HOME_AWAITING                                                                              \
	"c.status = 'approved' AND c.is_active AND NOT c.is_duplicate AND c.id NOT IN (SELECT "    \
	"k.company_id FROM company_contact_counts k WHERE k.segment_id = m.segment_id GROUP BY "   \
	"k.company_id HAVING sum(k.n) > 0)"

/* A company's shown contacts, from the stored counts (kept under its segment). */
#define HOME_CONTACT_COUNT                                                                         \
	"(SELECT coalesce(sum(k.n), 0) FROM company_contact_counts k WHERE k.segment_id = "        \
	"c.segment_id AND k.company_id = c.id)"

/* clang-format off */
DB_STMT(stmt_workbench,
	"WITH mine AS (SELECT a.entity_id AS segment_id, r.name AS role, a.created_at FROM "
	"assignments a LEFT JOIN roles r ON r.id = a.role_id WHERE a.assigned_to = $1 AND "
	"a.is_active AND a.entity_type = 'segment'), "
	"awaiting AS MATERIALIZED (SELECT m.segment_id, w.id, w.created_at FROM mine m CROSS JOIN "
	"LATERAL (SELECT c.id, c.created_at FROM companies c WHERE c.segment_id = m.segment_id AND "
	HOME_AWAITING " ORDER BY c.created_at, c.id LIMIT " HOME_CAP1 ") w), "
	"assigned AS (SELECT c.id, c.name, s.name AS segment, s.id AS segment_id, "
	HOME_CONTACT_COUNT " AS contacts, true AS assigned, a.created_at AS since "
	"FROM assignments a JOIN companies c ON c.id = a.entity_id JOIN segments s ON s.id = "
	"c.segment_id WHERE a.assigned_to = $1 AND a.is_active AND a.entity_type = 'company' "
	"AND c.is_active ORDER BY a.created_at DESC LIMIT " HOME_ROWS_SQL "), "
	"waiting AS (SELECT c.id, c.name, s.name AS segment, s.id AS segment_id, 0::bigint AS "
	"contacts, false AS assigned, c.status_changed_at AS since FROM mine m JOIN segments s ON "
	"s.id = m.segment_id CROSS JOIN LATERAL (SELECT w.id FROM awaiting w WHERE w.segment_id = "
	"m.segment_id AND w.id NOT IN (SELECT id FROM assigned) ORDER BY w.created_at, w.id "
	"LIMIT " HOME_ROWS_SQL ") w JOIN companies c ON c.id = w.id) "
	"SELECT json_build_object("
	"'segments', coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, "
	"'role', m.role, 'archived', s.status = 'archived', 'approved', cc.approved, 'awaiting', "
	"(SELECT count(*) FROM awaiting w WHERE w.segment_id = s.id)) ORDER BY lower(s.name), "
	"s.id) FROM mine m JOIN segments s ON s.id = m.segment_id " SEGMENTS_COMPANY_COUNTS "), "
	"'[]'), "
	"'companies', coalesce((SELECT json_agg(json_build_object('id', x.id, 'name', x.name, "
	"'segment', x.segment, 'segment_id', x.segment_id, 'contacts', x.contacts, 'assigned', "
	"x.assigned) ORDER BY x.assigned DESC, x.since, x.id) FROM (SELECT * FROM assigned UNION "
	"ALL (SELECT * FROM waiting ORDER BY since, id LIMIT " HOME_ROWS_SQL ")) x), '[]'), "
	"'uploads', coalesce((SELECT json_agg(json_build_object('id', b.id, 'file_name', "
	"b.file_name, 'entity_type', b.entity_type, 'status', b.status, 'total_rows', "
	"b.total_rows, 'valid_rows', b.valid_rows, 'invalid_rows', b.invalid_rows, 'failed_left', "
	"(SELECT count(*) FROM upload_rows ur WHERE ur.batch_id = b.id AND ur.status = 'failed'), "
	"'created_text', to_char(b.created_at, 'FMDD Mon YYYY, HH24:MI')) ORDER BY b.created_at "
	"DESC, b.id DESC) FROM (SELECT * FROM upload_batches WHERE uploader_id = $1 ORDER BY "
	"created_at DESC, id DESC LIMIT 10) b), '[]'))");
/* clang-format on */

DB_STMT(
    stmt_queue_counts,
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM companies WHERE status = 'pending' AND "
    "is_active AND NOT is_duplicate LIMIT " HOME_CAP1 ") c), (SELECT count(*) FROM (SELECT 1 "
    "FROM contacts WHERE status = 'uploaded' AND is_active AND NOT is_duplicate LIMIT " HOME_CAP1
    ") k)");

DB_STMT(
    stmt_sdr_contacts,
    "SELECT json_build_object('contacts', coalesce((SELECT json_agg(json_build_object('id', "
    "x.id, 'name', x.first_name || ' ' || x.last_name, 'email', x.email, 'job_title', "
    "x.job_title, 'phone', coalesce(x.direct_phone, x.mobile_phone), 'company', co.name, "
    "'company_id', co.id, 'segment', s.name, 'handed_text', to_char(x.status_changed_at, "
    "'FMDD Mon YYYY')) ORDER BY x.created_at, x.id) FROM (SELECT * FROM contacts k WHERE "
    "k.assigned_sdr_id = $1 AND k.status = 'assigned_to_sdr' AND k.is_active ORDER BY "
    "k.created_at, k.id LIMIT 100) x JOIN companies co ON co.id = x.company_id JOIN segments s "
    "ON s.id = x.segment_id), '[]'), 'total', (SELECT count(*) FROM (SELECT 1 FROM contacts k "
    "WHERE k.assigned_sdr_id = $1 AND k.status = 'assigned_to_sdr' AND k.is_active LIMIT " HOME_CAP1
    ") t))");

/* clang-format off */
DB_STMT(stmt_segments_progress,
	"SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.name, 'companies', "
	"json_build_object('pending', cc.pending, 'approved', cc.approved, 'rejected', "
	"cc.rejected, 'total', cc.pending + cc.approved + cc.rejected), 'contacts', "
	"json_build_object('uploaded', kc.uploaded, 'approved', kc.approved, 'assigned_to_sdr', "
	"kc.assigned_to_sdr, 'meeting_scheduled', kc.meeting_scheduled, 'total', kc.uploaded + "
	"kc.approved + kc.assigned_to_sdr + kc.meeting_scheduled)) ORDER BY lower(s.name), s.id), "
	"'[]') FROM segments s " SEGMENTS_COMPANY_COUNTS SEGMENTS_CONTACT_COUNTS
	"WHERE s.status = 'active' AND ($1::boolean OR s.created_by = $2 OR EXISTS (SELECT 1 FROM "
	"assignments a WHERE a.entity_type = 'segment' AND a.entity_id = s.id AND a.assigned_to = "
	"$2 AND a.is_active))");
/* clang-format on */

static json_t *home_capped(long long n);
static void home_flags(json_t *o, const char *const *keys, size_t n);

/* has_<key> for each list of o: Mustache tells an empty list from a full one by a boolean. */
static void
home_flags(json_t *o, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof name, "has_%s", keys[i]);
		json_object_set_new(o, name,
				    json_boolean(json_array_size(json_object_get(o, keys[i])) > 0));
	}
}

/* "1,234", or "10,000+" past the cap. */
static json_t *
home_capped(long long n)
{
	char text[32];
	size_t len;

	format_count(n > HOME_COUNT_CAP ? HOME_COUNT_CAP : n, text, sizeof text);
	len = strlen(text);
	if (n > HOME_COUNT_CAP && len + 1 < sizeof text)
		snprintf(text + len, sizeof text - len, "+");
	return json_string(text);
}

json_t *
home_workbench(db_conn *c, const char *user_id)
{
	static const char *const lists[] = {"segments", "companies", "uploads"};
	const char *p[1] = {user_id};
	json_t *o = records_json(c, &stmt_workbench, 1, p), *v;
	size_t i;

	if (!o)
		return NULL;
	home_flags(o, lists, 3);
	json_array_foreach(json_object_get(o, "uploads"), i, v)
	{
		const char *status = json_string_value(json_object_get(v, "status"));

		if (status)
			json_object_set_new(v, status, json_true());
		json_object_set_new(
		    v, "has_failed",
		    json_boolean(json_integer_value(json_object_get(v, "failed_left")) > 0));
	}
	json_array_foreach(json_object_get(o, "segments"), i, v) json_object_set_new(
	    v, "awaiting_text", home_capped(json_integer_value(json_object_get(v, "awaiting"))));
	return o;
}

json_t *
home_queue_counts(db_conn *c)
{
	PGresult *res = db_exec(c, &stmt_queue_counts, 0, NULL);
	long long companies, contacts;
	json_t *o;

	if (!res)
		return NULL;
	companies = atoll(PQgetvalue(res, 0, 0));
	contacts = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	o = json_pack("{s:I, s:I, s:o, s:o, s:b, s:b}", "companies", (json_int_t)companies,
		      "contacts", (json_int_t)contacts, "companies_text", home_capped(companies),
		      "contacts_text", home_capped(contacts), "no_companies", companies == 0,
		      "no_contacts", contacts == 0);
	return o;
}

json_t *
home_sdr_contacts(db_conn *c, const char *user_id)
{
	static const char *const lists[] = {"contacts"};
	const char *p[1] = {user_id};
	json_t *o = records_json(c, &stmt_sdr_contacts, 1, p);

	if (!o)
		return NULL;
	home_flags(o, lists, 1);
	json_object_set_new(o, "total_text",
			    home_capped(json_integer_value(json_object_get(o, "total"))));
	return o;
}

json_t *
home_segments_progress(db_conn *c, const char *user_id, int all)
{
	static const char *const lists[] = {"segments"};
	const char *p[2] = {all ? "true" : "false", user_id};
	json_t *list = records_json(c, &stmt_segments_progress, 2, p), *o;

	if (!list)
		return NULL;
	o = json_pack("{s:o}", "segments", list);
	home_flags(o, lists, 1);
	return o;
}

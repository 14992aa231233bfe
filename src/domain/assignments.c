/*
 * assignments — assign, unassign, hand contacts to SDRs, schedule meetings,
 * and read who is on what.
 *
 * The rules are the database's (migrations/0008_assignments.sql): each
 * mutation here is one call of a SQL function that checks, writes the row and
 * writes its audit row in one statement, so nothing can land half-done and a
 * concurrent duplicate meets the unique key. This file only maps the
 * database's refusals (SQLSTATE SPA01…SPA08, SP002) to results a handler
 * turns into a status code, with the database's own sentence as the message.
 */
#include "assignments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/uuid.h"
#include "domain/normalise.h"
#include "domain/records.h"

DB_STMT(stmt_assign, "SELECT assignment_id, role_name, assignee, entity_words, contact_status "
		     "FROM assignment_assign($1, $2, $3, $4, coalesce($5::uuid, "
		     "(SELECT id FROM roles WHERE name = $6)))");
DB_STMT(stmt_role_known, "SELECT 1 FROM roles WHERE name = $1");
DB_STMT(stmt_unassign, "SELECT entity_type, entity_id, assignee, entity_words, was_active "
		       "FROM assignment_unassign($1, $2)");
DB_STMT(stmt_schedule, "SELECT contact_name, sdr FROM contact_schedule_meeting($1, $2)");
DB_STMT(stmt_assign_contacts, "SELECT contact_id, coalesce(contact_name, ''), ok, "
			      "coalesce(message, '') FROM assignment_assign_contacts($1, "
			      "$2::uuid[], $3)");
DB_STMT(stmt_sdr_name, "SELECT name FROM users WHERE id = $1");

/* Active users holding one of a role set, minus those already on the entity. */
#define ASSIGNMENTS_CANDIDATES(roleset)                                                            \
	"coalesce((SELECT json_agg(json_build_object('id', u.id, 'name', u.name, 'email', "        \
	"u.email, 'roles', x.roles) ORDER BY lower(u.name), u.id) FROM users u CROSS JOIN "        \
	"LATERAL (SELECT string_agg(r.name, ', ' ORDER BY r.name) AS roles FROM user_roles ur "    \
	"JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ANY (" roleset     \
	")) x WHERE u.is_active AND x.roles IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "            \
	"assignments a WHERE a.entity_type = $1 AND a.entity_id = $2::uuid AND a.assigned_to = "   \
	"u.id AND a.is_active)), '[]')"

DB_STMT(stmt_of,
	"SELECT json_build_object('people', coalesce((SELECT json_agg(json_build_object('id', "
	"a.id, 'user_id', u.id, 'name', u.name, 'email', u.email, 'role', r.name, 'assigned_by', "
	"ab.name, 'assigned_text', to_char(a.created_at, 'FMDD Mon YYYY')) ORDER BY lower(u.name), "
	"u.id) FROM assignments a JOIN users u ON u.id = a.assigned_to LEFT JOIN roles r ON r.id = "
	"a.role_id LEFT JOIN users ab ON ab.id = a.assigned_by WHERE a.entity_type = $1 AND "
	"a.entity_id = $2::uuid AND a.is_active), '[]'), 'researchers', " ASSIGNMENTS_CANDIDATES(
	    "CASE $1 WHEN 'segment' THEN '{Researcher,Approver}' WHEN 'company' THEN "
	    "'{Researcher}' ELSE '{}' END::text[]") ", 'sdrs', " ASSIGNMENTS_CANDIDATES("CASE WHEN "
											"$1 IN "
											"('segment'"
											", "
											"'contact')"
											" THEN "
											"'{SDR}' "
											"ELSE '{}' "
											"END::text["
											"]") ")");

DB_STMT(stmt_sdrs,
	"SELECT coalesce(json_agg(json_build_object('id', u.id, 'name', u.name, 'email', u.email, "
	"'roles', 'SDR') ORDER BY lower(u.name), u.id), '[]') FROM users u WHERE u.is_active AND "
	"user_holds_role(u.id, 'SDR')");

DB_STMT(stmt_mine,
	"SELECT a.id, a.entity_type, a.entity_id, CASE a.entity_type WHEN 'segment' THEN s.name "
	"WHEN 'company' THEN co.name ELSE k.first_name || ' ' || k.last_name END, r.name, ab.name, "
	"to_char(a.created_at, 'FMDD Mon YYYY'), CASE a.entity_type WHEN 'segment' THEN s.status "
	"WHEN 'company' THEN co.status ELSE k.status END, CASE a.entity_type WHEN 'company' THEN "
	"cs.name WHEN 'contact' THEN kc.name END "
	"FROM assignments a "
	"LEFT JOIN segments s ON a.entity_type = 'segment' AND s.id = a.entity_id "
	"LEFT JOIN companies co ON a.entity_type = 'company' AND co.id = a.entity_id "
	"LEFT JOIN segments cs ON cs.id = co.segment_id "
	"LEFT JOIN contacts k ON a.entity_type = 'contact' AND k.id = a.entity_id "
	"LEFT JOIN companies kc ON kc.id = k.company_id "
	"LEFT JOIN roles r ON r.id = a.role_id LEFT JOIN users ab ON ab.id = a.assigned_by "
	"WHERE a.assigned_to = $1 AND a.is_active ORDER BY a.created_at DESC, a.id LIMIT 200");

static enum assignments_result assignments_failure(db_conn *c, char *msg, size_t msglen);
static int assignments_type_valid(const char *t);

static int
assignments_type_valid(const char *t)
{
	return t && (!strcmp(t, "segment") || !strcmp(t, "company") || !strcmp(t, "contact"));
}

const char *
assignments_permission(const char *entity_type, const char *role)
{
	if (!entity_type)
		return NULL;
	if (!strcmp(entity_type, "company"))
		return "companies.assign";
	if (!strcmp(entity_type, "contact"))
		return "contacts.assign_sdr";
	if (!strcmp(entity_type, "segment"))
		return role && !strcmp(role, "SDR") ? "segments.assign_sdr"
						    : "segments.assign_researcher";
	return NULL;
}

/* The database's refusal, as a result and its own sentence. */
static enum assignments_result
assignments_failure(db_conn *c, char *msg, size_t msglen)
{
	const char *state = db_error_sqlstate(c);

	snprintf(msg, msglen, "%s", db_error_message(c));
	if (!strcmp(state, "SPA04") || !strcmp(state, "SPA06"))
		return ASSIGNMENTS_FORBIDDEN;
	if (!strcmp(state, "SPA07"))
		return ASSIGNMENTS_CONFLICT;
	if (!strcmp(state, "SPA08"))
		return ASSIGNMENTS_NOT_FOUND;
	if (!strcmp(state, "23503")) {
		/* the entity (assignments_entity_fkey) or the user does not exist */
		snprintf(msg, msglen, "%s",
			 !strcmp(db_error_constraint(c), "assignments_entity_fkey")
			     ? "There is no such record to assign."
			     : "There is no such person.");
		return ASSIGNMENTS_NOT_FOUND;
	}
	if (!strncmp(state, "SPA", 3) || !strcmp(state, "SP002"))
		return ASSIGNMENTS_REFUSED;
	log_error("assignments: %s (%s)", db_error_message(c), state);
	snprintf(msg, msglen, "Something went wrong; nothing was changed.");
	return ASSIGNMENTS_DB_ERROR;
}

enum assignments_result
assignments_assign(db_conn *c, const char *actor, const struct assignment_input *in, json_t *out,
		   char *msg, size_t msglen)
{
	const char *role = in->role_id && *in->role_id ? in->role_id : NULL;
	const char *role_uuid = role && uuid_valid(role) ? role : NULL;
	const char *role_name = role && !role_uuid ? role : NULL;
	const char *p[6] = {actor,	     in->entity_type, in->entity_id,
			    in->assigned_to, role_uuid,	      role_name};
	PGresult *res;

	if (!assignments_type_valid(in->entity_type)) {
		snprintf(msg, msglen,
			 "Say what to assign: entity_type is segment, company or contact.");
		return ASSIGNMENTS_INVALID;
	}
	if (!in->entity_id || !uuid_valid(in->entity_id)) {
		snprintf(msg, msglen, "There is no such %s.", in->entity_type);
		return ASSIGNMENTS_NOT_FOUND;
	}
	if (!in->assigned_to || !*in->assigned_to) {
		snprintf(msg, msglen, "Choose the person to assign.");
		return ASSIGNMENTS_INVALID;
	}
	if (!uuid_valid(in->assigned_to)) {
		snprintf(msg, msglen, "There is no such person.");
		return ASSIGNMENTS_NOT_FOUND;
	}
	if (role_name) {
		const char *rp[1] = {role_name};

		res = db_exec(c, &stmt_role_known, 1, rp);
		if (!res)
			return assignments_failure(c, msg, msglen);
		if (PQntuples(res) == 0) {
			PQclear(res);
			snprintf(msg, msglen, "There is no role called “%s”.", role_name);
			return ASSIGNMENTS_INVALID;
		}
		PQclear(res);
	}
	res = db_exec(c, &stmt_assign, 6, p);
	if (!res)
		return assignments_failure(c, msg, msglen);
	json_object_set_new(out, "id", json_string(PQgetvalue(res, 0, 0)));
	json_object_set_new(out, "entity_type", json_string(in->entity_type));
	json_object_set_new(out, "entity_id", json_string(in->entity_id));
	json_object_set_new(out, "role", json_string(PQgetvalue(res, 0, 1)));
	json_object_set_new(out, "assignee", json_string(PQgetvalue(res, 0, 2)));
	if (!PQgetisnull(res, 0, 4))
		json_object_set_new(out, "contact_status", json_string(PQgetvalue(res, 0, 4)));
	if (!strcmp(in->entity_type, "contact"))
		snprintf(msg, msglen, "%s handed to %s.", PQgetvalue(res, 0, 3),
			 PQgetvalue(res, 0, 2));
	else
		snprintf(msg, msglen, "%s assigned to %s as %s.", PQgetvalue(res, 0, 2),
			 PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 1));
	PQclear(res);
	return ASSIGNMENTS_OK;
}

enum assignments_result
assignments_unassign(db_conn *c, const char *actor, const char *id, json_t *out, char *msg,
		     size_t msglen)
{
	const char *p[2] = {actor, id};
	enum assignments_result r;
	PGresult *res;

	if (!id || !uuid_valid(id)) {
		snprintf(msg, msglen, "There is no such assignment.");
		return ASSIGNMENTS_NOT_FOUND;
	}
	res = db_exec(c, &stmt_unassign, 2, p);
	if (!res)
		return assignments_failure(c, msg, msglen);
	json_object_set_new(out, "entity_type", json_string(PQgetvalue(res, 0, 0)));
	json_object_set_new(out, "entity_id", json_string(PQgetvalue(res, 0, 1)));
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		snprintf(msg, msglen, "%s is no longer assigned to %s.", PQgetvalue(res, 0, 2),
			 PQgetvalue(res, 0, 3));
		r = ASSIGNMENTS_OK;
	} else {
		snprintf(msg, msglen, "%s was already unassigned from %s.", PQgetvalue(res, 0, 2),
			 PQgetvalue(res, 0, 3));
		r = ASSIGNMENTS_CONFLICT;
	}
	PQclear(res);
	return r;
}

enum assignments_result
assignments_schedule(db_conn *c, const char *actor, const char *contact_id, char *msg,
		     size_t msglen)
{
	const char *p[2] = {actor, contact_id};
	PGresult *res;

	if (!contact_id || !uuid_valid(contact_id)) {
		snprintf(msg, msglen, "There is no such contact.");
		return ASSIGNMENTS_NOT_FOUND;
	}
	res = db_exec(c, &stmt_schedule, 2, p);
	if (!res)
		return assignments_failure(c, msg, msglen);
	snprintf(msg, msglen, "Meeting scheduled with %s.", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ASSIGNMENTS_OK;
}

enum assignments_result
assignments_assign_contacts(db_conn *c, const char *actor, const char *const *ids, size_t nids,
			    const char *sdr_id, json_t *outcome)
{
	json_t *rows;
	buf arr = BUF_INIT, line = BUF_INIT;
	const char *p[3];
	PGresult *res;
	size_t i, bad = 0;
	int k, assigned = 0;
	char sdr[256] = "";

	if (nids == 0 || nids > ASSIGNMENTS_BULK_MAX || !sdr_id || !uuid_valid(sdr_id)) {
		json_object_set_new(outcome, "message",
				    json_string(nids == 0 ? "Select the contacts to hand over."
						: nids > ASSIGNMENTS_BULK_MAX
						    ? "Hand over at most 5,000 contacts at a time."
						    : "Choose the SDR."));
		return ASSIGNMENTS_INVALID;
	}
	rows = json_array();
	buf_putc(&arr, '{');
	for (i = 0; i < nids; i++) {
		if (!ids[i] || !uuid_valid(ids[i])) {
			json_array_append_new(rows,
					      json_pack("{s:s, s:s, s:b, s:s}", "id",
							ids[i] ? ids[i] : "", "name", "", "ok", 0,
							"message", "There is no such contact."));
			bad++;
			continue;
		}
		buf_printf(&arr, "%s%s", arr.len > 1 ? "," : "", ids[i]);
	}
	buf_putc(&arr, '}');
	p[0] = actor;
	p[1] = arr.data;
	p[2] = sdr_id;
	res = db_exec(c, &stmt_sdr_name, 1, p + 2);
	if (res && PQntuples(res) == 1)
		snprintf(sdr, sizeof sdr, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = res ? db_exec(c, &stmt_assign_contacts, 3, p) : NULL;
	buf_free(&arr);
	if (!res) {
		json_decref(rows);
		log_error("assignments: bulk hand-off failed: %s", db_error_message(c));
		return ASSIGNMENTS_DB_ERROR;
	}
	for (k = 0; k < PQntuples(res); k++) {
		int ok = PQgetvalue(res, k, 2)[0] == 't';

		assigned += ok;
		bad += !ok;
		json_array_append_new(rows,
				      json_pack("{s:s, s:s, s:b, s:s}", "id", PQgetvalue(res, k, 0),
						"name", PQgetvalue(res, k, 1), "ok", ok, "message",
						PQgetvalue(res, k, 3)));
	}
	PQclear(res);
	buf_printf(&line, "%d contact%s handed to %s.", assigned, assigned == 1 ? "" : "s",
		   *sdr ? sdr : "the SDR");
	if (bad)
		buf_printf(&line, " %zu not handed over: see why beside each.", bad);
	json_object_set_new(outcome, "assigned", json_integer(assigned));
	json_object_set_new(outcome, "rows", rows);
	json_object_set_new(outcome, "message", json_string(line.data));
	buf_free(&line);
	return ASSIGNMENTS_OK;
}

json_t *
assignments_of(db_conn *c, const char *entity_type, const char *entity_id)
{
	const char *p[2] = {entity_type, entity_id};
	json_t *o = records_json(c, &stmt_of, 2, p), *person;
	size_t i;

	if (!o)
		return NULL;
	json_array_foreach(json_object_get(o, "people"), i, person)
	{
		char initials[16];

		normalise_initials(json_string_value(json_object_get(person, "name")), initials);
		json_object_set_new(person, "initials", json_string(initials));
	}
	return o;
}

json_t *
assignments_sdrs(db_conn *c)
{
	return records_json(c, &stmt_sdrs, 0, NULL);
}

json_t *
assignments_mine(db_conn *c, const char *user_id)
{
	static const char *const paths[] = {"segment",	   "/segments/", "company",
					    "/companies/", "contact",	 "/contacts/"};
	const char *p[1] = {user_id};
	PGresult *res = db_exec(c, &stmt_mine, 1, p);
	json_t *list;
	int i, k;

	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		const char *type = PQgetvalue(res, i, 1);
		const char *base = "/";
		buf href = BUF_INIT;
		json_t *row;

		for (k = 0; k < 6; k += 2)
			if (!strcmp(type, paths[k]))
				base = paths[k + 1];
		buf_printf(&href, "%s%s", base, PQgetvalue(res, i, 2));
		row = json_pack(
		    "{s:s, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:s, s:s?, s:s?}", "id",
		    PQgetvalue(res, i, 0), "entity_type", type, "entity_id", PQgetvalue(res, i, 2),
		    "name", PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3), "href",
		    href.data, "role", PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
		    "assigned_by", PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
		    "assigned_text", PQgetvalue(res, i, 6), "status",
		    PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7), "context",
		    PQgetisnull(res, i, 8) ? NULL : PQgetvalue(res, i, 8));
		json_object_set_new(row, type, json_true());
		json_array_append_new(list, row);
		buf_free(&href);
	}
	PQclear(res);
	return list;
}

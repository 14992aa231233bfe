/*
 * assignments (web) — POST /assignments, unassigning, "my assignments", the
 * SDR hand-off (one contact or a selection) and scheduling a meeting.
 *
 * Each handler checks the grant it can know before asking (so a refusal
 * names the missing permission, SPEC §1), then lets the database decide the
 * rest: the domain call is one statement whose refusal is a sentence saying
 * why. Answers follow SPEC §7: JSON for Accept: application/json (201, or the
 * refusal's status with {ok: false, message}), otherwise a 303 back to where
 * the form was (return_to, a local path) with the outcome as a flash, and a
 * refusal as a page with its status and the reason.
 */
#include "web/assignments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/render.h"
#include "core/url.h"
#include "core/uuid.h"
#include "domain/assignments.h"
#include "domain/contacts.h"
#include "web/routes.h"
#include "web/session.h"

static const char *nonempty(const char *s);
static void entity_path(const char *entity_type, const char *entity_id, char *out, size_t outlen);
static const char *back_to(struct request *req, const char *fallback);
static unsigned result_status(enum assignments_result r);
static void answer(struct request *req, enum assignments_result r, const char *msg,
		   const char *permission, json_t *data, const char *fallback);
static json_t *picker(const char *kind, const char *label, const char *role_id,
		      const char *entity_type, const char *entity_id, const char *return_to,
		      json_t *options, const char *empty_text);
static void contact_hand_off(struct request *req, const char *contact_id);

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* "/segments/<id>", "/companies/<id>", "/contacts/<id>"; "/" for anything else. */
static void
entity_path(const char *entity_type, const char *entity_id, char *out, size_t outlen)
{
	const char *base = NULL;

	if (entity_type && !strcmp(entity_type, "segment"))
		base = "/segments/";
	else if (entity_type && !strcmp(entity_type, "company"))
		base = "/companies/";
	else if (entity_type && !strcmp(entity_type, "contact"))
		base = "/contacts/";
	if (base && entity_id && uuid_valid(entity_id))
		snprintf(out, outlen, "%s%s", base, entity_id);
	else
		snprintf(out, outlen, "/");
}

/* Where the form came from (a local path only), else fallback. */
static const char *
back_to(struct request *req, const char *fallback)
{
	const char *to = req_form(req, "return_to");

	return url_is_local_path(to) ? to : fallback;
}

static unsigned
result_status(enum assignments_result r)
{
	switch (r) {
	case ASSIGNMENTS_OK:
		return 200;
	case ASSIGNMENTS_INVALID:
	case ASSIGNMENTS_REFUSED:
		return 422;
	case ASSIGNMENTS_FORBIDDEN:
		return 403;
	case ASSIGNMENTS_CONFLICT:
		return 409;
	case ASSIGNMENTS_NOT_FOUND:
		return 404;
	case ASSIGNMENTS_DB_ERROR:
	default:
		return 500;
	}
}

/*
 * The one way every handler here answers. data (ownership taken, may be
 * NULL) goes into the JSON answer; fallback is the redirect target when the
 * form named none.
 */
static void
answer(struct request *req, enum assignments_result r, const char *msg, const char *permission,
       json_t *data, const char *fallback)
{
	unsigned status = result_status(r);

	if (r == ASSIGNMENTS_DB_ERROR) {
		json_decref(data);
		render_db_error(req, req_db(req));
		return;
	}
	if (req_wants_json(req)) {
		json_t *o = json_pack("{s:b, s:s}", "ok", r == ASSIGNMENTS_OK, "message", msg);

		if (data)
			json_object_update(o, data);
		json_decref(data);
		resp_json(
		    req, r == ASSIGNMENTS_OK && !strcmp(req_method(req), "POST") ? 201 : status, o);
		return;
	}
	json_decref(data);
	if (r == ASSIGNMENTS_OK) {
		session_flash(req, "success", msg);
		resp_redirect(req, back_to(req, fallback));
	} else if (r == ASSIGNMENTS_FORBIDDEN) {
		render_forbidden(req, permission, msg);
	} else {
		render_error(req, status, msg);
	}
}

/* -------------------------------------------------------------- assigning */

void
web_assignments_create(struct request *req)
{
	struct assignment_input in = {
	    nonempty(req_form(req, "entity_type")),
	    nonempty(req_form(req, "entity_id")),
	    nonempty(req_form(req, "assigned_to")),
	    nonempty(req_form(req, "role_id")),
	};
	const char *perm = assignments_permission(in.entity_type, in.role_id);
	/* a segment's grant depends on the role, which may be an id or left to the database */
	int open_role = in.entity_type && !strcmp(in.entity_type, "segment") &&
			!(in.role_id && !uuid_valid(in.role_id));
	json_t *out = json_object();
	char msg[512], fallback[64];
	enum assignments_result r;

	entity_path(in.entity_type, in.entity_id, fallback, sizeof fallback);
	if (open_role ? !session_can(req, "segments.assign_researcher") &&
			    !session_can(req, "segments.assign_sdr")
		      : perm && !session_can(req, perm)) {
		json_decref(out);
		snprintf(msg, sizeof msg, "Assigning a %s needs the permission %s.", in.entity_type,
			 perm);
		answer(req, ASSIGNMENTS_FORBIDDEN, msg, perm, NULL, fallback);
		return;
	}
	r = assignments_assign(req_db(req), session_user(req)->id, &in, out, msg, sizeof msg);
	/* the database's refusal names the grant itself */
	answer(req, r, msg, open_role ? NULL : perm,
	       r == ASSIGNMENTS_OK ? json_pack("{s:o}", "assignment", out) : NULL, fallback);
	if (r != ASSIGNMENTS_OK)
		json_decref(out);
}

void
web_assignments_deactivate(struct request *req)
{
	json_t *out = json_object();
	char msg[512], fallback[64];
	enum assignments_result r;

	r = assignments_unassign(req_db(req), session_user(req)->id, req_param(req, "id"), out, msg,
				 sizeof msg);
	entity_path(json_string_value(json_object_get(out, "entity_type")),
		    json_string_value(json_object_get(out, "entity_id")), fallback,
		    sizeof fallback);
	answer(req, r, msg, NULL, out, fallback);
}

void
web_assignments_mine(struct request *req)
{
	json_t *list = assignments_mine(req_db(req), session_user(req)->id);

	if (!list) {
		render_db_error(req, req_db(req));
		return;
	}
	render(req, 200, "assignments/mine",
	       json_pack("{s:s, s:b, s:o}", "title", "My assignments", "empty",
			 json_array_size(list) == 0, "assignments", list));
}

/* ---------------------------------------------------------- SDR hand-off */

/* One contact to the SDR the form names (assigned_sdr_id, the contact's column, or assigned_to). */
static void
contact_hand_off(struct request *req, const char *contact_id)
{
	const char *sdr = nonempty(req_form(req, "assigned_sdr_id"));
	struct assignment_input in = {"contact", contact_id,
				      sdr ? sdr : nonempty(req_form(req, "assigned_to")), "SDR"};
	json_t *out = json_object();
	char msg[512], fallback[64];
	enum assignments_result r;

	entity_path("contact", contact_id, fallback, sizeof fallback);
	r = assignments_assign(req_db(req), session_user(req)->id, &in, out, msg, sizeof msg);
	answer(req, r, msg, "contacts.assign_sdr",
	       r == ASSIGNMENTS_OK ? json_pack("{s:o}", "assignment", out) : NULL, fallback);
	if (r != ASSIGNMENTS_OK)
		json_decref(out);
}

void
web_contacts_assign_sdr(struct request *req)
{
	contact_hand_off(req, req_param(req, "id"));
}

/* A selection of contacts (ids, repeated) to one SDR. */
void
web_contacts_assign_sdr_bulk(struct request *req)
{
	const char **ids = NULL;
	size_t n = req_values(req, 0, "ids", &ids);
	const char *sdr = nonempty(req_form(req, "assigned_sdr_id"));
	json_t *outcome = json_object();
	enum assignments_result r;
	char msg[512];

	if (n == 0)
		n = req_values(req, 0, "id", &ids);
	r = assignments_assign_contacts(req_db(req), session_user(req)->id, ids, n,
					sdr ? sdr : nonempty(req_form(req, "assigned_to")),
					outcome);
	snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(outcome, "message")));
	answer(req, r, msg, "contacts.assign_sdr", outcome, "/contacts");
}

void
web_contacts_schedule(struct request *req)
{
	const char *id = req_param(req, "id");
	char msg[512], fallback[64];
	enum assignments_result r;

	entity_path("contact", id, fallback, sizeof fallback);
	r = assignments_schedule(req_db(req), session_user(req)->id, id, msg, sizeof msg);
	answer(req, r, msg, "contacts.schedule_meeting",
	       json_pack("{s:s, s:s}", "id", id, "status",
			 r == ASSIGNMENTS_OK ? "meeting_scheduled" : ""),
	       fallback);
}

/* ------------------------------------------------------- the assign dialogs */

static json_t *
picker(const char *kind, const char *label, const char *role_id, const char *entity_type,
       const char *entity_id, const char *return_to, json_t *options, const char *empty_text)
{
	buf uid = BUF_INIT;
	json_t *p;

	buf_printf(&uid, "assign-%s-%s", entity_id, kind);
	p = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:O, s:b, s:s}", "kind", kind, "label",
		      label, "uid", uid.data, "role_id", role_id, "entity_type", entity_type,
		      "entity_id", entity_id, "return_to", return_to, "options",
		      options ? options : json_array(), "has_options", json_array_size(options) > 0,
		      "empty_text", empty_text);
	buf_free(&uid);
	return p;
}

json_t *
web_assign_vm(struct request *req, db_conn *db, const char *entity_type, const char *entity_id,
	      const char *return_to, int assignable)
{
	json_t *of = assignments_of(db, entity_type, entity_id), *pickers, *person;
	int segment = !strcmp(entity_type, "segment"), company = !strcmp(entity_type, "company");
	size_t i;

	if (!of)
		return NULL;
	json_array_foreach(json_object_get(of, "people"), i, person)
	{
		const char *role = json_string_value(json_object_get(person, "role"));
		const char *perm = assignments_permission(entity_type, role);

		/* a contact's SDR is handed over, never just removed */
		json_object_set_new(
		    person, "can_unassign",
		    json_boolean(strcmp(entity_type, "contact") && perm && session_can(req, perm)));
	}
	pickers = json_array();
	if (assignable && (segment || company) &&
	    session_can(req, segment ? "segments.assign_researcher" : "companies.assign"))
		json_array_append_new(
		    pickers,
		    picker("researcher", "Assign a researcher", company ? "Researcher" : NULL,
			   entity_type, entity_id, return_to, json_object_get(of, "researchers"),
			   company ? "Every active Researcher is on it already."
				   : "Every active Researcher and Approver is on it already."));
	if (assignable && !company &&
	    session_can(req, segment ? "segments.assign_sdr" : "contacts.assign_sdr"))
		json_array_append_new(
		    pickers, picker("sdr", segment ? "Assign an SDR" : "Hand to an SDR", "SDR",
				    entity_type, entity_id, return_to, json_object_get(of, "sdrs"),
				    "Every active SDR is on it already."));
	json_object_set_new(of, "pickers", pickers);
	json_object_set_new(of, "has_people",
			    json_boolean(json_array_size(json_object_get(of, "people")) > 0));
	json_object_set_new(of, "entity_type", json_string(entity_type));
	json_object_set_new(of, "entity_id", json_string(entity_id));
	json_object_set_new(of, "return_to", json_string(return_to));
	json_object_del(of, "researchers");
	json_object_del(of, "sdrs");
	return of;
}

json_t *
web_assign_contact_picker(const char *contact_id, const char *current, json_t *sdrs,
			  const char *return_to)
{
	json_t *options = json_array(), *o, *p;
	size_t i;

	json_array_foreach(sdrs, i, o)
	{
		const char *id = json_string_value(json_object_get(o, "id"));

		if (!current || !id || strcmp(id, current))
			json_array_append(options, o);
	}
	p = picker("sdr", "Hand to an SDR", "SDR", "contact", contact_id, return_to, options,
		   "No other active SDR.");
	json_decref(options);
	return p;
}

int
web_contacts_add_pickers(struct request *req, db_conn *db, json_t *rows, const char *return_to)
{
	json_t *sdrs, *row;
	size_t i;

	if (!rows || !session_can(req, "contacts.assign_sdr"))
		return 0;
	if (!(sdrs = assignments_sdrs(db)))
		return -1;
	json_array_foreach(rows, i, row)
	{
		const char *status = json_string_value(json_object_get(row, "status"));

		if (status && (!strcmp(status, "approved") || !strcmp(status, "assigned_to_sdr")))
			json_object_set_new(
			    row, "picker",
			    web_assign_contact_picker(
				json_string_value(json_object_get(row, "id")),
				json_string_value(json_object_get(row, "assigned_sdr_id")), sdrs,
				return_to));
	}
	json_decref(sdrs);
	return 0;
}

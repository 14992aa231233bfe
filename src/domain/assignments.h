/*
 * assignments — who works on what (SPEC.md §2 "Assignments"), the SDR
 * hand-off and the meeting step of the contact pipeline.
 *
 * Every rule lives in the database (migrations/0008_assignments.sql) and each
 * change here is one statement — a SQL function that writes the row and its
 * audit row together — so the handler, a script and psql meet the same rules:
 *   - segment → Researcher or Approver (segments.assign_researcher),
 *     segment → SDR (segments.assign_sdr), approved company → Researcher
 *     (companies.assign), approved contact → SDR (contacts.assign_sdr);
 *   - the assignee is active and holds the role named;
 *   - the same (entity, user) pair is active once; several users per entity;
 *   - unassigning keeps the row (is_active = false) and is audited;
 *   - assigning an SDR to a contact hands it over: assigned_sdr_id, and
 *     approved → assigned_to_sdr, in the same statement;
 *   - a meeting is scheduled by the contact's own SDR, or an Admin or Approver.
 * A refusal comes back as a message that says why, from the database itself.
 */
#ifndef SPANNER_ASSIGNMENTS_H
#define SPANNER_ASSIGNMENTS_H

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"

/* The most contacts one bulk hand-off takes. */
#define ASSIGNMENTS_BULK_MAX 5000

enum assignments_result {
	ASSIGNMENTS_OK,
	ASSIGNMENTS_INVALID,   /* the request itself is malformed: msg says what */
	ASSIGNMENTS_REFUSED,   /* a rule said no: msg says which (HTTP 422) */
	ASSIGNMENTS_FORBIDDEN, /* the actor lacks the grant: msg names it (HTTP 403) */
	ASSIGNMENTS_CONFLICT,  /* already assigned / already scheduled (HTTP 409) */
	ASSIGNMENTS_NOT_FOUND,
	ASSIGNMENTS_DB_ERROR,
};

/* The form fields of POST /assignments: the assignments table's columns. */
struct assignment_input {
	const char *entity_type; /* segment | company | contact */
	const char *entity_id;
	const char *assigned_to;
	const char *role_id; /* a role's id or name; NULL = inferred from the assignee's roles */
};

/*
 * The permission assigning entity_type to role (a role name, or NULL when
 * not known yet) needs: "companies.assign"… For a segment with no role it is
 * segments.assign_researcher, the usual one. NULL for an unknown entity type.
 */
const char *assignments_permission(const char *entity_type, const char *role);

/*
 * Assigns. out (an object) receives {id, entity_type, entity_id, role,
 * assignee, contact_status (contacts: the status after the hand-off)}; msg a
 * sentence for the user either way.
 */
enum assignments_result assignments_assign(db_conn *c, const char *actor,
					   const struct assignment_input *in, json_t *out,
					   char *msg, size_t msglen);

/*
 * Ends assignment id (the row stays, is_active = false, audited). out
 * receives {entity_type, entity_id}. ASSIGNMENTS_CONFLICT when it had ended.
 */
enum assignments_result assignments_unassign(db_conn *c, const char *actor, const char *id,
					     json_t *out, char *msg, size_t msglen);

/* assigned_to_sdr → meeting_scheduled, audited; refusals say why. */
enum assignments_result assignments_schedule(db_conn *c, const char *actor, const char *contact_id,
					     char *msg, size_t msglen);

/*
 * Hands each of ids to the SDR sdr_id, each on its own: outcome receives
 * {assigned (count), rows [{id, name, ok, message}], message (one line)}.
 * ASSIGNMENTS_INVALID (message in outcome) for no ids, too many or no SDR.
 */
enum assignments_result assignments_assign_contacts(db_conn *c, const char *actor,
						    const char *const *ids, size_t nids,
						    const char *sdr_id, json_t *outcome);

/*
 * Who is on one entity and who could be: {people [{id (the assignment),
 * user_id, name, email, initials, role, assigned_by, assigned_text}],
 * researchers [{id, name, email, roles}], sdrs [...]} — researchers holds the
 * active users a segment (Researcher or Approver) or a company (Researcher)
 * may go to, sdrs the active SDRs; people already on the entity are left out
 * of both. NULL on a database error.
 */
json_t *assignments_of(db_conn *c, const char *entity_type, const char *entity_id);

/* Every active SDR, [{id, name, email, roles}]: the pickers of a list of contacts. */
json_t *assignments_sdrs(db_conn *c);

/*
 * A user's active assignments, newest first: [{id, entity_type, entity_id,
 * name, href, role, assigned_by, assigned_text, status}] (status: the company's
 * or contact's). NULL on a database error.
 */
json_t *assignments_mine(db_conn *c, const char *user_id);

#endif

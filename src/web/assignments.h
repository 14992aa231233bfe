/*
 * assignments (web) — the assign dialogs every detail page shares.
 *
 * A segment, company or contact page (or panel) adds the view model this
 * returns under "assign" and includes templates/assignments/_people: the
 * people on the record, an Unassign button each (when the user may), and one
 * assign dialog per kind the user may hand out, listing eligible people only.
 * The contact pages include the same partial with one line.
 */
#ifndef SPANNER_WEB_ASSIGNMENTS_H
#define SPANNER_WEB_ASSIGNMENTS_H

#include <jansson.h>

#include "core/db.h"
#include "core/http.h"

/*
 * {entity_type, entity_id, return_to, people [… + can_unassign], has_people,
 * pickers [{kind, label, uid, role_id, options, has_options, empty_text,
 * entity_type, entity_id, return_to}]}. assignable 0 (a company or contact
 * not approved) leaves the pickers out. NULL on a database error.
 */
json_t *web_assign_vm(struct request *req, db_conn *db, const char *entity_type,
		      const char *entity_id, const char *return_to, int assignable);

/*
 * The SDR picker for one contact of a list (the company page's contacts):
 * sdrs is every active SDR (assignments_sdrs), current the contact's SDR id
 * (left out of the choices) or NULL.
 */
json_t *web_assign_contact_picker(const char *contact_id, const char *current, json_t *sdrs,
				  const char *return_to);

/*
 * Gives each approved (or already handed-off) contact of rows its SDR
 * picker, returning to return_to, when the user holds contacts.assign_sdr:
 * the company's contact list on its page and panel. 0 or -1.
 */
int web_contacts_add_pickers(struct request *req, db_conn *db, json_t *rows,
			     const char *return_to);

#endif

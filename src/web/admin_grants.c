/*
 * admin_grants — the role × permission matrix (/admin/grants, permission
 * grants.manage).
 *
 * The page is one form of checkboxes, saved whole: what is posted is the
 * complete set of grants wanted (an unchecked box is simply absent), and
 * domain/grants.c turns the difference into inserts, deletes and one audit
 * row. The Admin role's users.manage and grants.manage are shown checked and
 * disabled; disabled boxes are never posted, and the domain adds them back
 * regardless of what arrives.
 */
#include <stdio.h>

#include "core/buf.h"
#include "core/render.h"
#include "domain/audit.h"
#include "domain/grants.h"
#include "web/routes.h"
#include "web/session.h"

#define GRANTS_HISTORY 8

void
web_admin_grants_show(struct request *req)
{
	db_conn *db = req_db(req);
	json_t *matrix, *history;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	matrix = grants_matrix(db);
	history = matrix ? audit_timeline(db, "grants", NULL, GRANTS_HISTORY) : NULL;
	if (!matrix || !history) {
		json_decref(matrix);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(matrix, "title", json_string("Grants"));
	json_object_set_new(
	    matrix, "colspan",
	    json_integer((json_int_t)json_array_size(json_object_get(matrix, "roles")) + 1));
	json_object_set_new(matrix, "timeline", history);
	json_object_set_new(matrix, "locked_role", json_string(GRANTS_LOCKED_ROLE));
	render(req, 200, "admin/grants", matrix);
}

void
web_admin_grants_save(struct request *req)
{
	const struct auth_user *me = session_user(req);
	const char **pairs = NULL;
	size_t n = req_values(req, 0, "grant", &pairs);
	db_conn *db = req_db(req);
	json_t *changes = NULL;
	buf msg = BUF_INIT;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	switch (grants_save(db, me->id, pairs, n, &changes)) {
	case GRANTS_OK: {
		size_t granted = json_array_size(json_object_get(changes, "granted"));
		size_t revoked = json_array_size(json_object_get(changes, "revoked"));

		buf_printf(&msg,
			   "Grants saved: %zu granted, %zu revoked. They apply from each "
			   "person’s next click.",
			   granted, revoked);
		session_flash(req, "success", msg.data);
		resp_redirect(req, "/admin/grants");
		break;
	}
	case GRANTS_UNCHANGED:
		session_flash(req, "info", "Nothing to save: the grants were already as shown.");
		resp_redirect(req, "/admin/grants");
		break;
	case GRANTS_INVALID:
		render_error(req, 400,
			     "The form named a role or permission that doesn’t exist. Reload the "
			     "grants page and try again.");
		break;
	default:
		render_db_error(req, db);
		break;
	}
	json_decref(changes);
	buf_free(&msg);
}

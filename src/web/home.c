/*
 * home — "/" shows each user their work, and /workbench the researcher's.
 *
 * SPEC §7: the home page is the researcher workbench, or the approval queue
 * for Approvers; an SDR finds the contacts handed to them, Segment Owners
 * and Marketing their segments' progress. A user with several roles gets
 * every section that applies, on one page, in the order of the pipeline.
 * Which sections appear follows the roles held; what each section offers
 * (the buttons) follows the grants, as everywhere.
 */
#include <string.h>

#include "core/render.h"
#include "domain/home.h"
#include "domain/users.h"
#include "web/routes.h"
#include "web/session.h"

static int home_add(json_t *vm, const char *key, json_t *section);
static int home_nonempty(json_t *o, const char *key);

/* Adds a section; 0, or -1 when reading it failed (NULL). */
static int
home_add(json_t *vm, const char *key, json_t *section)
{
	if (!section)
		return -1;
	json_object_set_new(vm, key, section);
	return 0;
}

static int
home_nonempty(json_t *o, const char *key)
{
	return json_array_size(json_object_get(o, key)) > 0;
}

void
web_home(struct request *req)
{
	const struct auth_user *u = session_user(req);
	db_conn *db = req_db(req);
	int researcher = session_has_role(req, "Researcher");
	int approver = session_has_role(req, "Approver");
	int owner = session_has_role(req, "Segment Owner");
	int marketing = session_has_role(req, "Marketing");
	int sdr = session_has_role(req, "SDR");
	int failed = 0, sections = 0;
	json_t *vm = json_pack("{s:s, s:s, s:b}", "title", "Home", "name", u->name, "returning",
			       users_returning(db, u->id) == 1);

	if (researcher || approver) {
		json_t *wb = home_workbench(db, u->id);

		/* an Approver's own segments, when they have any; a Researcher always */
		if (wb && !researcher && !home_nonempty(wb, "segments") &&
		    !home_nonempty(wb, "companies")) {
			json_decref(wb);
		} else {
			failed |= home_add(vm, "workbench", wb);
			sections++;
		}
	}
	if (approver) {
		failed |= home_add(vm, "queue", home_queue_counts(db));
		sections++;
	}
	if (sdr) {
		failed |= home_add(vm, "sdr", home_sdr_contacts(db, u->id));
		sections++;
	}
	if (owner || marketing) {
		failed |= home_add(vm, "progress", home_segments_progress(db, u->id, marketing));
		json_object_set_new(vm, "progress_all", json_boolean(marketing));
		sections++;
	}
	if (failed) {
		json_decref(vm);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(vm, "no_sections", json_boolean(sections == 0));
	render(req, 200, "home", vm);
}

void
web_workbench(struct request *req)
{
	db_conn *db = req_db(req);
	json_t *wb = home_workbench(db, session_user(req)->id);

	if (!wb) {
		render_db_error(req, db);
		return;
	}
	render(req, 200, "workbench",
	       json_pack("{s:s, s:o, s:b}", "title", "Workbench", "workbench", wb, "page", 1));
}

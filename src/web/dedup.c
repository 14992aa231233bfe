/*
 * dedup — /admin/dedup: the duplicate job's schedule, "Run now", its live
 * progress and the history of its runs (permission dedup.run).
 *
 * The page reads everything from the database (dedup_runs, jobs, settings),
 * so it shows the same on every server. While a run waits or runs, the
 * status region polls itself through htmx every second; with JavaScript off
 * the whole page refreshes every 2 s (the layout's <noscript> meta refresh).
 * The schedule field previews the next runs in words as it is typed
 * (GET /admin/dedup/preview), and after a save.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/render.h"
#include "domain/audit.h"
#include "domain/dedup.h"
#include "web/routes.h"
#include "web/session.h"

#define DEDUP_HISTORY 20
#define DEDUP_PREVIEW_RUNS 3

static void dedup_page(struct request *req, unsigned status, const char *typed, const char *error);

/*
 * The page's view model. typed/error: a refused schedule comes back as typed,
 * with its message, the preview following what was typed.
 */
static void
dedup_page(struct request *req, unsigned status, const char *typed, const char *error)
{
	db_conn *db = req_db(req);
	const char *def = req_config(req)->dedup_schedule;
	json_t *st, *vm, *timeline, *preview;
	char *current;
	int busy;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	current = dedup_schedule_get(db, def);
	st = current ? dedup_status(db, DEDUP_HISTORY) : NULL;
	timeline = st ? audit_timeline(db, "dedup", NULL, 10) : NULL;
	if (!timeline) {
		free(current);
		json_decref(st);
		render_db_error(req, db);
		return;
	}
	busy = json_is_true(json_object_get(st, "queued")) ||
	       !json_is_null(json_object_get(st, "current"));
	preview = dedup_schedule_preview(typed ? typed : current, time(NULL), DEDUP_PREVIEW_RUNS);
	vm = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:b}", "title", "Duplicate detection",
		       "status", st, "schedule", current, "typed", typed ? typed : current,
		       "default_schedule", def && *def ? def : "off", "preview", preview,
		       "timeline", timeline, "busy", busy);
	if (error)
		json_object_set_new(vm, "schedule_error", json_string(error));
	/* Without JavaScript the page follows a run by reloading itself. */
	if (busy && !req_is_htmx(req))
		json_object_set_new(vm, "refresh", json_integer(2));
	free(current);
	render(req, status,
	       req_is_htmx(req) && req_query(req, "status") ? "dedup/_status" : "dedup/index", vm);
}

void
web_dedup_show(struct request *req)
{
	dedup_page(req, 200, NULL, NULL);
}

void
web_dedup_preview(struct request *req)
{
	const char *expr = req_query(req, "dedup_schedule");

	render(
	    req, 200, "dedup/_preview",
	    json_pack("{s:o}", "preview",
		      dedup_schedule_preview(expr ? expr : "off", time(NULL), DEDUP_PREVIEW_RUNS)));
}

void
web_dedup_schedule(struct request *req)
{
	const char *expr = req_form(req, "dedup_schedule");
	db_conn *db = req_db(req);
	char err[200];
	int rc;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	rc = dedup_schedule_set(db, session_user(req)->id, expr, req_config(req)->dedup_schedule,
				err, sizeof err);
	if (rc < 0) {
		render_db_error(req, db);
		return;
	}
	if (rc > 0) {
		char msg[300];

		snprintf(msg, sizeof msg, "That is not a schedule: %s. Nothing was changed.", err);
		dedup_page(req, 422, expr ? expr : "", msg);
		return;
	}
	session_flash(req, "success",
		      expr && *expr && strcmp(expr, "off") != 0
			  ? "Schedule saved. Every server follows it from its next check."
			  : "Schedule saved: the job runs only when someone presses Run now.");
	resp_redirect(req, "/admin/dedup");
}

void
web_dedup_run(struct request *req)
{
	db_conn *db = req_db(req);
	char job[37];
	int rc;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	rc = dedup_request(db, session_user(req)->id, job);
	if (rc < 0) {
		render_db_error(req, db);
		return;
	}
	if (req_wants_json(req)) {
		resp_json(req, rc ? 202 : 409,
			  json_pack("{s:b, s:s}", "queued", rc == 1, "message",
				    rc ? "The duplicate check has started."
				       : "A duplicate check is already waiting or running."));
		return;
	}
	session_flash(req, rc ? "success" : "info",
		      rc ? "The duplicate check has started. This page follows it."
			 : "A duplicate check is already waiting or running: this page follows "
			   "it.");
	resp_redirect(req, "/admin/dedup");
}

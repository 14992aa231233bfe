/*
 * collateral — /collateral: the marketing links, searchable and filterable
 * by scope, and their form (collateral.manage to add, edit and remove).
 *
 * The scope picker is a radio group of matches under a search field, so it
 * is operated with the keyboard alone (Tab into the group, arrows between
 * matches) with or without JavaScript: htmx refreshes the matches as the
 * type is changed or the search typed (GET /collateral/scopes); without
 * JavaScript the form's "Find" button posts the form back with the matches
 * for what was typed, keeping everything else that was typed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/render.h"
#include "core/url.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/collateral.h"
#include "web/listing.h"
#include "web/routes.h"
#include "web/session.h"

#define COLLATERAL_PAGE 50
#define COLLATERAL_OPTIONS 20
#define COLLATERAL_ACTIVITY 15

static const char *nonempty(const char *s);
static const char *back_to(const char *to, const char *fallback);
static json_t *scope_types(const char *selected);
static json_t *scope_picker(db_conn *db, const char *type, const char *q, const char *id,
			    int *failed);
static void render_form(struct request *req, unsigned status, json_t *link, json_t *errors,
			int from_form);
static db_conn *link_request(struct request *req, const char *id);
static json_t *link_or_404(struct request *req, db_conn *db, const char *id);
static void save(struct request *req, const char *id);

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static const char *
back_to(const char *to, const char *fallback)
{
	return url_is_local_path(to) ? to : fallback;
}

static json_t *
scope_types(const char *selected)
{
	static const char *const values[3] = {"segment", "offering", "lead"};
	static const char *const labels[3] = {"Segment", "Offering", "Lead (contact)"};
	json_t *list = json_array();
	int i;

	for (i = 0; i < 3; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", values[i],
						      "label", labels[i], "checked",
						      selected && !strcmp(selected, values[i])));
	return list;
}

/* The picker's matches for the chosen type: {options, has_options, type, noun, needs_q}. */
static json_t *
scope_picker(db_conn *db, const char *type, const char *q, const char *id, int *failed)
{
	json_t *options;
	int lead;

	*failed = 0;
	if (!collateral_scope_label(type))
		type = "segment";
	lead = !strcmp(type, "lead");
	options = collateral_scope_options(db, type, q, id, COLLATERAL_OPTIONS);
	if (!options) {
		*failed = 1;
		return NULL;
	}
	return json_pack("{s:o, s:b, s:s, s:s, s:b, s:s}", "options", options, "has_options",
			 json_array_size(options) > 0, "type", type, "noun",
			 lead			    ? "leads"
			 : !strcmp(type, "segment") ? "segments"
						    : "offerings",
			 "needs_q", lead && !q, "q", q ? q : "");
}

/* ---------------------------------------------------------------- the list */

void
web_collateral_list(struct request *req)
{
	struct collateral_filter f = {nonempty(req_query(req, "q")),
				      nonempty(req_query(req, "scope_type")),
				      nonempty(req_query(req, "scope_id")),
				      nonempty(req_query(req, "after")), COLLATERAL_PAGE};
	const struct listing_param kv[] = {
	    {"q", f.q}, {"scope_type", f.scope_type}, {"scope_id", f.scope_id}};
	const char *problem = collateral_filter_problem(&f);
	db_conn *db = req_db(req);
	struct listing l;
	json_t *rows, *vm, *activity = NULL;
	char *next = NULL;
	buf q = BUF_INIT;
	long long total;
	int rows_only;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	if (problem)
		f = (struct collateral_filter){NULL, NULL, NULL, NULL, COLLATERAL_PAGE};
	rows_only = req_is_htmx(req) && f.after;
	rows = collateral_list(db, &f, &next);
	total = rows && !rows_only ? collateral_count(db, &f) : 0;
	if (rows && !rows_only)
		activity = audit_timeline_of_type(db, "collateral", COLLATERAL_ACTIVITY);
	if (!rows || total < 0 || (!rows_only && !activity)) {
		json_decref(rows);
		json_decref(activity);
		free(next);
		render_db_error(req, db);
		return;
	}
	listing_query(&q, kv, sizeof kv / sizeof kv[0]);
	l = (struct listing){"/collateral", NULL,    q.data ? q.data : "",
			     next,	    total,   0,
			     "link",	    "links", f.q || f.scope_type || f.scope_id};
	vm = json_pack("{s:s, s:o, s:o, s:{s:s, s:o, s:s, s:b}, s:b, s:b}", "title",
		       "Marketing collateral", "rows", rows, "list", listing_vm(&l), "filters", "q",
		       f.q ? f.q : "", "scope_types", scope_types(f.scope_type), "scope_id",
		       f.scope_id ? f.scope_id : "", "active", l.filtered, "first_page",
		       f.after == NULL, "empty", json_array_size(rows) == 0 && !f.after);
	json_object_set(vm, "next_url", json_object_get(json_object_get(vm, "list"), "next_url"));
	json_object_set_new(vm, "timeline", activity ? activity : json_array());
	if (problem)
		json_object_set_new(vm, "filter_error", json_string(problem));
	free(next);
	buf_free(&q);
	render(req, 200, rows_only ? "collateral/_rows" : "collateral/index", vm);
}

/* ---------------------------------------------------------------- the form */

/*
 * The form for a new link (link NULL) or an existing one. from_form: the
 * values come from the posted form (a refused save, a Find), else from the
 * link or the query (a scope chosen on the page that links here).
 */
static void
render_form(struct request *req, unsigned status, json_t *link, json_t *errors, int from_form)
{
	db_conn *db = req_db(req);
	const char *(*get)(const struct request *, const char *) = from_form ? req_form : req_query;
	const char *type = nonempty(get(req, "scope_type"));
	const char *scope_id = nonempty(get(req, "scope_id"));
	const char *q = nonempty(get(req, "scope_q"));
	const char *ret = back_to(get(req, "return_to"), "");
	json_t *form, *picker, *vm;
	int failed;

	if (link && !from_form) {
		type = json_string_value(json_object_get(link, "scope_type"));
		scope_id = json_string_value(json_object_get(link, "scope_id"));
		form = json_pack("{s:O, s:O, s:O}", "title", json_object_get(link, "title"), "url",
				 json_object_get(link, "url"), "description",
				 json_object_get(link, "description"));
	} else {
		const char *t = get(req, "title"), *u = get(req, "url"),
			   *d = get(req, "description");

		form = json_pack("{s:s, s:s, s:s}", "title", t ? t : "", "url", u ? u : "",
				 "description", d ? d : "");
	}
	if (!type)
		type = "segment";
	picker = scope_picker(db, type, q, scope_id, &failed);
	if (failed) {
		json_decref(form);
		render_db_error(req, db);
		return;
	}
	vm = json_pack("{s:s, s:o, s:o, s:o, s:s, s:b}", "title",
		       link ? "Edit collateral link" : "New collateral link", "form", form,
		       "scope_types", scope_types(type), "picker", picker, "return_to", ret,
		       "is_new", link == NULL);
	if (link) {
		buf action = BUF_INIT;

		buf_printf(&action, "/collateral/%s",
			   json_string_value(json_object_get(link, "id")));
		json_object_set_new(vm, "action", json_string(action.data));
		json_object_set(vm, "link", link);
		buf_free(&action);
	} else {
		json_object_set_new(vm, "action", json_string("/collateral"));
	}
	if (errors && json_object_size(errors)) {
		json_object_set(vm, "errors", errors);
		json_object_set_new(vm, "has_errors", json_true());
	}
	render(req, status, "collateral/form", vm);
}

/* A request about the link {id}: its connection, or NULL with the error page sent. */
static db_conn *
link_request(struct request *req, const char *id)
{
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return NULL;
	}
	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no collateral link at this address.");
		return NULL;
	}
	return db;
}

static json_t *
link_or_404(struct request *req, db_conn *db, const char *id)
{
	int err = 0;
	json_t *link = collateral_get(db, id, &err);

	if (err)
		render_db_error(req, db);
	else if (!link)
		render_error(req, 404,
			     "There is no collateral link at this address. It may have "
			     "been removed.");
	return link;
}

void
web_collateral_new(struct request *req)
{
	if (!req_db(req)) {
		render_db_error(req, NULL);
		return;
	}
	render_form(req, 200, NULL, NULL, 0);
}

void
web_collateral_scopes(struct request *req)
{
	db_conn *db = req_db(req);
	json_t *picker;
	int failed;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	picker = scope_picker(db, nonempty(req_query(req, "scope_type")),
			      nonempty(req_query(req, "scope_q")),
			      nonempty(req_query(req, "scope_id")), &failed);
	if (failed) {
		render_db_error(req, db);
		return;
	}
	render(req, 200, "collateral/_scope_options", json_pack("{s:o}", "picker", picker));
}

/* POST /collateral (id NULL) and POST /collateral/{id}. */
static void
save(struct request *req, const char *id)
{
	struct collateral_input in;
	json_t *errors = json_object(), *link = NULL;
	db_conn *db = req_db(req);
	enum collateral_result r = COLLATERAL_INVALID;
	char new_id[37];

	if (!db) {
		json_decref(errors);
		render_db_error(req, NULL);
		return;
	}
	if (id && !(link = link_or_404(req, db, id))) {
		json_decref(errors);
		return;
	}
	/* No JavaScript: "Find" shows the matches for what was typed, saving nothing. */
	if (nonempty(req_form(req, "find"))) {
		render_form(req, 200, link, NULL, 1);
		json_decref(link);
		json_decref(errors);
		return;
	}
	if (collateral_clean(req_form(req, "title"), req_form(req, "url"),
			     req_form(req, "description"), nonempty(req_form(req, "scope_type")),
			     nonempty(req_form(req, "scope_id")), &in, errors) == 0)
		r = id ? collateral_update(db, session_user(req)->id, id, &in, errors)
		       : collateral_create(db, session_user(req)->id, &in, new_id, errors);
	if (r == COLLATERAL_OK) {
		buf loc = BUF_INIT;

		buf_printf(&loc, "/collateral?scope_type=%s&scope_id=%s", in.scope_type,
			   in.scope_id);
		session_flash(req, "success", id ? "Link saved." : "Link added.");
		resp_redirect(req, back_to(req_form(req, "return_to"), loc.data));
		buf_free(&loc);
	} else if (r == COLLATERAL_DB_ERROR) {
		render_db_error(req, db);
	} else if (r == COLLATERAL_NOT_FOUND) {
		render_error(req, 404, "There is no collateral link at this address.");
	} else {
		render_form(req, 422, link, errors, 1);
	}
	collateral_input_free(&in);
	json_decref(link);
	json_decref(errors);
}

void
web_collateral_create(struct request *req)
{
	save(req, NULL);
}

void
web_collateral_update(struct request *req)
{
	const char *id = req_param(req, "id");

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no collateral link at this address.");
		return;
	}
	save(req, id);
}

/* GET /collateral/{id}: the link, its history, and the form for those who may edit it. */
void
web_collateral_show(struct request *req)
{
	const char *id = req_param(req, "id");
	db_conn *db = link_request(req, id);
	json_t *link, *timeline;

	if (!db || !(link = link_or_404(req, db, id)))
		return;
	timeline = audit_timeline(db, "collateral", id, 20);
	if (!timeline) {
		json_decref(link);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(link, "timeline", timeline);
	if (session_can(req, "collateral.manage"))
		render_form(req, 200, link, NULL, 0);
	else
		render(
		    req, 200, "collateral/show",
		    json_pack("{s:O, s:O}", "title", json_object_get(link, "title"), "link", link));
	json_decref(link);
}

void
web_collateral_remove_confirm(struct request *req)
{
	const char *id = req_param(req, "id");
	db_conn *db = link_request(req, id);
	json_t *link;

	if (!db || !(link = link_or_404(req, db, id)))
		return;
	render(req, 200, "collateral/remove",
	       json_pack("{s:s, s:o, s:s}", "title", "Remove link", "link", link, "return_to",
			 back_to(req_query(req, "return_to"), "")));
}

void
web_collateral_remove(struct request *req)
{
	const char *id = req_param(req, "id");
	db_conn *db = link_request(req, id);
	json_t *removed = NULL;
	enum collateral_result r;
	buf msg = BUF_INIT;

	if (!db)
		return;
	r = collateral_remove(db, session_user(req)->id, id, &removed);
	if (r == COLLATERAL_DB_ERROR) {
		render_db_error(req, db);
		return;
	}
	if (r == COLLATERAL_NOT_FOUND) {
		render_error(
		    req, 404,
		    "There is no collateral link at this address: it was removed already.");
		return;
	}
	buf_printf(&msg, "Removed “%s”. The activity log keeps its title and address.",
		   json_string_value(json_object_get(removed, "title")));
	session_flash(req, "success", msg.data);
	resp_redirect(req, back_to(req_form(req, "return_to"), "/collateral"));
	buf_free(&msg);
	json_decref(removed);
}

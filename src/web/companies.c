/*
 * companies — the company pages: list, quick view, side panel, form,
 * decisions, export, and the approval queue's company tab.
 *
 * The list pattern (filters in the URL, keyset pages, infinite scroll with a
 * plain "next page" link underneath, CSV export of exactly the filtered rows)
 * lives here first; contacts, imports and collateral follow its shape.
 * Every page is also a fragment: htmx asks for the rows of the next page, the
 * popup, the panel or one edited field, and gets just that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/render.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/companies.h"
#include "domain/contacts.h"
#include "domain/dedup.h"
#include "domain/validate.h"
#include "web/assignments.h"
#include "web/listing.h"
#include "web/recordview.h"
#include "web/routes.h"
#include "web/session.h"

#define COMPANIES_MISSING "There is no company at this address."
#define COMPANIES_PAGE 50
#define COMPANY_CONTACTS_SHOWN 20 /* on the company panel */

static const char *nonempty(const char *s);
static void filter_from_request(struct request *req, struct companies_filter *f, int queue);
static void filter_query(const struct companies_filter *f, int queue, buf *out);
static json_t *filter_vm(db_conn *db, const struct companies_filter *f, int queue, const char *base,
			 int with_options);
static void list_page(struct request *req, int queue);
static json_t *company_or_404(struct request *req, db_conn *db, const char *id);
static void render_company(struct request *req, unsigned status, const char *tmpl, json_t *co,
			   json_t *errors, json_t *input);
static void reject_form_again(struct request *req, const char *msg, const char *id);
static void decided(struct request *req, enum companies_result r, const char *msg, const char *id);

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void
filter_from_request(struct request *req, struct companies_filter *f, int queue)
{
	memset(f, 0, sizeof *f);
	f->q = nonempty(req_query(req, "q"));
	f->segment_id = nonempty(req_query(req, "segment"));
	f->status = queue ? "pending" : nonempty(req_query(req, "status"));
	f->created_by = nonempty(req_query(req, "researcher"));
	f->assigned_to = queue ? NULL : nonempty(req_query(req, "assigned_to"));
	f->from = nonempty(req_query(req, "from"));
	f->to = nonempty(req_query(req, "to"));
	f->batch_id = nonempty(req_query(req, "batch"));
	f->show_duplicates = listing_duplicates(req_query(req, "duplicates"));
	f->show_inactive = nonempty(req_query(req, "deactivated")) != NULL;
	f->after = nonempty(req_query(req, "after"));
	/* the queue works oldest first; one upload's rows read in file order */
	f->oldest_first = queue || f->batch_id;
	f->limit = COMPANIES_PAGE;
}

/* The filters as a query string (without the page cursor), for links that keep them. */
static void
filter_query(const struct companies_filter *f, int queue, buf *out)
{
	const struct listing_param kv[] = {
	    {"q", f->q},
	    {"segment", f->segment_id},
	    {"status", queue ? NULL : f->status},
	    {"researcher", f->created_by},
	    {"assigned_to", f->assigned_to},
	    {"from", f->from},
	    {"to", f->to},
	    {"batch", f->batch_id},
	    {"duplicates", listing_duplicates_param(f->show_duplicates)},
	    {"deactivated", f->show_inactive ? "1" : NULL},
	};

	listing_query(out, kv, sizeof kv / sizeof kv[0]);
}

/*
 * The filter bar's view model. with_options 0 (the rows of a next page) skips
 * the segment and researcher pick lists: two queries the rows do not show.
 */
static json_t *
filter_vm(db_conn *db, const struct companies_filter *f, int queue, const char *base,
	  int with_options)
{
	static const char *const statuses[] = {"pending", "approved", "rejected"};
	json_t *vm = json_object(), *st = json_array();
	json_t *options = with_options ? companies_filter_options(db) : NULL;
	json_t *segments = json_incref(json_object_get(options, "segments"));
	json_t *creators = json_incref(json_object_get(options, "researchers"));
	json_t *assignees = json_incref(json_object_get(options, "assignees"));
	buf q = BUF_INIT;
	size_t i;

	for (i = 0; i < 3; i++)
		json_array_append_new(st, json_pack("{s:s, s:b}", "value", statuses[i], "selected",
						    f->status && !strcmp(f->status, statuses[i])));
	filter_query(f, queue, &q);
	json_object_set_new(vm, "q", json_string(f->q ? f->q : ""));
	json_object_set_new(vm, "from", json_string(f->from ? f->from : ""));
	json_object_set_new(vm, "to", json_string(f->to ? f->to : ""));
	json_object_set_new(vm, "batch", json_string(f->batch_id ? f->batch_id : ""));
	json_object_set_new(vm, "duplicates", json_boolean(f->show_duplicates));
	json_object_set_new(vm, "duplicates_only",
			    json_boolean(f->show_duplicates == COMPANIES_ONLY_DUPLICATES));
	json_object_set_new(vm, "deactivated", json_boolean(f->show_inactive));
	json_object_set_new(vm, "statuses", st);
	json_object_set_new(
	    vm, "segments",
	    listing_options_selected(segments ? segments : json_array(), f->segment_id));
	json_object_set_new(
	    vm, "researchers",
	    listing_options_selected(creators ? creators : json_array(), f->created_by));
	json_object_set_new(
	    vm, "assignees",
	    listing_options_selected(assignees ? assignees : json_array(), f->assigned_to));
	json_object_set_new(vm, "active",
			    json_boolean(f->q || f->segment_id || (f->status && !queue) ||
					 f->created_by || f->assigned_to || f->from || f->to ||
					 f->batch_id || f->show_duplicates || f->show_inactive));
	json_object_set_new(vm, "query", json_string(q.data ? q.data : ""));
	json_object_set_new(vm, "base", json_string(base));
	json_decref(options);
	buf_free(&q);
	return vm;
}

static json_t *
source_list(db_conn *db, const void *filter, char **next)
{
	return companies_list(db, filter, next);
}

static long long
source_count(db_conn *db, const void *filter, int *capped)
{
	return companies_count(db, filter, capped);
}

static void
source_query(const void *filter, int queue, buf *out)
{
	filter_query(filter, queue, out);
}

static json_t *
source_filters(db_conn *db, const void *filter, int queue, const char *base, int with_options)
{
	return filter_vm(db, filter, queue, base, with_options);
}

static const struct listing_source source = {source_list, source_count, source_query,
					     source_filters};

static void
list_page(struct request *req, int queue)
{
	static const struct listing_view views[2] = {
	    {"Companies", "/companies", "/companies/export.csv", "company", "companies",
	     "companies/list", "companies/_rows", NULL},
	    {"Approval queue · Companies", "/approvals/companies", NULL, "pending company",
	     "pending companies", "approvals/companies", "approvals/_company_rows", "companies"},
	};
	struct companies_filter f;
	const char *problem;

	filter_from_request(req, &f, queue);
	problem = companies_filter_problem(&f);
	if (problem) {
		/* A bad filter shows the first page unfiltered by it, and says why. */
		f.after = NULL;
		if (f.segment_id && !uuid_valid(f.segment_id))
			f.segment_id = NULL;
		if (f.created_by && !uuid_valid(f.created_by))
			f.created_by = NULL;
		if (f.assigned_to && !uuid_valid(f.assigned_to))
			f.assigned_to = NULL;
		if (f.batch_id && !uuid_valid(f.batch_id))
			f.batch_id = NULL;
		f.from = f.to = NULL;
		if (validate_search(f.q))
			f.q = NULL;
		if (!queue)
			f.status = companies_filter_problem(&f) ? NULL : f.status;
		f.oldest_first = queue || f.batch_id;
	}
	listing_page(req, &source, &views[queue ? 1 : 0], &f, f.after, queue, problem);
}

void
web_companies_list(struct request *req)
{
	list_page(req, 0);
}

void
web_approvals_companies(struct request *req)
{
	list_page(req, 1);
}

/* ---------------------------------------------------------------- export */

static int
export_open(db_conn *tx, const void *filter)
{
	return companies_export_open(tx, filter);
}

void
web_companies_export(struct request *req)
{
	static const struct listing_export e = {"company", "companies.csv", export_open,
						companies_export_fetch};
	struct companies_filter f;

	filter_from_request(req, &f, 0);
	f.after = NULL; /* an export is whole */
	f.limit = 0;
	listing_export(req, &source, &e, &f, companies_filter_problem(&f));
}

/* ---------------------------------------------------------------- record */

static json_t *
company_or_404(struct request *req, db_conn *db, const char *id)
{
	return recordview_get(req, db, id, companies_get, COMPANIES_MISSING);
}

/*
 * The company's contacts for its panel and page: the newest few, and
 * whether there are more (the full list is /contacts?company=…).
 */
static void
related_contacts(db_conn *db, json_t *co)
{
	struct contacts_filter f;
	char *next = NULL;
	json_t *rows;

	memset(&f, 0, sizeof f);
	f.company_id = json_string_value(json_object_get(co, "id"));
	f.limit = COMPANY_CONTACTS_SHOWN;
	rows = contacts_list(db, &f, &next);
	json_object_set_new(co, "contacts", rows ? rows : json_array());
	json_object_set_new(co, "contacts_more", json_boolean(next != NULL));
	json_object_set_new(co, "has_contacts", json_boolean(rows && json_array_size(rows) > 0));
	free(next);
}

/*
 * The company's view model for the popup, panel and page: the record, its
 * timeline, the active segments (for the editable segment field), and, after
 * a failed save, the submitted values and errors laid over the fields.
 */
static void
render_company(struct request *req, unsigned status, const char *tmpl, json_t *co, json_t *errors,
	       json_t *input)
{
	db_conn *db = req_db(req);
	json_t *timeline =
	    audit_timeline(db, "company", json_string_value(json_object_get(co, "id")), 50);
	json_t *segments = companies_active_segments(db);
	const char *id = json_string_value(json_object_get(co, "id"));
	char back[64];
	json_t *dup = dedup_related(db, "company", id);

	if (errors && json_object_get(errors, "segment_id"))
		json_object_set(co, "segment_error", json_object_get(errors, "segment_id"));
	json_object_set_new(
	    co, "segments",
	    listing_options_selected(segments ? segments : json_array(),
				     json_string_value(json_object_get(co, "segment_id"))));
	json_object_set_new(co, "timeline", timeline ? timeline : json_array());
	json_object_set_new(co, "dup", dup ? dup : json_null());
	/* who researches it (approved companies are assigned), and its contacts' hand-offs */
	snprintf(back, sizeof back, "/companies/%s", id);
	json_object_set_new(co, "assign",
			    web_assign_vm(req, db, "company", id, back,
					  json_is_true(json_object_get(co, "approved"))));
	json_object_set_new(co, "title",
			    json_string(json_string_value(json_object_get(co, "name"))));
	json_object_set_new(co, "ctx", json_string("panel"));
	recordview_decorate(req, co, "company", "/companies", errors, input);
	related_contacts(db, co);
	web_contacts_add_pickers(req, db, json_object_get(co, "contacts"), back);
	render(req, status, tmpl, co);
}

void
web_companies_show(struct request *req)
{
	json_t *co = recordview_load(req, companies_get, COMPANIES_MISSING);

	if (co)
		render_company(req, 200, "companies/panel", co, NULL, NULL);
}

void
web_companies_peek(struct request *req)
{
	json_t *co = recordview_load(req, companies_get, COMPANIES_MISSING);

	if (co) {
		json_object_set_new(co, "title",
				    json_string(json_string_value(json_object_get(co, "name"))));
		json_object_set_new(co, "full_page", json_boolean(!req_is_htmx(req)));
		json_object_set_new(co, "ctx", json_string("peek"));
		json_object_set_new(co, "dup",
				    dedup_related(req_db(req), "company", req_param(req, "id")));
		render(req, 200, "companies/peek", co);
	}
}

void
web_companies_new(struct request *req)
{
	db_conn *db = req_db(req);
	json_t *segments;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	segments = companies_active_segments(db);
	if (!segments) {
		render_db_error(req, db);
		return;
	}
	render(
	    req, 200, "companies/new",
	    json_pack("{s:s, s:o, s:o}", "title", "New company", "segments",
		      listing_options_selected(segments, req_query(req, "segment")), "fields",
		      recordview_form_fields(req, companies_fields, COMPANIES_NFIELDS, NULL, 1)));
}

void
web_companies_create(struct request *req)
{
	char *vals[COMPANIES_NFIELDS], id[37];
	json_t *errors = json_object();
	const char *segment_id = req_form(req, "segment_id");
	db_conn *db = req_db(req);
	enum companies_result r = COMPANIES_INVALID;

	if (!db) {
		json_decref(errors);
		render_db_error(req, NULL);
		return;
	}
	if (companies_clean(listing_form_get, req, 0, vals, NULL, errors) == 0)
		r = companies_create(db, session_user(req)->id, segment_id, vals, id, errors);
	else if (!segment_id || !uuid_valid(segment_id))
		json_object_set_new(errors, "segment_id", json_string("Choose a segment."));
	if (r == COMPANIES_OK) {
		recordview_redirect(req, "/companies", id,
				    "Company created. It waits for approval.");
	} else if (r == COMPANIES_DB_ERROR) {
		render_db_error(req, db);
	} else {
		json_t *segments = companies_active_segments(db);

		/* everything typed comes back, as typed, beside its message */
		render(
		    req, 422, "companies/new",
		    json_pack(
			"{s:s, s:o, s:o, s:O, s:b}", "title", "New company", "segments",
			listing_options_selected(segments ? segments : json_array(), segment_id),
			"fields",
			recordview_form_fields(req, companies_fields, COMPANIES_NFIELDS, errors, 1),
			"errors", errors, "has_errors", 1));
	}
	companies_values_free(vals);
	json_decref(errors);
}

void
web_companies_update(struct request *req)
{
	const char *id = req_param(req, "id");
	const char *segment_id = nonempty(req_form(req, "segment_id"));
	char *vals[COMPANIES_NFIELDS];
	int present[COMPANIES_NFIELDS];
	json_t *errors = json_object(), *co, *input;
	db_conn *db = req_db(req);
	enum companies_result r = COMPANIES_INVALID;

	if (!db) {
		json_decref(errors);
		render_db_error(req, NULL);
		return;
	}
	if (!uuid_valid(id)) {
		json_decref(errors);
		render_error(req, 404, COMPANIES_MISSING);
		return;
	}
	/* Only the fields sent are changed: the panel saves one field at a time. */
	if (companies_clean(listing_form_get, req, 1, vals, present, errors) == 0)
		r = companies_update(db, session_user(req)->id, id, segment_id, vals, present,
				     errors);
	companies_values_free(vals);
	if (r == COMPANIES_DB_ERROR) {
		json_decref(errors);
		render_db_error(req, db);
		return;
	}
	if (r == COMPANIES_NOT_FOUND) {
		json_decref(errors);
		render_error(req, 404, COMPANIES_MISSING);
		return;
	}
	if (r == COMPANIES_OK && !req_is_htmx(req)) {
		recordview_redirect(req, "/companies", id, "Changes saved.");
		json_decref(errors);
		return;
	}
	co = company_or_404(req, db, id);
	if (!co) {
		json_decref(errors);
		return;
	}
	input = recordview_typed(req, companies_fields, COMPANIES_NFIELDS, errors);
	if (r == COMPANIES_OK)
		recordview_mark_saved(co, present); /* the fields just saved say so */
	/*
	 * htmx gets the panel back with saved values or errors in place, as a
	 * 200: htmx swaps only successful responses, and the errors are the
	 * content here.
	 */
	render_company(req, r == COMPANIES_OK || req_is_htmx(req) ? 200 : 422, "companies/panel",
		       co, errors, input);
	json_decref(errors);
	json_decref(input);
}

/* --------------------------------------------------------------- decisions */

/*
 * A rejection without a usable reason: the same reject form again, open,
 * with what was typed and the message beside the field, so the user fixes
 * it where they are. htmx gets the form of the place it came from (ctx: a
 * queue row, or the quick view's or panel's actions) to swap in place of the
 * one sent; a plain post gets the company's page with the form open.
 */
static void
reject_form_again(struct request *req, const char *msg, const char *id)
{
	const char *ctx = req_form(req, "ctx");
	const char *typed = req_form(req, "rejection_reason");
	int queue = ctx && strcmp(ctx, "queue") == 0;
	json_t *co = company_or_404(req, req_db(req), id);

	if (!co)
		return;
	json_object_set_new(co, "reason_error", json_string(msg));
	if (typed && !validate_utf8(typed, strlen(typed)))
		json_object_set_new(co, "reason_value", json_string(typed));
	json_object_set_new(co, "return_to",
			    json_string(listing_safe_return(req_form(req, "return_to"), "")));
	if (req_is_htmx(req)) {
		json_object_set_new(co, "ctx",
				    json_string(ctx && !strcmp(ctx, "peek") ? "peek" : "panel"));
		render(req, 200, queue ? "approvals/_company_actions" : "companies/_actions", co);
		return;
	}
	render_company(req, 422, "companies/panel", co, NULL, NULL);
}

/*
 * After approve or reject. htmx (the queue, the popup, the panel) gets a small
 * fragment to swap in place of the row or the action bar; a plain form post
 * goes back where it came from with the outcome as a flash message.
 */
static void
decided(struct request *req, enum companies_result r, const char *msg, const char *id)
{
	char fallback[64];

	if (r == COMPANIES_DB_ERROR) {
		render_db_error(req, req_db(req));
		return;
	}
	if (r == COMPANIES_NOT_FOUND) {
		render_error(req, 404, COMPANIES_MISSING);
		return;
	}
	if (r == COMPANIES_INVALID && !req_wants_json(req)) {
		reject_form_again(req, msg, id);
		return;
	}
	if (req_is_htmx(req)) {
		resp_header(req, "HX-Trigger",
			    r == COMPANIES_OK ? "company-decided" : "company-refused");
		render(req, 200, "companies/_decided",
		       json_pack("{s:s, s:s, s:b, s:b}", "id", id, "message", msg, "ok",
				 r == COMPANIES_OK, "invalid", r == COMPANIES_INVALID));
		return;
	}
	if (req_wants_json(req)) {
		resp_json(req,
			  r == COMPANIES_OK	   ? 200
			  : r == COMPANIES_INVALID ? 422
						   : 409,
			  json_pack("{s:b, s:s}", "ok", r == COMPANIES_OK, "message", msg));
		return;
	}
	snprintf(fallback, sizeof fallback, "/companies/%s", id);
	session_flash(req, r == COMPANIES_OK ? "success" : "error", msg);
	resp_redirect(req, listing_safe_return(req_form(req, "return_to"), fallback));
}

void
web_companies_approve(struct request *req)
{
	const char *id = req_param(req, "id");
	char msg[400];
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	decided(req, companies_approve(db, session_user(req)->id, id, msg, sizeof msg), msg, id);
}

void
web_companies_reject(struct request *req)
{
	const char *id = req_param(req, "id");
	char msg[400];
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	decided(req,
		companies_reject(db, session_user(req)->id, id, req_form(req, "rejection_reason"),
				 msg, sizeof msg),
		msg, id);
}

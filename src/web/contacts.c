/*
 * contacts — the contact pages: list, quick view, side panel, form, inline
 * edits, export, bulk approval, and the approval queue's contacts tab.
 *
 * They follow the list pattern companies set (web/listing.h: filters in
 * the URL, keyset pages with a plain "next page" link, the count and the
 * export built from one query string) and the same record shapes (the field
 * table drives form, panel and JSON alike). What contacts add: the company
 * is picked among approved companies only (the segment is never read from
 * the client: it is the company's), and approval is bulk — one POST
 * /contacts/approve with the ids selected, or `only` for the one row whose
 * button was pressed, which reports the contacts someone else approved
 * meanwhile instead of approving them twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/render.h"
#include "core/uuid.h"
#include "domain/assignments.h"
#include "domain/audit.h"
#include "domain/collateral.h"
#include "domain/contacts.h"
#include "domain/dedup.h"
#include "domain/validate.h"
#include "web/assignments.h"
#include "web/listing.h"
#include "web/recordview.h"
#include "web/routes.h"
#include "web/session.h"

#define CONTACTS_MISSING "There is no contact at this address."
#define CONTACTS_PAGE 50
#define CONTACTS_COMPANY_CHOICES 200 /* approved companies offered by a picker */
#define CONTACTS_SIBLINGS 10	     /* the company's other contacts on the panel */

static const char *const statuses[] = {"uploaded", "approved", "assigned_to_sdr",
				       "meeting_scheduled"};
static const char *const status_labels[] = {"Uploaded", "Approved", "Assigned to SDR",
					    "Meeting scheduled"};

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void
filter_from_request(struct request *req, struct contacts_filter *f, int queue)
{
	memset(f, 0, sizeof *f);
	f->q = nonempty(req_query(req, "q"));
	f->segment_id = nonempty(req_query(req, "segment"));
	f->company_id = nonempty(req_query(req, "company"));
	f->status = queue ? "uploaded" : nonempty(req_query(req, "status"));
	f->sdr_id = queue ? NULL : nonempty(req_query(req, "sdr"));
	f->created_by = nonempty(req_query(req, "researcher"));
	f->from = nonempty(req_query(req, "from"));
	f->to = nonempty(req_query(req, "to"));
	f->batch_id = nonempty(req_query(req, "batch"));
	f->show_duplicates = listing_duplicates(req_query(req, "duplicates"));
	f->show_inactive = nonempty(req_query(req, "deactivated")) != NULL;
	f->after = nonempty(req_query(req, "after"));
	/* the queue works oldest first; one upload's rows read in file order */
	f->oldest_first = queue || f->batch_id;
	f->limit = CONTACTS_PAGE;
}

/* The filters as a query string (without the page cursor), for links that keep them. */
static void
filter_query(const struct contacts_filter *f, int queue, buf *out)
{
	const struct listing_param kv[] = {
	    {"q", f->q},
	    {"segment", f->segment_id},
	    {"company", f->company_id},
	    {"status", queue ? NULL : f->status},
	    {"sdr", f->sdr_id},
	    {"researcher", f->created_by},
	    {"from", f->from},
	    {"to", f->to},
	    {"batch", f->batch_id},
	    {"duplicates", listing_duplicates_param(f->show_duplicates)},
	    {"deactivated", f->show_inactive ? "1" : NULL},
	};

	listing_query(out, kv, sizeof kv / sizeof kv[0]);
}

/*
 * A filter that cannot be used is dropped (and said why) rather than
 * refusing the page: the first page, without the parts that were wrong.
 */
static void
filter_drop_bad(struct contacts_filter *f, int queue)
{
	f->after = NULL;
	if (f->segment_id && !uuid_valid(f->segment_id))
		f->segment_id = NULL;
	if (f->company_id && !uuid_valid(f->company_id))
		f->company_id = NULL;
	if (f->sdr_id && !uuid_valid(f->sdr_id))
		f->sdr_id = NULL;
	if (f->created_by && !uuid_valid(f->created_by))
		f->created_by = NULL;
	if (f->batch_id && !uuid_valid(f->batch_id))
		f->batch_id = NULL;
	f->from = f->to = NULL;
	if (validate_search(f->q))
		f->q = NULL;
	if (!queue && !contacts_status_valid(f->status))
		f->status = NULL;
	f->oldest_first = queue || f->batch_id;
}

static int
filter_active(const struct contacts_filter *f, int queue)
{
	return f->q || f->segment_id || f->company_id || (f->status && !queue) || f->sdr_id ||
	       f->created_by || f->from || f->to || f->batch_id || f->show_duplicates ||
	       f->show_inactive;
}

/*
 * The filter bar's view model. with_options 0 (the rows of a next page) skips
 * the pick lists: a query the rows do not show.
 */
static json_t *
filter_vm(db_conn *db, const struct contacts_filter *f, int queue, const char *base,
	  int with_options)
{
	json_t *vm = json_object(), *st = json_array();
	json_t *options = with_options ? contacts_filter_options(db, f->company_id) : NULL;
	json_t *segments = json_incref(json_object_get(options, "segments"));
	json_t *creators = json_incref(json_object_get(options, "researchers"));
	json_t *sdrs = json_incref(json_object_get(options, "sdrs"));
	json_t *company = json_object_get(options, "company");
	buf q = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		json_array_append_new(st, json_pack("{s:s, s:s, s:b}", "value", statuses[i],
						    "label", status_labels[i], "selected",
						    f->status && !strcmp(f->status, statuses[i])));
	filter_query(f, queue, &q);
	json_object_set_new(vm, "q", json_string(f->q ? f->q : ""));
	json_object_set_new(vm, "from", json_string(f->from ? f->from : ""));
	json_object_set_new(vm, "to", json_string(f->to ? f->to : ""));
	json_object_set_new(vm, "batch", json_string(f->batch_id ? f->batch_id : ""));
	json_object_set_new(vm, "company", json_string(f->company_id ? f->company_id : ""));
	json_object_set_new(vm, "company_name",
			    json_string(json_is_object(company)
					    ? json_string_value(json_object_get(company, "name"))
					    : ""));
	json_object_set_new(vm, "duplicates", json_boolean(f->show_duplicates));
	json_object_set_new(vm, "duplicates_only",
			    json_boolean(f->show_duplicates == CONTACTS_ONLY_DUPLICATES));
	json_object_set_new(vm, "deactivated", json_boolean(f->show_inactive));
	json_object_set_new(vm, "statuses", st);
	json_object_set_new(
	    vm, "segments",
	    listing_options_selected(segments ? segments : json_array(), f->segment_id));
	json_object_set_new(
	    vm, "researchers",
	    listing_options_selected(creators ? creators : json_array(), f->created_by));
	json_object_set_new(vm, "sdrs",
			    listing_options_selected(sdrs ? sdrs : json_array(), f->sdr_id));
	json_object_set_new(vm, "active", json_boolean(filter_active(f, queue)));
	json_object_set_new(vm, "query", json_string(q.data ? q.data : ""));
	json_object_set_new(vm, "base", json_string(base));
	json_decref(options);
	buf_free(&q);
	return vm;
}

static json_t *
source_list(db_conn *db, const void *filter, char **next)
{
	return contacts_list(db, filter, next);
}

static long long
source_count(db_conn *db, const void *filter, int *capped)
{
	return contacts_count(db, filter, capped);
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
	    {"Contacts", "/contacts", "/contacts/export.csv", "contact", "contacts",
	     "contacts/list", "contacts/_rows", NULL},
	    {"Approval queue · Contacts", "/approvals/contacts", NULL, "contact to approve",
	     "contacts to approve", "approvals/contacts", "approvals/_contact_rows", "contacts"},
	};
	struct contacts_filter f;
	const char *problem;

	filter_from_request(req, &f, queue);
	problem = contacts_filter_problem(&f);
	if (problem)
		filter_drop_bad(&f, queue);
	listing_page(req, &source, &views[queue ? 1 : 0], &f, f.after, queue, problem);
}

void
web_contacts_list(struct request *req)
{
	list_page(req, 0);
}

void
web_approvals_contacts(struct request *req)
{
	list_page(req, 1);
}

static int
export_open(db_conn *tx, const void *filter)
{
	return contacts_export_open(tx, filter);
}

void
web_contacts_export(struct request *req)
{
	static const struct listing_export e = {"contact", "contacts.csv", export_open,
						contacts_export_fetch};
	struct contacts_filter f;

	filter_from_request(req, &f, 0);
	f.after = NULL; /* an export is whole */
	f.limit = 0;
	listing_export(req, &source, &e, &f, contacts_filter_problem(&f));
}

/* ---------------------------------------------------------------- record */

static json_t *
contact_or_404(struct request *req, db_conn *db, const char *id)
{
	return recordview_get(req, db, id, contacts_get, CONTACTS_MISSING);
}

/* "First Last", the record's title and name. */
static void
set_name(json_t *k)
{
	json_object_set_new(k, "name",
			    json_sprintf("%s %s",
					 json_string_value(json_object_get(k, "first_name")),
					 json_string_value(json_object_get(k, "last_name"))));
	json_object_set(k, "title", json_object_get(k, "name"));
}

/* The company's other contacts, for the panel's "related" column; *more when there are others. */
static json_t *
siblings(db_conn *db, json_t *k, int *more)
{
	struct contacts_filter f;
	const char *id = json_string_value(json_object_get(k, "id"));
	char *next = NULL;
	json_t *rows, *out = json_array(), *row;
	size_t i;

	memset(&f, 0, sizeof f);
	f.company_id = json_string_value(json_object_get(k, "company_id"));
	f.limit = CONTACTS_SIBLINGS + 1; /* the contact itself may be one of them */
	rows = contacts_list(db, &f, &next);
	*more = next != NULL;
	json_array_foreach(rows, i, row)
	{
		if (strcmp(json_string_value(json_object_get(row, "id")), id) == 0)
			continue;
		if (json_array_size(out) == CONTACTS_SIBLINGS)
			*more = 1;
		else
			json_array_append(out, row);
	}
	json_decref(rows);
	free(next);
	return out;
}

/*
 * The SDR steps on the contact's page and panel (issue 11): the hand-off
 * picker for holders of contacts.assign_sdr while it is approved or with an
 * SDR, and "Meeting scheduled" for its own SDR (Admins and Approvers: any)
 * while it waits for one. The server checks both again when they are used.
 */
static void
contact_handoff(struct request *req, db_conn *db, json_t *k, const char *id)
{
	const char *st = json_string_value(json_object_get(k, "status"));
	const char *sdr = json_string_value(json_object_get(k, "assigned_sdr_id"));
	const struct auth_user *u = session_user(req);
	json_t *sdrs;
	char back[64];

	if (!st || !id)
		return;
	snprintf(back, sizeof back, "/contacts/%s", id);
	if ((!strcmp(st, "approved") || !strcmp(st, "assigned_to_sdr")) &&
	    session_can(req, "contacts.assign_sdr") && (sdrs = assignments_sdrs(db)) != NULL) {
		json_object_set_new(k, "picker", web_assign_contact_picker(id, sdr, sdrs, back));
		json_decref(sdrs);
	}
	if (!strcmp(st, "assigned_to_sdr") && session_can(req, "contacts.schedule_meeting") &&
	    ((u && sdr && !strcmp(u->id, sdr)) || session_has_role(req, "Admin") ||
	     session_has_role(req, "Approver")))
		json_object_set_new(k, "can_schedule", json_true());
	json_object_set_new(k, "return_to", json_string(back));
}

/*
 * The contact's view model for the panel and page: the record, its status
 * history (contacts_get), the activity timeline, the company (with the
 * approved companies of its segment to move it to) and the company's other
 * contacts, and, after a failed save, what was typed and the errors laid over
 * the fields. `assignments` (issue 11) and a duplicate banner (issue 12) are
 * rendered by the templates when present.
 */
static void
render_contact(struct request *req, unsigned status, const char *tmpl, json_t *k, json_t *errors,
	       json_t *input)
{
	db_conn *db = req_db(req);
	const char *id = json_string_value(json_object_get(k, "id"));
	const char *company_id = json_string_value(json_object_get(k, "company_id"));
	json_t *timeline = audit_timeline(db, "contact", id, 50);
	json_t *choices =
	    contacts_company_choices(db, NULL, json_string_value(json_object_get(k, "segment_id")),
				     company_id, CONTACTS_COMPANY_CHOICES);
	int more = 0;

	if (errors && json_object_get(errors, "company_id"))
		json_object_set(k, "company_error", json_object_get(errors, "company_id"));
	json_object_set_new(k, "companies", choices ? choices : json_array());
	json_object_set_new(k, "siblings", siblings(db, k, &more));
	json_object_set_new(k, "has_siblings",
			    json_boolean(json_array_size(json_object_get(k, "siblings")) > 0));
	json_object_set_new(k, "siblings_more", json_boolean(more));
	json_object_set_new(k, "timeline", timeline ? timeline : json_array());
	set_name(k);
	contact_handoff(req, db, k, id);
	/* its duplicate state, and the collateral an SDR sends (issue 12) */
	json_object_set_new(k, "dup", id ? dedup_related(db, "contact", id) : NULL);
	json_object_set_new(k, "collateral", id ? collateral_for_contact(db, id) : NULL);
	recordview_decorate(req, k, "contact", "/contacts", errors, input);
	render(req, status, tmpl, k);
}

void
web_contacts_show(struct request *req)
{
	json_t *k = recordview_load(req, contacts_get, CONTACTS_MISSING);

	if (k)
		render_contact(req, 200, "contacts/panel", k, NULL, NULL);
}

void
web_contacts_peek(struct request *req)
{
	json_t *k = recordview_load(req, contacts_get, CONTACTS_MISSING);

	if (k) {
		set_name(k);
		json_object_set_new(k, "full_page", json_boolean(!req_is_htmx(req)));
		render(req, 200, "contacts/peek", k);
	}
}

/*
 * The new-contact form: the company comes from the link that led here
 * (?company=, the company page's "Add contact") or is picked among approved
 * companies whose name contains company_q; the segment is never asked: it
 * is the company's.
 */
static void
new_form(struct request *req, unsigned status, const char *company_id, json_t *errors)
{
	db_conn *db = req_db(req);
	const char *company_q = nonempty(req_query(req, "company_q"));
	json_t *choices, *vm;

	if (validate_search(company_q))
		company_q = NULL;
	choices =
	    contacts_company_choices(db, company_q, NULL, company_id, CONTACTS_COMPANY_CHOICES);
	if (!choices) {
		render_db_error(req, db);
		return;
	}
	vm = json_pack(
	    "{s:s, s:o, s:o, s:s, s:b, s:b}", "title", "New contact", "companies", choices,
	    "fields", recordview_form_fields(req, contacts_fields, CONTACTS_NFIELDS, errors, 0),
	    "company_q", company_q ? company_q : "", "has_companies", json_array_size(choices) > 0,
	    "has_errors", errors && json_object_size(errors));
	if (errors)
		json_object_set(vm, "errors", errors);
	render(req, status, "contacts/new", vm);
}

void
web_contacts_new(struct request *req)
{
	if (!req_db(req)) {
		render_db_error(req, NULL);
		return;
	}
	new_form(req, 200, nonempty(req_query(req, "company")), NULL);
}

void
web_contacts_create(struct request *req)
{
	char *vals[CONTACTS_NFIELDS], id[37];
	json_t *errors = json_object();
	const char *company_id = nonempty(req_form(req, "company_id"));
	db_conn *db = req_db(req);
	enum contacts_result r = CONTACTS_INVALID;

	if (!db) {
		json_decref(errors);
		render_db_error(req, NULL);
		return;
	}
	if (contacts_clean(listing_form_get, req, 0, vals, NULL, errors) == 0)
		r = contacts_create(db, session_user(req)->id, company_id, vals, id, errors);
	else if (!company_id || !uuid_valid(company_id))
		json_object_set_new(errors, "company_id", json_string("Choose a company."));
	contacts_values_free(vals);
	if (r == CONTACTS_OK) {
		recordview_redirect(req, "/contacts", id,
				    "Contact created. It waits for approval.");
	} else if (r == CONTACTS_DB_ERROR) {
		render_db_error(req, db);
	} else {
		/* everything typed comes back, as typed, beside its message */
		new_form(req, 422, company_id && uuid_valid(company_id) ? company_id : NULL,
			 errors);
	}
	json_decref(errors);
}

void
web_contacts_update(struct request *req)
{
	const char *id = req_param(req, "id");
	const char *company_id = nonempty(req_form(req, "company_id"));
	char *vals[CONTACTS_NFIELDS];
	int present[CONTACTS_NFIELDS];
	json_t *errors = json_object(), *k, *input;
	db_conn *db = req_db(req);
	enum contacts_result r = CONTACTS_INVALID;

	if (!db) {
		json_decref(errors);
		render_db_error(req, NULL);
		return;
	}
	if (!uuid_valid(id)) {
		json_decref(errors);
		render_error(req, 404, CONTACTS_MISSING);
		return;
	}
	/* Only the fields sent are changed: the panel saves one field at a time. */
	if (contacts_clean(listing_form_get, req, 1, vals, present, errors) == 0)
		r = contacts_update(db, session_user(req)->id, id, company_id, vals, present,
				    errors);
	contacts_values_free(vals);
	if (r == CONTACTS_DB_ERROR || r == CONTACTS_NOT_FOUND) {
		json_decref(errors);
		if (r == CONTACTS_DB_ERROR)
			render_db_error(req, db);
		else
			render_error(req, 404, CONTACTS_MISSING);
		return;
	}
	if (r == CONTACTS_OK && !req_is_htmx(req) && !req_wants_json(req)) {
		recordview_redirect(req, "/contacts", id, "Changes saved.");
		json_decref(errors);
		return;
	}
	k = contact_or_404(req, db, id);
	if (!k) {
		json_decref(errors);
		return;
	}
	input = recordview_typed(req, contacts_fields, CONTACTS_NFIELDS, errors);
	if (r == CONTACTS_OK) {
		recordview_mark_saved(k, present); /* the fields just saved say so */
		if (company_id)
			json_object_set_new(k, "company_saved", json_true());
	}
	/* htmx swaps only successful answers, and the errors are the content here */
	render_contact(req, r == CONTACTS_OK || req_is_htmx(req) ? 200 : 422, "contacts/panel", k,
		       errors, input);
	json_decref(errors);
	json_decref(input);
}

/* ---------------------------------------------------------------- approval */

/*
 * POST /contacts/approve: `only` (the one row's Approve button, which wins
 * over any selection) or every `ids` value. htmx gets the outcome fragment
 * the queue reads (which rows leave, the message); JSON the outcome itself;
 * a plain form goes back where it came from with the outcome as a flash.
 */
void
web_contacts_approve(struct request *req)
{
	const char *only = nonempty(req_form(req, "only"));
	const char **ids = NULL;
	size_t nids = only ? 1 : req_values(req, 0, "ids", &ids);
	json_t *outcome = json_object();
	db_conn *db = req_db(req);
	enum contacts_result r;
	const char *msg;

	if (!db) {
		json_decref(outcome);
		render_db_error(req, NULL);
		return;
	}
	r = contacts_approve(db, session_user(req)->id, only ? &only : ids, nids, outcome);
	if (r == CONTACTS_DB_ERROR) {
		json_decref(outcome);
		render_db_error(req, db);
		return;
	}
	msg = json_string_value(json_object_get(outcome, "message"));
	json_object_set_new(outcome, "ok", json_boolean(r == CONTACTS_OK));
	if (req_wants_json(req)) {
		resp_json(req, r == CONTACTS_OK ? 200 : 422, outcome);
		return;
	}
	if (req_is_htmx(req)) {
		json_t *gone = json_array(), *x;
		size_t i;
		buf joined = BUF_INIT;

		/* every row that is no longer uploaded leaves the queue */
		json_array_foreach(json_object_get(outcome, "approved_ids"), i, x)
		    json_array_append(gone, x);
		json_array_foreach(json_object_get(outcome, "already"), i, x)
		    json_array_append(gone, json_object_get(x, "id"));
		json_array_foreach(gone, i, x)
		    buf_printf(&joined, "%s%s", i ? " " : "", json_string_value(x));
		json_object_set_new(outcome, "gone_ids",
				    json_string(joined.data ? joined.data : ""));
		json_object_set_new(
		    outcome, "has_already",
		    json_boolean(json_array_size(json_object_get(outcome, "already"))));
		json_decref(gone);
		buf_free(&joined);
		resp_header(req, "HX-Trigger", "contacts-approved");
		render(req, 200, "approvals/_contacts_approved", outcome);
		return;
	}
	session_flash(req,
		      r == CONTACTS_OK && json_integer_value(json_object_get(outcome, "approved"))
			  ? "success"
			  : "error",
		      msg ? msg : "Nothing was approved.");
	resp_redirect(req, listing_safe_return(req_form(req, "return_to"), "/approvals/contacts"));
	json_decref(outcome);
}

/*
 * segments — the Segments pages: /segments, /segments/new, /segments/{id}
 * and its archive/unarchive actions. The route guard has checked the
 * declared permission (and the CSRF token of every POST) before a handler
 * here runs; the handlers ask session_can() only to decide what to show.
 *
 * Each handler reads top to bottom: parse and validate → one domain call
 * (domain/segments.c: SQL and audit row in one transaction) → render. The
 * segment's page is also its edit form for people holding segments.edit, so a
 * failed save re-renders that page with status 422, every value as typed and
 * each message beside its field.
 *
 * The offering picker is rendered twice on purpose: as a checkbox list of every
 * active offering plus a "new offering" text field, which works with no
 * JavaScript at all, and as a hidden combobox that assets/js/combobox.js
 * swaps in (removing the checkboxes) when scripts run. Both post the same
 * field, offering_ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/format.h"
#include "core/url.h"
#include "core/render.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/collateral.h"
#include "domain/normalise.h"
#include "domain/offerings.h"
#include "domain/segments.h"
#include "domain/validate.h"
#include "web/assignments.h"
#include "web/listing.h"
#include "web/routes.h"
#include "web/session.h"

#define TIMELINE_LIMIT 50
/* Offering names a list row shows before "+N more". */
#define ROW_OFFERINGS_SHOWN 3

/* What the form posted: raw (to show again) and normalised (to save). */
struct segment_form {
	const char *raw_name, *raw_description, *raw_new_offering;
	char *name, *description, *new_offering;
	const char **offering_ids; /* req_values' array: valid until the next req_values call */
	size_t noffering_ids;
	json_t *errors; /* {field: message} */
};

static void form_read(struct request *req, struct segment_form *f);
static void form_free(struct segment_form *f);
static int form_add(json_t *vm, db_conn *db, const struct segment_form *f, json_t *segment);
static json_t *picker_vm(db_conn *db, json_t *chosen);
static void render_new_form(struct request *req, unsigned status, const struct segment_form *f);
static void render_segment_page(struct request *req, unsigned status, const char *id,
				const struct segment_form *f);
static json_t *company_links(const char *id, json_t *counts);
static void list_rows(json_t *segments);
static void list_url(buf *out, const char *q, int archived, const char *after);
static void redirect_segment(struct request *req, const char *id);
static void set_status(struct request *req, int archive);
static int text_valid(const char *s);
static json_t *text_json(const char *raw);

/* ---------------------------------------------------------------- list */

void
web_segments_list(struct request *req)
{
	const char *q = req_query(req, "q"), *after = req_query(req, "after");
	const char *archived_param = req_query(req, "archived");
	struct segments_filter f;
	db_conn *db = req_db(req);
	json_t *page, *vm;
	int archived, filtered;

	/* Anything but a well-formed cursor is the first page, not a database error. */
	if (!uuid_valid(after))
		after = NULL;
	if (q && !text_valid(q))
		q = NULL;
	archived = archived_param &&
		   (strcmp(archived_param, "1") == 0 || strcmp(archived_param, "on") == 0 ||
		    strcmp(archived_param, "true") == 0);
	f = (struct segments_filter){q, archived, after};
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	page = segments_list(db, &f);
	if (!page) {
		render_db_error(req, db);
		return;
	}
	filtered = q && *q;
	list_rows(json_object_get(page, "segments"));
	vm = json_pack("{s:s, s:{s:s, s:b}, s:b, s:b, s:b}", "title", "Segments", "filter", "q",
		       q ? q : "", "archived", archived, "filtered", filtered, "has_segments",
		       json_array_size(json_object_get(page, "segments")) > 0, "is_next_page",
		       after != NULL);
	json_object_update(vm, page);
	{
		json_int_t total = json_integer_value(json_object_get(page, "total"));
		json_int_t hidden = json_integer_value(json_object_get(page, "archived_hidden"));
		char text[96];
		buf url = BUF_INIT;

		json_object_set_new(vm, "total_text",
				    json_string(listing_count_text(total, 0, "segment", "segments",
								   filtered, text, sizeof text)));
		if (hidden > 0) {
			char num[32];

			snprintf(text, sizeof text, "%s archived %s hidden",
				 format_count(hidden, num, sizeof num),
				 hidden == 1 ? "segment" : "segments");
			json_object_set_new(vm, "archived_hidden_text", json_string(text));
			list_url(&url, q, 1, NULL);
			json_object_set_new(vm, "show_archived_url", json_string(url.data));
			buf_reset(&url);
		}
		if (json_is_string(json_object_get(page, "next"))) {
			list_url(&url, q, archived,
				 json_string_value(json_object_get(page, "next")));
			json_object_set_new(vm, "next_url", json_string(url.data));
		}
		buf_free(&url);
	}
	json_decref(page);
	/* Infinite scroll asks for the next rows alone; the filter form for the results block. */
	render(req, 200, req_is_htmx(req) && after ? "segments/_rows" : "segments/index", vm);
}

/* ---------------------------------------------------------------- create */

void
web_segments_new(struct request *req)
{
	render_new_form(req, 200, NULL);
}

void
web_segments_create(struct request *req)
{
	const struct auth_user *me = session_user(req);
	struct segment_form f;
	struct segment_input in;
	db_conn *db;
	char id[37];
	enum segments_result rc;

	form_read(req, &f);
	if (json_object_size(f.errors) > 0) {
		render_new_form(req, 422, &f);
		form_free(&f);
		return;
	}
	db = req_db(req);
	if (!db) {
		form_free(&f);
		render_db_error(req, NULL);
		return;
	}
	in = (struct segment_input){f.name, f.description, f.offering_ids, f.noffering_ids,
				    f.new_offering};
	rc = segments_create(db, me->id, &in, id);
	switch (rc) {
	case SEGMENTS_OK: {
		buf msg = BUF_INIT;

		buf_printf(&msg, "Created the segment “%s”.", f.name);
		session_flash(req, "success", msg.data);
		buf_free(&msg);
		redirect_segment(req, id);
		break;
	}
	case SEGMENTS_NAME_TAKEN:
		json_object_set_new(
		    f.errors, "name",
		    json_string("A segment with this name already exists (names are "
				"compared without regard to case). Choose another name."));
		render_new_form(req, 422, &f);
		break;
	case SEGMENTS_UNKNOWN_OFFERING:
		json_object_set_new(f.errors, "offerings",
				    json_string("One of the chosen offerings no longer exists. "
						"Choose again."));
		render_new_form(req, 422, &f);
		break;
	default:
		render_db_error(req, db);
		break;
	}
	form_free(&f);
}

/* ---------------------------------------------------------------- show and edit */

void
web_segments_show(struct request *req)
{
	render_segment_page(req, 200, req_param(req, "id"), NULL);
}

void
web_segments_update(struct request *req)
{
	const struct auth_user *me = session_user(req);
	const char *id = req_param(req, "id");
	struct segment_form f;
	struct segment_input in;
	db_conn *db;
	enum segments_result rc;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such segment.");
		return;
	}
	form_read(req, &f);
	if (json_object_size(f.errors) > 0) {
		render_segment_page(req, 422, id, &f);
		form_free(&f);
		return;
	}
	db = req_db(req);
	if (!db) {
		form_free(&f);
		render_db_error(req, NULL);
		return;
	}
	in = (struct segment_input){f.name, f.description, f.offering_ids, f.noffering_ids,
				    f.new_offering};
	rc = segments_update(db, me->id, id, &in);
	switch (rc) {
	case SEGMENTS_OK:
		session_flash(req, "success", "Saved the changes to the segment.");
		redirect_segment(req, id);
		break;
	case SEGMENTS_NO_CHANGE:
		session_flash(req, "info", "Nothing to save: the segment was already as shown.");
		redirect_segment(req, id);
		break;
	case SEGMENTS_NOT_FOUND:
		render_error(req, 404, "There is no such segment.");
		break;
	case SEGMENTS_NAME_TAKEN:
		json_object_set_new(
		    f.errors, "name",
		    json_string("Another segment already has this name (names are "
				"compared without regard to case). Choose another name."));
		render_segment_page(req, 422, id, &f);
		break;
	case SEGMENTS_UNKNOWN_OFFERING:
		json_object_set_new(f.errors, "offerings",
				    json_string("One of the chosen offerings no longer exists. "
						"Choose again."));
		render_segment_page(req, 422, id, &f);
		break;
	default:
		render_db_error(req, db);
		break;
	}
	form_free(&f);
}

/* ---------------------------------------------------------------- archive, unarchive */

void
web_segments_archive(struct request *req)
{
	set_status(req, 1);
}

void
web_segments_unarchive(struct request *req)
{
	set_status(req, 0);
}

static void
set_status(struct request *req, int archive)
{
	const struct auth_user *me = session_user(req);
	const char *id = req_param(req, "id");
	db_conn *db;
	enum segments_result rc;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such segment.");
		return;
	}
	db = req_db(req);
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	rc = archive ? segments_archive(db, me->id, id) : segments_unarchive(db, me->id, id);
	switch (rc) {
	case SEGMENTS_OK:
		session_flash(req, "success",
			      archive
				  ? "Segment archived. It is hidden from the segment list and "
				    "accepts no new companies; unarchive it at any time."
				  : "Segment unarchived. It is back in the list and accepts new "
				    "companies again.");
		redirect_segment(req, id);
		break;
	case SEGMENTS_NO_CHANGE:
		session_flash(req, "info",
			      archive ? "That segment was already archived."
				      : "That segment was already active.");
		redirect_segment(req, id);
		break;
	case SEGMENTS_NOT_FOUND:
		render_error(req, 404, "There is no such segment.");
		break;
	default:
		render_db_error(req, db);
		break;
	}
}

/* ---------------------------------------------------------------- form */

/*
 * Reads and checks the form. Messages say what to do, beside the field they
 * are about. A typed-in new offering needs offerings.create as well: the
 * route only asked for the segment permission.
 */
static void
form_read(struct request *req, struct segment_form *f)
{
	size_t i;

	memset(f, 0, sizeof *f);
	f->errors = json_object();
	f->raw_name = req_form(req, "name");
	f->raw_description = req_form(req, "description");
	f->raw_new_offering = req_form(req, "new_offering");
	f->noffering_ids = req_values(req, 0, "offering_ids", &f->offering_ids);

	if (f->raw_name && !text_valid(f->raw_name))
		json_object_set_new(f->errors, "name",
				    json_string("The name holds characters that can’t be stored. "
						"Type it again."));
	else if (!(f->name = normalise_text(f->raw_name)))
		json_object_set_new(f->errors, "name",
				    json_string("Enter a name for the segment."));
	else if (validate_max_length(f->name, SEGMENTS_NAME_MAX))
		json_object_set_new(f->errors, "name",
				    json_string("Keep the name to 200 characters or fewer."));

	if (f->raw_description && !text_valid(f->raw_description))
		json_object_set_new(f->errors, "description",
				    json_string("The description holds characters that can’t be "
						"stored. Type it again."));
	else if ((f->description = normalise_multiline(f->raw_description)) &&
		 validate_max_length(f->description, SEGMENTS_DESCRIPTION_MAX))
		json_object_set_new(
		    f->errors, "description",
		    json_string("Keep the description to 5,000 characters or fewer."));

	for (i = 0; i < f->noffering_ids; i++)
		if (!uuid_valid(f->offering_ids[i]))
			json_object_set_new(f->errors, "offerings",
					    json_string("Choose offerings from the list."));

	if (f->raw_new_offering && !text_valid(f->raw_new_offering)) {
		json_object_set_new(f->errors, "new_offering",
				    json_string("The offering name holds characters that can’t be "
						"stored. Type it again."));
	} else if ((f->new_offering = normalise_text(f->raw_new_offering))) {
		if (!session_can(req, "offerings.create"))
			json_object_set_new(
			    f->errors, "new_offering",
			    json_string("Your roles can’t add offerings "
					"(offerings.create). Choose from the list, or "
					"leave this empty."));
		else if (validate_max_length(f->new_offering, OFFERINGS_NAME_MAX))
			json_object_set_new(f->errors, "new_offering",
					    json_string("Keep the offering name to 200 characters "
							"or fewer."));
	}
}

static void
form_free(struct segment_form *f)
{
	free(f->name);
	free(f->description);
	free(f->new_offering);
	json_decref(f->errors);
}

/*
 * Adds the form's part of a view model: form {name, description,
 * new_offering}, errors, and the offering picker. Values come from f when the
 * form is shown again after a failed save, else from segment (editing) or are
 * empty (new). 0, or -1 on a database error.
 */
static int
form_add(json_t *vm, db_conn *db, const struct segment_form *f, json_t *segment)
{
	json_t *chosen, *picker;

	if (f) {
		const char **valid =
		    f->noffering_ids ? xcalloc(f->noffering_ids, sizeof *valid) : NULL;
		size_t i, n = 0;

		for (i = 0; i < f->noffering_ids; i++)
			if (uuid_valid(f->offering_ids[i]))
				valid[n++] = f->offering_ids[i];
		chosen = offerings_by_ids(db, valid, n);
		free(valid);
		json_object_set_new(vm, "form",
				    json_pack("{s:o, s:o, s:o}", "name", text_json(f->raw_name),
					      "description", text_json(f->raw_description),
					      "new_offering", text_json(f->raw_new_offering)));
	} else {
		json_t *desc = segment ? json_object_get(segment, "description") : NULL;

		chosen =
		    segment ? json_incref(json_object_get(segment, "offerings")) : json_array();
		json_object_set_new(
		    vm, "form",
		    json_pack("{s:s, s:s, s:s}", "name",
			      segment ? json_string_value(json_object_get(segment, "name")) : "",
			      "description", json_is_string(desc) ? json_string_value(desc) : "",
			      "new_offering", ""));
	}
	if (!chosen)
		return -1;
	picker = picker_vm(db, chosen);
	json_decref(chosen);
	if (!picker)
		return -1;
	json_object_set_new(vm, "picker", picker);
	if (f && json_object_size(f->errors) > 0) {
		size_t n = json_object_size(f->errors);

		json_object_set(vm, "errors", f->errors);
		json_object_set_new(vm, "has_errors", json_true());
		json_object_set_new(vm, "error_count", json_integer((json_int_t)n));
		json_object_set_new(vm, "error_plural", json_boolean(n > 1));
	}
	return 0;
}

/*
 * The offering picker: options [{id, name, checked, inactive}] — every active
 * offering, plus chosen ones that are no longer active so they stay visible —
 * and chosen [{id, name}] for the combobox's chips.
 */
static json_t *
picker_vm(db_conn *db, json_t *chosen)
{
	json_t *active = offerings_list(db, NULL, 0), *options, *o, *ch, *chips;
	size_t i, j;

	if (!active)
		return NULL;
	options = json_array();
	json_array_foreach(active, i, o)
	{
		int on = 0;

		json_array_foreach(
		    chosen, j, ch) if (strcasecmp(json_string_value(json_object_get(ch, "id")),
						  json_string_value(json_object_get(o, "id"))) == 0)
		    on = 1;
		json_array_append_new(options, json_pack("{s:O, s:O, s:b, s:b}", "id",
							 json_object_get(o, "id"), "name",
							 json_object_get(o, "name"), "checked", on,
							 "inactive", 0));
	}
	chips = json_array();
	json_array_foreach(chosen, j, ch)
	{
		int listed = 0;

		json_array_foreach(
		    active, i, o) if (strcasecmp(json_string_value(json_object_get(ch, "id")),
						 json_string_value(json_object_get(o, "id"))) == 0)
		    listed = 1;
		if (!listed)
			json_array_append_new(options, json_pack("{s:O, s:O, s:b, s:b}", "id",
								 json_object_get(ch, "id"), "name",
								 json_object_get(ch, "name"),
								 "checked", 1, "inactive", 1));
		json_array_append_new(chips,
				      json_pack("{s:O, s:O}", "id", json_object_get(ch, "id"),
						"name", json_object_get(ch, "name")));
	}
	json_decref(active);
	return json_pack("{s:o, s:o, s:b}", "options", options, "chosen", chips, "has_options",
			 json_array_size(options) > 0);
}

static void
render_new_form(struct request *req, unsigned status, const struct segment_form *f)
{
	db_conn *db = req_db(req);
	json_t *vm;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	vm = json_pack("{s:s, s:s, s:s, s:s, s:b}", "title", "New segment", "action", "/segments",
		       "submit_label", "Create segment", "cancel_url", "/segments", "creating", 1);
	if (form_add(vm, db, f, NULL) != 0) {
		json_decref(vm);
		render_db_error(req, db);
		return;
	}
	render(req, status, "segments/new", vm);
}

/*
 * The segment's page: details (an edit form for segments.edit), offerings,
 * companies by status, assignments and the activity timeline. f is the
 * posted form when a save failed, else NULL.
 */
static void
render_segment_page(struct request *req, unsigned status, const char *id,
		    const struct segment_form *f)
{
	db_conn *db;
	json_t *segment, *timeline, *vm, *assign;
	int failed = 0, editable = session_can(req, "segments.edit");
	buf action = BUF_INIT;
	char back[64];

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such segment.");
		return;
	}
	db = req_db(req);
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	segment = segments_get(db, id, &failed);
	if (!segment) {
		if (failed)
			render_db_error(req, db);
		else
			render_error(req, 404, "There is no such segment.");
		return;
	}
	timeline = audit_timeline(db, "segment", id, TIMELINE_LIMIT);
	if (!timeline) {
		json_decref(segment);
		render_db_error(req, db);
		return;
	}
	buf_printf(&action, "/segments/%s", id);
	vm = json_pack(
	    "{s:O, s:s, s:s, s:s, s:b, s:o, s:o, s:b, s:b, s:b}", "title",
	    json_object_get(segment, "name"), "action", action.data, "submit_label", "Save changes",
	    "cancel_url", action.data, "editable", editable, "company_links",
	    company_links(id, json_object_get(segment, "companies")), "timeline", timeline,
	    "has_companies",
	    json_integer_value(json_object_get(json_object_get(segment, "companies"), "total")) > 0,
	    "has_assignments", json_array_size(json_object_get(segment, "assignments")) > 0,
	    "has_offerings", json_array_size(json_object_get(segment, "offerings")) > 0);
	buf_free(&action);
	if (editable && form_add(vm, db, f, segment) != 0) {
		json_decref(vm);
		json_decref(segment);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(vm, "segment", segment);
	snprintf(back, sizeof back, "/segments/%s", id);
	if (!(assign = web_assign_vm(req, db, "segment", id, back, 1))) {
		json_decref(vm);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(vm, "assign", assign);
	json_object_set_new(vm, "collateral", collateral_for_segment(db, id));
	if (!json_object_get(vm, "collateral")) {
		json_decref(vm);
		render_db_error(req, db);
		return;
	}
	render(req, status, "segments/show", vm);
}

/* The status tiles: each links to the companies list filtered to this segment and status. */
static json_t *
company_links(const char *id, json_t *counts)
{
	static const struct {
		const char *status, *label;
	} statuses[] = {
	    {"pending", "Pending review"}, {"approved", "Approved"}, {"rejected", "Rejected"}};
	json_t *links = json_array();
	size_t i;

	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		json_int_t n = json_integer_value(json_object_get(counts, statuses[i].status));
		char href[128];

		snprintf(href, sizeof href, "/companies?segment=%s&status=%s", id,
			 statuses[i].status);
		json_array_append_new(links,
				      json_pack("{s:s, s:s, s:I, s:s, s:b}", "status",
						statuses[i].status, "label", statuses[i].label,
						"count", n, "href", href, "is_zero", n == 0));
	}
	return links;
}

/*
 * Each list row shows a few offering names and "+N more" rather than a wall
 * of chips; the flags are for the template, where 0 and [] are not alike.
 */
static void
list_rows(json_t *segments)
{
	json_t *s;
	size_t i;

	json_array_foreach(segments, i, s)
	{
		json_t *all = json_object_get(s, "offerings"), *shown = json_array();
		size_t n = json_array_size(all), k;
		buf more = BUF_INIT;

		for (k = 0; k < n && k < ROW_OFFERINGS_SHOWN; k++)
			json_array_append(shown, json_array_get(all, k));
		json_object_set_new(s, "offerings_shown", shown);
		json_object_set_new(s, "has_offerings", json_boolean(n > 0));
		json_object_set_new(
		    s, "has_companies",
		    json_boolean(json_integer_value(json_object_get(json_object_get(s, "companies"),
								    "total")) > 0));
		if (n > ROW_OFFERINGS_SHOWN) {
			buf_printf(&more, "+%zu more", n - ROW_OFFERINGS_SHOWN);
			json_object_set_new(s, "offerings_more", json_string(more.data));
		}
		buf_free(&more);
		json_object_set_new(
		    s, "href",
		    json_sprintf("/segments/%s", json_string_value(json_object_get(s, "id"))));
	}
}

/* /segments?q=…&archived=1&after=… with only the filters in use. */
static void
list_url(buf *out, const char *q, int archived, const char *after)
{
	char sep = '?';

	buf_puts(out, "/segments");
	if (q && *q) {
		buf_puts(out, "?q=");
		url_encode(out, q);
		sep = '&';
	}
	if (archived) {
		buf_printf(out, "%carchived=1", sep);
		sep = '&';
	}
	if (after)
		buf_printf(out, "%cafter=%s", sep, after);
}

static void
redirect_segment(struct request *req, const char *id)
{
	char location[64];

	snprintf(location, sizeof location, "/segments/%s", id);
	resp_redirect(req, location);
}

/* Strict UTF-8 without NUL: PostgreSQL text and JSON accept nothing else. */
static int
text_valid(const char *s)
{
	return validate_utf8(s, strlen(s)) == NULL;
}

/* A posted value to show again; one that isn't valid UTF-8 can't be shown and comes back empty. */
static json_t *
text_json(const char *raw)
{
	return json_string(raw && text_valid(raw) ? raw : "");
}

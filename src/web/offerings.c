/*
 * offerings — GET /offerings and POST /offerings.
 *
 * One URL serves three readers. The segment form's auto-complete asks with
 * htmx and gets the listbox options alone (at most ten active offerings, the
 * already chosen ones left out, and a last "Create “…”" option when the typed
 * name is new and the user may create offerings). A JSON client gets the
 * list. A browser without JavaScript gets a page listing every offering with
 * a form to add one.
 *
 * POST is idempotent by name (domain/offerings.c): the auto-complete gets
 * the chip of the new — or already existing — offering to add to the form; a
 * plain form is redirected back where it came from.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/render.h"
#include "core/url.h"
#include "core/uuid.h"
#include "domain/collateral.h"
#include "domain/normalise.h"
#include "domain/offerings.h"
#include "domain/validate.h"
#include "web/listing.h"
#include "web/routes.h"
#include "web/session.h"

static void render_options(struct request *req, db_conn *db, const char *q);
static void render_index(struct request *req, unsigned status, db_conn *db, const char *q,
			 json_t *form, json_t *errors);
static json_t *option_vm(json_t *offering, const char *q);
static const char *find_ci(const char *hay, const char *needle);
static const char *safe_return(const char *to);
static int text_valid(const char *s);
static void read_form(struct request *req, char **name, char **description, json_t *errors);
static void render_edit(struct request *req, unsigned status, json_t *offering, json_t *errors);
static json_t *offering_or_404(struct request *req, db_conn *db, const char *id);

void
web_offerings_index(struct request *req)
{
	const char *raw = req_query(req, "q");
	db_conn *db = req_db(req);
	char *q = raw && text_valid(raw) ? normalise_text(raw) : NULL;

	if (!db) {
		free(q);
		render_db_error(req, NULL);
		return;
	}
	if (req_is_htmx(req) && !req_wants_json(req))
		render_options(req, db, q);
	else
		render_index(req, 200, db, q, NULL, NULL);
	free(q);
}

void
web_offerings_create(struct request *req)
{
	const struct auth_user *me = session_user(req);
	const char *raw_name = req_form(req, "name"), *raw_desc = req_form(req, "description");
	char *name = NULL, *description = NULL;
	json_t *errors = json_object(), *offering;
	db_conn *db = req_db(req);

	read_form(req, &name, &description, errors);
	if (!db) {
		render_db_error(req, NULL);
		goto out;
	}
	if (json_object_size(errors) > 0) {
		if (req_is_htmx(req) && !req_wants_json(req)) {
			json_t *first = json_object_get(errors, "name");

			render(req, 422, "offerings/_create_error",
			       json_pack("{s:O}", "message",
					 first ? first : json_object_get(errors, "description")));
		} else {
			json_t *form = json_pack(
			    "{s:s, s:s}", "name", raw_name && text_valid(raw_name) ? raw_name : "",
			    "description", raw_desc && text_valid(raw_desc) ? raw_desc : "");

			render_index(req, 422, db, NULL, form, json_incref(errors));
		}
		goto out;
	}
	offering = offerings_create(db, me->id, name, description);
	if (!offering) {
		render_db_error(req, db);
		goto out;
	}
	if (req_is_htmx(req) || req_wants_json(req)) {
		render(req, json_is_true(json_object_get(offering, "created")) ? 201 : 200,
		       "offerings/_created", json_pack("{s:o}", "offering", offering));
	} else {
		buf msg = BUF_INIT;

		if (json_is_true(json_object_get(offering, "created")))
			buf_printf(&msg, "Added the offering “%s”.",
				   json_string_value(json_object_get(offering, "name")));
		else
			buf_printf(&msg, "“%s” is already an offering: nothing new was added.",
				   json_string_value(json_object_get(offering, "name")));
		session_flash(req, "success", msg.data);
		buf_free(&msg);
		json_decref(offering);
		resp_redirect(req, safe_return(req_form(req, "return_to")));
	}
out:
	free(name);
	free(description);
	json_decref(errors);
}

/*
 * The offering's name and description from the form, normalised, each
 * problem in errors beside its field; the same rules for adding and editing.
 */
static void
read_form(struct request *req, char **name, char **description, json_t *errors)
{
	const char *raw_name = req_form(req, "name"), *raw_desc = req_form(req, "description");

	*name = *description = NULL;
	if (raw_name && !text_valid(raw_name))
		json_object_set_new(errors, "name",
				    json_string("The name holds characters that can’t be stored."));
	else if (!(*name = normalise_text(raw_name)))
		json_object_set_new(errors, "name", json_string("Enter a name for the offering."));
	else if (validate_max_length(*name, OFFERINGS_NAME_MAX))
		json_object_set_new(errors, "name",
				    json_string("Keep the name to 200 characters or fewer."));
	if (raw_desc && !text_valid(raw_desc))
		json_object_set_new(errors, "description",
				    json_string("The description holds characters that can’t be "
						"stored."));
	else if ((*description = normalise_multiline(raw_desc)) &&
		 validate_max_length(*description, OFFERINGS_DESCRIPTION_MAX))
		json_object_set_new(
		    errors, "description",
		    json_string("Keep the description to 5,000 characters or fewer."));
}

/* ---------------------------------------------------------------- one offering */

static void
render_edit(struct request *req, unsigned status, json_t *offering, json_t *errors)
{
	const char *st = json_string_value(json_object_get(offering, "status"));
	json_t *links;

	json_object_set_new(offering, "title",
			    json_string(json_string_value(json_object_get(offering, "name"))));
	char used[64];

	json_object_set_new(offering, "status_active", json_boolean(st && !strcmp(st, "active")));
	json_object_set_new(offering, "segments_text",
			    json_string(listing_count_text(
				json_integer_value(json_object_get(offering, "segment_count")), 0,
				"segment", "segments", 0, used, sizeof used)));
	if (errors && json_object_size(errors)) {
		json_object_set(offering, "errors", errors);
		json_object_set_new(offering, "has_errors", json_true());
	}
	links = collateral_for_scope(req_db(req), "offering",
				     json_string_value(json_object_get(offering, "id")));
	if (!links) {
		json_decref(offering);
		render_db_error(req, req_db(req));
		return;
	}
	/* the format's order is the arguments' order: a swap put (json_t *)1 in the page */
	json_object_set_new(
	    offering, "collateral",
	    json_pack("{s:b, s:o}", "has_any", json_array_size(links) > 0, "links", links));
	render(req, status, "offerings/edit", offering);
}

/* The offering, or the error page already rendered (NULL). */
static json_t *
offering_or_404(struct request *req, db_conn *db, const char *id)
{
	int err = 0;
	json_t *offering = offerings_get(db, id, &err);

	if (!offering) {
		if (err)
			render_db_error(req, db);
		else
			render_error(req, 404, "There is no such offering.");
	}
	return offering;
}

/* GET /offerings/{id}: the offering, and the form to rename, re-describe or deactivate it. */
void
web_offerings_show(struct request *req)
{
	const char *id = req_param(req, "id");
	db_conn *db = req_db(req);
	json_t *offering;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such offering.");
		return;
	}
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	offering = offering_or_404(req, db, id);
	if (offering)
		render_edit(req, 200, offering, NULL);
}

/* POST /offerings/{id}: name, description and status (active|inactive) together. */
void
web_offerings_update(struct request *req)
{
	const char *id = req_param(req, "id");
	const char *status = req_form(req, "status");
	char *name, *description;
	json_t *errors = json_object(), *offering;
	db_conn *db = req_db(req);
	enum offerings_result r = OFFERINGS_ERROR;

	if (!uuid_valid(id)) {
		json_decref(errors);
		render_error(req, 404, "There is no such offering.");
		return;
	}
	read_form(req, &name, &description, errors);
	if (!status || (strcmp(status, "active") != 0 && strcmp(status, "inactive") != 0))
		json_object_set_new(errors, "status", json_string("Choose active or inactive."));
	if (!db) {
		render_db_error(req, NULL);
		goto out;
	}
	if (json_object_size(errors) == 0) {
		r = offerings_update(db, session_user(req)->id, id, name, description, status);
		if (r == OFFERINGS_OK) {
			buf loc = BUF_INIT;

			buf_printf(&loc, "/offerings/%s", id);
			session_flash(req, "success", "Offering saved.");
			resp_redirect(req, loc.data);
			buf_free(&loc);
			goto out;
		}
		if (r == OFFERINGS_NAME_TAKEN)
			json_object_set_new(errors, "name",
					    json_string("Another offering already has this name."));
	}
	if (r == OFFERINGS_ERROR && json_object_size(errors) == 0) {
		render_db_error(req, db);
		goto out;
	}
	offering = offering_or_404(req, db, id);
	if (!offering)
		goto out;
	/* what was typed comes back, beside its message */
	{
		const char *raw_name = req_form(req, "name"),
			   *raw_desc = req_form(req, "description");

		if (raw_name && text_valid(raw_name))
			json_object_set_new(offering, "name", json_string(raw_name));
		if (raw_desc && text_valid(raw_desc))
			json_object_set_new(offering, "description", json_string(raw_desc));
		if (!json_object_get(errors, "status"))
			json_object_set_new(offering, "status", json_string(status));
	}
	render_edit(req, 422, offering, errors);
out:
	free(name);
	free(description);
	json_decref(errors);
}

/*
 * The auto-complete's listbox content. The chosen offerings travel along as
 * offering_ids (hx-include of the chips) so they are not offered twice.
 */
static void
render_options(struct request *req, db_conn *db, const char *q)
{
	const char **ids, **valid;
	size_t n = req_values(req, 1, "offering_ids", &ids), nvalid = 0, i;
	json_t *found, *options, *o, *vm;
	int exact = 0, can_create;

	valid = n ? xcalloc(n, sizeof *valid) : NULL;
	for (i = 0; i < n; i++)
		if (uuid_valid(ids[i]))
			valid[nvalid++] = ids[i];
	found = offerings_search(db, q, valid, nvalid, OFFERINGS_SEARCH_LIMIT, &exact);
	free(valid);
	if (!found) {
		render_db_error(req, db);
		return;
	}
	options = json_array();
	json_array_foreach(found, i, o) json_array_append_new(options, option_vm(o, q));
	json_decref(found);
	can_create = q && !exact && !validate_max_length(q, OFFERINGS_NAME_MAX) &&
		     session_can(req, "offerings.create");
	vm = json_pack("{s:s?, s:o, s:b, s:b, s:b}", "q", q, "options", options, "can_create",
		       can_create, "has_options", json_array_size(options) > 0, "searched",
		       q != NULL);
	render(req, 200, "offerings/_options", vm);
}

/* The page for browsers without JavaScript (and the JSON list): every offering, and a form. */
static void
render_index(struct request *req, unsigned status, db_conn *db, const char *q, json_t *form,
	     json_t *errors)
{
	json_t *list = offerings_list(db, q, 1), *vm;
	const char *back = safe_return(req_query(req, "return_to"));
	char count[64];
	size_t n;

	if (!list) {
		json_decref(form);
		json_decref(errors);
		render_db_error(req, db);
		return;
	}
	n = json_array_size(list);
	listing_count_text((long long)n, 0, "offering", "offerings", q != NULL, count,
			   sizeof count);
	vm = json_pack("{s:s, s:s, s:o, s:b, s:b, s:s, s:s, s:b}", "title", "Offerings", "q",
		       q ? q : "", "offerings", list, "has_offerings", n > 0, "filtered", q != NULL,
		       "total_text", count, "return_to", status == 200 ? back : "/offerings",
		       "has_return", strcmp(back, "/offerings") != 0);
	json_object_set_new(vm, "form",
			    form ? form : json_pack("{s:s, s:s}", "name", "", "description", ""));
	if (errors) {
		json_object_set_new(vm, "errors", errors);
		json_object_set_new(vm, "has_errors", json_true());
	}
	render(req, status, "offerings/index", vm);
}

/* One option, its name split around the typed text so the template can highlight it. */
static json_t *
option_vm(json_t *offering, const char *q)
{
	const char *name = json_string_value(json_object_get(offering, "name"));
	const char *at = q ? find_ci(name, q) : NULL;
	json_t *o = json_pack("{s:O, s:O, s:O}", "id", json_object_get(offering, "id"), "name",
			      json_object_get(offering, "name"), "description",
			      json_object_get(offering, "description"));

	if (at) {
		size_t pre = (size_t)(at - name), len = strlen(q);

		json_object_set_new(o, "before", json_stringn(name, pre));
		json_object_set_new(o, "match", json_stringn(at, len));
		json_object_set_new(o, "after", json_string(at + len));
		json_object_set_new(o, "highlight", json_true());
	}
	return o;
}

/* ASCII case-insensitive strstr: enough to highlight; a miss only means no highlight. */
static const char *
find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n == 0)
		return NULL;
	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i]; i++)
			if (tolower((unsigned char)hay[i]) != tolower((unsigned char)needle[i]))
				break;
		if (i == n)
			return hay;
	}
	return NULL;
}

/* Only a path on this site (url_is_local_path), else the offerings page. */
static const char *
safe_return(const char *to)
{
	return url_is_local_path(to) ? to : "/offerings";
}

/* Strict UTF-8 without NUL: PostgreSQL text and JSON accept nothing else. */
static int
text_valid(const char *s)
{
	return validate_utf8(s, strlen(s)) == NULL;
}

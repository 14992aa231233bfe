/*
 * admin_users — the Users admin pages (/admin/users…, permission users.manage;
 * the route guard has checked it, and the CSRF token, before any handler here
 * runs).
 *
 * Each handler reads top to bottom: parse and validate the request → one
 * domain call (domain/users.c: SQL and audit row in one transaction) →
 * render. A form that fails validation comes back with status 422, every
 * value as typed (never the password), and each message beside its field;
 * success is a flash and a 303 to the user's page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/render.h"
#include "core/uuid.h"
#include "domain/accounts.h"
#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/users.h"
#include "domain/validate.h"
#include "web/listing.h"
#include "web/routes.h"
#include "web/session.h"

#define TIMELINE_LIMIT 50

/* What the create/edit form posted: raw (to show again) and normalised (to save). */
struct user_form {
	const char *raw_name, *raw_email;
	char *name, *email;
	const char **role_ids;
	size_t nroles;
	const char *sign_in; /* "link" or "password" (creation only) */
	const char *password;
	json_t *errors; /* {field: message} */
};

static const char *text_problem(const char *raw);
static void form_read(struct request *req, struct user_form *f, int creating);
static void form_free(struct user_form *f);
static json_t *form_roles(json_t *roles, const char *const *checked, size_t n);
static json_t *user_role_ids(json_t *user);
static json_t *error_list(json_t *errors, json_t *vm);
static void render_form(struct request *req, unsigned status, const char *id,
			const struct user_form *f, const char *alert);
static void render_user_page(struct request *req, unsigned status, const char *id,
			     const char *alert);
static void redirect_user(struct request *req, const char *id);
static void set_active(struct request *req, int active);
static void list_url(buf *out, const struct users_filter *f, const char *after);

/* ---------------------------------------------------------------- list */

void
web_admin_users_list(struct request *req)
{
	struct users_filter f = {req_query(req, "q"), req_query(req, "role"),
				 req_query(req, "status"), req_query(req, "after")};
	db_conn *db = req_db(req);
	json_t *page, *roles, *vm, *opts, *statuses;
	int filtered;
	size_t i;

	/* Anything but a well-formed id is no filter, not a database error. */
	if (text_problem(f.q)) {
		render_error(req, 400, "The search text is not valid UTF-8.");
		return;
	}
	if (!uuid_valid(f.role))
		f.role = NULL;
	if (!uuid_valid(f.after))
		f.after = NULL;
	if (f.status && strcmp(f.status, "active") != 0 && strcmp(f.status, "deactivated") != 0)
		f.status = NULL;
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	page = users_list(db, &f);
	roles = page ? users_roles(db) : NULL;
	if (!page || !roles) {
		json_decref(page);
		render_db_error(req, db);
		return;
	}
	filtered = (f.q && *f.q) || f.role || f.status;
	opts = json_array();
	for (i = 0; i < json_array_size(roles); i++) {
		json_t *role = json_array_get(roles, i);
		const char *rid = json_string_value(json_object_get(role, "id"));

		json_array_append_new(opts, json_pack("{s:s, s:O, s:b}", "id", rid, "name",
						      json_object_get(role, "name"), "selected",
						      f.role && strcmp(f.role, rid) == 0));
	}
	json_decref(roles);
	statuses = json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}, {s:s, s:s, s:b}]", "value", "",
			     "label", "Any status", "selected", !f.status, "value", "active",
			     "label", "Active", "selected", f.status && !strcmp(f.status, "active"),
			     "value", "deactivated", "label", "Deactivated", "selected",
			     f.status && !strcmp(f.status, "deactivated"));
	vm = json_pack("{s:s, s:{s:s}, s:o, s:o, s:b, s:b, s:b}", "title", "Users", "filter", "q",
		       f.q ? f.q : "", "role_options", opts, "status_options", statuses, "filtered",
		       filtered, "has_users", json_array_size(json_object_get(page, "users")) > 0,
		       "is_next_page", f.after != NULL);
	json_object_update(vm, page);
	{
		json_int_t total = json_integer_value(json_object_get(page, "total"));
		char text[64];

		json_object_set_new(vm, "total_text",
				    json_string(listing_count_text(total, 0, "user", "users", filtered,
								   text, sizeof text)));
	}
	if (json_is_string(json_object_get(page, "next"))) {
		buf url = BUF_INIT;

		list_url(&url, &f, json_string_value(json_object_get(page, "next")));
		json_object_set_new(vm, "next_url", json_string(url.data));
		buf_free(&url);
	}
	json_decref(page);
	/* Infinite scroll asks for the next rows alone; the filter form for the results block. */
	render(req, 200, req_is_htmx(req) && f.after ? "admin/_user_rows" : "admin/users", vm);
}

/* ---------------------------------------------------------------- create */

void
web_admin_users_new(struct request *req)
{
	struct user_form f = {0};

	f.sign_in = "link";
	render_form(req, 200, NULL, &f, NULL);
}

void
web_admin_users_create(struct request *req)
{
	const struct auth_user *me = session_user(req);
	struct user_form f;
	struct user_input in;
	db_conn *db;
	char id[37];
	enum users_result rc;

	form_read(req, &f, 1);
	if (json_object_size(f.errors) > 0) {
		render_form(req, 422, NULL, &f, NULL);
		form_free(&f);
		return;
	}
	db = req_db(req);
	if (!db) {
		form_free(&f);
		render_db_error(req, NULL);
		return;
	}
	in = (struct user_input){f.name, f.email, f.role_ids, f.nroles,
				 strcmp(f.sign_in, "password") == 0 ? f.password : NULL};
	rc = users_create(db, req_config(req), me->id, &in, id);
	switch (rc) {
	case USERS_OK: {
		buf msg = BUF_INIT;

		if (in.password)
			buf_printf(&msg,
				   "%s was created. They can sign in with the password you set.",
				   f.name);
		else
			buf_printf(
			    &msg,
			    "%s was created. A link to set their password is on its way to %s.",
			    f.name, f.email);
		session_flash(req, "success", msg.data);
		buf_free(&msg);
		redirect_user(req, id);
		break;
	}
	case USERS_EMAIL_TAKEN:
		json_object_set_new(
		    f.errors, "email",
		    json_string("Another account already uses this e-mail address."));
		render_form(req, 422, NULL, &f, NULL);
		break;
	case USERS_UNKNOWN_ROLE:
		json_object_set_new(
		    f.errors, "roles",
		    json_string("One of the roles no longer exists. Choose again."));
		render_form(req, 422, NULL, &f, NULL);
		break;
	default:
		render_db_error(req, db);
		break;
	}
	form_free(&f);
}

/* ---------------------------------------------------------------- show and edit */

void
web_admin_users_show(struct request *req)
{
	render_user_page(req, 200, req_param(req, "id"), NULL);
}

void
web_admin_users_update(struct request *req)
{
	const struct auth_user *me = session_user(req);
	const char *id = req_param(req, "id");
	struct user_form f;
	struct user_input in;
	db_conn *db;
	enum users_result rc;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such user.");
		return;
	}
	form_read(req, &f, 0);
	if (json_object_size(f.errors) > 0) {
		render_form(req, 422, id, &f, NULL);
		form_free(&f);
		return;
	}
	db = req_db(req);
	if (!db) {
		form_free(&f);
		render_db_error(req, NULL);
		return;
	}
	in = (struct user_input){f.name, f.email, f.role_ids, f.nroles, NULL};
	rc = users_update(db, me->id, id, &in);
	switch (rc) {
	case USERS_OK: {
		buf msg = BUF_INIT;

		buf_printf(&msg, "Saved the changes to %s.", f.name);
		session_flash(req, "success", msg.data);
		buf_free(&msg);
		redirect_user(req, id);
		break;
	}
	case USERS_NO_CHANGE:
		session_flash(req, "info", "Nothing to save: the details were already as shown.");
		redirect_user(req, id);
		break;
	case USERS_NOT_FOUND:
		render_error(req, 404, "There is no such user.");
		break;
	case USERS_EMAIL_TAKEN:
		json_object_set_new(
		    f.errors, "email",
		    json_string("Another account already uses this e-mail address."));
		render_form(req, 422, id, &f, NULL);
		break;
	case USERS_LAST_ADMIN:
		json_object_set_new(
		    f.errors, "roles",
		    json_string("This is the last active Admin, so they must keep the Admin role. "
				"Make someone else an Admin first."));
		render_form(req, 422, id, &f, NULL);
		break;
	case USERS_UNKNOWN_ROLE:
		json_object_set_new(
		    f.errors, "roles",
		    json_string("One of the roles no longer exists. Choose again."));
		render_form(req, 422, id, &f, NULL);
		break;
	default:
		render_db_error(req, db);
		break;
	}
	form_free(&f);
}

/* ---------------------------------------------------------------- deactivate, reactivate */

static void
set_active(struct request *req, int active)
{
	const struct auth_user *me = session_user(req);
	const char *id = req_param(req, "id");
	db_conn *db;
	enum users_result rc;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such user.");
		return;
	}
	db = req_db(req);
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	rc = active ? users_reactivate(db, me->id, id) : users_deactivate(db, me->id, id);
	switch (rc) {
	case USERS_OK:
		session_flash(req, "success",
			      active
				  ? "The user was reactivated and can sign in again."
				  : "The user was deactivated and signed out everywhere. Nothing "
				    "was deleted: you can reactivate them at any time.");
		redirect_user(req, id);
		break;
	case USERS_NO_CHANGE:
		session_flash(req, "info",
			      active ? "That user is already active."
				     : "That user is already deactivated.");
		redirect_user(req, id);
		break;
	case USERS_NOT_FOUND:
		render_error(req, 404, "There is no such user.");
		break;
	case USERS_LAST_ADMIN:
		render_user_page(req, 409, id,
				 "This is the last active Admin and can’t be deactivated. Make "
				 "someone else an Admin first.");
		break;
	case USERS_SELF:
		render_user_page(req, 409, id,
				 "You can’t deactivate your own account. Another Admin can do "
				 "it for you.");
		break;
	default:
		render_db_error(req, db);
		break;
	}
}

/*
 * The confirmation page before a deactivation: what it does to whom, and the
 * button that does it. With JavaScript the user page asks the same in a
 * dialog and this page is never seen; without, the "Deactivate user…" link
 * comes here. Yourself: the page says why not, with no button.
 */
void
web_admin_users_deactivate_confirm(struct request *req)
{
	const struct auth_user *me = session_user(req);
	const char *id = req_param(req, "id");
	db_conn *db;
	json_t *user;
	int failed = 0;

	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such user.");
		return;
	}
	db = req_db(req);
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	user = users_get(db, id, &failed);
	if (!user) {
		if (failed)
			render_db_error(req, db);
		else
			render_error(req, 404, "There is no such user.");
		return;
	}
	render(req, 200, "admin/user_deactivate",
	       json_pack("{s:s, s:o, s:b}", "title", "Deactivate user", "user", user, "is_self",
			 me && strcmp(me->id, id) == 0));
}

void
web_admin_users_deactivate(struct request *req)
{
	set_active(req, 0);
}

void
web_admin_users_reactivate(struct request *req)
{
	set_active(req, 1);
}

/* ---------------------------------------------------------------- helpers */

/*
 * Reads and checks the form. Messages say what to do, beside the field they
 * are about; the password is checked only when it is the chosen way in.
 */
static void
form_read(struct request *req, struct user_form *f, int creating)
{
	size_t i;

	memset(f, 0, sizeof *f);
	f->errors = json_object();
	f->raw_name = req_form(req, "name");
	f->raw_email = req_form(req, "email");
	f->name = normalise_text(f->raw_name);
	f->email = normalise_email(f->raw_email);
	f->nroles = req_values(req, 0, "role_id", &f->role_ids);
	f->sign_in = req_form(req, "sign_in");
	if (!f->sign_in || strcmp(f->sign_in, "password") != 0)
		f->sign_in = "link";
	f->password = req_form(req, "password");

	/* Bytes PostgreSQL cannot store are the sender's mistake (422), not a server error. */
	if (text_problem(f->raw_name))
		json_object_set_new(f->errors, "name", json_string(text_problem(f->raw_name)));
	else if (!f->name)
		json_object_set_new(f->errors, "name", json_string("Enter the person’s name."));
	else if (validate_max_length(f->name, USERS_NAME_MAX))
		json_object_set_new(f->errors, "name",
				    json_string("Keep the name to 200 characters or fewer."));
	if (text_problem(f->raw_email))
		json_object_set_new(f->errors, "email", json_string(text_problem(f->raw_email)));
	else if (!f->email)
		json_object_set_new(f->errors, "email", json_string("Enter an e-mail address."));
	else if (validate_email(f->email))
		json_object_set_new(f->errors, "email", json_string(validate_email(f->email)));
	if (f->nroles == 0)
		json_object_set_new(f->errors, "roles", json_string("Choose at least one role."));
	for (i = 0; i < f->nroles; i++)
		if (!uuid_valid(f->role_ids[i]))
			json_object_set_new(f->errors, "roles",
					    json_string("Choose roles from the list."));
	if (creating && strcmp(f->sign_in, "password") == 0) {
		const char *problem;

		if (!f->password || !*f->password)
			problem = "Enter an initial password, or choose to e-mail a link instead.";
		else if (text_problem(f->password))
			problem = text_problem(f->password);
		else
			problem = accounts_password_problem(f->password, f->email ? f->email : "",
							    f->name ? f->name : "");
		if (problem)
			json_object_set_new(f->errors, "password", json_string(problem));
	}
}

static void
form_free(struct user_form *f)
{
	free(f->name);
	free(f->email);
	json_decref(f->errors);
}

/*
 * The create/edit form. f NULL (edit only) shows the stored values; otherwise
 * the posted ones with their errors. alert is a message for the whole page.
 */
static void
render_form(struct request *req, unsigned status, const char *id, const struct user_form *f,
	    const char *alert)
{
	db_conn *db = req_db(req);
	json_t *roles, *vm, *user = NULL, *form, *timeline = NULL, *checked_ids = NULL;
	const char **checked = NULL;
	size_t nchecked = 0, i;
	int failed = 0;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	if (id) {
		user = users_get(db, id, &failed);
		if (!user) {
			if (failed)
				render_db_error(req, db);
			else
				render_error(req, 404, "There is no such user.");
			return;
		}
		timeline = audit_timeline(db, "user", id, TIMELINE_LIMIT);
	}
	roles = users_roles(db);
	if (!roles || (id && !timeline)) {
		json_decref(user);
		json_decref(roles);
		json_decref(timeline);
		render_db_error(req, db);
		return;
	}
	if (f) {
		checked = f->role_ids;
		nchecked = f->nroles;
		/* Typed values come back as typed, unless they are not text at all. */
		form =
		    json_pack("{s:s, s:s}", "name",
			      f->raw_name && !text_problem(f->raw_name) ? f->raw_name : "", "email",
			      f->raw_email && !text_problem(f->raw_email) ? f->raw_email : "");
	} else {
		checked_ids = user_role_ids(user);
		nchecked = json_array_size(checked_ids);
		checked = nchecked ? xcalloc(nchecked, sizeof *checked) : NULL;
		for (i = 0; i < nchecked; i++)
			checked[i] = json_string_value(json_array_get(checked_ids, i));
		form = json_pack("{s:O, s:O}", "name", json_object_get(user, "name"), "email",
				 json_object_get(user, "email"));
	}
	vm = json_pack("{s:o, s:o, s:b, s:b}", "form", form, "roles",
		       form_roles(roles, checked, nchecked), "editing", id != NULL, "creating",
		       id == NULL);
	if (!f)
		free(checked);
	json_decref(checked_ids);
	json_decref(roles);
	if (f && json_object_size(f->errors) > 0) {
		json_object_set(vm, "errors", f->errors);
		json_object_set_new(vm, "has_errors", json_true());
		json_object_set_new(vm, "error_count",
				    json_integer((json_int_t)json_object_size(f->errors)));
		json_object_set_new(vm, "error_plural",
				    json_boolean(json_object_size(f->errors) > 1));
		json_object_set_new(vm, "error_list", error_list(f->errors, vm));
	}
	if (alert)
		json_object_set_new(vm, "alert", json_string(alert));
	if (id) {
		const struct auth_user *me = session_user(req);
		buf action = BUF_INIT;

		buf_printf(&action, "/admin/users/%s", id);
		json_object_set_new(vm, "action", json_string(action.data));
		buf_free(&action);
		json_object_set(vm, "title", json_object_get(user, "name"));
		json_object_set_new(vm, "is_self", json_boolean(me && strcmp(me->id, id) == 0));
		json_object_set_new(vm, "user", user);
		json_object_set_new(vm, "timeline", timeline);
	} else {
		json_object_set_new(vm, "action", json_string("/admin/users"));
		json_object_set_new(vm, "title", json_string("New user"));
		json_object_set_new(vm, "sign_in_link",
				    json_boolean(!f || strcmp(f->sign_in, "link") == 0));
		json_object_set_new(vm, "sign_in_password",
				    json_boolean(f && strcmp(f->sign_in, "password") == 0));
	}
	render(req, status, "admin/user_form", vm);
}

static void
render_user_page(struct request *req, unsigned status, const char *id, const char *alert)
{
	if (!uuid_valid(id)) {
		render_error(req, 404, "There is no such user.");
		return;
	}
	render_form(req, status, id, NULL, alert);
}

/* The roles as checkboxes: [{id, name, description, checked}]. */
static json_t *
form_roles(json_t *roles, const char *const *checked, size_t n)
{
	json_t *out = json_array();
	size_t i, j;

	for (i = 0; i < json_array_size(roles); i++) {
		json_t *role = json_array_get(roles, i);
		const char *rid = json_string_value(json_object_get(role, "id"));
		int on = 0;

		for (j = 0; j < n; j++)
			if (strcmp(checked[j], rid) == 0)
				on = 1;
		json_array_append_new(
		    out, json_pack("{s:O, s:O, s:O, s:b}", "id", json_object_get(role, "id"),
				   "name", json_object_get(role, "name"), "description",
				   json_object_get(role, "description"), "checked", on));
	}
	return out;
}

/*
 * The errors in form order with the id of the control each is about, for the
 * summary's links. The first invalid text field gets autofocus (vm.autofocus),
 * so a keyboard user lands where the work is, with JavaScript or without.
 */
static json_t *
error_list(json_t *errors, json_t *vm)
{
	static const struct {
		const char *field, *control;
	} order[] = {{"name", "user-name"},
		     {"email", "user-email"},
		     {"roles", "user-roles"},
		     {"password", "user-password"}};
	json_t *list = json_array();
	size_t i;
	int focused = 0;

	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		json_t *msg = json_object_get(errors, order[i].field);

		if (!msg)
			continue;
		json_array_append_new(
		    list, json_pack("{s:s, s:O}", "control", order[i].control, "message", msg));
		if (!focused && strcmp(order[i].field, "roles") != 0) {
			json_object_set_new(vm, "autofocus", json_pack("{s:b}", order[i].field, 1));
			focused = 1;
		}
	}
	return list;
}

static json_t *
user_role_ids(json_t *user)
{
	json_t *ids = json_array(), *roles = json_object_get(user, "roles");
	size_t i;

	for (i = 0; i < json_array_size(roles); i++)
		json_array_append(ids, json_object_get(json_array_get(roles, i), "id"));
	return ids;
}

static void
redirect_user(struct request *req, const char *id)
{
	char location[64];

	snprintf(location, sizeof location, "/admin/users/%s", id);
	resp_redirect(req, location);
}

/* /admin/users?q=…&role=…&status=…&after=… with only the filters in use. */
static void
list_url(buf *out, const struct users_filter *f, const char *after)
{
	char sep = '?';

	buf_puts(out, "/admin/users");
	if (f->q && *f->q) {
		buf_puts(out, "?q=");
		url_encode(out, f->q);
		sep = '&';
	}
	if (f->role) {
		buf_printf(out, "%crole=%s", sep, f->role);
		sep = '&';
	}
	if (f->status) {
		buf_printf(out, "%cstatus=%s", sep, f->status);
		sep = '&';
	}
	if (after)
		buf_printf(out, "%cafter=%s", sep, after);
}

/* NULL when raw (may be NULL) is text PostgreSQL can store, else the message. */
static const char *
text_problem(const char *raw)
{
	return raw ? validate_utf8(raw, strlen(raw)) : NULL;
}

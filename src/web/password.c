/*
 * password — "forgot password", the reset link's page, and the Admin's outbox.
 *
 * The forgot form answers every well-formed address with the same redirect to
 * the same "check your e-mail" page: whether a link was sent is for the
 * address's owner to find out in their mailbox, not for whoever typed it.
 *
 * The reset page is reached through the e-mailed link. Pages that hold a
 * token (the reset form) or a link (the outbox) are sent with
 * Cache-Control: no-store, so neither lingers in a shared browser's cache,
 * and the layout's Referrer-Policy keeps the token out of other sites' logs.
 * A new password ends every session of the user and signs this browser in.
 *
 * /admin/outbox lists what Spanner has mailed, for the Admin of an
 * installation without an SMTP relay: they open a message and pass its link
 * on by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mail.h"
#include "core/password.h"
#include "core/render.h"
#include "domain/accounts.h"
#include "domain/normalise.h"
#include "domain/resets.h"
#include "web/routes.h"
#include "web/session.h"

#define PASSWORD_EMAIL_MAX 320
#define PASSWORD_OUTBOX_PAGE 50
#define PASSWORD_FORGOT_SENT                                                                       \
	"If an account exists for that address, we sent a link. It is valid for one hour."

static void password_no_store(struct request *req);
static void password_forgot_form(struct request *req, unsigned status, const char *email,
				 const char *error);
static void password_reset_form(struct request *req, unsigned status, const char *token,
				const struct resets_user *user, const char *password_error,
				const char *confirm_error);
static void password_link_refused(struct request *req, enum resets_state state);
static const char *password_email_problem(const char *email);
static int password_uuid_ok(const char *s);
static void password_outbox_status(json_t *message, int relay);

/* Pages carrying a token or a live link must not be stored by the browser or a proxy. */
static void
password_no_store(struct request *req)
{
	resp_header(req, "Cache-Control", "no-store");
}

static int
password_uuid_ok(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

/* The shape of an address (the account lookup decides the rest, silently). */
static const char *
password_email_problem(const char *email)
{
	const char *at;

	if (!email)
		return "Enter the e-mail address you sign in with.";
	at = strchr(email, '@');
	if (!at || at == email || !strchr(at, '.') || strchr(email, ' ') ||
	    strlen(email) > PASSWORD_EMAIL_MAX)
		return "Enter a valid e-mail address, like name@example.com.";
	return NULL;
}

/* ---------------------------------------------------------------- forgot */

static void
password_forgot_form(struct request *req, unsigned status, const char *email, const char *error)
{
	json_t *vm =
	    json_pack("{s:s, s:s}", "title", "Forgot your password?", "email", email ? email : "");

	if (error)
		json_object_set_new(vm, "error", json_string(error));
	render(req, status, "auth/forgot", vm);
}

void
web_password_forgot_page(struct request *req)
{
	const char *sent = req_query(req, "sent");

	if (sent && strcmp(sent, "1") == 0) {
		render(req, 200, "auth/forgot",
		       json_pack("{s:s, s:b, s:s}", "title", "Check your e-mail", "sent", 1,
				 "message", PASSWORD_FORGOT_SENT));
		return;
	}
	password_forgot_form(req, 200, req_query(req, "email"), NULL);
}

void
web_password_forgot(struct request *req)
{
	const char *typed = req_form(req, "email");
	char *email = normalise_email(typed ? typed : "");
	const char *problem = password_email_problem(email);
	db_conn *db;

	if (problem) {
		password_forgot_form(req, 422, typed, problem);
		free(email);
		return;
	}
	db = req_db(req);
	if (!db || resets_request(db, req_config(req), email) != 0) {
		free(email);
		render_db_error(req, db);
		return;
	}
	free(email);
	resp_redirect(req, "/password/forgot?sent=1");
}

/* ---------------------------------------------------------------- reset */

static void
password_reset_form(struct request *req, unsigned status, const char *token,
		    const struct resets_user *user, const char *password_error,
		    const char *confirm_error)
{
	json_t *vm = json_pack("{s:s, s:s, s:s, s:s, s:i}", "title", "Choose a new password",
			       "token", token, "email", user->email, "name", user->name,
			       "min_length", ACCOUNTS_PASSWORD_MIN);

	if (password_error)
		json_object_set_new(vm, "password_error", json_string(password_error));
	if (confirm_error)
		json_object_set_new(vm, "confirm_error", json_string(confirm_error));
	password_no_store(req);
	render(req, status, "auth/reset", vm);
}

/* A link that cannot be used: say which case it is and how to get a new one. */
static void
password_link_refused(struct request *req, enum resets_state state)
{
	const char *heading, *message;
	unsigned status = 410;
	json_t *vm;

	switch (state) {
	case RESETS_USED:
		heading = "This link has already been used";
		message = "Each link sets a password once. If you need to change your password "
			  "again, ask for a new link.";
		break;
	case RESETS_EXPIRED:
		heading = "This link has expired";
		message = "Links work for one hour, and asking for a new link retires the older "
			  "ones. Ask for a new link; it arrives in a minute or two.";
		break;
	default:
		status = 404;
		heading = "This link isn’t valid";
		message = "It may have been copied only in part, or the account it was for can no "
			  "longer sign in. Ask for a new link, or ask your Admin for help.";
		break;
	}
	password_no_store(req);
	vm = json_pack("{s:s, s:s, s:s}", "title", heading, "heading", heading, "message", message);
	render(req, status, "auth/reset_invalid", vm);
}

void
web_password_reset_page(struct request *req)
{
	const char *token = req_query(req, "token");
	struct resets_user user;
	enum resets_state state;
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	state = resets_check(db, token, &user);
	if (state == RESETS_ERROR) {
		render_db_error(req, db);
		return;
	}
	if (state != RESETS_OK) {
		password_link_refused(req, state);
		return;
	}
	password_reset_form(req, 200, token, &user, NULL, NULL);
	resets_user_free(&user);
}

void
web_password_reset(struct request *req)
{
	const char *token = req_form(req, "token");
	const char *password = req_form(req, "password");
	const char *confirm = req_form(req, "password_confirm");
	const char *password_error = NULL, *confirm_error = NULL;
	struct resets_user user;
	enum resets_state state;
	char user_id[37];
	char *hash;
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	state = resets_check(db, token, &user);
	if (state == RESETS_ERROR) {
		render_db_error(req, db);
		return;
	}
	if (state != RESETS_OK) {
		password_link_refused(req, state);
		return;
	}
	if (!password || !*password)
		password_error = "Enter a new password.";
	else
		password_error = accounts_password_problem(password, user.email, user.name);
	if (!password_error && (!confirm || strcmp(password, confirm) != 0))
		confirm_error = "The two passwords don’t match. Type the new password again.";
	if (password_error || confirm_error) {
		password_reset_form(req, 422, token, &user, password_error, confirm_error);
		resets_user_free(&user);
		return;
	}
	resets_user_free(&user);

	/* Argon2 takes a while: outside the transaction, so no row is locked meanwhile. */
	hash = password_hash(req_config(req), password);
	if (!hash) {
		log_error("password: hashing a new password failed");
		render_error(req, 500, NULL);
		return;
	}
	if (db_begin(db) != 0) {
		state = RESETS_ERROR;
	} else {
		state = resets_complete(db, token, hash, user_id);
		/* A sign-in like any other: last sign-in shown, the account's throttle cleared. */
		if (state == RESETS_OK &&
		    (accounts_signed_in(db, user_id, req_client_ip(req)) != 0 ||
		     session_begin(req, db, user_id) != 0 || db_commit(db) != 0))
			state = RESETS_ERROR;
		if (state != RESETS_OK)
			db_rollback(db);
	}
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (state == RESETS_ERROR) {
		render_db_error(req, db);
		return;
	}
	if (state != RESETS_OK) {
		/* Another request used the link between our check and our update. */
		password_link_refused(req, state);
		return;
	}
	session_flash(req, "success",
		      "Your password has been changed and you are signed in. Every other "
		      "session of your account has been signed out.");
	resp_redirect(req, "/");
}

/* ---------------------------------------------------------------- outbox */

/*
 * The badge of one message. "Queued" only while a relay is configured and the
 * message was not held back by an earlier outbox-mode run.
 */
static void
password_outbox_status(json_t *message, int relay)
{
	const char *label, *kind;

	if (json_is_true(json_object_get(message, "sent"))) {
		label = "Sent";
		kind = "completed";
	} else if (json_is_true(json_object_get(message, "failed"))) {
		label = "Failed";
		kind = "failed";
	} else if (relay && !json_is_true(json_object_get(message, "held"))) {
		label = "Queued";
		kind = "processing";
	} else {
		label = "Not sent";
		kind = "pending";
	}
	json_object_set_new(message, "status_label", json_string(label));
	json_object_set_new(message, "status_kind", json_string(kind));
	/* What the Admin can do about a message that did not go out. */
	if (strcmp(kind, "failed") == 0)
		json_object_set_new(message, "note",
				    json_string("Delivery failed, so this message never reached "
						"its recipient. To pass the link on, copy it from "
						"the body below and send it to them yourself."));
	else if (strcmp(kind, "pending") == 0)
		json_object_set_new(
		    message, "note",
		    json_string("This message was not sent: no mail relay is "
				"configured. To pass the link on, copy it from the "
				"body below and send it to the recipient yourself."));
}

void
web_outbox_list(struct request *req)
{
	const char *before = req_query(req, "before");
	int relay = req_config(req)->smtp_url != NULL, more = 0;
	db_conn *db = req_db(req);
	json_t *messages, *vm;
	size_t i;

	if (before && !password_uuid_ok(before)) {
		render_error(req, 400, "That page of the outbox does not exist.");
		return;
	}
	messages = db ? mail_outbox_list(db, before, PASSWORD_OUTBOX_PAGE, &more) : NULL;
	if (!messages) {
		render_db_error(req, db);
		return;
	}
	for (i = 0; i < json_array_size(messages); i++)
		password_outbox_status(json_array_get(messages, i), relay);
	vm = json_pack("{s:s, s:b, s:b, s:b}", "title", "Outbox", "relay", relay, "older",
		       before != NULL, "empty", json_array_size(messages) == 0);
	if (more) {
		json_t *last = json_array_get(messages, json_array_size(messages) - 1);

		json_object_set(vm, "next_before", json_object_get(last, "id"));
	}
	json_object_set_new(vm, "messages", messages);
	password_no_store(req);
	render(req, 200, "admin/outbox", vm);
}

void
web_outbox_message(struct request *req)
{
	const char *id = req_param(req, "id");
	db_conn *db = req_db(req);
	json_t *message;

	if (!password_uuid_ok(id)) {
		render_error(req, 404, "There is no such message in the outbox.");
		return;
	}
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	message = mail_outbox_get(db, id);
	if (!message) {
		if (db_error(db) != DB_OK)
			render_db_error(req, db);
		else
			render_error(req, 404, "There is no such message in the outbox.");
		return;
	}
	password_outbox_status(message, req_config(req)->smtp_url != NULL);
	password_no_store(req);
	render(req, 200, "admin/outbox_message",
	       json_pack("{s:O, s:o, s:b}", "title", json_object_get(message, "subject"), "message",
			 message, "relay", req_config(req)->smtp_url != NULL));
}

/*
 * auth — sign-in and sign-out (the home page is web/home.c).
 *
 * The sign-in form answers a wrong e-mail and a wrong password with the same
 * words and status; only a throttled account or address learns more (how long
 * to wait), because by then guessing is what is being stopped.
 */
#include <stdio.h>
#include <string.h>

#include "core/format.h"
#include "core/log.h"
#include "core/url.h"
#include "core/render.h"
#include "domain/accounts.h"
#include "web/routes.h"
#include "web/session.h"

static const char *auth_safe_next(const char *next);
static void auth_login_form(struct request *req, unsigned status, const char *email,
			    const char *next, const char *error);

/* Only a path on this origin may be a redirect target (url_is_local_path); else home. */
static const char *
auth_safe_next(const char *next)
{
	return url_is_local_path(next) ? next : "/";
}

static void
auth_login_form(struct request *req, unsigned status, const char *email, const char *next,
		const char *error)
{
	json_t *vm = json_pack("{s:s, s:s, s:s}", "title", "Sign in", "email", email ? email : "",
			       "next", next ? next : "");

	if (error)
		json_object_set_new(vm, "error", json_string(error));
	render(req, status, "auth/login", vm);
}

void
web_auth_login_page(struct request *req)
{
	if (session_user(req)) {
		resp_redirect(req, auth_safe_next(req_query(req, "next")));
		return;
	}
	auth_login_form(req, 200, req_query(req, "email"), req_query(req, "next"), NULL);
}

void
web_auth_login(struct request *req)
{
	const char *email = req_form(req, "email");
	const char *password = req_form(req, "password");
	const char *next = req_form(req, "next");
	char user_id[37], msg[200], wait[32], header[16];
	int retry_after = 0;
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	/* Every attempt counts, a blank one too: the throttle is asked before anything else. */
	switch (accounts_sign_in(db, req_config(req), email, password, req_client_ip(req), user_id,
				 &retry_after)) {
	case SIGNIN_OK:
		break;
	case SIGNIN_BLANK:
		auth_login_form(req, 422, email, next, "Enter your e-mail address and password.");
		return;
	case SIGNIN_BAD:
		auth_login_form(req, 401, email, next,
				"The e-mail address or password is incorrect.");
		return;
	case SIGNIN_THROTTLED:
		snprintf(msg, sizeof msg, "Too many failed sign-ins. Try again in %s.",
			 format_wait(retry_after, wait, sizeof wait));
		snprintf(header, sizeof header, "%d", retry_after);
		resp_header(req, "Retry-After", header);
		auth_login_form(req, 429, email, next, msg);
		return;
	case SIGNIN_BUSY:
		snprintf(header, sizeof header, "%d", retry_after);
		resp_header(req, "Retry-After", header);
		auth_login_form(
		    req, 503, email, next,
		    "Many people are signing in right now. Try again in a few seconds.");
		return;
	case SIGNIN_ERROR:
		render_db_error(req, db);
		return;
	}
	if (db_begin(db) != 0 || session_begin(req, db, user_id) != 0 || db_commit(db) != 0) {
		db_rollback(db);
		render_db_error(req, db);
		return;
	}
	resp_redirect(req, auth_safe_next(next));
}

void
web_auth_logout(struct request *req)
{
	session_finish(req);
	session_flash(req, "info", "You have signed out.");
	resp_redirect(req, "/login");
}

/*
 * session — who is asking, and may they: the request side of accounts.
 *
 * session_guard runs before every routed handler (installed with
 * http_set_guard). It reads the session cookie, loads the user with their
 * permission set (fresh from the database on every request, so a grant
 * changed by an Admin applies at once), refuses state-changing requests
 * without the CSRF token, and enforces the route's declared access: signed-in
 * or a named permission. Handlers then ask session_user()/session_can().
 *
 * Every page view model also gets, through the render hook:
 *   me          {id, name, email, initials, roles[]} or absent when signed out
 *   can         nested permission set: {{#can.companies.approve}}…{{/can.companies.approve}}
 *   csrf_token  for hidden form fields (htmx sends the X-CSRF-Token header)
 * and the layout gets user, nav and flash.
 */
#ifndef SPANNER_SESSION_H
#define SPANNER_SESSION_H

#include <jansson.h>

#include "core/db.h"
#include "core/http.h"
#include "domain/accounts.h"

#define SESSION_COOKIE "spanner_session"
/* Anonymous forms (sign-in, forgot, reset) use a double-submit token in this cookie. */
#define SESSION_PRE_COOKIE "spanner_pre"
#define SESSION_FLASH_COOKIE "spanner_flash"


int session_guard(struct request *req, const struct route *route);
/* Loads the session (if any) without refusing anything: for error pages of unknown paths. */
void session_identify(struct request *req);
/* Render hook: me/can/csrf_token on every page view model, user/nav/flash on the layout. */
void session_render_hook(struct request *req, json_t *vm, int is_layout);

const struct auth_user *session_user(const struct request *req);
int session_can(const struct request *req, const char *permission);
int session_has_role(const struct request *req, const char *role);
/* The token for this request's forms: the session's, or the anonymous double-submit one. */
const char *session_csrf(const struct request *req);

/*
 * Signs the client in as user_id: a new session (new id: no fixation), the
 * cookie set on the response. Runs in the caller's transaction tx. 0 or -1.
 */
int session_begin(struct request *req, db_conn *tx, const char *user_id);
/* Ends this request's session (row deleted, cookie cleared). */
void session_finish(struct request *req);

/* A message for the next page the user sees (after a redirect). */
void session_flash(struct request *req, const char *kind, const char *message);

#endif

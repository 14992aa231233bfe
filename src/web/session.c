/*
 * session — the guard in front of every handler, and what pages learn of the user.
 *
 * One database query per request loads the session, the user and their
 * permission set; there is no cache to go stale, so deactivating a user or
 * changing a grant takes effect on the very next request.
 *
 * CSRF: a signed-in user's forms carry the session's random token; anonymous
 * forms (sign-in, forgot, reset) carry a random token that must equal the
 * HttpOnly `spanner_pre` cookie (double submit). Either way a page on another
 * site cannot produce the token.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/log.h"
#include "core/password.h"
#include "core/render.h"

struct session_ctx {
	struct auth_user *user;
	char pre[65]; /* anonymous CSRF token, "" when none */
};

/* The navigation: shown when the user holds the permission (NULL: everyone signed in). */
static const struct {
	const char *href;
	const char *label;
	const char *permission;
} session_nav[] = {
	{"/", "Home", NULL},
	{"/segments", "Segments", NULL},
	{"/companies", "Companies", NULL},
	{"/contacts", "Contacts", NULL},
	{"/imports", "Imports", NULL},
	{"/collateral", "Collateral", NULL},
	{"/approvals/companies", "Approvals", "companies.approve"},
	{"/admin/users", "Users", "users.manage"},
	{"/admin/grants", "Grants", "grants.manage"},
	{"/admin/outbox", "Outbox", "users.manage"},
	{"/admin/dedup", "Duplicates", "dedup.run"},
};

static void session_ctx_free(void *p);
static struct session_ctx *session_ctx(const struct request *req);
static void session_set_cookie(struct request *req, const char *name, const char *value,
			       int max_age);
static int session_token_ok(const char *t);
static int session_equal(const char *a, const char *b);
static json_t *session_can_json(const struct auth_user *u);
static json_t *session_nav_json(struct request *req);
static json_t *session_take_flash(struct request *req);
static void session_to_login(struct request *req);
static int session_load(struct request *req, int quiet);

static void
session_ctx_free(void *p)
{
	struct session_ctx *ctx = p;

	accounts_user_free(ctx->user);
	free(ctx);
}

static struct session_ctx *
session_ctx(const struct request *req)
{
	return req_context(req);
}

static void
session_set_cookie(struct request *req, const char *name, const char *value, int max_age)
{
	buf c = BUF_INIT;

	buf_printf(&c, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", name, value,
		   max_age, req_is_https(req) ? "; Secure" : "");
	resp_header(req, "Set-Cookie", c.data);
	buf_free(&c);
}

/* Tokens we issue are 64 lower-case hex characters; anything else is not ours. */
static int
session_token_ok(const char *t)
{
	size_t i;

	if (!t || strlen(t) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return 1;
}

/* Constant time for equal lengths, so the comparison leaks nothing of the token. */
static int
session_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = 0;

	if (la != lb || la == 0)
		return 0;
	for (i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static void
session_to_login(struct request *req)
{
	buf url = BUF_INIT;

	if (req_wants_json(req)) {
		render_error(req, 401, "Sign in first.");
		return;
	}
	buf_puts(&url, "/login");
	if (strcmp(req_method(req), "GET") == 0 && strcmp(req_path(req), "/") != 0) {
		buf_puts(&url, "?next=");
		url_encode(&url, req_path(req));
	}
	resp_redirect(req, url.data);
	buf_free(&url);
}

/*
 * Reads the session cookie into the request context. Returns -1 only when the
 * database failed; then, unless quiet, the error page has been sent.
 */
static int
session_load(struct request *req, int quiet)
{
	struct session_ctx *ctx = xcalloc(1, sizeof *ctx);
	const char *token = req_cookie(req, SESSION_COOKIE);
	const char *method = req_method(req);
	int safe = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	req_set_context(req, ctx, session_ctx_free);
	if (session_token_ok(token)) {
		db_conn *db = req_db(req);
		int err = 0;

		if (!db) {
			if (!quiet)
				render_error(req, 503, "The database cannot be reached right now.");
			return -1;
		}
		ctx->user = accounts_session_load(db, token, req_config(req)->session_idle, &err);
		if (err) {
			if (!quiet)
				render_db_error(req, db);
			return -1;
		}
		if (!ctx->user) /* ended, expired or deactivated: forget the cookie */
			session_set_cookie(req, SESSION_COOKIE, "", 0);
	}
	if (!ctx->user) {
		const char *pre = req_cookie(req, SESSION_PRE_COOKIE);

		if (session_token_ok(pre)) {
			snprintf(ctx->pre, sizeof ctx->pre, "%s", pre);
		} else if (safe && password_random_hex(ctx->pre, 32) == 0) {
			session_set_cookie(req, SESSION_PRE_COOKIE, ctx->pre, 86400);
		}
	}
	return 0;
}

void
session_identify(struct request *req)
{
	/* Database trouble here only costs the user's name in the header of an error page. */
	session_load(req, 1);
}

int
session_guard(struct request *req, const struct route *route)
{
	struct session_ctx *ctx;
	const char *method = req_method(req);
	int safe = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (session_load(req, 0) != 0)
		return -1;
	ctx = session_ctx(req);
	if (route->access != ACCESS_PUBLIC && !ctx->user) {
		if (!safe)
			session_flash(req, "info", "Your session has ended. Sign in again.");
		session_to_login(req);
		return -1;
	}
	/* The grant is checked before the token: both refuse, but this way the page names
	 * what is missing rather than blaming the form. */
	if (route->access == ACCESS_PERMISSION && !session_can(req, route->permission)) {
		render_forbidden(req, route->permission, NULL);
		return -1;
	}
	if (!safe) {
		const char *given = req_form(req, "csrf_token");
		const char *expected = ctx->user ? ctx->user->csrf : ctx->pre;

		if (!given)
			given = req_header(req, "X-CSRF-Token");
		if (!given || !session_equal(given, expected)) {
			log_warn("session: %s %s refused: missing or wrong CSRF token", method,
				 req_path(req));
			render_forbidden(req, NULL,
					 "This form has expired or did not come from Spanner. "
					 "Reload the page and submit it again.");
			return -1;
		}
	}
	return 0;
}

const struct auth_user *
session_user(const struct request *req)
{
	struct session_ctx *ctx = session_ctx(req);

	return ctx ? ctx->user : NULL;
}

int
session_can(const struct request *req, const char *permission)
{
	const struct auth_user *u = session_user(req);
	size_t i;

	for (i = 0; u && i < u->npermissions; i++)
		if (strcmp(u->permissions[i], permission) == 0)
			return 1;
	return 0;
}

int
session_has_role(const struct request *req, const char *role)
{
	const struct auth_user *u = session_user(req);
	size_t i;

	for (i = 0; u && i < u->nroles; i++)
		if (strcmp(u->roles[i], role) == 0)
			return 1;
	return 0;
}

const char *
session_csrf(const struct request *req)
{
	struct session_ctx *ctx = session_ctx(req);

	if (!ctx)
		return "";
	return ctx->user ? ctx->user->csrf : ctx->pre;
}

int
session_begin(struct request *req, db_conn *tx, const char *user_id)
{
	struct session_ctx *ctx = session_ctx(req);
	char token[65], csrf[65], sid[37];

	/* Never reuse what the client had: a fresh session id defeats fixation. */
	if (ctx && ctx->user && accounts_session_delete(tx, ctx->user->session_id) != 0)
		return -1;
	if (accounts_session_create(tx, req_config(req), user_id, req_client_ip(req),
				    req_header(req, "User-Agent"), token, csrf, sid) != 0)
		return -1;
	session_set_cookie(req, SESSION_COOKIE, token, req_config(req)->session_max * 3600);
	return 0;
}

void
session_finish(struct request *req)
{
	struct session_ctx *ctx = session_ctx(req);
	db_conn *db = req_db(req);

	if (ctx && ctx->user && db)
		accounts_session_delete(db, ctx->user->session_id);
	session_set_cookie(req, SESSION_COOKIE, "", 0);
}

void
session_flash(struct request *req, const char *kind, const char *message)
{
	buf v = BUF_INIT, text = BUF_INIT;

	buf_printf(&text, "%s:%s", kind, message);
	url_encode(&v, text.data);
	session_set_cookie(req, SESSION_FLASH_COOKIE, v.data, 60);
	buf_free(&v);
	buf_free(&text);
}

static json_t *
session_take_flash(struct request *req)
{
	const char *raw = req_cookie(req, SESSION_FLASH_COOKIE);
	json_t *list = json_array();
	char *v, *colon;

	if (!raw || !*raw)
		return list;
	v = xstrdup(raw);
	url_decode(v);
	colon = strchr(v, ':');
	if (colon) {
		*colon = '\0';
		if (!strcmp(v, "success") || !strcmp(v, "error") || !strcmp(v, "info"))
			json_array_append_new(list, json_pack("{s:s, s:s}", "kind", v, "message",
							      colon + 1));
	}
	free(v);
	session_set_cookie(req, SESSION_FLASH_COOKIE, "", 0);
	return list;
}

/* {"companies": {"approve": true}} so templates can say {{#can.companies.approve}}. */
static json_t *
session_can_json(const struct auth_user *u)
{
	json_t *can = json_object();
	size_t i;

	for (i = 0; u && i < u->npermissions; i++) {
		const char *dot = strchr(u->permissions[i], '.');
		char module[64];
		json_t *m;

		if (!dot || (size_t)(dot - u->permissions[i]) >= sizeof module)
			continue;
		memcpy(module, u->permissions[i], (size_t)(dot - u->permissions[i]));
		module[dot - u->permissions[i]] = '\0';
		m = json_object_get(can, module);
		if (!m) {
			m = json_object();
			json_object_set_new(can, module, m);
		}
		json_object_set_new(m, dot + 1, json_true());
	}
	return can;
}

static json_t *
session_nav_json(struct request *req)
{
	json_t *nav = json_array();
	const char *path = req_path(req);
	size_t i;

	for (i = 0; i < sizeof session_nav / sizeof session_nav[0]; i++) {
		const char *href = session_nav[i].href;
		size_t len = strlen(href);
		int current = strcmp(href, "/") == 0
				      ? strcmp(path, "/") == 0
				      : strncmp(path, href, len) == 0 && (path[len] == '\0' || path[len] == '/');

		if (session_nav[i].permission && !session_can(req, session_nav[i].permission))
			continue;
		json_array_append_new(nav, json_pack("{s:s, s:s, s:b}", "href", href, "label",
						     session_nav[i].label, "current", current));
	}
	return nav;
}

void
session_render_hook(struct request *req, json_t *vm, int is_layout)
{
	const struct auth_user *u = session_user(req);

	if (!json_object_get(vm, "csrf_token"))
		json_object_set_new(vm, "csrf_token", json_string(session_csrf(req)));
	if (is_layout) {
		json_object_set_new(vm, "flash", session_take_flash(req));
		if (!u)
			return;
		json_object_set_new(vm, "user",
				    json_pack("{s:s, s:s, s:s}", "name", u->name, "email", u->email,
					      "initials", u->initials));
		json_object_set_new(vm, "nav", session_nav_json(req));
		return;
	}
	json_object_set_new(vm, "can", session_can_json(u));
	if (u) {
		json_t *roles = json_array();
		size_t i;

		for (i = 0; i < u->nroles; i++)
			json_array_append_new(roles, json_string(u->roles[i]));
		json_object_set_new(vm, "me",
				    json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", u->id, "name", u->name,
					      "email", u->email, "initials", u->initials, "roles",
					      roles));
	}
}

/*
 * Users and grants admin, end to end over HTTP against the real server and
 * database: creating users (roles, audit row without secrets, the e-mailed
 * set-password link), duplicate e-mails in another case, validation, edits
 * audited with only the changed fields, deactivation ending a live session at
 * once, the last-Admin rule, the grants matrix (one audit row, effective on the
 * next request, the Admin's locked grants), the list's filters, 403 on
 * every admin route for a user without the permissions, and the naughty
 * strings through the user form's name and e-mail fields.
 *
 * Every e-mail carries this process's id, so the suite can run again on the
 * same database; every grant changed is put back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/db.h"
#include "core/http.h"
#include "domain/users.h"
#include "itest.h"
#include "naughty.h"

#define ADMIN_EMAIL "admin@example.com"
#define ADMIN_PASSWORD "test-admin-password"
#define USER_PASSWORD "Plenty-long-secret-42"

/* A signed-in (or not yet) HTTP client: its session cookie and CSRF token. */
struct client {
	char session[160];
	char csrf[160];
};

static struct itest_server srv;
static PGconn *pg;
static struct client admin;
static int tag;

static void sql_ok(const char *sql, int n, const char *const *params);
static char *sql_value(const char *sql, int n, const char *const *params);
static long sql_count(const char *sql, int n, const char *const *params);
static void request(struct client *cl, const char *method, const char *path, const char *body,
		    struct itest_resp *r);
static char *html_attr_after(const char *html, const char *marker);
static void sign_in(struct client *cl, const char *email, const char *password);
static void refresh_csrf(struct client *cl);
static void form_add(buf *b, const char *name, const char *value);
static char *role_id(const char *name);
static char *create_user(const char *name, const char *email, const char *const *roles,
			 const char *password);
static char *location_id(const struct itest_resp *r);

static void
sql_ok(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	PQclear(r);
}

static char *
sql_value(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	char *v = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static long
sql_count(const char *sql, int n, const char *const *params)
{
	char *v = sql_value(sql, n, params);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

/* One request as cl: its cookies, a form body when given. */
static void
request(struct client *cl, const char *method, const char *path, const char *body,
	struct itest_resp *r)
{
	char url[512], cookie[256];
	const char *headers[3] = {NULL, NULL, NULL};
	int n = 0;

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	if (cl && cl->session[0]) {
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", cl->session);
		headers[n++] = cookie;
	}
	if (body)
		headers[n++] = "Content-Type: application/x-www-form-urlencoded";
	assert_int_equal(itest_http(method, url, headers, body, body ? strlen(body) : 0, r), 0);
}

/* The attribute value that follows marker (e.g. `name="csrf_token" value="`), malloc'ed. */
static char *
html_attr_after(const char *html, const char *marker)
{
	const char *p = html ? strstr(html, marker) : NULL, *end;

	if (!p)
		return NULL;
	p += strlen(marker);
	end = strchr(p, '"');
	return end ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/* GET /login for the pre-session token, then POST /login: a 303 and a session cookie. */
static void
sign_in(struct client *cl, const char *email, const char *password)
{
	struct itest_resp r;
	char url[256], cookie[256];
	char *pre, *csrf, *session;
	buf body = BUF_INIT;

	memset(cl, 0, sizeof *cl);
	request(NULL, "GET", "/login", NULL, &r);
	assert_int_equal(r.status, 200);
	pre = itest_cookie(&r, "spanner_pre");
	csrf = html_attr_after(r.body.data, "name=\"csrf_token\" value=\"");
	assert_non_null(pre);
	assert_non_null(csrf);
	itest_resp_free(&r);

	form_add(&body, "email", email);
	form_add(&body, "password", password);
	form_add(&body, "csrf_token", csrf);
	snprintf(url, sizeof url, "%s/login", srv.base_url);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_pre=%s", pre);
	{
		const char *h[] = {cookie, "Content-Type: application/x-www-form-urlencoded", NULL};

		assert_int_equal(itest_http("POST", url, h, body.data, body.len, &r), 0);
	}
	assert_int_equal(r.status, 303);
	session = itest_cookie(&r, "spanner_session");
	assert_non_null(session);
	assert_true(strlen(session) > 0 && strlen(session) < sizeof cl->session);
	snprintf(cl->session, sizeof cl->session, "%s", session);
	free(session);
	free(pre);
	free(csrf);
	buf_free(&body);
	itest_resp_free(&r);
	refresh_csrf(cl);
}

/* The session's CSRF token, from the hidden field every signed-in page has (sign-out form). */
static void
refresh_csrf(struct client *cl)
{
	struct itest_resp r;
	char *csrf;

	request(cl, "GET", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	csrf = html_attr_after(r.body.data, "name=\"csrf_token\" value=\"");
	assert_non_null(csrf);
	snprintf(cl->csrf, sizeof cl->csrf, "%s", csrf);
	free(csrf);
	itest_resp_free(&r);
}

static void
form_add(buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_putc(b, '&');
	buf_puts(b, name);
	buf_putc(b, '=');
	url_encode(b, value);
}

static char *
role_id(const char *name)
{
	const char *p[1] = {name};
	char *id = sql_value("SELECT id FROM roles WHERE name = $1", 1, p);

	assert_non_null(id);
	return id;
}

/* "/admin/users/<id>" in the Location of a 303 → the id (malloc'ed). */
static char *
location_id(const struct itest_resp *r)
{
	char *loc = itest_header(r, "Location"), *id;

	assert_non_null(loc);
	assert_int_equal(strncmp(loc, "/admin/users/", 13), 0);
	id = xstrdup(loc + 13);
	free(loc);
	assert_int_equal(strlen(id), 36);
	return id;
}

/* Creates a user through the form as the Admin; password NULL = e-mail a link. */
static char *
create_user(const char *name, const char *email, const char *const *roles, const char *password)
{
	struct itest_resp r;
	buf body = BUF_INIT;
	char *id;
	int i;

	form_add(&body, "csrf_token", admin.csrf);
	form_add(&body, "name", name);
	form_add(&body, "email", email);
	for (i = 0; roles[i]; i++) {
		char *rid = role_id(roles[i]);

		form_add(&body, "role_id", rid);
		free(rid);
	}
	form_add(&body, "sign_in", password ? "password" : "link");
	if (password)
		form_add(&body, "password", password);
	request(&admin, "POST", "/admin/users", body.data, &r);
	buf_free(&body);
	if (r.status != 303)
		fail_msg("create %s: status %ld\n%s", email, r.status, r.body.data);
	id = location_id(&r);
	itest_resp_free(&r);
	return id;
}

static int
setup(void **state)
{
	(void)state;
	tag = (int)getpid();
	pg = itest_pg();
	if (!pg)
		return -1;
	if (itest_server_start(&srv, "admin", NULL) != 0)
		return -1;
	sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD);
	return 0;
}

static int
teardown(void **state)
{
	char like[64];
	const char *p[1] = {like};

	(void)state;
	/* Leave no active test account behind (nothing is ever deleted). */
	snprintf(like, sizeof like, "adm%d-%%", tag);
	sql_ok("UPDATE users SET is_active = false WHERE email LIKE $1", 1, p);
	PQfinish(pg);
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- create */

static void
test_create_user_with_two_roles(void **state)
{
	const char *roles[] = {"Researcher", "SDR", NULL};
	char email[128], typed[128];
	char *id, *details, *hash;
	const char *p[1];

	(void)state;
	snprintf(email, sizeof email, "adm%d-two@example.com", tag);
	/* Typed with spaces and capitals: stored trimmed and lower-cased. */
	snprintf(typed, sizeof typed, "  ADM%d-Two@Example.COM ", tag);
	id = create_user("  Grace   Hopper ", typed, roles, USER_PASSWORD);
	p[0] = id;
	{
		char *stored =
		    sql_value("SELECT email || '|' || name FROM users WHERE id = $1", 1, p);
		char want[256];

		snprintf(want, sizeof want, "%s|Grace Hopper", email);
		assert_string_equal(stored, want);
		free(stored);
	}
	assert_int_equal(sql_count("SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = "
				   "ur.role_id WHERE ur.user_id = $1 AND r.name IN ('Researcher', "
				   "'SDR')",
				   1, p),
			 2);
	assert_int_equal(sql_count("SELECT count(*) FROM user_roles WHERE user_id = $1", 1, p), 2);
	hash = sql_value("SELECT password_hash FROM users WHERE id = $1", 1, p);
	assert_non_null(hash);
	assert_non_null(strstr(hash, "$argon2id$"));
	free(hash);

	details = sql_value("SELECT details::text FROM audit_logs WHERE entity_type = 'user' AND "
			    "entity_id = $1 AND action = 'create'",
			    1, p);
	assert_non_null(details);
	assert_non_null(strstr(details, email));
	assert_non_null(strstr(details, "Researcher"));
	assert_non_null(strstr(details, "SDR"));
	assert_null(strstr(details, USER_PASSWORD));
	assert_null(strstr(details, "argon2"));
	free(details);
	/* The creator is the actor. */
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs a JOIN users u ON u.id = "
				   "a.actor_id WHERE a.entity_id = $1 AND a.action = 'create' AND "
				   "u.email = '" ADMIN_EMAIL "'",
				   1, p),
			 1);

	/* The new user can sign in with the initial password. */
	{
		struct client c;

		sign_in(&c, email, USER_PASSWORD);
	}
	free(id);
}

static void
test_create_user_with_link(void **state)
{
	const char *roles[] = {"Marketing", NULL};
	char email[128];
	const char *p[2] = {email, NULL};
	char *id;

	(void)state;
	snprintf(email, sizeof email, "adm%d-link@example.com", tag);
	id = create_user("Linda Link", email, roles, NULL);
	p[1] = id;
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE id = $2 AND email = $1 AND "
				   "password_hash IS NULL",
				   2, p),
			 1);
	/* The set-password e-mail was queued in the same transaction. */
	assert_int_equal(sql_count("SELECT count(*) FROM outbox WHERE to_address = $1", 1, p), 1);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM password_resets WHERE user_id = $1", 1, p + 1), 1);
	free(id);
}

static void
test_duplicate_email_other_case(void **state)
{
	const char *roles[] = {"Researcher", NULL};
	char email[128], upper[128], *rid;
	struct itest_resp r;
	buf body = BUF_INIT;
	size_t i;

	(void)state;
	snprintf(email, sizeof email, "adm%d-dup@example.com", tag);
	free(create_user("First Dup", email, roles, USER_PASSWORD));
	for (i = 0; email[i]; i++)
		upper[i] = (char)(email[i] >= 'a' && email[i] <= 'z' ? email[i] - 32 : email[i]);
	upper[i] = '\0';

	rid = role_id("Researcher");
	form_add(&body, "csrf_token", admin.csrf);
	form_add(&body, "name", "Second Dup Typed");
	form_add(&body, "email", upper);
	form_add(&body, "role_id", rid);
	form_add(&body, "sign_in", "password");
	form_add(&body, "password", USER_PASSWORD);
	request(&admin, "POST", "/admin/users", body.data, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body.data, "Another account already uses this e-mail address."));
	/* The message sits beside the field, which is marked invalid; what was typed is kept. */
	assert_non_null(strstr(r.body.data, "aria-describedby=\"user-email-error user-email-hint\" "
					    "aria-invalid=\"true\""));
	assert_non_null(strstr(r.body.data, "id=\"user-email-error\""));
	assert_non_null(strstr(r.body.data, "value=\"Second Dup Typed\""));
	assert_non_null(strstr(r.body.data, upper));
	assert_null(strstr(r.body.data, USER_PASSWORD));
	{
		const char *p[1] = {email};

		assert_int_equal(
		    sql_count("SELECT count(*) FROM users WHERE lower(email) = $1", 1, p), 1);
	}
	itest_resp_free(&r);
	buf_free(&body);
	free(rid);
}

static void
test_validation_errors(void **state)
{
	struct itest_resp r;
	buf body = BUF_INIT;

	(void)state;
	form_add(&body, "csrf_token", admin.csrf);
	form_add(&body, "name", "   ");
	form_add(&body, "email", "not-an-address");
	form_add(&body, "sign_in", "password");
	form_add(&body, "password", "short");
	request(&admin, "POST", "/admin/users", body.data, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body.data, "Enter the person’s name."));
	assert_non_null(strstr(r.body.data, "id=\"user-name-error\""));
	assert_non_null(
	    strstr(r.body.data, "Enter a valid e-mail address, like name@example.com."));
	assert_non_null(strstr(r.body.data, "Choose at least one role."));
	assert_non_null(strstr(r.body.data, "id=\"user-password-error\""));
	assert_non_null(strstr(r.body.data, "value=\"not-an-address\""));
	assert_non_null(strstr(r.body.data, "4 fields need your attention"));
	itest_resp_free(&r);

	/* Bytes that are not text are the sender's mistake, never a server error. */
	buf_reset(&body);
	form_add(&body, "csrf_token", admin.csrf);
	buf_puts(&body, "&name=Bad%FF%FEName&email=bad%C0%AF@example.com&role_id=x");
	request(&admin, "POST", "/admin/users", body.data, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body.data, "id=\"user-name-error\""));
	assert_non_null(strstr(r.body.data, "id=\"user-email-error\""));
	assert_non_null(strstr(r.body.data, "Choose roles from the list."));
	itest_resp_free(&r);
	request(&admin, "GET", "/admin/users?q=%FF", NULL, &r);
	assert_int_equal(r.status, 400);
	itest_resp_free(&r);
	buf_free(&body);
}

/* ---------------------------------------------------------------- edit */

static void
test_edit_audits_changed_fields_only(void **state)
{
	const char *roles[] = {"Researcher", NULL};
	char email[128], path[128];
	char *id, *rid, *details;
	struct itest_resp r;
	buf body = BUF_INIT;
	const char *p[1];

	(void)state;
	snprintf(email, sizeof email, "adm%d-edit@example.com", tag);
	id = create_user("Edith Before", email, roles, USER_PASSWORD);
	p[0] = id;
	rid = role_id("Researcher");
	snprintf(path, sizeof path, "/admin/users/%s", id);

	/* Only the name changes; e-mail and roles are posted as they are. */
	form_add(&body, "csrf_token", admin.csrf);
	form_add(&body, "name", "Edith After");
	form_add(&body, "email", email);
	form_add(&body, "role_id", rid);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	details =
	    sql_value("SELECT details::text FROM audit_logs WHERE entity_id = $1 AND action = "
		      "'update' ORDER BY created_at DESC LIMIT 1",
		      1, p);
	assert_non_null(details);
	assert_non_null(
	    strstr(details, "\"name\": {\"new\": \"Edith After\", \"old\": \"Edith Before\"}"));
	assert_null(strstr(details, "email"));
	assert_null(strstr(details, "roles"));
	free(details);

	/* Roles changed too: their old and new lists are recorded. */
	buf_reset(&body);
	{
		char *sdr = role_id("SDR");

		form_add(&body, "csrf_token", admin.csrf);
		form_add(&body, "name", "Edith After");
		form_add(&body, "email", email);
		form_add(&body, "role_id", rid);
		form_add(&body, "role_id", sdr);
		free(sdr);
	}
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	details =
	    sql_value("SELECT (details->'changes')::text FROM audit_logs WHERE entity_id = $1 "
		      "AND action = 'update' ORDER BY created_at DESC LIMIT 1",
		      1, p);
	assert_string_equal(
	    details,
	    "{\"roles\": {\"new\": [\"Researcher\", \"SDR\"], \"old\": [\"Researcher\"]}}");
	free(details);

	/* Posting the same values again changes nothing and writes no audit row. */
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1", 1, p),
			 3);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1", 1, p),
			 3);

	/* The user's page shows the form and their own timeline, newest first. */
	request(&admin, "GET", path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "value=\"Edith After\""));
	{
		const char *changed = strstr(r.body.data, "</span> changed");
		const char *created = strstr(r.body.data, "</span> created");

		assert_non_null(changed);
		assert_non_null(created);
		assert_true(changed < created);
	}
	assert_non_null(strstr(r.body.data, "Edith Before"));
	itest_resp_free(&r);

	/* The same view model as JSON, timeline included. */
	{
		char url[512], cookie[256];
		const char *h[] = {"Accept: application/json", cookie, NULL};

		snprintf(url, sizeof url, "%s%s", srv.base_url, path);
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", admin.session);
		assert_int_equal(itest_http("GET", url, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body.data, "\"timeline\""));
		assert_non_null(strstr(r.body.data, "\"verb\":\"changed\""));
		itest_resp_free(&r);
	}
	buf_free(&body);
	free(rid);
	free(id);
}

/* ---------------------------------------------------------------- deactivate */

static void
test_deactivate_ends_live_session(void **state)
{
	const char *roles[] = {"Researcher", NULL};
	char email[128], path[160];
	struct client victim, again;
	struct itest_resp r;
	buf body = BUF_INIT;
	const char *p[1];
	char *id, *loc;

	(void)state;
	snprintf(email, sizeof email, "adm%d-gone@example.com", tag);
	id = create_user("Dee Activated", email, roles, USER_PASSWORD);
	p[0] = id;
	sign_in(&victim, email, USER_PASSWORD);
	request(&victim, "GET", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	form_add(&body, "csrf_token", admin.csrf);
	snprintf(path, sizeof path, "/admin/users/%s/deactivate", id);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE id = $1 AND NOT is_active AND "
				   "deactivated_at IS NOT NULL",
				   1, p),
			 1);
	assert_int_equal(sql_count("SELECT count(*) FROM sessions WHERE user_id = $1", 1, p), 0);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND "
				   "action = 'deactivate'",
				   1, p),
			 1);

	/* Their very next request is refused: back to the sign-in page. */
	request(&victim, "GET", "/", NULL, &r);
	assert_int_equal(r.status, 303);
	loc = itest_header(&r, "Location");
	assert_non_null(loc);
	assert_int_equal(strncmp(loc, "/login", 6), 0);
	free(loc);
	itest_resp_free(&r);

	/* Deactivating twice is harmless; reactivating lets them sign in again. */
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/admin/users/%s/reactivate", id);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND "
				   "action IN ('deactivate', 'reactivate')",
				   1, p),
			 2);
	sign_in(&again, email, USER_PASSWORD);
	buf_free(&body);
	free(id);
}

static void
test_last_admin_is_kept(void **state)
{
	char *admin_id, *researcher, path[160];
	struct itest_resp r;
	buf body = BUF_INIT;
	const char *p[1];

	(void)state;
	/*
	 * The rule is about the organisation's last active Admin: make admin@example.com
	 * that, by deactivating any Admin other suites left active (test accounts only).
	 */
	sql_ok("UPDATE users SET is_active = false WHERE email <> '" ADMIN_EMAIL "' AND id IN "
	       "(SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE "
	       "r.name = 'Admin')",
	       0, NULL);
	admin_id = sql_value("SELECT id FROM users WHERE email = '" ADMIN_EMAIL "'", 0, NULL);
	p[0] = admin_id;
	researcher = role_id("Researcher");

	/* Nobody deactivates themself: another Admin has to (issue 13). */
	form_add(&body, "csrf_token", admin.csrf);
	snprintf(path, sizeof path, "/admin/users/%s/deactivate", admin_id);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.body.data, "deactivate your own account"));
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE id = $1 AND is_active", 1, p),
			 1);
	/* The confirmation page says so too, and offers no button. */
	request(&admin, "GET", path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "deactivate your own account"));
	assert_null(strstr(r.body.data, "action=\"/admin/users/"));
	itest_resp_free(&r);
	/* Someone else (any holder of users.manage) is refused for the last active Admin… */
	{
		db_conn *c = db_connect(itest_conninfo());
		char *other = sql_value("SELECT id FROM users WHERE email <> '" ADMIN_EMAIL
					"' ORDER BY created_at LIMIT 1",
					0, NULL);

		assert_non_null(c);
		assert_non_null(other);
		assert_int_equal(users_deactivate(c, other, admin_id), USERS_LAST_ADMIN);
		db_close(c);
		free(other);
	}
	/* … and the database refuses it whoever asks, deactivation or role removal alike. */
	{
		PGresult *res = PQexecParams(pg, "UPDATE users SET is_active = false WHERE id = $1",
					     1, NULL, p, NULL, NULL, 0);

		assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
		assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "SP007");
		PQclear(res);
		res =
		    PQexecParams(pg,
				 "DELETE FROM user_roles WHERE user_id = $1 AND role_id = (SELECT "
				 "id FROM roles WHERE name = 'Admin')",
				 1, NULL, p, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
		assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "SP007");
		PQclear(res);
	}
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE id = $1 AND is_active", 1, p),
			 1);

	/* Nor can the last Admin lose the role. */
	buf_reset(&body);
	form_add(&body, "csrf_token", admin.csrf);
	form_add(&body, "name", "Admin");
	form_add(&body, "email", ADMIN_EMAIL);
	form_add(&body, "role_id", researcher);
	snprintf(path, sizeof path, "/admin/users/%s", admin_id);
	request(&admin, "POST", path, body.data, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body.data, "last active Admin"));
	assert_non_null(strstr(r.body.data, "id=\"user-roles-error\""));
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = "
				   "ur.role_id WHERE ur.user_id = $1 AND r.name = 'Admin'",
				   1, p),
			 1);
	assert_int_equal(sql_count("SELECT count(*) FROM user_roles WHERE user_id = $1", 1, p), 1);

	/* With a second active Admin, the first may give up the role. */
	{
		const char *roles[] = {"Admin", NULL};
		char email[128], *second;
		buf b2 = BUF_INIT;

		snprintf(email, sizeof email, "adm%d-admin2@example.com", tag);
		second = create_user("Second Admin", email, roles, USER_PASSWORD);
		snprintf(path, sizeof path, "/admin/users/%s", second);
		form_add(&b2, "csrf_token", admin.csrf);
		form_add(&b2, "name", "Second Admin");
		form_add(&b2, "email", email);
		form_add(&b2, "role_id", researcher);
		request(&admin, "POST", path, b2.data, &r);
		assert_int_equal(r.status, 303);
		itest_resp_free(&r);
		/* … and once it has, admin@example.com is the last one again. */
		{
			db_conn *c = db_connect(itest_conninfo());

			assert_non_null(c);
			assert_int_equal(users_deactivate(c, second, admin_id), USERS_LAST_ADMIN);
			db_close(c);
		}
		buf_free(&b2);
		free(second);
	}
	buf_free(&body);
	free(researcher);
	free(admin_id);
}

/*
 * Two Admins deactivating each other at the same moment, when they are the
 * only active Admins: the domain's lock lets exactly one through.
 */
struct race {
	pthread_barrier_t *start;
	const char *actor, *target;
	enum users_result result;
};

static void *
race_deactivate(void *arg)
{
	struct race *r = arg;
	db_conn *c = db_connect(itest_conninfo());

	pthread_barrier_wait(r->start);
	r->result = c ? users_deactivate(c, r->actor, r->target) : USERS_ERROR;
	if (c)
		db_close(c);
	return NULL;
}

static void
test_last_admin_race(void **state)
{
	const char *roles[] = {"Admin", NULL};
	char email_x[128], email_y[128];
	char *x, *y;
	pthread_barrier_t start;
	pthread_t tx, ty;
	struct race rx, ry;
	int ok, refused;

	(void)state;
	snprintf(email_x, sizeof email_x, "adm%d-race-x@example.com", tag);
	snprintf(email_y, sizeof email_y, "adm%d-race-y@example.com", tag);
	x = create_user("Race X", email_x, roles, USER_PASSWORD);
	y = create_user("Race Y", email_y, roles, USER_PASSWORD);
	/* For a moment X and Y are the only active Admins (this ends the Admin's session). */
	{
		const char *p[2] = {x, y};

		sql_ok("UPDATE users SET is_active = false WHERE id NOT IN ($1, $2) AND email <> "
		       "'" ADMIN_EMAIL
		       "' AND id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = "
		       "ur.role_id WHERE r.name = 'Admin')",
		       2, p);
	}
	sql_ok("UPDATE users SET is_active = false WHERE email = '" ADMIN_EMAIL "'", 0, NULL);
	pthread_barrier_init(&start, NULL, 2);
	rx = (struct race){&start, x, y, USERS_ERROR};
	ry = (struct race){&start, y, x, USERS_ERROR};
	pthread_create(&tx, NULL, race_deactivate, &rx);
	pthread_create(&ty, NULL, race_deactivate, &ry);
	pthread_join(tx, NULL);
	pthread_join(ty, NULL);
	pthread_barrier_destroy(&start);
	sql_ok(
	    "UPDATE users SET is_active = true, deactivated_at = NULL WHERE email = '" ADMIN_EMAIL
	    "'",
	    0, NULL);
	sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD);

	ok = (rx.result == USERS_OK) + (ry.result == USERS_OK);
	refused = (rx.result == USERS_LAST_ADMIN) + (ry.result == USERS_LAST_ADMIN);
	assert_int_equal(ok, 1);
	assert_int_equal(refused, 1);
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE email IN ('" ADMIN_EMAIL "') "
				   "AND is_active",
				   0, NULL),
			 1);
	free(x);
	free(y);
}

/* ---------------------------------------------------------------- grants */

/* Every checked, enabled checkbox of the grants page: what the browser would post. */
static void
grants_form(const char *html, buf *body, const char *csrf, const char *skip, const char *add)
{
	const char *p = html;
	const char *marker = "name=\"grant\" value=\"";

	form_add(body, "csrf_token", csrf);
	while ((p = strstr(p, marker))) {
		const char *v = p + strlen(marker), *end = strchr(v, '"'),
			   *tag_end = strchr(v, '>');
		char *value = xstrndup(v, (size_t)(end - v));
		char *attrs = xstrndup(end, (size_t)(tag_end - end));

		if (strstr(attrs, " checked") && !strstr(attrs, " disabled") &&
		    !(skip && strcmp(value, skip) == 0))
			form_add(body, "grant", value);
		free(value);
		free(attrs);
		p = tag_end;
	}
	if (add)
		form_add(body, "grant", add);
}

static long
grants_audit_rows(void)
{
	return sql_count("SELECT count(*) FROM audit_logs WHERE entity_type = 'grants'", 0, NULL);
}

static void
test_grants_save_one_audit_row_and_effect(void **state)
{
	const char *roles[] = {"Researcher", NULL};
	char email[128];
	struct client researcher;
	struct itest_resp r, page;
	buf body = BUF_INIT;
	long before;
	char *details;

	(void)state;
	snprintf(email, sizeof email, "adm%d-grantee@example.com", tag);
	free(create_user("Rita Grantee", email, roles, USER_PASSWORD));
	sign_in(&researcher, email, USER_PASSWORD);
	request(&researcher, "GET", "/admin/users", NULL, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);

	request(&admin, "GET", "/admin/grants", NULL, &page);
	assert_int_equal(page.status, 200);
	/* Accessible markup: headers with scope, a label text for every checkbox. */
	assert_non_null(
	    strstr(page.body.data, "<th scope=\"col\" class=\"grants-role-col\">Researcher</th>"));
	assert_non_null(strstr(page.body.data, "scope=\"row\""));
	assert_non_null(
	    strstr(page.body.data, "<span class=\"sr-only\">Researcher: companies.approve</span>"));
	before = grants_audit_rows();
	grants_form(page.body.data, &body, admin.csrf, NULL, "Researcher:users.manage");
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(grants_audit_rows(), before + 1);
	details = sql_value("SELECT details::text FROM audit_logs WHERE entity_type = 'grants' "
			    "ORDER BY created_at DESC LIMIT 1",
			    0, NULL);
	assert_string_equal(details, "{\"granted\": [{\"role\": \"Researcher\", \"permission\": "
				     "\"users.manage\"}], \"revoked\": []}");
	free(details);

	/* The Researcher's very next request has the new permission. */
	request(&researcher, "GET", "/admin/users", NULL, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	/* Saving the same matrix again: no change, no audit row. */
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(grants_audit_rows(), before + 1);

	/* Put it back: one row with the revocation, and the Researcher loses access at once. */
	buf_reset(&body);
	grants_form(page.body.data, &body, admin.csrf, NULL, NULL);
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(grants_audit_rows(), before + 2);
	details = sql_value("SELECT details::text FROM audit_logs WHERE entity_type = 'grants' "
			    "ORDER BY created_at DESC LIMIT 1",
			    0, NULL);
	assert_string_equal(details, "{\"granted\": [], \"revoked\": [{\"role\": \"Researcher\", "
				     "\"permission\": \"users.manage\"}]}");
	free(details);
	request(&researcher, "GET", "/admin/users", NULL, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);

	/* The grants page lists the change in its history. */
	request(&admin, "GET", "/admin/grants", NULL, &r);
	assert_non_null(strstr(r.body.data, "changed the grants"));
	assert_non_null(strstr(r.body.data, "Researcher: users.manage"));
	itest_resp_free(&r);
	itest_resp_free(&page);
	buf_free(&body);
}

static void
test_admin_keeps_locked_grants(void **state)
{
	struct itest_resp r, page;
	buf body = BUF_INIT;
	long before;

	(void)state;
	request(&admin, "GET", "/admin/grants", NULL, &page);
	assert_int_equal(page.status, 200);
	/* Shown checked and disabled… */
	assert_non_null(strstr(page.body.data, "value=\"Admin:users.manage\" checked disabled"));
	assert_non_null(strstr(page.body.data, "value=\"Admin:grants.manage\" checked disabled"));
	before = grants_audit_rows();

	/* …and kept when the form omits them, even if another grant is dropped. */
	grants_form(page.body.data, &body, admin.csrf, "Admin:dedup.run", NULL);
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = "
		      "rp.role_id JOIN permissions p ON p.id = rp.permission_id WHERE "
		      "r.name = 'Admin' AND p.module IN ('users', 'grants') AND "
		      "p.action = 'manage'",
		      0, NULL),
	    2);
	assert_int_equal(grants_audit_rows(), before + 1);

	/* Restore dedup.run. */
	buf_reset(&body);
	grants_form(page.body.data, &body, admin.csrf, NULL, NULL);
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = "
		      "rp.role_id JOIN permissions p ON p.id = rp.permission_id WHERE "
		      "r.name = 'Admin' AND p.module = 'dedup'",
		      0, NULL),
	    1);

	/* An unknown role or permission is refused whole. */
	buf_reset(&body);
	grants_form(page.body.data, &body, admin.csrf, NULL, "Nobody:users.manage");
	request(&admin, "POST", "/admin/grants", body.data, &r);
	assert_int_equal(r.status, 400);
	itest_resp_free(&r);
	assert_int_equal(grants_audit_rows(), before + 2);
	itest_resp_free(&page);
	buf_free(&body);
}

/* ---------------------------------------------------------------- list and access */

static void
test_list_search_and_filters(void **state)
{
	char path[256], q[64], *sdr;
	struct itest_resp r;

	(void)state;
	snprintf(q, sizeof q, "adm%d-", tag);
	snprintf(path, sizeof path, "/admin/users?q=%s", q);
	request(&admin, "GET", path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Grace Hopper"));
	assert_non_null(strstr(r.body.data, "Dee Activated"));
	assert_null(strstr(r.body.data, ADMIN_EMAIL "</span>"));
	/* The filters stay in the form, so the URL can be shared and reloaded. */
	{
		char want[128];

		snprintf(want, sizeof want, "value=\"%s\"", q);
		assert_non_null(strstr(r.body.data, want));
	}
	itest_resp_free(&r);

	sdr = role_id("SDR");
	snprintf(path, sizeof path, "/admin/users?q=%s&role=%s&status=active", q, sdr);
	request(&admin, "GET", path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Grace Hopper"));
	assert_null(strstr(r.body.data, "Linda Link"));
	itest_resp_free(&r);
	free(sdr);

	/* Search by e-mail, any case; a deactivated user shows under "deactivated" only. */
	{
		const char *roles[] = {"SDR", NULL};
		char email[128], body[256], *id;
		struct itest_resp rr;

		snprintf(email, sizeof email, "adm%d-filtered@example.com", tag);
		id = create_user("Fil Tered", email, roles, USER_PASSWORD);
		snprintf(body, sizeof body, "csrf_token=%s", admin.csrf);
		snprintf(path, sizeof path, "/admin/users/%s/deactivate", id);
		request(&admin, "POST", path, body, &rr);
		assert_int_equal(rr.status, 303);
		itest_resp_free(&rr);
		snprintf(path, sizeof path, "/admin/users?q=ADM%d-FILTERED&status=deactivated",
			 tag);
		request(&admin, "GET", path, NULL, &r);
		assert_non_null(strstr(r.body.data, "Fil Tered"));
		assert_non_null(strstr(r.body.data, "1 user matches"));
		itest_resp_free(&r);
		snprintf(path, sizeof path, "/admin/users?q=adm%d-filtered&status=active", tag);
		request(&admin, "GET", path, NULL, &r);
		assert_null(strstr(r.body.data, "Fil Tered"));
		assert_non_null(strstr(r.body.data, "No users match these filters"));
		itest_resp_free(&r);
		free(id);
	}

	/* A LIKE wildcard in the search is taken literally; a bad role id is no filter. */
	request(&admin, "GET", "/admin/users?q=%25%25%25&role=nope", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "No users match"));
	itest_resp_free(&r);

	/* Keyset pages of 50: the first links to the next, which holds the rest. */
	{
		char like[64], *next, *amp;
		const char *pp[1] = {like};
		int rows = 0;
		const char *s;

		snprintf(like, sizeof like, "adm%d-page", tag);
		sql_ok("INSERT INTO users (email, name) SELECT $1 || '-' || n || '@example.com', "
		       "'Page ' || lpad(n::text, 2, '0') FROM generate_series(1, 55) AS n",
		       1, pp);
		snprintf(path, sizeof path, "/admin/users?q=%s", like);
		request(&admin, "GET", path, NULL, &r);
		for (s = r.body.data; (s = strstr(s, "class=\"user-cell\"")); s++)
			rows++;
		assert_int_equal(rows, 50);
		assert_non_null(strstr(r.body.data, "55 users match"));
		next =
		    html_attr_after(r.body.data, "<a class=\"btn btn-secondary btn-sm\" href=\"");
		assert_non_null(next);
		/* The template escapes '&' and '=' in the attribute; undo that for the request. */
		while ((amp = strstr(next, "&amp;")))
			memmove(amp + 1, amp + 5, strlen(amp + 5) + 1);
		while ((amp = strstr(next, "&#x3D;")) || (amp = strstr(next, "&#61;"))) {
			size_t len = amp[2] == 'x' ? 6 : 5;

			*amp = '=';
			memmove(amp + 1, amp + len, strlen(amp + len) + 1);
		}
		assert_non_null(strstr(next, "after="));
		itest_resp_free(&r);
		request(&admin, "GET", next, NULL, &r);
		assert_int_equal(r.status, 200);
		rows = 0;
		for (s = r.body.data; (s = strstr(s, "class=\"user-cell\"")); s++)
			rows++;
		assert_int_equal(rows, 5);
		assert_non_null(strstr(r.body.data, "Page 55"));
		assert_null(strstr(r.body.data, "Page 50<"));
		assert_null(strstr(r.body.data, "Next page"));
		itest_resp_free(&r);
		/* htmx (infinite scroll) asks for the next rows alone, without the table. */
		{
			char url[512], cookie[256];
			const char *h[] = {"HX-Request: true", cookie, NULL};

			snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s",
				 admin.session);
			snprintf(url, sizeof url, "%s%s", srv.base_url, next);
			assert_int_equal(itest_http("GET", url, h, NULL, 0, &r), 0);
			assert_int_equal(r.status, 200);
			assert_non_null(r.body.data);
			assert_non_null(strstr(r.body.data, "Page 55"));
			assert_null(strstr(r.body.data, "<table"));
			itest_resp_free(&r);
		}
		free(next);
	}

	/* Unknown and malformed ids are a plain 404. */
	request(&admin, "GET", "/admin/users/00000000-0000-4000-8000-000000000000", NULL, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);
	request(&admin, "GET", "/admin/users/not-a-uuid", NULL, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);
}

static void
test_non_admin_gets_403_everywhere(void **state)
{
	const char *roles[] = {"Approver", "Researcher", NULL};
	char email[128], body[256], *id;
	struct client other;
	struct itest_resp r;
	char paths[7][160];
	const char *methods[7] = {"GET", "GET", "GET", "GET", "POST", "POST", "POST"};
	int i;

	(void)state;
	snprintf(email, sizeof email, "adm%d-nope@example.com", tag);
	id = create_user("Norm Access", email, roles, USER_PASSWORD);
	sign_in(&other, email, USER_PASSWORD);
	snprintf(paths[0], sizeof paths[0], "/admin/users");
	snprintf(paths[1], sizeof paths[1], "/admin/users/new");
	snprintf(paths[2], sizeof paths[2], "/admin/users/%s", id);
	snprintf(paths[3], sizeof paths[3], "/admin/grants");
	snprintf(paths[4], sizeof paths[4], "/admin/users/%s/deactivate", id);
	snprintf(paths[5], sizeof paths[5], "/admin/users/%s/reactivate", id);
	snprintf(paths[6], sizeof paths[6], "/admin/users/%s", id);
	snprintf(body, sizeof body, "csrf_token=%s&name=x&email=x%%40example.com", other.csrf);
	for (i = 0; i < 7; i++) {
		request(&other, methods[i], paths[i], strcmp(methods[i], "POST") == 0 ? body : NULL,
			&r);
		if (r.status != 403)
			fail_msg("%s %s: %ld", methods[i], paths[i], r.status);
		assert_non_null(strstr(r.body.data, strstr(paths[i], "grants") ? "grants.manage"
									       : "users.manage"));
		itest_resp_free(&r);
	}
	request(&other, "POST", "/admin/users", body, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	request(&other, "POST", "/admin/grants", body, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "grants.manage"));
	itest_resp_free(&r);
	/* Nothing happened to the user. */
	{
		const char *p[1] = {id};

		assert_int_equal(sql_count("SELECT count(*) FROM users WHERE id = $1 AND is_active "
					   "AND name = 'Norm Access'",
					   1, p),
				 1);
	}
	/* Nor can a request without the CSRF token change anything, even the Admin's. */
	{
		char path[160];

		snprintf(path, sizeof path, "/admin/users/%s/deactivate", id);
		request(&admin, "POST", path, "nothing=here", &r);
		assert_int_equal(r.status, 403);
		itest_resp_free(&r);
	}
	free(id);
}

/* ---------------------------------------------------------------- naughty strings */

/* The user form's fields (a name of at most 200 characters, a valid e-mail address). */
static const struct naughty_field ufields[] = {
    {"name", NAUGHTY_TEXT, 200, 1},
    {"email", NAUGHTY_EMAIL, 320, 1},
};
#define UFIELDS (sizeof ufields / sizeof ufields[0])

/* The user form as the Admin sends it: name, e-mail, one role, an e-mailed link. */
static void
naughty_user_post(const char *path, const char *name, const char *email, const char *role,
		  enum itest_how how, struct itest_resp *r)
{
	const char *form[] = {"name", name,	 "email", email, "role_id",
			      role,   "sign_in", "link",  NULL};

	itest_call(srv.base_url, admin.session, admin.csrf, "POST", path, form, how, r);
}

static void
naughty_user_check_json(const char *id, const char *const want[UFIELDS], int idx)
{
	char path[128];
	struct itest_resp r;
	json_t *vm;
	size_t f;

	snprintf(path, sizeof path, "/admin/users/%s", id);
	itest_call(srv.base_url, admin.session, admin.csrf, "GET", path, NULL, ITEST_JSON, &r);
	assert_int_equal(r.status, 200);
	vm = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_non_null(vm);
	for (f = 0; f < UFIELDS; f++)
		naughty_assert_json(json_object_get(vm, "user"), &ufields[f], want[f], idx);
	json_decref(vm);
	itest_resp_free(&r);
}

/* The user's page (after the save, with its flash message) shows both escaped. */
static void
naughty_user_check_page(const char *id, const char *const want[UFIELDS], int idx)
{
	char path[128];
	struct itest_resp r;
	size_t f;

	snprintf(path, sizeof path, "/admin/users/%s", id);
	itest_call(srv.base_url, admin.session, admin.csrf, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	naughty_assert_shown(r.body.data, "<h1>", want[0], "</h1>", idx, path);
	for (f = 0; f < UFIELDS; f++)
		naughty_assert_in_form(r.body.data, &ufields[f], want[f], idx, path);
	itest_resp_free(&r);
}

/* The list searched for s: answers, no markup; finds the user when the matches fit a page. */
static void
naughty_user_search(const char *id, const char *s, int name_ok, int idx)
{
	struct itest_resp r;
	json_t *vm, *u;
	size_t i;
	int found = 0;

	if (!naughty_search(srv.base_url, admin.session, "/admin/users?q=", s, ITEST_HTML, idx, &r))
		return;
	itest_resp_free(&r);
	naughty_search(srv.base_url, admin.session, "/admin/users?q=", s, ITEST_JSON, idx, &r);
	vm = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_non_null(vm);
	json_array_foreach(json_object_get(vm, "users"), i, u) found |=
	    !strcmp(json_string_value(json_object_get(u, "id")), id);
	/* "a" matches hundreds of users: only a search whose matches fit one page must show it */
	if (name_ok && !found && !json_is_string(json_object_get(vm, "next")))
		fail_msg("naughty #%d: searching the users for the name does not find it", idx);
	json_decref(vm);
	itest_resp_free(&r);
}

/* One string through the new-user form and an edit, in the name and the e-mail address. */
static void
naughty_user(const char *role, const char *s, int idx)
{
	int ok[UFIELDS], refused = 0;
	char *val[UFIELDS], *id, *base, fallback_name[64], email[128], base_name[64],
	    base_email[128];
	const char *want[UFIELDS], *send[UFIELDS];
	struct itest_resp r;
	size_t f;

	snprintf(fallback_name, sizeof fallback_name, "Naughty %d", idx);
	snprintf(email, sizeof email, "adm%d-naughty-%d@example.com", tag, idx);
	for (f = 0; f < UFIELDS; f++) {
		ok[f] = naughty_expect(&ufields[f], s, &val[f]);
		refused += !ok[f];
	}
	want[0] = ok[0] ? val[0] : fallback_name;
	want[1] = ok[1] ? val[1] : email;

	/* 1. a new user with s in every field that takes it */
	for (f = 0; f < UFIELDS; f++)
		send[f] = ok[f] ? s : want[f];
	naughty_user_post("/admin/users", send[0], send[1], role, ITEST_HTML, &r);
	if (r.status != 303)
		fail_msg("naughty #%d: a new user answered %ld:\n%.1500s", idx, r.status,
			 r.body.data ? r.body.data : "");
	id = location_id(&r);
	itest_resp_free(&r);
	naughty_user_check_page(id, want, idx);
	naughty_user_check_json(id, want, idx);
	naughty_user_search(id, s, ok[0], idx);

	/* 2. an existing user edited: s in every field that takes it, the others as they were */
	snprintf(base_name, sizeof base_name, "Base %d", idx);
	snprintf(base_email, sizeof base_email, "adm%d-base-%d@example.com", tag, idx);
	naughty_user_post("/admin/users", base_name, base_email, role, ITEST_HTML, &r);
	assert_int_equal(r.status, 303);
	base = location_id(&r);
	itest_resp_free(&r);
	{
		char path[128];
		const char *edited[UFIELDS] = {ok[0] ? val[0] : base_name,
					       ok[1] ? val[1] : base_email};

		snprintf(path, sizeof path, "/admin/users/%s", base);
		naughty_user_post(path, ok[0] ? s : base_name, ok[1] ? s : base_email, role,
				  ITEST_HTML, &r);
		if (r.status != 303)
			fail_msg("naughty #%d: an edit answered %ld:\n%.1500s", idx, r.status,
				 r.body.data ? r.body.data : "");
		itest_resp_free(&r);
		naughty_user_check_page(base, edited, idx);
		naughty_user_check_json(base, edited, idx);
	}

	/* 3. where the rules refuse s: refused on exactly those fields, nothing changes */
	if (refused) {
		char path[128];
		json_t *vm, *errors;

		for (f = 0; f < UFIELDS; f++)
			send[f] = ok[f] ? want[f] : s;
		snprintf(path, sizeof path, "/admin/users/%s", id);
		naughty_user_post(path, send[0], send[1], role, ITEST_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: an edit with refused values answered %ld", idx,
				 r.status);
		vm = json_loadb(r.body.data, r.body.len, 0, NULL);
		assert_non_null(vm);
		errors = json_object_get(vm, "errors");
		for (f = 0; f < UFIELDS; f++)
			if (ok[f] == json_is_string(json_object_get(errors, ufields[f].column)))
				fail_msg("naughty #%d: %s: want %s", idx, ufields[f].column,
					 ok[f] ? "no error" : "an error message");
		json_decref(vm);
		itest_resp_free(&r);
		naughty_user_check_json(id, want, idx);
		naughty_user_post("/admin/users", send[0], send[1], role, ITEST_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: a new user with refused values answered %ld", idx,
				 r.status);
		itest_resp_free(&r);
	}
	for (f = 0; f < UFIELDS; f++)
		free(val[f]);
	free(id);
	free(base);
}

/*
 * The Big List of Naughty Strings through the Admin's user form, new and
 * edited, as the name and as the e-mail address: stored as the rules say
 * (names tidied, addresses lower-cased and valid) or refused field by field
 * with nothing changed; the user's page, the list searched for it and the
 * JSON view give it back intact and escaped, never as markup.
 */
static void
test_naughty_strings(void **state)
{
	json_t *list = naughty_load(), *s;
	char *role = role_id("Marketing"), like[64];
	const char *p[1] = {like};
	size_t i;

	(void)state;
	json_array_foreach(list, i, s) naughty_user(role, json_string_value(s), (int)i);
	print_message("%zu naughty strings through %zu user fields, new and edited\n",
		      json_array_size(list), UFIELDS);
	/* one new user and one edited a string: no refused save slipped in */
	snprintf(like, sizeof like, "adm%d-naughty-%%", tag);
	assert_int_equal(sql_count("SELECT count(*) FROM users WHERE email LIKE $1", 1, p),
			 (long)json_array_size(list));
	free(role);
	json_decref(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_user_with_two_roles),
	    cmocka_unit_test(test_create_user_with_link),
	    cmocka_unit_test(test_duplicate_email_other_case),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_edit_audits_changed_fields_only),
	    cmocka_unit_test(test_deactivate_ends_live_session),
	    cmocka_unit_test(test_last_admin_is_kept),
	    cmocka_unit_test(test_last_admin_race),
	    cmocka_unit_test(test_grants_save_one_audit_row_and_effect),
	    cmocka_unit_test(test_admin_keeps_locked_grants),
	    cmocka_unit_test(test_list_search_and_filters),
	    cmocka_unit_test(test_non_admin_gets_403_everywhere),
	    cmocka_unit_test(test_naughty_strings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

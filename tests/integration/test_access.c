/*
 * Access control, generated from the route table itself: every route × every
 * role (one user per role, plus signed out) is allowed or refused exactly as
 * the grants in the database say; a grant changed while the server runs takes
 * effect on the next request. Also: CSRF refusal on every mutating route,
 * session fixation, deactivation ending a live session, the sign-in throttle
 * kicking in and lifting, and no password or hash in pages, logs or audit rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/password.h"
#include "itest.h"
#include "web/routes.h"

#define NROLES 6
static const char *const role_names[NROLES] = {"Admin",	   "Segment Owner", "Researcher",
					       "Approver", "SDR",	    "Marketing"};
static const char *const test_password = "correct horse battery 9";

static struct itest_server srv;
static PGconn *pg;
static char user_ids[NROLES][37];
static char emails[NROLES][128];

static void sql_ok(const char *sql, int n, const char *const *params);
static char *sql_value(const char *sql, int n, const char *const *params);

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

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* A session made directly in the database: cheap, so every probe can have its own. */
static void
new_session(const char *user_id, char token[65], char csrf[65])
{
	itest_session(user_id, token, csrf);
}

static int
setup(void **state)
{
	const char *env[] = {"SPANNER_LOGIN_MAX_FAILURES=3", "SPANNER_LOGIN_WINDOW=4", NULL};
	char *hash;
	struct config cfg;
	int i;

	(void)state;
	pg = itest_pg();
	if (!pg)
		return -1;
	config_defaults(&cfg);
	cfg.argon2_m_cost = 8192;
	cfg.argon2_t_cost = 1;
	hash = password_hash(&cfg, test_password);
	config_free(&cfg);
	for (i = 0; i < NROLES; i++) {
		const char *p[3] = {emails[i], hash, role_names[i]};
		char *id;

		snprintf(emails[i], sizeof emails[i], "access-%d-%d@example.com", (int)getpid(), i);
		id = sql_value("INSERT INTO users (email, name, password_hash) VALUES ($1, "
			       "'Access Tester', $2) RETURNING id",
			       2, p);
		if (!id)
			return -1;
		snprintf(user_ids[i], sizeof user_ids[i], "%s", id);
		p[0] = id;
		p[1] = role_names[i];
		sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles "
		       "WHERE name = $2",
		       2, p);
		free(id);
	}
	free(hash);
	return itest_server_start(&srv, "access", env);
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		const char *p[1] = {user_ids[i]};

		sql_ok("UPDATE users SET is_active = false WHERE id = $1", 1, p);
	}
	PQfinish(pg);
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

/* "/companies/{id}/peek" → "/companies/00000000-…/peek": a well-formed id that matches nothing. */
static void
concrete_path(const char *pattern, buf *out)
{
	const char *p;

	for (p = pattern; *p; p++) {
		if (*p == '{') {
			buf_puts(out, "00000000-0000-4000-8000-000000000000");
			p = strchr(p, '}');
			continue;
		}
		buf_putc(out, *p);
	}
}

static int
role_has(int role, const char *permission)
{
	const char *p[2] = {role_names[role], permission};
	char *v = sql_value("SELECT 1 FROM role_permissions rp JOIN roles r ON r.id = rp.role_id "
			    "JOIN permissions p ON p.id = rp.permission_id WHERE r.name = $1 "
			    "AND p.module || '.' || p.action = $2",
			    2, p);
	int has = v != NULL;

	free(v);
	return has;
}

enum outcome { ALLOWED, TO_LOGIN, FORBIDDEN_PERMISSION, FORBIDDEN_CSRF };

/*
 * One probe. Mutating requests carry no CSRF token on purpose: the guard
 * checks the grant first, so a refusal names the permission, and a user who
 * holds it meets the CSRF refusal instead — the handler never runs, and the
 * walk changes nothing.
 */
static enum outcome
probe(const struct route *r, int role, const char *path)
{
	char url[512], cookie[160], token[65], csrf[65];
	const char *headers[] = {cookie, NULL};
	struct itest_resp resp;
	enum outcome o;
	char *loc;

	cookie[0] = '\0';
	if (role >= 0) {
		new_session(user_ids[role], token, csrf);
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	}
	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	if (itest_http(r->method, url, role >= 0 ? headers : NULL,
		       strcmp(r->method, "GET") ? "" : NULL, 0, &resp) != 0)
		fail_msg("no answer for %s %s", r->method, path);
	loc = itest_header(&resp, "Location");
	if (resp.status == 303 && loc && strncmp(loc, "/login", 6) == 0)
		o = TO_LOGIN;
	else if (resp.status == 403 && resp.body.data && strstr(resp.body.data, "form has expired"))
		o = FORBIDDEN_CSRF;
	else if (resp.status == 403)
		o = FORBIDDEN_PERMISSION;
	else
		o = ALLOWED;
	if (o == FORBIDDEN_PERMISSION && r->permission)
		assert_non_null(strstr(resp.body.data, r->permission));
	free(loc);
	itest_resp_free(&resp);
	return o;
}

static int
route_count(void)
{
	const struct route *r;
	int n = 0;

	for (r = routes_table; r->method; r++)
		n++;
	return n;
}

static void
walk(int *checked)
{
	const struct route *r;
	int role;

	for (r = routes_table; r->method; r++) {
		buf path = BUF_INIT;
		int mutating = strcmp(r->method, "GET") != 0;

		concrete_path(r->pattern, &path);
		for (role = -1; role < NROLES; role++) {
			enum outcome got = probe(r, role, path.data), want;

			if (r->access == ACCESS_PUBLIC)
				want = ALLOWED;
			else if (role < 0)
				want = TO_LOGIN;
			else if (r->access == ACCESS_PERMISSION && !role_has(role, r->permission))
				want = FORBIDDEN_PERMISSION;
			else
				want = ALLOWED;
			/* a permitted mutation without the token stops at the CSRF check */
			if (want == ALLOWED && mutating)
				want = FORBIDDEN_CSRF;
			if (got != want)
				fail_msg("%s %s as %s: got outcome %d, grants say %d", r->method,
					 r->pattern, role < 0 ? "signed out" : role_names[role],
					 got, want);
			(*checked)++;
		}
		buf_free(&path);
	}
}

static void
test_every_route_every_role(void **state)
{
	int checked = 0;

	(void)state;
	walk(&checked);
	print_message("checked %d route × role combinations\n", checked);
	assert_int_equal(checked, route_count() * (NROLES + 1));
}

static void
test_grant_change_applies_without_restart(void **state)
{
	const struct route *r, *target = NULL;
	const char *grant[2] = {"Marketing", NULL};
	buf path = BUF_INIT;
	int checked = 0;

	(void)state;
	/* a page Marketing may not open by default */
	for (r = routes_table; r->method && !target; r++)
		if (r->access == ACCESS_PERMISSION && strcmp(r->method, "GET") == 0 &&
		    !role_has(5, r->permission))
			target = r;
	assert_non_null(target);
	grant[1] = target->permission;
	concrete_path(target->pattern, &path);
	assert_int_equal(probe(target, 5, path.data), FORBIDDEN_PERMISSION);
	sql_ok("INSERT INTO role_permissions (role_id, permission_id) SELECT r.id, p.id FROM "
	       "roles r, permissions p WHERE r.name = $1 AND p.module || '.' || p.action = $2",
	       2, grant);
	assert_int_equal(probe(target, 5, path.data), ALLOWED);
	/* the whole walk agrees with the changed grants too */
	walk(&checked);
	sql_ok(
	    "DELETE FROM role_permissions WHERE role_id = (SELECT id FROM roles WHERE name = $1) "
	    "AND permission_id = (SELECT id FROM permissions WHERE module || '.' || action = $2)",
	    2, grant);
	assert_int_equal(probe(target, 5, path.data), FORBIDDEN_PERMISSION);
	buf_free(&path);
}

/* POST /login; returns the status and, on success, the new session token. */
static long
sign_in(const char *email, const char *password, const char *extra_cookie, char token[65])
{
	char pre[65], field[65], url[256], cookie[400], body[512];
	const char *headers[] = {cookie, "Content-Type: application/x-www-form-urlencoded", NULL};
	struct itest_resp r;
	char *set;
	long status;

	itest_public_form(srv.base_url, "/login", pre, field);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_pre=%s%s%s", pre, extra_cookie ? "; " : "",
		 extra_cookie ? extra_cookie : "");
	snprintf(body, sizeof body, "email=%s&password=%s&csrf_token=%s", email, password, field);
	snprintf(url, sizeof url, "%s/login", srv.base_url);
	assert_int_equal(itest_http("POST", url, headers, body, strlen(body), &r), 0);
	status = r.status;
	token[0] = '\0';
	set = itest_cookie(&r, "spanner_session");
	if (status == 303 && set)
		snprintf(token, 65, "%s", set);
	free(set);
	itest_resp_free(&r);
	return status;
}

static long
get_as(const char *token, const char *path)
{
	char url[256], cookie[128];
	const char *headers[] = {cookie, NULL};
	struct itest_resp r;
	long status;

	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	assert_int_equal(itest_http("GET", url, headers, NULL, 0, &r), 0);
	status = r.status;
	itest_resp_free(&r);
	return status;
}

static void
test_csrf_required_on_every_mutating_route(void **state)
{
	const struct route *r;
	char token[65], csrf[65], url[512], cookie[128], bad[128];
	int n = 0;

	(void)state;
	new_session(user_ids[0], token, csrf); /* Admin holds every permission */
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	for (r = routes_table; r->method; r++) {
		buf path = BUF_INIT;
		const char *h1[] = {cookie, NULL};
		const char *h2[] = {cookie, bad, NULL};
		struct itest_resp resp;

		if (strcmp(r->method, "GET") == 0)
			continue;
		concrete_path(r->pattern, &path);
		snprintf(url, sizeof url, "%s%s", srv.base_url, path.data);
		/* no token at all */
		assert_int_equal(itest_http(r->method, url, h1, "", 0, &resp), 0);
		assert_int_equal(resp.status, 403);
		assert_non_null(strstr(resp.body.data, "form has expired"));
		itest_resp_free(&resp);
		/* another session's token in the header */
		snprintf(bad, sizeof bad, "X-CSRF-Token: %064d", 7);
		assert_int_equal(itest_http(r->method, url, h2, "", 0, &resp), 0);
		assert_int_equal(resp.status, 403);
		itest_resp_free(&resp);
		buf_free(&path);
		n++;
	}
	assert_true(n >= 2);
	/* and the session survived all that: it is still signed in */
	assert_int_equal(get_as(token, "/"), 200);
}

static void
test_session_fixation(void **state)
{
	char planted[65], csrf[65], extra[128], got[65];

	(void)state;
	/* A token the attacker made up is not a session and is never adopted. */
	snprintf(extra, sizeof extra, "spanner_session=%064d", 42);
	assert_int_equal(sign_in(emails[2], test_password, extra, got), 303);
	assert_int_equal(strlen(got), 64);
	assert_string_not_equal(got, extra + 16);
	/*
	 * Signing in again over a live session (here one planted in the browser)
	 * never keeps its id: the old session ends and a new one is issued.
	 */
	new_session(user_ids[2], planted, csrf);
	{
		char url[256], cookie[128], body[400], *set;
		const char *headers[] = {cookie, "Content-Type: application/x-www-form-urlencoded",
					 NULL};
		struct itest_resp r;

		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", planted);
		snprintf(body, sizeof body, "email=%s&password=%s&csrf_token=%s", emails[2],
			 test_password, csrf);
		snprintf(url, sizeof url, "%s/login", srv.base_url);
		assert_int_equal(itest_http("POST", url, headers, body, strlen(body), &r), 0);
		assert_int_equal(r.status, 303);
		set = itest_cookie(&r, "spanner_session");
		assert_non_null(set);
		snprintf(got, sizeof got, "%s", set);
		free(set);
		itest_resp_free(&r);
	}
	assert_int_equal(strlen(got), 64);
	assert_string_not_equal(got, planted);
	assert_int_equal(get_as(got, "/"), 200);
	assert_int_equal(get_as(planted, "/"), 303); /* the planted one was ended */
}

static void
test_deactivated_user_refused_at_once(void **state)
{
	char token[65];
	const char *p[1] = {user_ids[3]};

	(void)state;
	assert_int_equal(sign_in(emails[3], test_password, NULL, token), 303);
	assert_int_equal(get_as(token, "/"), 200);
	sql_ok("UPDATE users SET is_active = false WHERE id = $1", 1, p);
	assert_int_equal(get_as(token, "/"), 303);
	/* and cannot sign in again, with the same message as a wrong password */
	assert_int_equal(sign_in(emails[3], test_password, NULL, token), 401);
	sql_ok("UPDATE users SET is_active = true WHERE id = $1", 1, p);
}

static void
test_throttle_kicks_in_and_lifts(void **state)
{
	char token[65];
	int i;

	(void)state;
	/* the server runs with SPANNER_LOGIN_MAX_FAILURES=3 and a 4-second window */
	for (i = 0; i < 3; i++)
		assert_int_equal(sign_in(emails[1], "wrong-password-1", NULL, token), 401);
	/* now even the right password waits */
	assert_int_equal(sign_in(emails[1], test_password, NULL, token), 429);
	sleep(5);
	assert_int_equal(sign_in(emails[1], test_password, NULL, token), 303);
	assert_true(itest_file_contains(srv.log_path, "POST /login 429"));
}

static void
test_no_secrets_anywhere(void **state)
{
	char *n;
	const char *p[1] = {test_password};

	(void)state;
	assert_false(itest_file_contains(srv.log_path, test_password));
	assert_false(itest_file_contains(srv.log_path, "$argon2"));
	n = sql_value("SELECT count(*) FROM audit_logs WHERE details::text LIKE '%' || $1 || '%' "
		      "OR details::text LIKE '%argon2%'",
		      1, p);
	assert_string_equal(n, "0");
	free(n);
	/* sign-in failures are audited, with the reason and without the password */
	n = sql_value("SELECT count(*) FROM audit_logs WHERE action = 'sign_in_failed' AND "
		      "details->>'reason' = 'wrong password'",
		      0, NULL);
	assert_true(atoi(n) >= 3);
	free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_route_every_role),
	    cmocka_unit_test(test_grant_change_applies_without_restart),
	    cmocka_unit_test(test_csrf_required_on_every_mutating_route),
	    cmocka_unit_test(test_session_fixation),
	    cmocka_unit_test(test_deactivated_user_refused_at_once),
	    cmocka_unit_test(test_throttle_kicks_in_and_lifts),
	    cmocka_unit_test(test_no_secrets_anywhere),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

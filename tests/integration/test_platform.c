/*
 * Platform integration: a real server process on the throw-away cluster.
 * Migrations from empty and re-run, the first Admin, security headers on
 * every kind of response, error pages, assets, metrics, the access log,
 * HTTPS, graceful stop, and a PostgreSQL restart under a running server
 * (/healthz flips to 503 and back, nothing crashes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/password.h"
#include "itest.h"

static struct itest_server srv;

static int
start_shared(void **state)
{
	(void)state;
	if (!itest_conninfo())
		return -1;
	return itest_server_start(&srv, "platform", NULL);
}

static int
stop_shared(void **state)
{
	(void)state;
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

static void
get(const char *path, const char *const *headers, struct itest_resp *r)
{
	char url[512];

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	assert_int_equal(itest_http("GET", url, headers, NULL, 0, r), 0);
}

static void
assert_security_headers(const struct itest_resp *r)
{
	char *csp = itest_header(r, "Content-Security-Policy");
	char *nosniff = itest_header(r, "X-Content-Type-Options");
	char *ref = itest_header(r, "Referrer-Policy");

	assert_non_null(csp);
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	assert_non_null(strstr(csp, "script-src 'self'"));
	assert_null(strstr(csp, "unsafe-inline"));
	assert_non_null(nosniff);
	assert_string_equal(nosniff, "nosniff");
	assert_non_null(ref);
	free(csp);
	free(nosniff);
	free(ref);
}

static void
test_migrations_from_empty_and_rerun(void **state)
{
	PGconn *admin = itest_pg();
	char ci[1024], sql[128];
	const char *tables[] = {"users", "roles", "user_roles", "permissions", "role_permissions",
				"segments", "offerings", "segment_offerings", "companies",
				"contacts", "assignments", "upload_batches", "upload_errors",
				"audit_logs", "marketing_collaterals", "sessions",
				"password_resets", "jobs", "dedup_runs", "settings", "outbox",
				"schema_migrations", NULL};
	db_conn *c;
	PGresult *res;
	int i, applied;

	(void)state;
	assert_non_null(admin);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS migtest_%d", (int)getpid());
	PQclear(PQexec(admin, sql));
	snprintf(sql, sizeof sql, "CREATE DATABASE migtest_%d", (int)getpid());
	res = PQexec(admin, sql);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);

	/* In a libpq conninfo string the last dbname wins. */
	snprintf(ci, sizeof ci, "%s dbname=migtest_%d", itest_conninfo(), (int)getpid());
	c = db_connect(ci);
	assert_non_null(c);
	applied = migrate_run(c, "migrations");
	assert_true(applied >= 2);
	assert_int_equal(migrate_run(c, "migrations"), 0);
	for (i = 0; tables[i]; i++) {
		const char *p[1] = {tables[i]};

		res = PQexecParams(db_pg(c), "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p,
				   NULL, NULL, 0);
		assert_string_equal(PQgetvalue(res, 0, 0), "t");
		PQclear(res);
	}
	res = PQexec(db_pg(c), "SELECT count(*) FROM schema_migrations");
	assert_int_equal(atoi(PQgetvalue(res, 0, 0)), applied);
	PQclear(res);
	db_close(c);

	snprintf(sql, sizeof sql, "DROP DATABASE migtest_%d", (int)getpid());
	res = PQexec(admin, sql);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(admin);
}

static void
test_first_admin(void **state)
{
	PGconn *pg = itest_pg();
	PGresult *res;

	(void)state;
	res = PQexec(pg, "SELECT u.password_hash, r.name FROM users u JOIN user_roles ur ON "
			 "ur.user_id = u.id JOIN roles r ON r.id = ur.role_id "
			 "WHERE u.email = 'admin@example.com'");
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 1), "Admin");
	/* tests/run-all set SPANNER_ADMIN_PASSWORD=test-admin-password for the first start */
	assert_true(password_verify(PQgetvalue(res, 0, 0), "test-admin-password"));
	assert_false(password_verify(PQgetvalue(res, 0, 0), "wrong"));
	assert_non_null(strstr(PQgetvalue(res, 0, 0), "$argon2id$"));
	PQclear(res);
	res = PQexec(pg, "SELECT details::text FROM audit_logs WHERE action = 'create' AND "
			 "entity_type = 'user' AND details->>'email' = 'admin@example.com'");
	assert_int_equal(PQntuples(res), 1);
	assert_null(strstr(PQgetvalue(res, 0, 0), "argon2"));
	PQclear(res);
	PQfinish(pg);
}

static void
test_login_page_and_headers(void **state)
{
	struct itest_resp r;
	char *type;

	(void)state;
	get("/login", NULL, &r);
	assert_int_equal(r.status, 200);
	type = itest_header(&r, "Content-Type");
	assert_string_equal(type, "text/html; charset=utf-8");
	free(type);
	assert_non_null(strstr(r.body.data, "name=\"email\""));
	assert_non_null(strstr(r.body.data, "/assets/vendor/htmx.min.js"));
	assert_non_null(strstr(r.body.data, "/assets/css/spanner.css"));
	assert_security_headers(&r);
	itest_resp_free(&r);
}

static void
test_error_pages(void **state)
{
	char url[256];
	struct itest_resp r;

	(void)state;
	get("/no/such/page", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "Page not found"));
	assert_non_null(strstr(r.body.data, "<!doctype html>"));
	assert_security_headers(&r);
	itest_resp_free(&r);

	/*
	 * A method the route does not take: Kore refuses it itself (kore.conf's
	 * restrict), before any handler, with a bare 405 and no Allow header, and
	 * the server goes on as if nothing happened.
	 */
	snprintf(url, sizeof url, "%s/healthz", srv.base_url);
	assert_int_equal(itest_http("DELETE", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 405);
	itest_resp_free(&r);
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	/* JSON clients get the error as JSON */
	{
		const char *h[] = {"Accept: application/json", NULL};

		get("/nope", h, &r);
		assert_int_equal(r.status, 404);
		assert_non_null(strstr(r.body.data, "\"status\":404"));
		itest_resp_free(&r);
	}
}

/*
 * Kore's filemap serves assets/: each file with its type (Kore's own table,
 * kore.conf's http_media_type for SVG) and Last-Modified, and a 304 for a
 * browser that already has it. Pages link them with ?v=<fingerprint>, so a
 * deploy that changes a file changes its URL.
 */
static void
test_assets_mime_and_cache(void **state)
{
	struct {
		const char *path;
		const char *type;
	} cases[] = {
	    {"/assets/css/spanner.css", "text/css"},
	    {"/assets/vendor/htmx.min.js", "application/javascript"},
	    {"/assets/favicon.svg", "image/svg+xml"},
	};
	struct itest_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *type, *modified, hdr[160];
		const char *cond[2] = {hdr, NULL};

		get(cases[i].path, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_true(r.body.len > 0);
		type = itest_header(&r, "Content-Type");
		modified = itest_header(&r, "Last-Modified");
		assert_non_null(type);
		assert_string_equal(type, cases[i].type);
		assert_non_null(modified);
		itest_resp_free(&r);
		snprintf(hdr, sizeof hdr, "If-Modified-Since: %s", modified);
		get(cases[i].path, cond, &r);
		assert_int_equal(r.status, 304);
		itest_resp_free(&r);
		free(type);
		free(modified);
	}
	/* the layout links them with the fingerprint */
	get("/login", NULL, &r);
	assert_non_null(strstr(r.body.data, "/assets/css/spanner.css?v="));
	itest_resp_free(&r);
}

static void
test_healthz_and_metrics(void **state)
{
	struct itest_resp r;

	(void)state;
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	get("/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "spanner_http_requests_total{status=\"200\"}"));
	assert_non_null(strstr(r.body.data, "spanner_http_request_duration_seconds_bucket{le=\"0.01\"}"));
	assert_non_null(strstr(r.body.data, "spanner_db_pool_in_use"));
	assert_non_null(strstr(r.body.data, "spanner_jobs{state=\"queued\"}"));
	assert_non_null(strstr(r.body.data, "spanner_database_up 1"));
	itest_resp_free(&r);
	/* one access line per request: method, path, status, bytes, microseconds */
	assert_true(itest_file_contains(srv.log_path, "access GET /metrics 200 "));
	assert_true(itest_file_contains(srv.log_path, "access GET /healthz 200 "));
}

/*
 * SIGTERM to Kore's parent: the workers finish what they hold, the job
 * threads stop, and every process of the server is gone with exit status 0.
 * (HTTPS is the proxy's: tests/integration/proxy-test.sh.)
 */
static void
test_graceful_stop(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	char url[256];
	pid_t group;

	(void)state;
	assert_int_equal(itest_server_start(&s, "graceful", NULL), 0);
	group = s.pid;
	snprintf(url, sizeof url, "%s/login", s.base_url);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	itest_resp_free(&r);
	assert_int_equal(itest_server_stop(&s), 0);
	/* no worker left behind in the server's process group */
	assert_int_equal(kill(-group, 0), -1);
	assert_true(itest_file_contains(s.log_path, "server shutting down"));
	assert_true(itest_file_contains(s.log_path, "jobs: workers stopped"));
}

static void
run_db_command(const char *var_dir, const char *arg)
{
	char cmd[1024];
	const char *bin = getenv("SPANNER_CTL");

	snprintf(cmd, sizeof cmd, "SPANNER_VAR_DIR=%s SPANNER_PG_FSYNC=off %s %s >/dev/null 2>&1",
		 var_dir, bin ? bin : "build/spanner-ctl", arg);
	assert_int_equal(system(cmd), 0);
}

static long
status_of(const struct itest_server *s, const char *path)
{
	char url[256];
	struct itest_resp r;
	long status;

	snprintf(url, sizeof url, "%s%s", s->base_url, path);
	if (itest_http("GET", url, NULL, NULL, 0, &r) != 0)
		return -1;
	status = r.status;
	itest_resp_free(&r);
	return status;
}

/* The server keeps running through a database restart and recovers by itself. */
static void
test_postgres_restart(void **state)
{
	const char *env[] = {"SPANNER_VAR_DIR=var/test-restart", "SPANNER_PG_FSYNC=off", NULL};
	struct itest_server s;
	int i;
	long st = 0;

	(void)state;
	assert_int_equal(itest_server_start(&s, "restart", env), 0);
	assert_int_equal(status_of(&s, "/healthz"), 200);

	run_db_command("var/test-restart", "--stop-db");
	for (i = 0; i < 20 && (st = status_of(&s, "/healthz")) != 503; i++)
		usleep(100000);
	assert_int_equal(st, 503);
	/* pages that need no database still work, and the server did not crash */
	assert_int_equal(status_of(&s, "/login"), 200);
	assert_int_equal(status_of(&s, "/metrics"), 200);
	assert_int_equal(kill(s.pid, 0), 0);

	run_db_command("var/test-restart", "--init-only");
	for (i = 0; i < 50 && (st = status_of(&s, "/healthz")) != 200; i++)
		usleep(100000);
	assert_int_equal(st, 200);
	/* every pooled connection works again, not only the first one tried */
	for (i = 0; i < 10; i++)
		assert_int_equal(status_of(&s, "/healthz"), 200);
	assert_true(itest_file_contains(s.log_path, "connection re-established"));
	assert_int_equal(itest_server_stop(&s), 0);
	run_db_command("var/test-restart", "--stop-db");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_from_empty_and_rerun),
		cmocka_unit_test(test_first_admin),
		cmocka_unit_test(test_login_page_and_headers),
		cmocka_unit_test(test_error_pages),
		cmocka_unit_test(test_assets_mime_and_cache),
		cmocka_unit_test(test_healthz_and_metrics),
		cmocka_unit_test(test_graceful_stop),
		cmocka_unit_test(test_postgres_restart),
	};

	return cmocka_run_group_tests(tests, start_shared, stop_shared);
}

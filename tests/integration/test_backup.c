/*
 * make backup / make restore, end to end: the test database (with whatever
 * the suites before this one wrote, plus rows made here) is dumped through
 * spanner-ctl --backup as an external `database`, restored with
 * spanner-ctl --restore into a brand-new embedded cluster (var/test-restore),
 * and then every table's rows — the audit trail included — are compared, a
 * real Kore server signs in against the restored copy and finds the same
 * data, and a second restore into the now non-empty database is refused
 * without touching it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "itest.h"

#define RESTORE_DIR "var/test-restore"
#define DUMP "var/test/backup-test.dump"

static char restored[512];

/* Runs spanner-ctl with env and args; its exit status, and its last stdout line in out. */
static int
ctl(const char *env, const char *args, char *out, size_t outlen)
{
	const char *bin = getenv("SPANNER_CTL");
	char cmd[1024], line[512];
	FILE *p;
	int status;

	snprintf(cmd, sizeof cmd, "env %s %s %s 2>>var/test/backup-test.log", env,
		 bin ? bin : "build/spanner-ctl", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (out)
		out[0] = '\0';
	while (fgets(line, sizeof line, p))
		if (out)
			snprintf(out, outlen, "%.*s", (int)strcspn(line, "\n"), line);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One fingerprint of a table's rows: count and md5 over them in a fixed order. */
static char *
fingerprint(PGconn *c, const char *table)
{
	char sql[512];
	PGresult *r;
	char *v;

	snprintf(sql, sizeof sql,
		 "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY "
		 "t::text)), '') FROM %s t",
		 table);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static int
setup(void **state)
{
	(void)state;
	if (!itest_conninfo())
		return -1;
	/* A fresh cluster every run. */
	ctl("SPANNER_VAR_DIR=" RESTORE_DIR, "--drop-db", NULL, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctl("SPANNER_VAR_DIR=" RESTORE_DIR, "--drop-db", NULL, 0);
	unlink(DUMP);
	return 0;
}

static void
test_backup_restores_every_row_and_the_audit_trail(void **state)
{
	static const char *const tables[] = {"users",
					     "user_roles",
					     "segments",
					     "offerings",
					     "companies",
					     "contacts",
					     "upload_batches",
					     "audit_logs",
					     "schema_migrations",
					     "role_permissions",
					     "segment_counts",
					     "company_contact_counts"};
	char env[1024], marker[64];
	const char *p[1] = {marker};
	PGconn *a, *b;
	size_t i;

	(void)state;
	/* Something only this run wrote, audit row included. */
	snprintf(marker, sizeof marker, "Backup marker %d", (int)getpid());
	itest_sql_ok("WITH a AS (SELECT id FROM users WHERE email = 'admin@example.com'), "
		     "s AS (INSERT INTO segments (name, description, created_by) SELECT $1, "
		     "'line one\nline two', a.id FROM a RETURNING id, created_by) INSERT INTO "
		     "audit_logs (actor_id, action, entity_type, entity_id, details) SELECT "
		     "created_by, 'create', 'segment', id, jsonb_build_object('name', $1::text) "
		     "FROM s",
		     1, p);

	snprintf(env, sizeof env, "'SPANNER_DATABASE=%s'", itest_conninfo());
	assert_int_equal(ctl(env, "--backup " DUMP, NULL, 0), 0);
	assert_int_equal(access(DUMP, R_OK), 0);
	assert_int_equal(
	    ctl("SPANNER_VAR_DIR=" RESTORE_DIR, "--restore " DUMP, restored, sizeof restored), 0);
	assert_non_null(strstr(restored, "host="));

	a = PQconnectdb(itest_conninfo());
	b = PQconnectdb(restored);
	assert_int_equal(PQstatus(a), CONNECTION_OK);
	assert_int_equal(PQstatus(b), CONNECTION_OK);
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char *fa = fingerprint(a, tables[i]), *fb = fingerprint(b, tables[i]);

		if (strcmp(fa, fb) != 0)
			fail_msg("%s differs after restore: %s against %s", tables[i], fa, fb);
		free(fa);
		free(fb);
	}
	PQfinish(a);
	PQfinish(b);
}

static void
test_restored_copy_serves_and_signs_in(void **state)
{
	char env_db[600], body[256], url[256], cookie[128], *token;
	/* Its own address: the copy carries the suites' failed sign-ins from loopback. */
	const char *env[] = {env_db, "SPANNER_TRUST_PROXY=1", NULL};
	const char *xff[] = {"X-Forwarded-For: 10.9.9.9", NULL};
	const char *h[] = {cookie, NULL};
	struct itest_server s;
	struct itest_resp r;

	(void)state;
	assert_true(restored[0]);
	snprintf(env_db, sizeof env_db, "SPANNER_DATABASE=%s", restored);
	assert_int_equal(itest_server_start(&s, "backup-restored", env), 0);
	snprintf(body, sizeof body, "email=admin@example.com&password=test-admin-password");
	assert_int_equal(itest_sign_in_post(s.base_url, body, xff, &r), 0);
	assert_int_equal(r.status, 303);
	token = itest_cookie(&r, "spanner_session");
	assert_non_null(token);
	itest_resp_free(&r);
	/* the marker segment made before the backup is there, line break and all */
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	snprintf(url, sizeof url, "%s/segments", s.base_url);
	assert_int_equal(itest_http("GET", url, h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Backup marker"));
	itest_resp_free(&r);
	free(token);
	itest_server_stop(&s);
}

static void
test_restore_refuses_a_database_in_use(void **state)
{
	PGconn *b;
	PGresult *r;
	long before, after;

	(void)state;
	b = PQconnectdb(restored);
	assert_int_equal(PQstatus(b), CONNECTION_OK);
	r = PQexec(b, "SELECT count(*) FROM audit_logs");
	before = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	/* exit 1: the database already holds tables, nothing changed */
	assert_int_equal(ctl("SPANNER_VAR_DIR=" RESTORE_DIR, "--restore " DUMP, NULL, 0), 1);
	r = PQexec(b, "SELECT count(*) FROM audit_logs");
	after = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_int_equal(before, after);
	assert_true(itest_file_contains("var/test/backup-test.log", "already holds"));
	/* a missing file is refused too */
	assert_int_not_equal(
	    ctl("SPANNER_VAR_DIR=" RESTORE_DIR, "--restore var/test/no-such.dump", NULL, 0), 0);
	PQfinish(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backup_restores_every_row_and_the_audit_trail),
	    cmocka_unit_test(test_restored_copy_serves_and_signs_in),
	    cmocka_unit_test(test_restore_refuses_a_database_in_use),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

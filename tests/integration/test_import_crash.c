/*
 * A server killed in the middle of an import loses nothing and doubles
 * nothing. A real server (one task worker, a 5-second job lease) is given a
 * 40,000-row company file; while the batch is `processing` and the worker has
 * reported progress, the server gets SIGKILL — no clean-up of any kind runs.
 * At that instant the batch has no companies at all (a batch is never
 * half-imported). A second server on the same database takes the job over
 * once the lease has run out and runs it from the start: the batch ends
 * `completed` with exactly the file's valid rows imported once each (counted
 * by batch id, no name twice) and its invalid rows kept with one error each —
 * or, should the job give up, `failed` with nothing imported. Never partial.
 *
 * Under Kore the import runs in a worker process, so the same promise is
 * checked twice: the whole server (Kore's parent and workers) killed and a
 * second server taking over; and only the worker running the job killed,
 * which Kore replaces, the job then finishing on the same server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/password.h"
#include "itest.h"

#define BOUNDARY "----spanner-crash-test-51c0de"
#define ROWS 40000
#define BAD_EVERY 500 /* every 500th row has a founded year that is not a year */
#define WAIT_SECONDS 300

static PGconn *pg;
static char run_id[64];
static char user_id[37], token[65], csrf[65];
static char seg_name[160];

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
sql_count(const char *sql, const char *batch)
{
	const char *p[1] = {batch};
	char *v = sql_value(sql, 1, p);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

static int
setup(void **state)
{
	char email[160], *id;
	const char *p[3];

	(void)state;
	snprintf(run_id, sizeof run_id, "%d-%lx", (int)getpid(), (unsigned long)time(NULL));
	pg = itest_pg();
	if (!pg)
		return -1;
	snprintf(email, sizeof email, "crash-%s@example.com", run_id);
	p[0] = email;
	id = sql_value("INSERT INTO users (email, name) VALUES ($1, 'Crash Tester') RETURNING id",
		       1, p);
	snprintf(user_id, sizeof user_id, "%s", id);
	free(id);
	p[0] = user_id;
	sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = "
	       "'Researcher'",
	       1, p);
	snprintf(seg_name, sizeof seg_name, "Crash %s Segment", run_id);
	p[0] = seg_name;
	p[1] = user_id;
	sql_ok("INSERT INTO segments (name, created_by) VALUES ($1, $2)", 2, p);
	password_random_hex(token, 32);
	password_random_hex(csrf, 32);
	p[0] = token;
	p[1] = user_id;
	p[2] = csrf;
	sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
	       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '2 hours')",
	       3, p);
	return 0;
}

/*
 * The test database lives on between runs: the 40,000 companies go again
 * (their job and audit rows stay). SPANNER_TEST_KEEP=1 keeps them.
 */
static int
teardown(void **state)
{
	static const char *const steps[] = {
	    "BEGIN",
	    "DELETE FROM upload_errors WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id = $1)",
	    "DELETE FROM upload_rows WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id = $1)",
	    "DELETE FROM companies WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id = $1)",
	    "DELETE FROM upload_files WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id = $1)",
	    "DELETE FROM upload_batches WHERE uploader_id = $1",
	    "COMMIT",
	};
	const char *p[1] = {user_id};
	size_t i;

	(void)state;
	for (i = 0; !getenv("SPANNER_TEST_KEEP") && i < sizeof steps / sizeof steps[0]; i++) {
		int params = strstr(steps[i], "$1") ? 1 : 0;
		PGresult *r =
		    PQexecParams(pg, steps[i], params, NULL, params ? p : NULL, NULL, NULL, 0);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok) {
			fprintf(stderr, "clean-up left the crash test's import in place: %s",
				PQerrorMessage(pg));
			PQclear(PQexec(pg, "ROLLBACK"));
			break;
		}
	}
	PQfinish(pg);
	return 0;
}

static json_t *
batch_json(const struct itest_server *s, const char *batch)
{
	char url[256], cookie[128];
	const char *headers[] = {cookie, "Accept: application/json", NULL};
	struct itest_resp r;
	json_t *j;

	snprintf(url, sizeof url, "%s/imports/%s", s->base_url, batch);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	if (itest_http("GET", url, headers, NULL, 0, &r) != 0 || r.status != 200)
		fail_msg("GET /imports/%s: %ld", batch, r.status);
	j = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_non_null(j);
	itest_resp_free(&r);
	return j;
}

static const char *
jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

static long
jint(json_t *j, const char *key)
{
	return (long)json_integer_value(json_object_get(j, key));
}

/* The Kore worker whose job thread holds the batch's job (jobs.locked_by: host/pid/nonce/n). */
static pid_t
job_worker_pid(const char *batch)
{
	const char *p[1] = {batch};
	char *by = sql_value("SELECT j.locked_by FROM jobs j JOIN upload_batches b ON b.job_id = "
			     "j.id WHERE b.id = $1",
			     1, p);
	char *slash = by ? strchr(by, '/') : NULL;
	pid_t pid = slash ? (pid_t)atol(slash + 1) : 0;

	free(by);
	return pid;
}

enum crash { CRASH_SERVER, CRASH_WORKER };

static void
sigkill_mid_import(enum crash crash)
{
	const char *env[] = {"SPANNER_JOB_LEASE=5", "SPANNER_TASK_THREADS=1", NULL};
	char url[256], cookie[128], batch[37] = "";
	const char *headers[] = {cookie, "Content-Type: multipart/form-data; boundary=" BOUNDARY,
				 NULL};
	struct itest_server a, b;
	struct itest_resp r;
	buf body = BUF_INIT;
	json_t *j = NULL;
	char *loc, *job;
	long valid = 0, invalid = 0, total, killed_at = -1;
	int i, status;
	pid_t worker = 0;

	/* the file: 40,000 distinct companies, one in 500 with a bad founded year */
	buf_printf(&body,
		   "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
		   "%s\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
		   "filename=\"crash.csv\"\r\nContent-Type: text/csv\r\n\r\n",
		   csrf);
	buf_puts(&body, "Company Name,Segment Name,Company Website,City,Founded Year\r\n");
	for (i = 1; i <= ROWS; i++) {
		int bad = i % BAD_EVERY == 0;

		buf_printf(&body, "Crash Company %06d,%s,crash%d.example.com,Leeds,%s\r\n", i,
			   seg_name, i, bad ? "nineteen" : "1990");
		if (bad)
			invalid++;
		else
			valid++;
	}
	buf_puts(&body, "\r\n--" BOUNDARY "--\r\n");

	assert_int_equal(itest_server_start(&a, "import-crash-a", env), 0);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	snprintf(url, sizeof url, "%s/imports/companies", a.base_url);
	assert_int_equal(itest_http("POST", url, headers, body.data, body.len, &r), 0);
	loc = itest_header(&r, "Location");
	if (r.status != 303 || !loc || strncmp(loc, "/imports/", 9) != 0)
		fail_msg("upload: %ld %s\n%.2000s", r.status, loc ? loc : "(no Location)",
			 r.body.data ? r.body.data : "");
	snprintf(batch, sizeof batch, "%s", loc + 9);
	free(loc);
	itest_resp_free(&r);

	/* wait until the worker is visibly at work on it, then kill the server outright */
	for (i = 0; i < WAIT_SECONDS * 50; i++) {
		j = batch_json(&a, batch);
		if (strcmp(jstr(j, "status"), "processing") != 0)
			fail_msg("the batch ended (%s) before the server could be killed: make the "
				 "file larger",
				 jstr(j, "status"));
		if (jint(j, "processed_rows") > 0)
			break;
		json_decref(j);
		j = NULL;
		usleep(20000);
	}
	assert_non_null(j);
	killed_at = jint(j, "processed_rows");
	json_decref(j);
	j = NULL;
	if (crash == CRASH_WORKER) {
		worker = job_worker_pid(batch);
		assert_true(worker > 0);
		assert_int_equal(kill(worker, SIGKILL), 0);
		print_message("killed worker %ld at %ld of %d rows processed\n", (long)worker,
			      killed_at, ROWS);
	} else {
		/* Kore's parent and its workers: the whole server, no clean-up anywhere. */
		assert_int_equal(kill(-a.pid, SIGKILL), 0);
		assert_int_equal(waitpid(a.pid, &status, 0), a.pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		a.pid = 0;
		print_message("killed the server at %ld of %d rows processed\n", killed_at, ROWS);
	}

	/* nothing of the batch is in companies: the import commits all at once or not at all */
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1", batch), 0);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_batches WHERE id = $1 AND status = "
				   "'processing'",
				   batch),
			 1);

	if (crash == CRASH_WORKER) {
		/* Kore replaces the worker; the same server runs the job again after its lease */
		b = a;
	} else {
		/* a new server on the same database takes the job over, from the start */
		assert_int_equal(itest_server_start(&b, "import-crash-b", env), 0);
	}
	for (i = 0; i < WAIT_SECONDS * 10; i++) {
		j = batch_json(&b, batch);
		if (strcmp(jstr(j, "status"), "processing") != 0)
			break;
		json_decref(j);
		j = NULL;
		usleep(100000);
	}
	if (!j)
		fail_msg("the batch is still processing %d s after the restart", WAIT_SECONDS);

	total = jint(j, "total_rows");
	if (strcmp(jstr(j, "status"), "completed") == 0) {
		assert_int_equal(total, ROWS);
		assert_int_equal(jint(j, "valid_rows"), valid);
		assert_int_equal(jint(j, "invalid_rows"), invalid);
		assert_int_equal(jint(j, "processed_rows"), ROWS);
		/* every valid row exactly once */
		assert_int_equal(
		    sql_count("SELECT count(*) FROM companies WHERE batch_id = $1", batch), valid);
		assert_int_equal(sql_count("SELECT count(DISTINCT name) FROM companies WHERE "
					   "batch_id = $1",
					   batch),
				 valid);
		/* every invalid row kept once, with its one error */
		assert_int_equal(
		    sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1", batch),
		    invalid);
		assert_int_equal(
		    sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1", batch),
		    invalid);
	} else {
		/* giving up is allowed; importing part of the file is not */
		assert_string_equal(jstr(j, "status"), "failed");
		assert_int_equal(
		    sql_count("SELECT count(*) FROM companies WHERE batch_id = $1", batch), 0);
		print_message("the batch failed after the crash: %s\n", jstr(j, "error_message"));
	}
	/* and it was indeed the same job, run a second time */
	{
		const char *p[1] = {batch};

		job = sql_value("SELECT j.attempts FROM jobs j JOIN upload_batches b ON b.job_id = "
				"j.id WHERE b.id = $1",
				1, p);
		assert_non_null(job);
		assert_true(atoi(job) >= 2);
		free(job);
	}
	if (crash == CRASH_WORKER) {
		/* the killed worker is gone and Kore runs a replacement */
		assert_int_equal(kill(worker, 0), -1);
	}
	json_decref(j);
	assert_int_equal(itest_server_stop(&b), 0);
	buf_free(&body);
}

static void
test_sigkill_mid_import(void **state)
{
	(void)state;
	sigkill_mid_import(CRASH_SERVER);
}

static void
test_worker_sigkill_mid_import(void **state)
{
	(void)state;
	sigkill_mid_import(CRASH_WORKER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sigkill_mid_import),
	    cmocka_unit_test(test_worker_sigkill_mid_import),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

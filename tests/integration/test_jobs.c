/*
 * Integration tests for src/core/jobs.c and src/domain/housekeeping.c against
 * a real PostgreSQL (SPANNER_TEST_CONNINFO, a freshly migrated database; every
 * test is skipped when it is not set).
 *
 * The crash tests are the point: a child process runs a worker, is killed
 * with SIGKILL in the middle of a job, and the parent shows that the job is
 * run again from the start (the killed run's rows rolled back with its
 * transaction) and completed exactly once, or given up after max_attempts.
 *
 * Timing: nothing here asserts that something is fast, only that it happens
 * within a generous bound. The NOTIFY test makes the idle poll 60 s long, so
 * completing within the bound shows the notification woke the worker.
 *
 * Every connection of this process carries application_name
 * spanner-test-jobs (PGAPPNAME), which lets the reconnect test kill exactly
 * our own backends. Rows are tagged so the tests can run again on the same
 * database; the scratch table test_jobs_rows is dropped at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/db.h"
#include "core/jobs.h"
#include "core/log.h"
#include "domain/housekeeping.h"

#define APPNAME "spanner-test-jobs"
#define LEASE 5	 /* seconds; short so the crash tests finish soon */
#define BOUND 60 /* seconds: the generous limit for anything to happen */

static const char *conninfo;
static db_conn *db; /* the test's own connection (autocommit) */
static atomic_int fail_gave_up;
static atomic_int slow_gave_up;

static void need_db(void);
static void sleep_ms(long ms);
static PGresult *q_va(const char *sql, int n, va_list ap);
static PGresult *q(const char *sql, int n, ...);
static void q_ok(const char *sql, int n, ...);
static long q_long(const char *sql, int n, ...);
static char *q_text(const char *sql, int n, ...);
static int wait_for(const char *sql, const char *id, int seconds);
static int wait_state(const char *id, const char *state, int seconds);
static void enqueue(const char *kind, const char *payload_json, char id[37]);
static long rows_of(const char *id, const char *what);
static pid_t crash_child_start(void);
static void crash_child_kill(pid_t pid);
static int record_row(struct job *job, const char *what);
static int run_echo(struct job *job);
static int run_fail(struct job *job);
static void give_up_fail(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static void give_up_broken(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static int run_slow(struct job *job);
static void give_up_slow(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static void *sched_thread(void *arg);
static int group_setup(void **state);
static int group_teardown(void **state);
static int test_setup(void **state);
static int test_teardown(void **state);

static const struct job_kind kind_echo = {"test.echo", run_echo, NULL};
static const struct job_kind kind_fail = {"test.fail", run_fail, give_up_fail};
static const struct job_kind kind_slow = {"test.slow", run_slow, give_up_slow};
static const struct job_kind kind_bad_give_up = {"test.bad-give-up", run_fail, give_up_broken};

/* ------------------------------------------------------------------ helpers */

/* Every test starts here: without a database it is reported as skipped. */
static void
need_db(void)
{
	if (!conninfo)
		skip();
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static PGresult *
q_va(const char *sql, int n, va_list ap)
{
	const char *p[8];
	PGresult *res;
	int i;

	for (i = 0; i < n && i < 8; i++)
		p[i] = va_arg(ap, const char *);
	res = PQexecParams(db_pg(db), sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("SQL failed: %s -- %s", PQresultErrorMessage(res), sql);
	return res;
}

static PGresult *
q(const char *sql, int n, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, n);
	res = q_va(sql, n, ap);
	va_end(ap);
	return res;
}

static void
q_ok(const char *sql, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	PQclear(q_va(sql, n, ap));
	va_end(ap);
}

/* The first column of the first row as a number (0 when NULL or no row). */
static long
q_long(const char *sql, int n, ...)
{
	PGresult *res;
	va_list ap;
	long v;

	va_start(ap, n);
	res = q_va(sql, n, ap);
	va_end(ap);
	v = PQntuples(res) ? atol(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return v;
}

/* The first column of the first row (NULL when NULL or no row); the caller frees it. */
static char *
q_text(const char *sql, int n, ...)
{
	PGresult *res;
	va_list ap;
	char *v = NULL;

	va_start(ap, n);
	res = q_va(sql, n, ap);
	va_end(ap);
	if (PQntuples(res) && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Polls sql (one parameter, the job id; true when it returns a row) every 20 ms. */
static int
wait_for(const char *sql, const char *id, int seconds)
{
	long waited;

	for (waited = 0; waited < seconds * 1000L; waited += 20) {
		PGresult *res = q(sql, 1, id);
		int hit = PQntuples(res) > 0;

		PQclear(res);
		if (hit)
			return 1;
		sleep_ms(20);
	}
	return 0;
}

static int
wait_state(const char *id, const char *state, int seconds)
{
	long waited;

	for (waited = 0; waited < seconds * 1000L; waited += 20) {
		char *s = q_text("SELECT state FROM jobs WHERE id = $1", 1, id);
		int hit = s && strcmp(s, state) == 0;

		free(s);
		if (hit)
			return 1;
		sleep_ms(20);
	}
	return 0;
}

static void
enqueue(const char *kind, const char *payload_json, char id[37])
{
	json_t *payload = payload_json ? json_loads(payload_json, 0, NULL) : NULL;

	assert_int_equal(jobs_enqueue(db, kind, payload, id), 0);
	json_decref(payload);
}

/* Committed rows the handlers wrote for job id (what: "run" or "gave_up"). */
static long
rows_of(const char *id, const char *what)
{
	return q_long("SELECT count(*) FROM test_jobs_rows WHERE job_id = $1 AND what = $2", 2, id,
		      what);
}

/*
 * A child process with one worker (lease LEASE s) that runs until killed.
 * It never touches `db`: that socket is shared with the parent after fork.
 */
static pid_t
crash_child_start(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (jobs_start(conninfo, 1, LEASE) != 0)
			_exit(3);
		for (;;)
			pause();
	}
	return pid;
}

static void
crash_child_kill(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* ------------------------------------------------------------------ test kinds */

static int
record_row(struct job *job, const char *what)
{
	DB_STMT(st_row, "INSERT INTO test_jobs_rows (job_id, attempt, what) VALUES ($1, $2, $3)");
	char attempt[16];
	const char *p[3] = {job->id, attempt, what};

	snprintf(attempt, sizeof attempt, "%d", job->attempt);
	return db_run(job->db, &st_row, 3, p);
}

static int
run_echo(struct job *job)
{
	if (record_row(job, "run") != 0)
		return JOBS_FAILED;
	job->result = json_pack("{s:O?}", "echo", json_object_get(job->payload, "value"));
	return JOBS_DONE;
}

static int
run_fail(struct job *job)
{
	if (record_row(job, "run") != 0)
		return JOBS_FAILED;
	jobs_set_error(job, "boom %d", 42);
	return JOBS_FAILED;
}

static void
give_up_fail(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	DB_STMT(st_gave_up, "INSERT INTO test_jobs_rows (job_id, attempt, what) "
			    "VALUES ($1, 0, 'gave_up')");
	const char *p[1] = {job_id};

	atomic_fetch_add(&fail_gave_up, 1);
	db_run(tx, &st_gave_up, 1, p);
}

/* A give_up whose write fails: the job must still end failed, saying so. */
static void
give_up_broken(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	DB_STMT(st_bad, "INSERT INTO test_jobs_rows (job_id, attempt, what) VALUES ($1, 0, NULL)");
	const char *p[1] = {job_id};

	db_run(tx, &st_bad, 1, p);
}

/* Inserts a row, then works in steps (payload steps, step_ms), reporting progress. */
static int
run_slow(struct job *job)
{
	int steps = (int)json_integer_value(json_object_get(job->payload, "steps"));
	int step_ms = (int)json_integer_value(json_object_get(job->payload, "step_ms"));
	int i;

	if (record_row(job, "run") != 0)
		return JOBS_FAILED;
	for (i = 1; i <= steps; i++) {
		sleep_ms(step_ms);
		jobs_progress(job, json_pack("{s:i, s:i}", "step", i, "of", steps));
		if (jobs_should_stop(job))
			return JOBS_INTERRUPTED;
	}
	job->result = json_pack("{s:i}", "steps", steps);
	return JOBS_DONE;
}

static void
give_up_slow(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	DB_STMT(st_gave_up, "INSERT INTO test_jobs_rows (job_id, attempt, what) "
			    "VALUES ($1, 0, 'gave_up')");
	const char *p[1] = {job_id};

	atomic_fetch_add(&slow_gave_up, 1);
	db_run(tx, &st_gave_up, 1, p);
}

/* ------------------------------------------------------------------ tests */

/* A queued job is run by a worker and ends done with its result and its rows. */
static void
test_enqueue_runs_job(void **state)
{
	char id[37];
	char *echo;

	need_db();
	assert_int_equal(jobs_start(conninfo, 2, LEASE), 0);
	enqueue("test.echo", "{\"value\":\"hello\"}", id);
	assert_true(wait_state(id, "done", BOUND));
	echo = q_text("SELECT result->>'echo' FROM jobs WHERE id = $1", 1, id);
	assert_non_null(echo);
	assert_string_equal(echo, "hello");
	free(echo);
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 1);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE id = $1 AND lease_until IS NULL "
				"AND finished_at IS NOT NULL AND error IS NULL",
				1, id),
			 1);
	assert_int_equal(rows_of(id, "run"), 1);
	jobs_stop(10);
}

/* A job queued inside a transaction exists only if that transaction commits. */
static void
test_enqueue_follows_transaction(void **state)
{
	char id[37];

	need_db();
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	q_ok("BEGIN", 0);
	enqueue("test.echo", NULL, id);
	q_ok("ROLLBACK", 0);
	sleep_ms(300);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE id = $1", 1, id), 0);

	q_ok("BEGIN", 0);
	enqueue("test.echo", "{\"value\":\"committed\"}", id);
	sleep_ms(300); /* invisible to the worker until COMMIT */
	q_ok("COMMIT", 0);
	assert_true(wait_state(id, "done", BOUND));
	assert_int_equal(rows_of(id, "run"), 1);
	jobs_stop(10);
}

/* run() failing: rolled back, marked failed with its error, give_up() once, no retry. */
static void
test_handler_failure(void **state)
{
	char id[37];
	char *error;

	need_db();
	atomic_store(&fail_gave_up, 0);
	assert_int_equal(jobs_start(conninfo, 2, LEASE), 0);
	enqueue("test.fail", NULL, id);
	assert_true(wait_state(id, "failed", BOUND));
	error = q_text("SELECT error FROM jobs WHERE id = $1", 1, id);
	assert_non_null(error);
	assert_string_equal(error, "boom 42");
	free(error);
	sleep_ms(LEASE * 1000 + 2500); /* long enough for a (wrong) retry to show */
	assert_int_equal(atomic_load(&fail_gave_up), 1);
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 1);
	assert_int_equal(rows_of(id, "run"), 0);     /* the handler's insert was rolled back */
	assert_int_equal(rows_of(id, "gave_up"), 1); /* give_up's insert committed with it */
	jobs_stop(10);
}

/* give_up() failing does not leave the job running: failed, with both reasons. */
static void
test_give_up_failure(void **state)
{
	char id[37];
	char *error;

	need_db();
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue("test.bad-give-up", NULL, id);
	assert_true(wait_state(id, "failed", BOUND));
	error = q_text("SELECT error FROM jobs WHERE id = $1", 1, id);
	assert_non_null(error);
	assert_non_null(strstr(error, "boom 42 (and recording the failure failed: "));
	assert_non_null(strstr(error, "not-null"));
	free(error);
	assert_int_equal(q_long("SELECT count(*) FROM test_jobs_rows WHERE job_id = $1", 1, id), 0);
	jobs_stop(10);
}

/* Progress is visible to others while the job's own writes are not yet. */
static void
test_progress_visible_while_running(void **state)
{
	char id[37];

	need_db();
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue("test.slow", "{\"steps\":30,\"step_ms\":100}", id);
	assert_true(wait_for("SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' "
			     "AND (progress->>'step')::int >= 1",
			     id, BOUND));
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'running' "
				"AND progress->>'of' = '30'",
				1, id),
			 1);
	assert_int_equal(rows_of(id, "run"), 0); /* inserted, but not committed yet */
	assert_true(wait_state(id, "done", BOUND));
	assert_int_equal(rows_of(id, "run"), 1);
	assert_int_equal(q_long("SELECT (result->>'steps')::int FROM jobs WHERE id = $1", 1, id),
			 30);
	jobs_stop(10);
}

/* With a 60 s idle poll, a job done well within it was started by the NOTIFY. */
static void
test_notify_wakes_idle_worker(void **state)
{
	char id[37];
	time_t t0;

	need_db();
	jobs_set_idle_wait(60000);
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	sleep_ms(1000); /* the worker has looked once and sleeps now */
	t0 = time(NULL);
	enqueue("test.echo", NULL, id);
	assert_true(wait_state(id, "done", 30));
	assert_true(time(NULL) - t0 < 30);
	jobs_stop(10);
	jobs_set_idle_wait(2000);
}

/* jobs_stop() interrupts a running job: rolled back and queued again, attempt given back. */
static void
test_stop_requeues_running_job(void **state)
{
	char id[37];

	need_db();
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue("test.slow", "{\"steps\":20,\"step_ms\":100}", id);
	assert_true(
	    wait_for("SELECT 1 FROM jobs WHERE id = $1 AND progress IS NOT NULL", id, BOUND));
	jobs_stop(10);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'queued' "
				"AND attempts = 0 AND locked_by IS NULL AND lease_until IS NULL",
				1, id),
			 1);
	assert_int_equal(rows_of(id, "run"), 0);

	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	assert_true(wait_state(id, "done", BOUND));
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 1);
	assert_int_equal(rows_of(id, "run"), 1);
	jobs_stop(10);
}

/*
 * The worker process is killed mid-job. The job keeps its expired lease, is
 * claimed again by a new worker, runs from the start and completes once:
 * the killed run's insert died with its transaction.
 */
static void
test_crash_reruns_job(void **state)
{
	char id[37];
	char *first, *second;
	pid_t child;

	need_db();
	enqueue("test.slow", "{\"steps\":40,\"step_ms\":100}", id);
	child = crash_child_start();
	assert_true(wait_for("SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' "
			     "AND progress IS NOT NULL",
			     id, BOUND));
	crash_child_kill(child);

	first = q_text("SELECT locked_by FROM jobs WHERE id = $1", 1, id);
	assert_non_null(first);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'running' "
				"AND attempts = 1",
				1, id),
			 1);
	assert_int_equal(rows_of(id, "run"), 0);

	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	assert_true(wait_state(id, "done", BOUND));
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 2);
	second = q_text("SELECT locked_by FROM jobs WHERE id = $1", 1, id);
	assert_non_null(second);
	assert_string_not_equal(first, second);
	/* Exactly one committed row, from the run that completed. */
	assert_int_equal(rows_of(id, "run"), 1);
	assert_int_equal(q_long("SELECT attempt FROM test_jobs_rows WHERE job_id = $1", 1, id), 2);
	assert_int_equal(q_long("SELECT (result->>'steps')::int FROM jobs WHERE id = $1", 1, id),
			 40);
	free(first);
	free(second);
	jobs_stop(10);
}

/* A job that killed its worker max_attempts times is failed, with give_up(). */
static void
test_crash_gives_up_after_max_attempts(void **state)
{
	char id[37];
	char *error;
	pid_t child;

	need_db();
	atomic_store(&slow_gave_up, 0);
	enqueue("test.slow", "{\"steps\":40,\"step_ms\":100}", id);
	q_ok("UPDATE jobs SET max_attempts = 1 WHERE id = $1", 1, id);
	child = crash_child_start();
	assert_true(
	    wait_for("SELECT 1 FROM jobs WHERE id = $1 AND progress IS NOT NULL", id, BOUND));
	crash_child_kill(child);

	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	assert_true(wait_state(id, "failed", BOUND));
	error = q_text("SELECT error FROM jobs WHERE id = $1", 1, id);
	assert_non_null(error);
	assert_string_equal(error, "worker stopped 1 time while running this job");
	free(error);
	assert_int_equal(atomic_load(&slow_gave_up), 1);
	assert_int_equal(rows_of(id, "run"), 0);
	assert_int_equal(rows_of(id, "gave_up"), 1);
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 2);
	jobs_stop(10);
}

/*
 * Another worker took the job over (as after a lease expiry): the first one
 * must neither complete it nor keep its writes. Then the lease the "other
 * worker" never renews runs out and the job is run once more, properly.
 */
static void
test_lease_takeover_discards_work(void **state)
{
	char id[37];

	need_db();
	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue("test.slow", "{\"steps\":20,\"step_ms\":100}", id);
	assert_true(
	    wait_for("SELECT 1 FROM jobs WHERE id = $1 AND progress IS NOT NULL", id, BOUND));
	q_ok("UPDATE jobs SET locked_by = 'someone-else' WHERE id = $1", 1, id);
	assert_true(wait_state(id, "done", BOUND));
	assert_int_equal(q_long("SELECT attempts FROM jobs WHERE id = $1", 1, id), 2);
	assert_int_equal(rows_of(id, "run"), 1);
	assert_int_equal(q_long("SELECT attempt FROM test_jobs_rows WHERE job_id = $1", 1, id), 2);
	jobs_stop(10);
}

/* The workers survive their connections being killed (as by a PostgreSQL restart). */
static void
test_reconnects_after_connection_loss(void **state)
{
	char id[37];

	need_db();
	assert_int_equal(jobs_start(conninfo, 2, LEASE), 0);
	sleep_ms(500);
	assert_true(q_long("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
			   "WHERE application_name = $1 AND pid <> pg_backend_pid()",
			   1, APPNAME) >= 5); /* 2 workers x 2 + the keeper */
	enqueue("test.echo", "{\"value\":\"again\"}", id);
	assert_true(wait_state(id, "done", BOUND));
	jobs_stop(10);
}

struct sched_arg {
	pthread_barrier_t *barrier;
	db_conn *c;
	int queued;
};

static void *
sched_thread(void *arg)
{
	struct sched_arg *a = arg;

	pthread_barrier_wait(a->barrier);
	a->queued = jobs_scheduler_tick(a->c);
	return NULL;
}

/* Two schedulers (own connections) ticking together queue a due job exactly once. */
static void
test_scheduler_queues_once(void **state)
{
	pthread_barrier_t barrier;
	struct sched_arg a[2];
	pthread_t t[2];
	PGresult *res;
	int round, i;

	need_db();
	assert_int_equal(jobs_schedule("test.sched", "*/5 * * * *"), 0);
	assert_int_equal(jobs_schedule("test.sched", "not cron"), -1);
	for (i = 0; i < 2; i++) {
		a[i].barrier = &barrier;
		a[i].c = db_connect(conninfo);
		assert_non_null(a[i].c);
	}
	/* The first pass only creates the schedule's row, for the next matching minute. */
	assert_int_equal(jobs_scheduler_tick(a[0].c), 0);
	assert_int_equal(q_long("SELECT count(*) FROM job_schedules WHERE kind = 'test.sched' "
				"AND next_run_at > now() "
				"AND next_run_at <= now() + interval '5 minutes'",
				0),
			 1);

	pthread_barrier_init(&barrier, NULL, 2);
	for (round = 0; round < 20; round++) {
		q_ok("DELETE FROM jobs WHERE kind = 'test.sched'", 0);
		q_ok("UPDATE job_schedules SET next_run_at = now() - interval '1 minute' "
		     "WHERE kind = 'test.sched'",
		     0);
		for (i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, sched_thread, &a[i]), 0);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		assert_true(a[0].queued >= 0 && a[1].queued >= 0);
		assert_int_equal(a[0].queued + a[1].queued, 1);
		assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE kind = 'test.sched'", 0),
				 1);
		assert_int_equal(q_long("SELECT count(*) FROM job_schedules WHERE kind = "
					"'test.sched' AND next_run_at > now() "
					"AND last_enqueued_at IS NOT NULL",
					0),
				 1);
	}
	pthread_barrier_destroy(&barrier);

	/* Due again while the last run is still queued: no second run piles up. */
	q_ok("UPDATE job_schedules SET next_run_at = now() - interval '1 minute' "
	     "WHERE kind = 'test.sched'",
	     0);
	assert_int_equal(jobs_scheduler_tick(a[0].c), 0);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE kind = 'test.sched'", 0), 1);
	assert_int_equal(q_long("SELECT count(*) FROM job_schedules WHERE kind = 'test.sched' "
				"AND next_run_at > now()",
				0),
			 1);

	/* A schedule changed to run sooner is pulled in, not left at its old time. */
	q_ok("UPDATE job_schedules SET next_run_at = now() + interval '3 days' "
	     "WHERE kind = 'test.sched'",
	     0);
	assert_int_equal(jobs_scheduler_tick(a[0].c), 0);
	assert_int_equal(q_long("SELECT count(*) FROM job_schedules WHERE kind = 'test.sched' "
				"AND next_run_at <= now() + interval '5 minutes'",
				0),
			 1);

	/*
	 * While another process holds the scheduler's lock (the key is jobs.c's
	 * JOBS_SCHED_LOCK_KEY), a pass does nothing and does not wait for it.
	 */
	q_ok("UPDATE job_schedules SET next_run_at = now() - interval '1 minute' "
	     "WHERE kind = 'test.sched'",
	     0);
	q_ok("DELETE FROM jobs WHERE kind = 'test.sched'", 0);
	assert_int_equal(db_begin(a[1].c), 0);
	res = db_exec_sql(a[1].c, "SELECT pg_advisory_xact_lock(6012412629466051073)");
	assert_non_null(res);
	PQclear(res);
	assert_int_equal(jobs_scheduler_tick(a[0].c), 0);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE kind = 'test.sched'", 0), 0);
	db_rollback(a[1].c);
	assert_int_equal(jobs_scheduler_tick(a[0].c), 1);
	assert_int_equal(q_long("SELECT count(*) FROM jobs WHERE kind = 'test.sched'", 0), 1);

	assert_int_equal(jobs_schedule("test.sched", "off"), 0);
	for (i = 0; i < 2; i++)
		db_close(a[i].c);
}

/* sessions.purge deletes expired sessions and long-expired reset links, nothing else. */
static void
test_purge_sessions(void **state)
{
	char id[37];
	char *user;
	long sessions, resets;

	need_db();
	user = q_text("INSERT INTO users (email, name) VALUES ($1, 'Jobs Test') RETURNING id", 1,
		      "jobs-test-purge@example.com");
	assert_non_null(user);
	q_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip) "
	     "SELECT sha256(gen_random_uuid()::text::bytea), $1, 'csrf', now() + e, t "
	     "FROM (VALUES (interval '-1 hour', 'expired'), (interval '-1 second', 'expired'), "
	     "(interval '1 hour', 'live')) v (e, t)",
	     1, user);
	q_ok("INSERT INTO password_resets (token_hash, user_id, expires_at) "
	     "SELECT sha256(gen_random_uuid()::text::bytea), $1, now() + e "
	     "FROM unnest(ARRAY[interval '-2 days', interval '-1 hour', interval '1 hour']) e",
	     1, user);

	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue(HOUSEKEEPING_PURGE_KIND, NULL, id);
	assert_true(wait_state(id, "done", BOUND));
	jobs_stop(10);

	assert_int_equal(
	    q_long("SELECT count(*) FROM sessions WHERE user_id = $1 AND ip = 'live'", 1, user), 1);
	assert_int_equal(q_long("SELECT count(*) FROM sessions WHERE user_id = $1", 1, user), 1);
	assert_int_equal(q_long("SELECT count(*) FROM password_resets WHERE user_id = $1 "
				"AND expires_at > now() - interval '1 day'",
				1, user),
			 2);
	assert_int_equal(q_long("SELECT count(*) FROM password_resets WHERE user_id = $1", 1, user),
			 2);
	/* Other tests may have left expired rows too: at least ours were counted. */
	sessions =
	    q_long("SELECT (result->>'sessions_deleted')::int FROM jobs WHERE id = $1", 1, id);
	resets = q_long("SELECT (result->>'resets_deleted')::int FROM jobs WHERE id = $1", 1, id);
	assert_true(sessions >= 2);
	assert_true(resets >= 1);

	q_ok("DELETE FROM jobs WHERE id = $1", 1, id);
	q_ok("DELETE FROM users WHERE id = $1", 1, user);
	free(user);
}

/*
 * counts.compact folds the stored counts' difference rows to one per count
 * and changes no count (migrations/0012).
 */
static void
test_compact_counts(void **state)
{
	char id[37];
	char *user, *seg;

	need_db();
	user = q_text("INSERT INTO users (email, name) VALUES ($1, 'Jobs Test') RETURNING id", 1,
		      "jobs-test-compact@example.com");
	assert_non_null(user);
	seg = q_text("INSERT INTO segments (name, created_by) VALUES ('Jobs compact segment', $1) "
		     "RETURNING id",
		     1, user);
	assert_non_null(seg);
	/* Five statements: five difference rows for the same count. */
	for (int i = 0; i < 5; i++)
		q_ok("INSERT INTO companies (name, segment_id, created_by) VALUES ('Compact Co', "
		     "$1, "
		     "(SELECT created_by FROM segments WHERE id = $1))",
		     1, seg);
	assert_int_equal(
	    q_long("SELECT count(*) FROM segment_counts WHERE segment_id = $1", 1, seg), 5);

	assert_int_equal(jobs_start(conninfo, 1, LEASE), 0);
	enqueue(HOUSEKEEPING_COMPACT_KIND, NULL, id);
	assert_true(wait_state(id, "done", BOUND));
	jobs_stop(10);

	assert_int_equal(
	    q_long("SELECT count(*) FROM segment_counts WHERE segment_id = $1", 1, seg), 1);
	assert_int_equal(q_long("SELECT n FROM segment_counts WHERE segment_id = $1", 1, seg), 5);
	assert_true(q_long("SELECT (result->>'count_rows_folded')::int FROM jobs WHERE id = $1", 1,
			   id) >= 4);
	assert_int_equal(q_long("SELECT count(*) FROM counts_differences()", 0), 0);

	q_ok("DELETE FROM jobs WHERE id = $1", 1, id);
	q_ok("DELETE FROM companies WHERE segment_id = $1", 1, seg);
	q_ok("DELETE FROM segments WHERE id = $1", 1, seg);
	q_ok("DELETE FROM users WHERE id = $1", 1, user);
	free(seg);
	free(user);
}

/* ------------------------------------------------------------------ fixtures */

static int
group_setup(void **state)
{
	conninfo = getenv("SPANNER_TEST_CONNINFO");
	if (!conninfo || !*conninfo) {
		fprintf(stderr, "test_jobs: SPANNER_TEST_CONNINFO is not set; skipping "
				"(it needs a migrated PostgreSQL database)\n");
		conninfo = NULL;
		return 0;
	}
	setenv("PGAPPNAME", APPNAME, 1);
	log_init(LOG_FORMAT_TEXT);
	db = db_connect(conninfo);
	if (!db)
		return -1;
	if (jobs_register(&kind_echo) || jobs_register(&kind_fail) || jobs_register(&kind_slow) ||
	    jobs_register(&kind_bad_give_up) || housekeeping_register())
		return -1;
	/* The hourly purge must not run on its own in the middle of the tests. */
	jobs_schedule(HOUSEKEEPING_PURGE_KIND, "off");
	jobs_schedule(HOUSEKEEPING_COMPACT_KIND, "off");
	q_ok("DROP TABLE IF EXISTS test_jobs_rows", 0);
	q_ok("CREATE TABLE test_jobs_rows (job_id uuid NOT NULL, "
	     "attempt integer NOT NULL, what text NOT NULL)",
	     0);
	return 0;
}

static int
group_teardown(void **state)
{
	if (!db)
		return 0;
	q_ok("DROP TABLE IF EXISTS test_jobs_rows", 0);
	q_ok("DELETE FROM jobs WHERE kind LIKE 'test.%'", 0);
	q_ok("DELETE FROM job_schedules WHERE kind LIKE 'test.%'", 0);
	db_close(db);
	db = NULL;
	return 0;
}

static int
test_setup(void **state)
{
	if (!conninfo)
		return 0;
	/* Leftovers of an earlier, failed run must not be claimed by this one's workers. */
	q_ok("DELETE FROM jobs WHERE kind LIKE 'test.%'", 0);
	q_ok("DELETE FROM users WHERE email = 'jobs-test-purge@example.com'", 0);
	q_ok("TRUNCATE test_jobs_rows", 0);
	return 0;
}

static int
test_teardown(void **state)
{
	jobs_stop(10); /* a failed assertion may have left workers running */
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enqueue_runs_job, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_enqueue_follows_transaction, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_handler_failure, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_give_up_failure, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_progress_visible_while_running, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_notify_wakes_idle_worker, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_stop_requeues_running_job, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_crash_reruns_job, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_crash_gives_up_after_max_attempts, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_takeover_discards_work, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_reconnects_after_connection_loss, test_setup,
					    test_teardown),
	    cmocka_unit_test_setup_teardown(test_scheduler_queues_once, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_purge_sessions, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_compact_counts, test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

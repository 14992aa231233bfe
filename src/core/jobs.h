/*
 * jobs — durable background jobs: a queue in the `jobs` table, task worker
 * threads, and a scheduler for periodic jobs.
 *
 * A job is finished in one transaction or re-run from the start. The worker
 * opens a transaction on its own connection, the handler does all its data
 * work inside it, and the worker marks the job done in that same transaction:
 * if the process dies at any instant, either everything (the handler's rows
 * and the `done`) is committed, or nothing is and the job is run again once
 * its lease has expired.
 *
 * Inside Kore, each worker process runs these threads next to its event
 * loop (started in kore_worker_configure). They are threads of their own,
 * not Kore tasks, on purpose: Kore 4.1 hands a queued task to its task
 * threads in turn whatever each is doing, so a job loop (or a 3-second
 * import) held by a task thread would stall every Argon2 check queued behind
 * it on that thread. Kore's task threads stay free for short request work.
 *
 * Use:
 *   jobs_register(&my_kind);                 every kind, before jobs_start
 *   jobs_schedule("sessions.purge", "17 * * * *");   periodic ones
 *   jobs_start(conninfo, cfg.task_threads, cfg.job_lease);
 *   ...  jobs_enqueue(conn, "import.companies", payload, id);  (inside a request's transaction)
 *   jobs_stop(10);
 */
#ifndef SPANNER_JOBS_H
#define SPANNER_JOBS_H

#include <jansson.h>

#include "db.h"

/* What a handler's run() returns. Any other non-zero value counts as JOBS_FAILED. */
enum jobs_outcome {
	JOBS_DONE = 0,	     /* commit the work and mark the job done (with job->result) */
	JOBS_FAILED = -1,    /* roll the work back and mark the job failed (with job->error) */
	JOBS_INTERRUPTED = 1 /* jobs_should_stop() said so: roll back, run again from the start */
};

struct jobs_worker; /* private */

/* The job a handler is given. Valid only during run(). */
struct job {
	char id[37];
	const char *kind;
	json_t *payload; /* borrowed; an empty object when the job has none */
	int attempt;	 /* 1 on the first run, 2 when a worker died running it once, ... */
	/*
	 * The work connection, already inside BEGIN. Do all data work here and
	 * never COMMIT or ROLLBACK: the worker does, together with the job's own
	 * state. Do not update this job's own row here (jobs_progress() does it
	 * on another connection and would wait for this transaction forever);
	 * inserting rows that reference it (a job_id foreign key) is fine.
	 */
	db_conn *db;
	json_t *result; /* set by run(); the job owns the reference; stored when done */
	char *error;	/* set with jobs_set_error(); stored when failed */
	struct jobs_worker *worker;
};

struct job_kind {
	const char *name; /* e.g. "sessions.purge"; must outlive the process's jobs */
	int (*run)(struct job *job);
	/*
	 * Optional. Called inside the transaction (tx, on the work connection)
	 * that marks the job failed — after run() failed, or when workers died
	 * running it max_attempts times — so a domain row (an import batch, say)
	 * can be marked failed atomically with the job. Its writes must succeed:
	 * if they fail, the job is marked failed without them and an error is
	 * logged.
	 */
	void (*give_up)(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
};

/* Registers a kind (copied). Before jobs_start. 0, or -1 (logged) on a duplicate or bad kind. */
int jobs_register(const struct job_kind *kind);

/*
 * Runs kind periodically on a 5-field cron expression (UTC); "off" (or NULL
 * or "") removes the schedule. May be called while running. 0, or -1
 * (logged) when the expression is invalid.
 */
int jobs_schedule(const char *kind, const char *cron_expr);

/*
 * Runs kind on the schedule stored in the settings row `setting` (a cron
 * expression or "off"), read at every scheduler pass so that a change made on
 * one server reaches them all; default_expr (or "off") while there is no row.
 * Whoever changes the row should delete the kind's job_schedules row in the
 * same transaction, so the next pass computes the next run from the new
 * expression. 0, or -1 (logged) when default_expr is invalid.
 */
int jobs_schedule_setting(const char *kind, const char *setting, const char *default_expr);

/*
 * Starts `threads` workers (0: this process only runs the scheduler) and the
 * keeper thread (lease heartbeats, scheduler) on their own connections to
 * conninfo. lease_seconds (at least 2) is how long a claimed job stays
 * reserved after its worker's last sign of life. 0, or -1 (logged).
 */
int jobs_start(const char *conninfo, int threads, int lease_seconds);

/*
 * Stops claiming jobs and asks running handlers to stop (jobs_should_stop);
 * waits up to wait_seconds for them. A handler still running then has its
 * job put back in the queue for another process and is abandoned (its
 * transaction dies with the process).
 */
void jobs_stop(int wait_seconds);

/*
 * Queues a job. c may be inside the caller's open transaction: the job then
 * commits (and its wake-up NOTIFY is delivered) together with the caller's
 * rows, or not at all. payload is borrowed (NULL: empty object). id_out
 * (may be NULL) receives the job's id. 0, or -1 with the error on c.
 */
int jobs_enqueue(db_conn *c, const char *kind, json_t *payload, char id_out[37]);

/*
 * Records progress (takes the reference) where pages polling the job see it
 * at once, and renews the lease. Writes are throttled to a few a second.
 * 0, or -1 when the job has lost its lease (run() should return).
 */
int jobs_progress(struct job *job, json_t *progress);

/* Non-zero when run() should give up early and return JOBS_INTERRUPTED. */
int jobs_should_stop(const struct job *job);

/* Sets job->error (printf-style), the message stored when run() fails. */
void jobs_set_error(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One scheduler pass on c (autocommit): under a PostgreSQL advisory lock,
 * queues every registered schedule that is due and advances it. The keeper
 * thread calls it every 30 s; exposed for tests. Number of jobs queued, or -1.
 */
int jobs_scheduler_tick(db_conn *c);

/* How long an idle worker sleeps between checks when no NOTIFY arrives (default 2000 ms). */
void jobs_set_idle_wait(int milliseconds);

#endif

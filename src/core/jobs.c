/*
 * jobs — the durable task queue, its worker threads and the scheduler.
 *
 * The idea: PostgreSQL is the only place a job lives, and a job's work and
 * its completion commit in one transaction, so whatever instant the process
 * dies at, a job is either finished or will be run again from the start.
 *
 * Each worker thread owns two connections:
 *
 *   control  autocommit. LISTENs on spanner_jobs, claims jobs, writes
 *            progress. Its writes are visible at once, while the work runs.
 *   work     the worker opens a transaction here before calling the
 *            handler's run(); the handler does all its data work in it; the
 *            worker then marks the job done in the same transaction and
 *            commits.
 *
 * Claiming is one UPDATE over a SELECT ... FOR UPDATE SKIP LOCKED, so any
 * number of threads in any number of processes never claim one job twice.
 * A claim stamps the job with the worker's name (locked_by), increments
 * attempts and sets a lease (lease_until). Every later write about the job is
 * guarded by WHERE id AND locked_by AND attempts AND state = 'running': if
 * the lease ran out and another worker took the job over, the guard matches
 * no row and the late worker rolls its work back instead of completing the
 * job a second time. That is what makes completion exactly-once.
 *
 * A claimed job whose worker died keeps state 'running' with a lease in the
 * past, which makes it claimable again (attempts + 1). When attempts would
 * exceed max_attempts, the job is marked failed instead ("worker stopped N
 * times") and the kind's give_up() runs in that same transaction. A handler
 * that reports failure is not retried: its error is final. Only crashes,
 * lost database connections and jobs_stop() send a job round again.
 *
 * Leases are renewed by one keeper thread per process (every lease/3) on its
 * own connection. Choosing one keeper over a heartbeat thread per worker
 * costs one connection instead of sharing each worker's control connection
 * between two threads under a mutex: no libpq connection is ever used by two
 * threads here. The keeper also runs the scheduler every 30 s: under a
 * transaction-level advisory lock, it queues the due periodic jobs and
 * advances job_schedules.next_run_at, so with any number of server processes
 * each due run is queued once.
 *
 * Idle workers sleep in poll() on the control connection's socket (a NOTIFY
 * wakes them at once) and on an eventfd written by jobs_stop(), with a
 * timeout so expired leases and future run_at are noticed without any
 * notification. A broken connection (PostgreSQL restart) is re-opened with
 * backoff and logged once per outage; nothing here exits the process.
 */
#include "jobs.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cron.h"
#include "log.h"

#define JOBS_MAX_KINDS 32
#define JOBS_MAX_SCHEDULES 32
#define JOBS_KIND_MAX 100 /* the jobs_kind_check constraint */
/* Ticks of the keeper: lease renewals are checked this often. */
#define JOBS_KEEPER_STEP_MS 250
#define JOBS_SCHED_EVERY_MS 30000
/* Pages poll progress once a second; writing it more often only costs round trips. */
#define JOBS_PROGRESS_MIN_MS 200
#define JOBS_BACKOFF_MIN_MS 250
#define JOBS_BACKOFF_MAX_MS 10000
/*
 * The advisory lock key of the scheduler: "Spanner" followed by 0x01 as a
 * big-endian 64-bit number. Any fixed value works; one that spells the
 * project's name will not collide with another application's keys by chance.
 */
#define JOBS_SCHED_LOCK_KEY "6012412629466051073"

struct jobs_schedule_entry {
	char kind[JOBS_KIND_MAX + 1];
	struct cron cron;
	int has_cron; /* 0: the expression is "off" (a setting may turn it on) */
	/*
	 * jobs_schedule_setting: the settings row read at every pass, so a change
	 * made on one server reaches every server; the expression above is the
	 * default while the row is absent.
	 */
	char setting[JOBS_KIND_MAX + 1];
};

struct jobs_rt;

/* One worker thread and, for the keeper, the job it is running. */
struct jobs_worker {
	struct jobs_rt *rt;
	int index;
	pthread_t thread;
	char name[192]; /* locked_by: host/pid/nonce/index */
	db_conn *ctl;	/* used by the worker thread only */
	db_conn *work;	/* used by the worker thread only */
	int down;	/* an outage has been logged and not yet its end */
	long long progress_ms;

	/* The running job, read by the keeper; guarded by lock. */
	pthread_mutex_t lock;
	int active;
	char job_id[37];
	int attempts;
	long long beat_ms; /* when the lease was last renewed (monotonic ms) */
	atomic_int lost;   /* the lease was found taken over: run() should stop */
};

/* Everything one jobs_start() created. */
struct jobs_rt {
	char *conninfo;
	int lease;   /* seconds */
	char *kinds; /* the registered kinds as a text[] literal, for the claim */
	int stopfd;  /* eventfd, readable (and never read) once jobs_stop() was called */
	atomic_int stopping;
	int nworkers;
	struct jobs_worker *workers;

	pthread_t keeper;
	pthread_mutex_t keeper_lock;
	pthread_cond_t keeper_cond;
	int keeper_quit; /* guarded by keeper_lock */
	db_conn *keeper_db;
	int keeper_down;
};

/* A job as claimed, before it is handed to run(). */
struct jobs_claimed {
	char id[37];
	const struct job_kind *kind;
	json_t *payload;
	int attempts;
	int max_attempts;
};

static struct job_kind kinds[JOBS_MAX_KINDS];
static int nkinds;

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static struct jobs_schedule_entry schedules[JOBS_MAX_SCHEDULES];
static int nschedules;

static atomic_int idle_wait_ms = 2000;
static struct jobs_rt *current;
/* Runtimes whose handlers outlived jobs_stop(): kept reachable, never freed. */
static struct jobs_rt *abandoned[8];
static int nabandoned;

/*
 * The statements. Every write about a claimed job carries the guard
 * id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'
 * (see the top of the file). updated_at is maintained by the schema's trigger.
 */
DB_STMT(st_enqueue, "WITH j AS (INSERT INTO jobs (kind, payload) VALUES ($1::text, $2::jsonb) "
		    "RETURNING id) "
		    "SELECT j.id::text, pg_notify('spanner_jobs', $1::text) FROM j");

/*
 * Queued jobs that are due, and running jobs whose lease ran out (their
 * worker died): each branch of the OR has its partial index in the schema.
 * A reclaimed job comes back with attempts + 1, which is how a job that
 * keeps killing its workers is recognised (attempts > max_attempts).
 */
DB_STMT(st_claim, "WITH c AS (SELECT id FROM jobs WHERE kind = ANY ($2::text[]) "
		  "AND ((state = 'queued' AND run_at <= now()) "
		  "OR (state = 'running' AND lease_until < now())) "
		  "ORDER BY run_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
		  "UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, "
		  "locked_by = $1, lease_until = now() + $3::int * interval '1 second', "
		  "started_at = now(), finished_at = NULL, progress = NULL, result = NULL, "
		  "error = NULL FROM c WHERE j.id = c.id "
		  "RETURNING j.id::text, j.kind, j.payload::text, j.attempts, j.max_attempts");

DB_STMT(st_done, "UPDATE jobs SET state = 'done', result = $4::jsonb, lease_until = NULL, "
		 "finished_at = now() "
		 "WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

DB_STMT(st_fail, "UPDATE jobs SET state = 'failed', error = $4, lease_until = NULL, "
		 "finished_at = now() "
		 "WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

/* Back to the queue ($4 = 1 also gives the attempt back: a clean stop is no crash). */
DB_STMT(st_release, "UPDATE jobs SET state = 'queued', attempts = attempts - $4::int, "
		    "locked_by = NULL, lease_until = NULL, started_at = NULL, progress = NULL "
		    "WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running' "
		    "RETURNING pg_notify('spanner_jobs', kind)");

DB_STMT(st_beat, "UPDATE jobs SET lease_until = now() + $4::int * interval '1 second' "
		 "WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

DB_STMT(st_progress, "UPDATE jobs SET progress = $4::jsonb, "
		     "lease_until = now() + $5::int * interval '1 second' "
		     "WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

/*
 * The try-lock variant: a second process ticking at the same moment skips
 * its pass instead of queueing behind the first, so the keeper thread (which
 * also renews leases) never waits on another process. Exactly-once holds
 * either way: only the lock holder looks at the schedules.
 */
DB_STMT(st_sched_lock, "SELECT pg_try_advisory_xact_lock($1::bigint), "
		       "floor(extract(epoch FROM now()))::bigint");

DB_STMT(st_sched_get, "SELECT next_run_at <= now(), "
		      "floor(extract(epoch FROM next_run_at))::bigint "
		      "FROM job_schedules WHERE kind = $1");

DB_STMT(st_sched_insert, "INSERT INTO job_schedules (kind, next_run_at) "
			 "VALUES ($1, to_timestamp($2::bigint)) ON CONFLICT (kind) DO NOTHING");

/*
 * A periodic job is not queued again while its previous run is still queued
 * or running (a dedup pass slower than its interval would otherwise pile up
 * runs); the schedule still advances.
 */
DB_STMT(st_sched_enqueue, "WITH j AS (INSERT INTO jobs (kind) SELECT $1::text "
			  "WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE kind = $1::text "
			  "AND state IN ('queued', 'running')) RETURNING id) "
			  "SELECT j.id::text, pg_notify('spanner_jobs', $1::text) FROM j");

DB_STMT(st_sched_setting, "SELECT value FROM settings WHERE key = $1");

DB_STMT(st_sched_advance, "UPDATE job_schedules SET next_run_at = to_timestamp($2::bigint), "
			  "last_enqueued_at = CASE WHEN $3::boolean THEN now() "
			  "ELSE last_enqueued_at END WHERE kind = $1");

static long long jobs_now_ms(void);
static const struct job_kind *jobs_find_kind(const char *name);
static int jobs_kind_name_ok(const char *name);
static char *jobs_kinds_literal(void);
static void jobs_worker_name(char *out, size_t len, int index);
static db_conn *jobs_open(const char *conninfo);
static int jobs_conn_ok(db_conn *c);
static int jobs_ctl_open(struct jobs_worker *w);
static int jobs_worker_connect(struct jobs_worker *w);
static int jobs_drain(db_conn *c);
static void jobs_wait_stop(struct jobs_rt *rt, int ms);
static void jobs_idle_wait(struct jobs_worker *w);
static int jobs_claim(struct jobs_worker *w, struct jobs_claimed *cl);
static void jobs_guard(const struct job *job, char attempts[16], const char *p[3]);
static void jobs_slot_set(struct jobs_worker *w, const struct job *job);
static void jobs_slot_clear(struct jobs_worker *w);
static void jobs_process(struct jobs_worker *w, struct jobs_claimed *cl);
static void jobs_finish(struct jobs_worker *w, struct job *job, long long t0);
static int jobs_mark_failed(struct jobs_worker *w, struct job *job, const char *reason);
static void jobs_release(struct jobs_worker *w, struct job *job, int undo_attempt);
static void jobs_fail_logged(struct jobs_worker *w, struct job *job, long long t0,
			     const char *reason);
static void *jobs_worker_main(void *arg);
static void jobs_keeper_beat(struct jobs_rt *rt);
static void *jobs_keeper_main(void *arg);
static void jobs_release_abandoned(struct jobs_rt *rt, struct jobs_worker *w);
static int jobs_worker_busy(struct jobs_worker *w);
static void jobs_rt_free(struct jobs_rt *rt);
static int jobs_schedule_put(const struct jobs_schedule_entry *e);

static long long
jobs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct job_kind *
jobs_find_kind(const char *name)
{
	int i;

	for (i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

/* The schema's jobs_kind_check, checked at registration rather than at the first insert. */
static int
jobs_kind_name_ok(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > JOBS_KIND_MAX || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (i = 1; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

/* {"a.b","c"}: kind names are checked to need no escaping inside the quotes. */
static char *
jobs_kinds_literal(void)
{
	buf b = BUF_INIT;
	int i;

	buf_putc(&b, '{');
	for (i = 0; i < nkinds; i++)
		buf_printf(&b, "%s\"%s\"", i ? "," : "", kinds[i].name);
	buf_putc(&b, '}');
	return buf_steal(&b);
}

/*
 * host/pid/nonce/index. The random nonce keeps two lives of one container
 * (same host name, same pid 1) apart in locked_by; attempts in the guard
 * would already, this makes logs and the jobs table unambiguous too.
 */
static void
jobs_worker_name(char *out, size_t len, int index)
{
	char host[65] = "localhost";
	unsigned int nonce = 0;

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
		nonce = (unsigned int)jobs_now_ms() ^ (unsigned int)getpid();
	snprintf(out, len, "%s/%ld/%08x/%d", host, (long)getpid(), nonce, index);
}

/*
 * db_connect() logs every failure; asking PQping() first keeps a PostgreSQL
 * outage to one log line per thread instead of one per retry.
 */
static db_conn *
jobs_open(const char *conninfo)
{
	if (PQping(conninfo) != PQPING_OK)
		return NULL;
	return db_connect(conninfo);
}

static int
jobs_conn_ok(db_conn *c)
{
	return c && PQstatus(db_pg(c)) == CONNECTION_OK;
}

static int
jobs_ctl_open(struct jobs_worker *w)
{
	PGresult *res;

	db_close(w->ctl);
	w->ctl = jobs_open(w->rt->conninfo);
	if (!w->ctl)
		return -1;
	res = db_exec_sql(w->ctl, "LISTEN spanner_jobs");
	if (!res) {
		db_close(w->ctl);
		w->ctl = NULL;
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * Makes both connections usable. A restart of PostgreSQL breaks both, so
 * when either is broken both are re-opened, and the outage is logged once.
 */
static int
jobs_worker_connect(struct jobs_worker *w)
{
	int had = w->ctl || w->work;

	if (jobs_conn_ok(w->ctl) && jobs_conn_ok(w->work))
		return 0;
	if (had && !w->down) {
		log_warn("jobs: worker %d lost its database connection; reconnecting", w->index);
		w->down = 1;
	}
	db_close(w->work);
	w->work = NULL;
	if (jobs_ctl_open(w) != 0)
		goto fail;
	w->work = jobs_open(w->rt->conninfo);
	if (!w->work)
		goto fail;
	if (w->down)
		log_info("jobs: worker %d reconnected to the database", w->index);
	w->down = 0;
	return 0;
fail:
	if (!w->down) {
		log_warn("jobs: worker %d: database unreachable; retrying", w->index);
		w->down = 1;
	}
	return -1;
}

/*
 * Reads what the server sent and throws the notifications away: they only
 * mean "look again". Returns how many there were, or -1 if the connection
 * is broken.
 */
static int
jobs_drain(db_conn *c)
{
	PGconn *pg = db_pg(c);
	PGnotify *n;
	int count = 0;

	if (!PQconsumeInput(pg))
		return -1;
	while ((n = PQnotifies(pg)) != NULL) {
		PQfreemem(n);
		count++;
	}
	return count;
}

static void
jobs_wait_stop(struct jobs_rt *rt, int ms)
{
	struct pollfd pfd = {rt->stopfd, POLLIN, 0};

	while (poll(&pfd, 1, ms) < 0 && errno == EINTR)
		;
}

static void
jobs_idle_wait(struct jobs_worker *w)
{
	struct jobs_rt *rt = w->rt;
	struct pollfd pfd[2];
	int n;

	/*
	 * A notification that arrived while the last claim ran may be for a job
	 * that claim could not see yet: look again at once rather than sleep.
	 */
	if (jobs_drain(w->ctl) != 0)
		return;
	pfd[0] = (struct pollfd){PQsocket(db_pg(w->ctl)), POLLIN, 0};
	pfd[1] = (struct pollfd){rt->stopfd, POLLIN, 0};
	do
		n = poll(pfd, 2, atomic_load(&idle_wait_ms));
	while (n < 0 && errno == EINTR);
	if (n > 0 && pfd[0].revents)
		jobs_drain(w->ctl); /* a broken connection shows in PQstatus */
}

/* 1 with *cl filled, 0 when nothing is claimable, -1 on a database error. */
static int
jobs_claim(struct jobs_worker *w, struct jobs_claimed *cl)
{
	char lease[16];
	const char *p[3] = {w->name, w->rt->kinds, lease};
	PGresult *res;
	json_error_t jerr;

	snprintf(lease, sizeof lease, "%d", w->rt->lease);
	res = db_exec(w->ctl, &st_claim, 3, p);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	snprintf(cl->id, sizeof cl->id, "%s", PQgetvalue(res, 0, 0));
	cl->kind = jobs_find_kind(PQgetvalue(res, 0, 1));
	cl->payload = json_loads(PQgetvalue(res, 0, 2), JSON_DECODE_ANY, &jerr);
	if (!cl->payload)
		cl->payload = json_object();
	cl->attempts = atoi(PQgetvalue(res, 0, 3));
	cl->max_attempts = atoi(PQgetvalue(res, 0, 4));
	PQclear(res);
	return 1;
}

/* The guard parameters $1..$3 of every statement about a claimed job. */
static void
jobs_guard(const struct job *job, char attempts[16], const char *p[3])
{
	snprintf(attempts, 16, "%d", job->attempt);
	p[0] = job->id;
	p[1] = job->worker->name;
	p[2] = attempts;
}

static void
jobs_slot_set(struct jobs_worker *w, const struct job *job)
{
	pthread_mutex_lock(&w->lock);
	w->active = 1;
	snprintf(w->job_id, sizeof w->job_id, "%s", job->id);
	w->attempts = job->attempt;
	w->beat_ms = jobs_now_ms(); /* the claim just set the lease */
	atomic_store(&w->lost, 0);
	pthread_mutex_unlock(&w->lock);
	w->progress_ms = 0;
}

static void
jobs_slot_clear(struct jobs_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->active = 0;
	pthread_mutex_unlock(&w->lock);
}

static void
jobs_fail_logged(struct jobs_worker *w, struct job *job, long long t0, const char *reason)
{
	if (jobs_mark_failed(w, job, reason) == 0)
		log_warn("job failed: kind=%s id=%s attempt=%d ms=%lld error=%s", job->kind,
			 job->id, job->attempt, jobs_now_ms() - t0, reason);
}

static void
jobs_process(struct jobs_worker *w, struct jobs_claimed *cl)
{
	struct job job;
	long long t0 = jobs_now_ms();
	char reason[256];
	int rc;

	memset(&job, 0, sizeof job);
	memcpy(job.id, cl->id, sizeof job.id);
	job.kind = cl->kind ? cl->kind->name : "?";
	job.payload = cl->payload;
	job.attempt = cl->attempts;
	job.worker = w;
	jobs_slot_set(w, &job);
	log_info("job claimed: kind=%s id=%s attempt=%d worker=%d", job.kind, job.id, job.attempt,
		 w->index);

	if (!cl->kind) { /* cannot happen: the claim only matches registered kinds */
		jobs_release(w, &job, 1);
		goto out;
	}
	if (job.attempt > cl->max_attempts) {
		snprintf(reason, sizeof reason, "worker stopped %d time%s while running this job",
			 job.attempt - 1, job.attempt - 1 == 1 ? "" : "s");
		jobs_fail_logged(w, &job, t0, reason);
		goto out;
	}
	if (db_begin(w->work) != 0) {
		jobs_release(w, &job, 1);
		goto out;
	}
	job.db = w->work;
	rc = cl->kind->run(&job);

	if (atomic_load(&w->lost)) {
		db_rollback(w->work);
		log_warn("job abandoned: kind=%s id=%s attempt=%d: its lease was taken over",
			 job.kind, job.id, job.attempt);
	} else if (rc == JOBS_DONE) {
		jobs_finish(w, &job, t0);
	} else {
		db_rollback(w->work);
		if (!jobs_conn_ok(w->work)) {
			/* An outage is not the handler's failure: run it again. */
			log_warn("job interrupted: kind=%s id=%s: database connection lost",
				 job.kind, job.id);
			jobs_release(w, &job, 0);
		} else if (rc == JOBS_INTERRUPTED) {
			log_info("job interrupted: kind=%s id=%s attempt=%d: queued again",
				 job.kind, job.id, job.attempt);
			/* Only a stop asked for by jobs_stop() gives the attempt back. */
			jobs_release(w, &job, atomic_load(&w->rt->stopping) ? 1 : 0);
		} else {
			char why[512];

			/* No message from run(): its last database error, if any, says why. */
			if (job.error)
				snprintf(why, sizeof why, "%s", job.error);
			else if (db_error(w->work) != DB_OK)
				snprintf(why, sizeof why, "the job's handler failed: %s",
					 db_error_message(w->work));
			else
				snprintf(why, sizeof why, "the job's handler failed");
			jobs_fail_logged(w, &job, t0, why);
		}
	}
out:
	jobs_slot_clear(w);
	json_decref(job.payload);
	json_decref(job.result);
	free(job.error);
}

/* run() returned JOBS_DONE: mark the job done in the handler's transaction and commit. */
static void
jobs_finish(struct jobs_worker *w, struct job *job, long long t0)
{
	char attempts[16], why[512];
	const char *p[4];
	char *result = NULL;
	PGresult *res;
	int n;

	switch (PQtransactionStatus(db_pg(w->work))) {
	case PQTRANS_INTRANS:
		break;
	case PQTRANS_INERROR:
		/* run() ignored a failed statement and returned success. */
		snprintf(why, sizeof why, "a statement of the job failed: %s",
			 db_error_message(w->work));
		db_rollback(w->work);
		jobs_fail_logged(w, job, t0, job->error ? job->error : why);
		return;
	case PQTRANS_IDLE:
		/* A bug in the handler: whatever it committed cannot be undone now. */
		log_error("job %s (%s): the handler ended its own transaction", job->id, job->kind);
		jobs_fail_logged(w, job, t0, "the job's handler ended its own transaction");
		return;
	default:
		jobs_release(w, job, 0);
		return;
	}

	if (job->result)
		result = json_dumps(job->result, JSON_COMPACT | JSON_ENCODE_ANY);
	jobs_guard(job, attempts, p);
	p[3] = result;
	res = db_exec(w->work, &st_done, 4, p);
	free(result);
	if (!res) {
		db_rollback(w->work);
		if (!jobs_conn_ok(w->work))
			jobs_release(w, job, 0);
		else
			jobs_fail_logged(w, job, t0, "could not record the job's result");
		return;
	}
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n == 0) {
		/* The lease ran out and another worker owns the job now: its run counts. */
		db_rollback(w->work);
		log_warn("job abandoned: kind=%s id=%s attempt=%d: its lease was taken over",
			 job->kind, job->id, job->attempt);
		return;
	}
	if (db_commit(w->work) != 0) {
		if (!jobs_conn_ok(w->work)) {
			/*
			 * The COMMIT may or may not have happened. Releasing is
			 * guarded by state = 'running', so it is a no-op if it did.
			 */
			jobs_release(w, job, 0);
			return;
		}
		/* E.g. a deferred constraint of the handler's rows failed at commit. */
		snprintf(why, sizeof why, "the job's transaction did not commit: %s",
			 db_error_message(w->work));
		db_rollback(w->work);
		jobs_fail_logged(w, job, t0, why);
		return;
	}
	log_info("job done: kind=%s id=%s attempt=%d ms=%lld", job->kind, job->id, job->attempt,
		 jobs_now_ms() - t0);
}

/*
 * Marks the job failed and calls give_up() in one transaction on the work
 * connection. If give_up's writes fail, the job is still marked failed
 * (without them, logged loudly): leaving it running would re-run a handler
 * that will not succeed, for ever. 0 when the job is now failed.
 */
static int
jobs_mark_failed(struct jobs_worker *w, struct job *job, const char *reason)
{
	const struct job_kind *k = jobs_find_kind(job->kind);
	char attempts[16], err[256] = "";
	const char *p[4];
	buf why = BUF_INIT;
	int pass, rc = -1;

	jobs_guard(job, attempts, p);
	buf_puts(&why, reason);
	for (pass = 0; pass < 2; pass++) {
		PGresult *res;
		int n;

		p[3] = why.data;
		if (db_begin(w->work) != 0)
			break;
		res = db_exec(w->work, &st_fail, 4, p);
		if (!res) {
			db_rollback(w->work);
			break;
		}
		n = atoi(PQcmdTuples(res));
		PQclear(res);
		if (n == 0) {
			db_rollback(w->work);
			log_warn(
			    "job abandoned: kind=%s id=%s attempt=%d: its lease was taken over",
			    job->kind, job->id, job->attempt);
			break;
		}
		if (pass == 0 && k && k->give_up) {
			k->give_up(w->work, job->id, job->payload, reason);
			/* Keep give_up's own error: COMMIT would only say "rolled back". */
			if (PQtransactionStatus(db_pg(w->work)) == PQTRANS_INERROR)
				snprintf(err, sizeof err, "%s", db_error_message(w->work));
		}
		if (!err[0] && db_commit(w->work) == 0) {
			rc = 0;
			break;
		}
		if (!jobs_conn_ok(w->work))
			break;
		if (!err[0])
			snprintf(err, sizeof err, "%s", db_error_message(w->work));
		db_rollback(w->work);
		log_error("job %s (%s): give_up failed: %s; marking the job failed without it",
			  job->id, job->kind, err);
		buf_printf(&why, " (and recording the failure failed: %s)", err);
		err[0] = '\0';
	}
	buf_free(&why);
	if (rc != 0 && !jobs_conn_ok(w->work))
		jobs_release(w, job, 0);
	return rc;
}

/*
 * Puts the job back in the queue from the control connection (re-opened if
 * need be). When that fails too, the lease runs out and the job is claimed
 * again anyway: this only saves the wait.
 */
static void
jobs_release(struct jobs_worker *w, struct job *job, int undo_attempt)
{
	char attempts[16];
	const char *p[4];

	if (!jobs_conn_ok(w->ctl) && jobs_ctl_open(w) != 0)
		return;
	jobs_guard(job, attempts, p);
	p[3] = undo_attempt ? "1" : "0";
	db_run(w->ctl, &st_release, 4, p);
}

static void *
jobs_worker_main(void *arg)
{
	struct jobs_worker *w = arg;
	struct jobs_rt *rt = w->rt;
	int backoff = 0;

	while (!atomic_load(&rt->stopping)) {
		struct jobs_claimed cl;
		int r;

		if (jobs_worker_connect(w) == 0) {
			r = jobs_claim(w, &cl);
			if (r > 0) {
				backoff = 0;
				jobs_process(w, &cl);
				continue;
			}
			if (r == 0) {
				backoff = 0;
				jobs_idle_wait(w);
				continue;
			}
		}
		/* Unreachable, or the claim failed (e.g. the schema is missing): back off. */
		backoff = backoff ? backoff * 2 : JOBS_BACKOFF_MIN_MS;
		if (backoff > JOBS_BACKOFF_MAX_MS)
			backoff = JOBS_BACKOFF_MAX_MS;
		jobs_wait_stop(rt, backoff);
	}
	db_close(w->ctl);
	db_close(w->work);
	w->ctl = w->work = NULL;
	return NULL;
}

/* Renews the lease of every running job of this process that is due. */
static void
jobs_keeper_beat(struct jobs_rt *rt)
{
	long long every = (long long)rt->lease * 1000 / 3;
	char lease[16];
	int i;

	snprintf(lease, sizeof lease, "%d", rt->lease);
	for (i = 0; i < rt->nworkers; i++) {
		struct jobs_worker *w = &rt->workers[i];
		char id[37], attempts[16];
		const char *p[4] = {id, w->name, attempts, lease};
		PGresult *res;
		int due, n;

		pthread_mutex_lock(&w->lock);
		due = w->active && jobs_now_ms() - w->beat_ms >= every;
		memcpy(id, w->job_id, sizeof id);
		snprintf(attempts, sizeof attempts, "%d", w->attempts);
		pthread_mutex_unlock(&w->lock);
		if (!due)
			continue;
		res = db_exec(rt->keeper_db, &st_beat, 4, p);
		if (!res)
			return; /* connection trouble: the keeper reconnects */
		n = atoi(PQcmdTuples(res));
		PQclear(res);
		pthread_mutex_lock(&w->lock);
		/* The worker may have moved on to another job meanwhile. */
		if (w->active && strcmp(w->job_id, id) == 0 && w->attempts == atoi(attempts)) {
			if (n == 1)
				w->beat_ms = jobs_now_ms();
			else
				atomic_store(&w->lost, 1);
		}
		pthread_mutex_unlock(&w->lock);
	}
}

static void *
jobs_keeper_main(void *arg)
{
	struct jobs_rt *rt = arg;
	long long next_tick = 0, retry_at = 0;
	int backoff = 0;

	for (;;) {
		struct timespec until;
		long long now;
		int quit;

		pthread_mutex_lock(&rt->keeper_lock);
		if (!rt->keeper_quit) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += JOBS_KEEPER_STEP_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&rt->keeper_cond, &rt->keeper_lock, &until);
		}
		quit = rt->keeper_quit;
		pthread_mutex_unlock(&rt->keeper_lock);
		if (quit)
			break;

		now = jobs_now_ms();
		if (now < retry_at)
			continue;
		if (!jobs_conn_ok(rt->keeper_db)) {
			if (rt->keeper_db && !rt->keeper_down) {
				log_warn("jobs: keeper lost its database connection; reconnecting");
				rt->keeper_down = 1;
			}
			db_close(rt->keeper_db);
			rt->keeper_db = jobs_open(rt->conninfo);
			if (!rt->keeper_db) {
				backoff = backoff ? backoff * 2 : JOBS_BACKOFF_MIN_MS;
				if (backoff > JOBS_BACKOFF_MAX_MS)
					backoff = JOBS_BACKOFF_MAX_MS;
				retry_at = now + backoff;
				continue;
			}
			if (rt->keeper_down)
				log_info("jobs: keeper reconnected to the database");
			rt->keeper_down = 0;
			backoff = 0;
		}
		jobs_keeper_beat(rt);
		if (!atomic_load(&rt->stopping) && now >= next_tick) {
			next_tick = now + JOBS_SCHED_EVERY_MS;
			if (jobs_scheduler_tick(rt->keeper_db) < 0 && jobs_conn_ok(rt->keeper_db))
				log_warn("jobs: scheduler pass failed: %s",
					 db_error_message(rt->keeper_db));
		}
	}
	db_close(rt->keeper_db);
	rt->keeper_db = NULL;
	return NULL;
}

/* A handler that outlived jobs_stop(): give its job back to the queue for other processes. */
static void
jobs_release_abandoned(struct jobs_rt *rt, struct jobs_worker *w)
{
	char id[37], attempts[16];
	const char *p[4] = {id, w->name, attempts, "1"};
	db_conn *c;
	int active;

	pthread_mutex_lock(&w->lock);
	active = w->active;
	memcpy(id, w->job_id, sizeof id);
	snprintf(attempts, sizeof attempts, "%d", w->attempts);
	pthread_mutex_unlock(&w->lock);
	if (!active)
		return;
	c = jobs_open(rt->conninfo);
	if (!c)
		return;
	/* Guarded: if the handler completes after all, its own guard finds no row. */
	db_run(c, &st_release, 4, p);
	db_close(c);
	log_warn("jobs: worker %d still running job %s at shutdown; queued it again", w->index, id);
}

static int
jobs_worker_busy(struct jobs_worker *w)
{
	int active;

	pthread_mutex_lock(&w->lock);
	active = w->active;
	pthread_mutex_unlock(&w->lock);
	return active;
}

static void
jobs_rt_free(struct jobs_rt *rt)
{
	int i;

	for (i = 0; i < rt->nworkers; i++)
		pthread_mutex_destroy(&rt->workers[i].lock);
	pthread_mutex_destroy(&rt->keeper_lock);
	pthread_cond_destroy(&rt->keeper_cond);
	if (rt->stopfd >= 0)
		close(rt->stopfd);
	free(rt->workers);
	free(rt->kinds);
	free(rt->conninfo);
	free(rt);
}

int
jobs_register(const struct job_kind *kind)
{
	if (!kind || !jobs_kind_name_ok(kind->name) || !kind->run) {
		log_error("jobs: invalid job kind \"%s\"", kind && kind->name ? kind->name : "");
		return -1;
	}
	if (jobs_find_kind(kind->name)) {
		log_error("jobs: job kind %s registered twice", kind->name);
		return -1;
	}
	if (nkinds == JOBS_MAX_KINDS || current) {
		log_error("jobs: cannot register %s (%s)", kind->name,
			  current ? "workers already started" : "too many kinds");
		return -1;
	}
	kinds[nkinds++] = *kind;
	return 0;
}

int
jobs_schedule(const char *kind, const char *cron_expr)
{
	struct jobs_schedule_entry e;
	struct cron c;
	char err[160];
	int i;

	if (!jobs_kind_name_ok(kind)) {
		log_error("jobs: cannot schedule invalid job kind \"%s\"", kind ? kind : "");
		return -1;
	}
	if (cron_expr && cron_expr[0] && strcasecmp(cron_expr, "off") != 0 &&
	    cron_parse(cron_expr, &c, err, sizeof err) != 0) {
		log_error("jobs: schedule of %s: %s", kind, err);
		return -1;
	}
	if (!cron_expr || !cron_expr[0] || strcasecmp(cron_expr, "off") == 0) {
		pthread_mutex_lock(&sched_lock);
		for (i = 0; i < nschedules; i++)
			if (strcmp(schedules[i].kind, kind) == 0)
				break;
		if (i < nschedules)
			schedules[i] = schedules[--nschedules];
		pthread_mutex_unlock(&sched_lock);
		return 0;
	}
	memset(&e, 0, sizeof e);
	snprintf(e.kind, sizeof e.kind, "%s", kind);
	e.cron = c;
	e.has_cron = 1;
	return jobs_schedule_put(&e);
}

/* Adds the schedule of e->kind, or replaces it. 0, or -1 (logged) when the table is full. */
static int
jobs_schedule_put(const struct jobs_schedule_entry *e)
{
	int i, rc = 0;

	pthread_mutex_lock(&sched_lock);
	for (i = 0; i < nschedules; i++)
		if (strcmp(schedules[i].kind, e->kind) == 0)
			break;
	if (i < nschedules || nschedules < JOBS_MAX_SCHEDULES) {
		schedules[i] = *e;
		if (i == nschedules)
			nschedules++;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&sched_lock);
	if (rc)
		log_error("jobs: too many schedules; %s not scheduled", e->kind);
	return rc;
}

int
jobs_schedule_setting(const char *kind, const char *setting, const char *default_expr)
{
	struct jobs_schedule_entry e;
	char err[160];

	memset(&e, 0, sizeof e);
	if (!jobs_kind_name_ok(kind) || !setting || !setting[0] ||
	    strlen(setting) > JOBS_KIND_MAX) {
		log_error("jobs: cannot schedule \"%s\" from setting \"%s\"", kind ? kind : "",
			  setting ? setting : "");
		return -1;
	}
	if (default_expr && default_expr[0] && strcasecmp(default_expr, "off") != 0) {
		if (cron_parse(default_expr, &e.cron, err, sizeof err) != 0) {
			log_error("jobs: schedule of %s: %s", kind, err);
			return -1;
		}
		e.has_cron = 1;
	}
	snprintf(e.kind, sizeof e.kind, "%s", kind);
	snprintf(e.setting, sizeof e.setting, "%s", setting);
	return jobs_schedule_put(&e);
}

/*
 * The expression a settings-driven schedule follows now: the stored value
 * when there is one, else the default. 0 (cron filled, or *on = 0 for "off"),
 * or -1 on a database error.
 */
static int
jobs_schedule_resolve(db_conn *c, struct jobs_schedule_entry *e)
{
	const char *p[1] = {e->setting};
	PGresult *res;
	char err[160];

	if (!e->setting[0])
		return 0;
	res = db_exec(c, &st_sched_setting, 1, p);
	if (!res)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		const char *v = PQgetvalue(res, 0, 0);

		if (strcasecmp(v, "off") == 0) {
			e->has_cron = 0;
		} else if (cron_parse(v, &e->cron, err, sizeof err) == 0) {
			e->has_cron = 1;
		} else {
			log_warn("jobs: setting %s = \"%s\" is not a schedule (%s); %s not run",
				 e->setting, v, err, e->kind);
			e->has_cron = 0;
		}
	}
	PQclear(res);
	return 0;
}

void
jobs_set_idle_wait(int milliseconds)
{
	atomic_store(&idle_wait_ms, milliseconds > 0 ? milliseconds : 2000);
}

int
jobs_start(const char *conninfo, int threads, int lease_seconds)
{
	struct jobs_rt *rt;
	pthread_condattr_t ca;
	int i;

	if (current) {
		log_error("jobs: already started");
		return -1;
	}
	if (threads < 0 || lease_seconds < 2) {
		log_error("jobs: need task_threads >= 0 and job_lease >= 2 (got %d, %d)", threads,
			  lease_seconds);
		return -1;
	}
	rt = xcalloc(1, sizeof *rt);
	rt->conninfo = xstrdup(conninfo);
	rt->lease = lease_seconds;
	rt->kinds = jobs_kinds_literal();
	rt->nworkers = threads;
	rt->workers = xcalloc(threads ? (size_t)threads : 1, sizeof *rt->workers);
	pthread_mutex_init(&rt->keeper_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->keeper_cond, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < threads; i++)
		pthread_mutex_init(&rt->workers[i].lock, NULL);
	rt->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rt->stopfd < 0) {
		log_error("jobs: eventfd: %s", strerror(errno));
		jobs_rt_free(rt);
		return -1;
	}
	/* One connection up front, so a wrong conninfo fails the start instead of retrying. */
	rt->keeper_db = db_connect(conninfo);
	if (!rt->keeper_db) {
		jobs_rt_free(rt);
		return -1;
	}
	if (pthread_create(&rt->keeper, NULL, jobs_keeper_main, rt) != 0) {
		log_error("jobs: cannot start the keeper thread");
		db_close(rt->keeper_db);
		jobs_rt_free(rt);
		return -1;
	}
	for (i = 0; i < threads; i++) {
		struct jobs_worker *w = &rt->workers[i];

		w->rt = rt;
		w->index = i;
		jobs_worker_name(w->name, sizeof w->name, i);
		if (pthread_create(&w->thread, NULL, jobs_worker_main, w) != 0) {
			log_error("jobs: cannot start worker thread %d", i);
			rt->nworkers = i;
			current = rt;
			jobs_stop(0);
			return -1;
		}
	}
	current = rt;
	log_info("jobs: %d worker%s started (lease %d s, %d kind%s)", threads,
		 threads == 1 ? "" : "s", lease_seconds, nkinds, nkinds == 1 ? "" : "s");
	return 0;
}

void
jobs_stop(int wait_seconds)
{
	struct jobs_rt *rt = current;
	struct timespec deadline;
	uint64_t one = 1;
	int i, left = 0;

	if (!rt)
		return;
	current = NULL;
	atomic_store(&rt->stopping, 1);
	if (write(rt->stopfd, &one, sizeof one) < 0)
		log_warn("jobs: cannot signal the workers: %s", strerror(errno));

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_seconds > 0 ? wait_seconds : 0;
	for (i = 0; i < rt->nworkers; i++) {
		struct jobs_worker *w = &rt->workers[i];

		if (pthread_timedjoin_np(w->thread, NULL, &deadline) == 0) {
			continue;
		}
		if (!jobs_worker_busy(w)) {
			/* Idle (or between jobs): it is leaving; give it a moment. */
			struct timespec grace;

			clock_gettime(CLOCK_REALTIME, &grace);
			grace.tv_sec += 2;
			if (pthread_timedjoin_np(w->thread, NULL, &grace) == 0) {
				continue;
			}
		}
		jobs_release_abandoned(rt, w);
		pthread_detach(w->thread);
		left++;
	}

	pthread_mutex_lock(&rt->keeper_lock);
	rt->keeper_quit = 1;
	pthread_cond_signal(&rt->keeper_cond);
	pthread_mutex_unlock(&rt->keeper_lock);
	pthread_join(rt->keeper, NULL);

	if (left == 0) {
		jobs_rt_free(rt);
		log_info("jobs: workers stopped");
		return;
	}
	/* Their threads still use rt: keep it, reachable, until the process exits. */
	if (nabandoned < (int)(sizeof abandoned / sizeof abandoned[0]))
		abandoned[nabandoned++] = rt;
	log_warn("jobs: %d worker%s did not stop within %d s", left, left == 1 ? "" : "s",
		 wait_seconds);
}

int
jobs_enqueue(db_conn *c, const char *kind, json_t *payload, char id_out[37])
{
	char *text = NULL;
	const char *p[2];
	PGresult *res;

	if (payload) {
		text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text) {
			log_error("jobs: payload of a %s job cannot be encoded", kind);
			return -1;
		}
	}
	/*
	 * The schema's insert trigger notifies too; PostgreSQL delivers
	 * identical notifications of one transaction once, so saying it here
	 * as well costs nothing and keeps this module correct on its own.
	 */
	p[0] = kind;
	p[1] = text ? text : "{}";
	res = db_exec(c, &st_enqueue, 2, p);
	free(text);
	if (!res)
		return -1;
	if (id_out)
		snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
jobs_progress(struct job *job, json_t *progress)
{
	struct jobs_worker *w = job->worker;
	long long now = jobs_now_ms();
	char attempts[16], lease[16];
	const char *p[5];
	char *text;
	PGresult *res;

	if (!progress)
		return atomic_load(&w->lost) ? -1 : 0;
	if (w->progress_ms && now - w->progress_ms < JOBS_PROGRESS_MIN_MS) {
		json_decref(progress);
		return atomic_load(&w->lost) ? -1 : 0;
	}
	w->progress_ms = now;
	text = json_dumps(progress, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(progress);
	/* The control connection is idle while run() works: it is this thread's to use. */
	if (!text || (!jobs_conn_ok(w->ctl) && jobs_ctl_open(w) != 0)) {
		free(text);
		return atomic_load(&w->lost) ? -1 : 0;
	}
	jobs_guard(job, attempts, p);
	snprintf(lease, sizeof lease, "%d", w->rt->lease);
	p[3] = text;
	p[4] = lease;
	res = db_exec(w->ctl, &st_progress, 5, p);
	free(text);
	if (res) {
		int n = atoi(PQcmdTuples(res));

		PQclear(res);
		pthread_mutex_lock(&w->lock);
		if (n == 1)
			w->beat_ms = jobs_now_ms();
		else
			atomic_store(&w->lost, 1);
		pthread_mutex_unlock(&w->lock);
	}
	/* Notifications pile up in libpq while a long job runs; they mean nothing now. */
	if (jobs_conn_ok(w->ctl))
		jobs_drain(w->ctl);
	return atomic_load(&w->lost) ? -1 : 0;
}

int
jobs_should_stop(const struct job *job)
{
	return atomic_load(&job->worker->rt->stopping) || atomic_load(&job->worker->lost);
}

void
jobs_set_error(struct job *job, const char *fmt, ...)
{
	buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(job->error);
	job->error = buf_steal(&b);
}

int
jobs_scheduler_tick(db_conn *c)
{
	struct jobs_schedule_entry local[JOBS_MAX_SCHEDULES];
	const char *p[3];
	PGresult *res;
	long long now;
	int i, n, queued = 0;

	pthread_mutex_lock(&sched_lock);
	n = nschedules;
	memcpy(local, schedules, (size_t)n * sizeof local[0]);
	pthread_mutex_unlock(&sched_lock);
	if (n == 0)
		return 0;

	if (db_begin(c) != 0)
		return -1;
	p[0] = JOBS_SCHED_LOCK_KEY;
	res = db_exec(c, &st_sched_lock, 1, p);
	if (!res)
		goto fail;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		/* Another process is doing this pass right now. */
		PQclear(res);
		db_rollback(c);
		return 0;
	}
	/* The database's clock, not ours: several servers must agree on "due". */
	now = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);

	for (i = 0; i < n; i++) {
		time_t next;
		char nexts[24];
		int due;
		long long stored;

		if (jobs_schedule_resolve(c, &local[i]) != 0)
			goto fail;
		if (!local[i].has_cron)
			continue;
		next = cron_next(&local[i].cron, (time_t)now);
		if (next == (time_t)-1)
			continue;
		snprintf(nexts, sizeof nexts, "%lld", (long long)next);
		p[0] = local[i].kind;
		p[1] = nexts;
		res = db_exec(c, &st_sched_get, 1, p);
		if (!res)
			goto fail;
		if (PQntuples(res) == 0) {
			PQclear(res);
			if (db_run(c, &st_sched_insert, 2, p) != 0)
				goto fail;
			continue;
		}
		due = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		/* A NULL next_run_at (set by hand) is treated as "later than any time". */
		stored =
		    PQgetisnull(res, 0, 1) ? LLONG_MAX : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		PQclear(res);
		if (due) {
			int k;

			res = db_exec(c, &st_sched_enqueue, 1, p);
			if (!res)
				goto fail;
			k = PQntuples(res);
			if (k)
				log_info("job scheduled: kind=%s id=%s", local[i].kind,
					 PQgetvalue(res, 0, 0));
			else
				log_info("job not scheduled: kind=%s: its last run has not ended",
					 local[i].kind);
			PQclear(res);
			queued += k;
			/* Missed runs (the servers were down) are not caught up one by one. */
			p[2] = k ? "true" : "false";
			if (db_run(c, &st_sched_advance, 3, p) != 0)
				goto fail;
		} else if (stored > (long long)next) {
			/* The expression changed to run sooner: do not wait for the old time. */
			p[2] = "false";
			if (db_run(c, &st_sched_advance, 3, p) != 0)
				goto fail;
		}
	}
	if (db_commit(c) != 0)
		return -1;
	return queued;
fail:
	db_rollback(c);
	return -1;
}

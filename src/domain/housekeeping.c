/*
 * housekeeping — the sessions.purge and counts.compact jobs.
 *
 * Sessions and reset links live in PostgreSQL, and a row that has expired is
 * already refused by the sign-in and reset code; this job only keeps the
 * tables small. It is also the smallest real job of the task workers, so it
 * shows the shape every job has: all writes on job->db inside the worker's
 * transaction, no COMMIT, a result the worker stores with the job.
 *
 * Sign-in attempts older than two days go too: the throttle looks back
 * one day at most.
 *
 * Reset links are kept a day past their expiry so that a user clicking an
 * old link is told "this link has expired" rather than "unknown link".
 *
 * The per-segment counts the home pages and the segments list read are kept
 * as difference rows, one per statement that changed them (0012); readers sum
 * them. counts.compact folds them, so that a segment's sum reads a handful of
 * rows however busy the hour was. It changes no count, so missing a run only
 * costs the readers a little.
 */
#include "housekeeping.h"

#include <stdlib.h>

#include "core/jobs.h"

DB_STMT(st_purge_sessions, "DELETE FROM sessions WHERE expires_at < now()");
DB_STMT(st_purge_resets, "DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'");
/* The throttle looks back one day at most (migrations/0005); the audit log keeps the history. */
DB_STMT(st_purge_attempts,
	"DELETE FROM login_attempts WHERE created_at < now() - interval '2 days'");

DB_STMT(st_compact_counts, "SELECT counts_compact()");

static int housekeeping_purge(struct job *job);
static int housekeeping_compact(struct job *job);
static int housekeeping_delete(struct job *job, db_stmt *st, long long *count);

static int
housekeeping_delete(struct job *job, db_stmt *st, long long *count)
{
	PGresult *res = db_exec(job->db, st, 0, NULL);

	if (!res) {
		jobs_set_error(job, "%s", db_error_message(job->db));
		return -1;
	}
	*count = atoll(PQcmdTuples(res));
	PQclear(res);
	return 0;
}

static int
housekeeping_purge(struct job *job)
{
	long long sessions = 0, resets = 0, attempts = 0;

	if (housekeeping_delete(job, &st_purge_sessions, &sessions) != 0 ||
	    housekeeping_delete(job, &st_purge_resets, &resets) != 0 ||
	    housekeeping_delete(job, &st_purge_attempts, &attempts) != 0)
		return JOBS_FAILED;
	job->result =
	    json_pack("{s:I, s:I, s:I}", "sessions_deleted", (json_int_t)sessions, "resets_deleted",
		      (json_int_t)resets, "sign_in_attempts_deleted", (json_int_t)attempts);
	return JOBS_DONE;
}

static int
housekeeping_compact(struct job *job)
{
	PGresult *res = db_exec(job->db, &st_compact_counts, 0, NULL);

	if (!res) {
		jobs_set_error(job, "%s", db_error_message(job->db));
		return JOBS_FAILED;
	}
	job->result =
	    json_pack("{s:I}", "count_rows_folded", (json_int_t)atoll(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return JOBS_DONE;
}

int
housekeeping_register(void)
{
	static const struct job_kind purge = {HOUSEKEEPING_PURGE_KIND, housekeeping_purge, NULL};
	static const struct job_kind compact = {HOUSEKEEPING_COMPACT_KIND, housekeeping_compact,
						NULL};

	if (jobs_register(&purge) != 0 || jobs_register(&compact) != 0)
		return -1;
	if (jobs_schedule(HOUSEKEEPING_PURGE_KIND, "17 * * * *") != 0)
		return -1;
	return jobs_schedule(HOUSEKEEPING_COMPACT_KIND, "47 * * * *");
}

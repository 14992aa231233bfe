/*
 * dedup — the duplicate-detection pass, its job, schedule and run record.
 *
 * The idea: a record's duplicate state is a pure function of the data (the
 * oldest of each key group is the original, every other member points to
 * it), so a pass simply recomputes it with a window function and writes only
 * the rows whose state differs, each with its audit row, in one statement
 * per batch. Being a recomputation, a pass is idempotent: a run cut short is
 * simply run again from the start, and its batches need no common
 * transaction. That is what lets every batch commit on its own and keep its
 * row locks for a fraction of a second (see dedup.h).
 *
 * Two steps per kind. First one read-only statement scans the table once
 * (the contacts: their key index only), works out every record's state with
 * a window function and keeps only the records whose state must change, in
 * a temporary table of this session (a plain SELECT takes no row lock:
 * nothing waits on it, it waits on nothing). Then the changes are written
 * DEDUP_APPLY_BATCH rows at a time, in the order the records were created,
 * each batch one short statement found by primary key, with its audit rows:
 * the only row locks the pass takes, held for a tenth of a second or so. An
 * earlier shape, a window per company range, read most of the contacts
 * table for every range (contacts are not stored by company): 23 s at 100x
 * instead of a few.
 *
 * Where a cold run's time goes at 100x (24,007 changes): about 1.5 s for the
 * two scans, the rest writing. Each change is a new row version with an
 * entry in every index of the table (16 for contacts, 3 of them trigram GIN)
 * plus its audit row, about 40 kB of WAL each; the index inserts are 40% of
 * the pass's CPU. Fewer indexes on contacts make it faster; nothing in the
 * pass itself would.
 */
#include "dedup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cron.h"
#include "core/format.h"
#include "core/jobs.h"
#include "core/log.h"
#include "domain/audit.h"
#include "domain/records.h"

/*
 * Changes per statement: 500 hold their row locks ~0.1 s at 100x; 2,000 took
 * no less time in all, but held them four times as long.
 */
#define DEDUP_APPLY_BATCH 500
/* "Spanner" then 0x02: the scheduler's key (jobs.c) ends in 0x01. */
#define DEDUP_LOCK_KEY "6012412629466051074"
/* A batch waits at most lock_timeout for a row another transaction holds, then once more. */
#define DEDUP_RELATED_MAX 20
/*
 * The companies' whole-table sort in memory rather than in temporary files
 * (17 MB at 100x), on keys compared byte by byte (COLLATE "C" in that scan:
 * equality is all a group needs, and it sorts twice as fast as the
 * database's locale); the contacts' join of should-be and flagged ones too.
 * No parallel workers: the planner gives the contacts' count one, which
 * takes the other core from the pages to save a few tens of milliseconds.
 */
#define DEDUP_SESSION                                                                              \
	"SET lock_timeout = '3s'; SET work_mem = '256MB'; SET max_parallel_workers_per_gather = 0"

DB_STMT(st_try_lock, "SELECT pg_try_advisory_lock($1::bigint)");
DB_STMT(st_unlock, "SELECT pg_advisory_unlock($1::bigint)");
DB_STMT(st_totals, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM contacts)");

/* Runs left 'running' by a server that died: only the lock holder gets here, so none is live. */
DB_STMT(st_run_stale,
	"UPDATE dedup_runs SET status = 'interrupted', finished_at = now(), "
	"duration_ms = greatest(0, floor(extract(epoch FROM now() - started_at) * 1000))::bigint, "
	"error = 'The server running it stopped before the end; the next run covers it.' "
	"WHERE status = 'running'");

DB_STMT(st_run_start,
	"INSERT INTO dedup_runs (job_id, triggered_by, trigger, phase, progress_total) "
	"VALUES ($1::uuid, $2::uuid, CASE WHEN $2::uuid IS NULL THEN 'schedule' ELSE 'manual' END, "
	"'companies', $3::bigint) RETURNING id::text");

DB_STMT(st_run_progress,
	"UPDATE dedup_runs SET phase = $2, progress_done = $3::bigint, "
	"companies_checked = $4::bigint, companies_flagged = $5::int, companies_new = $6::int, "
	"companies_unflagged = $7::int, contacts_checked = $8::bigint, contacts_flagged = $9::int, "
	"contacts_new = $10::int, contacts_unflagged = $11::int WHERE id = $1::uuid");

DB_STMT(st_run_finish,
	"UPDATE dedup_runs SET status = $2, finished_at = now(), duration_ms = $3::bigint, "
	"error = $4, phase = NULL WHERE id = $1::uuid");

/*
 * This session's changes to make, numbered per kind in the order of the
 * records' creation (n); kept for the connection, emptied at every pass.
 */
#define DEDUP_CHANGES_TABLE                                                                        \
	"CREATE TEMP TABLE IF NOT EXISTS dedup_changes (kind text NOT NULL, n bigint NOT NULL, "   \
	"id uuid NOT NULL, was boolean NOT NULL, dup_of uuid, PRIMARY KEY (kind, n)); "            \
	"TRUNCATE dedup_changes"

/*
 * Both scans end the same way: from w, every record that is or should be a
 * duplicate with its state now (was, was_of) and the one it should have
 * (dup_of), c keeps those whose state differs, numbered by creation.
 *
 * Why by creation: a change rewrites the whole row (is_duplicate is indexed,
 * so no update is HOT) and adds an entry to every index of the table. Most
 * of them lead with created_at or with a handful of values (segment, status,
 * creator) before it, and the table is stored roughly by creation, so
 * changes written in that order visit those pages in sequence rather than
 * at random: at 100x about 6% less WAL than in the scans' key order.
 */
#define DEDUP_KEEP_CHANGES(kind)                                                                   \
	"c AS (INSERT INTO dedup_changes (kind, n, id, was, dup_of) SELECT '" kind "', "           \
	"row_number() OVER (ORDER BY created_at, id), id, was, dup_of FROM w WHERE was <> "        \
	"(dup_of IS NOT NULL) OR was_of IS DISTINCT FROM dup_of RETURNING 1) "

/*
 * The companies: every one with the id of its group's oldest member (k),
 * what its state should be (w). The counts: checked, duplicates after the
 * pass, changes to write.
 */
DB_STMT(
    st_scan_companies,
    "WITH k AS (SELECT c.id, c.created_at, c.is_duplicate AS was, c.duplicate_of AS was_of, "
    "first_value(c.id) OVER (PARTITION BY c.segment_id, "
    "lower(regexp_replace(btrim(c.name), '\\s+', ' ', 'g')) COLLATE \"C\", "
    "c.website_host COLLATE \"C\" "
    "ORDER BY c.created_at, c.id) AS keeper FROM companies c), "
    "w AS (SELECT id, created_at, was, was_of, nullif(keeper, id) AS dup_of FROM "
    "k), " DEDUP_KEEP_CHANGES("company") "SELECT count(*), count(dup_of), (SELECT count(*) FROM c) "
					 "FROM w");

/*
 * The contacts: a million at 100x, so the scan reads contacts_dedup_key_idx
 * alone (migration 0011), in its own order (lower(email), company,
 * created_at, id): no table read, no sort. The window partitions by the
 * index's own expression, in the database's collation, so it takes that
 * order as it is; only the records that should be duplicates come out (d).
 * Those flagged now (f, a few percent) come through contacts_dup_active_idx,
 * and the two joined give w. Same counts as the companies'.
 */
DB_STMT(st_scan_contacts,
	"WITH d AS (SELECT id, created_at, keeper FROM (SELECT t.id, t.created_at, "
	"first_value(t.id) OVER (PARTITION BY lower(t.email), t.company_id "
	"ORDER BY t.created_at, t.id) AS keeper FROM contacts t) k WHERE keeper <> id), "
	"f AS (SELECT id, created_at, duplicate_of FROM contacts WHERE is_duplicate), "
	"w AS (SELECT coalesce(d.id, f.id) AS id, coalesce(d.created_at, f.created_at) AS "
	"created_at, f.id IS NOT NULL AS was, f.duplicate_of AS was_of, d.keeper AS dup_of "
	"FROM d FULL JOIN f ON f.id = d.id), " DEDUP_KEEP_CHANGES(
	    "contact") "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM d), "
		       "(SELECT count(*) FROM c)");

/*
 * One batch of changes, written: b the changes numbered after $2 (at most
 * $3 of them: the temporary table's primary key gives the planner their
 * number, so it looks each up by primary key, in b's order), u writes those
 * still as the scan saw them, a their audit rows naming the original. The
 * counts: batch size, flagged anew, unflagged.
 */
#define DEDUP_APPLY(table, alias, kind, original_name)                                             \
	"WITH b AS (SELECT id, was, dup_of FROM dedup_changes WHERE kind = '" kind "' AND n > "    \
	"$2::bigint AND n <= $2::bigint + $3::int ORDER BY n), "                                   \
	"u AS (UPDATE " table " " alias " SET is_duplicate = b.dup_of IS NOT NULL, "               \
	"duplicate_of = b.dup_of FROM b WHERE " alias ".id = b.id AND (" alias                     \
	".is_duplicate <> (b.dup_of IS NOT NULL) OR " alias                                        \
	".duplicate_of IS DISTINCT FROM b.dup_of) RETURNING " alias ".id, b.was, b.dup_of), "      \
	"a AS (INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, details) "        \
	"SELECT NULL, CASE WHEN u.dup_of IS NULL THEN 'unflag_duplicate' ELSE 'flag_duplicate' "   \
	"END, '" kind "', u.id, CASE WHEN u.dup_of IS NULL THEN jsonb_build_object('run_id', "     \
	"$1::uuid) ELSE jsonb_build_object('duplicate_of', " original_name ", 'original_id', "     \
	"u.dup_of, 'run_id', $1::uuid) END FROM u LEFT JOIN " table " o ON o.id = u.dup_of) "      \
	"SELECT (SELECT count(*) FROM b), count(*) FILTER (WHERE dup_of IS NOT NULL AND NOT "      \
	"was), "                                                                                   \
	"count(*) FILTER (WHERE dup_of IS NULL) FROM u"
DB_STMT(st_apply_companies, DEDUP_APPLY("companies", "c", "company", "o.name"));
DB_STMT(st_apply_contacts,
	DEDUP_APPLY("contacts", "t", "contact", "concat_ws(' ', o.first_name, o.last_name)"));

/* Other sessions of this database running a statement right now: pages, imports, jobs. */
DB_STMT(st_others_busy,
	"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = "
	"'client backend' AND datname = current_database() AND pid <> pg_backend_pid()");

/*
 * Run now: at most one dedup job queued or running (jobs_one_dedup_key), so of
 * two simultaneous presses, on any servers, one inserts and the other gets
 * no row.
 */
DB_STMT(st_request,
	"WITH j AS (INSERT INTO jobs (kind, payload, created_by) VALUES ('dedup', "
	"jsonb_build_object('triggered_by', $1::uuid), $1::uuid) ON CONFLICT (kind) "
	"WHERE kind = 'dedup' AND state IN ('queued', 'running') DO NOTHING RETURNING id) "
	"SELECT j.id::text, pg_notify('spanner_jobs', 'dedup') FROM j");

DB_STMT(st_setting_get, "SELECT value FROM settings WHERE key = 'dedup_schedule'");
DB_STMT(st_setting_put,
	"INSERT INTO settings (key, value, updated_by) VALUES ('dedup_schedule', $1, $2::uuid) "
	"ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by");
DB_STMT(st_schedule_reset, "DELETE FROM job_schedules WHERE kind = 'dedup'");

#define DEDUP_RUN_COLUMNS                                                                          \
	"SELECT r.id::text, r.status, r.trigger, u.name, to_json(r.started_at) #>> '{}', "         \
	"to_char(r.started_at, 'FMDD Mon YYYY, HH24:MI'), coalesce(r.duration_ms, "                \
	"floor(extract(epoch FROM now() - r.started_at) * 1000)::bigint), r.phase, "               \
	"r.progress_done, r.progress_total, r.companies_checked, coalesce(r.companies_flagged, "   \
	"0), "                                                                                     \
	"r.companies_new, r.companies_unflagged, r.contacts_checked, "                             \
	"coalesce(r.contacts_flagged, 0), r.contacts_new, r.contacts_unflagged, r.error "          \
	"FROM dedup_runs r LEFT JOIN users u ON u.id = r.triggered_by "

DB_STMT(st_runs, DEDUP_RUN_COLUMNS "ORDER BY r.started_at DESC, r.id DESC LIMIT $1::int");
DB_STMT(
    st_status_now,
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = 'dedup' AND state IN ('queued', 'running')), "
    "(SELECT count(*) FROM companies WHERE is_duplicate), "
    "(SELECT count(*) FROM contacts WHERE is_duplicate)");

DB_STMT(st_related_company,
	"SELECT c.is_duplicate, o.id::text, o.name, "
	"(SELECT count(*) FROM companies d WHERE d.duplicate_of = c.id) "
	"FROM companies c LEFT JOIN companies o ON o.id = c.duplicate_of WHERE c.id = $1::uuid");
DB_STMT(st_related_company_dups,
	"SELECT d.id::text, d.name, to_char(d.created_at, 'FMDD Mon YYYY') FROM companies d "
	"WHERE d.duplicate_of = $1::uuid ORDER BY d.created_at, d.id LIMIT $2::int");
DB_STMT(st_related_contact,
	"SELECT t.is_duplicate, o.id::text, concat_ws(' ', o.first_name, o.last_name), "
	"(SELECT count(*) FROM contacts d WHERE d.duplicate_of = t.id) "
	"FROM contacts t LEFT JOIN contacts o ON o.id = t.duplicate_of WHERE t.id = $1::uuid");
DB_STMT(st_related_contact_dups,
	"SELECT d.id::text, concat_ws(' ', d.first_name, d.last_name), "
	"to_char(d.created_at, 'FMDD Mon YYYY') FROM contacts d "
	"WHERE d.duplicate_of = $1::uuid ORDER BY d.created_at, d.id LIMIT $2::int");

struct dedup_pass {
	db_conn *c;
	const char *run_id;
	struct dedup_result *out;
	int (*should_stop)(void *ctx);
	void *ctx;
	long long done;
	buf failures; /* reasons of failed batches, "; "-separated */
};

static long long dedup_now_ms(void);
static int dedup_lock(db_conn *c, int (*should_stop)(void *ctx), void *ctx);
static PGresult *dedup_exec(struct dedup_pass *p, db_stmt *st, int n, const char *const *params,
			    const char *what, int *gone);
static void dedup_progress(struct dedup_pass *p, const char *phase);
static void dedup_give_way(struct dedup_pass *p, long long batch_ms);
static int dedup_stopping(struct dedup_pass *p);
static int dedup_kind(struct dedup_pass *p, const char *kind);
static int dedup_job_run(struct job *job);
static int dedup_job_stop(void *ctx);
static void dedup_job_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static json_t *dedup_run_json(PGresult *res, int row);
static json_t *dedup_counts_json(PGresult *res, int row, int col);
static void dedup_ms_text(long long ms, char *out, size_t outlen);

static long long
dedup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Session-level advisory lock on c: held for the whole pass across its many
 * transactions, released by dedup_execute or when the connection closes (a
 * crashed server). While another server's pass holds it — a job whose lease
 * ran out is still finishing a batch — wait for it rather than give up, so
 * the run that was asked for does happen. 0 locked, 1 told to stop, -1 error.
 */
static int
dedup_lock(db_conn *c, int (*should_stop)(void *ctx), void *ctx)
{
	const char *p[1] = {DEDUP_LOCK_KEY};

	for (;;) {
		PGresult *res = db_exec(c, &st_try_lock, 1, p);
		int got;

		if (!res)
			return -1;
		got = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (got)
			return 0;
		if (should_stop && should_stop(ctx))
			return 1;
		usleep(250 * 1000);
	}
}

/*
 * A statement of the pass. One that met a row locked longer than the lock
 * timeout (a long transaction elsewhere), or a deadlock, is tried once more;
 * failing again, it is recorded and NULL returned (*gone set when the
 * connection itself is lost): the next run covers what it would have done.
 */
static PGresult *
dedup_exec(struct dedup_pass *p, db_stmt *st, int n, const char *const *params, const char *what,
	   int *gone)
{
	int attempt;

	*gone = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		PGresult *res = db_exec(p->c, st, n, params);

		if (res)
			return res;
		if (PQstatus(db_pg(p->c)) != CONNECTION_OK) {
			*gone = 1;
			return NULL;
		}
		if (db_error(p->c) != DB_ERR_CONFLICT)
			break;
		usleep(200 * 1000);
	}
	p->out->failures++;
	log_warn("dedup: %s not done: %s", what, db_error_message(p->c));
	if (p->out->failures <= 3)
		buf_printf(&p->failures, "%s%s: %s", p->failures.len ? "; " : "", what,
			   db_error_message(p->c));
	return NULL;
}

/* The live progress line of /admin/dedup (autocommit: visible at once). */
static void
dedup_progress(struct dedup_pass *p, const char *phase)
{
	const struct dedup_result *r = p->out;
	char v[11][32];
	const char *params[11];
	int i;

	v[0][0] = '\0';
	snprintf(v[1], sizeof v[1], "%s", phase);
	snprintf(v[2], sizeof v[2], "%lld", p->done);
	snprintf(v[3], sizeof v[3], "%lld", r->companies.checked);
	snprintf(v[4], sizeof v[4], "%lld", r->companies.flagged);
	snprintf(v[5], sizeof v[5], "%lld", r->companies.newly);
	snprintf(v[6], sizeof v[6], "%lld", r->companies.unflagged);
	snprintf(v[7], sizeof v[7], "%lld", r->contacts.checked);
	snprintf(v[8], sizeof v[8], "%lld", r->contacts.flagged);
	snprintf(v[9], sizeof v[9], "%lld", r->contacts.newly);
	snprintf(v[10], sizeof v[10], "%lld", r->contacts.unflagged);
	for (i = 0; i < 11; i++)
		params[i] = v[i];
	params[0] = p->run_id;
	if (db_run(p->c, &st_run_progress, 11, params) != 0)
		log_warn("dedup: progress not recorded: %s", db_error_message(p->c));
}

/*
 * After a batch of writes: while other sessions are at work (the pages'), the
 * pass sleeps as long as the batch took. A cold run's writes fill the small
 * shared buffers with dirty pages, and a page's backend that needs a buffer
 * then has to write one out itself, WAL flush included (at 100x the list's
 * p99 during a cold run: 2.2x its quiet figure unpaced, 1.5-1.9x paced;
 * bench/RESULTS.md). With nobody else at work the pass does not wait.
 */
static void
dedup_give_way(struct dedup_pass *p, long long batch_ms)
{
	PGresult *res = db_exec(p->c, &st_others_busy, 0, NULL);
	int busy = res && atoll(PQgetvalue(res, 0, 0)) > 0;

	PQclear(res);
	if (busy && batch_ms > 0) {
		struct timespec ts = {batch_ms / 1000, (batch_ms % 1000) * 1000000};

		nanosleep(&ts, NULL);
	}
}

static int
dedup_stopping(struct dedup_pass *p)
{
	return p->should_stop && p->should_stop(p->ctx);
}

/*
 * One kind: the scan, then its changes in batches. 0, 1 (told to stop) or -1
 * (the connection is gone).
 */
static int
dedup_kind(struct dedup_pass *p, const char *kind)
{
	int company = strcmp(kind, "company") == 0;
	struct dedup_counts *k = company ? &p->out->companies : &p->out->contacts;
	const char *phase = company ? "companies" : "contacts";
	char after[32], lim[16], what[64];
	const char *params[3] = {p->run_id, after, lim};
	long long t0 = dedup_now_ms(), t1, b0, changes, written = 0;
	PGresult *res;
	int gone, batches = 0;

	snprintf(lim, sizeof lim, "%d", DEDUP_APPLY_BATCH);
	snprintf(what, sizeof what, "the scan of the %s", phase);
	res = dedup_exec(p, company ? &st_scan_companies : &st_scan_contacts, 0, NULL, what, &gone);
	if (!res)
		return gone ? -1 : 0;
	k->checked = atoll(PQgetvalue(res, 0, 0));
	k->flagged = atoll(PQgetvalue(res, 0, 1));
	changes = atoll(PQgetvalue(res, 0, 2));
	PQclear(res);
	p->done += k->checked;
	dedup_progress(p, phase);
	t1 = dedup_now_ms();
	snprintf(what, sizeof what, "writing the %s' changes", phase);
	while (written < changes) {
		if (dedup_stopping(p))
			return 1;
		snprintf(after, sizeof after, "%lld", written);
		b0 = dedup_now_ms();
		res = dedup_exec(p, company ? &st_apply_companies : &st_apply_contacts, 3, params,
				 what, &gone);
		if (!res)
			return gone ? -1 : 0;
		k->newly += atoll(PQgetvalue(res, 0, 1));
		k->unflagged += atoll(PQgetvalue(res, 0, 2));
		PQclear(res);
		written += DEDUP_APPLY_BATCH;
		batches++;
		dedup_progress(p, phase);
		dedup_give_way(p, dedup_now_ms() - b0);
	}
	log_info("dedup: %s: scanned in %lld ms, %lld changes written in %lld ms (%d batches)",
		 phase, t1 - t0, changes, dedup_now_ms() - t1, batches);
	return 0;
}

enum dedup_outcome
dedup_execute(db_conn *c, const char *job_id, const char *triggered_by,
	      int (*should_stop)(void *ctx), void *ctx, struct dedup_result *out, char *why,
	      size_t whylen)
{
	struct dedup_pass p = {c, NULL, out, should_stop, ctx, 0, BUF_INIT};
	const char *unlock[1] = {DEDUP_LOCK_KEY};
	long long t0;
	char total[32], ms[32];
	const char *params[4];
	PGresult *res;
	int rc, locked;

	memset(out, 0, sizeof *out);
	snprintf(why, whylen, "%s", "");
	res = db_exec_sql(c, DEDUP_SESSION);
	if (!res)
		goto dberr;
	PQclear(res);
	locked = dedup_lock(c, should_stop, ctx);
	if (locked < 0)
		goto dberr;
	if (locked > 0)
		return DEDUP_INTERRUPTED;
	t0 = dedup_now_ms();
	if (db_run(c, &st_run_stale, 0, NULL) != 0 || !(res = db_exec(c, &st_totals, 0, NULL)))
		goto dberr_locked;
	snprintf(total, sizeof total, "%lld",
		 atoll(PQgetvalue(res, 0, 0)) + atoll(PQgetvalue(res, 0, 1)));
	PQclear(res);
	params[0] = job_id;
	params[1] = triggered_by;
	params[2] = total;
	res = db_exec(c, &st_run_start, 3, params);
	if (!res)
		goto dberr_locked;
	snprintf(out->run_id, sizeof out->run_id, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	p.run_id = out->run_id;
	log_info("dedup: run %s started (%s)", out->run_id, triggered_by ? "manual" : "schedule");

	res = db_exec_sql(c, DEDUP_CHANGES_TABLE);
	if (!res)
		goto dberr_locked;
	PQclear(res);
	rc = dedup_kind(&p, "company");
	if (rc == 0)
		rc = dedup_kind(&p, "contact");
	out->ms = dedup_now_ms() - t0;
	snprintf(ms, sizeof ms, "%lld", out->ms);
	params[0] = out->run_id;
	params[2] = ms;
	if (rc < 0) {
		snprintf(why, whylen, "the database connection failed: %s", db_error_message(c));
		params[1] = "failed";
		params[3] = why;
	} else if (rc > 0) {
		params[1] = "interrupted";
		params[3] = "The server stopped during the run; it runs again from the start.";
	} else {
		params[1] = out->failures ? "failed" : "done";
		params[3] = p.failures.len ? p.failures.data : NULL;
	}
	if (PQstatus(db_pg(c)) == CONNECTION_OK) {
		dedup_progress(&p, "contacts");
		if (db_run(c, &st_run_finish, 4, params) != 0)
			log_warn("dedup: the end of run %s not recorded: %s", out->run_id,
				 db_error_message(c));
		db_run(c, &st_unlock, 1, unlock);
	}
	log_info("dedup: run %s %s in %lld ms: companies %lld checked, %lld flagged (%lld new, "
		 "%lld unflagged); contacts %lld checked, %lld flagged (%lld new, %lld unflagged)",
		 out->run_id, params[1], out->ms, out->companies.checked, out->companies.flagged,
		 out->companies.newly, out->companies.unflagged, out->contacts.checked,
		 out->contacts.flagged, out->contacts.newly, out->contacts.unflagged);
	buf_free(&p.failures);
	return rc < 0 ? DEDUP_FAILED : rc > 0 ? DEDUP_INTERRUPTED : DEDUP_DONE;

dberr_locked:
	snprintf(why, whylen, "the database refused the run: %s", db_error_message(c));
	if (PQstatus(db_pg(c)) == CONNECTION_OK)
		db_run(c, &st_unlock, 1, unlock);
	return DEDUP_FAILED;
dberr:
	snprintf(why, whylen, "the database refused the run: %s", db_error_message(c));
	return DEDUP_FAILED;
}

/* ---------------------------------------------------------------- the job */

static int
dedup_job_stop(void *ctx)
{
	return jobs_should_stop(ctx);
}

/*
 * The job runs the pass on a connection of its own, not in the job's work
 * transaction: the pass must commit batch by batch (see the top of the
 * file). The work transaction stays empty and commits the job's `done`.
 */
static int
dedup_job_run(struct job *job)
{
	const char *by = json_string_value(json_object_get(job->payload, "triggered_by"));
	struct dedup_result r;
	enum dedup_outcome o;
	char why[512];
	db_conn *c = db_connect(db_conninfo());

	if (!c) {
		jobs_set_error(job, "cannot connect to the database");
		return JOBS_FAILED;
	}
	o = dedup_execute(c, job->id, by, dedup_job_stop, job, &r, why, sizeof why);
	db_close(c);
	if (o == DEDUP_INTERRUPTED)
		return JOBS_INTERRUPTED;
	if (o == DEDUP_FAILED) {
		jobs_set_error(job, "%s", why);
		return JOBS_FAILED;
	}
	job->result = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:i}", "run_id", r.run_id, "ms", (json_int_t)r.ms,
	    "companies_checked", (json_int_t)r.companies.checked, "companies_flagged",
	    (json_int_t)r.companies.flagged, "contacts_checked", (json_int_t)r.contacts.checked,
	    "contacts_flagged", (json_int_t)r.contacts.flagged, "failures", r.failures);
	return JOBS_DONE;
}

DB_STMT(
    st_give_up_insert,
    "INSERT INTO dedup_runs (job_id, triggered_by, trigger, status, finished_at, duration_ms, "
    "error) SELECT $1::uuid, $2::uuid, CASE WHEN $2::uuid IS NULL THEN 'schedule' ELSE 'manual' "
    "END, 'failed', now(), 0, $3 WHERE NOT EXISTS (SELECT 1 FROM dedup_runs WHERE job_id = "
    "$1::uuid)");

/* The job failed before or outside a recorded run: the history says so, with the reason. */
static void
dedup_job_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	const char *by = json_string_value(json_object_get(payload, "triggered_by"));
	const char *p[3] = {job_id, by, reason};

	if (db_run(tx, &st_give_up_insert, 3, p) != 0)
		log_warn("dedup: failed job %s not recorded: %s", job_id, db_error_message(tx));
}

int
dedup_register(const struct config *cfg)
{
	static const struct job_kind kind = {DEDUP_KIND, dedup_job_run, dedup_job_give_up};

	if (jobs_register(&kind) != 0)
		return -1;
	return jobs_schedule_setting(DEDUP_KIND, DEDUP_SETTING, cfg->dedup_schedule);
}

/* ---------------------------------------------------------------- run now, schedule */

int
dedup_request(db_conn *c, const char *actor, char job_id[37])
{
	const char *p[1] = {actor};
	PGresult *res;

	if (db_begin(c) != 0)
		return -1;
	res = db_exec(c, &st_request, 1, p);
	if (!res) {
		db_rollback(c);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(c);
		return 0;
	}
	snprintf(job_id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (audit_record(c, actor, "run", "dedup", NULL, json_pack("{s:s}", "job_id", job_id)) !=
		0 ||
	    db_commit(c) != 0) {
		db_rollback(c);
		return -1;
	}
	return 1;
}

char *
dedup_schedule_get(db_conn *c, const char *default_expr)
{
	PGresult *res = db_exec(c, &st_setting_get, 0, NULL);
	char *v;

	if (!res)
		return NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	else
		v = xstrdup(default_expr && *default_expr ? default_expr : "off");
	PQclear(res);
	return v;
}

int
dedup_schedule_set(db_conn *c, const char *actor, const char *expr, const char *default_expr,
		   char *err, size_t errlen)
{
	struct cron cr;
	char cerr[160];
	char *clean, *old;
	const char *p[2];
	json_t *changes;
	size_t len;
	int rc = -1;

	while (expr && (*expr == ' ' || *expr == '\t'))
		expr++;
	len = expr ? strlen(expr) : 0;
	while (len && (expr[len - 1] == ' ' || expr[len - 1] == '\t' || expr[len - 1] == '\n' ||
		       expr[len - 1] == '\r'))
		len--;
	clean = len ? xstrndup(expr, len) : xstrdup("off");
	/* One space between fields, as the database's check expects it. */
	{
		char *r = clean, *w = clean;
		int space = 0;

		for (; *r; r++) {
			if (*r == ' ' || *r == '\t') {
				space = 1;
				continue;
			}
			if (space && w != clean)
				*w++ = ' ';
			space = 0;
			*w++ = *r;
		}
		*w = '\0';
	}
	if (strcasecmp(clean, "off") == 0) {
		snprintf(clean, strlen(clean) + 1, "off");
	} else if (strlen(clean) > 200 || cron_parse(clean, &cr, cerr, sizeof cerr) != 0) {
		snprintf(err, errlen, "%s",
			 strlen(clean) > 200 ? "That is too long for a schedule." : cerr);
		free(clean);
		return 1;
	}
	if (db_begin(c) != 0)
		goto out;
	old = dedup_schedule_get(c, default_expr);
	if (!old) {
		db_rollback(c);
		goto out;
	}
	if (strcmp(old, clean) == 0) {
		/* Saved as it was: nothing changes, nothing to audit. */
		free(old);
		db_rollback(c);
		rc = 0;
		goto out;
	}
	p[0] = clean;
	p[1] = actor;
	changes = json_object();
	audit_change(changes, "schedule", json_string(old), json_string(clean));
	free(old);
	if (db_run(c, &st_setting_put, 2, p) != 0 || db_run(c, &st_schedule_reset, 0, NULL) != 0 ||
	    audit_record(c, actor, "update", "dedup", NULL,
			 json_pack("{s:o}", "changes", changes)) != 0 ||
	    db_commit(c) != 0) {
		db_rollback(c);
		goto out;
	}
	rc = 0;
out:
	free(clean);
	return rc;
}

/* "in 45 minutes", "in 3 hours", "in 2 days": how far off a run is. */
static void
dedup_in_text(long long seconds, char *out, size_t outlen)
{
	char w[48];

	if (seconds < 86400) {
		snprintf(out, outlen, "in %s", format_wait(seconds, w, sizeof w));
	} else {
		long long d = (seconds + 43200) / 86400;

		snprintf(out, outlen, "in %lld day%s", d, d == 1 ? "" : "s");
	}
}

json_t *
dedup_schedule_preview(const char *expr, time_t now, int n)
{
	static const char *const days[7] = {"Sunday",	"Monday", "Tuesday", "Wednesday",
					    "Thursday", "Friday", "Saturday"};
	static const char *const months[12] = {"January",   "February", "March",    "April",
					       "May",	    "June",	"July",	    "August",
					       "September", "October",	"November", "December"};
	json_t *vm = json_object(), *runs = json_array();
	struct cron cr;
	char err[160];
	time_t t = now;
	int i;

	json_object_set_new(vm, "expression", json_string(expr ? expr : ""));
	if (!expr || !*expr || strcasecmp(expr, "off") == 0) {
		json_object_set_new(vm, "off", json_true());
		json_object_set_new(vm, "valid", json_true());
		json_object_set_new(vm, "runs", runs);
		return vm;
	}
	json_object_set_new(vm, "off", json_false());
	if (cron_parse(expr, &cr, err, sizeof err) != 0) {
		json_object_set_new(vm, "valid", json_false());
		json_object_set_new(vm, "error", json_string(err));
		json_object_set_new(vm, "runs", runs);
		return vm;
	}
	json_object_set_new(vm, "valid", json_true());
	for (i = 0; i < n; i++) {
		char iso[32], text[96], in[64];
		struct tm tm;

		t = cron_next(&cr, t);
		if (t == (time_t)-1)
			break;
		gmtime_r(&t, &tm);
		strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:00Z", &tm);
		snprintf(text, sizeof text, "%s %d %s %d, %02d:%02d UTC", days[tm.tm_wday % 7],
			 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
			 tm.tm_min);
		dedup_in_text((long long)(t - now), in, sizeof in);
		json_array_append_new(
		    runs, json_pack("{s:s, s:s, s:s}", "at", iso, "text", text, "in", in));
	}
	json_object_set_new(vm, "runs", runs);
	if (json_array_size(runs) == 0)
		json_object_set_new(vm, "never", json_true());
	return vm;
}

/* ---------------------------------------------------------------- the admin page */

static void
dedup_ms_text(long long ms, char *out, size_t outlen)
{
	if (ms < 1000)
		snprintf(out, outlen, "%lld ms", ms);
	else if (ms < 60000)
		snprintf(out, outlen, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(out, outlen, "%lld min %lld s", ms / 60000, (ms % 60000) / 1000);
}

/* {checked, flagged, new, unflagged} and their texts, from four columns from col. */
static json_t *
dedup_counts_json(PGresult *res, int row, int col)
{
	char a[32], b[32], c[32], d[32];
	long long checked = atoll(PQgetvalue(res, row, col));
	long long flagged = atoll(PQgetvalue(res, row, col + 1));
	long long newly = atoll(PQgetvalue(res, row, col + 2));
	long long unflagged = atoll(PQgetvalue(res, row, col + 3));

	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "checked", (json_int_t)checked,
			 "flagged", (json_int_t)flagged, "new", (json_int_t)newly, "unflagged",
			 (json_int_t)unflagged, "checked_text", format_count(checked, a, sizeof a),
			 "flagged_text", format_count(flagged, b, sizeof b), "new_text",
			 format_count(newly, c, sizeof c), "unflagged_text",
			 format_count(unflagged, d, sizeof d));
}

static json_t *
dedup_run_json(PGresult *res, int row)
{
	const char *status = PQgetvalue(res, row, 1);
	const char *trigger = PQgetvalue(res, row, 2);
	long long done = atoll(PQgetvalue(res, row, 8)), total = atoll(PQgetvalue(res, row, 9));
	char dur[48], dt[32], tt[32];
	int percent = total > 0 ? (int)(done * 100 / total) : 0;
	json_t *run;

	dedup_ms_text(atoll(PQgetvalue(res, row, 6)), dur, sizeof dur);
	run = json_pack(
	    "{s:s, s:s, s:b, s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:s}", "id",
	    PQgetvalue(res, row, 0), "status", status, "running", !strcmp(status, "running"),
	    "done", !strcmp(status, "done"), "failed", !strcmp(status, "failed"), "interrupted",
	    !strcmp(status, "interrupted"), "trigger", trigger, "started_by",
	    !strcmp(trigger, "manual")
		? (PQgetisnull(res, row, 3) ? "Unknown user" : PQgetvalue(res, row, 3))
		: "The schedule",
	    "started_at", PQgetvalue(res, row, 4), "started_text", PQgetvalue(res, row, 5),
	    "progress_done", (json_int_t)done, "progress_total", (json_int_t)total, "percent",
	    percent > 100 ? 100 : percent, "done_text", format_count(done, dt, sizeof dt),
	    "total_text", format_count(total, tt, sizeof tt));
	json_object_set_new(run, "duration_text", json_string(dur));
	json_object_set_new(
	    run, "phase",
	    records_nullable(PQgetisnull(res, row, 7) ? NULL : PQgetvalue(res, row, 7)));
	json_object_set_new(run, "companies", dedup_counts_json(res, row, 10));
	json_object_set_new(run, "contacts", dedup_counts_json(res, row, 14));
	json_object_set_new(run, "error",
			    PQgetisnull(res, row, 18) ? json_null()
						      : json_string(PQgetvalue(res, row, 18)));
	return run;
}

json_t *
dedup_status(db_conn *c, int limit)
{
	char lim[16], a[64], b[64];
	const char *p[1] = {lim};
	PGresult *res, *now;
	json_t *vm, *runs = json_array(), *current = json_null();
	int i;

	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 20);
	res = db_exec(c, &st_runs, 1, p);
	if (!res) {
		json_decref(runs);
		return NULL;
	}
	now = db_exec(c, &st_status_now, 0, NULL);
	if (!now) {
		PQclear(res);
		json_decref(runs);
		return NULL;
	}
	for (i = 0; i < PQntuples(res); i++) {
		json_t *run = dedup_run_json(res, i);

		if (json_is_null(current) && json_is_true(json_object_get(run, "running"))) {
			json_decref(current);
			current = json_incref(run);
		}
		json_array_append_new(runs, run);
	}
	vm = json_pack(
	    "{s:o, s:o, s:b, s:{s:I, s:I, s:s, s:s}}", "runs", runs, "current", current, "queued",
	    PQgetvalue(now, 0, 0)[0] == 't', "flagged", "companies",
	    (json_int_t)atoll(PQgetvalue(now, 0, 1)), "contacts",
	    (json_int_t)atoll(PQgetvalue(now, 0, 2)), "companies_text",
	    format_count_noun(atoll(PQgetvalue(now, 0, 1)), 0, "company", "companies", a, sizeof a),
	    "contacts_text",
	    format_count_noun(atoll(PQgetvalue(now, 0, 2)), 0, "contact", "contacts", b, sizeof b));
	json_object_set_new(vm, "has_runs", json_boolean(PQntuples(res) > 0));
	PQclear(res);
	PQclear(now);
	return vm;
}

/* ---------------------------------------------------------------- a record's duplicates */

json_t *
dedup_related(db_conn *c, const char *kind, const char *id)
{
	int company = strcmp(kind, "company") == 0;
	const char *base = company ? "/companies/" : "/contacts/";
	char max[16];
	const char *p[2] = {id, max};
	PGresult *res, *dups = NULL;
	json_t *vm, *list = json_array();
	long long count;
	int i;

	snprintf(max, sizeof max, "%d", DEDUP_RELATED_MAX);
	res = db_exec(c, company ? &st_related_company : &st_related_contact, 1, p);
	if (!res) {
		json_decref(list);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		json_decref(list);
		return json_pack("{s:s, s:b, s:n, s:o, s:b, s:i, s:b}", "kind", kind,
				 "is_duplicate", 0, "original", "duplicates", json_array(),
				 "has_duplicates", 0, "count", 0, "more", 0);
	}
	count = atoll(PQgetvalue(res, 0, 3));
	if (count > 0) {
		dups =
		    db_exec(c, company ? &st_related_company_dups : &st_related_contact_dups, 2, p);
		if (!dups) {
			PQclear(res);
			json_decref(list);
			return NULL;
		}
		for (i = 0; i < PQntuples(dups); i++) {
			buf href = BUF_INIT;

			buf_printf(&href, "%s%s", base, PQgetvalue(dups, i, 0));
			json_array_append_new(
			    list, json_pack("{s:s, s:s, s:s, s:s}", "id", PQgetvalue(dups, i, 0),
					    "name", PQgetvalue(dups, i, 1), "href", href.data,
					    "created_text", PQgetvalue(dups, i, 2)));
			buf_free(&href);
		}
		PQclear(dups);
	}
	vm = json_pack("{s:s, s:b, s:b, s:I, s:b, s:s}", "kind", kind, "is_duplicate",
		       PQgetvalue(res, 0, 0)[0] == 't', "has_duplicates", count > 0, "count",
		       (json_int_t)count, "more", count > DEDUP_RELATED_MAX, "noun",
		       company ? "company" : "contact");
	json_object_set_new(vm, "one", json_boolean(count == 1));
	json_object_set_new(vm, "key_text",
			    json_string(company ? "the same name, website and segment"
						: "the same e-mail address at the same company"));
	json_object_set_new(vm, "duplicates", list);
	if (!PQgetisnull(res, 0, 1)) {
		buf href = BUF_INIT;

		buf_printf(&href, "%s%s", base, PQgetvalue(res, 0, 1));
		json_object_set_new(vm, "original",
				    json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, 0, 1),
					      "name", PQgetvalue(res, 0, 2), "href", href.data));
		buf_free(&href);
	} else {
		json_object_set_new(vm, "original", json_null());
	}
	PQclear(res);
	return vm;
}

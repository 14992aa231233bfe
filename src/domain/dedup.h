/*
 * dedup — duplicate detection (SPEC.md §3): the job, its schedule, its run
 * record, and what a record's page says about its duplicates.
 *
 * A duplicate group is every record with the same key:
 *   company  case-insensitive name (white space collapsed) + website host
 *            (companies.website_host: no scheme, www., port or path) + segment;
 *   contact  lower-cased e-mail + company.
 * The oldest of a group (created_at, then id) keeps is_duplicate = false;
 * every other member is flagged and points to it (duplicate_of); a record no
 * longer in any group is unflagged. Nothing is merged or deleted.
 *
 * The pass is set-based SQL in short statements, one segment of companies or
 * one range of companies' contacts each, in autocommit: a statement's row
 * locks (only on rows whose flag changes) last as long as it does, so pages
 * and a running import never wait on the job for more than one batch. Each
 * change writes its audit row in the same statement. One run at a time across
 * every server: the job takes a PostgreSQL advisory lock, and at most one
 * dedup job can be queued or running (a unique index, migration 0009).
 */
#ifndef SPANNER_DEDUP_H
#define SPANNER_DEDUP_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "core/config.h"
#include "core/db.h"

/* The job kind, and the settings key of the schedule set on /admin/dedup. */
#define DEDUP_KIND "dedup"
#define DEDUP_SETTING "dedup_schedule"

/* Registers the job kind and its schedule (the setting, else cfg's dedup_schedule). 0 or -1. */
int dedup_register(const struct config *cfg);

struct dedup_counts {
	long long checked;   /* records looked at */
	long long flagged;   /* duplicates after the run */
	long long newly;     /* flagged by this run (were not duplicates) */
	long long unflagged; /* duplicates before, not any more */
};

struct dedup_result {
	char run_id[37];
	struct dedup_counts companies, contacts;
	long long ms;
	int failures; /* batches that failed; their reasons are in the run's error */
};

enum dedup_outcome {
	DEDUP_DONE = 0,	       /* finished (possibly with failed batches: result.failures) */
	DEDUP_INTERRUPTED = 1, /* should_stop said so; the run is recorded as interrupted */
	DEDUP_FAILED = -1,     /* the connection failed; reason in why */
};

/*
 * One whole pass on c, an autocommit connection of its own (never inside a
 * transaction: each batch commits by itself). Waits for the advisory lock
 * while another pass holds it (checking should_stop). Records the run in
 * dedup_runs (job_id and triggered_by may be NULL: a pass outside the job, a
 * scheduled run) with live progress. should_stop(ctx) (may be NULL) is asked
 * between batches.
 */
enum dedup_outcome dedup_execute(db_conn *c, const char *job_id, const char *triggered_by,
				 int (*should_stop)(void *ctx), void *ctx, struct dedup_result *out,
				 char *why, size_t whylen);

/*
 * "Run now": queues the job for actor, with its audit row, in one
 * transaction. 1 when queued (job id in job_id), 0 when a run is already
 * queued or running (nothing changed), -1 on a database error.
 */
int dedup_request(db_conn *c, const char *actor, char job_id[37]);

/*
 * The schedule in force: the settings row, else default_expr (config). Returns
 * a malloc'ed string, or NULL on a database error.
 */
char *dedup_schedule_get(db_conn *c, const char *default_expr);

/*
 * Stores a new schedule (a cron expression or "off", trimmed; "" = off) with
 * its audit row, and makes the scheduler recompute the next run. 0; 1 with a
 * message in err when the expression is invalid (nothing stored); -1 on a
 * database error.
 */
int dedup_schedule_set(db_conn *c, const char *actor, const char *expr, const char *default_expr,
		       char *err, size_t errlen);

/*
 * The schedule in words for the page: {expression, off, valid, error, runs:
 * [{at (ISO 8601), text ("Sunday 12 January 2025, 03:00 UTC"), in ("in 3
 * days")}]} with the next n runs after now.
 */
json_t *dedup_schedule_preview(const char *expr, time_t now, int n);

/*
 * The admin page's view: {current: the running run or null, queued (a dedup
 * job is queued or running: with current null, it waits or is starting), runs: [the last `limit`
 * runs, newest first], flagged: {companies, contacts} (duplicates now)}. NULL on a database error.
 */
json_t *dedup_status(db_conn *c, int limit);

/*
 * What a record's page says about duplicates, for templates/duplicates/
 * _related.mustache: {kind, is_duplicate, original: {id, name, href} | null,
 * duplicates: [{id, name, href, created_text}], has_duplicates, count, more}.
 * kind is "company" or "contact". NULL on a database error.
 */
json_t *dedup_related(db_conn *c, const char *kind, const char *id);

#endif

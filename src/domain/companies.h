/*
 * companies — the company record and its rules (SPEC.md §2).
 *
 * One field table drives the form, the side panel, validation and the CSV
 * import alike, so a rule written here holds for every way in. Values are
 * normalised on every write (domain/normalise.h) and validated the same way
 * everywhere (domain/validate.h). Status moves only pending → approved or
 * pending → rejected (with a reason), each exactly once: the UPDATE itself
 * requires status = 'pending', so of two approvers clicking at once one wins
 * and the other is told who did, and the database refuses any other
 * transition as well (trigger SP001).
 */
#ifndef SPANNER_COMPANIES_H
#define SPANNER_COMPANIES_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/db.h"
#include "domain/records.h"

/* The field table (domain/records.h): one description of every company field. */
#define COMPANIES_NFIELDS 15
extern const struct record_field companies_fields[COMPANIES_NFIELDS];

/* A field's description for forms (records_field_json). */
json_t *companies_field_json(const struct record_field *f, json_t *value);

/* Supplies the raw value of a column (NULL when absent). */
typedef records_get_fn companies_get_fn;

/*
 * Normalises and validates the fields get supplies. out[i] receives the clean
 * value of companies_fields[i] (NULL = empty); present[i] (may be NULL) is set
 * when get supplied the column. Problems go into errors as {column: message}.
 * With partial set, absent columns are not required (an inline edit of one
 * field). Returns the number of errors. Free out with companies_values_free.
 */
int companies_clean(companies_get_fn get, void *ctx, int partial, char *out[COMPANIES_NFIELDS],
		    int present[COMPANIES_NFIELDS], json_t *errors);
void companies_values_free(char *out[COMPANIES_NFIELDS]);

/* show_duplicates: list only the duplicates (/admin/dedup links to them: duplicates=only). */
#define COMPANIES_ONLY_DUPLICATES 2

struct companies_filter {
	const char *q;          /* name contains */
	const char *segment_id;
	const char *status;
	const char *created_by;
	const char *assigned_to; /* an active company → Researcher assignment to this user */
	const char *from;       /* YYYY-MM-DD, inclusive */
	const char *to;         /* YYYY-MM-DD, inclusive */
	const char *batch_id;
	int show_duplicates;    /* 1: shown too; COMPANIES_ONLY_DUPLICATES: only them */
	int show_inactive;
	int oldest_first;       /* the queue, and one upload (file order): oldest first */
	const char *after;      /* keyset cursor from a previous page */
	int limit;              /* 0 = no limit (export) */
};

/*
 * Checks a filter's values (ids, dates, status, cursor); NULL when usable,
 * else a message for the filter bar.
 */
const char *companies_filter_problem(const struct companies_filter *f);

/*
 * One page of the list: an array of rows; *next receives the cursor of the
 * following page (malloc'ed) or NULL at the end. NULL on a database error.
 */
json_t *companies_list(db_conn *c, const struct companies_filter *f, char **next);

/*
 * How many rows the filter lists (the cursor ignored), counting at most a
 * fixed cap: *capped is set when there are more. -1 on a database error.
 */
long long companies_count(db_conn *c, const struct companies_filter *f, int *capped);

/*
 * Streams the filtered list as CSV through a cursor inside the caller's open
 * transaction: companies_export_open, then companies_export_fetch until it
 * returns 0 (rows appended to out as CSV; the header with the first call).
 * The columns: the import template's, in its order, then Status, Rejection
 * Reason, Duplicate, Active, Batch, Created, Updated, Researcher and Id — so
 * an exported file can be edited and imported again as it is.
 */
int companies_export_open(db_conn *tx, const struct companies_filter *f);
int companies_export_fetch(db_conn *tx, buf *out, int *header_done);

/* One company with segment, creator and duplicate-of names; NULL if none (or *err). */
json_t *companies_get(db_conn *c, const char *id, int *err);

/* Active segments for pickers: [{id, name}]. */
json_t *companies_active_segments(db_conn *c);
/*
 * The filter bar's pick lists in one round trip: {segments: [{id, name}]
 * (active), researchers: [{id, name}] (people who have created companies),
 * assignees: [{id, name}] (people companies are assigned to)}.
 * NULL on a database error.
 */
json_t *companies_filter_options(db_conn *c);

enum companies_result {
	COMPANIES_OK,
	COMPANIES_INVALID,   /* errors filled */
	COMPANIES_NOT_FOUND,
	COMPANIES_CONFLICT,  /* message filled: not pending any more, and why */
	COMPANIES_DB_ERROR,
};

enum companies_result companies_create(db_conn *c, const char *actor, const char *segment_id,
				       char *vals[COMPANIES_NFIELDS], char id_out[37],
				       json_t *errors);
/* Updates the present fields (and the segment when segment_id is non-NULL). */
enum companies_result companies_update(db_conn *c, const char *actor, const char *id,
				       const char *segment_id, char *vals[COMPANIES_NFIELDS],
				       const int present[COMPANIES_NFIELDS], json_t *errors);
enum companies_result companies_approve(db_conn *c, const char *actor, const char *id, char *msg,
					size_t msglen);
enum companies_result companies_reject(db_conn *c, const char *actor, const char *id,
				       const char *reason, char *msg, size_t msglen);

#endif

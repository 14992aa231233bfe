/*
 * records — what every record module (companies, contacts) shares: the field
 * table that drives forms, panels, validation and CSV import alike; the one
 * clean step (normalise → validate) every write goes through; and the pieces
 * of a filtered, keyset-paginated list (dates, the page cursor, the search
 * box) so that every list reads its URL the same way.
 *
 * A module describes its fields once (struct record_field) and calls
 * records_clean with a getter for the raw values, whatever they come from: a
 * form, a JSON body or a CSV row. That is what makes normalisation identical
 * for form, CSV and JSON (SPEC.md §2).
 */
#ifndef SPANNER_RECORDS_H
#define SPANNER_RECORDS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/db.h"

enum record_field_kind {
	RF_NAME, /* company name: SPEC casing rules */
	RF_TEXT, /* single line */
	RF_LONG, /* multi-line text */
	RF_URL,
	RF_YEAR,  /* 1800 to the current year */
	RF_EMAIL, /* lower-cased, validated */
};

struct record_field {
	const char *column;	/* form field and column name */
	const char *label;	/* for people */
	const char *csv_header; /* the import/export column */
	enum record_field_kind kind;
	size_t max; /* characters */
	int required;
};

/* A field's description for forms: {column, label, value, long, url, year, email, required, max}.
 */
json_t *records_field_json(const struct record_field *f, json_t *value);

/* Supplies the raw value of a column (NULL when absent). */
typedef const char *(*records_get_fn)(void *ctx, const char *column);

/*
 * Normalises and validates the n fields get supplies. out[i] receives the
 * clean value of fields[i] (NULL = empty); present[i] (may be NULL) is set
 * when get supplied the column. Problems go into errors as {column: message}.
 * With partial set, absent columns are not required (an inline edit of one
 * field). Returns the number of errors. Free out with records_values_free.
 */
int records_clean(const struct record_field *fields, size_t n, records_get_fn get, void *ctx,
		  int partial, char **out, int *present, json_t *errors);
void records_values_free(char **out, size_t n);

/* The index of the field named column, or -1. */
int records_field_index(const struct record_field *fields, size_t n, const char *column);

/*
 * An edit of present fields: for each present field whose new value differs
 * from the old row's (old row 0, the fields' columns from first_col on, in
 * table order), appends "column = $k" to sql (comma-separated after the
 * first), binds the new value as params[k-1] and records {old, new} in
 * changes (audit_change). Returns how many fields changed.
 */
int records_set_changes(buf *sql, const char **params, int *n, const struct record_field *fields,
			size_t nfields, PGresult *old, int first_col, char **vals,
			const int *present, json_t *changes);

/* ------------------------------------------------------------------ lists */

/* A real calendar date, YYYY-MM-DD: 2021-02-31 is refused here, not by PostgreSQL's cast. */
int records_valid_date(const char *s);

/*
 * A page cursor is "<created_at ISO 8601 with microseconds>_<uuid>", the
 * (created_at, id) of the last row shown. Splits it into ts and id; 0, or -1
 * for anything else (a damaged or hand-made link).
 */
int records_parse_cursor(const char *after, char ts[40], char id[37]);

/*
 * The checks every list filter shares: the segment, researcher and upload
 * ids, from/to dates, the cursor, the search text (≤ 200 characters, UTF-8).
 * NULL when usable, else a message.
 */
const char *records_filter_problem(const char *segment_id, const char *created_by,
				   const char *batch_id, const char *q, const char *from,
				   const char *to, const char *after);

/* " AND column = $k" when value is set, binding it. */
void records_where(buf *sql, const char **params, int *n, const char *column, const char *value);

/*
 * The one JSON column of a one-row statement (json_build_object / json_agg in
 * the SQL: a whole view in one round trip), parsed. NULL on a database error.
 */
json_t *records_json(db_conn *c, db_stmt *st, int n, const char *const *params);

/*
 * Named lists of {id, name} from one statement whose rows are (list, id,
 * name), in the order the lists show them: an object with an array for each
 * of the n names (empty when no row names it). For the filter bars, which
 * every list page shows: jansson parses JSON text at some 30 ns a byte, and
 * their 7.6 KB as JSON cost a list page a tenth of its CPU. NULL on a
 * database error.
 */
json_t *records_lists(db_conn *c, db_stmt *st, int nparams, const char *const *params,
		      const char *const *names, size_t n);

/* Turns one result row of a list into its JSON. */
typedef json_t *(*records_row_fn)(PGresult *res, int row);

/* Every row of res through row, as an array; res is cleared. NULL when res is NULL. */
json_t *records_rows(PGresult *res, records_row_fn row);

/*
 * Runs a list statement (sql, keyset order included) for one page of limit
 * rows: asks for one more, to know whether there is a next page without a
 * count. Returns the rows; *next receives the cursor of the following page
 * ("<created_at of column ts_col>_<id of column 0>", malloc'ed) or NULL at
 * the end. NULL on a database error.
 */
json_t *records_page(db_conn *c, buf *sql, const char **params, int n, int limit, int ts_col,
		     records_row_fn row, char **next);

/*
 * Appends the keyset condition and the order for a list over alias.created_at
 * and alias.id: newest first, or oldest first (queues). When after parses,
 * its two values are bound as the next parameters (ts and id are the
 * caller's storage, which must outlive the statement).
 */
void records_keyset(buf *sql, const char **params, int *n, const char *alias, const char *after,
		    int oldest_first, char ts[40], char id[37]);

/*
 * " AND alias.created_at >= $k::date" / " < $k::date + 1" for the dates in
 * use, binding them.
 */
void records_date_range(buf *sql, const char **params, int *n, const char *alias, const char *from,
			const char *to);

/*
 * How many rows a list statement (sql: "SELECT 1 FROM … WHERE …", no order)
 * gives, counting at most cap: *capped is set when there are more (the
 * count is then cap). Appends the LIMIT and binds it. -1 on a database
 * error. The first screen of a list must not grow with the data.
 */
long long records_count(db_conn *c, buf *sql, const char **params, int n, long long cap,
			int *capped);

/*
 * Declares the export cursor name over the list statement sql inside the
 * caller's open transaction ("DECLARE name NO SCROLL CURSOR FOR " is put in
 * front). 0 or -1.
 */
int records_export_open(db_conn *tx, const char *name, const buf *sql, const char **params, int n);

/* What an export writes: its header row, and which columns are booleans. */
struct records_export {
	const char *cursor;	   /* the cursor's name */
	const char *const *header; /* column headings, in the statement's column order */
	size_t nheader;
	const int *yes_no; /* column indexes shown as "yes"/"no", ended by -1 */
};

/*
 * The next rows of an export cursor as CSV (the header and the byte order
 * mark with the first call, *header_done then set). The number of rows
 * appended; 0 at the end; -1 on a database error.
 */
int records_export_fetch(db_conn *tx, const struct records_export *e, buf *out, int *header_done);

/* A nullable column's value (NULL for SQL NULL) and its JSON (null for NULL). */
const char *records_value(PGresult *res, int row, int col);
json_t *records_nullable(const char *s);

#endif

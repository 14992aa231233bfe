/*
 * imports — CSV import of records (SPEC.md §4): upload batches, the import
 * job, the error report and the correction of failed rows.
 *
 * Everything here is generic. What is imported — the columns, how a row is
 * checked and normalised, the lookups it needs, the staging table and the
 * one INSERT that moves staged rows into the real table — is an
 * imports_spec, registered once at start (domain/company_import.c is the
 * first; contacts add theirs without touching this module).
 *
 * The pipeline, for a new file and for corrections alike:
 *
 *   upload   the handler checks the file (name, size, a header and a data
 *            row), then one transaction creates the batch, stores the
 *            file's bytes in upload_files (any server's worker can read
 *            them), queues the job and writes the 'upload' audit row;
 *   job      in the worker's transaction: read the file from the database,
 *            parse it as a stream (core/csvin), match the header, check and
 *            normalise every row through the spec, COPY the good rows into a
 *            TEMP staging table and the failed ones (in full) and their
 *            errors into upload_rows/upload_errors, then one INSERT … SELECT
 *            into the target table, the batch's counts and the 'import'
 *            audit row. The job commits all of it or nothing; a crash re-runs
 *            it, and a job that keeps dying marks the batch failed
 *            (give_up) with nothing imported;
 *   correct  failed rows edited in the grid, or a corrected CSV, run through
 *            the same check and the same staging INSERT, in the request's
 *            transaction; rows that pass join the same batch and their errors
 *            are marked corrected; rows that still fail keep their newest
 *            values and errors. Nothing that failed is ever deleted.
 *
 * Rows are numbered as a spreadsheet shows them: the header is row 1, the
 * first data row row 2, a blank line still takes a row number (Excel shows it
 * as an empty row) and a value with line breaks inside stays one row.
 * Decisions about odd files, written once here:
 *   - blank lines, and lines of nothing but empty values (",,,"), are skipped
 *     and not counted as rows;
 *   - a row with fewer values than the header has the missing trailing ones
 *     empty; values past the last header column are ignored (and kept in the
 *     failed row, should the row fail);
 *   - a header column named twice: the first one counts;
 *   - within-file duplicates are all imported (the dedup job flags them).
 */
#ifndef SPANNER_IMPORTS_H
#define SPANNER_IMPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/db.h"
#include "domain/records.h"

/* The largest file accepted: 10 MB (SPEC §4). */
#define IMPORTS_MAX_BYTES ((size_t)10 * 1024 * 1024)

struct imports_column {
	const char *header; /* as in the template: "Company Name" */
	int required;	    /* the file must have this column (its cells are the spec's business) */
	const char *hint;   /* what goes in it, for the upload page */
	int multiline;	    /* multi-line text: the correction grid edits it in a textarea */
};

/* The problems of one row, filled by a spec's check(). */
struct imports_problems;

/* Reports that spec column `column` of the row is wrong (message is copied). */
void imports_problem(struct imports_problems *p, size_t column, const char *message);

/* Appends one value in COPY text format (NULL → \N), preceded by a tab unless first. */
void imports_copy_value(buf *out, const char *value, int first);

struct imports_spec {
	const char *entity_type; /* upload_batches.entity_type: "company" */
	const char *slug;	 /* in URLs: /imports/companies/new */
	const char *noun;	 /* "company" */
	const char *nouns;	 /* "companies" */
	const char *title;	 /* "Companies" */
	const char *permission;	 /* upload and correct: "companies.upload_csv" */
	const char *job_kind;	 /* "import.companies" */
	const char *records_url; /* the batch's records, + batch id: "/companies?batch=" */
	const char *record_url;	 /* one record, + its id: "/companies/" */
	const struct imports_column *columns;
	size_t ncolumns;
	/*
	 * Fixed SQL. The staging table is import_stage; the generic columns
	 * (id uuid default gen_random_uuid(), row_number, upload_row_id,
	 * submitted) come first, then stage_columns ("name text, …"), filled by
	 * COPY in copy_columns order. insert_sql moves every staged row into the
	 * target table in one statement: $1 = batch id, $2 = the acting user;
	 * it must use import_stage.id as the new record's id.
	 */
	const char *stage_columns;
	const char *copy_columns;
	const char *insert_sql;
	/*
	 * A new file's good rows skip the staging table: they are copied straight
	 * into `table` (copy_columns, then status = new_status, batch_id,
	 * created_by, and created_at = the transaction's now() plus the row number
	 * in microseconds, so lists show a batch in file order), while the file is
	 * still being read. Corrections stage, as they need the new ids.
	 */
	const char *table;
	const char *new_status;
	/* Per-run state (lookups loaded once): NULL on a database error. */
	void *(*open)(db_conn *db);
	void (*close)(void *ctx);
	/*
	 * Checks and normalises one row. values[i] is the cell of columns[i]
	 * (NULL when the file has no such column). On success appends the
	 * staging values (copy_columns, with imports_copy_value, first = 1 for
	 * the first) to copy and returns 0; otherwise reports each problem and
	 * returns how many (whatever it appended is discarded).
	 */
	int (*check)(void *ctx, const char *const *values, buf *copy,
		     struct imports_problems *problems);
};

/*
 * For specs whose row is a record of a field table (domain/records.h):
 * field_column[f] receives the index of the spec column whose header is
 * fields[f].csv_header. 0, or -1 (logged) when a field has no column or its
 * column disagrees with the field on being multi-line: a check for start-up.
 */
int imports_field_columns(const struct imports_spec *spec, const struct record_field *fields,
			  size_t nfields, int *field_column);

/*
 * Cleans a row's record fields (records_clean: the very normalisation and
 * validation of the form) from values, in spec column order, and reports
 * each problem on its column. out[f] receives the clean values (free with
 * records_values_free). Returns the number of problems.
 */
int imports_clean_row(const struct record_field *fields, size_t nfields, const int *field_column,
		      const char *const *values, char **out, struct imports_problems *problems);

/* Registers a spec and its job kind. Before jobs_start. 0 or -1 (logged). */
int imports_register(const struct imports_spec *spec);
const struct imports_spec *imports_spec_by_slug(const char *slug);
/* The i-th registered spec (in registration order), NULL past the last. */
const struct imports_spec *imports_spec_nth(int i);
const struct imports_spec *imports_spec_by_entity(const char *entity_type);

enum imports_result {
	IMPORTS_OK,
	IMPORTS_INVALID, /* message says why (for the user) */
	IMPORTS_NOT_FOUND,
	IMPORTS_CONFLICT,    /* message says why: still processing, rows changed meanwhile */
	IMPORTS_UNAVAILABLE, /* the database cannot be reached */
	IMPORTS_DB_ERROR,
};

/*
 * The checks made before a batch exists, on the uploaded file itself: a
 * .csv name, 1 byte to 10 MB, and readable UTF-8 CSV up to a header row and
 * one data row. 0, or -1 with a message for the upload form.
 */
int imports_check_file(const char *filename, const char *path, size_t size, char *msg,
		       size_t msglen);

/*
 * One transaction: the batch (status processing), the file's bytes, the
 * job, the 'upload' audit row. batch_id receives the new batch's id.
 */
enum imports_result imports_create(db_conn *c, const struct imports_spec *spec, const char *actor,
				   const char *filename, const char *path, size_t size,
				   char batch_id[37]);

/*
 * A batch with its data-model fields — id, entity_type, file_name,
 * file_size_bytes, status, total_rows, processed_rows, valid_rows,
 * invalid_rows, corrected_rows, error_message, uploader {id, name},
 * created_at, finished_at — plus, while it is processing, the live counts
 * of its job (progress {phase, rows, valid, invalid, percent}, job_state),
 * and links {self, records, errors_csv, failed_rows_csv, fix}. NULL when
 * there is none (or *err set on a database error).
 */
json_t *imports_batch(db_conn *c, const char *id, int *err);

/* The first `limit` open errors of a batch: [{row_number, column, value, message}]. */
json_t *imports_batch_errors(db_conn *c, const char *id, int limit);

struct imports_filter {
	const char *uploader_id; /* "mine" */
	const char *status;	 /* processing | completed | failed */
	const char *after;	 /* keyset cursor from the previous page */
	int limit;
};

/* NULL when the filter is usable, else a message for the filter bar. */
const char *imports_filter_problem(const struct imports_filter *f);
/* One page of batches, newest first; *next the next page's cursor (malloc'ed) or NULL. */
json_t *imports_list(db_conn *c, const struct imports_filter *f, char **next);

/*
 * The downloads, streamed through a cursor inside the caller's open
 * transaction: open, then fetch until it returns 0 (rows appended to out as
 * CSV, the header with the first call), then close.
 *   errors       one line per error: row, column, submitted value, message,
 *                and whether it has been corrected;
 *   failed rows  the rows still failing, in full (their newest values), in
 *                the file's own columns and order, ready to fix and upload
 *                again as a correction.
 */
struct imports_report;
struct imports_report *imports_report_open(db_conn *tx, const char *batch_id, int failed_rows);
int imports_report_fetch(struct imports_report *r, buf *out);
void imports_report_close(struct imports_report *r);

/*
 * The correction grid: the batch's failed rows after row `after` (0: from
 * the start), at most limit: {columns [{index, header}] (the file's columns
 * the spec reads), rows [{row_number, cells [{index, header, value,
 * error}], errors [messages about no one column]}], next_after (0: none),
 * failing (all still failing)}. NULL on a database error.
 */
json_t *imports_fix_page(db_conn *c, const struct imports_spec *spec, const char *batch_id,
			 long after, int limit);

/* Supplies an edited cell of the grid: the value, or NULL to keep the stored one. */
typedef const char *(*imports_cell_fn)(void *ctx, long row_number, size_t header_index);

/*
 * Re-checks the failed rows with these row numbers, their cells taken from
 * cell() (or kept). outcome (an object) receives {imported, failed, skipped,
 * rows: [{row_number, imported, id, cells/errors as in imports_fix_page}]}.
 */
enum imports_result imports_fix_rows(db_conn *c, const struct imports_spec *spec,
				     const char *batch_id, const char *actor,
				     const long *row_numbers, size_t nrows, imports_cell_fn cell,
				     void *ctx, json_t *outcome, char *msg, size_t msglen);

/*
 * A corrected CSV against the batch. Its data rows stand, in order, for the
 * rows failed-rows.csv lists now (the k-th row for the k-th still-failing
 * row, in row-number order), so the file must have exactly that many rows;
 * columns are matched to the original header by name, and columns it lacks
 * keep their stored values. outcome as for imports_fix_rows (without rows).
 */
enum imports_result imports_fix_file(db_conn *c, const struct imports_spec *spec,
				     const char *batch_id, const char *actor, const char *path,
				     json_t *outcome, char *msg, size_t msglen);

#endif

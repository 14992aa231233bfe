/*
 * imports — upload batches, the import job, reports and corrections.
 *
 * The heart of it is one small engine, struct imports_run, that takes rows
 * (from a new file, from the correction grid, from a corrected file), checks
 * each through the spec, and sorts it: a good row's normalised values go to
 * a COPY stream sent in 1 MB blocks while the file is still being read, so
 * PostgreSQL stores while we parse — for a new file straight into the
 * target table, for corrections into a TEMP staging table — and a failed
 * row goes, whole, with its errors, to two more COPY streams kept in memory.
 * At the end, run_finish() turns the rest into rows with a handful of
 * set-based statements (for corrections, one INSERT … SELECT for all the
 * good rows), whatever the number of rows. No statement is ever sent per
 * row.
 *
 * A new file is read inside the import job's transaction (jobs.h): the job
 * commits the records, the failed rows, the errors, the batch's counts and
 * the audit row together, or nothing. A file refused as a whole (not UTF-8,
 * bad quoting, required columns missing, no data rows) is not a failed job:
 * the staging work is rolled back to a savepoint and the batch is marked
 * failed with the reason, in the same transaction. A job that fails (a
 * database error) or keeps killing its worker is marked failed by the job
 * queue, which calls give_up to mark the batch failed with nothing imported.
 *
 * Values are kept exactly as uploaded in upload_rows (row_values), in the
 * file's own columns, so failed-rows.csv can be rebuilt byte for byte and
 * nothing that failed is ever lost; corrections store their newest attempt
 * beside it (corrected_values).
 */
#include "imports.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/csvin.h"
#include "core/csvout.h"
#include "core/jobs.h"
#include "core/log.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/validate.h"

#define IMPORTS_MAX_SPECS 8
/* COPY data is sent in blocks of this size. */
#define IMPORTS_COPY_BLOCK (1024 * 1024)
/* Progress is reported every this many rows (jobs_progress throttles further). */
#define IMPORTS_PROGRESS_ROWS 2000
/* A problem about the row as a whole rather than one column. */
#define IMPORTS_ROW ((size_t)-1)

/* Why reading stopped early (returned through csvin as the callback's value). */
enum run_stop {
	RUN_GO = 0,
	RUN_REJECT = 1,	   /* the file is refused as a whole: message says why */
	RUN_INTERRUPT = 2, /* the job must stop (shutdown, lost lease) */
	RUN_DB = 3,	   /* a database error: dberr says which */
};

struct imports_problem_item {
	size_t column;
	size_t off; /* message offset in text */
};

struct imports_problems {
	struct imports_problem_item *items;
	size_t n, cap;
	buf text;
};

/* One stored failed row being corrected. */
struct fix_target {
	char id[37];
	long row_number;
	json_t *values; /* newest values, in the batch's header order */
};

struct imports_run {
	const struct imports_spec *spec;
	void *spec_ctx;
	db_conn *db;
	struct job *job; /* the import job, or NULL for corrections */
	const char *batch_id;
	const char *actor;
	int correcting;	  /* rows correct stored failed rows */
	json_t *outcomes; /* per-row results for the grid, or NULL */

	char **headers; /* the batch's header row, as in the file */
	size_t nheaders;
	int *map;	   /* spec column → header index, or -1 */
	const char **vals; /* scratch: one row's cells in spec order */

	/* reading a file: spreadsheet row numbers */
	int header_done;
	long last_row;
	size_t last_end_line;

	/* reading a corrected file */
	int *cmap; /* batch header → corrected file column, or -1 */
	struct fix_target *targets;
	size_t ntargets, next_target;
	const char **hvals; /* scratch: one row in the batch's header order */

	buf line; /* scratch: one row's staging values */
	struct imports_problems problems;
	buf stage; /* COPY import_stage (or the table itself: direct), sent in blocks */
	int stage_open;
	int direct;	  /* a new file: good rows are copied into spec->table itself */
	long long now_us; /* direct: the transaction's now(), µs since 1970 */
	long copied;	  /* rows the last COPY stored */
	buf failed;	  /* COPY upload_rows (new file) or import_retry (corrections) */
	buf errs;	  /* COPY import_errs */

	long total, valid, invalid;
	size_t bytes, size; /* read so far (about) and the file's size: progress */
	int stop;
	char message[1024];
	char dberr[512];
	int unavailable; /* the database connection was lost */
};

/* What the upload check has seen of a file so far. */
struct peek {
	int header;
	int data;
};

static const struct imports_spec *specs[IMPORTS_MAX_SPECS];
static int nspecs;

static const struct imports_spec *imports_spec_by_kind(const char *kind);
static void problems_reset(struct imports_problems *p);
static void problems_free(struct imports_problems *p);
static void copy_text(buf *out, const char *s);
static void array_literal(buf *out, const char *const *v, size_t n, int for_copy);
static char *clean_file_name(const char *filename);
static void run_headers_from_json(struct imports_run *r, json_t *headers);
static enum imports_result run_commit_fix(struct imports_run *r, const char *source,
					  json_t *outcome, char *msg, size_t msglen);
static int header_equal(const char *a, const char *b);
static size_t line_breaks(char **fields, const size_t *lens, size_t n);
static int all_empty(const size_t *lens, size_t n);
static void run_init(struct imports_run *r, const struct imports_spec *spec, db_conn *db,
		     const char *batch_id, const char *actor, int correcting);
static void run_free(struct imports_run *r);
static int run_db_fail(struct imports_run *r, const char *what, const char *detail);
static int run_sql(struct imports_run *r, const char *sql, int n, const char *const *p,
		   long *count);
static int run_begin(struct imports_run *r);
static void run_set_headers(struct imports_run *r, char *const *fields, size_t n);
static int run_missing_columns(struct imports_run *r);
static int run_copy_put(struct imports_run *r, const char *data, size_t len);
static int run_copy_end(struct imports_run *r, const char *abort_reason);
static int run_copy_all(struct imports_run *r, const char *sql, const buf *data);
static int run_flush_stage(struct imports_run *r, int force);
static void put_created_at(buf *out, long long us);
static int run_take(struct imports_run *r, long row_number, const char *upload_row_id,
		    const char *const *values, size_t n);
static json_t *run_outcome(struct imports_run *r, long row_number, const char *const *values,
			   size_t n, int imported);
static int run_finish(struct imports_run *r);
static int run_collect_ids(struct imports_run *r);
static int run_progress(struct imports_run *r);
static int run_on_record(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);
static int run_reject(struct imports_run *r, const char *why);
static int imports_job_run(struct job *job);
static void imports_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static enum imports_result run_result(struct imports_run *r, char *msg, size_t msglen);
static json_t *nullable(const char *s);
static json_t *json_text(PGresult *res, int row, int col);
static int batch_lock(db_conn *c, const struct imports_spec *spec, const char *batch_id,
		      json_t **headers, char *msg, size_t msglen, enum imports_result *rc);
static json_t *row_json(const struct imports_run *r, long row_number, const char *id,
			json_t *values, json_t *errors);
static int load_targets(struct imports_run *r, const char *sql, int n, const char *const *p);
static void free_targets(struct imports_run *r);
static int fix_count_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);
static int fix_file_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);
static int valid_cursor(const char *after, char ts[40], char id[37]);
static long long now_ms(void);
static int peek_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);

/* ---------------------------------------------------------------- statements */

DB_STMT(st_batch_insert, "INSERT INTO upload_batches (entity_type, file_name, file_size_bytes, "
			 "uploader_id) VALUES ($1, $2, $3::bigint, $4) RETURNING id");
DB_STMT(st_batch_job, "UPDATE upload_batches SET job_id = $2 WHERE id = $1");
DB_STMT(st_job_batch_lock, "SELECT status, file_size_bytes, uploader_id FROM upload_batches "
			   "WHERE id = $1 AND entity_type = $2 FOR UPDATE");
DB_STMT(st_batch_reject,
	"UPDATE upload_batches SET status = 'failed', error_message = $2, headers = $3::text[], "
	"total_rows = 0, processed_rows = 0, valid_rows = 0, invalid_rows = 0, "
	"finished_at = clock_timestamp() WHERE id = $1");
DB_STMT(
    st_batch_done,
    "UPDATE upload_batches SET status = 'completed', error_message = NULL, "
    "headers = $2::text[], total_rows = $3::int, processed_rows = $3::int, "
    "valid_rows = $4::int, invalid_rows = $5::int, finished_at = clock_timestamp() WHERE id = $1");
DB_STMT(st_batch_give_up, "UPDATE upload_batches SET status = 'failed', error_message = $2, "
			  "finished_at = clock_timestamp() "
			  "WHERE id = $1 AND status = 'processing' RETURNING uploader_id");
DB_STMT(st_batch_counts, "UPDATE upload_batches SET valid_rows = valid_rows + $2::int, "
			 "invalid_rows = invalid_rows - $2::int WHERE id = $1");
DB_STMT(st_batch_get,
	"SELECT b.id, b.entity_type, b.file_name, b.file_size_bytes, b.status, b.total_rows, "
	"b.processed_rows, b.valid_rows, b.invalid_rows, b.error_message, u.id, u.name, "
	"to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"to_char(b.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"to_char(b.created_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI'), "
	"round(extract(epoch FROM b.finished_at - b.created_at)::numeric, 1)::text, "
	"j.state, j.progress::text, (SELECT count(*) FROM upload_rows r WHERE r.batch_id = b.id "
	"AND r.status = 'corrected'), array_to_json(b.headers)::text "
	"FROM upload_batches b JOIN users u ON u.id = b.uploader_id "
	"LEFT JOIN jobs j ON j.id = b.job_id WHERE b.id = $1");
DB_STMT(st_batch_errors,
	"SELECT e.row_number, e.column_name, e.value, e.error_message FROM upload_errors e "
	"JOIN upload_batches b ON b.id = e.batch_id WHERE e.batch_id = $1 AND NOT e.is_corrected "
	"ORDER BY e.row_number, array_position(b.headers, e.column_name) NULLS LAST, e.id "
	"LIMIT $2::int");
DB_STMT(st_fix_batch, "SELECT status, array_to_json(headers)::text, entity_type "
		      "FROM upload_batches WHERE id = $1 FOR UPDATE");
DB_STMT(st_fix_page_batch, "SELECT status, array_to_json(headers)::text, invalid_rows, "
			   "entity_type FROM upload_batches WHERE id = $1");
DB_STMT(st_fix_page_rows,
	"SELECT id, row_number, array_to_json(coalesce(corrected_values, row_values))::text "
	"FROM upload_rows WHERE batch_id = $1 AND status = 'failed' AND row_number > $2::int "
	"ORDER BY row_number LIMIT $3::int");
DB_STMT(st_fix_page_errors,
	"SELECT upload_row_id, column_name, error_message FROM upload_errors "
	"WHERE upload_row_id = ANY ($1::uuid[]) AND NOT is_corrected ORDER BY row_number, id");

/* Statements on the TEMP tables are sent unprepared: the tables live for one transaction. */
#define SQL_ERRS_TABLE                                                                             \
	"CREATE TEMP TABLE import_errs (row_number integer NOT NULL, upload_row_id uuid, "         \
	"column_name text, value text, message text NOT NULL) ON COMMIT DROP"
#define SQL_RETRY_TABLE                                                                            \
	"CREATE TEMP TABLE import_retry (upload_row_id uuid NOT NULL, row_values text[] NOT "      \
	"NULL) "                                                                                   \
	"ON COMMIT DROP"
#define SQL_COPY_ROWS "COPY upload_rows (batch_id, row_number, row_values) FROM STDIN"
#define SQL_COPY_RETRY "COPY import_retry (upload_row_id, row_values) FROM STDIN"
#define SQL_COPY_ERRS                                                                              \
	"COPY import_errs (row_number, upload_row_id, column_name, value, message) FROM STDIN"
#define SQL_NEW_ERRORS                                                                             \
	"INSERT INTO upload_errors (batch_id, upload_row_id, row_number, column_name, value, "     \
	"error_message) SELECT $1, r.id, e.row_number, e.column_name, e.value, e.message "         \
	"FROM import_errs e JOIN upload_rows r ON r.batch_id = $1 AND r.row_number = e.row_number"
#define SQL_FIX_CORRECTED                                                                          \
	"UPDATE upload_rows u SET status = 'corrected', imported_id = s.id, "                      \
	"corrected_values = s.submitted FROM import_stage s WHERE u.id = s.upload_row_id"
#define SQL_FIX_CLOSE_ERRORS                                                                       \
	"UPDATE upload_errors SET is_corrected = true, corrected_at = now() "                      \
	"WHERE upload_row_id IN (SELECT upload_row_id FROM import_stage) AND NOT is_corrected"
#define SQL_FIX_RETRY_VALUES                                                                       \
	"UPDATE upload_rows u SET corrected_values = r.row_values FROM import_retry r "            \
	"WHERE u.id = r.upload_row_id"
/* A cell that no longer fails has its error corrected, even if its row still fails elsewhere. */
#define SQL_FIX_RETRY_CLOSE                                                                        \
	"UPDATE upload_errors e SET is_corrected = true, corrected_at = now() "                    \
	"WHERE e.upload_row_id IN (SELECT upload_row_id FROM import_retry) AND NOT "               \
	"e.is_corrected "                                                                          \
	"AND NOT EXISTS (SELECT 1 FROM import_errs n WHERE n.upload_row_id = e.upload_row_id "     \
	"AND n.column_name IS NOT DISTINCT FROM e.column_name)"
#define SQL_FIX_RETRY_UPDATE                                                                       \
	"UPDATE upload_errors e SET value = n.value, error_message = n.message "                   \
	"FROM import_errs n WHERE e.upload_row_id = n.upload_row_id AND NOT e.is_corrected "       \
	"AND e.column_name IS NOT DISTINCT FROM n.column_name"
#define SQL_FIX_RETRY_NEW                                                                          \
	"INSERT INTO upload_errors (batch_id, upload_row_id, row_number, column_name, value, "     \
	"error_message) SELECT $1, n.upload_row_id, n.row_number, n.column_name, n.value, "        \
	"n.message FROM import_errs n WHERE NOT EXISTS (SELECT 1 FROM upload_errors e "            \
	"WHERE e.upload_row_id = n.upload_row_id AND NOT e.is_corrected "                          \
	"AND e.column_name IS NOT DISTINCT FROM n.column_name)"

/* ---------------------------------------------------------------- registry */

int
imports_register(const struct imports_spec *spec)
{
	struct job_kind kind;

	if (nspecs == IMPORTS_MAX_SPECS || !spec || !spec->job_kind || !spec->check) {
		log_error("imports: cannot register the import of %s",
			  spec && spec->nouns ? spec->nouns : "?");
		return -1;
	}
	memset(&kind, 0, sizeof kind);
	kind.name = spec->job_kind;
	kind.run = imports_job_run;
	kind.give_up = imports_give_up;
	if (jobs_register(&kind) != 0)
		return -1;
	specs[nspecs++] = spec;
	return 0;
}

const struct imports_spec *
imports_spec_by_slug(const char *slug)
{
	int i;

	for (i = 0; slug && i < nspecs; i++)
		if (strcmp(specs[i]->slug, slug) == 0)
			return specs[i];
	return NULL;
}

const struct imports_spec *
imports_spec_nth(int i)
{
	return i >= 0 && i < nspecs ? specs[i] : NULL;
}

const struct imports_spec *
imports_spec_by_entity(const char *entity_type)
{
	int i;

	for (i = 0; entity_type && i < nspecs; i++)
		if (strcmp(specs[i]->entity_type, entity_type) == 0)
			return specs[i];
	return NULL;
}

static const struct imports_spec *
imports_spec_by_kind(const char *kind)
{
	int i;

	for (i = 0; kind && i < nspecs; i++)
		if (strcmp(specs[i]->job_kind, kind) == 0)
			return specs[i];
	return NULL;
}

/* ---------------------------------------------------------------- small helpers */

void
imports_problem(struct imports_problems *p, size_t column, const char *message)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->items = xrealloc(p->items, p->cap * sizeof *p->items);
	}
	p->items[p->n].column = column;
	p->items[p->n].off = p->text.len;
	p->n++;
	buf_append(&p->text, message, strlen(message) + 1);
}

int
imports_field_columns(const struct imports_spec *spec, const struct record_field *fields,
		      size_t nfields, int *field_column)
{
	size_t f, i;

	for (f = 0; f < nfields; f++) {
		field_column[f] = -1;
		for (i = 0; i < spec->ncolumns; i++)
			if (strcmp(spec->columns[i].header, fields[f].csv_header) == 0)
				field_column[f] = (int)i;
		if (field_column[f] < 0) {
			log_error("%s import: no column “%s” for the field %s", spec->noun,
				  fields[f].csv_header, fields[f].column);
			return -1;
		}
		if (spec->columns[field_column[f]].multiline != (fields[f].kind == RF_LONG)) {
			log_error("%s import: column “%s” disagrees with the field table on being "
				  "multi-line",
				  spec->noun, fields[f].csv_header);
			return -1;
		}
	}
	return 0;
}

/* records_clean's getter over a row in spec column order. */
struct clean_row {
	const struct record_field *fields;
	size_t nfields;
	const int *field_column;
	const char *const *values;
};

static const char *
clean_row_get(void *ctx, const char *column)
{
	const struct clean_row *cr = ctx;
	size_t f;

	/* records_clean passes the field table's own pointers: compare those first */
	for (f = 0; f < cr->nfields; f++)
		if (column == cr->fields[f].column)
			return cr->values[cr->field_column[f]];
	f = (size_t)records_field_index(cr->fields, cr->nfields, column);
	return f < cr->nfields ? cr->values[cr->field_column[f]] : NULL;
}

int
imports_clean_row(const struct record_field *fields, size_t nfields, const int *field_column,
		  const char *const *values, char **out, struct imports_problems *problems)
{
	struct clean_row cr = {fields, nfields, field_column, values};
	json_t *errors = json_object();
	const char *key;
	json_t *v;
	int bad, f;

	bad = records_clean(fields, nfields, clean_row_get, &cr, 0, out, NULL, errors);
	json_object_foreach(errors, key, v)
	{
		f = records_field_index(fields, nfields, key);
		if (f >= 0)
			imports_problem(problems, (size_t)field_column[f], json_string_value(v));
	}
	json_decref(errors);
	return bad;
}

static void
problems_reset(struct imports_problems *p)
{
	p->n = 0;
	buf_reset(&p->text);
}

static void
problems_free(struct imports_problems *p)
{
	free(p->items);
	buf_free(&p->text);
}

/* COPY text format: backslash, tab, line feed and carriage return are escaped. */
static void
copy_text(buf *out, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = NULL;

		switch (*s) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		buf_append(out, run, (size_t)(s - run));
		buf_puts(out, esc);
		run = s + 1;
	}
	buf_append(out, run, (size_t)(s - run));
}

void
imports_copy_value(buf *out, const char *value, int first)
{
	if (!first)
		buf_putc(out, '\t');
	if (!value)
		buf_puts(out, "\\N");
	else
		copy_text(out, value);
}

/*
 * A text[] literal ({"a","b \"c\""}): each element quoted, its quotes and
 * backslashes escaped for the array syntax; for_copy escapes the whole once
 * more for COPY text format. A NULL element stays NULL.
 */
static void
array_literal(buf *out, const char *const *v, size_t n, int for_copy)
{
	size_t i;

	buf_putc(out, '{');
	for (i = 0; i < n; i++) {
		const char *s = v[i];

		if (i)
			buf_putc(out, ',');
		if (!s) {
			buf_puts(out, "NULL");
			continue;
		}
		buf_putc(out, '"');
		for (; *s; s++) {
			if (!for_copy) {
				if (*s == '"' || *s == '\\')
					buf_putc(out, '\\');
				buf_putc(out, *s);
				continue;
			}
			switch (*s) {
			case '"':
				buf_puts(out, "\\\\\"");
				break; /* \" for the array, \ doubled for COPY */
			case '\\':
				buf_puts(out, "\\\\\\\\");
				break;
			case '\t':
				buf_puts(out, "\\t");
				break;
			case '\n':
				buf_puts(out, "\\n");
				break;
			case '\r':
				buf_puts(out, "\\r");
				break;
			default:
				buf_putc(out, *s);
			}
		}
		buf_putc(out, '"');
	}
	buf_putc(out, '}');
}

/*
 * Header names match case-insensitively, surrounding white space (including
 * the no-break space spreadsheets like) ignored.
 */
static int
header_equal(const char *a, const char *b)
{
	size_t la, lb;

	for (;;) {
		if (*a == ' ' || *a == '\t')
			a++;
		else if ((unsigned char)a[0] == 0xC2 && (unsigned char)a[1] == 0xA0)
			a += 2;
		else
			break;
	}
	la = strlen(a);
	for (;;) {
		if (la && (a[la - 1] == ' ' || a[la - 1] == '\t'))
			la--;
		else if (la >= 2 && (unsigned char)a[la - 2] == 0xC2 &&
			 (unsigned char)a[la - 1] == 0xA0)
			la -= 2;
		else
			break;
	}
	lb = strlen(b);
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Line breaks inside a record's values (CR LF counts once): how many lines it spans, less one. */
static size_t
line_breaks(char **fields, const size_t *lens, size_t n)
{
	size_t i, j, count = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < lens[i]; j++) {
			char c = fields[i][j];

			if (c == '\n' ||
			    (c == '\r' && (j + 1 == lens[i] || fields[i][j + 1] != '\n')))
				count++;
		}
	return count;
}

static int
all_empty(const size_t *lens, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lens[i])
			return 0;
	return 1;
}

static json_t *
nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A JSON column decoded (NULL → JSON null). */
static json_t *
json_text(PGresult *res, int row, int col)
{
	json_t *v;

	if (PQgetisnull(res, row, col))
		return json_null();
	v = json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
	return v ? v : json_null();
}

/* ---------------------------------------------------------------- the engine */

static void
run_init(struct imports_run *r, const struct imports_spec *spec, db_conn *db, const char *batch_id,
	 const char *actor, int correcting)
{
	memset(r, 0, sizeof *r);
	r->spec = spec;
	r->db = db;
	r->batch_id = batch_id;
	r->actor = actor;
	r->correcting = correcting;
	r->vals = xcalloc(spec->ncolumns, sizeof *r->vals);
	r->map = xcalloc(spec->ncolumns, sizeof *r->map);
}

static void
run_free(struct imports_run *r)
{
	size_t i;

	if (r->spec_ctx)
		r->spec->close(r->spec_ctx);
	for (i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->map);
	free(r->vals);
	free(r->cmap);
	free(r->hvals);
	free_targets(r);
	buf_free(&r->line);
	buf_free(&r->stage);
	buf_free(&r->failed);
	buf_free(&r->errs);
	problems_free(&r->problems);
}

static int
run_db_fail(struct imports_run *r, const char *what, const char *detail)
{
	if (r->stop != RUN_DB)
		snprintf(r->dberr, sizeof r->dberr, "%s: %s", what,
			 detail && *detail ? detail : PQerrorMessage(db_pg(r->db)));
	r->stop = RUN_DB;
	if (PQstatus(db_pg(r->db)) != CONNECTION_OK)
		r->unavailable = 1;
	log_error("imports: batch %s: %s", r->batch_id, r->dberr);
	if (r->job)
		jobs_set_error(r->job, "%s", r->dberr);
	return -1;
}

/* A statement on the run's connection; *count (may be NULL) gets the rows it touched. */
static int
run_sql(struct imports_run *r, const char *sql, int n, const char *const *p, long *count)
{
	PGresult *res = db_exec_params(r->db, sql, n, p);

	if (!res)
		return run_db_fail(r, "import statement failed", db_error_message(r->db));
	if (count)
		*count = atol(PQcmdTuples(res));
	PQclear(res);
	return 0;
}

/* The spec's lookups and the TEMP tables. */
static int
run_begin(struct imports_run *r)
{
	buf sql = BUF_INIT;
	int rc;

	/*
	 * In memory, not on disk: the contact import's look-up sorts every company
	 * (100,000 at 100×: 0.4 s more as an external sort), a correction's INSERT
	 * sorts the staged rows into file order, and the tables' statement
	 * triggers (0010) keep every new row of the statement in a transition
	 * table.
	 */
	if (run_sql(r, "SET LOCAL work_mem = '64MB'", 0, NULL, NULL) != 0)
		return -1;
	r->spec_ctx = r->spec->open(r->db);
	if (!r->spec_ctx)
		return run_db_fail(r, "loading the lookups failed", db_error_message(r->db));
	/*
	 * A new file's rows go straight into the table by COPY while the file is
	 * read: PostgreSQL stores them as they come, on the other core, instead
	 * of writing them to a staging table and reading them back in one INSERT
	 * at the end (that round trip was a third of the import).
	 */
	r->direct = !r->correcting;
	if (r->direct) {
		PGresult *res = db_exec_params(
		    r->db, "SELECT (extract(epoch FROM now()) * 1000000)::bigint", 0, NULL);

		if (!res)
			return run_db_fail(r, "reading the time failed", db_error_message(r->db));
		r->now_us = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	buf_printf(&sql,
		   "CREATE TEMP TABLE import_stage (id uuid NOT NULL DEFAULT gen_random_uuid(), "
		   "row_number integer NOT NULL, upload_row_id uuid, submitted text[], %s) "
		   "ON COMMIT DROP",
		   r->spec->stage_columns);
	rc = run_sql(r, sql.data, 0, NULL, NULL);
	buf_free(&sql);
	if (rc == 0)
		rc = run_sql(r, SQL_ERRS_TABLE, 0, NULL, NULL);
	if (rc == 0 && r->correcting)
		rc = run_sql(r, SQL_RETRY_TABLE, 0, NULL, NULL);
	return rc;
}

/* The batch's header row; each spec column is found in it (the first of two that match). */
static void
run_set_headers(struct imports_run *r, char *const *fields, size_t n)
{
	size_t i, h;

	r->headers = xcalloc(n ? n : 1, sizeof *r->headers);
	r->nheaders = n;
	for (h = 0; h < n; h++)
		r->headers[h] = xstrdup(fields[h]);
	for (i = 0; i < r->spec->ncolumns; i++) {
		r->map[i] = -1;
		for (h = 0; h < n && r->map[i] < 0; h++)
			if (header_equal(fields[h], r->spec->columns[i].header))
				r->map[i] = (int)h;
	}
}

/* Every required column the header lacks, listed in the message. The count. */
static int
run_missing_columns(struct imports_run *r)
{
	buf names = BUF_INIT;
	size_t i;
	int missing = 0;

	int listed = 0, total = 0;

	for (i = 0; i < r->spec->ncolumns; i++)
		total += r->spec->columns[i].required && r->map[i] < 0;
	for (i = 0; i < r->spec->ncolumns; i++) {
		if (!r->spec->columns[i].required || r->map[i] >= 0)
			continue;
		listed++;
		buf_printf(&names, "%s“%s”",
			   listed == 1	     ? ""
			   : listed == total ? " and "
					     : ", ",
			   r->spec->columns[i].header);
		missing++;
	}
	if (missing)
		snprintf(r->message, sizeof r->message,
			 "The header row (row 1) lacks the required column%s %s. Name %s in the "
			 "first row of the file (any case; the template has every column) and "
			 "upload it again.",
			 missing > 1 ? "s" : "", names.data, missing > 1 ? "them" : "it");
	buf_free(&names);
	return missing;
}

static int
run_copy_put(struct imports_run *r, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len > IMPORTS_COPY_BLOCK ? IMPORTS_COPY_BLOCK : len;

		if (PQputCopyData(db_pg(r->db), data, (int)n) != 1)
			return run_db_fail(r, "sending rows failed", NULL);
		data += n;
		len -= n;
	}
	return 0;
}

/* Ends a COPY (or aborts it, with a reason) and reads its outcome. */
static int
run_copy_end(struct imports_run *r, const char *abort_reason)
{
	PGconn *pg = db_pg(r->db);
	PGresult *res;
	int ok;

	if (PQputCopyEnd(pg, abort_reason) != 1)
		return run_db_fail(r, "ending the row copy failed", NULL);
	res = PQgetResult(pg);
	ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	r->copied = ok ? atol(PQcmdTuples(res)) : 0;
	if (!ok && !abort_reason)
		run_db_fail(r, "copying rows failed", res ? PQresultErrorMessage(res) : NULL);
	PQclear(res);
	while ((res = PQgetResult(pg)) != NULL)
		PQclear(res);
	return ok || abort_reason ? 0 : -1;
}

static int
run_copy_all(struct imports_run *r, const char *sql, const buf *data)
{
	PGresult *res;

	if (data->len == 0)
		return 0;
	res = db_exec_sql(r->db, sql);
	if (!res)
		return run_db_fail(r, "starting a row copy failed", db_error_message(r->db));
	PQclear(res);
	if (run_copy_put(r, data->data, data->len) != 0)
		return -1;
	return run_copy_end(r, NULL);
}

/* A timestamptz in COPY text format, from µs since 1970, in UTC. */
static void
put_created_at(buf *out, long long us)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char text[40];

	gmtime_r(&secs, &tm);
	strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(out, "%s.%06lld+00", text, us % 1000000);
}

/* Sends the staged rows so far once there is a block of them (or all, with force). */
static int
run_flush_stage(struct imports_run *r, int force)
{
	if (r->stage.len == 0 || (!force && r->stage.len < IMPORTS_COPY_BLOCK))
		return 0;
	if (!r->stage_open) {
		buf sql = BUF_INIT;
		PGresult *res;

		if (r->direct)
			buf_printf(&sql,
				   "COPY %s (%s, status, batch_id, created_by, created_at) FROM "
				   "STDIN",
				   r->spec->table, r->spec->copy_columns);
		else
			buf_printf(&sql,
				   "COPY import_stage (row_number, upload_row_id, submitted, %s) "
				   "FROM STDIN",
				   r->spec->copy_columns);
		res = db_exec_sql(r->db, sql.data);
		buf_free(&sql);
		if (!res)
			return run_db_fail(r, "starting the row copy failed",
					   db_error_message(r->db));
		PQclear(res);
		r->stage_open = 1;
	}
	if (run_copy_put(r, r->stage.data, r->stage.len) != 0)
		return -1;
	buf_reset(&r->stage);
	return 0;
}

/* A row's result for the correction grid (values and errors by header index). */
static json_t *
run_outcome(struct imports_run *r, long row_number, const char *const *values, size_t n,
	    int imported)
{
	json_t *vals, *errs;
	size_t i;

	if (imported)
		return json_pack("{s:I, s:b}", "row_number", (json_int_t)row_number, "imported", 1);
	vals = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(vals, nullable(values[i]));
	errs = json_array();
	for (i = 0; i < r->problems.n; i++) {
		size_t col = r->problems.items[i].column;
		int h = col == IMPORTS_ROW ? -1 : r->map[col];

		json_array_append_new(
		    errs, json_pack("{s:s?, s:s}", "column", h >= 0 ? r->headers[h] : NULL,
				    "message", r->problems.text.data + r->problems.items[i].off));
	}
	return row_json(r, row_number, NULL, vals, errs);
}

/*
 * One data row: values are its cells in the batch's header order (n of
 * them; fewer than the header when the row is short). upload_row_id is the
 * stored failed row it corrects, or NULL for a row of a new file.
 */
static int
run_take(struct imports_run *r, long row_number, const char *upload_row_id,
	 const char *const *values, size_t n)
{
	size_t i;
	int bad;

	for (i = 0; i < r->spec->ncolumns; i++) {
		int h = r->map[i];

		r->vals[i] = h < 0 ? NULL : (size_t)h < n ? values[h] : "";
	}
	problems_reset(&r->problems);
	buf_reset(&r->line);
	bad = r->spec->check(r->spec_ctx, r->vals, &r->line, &r->problems);
	r->total++;
	if (bad == 0) {
		char num[24];

		r->valid++;
		if (r->direct) {
			buf_append(&r->stage, r->line.data ? r->line.data : "", r->line.len);
			imports_copy_value(&r->stage, r->spec->new_status, 0);
			imports_copy_value(&r->stage, r->batch_id, 0);
			imports_copy_value(&r->stage, r->actor, 0);
			buf_putc(&r->stage, '\t');
			put_created_at(&r->stage, r->now_us + row_number);
			buf_putc(&r->stage, '\n');
			return run_flush_stage(r, 0);
		}
		snprintf(num, sizeof num, "%ld", row_number);
		buf_puts(&r->stage, num);
		imports_copy_value(&r->stage, upload_row_id, 0);
		buf_putc(&r->stage, '\t');
		if (r->correcting)
			array_literal(&r->stage, values, n, 1);
		else
			buf_puts(&r->stage, "\\N");
		buf_putc(&r->stage, '\t');
		buf_append(&r->stage, r->line.data ? r->line.data : "", r->line.len);
		buf_putc(&r->stage, '\n');
		if (r->outcomes)
			json_array_append_new(r->outcomes,
					      run_outcome(r, row_number, values, n, 1));
		return run_flush_stage(r, 0);
	}

	r->invalid++;
	if (r->correcting) {
		buf_puts(&r->failed, upload_row_id);
		buf_putc(&r->failed, '\t');
	} else {
		buf_puts(&r->failed, r->batch_id);
		buf_printf(&r->failed, "\t%ld\t", row_number);
	}
	array_literal(&r->failed, values, n, 1);
	buf_putc(&r->failed, '\n');
	for (i = 0; i < r->problems.n; i++) {
		size_t col = r->problems.items[i].column;
		int h = col == IMPORTS_ROW ? -1 : r->map[col];

		buf_printf(&r->errs, "%ld", row_number);
		imports_copy_value(&r->errs, upload_row_id, 0);
		imports_copy_value(&r->errs,
				   col == IMPORTS_ROW ? NULL
				   : h >= 0	      ? r->headers[h]
						      : r->spec->columns[col].header,
				   0);
		imports_copy_value(&r->errs, col == IMPORTS_ROW ? NULL : r->vals[col], 0);
		imports_copy_value(&r->errs, r->problems.text.data + r->problems.items[i].off, 0);
		buf_putc(&r->errs, '\n');
	}
	if (r->outcomes)
		json_array_append_new(r->outcomes, run_outcome(r, row_number, values, n, 0));
	return 0;
}

/* The grid's imported rows get the id of the record they became. */
static int
run_collect_ids(struct imports_run *r)
{
	PGresult *res = db_exec_params(r->db, "SELECT row_number, id FROM import_stage", 0, NULL);
	json_t *o;
	size_t i;
	int k;

	if (!res)
		return run_db_fail(r, "reading the new ids failed", db_error_message(r->db));
	json_array_foreach(r->outcomes, i, o)
	{
		json_int_t row = json_integer_value(json_object_get(o, "row_number"));

		if (!json_is_true(json_object_get(o, "imported")))
			continue;
		for (k = 0; k < PQntuples(res); k++)
			if (atoll(PQgetvalue(res, k, 0)) == row)
				json_object_set_new(o, "id", json_string(PQgetvalue(res, k, 1)));
	}
	PQclear(res);
	return 0;
}

/* All rows taken: staged rows into the target table, failed rows and errors stored. */
static int
run_finish(struct imports_run *r)
{
	const char *p[2] = {r->batch_id, r->actor};
	long imported = 0;

	if (run_flush_stage(r, 1) != 0 || (r->stage_open && run_copy_end(r, NULL) != 0))
		return -1;
	if (r->direct) {
		imported = r->stage_open ? r->copied : 0;
		if (imported != r->valid)
			return run_db_fail(r, "import statement failed",
					   "not every row was stored");
	}
	r->stage_open = 0;
	if (run_copy_all(r, r->correcting ? SQL_COPY_RETRY : SQL_COPY_ROWS, &r->failed) != 0 ||
	    run_copy_all(r, SQL_COPY_ERRS, &r->errs) != 0)
		return -1;
	if (r->valid > 0 && !r->direct) {
		if (run_sql(r, r->spec->insert_sql, 2, p, &imported) != 0)
			return -1;
		if (imported != r->valid)
			return run_db_fail(r, "import statement failed",
					   "not every row was inserted");
	}
	if (!r->correcting)
		return r->invalid > 0 ? run_sql(r, SQL_NEW_ERRORS, 1, p, NULL) : 0;
	if (r->outcomes && r->valid > 0 && run_collect_ids(r) != 0)
		return -1;
	if (r->valid > 0 && (run_sql(r, SQL_FIX_CORRECTED, 0, NULL, NULL) != 0 ||
			     run_sql(r, SQL_FIX_CLOSE_ERRORS, 0, NULL, NULL) != 0))
		return -1;
	if (r->invalid > 0 && (run_sql(r, SQL_FIX_RETRY_VALUES, 0, NULL, NULL) != 0 ||
			       run_sql(r, SQL_FIX_RETRY_CLOSE, 0, NULL, NULL) != 0 ||
			       run_sql(r, SQL_FIX_RETRY_UPDATE, 0, NULL, NULL) != 0 ||
			       run_sql(r, SQL_FIX_RETRY_NEW, 1, p, NULL) != 0))
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- the import job */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
run_progress(struct imports_run *r)
{
	double pct = r->size ? 100.0 * (double)r->bytes / (double)r->size : 0;

	if (!r->job)
		return 0;
	if (jobs_should_stop(r->job))
		return -1;
	return jobs_progress(
	    r->job, json_pack("{s:s, s:I, s:I, s:I, s:i}", "phase", "reading", "rows",
			      (json_int_t)r->total, "valid", (json_int_t)r->valid, "invalid",
			      (json_int_t)r->invalid, "percent", pct > 99 ? 99 : (int)pct));
}

/* csvin's callback while a new file is read. */
static int
run_on_record(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct imports_run *r = ctx;
	long row = r->last_row + (long)(line - r->last_end_line);
	size_t i;

	/* Spreadsheet rows: blank lines in between count, line breaks inside values do not. */
	r->last_row = row;
	r->last_end_line = line + line_breaks(fields, lens, n);
	for (i = 0; i < n; i++)
		r->bytes += lens[i] + 1;
	if (all_empty(lens, n))
		return RUN_GO;
	if (!r->header_done) {
		r->header_done = 1;
		run_set_headers(r, fields, n);
		return run_missing_columns(r) ? RUN_REJECT : RUN_GO;
	}
	if (run_take(r, row, NULL, (const char *const *)fields, n) != 0)
		return RUN_DB;
	if (r->total % IMPORTS_PROGRESS_ROWS == 0 && run_progress(r) != 0)
		return RUN_INTERRUPT;
	return RUN_GO;
}

/* The whole file is refused: staging undone, the batch failed with the reason. */
static int
run_reject(struct imports_run *r, const char *why)
{
	PGresult *res;
	buf headers = BUF_INIT;
	const char *p[3];
	int rc;

	if (r->stage_open) {
		run_copy_end(r, "file rejected");
		r->stage_open = 0;
	}
	res = db_exec_sql(r->db, "ROLLBACK TO SAVEPOINT import_file");
	if (!res)
		return run_db_fail(r, "undoing the staged rows failed", db_error_message(r->db));
	PQclear(res);
	if (r->header_done)
		array_literal(&headers, (const char *const *)r->headers, r->nheaders, 0);
	p[0] = r->batch_id;
	p[1] = why;
	p[2] = headers.data;
	rc = db_run(r->db, &st_batch_reject, 3, p);
	buf_free(&headers);
	if (rc != 0)
		return run_db_fail(r, "marking the batch failed failed", db_error_message(r->db));
	if (audit_record(r->db, r->actor, "import", "upload_batch", r->batch_id,
			 json_pack("{s:s, s:s}", "status", "failed", "error", why)) != 0)
		return run_db_fail(r, "writing the audit row failed", db_error_message(r->db));
	if (r->job)
		r->job->result = json_pack("{s:s, s:s}", "status", "failed", "error", why);
	return 0;
}

static int
imports_job_run(struct job *job)
{
	const char *batch_id = json_string_value(json_object_get(job->payload, "batch_id"));
	const char *actor = json_string_value(json_object_get(job->payload, "actor_id"));
	const struct imports_spec *spec = imports_spec_by_kind(job->kind);
	struct imports_run r;
	struct csvin_error err;
	const char *p[2];
	PGresult *lock, *file;
	buf hdr = BUF_INIT;
	char total[24], valid[24], invalid[24];
	int rc, outcome = JOBS_FAILED;
	long long t0 = now_ms(), t_read = 0, t_parsed = 0;

	if (!spec || !batch_id || !uuid_valid(batch_id) || !actor || !uuid_valid(actor)) {
		jobs_set_error(job, "the job's payload names no valid batch and user");
		return JOBS_FAILED;
	}
	p[0] = batch_id;
	p[1] = spec->entity_type;
	lock = db_exec(job->db, &st_job_batch_lock, 2, p);
	if (!lock)
		return JOBS_FAILED;
	if (PQntuples(lock) != 1) {
		PQclear(lock);
		jobs_set_error(job, "upload batch %s does not exist", batch_id);
		return JOBS_FAILED;
	}
	if (strcmp(PQgetvalue(lock, 0, 0), "processing") != 0) {
		/* Already finished (a duplicate job): nothing to do, and nothing to undo. */
		job->result = json_pack("{s:s}", "skipped", PQgetvalue(lock, 0, 0));
		PQclear(lock);
		return JOBS_DONE;
	}
	run_init(&r, spec, job->db, batch_id, actor, 0);
	r.job = job;
	r.size = (size_t)atoll(PQgetvalue(lock, 0, 1));
	PQclear(lock);

	/* The bytes, in binary: no hex round trip for up to 10 MB. */
	file = PQexecParams(db_pg(job->db), "SELECT content FROM upload_files WHERE batch_id = $1",
			    1, NULL, p, NULL, NULL, 1);
	if (PQresultStatus(file) != PGRES_TUPLES_OK || PQntuples(file) != 1) {
		run_db_fail(&r, "reading the uploaded file failed",
			    PQresultStatus(file) == PGRES_TUPLES_OK ? "the file is missing"
								    : PQresultErrorMessage(file));
		PQclear(file);
		goto out;
	}
	if (run_begin(&r) != 0 || run_sql(&r, "SAVEPOINT import_file", 0, NULL, NULL) != 0) {
		PQclear(file);
		goto out;
	}
	run_progress(&r);
	t_read = now_ms();
	rc = csvin_parse_buffer(PQgetvalue(file, 0, 0), (size_t)PQgetlength(file, 0, 0),
				run_on_record, &r, &err);
	PQclear(file);
	t_parsed = now_ms();

	if (rc == RUN_DB)
		goto out;
	if (rc == RUN_INTERRUPT) {
		outcome = JOBS_INTERRUPTED;
		goto out;
	}
	if (rc == -1 || rc == RUN_REJECT || !r.header_done || r.total == 0) {
		if (rc == -1)
			snprintf(r.message, sizeof r.message, "%s", err.message);
		else if (!r.header_done)
			snprintf(r.message, sizeof r.message,
				 "The file is empty: it has no header row.");
		else if (rc != RUN_REJECT)
			snprintf(r.message, sizeof r.message,
				 "The file has a header row but no data rows.");
		if (run_reject(&r, r.message) == 0)
			outcome = JOBS_DONE;
		goto out;
	}

	jobs_progress(job, json_pack("{s:s, s:I, s:I, s:I, s:i}", "phase", "importing", "rows",
				     (json_int_t)r.total, "valid", (json_int_t)r.valid, "invalid",
				     (json_int_t)r.invalid, "percent", 99));
	if (run_finish(&r) != 0)
		goto out;
	array_literal(&hdr, (const char *const *)r.headers, r.nheaders, 0);
	snprintf(total, sizeof total, "%ld", r.total);
	snprintf(valid, sizeof valid, "%ld", r.valid);
	snprintf(invalid, sizeof invalid, "%ld", r.invalid);
	{
		const char *u[5] = {batch_id, hdr.data, total, valid, invalid};

		if (db_run(job->db, &st_batch_done, 5, u) != 0) {
			run_db_fail(&r, "updating the batch failed", db_error_message(job->db));
			goto out;
		}
	}
	if (audit_record(job->db, actor, "import", "upload_batch", batch_id,
			 json_pack("{s:s, s:I, s:I, s:I}", "status", "completed", "total_rows",
				   (json_int_t)r.total, "valid_rows", (json_int_t)r.valid,
				   "invalid_rows", (json_int_t)r.invalid)) != 0) {
		run_db_fail(&r, "writing the audit row failed", db_error_message(job->db));
		goto out;
	}
	job->result = json_pack("{s:s, s:I, s:I, s:I}", "status", "completed", "total_rows",
				(json_int_t)r.total, "valid_rows", (json_int_t)r.valid,
				"invalid_rows", (json_int_t)r.invalid);
	/* where the time goes, for the import benchmark (bench/RESULTS.md) */
	log_info("import: batch %s: %ld rows (%ld valid); file read %lld ms, parsed, checked and "
		 "staged %lld ms, stored %lld ms",
		 batch_id, r.total, r.valid, t_read - t0, t_parsed - t_read, now_ms() - t_parsed);
	outcome = JOBS_DONE;
out:
	if (r.stage_open)
		run_copy_end(&r, "import stopped");
	buf_free(&hdr);
	run_free(&r);
	return outcome;
}

/*
 * The job failed for good (a database error, or its worker died too often):
 * in the transaction that marks it failed, the batch is marked failed too.
 * Its rows were never committed, so nothing of it was imported.
 */
static void
imports_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	const char *batch_id = json_string_value(json_object_get(payload, "batch_id"));
	const char *actor = json_string_value(json_object_get(payload, "actor_id"));
	buf msg = BUF_INIT;
	const char *p[2];
	PGresult *res;

	(void)job_id;
	if (!batch_id || !uuid_valid(batch_id))
		return;
	buf_printf(&msg,
		   "The import stopped before it finished (%s). Nothing was imported: upload "
		   "the file again, or ask an administrator if this happens again.",
		   reason ? reason : "unknown reason");
	p[0] = batch_id;
	p[1] = msg.data;
	res = db_exec(tx, &st_batch_give_up, 2, p);
	if (res && PQntuples(res) == 1)
		audit_record(tx, actor && uuid_valid(actor) ? actor : NULL, "import",
			     "upload_batch", batch_id,
			     json_pack("{s:s, s:s}", "status", "failed", "error", msg.data));
	PQclear(res);
	buf_free(&msg);
}

/* ---------------------------------------------------------------- upload */

/* Reads up to the first data row: the header and at least one row exist. */
static int
peek_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct peek *pk = ctx;

	(void)line;
	(void)fields;
	if (all_empty(lens, n))
		return 0;
	if (!pk->header) {
		pk->header = 1;
		return 0;
	}
	pk->data = 1;
	return 1; /* enough: the rest is the job's */
}

int
imports_check_file(const char *filename, const char *path, size_t size, char *msg, size_t msglen)
{
	struct peek pk = {0, 0};
	struct csvin_error err;
	size_t len = filename ? strlen(filename) : 0;
	char *clean;
	char shown[208];

	if (!path || !filename || !*filename) {
		snprintf(msg, msglen, "Choose a CSV file to upload.");
		return -1;
	}
	/* the name as the message quotes it: valid UTF-8, not too long */
	clean = clean_file_name(filename);
	len = strlen(clean);
	if (len > 200) {
		len = 200;
		while (len > 0 && ((unsigned char)clean[len] & 0xC0) == 0x80)
			len--;
	}
	snprintf(shown, sizeof shown, "%.*s", (int)len, clean);
	free(clean);
	len = strlen(filename);
	if (len < 4 || strcasecmp(filename + len - 4, ".csv") != 0) {
		snprintf(msg, msglen,
			 "Only .csv files can be imported, and “%s” is not one. In Excel, use "
			 "File › Save As › CSV UTF-8 (Comma delimited).",
			 shown);
		return -1;
	}
	if (size == 0) {
		snprintf(msg, msglen, "The file “%s” is empty.", shown);
		return -1;
	}
	if (size > IMPORTS_MAX_BYTES) {
		snprintf(msg, msglen,
			 "The file is %.1f MB, more than the limit of 10 MB. Split it into smaller "
			 "files, each with the header row, and upload them one by one.",
			 (double)size / (1024.0 * 1024.0));
		return -1;
	}
	if (csvin_parse_file(path, peek_row, &pk, &err) == -1) {
		snprintf(msg, msglen, "%s Save the file as CSV UTF-8 and upload it again.",
			 err.message);
		return -1;
	}
	if (!pk.header) {
		snprintf(msg, msglen,
			 "The file has nothing in it: no header row and no data rows.");
		return -1;
	}
	if (!pk.data) {
		snprintf(msg, msglen, "The file has a header row but no data rows.");
		return -1;
	}
	return 0;
}

/* The file's name as stored: no directory part, valid UTF-8, at most 500 characters. */
static char *
clean_file_name(const char *filename)
{
	const char *base = filename, *s;
	size_t len;

	for (s = filename; *s; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	len = strlen(base);
	if (len == 0 || validate_utf8(base, len))
		return xstrdup("upload.csv");
	while (len > 500) { /* cut at a character boundary */
		len--;
		while (len > 0 && ((unsigned char)base[len] & 0xC0) == 0x80)
			len--;
	}
	return xstrndup(base, len);
}

enum imports_result
imports_create(db_conn *c, const struct imports_spec *spec, const char *actor, const char *filename,
	       const char *path, size_t size, char batch_id[37])
{
	static const char hex[] = "0123456789abcdef";
	char *name = clean_file_name(filename);
	char sizebuf[24], job_id[37];
	const char *p[4];
	unsigned char *block = xmalloc(64 * 1024);
	buf line = BUF_INIT;
	PGconn *pg = db_pg(c);
	PGresult *res;
	json_t *payload;
	int fd = -1, ok = 0;

	snprintf(sizebuf, sizeof sizebuf, "%zu", size);
	p[0] = spec->entity_type;
	p[1] = name;
	p[2] = sizebuf;
	p[3] = actor;
	if (db_begin(c) != 0)
		goto out;
	res = db_exec(c, &st_batch_insert, 4, p);
	if (!res)
		goto out;
	snprintf(batch_id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	/* The bytes stream from the temporary file into bytea (hex) through COPY. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("imports: cannot open upload %s: %s", path, strerror(errno));
		goto out;
	}
	res = db_exec_sql(c, "COPY upload_files (batch_id, content) FROM STDIN");
	if (!res)
		goto out;
	PQclear(res);
	buf_printf(&line, "%s\t\\\\x", batch_id);
	for (;;) {
		ssize_t n = read(fd, block, 64 * 1024);
		ssize_t i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				log_error("imports: reading upload %s: %s", path, strerror(errno));
			ok = n == 0;
			break;
		}
		buf_reserve(&line, (size_t)n * 2);
		for (i = 0; i < n; i++) {
			line.data[line.len++] = hex[block[i] >> 4];
			line.data[line.len++] = hex[block[i] & 15];
		}
		if (PQputCopyData(pg, line.data, (int)line.len) != 1) {
			ok = 0;
			break;
		}
		buf_reset(&line);
	}
	buf_puts(&line, "\n");
	if (ok && PQputCopyData(pg, line.data, (int)line.len) != 1)
		ok = 0;
	PQputCopyEnd(pg, ok ? NULL : "upload could not be read");
	res = PQgetResult(pg);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (ok)
			log_error("imports: storing the file failed: %s",
				  PQresultErrorMessage(res));
		ok = 0;
	}
	PQclear(res);
	while ((res = PQgetResult(pg)) != NULL)
		PQclear(res);
	if (!ok)
		goto out;
	ok = 0;

	payload = json_pack("{s:s, s:s}", "batch_id", batch_id, "actor_id", actor);
	if (jobs_enqueue(c, spec->job_kind, payload, job_id) != 0) {
		json_decref(payload);
		goto out;
	}
	json_decref(payload);
	p[0] = batch_id;
	p[1] = job_id;
	if (db_run(c, &st_batch_job, 2, p) != 0 ||
	    audit_record(c, actor, "upload", "upload_batch", batch_id,
			 json_pack("{s:s, s:s, s:I}", "entity_type", spec->entity_type, "file_name",
				   name, "file_size_bytes", (json_int_t)size)) != 0 ||
	    db_commit(c) != 0)
		goto out;
	ok = 1;
out:
	if (fd >= 0)
		close(fd);
	free(block);
	buf_free(&line);
	free(name);
	if (ok)
		return IMPORTS_OK;
	db_rollback(c);
	return PQstatus(pg) != CONNECTION_OK || db_error(c) == DB_ERR_UNAVAILABLE
		   ? IMPORTS_UNAVAILABLE
		   : IMPORTS_DB_ERROR;
}

/* ---------------------------------------------------------------- reading batches */

json_t *
imports_batch(db_conn *c, const char *id, int *err)
{
	const char *p[1] = {id};
	PGresult *res;
	json_t *b, *progress, *links;
	buf url = BUF_INIT;
	const char *status;
	const struct imports_spec *spec;

	*err = 0;
	if (!uuid_valid(id))
		return NULL;
	res = db_exec(c, &st_batch_get, 1, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	status = PQgetvalue(res, 0, 4);
	b = json_pack(
	    "{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:s, s:s}, s:s, s:o, s:s, "
	    "s:o, s:o, s:o}",
	    "id", PQgetvalue(res, 0, 0), "entity_type", PQgetvalue(res, 0, 1), "file_name",
	    PQgetvalue(res, 0, 2), "file_size_bytes", (json_int_t)atoll(PQgetvalue(res, 0, 3)),
	    "status", status, "total_rows", (json_int_t)atoll(PQgetvalue(res, 0, 5)),
	    "processed_rows", (json_int_t)atoll(PQgetvalue(res, 0, 6)), "valid_rows",
	    (json_int_t)atoll(PQgetvalue(res, 0, 7)), "invalid_rows",
	    (json_int_t)atoll(PQgetvalue(res, 0, 8)), "corrected_rows",
	    (json_int_t)atoll(PQgetvalue(res, 0, 18)), "error_message",
	    nullable(PQgetisnull(res, 0, 9) ? NULL : PQgetvalue(res, 0, 9)), "uploader", "id",
	    PQgetvalue(res, 0, 10), "name", PQgetvalue(res, 0, 11), "created_at",
	    PQgetvalue(res, 0, 12), "finished_at",
	    nullable(PQgetisnull(res, 0, 13) ? NULL : PQgetvalue(res, 0, 13)), "created_text",
	    PQgetvalue(res, 0, 14), "duration_seconds",
	    PQgetisnull(res, 0, 15) ? json_null() : json_real(atof(PQgetvalue(res, 0, 15))),
	    "job_state", nullable(PQgetisnull(res, 0, 16) ? NULL : PQgetvalue(res, 0, 16)),
	    "headers", json_text(res, 0, 19));
	progress = json_text(res, 0, 17);
	if (strcmp(status, "processing") == 0 && json_is_object(progress)) {
		/* live counts while the job runs: its transaction has not committed them yet */
		json_object_set(b, "processed_rows", json_object_get(progress, "rows"));
		json_object_set(b, "valid_rows", json_object_get(progress, "valid"));
		json_object_set(b, "invalid_rows", json_object_get(progress, "invalid"));
		json_object_set(b, "progress", progress);
	}
	json_decref(progress);
	spec = imports_spec_by_entity(PQgetvalue(res, 0, 1));
	links = json_object();
	buf_printf(&url, "/imports/%s", id);
	json_object_set_new(links, "self", json_string(url.data));
	buf_reset(&url);
	if (spec) {
		buf_printf(&url, "%s%s", spec->records_url, id);
		json_object_set_new(links, "records", json_string(url.data));
		json_object_set_new(links, spec->nouns, json_string(url.data));
		buf_reset(&url);
		buf_printf(&url, "/imports/%s/new", spec->slug);
		json_object_set_new(links, "upload", json_string(url.data));
		buf_reset(&url);
	}
	buf_printf(&url, "/imports/%s/errors.csv", id);
	json_object_set_new(links, "errors_csv", json_string(url.data));
	buf_reset(&url);
	buf_printf(&url, "/imports/%s/failed-rows.csv", id);
	json_object_set_new(links, "failed_rows_csv", json_string(url.data));
	buf_reset(&url);
	buf_printf(&url, "/imports/%s/fix", id);
	json_object_set_new(links, "fix", json_string(url.data));
	json_object_set_new(b, "links", links);
	buf_free(&url);
	PQclear(res);
	return b;
}

json_t *
imports_batch_errors(db_conn *c, const char *id, int limit)
{
	char lim[16];
	const char *p[2] = {id, lim};
	PGresult *res;
	json_t *list;
	int i;

	snprintf(lim, sizeof lim, "%d", limit);
	res = db_exec(c, &st_batch_errors, 2, p);
	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    list, json_pack("{s:I, s:o, s:o, s:s}", "row_number",
				    (json_int_t)atoll(PQgetvalue(res, i, 0)), "column",
				    nullable(PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1)),
				    "value",
				    nullable(PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2)),
				    "message", PQgetvalue(res, i, 3)));
	PQclear(res);
	return list;
}

/* "<created_at ISO with microseconds>_<uuid>", as the companies list's cursors. */
static int
valid_cursor(const char *after, char ts[40], char id[37])
{
	const char *sep = after ? strrchr(after, '_') : NULL;
	int y, mo, d, h, mi, s, us;

	if (!sep || !uuid_valid(sep + 1) || sep - after != 27 ||
	    sscanf(after, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &y, &mo, &d, &h, &mi, &s, &us) != 7)
		return 0;
	memcpy(ts, after, 27);
	ts[27] = '\0';
	snprintf(id, 37, "%s", sep + 1);
	return 1;
}

const char *
imports_filter_problem(const struct imports_filter *f)
{
	char ts[40], id[37];

	if (f->status && strcmp(f->status, "processing") && strcmp(f->status, "completed") &&
	    strcmp(f->status, "failed"))
		return "Status must be processing, completed or failed.";
	if (f->after && !valid_cursor(f->after, ts, id))
		return "That page link is no longer valid.";
	if (f->uploader_id && !uuid_valid(f->uploader_id))
		return "That uploader does not exist.";
	return NULL;
}

json_t *
imports_list(db_conn *c, const struct imports_filter *f, char **next)
{
	buf sql = BUF_INIT;
	const char *p[6];
	char ts[40], id[37], limit[16];
	PGresult *res;
	json_t *rows;
	int n = 0, i, count;

	*next = NULL;
	buf_puts(
	    &sql,
	    "SELECT b.id, b.entity_type, b.file_name, b.file_size_bytes, b.status, "
	    "b.total_rows, b.valid_rows, b.invalid_rows, u.id, u.name, "
	    "to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	    "to_char(b.created_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI'), b.error_message "
	    "FROM upload_batches b JOIN users u ON u.id = b.uploader_id WHERE true");
	if (f->uploader_id) {
		p[n++] = f->uploader_id;
		buf_printf(&sql, " AND b.uploader_id = $%d", n);
	}
	if (f->status) {
		p[n++] = f->status;
		buf_printf(&sql, " AND b.status = $%d", n);
	}
	if (f->after && valid_cursor(f->after, ts, id)) {
		p[n++] = ts;
		p[n++] = id;
		buf_printf(&sql, " AND (b.created_at, b.id) < ($%d::timestamptz, $%d::uuid)", n - 1,
			   n);
	}
	snprintf(limit, sizeof limit, "%d", f->limit + 1);
	p[n++] = limit;
	buf_printf(&sql, " ORDER BY b.created_at DESC, b.id DESC LIMIT $%d", n);
	res = db_exec_params(c, sql.data, n, p);
	buf_free(&sql);
	if (!res)
		return NULL;
	rows = json_array();
	count = PQntuples(res);
	for (i = 0; i < count && i < f->limit; i++) {
		const struct imports_spec *spec = imports_spec_by_entity(PQgetvalue(res, i, 1));
		json_t *row = json_pack(
		    "{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:{s:s, s:s}, s:s, s:s, s:o, s:s}",
		    "id", PQgetvalue(res, i, 0), "entity_type", PQgetvalue(res, i, 1), "file_name",
		    PQgetvalue(res, i, 2), "file_size_bytes",
		    (json_int_t)atoll(PQgetvalue(res, i, 3)), "status", PQgetvalue(res, i, 4),
		    "total_rows", (json_int_t)atoll(PQgetvalue(res, i, 5)), "valid_rows",
		    (json_int_t)atoll(PQgetvalue(res, i, 6)), "invalid_rows",
		    (json_int_t)atoll(PQgetvalue(res, i, 7)), "uploader", "id",
		    PQgetvalue(res, i, 8), "name", PQgetvalue(res, i, 9), "created_at",
		    PQgetvalue(res, i, 10), "created_text", PQgetvalue(res, i, 11), "error_message",
		    nullable(PQgetisnull(res, i, 12) ? NULL : PQgetvalue(res, i, 12)), "kind",
		    spec ? spec->title : PQgetvalue(res, i, 1));

		json_array_append_new(rows, row);
	}
	if (count > f->limit) {
		buf cur = BUF_INIT;

		buf_printf(&cur, "%s_%s", PQgetvalue(res, f->limit - 1, 10),
			   PQgetvalue(res, f->limit - 1, 0));
		*next = buf_steal(&cur);
	}
	PQclear(res);
	return rows;
}

/* ---------------------------------------------------------------- reports */

struct imports_report {
	db_conn *tx;
	int failed_rows;
	int header_done;
	json_t *headers;
};

struct imports_report *
imports_report_open(db_conn *tx, const char *batch_id, int failed_rows)
{
	struct imports_report *r;
	const char *p[1] = {batch_id};
	PGresult *res;

	res = db_exec_params(tx,
			     "SELECT array_to_json(headers)::text FROM upload_batches "
			     "WHERE id = $1",
			     1, p);
	if (!res)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->tx = tx;
	r->failed_rows = failed_rows;
	r->headers = PQntuples(res) == 1 ? json_text(res, 0, 0) : json_null();
	PQclear(res);
	res = db_exec_params(
	    tx,
	    failed_rows
		? "DECLARE imports_report NO SCROLL CURSOR FOR SELECT "
		  "array_to_json(coalesce(corrected_values, row_values))::text FROM upload_rows "
		  "WHERE batch_id = $1 AND status = 'failed' ORDER BY row_number"
		: "DECLARE imports_report NO SCROLL CURSOR FOR SELECT e.row_number, e.column_name, "
		  "e.value, e.error_message, e.is_corrected FROM upload_errors e "
		  "JOIN upload_batches b ON b.id = e.batch_id WHERE e.batch_id = $1 "
		  "ORDER BY e.row_number, array_position(b.headers, e.column_name) NULLS LAST, "
		  "e.created_at, e.id",
	    1, p);
	if (!res) {
		imports_report_close(r);
		return NULL;
	}
	PQclear(res);
	return r;
}

int
imports_report_fetch(struct imports_report *r, buf *out)
{
	PGresult *res;
	int i, rows;
	size_t k;
	json_t *v;

	if (!r->header_done) {
		r->header_done = 1;
		if (r->failed_rows) {
			/* the file's own header row, exactly: this file is meant to be uploaded
			 * again */
			json_array_foreach(r->headers, k, v)
			    csvout_cell_raw(out, json_string_value(v), k == 0);
		} else {
			csvout_cell(out, "Row (header row = 1)", 1);
			csvout_cell(out, "Column", 0);
			csvout_cell(out, "Submitted value", 0);
			csvout_cell(out, "Error", 0);
			csvout_cell(out, "Corrected", 0);
		}
		csvout_end_row(out);
	}
	res = db_exec_sql(r->tx, "FETCH 1000 FROM imports_report");
	if (!res)
		return -1;
	rows = PQntuples(res);
	for (i = 0; i < rows; i++) {
		if (r->failed_rows) {
			json_t *vals = json_text(res, i, 0);

			json_array_foreach(vals, k, v)
			    csvout_cell_raw(out, json_string_value(v), k == 0);
			json_decref(vals);
		} else {
			csvout_cell(out, PQgetvalue(res, i, 0), 1);
			csvout_cell(
			    out, PQgetisnull(res, i, 1) ? "(whole row)" : PQgetvalue(res, i, 1), 0);
			csvout_cell(out, PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2), 0);
			csvout_cell(out, PQgetvalue(res, i, 3), 0);
			csvout_cell(out, PQgetvalue(res, i, 4)[0] == 't' ? "yes" : "no", 0);
		}
		csvout_end_row(out);
	}
	PQclear(res);
	return rows;
}

void
imports_report_close(struct imports_report *r)
{
	if (!r)
		return;
	json_decref(r->headers);
	free(r);
}

/* ---------------------------------------------------------------- corrections */

/*
 * Locks the batch for a correction (one at a time per batch) and checks it
 * can take one; its header row goes to *headers. 0, or -1 with *rc and msg.
 */
static int
batch_lock(db_conn *c, const struct imports_spec *spec, const char *batch_id, json_t **headers,
	   char *msg, size_t msglen, enum imports_result *rc)
{
	const char *p[1] = {batch_id};
	PGresult *res;

	*headers = NULL;
	/*
	 * A batch still processing is locked by its job until the job commits:
	 * look first without a lock, so a correction sent then is told so at once
	 * instead of waiting for the whole import.
	 */
	res = db_exec(c, &st_fix_page_batch, 1, p);
	if (res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "processing") == 0) {
		PQclear(res);
		snprintf(msg, msglen,
			 "This file is still being imported: its failed rows can be "
			 "fixed once it is done.");
		*rc = IMPORTS_CONFLICT;
		return -1;
	}
	PQclear(res);
	res = db_exec(c, &st_fix_batch, 1, p);
	if (!res) {
		*rc = db_error(c) == DB_ERR_UNAVAILABLE ? IMPORTS_UNAVAILABLE : IMPORTS_DB_ERROR;
		return -1;
	}
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 2), spec->entity_type) != 0) {
		PQclear(res);
		*rc = IMPORTS_NOT_FOUND;
		return -1;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "completed") != 0) {
		snprintf(
		    msg, msglen,
		    strcmp(PQgetvalue(res, 0, 0), "processing") == 0
			? "This file is still being imported: its failed rows can be fixed "
			  "once it is done."
			: "This file was refused as a whole, so it has no rows to fix: correct "
			  "the file and upload it again.");
		PQclear(res);
		*rc = IMPORTS_CONFLICT;
		return -1;
	}
	*headers = json_text(res, 0, 1);
	PQclear(res);
	return 0;
}

/* Sets the run's header and column map from the batch's stored header row. */
static void
run_headers_from_json(struct imports_run *r, json_t *headers)
{
	size_t i, n = json_array_size(headers);
	char **h = xcalloc(n ? n : 1, sizeof *h);

	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(headers, i));

		h[i] = (char *)(s ? s : "");
	}
	run_set_headers(r, h, n);
	free(h);
}

/*
 * A row as the grid shows it: the columns the spec reads, each with its value
 * and error, and the errors that concern no shown column. errors is
 * [{column (header text or null), message}]; both arrays are taken.
 */
static json_t *
row_json(const struct imports_run *r, long row_number, const char *id, json_t *values,
	 json_t *errors)
{
	json_t *cells = json_array(), *loose = json_array(), *e;
	size_t i, k;
	/* shown[header index]: 1 + the spec column it is, 0 when the spec does not read it. */
	size_t *shown = xcalloc(r->nheaders ? r->nheaders : 1, sizeof *shown);

	for (i = 0; i < r->spec->ncolumns; i++)
		if (r->map[i] >= 0)
			shown[r->map[i]] = i + 1;
	for (i = 0; i < r->nheaders; i++) {
		json_t *cell;
		const char *v;

		if (!shown[i])
			continue;
		v = json_string_value(json_array_get(values, i));
		cell = json_pack("{s:I, s:s, s:s, s:b}", "index", (json_int_t)i, "header",
				 r->headers[i], "value", v ? v : "", "multiline",
				 r->spec->columns[shown[i] - 1].multiline);
		json_array_foreach(errors, k, e)
		{
			const char *col = json_string_value(json_object_get(e, "column"));

			if (col && strcmp(col, r->headers[i]) == 0 &&
			    !json_object_get(cell, "error"))
				json_object_set(cell, "error", json_object_get(e, "message"));
		}
		json_array_append_new(cells, cell);
	}
	json_array_foreach(errors, k, e)
	{
		const char *col = json_string_value(json_object_get(e, "column"));
		int placed = 0;

		for (i = 0; col && i < r->nheaders; i++)
			if (shown[i] && strcmp(col, r->headers[i]) == 0)
				placed = 1;
		if (!placed)
			json_array_append(loose, json_object_get(e, "message"));
	}
	free(shown);
	json_decref(values);
	json_decref(errors);
	return json_pack("{s:I, s:s?, s:b, s:o, s:o, s:b}", "row_number", (json_int_t)row_number,
			 "upload_row_id", id, "imported", 0, "cells", cells, "errors", loose,
			 "has_errors", 1);
}

json_t *
imports_fix_page(db_conn *c, const struct imports_spec *spec, const char *batch_id, long after,
		 int limit)
{
	char a[24], lim[16];
	const char *p[3] = {batch_id, a, lim};
	struct imports_run r;
	PGresult *res, *errs = NULL;
	json_t *page = NULL, *rows, *columns, *headers;
	buf ids = BUF_INIT;
	size_t i;
	int k, n;

	res = db_exec(c, &st_fix_page_batch, 1, p);
	if (!res)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return json_object(); /* the caller has checked the batch exists */
	}
	headers = json_text(res, 0, 1);
	run_init(&r, spec, c, batch_id, NULL, 1);
	run_headers_from_json(&r, headers);
	json_decref(headers);
	page = json_pack("{s:I}", "failing", (json_int_t)atoll(PQgetvalue(res, 0, 2)));
	PQclear(res);

	columns = json_array();
	for (i = 0; i < r.nheaders; i++)
		for (k = 0; k < (int)spec->ncolumns; k++)
			if (r.map[k] == (int)i) {
				json_array_append_new(
				    columns,
				    json_pack("{s:I, s:s, s:b}", "index", (json_int_t)i, "header",
					      r.headers[i], "required", spec->columns[k].required));
				break;
			}
	json_object_set_new(page, "columns", columns);

	snprintf(a, sizeof a, "%ld", after);
	snprintf(lim, sizeof lim, "%d", limit + 1);
	res = db_exec(c, &st_fix_page_rows, 3, p);
	if (!res)
		goto fail;
	n = PQntuples(res);
	buf_putc(&ids, '{');
	for (k = 0; k < n && k < limit; k++)
		buf_printf(&ids, "%s%s", k ? "," : "", PQgetvalue(res, k, 0));
	buf_putc(&ids, '}');
	p[0] = ids.data;
	errs = db_exec(c, &st_fix_page_errors, 1, p);
	if (!errs)
		goto fail;
	rows = json_array();
	for (k = 0; k < n && k < limit; k++) {
		json_t *list = json_array();
		int e;

		for (e = 0; e < PQntuples(errs); e++)
			if (strcmp(PQgetvalue(errs, e, 0), PQgetvalue(res, k, 0)) == 0)
				json_array_append_new(
				    list, json_pack("{s:o, s:s}", "column",
						    nullable(PQgetisnull(errs, e, 1)
								 ? NULL
								 : PQgetvalue(errs, e, 1)),
						    "message", PQgetvalue(errs, e, 2)));
		json_array_append_new(rows,
				      row_json(&r, atol(PQgetvalue(res, k, 1)),
					       PQgetvalue(res, k, 0), json_text(res, k, 2), list));
	}
	json_object_set_new(page, "rows", rows);
	json_object_set_new(page, "next_after",
			    json_integer(n > limit ? atol(PQgetvalue(res, limit - 1, 1)) : 0));
	PQclear(res);
	PQclear(errs);
	buf_free(&ids);
	run_free(&r);
	return page;
fail:
	PQclear(res);
	buf_free(&ids);
	run_free(&r);
	json_decref(page);
	return NULL;
}

static void
free_targets(struct imports_run *r)
{
	size_t i;

	for (i = 0; i < r->ntargets; i++)
		json_decref(r->targets[i].values);
	free(r->targets);
	r->targets = NULL;
	r->ntargets = 0;
}

/* The stored failed rows a correction applies to, locked: id, row_number, newest values. */
static int
load_targets(struct imports_run *r, const char *sql, int n, const char *const *p)
{
	PGresult *res = db_exec_params(r->db, sql, n, p);
	int i;

	if (!res)
		return run_db_fail(r, "reading the failed rows failed", db_error_message(r->db));
	r->ntargets = (size_t)PQntuples(res);
	r->targets = xcalloc(r->ntargets ? r->ntargets : 1, sizeof *r->targets);
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(r->targets[i].id, sizeof r->targets[i].id, "%s", PQgetvalue(res, i, 0));
		r->targets[i].row_number = atol(PQgetvalue(res, i, 1));
		r->targets[i].values = json_text(res, i, 2);
	}
	PQclear(res);
	return 0;
}

/* Commits a correction run, with its audit row and the batch's new counts. */
static enum imports_result
run_commit_fix(struct imports_run *r, const char *source, json_t *outcome, char *msg, size_t msglen)
{
	char count[24];
	const char *p[2] = {r->batch_id, count};

	if (run_finish(r) != 0)
		goto fail;
	snprintf(count, sizeof count, "%ld", r->valid);
	if (r->valid > 0 && db_run(r->db, &st_batch_counts, 2, p) != 0) {
		run_db_fail(r, "updating the counts failed", db_error_message(r->db));
		goto fail;
	}
	if (audit_record(r->db, r->actor, "import", "upload_batch", r->batch_id,
			 json_pack("{s:s, s:s, s:I, s:I}", "status", "corrected", "source", source,
				   "imported_rows", (json_int_t)r->valid, "still_failing_rows",
				   (json_int_t)r->invalid)) != 0 ||
	    db_commit(r->db) != 0) {
		run_db_fail(r, "saving the corrections failed", db_error_message(r->db));
		goto fail;
	}
	json_object_set_new(outcome, "imported", json_integer(r->valid));
	json_object_set_new(outcome, "failed", json_integer(r->invalid));
	if (r->outcomes)
		json_object_set(outcome, "rows", r->outcomes);
	return IMPORTS_OK;
fail:
	db_rollback(r->db);
	return run_result(r, msg, msglen);
}

static enum imports_result
run_result(struct imports_run *r, char *msg, size_t msglen)
{
	if (r->stop == RUN_DB) {
		snprintf(msg, msglen, "The corrections could not be saved.");
		return r->unavailable ? IMPORTS_UNAVAILABLE : IMPORTS_DB_ERROR;
	}
	return IMPORTS_OK;
}

enum imports_result
imports_fix_rows(db_conn *c, const struct imports_spec *spec, const char *batch_id,
		 const char *actor, const long *row_numbers, size_t nrows, imports_cell_fn cell,
		 void *ctx, json_t *outcome, char *msg, size_t msglen)
{
	struct imports_run r;
	enum imports_result rc = IMPORTS_OK;
	json_t *headers = NULL;
	buf nums = BUF_INIT;
	const char *p[2];
	size_t i, h;

	msg[0] = '\0';
	if (db_begin(c) != 0)
		return db_error(c) == DB_ERR_UNAVAILABLE ? IMPORTS_UNAVAILABLE : IMPORTS_DB_ERROR;
	if (batch_lock(c, spec, batch_id, &headers, msg, msglen, &rc) != 0) {
		db_rollback(c);
		return rc;
	}
	run_init(&r, spec, c, batch_id, actor, 1);
	r.outcomes = json_array();
	run_headers_from_json(&r, headers);
	json_decref(headers);
	buf_putc(&nums, '{');
	for (i = 0; i < nrows; i++)
		buf_printf(&nums, "%s%ld", i ? "," : "", row_numbers[i]);
	buf_putc(&nums, '}');
	p[0] = batch_id;
	p[1] = nums.data;
	if (load_targets(&r,
			 "SELECT id, row_number, "
			 "array_to_json(coalesce(corrected_values, row_values))::text "
			 "FROM upload_rows WHERE batch_id = $1 AND row_number = ANY ($2::int[]) "
			 "AND status = 'failed' ORDER BY row_number FOR UPDATE",
			 2, p) != 0 ||
	    run_begin(&r) != 0)
		goto fail;
	json_object_set_new(outcome, "skipped", json_integer((json_int_t)(nrows - r.ntargets)));
	for (i = 0, h = 0; i < spec->ncolumns; i++)
		h += r.map[i] >= 0;
	json_object_set_new(outcome, "shown_columns", json_integer((json_int_t)h));
	r.hvals = xcalloc(r.nheaders ? r.nheaders : 1, sizeof *r.hvals);
	for (i = 0; i < r.ntargets; i++) {
		struct fix_target *t = &r.targets[i];

		for (h = 0; h < r.nheaders; h++) {
			const char *v = cell(ctx, t->row_number, h);

			r.hvals[h] = v ? v : json_string_value(json_array_get(t->values, h));
			if (!r.hvals[h])
				r.hvals[h] = "";
		}
		if (run_take(&r, t->row_number, t->id, r.hvals, r.nheaders) != 0)
			goto fail;
	}
	rc = run_commit_fix(&r, "grid", outcome, msg, msglen);
	buf_free(&nums);
	json_decref(r.outcomes);
	run_free(&r);
	return rc;
fail:
	db_rollback(c);
	rc = run_result(&r, msg, msglen);
	buf_free(&nums);
	json_decref(r.outcomes);
	run_free(&r);
	return rc;
}

/* First pass over a corrected file: is it readable, and how many data rows has it? */
static int
fix_count_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	long *count = ctx;

	(void)line;
	(void)fields;
	if (!all_empty(lens, n))
		(*count)++;
	return 0;
}

/* Second pass: the k-th data row corrects the k-th failed row. */
static int
fix_file_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct imports_run *r = ctx;
	struct fix_target *t;
	size_t h;

	(void)line;
	if (all_empty(lens, n))
		return RUN_GO;
	if (!r->header_done) {
		r->header_done = 1;
		r->cmap = xcalloc(r->nheaders ? r->nheaders : 1, sizeof *r->cmap);
		for (h = 0; h < r->nheaders; h++) {
			size_t k;

			r->cmap[h] = -1;
			for (k = 0; k < n && r->cmap[h] < 0; k++)
				if (header_equal(fields[k], r->headers[h]) ||
				    header_equal(r->headers[h], fields[k]))
					r->cmap[h] = (int)k;
		}
		return RUN_GO;
	}
	if (r->next_target >= r->ntargets)
		return RUN_REJECT;
	t = &r->targets[r->next_target++];
	for (h = 0; h < r->nheaders; h++) {
		int k = r->cmap[h];

		if (k >= 0)
			r->hvals[h] = (size_t)k < n ? fields[k] : "";
		else {
			r->hvals[h] = json_string_value(json_array_get(t->values, h));
			if (!r->hvals[h])
				r->hvals[h] = "";
		}
	}
	return run_take(r, t->row_number, t->id, r->hvals, r->nheaders) != 0 ? RUN_DB : RUN_GO;
}

enum imports_result
imports_fix_file(db_conn *c, const struct imports_spec *spec, const char *batch_id,
		 const char *actor, const char *path, json_t *outcome, char *msg, size_t msglen)
{
	struct imports_run r;
	struct csvin_error err;
	enum imports_result rc = IMPORTS_OK;
	json_t *headers = NULL;
	const char *p[1] = {batch_id};
	long count = 0;
	size_t i;
	int parsed;

	msg[0] = '\0';
	if (csvin_parse_file(path, fix_count_row, &count, &err) == -1) {
		snprintf(msg, msglen, "%s Save the file as CSV UTF-8 and upload it again.",
			 err.message);
		return IMPORTS_INVALID;
	}
	if (count < 2) {
		snprintf(msg, msglen, "The file has a header row but no data rows.");
		return IMPORTS_INVALID;
	}
	if (db_begin(c) != 0)
		return db_error(c) == DB_ERR_UNAVAILABLE ? IMPORTS_UNAVAILABLE : IMPORTS_DB_ERROR;
	if (batch_lock(c, spec, batch_id, &headers, msg, msglen, &rc) != 0) {
		db_rollback(c);
		return rc;
	}
	run_init(&r, spec, c, batch_id, actor, 1);
	run_headers_from_json(&r, headers);
	json_decref(headers);
	if (load_targets(&r,
			 "SELECT id, row_number, "
			 "array_to_json(coalesce(corrected_values, row_values))::text "
			 "FROM upload_rows WHERE batch_id = $1 AND status = 'failed' "
			 "ORDER BY row_number FOR UPDATE",
			 1, p) != 0)
		goto fail;
	if (r.ntargets == 0) {
		snprintf(msg, msglen,
			 "Every row of this file has been imported already: there is "
			 "nothing left to correct.");
		rc = IMPORTS_CONFLICT;
		goto out;
	}
	if ((size_t)(count - 1) != r.ntargets) {
		snprintf(
		    msg, msglen,
		    "The corrected file has %ld data row%s, but %zu row%s still failing. Download "
		    "failed-rows.csv again, fix the values without adding, removing or "
		    "reordering rows, and upload it.",
		    count - 1, count - 1 == 1 ? "" : "s", r.ntargets,
		    r.ntargets == 1 ? " is" : "s are");
		rc = IMPORTS_INVALID;
		goto out;
	}
	r.hvals = xcalloc(r.nheaders ? r.nheaders : 1, sizeof *r.hvals);
	if (run_begin(&r) != 0)
		goto fail;
	parsed = csvin_parse_file(path, fix_file_row, &r, &err);
	if (parsed != 0)
		goto fail;
	for (i = 0; i < r.nheaders; i++)
		if (r.cmap && r.cmap[i] >= 0)
			break;
	if (i == r.nheaders) {
		snprintf(msg, msglen,
			 "None of the corrected file's columns has a name from the "
			 "original file: keep the header row of failed-rows.csv.");
		rc = IMPORTS_INVALID;
		goto out;
	}
	rc = run_commit_fix(&r, "file", outcome, msg, msglen);
	run_free(&r);
	return rc;
fail:
	rc = run_result(&r, msg, msglen);
	if (rc == IMPORTS_OK) {
		snprintf(msg, msglen, "The corrected file could not be read.");
		rc = IMPORTS_INVALID;
	}
out:
	if (r.stage_open)
		run_copy_end(&r, "correction stopped");
	db_rollback(c);
	run_free(&r);
	return rc;
}

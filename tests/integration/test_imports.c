/*
 * Company CSV import (SPEC §4) end to end: files go up through HTTP as a
 * browser sends them (multipart, csrf_token field), the task workers import
 * them, and the batch, the companies table, the error report, the failed-rows
 * file and the Error Correction module are checked against expectations this
 * test computes itself.
 *
 * What it proves:
 *  - a mixed file (BOM, CRLF, shuffled and oddly-cased headers, an extra
 *    column, a quoted multi-line cell, every kind of row error) imports its
 *    valid rows as pending companies of the batch, normalised, and reports
 *    every bad cell with its spreadsheet row number (header = 1, a multi-line
 *    record is one row); the failed-rows file holds those rows byte for byte
 *    in the original columns, and uploading it again with the bad cells fixed
 *    imports them;
 *  - a contact file: the company named within the named segment (one name
 *    in two segments is two companies), approved only (pending and rejected
 *    each said so), the same upload → report → grid → corrected file path;
 *  - the fix grid: two rows corrected through POST are imported into the same
 *    batch, their errors marked corrected, the counts moved; a row still wrong
 *    stays failed with its message;
 *  - the uploads list (and its "mine" filter), /companies?batch=, the
 *    template download, the audit rows 'upload' and 'import';
 *  - whole-file rejections, each with a clear message and nothing imported:
 *    .txt, empty, header-only, invalid UTF-8 on line 7 (named), missing
 *    required columns (every one named), just over 10 MB, and 11 MB (the 413
 *    page, not a reset connection);
 *  - csvlint's fixtures and feature scenarios, each with the verdict the table
 *    below maps from csvlint's to ours;
 *  - real data: the S&P 500 list and the public bodies of 11 countries,
 *    mapped to the company columns (mappings below), and the Big List of
 *    Naughty Strings in every column: for every row the test decides valid or
 *    invalid with the project's own companies_clean (normalise → validate),
 *    then requires imported + failed = rows in the file, the batch's companies
 *    to equal the expected normalised rows exactly (as a multiset), every
 *    invalid row to be in the error report with a message and in the
 *    failed-rows file unchanged, and the pages showing them to stay up and
 *    escape what they show.
 *
 * Test data is read in place from $SPANNER_TESTDATA (default
 * ../shared/testdata); nothing generated is written outside var/test. Users,
 * segments and sessions are made by SQL with names unique to the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <csv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/http.h"
#include "core/password.h"
#include "domain/companies.h"
#include "domain/contacts.h"
#include "domain/normalise.h"
#include "itest.h"
#include "naughty.h"

enum { UPLOADER, OTHER, NUSERS };

#define BOUNDARY "----spanner-imports-test-7f3a9c1e"
#define SEP "\x1f"
#define WAIT_SECONDS 240

static struct itest_server srv;
static PGconn *pg;
static char run_id[64];
static char user_ids[NUSERS][37];
static char tokens[NUSERS][65];
static char csrfs[NUSERS][65];
static char seg_id[37], seg_name[160], archived_name[160];

/* The columns of the template, in its order: the required two, then the field table's. */
static const char *all_headers[COMPANIES_NFIELDS + 1];

/* ================================================================ helpers: SQL */

static void
sql_ok(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	PQclear(r);
}

static char *
sql_value(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	char *v = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static long
sql_count(const char *sql, int n, const char *const *params)
{
	char *v = sql_value(sql, n, params);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

static long
batch_companies(const char *batch)
{
	const char *p[1] = {batch};

	/* the records of a batch, whichever kind it imports */
	return sql_count("SELECT (SELECT count(*) FROM companies WHERE batch_id = $1) + "
			 "(SELECT count(*) FROM contacts WHERE batch_id = $1)",
			 1, p);
}

/* ================================================================ helpers: HTTP */

static void
new_session(int who)
{
	const char *p[3] = {tokens[who], user_ids[who], csrfs[who]};

	password_random_hex(tokens[who], 32);
	password_random_hex(csrfs[who], 32);
	sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
	       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '2 hours')",
	       3, p);
}

/*
 * One request as user who. POST bodies are urlencoded unless content_type says
 * otherwise; the CSRF token travels in the form (as a browser without
 * JavaScript sends it), so callers put csrf_token in the body.
 */
static const char *extra_header; /* one more request header, e.g. HX-Request */

static long
request(int who, const char *method, const char *path, const char *content_type, const char *body,
	size_t len, const char *accept, struct itest_resp *r)
{
	char url[4096], cookie[128], ctype[256], acc[128];
	const char *headers[6];
	int h = 0;

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", tokens[who]);
	headers[h++] = cookie;
	if (body) {
		snprintf(ctype, sizeof ctype, "Content-Type: %s",
			 content_type ? content_type : "application/x-www-form-urlencoded");
		headers[h++] = ctype;
	}
	if (accept) {
		snprintf(acc, sizeof acc, "Accept: %s", accept);
		headers[h++] = acc;
	}
	if (extra_header)
		headers[h++] = extra_header;
	headers[h] = NULL;
	if (itest_http(method, url, headers, body, len, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	return r->status;
}

static long
get(int who, const char *path, const char *accept, struct itest_resp *r)
{
	return request(who, "GET", path, NULL, NULL, 0, accept, r);
}

static json_t *
get_json(int who, const char *path)
{
	struct itest_resp r;
	json_error_t err;
	json_t *j;

	if (get(who, path, "application/json", &r) != 200)
		fail_msg("GET %s: %ld\n%.2000s", path, r.status, r.body.data ? r.body.data : "");
	j = json_loadb(r.body.data, r.body.len, 0, &err);
	if (!j)
		fail_msg("GET %s: not JSON (%s):\n%.500s", path, err.text, r.body.data);
	itest_resp_free(&r);
	return j;
}

static void
form_add(buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		buf_putc(b, '&');
	url_encode(b, name);
	buf_putc(b, '=');
	url_encode(b, value ? value : "");
}

/* The multipart body a browser sends for the upload form. */
static void
multipart(buf *b, const char *csrf, const char *filename, const char *ctype, const char *data,
	  size_t len)
{
	buf_printf(b,
		   "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
		   "%s\r\n",
		   csrf);
	buf_printf(b,
		   "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
		   "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
		   filename, ctype ? ctype : "text/csv");
	buf_append(b, data, len);
	buf_puts(b, "\r\n--" BOUNDARY "--\r\n");
}

/* Where upload_as posts: the companies import unless a test says otherwise. */
static const char *upload_path = "/imports/companies";

/* Uploads a file; the batch id from the redirect goes into batch ("" when none). */
static long
upload_as(int who, const char *filename, const char *ctype, const char *data, size_t len,
	  char batch[37], struct itest_resp *r)
{
	buf body = BUF_INIT;
	char *loc;
	long status;

	multipart(&body, csrfs[who], filename, ctype, data, len);
	status = request(who, "POST", upload_path, "multipart/form-data; boundary=" BOUNDARY,
			 body.data, body.len, NULL, r);
	buf_free(&body);
	batch[0] = '\0';
	loc = itest_header(r, "Location");
	if (status == 303 && loc && strncmp(loc, "/imports/", 9) == 0 && strlen(loc + 9) == 36)
		snprintf(batch, 37, "%s", loc + 9);
	free(loc);
	return status;
}

static json_t *
batch_json(const char *batch)
{
	char path[128];

	snprintf(path, sizeof path, "/imports/%s", batch);
	return get_json(UPLOADER, path);
}

/* Polls the batch until it is no longer processing. */
static json_t *
wait_batch(const char *batch)
{
	int i;

	for (i = 0; i < WAIT_SECONDS * 10; i++) {
		json_t *j = batch_json(batch);
		const char *status = json_string_value(json_object_get(j, "status"));

		if (!status)
			fail_msg("batch %s: no status in %s", batch, json_dumps(j, 0));
		if (strcmp(status, "processing") != 0)
			return j;
		json_decref(j);
		usleep(100000);
	}
	fail_msg("batch %s still processing after %d s", batch, WAIT_SECONDS);
	return NULL;
}

/* Uploads as UPLOADER, expects the 303 and waits for the outcome. */
static json_t *
import_file(const char *filename, const char *data, size_t len, char batch[37])
{
	struct itest_resp r;
	long status = upload_as(UPLOADER, filename, "text/csv", data, len, batch, &r);

	if (status != 303 || !batch[0])
		fail_msg("upload of %s: %ld, expected 303 to /imports/{batch}\n%.3000s", filename,
			 status, r.body.data ? r.body.data : "");
	itest_resp_free(&r);
	return wait_batch(batch);
}

static long
jint(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer in %s", key, json_dumps(j, 0));
	return (long)json_integer_value(v);
}

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* The batch ended as expected: completed with these counts, all of them accounted for. */
static void
assert_completed(json_t *b, const char *what, long total, long valid, long invalid)
{
	if (strcmp(jstr(b, "status"), "completed") != 0)
		fail_msg("%s: batch %s, not completed: %s", what, jstr(b, "status"),
			 jstr(b, "error_message") ? jstr(b, "error_message") : "(no message)");
	if (jint(b, "total_rows") != total || jint(b, "valid_rows") != valid ||
	    jint(b, "invalid_rows") != invalid)
		fail_msg("%s: total/valid/invalid %ld/%ld/%ld, expected %ld/%ld/%ld", what,
			 jint(b, "total_rows"), jint(b, "valid_rows"), jint(b, "invalid_rows"),
			 total, valid, invalid);
	assert_int_equal(jint(b, "processed_rows"), total);
	assert_int_equal(jint(b, "valid_rows") + jint(b, "invalid_rows"), jint(b, "total_rows"));
	assert_int_equal(batch_companies(jstr(b, "id")), valid);
}

/*
 * Uploads a file that must be refused as a whole — either at once (a 4xx page)
 * or as a batch that ends `failed` — and returns the message the user is given
 * (malloc'ed). Either way nothing is imported.
 */
static char *
expect_refused(const char *filename, const char *ctype, const char *data, size_t len)
{
	struct itest_resp r;
	char batch[37];
	long status = upload_as(UPLOADER, filename, ctype, data, len, batch, &r);
	char *msg;

	if (status == 303 && batch[0]) {
		json_t *b = wait_batch(batch);
		char path[128];
		struct itest_resp page;

		if (strcmp(jstr(b, "status"), "failed") != 0)
			fail_msg("%s: expected the file refused; batch %s with %ld valid, %ld "
				 "invalid rows",
				 filename, jstr(b, "status"), jint(b, "valid_rows"),
				 jint(b, "invalid_rows"));
		assert_non_null(jstr(b, "error_message"));
		assert_true(strlen(jstr(b, "error_message")) > 10);
		assert_int_equal(batch_companies(batch), 0);
		msg = xstrdup(jstr(b, "error_message"));
		json_decref(b);
		/* the batch page shows it to people too */
		snprintf(path, sizeof path, "/imports/%s", batch);
		assert_int_equal(get(UPLOADER, path, NULL, &page), 200);
		assert_non_null(strcasestr(page.body.data, "failed"));
		itest_resp_free(&page);
	} else {
		if (status < 400 || status >= 500)
			fail_msg("%s: expected a refusal, got %ld\n%.2000s", filename, status,
				 r.body.data ? r.body.data : "");
		assert_non_null(r.body.data);
		msg = xstrdup(r.body.data);
	}
	itest_resp_free(&r);
	return msg;
}

static void
assert_mentions(const char *msg, const char *needle, const char *what)
{
	if (!strcasestr(msg, needle))
		fail_msg("%s: the message does not mention \"%s\":\n%.3000s", what, needle, msg);
}

/* ================================================================ helpers: CSV */

static void
read_file(const char *path, buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		fail_msg("cannot read %s (set SPANNER_TESTDATA)", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
}

/* Reading CSV with libcsv itself (not the code under test): an array of arrays of strings. */
struct csv_reader {
	json_t *rows, *cur;
};

static int
no_space(unsigned char c)
{
	(void)c;
	return 0; /* keep every byte of unquoted cells: nothing is trimmed */
}

static void
on_cell(void *s, size_t len, void *data)
{
	struct csv_reader *rd = data;

	if (!rd->cur)
		rd->cur = json_array();
	json_array_append_new(rd->cur, json_stringn(s ? s : "", s ? len : 0));
}

static void
on_row(int c, void *data)
{
	struct csv_reader *rd = data;

	(void)c;
	json_array_append_new(rd->rows, rd->cur ? rd->cur : json_array());
	rd->cur = NULL;
}

/*
 * options: CSV_STRICT | CSV_STRICT_FINI for what the server writes; without
 * CSV_STRICT a quote inside an unquoted cell is a plain character, as
 * csv-spectrum's location_coordinates file has it.
 */
static json_t *
csv_rows_opt(const char *data, size_t len, unsigned char options)
{
	struct csv_parser p;
	struct csv_reader rd = {json_array(), NULL};

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	assert_int_equal(csv_init(&p, options), 0);
	csv_set_space_func(&p, no_space);
	if (csv_parse(&p, data, len, on_cell, on_row, &rd) != len ||
	    csv_fini(&p, on_cell, on_row, &rd) != 0)
		fail_msg("not CSV: %s\n%.500s", csv_strerror(csv_error(&p)), data);
	csv_free(&p);
	return rd.rows;
}

static json_t *
csv_rows(const char *data, size_t len)
{
	return csv_rows_opt(data, len, CSV_STRICT | CSV_STRICT_FINI);
}

static json_t *
csv_file_rows(const char *rel)
{
	buf b = BUF_INIT;
	json_t *rows;

	read_file(itest_testdata(rel), &b);
	rows = csv_rows(b.data, b.len);
	buf_free(&b);
	return rows;
}

static void
csv_cell(buf *b, const char *s, int first)
{
	if (!first)
		buf_putc(b, ',');
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* Rows (arrays of strings) as CSV, every cell quoted, rows ended by eol. */
static void
write_csv(buf *b, json_t *rows, const char *eol)
{
	size_t i, j;

	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		for (j = 0; j < json_array_size(row); j++)
			csv_cell(b, json_string_value(json_array_get(row, j)), j == 0);
		buf_puts(b, eol);
	}
}

static json_t *
get_csv(const char *batch, const char *what)
{
	char path[160];
	struct itest_resp r;
	json_t *rows;
	char *ctype;

	snprintf(path, sizeof path, "/imports/%s/%s", batch, what);
	if (get(UPLOADER, path, NULL, &r) != 200)
		fail_msg("GET %s: %ld", path, r.status);
	ctype = itest_header(&r, "Content-Type");
	assert_non_null(ctype);
	assert_non_null(strstr(ctype, "text/csv"));
	free(ctype);
	rows = csv_rows(r.body.data ? r.body.data : "", r.body.len);
	itest_resp_free(&r);
	return rows;
}

/* Header cells compare as the importer matches them: trimmed, case-insensitive. */
static int
header_is(const char *cell, const char *name)
{
	size_t n;

	while (*cell == ' ' || *cell == '\t')
		cell++;
	n = strlen(cell);
	while (n > 0 && (cell[n - 1] == ' ' || cell[n - 1] == '\t'))
		n--;
	return n == strlen(name) && strncasecmp(cell, name, n) == 0;
}

static long
header_index(json_t *header, const char *name)
{
	size_t j;

	for (j = 0; j < json_array_size(header); j++)
		if (header_is(json_string_value(json_array_get(header, j)), name))
			return (long)j;
	return -1;
}

static const char *
cell(json_t *rows, size_t row, size_t col)
{
	return json_string_value(json_array_get(json_array_get(rows, row), col));
}

/* ================================================================ expectations */

/*
 * What an import kind is, for the checks below: its field table and the
 * domain's own clean step (normalise → validate), its table, its upload URL
 * and list page, and the columns that are not fields but names looked up
 * (the segment; for contacts also the company within it). Companies and
 * contacts go through the same verification with their own description.
 */
struct import_extra {
	const char *header;   /* the column in the file */
	const char *expected; /* the only name it may give (any case) */
	const char *stored;   /* SQL on the record (alias t) giving the stored name */
};

#define MAX_EXTRAS 2

struct import_kind {
	const char *what;
	const struct record_field *fields;
	int nfields;
	int (*clean)(records_get_fn getter, void *ctx, int partial, char **out, int *present,
		     json_t *errors);
	void (*values_free)(char **out);
	const char *table;
	const char *upload_path;  /* POST target */
	const char *records_path; /* the list of a batch's records, batch id appended */
	/*
	 * In the order the importer checks them: an empty one is always an error,
	 * a name that matches nothing only while the ones before it are right (a
	 * company is looked up within its segment).
	 */
	struct import_extra extras[MAX_EXTRAS];
};

static char contact_co_name[96]; /* the approved company contact rows name */

static const struct import_kind companies_kind = {
    "companies",
    companies_fields,
    COMPANIES_NFIELDS,
    companies_clean,
    companies_values_free,
    "companies",
    "/imports/companies",
    "/companies?batch=",
    {{"Segment Name", seg_name, "(SELECT name FROM segments s WHERE s.id = t.segment_id)"}},
};

static const struct import_kind contacts_kind = {
    "contacts",
    contacts_fields,
    CONTACTS_NFIELDS,
    contacts_clean,
    contacts_values_free,
    "contacts",
    "/imports/contacts",
    "/contacts?batch=",
    {{"Segment Name", seg_name, "(SELECT name FROM segments s WHERE s.id = t.segment_id)"},
     {"Company Name", contact_co_name,
      "(SELECT name FROM companies c WHERE c.id = t.company_id AND c.segment_id = "
      "t.segment_id)"}},
};

struct row_ctx {
	const struct import_kind *kind;
	json_t *header, *row;
};

static const char *
row_get(void *ctx, const char *column)
{
	struct row_ctx *rc = ctx;
	int i;

	for (i = 0; i < rc->kind->nfields; i++)
		if (strcmp(rc->kind->fields[i].column, column) == 0) {
			long j = header_index(rc->header, rc->kind->fields[i].csv_header);

			return j < 0 ? NULL : json_string_value(json_array_get(rc->row, (size_t)j));
		}
	return NULL;
}

/*
 * Decides a row as SPEC §2/§4 say, with the project's own rules: the
 * fields through the kind's clean step (normalise, then validate), the
 * looked-up names (segment, company) case-insensitively against the only
 * ones these files mean. Returns the number of problems; sig receives the
 * row as it must be stored (the normalised fields, then the names, joined
 * by SEP, NULL as \N); problems the headers of the columns that are wrong.
 */
static int
expect_row(const struct import_kind *k, json_t *header, json_t *row, buf *sig, json_t *problems)
{
	struct row_ctx rc = {k, header, row};
	char **out = xcalloc((size_t)k->nfields, sizeof *out);
	json_t *errors = json_object();
	int n, i, names_ok = 1;

	n = k->clean(row_get, &rc, 0, out, NULL, errors);
	for (i = 0; i < k->nfields; i++) {
		if (i)
			buf_puts(sig, SEP);
		buf_puts(sig, out[i] ? out[i] : "\\N");
		if (problems && json_object_get(errors, k->fields[i].column))
			json_array_append_new(problems, json_string(k->fields[i].csv_header));
	}
	for (i = 0; i < MAX_EXTRAS && k->extras[i].header; i++) {
		const struct import_extra *x = &k->extras[i];
		long j = header_index(header, x->header);
		const char *v = j < 0 ? NULL : json_string_value(json_array_get(row, (size_t)j));
		char *norm = normalise_text(v);

		if (!norm || (names_ok && strcasecmp(norm, x->expected) != 0)) {
			if (problems)
				json_array_append_new(problems, json_string(x->header));
			names_ok = 0;
			n++;
		}
		buf_printf(sig, SEP "%s", x->expected);
		free(norm);
	}
	k->values_free(out);
	free(out);
	json_decref(errors);
	return n;
}

/* The batch's records as signatures (same shape as expect_row's). */
static json_t *
stored_rows(const struct import_kind *k, const char *batch)
{
	buf sql = BUF_INIT;
	const char *p[1] = {batch};
	json_t *out = json_array();
	PGresult *r;
	int i, k_, ncols = k->nfields;

	buf_puts(&sql, "SELECT ");
	for (i = 0; i < k->nfields; i++)
		buf_printf(&sql, "%st.%s::text", i ? ", " : "", k->fields[i].column);
	for (i = 0; i < MAX_EXTRAS && k->extras[i].header; i++, ncols++)
		buf_printf(&sql, ", %s", k->extras[i].stored);
	buf_printf(&sql, " FROM %s t WHERE t.batch_id = $1", k->table);
	r = PQexecParams(pg, sql.data, 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s", PQerrorMessage(pg));
	for (k_ = 0; k_ < PQntuples(r); k_++) {
		buf s = BUF_INIT;

		for (i = 0; i < ncols; i++) {
			if (i)
				buf_puts(&s, SEP);
			buf_puts(&s, PQgetisnull(r, k_, i) ? "\\N" : PQgetvalue(r, k_, i));
		}
		json_array_append_new(out, json_string(s.data));
		buf_free(&s);
	}
	PQclear(r);
	buf_free(&sql);
	return out;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two arrays of strings hold the same strings, as many times each. */
static void
assert_same_multiset(json_t *got, json_t *want, const char *what)
{
	size_t n = json_array_size(got), m = json_array_size(want), i;
	const char **g, **w;

	if (n != m)
		fail_msg("%s: %zu rows stored, %zu expected", what, n, m);
	g = xcalloc(n + 1, sizeof *g);
	w = xcalloc(m + 1, sizeof *w);
	for (i = 0; i < n; i++) {
		g[i] = json_string_value(json_array_get(got, i));
		w[i] = json_string_value(json_array_get(want, i));
	}
	qsort(g, n, sizeof *g, cmp_str);
	qsort(w, m, sizeof *w, cmp_str);
	for (i = 0; i < n; i++)
		if (strcmp(g[i], w[i]) != 0)
			fail_msg("%s: stored rows differ from the expected ones; first "
				 "difference (fields separated by |):\n stored   %s\n expected %s",
				 what, g[i], w[i]);
	free(g);
	free(w);
}

/*
 * The whole check for a generated file: rows[0] is the header. Uploads it
 * (as CSV this test writes, or raw: the same rows in the bytes given),
 * and requires the counts, the stored rows, the error report and the
 * failed-rows file to be exactly what expect_row decides. Returns the batch
 * json (the caller owns it).
 */
static json_t *
import_and_verify(const struct import_kind *k, const char *what, const char *filename, json_t *rows,
		  const buf *raw, char batch[37])
{
	const char *was = upload_path;
	json_t *header = json_array_get(rows, 0), *want = json_array(), *bad = json_array();
	json_t *want_cols = json_object(), *got_cols = json_object();
	json_t *b, *errors, *failed, *got, *cols;
	buf csv = BUF_INIT;
	size_t i, e, total = json_array_size(rows) - 1;
	const char *key;

	for (i = 1; i <= total; i++) {
		buf sig = BUF_INIT;
		json_t *problems = json_array();
		char row[32];

		if (expect_row(k, header, json_array_get(rows, i), &sig, problems) == 0) {
			json_array_append_new(want, json_string(sig.data));
			json_decref(problems);
		} else {
			json_array_append_new(bad, json_integer((json_int_t)i));
			snprintf(row, sizeof row, "%zu", i + 1); /* spreadsheet row: header = 1 */
			json_object_set_new(want_cols, row, problems);
		}
		buf_free(&sig);
	}
	if (raw)
		buf_append(&csv, raw->data, raw->len);
	else
		write_csv(&csv, rows, "\r\n");
	upload_path = k->upload_path;
	b = import_file(filename, csv.data, csv.len, batch);
	upload_path = was;
	assert_completed(b, what, (long)total, (long)json_array_size(want),
			 (long)json_array_size(bad));

	/* the stored rows are exactly the valid rows, normalised */
	got = stored_rows(k, batch);
	assert_same_multiset(got, want, what);
	json_decref(got);

	/*
	 * The error report: every invalid row, and only those, each with a message
	 * for exactly the columns that are wrong (as companies_clean and the
	 * segment look-up say).
	 */
	errors = get_csv(batch, "errors.csv");
	for (e = 1; e < json_array_size(errors); e++) {
		if (strlen(cell(errors, e, 3)) == 0)
			fail_msg("%s: errors.csv line %zu has no message", what, e + 1);
		cols = json_object_get(got_cols, cell(errors, e, 0));
		if (!cols) {
			cols = json_array();
			json_object_set_new(got_cols, cell(errors, e, 0), cols);
		}
		json_array_append_new(cols, json_string(cell(errors, e, 1)));
	}
	json_object_foreach(want_cols, key, cols)
	{
		json_t *g = json_object_get(got_cols, key), *c;
		size_t q, m;
		int found;

		if (!g)
			fail_msg("%s: row %s is invalid (%s) but not in errors.csv", what, key,
				 json_dumps(cols, 0));
		json_array_foreach(cols, q, c)
		{
			for (m = 0, found = 0; m < json_array_size(g); m++)
				found |= header_is(json_string_value(json_array_get(g, m)),
						   json_string_value(c));
			if (!found || json_array_size(g) != json_array_size(cols))
				fail_msg("%s: row %s: errors.csv names %s, expected %s", what, key,
					 json_dumps(g, 0), json_dumps(cols, 0));
		}
		json_object_del(got_cols, key);
	}
	if (json_object_size(got_cols) > 0)
		fail_msg("%s: errors.csv names rows that are valid: %s", what,
			 json_dumps(got_cols, 0));
	json_decref(errors);
	json_decref(want_cols);
	json_decref(got_cols);

	/* the failed rows in full, as submitted, in the original columns and order */
	failed = get_csv(batch, "failed-rows.csv");
	assert_int_equal(json_array_size(failed), json_array_size(bad) + 1);
	assert_true(json_equal(json_array_get(failed, 0), header));
	for (i = 0; i < json_array_size(bad); i++) {
		json_t *sent =
		    json_array_get(rows, (size_t)json_integer_value(json_array_get(bad, i)));

		if (!json_equal(json_array_get(failed, i + 1), sent))
			fail_msg(
			    "%s: failed-rows.csv line %zu differs from the row sent:\n %s\n %s",
			    what, i + 2, json_dumps(json_array_get(failed, i + 1), 0),
			    json_dumps(sent, 0));
	}
	json_decref(failed);
	json_decref(want);
	json_decref(bad);
	buf_free(&csv);
	return b;
}

static json_t *
strings(const char *first, ...)
{
	json_t *a = json_array();
	va_list ap;
	const char *s;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		json_array_append_new(a, json_string(s));
	va_end(ap);
	return a;
}

/* ================================================================ set-up */

static int
setup(void **state)
{
	const char *env[] = {"SPANNER_TASK_THREADS=2", NULL};
	char email[160], *id;
	int i;

	(void)state;
	snprintf(run_id, sizeof run_id, "%d-%lx", (int)getpid(), (unsigned long)time(NULL));
	pg = itest_pg();
	if (!pg)
		return -1;
	for (i = 0; i < NUSERS; i++) {
		const char *p[2] = {email, i == UPLOADER ? "Imports Uploader" : "Imports Other"};

		snprintf(email, sizeof email, "imports-%s-%d@example.com", run_id, i);
		id =
		    sql_value("INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id", 2, p);
		if (!id)
			return -1;
		snprintf(user_ids[i], sizeof user_ids[i], "%s", id);
		free(id);
		p[0] = user_ids[i];
		sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE "
		       "name = 'Researcher'",
		       1, p);
		new_session(i);
	}
	snprintf(seg_name, sizeof seg_name, "Imports %s Segment", run_id);
	snprintf(archived_name, sizeof archived_name, "Imports %s Archived", run_id);
	{
		const char *p[2] = {seg_name, user_ids[UPLOADER]};

		id = sql_value(
		    "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, p);
		snprintf(seg_id, sizeof seg_id, "%s", id);
		free(id);
		p[0] = archived_name;
		sql_ok("INSERT INTO segments (name, created_by, status, archived_at, archived_by) "
		       "VALUES ($1, $2, 'archived', now(), $2)",
		       2, p);
	}
	all_headers[0] = "Company Name";
	all_headers[1] = "Segment Name";
	for (i = 1; i < COMPANIES_NFIELDS; i++)
		all_headers[i + 1] = companies_fields[i].csv_header;
	mkdir("var", 0755);
	mkdir("var/test", 0755);
	return itest_server_start(&srv, "imports", env);
}

/*
 * The test database lives on between runs: this run's imports (some 30,000
 * companies) are removed again so that runs do not pile up data and slow
 * other suites down (their finished job rows and audit rows stay; the audit
 * log is append-only). SPANNER_TEST_KEEP=1 keeps everything for a look.
 */
static void
cleanup(void)
{
	static const char *const steps[] = {
	    "DELETE FROM upload_errors WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id IN ($1, $2))",
	    "DELETE FROM upload_rows WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id IN ($1, $2))",
	    "DELETE FROM contacts WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id IN ($1, $2))",
	    "DELETE FROM companies WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id IN ($1, $2))",
	    "DELETE FROM upload_files WHERE batch_id IN (SELECT id FROM upload_batches WHERE "
	    "uploader_id IN ($1, $2))",
	    "DELETE FROM upload_batches WHERE uploader_id IN ($1, $2)",
	};
	const char *p[2] = {user_ids[UPLOADER], user_ids[OTHER]};
	size_t i;
	PGresult *r;

	if (getenv("SPANNER_TEST_KEEP") || !user_ids[UPLOADER][0])
		return;
	PQclear(PQexec(pg, "BEGIN"));
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		r = PQexecParams(pg, steps[i], 2, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "clean-up left this run's imports in place: %s",
				PQerrorMessage(pg));
			PQclear(r);
			PQclear(PQexec(pg, "ROLLBACK"));
			return;
		}
		PQclear(r);
	}
	PQclear(PQexec(pg, "COMMIT"));
}

static int
teardown(void **state)
{
	int rc;

	(void)state;
	rc = itest_server_stop(&srv) == 0 ? 0 : -1;
	cleanup();
	PQfinish(pg);
	return rc;
}

/* ================================================================ the upload page */

static void
test_upload_form_and_template(void **state)
{
	struct itest_resp r;
	json_t *rows;
	size_t i;

	(void)state;
	assert_int_equal(get(UPLOADER, "/imports/companies/new", NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "multipart/form-data"));
	assert_non_null(strstr(r.body.data, "name=\"file\""));
	assert_non_null(strstr(r.body.data, "name=\"csrf_token\""));
	assert_non_null(strstr(r.body.data, "/imports/companies/template.csv"));
	itest_resp_free(&r);

	assert_int_equal(get(UPLOADER, "/imports/companies/template.csv", NULL, &r), 200);
	rows = csv_rows(r.body.data, r.body.len);
	/* every column of SPEC §4, the required ones included */
	for (i = 0; i < COMPANIES_NFIELDS + 1; i++)
		if (header_index(json_array_get(rows, 0), all_headers[i]) < 0)
			fail_msg("template.csv lacks the column %s", all_headers[i]);
	json_decref(rows);
	itest_resp_free(&r);
}

/* ================================================================ a mixed file */

/* The rows of the mixed file; batch id kept for the list and audit tests. */
static char mixed_batch[37];

static json_t *
mixed_rows(void)
{
	char nosuch[200], longname[502];
	json_t *rows = json_array();

	snprintf(nosuch, sizeof nosuch, "No Such Segment %s", run_id);
	memset(longname, 'x', 501);
	longname[501] = '\0';
	/* shuffled, oddly-cased, space-padded headers and an extra column */
	json_array_append_new(rows,
			      strings("Segment NAME", " company name ", "Company Website", "Notes",
				      "founded year", "City", "Company Description", NULL));
	/* row 2: its segment named in lower case, padded (set below) */
	json_array_append_new(
	    rows, strings(seg_name, "acme corp", "Acme.COM/", "n1", "1999", "London", "", NULL));
	/* row 3: one spreadsheet row over two physical lines */
	json_array_append_new(rows, strings(seg_name, "Multi Line Ltd", "", "n2", "", "Leeds",
					    "first line\r\nsecond line", NULL));
	/* row 4: no name */
	json_array_append_new(rows, strings(seg_name, "", "", "n3", "", "", "", NULL));
	/* row 5: not a year */
	json_array_append_new(rows, strings(seg_name, "Year Co", "", "n4", "17xx", "", "", NULL));
	/* row 6: not an http(s) URL */
	json_array_append_new(
	    rows, strings(seg_name, "Web Co", "ftp://example.com", "n5", "", "", "", NULL));
	/* row 7: no such segment */
	json_array_append_new(rows, strings(nosuch, "Lost Co", "", "n6", "", "", "", NULL));
	/* row 8: an archived segment */
	json_array_append_new(rows,
			      strings(archived_name, "Archived Co", "", "n7", "", "", "", NULL));
	/* row 9: two problems in one row */
	json_array_append_new(rows, strings(seg_name, "   ", "", "n8", "3000", "", "", NULL));
	/* row 10: a within-file duplicate of row 2: imported too */
	json_array_append_new(
	    rows, strings(seg_name, "acme corp", "acme.com", "n9", "1999", "London", "", NULL));
	/* row 11: a name of 501 characters */
	json_array_append_new(rows, strings(seg_name, longname, "", "n10", "", "", "", NULL));
	/* row 12: mixed case kept; a formula-looking extra cell ignored */
	json_array_append_new(
	    rows, strings(seg_name, "McKinsey & Company", "", "=1+2", "", "", "", NULL));
	/* row 13: no segment */
	json_array_append_new(rows, strings("", "No Seg Co", "", "n12", "", "", "", NULL));
	{
		char lower[200];
		size_t i;

		snprintf(lower, sizeof lower, "  %s  ", seg_name);
		for (i = 0; lower[i]; i++)
			lower[i] =
			    (char)(lower[i] >= 'A' && lower[i] <= 'Z' ? lower[i] + 32 : lower[i]);
		json_array_set_new(json_array_get(rows, 1), 0, json_string(lower));
	}
	return rows;
}

static const struct {
	long row;
	const char *column;
	const char *value; /* NULL: not checked */
} mixed_errors[] = {
    {4, "Company Name", ""},
    {5, "Founded Year", "17xx"},
    {6, "Company Website", "ftp://example.com"},
    {7, "Segment Name", NULL},
    {8, "Segment Name", NULL},
    {9, "Company Name", NULL},
    {9, "Founded Year", "3000"},
    {11, "Company Name", NULL},
    {13, "Segment Name", ""},
};
#define N_MIXED_ERRORS (sizeof mixed_errors / sizeof mixed_errors[0])
static const long mixed_failed[] = {4, 5, 6, 7, 8, 9, 11, 13};
#define N_MIXED_FAILED (sizeof mixed_failed / sizeof mixed_failed[0])

static void
test_mixed_file(void **state)
{
	json_t *rows = mixed_rows(), *b, *errors, *failed, *list;
	buf csv = BUF_INIT, fixed = BUF_INIT;
	struct itest_resp r;
	char path[160], batch2[37];
	const char *p[2];
	PGresult *res;
	size_t i, j;

	(void)state;
	buf_puts(&csv, "\xEF\xBB\xBF");
	write_csv(&csv, rows, "\r\n");
	b = import_file("mixed.csv", csv.data, csv.len, mixed_batch);
	assert_completed(b, "mixed.csv", 12, 4, 8);
	assert_string_equal(jstr(b, "id"), mixed_batch);
	assert_string_equal(jstr(b, "entity_type"), "company");
	assert_string_equal(jstr(b, "file_name"), "mixed.csv");
	assert_int_equal(jint(b, "file_size_bytes"), (long)csv.len);
	assert_true(json_is_null(json_object_get(b, "error_message")) ||
		    !jstr(b, "error_message") || !*jstr(b, "error_message"));
	json_decref(b);

	/* the valid rows: pending, in the batch, ours, normalised */
	p[0] = mixed_batch;
	res = PQexecParams(pg,
			   "SELECT name, coalesce(website, ''), status, created_by, segment_id, "
			   "coalesce(address_city, ''), coalesce(description, ''), "
			   "coalesce(founded_year::text, '') FROM companies WHERE batch_id = $1 "
			   "ORDER BY name, description",
			   1, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(PQgetvalue(res, (int)i, 2), "pending");
		assert_string_equal(PQgetvalue(res, (int)i, 3), user_ids[UPLOADER]);
		assert_string_equal(PQgetvalue(res, (int)i, 4), seg_id);
	}
	assert_string_equal(PQgetvalue(res, 0, 0), "Acme Corp");
	assert_string_equal(PQgetvalue(res, 0, 1), "https://acme.com");
	assert_string_equal(PQgetvalue(res, 0, 5), "London");
	assert_string_equal(PQgetvalue(res, 0, 7), "1999");
	assert_string_equal(PQgetvalue(res, 1, 0), "Acme Corp");
	assert_string_equal(PQgetvalue(res, 1, 1), "https://acme.com");
	assert_string_equal(PQgetvalue(res, 2, 0), "McKinsey & Company");
	assert_string_equal(PQgetvalue(res, 3, 0), "Multi Line Ltd");
	assert_string_equal(PQgetvalue(res, 3, 6), "first line\nsecond line");
	PQclear(res);

	/* listed at /companies?batch= */
	snprintf(path, sizeof path, "/companies?batch=%s", mixed_batch);
	list = get_json(UPLOADER, path);
	assert_int_equal(json_array_size(json_object_get(list, "rows")), 4);
	json_decref(list);

	/* the result page: batch id, counts, links to both reports and the fix grid */
	snprintf(path, sizeof path, "/imports/%s", mixed_batch);
	assert_int_equal(get(UPLOADER, path, NULL, &r), 200);
	assert_non_null(strstr(r.body.data, mixed_batch));
	snprintf(path, sizeof path, "/imports/%s/errors.csv", mixed_batch);
	assert_non_null(strstr(r.body.data, path));
	snprintf(path, sizeof path, "/imports/%s/failed-rows.csv", mixed_batch);
	assert_non_null(strstr(r.body.data, path));
	snprintf(path, sizeof path, "/imports/%s/fix", mixed_batch);
	assert_non_null(strstr(r.body.data, path));
	itest_resp_free(&r);

	/* the error report: one line per bad cell, spreadsheet row numbers */
	errors = get_csv(mixed_batch, "errors.csv");
	assert_true(json_array_size(json_array_get(errors, 0)) >= 4);
	assert_false(cell(errors, 0, 0)[0] >= '0' && cell(errors, 0, 0)[0] <= '9'); /* a header */
	if (json_array_size(errors) != N_MIXED_ERRORS + 1)
		fail_msg("errors.csv has %zu lines, expected %zu:\n%s", json_array_size(errors) - 1,
			 N_MIXED_ERRORS, json_dumps(errors, JSON_INDENT(1)));
	for (i = 0; i < N_MIXED_ERRORS; i++) {
		int found = 0;

		for (j = 1; j < json_array_size(errors); j++) {
			if (atol(cell(errors, j, 0)) != mixed_errors[i].row ||
			    !header_is(cell(errors, j, 1), mixed_errors[i].column))
				continue;
			found = 1;
			if (mixed_errors[i].value)
				assert_string_equal(cell(errors, j, 2), mixed_errors[i].value);
			assert_true(strlen(cell(errors, j, 3)) > 5);
		}
		if (!found)
			fail_msg("errors.csv lacks row %ld, column %s:\n%s", mixed_errors[i].row,
				 mixed_errors[i].column, json_dumps(errors, JSON_INDENT(1)));
	}
	json_decref(errors);

	/* the failed rows, in full, as sent, in the original columns and order */
	failed = get_csv(mixed_batch, "failed-rows.csv");
	assert_int_equal(json_array_size(failed), N_MIXED_FAILED + 1);
	assert_true(json_equal(json_array_get(failed, 0), json_array_get(rows, 0))); /* as sent */
	for (i = 0; i < N_MIXED_FAILED; i++)
		if (!json_equal(json_array_get(failed, i + 1),
				json_array_get(rows, (size_t)mixed_failed[i] - 1)))
			fail_msg("failed-rows.csv line %zu: %s, sent %s", i + 2,
				 json_dumps(json_array_get(failed, i + 1), 0),
				 json_dumps(json_array_get(rows, (size_t)mixed_failed[i] - 1), 0));

	/* fix the bad cells in that file and upload it again: all of it imports */
	for (i = 1; i < json_array_size(failed); i++) {
		json_t *row = json_array_get(failed, i);
		char name[64];

		snprintf(name, sizeof name, "Fixed Co %zu", i);
		json_array_set_new(row, 0, json_string(seg_name));
		json_array_set_new(row, 1, json_string(name));
		json_array_set_new(row, 2, json_string("https://fixed.example.com"));
		json_array_set_new(row, 4, json_string("2001"));
	}
	write_csv(&fixed, failed, "\n");
	b = import_file("mixed-fixed.csv", fixed.data, fixed.len, batch2);
	assert_completed(b, "mixed-fixed.csv", 8, 8, 0);
	p[0] = batch2;
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND name "
				   "LIKE 'Fixed Co %' AND founded_year = 2001",
				   1, p),
			 8);
	json_decref(b);
	json_decref(failed);
	json_decref(rows);
	buf_free(&csv);
	buf_free(&fixed);
}

/* ================================================================ list and audit */

static int
list_has(json_t *list, const char *id)
{
	json_t *row;
	size_t i;

	json_array_foreach(json_object_get(list, "rows"), i,
			   row) if (jstr(row, "id") && strcmp(jstr(row, "id"), id) == 0) return 1;
	return 0;
}

static void
test_uploads_list_and_audit(void **state)
{
	json_t *list;
	struct itest_resp r;
	char link[64];
	const char *p[1] = {mixed_batch};

	(void)state;
	assert_true(mixed_batch[0]);
	/* everyone sees every upload; "mine" shows one's own */
	list = get_json(UPLOADER, "/imports?mine=1");
	assert_true(list_has(list, mixed_batch));
	json_decref(list);
	list = get_json(OTHER, "/imports?mine=1");
	assert_false(list_has(list, mixed_batch));
	json_decref(list);
	list = get_json(OTHER, "/imports");
	assert_true(list_has(list, mixed_batch));
	json_decref(list);
	list = get_json(UPLOADER, "/imports?mine=1&status=completed");
	assert_true(list_has(list, mixed_batch));
	json_decref(list);
	list = get_json(UPLOADER, "/imports?mine=1&status=failed");
	assert_false(list_has(list, mixed_batch));
	json_decref(list);
	assert_int_equal(get(UPLOADER, "/imports?mine=1", NULL, &r), 200);
	snprintf(link, sizeof link, "/imports/%s", mixed_batch);
	assert_non_null(strstr(r.body.data, link));
	assert_non_null(strstr(r.body.data, "mixed.csv"));
	itest_resp_free(&r);

	/* one 'upload' row when the file came in, one 'import' row with the outcome */
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE action = 'upload' AND "
				   "entity_id = $1",
				   1, p),
			 1);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE action = 'import' AND "
				   "entity_id = $1 AND (details->>'valid_rows')::int = 4 AND "
				   "(details->>'invalid_rows')::int = 8",
				   1, p),
			 1);
	{
		const char *q[2] = {mixed_batch, user_ids[UPLOADER]};

		assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 "
					   "AND action IN ('upload', 'import') AND actor_id = $2",
					   2, q),
				 2);
	}
}

/* ================================================================ the fix grid */

static void
test_fix_flow(void **state)
{
	json_t *rows = json_array(), *b, *errors, *failed;
	char batch[37], path[160], nosuch[200];
	buf csv = BUF_INIT, form = BUF_INIT, fixed = BUF_INIT, body = BUF_INIT;
	struct itest_resp r;
	const char *p[1];
	char *loc;

	(void)state;
	snprintf(nosuch, sizeof nosuch, "Nope %s", run_id);
	json_array_append_new(
	    rows, strings("Company Name", "Segment Name", "Founded Year", "City", NULL));
	json_array_append_new(rows, strings("Good Co", seg_name, "1990", "York", NULL)); /* 2 */
	json_array_append_new(rows, strings("", seg_name, "", "Bath", NULL));		 /* 3 */
	json_array_append_new(rows, strings("Year Fix Co", seg_name, "19x9", "", NULL)); /* 4 */
	json_array_append_new(rows, strings("Still Bad Co", nosuch, "", "Hull", NULL));	 /* 5 */
	write_csv(&csv, rows, "\r\n");
	b = import_file("fix-me.csv", csv.data, csv.len, batch);
	assert_completed(b, "fix-me.csv", 4, 1, 3);
	json_decref(b);

	/* the grid: every failed row with its cells named c<row>_<column> */
	snprintf(path, sizeof path, "/imports/%s/fix", batch);
	assert_int_equal(get(UPLOADER, path, NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "name=\"c3_0\""));
	assert_non_null(strstr(r.body.data, "name=\"c4_2\""));
	assert_non_null(strstr(r.body.data, "name=\"c5_1\""));
	assert_null(strstr(r.body.data, "name=\"c2_0\""));
	itest_resp_free(&r);

	/* two rows corrected in the grid and re-submitted */
	form_add(&form, "csrf_token", csrfs[UPLOADER]);
	form_add(&form, "rows", "3");
	form_add(&form, "rows", "4");
	form_add(&form, "c3_0", "  fixed three ltd ");
	form_add(&form, "c4_2", "1999");
	assert_int_equal(request(UPLOADER, "POST", path, NULL, form.data, form.len, NULL, &r), 303);
	loc = itest_header(&r, "Location");
	assert_string_equal(loc, path);
	free(loc);
	itest_resp_free(&r);

	/* imported into the same batch; counts moved; errors marked corrected */
	b = batch_json(batch);
	assert_string_equal(jstr(b, "status"), "completed");
	assert_int_equal(jint(b, "total_rows"), 4);
	assert_int_equal(jint(b, "valid_rows"), 3);
	assert_int_equal(jint(b, "invalid_rows"), 1);
	assert_int_equal(jint(b, "corrected_rows"), 2);
	json_decref(b);
	p[0] = batch;
	assert_int_equal(batch_companies(batch), 3);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND "
				   "status = 'pending' AND ((name = 'Fixed Three Ltd' AND "
				   "address_city = 'Bath') OR (name = 'Year Fix Co' AND "
				   "founded_year = 1999))",
				   1, p),
			 2);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1 AND "
				   "row_number IN (3, 4) AND is_corrected AND corrected_at IS NOT "
				   "NULL",
				   1, p),
			 2);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1 AND "
				   "row_number = 5 AND NOT is_corrected",
				   1, p),
			 1);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM upload_rows u JOIN companies c ON c.id = "
		      "u.imported_id AND c.batch_id = u.batch_id WHERE u.batch_id = $1 "
		      "AND u.status = 'corrected' AND u.row_number IN (3, 4)",
		      1, p),
	    2);

	/* the reports follow: every error still listed, only row 5 still failing */
	errors = get_csv(batch, "errors.csv");
	assert_int_equal(json_array_size(errors), 4);
	json_decref(errors);
	failed = get_csv(batch, "failed-rows.csv");
	assert_int_equal(json_array_size(failed), 2);
	assert_true(json_equal(json_array_get(failed, 1), json_array_get(rows, 4)));

	/* Enter in a row (htmx, one row): still wrong → the row comes back with its error */
	buf_reset(&form);
	form_add(&form, "csrf_token", csrfs[UPLOADER]);
	form_add(&form, "row", "5");
	form_add(&form, "c5_1", "Still No Such Segment");
	extra_header = "HX-Request: true";
	assert_int_equal(request(UPLOADER, "POST", path, NULL, form.data, form.len, NULL, &r), 200);
	extra_header = NULL;
	assert_non_null(strstr(r.body.data, "fix-row-5"));
	assert_non_null(strstr(r.body.data, "Still No Such Segment"));
	assert_non_null(strstr(r.body.data, "field-error"));
	itest_resp_free(&r);
	b = batch_json(batch);
	assert_int_equal(jint(b, "valid_rows"), 3);
	assert_int_equal(jint(b, "invalid_rows"), 1);
	json_decref(b);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1 AND "
				   "row_number = 5 AND status = 'failed' AND corrected_values[2] = "
				   "'Still No Such Segment'",
				   1, p),
			 1);

	/* the last one through a corrected failed-rows file uploaded against the batch */
	json_array_set_new(json_array_get(failed, 1), 1, json_string(seg_name));
	write_csv(&fixed, failed, "\r\n");
	multipart(&body, csrfs[UPLOADER], "fix-me-failed-rows.csv", "text/csv", fixed.data,
		  fixed.len);
	assert_int_equal(request(UPLOADER, "POST", path, "multipart/form-data; boundary=" BOUNDARY,
				 body.data, body.len, NULL, &r),
			 303);
	itest_resp_free(&r);
	b = batch_json(batch);
	assert_int_equal(jint(b, "valid_rows"), 4);
	assert_int_equal(jint(b, "invalid_rows"), 0);
	assert_int_equal(jint(b, "corrected_rows"), 3);
	json_decref(b);
	assert_int_equal(batch_companies(batch), 4);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND name = "
				   "'Still Bad Co' AND address_city = 'Hull'",
				   1, p),
			 1);
	json_decref(failed);
	failed = get_csv(batch, "failed-rows.csv");
	assert_int_equal(json_array_size(failed), 1); /* the header alone */
	json_decref(failed);
	json_decref(rows);
	buf_free(&csv);
	buf_free(&form);
	buf_free(&fixed);
	buf_free(&body);
}

/* ================================================================ contacts */

/* The error message errors.csv gives for (row, column as the file names it), or NULL. */
static const char *
report_error(json_t *errors, const char *row, const char *column)
{
	size_t i;

	for (i = 1; i < json_array_size(errors); i++)
		if (strcmp(cell(errors, i, 0), row) == 0 && header_is(cell(errors, i, 1), column))
			return cell(errors, i, 3);
	return NULL;
}

static void
assert_error(json_t *errors, const char *row, const char *column, const char *needle)
{
	const char *msg = report_error(errors, row, column);

	if (!msg || !strstr(msg, needle))
		fail_msg("row %s, %s: expected an error with “%s”, got “%s”", row, column, needle,
			 msg ? msg : "(none)");
}

/* After the contact test, uploads go to the companies import again, whatever happened. */
static int
companies_again(void **state)
{
	(void)state;
	upload_path = "/imports/companies";
	return 0;
}

/*
 * A contact file end to end (SPEC §4 for contacts): the company is named
 * within the named segment (one company name in two segments is two
 * companies), must be approved; upload → error report → two rows fixed in
 * the grid → the rest through a corrected failed-rows file, all into the
 * same batch; the uploads list and the template know the kind.
 */
static void
test_contact_import(void **state)
{
	char seg2[160], seg2_id[37], acme[96], acme_lower[96], acme_upper[96], pend[96], rej[96];
	char acme_a[37], acme_b[37], other[37], batch[37], path[160], nosuch[160];
	json_t *rows = json_array(), *b, *errors, *failed, *tmpl;
	buf csv = BUF_INIT, form = BUF_INIT, fixed = BUF_INIT, body = BUF_INIT;
	struct itest_resp r;
	const char *p[3];
	size_t i;
	(void)state;

	snprintf(seg2, sizeof seg2, "Imports %s Second", run_id);
	{
		const char *q[2] = {seg2, user_ids[UPLOADER]};
		char *v = sql_value(
		    "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, q);

		snprintf(seg2_id, sizeof seg2_id, "%s", v);
		free(v);
	}
	snprintf(acme, sizeof acme, "Acme Contacts %s", run_id);
	snprintf(acme_lower, sizeof acme_lower, "  acme   contacts %s ", run_id);
	snprintf(acme_upper, sizeof acme_upper, "ACME CONTACTS %s", run_id);
	snprintf(pend, sizeof pend, "Pending Contacts %s", run_id);
	snprintf(rej, sizeof rej, "Rejected Contacts %s", run_id);
	snprintf(nosuch, sizeof nosuch, "No Such Segment %s", run_id);
	itest_company(acme_a, acme, seg_id, "approved", user_ids[UPLOADER]);
	itest_company(acme_b, acme, seg2_id, "approved", user_ids[UPLOADER]);
	itest_company(other, pend, seg_id, "pending", user_ids[UPLOADER]);
	itest_company(other, rej, seg_id, "rejected", user_ids[UPLOADER]);

	/* the template: SPEC §4's contact columns, required ones first */
	upload_path = "/imports/contacts";
	assert_int_equal(get(UPLOADER, "/imports/contacts/template.csv", NULL, &r), 200);
	tmpl = csv_rows(r.body.data, r.body.len);
	itest_resp_free(&r);
	{
		static const char *const want[] = {
		    "First Name",   "Last Name",	   "Email",
		    "Company Name", "Segment Name",	   "Mobile Phone",
		    "Job Title",    "Direct Phone Number", "Email Address 2"};

		for (i = 0; i < sizeof want / sizeof want[0]; i++)
			assert_string_equal(cell(tmpl, 0, i), want[i]);
		assert_int_equal(json_array_size(json_array_get(tmpl, 0)), 21);
	}
	json_decref(tmpl);
	assert_int_equal(get(UPLOADER, "/imports/contacts/new", NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "action=\"/imports/contacts\""));
	itest_resp_free(&r);

	json_array_append_new(rows, strings("first name", " Last Name ", "EMAIL", "Company Name",
					    "Segment Name", "LinkedIn Summary", "Email Address 2",
					    "Unused Column", NULL));
	/* 2, 3, 10 good; the rest each wrong in one way */
	json_array_append_new(rows, strings("Ada", "Lovelace", " Ada@Example.COM ", acme_lower,
					    seg_name, "", "", "x", NULL));
	json_array_append_new(
	    rows, strings("Bo", "Brown", "bo@example.com", acme_upper, seg2, "", "", "", NULL));
	json_array_append_new(
	    rows, strings("Cy", "", "cy@example.com", acme, seg_name, "", "", "", NULL)); /* 4 */
	json_array_append_new(
	    rows, strings("Di", "Dee", "not-an-email", acme, seg_name, "", "", "", NULL)); /* 5 */
	json_array_append_new(
	    rows, strings("Ed", "Eve", "ed@example.com", pend, seg_name, "", "", "", NULL)); /* 6 */
	json_array_append_new(
	    rows, strings("Fa", "Fay", "fa@example.com", rej, seg_name, "", "", "", NULL)); /* 7 */
	json_array_append_new(
	    rows, strings("Gu", "Guy", "gu@example.com", pend, seg2, "", "", "", NULL)); /* 8 */
	json_array_append_new(
	    rows, strings("Hy", "Hue", "hy@example.com", acme, nosuch, "", "", "", NULL)); /* 9 */
	json_array_append_new(rows, strings("Io", "Ivy", "io@example.com", acme, seg_name,
					    "Line one  \r\nLine two", "IO2@Example.com", "", NULL));
	write_csv(&csv, rows, "\r\n");
	b = import_file("contacts.csv", csv.data, csv.len, batch);
	assert_completed(b, "contacts.csv", 9, 3, 6);
	assert_string_equal(jstr(b, "entity_type"), "contact");
	json_decref(b);

	p[0] = batch;
	p[1] = acme_a;
	p[2] = seg_id;
	assert_int_equal(sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND status = "
				   "'uploaded' AND created_by IS NOT NULL",
				   1, p),
			 3);
	assert_int_equal(sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND "
				   "company_id = $2 AND segment_id = $3 AND ((email = "
				   "'ada@example.com' AND first_name = 'Ada') OR (email = "
				   "'io@example.com' AND linkedin_summary = E'Line one\\nLine two' "
				   "AND email_2 = 'io2@example.com'))",
				   3, p),
			 2);
	p[1] = acme_b;
	p[2] = seg2_id;
	assert_int_equal(sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND email = "
				   "'bo@example.com' AND company_id = $2 AND segment_id = $3",
				   3, p),
			 1);

	/* the report says what is wrong with each, on its column */
	errors = get_csv(batch, "errors.csv");
	assert_int_equal(json_array_size(errors), 7);
	assert_error(errors, "4", "Last Name", "required");
	assert_error(errors, "5", "EMAIL", "");
	assert_error(errors, "6", "Company Name", "pending approval");
	assert_error(errors, "7", "Company Name", "rejected");
	assert_error(errors, "8", "Company Name", "There is no company named");
	assert_error(errors, "9", "Segment Name", "There is no segment named");
	json_decref(errors);

	/* two rows fixed in the grid (cells c<row>_<header index>) */
	snprintf(path, sizeof path, "/imports/%s/fix", batch);
	assert_int_equal(get(UPLOADER, path, NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "name=\"c4_1\""));
	itest_resp_free(&r);
	form_add(&form, "csrf_token", csrfs[UPLOADER]);
	form_add(&form, "rows", "4");
	form_add(&form, "rows", "5");
	form_add(&form, "c4_1", " Cole ");
	form_add(&form, "c5_2", "Di@Example.com");
	assert_int_equal(request(UPLOADER, "POST", path, NULL, form.data, form.len, NULL, &r), 303);
	itest_resp_free(&r);
	b = batch_json(batch);
	assert_int_equal(jint(b, "valid_rows"), 5);
	assert_int_equal(jint(b, "invalid_rows"), 4);
	assert_int_equal(jint(b, "corrected_rows"), 2);
	json_decref(b);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND ((email = "
		      "'cy@example.com' AND last_name = 'Cole') OR email = "
		      "'di@example.com')",
		      1, p),
	    2);

	/* the rest through the failed-rows file, fixed and uploaded against the batch */
	failed = get_csv(batch, "failed-rows.csv");
	assert_int_equal(json_array_size(failed), 5);
	for (i = 1; i < 5; i++) {
		json_array_set_new(json_array_get(failed, i), 3, json_string(acme));
		json_array_set_new(json_array_get(failed, i), 4, json_string(seg_name));
	}
	write_csv(&fixed, failed, "\r\n");
	multipart(&body, csrfs[UPLOADER], "contacts-fixed.csv", "text/csv", fixed.data, fixed.len);
	assert_int_equal(request(UPLOADER, "POST", path, "multipart/form-data; boundary=" BOUNDARY,
				 body.data, body.len, NULL, &r),
			 303);
	itest_resp_free(&r);
	b = batch_json(batch);
	assert_int_equal(jint(b, "valid_rows"), 9);
	assert_int_equal(jint(b, "invalid_rows"), 0);
	json_decref(b);
	p[1] = acme_a;
	assert_int_equal(sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND "
				   "company_id = $2",
				   2, p),
			 8);

	/* the uploads list shows the kind, and offers both kinds to a researcher */
	assert_int_equal(get(UPLOADER, "/imports", NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "/imports/contacts/new"));
	assert_non_null(strstr(r.body.data, "/imports/companies/new"));
	assert_non_null(strstr(r.body.data, batch));
	itest_resp_free(&r);

	json_decref(failed);
	json_decref(rows);
	buf_free(&csv);
	buf_free(&form);
	buf_free(&fixed);
	buf_free(&body);
}

/*
 * One name, five companies in the segment: a row means the approved one that
 * is neither flagged as a duplicate nor deactivated, the oldest of those —
 * not the pending one, the flagged one or the deactivated one, however old.
 */
static void
test_contact_import_prefers_the_shown_approved_company(void **state)
{
	char name[96], pending[37], flagged[37], inactive[37], oldest[37], newer[37], batch[37];
	json_t *rows = json_array(), *b;
	buf csv = BUF_INIT;
	const char *p[2];
	(void)state;

	snprintf(name, sizeof name, "Twin Contacts %s", run_id);
	itest_company(pending, name, seg_id, "pending", user_ids[UPLOADER]);
	itest_company(flagged, name, seg_id, "approved", user_ids[UPLOADER]);
	itest_company(inactive, name, seg_id, "approved", user_ids[UPLOADER]);
	itest_company(oldest, name, seg_id, "approved", user_ids[UPLOADER]);
	itest_company(newer, name, seg_id, "approved", user_ids[UPLOADER]);
	p[0] = flagged;
	p[1] = oldest;
	sql_ok("UPDATE companies SET is_duplicate = true, duplicate_of = $2 WHERE id = $1", 2, p);
	p[0] = inactive;
	sql_ok("UPDATE companies SET is_active = false WHERE id = $1", 1, p);

	upload_path = "/imports/contacts";
	json_array_append_new(rows, strings("First Name", "Last Name", "Email", "Company Name",
					    "Segment Name", NULL));
	json_array_append_new(rows,
			      strings("Tia", "Twin", "tia.twin@example.com", name, seg_name, NULL));
	write_csv(&csv, rows, "\r\n");
	b = import_file("twins.csv", csv.data, csv.len, batch);
	assert_completed(b, "twins.csv", 1, 1, 0);
	json_decref(b);
	p[0] = batch;
	p[1] = oldest;
	assert_int_equal(
	    sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND company_id = $2", 2,
		      p),
	    1);
	buf_free(&csv);
	json_decref(rows);
}

/*
 * Names beyond ASCII typed in another case, first met after more than 1 MB
 * of rows: by then the staged rows stream to PostgreSQL (COPY), so matching
 * the name must not need a query. The batch completes, every row imported.
 */
static void
test_contact_import_late_unicode_names(void **state)
{
	char seg_u[160], seg_u_id[37], seg_typed[160], co[96], co_typed[96], co_id[37];
	char batch[37], line[512];
	buf csv = BUF_INIT;
	json_t *b;
	long n = 0;
	const char *p[2];
	(void)state;

	snprintf(seg_u, sizeof seg_u, "Übersee Ölmärkte %s", run_id);
	snprintf(seg_typed, sizeof seg_typed, "ÜBERSEE ÖLMÄRKTE %s", run_id);
	snprintf(co, sizeof co, "Ørsted Čapek %s", run_id);
	snprintf(co_typed, sizeof co_typed, "ørsted čapek %s", run_id);
	{
		const char *q[2] = {seg_u, user_ids[UPLOADER]};
		char *v = sql_value(
		    "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, q);

		snprintf(seg_u_id, sizeof seg_u_id, "%s", v);
		free(v);
	}
	itest_company(co_id, co, seg_u_id, "approved", user_ids[UPLOADER]);
	upload_path = "/imports/contacts";
	buf_puts(&csv, "First Name,Last Name,Email,Company Name,Segment Name,Job Title\r\n");
	while (csv.len < 1300 * 1024) {
		snprintf(line, sizeof line,
			 "Late%ld,Rows,late%ld@example.com,\"%s\",\"%s\",\"%s\"\r\n", n, n,
			 n % 2 ? co : co_typed, n % 2 ? seg_u : seg_typed,
			 "A job title long enough to make the file grow quickly to a megabyte");
		buf_puts(&csv, line);
		n++;
	}
	/* the first row naming them in this spelling, at the very end */
	snprintf(line, sizeof line,
		 "Last,Row,last@example.com,\"ØRSTED ČAPEK %s\",\"übersee "
		 "ölmärkte %s\",\r\n",
		 run_id, run_id);
	buf_puts(&csv, line);
	n++;
	b = import_file("late-unicode.csv", csv.data, csv.len, batch);
	assert_completed(b, "late-unicode.csv", n, n, 0);
	json_decref(b);
	p[0] = batch;
	p[1] = co_id;
	assert_int_equal(sql_count("SELECT count(*) FROM contacts WHERE batch_id = $1 AND "
				   "company_id = $2",
				   2, p),
			 n);
	buf_free(&csv);
}

/* ================================================================ whole-file rejections */

#define GOOD_FILE "Company Name,Segment Name\r\nAcme,%s\r\n"

static void
test_whole_file_rejections(void **state)
{
	char content[512], batch[37];
	buf big = BUF_INIT;
	struct itest_resp r;
	json_t *b;
	char *msg;
	size_t i;

	(void)state;
	snprintf(content, sizeof content, GOOD_FILE, seg_name);

	/* not .csv: refused, saying what is accepted */
	msg = expect_refused("companies.txt", "text/plain", content, strlen(content));
	assert_mentions(msg, ".csv", "a .txt file");
	free(msg);

	/* empty, and header only */
	msg = expect_refused("empty.csv", "text/csv", "", 0);
	assert_mentions(msg, "empty", "an empty file");
	free(msg);
	msg = expect_refused("header-only.csv", "text/csv", "Company Name,Segment Name\r\n", 27);
	assert_mentions(msg, "row", "a header-only file");
	free(msg);

	/* invalid UTF-8 on line 7 (a Latin-1 é), after a multi-line cell: the line is named */
	{
		buf f = BUF_INIT;

		buf_printf(&f,
			   "Company Name,Segment Name,Company Description\n"
			   "A,%s,\n"
			   "B,%s,\"two\nlines\"\n" /* lines 3-4 */
			   "C,%s,\n"
			   "D,%s,\n"
			   "Caf\xE9 Ltd,%s,\n" /* line 7 */
			   "E,%s,\n",
			   seg_name, seg_name, seg_name, seg_name, seg_name, seg_name);
		msg = expect_refused("latin1.csv", "text/csv", f.data, f.len);
		assert_mentions(msg, "line 7", "invalid UTF-8 on line 7");
		assert_mentions(msg, "UTF-8", "invalid UTF-8 on line 7");
		free(msg);
		buf_free(&f);
	}

	/* required columns missing: every one named */
	snprintf(content, sizeof content, "Company Website,City\r\nacme.com,London\r\n");
	msg = expect_refused("no-required.csv", "text/csv", content, strlen(content));
	assert_mentions(msg, "Company Name", "both required columns missing");
	assert_mentions(msg, "Segment Name", "both required columns missing");
	free(msg);
	snprintf(content, sizeof content, "company name,City\r\nAcme,London\r\n");
	msg = expect_refused("no-segment.csv", "text/csv", content, strlen(content));
	assert_mentions(msg, "Segment Name", "Segment Name missing");
	free(msg);

	/*
	 * Just over 10 MB but under the HTTP body cap (10 MB + 64 KB of form): the
	 * import itself must refuse it. Long rows keep the row count small in case
	 * it does not.
	 */
	buf_puts(&big, "Company Name,Segment Name,Company Description\r\n");
	for (i = 0; big.len < 10 * 1024 * 1024 + 100; i++)
		buf_printf(&big, "Big %zu,%s,%04000zu\r\n", i, seg_name, i);
	msg = expect_refused("just-over.csv", "text/csv", big.data, big.len);
	assert_mentions(msg, "10 MB", "a file just over 10 MB");
	free(msg);

	/* 11 MB: the 413 page, with the limit, not a reset connection */
	for (; big.len < 11 * 1024 * 1024; i++)
		buf_printf(&big, "Big %zu,%s,%04000zu\r\n", i, seg_name, i);
	assert_int_equal(
	    upload_as(UPLOADER, "eleven.csv", "text/csv", big.data, big.len, batch, &r), 413);
	assert_string_equal(batch, "");
	assert_non_null(strcasestr(r.body.data, "too large"));
	assert_non_null(strstr(r.body.data, "10 MB"));
	itest_resp_free(&r);
	buf_free(&big);

	/* the server is fine afterwards, and a .CSV (capitals) file is a CSV file */
	snprintf(content, sizeof content, GOOD_FILE, seg_name);
	b = import_file("UPPER.CSV", content, strlen(content), batch);
	assert_completed(b, "UPPER.CSV", 1, 1, 0);
	json_decref(b);

	/* no file at all, and no CSRF token: refused with a page, nothing created */
	{
		buf body = BUF_INIT;

		buf_printf(&body,
			   "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"csrf_token\""
			   "\r\n\r\n%s\r\n--" BOUNDARY "--\r\n",
			   csrfs[UPLOADER]);
		request(UPLOADER, "POST", "/imports/companies",
			"multipart/form-data; boundary=" BOUNDARY, body.data, body.len, NULL, &r);
		assert_true(r.status >= 400 && r.status < 500);
		assert_non_null(strcasestr(r.body.data, "file"));
		itest_resp_free(&r);
		buf_reset(&body);
		multipart(&body, "0000", "x.csv", "text/csv", content, strlen(content));
		request(UPLOADER, "POST", "/imports/companies",
			"multipart/form-data; boundary=" BOUNDARY, body.data, body.len, NULL, &r);
		assert_int_equal(r.status, 403);
		itest_resp_free(&r);
		buf_free(&body);
	}
}

/* ================================================================ real data */

/*
 * S&P 500 constituents → company columns:
 *   Security                  → Company Name
 *   GICS Sector               → Company Industry
 *   GICS Sub-Industry         → Company Sub-Industry
 *   Headquarters Location     → City, State/Province (split at the last ", ";
 *                               no comma: all of it is the City)
 *   Founded                   → Founded Year, as it is: free text such as
 *                               "2013 (1888)" makes the row invalid, on purpose
 *   (our segment)             → Segment Name
 *   Symbol, Date added, CIK   → kept as extra columns, which must be ignored
 */
static void
test_sp500(void **state)
{
	json_t *src = csv_file_rows("companies-sp500/constituents.csv"), *rows = json_array(), *b;
	json_t *h = json_array_get(src, 0);
	long sym = header_index(h, "Symbol"), sec = header_index(h, "Security"),
	     sector = header_index(h, "GICS Sector"), sub = header_index(h, "GICS Sub-Industry"),
	     hq = header_index(h, "Headquarters Location"), added = header_index(h, "Date added"),
	     cik = header_index(h, "CIK"), founded = header_index(h, "Founded");
	char batch[37];
	size_t i;

	(void)state;
	assert_true(sym >= 0 && sec >= 0 && sector >= 0 && sub >= 0 && hq >= 0 && added >= 0 &&
		    cik >= 0 && founded >= 0);
	assert_int_equal(json_array_size(src) - 1, 503); /* SOURCE.txt: 503 rows */
	json_array_append_new(rows, strings("Company Name", "Segment Name", "Company Industry",
					    "Company Sub-Industry", "City", "State/Province",
					    "Founded Year", "Symbol", "Date added", "CIK", NULL));
	for (i = 1; i < json_array_size(src); i++) {
		const char *loc = cell(src, i, (size_t)hq), *comma = strrchr(loc, ',');
		char *city = comma ? xstrndup(loc, (size_t)(comma - loc)) : xstrdup(loc);
		const char *state_ = comma ? comma + 1 : "";

		while (*state_ == ' ')
			state_++;
		json_array_append_new(
		    rows, strings(cell(src, i, (size_t)sec), seg_name, cell(src, i, (size_t)sector),
				  cell(src, i, (size_t)sub), city, state_,
				  cell(src, i, (size_t)founded), cell(src, i, (size_t)sym),
				  cell(src, i, (size_t)added), cell(src, i, (size_t)cik), NULL));
		free(city);
	}
	b = import_and_verify(&companies_kind, "S&P 500", "sp500.csv", rows, NULL, batch);
	/* most of the list is clean; the free-text founding years are not */
	assert_true(jint(b, "valid_rows") > 400);
	json_decref(b);

	/*
	 * Lists order by creation time: a batch shows in file order, each row a
	 * microsecond younger than the one above it (the rows are copied straight
	 * into the table, every one with its own created_at).
	 */
	{
		json_t *names = json_array();
		char *text;
		const char *p[2];

		for (i = 1; i < json_array_size(src); i++)
			json_array_append_new(names, json_string(cell(src, i, (size_t)sec)));
		text = json_dumps(names, JSON_COMPACT);
		p[0] = batch;
		p[1] = text;
		assert_int_equal(sql_count("SELECT count(DISTINCT created_at) - count(*) FROM "
					   "companies WHERE batch_id = $1",
					   1, p),
				 0);
		assert_true(sql_count("WITH f AS (SELECT v, min(o) AS o FROM "
				      "json_array_elements_text($2::json) WITH ORDINALITY t(v, o) "
				      "GROUP BY v), s AS (SELECT f.o, row_number() OVER (ORDER BY "
				      "c.created_at, c.id) AS pos FROM companies c JOIN f ON f.v = "
				      "c.name WHERE c.batch_id = $1) SELECT count(*) FROM s",
				      2, p) > 400);
		assert_int_equal(
		    sql_count("WITH f AS (SELECT v, min(o) AS o FROM "
			      "json_array_elements_text($2::json) WITH ORDINALITY t(v, o) "
			      "GROUP BY v), s AS (SELECT f.o, lag(f.o) OVER (ORDER BY "
			      "c.created_at, c.id) AS prev FROM companies c JOIN f ON f.v = "
			      "c.name WHERE c.batch_id = $1) SELECT count(*) FROM s WHERE "
			      "prev > o",
			      2, p),
		    0);
		free(text);
		json_decref(names);
	}
	json_decref(rows);
	json_decref(src);
}

/*
 * Public bodies (11 countries, one upload each) → company columns:
 *   name              → Company Name
 *   url               → Company Website
 *   phone             → Company Phone
 *   description       → Company Description
 *   classification    → Company Industry
 *   address           → Street (often several lines: normalised to one)
 *   jurisdiction_code → Country/Region
 *   (our segment)     → Segment Name
 *   every other column (id, abbreviation, other_names, parent_id,
 *   founding_date, dissolution_date, image, email, contact, tags,
 *   source_url) → kept as extra columns, which must be ignored
 * Rows SOURCE.txt counts per file are checked first, so a reading mistake
 * here cannot hide rows from the check.
 */
static void
test_public_bodies(void **state)
{
	static const struct {
		const char *cc;
		size_t rows;
	} files[] = {{"br", 265},  {"ch", 2785}, {"de", 1003},	{"eu", 129},
		     {"gb", 5362}, {"gr", 950},	 {"it", 11951}, {"np", 1061},
		     {"nz", 507},  {"se", 652},	 {"us", 458}};
	static const char *const mapped[][2] = {
	    {"name", "Company Name"},
	    {"url", "Company Website"},
	    {"phone", "Company Phone"},
	    {"description", "Company Description"},
	    {"classification", "Company Industry"},
	    {"address", "Street"},
	    {"jurisdiction_code", "Country/Region"},
	};
	static const char *const extras[] = {"id",	  "abbreviation",  "other_names",
					     "parent_id", "founding_date", "dissolution_date",
					     "image",	  "email",	   "contact",
					     "tags",	  "source_url"};
	size_t f, i, k, total = 0, valid = 0;

	(void)state;
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		char rel[128], fname[64], batch[37];
		json_t *src, *h, *rows = json_array(), *header = json_array(), *b;
		long idx[7], xidx[11];

		snprintf(rel, sizeof rel, "orgs-publicbodies/%s.csv", files[f].cc);
		src = csv_file_rows(rel);
		h = json_array_get(src, 0);
		assert_int_equal(json_array_size(src) - 1, files[f].rows);
		json_array_append_new(header, json_string("Segment Name"));
		for (k = 0; k < 7; k++) {
			idx[k] = header_index(h, mapped[k][0]);
			assert_true(idx[k] >= 0);
			json_array_append_new(header, json_string(mapped[k][1]));
		}
		for (k = 0; k < 11; k++) {
			xidx[k] = header_index(h, extras[k]);
			assert_true(xidx[k] >= 0);
			json_array_append_new(header, json_string(extras[k]));
		}
		json_array_append_new(rows, header);
		for (i = 1; i < json_array_size(src); i++) {
			json_t *row = json_array();

			json_array_append_new(row, json_string(seg_name));
			for (k = 0; k < 7; k++)
				json_array_append_new(row,
						      json_string(cell(src, i, (size_t)idx[k])));
			for (k = 0; k < 11; k++)
				json_array_append_new(row,
						      json_string(cell(src, i, (size_t)xidx[k])));
			json_array_append_new(rows, row);
		}
		snprintf(fname, sizeof fname, "publicbodies-%s.csv", files[f].cc);
		b = import_and_verify(&companies_kind, fname, fname, rows, NULL, batch);
		total += (size_t)jint(b, "total_rows");
		valid += (size_t)jint(b, "valid_rows");
		json_decref(b);
		json_decref(rows);
		json_decref(src);
	}
	assert_int_equal(total, 25123);
	print_message("public bodies: %zu rows, %zu imported, %zu failed\n", total, valid,
		      total - valid);
}

/* The approved company (in our segment) that generated contact rows name. */
static void
contact_company_once(void)
{
	char id[37];

	if (contact_co_name[0])
		return;
	snprintf(contact_co_name, sizeof contact_co_name, "Corpus Contacts %s", run_id);
	itest_company(id, contact_co_name, seg_id, "approved", user_ids[UPLOADER]);
}

/* A kind's import template: its columns, in its order. */
static json_t *
template_header(const struct import_kind *k)
{
	char path[128];
	struct itest_resp r;
	json_t *rows, *h;

	snprintf(path, sizeof path, "%s/template.csv", k->upload_path);
	assert_int_equal(get(UPLOADER, path, NULL, &r), 200);
	rows = csv_rows(r.body.data, r.body.len);
	itest_resp_free(&r);
	h = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return h;
}

/*
 * A plain, valid value for a column of row n (columns not named here stay
 * empty): the segment and company the kind needs, a name, a unique e-mail.
 * For companies the name is the record's own field and tells rows apart.
 */
static void
plain_value(const struct import_kind *k, const char *column, size_t n, buf *v)
{
	if (header_is(column, "Segment Name"))
		buf_puts(v, seg_name);
	else if (header_is(column, "Company Name") && k == &contacts_kind)
		buf_puts(v, contact_co_name);
	else if (header_is(column, "Company Name"))
		buf_printf(v, "Naughty %zu", n);
	else if (header_is(column, "First Name"))
		buf_puts(v, "Naughty");
	else if (header_is(column, "Last Name"))
		buf_printf(v, "Row %zu", n);
	else if (header_is(column, "Email"))
		buf_printf(v, "naughty-%s-%zu@example.com", run_id, n);
}

/* The pages that show a batch's values answer, and escape what they show. */
static void
assert_batch_pages_escape(const struct import_kind *k, const char *batch)
{
	static const char *const raw[] = {"<script>alert(123)</script>",
					  "<img src=x onerror=alert(123) />"};
	char path[3][160];
	struct itest_resp r;
	size_t i, j;

	snprintf(path[0], sizeof path[0], "/imports/%s", batch);
	snprintf(path[1], sizeof path[1], "/imports/%s/fix", batch);
	snprintf(path[2], sizeof path[2], "%s%s", k->records_path, batch);
	for (i = 0; i < 3; i++) {
		if (get(UPLOADER, path[i], NULL, &r) != 200)
			fail_msg("%s: GET %s answered %ld", k->what, path[i], r.status);
		for (j = 0; j < sizeof raw / sizeof raw[0]; j++)
			if (strstr(r.body.data, raw[j]))
				fail_msg("%s: %s shows %s unescaped", k->what, path[i], raw[j]);
		itest_resp_free(&r);
	}
	assert_int_equal(get(UPLOADER, "/healthz", NULL, &r), 200);
	itest_resp_free(&r);
}

/*
 * The Big List of Naughty Strings in every column of a kind's template: one
 * row per (string, column), the string in that column and plain valid
 * values elsewhere. What the server must do with each row is decided by
 * the kind's clean step and look-ups (expect_row).
 */
static void
naughty_strings(const struct import_kind *k)
{
	json_t *list = naughty_load();
	json_t *rows = json_array(), *b, *header = template_header(k);
	size_t i, c, ncols = json_array_size(header), n = 0;
	char batch[37], fname[64];

	json_array_append(rows, header);
	for (i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));

		for (c = 0; c < ncols; c++) {
			json_t *row = json_array();
			size_t col;

			n++;
			for (col = 0; col < ncols; col++) {
				buf v = BUF_INIT;

				if (col == c)
					buf_puts(&v, s);
				else if (k == &companies_kind && c == 0 &&
					 header_is(cell(rows, 0, col), "Company Description"))
					buf_printf(&v, "key %zu", n); /* tells rows apart */
				else
					plain_value(k, cell(rows, 0, col), n, &v);
				json_array_append_new(row, json_string(v.data ? v.data : ""));
				buf_free(&v);
			}
			json_array_append_new(rows, row);
		}
	}
	snprintf(fname, sizeof fname, "naughty-%s.csv", k->what);
	b = import_and_verify(k, fname, fname, rows, NULL, batch);
	assert_int_equal(jint(b, "total_rows"), (long)(json_array_size(list) * ncols));
	/* the corpus must test both outcomes, or it tests little */
	assert_true(jint(b, "valid_rows") > 0 && jint(b, "invalid_rows") > 0);
	json_decref(b);
	assert_batch_pages_escape(k, batch);
	json_decref(header);
	json_decref(rows);
	json_decref(list);
}

static void
test_naughty_strings(void **state)
{
	(void)state;
	naughty_strings(&companies_kind);
}

static void
test_contact_naughty_strings(void **state)
{
	(void)state;
	contact_company_once();
	naughty_strings(&contacts_kind);
}

/*
 * csv-spectrum's 12 files, uploaded as contact files in their own bytes
 * (LF and CRLF, quoted commas, quotes, line breaks, UTF-8): the header line
 * is replaced by contact columns, the file's columns in order →
 *   First Name, Last Name, LinkedIn Summary, City, ZIP/Postal Code
 * and each record gets three cells in front: a unique Email, our approved
 * Company Name and our Segment Name. libcsv reads the result for the
 * expectation; the importer must agree with it cell for cell.
 */
static void
prefix_records(const char *in, size_t len, const char *file, buf *out)
{
	static const char *const mapped[] = {"First Name", "Last Name", "LinkedIn Summary", "City",
					     "ZIP/Postal Code"};
	size_t pos = 0, record = 0, k, ncols = 1;
	int inq = 0;

	for (k = 0; k < len && in[k] != '\n' && in[k] != '\r'; k++)
		ncols += in[k] == ',';
	assert_true(ncols <= sizeof mapped / sizeof mapped[0]);
	buf_puts(out, "Email,Company Name,Segment Name");
	for (k = 0; k < ncols; k++)
		buf_printf(out, ",%s", mapped[k]);
	pos = 0;
	while (pos < len && in[pos] != '\n' && in[pos] != '\r')
		pos++; /* the header line, replaced; its line end is kept */
	record = 1;
	while (pos < len) {
		int starts = !inq && (in[pos] != '\r' && in[pos] != '\n') &&
			     (pos == 0 || in[pos - 1] == '\n' || in[pos - 1] == '\r');

		if (starts) {
			buf_printf(out, "spectrum-%s-%s-%zu@example.com,\"%s\",\"%s\",", run_id,
				   file, record++, contact_co_name, seg_name);
		}
		if (in[pos] == '"')
			inq = !inq;
		buf_putc(out, in[pos]);
		pos++;
	}
}

static void
test_contact_csv_spectrum(void **state)
{
	static const char *const files[] = {
	    "comma_in_quotes",	    "empty",	"empty_crlf",	 "escaped_quotes",	"json",
	    "location_coordinates", "newlines", "newlines_crlf", "quotes_and_newlines", "simple",
	    "simple_crlf",	    "utf8"};
	size_t f, total = 0, valid = 0;

	(void)state;
	contact_company_once();
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		char rel[128], fname[96], batch[37];
		buf src = BUF_INIT, file = BUF_INIT;
		json_t *rows, *b;

		snprintf(rel, sizeof rel, "csv-spectrum/csvs/%s.csv", files[f]);
		read_file(itest_testdata(rel), &src);
		prefix_records(src.data, src.len, files[f], &file);
		rows = csv_rows_opt(file.data, file.len, CSV_STRICT_FINI);
		snprintf(fname, sizeof fname, "spectrum-%s.csv", files[f]);
		b = import_and_verify(&contacts_kind, fname, fname, rows, &file, batch);
		total += (size_t)jint(b, "total_rows");
		valid += (size_t)jint(b, "valid_rows");
		json_decref(b);
		assert_batch_pages_escape(&contacts_kind, batch);
		json_decref(rows);
		buf_free(&src);
		buf_free(&file);
	}
	print_message("csv-spectrum as contacts: %zu rows, %zu imported\n", total, valid);
	assert_true(valid > 0);
}

/* ================================================================ csvlint */

/*
 * How a csvlint input is made into a company file. csvlint's files have their
 * own columns (Foo, Bar, Baz...), so they are given ours without changing
 * anything that csvlint judged: line ends, quoting, blank lines and encoding
 * stay byte for byte.
 *   RAW      the bytes as they are
 *   MAP      the first line becomes our header ("Segment Name", then Company
 *            Name, Company Industry, City, Extra 4... for the file's columns),
 *            every later record gets our segment as its first cell; blank
 *            lines and lines of empty cells stay exactly as they were
 *   PREPEND  as MAP, but our header is added above the first line, which
 *            stays a data row (csvlint's one-line inputs have no header)
 *   TITLE    as MAP, but the first line (a title row) is kept as it is and
 *            the second becomes our header
 */
enum lint_map { RAW, MAP, PREPEND, TITLE };
enum lint_verdict { ACCEPT, REJECT };

struct lint_case {
	const char *fixture;  /* file under csvlint-fixtures/fixtures, or NULL */
	const char *feature;  /* .feature file whose scenario holds the content */
	const char *scenario; /* the scenario ("Scenario: ..." line), inline content */
	const char *csvlint;  /* csvlint's verdict, as the .feature file names it */
	enum lint_map map;
	int ncols;	      /* the input's columns (MAP, PREPEND, TITLE) */
	const char *filename; /* as uploaded */
	const char *ctype;    /* Content-Type of the file part */
	enum lint_verdict ours;
	long total, valid, invalid;   /* ACCEPT */
	const char *needle, *needle2; /* REJECT: in the message */
};

/*
 * csvlint's verdicts mapped to ours. csvlint judges whether a file is
 * well-made open data; we judge whether it can be imported faithfully. A
 * comment per case says why our verdict is what it is.
 */
static const struct lint_case lint_cases[] = {
    /* Plain valid files: imported in full. */
    {"valid.csv", NULL, NULL, "valid (no error)", MAP, 3, "valid.csv", NULL, ACCEPT, 2, 2, 0, NULL,
     NULL},
    {"valid_many_rows.csv", NULL, NULL, "valid (no error)", MAP, 3, "valid_many_rows.csv", NULL,
     ACCEPT, 6, 6, 0, NULL, NULL},
    /* A file name with spaces is just a name. */
    {"white space in filename.csv", NULL, NULL, "valid (no error)", MAP, 3,
     "white space in filename.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* csv_options "Use esoteric line endings": valid. CRLF is the RFC's own. */
    {"windows-line-endings.csv", NULL, NULL, "valid", MAP, 3, "windows-line-endings.csv", NULL,
     ACCEPT, 1, 1, 0, NULL, NULL},
    /* validation_info: LF gives only an info message; CRLF nothing. Both fine for us. */
    {"lf-line-endings.csv", NULL, NULL, "info nonrfc_line_breaks", MAP, 3, "lf-line-endings.csv",
     NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    {"crlf-line-endings.csv", NULL, NULL, "no info", MAP, 3, "crlf-line-endings.csv", NULL, ACCEPT,
     2, 2, 0, NULL, NULL},
    /* validation_errors: CR is an error only when LF was declared. Old Mac Excel writes
     * CR: accepted (SPEC/issue: CRLF, LF and CR). */
    {"cr-line-endings.csv", NULL, NULL, "error line_breaks (only when LF declared)", MAP, 3,
     "cr-line-endings.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* validation_errors: inconsistent line ends are an error for csvlint. People cannot
     * see line ends and files pasted together mix them: every line end is accepted,
     * mixed or not, and nothing is lost. */
    {"inconsistent-line-endings.csv", NULL, NULL, "error line_breaks", MAP, 3,
     "inconsistent-line-endings.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    {"inconsistent-line-endings-unquoted.csv", NULL, NULL, "error line_breaks", MAP, 3,
     "inconsistent-line-endings-unquoted.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* validation_errors: invalid_encoding (declared UTF-8). UTF-8 only: the whole file is
     * refused, naming the first bad line (line 1 is our header after mapping, so 3). */
    {"invalid-byte-sequence.csv", NULL, NULL, "error invalid_encoding", MAP, 7,
     "invalid-byte-sequence.csv", NULL, REJECT, 0, 0, 0, "line 3", "UTF-8"},
    /* validation_errors "Report invalid file": invalid_encoding; validation_warnings: excel.
     * Not .csv: refused for its type. Renamed to .csv: refused for its bytes. */
    {"spreadsheet.xls", NULL, NULL, "error invalid_encoding + warning excel", RAW, 0,
     "spreadsheet.xls", "application/vnd.ms-excel", REJECT, 0, 0, 0, ".csv", NULL},
    {"spreadsheet.xls", NULL, NULL, "error invalid_encoding", RAW, 0, "spreadsheet-xls.csv",
     "text/csv", REJECT, 0, 0, 0, "line 1", "UTF-8"},
    {"spreadsheet.xlsx", NULL, NULL, "warning excel", RAW, 0, "spreadsheet.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", REJECT, 0, 0, 0, ".csv",
     NULL},
    {"spreadsheet.xlsx", NULL, NULL, "warning excel", RAW, 0, "spreadsheet-xlsx.csv", "text/csv",
     REJECT, 0, 0, 0, "line 1", "UTF-8"},
    /* validation_warnings: title_row is only a warning. Row 1 must be the header (it is
     * how columns are found): the title row has none of ours, so the file is refused
     * naming both required columns — the user sees at once what is wrong. */
    {"title-row.csv", NULL, NULL, "warning title_row", TITLE, 3, "title-row.csv", NULL, REJECT, 0,
     0, 0, "Company Name", "Segment Name"},
    /* In no copied scenario; csvlint's own specs count it invalid. Line 4 has text after
     * a closing quote ("3" "): malformed quoting refuses the file, naming the line. */
    {"invalid_many_rows.csv", NULL, NULL, "invalid (csvlint specs)", MAP, 3,
     "invalid_many_rows.csv", NULL, REJECT, 0, 0, 0, "line 4", NULL},

    /* parse_csv.feature */
    {NULL, "parse_csv", "Successfully parse a valid CSV", "valid", MAP, 3, "lint.csv", NULL, ACCEPT,
     2, 2, 0, NULL, NULL},
    /* quoted newlines are one cell: valid for both */
    {NULL, "parse_csv", "Successfully parse a CSV with newlines in quoted fields", "valid", MAP, 3,
     "lint.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    {NULL, "parse_csv", "Successfully parse a CSV with multiple newlines in quoted fields", "valid",
     MAP, 3, "lint.csv", NULL, ACCEPT, 1, 1, 0, NULL, NULL},
    /* an unclosed quote: refused, naming the line the quote opens on */
    {NULL, "parse_csv", "Successfully report an invalid CSV", "invalid", PREPEND, 3, "lint.csv",
     NULL, REJECT, 0, 0, 0, "line 2", "quote"},
    {NULL, "parse_csv", "Successfully report a CSV with incorrect quoting", "invalid", PREPEND, 3,
     "lint.csv", NULL, REJECT, 0, 0, 0, "line 2", "quote"},
    /* Spaces before an opening quote: csvlint says invalid. The quoted value itself is
     * intact and surrounding spaces are trimmed on every write anyway: accepted. */
    {NULL, "parse_csv", "Successfully report a CSV with incorrect whitespace", "invalid", PREPEND,
     3, "lint.csv", NULL, ACCEPT, 1, 1, 0, NULL, NULL},
    /* Ragged rows: csvlint says invalid. Ours, as documented on the upload page and in
     * imports.h: a short row has its missing trailing cells empty (here the City of
     * "4","5"), so it is judged on its values like any other row — imported. */
    {NULL, "parse_csv", "Successfully report a CSV with ragged rows", "invalid", MAP, 3, "lint.csv",
     NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* blank cells are not a format problem; here they are blank company names: those rows
     * fail with "required", the others import */
    {NULL, "parse_csv", "Don't class blank values as inconsistencies", "valid (0 warnings)", MAP, 3,
     "lint.csv", NULL, ACCEPT, 7, 4, 3, NULL, NULL},

    /* validation_errors.feature */
    {NULL, "validation_errors", "CSV with ragged rows", "error ragged_rows (row 3)", MAP, 3,
     "lint.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    {NULL, "validation_errors", "CSV with incorrect quoting", "error unclosed_quote (row 2)", MAP,
     3, "lint.csv", NULL, REJECT, 0, 0, 0, "line 2", "quote"},
    {NULL, "validation_errors", "Successfully report a CSV with incorrect whitespace",
     "error whitespace (row 2)", MAP, 3, "lint.csv", NULL, ACCEPT, 1, 1, 0, NULL, NULL},
    /* Blank rows: csvlint's error. Ours: a line of nothing but empty cells ("","",) holds
     * no company and is skipped, not counted — 2 rows, both imported. */
    {NULL, "validation_errors", "Successfully report a CSV with blank rows",
     "error blank_rows (row 3)", MAP, 3, "lint.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* Empty lines, inside or trailing: likewise skipped, not rows (csvlint: blank_rows). */
    {NULL, "validation_errors", "Successfully report a CSV with multiple trailing empty rows",
     "error blank_rows (row 4)", MAP, 3, "lint.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    {NULL, "validation_errors", "Successfully report a CSV with an empty row",
     "error blank_rows (row 3)", MAP, 3, "lint.csv", NULL, ACCEPT, 2, 2, 0, NULL, NULL},
    /* wrong_content_type for csvlint. Browsers on Windows send .csv files as
     * application/vnd.ms-excel: the name and the bytes decide, not the claimed type. */
    {NULL, "validation_errors", "Incorrect extension", "error wrong_content_type", PREPEND, 3,
     "example1.csv", "application/vnd.ms-excel", ACCEPT, 1, 1, 0, NULL, NULL},

    /* check_format.feature: inconsistent_values are warnings about data, not format. */
    {NULL, "check_format", "Inconsistent formatting for integers", "warning inconsistent_values",
     MAP, 3, "lint.csv", NULL, ACCEPT, 3, 3, 0, NULL, NULL},
    {NULL, "check_format", "Inconsistent formatting for alpha fields",
     "warning inconsistent_values", MAP, 3, "lint.csv", NULL, ACCEPT, 3, 3, 0, NULL, NULL},
    {NULL, "check_format", "Inconsistent formatting for alphanumeric fields",
     "warning inconsistent_values", MAP, 3, "lint.csv", NULL, ACCEPT, 3, 3, 0, NULL, NULL},

    /* csv_options.feature: valid only with ';' and '\'' declared. We read commas and double
     * quotes only: the header is one unknown column, so the required ones are named. */
    {NULL, "csv_options", "Sucessfully parse a valid CSV", "valid (with ; and ' declared)", RAW, 0,
     "semicolons.csv", NULL, REJECT, 0, 0, 0, "Company Name", "Segment Name"},
};
#define N_LINT (sizeof lint_cases / sizeof lint_cases[0])

/*
 * The content of a scenario's doc string ("""...""") in a .feature file, with
 * Gherkin's rule: the indentation of the opening """ is removed from each line.
 */
static void
feature_docstring(const char *feature, const char *scenario, buf *out)
{
	char rel[256], want[512];
	buf f = BUF_INIT;
	const char *p, *line;
	size_t indent = 0;
	int in_scenario = 0, in_doc = 0, first = 1;

	snprintf(rel, sizeof rel, "csvlint-fixtures/features/%s.feature", feature);
	read_file(itest_testdata(rel), &f);
	snprintf(want, sizeof want, "Scenario: %s", scenario);
	for (line = f.data; line && *line; line = p ? p + 1 : NULL) {
		const char *s = line;
		size_t len, lead = 0;

		p = strchr(line, '\n');
		len = p ? (size_t)(p - line) : strlen(line);
		while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
			lead++;
		if (!in_scenario) {
			in_scenario = len - lead >= strlen(want) &&
				      strncmp(line + lead, want, strlen(want)) == 0 &&
				      len - lead - strlen(want) <= 1;
			continue;
		}
		if (len - lead == 3 && strncmp(line + lead, "\"\"\"", 3) == 0) {
			if (in_doc)
				break;
			in_doc = 1;
			indent = lead;
			continue;
		}
		if (!in_doc)
			continue;
		if (!first)
			buf_putc(out, '\n');
		first = 0;
		for (lead = 0; lead < indent && lead < len && s[lead] == ' '; lead++)
			;
		buf_append(out, s + lead, len - lead);
	}
	if (!in_doc)
		fail_msg("no doc string for \"%s\" in %s", scenario, rel);
	buf_free(&f);
}

static void
lint_header(buf *out, int ncols)
{
	static const char *const ours[] = {"Company Name", "Company Industry", "City"};
	int k;

	buf_puts(out, "\"Segment Name\"");
	for (k = 0; k < ncols; k++) {
		if (k < 3)
			buf_printf(out, ",\"%s\"", ours[k]);
		else
			buf_printf(out, ",\"Extra %d\"", k + 1);
	}
}

static int
blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr("\",\t ", s[i]))
			return 0;
	return 1;
}

static void
lint_map(const char *in, size_t len, enum lint_map map, int ncols, buf *out)
{
	size_t pos = 0, record = 0;
	int inq = 0;

	if (map == RAW) {
		buf_append(out, in, len);
		return;
	}
	if (map == PREPEND) {
		lint_header(out, ncols);
		buf_puts(out, "\n");
		record = 1;
	}
	while (pos < len) {
		size_t end = pos, next;
		int starts = !inq;

		while (end < len && in[end] != '\r' && in[end] != '\n')
			end++;
		next = end;
		if (next < len && in[next] == '\r')
			next++;
		if (next < len && in[next] == '\n' && (next == end || in[end] == '\r'))
			next++;
		if (starts && record == (map == TITLE ? 1u : 0u)) {
			lint_header(out, ncols);
		} else if (starts && !(map == TITLE && record == 0) &&
			   !blank_line(in + pos, end - pos)) {
			buf_putc(out, '"');
			buf_puts(out, seg_name);
			buf_puts(out, "\",");
			buf_append(out, in + pos, end - pos);
		} else {
			buf_append(out, in + pos, end - pos);
		}
		buf_append(out, in + end, next - end);
		for (; pos < end; pos++)
			if (in[pos] == '"')
				inq = !inq;
		pos = next;
		if (starts)
			record++;
	}
}

static void
test_csvlint(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_LINT; i++) {
		const struct lint_case *c = &lint_cases[i];
		buf src = BUF_INIT, file = BUF_INIT;
		char what[300], rel[300];

		if (c->fixture) {
			snprintf(rel, sizeof rel, "csvlint-fixtures/fixtures/%s", c->fixture);
			read_file(itest_testdata(rel), &src);
			snprintf(what, sizeof what, "csvlint %s as %s", c->fixture, c->filename);
		} else {
			feature_docstring(c->feature, c->scenario, &src);
			snprintf(what, sizeof what, "csvlint %s.feature \"%s\"", c->feature,
				 c->scenario);
		}
		lint_map(src.data ? src.data : "", src.len, c->map, c->ncols, &file);
		if (c->ours == ACCEPT) {
			char batch[37];
			struct itest_resp r;
			long status =
			    upload_as(UPLOADER, c->filename, c->ctype ? c->ctype : "text/csv",
				      file.data, file.len, batch, &r);
			json_t *b;

			if (status != 303 || !batch[0])
				fail_msg("%s: upload %ld\n%.2000s", what, status, r.body.data);
			itest_resp_free(&r);
			b = wait_batch(batch);
			assert_completed(b, what, c->total, c->valid, c->invalid);
			assert_string_equal(jstr(b, "file_name"), c->filename);
			json_decref(b);
		} else {
			char *msg = expect_refused(c->filename, c->ctype ? c->ctype : "text/csv",
						   file.data ? file.data : "", file.len);

			assert_mentions(msg, c->needle, what);
			if (c->needle2)
				assert_mentions(msg, c->needle2, what);
			free(msg);
		}
		print_message("csvlint %-50.50s %-42.42s → ours: %s\n",
			      c->fixture ? c->fixture : c->scenario, c->csvlint,
			      c->ours == ACCEPT ? "accepted" : "refused");
		buf_free(&src);
		buf_free(&file);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upload_form_and_template),
	    cmocka_unit_test(test_mixed_file),
	    cmocka_unit_test(test_uploads_list_and_audit),
	    cmocka_unit_test(test_fix_flow),
	    cmocka_unit_test_teardown(test_contact_import, companies_again),
	    cmocka_unit_test_teardown(test_contact_import_late_unicode_names, companies_again),
	    cmocka_unit_test_teardown(test_contact_import_prefers_the_shown_approved_company,
				      companies_again),
	    cmocka_unit_test(test_whole_file_rejections),
	    cmocka_unit_test(test_csvlint),
	    cmocka_unit_test(test_sp500),
	    cmocka_unit_test(test_public_bodies),
	    cmocka_unit_test(test_naughty_strings),
	    cmocka_unit_test(test_contact_naughty_strings),
	    cmocka_unit_test(test_contact_csv_spectrum),
	};

	/* e.g. SPANNER_TEST_FILTER='test_contact_*' runs those alone while working on them */
	if (getenv("SPANNER_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SPANNER_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}

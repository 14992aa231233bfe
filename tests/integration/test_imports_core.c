/*
 * The generic import pipeline's own rules (domain/imports.h), end to end over
 * HTTP against a real server and database — the edges the corpus tests do not
 * aim at:
 *   - spreadsheet row numbers: a blank line takes a row number, a value with
 *     line breaks stays one row, a line of empty values is skipped and not
 *     counted;
 *   - ragged rows: a short row's missing cells are empty, a long row's extra
 *     cells are ignored, and a failed row is kept exactly as it was (extras
 *     included);
 *   - headers: a column named twice counts once (the first), names match
 *     across case, spaces and no-break spaces;
 *   - the JSON of a batch carries the data-model fields and the links;
 *   - a corrected file with a different number of rows than are failing is
 *     refused and changes nothing; a cell fixed while another of its row still
 *     fails has its own error marked corrected and the row stays failed;
 *   - a batch refused as a whole has nothing to fix (a flash, no change);
 *   - correcting needs the upload permission (403 names it).
 *
 * Users, the segment and sessions are made by SQL with names unique to the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/http.h"
#include "core/password.h"
#include "itest.h"

#define BOUNDARY "----spanner-imports-core-4b1d"

enum { UPLOADER, VIEWER, NUSERS };

static struct itest_server srv;
static PGconn *pg;
static char run_id[64];
static char user_ids[NUSERS][37];
static char tokens[NUSERS][65], csrfs[NUSERS][65];
static char seg_name[160];

static void sql_ok(const char *sql, int n, const char *const *params);
static char *sql_value(const char *sql, int n, const char *const *params);
static long sql_count(const char *sql, const char *batch);
static long request(int who, const char *method, const char *path, const char *ctype,
		    const char *body, size_t len, const char *extra, struct itest_resp *r);
static void multipart(buf *b, int who, const char *filename, const char *data, size_t len);
static long upload(int who, const char *path, const char *filename, const char *data,
		   char batch[37], struct itest_resp *r);
static json_t *batch_json(const char *batch);
static json_t *import_ok(const char *data, char batch[37]);
static void form_add(buf *b, const char *name, const char *value);
static void make_user(int who, const char *role);

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
sql_count(const char *sql, const char *batch)
{
	const char *p[1] = {batch};
	char *v = sql_value(sql, 1, p);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

static long
request(int who, const char *method, const char *path, const char *ctype, const char *body,
	size_t len, const char *extra, struct itest_resp *r)
{
	char url[1024], cookie[128], ct[256];
	const char *headers[5];
	int h = 0;

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", tokens[who]);
	headers[h++] = cookie;
	if (body) {
		snprintf(ct, sizeof ct, "Content-Type: %s",
			 ctype ? ctype : "application/x-www-form-urlencoded");
		headers[h++] = ct;
	}
	if (extra)
		headers[h++] = extra;
	headers[h] = NULL;
	if (itest_http(method, url, headers, body, len, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	return r->status;
}

static void
multipart(buf *b, int who, const char *filename, const char *data, size_t len)
{
	buf_printf(b,
		   "--" BOUNDARY
		   "\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n%s\r\n"
		   "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
		   "filename=\"%s\"\r\nContent-Type: text/csv\r\n\r\n",
		   csrfs[who], filename);
	buf_append(b, data, len);
	buf_puts(b, "\r\n--" BOUNDARY "--\r\n");
}

static long
upload(int who, const char *path, const char *filename, const char *data, char batch[37],
       struct itest_resp *r)
{
	buf body = BUF_INIT;
	char *loc;
	long status;

	multipart(&body, who, filename, data, strlen(data));
	status = request(who, "POST", path, "multipart/form-data; boundary=" BOUNDARY, body.data,
			 body.len, NULL, r);
	buf_free(&body);
	loc = itest_header(r, "Location");
	if (batch) {
		batch[0] = '\0';
		if (status == 303 && loc && strncmp(loc, "/imports/", 9) == 0 &&
		    strlen(loc + 9) == 36)
			snprintf(batch, 37, "%s", loc + 9);
	}
	free(loc);
	return status;
}

static json_t *
batch_json(const char *batch)
{
	char path[128];
	struct itest_resp r;
	json_t *j;

	snprintf(path, sizeof path, "/imports/%s", batch);
	assert_int_equal(
	    request(UPLOADER, "GET", path, NULL, NULL, 0, "Accept: application/json", &r), 200);
	j = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_non_null(j);
	itest_resp_free(&r);
	return j;
}

/* Uploads, waits for the job, requires a completed batch. */
static json_t *
import_ok(const char *data, char batch[37])
{
	struct itest_resp r;
	json_t *b = NULL;
	int i;

	assert_int_equal(upload(UPLOADER, "/imports/companies", "core.csv", data, batch, &r), 303);
	itest_resp_free(&r);
	assert_true(batch[0] != '\0');
	for (i = 0; i < 600; i++) {
		b = batch_json(batch);
		if (strcmp(json_string_value(json_object_get(b, "status")), "processing") != 0)
			break;
		json_decref(b);
		b = NULL;
		usleep(100000);
	}
	assert_non_null(b);
	if (strcmp(json_string_value(json_object_get(b, "status")), "completed") != 0)
		fail_msg("batch %s: %s", batch, json_dumps(b, 0));
	return b;
}

static void
form_add(buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	url_encode(b, value);
}

static void
make_user(int who, const char *role)
{
	char email[160], *id;
	const char *p[3];

	snprintf(email, sizeof email, "imports-core-%d-%s@example.com", who, run_id);
	p[0] = email;
	id = sql_value("INSERT INTO users (email, name) VALUES ($1, 'Core Tester') RETURNING id", 1,
		       p);
	snprintf(user_ids[who], sizeof user_ids[who], "%s", id);
	free(id);
	p[0] = user_ids[who];
	p[1] = role;
	sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = $2",
	       2, p);
	password_random_hex(tokens[who], 32);
	password_random_hex(csrfs[who], 32);
	p[0] = tokens[who];
	p[1] = user_ids[who];
	p[2] = csrfs[who];
	sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
	       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '1 hour')",
	       3, p);
}

static int
setup(void **state)
{
	const char *p[2];

	(void)state;
	snprintf(run_id, sizeof run_id, "%d-%lx", (int)getpid(), (unsigned long)time(NULL));
	pg = itest_pg();
	if (!pg)
		return -1;
	make_user(UPLOADER, "Researcher");
	make_user(VIEWER, "SDR");
	snprintf(seg_name, sizeof seg_name, "Core %s", run_id);
	p[0] = seg_name;
	p[1] = user_ids[UPLOADER];
	sql_ok("INSERT INTO segments (name, created_by) VALUES ($1, $2)", 2, p);
	return itest_server_start(&srv, "imports-core", NULL);
}

static int
teardown(void **state)
{
	(void)state;
	PQfinish(pg);
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

/* Row numbers, skipped lines, ragged rows, duplicate and oddly spelled headers. */
static void
test_rows_and_headers(void **state)
{
	char batch[37];
	buf f = BUF_INIT;
	json_t *b, *links;

	(void)state;
	buf_printf(&f,
		   "\xC2\xA0"
		   "COMPANY name ,segment NAME,City,City\r\n" /* row 1 */
		   "Alpha Ltd,%s,Leeds,Ignored\r\n"	      /* row 2: ok */
		   "\r\n"				      /* row 3: blank */
		   "\"Beta\nTwo Lines\",%s\r\n"		      /* row 4: short, ok */
		   ",,,\r\n"				      /* row 5: empty, skipped */
		   "Gamma,No Such %s,York,x,extra,more\r\n"   /* row 6: fails, long */
		   ",%s\r\n",				      /* row 7: fails */
		   seg_name, seg_name, run_id, seg_name);
	b = import_ok(f.data, batch);
	assert_int_equal(json_integer_value(json_object_get(b, "total_rows")), 4);
	assert_int_equal(json_integer_value(json_object_get(b, "valid_rows")), 2);
	assert_int_equal(json_integer_value(json_object_get(b, "invalid_rows")), 2);
	assert_int_equal(json_integer_value(json_object_get(b, "processed_rows")), 4);
	assert_string_equal(json_string_value(json_object_get(b, "entity_type")), "company");
	assert_string_equal(json_string_value(json_object_get(b, "file_name")), "core.csv");
	assert_int_equal(json_integer_value(json_object_get(b, "file_size_bytes")),
			 (json_int_t)f.len);
	assert_true(json_is_null(json_object_get(b, "error_message")));
	assert_non_null(json_string_value(json_object_get(b, "finished_at")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "uploader"), "id")),
	    user_ids[UPLOADER]);
	links = json_object_get(b, "links");
	assert_non_null(strstr(json_string_value(json_object_get(links, "companies")), batch));
	assert_non_null(strstr(json_string_value(json_object_get(links, "fix")), "/fix"));
	json_decref(b);

	/* the first City counts; the short row's city is empty; line breaks in a name collapse */
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND "
				   "((name = 'Alpha Ltd' AND address_city = 'Leeds') OR "
				   "(name = 'Beta Two Lines' AND address_city IS NULL))",
				   batch),
			 2);
	/* spreadsheet rows 6 and 7; the long row kept whole, extras included */
	assert_int_equal(sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1 AND "
				   "((row_number = 6 AND array_length(row_values, 1) = 6 AND "
				   "row_values[6] = 'more') OR (row_number = 7 AND "
				   "array_length(row_values, 1) = 2))",
				   batch),
			 2);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1 AND "
				   "((row_number = 6 AND column_name = 'segment NAME') OR "
				   "(row_number = 7 AND column_name = '\xC2\xA0"
				   "COMPANY name'))",
				   batch),
			 2);
	/* the header as uploaded (libcsv drops spaces around unquoted values, not the NBSP) */
	assert_int_equal(sql_count("SELECT count(*) FROM upload_batches WHERE id = $1 AND "
				   "headers[4] = 'City' AND array_length(headers, 1) = 4",
				   batch),
			 1);
	buf_free(&f);
}

/* Corrections: wrong row count refused, partial fix of a row, refused batch, permission. */
static void
test_corrections(void **state)
{
	char batch[37], path[128], bad[37];
	struct itest_resp r;
	buf f = BUF_INIT, form = BUF_INIT;
	json_t *b;
	int i;

	(void)state;
	buf_printf(&f,
		   "Company Name,Segment Name,Founded Year\n"
		   "One,%s,1990\n"
		   ",%s,19x0\n" /* row 3: two errors */
		   "Three,Nope %s,\n",
		   seg_name, seg_name, run_id);
	json_decref(import_ok(f.data, batch));
	snprintf(path, sizeof path, "/imports/%s/fix", batch);

	/* one row in the file, two failing: refused, nothing changed */
	assert_int_equal(upload(UPLOADER, path, "fixed.csv",
				"Company Name,Segment Name,Founded Year\nX,Y,2000\n", NULL, &r),
			 422);
	assert_non_null(strstr(r.body.data, "2 rows are still failing"));
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1 AND "
				   "status = 'failed' AND corrected_values IS NULL",
				   batch),
			 2);

	/* fix only the year of row 3: that error is corrected, the name's stays, row failing */
	form_add(&form, "csrf_token", csrfs[UPLOADER]);
	form_add(&form, "rows", "3");
	form_add(&form, "c3_2", "1980");
	assert_int_equal(request(UPLOADER, "POST", path, NULL, form.data, form.len, NULL, &r), 303);
	itest_resp_free(&r);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1 AND "
		      "row_number = 3 AND column_name = 'Founded Year' AND is_corrected",
		      batch),
	    1);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_errors WHERE batch_id = $1 AND "
				   "row_number = 3 AND column_name = 'Company Name' AND NOT "
				   "is_corrected",
				   batch),
			 1);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1 AND "
				   "row_number = 3 AND status = 'failed' AND corrected_values[3] = "
				   "'1980' AND row_values[3] = '19x0'",
				   batch),
			 1);
	b = batch_json(batch);
	assert_int_equal(json_integer_value(json_object_get(b, "invalid_rows")), 2);
	json_decref(b);

	/* someone without the upload permission may look but not fix */
	assert_int_equal(request(VIEWER, "GET", path, NULL, NULL, 0, NULL, &r), 403);
	assert_non_null(strstr(r.body.data, "companies.upload_csv"));
	itest_resp_free(&r);

	/* a batch refused as a whole has nothing to fix: a message, no change */
	assert_int_equal(
	    upload(UPLOADER, "/imports/companies", "nocols.csv", "City\nLeeds\n", bad, &r), 303);
	itest_resp_free(&r);
	for (i = 0; i < 600; i++) {
		b = batch_json(bad);
		if (strcmp(json_string_value(json_object_get(b, "status")), "processing") != 0)
			break;
		json_decref(b);
		usleep(100000);
	}
	assert_string_equal(json_string_value(json_object_get(b, "status")), "failed");
	assert_non_null(
	    strstr(json_string_value(json_object_get(b, "error_message")), "Company Name"));
	json_decref(b);
	snprintf(path, sizeof path, "/imports/%s/fix", bad);
	buf_reset(&form);
	form_add(&form, "csrf_token", csrfs[UPLOADER]);
	form_add(&form, "rows", "2");
	assert_int_equal(request(UPLOADER, "POST", path, NULL, form.data, form.len, NULL, &r), 303);
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_rows WHERE batch_id = $1", bad), 0);

	/* an unknown batch is a 404 everywhere */
	assert_int_equal(request(UPLOADER, "GET",
				 "/imports/00000000-0000-4000-8000-000000000000/fix", NULL, NULL, 0,
				 NULL, &r),
			 404);
	itest_resp_free(&r);
	buf_free(&f);
	buf_free(&form);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_and_headers),
	    cmocka_unit_test(test_corrections),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

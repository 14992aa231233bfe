/*
 * Segments and offerings against a real server and database: create, edit,
 * archive and unarchive with their audit rows (edits record only the fields
 * that changed, offering-set changes as added/removed); case-insensitive
 * unique names answered with a 422 form; archived segments hidden by default,
 * shown by the toggle and refusing new companies in the database itself
 * (SP004); the auto-complete's search and its idempotent create; a
 * Researcher refused; malformed ids answered 404; and the naughty-strings list
 * stored intact (after normalisation), returned intact as JSON and escaped in
 * HTML.
 *
 * Sessions are rows inserted directly (as in test_access.c): cheap, and the
 * sign-in flow has its own tests. Every name carries the process id, so the
 * suite can run again on the same database.
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
#include <unistd.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/http.h"
#include "core/password.h"
#include "domain/normalise.h"
#include "itest.h"
#include "naughty.h"

enum { OWNER, RESEARCHER, APPROVER, NUSERS };
static const char *const role_names[NUSERS] = {"Segment Owner", "Researcher", "Approver"};

static struct itest_server srv;
static PGconn *pg;
static char user_ids[NUSERS][37];
static char tokens[NUSERS][65];
static char csrfs[NUSERS][65];
static int pid;

static void sql_ok(const char *sql, int n, const char *const *params);
static char *sql_value(const char *sql, int n, const char *const *params);
static json_t *sql_json(const char *sql, int n, const char *const *params);
static long sql_count(const char *sql, int n, const char *const *params);
static void new_session(int who);
static long request(int who, const char *method, const char *path, const char *body,
		    const char *accept, int htmx, struct itest_resp *r);
static void form_add(buf *b, const char *name, const char *value);
static void create_segment(const char *name, const char *description, const char *const *offerings,
			   size_t n, char id[37]);
static void create_offering(const char *name, char id[37]);
static json_t *get_json(const char *path);
static json_t *audit_rows(const char *entity_id);
static int list_has(json_t *list, const char *id);
static size_t text_chars(const char *s);

/* ---------------------------------------------------------------- helpers */

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

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static json_t *
sql_json(const char *sql, int n, const char *const *params)
{
	char *v = sql_value(sql, n, params);
	json_t *j = v ? json_loads(v, 0, NULL) : NULL;

	free(v);
	return j;
}

static long
sql_count(const char *sql, int n, const char *const *params)
{
	char *v = sql_value(sql, n, params);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

/* A session made directly in the database for user who. */
static void
new_session(int who)
{
	const char *p[3] = {tokens[who], user_ids[who], csrfs[who]};

	password_random_hex(tokens[who], 32);
	password_random_hex(csrfs[who], 32);
	sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
	       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '1 hour')",
	       3, p);
}

/* One request as user who, with the CSRF header on every POST. Returns the status. */
static long
request(int who, const char *method, const char *path, const char *body, const char *accept,
	int htmx, struct itest_resp *r)
{
	char url[2048], cookie[128], csrf[128], acc[128];
	const char *headers[6];
	int h = 0;

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", tokens[who]);
	snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", csrfs[who]);
	headers[h++] = cookie;
	if (strcmp(method, "POST") == 0)
		headers[h++] = csrf;
	if (accept) {
		snprintf(acc, sizeof acc, "Accept: %s", accept);
		headers[h++] = acc;
	}
	if (htmx)
		headers[h++] = "HX-Request: true";
	headers[h] = NULL;
	if (itest_http(method, url, headers, body, body ? strlen(body) : 0, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	return r->status;
}

static void
form_add(buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		buf_putc(b, '&');
	buf_puts(b, name);
	buf_putc(b, '=');
	url_encode(b, value);
}

static void
create_segment(const char *name, const char *description, const char *const *offerings, size_t n,
	       char id[37])
{
	buf body = BUF_INIT;
	struct itest_resp r;
	char *loc;
	size_t i;

	form_add(&body, "name", name);
	if (description)
		form_add(&body, "description", description);
	for (i = 0; i < n; i++)
		form_add(&body, "offering_ids", offerings[i]);
	assert_int_equal(request(OWNER, "POST", "/segments", body.data, NULL, 0, &r), 303);
	loc = itest_header(&r, "Location");
	assert_non_null(loc);
	assert_int_equal(strncmp(loc, "/segments/", 10), 0);
	assert_int_equal(strlen(loc + 10), 36);
	snprintf(id, 37, "%s", loc + 10);
	free(loc);
	itest_resp_free(&r);
	buf_free(&body);
}

/* POST /offerings as the auto-complete does (htmx), returning the id of the chip. */
static void
create_offering(const char *name, char id[37])
{
	buf body = BUF_INIT;
	struct itest_resp r;
	json_t *j;

	form_add(&body, "name", name);
	request(OWNER, "POST", "/offerings", body.data, "application/json", 0, &r);
	assert_true(r.status == 200 || r.status == 201);
	j = json_loads(r.body.data, 0, NULL);
	assert_non_null(j);
	snprintf(id, 37, "%s",
		 json_string_value(json_object_get(json_object_get(j, "offering"), "id")));
	json_decref(j);
	itest_resp_free(&r);
	buf_free(&body);
}

static json_t *
get_json(const char *path)
{
	struct itest_resp r;
	json_t *j;

	assert_int_equal(request(OWNER, "GET", path, NULL, "application/json", 0, &r), 200);
	j = json_loads(r.body.data, 0, NULL);
	if (!j)
		fail_msg("GET %s: not JSON: %.200s", path, r.body.data);
	itest_resp_free(&r);
	return j;
}

/* The segment's audit rows, oldest first: [{action, actor_id, details}]. */
static json_t *
audit_rows(const char *entity_id)
{
	const char *p[1] = {entity_id};
	json_t *j =
	    sql_json("SELECT coalesce(json_agg(json_build_object('action', action, "
		     "'actor_id', actor_id, 'details', details) ORDER BY created_at, id), "
		     "'[]') FROM audit_logs WHERE entity_type = 'segment' AND entity_id = $1",
		     1, p);

	assert_non_null(j);
	return j;
}

static int
list_has(json_t *list, const char *id)
{
	json_t *s;
	size_t i;

	json_array_foreach(
	    list, i, s) if (strcmp(json_string_value(json_object_get(s, "id")), id) == 0) return 1;
	return 0;
}

static size_t
text_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
setup(void **state)
{
	int i;

	(void)state;
	pid = (int)getpid();
	pg = itest_pg();
	if (!pg)
		return -1;
	for (i = 0; i < NUSERS; i++) {
		char email[128];
		const char *p[2] = {email, role_names[i]};
		char *id;

		snprintf(email, sizeof email, "segments-%d-%d@example.com", pid, i);
		id = sql_value(
		    "INSERT INTO users (email, name) VALUES ($1, 'Segment Tester ' || $2) "
		    "RETURNING id",
		    2, p);
		if (!id)
			return -1;
		snprintf(user_ids[i], sizeof user_ids[i], "%s", id);
		p[0] = id;
		sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE "
		       "name = $2",
		       2, p);
		free(id);
		new_session(i);
	}
	return itest_server_start(&srv, "segments", NULL);
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NUSERS; i++) {
		const char *p[1] = {user_ids[i]};

		sql_ok("UPDATE users SET is_active = false WHERE id = $1", 1, p);
	}
	PQfinish(pg);
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- tests */

static void
test_create_edit_audit(void **state)
{
	char name[128], o1n[64], o2n[64], o1[37], o2[37], id[37], path[128];
	const char *p[1] = {id};
	json_t *rows, *d, *changes, *seg;
	buf body = BUF_INIT;
	struct itest_resp r;

	(void)state;
	snprintf(o1n, sizeof o1n, "Cloud Migration %d", pid);
	snprintf(o2n, sizeof o2n, "Managed Security %d", pid);
	create_offering(o1n, o1);
	create_offering(o2n, o2);
	snprintf(name, sizeof name, "  UK   Fintech %d ", pid);
	{
		const char *offs[2] = {o1, o1}; /* a repeated id is one offering */

		create_segment(name, "Payments\n\tand lending", offs, 2, id);
	}
	/* stored normalised, with the creator and one offering */
	snprintf(name, sizeof name, "UK Fintech %d", pid);
	seg = sql_json("SELECT row_to_json(s) FROM segments s WHERE id = $1", 1, p);
	assert_string_equal(json_string_value(json_object_get(seg, "name")), name);
	/* a description keeps its line break; the tab that indented the line goes */
	assert_string_equal(json_string_value(json_object_get(seg, "description")),
			    "Payments\nand lending");
	assert_string_equal(json_string_value(json_object_get(seg, "status")), "active");
	assert_string_equal(json_string_value(json_object_get(seg, "created_by")), user_ids[OWNER]);
	json_decref(seg);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM segment_offerings WHERE segment_id = $1", 1, p), 1);

	rows = audit_rows(id);
	assert_int_equal(json_array_size(rows), 1);
	d = json_object_get(json_array_get(rows, 0), "details");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "action")),
			    "create");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "actor_id")),
			    user_ids[OWNER]);
	assert_string_equal(json_string_value(json_object_get(d, "name")), name);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "offerings"), 0)),
			    o1n);
	json_decref(rows);

	/* the description alone changes: the audit row names that field only */
	snprintf(path, sizeof path, "/segments/%s", id);
	form_add(&body, "name", name);
	form_add(&body, "description", "Payments, lending and wealth");
	form_add(&body, "offering_ids", o1);
	assert_int_equal(request(OWNER, "POST", path, body.data, NULL, 0, &r), 303);
	itest_resp_free(&r);
	rows = audit_rows(id);
	assert_int_equal(json_array_size(rows), 2);
	d = json_object_get(json_array_get(rows, 1), "details");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "action")),
			    "update");
	changes = json_object_get(d, "changes");
	assert_int_equal(json_object_size(changes), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(changes, "description"), "old")),
	    "Payments\nand lending");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(changes, "description"), "new")),
	    "Payments, lending and wealth");
	assert_null(json_object_get(d, "offerings_added"));
	json_decref(rows);

	/* the offering set alone changes: recorded as old/new and as added/removed */
	buf_reset(&body);
	form_add(&body, "name", name);
	form_add(&body, "description", "Payments, lending and wealth");
	form_add(&body, "offering_ids", o2);
	assert_int_equal(request(OWNER, "POST", path, body.data, NULL, 0, &r), 303);
	itest_resp_free(&r);
	rows = audit_rows(id);
	assert_int_equal(json_array_size(rows), 3);
	d = json_object_get(json_array_get(rows, 2), "details");
	changes = json_object_get(d, "changes");
	assert_int_equal(json_object_size(changes), 1);
	assert_non_null(json_object_get(changes, "offerings"));
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(d, "offerings_added"), 0)), o2n);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(d, "offerings_removed"), 0)), o1n);
	assert_int_equal(json_array_size(json_object_get(d, "offerings_added")), 1);
	assert_int_equal(json_array_size(json_object_get(d, "offerings_removed")), 1);
	json_decref(rows);

	/* nothing different: no write, no audit row */
	assert_int_equal(request(OWNER, "POST", path, body.data, NULL, 0, &r), 303);
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_type = 'segment' "
				   "AND entity_id = $1",
				   1, p),
			 3);

	/* the page shows what was saved, the JSON too */
	seg = get_json(path);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(seg, "segment"), "name")), name);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(seg, "segment"), "offerings"), 0),
		"name")),
	    o2n);
	assert_int_equal(json_array_size(json_object_get(seg, "timeline")), 3);
	json_decref(seg);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 0, &r), 200);
	assert_non_null(strstr(r.body.data, "No one is assigned yet"));
	assert_non_null(strstr(r.body.data, "name=\"offering_ids\""));
	itest_resp_free(&r);

	/* assignments (made elsewhere) are listed read-only, with the role */
	{
		const char *a[3] = {id, user_ids[RESEARCHER], user_ids[OWNER]};

		sql_ok("INSERT INTO assignments (entity_type, entity_id, assigned_to, assigned_by, "
		       "role_id) SELECT 'segment', $1, $2, $3, id FROM roles WHERE name = "
		       "'Researcher'",
		       3, a);
	}
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 0, &r), 200);
	assert_null(strstr(r.body.data, "No one is assigned yet"));
	assert_non_null(strstr(r.body.data, "Segment Tester Researcher"));
	itest_resp_free(&r);
	buf_free(&body);
}

static void
test_new_offering_typed_in_form(void **state)
{
	char name[128], oname[64], id[37], path[128];
	const char *p[1] = {oname};
	buf body = BUF_INIT;
	struct itest_resp r;
	json_t *seg;

	(void)state;
	/* without JavaScript the form names a new offering in a text field */
	snprintf(name, sizeof name, "DACH Manufacturing %d", pid);
	snprintf(oname, sizeof oname, "Predictive Maintenance %d", pid);
	form_add(&body, "name", name);
	form_add(&body, "new_offering", oname);
	assert_int_equal(request(OWNER, "POST", "/segments", body.data, NULL, 0, &r), 303);
	{
		char *loc = itest_header(&r, "Location");

		snprintf(id, sizeof id, "%s", loc + 10);
		free(loc);
	}
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/segments/%s", id);
	seg = get_json(path);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(seg, "segment"), "offerings"), 0),
		"name")),
	    oname);
	json_decref(seg);
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs a JOIN offerings o ON o.id = "
				   "a.entity_id WHERE a.entity_type = 'offering' AND a.action = "
				   "'create' AND o.name = $1",
				   1, p),
			 1);
	buf_free(&body);
}

static void
test_duplicate_name_other_case(void **state)
{
	char name[128], other[128], id[37], id2[37], path[128];
	buf body = BUF_INIT;
	struct itest_resp r;

	(void)state;
	snprintf(name, sizeof name, "Nordic Retail %d", pid);
	create_segment(name, NULL, NULL, 0, id);
	snprintf(other, sizeof other, "NORDIC retail %d", pid);
	form_add(&body, "name", other);
	form_add(&body, "description", "kept as typed");
	assert_int_equal(request(OWNER, "POST", "/segments", body.data, NULL, 0, &r), 422);
	assert_non_null(strstr(r.body.data, "already exists"));
	assert_non_null(strstr(r.body.data, "aria-invalid=\"true\""));
	assert_non_null(strstr(r.body.data, "aria-describedby=\"segment-name-error"));
	assert_non_null(strstr(r.body.data, "value=\"NORDIC retail"));
	assert_non_null(strstr(r.body.data, ">kept as typed</textarea>"));
	itest_resp_free(&r);

	/* renaming another segment to it is refused the same way */
	snprintf(other, sizeof other, "Iberia Energy %d", pid);
	create_segment(other, NULL, NULL, 0, id2);
	snprintf(path, sizeof path, "/segments/%s", id2);
	buf_reset(&body);
	snprintf(other, sizeof other, "nordic RETAIL %d", pid);
	form_add(&body, "name", other);
	assert_int_equal(request(OWNER, "POST", path, body.data, NULL, 0, &r), 422);
	assert_non_null(strstr(r.body.data, "already has this name"));
	itest_resp_free(&r);

	/* an empty name and a too-long one are form errors too */
	assert_int_equal(request(OWNER, "POST", "/segments", "name=+++", NULL, 0, &r), 422);
	assert_non_null(strstr(r.body.data, "Enter a name for the segment."));
	itest_resp_free(&r);
	buf_reset(&body);
	buf_puts(&body, "name=");
	for (int i = 0; i < 201; i++)
		buf_putc(&body, 'x');
	assert_int_equal(request(OWNER, "POST", "/segments", body.data, NULL, 0, &r), 422);
	assert_non_null(strstr(r.body.data, "200 characters or fewer"));
	itest_resp_free(&r);
	/* a forged offering id is a form error, not a database error */
	assert_int_equal(
	    request(OWNER, "POST", "/segments", "name=Forged&offering_ids=not-a-uuid", NULL, 0, &r),
	    422);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "POST", "/segments",
				 "name=Forged&offering_ids=00000000-0000-4000-8000-000000000000",
				 NULL, 0, &r),
			 422);
	assert_non_null(strstr(r.body.data, "no longer exists"));
	itest_resp_free(&r);
	buf_free(&body);
}

static void
test_archive_unarchive(void **state)
{
	char name[128], id[37], path[160], q[160];
	const char *p[2] = {id, user_ids[OWNER]};
	struct itest_resp r;
	json_t *list, *rows;
	PGresult *res;

	(void)state;
	snprintf(name, sizeof name, "Archive Me %d", pid);
	create_segment(name, NULL, NULL, 0, id);
	snprintf(q, sizeof q, "/segments?q=Archive+Me+%d", pid);
	list = get_json(q);
	assert_true(list_has(json_object_get(list, "segments"), id));
	json_decref(list);

	snprintf(path, sizeof path, "/segments/%s/archive", id);
	assert_int_equal(request(OWNER, "POST", path, "", NULL, 0, &r), 303);
	itest_resp_free(&r);
	/* archiving twice changes nothing and writes nothing */
	assert_int_equal(request(OWNER, "POST", path, "", NULL, 0, &r), 303);
	itest_resp_free(&r);

	/* hidden by default, shown with the toggle */
	list = get_json(q);
	assert_false(list_has(json_object_get(list, "segments"), id));
	assert_true(json_integer_value(json_object_get(list, "archived_hidden")) >= 1);
	json_decref(list);
	snprintf(q, sizeof q, "/segments?q=Archive+Me+%d&archived=1", pid);
	list = get_json(q);
	assert_true(list_has(json_object_get(list, "segments"), id));
	json_decref(list);

	/* the database refuses a new company in an archived segment */
	res = PQexecParams(pg,
			   "INSERT INTO companies (name, segment_id, created_by) VALUES "
			   "('Refused Ltd', $1, $2)",
			   2, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "SP004");
	PQclear(res);

	snprintf(path, sizeof path, "/segments/%s/unarchive", id);
	assert_int_equal(request(OWNER, "POST", path, "", NULL, 0, &r), 303);
	itest_resp_free(&r);
	sql_ok(
	    "INSERT INTO companies (name, segment_id, created_by) VALUES ('Accepted Ltd', $1, $2)",
	    2, p);

	rows = audit_rows(id);
	assert_int_equal(json_array_size(rows), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "action")),
			    "archive");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "action")),
			    "unarchive");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(
		    json_object_get(json_object_get(json_array_get(rows, 1), "details"), "changes"),
		    "status"),
		"new")),
	    "archived");
	json_decref(rows);
	assert_int_equal(sql_count("SELECT count(*) FROM segments WHERE id = $1 AND status = "
				   "'active' AND archived_at IS NULL",
				   1, p),
			 1);

	/* the page counts the company and links to the companies list by status */
	snprintf(path, sizeof path, "/segments/%s", id);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 0, &r), 200);
	/* the template engine escapes "=" and "&" in attributes too */
	snprintf(q, sizeof q, "/companies?segment&#61;%s&amp;status&#61;pending", id);
	assert_non_null(strstr(r.body.data, q));
	itest_resp_free(&r);
}

static void
test_offerings_search_and_idempotent_create(void **state)
{
	char name[64], lower[64], id[37], id2[37], path[256];
	const char *p[1] = {name};
	buf body = BUF_INIT;
	struct itest_resp r;
	json_t *j;

	(void)state;
	snprintf(name, sizeof name, "Zebra Analytics %d", pid);
	snprintf(lower, sizeof lower, "  zebra   ANALYTICS %d ", pid);
	form_add(&body, "name", name);
	/* the auto-complete's POST gets the chip */
	assert_int_equal(request(OWNER, "POST", "/offerings", body.data, NULL, 1, &r), 201);
	assert_non_null(strstr(r.body.data, "name=\"offering_ids\""));
	assert_non_null(strstr(r.body.data, "chip"));
	itest_resp_free(&r);
	create_offering(name, id);
	create_offering(lower, id2);
	assert_string_equal(id, id2);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM offerings WHERE lower(name) = lower($1)", 1, p), 1);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM audit_logs a JOIN offerings o ON o.id = "
		      "a.entity_id WHERE a.entity_type = 'offering' AND lower(o.name) = "
		      "lower($1)",
		      1, p),
	    1);

	/* search: htmx gets options, the typed text highlighted; substring matches too */
	snprintf(path, sizeof path, "%s", "/offerings?q=zebra+an");
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_non_null(strstr(r.body.data, "role=\"option\""));
	assert_non_null(strstr(r.body.data, id));
	assert_non_null(strstr(r.body.data, "<mark>Zebra An</mark>"));
	/* an exact match means no "Create" option */
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/offerings?q=ZEBRA+ANALYTICS+%d", pid);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_null(strstr(r.body.data, "data-offering-create"));
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/offerings?q=bra+analytics+%d", pid);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_non_null(strstr(r.body.data, id));
	itest_resp_free(&r);
	/* a chosen one is left out (and, existing, not offered for creation) */
	snprintf(path, sizeof path, "/offerings?q=zebra+analytics+%d&offering_ids=%s", pid, id);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_null(strstr(r.body.data, id));
	assert_null(strstr(r.body.data, "data-offering-create"));
	itest_resp_free(&r);
	/* a new name offers to create it */
	snprintf(path, sizeof path, "/offerings?q=zebra+analytics+%d+x", pid);
	assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_non_null(strstr(r.body.data, "data-offering-create"));
	itest_resp_free(&r);
	/* a Researcher sees the options but is not offered "Create" */
	assert_int_equal(request(RESEARCHER, "GET", path, NULL, NULL, 1, &r), 200);
	assert_null(strstr(r.body.data, "data-offering-create"));
	itest_resp_free(&r);
	/* JSON: the list */
	snprintf(path, sizeof path, "/offerings?q=Zebra+Analytics+%d", pid);
	j = get_json(path);
	assert_int_equal(json_array_size(json_object_get(j, "offerings")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "offerings"), 0), "name")),
			    name);
	json_decref(j);
	/* without JavaScript: a page, and a plain POST redirects back */
	assert_int_equal(request(OWNER, "GET", "/offerings", NULL, NULL, 0, &r), 200);
	assert_non_null(strstr(r.body.data, "<h1>Offerings</h1>"));
	itest_resp_free(&r);
	buf_reset(&body);
	form_add(&body, "name", name);
	form_add(&body, "return_to", "/segments/new");
	assert_int_equal(request(OWNER, "POST", "/offerings", body.data, NULL, 0, &r), 303);
	{
		char *loc = itest_header(&r, "Location");

		assert_string_equal(loc, "/segments/new");
		free(loc);
	}
	itest_resp_free(&r);
	buf_reset(&body);
	form_add(&body, "name", name);
	form_add(&body, "return_to", "//evil.example/");
	assert_int_equal(request(OWNER, "POST", "/offerings", body.data, NULL, 0, &r), 303);
	{
		char *loc = itest_header(&r, "Location");

		assert_string_equal(loc, "/offerings");
		free(loc);
	}
	itest_resp_free(&r);
	/* an empty name: 422 with the message (htmx shows it beside the field) */
	assert_int_equal(request(OWNER, "POST", "/offerings", "name=+", NULL, 1, &r), 422);
	assert_non_null(strstr(r.body.data, "Enter a name"));
	itest_resp_free(&r);
	buf_free(&body);
}

static void
test_researcher_refused(void **state)
{
	char name[128], id[37], path[128];
	buf body = BUF_INIT;
	struct itest_resp r;

	(void)state;
	snprintf(name, sizeof name, "Researcher Try %d", pid);
	form_add(&body, "name", name);
	assert_int_equal(request(RESEARCHER, "POST", "/segments", body.data, NULL, 0, &r), 403);
	assert_non_null(strstr(r.body.data, "segments.create"));
	itest_resp_free(&r);
	assert_int_equal(request(RESEARCHER, "GET", "/segments/new", NULL, NULL, 0, &r), 403);
	itest_resp_free(&r);
	assert_int_equal(request(RESEARCHER, "POST", "/offerings", body.data, NULL, 0, &r), 403);
	itest_resp_free(&r);

	/* they see the list and the page, without the buttons and the form */
	assert_int_equal(request(RESEARCHER, "GET", "/segments", NULL, NULL, 0, &r), 200);
	assert_null(strstr(r.body.data, "href=\"/segments/new\""));
	itest_resp_free(&r);
	create_segment(name, "visible to all", NULL, 0, id);
	snprintf(path, sizeof path, "/segments/%s", id);
	assert_int_equal(request(RESEARCHER, "GET", path, NULL, NULL, 0, &r), 200);
	assert_non_null(strstr(r.body.data, "visible to all"));
	assert_null(strstr(r.body.data, "name=\"offering_ids\""));
	assert_null(strstr(r.body.data, "/archive\""));
	itest_resp_free(&r);
	assert_int_equal(request(RESEARCHER, "POST", path, body.data, NULL, 0, &r), 403);
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/segments/%s/archive", id);
	assert_int_equal(request(RESEARCHER, "POST", path, "", NULL, 0, &r), 403);
	itest_resp_free(&r);

	/* an Approver may create offerings but not segments */
	assert_int_equal(request(APPROVER, "POST", "/segments", body.data, NULL, 0, &r), 403);
	itest_resp_free(&r);
	/* ...and a new offering typed into the segment form needs offerings.create too */
	sql_ok(
	    "INSERT INTO role_permissions (role_id, permission_id) SELECT r.id, p.id FROM roles r, "
	    "permissions p WHERE r.name = 'Researcher' AND p.module = 'segments' AND p.action = "
	    "'create' ON CONFLICT DO NOTHING",
	    0, NULL);
	buf_reset(&body);
	form_add(&body, "name", "Researcher With Grant");
	form_add(&body, "new_offering", "Sneaky Offering");
	assert_int_equal(request(RESEARCHER, "POST", "/segments", body.data, NULL, 0, &r), 422);
	assert_non_null(strstr(r.body.data, "offerings.create"));
	itest_resp_free(&r);
	sql_ok("DELETE FROM role_permissions WHERE role_id = (SELECT id FROM roles WHERE name = "
	       "'Researcher') AND permission_id = (SELECT id FROM permissions WHERE module = "
	       "'segments' AND action = 'create')",
	       0, NULL);
	buf_free(&body);
}

/* Keyset pages of 50 by name: the cursor walks on, and the last page has no next. */
static void
test_list_pages(void **state)
{
	char path[256], id[37];
	json_t *page;
	const char *next;
	int i;

	(void)state;
	for (i = 0; i < 52; i++) {
		char name[64];

		snprintf(name, sizeof name, "Paged %d %02d", pid, i);
		create_segment(name, NULL, NULL, 0, id);
	}
	snprintf(path, sizeof path, "/segments?q=Paged+%d", pid);
	page = get_json(path);
	assert_int_equal(json_array_size(json_object_get(page, "segments")), 50);
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 52);
	{
		char want[64];

		snprintf(want, sizeof want, "Paged %d 00", pid);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(page, "segments"), 0), "name")),
		    want);
	}
	next = json_string_value(json_object_get(page, "next"));
	assert_non_null(next);
	snprintf(path, sizeof path, "/segments?q=Paged+%d&after=%s", pid, next);
	json_decref(page);
	page = get_json(path);
	assert_int_equal(json_array_size(json_object_get(page, "segments")), 2);
	assert_true(json_is_null(json_object_get(page, "next")));
	{
		char want[64];

		snprintf(want, sizeof want, "Paged %d 51", pid);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(page, "segments"), 1), "name")),
		    want);
	}
	json_decref(page);
}

static void
test_bad_ids_are_404(void **state)
{
	static const char *const paths[] = {"/segments/nonsense", "/segments/1",
					    "/segments/00000000-0000-4000-8000-000000000000",
					    "/segments/'%20OR%201=1"};
	struct itest_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		assert_int_equal(request(OWNER, "GET", paths[i], NULL, NULL, 0, &r), 404);
		itest_resp_free(&r);
	}
	assert_int_equal(request(OWNER, "POST", "/segments/nonsense", "name=x", NULL, 0, &r), 404);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "POST", "/segments/nonsense/archive", "", NULL, 0, &r),
			 404);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "POST",
				 "/segments/00000000-0000-4000-8000-000000000000/unarchive", "",
				 NULL, 0, &r),
			 404);
	itest_resp_free(&r);
	/* a malformed cursor is the first page, not an error */
	assert_int_equal(request(OWNER, "GET", "/segments?after=zzz", NULL, NULL, 0, &r), 200);
	itest_resp_free(&r);
}

/* Bytes that are not UTF-8 are a form error or no filter: never a 500, nothing stored. */
static void
test_invalid_utf8(void **state)
{
	struct itest_resp r;

	(void)state;
	assert_int_equal(request(OWNER, "POST", "/segments", "name=Broken%C3%28Bytes", NULL, 0, &r),
			 422);
	assert_non_null(strstr(r.body.data, "can’t be stored"));
	itest_resp_free(&r);
	assert_int_equal(
	    request(OWNER, "POST", "/segments", "name=Fine&description=%FF%FE", NULL, 0, &r), 422);
	itest_resp_free(&r);
	assert_int_equal(
	    request(OWNER, "POST", "/segments", "name=Fine&new_offering=%C3%28", NULL, 0, &r), 422);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "POST", "/offerings", "name=%C3%28", NULL, 1, &r), 422);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "POST", "/offerings", "name=%C3%28", NULL, 0, &r), 422);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "GET", "/segments?q=%C3%28", NULL, NULL, 0, &r), 200);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "GET", "/offerings?q=%C3%28", NULL, NULL, 1, &r), 200);
	itest_resp_free(&r);
	assert_int_equal(request(OWNER, "GET", "/offerings?q=%C3%28", NULL, NULL, 0, &r), 200);
	itest_resp_free(&r);
}

/*
 * Every naughty string as a description and (prefixed, when it fits) in the
 * name of a segment and of an offering: stored as normalise_text (the name) and
 * normalise_multiline (the description) say, given
 * back byte for byte in JSON, and escaped in the HTML page.
 */
static void
test_naughty_strings(void **state)
{
	json_t *all = naughty_load(), *s;
	size_t i, checked = 0;

	(void)state;
	json_array_foreach(all, i, s)
	{
		const char *raw = json_string_value(s);
		char prefix[64], id[37], path[128], oid[37];
		buf name = BUF_INIT, body = BUF_INIT, esc = BUF_INIT;
		char *want_name, *want_desc;
		struct itest_resp r;
		json_t *page, *seg;

		snprintf(prefix, sizeof prefix, "nz %d %zu ", pid, i);
		buf_puts(&name, prefix);
		buf_puts(&name, raw);
		want_name = normalise_text(name.data);
		if (text_chars(want_name) > 200) {
			free(want_name);
			buf_reset(&name);
			buf_puts(&name, prefix);
			want_name = normalise_text(name.data);
		}
		want_desc = normalise_multiline(raw);
		create_segment(name.data, raw, NULL, 0, id);

		snprintf(path, sizeof path, "/segments/%s", id);
		page = get_json(path);
		seg = json_object_get(page, "segment");
		assert_string_equal(json_string_value(json_object_get(seg, "name")), want_name);
		if (want_desc)
			assert_string_equal(json_string_value(json_object_get(seg, "description")),
					    want_desc);
		else
			assert_true(json_is_null(json_object_get(seg, "description")));
		json_decref(page);

		assert_int_equal(request(OWNER, "GET", path, NULL, NULL, 0, &r), 200);
		buf_append_html(&esc, want_name, strlen(want_name));
		if (!strstr(r.body.data, esc.data))
			fail_msg("string %zu: escaped name not in the page", i);
		if (strpbrk(want_name, "<>\"") && strstr(r.body.data, want_name))
			fail_msg("string %zu: unescaped name in the page", i);
		if (want_desc && strpbrk(want_desc, "<>") && strstr(r.body.data, want_desc))
			fail_msg("string %zu: unescaped description in the page", i);
		itest_resp_free(&r);

		/* the same name as an offering */
		form_add(&body, "name", name.data);
		assert_true(request(OWNER, "POST", "/offerings", body.data, "application/json", 0,
				    &r) < 300);
		page = json_loads(r.body.data, 0, NULL);
		assert_non_null(page);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(page, "offering"), "name")),
		    want_name);
		snprintf(
		    oid, sizeof oid, "%s",
		    json_string_value(json_object_get(json_object_get(page, "offering"), "id")));
		json_decref(page);
		itest_resp_free(&r);

		free(want_name);
		free(want_desc);
		buf_free(&name);
		buf_free(&body);
		buf_free(&esc);
		checked++;
	}
	print_message("checked %zu naughty strings\n", checked);
	json_decref(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_edit_audit),
	    cmocka_unit_test(test_new_offering_typed_in_form),
	    cmocka_unit_test(test_duplicate_name_other_case),
	    cmocka_unit_test(test_archive_unarchive),
	    cmocka_unit_test(test_offerings_search_and_idempotent_create),
	    cmocka_unit_test(test_researcher_refused),
	    cmocka_unit_test(test_list_pages),
	    cmocka_unit_test(test_bad_ids_are_404),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_naughty_strings),
	};

	return cmocka_run_group_tests_name("segments", tests, setup, teardown);
}

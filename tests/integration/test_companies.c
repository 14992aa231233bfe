/*
 * Companies, end to end over HTTP against the real server and database
 * (SPEC.md §2 Companies, §2 normalisation, §5 lists and export, §7 URLs).
 *
 * What it proves:
 *  - creating a company normalises what was typed (the SPEC's own examples),
 *    validates every field, and needs an active segment: an archived segment
 *    refuses new companies (and moves into it) with a clear message;
 *  - every status rule: pending → approved, pending → rejected (only with a
 *    non-empty reason, which is stored tidied), each exactly once and audited
 *    once; approve after reject, reject after approve, and repeated decisions
 *    are refused with a message naming who decided; no edit can set a status;
 *    the database itself refuses any other transition; no bulk approve;
 *  - two approvers approving (or one approving, one rejecting) the same
 *    company at the same moment: exactly one succeeds, the other is told
 *    "Already approved by …", and exactly one decision is audited;
 *  - a user without companies.approve / companies.reject gets 403, sees no
 *    buttons, and changes nothing;
 *  - inline edits change only the field sent, and are audited with old and new;
 *  - the CSV export holds exactly the rows of the list for the same filters
 *    (ids of every list page, following next_url), and neutralises
 *    formula-like cells with a leading apostrophe;
 *  - the Big List of Naughty Strings, saved through every company field by
 *    POST /companies and POST /companies/{id}, comes back exactly as the
 *    SPEC normalisation says (computed with the project's own normalise_*),
 *    or is refused with a message when the rule says it is invalid; pages
 *    show it escaped, never as markup;
 *  - keyset pagination: over 100 companies, with ties in created_at, page by
 *    page through next_url: each exactly once, newest first (the queue: oldest
 *    first), unaffected by companies added between page loads;
 *  - input a user can get wrong never gives a 500: bytes that are not UTF-8
 *    in a field, a reason or a search, impossible dates and damaged page links
 *    in the filters each get a clear 4xx or the list with a message.
 *
 * Every user, segment and company name carries this process's id, so the
 * suite can run again on the same database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/url.h"
#include "core/http.h"
#include "core/password.h"
#include "domain/normalise.h"
#include "domain/validate.h"
#include "itest.h"
#include "naughty.h"

/* How a request asks: a plain browser form, htmx, or the JSON view model. */
enum how { AS_HTML, AS_HTMX, AS_JSON };

struct client {
	char id[37];
	char name[128];
	char token[65];
	char csrf[65];
};

static struct itest_server srv;
static PGconn *pg;
static int tag;
static int this_year;
static struct client ada;   /* Approver */
static struct client bo;    /* Approver */
static struct client rex;   /* Researcher: may create and edit, not decide */
static char seg_main[37];   /* active */
static char seg_closed[37]; /* archived */

/* The company fields as SPEC.md §2 lists them, with their limits; only the name is required. */
static const struct naughty_field fields[] = {
    {"name", NAUGHTY_NAME, 500, 1},
    {"website", NAUGHTY_URL, 2048, 0},
    {"phone", NAUGHTY_TEXT, 50, 0},
    {"description", NAUGHTY_LONG, 5000, 0},
    {"linkedin_url", NAUGHTY_URL, 2048, 0},
    {"industry", NAUGHTY_TEXT, 200, 0},
    {"sub_industry", NAUGHTY_TEXT, 200, 0},
    {"address_street", NAUGHTY_TEXT, 500, 0},
    {"address_city", NAUGHTY_TEXT, 200, 0},
    {"address_state", NAUGHTY_TEXT, 200, 0},
    {"address_country", NAUGHTY_TEXT, 200, 0},
    {"address_zip", NAUGHTY_TEXT, 50, 0},
    {"founded_year", NAUGHTY_YEAR, 4, 0},
    {"revenue_range", NAUGHTY_TEXT, 200, 0},
    {"employee_size_range", NAUGHTY_TEXT, 200, 0},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* ------------------------------------------------------------------ SQL */

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

/* The first column of every row, as a JSON array of strings. */
static json_t *
sql_column(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	json_t *out = json_array();
	int i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	for (i = 0; i < PQntuples(r); i++)
		json_array_append_new(out, json_string(PQgetvalue(r, i, 0)));
	PQclear(r);
	return out;
}

/* The SQLSTATE a statement fails with ("" when it succeeds), malloc'ed. */
static char *
sql_error_state(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	char *out = xstrdup(PQresultStatus(r) == PGRES_FATAL_ERROR && state ? state : "");

	PQclear(r);
	return out;
}

static long
audit_count(const char *company_id, const char *action)
{
	const char *p[2] = {company_id, action};

	return sql_count("SELECT count(*) FROM audit_logs WHERE entity_type = 'company' AND "
			 "entity_id = $1 AND action = $2",
			 2, p);
}

static char *
company_column(const char *id, const char *column)
{
	const char *p[1] = {id};
	char sql[160];

	snprintf(sql, sizeof sql, "SELECT %s::text FROM companies WHERE id = $1", column);
	return sql_value(sql, 1, p);
}

static void
assert_column(const char *id, const char *column, const char *want)
{
	char *got = company_column(id, column);

	if (want == NULL && got != NULL)
		fail_msg("companies.%s of %s: want NULL, got \"%s\"", column, id, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("companies.%s of %s: want \"%s\", got %s%s%s", column, id, want,
			 got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
	free(got);
}

static void
make_user(struct client *cl, const char *name, const char *role)
{
	char email[200], *id;
	const char *p[2] = {email, cl->name};
	const char *s[3] = {cl->token, NULL, cl->csrf};

	memset(cl, 0, sizeof *cl);
	snprintf(cl->name, sizeof cl->name, "%s %d", name, tag);
	snprintf(email, sizeof email, "companies-%s@example.com", cl->name);
	for (char *e = email; *e; e++)
		if (*e == ' ')
			*e = '-';
	id = sql_value("INSERT INTO users (email, name) VALUES (lower($1), $2) RETURNING id", 2, p);
	assert_non_null(id);
	snprintf(cl->id, sizeof cl->id, "%s", id);
	free(id);
	p[0] = cl->id;
	p[1] = role;
	sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = $2",
	       2, p);
	/* a session made directly in the database, as a sign-in would */
	password_random_hex(cl->token, 32);
	password_random_hex(cl->csrf, 32);
	s[1] = cl->id;
	sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
	       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '2 hours')",
	       3, s);
}

static void
make_segment(char id_out[37], const char *label, const char *status)
{
	char name[160], *id;
	const char *p[3] = {name, ada.id, status};

	snprintf(name, sizeof name, "itest companies %d %s", tag, label);
	id = sql_value("INSERT INTO segments (name, created_by, status) VALUES ($1, $2, $3) "
		       "RETURNING id",
		       3, p);
	assert_non_null(id);
	snprintf(id_out, 37, "%s", id);
	free(id);
}

/* A company straight into the database (for data a test only reads). */
static char *
insert_company(const char *segment, const char *name, const char *creator)
{
	const char *p[3] = {name, segment, creator};
	char *id = sql_value("INSERT INTO companies (name, segment_id, created_by) VALUES "
			     "($1, $2, $3) RETURNING id",
			     3, p);

	assert_non_null(id);
	return id;
}

/* ----------------------------------------------------------------- HTTP */

static void
form_add(buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_putc(b, '&');
	url_encode(b, name);
	buf_putc(b, '=');
	url_encode(b, value);
}

/* One request as cl; no assertions (safe in threads). 0 when an answer came. */
static int
http_as(const struct client *cl, const char *method, const char *path, const char *form,
	enum how how, struct itest_resp *r)
{
	char url[4096], cookie[128], csrf[128];
	const char *headers[6];
	buf body = BUF_INIT;
	int n = 0, rc;

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	if (cl) {
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", cl->token);
		headers[n++] = cookie;
	}
	if (how == AS_JSON)
		headers[n++] = "Accept: application/json";
	if (how == AS_HTMX)
		headers[n++] = "HX-Request: true";
	if (form) {
		headers[n++] = "Content-Type: application/x-www-form-urlencoded";
		buf_puts(&body, form);
		if (cl && how == AS_HTML) {
			/* a browser form carries the token as a field; htmx and API calls in the
			 * header */
			form_add(&body, "csrf_token", cl->csrf);
		} else if (cl) {
			snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", cl->csrf);
			headers[n++] = csrf;
		}
	}
	headers[n] = NULL;
	rc = itest_http(method, url, headers, form ? (body.data ? body.data : "") : NULL, body.len,
			r);
	buf_free(&body);
	return rc;
}

static void
call(const struct client *cl, const char *method, const char *path, const char *form, enum how how,
     struct itest_resp *r)
{
	if (http_as(cl, method, path, form, how, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	if (r->status >= 500)
		fail_msg("%s %s: %ld\n%.2000s", method, path, r->status,
			 r->body.data ? r->body.data : "");
}

static json_t *
json_body(const struct itest_resp *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &err);

	if (!j)
		fail_msg("not JSON (%s): %.500s", err.text, r->body.data ? r->body.data : "");
	return j;
}

static json_t *
get_json(const struct client *cl, const char *path)
{
	struct itest_resp r;
	json_t *j;

	call(cl, "GET", path, NULL, AS_JSON, &r);
	if (r.status != 200)
		fail_msg("GET %s: %ld", path, r.status);
	j = json_body(&r);
	itest_resp_free(&r);
	return j;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* POST /companies as a browser would; returns the status, the new id in id_out on 303. */
static long
create_company(const struct client *cl, const char *segment, const char *const *kv, char id_out[37])
{
	struct itest_resp r;
	buf form = BUF_INIT;
	char *loc;
	long status;

	if (segment)
		form_add(&form, "segment_id", segment);
	for (; kv && kv[0]; kv += 2)
		form_add(&form, kv[0], kv[1]);
	call(cl, "POST", "/companies", form.data ? form.data : "", AS_HTML, &r);
	status = r.status;
	id_out[0] = '\0';
	loc = itest_header(&r, "Location");
	if (status == 303) {
		assert_non_null(loc);
		assert_int_equal(strncmp(loc, "/companies/", 11), 0);
		assert_int_equal(strlen(loc), 11 + 36);
		snprintf(id_out, 37, "%s", loc + 11);
	}
	free(loc);
	buf_free(&form);
	itest_resp_free(&r);
	return status;
}

static void
new_pending(const char *label, char id_out[37])
{
	char name[200];
	const char *kv[] = {"name", name, NULL};

	snprintf(name, sizeof name, "Decision %s %d", label, tag);
	assert_int_equal(create_company(&rex, seg_main, kv, id_out), 303);
}

/* POST /companies/{id}/{approve|reject}; reason NULL sends no reason field at all. */
static long
decide(const struct client *cl, const char *id, const char *action, const char *reason,
       enum how how, struct itest_resp *r)
{
	char path[128];
	buf form = BUF_INIT;
	long status;

	snprintf(path, sizeof path, "/companies/%s/%s", id, action);
	if (reason)
		form_add(&form, "rejection_reason", reason);
	call(cl, "POST", path, form.data ? form.data : "", how, r);
	status = r->status;
	buf_free(&form);
	return status;
}

/* The JSON message of a decision answer; the answer is freed. */
static char *
decide_json(const struct client *cl, const char *id, const char *action, const char *reason,
	    long *status)
{
	struct itest_resp r;
	json_t *j;
	char *msg;

	*status = decide(cl, id, action, reason, AS_JSON, &r);
	j = json_body(&r);
	assert_non_null(jstr(j, "message"));
	msg = xstrdup(jstr(j, "message"));
	assert_int_equal(json_is_true(json_object_get(j, "ok")), *status == 200);
	json_decref(j);
	itest_resp_free(&r);
	return msg;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("expected to find \"%s\" in:\n%.3000s", needle, hay ? hay : "(nothing)");
}

/* -------------------------------------------------------------- set-up */

static int
setup(void **state)
{
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread makes a request */
	gmtime_r(&now, &tm);
	this_year = tm.tm_year + 1900;
	tag = (int)getpid();
	pg = itest_pg();
	if (!pg)
		return -1;
	make_user(&ada, "Ada Approver", "Approver");
	make_user(&bo, "Bo Approver", "Approver");
	make_user(&rex, "Rex Researcher", "Researcher");
	make_segment(seg_main, "main", "active");
	make_segment(seg_closed, "closed", "archived");
	return itest_server_start(&srv, "companies", NULL);
}

static int
teardown(void **state)
{
	const struct client *all[] = {&ada, &bo, &rex};
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < 3; i++) {
		const char *p[1] = {all[i]->id};

		sql_ok("UPDATE users SET is_active = false WHERE id = $1", 1, p);
	}
	PQfinish(pg);
	rc = itest_server_stop(&srv);
	curl_global_cleanup();
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------ create, normalise */

static void
test_create_normalises_input(void **state)
{
	static const struct {
		const char *typed, *stored;
	} names[] = {
	    {"  acme   corp  ", "Acme Corp"},
	    {"ACME HOLDINGS LLC", "ACME Holdings LLC"},
	    {"IBM", "IBM"},
	    {"McKinsey & Company", "McKinsey & Company"},
	};
	char id[37], suffix[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *kv[] = {"name", names[i].typed, NULL};
		json_t *co;
		char path[64];

		assert_int_equal(create_company(&rex, seg_main, kv, id), 303);
		snprintf(path, sizeof path, "/companies/%s", id);
		co = get_json(&rex, path);
		assert_string_equal(jstr(co, "name"), names[i].stored);
		assert_string_equal(jstr(co, "status"), "pending");
		assert_string_equal(jstr(co, "segment_id"), seg_main);
		json_decref(co);
		assert_column(id, "name", names[i].stored);
		assert_int_equal(audit_count(id, "create"), 1);
	}

	/* every kind of field at once: trim, collapse, empty → NULL, URLs */
	snprintf(suffix, sizeof suffix, "%d", tag);
	{
		const char *kv[] = {"name",
				    "  tidy   widgets  ",
				    "website",
				    "WWW.Acme.COM/",
				    "linkedin_url",
				    "HTTPS://WWW.LinkedIn.COM/company/Acme-Corp/",
				    "phone",
				    "  +44   20 7946  0000 ",
				    "description",
				    " Makes\t\twidgets.\r\n\r\n  Ships   worldwide. ",
				    "industry",
				    "   ",
				    "address_city",
				    "  new    york ",
				    "address_zip",
				    "",
				    "founded_year",
				    " 1999 ",
				    "revenue_range",
				    suffix,
				    NULL};

		assert_int_equal(create_company(&rex, seg_main, kv, id), 303);
	}
	assert_column(id, "name", "Tidy Widgets");
	assert_column(id, "website", "https://www.acme.com");
	assert_column(id, "linkedin_url", "https://www.linkedin.com/company/Acme-Corp");
	assert_column(id, "phone", "+44 20 7946 0000");
	/* multi-line text keeps its line breaks: CRLF → LF, lines trimmed */
	assert_column(id, "description", "Makes widgets.\n\nShips worldwide.");
	assert_column(id, "industry", NULL);
	assert_column(id, "address_city", "new york");
	assert_column(id, "address_zip", NULL);
	assert_column(id, "founded_year", "1999");
	assert_column(id, "created_by", rex.id);
	assert_column(id, "status", "pending");
}

static void
test_create_validation(void **state)
{
	char id[37], year[16], next_year[16], long_phone[64];
	const char *p[1] = {seg_main};
	long before;
	struct itest_resp r;
	json_t *j, *errors;
	buf form = BUF_INIT;

	(void)state;
	snprintf(year, sizeof year, "%d", this_year);
	snprintf(next_year, sizeof next_year, "%d", this_year + 1);
	memset(long_phone, '7', 51);
	long_phone[51] = '\0';
	before = sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p);

	{
		/* each of these is refused, and nothing is stored */
		const char *bad[][4] = {
		    {"name", "   ", NULL, NULL},
		    {"name", "Valid Name", "founded_year", "1799"},
		    {"name", "Valid Name", "founded_year", next_year},
		    {"name", "Valid Name", "founded_year", "19x9"},
		    {"name", "Valid Name", "phone", long_phone},
		    {"name", "Valid Name", "website", "ftp://acme.com"},
		    {"name", "Valid Name", "website", "javascript:alert(1)"},
		    {"name", "Valid Name", "linkedin_url", "http://exa mple.com"},
		};
		size_t i;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			const char *kv[5] = {bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL};

			if (create_company(&rex, seg_main, kv, id) != 422)
				fail_msg("create with %s=\"%s\" %s=\"%s\" was not refused",
					 bad[i][0], bad[i][1], bad[i][2] ? bad[i][2] : "",
					 bad[i][3] ? bad[i][3] : "");
		}
	}
	/* no segment at all */
	{
		const char *kv[] = {"name", "Segmentless Inc", NULL};

		assert_int_equal(create_company(&rex, NULL, kv, id), 422);
	}
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p),
			 before);

	/* the JSON answer names each field's problem */
	form_add(&form, "segment_id", seg_main);
	form_add(&form, "name", "");
	form_add(&form, "founded_year", "1700");
	form_add(&form, "website", "ftp://acme.com");
	call(&rex, "POST", "/companies", form.data, AS_JSON, &r);
	assert_int_equal(r.status, 422);
	j = json_body(&r);
	errors = json_object_get(j, "errors");
	assert_non_null(jstr(errors, "name"));
	assert_non_null(jstr(errors, "founded_year"));
	assert_non_null(jstr(errors, "website"));
	json_decref(j);
	itest_resp_free(&r);
	buf_free(&form);

	/* the current year is the last one accepted */
	{
		const char *kv[] = {"name", "This Year Ltd", "founded_year", year, NULL};

		assert_int_equal(create_company(&rex, seg_main, kv, id), 303);
		assert_column(id, "founded_year", year);
	}
}

/* The status of one request; the answer is freed before any assertion can jump away. */
static long
status_of(const struct client *cl, const char *method, const char *path, const char *form,
	  enum how how, char **body_out)
{
	struct itest_resp r;
	long status = -1;

	if (http_as(cl, method, path, form, how, &r) == 0)
		status = r.status;
	if (body_out)
		*body_out = xstrdup(r.body.data ? r.body.data : "");
	itest_resp_free(&r);
	return status;
}

/*
 * Bytes that are not UTF-8 are a mistake of the client, not of the server:
 * a clear 4xx, never a 500, and nothing stored.
 */
static void
test_invalid_utf8_is_refused_not_a_server_error(void **state)
{
	char id[37], path[128], seg_q[200];
	const char *p[1] = {seg_main};
	long before = sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p);
	long create, update, reject, search;

	(void)state;
	new_pending("utf8", id);
	snprintf(seg_q, sizeof seg_q, "segment_id=%s&name=Broken%%C3%%28Bytes", seg_main);
	create = status_of(&rex, "POST", "/companies", seg_q, AS_JSON, NULL);
	snprintf(path, sizeof path, "/companies/%s", id);
	update = status_of(&rex, "POST", path, "industry=Bad%FF%FEBytes", AS_JSON, NULL);
	snprintf(path, sizeof path, "/companies/%s/reject", id);
	reject = status_of(&ada, "POST", path, "rejection_reason=%C3%28", AS_JSON, NULL);
	search = status_of(&ada, "GET", "/companies?q=%C3%28", NULL, AS_HTML, NULL);
	print_message("invalid UTF-8: create %ld, edit %ld, reject %ld, search %ld\n", create,
		      update, reject, search);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p),
			 before + 1);
	assert_column(id, "status", "pending");
	assert_column(id, "industry", NULL);
	/* each refused on its field (or, for the search, the list with a message) */
	assert_in_range(create, 400, 422);
	assert_in_range(update, 400, 422);
	assert_in_range(reject, 400, 422);
	assert_true(search == 200 || search == 400);
}

/*
 * Filter values come from URLs anyone can edit: a value that cannot be used
 * gives the list with a message (the export: 400 with the message), never a 500.
 */
static void
test_bad_filters_give_a_message(void **state)
{
	static const struct {
		const char *query, *message;
	} bad[] = {
	    {"status=archived", "Status must be pending, approved or rejected."},
	    {"from=2021-13-01", "Enter the start date as YYYY-MM-DD."},
	    {"segment=not-a-uuid", "That segment does not exist."},
	    {"after=nonsense", "That page link is no longer valid."},
	    /* these pass the format checks but are not real dates or times */
	    {"from=2021-02-31", "Enter the start date as YYYY-MM-DD."},
	    {"to=2021-04-31", "Enter the end date as YYYY-MM-DD."},
	    {"after=2021-99-99T99:99:99.000000Z_00000000-0000-4000-8000-000000000000",
	     "That page link is no longer valid."},
	};
	char path[256], *body;
	size_t i;
	long list, queue, export;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(path, sizeof path, "/companies?%s", bad[i].query);
		list = status_of(&ada, "GET", path, NULL, AS_JSON, &body);
		if (list != 200 || !strstr(body, bad[i].message)) {
			print_message("GET %s: %ld, want 200 with \"%s\"\n", path, list,
				      bad[i].message);
			failures++;
		}
		free(body);
		snprintf(path, sizeof path, "/approvals/companies?%s", bad[i].query);
		queue = status_of(&ada, "GET", path, NULL, AS_HTML, NULL);
		if (queue != 200) {
			print_message("GET %s: %ld, want 200\n", path, queue);
			failures++;
		}
		if (strncmp(bad[i].query, "after=", 6) == 0)
			continue; /* the export has no pages: it ignores the cursor */
		snprintf(path, sizeof path, "/companies/export.csv?%s", bad[i].query);
		export = status_of(&ada, "GET", path, NULL, AS_HTML, &body);
		if (export != 400 || !strstr(body, bad[i].message)) {
			print_message("GET %s: %ld, want 400 with the message\n", path, export);
			failures++;
		}
		free(body);
	}
	assert_int_equal(failures, 0);
}

static void
test_archived_segment_refuses_companies(void **state)
{
	char id[37], path[128], later[37];
	const char *kv[] = {"name", "Closed Door Ltd", NULL};
	const char *p[1] = {seg_closed};
	struct itest_resp r;
	buf form = BUF_INIT;

	(void)state;
	/* the form does not even offer it */
	call(&rex, "GET", "/companies/new", NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, seg_closed));
	assert_contains(r.body.data, seg_main);
	itest_resp_free(&r);

	/* posting it anyway: refused with a clear message, nothing stored */
	form_add(&form, "segment_id", seg_closed);
	form_add(&form, "name", "Closed Door Ltd");
	call(&rex, "POST", "/companies", form.data, AS_HTML, &r);
	assert_int_equal(r.status, 422);
	assert_contains(r.body.data, "archived and takes no new companies");
	itest_resp_free(&r);
	assert_int_equal(create_company(&rex, seg_closed, kv, id), 422);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p),
			 0);
	buf_free(&form);

	/* nor can a company move into it */
	new_pending("mover", id);
	snprintf(path, sizeof path, "/companies/%s", id);
	form_add(&form, "segment_id", seg_closed);
	call(&rex, "POST", path, form.data, AS_HTML, &r);
	assert_int_equal(r.status, 422);
	assert_contains(r.body.data, "archived and takes no new companies");
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "segment_id", seg_main);

	/* a company already in a segment archived later stays editable */
	make_segment(later, "archived later", "active");
	{
		const char *kv2[] = {"name", "Stays Editable", NULL};
		const char *q[1] = {later};

		assert_int_equal(create_company(&rex, later, kv2, id), 303);
		sql_ok("UPDATE segments SET status = 'archived' WHERE id = $1", 1, q);
	}
	snprintf(path, sizeof path, "/companies/%s", id);
	form_add(&form, "industry", "Hardware");
	call(&rex, "POST", path, form.data, AS_HTML, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "industry", "Hardware");
}

/* ----------------------------------------------------------- decisions */

static void
test_approve(void **state)
{
	char id[37], path[128], want[300], *msg;
	long status;
	struct itest_resp r;

	(void)state;
	new_pending("approve", id);
	msg = decide_json(&ada, id, "approve", NULL, &status);
	assert_int_equal(status, 200);
	snprintf(want, sizeof want, "Decision approve %d approved.", tag);
	assert_string_equal(msg, want);
	free(msg);
	assert_column(id, "status", "approved");
	assert_column(id, "status_changed_by", ada.id);
	assert_column(id, "rejection_reason", NULL);
	assert_int_equal(audit_count(id, "approve"), 1);

	/* the record says who approved it, in its status and its timeline */
	snprintf(path, sizeof path, "/companies/%s", id);
	call(&rex, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof want, "Approved by %s on", ada.name);
	assert_contains(r.body.data, want);
	assert_contains(r.body.data, "activity-approve");
	/* decided: no decision buttons any more */
	snprintf(want, sizeof want, "action=\"/companies/%s/approve\"", id);
	assert_null(strstr(r.body.data, want));
	itest_resp_free(&r);

	/* it left the queue */
	call(&ada, "GET", "/approvals/companies", NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, id));
	itest_resp_free(&r);
}

static void
test_reject_needs_a_reason(void **state)
{
	static const char *const empty[] = {NULL, "", "   ", " \t\r\n "};
	char id[37], path[128], big[5100], *msg;
	const char *p[1];
	long status;
	size_t i;
	json_t *co;
	struct itest_resp r;

	(void)state;
	new_pending("reject", id);
	p[0] = id;
	for (i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		msg = decide_json(&ada, id, "reject", empty[i], &status);
		assert_int_equal(status, 422);
		assert_string_equal(msg, "Give a reason for the rejection.");
		free(msg);
		assert_column(id, "status", "pending");
		assert_column(id, "rejection_reason", NULL);
	}
	/*
	 * the plain form says it too, beside the reason field of the reject form shown
	 * again open (issue 13), and the company stays pending
	 */
	assert_int_equal(decide(&ada, id, "reject", "", AS_HTML, &r), 422);
	assert_contains(r.body.data, "<details class=\"reject-box\" open>");
	assert_contains(r.body.data, "class=\"field-error\" id=\"reason-panel-");
	assert_contains(r.body.data, "Give a reason for the rejection.");
	itest_resp_free(&r);
	/* an over-long reason is refused as well */
	memset(big, 'x', 5001);
	big[5001] = '\0';
	msg = decide_json(&ada, id, "reject", big, &status);
	assert_int_equal(status, 422);
	free(msg);
	assert_column(id, "status", "pending");
	assert_int_equal(audit_count(id, "reject"), 0);

	/* with a reason: rejected, the reason stored tidied (its line break kept) and audited */
	msg = decide_json(&ada, id, "reject", "  Not   a \r\n fit for   us. ", &status);
	assert_int_equal(status, 200);
	free(msg);
	assert_column(id, "status", "rejected");
	assert_column(id, "rejection_reason", "Not a\nfit for us.");
	assert_column(id, "status_changed_by", ada.id);
	assert_int_equal(audit_count(id, "reject"), 1);
	assert_int_equal(
	    sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND "
		      "action = 'reject' AND details->>'reason' = E'Not a\\nfit for us.'",
		      1, p),
	    1);

	/* rejected companies stay visible, with their reason */
	snprintf(path, sizeof path, "/companies/%s", id);
	co = get_json(&rex, path);
	assert_string_equal(jstr(co, "status"), "rejected");
	assert_string_equal(jstr(co, "rejection_reason"), "Not a\nfit for us.");
	json_decref(co);
	snprintf(path, sizeof path, "/companies?segment=%s&status=rejected", seg_main);
	co = get_json(&rex, path);
	{
		json_t *row;
		size_t k;
		int found = 0;

		json_array_foreach(json_object_get(co, "rows"), k, row)
		{
			if (strcmp(jstr(row, "id"), id) == 0)
				found = 1;
		}
		assert_true(found);
	}
	json_decref(co);
}

static void
test_decisions_are_final(void **state)
{
	char approved[37], rejected[37], want[300], *msg;
	long status, before;
	struct itest_resp r;

	(void)state;
	new_pending("final-a", approved);
	new_pending("final-r", rejected);
	msg = decide_json(&ada, approved, "approve", NULL, &status);
	assert_int_equal(status, 200);
	free(msg);
	msg = decide_json(&bo, rejected, "reject", "Too small", &status);
	assert_int_equal(status, 200);
	free(msg);
	before = audit_count(approved, "approve") + audit_count(approved, "reject") +
		 audit_count(rejected, "approve") + audit_count(rejected, "reject");
	assert_int_equal(before, 2);

	/* reject after approve */
	msg = decide_json(&bo, approved, "reject", "Changed my mind", &status);
	assert_int_equal(status, 409);
	snprintf(want, sizeof want, "Already approved by %s on ", ada.name);
	assert_contains(msg, want);
	free(msg);
	/* approve after approve */
	msg = decide_json(&bo, approved, "approve", NULL, &status);
	assert_int_equal(status, 409);
	assert_contains(msg, want);
	free(msg);
	/* approve after reject */
	msg = decide_json(&ada, rejected, "approve", NULL, &status);
	assert_int_equal(status, 409);
	snprintf(want, sizeof want, "Already rejected by %s on ", bo.name);
	assert_contains(msg, want);
	assert_contains(msg, "A rejection is final.");
	free(msg);
	/* reject after reject: the first reason stays */
	msg = decide_json(&ada, rejected, "reject", "Another reason", &status);
	assert_int_equal(status, 409);
	assert_contains(msg, want);
	free(msg);

	assert_column(approved, "status", "approved");
	assert_column(approved, "rejection_reason", NULL);
	assert_column(approved, "status_changed_by", ada.id);
	assert_column(rejected, "status", "rejected");
	assert_column(rejected, "rejection_reason", "Too small");
	assert_column(rejected, "status_changed_by", bo.id);
	assert_int_equal(audit_count(approved, "approve") + audit_count(approved, "reject") +
			     audit_count(rejected, "approve") + audit_count(rejected, "reject"),
			 2);

	/* htmx (queue, popup, panel) gets the refusal as a fragment in place */
	assert_int_equal(decide(&bo, approved, "approve", NULL, AS_HTMX, &r), 200);
	assert_contains(r.body.data, "data-decided=\"refused\"");
	assert_contains(r.body.data, "Already approved by");
	{
		char *trigger = itest_header(&r, "HX-Trigger");

		assert_non_null(trigger);
		assert_string_equal(trigger, "company-refused");
		free(trigger);
	}
	itest_resp_free(&r);

	/* a plain form goes back where it came from, with the message */
	assert_int_equal(decide(&bo, rejected, "approve", NULL, AS_HTML, &r), 303);
	{
		char *flash = itest_cookie(&r, "spanner_flash"),
		     *loc = itest_header(&r, "Location");
		char back[64];

		assert_non_null(flash);
		url_decode(flash);
		assert_contains(flash, "error:");
		assert_contains(flash, "Already rejected by");
		snprintf(back, sizeof back, "/companies/%s", rejected);
		assert_non_null(loc);
		assert_string_equal(loc, back);
		free(flash);
		free(loc);
	}
	itest_resp_free(&r);
	assert_column(rejected, "status", "rejected");
}

/* The status is never a form field: an edit cannot decide, and the database refuses too. */
static void
test_status_only_moves_by_decision(void **state)
{
	char id[37], approved[37], rejected[37], path[128], *state_code, *msg;
	struct itest_resp r;
	buf form = BUF_INIT;
	long status;
	const char *p[1];

	(void)state;
	new_pending("edit-status", id);
	snprintf(path, sizeof path, "/companies/%s", id);
	form_add(&form, "status", "approved");
	form_add(&form, "rejection_reason", "sneaky");
	form_add(&form, "status_changed_by", ada.id);
	form_add(&form, "industry", "Retail");
	call(&rex, "POST", path, form.data, AS_HTML, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "status", "pending");
	assert_column(id, "rejection_reason", NULL);
	assert_column(id, "industry", "Retail");

	/* no bulk approve: there is no route that decides several companies */
	form_add(&form, "ids", id);
	call(&ada, "POST", "/companies/approve", form.data, AS_HTML, &r);
	assert_true(r.status >= 400);
	itest_resp_free(&r);
	call(&ada, "POST", "/approvals/companies", form.data, AS_HTML, &r);
	assert_true(r.status >= 400);
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "status", "pending");

	/* the database refuses every transition but pending → approved | rejected */
	new_pending("db-approved", approved);
	new_pending("db-rejected", rejected);
	msg = decide_json(&ada, approved, "approve", NULL, &status);
	free(msg);
	msg = decide_json(&ada, rejected, "reject", "No", &status);
	free(msg);
	p[0] = approved;
	state_code = sql_error_state("UPDATE companies SET status = 'pending' WHERE id = $1", 1, p);
	assert_string_equal(state_code, "SP001");
	free(state_code);
	state_code = sql_error_state("UPDATE companies SET status = 'rejected', rejection_reason = "
				     "'late' WHERE id = $1",
				     1, p);
	assert_string_equal(state_code, "SP001");
	free(state_code);
	p[0] = rejected;
	state_code = sql_error_state("UPDATE companies SET status = 'approved', rejection_reason = "
				     "NULL WHERE id = $1",
				     1, p);
	assert_string_equal(state_code, "SP001");
	free(state_code);
	state_code = sql_error_state("UPDATE companies SET status = 'pending', rejection_reason = "
				     "NULL WHERE id = $1",
				     1, p);
	assert_string_equal(state_code, "SP001");
	free(state_code);
	assert_column(approved, "status", "approved");
	assert_column(rejected, "status", "rejected");
}

static void
test_forbidden_without_permission(void **state)
{
	char id[37], path[128], want[200];
	struct itest_resp r;

	(void)state;
	new_pending("forbidden", id);
	assert_int_equal(decide(&rex, id, "approve", NULL, AS_HTML, &r), 403);
	assert_contains(r.body.data, "companies.approve");
	itest_resp_free(&r);
	assert_int_equal(decide(&rex, id, "approve", NULL, AS_JSON, &r), 403);
	itest_resp_free(&r);
	assert_int_equal(decide(&rex, id, "reject", "I would rather not", AS_HTML, &r), 403);
	assert_contains(r.body.data, "companies.reject");
	itest_resp_free(&r);
	call(&rex, "GET", "/approvals/companies", NULL, AS_HTML, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	assert_column(id, "status", "pending");
	assert_int_equal(audit_count(id, "approve") + audit_count(id, "reject"), 0);

	/* the researcher sees the company but no decision buttons; an approver sees them */
	snprintf(path, sizeof path, "/companies/%s", id);
	snprintf(want, sizeof want, "action=\"/companies/%s/approve\"", id);
	call(&rex, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, want));
	assert_null(strstr(r.body.data, "/reject\""));
	itest_resp_free(&r);
	call(&ada, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, want);
	itest_resp_free(&r);
}

struct racer {
	const struct client *cl;
	const char *id;
	const char *action;
	pthread_barrier_t *barrier;
	long status;
	char message[400];
};

static void *
race_one(void *arg)
{
	struct racer *rc = arg;
	struct itest_resp r;
	char path[128];
	const char *form = strcmp(rc->action, "reject") == 0 ? "rejection_reason=Racing" : "";

	snprintf(path, sizeof path, "/companies/%s/%s", rc->id, rc->action);
	pthread_barrier_wait(rc->barrier);
	rc->status = -1;
	rc->message[0] = '\0';
	if (http_as(rc->cl, "POST", path, form, AS_JSON, &r) == 0) {
		json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);

		rc->status = r.status;
		if (j && json_is_string(json_object_get(j, "message")))
			snprintf(rc->message, sizeof rc->message, "%s", jstr(j, "message"));
		json_decref(j);
	}
	itest_resp_free(&r);
	return NULL;
}

/* Two sessions decide one company at the same moment; returns the winner's index. */
static int
race(const char *id, const char *action_a, const char *action_b)
{
	pthread_barrier_t barrier;
	pthread_t th[2];
	struct racer rc[2] = {
	    {&ada, id, action_a, &barrier, 0, ""},
	    {&bo, id, action_b, &barrier, 0, ""},
	};
	int i, winner;

	pthread_barrier_init(&barrier, NULL, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_one, &rc[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);

	if (!((rc[0].status == 200) ^ (rc[1].status == 200)))
		fail_msg("exactly one decision must succeed: got %ld (%s) and %ld (%s)",
			 rc[0].status, rc[0].message, rc[1].status, rc[1].message);
	winner = rc[0].status == 200 ? 0 : 1;
	assert_int_equal(rc[1 - winner].status, 409);
	{
		char want[300];
		int approved = strcmp(rc[winner].action, "approve") == 0;

		snprintf(want, sizeof want, "Already %s by %s on ",
			 approved ? "approved" : "rejected", rc[winner].cl->name);
		assert_contains(rc[1 - winner].message, want);
		assert_column(id, "status", approved ? "approved" : "rejected");
		assert_column(id, "status_changed_by", rc[winner].cl->id);
	}
	assert_int_equal(audit_count(id, "approve") + audit_count(id, "reject"), 1);
	return winner;
}

static void
test_concurrent_decisions(void **state)
{
	char id[37], label[32];
	int round, wins[2] = {0, 0};

	(void)state;
	for (round = 0; round < 12; round++) {
		snprintf(label, sizeof label, "race-%d", round);
		new_pending(label, id);
		wins[race(id, "approve", "approve")]++;
		assert_int_equal(audit_count(id, "approve"), 1);
	}
	for (round = 0; round < 6; round++) {
		snprintf(label, sizeof label, "race-ar-%d", round);
		new_pending(label, id);
		race(id, "approve", "reject");
	}
	print_message("double approve: Ada won %d, Bo won %d of 12\n", wins[0], wins[1]);
}

/* ---------------------------------------------------------- inline edit */

static void
test_inline_edit_changes_one_field(void **state)
{
	char id[37], path[128];
	const char *kv[] = {"name", "Edit Me Ltd", "website", "https://edit.example.com", NULL};
	const char *p[1];
	struct itest_resp r;
	buf form = BUF_INIT;

	(void)state;
	assert_int_equal(create_company(&rex, seg_main, kv, id), 303);
	p[0] = id;
	snprintf(path, sizeof path, "/companies/%s", id);

	/* htmx sends the one field that changed; it is tidied, saved, audited */
	form_add(&form, "name", "  beta   widgets ");
	call(&rex, "POST", path, form.data, AS_HTMX, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "value=\"Beta Widgets\"");
	assert_contains(r.body.data, "Saved");
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "name", "Beta Widgets");
	assert_column(id, "website", "https://edit.example.com");
	assert_int_equal(sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND "
				   "action = 'update' AND details->'changes'->'name'->>'old' = "
				   "'Edit Me Ltd' AND details->'changes'->'name'->>'new' = "
				   "'Beta Widgets' AND (SELECT count(*) FROM jsonb_object_keys("
				   "details->'changes')) = 1",
				   1, p),
			 1);

	/* an invalid value: the message in place, nothing saved, nothing audited */
	form_add(&form, "website", "ftp://files.example.com");
	call(&rex, "POST", path, form.data, AS_HTMX, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "field-error");
	assert_contains(r.body.data, "aria-invalid=\"true\"");
	itest_resp_free(&r);
	call(&rex, "POST", path, form.data, AS_HTML, &r);
	assert_int_equal(r.status, 422);
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "website", "https://edit.example.com");
	assert_int_equal(audit_count(id, "update"), 1);

	/* the same value again changes nothing and writes no audit row */
	form_add(&form, "name", "Beta Widgets");
	call(&rex, "POST", path, form.data, AS_HTMX, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	buf_free(&form);
	assert_int_equal(audit_count(id, "update"), 1);

	/* a cleared optional field becomes NULL */
	form_add(&form, "website", "   ");
	call(&rex, "POST", path, form.data, AS_HTMX, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	buf_free(&form);
	assert_column(id, "website", NULL);
}

/* ------------------------------------------------------ list and export */

/* Every id of the list, all pages, following next_url. */
static json_t *
list_ids(const struct client *cl, const char *first, int *pages)
{
	json_t *ids = json_array();
	char *path = xstrdup(first);

	*pages = 0;
	while (path) {
		json_t *page = get_json(cl, path), *row;
		const char *next = jstr(page, "next_url");
		size_t i;

		(*pages)++;
		assert_true(json_array_size(json_object_get(page, "rows")) <= 50);
		json_array_foreach(json_object_get(page, "rows"), i, row)
		    json_array_append_new(ids, json_string(jstr(row, "id")));
		free(path);
		path = next && *next ? xstrdup(next) : NULL;
		if (path)
			assert_int_equal(json_array_size(json_object_get(page, "rows")), 50);
		json_decref(page);
		assert_true(*pages < 1000);
	}
	return ids;
}

/* RFC 4180: an array of rows, each an array of cells. */
static json_t *
csv_parse(const char *s, size_t len)
{
	json_t *rows = json_array(), *row = json_array();
	buf cell = BUF_INIT;
	size_t i = 0;
	int quoted = 0, any = 0;

	while (i < len) {
		char c = s[i];

		if (quoted) {
			if (c == '"' && i + 1 < len && s[i + 1] == '"') {
				buf_putc(&cell, '"');
				i += 2;
				continue;
			}
			if (c == '"')
				quoted = 0;
			else
				buf_putc(&cell, c);
			i++;
			continue;
		}
		if (c == '"') {
			quoted = 1;
			any = 1;
		} else if (c == ',') {
			json_array_append_new(row,
					      json_stringn(cell.data ? cell.data : "", cell.len));
			buf_reset(&cell);
		} else if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
				i++;
			json_array_append_new(row,
					      json_stringn(cell.data ? cell.data : "", cell.len));
			json_array_append_new(rows, row);
			row = json_array();
			buf_reset(&cell);
			any = 0;
		} else {
			buf_putc(&cell, c);
			any = 1;
		}
		i++;
	}
	if (any || json_array_size(row)) {
		json_array_append_new(row, json_stringn(cell.data ? cell.data : "", cell.len));
		json_array_append_new(rows, row);
	} else {
		json_decref(row);
	}
	buf_free(&cell);
	return rows;
}

static json_t *
export_rows(const struct client *cl, const char *query)
{
	char path[1024];
	struct itest_resp r;
	char *type;
	json_t *rows, *header;

	snprintf(path, sizeof path, "/companies/export.csv%s%s", *query ? "?" : "", query);
	call(cl, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	type = itest_header(&r, "Content-Type");
	assert_non_null(type);
	assert_int_equal(strncmp(type, "text/csv", 8), 0);
	free(type);
	/* Excel needs the byte order mark to read the file as UTF-8 */
	assert_true(r.body.len >= 3);
	assert_memory_equal(r.body.data, "\xEF\xBB\xBF", 3);
	rows = csv_parse(r.body.data + 3, r.body.len - 3);
	itest_resp_free(&r);
	header = json_array_get(rows, 0);
	assert_non_null(header);
	assert_string_equal(json_string_value(json_array_get(header, 0)), "Company Name");
	assert_string_equal(json_string_value(json_array_get(header, 1)), "Segment Name");
	assert_string_equal(json_string_value(json_array_get(header, json_array_size(header) - 1)),
			    "Id");
	return rows;
}

static json_t *
export_ids(const struct client *cl, const char *query)
{
	json_t *rows = export_rows(cl, query), *ids = json_array(), *row;
	size_t i, width = json_array_size(json_array_get(rows, 0));

	json_array_foreach(rows, i, row)
	{
		if (i == 0)
			continue;
		assert_int_equal(json_array_size(row), width);
		json_array_append(ids, json_array_get(row, width - 1));
	}
	json_decref(rows);
	return ids;
}

static void
assert_same_ids(json_t *want, json_t *got, const char *what)
{
	size_t i;

	if (json_array_size(want) != json_array_size(got))
		fail_msg("%s: %zu ids vs %zu ids", what, json_array_size(want),
			 json_array_size(got));
	for (i = 0; i < json_array_size(want); i++)
		if (strcmp(json_string_value(json_array_get(want, i)),
			   json_string_value(json_array_get(got, i))) != 0)
			fail_msg("%s: position %zu differs (%s vs %s)", what, i,
				 json_string_value(json_array_get(want, i)),
				 json_string_value(json_array_get(got, i)));
}

static void
test_export_equals_list(void **state)
{
	char seg[37], tagtxt[32];
	const char *p[4];
	buf q = BUF_INIT;
	size_t i;
	int multi_page = 0;

	(void)state;
	make_segment(seg, "export", "active");
	snprintf(tagtxt, sizeof tagtxt, "%d", tag);
	p[0] = seg;
	p[1] = rex.id;
	p[2] = ada.id;
	p[3] = tagtxt;
	/*
	 * 140 companies over two creators and ten days of March 2021, in every
	 * status, some of them duplicates or deactivated, names with % and _.
	 */
	sql_ok("INSERT INTO companies (name, segment_id, created_by, status, rejection_reason, "
	       "status_changed_at, is_duplicate, is_active, created_at) "
	       "SELECT 'Export ' || $4 || ' ' || (ARRAY['alpha', 'beta', '100% fit', 'a_b', "
	       "'gamma'])[1 + g % 5] || ' ' || g, $1, CASE WHEN g % 2 = 0 THEN $2::uuid ELSE "
	       "$3::uuid END, (ARRAY['pending', 'approved', 'rejected'])[1 + g % 3], "
	       "CASE WHEN g % 3 = 2 THEN 'Not a fit' END, CASE WHEN g % 3 > 0 THEN now() END, "
	       "g % 11 = 0, g % 13 <> 0, timestamptz '2021-03-01 08:00:00+00' + "
	       "(g % 10) * interval '1 day' + (g / 7) * interval '1 minute' "
	       "FROM generate_series(1, 140) g",
	       4, p);

	{
		const char *queries[][2] = {
		    {"segment", NULL},	    {"status", "pending"},
		    {"status", "approved"}, {"status", "rejected"},
		    {"q", "alpha"},	    {"q", "100%"},
		    {"q", "a_b"},	    {"q", "_"},
		    {"researcher", rex.id}, {"from", "2021-03-03"},
		    {"to", "2021-03-04"},   {"duplicates", "1"},
		    {"deactivated", "1"},
		};
		const char *extra[] = {
		    "&q=alpha&status=pending", "&from=2021-03-03&to=2021-03-06",
		    "&status=approved&researcher=", "&duplicates=1&deactivated=1"};

		for (i = 0; i < sizeof queries / sizeof queries[0] + 4; i++) {
			json_t *listed, *exported;
			char first[1200];
			int pages;

			buf_reset(&q);
			buf_puts(&q, "segment=");
			buf_puts(&q, seg);
			if (i < sizeof queries / sizeof queries[0]) {
				if (queries[i][1]) {
					buf_putc(&q, '&');
					buf_puts(&q, queries[i][0]);
					buf_putc(&q, '=');
					url_encode(&q, queries[i][1]);
				}
			} else {
				size_t k = i - sizeof queries / sizeof queries[0];

				buf_puts(&q, extra[k]);
				if (k == 2)
					buf_puts(&q, ada.id);
			}
			snprintf(first, sizeof first, "/companies?%s", q.data);
			listed = list_ids(&ada, first, &pages);
			exported = export_ids(&ada, q.data);
			if (json_array_size(listed) == 0)
				fail_msg("filter %s matches nothing: the comparison proves nothing",
					 q.data);
			assert_same_ids(listed, exported, q.data);
			if (pages > 1)
				multi_page++;
			json_decref(listed);
			json_decref(exported);
		}
	}
	assert_true(multi_page >= 3);

	/* the same holds without a segment filter: this suite's researcher's companies */
	buf_reset(&q);
	buf_puts(&q, "researcher=");
	buf_puts(&q, rex.id);
	buf_puts(&q, "&q=Export");
	{
		char first[256];
		int pages;
		json_t *listed, *exported;

		snprintf(first, sizeof first, "/companies?%s", q.data);
		listed = list_ids(&ada, first, &pages);
		exported = export_ids(&ada, q.data);
		assert_true(json_array_size(listed) >= 50);
		assert_same_ids(listed, exported, q.data);
		json_decref(listed);
		json_decref(exported);
	}
	buf_free(&q);

	/* the list hides duplicates and deactivated records unless asked */
	{
		char first[256];
		int pages;
		json_t *listed;
		long visible;

		snprintf(first, sizeof first, "/companies?segment=%s", seg);
		listed = list_ids(&ada, first, &pages);
		visible = sql_count("SELECT count(*) FROM companies WHERE segment_id = $1 AND NOT "
				    "is_duplicate AND is_active",
				    1, p);
		assert_int_equal((long)json_array_size(listed), visible);
		assert_true(visible < 140);
		json_decref(listed);
	}
	/* every export is audited */
	assert_true(
	    sql_count("SELECT count(*) FROM audit_logs WHERE action = 'export' AND "
		      "entity_type = 'company' AND details->>'filters' LIKE '%' || $1 || '%'",
		      1, p) >= 17);
}

/*
 * Cells a spreadsheet would run as a formula get an apostrophe; plain numbers
 * and phone numbers ("-3", "+1 555 0100") stay exactly as stored, so the file
 * still imports back to the same values.
 */
static void
test_export_neutralises_formulas(void **state)
{
	static const char *const risky[] = {"=cmd|' /C calc'!A0", "+1 Holdings", "-2 Ventures",
					    "@SUM(1)", "=HYPERLINK(\"http://evil.example\")"};
	char seg[37], ids[5][37], query[64];
	json_t *rows, *row;
	size_t i, k, width;

	(void)state;
	make_segment(seg, "formulas", "active");
	for (i = 0; i < 5; i++) {
		const char *kv[] = {"name", risky[i], "industry",	  "=1+2", "address_city",
				    "-3",   "phone",  "+44 20 7946 0000", NULL};

		assert_int_equal(create_company(&rex, seg, kv, ids[i]), 303);
	}
	snprintf(query, sizeof query, "segment=%s", seg);
	rows = export_rows(&ada, query);
	assert_int_equal(json_array_size(rows), 6);
	width = json_array_size(json_array_get(rows, 0));
	for (i = 0; i < 5; i++) {
		char *stored = normalise_company_name(risky[i]);
		char want[200];
		int found = 0;

		/* stored as typed (after normalisation): the apostrophe is for the file only */
		assert_column(ids[i], "name", stored);
		json_array_foreach(rows, k, row)
		{
			const char *id = json_string_value(json_array_get(row, width - 1));

			if (k == 0 || strcmp(id, ids[i]) != 0)
				continue;
			found = 1;
			snprintf(want, sizeof want, "'%s", stored);
			assert_string_equal(json_string_value(json_array_get(row, 0)), want);
			assert_string_equal(json_string_value(json_array_get(row, 3)),
					    "+44 20 7946 0000"); /* Company Phone */
			assert_string_equal(json_string_value(json_array_get(row, 6)),
					    "'=1+2"); /* Company Industry */
			assert_string_equal(json_string_value(json_array_get(row, 9)),
					    "-3"); /* City */
		}
		assert_true(found);
		free(stored);
	}
	json_decref(rows);
}

/* ------------------------------------------------------ naughty strings */

static void
check_company_page(const char *id, json_t *want_values, int idx)
{
	char path[128];
	struct itest_resp r;
	size_t f;

	snprintf(path, sizeof path, "/companies/%s", id);
	call(&ada, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	for (f = 0; f < NFIELDS; f++) {
		const char *v = json_string_value(json_object_get(want_values, fields[f].column));

		if (!v || fields[f].kind == NAUGHTY_YEAR)
			continue;
		if (f == 0)
			naughty_assert_shown(r.body.data, "<h1 id=\"panel-title\">", v, "</h1>",
					     idx, path);
		else
			naughty_assert_in_form(r.body.data, &fields[f], v, idx, path);
	}
	itest_resp_free(&r);

	/* the quick view too */
	snprintf(path, sizeof path, "/companies/%s/peek", id);
	call(&ada, "GET", path, NULL, AS_HTMX, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	naughty_assert_shown(r.body.data, "<h2 id=\"peek-title\">",
			     json_string_value(json_object_get(want_values, "name")), "</h2>", idx,
			     path);
	itest_resp_free(&r);
}

/* Saves one naughty string through POST /companies and POST /companies/{id}. */
static void
naughty_one(const char *seg, const char *s, int idx)
{
	char *val[NFIELDS];
	int ok[NFIELDS], refused = 0;
	char id[37], path[128], fallback[64], *base_id;
	json_t *want = json_object(), *co;
	buf form = BUF_INIT;
	struct itest_resp r;
	size_t f;

	for (f = 0; f < NFIELDS; f++) {
		ok[f] = naughty_expect(&fields[f], s, &val[f]);
		refused += !ok[f];
	}
	snprintf(fallback, sizeof fallback, "Naughty %d", idx);
	for (f = 0; f < NFIELDS; f++)
		json_object_set_new(want, fields[f].column,
				    ok[f] && val[f] ? json_string(val[f])
				    : f == 0	    ? json_string(fallback)
						    : json_null());

	/* 1. create with the string in every field that may hold it */
	form_add(&form, "segment_id", seg);
	for (f = 0; f < NFIELDS; f++)
		if (ok[f])
			form_add(&form, fields[f].column, s);
	if (!ok[0])
		form_add(&form, "name", fallback);
	call(&rex, "POST", "/companies", form.data, AS_HTML, &r);
	if (r.status != 303)
		fail_msg("naughty #%d: create answered %ld:\n%.1500s", idx, r.status,
			 r.body.data ? r.body.data : "");
	{
		char *loc = itest_header(&r, "Location");

		assert_non_null(loc);
		snprintf(id, sizeof id, "%s", loc + 11);
		free(loc);
	}
	itest_resp_free(&r);
	buf_free(&form);
	snprintf(path, sizeof path, "/companies/%s", id);
	co = get_json(&ada, path);
	for (f = 0; f < NFIELDS; f++)
		naughty_assert_json(co, &fields[f],
				    json_string_value(json_object_get(want, fields[f].column)),
				    idx);
	json_decref(co);
	check_company_page(id, want, idx);

	/* 2. the same string through an edit of an existing company */
	base_id = insert_company(seg, "Naughty Base", rex.id);
	for (f = 0; f < NFIELDS; f++)
		if (ok[f])
			form_add(&form, fields[f].column, s);
	if (form.len) {
		snprintf(path, sizeof path, "/companies/%s", base_id);
		call(&rex, "POST", path, form.data, AS_HTML, &r);
		if (r.status != 303)
			fail_msg("naughty #%d: edit answered %ld", idx, r.status);
		itest_resp_free(&r);
		co = get_json(&ada, path);
		for (f = 0; f < NFIELDS; f++) {
			const char *w = json_string_value(json_object_get(want, fields[f].column));

			if (f == 0 && !ok[0])
				w = "Naughty Base";
			naughty_assert_json(co, &fields[f], w, idx);
		}
		json_decref(co);
	}
	buf_free(&form);

	/* 3. where the rules refuse the string, it is refused, field by field, and nothing changes
	 */
	if (refused) {
		json_t *errs;

		snprintf(path, sizeof path, "/companies/%s", id);
		for (f = 0; f < NFIELDS; f++)
			if (!ok[f])
				form_add(&form, fields[f].column, s);
		call(&rex, "POST", path, form.data, AS_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: an edit with invalid values answered %ld", idx,
				 r.status);
		errs = json_body(&r);
		itest_resp_free(&r);
		naughty_assert_field_errors(errs, fields, NFIELDS, ok, idx);
		json_decref(errs);
		co = get_json(&ada, path);
		for (f = 0; f < NFIELDS; f++)
			naughty_assert_json(
			    co, &fields[f],
			    json_string_value(json_object_get(want, fields[f].column)), idx);
		json_decref(co);
		/* and a new company with them is not created */
		form_add(&form, "segment_id", seg);
		if (ok[0])
			form_add(&form, "name", s);
		call(&rex, "POST", "/companies", form.data, AS_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: a create with invalid values answered %ld", idx,
				 r.status);
		itest_resp_free(&r);
		buf_free(&form);
	}
	for (f = 0; f < NFIELDS; f++)
		free(val[f]);
	free(base_id);
	json_decref(want);
}

static void
test_naughty_strings(void **state)
{
	char seg[37], first[128];
	json_t *list = naughty_load(), *s;
	size_t i;
	int pages;
	const char *p[1] = {seg};

	(void)state;
	make_segment(seg, "naughty", "active");
	json_array_foreach(list, i, s) naughty_one(seg, json_string_value(s), (int)i);
	print_message("%zu naughty strings through %zu fields, create and edit\n",
		      json_array_size(list), NFIELDS);

	/* the list pages show every one of them escaped */
	snprintf(first, sizeof first, "/companies?segment=%s", seg);
	{
		char *path = xstrdup(first);

		pages = 0;
		while (path) {
			struct itest_resp r;
			json_t *page;
			const char *next;

			call(&ada, "GET", path, NULL, AS_HTML, &r);
			assert_int_equal(r.status, 200);
			naughty_assert_no_markup(r.body.data, -1, path);
			itest_resp_free(&r);
			page = get_json(&ada, path);
			next = jstr(page, "next_url");
			free(path);
			path = next && *next ? xstrdup(next) : NULL;
			json_decref(page);
			pages++;
		}
	}
	assert_true(pages >= 2 * (int)json_array_size(list) / 50);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE segment_id = $1", 1, p),
			 2 * (long)json_array_size(list));
	json_decref(list);
}

/* ----------------------------------------------------------- pagination */

static void
test_keyset_pagination(void **state)
{
	char seg[37], first[128], id[37];
	const char *p[2] = {seg, rex.id};
	json_t *want, *got, *added = json_array();
	char *path;
	int pages = 0, n;

	(void)state;
	make_segment(seg, "pages", "active");
	/*
	 * 130 companies; every three share one created_at (ties the id breaks),
	 * with microseconds in the times: page edges fall inside tie groups.
	 */
	sql_ok("INSERT INTO companies (name, segment_id, created_by, created_at) "
	       "SELECT 'Page ' || lpad(g::text, 3, '0'), $1, $2, timestamptz "
	       "'2022-05-01 10:00:00.000001+00' + (g / 3) * interval '1.000007 second' "
	       "FROM generate_series(1, 130) g",
	       2, p);
	want = sql_column("SELECT id::text FROM companies WHERE segment_id = $1 "
			  "ORDER BY created_at DESC, id DESC",
			  1, p);
	assert_int_equal(json_array_size(want), 130);

	snprintf(first, sizeof first, "/companies?segment=%s", seg);
	path = xstrdup(first);
	got = json_array();
	while (path) {
		json_t *page = get_json(&ada, path), *row;
		const char *next = jstr(page, "next_url");
		size_t i;

		json_array_foreach(json_object_get(page, "rows"), i, row)
		    json_array_append_new(got, json_string(jstr(row, "id")));
		free(path);
		path = next && *next ? xstrdup(next) : NULL;
		if (path) {
			char name[64];
			const char *kv[] = {"name", name, NULL};

			/* the plain "Next page" link of the HTML page is the same URL */
			if (pages == 0) {
				struct itest_resp r;
				buf link = BUF_INIT;

				call(&ada, "GET", first, NULL, AS_HTML, &r);
				buf_puts(&link, "href=\"");
				buf_append_html(&link, path, strlen(path));
				buf_puts(&link, "\">Next page</a>");
				assert_contains(r.body.data, link.data);
				buf_free(&link);
				itest_resp_free(&r);
			}
			/* new companies arrive between page loads */
			for (n = 0; n < 3; n++) {
				snprintf(name, sizeof name, "Arrived %d %d", pages, n);
				assert_int_equal(create_company(&rex, seg, kv, id), 303);
				json_array_append_new(added, json_string(id));
			}
		}
		json_decref(page);
		pages++;
	}
	assert_int_equal(pages, 3);
	assert_same_ids(want, got, "pages of /companies, newest first");
	json_decref(got);
	json_decref(want);

	/* the queue pages oldest first, and the new arrivals come last */
	want = sql_column("SELECT id::text FROM companies WHERE segment_id = $1 AND status = "
			  "'pending' ORDER BY created_at, id",
			  1, p);
	assert_int_equal(json_array_size(want), 130 + json_array_size(added));
	snprintf(first, sizeof first, "/approvals/companies?segment=%s", seg);
	got = list_ids(&ada, first, &pages);
	assert_int_equal(pages, 3);
	assert_same_ids(want, got, "pages of the queue, oldest first");
	json_decref(got);
	json_decref(want);
	json_decref(added);

	/* a damaged page link says so instead of failing */
	{
		json_t *page;

		snprintf(first, sizeof first, "/companies?segment=%s&after=nonsense", seg);
		page = get_json(&ada, first);
		assert_string_equal(jstr(page, "filter_error"),
				    "That page link is no longer valid.");
		assert_int_equal(json_array_size(json_object_get(page, "rows")), 50);
		json_decref(page);
	}
}

/* The header's search: companies and segments by part of their name, for any signed-in user. */
static void
test_search(void **state)
{
	char name[160], path[200];
	struct itest_resp r;
	char *co;

	(void)state;
	snprintf(name, sizeof name, "Zyqfind Widgets %d", tag);
	co = insert_company(seg_main, name, ada.id);
	snprintf(path, sizeof path, "/search?q=zyqfind%%20widgets%%20%d", tag);
	call(&rex, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, name);
	assert_contains(r.body.data, co);
	itest_resp_free(&r);

	snprintf(path, sizeof path, "/search?q=itest%%20companies%%20%d%%20main", tag);
	call(&rex, "GET", path, NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, seg_main);
	itest_resp_free(&r);

	call(&rex, "GET", "/search?q=qqq-nothing-matches-qqq", NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "Nothing matches");
	itest_resp_free(&r);

	/* bytes that are not text get a message, not a server error */
	call(&rex, "GET", "/search?q=%C3%28", NULL, AS_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "200 characters of text");
	itest_resp_free(&r);
	free(co);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_normalises_input),
	    cmocka_unit_test(test_create_validation),
	    cmocka_unit_test(test_invalid_utf8_is_refused_not_a_server_error),
	    cmocka_unit_test(test_bad_filters_give_a_message),
	    cmocka_unit_test(test_archived_segment_refuses_companies),
	    cmocka_unit_test(test_approve),
	    cmocka_unit_test(test_reject_needs_a_reason),
	    cmocka_unit_test(test_decisions_are_final),
	    cmocka_unit_test(test_status_only_moves_by_decision),
	    cmocka_unit_test(test_forbidden_without_permission),
	    cmocka_unit_test(test_concurrent_decisions),
	    cmocka_unit_test(test_inline_edit_changes_one_field),
	    cmocka_unit_test(test_export_equals_list),
	    cmocka_unit_test(test_export_neutralises_formulas),
	    cmocka_unit_test(test_keyset_pagination),
	    cmocka_unit_test(test_naughty_strings),
	    cmocka_unit_test(test_search),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

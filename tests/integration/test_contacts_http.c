/*
 * Contacts over HTTP against the real server and database (SPEC.md §2
 * "Contacts", §5 lists and the approval queue, §7 URLs and views).
 *
 * What it proves:
 *  - POST /contacts creates a contact of an approved company, normalised,
 *    with the company's segment whatever segment the client sends; a pending
 *    company is refused with a message that says it is pending, a bad e-mail
 *    on its field; nothing is stored then;
 *  - /contacts/{id}, /peek and /panel answer as a page, as an htmx fragment
 *    and as JSON (the same view model);
 *  - the list's filters (search by e-mail, company, status) and the export:
 *    the CSV holds exactly the rows of the list for the same filters (every
 *    page followed through next_url), the import template's columns first;
 *  - an inline edit of the panel changes only the field sent and is audited
 *    with old and new;
 *  - POST /contacts/approve: ids approve in one go, one audit row each; ids
 *    someone approved before are reported, not approved twice; `only` wins
 *    over a selection; htmx gets the fragment naming the rows that leave,
 *    a plain form a 303 back to the queue;
 *  - refusals by role: a Researcher may neither approve nor open the queue,
 *    an SDR may neither create nor edit; every signed-in role sees the list;
 *  - the global search finds a contact by its e-mail; the company's panel
 *    lists its contacts with the link to add one; the queue's tabs count;
 *  - the Big List of Naughty Strings through every field of the form, by
 *    POST /contacts and the panel's POST /contacts/{id}: stored exactly as
 *    the SPEC's normalisation says, or refused field by field with nothing
 *    changed; the page, a reader's panel, the quick view, the list searched
 *    for it and the JSON view give it back intact and escaped, never markup.
 *
 * Names carry this process's id, so the suite can run again on the same
 * database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "itest.h"
#include "naughty.h"

struct who {
	char id[37], token[65], csrf[65];
};

static struct itest_server srv;
static int tag;
static struct who rex;	 /* Researcher */
static struct who ada;	 /* Approver */
static struct who sally; /* SDR */
static struct who mandy; /* Marketing */
static char seg[37], seg_other[37], acme[37], globex[37], pending[37];

/* One request as w; form: NULL-terminated name, value pairs sent as multipart (NULL: a GET). */
static void
call(const struct who *w, const char *method, const char *path, const char *const *form,
     enum itest_how how, struct itest_resp *r)
{
	itest_call(srv.base_url, w->token, w->csrf, method, path, form, how, r);
}

static json_t *
json_of(struct itest_resp *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &err);

	if (!j)
		fail_msg("not JSON (%s): %.500s", err.text, r->body.data ? r->body.data : "");
	itest_resp_free(r);
	return j;
}

static json_t *
get_json(const struct who *w, const char *path)
{
	struct itest_resp r;

	call(w, "GET", path, NULL, ITEST_JSON, &r);
	if (r.status != 200)
		fail_msg("GET %s: %ld", path, r.status);
	return json_of(&r);
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("expected \"%s\" in:\n%.3000s", needle, hay ? hay : "(nothing)");
}

/* POST /contacts as a browser form; the status, and the id on a 303. */
static long
create(const char *company, const char *first, const char *email, const char *const *more,
       char id[37])
{
	const char *form[40] = {"company_id", company,	"first_name", first,
				"last_name",  "Tester", "email",      email};
	struct itest_resp r;
	int n = 8;
	long status;
	char *loc;

	for (; more && more[0] && n < 36; more += 2) {
		form[n++] = more[0];
		form[n++] = more[1];
	}
	form[n] = NULL;
	call(&rex, "POST", "/contacts", form, ITEST_HTML, &r);
	status = r.status;
	id[0] = '\0';
	loc = itest_header(&r, "Location");
	if (status == 303) {
		assert_non_null(loc);
		assert_int_equal(strncmp(loc, "/contacts/", 10), 0);
		snprintf(id, 37, "%s", loc + 10);
	}
	free(loc);
	itest_resp_free(&r);
	return status;
}

static void
created(const char *company, const char *first, const char *email, char id[37])
{
	if (create(company, first, email, NULL, id) != 303)
		fail_msg("creating %s was refused", email);
}

/* 36 characters shaped like a uuid. */
static int
uuid_like(const char *s)
{
	int i;

	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23
			? s[i] != '-'
			: !strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	return 1;
}

static long
count1(const char *sql, const char *a)
{
	const char *p[1] = {a};

	return itest_sql_count(sql, 1, p);
}

/* ------------------------------------------------------------------ set-up */

static int
setup(void **state)
{
	char label[64], name[96];
	const char *p[2] = {name, NULL};
	char *v;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tag = (int)getpid();
	if (!itest_conninfo())
		return -1;
	snprintf(label, sizeof label, "kh rex %d", tag);
	itest_user_session(label, "Researcher", rex.id, rex.token, rex.csrf);
	snprintf(label, sizeof label, "kh ada %d", tag);
	itest_user_session(label, "Approver", ada.id, ada.token, ada.csrf);
	snprintf(label, sizeof label, "kh sally %d", tag);
	itest_user_session(label, "SDR", sally.id, sally.token, sally.csrf);
	snprintf(label, sizeof label, "kh mandy %d", tag);
	itest_user_session(label, "Marketing", mandy.id, mandy.token, mandy.csrf);
	p[1] = ada.id;
	snprintf(name, sizeof name, "kh segment %d", tag);
	v = itest_sql_value("INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id",
			    2, p);
	snprintf(seg, sizeof seg, "%s", v);
	free(v);
	snprintf(name, sizeof name, "kh other segment %d", tag);
	v = itest_sql_value("INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id",
			    2, p);
	snprintf(seg_other, sizeof seg_other, "%s", v);
	free(v);
	snprintf(name, sizeof name, "Acme %d", tag);
	itest_company(acme, name, seg, "approved", rex.id);
	snprintf(name, sizeof name, "Globex %d", tag);
	itest_company(globex, name, seg, "approved", rex.id);
	snprintf(name, sizeof name, "Pending %d", tag);
	itest_company(pending, name, seg, "pending", rex.id);
	return itest_server_start(&srv, "contacts_http", NULL);
}

static int
teardown(void **state)
{
	int rc;

	(void)state;
	rc = itest_server_stop(&srv);
	curl_global_cleanup();
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------- tests */

static void
test_create_and_views(void **state)
{
	char id[37], email[96], path[128];
	const char *more[] = {"segment_id",
			      seg_other,
			      "linkedin_summary",
			      "First line.\r\n\r\nSecond   line. ",
			      "job_title",
			      "  Chief   Widget ",
			      NULL};
	struct itest_resp r;
	json_t *k;

	(void)state;
	snprintf(email, sizeof email, "  Grace.%d@Acme.EXAMPLE ", tag);
	assert_int_equal(create(acme, " Grace ", email, more, id), 303);
	snprintf(path, sizeof path, "/contacts/%s", id);
	k = get_json(&rex, path);
	assert_string_equal(jstr(k, "first_name"), "Grace");
	snprintf(email, sizeof email, "grace.%d@acme.example", tag);
	assert_string_equal(jstr(k, "email"), email);
	assert_string_equal(jstr(k, "job_title"), "Chief Widget");
	assert_string_equal(jstr(k, "linkedin_summary"), "First line.\n\nSecond line.");
	assert_string_equal(jstr(k, "status"), "uploaded");
	/* the segment is the company's, never the one the client sent */
	assert_string_equal(jstr(k, "segment_id"), seg);
	assert_string_equal(jstr(json_object_get(k, "company"), "id"), acme);
	json_decref(k);

	/* the page, the panel fragment, the quick view fragment */
	call(&rex, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "<html");
	assert_contains(r.body.data, "id=\"contact-timeline\"");
	assert_contains(r.body.data, "First line.\n\nSecond line.");
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/contacts/%s/panel", id);
	call(&rex, "GET", path, NULL, ITEST_HTMX, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, "<html"));
	assert_contains(r.body.data, "data-record=\"");
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/contacts/%s/peek", id);
	call(&rex, "GET", path, NULL, ITEST_HTMX, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, "<html"));
	assert_contains(r.body.data, email);
	itest_resp_free(&r);
	k = get_json(&rex, path);
	assert_string_equal(jstr(k, "email"), email);
	json_decref(k);
	call(&rex, "GET", "/contacts/00000000-0000-0000-0000-000000000000", NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);

	/* the company's panel lists it, with the link to add another */
	snprintf(path, sizeof path, "/companies/%s", acme);
	call(&rex, "GET", path, NULL, ITEST_HTML, &r);
	assert_contains(r.body.data, id);
	snprintf(path, sizeof path, "/contacts/new?company=%s", acme);
	assert_contains(r.body.data, path);
	itest_resp_free(&r);

	/* the global search finds it by e-mail */
	snprintf(path, sizeof path, "/search?q=grace.%d%%40acme", tag);
	call(&mandy, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	snprintf(path, sizeof path, "/contacts/%s", id);
	assert_contains(r.body.data, path);
	itest_resp_free(&r);
}

static void
test_create_refusals(void **state)
{
	char id[37], email[96];
	struct itest_resp r;
	const char *form[] = {"company_id", pending, "first_name",  "P", "last_name",
			      "Q",	    "email", "p@q.example", NULL};
	json_t *j;
	long before = count1("SELECT count(*) FROM contacts WHERE segment_id = $1", seg);

	(void)state;
	snprintf(email, sizeof email, "pending.%d@example.com", tag);
	assert_int_equal(create(pending, "Pat", email, NULL, id), 422);
	assert_int_equal(create(acme, "Bad", "not an e-mail", NULL, id), 422);
	assert_int_equal(create(acme, "", "x@y.example", NULL, id), 422);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE segment_id = $1", seg),
			 before);

	/* the JSON view names the field and says why */
	call(&rex, "POST", "/contacts", form, ITEST_JSON, &r);
	assert_int_equal(r.status, 422);
	j = json_of(&r);
	assert_contains(jstr(json_object_get(j, "errors"), "company_id"), "still pending approval");
	json_decref(j);
}

/* Every row of a list, following its next_url page by page: the ids in order. */
static json_t *
all_ids(const char *first)
{
	json_t *ids = json_array();
	char path[1024];

	snprintf(path, sizeof path, "%s", first);
	for (;;) {
		json_t *page = get_json(&ada, path), *row;
		const char *next = jstr(page, "next_url");
		size_t i;

		json_array_foreach(json_object_get(page, "rows"), i, row)
		    json_array_append(ids, json_object_get(row, "id"));
		if (!next || !*next) {
			json_decref(page);
			return ids;
		}
		snprintf(path, sizeof path, "%s", next);
		json_decref(page);
	}
}

static void
test_filters_and_export(void **state)
{
	char a[37], b[37], c[37], email[96], path[512];
	const char *p[1] = {a};
	struct itest_resp r;
	json_t *list, *ids;
	size_t i, rows = 0;
	char *line;

	(void)state;
	snprintf(email, sizeof email, "filter.a.%d@globex.example", tag);
	created(globex, "Fia", email, a);
	snprintf(email, sizeof email, "filter.b.%d@globex.example", tag);
	created(globex, "Fib", email, b);
	snprintf(email, sizeof email, "filter.c.%d@acme.example", tag);
	created(acme, "Fic", email, c);
	itest_sql_ok("UPDATE contacts SET status = 'approved' WHERE id = $1", 1, p);

	snprintf(path, sizeof path, "/contacts?q=filter.b.%d", tag);
	list = get_json(&ada, path);
	assert_int_equal(json_array_size(json_object_get(list, "rows")), 1);
	assert_string_equal(jstr(json_array_get(json_object_get(list, "rows"), 0), "id"), b);
	json_decref(list);
	snprintf(path, sizeof path, "/contacts?company=%s&status=approved", globex);
	list = get_json(&ada, path);
	assert_int_equal(json_array_size(json_object_get(list, "rows")), 1);
	assert_string_equal(jstr(json_array_get(json_object_get(list, "rows"), 0), "id"), a);
	json_decref(list);
	/* a search for the company's name finds its contacts */
	snprintf(path, sizeof path, "/contacts?q=Globex%%20%d", tag);
	list = get_json(&ada, path);
	assert_int_equal(json_array_size(json_object_get(list, "rows")), 2);
	json_decref(list);
	/* a bad filter is said, not a 500 */
	call(&ada, "GET", "/contacts?status=rejected", NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "Status must be");
	itest_resp_free(&r);

	/* the export holds exactly the list's rows, the template's columns first */
	snprintf(path, sizeof path, "/contacts?segment=%s", seg);
	ids = all_ids(path);
	snprintf(path, sizeof path, "/contacts/export.csv?segment=%s", seg);
	call(&ada, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "\"First Name\",\"Last Name\",\"Email\",\"Company Name\","
				     "\"Segment Name\",\"Mobile Phone\",\"Job Title\"");
	/*
	 * Each row ends with its id, quoted, then CRLF; cells may hold line breaks
	 * of their own (a LinkedIn summary), so rows are found by that ending.
	 */
	for (line = strstr(r.body.data, "\"\r\n"); line; line = strstr(line + 3, "\"\r\n")) {
		char *start = line - 37;

		if (start < r.body.data || start[0] != '"' || !uuid_like(start + 1))
			continue;
		assert_true(rows < json_array_size(ids));
		if (strncmp(start + 1, json_string_value(json_array_get(ids, rows)), 36) != 0)
			fail_msg("export row %zu: %.36s, list: %s", rows, start + 1,
				 json_string_value(json_array_get(ids, rows)));
		rows++;
	}
	assert_int_equal(rows, json_array_size(ids));
	assert_true(rows >= 3);
	itest_resp_free(&r);
	for (i = 0; i < json_array_size(ids); i++)
		assert_int_equal(strlen(json_string_value(json_array_get(ids, i))), 36);
	json_decref(ids);
	assert_true(count1("SELECT count(*) FROM audit_logs WHERE action = 'export' AND "
			   "entity_type = 'contact' AND actor_id = $1",
			   ada.id) >= 1);
}

static void
test_panel_edit(void **state)
{
	char id[37], email[96], path[128];
	const char *form[] = {"job_title", "  Head of   Things ", NULL};
	const char *p[1] = {id};
	struct itest_resp r;
	char *v;

	(void)state;
	snprintf(email, sizeof email, "edit.%d@acme.example", tag);
	created(acme, "Eddie", email, id);
	snprintf(path, sizeof path, "/contacts/%s", id);
	call(&rex, "POST", path, form, ITEST_HTMX, &r);
	assert_int_equal(r.status, 200);
	assert_contains(r.body.data, "field-saved");
	itest_resp_free(&r);
	v = itest_sql_value("SELECT job_title || '|' || first_name || '|' || email FROM contacts "
			    "WHERE id = $1",
			    1, p);
	assert_non_null(v);
	assert_string_equal(strtok(v, "|"), "Head of Things");
	assert_string_equal(strtok(NULL, "|"), "Eddie");
	free(v);
	v = itest_sql_value("SELECT details->'changes'->'job_title'->>'new' FROM audit_logs WHERE "
			    "entity_type = 'contact' AND entity_id = $1 AND action = 'update'",
			    1, p);
	assert_non_null(v);
	assert_string_equal(v, "Head of Things");
	free(v);
	/* a bad e-mail comes back on its field, and changes nothing */
	{
		const char *bad[] = {"email", "nope", NULL};

		call(&rex, "POST", path, bad, ITEST_HTMX, &r);
		assert_int_equal(r.status, 200);
		assert_contains(r.body.data, "err-email");
		itest_resp_free(&r);
		v = itest_sql_value("SELECT email FROM contacts WHERE id = $1", 1, p);
		assert_string_equal(v, email);
		free(v);
	}
}

static void
test_bulk_approve(void **state)
{
	char a[37], b[37], c[37], d[37], email[96];
	const char *pa[1] = {a};
	struct itest_resp r;
	json_t *j;
	char *loc;

	(void)state;
	snprintf(email, sizeof email, "bulk.a.%d@acme.example", tag);
	created(acme, "Ba", email, a);
	snprintf(email, sizeof email, "bulk.b.%d@acme.example", tag);
	created(acme, "Bb", email, b);
	snprintf(email, sizeof email, "bulk.c.%d@acme.example", tag);
	created(acme, "Bc", email, c);
	snprintf(email, sizeof email, "bulk.d.%d@acme.example", tag);
	created(acme, "Bd", email, d);

	/* someone approves a first */
	{
		const char *form[] = {"ids", a, NULL};

		call(&ada, "POST", "/contacts/approve", form, ITEST_JSON, &r);
		assert_int_equal(r.status, 200);
		j = json_of(&r);
		assert_int_equal(json_integer_value(json_object_get(j, "approved")), 1);
		json_decref(j);
	}
	/* then a selection of a and b: b approved, a reported */
	{
		const char *form[] = {"ids", a, "ids", b, NULL};

		call(&ada, "POST", "/contacts/approve", form, ITEST_JSON, &r);
		assert_int_equal(r.status, 200);
		j = json_of(&r);
		assert_int_equal(json_integer_value(json_object_get(j, "approved")), 1);
		assert_int_equal(json_array_size(json_object_get(j, "already")), 1);
		assert_string_equal(jstr(json_array_get(json_object_get(j, "already"), 0), "id"),
				    a);
		assert_contains(jstr(j, "message"), "already approved");
		json_decref(j);
	}
	assert_int_equal(count1("SELECT count(*) FROM audit_logs WHERE entity_type = 'contact' AND "
				"entity_id = $1 AND action = 'approve'",
				a),
			 1);
	assert_int_equal(
	    count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = 'approved'", b), 1);
	(void)pa;

	/* htmx: the fragment names every row that leaves the queue */
	{
		const char *form[] = {"ids", b, "ids", c, NULL};

		call(&ada, "POST", "/contacts/approve", form, ITEST_HTMX, &r);
		assert_int_equal(r.status, 200);
		assert_contains(r.body.data, "data-gone-ids=\"");
		assert_contains(r.body.data, c);
		assert_contains(r.body.data, b);
		assert_contains(r.body.data, "1 contact approved. 1 already approved");
		itest_resp_free(&r);
	}
	/* a plain form: `only` wins over the ticked boxes; back to the queue */
	{
		const char *form[] = {"ids", c, "only", d, "return_to", "/approvals/contacts",
				      NULL};

		call(&ada, "POST", "/contacts/approve", form, ITEST_HTML, &r);
		assert_int_equal(r.status, 303);
		loc = itest_header(&r, "Location");
		assert_string_equal(loc, "/approvals/contacts");
		free(loc);
		itest_resp_free(&r);
		assert_int_equal(count1("SELECT count(*) FROM audit_logs WHERE entity_type = "
					"'contact' AND entity_id = $1 AND action = 'approve'",
					c),
				 1);
		assert_int_equal(
		    count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = 'approved'",
			   d),
		    1);
	}
	/* nothing selected: said, nothing done */
	{
		const char *form[] = {"return_to", "/approvals/contacts", NULL};

		call(&ada, "POST", "/contacts/approve", form, ITEST_JSON, &r);
		assert_int_equal(r.status, 422);
		itest_resp_free(&r);
	}
}

static void
test_queue_and_roles(void **state)
{
	char id[37], email[96], path[160];
	const char *edit[] = {"job_title", "Nope", NULL};
	const char *approve[] = {"ids", NULL, NULL};
	struct itest_resp r;
	json_t *j;
	const char *p[1] = {id};

	(void)state;
	snprintf(email, sizeof email, "queue.%d@acme.example", tag);
	created(acme, "Quinn", email, id);
	approve[1] = id;

	/* the tab: uploaded contacts only, with both tabs' counts */
	snprintf(path, sizeof path, "/approvals/contacts?segment=%s", seg);
	j = get_json(&ada, path);
	assert_true(json_array_size(json_object_get(j, "rows")) >= 1);
	{
		json_t *row;
		size_t i;

		json_array_foreach(json_object_get(j, "rows"), i, row)
		    assert_string_equal(jstr(row, "status"), "uploaded");
	}
	assert_non_null(jstr(json_object_get(j, "tabs"), "contacts"));
	assert_non_null(jstr(json_object_get(j, "tabs"), "companies"));
	/*
	 * The tab counts every uploaded contact, whatever the list's filter; with
	 * no filter the page counts once and the tab says what the list says.
	 */
	{
		json_t *all = get_json(&ada, "/approvals/contacts");
		const char *tab = jstr(json_object_get(all, "tabs"), "contacts");
		const char *count = jstr(json_object_get(all, "list"), "count_text");
		char want[64];

		assert_string_equal(tab, jstr(json_object_get(j, "tabs"), "contacts"));
		assert_string_equal(jstr(json_object_get(all, "tabs"), "companies"),
				    jstr(json_object_get(j, "tabs"), "companies"));
		snprintf(want, sizeof want, "%s ", tab);
		assert_non_null(count);
		if (strncmp(count, want, strlen(want)) != 0)
			fail_msg("the unfiltered queue says \"%s\", its tab \"%s\"", count, tab);
		json_decref(all);
	}
	json_decref(j);
	call(&ada, "GET", path, NULL, ITEST_HTML, &r);
	assert_contains(r.body.data, "Approve selected");
	assert_contains(r.body.data, "name=\"ids\"");
	itest_resp_free(&r);

	/* a Researcher may not approve, nor open the queue */
	call(&rex, "POST", "/contacts/approve", approve, ITEST_HTML, &r);
	assert_int_equal(r.status, 403);
	assert_contains(r.body.data, "contacts.approve");
	itest_resp_free(&r);
	call(&rex, "GET", "/approvals/contacts", NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	/* the Researcher's page of a contact offers no Approve button */
	snprintf(path, sizeof path, "/contacts/%s", id);
	call(&rex, "GET", path, NULL, ITEST_HTML, &r);
	assert_null(strstr(r.body.data, "action=\"/contacts/approve\""));
	itest_resp_free(&r);
	/* an SDR may neither create nor edit */
	call(&sally, "POST", path, edit, ITEST_HTML, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	call(&sally, "GET", "/contacts/new", NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'uploaded' AND job_title IS NULL",
				id),
			 1);
	(void)p;
	/* every role sees the list */
	call(&mandy, "GET", "/contacts", NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
}

/* ---------------------------------------------------------- naughty strings */

/* The contact form's fields as SPEC.md §2 lists them, with their limits. */
static const struct naughty_field kfields[] = {
    {"first_name", NAUGHTY_TEXT, 200, 1},
    {"last_name", NAUGHTY_TEXT, 200, 1},
    {"email", NAUGHTY_EMAIL, 320, 1},
    {"mobile_phone", NAUGHTY_TEXT, 50, 0},
    {"direct_phone", NAUGHTY_TEXT, 50, 0},
    {"job_title", NAUGHTY_TEXT, 500, 0},
    {"email_2", NAUGHTY_EMAIL, 320, 0},
    {"email_active_status", NAUGHTY_TEXT, 100, 0},
    {"lead_source", NAUGHTY_TEXT, 200, 0},
    {"management_level", NAUGHTY_TEXT, 200, 0},
    {"address_street", NAUGHTY_TEXT, 500, 0},
    {"address_city", NAUGHTY_TEXT, 200, 0},
    {"address_state", NAUGHTY_TEXT, 200, 0},
    {"address_country", NAUGHTY_TEXT, 200, 0},
    {"address_zip", NAUGHTY_TEXT, 50, 0},
    {"primary_timezone", NAUGHTY_TEXT, 100, 0},
    {"linkedin_url", NAUGHTY_URL, 2048, 0},
    {"linkedin_summary", NAUGHTY_LONG, 5000, 0},
    {"data_requester_details", NAUGHTY_TEXT, 500, 0},
};
#define KFIELDS (sizeof kfields / sizeof kfields[0])
/* name, value pairs of every field, the company, and the closing NULL */
#define KFORM (2 * KFIELDS + 3)

/* One string's plan: which fields must take it, and what each must hold after the create. */
struct naughty_contact {
	int ok[KFIELDS];
	char *val[KFIELDS];	   /* the string's stored form in each field */
	const char *want[KFIELDS]; /* NULL = empty */
	char last[32], email[96];
};

static void
naughty_contact_plan(struct naughty_contact *c, const char *s, int idx)
{
	size_t f;

	snprintf(c->last, sizeof c->last, "Row %d", idx);
	snprintf(c->email, sizeof c->email, "naughty-%d-%d@example.com", tag, idx);
	for (f = 0; f < KFIELDS; f++) {
		c->ok[f] = naughty_expect(&kfields[f], s, &c->val[f]);
		c->want[f] = c->ok[f] ? c->val[f] : NULL;
	}
	/* a required field that refuses s gets a plain value, so the others can take it */
	if (!c->ok[0])
		c->want[0] = "Naughty";
	if (!c->ok[1])
		c->want[1] = c->last;
	if (!c->ok[2])
		c->want[2] = c->email;
}

/*
 * A form of name, value pairs after form[0..n): s in the fields that accept
 * it (accepted) or refuse it (refused); with required, every other required
 * field with its planned value, so a create is judged on s alone.
 */
static void
naughty_contact_form(const struct naughty_contact *c, const char *s, int accepted, int refused,
		     int required, const char **form, size_t n)
{
	size_t f;

	for (f = 0; f < KFIELDS; f++) {
		if (c->ok[f] ? accepted : refused) {
			form[n++] = kfields[f].column;
			form[n++] = s;
		} else if (required && kfields[f].required) {
			form[n++] = kfields[f].column;
			form[n++] = c->want[f];
		}
	}
	form[n] = NULL;
}

static void
naughty_contact_check_json(const char *id, const char *const *want, int idx)
{
	char path[128];
	json_t *k;
	size_t f;

	snprintf(path, sizeof path, "/contacts/%s", id);
	k = get_json(&rex, path);
	for (f = 0; f < KFIELDS; f++)
		naughty_assert_json(k, &kfields[f], want[f], idx);
	json_decref(k);
}

/* The page (an editor's form), a reader's panel, the quick view: escaped, never markup. */
static void
naughty_contact_check_pages(const char *id, const struct naughty_contact *c, int idx)
{
	char path[160];
	struct itest_resp r;
	buf name = BUF_INIT;
	size_t f;

	snprintf(path, sizeof path, "/contacts/%s", id);
	call(&rex, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	for (f = 0; f < KFIELDS; f++)
		if (c->want[f])
			naughty_assert_in_form(r.body.data, &kfields[f], c->want[f], idx, path);
	itest_resp_free(&r);

	/* Marketing may not edit: the values are a list of properties */
	snprintf(path, sizeof path, "/contacts/%s/panel", id);
	call(&mandy, "GET", path, NULL, ITEST_HTMX, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	for (f = 0; f < KFIELDS; f++)
		if (c->want[f])
			naughty_assert_shown(
			    r.body.data,
			    kfields[f].kind == NAUGHTY_LONG ? "<dd class=\"multiline\">" : "<dd>",
			    c->want[f], "</dd>", idx, path);
	itest_resp_free(&r);

	snprintf(path, sizeof path, "/contacts/%s/peek", id);
	call(&mandy, "GET", path, NULL, ITEST_HTMX, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	buf_printf(&name, "%s %s", c->want[0], c->want[1]);
	naughty_assert_shown(r.body.data, "<h2 id=\"peek-title\">", name.data, "</h2>", idx, path);
	buf_free(&name);
	itest_resp_free(&r);
}

/* The company's contact list searched for s: answers, shows no markup, finds the contact. */
static void
naughty_contact_search(const char *company, const char *id, const char *s,
		       const struct naughty_contact *c, int idx)
{
	char prefix[128], row[64];
	struct itest_resp r;

	snprintf(prefix, sizeof prefix, "/contacts?company=%s&q=", company);
	if (!naughty_search(srv.base_url, ada.token, prefix, s, ITEST_HTML, idx, &r))
		return;
	/*
	 * The first name holds s tidied by the rule the search box applies, so
	 * the search finds it; s that tidies to nothing is no search, and the
	 * company's list shows its newest contact (this one) first.
	 */
	snprintf(row, sizeof row, "id=\"contact-%s\"", id);
	if ((c->ok[0] || !c->val[0]) && !strstr(r.body.data, row))
		fail_msg("naughty #%d: searching the list for it does not find it", idx);
	itest_resp_free(&r);
}

/* Where the rules refuse s: the edit and the create are refused on exactly those fields. */
static void
naughty_contact_refusals(const char *company, const char *id, const struct naughty_contact *c,
			 const char *s, int idx)
{
	const char *form[KFORM];
	char path[128];
	struct itest_resp r;
	json_t *vm;

	snprintf(path, sizeof path, "/contacts/%s", id);
	naughty_contact_form(c, s, 0, 1, 0, form, 0);
	call(&rex, "POST", path, form, ITEST_JSON, &r);
	if (r.status != 422)
		fail_msg("naughty #%d: an edit with refused values answered %ld", idx, r.status);
	vm = json_of(&r);
	naughty_assert_field_errors(vm, kfields, KFIELDS, c->ok, idx);
	json_decref(vm);
	naughty_contact_check_json(id, c->want, idx);

	form[0] = "company_id";
	form[1] = company;
	naughty_contact_form(c, s, 0, 1, 1, form, 2);
	call(&rex, "POST", "/contacts", form, ITEST_JSON, &r);
	if (r.status != 422)
		fail_msg("naughty #%d: a create with refused values answered %ld", idx, r.status);
	itest_resp_free(&r);
}

/* One string through the create form, the panel's edit, and the refusals. */
static void
naughty_contact(const char *company, const char *s, int idx)
{
	struct naughty_contact c;
	const char *form[KFORM], *want[KFIELDS];
	char id[37], base[37], email[96], path[128];
	const char *p[3] = {company, rex.id, email};
	struct itest_resp r;
	size_t f;
	int refused = 0;
	char *v;

	naughty_contact_plan(&c, s, idx);
	for (f = 0; f < KFIELDS; f++)
		refused += !c.ok[f];

	/* 1. created with s in every field that takes it */
	form[0] = "company_id";
	form[1] = company;
	naughty_contact_form(&c, s, 1, 0, 1, form, 2);
	call(&rex, "POST", "/contacts", form, ITEST_HTML, &r);
	if (r.status != 303)
		fail_msg("naughty #%d: create answered %ld:\n%.1500s", idx, r.status,
			 r.body.data ? r.body.data : "");
	v = itest_header(&r, "Location");
	assert_non_null(v);
	snprintf(id, sizeof id, "%s", v + strlen("/contacts/"));
	free(v);
	itest_resp_free(&r);
	naughty_contact_check_json(id, c.want, idx);
	naughty_contact_check_pages(id, &c, idx);
	naughty_contact_search(company, id, s, &c, idx);

	/* 2. the same through the panel's edit of a plain contact, as htmx sends it */
	snprintf(email, sizeof email, "base-%d-%d@example.com", tag, idx);
	v = itest_sql_value("INSERT INTO contacts (first_name, last_name, email, company_id, "
			    "created_by) VALUES ('Base', 'Contact', $3, $1, $2) RETURNING id",
			    3, p);
	assert_non_null(v);
	snprintf(base, sizeof base, "%s", v);
	free(v);
	for (f = 0; f < KFIELDS; f++)
		want[f] = c.ok[f] ? c.val[f] : NULL;
	want[0] = c.ok[0] ? want[0] : "Base";
	want[1] = c.ok[1] ? want[1] : "Contact";
	want[2] = c.ok[2] ? want[2] : email;
	naughty_contact_form(&c, s, 1, 0, 0, form, 0);
	snprintf(path, sizeof path, "/contacts/%s", base);
	if (form[0]) {
		call(&rex, "POST", path, form, ITEST_HTMX, &r);
		if (r.status != 200 || !strstr(r.body.data, "field-saved"))
			fail_msg("naughty #%d: the panel's edit answered %ld:\n%.1500s", idx,
				 r.status, r.body.data ? r.body.data : "");
		naughty_assert_no_markup(r.body.data, idx, "the panel after an edit");
		for (f = 0; f < KFIELDS; f++)
			if (want[f])
				naughty_assert_in_form(r.body.data, &kfields[f], want[f], idx,
						       "the panel after an edit");
		itest_resp_free(&r);
	}
	naughty_contact_check_json(base, want, idx);

	if (refused)
		naughty_contact_refusals(company, id, &c, s, idx);
	for (f = 0; f < KFIELDS; f++)
		free(c.val[f]);
}

static void
test_naughty_strings(void **state)
{
	char company[37], name[96];
	json_t *list = naughty_load(), *s;
	const char *p[1] = {company};
	size_t i;

	(void)state;
	snprintf(name, sizeof name, "Naughty Contacts %d", tag);
	itest_company(company, name, seg, "approved", rex.id);
	json_array_foreach(list, i, s) naughty_contact(company, json_string_value(s), (int)i);
	print_message("%zu naughty strings through %zu contact fields, create and edit\n",
		      json_array_size(list), KFIELDS);
	/* one contact a string by the form, one to edit: no refused create slipped in */
	assert_int_equal(
	    itest_sql_count("SELECT count(*) FROM contacts WHERE company_id = $1", 1, p),
	    2 * (long)json_array_size(list));
	json_decref(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_views),   cmocka_unit_test(test_create_refusals),
	    cmocka_unit_test(test_filters_and_export), cmocka_unit_test(test_panel_edit),
	    cmocka_unit_test(test_bulk_approve),       cmocka_unit_test(test_queue_and_roles),
	    cmocka_unit_test(test_naughty_strings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Contacts (SPEC.md §2 "Contacts"): the domain module (domain/contacts.h)
 * against the real test database, and the rules the database enforces on
 * its own (migrations 0001 and 0006), whatever writes.
 *
 * What it proves:
 *  - the database refuses: a contact on a pending company (saying it is
 *    pending) or a rejected one; a segment that is not the company's (on
 *    INSERT and on UPDATE of segment_id); a skipped status step, a step back
 *    and a "rejected" status; an e-mail with upper-case letters;
 *  - contacts_create normalises what was typed exactly as the form, CSV and
 *    JSON will (e-mail lower-cased, spaces collapsed, LinkedIn summary keeps
 *    its line breaks, URL canonical), takes the segment from the company,
 *    audits the creation; it refuses a pending/rejected company, a bad
 *    e-mail or second e-mail, every SPEC length, with a message on the
 *    field and nothing stored;
 *  - contacts_update changes only the fields sent, audits old and new, moves
 *    the segment with the company, and refuses a pending company;
 *  - contacts_list: every filter (search over name, e-mail, job title and
 *    company; segment, company, status, SDR, researcher, date range, batch,
 *    duplicate and deactivated toggles) and keyset pages with ties in
 *    created_at, each row exactly once, in order;
 *  - bulk approval: one call approves the uploaded ones, reports the ones
 *    someone approved before and the unknown ids, one audit row per contact;
 *    two approvers approving overlapping selections at the same moment
 *    approve each contact exactly once, with exactly one audit row each; the
 *    status history shows the step with who and when.
 *
 * Every user, segment and company carries this run's id, so the suite can
 * run again on the same database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/db.h"
#include "domain/contacts.h"
#include "itest.h"

static db_conn *db;
static PGconn *pg; /* for statements the database must refuse */
static char run_id[32];
static char researcher[37], approver[37], approver2[37], sdr[37];
static char seg_a[37], seg_b[37];
static char acme_a[37], acme_b[37], pending_co[37], rejected_co[37];

/* ------------------------------------------------------------------ helpers */

static void
make_segment(char id[37], const char *name)
{
	char full[128];
	const char *p[2] = {full, researcher};
	char *v;

	snprintf(full, sizeof full, "%s %s", name, run_id);
	v = itest_sql_value("INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id",
			    2, p);
	snprintf(id, 37, "%s", v);
	free(v);
}

/* Cleans and creates; the result, with id and errors filled. */
static enum contacts_result
create(const char *company, const char *const *kv, char id[37], json_t *errors)
{
	char *vals[CONTACTS_NFIELDS];
	enum contacts_result r;

	if (contacts_clean(itest_pairs_get, (void *)kv, 0, vals, NULL, errors) > 0) {
		contacts_values_free(vals);
		return CONTACTS_INVALID;
	}
	r = contacts_create(db, researcher, company, vals, id, errors);
	contacts_values_free(vals);
	return r;
}

static void
create_ok(const char *company, const char *first, const char *email, char id[37])
{
	const char *kv[] = {"first_name", first, "last_name", "Tester", "email", email, NULL};
	json_t *errors = json_object();

	if (create(company, kv, id, errors) != CONTACTS_OK)
		fail_msg("create %s: %s", email, json_dumps(errors, 0));
	json_decref(errors);
}

/* The SQLSTATE a statement fails with ("" when it succeeds). */
static void
expect_state(const char *state, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	const char *got = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (!got || strcmp(got, state) != 0)
		fail_msg("%s: expected SQLSTATE %s, got %s (%s)", sql, state, got ? got : "success",
			 PQresultErrorMessage(r));
	PQclear(r);
}

static long
count(const char *sql, const char *a)
{
	const char *p[1] = {a};

	return itest_sql_count(sql, a ? 1 : 0, p);
}

/* ------------------------------------------------------------------ set-up */

static int
setup(void **state)
{
	(void)state;
	if (!itest_conninfo())
		return -1;
	db = db_connect(itest_conninfo());
	pg = itest_pg();
	if (!db || !pg)
		return -1;
	snprintf(run_id, sizeof run_id, "%d", (int)getpid());
	itest_user(researcher, "researcher", NULL);
	itest_user(approver, "approver", NULL);
	itest_user(approver2, "approver2", NULL);
	/* a contact's SDR holds the SDR role (migrations/0008_assignments.sql) */
	itest_user(sdr, "sdr", "SDR");
	make_segment(seg_a, "Contacts A");
	make_segment(seg_b, "Contacts B");
	/* one name, two segments: two companies */
	itest_company(acme_a, "Acme Contacts", seg_a, "approved", researcher);
	itest_company(acme_b, "Acme Contacts", seg_b, "approved", researcher);
	itest_company(pending_co, "Pending Contacts Co", seg_a, "pending", researcher);
	itest_company(rejected_co, "Rejected Contacts Co", seg_a, "rejected", researcher);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	db_close(db);
	PQfinish(pg);
	return 0;
}

/* ------------------------------------------------------------------ database rules */

static void
test_database_refusals(void **state)
{
	const char *insert = "INSERT INTO contacts (first_name, last_name, email, company_id, "
			     "segment_id, created_by) VALUES ('Db', 'Rule', $1, $2, $3, $4)";
	char id[37];
	(void)state;

	/* a pending company: SP003, and the message says it is pending */
	{
		const char *p[4] = {"db@rules.example", pending_co, NULL, researcher};
		PGresult *r = PQexecParams(pg, insert, 4, NULL, p, NULL, NULL, 0);

		assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SP003");
		assert_non_null(strstr(PQresultErrorMessage(r), "pending approval"));
		PQclear(r);
	}
	{
		const char *p[4] = {"db@rules.example", rejected_co, NULL, researcher};

		expect_state("SP003", insert, 4, p);
	}
	/* the segment must be the company's */
	{
		const char *p[4] = {"db@rules.example", acme_a, seg_b, researcher};

		expect_state("SP006", insert, 4, p);
	}
	/* an e-mail that is not lower-cased */
	{
		const char *p[4] = {"Db@Rules.example", acme_a, NULL, researcher};

		expect_state("23514", insert, 4, p);
	}
	create_ok(acme_a, "Db", "db-rule@rules.example", id);
	{
		const char *p[2] = {id, seg_b};

		expect_state("SP006", "UPDATE contacts SET segment_id = $2 WHERE id = $1", 2, p);
	}
	{
		const char *p[2] = {id, pending_co};

		expect_state("SP003", "UPDATE contacts SET company_id = $2 WHERE id = $1", 2, p);
	}
	/* one step at a time, forward only, never rejected */
	{
		const char *p[3] = {id, "assigned_to_sdr", sdr};
		const char *back[3] = {id, "uploaded", NULL};
		const char *rej[3] = {id, "rejected", NULL};
		const char *step =
		    "UPDATE contacts SET status = $2, assigned_sdr_id = $3 WHERE id = $1";

		expect_state("SP002", step, 3, p);
		expect_state("SP002", step, 3, rej);
		{
			const char *ok[3] = {id, "approved", NULL};

			itest_sql_ok(step, 3, ok);
		}
		expect_state("SP002", step, 3, back);
		{
			const char *skip[3] = {id, "meeting_scheduled", sdr};

			expect_state("SP002", step, 3, skip);
		}
	}
	assert_int_equal(
	    count("SELECT count(*) FROM contacts WHERE email = 'db@rules.example'", NULL), 0);
}

/* ------------------------------------------------------------------ create */

static void
test_create_normalises(void **state)
{
	const char *kv[] = {"first_name",
			    "  ada   ",
			    "last_name",
			    " Lovelace\t Byron ",
			    "email",
			    "  Ada.Lovelace@Example.COM ",
			    "email_2",
			    "ADA@Home.Example",
			    "job_title",
			    "Chief   Analyst",
			    "linkedin_url",
			    "LinkedIn.com/in/ada/",
			    "linkedin_summary",
			    "  First line  \r\n\r\n\r\nSecond line\r",
			    "mobile_phone",
			    "",
			    "segment_id",
			    seg_b, /* never read: not a field */
			    NULL};
	json_t *errors = json_object(), *c;
	char id[37];
	int err;
	(void)state;

	assert_int_equal(create(acme_a, kv, id, errors), CONTACTS_OK);
	c = contacts_get(db, id, &err);
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "first_name")), "ada");
	assert_string_equal(json_string_value(json_object_get(c, "last_name")), "Lovelace Byron");
	assert_string_equal(json_string_value(json_object_get(c, "email")),
			    "ada.lovelace@example.com");
	assert_string_equal(json_string_value(json_object_get(c, "email_2")), "ada@home.example");
	assert_string_equal(json_string_value(json_object_get(c, "job_title")), "Chief Analyst");
	assert_string_equal(json_string_value(json_object_get(c, "linkedin_url")),
			    "https://linkedin.com/in/ada");
	assert_string_equal(json_string_value(json_object_get(c, "linkedin_summary")),
			    "First line\n\nSecond line");
	assert_true(json_is_null(json_object_get(c, "mobile_phone")));
	/* the company's segment, whatever the caller sent */
	assert_string_equal(json_string_value(json_object_get(c, "segment_id")), seg_a);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "uploaded");
	assert_true(json_is_true(json_object_get(c, "uploaded")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "company"), "id")),
			    acme_a);
	assert_int_equal(json_array_size(json_object_get(c, "fields")), CONTACTS_NFIELDS);
	assert_int_equal(json_array_size(json_object_get(c, "history")), 1);
	json_decref(c);
	assert_int_equal(count("SELECT count(*) FROM audit_logs WHERE entity_type = 'contact' AND "
			       "entity_id = $1 AND action = 'create' AND "
			       "details->>'email' = 'ada.lovelace@example.com'",
			       id),
			 1);
	json_decref(errors);
}

static void
test_create_refusals(void **state)
{
	char long_name[202], long_title[502], id[37];
	const struct {
		const char *company;
		const char *column, *value;
		const char *error_column, *needle;
	} cases[] = {
	    {NULL, "email", "not-an-email", "email", NULL},
	    {NULL, "email", "", "email", "required"},
	    {NULL, "email_2", "two@@example.com", "email_2", NULL},
	    {NULL, "first_name", long_name, "first_name", NULL},
	    {NULL, "job_title", long_title, "job_title", NULL},
	    {NULL, "linkedin_url", "ftp://example.com/x", "linkedin_url", NULL},
	    {NULL, "first_name", "\xC3\x28", "first_name", NULL},
	    {"pending", NULL, NULL, "company_id", "pending approval"},
	    {"rejected", NULL, NULL, "company_id", "rejected"},
	    {"none", NULL, NULL, "company_id", NULL},
	};
	size_t i;
	long before;
	(void)state;

	memset(long_name, 'x', 201);
	long_name[201] = '\0';
	memset(long_title, 'y', 501);
	long_title[501] = '\0';
	before = count("SELECT count(*) FROM contacts", NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *kv[] = {"first_name",    "Refused",	     "last_name",
				    "Case",	     "email",	     "refused@example.com",
				    cases[i].column, cases[i].value, NULL};
		const char *company = !cases[i].company				 ? acme_a
				      : strcmp(cases[i].company, "pending") == 0 ? pending_co
				      : strcmp(cases[i].company, "rejected") == 0
					  ? rejected_co
					  : "00000000-0000-4000-8000-000000000000";
		json_t *errors = json_object();
		const char *msg;

		if (cases[i].column) { /* override the default of the same column */
			size_t k;

			for (k = 0; kv[k]; k += 2)
				if (strcmp(kv[k], cases[i].column) == 0 && k < 6) {
					kv[k + 1] = cases[i].value;
					kv[6] = NULL;
				}
		}
		assert_int_equal(create(company, kv, id, errors), CONTACTS_INVALID);
		msg = json_string_value(json_object_get(errors, cases[i].error_column));
		if (!msg)
			fail_msg("case %zu: no message on %s: %s", i, cases[i].error_column,
				 json_dumps(errors, 0));
		if (cases[i].needle && !strstr(msg, cases[i].needle))
			fail_msg("case %zu: “%s” lacks “%s”", i, msg, cases[i].needle);
		json_decref(errors);
	}
	assert_int_equal(count("SELECT count(*) FROM contacts", NULL), before);
}

/* ------------------------------------------------------------------ update */

static void
test_update_one_field(void **state)
{
	const char *kv[] = {"job_title", "  Head   of Data ", NULL};
	char *vals[CONTACTS_NFIELDS];
	int present[CONTACTS_NFIELDS];
	json_t *errors = json_object(), *c;
	char id[37];
	int err;
	(void)state;

	create_ok(acme_a, "Upd", "upd@update.example", id);
	assert_int_equal(contacts_clean(itest_pairs_get, (void *)kv, 1, vals, present, errors), 0);
	assert_int_equal(contacts_update(db, approver, id, NULL, vals, present, errors),
			 CONTACTS_OK);
	contacts_values_free(vals);
	c = contacts_get(db, id, &err);
	assert_string_equal(json_string_value(json_object_get(c, "job_title")), "Head of Data");
	assert_string_equal(json_string_value(json_object_get(c, "first_name")), "Upd");
	json_decref(c);
	assert_int_equal(count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = "
			       "'update' AND details->'changes' ? 'job_title' AND NOT "
			       "details->'changes' ? 'first_name' AND details->'changes'->"
			       "'job_title'->>'old' IS NULL",
			       id),
			 1);

	/* a move to a pending company is refused; to an approved one the segment follows */
	{
		const char *none[] = {NULL};

		contacts_clean(itest_pairs_get, (void *)none, 1, vals, present, errors);
		assert_int_equal(
		    contacts_update(db, approver, id, pending_co, vals, present, errors),
		    CONTACTS_INVALID);
		assert_non_null(
		    strstr(json_string_value(json_object_get(errors, "company_id")), "pending"));
		assert_int_equal(contacts_update(db, approver, id, acme_b, vals, present, errors),
				 CONTACTS_OK);
		contacts_values_free(vals);
	}
	assert_int_equal(count("SELECT count(*) FROM contacts k WHERE k.id = $1 AND "
			       "k.segment_id = (SELECT segment_id FROM companies WHERE id = "
			       "k.company_id)",
			       id),
			 1);
	c = contacts_get(db, id, &err);
	assert_string_equal(json_string_value(json_object_get(c, "segment_id")), seg_b);
	json_decref(c);
	json_decref(errors);
}

/* ------------------------------------------------------------------ list */

/* The ids of every page of f, in order, following next. */
static json_t *
all_pages(struct contacts_filter *f)
{
	json_t *ids = json_array();
	char *next = NULL;
	int pages = 0;

	do {
		json_t *rows, *row;
		size_t i;

		f->after = next;
		rows = contacts_list(db, f, &next);
		assert_non_null(rows);
		json_array_foreach(rows, i, row) json_array_append(ids, json_object_get(row, "id"));
		json_decref(rows);
		free((char *)f->after);
		assert_true(++pages < 1000);
	} while (next);
	f->after = NULL;
	return ids;
}

static size_t
list_count(struct contacts_filter f)
{
	json_t *ids = all_pages(&f);
	size_t n = json_array_size(ids);

	json_decref(ids);
	return n;
}

static void
test_list_filters(void **state)
{
	char ids[30][37], email[64], first[32], tagged[37];
	struct contacts_filter f;
	json_t *got;
	size_t i;
	(void)state;

	/* 30 contacts on the two Acmes, ten of them in one statement's time (ties) */
	for (i = 0; i < 30; i++) {
		snprintf(email, sizeof email, "list%zu-%s@list.example", i, run_id);
		snprintf(first, sizeof first, "Lister%zu", i);
		create_ok(i % 2 ? acme_b : acme_a, first, email, ids[i]);
	}
	{
		const char *p[1] = {run_id};

		itest_sql_ok(
		    "UPDATE contacts SET created_at = '2024-03-05 10:00:00+00' WHERE email "
		    "LIKE 'list1_-' || $1 || '@list.example'",
		    1, p);
	}
	snprintf(tagged, sizeof tagged, "%s", ids[7]);
	{
		const char *p[3] = {tagged, sdr, approver};

		itest_sql_ok(
		    "UPDATE contacts SET job_title = 'Quantum Wrangler', status = 'approved' "
		    "WHERE id = $1",
		    1, p);
		itest_sql_ok("UPDATE contacts SET status = 'assigned_to_sdr', assigned_sdr_id = $2 "
			     "WHERE id = $1",
			     2, p);
	}
	{
		const char *p[1] = {ids[8]};

		itest_sql_ok("UPDATE contacts SET is_duplicate = true WHERE id = $1", 1, p);
	}
	{
		const char *p[1] = {ids[10]};

		itest_sql_ok("UPDATE contacts SET is_active = false WHERE id = $1", 1, p);
	}

	memset(&f, 0, sizeof f);
	f.limit = 7;
	f.q = "@list.example";
	got = all_pages(&f);
	/* newest first, each once: 28 shown (one duplicate, one deactivated hidden) */
	assert_int_equal(json_array_size(got), 28);
	{
		json_t *seen = json_object();
		json_t *v;

		json_array_foreach(got, i, v)
		{
			assert_null(json_object_get(seen, json_string_value(v)));
			json_object_set_new(seen, json_string_value(v), json_true());
		}
		json_decref(seen);
	}
	json_decref(got);
	f.show_duplicates = 1;
	assert_int_equal(list_count(f), 29);
	f.show_inactive = 1;
	assert_int_equal(list_count(f), 30);
	f.show_duplicates = f.show_inactive = 0;

	/* the same company name in two segments: by segment and by company */
	f.segment_id = seg_a;
	assert_int_equal(list_count(f),
			 13); /* 15 even ones, less the duplicate and the deactivated */
	f.segment_id = NULL;
	f.company_id = acme_b;
	assert_int_equal(list_count(f), 15); /* the 15 odd ones */
	f.company_id = NULL;

	/* search: job title, company name, e-mail, first + last name */
	f.q = "quantum wrangler";
	assert_int_equal(list_count(f), 1);
	f.q = "Lister2 Tester";
	assert_int_equal(list_count(f), 1);
	f.q = "list29-";
	assert_int_equal(list_count(f), 1);
	f.q = "Acme Contacts";
	f.from = "2024-03-05";
	f.to = "2024-03-05";
	assert_int_equal(list_count(f), 9); /* list10..19, less the deactivated list10 */
	f.from = f.to = NULL;
	f.q = "@list.example";

	f.status = "assigned_to_sdr";
	assert_int_equal(list_count(f), 1);
	f.status = NULL;
	f.sdr_id = sdr;
	assert_int_equal(list_count(f), 1);
	f.sdr_id = NULL;
	f.created_by = approver;
	assert_int_equal(list_count(f), 0);
	f.created_by = researcher;
	assert_int_equal(list_count(f), 28);

	/* the checks a filter bar shows */
	f.status = "rejected";
	assert_non_null(contacts_filter_problem(&f));
	f.status = NULL;
	f.from = "2024-02-30";
	assert_non_null(contacts_filter_problem(&f));
	f.from = NULL;
	f.after = "2024-01-01T00:00:00.000000Z_not-a-uuid";
	assert_non_null(contacts_filter_problem(&f));
	f.after = NULL;
	assert_null(contacts_filter_problem(&f));
}

/* ------------------------------------------------------------------ approval */

static void
test_bulk_approve(void **state)
{
	char a[37], b[37], c[37];
	const char *ids[5];
	json_t *outcome = json_object(), *history;
	int err;
	(void)state;

	create_ok(acme_a, "Appr", "appr-a@approve.example", a);
	create_ok(acme_a, "Appr", "appr-b@approve.example", b);
	create_ok(acme_b, "Appr", "appr-c@approve.example", c);
	ids[0] = a;
	ids[1] = b;
	assert_int_equal(contacts_approve(db, approver2, ids, 1, outcome), CONTACTS_OK);
	json_object_clear(outcome);

	ids[2] = c;
	ids[3] = "00000000-0000-4000-8000-000000000001";
	ids[4] = "nonsense";
	assert_int_equal(contacts_approve(db, approver, ids, 5, outcome), CONTACTS_OK);
	assert_int_equal(json_integer_value(json_object_get(outcome, "approved")), 2);
	assert_int_equal(json_array_size(json_object_get(outcome, "already")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(outcome, "already"), 0), "id")),
			    a);
	assert_non_null(strstr(json_string_value(json_object_get(
				   json_array_get(json_object_get(outcome, "already"), 0), "by")),
			       "approver2"));
	assert_int_equal(json_array_size(json_object_get(outcome, "missing")), 2);
	assert_non_null(
	    strstr(json_string_value(json_object_get(outcome, "message")), "2 contacts approved"));
	json_decref(outcome);

	assert_int_equal(count("SELECT count(*) FROM audit_logs WHERE entity_type = 'contact' AND "
			       "action = 'approve' AND entity_id IN (SELECT id FROM contacts WHERE "
			       "email LIKE 'appr-_@approve.example')",
			       NULL),
			 3);
	assert_int_equal(count("SELECT count(*) FROM contacts WHERE email LIKE "
			       "'appr-_@approve.example' AND status = 'approved' AND "
			       "status_changed_at IS NOT NULL",
			       NULL),
			 3);
	history = contacts_history(db, a);
	assert_int_equal(json_array_size(history), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(history, 1), "status")), "approved");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(history, 1), "by")),
			       "approver2"));
	json_decref(history);

	/* nothing selected, or too many: a message, nothing done */
	outcome = json_object();
	assert_int_equal(contacts_approve(db, approver, ids, 0, outcome), CONTACTS_INVALID);
	assert_non_null(json_object_get(outcome, "message"));
	json_decref(outcome);
	{
		json_t *c2 = contacts_get(db, a, &err);

		assert_string_equal(json_string_value(json_object_get(c2, "status")), "approved");
		json_decref(c2);
	}
}

#define RACE_N 200

struct racer {
	const char *actor;
	const char **ids;
	size_t n;
	long approved;
	int rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	db_conn *own = db_connect(itest_conninfo());
	json_t *outcome = json_object();

	r->rc = own ? (int)contacts_approve(own, r->actor, r->ids, r->n, outcome) : -1;
	r->approved = json_integer_value(json_object_get(outcome, "approved"));
	json_decref(outcome);
	if (own)
		db_close(own);
	return NULL;
}

static void
test_concurrent_bulk_approve(void **state)
{
	static char ids[RACE_N][37];
	const char *one[RACE_N], *two[RACE_N];
	struct racer r1, r2;
	pthread_t t1, t2;
	char email[96];
	size_t i;
	(void)state;

	for (i = 0; i < RACE_N; i++) {
		snprintf(email, sizeof email, "race%zu-%s@race.example", i, run_id);
		create_ok(acme_a, "Racer", email, ids[i]);
		/* one takes all, in order; the other the same ids backwards */
		one[i] = ids[i];
		two[i] = ids[RACE_N - 1 - i];
	}
	r1 = (struct racer){approver, one, RACE_N, 0, 0};
	r2 = (struct racer){approver2, two, RACE_N, 0, 0};
	pthread_create(&t1, NULL, race, &r1);
	pthread_create(&t2, NULL, race, &r2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	/* both succeed: the rows are locked in one order, so they cannot deadlock */
	assert_int_equal(r1.rc, CONTACTS_OK);
	assert_int_equal(r2.rc, CONTACTS_OK);
	assert_int_equal(r1.approved + r2.approved, RACE_N);
	{
		const char *p[1] = {run_id};

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM contacts WHERE email LIKE 'race%-' || $1 "
				    "|| '@race.example' AND status = 'approved'",
				    1, p),
		    RACE_N);
		/* exactly one audit row per contact */
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM (SELECT a.entity_id FROM audit_logs a "
				    "JOIN contacts k ON k.id = a.entity_id WHERE a.action = "
				    "'approve' AND k.email LIKE 'race%-' || $1 || '@race.example' "
				    "GROUP BY a.entity_id HAVING count(*) = 1) x",
				    1, p),
		    RACE_N);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_database_refusals),
	    cmocka_unit_test(test_create_normalises),
	    cmocka_unit_test(test_create_refusals),
	    cmocka_unit_test(test_update_one_field),
	    cmocka_unit_test(test_list_filters),
	    cmocka_unit_test(test_bulk_approve),
	    cmocka_unit_test(test_concurrent_bulk_approve),
	};
	return cmocka_run_group_tests_name("contacts", tests, setup, teardown);
}

/*
 * Integration tests of duplicate detection (src/domain/dedup.c) and the
 * collateral rules (src/domain/collateral.c) against the real test database,
 * of "Run now" on two real servers at once, and of the collateral forms over
 * HTTP with the Big List of Naughty Strings in every field.
 *
 * The data is generated here, in segments of this run's own (run_id), with
 * explicit creation times so "the oldest" is known: names that differ only in
 * case or white space, websites that differ in scheme, www., trailing slash
 * or path, the same company in two segments, a three-member group, a record
 * edited out of its group, the same e-mail at two companies. A pass covers
 * the whole database, so other suites' rows are looked at too; the checks
 * read only this run's rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/db.h"
#include "domain/collateral.h"
#include "domain/dedup.h"
#include "domain/validate.h"
#include "itest.h"
#include "naughty.h"

#define ADMIN_EMAIL "admin%40example.com"
#define ADMIN_PASSWORD "test-admin-password"
#define BOUND 120 /* seconds: the generous limit for anything to happen */

static db_conn *db;
static PGconn *pg; /* for statements the database must refuse */
static char run_id[32];
static char user[37], seg_a[37], seg_b[37];

/* ------------------------------------------------------------------ helpers */

static void
make_id(char id[37], const char *sql, int n, const char *const *p)
{
	char *v = itest_sql_value(sql, n, p);

	assert_non_null(v);
	snprintf(id, 37, "%s", v);
	free(v);
}

static void
make_segment(char id[37], const char *name)
{
	char full[128];
	const char *p[2] = {full, user};

	snprintf(full, sizeof full, "%s %s", name, run_id);
	make_id(id, "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, p);
}

/* A company created `minutes` after a fixed moment, so the oldest of a group is known. */
static void
company(char id[37], const char *name, const char *website, const char *segment, int minutes)
{
	char full[160], m[16];
	const char *p[5] = {full, website, segment, user, m};

	snprintf(full, sizeof full, "%s %s", name, run_id);
	snprintf(m, sizeof m, "%d", minutes);
	make_id(id,
		"INSERT INTO companies (name, website, segment_id, status, created_by, created_at) "
		"VALUES ($1, $2, $3, 'approved', $4, timestamptz '2024-01-01 00:00Z' + $5::int * "
		"interval '1 minute') RETURNING id",
		5, p);
}

static void
contact(char id[37], const char *email, const char *company_id, int minutes)
{
	char m[16];
	const char *p[4] = {email, company_id, user, m};

	snprintf(m, sizeof m, "%d", minutes);
	make_id(id,
		"INSERT INTO contacts (first_name, last_name, email, company_id, created_by, "
		"created_at) VALUES ('Dee', 'Dupe', $1, $2, $3, timestamptz '2024-01-01 00:00Z' + "
		"$4::int * interval '1 minute') RETURNING id",
		4, p);
}

/* "t" and the original's id, or "f" and "": the record's duplicate state. */
static void
expect_state(const char *table, const char *id, int duplicate, const char *original)
{
	char sql[160];
	const char *p[1] = {id};
	char *flag, *of;

	snprintf(sql, sizeof sql, "SELECT is_duplicate::text FROM %s WHERE id = $1", table);
	flag = itest_sql_value(sql, 1, p);
	snprintf(sql, sizeof sql, "SELECT duplicate_of::text FROM %s WHERE id = $1", table);
	of = itest_sql_value(sql, 1, p);
	assert_non_null(flag);
	assert_string_equal(flag, duplicate ? "true" : "false");
	if (original)
		assert_string_equal(of ? of : "(null)", original);
	else
		assert_null(of);
	free(flag);
	free(of);
}

static void
run_pass(struct dedup_result *r)
{
	char why[256];

	assert_int_equal(dedup_execute(db, NULL, user, NULL, NULL, r, why, sizeof why), DEDUP_DONE);
	assert_int_equal(r->failures, 0);
}

/* ------------------------------------------------------------------ set-up */

static int
setup(void **state)
{
	const char *p[2];
	char email[128];

	(void)state;
	if (!itest_conninfo())
		return -1;
	db = db_connect(itest_conninfo());
	pg = itest_pg();
	if (!db || !pg)
		return -1;
	snprintf(run_id, sizeof run_id, "%d", (int)getpid());
	snprintf(email, sizeof email, "dedup-%s@dedup-test.example", run_id);
	p[0] = email;
	p[1] = "Dedup Tester";
	make_id(user, "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id", 2, p);
	make_segment(seg_a, "Dedup A");
	make_segment(seg_b, "Dedup B");
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

/* ------------------------------------------------------------------ companies */

static void
test_company_groups(void **state)
{
	char orig[37], ws[37], caps[37], path[37], seg2[37], other[37], nosite1[37], nosite2[37];
	char tie1[37], tie2[37];
	struct dedup_result r;
	const char *p[1] = {run_id};
	(void)state;

	/* one group of three: case and white space in the name; scheme, www., slash, path */
	company(orig, "Acme  Widgets", "https://www.acme-widgets.example/", seg_a, 0);
	company(ws, "acme widgets", "http://acme-widgets.example", seg_a, 5);
	company(caps, "ACME WIDGETS", "https://ACME-WIDGETS.example/products/list", seg_a, 9);
	/* the same company in another segment: an original of its own */
	company(seg2, "Acme Widgets", "https://acme-widgets.example", seg_b, 7);
	/* another host: not the same company */
	company(other, "Acme Widgets", "https://acme-widgets.org", seg_a, 3);
	company(path, "Bolt Co", "https://bolt.example/about/", seg_a, 2);
	/* no website on either: the same (name, no host, segment) */
	company(nosite1, "Nameonly Ltd", NULL, seg_a, 1);
	company(nosite2, "NAMEONLY LTD", NULL, seg_a, 4);
	/* created at the same moment: the smaller id is the original */
	company(tie1, "Tie Breaker", "https://tie.example", seg_a, 6);
	company(tie2, "Tie Breaker", "https://tie.example", seg_a, 6);

	run_pass(&r);
	expect_state("companies", orig, 0, NULL);
	expect_state("companies", ws, 1, orig);
	expect_state("companies", caps, 1, orig);
	expect_state("companies", seg2, 0, NULL);
	expect_state("companies", other, 0, NULL);
	expect_state("companies", path, 0, NULL);
	expect_state("companies", nosite1, 0, NULL);
	expect_state("companies", nosite2, 1, nosite1);
	if (strcmp(tie1, tie2) < 0) {
		expect_state("companies", tie1, 0, NULL);
		expect_state("companies", tie2, 1, tie1);
	} else {
		expect_state("companies", tie2, 0, NULL);
		expect_state("companies", tie1, 1, tie2);
	}
	assert_true(r.companies.checked >= 10);
	assert_true(r.companies.newly >= 4);
	/* each flag has its audit row, naming the original */
	{
		const char *q[1] = {ws};

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs WHERE entity_type = "
				    "'company' AND entity_id = $1 AND action = "
				    "'flag_duplicate' AND details->>'duplicate_of' LIKE "
				    "'Acme  Widgets%'",
				    1, q),
		    1);
	}
	/* a second pass changes nothing: no new audit rows, nothing new flagged */
	{
		long before = itest_sql_count(
		    "SELECT count(*) FROM audit_logs a JOIN companies c ON c.id = a.entity_id "
		    "WHERE a.action LIKE '%flag_duplicate' AND c.name LIKE '%' || $1",
		    1, p);
		struct dedup_result again;

		run_pass(&again);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs a JOIN companies c ON c.id = "
				    "a.entity_id WHERE a.action LIKE '%flag_duplicate' AND c.name "
				    "LIKE '%' || $1",
				    1, p),
		    before);
		expect_state("companies", caps, 1, orig);
	}

	/* edited out of the group: unflagged by the next run, the others stay */
	{
		const char *q[1] = {caps};

		itest_sql_ok("UPDATE companies SET website = 'https://caps-own-site.example' WHERE "
			     "id = $1",
			     1, q);
		run_pass(&r);
		expect_state("companies", caps, 0, NULL);
		expect_state("companies", ws, 1, orig);
		assert_true(r.companies.unflagged >= 1);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = $1 "
				    "AND action = 'unflag_duplicate'",
				    1, q),
		    1);
	}
	/* the original edited away: the next oldest becomes the original */
	{
		const char *q[1] = {orig};

		itest_sql_ok("UPDATE companies SET name = name || ' Renamed' WHERE id = $1", 1, q);
		run_pass(&r);
		expect_state("companies", orig, 0, NULL);
		expect_state("companies", ws, 0, NULL);
	}
	/* the run is recorded: who started it, counts, duration, done */
	{
		const char *q[1] = {r.run_id};

		assert_int_equal(
		    itest_sql_count(
			"SELECT count(*) FROM dedup_runs WHERE id = $1 AND status = 'done' "
			"AND trigger = 'manual' AND triggered_by IS NOT NULL AND "
			"duration_ms >= 0 AND finished_at IS NOT NULL AND "
			"companies_checked >= 10 AND companies_unflagged >= 1",
			1, q),
		    1);
	}
}

/* ------------------------------------------------------------------ contacts */

static void
test_contact_groups(void **state)
{
	char co1[37], co2[37], a1[37], a2[37], a3[37], b1[37], other[37];
	char e[128];
	struct dedup_result r;
	(void)state;

	company(co1, "Contact Home One", "https://contact-home-one.example", seg_a, 0);
	company(co2, "Contact Home Two", "https://contact-home-two.example", seg_a, 0);
	snprintf(e, sizeof e, "pat-%s@dupes.example", run_id);
	contact(a1, e, co1, 0);
	contact(a2, e, co1, 3);
	contact(a3, e, co1, 8);
	/* the same e-mail at another company: a different contact */
	contact(b1, e, co2, 1);
	snprintf(e, sizeof e, "someone-else-%s@dupes.example", run_id);
	contact(other, e, co1, 2);

	run_pass(&r);
	expect_state("contacts", a1, 0, NULL);
	expect_state("contacts", a2, 1, a1);
	expect_state("contacts", a3, 1, a1);
	expect_state("contacts", b1, 0, NULL);
	expect_state("contacts", other, 0, NULL);
	assert_true(r.contacts.checked >= 5);

	/* the page's view of both sides */
	{
		json_t *dup = dedup_related(db, "contact", a2);
		json_t *orig = dedup_related(db, "contact", a1);

		assert_non_null(dup);
		assert_non_null(orig);
		assert_true(json_is_true(json_object_get(dup, "is_duplicate")));
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(dup, "original"), "id")), a1);
		assert_int_equal(json_integer_value(json_object_get(orig, "count")), 2);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(orig, "duplicates"), 0), "href")) +
			strlen("/contacts/"),
		    a2);
		json_decref(dup);
		json_decref(orig);
	}
	/* moved to the other company: no longer in the group there, but now in co2's */
	{
		const char *q[2] = {a3, co2};

		itest_sql_ok("UPDATE contacts SET company_id = $2 WHERE id = $1", 2, q);
		run_pass(&r);
		expect_state("contacts", a3, 1, b1);
		expect_state("contacts", a2, 1, a1);
	}
}

/*
 * More changes than one batch writes (500): one group of 1,301 contacts, the
 * newest created first, so creation order is not insertion order. Every
 * member but the oldest is flagged, pointing to it, each with one audit
 * row; a second pass finds nothing to change. Then the oldest leaves the
 * group: every other member now points to the next oldest.
 */
static void
test_many_changes(void **state)
{
	char co[37], e[128], oldest[37], next[37];
	struct dedup_result r;
	const char *p[3] = {e, co, user};
	(void)state;

	company(co, "Crowded Inc", "https://crowded.example", seg_a, 0);
	snprintf(e, sizeof e, "same-%s@crowded.example", run_id);
	itest_sql_ok("INSERT INTO contacts (first_name, last_name, email, company_id, created_by, "
		     "created_at) SELECT 'Many', 'Times', $1, $2, $3, timestamptz '2024-01-01 "
		     "00:00Z' + (1301 - i) * interval '1 minute' FROM generate_series(1, 1301) i",
		     3, p);
	make_id(oldest, "SELECT id FROM contacts WHERE email = $1 ORDER BY created_at, id LIMIT 1",
		1, p);
	make_id(next,
		"SELECT id FROM contacts WHERE email = $1 ORDER BY created_at, id OFFSET 1 LIMIT 1",
		1, p);

	run_pass(&r);
	assert_true(r.contacts.newly >= 1300);
	{
		const char *q[2] = {e, oldest};

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM contacts WHERE email = $1 AND "
				    "is_duplicate AND duplicate_of = $2",
				    2, q),
		    1300);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs a JOIN contacts t "
				    "ON t.id = a.entity_id WHERE t.email = $1 AND "
				    "a.action = 'flag_duplicate' AND "
				    "a.details->>'original_id' = $2",
				    2, q),
		    1300);
	}
	expect_state("contacts", oldest, 0, NULL);

	run_pass(&r);
	assert_int_equal(r.contacts.newly, 0);
	assert_int_equal(r.contacts.unflagged, 0);

	{
		const char *q[1] = {oldest};
		const char *q2[2] = {e, next};

		itest_sql_ok("UPDATE contacts SET email = 'moved-' || email WHERE id = $1", 1, q);
		run_pass(&r);
		expect_state("contacts", oldest, 0, NULL);
		expect_state("contacts", next, 0, NULL);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM contacts WHERE email = $1 AND "
				    "is_duplicate AND duplicate_of = $2",
				    2, q2),
		    1299);
	}
}

/* ------------------------------------------------------------------ one at a time, imports */

struct pass_thread {
	enum dedup_outcome rc;
	struct dedup_result r;
	atomic_int done;
};

static void *
pass_main(void *arg)
{
	struct pass_thread *t = arg;
	db_conn *c = db_connect(itest_conninfo());
	char why[256];

	t->rc = c ? dedup_execute(c, NULL, NULL, NULL, NULL, &t->r, why, sizeof why) : DEDUP_FAILED;
	db_close(c);
	atomic_store(&t->done, 1);
	return NULL;
}

/* Two passes started together (two servers' jobs, say) run one after the other. */
static void
test_one_pass_at_a_time(void **state)
{
	struct pass_thread a = {0}, b = {0};
	pthread_t ta, tb;
	(void)state;

	pthread_create(&ta, NULL, pass_main, &a);
	pthread_create(&tb, NULL, pass_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, DEDUP_DONE);
	assert_int_equal(b.rc, DEDUP_DONE);
	{
		const char *p[2] = {a.r.run_id, b.r.run_id};

		/* the two runs' time spans do not overlap */
		assert_int_equal(
		    itest_sql_count(
			"SELECT count(*) FROM dedup_runs x, dedup_runs y WHERE x.id = $1 "
			"AND y.id = $2 AND (x.finished_at <= y.started_at OR "
			"y.finished_at <= x.started_at)",
			2, p),
		    1);
		assert_int_equal(itest_sql_count("SELECT count(*) FROM dedup_runs WHERE id IN ($1, "
						 "$2) AND trigger = 'schedule' AND status = 'done'",
						 2, p),
				 2);
	}
}

/*
 * An import is one long transaction that inserts rows (and, for contacts,
 * holds key-share locks on their companies). A pass must finish while it is
 * open, without waiting for it; its rows are judged by the next pass.
 */
static void
test_pass_during_import(void **state)
{
	char orig[37], co_orig[37], co[37], e[128], first[37];
	struct pass_thread t = {0};
	pthread_t th;
	PGconn *imp = PQconnectdb(itest_conninfo());
	PGresult *res;
	int i;
	(void)state;

	assert_int_equal(PQstatus(imp), CONNECTION_OK);
	company(orig, "Import Target", "https://import-target.example", seg_a, 0);
	/* co will be flagged (a duplicate of co_orig) while the import holds a lock on it */
	company(co_orig, "Import Contacts Home", "https://import-home.example", seg_b, -1);
	company(co, "Import Contacts Home", "https://import-home.example", seg_b, 0);
	snprintf(e, sizeof e, "imported-%s@dupes.example", run_id);
	contact(first, e, co, 0);

	PQclear(PQexec(imp, "BEGIN"));
	for (i = 0; i < 3; i++) {
		char name[128], minutes[16];
		const char *p[5] = {name, seg_a, user, minutes, NULL};

		snprintf(name, sizeof name, "import target %s", run_id);
		snprintf(minutes, sizeof minutes, "%d", 100 + i);
		res =
		    PQexecParams(imp,
				 "INSERT INTO companies (name, website, segment_id, created_by, "
				 "created_at) VALUES ($1, 'http://www.import-target.example/', $2, "
				 "$3, timestamptz '2024-01-01 00:00Z' + $4::int * interval '1 "
				 "minute')",
				 4, NULL, p, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
	}
	{
		const char *p[3] = {e, co, user};

		res =
		    PQexecParams(imp,
				 "INSERT INTO contacts (first_name, last_name, email, company_id, "
				 "created_by) VALUES ('Im', 'Ported', $1, $2, $3)",
				 3, NULL, p, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
	}

	/* the pass runs to its end while the import's transaction stays open */
	pthread_create(&th, NULL, pass_main, &t);
	for (i = 0; i < BOUND * 10 && !atomic_load(&t.done); i++)
		usleep(100 * 1000);
	assert_true(atomic_load(&t.done));
	pthread_join(th, NULL);
	assert_int_equal(t.rc, DEDUP_DONE);
	assert_int_equal(t.r.failures, 0);
	expect_state("companies", orig, 0, NULL);
	expect_state("companies", co, 1, co_orig);

	/* the import commits; the next pass flags its duplicates */
	res = PQexec(imp, "COMMIT");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(imp);
	{
		struct dedup_result r;
		const char *p[2] = {run_id, orig};

		run_pass(&r);
		assert_int_equal(itest_sql_count("SELECT count(*) FROM companies WHERE name = "
						 "'import target ' || $1 AND duplicate_of = $2",
						 2, p),
				 3);
	}
	{
		const char *p[2] = {e, first};

		assert_int_equal(itest_sql_count("SELECT count(*) FROM contacts WHERE email = $1 "
						 "AND duplicate_of = $2",
						 2, p),
				 1);
	}
}

/* ------------------------------------------------------------------ schedule */

static void
test_schedule(void **state)
{
	char err[200], *v;
	json_t *pv;
	(void)state;

	itest_sql_ok("DELETE FROM settings WHERE key = 'dedup_schedule'", 0, NULL);
	/* refused: nothing stored */
	assert_int_equal(dedup_schedule_set(db, user, "61 * * * *", "0 3 * * 0", err, sizeof err),
			 1);
	assert_non_null(strstr(err, "minute"));
	v = dedup_schedule_get(db, "0 3 * * 0");
	assert_string_equal(v, "0 3 * * 0");
	free(v);
	/* the database refuses what is not even shaped like a schedule */
	{
		PGresult *r = PQexec(pg, "INSERT INTO settings (key, value) VALUES "
					 "('dedup_schedule', 'every tuesday')");

		assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
		PQclear(r);
	}
	/* stored trimmed, with its audit row; the scheduler recomputes the next run */
	assert_int_equal(
	    dedup_schedule_set(db, user, "  30   2 * *   mon-fri ", "0 3 * * 0", err, sizeof err),
	    0);
	v = dedup_schedule_get(db, "0 3 * * 0");
	assert_string_equal(v, "30 2 * * mon-fri");
	free(v);
	assert_int_equal(
	    itest_sql_count("SELECT count(*) FROM job_schedules WHERE kind = 'dedup'", 0, NULL), 0);
	{
		const char *p[1] = {user};

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs WHERE actor_id = $1 AND "
				    "entity_type = 'dedup' AND action = 'update' AND "
				    "details->'changes'->'schedule'->>'new' = '30 2 * * mon-fri'",
				    1, p),
		    1);
	}
	assert_int_equal(dedup_schedule_set(db, user, "off", "0 3 * * 0", err, sizeof err), 0);
	v = dedup_schedule_get(db, "0 3 * * 0");
	assert_string_equal(v, "off");
	free(v);

	/* the preview in words: 2025-01-01 is a Wednesday */
	pv = dedup_schedule_preview("0 3 * * 0", (time_t)1735689600, 2);
	assert_true(json_is_true(json_object_get(pv, "valid")));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(pv, "runs"), 0), "text")),
			    "Sunday 5 January 2025, 03:00 UTC");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(pv, "runs"), 0), "in")),
			    "in 4 days");
	json_decref(pv);
	pv = dedup_schedule_preview("off", 0, 2);
	assert_true(json_is_true(json_object_get(pv, "off")));
	json_decref(pv);
}

/* ------------------------------------------------------------------ run now on two servers */

struct press {
	const char *base;
	char session[160], csrf[160];
	long status;
	char *location;
};

static void *
press_main(void *arg)
{
	struct press *pr = arg;
	struct itest_resp r;
	char url[256], cookie[256];
	buf body = BUF_INIT;
	const char *h[3] = {cookie, "Content-Type: application/x-www-form-urlencoded", NULL};

	snprintf(url, sizeof url, "%s/admin/dedup/run", pr->base);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", pr->session);
	buf_printf(&body, "csrf_token=%s", pr->csrf);
	if (itest_http("POST", url, h, body.data, body.len, &r) == 0) {
		pr->status = r.status;
		itest_resp_free(&r);
	}
	buf_free(&body);
	return NULL;
}

static void
test_run_now_two_servers(void **state)
{
	struct itest_server s1, s2;
	struct press a = {0}, b = {0};
	pthread_t ta, tb;
	char *since;
	int i;
	(void)state;

	/* the servers' job threads would also take other work: none is waiting now */
	assert_int_equal(itest_server_start(&s1, "dedup-1", NULL), 0);
	assert_int_equal(itest_server_start(&s2, "dedup-2", NULL), 0);
	since = itest_sql_value("SELECT now()::text", 0, NULL);
	a.base = s1.base_url;
	b.base = s2.base_url;
	itest_signed_in(a.base, ADMIN_EMAIL, ADMIN_PASSWORD, a.session, a.csrf);
	itest_signed_in(b.base, ADMIN_EMAIL, ADMIN_PASSWORD, b.session, b.csrf);
	pthread_create(&ta, NULL, press_main, &a);
	pthread_create(&tb, NULL, press_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.status, 303);
	assert_int_equal(b.status, 303);
	{
		const char *p[1] = {since};

		/* one job, one audit row, then one run */
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM jobs WHERE kind = 'dedup' AND "
				    "created_at >= $1::timestamptz",
				    1, p),
		    1);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs WHERE entity_type = "
				    "'dedup' AND action = 'run' AND created_at >= "
				    "$1::timestamptz",
				    1, p),
		    1);
		for (i = 0; i < BOUND * 10; i++) {
			if (itest_sql_count("SELECT count(*) FROM jobs WHERE kind = 'dedup' AND "
					    "created_at >= $1::timestamptz AND state = 'done'",
					    1, p) == 1)
				break;
			usleep(100 * 1000);
		}
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM dedup_runs r JOIN jobs j ON "
				    "j.id = r.job_id WHERE j.created_at >= "
				    "$1::timestamptz AND r.status = 'done' AND r.trigger "
				    "= 'manual'",
				    1, p),
		    1);
	}
	/* the page shows the finished run */
	{
		struct itest_resp r;
		char url[256], cookie[256];
		const char *h[2] = {cookie, NULL};

		snprintf(url, sizeof url, "%s/admin/dedup", a.base);
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", a.session);
		assert_int_equal(itest_http("GET", url, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body.data, "dedup-run-done"));
		assert_non_null(strstr(r.body.data, "Not running."));
		itest_resp_free(&r);
	}
	free(since);
	itest_server_stop(&s1);
	itest_server_stop(&s2);
}

/* ------------------------------------------------------------------ collateral */

static void
test_collateral_rules(void **state)
{
	char off[37], co[37], lead[37], other_lead[37], id_seg[37], id_off[37], id_lead[37];
	char ghost[37];
	struct collateral_input in;
	json_t *errors = json_object(), *links, *removed = NULL;
	char e[128];
	(void)state;

	{
		char name[128];
		const char *p[2] = {name, seg_a};

		snprintf(name, sizeof name, "Dedup Offering %s", run_id);
		make_id(off, "INSERT INTO offerings (name) VALUES ($1) RETURNING id", 1, p);
		p[0] = seg_a;
		p[1] = off;
		itest_sql_ok(
		    "INSERT INTO segment_offerings (segment_id, offering_id) VALUES ($1, $2)", 2,
		    p);
	}
	company(co, "Collateral Home", "https://collateral-home.example", seg_a, 0);
	snprintf(e, sizeof e, "lead-%s@collateral.example", run_id);
	contact(lead, e, co, 0);
	snprintf(e, sizeof e, "other-lead-%s@collateral.example", run_id);
	contact(other_lead, e, co, 0);

	/* refused: no title, a bad scheme, no scope */
	assert_true(collateral_clean("  ", "ftp://files.example/deck", NULL, "segment", NULL, &in,
				     errors) == 3);
	assert_non_null(json_object_get(errors, "title"));
	assert_non_null(json_object_get(errors, "url"));
	assert_non_null(json_object_get(errors, "scope_id"));
	collateral_input_free(&in);
	json_object_clear(errors);

	/* normalised like every URL */
	assert_int_equal(collateral_clean("  Segment   deck ", "Example.COM/Decks/Q1/", NULL,
					  "segment", seg_a, &in, errors),
			 0);
	assert_string_equal(in.title, "Segment deck");
	assert_string_equal(in.url, "https://example.com/Decks/Q1");
	assert_int_equal(collateral_create(db, user, &in, id_seg, errors), COLLATERAL_OK);
	collateral_input_free(&in);
	assert_int_equal(collateral_clean("Offering sheet", "https://example.com/offer", NULL,
					  "offering", off, &in, errors),
			 0);
	assert_int_equal(collateral_create(db, user, &in, id_off, errors), COLLATERAL_OK);
	collateral_input_free(&in);
	assert_int_equal(collateral_clean("Lead letter", "http://example.com/lead", NULL, "lead",
					  lead, &in, errors),
			 0);
	assert_int_equal(collateral_create(db, user, &in, id_lead, errors), COLLATERAL_OK);
	collateral_input_free(&in);
	/* a scope that does not exist */
	assert_int_equal(
	    collateral_clean("Ghost", "https://example.com/ghost", NULL, "lead", user, &in, errors),
	    0);
	assert_int_equal(collateral_create(db, user, &in, ghost, errors), COLLATERAL_INVALID);
	assert_non_null(json_object_get(errors, "scope_id"));
	collateral_input_free(&in);

	/* a contact sees its own, its segment's and its segment's offerings' links */
	links = collateral_for_contact(db, lead);
	assert_int_equal(json_array_size(json_object_get(links, "links")), 3);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(links, "links"), 0), "via")),
			    "This lead");
	json_decref(links);
	links = collateral_for_contact(db, other_lead);
	assert_int_equal(json_array_size(json_object_get(links, "links")), 2);
	json_decref(links);
	links = collateral_for_segment(db, seg_a);
	assert_int_equal(json_array_size(json_object_get(links, "links")), 1);
	assert_int_equal(json_array_size(json_object_get(
			     json_array_get(json_object_get(links, "offerings"), 0), "links")),
			 1);
	json_decref(links);

	/* removal: the only delete, and the audit row keeps title and URL */
	assert_int_equal(collateral_remove(db, user, id_off, &removed), COLLATERAL_OK);
	assert_string_equal(json_string_value(json_object_get(removed, "url")),
			    "https://example.com/offer");
	json_decref(removed);
	{
		const char *p[1] = {id_off};

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM marketing_collaterals WHERE id "
				    "= $1",
				    1, p),
		    0);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM audit_logs WHERE entity_id = "
				    "$1 AND action = 'remove' AND details->>'title' = "
				    "'Offering sheet' AND details->>'url' = "
				    "'https://example.com/offer'",
				    1, p),
		    1);
	}
	assert_int_equal(collateral_remove(db, user, id_off, NULL), COLLATERAL_NOT_FOUND);
	/* the database refuses a removal without its audit row */
	{
		const char *p[1] = {id_seg};
		PGresult *r = PQexecParams(pg, "DELETE FROM marketing_collaterals WHERE id = $1", 1,
					   NULL, p, NULL, NULL, 0);

		assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SP008");
		PQclear(r);
		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM marketing_collaterals WHERE id "
				    "= $1",
				    1, p),
		    1);
	}
	json_decref(errors);
}

/* ------------------------------------------------------------------ collateral over HTTP */

/* The collateral form's fields (SPEC.md §2: a title and a valid http(s) URL; a description). */
static const struct naughty_field lfields[] = {
    {"title", NAUGHTY_TEXT, 500, 1},
    {"url", NAUGHTY_URL, 2048, 1},
    {"description", NAUGHTY_LONG, 5000, 0},
};
#define LFIELDS (sizeof lfields / sizeof lfields[0])

/* The people and scopes the naughty strings are saved by and for. */
struct link_run {
	struct itest_server srv;
	char marketer[37], m_token[65], m_csrf[65]; /* collateral.manage */
	char reader[37], r_token[65], r_csrf[65];   /* an SDR: may read, not manage */
	const char *scope_type[3];
	char scope_id[3][37];
};

/* The newest link the marketer saved: its id (a 303 names the list it goes back to). */
static void
newest_link(const struct link_run *run, char id[37])
{
	const char *p[1] = {run->marketer};

	make_id(id,
		"SELECT id FROM marketing_collaterals WHERE created_by = $1 ORDER BY created_at "
		"DESC, id DESC LIMIT 1",
		1, p);
}

/* A link form: the scope, then each field's value (NULL: left out), then the closing NULL. */
static void
link_form(const struct link_run *run, int scope, const char *const vals[LFIELDS],
	  const char *form[2 * LFIELDS + 5])
{
	size_t f, n = 0;

	form[n++] = "scope_type";
	form[n++] = run->scope_type[scope];
	form[n++] = "scope_id";
	form[n++] = run->scope_id[scope];
	for (f = 0; f < LFIELDS; f++) {
		if (vals[f]) {
			form[n++] = lfields[f].column;
			form[n++] = vals[f];
		}
	}
	form[n] = NULL;
}

static void
link_check_json(const struct link_run *run, const char *id, const char *const want[LFIELDS],
		int idx)
{
	char path[128];
	struct itest_resp r;
	json_error_t err;
	json_t *vm;
	size_t f;

	snprintf(path, sizeof path, "/collateral/%s", id);
	itest_call(run->srv.base_url, run->m_token, run->m_csrf, "GET", path, NULL, ITEST_JSON, &r);
	assert_int_equal(r.status, 200);
	vm = json_loadb(r.body.data, r.body.len, 0, &err);
	if (!vm)
		fail_msg("GET %s: not JSON (%s)", path, err.text);
	for (f = 0; f < LFIELDS; f++)
		naughty_assert_json(json_object_get(vm, "link"), &lfields[f], want[f], idx);
	json_decref(vm);
	itest_resp_free(&r);
}

/* The marketer's form and a reader's page show the link escaped, never as markup. */
static void
link_check_pages(const struct link_run *run, const char *id, const char *const want[LFIELDS],
		 int idx)
{
	char path[128];
	struct itest_resp r;
	size_t f;

	snprintf(path, sizeof path, "/collateral/%s", id);
	itest_call(run->srv.base_url, run->m_token, run->m_csrf, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	for (f = 0; f < LFIELDS; f++)
		if (want[f])
			naughty_assert_in_form(r.body.data, &lfields[f], want[f], idx, path);
	itest_resp_free(&r);

	itest_call(run->srv.base_url, run->r_token, run->r_csrf, "GET", path, NULL, ITEST_HTML, &r);
	assert_int_equal(r.status, 200);
	naughty_assert_no_markup(r.body.data, idx, path);
	naughty_assert_shown(r.body.data, "<h1>", want[0], "</h1>", idx, path);
	naughty_assert_shown(r.body.data, "target=\"_blank\">", want[1], "</a>", idx, path);
	if (want[2])
		naughty_assert_shown(r.body.data, "<dd class=\"multiline\">", want[2], "</dd>", idx,
				     path);
	itest_resp_free(&r);
}

/* The scope's list searched for s: answers, shows no markup, finds the link by its title. */
static void
link_search(const struct link_run *run, int scope, const char *id, const char *s, int title_ok,
	    const char *title_val, int idx)
{
	char prefix[160], row[64];
	struct itest_resp r;

	snprintf(prefix, sizeof prefix,
		 "/collateral?scope_type=%s&scope_id=%s&q=", run->scope_type[scope],
		 run->scope_id[scope]);
	if (!naughty_search(run->srv.base_url, run->r_token, prefix, s, ITEST_HTML, idx, &r))
		return;
	/* s tidied is the title, or no search at all: the newest link of the scope */
	snprintf(row, sizeof row, "id=\"collateral-%s\"", id);
	if (!validate_search(s) && (title_ok || !title_val) && !strstr(r.body.data, row))
		fail_msg("naughty #%d: searching the collateral for it does not find it", idx);
	itest_resp_free(&r);
}

/* One string through a new link and an edit, in scope (a segment, an offering or a lead). */
static void
naughty_link(const struct link_run *run, const char *s, int idx)
{
	int scope = idx % 3, ok[LFIELDS], refused = 0;
	char *val[LFIELDS], plain_title[64], plain_url[64], fallback_title[64], fallback_url[64];
	char id[37], plain[37], path[128];
	const char *want[LFIELDS], *plain_want[LFIELDS], *send[LFIELDS], *form[2 * LFIELDS + 5];
	struct itest_resp r;
	size_t f;

	snprintf(plain_title, sizeof plain_title, "Plain %s %d", run_id, idx);
	snprintf(plain_url, sizeof plain_url, "https://plain.example/%s/%d", run_id, idx);
	snprintf(fallback_title, sizeof fallback_title, "Naughty %d", idx);
	snprintf(fallback_url, sizeof fallback_url, "https://naughty.example/%d", idx);
	for (f = 0; f < LFIELDS; f++) {
		ok[f] = naughty_expect(&lfields[f], s, &val[f]);
		refused += !ok[f];
		want[f] = ok[f] ? val[f] : NULL;
	}
	want[0] = ok[0] ? want[0] : fallback_title;
	want[1] = ok[1] ? want[1] : fallback_url;

	/* 1. a plain link, to edit below */
	plain_want[0] = plain_title;
	plain_want[1] = plain_url;
	plain_want[2] = NULL;
	link_form(run, scope, plain_want, form);
	itest_call(run->srv.base_url, run->m_token, run->m_csrf, "POST", "/collateral", form,
		   ITEST_HTML, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);
	newest_link(run, plain);

	/* 2. a new link with s in every field that takes it */
	for (f = 0; f < LFIELDS; f++)
		send[f] = ok[f] ? s : want[f];
	link_form(run, scope, send, form);
	itest_call(run->srv.base_url, run->m_token, run->m_csrf, "POST", "/collateral", form,
		   ITEST_HTML, &r);
	if (r.status != 303)
		fail_msg("naughty #%d: a new link answered %ld:\n%.1500s", idx, r.status,
			 r.body.data ? r.body.data : "");
	itest_resp_free(&r);
	newest_link(run, id);
	link_check_json(run, id, want, idx);
	link_check_pages(run, id, want, idx);
	link_search(run, scope, id, s, ok[0], val[0], idx);

	/* 3. the plain link edited: s in every field that takes it, the others as they were */
	for (f = 0; f < LFIELDS; f++) {
		send[f] = ok[f] ? s : plain_want[f];
		plain_want[f] = ok[f] ? val[f] : plain_want[f];
	}
	link_form(run, scope, send, form);
	snprintf(path, sizeof path, "/collateral/%s", plain);
	itest_call(run->srv.base_url, run->m_token, run->m_csrf, "POST", path, form, ITEST_HTML,
		   &r);
	if (r.status != 303)
		fail_msg("naughty #%d: an edit answered %ld:\n%.1500s", idx, r.status,
			 r.body.data ? r.body.data : "");
	itest_resp_free(&r);
	link_check_json(run, plain, plain_want, idx);

	/* 4. where the rules refuse s: refused on exactly those fields, nothing changes */
	if (refused) {
		json_t *vm;

		for (f = 0; f < LFIELDS; f++)
			send[f] = ok[f] ? want[f] : s;
		link_form(run, scope, send, form);
		snprintf(path, sizeof path, "/collateral/%s", id);
		itest_call(run->srv.base_url, run->m_token, run->m_csrf, "POST", path, form,
			   ITEST_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: an edit with refused values answered %ld", idx,
				 r.status);
		vm = json_loadb(r.body.data, r.body.len, 0, NULL);
		assert_non_null(vm);
		for (f = 0; f < LFIELDS; f++)
			if (ok[f] == json_is_string(json_object_get(json_object_get(vm, "errors"),
								    lfields[f].column)))
				fail_msg("naughty #%d: %s: want %s", idx, lfields[f].column,
					 ok[f] ? "no error" : "an error message");
		json_decref(vm);
		itest_resp_free(&r);
		link_check_json(run, id, want, idx);
		itest_call(run->srv.base_url, run->m_token, run->m_csrf, "POST", "/collateral",
			   form, ITEST_JSON, &r);
		if (r.status != 422)
			fail_msg("naughty #%d: a new link with refused values answered %ld", idx,
				 r.status);
		itest_resp_free(&r);
	}
	for (f = 0; f < LFIELDS; f++)
		free(val[f]);
}

/*
 * The Big List of Naughty Strings through the collateral form, a new link
 * and an edit, in turn for a segment, an offering and a lead: stored as the
 * SPEC's normalisation says or refused field by field with nothing changed;
 * the form, a reader's page, the list searched for it, the scopes' pages and
 * the JSON view give it back intact and escaped, never as markup.
 */
static void
test_collateral_naughty_strings(void **state)
{
	struct link_run run;
	char label[64], co[37], name[96], email[96];
	const char *p[2] = {name, user};
	json_t *list = naughty_load(), *s;
	size_t i;
	int k;

	(void)state;
	memset(&run, 0, sizeof run);
	snprintf(label, sizeof label, "links marketer %s", run_id);
	itest_user_session(label, "Marketing", run.marketer, run.m_token, run.m_csrf);
	snprintf(label, sizeof label, "links reader %s", run_id);
	itest_user_session(label, "SDR", run.reader, run.r_token, run.r_csrf);
	run.scope_type[0] = "segment";
	snprintf(run.scope_id[0], 37, "%s", seg_a);
	run.scope_type[1] = "offering";
	snprintf(name, sizeof name, "Naughty offering %s", run_id);
	make_id(run.scope_id[1],
		"INSERT INTO offerings (name, created_by) VALUES ($1, $2) RETURNING id", 2, p);
	run.scope_type[2] = "lead";
	company(co, "Naughty Lead Co", "https://naughty-lead.example", seg_a, 0);
	snprintf(email, sizeof email, "lead-%s@naughty-lead.example", run_id);
	contact(run.scope_id[2], email, co, 0);
	assert_int_equal(itest_server_start(&run.srv, "dedup-collateral", NULL), 0);

	json_array_foreach(list, i, s) naughty_link(&run, json_string_value(s), (int)i);
	print_message("%zu naughty strings through %zu collateral fields, new and edited\n",
		      json_array_size(list), LFIELDS);

	/* the scopes' pages list every link of theirs escaped */
	for (k = 0; k < 3; k++) {
		static const char *const page[3] = {"/segments/", "/offerings/", "/contacts/"};
		struct itest_resp r;
		char path[128];

		snprintf(path, sizeof path, "%s%s", page[k], run.scope_id[k]);
		itest_call(run.srv.base_url, run.r_token, run.r_csrf, "GET", path, NULL, ITEST_HTML,
			   &r);
		assert_int_equal(r.status, 200);
		naughty_assert_no_markup(r.body.data, -1, path);
		assert_non_null(strstr(r.body.data, "collateral-link"));
		itest_resp_free(&r);
	}
	/* two links a string, no more: no refused save slipped in */
	p[0] = run.marketer;
	assert_int_equal(itest_sql_count("SELECT count(*) FROM marketing_collaterals WHERE "
					 "created_by = $1",
					 1, p),
			 2 * (long)json_array_size(list));
	itest_server_stop(&run.srv);
	json_decref(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_company_groups),
	    cmocka_unit_test(test_contact_groups),
	    cmocka_unit_test(test_many_changes),
	    cmocka_unit_test(test_one_pass_at_a_time),
	    cmocka_unit_test(test_pass_during_import),
	    cmocka_unit_test(test_schedule),
	    cmocka_unit_test(test_run_now_two_servers),
	    cmocka_unit_test(test_collateral_rules),
	    cmocka_unit_test(test_collateral_naughty_strings),
	};
	return cmocka_run_group_tests_name("dedup", tests, setup, teardown);
}

/*
 * Assignments, the SDR hand-off and meetings (issue 11, SPEC.md §2
 * "Assignments", §1 grants): the rules in the database whatever writes,
 * through the domain module, and over HTTP against a real kore for every role.
 *
 * What it proves:
 *  - the database refuses: a company given to an SDR (wrong role for the
 *    kind), a segment given "as Researcher" to someone who is only an SDR
 *    (the role-held rule), a pending company and an uploaded contact (only
 *    approved ones), an assigner without the grant for each of the four
 *    kinds, the same active pair twice, a contact's SDR who is not one, a
 *    skipped status step, and a meeting scheduled by an SDR for someone
 *    else's contact;
 *  - assigning then unassigning keeps the row (is_active false, who and
 *    when) with an audit row each; assigning again re-activates the same row;
 *  - the hand-off: an approved contact given to an SDR is assigned_to_sdr
 *    with that SDR in the same statement, audited with the status; a second
 *    SDR takes it over (the first one's assignment ends); the contact's
 *    current SDR cannot be just unassigned; scheduling: the own SDR can, once,
 *    another SDR cannot, an Approver can for any, and a contact not handed to
 *    an SDR yet cannot skip the step;
 *  - two connections assigning the same pair at the same moment: exactly one
 *    wins, the other is told it is already assigned, one row, one audit row;
 *    two hand-offs of one contact to two SDRs at once end with one active
 *    assignment that matches the contact's SDR;
 *  - over HTTP, for every role and each of the four kinds: 201 for the roles
 *    whose grants allow it, 403 naming the permission for the others; the
 *    role-held rule (422), a pending company (422) and a duplicate (409)
 *    refused with the reason; scheduling another SDR's contact is 403, the
 *    own one a 303 back home; a bulk hand-off reports each contact;
 *  - the home page shows each role its section; /workbench the researcher's
 *    segment and the company awaiting contacts; the companies list filters
 *    by the assigned researcher.
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
#include "domain/assignments.h"
#include "itest.h"

enum { ADMIN, OWNER, RESEARCHER, APPROVER, SDR, MARKETING, SDR2, NUSERS };
static const char *const role_of[NUSERS] = {"Admin", "Segment Owner", "Researcher", "Approver",
					    "SDR",   "Marketing",     "SDR"};

static struct itest_server srv;
static db_conn *db;
static PGconn *pg;
static char run_id[32];
static char users[NUSERS][37];
static char segment[37], approved_co[37], pending_co[37];
static int serial;

/* ------------------------------------------------------------------ helpers */

/* A contact of the approved company with this status (an SDR's when past approval). */
static void
make_contact(char id[37], const char *status, const char *sdr)
{
	char email[128];
	const char *p[5] = {email, approved_co, status, sdr, users[RESEARCHER]};
	char *v;

	snprintf(email, sizeof email, "contact%d-%s@assign-test.example", ++serial, run_id);
	v = itest_sql_value("INSERT INTO contacts (first_name, last_name, email, company_id, "
			    "status, assigned_sdr_id, created_by) VALUES ('Casey', 'Contact', $1, "
			    "$2, $3, $4, $5) RETURNING id",
			    5, p);
	snprintf(id, 37, "%s", v);
	free(v);
}

/* The SQLSTATE a statement fails with ("" when it succeeds). */
static void
expect_state(const char *state, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	const char *got = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (*state ? !got || strcmp(got, state) != 0 : got != NULL)
		fail_msg("%s: expected SQLSTATE %s, got %s (%s)", sql, state, got ? got : "success",
			 PQresultErrorMessage(r));
	PQclear(r);
}

#define ASSIGN_SQL                                                                                 \
	"SELECT * FROM assignment_assign($1, $2, $3, $4, (SELECT id FROM roles WHERE name = $5))"

static void
assign_state(const char *state, const char *actor, const char *type, const char *entity,
	     const char *user, const char *role)
{
	const char *p[5] = {actor, type, entity, user, role};

	expect_state(state, ASSIGN_SQL, 5, p);
}

static long
count1(const char *sql, const char *a)
{
	const char *p[1] = {a};

	return itest_sql_count(sql, 1, p);
}

static void
end_all(const char *entity)
{
	const char *p[1] = {entity};

	itest_sql_ok("UPDATE assignments SET is_active = false WHERE entity_id = $1 AND is_active",
		     1, p);
}

/* ------------------------------------------------------------------ set-up */

static int
setup(void **state)
{
	const char *env[] = {NULL};
	int i;

	(void)state;
	if (!itest_conninfo())
		return -1;
	db = db_connect(itest_conninfo());
	pg = itest_pg();
	if (!db || !pg)
		return -1;
	snprintf(run_id, sizeof run_id, "%d", (int)getpid());
	for (i = 0; i < NUSERS; i++) {
		char who[32];

		snprintf(who, sizeof who, "u%d", i);
		itest_user(users[i], who, role_of[i]);
	}
	{
		char name[64];
		const char *p[2] = {name, users[OWNER]};
		char *v;

		snprintf(name, sizeof name, "Assign segment %s", run_id);
		v = itest_sql_value(
		    "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, p);
		snprintf(segment, sizeof segment, "%s", v);
		free(v);
	}
	itest_company(approved_co, "Assign Approved Co", segment, "approved", users[RESEARCHER]);
	itest_company(pending_co, "Assign Pending Co", segment, "pending", users[RESEARCHER]);
	return itest_server_start(&srv, "assignments", env);
}

static int
teardown(void **state)
{
	(void)state;
	db_close(db);
	PQfinish(pg);
	return itest_server_stop(&srv) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ the database */

static void
test_database_refusals(void **state)
{
	char uploaded[37], approved[37], handed[37];
	const char *insert = "INSERT INTO assignments (entity_type, entity_id, assigned_to, "
			     "assigned_by) VALUES ($1, $2, $3, $4)";
	(void)state;

	make_contact(uploaded, "uploaded", NULL);
	make_contact(approved, "approved", NULL);
	make_contact(handed, "assigned_to_sdr", users[SDR]);

	/* the kind: a company goes to a Researcher, never to an SDR */
	assign_state("SPA01", users[APPROVER], "company", approved_co, users[SDR], "SDR");
	/* the role held: an SDR is no Researcher; nor are they one by inference */
	assign_state("SPA02", users[OWNER], "segment", segment, users[SDR], "Researcher");
	assign_state("SPA02", users[APPROVER], "company", approved_co, users[SDR], NULL);
	assign_state("SPA02", users[APPROVER], "contact", approved, users[RESEARCHER], NULL);
	/* approved only */
	assign_state("SPA03", users[APPROVER], "company", pending_co, users[RESEARCHER], NULL);
	assign_state("SPA03", users[APPROVER], "contact", uploaded, users[SDR], NULL);
	/* the grants, one per kind: the assigner must hold it */
	assign_state("SPA04", users[RESEARCHER], "segment", segment, users[RESEARCHER],
		     "Researcher");
	assign_state("SPA04", users[APPROVER], "segment", segment, users[SDR], "SDR");
	assign_state("SPA04", users[OWNER], "company", approved_co, users[RESEARCHER], NULL);
	assign_state("SPA04", users[OWNER], "contact", approved, users[SDR], NULL);
	/* a plain INSERT meets the same rules as the function */
	{
		const char *p[4] = {"company", pending_co, users[RESEARCHER], users[APPROVER]};

		expect_state("SPA03", insert, 4, p);
	}
	/* the same pair once: the unique key, and the function says so in words */
	assign_state("", users[OWNER], "segment", segment, users[RESEARCHER], "Researcher");
	{
		const char *p[4] = {"segment", segment, users[RESEARCHER], users[OWNER]};
		const char *q[5] = {users[OWNER], "segment", segment, users[RESEARCHER], NULL};
		PGresult *r;

		expect_state("23505", insert, 4, p);
		r = PQexecParams(pg, ASSIGN_SQL, 5, NULL, q, NULL, NULL, 0);
		assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SPA07");
		assert_non_null(strstr(PQresultErrorMessage(r), "already assigned"));
		PQclear(r);
	}
	end_all(segment);
	/* a contact's SDR holds the SDR role */
	{
		const char *p[2] = {handed, users[RESEARCHER]};

		expect_state("SPA02", "UPDATE contacts SET assigned_sdr_id = $2 WHERE id = $1", 2,
			     p);
	}
	/* one step at a time, and only the own SDR (or Admin, Approver) schedules */
	{
		const char *p[2] = {uploaded, users[SDR]};

		expect_state("SP002",
			     "UPDATE contacts SET status = 'assigned_to_sdr', assigned_sdr_id = $2 "
			     "WHERE id = $1",
			     2, p);
		p[0] = handed;
		p[1] = users[SDR2];
		expect_state(
		    "SPA06",
		    "UPDATE contacts SET status = 'meeting_scheduled', status_changed_by = "
		    "$2 WHERE id = $1",
		    2, p);
		p[1] = users[RESEARCHER];
		expect_state(
		    "SPA06",
		    "UPDATE contacts SET status = 'meeting_scheduled', status_changed_by = "
		    "$2 WHERE id = $1",
		    2, p);
	}
	/* nothing of the above changed the contacts */
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'uploaded'",
				uploaded),
			 1);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'assigned_to_sdr'",
				handed),
			 1);
}

/* ------------------------------------------------------------------ the domain */

static void
test_assign_unassign_audited(void **state)
{
	struct assignment_input in = {"segment", segment, users[RESEARCHER], NULL};
	json_t *out = json_object(), *of;
	char msg[512], id[37];
	(void)state;

	assert_int_equal(assignments_assign(db, users[APPROVER], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	assert_string_equal(json_string_value(json_object_get(out, "role")), "Researcher");
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(out, "id")));
	assert_non_null(strstr(msg, "Researcher"));
	/* who is on it, and the researcher is no longer offered */
	of = assignments_of(db, "segment", segment);
	assert_non_null(of);
	assert_int_equal(json_array_size(json_object_get(of, "people")), 1);
	{
		size_t i;
		json_t *c;

		json_array_foreach(json_object_get(of, "researchers"), i, c)
		    assert_string_not_equal(json_string_value(json_object_get(c, "id")),
					    users[RESEARCHER]);
	}
	json_decref(of);
	{
		const char *p[3] = {segment, id, users[APPROVER]};

		assert_int_equal(itest_sql_count("SELECT count(*) FROM audit_logs WHERE entity_id "
						 "= $1 AND action = 'assign' AND "
						 "details->>'assignment_id' = $2 AND actor_id = $3",
						 3, p),
				 1);
	}

	/* unassign: the row stays, says who and when, and is audited */
	assert_int_equal(assignments_unassign(db, users[OWNER], id, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	{
		const char *p[2] = {id, users[OWNER]};

		assert_int_equal(itest_sql_count("SELECT count(*) FROM assignments WHERE id = $1 "
						 "AND NOT is_active AND unassigned_by = $2 AND "
						 "unassigned_at IS NOT NULL",
						 2, p),
				 1);
		assert_int_equal(itest_sql_count("SELECT count(*) FROM audit_logs WHERE action = "
						 "'unassign' AND actor_id = $2 AND "
						 "details->>'assignment_id' = $1",
						 2, p),
				 1);
	}
	assert_int_equal(assignments_unassign(db, users[OWNER], id, out, msg, sizeof msg),
			 ASSIGNMENTS_CONFLICT);
	assert_non_null(strstr(msg, "already unassigned"));
	/* an SDR may not unassign: the grant is checked there too */
	assert_int_equal(assignments_assign(db, users[OWNER], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	assert_string_equal(json_string_value(json_object_get(out, "id")), id); /* same row */
	assert_int_equal(assignments_unassign(db, users[SDR], id, out, msg, sizeof msg),
			 ASSIGNMENTS_FORBIDDEN);
	assert_non_null(strstr(msg, "segments.assign_researcher"));
	/* several people per entity */
	in.assigned_to = users[APPROVER];
	assert_int_equal(assignments_assign(db, users[OWNER], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	assert_string_equal(json_string_value(json_object_get(out, "role")), "Approver");
	assert_int_equal(count1("SELECT count(*) FROM assignments WHERE entity_id = $1 AND "
				"is_active",
				segment),
			 2);
	json_decref(out);
	end_all(segment);
}

static void
test_hand_off_and_meeting(void **state)
{
	char k[37], fresh[37], msg[512];
	struct assignment_input in = {"contact", k, users[SDR], NULL};
	json_t *out = json_object();
	const char *p[2] = {k, users[SDR]};
	(void)state;

	make_contact(k, "approved", NULL);
	make_contact(fresh, "approved", NULL);
	assert_int_equal(assignments_assign(db, users[APPROVER], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	assert_string_equal(json_string_value(json_object_get(out, "contact_status")),
			    "assigned_to_sdr");
	assert_int_equal(itest_sql_count("SELECT count(*) FROM contacts WHERE id = $1 AND status "
					 "= 'assigned_to_sdr' AND assigned_sdr_id = $2",
					 2, p),
			 1);
	assert_int_equal(count1("SELECT count(*) FROM audit_logs WHERE entity_type = 'contact' "
				"AND entity_id = $1 AND action = 'assign' AND details->>'status' = "
				"'assigned_to_sdr'",
				k),
			 1);
	/* the current SDR stays until someone else takes over */
	{
		char *aid =
		    itest_sql_value("SELECT id FROM assignments WHERE entity_id = $1", 1, p);

		assert_int_equal(
		    assignments_unassign(db, users[APPROVER], aid, out, msg, sizeof msg),
		    ASSIGNMENTS_REFUSED);
		assert_non_null(strstr(msg, "never goes back"));
		free(aid);
	}
	/* another SDR may not schedule it; the own one can, once */
	assert_int_equal(assignments_schedule(db, users[SDR2], k, msg, sizeof msg),
			 ASSIGNMENTS_FORBIDDEN);
	assert_non_null(strstr(msg, "own contacts"));
	/* a hand-over: the second SDR takes it, the first one's assignment ends */
	in.assigned_to = users[SDR2];
	assert_int_equal(assignments_assign(db, users[APPROVER], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	p[1] = users[SDR2];
	assert_int_equal(itest_sql_count("SELECT count(*) FROM contacts WHERE id = $1 AND "
					 "assigned_sdr_id = $2",
					 2, p),
			 1);
	assert_int_equal(itest_sql_count("SELECT count(*) FROM assignments WHERE entity_id = $1 "
					 "AND is_active AND assigned_to = $2",
					 2, p),
			 1);
	assert_int_equal(count1("SELECT count(*) FROM assignments WHERE entity_id = $1 AND "
				"is_active",
				k),
			 1);
	assert_int_equal(assignments_schedule(db, users[SDR], k, msg, sizeof msg),
			 ASSIGNMENTS_FORBIDDEN);
	assert_int_equal(assignments_schedule(db, users[SDR2], k, msg, sizeof msg), ASSIGNMENTS_OK);
	assert_int_equal(count1("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action "
				"= 'schedule_meeting'",
				k),
			 1);
	assert_int_equal(assignments_schedule(db, users[SDR2], k, msg, sizeof msg),
			 ASSIGNMENTS_CONFLICT);
	assert_non_null(strstr(msg, "already scheduled"));
	/* the step is not skipped: approved, not handed to an SDR yet */
	assert_int_equal(assignments_schedule(db, users[APPROVER], fresh, msg, sizeof msg),
			 ASSIGNMENTS_REFUSED);
	assert_non_null(strstr(msg, "assign an SDR"));
	/* an Approver schedules for any contact */
	in.entity_id = fresh;
	in.assigned_to = users[SDR];
	assert_int_equal(assignments_assign(db, users[ADMIN], &in, out, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	assert_int_equal(assignments_schedule(db, users[APPROVER], fresh, msg, sizeof msg),
			 ASSIGNMENTS_OK);
	json_decref(out);
}

/* ------------------------------------------------------------------ concurrency */

struct racer {
	const char *actor;
	struct assignment_input in;
	pthread_barrier_t *start;
	enum assignments_result r;
};

static void *
race(void *arg)
{
	struct racer *x = arg;
	db_conn *c = db_connect(itest_conninfo());
	json_t *out = json_object();
	char msg[512];

	pthread_barrier_wait(x->start);
	x->r = c ? assignments_assign(c, x->actor, &x->in, out, msg, sizeof msg)
		 : ASSIGNMENTS_DB_ERROR;
	json_decref(out);
	db_close(c);
	return NULL;
}

static void
run_race(struct racer *a, struct racer *b)
{
	pthread_barrier_t start;
	pthread_t ta, tb;

	pthread_barrier_init(&start, NULL, 2);
	a->start = b->start = &start;
	pthread_create(&ta, NULL, race, a);
	pthread_create(&tb, NULL, race, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&start);
}

static void
test_concurrent_double_assignment(void **state)
{
	const char *who[2] = {segment, users[RESEARCHER]};
	const char *audited = "SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = "
			      "'assign' AND details->>'user_id' = $2";
	long before = itest_sql_count(audited, 2, who);
	char k[37];
	int round;
	(void)state;

	for (round = 0; round < 5; round++) {
		struct racer a = {users[OWNER],
				  {"segment", segment, users[RESEARCHER], NULL},
				  NULL,
				  ASSIGNMENTS_DB_ERROR};
		struct racer b = {users[APPROVER],
				  {"segment", segment, users[RESEARCHER], NULL},
				  NULL,
				  ASSIGNMENTS_DB_ERROR};
		const char *p[2] = {segment, users[RESEARCHER]};

		run_race(&a, &b);
		assert_true((a.r == ASSIGNMENTS_OK && b.r == ASSIGNMENTS_CONFLICT) ||
			    (a.r == ASSIGNMENTS_CONFLICT && b.r == ASSIGNMENTS_OK));
		assert_int_equal(itest_sql_count("SELECT count(*) FROM assignments WHERE "
						 "entity_id = $1 AND assigned_to = $2",
						 2, p),
				 1);
		end_all(segment);
	}
	/* one audit row per race: the loser wrote nothing */
	assert_int_equal(itest_sql_count(audited, 2, who), before + 5);
	/* two hand-offs of one contact at once: one SDR ends up with it, and its assignment */
	for (round = 0; round < 5; round++) {
		struct racer a = {
		    users[APPROVER], {"contact", k, users[SDR], NULL}, NULL, ASSIGNMENTS_DB_ERROR};
		struct racer b = {
		    users[ADMIN], {"contact", k, users[SDR2], NULL}, NULL, ASSIGNMENTS_DB_ERROR};

		make_contact(k, "approved", NULL);
		run_race(&a, &b);
		assert_int_equal(a.r, ASSIGNMENTS_OK);
		assert_int_equal(b.r, ASSIGNMENTS_OK);
		assert_int_equal(
		    count1("SELECT count(*) FROM assignments a JOIN contacts c ON c.id "
			   "= a.entity_id AND c.assigned_sdr_id = a.assigned_to WHERE "
			   "a.entity_id = $1 AND a.is_active",
			   k),
		    1);
		assert_int_equal(count1("SELECT count(*) FROM assignments WHERE entity_id = $1 AND "
					"is_active",
					k),
				 1);
	}
}

/* ------------------------------------------------------------------ HTTP */

struct http_answer {
	long status;
	char *body;
	char *location;
};

static void
post_as(int who, const char *path, const char *body, int json, struct http_answer *a)
{
	char token[65], csrf[65], cookie[160], url[256];
	const char *headers[] = {cookie, "Content-Type: application/x-www-form-urlencoded",
				 json ? "Accept: application/json" : "Accept: text/html", NULL};
	buf b = BUF_INIT;
	struct itest_resp r;

	itest_session(users[who], token, csrf);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	buf_printf(&b, "csrf_token=%s&%s", csrf, body);
	assert_int_equal(itest_http("POST", url, headers, b.data, b.len, &r), 0);
	buf_free(&b);
	a->status = r.status;
	a->body = xstrdup(r.body.data ? r.body.data : "");
	a->location = itest_header(&r, "Location");
	itest_resp_free(&r);
}

/* GET path as who answers 200 with every one of shown (NULL-terminated) and not hidden. */
static void
page_shows(int who, const char *path, const char *const *shown, const char *hidden)
{
	char token[65], csrf[65], cookie[160], url[256];
	const char *headers[] = {cookie, NULL};
	struct itest_resp r;
	const char *page;

	itest_session(users[who], token, csrf);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	assert_int_equal(itest_http("GET", url, headers, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	page = r.body.data ? r.body.data : "";
	for (; *shown; shown++)
		if (!strstr(page, *shown))
			fail_msg("%s as %s: no \"%s\"", path, role_of[who], *shown);
	if (hidden && strstr(page, hidden))
		fail_msg("%s as %s: \"%s\" shown", path, role_of[who], hidden);
	itest_resp_free(&r);
}

static void
answer_free(struct http_answer *a)
{
	free(a->body);
	free(a->location);
}

static int
role_has(int who, const char *permission)
{
	const char *p[2] = {role_of[who], permission};

	return itest_sql_count("SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = "
			       "rp.role_id JOIN permissions p ON p.id = rp.permission_id WHERE "
			       "r.name = $1 AND p.module || '.' || p.action = $2",
			       2, p) > 0;
}

static void
test_http_every_role(void **state)
{
	static const struct {
		const char *type, *role, *permission;
		int assignee;
	} kinds[] = {
	    {"segment", "Researcher", "segments.assign_researcher", RESEARCHER},
	    {"segment", "SDR", "segments.assign_sdr", SDR},
	    {"company", "Researcher", "companies.assign", RESEARCHER},
	    {"contact", "SDR", "contacts.assign_sdr", SDR},
	};
	size_t k;
	int who, checked = 0;
	(void)state;

	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (who = 0; who < NUSERS; who++) {
			char entity[37], body[512];
			struct http_answer a;
			int allowed = role_has(who, kinds[k].permission);

			if (!strcmp(kinds[k].type, "contact"))
				make_contact(entity, "approved", NULL);
			else
				snprintf(entity, sizeof entity, "%s",
					 !strcmp(kinds[k].type, "segment") ? segment : approved_co);
			snprintf(body, sizeof body,
				 "entity_type=%s&entity_id=%s&assigned_to=%s&role_id=%s",
				 kinds[k].type, entity, users[kinds[k].assignee], kinds[k].role);
			post_as(who, "/assignments", body, 1, &a);
			if (allowed) {
				if (a.status != 201)
					fail_msg("%s as %s: %ld %s", kinds[k].permission,
						 role_of[who], a.status, a.body);
				assert_non_null(strstr(a.body, "\"ok\":true"));
			} else {
				if (a.status != 403)
					fail_msg("%s as %s: %ld %s (want 403)", kinds[k].permission,
						 role_of[who], a.status, a.body);
				assert_non_null(strstr(a.body, kinds[k].permission));
			}
			answer_free(&a);
			if (strcmp(kinds[k].type, "contact")) /* a contact is fresh each time */
				end_all(entity);
			checked++;
		}
	}
	assert_int_equal(checked, 4 * NUSERS);
	print_message("checked %d kind × role assignments\n", checked);
}

static void
test_http_refusals_say_why(void **state)
{
	char body[512], k[37], path[128];
	struct http_answer a;
	(void)state;

	/* the role held: an SDR assigned to a segment as a Researcher */
	snprintf(body, sizeof body,
		 "entity_type=segment&entity_id=%s&assigned_to=%s&role_id=Researcher", segment,
		 users[SDR]);
	post_as(OWNER, "/assignments", body, 0, &a);
	assert_int_equal(a.status, 422);
	assert_non_null(strstr(a.body, "does not hold the Researcher role"));
	answer_free(&a);
	/* a pending company */
	snprintf(body, sizeof body, "entity_type=company&entity_id=%s&assigned_to=%s", pending_co,
		 users[RESEARCHER]);
	post_as(APPROVER, "/assignments", body, 1, &a);
	assert_int_equal(a.status, 422);
	assert_non_null(strstr(a.body, "only approved companies"));
	answer_free(&a);
	/* a duplicate pair: the first is a 303 back to the page, the second a 409 */
	snprintf(body, sizeof body,
		 "entity_type=company&entity_id=%s&assigned_to=%s&return_to=/companies/%s",
		 approved_co, users[RESEARCHER], approved_co);
	post_as(APPROVER, "/assignments", body, 0, &a);
	assert_int_equal(a.status, 303);
	assert_non_null(strstr(a.location, approved_co));
	answer_free(&a);
	post_as(APPROVER, "/assignments", body, 0, &a);
	assert_int_equal(a.status, 409);
	assert_non_null(strstr(a.body, "already assigned"));
	answer_free(&a);
	/* the companies list filters by the assigned researcher */
	snprintf(path, sizeof path, "/companies?assigned_to=%s", users[RESEARCHER]);
	page_shows(APPROVER, path, (const char *const[]){"Assign Approved Co", NULL},
		   "Assign Pending Co");
	end_all(approved_co);

	/* scheduling: not the SDR's contact is 403; the own one is a 303 home */
	make_contact(k, "assigned_to_sdr", users[SDR]);
	snprintf(path, sizeof path, "/contacts/%s/schedule", k);
	post_as(SDR2, path, "return_to=/", 0, &a);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "own contacts"));
	answer_free(&a);
	post_as(SDR, path, "return_to=/", 0, &a);
	assert_int_equal(a.status, 303);
	assert_string_equal(a.location, "/");
	answer_free(&a);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'meeting_scheduled'",
				k),
			 1);
	/* the route itself needs the grant: a Researcher is refused before anything */
	post_as(RESEARCHER, path, "return_to=/", 0, &a);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "contacts.schedule_meeting"));
	answer_free(&a);
}

static void
test_http_bulk_hand_off(void **state)
{
	char a1[37], a2[37], up[37], body[512];
	struct http_answer a;
	json_t *j;
	(void)state;

	make_contact(a1, "approved", NULL);
	make_contact(a2, "approved", NULL);
	make_contact(up, "uploaded", NULL);
	snprintf(body, sizeof body, "ids=%s&ids=%s&ids=%s&assigned_sdr_id=%s", a1, a2, up,
		 users[SDR]);
	post_as(APPROVER, "/contacts/assign-sdr", body, 1, &a);
	assert_int_equal(a.status, 201);
	j = json_loads(a.body, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "assigned")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "rows")), 3);
	json_decref(j);
	assert_non_null(strstr(a.body, "not approved yet"));
	answer_free(&a);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'assigned_to_sdr'",
				a1),
			 1);
	assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
				"'uploaded'",
				up),
			 1);
	/* one contact through its own URL (SPEC §7) */
	{
		char path[128], k[37];

		make_contact(k, "approved", NULL);
		snprintf(path, sizeof path, "/contacts/%s/assign-sdr", k);
		snprintf(body, sizeof body, "assigned_sdr_id=%s", users[SDR2]);
		post_as(APPROVER, path, body, 0, &a);
		assert_int_equal(a.status, 303);
		answer_free(&a);
		assert_int_equal(count1("SELECT count(*) FROM contacts WHERE id = $1 AND status = "
					"'assigned_to_sdr'",
					k),
				 1);
	}
}

static void
test_home_pages(void **state)
{
	char k[37], path[128], body[512];
	struct http_answer a;
	(void)state;

	/* the researcher gets a segment and sees it, and the company awaiting contacts */
	snprintf(body, sizeof body, "entity_type=segment&entity_id=%s&assigned_to=%s", segment,
		 users[RESEARCHER]);
	post_as(OWNER, "/assignments", body, 0, &a);
	assert_int_equal(a.status, 303);
	answer_free(&a);
	itest_sql_ok("UPDATE contacts SET is_active = false WHERE company_id = $1", 1,
		     (const char *const[]){approved_co});
	page_shows(RESEARCHER, "/workbench",
		   (const char *const[]){"Assign segment", "Assign Approved Co", NULL},
		   "Assign Pending Co");
	page_shows(RESEARCHER, "/",
		   (const char *const[]){"My segments", "Assign Approved Co", NULL}, NULL);
	/* the approver lands on the queue's counts */
	page_shows(
	    APPROVER, "/",
	    (const char *const[]){"Approval queue", "Companies pending", "Contacts uploaded", NULL},
	    NULL);
	/* the SDR sees the contact handed to them, with its button */
	make_contact(k, "assigned_to_sdr", users[SDR2]);
	snprintf(path, sizeof path, "/contacts/%s/schedule", k);
	page_shows(SDR2, "/", (const char *const[]){path, NULL}, NULL);
	/* the owner's segment, with its progress; my assignments */
	page_shows(OWNER, "/", (const char *const[]){"Assign segment", "progress", NULL}, NULL);
	page_shows(RESEARCHER, "/assignments/mine", (const char *const[]){"Assign segment", NULL},
		   NULL);
	end_all(segment);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_database_refusals),
	    cmocka_unit_test(test_assign_unassign_audited),
	    cmocka_unit_test(test_hand_off_and_meeting),
	    cmocka_unit_test(test_concurrent_double_assignment),
	    cmocka_unit_test(test_http_every_role),
	    cmocka_unit_test(test_http_refusals_say_why),
	    cmocka_unit_test(test_http_bulk_hand_off),
	    cmocka_unit_test(test_home_pages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

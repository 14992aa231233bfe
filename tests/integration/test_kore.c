/*
 * Spanner inside Kore 4.1: the traps of Debian 12's Kore (DESIGN.md, "Kore 4.1
 * on Debian 12 — verified facts") and the app's workarounds, end to end
 * through the real kore process that scripts/kore-serve starts.
 *
 * What it proves:
 *  - multipart/form-data keeps a description's line breaks (CRLF, LF) and
 *    tab through POST /companies; the same value urlencoded is never lost
 *    silently (Kore 4.1's own parser drops it whole: the company would be
 *    created without a description);
 *  - the grants matrix saved as multipart with every box of the table
 *    (far more than the 19 urlencoded pairs Kore parses) keeps every grant;
 *  - the panel's inline save of one emptied field clears it (Kore drops
 *    empty fields; the app restores them), multipart and urlencoded;
 *  - the correction grid's cells c<row>_<col>, which kore.conf cannot
 *    declare, reach the handler and fix the row; a cell emptied on purpose
 *    (an optional value the user clears) is an empty value, not a missing one;
 *  - Kore keeps the request line and 23 header lines: a signed-in request
 *    whose Cookie is the 23rd header is served; one whose Cookie comes later
 *    gets the app's 431 page (nothing changed), never the sign-in page;
 *  - session cookies: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure and
 *    HSTS only behind a trusted proxy that says https;
 *  - unknown paths get the app's 404 page; a method a route does not take
 *    gets Kore's 405;
 *  - a body above the app's limit but below Kore's gets the app's 413 page
 *    naming 10 MB, and nothing is stored;
 *  - a worker killed with SIGKILL is replaced by Kore, and pages keep working;
 *  - no worker was replaced behind a test's back (a seccomp kill is a SIGSYS
 *    death Kore answers with a new worker), no sandbox or sanitizer report is
 *    in the log, and kore stops on SIGTERM, flushing its own log lines.
 *
 * Run on its own (no tests/run-all): SPANNER_TEST_CONNINFO=<a migrated
 * database> SPANNER_BIN=scripts/kore-serve SPANNER_MODULE=build/spanner-asan.so
 * build/tests/integration/test_kore. The servers log to var/test/kore-suite*.log.
 *
 * Users, segments and companies carry this process's id: the suite can run
 * again on the same database. The grants it changes are put back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/password.h"
#include "itest.h"

#define PASSWORD "kore-suite-password-1"
#define WAIT_SECONDS 120

static struct itest_server srv;
static struct itest_server proxied; /* test 6: SPANNER_TRUST_PROXY=1 */
static PGconn *pg;
static int tag;
static char me_id[37], me_name[128], me_email[160];
static char token[65], csrf[65];
static char seg_id[37], seg_name[160];
static int worker_was_killed;

/* ------------------------------------------------------------------ SQL */

#define sql_ok itest_sql_ok
#define sql_value itest_sql_value
#define sql_count itest_sql_count

static char *
company_column(const char *id, const char *column)
{
	const char *p[1] = {id};
	char sql[160];

	snprintf(sql, sizeof sql, "SELECT %s::text FROM companies WHERE id = $1", column);
	return sql_value(sql, 1, p);
}

static char *
insert_company(const char *name, const char *phone)
{
	const char *p[4] = {name, seg_id, me_id, phone};
	char *id = sql_value("INSERT INTO companies (name, segment_id, created_by, phone, website) "
			     "VALUES ($1, $2, $3, $4, 'https://kore.example.com') RETURNING id",
			     4, p);

	assert_non_null(id);
	return id;
}

/* ----------------------------------------------------------------- HTTP */

/*
 * One request. Headers go out in this order, as Chromium sends them: the
 * caller's extra ones, Content-Type, then Cookie (the session of tok, when
 * given) last.
 */
static const char *extra_cookie; /* "name=value" sent after the session, e.g. a flash */

static long
request_on(const struct itest_server *s, const char *tok, const char *method, const char *path,
	   const char *ctype, const char *body, size_t len, const char *const *extra,
	   struct itest_resp *r)
{
	const char *headers[64];
	char url[1024], cookie[512], ct[256];
	int h = 0;

	snprintf(url, sizeof url, "%s%s", s->base_url, path);
	for (; extra && *extra && h < 60; extra++)
		headers[h++] = *extra;
	if (body) {
		snprintf(ct, sizeof ct, "Content-Type: %s",
			 ctype ? ctype : "application/x-www-form-urlencoded");
		headers[h++] = ct;
	}
	if (tok) {
		snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s%s%s", tok,
			 extra_cookie ? "; " : "", extra_cookie ? extra_cookie : "");
		headers[h++] = cookie;
	}
	headers[h] = NULL;
	if (itest_http(method, url, headers, body, len, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	return r->status;
}

static long
request(const char *method, const char *path, const char *ctype, const buf *body,
	const char *const *extra, struct itest_resp *r)
{
	return request_on(&srv, token, method, path, ctype, body ? body->data : NULL,
			  body ? body->len : 0, extra, r);
}

static long
get(const char *path, const char *const *extra, struct itest_resp *r)
{
	return request("GET", path, NULL, NULL, extra, r);
}

/* application/x-www-form-urlencoded, as a browser encodes a form (space as %20). */
static void
urlencode(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

static void
form_add(buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		buf_putc(b, '&');
	urlencode(b, name);
	buf_putc(b, '=');
	urlencode(b, value ? value : "");
}

static const char *
body_of(const struct itest_resp *r)
{
	return r->body.data ? r->body.data : "";
}

/* The Location of a 303 to prefix<uuid>, the uuid copied to id; fails otherwise. */
static void
redirect_id(const struct itest_resp *r, const char *prefix, char id[37])
{
	char *loc = itest_header(r, "Location");
	size_t plen = strlen(prefix);

	if (r->status != 303 || !loc || strncmp(loc, prefix, plen) != 0 || strlen(loc + plen) != 36)
		fail_msg("expected 303 to %s{id}, got %ld to %s\n%.2000s", prefix, r->status,
			 loc ? loc : "(none)", body_of(r));
	snprintf(id, 37, "%s", loc + plen);
	free(loc);
}

/*
 * The page a 303 leads to, as a browser loads it: with the flash cookie the
 * 303 set (the message "Changes saved." etc. lives in that cookie).
 */
static void
follow(const struct itest_resp *r, struct itest_resp *page)
{
	char *loc = itest_header(r, "Location"), *flash = itest_cookie(r, "spanner_flash");
	char cookie[512];

	if (r->status != 303 || !loc)
		fail_msg("expected a 303, got %ld", r->status);
	if (flash)
		snprintf(cookie, sizeof cookie, "spanner_flash=%s", flash);
	extra_cookie = flash ? cookie : NULL;
	request_on(&srv, token, "GET", loc, NULL, NULL, 0, NULL, page);
	extra_cookie = NULL;
	free(loc);
	free(flash);
}

/* 1 when the Set-Cookie line has the attribute (case-insensitive, by prefix: "Domain="). */
static int
cookie_has(const char *line, const char *attr)
{
	const char *p = strchr(line, ';');
	size_t alen = strlen(attr);

	while (p) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, attr, alen) == 0 &&
		    (attr[alen - 1] == '=' || p[alen] == ';' || p[alen] == '\0'))
			return 1;
		p = strchr(p, ';');
	}
	return 0;
}

/* Polls the upload until it is no longer processing; returns its JSON. */
static json_t *
wait_batch(const char *batch)
{
	const char *accept[] = {"Accept: application/json", NULL};
	time_t deadline = time(NULL) + WAIT_SECONDS;
	char path[128];

	snprintf(path, sizeof path, "/imports/%s", batch);
	while (time(NULL) < deadline) {
		struct itest_resp r;
		json_error_t err;
		json_t *j;
		const char *status;

		if (get(path, accept, &r) != 200)
			fail_msg("GET %s: %ld\n%.2000s", path, r.status, body_of(&r));
		j = json_loadb(body_of(&r), r.body.len, 0, &err);
		itest_resp_free(&r);
		if (!j)
			fail_msg("GET %s: not JSON (%s)", path, err.text);
		status = json_string_value(json_object_get(j, "status"));
		if (status && strcmp(status, "processing") != 0)
			return j;
		json_decref(j);
		usleep(100000);
	}
	fail_msg("upload %s still processing after %d s", batch, WAIT_SECONDS);
	return NULL;
}

/* The pids of the kore parent's children (its workers), at most max. */
static int
children(pid_t parent, pid_t *out, int max)
{
	char cmd[64], line[64];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof cmd, "pgrep -P %d", (int)parent);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof line, f))
		out[n++] = (pid_t)atoi(line);
	pclose(f);
	return n;
}

static int
has_pid(const pid_t *list, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i] == pid)
			return 1;
	return 0;
}

/* Kore's messages when the seccomp sandbox kills or (tracing) reports a worker. */
static void
assert_log_clean(const char *path)
{
	static const char *const bad[] = {
	    "died from sandbox violation", /* worker.c, worker_reaper, SIGSYS */
	    "seccomp violation",	   /* seccomp.c, with seccomp_tracing on */
	    "seccomp tracing enabled",	   /* never in a shipped configuration */
	    "ERROR: AddressSanitizer",	   /* the module runs under ASan here */
	    "runtime error:",		   /* UBSan */
	    NULL};
	int i;

	for (i = 0; bad[i]; i++)
		if (itest_file_contains(path, bad[i]))
			fail_msg("%s contains \"%s\"", path, bad[i]);
}

static pid_t base_workers[16];
static int nbase_workers;
static int stopped_gracefully = -1;

static void
remember_workers(void)
{
	nbase_workers = children(srv.pid, base_workers, 16);
}

/* 1 while pid is a live (not zombie) process. */
static int
alive(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	char *close_paren;
	int live = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof line, f) && (close_paren = strrchr(line, ')')) != NULL)
		live = close_paren[1] == ' ' && close_paren[2] != 'Z' && close_paren[2] != 'X';
	fclose(f);
	return live;
}

/*
 * Stops s through itest_server_stop (SIGTERM, then SIGKILL to kore after 15
 * s). Kore's workers that kore left behind are killed by pid, so no test
 * leaves processes running. Returns 1 when kore exited by itself with 0.
 */
static int
stop_server(struct itest_server *s)
{
	pid_t kids[16];
	int n = children(s->pid, kids, 16), rc, i;
	time_t deadline = time(NULL) + 10;

	rc = itest_server_stop(s);
	for (i = 0; i < n; i++)
		if (alive(kids[i])) {
			fprintf(stderr, "kore worker %d outlived kore: killed\n", (int)kids[i]);
			kill(kids[i], SIGKILL);
		}
	for (i = 0; i < n && time(NULL) < deadline; i++)
		while (alive(kids[i]) && time(NULL) < deadline)
			usleep(20000);
	return rc == 0;
}

/*
 * After every test: no worker of the suite's server was replaced behind the
 * test's back (a seccomp kill, SIGSYS, or any crash makes Kore start a new
 * one), and the log holds no sandbox or sanitizer report. The pid check is
 * what sees a kill when Kore's own log line is still in its stdout buffer.
 */
static int
check_server(void **state)
{
	pid_t now[16];
	int n, i, ok = 1;

	(void)state;
	if (srv.pid <= 0)
		return 0;
	n = children(srv.pid, now, 16);
	if (n != nbase_workers)
		ok = 0;
	for (i = 0; i < nbase_workers && ok; i++)
		if (!has_pid(now, n, base_workers[i]))
			ok = 0;
	if (!ok) {
		fprintf(stderr,
			"a kore worker was replaced during this test (%d before, %d now); "
			"see %s\n",
			nbase_workers, n, srv.log_path);
		remember_workers();
		return -1;
	}
	if (itest_file_contains(srv.log_path, "sandbox violation") ||
	    itest_file_contains(srv.log_path, "seccomp violation") ||
	    itest_file_contains(srv.log_path, "ERROR: AddressSanitizer") ||
	    itest_file_contains(srv.log_path, "runtime error:")) {
		fprintf(stderr, "%s reports a sandbox kill or a sanitizer error\n", srv.log_path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- set-up */

static int
setup(void **state)
{
	const char *env[] = {"SPANNER_TASK_THREADS=2", NULL};
	struct config cfg;
	char *hash, *id;

	(void)state;
	tag = (int)getpid();
	pg = itest_pg();
	if (!pg)
		return -1;
	config_defaults(&cfg);
	cfg.argon2_m_cost = 8192; /* what itest_server_start gives the server */
	cfg.argon2_t_cost = 1;
	hash = password_hash(&cfg, PASSWORD);
	config_free(&cfg);
	if (!hash)
		return -1;
	snprintf(me_name, sizeof me_name, "Kore Tester %d", tag);
	snprintf(me_email, sizeof me_email, "kore-%d@example.com", tag);
	{
		const char *p[3] = {me_email, me_name, hash};

		id = sql_value("INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
			       "RETURNING id",
			       3, p);
	}
	free(hash);
	if (!id)
		return -1;
	snprintf(me_id, sizeof me_id, "%s", id);
	free(id);
	{
		const char *p[1] = {me_id};

		sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE "
		       "name = 'Admin'",
		       1, p);
	}
	/* a session made directly in the database, as a sign-in would */
	password_random_hex(token, 32);
	password_random_hex(csrf, 32);
	{
		const char *p[3] = {token, me_id, csrf};

		sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
		       "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '2 hours')",
		       3, p);
	}
	snprintf(seg_name, sizeof seg_name, "Kore Segment %d", tag);
	{
		const char *p[2] = {seg_name, me_id};

		id = sql_value(
		    "INSERT INTO segments (name, created_by) VALUES ($1, $2) RETURNING id", 2, p);
	}
	if (!id)
		return -1;
	snprintf(seg_id, sizeof seg_id, "%s", id);
	free(id);
	if (itest_server_start(&srv, "kore-suite", env) != 0)
		return -1;
	remember_workers();
	return nbase_workers > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	if (srv.pid > 0)
		stop_server(&srv);
	if (proxied.pid > 0)
		stop_server(&proxied);
	if (pg)
		PQfinish(pg);
	return 0;
}

/* ------------------------------------------------- 1. line breaks survive */

static void
test_description_line_breaks(void **state)
{
	const char *typed = "First line\r\nSecond line\nCol A\tCol B";
	const char *stored = "First line\nSecond line\nCol A Col B";
	buf body = BUF_INIT, name = BUF_INIT, form = BUF_INIT;
	struct itest_resp r;
	char id[37], *v, *html_value;

	(void)state;
	/* multipart, as the create form posts: the line breaks are kept */
	buf_printf(&name, "Kore Lines %d", tag);
	itest_multipart_field(&body, "csrf_token", csrf);
	itest_multipart_field(&body, "segment_id", seg_id);
	itest_multipart_field(&body, "name", name.data);
	itest_multipart_field(&body, "description", typed);
	itest_multipart_end(&body);
	request("POST", "/companies", ITEST_MULTIPART, &body, NULL, &r);
	redirect_id(&r, "/companies/", id);
	itest_resp_free(&r);
	v = company_column(id, "description");
	if (!v || strcmp(v, stored) != 0)
		fail_msg("multipart description stored as %s%s%s, want \"%s\"", v ? "\"" : "",
			 v ? v : "NULL", v ? "\"" : "", stored);
	free(v);
	v = company_column(id, "name");
	assert_string_equal(v, name.data);
	free(v);

	/* the company page shows it with its line breaks */
	{
		char path[64];

		snprintf(path, sizeof path, "/companies/%s", id);
		assert_int_equal(get(path, NULL, &r), 200);
		html_value = strstr(body_of(&r), stored);
		if (!html_value)
			fail_msg("GET %s does not show the description with its line breaks", path);
		itest_resp_free(&r);
	}

	/*
	 * The same value urlencoded, as a script posts it. Kore 4.1's own parser
	 * drops a value holding %0D, %0A or %09 without a word, so the company
	 * would be created with no description. Whatever parses the body, the
	 * description must never vanish silently: stored with its line breaks,
	 * or the form refused with nothing created.
	 */
	buf_reset(&name);
	buf_printf(&name, "Kore Lines Urlencoded %d", tag);
	form_add(&form, "csrf_token", csrf);
	form_add(&form, "segment_id", seg_id);
	form_add(&form, "name", name.data);
	form_add(&form, "description", typed);
	request("POST", "/companies", NULL, &form, NULL, &r);
	if (r.status == 303) {
		redirect_id(&r, "/companies/", id);
		v = company_column(id, "description");
		if (!v)
			fail_msg(
			    "urlencoded: the company was created without its description (Kore "
			    "4.1 drops a urlencoded value holding a line break or tab)");
		assert_string_equal(v, stored);
		free(v);
	} else {
		const char *p[1] = {name.data};

		if (r.status < 400 || r.status >= 500)
			fail_msg("urlencoded: %ld\n%.2000s", r.status, body_of(&r));
		assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE name = $1", 1, p),
				 0);
	}
	itest_resp_free(&r);

	/* a value without control characters arrives urlencoded too (control) */
	buf_reset(&form);
	buf_reset(&name);
	buf_printf(&name, "Kore One Line %d", tag);
	form_add(&form, "csrf_token", csrf);
	form_add(&form, "segment_id", seg_id);
	form_add(&form, "name", name.data);
	form_add(&form, "description", "One line only");
	request("POST", "/companies", NULL, &form, NULL, &r);
	redirect_id(&r, "/companies/", id);
	itest_resp_free(&r);
	v = company_column(id, "description");
	assert_non_null(v);
	assert_string_equal(v, "One line only");
	free(v);
	buf_free(&body);
	buf_free(&name);
	buf_free(&form);
}

/* ------------------------------------------------ 2. more than 20 boxes */

static const char *const pairs_sql =
    "SELECT r.name || ':' || p.module || '.' || p.action FROM role_permissions rp JOIN roles r "
    "ON r.id = rp.role_id JOIN permissions p ON p.id = rp.permission_id ORDER BY 1";

static char *
grants_snapshot(void)
{
	PGresult *res = PQexec(pg, pairs_sql);
	buf all = BUF_INIT;
	int i;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(res); i++) {
		buf_puts(&all, PQgetvalue(res, i, 0));
		buf_putc(&all, '\n');
	}
	PQclear(res);
	return buf_steal(&all);
}

/* Posts the matrix as the browser does: every checked box, multipart. */
static void
post_grants(PGresult *pairs, const char *extra, struct itest_resp *r)
{
	buf body = BUF_INIT;
	int i;

	itest_multipart_field(&body, "csrf_token", csrf);
	for (i = 0; i < PQntuples(pairs); i++)
		itest_multipart_field(&body, "grant", PQgetvalue(pairs, i, 0));
	if (extra)
		itest_multipart_field(&body, "grant", extra);
	itest_multipart_end(&body);
	request("POST", "/admin/grants", ITEST_MULTIPART, &body, NULL, r);
	buf_free(&body);
}

static void
test_grants_many_boxes(void **state)
{
	PGresult *pairs = PQexec(pg, pairs_sql);
	char *before = grants_snapshot(), *after, *extra, *loc;
	long n;
	struct itest_resp r, page;
	const char *p[1];

	(void)state;
	assert_int_equal(PQresultStatus(pairs), PGRES_TUPLES_OK);
	n = PQntuples(pairs);
	if (n <= 20)
		fail_msg("only %ld grants in the database: the test needs more than 20", n);
	/* one box that is not checked now, outside the Admin's locked pair */
	extra =
	    sql_value("SELECT r.name || ':' || p.module || '.' || p.action FROM roles r CROSS "
		      "JOIN permissions p WHERE r.name <> 'Admin' AND NOT EXISTS (SELECT 1 FROM "
		      "role_permissions rp WHERE rp.role_id = r.id AND rp.permission_id = p.id) "
		      "ORDER BY 1 LIMIT 1",
		      0, NULL);
	assert_non_null(extra);

	/* every box checked now, plus one: exactly that one is granted, nothing revoked */
	post_grants(pairs, extra, &r);
	assert_int_equal(r.status, 303);
	loc = itest_header(&r, "Location");
	assert_string_equal(loc, "/admin/grants");
	free(loc);
	follow(&r, &page);
	itest_resp_free(&r);
	assert_int_equal(page.status, 200);
	if (!strstr(body_of(&page), "Grants saved: 1 granted, 0 revoked"))
		fail_msg("the grants page does not say \"1 granted, 0 revoked\"");
	itest_resp_free(&page);
	assert_int_equal(sql_count("SELECT count(*) FROM role_permissions", 0, NULL), n + 1);
	p[0] = extra;
	assert_int_equal(sql_count("SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id "
				   "= rp.role_id JOIN permissions p ON p.id = rp.permission_id "
				   "WHERE r.name || ':' || p.module || '.' || p.action = $1",
				   1, p),
			 1);

	/* and back: the original boxes alone revoke exactly the extra one */
	post_grants(pairs, NULL, &r);
	assert_int_equal(r.status, 303);
	follow(&r, &page);
	itest_resp_free(&r);
	after = grants_snapshot();
	assert_string_equal(after, before);
	if (!strstr(body_of(&page), "Grants saved: 0 granted, 1 revoked"))
		fail_msg("the grants page does not say \"0 granted, 1 revoked\"");
	itest_resp_free(&page);
	free(after);
	free(before);
	free(extra);
	PQclear(pairs);
}

/* ------------------------------------------------- 3. clearing a field */

static void
test_inline_save_clears_field(void **state)
{
	const char *htmx[3];
	char xcsrf[128], name[128], path[96], *id, *v;
	buf body = BUF_INIT, form = BUF_INIT;
	struct itest_resp r;

	(void)state;
	snprintf(name, sizeof name, "Kore Clear Phone %d", tag);
	id = insert_company(name, "+44 20 7946 0000");
	snprintf(path, sizeof path, "/companies/%s", id);
	snprintf(xcsrf, sizeof xcsrf, "X-CSRF-Token: %s", csrf);
	htmx[0] = "HX-Request: true";
	htmx[1] = xcsrf;
	htmx[2] = NULL;

	/* the panel's inline save: one field, emptied, multipart (hx-encoding), htmx headers */
	itest_multipart_field(&body, "phone", "");
	itest_multipart_end(&body);
	assert_int_equal(request("POST", path, ITEST_MULTIPART, &body, htmx, &r), 200);
	if (!strstr(body_of(&r), "field-saved"))
		fail_msg("the panel does not say Saved:\n%.3000s", body_of(&r));
	itest_resp_free(&r);
	v = company_column(id, "phone");
	if (v)
		fail_msg("phone still \"%s\" after saving it empty", v);
	/* only the field sent changed */
	v = company_column(id, "name");
	assert_string_equal(v, name);
	free(v);
	v = company_column(id, "website");
	assert_string_equal(v, "https://kore.example.com");
	free(v);
	free(id);

	/* the same with a script's urlencoded body */
	snprintf(name, sizeof name, "Kore Clear Phone Urlencoded %d", tag);
	id = insert_company(name, "+44 20 7946 0001");
	snprintf(path, sizeof path, "/companies/%s", id);
	form_add(&form, "csrf_token", csrf);
	form_add(&form, "phone", "");
	assert_int_equal(request("POST", path, NULL, &form, NULL, &r), 303);
	itest_resp_free(&r);
	v = company_column(id, "phone");
	if (v)
		fail_msg("phone still \"%s\" after saving it empty (urlencoded)", v);
	v = company_column(id, "website");
	assert_string_equal(v, "https://kore.example.com");
	free(v);
	free(id);
	buf_free(&body);
	buf_free(&form);
}

/* ------------------------------------------------- 4. the correction grid */

/* Uploads a CSV with one good and three failing rows; returns the batch id in batch. */
static void
upload_with_failures(const char *label, char batch[37])
{
	buf csv = BUF_INIT, body = BUF_INIT;
	struct itest_resp r;
	json_t *b;

	buf_puts(&csv, "Company Name,Segment Name,Founded Year,City\r\n");
	buf_printf(&csv, "Kore Good %s %d,%s,1990,York\r\n", label, tag, seg_name);  /* row 2 */
	buf_printf(&csv, ",%s,,Bath\r\n", seg_name);				     /* row 3 */
	buf_printf(&csv, "Kore Year %s %d,%s,19x9,Leeds\r\n", label, tag, seg_name); /* row 4 */
	buf_printf(&csv, "Kore Seg %s %d,%s,,\r\n", label, tag, "No Such Segment");  /* row 5 */
	itest_multipart_field(&body, "csrf_token", csrf);
	itest_multipart_file(&body, "file", "kore-fix.csv", "text/csv", csv.data, csv.len);
	itest_multipart_end(&body);
	request("POST", "/imports/companies", ITEST_MULTIPART, &body, NULL, &r);
	redirect_id(&r, "/imports/", batch);
	itest_resp_free(&r);
	b = wait_batch(batch);
	assert_string_equal(json_string_value(json_object_get(b, "status")), "completed");
	assert_int_equal(json_integer_value(json_object_get(b, "valid_rows")), 1);
	assert_int_equal(json_integer_value(json_object_get(b, "invalid_rows")), 3);
	json_decref(b);
	buf_free(&csv);
	buf_free(&body);
}

static void
test_fix_grid_cells(void **state)
{
	char batch[37], path[128], fixed[128], *loc;
	buf body = BUF_INIT;
	struct itest_resp r, page;
	const char *p[2];
	json_t *b;

	(void)state;
	upload_with_failures("grid", batch);
	snprintf(path, sizeof path, "/imports/%s/fix", batch);
	assert_int_equal(get(path, NULL, &r), 200);
	assert_non_null(strstr(body_of(&r), "name=\"c3_0\""));
	assert_non_null(strstr(body_of(&r), "name=\"c4_2\""));
	itest_resp_free(&r);

	/* the grid's form, multipart: row 3 gets its missing name, row 4 a real year */
	snprintf(fixed, sizeof fixed, "Kore Fixed By Grid %d", tag);
	itest_multipart_field(&body, "csrf_token", csrf);
	itest_multipart_field(&body, "rows", "3");
	itest_multipart_field(&body, "rows", "4");
	itest_multipart_field(&body, "c3_0", fixed);
	itest_multipart_field(&body, "c4_2", "1999");
	itest_multipart_end(&body);
	assert_int_equal(request("POST", path, ITEST_MULTIPART, &body, NULL, &r), 303);
	loc = itest_header(&r, "Location");
	assert_string_equal(loc, path);
	free(loc);
	follow(&r, &page);
	itest_resp_free(&r);
	assert_int_equal(page.status, 200);
	if (!strstr(body_of(&page), "2 rows imported as pending"))
		fail_msg("the grid page does not say \"2 rows imported\":\n%.3000s",
			 body_of(&page));
	itest_resp_free(&page);

	p[0] = batch;
	p[1] = fixed;
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND name = "
				   "$2 AND address_city = 'Bath'",
				   2, p),
			 1);
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND "
				   "founded_year = 1999 AND address_city = 'Leeds'",
				   1, p),
			 1);
	b = wait_batch(batch);
	assert_int_equal(json_integer_value(json_object_get(b, "valid_rows")), 3);
	assert_int_equal(json_integer_value(json_object_get(b, "invalid_rows")), 1);
	json_decref(b);

	/* htmx: one row (its Re-check button), the cell fixed; the row comes back imported */
	{
		char xcsrf[128];
		const char *htmx[] = {"HX-Request: true", xcsrf, NULL};

		snprintf(xcsrf, sizeof xcsrf, "X-CSRF-Token: %s", csrf);
		buf_reset(&body);
		itest_multipart_field(&body, "row", "5");
		itest_multipart_field(&body, "c5_1", seg_name);
		itest_multipart_end(&body);
		assert_int_equal(request("POST", path, ITEST_MULTIPART, &body, htmx, &r), 200);
		if (!strstr(body_of(&r), "Row 5 passed and was imported"))
			fail_msg("row 5 did not come back imported:\n%.3000s", body_of(&r));
		itest_resp_free(&r);
	}
	assert_int_equal(sql_count("SELECT count(*) FROM companies WHERE batch_id = $1", 1, p), 4);
	buf_free(&body);
}

/*
 * A cell the user empties on purpose: row 4's founded year "19x9" is
 * optional, so clearing it must import the row without a year. An empty
 * cell is a value the user typed, not a cell left out.
 */
static void
test_fix_grid_emptied_cell(void **state)
{
	char batch[37], path[128];
	buf body = BUF_INIT;
	struct itest_resp r;
	const char *p[1];
	long n;

	(void)state;
	upload_with_failures("emptied", batch);
	snprintf(path, sizeof path, "/imports/%s/fix", batch);
	itest_multipart_field(&body, "csrf_token", csrf);
	itest_multipart_field(&body, "rows", "4");
	itest_multipart_field(&body, "c4_2", "");
	itest_multipart_end(&body);
	assert_int_equal(request("POST", path, ITEST_MULTIPART, &body, NULL, &r), 303);
	itest_resp_free(&r);
	p[0] = batch;
	n = sql_count("SELECT count(*) FROM companies WHERE batch_id = $1 AND address_city = "
		      "'Leeds' AND founded_year IS NULL",
		      1, p);
	if (n != 1) {
		char *cv = sql_value("SELECT corrected_values::text FROM upload_rows WHERE "
				     "batch_id = $1 AND row_number = 4",
				     1, p);

		fail_msg("row 4 with its founded year emptied was not imported (upload_rows "
			 "corrected_values %s): the empty cell c4_2 never reached the handler",
			 cv ? cv : "NULL");
	}
	buf_free(&body);
}

/* ------------------------------------------------- 5. many request headers */

/*
 * A signed-in request with npad harmless headers X-Pad-<n>, sent as
 * Chromium orders them: Host (libcurl's), Accept, Content-Length and
 * Content-Type when there is a body, the pads, and Cookie last.
 */
static long
padded(const char *method, const char *path, int npad, const buf *body, struct itest_resp *r)
{
	char pads[40][32], clen[64];
	const char *extra[48];
	int i, h = 0;

	extra[h++] = "Accept: text/html";
	if (body) {
		/* libcurl would add its own Content-Length after every custom header */
		snprintf(clen, sizeof clen, "Content-Length: %zu", body->len);
		extra[h++] = clen;
	}
	for (i = 0; i < npad && i < 40; i++) {
		snprintf(pads[i], sizeof pads[i], "X-Pad-%d: %d", i + 1, i + 1);
		extra[h++] = pads[i];
	}
	extra[h] = NULL;
	return request(method, path, body ? ITEST_MULTIPART : NULL, body, extra, r);
}

static void
assert_signed_in_page(const struct itest_resp *r, const char *what)
{
	if (r->status != 200)
		fail_msg("%s: %ld, want 200", what, r->status);
	if (!strstr(body_of(r), me_name) || !strstr(body_of(r), "is-signed-in"))
		fail_msg("%s: the page is not the signed-in one", what);
}

/* Never the sign-in page: 200 signed in, or the app's 431 page with its message. */
static void
assert_not_signed_out(const struct itest_resp *r, const char *what)
{
	char *loc = itest_header(r, "Location");

	if (r->status == 303 || r->status == 401 || (loc && strstr(loc, "/login")))
		fail_msg("%s: sent to the sign-in page (%ld %s)", what, r->status, loc ? loc : "");
	free(loc);
	if (r->status == 200)
		return;
	if (r->status != 431)
		fail_msg("%s: %ld, want 200 or 431\n%.2000s", what, r->status, body_of(r));
	if (!strstr(body_of(r), "more request headers than Spanner reads") ||
	    !strstr(body_of(r), "nothing was changed") || !strstr(body_of(r), "<title>"))
		fail_msg("%s: 431 without the app's page and message:\n%.2000s", what, body_of(r));
}

static void
test_many_headers(void **state)
{
	struct itest_resp r;
	char what[128];
	int npad;

	(void)state;
	/* control: a plain signed-in request (Host, Accept, Cookie) */
	padded("GET", "/companies", 0, NULL, &r);
	assert_signed_in_page(&r, "GET /companies with 3 headers");
	itest_resp_free(&r);

	/* 23 header lines, Cookie the 23rd: all of them reach the app */
	padded("GET", "/companies", 20, NULL, &r);
	assert_signed_in_page(&r, "GET /companies with 23 headers, Cookie last");
	itest_resp_free(&r);

	/* 24 to 26 header lines: Cookie is past what Kore keeps */
	for (npad = 21; npad <= 23; npad++) {
		snprintf(what, sizeof what, "GET /companies with %d extra headers, Cookie last",
			 npad);
		padded("GET", "/companies", npad, NULL, &r);
		assert_not_signed_out(&r, what);
		if (r.status == 200)
			assert_signed_in_page(&r, what);
		itest_resp_free(&r);
	}

	/* a change posted with Cookie as the 24th header changes nothing and says so */
	{
		char name[128], path[96], *id, *v;
		buf body = BUF_INIT;

		snprintf(name, sizeof name, "Kore Headers %d", tag);
		id = insert_company(name, "+1 555 0100");
		snprintf(path, sizeof path, "/companies/%s", id);
		itest_multipart_field(&body, "csrf_token", csrf);
		itest_multipart_field(&body, "phone", "+1 555 0199");
		itest_multipart_end(&body);
		/* Host, Accept, Content-Length, Content-Type, 19 pads, Cookie */
		padded("POST", path, 19, &body, &r);
		if (r.status == 303) {
			char *loc = itest_header(&r, "Location");

			if (!loc || strcmp(loc, path) != 0)
				fail_msg("POST with 24 headers: 303 to %s", loc ? loc : "(none)");
			free(loc);
		} else {
			assert_not_signed_out(&r, "POST /companies/{id} with 24 headers");
		}
		v = company_column(id, "phone");
		assert_string_equal(v, r.status == 431 ? "+1 555 0100" : "+1 555 0199");
		free(v);
		itest_resp_free(&r);

		/* the same with 18 pads (23 headers) saves */
		padded("POST", path, 18, &body, &r);
		assert_int_equal(r.status, 303);
		itest_resp_free(&r);
		v = company_column(id, "phone");
		assert_string_equal(v, "+1 555 0199");
		free(v);
		buf_free(&body);
		free(id);
	}
}

/* ------------------------------------------------- 6. cookie attributes */

/*
 * Signs in on s through the sign-in form (multipart, as the page posts it),
 * with extra request headers on both requests; r holds the POST's response.
 */
static void
sign_in_on(const struct itest_server *s, const char *const *extra, struct itest_resp *r)
{
	char field[65], cookie[128], url[256], *pre, *v;
	const char *headers[8];
	struct itest_resp page;
	buf body = BUF_INIT;
	int h = 0;

	snprintf(url, sizeof url, "%s/login", s->base_url);
	assert_int_equal(itest_http("GET", url, extra, NULL, 0, &page), 0);
	assert_int_equal(page.status, 200);
	pre = itest_cookie(&page, "spanner_pre");
	assert_non_null(pre);
	v = strstr(body_of(&page), "name=\"csrf_token\" value=\"");
	assert_non_null(v);
	assert_int_equal(sscanf(v, "name=\"csrf_token\" value=\"%64[0-9a-f]\"", field), 1);
	itest_resp_free(&page);

	itest_multipart_field(&body, "csrf_token", field);
	itest_multipart_field(&body, "email", me_email);
	itest_multipart_field(&body, "password", PASSWORD);
	itest_multipart_end(&body);
	for (; extra && *extra && h < 5; extra++)
		headers[h++] = *extra;
	headers[h++] = "Content-Type: " ITEST_MULTIPART;
	snprintf(cookie, sizeof cookie, "Cookie: spanner_pre=%s", pre);
	headers[h++] = cookie;
	headers[h] = NULL;
	assert_int_equal(itest_http("POST", url, headers, body.data, body.len, r), 0);
	if (r->status != 303)
		fail_msg("sign-in on %s: %ld\n%.2000s", s->base_url, r->status, body_of(r));
	free(pre);
	buf_free(&body);
}

/* The session cookie's attributes; secure: whether Secure (and HSTS) must be there. */
static void
check_session_cookie(const struct itest_resp *r, int secure, const char *what)
{
	char *line = itest_set_cookie(r, "spanner_session"), *hsts;

	if (!line)
		fail_msg("%s: no spanner_session cookie", what);
	if (!cookie_has(line, "HttpOnly"))
		fail_msg("%s: no HttpOnly in %s", what, line);
	if (!cookie_has(line, "SameSite=Lax"))
		fail_msg("%s: no SameSite=Lax in %s", what, line);
	if (!cookie_has(line, "Path=/"))
		fail_msg("%s: no Path=/ in %s", what, line);
	if (cookie_has(line, "Domain="))
		fail_msg("%s: a Domain in %s", what, line);
	if (cookie_has(line, "Secure") != secure)
		fail_msg("%s: Secure %s in %s", what, secure ? "missing" : "present", line);
	hsts = itest_header(r, "Strict-Transport-Security");
	if (!!hsts != secure)
		fail_msg("%s: Strict-Transport-Security %s (%s)", what,
			 secure ? "missing" : "present", hsts ? hsts : "");
	if (hsts)
		assert_non_null(strstr(hsts, "max-age="));
	free(hsts);
	free(line);
}

static void
test_cookie_attributes(void **state)
{
	const char *https[] = {"X-Forwarded-Proto: https", NULL};
	const char *env[] = {"SPANNER_TRUST_PROXY=1", NULL};
	struct itest_resp r;

	(void)state;
	/* plain HTTP */
	sign_in_on(&srv, NULL, &r);
	check_session_cookie(&r, 0, "plain HTTP");
	itest_resp_free(&r);
	/* a forged X-Forwarded-Proto without trust_proxy changes nothing */
	sign_in_on(&srv, https, &r);
	check_session_cookie(&r, 0, "X-Forwarded-Proto without trust_proxy");
	itest_resp_free(&r);

	/* behind a trusted proxy that says https */
	assert_int_equal(itest_server_start(&proxied, "kore-suite-proxy", env), 0);
	sign_in_on(&proxied, https, &r);
	check_session_cookie(&r, 1, "trusted proxy, https");
	itest_resp_free(&r);
	/* the same proxy over http */
	sign_in_on(&proxied, NULL, &r);
	check_session_cookie(&r, 0, "trusted proxy, no X-Forwarded-Proto");
	itest_resp_free(&r);
	stop_server(&proxied);
	assert_log_clean(proxied.log_path);
}

/* ------------------------------------------------- 7. 404 and 405 */

static void
test_unknown_path_and_method(void **state)
{
	struct itest_resp r;

	(void)state;
	assert_int_equal(request_on(&srv, NULL, "GET", "/no/such/page", NULL, NULL, 0, NULL, &r),
			 404);
	if (!strstr(body_of(&r), "<title>") || !strstr(body_of(&r), "Page not found"))
		fail_msg("GET /no/such/page: not the app's 404 page:\n%.2000s", body_of(&r));
	itest_resp_free(&r);
	/* signed in, too */
	assert_int_equal(get("/companies/extra/levels/deep", NULL, &r), 404);
	assert_non_null(strstr(body_of(&r), "<title>"));
	itest_resp_free(&r);

	/* a GET-only route: Kore answers the POST itself */
	assert_int_equal(request_on(&srv, NULL, "POST", "/healthz",
				    "application/x-www-form-urlencoded", "a=b", 3, NULL, &r),
			 405);
	itest_resp_free(&r);
	assert_int_equal(request_on(&srv, NULL, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 200);
	itest_resp_free(&r);
}

/* ------------------------------------------------- 8. 413 */

static void
test_body_over_app_limit(void **state)
{
	const size_t total = 11010048; /* 10.5 MB: over 10304K, under Kore's 11 MB */
	buf body = BUF_INIT, csv = BUF_INIT;
	long before;
	struct itest_resp r;
	size_t need;

	(void)state;
	before = sql_count("SELECT count(*) FROM upload_batches", 0, NULL);
	itest_multipart_field(&body, "csrf_token", csrf);
	buf_printf(&csv, "Company Name,Segment Name\r\n");
	/* file bytes so that the whole body is exactly total */
	need = total - body.len -
	       strlen("--" ITEST_BOUNDARY "\r\nContent-Disposition: form-data; "
		      "name=\"file\"; filename=\"big.csv\"\r\nContent-Type: "
		      "text/csv\r\n\r\n") -
	       strlen("\r\n") - strlen("--" ITEST_BOUNDARY "--\r\n");
	while (csv.len + 32 < need)
		buf_printf(&csv, "Kore Big Co %08zu,%s\r\n", csv.len, "X");
	while (csv.len < need)
		buf_putc(&csv, 'x');
	itest_multipart_file(&body, "file", "big.csv", "text/csv", csv.data, csv.len);
	itest_multipart_end(&body);
	assert_int_equal(body.len, total);

	request("POST", "/imports/companies", ITEST_MULTIPART, &body, NULL, &r);
	if (r.status != 413)
		fail_msg("10.5 MB upload: %ld, want 413\n%.2000s", r.status, body_of(&r));
	if (!strstr(body_of(&r), "10 MB") || !strstr(body_of(&r), "<title>"))
		fail_msg("the 413 page does not name 10 MB:\n%.3000s", body_of(&r));
	itest_resp_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM upload_batches", 0, NULL), before);
	/* and the server is fine */
	assert_int_equal(get("/imports", NULL, &r), 200);
	itest_resp_free(&r);
	buf_free(&body);
	buf_free(&csv);
}

/* ------------------------------------------------- 9. a worker killed */

/* Sends a whole request on a raw socket and hangs up without reading a byte. */
static void
send_and_hang_up(int port, const char *request, size_t len)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(write(fd, request, len), (ssize_t)len);
	close(fd);
}

/*
 * Clients that go away mid-request (a closed tab, a cancelled download): the
 * request's fiber is run out on its error paths while its statement or its
 * task is still under way. Afterwards no database connection is left in a
 * transaction, the worker's connections are all back, and pages answer.
 */
static void
test_client_gone_mid_request(void **state)
{
	buf req = BUF_INIT, form = BUF_INIT;
	struct itest_resp r;
	long open_tx = -1;
	int i;

	(void)state;
	/* a sign-in (Argon2 in a Kore task) and an export (a cursor on the fiber) */
	buf_printf(&form, "csrf_token=%s&email=%s&password=wrong-password-1", csrf, me_email);
	for (i = 0; i < 20; i++) {
		buf_reset(&req);
		buf_printf(&req,
			   "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: spanner_pre=%s\r\n"
			   "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
			   "%zu\r\n\r\n%s",
			   csrf, form.len, form.data);
		send_and_hang_up(srv.port, req.data, req.len);
		buf_reset(&req);
		buf_printf(&req,
			   "GET /companies/export.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			   "Cookie: spanner_session=%s\r\n\r\n",
			   token);
		send_and_hang_up(srv.port, req.data, req.len);
	}
	/* nothing of theirs is left open in the database (they may need a moment) */
	for (i = 0; i < 100; i++) {
		open_tx =
		    itest_sql_count("SELECT count(*) FROM pg_stat_activity WHERE datname = "
				    "current_database() AND state LIKE 'idle in transaction%' "
				    "AND application_name = ''",
				    0, NULL);
		if (open_tx == 0)
			break;
		usleep(50000);
	}
	assert_int_equal(open_tx, 0);
	/* and the server goes on: a page, and a signed-in page that uses the database */
	assert_int_equal(get("/healthz", NULL, &r), 200);
	itest_resp_free(&r);
	assert_int_equal(get("/companies", NULL, &r), 200);
	itest_resp_free(&r);
	buf_free(&req);
	buf_free(&form);
}

static void
test_worker_killed_is_replaced(void **state)
{
	pid_t before[16], now[16], victim;
	int nbefore, nnow = 0, i, replaced = 0;
	time_t deadline;
	struct itest_resp r;

	(void)state;
	nbefore = children(srv.pid, before, 16);
	if (nbefore < 1)
		fail_msg("no children of kore (pid %d)", (int)srv.pid);
	victim = before[nbefore - 1];
	assert_int_equal(kill(victim, SIGKILL), 0);
	worker_was_killed = 1;

	/* wait for the same number of children, the victim gone, a new one there */
	deadline = time(NULL) + 30;
	while (!replaced && time(NULL) < deadline) {
		nnow = children(srv.pid, now, 16);
		if (nnow == nbefore && !has_pid(now, nnow, victim)) {
			for (i = 0; i < nnow; i++)
				if (!has_pid(before, nbefore, now[i]))
					replaced = 1;
		}
		if (!replaced)
			usleep(50000);
	}
	if (!replaced)
		fail_msg("worker %d was not replaced within 30 s (%d children now, %d before)",
			 (int)victim, nnow, nbefore);
	remember_workers(); /* this replacement was ours */

	/* pages answer, signed in, on whichever worker takes them */
	for (i = 0; i < 20; i++) {
		get("/companies", NULL, &r);
		assert_signed_in_page(&r, "GET /companies after a worker was killed");
		itest_resp_free(&r);
	}
	assert_int_equal(request_on(&srv, NULL, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 200);
	itest_resp_free(&r);
}

/* ------------------------------------------------- 10. no sandbox kills */

static void
test_logs_clean(void **state)
{
	(void)state;
	/* every test's teardown compared the workers; now the whole log, once kore is gone */
	stopped_gracefully = stop_server(&srv);
	assert_log_clean(srv.log_path);
}

/*
 * Kore's parent writes its own log lines ("worker 1 died from sandbox
 * violation", "restarting worker 1") block-buffered to a file: they reach
 * the log only when kore exits normally. A kore that does not stop on
 * SIGTERM loses them, and leaves its workers running.
 */
static void
test_kore_stops_on_sigterm(void **state)
{
	(void)state;
	if (stopped_gracefully < 0)
		skip();
	if (!stopped_gracefully)
		fail_msg("kore did not exit with status 0 within 15 s of SIGTERM (see %s): its "
			 "workers were left behind and its buffered log lines were lost",
			 srv.log_path);
	assert_true(itest_file_contains(srv.log_path, "[parent]"));
	if (worker_was_killed && !itest_file_contains(srv.log_path, "restarting worker"))
		fail_msg("%s lacks Kore's \"restarting worker\" line", srv.log_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_description_line_breaks, check_server),
	    cmocka_unit_test_teardown(test_grants_many_boxes, check_server),
	    cmocka_unit_test_teardown(test_inline_save_clears_field, check_server),
	    cmocka_unit_test_teardown(test_fix_grid_cells, check_server),
	    cmocka_unit_test_teardown(test_fix_grid_emptied_cell, check_server),
	    cmocka_unit_test_teardown(test_many_headers, check_server),
	    cmocka_unit_test_teardown(test_cookie_attributes, check_server),
	    cmocka_unit_test_teardown(test_unknown_path_and_method, check_server),
	    cmocka_unit_test_teardown(test_body_over_app_limit, check_server),
	    cmocka_unit_test_teardown(test_client_gone_mid_request, check_server),
	    cmocka_unit_test_teardown(test_worker_killed_is_replaced, check_server),
	    cmocka_unit_test(test_logs_clean),
	    cmocka_unit_test(test_kore_stops_on_sigterm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

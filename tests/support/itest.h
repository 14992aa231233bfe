/*
 * itest — shared helpers for the integration tests.
 *
 * tests/run-all prepares a throw-away PostgreSQL cluster, migrates it, and
 * passes its conninfo in SPANNER_TEST_CONNINFO and the server binary in
 * SPANNER_BIN. Tests start real server processes against that database and
 * talk to them over HTTP with libcurl: nothing is mocked.
 */
#ifndef SPANNER_ITEST_H
#define SPANNER_ITEST_H

#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

struct itest_server {
	pid_t pid;
	int port;
	char base_url[64];
	char log_path[512];
};

struct itest_resp {
	long status;
	buf headers; /* raw header lines */
	buf body;
};

/*
 * Statements on itest_pg()'s connection, for arranging and checking data. A
 * failing statement fails the running cmocka test with the SQL and the error.
 */
void itest_sql_ok(const char *sql, int n, const char *const *params);
/* The first column of the first row (malloc'ed), or NULL for no row or SQL NULL. */
char *itest_sql_value(const char *sql, int n, const char *const *params);
/* That value as a number; -1 when there is none. */
long itest_sql_count(const char *sql, int n, const char *const *params);

/*
 * The path of rel in the shared test material: $SPANNER_TESTDATA (set by
 * tests/run-all), or ../shared/testdata from the project root. Static
 * storage: the next call overwrites it.
 */
const char *itest_testdata(const char *rel);

/*
 * A company made by SQL in segment_id with this status (a rejected one gets a
 * reason), created by creator; its id in id.
 */
void itest_company(char id[37], const char *name, const char *segment_id, const char *status,
		   const char *creator);

/*
 * A user holding role (its name: "Researcher"), named label, with a session
 * made straight in the database as a sign-in would: id, the session cookie's
 * value (token) and its CSRF token (csrf).
 */
void itest_user_session(const char *label, const char *role, char id[37], char token[65],
			char csrf[65]);

/*
 * A user made by SQL (no password) named "<who> <pid>", e-mail
 * <who>-<pid>@itest.example (unique per test process, so a suite can run again on
 * the same database), holding role when it is not NULL; its id in id.
 */
void itest_user(char id[37], const char *who, const char *role);

/*
 * A session for user_id made directly in the database (cheap: no sign-in, no
 * Argon2): the cookie's token and the session's CSRF token, 64 hex each.
 */
void itest_session(const char *user_id, char token[65], char csrf[65]);

/*
 * A field getter (records_get_fn, domain/records.h) over ctx, a NULL-terminated
 * array of column, value pairs: the values a form or a JSON body would send.
 */
const char *itest_pairs_get(void *ctx, const char *column);

/* The test database's conninfo; NULL (and a message) when not run by tests/run-all. */
const char *itest_conninfo(void);
PGconn *itest_pg(void);
int itest_free_port(void);

/*
 * Starts SPANNER_BIN with SPANNER_BIND on a free port, the given extra
 * environment ("KEY=value", NULL-terminated; may be NULL) and waits for
 * /healthz. Unless extra sets SPANNER_DATABASE or SPANNER_VAR_DIR, it serves the
 * test database. Output goes to var/test/<name>.log. 0 or -1.
 */
int itest_server_start(struct itest_server *s, const char *name, const char *const *extra_env);
/* SIGTERM, wait; returns the exit status (or -1 if it had to be killed). */
int itest_server_stop(struct itest_server *s);

/*
 * One HTTP request. headers: NULL-terminated "Name: value" list (may be NULL);
 * body may be NULL. Returns 0 when a response arrived.
 */
int itest_http(const char *method, const char *url, const char *const *headers, const char *body,
	       size_t body_len, struct itest_resp *out);
/* Value of a response header (case-insensitive name), malloc'ed, or NULL. */
char *itest_header(const struct itest_resp *r, const char *name);
/* The response's last Set-Cookie for name, "name=value; attributes" (malloc'ed), or NULL. */
char *itest_set_cookie(const struct itest_resp *r, const char *name);
/* The value the response's last Set-Cookie gives cookie name (malloc'ed), or NULL. */
char *itest_cookie(const struct itest_resp *r, const char *name);
void itest_resp_free(struct itest_resp *r);

/*
 * GET path (a public form page such as "/login") on the server at base: its
 * anonymous CSRF cookie (spanner_pre) and the form's csrf_token field. Fails
 * the running test when either is missing.
 */
void itest_public_form(const char *base, const char *path, char pre[65], char field[65]);
/*
 * POST /login at base with a fresh form: fields are the urlencoded fields
 * after the CSRF token ("email=...&password=..."), headers more request
 * headers (NULL-terminated, may be NULL). The response is out's. 0 or -1.
 */
int itest_sign_in_post(const char *base, const char *fields, const char *const *headers,
		       struct itest_resp *out);
/*
 * Signs in at base (email and password URL-safe) and fills session (the
 * spanner_session cookie's value) and csrf (the session's form token, read
 * from the home page). Fails the running test when either is missing.
 */
void itest_signed_in(const char *base, const char *email, const char *password, char session[160],
		     char csrf[160]);

/* 1 when the file contains needle. */
int itest_file_contains(const char *path, const char *needle);

/*
 * multipart/form-data bodies, as a browser sends a form with
 * enctype="multipart/form-data" (every form of Spanner's): fields, file
 * parts, then the closing delimiter. Send with Content-Type ITEST_MULTIPART.
 */
#define ITEST_BOUNDARY "----spanner-itest-6f1d2c9a7e3b"
#define ITEST_MULTIPART "multipart/form-data; boundary=" ITEST_BOUNDARY
/* One text field; value is sent byte for byte (line breaks and tabs included). */
void itest_multipart_field(buf *b, const char *name, const char *value);
/* One file part. */
void itest_multipart_file(buf *b, const char *name, const char *filename, const char *content_type,
			  const char *data, size_t len);
/* The closing delimiter: the body is complete after it. */
void itest_multipart_end(buf *b);

/* How a request asks: as a browser page, as htmx for a fragment, or for the JSON view model. */
enum itest_how { ITEST_HTML, ITEST_HTMX, ITEST_JSON };

/*
 * One signed-in request to base + path with the session cookie token and its
 * CSRF token csrf (only read with a form). form: NULL-terminated name, value pairs sent as
 * multipart (NULL: no body); a browser form carries the CSRF token as a field, htmx and JSON
 * callers in X-CSRF-Token. Fails the running test when no answer comes or the answer is a 5xx.
 */
void itest_call(const char *base, const char *token, const char *csrf, const char *method,
		const char *path, const char *const *form, enum itest_how how,
		struct itest_resp *r);

#endif

/*
 * itest — server processes and HTTP for integration tests.
 */
#include "itest.h"

#include "core/password.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/password.h"

static size_t itest_collect(char *data, size_t size, size_t n, void *cls);
static void itest_reap(void);

/*
 * Servers still running when the test process ends — a failed group setup
 * skips cmocka's teardown — are stopped here, so no stray server keeps
 * claiming jobs from the shared test database for the next suite.
 */
#define ITEST_MAX_SERVERS 32
static pid_t itest_pids[ITEST_MAX_SERVERS];
static int itest_reaper_installed;

static void
itest_reap(void)
{
	int i;

	for (i = 0; i < ITEST_MAX_SERVERS; i++) {
		if (itest_pids[i] > 0) {
			kill(-itest_pids[i], SIGKILL); /* kore and its workers */
			waitpid(itest_pids[i], NULL, 0);
			itest_pids[i] = 0;
		}
	}
}

const char *
itest_conninfo(void)
{
	const char *c = getenv("SPANNER_TEST_CONNINFO");

	if (!c || !*c) {
		fprintf(stderr, "SPANNER_TEST_CONNINFO is not set: run through tests/run-all\n");
		return NULL;
	}
	return c;
}

const char *
itest_testdata(const char *rel)
{
	static char path[4096];
	const char *base = getenv("SPANNER_TESTDATA");

	if (!base || !*base)
		base = "../shared/testdata";
	snprintf(path, sizeof path, "%s/%s", base, rel);
	return path;
}

PGconn *
itest_pg(void)
{
	const char *ci = itest_conninfo();
	PGconn *c;

	if (!ci)
		return NULL;
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect to the test database: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

int
itest_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static size_t
itest_collect(char *data, size_t size, size_t n, void *cls)
{
	buf_append(cls, data, size * n);
	return size * n;
}

int
itest_http(const char *method, const char *url, const char *const *headers, const char *body,
	   size_t body_len, struct itest_resp *out)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *list = NULL;
	CURLcode rc;

	memset(out, 0, sizeof *out);
	if (!curl)
		return -1;
	for (; headers && *headers; headers++)
		list = curl_slist_append(list, *headers);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, itest_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, itest_collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	else
		fprintf(stderr, "itest_http %s %s: %s\n", method, url, curl_easy_strerror(rc));
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -1;
}

char *
itest_header(const struct itest_resp *r, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = r->headers.data;

	while (line && *line) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, len - (size_t)(v - line));
		}
		line = end ? end + 2 : NULL;
	}
	return NULL;
}

char *
itest_set_cookie(const struct itest_resp *r, const char *name)
{
	const char *line = r->headers.data;
	size_t nlen = strlen(name);
	char *found = NULL;

	while (line && *line) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > 11 && strncasecmp(line, "Set-Cookie:", 11) == 0) {
			const char *v = line + 11;

			while (*v == ' ')
				v++;
			if (strncmp(v, name, nlen) == 0 && v[nlen] == '=') {
				free(found);
				found = xstrndup(v, len - (size_t)(v - line));
			}
		}
		line = end ? end + 2 : NULL;
	}
	return found;
}

char *
itest_cookie(const struct itest_resp *r, const char *name)
{
	char *line = itest_set_cookie(r, name), *value;

	if (!line)
		return NULL;
	value = xstrndup(line + strlen(name) + 1, strcspn(line + strlen(name) + 1, ";"));
	free(line);
	return value;
}

void
itest_resp_free(struct itest_resp *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

void
itest_public_form(const char *base, const char *path, char pre[65], char field[65])
{
	char url[512], *cookie, *v;
	struct itest_resp r;

	snprintf(url, sizeof url, "%s%s", base, path);
	if (itest_http("GET", url, NULL, NULL, 0, &r) != 0)
		fail_msg("GET %s failed", url);
	cookie = itest_cookie(&r, "spanner_pre");
	v = r.body.data ? strstr(r.body.data, "name=\"csrf_token\" value=\"") : NULL;
	if (!cookie || strlen(cookie) != 64 || !v ||
	    sscanf(v, "name=\"csrf_token\" value=\"%64[0-9a-f]\"", field) != 1)
		fail_msg("GET %s: no anonymous CSRF cookie and field (status %ld)", url, r.status);
	snprintf(pre, 65, "%s", cookie);
	free(cookie);
	itest_resp_free(&r);
}

int
itest_sign_in_post(const char *base, const char *fields, const char *const *headers,
		   struct itest_resp *out)
{
	char pre[65], field[65], url[512], cookie[128];
	const char *all[16] = {cookie, "Content-Type: application/x-www-form-urlencoded"};
	buf body = BUF_INIT;
	size_t n = 2;
	int rc;

	itest_public_form(base, "/login", pre, field);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_pre=%s", pre);
	for (; headers && *headers && n < 15; headers++)
		all[n++] = *headers;
	all[n] = NULL;
	buf_printf(&body, "csrf_token=%s&%s", field, fields);
	snprintf(url, sizeof url, "%s/login", base);
	rc = itest_http("POST", url, all, body.data, body.len, out);
	buf_free(&body);
	return rc;
}

void
itest_signed_in(const char *base, const char *email, const char *password, char session[160],
		char csrf[160])
{
	struct itest_resp r;
	char url[512], cookie[256];
	const char *h[2] = {cookie, NULL};
	const char *marker = "name=\"csrf_token\" value=\"", *p, *end;
	char *v;
	buf fields = BUF_INIT;

	buf_printf(&fields, "email=%s&password=%s", email, password);
	if (itest_sign_in_post(base, fields.data, NULL, &r) != 0 || r.status != 303)
		fail_msg("sign-in as %s failed (%ld)", email, r.status);
	buf_free(&fields);
	v = itest_cookie(&r, "spanner_session");
	if (!v || strlen(v) >= 160)
		fail_msg("sign-in as %s set no session cookie", email);
	snprintf(session, 160, "%s", v);
	free(v);
	itest_resp_free(&r);
	snprintf(url, sizeof url, "%s/", base);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", session);
	if (itest_http("GET", url, h, NULL, 0, &r) != 0 || r.status != 200)
		fail_msg("the home page after signing in as %s answered %ld", email, r.status);
	p = r.body.data ? strstr(r.body.data, marker) : NULL;
	end = p ? strchr(p + strlen(marker), '"') : NULL;
	if (!end || (size_t)(end - p - strlen(marker)) >= 160)
		fail_msg("no CSRF token on the home page");
	snprintf(csrf, 160, "%.*s", (int)(end - p - strlen(marker)), p + strlen(marker));
	itest_resp_free(&r);
}

int
itest_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	int found;

	if (!f)
		return 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	found = b.data && strstr(b.data, needle) != NULL;
	buf_free(&b);
	return found;
}

int
itest_server_start(struct itest_server *s, const char *name, const char *const *extra_env)
{
	const char *bin = getenv("SPANNER_BIN");
	char bind[64], url[128];
	int i, has_db = 0;

	memset(s, 0, sizeof *s);
	if (!bin)
		bin = "scripts/kore-serve";
	s->port = itest_free_port();
	snprintf(bind, sizeof bind, "127.0.0.1:%d", s->port);
	snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", s->port);
	mkdir("var", 0755);
	mkdir("var/test", 0755);
	snprintf(s->log_path, sizeof s->log_path, "var/test/%s.log", name);
	for (i = 0; extra_env && extra_env[i]; i++)
		if (!strncmp(extra_env[i], "SPANNER_DATABASE=", 17) ||
		    !strncmp(extra_env[i], "SPANNER_VAR_DIR=", 16))
			has_db = 1;

	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Its own process group: kore's workers can be stopped with it. */
		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		setenv("SPANNER_BIND", bind, 1);
		setenv("SPANNER_BASE_URL", s->base_url, 1);
		setenv("SPANNER_VAR_DIR", "var/test", 1);
		setenv("SPANNER_DEMO", "0", 1);
		setenv("SPANNER_ARGON2_M_COST", "8192", 1);
		setenv("SPANNER_ARGON2_T_COST", "1", 1);
		/*
		 * Every suite signs in from 127.0.0.1 against one database; a short
		 * throttle window keeps one suite's deliberate failures from
		 * pausing the next suite's sign-ins. test_access sets its own.
		 */
		setenv("SPANNER_LOGIN_WINDOW", "1", 1);
		if (!has_db && itest_conninfo())
			setenv("SPANNER_DATABASE", itest_conninfo(), 1);
		for (i = 0; extra_env && extra_env[i]; i++)
			putenv((char *)extra_env[i]);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	setpgid(s->pid, s->pid); /* as the child does: whichever runs first */
	if (!itest_reaper_installed) {
		atexit(itest_reap);
		itest_reaper_installed = 1;
	}
	for (i = 0; i < ITEST_MAX_SERVERS; i++) {
		if (itest_pids[i] == 0) {
			itest_pids[i] = s->pid;
			break;
		}
	}
	/* Up to 60 s: an embedded cluster's first initdb under ASan takes a while. */
	snprintf(url, sizeof url, "%s/healthz", s->base_url);
	for (i = 0; i < 600; i++) {
		struct itest_resp r;
		int status;

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "server %s exited during start; see %s\n", name,
				s->log_path);
			for (int k = 0; k < ITEST_MAX_SERVERS; k++)
				if (itest_pids[k] == s->pid)
					itest_pids[k] = 0;
			s->pid = 0;
			return -1;
		}
		if (itest_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
			itest_resp_free(&r);
			return 0;
		}
		itest_resp_free(&r);
		usleep(100000);
	}
	fprintf(stderr, "server %s did not become healthy; see %s\n", name, s->log_path);
	itest_server_stop(s);
	return -1;
}

int
itest_server_stop(struct itest_server *s)
{
	int status, i;

	if (s->pid <= 0)
		return -1;
	for (i = 0; i < ITEST_MAX_SERVERS; i++)
		if (itest_pids[i] == s->pid)
			itest_pids[i] = 0;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 300; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		usleep(50000);
	}
	kill(-s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
	return -1;
}

void
itest_multipart_field(buf *b, const char *name, const char *value)
{
	buf_printf(b, "--" ITEST_BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
		   name);
	buf_puts(b, value ? value : "");
	buf_puts(b, "\r\n");
}

void
itest_multipart_file(buf *b, const char *name, const char *filename, const char *content_type,
		     const char *data, size_t len)
{
	buf_printf(b,
		   "--" ITEST_BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"; "
		   "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
		   name, filename, content_type ? content_type : "application/octet-stream");
	buf_append(b, data, len);
	buf_puts(b, "\r\n");
}

void
itest_multipart_end(buf *b)
{
	buf_puts(b, "--" ITEST_BOUNDARY "--\r\n");
}

void
itest_call(const char *base, const char *token, const char *csrf, const char *method,
	   const char *path, const char *const *form, enum itest_how how, struct itest_resp *r)
{
	char url[4096], cookie[256], csrf_header[256];
	const char *headers[6];
	buf body = BUF_INIT;
	int n = 0;

	snprintf(url, sizeof url, "%s%s", base, path);
	snprintf(cookie, sizeof cookie, "Cookie: spanner_session=%s", token);
	headers[n++] = cookie;
	if (how == ITEST_JSON)
		headers[n++] = "Accept: application/json";
	if (how == ITEST_HTMX)
		headers[n++] = "HX-Request: true";
	if (form) {
		headers[n++] = "Content-Type: " ITEST_MULTIPART;
		snprintf(csrf_header, sizeof csrf_header, "X-CSRF-Token: %s", csrf);
		if (how == ITEST_HTML)
			itest_multipart_field(&body, "csrf_token", csrf);
		else
			headers[n++] = csrf_header;
		for (; form[0]; form += 2)
			itest_multipart_field(&body, form[0], form[1]);
		itest_multipart_end(&body);
	}
	headers[n] = NULL;
	if (itest_http(method, url, headers, form ? body.data : NULL, body.len, r) != 0)
		fail_msg("no answer for %s %s", method, path);
	buf_free(&body);
	if (r->status >= 500)
		fail_msg("%s %s: %ld\n%.2000s", method, path, r->status,
			 r->body.data ? r->body.data : "");
}

/* The helpers' own connection, opened on first use and kept for the process. */
static PGconn *
itest_sql_conn(void)
{
	static PGconn *c;

	if (!c || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		c = itest_pg();
		if (!c)
			fail_msg("no test database");
	}
	return c;
}

void
itest_sql_ok(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(itest_sql_conn(), sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(itest_sql_conn()));
	PQclear(r);
}

char *
itest_sql_value(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(itest_sql_conn(), sql, n, NULL, params, NULL, NULL, 0);
	char *v = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(itest_sql_conn()));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

long
itest_sql_count(const char *sql, int n, const char *const *params)
{
	char *v = itest_sql_value(sql, n, params);
	long c = v ? atol(v) : -1;

	free(v);
	return c;
}

void
itest_company(char id[37], const char *name, const char *segment_id, const char *status,
	      const char *creator)
{
	const char *p[4] = {name, segment_id, status, creator};
	char *v = itest_sql_value(
	    "INSERT INTO companies (name, segment_id, status, rejection_reason, created_by) VALUES "
	    "($1, $2, $3, CASE WHEN $3 = 'rejected' THEN 'Not a fit' END, $4) RETURNING id",
	    4, p);

	snprintf(id, 37, "%s", v ? v : "");
	free(v);
}

/* A user by SQL with this e-mail and name, holding role when not NULL; its id in id. */
static void
itest_user_named(char id[37], const char *email, const char *name, const char *role)
{
	const char *p[2] = {email, name};
	char *v = itest_sql_value("INSERT INTO users (email, name) VALUES (lower($1), $2) "
				  "RETURNING id",
				  2, p);

	snprintf(id, 37, "%s", v ? v : "");
	free(v);
	if (role) {
		p[0] = id;
		p[1] = role;
		itest_sql_ok("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles "
			     "WHERE name = $2",
			     2, p);
	}
}

void
itest_user_session(const char *label, const char *role, char id[37], char token[65], char csrf[65])
{
	char email[200], *e;

	snprintf(email, sizeof email, "%s@itest.example", label);
	for (e = email; *e; e++)
		if (*e == ' ')
			*e = '-';
	itest_user_named(id, email, label, role);
	itest_session(id, token, csrf);
}

void
itest_user(char id[37], const char *who, const char *role)
{
	char email[160], name[160];

	snprintf(email, sizeof email, "%s-%d@itest.example", who, (int)getpid());
	snprintf(name, sizeof name, "%s %d", who, (int)getpid());
	itest_user_named(id, email, name, role);
}

void
itest_session(const char *user_id, char token[65], char csrf[65])
{
	const char *p[3] = {token, user_id, csrf};

	password_random_hex(token, 32);
	password_random_hex(csrf, 32);
	itest_sql_ok("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
		     "(sha256(convert_to($1, 'UTF8')), $2, $3, now() + interval '2 hours')",
		     3, p);
}

const char *
itest_pairs_get(void *ctx, const char *column)
{
	const char *const *kv = ctx;

	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], column) == 0)
			return kv[1];
	return NULL;
}

/*
 * Forgot / reset password end to end, against a real server, the test
 * database and a real SMTP sink (Debian's python3-aiosmtpd writing a Maildir).
 *
 * The links are read out of the messages the sink received, exactly as a
 * person would click them. Covered: the whole flow (mail → link → new password
 * → signed in, other sessions ended, old password dead), single use (also
 * under a race), expiry, a newer link retiring older ones, the identical
 * answer for unknown addresses, the set-password invitation with a non-ASCII
 * name and subject, a relay that fails (recorded once, not retried), the
 * outbox mode with /admin/outbox for Admins only, the per-account limit, and
 * that no token or password ends up in audit rows, logs or outbox columns
 * other than the body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mail.h"
#include "core/password.h"
#include "core/render.h"
#include "domain/resets.h"
#include "itest.h"

#define OLD_PASSWORD "old-Passw0rd-for-tests"
#define SINK_PYTHON "/usr/bin/python3"
#define ADMIN_EMAIL "admin@example.com"
#define ADMIN_PASSWORD "test-admin-password"
#define SENT_PAGE "/password/forgot?sent=1"
/*
 * The sign-in throttle also counts failures per client address, and every
 * test signs in from 127.0.0.1: earlier suites' deliberate failures must not
 * throttle this one (which is not about throttling).
 */
#define LOGIN_UNTHROTTLED "SPANNER_LOGIN_WINDOW=1"

static struct itest_server srv;
static PGconn *pg;
static struct config cfg; /* for password_hash and the in-process resets_issue */
static char *old_hash;
static pid_t sink_pid;
static int sink_port;
static char sink_dir[256];
static buf secrets = BUF_INIT; /* every token and password used, one per line */
static int user_seq;
static long last_forgot_ms; /* how long the last POST /password/forgot took */

static void sql_ok(const char *sql, int n, const char *const *params);
static char *sql_value(const char *sql, int n, const char *const *params);
static void make_user(const char *tag, const char *name, int with_password, char id[37],
		      char email[128]);
static void remember_secret(const char *s);
static int sink_start(void);
static void sink_stop(void);
static char **sink_messages(const char *to);
static void free_messages(char **m);
static int sink_count(const char *to);
static char *sink_wait(const char *to, int nth);
static char *mail_header(const char *msg, const char *name);
static char *mail_body(const char *msg);
static void qp_decode(char *s);
static int extract_token(const char *body, char token[65]);
static char *link_from_sink(const char *to, int nth, char token[65]);
static void form_add(buf *b, const char *key, const char *value);
static void http_get(const char *path, const char *cookie, struct itest_resp *r);
static void http_post(const char *path, const char *cookie, const char *body, struct itest_resp *r);
static void csrf_from(const struct itest_resp *r, char csrf[65]);
static void anon_form(const char *path, char pre[65], char csrf[65], struct itest_resp *r);
static long forgot(const char *email, struct itest_resp *out);
static long sign_in(const char *email, const char *password, char session[65]);
static long reset_post(const char *token, const char *password, const char *confirm,
		       char session[65], char **flash);
static void wait_job_done(const char *to);
static int restart_server(const char *name, const char *const *env);
static long now_ms(void);

/* ---------------------------------------------------------------- database */

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

/* A fresh account per scenario, so every mailbox in the sink belongs to one test. */
static void
make_user(const char *tag, const char *name, int with_password, char id[37], char email[128])
{
	const char *p[3] = {email, name, with_password ? old_hash : NULL};
	char *v;

	snprintf(email, 128, "reset-%s-%d-%d@example.com", tag, (int)getpid(), ++user_seq);
	v = sql_value("INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
		      "RETURNING id",
		      3, p);
	assert_non_null(v);
	snprintf(id, 37, "%s", v);
	free(v);
}

static void
remember_secret(const char *s)
{
	buf_puts(&secrets, s);
	buf_putc(&secrets, '\n');
}

/* ---------------------------------------------------------------- the SMTP sink */

static int
sink_start(void)
{
	char listen[64];
	int i;

	if (access(SINK_PYTHON, X_OK) != 0) {
		fprintf(stderr, "%s missing: install python3-aiosmtpd\n", SINK_PYTHON);
		return -1;
	}
	snprintf(sink_dir, sizeof sink_dir, "var/test/smtp-sink-%d", (int)getpid());
	mkdir("var", 0755);
	mkdir("var/test", 0755);
	mkdir(sink_dir, 0755);
	/* A Maildir: the handler only creates these itself when the directory is new. */
	for (i = 0; i < 3; i++) {
		static const char *const sub[] = {"tmp", "new", "cur"};
		char path[300];

		snprintf(path, sizeof path, "%s/%s", sink_dir, sub[i]);
		mkdir(path, 0755);
	}
	sink_port = itest_free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%d", sink_port);
	sink_pid = fork();
	if (sink_pid < 0)
		return -1;
	if (sink_pid == 0) {
		/* Debian's python, not whatever python3 is first on PATH. */
		execl(SINK_PYTHON, SINK_PYTHON, "-m", "aiosmtpd", "-n", "-l", listen, "-c",
		      "aiosmtpd.handlers.Mailbox", sink_dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		struct sockaddr_in sin;
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)sink_port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
		close(fd);
		if (ok)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "the SMTP sink did not start listening on %s\n", listen);
	return -1;
}

static void
sink_stop(void)
{
	int status;

	if (sink_pid <= 0)
		return;
	kill(sink_pid, SIGTERM);
	waitpid(sink_pid, &status, 0);
	sink_pid = 0;
}

/* Every message the sink holds for `to`, in no particular order (NULL-terminated). */
static char **
sink_messages(const char *to)
{
	char dir[300], path[600], needle[200];
	char **out = xcalloc(64, sizeof *out);
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/new", sink_dir);
	snprintf(needle, sizeof needle, "\nTo: %s", to);
	d = opendir(dir);
	while (d && (e = readdir(d)) != NULL && n < 63) {
		FILE *f;
		buf b = BUF_INIT;
		char chunk[4096];
		size_t got;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, got);
		fclose(f);
		if (b.data && strstr(b.data, needle))
			out[n++] = buf_steal(&b);
		buf_free(&b);
	}
	if (d)
		closedir(d);
	return out;
}

static void
free_messages(char **m)
{
	int i;

	for (i = 0; m[i]; i++)
		free(m[i]);
	free(m);
}

static int
sink_count(const char *to)
{
	char **m = sink_messages(to);
	int n = 0;

	while (m[n])
		n++;
	free_messages(m);
	return n;
}

/*
 * Waits up to 20 s until the sink holds nth messages for `to`, and returns
 * the one that is not among the first nth-1 (by token), or the only one.
 */
static char *
sink_wait(const char *to, int nth)
{
	int i;

	for (i = 0; i < 200; i++) {
		char **m = sink_messages(to);
		int n = 0;

		while (m[n])
			n++;
		if (n >= nth) {
			char *found = NULL;
			int k;

			assert_int_equal(n, nth);
			for (k = 0; k < n && !found; k++) {
				char *body = mail_body(m[k]);
				char token[65];

				if (extract_token(body, token) == 0 &&
				    (nth == 1 || !strstr(secrets.data ? secrets.data : "", token)))
					found = xstrdup(m[k]);
				free(body);
			}
			free_messages(m);
			assert_non_null(found);
			return found;
		}
		free_messages(m);
		usleep(100000);
	}
	fail_msg("no message %d for %s arrived in the SMTP sink", nth, to);
	return NULL;
}

/* ---------------------------------------------------------------- reading messages */

static char *
mail_header(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = msg;

	while (line && *line && *line != '\n' && *line != '\r') {
		const char *end = strchr(line, '\n');

		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			buf b = BUF_INIT;

			while (*v == ' ')
				v++;
			/* Unfold continuation lines. */
			for (;;) {
				const char *e = strchr(v, '\n');
				size_t len = e ? (size_t)(e - v) : strlen(v);

				if (len && v[len - 1] == '\r')
					len--;
				buf_append(&b, v, len);
				if (!e || (e[1] != ' ' && e[1] != '\t'))
					break;
				v = e + 1;
			}
			return buf_steal(&b);
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The decoded body (quoted-printable undone), line ends as "\n". */
static char *
mail_body(const char *msg)
{
	const char *sep = strstr(msg, "\n\n");
	const char *sep_crlf = strstr(msg, "\r\n\r\n");
	char *cte = mail_header(msg, "Content-Transfer-Encoding");
	char *body, *w, *r;

	if (sep_crlf && (!sep || sep_crlf < sep))
		body = xstrdup(sep_crlf + 4);
	else
		body = xstrdup(sep ? sep + 2 : "");
	for (r = w = body; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	if (cte && strcasecmp(cte, "quoted-printable") == 0)
		qp_decode(body);
	free(cte);
	return body;
}

static void
qp_decode(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '=' && r[1] == '\n') {
			r += 2;
		} else if (r[0] == '=' && isxdigit((unsigned char)r[1]) &&
			   isxdigit((unsigned char)r[2])) {
			char hex[3] = {r[1], r[2], 0};

			*w++ = (char)strtol(hex, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static int
extract_token(const char *body, char token[65])
{
	const char *p = strstr(body, "/password/reset?token=");
	int i;

	if (!p)
		return -1;
	p += strlen("/password/reset?token=");
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		token[i] = p[i];
	}
	token[64] = '\0';
	return isxdigit((unsigned char)p[64]) ? -1 : 0;
}

/* Waits for the nth message to `to`, checks its link points at this server, returns it. */
static char *
link_from_sink(const char *to, int nth, char token[65])
{
	char *msg = sink_wait(to, nth);
	char *body = mail_body(msg);
	char prefix[160];
	char *link;

	snprintf(prefix, sizeof prefix, "%s/password/reset?token=", srv.base_url);
	assert_non_null(strstr(body, prefix));
	assert_int_equal(extract_token(body, token), 0);
	remember_secret(token);
	link = xstrdup(strstr(body, "/password/reset?token="));
	link[strlen("/password/reset?token=") + 64] = '\0';
	free(body);
	free(msg);
	return link;
}

/* ---------------------------------------------------------------- HTTP */

static void
form_add(buf *b, const char *key, const char *value)
{
	const unsigned char *p;

	if (b->len)
		buf_putc(b, '&');
	buf_printf(b, "%s=", key);
	for (p = (const unsigned char *)value; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

static void
http_get(const char *path, const char *cookie, struct itest_resp *r)
{
	char url[600], header[400];
	const char *headers[] = {header, NULL};

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	snprintf(header, sizeof header, "Cookie: %s", cookie ? cookie : "");
	assert_int_equal(itest_http("GET", url, cookie ? headers : NULL, NULL, 0, r), 0);
}

static void
http_post(const char *path, const char *cookie, const char *body, struct itest_resp *r)
{
	char url[600], header[400];
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", header, NULL};

	snprintf(url, sizeof url, "%s%s", srv.base_url, path);
	snprintf(header, sizeof header, "Cookie: %s", cookie ? cookie : "");
	assert_int_equal(itest_http("POST", url, headers, body, strlen(body), r), 0);
}

static void
csrf_from(const struct itest_resp *r, char csrf[65])
{
	const char *p = r->body.data ? strstr(r->body.data, "name=\"csrf_token\" value=\"") : NULL;

	assert_non_null(p);
	p += strlen("name=\"csrf_token\" value=\"");
	memcpy(csrf, p, 64);
	csrf[64] = '\0';
}

/* GET an anonymous form page: the double-submit cookie and the token in the page. */
static void
anon_form(const char *path, char pre[65], char csrf[65], struct itest_resp *r)
{
	char *cookie;

	http_get(path, NULL, r);
	assert_int_equal(r->status, 200);
	cookie = itest_cookie(r, "spanner_pre");
	assert_non_null(cookie);
	snprintf(pre, 65, "%s", cookie);
	free(cookie);
	csrf_from(r, csrf);
}

static long
forgot(const char *email, struct itest_resp *out)
{
	char pre[65], csrf[65], cookie[100];
	struct itest_resp page;
	buf body = BUF_INIT;
	long status;

	anon_form("/password/forgot", pre, csrf, &page);
	itest_resp_free(&page);
	snprintf(cookie, sizeof cookie, "spanner_pre=%s", pre);
	form_add(&body, "csrf_token", csrf);
	form_add(&body, "email", email);
	last_forgot_ms = now_ms();
	http_post("/password/forgot", cookie, body.data, out);
	last_forgot_ms = now_ms() - last_forgot_ms;
	buf_free(&body);
	status = out->status;
	return status;
}

static long
sign_in(const char *email, const char *password, char session[65])
{
	char pre[65], csrf[65], cookie[100];
	struct itest_resp page, r;
	buf body = BUF_INIT;
	long status;
	char *s;

	anon_form("/login", pre, csrf, &page);
	itest_resp_free(&page);
	snprintf(cookie, sizeof cookie, "spanner_pre=%s", pre);
	form_add(&body, "csrf_token", csrf);
	form_add(&body, "email", email);
	form_add(&body, "password", password);
	http_post("/login", cookie, body.data, &r);
	buf_free(&body);
	status = r.status;
	s = itest_cookie(&r, "spanner_session");
	if (session)
		snprintf(session, 65, "%s", s && status == 303 ? s : "");
	free(s);
	itest_resp_free(&r);
	return status;
}

/*
 * Opens the link (as a browser would, getting the anonymous CSRF pair) and
 * posts the new password. Returns the status; session and flash receive the
 * cookies set by a success.
 */
static long
reset_post(const char *token, const char *password, const char *confirm, char session[65],
	   char **flash)
{
	char pre[65], csrf[65], cookie[100], path[200];
	struct itest_resp page, r;
	buf body = BUF_INIT;
	long status;
	char *s;

	snprintf(path, sizeof path, "/password/reset?token=%s", token);
	anon_form(path, pre, csrf, &page);
	itest_resp_free(&page);
	snprintf(cookie, sizeof cookie, "spanner_pre=%s", pre);
	form_add(&body, "csrf_token", csrf);
	form_add(&body, "token", token);
	form_add(&body, "password", password);
	form_add(&body, "password_confirm", confirm);
	http_post("/password/reset", cookie, body.data, &r);
	buf_free(&body);
	status = r.status;
	s = itest_cookie(&r, "spanner_session");
	if (session)
		snprintf(session, 65, "%s", s ? s : "");
	free(s);
	if (flash)
		*flash = itest_cookie(&r, "spanner_flash");
	if (status == 303) {
		char *loc = itest_header(&r, "Location");

		assert_non_null(loc);
		assert_string_equal(loc, "/");
		free(loc);
	}
	itest_resp_free(&r);
	return status;
}

/* Waits until the mail.send job of the newest outbox row for `to` has finished. */
static void
wait_job_done(const char *to)
{
	const char *p[1] = {to};
	int i;

	for (i = 0; i < 200; i++) {
		char *v = sql_value(
		    "SELECT j.state FROM outbox o JOIN jobs j ON j.kind = 'mail.send' AND "
		    "j.payload->>'outbox_id' = o.id::text WHERE o.to_address = $1 "
		    "ORDER BY o.created_at DESC LIMIT 1",
		    1, p);
		int done = v && (strcmp(v, "done") == 0 || strcmp(v, "failed") == 0);

		free(v);
		if (done)
			return;
		usleep(100000);
	}
	fail_msg("the mail.send job for %s did not finish", to);
}

static int
restart_server(const char *name, const char *const *env)
{
	if (srv.pid > 0 && itest_server_stop(&srv) != 0)
		return -1;
	return itest_server_start(&srv, name, env);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- set-up */

static int
setup(void **state)
{
	static char smtp_url[64];
	static const char *env[5];
	char err[256];

	(void)state;
	pg = itest_pg();
	if (!pg)
		return -1;
	config_defaults(&cfg);
	cfg.argon2_m_cost = 8192;
	cfg.argon2_t_cost = 1;
	old_hash = password_hash(&cfg, OLD_PASSWORD);
	if (!old_hash || render_init(&cfg, err, sizeof err) != 0)
		return -1;
	remember_secret(OLD_PASSWORD);
	if (sink_start() != 0)
		return -1;
	snprintf(smtp_url, sizeof smtp_url, "SPANNER_SMTP_URL=smtp://127.0.0.1:%d", sink_port);
	env[0] = smtp_url;
	env[1] = "SPANNER_SMTP_FROM=Spanner Tests <noreply@spanner.test>";
	env[2] = LOGIN_UNTHROTTLED;
	env[3] = NULL;
	if (itest_server_start(&srv, "password_reset", env) != 0) {
		/* cmocka runs no teardown after a failed setup: leave nothing behind. */
		sink_stop();
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];
	int rc = 0;

	(void)state;
	if (srv.pid > 0)
		rc = itest_server_stop(&srv) == 0 ? 0 : -1;
	sink_stop();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sink_dir);
	if (sink_dir[0] && system(cmd) != 0)
		rc = -1;
	sql_ok("UPDATE users SET is_active = false WHERE email LIKE 'reset-%'", 0, NULL);
	PQfinish(pg);
	render_shutdown();
	free(old_hash);
	config_free(&cfg);
	buf_free(&secrets);
	return rc;
}

/* ---------------------------------------------------------------- tests */

/* The message format on its own: headers, encodings, line ends, no header injection. */
static void
test_mail_format(void **state)
{
	char *m, *a, *body;
	const char *line;

	(void)state;
	m = mail_format("Spanner <spanner@example.org>", "ada@example.com",
			"Plain subject\r\nBcc: victim@example.com",
			"Hi,\nline with = sign and trailing space \n\n.dot line\n", "abc-123",
			(time_t)1700000000);
	assert_non_null(strstr(m, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(m, "\r\nFrom: Spanner <spanner@example.org>\r\n"));
	assert_non_null(strstr(m, "\r\nTo: ada@example.com\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: Plain subject  Bcc: victim@example.com\r\n"));
	assert_null(strstr(m, "\nBcc:"));
	assert_non_null(strstr(m, "\r\nMessage-ID: <abc-123@example.org>\r\n"));
	assert_non_null(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	/* Plain ASCII goes as is, every line end CRLF. */
	assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: 7bit\r\n\r\nHi,\r\n"));
	assert_non_null(strstr(m, "\r\n.dot line\r\n"));
	for (line = m; (line = strchr(line, '\n')) != NULL; line++)
		assert_int_equal(line[-1], '\r');
	free(m);

	/* Non-ASCII: RFC 2047 subject, quoted-printable body with short lines. */
	m = mail_format("Zoë’s Spanner <z@example.org>", "b@example.com",
			"Welcome to Spanner – set your password and more words to fold it",
			"Hello Zoë,\n"
			"a=b trailing \n"
			"0123456789012345678901234567890123456789012345678901234567890123456789"
			"0123456789012345678901234567890123456789\n",
			"id", (time_t)0);
	assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "\r\nFrom: =?UTF-8?B?"));
	assert_non_null(strstr(m, " <z@example.org>\r\n"));
	assert_non_null(strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_non_null(strstr(m, "Hello Zo=C3=AB,\r\n"));
	assert_non_null(strstr(m, "a=3Db trailing=20\r\n"));
	for (line = m; *line;) {
		const char *end = strstr(line, "\r\n");

		assert_non_null(end);
		assert_true(end - line <= 78);
		line = end + 2;
	}
	body = mail_body(m);
	assert_non_null(strstr(body, "Hello Zoë,\na=b trailing \n0123456789"));
	free(body);
	free(m);

	/* A long ASCII subject is folded at spaces; unfolding gives it back whole. */
	{
		const char *subject = "A rather long subject line that keeps going well past the "
				      "seventy-eight character mark so that it has to be folded";
		const char *h, *stop;
		buf unfolded = BUF_INIT;

		m = mail_format("s@example.org", "b@example.com", subject, "Short.\n", "id",
				(time_t)0);
		h = strstr(m, "\r\nSubject: ") + 2;
		stop = strstr(h, "\r\nMessage-ID:");
		assert_non_null(strstr(h, "\r\n ")); /* folded at least once */
		for (line = h; line < stop;) {
			const char *end = strstr(line, "\r\n");

			assert_true(end - line <= 78);
			buf_append(&unfolded, line, (size_t)(end - line));
			line = end + 2;
		}
		assert_string_equal(unfolded.data + strlen("Subject: "), subject);
		buf_free(&unfolded);
		free(m);
	}

	a = mail_address("Spanner <noreply@example.org>");
	assert_string_equal(a, "noreply@example.org");
	free(a);
	a = mail_address(" plain@example.org ");
	assert_string_equal(a, "plain@example.org");
	free(a);
}

/* The whole flow, as a person goes through it. */
static void
test_reset_flow(void **state)
{
	char id[37], email[128], token[65], other[65], fresh[65], cookie[300], check[65];
	const char *new_password = "brand-New-passphrase-42";
	struct itest_resp r;
	char *msg, *h, *link, *flash, *v;
	const char *p[1] = {id};

	(void)state;
	remember_secret(new_password);
	make_user("flow", "Flow Tester", 1, id, email);
	/* A session from before the reset: it must end. */
	assert_int_equal(sign_in(email, OLD_PASSWORD, other), 303);
	assert_int_equal(strlen(other), 64);

	assert_int_equal(forgot(email, &r), 303);
	h = itest_header(&r, "Location");
	assert_string_equal(h, SENT_PAGE);
	free(h);
	itest_resp_free(&r);
	http_get(SENT_PAGE, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "If an account exists for that address, we sent a "
					    "link. It is valid for one hour."));
	itest_resp_free(&r);

	/* The message as the relay received it. */
	msg = sink_wait(email, 1);
	h = mail_header(msg, "Subject");
	assert_string_equal(h, "Reset your Spanner password");
	free(h);
	h = mail_header(msg, "From");
	assert_string_equal(h, "Spanner Tests <noreply@spanner.test>");
	free(h);
	h = mail_header(msg, "X-MailFrom");
	assert_string_equal(h, "noreply@spanner.test");
	free(h);
	h = mail_header(msg, "Message-ID");
	assert_non_null(h);
	assert_non_null(strstr(h, "@spanner.test>"));
	free(h);
	h = mail_header(msg, "Content-Type");
	assert_string_equal(h, "text/plain; charset=utf-8");
	free(h);
	h = mail_header(msg, "Date");
	assert_non_null(h);
	free(h);
	free(msg);

	link = link_from_sink(email, 1, token);
	http_get(link, NULL, &r);
	assert_int_equal(r.status, 200);
	h = itest_header(&r, "Cache-Control");
	assert_string_equal(h, "no-store");
	free(h);
	assert_non_null(strstr(r.body.data, "Choose a new password"));
	assert_non_null(strstr(r.body.data, "autocomplete=\"new-password\""));
	assert_non_null(strstr(r.body.data, email));
	itest_resp_free(&r);

	/* Refused passwords leave the link usable. */
	assert_int_equal(reset_post(token, "short", "short", NULL, NULL), 422);
	assert_int_equal(reset_post(token, email, email, NULL, NULL), 422);
	assert_int_equal(reset_post(token, new_password, "something-else-12", NULL, NULL), 422);

	assert_int_equal(reset_post(token, new_password, new_password, fresh, &flash), 303);
	assert_int_equal(strlen(fresh), 64);
	assert_non_null(flash);

	/* Signed in, with the message on the home page. */
	snprintf(cookie, sizeof cookie, "spanner_session=%s; spanner_flash=%s", fresh, flash);
	free(flash);
	http_get("/", cookie, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Flow Tester"));
	assert_non_null(strstr(r.body.data, "Your password has been changed"));
	itest_resp_free(&r);

	/* The other session has ended. */
	snprintf(cookie, sizeof cookie, "spanner_session=%s", other);
	http_get("/", cookie, &r);
	assert_int_equal(r.status, 303);
	h = itest_header(&r, "Location");
	assert_string_equal(h, "/login");
	free(h);
	itest_resp_free(&r);

	/* Old password dead, new one works. */
	assert_int_equal(sign_in(email, OLD_PASSWORD, NULL), 401);
	assert_int_equal(sign_in(email, new_password, check), 303);

	/* Single use: the same link again is refused, clearly. */
	http_get(link, NULL, &r);
	assert_int_equal(r.status, 410);
	assert_non_null(strstr(r.body.data, "already been used"));
	assert_non_null(strstr(r.body.data, "href=\"/password/forgot\""));
	itest_resp_free(&r);
	v = sql_value("SELECT count(*) FROM password_resets WHERE user_id = $1 AND used_at IS NOT "
		      "NULL",
		      1, p);
	assert_string_equal(v, "1");
	free(v);
	v = sql_value("SELECT password_changed_at IS NOT NULL FROM users WHERE id = $1", 1, p);
	assert_string_equal(v, "t");
	free(v);
	v = sql_value("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = "
		      "'password_reset' AND actor_id = $1",
		      1, p);
	assert_string_equal(v, "1");
	free(v);
	/* Only the hash is stored: the token itself is nowhere in the table. */
	v = sql_value("SELECT count(*) FROM password_resets WHERE token_hash = "
		      "sha256(convert_to($1, 'UTF8'))",
		      1, (const char *[]){token});
	assert_string_equal(v, "1");
	free(v);
	free(link);
}

/* An unknown address gets the very same answer, and no mail. */
static void
test_unknown_address_same_answer(void **state)
{
	char id[37], email[128], unknown[160];
	struct itest_resp known_r, unknown_r, inactive_r;
	char *known_loc, *unknown_loc, *inactive_loc, *v;
	const char *p[1] = {id};

	(void)state;
	make_user("known", "Known Person", 1, id, email);
	snprintf(unknown, sizeof unknown, "nobody-%d@example.com", (int)getpid());

	/* Both answers take at least the floor, so their timing cannot tell them apart. */
	assert_int_equal(forgot(email, &known_r), 303);
	assert_true(last_forgot_ms >= RESETS_REQUEST_FLOOR_MS);
	assert_int_equal(forgot(unknown, &unknown_r), 303);
	assert_true(last_forgot_ms >= RESETS_REQUEST_FLOOR_MS);
	known_loc = itest_header(&known_r, "Location");
	unknown_loc = itest_header(&unknown_r, "Location");
	assert_string_equal(known_loc, unknown_loc);
	assert_int_equal(known_r.body.len, unknown_r.body.len);
	if (known_r.body.len)
		assert_memory_equal(known_r.body.data, unknown_r.body.data, known_r.body.len);
	/* Neither answer sets a cookie the other does not (no session, no flash). */
	assert_null(itest_cookie(&known_r, "spanner_session"));
	assert_null(itest_cookie(&unknown_r, "spanner_session"));
	assert_null(itest_cookie(&known_r, "spanner_flash"));
	assert_null(itest_cookie(&unknown_r, "spanner_flash"));

	/* A deactivated account is treated like an unknown one. */
	sql_ok("UPDATE users SET is_active = false WHERE id = $1", 1, p);
	assert_int_equal(forgot(email, &inactive_r), 303);
	inactive_loc = itest_header(&inactive_r, "Location");
	assert_string_equal(inactive_loc, SENT_PAGE);

	free(sink_wait(email, 1)); /* the one from while it was active */
	sleep(2);
	assert_int_equal(sink_count(email), 1);
	assert_int_equal(sink_count(unknown), 0);
	v = sql_value("SELECT count(*) FROM outbox WHERE to_address = $1", 1,
		      (const char *[]){unknown});
	assert_string_equal(v, "0");
	free(v);
	v = sql_value("SELECT count(*) FROM audit_logs WHERE action = "
		      "'password_reset_unknown_address' AND details->>'email' = $1",
		      1, (const char *[]){unknown});
	assert_string_equal(v, "1");
	free(v);

	free(known_loc);
	free(unknown_loc);
	free(inactive_loc);
	itest_resp_free(&known_r);
	itest_resp_free(&unknown_r);
	itest_resp_free(&inactive_r);
}

static void
test_expired_link_refused(void **state)
{
	char id[37], email[128], token[65];
	struct itest_resp r;
	char *link;
	const char *p[1] = {id};

	(void)state;
	make_user("expired", "Expiry Tester", 1, id, email);
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	link = link_from_sink(email, 1, token);
	sql_ok("UPDATE password_resets SET expires_at = now() - interval '1 minute' "
	       "WHERE user_id = $1",
	       1, p);
	http_get(link, NULL, &r);
	assert_int_equal(r.status, 410);
	assert_non_null(strstr(r.body.data, "This link has expired"));
	assert_non_null(strstr(r.body.data, "Ask for a new link"));
	itest_resp_free(&r);
	assert_int_equal(sign_in(email, OLD_PASSWORD, NULL), 303);

	/* A made-up token: not found, and no database row is needed to say so. */
	http_get("/password/reset?token=0123", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "isn’t valid"));
	itest_resp_free(&r);
	http_get("/password/reset", NULL, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);
	free(link);
}

/* Asking again retires the earlier link: only the newest one works. */
static void
test_new_link_retires_older(void **state)
{
	char id[37], email[128], first[65], second[65];
	struct itest_resp r;
	char *link1, *link2;
	const char *pw = "retire-Test-passw0rd";

	(void)state;
	remember_secret(pw);
	make_user("retire", "Retire Tester", 1, id, email);
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	link1 = link_from_sink(email, 1, first);
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	link2 = link_from_sink(email, 2, second);
	assert_string_not_equal(first, second);

	http_get(link1, NULL, &r);
	assert_int_equal(r.status, 410);
	itest_resp_free(&r);
	assert_int_equal(reset_post(second, pw, pw, NULL, NULL), 303);
	free(link1);
	free(link2);
}

/* Two requests with one link at the same moment: exactly one sets the password. */
static void
test_link_single_use_under_race(void **state)
{
	char id[37], email[128], token[65], pre[2][65], csrf[2][65];
	const char *passwords[2] = {"race-Winner-one-111", "race-Winner-two-222"};
	struct itest_resp r;
	pid_t kids[2];
	int i, ok = 0, refused = 0;
	char *link;

	(void)state;
	remember_secret(passwords[0]);
	remember_secret(passwords[1]);
	make_user("race", "Race Tester", 1, id, email);
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	link = link_from_sink(email, 1, token);
	/* Both browsers have the form open before either submits. */
	for (i = 0; i < 2; i++) {
		anon_form(link, pre[i], csrf[i], &r);
		itest_resp_free(&r);
	}
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			/* No cmocka assertions in the child: it only reports the status. */
			char url[200], cookie[100];
			const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
						 cookie, NULL};
			buf body = BUF_INIT;
			struct itest_resp cr;
			long st = 0;

			snprintf(url, sizeof url, "%s/password/reset", srv.base_url);
			snprintf(cookie, sizeof cookie, "Cookie: spanner_pre=%s", pre[i]);
			form_add(&body, "csrf_token", csrf[i]);
			form_add(&body, "token", token);
			form_add(&body, "password", passwords[i]);
			form_add(&body, "password_confirm", passwords[i]);
			if (itest_http("POST", url, headers, body.data, body.len, &cr) == 0)
				st = cr.status;
			_exit(st == 303 ? 0 : st == 410 ? 1 : 2);
		}
	}
	for (i = 0; i < 2; i++) {
		int status;

		waitpid(kids[i], &status, 0);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			ok++;
		else if (WEXITSTATUS(status) == 1)
			refused++;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(refused, 1);
	assert_true(sign_in(email, passwords[0], NULL) == 303 ||
		    sign_in(email, passwords[1], NULL) == 303);
	free(link);
}

/*
 * The invitation for a new account (no password yet), issued the way the
 * users page does it: resets_issue in the creating transaction. A name and a
 * subject outside ASCII travel encoded and arrive intact.
 */
static void
test_welcome_link_sets_first_password(void **state)
{
	char id[37], email[128], token[65], session[65];
	const char *pw = "first-Welcome-passw0rd";
	db_conn *c = db_connect(itest_conninfo());
	char *msg, *subject, *body, *link;
	struct itest_resp r;

	(void)state;
	remember_secret(pw);
	assert_non_null(c);
	/* Links point at the server under test, as its own base_url would make them. */
	free(cfg.base_url);
	cfg.base_url = xstrdup(srv.base_url);
	make_user("welcome", "Zoë Ångström", 0, id, email);
	assert_int_equal(sign_in(email, "anything-at-all-1", NULL), 401);

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(resets_issue(c, &cfg, id, "welcome"), 0);
	assert_int_equal(db_commit(c), 0);
	/* A user that does not exist: nothing happens. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(resets_issue(c, &cfg, "00000000-0000-4000-8000-000000000000", "invite"),
			 1);
	db_rollback(c);
	db_close(c);

	msg = sink_wait(email, 1);
	subject = mail_header(msg, "Subject");
	/* "Welcome to Spanner – set your password", en dash and all, as RFC 2047 words. */
	assert_non_null(strstr(subject, "=?UTF-8?B?"));
	assert_null(strstr(subject, "–"));
	body = mail_body(msg);
	assert_non_null(strstr(body, "Hello Zoë Ångström,"));
	assert_non_null(strstr(body, "An account has been created for you"));
	assert_non_null(strstr(body, "/password/forgot"));
	free(subject);
	free(body);
	free(msg);

	link = link_from_sink(email, 1, token);
	http_get(link, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, email));
	itest_resp_free(&r);
	assert_int_equal(reset_post(token, pw, pw, session, NULL), 303);
	assert_int_equal(strlen(session), 64);
	/* The link signed them in: the Users page shows it, and home greets a first visit. */
	{
		const char *p[1] = {id};
		char cookie[100];

		assert_int_equal(
		    itest_sql_count("SELECT count(*) FROM users WHERE id = $1 AND last_login_at IS NOT NULL",
			      1, p),
		    1);
		snprintf(cookie, sizeof cookie, "spanner_session=%s", session);
		http_get("/", cookie, &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body.data, "Welcome, Zoë Ångström"));
		assert_null(strstr(r.body.data, "Welcome back"));
		itest_resp_free(&r);
	}
	assert_int_equal(sign_in(email, pw, session), 303);
	{
		char cookie[100];

		snprintf(cookie, sizeof cookie, "spanner_session=%s", session);
		http_get("/", cookie, &r);
		assert_non_null(strstr(r.body.data, "Welcome back, Zoë Ångström"));
		itest_resp_free(&r);
	}
	free(link);
}

static void
test_forgot_form_checks(void **state)
{
	char pre[65], csrf[65], cookie[100];
	struct itest_resp page, r;
	buf body = BUF_INIT;

	(void)state;
	anon_form("/password/forgot", pre, csrf, &page);
	assert_non_null(strstr(page.body.data, "Forgot your password?"));
	assert_non_null(strstr(page.body.data, "autocomplete=\"username\""));
	itest_resp_free(&page);
	snprintf(cookie, sizeof cookie, "spanner_pre=%s", pre);

	/* Not an address: the form again, the error tied to the field. */
	form_add(&body, "csrf_token", csrf);
	form_add(&body, "email", "not an address");
	http_post("/password/forgot", cookie, body.data, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body.data, "aria-describedby=\"forgot-error\""));
	assert_non_null(strstr(r.body.data, "id=\"forgot-error\""));
	itest_resp_free(&r);

	/* No CSRF token: refused before anything happens. */
	buf_reset(&body);
	form_add(&body, "email", "someone@example.com");
	http_post("/password/forgot", cookie, body.data, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	buf_reset(&body);
	form_add(&body, "csrf_token", csrf);
	form_add(&body, "token", "0000");
	form_add(&body, "password", "whatever-long-1");
	form_add(&body, "password_confirm", "whatever-long-1");
	http_post("/password/reset", NULL, body.data, &r);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	buf_free(&body);
}

/* A relay that refuses: the row says why, attempts is 1, the job failed and is not retried. */
static void
test_relay_failure_is_recorded(void **state)
{
	char id[37], email[128];
	struct itest_resp r;
	const char *p[1] = {email};
	char *v;

	(void)state;
	make_user("relaydown", "Relay Tester", 1, id, email);
	sink_stop();
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	wait_job_done(email);
	v = sql_value("SELECT j.state || ' ' || o.attempts || ' ' || (o.sent_at IS NULL) || ' ' || "
		      "(o.error IS NOT NULL) FROM outbox o JOIN jobs j ON "
		      "j.payload->>'outbox_id' = o.id::text WHERE o.to_address = $1",
		      1, p);
	assert_string_equal(v, "failed 1 true true");
	free(v);
	v = sql_value("SELECT error FROM outbox WHERE to_address = $1", 1, p);
	assert_non_null(strstr(v, "SMTP delivery failed"));
	free(v);
	sleep(2);
	v = sql_value("SELECT attempts FROM outbox WHERE to_address = $1", 1, p);
	assert_string_equal(v, "1");
	free(v);
}

/*
 * Without a relay the message stays in the outbox, which Admins (and only
 * they) can read; the link read there works. Also: the per-account limit.
 */
static void
test_outbox_mode(void **state)
{
	char id[37], email[128], other_id[37], other_email[128], admin[65], plain[65];
	char cookie[200], path[200], token[65];
	const char *p[1] = {email};
	struct itest_resp r;
	const char *env[] = {LOGIN_UNTHROTTLED, NULL};
	char *outbox_id, *v, *t;
	int i;

	(void)state;
	assert_int_equal(restart_server("password_outbox", env), 0);
	make_user("outbox", "Outbox Tester", 1, id, email);
	make_user("plain", "Plain User", 1, other_id, other_email);
	assert_int_equal(forgot(email, &r), 303);
	itest_resp_free(&r);
	wait_job_done(email);
	v = sql_value("SELECT (sent_at IS NULL) || ' ' || (error IS NULL) || ' ' || attempts "
		      "FROM outbox WHERE to_address = $1",
		      1, p);
	assert_string_equal(v, "true false 0");
	free(v);
	outbox_id = sql_value("SELECT id FROM outbox WHERE to_address = $1", 1, p);
	assert_non_null(outbox_id);

	/* The Admin reads it. */
	assert_int_equal(sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, admin), 303);
	snprintf(cookie, sizeof cookie, "spanner_session=%s", admin);
	http_get("/admin/outbox", cookie, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, email));
	assert_non_null(strstr(r.body.data, "Reset your Spanner password"));
	assert_non_null(strstr(r.body.data, "Not sent"));
	assert_non_null(strstr(r.body.data, "No mail relay is configured"));
	snprintf(path, sizeof path, "/admin/outbox/%s", outbox_id);
	assert_non_null(strstr(r.body.data, path));
	itest_resp_free(&r);
	http_get(path, cookie, &r);
	assert_int_equal(r.status, 200);
	v = itest_header(&r, "Cache-Control");
	assert_string_equal(v, "no-store");
	free(v);
	assert_non_null(strstr(r.body.data, "Why not sent"));
	assert_non_null(strstr(r.body.data, "no SMTP relay is configured"));
	t = strstr(r.body.data, "/password/reset?token");
	assert_non_null(t);
	t = strstr(t, "token&#61;"); /* '=' is escaped in HTML; the browser shows it as '=' */
	assert_non_null(t);
	memcpy(token, t + strlen("token&#61;"), 64);
	token[64] = '\0';
	remember_secret(token);
	itest_resp_free(&r);
	http_get("/admin/outbox/00000000-0000-4000-8000-000000000000", cookie, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);
	http_get("/admin/outbox/not-an-id", cookie, &r);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);
	http_get("/admin/outbox?before=bogus", cookie, &r);
	assert_int_equal(r.status, 400);
	itest_resp_free(&r);

	/* The link from the outbox works like one from a mailbox. */
	snprintf(path, sizeof path, "/password/reset?token=%s", token);
	http_get(path, NULL, &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	/* Anyone else: refused, with the permission named; signed out: to the sign-in page. */
	assert_int_equal(sign_in(other_email, OLD_PASSWORD, plain), 303);
	snprintf(cookie, sizeof cookie, "spanner_session=%s", plain);
	http_get("/admin/outbox", cookie, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "users.manage"));
	itest_resp_free(&r);
	snprintf(path, sizeof path, "/admin/outbox/%s", outbox_id);
	http_get(path, cookie, &r);
	assert_int_equal(r.status, 403);
	assert_null(strstr(r.body.data, token));
	itest_resp_free(&r);
	http_get("/admin/outbox", NULL, &r);
	assert_int_equal(r.status, 303);
	itest_resp_free(&r);

	/* At most RESETS_MAX_PER_HOUR links an hour for one account; the answer never changes. */
	for (i = 1; i < RESETS_MAX_PER_HOUR + 2; i++) {
		assert_int_equal(forgot(email, &r), 303);
		itest_resp_free(&r);
	}
	v = sql_value("SELECT count(*) FROM outbox WHERE to_address = $1", 1, p);
	assert_int_equal(atoi(v), RESETS_MAX_PER_HOUR);
	free(v);
	v = sql_value("SELECT count(*) FROM audit_logs WHERE action = 'password_reset_throttled' "
		      "AND entity_id = $1",
		      1, (const char *[]){id});
	assert_string_equal(v, "2");
	free(v);
	free(outbox_id);
}

/* Tokens and passwords: only ever in the message body. */
static void
test_no_secret_leaks(void **state)
{
	char *copy = xstrdup(secrets.data);
	char *save = NULL, *s;
	int checked = 0;

	(void)state;
	for (s = strtok_r(copy, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		const char *p[1] = {s};
		char *v;

		v = sql_value("SELECT count(*) FROM audit_logs WHERE strpos(details::text, $1) > 0",
			      1, p);
		assert_string_equal(v, "0");
		free(v);
		v = sql_value("SELECT count(*) FROM outbox WHERE strpos(to_address || subject || "
			      "coalesce(error, ''), $1) > 0",
			      1, p);
		assert_string_equal(v, "0");
		free(v);
		v = sql_value("SELECT count(*) FROM jobs WHERE strpos(payload::text || "
			      "coalesce(result::text, '') || coalesce(error, ''), $1) > 0",
			      1, p);
		assert_string_equal(v, "0");
		free(v);
		assert_false(itest_file_contains("var/test/password_reset.log", s));
		assert_false(itest_file_contains("var/test/password_outbox.log", s));
		checked++;
	}
	/* Passwords never reach an outbox body either. */
	{
		const char *pw[] = {OLD_PASSWORD, "brand-New-passphrase-42",
				    "first-Welcome-passw0rd"};
		size_t i;

		for (i = 0; i < sizeof pw / sizeof pw[0]; i++) {
			char *v = sql_value(
			    "SELECT count(*) FROM outbox WHERE strpos(body, $1) > 0", 1, &pw[i]);

			assert_string_equal(v, "0");
			free(v);
		}
	}
	assert_false(itest_file_contains("var/test/password_reset.log", "token="));
	assert_false(itest_file_contains("var/test/password_outbox.log", "token="));
	assert_true(checked >= 8);
	free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mail_format),
	    cmocka_unit_test(test_reset_flow),
	    cmocka_unit_test(test_unknown_address_same_answer),
	    cmocka_unit_test(test_expired_link_refused),
	    cmocka_unit_test(test_new_link_retires_older),
	    cmocka_unit_test(test_link_single_use_under_race),
	    cmocka_unit_test(test_welcome_link_sets_first_password),
	    cmocka_unit_test(test_forgot_form_checks),
	    cmocka_unit_test(test_relay_failure_is_recorded),
	    cmocka_unit_test(test_outbox_mode),
	    cmocka_unit_test(test_no_secret_leaks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

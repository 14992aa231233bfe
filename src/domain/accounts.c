/*
 * accounts — credentials, sessions and the sign-in throttle.
 *
 * Sign-in answers "wrong e-mail or password" the same way, after the same
 * work, whether the account exists or not: an unknown e-mail is checked
 * against a dummy Argon2 hash made with the same costs at start.
 *
 * The throttle counts failures in login_attempts: an account pauses after
 * login_max_failures failures within login_window (counting only failures
 * since its last success), a client address after four times that many
 * across accounts. The pause lifts when the oldest counted failure leaves the
 * window, and the page says how many seconds that is.
 */
#include "accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/password.h"
#include "domain/audit.h"
#include "domain/normalise.h"

static char *accounts_dummy_hash;

static int accounts_throttle(db_conn *c, const struct config *cfg, const char *email,
			     const char *ip, int *retry_after);
static void accounts_record_attempt(db_conn *c, const char *email, const char *ip, int ok,
				    const char *user_id, const char *reason, const char *rehash);
static char **accounts_split(const char *s, char sep, size_t *n);

DB_STMT(stmt_throttle_account,
	"SELECT count(*), coalesce(ceil(extract(epoch FROM min(created_at) + "
	"make_interval(secs => $2::int) - now())), 0)::int FROM ("
	" SELECT created_at FROM login_attempts WHERE email = $1 AND NOT succeeded"
	" AND created_at > now() - make_interval(secs => $2::int)"
	" AND created_at > coalesce((SELECT max(created_at) FROM login_attempts"
	"  WHERE email = $1 AND succeeded), '-infinity')"
	" ORDER BY created_at DESC LIMIT $3) t");
DB_STMT(stmt_throttle_ip,
	"SELECT count(*), coalesce(ceil(extract(epoch FROM min(created_at) + "
	"make_interval(secs => $2::int) - now())), 0)::int FROM ("
	" SELECT created_at FROM login_attempts WHERE ip = $1 AND NOT succeeded"
	" AND created_at > now() - make_interval(secs => $2::int)"
	" ORDER BY created_at DESC LIMIT $3) t");
DB_STMT(stmt_user_by_email,
	"SELECT id, password_hash, is_active FROM users WHERE lower(email) = $1");
DB_STMT(stmt_attempt_insert,
	"INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3)");
DB_STMT(stmt_login_ok, "UPDATE users SET last_login_at = now() WHERE id = $1");
DB_STMT(stmt_rehash, "UPDATE users SET password_hash = $2 WHERE id = $1");
DB_STMT(stmt_session_insert,
	"INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent) "
	"VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, now() + make_interval(hours => $4::int), "
	"$5, left($6, 500)) RETURNING id");
/*
 * Who is asking, with every permission and role, in the one statement a
 * request spends on it; last_seen_at is touched in the same statement, at
 * most once a minute, so a busy session does not write on every request.
 */
DB_STMT(stmt_session_load,
	"WITH s AS (SELECT s.id AS sid, u.id AS uid, u.name, u.email, s.csrf_token,"
	" s.last_seen_at < now() - interval '60 seconds' AS stale,"
	" coalesce((SELECT string_agg(DISTINCT p.module || '.' || p.action, ' ')"
	"  FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id"
	"  JOIN permissions p ON p.id = rp.permission_id WHERE ur.user_id = u.id), '') AS perms,"
	" coalesce((SELECT string_agg(r.name, '|' ORDER BY r.name)"
	"  FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), '')"
	"  AS roles"
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" WHERE s.token_hash = sha256(convert_to($1, 'UTF8')) AND s.expires_at > now()"
	" AND s.last_seen_at > now() - make_interval(mins => $2::int) AND u.is_active),"
	" touch AS (UPDATE sessions SET last_seen_at = now()"
	"  WHERE id = (SELECT sid FROM s WHERE stale))"
	" SELECT sid, uid, name, email, csrf_token, stale, perms, roles FROM s");
DB_STMT(stmt_session_delete, "DELETE FROM sessions WHERE id = $1");
DB_STMT(stmt_sessions_end_user,
	"DELETE FROM sessions WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2::uuid)");

void
accounts_init(const struct config *cfg)
{
	char random[33];

	free(accounts_dummy_hash);
	password_random_hex(random, 16);
	accounts_dummy_hash = password_hash(cfg, random);
}

static int
accounts_throttle(db_conn *c, const struct config *cfg, const char *email, const char *ip,
		  int *retry_after)
{
	char window[16], limit[16], ip_limit[16];
	const char *pa[3] = {email, window, limit};
	const char *pi[3] = {ip, window, ip_limit};
	PGresult *res;
	int n, wait = 0;

	snprintf(window, sizeof window, "%d", cfg->login_window);
	snprintf(limit, sizeof limit, "%d", cfg->login_max_failures);
	snprintf(ip_limit, sizeof ip_limit, "%d", cfg->login_max_failures * 4);
	res = db_exec(c, &stmt_throttle_account, 3, pa);
	if (!res)
		return -1;
	n = atoi(PQgetvalue(res, 0, 0));
	if (n >= cfg->login_max_failures)
		wait = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	res = db_exec(c, &stmt_throttle_ip, 3, pi);
	if (!res)
		return -1;
	n = atoi(PQgetvalue(res, 0, 0));
	if (n >= cfg->login_max_failures * 4 && atoi(PQgetvalue(res, 0, 1)) > wait)
		wait = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	*retry_after = wait > 0 ? wait : 0;
	return wait > 0;
}

/*
 * The attempt, its audit row and (after a success with outdated Argon2 costs)
 * the re-hashed password commit together, whatever the outcome.
 */
static void
accounts_record_attempt(db_conn *c, const char *email, const char *ip, int ok,
			const char *user_id, const char *reason, const char *rehash)
{
	const char *p[3] = {email, ip, ok ? "t" : "f"};
	const char *pr[2] = {user_id, rehash};

	if (db_begin(c) != 0)
		return;
	if (db_run(c, &stmt_attempt_insert, 3, p) != 0 ||
	    (ok && db_run(c, &stmt_login_ok, 1, &user_id) != 0) ||
	    (ok && rehash && db_run(c, &stmt_rehash, 2, pr) != 0) ||
	    audit_record(c, user_id, ok ? "sign_in" : "sign_in_failed", "user", user_id,
			 ok ? json_pack("{s:s, s:s}", "email", email, "ip", ip)
			    : json_pack("{s:s, s:s, s:s}", "email", email, "ip", ip, "reason",
					reason)) != 0 ||
	    db_commit(c) != 0) {
		log_error("accounts: cannot record sign-in attempt: %s", db_error_message(c));
		db_rollback(c);
	}
}

enum signin_result
accounts_sign_in(db_conn *c, const struct config *cfg, const char *email_in,
		 const char *password, const char *ip, char user_id[37], int *retry_after)
{
	char *email = normalise_email(email_in);
	const char *p[1] = {email};
	PGresult *res;
	enum signin_result result = SIGNIN_BAD;
	const char *reason = "unknown e-mail";
	char *fresh = NULL;
	int throttled;

	*retry_after = 0;
	user_id[0] = '\0';
	if (!email) {
		/* Nothing to look up, but do the same work as a wrong password. */
		password_verify(accounts_dummy_hash, password ? password : "");
		return SIGNIN_BAD;
	}
	throttled = accounts_throttle(c, cfg, email, ip, retry_after);
	if (throttled < 0) {
		free(email);
		return SIGNIN_ERROR;
	}
	if (throttled) {
		accounts_record_attempt(c, email, ip, 0, NULL, "throttled", NULL);
		free(email);
		return SIGNIN_THROTTLED;
	}
	res = db_exec(c, &stmt_user_by_email, 1, p);
	if (!res) {
		free(email);
		return SIGNIN_ERROR;
	}
	if (PQntuples(res) == 1) {
		const char *hash = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
		int active = PQgetvalue(res, 0, 2)[0] == 't';
		int match = password_verify(hash ? hash : accounts_dummy_hash, password);

		snprintf(user_id, 37, "%s", PQgetvalue(res, 0, 0));
		if (!hash)
			reason = "no password set";
		else if (!match)
			reason = "wrong password";
		else if (!active)
			reason = "deactivated";
		else
			result = SIGNIN_OK;
		if (result == SIGNIN_OK && password_needs_rehash(cfg, hash))
			fresh = password_hash(cfg, password);
	} else {
		password_verify(accounts_dummy_hash, password);
	}
	PQclear(res);
	accounts_record_attempt(c, email, ip, result == SIGNIN_OK, user_id[0] ? user_id : NULL,
				reason, fresh);
	free(fresh);
	if (result != SIGNIN_OK)
		user_id[0] = '\0';
	free(email);
	return result;
}

int
accounts_session_create(db_conn *tx, const struct config *cfg, const char *user_id,
			const char *ip, const char *user_agent, char token[65], char csrf[65],
			char session_id[37])
{
	char hours[16];
	const char *p[6] = {token, user_id, csrf, hours, ip, user_agent};
	PGresult *res;

	if (password_random_hex(token, 32) != 0 || password_random_hex(csrf, 32) != 0)
		return -1;
	snprintf(hours, sizeof hours, "%d", cfg->session_max);
	res = db_exec(tx, &stmt_session_insert, 6, p);
	if (!res)
		return -1;
	snprintf(session_id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static char **
accounts_split(const char *s, char sep, size_t *n)
{
	char **out = NULL;
	const char *start = s;

	*n = 0;
	if (!*s)
		return NULL;
	for (;;) {
		const char *end = strchr(start, sep);
		size_t len = end ? (size_t)(end - start) : strlen(start);

		out = xrealloc(out, (*n + 1) * sizeof *out);
		out[(*n)++] = xstrndup(start, len);
		if (!end)
			break;
		start = end + 1;
	}
	return out;
}

struct auth_user *
accounts_session_load(db_conn *c, const char *token, int idle_minutes, int *err)
{
	char idle[16];
	const char *p[2] = {token, idle};
	PGresult *res;
	struct auth_user *u;

	*err = 0;
	snprintf(idle, sizeof idle, "%d", idle_minutes);
	res = db_exec(c, &stmt_session_load, 2, p);
	if (!res) {
		*err = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	u = xcalloc(1, sizeof *u);
	snprintf(u->session_id, sizeof u->session_id, "%s", PQgetvalue(res, 0, 0));
	snprintf(u->id, sizeof u->id, "%s", PQgetvalue(res, 0, 1));
	u->name = xstrdup(PQgetvalue(res, 0, 2));
	u->email = xstrdup(PQgetvalue(res, 0, 3));
	snprintf(u->csrf, sizeof u->csrf, "%s", PQgetvalue(res, 0, 4));
	u->permissions = accounts_split(PQgetvalue(res, 0, 6), ' ', &u->npermissions);
	u->roles = accounts_split(PQgetvalue(res, 0, 7), '|', &u->nroles);
	normalise_initials(u->name, u->initials);
	PQclear(res);
	return u;
}

void
accounts_user_free(struct auth_user *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->npermissions; i++)
		free(u->permissions[i]);
	for (i = 0; i < u->nroles; i++)
		free(u->roles[i]);
	free(u->permissions);
	free(u->roles);
	free(u->name);
	free(u->email);
	free(u);
}

int
accounts_session_delete(db_conn *c, const char *session_id)
{
	const char *p[1] = {session_id};

	return db_run(c, &stmt_session_delete, 1, p);
}

int
accounts_sessions_end_user(db_conn *tx, const char *user_id, const char *keep_session_id)
{
	const char *p[2] = {user_id, keep_session_id};

	return db_run(tx, &stmt_sessions_end_user, 2, p);
}

const char *
accounts_password_problem(const char *password, const char *email, const char *name)
{
	char local[256];
	const char *at;

	if (!password || strlen(password) < ACCOUNTS_PASSWORD_MIN)
		return "Use at least 10 characters.";
	if (strlen(password) > 1024)
		return "Use at most 1024 characters.";
	if (email && strcasecmp(password, email) == 0)
		return "Don’t use your e-mail address as your password.";
	if (email && (at = strchr(email, '@')) && (size_t)(at - email) < sizeof local) {
		memcpy(local, email, (size_t)(at - email));
		local[at - email] = '\0';
		if (strlen(local) >= 4 && strcasestr(password, local))
			return "Don’t use your e-mail address in your password.";
	}
	if (name && strlen(name) >= 4 && strcasestr(password, name))
		return "Don’t use your name in your password.";
	return NULL;
}

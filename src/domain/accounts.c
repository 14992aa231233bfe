/*
 * accounts — credentials, sessions and the sign-in throttle.
 *
 * Sign-in answers "wrong e-mail or password" the same way, after the same
 * work, whether the account exists or not: an unknown e-mail is checked
 * against a dummy Argon2 hash made with the same costs at start.
 *
 * The throttle lives in the database (migrations/0005_signin_throttle.sql,
 * where the policy is written down): signin_reserve decides and records the
 * attempt in one statement, before any password is checked, so simultaneous
 * guesses are counted one by one. The attempt is then settled by
 * accounts_settle, with its audit row, in one transaction.
 *
 * Nothing is held while Argon2 runs: the reserve is one autocommit statement,
 * the user lookup another, and the settle transaction begins after the check.
 */
#include "accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "core/password.h"
#include "domain/audit.h"
#include "domain/normalise.h"

/* Seconds a sign-in refused for a full queue is asked to wait. */
#define ACCOUNTS_BUSY_RETRY 5

static char *accounts_dummy_hash;
/*
 * Sign-ins in progress in this worker: a turn covers the throttle's
 * statement, the Argon2 check (which has a gate of its own) and the settle.
 * Twice argon2_concurrency, so one's statements overlap another's hashing,
 * and a burst occupies at most that many of the pool's connections while
 * the rest wait in a bounded line holding none; signin_queue long, beyond
 * which a sign-in is told to come back (503, Retry-After).
 */
static struct offload_gate accounts_gate = {"signin", 2, 128, 0, 0, NULL, NULL};

static enum signin_result accounts_check(db_conn *c, const struct config *cfg, const char *attempt,
					 const char *email, const char *password, const char *ip,
					 char user_id[37]);
static int accounts_reserve(db_conn *c, const struct config *cfg, const char *email, const char *ip,
			    char attempt[37], int *retry_after, int *slow_ms);
static void accounts_settle(db_conn *c, const char *attempt, const char *email, const char *ip,
			    int ok, const char *user_id, const char *reason, const char *rehash);
static char **accounts_split(const char *s, char sep, size_t *n);

DB_STMT(stmt_reserve, "SELECT attempt_id, retry_after, slow_ms FROM signin_reserve($1, $2, "
		      "$3::int, $4::int, $5::int)");
DB_STMT(stmt_user_by_email,
	"SELECT id, password_hash, is_active FROM users WHERE lower(email) = $1");
DB_STMT(stmt_attempt_settle, "UPDATE login_attempts SET succeeded = $2, reason = $3 WHERE id = $1");
/* A sign-in by other means (a reset link) is a success of the account: it clears the throttle. */
DB_STMT(stmt_attempt_other,
	"INSERT INTO login_attempts (email, ip, succeeded, reason)"
	" SELECT lower(email), $2, true, 'password reset' FROM users WHERE id = $1");
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

	accounts_gate.limit = 2 * cfg->argon2_concurrency;
	accounts_gate.queue_max = cfg->signin_queue;
	free(accounts_dummy_hash);
	password_random_hex(random, 16);
	accounts_dummy_hash = password_hash(cfg, random);
}

static int
accounts_reserve(db_conn *c, const struct config *cfg, const char *email, const char *ip,
		 char attempt[37], int *retry_after, int *slow_ms)
{
	char free_[16], window[16], slow[16];
	const char *p[5] = {email, ip, free_, window, slow};
	PGresult *res;

	snprintf(free_, sizeof free_, "%d", cfg->login_max_failures);
	snprintf(window, sizeof window, "%d", cfg->login_window);
	snprintf(slow, sizeof slow, "%d", cfg->login_slowdown_max);
	res = db_exec(c, &stmt_reserve, 5, p);
	if (!res)
		return -1;
	snprintf(attempt, 37, "%s", PQgetvalue(res, 0, 0));
	*retry_after = atoi(PQgetvalue(res, 0, 1));
	*slow_ms = atoi(PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/*
 * The attempt's outcome, its audit row and (after a success with outdated
 * Argon2 costs) the re-hashed password commit together.
 */
static void
accounts_settle(db_conn *c, const char *attempt, const char *email, const char *ip, int ok,
		const char *user_id, const char *reason, const char *rehash)
{
	const char *p[3] = {attempt, ok ? "t" : "f", ok ? "ok" : reason};
	const char *pr[2] = {user_id, rehash};

	if (db_begin(c) != 0)
		return;
	if (db_run(c, &stmt_attempt_settle, 3, p) != 0 ||
	    (ok && db_run(c, &stmt_login_ok, 1, &user_id) != 0) ||
	    (ok && rehash && db_run(c, &stmt_rehash, 2, pr) != 0) ||
	    audit_record(c, user_id, ok ? "sign_in" : "sign_in_failed", "user", user_id,
			 ok ? json_pack("{s:s?, s:s}", "email", email, "ip", ip)
			    : json_pack("{s:s?, s:s, s:s}", "email", email, "ip", ip, "reason",
					reason)) != 0 ||
	    db_commit(c) != 0) {
		log_error("accounts: cannot record sign-in attempt: %s", db_error_message(c));
		db_rollback(c);
	}
}

/*
 * The attempt after the throttle let it through: the user, the Argon2 check
 * (against the dummy hash for an unknown e-mail: the same work, the same
 * wait) and the settle. No connection is kept while the check waits and runs.
 */
static enum signin_result
accounts_check(db_conn *c, const struct config *cfg, const char *attempt, const char *email,
	       const char *password, const char *ip, char user_id[37])
{
	const char *p[1] = {email};
	PGresult *res = db_exec(c, &stmt_user_by_email, 1, p);
	enum signin_result result = SIGNIN_BAD;
	const char *reason = "unknown e-mail";
	const char *hash = NULL;
	char *fresh = NULL;
	int match, active = 0;

	if (!res)
		return SIGNIN_ERROR;
	if (PQntuples(res) == 1) {
		snprintf(user_id, 37, "%s", PQgetvalue(res, 0, 0));
		hash = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
		active = PQgetvalue(res, 0, 2)[0] == 't';
	}
	db_release(c);
	match = password_verify(hash ? hash : accounts_dummy_hash, password);
	if (!user_id[0])
		reason = "unknown e-mail";
	else if (!hash)
		reason = "no password set";
	else if (!match)
		reason = "wrong password";
	else if (!active)
		reason = "deactivated";
	else
		result = SIGNIN_OK;
	if (result == SIGNIN_OK && password_needs_rehash(cfg, hash))
		fresh = password_hash(cfg, password);
	accounts_settle(c, attempt, email, ip, result == SIGNIN_OK, user_id[0] ? user_id : NULL,
			reason, fresh);
	PQclear(res);
	free(fresh);
	if (result != SIGNIN_OK)
		user_id[0] = '\0';
	metrics_signin(result == SIGNIN_OK ? "ok" : "failed");
	return result;
}

/*
 * Order matters: the gate first (a full line is refused before the database
 * is asked anything), then the throttle, which counts the attempt whatever
 * it is, then the check. An account being guessed from many addresses is
 * slowed outside the gate, so its attempts never hold up anyone else's.
 */
enum signin_result
accounts_sign_in(db_conn *c, const struct config *cfg, const char *email_in, const char *password,
		 const char *ip, char user_id[37], int *retry_after)
{
	char *email = NULL;
	char attempt[37];
	enum signin_result r;
	int slow_ms = 0, rc;

	*retry_after = 0;
	user_id[0] = '\0';
	rc = offload_gate_enter(&accounts_gate, 1);
	if (rc == OFFLOAD_BUSY) {
		/* Refused before anything was asked or checked: not an attempt that counts. */
		metrics_signin("busy");
		*retry_after = ACCOUNTS_BUSY_RETRY;
		return SIGNIN_BUSY;
	}
	if (rc != 0)
		return SIGNIN_ERROR; /* the client went away while it waited */
	email = normalise_email(email_in);
	if (accounts_reserve(c, cfg, email, ip, attempt, retry_after, &slow_ms) != 0) {
		r = SIGNIN_ERROR;
	} else if (*retry_after > 0) {
		metrics_signin("throttled");
		r = SIGNIN_THROTTLED;
	} else if (!email || !password || !*password) {
		/* Nothing to check, so no Argon2 spent; the attempt still counted. */
		accounts_settle(c, attempt, email, ip, 0, NULL, "blank", NULL);
		metrics_signin("blank");
		r = SIGNIN_BLANK;
	} else {
		if (slow_ms > 0) {
			metrics_signin("slowed");
			offload_gate_leave(&accounts_gate);
			db_release(c);
			if (offload_sleep((unsigned)slow_ms) != 0 ||
			    offload_gate_enter(&accounts_gate, 0) != 0) {
				free(email);
				return SIGNIN_ERROR;
			}
		}
		r = accounts_check(c, cfg, attempt, email, password, ip, user_id);
	}
	offload_gate_leave(&accounts_gate);
	free(email);
	return r;
}

int
accounts_signed_in(db_conn *tx, const char *user_id, const char *ip)
{
	const char *p[2] = {user_id, ip};

	return db_run(tx, &stmt_attempt_other, 2, p) != 0 || db_run(tx, &stmt_login_ok, 1, p) != 0
		   ? -1
		   : 0;
}

int
accounts_session_create(db_conn *tx, const struct config *cfg, const char *user_id, const char *ip,
			const char *user_agent, char token[65], char csrf[65], char session_id[37])
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

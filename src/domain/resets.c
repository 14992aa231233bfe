/*
 * resets — issuing, checking and using password links.
 *
 * "Forgot password" must not tell who has an account: the page answers the
 * same either way, and resets_request() makes the two paths do the same kind
 * of database work too. A known address runs lookup, lock, retire, insert link,
 * insert outbox row, insert job, audit, commit; an unknown one runs the
 * lookup, the same lock and retire statements against a user id that cannot
 * exist, three statements of the same weight in place of the inserts (one of
 * them a NOTIFY, as queueing the job sends one), renders the same template,
 * and commits an audit row of its own. Both commits write, so both wait for
 * the same WAL flush. That brings the paths close, not equal (inserts touch
 * indexes, foreign keys and triggers; measured on the 2-core test machine an
 * issued link took about a millisecond longer), so resets_request() also
 * answers no sooner than RESETS_REQUEST_FLOOR_MS after it started: the time
 * an observer sees is the floor, whichever path ran. The wait holds one HTTP
 * worker for a moment on a rarely used form, as an Argon2 check does on
 * every sign-in.
 *
 * The token is handled as little as possible: generated here, hashed by
 * PostgreSQL in the statement that stores it, written into the e-mail body,
 * and wiped from our memory afterwards. Audit rows name the link by its row
 * id, never by its token.
 */
#include "resets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mail.h"
#include "core/password.h"
#include "core/render.h"
#include "domain/accounts.h"
#include "domain/audit.h"
#include "domain/normalise.h"

/* A user id that no row has: the unknown-address path runs real statements against it. */
#define RESETS_NOBODY "00000000-0000-0000-0000-000000000000"
#define RESETS_EMAIL_MAX 320
#define RESETS_SUBJECT "Reset your Spanner password"
/* The en dash is deliberate: subjects are UTF-8, RFC 2047-encoded on the way out. */
#define RESETS_WELCOME_SUBJECT "Welcome to Spanner – set your password"

/* The row lock serialises two links issued at once for one user (retire, then insert). */
DB_STMT(st_user, "SELECT email, name FROM users WHERE id = $1::uuid AND is_active "
		 "FOR NO KEY UPDATE");
DB_STMT(st_retire, "UPDATE password_resets SET expires_at = now() "
		   "WHERE user_id = $1::uuid AND used_at IS NULL AND expires_at > now()");
DB_STMT(
    st_insert,
    "INSERT INTO password_resets (token_hash, user_id, expires_at) "
    "VALUES (sha256(convert_to($1, 'UTF8')), $2::uuid, now() + make_interval(hours => $3::int)) "
    "RETURNING id::text, to_char(expires_at AT TIME ZONE 'UTC', 'HH24:MI') || ' UTC', "
    "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
/* Stands in for an INSERT on the unknown-address path: one round trip, one hash. */
DB_STMT(st_decoy, "SELECT sha256(convert_to($1, 'UTF8'))");
/*
 * Stands in for queueing the mail job, whose NOTIFY makes the commit do more
 * work: a notification on a channel nobody listens to costs the same and
 * wakes no one.
 */
DB_STMT(st_decoy_notify, "SELECT pg_notify('spanner_resets_decoy', $1)");
DB_STMT(st_lookup, "SELECT u.id::text, (SELECT count(*) FROM password_resets r "
		   "WHERE r.user_id = u.id AND r.created_at > now() - interval '1 hour') "
		   "FROM users u WHERE lower(u.email) = $1 AND u.is_active");
DB_STMT(st_check, "SELECT r.user_id::text, u.email, u.name, r.used_at IS NOT NULL, "
		  "r.expires_at <= now(), u.is_active FROM password_resets r "
		  "JOIN users u ON u.id = r.user_id "
		  "WHERE r.token_hash = sha256(convert_to($1, 'UTF8'))");
/*
 * Single use: a second request with the same token waits for the first's row
 * lock, then finds used_at set and matches nothing.
 */
DB_STMT(st_use, "UPDATE password_resets r SET used_at = now() FROM users u "
		"WHERE r.token_hash = sha256(convert_to($1, 'UTF8')) AND r.used_at IS NULL "
		"AND r.expires_at > now() AND u.id = r.user_id AND u.is_active "
		"RETURNING r.user_id::text, r.id::text");
/* The link signs the user in, so this is their latest sign-in too (the Users page shows it). */
DB_STMT(st_set_password, "UPDATE users SET password_hash = $2, password_changed_at = now(), "
			 "last_login_at = now() WHERE id = $1::uuid");

static int resets_token_ok(const char *token);
static const char *resets_reason(const char *reason);
static char *resets_body(const struct config *cfg, const char *tmpl, const char *name,
			 const char *email, const char *token, const char *expires_label);
static int resets_decoy(db_conn *c, const struct config *cfg);
static void resets_wipe(char *s);
static long long resets_now_ms(void);
static void resets_wait_until(long long deadline_ms);

/* Tokens we issue are exactly 64 lower-case hex characters; anything else is not a link. */
static int
resets_token_ok(const char *token)
{
	size_t i;

	if (!token || strlen(token) != RESETS_TOKEN_LEN)
		return 0;
	for (i = 0; i < RESETS_TOKEN_LEN; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return 0;
	return 1;
}

/* The canonical reason, or NULL for one we do not know. */
static const char *
resets_reason(const char *reason)
{
	if (reason && strcmp(reason, "forgot") == 0)
		return "forgot";
	if (reason && (strcmp(reason, "welcome") == 0 || strcmp(reason, "invite") == 0))
		return "welcome";
	return NULL;
}

static void
resets_wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* The e-mail body (plain text: the templates use {{{ }}}, nothing is HTML here). */
static char *
resets_body(const struct config *cfg, const char *tmpl, const char *name, const char *email,
	    const char *token, const char *expires_label)
{
	buf link = BUF_INIT, forgot = BUF_INIT;
	char *body;

	buf_printf(&link, "%s/password/reset?token=%s", cfg->base_url, token);
	buf_printf(&forgot, "%s/password/forgot", cfg->base_url);
	body =
	    render_string(tmpl, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "email",
					  email, "link", link.data, "forgot_url", forgot.data,
					  "expires", expires_label, "base_url", cfg->base_url));
	resets_wipe(link.data);
	buf_free(&link);
	buf_free(&forgot);
	return body;
}

int
resets_issue(db_conn *tx, const struct config *cfg, const char *user_id, const char *reason_in)
{
	const char *reason = resets_reason(reason_in);
	int welcome = reason && strcmp(reason, "welcome") == 0;
	char token[RESETS_TOKEN_LEN + 1], hours[16];
	const char *pu[1] = {user_id};
	const char *pi[3] = {token, user_id, hours};
	PGresult *user = NULL, *link = NULL;
	json_t *details = NULL;
	char *body = NULL;
	int rc = -1;

	if (!reason) {
		log_error("resets: unknown reason for a password link");
		return -1;
	}
	user = db_exec(tx, &st_user, 1, pu);
	if (!user)
		return -1;
	if (PQntuples(user) == 0) {
		PQclear(user);
		return 1;
	}
	if (password_random_hex(token, RESETS_TOKEN_LEN / 2) != 0) {
		log_error("resets: no randomness for a token");
		goto out;
	}
	snprintf(hours, sizeof hours, "%d", RESETS_VALID_HOURS);
	if (db_run(tx, &st_retire, 1, pu) != 0)
		goto out;
	link = db_exec(tx, &st_insert, 3, pi);
	if (!link)
		goto out;
	body = resets_body(cfg, welcome ? "mail/welcome" : "mail/reset", PQgetvalue(user, 0, 1),
			   PQgetvalue(user, 0, 0), token, PQgetvalue(link, 0, 1));
	if (!body) {
		log_error("resets: the mail template is missing");
		goto out;
	}
	if (mail_queue(tx, PQgetvalue(user, 0, 0),
		       welcome ? RESETS_WELCOME_SUBJECT : RESETS_SUBJECT, body) != 0)
		goto out;
	/* The link by its row id: the token never reaches the audit trail. */
	details = json_pack("{s:s, s:s, s:s}", "reason", reason, "link_id", PQgetvalue(link, 0, 0),
			    "expires_at", PQgetvalue(link, 0, 2));
	if (audit_record(tx, NULL, "password_link_issued", "user", user_id, details) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(token, sizeof token);
	resets_wipe(body);
	free(body);
	PQclear(link);
	PQclear(user);
	return rc;
}

/*
 * The unknown-address path's stand-in for resets_issue: the same lock and
 * retire statements (matching nothing), three round trips for the three
 * inserts (the last one a NOTIFY, like the job's), and the same template
 * rendered.
 */
static int
resets_decoy(db_conn *c, const struct config *cfg)
{
	char token[RESETS_TOKEN_LEN + 1];
	const char *pu[1] = {RESETS_NOBODY};
	const char *pt[1] = {token};
	PGresult *res;
	char *body;
	int i;

	if (password_random_hex(token, RESETS_TOKEN_LEN / 2) != 0)
		return -1;
	res = db_exec(c, &st_user, 1, pu);
	if (!res)
		return -1;
	PQclear(res);
	if (db_run(c, &st_retire, 1, pu) != 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (db_run(c, &st_decoy, 1, pt) != 0)
			return -1;
	if (db_run(c, &st_decoy_notify, 1, pt) != 0)
		return -1;
	body =
	    resets_body(cfg, "mail/reset", "Nobody", "nobody@example.invalid", token, "00:00 UTC");
	resets_wipe(body);
	free(body);
	explicit_bzero(token, sizeof token);
	return 0;
}

static long long
resets_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
resets_wait_until(long long deadline_ms)
{
	long long left = deadline_ms - resets_now_ms();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
resets_request(db_conn *c, const struct config *cfg, const char *email_in)
{
	long long deadline = resets_now_ms() + RESETS_REQUEST_FLOOR_MS;
	char *email = normalise_email(email_in ? email_in : "");
	const char *p[1] = {email};
	char user_id[37] = "";
	PGresult *res;
	long recent = 0;
	int rc, usable;

	/* Too long for the column: it cannot match, but it still costs a round trip. */
	usable = email && strlen(email) <= RESETS_EMAIL_MAX;
	if (db_begin(c) != 0)
		goto fail;
	res = db_exec(c, usable ? &st_lookup : &st_decoy, 1, p);
	if (!res)
		goto fail;
	if (usable && PQntuples(res) == 1) {
		snprintf(user_id, sizeof user_id, "%s", PQgetvalue(res, 0, 0));
		recent = atol(PQgetvalue(res, 0, 1));
	}
	PQclear(res);

	if (user_id[0] && recent < RESETS_MAX_PER_HOUR) {
		rc = resets_issue(c, cfg, user_id, "forgot");
	} else if (user_id[0]) {
		/* Someone is asking again and again: the account's mailbox is not a target. */
		rc = resets_decoy(c, cfg);
		if (rc == 0)
			rc = audit_record(c, NULL, "password_reset_throttled", "user", user_id,
					  json_pack("{s:i}", "links_last_hour", (int)recent));
	} else {
		rc = resets_decoy(c, cfg);
		if (rc == 0)
			rc = audit_record(c, NULL, "password_reset_unknown_address", "user", NULL,
					  json_pack("{s:s?}", "email", usable ? email : NULL));
	}
	/* rc 1: the account was deactivated a moment ago; nothing to send, nothing wrong. */
	if (rc < 0 || db_commit(c) != 0)
		goto fail;
	free(email);
	resets_wait_until(deadline);
	return 0;
fail:
	db_rollback(c);
	free(email);
	if (db_error(c) == DB_ERR_UNAVAILABLE)
		return -1;
	/*
	 * Anything else (a constraint, a missing template) must not change the
	 * answer, or it would tell that the address has an account.
	 */
	log_error("resets: a forgot-password request failed: %s", db_error_message(c));
	resets_wait_until(deadline);
	return 0;
}

enum resets_state
resets_check(db_conn *c, const char *token, struct resets_user *user)
{
	const char *p[1] = {token};
	enum resets_state state;
	PGresult *res;

	memset(user, 0, sizeof *user);
	if (!resets_token_ok(token))
		return RESETS_UNKNOWN;
	res = db_exec(c, &st_check, 1, p);
	if (!res)
		return RESETS_ERROR;
	if (PQntuples(res) == 0 || PQgetvalue(res, 0, 5)[0] != 't')
		state = RESETS_UNKNOWN;
	else if (PQgetvalue(res, 0, 3)[0] == 't')
		state = RESETS_USED;
	else if (PQgetvalue(res, 0, 4)[0] == 't')
		state = RESETS_EXPIRED;
	else
		state = RESETS_OK;
	if (state == RESETS_OK) {
		snprintf(user->id, sizeof user->id, "%s", PQgetvalue(res, 0, 0));
		user->email = xstrdup(PQgetvalue(res, 0, 1));
		user->name = xstrdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return state;
}

void
resets_user_free(struct resets_user *user)
{
	free(user->email);
	free(user->name);
	user->email = user->name = NULL;
}

enum resets_state
resets_complete(db_conn *tx, const char *token, const char *new_password_hash, char user_id[37])
{
	const char *p[1] = {token};
	const char *pu[2] = {user_id, new_password_hash};
	char link_id[37];
	struct resets_user gone;
	enum resets_state why;
	PGresult *res;

	user_id[0] = '\0';
	if (!resets_token_ok(token))
		return RESETS_UNKNOWN;
	res = db_exec(tx, &st_use, 1, p);
	if (!res)
		return RESETS_ERROR;
	if (PQntuples(res) == 0) {
		PQclear(res);
		/* Say why (used, expired) on the same connection; nothing was changed. */
		why = resets_check(tx, token, &gone);
		resets_user_free(&gone);
		return why == RESETS_OK ? RESETS_USED : why;
	}
	snprintf(user_id, 37, "%s", PQgetvalue(res, 0, 0));
	snprintf(link_id, sizeof link_id, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (db_run(tx, &st_set_password, 2, pu) != 0 || db_run(tx, &st_retire, 1, pu) != 0 ||
	    accounts_sessions_end_user(tx, user_id, NULL) != 0 ||
	    audit_record(tx, user_id, "password_reset", "user", user_id,
			 json_pack("{s:s, s:s}", "link_id", link_id, "sessions", "all ended")) !=
		0) {
		user_id[0] = '\0';
		return RESETS_ERROR;
	}
	return RESETS_OK;
}

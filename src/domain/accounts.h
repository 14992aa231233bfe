/*
 * accounts — sign-in, sessions and throttling in the database.
 *
 * Session and reset tokens are random 256-bit values; only their SHA-256
 * (computed by PostgreSQL's sha256()) is stored, so a copy of the database
 * cannot be replayed as a cookie.
 */
#ifndef SPANNER_ACCOUNTS_H
#define SPANNER_ACCOUNTS_H

#include <stddef.h>

#include "core/config.h"
#include "core/db.h"

/* A signed-in user as one request sees them. */
struct auth_user {
	char id[37];
	char session_id[37];
	char *name;
	char *email;
	char initials[16];
	char csrf[65];
	char **permissions; /* "module.action", sorted */
	size_t npermissions;
	char **roles; /* role names, sorted */
	size_t nroles;
};

enum signin_result {
	SIGNIN_OK,
	SIGNIN_BAD,	  /* wrong e-mail, wrong password or deactivated: one message for all */
	SIGNIN_BLANK,	  /* no e-mail or no password given (still counted) */
	SIGNIN_THROTTLED, /* too many failures; *retry_after seconds */
	SIGNIN_BUSY,	  /* the password-check queue is full; *retry_after seconds */
	SIGNIN_ERROR,	  /* database trouble */
};

/* Prepares the dummy hash that keeps an unknown e-mail as slow as a wrong password. */
void accounts_init(const struct config *cfg);

/*
 * Checks the credentials, records the attempt and its audit row, and
 * re-hashes a password stored with older Argon2 costs. Every call is an
 * attempt that counts, whatever the e-mail (blank too): the throttle
 * (migrations/0005_signin_throttle.sql) is asked first, in one statement that
 * also records it. On SIGNIN_OK user_id holds the user. No connection or
 * transaction is held while the password is checked.
 */
enum signin_result accounts_sign_in(db_conn *c, const struct config *cfg, const char *email,
				    const char *password, const char *ip, char user_id[37],
				    int *retry_after);

/*
 * In tx: user_id has just signed in some other way (a password-reset link):
 * the sign-in is recorded (last sign-in, and the account's throttle cleared).
 */
int accounts_signed_in(db_conn *tx, const char *user_id, const char *ip);

/* Creates a session row in tx; token (the cookie value) and csrf are filled. */
int accounts_session_create(db_conn *tx, const struct config *cfg, const char *user_id,
			    const char *ip, const char *user_agent, char token[65], char csrf[65],
			    char session_id[37]);
/*
 * The live session for a cookie token (unexpired, not idle longer than
 * idle_minutes, user active), with the user's permissions read fresh. NULL
 * when there is none; *err set when the database failed instead.
 */
struct auth_user *accounts_session_load(db_conn *c, const char *token, int idle_minutes, int *err);
void accounts_user_free(struct auth_user *u);
int accounts_session_delete(db_conn *c, const char *session_id);
/* Ends every session of a user (deactivation, password reset), except keep (may be NULL). */
int accounts_sessions_end_user(db_conn *tx, const char *user_id, const char *keep_session_id);

/*
 * Checks a password against the rules (length, not the e-mail or name).
 * Returns NULL when acceptable, else a message for the form.
 */
const char *accounts_password_problem(const char *password, const char *email, const char *name);
#define ACCOUNTS_PASSWORD_MIN 10

#endif

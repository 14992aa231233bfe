/*
 * resets — single-use links that set a password: "forgot my password" and the
 * set-password invitation of a new account.
 *
 * A link carries a random 256-bit token (64 hex characters). The database
 * keeps only its SHA-256, computed by PostgreSQL's sha256(), so neither a copy
 * of the table nor the audit trail can be turned back into a working link; the
 * token itself exists only in the e-mail (the outbox row) and in the user's
 * hands. A link works once and for a limited time (RESETS_VALID_HOURS), and a
 * new link for a user retires that user's earlier unused ones.
 *
 * Completing a reset is one UPDATE ... WHERE used_at IS NULL AND expires_at >
 * now() RETURNING: of two requests racing with the same link, PostgreSQL's row
 * lock lets exactly one through.
 */
#ifndef SPANNER_RESETS_H
#define SPANNER_RESETS_H

#include "core/config.h"
#include "core/db.h"

/* How long a link works, for either reason. */
#define RESETS_VALID_HOURS 1
/* Links one account may be sent through "forgot password" per hour; more are dropped silently. */
#define RESETS_MAX_PER_HOUR 5
/* resets_request() takes at least this long, whether or not it sent a link. */
#define RESETS_REQUEST_FLOOR_MS 50
/* The token in a link: 32 random bytes as lower-case hex. */
#define RESETS_TOKEN_LEN 64

enum resets_state {
	RESETS_OK,	/* the link works (check) / the password was set (complete) */
	RESETS_UNKNOWN, /* no such link, a malformed token, or the account is deactivated */
	RESETS_USED,	/* it has been used already */
	RESETS_EXPIRED, /* too old, or retired by a newer link */
	RESETS_ERROR,	/* database trouble: see db_error() */
};

/* The account a working link belongs to. */
struct resets_user {
	char id[37];
	char *email;
	char *name;
};

/*
 * Issues a link for an active user inside the caller's transaction tx and
 * queues the e-mail that carries it (templates mail/reset or mail/welcome).
 * reason: "forgot", or "welcome" (also spelled "invite") for a new account.
 * Writes an audit row without the token. 0; 1 when the user does not exist or
 * is deactivated (nothing done); -1 on a database error (tx must be rolled
 * back).
 */
int resets_issue(db_conn *tx, const struct config *cfg, const char *user_id, const char *reason);

/*
 * "Forgot password" for an e-mail address, in its own transaction. A known,
 * active account gets a link; an unknown or deactivated address, or an account
 * that has had RESETS_MAX_PER_HOUR links this hour, gets nothing, after the
 * same kind of database work and no sooner than RESETS_REQUEST_FLOOR_MS, so
 * the caller's answer (always the same) reveals nothing, not even by its
 * timing. 0, or -1 only when the database cannot be reached.
 */
int resets_request(db_conn *c, const struct config *cfg, const char *email);

/*
 * Whether token is a working link. On RESETS_OK, *user is filled (release
 * with resets_user_free).
 */
enum resets_state resets_check(db_conn *c, const char *token, struct resets_user *user);
void resets_user_free(struct resets_user *user);

/*
 * Uses the link in the caller's transaction tx: marks it used (single use,
 * also under concurrency), stores new_password_hash, retires the user's other
 * links, ends all the user's sessions and writes the audit row. On RESETS_OK
 * user_id holds the user; other states mean nothing was changed.
 */
enum resets_state resets_complete(db_conn *tx, const char *token, const char *new_password_hash,
				  char user_id[37]);

#endif

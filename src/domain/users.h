/*
 * users — user accounts as the Admin manages them: list, create, edit, roles,
 * deactivate and reactivate.
 *
 * Each mutation is one transaction holding the change and its audit row. The
 * rule that the organisation always keeps an active Admin is enforced here,
 * inside that transaction: every change that could remove the last one first
 * locks the Admin role's row, so two concurrent requests (two Admins
 * deactivating each other) are serialised and the second sees the first's
 * result instead of both passing the check.
 */
#ifndef SPANNER_USERS_H
#define SPANNER_USERS_H

#include <jansson.h>
#include <stddef.h>

#include "core/config.h"
#include "core/db.h"

#define USERS_NAME_MAX 200
#define USERS_PAGE_SIZE 50
#define USERS_ADMIN_ROLE "Admin"

enum users_result {
	USERS_OK,
	USERS_NOT_FOUND,
	USERS_EMAIL_TAKEN,  /* another account has this e-mail (case-insensitive) */
	USERS_LAST_ADMIN,   /* would leave no active Admin */
	USERS_UNKNOWN_ROLE, /* a role id that does not exist */
	USERS_NO_CHANGE,    /* deactivate/reactivate of a user already in that state */
	USERS_SELF,	    /* an Admin deactivating their own account */
	USERS_ERROR,	    /* database trouble: see db_error(c) */
};

/* The list's filters, straight from the query string (NULL or "" = no filter). */
struct users_filter {
	const char *q;	    /* part of the name or e-mail */
	const char *role;   /* role id */
	const char *status; /* "active", "deactivated", or anything else = all */
	const char *after;  /* keyset cursor: the id of the last user of the previous page */
};

/* What the form submits, already normalised (domain/normalise.h) and validated. */
struct user_input {
	const char *name;
	const char *email;
	const char *const *role_ids;
	size_t nroles;
	/* Creation only: an initial password, or NULL to e-mail a set-password link. */
	const char *password;
};

/* Every role: [{id, name, description}] by name. NULL on a database error. */
json_t *users_roles(db_conn *c);

/*
 * One page of users matching f, ordered by name: {users: [{id, name, email,
 * initials, is_active, roles [names], last_login (ISO or null), last_login_text,
 * created_at}], next (cursor id or null), total (matching count)}. NULL on a
 * database error.
 */
json_t *users_list(db_conn *c, const struct users_filter *f);

/* One user {id, name, email, initials, is_active, roles [{id, name}], …}; NULL if none or error. */
json_t *users_get(db_conn *c, const char *id, int *db_failed);

/*
 * Creates the user with its roles, and either stores the hash of in->password
 * or queues the set-password e-mail (resets_issue). id receives the new id.
 */
enum users_result users_create(db_conn *c, const struct config *cfg, const char *actor_id,
			       const struct user_input *in, char id[37]);

/* Saves name, e-mail and roles; the audit row holds the changed fields only. */
enum users_result users_update(db_conn *c, const char *actor_id, const char *id,
			       const struct user_input *in);

/*
 * Deactivation also ends every session of the user in the same transaction.
 * Nobody deactivates themself (USERS_SELF): another Admin must, so an
 * organisation never locks itself out by one click.
 */
enum users_result users_deactivate(db_conn *c, const char *actor_id, const char *id);
enum users_result users_reactivate(db_conn *c, const char *actor_id, const char *id);

/*
 * Whether the user had signed in before the current session (a sign-in with a
 * password, or through a set-password link): 1 or 0, -1 on a database error.
 * The home page says "Welcome back" only to someone who has been here before.
 */
int users_returning(db_conn *c, const char *id);

#endif

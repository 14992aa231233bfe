/*
 * grants — the role × permission matrix (role_permissions).
 *
 * Which role may do what is data, edited by Admins on one page, never code:
 * handlers only ask whether the user holds a permission. The matrix is saved
 * whole, in one transaction, as the set of (role, permission) pairs that
 * should be granted; what differs from the table is inserted or deleted and
 * recorded as ONE audit row {"granted": [...], "revoked": [...]}.
 *
 * The Admin role always keeps users.manage and grants.manage, whatever is
 * posted: otherwise one mistaken save could lock every Admin out of the very
 * pages that would undo it.
 */
#ifndef SPANNER_GRANTS_H
#define SPANNER_GRANTS_H

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"

#define GRANTS_LOCKED_ROLE "Admin"

enum grants_result {
	GRANTS_OK,	  /* saved; *changes says what */
	GRANTS_UNCHANGED, /* the posted matrix is the current one: nothing written */
	GRANTS_INVALID,	  /* a pair names a role or permission that does not exist */
	GRANTS_ERROR,	  /* database trouble: see db_error(c) */
};

/* 1 when (role, permission) is a grant that can never be revoked. */
int grants_is_locked(const char *role, const char *permission);

/*
 * The matrix for the page: {roles: [{id, name}], modules: [{module, label,
 * permissions: [{key "module.action", action_label, description, cells: [{role,
 * value "Role:module.action", checked, locked}]}]}]}, in SPEC order. NULL on a
 * database error.
 */
json_t *grants_matrix(db_conn *c);

/*
 * Makes the grants exactly pairs[0..n) ("Role:module.action" strings, as the
 * form posts them) plus the locked ones. On GRANTS_OK *changes (may be NULL)
 * receives {"granted": [{role, permission}], "revoked": [...]}.
 */
enum grants_result grants_save(db_conn *c, const char *actor_id, const char *const *pairs, size_t n,
			       json_t **changes);

#endif

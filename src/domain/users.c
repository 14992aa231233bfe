/*
 * users — accounts as the Admin manages them.
 *
 * The list is keyset-paginated by (lower(name), id) so its first screen costs
 * the same however many users there are. Role sets travel to PostgreSQL as one
 * JSON array parameter (no SQL built from input, no array-literal quoting).
 * Mutations follow one shape: BEGIN → lock the user row → check → change →
 * audit_record → COMMIT, rolling back on any failure so a change never lands
 * without its audit row.
 */
#include "users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/password.h"
#include "domain/accounts.h"
#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/resets.h"

/* SPEC §1's order (the grants page uses it too); roles added later come last. */
DB_STMT(stmt_roles_all,
	"SELECT id, name, coalesce(description, '') FROM roles ORDER BY "
	"array_position(ARRAY['Admin','Segment Owner','Researcher','Approver','SDR',"
	"'Marketing'], name) NULLS LAST, name");

/* The list's filters; $4 is the keyset cursor (the last id of the previous page). */
#define USERS_LIST_WHERE                                                                           \
	"WHERE ($1::text IS NULL OR u.name ILIKE $1 OR u.email ILIKE $1) "                         \
	"AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM user_roles ur "                            \
	"WHERE ur.user_id = u.id AND ur.role_id::text = $2)) "                                     \
	"AND ($3::text IS NULL OR u.is_active = ($3 = 'active')) "

DB_STMT(
    stmt_users_list,
    "SELECT u.id, u.name, u.email, u.is_active, coalesce((SELECT json_agg(r.name ORDER BY "
    "r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), "
    "'[]')::text, to_json(u.last_login_at) #>> '{}', greatest(0, floor(extract(epoch FROM "
    "now() - u.last_login_at)))::bigint, to_char(u.last_login_at, 'FMDD Mon YYYY'), "
    "to_char(u.created_at, 'FMDD Mon YYYY'), to_char(u.last_login_at, 'FMDD Mon YYYY, HH24:MI') "
    "FROM users u " USERS_LIST_WHERE
    "AND ($4::uuid IS NULL OR (lower(u.name), u.id) > (SELECT lower(c.name), c.id FROM users c "
    "WHERE c.id = $4::uuid)) ORDER BY lower(u.name), u.id LIMIT $5::int");
DB_STMT(stmt_users_count, "SELECT count(*) FROM users u " USERS_LIST_WHERE);

DB_STMT(
    stmt_users_get,
    "SELECT u.id, u.name, u.email, u.is_active, to_char(u.created_at, 'FMDD Mon YYYY, HH24:MI'), "
    "to_char(u.last_login_at, 'FMDD Mon YYYY, HH24:MI'), to_char(u.deactivated_at, 'FMDD Mon "
    "YYYY, HH24:MI'), u.password_hash IS NOT NULL, cb.name, coalesce((SELECT "
    "json_agg(json_build_object('id', r.id, 'name', r.name) ORDER BY r.name) FROM user_roles ur "
    "JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), '[]')::text "
    "FROM users u LEFT JOIN users cb ON cb.id = u.created_by WHERE u.id = $1::uuid");

/* The roles named by a JSON array of ids, as {id: name} (unknown ids are simply absent). */
DB_STMT(stmt_roles_named, "SELECT r.id, r.name FROM roles r WHERE r.id::text IN "
			  "(SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY r.name");

DB_STMT(stmt_user_insert,
	"INSERT INTO users (email, name, password_hash, password_changed_at, "
	"created_by) VALUES ($1, $2, $3::text, CASE WHEN $3::text IS NULL THEN NULL "
	"ELSE now() END, $4::uuid) RETURNING id");
DB_STMT(stmt_user_roles_add,
	"INSERT INTO user_roles (user_id, role_id, granted_by) SELECT $1::uuid, r.id, $3::uuid "
	"FROM roles r WHERE r.id::text IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"ON CONFLICT (user_id, role_id) DO NOTHING");
DB_STMT(stmt_user_roles_keep,
	"DELETE FROM user_roles WHERE user_id = $1::uuid AND role_id::text NOT IN "
	"(SELECT jsonb_array_elements_text($2::jsonb))");

/*
 * The target user's row lock. NO KEY UPDATE rather than UPDATE: audit rows and
 * role grants of a concurrent transaction reference their actor through a
 * foreign key (a KEY SHARE lock), and two Admins acting on each other would
 * otherwise deadlock instead of being decided by the Admin role's lock.
 */
DB_STMT(stmt_user_lock,
	"SELECT u.name, u.email, u.is_active, EXISTS (SELECT 1 FROM user_roles "
	"ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = "
	"'" USERS_ADMIN_ROLE "'), coalesce((SELECT json_agg(r.name ORDER BY r.name) "
	"FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = "
	"u.id), '[]')::text FROM users u WHERE u.id = $1::uuid FOR NO KEY UPDATE OF u");
/*
 * The serialisation point of the last-Admin rule. NO KEY UPDATE conflicts with
 * itself but not with the KEY SHARE locks foreign-key checks take, so ordinary
 * inserts of Admin grants are not held up by it.
 */
DB_STMT(stmt_admin_role_lock,
	"SELECT id FROM roles WHERE name = '" USERS_ADMIN_ROLE "' FOR NO KEY UPDATE");
DB_STMT(stmt_other_admins,
	"SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON "
	"r.id = ur.role_id WHERE r.name = '" USERS_ADMIN_ROLE "' AND u.is_active AND u.id <> "
	"$1::uuid");

DB_STMT(stmt_user_signins,
	"SELECT count(*) FROM audit_logs WHERE entity_type = 'user' AND entity_id = $1::uuid "
	"AND action IN ('sign_in', 'password_reset')");
DB_STMT(stmt_user_update, "UPDATE users SET name = $2, email = $3 WHERE id = $1::uuid");
DB_STMT(stmt_user_set_active,
	"UPDATE users SET is_active = $2::boolean, deactivated_at = CASE WHEN $2::boolean THEN "
	"NULL ELSE now() END WHERE id = $1::uuid");

static json_t *users_json_column(PGresult *res, int row, int col);
static json_t *users_ids_json(const struct user_input *in);
static int users_role_names(db_conn *c, const struct user_input *in, json_t **names);
static enum users_result users_check_admin_kept(db_conn *c, const char *id);
static int users_email_conflict(db_conn *c);
static enum users_result users_set_active(db_conn *c, const char *actor_id, const char *id,
					  int active);

/* ---------------------------------------------------------------- reading */

json_t *
users_roles(db_conn *c)
{
	PGresult *res = db_exec(c, &stmt_roles_all, 0, NULL);
	json_t *roles;
	int i;

	if (!res)
		return NULL;
	roles = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(
		    roles, json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, i, 0), "name",
				     PQgetvalue(res, i, 1), "description", PQgetvalue(res, i, 2)));
	PQclear(res);
	return roles;
}

json_t *
users_list(db_conn *c, const struct users_filter *f)
{
	char *like = normalise_search_pattern(f->q);
	const char *status = NULL, *role = f->role && *f->role ? f->role : NULL;
	const char *after = f->after && *f->after ? f->after : NULL;
	char limit[16];
	PGresult *res, *cnt;
	json_t *out, *users;
	int i, n;

	if (f->status &&
	    (strcmp(f->status, "active") == 0 || strcmp(f->status, "deactivated") == 0))
		status = f->status;
	/* One more than a page tells whether there is a next one. */
	snprintf(limit, sizeof limit, "%d", USERS_PAGE_SIZE + 1);
	{
		const char *params[5] = {like, role, status, after, limit};

		res = db_exec(c, &stmt_users_list, 5, params);
		cnt = res ? db_exec(c, &stmt_users_count, 3, params) : NULL;
	}
	free(like);
	if (!res || !cnt) {
		PQclear(res);
		return NULL;
	}
	users = json_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < USERS_PAGE_SIZE; i++) {
		char initials[16], ago[48];
		const char *last = NULL;
		json_t *u;

		normalise_initials(PQgetvalue(res, i, 1), initials);
		if (!PQgetisnull(res, i, 5))
			last = audit_ago(atoll(PQgetvalue(res, i, 6)), ago, sizeof ago);
		if (!last && !PQgetisnull(res, i, 5))
			last = PQgetvalue(res, i, 7);
		u = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s?, s:s?, s:s?, s:s}", "id",
			      PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1), "email",
			      PQgetvalue(res, i, 2), "initials", initials, "is_active",
			      PQgetvalue(res, i, 3)[0] == 't', "roles",
			      users_json_column(res, i, 4), "last_login",
			      PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
			      "last_login_text", last, "last_login_at_text",
			      PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 9), "created_text",
			      PQgetvalue(res, i, 8));
		json_array_append_new(users, u);
	}
	out = json_pack("{s:o, s:s?, s:I}", "users", users, "next",
			n > USERS_PAGE_SIZE ? PQgetvalue(res, USERS_PAGE_SIZE - 1, 0) : NULL,
			"total", (json_int_t)atoll(PQgetvalue(cnt, 0, 0)));
	PQclear(res);
	PQclear(cnt);
	return out;
}

json_t *
users_get(db_conn *c, const char *id, int *db_failed)
{
	const char *params[1] = {id};
	PGresult *res = db_exec(c, &stmt_users_get, 1, params);
	char initials[16];
	json_t *u, *roles;
	size_t i;
	int is_admin = 0;

	*db_failed = !res;
	if (!res || PQntuples(res) == 0) {
		PQclear(res);
		return NULL;
	}
	normalise_initials(PQgetvalue(res, 0, 1), initials);
	roles = users_json_column(res, 0, 9);
	for (i = 0; i < json_array_size(roles); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(roles, i), "name")),
			   USERS_ADMIN_ROLE) == 0)
			is_admin = 1;
	u = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s?, s:s?, s:b, s:s?, s:o, s:b}", "id",
		      PQgetvalue(res, 0, 0), "name", PQgetvalue(res, 0, 1), "email",
		      PQgetvalue(res, 0, 2), "initials", initials, "is_active",
		      PQgetvalue(res, 0, 3)[0] == 't', "created_text", PQgetvalue(res, 0, 4),
		      "last_login_text", PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5),
		      "deactivated_text", PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6),
		      "has_password", PQgetvalue(res, 0, 7)[0] == 't', "created_by",
		      PQgetisnull(res, 0, 8) ? NULL : PQgetvalue(res, 0, 8), "roles", roles,
		      "is_admin", is_admin);
	PQclear(res);
	return u;
}

/* ---------------------------------------------------------------- mutations */

enum users_result
users_create(db_conn *c, const struct config *cfg, const char *actor_id,
	     const struct user_input *in, char id[37])
{
	char *hash = NULL, *ids_text;
	json_t *ids = users_ids_json(in), *names = NULL;
	PGresult *res;
	int nroles;

	/* Hash before BEGIN: Argon2 takes a while and must not hold a transaction open. */
	if (in->password && !(hash = password_hash(cfg, in->password))) {
		json_decref(ids);
		return USERS_ERROR;
	}
	ids_text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	if (db_begin(c) != 0)
		goto error;
	nroles = users_role_names(c, in, &names);
	if (nroles < 0)
		goto fail;
	if ((size_t)nroles != json_array_size(names) || json_array_size(names) == 0) {
		db_rollback(c);
		free(hash);
		free(ids_text);
		json_decref(names);
		return USERS_UNKNOWN_ROLE;
	}
	{
		const char *params[4] = {in->email, in->name, hash, actor_id};

		res = db_exec(c, &stmt_user_insert, 4, params);
	}
	free(hash);
	hash = NULL;
	if (!res) {
		if (users_email_conflict(c)) {
			db_rollback(c);
			free(ids_text);
			json_decref(names);
			return USERS_EMAIL_TAKEN;
		}
		goto fail;
	}
	snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	{
		const char *params[3] = {id, ids_text, actor_id};

		if (db_run(c, &stmt_user_roles_add, 3, params) != 0)
			goto fail;
	}
	/* The invitation is queued in this transaction: no user without their e-mail. */
	if (!in->password && resets_issue(c, cfg, id, "welcome") != 0)
		goto fail;
	if (audit_record(c, actor_id, "create", "user", id,
			 json_pack("{s:s, s:s, s:O, s:s}", "name", in->name, "email", in->email,
				   "roles", names, "sign_in",
				   in->password ? "initial password set by an Admin"
						: "set-password link e-mailed")) != 0)
		goto fail;
	if (db_commit(c) != 0)
		goto error;
	free(ids_text);
	json_decref(names);
	return USERS_OK;
fail:
	db_rollback(c);
error:
	free(hash);
	free(ids_text);
	json_decref(names);
	return USERS_ERROR;
}

enum users_result
users_update(db_conn *c, const char *actor_id, const char *id, const struct user_input *in)
{
	const char *lock_params[1] = {id};
	json_t *ids = users_ids_json(in), *names = NULL, *old_roles, *changes = json_object();
	char *ids_text = json_dumps(ids, JSON_COMPACT);
	enum users_result rc = USERS_ERROR;
	PGresult *res = NULL;
	int nroles, was_admin, admin_kept = 0;
	size_t i;

	json_decref(ids);
	if (db_begin(c) != 0)
		goto out;
	res = db_exec(c, &stmt_user_lock, 1, lock_params);
	if (!res)
		goto fail;
	if (PQntuples(res) == 0) {
		rc = USERS_NOT_FOUND;
		goto fail;
	}
	nroles = users_role_names(c, in, &names);
	if (nroles < 0)
		goto fail;
	if ((size_t)nroles != json_array_size(names) || json_array_size(names) == 0) {
		rc = USERS_UNKNOWN_ROLE;
		goto fail;
	}
	for (i = 0; i < json_array_size(names); i++)
		if (strcmp(json_string_value(json_array_get(names, i)), USERS_ADMIN_ROLE) == 0)
			admin_kept = 1;
	was_admin = PQgetvalue(res, 0, 3)[0] == 't';
	/* Only an active Admin losing the role can leave the organisation without one. */
	if (was_admin && !admin_kept && PQgetvalue(res, 0, 2)[0] == 't') {
		rc = users_check_admin_kept(c, id);
		if (rc != USERS_OK)
			goto fail;
		rc = USERS_ERROR;
	}
	audit_change(changes, "name", json_string(PQgetvalue(res, 0, 0)), json_string(in->name));
	audit_change(changes, "email", json_string(PQgetvalue(res, 0, 1)), json_string(in->email));
	old_roles = users_json_column(res, 0, 4);
	audit_change(changes, "roles", old_roles, json_incref(names));
	PQclear(res);
	res = NULL;
	if (json_object_size(changes) == 0) {
		db_rollback(c);
		rc = USERS_NO_CHANGE;
		goto out;
	}
	{
		const char *params[3] = {id, in->name, in->email};

		if (db_run(c, &stmt_user_update, 3, params) != 0) {
			if (users_email_conflict(c))
				rc = USERS_EMAIL_TAKEN;
			goto fail;
		}
	}
	{
		const char *params[3] = {id, ids_text, actor_id};

		if (db_run(c, &stmt_user_roles_keep, 2, params) != 0 ||
		    db_run(c, &stmt_user_roles_add, 3, params) != 0)
			goto fail;
	}
	if (audit_record(c, actor_id, "update", "user", id,
			 json_pack("{s:O}", "changes", changes)) != 0)
		goto fail;
	if (db_commit(c) == 0)
		rc = USERS_OK;
	goto out;
fail:
	PQclear(res);
	db_rollback(c);
out:
	free(ids_text);
	json_decref(names);
	json_decref(changes);
	return rc;
}

enum users_result
users_deactivate(db_conn *c, const char *actor_id, const char *id)
{
	if (actor_id && id && strcmp(actor_id, id) == 0)
		return USERS_SELF;
	return users_set_active(c, actor_id, id, 0);
}

enum users_result
users_reactivate(db_conn *c, const char *actor_id, const char *id)
{
	return users_set_active(c, actor_id, id, 1);
}

static enum users_result
users_set_active(db_conn *c, const char *actor_id, const char *id, int active)
{
	const char *params[2] = {id, active ? "true" : "false"};
	enum users_result rc = USERS_ERROR;
	PGresult *res;

	if (db_begin(c) != 0)
		return USERS_ERROR;
	res = db_exec(c, &stmt_user_lock, 1, params);
	if (!res)
		goto fail;
	if (PQntuples(res) == 0) {
		rc = USERS_NOT_FOUND;
		goto fail;
	}
	if ((PQgetvalue(res, 0, 2)[0] == 't') == active) {
		rc = USERS_NO_CHANGE;
		goto fail;
	}
	if (!active && PQgetvalue(res, 0, 3)[0] == 't') {
		rc = users_check_admin_kept(c, id);
		if (rc != USERS_OK)
			goto fail;
		rc = USERS_ERROR;
	}
	PQclear(res);
	res = NULL;
	if (db_run(c, &stmt_user_set_active, 2, params) != 0)
		goto fail;
	/* Signed out everywhere at once, in the same transaction as the deactivation. */
	if (!active && accounts_sessions_end_user(c, id, NULL) < 0)
		goto fail;
	if (audit_record(c, actor_id, active ? "reactivate" : "deactivate", "user", id, NULL) != 0)
		goto fail;
	return db_commit(c) == 0 ? USERS_OK : USERS_ERROR;
fail:
	PQclear(res);
	db_rollback(c);
	return rc;
}

/* ---------------------------------------------------------------- helpers */

/*
 * Called with the target user's row locked. Takes the Admin role's lock, then
 * counts the other active Admins with a fresh snapshot (READ COMMITTED takes
 * one per statement), so a concurrent change that committed while we waited
 * is seen.
 */
static enum users_result
users_check_admin_kept(db_conn *c, const char *id)
{
	const char *params[1] = {id};
	PGresult *res;
	long others;

	if (db_run(c, &stmt_admin_role_lock, 0, NULL) != 0)
		return USERS_ERROR;
	res = db_exec(c, &stmt_other_admins, 1, params);
	if (!res)
		return USERS_ERROR;
	others = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return others > 0 ? USERS_OK : USERS_LAST_ADMIN;
}

/*
 * Looks up the input's role ids: *names gets their names (sorted). Returns the
 * number of distinct ids asked for, so the caller can tell an unknown one; -1
 * on a database error.
 */
static int
users_role_names(db_conn *c, const struct user_input *in, json_t **names)
{
	json_t *ids = users_ids_json(in);
	char *text = json_dumps(ids, JSON_COMPACT);
	const char *params[1] = {text};
	PGresult *res = db_exec(c, &stmt_roles_named, 1, params);
	int i, n = (int)json_array_size(ids);

	free(text);
	json_decref(ids);
	if (!res)
		return -1;
	*names = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(*names, json_string(PQgetvalue(res, i, 1)));
	PQclear(res);
	return n;
}

/* The distinct role ids of the input as a JSON array. */
static json_t *
users_ids_json(const struct user_input *in)
{
	json_t *ids = json_array();
	size_t i, j;

	for (i = 0; i < in->nroles; i++) {
		int seen = 0;

		for (j = 0; j < i; j++)
			if (strcmp(in->role_ids[i], in->role_ids[j]) == 0)
				seen = 1;
		if (!seen)
			json_array_append_new(ids, json_string(in->role_ids[i]));
	}
	return ids;
}

static int
users_email_conflict(db_conn *c)
{
	return db_error(c) == DB_ERR_CONSTRAINT &&
	       strcmp(db_error_constraint(c), "users_email_lower_key") == 0;
}

static json_t *
users_json_column(PGresult *res, int row, int col)
{
	json_t *v = json_loads(PQgetvalue(res, row, col), 0, NULL);

	return v ? v : json_array();
}

int
users_returning(db_conn *c, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec(c, &stmt_user_signins, 1, params);
	long n;

	if (!res)
		return -1;
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n > 1; /* the current session's own sign-in is one of them */
}

/*
 * grants — reading and saving the role × permission matrix.
 *
 * The posted pairs go to PostgreSQL as one JSON parameter and the difference
 * is computed there: an INSERT … ON CONFLICT DO NOTHING RETURNING gives
 * exactly what was newly granted, a DELETE … RETURNING exactly what was
 * revoked, so the audit row describes what really changed, not what the form
 * said. A table lock that only conflicts with itself serialises two Admins
 * saving at once without holding up the permission reads of every request.
 */
#include "grants.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/audit.h"

/* SPEC §1's order, so the page reads like the table people know. */
#define GRANTS_ROLE_ORDER                                                                          \
	"array_position(ARRAY['Admin','Segment "                                                   \
	"Owner','Researcher','Approver','SDR','Marketing'], "                                      \
	"r.name)"
#define GRANTS_PERMISSION_ORDER                                                                    \
	"array_position(ARRAY['users','grants','segments','offerings','companies','contacts',"     \
	"'collateral','dedup','export'], p.module) NULLS LAST, p.module, "                         \
	"array_position(ARRAY['manage','create','edit','archive','upload_csv','approve','reject'," \
	"'assign','assign_researcher','assign_sdr','schedule_meeting','run','csv'], p.action) "    \
	"NULLS LAST, p.action"

/*
 * The matrix is read as three small queries joined in C rather than one
 * roles × permissions cross join: PostgreSQL's estimate for that join on
 * unanalysed tables is big enough to switch on JIT compilation, which costs
 * about 200 ms for a page that otherwise takes one.
 */
DB_STMT(stmt_grants_roles,
	"SELECT r.id, r.name FROM roles r ORDER BY " GRANTS_ROLE_ORDER " NULLS LAST, r.name");
DB_STMT(stmt_grants_permissions, "SELECT p.module, p.action, coalesce(p.description, '') FROM "
				 "permissions p ORDER BY " GRANTS_PERMISSION_ORDER);
DB_STMT(stmt_grants_current, "SELECT r.name || ':' || p.module || '.' || p.action FROM "
			     "role_permissions rp JOIN roles r ON r.id = rp.role_id JOIN "
			     "permissions p ON p.id = rp.permission_id");

/* The wanted pairs resolved to ids; $1 is [{"role": …, "permission": "module.action"}]. */
#define GRANTS_WANTED                                                                              \
	"wanted AS (SELECT DISTINCT r.id AS role_id, p.id AS permission_id FROM "                  \
	"jsonb_to_recordset($1::jsonb) AS x(role text, permission text) JOIN roles r ON r.name = " \
	"x.role JOIN permissions p ON p.module || '.' || p.action = x.permission)"
#define GRANTS_NAMES(rel)                                                                          \
	"SELECT r.name, p.module || '.' || p.action FROM " rel " d JOIN roles r ON r.id = "        \
	"d.role_id JOIN permissions p ON p.id = d.permission_id ORDER BY " GRANTS_ROLE_ORDER       \
	", " GRANTS_PERMISSION_ORDER

DB_STMT(stmt_grants_unknown,
	"SELECT count(*) FROM jsonb_to_recordset($1::jsonb) AS x(role text, permission text) "
	"WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.name = x.role) OR NOT EXISTS (SELECT 1 "
	"FROM permissions p WHERE p.module || '.' || p.action = x.permission)");
DB_STMT(stmt_grants_insert,
	"WITH " GRANTS_WANTED ", ins AS (INSERT INTO role_permissions (role_id, permission_id, "
	"granted_by) SELECT role_id, permission_id, $2::uuid FROM wanted ON CONFLICT (role_id, "
	"permission_id) DO NOTHING RETURNING role_id, permission_id) " GRANTS_NAMES("ins"));
DB_STMT(stmt_grants_delete,
	"WITH " GRANTS_WANTED ", del AS (DELETE FROM role_permissions rp WHERE NOT EXISTS (SELECT "
	"1 FROM wanted w WHERE w.role_id = rp.role_id AND w.permission_id = rp.permission_id) "
	"RETURNING rp.role_id, rp.permission_id) " GRANTS_NAMES("del"));

static const char *const grants_locked[] = {"users.manage", "grants.manage"};

static json_t *grants_pairs(PGresult *res);
static char *grants_label(const char *word);

int
grants_is_locked(const char *role, const char *permission)
{
	size_t i;

	if (strcmp(role, GRANTS_LOCKED_ROLE) != 0)
		return 0;
	for (i = 0; i < sizeof grants_locked / sizeof grants_locked[0]; i++)
		if (strcmp(permission, grants_locked[i]) == 0)
			return 1;
	return 0;
}

json_t *
grants_matrix(db_conn *c)
{
	PGresult *rr = db_exec(c, &stmt_grants_roles, 0, NULL);
	PGresult *pr = rr ? db_exec(c, &stmt_grants_permissions, 0, NULL) : NULL;
	PGresult *gr = pr ? db_exec(c, &stmt_grants_current, 0, NULL) : NULL;
	json_t *roles, *modules, *granted, *module = NULL;
	int i, j;

	if (!gr) {
		PQclear(rr);
		PQclear(pr);
		return NULL;
	}
	/* "Role:module.action" → true, for the cells' checked state. */
	granted = json_object();
	for (i = 0; i < PQntuples(gr); i++)
		json_object_set_new(granted, PQgetvalue(gr, i, 0), json_true());
	roles = json_array();
	for (j = 0; j < PQntuples(rr); j++)
		json_array_append_new(roles, json_pack("{s:s, s:s}", "id", PQgetvalue(rr, j, 0),
						       "name", PQgetvalue(rr, j, 1)));
	modules = json_array();
	for (i = 0; i < PQntuples(pr); i++) {
		const char *mod = PQgetvalue(pr, i, 0), *act = PQgetvalue(pr, i, 1);
		char *label = grants_label(act);
		json_t *perm, *cells = json_array();
		buf key = BUF_INIT;

		buf_printf(&key, "%s.%s", mod, act);
		if (!module ||
		    strcmp(json_string_value(json_object_get(module, "module")), mod) != 0) {
			char *mlabel = strcmp(mod, "dedup") == 0 ? xstrdup("Duplicate detection")
								 : grants_label(mod);

			module = json_pack("{s:s, s:s, s:[]}", "module", mod, "label", mlabel,
					   "permissions");
			json_array_append_new(modules, module);
			free(mlabel);
		}
		for (j = 0; j < PQntuples(rr); j++) {
			const char *role = PQgetvalue(rr, j, 1);
			buf value = BUF_INIT;

			buf_printf(&value, "%s:%s", role, key.data);
			json_array_append_new(
			    cells, json_pack("{s:s, s:s, s:s, s:b, s:b}", "role", role, "value",
					     value.data, "permission", key.data, "checked",
					     json_object_get(granted, value.data) != NULL, "locked",
					     grants_is_locked(role, key.data)));
			buf_free(&value);
		}
		perm = json_pack("{s:s, s:s, s:s, s:o}", "key", key.data, "action_label", label,
				 "description", PQgetvalue(pr, i, 2), "cells", cells);
		json_array_append_new(json_object_get(module, "permissions"), perm);
		free(label);
		buf_free(&key);
	}
	json_decref(granted);
	PQclear(rr);
	PQclear(pr);
	PQclear(gr);
	return json_pack("{s:o, s:o}", "roles", roles, "modules", modules);
}

enum grants_result
grants_save(db_conn *c, const char *actor_id, const char *const *pairs, size_t n, json_t **changes)
{
	json_t *wanted = json_array(), *granted = NULL, *revoked = NULL;
	enum grants_result rc = GRANTS_ERROR;
	char *wanted_text;
	PGresult *res;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *colon = strrchr(pairs[i], ':');
		char *role;

		if (!colon) {
			json_decref(wanted);
			return GRANTS_INVALID;
		}
		role = xstrndup(pairs[i], (size_t)(colon - pairs[i]));
		json_array_append_new(
		    wanted, json_pack("{s:s, s:s}", "role", role, "permission", colon + 1));
		free(role);
	}
	/* Posted or not (disabled checkboxes are never posted), these stay granted. */
	for (i = 0; i < sizeof grants_locked / sizeof grants_locked[0]; i++)
		json_array_append_new(wanted, json_pack("{s:s, s:s}", "role", GRANTS_LOCKED_ROLE,
							"permission", grants_locked[i]));
	wanted_text = json_dumps(wanted, JSON_COMPACT);
	json_decref(wanted);
	if (db_begin(c) != 0)
		goto out;
	res = db_exec_sql(c, "LOCK TABLE role_permissions IN SHARE ROW EXCLUSIVE MODE");
	if (!res)
		goto fail;
	PQclear(res);
	{
		const char *params[1] = {wanted_text};

		res = db_exec(c, &stmt_grants_unknown, 1, params);
		if (!res)
			goto fail;
		if (atol(PQgetvalue(res, 0, 0)) > 0) {
			PQclear(res);
			rc = GRANTS_INVALID;
			goto fail;
		}
		PQclear(res);
	}
	{
		const char *params[2] = {wanted_text, actor_id};

		res = db_exec(c, &stmt_grants_insert, 2, params);
		if (!res)
			goto fail;
		granted = grants_pairs(res);
		PQclear(res);
		res = db_exec(c, &stmt_grants_delete, 1, params);
		if (!res)
			goto fail;
		revoked = grants_pairs(res);
		PQclear(res);
	}
	if (json_array_size(granted) == 0 && json_array_size(revoked) == 0) {
		db_rollback(c);
		rc = GRANTS_UNCHANGED;
		goto out;
	}
	if (audit_record(c, actor_id, "update", "grants", NULL,
			 json_pack("{s:O, s:O}", "granted", granted, "revoked", revoked)) != 0)
		goto fail;
	if (db_commit(c) != 0)
		goto out;
	rc = GRANTS_OK;
	if (changes)
		*changes = json_pack("{s:O, s:O}", "granted", granted, "revoked", revoked);
	goto out;
fail:
	db_rollback(c);
out:
	free(wanted_text);
	json_decref(granted);
	json_decref(revoked);
	return rc;
}

static json_t *
grants_pairs(PGresult *res)
{
	json_t *list = json_array();
	int i;

	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "role", PQgetvalue(res, i, 0),
						      "permission", PQgetvalue(res, i, 1)));
	return list;
}

/* "assign_researcher" → "Assign researcher", "upload_csv" → "Upload CSV". */
static char *
grants_label(const char *word)
{
	buf b = BUF_INIT;
	const char *p = word;

	while (*p) {
		const char *end = strchr(p, '_');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (b.len)
			buf_putc(&b, ' ');
		if (len == 3 && strncmp(p, "csv", 3) == 0) {
			buf_puts(&b, "CSV");
		} else if (len == 3 && strncmp(p, "sdr", 3) == 0) {
			buf_puts(&b, "SDR");
		} else {
			buf_append(&b, p, len);
			if (b.len == len)
				b.data[0] = (char)toupper((unsigned char)b.data[0]);
		}
		p += len;
		if (*p == '_')
			p++;
	}
	return buf_steal(&b);
}

/*
 * audit — one INSERT shared by every module, and the timeline that reads it.
 *
 * The timeline is built here rather than in each module so every detail view
 * tells its history in the same words: the verb comes from the action name,
 * "what changed" from details.changes (edits), details.granted/revoked (grant
 * changes) or, for anything else, the details' own fields. Times come from
 * PostgreSQL (ISO and an absolute text in the database's time zone) and the
 * age in seconds, so "3 minutes ago" needs no clock of ours.
 */
#include "audit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/records.h"

DB_STMT(stmt_audit_insert, "INSERT INTO audit_logs (actor_id, action, entity_type, entity_id, "
			   "details) VALUES ($1, $2, $3, $4, coalesce($5::jsonb, '{}'))");

#define AUDIT_TIMELINE_COLUMNS                                                                     \
	"SELECT a.id, a.actor_id, u.name, a.action, a.entity_type, a.details::text, "              \
	"to_json(a.created_at) #>> '{}', to_char(a.created_at, 'FMDD Mon YYYY, HH24:MI'), "        \
	"greatest(0, floor(extract(epoch FROM now() - a.created_at)))::bigint "                    \
	"FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id "

/* Two statements so each uses audit_logs_entity_idx (no IS NOT DISTINCT FROM). */
DB_STMT(stmt_audit_timeline,
	AUDIT_TIMELINE_COLUMNS "WHERE a.entity_type = $1 AND a.entity_id = $2::uuid "
			       "ORDER BY a.created_at DESC, a.id DESC LIMIT $3::int");
DB_STMT(stmt_audit_timeline_type,
	AUDIT_TIMELINE_COLUMNS "WHERE a.entity_type = $1 "
			       "ORDER BY a.created_at DESC, a.id DESC LIMIT $2::int");
DB_STMT(stmt_audit_timeline_null,
	AUDIT_TIMELINE_COLUMNS "WHERE a.entity_type = $1 AND a.entity_id IS NULL "
			       "ORDER BY a.created_at DESC, a.id DESC LIMIT $2::int");

static json_t *audit_entry(PGresult *res, int row);
static json_t *audit_entries(PGresult *res);
static json_t *audit_changes_of(const char *action, json_t *details);
static void audit_add_item(json_t *list, const char *field, json_t *old_value, json_t *new_value,
			   int has_old);
static char *audit_value_text(json_t *v);
static char *audit_label(const char *field);
static int audit_shown(const char *key);
static void audit_action_class(const char *action, char *out, size_t outlen);

int
audit_record(db_conn *tx, const char *actor_id, const char *action, const char *entity_type,
	     const char *entity_id, json_t *details)
{
	char *json = details ? json_dumps(details, JSON_COMPACT) : NULL;
	const char *params[5] = {actor_id, action, entity_type, entity_id, json};
	int rc = db_run(tx, &stmt_audit_insert, 5, params);

	free(json);
	json_decref(details);
	return rc;
}

int
audit_change(json_t *changes, const char *field, json_t *old_value, json_t *new_value)
{
	if (!old_value)
		old_value = json_null();
	if (!new_value)
		new_value = json_null();
	if (json_equal(old_value, new_value)) {
		json_decref(old_value);
		json_decref(new_value);
		return 0;
	}
	json_object_set_new(changes, field,
			    json_pack("{s:o, s:o}", "old", old_value, "new", new_value));
	return 1;
}

/* Known actions in words; anything else reads as its own name with spaces. */
static const struct {
	const char *action;
	const char *verb;
} audit_verbs[] = {
    {"create", "created"},
    {"update", "changed"},
    {"edit", "changed"},
    {"deactivate", "deactivated"},
    {"reactivate", "reactivated"},
    {"sign_in", "signed in"},
    {"signin", "signed in"},
    {"login", "signed in"},
    {"sign_in_failed", "failed to sign in"},
    {"signin_failed", "failed to sign in"},
    {"login_failed", "failed to sign in"},
    {"sign_out", "signed out"},
    {"logout", "signed out"},
    {"approve", "approved"},
    {"reject", "rejected"},
    {"assign", "assigned"},
    {"unassign", "unassigned"},
    {"upload", "uploaded"},
    {"import", "imported"},
    {"export", "exported"},
    {"archive", "archived"},
    {"unarchive", "unarchived"},
    {"delete", "removed"},
    {"remove", "removed"},
    {"password_reset_requested", "asked for a password reset"},
    {"password_reset", "reset the password"},
    {"password_set", "set the password"},
    {"password_change", "changed the password"},
    {"reset_issued", "sent a set-password link"},
    {"schedule_meeting", "scheduled a meeting"},
    {"run", "started a run"},
    {"flag_duplicate", "marked as a duplicate"},
    {"unflag_duplicate", "no longer marked as a duplicate"},
};

const char *
audit_verb(const char *action, const char *entity_type)
{
	size_t i;

	if (entity_type && strcmp(entity_type, "grants") == 0)
		return "changed the grants";
	for (i = 0; i < sizeof audit_verbs / sizeof audit_verbs[0]; i++)
		if (strcmp(action, audit_verbs[i].action) == 0)
			return audit_verbs[i].verb;
	return NULL;
}

const char *
audit_ago(long long seconds, char *out, size_t outlen)
{
	long long n;

	if (seconds < 60) {
		snprintf(out, outlen, "just now");
	} else if (seconds < 3600) {
		n = seconds / 60;
		snprintf(out, outlen, "%lld minute%s ago", n, n == 1 ? "" : "s");
	} else if (seconds < 86400) {
		n = seconds / 3600;
		snprintf(out, outlen, "%lld hour%s ago", n, n == 1 ? "" : "s");
	} else if (seconds < 2 * 86400) {
		snprintf(out, outlen, "yesterday");
	} else if (seconds < 7 * 86400) {
		snprintf(out, outlen, "%lld days ago", seconds / 86400);
	} else {
		return NULL;
	}
	return out;
}

json_t *
audit_timeline(db_conn *c, const char *entity_type, const char *entity_id, int limit)
{
	char lim[16];
	PGresult *res;

	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 50);
	if (entity_id) {
		const char *params[3] = {entity_type, entity_id, lim};

		res = db_exec(c, &stmt_audit_timeline, 3, params);
	} else {
		const char *params[2] = {entity_type, lim};

		res = db_exec(c, &stmt_audit_timeline_null, 2, params);
	}
	return audit_entries(res);
}

json_t *
audit_timeline_of_type(db_conn *c, const char *entity_type, int limit)
{
	char lim[16];
	const char *params[2] = {entity_type, lim};

	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : 50);
	return audit_entries(db_exec(c, &stmt_audit_timeline_type, 2, params));
}

/* A timeline statement's rows as entries (res cleared; NULL for a failed statement). */
static json_t *
audit_entries(PGresult *res)
{
	return records_rows(res, audit_entry);
}

static json_t *
audit_entry(PGresult *res, int row)
{
	const char *action = PQgetvalue(res, row, 3);
	const char *entity_type = PQgetvalue(res, row, 4);
	const char *verb = audit_verb(action, entity_type);
	json_t *details = json_loads(PQgetvalue(res, row, 5), 0, NULL);
	json_t *entry, *changes, *actor = json_null();
	char ago[48], cls[48], *fallback = NULL;
	const char *when;

	if (!PQgetisnull(res, row, 1))
		actor =
		    json_pack("{s:s, s:s}", "id", PQgetvalue(res, row, 1), "name",
			      PQgetisnull(res, row, 2) ? "Unknown user" : PQgetvalue(res, row, 2));
	if (!verb) {
		char *p;

		fallback = xstrdup(action);
		for (p = fallback; *p; p++)
			if (*p == '_' || *p == '.')
				*p = ' ';
		verb = fallback;
	}
	when = audit_ago(atoll(PQgetvalue(res, row, 8)), ago, sizeof ago);
	audit_action_class(action, cls, sizeof cls);
	changes = audit_changes_of(action, details);
	entry = json_pack(
	    "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", PQgetvalue(res, row, 0),
	    "actor", actor, "actor_name",
	    PQgetisnull(res, row, 1) ? "System" : json_string_value(json_object_get(actor, "name")),
	    "action", action, "action_class", cls, "verb", verb, "at", PQgetvalue(res, row, 6),
	    "at_text", PQgetvalue(res, row, 7), "ago", when ? when : PQgetvalue(res, row, 7),
	    "has_changes", json_array_size(changes) > 0);
	json_object_set_new(entry, "changes", changes);
	/* A link's "reason" says which e-mail it was, not why: it shapes the verb instead. */
	if (json_is_string(json_object_get(details, "ip"))) {
		char from[96];

		snprintf(from, sizeof from, "from %s",
			 json_string_value(json_object_get(details, "ip")));
		json_object_set_new(entry, "context", json_string(from));
	}
	if (strcmp(action, "password_link_issued") == 0) {
		const char *why = json_string_value(json_object_get(details, "reason"));

		if (why && strcmp(why, "forgot") == 0)
			json_object_set_new(entry, "verb",
					    json_string("sent a password reset link"));
	} else if (json_is_object(details) && json_is_string(json_object_get(details, "reason"))) {
		json_object_set(entry, "note", json_object_get(details, "reason"));
	}
	free(fallback);
	json_decref(details);
	return entry;
}

/*
 * What changed, as a list the template can show: edits carry old and new
 * values; grant changes become one line per role and permission; any other
 * action shows its details' fields as plain values.
 */
static json_t *
audit_changes_of(const char *action, json_t *details)
{
	json_t *list = json_array(), *changes, *v;
	void *it;

	/* A sign-in's details (address typed, client address) read as the line's context. */
	if (!json_is_object(details) || strncmp(action, "sign_in", 7) == 0)
		return list;
	changes = json_object_get(details, "changes");
	if (json_is_object(changes)) {
		for (it = json_object_iter(changes); it; it = json_object_iter_next(changes, it)) {
			v = json_object_iter_value(it);
			audit_add_item(list, json_object_iter_key(it), json_object_get(v, "old"),
				       json_object_get(v, "new"), 1);
		}
		return list;
	}
	if (json_is_array(json_object_get(details, "granted")) ||
	    json_is_array(json_object_get(details, "revoked"))) {
		static const char *const kinds[2] = {"granted", "revoked"};
		size_t k, i;

		for (k = 0; k < 2; k++) {
			json_t *arr = json_object_get(details, kinds[k]);

			for (i = 0; i < json_array_size(arr); i++) {
				json_t *g = json_array_get(arr, i);
				const char *role = json_string_value(json_object_get(g, "role"));
				const char *perm =
				    json_string_value(json_object_get(g, "permission"));
				char field[256];

				snprintf(field, sizeof field, "%s: %s", role ? role : "?",
					 perm ? perm : "?");
				json_array_append_new(
				    list,
				    json_pack("{s:s, s:s, s:s, s:s, s:b}", "field", field, "label",
					      field, "old", k == 0 ? "not granted" : "granted",
					      "new", k == 0 ? "granted" : "not granted", "has_old",
					      1));
			}
		}
		return list;
	}
	for (it = json_object_iter(details); it; it = json_object_iter_next(details, it))
		if (audit_shown(json_object_iter_key(it)))
			audit_add_item(list, json_object_iter_key(it), NULL,
				       json_object_iter_value(it), 0);
	return list;
}

static void
audit_add_item(json_t *list, const char *field, json_t *old_value, json_t *new_value, int has_old)
{
	char *label = audit_label(field);
	char *o = audit_value_text(old_value), *n = audit_value_text(new_value);

	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:b}", "field", field, "label",
					      label, "old", o, "new", n, "has_old", has_old));
	free(label);
	free(o);
	free(n);
}

/*
 * Whether a detail field means something to a person reading the timeline:
 * the reason is shown as a note, and internal ids and link expiry are
 * bookkeeping for investigators (still in the row, just not on the page).
 */
static int
audit_shown(const char *key)
{
	size_t n = strlen(key);

	if (strcmp(key, "reason") == 0 || strcmp(key, "expires_at") == 0 ||
	    strcmp(key, "id") == 0 || strcmp(key, "ip") == 0 || strcmp(key, "assigned_to") == 0)
		return 0;
	return !(n > 3 && strcmp(key + n - 3, "_id") == 0);
}

/* A value as text for people: lists joined with commas, booleans as yes/no, null as "". */
static char *
audit_value_text(json_t *v)
{
	buf b = BUF_INIT;
	size_t i;

	switch (json_typeof(v ? v : json_null())) {
	case JSON_STRING:
		return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		buf_printf(&b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(&b, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		return xstrdup("yes");
	case JSON_FALSE:
		return xstrdup("no");
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++) {
			char *s = audit_value_text(json_array_get(v, i));

			if (i > 0)
				buf_puts(&b, ", ");
			buf_puts(&b, s);
			free(s);
		}
		break;
	case JSON_OBJECT: {
		char *s = json_dumps(v, JSON_COMPACT);

		buf_puts(&b, s ? s : "");
		free(s);
		break;
	}
	case JSON_NULL:
	default:
		break;
	}
	return buf_steal(&b);
}

/* "email" → "E-mail", "linkedin_url" → "Linkedin url": readable without a table per module. */
static char *
audit_label(const char *field)
{
	char *s, *p;

	if (strcmp(field, "email") == 0)
		return xstrdup("E-mail");
	if (strcmp(field, "is_active") == 0)
		return xstrdup("Active");
	if (strcmp(field, "ip") == 0)
		return xstrdup("IP address");
	s = xstrdup(field);
	for (p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

/* A CSS-safe class suffix from the action name (the template colours the dot by it). */
static void
audit_action_class(const char *action, char *out, size_t outlen)
{
	size_t i = 0;

	for (; *action && i + 1 < outlen; action++)
		out[i++] =
		    isalnum((unsigned char)*action) ? (char)tolower((unsigned char)*action) : '-';
	out[i] = '\0';
}

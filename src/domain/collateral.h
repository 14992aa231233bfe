/*
 * collateral — marketing collateral links (SPEC.md §2): a title, a URL (a
 * valid http(s) link, normalised like every URL) and a scope, one segment,
 * offering or lead (contact; scope_type "lead").
 *
 * Marketing adds, edits and removes links (collateral.manage). Removal is the
 * product's only delete: the row goes, and its "remove" audit row keeps the
 * title, URL and scope, in the same transaction (the database refuses a
 * removal without it: migration 0009). Where a link shows: its scope's page,
 * and a contact sees its own links plus its segment's and that segment's
 * offerings' (collateral_for_contact).
 */
#ifndef SPANNER_COLLATERAL_H
#define SPANNER_COLLATERAL_H

#include <jansson.h>

#include "core/db.h"

#define COLLATERAL_TITLE_MAX 500
#define COLLATERAL_DESCRIPTION_MAX 5000

/* A link as typed, cleaned: title, url and description normalised (NULL = empty). */
struct collateral_input {
	char *title;
	char *url;
	char *description;
	const char *scope_type; /* segment | offering | lead (borrowed) */
	const char *scope_id;	/* borrowed */
};

/*
 * Normalises and checks the fields into out (free with collateral_input_free).
 * Problems go into errors as {column: message}. Returns the number of errors.
 */
int collateral_clean(const char *title, const char *url, const char *description,
		     const char *scope_type, const char *scope_id, struct collateral_input *out,
		     json_t *errors);
void collateral_input_free(struct collateral_input *in);

/* "Segment", "Offering", "Lead"; NULL for anything else. */
const char *collateral_scope_label(const char *scope_type);

enum collateral_result {
	COLLATERAL_OK,
	COLLATERAL_INVALID,   /* errors filled (e.g. the scope no longer exists) */
	COLLATERAL_NOT_FOUND, /* no such link */
	COLLATERAL_DB_ERROR,
};

enum collateral_result collateral_create(db_conn *c, const char *actor,
					 const struct collateral_input *in, char id_out[37],
					 json_t *errors);
/* Changes what differs, with the old and new values in the audit row. */
enum collateral_result collateral_update(db_conn *c, const char *actor, const char *id,
					 const struct collateral_input *in, json_t *errors);
/* Deletes the link; *removed (may be NULL) receives {title, url, scope_type, scope_id}. */
enum collateral_result collateral_remove(db_conn *c, const char *actor, const char *id,
					 json_t **removed);

/*
 * One link: {id, title, url, host, description, scope_type, scope_label,
 * scope_id, scope_name, scope_href, scope_sub, created_by, created_text, ...}.
 * NULL when there is none (or *err on a database error).
 */
json_t *collateral_get(db_conn *c, const char *id, int *err);

struct collateral_filter {
	const char *q;		/* title or URL contains */
	const char *scope_type; /* segment | offering | lead */
	const char *scope_id;
	const char *after; /* keyset cursor */
	int limit;
};

/* NULL when the filter is usable, else a message for the filter bar. */
const char *collateral_filter_problem(const struct collateral_filter *f);
/* One page of the list, newest first; *next the following page's cursor or NULL. */
json_t *collateral_list(db_conn *c, const struct collateral_filter *f, char **next);
/* How many links the filter lists (cursor ignored); -1 on a database error. */
long long collateral_count(db_conn *c, const struct collateral_filter *f);

/* The links of one scope, newest first: an array of collateral_get's shape. */
json_t *collateral_for_scope(db_conn *c, const char *scope_type, const char *scope_id);
/*
 * A segment's page: {links: the segment's own, offerings: [{id, name, href,
 * links}] for each of its offerings with links, has_any}.
 */
json_t *collateral_for_segment(db_conn *c, const char *segment_id);
/*
 * A contact's page and panel (templates/collateral/_links.mustache): {links:
 * its own (lead) links, its segment's and its segment's offerings', each with
 * via ("This lead", "Segment Fintech", "Offering Payments API"), has_any}.
 * NULL on a database error.
 */
json_t *collateral_for_contact(db_conn *c, const char *contact_id);

/*
 * The scope picker's choices of one type matching q (name, or for leads name,
 * e-mail or company; none for leads until something is typed: there may be a
 * million), at most limit, the selected one (if of this type) first
 * and checked: [{id, label, sub, checked}]. NULL on a database error.
 */
json_t *collateral_scope_options(db_conn *c, const char *scope_type, const char *q,
				 const char *selected_id, int limit);

#endif

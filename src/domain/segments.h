/*
 * segments — the market segments every company belongs to.
 *
 * A segment has a unique name (regardless of case: the unique index
 * segments_name_lower_key), a description, the offerings it is about, and a
 * status: active, or archived. Archived segments are hidden from lists unless
 * asked for and accept no new companies — the database refuses those itself
 * (trigger SP004), so no import or future code path can get round it.
 *
 * Every mutation is one transaction holding the change and its audit row:
 * create records the new values, update only the fields that changed
 * ({changes: {field: {old, new}}}) plus the offerings added and removed by
 * name, archive and unarchive their own actions. Inputs arrive normalised
 * (domain/normalise.h) and validated by the caller.
 */
#ifndef SPANNER_SEGMENTS_H
#define SPANNER_SEGMENTS_H

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"

#define SEGMENTS_NAME_MAX 200
#define SEGMENTS_DESCRIPTION_MAX 5000
#define SEGMENTS_PAGE_SIZE 50

/*
 * The companies of segment s by status, as columns cc.pending, cc.approved,
 * cc.rejected: what the companies list shows by default (active, not flagged
 * as duplicates), so a segment's numbers and the list its link opens agree.
 * Read from the stored counts (migrations/0012), not counted per request: its
 * rows are differences until compacted, and a count is their sum.
 * A SQL fragment for "FROM segments s " + this.
 */
#define SEGMENTS_COMPANY_COUNTS                                                                    \
	"CROSS JOIN LATERAL (SELECT "                                                              \
	"coalesce(sum(n) FILTER (WHERE status = 'pending'), 0)::bigint AS pending, "               \
	"coalesce(sum(n) FILTER (WHERE status = 'approved'), 0)::bigint AS approved, "             \
	"coalesce(sum(n) FILTER (WHERE status = 'rejected'), 0)::bigint AS rejected "              \
	"FROM segment_counts WHERE segment_id = s.id AND entity = 'company') cc "

/*
 * The same for the contacts of segment s: kc.uploaded, kc.approved,
 * kc.assigned_to_sdr, kc.meeting_scheduled.
 */
#define SEGMENTS_CONTACT_COUNTS                                                                    \
	"CROSS JOIN LATERAL (SELECT "                                                              \
	"coalesce(sum(n) FILTER (WHERE status = 'uploaded'), 0)::bigint AS uploaded, "             \
	"coalesce(sum(n) FILTER (WHERE status = 'approved'), 0)::bigint AS approved, "             \
	"coalesce(sum(n) FILTER (WHERE status = 'assigned_to_sdr'), 0)::bigint AS "                \
	"assigned_to_sdr, "                                                                        \
	"coalesce(sum(n) FILTER (WHERE status = 'meeting_scheduled'), 0)::bigint AS "              \
	"meeting_scheduled FROM segment_counts WHERE segment_id = s.id AND entity = 'contact') "   \
	"kc "

enum segments_result {
	SEGMENTS_OK,
	SEGMENTS_NOT_FOUND,
	SEGMENTS_NAME_TAKEN,	   /* another segment has this name, in any case */
	SEGMENTS_UNKNOWN_OFFERING, /* an offering id that does not exist */
	SEGMENTS_NO_CHANGE,	   /* update with nothing different; archive of an archived one */
	SEGMENTS_ERROR,		   /* database trouble: see db_error(c) */
};

/* The list's filters, straight from the query string. */
struct segments_filter {
	const char *q;	   /* part of the name or description; NULL or "" = any */
	int archived;	   /* 1: archived segments too */
	const char *after; /* keyset cursor: the id of the last segment of the previous page */
};

/* What the form submits, normalised and validated. */
struct segment_input {
	const char *name;
	const char *description;	 /* NULL = none */
	const char *const *offering_ids; /* chosen offerings (UUIDs) */
	size_t noffering_ids;
	const char *new_offering; /* a name to find or create and attach; NULL = none */
};

/*
 * One page of segments matching f, by name: {segments: [{id, name,
 * description, status, is_archived, offerings [names], companies {pending,
 * approved, rejected, total}, created_by, created_at, created_text}], next
 * (cursor or null), total (matching), archived_hidden (archived segments the
 * filter left out because f->archived is 0)}. NULL on a database error.
 */
json_t *segments_list(db_conn *c, const struct segments_filter *f);

/*
 * One segment with what its page shows: {id, name, description, status,
 * is_archived, created_by, created_text, archived_by, archived_text,
 * updated_text, offerings [{id, name, status}], companies {pending, approved,
 * rejected, total}, assignments [{user_id, name, email, initials, role,
 * assigned_by, assigned_text}]}. NULL when there is none (*db_failed 0) or on a
 * database error (*db_failed 1).
 */
json_t *segments_get(db_conn *c, const char *id, int *db_failed);

/* Creates the segment with its offerings; id receives the new id. */
enum segments_result segments_create(db_conn *c, const char *actor_id,
				     const struct segment_input *in, char id[37]);

/* Saves name, description and the offering set; the audit row holds what changed. */
enum segments_result segments_update(db_conn *c, const char *actor_id, const char *id,
				     const struct segment_input *in);

/* SEGMENTS_NO_CHANGE when the segment is already in that state. */
enum segments_result segments_archive(db_conn *c, const char *actor_id, const char *id);
enum segments_result segments_unarchive(db_conn *c, const char *actor_id, const char *id);

#endif

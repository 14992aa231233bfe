/*
 * contacts — the contact record and its rules (SPEC.md §2 "Contacts").
 *
 * One field table (domain/records.h) drives the form, the side panel,
 * validation and the CSV import alike, so a contact is normalised the same
 * way whichever way it comes in. The rules, held here and in the database
 * (migrations 0001 and 0005) alike:
 *   - a contact is created only for an approved company: a pending company
 *     is refused with a message that says so, a rejected one never has any;
 *   - its segment is always its company's, set by the server (never read
 *     from the client) and checked by the database;
 *   - status moves uploaded → approved → assigned_to_sdr → meeting_scheduled,
 *     one step at a time; no edit sets a status, and contacts are never
 *     rejected;
 *   - approval may be bulk: one statement approves every still-uploaded
 *     contact of a list of ids and writes one audit row for each; a contact
 *     someone else approved meanwhile is reported, never approved twice.
 *
 * Views are JSON-ready (json_t) so pages, fragments and the JSON view model
 * read the same objects.
 */
#ifndef SPANNER_CONTACTS_H
#define SPANNER_CONTACTS_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/db.h"
#include "domain/records.h"

#define CONTACTS_NFIELDS 19
extern const struct record_field contacts_fields[CONTACTS_NFIELDS];

/* The most ids one bulk approval takes. */
#define CONTACTS_APPROVE_MAX 5000

/*
 * Normalises and validates the contact fields get supplies (records_clean
 * over contacts_fields). company_id and segment_id are not fields: the
 * company is passed on its own, the segment is never taken from outside.
 */
int contacts_clean(records_get_fn get, void *ctx, int partial, char *out[CONTACTS_NFIELDS],
		   int present[CONTACTS_NFIELDS], json_t *errors);
void contacts_values_free(char *out[CONTACTS_NFIELDS]);

/* 1 when s is one of the four statuses. */
int contacts_status_valid(const char *s);

/* show_duplicates: list only the duplicates (/admin/dedup links to them: duplicates=only). */
#define CONTACTS_ONLY_DUPLICATES 2

struct contacts_filter {
	const char *q; /* first/last name, e-mail, job title or company name contains */
	const char *segment_id;
	const char *company_id;
	const char *status;	/* uploaded | approved | assigned_to_sdr | meeting_scheduled */
	const char *sdr_id;	/* assigned_sdr_id */
	const char *created_by; /* the researcher */
	const char *from;	/* YYYY-MM-DD, inclusive */
	const char *to;		/* YYYY-MM-DD, inclusive */
	const char *batch_id;
	int show_duplicates; /* 1: shown too; CONTACTS_ONLY_DUPLICATES: only them */
	int show_inactive;
	int oldest_first;  /* the approval queue works oldest first */
	const char *after; /* keyset cursor from a previous page */
	int limit;	   /* rows per page (≥ 1) */
};

/* NULL when the filter is usable, else a message for the filter bar. */
const char *contacts_filter_problem(const struct contacts_filter *f);

/*
 * One page of the list, newest first (oldest first for the queue): an array
 * of rows {id, first_name, last_name, name, email, job_title, phone, status,
 * <status>: true, status_label, company_id, company, segment_id, segment,
 * created_by, assigned_sdr_id, assigned_sdr, is_duplicate, is_active,
 * batch_id, created_at (ISO, the cursor's time), created_on}. *next receives
 * the following page's cursor (malloc'ed) or NULL at the end. NULL on a
 * database error.
 */
json_t *contacts_list(db_conn *c, const struct contacts_filter *f, char **next);

/*
 * How many contacts the filter lists (the cursor ignored), at most a fixed
 * cap: *capped is set when there are more. -1 on a database error.
 */
long long contacts_count(db_conn *c, const struct contacts_filter *f, int *capped);

/*
 * Streams the filtered list as CSV through a cursor inside the caller's open
 * transaction: contacts_export_open, then contacts_export_fetch until it
 * returns 0. The columns: the contact import template's (SPEC §4), in its
 * order, then Status, SDR, Duplicate, Active, Batch, Created, Updated,
 * Researcher and Id — an exported file imports again as it is.
 */
int contacts_export_open(db_conn *tx, const struct contacts_filter *f);
int contacts_export_fetch(db_conn *tx, buf *out, int *header_done);

/*
 * The filter bar's pick lists in one round trip: {segments, researchers
 * (people who have created contacts), sdrs (SDRs and anyone assigned),
 * company ({id, name} of company_id, or null)}. NULL on a database error.
 */
json_t *contacts_filter_options(db_conn *c, const char *company_id);

/*
 * Approved, active companies a contact may belong to, by name: those whose
 * name contains q (all when NULL), in segment_id when set, at most limit,
 * plus chosen (whatever it is) so the current choice is always there:
 * [{id, name, segment, selected}]. NULL on a database error.
 */
json_t *contacts_company_choices(db_conn *c, const char *q, const char *segment_id,
				 const char *chosen, int limit);

/*
 * One contact: every field by column name, fields [{column, label, value,
 * …}] for forms, company {id, name, status}, segment_id, segment, status
 * (+ <status>: true, status_label), assigned_sdr_id, assigned_sdr,
 * status_changed_by, status_changed_at, is_duplicate, duplicate_of,
 * is_active, batch_id, created_by, created_at, and history (the status
 * history, contacts_history). NULL if there is none (or *err on a database
 * error).
 */
json_t *contacts_get(db_conn *c, const char *id, int *err);

/*
 * The status history, oldest first: [{status, status_label, at (ISO),
 * at_text, by}] — the creation (uploaded) and every status change, as the
 * audit trail records them. NULL on a database error.
 */
json_t *contacts_history(db_conn *c, const char *id);

enum contacts_result {
	CONTACTS_OK,
	CONTACTS_INVALID, /* errors filled: {column: message} */
	CONTACTS_NOT_FOUND,
	CONTACTS_DB_ERROR,
};

/*
 * A new contact (status uploaded) of company_id, which must be approved;
 * its segment is the company's. Audited ('create') in the same transaction.
 */
enum contacts_result contacts_create(db_conn *c, const char *actor, const char *company_id,
				     char *vals[CONTACTS_NFIELDS], char id_out[37], json_t *errors);

/*
 * Updates the present fields (and moves the contact to company_id when it is
 * non-NULL and another approved company; the segment follows the company).
 * Audited ('update', old and new of what changed) in the same transaction.
 */
enum contacts_result contacts_update(db_conn *c, const char *actor, const char *id,
				     const char *company_id, char *vals[CONTACTS_NFIELDS],
				     const int present[CONTACTS_NFIELDS], json_t *errors);

/*
 * Approves the still-uploaded contacts among ids in one statement, with one
 * audit row ('approve') per contact approved. outcome (an object) receives
 * {approved (count), approved_ids [id], rows [{id, name, approved}],
 * already [{id, name, status, by, at, message}] (no longer uploaded: who
 * moved them on, and when), missing [id] (no such contact), message (one
 * line for a flash)}. CONTACTS_INVALID when ids is empty or too long.
 */
enum contacts_result contacts_approve(db_conn *c, const char *actor, const char *const *ids,
				      size_t nids, json_t *outcome);

#endif

/*
 * home — what each role's home page shows: its own work, read in a few
 * statements (SPEC.md §5 researcher workbench, §7 the home page rule).
 *
 *   researcher   my segments; approved companies in them (or assigned to me)
 *                that still need contacts, with their contact counts; my uploads
 *   approver     the approval queue's two tabs, counted
 *   SDR          my contacts: handed to me, no meeting yet
 *   owner        segments with their progress: companies and contacts by status
 *
 * Counts that could grow with the data (queue sizes) stop at a cap, as the
 * lists' counts do, so a home page costs the same at any size of data.
 */
#ifndef SPANNER_HOME_H
#define SPANNER_HOME_H

#include <jansson.h>

#include "core/db.h"

/* Rows of each home list; counts stop at HOME_COUNT_CAP ("10,000+"). */
#define HOME_ROWS 20
#define HOME_COUNT_CAP 10000

/*
 * The researcher workbench: {segments [{id, name, role, approved, awaiting}],
 * companies [{id, name, segment, segment_id, contacts, assigned}] (approved,
 * active companies of my segments with no contact yet, and the companies
 * assigned to me, these first), uploads [{id, file_name, entity_type, status,
 * <status>: true, total_rows, valid_rows, invalid_rows, failed_left,
 * created_text}]}. NULL on a database error.
 */
json_t *home_workbench(db_conn *c, const char *user_id);

/*
 * The approval queue's tabs: {companies (pending), contacts (uploaded),
 * companies_text, contacts_text ("10,000+" past the cap)}, counting what the
 * queue lists (active, not duplicates). NULL on a database error.
 */
json_t *home_queue_counts(db_conn *c);

/*
 * An SDR's contacts with no meeting yet, oldest hand-off first: {contacts
 * [{id, name, email, job_title, phone, company, company_id, segment,
 * handed_text}], total, total_text}. NULL on a database error.
 */
json_t *home_sdr_contacts(db_conn *c, const char *user_id);

/*
 * Active segments with progress: {segments [{id, name, companies {pending,
 * approved, rejected, total}, contacts {uploaded, approved, assigned_to_sdr,
 * meeting_scheduled, total}}]}. all = 0: only the segments user_id created
 * or is assigned to (a Segment Owner's own); 1: every active one (Marketing).
 * NULL on a database error.
 */
json_t *home_segments_progress(db_conn *c, const char *user_id, int all);

#endif

/*
 * housekeeping — small periodic maintenance jobs.
 *
 * sessions.purge (hourly, at minute 17): deletes expired sessions and
 * password-reset links that expired more than a day ago.
 *
 * counts.compact (hourly, at minute 47): folds the stored per-segment counts'
 * difference rows into one row per count (migrations/0012).
 */
#ifndef SPANNER_HOUSEKEEPING_H
#define SPANNER_HOUSEKEEPING_H

#define HOUSEKEEPING_PURGE_KIND "sessions.purge"
#define HOUSEKEEPING_COMPACT_KIND "counts.compact"

/* Registers the housekeeping job kinds and their schedules. Before jobs_start. 0 or -1. */
int housekeeping_register(void);

#endif

/*
 * approvals — what the approval queue's tabs share: the tab bar with a live
 * count on each tab (pending companies, uploaded contacts), rendered by
 * templates/approvals/_tabs.mustache. Each tab's own page is its module's
 * (web/companies.c, web/contacts.c).
 */
#ifndef SPANNER_WEB_APPROVALS_H
#define SPANNER_WEB_APPROVALS_H

#include <jansson.h>

#include "core/db.h"

/*
 * {companies: "12", contacts: "3,400", companies_current, contacts_current}
 * for the tab bar; current names the tab shown ("companies" or "contacts").
 * current_total (with current_capped) is that tab's count when the page has
 * already made it with no filter, so it is not counted twice; -1 otherwise.
 * NULL on a database error.
 */
json_t *approvals_tabs(db_conn *db, const char *current, long long current_total,
		       int current_capped);

#endif

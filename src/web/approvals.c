/*
 * approvals — the approval queue's tab bar and its counts.
 *
 * Each count is the tab's own list count with no filter (the queue's
 * default: no duplicates, no deactivated records), capped like every list
 * count, so the tabs say exactly what each tab shows when opened and cost
 * two small index scans.
 */
#include "approvals.h"

#include <string.h>

#include "core/format.h"
#include "domain/companies.h"
#include "domain/contacts.h"

json_t *
approvals_tabs(db_conn *db, const char *current, long long current_total, int current_capped)
{
	struct companies_filter cf;
	struct contacts_filter kf;
	long long companies, contacts;
	int ccap = 0, kcap = 0;
	char ctext[32], ktext[32];

	memset(&cf, 0, sizeof cf);
	memset(&kf, 0, sizeof kf);
	cf.status = "pending";
	kf.status = "uploaded";
	if (current_total >= 0 && strcmp(current, "companies") == 0) {
		companies = current_total;
		ccap = current_capped;
	} else {
		companies = companies_count(db, &cf, &ccap);
	}
	if (companies < 0)
		contacts = -1;
	else if (current_total >= 0 && strcmp(current, "contacts") == 0) {
		contacts = current_total;
		kcap = current_capped;
	} else {
		contacts = contacts_count(db, &kf, &kcap);
	}
	if (companies < 0 || contacts < 0)
		return NULL;
	format_count(companies, ctext, sizeof ctext - 1);
	format_count(contacts, ktext, sizeof ktext - 1);
	if (ccap) /* "10,000+": the count stopped there */
		strcat(ctext, "+");
	if (kcap)
		strcat(ktext, "+");
	return json_pack("{s:s, s:s, s:b, s:b}", "companies", ctext, "contacts", ktext,
			 "companies_current", strcmp(current, "companies") == 0, "contacts_current",
			 strcmp(current, "contacts") == 0);
}

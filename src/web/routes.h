/*
 * routes — the one table of every URL Spanner answers.
 *
 * Each entry names its method, path pattern, handler and who may use it
 * (public, any signed-in user, or a permission). Reading this table tells
 * what the application does and who may do it.
 */
#ifndef SPANNER_ROUTES_H
#define SPANNER_ROUTES_H

#include "core/http.h"

extern const struct route routes_table[];

/* Handlers, one group per file under src/web/. */

/* web/system.c */
void web_system_healthz(struct request *req);
void web_system_metrics(struct request *req);

/* web/home.c, web/auth.c */
void web_home(struct request *req);
void web_auth_login_page(struct request *req);
void web_auth_login(struct request *req);
void web_auth_logout(struct request *req);

/* web/password.c */
void web_password_forgot_page(struct request *req);
void web_password_forgot(struct request *req);
void web_password_reset_page(struct request *req);
void web_password_reset(struct request *req);
void web_outbox_list(struct request *req);
void web_outbox_message(struct request *req);

/* web/admin_users.c, web/admin_grants.c */
void web_admin_users_list(struct request *req);
void web_admin_users_new(struct request *req);
void web_admin_users_create(struct request *req);
void web_admin_users_show(struct request *req);
void web_admin_users_update(struct request *req);
void web_admin_users_deactivate_confirm(struct request *req);
void web_admin_users_deactivate(struct request *req);
void web_admin_users_reactivate(struct request *req);
void web_admin_grants_show(struct request *req);
void web_admin_grants_save(struct request *req);

/* web/companies.c */
void web_companies_list(struct request *req);
void web_companies_new(struct request *req);
void web_companies_create(struct request *req);
void web_companies_export(struct request *req);
void web_companies_show(struct request *req);
void web_companies_peek(struct request *req);
void web_companies_update(struct request *req);
void web_companies_approve(struct request *req);
void web_companies_reject(struct request *req);
void web_approvals_companies(struct request *req);

/* web/segments.c, web/offerings.c */
void web_segments_list(struct request *req);
void web_segments_new(struct request *req);
void web_segments_create(struct request *req);
void web_segments_show(struct request *req);
void web_segments_update(struct request *req);
void web_segments_archive(struct request *req);
void web_segments_unarchive(struct request *req);
void web_offerings_index(struct request *req);
void web_offerings_create(struct request *req);
void web_offerings_show(struct request *req);
void web_offerings_update(struct request *req);

/* web/imports.c */
void web_imports_list(struct request *req);
void web_imports_new(struct request *req);
void web_imports_create(struct request *req);
void web_imports_template(struct request *req);
void web_imports_show(struct request *req);
void web_imports_errors_csv(struct request *req);
void web_imports_failed_rows_csv(struct request *req);
void web_imports_fix_page(struct request *req);
void web_imports_fix(struct request *req);

/* web/contacts.c */
void web_contacts_list(struct request *req);
void web_contacts_new(struct request *req);
void web_contacts_create(struct request *req);
void web_contacts_export(struct request *req);
void web_contacts_show(struct request *req);
void web_contacts_peek(struct request *req);
void web_contacts_update(struct request *req);
void web_contacts_approve(struct request *req);
void web_approvals_contacts(struct request *req);

/* web/search.c */
void web_search(struct request *req);
/* web/dedup.c */
void web_dedup_show(struct request *req);
void web_dedup_preview(struct request *req);
void web_dedup_schedule(struct request *req);
void web_dedup_run(struct request *req);
/* web/collateral.c */
void web_collateral_list(struct request *req);
void web_collateral_new(struct request *req);
void web_collateral_create(struct request *req);
void web_collateral_scopes(struct request *req);
void web_collateral_show(struct request *req);
void web_collateral_update(struct request *req);
void web_collateral_remove_confirm(struct request *req);
void web_collateral_remove(struct request *req);

/* web/home.c, web/assignments.c */
void web_workbench(struct request *req);
void web_assignments_create(struct request *req);
void web_assignments_deactivate(struct request *req);
void web_assignments_mine(struct request *req);
void web_contacts_assign_sdr(struct request *req);
void web_contacts_assign_sdr_bulk(struct request *req);
void web_contacts_schedule(struct request *req);

#endif

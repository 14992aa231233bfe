/*
 * entries — the doors Kore walks through into Spanner.
 *
 * Kore finds a page handler by the symbol name a route in kore.conf gives,
 * and it allows one handler per path. Spanner keeps its own table of what
 * each URL does (src/web/routes.c: method, pattern, handler, access), so
 * every distinct path pattern of that table gets exactly one exported entry
 * point here, and the entry does nothing but hand the request to the app's
 * dispatcher with the pattern it stands for: the dispatcher looks the
 * pattern up in routes_table, picks the GET or POST row, checks the session,
 * the grant and the CSRF token, and calls the handler. No logic lives here.
 *
 * The symbol is `page_` + the pattern without its leading '/', with each
 * '/', '-', '.', '{' and '}' turned into '_', runs of '_' collapsed and a
 * trailing '_' dropped; "/" is page_home. page_not_found, with no pattern,
 * is kore.conf's last route (^/.*$): any path the table does not know gets
 * the app's styled 404, with the user's navigation when signed in.
 *
 * kore.conf and this file must agree: every pattern here has its route (with
 * its restrict and params) there under the same symbol, and every route
 * there has its line here; the app checks this at start-up. Adding a URL is
 * therefore three edits: the row in routes.c, the entry here, the route in
 * kore.conf.
 */
#include "core/http.h"

/* system (web/system.c) */
SPANNER_ENTRY(page_healthz, "/healthz")
SPANNER_ENTRY(page_metrics, "/metrics")

/* sign-in (web/auth.c) and home (web/home.c) */
SPANNER_ENTRY(page_home, "/")
SPANNER_ENTRY(page_login, "/login")
SPANNER_ENTRY(page_logout, "/logout")

/* password reset and outbox (web/password.c) */
SPANNER_ENTRY(page_password_forgot, "/password/forgot")
SPANNER_ENTRY(page_password_reset, "/password/reset")
SPANNER_ENTRY(page_admin_outbox, "/admin/outbox")
SPANNER_ENTRY(page_admin_outbox_id, "/admin/outbox/{id}")

/* admin: users and grants (web/admin_users.c, web/admin_grants.c) */
SPANNER_ENTRY(page_admin_users, "/admin/users")
SPANNER_ENTRY(page_admin_users_new, "/admin/users/new")
SPANNER_ENTRY(page_admin_users_id, "/admin/users/{id}")
SPANNER_ENTRY(page_admin_users_id_deactivate, "/admin/users/{id}/deactivate")
SPANNER_ENTRY(page_admin_users_id_reactivate, "/admin/users/{id}/reactivate")
SPANNER_ENTRY(page_admin_grants, "/admin/grants")

/* companies and the company approval queue (web/companies.c) */
SPANNER_ENTRY(page_companies, "/companies")
SPANNER_ENTRY(page_companies_new, "/companies/new")
SPANNER_ENTRY(page_companies_export_csv, "/companies/export.csv")
SPANNER_ENTRY(page_companies_id, "/companies/{id}")
SPANNER_ENTRY(page_companies_id_peek, "/companies/{id}/peek")
SPANNER_ENTRY(page_companies_id_panel, "/companies/{id}/panel")
SPANNER_ENTRY(page_companies_id_approve, "/companies/{id}/approve")
SPANNER_ENTRY(page_companies_id_reject, "/companies/{id}/reject")
SPANNER_ENTRY(page_approvals_companies, "/approvals/companies")

/* segments and offerings (web/segments.c, web/offerings.c) */
SPANNER_ENTRY(page_segments, "/segments")
SPANNER_ENTRY(page_segments_new, "/segments/new")
SPANNER_ENTRY(page_segments_id, "/segments/{id}")
SPANNER_ENTRY(page_segments_id_archive, "/segments/{id}/archive")
SPANNER_ENTRY(page_segments_id_unarchive, "/segments/{id}/unarchive")
SPANNER_ENTRY(page_offerings, "/offerings")
SPANNER_ENTRY(page_offerings_id, "/offerings/{id}")

/* uploads, progress, error reports and correction (web/imports.c) */
SPANNER_ENTRY(page_imports, "/imports")
SPANNER_ENTRY(page_imports_companies_new, "/imports/companies/new")
SPANNER_ENTRY(page_imports_companies, "/imports/companies")
SPANNER_ENTRY(page_imports_companies_template_csv, "/imports/companies/template.csv")
SPANNER_ENTRY(page_imports_contacts_new, "/imports/contacts/new")
SPANNER_ENTRY(page_imports_contacts, "/imports/contacts")
SPANNER_ENTRY(page_imports_contacts_template_csv, "/imports/contacts/template.csv")
SPANNER_ENTRY(page_imports_batch, "/imports/{batch}")
SPANNER_ENTRY(page_imports_batch_errors_csv, "/imports/{batch}/errors.csv")
SPANNER_ENTRY(page_imports_batch_failed_rows_csv, "/imports/{batch}/failed-rows.csv")
SPANNER_ENTRY(page_imports_batch_fix, "/imports/{batch}/fix")

/* contacts and the contact approval queue (web/contacts.c) */
SPANNER_ENTRY(page_contacts, "/contacts")
SPANNER_ENTRY(page_contacts_new, "/contacts/new")
SPANNER_ENTRY(page_contacts_export_csv, "/contacts/export.csv")
SPANNER_ENTRY(page_contacts_approve, "/contacts/approve")
SPANNER_ENTRY(page_contacts_id, "/contacts/{id}")
SPANNER_ENTRY(page_contacts_id_peek, "/contacts/{id}/peek")
SPANNER_ENTRY(page_contacts_id_panel, "/contacts/{id}/panel")
SPANNER_ENTRY(page_approvals_contacts, "/approvals/contacts")

/* search across segments, companies and contacts (web/search.c) */
SPANNER_ENTRY(page_search, "/search")

/* duplicate detection (web/dedup.c) */
SPANNER_ENTRY(page_admin_dedup, "/admin/dedup")
SPANNER_ENTRY(page_admin_dedup_preview, "/admin/dedup/preview")
SPANNER_ENTRY(page_admin_dedup_schedule, "/admin/dedup/schedule")
SPANNER_ENTRY(page_admin_dedup_run, "/admin/dedup/run")

/* marketing collateral (web/collateral.c) */
SPANNER_ENTRY(page_collateral, "/collateral")
SPANNER_ENTRY(page_collateral_new, "/collateral/new")
SPANNER_ENTRY(page_collateral_scopes, "/collateral/scopes")
SPANNER_ENTRY(page_collateral_id, "/collateral/{id}")
SPANNER_ENTRY(page_collateral_id_remove, "/collateral/{id}/remove")

/* every path routes_table does not know: kore.conf's last route, ^/.*$ */
SPANNER_ENTRY(page_not_found, NULL)

/* the workbench, assignments, the SDR hand-off and meetings (web/home.c, web/assignments.c) */
SPANNER_ENTRY(page_workbench, "/workbench")
SPANNER_ENTRY(page_assignments_mine, "/assignments/mine")
SPANNER_ENTRY(page_assignments, "/assignments")
SPANNER_ENTRY(page_assignments_id_deactivate, "/assignments/{id}/deactivate")
SPANNER_ENTRY(page_contacts_assign_sdr, "/contacts/assign-sdr")
SPANNER_ENTRY(page_contacts_id_assign_sdr, "/contacts/{id}/assign-sdr")
SPANNER_ENTRY(page_contacts_id_schedule, "/contacts/{id}/schedule")

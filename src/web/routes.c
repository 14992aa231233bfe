/*
 * routes — the route table.
 *
 * Grouped by module; each group is owned by the file that implements its
 * handlers. Access: ACCESS_PUBLIC, ACCESS_SIGNED_IN, or ACCESS_PERMISSION with
 * the permission ("module.action") a user must hold through one of their roles.
 *
 * The integration tests walk this table (every route × every role) from a
 * test binary that has no Kore and no handlers: compiled there with
 * ROUTES_TABLE_ONLY, H() drops the handler and leaves the rest.
 */
#include "routes.h"

#ifdef ROUTES_TABLE_ONLY
#define H(fn) NULL
#else
#define H(fn) fn
#endif

const struct route routes_table[] = {
	/* system (web/system.c) */
	{"GET", "/healthz", H(web_system_healthz), ACCESS_PUBLIC, NULL, 0},
	{"GET", "/metrics", H(web_system_metrics), ACCESS_PUBLIC, NULL, 0},

	/* sign-in (web/auth.c) and home (web/home.c) */
	{"GET", "/", H(web_home), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/login", H(web_auth_login_page), ACCESS_PUBLIC, NULL, 0},
	{"POST", "/login", H(web_auth_login), ACCESS_PUBLIC, NULL, 0},
	{"POST", "/logout", H(web_auth_logout), ACCESS_SIGNED_IN, NULL, 0},

	/* password reset and outbox (web/password.c) */
	{"GET", "/password/forgot", H(web_password_forgot_page), ACCESS_PUBLIC, NULL, 0},
	{"POST", "/password/forgot", H(web_password_forgot), ACCESS_PUBLIC, NULL, 0},
	{"GET", "/password/reset", H(web_password_reset_page), ACCESS_PUBLIC, NULL, 0},
	{"POST", "/password/reset", H(web_password_reset), ACCESS_PUBLIC, NULL, 0},
	{"GET", "/admin/outbox", H(web_outbox_list), ACCESS_PERMISSION, "users.manage", 0},
	{"GET", "/admin/outbox/{id}", H(web_outbox_message), ACCESS_PERMISSION, "users.manage", 0},

	/* admin: users and grants (web/admin_users.c, web/admin_grants.c) */
	{"GET", "/admin/users", H(web_admin_users_list), ACCESS_PERMISSION, "users.manage", 0},
	{"POST", "/admin/users", H(web_admin_users_create), ACCESS_PERMISSION, "users.manage", 0},
	{"GET", "/admin/users/new", H(web_admin_users_new), ACCESS_PERMISSION, "users.manage", 0},
	{"GET", "/admin/users/{id}", H(web_admin_users_show), ACCESS_PERMISSION, "users.manage", 0},
	{"POST", "/admin/users/{id}", H(web_admin_users_update), ACCESS_PERMISSION, "users.manage", 0},
	{"GET", "/admin/users/{id}/deactivate", H(web_admin_users_deactivate_confirm),
	 ACCESS_PERMISSION, "users.manage", 0},
	{"POST", "/admin/users/{id}/deactivate", H(web_admin_users_deactivate), ACCESS_PERMISSION,
	 "users.manage", 0},
	{"POST", "/admin/users/{id}/reactivate", H(web_admin_users_reactivate), ACCESS_PERMISSION,
	 "users.manage", 0},
	{"GET", "/admin/grants", H(web_admin_grants_show), ACCESS_PERMISSION, "grants.manage", 0},
	{"POST", "/admin/grants", H(web_admin_grants_save), ACCESS_PERMISSION, "grants.manage", 0},

	/* companies and the company approval queue (web/companies.c) */
	{"GET", "/companies", H(web_companies_list), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/companies/new", H(web_companies_new), ACCESS_PERMISSION, "companies.create", 0},
	{"POST", "/companies", H(web_companies_create), ACCESS_PERMISSION, "companies.create", 0},
	{"GET", "/companies/export.csv", H(web_companies_export), ACCESS_PERMISSION, "export.csv", 0},
	{"GET", "/companies/{id}", H(web_companies_show), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/companies/{id}/peek", H(web_companies_peek), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/companies/{id}/panel", H(web_companies_show), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/companies/{id}", H(web_companies_update), ACCESS_PERMISSION, "companies.edit", 0},
	{"POST", "/companies/{id}/approve", H(web_companies_approve), ACCESS_PERMISSION,
	 "companies.approve", 0},
	{"POST", "/companies/{id}/reject", H(web_companies_reject), ACCESS_PERMISSION,
	 "companies.reject", 0},
	{"GET", "/approvals/companies", H(web_approvals_companies), ACCESS_PERMISSION,
	 "companies.approve", 0},

	/* segments and offerings (web/segments.c, web/offerings.c) */
	{"GET", "/segments", H(web_segments_list), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/segments", H(web_segments_create), ACCESS_PERMISSION, "segments.create", 0},
	{"GET", "/segments/new", H(web_segments_new), ACCESS_PERMISSION, "segments.create", 0},
	{"GET", "/segments/{id}", H(web_segments_show), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/segments/{id}", H(web_segments_update), ACCESS_PERMISSION, "segments.edit", 0},
	{"POST", "/segments/{id}/archive", H(web_segments_archive), ACCESS_PERMISSION,
	 "segments.archive", 0},
	{"POST", "/segments/{id}/unarchive", H(web_segments_unarchive), ACCESS_PERMISSION,
	 "segments.archive", 0},
	{"GET", "/offerings", H(web_offerings_index), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/offerings", H(web_offerings_create), ACCESS_PERMISSION, "offerings.create", 0},
	{"GET", "/offerings/{id}", H(web_offerings_show), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/offerings/{id}", H(web_offerings_update), ACCESS_PERMISSION, "offerings.edit", 0},

	/* uploads, import progress, error reports and correction (web/imports.c); the
	 * literal /imports/companies/… and /imports/contacts/… paths come before the
	 * /imports/{batch}/… ones */
	{"GET", "/imports", H(web_imports_list), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/imports/companies/new", H(web_imports_new), ACCESS_PERMISSION,
	 "companies.upload_csv", 0},
	{"POST", "/imports/companies", H(web_imports_create), ACCESS_PERMISSION,
	 "companies.upload_csv", 0},
	{"GET", "/imports/companies/template.csv", H(web_imports_template), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/imports/contacts/new", H(web_imports_new), ACCESS_PERMISSION,
	 "contacts.upload_csv", 0},
	{"POST", "/imports/contacts", H(web_imports_create), ACCESS_PERMISSION,
	 "contacts.upload_csv", 0},
	{"GET", "/imports/contacts/template.csv", H(web_imports_template), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/imports/{batch}", H(web_imports_show), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/imports/{batch}/errors.csv", H(web_imports_errors_csv), ACCESS_PERMISSION,
	 "export.csv", 0},
	{"GET", "/imports/{batch}/failed-rows.csv", H(web_imports_failed_rows_csv), ACCESS_PERMISSION,
	 "export.csv", 0},
	/* correcting needs the upload permission of the batch's kind, which only the
	 * handler knows: it answers 403 naming it (web/imports.c) */
	{"GET", "/imports/{batch}/fix", H(web_imports_fix_page), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/imports/{batch}/fix", H(web_imports_fix), ACCESS_SIGNED_IN, NULL, 1},

	/* contacts and the contact approval queue (web/contacts.c) */
	{"GET", "/contacts", H(web_contacts_list), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/contacts/new", H(web_contacts_new), ACCESS_PERMISSION, "contacts.create", 0},
	{"POST", "/contacts", H(web_contacts_create), ACCESS_PERMISSION, "contacts.create", 0},
	{"GET", "/contacts/export.csv", H(web_contacts_export), ACCESS_PERMISSION, "export.csv", 0},
	{"POST", "/contacts/approve", H(web_contacts_approve), ACCESS_PERMISSION, "contacts.approve",
	 0},
	{"GET", "/contacts/{id}", H(web_contacts_show), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/contacts/{id}/peek", H(web_contacts_peek), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/contacts/{id}/panel", H(web_contacts_show), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/contacts/{id}", H(web_contacts_update), ACCESS_PERMISSION, "contacts.edit", 0},
	{"GET", "/approvals/contacts", H(web_approvals_contacts), ACCESS_PERMISSION,
	 "contacts.approve", 0},

	/* search across segments, companies and contacts (web/search.c) */
	{"GET", "/search", H(web_search), ACCESS_SIGNED_IN, NULL, 0},

	/* the researcher workbench (web/home.c); assignments, the SDR hand-off and meetings
	 * (web/assignments.c). Who may assign what depends on the entity and the role, which
	 * only the handler knows: it answers 403 naming the grant, and the database refuses
	 * whatever gets past it (migrations/0008_assignments.sql). The literal
	 * /contacts/assign-sdr comes before the /contacts/{id}/… paths. */
	{"GET", "/workbench", H(web_workbench), ACCESS_SIGNED_IN, NULL, 0},
	{"GET", "/assignments/mine", H(web_assignments_mine), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/assignments", H(web_assignments_create), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/assignments/{id}/deactivate", H(web_assignments_deactivate), ACCESS_SIGNED_IN,
	 NULL, 0},
	{"POST", "/contacts/assign-sdr", H(web_contacts_assign_sdr_bulk), ACCESS_PERMISSION,
	 "contacts.assign_sdr", 0},
	{"POST", "/contacts/{id}/assign-sdr", H(web_contacts_assign_sdr), ACCESS_PERMISSION,
	 "contacts.assign_sdr", 0},
	{"POST", "/contacts/{id}/schedule", H(web_contacts_schedule), ACCESS_PERMISSION,
	 "contacts.schedule_meeting", 0},

	/* duplicate detection (web/dedup.c) */
	{"GET", "/admin/dedup", H(web_dedup_show), ACCESS_PERMISSION, "dedup.run", 0},
	{"GET", "/admin/dedup/preview", H(web_dedup_preview), ACCESS_PERMISSION, "dedup.run", 0},
	{"POST", "/admin/dedup/schedule", H(web_dedup_schedule), ACCESS_PERMISSION, "dedup.run", 0},
	{"POST", "/admin/dedup/run", H(web_dedup_run), ACCESS_PERMISSION, "dedup.run", 0},

	/* marketing collateral (web/collateral.c) */
	{"GET", "/collateral", H(web_collateral_list), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/collateral", H(web_collateral_create), ACCESS_PERMISSION, "collateral.manage", 0},
	{"GET", "/collateral/new", H(web_collateral_new), ACCESS_PERMISSION, "collateral.manage", 0},
	{"GET", "/collateral/scopes", H(web_collateral_scopes), ACCESS_PERMISSION,
	 "collateral.manage", 0},
	{"GET", "/collateral/{id}", H(web_collateral_show), ACCESS_SIGNED_IN, NULL, 0},
	{"POST", "/collateral/{id}", H(web_collateral_update), ACCESS_PERMISSION,
	 "collateral.manage", 0},
	{"GET", "/collateral/{id}/remove", H(web_collateral_remove_confirm), ACCESS_PERMISSION,
	 "collateral.manage", 0},
	{"POST", "/collateral/{id}/remove", H(web_collateral_remove), ACCESS_PERMISSION,
	 "collateral.manage", 0},

	{NULL, NULL, NULL, ACCESS_PUBLIC, NULL, 0},
};

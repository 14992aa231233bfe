/*
 * routes — the route table.
 *
 * Grouped by module; each group is owned by the file that implements its
 * handlers. Access: ACCESS_PUBLIC, ACCESS_SIGNED_IN, or ACCESS_PERMISSION with
 * the permission ("module.action") a user must hold through one of their roles.
 */
#include "routes.h"

const struct route routes_table[] = {
	/* system (web/system.c) */
	{"GET", "/healthz", web_system_healthz, ACCESS_PUBLIC, NULL},
	{"GET", "/metrics", web_system_metrics, ACCESS_PUBLIC, NULL},

	/* sign-in and home (web/auth.c) */
	{"GET", "/", web_home, ACCESS_SIGNED_IN, NULL},
	{"GET", "/login", web_auth_login_page, ACCESS_PUBLIC, NULL},
	{"POST", "/login", web_auth_login, ACCESS_PUBLIC, NULL},
	{"POST", "/logout", web_auth_logout, ACCESS_SIGNED_IN, NULL},

	/* password reset and outbox (web/password.c) */

	/* admin: users and grants (web/admin_users.c, web/admin_grants.c) */

	{NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};

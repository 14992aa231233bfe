/*
 * routes — the route table.
 */
#include "routes.h"

const struct route routes_table[] = {
	{"GET", "/", web_home, ACCESS_PUBLIC, NULL},
	{"GET", "/healthz", web_system_healthz, ACCESS_PUBLIC, NULL},
	{"GET", "/metrics", web_system_metrics, ACCESS_PUBLIC, NULL},
	{"GET", "/login", web_auth_login_page, ACCESS_PUBLIC, NULL},
	{NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};

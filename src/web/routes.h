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

/* web/auth.c */
void web_home(struct request *req);
void web_auth_login_page(struct request *req);
void web_auth_login(struct request *req);
void web_auth_logout(struct request *req);

/* web/password.c */

/* web/admin_users.c, web/admin_grants.c */

#endif

/*
 * auth — the sign-in page.
 */
#include "core/render.h"
#include "web/routes.h"

void
web_home(struct request *req)
{
	resp_redirect(req, "/login");
}

void
web_auth_login_page(struct request *req)
{
	const char *email = req_query(req, "email");
	const char *next = req_query(req, "next");

	render(req, 200, "auth/login",
	       json_pack("{s:s, s:s, s:s}", "title", "Sign in", "email", email ? email : "",
			 "next", next ? next : ""));
}

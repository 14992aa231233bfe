/*
 * page — a request's response from a view model: full page, fragment, JSON.
 *
 * The layout is rendered as a second pass with the page's HTML as a raw
 * value; that keeps page templates usable unchanged as htmx fragments. The
 * error pages (404, 403, 413, 431, 503 …) are pages like any other, with
 * the user's navigation when they are signed in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "render.h"
#include "template.h"

#define render_templates (render_template_set())
#define render_ctx_hook (render_get_hook())

static const char *render_status_title(unsigned status);
static void render_page(struct request *req, unsigned status, const char *tmpl, json_t *vm);

static void
render_page(struct request *req, unsigned status, const char *tmpl, json_t *vm)
{
	buf page = BUF_INIT, full = BUF_INIT;
	json_t *layout;
	json_t *title;

	if (render_ctx_hook)
		render_ctx_hook(req, vm, 0);
	if (!render_templates || tmpl_render(render_templates, tmpl, vm, &page) != 0) {
		/* tmpl_render fails for a missing template and for a runaway one */
		log_error("render: template '%s' is missing or its rendering ran away", tmpl);
		json_decref(vm);
		buf_free(&page);
		resp_text(req, 500, "text/plain; charset=utf-8",
			  "500 Internal Server Error: this page could not be rendered.\n");
		return;
	}
	if (req_is_htmx(req)) {
		json_decref(vm);
		resp_buf(req, status, "text/html; charset=utf-8", &page);
		return;
	}
	title = json_object_get(vm, "title");
	layout = json_pack("{s:{s:s}, s:s, s:[]}", "app", "name", "Spanner", "asset_version",
			   render_asset_version(), "flash");
	/*
	 * Without the check json_pack's "s" makes: the page is the engine's own
	 * output, made of template text and of strings that were valid UTF-8
	 * when they entered the view model, and checking its 50 KB again took
	 * a fifth of a list page's CPU (perf, bench/RESULTS.md).
	 */
	json_object_set_new(layout, "content",
			    json_stringn_nocheck(page.data ? page.data : "", page.len));
	if (title)
		json_object_set(layout, "title", title);
	/*
	 * A page that must reload itself without JavaScript (import progress)
	 * sets refresh; the layout puts the <meta> in a <noscript> in the head,
	 * outside anything htmx swaps, so scripted pages never see it.
	 */
	if (json_object_get(vm, "refresh"))
		json_object_set(layout, "refresh", json_object_get(vm, "refresh"));
	buf_free(&page);
	json_decref(vm);
	if (render_ctx_hook)
		render_ctx_hook(req, layout, 1);
	tmpl_render(render_templates, "layout", layout, &full);
	json_decref(layout);
	resp_buf(req, status, "text/html; charset=utf-8", &full);
}

void
render(struct request *req, unsigned status, const char *tmpl, json_t *vm)
{
	if (req_wants_json(req)) {
		resp_json(req, status, vm);
		return;
	}
	render_page(req, status, tmpl, vm);
}

static const char *
render_status_title(unsigned status)
{
	switch (status) {
	case 400:
		return "The request could not be read";
	case 403:
		return "You can’t do that here";
	case 404:
		return "Page not found";
	case 405:
		return "This address doesn’t accept that request";
	case 413:
		return "That upload is too large";
	case 415:
		return "That kind of content isn’t accepted here";
	case 429:
		return "Too many attempts";
	case 503:
		return "Spanner is briefly unavailable";
	default:
		return status >= 500 ? "Something went wrong on our side" : "Request refused";
	}
}

static void
render_error_vm(struct request *req, unsigned status, json_t *vm)
{
	char tmpl[32];

	json_object_set_new(vm, "status", json_integer(status));
	json_object_set_new(vm, "title", json_string(render_status_title(status)));
	json_object_set_new(vm, "path", json_string(req_path(req)));
	json_object_set_new(vm, "method", json_string(req_method(req)));
	if (req_wants_json(req)) {
		resp_json(req, status, json_pack("{s:o}", "error", vm));
		return;
	}
	snprintf(tmpl, sizeof tmpl, "errors/%u", status);
	if (!render_templates || !tmpl_exists(render_templates, tmpl))
		snprintf(tmpl, sizeof tmpl, "errors/%s", status >= 500 ? "500" : "generic");
	render_page(req, status, tmpl, vm);
}

void
render_error(struct request *req, unsigned status, const char *message)
{
	json_t *vm = json_object();

	if (message)
		json_object_set_new(vm, "message", json_string(message));
	if (status == 413) {
		char limit[32];
		double mb = (double)req_config(req)->http_body_max / (1024.0 * 1024.0);

		snprintf(limit, sizeof limit, "%.0f MB", mb < 1 ? 1 : mb);
		json_object_set_new(vm, "limit", json_string(limit));
	}
	if (status == 503)
		resp_header(req, "Retry-After", "5");
	render_error_vm(req, status, vm);
}

void
render_forbidden(struct request *req, const char *permission, const char *message)
{
	json_t *vm = json_object();

	if (permission)
		json_object_set_new(vm, "permission", json_string(permission));
	if (message)
		json_object_set_new(vm, "message", json_string(message));
	render_error_vm(req, 403, vm);
}

void
render_method_not_allowed(struct request *req, const char *allowed)
{
	json_t *vm = json_pack("{s:s}", "allowed", allowed);

	resp_header(req, "Allow", allowed);
	render_error_vm(req, 405, vm);
}

void
render_db_error(struct request *req, db_conn *c)
{
	if (!c || db_error(c) == DB_ERR_UNAVAILABLE)
		render_error(req, 503, "The database cannot be reached right now.");
	else
		render_error(req, 500, NULL);
}

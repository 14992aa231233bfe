/*
 * render — one view model, three forms: full page, fragment, JSON.
 *
 * This file holds the template set and renders text (mail bodies, CSV
 * names); page.c turns a view model into a request's response. Split so the
 * tools and tests, which have no Kore, can render text too.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "template.h"

static tmpl_set *render_templates;
static render_hook render_ctx_hook;
static char render_asset_version_text[32] = "0";

int
render_init(const struct config *cfg, char *err, size_t errlen)
{
	render_templates = tmpl_set_new();
	if (tmpl_set_load_dir(render_templates, cfg->templates_dir, err, errlen) != 0)
		return -1;
	if (!tmpl_exists(render_templates, "layout")) {
		snprintf(err, errlen, "%s: no layout.mustache", cfg->templates_dir);
		return -1;
	}
	return 0;
}

void
render_shutdown(void)
{
	tmpl_set_free(render_templates);
	render_templates = NULL;
}

void
render_set_hook(render_hook hook)
{
	render_ctx_hook = hook;
}

void
render_set_asset_version(const char *version)
{
	snprintf(render_asset_version_text, sizeof render_asset_version_text, "%s", version);
}

char *
render_string(const char *tmpl, json_t *vm)
{
	buf out = BUF_INIT;
	int rc = tmpl_render(render_templates, tmpl, vm, &out);

	json_decref(vm);
	if (rc != 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

tmpl_set *
render_template_set(void)
{
	return render_templates;
}

render_hook
render_get_hook(void)
{
	return render_ctx_hook;
}

const char *
render_asset_version(void)
{
	return render_asset_version_text;
}

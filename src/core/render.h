/*
 * render — view model → HTML page, htmx fragment or JSON.
 *
 * A handler builds one view model (a jansson object) and calls render(). The
 * request decides the form (SPEC.md §7): `HX-Request` gets the page template
 * alone (the fragment htmx swaps in), `Accept: application/json` gets the view
 * model itself, and a plain browser gets the template inside the layout.
 * Escaping is the template engine's job; nothing here writes HTML by hand.
 */
#ifndef SPANNER_RENDER_H
#define SPANNER_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "http.h"

/*
 * The session layer's contribution to every HTML rendering: called with each
 * page's view model (is_layout 0: permissions, CSRF token) and with the
 * layout's (is_layout 1: user, navigation, flash). Not called for JSON, whose
 * view model is the handler's alone.
 */
typedef void (*render_hook)(struct request *req, json_t *vm, int is_layout);

int render_init(const struct config *cfg, char *err, size_t errlen);
void render_shutdown(void);
void render_set_hook(render_hook hook);
/* The fingerprint of the assets, for cache-busting ?v= URLs. */
void render_set_asset_version(const char *version);
const char *render_asset_version(void);
/* For page.c: the loaded templates and the hook. */
struct tmpl_set *render_template_set(void);
render_hook render_get_hook(void);

/* Renders template tmpl with vm (ownership taken) in the form the request asks for. */
void render(struct request *req, unsigned status, const char *tmpl, json_t *vm);
/* Renders a template to a string (for e-mail bodies and the like); NULL if unknown. */
char *render_string(const char *tmpl, json_t *vm);

/* The error pages: errors/<status> with a specific message (may be NULL). */
void render_error(struct request *req, unsigned status, const char *message);
void render_forbidden(struct request *req, const char *permission, const char *message);
void render_method_not_allowed(struct request *req, const char *allowed);
/* After a failed statement: 503 when the database is unreachable, else 500. */
void render_db_error(struct request *req, db_conn *c);

#endif

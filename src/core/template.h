/*
 * template — the project's Mustache engine.
 *
 * Templates are parsed once (at start) into a tree and rendered many times
 * from jansson values, concurrently from any thread: rendering never writes to
 * the set. {{x}} is HTML-escaped, {{{x}}} and {{&x}} are not. Sections,
 * inverted sections, comments, partials (looked up by name in the same set,
 * with standalone-line indentation) and delimiter changes follow the official
 * spec, which tests/unit/test_template.c runs in full.
 */
#ifndef SPANNER_TEMPLATE_H
#define SPANNER_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

typedef struct tmpl_set tmpl_set;

tmpl_set *tmpl_set_new(void);
void tmpl_set_free(tmpl_set *s);

/* Parses source under name (replacing an earlier one). 0, or -1 with err "name:line: reason". */
int tmpl_set_add(tmpl_set *s, const char *name, const char *source, char *err, size_t errlen);

/*
 * Adds every *.mustache file below dir; the name is the relative path without
 * the extension ("layout", "errors/404", "auth/login"). 0 or -1 with err.
 */
int tmpl_set_load_dir(tmpl_set *s, const char *dir, char *err, size_t errlen);

int tmpl_exists(const tmpl_set *s, const char *name);

/*
 * Appends the rendering of template name with context ctx to out. -1 if name
 * is unknown, or if the rendering ran away (a million steps, or 64 MiB of
 * output: a template that multiplies itself) and out holds only its start.
 */
int tmpl_render(const tmpl_set *s, const char *name, json_t *ctx, buf *out);

#endif

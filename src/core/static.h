/*
 * static — the files under assets/, served from memory.
 *
 * The asset tree is small (CSS, htmx, a keyboard script, icons), so it is read
 * once at start. Each file gets its MIME type from its extension and an ETag
 * from a hash of its bytes; the hash of all of them is the asset version that
 * pages append as ?v=, which lets browsers cache a versioned URL for a year.
 */
#ifndef SPANNER_STATIC_H
#define SPANNER_STATIC_H

#include "http.h"

int static_load(const char *dir);
void static_free(void);
const char *static_version(void);
/* Answers GET /assets/... ; returns 0 when the path is not an asset (caller 404s). */
int static_serve(struct request *req, const char *path);
/* The MIME type for a file name, by its extension. */
const char *static_mime_type(const char *name);

#endif

/*
 * http — Spanner's request and response on top of Kore.
 *
 * Kore owns the sockets, HTTP parsing, routing (kore.conf: one route per
 * path, regex captures for {params}), parameter validation (`params` blocks)
 * and the worker processes. This layer gives handlers what Kore does not:
 *   - one entry point per path (SPANNER_ENTRY) that finds the handler for the
 *     method in routes_table and runs it on the request's own fiber, so it
 *     can wait for PostgreSQL (db_kore.c) or a task (offload.h) without
 *     blocking the worker's event loop;
 *   - the request accessors (req_*) and one-response-per-request (resp_*);
 *   - what every response needs on every path, done once: security headers,
 *     the access log line, request metrics, the 413/431 pages, releasing
 *     the database connection, deleting temporary upload files.
 * A handler reads top to bottom: parse and validate → statements → render.
 */
#ifndef SPANNER_HTTP_H
#define SPANNER_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"
#include "db.h"

struct request;

typedef void (*http_handler)(struct request *req);

/* Who may use a route. Permission routes name the permission they need. */
enum route_access {
	ACCESS_PUBLIC,
	ACCESS_SIGNED_IN,
	ACCESS_PERMISSION,
};

struct route {
	const char *method; /* "GET", "POST"; a GET route answers HEAD too */
	/* The path as written in kore.conf's route (literal) or its {name} form (regex). */
	const char *pattern; /* "/companies/{id}/peek" */
	http_handler handler;
	enum route_access access;
	const char *permission; /* "companies.approve" for ACCESS_PERMISSION */
	/* 1: the form carries the correction grid's c<row>_<column> cells (see http.c). */
	int cells;
};

/* A file field of a multipart body, already on disk. */
struct upload {
	char *field;
	char *filename; /* as the browser sent it */
	char *content_type;
	char *path; /* temporary file; deleted when the request ends */
	size_t size;
};

/* Hook run before a non-public handler (sessions, CSRF, grants); 0 = go on. */
typedef int (*http_guard)(struct request *req, const struct route *route);

/*
 * Hook that only identifies the client (loads the session) without refusing
 * anything; run before error pages for unknown paths, so a signed-in user's
 * 404 still shows their navigation.
 */
typedef void (*http_identify)(struct request *req);

struct http_request; /* Kore's */

/*
 * Defines the Kore handler `sym` that kore.conf names for the route whose
 * routes_table pattern is `pattern` (NULL: the catch-all that answers 404).
 */
#define SPANNER_ENTRY(sym, pattern)                                                                \
	int sym(struct http_request *);                                                            \
	int sym(struct http_request *kreq)                                                         \
	{                                                                                          \
		return http_serve(kreq, pattern);                                                  \
	}

/* Runs the request for routes_table's pattern; what every SPANNER_ENTRY calls. */
int http_serve(struct http_request *kreq, const char *pattern);

/* Per worker: the config and route table every request uses. */
void http_setup(const struct config *cfg, const struct route *routes);
/*
 * Checks, at start-up, that every pattern of the route table has a Kore route
 * in kore.conf and the other way round. 0, or -1 with each mismatch logged.
 */
int http_check_routes(void);
void http_set_guard(http_guard guard);
void http_set_identify(http_identify identify);

/* ---- request accessors (valid for the life of the handler call) ---- */
const char *req_method(const struct request *req);
const char *req_path(const struct request *req);
const char *req_param(const struct request *req, const char *name); /* {name} in the route */
const char *req_query(const struct request *req, const char *name); /* first value */
const char *req_form(const struct request *req, const char *name);  /* first value */
/* Every value of a repeated form (or, with query=1, query) field, in order. */
size_t req_values(const struct request *req, int query, const char *name, const char ***out);
const struct upload *req_upload(const struct request *req, const char *field);
/* Calls fn for every form field, in order (fields with computed names, like the grid's). */
void req_each_form(const struct request *req,
		   void (*fn)(void *ctx, const char *name, const char *value), void *ctx);
const char *req_header(const struct request *req, const char *name);
const char *req_cookie(const struct request *req, const char *name);
const char *req_client_ip(const struct request *req);
int req_is_htmx(const struct request *req);
int req_wants_json(const struct request *req);
/* The browser reaches us over https: base_url is https://, or the trusted proxy says so. */
int req_is_https(const struct request *req);
const struct route *req_route(const struct request *req);
const struct config *req_config(const struct request *req);
/* The request's database connection (async; released after the response). Never NULL. */
db_conn *req_db(struct request *req);
/* 1 when the request's body went over http_body_max (the handler is not run: 413). */
int req_too_large(const struct request *req);

/* Per-request slot for the session layer (user, permissions, CSRF token). */
void req_set_context(struct request *req, void *ctx, void (*free_ctx)(void *));
void *req_context(const struct request *req);

/* ---- responses: exactly one per request ---- */
void resp_header(struct request *req, const char *name, const char *value);
/* Takes ownership of body (malloc'ed, len bytes). */
void resp_body(struct request *req, unsigned status, const char *content_type, char *body,
	       size_t len);
/* Takes the contents of b (left empty). */
void resp_buf(struct request *req, unsigned status, const char *content_type, buf *b);
void resp_text(struct request *req, unsigned status, const char *content_type, const char *text);
/* data stays valid for the life of the process (static assets); not copied. */
void resp_static(struct request *req, unsigned status, const char *content_type, const void *data,
		 size_t len);
/* Takes ownership of value. */
void resp_json(struct request *req, unsigned status, json_t *value);
/* 303 See Other after a POST; for htmx an HX-Redirect so the page changes too. */
void resp_redirect(struct request *req, const char *location);
/* Sends the file at path (ownership of fd); used for downloads of stored files. */
void resp_file(struct request *req, unsigned status, const char *content_type, int fd, size_t size);
/*
 * A streamed body: fill is called repeatedly with a buffer to fill; it returns
 * the bytes written, 0 when it has nothing right now but is not done (not
 * used), or -1 at the end. done(cls) is called when the response is finished
 * or abandoned.
 */
typedef ssize_t (*resp_fill_fn)(void *cls, char *buf, size_t max);
void resp_stream(struct request *req, unsigned status, const char *content_type, resp_fill_fn fill,
		 void *cls, void (*done)(void *cls));
int resp_sent(const struct request *req);

#endif

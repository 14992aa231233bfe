/*
 * http — Spanner's request and response on top of Kore (see http.h).
 *
 * A request's life: Kore matches the path to a route of kore.conf and calls
 * its SPANNER_ENTRY handler, which lands in http_serve. The first call builds
 * our request (parameters populated through Kore, so only those declared in
 * kore.conf's params blocks exist) and a fiber; every call resumes the
 * fiber, which runs the checks, the guard and the handler. When the handler
 * waits (database, task) the fiber yields and http_serve returns
 * KORE_RESULT_RETRY with the request asleep; Kore wakes it when the answer is
 * in. When the fiber has finished, the response it built is handed to Kore
 * in one go, with the headers every response carries.
 *
 * If the client goes away while the fiber is suspended, Kore frees its
 * request: our request is then orphaned, every pending or later statement
 * fails at once, and the fiber runs to its end through the handler's own
 * error paths, so everything it allocated is released the usual way.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db_kore.h"
#include "fiber.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "url.h"
#include "render.h"

#define HTTP_MAX_PARAMS 8
/* Copying uploads, spooling downloads: the most read or written in one go. */
#define HTTP_READ_CHUNK 65536

struct kv {
	char *key;
	char *value;
};

struct request {
	struct http_request *kreq; /* NULL once Kore has let the request go (client gone) */
	const struct config *cfg;
	const struct route *route;
	const char *pattern;
	const char *method;
	char *path;
	struct timespec started;
	char client_ip[INET6_ADDRSTRLEN]; /* req_client_ip's answer, kept per request */

	struct kv params[HTTP_MAX_PARAMS];
	size_t nparams;
	struct upload *uploads;
	size_t nuploads;
	int uploads_loaded;
	const char **values_tmp;

	db_conn *db;
	void *ctx;
	void (*free_ctx)(void *);
	struct fiber *fiber;
	int task_running;
	int nul_input; /* a parameter held a NUL byte: refused before the handler runs */

	/* the response being built */
	int spool_fd; /* a streamed body spooled to an unlinked file, or -1 */
	size_t spool_size;
	char *spool_path;
	int sent;
	unsigned status;
	char *content_type;
	buf body;
	struct kv *headers;
	size_t nheaders;
};

/* A Kore task running an offloaded function for a request's fiber. */
struct http_task {
	struct kore_task task; /* first: Kore hands this pointer back */
	offload_fn fn;
	void *arg;
	struct request *req;
};

static struct {
	const struct config *cfg;
	const struct route *routes;
	http_guard guard;
	http_identify identify;
} http;

static struct request *http_current;

static struct request *http_request_new(struct http_request *kreq, const char *pattern);
static void http_request_release(struct request *r);
static void http_fiber_main(void *arg);
static int http_resume(struct request *r);
static void http_onfree(struct http_request *kreq);
static void http_client_ip(struct request *r, struct http_request *kreq);
static void http_flush(struct request *r);
static void http_security_headers(struct request *r, struct http_request *kreq);
static const struct route *http_find_route(const char *pattern, const char *method, char *allowed,
					   size_t allowed_len);
static void http_path_params(struct request *r, struct http_request *kreq);
static int http_headers_truncated(struct http_request *kreq);
static void http_load_uploads(struct request *r);
static int http_is_cell_name(const char *name, size_t len);
static int http_declared_post(struct http_request *kreq, const char *name, size_t len);
static void http_keep_field(struct http_request *kreq, struct kv **kept, size_t *nkept,
			    const char *name, size_t nlen, const char *value, size_t vlen,
			    int cells);
static void http_walk_multipart(struct http_request *kreq, const char *ct, int cells, int *nul,
				struct kv **kept, size_t *nkept);
static void http_restore_fields(struct http_request *kreq, const char *ct, int cells, int *nul,
				struct kv **kept, size_t *nkept);
static void http_parse_urlencoded(struct http_request *kreq, char *data, int qs, int cells,
				  int *nul);
static void http_read_urlencoded_body(struct http_request *kreq, int cells, int *nul);
static void http_form_pair(void *ctx, char *name, char *value);
static void http_add_kept(struct http_request *kreq, struct kv *kept, size_t nkept);
static void http_run_orphan(struct request *r);
static int http_task_entry(struct kore_task *t);
static void http_task_done(struct kore_task *t);
static int http_task_run(offload_fn fn, void *arg);
static void *http_fiber_self(void);
static int http_fiber_park(void);
static void http_fiber_wake(void *who);
static void http_timer_fired(void *arg, u_int64_t now);
static int http_fiber_sleep(unsigned ms);

static const struct offload_ops http_offload_ops = {
    http_task_run, http_fiber_self, http_fiber_park, http_fiber_wake, http_fiber_sleep,
};
static long http_elapsed_usec(const struct timespec *since);

/* ------------------------------------------------------------- lifecycle */

void
http_setup(const struct config *cfg, const struct route *routes)
{
	http.cfg = cfg;
	http.routes = routes;
	offload_set_ops(&http_offload_ops);
}

void
http_set_guard(http_guard guard)
{
	http.guard = guard;
}

void
http_set_identify(http_identify identify)
{
	http.identify = identify;
}

int
http_check_routes(void)
{
	struct kore_domain *dom;
	struct kore_module_handle *h;
	struct kore_server *srv;
	const struct route *rt;
	int bad = 0;

	/* Every routes_table pattern must reach Kore through a route of kore.conf. */
	for (rt = http.routes; rt->method; rt++) {
		int found = 0;

		LIST_FOREACH(srv, &kore_servers, list)
		{
			TAILQ_FOREACH(dom, &srv->domains, list)
			{
				TAILQ_FOREACH(h, &dom->handlers, list)
				{
					buf want = BUF_INIT;
					const char *p;

					if (h->type == HANDLER_TYPE_STATIC) {
						found |= !strcmp(h->path, rt->pattern);
						continue;
					}
					/* {name} becomes ([^/]+) in the regex form. */
					buf_putc(&want, '^');
					for (p = rt->pattern; *p; p++) {
						if (*p == '{') {
							buf_puts(&want, "([^/]+)");
							while (*p && *p != '}')
								p++;
							if (!*p)
								break;
						} else if (*p == '.') {
							buf_puts(&want, "\\.");
						} else {
							buf_putc(&want, *p);
						}
					}
					buf_putc(&want, '$');
					found |= !strcmp(h->path, want.data);
					buf_free(&want);
				}
			}
		}
		if (!found) {
			log_error("kore.conf has no route for %s %s", rt->method, rt->pattern);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* ------------------------------------------------------------- requests */

/*
 * The client's address, once per request into the request's own memory: a
 * handler keeps it across waits while other requests run. Behind the proxy
 * (trust_proxy) the last X-Forwarded-For entry, the one the proxy appended.
 */
static void
http_client_ip(struct request *r, struct http_request *kreq)
{
	const char *xff = NULL, *last;
	struct connection *c = kreq->owner;

	if (r->cfg->trust_proxy && http_request_header(kreq, "x-forwarded-for", &xff) && xff) {
		last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		snprintf(r->client_ip, sizeof r->client_ip, "%.*s", (int)strcspn(last, " "), last);
	} else if (c->family == AF_INET) {
		inet_ntop(AF_INET, &c->addr.ipv4.sin_addr, r->client_ip, sizeof r->client_ip);
	} else if (c->family == AF_INET6) {
		inet_ntop(AF_INET6, &c->addr.ipv6.sin6_addr, r->client_ip, sizeof r->client_ip);
	}
}

static struct request *
http_request_new(struct http_request *kreq, const char *pattern)
{
	struct request *r = xcalloc(1, sizeof *r);

	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->kreq = kreq;
	r->spool_fd = -1;
	r->cfg = http.cfg;
	r->pattern = pattern;
	r->method = http_method_text(kreq->method);
	/* The routes_table row, once: NULL for the catch-all and for a method it lacks. */
	r->route = pattern ? http_find_route(pattern, r->method, NULL, 0) : NULL;
	r->path = xstrdup(kreq->path);
	http_client_ip(r, kreq);
	r->db = db_kore_open(kreq);
	r->fiber = fiber_new(http_fiber_main, r);
	if (!r->fiber) {
		http_request_release(r);
		return NULL;
	}
	if (kreq->query_string && kreq->hdlr) {
		char *qs = xstrdup(kreq->query_string);

		http_parse_urlencoded(kreq, qs, 1, 0, &r->nul_input);
		free(qs);
	}
	if (kreq->method == HTTP_METHOD_POST && kreq->hdlr) {
		const char *ct = NULL;

		/*
		 * Our forms post multipart/form-data, which Kore parses well but
		 * for empty fields (put back from the raw body first); urlencoded
		 * bodies from scripts and tests get the parser above.
		 */
		int cells = r->route && r->route->cells;

		if (http_request_header(kreq, "content-type", &ct) &&
		    !strncasecmp(ct, "multipart/form-data", 19)) {
			struct kv *kept = NULL;
			size_t nkept = 0;

			http_restore_fields(kreq, ct, cells, &r->nul_input, &kept, &nkept);
			http_populate_multipart_form(kreq);
			http_add_kept(kreq, kept, nkept);
		} else {
			http_read_urlencoded_body(kreq, cells, &r->nul_input);
		}
	}
	http_populate_cookies(kreq);
	http_path_params(r, kreq);
	kreq->hdlr_extra = r;
	/* Our memory, not Kore's: the request may outlive Kore's (see http_onfree). */
	kreq->flags |= HTTP_REQUEST_RETAIN_EXTRA;
	kreq->onfree = http_onfree;
	return r;
}

/*
 * Fields Kore 4.1 would lose, put back from the raw body before Kore's own
 * parser runs (its urlencoded parser cuts the body up in place):
 *   - a declared field sent with an empty value: Kore drops it, but absent
 *     and empty differ to a form: the panel saves only the fields it sends,
 *     and a field sent empty is one the user cleared;
 *   - on routes that ask for it (route->cells), the correction grid's cells,
 *     named c<row>_<column>, which no params block can declare.
 * Only bodies held in memory: a body big enough to go to disk is an upload,
 * whose other fields are never cleared ones.
 */
static int
http_is_cell_name(const char *name, size_t len)
{
	size_t i = 1;

	if (len < 4 || name[0] != 'c' || !isdigit((unsigned char)name[1]))
		return 0;
	while (i < len && isdigit((unsigned char)name[i]))
		i++;
	if (i >= len - 1 || name[i] != '_')
		return 0;
	for (i++; i < len; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	return 1;
}

static int
http_declared_post(struct http_request *kreq, const char *name, size_t len)
{
	struct kore_handler_params *p;

	TAILQ_FOREACH(p, &kreq->hdlr->params, list)
	{
		if (p->method == HTTP_METHOD_POST && !(p->flags & KORE_PARAMS_QUERY_STRING) &&
		    strlen(p->name) == len && !memcmp(p->name, name, len))
			return 1;
	}
	return 0;
}

static void
http_keep_field(struct http_request *kreq, struct kv **kept, size_t *nkept, const char *name,
		size_t nlen, const char *value, size_t vlen, int cells)
{
	char *n, *v;

	/* Grid cells always (an emptied cell is a correction); others only when empty. */
	if (!(cells && http_is_cell_name(name, nlen)) &&
	    (vlen != 0 || !http_declared_post(kreq, name, nlen)))
		return;
	n = xstrndup(name, nlen);
	v = xstrndup(value, vlen);
	*kept = xrealloc(*kept, (*nkept + 1) * sizeof **kept);
	(*kept)[*nkept].key = n;
	(*kept)[*nkept].value = v;
	(*nkept)++;
}

static void
http_walk_multipart(struct http_request *kreq, const char *ct, int cells, int *nul,
		    struct kv **kept, size_t *nkept)
{
	const char *body = (const char *)kreq->http_body->data;
	size_t len = kreq->content_length;

	if (len > kreq->http_body->length)
		len = kreq->http_body->length;
	{
		const char *b = strstr(ct, "boundary="), *p, *stop = body + len;
		char delim[128];
		size_t dlen;

		if (!b)
			return;
		b += 9;
		dlen =
		    (size_t)snprintf(delim, sizeof delim, "\r\n--%.*s", (int)strcspn(b, "; "), b);
		if (dlen >= sizeof delim)
			return;
		/* The first delimiter has no CRLF before it. */
		p = memmem(body, len, delim + 2, dlen - 2);
		while (p && (p = memmem(p, (size_t)(stop - p), "\r\n", 2)) != NULL) {
			const char *head = p + 2, *value, *next, *name;
			size_t nlen;

			value = memmem(head, (size_t)(stop - head), "\r\n\r\n", 4);
			if (!value)
				return;
			value += 4;
			next = memmem(value, (size_t)(stop - value), delim, dlen);
			if (!next)
				return;
			name = memmem(head, (size_t)(value - head), "name=\"", 6);
			if (name && !memmem(head, (size_t)(value - head), "filename=", 9)) {
				if (memchr(value, '\0', (size_t)(next - value)))
					*nul = 1;
				name += 6;
				nlen = strcspn(name, "\"");
				http_keep_field(kreq, kept, nkept, name, nlen, value,
						(size_t)(next - value), cells);
			}
			p = next + dlen;
		}
	}
}

/*
 * Query strings and urlencoded bodies are parsed here, not by Kore 4.1,
 * whose parser reads at most 19 pairs and silently drops empty values and
 * any value holding a line break or tab. The rules stay kore.conf's: a
 * parameter must be declared in a params block for the method (HEAD takes
 * GET's), and its value must pass the declared validator; an empty value is
 * kept as "" without one (absent and empty differ to a form, see above). A
 * name or value that decodes to a NUL byte is dropped and the request marked
 * (nul_input): it is refused with a 400, never stored cut short.
 */
struct http_form_walk {
	struct http_request *kreq;
	u_int8_t method;
	int qs;
	int cells;
};

/* One decoded pair: kept when kore.conf declares it for this method and it passes its validator. */
static void
http_form_pair(void *ctx, char *name, char *value)
{
	struct http_form_walk *w = ctx;
	struct kore_handler_params *p;
	int ok = 0;

	TAILQ_FOREACH(p, &w->kreq->hdlr->params, list)
	{
		if (!w->qs != !(p->flags & KORE_PARAMS_QUERY_STRING) || p->method != w->method ||
		    strcmp(p->name, name))
			continue;
		ok = !*value || kore_validator_check(w->kreq, p->validator, value) == KORE_RESULT_OK;
		break;
	}
	if (!ok && !(w->cells && !w->qs && http_is_cell_name(name, strlen(name))))
		return;
	{
		struct http_arg *a = kore_malloc(sizeof *a);

		a->name = kore_strdup(name);
		a->s_value = kore_strdup(value);
		TAILQ_INSERT_TAIL(&w->kreq->arguments, a, list);
	}
}

static void
http_parse_urlencoded(struct http_request *kreq, char *data, int qs, int cells, int *nul)
{
	struct http_form_walk w = {kreq, kreq->method == HTTP_METHOD_HEAD ? HTTP_METHOD_GET
									   : kreq->method,
				   qs, cells};

	if (url_form_each(data, http_form_pair, &w) > 0)
		*nul = 1;
}

static void
http_read_urlencoded_body(struct http_request *kreq, int cells, int *nul)
{
	buf b = BUF_INIT;
	char chunk[8192];
	ssize_t n;

	while ((n = http_body_read(kreq, chunk, sizeof chunk)) > 0)
		buf_append(&b, chunk, (size_t)n);
	if (n == 0 && b.data)
		http_parse_urlencoded(kreq, b.data, 0, cells, nul);
	buf_free(&b);
}

static void
http_restore_fields(struct http_request *kreq, const char *ct, int cells, int *nul,
		    struct kv **kept, size_t *nkept)
{
	if (!kreq->http_body || kreq->http_body_fd != -1 || !kreq->hdlr)
		return;
	http_walk_multipart(kreq, ct ? ct : "", cells, nul, kept, nkept);
}

/* After Kore's parser: the kept fields join its arguments, in Kore's memory. */
static void
http_add_kept(struct http_request *kreq, struct kv *kept, size_t nkept)
{
	size_t i;

	for (i = 0; i < nkept; i++) {
		struct http_arg *a = kore_malloc(sizeof *a);

		a->name = kore_strdup(kept[i].key);
		a->s_value = kore_strdup(kept[i].value);
		TAILQ_INSERT_TAIL(&kreq->arguments, a, list);
		free(kept[i].key);
		free(kept[i].value);
	}
	free(kept);
}

static void
http_request_release(struct request *r)
{
	size_t i;

	for (i = 0; i < r->nuploads; i++) {
		if (r->uploads[i].path)
			unlink(r->uploads[i].path);
		free(r->uploads[i].field);
		free(r->uploads[i].filename);
		free(r->uploads[i].content_type);
		free(r->uploads[i].path);
	}
	free(r->uploads);
	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].key);
		free(r->params[i].value);
	}
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].key);
		free(r->headers[i].value);
	}
	free(r->headers);
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	free(r->spool_path);
	if (r->free_ctx)
		r->free_ctx(r->ctx);
	free(r->values_tmp);
	free(r->content_type);
	buf_free(&r->body);
	free(r->path);
	fiber_free(r->fiber);
	free(r);
}

int
http_serve(struct http_request *kreq, const char *pattern)
{
	struct request *r = kreq->hdlr_extra;

	if (!r) {
		r = http_request_new(kreq, pattern);
		if (!r) {
			http_response(kreq, 503, "Out of memory\n", 14);
			return KORE_RESULT_OK;
		}
	}
	if (r->task_running) {
		/* Woken for something else while its task runs: back to sleep. */
		http_request_sleep(kreq);
		return KORE_RESULT_RETRY;
	}
	if (!http_resume(r))
		return KORE_RESULT_RETRY;
	http_flush(r);
	kreq->hdlr_extra = NULL;
	kreq->onfree = NULL;
	http_request_release(r);
	return KORE_RESULT_OK;
}

static int
http_resume(struct request *r)
{
	struct request *prev = http_current;
	int done;

	http_current = r;
	done = fiber_resume(r->fiber);
	http_current = prev;
	return done;
}

/*
 * Kore is freeing its request before ours finished: the client went away,
 * or the worker is stopping. Run the fiber out on its error paths, unless a
 * task still works for it: then the task's completion finishes the job.
 */
static void
http_onfree(struct http_request *kreq)
{
	struct request *r = kreq->hdlr_extra;

	if (!r)
		return;
	kreq->hdlr_extra = NULL;
	r->kreq = NULL;
	db_kore_abort(r->db);
	http_run_orphan(r);
}

/*
 * A request Kore has let go of: its fiber runs to the end on its error paths
 * and is released, unless it waits for a task, whose end calls this again.
 */
static void
http_run_orphan(struct request *r)
{
	if (r->task_running)
		return;
	while (!http_resume(r)) {
		if (r->task_running)
			return;
	}
	http_request_release(r);
}

static void
http_fiber_main(void *arg)
{
	struct request *r = arg;
	struct http_request *kreq = r->kreq;
	char allowed[64];

	if (!r->pattern) {
		if (http.identify)
			http.identify(r);
		render_error(r, 404, NULL);
		goto out;
	}
	if (!r->route) {
		http_find_route(r->pattern, r->method, allowed, sizeof allowed);
		if (http.identify)
			http.identify(r);
		render_method_not_allowed(r, allowed);
		goto out;
	}
	if (r->route->access != ACCESS_PUBLIC && http_headers_truncated(kreq)) {
		/*
		 * Kore reads 25 header lines and drops the rest without a word;
		 * browsers send Cookie last. Rather than treat a signed-in user as
		 * signed out in the middle of an edit, refuse the request clearly.
		 */
		render_error(r, 431,
			     "Your browser sent more request headers than Spanner reads, so this "
			     "request was refused and nothing was changed. Reload the page and try "
			     "again; if it happens again, turn off browser extensions that add "
			     "headers.");
		goto out;
	}
	if (req_too_large(r)) {
		if (http.identify)
			http.identify(r);
		render_error(r, 413, NULL);
		goto out;
	}
	if (r->nul_input) {
		/* No field can hold a NUL byte: refused whole, rather than stored cut short. */
		if (http.identify)
			http.identify(r);
		render_error(r, 400,
			     "The request held a NUL character (%00), which no field of Spanner "
			     "can store, so nothing was changed. Remove it and try again.");
		goto out;
	}
	if (http.guard && http.guard(r, r->route) != 0) {
		if (!r->sent)
			render_error(r, 403, NULL);
		goto out;
	}
	r->route->handler(r);
	if (!r->sent) {
		log_error("http: %s %s: handler gave no response", r->method, r->path);
		render_error(r, 500, NULL);
	}
out:
	/* On the fiber still: a rollback left to do can wait for the server. */
	db_kore_close(r->db);
	r->db = NULL;
}

static const struct route *
http_find_route(const char *pattern, const char *method, char *allowed, size_t allowed_len)
{
	const struct route *rt;
	const char *want = strcmp(method, "HEAD") ? method : "GET";
	size_t used = 0;

	if (allowed)
		allowed[0] = '\0';
	for (rt = http.routes; rt->method; rt++) {
		if (strcmp(rt->pattern, pattern))
			continue;
		if (!strcmp(rt->method, want))
			return rt;
		if (!allowed)
			continue;
		used += (size_t)snprintf(allowed + used, allowed_len - used, "%s%s",
					 used ? ", " : "", rt->method);
		if (used >= allowed_len)
			used = allowed_len - 1;
	}
	return NULL;
}

/*
 * {name}s of the pattern take the path's segments at the same places. Kore
 * matched the path with the route's regex already, but compiles it with
 * REG_NOSUB, so its capture groups are never filled: the pattern is walked
 * here instead, segment by segment.
 */
static void
http_path_params(struct request *r, struct http_request *kreq)
{
	const char *p = r->pattern, *q = kreq->path;

	if (!p)
		return;
	while (*p && *q && r->nparams < HTTP_MAX_PARAMS) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t vlen = strcspn(q, "/");

			if (!end)
				return;
			r->params[r->nparams].key = xstrndup(p + 1, (size_t)(end - p - 1));
			r->params[r->nparams].value = xstrndup(q, vlen);
			r->nparams++;
			p = end + 1;
			q += vlen;
			continue;
		}
		if (*p != *q)
			return;
		p++;
		q++;
	}
}

static int
http_headers_truncated(struct http_request *kreq)
{
	struct http_header *h;
	const char *cookie;
	int n = 0;

	TAILQ_FOREACH(h, &kreq->req_headers, list)
	n++;
	/*
	 * Kore splits the head into at most 25 pieces, the last holding the
	 * unsplit rest, so 23 header lines survive after the request line; and
	 * Host is taken out of the list. 22 left means some may have been cut.
	 */
	return n >= HTTP_REQ_HEADER_MAX - 3 && !http_request_header(kreq, "cookie", &cookie);
}

/* ------------------------------------------------------------- responses out */

static void
http_security_headers(struct request *r, struct http_request *kreq)
{
	/*
	 * No inline script or style anywhere: htmx is told (in the layout) not to
	 * inject its indicator styles, so 'self' is enough and an injected
	 * <script> in user data could never run.
	 */
	http_response_header(kreq, "content-security-policy",
			     "default-src 'self'; script-src 'self'; style-src 'self'; "
			     "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
			     "frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
	http_response_header(kreq, "x-content-type-options", "nosniff");
	http_response_header(kreq, "x-frame-options", "DENY");
	http_response_header(kreq, "referrer-policy", "same-origin");
	http_response_header(kreq, "cross-origin-opener-policy", "same-origin");
	http_response_header(kreq, "permissions-policy",
			     "camera=(), microphone=(), geolocation=(), payment=()");
	if (req_is_https(r))
		http_response_header(kreq, "strict-transport-security",
				     "max-age=31536000; includeSubDomains");
}

static void
http_flush(struct request *r)
{
	struct http_request *kreq = r->kreq;
	int cached = 0;
	size_t i;

	if (!r->sent) {
		r->status = 500;
		buf_puts(&r->body, "Internal Server Error\n");
		r->content_type = xstrdup("text/plain; charset=utf-8");
	}
	http_security_headers(r, kreq);
	if (r->content_type)
		http_response_header(kreq, "content-type", r->content_type);
	for (i = 0; i < r->nheaders; i++) {
		http_response_header(kreq, r->headers[i].key, r->headers[i].value);
		if (!strcasecmp(r->headers[i].key, "cache-control"))
			cached = 1;
	}
	/*
	 * Every page and fragment the app makes is someone's data or carries a
	 * CSRF token: never kept by a browser or proxy unless a handler says so.
	 * (Fingerprinted assets are Kore's filemap, not this path.)
	 */
	if (!cached)
		http_response_header(kreq, "cache-control", "no-store");
	if (r->spool_fd >= 0 && r->spool_size == 0) {
		/* Nothing was written: Kore cannot map an empty file. */
		close(r->spool_fd);
		r->spool_fd = -1;
	}
	if (r->spool_fd >= 0) {
		struct timespec now;
		struct kore_fileref *ref;

		/* Kore sends the spooled file from the kernel (sendfile) and owns the fd now. */
		clock_gettime(CLOCK_REALTIME, &now);
		ref = kore_fileref_create(kreq->owner->owner->server, r->spool_path, r->spool_fd,
					  (off_t)r->spool_size, &now);
		r->spool_fd = -1;
		if (ref)
			http_response_fileref(kreq, (int)r->status, ref);
		else
			http_response(kreq, 500, NULL, 0);
	} else {
		/* Kore copies the body into its send buffers. */
		http_response(kreq, (int)r->status, r->body.data ? r->body.data : "", r->body.len);
	}
	if (r->cfg->log_access)
		log_access(r->method, r->path, r->status,
			   r->spool_path ? r->spool_size : r->body.len,
			   http_elapsed_usec(&r->started));
	metrics_request(r->status, http_elapsed_usec(&r->started));
}

static long
http_elapsed_usec(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* ------------------------------------------------------------- tasks */

static int
http_task_entry(struct kore_task *t)
{
	struct http_task *ht = (struct http_task *)t;

	ht->fn(ht->arg);
	return KORE_RESULT_OK;
}

/* On the event loop, when the task has written to its channel or finished. */
static void
http_task_done(struct kore_task *t)
{
	struct http_task *ht = (struct http_task *)t;
	struct request *r = ht->req;

	if (!kore_task_finished(t))
		return;
	r->task_running = 0;
	if (r->kreq) {
		http_request_wakeup(r->kreq);
		return;
	}
	/* Orphaned meanwhile (see http_onfree): finish here. */
	http_run_orphan(r);
}

static int
http_task_run(offload_fn fn, void *arg)
{
	struct request *r = http_current;
	struct http_task ht;

	if (!r || fiber_current() != r->fiber) {
		fn(arg);
		return 0;
	}
	memset(&ht, 0, sizeof ht);
	ht.fn = fn;
	ht.arg = arg;
	ht.req = r;
	kore_task_create(&ht.task, http_task_entry);
	kore_task_bind_callback(&ht.task, http_task_done);
	r->task_running = 1;
	kore_task_run(&ht.task);
	/* Whatever happens to the request, the task uses this stack until it ends. */
	while (r->task_running) {
		if (r->kreq)
			http_request_sleep(r->kreq);
		fiber_yield();
	}
	kore_task_destroy(&ht.task);
	return 0;
}

/* The request whose fiber is running, for offload's waiters; NULL off a fiber. */
static void *
http_fiber_self(void)
{
	struct request *r = http_current;

	return r && fiber_current() == r->fiber ? r : NULL;
}

/*
 * Sleeps until http_fiber_wake. An orphaned request does not sleep (nothing
 * would wake it: http_run_orphan resumes it until it ends), so -1 at once.
 */
static int
http_fiber_park(void)
{
	struct request *r = http_current;

	if (!r->kreq)
		return -1;
	http_request_sleep(r->kreq);
	fiber_yield();
	return r->kreq ? 0 : -1;
}

static void
http_fiber_wake(void *who)
{
	struct request *r = who;

	if (r->kreq)
		http_request_wakeup(r->kreq);
}

struct http_sleeper {
	struct request *req;
	int fired;
};

static void
http_timer_fired(void *arg, u_int64_t now)
{
	struct http_sleeper *s = arg;

	(void)now;
	s->fired = 1;
	http_fiber_wake(s->req);
}

/* A Kore timer wakes the fiber; if the client leaves first, the timer goes with it. */
static int
http_fiber_sleep(unsigned ms)
{
	struct http_sleeper s = {http_current, 0};
	struct kore_timer *timer = kore_timer_add(http_timer_fired, ms, &s, KORE_TIMER_ONESHOT);

	while (!s.fired) {
		if (http_fiber_park() != 0) {
			if (!s.fired)
				kore_timer_remove(timer);
			return -1;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- accessors */

const char *
req_method(const struct request *req)
{
	return req->method;
}

const char *
req_path(const struct request *req)
{
	return req->path;
}

const char *
req_param(const struct request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nparams; i++)
		if (!strcmp(req->params[i].key, name))
			return req->params[i].value;
	return NULL;
}

/* Kore keeps query and form arguments in one list; the route's params blocks say which is which. */
static const char *
http_arg(const struct request *req, const char *name)
{
	struct http_arg *a;

	if (!req->kreq)
		return NULL;
	TAILQ_FOREACH(a, &req->kreq->arguments, list)
	{
		if (!strcmp(a->name, name))
			return a->s_value;
	}
	return NULL;
}

const char *
req_query(const struct request *req, const char *name)
{
	return http_arg(req, name);
}

const char *
req_form(const struct request *req, const char *name)
{
	if (strcmp(req->method, "POST"))
		return NULL;
	return http_arg(req, name);
}

void
req_each_form(const struct request *req, void (*fn)(void *ctx, const char *name, const char *value),
	      void *ctx)
{
	struct http_arg *a;

	if (!req->kreq || strcmp(req->method, "POST"))
		return;
	TAILQ_FOREACH(a, &req->kreq->arguments, list)
	fn(ctx, a->name, a->s_value);
}

size_t
req_values(const struct request *req, int query, const char *name, const char ***out)
{
	struct request *mut = (struct request *)req;
	struct http_arg *a;
	size_t n = 0, cap = 8;

	(void)query;
	free(mut->values_tmp);
	mut->values_tmp = xcalloc(cap + 1, sizeof(char *));
	if (req->kreq) {
		TAILQ_FOREACH(a, &req->kreq->arguments, list)
		{
			if (strcmp(a->name, name))
				continue;
			if (n == cap) {
				cap *= 2;
				mut->values_tmp =
				    xrealloc(mut->values_tmp, (cap + 1) * sizeof(char *));
			}
			mut->values_tmp[n++] = a->s_value;
		}
	}
	mut->values_tmp[n] = NULL;
	*out = mut->values_tmp;
	return n;
}

/*
 * File parts are copied out of Kore's body (memory, or its disk offload)
 * into temporary files the first time a handler asks: the import code reads
 * a file by path, and the copy is deleted with the request.
 */
static void
http_load_uploads(struct request *r)
{
	struct http_file *f;
	char *chunk;

	r->uploads_loaded = 1;
	if (!r->kreq)
		return;
	chunk = xmalloc(HTTP_READ_CHUNK);
	TAILQ_FOREACH(f, &r->kreq->files, list)
	{
		char tmpl[4096];
		struct upload *u;
		int fd;
		ssize_t n;

		snprintf(tmpl, sizeof tmpl, "%s/tmp/upload-XXXXXX", r->cfg->var_dir);
		fd = mkstemp(tmpl);
		if (fd < 0) {
			log_error("http: cannot create upload file %s: %s", tmpl, strerror(errno));
			continue;
		}
		r->uploads = xrealloc(r->uploads, (r->nuploads + 1) * sizeof *r->uploads);
		u = &r->uploads[r->nuploads++];
		u->field = xstrdup(f->name);
		u->filename = xstrdup(f->filename ? f->filename : "");
		u->content_type = xstrdup("application/octet-stream");
		u->path = xstrdup(tmpl);
		u->size = 0;
		http_file_rewind(f);
		while ((n = http_file_read(f, chunk, HTTP_READ_CHUNK)) > 0) {
			if (write(fd, chunk, (size_t)n) != n) {
				log_error("http: writing upload: %s", strerror(errno));
				break;
			}
			u->size += (size_t)n;
		}
		close(fd);
	}
	free(chunk);
}

const struct upload *
req_upload(const struct request *req, const char *field)
{
	struct request *mut = (struct request *)req;
	size_t i;

	if (!req->uploads_loaded)
		http_load_uploads(mut);
	for (i = 0; i < req->nuploads; i++)
		if (strcmp(req->uploads[i].field, field) == 0)
			return &req->uploads[i];
	return NULL;
}

const char *
req_header(const struct request *req, const char *name)
{
	const char *v = NULL;

	if (!req->kreq || !http_request_header(req->kreq, name, &v))
		return NULL;
	return v;
}

const char *
req_cookie(const struct request *req, const char *name)
{
	char *v = NULL;

	if (!req->kreq || !http_request_cookie(req->kreq, name, &v))
		return NULL;
	return v;
}

const char *
req_client_ip(const struct request *req)
{
	return req->client_ip;
}

int
req_is_htmx(const struct request *req)
{
	const char *h = req_header(req, "HX-Request");

	return h && strcmp(h, "true") == 0;
}

int
req_wants_json(const struct request *req)
{
	const char *accept = req_header(req, "Accept");
	const char *json, *html;

	if (!accept || req_is_htmx(req))
		return 0;
	json = strstr(accept, "application/json");
	html = strstr(accept, "text/html");
	/* Browsers list text/html first; scripts ask for JSON alone or first. */
	return json && (!html || json < html);
}

int
req_is_https(const struct request *req)
{
	const char *proto;

	/*
	 * The public address decides: behind the TLS proxy Kore itself speaks
	 * plain HTTP, yet the browser sees https, so cookies must be Secure and
	 * HSTS sent whenever base_url says https.
	 */
	if (!strncasecmp(req->cfg->base_url, "https://", 8))
		return 1;
	proto = req->cfg->trust_proxy ? req_header(req, "X-Forwarded-Proto") : NULL;
	return proto && !strcasecmp(proto, "https");
}

int
req_too_large(const struct request *req)
{
	return req->kreq && req->kreq->content_length > req->cfg->http_body_max;
}

const struct route *
req_route(const struct request *req)
{
	return req->route;
}

const struct config *
req_config(const struct request *req)
{
	return req->cfg;
}

db_conn *
req_db(struct request *req)
{
	return req->db;
}

void
req_set_context(struct request *req, void *ctx, void (*free_ctx)(void *))
{
	if (req->free_ctx)
		req->free_ctx(req->ctx);
	req->ctx = ctx;
	req->free_ctx = free_ctx;
}

void *
req_context(const struct request *req)
{
	return req->ctx;
}

/* -------------------------------------------------------------- responses */

void
resp_header(struct request *req, const char *name, const char *value)
{
	req->headers = xrealloc(req->headers, (req->nheaders + 1) * sizeof *req->headers);
	req->headers[req->nheaders].key = xstrdup(name);
	req->headers[req->nheaders].value = xstrdup(value);
	req->nheaders++;
}

void
resp_body(struct request *req, unsigned status, const char *content_type, char *body, size_t len)
{
	if (req->sent) {
		log_error("http: %s %s: second response ignored", req->method, req->path);
		free(body);
		return;
	}
	buf_free(&req->body);
	req->body.data = body;
	req->body.len = len;
	req->body.cap = len;
	req->content_type = xstrdup(content_type);
	req->status = status;
	req->sent = 1;
}

void
resp_static(struct request *req, unsigned status, const char *content_type, const void *data,
	    size_t len)
{
	char *copy;

	if (req->sent)
		return;
	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	resp_body(req, status, content_type, copy, len);
}

void
resp_buf(struct request *req, unsigned status, const char *content_type, buf *b)
{
	size_t len = b->len;

	resp_body(req, status, content_type, buf_steal(b), len);
}

void
resp_text(struct request *req, unsigned status, const char *content_type, const char *text)
{
	resp_body(req, status, content_type, xstrdup(text), strlen(text));
}

void
resp_json(struct request *req, unsigned status, json_t *value)
{
	char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(value);
	if (!s)
		s = xstrdup("null");
	resp_body(req, status, "application/json; charset=utf-8", s, strlen(s));
}

void
resp_redirect(struct request *req, const char *location)
{
	if (req_is_htmx(req)) {
		resp_header(req, "HX-Redirect", location);
		resp_text(req, 200, "text/plain; charset=utf-8", "");
		return;
	}
	resp_header(req, "Location", location);
	resp_text(req, 303, "text/plain; charset=utf-8", "");
}

void
resp_file(struct request *req, unsigned status, const char *content_type, int fd, size_t size)
{
	buf b = BUF_INIT;
	ssize_t n;

	if (req->sent) {
		close(fd);
		return;
	}
	buf_reserve(&b, size + 1);
	while ((n = read(fd, b.data + b.len, b.cap - b.len)) > 0) {
		b.len += (size_t)n;
		if (b.len == b.cap)
			buf_reserve(&b, HTTP_READ_CHUNK);
	}
	close(fd);
	resp_buf(req, status, content_type, &b);
}

/*
 * A streamed body (a CSV export of 100,000 rows) is produced on the fiber,
 * where fill may run statements (a cursor's FETCHes), and spooled 64 KiB at a
 * time to a file under var/tmp that is unlinked at once: memory stays
 * bounded however long the export, and Kore sends the file with sendfile
 * once the handler is done. If no file can be made, it is built in memory.
 */
void
resp_stream(struct request *req, unsigned status, const char *content_type, resp_fill_fn fill,
	    void *cls, void (*done)(void *cls))
{
	char tmpl[4096], *chunk;
	buf b = BUF_INIT;
	ssize_t n;
	int fd;

	if (req->sent) {
		if (done)
			done(cls);
		return;
	}
	snprintf(tmpl, sizeof tmpl, "%s/tmp/stream-XXXXXX", req->cfg->var_dir);
	fd = mkstemp(tmpl);
	if (fd < 0) {
		log_warn("http: cannot spool a download (%s): building it in memory",
			 strerror(errno));
		for (;;) {
			buf_reserve(&b, HTTP_READ_CHUNK);
			n = fill(cls, b.data + b.len, b.cap - b.len);
			if (n < 0)
				break;
			b.len += (size_t)n;
		}
		if (done)
			done(cls);
		resp_buf(req, status, content_type, &b);
		return;
	}
	unlink(tmpl);
	chunk = xmalloc(HTTP_READ_CHUNK);
	req->spool_size = 0;
	while ((n = fill(cls, chunk, HTTP_READ_CHUNK)) >= 0) {
		if (n > 0 && write(fd, chunk, (size_t)n) != n) {
			log_error("http: spooling a download: %s", strerror(errno));
			break;
		}
		req->spool_size += (size_t)n;
	}
	free(chunk);
	if (done)
		done(cls);
	req->spool_fd = fd;
	req->spool_path = xstrdup(tmpl);
	req->content_type = xstrdup(content_type);
	req->status = status;
	req->sent = 1;
}

int
resp_sent(const struct request *req)
{
	return req->sent;
}

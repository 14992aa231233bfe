/*
 * http — libmicrohttpd glue: request state, bodies, dispatch, responses.
 *
 * libmicrohttpd calls the access handler several times per request: once with
 * the headers, then once per chunk of body, then once with no data. We set up
 * the request on the first call, feed the body to the PostProcessor on the
 * middle ones and run the handler on the last one. Answering on the first call
 * would be shorter, but DESIGN.md measured it silently disabling keep-alive
 * (about 4× less throughput), so even body-less GETs wait for the second call.
 *
 * Oversized bodies are read and thrown away up to a hard cap, then answered
 * with the 413 page: a browser that is still sending when the server closes
 * the connection shows "connection reset" instead of our message. Past the cap
 * (a client streaming forever) the 413 is sent at once and the connection
 * closed.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "router.h"
#include "static.h"

/* Throw away at most this many times the body limit before cutting the connection. */
#define HTTP_DISCARD_FACTOR 4
#define HTTP_POST_BUFFER 65536

struct kv {
	char *key;
	char *value;
	size_t len;
};

struct kvlist {
	struct kv *items;
	size_t n, cap;
};

struct request {
	struct MHD_Connection *conn;
	const struct config *cfg;
	char *method;
	char *path;
	struct timespec started;

	const struct route *route;
	struct route_params params;
	struct kvlist query;
	struct kvlist form;
	struct upload *uploads;
	size_t nuploads;
	int upload_fd; /* the file part being written, -1 when none */

	struct MHD_PostProcessor *pp;
	size_t body_bytes;
	int too_large;
	int body_error;

	db_conn *db;
	void *ctx;
	void (*free_ctx)(void *);

	/* the response being built */
	int sent;
	unsigned status;
	struct kvlist headers;
	struct MHD_Response *resp;
	size_t resp_bytes;
	const char **values_tmp; /* req_values' result array */

	struct stream *stream; /* a streamed body, shared with the MHD response */
};

/*
 * A streamed body outlives the handler and is shared by the request (which
 * reads its byte count for the access log) and the MHD response (which reads
 * the data); libmicrohttpd does not promise which of the two is released
 * first, so the last one to let go frees it.
 */
struct stream {
	atomic_int refs;
	resp_fill_fn fill;
	void *cls;
	void (*done)(void *);
	atomic_size_t bytes;
};

static struct {
	struct MHD_Daemon *daemon;
	const struct config *cfg;
	const struct route *routes;
	http_guard guard;
	http_identify identify;
	char *tls_key;
	char *tls_cert;
	atomic_int in_flight;
} http;

static void kv_add(struct kvlist *l, const char *key, const char *value, size_t len);
static void kv_append(struct kvlist *l, const char *data, size_t len);
static const struct kv *kv_find(const struct kvlist *l, const char *key);
static void kv_free(struct kvlist *l);
static enum MHD_Result http_collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
					  const char *value);
static enum MHD_Result http_post_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
					  const char *filename, const char *content_type,
					  const char *transfer_encoding, const char *data,
					  uint64_t off, size_t size);
static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls);
static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe);
static struct request *http_request_new(struct MHD_Connection *conn, const char *url,
					const char *method);
static void http_request_free(struct request *req);
static void http_body_chunk(struct request *req, const char *data, size_t size);
static void http_dispatch(struct request *req);
static enum MHD_Result http_queue(struct request *req);
static void http_security_headers(struct request *req, struct MHD_Response *resp);
static ssize_t http_stream_reader(void *cls, uint64_t pos, char *buf, size_t max);
static void http_stream_free(void *cls);
static void http_stream_unref(struct stream *st);
static char *http_read_file(const char *path);
static long http_elapsed_usec(const struct timespec *since);

/* ------------------------------------------------------------------ lists */

static void
kv_add(struct kvlist *l, const char *key, const char *value, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].value = xstrndup(value ? value : "", len);
	l->items[l->n].len = len;
	l->n++;
}

/* MHD may hand one field's value over in several pieces; they belong to the last entry. */
static void
kv_append(struct kvlist *l, const char *data, size_t len)
{
	struct kv *kv = &l->items[l->n - 1];

	kv->value = xrealloc(kv->value, kv->len + len + 1);
	memcpy(kv->value + kv->len, data, len);
	kv->len += len;
	kv->value[kv->len] = '\0';
}

static const struct kv *
kv_find(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return &l->items[i];
	return NULL;
}

static void
kv_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

/* --------------------------------------------------------------- requests */

static enum MHD_Result
http_collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct request *req = cls;

	(void)kind;
	kv_add(&req->query, key, value, value ? strlen(value) : 0);
	return MHD_YES;
}

static struct request *
http_request_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	struct request *req = xcalloc(1, sizeof *req);

	req->conn = conn;
	req->cfg = http.cfg;
	req->method = xstrdup(method);
	req->path = xstrdup(url);
	req->upload_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, http_collect_query, req);
	return req;
}

static void
http_request_free(struct request *req)
{
	size_t i;

	if (req->pp)
		MHD_destroy_post_processor(req->pp);
	if (req->upload_fd >= 0)
		close(req->upload_fd);
	for (i = 0; i < req->nuploads; i++) {
		if (req->uploads[i].path)
			unlink(req->uploads[i].path);
		free(req->uploads[i].field);
		free(req->uploads[i].filename);
		free(req->uploads[i].content_type);
		free(req->uploads[i].path);
	}
	free(req->uploads);
	if (req->db)
		db_release(req->db);
	if (req->free_ctx)
		req->free_ctx(req->ctx);
	if (req->resp)
		MHD_destroy_response(req->resp);
	if (req->stream)
		http_stream_unref(req->stream);
	router_params_free(&req->params);
	kv_free(&req->query);
	kv_free(&req->form);
	kv_free(&req->headers);
	free(req->values_tmp);
	free(req->method);
	free(req->path);
	free(req);
}

static enum MHD_Result
http_post_iterator(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
		   const char *content_type, const char *transfer_encoding, const char *data,
		   uint64_t off, size_t size)
{
	struct request *req = cls;

	(void)kind;
	(void)transfer_encoding;
	if (!filename) {
		if (off == 0 || req->form.n == 0 || strcmp(req->form.items[req->form.n - 1].key, key))
			kv_add(&req->form, key, data, size);
		else
			kv_append(&req->form, data, size);
		return MHD_YES;
	}

	/* A file part: a new one starts at offset 0, later chunks continue it. */
	if (off == 0) {
		char tmpl[4096];
		struct upload *u;

		if (req->upload_fd >= 0)
			close(req->upload_fd);
		snprintf(tmpl, sizeof tmpl, "%s/tmp/upload-XXXXXX", req->cfg->var_dir);
		req->upload_fd = mkstemp(tmpl);
		if (req->upload_fd < 0) {
			log_error("http: cannot create upload file %s: %s", tmpl, strerror(errno));
			req->body_error = 500;
			return MHD_NO;
		}
		req->uploads = xrealloc(req->uploads, (req->nuploads + 1) * sizeof *req->uploads);
		u = &req->uploads[req->nuploads++];
		u->field = xstrdup(key);
		u->filename = xstrdup(filename);
		u->content_type = xstrdup(content_type ? content_type : "application/octet-stream");
		u->path = xstrdup(tmpl);
		u->size = 0;
	}
	if (req->nuploads == 0 || req->upload_fd < 0)
		return MHD_NO;
	while (size > 0) {
		ssize_t n = write(req->upload_fd, data, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("http: writing upload: %s", strerror(errno));
			req->body_error = 500;
			return MHD_NO;
		}
		data += n;
		size -= (size_t)n;
		req->uploads[req->nuploads - 1].size += (size_t)n;
	}
	return MHD_YES;
}

static void
http_body_chunk(struct request *req, const char *data, size_t size)
{
	req->body_bytes += size;
	if (req->too_large || req->body_error)
		return;
	if (req->body_bytes > req->cfg->http_body_max) {
		req->too_large = 1;
		return;
	}
	if (!req->pp)
		return; /* a body type we do not read (handlers see no fields) */
	if (MHD_post_process(req->pp, data, size) != MHD_YES && !req->body_error)
		req->body_error = 400;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct request *req = *con_cls;

	(void)cls;
	(void)version;
	if (!req) {
		const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_LENGTH);

		req = http_request_new(conn, url, method);
		*con_cls = req;
		atomic_fetch_add(&http.in_flight, 1);
		if (clen && strtoull(clen, NULL, 10) > req->cfg->http_body_max)
			req->too_large = 1;
		else if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			req->pp = MHD_create_post_processor(conn, HTTP_POST_BUFFER,
							    http_post_iterator, req);
		return MHD_YES;
	}
	if (*upload_data_size) {
		http_body_chunk(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		if (req->too_large &&
		    req->body_bytes > HTTP_DISCARD_FACTOR * req->cfg->http_body_max) {
			render_error(req, 413, NULL);
			resp_header(req, "Connection", "close");
			return http_queue(req);
		}
		return MHD_YES;
	}
	if (req->sent)
		return MHD_YES; /* answered early (413 past the cap) */
	/* Destroying the PostProcessor delivers the last urlencoded value and tells us
	 * whether the body ended where it should. */
	if (req->pp) {
		if (MHD_destroy_post_processor(req->pp) != MHD_YES && !req->body_error &&
		    !req->too_large)
			req->body_error = 400;
		req->pp = NULL;
	}
	if (req->upload_fd >= 0) {
		close(req->upload_fd);
		req->upload_fd = -1;
	}
	http_dispatch(req);
	return http_queue(req);
}

static void
http_dispatch(struct request *req)
{
	char allowed[128];
	enum router_result r;

	if (strncmp(req->path, "/assets/", 8) == 0 || strcmp(req->path, "/favicon.ico") == 0) {
		if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
			render_method_not_allowed(req, "GET, HEAD");
		else if (!static_serve(req, req->path))
			render_error(req, 404, NULL);
		return;
	}
	r = router_match(http.routes, req->method, req->path, &req->route, &req->params, allowed,
			 sizeof allowed);
	if (r != ROUTER_FOUND && http.identify)
		http.identify(req);
	if (r == ROUTER_NOT_FOUND) {
		render_error(req, 404, NULL);
		return;
	}
	if (r == ROUTER_WRONG_METHOD) {
		render_method_not_allowed(req, allowed);
		return;
	}
	if ((req->too_large || req->body_error) && http.identify)
		http.identify(req);
	if (req->too_large) {
		render_error(req, 413, NULL);
		return;
	}
	if (req->body_error) {
		render_error(req, req->body_error,
			     req->body_error == 400 ? "The request body could not be read: it is "
						      "malformed or was cut short."
						    : NULL);
		return;
	}
	if (http.guard && http.guard(req, req->route) != 0) {
		if (!req->sent)
			render_error(req, 403, NULL);
		return;
	}
	req->route->handler(req);
	if (!req->sent) {
		log_error("http: %s %s: handler gave no response", req->method, req->path);
		render_error(req, 500, NULL);
	}
}

static void
http_security_headers(struct request *req, struct MHD_Response *resp)
{
	/*
	 * No inline script or style anywhere: htmx is told (in the layout) not to
	 * inject its indicator styles, so 'self' is enough and an injected
	 * <script> in user data could never run.
	 */
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; script-src 'self'; style-src 'self'; "
				"img-src 'self' data:; connect-src 'self'; form-action 'self'; "
				"frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Permissions-Policy",
				"camera=(), microphone=(), geolocation=(), payment=()");
	if (req_is_https(req))
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=31536000; includeSubDomains");
}

static enum MHD_Result
http_queue(struct request *req)
{
	enum MHD_Result ret;
	size_t i;

	if (!req->resp) {
		/* Every dispatch path sets a response; this is a last line of defence. */
		render_error(req, 500, NULL);
		if (!req->resp)
			return MHD_NO;
	}
	http_security_headers(req, req->resp);
	for (i = 0; i < req->headers.n; i++)
		MHD_add_response_header(req->resp, req->headers.items[i].key,
					req->headers.items[i].value);
	ret = MHD_queue_response(req->conn, req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	return ret;
}

static long
http_elapsed_usec(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;
	long usec;

	(void)cls;
	(void)conn;
	if (!req)
		return;
	usec = http_elapsed_usec(&req->started);
	if (req->stream)
		req->resp_bytes = atomic_load(&req->stream->bytes);
	/* A request the client abandoned before any answer is logged as 499, as nginx does. */
	if (!req->sent)
		req->status = 499;
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->status < 400)
		log_warn("http: %s %s: connection ended before the response was sent",
			 req->method, req->path);
	if (req->cfg->log_access)
		log_access(req->method, req->path, req->status, req->resp_bytes, usec);
	metrics_request(req->status, usec);
	http_request_free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&http.in_flight, 1);
}

/* ------------------------------------------------------------- lifecycle */

static char *
http_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

int
http_start(const struct config *cfg, const struct route *routes)
{
	struct sockaddr_in sin4;
	struct sockaddr_in6 sin6;
	struct sockaddr *addr;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
	char tmpdir[4096];

	http.cfg = cfg;
	http.routes = routes;
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", cfg->var_dir);
	if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST) {
		log_error("http: cannot create %s: %s", tmpdir, strerror(errno));
		return -1;
	}

	memset(&sin4, 0, sizeof sin4);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, cfg->bind_host, &sin4.sin_addr) == 1) {
		sin4.sin_family = AF_INET;
		sin4.sin_port = htons((uint16_t)cfg->bind_port);
		addr = (struct sockaddr *)&sin4;
	} else if (inet_pton(AF_INET6, cfg->bind_host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)cfg->bind_port);
		addr = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		log_error("http: bind address '%s' is not an IP address", cfg->bind_host);
		return -1;
	}

	if (cfg->tls_cert && cfg->tls_key) {
		http.tls_cert = http_read_file(cfg->tls_cert);
		http.tls_key = http_read_file(cfg->tls_key);
		if (!http.tls_cert || !http.tls_key) {
			log_error("http: cannot read TLS certificate %s or key %s", cfg->tls_cert,
				  cfg->tls_key);
			return -1;
		}
		flags |= MHD_USE_TLS;
		http.daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, http_access, NULL, MHD_OPTION_SOCK_ADDR, addr,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->workers,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http_timeout,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->http_conn_max,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->http_conn_per_ip,
			MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
			MHD_OPTION_HTTPS_MEM_KEY, http.tls_key, MHD_OPTION_HTTPS_MEM_CERT,
			http.tls_cert, MHD_OPTION_END);
	} else {
		http.daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, http_access, NULL, MHD_OPTION_SOCK_ADDR, addr,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->workers,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http_timeout,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->http_conn_max,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->http_conn_per_ip,
			MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_END);
	}
	if (!http.daemon) {
		log_error("http: cannot listen on %s:%d (in use, or not allowed)", cfg->bind_host,
			  cfg->bind_port);
		return -1;
	}
	return 0;
}

void
http_stop(int wait_seconds)
{
	int waited_ms = 0;

	if (!http.daemon)
		return;
	/* Stop accepting; requests already inside a handler finish and are answered. */
	MHD_quiesce_daemon(http.daemon);
	while (atomic_load(&http.in_flight) > 0 && waited_ms < wait_seconds * 1000) {
		usleep(20000);
		waited_ms += 20;
	}
	if (atomic_load(&http.in_flight) > 0)
		log_warn("http: stopping with %d request(s) still in flight",
			 atomic_load(&http.in_flight));
	MHD_stop_daemon(http.daemon);
	http.daemon = NULL;
	free(http.tls_cert);
	free(http.tls_key);
	http.tls_cert = http.tls_key = NULL;
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

/* --------------------------------------------------------------- encoding */

void
http_urlencode(buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

void
http_urldecode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
			   isxdigit((unsigned char)s[2])) {
			char h[3] = {s[1], s[2], '\0'};

			*w++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
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
	return router_param(&req->params, name);
}

const char *
req_query(const struct request *req, const char *name)
{
	const struct kv *kv = kv_find(&req->query, name);

	return kv ? kv->value : NULL;
}

const char *
req_form(const struct request *req, const char *name)
{
	const struct kv *kv = kv_find(&req->form, name);

	return kv ? kv->value : NULL;
}

size_t
req_values(const struct request *req, int query, const char *name, const char ***out)
{
	const struct kvlist *l = query ? &req->query : &req->form;
	struct request *mut = (struct request *)req;
	size_t i, n = 0;

	free(mut->values_tmp);
	mut->values_tmp = xcalloc(l->n + 1, sizeof(char *));
	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, name) == 0)
			mut->values_tmp[n++] = l->items[i].value;
	*out = mut->values_tmp;
	return n;
}

const struct upload *
req_upload(const struct request *req, const char *field)
{
	size_t i;

	for (i = 0; i < req->nuploads; i++)
		if (strcmp(req->uploads[i].field, field) == 0)
			return &req->uploads[i];
	return NULL;
}

const char *
req_header(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
req_cookie(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *
req_client_ip(const struct request *req)
{
	static __thread char text[INET6_ADDRSTRLEN];
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	text[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof text);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text,
			  sizeof text);
	return text;
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
	const char *accept = req_header(req, MHD_HTTP_HEADER_ACCEPT);
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
	return req->cfg->tls_cert != NULL;
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
	if (!req->db)
		req->db = db_acquire();
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
	kv_add(&req->headers, name, value, strlen(value));
}

void
resp_body(struct request *req, unsigned status, const char *content_type, char *body, size_t len)
{
	if (req->sent) {
		log_error("http: %s %s: second response ignored", req->method, req->path);
		free(body);
		return;
	}
	req->resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->status = status;
	req->resp_bytes = len;
	req->sent = 1;
}

void
resp_static(struct request *req, unsigned status, const char *content_type, const void *data,
	    size_t len)
{
	if (req->sent)
		return;
	req->resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->status = status;
	req->resp_bytes = len;
	req->sent = 1;
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
	resp_header(req, MHD_HTTP_HEADER_LOCATION, location);
	resp_text(req, 303, "text/plain; charset=utf-8", "");
}

void
resp_file(struct request *req, unsigned status, const char *content_type, int fd, size_t size)
{
	if (req->sent) {
		close(fd);
		return;
	}
	req->resp = MHD_create_response_from_fd((uint64_t)size, fd);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->status = status;
	req->resp_bytes = size;
	req->sent = 1;
}

static ssize_t
http_stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	(void)pos;
	n = st->fill(st->cls, out, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	atomic_fetch_add(&st->bytes, (size_t)n);
	return n;
}

static void
http_stream_unref(struct stream *st)
{
	if (atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	if (st->done)
		st->done(st->cls);
	free(st);
}

static void
http_stream_free(void *cls)
{
	http_stream_unref(cls);
}

void
resp_stream(struct request *req, unsigned status, const char *content_type, resp_fill_fn fill,
	    void *cls, void (*done)(void *cls))
{
	struct stream *st;

	if (req->sent) {
		if (done)
			done(cls);
		return;
	}
	st = xcalloc(1, sizeof *st);
	atomic_init(&st->refs, 2);
	st->fill = fill;
	st->cls = cls;
	st->done = done;
	req->stream = st;
	req->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
						      http_stream_reader, st, http_stream_free);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->status = status;
	req->sent = 1;
}

int
resp_sent(const struct request *req)
{
	return req->sent;
}

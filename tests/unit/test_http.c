/*
 * HTTP core against a real libmicrohttpd listener on a loopback port: body
 * parsing (urlencoded and multipart edge cases), uploads streamed to disk,
 * body limits, content negotiation, streamed responses, error pages.
 *
 * The handlers here are test doubles for application handlers; everything
 * between the socket and them is the production code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/render.h"
#include "core/static.h"
#include "itest.h"

static void h_echo(struct request *req);
static void h_page(struct request *req);
static void h_stream(struct request *req);
static void h_silent(struct request *req);

static struct config cfg;
static char base[64];
static char *last_upload_path;

static const struct route test_routes[] = {
	{"POST", "/echo", h_echo, ACCESS_PUBLIC, NULL},
	{"GET", "/page", h_page, ACCESS_PUBLIC, NULL},
	{"GET", "/stream", h_stream, ACCESS_PUBLIC, NULL},
	{"GET", "/silent", h_silent, ACCESS_PUBLIC, NULL},
	{NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};

/* Echoes every form field and every upload (with its bytes) as JSON. */
static void
h_echo(struct request *req)
{
	json_t *out = json_object(), *fields = json_object(), *ups = json_array();
	const char *names[] = {"a", "b", "c", "d", "title", "big", "segment", NULL};
	const char *files[] = {"file", "empty", "second", NULL};
	int i;

	for (i = 0; names[i]; i++) {
		const char **vals;
		size_t n = req_values(req, 0, names[i], &vals), j;
		json_t *arr = json_array();

		for (j = 0; j < n; j++)
			json_array_append_new(arr, json_string(vals[j]));
		if (n)
			json_object_set_new(fields, names[i], arr);
		else
			json_decref(arr);
	}
	for (i = 0; files[i]; i++) {
		const struct upload *u = req_upload(req, files[i]);
		buf content = BUF_INIT;
		char chunk[4096];
		ssize_t n;
		int fd;

		if (!u)
			continue;
		free(last_upload_path);
		last_upload_path = xstrdup(u->path);
		fd = open(u->path, O_RDONLY);
		while (fd >= 0 && (n = read(fd, chunk, sizeof chunk)) > 0)
			buf_append(&content, chunk, (size_t)n);
		if (fd >= 0)
			close(fd);
		/* hex, so that bytes that are not UTF-8 survive the trip through JSON */
		buf hex = BUF_INIT;
		size_t k;

		for (k = 0; k < content.len; k++)
			buf_printf(&hex, "%02x", (unsigned char)content.data[k]);
		json_array_append_new(ups, json_pack("{s:s, s:s, s:I, s:s}", "field", u->field,
						     "filename", u->filename, "size",
						     (json_int_t)u->size, "hex", hex.data ? hex.data : ""));
		buf_free(&hex);
		buf_free(&content);
	}
	json_object_set_new(out, "fields", fields);
	json_object_set_new(out, "uploads", ups);
	resp_json(req, 200, out);
}

static void
h_page(struct request *req)
{
	render(req, 200, "auth/login", json_pack("{s:s, s:s}", "title", "Sign in", "email", "<b>x</b>@example.com"));
}

struct counter {
	int left;
};

static ssize_t
fill_lines(void *cls, char *out, size_t max)
{
	struct counter *c = cls;
	int n;

	if (c->left == 0)
		return -1;
	n = snprintf(out, max, "line %d\n", c->left--);
	return n;
}

static void
h_stream(struct request *req)
{
	struct counter *c = xmalloc(sizeof *c);

	c->left = 3;
	resp_stream(req, 200, "text/csv; charset=utf-8", fill_lines, c, free);
}

static void
h_silent(struct request *req)
{
	(void)req; /* forgets to answer: the core must send a 500 page */
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	config_defaults(&cfg);
	free(cfg.var_dir);
	cfg.var_dir = xstrdup("var/test-unit");
	mkdir("var", 0755);
	mkdir(cfg.var_dir, 0755);
	cfg.http_body_max = 256 * 1024;
	cfg.log_access = 0;
	cfg.bind_port = itest_free_port();
	snprintf(base, sizeof base, "http://127.0.0.1:%d", cfg.bind_port);
	if (render_init(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "templates: %s\n", err);
		return -1;
	}
	if (static_load("assets") != 0)
		return -1;
	return http_start(&cfg, test_routes);
}

static int
teardown(void **state)
{
	(void)state;
	http_stop(5);
	render_shutdown();
	static_free();
	config_free(&cfg);
	free(last_upload_path);
	return 0;
}

/* The bytes of an echoed upload, decoded from hex (malloc'ed). */
static char *
unhex(json_t *upload, size_t *len)
{
	const char *h = json_string_value(json_object_get(upload, "hex"));
	size_t n = h ? strlen(h) / 2 : 0, i;
	char *out = xmalloc(n + 1);

	for (i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (char)v;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static json_t *
post(const char *content_type, const char *body, size_t len, long *status)
{
	char url[128], ct[256];
	const char *headers[] = {ct, NULL};
	struct itest_resp r;
	json_t *j = NULL;

	snprintf(url, sizeof url, "%s/echo", base);
	snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
	if (itest_http("POST", url, headers, body, len, &r) != 0)
		return NULL;
	*status = r.status;
	if (r.status == 200)
		j = json_loadb(r.body.data, r.body.len, 0, NULL);
	itest_resp_free(&r);
	return j;
}

static void
test_urlencoded(void **state)
{
	const char body[] = "a=1&a=2&b=x+y&c=%C3%A9t%C3%A9&d=&title=%3Cscript%3E";
	long status = 0;
	json_t *j = post("application/x-www-form-urlencoded", body, strlen(body), &status);
	json_t *f;

	(void)state;
	assert_int_equal(status, 200);
	assert_non_null(j);
	f = json_object_get(j, "fields");
	assert_int_equal(json_array_size(json_object_get(f, "a")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "a"), 1)), "2");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "b"), 0)), "x y");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "c"), 0)),
			    "\xc3\xa9t\xc3\xa9");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "d"), 0)), "");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "title"), 0)),
			    "<script>");
	json_decref(j);
}

static void
test_urlencoded_long_value(void **state)
{
	/* Longer than the PostProcessor's buffer: MHD hands it over in pieces. */
	buf body = BUF_INIT;
	long status = 0;
	json_t *j;
	const char *v;
	size_t i;

	(void)state;
	buf_puts(&body, "big=");
	for (i = 0; i < 150000; i++)
		buf_putc(&body, (char)('a' + i % 26));
	buf_puts(&body, "&segment=last");
	j = post("application/x-www-form-urlencoded", body.data, body.len, &status);
	assert_int_equal(status, 200);
	v = json_string_value(
		json_array_get(json_object_get(json_object_get(j, "fields"), "big"), 0));
	assert_non_null(v);
	assert_int_equal(strlen(v), 150000);
	assert_memory_equal(v, body.data + 4, 150000);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(j, "fields"), "segment"), 0)),
			    "last");
	json_decref(j);
	buf_free(&body);
}

static void
test_multipart_file_bytes_exact(void **state)
{
	/* CRLF, a lone CR, a NUL-free binary-ish tail and no final newline survive. */
	const char content[] = "Company Name,Segment Name\r\n\"Acme, Inc\",Fintech\rX\xc3\xa9\xff";
	buf body = BUF_INIT;
	long status = 0;
	json_t *j, *u;
	char *bytes;
	size_t len;

	(void)state;
	buf_puts(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
			"Q3 list\r\n"
			"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
			"filename=\"companies.csv\"\r\nContent-Type: text/csv\r\n\r\n");
	buf_append(&body, content, sizeof content - 1);
	buf_puts(&body, "\r\n--XyZ--\r\n");
	j = post("multipart/form-data; boundary=XyZ", body.data, body.len, &status);
	assert_int_equal(status, 200);
	assert_non_null(j);
	u = json_array_get(json_object_get(j, "uploads"), 0);
	assert_non_null(u);
	assert_string_equal(json_string_value(json_object_get(u, "filename")), "companies.csv");
	assert_int_equal(json_integer_value(json_object_get(u, "size")), sizeof content - 1);
	bytes = unhex(u, &len);
	assert_int_equal(len, sizeof content - 1);
	assert_memory_equal(bytes, content, sizeof content - 1);
	free(bytes);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(j, "fields"), "title"), 0)),
			    "Q3 list");
	json_decref(j);
	buf_free(&body);
	/* the temporary file is gone once the request is over */
	usleep(100000);
	assert_int_not_equal(access(last_upload_path, F_OK), 0);
}

static void
test_multipart_quoted_boundary_two_files(void **state)
{
	const char body[] = "--b 1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"
			    "one\r\n--b 1\r\nContent-Disposition: form-data; name=\"second\"; "
			    "filename=\"b.csv\"\r\n\r\n--b not a boundary\r\n--b 1--\r\n";
	long status = 0;
	json_t *j, *ups;
	char *bytes;
	size_t len;

	(void)state;
	j = post("multipart/form-data; boundary=\"b 1\"", body, sizeof body - 1, &status);
	assert_int_equal(status, 200);
	ups = json_object_get(j, "uploads");
	assert_int_equal(json_array_size(ups), 2);
	bytes = unhex(json_array_get(ups, 0), &len);
	assert_string_equal(bytes, "one");
	free(bytes);
	bytes = unhex(json_array_get(ups, 1), &len);
	assert_string_equal(bytes, "--b not a boundary");
	free(bytes);
	json_decref(j);
}

static void
test_multipart_truncated_is_400(void **state)
{
	const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
			    "filename=\"a.csv\"\r\n\r\nhalf a file";
	char url[128];
	const char *headers[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
	struct itest_resp r;

	(void)state;
	snprintf(url, sizeof url, "%s/echo", base);
	assert_int_equal(itest_http("POST", url, headers, body, sizeof body - 1, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "could not be read"));
	itest_resp_free(&r);
}

static void
test_body_too_large_gets_413_page(void **state)
{
	size_t len = 300 * 1024;
	char *body = xmalloc(len);
	char url[128];
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	struct itest_resp r;

	(void)state;
	memset(body, 'a', len);
	snprintf(url, sizeof url, "%s/echo", base);
	assert_int_equal(itest_http("POST", url, headers, body, len, &r), 0);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body.data, "<html"));
	itest_resp_free(&r);
	free(body);
}

static void
test_negotiation(void **state)
{
	char url[128];
	const char *hx[] = {"HX-Request: true", NULL};
	const char *js[] = {"Accept: application/json", NULL};
	struct itest_resp r;
	json_t *j;

	(void)state;
	snprintf(url, sizeof url, "%s/page", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "<!doctype html>"));
	/* user data is escaped by the template engine */
	assert_non_null(strstr(r.body.data, "&lt;b&gt;x&lt;/b&gt;@example.com"));
	assert_null(strstr(r.body.data, "<b>x</b>"));
	itest_resp_free(&r);

	assert_int_equal(itest_http("GET", url, hx, NULL, 0, &r), 0);
	assert_null(strstr(r.body.data, "<!doctype html>"));
	assert_non_null(strstr(r.body.data, "<form"));
	itest_resp_free(&r);

	assert_int_equal(itest_http("GET", url, js, NULL, 0, &r), 0);
	j = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "email")), "<b>x</b>@example.com");
	json_decref(j);
	itest_resp_free(&r);
}

static void
test_stream(void **state)
{
	char url[128];
	struct itest_resp r;

	(void)state;
	snprintf(url, sizeof url, "%s/stream", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "line 3\nline 2\nline 1\n");
	itest_resp_free(&r);
}

static void
test_errors_and_headers(void **state)
{
	char url[128], *h;
	struct itest_resp r;

	(void)state;
	snprintf(url, sizeof url, "%s/nowhere", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	h = itest_header(&r, "Content-Security-Policy");
	assert_non_null(h);
	assert_non_null(strstr(h, "frame-ancestors 'none'"));
	free(h);
	itest_resp_free(&r);

	snprintf(url, sizeof url, "%s/page", base);
	assert_int_equal(itest_http("DELETE", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 405);
	h = itest_header(&r, "Allow");
	assert_string_equal(h, "GET, HEAD");
	free(h);
	itest_resp_free(&r);

	snprintf(url, sizeof url, "%s/silent", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 500);
	itest_resp_free(&r);
}

static void
test_static_assets(void **state)
{
	char url[256], inm[128], *etag, *type;
	const char *headers[] = {inm, NULL};
	struct itest_resp r;

	(void)state;
	snprintf(url, sizeof url, "%s/assets/css/spanner.css", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	type = itest_header(&r, "Content-Type");
	assert_string_equal(type, "text/css; charset=utf-8");
	etag = itest_header(&r, "ETag");
	assert_non_null(etag);
	free(type);
	itest_resp_free(&r);

	snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
	assert_int_equal(itest_http("GET", url, headers, NULL, 0, &r), 0);
	assert_int_equal(r.status, 304);
	itest_resp_free(&r);
	free(etag);

	snprintf(url, sizeof url, "%s/assets/../src/main.c", base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	itest_resp_free(&r);

	assert_string_equal(static_mime_type("x.js"), "text/javascript; charset=utf-8");
	assert_string_equal(static_mime_type("x.svg"), "image/svg+xml");
	assert_string_equal(static_mime_type("x.unknown"), "application/octet-stream");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_long_value),
		cmocka_unit_test(test_multipart_file_bytes_exact),
		cmocka_unit_test(test_multipart_quoted_boundary_two_files),
		cmocka_unit_test(test_multipart_truncated_is_400),
		cmocka_unit_test(test_body_too_large_gets_413_page),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_errors_and_headers),
		cmocka_unit_test(test_static_assets),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

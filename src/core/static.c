/*
 * static — assets/ read into memory at start and served with validators.
 *
 * Nothing under assets/ is looked up on disk per request, so no request path
 * can reach a file outside it ("../" has nothing to walk).
 */
#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"

struct asset {
	char *url;  /* "/assets/css/spanner.css" */
	char *data;
	size_t len;
	const char *mime;
	char etag[24];
};

static struct {
	struct asset *items;
	size_t n, cap;
	char version[16];
} assets;

static int static_walk(const char *dir, const char *url_prefix);
static int static_add(const char *path, const char *url);
static uint64_t static_hash(const void *data, size_t len, uint64_t h);
static const struct asset *static_find(const char *url);

/* FNV-1a: tiny, and collisions only cost a needless re-download. */
static uint64_t
static_hash(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

const char *
static_mime_type(const char *name)
{
	static const struct {
		const char *ext;
		const char *mime;
	} types[] = {
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".jpg", "image/jpeg"},
		{".ico", "image/x-icon"},
		{".woff2", "font/woff2"},
		{".json", "application/json"},
		{".map", "application/json"},
		{".csv", "text/csv; charset=utf-8"},
		{".txt", "text/plain; charset=utf-8"},
		{".html", "text/html; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot)
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].mime;
	return "application/octet-stream";
}

static int
static_add(const char *path, const char *url)
{
	FILE *f = fopen(path, "rb");
	buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	struct asset *a;

	if (!f) {
		log_error("static: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (assets.n == assets.cap) {
		assets.cap = assets.cap ? assets.cap * 2 : 16;
		assets.items = xrealloc(assets.items, assets.cap * sizeof *assets.items);
	}
	a = &assets.items[assets.n++];
	a->len = b.len;
	a->data = buf_steal(&b);
	a->url = xstrdup(url);
	a->mime = static_mime_type(url);
	snprintf(a->etag, sizeof a->etag, "\"%016llx\"",
		 (unsigned long long)static_hash(a->data, a->len, 0xcbf29ce484222325ULL));
	return 0;
}

static int
static_walk(const char *dir, const char *url_prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		log_error("static: cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		char path[4096], url[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		snprintf(url, sizeof url, "%s/%s", url_prefix, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = static_walk(path, url);
		else if (S_ISREG(st.st_mode))
			rc = static_add(path, url);
	}
	closedir(d);
	return rc;
}

static int
static_cmp(const void *a, const void *b)
{
	return strcmp(((const struct asset *)a)->url, ((const struct asset *)b)->url);
}

int
static_load(const char *dir)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	if (static_walk(dir, "/assets") != 0)
		return -1;
	/* Sorted for bsearch, and so the version does not depend on readdir order. */
	qsort(assets.items, assets.n, sizeof *assets.items, static_cmp);
	for (i = 0; i < assets.n; i++)
		h = static_hash(assets.items[i].etag, strlen(assets.items[i].etag), h);
	snprintf(assets.version, sizeof assets.version, "%012llx",
		 (unsigned long long)(h & 0xffffffffffffULL));
	log_info("static: %zu assets loaded from %s (version %s)", assets.n, dir, assets.version);
	return 0;
}

void
static_free(void)
{
	size_t i;

	for (i = 0; i < assets.n; i++) {
		free(assets.items[i].url);
		free(assets.items[i].data);
	}
	free(assets.items);
	memset(&assets, 0, sizeof assets);
}

const char *
static_version(void)
{
	return assets.version;
}

static const struct asset *
static_find(const char *url)
{
	struct asset key = {0};

	key.url = (char *)url;
	if (!assets.n)
		return NULL;
	return bsearch(&key, assets.items, assets.n, sizeof *assets.items, static_cmp);
}

int
static_serve(struct request *req, const char *path)
{
	const struct asset *a;
	const char *inm, *v;

	a = static_find(strcmp(path, "/favicon.ico") == 0 ? "/assets/favicon.svg" : path);
	if (!a)
		return 0;
	v = req_query(req, "v");
	/* A versioned URL never changes content; an unversioned one is revalidated. */
	resp_header(req, "Cache-Control",
		    v && strcmp(v, assets.version) == 0 ? "public, max-age=31536000, immutable"
							: "no-cache");
	resp_header(req, "ETag", a->etag);
	inm = req_header(req, "If-None-Match");
	if (inm && strstr(inm, a->etag)) {
		resp_static(req, 304, a->mime, "", 0);
		return 1;
	}
	resp_static(req, 200, a->mime, a->data, a->len);
	return 1;
}

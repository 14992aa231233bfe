/*
 * static — the asset fingerprint (see static.h): an FNV-1a hash per file,
 * combined in path order so the version does not depend on readdir order.
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
	char *url; /* "/assets/css/spanner.css" */
	uint64_t hash;
};

static struct {
	struct asset *items;
	size_t n, cap;
	char version[16];
} assets;

static int static_walk(const char *dir, const char *url_prefix);
static int static_add(const char *path, const char *url);
static uint64_t static_hash(const void *data, size_t len, uint64_t h);

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

static int
static_add(const char *path, const char *url)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 0xcbf29ce484222325ULL;
	char chunk[8192];
	size_t n;
	struct asset *a;

	if (!f) {
		log_error("static: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		h = static_hash(chunk, n, h);
	fclose(f);
	if (assets.n == assets.cap) {
		assets.cap = assets.cap ? assets.cap * 2 : 16;
		assets.items = xrealloc(assets.items, assets.cap * sizeof *assets.items);
	}
	a = &assets.items[assets.n++];
	a->url = xstrdup(url);
	a->hash = h;
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
	qsort(assets.items, assets.n, sizeof *assets.items, static_cmp);
	for (i = 0; i < assets.n; i++) {
		h = static_hash(assets.items[i].url, strlen(assets.items[i].url), h);
		h = static_hash(&assets.items[i].hash, sizeof assets.items[i].hash, h);
	}
	snprintf(assets.version, sizeof assets.version, "%012llx",
		 (unsigned long long)(h & 0xffffffffffffULL));
	log_info("static: %zu assets in %s (version %s)", assets.n, dir, assets.version);
	return 0;
}

const char *
static_version(void)
{
	return assets.version;
}

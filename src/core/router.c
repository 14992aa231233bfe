/*
 * router — method + path → route, with {name} captures.
 *
 * HEAD is answered by GET routes (libmicrohttpd leaves the body out), so a
 * page can be probed with `curl -I` without a second table entry.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int router_path_matches(const char *pattern, const char *path, struct route_params *params);
static int router_method_matches(const char *route_method, const char *method);

static int
router_method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

/*
 * Compares segment by segment. When params is NULL nothing is captured, which
 * is how the 405 scan checks "does this path exist at all" without allocating.
 */
static int
router_path_matches(const char *pattern, const char *path, struct route_params *params)
{
	const char *p = pattern, *s = path;

	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			const char *end = strchr(s, '/');
			size_t vlen = end ? (size_t)(end - s) : strlen(s);
			size_t nlen;

			if (!close || vlen == 0)
				return 0;
			nlen = (size_t)(close - p - 1);
			if (params) {
				if (params->n >= ROUTER_MAX_PARAMS || nlen >= sizeof params->p[0].name)
					return 0;
				memcpy(params->p[params->n].name, p + 1, nlen);
				params->p[params->n].name[nlen] = '\0';
				params->p[params->n].value = xstrndup(s, vlen);
				params->n++;
			}
			p = close + 1;
			s += vlen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

enum router_result
router_match(const struct route *routes, const char *method, const char *path,
	     const struct route **out, struct route_params *params, char *allowed,
	     size_t allowed_len)
{
	const struct route *r;
	size_t used = 0;
	int path_seen = 0;

	params->n = 0;
	*out = NULL;
	for (r = routes; r->method; r++) {
		if (!router_method_matches(r->method, method))
			continue;
		if (router_path_matches(r->pattern, path, params)) {
			*out = r;
			return ROUTER_FOUND;
		}
		router_params_free(params);
	}
	if (allowed_len)
		allowed[0] = '\0';
	for (r = routes; r->method; r++) {
		if (!router_path_matches(r->pattern, path, NULL))
			continue;
		/* List each method once; GET implies HEAD. */
		if (!strstr(allowed, r->method)) {
			int n = snprintf(allowed + used, allowed_len - used, "%s%s%s",
					 used ? ", " : "", r->method,
					 strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
			if (n > 0 && (size_t)n < allowed_len - used)
				used += (size_t)n;
		}
		path_seen = 1;
	}
	return path_seen ? ROUTER_WRONG_METHOD : ROUTER_NOT_FOUND;
}

void
router_params_free(struct route_params *params)
{
	int i;

	for (i = 0; i < params->n; i++)
		free(params->p[i].value);
	params->n = 0;
}

const char *
router_param(const struct route_params *params, const char *name)
{
	int i;

	for (i = 0; i < params->n; i++)
		if (strcmp(params->p[i].name, name) == 0)
			return params->p[i].value;
	return NULL;
}

/*
 * router — matches a method and a path against the route table.
 *
 * Patterns are literal segments and {name} captures ("/companies/{id}/peek");
 * a capture matches one non-empty segment. The table is small (tens of
 * routes), so a linear scan segment by segment is both the simplest and, at
 * well under a microsecond, fast enough; no allocation happens on a miss.
 */
#ifndef SPANNER_ROUTER_H
#define SPANNER_ROUTER_H

#include <stddef.h>

#include "http.h"

#define ROUTER_MAX_PARAMS 4

struct route_params {
	int n;
	struct {
		char name[32];
		char *value; /* malloc'ed */
	} p[ROUTER_MAX_PARAMS];
};

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,      /* no pattern matches the path: 404 */
	ROUTER_WRONG_METHOD,   /* the path exists for other methods: 405 with allowed */
};

/*
 * Finds the route for method and path. On ROUTER_FOUND *out is the route and
 * params holds the captures (free with router_params_free). On
 * ROUTER_WRONG_METHOD, allowed receives "GET, POST" style text.
 */
enum router_result router_match(const struct route *routes, const char *method, const char *path,
				const struct route **out, struct route_params *params,
				char *allowed, size_t allowed_len);
void router_params_free(struct route_params *params);
const char *router_param(const struct route_params *params, const char *name);

#endif

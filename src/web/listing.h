/*
 * listing — what every list page (companies, the approval queue, contacts)
 * shares about its filters: the query string that carries them, and the
 * links and count that must follow them.
 *
 * Everything that depends on the filters — the "Next page" link, the count,
 * the CSV export — is built here from one query string and rendered inside
 * the list's results region (templates/list/_summary.mustache), the region a
 * filter change swaps. So no link can keep an old filter after a live search,
 * with JavaScript on or off.
 */
#ifndef SPANNER_LISTING_H
#define SPANNER_LISTING_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"

struct listing_param {
	const char *name;
	const char *value; /* NULL = not in use */
};

/* Appends the parameters in use as a query string (no '?'), URL-encoded. */
void listing_query(buf *out, const struct listing_param *params, size_t n);

struct listing {
	const char *base;	 /* the list's path, e.g. "/companies" */
	const char *export_path; /* e.g. "/companies/export.csv", or NULL */
	const char *query;	 /* listing_query of the filters */
	const char *next_cursor; /* the next page's cursor, or NULL at the end */
	long long total;	 /* rows the filters list; < 0 = not counted */
	int capped;		 /* total is a lower bound */
	const char *one, *many;	 /* "company", "companies" */
	int filtered;		 /* any filter in use: "3 companies match" */
};

/*
 * "55,040 companies", "1 company matches", "10,000+ companies match": every
 * list's count, written one way. Returns out.
 */
const char *listing_count_text(long long total, int capped, const char *one, const char *many,
			       int filtered, char *out, size_t outlen);

/*
 * The view model {query, base_url, next_url, export_url, count_text}:
 * base_url is the first page with the same filters, next_url the next page
 * ("" at the end), export_url the export with the same filters ("" without).
 */
json_t *listing_vm(const struct listing *l);

/*
 * The lists' duplicate toggle (query parameter `duplicates`): absent = hidden
 * (0), "only" = only the duplicates (2, what /admin/dedup links to), anything
 * else = shown too (1); and back to the parameter's value (NULL for 0).
 */
int listing_duplicates(const char *value);
const char *listing_duplicates_param(int show_duplicates);

#endif

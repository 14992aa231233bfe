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

struct request;
struct db_conn;

/* How a module lists its records: each takes the module's own filter struct. */
struct listing_source {
	json_t *(*list)(struct db_conn *db, const void *filter, char **next);
	long long (*count)(struct db_conn *db, const void *filter, int *capped);
	/* the filters as a query string (no cursor) */
	void (*query)(const void *filter, int queue, buf *out);
	/* the filter bar's view model, with "active"; with_options 0 skips the pick lists */
	json_t *(*filters)(struct db_conn *db, const void *filter, int queue, const char *base,
			   int with_options);
};

/* One list page's words, paths and templates (a list, or an approval queue's tab). */
struct listing_view {
	const char *title;
	const char *base;	 /* "/companies", "/approvals/contacts" */
	const char *export_path; /* or NULL */
	const char *one, *many;	 /* for the count */
	const char *tmpl;	 /* the page */
	const char *rows_tmpl;	 /* the rows of a next page (infinite scroll) */
	const char *tab;	 /* the approval queue's tab ("companies"), or NULL */
};

/*
 * Renders one page of a list: the rows from after (the filter's cursor), the
 * count, the filter bar, the "next page" and export links from one query
 * string, the queue's tabs with their counts; an htmx request for a next
 * page gets only its rows. problem (a filter that could not be used, already
 * dropped from filter) is said above the rows. Renders the database error
 * page itself when a query fails.
 */
void listing_page(struct request *req, const struct listing_source *src,
		  const struct listing_view *v, const void *filter, const char *after, int queue,
		  const char *problem);

/* Marks the entry of list ([{id, …}]) whose id is selected ("selected": true); returns list. */
json_t *listing_options_selected(json_t *list, const char *selected);

/* A field getter (records_get_fn) over the request's form. */
const char *listing_form_get(void *req, const char *column);

/* Only a local path may be a redirect target: to, or fallback when it is not one. */
const char *listing_safe_return(const char *to, const char *fallback);

/* What an export streams: its cursor opened over filter, then batches of CSV. */
struct listing_export {
	const char *entity;   /* for the audit row: "company", "contact" */
	const char *filename; /* "companies.csv" */
	int (*open)(struct db_conn *tx, const void *filter);
	int (*fetch)(struct db_conn *tx, buf *out, int *header_done);
};

/*
 * The CSV export of exactly the filtered rows (filter: the module's, with
 * no cursor and no limit): refused with problem (400) when the filter cannot
 * be used; else audits the export (with the filters' query string) in its
 * own transaction first — a cut download still happened — then streams the
 * cursor through resp_stream, batch by batch.
 */
void listing_export(struct request *req, const struct listing_source *src,
		    const struct listing_export *e, const void *filter, const char *problem);

/*
 * The lists' duplicate toggle (query parameter `duplicates`): absent = hidden
 * (0), "only" = only the duplicates (2, what /admin/dedup links to), anything
 * else = shown too (1); and back to the parameter's value (NULL for 0).
 */
int listing_duplicates(const char *value);
const char *listing_duplicates_param(int show_duplicates);

#endif

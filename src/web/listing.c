/*
 * listing — the filter query string and the links and count built from it.
 *
 * One function writes the query string and every link is derived from it,
 * so the export, the next page and "back to the first page" cannot disagree
 * with the rows on screen.
 */
#include "listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/format.h"
#include "core/http.h"
#include "core/log.h"
#include "core/render.h"
#include "core/url.h"
#include "domain/audit.h"
#include "web/approvals.h"
#include "web/session.h"

void
listing_query(buf *out, const struct listing_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!params[i].value)
			continue;
		buf_printf(out, "%s%s=", out->len ? "&" : "", params[i].name);
		url_encode(out, params[i].value);
	}
}

const char *
listing_count_text(long long total, int capped, const char *one, const char *many, int filtered,
		   char *out, size_t outlen)
{
	size_t len;

	format_count_noun(total, capped, one, many, out, outlen);
	len = strlen(out);
	if (filtered && len < outlen)
		snprintf(out + len, outlen - len, " %s",
			 total == 1 && !capped ? "matches" : "match");
	return out;
}

/* path?query (or just path), plus "&" or "?" then extra when given. */
static json_t *
listing_url(const char *path, const char *query, const char *extra_name, const char *extra)
{
	buf url = BUF_INIT;
	json_t *s;

	buf_puts(&url, path);
	if (query && *query)
		buf_printf(&url, "?%s", query);
	if (extra) {
		buf_printf(&url, "%s%s=", query && *query ? "&" : "?", extra_name);
		url_encode(&url, extra);
	}
	s = json_string(url.data);
	buf_free(&url);
	return s;
}

json_t *
listing_vm(const struct listing *l)
{
	json_t *vm = json_object();
	char text[96];

	json_object_set_new(vm, "query", json_string(l->query ? l->query : ""));
	json_object_set_new(vm, "base_url", listing_url(l->base, l->query, NULL, NULL));
	json_object_set_new(vm, "next_url",
			    l->next_cursor ? listing_url(l->base, l->query, "after", l->next_cursor)
					   : json_string(""));
	json_object_set_new(vm, "export_url",
			    l->export_path ? listing_url(l->export_path, l->query, NULL, NULL)
					   : json_string(""));
	if (l->total >= 0)
		json_object_set_new(
		    vm, "count_text",
		    json_string(listing_count_text(l->total, l->capped, l->one, l->many,
						   l->filtered, text, sizeof text)));
	return vm;
}

json_t *
listing_options_selected(json_t *list, const char *selected)
{
	size_t i;
	json_t *o;

	json_array_foreach(list, i, o)
	{
		const char *id = json_string_value(json_object_get(o, "id"));

		json_object_set_new(o, "selected",
				    json_boolean(selected && id && !strcmp(id, selected)));
	}
	return list;
}

const char *
listing_form_get(void *req, const char *column)
{
	return req_form(req, column);
}

const char *
listing_safe_return(const char *to, const char *fallback)
{
	return url_is_local_path(to) ? to : fallback;
}

/* ------------------------------------------------------------------ export */

struct export_state {
	db_conn *db;
	int (*fetch)(db_conn *tx, buf *out, int *header_done);
	const char *entity;
	buf pending;
	size_t sent;
	int header_done;
	int finished;
};

static ssize_t
export_fill(void *cls, char *out, size_t max)
{
	struct export_state *st = cls;
	size_t n;

	while (st->sent == st->pending.len && !st->finished) {
		int rows;

		buf_reset(&st->pending);
		st->sent = 0;
		rows = st->fetch(st->db, &st->pending, &st->header_done);
		if (rows < 0) {
			log_error("%s export stopped: %s", st->entity, db_error_message(st->db));
			return -1; /* the client sees a cut file rather than a silent one */
		}
		if (rows == 0) {
			st->finished = 1;
			db_commit(st->db);
		}
	}
	if (st->sent == st->pending.len)
		return -1;
	n = st->pending.len - st->sent;
	if (n > max)
		n = max;
	memcpy(out, st->pending.data + st->sent, n);
	st->sent += n;
	return (ssize_t)n;
}

static void
export_done(void *cls)
{
	struct export_state *st = cls;

	buf_free(&st->pending);
	free(st);
}

void
listing_export(struct request *req, const struct listing_source *src,
	       const struct listing_export *e, const void *filter, const char *problem)
{
	struct export_state *st;
	char disposition[128];
	db_conn *db = req_db(req);
	buf q = BUF_INIT;
	int failed;

	if (problem) {
		render_error(req, 400, problem);
		return;
	}
	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	src->query(filter, 0, &q);
	failed = db_begin(db) != 0 ||
		 audit_record(db, session_user(req)->id, "export", e->entity, NULL,
			      json_pack("{s:s}", "filters", q.data ? q.data : "")) != 0 ||
		 db_commit(db) != 0 || db_begin(db) != 0 || e->open(db, filter) != 0;
	buf_free(&q);
	if (failed) {
		db_rollback(db);
		render_db_error(req, db);
		return;
	}
	st = xcalloc(1, sizeof *st);
	st->db = db;
	st->fetch = e->fetch;
	st->entity = e->entity;
	snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", e->filename);
	resp_header(req, "Content-Disposition", disposition);
	resp_header(req, "Cache-Control", "no-store");
	resp_stream(req, 200, "text/csv; charset=utf-8", export_fill, st, export_done);
}

/* ------------------------------------------------------------------ a page */

void
listing_page(struct request *req, const struct listing_source *src, const struct listing_view *v,
	     const void *filter, const char *after, int queue, const char *problem)
{
	struct listing l;
	char *next = NULL;
	json_t *rows, *vm, *filters, *tabs = NULL;
	db_conn *db = req_db(req);
	buf q = BUF_INIT;
	int rows_only, capped = 0;
	long long total = -1;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	rows = src->list(db, filter, &next);
	if (!rows) {
		render_db_error(req, db);
		return;
	}
	/* the next page of an infinite scroll wants only its rows, and no count */
	rows_only = req_is_htmx(req) && after;
	if (!rows_only && (total = src->count(db, filter, &capped)) < 0) {
		json_decref(rows);
		free(next);
		render_db_error(req, db);
		return;
	}
	src->query(filter, queue, &q);
	filters = src->filters(db, filter, queue, v->base, !rows_only);
	/* An unfiltered queue's count is its tab's: counted once, not twice. */
	if (!rows_only && v->tab &&
	    !(tabs = approvals_tabs(db, v->tab,
				    json_is_true(json_object_get(filters, "active")) ? -1 : total,
				    capped))) {
		json_decref(rows);
		json_decref(filters);
		free(next);
		buf_free(&q);
		render_db_error(req, db);
		return;
	}
	l = (struct listing){
	    v->base, v->export_path, q.data ? q.data : "",
	    next,    total,	     capped,
	    v->one,  v->many,	     json_is_true(json_object_get(filters, "active"))};
	vm = json_pack("{s:s, s:o, s:o, s:o, s:b, s:b}", "title", v->title, "rows", rows, "list",
		       listing_vm(&l), "filters", filters, "queue", queue, "first_page",
		       after == NULL);
	json_object_set(vm, "next_url", json_object_get(json_object_get(vm, "list"), "next_url"));
	json_object_set_new(vm, "empty", json_boolean(json_array_size(rows) == 0 && !after));
	if (tabs)
		json_object_set_new(vm, "tabs", tabs);
	if (problem)
		json_object_set_new(vm, "filter_error", json_string(problem));
	free(next);
	buf_free(&q);
	render(req, 200, rows_only ? v->rows_tmpl : v->tmpl, vm);
}

int
listing_duplicates(const char *value)
{
	if (!value || !*value)
		return 0;
	return strcmp(value, "only") == 0 ? 2 : 1;
}

const char *
listing_duplicates_param(int show_duplicates)
{
	return show_duplicates == 2 ? "only" : show_duplicates ? "1" : NULL;
}

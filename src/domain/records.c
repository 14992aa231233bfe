/*
 * records — field cleaning and list plumbing shared by companies and contacts.
 *
 * Written once here so that a company and a contact are normalised by the
 * same code whichever way they come in, and so that every list parses its
 * dates and page links the same way (and refuses the same bad ones).
 */
#include "records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/csvout.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/normalise.h"
#include "domain/validate.h"

/* ------------------------------------------------------------- field rules */

json_t *
records_field_json(const struct record_field *f, json_t *value)
{
	return json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:i}", "column", f->column,
			 "label", f->label, "value", value ? value : json_null(), "long",
			 f->kind == RF_LONG, "url", f->kind == RF_URL, "year", f->kind == RF_YEAR,
			 "email", f->kind == RF_EMAIL, "required", f->required, "max", (int)f->max);
}

int
records_field_index(const struct record_field *fields, size_t n, const char *column)
{
	size_t i;

	for (i = 0; column && i < n; i++)
		if (strcmp(fields[i].column, column) == 0)
			return (int)i;
	return -1;
}

/* The one normalisation per kind (SPEC §2). */
static char *
records_normalise(enum record_field_kind kind, const char *raw)
{
	switch (kind) {
	case RF_NAME:
		return normalise_company_name(raw);
	case RF_URL:
		return normalise_url(raw);
	case RF_LONG:
		return normalise_multiline(raw);
	case RF_EMAIL:
		return normalise_email(raw);
	default:
		return normalise_text(raw);
	}
}

/* What is wrong with a normalised, non-empty value of kind (before its length), or NULL. */
static const char *
records_kind_problem(enum record_field_kind kind, const char *v)
{
	time_t now;
	struct tm tm;
	int year;

	switch (kind) {
	case RF_URL:
		return validate_url(v);
	case RF_EMAIL:
		return validate_email(v);
	case RF_YEAR:
		now = time(NULL);
		gmtime_r(&now, &tm);
		return validate_year(v, 1800, tm.tm_year + 1900, &year);
	default:
		return NULL;
	}
}

int
records_clean(const struct record_field *fields, size_t n, records_get_fn get, void *ctx,
	      int partial, char **out, int *present, json_t *errors)
{
	size_t i;
	int nerr = 0;

	for (i = 0; i < n; i++) {
		const struct record_field *f = &fields[i];
		const char *raw = get(ctx, f->column);
		const char *problem = NULL;

		out[i] = NULL;
		if (present)
			present[i] = raw != NULL;
		if (!raw && partial)
			continue;
		/* The database holds UTF-8 only: say so on the field rather than fail the save. */
		if (raw && (problem = validate_utf8(raw, strlen(raw))) != NULL) {
			json_object_set_new(errors, f->column, json_string(problem));
			nerr++;
			continue;
		}
		out[i] = records_normalise(f->kind, raw);
		if (!out[i]) {
			if (f->required)
				problem = "This field is required.";
		} else {
			problem = records_kind_problem(f->kind, out[i]);
		}
		if (!problem && out[i])
			problem = validate_max_length(out[i], f->max);
		if (problem) {
			json_object_set_new(errors, f->column, json_string(problem));
			nerr++;
		}
	}
	return nerr;
}

void
records_values_free(char **out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(out[i]);
		out[i] = NULL;
	}
}

int
records_set_changes(buf *sql, const char **params, int *n, const struct record_field *fields,
		    size_t nfields, PGresult *old, int first_col, char **vals, const int *present,
		    json_t *changes)
{
	size_t i;
	int changed = 0;

	for (i = 0; i < nfields; i++) {
		const char *was = records_value(old, 0, first_col + (int)i);

		if (!present[i])
			continue;
		if (!audit_change(changes, fields[i].column, records_nullable(was),
				  records_nullable(vals[i])))
			continue;
		params[(*n)++] = vals[i];
		buf_printf(sql, "%s%s = $%d%s", *n > 1 ? ", " : "", fields[i].column, *n,
			   fields[i].kind == RF_YEAR ? "::int" : "");
		changed++;
	}
	return changed;
}

/* ------------------------------------------------------------------- lists */

int
records_valid_date(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, leap;
	char extra;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1900 || y > 9999 || m < 1 ||
	    m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

int
records_parse_cursor(const char *after, char ts[40], char id[37])
{
	const char *sep = after ? strrchr(after, '_') : NULL;
	size_t tlen;
	int y, mo, d, h, mi, sec, us;
	char date[11];

	if (!sep || !uuid_valid(sep + 1))
		return -1;
	tlen = (size_t)(sep - after);
	if (tlen != 27 || after[26] != 'Z' ||
	    sscanf(after, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &y, &mo, &d, &h, &mi, &sec, &us) != 7)
		return -1;
	memcpy(date, after, 10);
	date[10] = '\0';
	if (!records_valid_date(date) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
	    sec > 59 || us < 0)
		return -1;
	memcpy(ts, after, tlen);
	ts[tlen] = '\0';
	snprintf(id, 37, "%s", sep + 1);
	return 0;
}

const char *
records_filter_problem(const char *segment_id, const char *created_by, const char *batch_id,
		       const char *q, const char *from, const char *to, const char *after)
{
	char ts[40], id[37];

	if (segment_id && !uuid_valid(segment_id))
		return "That segment does not exist.";
	if (created_by && !uuid_valid(created_by))
		return "That researcher does not exist.";
	if (batch_id && !uuid_valid(batch_id))
		return "That upload does not exist.";
	if (from && !records_valid_date(from))
		return "Enter the start date as YYYY-MM-DD.";
	if (to && !records_valid_date(to))
		return "Enter the end date as YYYY-MM-DD.";
	if (after && records_parse_cursor(after, ts, id) != 0)
		return "That page link is no longer valid.";
	return validate_search(q);
}

void
records_where(buf *sql, const char **params, int *n, const char *column, const char *value)
{
	if (!value)
		return;
	params[(*n)++] = value;
	buf_printf(sql, " AND %s = $%d", column, *n);
}

json_t *
records_page(db_conn *c, buf *sql, const char **params, int n, int limit, int ts_col,
	     records_row_fn row, char **next)
{
	char lim[16];
	PGresult *res;
	json_t *rows;
	int i, count;

	*next = NULL;
	snprintf(lim, sizeof lim, "%d", limit + 1);
	params[n++] = lim;
	buf_printf(sql, " LIMIT $%d", n);
	res = db_exec_params(c, sql->data, n, params);
	if (!res)
		return NULL;
	rows = json_array();
	count = PQntuples(res);
	for (i = 0; i < count && i < limit; i++)
		json_array_append_new(rows, row(res, i));
	if (count > limit) {
		buf cur = BUF_INIT;

		buf_printf(&cur, "%s_%s", PQgetvalue(res, limit - 1, ts_col),
			   PQgetvalue(res, limit - 1, 0));
		*next = buf_steal(&cur);
	}
	PQclear(res);
	return rows;
}

void
records_keyset(buf *sql, const char **params, int *n, const char *alias, const char *after,
	       int oldest_first, char ts[40], char id[37])
{
	if (after && records_parse_cursor(after, ts, id) == 0) {
		params[(*n)++] = ts;
		params[(*n)++] = id;
		buf_printf(sql, " AND (%s.created_at, %s.id) %s ($%d::timestamptz, $%d::uuid)",
			   alias, alias, oldest_first ? ">" : "<", *n - 1, *n);
	}
	if (oldest_first)
		buf_printf(sql, " ORDER BY %s.created_at, %s.id", alias, alias);
	else
		buf_printf(sql, " ORDER BY %s.created_at DESC, %s.id DESC", alias, alias);
}

void
records_date_range(buf *sql, const char **params, int *n, const char *alias, const char *from,
		   const char *to)
{
	if (from) {
		params[(*n)++] = from;
		buf_printf(sql, " AND %s.created_at >= $%d::date", alias, *n);
	}
	if (to) {
		params[(*n)++] = to;
		buf_printf(sql, " AND %s.created_at < $%d::date + 1", alias, *n);
	}
}

const char *
records_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

json_t *
records_nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

long long
records_count(db_conn *c, buf *sql, const char **params, int n, long long cap, int *capped)
{
	char lim[24];
	PGresult *res;
	long long total;
	buf wrapped = BUF_INIT;

	snprintf(lim, sizeof lim, "%lld", cap + 1);
	params[n++] = lim;
	buf_printf(&wrapped, "SELECT count(*) FROM (%s LIMIT $%d) t", sql->data, n);
	res = db_exec_params(c, wrapped.data, n, params);
	buf_free(&wrapped);
	if (!res)
		return -1;
	total = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	*capped = total > cap;
	return *capped ? cap : total;
}

int
records_export_open(db_conn *tx, const char *name, const buf *sql, const char **params, int n)
{
	buf decl = BUF_INIT;
	PGresult *res;

	buf_printf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql->data);
	res = db_exec_params(tx, decl.data, n, params);
	buf_free(&decl);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

static int
records_is_yes_no(const int *cols, int col)
{
	for (; cols && *cols >= 0; cols++)
		if (*cols == col)
			return 1;
	return 0;
}

int
records_export_fetch(db_conn *tx, const struct records_export *e, buf *out, int *header_done)
{
	buf fetch = BUF_INIT;
	PGresult *res;
	int i, rows, col;
	size_t h;

	if (!*header_done) {
		/* Excel takes a file for UTF-8 only when it starts with the byte order mark. */
		csvout_bom(out);
		for (h = 0; h < e->nheader; h++)
			csvout_cell(out, e->header[h], h == 0);
		csvout_end_row(out);
		*header_done = 1;
	}
	buf_printf(&fetch, "FETCH 500 FROM %s", e->cursor);
	res = db_exec_sql(tx, fetch.data);
	buf_free(&fetch);
	if (!res)
		return -1;
	rows = PQntuples(res);
	for (i = 0; i < rows; i++) {
		for (col = 0; col < PQnfields(res); col++) {
			const char *v = records_value(res, i, col);

			/* booleans: words a spreadsheet user reads */
			if (records_is_yes_no(e->yes_no, col))
				v = v && v[0] == 't' ? "yes" : "no";
			csvout_cell(out, v, col == 0);
		}
		csvout_end_row(out);
	}
	PQclear(res);
	return rows;
}

json_t *
records_json(db_conn *c, db_stmt *st, int n, const char *const *params)
{
	PGresult *res = db_exec(c, st, n, params);
	json_t *o;

	if (!res)
		return NULL;
	o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	return o;
}

json_t *
records_lists(db_conn *c, db_stmt *st, int nparams, const char *const *params,
	      const char *const *names, size_t n)
{
	PGresult *res = db_exec(c, st, nparams, params);
	json_t *o, *list;
	size_t i;
	int r;

	if (!res)
		return NULL;
	o = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(o, names[i], json_array());
	for (r = 0; r < PQntuples(res); r++) {
		list = json_object_get(o, PQgetvalue(res, r, 0));
		if (!list)
			continue;
		json_array_append_new(list, json_pack("{s:s%, s:s%}", "id", PQgetvalue(res, r, 1),
						      (size_t)PQgetlength(res, r, 1), "name",
						      PQgetvalue(res, r, 2),
						      (size_t)PQgetlength(res, r, 2)));
	}
	PQclear(res);
	return o;
}

json_t *
records_rows(PGresult *res, records_row_fn row)
{
	json_t *list;
	int i;

	if (!res)
		return NULL;
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, row(res, i));
	PQclear(res);
	return list;
}

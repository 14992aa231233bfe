/*
 * recordview — the record pages' shared view-model steps (see recordview.h).
 */
#include "recordview.h"

#include <string.h>

#include "core/buf.h"
#include "core/http.h"
#include "core/render.h"
#include "core/uuid.h"
#include "web/session.h"

json_t *
recordview_get(struct request *req, db_conn *db, const char *id, recordview_get_fn get,
	       const char *missing)
{
	json_t *rec;
	int err = 0;

	if (!id || !uuid_valid(id)) {
		render_error(req, 404, missing);
		return NULL;
	}
	rec = get(db, id, &err);
	if (err)
		render_db_error(req, db);
	else if (!rec)
		render_error(req, 404, missing);
	return rec;
}

json_t *
recordview_load(struct request *req, recordview_get_fn get, const char *missing)
{
	db_conn *db = req_db(req);

	if (!db) {
		render_db_error(req, NULL);
		return NULL;
	}
	return recordview_get(req, db, req_param(req, "id"), get, missing);
}

json_t *
recordview_form_fields(struct request *req, const struct record_field *fields, size_t n,
		       json_t *errors, int autofocus_first)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		const char *raw = req_form(req, fields[i].column);
		json_t *f = records_field_json(&fields[i], json_string(raw ? raw : ""));
		json_t *err = errors ? json_object_get(errors, fields[i].column) : NULL;

		if (err)
			json_object_set(f, "error", err);
		if (i == 0 && autofocus_first)
			json_object_set_new(f, "autofocus", json_true());
		json_array_append_new(out, f);
	}
	return out;
}

json_t *
recordview_typed(struct request *req, const struct record_field *fields, size_t n, json_t *errors)
{
	json_t *input = json_object();
	size_t i;

	for (i = 0; i < n; i++) {
		const char *raw = req_form(req, fields[i].column);

		if (raw && json_object_get(errors, fields[i].column))
			json_object_set_new(input, fields[i].column, json_string(raw));
	}
	return input;
}

void
recordview_decorate(struct request *req, json_t *rec, const char *kind, const char *base,
		    json_t *errors, json_t *input)
{
	json_t *field;
	size_t i;

	json_array_foreach(json_object_get(rec, "fields"), i, field)
	{
		const char *col = json_string_value(json_object_get(field, "column"));
		json_t *err = errors ? json_object_get(errors, col) : NULL;

		if (input && json_object_get(input, col))
			json_object_set(field, "value", json_object_get(input, col));
		if (err)
			json_object_set(field, "error", err);
	}
	json_object_set_new(rec, "full_page", json_boolean(!req_is_htmx(req)));
	/* section headings sit under the page's h1, or under the panel's h2 */
	json_object_set_new(rec, "hl", json_integer(req_is_htmx(req) ? 3 : 2));
	json_object_set_new(rec, "inline", json_true());
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(
	    rec, "record_url",
	    json_sprintf("%s/%s", base, json_string_value(json_object_get(rec, "id"))));
	if (errors && json_object_size(errors))
		json_object_set_new(rec, "has_errors", json_true());
}

void
recordview_mark_saved(json_t *rec, const int *present)
{
	json_t *f;
	size_t k;

	json_array_foreach(json_object_get(rec, "fields"), k, f)
	{
		if (present[k])
			json_object_set_new(f, "saved", json_true());
	}
	json_object_set_new(rec, "saved", json_true());
}

void
recordview_redirect(struct request *req, const char *base, const char *id, const char *message)
{
	buf loc = BUF_INIT;

	buf_printf(&loc, "%s/%s", base, id);
	session_flash(req, "success", message);
	resp_redirect(req, loc.data);
	buf_free(&loc);
}

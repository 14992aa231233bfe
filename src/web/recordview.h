/*
 * recordview — what the record pages of companies and contacts share: the
 * record fetched or a 404, the form's fields with what was typed and the
 * messages, the panel's fields with a failed save's input and errors laid
 * over them, "Saved" marks after an inline edit, the redirect after a save,
 * and the keys every panel template reads (full_page, hl, inline, kind,
 * record_url, has_errors).
 *
 * A module keeps only what is its own (the segment picker of a company, the
 * company picker of a contact, related records); the shape of a record page
 * is written once, here.
 */
#ifndef SPANNER_RECORDVIEW_H
#define SPANNER_RECORDVIEW_H

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"
#include "domain/records.h"

struct request;

/* A module's getter: the record, NULL when there is none (*err set on a database error). */
typedef json_t *(*recordview_get_fn)(db_conn *db, const char *id, int *err);

/*
 * The record id names (a uuid), or NULL after rendering the 404 page (saying
 * missing) or the database error page.
 */
json_t *recordview_get(struct request *req, db_conn *db, const char *id, recordview_get_fn get,
		       const char *missing);

/*
 * The record the route's {id} names, through the request's connection; NULL
 * after rendering the error page (no database, 404, database error).
 */
json_t *recordview_load(struct request *req, recordview_get_fn get, const char *missing);

/*
 * A create form's fields [{column, label, value, …, error}]: what was typed
 * (the request's form) and each field's message from errors (may be NULL).
 * autofocus_first puts the cursor in the first field.
 */
json_t *recordview_form_fields(struct request *req, const struct record_field *fields, size_t n,
			       json_t *errors, int autofocus_first);

/*
 * What was typed into the fields that failed (for laying over a panel after
 * a refused save): {column: raw value}.
 */
json_t *recordview_typed(struct request *req, const struct record_field *fields, size_t n,
			 json_t *errors);

/*
 * The keys every record panel and page reads, set on rec: each field's
 * input and error laid over it, full_page, hl (the section heading level),
 * inline, kind ("company") and record_url ("/companies/<id>", where inline
 * edits post), has_errors.
 */
void recordview_decorate(struct request *req, json_t *rec, const char *kind, const char *base,
			 json_t *errors, json_t *input);

/* Marks the fields present (an inline edit's) and the record as just saved. */
void recordview_mark_saved(json_t *rec, const int *present);

/* After a plain form's successful save: the flash and a 303 to base/id. */
void recordview_redirect(struct request *req, const char *base, const char *id,
			 const char *message);

#endif

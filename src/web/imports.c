/*
 * imports — the upload pages: the uploads list, the upload form and its
 * template CSV, a batch's progress and result, its two CSV downloads, and
 * the error-correction grid.
 *
 * Handlers are generic over the import kinds (domain/imports.h): the kind
 * comes from the path (/imports/companies/new) or from the batch itself, so
 * contacts need only route-table lines. Rules decided here:
 *   - the upload checks name, size, emptiness and a readable header and data
 *     row before any batch exists (422 with the form); encoding of the whole
 *     file and missing columns are the job's, and show on the batch page as
 *     a failed batch with its reason;
 *   - errors.csv and failed-rows.csv are exports: export.csv, like every list
 *     export (every signed-in user sees the same data; SPEC §1);
 *   - correcting needs the kind's upload permission (companies.upload_csv)
 *     and nothing more: a colleague may finish someone else's upload;
 *   - the batch page polls (htmx, every second) only while processing, and
 *     without JavaScript refreshes itself every 2 s through the layout's
 *     <noscript><meta refresh> (view model key refresh; the CSP allows it:
 *     it is not a script, and htmx never swaps the head);
 *   - the grid's cells are named c<row>_<column index in the file's header>;
 *     POST /fix with `row` re-checks that row (its button, or Enter through
 *     assets/js/imports.js; htmx gets the row back in place), with `rows`
 *     every row of the page (the no-JavaScript "Re-submit fixed rows");
 *   - a corrected file (multipart POST /fix) is applied within the request:
 *     it holds at most the rows still failing, and the user waits for the
 *     answer anyway.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/format.h"
#include "core/url.h"
#include "core/csvout.h"
#include "core/log.h"
#include "core/offload.h"
#include "core/render.h"
#include "core/uuid.h"
#include "domain/audit.h"
#include "domain/imports.h"
#include "web/routes.h"
#include "web/session.h"

#define IMPORTS_PAGE 50
#define FIX_PAGE 50
/* Rows the grid posts at most at once (a page is FIX_PAGE). */
#define FIX_MAX_ROWS 500
#define ERRORS_PREVIEW 10

struct report_state {
	db_conn *db;
	struct imports_report *report;
	buf pending;
	size_t sent;
	int finished;
};

static const char *nonempty(const char *s);
static const struct imports_spec *spec_from_path(struct request *req);
static void count_text(json_t *o, const char *key);
static void status_badge(json_t *b);
static json_t *size_text(json_int_t bytes);
static json_t *columns_json(const struct imports_spec *spec);
static void render_upload_form(struct request *req, unsigned status,
			       const struct imports_spec *spec, const char *error);
static json_t *batch_or_404(struct request *req, db_conn *db, const char **id);
static void batch_view(struct request *req, db_conn *db, json_t *b);
static void send_report(struct request *req, int failed_rows);
static ssize_t report_fill(void *cls, char *out, size_t max);
static void report_done(void *cls);
static void download_name(buf *out, const char *file_name, const char *suffix);
static void render_fix_page(struct request *req, unsigned status, db_conn *db, json_t *b,
			    const struct imports_spec *spec, const char *file_error);
static int parse_row_number(const char *s, long *out);
static void fix_flash(struct request *req, json_t *outcome, const struct imports_spec *spec);
static void fix_redirect(struct request *req, const char *id);
static void fix_fail(struct request *req, db_conn *db, enum imports_result r, const char *msg,
		     const char *id);

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* "/imports/companies/new" → the companies spec. */
static const struct imports_spec *
spec_from_path(struct request *req)
{
	const char *p = req_path(req) + strlen("/imports/");
	const char *end = strchr(p, '/');
	char slug[64];

	snprintf(slug, sizeof slug, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
	return imports_spec_by_slug(slug);
}

/* Adds key_text: the number with thousands separators ("50,000"). */
static void
count_text(json_t *o, const char *key)
{
	char out[48], name[64];

	format_count((long long)json_integer_value(json_object_get(o, key)), out, sizeof out);
	snprintf(name, sizeof name, "%s_text", key);
	json_object_set_new(o, name, json_string(out));
}

/*
 * The batch's badge: its status, except that a batch which completed without
 * importing a single row says so in the warning colour — a green "completed"
 * over an upload where every row failed reads as success.
 */
static void
status_badge(json_t *b)
{
	const char *status = json_string_value(json_object_get(b, "status"));
	int none = status && strcmp(status, "completed") == 0 &&
		   json_integer_value(json_object_get(b, "valid_rows")) == 0;

	json_object_set_new(b, "badge_class", json_string(none ? "warning" : status ? status : ""));
	json_object_set_new(b, "badge_text",
			    json_string(none ? "completed — 0 imported" : status ? status : ""));
}

/* "812 bytes", "14.2 KB", "9.8 MB". */
static json_t *
size_text(json_int_t bytes)
{
	if (bytes < 1024)
		return json_sprintf("%lld byte%s", (long long)bytes, bytes == 1 ? "" : "s");
	if (bytes < 1024 * 1024)
		return json_sprintf("%.1f KB", (double)bytes / 1024.0);
	return json_sprintf("%.1f MB", (double)bytes / (1024.0 * 1024.0));
}

static json_t *
columns_json(const struct imports_spec *spec)
{
	json_t *cols = json_array();
	size_t i;

	for (i = 0; i < spec->ncolumns; i++)
		json_array_append_new(cols, json_pack("{s:s, s:b, s:s}", "header",
						      spec->columns[i].header, "required",
						      spec->columns[i].required, "hint",
						      spec->columns[i].hint));
	return cols;
}

/* ---------------------------------------------------------------- the list */

void
web_imports_list(struct request *req)
{
	struct imports_filter f;
	const char *problem, *status = nonempty(req_query(req, "status"));
	int mine = nonempty(req_query(req, "mine")) != NULL;
	char *next = NULL;
	json_t *rows, *vm, *statuses, *kinds, *row;
	buf url = BUF_INIT;
	db_conn *db = req_db(req);
	static const char *const status_names[] = {"processing", "completed", "failed"};
	size_t i;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	memset(&f, 0, sizeof f);
	f.uploader_id = mine ? session_user(req)->id : NULL;
	f.status = status;
	f.after = nonempty(req_query(req, "after"));
	f.limit = IMPORTS_PAGE;
	problem = imports_filter_problem(&f);
	if (problem) {
		f.after = NULL;
		f.status = status = NULL;
	}
	rows = imports_list(db, &f, &next);
	if (!rows) {
		render_db_error(req, db);
		return;
	}
	json_array_foreach(rows, i, row)
	{
		count_text(row, "total_rows");
		count_text(row, "valid_rows");
		count_text(row, "invalid_rows");
		status_badge(row);
		json_object_set_new(row, json_string_value(json_object_get(row, "status")),
				    json_true());
		json_object_set_new(
		    row, "has_failed_rows",
		    json_boolean(json_integer_value(json_object_get(row, "invalid_rows")) > 0));
	}
	if (next) {
		buf_puts(&url, "/imports?");
		if (mine)
			buf_puts(&url, "mine=1&");
		if (status)
			buf_printf(&url, "status=%s&", status);
		buf_puts(&url, "after=");
		url_encode(&url, next);
		free(next);
	}
	statuses = json_array();
	for (i = 0; i < 3; i++)
		json_array_append_new(statuses,
				      json_pack("{s:s, s:b}", "value", status_names[i], "selected",
						status && strcmp(status, status_names[i]) == 0));
	/* an upload button for every kind this user may import */
	kinds = json_array();
	for (i = 0; imports_spec_nth((int)i); i++) {
		const struct imports_spec *spec = imports_spec_nth((int)i);

		if (session_can(req, spec->permission))
			json_array_append_new(kinds, json_pack("{s:s, s:s}", "slug", spec->slug,
							       "title", spec->nouns));
	}
	vm = json_pack("{s:s, s:o, s:s, s:b, s:o, s:b, s:b, s:o, s:b}", "title", "Uploads", "rows",
		       rows, "next_url", url.data ? url.data : "", "mine", mine, "statuses",
		       statuses, "filtered", mine || status, "first_page", f.after == NULL, "kinds",
		       kinds, "empty", json_array_size(rows) == 0 && !f.after);
	if (problem)
		json_object_set_new(vm, "filter_error", json_string(problem));
	buf_free(&url);
	render(req, 200, req_is_htmx(req) && f.after ? "imports/_rows" : "imports/index", vm);
}

/* ---------------------------------------------------------------- upload */

static void
render_upload_form(struct request *req, unsigned status, const struct imports_spec *spec,
		   const char *error)
{
	char title[96];
	json_t *vm;

	snprintf(title, sizeof title, "Import %s", spec->nouns);
	vm = json_pack("{s:s, s:s, s:s, s:s, s:o}", "title", title, "slug", spec->slug, "nouns",
		       spec->nouns, "noun", spec->noun, "columns", columns_json(spec));
	if (error)
		json_object_set_new(vm, "upload_error", json_string(error));
	render(req, status, "imports/new", vm);
}

void
web_imports_new(struct request *req)
{
	const struct imports_spec *spec = spec_from_path(req);

	if (!spec) {
		render_error(req, 404, "There is no such import.");
		return;
	}
	render_upload_form(req, 200, spec, NULL);
}

/*
 * Checking and storing an upload reads up to 10 MB from disk and streams it
 * into PostgreSQL with COPY: seconds of blocking work, so it runs in a Kore
 * task on the task thread's own connection while the request sleeps.
 */
struct upload_call {
	const struct imports_spec *spec;
	const struct upload *up;
	const char *actor;
	const char *batch_id; /* fix: the batch corrected */
	json_t *outcome;      /* fix: what the correction did */
	char msg[512];
	char id[37];
	int invalid; /* the file check refused it: msg says why */
	enum imports_result r;
};

/* The grid's rows re-checked in a task: COPY cannot run on a request's async connection. */
struct fix_rows_call {
	const struct imports_spec *spec;
	const char *batch_id;
	const char *actor;
	const long *rows;
	size_t nrows;
	json_t *cells; /* c<row>_<col> → value, copied from the form before the task starts */
	json_t *outcome;
	char msg[512];
	enum imports_result r;
};

static void
fix_cells_copy(void *ctx, const char *name, const char *value)
{
	if (name[0] == 'c')
		json_object_set_new(ctx, name, json_string(value));
}

static const char *
fix_cell_copied(void *ctx, long row_number, size_t header_index)
{
	char name[48];

	snprintf(name, sizeof name, "c%ld_%zu", row_number, header_index);
	return json_string_value(json_object_get(ctx, name));
}

static int
fix_rows_task(db_conn *c, void *arg)
{
	struct fix_rows_call *k = arg;

	k->r = imports_fix_rows(c, k->spec, k->batch_id, k->actor, k->rows, k->nrows,
				fix_cell_copied, k->cells, k->outcome, k->msg, sizeof k->msg);
	return 0;
}

static int
upload_create_task(db_conn *c, void *arg)
{
	struct upload_call *k = arg;

	if (imports_check_file(k->up ? k->up->filename : NULL, k->up ? k->up->path : NULL,
			       k->up ? k->up->size : 0, k->msg, sizeof k->msg) != 0) {
		k->invalid = 1;
		return 0;
	}
	k->r = imports_create(c, k->spec, k->actor, k->up->filename, k->up->path, k->up->size,
			      k->id);
	return 0;
}

static int
upload_fix_task(db_conn *c, void *arg)
{
	struct upload_call *k = arg;

	if (imports_check_file(k->up->filename, k->up->path, k->up->size, k->msg,
			       sizeof k->msg) != 0) {
		k->invalid = 1;
		return 0;
	}
	k->r = imports_fix_file(c, k->spec, k->batch_id, k->actor, k->up->path, k->outcome, k->msg,
				sizeof k->msg);
	return 0;
}

void
web_imports_create(struct request *req)
{
	const struct imports_spec *spec = spec_from_path(req);
	struct upload_call call;
	enum imports_result r;
	buf loc = BUF_INIT;

	if (!spec) {
		render_error(req, 404, "There is no such import.");
		return;
	}
	memset(&call, 0, sizeof call);
	call.spec = spec;
	call.up = req_upload(req, "file");
	call.actor = session_user(req)->id;
	if (offload_db(upload_create_task, &call) != 0) {
		render_db_error(req, NULL);
		return;
	}
	if (call.invalid) {
		render_upload_form(req, 422, spec, call.msg);
		return;
	}
	r = call.r;
	if (r == IMPORTS_UNAVAILABLE) {
		render_db_error(req, NULL);
		return;
	}
	if (r != IMPORTS_OK) {
		render_error(req, 500, "The upload could not be saved.");
		return;
	}
	buf_printf(&loc, "/imports/%s", call.id);
	resp_redirect(req, loc.data);
	buf_free(&loc);
}

void
web_imports_template(struct request *req)
{
	const struct imports_spec *spec = spec_from_path(req);
	buf out = BUF_INIT, disp = BUF_INIT;
	size_t i;

	if (!spec) {
		render_error(req, 404, "There is no such import.");
		return;
	}
	for (i = 0; i < spec->ncolumns; i++)
		csvout_cell(&out, spec->columns[i].header, i == 0);
	csvout_end_row(&out);
	buf_printf(&disp, "attachment; filename=\"%s-template.csv\"", spec->slug);
	resp_header(req, "Content-Disposition", disp.data);
	buf_free(&disp);
	resp_buf(req, 200, "text/csv; charset=utf-8", &out);
}

/* ---------------------------------------------------------------- one batch */

static json_t *
batch_or_404(struct request *req, db_conn *db, const char **id)
{
	json_t *b;
	int err = 0;

	*id = req_param(req, "batch");
	b = uuid_valid(*id) ? imports_batch(db, *id, &err) : NULL;
	if (err)
		render_db_error(req, db);
	else if (!b)
		render_error(req, 404, "There is no upload at this address.");
	return b;
}

/* The batch page's view model: the batch (as its JSON form) plus what the template needs. */
static void
batch_view(struct request *req, db_conn *db, json_t *b)
{
	const char *status = json_string_value(json_object_get(b, "status"));
	const char *job = json_string_value(json_object_get(b, "job_state"));
	const struct imports_spec *spec =
	    imports_spec_by_entity(json_string_value(json_object_get(b, "entity_type")));
	json_t *progress = json_object_get(b, "progress");
	const char *phase;
	json_int_t invalid = json_integer_value(json_object_get(b, "invalid_rows"));
	json_int_t valid = json_integer_value(json_object_get(b, "valid_rows"));
	int processing = strcmp(status, "processing") == 0;
	int completed = strcmp(status, "completed") == 0;

	json_object_set_new(b, "title",
			    json_string(json_string_value(json_object_get(b, "file_name"))));
	json_object_set_new(b, status, json_true());
	if (processing)
		json_object_set_new(b, "refresh", json_integer(2));
	json_object_set_new(b, "queued", json_boolean(processing && job && !strcmp(job, "queued")));
	phase = progress ? json_string_value(json_object_get(progress, "phase")) : NULL;
	json_object_set_new(b, "importing", json_boolean(phase && !strcmp(phase, "importing")));
	json_object_set_new(
	    b, "percent",
	    json_integer(progress ? json_integer_value(json_object_get(progress, "percent")) : 0));
	count_text(b, "total_rows");
	count_text(b, "valid_rows");
	count_text(b, "invalid_rows");
	count_text(b, "processed_rows");
	count_text(b, "corrected_rows");
	status_badge(b);
	json_object_set_new(b, "size_text",
			    size_text(json_integer_value(json_object_get(b, "file_size_bytes"))));
	json_object_set_new(b, "invalid_plural", json_boolean(invalid != 1));
	if (json_real_value(json_object_get(b, "duration_seconds")) > 0)
		json_object_set_new(b, "duration_text",
				    json_sprintf("%.1f s", json_real_value(json_object_get(
							       b, "duration_seconds"))));
	json_object_set_new(b, "has_invalid", json_boolean(completed && invalid > 0));
	json_object_set_new(
	    b, "has_corrected",
	    json_boolean(json_integer_value(json_object_get(b, "corrected_rows")) > 0));
	json_object_set_new(b, "has_valid", json_boolean(completed && valid > 0));
	json_object_set_new(
	    b, "all_fixed",
	    json_boolean(completed && invalid == 0 &&
			 json_integer_value(json_object_get(b, "corrected_rows")) > 0));
	json_object_set_new(
	    b, "can_fix",
	    json_boolean(completed && invalid > 0 && spec && session_can(req, spec->permission)));
	json_object_set_new(b, "can_export", json_boolean(session_can(req, "export.csv")));
	if (spec) {
		json_object_set_new(b, "nouns", json_string(spec->nouns));
		json_object_set_new(b, "kind", json_string(spec->title));
		json_object_set_new(b, "can_upload",
				    json_boolean(session_can(req, spec->permission)));
	}
	if (completed && invalid > 0) {
		json_t *errors = imports_batch_errors(
		    db, json_string_value(json_object_get(b, "id")), ERRORS_PREVIEW);

		json_object_set_new(b, "first_errors", errors ? errors : json_array());
		json_object_set_new(b, "more_errors",
				    json_boolean(invalid > ERRORS_PREVIEW ||
						 json_array_size(errors) >= ERRORS_PREVIEW));
	}
}

void
web_imports_show(struct request *req)
{
	db_conn *db = req_db(req);
	const char *id;
	json_t *b;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	b = batch_or_404(req, db, &id);
	if (!b)
		return;
	resp_header(req, "Cache-Control", "no-store");
	if (req_wants_json(req)) {
		json_object_del(b, "headers");
		json_object_del(b, "created_text");
		resp_json(req, 200, b);
		return;
	}
	batch_view(req, db, b);
	render(req, 200, "imports/show", b);
}

/* ---------------------------------------------------------------- downloads */

/* "<file name without .csv>-<suffix>.csv", in characters safe in a header. */
static void
download_name(buf *out, const char *file_name, const char *suffix)
{
	size_t len = strlen(file_name), i;

	if (len > 4 && strcasecmp(file_name + len - 4, ".csv") == 0)
		len -= 4;
	if (len > 80)
		len = 80;
	for (i = 0; i < len; i++) {
		char c = file_name[i];

		buf_putc(out, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
				  ? c
				  : '_');
	}
	buf_printf(out, "-%s.csv", suffix);
}

static ssize_t
report_fill(void *cls, char *out, size_t max)
{
	struct report_state *st = cls;
	size_t n;

	while (st->sent == st->pending.len && !st->finished) {
		int rows;

		buf_reset(&st->pending);
		st->sent = 0;
		rows = imports_report_fetch(st->report, &st->pending);
		if (rows < 0) {
			log_error("imports: report stopped: %s", db_error_message(st->db));
			return -1; /* a cut file rather than a silently short one */
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
report_done(void *cls)
{
	struct report_state *st = cls;

	imports_report_close(st->report);
	buf_free(&st->pending);
	free(st);
}

static void
send_report(struct request *req, int failed_rows)
{
	db_conn *db = req_db(req);
	struct report_state *st;
	struct imports_report *report;
	buf disp = BUF_INIT;
	const char *id;
	json_t *b;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	b = batch_or_404(req, db, &id);
	if (!b)
		return;
	/* Audited before it streams, like every export: a cut download still happened. */
	if (db_begin(db) != 0 ||
	    audit_record(db, session_user(req)->id, "export", "upload_batch", id,
			 json_pack("{s:s}", "report", failed_rows ? "failed_rows" : "errors")) !=
		0 ||
	    db_commit(db) != 0 || db_begin(db) != 0 ||
	    !(report = imports_report_open(db, id, failed_rows))) {
		db_rollback(db);
		json_decref(b);
		render_db_error(req, db);
		return;
	}
	buf_puts(&disp, "attachment; filename=\"");
	download_name(&disp, json_string_value(json_object_get(b, "file_name")),
		      failed_rows ? "failed-rows" : "errors");
	buf_putc(&disp, '"');
	json_decref(b);
	st = xcalloc(1, sizeof *st);
	st->db = db;
	st->report = report;
	resp_header(req, "Content-Disposition", disp.data);
	resp_header(req, "Cache-Control", "no-store");
	buf_free(&disp);
	resp_stream(req, 200, "text/csv; charset=utf-8", report_fill, st, report_done);
}

void
web_imports_errors_csv(struct request *req)
{
	send_report(req, 0);
}

void
web_imports_failed_rows_csv(struct request *req)
{
	send_report(req, 1);
}

/* ---------------------------------------------------------------- correction */

static void
render_fix_page(struct request *req, unsigned status, db_conn *db, json_t *b,
		const struct imports_spec *spec, const char *file_error)
{
	const char *id = json_string_value(json_object_get(b, "id"));
	const char *after_s = nonempty(req_query(req, "after"));
	long after = 0;
	json_t *page;
	buf url = BUF_INIT;

	if (after_s && parse_row_number(after_s, &after) != 0)
		after = 0;
	batch_view(req, db, b);
	if (json_is_true(json_object_get(b, "completed"))) {
		page = imports_fix_page(db, spec, id, after, FIX_PAGE);
		if (!page) {
			json_decref(b);
			render_db_error(req, db);
			return;
		}
		json_object_set_new(b, "grid", page);
		json_object_set_new(
		    b, "span",
		    json_integer((json_int_t)json_array_size(json_object_get(page, "columns")) +
				 2));
		json_object_set_new(b, "batch_id", json_string(id));
		if (json_integer_value(json_object_get(page, "next_after")) > 0) {
			buf_printf(
			    &url, "/imports/%s/fix?after=%lld", id,
			    (long long)json_integer_value(json_object_get(page, "next_after")));
			json_object_set_new(b, "next_url", json_string(url.data));
		}
		json_object_set_new(b, "not_first_page", json_boolean(after > 0));
		json_object_set_new(
		    b, "has_rows",
		    json_boolean(json_array_size(json_object_get(page, "rows")) > 0));
	}
	if (file_error)
		json_object_set_new(b, "file_error", json_string(file_error));
	json_object_set_new(b, "title",
			    json_sprintf("Fix failed rows · %s",
					 json_string_value(json_object_get(b, "file_name"))));
	buf_free(&url);
	resp_header(req, "Cache-Control", "no-store");
	render(req, status, "imports/fix", b);
}

void
web_imports_fix_page(struct request *req)
{
	db_conn *db = req_db(req);
	const struct imports_spec *spec;
	const char *id;
	json_t *b;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	b = batch_or_404(req, db, &id);
	if (!b)
		return;
	spec = imports_spec_by_entity(json_string_value(json_object_get(b, "entity_type")));
	if (!spec) {
		json_decref(b);
		render_error(req, 404, "There is no upload at this address.");
		return;
	}
	if (!session_can(req, spec->permission)) {
		json_decref(b);
		render_forbidden(req, spec->permission, NULL);
		return;
	}
	render_fix_page(req, 200, db, b, spec, NULL);
}

static int
parse_row_number(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > INT_MAX)
		return -1;
	*out = v;
	return 0;
}

/* The grid's cells are named c<row>_<column index>; an absent one keeps its stored value. */
static void
fix_flash(struct request *req, json_t *outcome, const struct imports_spec *spec)
{
	json_int_t ok = json_integer_value(json_object_get(outcome, "imported"));
	json_int_t bad = json_integer_value(json_object_get(outcome, "failed"));
	buf m = BUF_INIT;

	if (ok)
		buf_printf(&m,
			   ok == 1 ? "%lld row imported as a pending %s."
				   : "%lld rows imported as pending %s.",
			   (long long)ok, ok == 1 ? spec->noun : spec->nouns);
	if (bad)
		buf_printf(&m, "%s%lld row%s still %s errors: see beside each cell.", ok ? " " : "",
			   (long long)bad, bad == 1 ? "" : "s", bad == 1 ? "has" : "have");
	if (!ok && !bad)
		buf_puts(&m, "Nothing to re-check: those rows were already imported.");
	session_flash(req, bad ? (ok ? "info" : "error") : "success", m.data);
	buf_free(&m);
}

static void
fix_redirect(struct request *req, const char *id)
{
	buf loc = BUF_INIT;

	buf_printf(&loc, "/imports/%s/fix", id);
	resp_redirect(req, loc.data);
	buf_free(&loc);
}

static void
fix_fail(struct request *req, db_conn *db, enum imports_result r, const char *msg, const char *id)
{
	if (r == IMPORTS_UNAVAILABLE)
		render_db_error(req, NULL);
	else if (r == IMPORTS_NOT_FOUND)
		render_error(req, 404, "There is no upload at this address.");
	else if (r == IMPORTS_CONFLICT) {
		session_flash(req, "error", msg);
		fix_redirect(req, id);
	} else
		render_db_error(req, db);
}

void
web_imports_fix(struct request *req)
{
	db_conn *db = req_db(req);
	const struct upload *up = req_upload(req, "file");
	const struct imports_spec *spec;
	const char *id, *one = nonempty(req_form(req, "row"));
	const char **listed = NULL;
	long rows[FIX_MAX_ROWS];
	size_t n = 0, nlisted, i;
	char msg[512];
	json_t *b, *outcome;
	enum imports_result r;

	if (!db) {
		render_db_error(req, NULL);
		return;
	}
	b = batch_or_404(req, db, &id);
	if (!b)
		return;
	spec = imports_spec_by_entity(json_string_value(json_object_get(b, "entity_type")));
	if (!spec) {
		json_decref(b);
		render_error(req, 404, "There is no upload at this address.");
		return;
	}
	if (!session_can(req, spec->permission)) {
		json_decref(b);
		render_forbidden(req, spec->permission, NULL);
		return;
	}

	/* A corrected file against the batch. */
	if (up && up->filename && *up->filename) {
		struct upload_call call;

		memset(&call, 0, sizeof call);
		call.spec = spec;
		call.up = up;
		call.actor = session_user(req)->id;
		call.batch_id = id;
		call.outcome = outcome = json_object();
		if (offload_db(upload_fix_task, &call) != 0) {
			json_decref(outcome);
			json_decref(b);
			render_db_error(req, NULL);
			return;
		}
		snprintf(msg, sizeof msg, "%s", call.msg);
		if (call.invalid) {
			json_decref(outcome);
			render_fix_page(req, 422, db, b, spec, msg);
			return;
		}
		r = call.r;
		if (r == IMPORTS_INVALID) {
			json_decref(outcome);
			render_fix_page(req, 422, db, b, spec, msg);
			return;
		}
		json_decref(b);
		if (r != IMPORTS_OK) {
			json_decref(outcome);
			fix_fail(req, db, r, msg, id);
			return;
		}
		fix_flash(req, outcome, spec);
		json_decref(outcome);
		fix_redirect(req, id);
		return;
	}

	/* Grid rows: one (its button, or Enter in it) or all of the page (no JavaScript). */
	if (one) {
		if (parse_row_number(one, &rows[0]) == 0)
			n = 1;
	} else {
		nlisted = req_values(req, 0, "rows", &listed);
		for (i = 0; i < nlisted && n < FIX_MAX_ROWS; i++)
			if (parse_row_number(listed[i], &rows[n]) == 0)
				n++;
	}
	if (n == 0) {
		json_decref(b);
		session_flash(req, "info", "No rows were sent to re-check.");
		fix_redirect(req, id);
		return;
	}
	outcome = json_object();
	{
		struct fix_rows_call call;

		memset(&call, 0, sizeof call);
		call.spec = spec;
		call.batch_id = id;
		call.actor = session_user(req)->id;
		call.rows = rows;
		call.nrows = n;
		call.cells = json_object();
		call.outcome = outcome;
		req_each_form(req, fix_cells_copy, call.cells);
		if (offload_db(fix_rows_task, &call) != 0)
			call.r = IMPORTS_UNAVAILABLE;
		json_decref(call.cells);
		snprintf(msg, sizeof msg, "%s", call.msg);
		r = call.r;
	}
	if (r != IMPORTS_OK) {
		json_decref(b);
		json_decref(outcome);
		fix_fail(req, db, r, msg, id);
		return;
	}
	if (req_is_htmx(req) && one) {
		/* The row comes back in place: imported, or with its fresh errors. */
		json_t *row = json_array_get(json_object_get(outcome, "rows"), 0);
		json_t *vm = json_pack("{s:s, s:s, s:s}", "batch_id", id, "record_url",
				       spec->record_url, "noun", spec->noun);

		if (row) {
			json_object_update(vm, row);
			if (!json_is_true(json_object_get(row, "imported")))
				json_object_set_new(vm, "retried", json_true());
		} else {
			json_object_set_new(vm, "row_number", json_integer(rows[0]));
			json_object_set_new(vm, "skipped", json_true());
		}
		json_object_set_new(
		    vm, "span",
		    json_integer(json_integer_value(json_object_get(outcome, "shown_columns")) +
				 2));
		resp_header(req, "HX-Trigger", "imports-fixed");
		json_decref(b);
		json_decref(outcome);
		render(req, 200, "imports/_fix_row", vm);
		return;
	}
	json_decref(b);
	fix_flash(req, outcome, spec);
	json_decref(outcome);
	fix_redirect(req, id);
}

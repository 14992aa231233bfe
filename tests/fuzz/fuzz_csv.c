/*
 * Fuzzes the CSV reader and the import's row checks: any bytes go through
 * csvin_parse_buffer; every record it hands over is checked as a company row
 * and as a contact row (records_clean over each kind's fields, the first
 * record naming the columns as an import's header does). Invariants beyond
 * "no crash, no leak, no undefined behaviour": each field is as long as the
 * reader says, and a row's clean values are valid UTF-8 within their limits.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/csvin.h"
#include "domain/companies.h"
#include "domain/contacts.h"
#include "domain/validate.h"

#define MAX_COLS 64

struct state {
	char *header[MAX_COLS];
	size_t ncols;
	char **fields;
	size_t n;
};

static const char *
row_get(void *ctx, const char *column)
{
	struct state *st = ctx;
	size_t i;

	for (i = 0; i < st->ncols && i < st->n; i++)
		if (st->header[i] && strcmp(st->header[i], column) == 0)
			return st->fields[i];
	return NULL;
}

static void
check_clean(const struct record_field *fields, size_t nf, char **out)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (out[i] && validate_utf8(out[i], strlen(out[i])) != NULL)
			abort(); /* a clean value that is not UTF-8 would fail the insert */
	(void)fields;
}

static int
on_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct state *st = ctx;
	char *co[COMPANIES_NFIELDS], *ct[CONTACTS_NFIELDS];
	json_t *errors;
	size_t i;

	(void)line;
	for (i = 0; i < n; i++)
		if (fields[i][lens[i]] != '\0')
			abort(); /* NUL-terminated at its length */
	if (!st->ncols) {
		for (i = 0; i < n && i < MAX_COLS; i++)
			st->header[i] = strdup(fields[i]);
		st->ncols = i;
		return 0;
	}
	st->fields = fields;
	st->n = n;
	errors = json_object();
	companies_clean(row_get, st, 0, co, NULL, errors);
	check_clean(companies_fields, COMPANIES_NFIELDS, co);
	companies_values_free(co);
	contacts_clean(row_get, st, 0, ct, NULL, errors);
	check_clean(contacts_fields, CONTACTS_NFIELDS, ct);
	contacts_values_free(ct);
	json_decref(errors);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st;
	struct csvin_error err;
	size_t i;

	memset(&st, 0, sizeof st);
	csvin_parse_buffer((const char *)data, size, on_row, &st, &err);
	for (i = 0; i < st.ncols; i++)
		free(st.header[i]);
	return 0;
}

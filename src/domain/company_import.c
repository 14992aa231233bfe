/*
 * company_import — the company import spec: columns, the row check, the
 * segment look-up, and the staging table with its one INSERT.
 *
 * Spec column 0 is Company Name, 1 is Segment Name, and 2.. are the other
 * company fields in companies_fields order; company_import_register() maps
 * each field to its column by the field table's csv_header (and refuses to
 * start if one is missing), so the row is cleaned by the generic
 * imports_clean_row.
 *
 * Segment names are matched case-insensitively (domain/namelookup.h): all
 * segments are loaded once per run.
 */
#include "company_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "domain/companies.h"
#include "domain/namelookup.h"
#include "domain/normalise.h"

#define COMPANY_COLUMNS (COMPANIES_NFIELDS + 1)
#define SEGMENT_COLUMN 1

struct company_ctx {
	db_conn *db;
	char (*seg_ids)[37];
	char **seg_names;
	int *seg_active;
	size_t nsegs;
	struct namelookup segments; /* a segment's name → its index */
};

/* companies_fields[f] is read from spec column field_column[f] (set at registration). */
static int field_column[COMPANIES_NFIELDS];

static void *company_open(db_conn *db);
static void company_close(void *ctx);
static int company_check(void *ctx, const char *const *values, buf *copy,
			 struct imports_problems *problems);

DB_STMT(st_segments, "SELECT id, status, name FROM segments");

static const struct imports_column company_columns[COMPANY_COLUMNS] = {
    {"Company Name", 1,
     "Up to 500 characters. A name typed all in lower case or all in capitals is "
     "title-cased (“acme corp” → “Acme Corp”); short all-capital words stay acronyms.",
     0},
    {"Segment Name", 1, "The name of an active segment, in any case.", 0},
    {"Company Website", 0, "A web address; https:// is added when it has no scheme.", 0},
    {"Company Phone", 0, "Up to 50 characters.", 0},
    {"Company Description", 0, "Up to 5,000 characters. Line breaks are kept.", 1},
    {"Company LinkedIn URL", 0, "A web address.", 0},
    {"Company Industry", 0, "Up to 200 characters.", 0},
    {"Company Sub-Industry", 0, "Up to 200 characters.", 0},
    {"Street", 0, "Up to 500 characters.", 0},
    {"City", 0, "Up to 200 characters.", 0},
    {"State/Province", 0, "Up to 200 characters.", 0},
    {"Country/Region", 0, "Up to 200 characters.", 0},
    {"ZIP/Postal Code", 0, "Up to 50 characters.", 0},
    {"Founded Year", 0, "A year from 1800 to this year.", 0},
    {"Revenue Range", 0, "Up to 200 characters.", 0},
    {"Employee Size Range", 0, "Up to 200 characters.", 0},
};

/* The staging columns are the company columns, typed as in companies. */
#define COMPANY_STAGE_FIELDS                                                                       \
	"name, website, phone, description, linkedin_url, industry, sub_industry, "                \
	"address_street, address_city, address_state, address_country, address_zip, "              \
	"founded_year, revenue_range, employee_size_range, segment_id"

const struct imports_spec company_import_spec = {
    .entity_type = "company",
    .slug = "companies",
    .noun = "company",
    .nouns = "companies",
    .title = "Companies",
    .permission = "companies.upload_csv",
    .job_kind = COMPANY_IMPORT_KIND,
    .records_url = "/companies?batch=",
    .record_url = "/companies/",
    .columns = company_columns,
    .ncolumns = COMPANY_COLUMNS,
    .stage_columns = "name text, website text, phone text, description text, "
		     "linkedin_url text, industry text, sub_industry text, address_street text, "
		     "address_city text, address_state text, address_country text, "
		     "address_zip text, founded_year integer, revenue_range text, "
		     "employee_size_range text, segment_id uuid",
    .copy_columns = COMPANY_STAGE_FIELDS,
    /*
     * Companies are created pending (SPEC §4), in file order, with the batch
     * id. Each row is a microsecond younger than the one above it in the file,
     * so lists ordered by creation time show a batch in file order rather than
     * in the random order of ids that share one transaction's now().
     */
    .table = "companies",
    .new_status = "pending",
    .insert_sql = "INSERT INTO companies (id, " COMPANY_STAGE_FIELDS ", status, batch_id, "
		  "created_by, created_at) SELECT id, " COMPANY_STAGE_FIELDS ", 'pending', "
		  "$1::uuid, $2::uuid, now() + row_number * interval '1 microsecond' "
		  "FROM import_stage ORDER BY row_number",
    .open = company_open,
    .close = company_close,
    .check = company_check,
};

int
company_import_register(void)
{
	/* The headers above are SPEC §4's; they must stay the field table's own. */
	if (imports_field_columns(&company_import_spec, companies_fields, COMPANIES_NFIELDS,
				  field_column) != 0)
		return -1;
	return imports_register(&company_import_spec);
}

/* ---------------------------------------------------------------- the spec */

static void *
company_open(db_conn *db)
{
	PGresult *res = db_exec(db, &st_segments, 0, NULL);
	struct company_ctx *cc;
	size_t i;

	if (!res)
		return NULL;
	cc = xcalloc(1, sizeof *cc);
	cc->db = db;
	namelookup_init(&cc->segments);
	cc->nsegs = (size_t)PQntuples(res);
	cc->seg_ids = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_ids);
	cc->seg_names = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_names);
	cc->seg_active = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_active);
	for (i = 0; i < cc->nsegs; i++) {
		snprintf(cc->seg_ids[i], sizeof cc->seg_ids[i], "%s", PQgetvalue(res, (int)i, 0));
		cc->seg_names[i] = xstrdup(PQgetvalue(res, (int)i, 2));
		cc->seg_active[i] = strcmp(PQgetvalue(res, (int)i, 1), "active") == 0;
		namelookup_add(&cc->segments, "", PQgetvalue(res, (int)i, 2), (int)i);
	}
	PQclear(res);
	return cc;
}

static void
company_close(void *ctx)
{
	struct company_ctx *cc = ctx;
	size_t i;

	for (i = 0; i < cc->nsegs; i++)
		free(cc->seg_names[i]);
	free(cc->seg_ids);
	free(cc->seg_names);
	free(cc->seg_active);
	namelookup_free(&cc->segments);
	free(cc);
}

static int
company_check(void *ctx, const char *const *values, buf *copy, struct imports_problems *problems)
{
	struct company_ctx *cc = ctx;
	char *out[COMPANIES_NFIELDS];
	char msg[600];
	char *segment;
	int bad, f, idx = -1;

	bad = imports_clean_row(companies_fields, COMPANIES_NFIELDS, field_column, values, out,
				problems);

	segment = normalise_text(values[SEGMENT_COLUMN]);
	if (!segment) {
		imports_problem(problems, SEGMENT_COLUMN, "This field is required.");
		bad++;
	} else {
		idx = namelookup_find(&cc->segments, "", segment);
		if (idx < 0) {
			snprintf(msg, sizeof msg, "There is no segment named “%.*s”.",
				 utf8_prefix(segment, 500), segment);
			imports_problem(problems, SEGMENT_COLUMN, msg);
			bad++;
		} else if (!cc->seg_active[idx]) {
			snprintf(msg, sizeof msg,
				 "The segment “%.*s” is archived and takes no new companies.",
				 utf8_prefix(cc->seg_names[idx], 500), cc->seg_names[idx]);
			imports_problem(problems, SEGMENT_COLUMN, msg);
			bad++;
		}
	}
	free(segment);
	if (bad == 0) {
		for (f = 0; f < COMPANIES_NFIELDS; f++)
			imports_copy_value(copy, out[f], f == 0);
		imports_copy_value(copy, cc->seg_ids[idx], 0);
	}
	companies_values_free(out);
	return bad;
}

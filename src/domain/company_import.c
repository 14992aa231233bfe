/*
 * company_import — the company import spec: columns, the row check, the
 * segment look-up, and the staging table with its one INSERT.
 *
 * Spec column 0 is Company Name, 1 is Segment Name, and 2.. are the other
 * company fields in companies_fields order; company_field() maps between
 * the two numberings, and company_import_register() checks at start that the
 * headers here are still the field table's csv_headers.
 *
 * Segment names are matched case-insensitively the way the database's
 * unique index on lower(name) sees them: all segments are loaded once per run
 * with PostgreSQL's lower(name), and a typed name is lowered here when it is
 * plain ASCII (where C and PostgreSQL agree); a name with other characters
 * is lowered by PostgreSQL, once per distinct name. Every answer is cached,
 * so a 50,000-row file naming five segments costs five look-ups in memory.
 */
#include "company_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "domain/companies.h"
#include "domain/normalise.h"

#define COMPANY_COLUMNS (COMPANIES_NFIELDS + 1)
#define SEGMENT_COLUMN 1

/* A small string → int hash map (open addressing), for names. */
struct name_map {
	char **keys;
	int *vals;
	size_t cap, n;
};

struct company_ctx {
	db_conn *db;
	char (*seg_ids)[37];
	char **seg_names;
	int *seg_active;
	size_t nsegs;
	struct name_map by_lower; /* PostgreSQL's lower(name) → segment */
	struct name_map cache;	  /* a name as typed (normalised) → segment, or -1 */
	const char *const *row;	  /* the row being checked, in spec column order */
	json_t *errors;		  /* companies_clean's {column: message}, reused */
};

static int company_field(size_t column);
static size_t company_column(int field);
static unsigned long name_hash(const char *s);
static int map_get(const struct name_map *m, const char *key, int *val);
static void map_put(struct name_map *m, const char *key, int val);
static void map_free(struct name_map *m);
static void *company_open(db_conn *db);
static void company_close(void *ctx);
static const char *company_get(void *ctx, const char *column);
static int company_segment(struct company_ctx *cc, const char *name);
static int company_check(void *ctx, const char *const *values, buf *copy,
			 struct imports_problems *problems);
static int utf8_prefix(const char *s, int max);

DB_STMT(st_segments, "SELECT id, lower(name), status, name FROM segments");
DB_STMT(st_lower, "SELECT lower($1)");

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
	size_t i;

	/* The headers above are SPEC §4's; they must stay the field table's own. */
	for (i = 0; i < COMPANY_COLUMNS; i++) {
		int f = company_field(i);

		if (f >= 0 &&
		    strcmp(companies_fields[f].csv_header, company_columns[i].header) != 0) {
			log_error(
			    "company import: column %zu is “%s” but the field table says “%s”", i,
			    company_columns[i].header, companies_fields[f].csv_header);
			return -1;
		}
		if (f >= 0 &&
		    company_columns[i].multiline != (companies_fields[f].kind == CF_LONG)) {
			log_error("company import: column “%s” disagrees with the field table on "
				  "being multi-line",
				  company_columns[i].header);
			return -1;
		}
	}
	return imports_register(&company_import_spec);
}

/* Spec column → companies_fields index (-1: the segment). */
static int
company_field(size_t column)
{
	if (column == 0)
		return 0;
	return column == SEGMENT_COLUMN ? -1 : (int)column - 1;
}

static size_t
company_column(int field)
{
	return field == 0 ? 0 : (size_t)field + 1;
}

/* ---------------------------------------------------------------- name map */

static unsigned long
name_hash(const char *s)
{
	unsigned long h = 14695981039346656037UL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static int
map_get(const struct name_map *m, const char *key, int *val)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = name_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0) {
			*val = m->vals[i];
			return 1;
		}
	return 0;
}

static void
map_put(struct name_map *m, const char *key, int val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct name_map bigger = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};

		bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
		bigger.vals = xcalloc(bigger.cap, sizeof *bigger.vals);
		for (i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				map_put(&bigger, m->keys[i], m->vals[i]);
				free(m->keys[i]);
			}
		free(m->keys);
		free(m->vals);
		*m = bigger;
	}
	for (i = name_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return;
		}
	m->keys[i] = xstrdup(key);
	m->vals[i] = val;
	m->n++;
}

static void
map_free(struct name_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
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
	cc->errors = json_object();
	cc->nsegs = (size_t)PQntuples(res);
	cc->seg_ids = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_ids);
	cc->seg_names = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_names);
	cc->seg_active = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_active);
	for (i = 0; i < cc->nsegs; i++) {
		snprintf(cc->seg_ids[i], sizeof cc->seg_ids[i], "%s", PQgetvalue(res, (int)i, 0));
		cc->seg_names[i] = xstrdup(PQgetvalue(res, (int)i, 3));
		cc->seg_active[i] = strcmp(PQgetvalue(res, (int)i, 2), "active") == 0;
		map_put(&cc->by_lower, PQgetvalue(res, (int)i, 1), (int)i);
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
	map_free(&cc->by_lower);
	map_free(&cc->cache);
	json_decref(cc->errors);
	free(cc);
}

/* companies_clean asks for its fields by column name, passing the field table's own pointers. */
static const char *
company_get(void *ctx, const char *column)
{
	struct company_ctx *cc = ctx;
	int f;

	for (f = 0; f < COMPANIES_NFIELDS; f++)
		if (column == companies_fields[f].column)
			return cc->row[company_column(f)];
	for (f = 0; f < COMPANIES_NFIELDS; f++)
		if (strcmp(column, companies_fields[f].column) == 0)
			return cc->row[company_column(f)];
	return NULL;
}

/* How many bytes of s to quote, at most max, without cutting a UTF-8 character in two. */
static int
utf8_prefix(const char *s, int max)
{
	int n = (int)strnlen(s, (size_t)max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* The segment a (normalised) name means: its index, -1 when there is none, -2 on a database error.
 */
static int
company_segment(struct company_ctx *cc, const char *name)
{
	const unsigned char *s;
	char *lower;
	int idx = -1, ascii = 1;

	if (map_get(&cc->cache, name, &idx))
		return idx;
	for (s = (const unsigned char *)name; *s; s++)
		if (*s >= 0x80)
			ascii = 0;
	if (ascii) {
		char *p;

		lower = xstrdup(name);
		for (p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	} else {
		const char *prm[1] = {name};
		PGresult *res = db_exec(cc->db, &st_lower, 1, prm);

		if (!res)
			return -2;
		lower = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (!map_get(&cc->by_lower, lower, &idx))
		idx = -1;
	free(lower);
	map_put(&cc->cache, name, idx);
	return idx;
}

static int
company_check(void *ctx, const char *const *values, buf *copy, struct imports_problems *problems)
{
	struct company_ctx *cc = ctx;
	char *out[COMPANIES_NFIELDS];
	char msg[600];
	char *segment;
	const char *key;
	json_t *v;
	int bad, f, idx = -1;

	cc->row = values;
	json_object_clear(cc->errors);
	bad = companies_clean(company_get, cc, 0, out, NULL, cc->errors);
	json_object_foreach(cc->errors, key, v)
	{
		for (f = 0; f < COMPANIES_NFIELDS; f++)
			if (strcmp(key, companies_fields[f].column) == 0)
				imports_problem(problems, company_column(f), json_string_value(v));
	}

	segment = normalise_text(values[SEGMENT_COLUMN]);
	if (!segment) {
		imports_problem(problems, SEGMENT_COLUMN, "This field is required.");
		bad++;
	} else {
		idx = company_segment(cc, segment);
		if (idx == -2) {
			/* a failed look-up is not the row's fault: report it as one, loudly */
			log_error("company import: segment look-up failed: %s",
				  db_error_message(cc->db));
			imports_problem(problems, SEGMENT_COLUMN,
					"The segment could not be looked up; try again.");
			bad++;
		} else if (idx < 0) {
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

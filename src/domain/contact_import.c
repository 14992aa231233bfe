/*
 * contact_import — the contact import spec: columns, the row check, the
 * segment and company look-ups, and the staging table with its one INSERT.
 *
 * Look-ups are loaded once per run (domain/namelookup.h): every segment by
 * name, and every company by name within "<segment id>/", the
 * candidates ordered so that, when a segment holds two companies of one
 * name, the approved, non-duplicate, active, oldest one is the one a row
 * means. All companies are loaded, whatever their status, so that a row
 * naming a pending or rejected company is told exactly that. At 100,000
 * companies that is one sequential read, unsorted (the preference is sorted
 * here), and a few megabytes for the run.
 */
#include "contact_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "domain/contacts.h"
#include "domain/namelookup.h"
#include "domain/normalise.h"

#define CONTACT_COLUMNS (CONTACTS_NFIELDS + 2)
#define COMPANY_COLUMN 3
#define SEGMENT_COLUMN 4

struct contact_ctx {
	db_conn *db;
	char (*seg_ids)[37];
	size_t nsegs;
	char (*co_ids)[37];
	char *co_status; /* 'a'pproved, 'p'ending, 'r'ejected */
	size_t ncos;
	struct namelookup segments;  /* name → segment index */
	struct namelookup companies; /* name within "<segment id>/" → company index */
};

/* contacts_fields[f] is read from spec column field_column[f] (set at registration). */
static int field_column[CONTACTS_NFIELDS];

static void *contact_open(db_conn *db);
static void contact_close(void *ctx);
static int contact_check(void *ctx, const char *const *values, buf *copy,
			 struct imports_problems *problems);
static int contact_company(struct contact_ctx *cc, const char *const *values,
			   struct imports_problems *problems, int *seg_out);
static int contact_prefer(const void *a, const void *b);

DB_STMT(st_segments, "SELECT id, name FROM segments");
/*
 * Unsorted: the order of preference (the rank, approved and shown first, then
 * the oldest) is put in here (contact_prefer), 20 ms for 100,000 companies
 * where the database's sort of the wide rows took 0.4 s of the import.
 */
DB_STMT(st_companies, "SELECT segment_id || '/', id, left(status, 1), name, (status <> "
		      "'approved')::int * 4 + is_duplicate::int * 2 + (NOT is_active)::int, "
		      "(extract(epoch FROM created_at) * 1000000)::bigint FROM companies");

/* A company row of st_companies, for the order in which the look-up takes them. */
struct contact_candidate {
	int row;
	int rank;	   /* 0 = approved, not a duplicate, active; higher = less wanted */
	long long created; /* µs since 1970 */
	const char *id;
};

static const struct imports_column contact_columns[CONTACT_COLUMNS] = {
    {"First Name", 1, "Up to 200 characters.", 0},
    {"Last Name", 1, "Up to 200 characters.", 0},
    {"Email", 1, "A valid e-mail address; stored in lower case.", 0},
    {"Company Name", 1,
     "The name of an approved company in the named segment, in any case (the same name "
     "can be a different company in another segment).",
     0},
    {"Segment Name", 1, "The name of the company's segment, in any case.", 0},
    {"Mobile Phone", 0, "Up to 50 characters.", 0},
    {"Job Title", 0, "Up to 500 characters.", 0},
    {"Direct Phone Number", 0, "Up to 50 characters.", 0},
    {"Email Address 2", 0, "A valid e-mail address, or empty.", 0},
    {"Email Active Status", 0, "Up to 100 characters.", 0},
    {"Lead Source Global", 0, "Up to 200 characters.", 0},
    {"Management Level", 0, "Up to 200 characters.", 0},
    {"Street", 0, "Up to 500 characters.", 0},
    {"City", 0, "Up to 200 characters.", 0},
    {"State/Province", 0, "Up to 200 characters.", 0},
    {"Country/Region", 0, "Up to 200 characters.", 0},
    {"ZIP/Postal Code", 0, "Up to 50 characters.", 0},
    {"Primary Time Zone", 0, "Up to 100 characters.", 0},
    {"Contact LinkedIn URL", 0, "A web address.", 0},
    {"LinkedIn Summary", 0, "Up to 5,000 characters. Line breaks are kept.", 1},
    {"Data Requester Details", 0, "Up to 500 characters.", 0},
};

/* The staging columns: the contact fields in table order, then the look-ups' answers. */
#define CONTACT_STAGE_FIELDS                                                                       \
	"first_name, last_name, email, mobile_phone, direct_phone, job_title, email_2, "           \
	"email_active_status, lead_source, management_level, address_street, address_city, "       \
	"address_state, address_country, address_zip, primary_timezone, linkedin_url, "            \
	"linkedin_summary, data_requester_details, company_id, segment_id"

const struct imports_spec contact_import_spec = {
    .entity_type = "contact",
    .slug = "contacts",
    .noun = "contact",
    .nouns = "contacts",
    .title = "Contacts",
    .permission = "contacts.upload_csv",
    .job_kind = CONTACT_IMPORT_KIND,
    .records_url = "/contacts?batch=",
    .record_url = "/contacts/",
    .columns = contact_columns,
    .ncolumns = CONTACT_COLUMNS,
    .stage_columns = "first_name text, last_name text, email text, mobile_phone text, "
		     "direct_phone text, job_title text, email_2 text, email_active_status text, "
		     "lead_source text, management_level text, address_street text, "
		     "address_city text, address_state text, address_country text, "
		     "address_zip text, primary_timezone text, linkedin_url text, "
		     "linkedin_summary text, data_requester_details text, company_id uuid, "
		     "segment_id uuid",
    .copy_columns = CONTACT_STAGE_FIELDS,
    .table = "contacts",
    .new_status = "uploaded",
    /* Contacts are created uploaded (SPEC §4), in file order, with the batch id. */
    .insert_sql = "INSERT INTO contacts (id, " CONTACT_STAGE_FIELDS ", status, batch_id, "
		  "created_by) SELECT id, " CONTACT_STAGE_FIELDS ", 'uploaded', $1::uuid, "
		  "$2::uuid FROM import_stage ORDER BY row_number",
    .open = contact_open,
    .close = contact_close,
    .check = contact_check,
};

int
contact_import_register(void)
{
	/* The headers above are SPEC §4's; they must stay the field table's own. */
	if (imports_field_columns(&contact_import_spec, contacts_fields, CONTACTS_NFIELDS,
				  field_column) != 0)
		return -1;
	return imports_register(&contact_import_spec);
}

static void *
contact_open(db_conn *db)
{
	PGresult *segs = db_exec(db, &st_segments, 0, NULL), *cos;
	struct contact_candidate *order;
	struct contact_ctx *cc;
	size_t i;

	if (!segs)
		return NULL;
	cos = db_exec(db, &st_companies, 0, NULL);
	if (!cos) {
		PQclear(segs);
		return NULL;
	}
	cc = xcalloc(1, sizeof *cc);
	cc->db = db;
	namelookup_init(&cc->segments);
	namelookup_init(&cc->companies);
	cc->nsegs = (size_t)PQntuples(segs);
	cc->seg_ids = xcalloc(cc->nsegs ? cc->nsegs : 1, sizeof *cc->seg_ids);
	for (i = 0; i < cc->nsegs; i++) {
		snprintf(cc->seg_ids[i], sizeof cc->seg_ids[i], "%s", PQgetvalue(segs, (int)i, 0));
		namelookup_add(&cc->segments, "", PQgetvalue(segs, (int)i, 1), (int)i);
	}
	cc->ncos = (size_t)PQntuples(cos);
	cc->co_ids = xcalloc(cc->ncos ? cc->ncos : 1, sizeof *cc->co_ids);
	cc->co_status = xcalloc(cc->ncos ? cc->ncos : 1, 1);
	order = xcalloc(cc->ncos ? cc->ncos : 1, sizeof *order);
	for (i = 0; i < cc->ncos; i++) {
		snprintf(cc->co_ids[i], sizeof cc->co_ids[i], "%s", PQgetvalue(cos, (int)i, 1));
		cc->co_status[i] = PQgetvalue(cos, (int)i, 2)[0];
		order[i].row = (int)i;
		order[i].rank = atoi(PQgetvalue(cos, (int)i, 4));
		order[i].created = atoll(PQgetvalue(cos, (int)i, 5));
		order[i].id = cc->co_ids[i];
	}
	/* the first of a name in a segment is the preferred one */
	qsort(order, cc->ncos, sizeof *order, contact_prefer);
	for (i = 0; i < cc->ncos; i++)
		namelookup_add(&cc->companies, PQgetvalue(cos, order[i].row, 0),
			       PQgetvalue(cos, order[i].row, 3), order[i].row);
	free(order);
	PQclear(segs);
	PQclear(cos);
	return cc;
}

/* Approved, shown companies first; among equals the oldest, then by id. */
static int
contact_prefer(const void *a, const void *b)
{
	const struct contact_candidate *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void
contact_close(void *ctx)
{
	struct contact_ctx *cc = ctx;

	free(cc->seg_ids);
	free(cc->co_ids);
	free(cc->co_status);
	namelookup_free(&cc->segments);
	namelookup_free(&cc->companies);
	free(cc);
}

/*
 * The company a row names, within the segment it names: its index (and the
 * segment's in *seg_out), or -1 with every problem reported on its column.
 */
static int
contact_company(struct contact_ctx *cc, const char *const *values,
		struct imports_problems *problems, int *seg_out)
{
	char *segment = normalise_text(values[SEGMENT_COLUMN]);
	char *company = normalise_text(values[COMPANY_COLUMN]);
	char msg[1200], scope[40];
	int seg = -1, idx = -1;

	if (!company)
		imports_problem(problems, COMPANY_COLUMN, "This field is required.");
	if (!segment) {
		imports_problem(problems, SEGMENT_COLUMN, "This field is required.");
	} else {
		seg = namelookup_find(&cc->segments, "", segment);
		if (seg == -1) {
			snprintf(msg, sizeof msg, "There is no segment named “%.*s”.",
				 utf8_prefix(segment, 500), segment);
			imports_problem(problems, SEGMENT_COLUMN, msg);
		}
	}
	if (seg >= 0 && company) {
		snprintf(scope, sizeof scope, "%s/", cc->seg_ids[seg]);
		idx = namelookup_find(&cc->companies, scope, company);
		if (idx == -1) {
			snprintf(msg, sizeof msg,
				 "There is no company named “%.*s” in the segment “%.*s”.",
				 utf8_prefix(company, 500), company, utf8_prefix(segment, 500),
				 segment);
			imports_problem(problems, COMPANY_COLUMN, msg);
		} else if (cc->co_status[idx] == 'p') {
			snprintf(
			    msg, sizeof msg,
			    "The company “%.*s” is still pending approval: contacts can be added "
			    "once it is approved.",
			    utf8_prefix(company, 500), company);
			imports_problem(problems, COMPANY_COLUMN, msg);
			idx = -1;
		} else if (cc->co_status[idx] != 'a') {
			snprintf(msg, sizeof msg,
				 "The company “%.*s” was rejected and cannot have contacts.",
				 utf8_prefix(company, 500), company);
			imports_problem(problems, COMPANY_COLUMN, msg);
			idx = -1;
		}
	}
	free(segment);
	free(company);
	*seg_out = seg;
	return idx;
}

static int
contact_check(void *ctx, const char *const *values, buf *copy, struct imports_problems *problems)
{
	struct contact_ctx *cc = ctx;
	char *out[CONTACTS_NFIELDS];
	int bad, f, idx, seg = -1;

	bad = imports_clean_row(contacts_fields, CONTACTS_NFIELDS, field_column, values, out,
				problems);
	idx = contact_company(cc, values, problems, &seg);
	if (idx < 0)
		bad++;
	if (bad == 0) {
		for (f = 0; f < CONTACTS_NFIELDS; f++)
			imports_copy_value(copy, out[f], f == 0);
		imports_copy_value(copy, cc->co_ids[idx], 0);
		/* the company's segment: the look-up was scoped by it */
		imports_copy_value(copy, cc->seg_ids[seg], 0);
	}
	contacts_values_free(out);
	return bad;
}

/*
 * records and namelookup — the parsing every list and every contact import
 * relies on: calendar dates, page cursors, the shared filter checks, the
 * keyset SQL, the one clean step per field kind, and the case-insensitive
 * name look-up the imports use (no database: it runs mid-COPY).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "domain/contacts.h"
#include "domain/namelookup.h"
#include "domain/records.h"
#include "itest.h"

static void
test_dates(void **state)
{
	(void)state;
	assert_true(records_valid_date("2024-02-29"));
	assert_false(records_valid_date("2023-02-29"));
	assert_true(records_valid_date("2000-02-29"));
	assert_false(records_valid_date("1900-02-29"));
	assert_false(records_valid_date("2021-04-31"));
	assert_false(records_valid_date("2021-13-01"));
	assert_false(records_valid_date("2021-1-01"));
	assert_false(records_valid_date("2021-01-01x"));
	assert_false(records_valid_date(""));
	assert_false(records_valid_date(NULL));
}

static void
test_cursor(void **state)
{
	char ts[40], id[37];
	(void)state;

	assert_int_equal(records_parse_cursor("2024-03-05T10:00:00.123456Z_"
					      "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d",
					      ts, id),
			 0);
	assert_string_equal(ts, "2024-03-05T10:00:00.123456Z");
	assert_string_equal(id, "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d");
	/* damaged or hand-made links */
	assert_int_equal(records_parse_cursor("2024-03-05T10:00:00.123456Z_nope", ts, id), -1);
	assert_int_equal(records_parse_cursor("2024-02-30T10:00:00.123456Z_"
					      "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d",
					      ts, id),
			 -1);
	assert_int_equal(records_parse_cursor("2024-03-05T25:00:00.123456Z_"
					      "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d",
					      ts, id),
			 -1);
	assert_int_equal(records_parse_cursor("2024-03-05T10:00:00.123456X_"
					      "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d",
					      ts, id),
			 -1);
	assert_int_equal(records_parse_cursor("0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d", ts, id), -1);
	assert_int_equal(records_parse_cursor("", ts, id), -1);
	assert_int_equal(records_parse_cursor(NULL, ts, id), -1);
}

static void
test_filter_problem_and_keyset(void **state)
{
	const char *params[8];
	char ts[40], id[37], long_q[202];
	buf sql = BUF_INIT;
	int n = 0;
	(void)state;

	memset(long_q, 'q', 201);
	long_q[201] = '\0';
	assert_null(
	    records_filter_problem(NULL, NULL, NULL, "acme", "2024-01-01", "2024-12-31", NULL));
	assert_non_null(records_filter_problem(NULL, NULL, NULL, NULL, "2024-31-01", NULL, NULL));
	assert_non_null(records_filter_problem(NULL, NULL, NULL, NULL, NULL, "yesterday", NULL));
	assert_non_null(records_filter_problem(NULL, NULL, NULL, NULL, NULL, NULL, "page-2"));
	assert_non_null(records_filter_problem(NULL, NULL, NULL, long_q, NULL, NULL, NULL));
	assert_non_null(records_filter_problem(NULL, NULL, NULL, "\xC3\x28", NULL, NULL, NULL));
	assert_non_null(records_filter_problem("seg", NULL, NULL, NULL, NULL, NULL, NULL));
	assert_non_null(records_filter_problem(NULL, "me", NULL, NULL, NULL, NULL, NULL));
	assert_non_null(records_filter_problem(NULL, NULL, "batch-1", NULL, NULL, NULL, NULL));

	/* keyset: the cursor's two values bound, the comparison follows the order */
	records_keyset(&sql, params, &n, "k",
		       "2024-03-05T10:00:00.123456Z_0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d", 0, ts,
		       id);
	assert_int_equal(n, 2);
	assert_ptr_equal(params[0], ts);
	assert_non_null(strstr(sql.data, "(k.created_at, k.id) < ($1::timestamptz, $2::uuid)"));
	assert_non_null(strstr(sql.data, "ORDER BY k.created_at DESC, k.id DESC"));
	buf_reset(&sql);
	n = 0;
	records_keyset(&sql, params, &n, "k", "broken", 1, ts, id);
	assert_int_equal(n, 0);
	assert_string_equal(sql.data, " ORDER BY k.created_at, k.id");
	buf_reset(&sql);
	records_date_range(&sql, params, &n, "c", "2024-01-01", NULL);
	assert_int_equal(n, 1);
	assert_string_equal(sql.data, " AND c.created_at >= $1::date");
	buf_free(&sql);
}

/* One clean per kind, whichever way the values come: here, a contact. */
static void
test_contact_clean(void **state)
{
	const char *kv[] = {"first_name",
			    " Ada ",
			    "last_name",
			    "Lovelace",
			    "email",
			    " ADA@Example.Com",
			    "email_2",
			    "nope",
			    "linkedin_summary",
			    " a \r\n\r\n\r\n b ",
			    "linkedin_url",
			    "LinkedIn.com/in/ada/",
			    NULL};
	char *out[CONTACTS_NFIELDS];
	int present[CONTACTS_NFIELDS];
	json_t *errors = json_object();
	(void)state;

	assert_int_equal(contacts_clean(itest_pairs_get, (void *)kv, 0, out, present, errors), 1);
	assert_string_equal(out[0], "Ada");
	assert_string_equal(out[2], "ada@example.com");
	assert_non_null(json_object_get(errors, "email_2"));
	assert_string_equal(out[17], "a\n\nb");
	assert_string_equal(out[16], "https://linkedin.com/in/ada");
	assert_true(present[2]);
	assert_false(present[3]);
	contacts_values_free(out);
	json_decref(errors);
	/* partial: absent required fields are not required */
	errors = json_object();
	assert_int_equal(contacts_clean(itest_pairs_get,
					(void *)(const char *[]){"job_title", "x", NULL}, 1, out,
					present, errors),
			 0);
	contacts_values_free(out);
	json_decref(errors);
}

static void
test_namelookup(void **state)
{
	struct namelookup l;
	(void)state;

	namelookup_init(&l);
	namelookup_add(&l, "", "Acme Corp", 1);
	namelookup_add(&l, "", "ACME CORP", 2); /* the first added wins */
	namelookup_add(&l, "seg-1/", "Acme", 3);
	namelookup_add(&l, "seg-2/", "Acme", 4);
	namelookup_add(&l, "", "Zürich Öl Ltd", 5);
	namelookup_add(&l, "", "Ελληνική", 6);
	assert_int_equal(namelookup_find(&l, "", "ACME Corp"), 1);
	assert_int_equal(namelookup_find(&l, "", "acme corp"), 1);
	assert_int_equal(namelookup_find(&l, "", "Acme"), -1);
	assert_int_equal(namelookup_find(&l, "seg-1/", "aCmE"), 3);
	assert_int_equal(namelookup_find(&l, "seg-2/", "ACME"), 4);
	assert_int_equal(namelookup_find(&l, "seg-3/", "Acme"), -1);
	/* beyond ASCII, without a database: both sides lowered alike */
	assert_int_equal(namelookup_find(&l, "", "ZÜRICH ÖL LTD"), 5);
	assert_int_equal(namelookup_find(&l, "", "zürich öl ltd"), 5);
	assert_int_equal(namelookup_find(&l, "", "ΕΛΛΗΝΙΚΉ"), 6);
	/* cached answers stay the same */
	assert_int_equal(namelookup_find(&l, "seg-2/", "ACME"), 4);
	namelookup_free(&l);
}

static void
test_utf8_prefix(void **state)
{
	(void)state;
	assert_int_equal(utf8_prefix("abc", 10), 3);
	assert_int_equal(utf8_prefix("abcdef", 4), 4);
	/* "é" is two bytes: never cut in two */
	assert_int_equal(utf8_prefix("ab\xC3\xA9", 3), 2);
	assert_int_equal(utf8_prefix("ab\xC3\xA9", 4), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_filter_problem_and_keyset),
	    cmocka_unit_test(test_contact_clean),
	    cmocka_unit_test(test_namelookup),
	    cmocka_unit_test(test_utf8_prefix),
	};
	return cmocka_run_group_tests_name("records", tests, NULL, NULL);
}

/*
 * The streaming CSV reader (src/core/csvin.h) against csv-spectrum
 * ($SPANNER_TESTDATA/csv-spectrum, default ../shared/testdata): every one of
 * its 12 CSV files, read with csvin_parse_file, gives exactly the records of
 * its expected JSON (an array of objects keyed by the header row; compared
 * with jansson's json_equal, so every byte of every value counts — embedded
 * CRLF inside quotes and a bare quote inside an unquoted value included), and
 * csvin_parse_buffer agrees with it. The line each record starts on is
 * checked against a table worked out by hand. One expected value contradicts
 * its own CSV upstream (spectrum_errata): there the CSV's bytes win.
 *
 * Then what csv-spectrum does not cover but the importer relies on: files
 * big enough to cross the reader's chunk boundaries (quoted newlines, doubled
 * quotes and multi-byte characters split across chunks are still read
 * intact, with the right line numbers), a UTF-8 byte-order mark dropped, lone
 * CR line ends, invalid UTF-8 refused naming the first bad line, an unclosed
 * quote refused, and a callback's stop value handed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csvin.h"
#include "itest.h"

/* Records as read: an array of arrays of strings, and the line each one started on. */
struct collected {
	json_t *records;
	json_t *lines;
	size_t stop_after; /* 0: never stop; else return 42 after that many records */
};

static int collect(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);
static json_t *as_objects(json_t *records);
static int read_file(const char *path, buf *out);
static void write_file(const char *path, const char *data, size_t len);
static const char *scratch(const char *name);
static void parse_path(const char *path, struct collected *c, int *rc, struct csvin_error *err);
static void parse_mem(const char *data, size_t len, struct collected *c, int *rc,
		      struct csvin_error *err);
static void collected_free(struct collected *c);

/*
 * The physical line each record of each file starts on (header included),
 * worked out from the bytes with od -c: a quoted newline moves the next record
 * down a line, and CRLF counts as one line end.
 */
static const struct {
	const char *name;
	size_t nlines;
	size_t lines[4];
} spectrum_lines[] = {
    {"comma_in_quotes", 2, {1, 2}},
    {"empty", 3, {1, 2, 3}},
    {"empty_crlf", 3, {1, 2, 3}},
    {"escaped_quotes", 3, {1, 2, 3}},
    {"json", 2, {1, 2}},
    {"location_coordinates", 2, {1, 2}},
    {"newlines", 4, {1, 2, 3, 5}},
    {"newlines_crlf", 4, {1, 2, 3, 5}},
    {"quotes_and_newlines", 3, {1, 2, 5}},
    {"simple", 2, {1, 2}},
    {"simple_crlf", 2, {1, 2}},
    {"utf8", 3, {1, 2, 3}},
};
#define N_SPECTRUM (sizeof spectrum_lines / sizeof spectrum_lines[0])

/*
 * Where csv-spectrum's expected JSON contradicts its own CSV (upstream errata):
 * the JSON must still say `json_says` (so a corrected upstream file is
 * noticed), and the reader must give what the CSV's bytes say.
 */
static const struct {
	const char *name, *key, *json_says, *csv_says;
} spectrum_errata[] = {
    /* the CSV's phone number is 2095257564; the JSON was written with a placeholder */
    {"location_coordinates", "Contact Phone Number", "1234567890", "2095257564"},
};

/* ---------------------------------------------------------------- helpers */

static int
collect(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct collected *c = ctx;
	json_t *rec = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		/* the length given and the NUL terminator must agree */
		assert_int_equal(strlen(fields[i]), lens[i]);
		json_array_append_new(rec, json_stringn(fields[i], lens[i]));
	}
	json_array_append_new(c->records, rec);
	json_array_append_new(c->lines, json_integer((json_int_t)line));
	if (c->stop_after && json_array_size(c->records) == c->stop_after)
		return 42;
	return 0;
}

/* [[header...], [row...], ...] → [{header: value}, ...], as csv-spectrum writes them. */
static json_t *
as_objects(json_t *records)
{
	json_t *out = json_array(), *header = json_array_get(records, 0);
	size_t i, j;

	for (i = 1; i < json_array_size(records); i++) {
		json_t *rec = json_array_get(records, i), *obj = json_object();

		assert_int_equal(json_array_size(rec), json_array_size(header));
		for (j = 0; j < json_array_size(rec); j++)
			json_object_set(obj, json_string_value(json_array_get(header, j)),
					json_array_get(rec, j));
		json_array_append_new(out, obj);
	}
	return out;
}

static int
read_file(const char *path, buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return 0;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A file name under var/test (generated files never go into the repository). */
static const char *
scratch(const char *name)
{
	static char path[512];

	mkdir("var", 0755);
	mkdir("var/test", 0755);
	snprintf(path, sizeof path, "var/test/csvin-%d-%s", (int)getpid(), name);
	return path;
}

static void
parse_path(const char *path, struct collected *c, int *rc, struct csvin_error *err)
{
	c->records = json_array();
	c->lines = json_array();
	memset(err, 0, sizeof *err);
	*rc = csvin_parse_file(path, collect, c, err);
}

static void
parse_mem(const char *data, size_t len, struct collected *c, int *rc, struct csvin_error *err)
{
	c->records = json_array();
	c->lines = json_array();
	memset(err, 0, sizeof *err);
	*rc = csvin_parse_buffer(data, len, collect, c, err);
}

static void
collected_free(struct collected *c)
{
	json_decref(c->records);
	json_decref(c->lines);
	c->records = c->lines = NULL;
}

/* ---------------------------------------------------------------- csv-spectrum */

static void
test_spectrum(void **state)
{
	char csv[4096], jsonp[4096];
	buf problems = BUF_INIT;
	size_t i, checked = 0;
	DIR *d;
	struct dirent *e;

	(void)state;
	/* every file in the folder has a row in the table: none is skipped unseen */
	d = opendir(itest_testdata("csv-spectrum/csvs"));
	if (!d)
		fail_msg("cannot open %s (set SPANNER_TESTDATA)", itest_testdata("csv-spectrum/csvs"));
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		int known = 0;

		if (len < 5 || strcmp(e->d_name + len - 4, ".csv"))
			continue;
		for (i = 0; i < N_SPECTRUM; i++)
			if (strlen(spectrum_lines[i].name) == len - 4 &&
			    !strncmp(spectrum_lines[i].name, e->d_name, len - 4))
				known = 1;
		if (!known)
			fail_msg("csv-spectrum file %s has no row in spectrum_lines", e->d_name);
	}
	closedir(d);

	/* every file is checked and every problem listed before the test fails */
	for (i = 0; i < N_SPECTRUM; i++) {
		struct collected fc = {0}, bc = {0};
		struct csvin_error err;
		json_error_t jerr;
		json_t *want, *got;
		buf bytes = BUF_INIT;
		int rc;
		size_t k;

		snprintf(csv, sizeof csv, "%s", itest_testdata(""));
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "csv-spectrum/csvs/%s.csv",
			 spectrum_lines[i].name);
		snprintf(jsonp, sizeof jsonp, "%s", itest_testdata(""));
		snprintf(jsonp + strlen(jsonp), sizeof jsonp - strlen(jsonp),
			 "csv-spectrum/json/%s.json", spectrum_lines[i].name);
		checked++;

		want = json_load_file(jsonp, 0, &jerr);
		if (!want)
			fail_msg("%s: %s", jsonp, jerr.text);
		/* location_coordinates.json holds its one record as an object, not an array */
		if (json_is_object(want)) {
			json_t *arr = json_array();

			json_array_append_new(arr, want);
			want = arr;
		}
		for (k = 0; k < sizeof spectrum_errata / sizeof spectrum_errata[0]; k++) {
			json_t *rec = json_array_get(want, 0);

			if (strcmp(spectrum_errata[k].name, spectrum_lines[i].name) != 0)
				continue;
			assert_string_equal(
			    json_string_value(json_object_get(rec, spectrum_errata[k].key)),
			    spectrum_errata[k].json_says);
			json_object_set_new(rec, spectrum_errata[k].key,
					    json_string(spectrum_errata[k].csv_says));
		}
		parse_path(csv, &fc, &rc, &err);
		if (rc != 0) {
			buf_printf(&problems, "%s: refused (returned %d, line %zu: %s)\n",
				   spectrum_lines[i].name, rc, err.line, err.message);
			json_decref(want);
			collected_free(&fc);
			continue;
		}
		got = as_objects(fc.records);
		if (!json_equal(got, want)) {
			char *g = json_dumps(got, 0), *w = json_dumps(want, 0);

			buf_printf(&problems, "%s:\n  got  %s\n  want %s\n", spectrum_lines[i].name,
				   g, w);
			free(g);
			free(w);
		}
		/* the lines each record starts on */
		if (json_array_size(fc.lines) != spectrum_lines[i].nlines)
			buf_printf(&problems, "%s: %zu records, expected %zu\n",
				   spectrum_lines[i].name, json_array_size(fc.lines),
				   spectrum_lines[i].nlines);
		for (k = 0; k < spectrum_lines[i].nlines && k < json_array_size(fc.lines); k++)
			if ((size_t)json_integer_value(json_array_get(fc.lines, k)) !=
			    spectrum_lines[i].lines[k])
				buf_printf(
				    &problems, "%s: record %zu starts on line %lld, not %zu\n",
				    spectrum_lines[i].name, k,
				    (long long)json_integer_value(json_array_get(fc.lines, k)),
				    spectrum_lines[i].lines[k]);

		/* the buffer API reads the same bytes the same way */
		assert_int_equal(read_file(csv, &bytes), 0);
		parse_mem(bytes.data, bytes.len, &bc, &rc, &err);
		if (rc != 0 || !json_equal(bc.records, fc.records) ||
		    !json_equal(bc.lines, fc.lines))
			buf_printf(&problems,
				   "%s: csvin_parse_buffer disagrees with "
				   "csvin_parse_file\n",
				   spectrum_lines[i].name);

		buf_free(&bytes);
		json_decref(got);
		json_decref(want);
		collected_free(&fc);
		collected_free(&bc);
	}
	if (problems.len) {
		print_error("%s", problems.data);
		buf_free(&problems);
		fail_msg("csv-spectrum: the reader disagrees with the expected JSON (above)");
	}
	assert_int_equal(checked, 12);
}

/* ---------------------------------------------------------------- beyond spectrum */

/*
 * Records that are hard to cut: a quoted field with CRLF, LF and a doubled
 * quote, and multi-byte characters of 2, 3 and 4 bytes. Repeated past 1 MiB,
 * every kind of thing lands on some chunk boundary whatever the reader's
 * chunk size is (it is not part of the contract).
 */
static void
test_chunk_boundaries(void **state)
{
	const char *header = "Company Name,Segment Name,Company Description\r\n";
	buf data = BUF_INIT;
	struct collected c = {0};
	struct csvin_error err;
	const char *path = scratch("chunks.csv");
	size_t i, n = 0, line = 2;
	int rc;

	(void)state;
	buf_puts(&data, header);
	for (i = 0; data.len < 1100000 + (i % 7); i++) {
		/* vary the record length so boundaries fall on every byte offset */
		buf_printf(&data, "\"Acme \"\"%zu\"\" ʤ€😀%.*s\",Seg,\"one\r\ntwo\nthree\"\r\n", i,
			   (int)(i % 5), "xxxxx");
		n++;
	}
	write_file(path, data.data, data.len);
	parse_path(path, &c, &rc, &err);
	if (rc != 0)
		fail_msg("csvin_parse_file: %d (line %zu: %s)", rc, err.line, err.message);
	assert_int_equal(json_array_size(c.records), n + 1);
	for (i = 0; i < n; i++) {
		json_t *rec = json_array_get(c.records, i + 1);
		char want[128];

		snprintf(want, sizeof want, "Acme \"%zu\" ʤ€😀%.*s", i, (int)(i % 5), "xxxxx");
		assert_int_equal(json_array_size(rec), 3);
		assert_string_equal(json_string_value(json_array_get(rec, 0)), want);
		assert_string_equal(json_string_value(json_array_get(rec, 1)), "Seg");
		assert_string_equal(json_string_value(json_array_get(rec, 2)), "one\r\ntwo\nthree");
		/* each record spans three physical lines */
		assert_int_equal(json_integer_value(json_array_get(c.lines, i + 1)),
				 (json_int_t)line);
		line += 3;
	}
	collected_free(&c);
	unlink(path);
	buf_free(&data);
}

static void
test_bom_and_line_ends(void **state)
{
	static const char *const variants[] = {
	    ("\xEF\xBB\xBF"
	     "a,b\r\n1,2\r\n3,4\r\n"), /* BOM + CRLF */
	    "a,b\r1,2\r3,4",	       /* lone CR, no final line end */
	    "a,b\n1,2\r\n3,4\r",       /* mixed */
	};
	size_t v;

	(void)state;
	for (v = 0; v < sizeof variants / sizeof variants[0]; v++) {
		struct collected c = {0};
		struct csvin_error err;
		json_t *want = json_pack("[[ss][ss][ss]]", "a", "b", "1", "2", "3", "4");
		int rc;

		parse_mem(variants[v], strlen(variants[v]), &c, &rc, &err);
		assert_int_equal(rc, 0);
		if (!json_equal(c.records, want))
			fail_msg("variant %zu: %s", v, json_dumps(c.records, 0));
		assert_int_equal(json_integer_value(json_array_get(c.lines, 2)), 3);
		json_decref(want);
		collected_free(&c);
	}
}

static void
test_invalid_utf8_names_first_bad_line(void **state)
{
	/* line 7 holds a Latin-1 "é"; line 9 another — the first one is named */
	const char *data = "Company Name,Segment Name\n"
			   "A,S\n"
			   "\"B\nb\",S\n" /* lines 3-4 */
			   "C,S\n"
			   "D,S\n"
			   "Caf\xE9,S\n" /* line 7 */
			   "E,S\n"
			   "\xFF,S\n";
	const char *path = scratch("bad-utf8.csv");
	struct collected c = {0};
	struct csvin_error err;
	int rc;

	(void)state;
	parse_mem(data, strlen(data), &c, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.line, 7);
	assert_non_null(strstr(err.message, "7"));
	collected_free(&c);

	write_file(path, data, strlen(data));
	parse_path(path, &c, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.line, 7);
	assert_non_null(strstr(err.message, "7"));
	collected_free(&c);
	unlink(path);

	/* a character cut short at the very end of the input, and an overlong form */
	parse_mem("a,b\n1,\xE2\x82", 8, &c, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.line, 2);
	collected_free(&c);
	parse_mem("a,b\n\n\n1,\xC0\xAF\n", 11, &c, &rc, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.line, 4);
	collected_free(&c);
}

static void
test_malformed_quotes_refused(void **state)
{
	const char *unclosed = "a,b,c\n\"Foo\",\"Bar\",\"Baz\n";
	struct collected c = {0};
	struct csvin_error err;
	int rc;

	(void)state;
	parse_mem(unclosed, strlen(unclosed), &c, &rc, &err);
	assert_int_equal(rc, -1);
	assert_true(err.message[0] != '\0');
	collected_free(&c);
}

static void
test_callback_stop_value(void **state)
{
	const char *data = "a\n1\n2\n3\n";
	struct collected c = {0};
	struct csvin_error err;
	int rc;

	(void)state;
	c.stop_after = 2;
	parse_mem(data, strlen(data), &c, &rc, &err);
	assert_int_equal(rc, 42);
	assert_int_equal(json_array_size(c.records), 2);
	collected_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spectrum),
	    cmocka_unit_test(test_chunk_boundaries),
	    cmocka_unit_test(test_bom_and_line_ends),
	    cmocka_unit_test(test_invalid_utf8_names_first_bad_line),
	    cmocka_unit_test(test_malformed_quotes_refused),
	    cmocka_unit_test(test_callback_stop_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

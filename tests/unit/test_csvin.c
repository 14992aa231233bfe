/*
 * csvin: the streaming CSV reader. Every case is parsed three ways — from a
 * buffer, from a file in 64 KiB reads, and from the same file one byte per
 * read — and the three must agree exactly, records and line numbers and
 * errors alike, so no chunk boundary (inside a quote, a CR LF, a UTF-8
 * sequence or the byte-order mark) changes the result.
 *
 * Records are rendered as text for comparison: "L<line>[a|b|c]" per record,
 * then "!<line>:<message>" when the parse failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csvin.h"

struct collect {
	buf out;
	size_t stop_after; /* stop (return 7) after this many records; 0 = never */
	size_t seen;
};

static int collect_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);
static char *parse_buffer(const char *data, size_t len, size_t stop_after, int *rc);
static char *parse_file(const char *data, size_t len, size_t chunk, size_t stop_after, int *rc);
static char *parse_all_ways(const char *data, size_t len, size_t stop_after, int *rc);
static void expect(const char *data, const char *want);
static void expect_len(const char *data, size_t len, const char *want);

static int
collect_row(void *ctx, size_t line, char **fields, const size_t *lens, size_t n)
{
	struct collect *c = ctx;
	size_t i;

	buf_printf(&c->out, "L%zu[", line);
	for (i = 0; i < n; i++) {
		assert_int_equal(strlen(fields[i]), lens[i]); /* NUL-terminated, no NUL inside */
		buf_printf(&c->out, "%s%s", i ? "|" : "", fields[i]);
	}
	buf_puts(&c->out, "]");
	c->seen++;
	return c->stop_after && c->seen == c->stop_after ? 7 : 0;
}

static char *
parse_buffer(const char *data, size_t len, size_t stop_after, int *rc)
{
	struct collect c = {BUF_INIT, stop_after, 0};
	struct csvin_error err;

	*rc = csvin_parse_buffer(data, len, collect_row, &c, &err);
	if (*rc == -1)
		buf_printf(&c.out, "!%zu:%s", err.line, err.message);
	buf_putc(&c.out, '\0');
	return buf_steal(&c.out);
}

static char *
parse_file(const char *data, size_t len, size_t chunk, size_t stop_after, int *rc)
{
	struct collect c = {BUF_INIT, stop_after, 0};
	struct csvin_error err;
	char path[] = "/tmp/test_csvin_XXXXXX";
	int fd = mkstemp(path);
	size_t saved = csvin_chunk_size;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	csvin_chunk_size = chunk;
	*rc = csvin_parse_file(path, collect_row, &c, &err);
	csvin_chunk_size = saved;
	unlink(path);
	if (*rc == -1)
		buf_printf(&c.out, "!%zu:%s", err.line, err.message);
	buf_putc(&c.out, '\0');
	return buf_steal(&c.out);
}

/* The buffer result, after checking the file results (whole and 1-byte reads) match it. */
static char *
parse_all_ways(const char *data, size_t len, size_t stop_after, int *rc)
{
	int rc2, rc3;
	char *a = parse_buffer(data, len, stop_after, rc);
	char *b = parse_file(data, len, 65536, stop_after, &rc2);
	char *c = parse_file(data, len, 1, stop_after, &rc3);

	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_int_equal(*rc, rc2);
	assert_int_equal(*rc, rc3);
	free(b);
	free(c);
	return a;
}

static void
expect_len(const char *data, size_t len, const char *want)
{
	int rc;
	char *got = parse_all_ways(data, len, 0, &rc);

	assert_string_equal(got, want);
	assert_int_equal(rc, strchr(want, '!') ? -1 : 0);
	free(got);
}

static void
expect(const char *data, const char *want)
{
	expect_len(data, strlen(data), want);
}

static void
test_line_ends(void **state)
{
	(void)state;
	expect("a,b\n1,2\n", "L1[a|b]L2[1|2]");
	expect("a,b\r\n1,2\r\n", "L1[a|b]L2[1|2]");
	expect("a,b\r1,2\r", "L1[a|b]L2[1|2]");
	expect("a,b\r\n1,2\n3,4\r5,6", "L1[a|b]L2[1|2]L3[3|4]L4[5|6]");
	/* no final line end */
	expect("a,b\n1,2", "L1[a|b]L2[1|2]");
}

static void
test_blank_lines_keep_line_numbers(void **state)
{
	(void)state;
	expect("a\n\n\nb\n", "L1[a]L4[b]");
	expect("a\r\n\r\nb\r\n", "L1[a]L3[b]");
	expect("\n\na\n", "L3[a]");
	/* spaces only: no record; a line of commas is a record of empty fields */
	expect("a\n   \nb\n,,\n", "L1[a]L3[b]L4[||]");
}

static void
test_bom(void **state)
{
	(void)state;
	expect("\xEF\xBB\xBFName,City\nAcme,Oslo\n", "L1[Name|City]L2[Acme|Oslo]");
	/* only one BOM is dropped: a second one is data (valid UTF-8, U+FEFF) */
	expect("\xEF\xBB\xBF\xEF\xBB\xBFx\n", "L1[\xEF\xBB\xBFx]");
	/* the start of a BOM that is not one is ordinary text */
	expect("\xEF\xBB\x80x\n", "L1[\xEF\xBB\x80x]");
	expect("\xEF\xBB\xBF", "");
}

static void
test_quotes(void **state)
{
	(void)state;
	expect("\"a,b\",c\n", "L1[a,b|c]");
	expect("\"say \"\"hi\"\"\",x\n", "L1[say \"hi\"|x]");
	expect("\"\",\"\"\n", "L1[|]");
	/* quoted line breaks stay in the value; the next record's line counts them */
	expect("h\n\"one\ntwo\",x\nnext\n", "L1[h]L2[one\ntwo|x]L4[next]");
	expect("h\r\n\"one\r\ntwo\",x\r\nnext\r\n", "L1[h]L2[one\r\ntwo|x]L4[next]");
	expect("h\r\"one\rtwo\",x\rnext\r", "L1[h]L2[one\rtwo|x]L4[next]");
	/* spaces around a quoted value are not part of it; inside an unquoted one they are */
	expect("  \"a\"  ,b c\n", "L1[a|b c]");
}

static void
test_ragged_records(void **state)
{
	(void)state;
	expect("a,b,c\n1,2\n1,2,3,4\n", "L1[a|b|c]L2[1|2]L3[1|2|3|4]");
}

static void
test_malformed_quotes(void **state)
{
	(void)state;
	expect("a,b\n\"open,x\n1,2\n",
	       "L1[a|b]!2:Line 2 opens a quoted value that is never closed: a closing quote (\") "
	       "is missing.");
	/* a quote inside an unquoted value is just a character (csv-spectrum agrees) */
	expect("a,b\nab\"c,5'11\"\n", "L1[a|b]L2[ab\"c|5'11\"]");
	/* text after a closing quote is refused rather than guessed at */
	expect("a\n\"x\" y\nb\n", "L1[a]!2:Line 2 has a quote in the wrong place: text follows "
				  "the closing quote of a value. Put the whole value in quotes and "
				  "double each quote inside it (\"\").");
	expect("a\n\"x\"y,z\n", "L1[a]!2:Line 2 has a quote in the wrong place: text follows "
				"the closing quote of a value. Put the whole value in quotes and "
				"double each quote inside it (\"\").");
	/* spaces after the closing quote are fine */
	expect("\"x\"  ,y\n", "L1[x|y]");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	/* Latin-1 é on line 3 */
	expect("a\nb\nCaf\xE9\n", "L1[a]L2[b]!3:Line 3 is not valid UTF-8 text.");
	/* the line counts the CR LF and the quoted line break before it */
	expect("a\r\n\"x\ny\"\r\n\xC0\xAF\r\n", "L1[a]L2[x\ny]!4:Line 4 is not valid UTF-8 text.");
	/* overlong, surrogate, past U+10FFFF, stray continuation */
	expect("\xE0\x80\xAF\n", "!1:Line 1 is not valid UTF-8 text.");
	expect("ok\n\xED\xA0\x80\n", "L1[ok]!2:Line 2 is not valid UTF-8 text.");
	expect("\xF4\x90\x80\x80\n", "!1:Line 1 is not valid UTF-8 text.");
	expect("\x80\n", "!1:Line 1 is not valid UTF-8 text.");
	/* cut off at the end of the file */
	expect("ok\nab\xE2\x82", "L1[ok]!2:Line 2 is not valid UTF-8 text: the file ends inside "
				 "a character.");
	/* NUL */
	expect_len("a\nb\0c\n", 6,
		   "L1[a]!2:Line 2 is not valid UTF-8 text: it contains a NUL byte.");
	/* valid multi-byte text of every length */
	expect("\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80\n",
	       "L1[\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80]");
}

static void
test_long_field(void **state)
{
	size_t n = 3 * 1024 * 1024, i;
	buf in = BUF_INIT, want = BUF_INIT;
	char *got;
	int rc;

	(void)state;
	buf_puts(&in, "h\n\"");
	buf_puts(&want, "L1[h]L2[");
	for (i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);

		buf_putc(&in, c);
		buf_putc(&want, c);
		if (i % 1000 == 999) { /* a quote (doubled) and a line break now and then */
			buf_puts(&in, "\"\"\n");
			buf_puts(&want, "\"\n");
		}
	}
	buf_puts(&in, "\",end\nz\n");
	buf_puts(&want, "|end]");
	buf_printf(&want, "L%zu[z]", (size_t)3 + n / 1000);
	/* buffer and 64 KiB reads only: a byte at a time would take a while for 3 MB */
	got = parse_buffer(in.data, in.len, 0, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want.data);
	free(got);
	got = parse_file(in.data, in.len, 65536, 0, &rc);
	assert_string_equal(got, want.data);
	free(got);
	buf_free(&in);
	buf_free(&want);
}

static void
test_stop_value(void **state)
{
	int rc;
	char *got;

	(void)state;
	/* the callback's value is returned, and no record follows it (not even the last) */
	got = parse_all_ways("a\nb\nc\n\xFF\n", 9, 2, &rc);
	assert_int_equal(rc, 7);
	assert_string_equal(got, "L1[a]L2[b]");
	free(got);
	got = parse_all_ways("a\nb", 3, 2, &rc);
	assert_int_equal(rc, 7);
	assert_string_equal(got, "L1[a]L2[b]");
	free(got);
}

static void
test_empty_input(void **state)
{
	struct csvin_error err;
	int rc;

	(void)state;
	expect("", "");
	expect("\r\n\r\n", "");
	rc = csvin_parse_file("/nonexistent/spanner/file.csv", collect_row, NULL, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.message, "could not be read"));
}

/* csv-spectrum's cases where present (tests/run-all sets SPANNER_TESTDATA). */
static void
test_csv_spectrum_files(void **state)
{
	const char *dir = getenv("SPANNER_TESTDATA");
	static const struct {
		const char *file;
		const char *want;
	} cases[] = {
	    {"comma_in_quotes.csv",
	     "L1[first|last|address|city|zip]L2[John|Doe|120 any st.|Anytown, WW|08123]"},
	    {"empty.csv", "L1[a|b|c]L2[1||]L3[2|3|4]"},
	    {"empty_crlf.csv", "L1[a|b|c]L2[1||]L3[2|3|4]"},
	    {"escaped_quotes.csv", "L1[a|b]L2[1|ha \"ha\" ha]L3[3|4]"},
	    {"newlines.csv", "L1[a|b|c]L2[1|2|3]L3[Once upon \na time|5|6]L5[7|8|9]"},
	    {"newlines_crlf.csv", "L1[a|b|c]L2[1|2|3]L3[Once upon \r\na time|5|6]L5[7|8|9]"},
	    {"simple_crlf.csv", "L1[a|b|c]L2[1|2|3]"},
	    {"utf8.csv", "L1[a|b|c]L2[1|2|3]L3[4|5|ʤ]"},
	    {"quotes_and_newlines.csv", "L1[a|b]L2[1|ha \n\"ha\" \nha]L5[3|4]"},
	    {"json.csv", "L1[key|val]L2[1|{\"type\": \"Point\", \"coordinates\": [102.0, 0.5]}]"},
	    {"location_coordinates.csv",
	     "L1[Contact Phone Number|Location Coordinates|Cities|Counties]L2[2095257564|"
	     "37\xEF\xBF\xBD"
	     "36'37.8\"N 121\xEF\xBF\xBD"
	     "2'17.9\"W|Modesto|Stanislaus]"},
	};
	size_t i;

	(void)state;
	if (!dir) {
		skip();
		return;
	}
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[1024];
		struct collect c = {BUF_INIT, 0, 0};
		struct csvin_error err;
		int rc;

		snprintf(path, sizeof path, "%s/csv-spectrum/csvs/%s", dir, cases[i].file);
		if (access(path, R_OK) != 0)
			continue;
		rc = csvin_parse_file(path, collect_row, &c, &err);
		if (rc != 0)
			fail_msg("%s: %s", cases[i].file, err.message);
		buf_putc(&c.out, '\0');
		if (strcmp(c.out.data, cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].file, c.out.data, cases[i].want);
		buf_free(&c.out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_ends),
	    cmocka_unit_test(test_blank_lines_keep_line_numbers),
	    cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_ragged_records),
	    cmocka_unit_test(test_malformed_quotes),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_long_field),
	    cmocka_unit_test(test_stop_value),
	    cmocka_unit_test(test_empty_input),
	    cmocka_unit_test(test_csv_spectrum_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

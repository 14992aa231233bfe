/*
 * Unit tests for src/domain/normalise.c.
 *
 * Three kinds of check. Tables: every SPEC §2/§3 example, then the tricky
 * cases of each function with the answer worked out by hand (the decisions
 * they pin down are explained in normalise.c). Properties over other people's
 * strings: the Big List of Naughty Strings ($SPANNER_TESTDATA/naughty-strings,
 * default ../shared/testdata) and the WHATWG URL test inputs go through every
 * function, which must not crash, must give valid UTF-8 for valid UTF-8, must
 * be idempotent and must never return more than it needs (no edge or double
 * spaces, no trailing slash or dot, at most the input plus "https://"; no
 * line break in a single-line value; in a multi-line one no CR, no tab, no
 * space at a line end, no blank line at the edges or two in a row, and the
 * same words as normalise_text gives).
 * Properties over generated strings: a seeded random mix of URL punctuation,
 * spaces, cased letters in several scripts and broken UTF-8, where the corner
 * cases of the fixed-point passes live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/buf.h"
#include "domain/normalise.h"
#include "itest.h"

struct pair {
	const char *in;
	const char *want; /* NULL: the function must return NULL */
};

typedef char *(*normaliser)(const char *);

/* Every function with its name and how much longer than its input it may get. */
static const struct {
	const char *name;
	normaliser fn;
	size_t may_add;
} functions[] = {
    {"normalise_text", normalise_text, 0},
    {"normalise_multiline", normalise_multiline, 0},
    {"normalise_email", normalise_email, 0},
    {"normalise_url", normalise_url, 8}, /* "https://" */
    {"normalise_company_name", normalise_company_name, 0},
    {"normalise_host", normalise_host, 0},
};

#define N_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))
#define TABLE(fn, t) check_table(#fn, fn, t, sizeof(t) / sizeof(t[0]))

static void check_table(const char *name, normaliser fn, const struct pair *t, size_t n);
static int is_utf8(const char *s, size_t len);
static const char *check_properties(size_t f, const char *in, size_t in_len);
static int check_corpus(const char *corpus, const char *in, size_t len);
static uint32_t next_random(uint32_t *state);
static void put_utf8(buf *b, uint32_t cp);
static char *flatten(const char *s);

static void test_spec_examples(void **state);
static void test_text(void **state);
static void test_multiline(void **state);
static void test_multiline_naughty(void **state);
static void test_multiline_generated(void **state);
static void test_email(void **state);
static void test_url(void **state);
static void test_url_split(void **state);
static void test_company_name(void **state);
static void test_company_name_scripts(void **state);
static void test_company_name_invalid_utf8(void **state);
static void test_company_name_case_table(void **state);
static void test_host(void **state);
static void test_naughty_strings(void **state);
static void test_wpt_inputs(void **state);
static void test_generated(void **state);

/* ---------------------------------------------------------------- helpers */

/* Runs the whole table and reports every wrong row, not just the first. */
static void
check_table(const char *name, normaliser fn, const struct pair *t, size_t n)
{
	size_t i, wrong = 0;
	char *got;

	for (i = 0; i < n; i++) {
		got = fn(t[i].in);
		if ((got == NULL) != (t[i].want == NULL) || (got && strcmp(got, t[i].want) != 0)) {
			print_error("%s(\"%s\") = %s%s%s, want %s%s%s\n", name,
				    t[i].in ? t[i].in : "(null)", got ? "\"" : "",
				    got ? got : "NULL", got ? "\"" : "", t[i].want ? "\"" : "",
				    t[i].want ? t[i].want : "NULL", t[i].want ? "\"" : "");
			wrong++;
		}
		free(got);
	}
	if (wrong)
		fail_msg("%s: %zu of %zu rows wrong", name, wrong, n);
}

/* jansson refuses strings that are not UTF-8: an independent judge of our output. */
static int
is_utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	json_decref(j);
	return j != NULL;
}

/*
 * The properties every normaliser must have on any input. Returns NULL when
 * they hold, or which one broke.
 */
static const char *
check_properties(size_t f, const char *in, size_t in_len)
{
	char *once = functions[f].fn(in), *twice;
	const char *broken = NULL;
	struct normalise_url_parts p;
	size_t len;

	if (!once)
		return NULL;
	twice = functions[f].fn(once);
	len = strlen(once);
	if (len == 0)
		broken = "returned \"\" instead of NULL";
	else if (!twice || strcmp(once, twice) != 0)
		broken = "not idempotent";
	else if (is_utf8(in, in_len) && !is_utf8(once, len))
		broken = "made invalid UTF-8 from valid UTF-8";
	else if (len > strlen(in) + functions[f].may_add)
		broken = "longer than the input allows";
	else if (once[0] == ' ' || once[len - 1] == ' ' || strstr(once, "  "))
		broken = "white space left at an edge or doubled";
	else if (functions[f].fn != normalise_multiline && strpbrk(once, "\t\n\v\f\r"))
		broken = "line break or tab left in a single-line value";
	else if (functions[f].fn == normalise_multiline) {
		char *text = normalise_text(in), *flat = flatten(once);

		if (strpbrk(once, "\t\v\f\r"))
			broken = "CR or tab left";
		else if (once[0] == '\n' || once[len - 1] == '\n')
			broken = "blank line left at an edge";
		else if (strstr(once, "\n\n\n"))
			broken = "two blank lines in a row";
		else if (strstr(once, " \n") || strstr(once, "\n "))
			broken = "space left at a line end";
		else if (!text || strcmp(flat, text) != 0)
			broken = "not normalise_text with its line breaks kept";
		free(text);
		free(flat);
	} else if (functions[f].fn == normalise_url) {
		normalise_url_split(once, &p);
		if (p.scheme_len == 0)
			broken = "no scheme";
		else if (p.path_len > 0 && once[p.path_off + p.path_len - 1] == '/')
			broken = "trailing slash left on the path";
	} else if (functions[f].fn == normalise_host) {
		if (once[len - 1] == '.')
			broken = "trailing dot left";
		else if (strncmp(once, "www.", 4) == 0 && strchr(once + 4, '.'))
			broken = "www. left";
	}
	if (broken)
		print_error("%s(\"%s\") = \"%s\", then \"%s\": %s\n", functions[f].name, in, once,
			    twice ? twice : "NULL", broken);
	free(once);
	free(twice);
	return broken;
}

/* All functions on one input; returns how many broke a property. */
static int
check_corpus(const char *corpus, const char *in, size_t len)
{
	size_t f;
	int broken = 0;

	for (f = 0; f < N_FUNCTIONS; f++)
		if (check_properties(f, in, len))
			broken++;
	(void)corpus;
	return broken;
}

/* xorshift32: a fixed sequence, so a failure reproduces. */
static uint32_t
next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void
put_utf8(buf *b, uint32_t cp)
{
	char u[3];

	assert_true(cp < 0x800); /* every letter the case table covers */
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
		return;
	}
	u[0] = (char)(0xC0 | (cp >> 6));
	u[1] = (char)(0x80 | (cp & 0x3F));
	buf_append(b, u, 2);
}

/* A multi-line value as one line: every run of line breaks becomes one space. */
static char *
flatten(const char *s)
{
	buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s != '\n')
			buf_putc(&b, *s);
		else if (s[1] != '\n')
			buf_putc(&b, ' ');
	}
	return buf_steal(&b);
}

/* ---------------------------------------------------------------- tests */

static void
test_spec_examples(void **state)
{
	/* §2: "Trim every string; collapse runs of internal white space to one space; empty →
	 * NULL." */
	static const struct pair text[] = {
	    {"  Acme  ", "Acme"},
	    {"Acme \t\r\n  Corp", "Acme Corp"},
	    {"", NULL},
	    {" \t ", NULL},
	};
	/* §2: "lower-case the scheme and host, add https:// when no scheme is given, strip trailing
	 * slashes" */
	static const struct pair url[] = {
	    {"HTTPS://WWW.ACME.COM", "https://www.acme.com"},
	    {"acme.com", "https://acme.com"},
	    {"https://acme.com/", "https://acme.com"},
	    {"https://acme.com/about/", "https://acme.com/about"},
	    {"  ", NULL},
	};
	/* §2: "E-mail addresses: trim and lower-case." */
	static const struct pair email[] = {
	    {"  Jane.Doe@Example.COM ", "jane.doe@example.com"},
	    {"", NULL},
	};
	/* §2 casing, word for word. */
	static const struct pair name[] = {
	    {"acme corp", "Acme Corp"},
	    {"ACME HOLDINGS LLC", "ACME Holdings LLC"},
	    {"IBM", "IBM"},
	    {"McKinsey & Company", "McKinsey & Company"},
	};
	/* §3: "website reduced to its host (no scheme, no www., no trailing slash)", and the
	 * brief's example. */
	static const struct pair host[] = {
	    {"https://www.Acme.com/about", "acme.com"},
	    {"https://www.acme.com/", "acme.com"},
	    {"http://acme.com", "acme.com"},
	};

	(void)state;
	TABLE(normalise_text, text);
	TABLE(normalise_url, url);
	TABLE(normalise_email, email);
	TABLE(normalise_company_name, name);
	TABLE(normalise_host, host);
}

static void
test_text(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    {"a", "a"},
	    {" a", "a"},
	    {"a ", "a"},
	    {"\va\f", "a"},
	    {"a  b   c", "a b c"},
	    {"a\t\tb", "a b"},
	    {"a\r\nb", "a b"},
	    {"line one\n\nline two", "line one line two"},
	    /* Unicode spaces are data, not formatting: kept as typed. */
	    {"a\xC2\xA0\xC2\xA0"
	     "b",
	     "a\xC2\xA0\xC2\xA0"
	     "b"},
	    {"\xE3\x80\x80x\xE3\x80\x80", "\xE3\x80\x80x\xE3\x80\x80"},
	    /* Bytes that are not UTF-8 pass through; rejecting them is validation's job. */
	    {" \xFF\xFE ", "\xFF\xFE"},
	};

	(void)state;
	TABLE(normalise_text, t);
}

/*
 * SPEC §2: multi-line text keeps its line breaks; CRLF and CR become LF;
 * spaces at the ends of lines and blank lines at the start and end are
 * dropped. Runs of blank lines become one (see normalise.c for why).
 */
static void
test_multiline(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    {"", NULL},
	    {" \t\r\n \n\r\v\f ", NULL},
	    {"a", "a"},
	    {"  a  b\t\tc  ", "a b c"},
	    /* Line ends: LF kept, CRLF and lone CR become LF. */
	    {"line one\nline two", "line one\nline two"},
	    {"line one\r\nline two\r\nline three", "line one\nline two\nline three"},
	    {"line one\rline two\rline three", "line one\nline two\nline three"},
	    {"a\r\n\rb", "a\n\nb"}, /* CRLF then CR: two line ends */
	    {"a\n\r\nb", "a\n\nb"}, /* LF then CRLF */
	    {"a\r\r\nb", "a\n\nb"}, /* CR then CRLF */
	    {"a\n\rb", "a\n\nb"},   /* LF CR is two line ends, not one */
	    /* Spaces at both ends of each line go; inside a line they collapse. */
	    {"first   \nsecond\t \nthird", "first\nsecond\nthird"},
	    {"  indented\n\t\ttabbed\n  - item one\n  - item two",
	     "indented\ntabbed\n- item one\n- item two"},
	    {"a \t b\r\n c\t\td ", "a b\nc d"},
	    {"one \v\f two", "one two"},
	    /* Blank lines: a paragraph break is kept, runs become one, edges go. */
	    {"para one\n\npara two", "para one\n\npara two"},
	    {"para one\n\n\n\n\npara two", "para one\n\npara two"},
	    {"para one\r\n\r\n\r\n\r\npara two", "para one\n\npara two"},
	    {"para one\n  \n\t\n \npara two", "para one\n\npara two"},
	    {"\n\n\r\n  \nbody\n\n \r\n\t\n", "body"},
	    {"\r\nHello,\r\n\r\nThanks for your time.\r\n\r\n-- \r\nAda\r\n",
	     "Hello,\n\nThanks for your time.\n\n--\nAda"},
	    /* Unicode spaces and separators are data (as in normalise_text), even U+2028/2029. */
	    {"a\xC2\xA0\nb\xE2\x80\xA8"
	     "c",
	     "a\xC2\xA0\nb\xE2\x80\xA8"
	     "c"},
	    /* Other control characters: as normalise_text treats them (kept; validation judges). */
	    {"bell\x07\nesc\x1B[0m", "bell\x07\nesc\x1B[0m"},
	    /* Bytes that are not UTF-8 pass through. */
	    {" \xFF\r\n\xFE ", "\xFF\n\xFE"},
	};
	/* Single-line fields still collapse every line break. */
	static const struct pair single[] = {
	    {"line one\r\nline two", "line one line two"},
	    {"line one\rline two", "line one line two"},
	    {"para one\n\n\npara two\n", "para one para two"},
	    {" trailing \r\n spaces ", "trailing spaces"},
	};
	static const struct pair email[] = {
	    {"Ada@Example.com\r\n", "ada@example.com"},
	};
	static const struct pair url[] = {
	    {"\r\nacme.com/\r\n", "https://acme.com"},
	};
	static const struct pair name[] = {
	    {"acme\r\ncorp", "Acme Corp"},
	};

	(void)state;
	TABLE(normalise_multiline, t);
	TABLE(normalise_text, single);
	TABLE(normalise_email, email);
	TABLE(normalise_url, url);
	TABLE(normalise_company_name, name);
}

/*
 * The Big List of Naughty Strings as lines of a multi-line value: its white
 * space entries (tab, VT, FF, NEL, NBSP, U+2028/2029, ideographic space), its
 * C0/C1 control runs, ANSI escapes and backspaces, each put between lines
 * with every kind of line end, trailing spaces and blank lines around them.
 */
static void
test_multiline_naughty(void **state)
{
	static const char *const frames[][3] = {
	    /* before, between, after */
	    {"", "\r\n", ""},
	    {"  \r\n\r\n", " \t\r\n\r\n\r\n\t", "  \r\n\r\n  "},
	    {"\r", "\r\r\r", "\r"},
	    {"\n \n", " \n\n\n ", "\n\n"},
	};
	json_error_t err;
	json_t *list = json_load_file(itest_testdata("naughty-strings/blns.json"), JSON_ALLOW_NUL, &err);
	size_t i, k, n, f, broken = 0, checked = 0;
	json_t *v;
	buf b = BUF_INIT;

	(void)state;
	if (!list)
		fail_msg("cannot read %s: %s (set SPANNER_TESTDATA)",
			 itest_testdata("naughty-strings/blns.json"), err.text);
	for (f = 0; f < N_FUNCTIONS && functions[f].fn != normalise_multiline; f++)
		;
	n = json_array_size(list);
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v), *next;

		if (!s)
			continue;
		next = json_string_value(json_array_get(list, (i + 1) % n));
		for (k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
			char *once, *text;

			buf_reset(&b);
			buf_puts(&b, frames[k][0]);
			buf_puts(&b, s);
			buf_puts(&b, frames[k][1]);
			buf_puts(&b, next ? next : "");
			buf_puts(&b, frames[k][2]);
			if (check_properties(f, b.data, b.len))
				broken++;
			/* Single-line fields flatten the same value to one line. */
			text = normalise_text(b.data);
			if (text && strpbrk(text, "\r\n")) {
				print_error("normalise_text(\"%s\") kept a line break\n", b.data);
				broken++;
			}
			/* Each line, normalised alone, is what the multi-line value keeps of it. */
			once = normalise_multiline(b.data);
			if (once && !strchr(s, '\n') && !strchr(s, '\r')) {
				char *line = normalise_text(s);

				if (line && !strstr(once, line)) {
					print_error("normalise_multiline(\"%s\") = \"%s\" lost "
						    "the line \"%s\"\n",
						    b.data, once, line);
					broken++;
				}
				free(line);
			}
			free(once);
			free(text);
			checked++;
		}
	}
	buf_free(&b);
	json_decref(list);
	printf("naughty strings as lines: %zu values, %zu failures\n", checked, broken);
	assert_true(checked >= 2000);
	assert_int_equal(broken, 0);
}

/* Seeded random mixes of every line end and white space with letters and broken UTF-8. */
static void
test_multiline_generated(void **state)
{
	static const char *const pieces[] = {
	    " ", "\t", "\v",   "\f",   "\r",   "\n",   "\r\n", "\n\r",	       "a",
	    "Z", "é",  "\xFF", "\xC3", "\x01", "\x1B", "北",   "\xE2\x80\xA8", "\xC2\xA0",
	};
	const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
	uint32_t seed = 20250101;
	size_t round, k, f, len, broken = 0;
	buf b = BUF_INIT;

	(void)state;
	for (round = 0; round < 20000; round++) {
		buf_reset(&b);
		len = 1 + next_random(&seed) % 16;
		for (k = 0; k < len; k++)
			buf_puts(&b, pieces[next_random(&seed) % n_pieces]);
		for (f = 0; f < N_FUNCTIONS; f++)
			if (check_properties(f, b.data, b.len))
				broken++;
	}
	buf_free(&b);
	printf("generated multi-line: 20000 strings x %zu functions, %zu property failures\n",
	       N_FUNCTIONS, broken);
	assert_int_equal(broken, 0);
}

static void
test_email(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    {"  ", NULL},
	    {"NAME@EXAMPLE.COM", "name@example.com"},
	    {"\tName+Tag@Sub.Example.Co.UK\n", "name+tag@sub.example.co.uk"},
	    /* Inner spaces collapse but stay: the validator rejects them with a clear message. */
	    {"a  b@c.com", "a b@c.com"},
	    /* ASCII only: the local part's non-ASCII letters are left as typed. */
	    {"Ä@Example.com", "Ä@example.com"},
	};

	(void)state;
	TABLE(normalise_email, t);
}

static void
test_url(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    /* Scheme and host lower-cased; user-info, path, query and fragment kept. */
	    {"HTTP://ACME.COM/About", "http://acme.com/About"},
	    {"https://User:PaSS@Acme.COM:8080/P", "https://User:PaSS@acme.com:8080/P"},
	    {"HTTPS://ACME.COM?Q=A#F", "https://acme.com?Q=A#F"},
	    {"https://MÜNCHEN.DE/", "https://münchen.de"},
	    /* Adding the scheme: every scheme-less form. */
	    {"www.acme.com/about/", "https://www.acme.com/about"},
	    {"//acme.com/x", "https://acme.com/x"},
	    {"acme.com:8080", "https://acme.com:8080"},
	    {"localhost:3000/x/", "https://localhost:3000/x"},
	    {"[::1]:8080", "https://[::1]:8080"},
	    {"127.0.0.1/", "https://127.0.0.1"},
	    /* A "word:" that is not a port is a scheme (then refused by validation). */
	    {"mailto:Bob@Acme.com", "mailto:Bob@Acme.com"},
	    {"JavaScript:alert(1)", "javascript:alert(1)"},
	    {"FTP://Files.Acme.com/pub/", "ftp://files.acme.com/pub"},
	    /* Trailing slashes: all of them, also before a query or fragment... */
	    {"https://acme.com//", "https://acme.com"},
	    {"https://a.com/x/?q=1", "https://a.com/x?q=1"},
	    {"https://a.com/?q=1", "https://a.com?q=1"},
	    {"https://a.com/x/#top", "https://a.com/x#top"},
	    /* ...but never inside the query or fragment. */
	    {"https://a.com/?q=a/", "https://a.com?q=a/"},
	    {"https://a.com/#/", "https://a.com#/"},
	    {"https://a.com/search?path=/x/#/y/", "https://a.com/search?path=/x/#/y/"},
	    /* IPv6 literals: colons inside the brackets are not a port. */
	    {"https://[2001:DB8::1]:443/X/", "https://[2001:db8::1]:443/X"},
	    {"https://[::1]", "https://[::1]"},
	    /* Empty port and empty user-info mean nothing and go. */
	    {"https://acme.com:/x", "https://acme.com/x"},
	    {"https://@acme.com", "https://acme.com"},
	    /* The last '@' ends the user-info, as browsers read it. */
	    {"https://a@b@Acme.com", "https://a@b@acme.com"},
	    /* White space: trimmed and collapsed like any text, never removed from inside. */
	    {"  https://acme.com/a \t b/  ", "https://acme.com/a b"},
	    {"acme.com :/", "https://acme.com"},
	    /* No decoding, no default-port removal: those would change what was typed. */
	    {"https://a.com/%7Efoo/", "https://a.com/%7Efoo"},
	    {"http://a.com:80", "http://a.com:80"},
	    /* Garbage stays recognisable so the user sees what they typed. */
	    {"not a url", "https://not a url"},
	    {"/", "https://"},
	};

	(void)state;
	TABLE(normalise_url, t);
}

static void
test_url_split(void **state)
{
	const char *u = "https://u:p@[::1]:8080/a/b?q=1#f?g";
	struct normalise_url_parts p;

	(void)state;
	normalise_url_split(u, &p);
	assert_int_equal(p.scheme_len, 5);
	assert_true(p.has_authority);
	assert_true(p.has_userinfo);
	assert_memory_equal(u + p.userinfo_off, "u:p", 3);
	assert_int_equal(p.userinfo_len, 3);
	assert_memory_equal(u + p.host_off, "[::1]", 5);
	assert_int_equal(p.host_len, 5);
	assert_true(p.has_port);
	assert_memory_equal(u + p.port_off, "8080", 4);
	assert_int_equal(p.port_len, 4);
	assert_memory_equal(u + p.path_off, "/a/b", 4);
	assert_int_equal(p.path_len, 4);
	assert_memory_equal(u + p.query_off, "?q=1", 4);
	assert_int_equal(p.query_len, 4);
	assert_string_equal(u + p.fragment_off, "#f?g");
	assert_int_equal(p.fragment_len, 4);

	normalise_url_split("acme.com:8080", &p);
	assert_int_equal(p.scheme_len, 0);
	assert_false(p.has_authority);
	normalise_url_split("mailto:x@y.com", &p);
	assert_int_equal(p.scheme_len, 6);
	assert_false(p.has_authority);
	assert_int_equal(p.path_len, 7);
	normalise_url_split("https://[::1]x:1/", &p);
	assert_int_equal(p.host_len, 8); /* junk after ']' keeps it all host (and invalid) */
	assert_false(p.has_port);
	normalise_url_split("", &p);
	assert_int_equal(p.scheme_len, 0);
	assert_int_equal(p.path_len + p.query_len + p.fragment_len, 0);
}

static void
test_company_name(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    {"   ", NULL},
	    {"  acme   corp ", "Acme Corp"},
	    /* The acronym exception is for all-upper input only. */
	    {"acme holdings llc", "Acme Holdings Llc"},
	    {"ABCDE", "Abcde"},
	    {"AB", "AB"},
	    {"ab", "Ab"},
	    {"A", "A"},
	    {"a", "A"},
	    /* Mixed case is the user's choice, kept. */
	    {"O'Reilly Media", "O'Reilly Media"},
	    {"eBay", "eBay"},
	    {"iPhone CASES LTD", "iPhone CASES LTD"},
	    /* Digits are part of a word: no capital after them; they count for the acronym length.
	     */
	    {"3m company", "3m Company"},
	    {"3M COMPANY", "3M Company"},
	    {"21st century fox", "21st Century Fox"},
	    {"7-eleven", "7-Eleven"},
	    {"123", "123"},
	    /* Punctuation starts a new part; it does not count for the acronym length. */
	    {"AT&T", "AT&T"},
	    {"AT&T CORPORATION", "AT&T Corporation"},
	    {"at&t", "At&T"},
	    {"h&m", "H&M"},
	    {"MCKINSEY & COMPANY", "Mckinsey & Company"},
	    {"(acme) holdings", "(Acme) Holdings"},
	    {"\"acme\" corp", "\"Acme\" Corp"},
	    {"acme/widgets", "Acme/Widgets"},
	    {"---", "---"},
	    /* Hyphens: one word for the acronym rule, parts for title-casing. */
	    {"coca-cola", "Coca-Cola"},
	    {"COCA-COLA COMPANY", "Coca-Cola Company"},
	    {"X-Y", "X-Y"},
	    /* Apostrophes start nothing. */
	    {"o'reilly media", "O'reilly Media"},
	    {"O'REILLY MEDIA", "O'reilly Media"},
	    {"mcdonald's", "Mcdonald's"},
	    {"'acme'", "'Acme'"},
	    {"o\xE2\x80\x99reilly", "O\xE2\x80\x99reilly"},
	    /* Full stops split after single letters (initials), not in domains. */
	    {"j.p. morgan chase", "J.P. Morgan Chase"},
	    {"J.P.MORGAN", "J.P.Morgan"},
	    {"amazon.com, inc.", "Amazon.com, Inc."},
	    /* Literal consequences of the SPEC rule (see normalise.c). */
	    {"THE HOME DEPOT", "THE HOME Depot"},
	    {"bank of america", "Bank Of America"},
	};

	(void)state;
	TABLE(normalise_company_name, t);
}

static void
test_company_name_scripts(void **state)
{
	static const struct pair t[] = {
	    /* Latin-1 Supplement. */
	    {"ÉLECTRICITÉ DE FRANCE", "Électricité DE France"},
	    {"électricité de france", "Électricité De France"},
	    {"Électricité de France", "Électricité de France"},
	    {"ÅNGSTRÖM ÖSTERREICH", "Ångström Österreich"},
	    {"ÿacht", "Ÿacht"},
	    /* ß has no one-letter capital: kept, and it makes "STRAßE" mixed case. */
	    {"straße gmbh", "Straße Gmbh"},
	    {"STRAßE GMBH", "STRAßE GMBH"},
	    {"ßa", "ßa"},
	    /* × and ÷ are not letters. */
	    {"A×B HOLDINGS", "A×B Holdings"},
	    /* Latin Extended-A, both parities of its pairing. */
	    {"ZAKŁADY ŻYWIEC", "Zakłady Żywiec"},
	    {"škoda auto", "Škoda Auto"},
	    {"ŒUVRE ĦALLS", "Œuvre Ħalls"},
	    {"İSTANBUL HAVALİMANI", "İstanbul Havalimani"},
	    {"ırmak", "Irmak"},
	    /* Combining marks (NFD) stay with their letter and do not count. */
	    {"E\xCC\x81LECTRICITE\xCC\x81", "E\xCC\x81lectricite\xCC\x81"},
	    {"DE\xCC\x81", "DE\xCC\x81"},
	    /* Greek, with final sigma. */
	    {"ΟΙΚΟΝΟΜΙΚΟΣ ΟΜΙΛΟΣ", "Οικονομικος Ομιλος"},
	    {"ΣΥΝΕΤΑΙΡΙΣΜΟΣ-ΕΝΩΣΗ", "Συνεταιρισμος-Ενωση"},
	    {"ΕΘΝΙΚΉ ΤΡΆΠΕΖΑ", "Εθνική Τράπεζα"},
	    {"ΆΛΦΑ", "ΆΛΦΑ"},
	    {"σωματείο", "Σωματείο"},
	    /* Cyrillic. */
	    {"ПАО ГАЗПРОМ", "ПАО Газпром"},
	    {"газпром нефть", "Газпром Нефть"},
	    {"ЁЛОЧНЫЙ ЗАВОД", "Ёлочный Завод"},
	    /* Scripts without case neither decide nor change. */
	    {"北京", "北京"},
	    {"北京 HOLDINGS", "北京 Holdings"},
	    {"北京 holdings", "北京 Holdings"},
	    {"北京 Holdings", "北京 Holdings"},
	    {"شركة ACME", "شركة ACME"},
	    /* Unicode punctuation separates parts. */
	    {"alpha\xE2\x80\x93omega", "Alpha\xE2\x80\x93Omega"},
	};

	(void)state;
	TABLE(normalise_company_name, t);
}

static void
test_company_name_invalid_utf8(void **state)
{
	/* Latin-1 bytes where UTF-8 was expected: kept byte for byte, never a letter. */
	static const struct pair t[] = {
	    {"ACME \xC9LECTRIQUE", "ACME \xC9lectrique"},
	    {"acme \xE9lectrique", "Acme \xE9lectrique"},
	    {"McK\xFF", "McK\xFF"},
	    {"\xC3", "\xC3"},
	    {"ab\xC3", "Ab\xC3"},
	    /* An overlong 'A' (C1 81) is two invalid bytes, not an upper-case letter. */
	    {"acme \xC1\x81", "Acme \xC1\x81"},
	    /* A surrogate (ED A0 80) is not a letter either. */
	    {"ACME\xED\xA0\x80 CORP", "Acme\xED\xA0\x80 CORP"},
	};

	(void)state;
	TABLE(normalise_company_name, t);
}

/*
 * Every letter of the blocks normalise.c claims to case (Latin-1, Latin
 * Extended-A, Greek, Cyrillic), checked against glibc's C.UTF-8 tables, an
 * independent source: upper-case letters are lowered inside an all-upper word,
 * lower-case ones raised at the start of an all-lower word, and either one
 * makes a name of the other case "mixed", so it is kept as typed.
 */
static void
test_company_name_case_table(void **state)
{
	static const uint32_t blocks[][2] = {
	    {0xC0, 0xFF}, {0x100, 0x17F}, {0x386, 0x3CE}, {0x400, 0x45F}};
	buf in = BUF_INIT, want = BUF_INIT;
	size_t k, letters = 0, wrong = 0;
	uint32_t cp;
	char *got;

	(void)state;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		skip();
	for (k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++) {
		for (cp = blocks[k][0]; cp <= blocks[k][1]; cp++) {
			if (!iswalpha((wint_t)cp))
				continue;
			letters++;
			buf_reset(&in);
			buf_reset(&want);
			if (iswupper((wint_t)cp)) {
				/* Mid-word, so Σ is not final. */
				buf_puts(&in, "XY");
				put_utf8(&in, cp);
				buf_puts(&in, "ZW");
				buf_puts(&want, "Xy");
				put_utf8(&want, (uint32_t)towlower((wint_t)cp));
				buf_puts(&want, "zw");
			} else {
				put_utf8(&in, cp);
				buf_puts(&in, "yzwv");
				put_utf8(&want, (uint32_t)towupper((wint_t)cp));
				buf_puts(&want, "yzwv");
			}
			got = normalise_company_name(in.data);
			if (strcmp(got, want.data) != 0) {
				print_error("U+%04X: \"%s\" gave \"%s\", want \"%s\"\n",
					    (unsigned)cp, in.data, got, want.data);
				wrong++;
			}
			free(got);
			/* The same letter among letters of the other case: mixed, kept. */
			buf_reset(&in);
			buf_puts(&in, iswupper((wint_t)cp) ? "abcde " : "ABCDE ");
			put_utf8(&in, cp);
			got = normalise_company_name(in.data);
			if (strcmp(got, in.data) != 0) {
				print_error("U+%04X: \"%s\" is mixed case but became \"%s\"\n",
					    (unsigned)cp, in.data, got);
				wrong++;
			}
			free(got);
		}
	}
	buf_free(&in);
	buf_free(&want);
	setlocale(LC_CTYPE, "C");
	printf("case table: %zu letters checked against C.UTF-8, %zu wrong\n", letters, wrong);
	assert_int_equal(wrong, 0);
}

static void
test_host(void **state)
{
	static const struct pair t[] = {
	    {NULL, NULL},
	    {"", NULL},
	    {"acme.com", "acme.com"},
	    {"Acme.com/About", "acme.com"},
	    {"www.acme.com/", "acme.com"},
	    {"HTTP://WWW.ACME.COM:8080/x?y#z", "acme.com"},
	    {"https://user:pw@www.acme.com", "acme.com"},
	    {"https://acme.com.", "acme.com"},
	    {"https://www.acme.com../", "acme.com"},
	    {"https://www.www.acme.com", "acme.com"},
	    {"https://www.acme.co.uk", "acme.co.uk"},
	    {"https://sub.acme.com", "sub.acme.com"},
	    {"https://wwwacme.com", "wwwacme.com"},
	    {"https://www.com", "www.com"},
	    {"https://MÜNCHEN.DE", "münchen.de"},
	    {"https://[::1]:8080/", "[::1]"},
	    {"https://[2001:DB8::1]", "[2001:db8::1]"},
	    {"mailto:x@acme.com", NULL},
	    {"https://", NULL},
	    {"https:///x", NULL},
	    {"https://www./", "www"},
	};

	(void)state;
	TABLE(normalise_host, t);
}

static void
test_naughty_strings(void **state)
{
	json_error_t err;
	json_t *list = json_load_file(itest_testdata("naughty-strings/blns.json"), JSON_ALLOW_NUL, &err);
	size_t i, n, broken = 0;
	json_t *v;

	(void)state;
	if (!list)
		fail_msg("cannot read %s: %s (set SPANNER_TESTDATA)",
			 itest_testdata("naughty-strings/blns.json"), err.text);
	n = json_array_size(list);
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v))
			broken += (size_t)check_corpus("blns", json_string_value(v),
						       json_string_length(v));
	}
	printf("naughty strings: %zu strings x %zu functions, %zu property failures\n", n,
	       N_FUNCTIONS, broken);
	json_decref(list);
	assert_true(n >= 500);
	assert_int_equal(broken, 0);
}

static void
test_wpt_inputs(void **state)
{
	json_error_t err;
	json_t *list = json_load_file(itest_testdata("url-wpt/urltestdata.json"), JSON_ALLOW_NUL, &err);
	size_t i, n = 0, broken = 0;
	json_t *v, *input;

	(void)state;
	if (!list)
		fail_msg("cannot read %s: %s (set SPANNER_TESTDATA)",
			 itest_testdata("url-wpt/urltestdata.json"), err.text);
	json_array_foreach(list, i, v)
	{
		input = json_object_get(v, "input");
		if (!json_is_string(input))
			continue;
		n++;
		broken += (size_t)check_corpus("wpt", json_string_value(input),
					       json_string_length(input));
	}
	printf("WPT URL inputs: %zu strings x %zu functions, %zu property failures\n", n,
	       N_FUNCTIONS, broken);
	json_decref(list);
	assert_true(n >= 800);
	assert_int_equal(broken, 0);
}

static void
test_generated(void **state)
{
	/* Pieces chosen to collide: URL delimiters, spaces, "www.", cased letters, broken UTF-8. */
	static const char *const pieces[] = {
	    "/", "//", ":", "@", "?", "#", "[", "]",	    ".",    " ",    "\t",    "-",
	    "'", "&",  "a", "B", "x", "Z", "1", "80",	    "www.", "http", "HTTPS", "é",
	    "É", "ß",  "Σ", "ς", "Ж", "İ", "ı", "\xCC\x81", "\xC3", "\xFF", "北",    "\xE2\x80\x99",
	};
	const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
	uint32_t seed = 20240601;
	size_t round, k, len, broken = 0;
	buf b = BUF_INIT;

	(void)state;
	for (round = 0; round < 20000; round++) {
		buf_reset(&b);
		len = 1 + next_random(&seed) % 12;
		for (k = 0; k < len; k++)
			buf_puts(&b, pieces[next_random(&seed) % n_pieces]);
		broken += (size_t)check_corpus("generated", b.data, b.len);
	}
	buf_free(&b);
	printf("generated: 20000 strings x %zu functions, %zu property failures\n", N_FUNCTIONS,
	       broken);
	assert_int_equal(broken, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_examples),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_multiline),
	    cmocka_unit_test(test_multiline_naughty),
	    cmocka_unit_test(test_multiline_generated),
	    cmocka_unit_test(test_email),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_url_split),
	    cmocka_unit_test(test_company_name),
	    cmocka_unit_test(test_company_name_scripts),
	    cmocka_unit_test(test_company_name_invalid_utf8),
	    cmocka_unit_test(test_company_name_case_table),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_naughty_strings),
	    cmocka_unit_test(test_wpt_inputs),
	    cmocka_unit_test(test_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * naughty — the Big List of Naughty Strings through a record's fields, the
 * parts every entity's test shares (issue 14 item 6): the list itself, what
 * the SPEC's rules (SPEC.md §2) make of a string in a field of each kind,
 * and the checks that pages show stored values escaped, never as markup.
 *
 * The expected value is computed with the project's own normalise_* and
 * validate_* functions, the rules a field of that kind follows, and compared
 * with what the server stored and shows: a handler that skips a step, uses
 * the wrong rule for a field or changes a value on the way to the database
 * or the page is caught.
 */
#ifndef SPANNER_NAUGHTY_H
#define SPANNER_NAUGHTY_H

#include <jansson.h>
#include <stddef.h>

#include "itest.h"

enum naughty_kind {
	NAUGHTY_NAME,  /* a company name: SPEC casing rules */
	NAUGHTY_TEXT,  /* single line: white space collapsed */
	NAUGHTY_LONG,  /* multi-line: line breaks kept */
	NAUGHTY_URL,   /* normalised, then a valid http(s) link */
	NAUGHTY_YEAR,  /* 1800 to the current year */
	NAUGHTY_EMAIL, /* lower-cased, then a valid address */
};

/* One field of a form as the SPEC describes it. */
struct naughty_field {
	const char *column; /* form field, column and JSON key */
	enum naughty_kind kind;
	size_t max; /* characters */
	int required;
};

/* The list (testdata/naughty-strings/blns.json), all of it: fails the test when unreadable. */
json_t *naughty_load(void);

/*
 * What the rules make of raw in field f: *value the stored form (malloc'ed;
 * NULL = empty). Returns 1 when the server must accept it, 0 when it must
 * refuse the save (invalid, too long, or empty where required).
 */
int naughty_expect(const struct naughty_field *f, const char *raw, char **value);

/*
 * obj's key f->column holds want (NULL: JSON null; a year compared as a
 * number). idx is the string's index in the list, for the message.
 */
void naughty_assert_json(json_t *obj, const struct naughty_field *f, const char *want, int idx);

/*
 * A refused save's view model: its "fields" array ({column, error}) has an
 * error exactly on the fields of the table whose ok[] is 0.
 */
void naughty_assert_field_errors(json_t *vm, const struct naughty_field *fields, size_t n,
				 const int *ok, int idx);

/*
 * No markup from data in html: the only <script> elements are the app's own
 * (src="/assets/..."), no onerror=/onload= attributes, no <img> or <iframe>
 * element and no <svg/ or <svg onload (the app's own icons are plain <svg
 * class=…>). where names the page in the message.
 */
void naughty_assert_no_markup(const char *html, int idx, const char *where);

/*
 * html holds before, value HTML-escaped, after: the value shown escaped in
 * that place (e.g. `value="` … `"` of an input, `>` … `</textarea>`).
 */
void naughty_assert_shown(const char *html, const char *before, const char *value,
			  const char *after, int idx, const char *where);

/* The place a form shows field f's value: its input's value="…" or its textarea. */
void naughty_assert_in_form(const char *html, const struct naughty_field *f, const char *value,
			    int idx, const char *where);

/*
 * A list searched for s: GET prefix (a list's address ending in "q=") with s
 * URL-encoded after it, signed in with token. 1 when the list answered 200,
 * shows no markup from data and, when the search box takes s
 * (validate_search: 200 characters), does not refuse it as too long; the
 * page is then in r (free it). 0 when the request line is longer than Kore
 * takes (HTTP_URI_LEN, 2000 bytes) and Kore refused it with 414, never a 500.
 */
int naughty_search(const char *base, const char *token, const char *prefix, const char *s,
		   enum itest_how how, int idx, struct itest_resp *r);

#endif

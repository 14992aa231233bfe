/*
 * naughty — the naughty-strings checks every entity's test shares.
 */
#include "naughty.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/url.h"
#include "domain/normalise.h"
#include "domain/validate.h"
#include "itest.h"

json_t *
naughty_load(void)
{
	json_error_t err;
	json_t *list = json_load_file(itest_testdata("naughty-strings/blns.json"), 0, &err);

	if (!list)
		fail_msg("cannot read naughty-strings/blns.json: %s (set SPANNER_TESTDATA)",
			 err.text);
	/* a truncated copy would test little while looking green */
	assert_true(json_array_size(list) >= 500);
	return list;
}

static int
naughty_this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

int
naughty_expect(const struct naughty_field *f, const char *raw, char **value)
{
	char *v;

	switch (f->kind) {
	case NAUGHTY_NAME:
		v = normalise_company_name(raw);
		break;
	case NAUGHTY_URL:
		v = normalise_url(raw);
		break;
	case NAUGHTY_LONG:
		v = normalise_multiline(raw);
		break;
	case NAUGHTY_EMAIL:
		v = normalise_email(raw);
		break;
	default:
		v = normalise_text(raw);
		break;
	}
	*value = v;
	if (!v)
		return !f->required;
	if (f->kind == NAUGHTY_URL && validate_url(v))
		return 0;
	if (f->kind == NAUGHTY_EMAIL && validate_email(v))
		return 0;
	if (f->kind == NAUGHTY_YEAR)
		return validate_year(v, 1800, naughty_this_year(), NULL) == NULL;
	return validate_max_length(v, f->max) == NULL;
}

void
naughty_assert_json(json_t *obj, const struct naughty_field *f, const char *want, int idx)
{
	json_t *got = json_object_get(obj, f->column);

	if (!want) {
		if (!json_is_null(got))
			fail_msg("naughty #%d, %s: want null, got \"%s\"", idx, f->column,
				 json_is_string(got) ? json_string_value(got) : "(not a string)");
		return;
	}
	if (f->kind == NAUGHTY_YEAR) {
		long n = json_is_integer(got)  ? (long)json_integer_value(got)
			 : json_is_string(got) ? atol(json_string_value(got))
					       : -1;

		if (n != atol(want))
			fail_msg("naughty #%d, %s: want %s", idx, f->column, want);
		return;
	}
	if (!json_is_string(got) || strcmp(json_string_value(got), want) != 0)
		fail_msg("naughty #%d, %s:\n want \"%s\"\n  got \"%s\"", idx, f->column, want,
			 json_is_string(got) ? json_string_value(got) : "(not a string)");
}

void
naughty_assert_field_errors(json_t *vm, const struct naughty_field *fields, size_t n, const int *ok,
			    int idx)
{
	json_t *field;
	size_t k, f, seen = 0;

	json_array_foreach(json_object_get(vm, "fields"), k, field)
	{
		const char *column = json_string_value(json_object_get(field, "column"));
		int has_error = json_is_string(json_object_get(field, "error"));

		for (f = 0; f < n; f++)
			if (column && strcmp(column, fields[f].column) == 0)
				break;
		if (f == n)
			continue;
		seen++;
		if (ok[f] == has_error)
			fail_msg("naughty #%d: %s: want %s", idx, fields[f].column,
				 ok[f] ? "no error" : "an error message");
	}
	/* a view model without the fields would pass the loop above vacuously */
	if (seen != n)
		fail_msg("naughty #%d: the refusal lists %zu of the %zu fields", idx, seen, n);
}

void
naughty_assert_no_markup(const char *html, int idx, const char *where)
{
	const char *p;

	if (!html)
		fail_msg("naughty #%d: %s answered nothing", idx, where);
	for (p = html; (p = strcasestr(p, "<script")) != NULL; p++)
		if (strncmp(p, "<script src=\"/assets/", 21) != 0)
			fail_msg("naughty #%d: raw <script> in %s: %.80s", idx, where, p);
	if (strcasestr(html, "onerror="))
		fail_msg("naughty #%d: raw onerror= in %s", idx, where);
	if (strcasestr(html, "onload="))
		fail_msg("naughty #%d: raw onload= in %s", idx, where);
	/* the layout's own icons are <svg class=…> and <svg viewBox=…>: never these shapes */
	if (strcasestr(html, "<img") || strcasestr(html, "<iframe") || strcasestr(html, "<svg/") ||
	    strcasestr(html, "<svg onload"))
		fail_msg("naughty #%d: raw element from data in %s", idx, where);
}

void
naughty_assert_shown(const char *html, const char *before, const char *value, const char *after,
		     int idx, const char *where)
{
	buf want = BUF_INIT;

	buf_puts(&want, before);
	buf_append_html(&want, value, strlen(value));
	buf_puts(&want, after);
	if (!html || !strstr(html, want.data))
		fail_msg("naughty #%d: not shown escaped on %s (want %s)", idx, where, want.data);
	buf_free(&want);
}

void
naughty_assert_in_form(const char *html, const struct naughty_field *f, const char *value, int idx,
		       const char *where)
{
	if (f->kind == NAUGHTY_LONG)
		naughty_assert_shown(html, ">", value, "</textarea>", idx, where);
	else
		naughty_assert_shown(html, "value=\"", value, "\"", idx, where);
}

int
naughty_search(const char *base, const char *token, const char *prefix, const char *s,
	       enum itest_how how, int idx, struct itest_resp *r)
{
	buf path = BUF_INIT;

	buf_puts(&path, prefix);
	url_encode(&path, s);
	itest_call(base, token, NULL, "GET", path.data, NULL, how, r);
	/* Kore's own limit on the request line: a paste that long is refused before the app */
	if (path.len > 2000) {
		if (r->status != 414)
			fail_msg("naughty #%d: a search of %zu bytes answered %ld", idx, path.len,
				 r->status);
		itest_resp_free(r);
		buf_free(&path);
		return 0;
	}
	if (r->status != 200)
		fail_msg("naughty #%d: GET %s answered %ld", idx, prefix, r->status);
	if (how == ITEST_HTML)
		naughty_assert_no_markup(r->body.data, idx, prefix);
	/* the box takes 200 characters, however many bytes they are (Arabic: two a letter) */
	if (!validate_search(s) && r->body.data && strstr(r->body.data, "Search for at most"))
		fail_msg("naughty #%d: a search of %zu bytes, 200 characters at most, refused as "
			 "too long",
			 idx, strlen(s));
	buf_free(&path);
	return 1;
}

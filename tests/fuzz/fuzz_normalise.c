/*
 * Fuzzes the normaliser and the validators with any string. Invariants: on
 * valid UTF-8 every normaliser returns valid UTF-8 and is idempotent (what is
 * clean stays as it is when cleaned again: the form, the CSV import and the
 * JSON API store the same value whichever path a value took twice); each
 * validator answers without touching memory it should not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/normalise.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
idempotent(char *(*fn)(const char *), const char *in, int utf8)
{
	char *once = fn(in), *twice;

	if (!once)
		return;
	if (utf8 && validate_utf8(once, strlen(once)) != NULL)
		abort();
	twice = fn(once);
	if (!twice || strcmp(once, twice) != 0)
		abort();
	free(twice);
	free(once);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size), *p, init[16];
	int utf8 = validate_utf8(s, strlen(s)) == NULL, year;
	struct normalise_url_parts parts;
	buf b = BUF_INIT;

	validate_utf8((const char *)data, size);
	validate_email(s);
	validate_url(s);
	validate_max_length(s, 10);
	validate_year(s, 1800, 2100, &year);
	if (utf8) {
		idempotent(normalise_text, s, 1);
		idempotent(normalise_multiline, s, 1);
		idempotent(normalise_email, s, 1);
		idempotent(normalise_company_name, s, 1);
	}
	p = normalise_url(s);
	free(p);
	p = normalise_host(s);
	free(p);
	p = normalise_search_pattern(s);
	free(p);
	normalise_url_split(s, &parts);
	normalise_lower(&b, s);
	normalise_initials(s, init);
	buf_free(&b);
	free(s);
	return 0;
}

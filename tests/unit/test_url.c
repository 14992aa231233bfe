/*
 * url: percent-decoding, and url_is_local_path — the rule that keeps the
 * sign-in's `next` on this site — judged against how browsers really parse
 * URLs: every case of the WHATWG URL conformance data
 * ($SPANNER_TESTDATA/url-wpt/urltestdata.json, web-platform-tests) whose
 * base is an http(s) page. A `next` the rule accepts must, resolved the way
 * a browser resolves it, stay on the base's host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"
#include "itest.h"

/* "http://user@host:81/x" -> "host:81" (userinfo and a default port left out, as `host` is). */
static void
base_host(const char *base, char *out, size_t size)
{
	const char *p = strstr(base, "//") + 2, *at, *end = p + strcspn(p, "/?#");
	size_t n;

	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	n = (size_t)(end - p);
	if ((!strncmp(base, "http:", 5) && n > 3 && !strncmp(end - 3, ":80", 3)) ||
	    (!strncmp(base, "https:", 6) && n > 4 && !strncmp(end - 4, ":443", 4)))
		n -= strncmp(base, "https:", 6) ? 3 : 4;
	snprintf(out, size, "%.*s", (int)n, p);
}

static void
test_wpt_cases_accepted_stay_on_the_base_host(void **state)
{
	json_error_t err;
	json_t *cases = json_load_file(itest_testdata("url-wpt/urltestdata.json"), JSON_ALLOW_NUL, &err);
	size_t i, checked = 0, accepted = 0, elsewhere = 0;
	json_t *c;

	(void)state;
	if (!cases)
		fail_msg("cannot read urltestdata.json: %s (set SPANNER_TESTDATA)", err.text);
	json_array_foreach(cases, i, c)
	{
		const char *input = json_string_value(json_object_get(c, "input"));
		const char *base = json_string_value(json_object_get(c, "base"));
		const char *host = json_string_value(json_object_get(c, "host"));
		int failure = json_is_true(json_object_get(c, "failure"));
		char want[256];

		if (!input || !base ||
		    (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)))
			continue;
		checked++;
		base_host(base, want, sizeof want);
		if (!failure && host && strcmp(host, want) != 0)
			elsewhere++;
		if (!url_is_local_path(input))
			continue;
		accepted++;
		if (failure)
			fail_msg("accepted %s, which a browser cannot parse", input);
		if (!host || strcmp(host, want) != 0)
			fail_msg("accepted %s, which leads from %s to %s", input, want,
				 host ? host : "(no host)");
	}
	printf("url-wpt: %zu cases on an http(s) base, %zu lead to another host, %zu accepted "
	       "as local paths (all stay)\n",
	       checked, elsewhere, accepted);
	/* The data must have been read and hold both kinds, or this test proves nothing. */
	assert_true(checked > 150);
	assert_true(elsewhere > 20);
	assert_true(accepted >= 5);
	json_decref(cases);
}

static void
test_probe_cases_refused_paths_kept(void **state)
{
	static const char *const hostile[] = {
	    "/\t/evil.invalid/phish",
	    "//evil.invalid",
	    "/\\evil.invalid",
	    "\\\\evil.invalid",
	    "/\n/evil.invalid",
	    "/\r\n/evil",
	    "https://evil.invalid/",
	    " /evil",
	    "/ /evil",
	    "javascript:alert(1)",
	    "/\x7f/evil",
	    "/caf\xc3\xa9",
	    "",
	    "evil.invalid/x",
	};
	static const char *const local[] = {
	    "/",
	    "/companies",
	    "/companies?status=approved&q=acme%20co",
	    "/segments/123#top",
	    "/imports/9/fix?row=%2F%2Fevil",
	    "/a/b//c",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		if (url_is_local_path(hostile[i]))
			fail_msg("accepted hostile next %s", hostile[i]);
	assert_false(url_is_local_path(NULL));
	for (i = 0; i < sizeof local / sizeof local[0]; i++)
		if (!url_is_local_path(local[i]))
			fail_msg("refused local path %s", local[i]);
}

static void
test_decode_reports_nul(void **state)
{
	char a[] = "Nul%00Name", b[] = "a+b%20c%2F";
	size_t na, nb;

	(void)state;
	na = url_decode(a);
	assert_int_equal(na, 8);
	assert_int_equal(strlen(a), 3); /* "Nul", then the NUL: the length tells */
	nb = url_decode(b);
	assert_int_equal(nb, strlen(b));
	assert_string_equal(b, "a b c/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wpt_cases_accepted_stay_on_the_base_host),
	    cmocka_unit_test(test_probe_cases_refused_paths_kept),
	    cmocka_unit_test(test_decode_reports_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

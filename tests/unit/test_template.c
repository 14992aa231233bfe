/*
 * Unit tests of the Mustache engine.
 *
 * The official spec is read at run time from
 * $SPANNER_TESTDATA/mustache-spec/specs (default ../shared/testdata, relative
 * to the project root the tests run from) so that updating the spec needs no
 * change here. Every case of the core files must pass; the optional extension
 * files ("~lambdas.json", ...) are reported as skipped. The own tests below
 * cover what the spec does not: errors, files, threads, escaping of quotes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/template.h"

#define SPEC_TEMPLATE "(spec)" /* no spec partial is named like this */
#define THREADS 4
#define ROUNDS 200

static const char *const core_specs[] = {
    "comments", "delimiters", "interpolation", "inverted", "partials", "sections",
};

struct worker {
	const tmpl_set *set;
	json_t *ctx;
	const char *expected;
	int mismatches;
};

static const char *spec_dir(void);
static void print_json_string(const char *label, const char *s);
static int run_spec_case(const char *file, json_t *tc);
static void run_spec_file(const char *name, int *passed, int *total);
static char *render_str(const tmpl_set *s, const char *name, json_t *ctx);
static char *render_source(const char *source, json_t *ctx);
static void write_file(const char *path, const char *text);
static void *worker_main(void *arg);
static void remove_tree(const char *path);

static void test_spec(void **state);
static void test_escaping(void **state);
static void test_raw(void **state);
static void test_falsy(void **state);
static void test_numbers(void **state);
static void test_parse_errors(void **state);
static void test_failed_add_keeps_old(void **state);
static void test_replace(void **state);
static void test_unknown_template(void **state);
static void test_nested_partial_indent(void **state);
static void test_partial_recursion_limit(void **state);
static void test_load_dir(void **state);
static void test_load_dir_errors(void **state);
static void test_concurrent(void **state);

/* ---------------------------------------------------------------- helpers */

static const char *
spec_dir(void)
{
	static char path[4096];
	const char *base = getenv("SPANNER_TESTDATA");

	if (!base || !*base)
		base = "../shared/testdata";
	snprintf(path, sizeof(path), "%s/mustache-spec/specs", base);
	return path;
}

/* Prints s JSON-quoted so that newlines and trailing spaces are visible. */
static void
print_json_string(const char *label, const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	printf("    %-9s %s\n", label, q ? q : "(not UTF-8)");
	free(q);
	json_decref(j);
}

static char *
render_str(const tmpl_set *s, const char *name, json_t *ctx)
{
	buf out = BUF_INIT;

	assert_int_equal(tmpl_render(s, name, ctx, &out), 0);
	return buf_steal(&out);
}

static char *
render_source(const char *source, json_t *ctx)
{
	char err[256] = "";
	tmpl_set *s = tmpl_set_new();
	char *out;

	if (tmpl_set_add(s, "t", source, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	out = render_str(s, "t", ctx);
	tmpl_set_free(s);
	return out;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Removes a folder the test made; only ever called on a mkdtemp() result. */
static void
remove_tree(const char *path)
{
	struct dirent *e;
	struct stat st;
	char child[4096];
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(child);
		else
			unlink(child);
	}
	closedir(d);
	rmdir(path);
}

/* ---------------------------------------------------------------- the spec */

/* 1 when the case passes; otherwise prints what differs and returns 0. */
static int
run_spec_case(const char *file, json_t *tc)
{
	const char *name = json_string_value(json_object_get(tc, "name"));
	const char *tpl = json_string_value(json_object_get(tc, "template"));
	const char *expected = json_string_value(json_object_get(tc, "expected"));
	json_t *partials = json_object_get(tc, "partials");
	json_t *p;
	const char *pname;
	char err[256] = "";
	buf out = BUF_INIT;
	tmpl_set *s = tmpl_set_new();
	int ok = 0;

	if (!name || !tpl || !expected) {
		printf("FAIL %s: malformed case\n", file);
		goto done;
	}
	json_object_foreach(partials, pname, p)
	{
		if (tmpl_set_add(s, pname, json_string_value(p), err, sizeof(err)) != 0) {
			printf("FAIL %s: %s: partial: %s\n", file, name, err);
			goto done;
		}
	}
	if (tmpl_set_add(s, SPEC_TEMPLATE, tpl, err, sizeof(err)) != 0) {
		printf("FAIL %s: %s: %s\n", file, name, err);
		goto done;
	}
	if (tmpl_render(s, SPEC_TEMPLATE, json_object_get(tc, "data"), &out) != 0) {
		printf("FAIL %s: %s: render returned -1\n", file, name);
		goto done;
	}
	ok =
	    out.len == strlen(expected) && memcmp(out.data ? out.data : "", expected, out.len) == 0;
	if (!ok) {
		printf("FAIL %s: %s\n", file, name);
		print_json_string("template", tpl);
		print_json_string("expected", expected);
		print_json_string("got", out.data ? out.data : "");
	}
done:
	buf_free(&out);
	tmpl_set_free(s);
	return ok;
}

static void
run_spec_file(const char *name, int *passed, int *total)
{
	buf path = BUF_INIT;
	json_error_t jerr;
	json_t *root, *tests, *tc;
	size_t i;

	buf_printf(&path, "%s/%s.json", spec_dir(), name);
	root = json_load_file(path.data, 0, &jerr);
	buf_free(&path);
	if (!root)
		fail_msg("cannot read %s/%s.json: %s (set SPANNER_TESTDATA)", spec_dir(), name,
			 jerr.text);
	tests = json_object_get(root, "tests");
	if (!json_is_array(tests) || json_array_size(tests) == 0) {
		json_decref(root);
		fail_msg("%s/%s.json: no tests", spec_dir(), name);
	}
	json_array_foreach(tests, i, tc)
	{
		(*total)++;
		*passed += run_spec_case(name, tc);
	}
	json_decref(root);
}

static void
test_spec(void **state)
{
	int passed = 0, total = 0;
	size_t i;
	struct dirent *e;
	DIR *d;

	(void)state;
	for (i = 0; i < sizeof(core_specs) / sizeof(core_specs[0]); i++)
		run_spec_file(core_specs[i], &passed, &total);

	/* Extensions the project does not implement, named so nobody wonders. */
	d = opendir(spec_dir());
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '~')
				printf("mustache spec: skipped optional extension %s\n", e->d_name);
		}
		closedir(d);
	}
	printf("mustache spec: %d/%d core cases passed\n", passed, total);
	fflush(stdout);
	assert_true(total > 0);
	assert_int_equal(passed, total);
}

/* ---------------------------------------------------------------- own tests */

static void
test_escaping(void **state)
{
	json_t *ctx = json_pack("{s:s}", "x", "a & b < c > d \" e ' f");
	char *out = render_source("[{{x}}]", ctx);

	(void)state;
	assert_string_equal(out, "[a &amp; b &lt; c &gt; d &quot; e &#39; f]");
	free(out);
	json_decref(ctx);
}

static void
test_raw(void **state)
{
	json_t *ctx = json_pack("{s:s}", "x", "<b>&'\"</b>");
	char *out = render_source("{{{x}}}|{{&x}}|{{{ x }}}|{{& x }}", ctx);

	(void)state;
	assert_string_equal(out, "<b>&'\"</b>|<b>&'\"</b>|<b>&'\"</b>|<b>&'\"</b>");
	free(out);
	json_decref(ctx);
}

static void
test_falsy(void **state)
{
	json_t *ctx = json_pack("{s:s, s:[], s:n, s:b, s:i, s:{}, s:s}", "empty", "", "list",
				"null", "no", 0, "zero", 0, "obj", "str", "x");
	char *out = render_source("{{#empty}}E{{/empty}}{{#list}}L{{/list}}{{#null}}N{{/null}}"
				  "{{#no}}F{{/no}}{{#missing}}M{{/missing}}"
				  "{{#zero}}0{{/zero}}{{#obj}}O{{/obj}}{{#str}}S{{/str}}|"
				  "{{^empty}}e{{/empty}}{{^list}}l{{/list}}{{^null}}n{{/null}}"
				  "{{^no}}f{{/no}}{{^missing}}m{{/missing}}{{^zero}}z{{/zero}}",
				  ctx);

	(void)state;
	assert_string_equal(out, "0OS|elnfm");
	free(out);
	json_decref(ctx);
}

static void
test_numbers(void **state)
{
	json_t *ctx = json_pack("{s:i, s:f, s:f, s:f, s:I}", "i", -42, "r", 1.210, "whole", 3.0,
				"third", 1.0 / 3.0, "big", (json_int_t)9007199254740993LL);
	char *out = render_source("{{i}} {{r}} {{whole}} {{third}} {{big}}", ctx);

	(void)state;
	assert_string_equal(out, "-42 1.21 3 0.3333333333333333 9007199254740993");
	free(out);
	json_decref(ctx);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *source, *err;
	} cases[] = {
	    {"a\n{{#list}}\nb\n", "t:2: unclosed section \"list\""},
	    {"a\n{{#a}}{{#b}}\n\n{{/a}}", "t:4: mismatched close tag \"a\" for section \"b\""},
	    {"{{#a}}\n{{/a}}\n{{/a}}", "t:3: close tag \"a\" without open section"},
	    {"one\ntwo\nthree {{name\n", "t:3: unclosed tag"},
	    {"x\n\n{{{raw}}\n", "t:3: unclosed tag"},
	    {"\n{{}}", "t:2: empty tag"},
	    {"{{=<% %> x=}}", "t:1: invalid delimiters \"<% %> x\""},
	    {"{{=<%%>=}}", "t:1: invalid delimiters \"<%%>\""},
	    {"{{=<% %>=}}\n<%#a%>\n{{/a}}", "t:2: unclosed section \"a\""},
	};
	char err[256];
	size_t i;
	tmpl_set *s = tmpl_set_new();

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(err, "(unset)");
		assert_int_equal(tmpl_set_add(s, "t", cases[i].source, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
		assert_false(tmpl_exists(s, "t"));
	}
	/* A too small or absent error buffer is not written past. */
	assert_int_equal(tmpl_set_add(s, "t", "{{#a}}", err, 4), -1);
	assert_string_equal(err, "t:1");
	assert_int_equal(tmpl_set_add(s, "t", "{{#a}}", NULL, 0), -1);
	tmpl_set_free(s);
}

static void
test_failed_add_keeps_old(void **state)
{
	char err[256];
	tmpl_set *s = tmpl_set_new();
	char *out;

	(void)state;
	assert_int_equal(tmpl_set_add(s, "t", "old", err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(s, "t", "{{#broken}}", err, sizeof(err)), -1);
	out = render_str(s, "t", NULL);
	assert_string_equal(out, "old");
	free(out);
	tmpl_set_free(s);
}

static void
test_replace(void **state)
{
	char err[256];
	tmpl_set *s = tmpl_set_new();
	char *out;

	(void)state;
	assert_int_equal(tmpl_set_add(s, "b", "first", err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(s, "a", "[{{>b}}]", err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(s, "c", "c", err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(s, "b", "second", err, sizeof(err)), 0);
	out = render_str(s, "a", NULL);
	assert_string_equal(out, "[second]");
	free(out);
	assert_true(tmpl_exists(s, "a") && tmpl_exists(s, "b") && tmpl_exists(s, "c"));
	tmpl_set_free(s);
}

static void
test_unknown_template(void **state)
{
	buf out = BUF_INIT;
	tmpl_set *s = tmpl_set_new();

	(void)state;
	buf_puts(&out, "kept");
	assert_int_equal(tmpl_render(s, "nope", NULL, &out), -1);
	assert_int_equal(tmpl_set_add(s, "yes", "y", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "nope", NULL, &out), -1);
	assert_false(tmpl_exists(s, "nope"));
	assert_string_equal(out.data, "kept");
	buf_free(&out);
	tmpl_set_free(s);
}

/* Indentation adds up through nested standalone partials, inside sections too. */
static void
test_nested_partial_indent(void **state)
{
	json_t *ctx = json_pack("{s:[s,s], s:s}", "items", "a", "b", "note", "x\ny");
	tmpl_set *s = tmpl_set_new();
	char err[256];
	char *out;

	(void)state;
	assert_int_equal(tmpl_set_add(s, "page", "<ul>\n  {{>list}}\n</ul>\n", err, sizeof(err)),
			 0);
	assert_int_equal(
	    tmpl_set_add(s, "list", "{{#items}}\n<li>\n  {{>item}}\n</li>\n{{/items}}\n{{note}}\n",
			 err, sizeof(err)),
	    0);
	assert_int_equal(tmpl_set_add(s, "item", "{{.}}\n{{! c }}\n!\n", err, sizeof(err)), 0);
	out = render_str(s, "page", ctx);
	assert_string_equal(out, "<ul>\n"
				 "  <li>\n    a\n    !\n  </li>\n"
				 "  <li>\n    b\n    !\n  </li>\n"
				 "  x\ny\n"
				 "</ul>\n");
	free(out);
	tmpl_set_free(s);
	json_decref(ctx);
}

static void
test_partial_recursion_limit(void **state)
{
	tmpl_set *s = tmpl_set_new();
	char *out;

	(void)state;
	assert_int_equal(tmpl_set_add(s, "self", "x{{>self}}", NULL, 0), 0);
	out = render_str(s, "self", NULL);
	assert_true(strlen(out) > 10 && strspn(out, "x") == strlen(out));
	free(out);
	tmpl_set_free(s);
}

/*
 * Found by tests/fuzz/fuzz_template: a template naming itself twice doubles
 * at every level, 2^100 renderings under the depth limit alone; sections
 * nested over the same list multiply the same way. The rendering stops,
 * failed (-1), in bounded time and memory.
 */
static void
test_runaway_rendering_stops(void **state)
{
	tmpl_set *s = tmpl_set_new();
	json_t *ctx = json_pack("{s:[i,i,i,i,i,i,i,i,i,i]}", "a", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	buf out = BUF_INIT;

	(void)state;
	assert_int_equal(tmpl_set_add(s, "twice", "{{>twice}}{{>twice}}", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "twice", NULL, &out), -1);
	assert_int_equal(tmpl_set_add(s, "fat", "xxxxxxxxxxxxxxxx{{>fat}}{{>fat}}", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "fat", NULL, &out), -1);
	assert_true(out.len <= (64u << 20) + 4096);
	out.len = 0;
	assert_int_equal(
	    tmpl_set_add(s, "nest",
			 "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}.{{/a}}{{/a}}"
			 "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}",
			 NULL, 0),
	    0);
	assert_int_equal(tmpl_render(s, "nest", ctx, &out), -1);
	json_decref(ctx);
	/*
	 * Found by the fuzzer in CI (a 12 s timeout): a partial recursing in a
	 * section stacks a context a level, and a name found only at the root
	 * was searched through all of them on every visit. Each context
	 * searched is a step now, so the rendering stops far sooner: about ten
	 * thousand visits (a dot each) where a third of a million were made.
	 */
	ctx = json_pack("{s:[i,i]}", "a", 1, 2);
	out.len = 0;
	assert_int_equal(tmpl_set_add(s, "deep", "{{#a}}.{{nope}}{{>deep}}{{/a}}", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "deep", ctx, &out), -1);
	assert_true(out.len < 50000);
	json_decref(ctx);
	/* Sections with empty bodies nested over a long list: each item is a step. */
	ctx = json_object();
	json_object_set_new(ctx, "a", json_array());
	for (int i = 0; i < 30000; i++)
		json_array_append_new(json_object_get(ctx, "a"), json_integer(i));
	assert_int_equal(tmpl_set_add(s, "empty", "{{#a}}{{#a}}{{/a}}{{/a}}", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "empty", ctx, &out), -1);
	json_decref(ctx);
	/*
	 * Found by fuzzing after that: a standalone partial indented by 2,000
	 * spaces, a hundred deep, makes a 200 KB indent, repeated on each of
	 * ten thousand lines (2 GB) before the next node's check.
	 */
	{
		buf src = BUF_INIT;

		for (int i = 0; i < 2000; i++)
			buf_putc(&src, ' ');
		buf_puts(&src, "{{>wide}}\n");
		for (int i = 0; i < 10000; i++)
			buf_puts(&src, "x\n");
		buf_putc(&src, '\0');
		assert_int_equal(tmpl_set_add(s, "wide", src.data, NULL, 0), 0);
		out.len = 0;
		assert_int_equal(tmpl_render(s, "wide", NULL, &out), -1);
		assert_true(out.len <= (64u << 20) + (1u << 20));
		buf_free(&src);
	}
	ctx = json_pack("{s:[i,i,i,i,i,i,i,i,i,i]}", "a", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	/* an ordinary rendering is untouched by the limits */
	out.len = 0;
	assert_int_equal(tmpl_set_add(s, "ok", "{{#a}}{{.}}{{/a}}", NULL, 0), 0);
	assert_int_equal(tmpl_render(s, "ok", ctx, &out), 0);
	assert_int_equal(out.len, 11);
	buf_free(&out);
	json_decref(ctx);
	tmpl_set_free(s);
}

static void
test_load_dir(void **state)
{
	char dir[] = "/tmp/spanner-tmpl-XXXXXX";
	char path[4096], err[256] = "";
	json_t *ctx = json_pack("{s:s}", "path", "/a&b");
	tmpl_set *s = tmpl_set_new();
	char *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/errors", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/auth", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/auth/deep", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/layout.mustache", dir);
	write_file(path, "<main>{{>errors/404}}</main>\n");
	snprintf(path, sizeof(path), "%s/errors/404.mustache", dir);
	write_file(path, "Not found: {{path}}");
	snprintf(path, sizeof(path), "%s/auth/deep/login.mustache", dir);
	write_file(path, "{{#path}}login{{/path}}");
	snprintf(path, sizeof(path), "%s/auth/notes.txt", dir);
	write_file(path, "{{#not a template");
	snprintf(path, sizeof(path), "%s/.hidden.mustache", dir);
	write_file(path, "{{#hidden}}");

	if (tmpl_set_load_dir(s, dir, err, sizeof(err)) != 0)
		fail_msg("load_dir: %s", err);
	assert_true(tmpl_exists(s, "layout"));
	assert_true(tmpl_exists(s, "errors/404"));
	assert_true(tmpl_exists(s, "auth/deep/login"));
	assert_false(tmpl_exists(s, "auth/notes"));
	assert_false(tmpl_exists(s, ".hidden"));
	assert_false(tmpl_exists(s, "404"));
	out = render_str(s, "layout", ctx);
	assert_string_equal(out, "<main>Not found: /a&amp;b</main>\n");
	free(out);
	out = render_str(s, "auth/deep/login", ctx);
	assert_string_equal(out, "login");
	free(out);

	tmpl_set_free(s);
	json_decref(ctx);
	remove_tree(dir);
}

static void
test_load_dir_errors(void **state)
{
	char dir[] = "/tmp/spanner-tmpl-XXXXXX";
	char path[4096], err[256] = "";
	tmpl_set *s = tmpl_set_new();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/errors", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/errors/500.mustache", dir);
	write_file(path, "<h1>\n{{#detail}}\n{{detail}}\n");

	assert_int_equal(tmpl_set_load_dir(s, dir, err, sizeof(err)), -1);
	assert_string_equal(err, "errors/500:2: unclosed section \"detail\"");

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(tmpl_set_load_dir(s, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));

	tmpl_set_free(s);
	remove_tree(dir);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	buf out = BUF_INIT;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		buf_reset(&out);
		if (tmpl_render(w->set, "page", w->ctx, &out) != 0 ||
		    strcmp(out.data, w->expected) != 0)
			w->mismatches++;
	}
	buf_free(&out);
	return NULL;
}

/* The set and the context are shared read-only; under ASan a write would show. */
static void
test_concurrent(void **state)
{
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	tmpl_set *s = tmpl_set_new();
	json_t *ctx = json_pack("{s:s, s:[]}", "title", "Rows & <rows>", "rows");
	json_t *rows = json_object_get(ctx, "rows");
	char *expected;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		json_array_append_new(rows, json_pack("{s:i, s:s, s:b}", "id", i, "name", "n'\"",
						      "done", i % 3 == 0));
	assert_int_equal(
	    tmpl_set_add(s, "page", "<h1>{{title}}</h1>\n<table>\n  {{>row}}\n</table>\n", NULL, 0),
	    0);
	assert_int_equal(
	    tmpl_set_add(s, "row",
			 "{{#rows}}\n<tr id=\"r{{id}}\">\n  <td>{{name}}</td>"
			 "{{#done}}<td>done</td>{{/done}}{{^done}}<td>-</td>{{/done}}\n"
			 "</tr>\n{{/rows}}\n",
			 NULL, 0),
	    0);
	expected = render_str(s, "page", ctx);
	assert_non_null(strstr(expected, "<h1>Rows &amp; &lt;rows&gt;</h1>\n<table>\n  <tr id"));
	assert_non_null(strstr(expected, "    <td>n&#39;&quot;</td><td>done</td>\n  </tr>\n"));

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){s, ctx, expected, 0};
		assert_int_equal(pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].mismatches, 0);
	}
	free(expected);
	json_decref(ctx);
	tmpl_set_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_falsy),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_failed_add_keeps_old),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_unknown_template),
	    cmocka_unit_test(test_nested_partial_indent),
	    cmocka_unit_test(test_partial_recursion_limit),
	    cmocka_unit_test(test_runaway_rendering_stops),
	    cmocka_unit_test(test_load_dir),
	    cmocka_unit_test(test_load_dir_errors),
	    cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

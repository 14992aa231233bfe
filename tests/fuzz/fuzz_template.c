/*
 * Fuzzes the Mustache engine with templates and data: the input is a
 * template, optionally followed by a NUL byte and JSON data to render it
 * with (default data otherwise). A partial "p" exists, and "t" is the
 * template itself, so {{>t}} recurses. Invariant: a template that parses
 * renders, or stops at the engine's limits (-1) in bounded time and memory.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - (const char *)data) : size;
	char *src = strndup((const char *)data, tlen), err[256];
	json_t *ctx = NULL;
	tmpl_set *s = tmpl_set_new();
	buf out = BUF_INIT;

	if (nul)
		ctx = json_loadb(nul + 1, size - tlen - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!ctx)
		ctx = json_pack("{s:s, s:[i, s], s:{s:b}}", "name", "<b>", "items", 1, "x", "sub",
				"flag", 1);
	if (tmpl_set_add(s, "t", src, err, sizeof err) == 0 &&
	    tmpl_set_add(s, "p", "{{name}}", err, sizeof err) == 0) {
		tmpl_render(s, "t", ctx, &out);
	}
	buf_free(&out);
	tmpl_set_free(s);
	json_decref(ctx);
	free(src);
	return 0;
}

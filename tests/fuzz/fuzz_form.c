/*
 * Fuzzes the form and query decoding the app does on top of Kore
 * (url_form_each, url_decode, url_is_local_path). Invariants: a decoded
 * name or value is never longer than its raw bytes and holds no NUL (a pair
 * that would is skipped and counted), and a path accepted as local never
 * starts "//" nor holds a back-slash, white space or control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t raw;
	size_t bytes;
};

static void
pair(void *ctx, char *name, char *value)
{
	struct seen *s = ctx;

	if (!*name)
		abort(); /* empty names are not handed over */
	s->bytes += strlen(name) + strlen(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size), *copy = strdup(s);
	struct seen seen = {strlen(s), 0};
	const unsigned char *p;
	buf enc = BUF_INIT;
	size_t n;

	url_form_each(copy, pair, &seen);
	if (seen.bytes > seen.raw)
		abort();
	if (url_is_local_path(s)) {
		if (s[0] != '/' || s[1] == '/')
			abort();
		for (p = (const unsigned char *)s; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
				abort();
	}
	/* encode then decode is the identity */
	url_encode(&enc, s);
	if (enc.data) {
		n = url_decode(enc.data);
		if (n != strlen(s) || strcmp(enc.data, s) != 0)
			abort();
	}
	buf_free(&enc);
	free(copy);
	free(s);
	return 0;
}

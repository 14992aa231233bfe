/*
 * url — percent-encoding (see url.h). Kore decodes what it parses itself;
 * this is for the links and cookies the app writes and for raw form bodies.
 */
#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void
url_encode(buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

size_t
url_decode(char *s)
{
	char *w = s, *start = s;

	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
			   isxdigit((unsigned char)s[2])) {
			char h[3] = {s[1], s[2], '\0'};

			*w++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return (size_t)(w - start);
}

int
url_is_local_path(const char *s)
{
	const unsigned char *p;

	if (!s || s[0] != '/' || s[1] == '/')
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return 0;
	return 1;
}

size_t
url_form_each(char *data, url_pair_fn fn, void *ctx)
{
	char *pair, *save = NULL;
	size_t nul = 0;

	for (pair = strtok_r(data, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *value = strchr(pair, '=');

		if (value)
			*value++ = '\0';
		else
			value = pair + strlen(pair);
		if (url_decode(pair) != strlen(pair) || url_decode(value) != strlen(value)) {
			nul++;
			continue;
		}
		if (*pair)
			fn(ctx, pair, value);
	}
	return nul;
}

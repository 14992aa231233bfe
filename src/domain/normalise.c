/*
 * normalise — trimming, white space and casing rules.
 *
 * "White space" is ASCII space, tab, CR, LF, VT and FF; other Unicode spaces
 * are data, not formatting, and are kept as typed.
 */
#include "normalise.h"

#include <ctype.h>
#include <string.h>

#include "core/buf.h"

static int normalise_is_space(char c);

static int
normalise_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *
normalise_text(const char *s)
{
	buf out = BUF_INIT;
	int pending_space = 0;

	if (!s)
		return NULL;
	for (; *s; s++) {
		if (normalise_is_space(*s)) {
			pending_space = out.len > 0;
			continue;
		}
		if (pending_space)
			buf_putc(&out, ' ');
		pending_space = 0;
		buf_putc(&out, *s);
	}
	if (out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

char *
normalise_email(const char *s)
{
	char *e = normalise_text(s), *p;

	for (p = e; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return e;
}

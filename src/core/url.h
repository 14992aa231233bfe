/*
 * url — percent-encoding for query values and cookies, and which redirect
 * targets stay on this site.
 */
#ifndef SPANNER_URL_H
#define SPANNER_URL_H

#include "buf.h"

/* Percent-encodes s for a URL query value or cookie (RFC 3986 unreserved kept). */
void url_encode(buf *out, const char *s);
/* Decodes %XX and '+' in place; the decoded length (a %00 makes it differ from strlen). */
size_t url_decode(char *s);
/*
 * 1 when s, used as a Location, takes a browser to a path on this origin:
 * one leading "/", then printable ASCII without "\\". Browsers drop tabs and
 * line breaks anywhere in a URL and read "\\" as "/", so "/\t/evil" and
 * "/\\evil" mean "//evil", another host: 0 for those and for any white space,
 * control character or raw non-ASCII byte.
 */
int url_is_local_path(const char *s);

typedef void (*url_pair_fn)(void *ctx, char *name, char *value);
/*
 * Splits an application/x-www-form-urlencoded string (a query string or a
 * form body) in place into decoded pairs and calls fn for each with a
 * non-empty name ("a" without "=" is a = ""). A pair whose name or value
 * decodes to a NUL byte is skipped, never cut short: the return value counts
 * them (0: none).
 */
size_t url_form_each(char *data, url_pair_fn fn, void *ctx);

#endif

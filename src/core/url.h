/*
 * url — percent-encoding for query values and cookies.
 */
#ifndef SPANNER_URL_H
#define SPANNER_URL_H

#include "buf.h"

/* Percent-encodes s for a URL query value or cookie (RFC 3986 unreserved kept). */
void url_encode(buf *out, const char *s);
/* Decodes %XX and '+' in place; the decoded length (a %00 makes it differ from strlen). */
size_t url_decode(char *s);

#endif

/*
 * url — percent-encoding for query values and cookies.
 */
#ifndef SPANNER_URL_H
#define SPANNER_URL_H

#include "buf.h"

/* Percent-encodes s for a URL query value or cookie (RFC 3986 unreserved kept). */
void url_encode(buf *out, const char *s);
/* Decodes %XX and '+' in place. */
void url_decode(char *s);

#endif

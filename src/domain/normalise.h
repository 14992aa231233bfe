/*
 * normalise — the data-normalisation rules of SPEC.md §2, applied on every
 * write (form, CSV, API alike), in one place.
 *
 * Every normalise_* function returns a new malloc'ed string, or NULL when the
 * result is empty ("empty → NULL"), so callers bind the result straight to a
 * statement. NULL input gives NULL. Every one is idempotent: normalising a
 * normalised value changes nothing, so values can be normalised again on every
 * edit without drifting. None of them judges validity (that is validate.h):
 * they return the tidied form of whatever was typed, so a form can show the
 * user their own input next to the error.
 *
 * The write path is always: normalise → validate the normalised value → store.
 */
#ifndef SPANNER_NORMALISE_H
#define SPANNER_NORMALISE_H

#include <stddef.h>

#include "core/buf.h"

/* Trim, and collapse every run of internal white space to one space. */
char *normalise_text(const char *s);
/*
 * Multi-line text (descriptions, rejection reasons, LinkedIn summaries — any
 * textarea): like normalise_text, but line breaks are kept (SPEC §2).
 * CRLF and a lone CR become LF; within a line, runs of spaces, tabs, VT and
 * FF become one space, and spaces at both ends of a line go; at most one
 * blank line is kept in a row (a paragraph break); blank lines at the start
 * and end go. Empty (or only white space) → NULL. Other control characters
 * are treated exactly as normalise_text treats them. The result never grows.
 */
char *normalise_multiline(const char *s);
/* normalise_text, then lower-case (ASCII; e-mail local parts are compared case-insensitively). */
char *normalise_email(const char *s);

/*
 * normalise_text, then: lower-case the scheme and the host (never the user
 * name, path, query or fragment); add "https://" when no scheme is given
 * ("acme.com", "//acme.com", "[::1]:8080", "localhost:3000/x" all count as
 * scheme-less); drop an empty port (":") and an empty user-info ("@"); strip
 * the trailing slashes of the path, also when a query or fragment follows
 * ("https://a.com/x/?q=1" → "https://a.com/x?q=1"), but never touch a slash
 * inside the query or fragment ("https://a.com/#/" stays).
 */
char *normalise_url(const char *s);

/*
 * normalise_text, then SPEC casing: a name typed entirely in lower case or
 * entirely in upper case is title-cased word by word; in an all-upper name,
 * words of 2–4 letters/digits are kept as acronyms. Mixed case is kept as
 * typed. Casing covers ASCII, Latin-1 Supplement, Latin Extended-A, Greek and
 * Cyrillic; other characters pass through unchanged. See normalise.c for the
 * exact rules on digits, hyphens, apostrophes and full stops.
 */
char *normalise_company_name(const char *s);

/*
 * The duplicate-detection key of a website (SPEC §3): the host of
 * normalise_url(url) without user-info, port, trailing dots or leading "www."
 * ("https://www.Acme.com:443/about" → "acme.com"). IPv6 literals keep their
 * brackets. NULL when the URL has no host (e.g. "mailto:x@y.com").
 */
char *normalise_host(const char *url);

/*
 * Where the parts of a URL lie in a string: offsets and lengths into it, no
 * copies. Shared by normalise_url, normalise_host and validate_url so that all
 * three agree on what the host of a URL is.
 */
struct normalise_url_parts {
	size_t scheme_len; /* 0: no scheme; the ':' follows at scheme_len */
	int has_authority; /* "//" follows the scheme (or starts the string) */
	int has_userinfo;  /* an '@' in the authority */
	size_t userinfo_off, userinfo_len;
	size_t host_off, host_len;
	int has_port; /* a ':' after the host; the port may be empty */
	size_t port_off, port_len;
	size_t path_off, path_len;
	size_t query_off, query_len;	   /* includes the '?'; 0 length: none */
	size_t fragment_off, fragment_len; /* includes the '#'; 0 length: none */
};

/*
 * Splits url (not modified) into parts. Total: any string splits, however
 * broken, and the parts in order, with their delimiters (the ':' after the
 * scheme, "//", '@', the ':' before the port), make up the whole string. A
 * leading "word:" counts as a scheme unless what follows the ':' is a port
 * number ("acme.com:8080", "localhost:3000/x"). Without a scheme or "//" there
 * is no authority: everything up to '?' or '#' is path.
 */
void normalise_url_split(const char *url, struct normalise_url_parts *p);

/*
 * Derived forms, written once for every module:
 *
 * normalise_search_pattern: "%term%" for ILIKE from what a user typed in a
 * search box (normalise_text first), with their own %, _ and \ taken
 * literally. NULL when there is nothing to search for.
 *
 * normalise_initials: "Ada Lovelace" → "AL", the first character (a whole
 * UTF-8 sequence, ASCII upper-cased) of the first and the last word.
 */
char *normalise_search_pattern(const char *q);
/*
 * Appends s lower-cased to b: the simple case mappings of the scripts the
 * casing rules know (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic),
 * everything else unchanged. For comparing names regardless of case on our
 * side alone (both sides lowered here), never for storing them.
 */
void normalise_lower(buf *b, const char *s);
void normalise_initials(const char *name, char out[16]);

#endif

/*
 * validate — field validation for forms and the CSV importer alike (SPEC §2, §4).
 *
 * Every validate_* function is pure as far as the caller can tell: it returns
 * NULL when the value is valid, or a short, user-facing message saying what to
 * type instead. Messages are static-lifetime strings: never free them, keep
 * them as long as you like, from any thread.
 *
 * Validators judge the string exactly as given. Pass them the normalised value
 * (normalise.h) — the value that will be stored — not the raw input: the write
 * path is normalise → validate → store. Presence is the caller's business:
 * check "required" first, and skip an optional field that normalised to NULL.
 */
#ifndef SPANNER_VALIDATE_H
#define SPANNER_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A practical address for a CRM: one '@'; a dot-atom local part of at most 64
 * bytes; a domain of at least two labels made of letters, digits and hyphens
 * (not at either end), at most 63 bytes each, the last (the TLD) starting with
 * a letter, so never all digits; at most 254 bytes in all; no spaces or
 * control characters. Quoted local parts, comments and domain literals
 * ("[1.2.3.4]") are refused. Non-ASCII letters (internationalised addresses)
 * are accepted when they are valid UTF-8.
 */
const char *validate_email(const char *s);

/*
 * A website or document link: scheme http or https followed by "//", a host
 * (a domain name as for e-mail, "localhost", a dotted-quad IPv4 or a bracketed
 * IPv6 literal; one trailing dot allowed), an optional numeric port ≤ 65535,
 * no user name or password, valid UTF-8 without spaces, control or invisible
 * characters, no '<', '>' or '"', no '\' before the query, at most 2048
 * characters.
 */
const char *validate_url(const char *s);

/* At most max_chars characters, counted as UTF-8 characters (not bytes). NULL is empty. */
const char *validate_max_length(const char *s, size_t max_chars);

/*
 * Strict UTF-8 over s[0..len): no overlong forms, no surrogates (U+D800–DFFF),
 * nothing above U+10FFFF, no truncated sequences. Also refuses NUL bytes:
 * every value ends up in PostgreSQL text, which cannot hold U+0000.
 */
const char *validate_utf8(const char *s, size_t len);

/*
 * What a search box sends: valid UTF-8 of at most VALIDATE_SEARCH_MAX
 * characters, counted as characters, not bytes (a name in Arabic takes two
 * bytes a letter, and a search must find any name a field can hold). NULL
 * when usable, else the message for the page.
 */
#define VALIDATE_SEARCH_MAX 200
const char *validate_search(const char *q);

/*
 * A year: digits only (the caller has trimmed surrounding spaces), within
 * [min, max]. On success stores it in *out (out may be NULL); on failure leaves
 * *out alone and says "Enter a year from <min> to <max>."
 */
const char *validate_year(const char *s, int min, int max, int *out);

#endif

/*
 * utf8 — the one strict UTF-8 decoder of the project.
 *
 * Strict means what PostgreSQL's UTF8 encoding accepts: no overlong forms,
 * no surrogates, nothing above U+10FFFF. The HTTP core uses it to refuse
 * request text the database would refuse later, the normaliser walks text
 * with it, and the validators build their messages on it.
 */
#ifndef SPANNER_UTF8_H
#define SPANNER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one character at s (len ≥ 1 bytes available). Returns its length
 * in bytes (1–4) and stores the code point in *cp, or 0 when the bytes at s
 * do not start a valid character.
 */
size_t utf8_next(const char *s, size_t len, uint32_t *cp);
/* 1 when all len bytes are valid UTF-8 with no NUL (PostgreSQL text cannot hold NUL). */
int utf8_valid(const char *s, size_t len);
/*
 * How many bytes of s to quote, at most max, without cutting a UTF-8
 * character in two: for "%.*s" in messages that echo what a user typed.
 */
int utf8_prefix(const char *s, int max);

#endif

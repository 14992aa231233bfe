/*
 * log — one line per event on stderr, as text or JSON (log_format).
 *
 * Lines are written with a single write(2) so lines from several threads never
 * interleave. Nothing secret is ever passed here: callers log identifiers,
 * never passwords, hashes or tokens.
 */
#ifndef SPANNER_LOG_H
#define SPANNER_LOG_H

#include <stddef.h>

#include "config.h"

void log_init(enum log_format format);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The access log line: method, path, status, bytes, microseconds. */
void log_access(const char *method, const char *path, unsigned status, size_t bytes, long usec);

#endif

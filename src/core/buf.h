/*
 * buf — a growable byte buffer, the one string builder of the project.
 *
 * Every module that assembles text (templates, responses, CSV, SQL literals for
 * COPY) appends to a buf. The data is always NUL-terminated so it can be handed
 * to C string functions, but may also hold NUL bytes: `len` is the truth.
 * Allocation failure aborts the process (see buf.c for why).
 */
#ifndef SPANNER_BUF_H
#define SPANNER_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
	char *data; /* NUL-terminated, NULL until the first append */
	size_t len;
	size_t cap;
} buf;

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_append(buf *b, const void *data, size_t len);
/* Makes room for n more bytes (plus the NUL) without changing len; data is then non-NULL. */
void buf_reserve(buf *b, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* HTML-escape s (& < > " ' ` =) onto b. */
void buf_append_html(buf *b, const char *s, size_t len);
void buf_reset(buf *b);
/* Hands the data to the caller (who frees it) and leaves b empty. Never NULL. */
char *buf_steal(buf *b);
void buf_free(buf *b);

/* Allocation helpers that abort on failure instead of returning NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

/*
 * csvin — the streaming CSV reader for imports, on libcsv.
 *
 * Reads a file in chunks (never whole in memory) and hands over one record
 * at a time with the line number it started on. It accepts what people's
 * spreadsheets write — CRLF, LF or lone CR line ends, quoted fields with
 * embedded newlines and doubled quotes, a UTF-8 byte-order mark — and
 * refuses what cannot be imported faithfully: bytes that are not UTF-8
 * (naming the first bad line) and malformed quoting.
 */
#ifndef SPANNER_CSVIN_H
#define SPANNER_CSVIN_H

#include <stddef.h>

struct csvin_error {
	size_t line;	   /* 1-based physical line where the problem is; 0 = the file */
	char message[256]; /* for people: "Line 7 is not valid UTF-8 text." */
};

/*
 * Called for each record: fields[i] is NUL-terminated (lens[i] its length;
 * a field may hold newlines), n the number of fields, line the physical line
 * the record starts on. Return 0 to go on, anything else to stop (that value
 * is then returned by the parse call).
 */
typedef int (*csvin_row_fn)(void *ctx, size_t line, char **fields, const size_t *lens, size_t n);

/* 0 when the whole input was read, -1 with err filled, or the callback's stop value. */
int csvin_parse_file(const char *path, csvin_row_fn on_row, void *ctx, struct csvin_error *err);
int csvin_parse_buffer(const char *data, size_t len, csvin_row_fn on_row, void *ctx,
		       struct csvin_error *err);

/*
 * How many bytes csvin_parse_file reads at a time (64 KiB). Records, quotes,
 * line ends, the byte-order mark and UTF-8 sequences may all be cut by a
 * read; tests set 1 to prove the result does not depend on where.
 */
extern size_t csvin_chunk_size;

#endif

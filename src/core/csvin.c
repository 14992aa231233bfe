/*
 * csvin — the streaming CSV reader for imports, on libcsv.
 *
 * libcsv does the quoting: it is a byte-at-a-time state machine that hands
 * back one field at a time (cb1) and says when a record ends (cb2). What it
 * does not do is what an importer needs around that, so this file adds it
 * in one pass over the bytes, before they reach libcsv:
 *
 *   - UTF-8: every character is checked by core/utf8, the project's one
 *     strict decoder (no overlong forms, no surrogates, nothing past
 *     U+10FFFF), and NUL is refused (PostgreSQL text cannot hold it). A
 *     character cut by the end of a chunk is kept aside until it is whole.
 *   - Line numbers: input is fed to libcsv in segments that end at each CR
 *     or LF, so every byte libcsv sees in one call lies on one physical
 *     line, and a record ends only at the last byte of a segment. A record
 *     starts at the first byte that is not a space, tab, CR or LF after the
 *     previous record — exactly the bytes libcsv's ROW_NOT_BEGUN state
 *     skips — so the line it starts on is known without reading libcsv's
 *     internals. CR LF counts as one line end, a lone CR or LF as one.
 *   - The byte-order mark: three bytes EF BB BF at the very start are
 *     dropped, even when they arrive one chunk at a time.
 *
 *   - Quoting errors: libcsv's strict mode would refuse every quote that is
 *     not at the start of a field, but `37°36'37.8"N` in an unquoted field
 *     means exactly what it says (csv-spectrum, Excel and Python read it
 *     that way), so libcsv runs lenient and a shadow of its quoting states
 *     here refuses only what cannot be read faithfully: text after a closing
 *     quote (`"abc"def`, which lenient libcsv would take as re-opening the
 *     quote and swallow the following lines) and a quoted value still open
 *     at the end of the file.
 *
 * Blank lines produce no record (libcsv skips them); a line of commas is a
 * record of empty fields and is handed over as such — whether that is a row
 * is the caller's business. Spaces and tabs around an unquoted value are not
 * part of it (libcsv's rule, and normalisation would trim them anyway);
 * inside quotes every byte is kept.
 */
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "utf8.h"

/* How much csvin_parse_file reads at a time; tests set 1 to put a boundary everywhere. */
size_t csvin_chunk_size = 64 * 1024;

/* libcsv grows its field buffer by this much: 128 bytes (its default) means a
 * realloc every 128 bytes of a long field. */
#define CSVIN_FIELD_BLOCK (64 * 1024)

/* Where the bytes are relative to quotes, mirroring libcsv's own states. */
enum csvin_quote {
	Q_START,    /* before a field (libcsv: ROW_NOT_BEGUN, FIELD_NOT_BEGUN) */
	Q_UNQUOTED, /* in an unquoted field: quotes there are literal */
	Q_QUOTED,   /* in a quoted field: commas and line ends are literal */
	Q_CLOSED,   /* a quote in a quoted field: its end, or the first of a doubled "" */
	Q_CLOSED_SP /* spaces after a closing quote */
};

struct csvin_state {
	struct csv_parser parser;
	csvin_row_fn on_row;
	void *ctx;
	struct csvin_error *err;

	/* The record being built: field bytes, each followed by a NUL. */
	buf bytes;
	size_t *offs;
	size_t *lens;
	char **fields;
	size_t nfields;
	size_t cap;

	size_t line;	 /* physical line of the next byte */
	int after_cr;	 /* the previous byte was CR (an LF now ends no new line) */
	size_t row_line; /* where the record being read started */
	int row_open;	 /* a record has started and not yet ended */

	int quote; /* shadow of libcsv's quoting state: enum csvin_quote */

	unsigned char carry[4]; /* a character cut by the end of a chunk, until it is whole */
	size_t ncarry;

	unsigned char head[3]; /* the first bytes, held until they are known not to be a BOM */
	size_t nhead;
	int bom_done;

	int stop; /* the callback's non-zero value; no more records after it */
	int failed;
};

static void csvin_init(struct csvin_state *st, csvin_row_fn on_row, void *ctx,
		       struct csvin_error *err);
static void csvin_free(struct csvin_state *st);
static void csvin_on_field(void *s, size_t len, void *data);
static void csvin_on_record(int c, void *data);
static void csvin_fail(struct csvin_state *st, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t csvin_char_len(unsigned char c);
static int csvin_scan(struct csvin_state *st, const unsigned char *data, size_t len, size_t *used);
static int csvin_quote_byte(struct csvin_state *st, unsigned char c);
static int csvin_send(struct csvin_state *st, const unsigned char *s, size_t len);
static int csvin_feed_bytes(struct csvin_state *st, const unsigned char *data, size_t len);
static int csvin_feed(struct csvin_state *st, const unsigned char *data, size_t len);
static int csvin_finish(struct csvin_state *st);
static int csvin_result(struct csvin_state *st);

static void
csvin_init(struct csvin_state *st, csvin_row_fn on_row, void *ctx, struct csvin_error *err)
{
	memset(st, 0, sizeof *st);
	csv_init(&st->parser, 0);
	csv_set_blk_size(&st->parser, CSVIN_FIELD_BLOCK);
	st->on_row = on_row;
	st->ctx = ctx;
	st->err = err;
	st->line = 1;
	if (err) {
		err->line = 0;
		err->message[0] = '\0';
	}
}

static void
csvin_free(struct csvin_state *st)
{
	csv_free(&st->parser);
	buf_free(&st->bytes);
	free(st->offs);
	free(st->lens);
	free(st->fields);
}

static void
csvin_fail(struct csvin_state *st, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (st->failed)
		return;
	st->failed = 1;
	if (!st->err)
		return;
	st->err->line = line;
	va_start(ap, fmt);
	vsnprintf(st->err->message, sizeof st->err->message, fmt, ap);
	va_end(ap);
}

static void
csvin_on_field(void *s, size_t len, void *data)
{
	struct csvin_state *st = data;

	if (st->stop || st->failed)
		return;
	if (st->nfields == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 32;
		st->offs = xrealloc(st->offs, st->cap * sizeof *st->offs);
		st->lens = xrealloc(st->lens, st->cap * sizeof *st->lens);
		st->fields = xrealloc(st->fields, st->cap * sizeof *st->fields);
	}
	st->offs[st->nfields] = st->bytes.len;
	st->lens[st->nfields] = len;
	st->nfields++;
	buf_append(&st->bytes, s, len);
	buf_append(&st->bytes, "", 1); /* each field NUL-terminated in place */
}

static void
csvin_on_record(int c, void *data)
{
	struct csvin_state *st = data;
	size_t i;

	(void)c;
	st->row_open = 0;
	if (!st->stop && !st->failed && st->nfields > 0) {
		/* Pointers only now: the byte buffer may have moved while the record grew. */
		for (i = 0; i < st->nfields; i++)
			st->fields[i] = st->bytes.data + st->offs[i];
		st->stop = st->on_row(st->ctx, st->row_line, st->fields, st->lens, st->nfields);
	}
	st->nfields = 0;
	buf_reset(&st->bytes);
}

/*
 * How long the character a byte starts is (1–4), from its lead byte alone;
 * 0 for a byte that starts none. Only to know how many bytes to wait for:
 * whether the character is valid is core/utf8's to say.
 */
static size_t
csvin_char_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/*
 * One byte through the shadow of libcsv's quoting (lenient mode): the same
 * transitions, except that the two cases lenient libcsv would read as
 * something the user did not mean are refused. 0 when the byte is fine.
 */
static int
csvin_quote_byte(struct csvin_state *st, unsigned char c)
{
	int end = c == ',' || c == '\r' || c == '\n', space = c == ' ' || c == '\t';

	switch (st->quote) {
	case Q_START:
		if (c == '"')
			st->quote = Q_QUOTED;
		else if (!end && !space)
			st->quote = Q_UNQUOTED;
		return 0;
	case Q_UNQUOTED:
		if (end)
			st->quote = Q_START;
		return 0;
	case Q_QUOTED:
		if (c == '"')
			st->quote = Q_CLOSED;
		return 0;
	case Q_CLOSED:
		if (c == '"')
			st->quote = Q_QUOTED; /* "" inside a quoted value */
		else if (end)
			st->quote = Q_START;
		else if (space)
			st->quote = Q_CLOSED_SP;
		else
			return -1; /* "abc"def */
		return 0;
	default: /* Q_CLOSED_SP */
		if (end)
			st->quote = Q_START;
		else if (!space)
			return -1; /* "abc" def or "abc" "def" */
		return 0;
	}
}

/* Hands one segment (all on the current line) to libcsv. */
static int
csvin_send(struct csvin_state *st, const unsigned char *s, size_t len)
{
	size_t done;

	if (len == 0 || st->stop)
		return 0;
	done = csv_parse(&st->parser, s, len, csvin_on_field, csvin_on_record, st);
	if (done == len || st->stop)
		return 0;
	csvin_fail(st, st->line, "Line %zu could not be read: %s.", st->line,
		   csv_strerror(csv_error(&st->parser)));
	return -1;
}

/*
 * Whole characters of data: validated (core/utf8), quotes and lines tracked,
 * fed to libcsv a line at a time. A character cut by the end of data is left
 * unread: *used says how far it got.
 */
static int
csvin_scan(struct csvin_state *st, const unsigned char *data, size_t len, size_t *used)
{
	size_t i = 0, start = 0, k;
	uint32_t cp;

	while (i < len) {
		unsigned char c = data[i];
		size_t n = 1;

		if (c >= 0x80) {
			n = csvin_char_len(c);
			if (n > 1 && i + n > len) {
				/* cut by the chunk: wait for the rest, unless it is already wrong
				 */
				for (k = i + 1; k < len && (data[k] & 0xC0) == 0x80; k++)
					;
				if (k == len)
					break;
			}
			if (n == 0 || utf8_next((const char *)data + i, len - i, &cp) != n)
				n = 0;
		}
		if (n == 0 || c == 0) {
			csvin_fail(st, st->line,
				   c == 0
				       ? "Line %zu is not valid UTF-8 text: it contains a NUL byte."
				       : "Line %zu is not valid UTF-8 text.",
				   st->line);
			return -1;
		}
		/* a character of several bytes is never a quote, comma, space or line end */
		if (csvin_quote_byte(st, c) != 0) {
			csvin_fail(
			    st, st->line,
			    "Line %zu has a quote in the wrong place: text follows the closing "
			    "quote of a value. Put the whole value in quotes and double each "
			    "quote inside it (\"\").",
			    st->line);
			return -1;
		}
		if (!st->row_open && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			st->row_open = 1;
			st->row_line = st->line;
		}
		i += n;
		if (c != '\r' && c != '\n') {
			st->after_cr = 0;
			continue;
		}
		if (csvin_send(st, data + start, i - start) != 0)
			return -1;
		start = i;
		if (st->stop)
			break;
		if (c == '\r')
			st->line++;
		else if (!st->after_cr)
			st->line++;
		st->after_cr = c == '\r';
	}
	*used = i;
	return st->stop ? 0 : csvin_send(st, data + start, i - start);
}

/* Bytes after the byte-order mark, with the character a previous chunk cut completed first. */
static int
csvin_feed_bytes(struct csvin_state *st, const unsigned char *data, size_t len)
{
	size_t used;

	if (st->ncarry) {
		unsigned char whole[4];
		size_t need = csvin_char_len(st->carry[0]);

		while (st->ncarry < need && len > 0 && (*data & 0xC0) == 0x80) {
			st->carry[st->ncarry++] = *data++;
			len--;
		}
		if (st->ncarry < need && len == 0)
			return 0; /* still not whole */
		/* whole, or cut short by a byte that continues nothing: csvin_scan judges */
		memcpy(whole, st->carry, st->ncarry);
		need = st->ncarry;
		st->ncarry = 0;
		if (csvin_scan(st, whole, need, &used) != 0)
			return -1;
		if (used < need) {
			csvin_fail(st, st->line, "Line %zu is not valid UTF-8 text.", st->line);
			return -1;
		}
		if (st->stop)
			return 0;
	}
	if (csvin_scan(st, data, len, &used) != 0)
		return -1;
	if (used < len && !st->stop) {
		memcpy(st->carry, data + used, len - used);
		st->ncarry = len - used;
	}
	return 0;
}

static int
csvin_feed(struct csvin_state *st, const unsigned char *data, size_t len)
{
	static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

	/* Hold the first bytes while they could still be a byte-order mark. */
	while (!st->bom_done && len > 0) {
		if (data[0] != bom[st->nhead]) {
			st->bom_done = 1;
			if (st->nhead && csvin_feed_bytes(st, st->head, st->nhead) != 0)
				return -1;
			break;
		}
		st->head[st->nhead++] = data[0];
		data++;
		len--;
		if (st->nhead == 3)
			st->bom_done = 1; /* a whole BOM: dropped */
	}
	if (len == 0 || st->stop)
		return 0;
	return csvin_feed_bytes(st, data, len);
}

static int
csvin_finish(struct csvin_state *st)
{
	if (!st->bom_done && st->nhead && csvin_feed_bytes(st, st->head, st->nhead) != 0)
		return -1;
	if (st->stop)
		return 0;
	if (st->ncarry) {
		csvin_fail(st, st->line,
			   "Line %zu is not valid UTF-8 text: the file ends inside a "
			   "character.",
			   st->line);
		return -1;
	}
	if (st->quote == Q_QUOTED) {
		csvin_fail(
		    st, st->row_line,
		    "Line %zu opens a quoted value that is never closed: a closing quote (\") "
		    "is missing.",
		    st->row_line);
		return -1;
	}
	csv_fini(&st->parser, csvin_on_field, csvin_on_record, st);
	return 0;
}

static int
csvin_result(struct csvin_state *st)
{
	int rc = st->failed ? -1 : st->stop;

	csvin_free(st);
	return rc;
}

int
csvin_parse_buffer(const char *data, size_t len, csvin_row_fn on_row, void *ctx,
		   struct csvin_error *err)
{
	struct csvin_state st;

	csvin_init(&st, on_row, ctx, err);
	if (csvin_feed(&st, (const unsigned char *)data, len) == 0 && !st.stop)
		csvin_finish(&st);
	return csvin_result(&st);
}

int
csvin_parse_file(const char *path, csvin_row_fn on_row, void *ctx, struct csvin_error *err)
{
	struct csvin_state st;
	size_t chunk = csvin_chunk_size ? csvin_chunk_size : 1;
	unsigned char *block;
	int fd;

	csvin_init(&st, on_row, ctx, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		csvin_fail(&st, 0, "The file could not be read (%s).", strerror(errno));
		return csvin_result(&st);
	}
	block = xmalloc(chunk);
	for (;;) {
		ssize_t n = read(fd, block, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			csvin_fail(&st, 0, "The file could not be read (%s).", strerror(errno));
			break;
		}
		if (n == 0) {
			csvin_finish(&st);
			break;
		}
		if (csvin_feed(&st, block, (size_t)n) != 0 || st.stop)
			break;
	}
	free(block);
	close(fd);
	return csvin_result(&st);
}

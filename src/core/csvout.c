/*
 * csvout — RFC 4180 output: CRLF row ends, every cell quoted by libcsv.
 *
 * Quoting every cell costs a few bytes and removes any doubt about commas,
 * quotes or newlines inside values.
 */
#include "csvout.h"

#include <csv.h>
#include <string.h>

static void csvout_write(buf *out, const char *value, size_t len);

static void
csvout_write(buf *out, const char *value, size_t len)
{
	/* Worst case: every byte a quote (doubled) plus the two enclosing quotes. */
	size_t need = len * 2 + 2;

	buf_reserve(out, need);
	out->len += csv_write(out->data + out->len, need, value, len);
	out->data[out->len] = '\0';
}

void
csvout_cell_raw(buf *out, const char *value, int first)
{
	if (!first)
		buf_putc(out, ',');
	csvout_write(out, value ? value : "", value ? strlen(value) : 0);
}

void
csvout_cell(buf *out, const char *value, int first)
{
	if (value && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
		      value[0] == '\t' || value[0] == '\r')) {
		buf tmp = BUF_INIT;

		buf_putc(&tmp, '\'');
		buf_puts(&tmp, value);
		csvout_cell_raw(out, tmp.data, first);
		buf_free(&tmp);
		return;
	}
	csvout_cell_raw(out, value, first);
}

void
csvout_end_row(buf *out)
{
	buf_puts(out, "\r\n");
}

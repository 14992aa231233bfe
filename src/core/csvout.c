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
static int csvout_numberlike(const char *value);

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

/*
 * A plain number ("-3", "+1.5") or a phone number ("+1 555 0100", "+44 (0)20
 * 7946-0000"): digits with signs, spaces and ( ) . , / only. Without a letter,
 * a quote or a '!' a spreadsheet can at most do arithmetic with it, never call
 * a function or reach another file, so it stays exactly as stored.
 */
static int
csvout_numberlike(const char *value)
{
	const char *p;
	int digits = 0;

	for (p = value; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!strchr("+-() .,/", *p))
			return 0;
	}
	return digits > 0;
}

int
csvout_risky(const char *value)
{
	if (!value)
		return 0;
	if (value[0] == '\t' || value[0] == '\r')
		return 1;
	return (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@') &&
	       !csvout_numberlike(value);
}

void
csvout_bom(buf *out)
{
	buf_puts(out, "\xEF\xBB\xBF");
}

void
csvout_cell(buf *out, const char *value, int first)
{
	if (csvout_risky(value)) {
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

/*
 * csvout — writing CSV (exports, error reports) with libcsv's quoting.
 *
 * Cells that a spreadsheet would run as a formula (starting with = + - @, or a
 * tab or carriage return) get a leading apostrophe, so an exported company
 * named "=HYPERLINK(…)" stays text when an SDR opens the file in Excel —
 * except plain numbers and phone numbers ("-3", "+1 555 0100"), which no
 * spreadsheet can turn into a function call and which must survive a round
 * trip through export and import unchanged.
 */
#ifndef SPANNER_CSVOUT_H
#define SPANNER_CSVOUT_H

#include "buf.h"

/* Appends one cell (NULL = empty), preceded by a comma unless first. */
void csvout_cell(buf *out, const char *value, int first);
/* Appends one cell without formula neutralisation (failed-rows files must round-trip). */
void csvout_cell_raw(buf *out, const char *value, int first);
void csvout_end_row(buf *out);
/* Whether csvout_cell would neutralise value. */
int csvout_risky(const char *value);
/* The UTF-8 byte order mark: Excel reads the file as UTF-8 only with it. */
void csvout_bom(buf *out);

#endif

/*
 * company_import — what a company CSV import is (SPEC.md §4), as an
 * imports_spec for the generic pipeline in domain/imports.h.
 *
 * Columns: every company field's CSV header (domain/companies.h) plus
 * "Segment Name"; Company Name and Segment Name are required. Each row goes
 * through companies_clean, the very normalisation and validation of the
 * company form, so an imported company is the company the form would have
 * made. The segment is looked up by name, case-insensitively, among all
 * segments loaded once per run: it must exist and be active. Imported
 * companies are `pending`, carry the batch id and the uploader as creator.
 */
#ifndef SPANNER_COMPANY_IMPORT_H
#define SPANNER_COMPANY_IMPORT_H

#include "domain/imports.h"

#define COMPANY_IMPORT_KIND "import.companies"

extern const struct imports_spec company_import_spec;

/* Registers the spec and its job kind (import.companies). Before jobs_start. 0 or -1. */
int company_import_register(void);

#endif
